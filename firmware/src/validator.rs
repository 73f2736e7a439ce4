//! The validator image: only what a real lock links, so that `run.sh` can
//! measure its flash, static RAM and stack on each board.
//!
//! - a `Lock<32>` (32 remembered codes) of the `standard-10` profile,
//!   provisioned from constants (the device key `build.rs` derived, the
//!   profile as a `const`, whose FF1 tweak the compiler computed);
//! - boot: the lock built from its key store into a static (`Lock::new`),
//!   then its state read in place from the newest valid of two image
//!   slots not older than a monotonic counter (`Lock::load_newest_into`)
//!   and its start (`Lock::start`) persisted like every change; on the
//!   first boot (both slots blank) the new lock, started, runs as it is
//!   and its first change writes its first image;
//! - every change (the start, a charge, a check's), one path: the image
//!   of the state after it if it needs one (`Lock::save_after`, carrying
//!   the counter the lock chose), the counter raised to that value, then
//!   `Lock::commit`; per entry, count-before-check: `Lock::charge`, then
//!   `Lock::check`, then the decision;
//! - a power cut (boot again) half-way.
//!
//! With the crate feature `group-keys` the lock is a `Lock<32, 2>` that
//! holds a group key beside its device key, and the script also types a
//! PIN issued under the group key (it opens).
//!
//! No formatting and no printing: the harness compares each decision with
//! the expected one, writes one fixed line over semihosting and exits with
//! success only if every decision matched. A panic (there is none on these
//! paths) exits with failure, without a message.

#![no_std]
#![no_main]
#![deny(unsafe_code)]

// Byte-at-a-time memory routines instead of compiler-builtins' (feature
// `builtins-mem` keeps those, for run.sh's comparison).
#[cfg(not(feature = "builtins-mem"))]
mod mem;
mod vectors;

use cortex_m_rt::entry;
use cortex_m_semihosting::{debug, hio};
use offpin::lock::{Change, Decision, Lock};
#[cfg(not(feature = "code-rules"))]
use offpin::profile::shipped::STANDARD_10 as PROFILE;

/// With `code-rules`: `standard-10` whose PINs keep both code rules
/// (format v2, tag 5), as `build.rs` issues them.
#[cfg(feature = "code-rules")]
const PROFILE: offpin::Profile = match offpin::Profile::new(offpin::ProfileParams {
    format: offpin::FormatVersion::V2,
    code_rules: offpin::CodeRules::ALL,
    ..offpin::profile::shipped::STANDARD_10.params()
}) {
    Ok(p) => p,
    Err(_) => panic!("standard-10 with code rules"),
};
use offpin::{Codec, DeviceKey, Refusal, UtcOffset};

/// A PIN issued by the server (see `build.rs`).
#[allow(dead_code, reason = "the validator reads only the PINs")]
struct Code {
    name: &'static str,
    what: &'static str,
    pin: &'static str,
}

#[allow(dead_code, reason = "the validator types a few of the issued codes")]
mod issued {
    use super::Code;
    include!(concat!(env!("OUT_DIR"), "/issued.rs"));
}
use issued::{DEVICE_KEY, ONCE, STAY, T0};
#[cfg(feature = "group-keys")]
use issued::{GROUP, GROUP_KEY};

/// Remembered codes: the lock a cheap MCU holds (its image is 823 bytes).
const MEMORY: usize = 32;
/// Its keys: the device key, and with `group-keys` the group key.
#[cfg(not(feature = "group-keys"))]
const KEYS: usize = 1;
#[cfg(feature = "group-keys")]
const KEYS: usize = 2;
type DoorLock = Lock<MEMORY, KEYS>;
const STATE_LEN: usize = DoorLock::STATE_LEN;
const OFFSET: UtcOffset = UtcOffset::UTC;
const H: i64 = 3_600;
const D: i64 = 86_400;

/// What an entry must decide.
#[derive(Clone, Copy)]
enum Expect {
    Open,
    Refused(Refusal),
}

/// The entries (typed, seconds after `T0`, expected decision); a power cut
/// comes after `POWER_CUT_AFTER` of them.
const SCRIPT: [(&str, i64, Expect); 6 + KEYS - 1] = [
    (STAY.pin, 15 * H + 1_800, Expect::Open),
    (ONCE.pin, 2 * D + 10 * H + 300, Expect::Open),
    (
        ONCE.pin,
        2 * D + 10 * H + 360,
        Expect::Refused(Refusal::AlreadyUsed),
    ),
    // After the power cut: the used code stays used; the stay still opens.
    (
        ONCE.pin,
        2 * D + 10 * H + 420,
        Expect::Refused(Refusal::AlreadyUsed),
    ),
    (STAY.pin, 2 * D + 11 * H, Expect::Open),
    (
        "1234567890",
        2 * D + 11 * H + 60,
        Expect::Refused(Refusal::InvalidCode),
    ),
    // The group's PIN, under the second key.
    #[cfg(feature = "group-keys")]
    (GROUP.pin, 2 * D + 11 * H + 120, Expect::Open),
];
const POWER_CUT_AFTER: usize = 3;

#[entry]
fn main() -> ! {
    finish(run())
}

/// Reports and ends the run: one fixed line, then semihosting `SYS_EXIT`.
/// Not inlined: `run.sh`'s stack measurement stops here.
#[inline(never)]
fn finish(ok: bool) -> ! {
    if let Ok(mut out) = hio::hstdout() {
        let line: &[u8] = if ok {
            b"validator: every decision as expected -> PASS\n"
        } else {
            b"validator: a decision not as expected -> FAIL\n"
        };
        let _ = out.write_all(line);
    }
    debug::exit(if ok {
        debug::EXIT_SUCCESS
    } else {
        debug::EXIT_FAILURE
    });
    #[allow(clippy::empty_loop)]
    loop {}
}

#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    debug::exit(debug::EXIT_FAILURE);
    #[allow(clippy::empty_loop)]
    loop {}
}

/// The "flash": two image slots and the monotonic counter (a counter page
/// or OTP bits on a real lock).
struct Flash {
    slots: [[u8; STATE_LEN]; 2],
    counter: u32,
}

/// The lock's codec, from its key store (here: a constant).
#[cfg(not(feature = "group-keys"))]
fn codec() -> Option<Codec> {
    Codec::new(&DeviceKey::from_bytes(DEVICE_KEY), PROFILE).ok()
}

/// The lock's codecs, device key first, from its key store. One call of
/// `Codec::new` in a loop: inlined once, it folds the `const` profile's
/// FF1 constants (two calls were not inlined: 7.6 KB of 128-bit division
/// code to compute them at run time).
#[cfg(feature = "group-keys")]
fn codec() -> Option<[Codec; KEYS]> {
    let keys = [DEVICE_KEY, GROUP_KEY];
    let [device, group] =
        core::array::from_fn(|i| Codec::new(&DeviceKey::from_bytes(keys[i]), PROFILE).ok());
    Some([device?, group?])
}

/// Power-on: RAM holds nothing from before, so the lock is built from the
/// key store into its static ([`provision`]), then its state is read in
/// place from the newest valid image not older than the counter, and its
/// start is persisted. On the first boot (both slots blank, counter 0)
/// the new lock is the state: it is started, and its first change writes
/// its first image (no separate save). Any other failure to load stops
/// the run: a lock never falls back to a fresh state.
#[inline(never)]
fn boot(slot: &mut Option<DoorLock>, flash: &mut Flash) -> bool {
    let Some(lock) = provision(slot) else {
        return false;
    };
    let [a, b] = &mut flash.slots;
    // Blank slots with a moved counter are an erased state: load fails.
    if flash.counter == 0 && a.iter().chain(b.iter()).all(|byte| *byte == 0) {
        return true;
    }
    if lock.load_newest_into(&[a, b], flash.counter).is_err() {
        return false;
    }
    // A loaded lock decides nothing until its start (its state written
    // again with the counter plus one) is persisted like any change.
    let start = lock.start();
    persist(lock, flash, start).is_some()
}

/// The lock from the key store, in `slot` (the old one dropped first, its
/// key schedule zeroized).
#[inline(never)]
fn provision(slot: &mut Option<DoorLock>) -> Option<&mut DoorLock> {
    *slot = None;
    let lock = DoorLock::new(codec()?, OFFSET).ok()?;
    Some(slot.insert(lock))
}

fn run() -> bool {
    let Some(flash) = cortex_m::singleton!(: Flash = Flash {
        slots: [[0u8; STATE_LEN]; 2],
        counter: 0,
    }) else {
        return false;
    };
    let Some(slot) = cortex_m::singleton!(: Option<DoorLock> = None) else {
        return false;
    };
    if !boot(slot, flash) {
        return false;
    }
    let mut passed = 0usize;
    for (n, &(typed, at, expect)) in SCRIPT.iter().enumerate() {
        if n == POWER_CUT_AFTER && !boot(slot, flash) {
            return false;
        }
        let Some(lock) = slot.as_mut() else {
            return false;
        };
        match enter(lock, flash, typed.as_bytes(), T0 + at) {
            Some(decision) if matches(decision, expect) => passed += 1,
            _ => return false,
        }
    }
    passed == SCRIPT.len()
}

/// The order every change takes: the image after `change` to its slot if
/// it needs a write, the counter raised to the image's (the lock chose
/// it: `Change::counter`), then the commit. `None` when either fails.
fn persist(lock: &mut DoorLock, flash: &mut Flash, change: Change) -> Option<()> {
    if change.needs_write() {
        let [slot0, slot1] = &mut flash.slots;
        let slot = if change.image_sequence() % 2 == 1 {
            slot1
        } else {
            slot0
        };
        lock.save_after(&change, slot).ok()?;
        flash.counter = change.counter();
    }
    lock.commit(change).ok()
}

/// One keypad entry, count-before-check: the charge is persisted and
/// committed, then the entry is checked, its change persisted if it needs
/// it and committed, and only then is the decision returned to act on.
/// `None` when the state could not be persisted or committed.
#[inline(never)]
fn enter(lock: &mut DoorLock, flash: &mut Flash, typed: &[u8], now: i64) -> Option<Decision> {
    let charge = lock.charge(now);
    persist(lock, flash, charge)?;
    let check = lock.check(typed, now);
    persist(lock, flash, check.change)?;
    Some(check.decision)
}

fn matches(decision: Decision, expect: Expect) -> bool {
    match (decision, expect) {
        (Decision::Open(_), Expect::Open) => true,
        (Decision::Refuse(r), Expect::Refused(e)) => r == e,
        _ => false,
    }
}
