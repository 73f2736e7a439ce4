//! The lock's local time: a POSIX TZ rule (`CET-1CEST,M3.5.0,M10.5.0/3`)
//! parsed into a few bytes, with no time-zone database.
//!
//! A [`TzRule`] is a standard offset and, optionally, a daylight-saving
//! offset with the two yearly transitions that switch to and from it. A
//! fixed UTC offset is a rule without DST (`TzRule::fixed`), which is all a
//! lock of offpin 0.1 knew. The issuer derives the rule of a device from
//! its IANA zone: the TZif data of the zone database ends with exactly such
//! a string, valid for every year after the zone's last listed change
//! (`server::zone::Zone::tz_rule`).
//!
//! # Semantics
//!
//! The offset in force at an instant `t` is decided from the rule's
//! transitions **in the UTC calendar year of `t`**, exactly as jiff (the
//! server's time-zone library) decides it (`docs/FORMAT.md` §9):
//!
//! - `start` = the start date of year `y` at the start time, read in local
//!   standard time; `end` = the end date at the end time, read in local
//!   daylight time; each clamped to year `y` (an instant before it is the
//!   year's first second, one after it the year's end);
//! - permanent DST (`…,0/0,J365/25`): when `start` is the year's first
//!   second and `end` read back in standard time falls outside year `y`,
//!   `end` is the year's end;
//! - if `start <= end`, DST is in force for `start <= t < end`; otherwise
//!   (southern hemisphere, negative DST) everywhere except `end <= t <
//!   start`.
//!
//! A **local day** `d` (days since 1970-01-01 in local civil time) starts
//! at the earliest instant whose local date is `d` or later: its local
//! midnight, or the end of the gap when the clocks jump over midnight, or
//! the first of two midnights when they fall back over it.
//!
//! Every function is total and bounded: a handful of calendar
//! computations, no loop that depends on the input's size.
//!
//! # The DST shift limit
//!
//! The DST offset may differ from the standard offset by at most
//! [`DST_SHIFT_MAX_SECS`] (2 hours) either way; a rule beyond it is
//! refused ([`TzError::DstShiftOutOfRange`]), in text and in bytes. Every
//! zone of the IANA database meets it (the largest shift is
//! `Antarctica/Troll`'s 2 hours; `tests/tz_rules.rs` checks every bundled
//! zone). A change of clocks stretches or shrinks the local time between
//! two instants by the shift, so a larger one lets a daily window's
//! activation reach one more local midnight than at any fixed offset: the
//! rule `AAA12BBB-12,M3.5.0/12,M10.5.0/3`, whose spring change skips a
//! whole day, had a `standard-10-v2` lock accept more indices than its
//! `W_max` (issue 17). A profile's `W_max` bounds every rule
//! whose shift is at most its
//! [`max_dst_shift_secs`](crate::Profile::max_dst_shift_secs): 2 hours for
//! every shipped profile (`docs/FORMAT.md` §9.1,
//! `tests/wmax_dst_rules.rs`). Still open: a change that turns the local
//! clock back over midnight (no IANA zone's rule does) pairs the new day's
//! daily windows with the old day's recurring hours, and the sweep finds
//! one index above `W_max` on a small profile.
mod bytes;
mod calendar;
mod parse;
// DST rules need the format-v2 feature.
#[cfg(test)]
#[cfg(feature = "format-v2")]
mod tests;
/// Without the `format-v2` feature a rule with DST is refused, in text
/// and in bytes, and a fixed one still works.
#[cfg(test)]
#[cfg(not(feature = "format-v2"))]
mod without_dst;

use core::fmt;

use crate::time::{DAY, PER_DAY, UnixSeconds, UtcOffset};
use calendar::{Clamp, utc_year, year_start};

/// A day of the year on which a transition happens.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RuleDate {
    /// `Jn`: day `1..=365`, February 29 never counted (J60 is March 1).
    Julian(u16),
    /// `n`: zero-based day `0..=365`, February 29 counted (365 exists in
    /// leap years only; in other years the transition is at the year's end).
    Zero(u16),
    /// `Mm.w.d`: weekday `d` (`0` Sunday ..= `6` Saturday) of week `w`
    /// (`1..=4`, or `5` for the last) of month `m` (`1..=12`).
    MonthWeek {
        /// Month, `1..=12`.
        month: u8,
        /// Week of the month, `1..=5` (`5`: the last such weekday).
        week: u8,
        /// Weekday, `0` (Sunday) to `6` (Saturday).
        weekday: u8,
    },
}

/// A transition: a day of the year and a local time of day, in seconds
/// (`−167:59:59..=167:59:59`; POSIX's default is 02:00).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Transition {
    /// The day.
    pub date: RuleDate,
    /// Seconds after that day's local midnight (may be negative or more
    /// than a day).
    pub time: i32,
}

/// The daylight-saving part of a rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Dst {
    /// The offset while DST is in force, in seconds east of UTC (whole
    /// minutes within ±14 h; may be below the standard offset).
    pub offset: i32,
    /// When DST starts, in local standard time.
    pub start: Transition,
    /// When DST ends, in local daylight time.
    pub end: Transition,
}

/// A POSIX TZ rule: the lock's local time without a database. See the
/// [module docs](self).
///
/// # Examples
///
/// (With the `format-v2` feature, a default one: DST rules need it.)
///
#[cfg_attr(feature = "format-v2", doc = "```")]
#[cfg_attr(not(feature = "format-v2"), doc = "```ignore")]
/// use offpin::tz::TzRule;
/// const PARIS: TzRule = match TzRule::parse(b"CET-1CEST,M3.5.0,M10.5.0/3") {
///     Ok(rule) => rule,
///     Err(_) => panic!("not a rule"),
/// };
/// // 2025-01-15T12:00:00Z and 2025-07-15T12:00:00Z
/// assert_eq!(PARIS.offset_at(1_736_942_400).minutes(), 60);
/// assert_eq!(PARIS.offset_at(1_752_580_800).minutes(), 120);
/// // 2025-03-30: the clocks jump from 02:00 to 03:00, a 23-hour day.
/// let day = 1_743_292_800 / 86_400; // 2025-03-30 as days since 1970
/// assert_eq!(PARIS.day_start(day + 1) - PARIS.day_start(day), 23 * 3_600);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TzRule {
    std: i32,
    dst: Option<Dst>,
}

/// Why a text or bytes are not a [`TzRule`] offpin accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TzError {
    /// Nothing to parse.
    Empty,
    /// A zone abbreviation is not 3 to 30 letters, or `<…>` of 3 to 30
    /// letters, digits, `+` and `-` (at `position`).
    Abbreviation {
        /// Byte position in the text.
        position: usize,
    },
    /// An offset or a time is malformed: hours, `:mm`, `:ss` (at
    /// `position`).
    Time {
        /// Byte position in the text.
        position: usize,
    },
    /// An offset is not whole minutes within ±14 hours (offpin's
    /// [`UtcOffset`] range).
    OffsetOutOfRange,
    /// A DST zone without its `,start,end` rule (jiff refuses these too).
    MissingRule,
    /// The DST offset differs from the standard offset by more than
    /// [`DST_SHIFT_MAX_SECS`] (2 hours): no real zone does, and the
    /// published `W_max` would not bound such a lock (see the [module
    /// docs](self)).
    DstShiftOutOfRange,
    /// A transition date is malformed or out of range (at `position`).
    Date {
        /// Byte position in the text.
        position: usize,
    },
    /// Bytes after the rule (at `position`).
    Trailing {
        /// Byte position in the text.
        position: usize,
    },
    /// The 21-byte encoding has an invalid field (at byte `offset`).
    Encoding {
        /// Byte offset in the encoding.
        offset: usize,
    },
    /// The rule has daylight saving time but offpin was built without the
    /// `format-v2` feature, whose calendar arithmetic DST needs (a lock at
    /// a fixed offset leaves it out to save flash).
    DstNotBuilt,
}

impl fmt::Display for TzError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TzError::Empty => f.write_str("the TZ rule is empty"),
            TzError::Abbreviation { position } => write!(
                f,
                "a zone abbreviation at byte {position} is not 3-30 letters or <3-30 letters, digits, + or ->"
            ),
            TzError::Time { position } => write!(
                f,
                "the offset or time at byte {position} is not [+-]hh[:mm[:ss]] in range"
            ),
            TzError::OffsetOutOfRange => {
                f.write_str("an offset of the TZ rule is not whole minutes within -14:00..=+14:00")
            }
            TzError::MissingRule => f.write_str(
                "a daylight-saving zone needs its transition rule (,start[/time],end[/time])",
            ),
            TzError::DstShiftOutOfRange => f.write_str(
                "the DST offset of the TZ rule differs from the standard offset by more than 2 hours",
            ),
            TzError::Date { position } => write!(
                f,
                "the transition date at byte {position} is not Jn (1-365), n (0-365) or Mm.w.d"
            ),
            TzError::Trailing { position } => {
                write!(f, "unexpected text at byte {position} after the TZ rule")
            }
            TzError::Encoding { offset } => {
                write!(
                    f,
                    "the encoded TZ rule has an invalid field at byte {offset}"
                )
            }
            TzError::DstNotBuilt => f.write_str(
                "the TZ rule has daylight saving time; build offpin with the format-v2 feature to use it",
            ),
        }
    }
}

impl core::error::Error for TzError {}

/// The largest offset magnitude in seconds (14 hours).
const OFFSET_MAX: i32 = UtcOffset::MAX_MINUTES * 60;
/// The most a rule's DST offset may differ from its standard offset, in
/// seconds (2 hours, either way): see [`TzError::DstShiftOutOfRange`].
pub const DST_SHIFT_MAX_SECS: i32 = 2 * 3_600;
/// The largest transition time magnitude in seconds (167:59:59).
const TIME_MAX: i32 = 167 * 3_600 + 59 * 60 + 59;
/// POSIX's default transition time: 02:00.
const DEFAULT_TIME: i32 = 2 * 3_600;

/// Instants are clamped to `±2^45` seconds (about a million years) before
/// any calendar computation, so that no input overflows; every instant a
/// profile can name is within `±2^40` ([`INSTANT_BOUND`](crate::profile::INSTANT_BOUND)).
const T_LIMIT: i64 = 1 << 45;

/// `t` clamped to `±T_LIMIT`.
const fn clamp(t: i64) -> i64 {
    if t > T_LIMIT {
        T_LIMIT
    } else if t < -T_LIMIT {
        -T_LIMIT
    } else {
        t
    }
}

/// Bytes of [`TzRule::to_bytes`].
pub const TZ_RULE_LEN: usize = 21;

impl TzRule {
    /// UTC, no DST.
    pub const UTC: TzRule = TzRule { std: 0, dst: None };

    /// A fixed offset: a rule without DST.
    pub const fn fixed(offset: UtcOffset) -> TzRule {
        TzRule {
            std: offset.minutes() * 60,
            dst: None,
        }
    }

    /// The standard (non-DST) offset.
    pub const fn standard_offset(&self) -> UtcOffset {
        minutes(self.std)
    }

    /// The standard offset in seconds east of UTC.
    pub(crate) const fn standard_secs(&self) -> i64 {
        self.std as i64
    }

    /// The standard offset in minutes east of UTC (a rule's offsets are
    /// whole minutes within ±14 h, checked when it is built).
    pub(crate) const fn standard_minutes(&self) -> i32 {
        secs_to_minutes(self.std)
    }

    /// The daylight-saving part, if the rule has one.
    pub const fn dst(&self) -> Option<Dst> {
        self.dst
    }

    /// Whether the rule has daylight saving time.
    pub const fn has_dst(&self) -> bool {
        self.dst.is_some()
    }

    /// How far the clocks move at a change, in seconds: `|dst − std|`
    /// (`0` without DST), at most [`DST_SHIFT_MAX_SECS`].
    pub const fn dst_shift_secs(&self) -> i32 {
        match self.dst {
            Some(d) => (d.offset - self.std).abs(),
            None => 0,
        }
    }

    /// The DST part the calendar arithmetic uses: always `None` without
    /// the `format-v2` feature (no rule with DST is then ever built, see
    /// [`TzError::DstNotBuilt`]), so the DST code is not linked at all.
    #[inline(always)]
    pub(crate) const fn dst_rule(&self) -> Option<Dst> {
        #[cfg(feature = "format-v2")]
        {
            self.dst
        }
        #[cfg(not(feature = "format-v2"))]
        {
            None
        }
    }

    /// The DST interval of UTC year `y`: `(start, end)` as jiff computes
    /// them (see the [module docs](self)).
    fn dst_interval(&self, dst: &Dst, y: i64) -> (i64, i64) {
        let (start, _) = dst.start.utc_in(y, self.std);
        let (mut end, end_clamp) = dst.end.utc_in(y, dst.offset);
        let (lo, hi) = (year_start(y), year_start(y + 1));
        if start == lo {
            let std = i64::from(self.std);
            let leaves_year = match end_clamp {
                Clamp::Max => std > 0,
                Clamp::Min => std < 0,
                Clamp::None => end + std < lo || end + std >= hi,
            };
            if leaves_year {
                end = hi;
            }
        }
        (start, end)
    }

    /// Whether DST is in force at `t`.
    pub fn is_dst_at(&self, t: UnixSeconds) -> bool {
        let Some(dst) = self.dst_rule() else {
            return false;
        };
        let t = clamp(t);
        let (start, end) = self.dst_interval(&dst, utc_year(t));
        if start <= end {
            start <= t && t < end
        } else {
            !(end <= t && t < start)
        }
    }

    /// The offset in force at `t`, in seconds east.
    fn offset_secs_at(&self, t: UnixSeconds) -> i32 {
        match self.dst_rule() {
            Some(d) if self.is_dst_at(t) => d.offset,
            _ => self.std,
        }
    }

    /// The UTC offset in force at `t`.
    pub fn offset_at(&self, t: UnixSeconds) -> UtcOffset {
        minutes(self.offset_secs_at(t))
    }

    /// Local time at `t`, in seconds since 1970-01-01T00:00 local.
    pub fn local_seconds(&self, t: UnixSeconds) -> i64 {
        t.saturating_add(i64::from(self.offset_secs_at(t)))
    }

    /// The local day of `t`, as days since 1970-01-01.
    pub fn local_day(&self, t: UnixSeconds) -> i64 {
        // By the reciprocal: no division routine on a lock.
        PER_DAY.div_floor(self.local_seconds(t))
    }

    /// The first instant in `[lo, hi)` at which DST is (`want`) or is not
    /// in force, or `hi` if there is none. Exact: DST can change only at
    /// the first second of a UTC year and at the year's two transitions.
    fn first_with_dst(&self, dst: &Dst, lo: i64, hi: i64, want: bool) -> i64 {
        let (lo, hi) = (clamp(lo), clamp(hi));
        if lo >= hi {
            return hi;
        }
        if self.is_dst_at(lo) == want {
            return lo;
        }
        // The breakpoints in (lo, hi), in increasing order: at most three
        // per year, over the (at most two, since hi - lo <= 28 h) years.
        let mut best = hi;
        let mut y = utc_year(lo);
        let last = utc_year(hi.saturating_sub(1));
        while y <= last {
            let (start, end) = self.dst_interval(dst, y);
            let candidates = [year_start(y), start, end];
            let mut i = 0;
            while i < candidates.len() {
                #[allow(clippy::indexing_slicing, reason = "i < candidates.len()")]
                let b = candidates[i];
                if b > lo && b < best && self.is_dst_at(b) == want {
                    best = b;
                }
                i += 1;
            }
            y += 1;
        }
        // A breakpoint where DST takes the wanted value may be preceded by
        // an earlier one where it did too; `best` is the earliest found.
        best
    }

    /// The instant local day `day` (days since 1970-01-01, local) starts:
    /// the earliest instant whose local date is `day` or later.
    pub fn day_start(&self, day: i64) -> UnixSeconds {
        self.midnight_start(day.saturating_mul(DAY))
    }

    /// [`day_start`](Self::day_start) of the local midnight `local`, in
    /// local seconds since 1970-01-01 (a multiple of a day).
    pub(crate) fn midnight_start(&self, local: i64) -> UnixSeconds {
        let local = clamp(local);
        let Some(dst) = self.dst_rule() else {
            return local.saturating_sub(i64::from(self.std));
        };
        let (high, low) = if dst.offset >= self.std {
            (dst.offset, self.std)
        } else {
            (self.std, dst.offset)
        };
        // s + offset(s) >= local holds for every s >= local - low, for no
        // s < local - high, and in between exactly where the higher offset
        // is in force.
        let lo = local.saturating_sub(i64::from(high));
        let hi = local.saturating_sub(i64::from(low));
        if high == low {
            return hi;
        }
        self.first_with_dst(&dst, lo, hi, dst.offset > self.std)
    }

    /// The first local day (days since 1970-01-01) that starts at or
    /// after `t`.
    pub fn first_day_starting_at_or_after(&self, t: UnixSeconds) -> i64 {
        if self.dst_rule().is_none() {
            // Day `d` starts at `d · DAY − std`: the least `d` with
            // `d · DAY ≥ t + std` (by the reciprocal, for a lock).
            return PER_DAY.div_ceil(t.saturating_add(i64::from(self.std)));
        }
        let d0 = self.local_day(t);
        // Days start no more than a day apart from where the offset in
        // force at `t` puts them, so the answer is among these four.
        let mut d = d0.saturating_sub(1);
        while d < d0.saturating_add(2) {
            if self.day_start(d) >= t {
                return d;
            }
            d += 1;
        }
        d
    }
}

impl From<UtcOffset> for TzRule {
    fn from(offset: UtcOffset) -> Self {
        TzRule::fixed(offset)
    }
}

impl From<&TzRule> for TzRule {
    fn from(rule: &TzRule) -> Self {
        *rule
    }
}

impl Default for TzRule {
    fn default() -> Self {
        TzRule::UTC
    }
}

/// Seconds east (whole minutes within ±14 h, as parsing and decoding
/// guarantee) as a [`UtcOffset`].
/// `secs / 60` (truncated) by a multiplication, for `|secs| < 2^16` (every
/// offset is within ±14 h): no division routine on a Cortex-M0.
/// `M = ceil(2^36 / 60)` exceeds `2^36 / 60` by less than 1, so the
/// product overshoots `|secs| / 60` by less than `2^-20`, below the gap
/// of `1/60` to the next integer.
#[allow(
    clippy::cast_possible_truncation,
    clippy::cast_possible_wrap,
    reason = "|secs| < 2^16 gives a quotient below 2^11"
)]
const fn secs_to_minutes(secs: i32) -> i32 {
    const M: u64 = (1u64 << 36).div_ceil(60);
    let q = ((secs.unsigned_abs() as u64 * M) >> 36) as i32;
    if secs < 0 { -q } else { q }
}

/// Whether a DST offset `dst` is within [`DST_SHIFT_MAX_SECS`] of the
/// standard offset `std` (both within ±14 h: no overflow).
const fn shift_in_range(std: i32, dst: i32) -> bool {
    (dst - std).abs() <= DST_SHIFT_MAX_SECS
}

const fn minutes(secs: i32) -> UtcOffset {
    match UtcOffset::from_minutes(secs_to_minutes(secs)) {
        Ok(o) => o,
        Err(_) => UtcOffset::UTC,
    }
}
