#!/usr/bin/env bash
# Instructions per lock check (`Lock::check` of a valid and of an invalid
# PIN), counted by valgrind's callgrind with the `aes` crate's software
# backend forced (`--cfg aes_backend="soft"`, aes 0.9): the firmware path,
# whose count is the same from run to run, unlike a time.
#
# Each figure is (I(N2) - I(N1)) / (N2 - N1) for two runs of
# examples/check_cost.rs, so building the lock and the PINs cancels out.
#
#   bash benches/callgrind.sh            # every shipped profile, 1 key; and 1/2/4 keys
#   HW=1 bash benches/callgrind.sh       # the same with the default (hardware) AES backend
set -euo pipefail
cd "$(dirname "$0")/.."

command -v valgrind >/dev/null || { echo "valgrind is needed (apt-get install valgrind)" >&2; exit 1; }

N1=${N1:-200}
N2=${N2:-1200}
if [ "${HW:-0}" = 1 ]; then
    export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-target/callgrind-hw}
    backend="default backend"
else
    export RUSTFLAGS='--cfg aes_backend="soft"'
    export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-target/callgrind-soft}
    backend='aes_backend="soft"'
fi
cargo build --release --example check_cost --quiet
bin="$CARGO_TARGET_DIR/release/examples/check_cost"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

instructions() { # mode n profile keys
    valgrind --tool=callgrind --callgrind-out-file="$out/cg" "$bin" "$@" >/dev/null 2>&1
    awk '/^(summary|totals):/ { print $2; exit }' "$out/cg"
}

per_check() { # mode profile keys
    local a b
    a=$(instructions "$1" "$N1" "$2" "$3")
    b=$(instructions "$1" "$N2" "$2" "$3")
    echo $(( (b - a) / (N2 - N1) ))
}

echo "instructions per Lock::check (x86-64, $backend, N = $N2 - $N1)"
printf '%-12s %5s %12s %12s\n' profile keys valid invalid
for profile in standard-10 compact-8 secure-12 keypad9-11; do
    printf '%-12s %5s %12s %12s\n' "$profile" 1 "$(per_check valid "$profile" 1)" "$(per_check invalid "$profile" 1)"
done
for keys in 2 4; do
    printf '%-12s %5s %12s %12s\n' standard-10 "$keys" "$(per_check valid standard-10 "$keys")" "$(per_check invalid standard-10 "$keys")"
done
