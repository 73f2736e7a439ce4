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

#![no_std]
#![no_main]
#![deny(unsafe_code)]

mod board;
#[cfg(feature = "group-keys")]
mod group;

use core::hint::black_box;

use cortex_m_rt::entry;
use cortex_m_semihosting::{debug, hprintln};
#[cfg(feature = "anti-peep")]
use offpin::ProfileParams;
use offpin::lock::{Change, ClockStatus, Decision, Lock};
use offpin::profile::shipped::{STANDARD_10, STANDARD_10_V2};
use offpin::{Codec, DeviceKey, Profile, Refusal, RevokeTarget, TzRule};
use panic_semihosting as _;

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
use issued::{
    CLEANER, CLEANING, CLOCK_FAR, CLOCK_NOW, DEVICE_KEY, FILL, HANDYMAN, ONCE, OWNER, REVOKE_OWNER,
    SERVICE, SERVICE_AT, SPRING, STAY, T0, T0_V2,
};
#[cfg(feature = "anti-peep")]
use issued::{OWNER_17, OWNER_FIRST, OWNER_HIDDEN};

/// Codes the lock can remember (the profile's `lock_memory`).
const MEMORY: usize = 64;
type DoorLock = Lock<MEMORY>;
const STATE_LEN: usize = DoorLock::STATE_LEN;
/// The Paris rule the v2 lock keeps (parsed at compile time: the image
/// holds its 28 bytes, not the parser).
const PARIS: TzRule = match TzRule::parse(b"CET-1CEST,M3.5.0,M10.5.0/3") {
    Ok(rule) => rule,
    Err(_) => panic!("not a TZ rule"),
};

/// One run of a script: the profile, the lock's local time, when script
/// time zero is, the steps and the codes to list.
struct Phase {
    profile: Profile,
    zone: TzRule,
    zone_name: &'static str,
    t0: i64,
    t0_text: &'static str,
    steps: &'static [Step],
    codes: &'static [&'static Code],
}

/// The v1 phase: offpin 0.1's profile, at UTC.
const V1: Phase = Phase {
    profile: STANDARD_10,
    zone: TzRule::UTC,
    zone_name: "UTC",
    t0: T0,
    t0_text: "2025-12-01T00:00Z",
    steps: SCRIPT,
    codes: &[&STAY, &CLEANING, &ONCE, &OWNER, &REVOKE_OWNER, &HANDYMAN],
};

/// The v2 phase: the format-v2 profile, in Paris (with DST).
const V2: Phase = Phase {
    profile: STANDARD_10_V2,
    zone: PARIS,
    zone_name: "Europe/Paris (CET-1CEST,M3.5.0,M10.5.0/3)",
    t0: T0_V2,
    t0_text: "2026-03-23T00:00Z",
    steps: SCRIPT_V2,
    codes: &[&CLEANER, &SPRING, &CLOCK_NOW, &CLOCK_FAR, &SERVICE],
};

const MIN: i64 = 60;
const H: i64 = 3_600;
const D: i64 = 86_400;

/// What the script expects a decision to be.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Expect {
    Open,
    Revoked,
    Refused(Refusal),
    /// A valid clock-setting code: the clock moves to the code's instant.
    ClockSet,
    /// A valid rolling service code.
    Service,
}

enum Step {
    /// Type `typed` at `T0 + at`; time the check under `measure`'s label.
    Type {
        at: i64,
        typed: &'static str,
        expect: Expect,
        measure: Option<&'static str>,
    },
    /// Power cut: rebuild the lock from the two saved image slots.
    PowerCut,
    /// Type the first `MEMORY` of the `FILL` one-time codes at `T0 + at`:
    /// every one opens and takes a memory slot.
    FillMemory { at: i64 },
    /// A power loss during which the lock's real-time clock stopped: the
    /// lock is rebuilt from its saved images, and its clock now reads
    /// `lag_secs` behind real time (script times stay real times).
    PowerLoss { lag_secs: i64 },
    /// `typed` (an insider's own code, which opens) at `T0 + at`, and a
    /// power cut after its check's image is written but before the
    /// counter is raised: a flash writer copies that image (the refund of
    /// the entry's charge) aside. The lock boots from it, refuses an entry
    /// before its start, and its start burns the image's counter.
    CutBeforeRaise { at: i64, typed: &'static str },
    /// The flash writer puts the image copied aside at the cut back over
    /// the newest slot: refused as rolled back (the guess typed since
    /// stays counted).
    PutBack,
    /// The flash writer offers a version-1 image (offpin 0.1's layout,
    /// unkeyed) in both slots after version-2 images were written: loading
    /// refuses it (`Version1`), and so does the migration
    /// (`AlreadyMigrated`, feature `lock-state-v1`).
    Version1Image,
}

const fn typed(at: i64, pin: &'static str, expect: Expect) -> Step {
    Step::Type {
        at,
        typed: pin,
        expect,
        measure: None,
    }
}

const fn measured(step: Step, label: &'static str) -> Step {
    match step {
        Step::Type {
            at, typed, expect, ..
        } => Step::Type {
            at,
            typed,
            expect,
            measure: Some(label),
        },
        other => other,
    }
}

const fn wrong(at: i64, digits: &'static str) -> Step {
    typed(at, digits, Refused(Refusal::InvalidCode))
}

use Expect::{ClockSet, Open, Refused, Revoked, Service};

/// When the memory-full phase types its codes: 2025-12-05 22:00, inside the
/// use window of every `FILL` code.
const FILL_AT: i64 = 4 * D + 22 * H;

/// When the insider phase starts: 2025-12-04 23:00.
const INSIDER_AT: i64 = 3 * D + 23 * H;

/// The keypad script. Times are after `T0` (2025-12-01T00:00Z); the lock's
/// profile has a 10-minute clock grace, a 24 h activation window, a
/// back-off of 5 minutes after 5 consecutive refused entries (an opening
/// resets the count; a revocation code neither counts nor resets) and a
/// guess budget of 10 refused entries, one more per hour, that nothing but
/// time refills.
const SCRIPT: &[Step] = &[
    // The stay starts at 15:00: too early at 14:00 (failure 1).
    typed(14 * H, STAY.pin, Refused(Refusal::NotYetValid)),
    // First use within 24 h of the start: opens and activates (resets).
    typed(15 * H + 30 * MIN, STAY.pin, Open),
    // The cleaner's 4-hour window on Dec 2.
    typed(
        D + 9 * H + 40 * MIN,
        CLEANING.pin,
        Refused(Refusal::NotYetValid),
    ),
    typed(D + 11 * H, CLEANING.pin, Open),
    typed(
        D + 14 * H + 11 * MIN,
        CLEANING.pin,
        Refused(Refusal::Expired),
    ),
    // Day 3, past the activation window: opens because it is remembered.
    measured(typed(2 * D + 9 * H, STAY.pin, Open), "valid"),
    // A one-time code: opens once, then is refused.
    typed(2 * D + 10 * H + 5 * MIN, ONCE.pin, Open),
    typed(
        2 * D + 10 * H + 6 * MIN,
        ONCE.pin,
        Refused(Refusal::AlreadyUsed),
    ),
    // Power cut: the state comes back from "flash".
    Step::PowerCut,
    typed(
        2 * D + 10 * H + 7 * MIN,
        ONCE.pin,
        Refused(Refusal::AlreadyUsed),
    ),
    typed(2 * D + 11 * H, STAY.pin, Open),
    // Check-out was 11:00 on Dec 4 (plus the 10-minute grace).
    typed(
        3 * D + 11 * H + 30 * MIN,
        STAY.pin,
        Refused(Refusal::Expired),
    ),
    // The owner's ongoing code, then its revocation code.
    typed(3 * D + 12 * H, OWNER.pin, Open),
    typed(3 * D + 12 * H + MIN, REVOKE_OWNER.pin, Revoked),
    typed(
        3 * D + 12 * H + 2 * MIN,
        OWNER.pin,
        Refused(Refusal::Revoked),
    ),
    // Another ongoing code opens (and resets the failure count).
    typed(3 * D + 12 * H + 3 * MIN, HANDYMAN.pin, Open),
    // Five wrong entries (one too short): the fifth locks the keypad for
    // 5 minutes.
    measured(wrong(3 * D + 12 * H + 10 * MIN, "1234567890"), "invalid"),
    wrong(3 * D + 12 * H + 10 * MIN + 20, "0000000000"),
    // A real PIN of the README's example lock: another key, so invalid.
    wrong(3 * D + 12 * H + 10 * MIN + 40, "5885699541"),
    wrong(3 * D + 12 * H + 11 * MIN, "19700101"),
    wrong(3 * D + 12 * H + 11 * MIN + 20, "9999999999"),
    // A valid PIN during the lock-out is refused without being decoded.
    measured(
        typed(
            3 * D + 12 * H + 14 * MIN,
            HANDYMAN.pin,
            Refused(Refusal::LockedOut),
        ),
        "locked out",
    ),
    // After the lock-out it opens again.
    typed(3 * D + 12 * H + 16 * MIN + 30, HANDYMAN.pin, Open),
    // The insider, at 23:00, the budget full again (10 failures, the
    // hours since the last ones refilled it): the handyman types 4
    // guesses, then his own code (which resets the back-off, and gets its
    // own charge back), twice, then 2 more guesses: the budget is spent.
    // Everything is refused unseen from then on, his own code too, until
    // the next failure is banked an hour after the first guess.
    wrong(INSIDER_AT, "1111111111"),
    wrong(INSIDER_AT + 3, "2222222222"),
    wrong(INSIDER_AT + 6, "3333333333"),
    wrong(INSIDER_AT + 9, "4444444444"),
    typed(INSIDER_AT + 12, HANDYMAN.pin, Open),
    wrong(INSIDER_AT + 15, "5555555555"),
    wrong(INSIDER_AT + 18, "6666666666"),
    wrong(INSIDER_AT + 21, "7777777777"),
    wrong(INSIDER_AT + 24, "8888888888"),
    typed(INSIDER_AT + 27, HANDYMAN.pin, Open),
    wrong(INSIDER_AT + 30, "9999999999"),
    wrong(INSIDER_AT + 33, "1515151515"),
    typed(INSIDER_AT + 36, "1313131313", Refused(Refusal::LockedOut)),
    typed(INSIDER_AT + 39, HANDYMAN.pin, Refused(Refusal::LockedOut)),
    typed(
        INSIDER_AT + 59 * MIN,
        HANDYMAN.pin,
        Refused(Refusal::LockedOut),
    ),
    // 00:00: one failure banked; a guess spends it again.
    wrong(INSIDER_AT + H, "1414141414"),
    typed(
        INSIDER_AT + H + 3,
        HANDYMAN.pin,
        Refused(Refusal::LockedOut),
    ),
    // 01:00: the next one; the handyman opens, and keeps it.
    typed(INSIDER_AT + 2 * H, HANDYMAN.pin, Open),
    typed(INSIDER_AT + 2 * H + 3, HANDYMAN.pin, Open),
    // Memory full: 64 one-time codes in use, none expired. A 65th valid
    // one is refused (a used code is never evicted), and a used one is
    // still refused, wherever it sits in memory.
    Step::FillMemory { at: FILL_AT },
    measured(
        typed(FILL_AT + MIN, FILL[MEMORY], Refused(Refusal::MemoryFull)),
        "valid, memory full: 64 live entries scanned",
    ),
    typed(FILL_AT + 2 * MIN, FILL[0], Refused(Refusal::AlreadyUsed)),
    measured(
        typed(
            FILL_AT + 3 * MIN,
            FILL[MEMORY - 1],
            Refused(Refusal::AlreadyUsed),
        ),
        "used one-time code, memory full",
    ),
    // A day later the 65th code's use window is over.
    typed(FILL_AT + D + 3 * H, FILL[MEMORY], Refused(Refusal::Expired)),
    typed(FILL_AT + D + 3 * H + MIN, HANDYMAN.pin, Open),
    // Issue 17's trick, by an insider with a flash writer and power
    // control: their own code, the power cut after the refund image is
    // written and before the counter is raised, the refund image kept
    // aside; a guess; the refund image put back to forget the guess. The
    // start after the cut burnt the refund image's counter: refused.
    Step::CutBeforeRaise {
        at: FILL_AT + D + 4 * H,
        typed: HANDYMAN.pin,
    },
    wrong(FILL_AT + D + 4 * H + MIN, "2468024680"),
    Step::PutBack,
    // A version-1 image after version-2 writes: never loaded.
    Step::Version1Image,
];

/// The v2 keypad script. Times are real times after `T0_V2`
/// (2026-03-23T00:00Z, Monday 01:00 in Paris); Paris moves from +01:00
/// to +02:00 on 2026-03-29 at 01:00Z (day 6). `CLEANER` is weekdays
/// 08:00-12:00 Paris time for 13 weeks from this Monday; `SPRING` a daily
/// window of 35 local days from Saturday 28 March.
const SCRIPT_V2: &[Step] = &[
    // Tuesday 24 March, 08:30 CET: inside; 12:30 CET: outside.
    measured(
        typed(D + 7 * H + 30 * MIN, CLEANER.pin, Open),
        "recurring, inside",
    ),
    typed(
        D + 11 * H + 30 * MIN,
        CLEANER.pin,
        Refused(Refusal::OutsideSchedule),
    ),
    // The daily window starts at local midnight, 23:00Z on Friday (less
    // the 10-minute grace): at 23:49 CET it is not yet valid.
    typed(
        4 * D + 22 * H + 49 * MIN,
        SPRING.pin,
        Refused(Refusal::NotYetValid),
    ),
    // Saturday 28 March at 10:00 CET: not a weekday for the cleaner; the
    // daily window opens (and is activated).
    typed(
        5 * D + 9 * H,
        CLEANER.pin,
        Refused(Refusal::OutsideSchedule),
    ),
    typed(5 * D + 9 * H + MIN, SPRING.pin, Open),
    // Tuesday 31 March, after the change: 08:30 CEST is 06:30Z, inside
    // (a lock on a fixed +01:00 would read 07:30 and refuse it).
    typed(8 * D + 6 * H + 30 * MIN, CLEANER.pin, Open),
    // The window's last local day ends at midnight CEST (22:00Z on 1
    // May): open at 23:55 CEST, expired at 00:11 (plus the grace).
    typed(39 * D + 21 * H + 55 * MIN, SPRING.pin, Open),
    typed(
        39 * D + 22 * H + 11 * MIN,
        SPRING.pin,
        Refused(Refusal::Expired),
    ),
    // A rolling service code from an authenticator app: opens once.
    measured(
        typed(SERVICE_AT + 5, SERVICE.pin, Service),
        "service code (3 HMAC-SHA1)",
    ),
    typed(SERVICE_AT + 10, SERVICE.pin, Refused(Refusal::AlreadyUsed)),
    // A power loss: the clock stopped for two days. On Monday 4 May at
    // 08:30 CEST the lock believes it is Saturday and refuses the cleaner.
    Step::PowerLoss { lag_secs: 2 * D },
    typed(
        42 * D + 6 * H + 30 * MIN,
        CLEANER.pin,
        Refused(Refusal::OutsideSchedule),
    ),
    // The technician types the clock code of 06:30Z: the clock moves
    // forward two days (the firmware then sets its RTC to it).
    typed(42 * D + 6 * H + 31 * MIN, CLOCK_NOW.pin, ClockSet),
    typed(42 * D + 6 * H + 32 * MIN, CLEANER.pin, Open),
    // Each clock code works once, and never more than 7 days ahead.
    typed(
        42 * D + 6 * H + 33 * MIN,
        CLOCK_NOW.pin,
        Refused(Refusal::Expired),
    ),
    typed(
        42 * D + 6 * H + 34 * MIN,
        CLOCK_FAR.pin,
        Refused(Refusal::NotYetValid),
    ),
];

/// The anti-peep phase (feature `anti-peep`): `standard-10` searching
/// entries of up to 16 keys for a PIN typed among extra digits, at UTC.
/// The bound is policy, not format: the PINs are `standard-10`'s.
#[cfg(feature = "anti-peep")]
const STANDARD_10_ANTI_PEEP: Profile = match Profile::new(ProfileParams {
    name: "standard-10 (anti-peep, 16 keys)",
    entry_max_digits: 16,
    ..STANDARD_10.params()
}) {
    Ok(p) => p,
    Err(e) => e.panic_const(),
};

#[cfg(feature = "anti-peep")]
const ANTI_PEEP: Phase = Phase {
    profile: STANDARD_10_ANTI_PEEP,
    zone: TzRule::UTC,
    zone_name: "UTC",
    t0: T0,
    t0_text: "2025-12-01T00:00Z",
    steps: SCRIPT_ANTI_PEEP,
    codes: &[&OWNER, &OWNER_HIDDEN, &OWNER_FIRST, &OWNER_17],
};

/// The anti-peep script: the owner's PIN inside 16 keys opens (the
/// entry tested two other PINs first: one failure of the budget), first
/// in 16 keys opens (its charge refunded), inside 17 keys is refused; 16
/// keys with no PIN in them are one refusal, not seven.
#[cfg(feature = "anti-peep")]
const SCRIPT_ANTI_PEEP: &[Step] = &[
    measured(
        typed(H, OWNER_HIDDEN.pin, Open),
        "anti-peep: PIN at position 2 of 16 keys",
    ),
    typed(H + MIN, OWNER_FIRST.pin, Open),
    typed(H + 2 * MIN, OWNER_17.pin, Refused(Refusal::InvalidCode)),
    measured(
        wrong(H + 3 * MIN, "3141592653589793"),
        "anti-peep: 16 keys, no PIN (7 windows)",
    ),
];

/// The phases the firmware runs, each on a new lock.
#[cfg(feature = "anti-peep")]
const PHASES: [&Phase; 3] = [&V1, &V2, &ANTI_PEEP];
#[cfg(not(feature = "anti-peep"))]
const PHASES: [&Phase; 2] = [&V1, &V2];

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

/// Prints why the run cannot go on and reports failure.
fn fatal(what: &str, err: &dyn core::fmt::Debug) -> bool {
    hprintln!("FATAL: {}: {:?}", what, err);
    false
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

/// Provisions the lock's state and types the phase's keypad script.
fn script(
    key: &DeviceKey,
    phase: &Phase,
    lock: &mut DoorLock,
    flash: &mut Flash,
    tally: &mut Tally,
) -> bool {
    let t0 = phase.t0;
    // A new lock: blank slots and its own monotonic counter at 0.
    flash.slots = [[0; STATE_LEN]; 2];
    flash.counter = 0;
    if let Err(e) = lock.save(&mut flash.slots[0]) {
        return fatal("Lock::save", &e);
    }
    let provision = lock.observe_clock(t0);
    if !flash.persist_and_commit(lock, provision) {
        return false;
    }
    hprintln!(
        "provisioned at {} ({}): Lock<{}> is {} bytes of RAM (key schedule, profile, state); its image is {} bytes (AES-CMAC, rollback counter {}), kept in 2 slots",
        Rel(0),
        phase.t0_text,
        MEMORY,
        core::mem::size_of::<DoorLock>(),
        STATE_LEN,
        lock.rollback_counter()
    );
    hprintln!("codes issued by the server (build.rs, on the host):");
    for c in phase.codes {
        hprintln!("  {:<13} {}  {}", c.name, c.pin, c.what);
    }

    let baseline = min_ticks(|| {
        black_box(());
    });
    let mut guesses = Guesses::default();
    let mut entry = 0u32;
    // How far the lock's clock reads behind real time (a power loss that
    // stopped it), until a clock-setting code sets it.
    let mut lag = 0i64;
    // (label, ticks) of the measured entries, in script order.
    let mut measured: [Option<(&str, u32)>; 8] = [None; 8];
    let mut n_measured = 0;
    for step in phase.steps {
        match *step {
            Step::Type {
                at,
                typed,
                expect,
                measure,
            } => {
                entry += 1;
                let Some((decision, ticks, writes)) = enter(lock, flash, typed, t0 + at - lag)
                else {
                    return false;
                };
                if let Decision::ClockSet { to } = decision {
                    // The firmware sets its real-time clock to `to`.
                    lag = t0 + at - to;
                }
                guesses.record(decision, at, writes);
                let good = tally.record(matches(decision, expect));
                hprintln!(
                    "entry {}: {} at {} -> {} [expected: {}] {}  ({} ticks, {} writes)",
                    entry,
                    typed,
                    Rel(at),
                    Shown(decision),
                    Expected(expect),
                    verdict(good),
                    ticks.saturating_sub(baseline),
                    writes
                );
                if let (Some(label), Some(slot)) = (measure, measured.get_mut(n_measured)) {
                    *slot = Some((label, ticks.saturating_sub(baseline)));
                    n_measured += 1;
                }
            }
            Step::PowerLoss { lag_secs } => {
                let before = lock.sequence();
                if !reboot(key, phase, lock, flash) {
                    return false;
                }
                lag = lag_secs;
                // Loaded at `before`, then started: its state written again.
                let good = tally.record(lock.sequence() == before + 1 && lock.is_started());
                hprintln!(
                    "power loss: lock rebuilt from its saved images and started (sequence {} [expected: {}] {}); its clock now reads {} h behind real time",
                    lock.sequence(),
                    before + 1,
                    verdict(good),
                    lag / H
                );
            }
            Step::PowerCut => {
                let before = lock.sequence();
                if !reboot(key, phase, lock, flash) {
                    return false;
                }
                // Loaded at `before`, then started: its state written again
                // as the next image, with the counter raised to it.
                let good = tally.record(lock.sequence() == before + 1 && lock.is_started());
                hprintln!(
                    "power cut: lock rebuilt from the newest authentic image of its 2 slots not older than the counter (sequence {}), then started (written again, counter raised to {}): sequence {} [expected: {}] {}",
                    before,
                    flash.counter,
                    lock.sequence(),
                    before + 1,
                    verdict(good)
                );
                // The other slot holds the image loaded, older than the
                // start's: put back by someone who can write the flash, it
                // is refused, and the lock keeps its state.
                let before = lock.sequence();
                let older = usize::from(lock.sequence().is_multiple_of(2));
                let rollback = lock.load_newest_into(&[&flash.slots[older]], flash.counter);
                let good = tally.record(
                    matches!(rollback, Err(offpin::PersistError::RolledBack { .. }))
                        && lock.sequence() == before
                        && lock.is_started(),
                );
                hprintln!(
                    "rollback: the older image (slot {}) put back alone -> {}, sequence {} [expected: refused, rolled back, sequence {}] {}",
                    older,
                    match &rollback {
                        Ok(()) => "loaded",
                        Err(offpin::PersistError::RolledBack { .. }) => "refused, rolled back",
                        Err(_) => "refused (other)",
                    },
                    lock.sequence(),
                    before,
                    verdict(good)
                );
            }
            Step::CutBeforeRaise { at, typed } => {
                entry += 1;
                if !cut_before_raise(key, phase, lock, flash, tally, typed, t0 + at - lag) {
                    return false;
                }
            }
            Step::PutBack => put_back(lock, flash, tally),
            Step::Version1Image => version_1_image(phase, lock, flash, tally),
            Step::FillMemory { at } => {
                let first = entry + 1;
                let (mut opened, mut lo, mut hi) = (0usize, u32::MAX, 0u32);
                for pin in FILL.iter().take(MEMORY) {
                    entry += 1;
                    let Some((decision, ticks, writes)) = enter(lock, flash, pin, t0 + at) else {
                        return false;
                    };
                    guesses.record(decision, at, writes);
                    opened += usize::from(matches(decision, Open));
                    lo = lo.min(ticks.saturating_sub(baseline));
                    hi = hi.max(ticks.saturating_sub(baseline));
                }
                let good = tally.record(opened == MEMORY && lock.free_memory(t0 + at) == 0);
                hprintln!(
                    "entries {}-{}: {} one-time codes at {} -> {} open, {} memory slots free [expected: {} open, 0 free] {}  ({}..{} ticks)",
                    first,
                    entry,
                    MEMORY,
                    Rel(at),
                    opened,
                    lock.free_memory(t0 + at),
                    MEMORY,
                    verdict(good),
                    lo,
                    hi
                );
            }
        }
    }

    // Calibration: `cortex_m::asm::delay(n)` runs n + 1 iterations of
    // `subs; bne`, i.e. 2n + 2 instructions.
    const N: u32 = 1_000_000;
    let cal = min_ticks(|| cortex_m::asm::delay(black_box(N)))
        .saturating_sub(baseline)
        .max(1);
    let cal_instr = 2 * u64::from(N) + 2;
    let instr = |ticks: u32| u64::from(ticks) * cal_instr / u64::from(cal);
    hprintln!(
        "calibration: a loop of {} instructions took {} counter ticks ({}.{:02} instructions per tick)",
        cal_instr,
        cal,
        cal_instr / u64::from(cal),
        (cal_instr * 100 / u64::from(cal)) % 100
    );
    hprintln!("empty measurement: {} ticks (subtracted)", baseline);
    for (label, ticks) in measured.iter().flatten() {
        hprintln!(
            "check({}): {} ticks = ~{} instructions",
            label,
            ticks,
            instr(*ticks)
        );
    }
    let most = guesses.most_in(D);
    let bound = offpin::security::attempts_in(&phase.profile, D);
    let good = tally.record(most as u64 <= bound);
    hprintln!(
        "guesses: {} refused entries evaluated, at most {} in any 24 h (the insider's included) [published bound: {} a day] {}",
        guesses.n,
        most,
        bound,
        verdict(good)
    );
    hprintln!(
        "flash writes per entry (count-before-check): failed {}, opened {}, locked out {}; {} images written, rollback counter {}",
        Range(guesses.writes[0]),
        Range(guesses.writes[1]),
        Range(guesses.writes[2]),
        flash.writes,
        flash.counter
    );
    true
}

/// Provisioning: the device key goes into the lock's key store once. Not
/// inlined (nor [`reboot`], nor [`enter`]): the temporaries of building a
/// `Lock` (a `Codec`, a `Result` holding a `Lock`) live in this frame only
/// while it runs, instead of in `run`'s for the whole script, which keeps
/// the peak stack within the Cortex-M0 board's 16 KiB of RAM.
#[inline(never)]
fn provision(key: &DeviceKey, phase: &Phase) -> Option<DoorLock> {
    match Codec::new(key, phase.profile) {
        Ok(c) => match DoorLock::new(c, phase.zone) {
            Ok(l) => Some(l),
            Err(e) => {
                fatal("Lock::new", &e);
                None
            }
        },
        Err(e) => {
            fatal("Codec::new", &e);
            None
        }
    }
}

/// A power cut and a boot: [`load`], then the start persisted like any
/// change (`Lock::start`: the loaded state written again to the next slot,
/// the counter raised to its image's, the change committed), after which
/// the lock decides.
#[inline(never)]
fn reboot(key: &DeviceKey, phase: &Phase, lock: &mut DoorLock, flash: &mut Flash) -> bool {
    if !load(key, phase, lock, flash) {
        return false;
    }
    let start = lock.start();
    flash.persist_and_commit(lock, start)
}

/// The first half of a boot: the lock in RAM is replaced by a fresh one
/// built from the key store ([`rebuild`]), whose state is then read in
/// place from the newest authentic image of the two slots not older than
/// the hardware counter (`Lock::load_newest_into`: no second state on the
/// stack). The lock is not started: it refuses every entry.
#[inline(never)]
fn load(key: &DeviceKey, phase: &Phase, lock: &mut DoorLock, flash: &Flash) -> bool {
    if !rebuild(key, phase, lock) {
        return false;
    }
    match lock.load_newest_into(&[&flash.slots[0], &flash.slots[1]], flash.counter) {
        Ok(()) => true,
        Err(e) => fatal("Lock::load_newest_into", &e),
    }
}

/// The first half of [`reboot`]: the lock in RAM replaced by a fresh one
/// from the key store, written over it (one `Lock` in this frame, not a
/// second one in `reboot`'s).
#[inline(never)]
fn rebuild(key: &DeviceKey, phase: &Phase, lock: &mut DoorLock) -> bool {
    match Codec::new(key, phase.profile) {
        Ok(c) => match DoorLock::new(c, phase.zone) {
            Ok(fresh) => {
                *lock = fresh;
                true
            }
            Err(e) => fatal("Lock::new", &e),
        },
        Err(e) => fatal("Codec::new", &e),
    }
}

/// Counts the decisions that were (not) the expected ones.
#[derive(Default)]
struct Tally {
    passed: u32,
    failed: u32,
}

impl Tally {
    fn record(&mut self, good: bool) -> bool {
        if good {
            self.passed += 1;
        } else {
            self.failed += 1;
        }
        good
    }
}

/// The bytes of a version-1 image of a `Lock<MEMORY>` (offpin 0.1's
/// layout: `316 + 18 × MEMORY`, `src/lock/persist.rs`).
const V1_LEN: usize = 316 + 18 * MEMORY;
const _: () = assert!(V1_LEN >= STATE_LEN);

/// The "flash": two image slots, the monotonic hardware counter (a counter
/// page, simulated) and how many images were written; and what a flash
/// writer keeps aside (an image copied at a power cut, or a version-1
/// image it made).
struct Flash {
    slots: [[u8; STATE_LEN]; 2],
    counter: u32,
    writes: u32,
    aside: [u8; V1_LEN],
}

impl Flash {
    /// Writes the image after `change` to its slot (`image_sequence % 2`)
    /// and returns the slot; the counter is not raised yet.
    fn write(&mut self, lock: &DoorLock, change: &Change) -> Option<usize> {
        let slot = usize::from(change.image_sequence() % 2 == 1);
        if let Err(e) = lock.save_after(change, &mut self.slots[slot]) {
            fatal("Lock::save_after", &e);
            return None;
        }
        self.writes += 1;
        Some(slot)
    }

    /// The order every change takes: its image to the next slot if it
    /// needs a write, then the monotonic counter raised to the image's
    /// counter (the lock chose it: `Change::counter`), then the commit.
    fn persist_and_commit(&mut self, lock: &mut DoorLock, change: Change) -> bool {
        if change.needs_write() {
            if self.write(lock, &change).is_none() {
                return false;
            }
            // Raised after the image is written; a monotonic counter
            // never goes down.
            self.counter = self.counter.max(change.counter());
        }
        if let Err(e) = lock.commit(change) {
            return fatal("Lock::commit", &e);
        }
        true
    }
}

/// [`Step::CutBeforeRaise`]: `typed` charged and checked at `now`; its
/// check's image written, then the power cut (no counter raise, no commit,
/// the door never moves) with the image copied aside ([`write_unraised`]);
/// the boot, an entry before the start, the start.
#[inline(never)]
fn cut_before_raise(
    key: &DeviceKey,
    phase: &Phase,
    lock: &mut DoorLock,
    flash: &mut Flash,
    tally: &mut Tally,
    typed: &str,
    now: i64,
) -> bool {
    let Some((opened, seq, counter)) = write_unraised(lock, flash, typed, now) else {
        return false;
    };
    // The counter as the charge raised it; the check's image is not.
    let hw = flash.counter;
    let good = tally.record(opened && counter == hw + 1);
    hprintln!(
        "power cut between an image write and the counter raise: {} opens (not acted on), its image (sequence {}, counter {}) written, the hardware counter left at {} [expected: counter {}] {}; a flash writer copies that image aside",
        typed,
        seq,
        counter,
        hw,
        hw + 1,
        verdict(good)
    );
    if !load(key, phase, lock, flash) {
        return false;
    }
    let loaded = lock.sequence();
    let early = decision_only(lock, typed, now + 30);
    let good = tally.record(
        loaded == seq && !lock.is_started() && matches(early, Refused(Refusal::NotStarted)),
    );
    hprintln!(
        "boot: the unraised image loads (sequence {} [expected: {}]); before its start {} -> {} [expected: refused not_started] {}",
        loaded,
        seq,
        typed,
        Shown(early),
        verdict(good)
    );
    let start = lock.start();
    if !flash.persist_and_commit(lock, start) {
        return false;
    }
    let good =
        tally.record(lock.is_started() && lock.sequence() == seq + 1 && flash.counter == counter);
    hprintln!(
        "start: sequence {}, hardware counter raised to {} [expected: sequence {}, counter {}]: the copied image's counter is burnt {}",
        lock.sequence(),
        flash.counter,
        seq + 1,
        counter,
        verdict(good)
    );
    true
}

/// The first half of [`cut_before_raise`]: `typed` charged (persisted and
/// committed) and checked at `now`, its check's image written and copied
/// aside, nothing raised or committed. Whether it opened with an image to
/// write, and that image's sequence number and counter. Not inlined: its
/// `Check` is off the stack before the boot (the Cortex-M0's 16 KiB).
#[inline(never)]
fn write_unraised(
    lock: &mut DoorLock,
    flash: &mut Flash,
    typed: &str,
    now: i64,
) -> Option<(bool, u64, u32)> {
    let charge = lock.charge(now);
    if !flash.persist_and_commit(lock, charge) {
        return None;
    }
    let check = lock.check(typed.as_bytes(), now);
    let opened = matches(check.decision, Open) && check.change.needs_write();
    let slot = flash.write(lock, &check.change)?;
    // Power cut: the counter is not raised, nothing is committed.
    flash.aside[..STATE_LEN].copy_from_slice(&flash.slots[slot]);
    Some((
        opened,
        check.change.image_sequence(),
        check.change.counter(),
    ))
}

/// What `lock` decides for `typed` at `now`, its change dropped (not
/// inlined: the `Check` stays out of the caller's frame).
#[inline(never)]
fn decision_only(lock: &DoorLock, typed: &str, now: i64) -> Decision {
    lock.check(typed.as_bytes(), now).decision
}

/// [`Step::PutBack`]: the image copied aside at the cut written over the
/// newest slot (the guess's charge), the other slot (the start's) kept.
fn put_back(lock: &mut DoorLock, flash: &Flash, tally: &mut Tally) {
    let before = lock.sequence();
    let other = usize::from(before.is_multiple_of(2));
    let back = lock.load_newest_into(
        &[&flash.aside[..STATE_LEN], &flash.slots[other]],
        flash.counter,
    );
    let good = tally.record(
        matches!(back, Err(offpin::PersistError::RolledBack { .. }))
            && lock.sequence() == before
            && lock.is_started(),
    );
    hprintln!(
        "rollback after the cut: the copied image put back over the newest slot -> {}, sequence {} [expected: refused, rolled back, sequence {}; the guess stays counted] {}",
        Loaded(&back),
        lock.sequence(),
        before,
        verdict(good)
    );
}

/// [`Step::Version1Image`]: a version-1 image of this lock's profile and
/// capacity (offpin 0.1's header, sequence `u64::MAX`; nobody needs a key
/// to write one) offered in both slots after version-2 images were
/// written.
fn version_1_image(phase: &Phase, lock: &mut DoorLock, flash: &mut Flash, tally: &mut Tally) {
    let before = lock.sequence();
    let v1 = &mut flash.aside;
    v1.fill(0);
    v1[..4].copy_from_slice(b"OPL\x01");
    v1[4..12].copy_from_slice(&phase.profile.tweak());
    v1[12..14].copy_from_slice(&(MEMORY as u16).to_be_bytes());
    v1[14] = 1;
    v1[15..23].copy_from_slice(&u64::MAX.to_be_bytes());
    let v1 = &flash.aside;
    let loaded = lock.load_newest_into(&[v1, v1], flash.counter);
    let good = tally
        .record(matches!(loaded, Err(offpin::PersistError::Version1)) && lock.sequence() == before);
    hprintln!(
        "a version-1 image in both slots after version-2 writes: load -> {} [expected: refused, version 1] {}",
        Loaded(&loaded),
        verdict(good)
    );
    #[cfg(feature = "lock-state-v1")]
    {
        // The migration path of the one firmware release that migrates:
        // with the hardware counter, and as a lock without one (counter 0)
        // that still holds a version-2 image in a slot.
        let newest = usize::from(before % 2 == 1);
        for (what, images, counter) in [
            ("with the counter", [&v1[..], &v1[..]], flash.counter),
            (
                "without a counter, a version-2 slot left",
                [&v1[..], &flash.slots[newest][..]],
                0,
            ),
        ] {
            let migrated = lock.migrate_v1_into(&images, counter);
            let good = tally.record(
                matches!(migrated, Err(offpin::PersistError::AlreadyMigrated))
                    && lock.sequence() == before,
            );
            hprintln!(
                "  the migration ({}) -> {} [expected: refused, already migrated] {}",
                what,
                Loaded(&migrated),
                verdict(good)
            );
        }
    }
}

/// The outcome of a load, for the report.
struct Loaded<'a>(&'a Result<(), offpin::PersistError>);

impl core::fmt::Display for Loaded<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        use offpin::PersistError as E;
        match self.0 {
            Ok(()) => f.write_str("loaded"),
            Err(E::RolledBack { image, counter }) => write!(
                f,
                "refused, rolled back (image counter {image} < hardware counter {counter})"
            ),
            Err(E::Version1) => f.write_str("refused, version 1"),
            Err(E::AlreadyMigrated) => f.write_str("refused, already migrated"),
            Err(e) => write!(f, "refused ({e:?})"),
        }
    }
}

/// One keypad entry at the lock's clock reading `now`, count-before-check: the charge is
/// persisted first, then `check` is timed (the fewest ticks of a few runs;
/// it mutates nothing), then its change is persisted if it needs it and
/// committed, and the decision is returned to act on, with the number of
/// images written. `None` when the state could not be persisted or
/// committed (reported).
#[inline(never)]
fn enter(
    lock: &mut DoorLock,
    flash: &mut Flash,
    typed: &str,
    now: i64,
) -> Option<(Decision, u32, u32)> {
    let writes = flash.writes;
    let charge = lock.charge(now);
    if !flash.persist_and_commit(lock, charge) {
        return None;
    }
    let shared = &*lock;
    let ticks = min_ticks(|| {
        let _timed = black_box(shared.check(black_box(typed.as_bytes()), black_box(now)));
    });
    let check = lock.check(typed.as_bytes(), now);
    if check.clock != ClockStatus::Ok {
        hprintln!("clock reported as {:?}", check.clock);
        return None;
    }
    // Persist, commit, and only then act on the decision.
    if !flash.persist_and_commit(lock, check.change) {
        return None;
    }
    Some((check.decision, ticks, flash.writes - writes))
}

/// The refused entries the lock evaluated (a guess budget's worth of
/// times), and the writes each kind of entry cost.
struct Guesses {
    times: [i64; 64],
    n: usize,
    /// (fewest, most) writes of failed, opened and locked-out entries.
    writes: [Option<(u32, u32)>; 3],
}

impl Default for Guesses {
    fn default() -> Self {
        Guesses {
            times: [0; 64],
            n: 0,
            writes: [None; 3],
        }
    }
}

impl Guesses {
    fn record(&mut self, decision: Decision, at: i64, writes: u32) {
        let kind = match decision {
            Decision::Refuse(Refusal::LockedOut) => 2,
            Decision::Refuse(Refusal::MemoryFull)
            | Decision::Revoked(_)
            | Decision::ClockSet { .. } => return,
            Decision::Refuse(_) => {
                if let Some(t) = self.times.get_mut(self.n) {
                    *t = at;
                }
                self.n += 1;
                0
            }
            Decision::Open(_) | Decision::Service { .. } => 1,
        };
        if let Some(w) = self.writes.get_mut(kind) {
            *w = Some(w.map_or((writes, writes), |(lo, hi)| {
                (lo.min(writes), hi.max(writes))
            }));
        }
    }

    /// The most evaluated refusals in any `len` seconds.
    fn most_in(&self, len: i64) -> usize {
        let times = self.times.get(..self.n.min(64)).unwrap_or_default();
        times
            .iter()
            .enumerate()
            .map(|(i, start)| {
                times
                    .get(i..)
                    .unwrap_or_default()
                    .iter()
                    .take_while(|t| **t < start + len)
                    .count()
            })
            .max()
            .unwrap_or(0)
    }
}

/// A (fewest, most) pair, printed as `n` or `lo..hi`.
struct Range(Option<(u32, u32)>);

impl core::fmt::Display for Range {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self.0 {
            None => f.write_str("-"),
            Some((lo, hi)) if lo == hi => write!(f, "{lo}"),
            Some((lo, hi)) => write!(f, "{lo}..{hi}"),
        }
    }
}

/// The fewest counter ticks `f` took in a few runs.
fn min_ticks(mut f: impl FnMut()) -> u32 {
    let mut best = u32::MAX;
    for _ in 0..3 {
        let start = board::ticks();
        black_box(());
        f();
        black_box(());
        let end = board::ticks();
        best = best.min(end.wrapping_sub(start) & board::TICK_MASK);
    }
    best
}

fn matches(decision: Decision, expect: Expect) -> bool {
    match (decision, expect) {
        (Decision::Open(_), Expect::Open) => true,
        (Decision::Revoked(_), Expect::Revoked) => true,
        (Decision::Refuse(r), Expect::Refused(e)) => r == e,
        (Decision::ClockSet { .. }, Expect::ClockSet) => true,
        (Decision::Service { .. }, Expect::Service) => true,
        _ => false,
    }
}

const fn verdict(good: bool) -> &'static str {
    if good { "OK" } else { "MISMATCH" }
}

/// A time after `T0`, as `+1d09h05` (plus `:ss` when not on a minute).
struct Rel(i64);

impl core::fmt::Display for Rel {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let t = self.0;
        write!(f, "+{}d{:02}h{:02}", t / D, t % D / H, t % H / MIN)?;
        if t % MIN != 0 {
            write!(f, ":{:02}", t % MIN)?;
        }
        Ok(())
    }
}

struct Shown(Decision);

impl core::fmt::Display for Shown {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self.0 {
            Decision::Open(g) => write!(f, "open ({})", g.kind().name()),
            Decision::Revoked(RevokeTarget::Slot(s)) => write!(f, "revoked (slot {s})"),
            Decision::Revoked(RevokeTarget::StartedBefore { hour }) => {
                write!(f, "revoked (before hour {hour})")
            }
            Decision::Refuse(r) => write!(f, "refused ({})", r.code()),
            Decision::ClockSet { to } => write!(f, "clock set (to Unix time {to})"),
            Decision::Service { counter } => write!(f, "open (service code, counter {counter})"),
        }
    }
}

struct Expected(Expect);

impl core::fmt::Display for Expected {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self.0 {
            Expect::Open => f.write_str("open"),
            Expect::Revoked => f.write_str("revoked"),
            Expect::Refused(r) => write!(f, "refused {}", r.code()),
            Expect::ClockSet => f.write_str("clock set"),
            Expect::Service => f.write_str("open (service code)"),
        }
    }
}
