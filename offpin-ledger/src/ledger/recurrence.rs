//! Weekly recurring codes through the ledger: from a span asked for
//! (`starts_at`, `ends_at`) and a schedule (weekdays, daily hours) to the
//! engine's request, whole weeks of the profile, refused rather than
//! issued when the code would open outside the span.
//!
//! A recurring code opens in **slots**: on each day of its weeks whose
//! weekday is in its mask, from `hours.from:00` to `hours.to:00` the
//! lock's local time. Its weeks are chosen so that:
//!
//! - no slot of its weeks opens before `starts_at − rounding` or closes
//!   after `ends_at + rounding` (the issuer never lies: a code that would
//!   open longer than asked is refused, [`LedgerError::RecurrenceOutsideSpan`]
//!   naming `starts_at` or `ends_at`);
//! - every slot of the schedule inside the span is one of its slots (the
//!   weeks of `starts_at` and of `ends_at`'s last second, or the next and
//!   the previous week when all of their slots lie outside the span).
//!
//! So a span from a Monday 09:00 to a Friday 17:00, for Monday to Friday
//! 09:00–17:00, is one week with no rounding at all. Slots are bounded in
//! Unix time by the zone's extreme offsets (its standard offset, plus or
//! minus its daylight-saving shift): exact at a fixed offset, and on the
//! safe side (a refusal, never a longer code) across a DST change.

use chrono::{DateTime, Utc};

use super::LedgerError;
use crate::chrono_time::{to_unix, unix_rfc3339};
use offpin::issue::{IssueError, Request};
use offpin::profile::Profile;
use offpin::recurring::{Hours, Weekdays};
use offpin::time::{DAY, HOUR, UnixSeconds};
use offpin::tz::TzRule;

/// A schedule on one profile and lock: where its slots fall.
struct Slots<'a> {
    profile: &'a Profile,
    zone: TzRule,
    days: Weekdays,
    hours: Hours,
}

impl Slots<'_> {
    /// The profile's week (counted from its epoch) of the local day of `t`.
    fn week_of(&self, t: UnixSeconds) -> i64 {
        (self.zone.local_day(t) - self.profile.epoch_day()).div_euclid(7)
    }

    /// The earliest a slot of week `w` can open and the latest one can
    /// close, in Unix seconds (`None`: the mask has no day, never for a
    /// menu's mask).
    fn bounds(&self, w: i64) -> Option<(UnixSeconds, UnixSeconds)> {
        let std = self.zone.standard_offset().seconds();
        let shift = i64::from(self.zone.dst_shift_secs());
        let first_day = self.profile.epoch_day().checked_add(w.checked_mul(7)?)?;
        let mut out: Option<(i64, i64)> = None;
        for k in 0..7u8 {
            let weekday = u8::try_from((self.profile.epoch_weekday() + i64::from(k)) % 7).ok()?;
            if !self.days.contains(weekday) {
                continue;
            }
            let midnight = first_day.checked_add(i64::from(k))?.checked_mul(DAY)?;
            let open = midnight + i64::from(self.hours.from) * HOUR - (std + shift);
            let close = midnight + i64::from(self.hours.to) * HOUR - (std - shift);
            out = Some(out.map_or((open, close), |(o, c)| (o.min(open), c.max(close))));
        }
        out
    }
}

/// The engine's request for a recurring code over `[starts_at, ends_at)`
/// on `days` during `hours`, each end allowed to move outward by
/// `rounding` seconds (see the module documentation).
///
/// # Errors
///
/// [`LedgerError::Issue`] for an end not after the start, a kind the
/// profile lacks, a schedule outside its menu, a span before its epoch or
/// after its lifetime, or longer than its longest code;
/// [`LedgerError::RecurrenceOutsideSpan`] when the code would open outside
/// the span, or never within it.
pub(super) fn request(
    profile: &Profile,
    zone: TzRule,
    (starts_at, ends_at): (DateTime<Utc>, DateTime<Utc>),
    (days, hours): (Weekdays, Hours),
    rounding: u32,
) -> Result<Request, LedgerError> {
    let (s, e) = (to_unix(&starts_at), to_unix(&ends_at));
    if e <= s {
        return Err(IssueError::EndNotAfterStart.into());
    }
    // The kind, the menu and the first week's range, by the engine.
    profile.plan(
        &Request::recurring(s, 1, days, hours)
            .with_zone(zone)
            .with_max_rounding_secs(u32::MAX),
    )?;
    let slots = Slots {
        profile,
        zone,
        days,
        hours,
    };
    let r = i64::from(rounding);
    let bounds = |w| slots.bounds(w).ok_or_else(|| empty(days, hours));
    let mut first = slots.week_of(s);
    let (open, close) = bounds(first)?;
    if close <= s {
        first += 1;
    } else if open < s - r {
        return Err(outside(
            "starts_at",
            format!(
                "a recurring code opens in whole weeks: the week of starts_at {} has a slot ({days} {hours} local time) that opens at {}, before it; send a starts_at at or before that slot, or one after the week's last slot (max_time_rounding allows {rounding} s)",
                unix_rfc3339(s),
                unix_rfc3339(open)
            ),
        ));
    }
    let mut last = slots.week_of(e - 1);
    let (open, close) = bounds(last)?;
    if open >= e {
        last -= 1;
    } else if close > e + r {
        return Err(outside(
            "ends_at",
            format!(
                "a recurring code opens in whole weeks: the week of ends_at {} has a slot ({days} {hours} local time) that closes at {}, after it; send an ends_at at or after that slot, or one before the week's first slot (max_time_rounding allows {rounding} s)",
                unix_rfc3339(e),
                unix_rfc3339(close)
            ),
        ));
    }
    if last < first {
        return Err(outside(
            "ends_at",
            format!(
                "no slot of {days} {hours} (local time) falls between starts_at {} and ends_at {}: the code would never open",
                unix_rfc3339(s),
                unix_rfc3339(e)
            ),
        ));
    }
    let weeks = u16::try_from(last - first + 1).unwrap_or(u16::MAX);
    let week_start = zone.day_start(profile.epoch_day() + 7 * first);
    Ok(Request::recurring(week_start, weeks, days, hours).with_zone(zone))
}

fn outside(field: &'static str, why: String) -> LedgerError {
    LedgerError::RecurrenceOutsideSpan { field, why }
}

fn empty(days: Weekdays, hours: Hours) -> LedgerError {
    outside(
        "offpin_recurrence",
        format!("the schedule {days} {hours} has no day"),
    )
}
