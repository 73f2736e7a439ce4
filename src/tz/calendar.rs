//! The civil calendar (proleptic Gregorian, in `i64` days since
//! 1970-01-01), and where a rule's dates and transitions fall in a year.

use super::{RuleDate, Transition};
use crate::time::DAY;

/// Whether `y` is a leap year.
const fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

/// Days since 1970-01-01 of the civil date `y-m-d` (Howard Hinnant's
/// `days_from_civil`; `m` in `1..=12`, `d` in `1..=31`).
pub(super) const fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The civil year of the day `days` since 1970-01-01.
pub(super) const fn year_of_day(days: i64) -> i64 {
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
pub(super) const fn weekday_sunday0(days: i64) -> i64 {
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
pub(super) const fn utc_year(t: i64) -> i64 {
    year_of_day(t.div_euclid(DAY))
}

/// The first second of year `y` (UTC).
pub(super) const fn year_start(y: i64) -> i64 {
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
pub(super) enum Clamp {
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
    pub(super) const fn utc_in(self, y: i64, offset: i32) -> (i64, Clamp) {
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
