//! A lock firmware that links `offpin`, for three QEMU boards: `microbit`
//! (Cortex-M0), `mps2-an386` (Cortex-M4F) and `mps2-an505` (Cortex-M33),
//! chosen by the target (`board.rs`). See `run.sh` for how it is built, run
//! and measured.
//!
//! It provisions a lock from a fixed device key, then types a script of
//! keypad entries at a simulated clock and follows the count-before-check
//! protocol a real lock follows for each one: `Lock::charge` counts the
//! entry as a failure and its image is written to one of two "flash" slots
//! *before* anything is decided; `Lock::check` decides; if its change needs
//! a write (an opening refunds the charge, a one-time code is remembered)
//! that image is written too (`Lock::save_after`), the change is applied
//! (`Lock::commit`), and only then would the motor run. Every image carries
//! a rollback counter one ahead of a simulated monotonic hardware counter,
//! which is bumped after the write. Half-way it simulates a power cut: the
//! lock is rebuilt from the newest authentic image not older than the
//! counter (`Lock::load_newest_into`, in place) and must still refuse the
//! one-time code it already used; the older image alone, put back, is
//! refused as rolled back and changes nothing. An insider who holds a valid code opens
//! between guesses to reset the back-off; the guess budget stops them all
//! the same, and the run ends with the most guesses evaluated in any 24
//! hours next to the published bound.
//!
//! Then a second phase provisions a lock of the format-v2 profile
//! (`standard-10-v2`) that keeps the Paris DST rule, and types the v2
//! script: a weekly recurring code inside and outside its local hours on
//! both sides of the spring DST change, a daily window from local midnight
//! to local midnight across that change, a power loss after which the
//! lock's clock is two days behind, the clock-setting code that corrects
//! it (once; a code too far ahead is refused), and a rolling service code
//! (RFC 6238) that opens once and is refused the second time.
//!
//! With the feature `anti-peep` (on by default here, off in the
//! validator), a third phase types the owner's PIN among extra digits at
//! a `standard-10` lock that searches entries of up to 16 keys: inside 16
//! keys it opens, inside 17 it is refused, and 16 keys with no PIN in
//! them are one refusal.
//!
//! With the feature `group-keys` (on by default here), a last phase opens
//! two locks of one group, each holding its device key and the group key,
//! with one PIN issued under the group key (`group.rs`).
//!
//! Every decision is printed with the one the script expects; the firmware
//! exits with success (semihosting `SYS_EXIT`) only when all of them match.
//!
//! The PINs were issued by the server side, on the host, in `build.rs`,
//! with the same crate: on a real lock only `check` runs, and the image
//! holds no issuer and no key derivation.
//!
//! Cost: with `-icount shift=0` QEMU advances its virtual clock by 1 ns per
//! guest instruction, and the board's counter (SysTick, or TIMER0 on the
//! nRF51) runs at a fixed rate, so one tick is a fixed number of
//! instructions (40 at the AN386's 25 MHz). Each `check` is timed between
//! two counter reads (the minimum of a few runs; `check` does not mutate),
//! and the ratio is calibrated against a loop of known length.
//!
//! Where it is:
//!
//! | file | what |
//! |---|---|
//! | `main.rs` | the entry point, the phases in turn, the result |
//! | `phases.rs`, `phases/*.rs` | each phase's profile, zone and keypad script |
//! | `script.rs` | what a script is written in: steps and expected decisions |
//! | `runner.rs` | a phase's script typed at its lock, step by step, and its figures |
//! | `protocol.rs` | the simulated flash, count-before-check, provisioning and a boot |
//! | `attacks.rs` | a flash writer with power control: each attack and its refusal |
//! | `group.rs` | the group phase: two locks, one PIN |
//! | `report.rs` | the tally, the guesses, how decisions and times are printed |
//! | `timing.rs`, `board.rs` | the board's counter: a check timed and calibrated |

#![no_std]
#![no_main]
#![deny(unsafe_code)]

mod attacks;
mod board;
#[cfg(feature = "group-keys")]
mod group;
mod phases;
mod protocol;
mod report;
mod runner;
mod script;
mod timing;

use cortex_m_rt::entry;
use cortex_m_semihosting::{debug, hprintln};
use offpin::DeviceKey;
use offpin::lock::Lock;
use panic_semihosting as _;

use issued::DEVICE_KEY;
use phases::{PHASES, Phase};
use protocol::{Flash, V1_LEN, provision};
use report::{Tally, fatal};
use runner::script;

/// A PIN issued by the server (see `build.rs`).
struct Code {
    name: &'static str,
    what: &'static str,
    pin: &'static str,
}

mod issued {
    use super::Code;
    include!(concat!(env!("OUT_DIR"), "/issued.rs"));
}

/// Codes the lock can remember (the profile's `lock_memory`).
const MEMORY: usize = 64;
type DoorLock = Lock<MEMORY>;
const STATE_LEN: usize = DoorLock::STATE_LEN;

const MIN: i64 = 60;
const H: i64 = 3_600;
const D: i64 = 86_400;

#[entry]
fn main() -> ! {
    finish(run())
}

/// Ends the run through semihosting: QEMU exits with 0 when `ok`, else 1.
/// Not inlined: `run.sh`'s stack measurement stops here (symbol
/// `offpin_firmware::finish`), after everything else has run.
#[inline(never)]
fn finish(ok: bool) -> ! {
    debug::exit(if ok {
        debug::EXIT_SUCCESS
    } else {
        debug::EXIT_FAILURE
    });
    #[allow(clippy::empty_loop)]
    loop {}
}

fn run() -> bool {
    if !board::init() {
        return fatal("counter", &"core peripherals already taken");
    }

    // Provisioning: the device key goes into the lock's key store once.
    let key = DeviceKey::from_bytes(DEVICE_KEY);
    // Two image slots of "flash", written alternately by sequence parity,
    // and the simulated monotonic counter: a static, as a lock's flash is
    // not on its stack.
    let Some(flash) = cortex_m::singleton!(: Flash = Flash {
        slots: [[0u8; STATE_LEN]; 2],
        counter: 0,
        writes: 0,
        aside: [0u8; V1_LEN],
    }) else {
        return fatal("flash slots", &"taken twice");
    };
    // Each phase is a new lock: its slots are blanked and its counter set
    // to 0 at provisioning (an image is the same size for every profile).
    let mut tally = Tally::default();
    for phase in PHASES {
        if !run_phase(&key, phase, flash, &mut tally) {
            return false;
        }
    }
    #[cfg(feature = "group-keys")]
    if !group::run(&mut tally) {
        return false;
    }
    hprintln!(
        "RESULT: {} passed, {} failed -> {}",
        tally.passed,
        tally.failed,
        if tally.failed == 0 { "PASS" } else { "FAIL" }
    );
    tally.failed == 0 && tally.passed > 0
}

/// One phase: a lock provisioned for `phase`, then its script. Not
/// inlined, so both phases' locks live in this frame in turn (one `Lock`
/// on the stack, not two: the Cortex-M0 has 16 KiB of RAM).
#[inline(never)]
fn run_phase(key: &DeviceKey, phase: &Phase, flash: &mut Flash, tally: &mut Tally) -> bool {
    hprintln!(
        "offpin lock firmware: {}, profile {} (format {}), {}-code memory, local time {}",
        board::NAME,
        phase.profile.name(),
        phase.profile.format(),
        MEMORY,
        phase.zone_name
    );
    // `ref mut`: the lock stays where `provision` put it (one copy of it on
    // the stack, not two).
    match provision(key, phase) {
        Some(ref mut lock) => script(key, phase, lock, flash, tally),
        None => false,
    }
}
