//! The validator image: only what a real lock links, so that `run.sh` can
//! measure its flash, static RAM and stack on each board.
//!
//! - a `Lock<32>` (32 remembered codes) of the `standard-10` profile,
//!   provisioned from constants (the device key `build.rs` derived, the
//!   profile as a `const`, whose FF1 tweak the compiler computed);
//! - boot: the newest valid of two image slots (`Lock::load_newest`), or a
//!   fresh lock whose image is saved first;
//! - per entry: `Lock::check`, the image of the state after the change
//!   (`Lock::save_after`), then `Lock::commit`, then the decision;
//! - a power cut (boot again from the slots) half-way.
//!
//! No formatting and no printing: the harness compares each decision with
//! the expected one, writes one fixed line over semihosting and exits with
//! success only if every decision matched. A panic (there is none on these
//! paths) exits with failure, without a message.

#![no_std]
#![no_main]
#![deny(unsafe_code)]

mod vectors;

use cortex_m_rt::entry;
use cortex_m_semihosting::{debug, hio};
use offpin::lock::{Decision, Lock};
use offpin::profile::shipped::STANDARD_10 as PROFILE;
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

/// Remembered codes: the lock a cheap MCU holds (its image is 892 bytes).
const MEMORY: usize = 32;
type DoorLock = Lock<MEMORY>;
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
const SCRIPT: [(&str, i64, Expect); 6] = [
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
            b"validator: a decision was not the expected one -> FAIL\n"
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

/// The lock's codec, from its key store (here: a constant).
fn codec() -> Option<Codec> {
    Codec::new(&DeviceKey::from_bytes(DEVICE_KEY), PROFILE).ok()
}

/// Boot: the newest valid image, else (first boot) a fresh lock whose
/// image is written to slot 0 before anything else. The lock lives in a
/// static (`slot`), as a lock firmware's main state object does; only the
/// temporaries of building it are on the stack, and only while this runs.
#[inline(never)]
fn boot(slot: &mut Option<DoorLock>, flash: &mut [[u8; STATE_LEN]; 2]) -> bool {
    *slot = None;
    let Some(c) = codec() else {
        return false;
    };
    let [a, b] = &*flash;
    *slot = DoorLock::load_newest(c, OFFSET, &[a, b]).ok();
    if slot.is_some() {
        return true;
    }
    let Some(c) = codec() else {
        return false;
    };
    *slot = DoorLock::new(c, OFFSET).ok();
    let [slot0, _] = flash;
    slot.as_ref().is_some_and(|fresh| fresh.save(slot0).is_ok())
}

fn run() -> bool {
    let Some(flash) = cortex_m::singleton!(: [[u8; STATE_LEN]; 2] = [[0u8; STATE_LEN]; 2]) else {
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

/// One keypad entry: check, persist the state after the change, commit,
/// and only then return the decision to act on. `None` when the state
/// could not be persisted or committed.
#[inline(never)]
fn enter(
    lock: &mut DoorLock,
    flash: &mut [[u8; STATE_LEN]; 2],
    typed: &[u8],
    now: i64,
) -> Option<Decision> {
    let check = lock.check(typed, now);
    if !check.change.is_empty() {
        let [slot0, slot1] = flash;
        let slot = if check.change.image_sequence() % 2 == 1 {
            slot1
        } else {
            slot0
        };
        lock.save_after(&check.change, slot).ok()?;
        lock.commit(check.change).ok()?;
    }
    Some(check.decision)
}

fn matches(decision: Decision, expect: Expect) -> bool {
    match (decision, expect) {
        (Decision::Open(_), Expect::Open) => true,
        (Decision::Refuse(r), Expect::Refused(e)) => r == e,
        _ => false,
    }
}
