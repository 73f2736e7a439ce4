#!/usr/bin/env bash
# The C interface, tested from C:
#
#   header  include/offpin.h is what cbindgen generates from src/ now
#           (lib.rs and its modules; Debian's cbindgen 0.24, installed
#           if missing);
#   host    builds liboffpin_ffi.a for the host, compiles the keypad script
#           (tests/c/keypad.c, PINs from examples/issue_c.rs) with `cc`
#           (-Wall -Wextra -Werror -pedantic), links and runs it;
#   qemu    builds liboffpin_ffi.a for thumbv7em-none-eabihf, links the
#           same script with a bare-metal C main (qemu/: start-up,
#           semihosting, linker script) using Debian's arm-none-eabi-gcc,
#           runs it on QEMU's mps2-an386 (Cortex-M4F), and reports the
#           image's flash, static RAM and peak stack (firmware/stack.py).
#
# Usage: bash offpin-ffi/test.sh [header|host|qemu]... (default: all three).
# Exits non-zero when any step fails or any decision is not the expected one.
set -euo pipefail
cd "$(dirname "$0")"

say() { printf '[offpin-ffi] %s\n' "$*"; }
die() { printf '[offpin-ffi] FAIL: %s\n' "$*" >&2; exit 1; }
SUDO=()
if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1; then SUDO=(sudo); fi
apt_install() {
    say "installing Debian package(s): $*"
    export DEBIAN_FRONTEND=noninteractive
    "${SUDO[@]}" apt-get update -qq
    "${SUDO[@]}" apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

STEPS=("$@")
if [ ${#STEPS[@]} -eq 0 ]; then STEPS=(header host qemu); fi
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
CFLAGS=(-std=c11 -Wall -Wextra -Werror -pedantic -Iinclude -Itests/c -I"$WORK")

issued() { # the script's PINs, issued on the host
    [ -f "$WORK/issued.h" ] || cargo run --quiet --release --example issue_c >"$WORK/issued.h"
}

for step in "${STEPS[@]}"; do
    case $step in
    header)
        command -v cbindgen >/dev/null 2>&1 || apt_install cbindgen
        say "checking include/offpin.h against $(cbindgen --version)"
        cbindgen --quiet --config cbindgen.toml --output "$WORK/offpin.h"
        diff -u include/offpin.h "$WORK/offpin.h" ||
            die "include/offpin.h is stale: run 'cbindgen --config cbindgen.toml --output include/offpin.h' in offpin-ffi/"
        say "header: current"
        ;;
    host)
        command -v cc >/dev/null 2>&1 || apt_install gcc libc6-dev
        say "host: building liboffpin_ffi.a (release)"
        cargo build --quiet --release
        issued
        cc "${CFLAGS[@]}" -O2 tests/c/keypad.c tests/c/host.c target/release/liboffpin_ffi.a \
            -Wl,--gc-sections -o "$WORK/keypad-host"
        say "host: running the keypad script through the C interface"
        "$WORK/keypad-host" | tee "$WORK/host.log"
        grep -q '^RESULT: [0-9]* passed, 0 failed -> PASS$' "$WORK/host.log" || die "host: the C script did not pass"
        say "host: PASS"
        ;;
    qemu)
        command -v arm-none-eabi-gcc >/dev/null 2>&1 || apt_install gcc-arm-none-eabi
        command -v qemu-system-arm >/dev/null 2>&1 || apt_install qemu-system-arm
        target=thumbv7em-none-eabihf
        rustup target list --installed | grep -qx "$target" || rustup target add "$target"
        say "qemu: building liboffpin_ffi.a (release, $target)"
        cargo build --quiet --release --target "$target"
        issued
        elf=$WORK/offpin-c.elf
        arm-none-eabi-gcc -mcpu=cortex-m4 -mthumb -mfloat-abi=hard -mfpu=fpv4-sp-d16 -Os \
            "${CFLAGS[@]}" -ffreestanding -ffunction-sections -fdata-sections -nostdlib \
            -T qemu/link.ld -Wl,--gc-sections -Wl,-z,noexecstack \
            qemu/startup.c qemu/main.c tests/c/keypad.c "target/$target/release/liboffpin_ffi.a" -lgcc -o "$elf"
        qemu=(qemu-system-arm -machine mps2-an386 -cpu cortex-m4 -nographic -monitor none -serial none
            -semihosting-config enable=on,target=native -icount shift=0 -kernel "$elf")
        say "qemu: running the keypad script in C on ${qemu[*]:0:5}"
        set +e
        timeout 300 "${qemu[@]}" </dev/null 2>&1 | tee "$WORK/qemu.log"
        rc=${PIPESTATUS[0]}
        set -e
        grep -q '^RESULT: [0-9]* passed, 0 failed -> PASS$' "$WORK/qemu.log" && [ "$rc" -eq 0 ] ||
            die "qemu: the C script did not pass (exit code $rc)"
        size=$(command -v arm-none-eabi-size)
        read -r flash ram < <("$size" -A "$elf" | awk '
            $1 ~ /^\.(vector_table|text|rodata|data)$/ { f += $2 }
            $1 ~ /^\.(data|bss)$/ { r += $2 }
            END { print f, r }')
        nm=$(command -v arm-none-eabi-nm)
        syms=$("$nm" "$elf")
        sym() { awk -v s="$1" '$3 == s { print "0x" $1; exit }' <<<"$syms"; }
        peak="?"
        if stack=$(timeout 300 python3 ../firmware/stack.py "$(sym _stack_start)" "$(sym offpin_c_finish)" \
            $(($(sym _stack_start) - $(sym __sheap))) -- "${qemu[@]}" 2>&1); then
            peak=$(awk '$1 == "peak" { print $2 }' <<<"$stack")
        else
            say "qemu: stack not measured: $stack"
        fi
        say "qemu: PASS"
        echo "C image (keypad script, mps2-an386): $flash bytes of flash, $ram bytes of static RAM, $peak bytes of stack at peak"
        ;;
    *) die "unknown step $step (header, host or qemu)" ;;
    esac
done
