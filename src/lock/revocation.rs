//! What the lock has taken back: revoked ongoing slots, the "started
//! before" watermark and the supersede marks of lineages.
//!
//! - **Slots**: a bitmap of [`MAX_REVOCABLE_SLOTS`] bits; entering the
//!   revocation code of slot `s` sets bit `s`, and the ongoing code of slot
//!   `s` is refused from then on.
//! - **Watermark**: entering "revoke everything that started before hour
//!   `h`" raises the watermark to `h` (never lowers it); every time-bound
//!   and one-time code whose window starts before the watermark is refused.
//!   Ongoing codes are not affected (revoke their slots).
//! - **Lineages**: a time-bound code may carry a supersede lineage
//!   `1..=L` (a room, say). When a code of lineage `l` whose window starts
//!   at `s` opens the door, the mark of `l` rises to `s`; codes of lineage
//!   `l` whose window starts before the mark are refused as
//!   [`Superseded`](crate::Refusal::Superseded). Codes whose window starts
//!   at the same instant as the mark are *not* superseded (the same
//!   booking may have several codes: variances, lengths).
//!
//! # Marks that no change of UTC offset moves
//!
//! A watermark or lineage mark is a [`Mark`]: an **hour** (hourly and
//! one-time codes starting before it are refused) and a **local day**
//! (daily codes starting before it are refused), both fixed when the mark
//! is set, from the instant it stands for and the UTC offset of that
//! moment. A daily code's window starts at a local midnight, so whether it
//! started before an instant depends on the offset; comparing days with a
//! day fixed at the time of the revocation means a later change of offset
//! (a DST change, a reconfigured lock) can neither un-revoke a daily code
//! nor revoke one that was not. The day of an instant `x` seconds after
//! the epoch at offset `o` is `⌈(x + o) / 86 400⌉`: the first local day
//! that starts at or after it. Likewise the hour of a daily start is the
//! first hour at or after it.
//!
//! Every operation is idempotent and monotone: entering a revocation twice
//! changes nothing the second time, and nothing here is ever undone, so a
//! power cut can only lose a revocation whose image was not yet written.

use crate::profile::Profile;
use crate::time::{PER_HOUR, UnixSeconds};
use crate::tz::TzRule;

/// Ongoing slots a lock can revoke (the bitmap's size). A profile with more
/// ongoing slots and revocation codes is refused by
/// [`Lock::new`](crate::lock::Lock::new). The largest shipped profile has
/// 1000.
pub const MAX_REVOCABLE_SLOTS: u32 = 1024;

/// Supersede lineages a lock can track. A profile with more is refused by
/// [`Lock::new`](crate::lock::Lock::new). The shipped profiles have at
/// most 4.
pub const MAX_LINEAGES: u8 = 16;

/// Bytes of the slot bitmap.
pub(crate) const SLOT_BYTES: usize = (MAX_REVOCABLE_SLOTS / 8) as usize;

/// A revocation watermark or supersede mark: codes whose window starts
/// before it are refused. Fixed when set, so no later change of the lock's
/// UTC offset moves it (see the [module docs](self)).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Mark {
    /// Hourly and one-time codes whose start hour (since the epoch) is
    /// below this are refused (`0`: none).
    pub hour: u32,
    /// Daily codes whose start day (local, since the epoch) is below this
    /// are refused (`0`: none).
    pub day: u32,
}

impl Mark {
    /// Nothing refused.
    pub const NONE: Mark = Mark { hour: 0, day: 0 };

    /// The mark of "before hour `hour`", as it stands under `zone`.
    pub(crate) fn before_hour(profile: &Profile, hour: u32, zone: &TzRule) -> Mark {
        let day = if zone.dst_rule().is_none() {
            fixed::day_of_hour(hour, zone.standard_secs())
        } else {
            day_at_or_after(profile, profile.hour_start(hour), zone)
        };
        Mark { hour, day }
    }

    /// The mark of "before local day `day`", as it stands under `zone`.
    pub(crate) fn before_day(profile: &Profile, day: u32, zone: &TzRule) -> Mark {
        let hour = if zone.dst_rule().is_none() {
            fixed::hour_of_day(day, zone.standard_secs())
        } else {
            hour_at_or_after(
                profile,
                zone.day_start(profile.epoch_day() + i64::from(day)),
            )
        };
        Mark { hour, day }
    }

    /// The mark of the instant `at`, under `zone` (a version-1 image
    /// stored instants).
    #[cfg(feature = "lock-state-v1")]
    pub(crate) fn before_instant(profile: &Profile, at: UnixSeconds, zone: &TzRule) -> Mark {
        Mark {
            hour: hour_at_or_after(profile, at),
            day: day_at_or_after(profile, at, zone),
        }
    }

    /// The larger of two marks, part by part.
    pub(crate) fn join(self, other: Mark) -> Mark {
        Mark {
            hour: self.hour.max(other.hour),
            day: self.day.max(other.day),
        }
    }

    /// Whether a code starting at `start` is before the mark.
    pub(crate) const fn is_after(&self, start: Start) -> bool {
        match start {
            Start::Hour(h) => h < self.hour,
            Start::Day(d) => d < self.day,
        }
    }

    /// Whether anything is refused.
    pub const fn is_set(&self) -> bool {
        self.hour != 0 || self.day != 0
    }
}

/// The first local day (since the profile's epoch) that starts at or after
/// the instant `at` under `zone` (clamped to the `u32` range).
fn day_at_or_after(profile: &Profile, at: UnixSeconds, zone: &TzRule) -> u32 {
    // Saturating clamps to the same day as exact arithmetic would (0 or
    // u32::MAX): days are within ±2^47 of each other.
    if zone.dst_rule().is_none() {
        return fixed::day_at_or_after(at.saturating_sub(profile.epoch()), zone.standard_secs());
    }
    clamp_u32(
        zone.first_day_starting_at_or_after(at)
            .saturating_sub(profile.epoch_day()),
    )
}

/// The marks at a fixed offset `std` (seconds east), in seconds since the
/// profile's epoch: local day `d` since the epoch (a UTC midnight) starts
/// `d · DAY − std` after it. The same results as the [`TzRule`] forms
/// above (`fixed_offset_marks_agree`), with fewer instructions on a lock
/// (a validator built without DST rules links only these: with
/// `TzRule::midnight_start` for the day's hour instead, the Cortex-M0
/// validator was 112 bytes larger, 16 488 bytes, over its 16 KiB).
mod fixed {
    use super::clamp_u32;
    use crate::time::{DAY, HOUR, PER_DAY, PER_HOUR};

    /// The first local day starting at or after `x` seconds after the
    /// epoch.
    pub(super) fn day_at_or_after(x: i64, std: i64) -> u32 {
        clamp_u32(PER_DAY.div_ceil(x.saturating_add(std)))
    }

    /// The first local day starting at or after hour `hour`.
    pub(super) fn day_of_hour(hour: u32, std: i64) -> u32 {
        day_at_or_after(i64::from(hour) * HOUR, std)
    }

    /// The first hour starting at or after local day `day` starts.
    pub(super) fn hour_of_day(day: u32, std: i64) -> u32 {
        clamp_u32(PER_HOUR.div_ceil(i64::from(day) * DAY - std))
    }
}

/// `x` clamped to `0..=u32::MAX`.
fn clamp_u32(x: i64) -> u32 {
    u32::try_from(x.max(0)).unwrap_or(u32::MAX)
}

/// The first hour (since the profile's epoch) that starts at or after the
/// instant `at` (clamped to the `u32` range).
fn hour_at_or_after(profile: &Profile, at: UnixSeconds) -> u32 {
    // Saturating at the ends of i64 clamps to the same hour as exact
    // arithmetic would (0 or u32::MAX); no division routine on the lock.
    clamp_u32(PER_HOUR.div_ceil(at.saturating_sub(profile.epoch())))
}

/// Where a windowed code starts, in the unit its kind counts in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Start {
    /// An hourly or one-time code: its start hour.
    Hour(u32),
    /// A daily code: its start (local) day.
    Day(u32),
}

impl Start {
    /// The mark a code starting here sets for its lineage, under `zone`.
    pub(crate) fn mark(self, profile: &Profile, zone: &TzRule) -> Mark {
        match self {
            Start::Hour(h) => Mark::before_hour(profile, h, zone),
            Start::Day(d) => Mark::before_day(profile, d, zone),
        }
    }
}

/// Revocation state (plain data, persisted).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct Revocations {
    /// Bit `s % 8` of byte `s / 8` is set when slot `s` is revoked.
    pub(crate) slots: [u8; SLOT_BYTES],
    /// Codes that start before it are revoked.
    pub(crate) watermark: Mark,
    /// Per lineage `1..=MAX_LINEAGES` (at position `l - 1`): the mark of
    /// the newest window that opened the door.
    pub(crate) lineages: [Mark; MAX_LINEAGES as usize],
}

/// Byte and bit of a slot in the bitmap.
const fn bit(slot: u32) -> (usize, u8) {
    ((slot / 8) as usize, 1 << (slot % 8))
}

impl Revocations {
    /// Nothing revoked.
    pub(crate) const CLEAR: Revocations = Revocations {
        slots: [0; SLOT_BYTES],
        watermark: Mark::NONE,
        lineages: [Mark::NONE; MAX_LINEAGES as usize],
    };

    /// Whether ongoing slot `slot` is revoked. A slot beyond the bitmap
    /// counts as revoked (fail closed; [`Lock::new`] refuses such
    /// profiles anyway).
    ///
    /// [`Lock::new`]: crate::lock::Lock::new
    pub(crate) fn is_slot_revoked(&self, slot: u32) -> bool {
        let (byte, mask) = bit(slot);
        self.slots.get(byte).is_none_or(|b| b & mask != 0)
    }

    /// Revokes ongoing slot `slot` (no-op beyond the bitmap).
    pub(crate) fn revoke_slot(&mut self, slot: u32) {
        let (byte, mask) = bit(slot);
        if let Some(b) = self.slots.get_mut(byte) {
            *b |= mask;
        }
    }

    /// Whether a code starting at `start` is under the watermark.
    pub(crate) const fn is_under_watermark(&self, start: Start) -> bool {
        self.watermark.is_after(start)
    }

    /// Raises the watermark to `mark` (never lowers it).
    pub(crate) fn raise_watermark(&mut self, mark: Mark) {
        self.watermark = self.watermark.join(mark);
    }

    /// The mark of `lineage` (`1..=MAX_LINEAGES`), if any code of it opened.
    pub(crate) fn lineage_mark(&self, lineage: u8) -> Option<Mark> {
        let at = usize::from(lineage).checked_sub(1)?;
        self.lineages.get(at).copied().filter(Mark::is_set)
    }

    /// Whether a code of `lineage` starting at `start` was superseded
    /// (lineage `0` never is).
    pub(crate) fn is_superseded(&self, lineage: u8, start: Start) -> bool {
        self.lineage_mark(lineage)
            .is_some_and(|m| m.is_after(start))
    }

    /// Raises the mark of `lineage` to `mark` (no-op for lineage `0`).
    pub(crate) fn mark_lineage(&mut self, lineage: u8, mark: Mark) {
        let Some(at) = usize::from(lineage).checked_sub(1) else {
            return;
        };
        if let Some(m) = self.lineages.get_mut(at) {
            *m = m.join(mark);
        }
    }
}

/// Where a windowed grant starts (`None` for ongoing and revocation codes;
/// a recurring code starts on the first local day of its first week).
pub(crate) const fn start_of(grant: &crate::Grant) -> Option<Start> {
    match grant {
        crate::Grant::Hourly(s) => Some(Start::Hour(s.start)),
        crate::Grant::OneTime { start_hour, .. } => Some(Start::Hour(*start_hour)),
        crate::Grant::Daily(s) => Some(Start::Day(s.start)),
        crate::Grant::Recurring(r) => Some(Start::Day(r.start_week.saturating_mul(7))),
        crate::Grant::Ongoing { .. } | crate::Grant::Revoke(_) | crate::Grant::ClockSet { .. } => {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::shipped::STANDARD_10 as P;
    use crate::time::UtcOffset;

    const UTC: TzRule = TzRule::UTC;

    #[test]
    fn lock_revocations_are_monotone_and_idempotent() {
        let mut r = Revocations::CLEAR;
        assert!(!r.is_slot_revoked(999));
        r.revoke_slot(999);
        r.revoke_slot(999);
        assert!(r.is_slot_revoked(999));
        assert!(!r.is_slot_revoked(998));
        assert!(r.is_slot_revoked(MAX_REVOCABLE_SLOTS), "beyond: closed");

        r.raise_watermark(Mark::before_hour(&P, 100, &UTC));
        r.raise_watermark(Mark::before_hour(&P, 50, &UTC));
        assert!(r.is_under_watermark(Start::Hour(99)));
        assert!(!r.is_under_watermark(Start::Hour(100)));
        // Hour 100 is 04:00 of day 4: days 0..=4 started before it.
        assert!(r.is_under_watermark(Start::Day(4)));
        assert!(!r.is_under_watermark(Start::Day(5)));

        assert!(!r.is_superseded(2, Start::Hour(0)));
        r.mark_lineage(2, Start::Hour(500).mark(&P, &UTC));
        r.mark_lineage(2, Start::Hour(400).mark(&P, &UTC));
        r.mark_lineage(0, Start::Hour(1_000).mark(&P, &UTC));
        assert!(r.is_superseded(2, Start::Hour(499)));
        assert!(
            !r.is_superseded(2, Start::Hour(500)),
            "same start: same booking"
        );
        assert!(!r.is_superseded(1, Start::Hour(0)));
        assert!(!r.is_superseded(0, Start::Hour(0)));
        assert_eq!(r.lineage_mark(2).map(|m| m.hour), Some(500));
    }

    #[test]
    fn lock_marks_fix_the_local_day_when_they_are_set() {
        let plus2 = TzRule::fixed(UtcOffset::from_minutes(120).unwrap());
        let minus5 = TzRule::fixed(UtcOffset::from_minutes(-300).unwrap());
        // Hour 47 is 23:00 UTC of day 1: 01:00 of day 2 at +02:00 (day 2
        // started before it), 18:00 of day 1 at -05:00 (day 2 did not).
        assert_eq!(Mark::before_hour(&P, 47, &plus2).day, 3);
        assert_eq!(Mark::before_hour(&P, 47, &minus5).day, 2);
        // A daily start is a local midnight: day 2 at +02:00 is 22:00 UTC
        // of day 1, hour 46; at -05:00 it is hour 53.
        assert_eq!(Mark::before_day(&P, 2, &plus2).hour, 46);
        assert_eq!(Mark::before_day(&P, 2, &minus5).hour, 53);
        // Exactly at a local midnight: that day is not before the mark.
        assert_eq!(Mark::before_hour(&P, 46, &plus2).day, 2);
    }

    proptest::proptest! {
        /// The fixed-offset marks are the TZ rule's definitions: the day
        /// found is the first whose start (`TzRule::day_start`) is at or
        /// after the instant, the hour the first at or after the day's
        /// start, at every offset and on every shipped profile.
        #[test]
        fn fixed_offset_marks_agree(
            minutes in -840i32..=840,
            x in -(1i64 << 40)..(1i64 << 40),
            hour in 0u32..200_000_000,
            day in 0u32..8_000_000,
        ) {
            let zone = TzRule::fixed(UtcOffset::from_minutes(minutes).unwrap());
            let std = zone.standard_secs();
            for p in crate::profile::shipped::ALL {
                let starts = |d: i64| zone.day_start(p.epoch_day() + d);
                // Days and hours since the epoch, unclamped here.
                let at = p.epoch() + x;
                let d = i64::from(fixed::day_at_or_after(x, std));
                if d > 0 && d < i64::from(u32::MAX) {
                    proptest::prop_assert!(starts(d) >= at && starts(d - 1) < at);
                } else {
                    proptest::prop_assert!(d == 0 && starts(0) >= at);
                }
                let d = i64::from(fixed::day_of_hour(hour, std));
                let at = p.hour_start(hour);
                proptest::prop_assert!(starts(d) >= at && (d == 0 || starts(d - 1) < at));
                let h = fixed::hour_of_day(day, std);
                let start = starts(i64::from(day));
                proptest::prop_assert!(p.hour_start(h) >= start);
                proptest::prop_assert!(h == 0 || p.hour_start(h - 1) < start);
                // And the lock's marks are these.
                proptest::prop_assert_eq!(Mark::before_hour(&p, hour, &zone).day, fixed::day_of_hour(hour, std));
                proptest::prop_assert_eq!(Mark::before_day(&p, day, &zone).hour, h);
            }
        }
    }
}
