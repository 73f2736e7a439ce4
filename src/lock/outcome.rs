//! What a check comes to: the [`Decision`], the state of the clock, and
//! the [`Change`] of state to persist and commit.

#[cfg(doc)]
use super::Lock;
use super::lockout::{Budget, Lockout};
use super::memory::Remembered;
use super::revocation::Mark;
use crate::check::Refusal;
use crate::grant::{Grant, RevokeTarget};
use crate::time::UnixSeconds;

/// What the lock decided about one entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Decision {
    /// Open the door: the code is valid and names this grant.
    Open(Grant),
    /// A valid revocation code: the revocation is part of the change and
    /// the door stays shut. Entering it again decides the same, and
    /// changes nothing more.
    Revoked(RevokeTarget),
    /// A valid clock-setting code: the lock's clock moved forward to `to`
    /// (the change raises the highest time seen to it) and the door stays
    /// shut. The jump refills no guess: the budget's refill period moves
    /// forward with it. Firmware sets its real-time clock to `to`: until
    /// it does, the clock reads behind the lock's time and time-dependent
    /// codes are refused as [`Refusal::ClockRolledBack`].
    ClockSet {
        /// The instant the clock moved to.
        to: UnixSeconds,
    },
    /// Open the door: a valid rolling service code (format v2) of this
    /// counter (`⌊t / step⌋`), now remembered as used.
    Service {
        /// The RFC 6238 counter the code was for.
        counter: u64,
    },
    /// Keep the door shut, for this reason.
    Refuse(Refusal),
}

impl Decision {
    /// Whether the door opens.
    pub const fn opens(&self) -> bool {
        matches!(self, Decision::Open(_) | Decision::Service { .. })
    }
}

/// What the lock's clock looked like to a check.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ClockStatus {
    /// The clock is at or after the highest time seen, or behind it by at
    /// most the grace.
    Ok,
    /// The clock is behind the highest time the lock has seen by more than
    /// the profile's grace: time-dependent codes are refused with
    /// [`Refusal::ClockRolledBack`] until it is set right. Report it.
    RolledBack {
        /// How far behind, in seconds.
        by_secs: i64,
    },
}

/// A revocation, resolved to what the state stores.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(super) enum Revocation {
    Slot(u32),
    Before(Mark),
}

/// The state change an entry implies. Produced by [`Lock::check`],
/// [`Lock::charge`] or [`Lock::observe_clock`], persisted with
/// [`Lock::save_after`] when [`Change::needs_write`] says so, applied by
/// [`Lock::commit`]. It holds no references: keep it while the image is
/// written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[must_use = "a change does nothing until it is persisted and committed"]
pub struct Change {
    /// The sequence number of the state it was computed from.
    pub(super) seq: u64,
    /// Computed while a charge was waiting for its check.
    pub(super) paid: bool,
    /// Changes the saved state: persist before acting.
    pub(super) write: bool,
    /// Changes anything at all (the saved state, or the lock's RAM).
    pub(super) apply: bool,
    /// The charge waiting for a check after the commit: the back-off as it
    /// was before the charge (RAM only).
    pub(super) credit: Option<Lockout>,
    pub(super) counter: u32,
    pub(super) highest_seen: UnixSeconds,
    pub(super) lockout: Lockout,
    pub(super) budget: Budget,
    pub(super) remember: Option<(usize, Remembered)>,
    pub(super) lineage: Option<(u8, Mark)>,
    pub(super) revoke: Option<Revocation>,
}

impl Change {
    /// Whether the change changes nothing (an entry refused while the
    /// keypad is locked out): it needs neither persisting nor committing
    /// (both are harmless no-ops).
    pub const fn is_empty(&self) -> bool {
        !self.apply
    }

    /// Whether the image after this change must be written
    /// ([`Lock::save_after`]) before the lock acts on the decision. False
    /// for an empty change and for the check of a charged entry that
    /// failed (its failure was written with the charge): commit those
    /// without writing.
    pub const fn needs_write(&self) -> bool {
        self.write
    }

    /// The sequence number of the state after this change, which the
    /// image written by [`Lock::save_after`] carries (the lock's
    /// [`sequence`](Lock::sequence) plus one, or unchanged for a change
    /// that needs no write). Writing that image to slot
    /// `image_sequence() % N` rotates over `N` image slots.
    pub const fn image_sequence(&self) -> u64 {
        if self.write {
            self.seq.wrapping_add(1)
        } else {
            self.seq
        }
    }

    /// The rollback counter the image of this change carries, one above
    /// the lock's (see [`Lock::rollback_counter`]). A firmware with a
    /// monotonic counter (OTP bits, a counter page, a secure element)
    /// raises it to this value **after** writing the image and **before**
    /// [`commit`](Lock::commit) and acting; one without simply ignores it.
    /// The lock chooses the value, never the firmware: every image is
    /// written with the hardware counter plus one, so no sequence of power
    /// cuts gives two different images a counter that can load after
    /// either was acted on (`docs/LOCK.md` §2, "Rollback counter").
    pub const fn counter(&self) -> u32 {
        self.counter
    }
}

/// The outcome of [`Lock::check`]: the decision and the state change it
/// implies.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[must_use = "persist and commit the change, then act on the decision"]
pub struct Check {
    /// Open, apply a revocation, or refuse.
    pub decision: Decision,
    /// What to persist (if [`Change::needs_write`]) and commit (even for a
    /// refusal: failures count).
    pub change: Change,
    /// Whether the clock was found rolled back.
    pub clock: ClockStatus,
    /// Position of the key that decoded the code into the decided grant
    /// (`None` when no key did, or the entry was not evaluated).
    pub key: Option<usize>,
}
