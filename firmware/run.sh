#!/usr/bin/env bash
# The lock firmware on an emulated Cortex-M4F, end to end:
#
#   1. installs what it needs if missing: the thumbv7em-none-eabihf target,
#      Debian's qemu-system-arm, llvm-size (rustup's llvm-tools, else
#      Debian's llvm);
#   2. builds firmware/ in release (build.rs issues the PINs on the host);
#   3. boots it on QEMU's mps2-an386 board (Cortex-M4) under -icount, where
#      it provisions a lock, types its keypad script at a simulated clock,
#      prints every decision next to the expected one and the SysTick ticks
#      one `check` took, and exits 0 only if every decision was expected;
#   4. reports the image's flash and static RAM (llvm-size) and the peak
#      stack (stack.py, through QEMU's gdbstub).
#
# Exits non-zero when any step fails or any decision is not the expected
# one. Usage: bash firmware/run.sh (from anywhere). Called by .ci/run.
set -euo pipefail
cd "$(dirname "$0")"

TARGET=thumbv7em-none-eabihf
ELF=target/$TARGET/release/offpin-firmware
MACHINE=mps2-an386
CPU=cortex-m4
TIMEOUT=300
# Keep in sync with .cargo/config.toml's runner.
QEMU_ARGS=(-machine "$MACHINE" -cpu "$CPU" -nographic -monitor none -serial none
    -semihosting-config enable=on,target=native -icount shift=0)

say() { printf '[firmware] %s\n' "$*"; }
die() { printf '[firmware] FAIL: %s\n' "$*" >&2; exit 1; }

SUDO=()
if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1; then SUDO=(sudo); fi
apt_install() {
    say "installing Debian package(s): $*"
    export DEBIAN_FRONTEND=noninteractive
    "${SUDO[@]}" apt-get update -qq
    "${SUDO[@]}" apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# --- 1. tools ---------------------------------------------------------------
if ! rustup target list --installed | grep -qx "$TARGET"; then
    rustup target add "$TARGET"
fi

if ! command -v qemu-system-arm >/dev/null 2>&1; then
    apt_install qemu-system-arm
fi
if ! qemu-system-arm -machine help | grep -q "^$MACHINE "; then
    # mps2-an386 arrived in QEMU 6.0; Debian 12 ships 7.2.
    die "$(qemu-system-arm --version | head -1) has no $MACHINE board (QEMU >= 6.0 needed)"
fi

find_llvm_size() {
    local host bin
    host=$(rustc -vV | sed -n 's/^host: //p')
    bin="$(rustc --print sysroot)/lib/rustlib/$host/bin/llvm-size"
    if [ -x "$bin" ]; then echo "$bin"; return 0; fi
    for bin in llvm-size $(compgen -c llvm-size- | sort -t- -k3 -rn | uniq); do
        if command -v "$bin" >/dev/null 2>&1; then command -v "$bin"; return 0; fi
    done
    return 1
}
if ! LLVM_SIZE=$(find_llvm_size); then
    say "llvm-size not found: adding rustup's llvm-tools"
    timeout 300 rustup component add llvm-tools >/dev/null 2>&1 || true
    if ! LLVM_SIZE=$(find_llvm_size); then
        apt_install llvm
        LLVM_SIZE=$(find_llvm_size) || die "no llvm-size after installing llvm"
    fi
fi
LLVM_DIR=$(dirname "$LLVM_SIZE")
llvm_tool() { # llvm_tool NAME: the sibling of llvm-size (same suffix), else any on PATH
    local suffix=${LLVM_SIZE##*/llvm-size}
    if [ -x "$LLVM_DIR/llvm-$1$suffix" ]; then echo "$LLVM_DIR/llvm-$1$suffix"; else command -v "llvm-$1$suffix" || command -v "llvm-$1"; fi
}
LLVM_NM=$(llvm_tool nm) || LLVM_NM=""

# --- 2. build ---------------------------------------------------------------
say "building (release, $TARGET)"
cargo build --release

# --- 3. run -------------------------------------------------------------------
LOG=$(mktemp)
trap 'rm -f "$LOG"' EXIT
say "running on qemu-system-arm -machine $MACHINE -cpu $CPU -icount shift=0 ($(qemu-system-arm --version | head -1))"
set +e
timeout "$TIMEOUT" qemu-system-arm "${QEMU_ARGS[@]}" -kernel "$ELF" </dev/null 2>&1 | tee "$LOG"
rc=${PIPESTATUS[0]}
set -e
[ "$rc" -ne 124 ] || die "QEMU did not finish within ${TIMEOUT}s"
mismatches=$(grep -c 'MISMATCH' "$LOG" || true)
grep -q '^RESULT: [0-9]* passed, 0 failed -> PASS$' "$LOG" || die "the firmware did not report PASS (exit code $rc)"
[ "$mismatches" -eq 0 ] || die "$mismatches decision(s) not as expected"
[ "$rc" -eq 0 ] || die "QEMU exited with $rc (semihosting exit status)"
say "every decision as expected; QEMU exited 0"

# --- 4. sizes -----------------------------------------------------------------
echo
say "image size ($(basename "$LLVM_SIZE"), $ELF):"
"$LLVM_SIZE" -A "$ELF" | awk '
    $1 ~ /^\.(vector_table|text|rodata|data|bss|uninit)$/ { s[$1] = $2 }
    END {
        printf "  .vector_table %7d\n  .text         %7d\n  .rodata       %7d\n  .data         %7d\n  .bss          %7d\n  .uninit       %7d\n",
            s[".vector_table"], s[".text"], s[".rodata"], s[".data"], s[".bss"], s[".uninit"]
        printf "  flash (.vector_table + .text + .rodata + .data) = %d bytes\n",
            s[".vector_table"] + s[".text"] + s[".rodata"] + s[".data"]
        printf "  static RAM (.data + .bss + .uninit)            = %d bytes\n",
            s[".data"] + s[".bss"] + s[".uninit"]
    }'
"$LLVM_SIZE" "$ELF" | sed 's/^/  /'

if [ -n "$LLVM_NM" ]; then
    echo
    say "largest functions and data in flash ($(basename "$LLVM_NM") --size-sort):"
    "$LLVM_NM" --demangle --size-sort --print-size --radix=d "$ELF" | awk '$3 ~ /^[tTrR]$/' | tail -n 12 |
        awk '{ size = $2 + 0; $1 = $2 = $3 = ""; sub(/^ +/, ""); printf "  %7d  %s\n", size, $0 }'
fi

# Stack: QEMU's gdbstub paints the stack, runs to `finish`, reads it back;
# it also measures every call of a few functions on its own.
echo
if [ -z "$LLVM_NM" ] || ! command -v python3 >/dev/null 2>&1; then
    say "stack: not measured (needs llvm-nm and python3)"
else
    SYMS=$("$LLVM_NM" --demangle "$ELF")
    sym() { awk -v re="$1" '$3 ~ re { print "0x" $1; exit }' <<<"$SYMS"; }
    top=$(sym '^_stack_start$')
    finish=$(sym '^offpin_firmware::finish::h')
    funcs=()
    for f in 'Lock::check=^offpin::lock::Lock[^ ]*::check::h' \
        'persist::encode=^offpin::lock::persist::encode::h' \
        'persist::decode_into=^offpin::lock::persist::decode_into::h' \
        'Codec::new=^offpin::codec::Codec::new::h'; do
        addr=$(sym "${f#*=}")
        if [ -n "$addr" ]; then funcs+=("${f%%=*}=$addr"); fi
    done
    if [ -n "$top" ] && [ -n "$finish" ] &&
        stack=$(timeout "$TIMEOUT" python3 stack.py "$top" "$finish" 65536 "${funcs[@]}" -- \
            qemu-system-arm "${QEMU_ARGS[@]}" -kernel "$ELF" 2>&1); then
        say "stack, measured through QEMU's gdbstub (painted 64 KiB below _stack_start = $top):"
        while read -r kind name bytes calls; do
            case $kind in
                peak) printf '  peak of the whole run: %s bytes (offpin_firmware::run'"'"'s frame included)\n' "$name" ;;
                call) printf '  %-22s %6s bytes, deepest of %s calls (nested calls included)\n' "$name" "$bytes" "$calls" ;;
            esac
        done <<<"$stack"
    else
        say "stack: not measured (${stack:-symbols not found})"
    fi
fi
echo
say "PASS"
