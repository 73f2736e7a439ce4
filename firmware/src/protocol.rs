//! Count-before-check, the way a real lock persists: the simulated flash
//! (two image slots and a monotonic counter, [`Flash`]), every change
//! written, the counter raised and the change committed in that order
//! ([`Flash::persist_and_commit`]); a keypad entry ([`enter`]: its charge,
//! then its check); provisioning, and a boot after a power cut
//! ([`reboot`]: the lock rebuilt, its state loaded, its start persisted).

use core::hint::black_box;

use cortex_m_semihosting::hprintln;
use offpin::lock::{Change, ClockStatus, Decision};
use offpin::{Codec, DeviceKey};

use crate::phases::Phase;
use crate::report::fatal;
use crate::timing::min_ticks;
use crate::{DoorLock, MEMORY, STATE_LEN};

/// Provisioning: the device key goes into the lock's key store once. Not
/// inlined (nor [`reboot`], nor [`enter`]): the temporaries of building a
/// `Lock` (a `Codec`, a `Result` holding a `Lock`) live in this frame only
/// while it runs, instead of in `run`'s for the whole script, which keeps
/// the peak stack within the Cortex-M0 board's 16 KiB of RAM.
#[inline(never)]
pub(crate) fn provision(key: &DeviceKey, phase: &Phase) -> Option<DoorLock> {
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
pub(crate) fn reboot(
    key: &DeviceKey,
    phase: &Phase,
    lock: &mut DoorLock,
    flash: &mut Flash,
) -> bool {
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
pub(crate) fn load(key: &DeviceKey, phase: &Phase, lock: &mut DoorLock, flash: &Flash) -> bool {
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

/// The bytes of a version-1 image of a `Lock<MEMORY>` (offpin 0.1's
/// layout: `316 + 18 × MEMORY`, `src/lock/persist.rs`).
pub(crate) const V1_LEN: usize = 316 + 18 * MEMORY;
const _: () = assert!(V1_LEN >= STATE_LEN);

/// The "flash": two image slots, the monotonic hardware counter (a counter
/// page, simulated) and how many images were written; and what a flash
/// writer keeps aside (an image copied at a power cut, or a version-1
/// image it made).
pub(crate) struct Flash {
    pub(crate) slots: [[u8; STATE_LEN]; 2],
    pub(crate) counter: u32,
    pub(crate) writes: u32,
    pub(crate) aside: [u8; V1_LEN],
}

impl Flash {
    /// Writes the image after `change` to its slot (`image_sequence % 2`)
    /// and returns the slot; the counter is not raised yet.
    pub(crate) fn write(&mut self, lock: &DoorLock, change: &Change) -> Option<usize> {
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
    pub(crate) fn persist_and_commit(&mut self, lock: &mut DoorLock, change: Change) -> bool {
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

/// One keypad entry at the lock's clock reading `now`, count-before-check: the charge is
/// persisted first, then `check` is timed (the fewest ticks of a few runs;
/// it mutates nothing), then its change is persisted if it needs it and
/// committed, and the decision is returned to act on, with the number of
/// images written. `None` when the state could not be persisted or
/// committed (reported).
#[inline(never)]
pub(crate) fn enter(
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
