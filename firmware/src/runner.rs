//! Typing a phase's keypad script at its lock ([`script`]): the lock's
//! state provisioned, then each step in turn (an entry, a power loss or
//! cut, the memory filled, a flash writer's move), every decision checked
//! against the expected one, and the phase's figures printed at the end:
//! the instructions of the measured checks, the most guesses evaluated in
//! any 24 h next to the published bound, and the flash writes per entry.

use core::hint::black_box;

use cortex_m_semihosting::hprintln;
use offpin::DeviceKey;
use offpin::lock::Decision;

use crate::attacks::{cut_before_raise, put_back, version_1_image};
use crate::issued::FILL;
use crate::phases::Phase;
use crate::protocol::{Flash, enter, reboot};
use crate::report::{Expected, Guesses, Range, Rel, Shown, Tally, fatal, verdict};
use crate::script::Expect::Open;
use crate::script::{Step, matches};
use crate::timing::min_ticks;
use crate::{D, DoorLock, H, MEMORY, STATE_LEN};

/// Provisions the lock's state and types the phase's keypad script.
pub(crate) fn script(
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
