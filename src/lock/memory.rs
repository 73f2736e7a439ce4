//! The lock's fixed-capacity memory of remembered codes.
//!
//! One array of `MEMORY` slots holds both kinds of entries:
//!
//! - **used** one-time codes, refused while remembered;
//! - **activated** time-bound codes (longer than the activation window),
//!   accepted after their activation window only while remembered.
//!
//! An entry identifies the code by *which key* decoded it and the grant's
//! *index* (unique per profile), never by the PIN. It lives until its
//! `until`, measured on the lock's monotonic clock (see [`crate::lock`]);
//! from then on the slot is free for reuse.
//!
//! `until` depends on the grant only, never on the configuration
//! ([`until_hour`]): the end of the code's window plus the longest grace a
//! profile may have (under an hour), and for a daily window the latest its
//! end can be under any UTC offset (14 hours after its UTC midnight). So
//! raising the grace after a one-time code was used, or moving the UTC
//! offset (a DST change) after a daily code was activated, never lets a
//! used code open again nor cuts an activated one short: the entry outlives
//! any acceptance the new configuration can give.
//! An entry whose `until` has not passed is **never** evicted: when every
//! slot holds a live entry, a code that needs a new entry is refused with
//! [`Refusal::MemoryFull`](crate::Refusal::MemoryFull), because evicting a
//! used one-time code would let it open again.
//!
//! An expired entry is not erased when it expires, only when its slot is
//! reused; that is harmless because the code it names is refused as
//! [`Expired`](crate::Refusal::Expired) from that instant on (the lock's
//! clock never runs backwards, see [`crate::lock`]).
//!
//! Lookups scan every slot: `O(MEMORY)`, bounded.

use crate::grant::Grant;
use crate::profile::Profile;
use crate::time::UnixSeconds;

/// Hours after a window's end (its latest end, for a daily window) that a
/// memory entry outlives it: one, covering any grace `Profile::new`
/// accepts (at most 3 599 s).
const GRACE_HOURS: u32 = 1;
/// Hours after its UTC midnight that a local midnight can come, at the
/// westernmost UTC offset (−14:00).
const WEST_HOURS: u32 = 14;

/// The hour (since the epoch) until which the lock remembers `grant` once
/// used or activated: an entry is live while the lock's time is before
/// [`Profile::hour_start`] of it. `None` for grants that are never
/// remembered (ongoing, revocations). Saturates at `u32::MAX`.
pub fn until_hour(profile: &Profile, grant: &Grant) -> Option<u32> {
    let end = match grant {
        Grant::Hourly(s) => s.start.saturating_add(s.length),
        Grant::OneTime { start_hour, .. } => {
            start_hour.saturating_add(profile.params().one_time_use_hours)
        }
        Grant::Daily(s) => s
            .start
            .saturating_add(s.length)
            .saturating_mul(24)
            .saturating_add(WEST_HOURS),
        Grant::Ongoing { .. } | Grant::Revoke(_) | Grant::Recurring(_) | Grant::ClockSet { .. } => {
            return None;
        }
    };
    Some(end.saturating_add(GRACE_HOURS))
}

/// The hour (since the epoch) until which the lock remembers that service
/// code counter `counter` was used: the first hour that starts at or after
/// the end of the last step at which it can be accepted,
/// `(counter + skew + 1) · step` (see [`crate::service`]). `None` when the
/// profile has no service codes. Saturates at `u32::MAX`.
pub fn service_until_hour(profile: &Profile, counter: u64) -> Option<u32> {
    let codes = profile.params().service_codes;
    if !codes.is_enabled() {
        return None;
    }
    let end =
        (i128::from(counter) + i128::from(codes.skew_steps) + 1) * i128::from(codes.step_secs);
    let hours = crate::time::div_ceil(end - i128::from(profile.epoch()), 3_600);
    Some(u32::try_from(hours.clamp(0, i128::from(u32::MAX))).unwrap_or(u32::MAX))
}

/// What a memory entry remembers about its code.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EntryKind {
    /// A time-bound code first used within its activation window: accepted
    /// again while remembered.
    Activated,
    /// A one-time code that was used: refused while remembered.
    Used,
    /// The highest service-code counter used (its index is the counter,
    /// its key 0): service codes of that counter and earlier are refused
    /// while remembered (format v2).
    Service,
}

impl EntryKind {
    /// The byte that stands for the kind in a saved image (`0` is a free
    /// slot).
    pub(crate) const fn tag(self) -> u8 {
        match self {
            EntryKind::Activated => 1,
            EntryKind::Used => 2,
            EntryKind::Service => 3,
        }
    }

    /// The kind a saved tag stands for (`None` for a free slot or an
    /// unknown tag; the caller tells them apart).
    pub(crate) const fn from_tag(tag: u8) -> Option<EntryKind> {
        match tag {
            1 => Some(EntryKind::Activated),
            2 => Some(EntryKind::Used),
            // Only images of profiles with service codes hold it, and only
            // a lock built with the feature has such a profile.
            #[cfg(feature = "service-codes")]
            3 => Some(EntryKind::Service),
            _ => None,
        }
    }
}

/// One remembered code.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Remembered {
    /// Position of the key that decoded the code, in the lock's key list.
    pub key: u8,
    /// The grant's index under the profile.
    pub index: u64,
    /// Whether the code is activated or used.
    pub kind: EntryKind,
    /// First instant at which the entry may be dropped: the start of
    /// [`until_hour`] of its grant.
    pub until: UnixSeconds,
}

impl Remembered {
    /// Whether the entry is still in force at `now`.
    pub const fn is_live(&self, now: UnixSeconds) -> bool {
        now < self.until
    }
}

/// `MEMORY` slots, each free or holding one remembered code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Memory<const MEMORY: usize> {
    pub(crate) slots: [Option<Remembered>; MEMORY],
}

impl<const MEMORY: usize> Memory<MEMORY> {
    /// Every slot free.
    #[cfg(test)]
    pub(crate) const EMPTY: Memory<MEMORY> = Memory {
        slots: [None; MEMORY],
    };

    /// Every slot free, built slot by slot: the constant of
    /// [`Memory::EMPTY`] would be written into the firmware image (24
    /// bytes a slot) to be copied from.
    pub(crate) fn empty() -> Memory<MEMORY> {
        Memory {
            slots: core::array::from_fn(|_| None),
        }
    }

    /// The live entry for `(key, index, kind)` at `now`, if any.
    pub(crate) fn find(
        &self,
        key: u8,
        index: u64,
        kind: EntryKind,
        now: UnixSeconds,
    ) -> Option<Remembered> {
        self.slots
            .iter()
            .flatten()
            .copied()
            .find(|e| e.key == key && e.index == index && e.kind == kind && e.is_live(now))
    }

    /// The live service-code entry at `now` with the highest counter, and
    /// its slot.
    #[cfg(feature = "service-codes")]
    pub(crate) fn service_entry(&self, now: UnixSeconds) -> Option<(usize, Remembered)> {
        self.slots
            .iter()
            .enumerate()
            .filter_map(|(i, s)| s.map(|e| (i, e)))
            .filter(|(_, e)| e.kind == EntryKind::Service && e.is_live(now))
            .max_by_key(|(_, e)| e.index)
    }

    /// A slot that may receive a new entry at `now`: the first free one,
    /// otherwise the first whose entry has expired. `None` when every slot
    /// holds a live entry. Out of line: inlined into the lock's check it
    /// costs the Cortex-M0 validator 64 bytes (firmware/run.sh).
    #[inline(never)]
    pub(crate) fn free_slot(&self, now: UnixSeconds) -> Option<usize> {
        self.slots.iter().position(Option::is_none).or_else(|| {
            self.slots
                .iter()
                .position(|s| s.is_some_and(|e| !e.is_live(now)))
        })
    }

    /// Number of live entries at `now`.
    pub(crate) fn live(&self, now: UnixSeconds) -> usize {
        self.slots
            .iter()
            .flatten()
            .filter(|e| e.is_live(now))
            .count()
    }

    /// Stores `entry` in slot `slot` (ignored if out of range, which
    /// [`Memory::free_slot`] never returns).
    pub(crate) fn set(&mut self, slot: usize, entry: Remembered) {
        if let Some(s) = self.slots.get_mut(slot) {
            *s = Some(entry);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(index: u64, kind: EntryKind, until: i64) -> Remembered {
        Remembered {
            key: 0,
            index,
            kind,
            until,
        }
    }

    #[test]
    fn lock_memory_reuses_only_expired_slots() {
        let mut m = Memory::<2>::EMPTY;
        assert_eq!(m.free_slot(0), Some(0));
        m.set(0, entry(7, EntryKind::Used, 100));
        assert_eq!(m.free_slot(0), Some(1));
        m.set(1, entry(8, EntryKind::Activated, 200));
        assert_eq!(m.free_slot(99), None, "both live");
        assert_eq!(m.find(1, 7, EntryKind::Used, 99), None, "other key");
        assert_eq!(m.free_slot(100), Some(0), "first expired");
        assert_eq!(m.live(150), 1);
        assert_eq!(m.find(0, 7, EntryKind::Used, 99).map(|e| e.index), Some(7));
        assert_eq!(m.find(0, 7, EntryKind::Used, 100), None, "expired");
        assert_eq!(m.find(0, 7, EntryKind::Activated, 50), None, "other kind");
        assert_eq!(
            m.find(0, 8, EntryKind::Activated, 199).map(|e| e.until),
            Some(200)
        );
    }
}
