#!/usr/bin/env bash
# `offpin serve` attacked from outside, each tool from a scratch folder:
# the official Python SDK of the hosted access-code API
# (offpin-cli/tests/sdk/seam_sdk.py), the newest JavaScript SDK (npm
# `seam`, offpin-cli/tests/sdk/seam_sdk.mjs: the same offline-code
# scenario), then schemathesis against the service's own /openapi.json
# (every generated request must get a documented status and a
# schema-conforming body, and never a 5xx). Each SDK prints its step
# count (`sdk: N passed` / `js sdk: N passed`).
#
#   bash .ci/serve.sh    # from the repository root, after `cargo build -p offpin-cli`
set -euo pipefail
cd "$(dirname "$0")/.."

bin=${OFFPIN_BIN:-target/debug/offpin}
[ -x "$bin" ] || cargo build -p offpin-cli
work=$(mktemp -d)
pid=
cleanup() {
    if [ -n "$pid" ]; then kill -TERM "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

# Debian's python3 makes virtual environments only with python3-venv.
python3 -c 'import ensurepip, venv' 2>/dev/null || {
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
}
python3 -m venv "$work/venv"
"$work/venv/bin/pip" install -q --disable-pip-version-check 'seam==3.18.*' 'schemathesis==4.*'

# One server per tool, each on a fresh SQLite ledger.
start() {
    local dir=$1
    mkdir -p "$dir"
    o() { "$bin" --ledger "$dir/ledger.db" --master-key "$dir/master.key" "$@"; }
    o keygen >/dev/null
    o device add --device-id front-door --profile standard-10 --time-zone Europe/Paris --utc-offset +01:00 >/dev/null
    o device add --device-id side-door --profile standard-10 --time-zone Europe/Paris --utc-offset +01:00 >/dev/null
    # One PIN for both doors (create_multiple).
    o group create --group-id house --profile standard-10 >/dev/null
    o group add --group-id house --device-id front-door >/dev/null
    o group add --group-id house --device-id side-door >/dev/null
    key=$(o api-key create --name ci | tail -1)
    "$bin" --ledger "$dir/ledger.db" --master-key "$dir/master.key" \
        serve --listen 127.0.0.1:0 --rate-limit 0 >"$dir/out" 2>"$dir/log" &
    pid=$!
    for _ in $(seq 100); do
        url=$(grep -o 'http://[0-9.:]*' "$dir/out" || true)
        [ -n "$url" ] && break
        sleep 0.1
    done
    [ -n "$url" ] || { cat "$dir/log"; exit 1; }
}
stop() {
    kill -TERM "$pid"
    wait "$pid"
    pid=
    if grep -q 'status=5' "$1/log"; then
        echo "a 5xx answer in the server log:" >&2
        grep 'status=5' "$1/log" >&2
        exit 1
    fi
}

echo "--- the official Python SDK (seam $("$work/venv/bin/pip" show seam | awk '/^Version/ {print $2}'))"
start "$work/sdk"
"$work/venv/bin/python" offpin-cli/tests/sdk/seam_sdk.py "$url" "$key"
stop "$work/sdk"

# The newest JavaScript SDK, installed in the scratch folder (Node 20 or
# later; Debian's nodejs otherwise).
command -v npm >/dev/null || {
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null
}
mkdir -p "$work/js"
(cd "$work/js" && npm init -y >/dev/null && npm install --silent --no-audit --no-fund seam >/dev/null 2>&1)
echo "--- the JavaScript SDK (seam $(cd "$work/js" && node -p 'JSON.parse(require("fs").readFileSync("node_modules/seam/package.json")).version'))"
start "$work/jssdk"
(root=$PWD && cd "$work/js" && node "$root/offpin-cli/tests/sdk/seam_sdk.mjs" "$url" "$key")
stop "$work/jssdk"

echo "--- schemathesis against /openapi.json"
start "$work/st"
curl -fsS -H "Authorization: Bearer $key" "$url/openapi.json" >"$work/openapi.json"
# From the scratch directory: schemathesis keeps its cache (.schemathesis/)
# in the working directory, which must not be the checkout.
(cd "$work" && "$work/venv/bin/st" run "$work/openapi.json" --url "$url" \
    -H "Authorization: Bearer $key" \
    --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
    --max-examples "${OFFPIN_ST_EXAMPLES:-40}" --workers 1 --no-color)
stop "$work/st"
echo "schemathesis: every generated request got a documented status and body, no 5xx"
