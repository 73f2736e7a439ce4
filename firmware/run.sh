#!/usr/bin/env bash
# The lock firmware on three emulated Cortex-M cores, end to end:
#
#   1. installs what it needs if missing: the three Rust targets, Debian's
#      qemu-system-arm, llvm-size (rustup's llvm-tools, else Debian's llvm);
#   2. for each board (microbit: Cortex-M0, thumbv6m-none-eabi; mps2-an386:
#      Cortex-M4F, thumbv7em-none-eabihf; mps2-an505: Cortex-M33,
#      thumbv8m.main-none-eabi), builds firmware/ in release (build.rs
#      issues the PINs on the host) and boots it on QEMU under -icount,
#      where it provisions a lock, types its keypad script at a simulated
#      clock (the v1 profile, then the v2 one: recurring codes, a daily
#      window across a DST change, clock-setting and service codes; then
#      anti-peep entry, and two locks of a group opened by one PIN), prints
#      every decision next to the expected one and the
#      counter ticks one `check` took, and exits 0 only if every decision
#      was expected; then reports the image's flash and static RAM
#      (llvm-size) and the peak stack (stack.py, through QEMU's gdbstub);
#   3. the validator-only image (src/validator.rs) on each board: its
#      line `validator image: N bytes of flash, M bytes of static RAM, S
#      bytes of stack at peak`, at opt-level "s" (and "z", the fixsliced
#      AES and compiler-builtins' memory routines for comparison), what
#      its flash is made of, and a failure when it exceeds 16 KiB of flash
#      or 4 KiB of stack; then the validator with each lock capability
#      alone (firmware features format-v2, service-codes, alphabets,
#      anti-peep, group-keys, code-rules: one missing from Cargo.toml is
#      reported as not built) and with all of them, each run on QEMU, its
#      flash and stack in a size table (not held to the targets);
#   4. the same keypad script in C through offpin-ffi on mps2-an386
#      (offpin-ffi/test.sh qemu);
#   5. a summary line per board (instructions per check, flash, RAM,
#      stack), and the validator's size table for every board.
#
# Exits non-zero when any step fails or any decision is not the expected
# one. Usage: bash firmware/run.sh [BOARD...] (from anywhere; default: all
# three boards). Called by .ci/run.
set -euo pipefail
cd "$(dirname "$0")"

# board -> "target cpu" (keep in sync with .cargo/config.toml's runners).
declare -A BOARD_TARGET=(
    [microbit]=thumbv6m-none-eabi
    [mps2-an386]=thumbv7em-none-eabihf
    [mps2-an505]=thumbv8m.main-none-eabi
)
declare -A BOARD_CPU=([microbit]=cortex-m0 [mps2-an386]=cortex-m4 [mps2-an505]=cortex-m33)
declare -A BOARD_CORE=([microbit]="Cortex-M0" [mps2-an386]="Cortex-M4F" [mps2-an505]="Cortex-M33")
BOARDS=(microbit mps2-an386 mps2-an505)
if [ $# -gt 0 ]; then BOARDS=("$@"); fi
TIMEOUT=300
qemu_args() { # qemu_args BOARD: QEMU's arguments for BOARD, before -kernel
    local cpu=()
    # The micro:bit's SoC has its core built in; -cpu is for the MPS2 boards.
    if [ "$1" != microbit ]; then cpu=(-cpu "${BOARD_CPU[$1]}"); fi
    echo -machine "$1" "${cpu[@]}" -nographic -monitor none -serial none \
        -semihosting-config enable=on,target=native -icount shift=0
}

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
for board in "${BOARDS[@]}"; do
    target=${BOARD_TARGET[$board]:-}
    [ -n "$target" ] || die "unknown board $board (one of: ${!BOARD_TARGET[*]})"
    if ! rustup target list --installed | grep -qx "$target"; then
        rustup target add "$target"
    fi
done

if ! command -v qemu-system-arm >/dev/null 2>&1; then
    apt_install qemu-system-arm
fi
for board in "${BOARDS[@]}"; do
    if ! qemu-system-arm -machine help | grep -q "^$board "; then
        # mps2-an386 arrived in QEMU 6.0; Debian 12 ships 7.2.
        die "$(qemu-system-arm --version | head -1) has no $board board (QEMU >= 6.0 needed)"
    fi
done

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

# --- 2. each board ---------------------------------------------------------
LOG=$(mktemp)
trap 'rm -f "$LOG"' EXIT
SUMMARY=()

# flash_and_ram ELF: "FLASH RAM" in bytes (llvm-size -A).
flash_and_ram() {
    "$LLVM_SIZE" -A "$1" | awk '
        $1 ~ /^\.(vector_table|text|rodata|data|bss|uninit)$/ { s[$1] = $2 }
        END {
            printf "%d %d\n", s[".vector_table"] + s[".text"] + s[".rodata"] + s[".data"],
                s[".data"] + s[".bss"] + s[".uninit"]
        }'
}

# measure_stack BOARD ELF FINISH_SYMBOL_RE [NAME=SYMBOL_RE...]: prints
# stack.py's lines (peak N; call NAME N M), or fails.
measure_stack() {
    local board=$1 elf=$2 finish_re=$3
    shift 3
    [ -n "$LLVM_NM" ] && command -v python3 >/dev/null 2>&1 || return 1
    local syms top bottom finish paint funcs=() f addr
    syms=$("$LLVM_NM" --demangle "$elf")
    sym() { awk -v re="$1" '$3 ~ re { print "0x" $1; exit }' <<<"$syms"; }
    top=$(sym '^_stack_start$')
    bottom=$(sym '^__sheap$')
    finish=$(sym "$finish_re")
    [ -n "$top" ] && [ -n "$bottom" ] && [ -n "$finish" ] || return 1
    # Paint from the end of the statics to the top of the stack (at most
    # 64 KiB on the MPS2 boards' 4 MiB of RAM).
    paint=$((top - bottom))
    if [ "$paint" -gt 65536 ]; then paint=65536; fi
    for f in "$@"; do
        addr=$(sym "${f#*=}")
        if [ -n "$addr" ]; then funcs+=("${f%%=*}=$addr"); fi
    done
    # shellcheck disable=SC2046
    timeout "$TIMEOUT" python3 stack.py "$top" "$finish" "$paint" "${funcs[@]}" -- \
        qemu-system-arm $(qemu_args "$board") -kernel "$elf"
}

for board in "${BOARDS[@]}"; do
    target=${BOARD_TARGET[$board]}
    core=${BOARD_CORE[$board]}
    elf=target/$target/release/offpin-firmware
    echo
    say "=== $board ($core, $target) ==="
    say "building (release, $target)"
    cargo build --release --target "$target" --bin offpin-firmware

    say "running on qemu-system-arm $(qemu_args "$board") ($(qemu-system-arm --version | head -1))"
    set +e
    # shellcheck disable=SC2046
    timeout "$TIMEOUT" qemu-system-arm $(qemu_args "$board") -kernel "$elf" </dev/null 2>&1 | tee "$LOG"
    rc=${PIPESTATUS[0]}
    set -e
    [ "$rc" -ne 124 ] || die "$board: QEMU did not finish within ${TIMEOUT}s"
    mismatches=$(grep -c 'MISMATCH' "$LOG" || true)
    grep -q '^RESULT: [0-9]* passed, 0 failed -> PASS$' "$LOG" || die "$board: the firmware did not report PASS (exit code $rc)"
    [ "$mismatches" -eq 0 ] || die "$board: $mismatches decision(s) not as expected"
    [ "$rc" -eq 0 ] || die "$board: QEMU exited with $rc (semihosting exit status)"
    say "$board: every decision as expected; QEMU exited 0"
    instr() { sed -n "s/^check($1): .* = ~\([0-9]*\) instructions$/\1/p" "$LOG" | head -1; }
    valid=$(instr 'valid')
    invalid=$(instr 'invalid')
    full=$(instr 'valid, memory full: [0-9]* live entries scanned')

    echo
    say "image size ($(basename "$LLVM_SIZE"), $elf):"
    "$LLVM_SIZE" -A "$elf" | awk '
        $1 ~ /^\.(vector_table|text|rodata|data|bss|uninit)$/ { s[$1] = $2 }
        END {
            printf "  .vector_table %7d\n  .text         %7d\n  .rodata       %7d\n  .data         %7d\n  .bss          %7d\n  .uninit       %7d\n",
                s[".vector_table"], s[".text"], s[".rodata"], s[".data"], s[".bss"], s[".uninit"]
        }'
    read -r flash ram < <(flash_and_ram "$elf")
    printf '  flash (.vector_table + .text + .rodata + .data) = %d bytes\n' "$flash"
    printf '  static RAM (.data + .bss + .uninit)            = %d bytes\n' "$ram"

    if [ -n "$LLVM_NM" ]; then
        echo
        say "largest functions and data in flash ($(basename "$LLVM_NM") --size-sort):"
        "$LLVM_NM" --demangle --size-sort --print-size --radix=d "$elf" | awk '$3 ~ /^[tTrR]$/' | tail -n 12 |
            awk '{ size = $2 + 0; $1 = $2 = $3 = ""; sub(/^ +/, ""); printf "  %7d  %s\n", size, $0 }'
    fi

    # Stack: QEMU's gdbstub paints the stack, runs to `finish`, reads it
    # back; it also measures every call of a few functions on its own.
    echo
    peak="not measured"
    if stack=$(measure_stack "$board" "$elf" '^offpin_firmware::finish::h' \
        'Lock::check=^offpin::lock::Lock[^ ]*::check::h' \
        'persist::encode=^offpin::lock::persist::encode::h' \
        'persist::decode=^offpin::lock::persist::decode::h' \
        'Codec::new=^offpin::codec::Codec::new::h' 2>&1); then
        say "stack, measured through QEMU's gdbstub (painted from the end of the statics to _stack_start):"
        while read -r kind name bytes calls; do
            case $kind in
                peak) peak=$name
                    printf '  peak of the whole run: %s bytes (offpin_firmware::run'"'"'s frame included)\n' "$name" ;;
                call) printf '  %-22s %6s bytes, deepest of %s calls (nested calls included)\n' "$name" "$bytes" "$calls" ;;
            esac
        done <<<"$stack"
    else
        say "stack: not measured (${stack:-needs llvm-nm and python3})"
    fi
    SUMMARY+=("$(printf '%-11s %-10s %9s %9s %9s %8s %8s %8s' "$board" "$core" \
        "$valid" "$invalid" "$full" "$flash" "$ram" "$peak")")
done

# --- 3. the validator image, on each board ----------------------------------
# Only what a lock links (src/validator.rs), with its own byte-at-a-time
# memory routines (src/mem.rs) and the aes crate's compact software AES
# (semi-fixsliced, smaller; the cfg `aes_backend_soft="compact"`), at
# opt-level "s": the reported image, held to the targets of issue 14
# (flash <= 16 KiB, stack <= 4 KiB, a Lock<32> image <= 1 KiB). For
# comparison: opt-level "z", the default fixsliced AES, and
# compiler-builtins' memory routines. Then the size table of issue 19: the
# minimal validator (no lock capability: a format-v1 lock at a fixed UTC
# offset) against the validator with each capability alone and with all
# of them. Only the minimal validator is held to the targets.
FLASH_MAX=16384
STACK_MAX=4096
VALIDATOR_LINES=()
# The lock capabilities, each a feature of firmware/Cargo.toml forwarding
# to offpin's. One that the manifest does not have yet (a branch not merged)
# is reported as not built.
CAPABILITIES=(format-v2 service-codes alphabets anti-peep group-keys code-rules)
has_feature() { # has_feature NAME: whether firmware/Cargo.toml's [features] has NAME
    awk -v f="$1" '
        /^\[/ { in_features = ($0 == "[features]") }
        in_features && $1 == f && $2 == "=" { found = 1 }
        END { exit !found }' Cargo.toml
}
# The offpin features a firmware feature turns on besides its own (from
# firmware/Cargo.toml and offpin's manifest), for the table.
declare -A CAP_IMPLIES=([service-codes]="format-v2" [alphabets]="format-v2")
BUILT_CAPS=()
for cap in "${CAPABILITIES[@]}"; do
    if has_feature "$cap"; then BUILT_CAPS+=("$cap"); fi
done
ALL_CAPS=$(IFS=,; echo "${BUILT_CAPS[*]}")
# (board, build) -> flash, stack peak; build is "minimal", a capability or "all".
declare -A CAP_FLASH=() CAP_STACK=()
validator_build() { # validator_build TARGET PROFILE compact|fixslice [FEATURES]: prints the ELF's path
    local target=$1 profile=$2 aes=$3 features=${4:-} dir=target name
    local cfg=() feat=()
    name=$profile-$aes
    if [ "$aes" = compact ]; then
        dir=target/aes-compact
        cfg=(--config "target.$target.rustflags=[\"--cfg\",\"aes_backend_soft=\\\"compact\\\"\"]")
    fi
    if [ -n "$features" ]; then
        name=$name-${features//,/+}
        feat=(--features "$features")
    fi
    # --no-default-features: the validator's profile has no service codes,
    # so it is built without HMAC-SHA1 (the firmware's service-codes feature).
    # Every feature set shares the target directory (only offpin and the
    # firmware are compiled again); each image is copied aside.
    cargo build --quiet --profile "$profile" --target "$target" --bin offpin-validator \
        --no-default-features --target-dir "$dir" "${cfg[@]}" "${feat[@]}" >&2
    mkdir -p "target/validator/$target"
    cp "$dir/$target/$profile/offpin-validator" "target/validator/$target/$name"
    echo "target/validator/$target/$name"
}
# validator_run BOARD ELF: boots the validator image on QEMU; fails unless
# every decision was the expected one.
validator_run() {
    local out rc
    set +e
    # shellcheck disable=SC2046
    out=$(timeout "$TIMEOUT" qemu-system-arm $(qemu_args "$1") -kernel "$2" </dev/null 2>&1)
    rc=$?
    set -e
    printf '%s\n' "$out"
    [ "$rc" -eq 0 ] && grep -q -- '-> PASS$' <<<"$out" || die "$1: the validator ($2) did not pass (exit code $rc)"
}
# validator_capability BOARD NAME [FEATURES]: the validator with FEATURES
# (NAME: minimal, a capability or all) built, run and measured into
# CAP_FLASH and CAP_STACK.
validator_capability() {
    local board=$1 name=$2 features=${3:-} elf flash stack
    elf=$(validator_build "${BOARD_TARGET[$board]}" release compact "$features")
    validator_run "$board" "$elf" >/dev/null
    read -r flash _ < <(flash_and_ram "$elf")
    CAP_FLASH[$board/$name]=$flash
    CAP_STACK[$board/$name]="?"
    if stack=$(measure_stack "$board" "$elf" '^offpin_validator::finish::h' 2>&1); then
        CAP_STACK[$board/$name]=$(awk '$1 == "peak" { print $2 }' <<<"$stack")
    fi
}
# cap_label NAME: the row name of a build in the size table.
cap_label() {
    case $1 in
        minimal) echo "minimal (format-v1 lock, fixed UTC offset)" ;;
        all) echo "all: ${ALL_CAPS//,/, }" ;;
        *) echo "$1${CAP_IMPLIES[$1]:+ (with ${CAP_IMPLIES[$1]})}" ;;
    esac
}
for board in "${BOARDS[@]}"; do
    target=${BOARD_TARGET[$board]}
    echo
    say "=== validator image, $board (${BOARD_CORE[$board]}, $target) ==="
    elf=$(validator_build "$target" release compact)
    validator_run "$board" "$elf"
    read -r flash ram < <(flash_and_ram "$elf")
    vpeak="?"
    if stack=$(measure_stack "$board" "$elf" '^offpin_validator::finish::h' \
        'boot=^offpin_validator::boot::h' 'entry=^offpin_validator::enter::h' \
        'Lock::check=^offpin::lock::Lock[^ ]*::check::h' 2>&1); then
        vpeak=$(awk '$1 == "peak" { print $2 }' <<<"$stack")
        awk '$1 == "call" { printf "  %-16s %6s bytes, deepest of %s calls\n", $2, $3, $4 }' <<<"$stack"
    else
        say "stack: not measured (${stack:-needs llvm-nm and python3})"
    fi
    line="validator image: $flash bytes of flash, $ram bytes of static RAM, $vpeak bytes of stack at peak"
    echo "$line"
    CAP_FLASH[$board/minimal]=$flash
    CAP_STACK[$board/minimal]=$vpeak
    # The same image at opt-level "z", with the default fixsliced AES, and
    # with compiler-builtins' memory routines.
    z=$(validator_build "$target" release-z compact)
    read -r zflash _ < <(flash_and_ram "$z")
    fixed=$(validator_build "$target" release fixslice)
    read -r fflash _ < <(flash_and_ram "$fixed")
    builtins=$(validator_build "$target" release compact builtins-mem)
    read -r bflash _ < <(flash_and_ram "$builtins")
    say "  opt-level \"s\": $flash bytes; opt-level \"z\": $zflash bytes; \"s\" with the fixsliced AES: $fflash bytes; \"s\" with compiler-builtins' memory routines: $bflash bytes"
    if [ -n "$LLVM_NM" ]; then
        say "  what it is made of (llvm-nm --size-sort; inlined code counts in its caller):"
        "$LLVM_NM" --size-sort --print-size --radix=d --demangle "$elf" | awk '
            $3 ~ /^[tTrR]$/ {
                s = $2 + 0; n = $4
                g = "other"
                if (n ~ /^aes::|Word.*bitslice/) g = "AES (aes crate, compact)"
                else if (n ~ /^offpin_validator::enter/) g = "an entry: Lock::charge, Lock::check (parsing, FF1, index, judge, lock-out), inlined"
                else if (n ~ /^offpin_validator::(run|boot|finish|persist|provision)/) g = "boot (Lock::new, Codec::new, Lock::start), save_after (the image encoder, inlined) + commit, the harness"
                else if (n ~ /^core::ops::function::Fn::call/) g = "state image decoder (lock::persist::decode, called through load_newest_into'"'"'s reader)"
                else if (n ~ /seal::/) g = "AES-CMAC, CRC-32, fingerprints (lock::seal)"
                else if (n ~ /persist::/) g = "state image helpers, out of line (lock::persist)"
                else if (n ~ /^(mem|__aeabi_mem)/) g = "memory routines (src/mem.rs)"
                else if (n ~ /^offpin::/) g = "offpin, out of line (index, lock-out, marks, divisor)"
                else if (n ~ /^(__|compiler_builtins)/) g = "compiler-builtins"
                else if (n ~ /^\.L|__INTERRUPTS|__EXCEPTIONS|RESET/) g = "constant data, vector table"
                t[g] += s; total += s
            }
            END { for (g in t) printf "    %6d  %s\n", t[g], g | "sort -rn"; close("sort -rn") }'
    fi
    if [ -n "$LLVM_NM" ]; then
        # Neither formatting nor a division routine (the M0 has no divider;
        # offpin divides by reciprocals, src/divisor.rs).
        banned=$("$LLVM_NM" --demangle "$elf" | awk '$3 ~ /core::fmt|__aeabi_u?ldivmod|__u?divmoddi4|__aeabi_u?idiv|div_rem::u(32|64)_div_rem/ { print $3 }' | sort -u)
        [ -z "$banned" ] || die "$board: the validator image links $(echo $banned)"
        say "  no core::fmt, no division routine"
    fi
    [ "$flash" -le "$FLASH_MAX" ] || die "$board: the validator image is $flash bytes of flash, over $FLASH_MAX"
    [ "$vpeak" != "?" ] && [ "$vpeak" -le "$STACK_MAX" ] || die "$board: the validator's stack peak is $vpeak bytes, over $STACK_MAX"
    VALIDATOR_LINES+=("$(printf '%-11s %-10s %s' "$board" "${BOARD_CORE[$board]}" "$line")")

    # The lock capabilities: each alone, then all of them (each image
    # passes its script; none is held to the targets).
    say "  by lock capability (flash bytes, stack bytes at peak):"
    caps_start=$SECONDS
    printf '    %-52s %7s %7s\n' "$(cap_label minimal)" "$flash" "$vpeak"
    for cap in "${CAPABILITIES[@]}" all; do
        features=$cap
        if [ "$cap" = all ]; then features=$ALL_CAPS
        elif ! has_feature "$cap"; then
            printf '    %-52s %s\n' "$(cap_label "$cap")" "not built (no feature $cap in firmware/Cargo.toml)"
            continue
        fi
        validator_capability "$board" "$cap" "$features"
        printf '    %-52s %7s %7s  (%+d)\n' "$(cap_label "$cap")" "${CAP_FLASH[$board/$cap]}" \
            "${CAP_STACK[$board/$cap]}" "$((CAP_FLASH[$board/$cap] - flash))"
    done
    say "  (built, run and measured in $((SECONDS - caps_start)) s)"
done

# --- 4. the same script from C, through offpin-ffi ---------------------------
echo
say "=== the keypad script in C (offpin-ffi, arm-none-eabi-gcc), mps2-an386 ==="
C_LINE=""
if [[ " ${BOARDS[*]} " == *" mps2-an386 "* ]]; then
    c_log=$(mktemp)
    bash ../offpin-ffi/test.sh qemu 2>&1 | tee "$c_log" | grep -v '^entry: \|^interface: '
    [ "${PIPESTATUS[0]}" -eq 0 ] || die "the C keypad script failed on QEMU (offpin-ffi/test.sh qemu)"
    C_LINE=$(grep '^C image' "$c_log")
    rm -f "$c_log"
fi

# --- 5. summary ---------------------------------------------------------------
echo
say "keypad script passed on every board; instructions per check (QEMU -icount), bytes:"
printf '  %-11s %-10s %9s %9s %9s %8s %8s %8s\n' board core valid invalid full flash RAM stack
for line in "${SUMMARY[@]}"; do printf '  %s\n' "$line"; done
echo
say "validator images (opt-level \"s\", compact AES):"
for line in "${VALIDATOR_LINES[@]}"; do printf '  %s\n' "$line"; done
echo
say "validator image by lock capability: flash bytes, stack bytes at peak (the minimal one is held to $FLASH_MAX and $STACK_MAX):"
row=$(printf '  %-64s' build)
for board in "${BOARDS[@]}"; do row+=$(printf ' %18s' "${BOARD_CORE[$board]}"); done
echo "$row"
for cap in minimal "${CAPABILITIES[@]}" all; do
    row=$(printf '  %-64s' "$(cap_label "$cap")")
    for board in "${BOARDS[@]}"; do
        if [ -n "${CAP_FLASH[$board/$cap]:-}" ]; then
            row+=$(printf ' %10s, %6s' "${CAP_FLASH[$board/$cap]}" "${CAP_STACK[$board/$cap]}")
        else
            row+=$(printf ' %18s' "not built")
        fi
    done
    echo "$row"
done
if [ -n "$C_LINE" ]; then
    echo
    say "$C_LINE"
fi
echo
say "PASS"
