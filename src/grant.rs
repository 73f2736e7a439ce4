//! Grants: what a PIN means once decrypted.

use core::fmt;

use crate::profile::{Kind, Profile};
use crate::time::{DAY, HOUR, UnixSeconds, Window};
use crate::tz::TzRule;

/// A time-bound window counted in the profile's units.
///
/// For [`Grant::Hourly`], `start` is the hour since the epoch and `length`
/// a number of hours; for [`Grant::Daily`], `start` is the lock's local day
/// since the epoch and `length` a number of days.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Span {
    /// First hour (or day) of the window, counted from the epoch.
    pub start: u32,
    /// Length in hours (or days), at least 1.
    pub length: u32,
    /// Variance `0..V`: distinct PINs for the same window.
    pub variance: u8,
    /// Supersede lineage: `0` for none, `1..=L` otherwise.
    pub lineage: u8,
}

/// A weekly recurring code (format v2), counted in the profile's menu
/// ([`RecurringMenu`](crate::recurring::RecurringMenu)).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Recurrence {
    /// First week, counted from the profile's epoch (week `w` is the
    /// profile's local days `7w .. 7w + 7`).
    pub start_week: u32,
    /// Length in weeks, `1..=max_weeks`.
    pub weeks: u16,
    /// The weekday mask: its position in the menu's `days`.
    pub days: u8,
    /// The hour range: its position in the menu's `hours`.
    pub hours: u8,
    /// Variance `0..V`.
    pub variance: u8,
}

/// What a revocation code revokes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RevokeTarget {
    /// One ongoing slot.
    Slot(u32),
    /// Every time-bound and one-time code whose window started before this
    /// hour (counted from the epoch).
    StartedBefore {
        /// The watermark hour.
        hour: u32,
    },
}

/// One grant a profile can express; every grant has exactly one index and
/// so, per device key, exactly one PIN.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Grant {
    /// Time-bound window on hour boundaries.
    Hourly(Span),
    /// Time-bound window on the lock's local midnights.
    Daily(Span),
    /// One-time code: opens once, first use within the profile's use
    /// window after `start_hour`.
    OneTime {
        /// Hour since the epoch when the use window opens.
        start_hour: u32,
        /// Variance `0..V`.
        variance: u8,
    },
    /// Ongoing code in a slot, valid until revoked.
    Ongoing {
        /// Slot `0..ongoing_slots`.
        slot: u32,
    },
    /// Revocation code.
    Revoke(RevokeTarget),
    /// Weekly recurring code (format v2): opens during its hours on its
    /// days, no activation.
    Recurring(Recurrence),
    /// Clock-setting code (format v2): moves the lock's clock forward to
    /// the instant `epoch + at · unit` (does not open).
    ClockSet {
        /// The instant, in the profile's clock-code units since the epoch.
        at: u32,
    },
}

impl Grant {
    /// The kind of this grant.
    pub const fn kind(&self) -> Kind {
        match self {
            Grant::Hourly(_) => Kind::Hourly,
            Grant::Daily(_) => Kind::Daily,
            Grant::OneTime { .. } => Kind::OneTime,
            Grant::Ongoing { .. } => Kind::Ongoing,
            Grant::Revoke(RevokeTarget::Slot(_)) => Kind::RevokeSlot,
            Grant::Revoke(RevokeTarget::StartedBefore { .. }) => Kind::RevokeBefore,
            Grant::Recurring(_) => Kind::Recurring,
            Grant::ClockSet { .. } => Kind::ClockSet,
        }
    }

    /// The variance of a windowed grant (`0` for the others).
    pub const fn variance(&self) -> u8 {
        match self {
            Grant::Hourly(s) | Grant::Daily(s) => s.variance,
            Grant::OneTime { variance, .. } => *variance,
            Grant::Recurring(r) => r.variance,
            _ => 0,
        }
    }

    /// The supersede lineage of a time-bound grant (`0`: none).
    pub const fn lineage(&self) -> u8 {
        match self {
            Grant::Hourly(s) | Grant::Daily(s) => s.lineage,
            _ => 0,
        }
    }

    /// The window in Unix time during which the grant is valid, for
    /// time-bound, one-time and recurring grants (`None` for ongoing and
    /// revocation codes). A one-time grant's window is its use window; a
    /// recurring grant's, the local midnights that begin its first week
    /// and end its last (it opens only during its hours). `zone` is the
    /// lock's local time: a fixed [`UtcOffset`](crate::UtcOffset) or a
    /// [`TzRule`]; it moves daily windows only, which run from the local
    /// midnight of their first day to that of the day after their last.
    pub fn window(&self, profile: &Profile, zone: impl Into<TzRule>) -> Option<Window> {
        self.window_in(profile, &zone.into())
    }

    /// [`Grant::window`] with the zone by reference.
    pub(crate) fn window_in(&self, profile: &Profile, zone: &TzRule) -> Option<Window> {
        match self {
            Grant::Hourly(s) => {
                let start = profile.hour_start(s.start);
                Some(Window {
                    start,
                    end: start + i64::from(s.length) * HOUR,
                })
            }
            Grant::Daily(s) => {
                // Local midnights, in local seconds since 1970: the epoch
                // is a UTC midnight, so `epoch + d · DAY` is local day
                // `epoch_day() + d` (`TzRule::day_start`), with no
                // division on a lock.
                let first = profile.epoch() + i64::from(s.start) * DAY;
                Some(Window {
                    start: zone.midnight_start(first),
                    end: zone.midnight_start(first + i64::from(s.length) * DAY),
                })
            }
            Grant::OneTime { start_hour, .. } => {
                let start = profile.hour_start(*start_hour);
                Some(Window {
                    start,
                    end: start + profile.one_time_use_secs(),
                })
            }
            #[cfg(feature = "format-v2")]
            Grant::Recurring(r) => {
                let first = profile.epoch_day() + 7 * i64::from(r.start_week);
                Some(Window {
                    start: zone.day_start(first),
                    end: zone.day_start(first + 7 * i64::from(r.weeks)),
                })
            }
            // Without the feature no lock has recurring codes.
            #[cfg(not(feature = "format-v2"))]
            Grant::Recurring(_) => None,
            Grant::Ongoing { .. } | Grant::Revoke(_) | Grant::ClockSet { .. } => None,
        }
    }

    /// When the grant's window starts (`None` for ongoing and revocation
    /// codes).
    pub fn starts_at(&self, profile: &Profile, zone: impl Into<TzRule>) -> Option<UnixSeconds> {
        self.window(profile, zone).map(|w| w.start)
    }
}

impl fmt::Display for Grant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Grant::Hourly(s) => write!(
                f,
                "hourly window: hour {} for {} h, variance {}",
                s.start, s.length, s.variance
            )?,
            Grant::Daily(s) => write!(
                f,
                "daily window: day {} for {} d, variance {}",
                s.start, s.length, s.variance
            )?,
            Grant::OneTime {
                start_hour,
                variance,
            } => write!(f, "one-time code: hour {start_hour}, variance {variance}")?,
            Grant::Ongoing { slot } => write!(f, "ongoing code: slot {slot}")?,
            Grant::Revoke(RevokeTarget::Slot(slot)) => {
                write!(f, "revocation of ongoing slot {slot}")?
            }
            Grant::Revoke(RevokeTarget::StartedBefore { hour }) => {
                write!(f, "revocation of every window started before hour {hour}")?
            }
            Grant::Recurring(r) => write!(
                f,
                "recurring code: week {} for {} weeks, days #{}, hours #{}, variance {}",
                r.start_week, r.weeks, r.days, r.hours, r.variance
            )?,
            Grant::ClockSet { at } => write!(f, "clock-setting code: unit {at}")?,
        }
        if self.lineage() != 0 {
            write!(f, ", lineage {}", self.lineage())?;
        }
        Ok(())
    }
}

/// A grant that the profile cannot express.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum GrantError {
    /// The profile has no grants of this kind.
    KindDisabled(Kind),
    /// The window starts at or after the end of the profile's lifetime.
    StartOutOfRange {
        /// Requested start (hour or day since the epoch).
        start: u32,
        /// Number of starts available.
        limit: u32,
    },
    /// The window is empty or longer than the kind allows.
    LengthOutOfRange {
        /// Requested length (hours or days).
        length: u32,
        /// Longest length allowed.
        max: u32,
    },
    /// The variance is not below the profile's `variances`.
    VarianceOutOfRange {
        /// Requested variance.
        variance: u8,
        /// Number of variances.
        limit: u8,
    },
    /// The lineage is above the profile's `lineages`.
    LineageOutOfRange {
        /// Requested lineage.
        lineage: u8,
        /// Highest lineage.
        max: u8,
    },
    /// A recurring code's weekday mask or hour range is not in the
    /// profile's menu (its position is beyond the menu).
    NotInMenu {
        /// The position asked for.
        position: u8,
        /// Entries of that part of the menu.
        limit: u8,
    },
    /// The kind is a format-v2 one (recurring, clock-setting) and offpin
    /// was built without the `format-v2` feature, so no PIN of it could be
    /// decoded by this build.
    KindNotBuilt(Kind),
    /// The ongoing slot is not below the profile's `ongoing_slots`.
    SlotOutOfRange {
        /// Requested slot.
        slot: u32,
        /// Number of slots.
        limit: u32,
    },
    /// The profile has code rules, and the grant's index needs more than
    /// [`MAX_WALK_STEPS`](crate::rules::MAX_WALK_STEPS) FF1 evaluations
    /// to reach a string that keeps them (about one index in `2^64` at
    /// worst): it has no PIN, and the lock would refuse one. Another
    /// variance has another index.
    WalkTooLong {
        /// The grant's index.
        index: u64,
    },
}

impl GrantError {
    /// A stable snake_case code (`kind_disabled`, `start_out_of_range`,
    /// `length_out_of_range`, `variance_out_of_range`,
    /// `lineage_out_of_range`, `menu_position_out_of_range`,
    /// `slot_out_of_range`, `kind_not_built`, `walk_too_long`); the
    /// `Display` text is informative English.
    pub const fn code(&self) -> &'static str {
        match self {
            GrantError::KindDisabled(_) => "kind_disabled",
            GrantError::StartOutOfRange { .. } => "start_out_of_range",
            GrantError::LengthOutOfRange { .. } => "length_out_of_range",
            GrantError::VarianceOutOfRange { .. } => "variance_out_of_range",
            GrantError::LineageOutOfRange { .. } => "lineage_out_of_range",
            GrantError::NotInMenu { .. } => "menu_position_out_of_range",
            GrantError::SlotOutOfRange { .. } => "slot_out_of_range",
            GrantError::KindNotBuilt(_) => "kind_not_built",
            GrantError::WalkTooLong { .. } => "walk_too_long",
        }
    }
}

impl fmt::Display for GrantError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GrantError::KindDisabled(kind) => write!(f, "the profile has no {kind} grants"),
            GrantError::StartOutOfRange { start, limit } => write!(
                f,
                "start {start} is beyond the profile's lifetime ({limit} starts)"
            ),
            GrantError::LengthOutOfRange { length, max } => {
                write!(f, "length {length} is outside 1..={max}")
            }
            GrantError::VarianceOutOfRange { variance, limit } => {
                write!(f, "variance {variance} is outside 0..{limit}")
            }
            GrantError::LineageOutOfRange { lineage, max } => {
                write!(f, "lineage {lineage} is outside 0..={max}")
            }
            GrantError::NotInMenu { position, limit } => write!(
                f,
                "menu entry {position} is outside the profile's 0..{limit}"
            ),
            GrantError::SlotOutOfRange { slot, limit } => {
                write!(f, "ongoing slot {slot} is outside 0..{limit}")
            }
            GrantError::KindNotBuilt(kind) => write!(
                f,
                "{kind} codes need offpin's format-v2 feature, which this build leaves out"
            ),
            GrantError::WalkTooLong { index } => write!(
                f,
                "index {index} needs more than {} FF1 evaluations to reach a PIN that keeps the code rules; issue another variance",
                crate::rules::MAX_WALK_STEPS
            ),
        }
    }
}

impl core::error::Error for GrantError {}
