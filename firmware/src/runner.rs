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

use crate::attacks::{cut_before_raise, older_image_back, put_back, version_1_image};
use crate::issued::FILL;
use crate::phases::Phase;
use crate::protocol::{Flash, enter, reboot};
use crate::report::{Expected, Guesses, Range, Rel, Shown, Tally, fatal, verdict};
use crate::script::Expect::Open;
use crate::script::{Expect, Step, matches};
use crate::timing::{Calibration, min_ticks};
use crate::{D, DoorLock, H, MEMORY, STATE_LEN};

/// Provisions the lock's state and types the phase's keypad script.
pub(crate) fn script(
    key: &DeviceKey,
    phase: &Phase,
    lock: &mut DoorLock,
    flash: &mut Flash,
    tally: &mut Tally,
) -> bool {
    if !provision_state(phase, lock, flash) {
        return false;
    }
    let mut guesses = Guesses::default();
    let mut measured = [None; 8];
    let mut session = Session {
        key,
        phase,
        lock,
        flash,
        tally,
        baseline: min_ticks(|| {
            black_box(());
        }),
        guesses: &mut guesses,
        entry: 0,
        lag: 0,
        measured: &mut measured,
        n_measured: 0,
    };
    for step in phase.steps {
        if !session.step(step) {
            return false;
        }
    }
    session.report();
    true
}

/// A new lock's state: blank slots and its own monotonic counter at 0,
/// its first image saved, the clock observed at script time zero and
/// persisted; then what was provisioned and the codes issued, printed.
fn provision_state(phase: &Phase, lock: &mut DoorLock, flash: &mut Flash) -> bool {
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
    true
}

/// A phase's script under way: its lock and flash, the tally, and what
/// the steps so far counted and measured.
///
/// Its methods are inlined into [`script`], and the session is then kept
/// in registers, not in memory, as long as no field has its address taken
/// and none is indexed at run time: so the guesses (`Guesses::record`
/// takes their address) and the measured checks (indexed) are behind
/// references, and a field is copied to a local before it is printed
/// (printing takes its address). In memory, the session would also hide
/// the flash's address (a static) from every function it is passed to:
/// a larger image.
struct Session<'a> {
    key: &'a DeviceKey,
    phase: &'a Phase,
    lock: &'a mut DoorLock,
    flash: &'a mut Flash,
    tally: &'a mut Tally,
    /// The ticks of an empty measurement, subtracted from every timing.
    baseline: u32,
    guesses: &'a mut Guesses,
    /// The entries typed so far.
    entry: u32,
    /// How far the lock's clock reads behind real time (a power loss that
    /// stopped it), until a clock-setting code sets it.
    lag: i64,
    /// (label, ticks) of the measured entries, in script order.
    measured: &'a mut [Option<(&'static str, u32)>; 8],
    n_measured: usize,
}

impl Session<'_> {
    /// Takes one step; false when the run cannot go on (reported).
    fn step(&mut self, step: &Step) -> bool {
        match *step {
            Step::Type {
                at,
                typed,
                expect,
                measure,
            } => self.type_entry(at, typed, expect, measure),
            Step::PowerLoss { lag_secs } => self.power_loss(lag_secs),
            Step::PowerCut => self.power_cut(),
            Step::CutBeforeRaise { at, typed } => {
                self.entry += 1;
                let now = self.phase.t0 + at - self.lag;
                cut_before_raise(
                    self.key, self.phase, self.lock, self.flash, self.tally, typed, now,
                )
            }
            Step::PutBack => {
                put_back(self.lock, self.flash, self.tally);
                true
            }
            Step::Version1Image => {
                version_1_image(self.phase, self.lock, self.flash, self.tally);
                true
            }
            Step::FillMemory { at } => self.fill_memory(at),
        }
    }

    /// [`Step::Type`]: one entry at `T0 + at` (real time; the lock's
    /// clock reads `lag` behind), its decision checked and printed, its
    /// ticks kept under `measure`'s label.
    fn type_entry(
        &mut self,
        at: i64,
        typed: &str,
        expect: Expect,
        measure: Option<&'static str>,
    ) -> bool {
        let t0 = self.phase.t0;
        self.entry += 1;
        let entry = self.entry; // printed (see `Session`)
        let Some((decision, ticks, writes)) =
            enter(self.lock, self.flash, typed, t0 + at - self.lag)
        else {
            return false;
        };
        if let Decision::ClockSet { to } = decision {
            // The firmware sets its real-time clock to `to`.
            self.lag = t0 + at - to;
        }
        self.guesses.record(decision, at, writes);
        let good = self.tally.record(matches(decision, expect));
        hprintln!(
            "entry {}: {} at {} -> {} [expected: {}] {}  ({} ticks, {} writes)",
            entry,
            typed,
            Rel(at),
            Shown(decision),
            Expected(expect),
            verdict(good),
            ticks.saturating_sub(self.baseline),
            writes
        );
        if let (Some(label), Some(slot)) = (measure, self.measured.get_mut(self.n_measured)) {
            *slot = Some((label, ticks.saturating_sub(self.baseline)));
            self.n_measured += 1;
        }
        true
    }

    /// [`Step::PowerLoss`]: the lock rebuilt and started; its clock now
    /// reads `lag_secs` behind real time.
    fn power_loss(&mut self, lag_secs: i64) -> bool {
        let lock = &mut *self.lock;
        let before = lock.sequence();
        if !reboot(self.key, self.phase, lock, self.flash) {
            return false;
        }
        self.lag = lag_secs;
        // Loaded at `before`, then started: its state written again.
        let good = self
            .tally
            .record(lock.sequence() == before + 1 && lock.is_started());
        hprintln!(
            "power loss: lock rebuilt from its saved images and started (sequence {} [expected: {}] {}); its clock now reads {} h behind real time",
            lock.sequence(),
            before + 1,
            verdict(good),
            self.lag / H
        );
        true
    }

    /// [`Step::PowerCut`]: the lock rebuilt from the newest image and
    /// started; then the older image put back, refused.
    fn power_cut(&mut self) -> bool {
        let (lock, flash) = (&mut *self.lock, &mut *self.flash);
        let before = lock.sequence();
        if !reboot(self.key, self.phase, lock, flash) {
            return false;
        }
        // Loaded at `before`, then started: its state written again
        // as the next image, with the counter raised to it.
        let good = self
            .tally
            .record(lock.sequence() == before + 1 && lock.is_started());
        hprintln!(
            "power cut: lock rebuilt from the newest authentic image of its 2 slots not older than the counter (sequence {}), then started (written again, counter raised to {}): sequence {} [expected: {}] {}",
            before,
            flash.counter,
            lock.sequence(),
            before + 1,
            verdict(good)
        );
        older_image_back(lock, flash, self.tally);
        true
    }

    /// [`Step::FillMemory`]: the first `MEMORY` of the `FILL` one-time
    /// codes at `T0 + at`, each opening and taking a memory slot.
    fn fill_memory(&mut self, at: i64) -> bool {
        let t0 = self.phase.t0;
        let first = self.entry + 1;
        let (mut opened, mut lo, mut hi) = (0usize, u32::MAX, 0u32);
        for pin in FILL.iter().take(MEMORY) {
            self.entry += 1;
            let Some((decision, ticks, writes)) = enter(self.lock, self.flash, pin, t0 + at) else {
                return false;
            };
            self.guesses.record(decision, at, writes);
            opened += usize::from(matches(decision, Open));
            lo = lo.min(ticks.saturating_sub(self.baseline));
            hi = hi.max(ticks.saturating_sub(self.baseline));
        }
        let good = self
            .tally
            .record(opened == MEMORY && self.lock.free_memory(t0 + at) == 0);
        let last = self.entry; // printed (see `Session`)
        hprintln!(
            "entries {}-{}: {} one-time codes at {} -> {} open, {} memory slots free [expected: {} open, 0 free] {}  ({}..{} ticks)",
            first,
            last,
            MEMORY,
            Rel(at),
            opened,
            self.lock.free_memory(t0 + at),
            MEMORY,
            verdict(good),
            lo,
            hi
        );
        true
    }

    /// The phase's figures: the calibration, each measured check in
    /// instructions, the most guesses in any 24 h against the published
    /// bound, and the flash writes per kind of entry.
    fn report(&mut self) {
        let calibration = Calibration::measure(self.baseline);
        for &(label, ticks) in self.measured.iter().flatten() {
            hprintln!(
                "check({}): {} ticks = ~{} instructions",
                label,
                ticks,
                calibration.instructions(ticks)
            );
        }
        let most = self.guesses.most_in(D);
        let bound = offpin::security::attempts_in(&self.phase.profile, D);
        let good = self.tally.record(most as u64 <= bound);
        hprintln!(
            "guesses: {} refused entries evaluated, at most {} in any 24 h (the insider's included) [published bound: {} a day] {}",
            self.guesses.n,
            most,
            bound,
            verdict(good)
        );
        hprintln!(
            "flash writes per entry (count-before-check): failed {}, opened {}, locked out {}; {} images written, rollback counter {}",
            Range(self.guesses.writes[0]),
            Range(self.guesses.writes[1]),
            Range(self.guesses.writes[2]),
            self.flash.writes,
            self.flash.counter
        );
    }
}
