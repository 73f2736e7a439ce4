//! Issuing: from a request (a window, a kind, a variance) to the grant a
//! PIN will encode.
//!
//! [`Request`] says what the operator wants; [`Profile::plan`] turns it
//! into the [`Grant`] that encodes it, rounding the window *outward* to
//! the profile's units (hours, or the lock's local days) only as far as
//! the request's `max_rounding_secs` allows, and reports the window
//! actually encoded. [`Codec::issue`](crate::Codec::issue) adds the PIN.
//!
//! Choice of kind for a time-bound request: the hourly kind if the window,
//! rounded out to whole hours, fits its longest length and the rounding
//! allowance; otherwise the daily kind under the same two conditions;
//! otherwise an error naming what would be needed. Only then is the start
//! of the chosen kind checked against the epoch and the lifetime (see
//! `docs/FORMAT.md` §5 for the order of the checks).
//!
//! [`Profile::plan`] is total: every request, whatever its times (`i64::MIN`
//! to `i64::MAX`), gets a plan or an [`IssueError`]. Its arithmetic is done
//! in `i128`, where no sum or product of its inputs can overflow.

use core::fmt;

use crate::ff1::Ff1Error;
use crate::grant::GrantError;
use crate::grant::{Grant, Recurrence, RevokeTarget, Span};
use crate::pin::Pin;
use crate::profile::Kind;
use crate::profile::Profile;
use crate::recurring::{Hours, Weekdays};
use crate::time::{DAY, HOUR, UnixSeconds, UtcOffset, Window, div_ceil, div_floor};
use crate::tz::TzRule;

/// What to issue.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Want {
    /// A code valid in `[starts_at, ends_at)`.
    TimeBound {
        /// Requested start.
        starts_at: UnixSeconds,
        /// Requested end (exclusive).
        ends_at: UnixSeconds,
    },
    /// A code that opens once, first used within the profile's use window
    /// after `starts_at`.
    OneTime {
        /// Requested start of the use window.
        starts_at: UnixSeconds,
    },
    /// An ongoing code in a slot.
    Ongoing {
        /// The slot, `0..ongoing_slots`.
        slot: u32,
    },
    /// A code that revokes an ongoing slot when typed at the lock.
    RevokeSlot {
        /// The slot to revoke.
        slot: u32,
    },
    /// A code that revokes every time-bound and one-time code whose window
    /// started before `at` (rounded down to the hour).
    RevokeStartedBefore {
        /// The watermark.
        at: UnixSeconds,
    },
    /// A clock-setting code (format v2) for the instant `at`, rounded down
    /// to the profile's clock-code unit: typed at a lock whose clock is
    /// behind `at` by at most the profile's step, it moves the clock to it.
    ClockSet {
        /// The instant to set the clock to.
        at: UnixSeconds,
    },
    /// A weekly recurring code (format v2): on the days of `days`, from
    /// `hours.from:00` to `hours.to:00` local time, for `weeks` whole weeks
    /// from the week (of the profile's epoch) that contains `starts_at`.
    Recurring {
        /// An instant in the first week; the code starts at that week's
        /// first local midnight, which must be within the request's
        /// rounding allowance before it.
        starts_at: UnixSeconds,
        /// Length in whole weeks.
        weeks: u16,
        /// The weekdays (one of the profile's menu).
        days: Weekdays,
        /// The daily hours (one of the profile's menu).
        hours: Hours,
    },
}

/// An issuing request: what to issue plus the knobs that shape it.
///
/// # Examples
///
/// ```
/// use offpin::{Request, UtcOffset};
/// let req = Request::time_bound(1_767_225_600, 1_767_484_800)
///     .with_variance(1)
///     .with_max_rounding_secs(3_600)
///     .with_utc_offset(UtcOffset::from_minutes(60)?);
/// assert_eq!(req.variance, 1);
/// # Ok::<(), offpin::OffsetError>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Request {
    /// What to issue.
    pub want: Want,
    /// Variance `0..V` (servers allocate the lowest free one).
    pub variance: u8,
    /// Supersede lineage for time-bound codes (`0`: none).
    pub lineage: u8,
    /// How far each end of the window may move outward, in seconds.
    pub max_rounding_secs: u32,
    /// The lock's local time (used by daily windows): a fixed offset, or
    /// the DST rule the lock keeps.
    pub zone: TzRule,
}

impl Request {
    const fn new(want: Want) -> Self {
        Request {
            want,
            variance: 0,
            lineage: 0,
            max_rounding_secs: 0,
            zone: TzRule::UTC,
        }
    }
    /// A time-bound code for `[starts_at, ends_at)`.
    pub const fn time_bound(starts_at: UnixSeconds, ends_at: UnixSeconds) -> Self {
        Self::new(Want::TimeBound { starts_at, ends_at })
    }
    /// A one-time code whose use window opens at `starts_at`.
    pub const fn one_time(starts_at: UnixSeconds) -> Self {
        Self::new(Want::OneTime { starts_at })
    }
    /// An ongoing code in `slot`.
    pub const fn ongoing(slot: u32) -> Self {
        Self::new(Want::Ongoing { slot })
    }
    /// A revocation code for ongoing `slot`.
    pub const fn revoke_slot(slot: u32) -> Self {
        Self::new(Want::RevokeSlot { slot })
    }
    /// A revocation code for every window that started before `at`.
    pub const fn revoke_started_before(at: UnixSeconds) -> Self {
        Self::new(Want::RevokeStartedBefore { at })
    }
    /// A clock-setting code for the instant `at` (rounded down to the
    /// profile's unit, within the rounding allowance).
    pub const fn clock_set(at: UnixSeconds) -> Self {
        Self::new(Want::ClockSet { at })
    }
    /// A weekly recurring code: `days` from `hours.from` to `hours.to`
    /// local time, for `weeks` weeks from the week containing `starts_at`.
    pub const fn recurring(
        starts_at: UnixSeconds,
        weeks: u16,
        days: Weekdays,
        hours: Hours,
    ) -> Self {
        Self::new(Want::Recurring {
            starts_at,
            weeks,
            days,
            hours,
        })
    }
    /// Sets the variance.
    pub const fn with_variance(mut self, variance: u8) -> Self {
        self.variance = variance;
        self
    }
    /// Sets the supersede lineage.
    pub const fn with_lineage(mut self, lineage: u8) -> Self {
        self.lineage = lineage;
        self
    }
    /// Sets how far each end of the window may be moved outward.
    pub const fn with_max_rounding_secs(mut self, secs: u32) -> Self {
        self.max_rounding_secs = secs;
        self
    }
    /// Sets the lock's local time to a fixed UTC offset.
    pub const fn with_utc_offset(mut self, offset: UtcOffset) -> Self {
        self.zone = TzRule::fixed(offset);
        self
    }
    /// Sets the lock's local time to a rule (with daylight saving time,
    /// for a lock that keeps one).
    pub const fn with_zone(mut self, zone: TzRule) -> Self {
        self.zone = zone;
        self
    }
}

/// Why a request cannot be issued.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum IssueError {
    /// `ends_at` is not after `starts_at`.
    EndNotAfterStart,
    /// The window starts before the profile's epoch.
    BeforeEpoch {
        /// The profile's epoch.
        epoch: UnixSeconds,
    },
    /// The window starts after the profile's lifetime.
    BeyondLifetime {
        /// Last instant at which a window may start.
        last_start: UnixSeconds,
    },
    /// The window is longer than any kind of the profile allows.
    TooLong {
        /// Requested length in seconds.
        requested_secs: i64,
        /// Longest window the profile can encode, in seconds.
        max_secs: i64,
    },
    /// Encoding the window needs more rounding than the request's
    /// [`max_rounding_secs`](Request::max_rounding_secs) allows.
    RoundingTooLarge {
        /// Outward rounding needed at the worse end, in seconds.
        needed_secs: i64,
        /// The request's `max_rounding_secs`.
        allowed_secs: u32,
    },
    /// The recurring schedule is not in the profile's menu; the nearest
    /// schedule it can express is named.
    NotInMenu {
        /// The weekdays asked for.
        days: Weekdays,
        /// The hours asked for.
        hours: Hours,
        /// The menu's nearest weekdays.
        nearest_days: Weekdays,
        /// The menu's nearest hours.
        nearest_hours: Hours,
    },
    /// The grant is outside the profile's ranges (variance, lineage, slot,
    /// disabled kind).
    Grant(GrantError),
    /// The FF1 cipher refused the numeral (cannot happen for a valid
    /// profile; reported rather than panicking).
    Cipher(Ff1Error),
}

impl IssueError {
    /// A stable snake_case code (`end_not_after_start`, `before_epoch`,
    /// `beyond_lifetime`, `too_long`, `rounding_too_large`, `not_in_menu`,
    /// a [`GrantError::code`], `cipher`); the `Display` text is
    /// informative English.
    ///
    /// ```
    /// use offpin::Request;
    /// use offpin::profile::shipped::STANDARD_10 as P;
    /// let e = P.plan(&Request::time_bound(P.epoch(), P.epoch())).unwrap_err();
    /// assert_eq!(e.code(), "end_not_after_start");
    /// ```
    pub const fn code(&self) -> &'static str {
        match self {
            IssueError::EndNotAfterStart => "end_not_after_start",
            IssueError::BeforeEpoch { .. } => "before_epoch",
            IssueError::BeyondLifetime { .. } => "beyond_lifetime",
            IssueError::TooLong { .. } => "too_long",
            IssueError::RoundingTooLarge { .. } => "rounding_too_large",
            IssueError::NotInMenu { .. } => "not_in_menu",
            IssueError::Grant(e) => e.code(),
            IssueError::Cipher(_) => "cipher",
        }
    }
}

impl fmt::Display for IssueError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IssueError::EndNotAfterStart => f.write_str("ends_at must be after starts_at"),
            IssueError::BeforeEpoch { epoch } => write!(
                f,
                "the window starts before the profile's epoch (Unix time {epoch})"
            ),
            IssueError::BeyondLifetime { last_start } => write!(
                f,
                "the window starts after the profile's lifetime (last start: Unix time {last_start})"
            ),
            IssueError::TooLong {
                requested_secs,
                max_secs,
            } => write!(
                f,
                "the window lasts {} h but the profile encodes at most {} h",
                requested_secs / HOUR,
                max_secs / HOUR
            ),
            IssueError::RoundingTooLarge {
                needed_secs,
                allowed_secs,
            } => write!(
                f,
                "encoding the window needs {needed_secs} s of rounding but max_rounding_secs is {allowed_secs} (raise it, or align the window to the profile's hours or the lock's local days)"
            ),
            IssueError::NotInMenu {
                days,
                hours,
                nearest_days,
                nearest_hours,
            } => write!(
                f,
                "the profile cannot express {days} {hours}; the nearest schedule it can is {nearest_days} {nearest_hours}"
            ),
            IssueError::Grant(e) => fmt::Display::fmt(e, f),
            IssueError::Cipher(e) => write!(f, "cipher error: {e}"),
        }
    }
}

/// The wrapped [`GrantError`] or [`Ff1Error`] is the `source()` of
/// [`IssueError::Grant`] and [`IssueError::Cipher`]; their `Display` shows
/// its message too, so that one line says what is wrong.
impl core::error::Error for IssueError {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            IssueError::Grant(e) => Some(e),
            IssueError::Cipher(e) => Some(e),
            _ => None,
        }
    }
}

impl From<GrantError> for IssueError {
    fn from(e: GrantError) -> Self {
        IssueError::Grant(e)
    }
}

impl From<Ff1Error> for IssueError {
    fn from(e: Ff1Error) -> Self {
        IssueError::Cipher(e)
    }
}

/// How a request became a grant: the grant, the window it really encodes
/// and how far that window was moved.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Plan {
    /// The grant to encode.
    pub grant: Grant,
    /// The window the lock will honour (`None` for ongoing and revocation
    /// codes; for revocations before a time, see [`Plan::effective_at`]).
    pub window: Option<Window>,
    /// For a revocation before a time: the watermark actually encoded;
    /// for a clock-setting code: the instant the clock moves to.
    pub effective_at: Option<UnixSeconds>,
    /// Seconds the start moved earlier (0 if exact).
    pub start_rounded_secs: i64,
    /// Seconds the end moved later (0 if exact; negative for a one-time
    /// code, whose fixed-length use window moves with its start).
    pub end_rounded_secs: i64,
}

impl Plan {
    /// Whether the encoded window differs from the requested one.
    pub const fn was_rounded(&self) -> bool {
        self.start_rounded_secs != 0 || self.end_rounded_secs != 0
    }
}

/// A PIN together with the plan it encodes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Issued {
    /// The PIN to hand out.
    pub pin: Pin,
    /// The grant and the window it encodes.
    pub plan: Plan,
}

/// Rounds `[start, end)` outward to multiples of `unit` counted from
/// `origin`; returns (first unit, number of units, start moved, end moved).
/// `i128`: no input makes it overflow.
fn round_out(origin: i128, unit: i128, start: i128, end: i128) -> (i128, i128, i128, i128) {
    let first = div_floor(start - origin, unit);
    let last = div_ceil(end - origin, unit);
    let start_moved = start - (origin + first * unit);
    let end_moved = origin + last * unit - end;
    (first, last - first, start_moved, end_moved)
}

/// An `i128` that is known to fit (a rounding below a day, an instant of
/// the profile's lifetime) as an `i64`; saturates rather than wrap.
fn narrow(x: i128) -> i64 {
    i64::try_from(x).unwrap_or(if x < 0 { i64::MIN } else { i64::MAX })
}

/// A candidate encoding of a time-bound window in one kind.
struct Candidate {
    first: i128,
    units: i128,
    rounding: i128,
    fits_length: bool,
}

impl Profile {
    fn span_candidate(&self, origin: i128, unit: i128, max_units: u32, w: &Want) -> Candidate {
        let (start, end) = match *w {
            Want::TimeBound { starts_at, ends_at } => (i128::from(starts_at), i128::from(ends_at)),
            _ => (0, 0),
        };
        let (first, units, s, e) = round_out(origin, unit, start, end);
        Candidate {
            first,
            units,
            rounding: s.max(e),
            fits_length: max_units > 0 && units <= i128::from(max_units),
        }
    }

    /// The daily candidate under a rule with DST: the local day that
    /// contains the start, to the first local day that starts at or after
    /// the end (what [`round_out`] gives for a fixed offset).
    fn daily_candidate_by_rule(&self, zone: &TzRule, w: &Want) -> Candidate {
        let max_units = self.params().daily_max_days;
        let (start, end) = match *w {
            Want::TimeBound { starts_at, ends_at } => (starts_at, ends_at),
            _ => (0, 0),
        };
        let first = zone.local_day(start);
        let last = zone.first_day_starting_at_or_after(end);
        let units = i128::from(last) - i128::from(first);
        let rounding = (i128::from(start) - i128::from(zone.day_start(first)))
            .max(i128::from(zone.day_start(last)) - i128::from(end));
        Candidate {
            first: i128::from(first) - i128::from(self.epoch_day()),
            units,
            rounding,
            fits_length: max_units > 0 && units <= i128::from(max_units),
        }
    }

    /// The start unit `first` as a grant field, or why it is out of the
    /// profile's `0..limit` starts (`last_start`: when the last one starts).
    fn check_start(&self, first: i128, limit: u32, last_start: i128) -> Result<u32, IssueError> {
        if first < 0 {
            return Err(IssueError::BeforeEpoch {
                epoch: self.epoch(),
            });
        }
        match u32::try_from(first) {
            Ok(f) if f < limit => Ok(f),
            _ => Err(IssueError::BeyondLifetime {
                last_start: narrow(last_start),
            }),
        }
    }

    /// Rounds an instant down to the hour for a one-time code or a
    /// revocation: (hour since the epoch, seconds moved), or the rounding
    /// error.
    fn round_down_to_hour(&self, at: UnixSeconds, req: &Request) -> Result<(u32, i64), IssueError> {
        let epoch = i128::from(self.epoch());
        let hour = i128::from(HOUR);
        let first = div_floor(i128::from(at) - epoch, hour);
        let moved = narrow(i128::from(at) - (epoch + first * hour));
        if moved > i64::from(req.max_rounding_secs) {
            return Err(IssueError::RoundingTooLarge {
                needed_secs: moved,
                allowed_secs: req.max_rounding_secs,
            });
        }
        let last = epoch + (i128::from(self.lifetime_hours()) - 1) * hour;
        let start = self.check_start(first, self.lifetime_hours(), last)?;
        Ok((start, moved))
    }

    /// A time-bound request: the end after the start, the kind chosen by
    /// length and rounding ([`Profile::choose_span`]), then the start of
    /// that kind against the epoch and the lifetime.
    fn plan_time_bound(
        &self,
        req: &Request,
        starts_at: UnixSeconds,
        ends_at: UnixSeconds,
    ) -> Result<Plan, IssueError> {
        if ends_at <= starts_at {
            return Err(IssueError::EndNotAfterStart);
        }
        let (kind_daily, c, limit, last_start) = self.choose_span(req, starts_at, ends_at)?;
        let start = self.check_start(c.first, limit, last_start)?;
        let span = Span {
            start,
            length: u32::try_from(c.units).unwrap_or(u32::MAX),
            variance: req.variance,
            lineage: req.lineage,
        };
        let grant = if kind_daily {
            Grant::Daily(span)
        } else {
            Grant::Hourly(span)
        };
        let window = grant.window(self, req.zone);
        let (s, e) = match window {
            Some(w) => (
                narrow(i128::from(starts_at) - i128::from(w.start)),
                narrow(i128::from(w.end) - i128::from(ends_at)),
            ),
            None => (0, 0),
        };
        Ok(Plan {
            grant,
            window,
            effective_at: None,
            start_rounded_secs: s,
            end_rounded_secs: e,
        })
    }

    /// The kind of a time-bound window: hourly if the window fits its
    /// length and rounding, else daily if it does, else why neither fits.
    /// Returns whether it is daily, the candidate, the kind's number of
    /// starts and when its last start is.
    fn choose_span(
        &self,
        req: &Request,
        starts_at: UnixSeconds,
        ends_at: UnixSeconds,
    ) -> Result<(bool, Candidate, u32, i128), IssueError> {
        let p = self.params();
        let allowed = i128::from(req.max_rounding_secs);
        let epoch = i128::from(self.epoch());
        let (hour, day) = (i128::from(HOUR), i128::from(DAY));
        let hourly = self.span_candidate(epoch, hour, p.hourly_max_hours, &req.want);
        let zone = req.zone;
        let day_origin = epoch - i128::from(zone.standard_offset().seconds());
        let daily = if zone.has_dst() {
            self.daily_candidate_by_rule(&zone, &req.want)
        } else {
            self.span_candidate(day_origin, day, p.daily_max_days, &req.want)
        };
        let last_hour = epoch + (i128::from(self.lifetime_hours()) - 1) * hour;
        let last_day = if zone.has_dst() {
            i128::from(
                zone.day_start(self.epoch_day() + i64::from(p.lifetime_days.saturating_sub(1))),
            )
        } else {
            day_origin + (i128::from(p.lifetime_days) - 1) * day
        };
        if hourly.fits_length && hourly.rounding <= allowed {
            Ok((false, hourly, self.lifetime_hours(), last_hour))
        } else if daily.fits_length && daily.rounding <= allowed {
            Ok((true, daily, p.lifetime_days, last_day))
        } else if hourly.fits_length || daily.fits_length {
            let needed = match (hourly.fits_length, daily.fits_length) {
                (true, true) => hourly.rounding.min(daily.rounding),
                (true, false) => hourly.rounding,
                _ => daily.rounding,
            };
            Err(IssueError::RoundingTooLarge {
                needed_secs: narrow(needed),
                allowed_secs: req.max_rounding_secs,
            })
        } else {
            let max_secs =
                (i64::from(p.hourly_max_hours) * HOUR).max(i64::from(p.daily_max_days) * DAY);
            Err(IssueError::TooLong {
                requested_secs: narrow(i128::from(ends_at) - i128::from(starts_at)),
                max_secs,
            })
        }
    }

    /// A clock-setting request: the instant rounded down to the unit
    /// (within the allowance), then its range.
    fn plan_clock_set(&self, req: &Request, at: UnixSeconds) -> Result<Plan, IssueError> {
        if !self.has_kind(Kind::ClockSet) {
            return Err(IssueError::Grant(GrantError::KindDisabled(Kind::ClockSet)));
        }
        if cfg!(not(feature = "format-v2")) {
            return Err(IssueError::Grant(GrantError::KindNotBuilt(Kind::ClockSet)));
        }
        let epoch = i128::from(self.epoch());
        let unit = i128::from(self.params().clock_codes.unit_secs());
        let first = div_floor(i128::from(at) - epoch, unit);
        let moved = narrow(i128::from(at) - (epoch + first * unit));
        if moved > i64::from(req.max_rounding_secs) {
            return Err(IssueError::RoundingTooLarge {
                needed_secs: moved,
                allowed_secs: req.max_rounding_secs,
            });
        }
        let limit = u32::try_from(self.kind_count(Kind::ClockSet)).unwrap_or(u32::MAX);
        let last = epoch + (i128::from(limit) - 1) * unit;
        let at = self.check_start(first, limit, last)?;
        Ok(Plan {
            grant: Grant::ClockSet { at },
            window: None,
            effective_at: Some(self.clock_instant(at)),
            start_rounded_secs: moved,
            end_rounded_secs: 0,
        })
    }

    /// A recurring request: the menu, the length, the start week rounded
    /// down to its first local midnight, then the start's range.
    fn plan_recurring(
        &self,
        req: &Request,
        starts_at: UnixSeconds,
        weeks: u16,
        days: Weekdays,
        hours: Hours,
    ) -> Result<Plan, IssueError> {
        let menu = self.params().recurring;
        if !self.has_kind(Kind::Recurring) {
            return Err(IssueError::Grant(GrantError::KindDisabled(Kind::Recurring)));
        }
        if cfg!(not(feature = "format-v2")) {
            return Err(IssueError::Grant(GrantError::KindNotBuilt(Kind::Recurring)));
        }
        let (Some(d), Some(h)) = (menu.days_index(days), menu.hours_index(hours)) else {
            return Err(IssueError::NotInMenu {
                days,
                hours,
                nearest_days: menu.nearest_days(days).unwrap_or(days),
                nearest_hours: menu.nearest_hours(hours).unwrap_or(hours),
            });
        };
        if weeks == 0 {
            return Err(IssueError::EndNotAfterStart);
        }
        if weeks > menu.max_weeks {
            return Err(IssueError::TooLong {
                requested_secs: i64::from(weeks) * 7 * DAY,
                max_secs: i64::from(menu.max_weeks) * 7 * DAY,
            });
        }
        let zone = req.zone;
        let epoch_day = i128::from(self.epoch_day());
        let day = i128::from(zone.local_day(starts_at)) - epoch_day;
        let week = day.div_euclid(7);
        let week_day = |w: i128| i64::try_from(epoch_day + 7 * w).unwrap_or(i64::MAX);
        let week_start = zone.day_start(week_day(week));
        let moved = narrow(i128::from(starts_at) - i128::from(week_start));
        if moved > i64::from(req.max_rounding_secs) {
            return Err(IssueError::RoundingTooLarge {
                needed_secs: moved,
                allowed_secs: req.max_rounding_secs,
            });
        }
        let limit = self.lifetime_weeks();
        let last = i128::from(zone.day_start(week_day(i128::from(limit) - 1)));
        let start_week = self.check_start(week, limit, last)?;
        let grant = Grant::Recurring(Recurrence {
            start_week,
            weeks,
            days: d,
            hours: h,
            variance: req.variance,
        });
        Ok(Plan {
            grant,
            window: grant.window(self, zone),
            effective_at: None,
            start_rounded_secs: moved,
            end_rounded_secs: 0,
        })
    }

    /// Turns a request into the grant that encodes it, without touching a
    /// key.
    ///
    /// The checks run in this order (`docs/FORMAT.md` §5): a time-bound
    /// request's end after its start; the choice of the hourly or daily
    /// kind by length and rounding; the start of the chosen kind against
    /// the epoch and the lifetime; last the grant's ranges (variance,
    /// lineage, slot, disabled kind). One-time and revocation requests
    /// check the rounding to the hour, then the start.
    ///
    /// # Errors
    ///
    /// An [`IssueError`] naming the first problem with the request, in the
    /// order above: [`IssueError::EndNotAfterStart`],
    /// [`IssueError::TooLong`] or [`IssueError::RoundingTooLarge`],
    /// [`IssueError::BeforeEpoch`] or [`IssueError::BeyondLifetime`], then
    /// [`IssueError::Grant`]. Never panics, whatever the times.
    pub fn plan(&self, req: &Request) -> Result<Plan, IssueError> {
        let plan = match req.want {
            Want::TimeBound { starts_at, ends_at } => {
                self.plan_time_bound(req, starts_at, ends_at)?
            }
            Want::OneTime { starts_at } => {
                let (start_hour, moved) = self.round_down_to_hour(starts_at, req)?;
                let grant = Grant::OneTime {
                    start_hour,
                    variance: req.variance,
                };
                Plan {
                    grant,
                    window: grant.window(self, req.zone),
                    effective_at: None,
                    start_rounded_secs: moved,
                    end_rounded_secs: -moved,
                }
            }
            Want::Ongoing { slot } => Plan {
                grant: Grant::Ongoing { slot },
                window: None,
                effective_at: None,
                start_rounded_secs: 0,
                end_rounded_secs: 0,
            },
            Want::RevokeSlot { slot } => Plan {
                grant: Grant::Revoke(RevokeTarget::Slot(slot)),
                window: None,
                effective_at: None,
                start_rounded_secs: 0,
                end_rounded_secs: 0,
            },
            Want::Recurring {
                starts_at,
                weeks,
                days,
                hours,
            } => self.plan_recurring(req, starts_at, weeks, days, hours)?,
            Want::ClockSet { at } => self.plan_clock_set(req, at)?,
            Want::RevokeStartedBefore { at } => {
                let (hour, moved) = self.round_down_to_hour(at, req)?;
                Plan {
                    grant: Grant::Revoke(RevokeTarget::StartedBefore { hour }),
                    window: None,
                    effective_at: Some(self.epoch() + i64::from(hour) * HOUR),
                    start_rounded_secs: moved,
                    end_rounded_secs: 0,
                }
            }
        };
        // Range checks of variance, lineage, slot and kind.
        self.index_of(&plan.grant)?;
        Ok(plan)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::shipped::{COMPACT_8, STANDARD_10 as P};

    const T0: i64 = P.epoch() + 1_000 * HOUR;

    #[test]
    fn aligned_windows_are_exact() {
        let plan = P.plan(&Request::time_bound(T0, T0 + 5 * HOUR)).unwrap();
        assert!(!plan.was_rounded());
        assert_eq!(
            plan.grant,
            Grant::Hourly(Span {
                start: 1_000,
                length: 5,
                variance: 0,
                lineage: 0
            })
        );
    }

    #[test]
    fn rounding_is_outward_and_reported() {
        let req = Request::time_bound(T0 + 900, T0 + 5 * HOUR - 60);
        assert_eq!(
            P.plan(&req),
            Err(IssueError::RoundingTooLarge {
                needed_secs: 900,
                allowed_secs: 0
            })
        );
        let plan = P.plan(&req.with_max_rounding_secs(3_600)).unwrap();
        assert_eq!(plan.start_rounded_secs, 900);
        assert_eq!(plan.end_rounded_secs, 60);
        assert_eq!(
            plan.window,
            Some(Window {
                start: T0,
                end: T0 + 5 * HOUR
            })
        );
    }

    #[test]
    fn long_windows_become_daily() {
        let start = P.epoch() + 40 * DAY;
        let plan = P
            .plan(&Request::time_bound(start, start + 60 * DAY))
            .unwrap();
        assert!(matches!(
            plan.grant,
            Grant::Daily(Span {
                start: 40,
                length: 60,
                ..
            })
        ));
        // In UTC+1 the same instants are an hour off local midnight.
        let plus1 = UtcOffset::from_minutes(60).unwrap();
        let req = Request::time_bound(start, start + 60 * DAY).with_utc_offset(plus1);
        assert!(matches!(
            P.plan(&req),
            Err(IssueError::RoundingTooLarge {
                needed_secs: 82_800,
                ..
            })
        ));
        let plan = P.plan(&req.with_max_rounding_secs(86_400)).unwrap();
        assert_eq!(plan.window.map(|w| w.len_secs()), Some(61 * DAY));
    }

    #[test]
    fn every_bad_request_has_its_error() {
        assert_eq!(
            P.plan(&Request::time_bound(T0, T0)),
            Err(IssueError::EndNotAfterStart)
        );
        assert!(matches!(
            P.plan(&Request::time_bound(P.epoch() - HOUR, P.epoch() + HOUR)),
            Err(IssueError::BeforeEpoch { .. })
        ));
        let far = P.epoch() + i64::from(P.lifetime_hours()) * HOUR;
        assert!(matches!(
            P.plan(&Request::time_bound(far, far + HOUR)),
            Err(IssueError::BeyondLifetime { .. })
        ));
        assert!(matches!(
            COMPACT_8.plan(&Request::time_bound(T0, T0 + 40 * DAY)),
            Err(IssueError::TooLong { .. })
        ));
        assert!(matches!(
            P.plan(&Request::time_bound(T0, T0 + HOUR).with_variance(3)),
            Err(IssueError::Grant(GrantError::VarianceOutOfRange { .. }))
        ));
        assert!(matches!(
            P.plan(&Request::time_bound(T0, T0 + HOUR).with_lineage(1)),
            Err(IssueError::Grant(GrantError::LineageOutOfRange { .. }))
        ));
        assert!(matches!(
            P.plan(&Request::ongoing(100)),
            Err(IssueError::Grant(GrantError::SlotOutOfRange { .. }))
        ));
    }

    /// docs/FORMAT.md §5: the start is checked after the kind is chosen.
    /// With offset +01:00, local day 0 starts an hour before the epoch.
    #[test]
    fn before_epoch_is_checked_on_the_chosen_kind() {
        let plus1 = UtcOffset::from_minutes(60).unwrap();
        let e = P.epoch();
        let short = Request::time_bound(e - 1_800, e + 2 * HOUR)
            .with_utc_offset(plus1)
            .with_max_rounding_secs(3_600);
        assert_eq!(
            P.plan(&short),
            Err(IssueError::BeforeEpoch { epoch: e }),
            "hourly fits, so it is chosen, and its start is before the epoch"
        );
        let long = Request::time_bound(e - 1_800, e - 1_800 + 40 * DAY)
            .with_utc_offset(plus1)
            .with_max_rounding_secs(86_400);
        let plan = P.plan(&long).unwrap();
        assert!(matches!(plan.grant, Grant::Daily(Span { start: 0, .. })));
        assert_eq!(plan.window.map(|w| w.start), Some(e - HOUR));
    }

    #[test]
    fn one_time_and_revocations_round_down_to_the_hour() {
        let plan = P
            .plan(&Request::one_time(T0 + 120).with_max_rounding_secs(3_600))
            .unwrap();
        assert_eq!(plan.window.map(|w| w.start), Some(T0));
        assert_eq!(plan.end_rounded_secs, -120);
        let plan = P
            .plan(&Request::revoke_started_before(T0 + 120).with_max_rounding_secs(3_600))
            .unwrap();
        assert_eq!(plan.effective_at, Some(T0));
        assert!(P.plan(&Request::revoke_started_before(T0 + 120)).is_err());
    }
}
