#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the ledger tests, from Debian's
# packages, run as the `postgres` user on a port of its own.
#
#   bash .ci/postgres.sh start DIR   # installs if needed, starts; writes DIR/url
#   bash .ci/postgres.sh stop DIR    # stops the cluster, removes DIR
#
# DIR/url holds a libpq URL of an empty database (trust authentication on
# 127.0.0.1 only), e.g. postgres://postgres@127.0.0.1:55432/offpin_test.
set -euo pipefail
cmd=${1:?start or stop}
dir=${2:?directory}
port=${OFFPIN_PG_PORT:-55432}

pg_bin() {
    ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1
}

as_postgres() {
    if [ "$(id -un)" = postgres ]; then "$@"; else su postgres -s /bin/sh -c "$(printf '%q ' "$@")"; fi
}

case "$cmd" in
start)
    if [ -z "$(pg_bin)" ]; then
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq
        apt-get install -y -qq postgresql >/dev/null
    fi
    bin=$(pg_bin)
    mkdir -p "$dir"
    chown postgres "$dir"
    chmod 755 "$dir"
    as_postgres "$bin/initdb" -D "$dir/data" -A trust -U postgres --no-sync >/dev/null
    as_postgres "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
        -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=200" start >/dev/null
    as_postgres "$bin/psql" -h 127.0.0.1 -p "$port" -U postgres -q -c "CREATE DATABASE offpin_test"
    echo "postgres://postgres@127.0.0.1:$port/offpin_test" > "$dir/url"
    echo "PostgreSQL $("$bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$port ($dir)"
    ;;
stop)
    bin=$(pg_bin)
    if [ -n "$bin" ] && [ -f "$dir/data/postmaster.pid" ]; then
        as_postgres "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null || true
    fi
    rm -rf "$dir"
    ;;
*)
    echo "usage: $0 start|stop DIR" >&2
    exit 2
    ;;
esac
