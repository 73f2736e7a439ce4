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

use core::fmt;

use crate::time::{DAY, PER_DAY, UnixSeconds, UtcOffset};

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

// --- civil calendar (proleptic Gregorian), in i64 days since 1970-01-01 ---

/// Whether `y` is a leap year.
const fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

/// Days since 1970-01-01 of the civil date `y-m-d` (Howard Hinnant's
/// `days_from_civil`; `m` in `1..=12`, `d` in `1..=31`).
const fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The civil year of the day `days` since 1970-01-01.
const fn year_of_day(days: i64) -> i64 {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400;
    if m <= 2 { y + 1 } else { y }
}

/// Weekday of the day `days` since 1970-01-01: `0` Sunday ..= `6`
/// Saturday (1970-01-01 was a Thursday).
pub(crate) const fn weekday_sunday0(days: i64) -> i64 {
    (days + 4).rem_euclid(7)
}

/// Days in month `m` of year `y`.
const fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 => {
            if is_leap(y) {
                29
            } else {
                28
            }
        }
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// The UTC year of instant `t`.
const fn utc_year(t: i64) -> i64 {
    year_of_day(t.div_euclid(DAY))
}

/// The first second of year `y` (UTC).
const fn year_start(y: i64) -> i64 {
    days_from_civil(y, 1, 1) * DAY
}

impl RuleDate {
    /// The day (since 1970-01-01) this date names in year `y`, or `None`
    /// for day 365 of `n` form in a common year.
    const fn day_in(self, y: i64) -> Option<i64> {
        let jan1 = days_from_civil(y, 1, 1);
        match self {
            RuleDate::Julian(n) => {
                let n = n as i64;
                // February 29 is not counted: from March on, leap years
                // have one more day before.
                let leap_shift = if is_leap(y) && n >= 60 { 1 } else { 0 };
                Some(jan1 + n - 1 + leap_shift)
            }
            RuleDate::Zero(n) => {
                let n = n as i64;
                if n == 365 && !is_leap(y) {
                    None
                } else {
                    Some(jan1 + n)
                }
            }
            RuleDate::MonthWeek {
                month,
                week,
                weekday,
            } => {
                let m = month as i64;
                let first = days_from_civil(y, m, 1);
                let first_wd = weekday_sunday0(first);
                let to_first = (weekday as i64 - first_wd).rem_euclid(7);
                if week >= 5 {
                    let last = first + days_in_month(y, m) - 1;
                    let back = (weekday_sunday0(last) - weekday as i64).rem_euclid(7);
                    Some(last - back)
                } else {
                    Some(first + to_first + (week as i64 - 1) * 7)
                }
            }
        }
    }
}

/// Where a transition of year `y` falls, clamped to the year.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Clamp {
    /// Inside the year.
    None,
    /// Before it: the year's first second.
    Min,
    /// After it: the year's end (jiff's `23:59:59.999999999`; as an
    /// exclusive bound, the next year's first second).
    Max,
}

impl Transition {
    /// The transition of year `y` in UTC for a local time at `offset`
    /// seconds east: `(instant, clamp)`.
    const fn utc_in(self, y: i64, offset: i32) -> (i64, Clamp) {
        let (lo, hi) = (year_start(y), year_start(y + 1));
        let Some(day) = self.date.day_in(y) else {
            return (hi, Clamp::Max);
        };
        let v = day * DAY + self.time as i64 - offset as i64;
        if v < lo {
            (lo, Clamp::Min)
        } else if v >= hi {
            (hi, Clamp::Max)
        } else {
            (v, Clamp::None)
        }
    }
}

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

    /// Parses a POSIX TZ string (`std offset [dst [offset] ,start[/time],end[/time]]`,
    /// with the IANA extensions: `<+03>`-quoted names, transition times
    /// from −167 to 167 hours). Names are checked and dropped.
    ///
    /// # Errors
    ///
    /// A [`TzError`] naming the first problem. Offsets must be whole
    /// minutes within ±14 hours, the DST offset within 2 hours of the
    /// standard one ([`TzError::DstShiftOutOfRange`]); a DST zone needs
    /// its rule.
    pub const fn parse(text: &[u8]) -> Result<TzRule, TzError> {
        if text.is_empty() {
            return Err(TzError::Empty);
        }
        let mut p = Parser { text, at: 0 };
        if let Err(e) = p.abbreviation() {
            return Err(e);
        }
        let std = match p.offset() {
            Ok(o) => o,
            Err(e) => return Err(e),
        };
        if p.done() {
            return Ok(TzRule { std, dst: None });
        }
        if let Err(e) = p.abbreviation() {
            return Err(e);
        }
        if p.done() {
            return Err(TzError::MissingRule);
        }
        let offset = if p.peek() == b',' {
            if std + 3_600 > OFFSET_MAX {
                return Err(TzError::OffsetOutOfRange);
            }
            std + 3_600
        } else {
            match p.offset() {
                Ok(o) => o,
                Err(e) => return Err(e),
            }
        };
        if p.done() {
            return Err(TzError::MissingRule);
        }
        if cfg!(not(feature = "format-v2")) {
            return Err(TzError::DstNotBuilt);
        }
        if !shift_in_range(std, offset) {
            return Err(TzError::DstShiftOutOfRange);
        }
        if !p.eat(b',') {
            return Err(TzError::Trailing { position: p.at });
        }
        let start = match p.transition() {
            Ok(t) => t,
            Err(e) => return Err(e),
        };
        if !p.eat(b',') {
            return Err(TzError::Date { position: p.at });
        }
        let end = match p.transition() {
            Ok(t) => t,
            Err(e) => return Err(e),
        };
        if !p.done() {
            return Err(TzError::Trailing { position: p.at });
        }
        Ok(TzRule {
            std,
            dst: Some(Dst { offset, start, end }),
        })
    }

    /// The rule's 21-byte encoding (`docs/FORMAT.md` §9.2): `i16` standard
    /// and DST offsets in minutes east, a DST flag, and the start and end
    /// transitions (form, three bytes of date, `i32` seconds).
    #[allow(
        clippy::cast_possible_truncation,
        reason = "offsets are whole minutes within ±14 h: at most 840 minutes"
    )]
    pub const fn to_bytes(&self) -> [u8; TZ_RULE_LEN] {
        let mut out = [0u8; TZ_RULE_LEN];
        let std = (self.std / 60) as i16;
        let (flag, dst_minutes, start, end) = match self.dst {
            Some(d) => (1u8, (d.offset / 60) as i16, Some(d.start), Some(d.end)),
            None => (0u8, std, None, None),
        };
        let s = std.to_be_bytes();
        let d = dst_minutes.to_be_bytes();
        out[0] = s[0];
        out[1] = s[1];
        out[2] = d[0];
        out[3] = d[1];
        out[4] = flag;
        if let Some(t) = start {
            put_transition(&mut out, 5, t);
        }
        if let Some(t) = end {
            put_transition(&mut out, 13, t);
        }
        out
    }

    /// Reads [`to_bytes`](Self::to_bytes)' encoding back.
    ///
    /// # Errors
    ///
    /// [`TzError::Encoding`] for a field out of range (offsets beyond
    /// ±14 h, an unknown flag or date form, a date or time out of range,
    /// non-zero bytes where none belong);
    /// [`TzError::DstShiftOutOfRange`] for DST more than 2 hours from
    /// standard time.
    #[allow(
        clippy::indexing_slicing,
        reason = "i < TZ_RULE_LEN, the array's length"
    )]
    pub const fn from_bytes(b: &[u8; TZ_RULE_LEN]) -> Result<TzRule, TzError> {
        let std = i16::from_be_bytes([b[0], b[1]]) as i32 * 60;
        let dst_offset = i16::from_be_bytes([b[2], b[3]]) as i32 * 60;
        if std > OFFSET_MAX || std < -OFFSET_MAX {
            return Err(TzError::Encoding { offset: 0 });
        }
        if dst_offset > OFFSET_MAX || dst_offset < -OFFSET_MAX {
            return Err(TzError::Encoding { offset: 2 });
        }
        match b[4] {
            0 => {
                if dst_offset != std {
                    return Err(TzError::Encoding { offset: 2 });
                }
                let mut i = 5;
                while i < TZ_RULE_LEN {
                    if b[i] != 0 {
                        return Err(TzError::Encoding { offset: i });
                    }
                    i += 1;
                }
                Ok(TzRule { std, dst: None })
            }
            1 if cfg!(not(feature = "format-v2")) => Err(TzError::DstNotBuilt),
            1 => {
                let start = match get_transition(b, 5) {
                    Ok(t) => t,
                    Err(e) => return Err(e),
                };
                let end = match get_transition(b, 13) {
                    Ok(t) => t,
                    Err(e) => return Err(e),
                };
                if !shift_in_range(std, dst_offset) {
                    return Err(TzError::DstShiftOutOfRange);
                }
                Ok(TzRule {
                    std,
                    dst: Some(Dst {
                        offset: dst_offset,
                        start,
                        end,
                    }),
                })
            }
            _ => Err(TzError::Encoding { offset: 4 }),
        }
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

#[allow(
    clippy::indexing_slicing,
    clippy::cast_possible_truncation,
    reason = "at + 8 <= TZ_RULE_LEN for the two call sites; days are at most 365"
)]
const fn put_transition(out: &mut [u8; TZ_RULE_LEN], at: usize, t: Transition) {
    let (form, a, b, c) = match t.date {
        RuleDate::Zero(n) => (0u8, (n >> 8) as u8, n as u8, 0u8),
        RuleDate::Julian(n) => (1u8, (n >> 8) as u8, n as u8, 0u8),
        RuleDate::MonthWeek {
            month,
            week,
            weekday,
        } => (2u8, month, week, weekday),
    };
    out[at] = form;
    out[at + 1] = a;
    out[at + 2] = b;
    out[at + 3] = c;
    let time = t.time.to_be_bytes();
    out[at + 4] = time[0];
    out[at + 5] = time[1];
    out[at + 6] = time[2];
    out[at + 7] = time[3];
}

#[allow(
    clippy::indexing_slicing,
    reason = "at + 8 <= TZ_RULE_LEN for the two call sites"
)]
const fn get_transition(b: &[u8; TZ_RULE_LEN], at: usize) -> Result<Transition, TzError> {
    let day = u16::from_be_bytes([b[at + 1], b[at + 2]]);
    let date = match b[at] {
        0 if day <= 365 && b[at + 3] == 0 => RuleDate::Zero(day),
        1 if day >= 1 && day <= 365 && b[at + 3] == 0 => RuleDate::Julian(day),
        2 if b[at + 1] >= 1
            && b[at + 1] <= 12
            && b[at + 2] >= 1
            && b[at + 2] <= 5
            && b[at + 3] <= 6 =>
        {
            RuleDate::MonthWeek {
                month: b[at + 1],
                week: b[at + 2],
                weekday: b[at + 3],
            }
        }
        _ => return Err(TzError::Encoding { offset: at }),
    };
    let time = i32::from_be_bytes([b[at + 4], b[at + 5], b[at + 6], b[at + 7]]);
    if time > TIME_MAX || time < -TIME_MAX {
        return Err(TzError::Encoding { offset: at + 4 });
    }
    Ok(Transition { date, time })
}

/// A `const` cursor over the rule's text.
struct Parser<'a> {
    text: &'a [u8],
    at: usize,
}

#[allow(
    clippy::indexing_slicing,
    reason = "every index is checked against text.len() first"
)]
impl Parser<'_> {
    const fn done(&self) -> bool {
        self.at >= self.text.len()
    }

    /// The next byte, or `0` at the end.
    const fn peek(&self) -> u8 {
        if self.at < self.text.len() {
            self.text[self.at]
        } else {
            0
        }
    }

    const fn eat(&mut self, b: u8) -> bool {
        if self.peek() == b && !self.done() {
            self.at += 1;
            true
        } else {
            false
        }
    }

    /// A zone abbreviation: 3-30 letters, or `<` 3-30 of letters, digits,
    /// `+`, `-` `>`.
    const fn abbreviation(&mut self) -> Result<(), TzError> {
        let position = self.at;
        let quoted = self.eat(b'<');
        let start = self.at;
        while !self.done() {
            let b = self.peek();
            let ok = if quoted {
                b.is_ascii_alphanumeric() || b == b'+' || b == b'-'
            } else {
                b.is_ascii_alphabetic()
            };
            if !ok {
                break;
            }
            self.at += 1;
        }
        let len = self.at - start;
        if len < 3 || len > 30 || (quoted && !self.eat(b'>')) {
            return Err(TzError::Abbreviation { position });
        }
        Ok(())
    }

    /// Up to `max_digits` decimal digits (at least one), as a number.
    const fn number(&mut self, max_digits: usize) -> Option<i32> {
        let start = self.at;
        let mut n: i32 = 0;
        while !self.done() && self.at - start < max_digits && self.peek().is_ascii_digit() {
            n = n * 10 + (self.peek() - b'0') as i32;
            self.at += 1;
        }
        if self.at == start { None } else { Some(n) }
    }

    /// Exactly two decimal digits below 60.
    const fn sexagesimal(&mut self) -> Option<i32> {
        let start = self.at;
        match self.number(2) {
            Some(n) if self.at - start == 2 && n < 60 => Some(n),
            _ => None,
        }
    }

    /// `[+-]hh[:mm[:ss]]` with `hh <= max_hours`, in seconds.
    const fn hms(&mut self, max_hours: i32) -> Result<i32, TzError> {
        let position = self.at;
        let negative = if self.eat(b'-') {
            true
        } else {
            self.eat(b'+');
            false
        };
        let digits = if max_hours > 99 { 3 } else { 2 };
        let hours = match self.number(digits) {
            Some(h) if h <= max_hours => h,
            _ => return Err(TzError::Time { position }),
        };
        let mut secs = hours * 3_600;
        if self.eat(b':') {
            match self.sexagesimal() {
                Some(m) => secs += m * 60,
                None => return Err(TzError::Time { position }),
            }
            if self.eat(b':') {
                match self.sexagesimal() {
                    Some(s) => secs += s,
                    None => return Err(TzError::Time { position }),
                }
            }
        }
        Ok(if negative { -secs } else { secs })
    }

    /// A POSIX offset (hours west: `-1` is UTC+1), as seconds east.
    const fn offset(&mut self) -> Result<i32, TzError> {
        let west = match self.hms(24) {
            Ok(s) => s,
            Err(e) => return Err(e),
        };
        let east = -west;
        if east % 60 != 0 || east > OFFSET_MAX || east < -OFFSET_MAX {
            return Err(TzError::OffsetOutOfRange);
        }
        Ok(east)
    }

    /// `date[/time]`.
    #[allow(
        clippy::cast_possible_truncation,
        reason = "each number is range-checked (day <= 365, month <= 12, week <= 5, weekday <= 6) first"
    )]
    const fn transition(&mut self) -> Result<Transition, TzError> {
        let position = self.at;
        let date = if self.eat(b'J') {
            match self.number(3) {
                Some(n) if n >= 1 && n <= 365 => RuleDate::Julian(n as u16),
                _ => return Err(TzError::Date { position }),
            }
        } else if self.eat(b'M') {
            let month = self.number(2);
            let dot1 = self.eat(b'.');
            let week = self.number(1);
            let dot2 = self.eat(b'.');
            let weekday = self.number(1);
            match (month, dot1, week, dot2, weekday) {
                (Some(m), true, Some(w), true, Some(d))
                    if m >= 1 && m <= 12 && w >= 1 && w <= 5 && d <= 6 =>
                {
                    RuleDate::MonthWeek {
                        month: m as u8,
                        week: w as u8,
                        weekday: d as u8,
                    }
                }
                _ => return Err(TzError::Date { position }),
            }
        } else {
            match self.number(3) {
                Some(n) if n <= 365 => RuleDate::Zero(n as u16),
                _ => return Err(TzError::Date { position }),
            }
        };
        let time = if self.eat(b'/') {
            match self.hms(167) {
                Ok(t) => t,
                Err(e) => return Err(e),
            }
        } else {
            DEFAULT_TIME
        };
        Ok(Transition { date, time })
    }
}

impl fmt::Display for TzRule {
    /// The rule as a POSIX TZ string with numeric names
    /// (`<+01>-1<+02>,M3.5.0,M10.5.0/3`); it parses back to the same rule.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = |f: &mut fmt::Formatter<'_>, east: i32| {
            let sign = if east < 0 { '-' } else { '+' };
            let m = east.unsigned_abs() / 60;
            if m.is_multiple_of(60) {
                write!(f, "<{sign}{:02}>", m / 60)
            } else {
                write!(f, "<{sign}{:02}{:02}>", m / 60, m % 60)
            }
        };
        let hms = |f: &mut fmt::Formatter<'_>, secs: i32| {
            if secs < 0 {
                f.write_str("-")?;
            }
            let s = secs.unsigned_abs();
            write!(f, "{}", s / 3_600)?;
            if !s.is_multiple_of(3_600) {
                write!(f, ":{:02}", s % 3_600 / 60)?;
                if !s.is_multiple_of(60) {
                    write!(f, ":{:02}", s % 60)?;
                }
            }
            Ok(())
        };
        let transition = |f: &mut fmt::Formatter<'_>, t: Transition| {
            match t.date {
                RuleDate::Julian(n) => write!(f, "J{n}")?,
                RuleDate::Zero(n) => write!(f, "{n}")?,
                RuleDate::MonthWeek {
                    month,
                    week,
                    weekday,
                } => write!(f, "M{month}.{week}.{weekday}")?,
            }
            if t.time != DEFAULT_TIME {
                f.write_str("/")?;
                hms(f, t.time)?;
            }
            Ok(())
        };
        name(f, self.std)?;
        hms(f, -self.std)?;
        if let Some(d) = self.dst {
            name(f, d.offset)?;
            if d.offset != self.std + 3_600 {
                hms(f, -d.offset)?;
            }
            f.write_str(",")?;
            transition(f, d.start)?;
            f.write_str(",")?;
            transition(f, d.end)?;
        }
        Ok(())
    }
}

/// Without the `format-v2` feature a rule with DST is refused, in text
/// and in bytes, and a fixed one still works.
#[cfg(test)]
#[cfg(not(feature = "format-v2"))]
mod without_dst {
    use super::*;

    #[test]
    fn dst_rules_are_refused_without_format_v2() {
        assert_eq!(
            TzRule::parse(b"CET-1CEST,M3.5.0,M10.5.0/3"),
            Err(TzError::DstNotBuilt)
        );
        let mut bytes = [0u8; TZ_RULE_LEN];
        bytes[..5].copy_from_slice(&[0, 60, 0, 120, 1]);
        assert_eq!(TzRule::from_bytes(&bytes), Err(TzError::DstNotBuilt));
        let fixed = TzRule::parse(b"<+0530>-5:30").unwrap();
        assert_eq!(fixed.standard_offset().minutes(), 330);
        assert_eq!(fixed.day_start(1), DAY - 330 * 60);
        assert_eq!(fixed.first_day_starting_at_or_after(DAY - 330 * 60), 1);
        assert_eq!(fixed.first_day_starting_at_or_after(DAY - 330 * 60 + 1), 2);
    }
}

// DST rules need the format-v2 feature.
#[cfg(test)]
#[cfg(feature = "format-v2")]
mod tests {
    use super::*;

    fn rule(s: &str) -> TzRule {
        TzRule::parse(s.as_bytes()).unwrap()
    }

    #[test]
    fn civil_dates_round_trip() {
        for days in (-800_000i64..800_000).step_by(97) {
            let y = year_of_day(days);
            assert!(days_from_civil(y, 1, 1) <= days && days < days_from_civil(y + 1, 1, 1));
        }
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2024, 1, 1), 19_723);
        assert_eq!(weekday_sunday0(19_723), 1, "2024-01-01 was a Monday");
    }

    #[test]
    fn rules_parse_and_display_round_trip() {
        for text in [
            "CET-1CEST,M3.5.0,M10.5.0/3",
            "EST5EDT,M3.2.0,M11.1.0",
            "AEST-10AEDT,M10.1.0,M4.1.0/3",
            "IST-5:30",
            "<-03>3",
            "IST-1GMT0,M10.5.0,M3.5.0/1",
            "<+1030>-10:30<+11>-11,M10.1.0,M4.1.0",
            "<-02>2<-01>,M3.5.0/-1,M10.5.0/0",
            "EST5EDT,0/0,J365/25",
            "<+00>0<+02>-2,M3.5.0/1,M10.5.0/3",
            "XXX-2<+01>-1,0/0,J365/23",
            "AAA3BBB,J60/1:30:15,300/-167",
        ] {
            let r = rule(text);
            let shown = std::format!("{r}");
            assert_eq!(rule(&shown), r, "{text} -> {shown}");
            assert_eq!(TzRule::from_bytes(&r.to_bytes()), Ok(r), "{text}");
        }
        for bad in [
            "",
            "CE-1",
            "CET",
            "CET-1CEST",
            "CET-1CEST,M3.5.0",
            "CET-1CEST,M13.5.0,M10.5.0",
            "CET-1CEST,M3.6.0,M10.5.0",
            "CET-1CEST,M3.5.7,M10.5.0",
            "CET-1CEST,J0,J365",
            "CET-1CEST,366,J365",
            "CET-15",
            "CET-1:00:30",
            "CET-1 ",
            "<+0>0",
            "CET-1CEST,M3.5.0/168,M10.5.0",
        ] {
            assert!(TzRule::parse(bad.as_bytes()).is_err(), "{bad:?}");
        }
        // The DST shift: 2 hours either way, not a minute more.
        for (text, shift) in [
            ("<+00>0<+02>-2,M3.5.0/1,M10.5.0/3", Ok(7_200)),
            ("AAA0BBB2,M3.5.0,M10.5.0", Ok(7_200)),
            (
                "AAA0BBB-2:01,M3.5.0,M10.5.0",
                Err(TzError::DstShiftOutOfRange),
            ),
            ("AAA0BBB1:59,M3.5.0,M10.5.0", Ok(7_140)),
            (
                "AAA0BBB2:01,M3.5.0,M10.5.0",
                Err(TzError::DstShiftOutOfRange),
            ),
            (
                "AAA12BBB-12,M3.5.0/12,M10.5.0/3",
                Err(TzError::DstShiftOutOfRange),
            ),
            ("AAA-13BBB-14,M3.5.0,M10.5.0", Ok(3_600)),
        ] {
            let parsed = TzRule::parse(text.as_bytes());
            assert_eq!(parsed.map(|r| r.dst_shift_secs()), shift, "{text}");
        }
    }

    #[test]
    fn paris_days_follow_the_rule() {
        let paris = rule("CET-1CEST,M3.5.0,M10.5.0/3");
        // 2025-03-30 (spring) and 2025-10-26 (autumn), days since 1970.
        let spring = days_from_civil(2025, 3, 30);
        let autumn = days_from_civil(2025, 10, 26);
        assert_eq!(paris.day_start(spring), spring * DAY - 3_600);
        assert_eq!(paris.day_start(spring + 1), (spring + 1) * DAY - 7_200);
        assert_eq!(
            paris.day_start(autumn + 1) - paris.day_start(autumn),
            25 * 3_600
        );
        // 01:00 UTC on the spring day is 03:00 CEST.
        let at = spring * DAY + 3_600;
        assert_eq!(paris.offset_at(at).minutes(), 120);
        assert_eq!(paris.offset_at(at - 1).minutes(), 60);
        assert_eq!(paris.first_day_starting_at_or_after(at), spring + 1);
        assert_eq!(
            paris.first_day_starting_at_or_after(paris.day_start(spring)),
            spring
        );
    }

    /// A zone whose clocks jump over midnight: the day starts at the end
    /// of the gap; one that falls back over midnight: at the first one.
    #[test]
    fn midnight_gaps_and_folds() {
        // DST from the first Sunday of November at 00:00 (to 01:00).
        let r = rule("<-03>3<-02>,M11.1.0/0,M2.3.0/0");
        let day = days_from_civil(2025, 11, 2);
        // Local midnight does not exist: the day starts at 00:00 -03 =
        // 03:00 UTC, when the clocks show 01:00 -02.
        assert_eq!(r.day_start(day), day * DAY + 3 * 3_600);
        assert_eq!(r.local_day(r.day_start(day)), day);
        assert_eq!(r.local_day(r.day_start(day) - 1), day - 1);
        // DST ends on the third Sunday of February at 00:00 -02: the
        // clocks fall back to 23:00, so the 14th is 25 hours long.
        let end = days_from_civil(2026, 2, 15);
        assert_eq!(r.day_start(end), end * DAY + 3 * 3_600);
        assert_eq!(r.day_start(end) - r.day_start(end - 1), 25 * 3_600);
        // Ending at 01:00 -02 instead, midnight happens twice: the day
        // starts at the first, and the second belongs to a started day.
        let r = rule("<-03>3<-02>,M11.1.0/0,M2.3.0/1");
        assert_eq!(r.day_start(end), end * DAY + 2 * 3_600);
        assert_eq!(r.day_start(end + 1) - r.day_start(end), 25 * 3_600);
        assert_eq!(
            r.first_day_starting_at_or_after(end * DAY + 3 * 3_600),
            end + 1
        );
    }
}
