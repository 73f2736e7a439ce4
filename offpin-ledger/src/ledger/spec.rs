//! What is asked of the ledger: the kind of code ([`CodeWant`]), an issue
//! request ([`CodeSpec`]), and the `list` filters ([`ListFilter`]).

use chrono::{DateTime, Utc};

use super::{LedgerError, StoredCode};
use offpin::recurring::{Hours, Weekdays};

/// What kind of code to issue.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CodeWant {
    /// Valid in `[starts_at, ends_at)` (rounded outward to the profile's
    /// units within the allowed rounding).
    TimeBound {
        /// Requested start.
        starts_at: DateTime<Utc>,
        /// Requested end.
        ends_at: DateTime<Utc>,
    },
    /// Opens once, first use within the profile's use window after
    /// `starts_at` (rounded down to the hour).
    OneTime {
        /// Requested start of the use window.
        starts_at: DateTime<Utc>,
    },
    /// Valid until deleted (then revoked at the lock).
    Ongoing,
    /// A weekly recurring code (format v2): it opens on `days` from
    /// `hours.from:00` to `hours.to:00`, the lock's local time, in the
    /// whole weeks (of the profile) that cover `[starts_at, ends_at)`.
    /// Refused unless every time it opens lies within the span (widened by
    /// the allowed rounding) and it opens at every slot of the schedule
    /// inside the span (the ledger's `recurrence` module).
    Recurring {
        /// Start of the span: no slot of the code opens before it.
        starts_at: DateTime<Utc>,
        /// End of the span: no slot of the code closes after it.
        ends_at: DateTime<Utc>,
        /// The weekdays (one mask of the profile's menu).
        days: Weekdays,
        /// The daily hours (one range of the profile's menu).
        hours: Hours,
    },
    /// A clock-setting code (format v2): typed at a lock whose clock is
    /// behind `at` by at most the profile's step, it moves the clock
    /// forward to `at` (rounded down to the profile's clock unit, within
    /// the allowed rounding). It opens nothing, and is powerful: a
    /// service issues it only to callers allowed to.
    ClockSet {
        /// The instant the lock's clock is set to.
        at: DateTime<Utc>,
    },
}

impl CodeWant {
    /// The kind of code that a request's times and one-time flag describe,
    /// as the access-code API defines it: neither time is an ongoing code,
    /// both times a time-bound one, a start with `one_time` a one-time
    /// code. Every other combination is refused, so a booking never
    /// becomes permanent access and no given time is silently dropped.
    ///
    /// # Errors
    ///
    /// [`LedgerError::TimesDisagree`].
    ///
    /// # Examples
    ///
    /// ```
    /// use offpin_ledger::ledger::CodeWant;
    /// let t = chrono::Utc::now();
    /// assert_eq!(CodeWant::from_times(None, None, false)?, CodeWant::Ongoing);
    /// assert!(CodeWant::from_times(Some(t), None, false).is_err());
    /// assert!(CodeWant::from_times(Some(t), Some(t), true).is_err());
    /// # Ok::<(), offpin_ledger::ledger::LedgerError>(())
    /// ```
    pub fn from_times(
        starts_at: Option<DateTime<Utc>>,
        ends_at: Option<DateTime<Utc>>,
        one_time: bool,
    ) -> Result<CodeWant, LedgerError> {
        let disagree = |why: &'static str| Err(LedgerError::TimesDisagree { why });
        match (starts_at, ends_at, one_time) {
            (None, None, false) => Ok(CodeWant::Ongoing),
            (Some(starts_at), Some(ends_at), false) => {
                Ok(CodeWant::TimeBound { starts_at, ends_at })
            }
            (Some(starts_at), None, true) => Ok(CodeWant::OneTime { starts_at }),
            (None, None, true) => disagree("a one-time code needs starts_at"),
            (_, Some(_), true) => {
                disagree("a one-time code has no ends_at (its use window is fixed by the profile)")
            }
            (Some(_), None, false) => {
                disagree("a time-bound code needs ends_at too (an ongoing code has neither time)")
            }
            (None, Some(_), false) => {
                disagree("a time-bound code needs starts_at too (an ongoing code has neither time)")
            }
        }
    }

    /// `time_bound`, `one_time`, `ongoing`, `recurring` or `clock_set`.
    pub const fn name(&self) -> &'static str {
        match self {
            CodeWant::TimeBound { .. } => "time_bound",
            CodeWant::OneTime { .. } => "one_time",
            CodeWant::Ongoing => "ongoing",
            CodeWant::Recurring { .. } => "recurring",
            CodeWant::ClockSet { .. } => "clock_set",
        }
    }
}

/// An issue request to the ledger.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct CodeSpec {
    /// The device.
    pub device_id: String,
    /// What to issue.
    pub want: CodeWant,
    /// How far each end of the window may move outward, in seconds.
    pub max_rounding_secs: u32,
    /// Supersede lineage (`0`: none; profiles with lineages only).
    pub lineage: u8,
    /// Name shown in the record.
    pub name: Option<String>,
    /// The operator's own user id, for `list` filtering.
    pub user_identifier_key: Option<String>,
    /// Group key shown in the record.
    pub common_code_key: Option<String>,
    /// A key that makes the request idempotent: a second request with the
    /// same key returns the code issued for the first.
    pub idempotency_key: Option<String>,
    /// Record the code even if it can no longer open (its window ended or
    /// its activation deadline passed at issue time): a backfill.
    pub allow_backfill: bool,
}

impl CodeSpec {
    /// A request for `want` on `device_id`, with no rounding and no names.
    pub fn new(device_id: &str, want: CodeWant) -> Self {
        CodeSpec {
            device_id: device_id.to_owned(),
            want,
            max_rounding_secs: 0,
            lineage: 0,
            name: None,
            user_identifier_key: None,
            common_code_key: None,
            idempotency_key: None,
            allow_backfill: false,
        }
    }
    /// A time-bound code.
    pub fn time_bound(device_id: &str, starts_at: DateTime<Utc>, ends_at: DateTime<Utc>) -> Self {
        Self::new(device_id, CodeWant::TimeBound { starts_at, ends_at })
    }
    /// A one-time code.
    pub fn one_time(device_id: &str, starts_at: DateTime<Utc>) -> Self {
        Self::new(device_id, CodeWant::OneTime { starts_at })
    }
    /// An ongoing code.
    pub fn ongoing(device_id: &str) -> Self {
        Self::new(device_id, CodeWant::Ongoing)
    }
    /// A weekly recurring code ([`CodeWant::Recurring`]).
    pub fn recurring(
        device_id: &str,
        (starts_at, ends_at): (DateTime<Utc>, DateTime<Utc>),
        days: Weekdays,
        hours: Hours,
    ) -> Self {
        Self::new(
            device_id,
            CodeWant::Recurring {
                starts_at,
                ends_at,
                days,
                hours,
            },
        )
    }
    /// A clock-setting code ([`CodeWant::ClockSet`]).
    pub fn clock_set(device_id: &str, at: DateTime<Utc>) -> Self {
        Self::new(device_id, CodeWant::ClockSet { at })
    }
    /// Sets the allowed rounding.
    pub fn with_max_rounding_secs(mut self, secs: u32) -> Self {
        self.max_rounding_secs = secs;
        self
    }
    /// Sets the name.
    pub fn with_name(mut self, name: &str) -> Self {
        self.name = Some(name.to_owned());
        self
    }
    /// Sets the user identifier key.
    pub fn with_user_identifier_key(mut self, key: &str) -> Self {
        self.user_identifier_key = Some(key.to_owned());
        self
    }
    /// Sets the idempotency key.
    pub fn with_idempotency_key(mut self, key: &str) -> Self {
        self.idempotency_key = Some(key.to_owned());
        self
    }
    /// Allows a backfill (see [`CodeSpec::allow_backfill`]).
    pub fn with_backfill(mut self) -> Self {
        self.allow_backfill = true;
        self
    }
}

/// The `list` filters of the access-code API. At least `device_id` or a
/// non-empty `access_code_ids` is required; all given filters must match.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ListFilter {
    /// Codes of this device.
    pub device_id: Option<String>,
    /// Codes with these ids.
    pub access_code_ids: Vec<String>,
    /// Codes issued for this user.
    pub user_identifier_key: Option<String>,
    /// Codes whose name, PIN or id contains this text (ASCII letters in
    /// either case), the hosted API's `search`.
    pub search: Option<String>,
}

impl ListFilter {
    /// Every code of a device.
    pub fn device(device_id: &str) -> Self {
        ListFilter {
            device_id: Some(device_id.to_owned()),
            ..ListFilter::default()
        }
    }

    /// Whether a stored code passes the filter (deleted codes included).
    pub fn matches(&self, c: &StoredCode) -> bool {
        self.device_id.as_ref().is_none_or(|d| *d == c.device_id)
            && (self.access_code_ids.is_empty() || self.access_code_ids.contains(&c.access_code_id))
            && self
                .user_identifier_key
                .as_ref()
                .is_none_or(|k| Some(k) == c.user_identifier_key.as_ref())
            && self.search.as_ref().is_none_or(|s| search_matches(s, c))
    }
}

/// Whether `needle` occurs in the code's name, PIN or id, ASCII letters
/// compared in either case (what SQLite's `LIKE` and PostgreSQL's `ILIKE`
/// narrow to first).
fn search_matches(needle: &str, c: &StoredCode) -> bool {
    let needle = needle.to_ascii_lowercase();
    [Some(&c.access_code_id), Some(&c.code), c.name.as_ref()]
        .into_iter()
        .flatten()
        .any(|hay| hay.to_ascii_lowercase().contains(&needle))
}

/// `search` as a `LIKE … ESCAPE '\\'` pattern: its `%`, `_` and
/// backslashes escaped, inside `%…%`.
#[cfg(any(feature = "sqlite", feature = "postgres"))]
pub(crate) fn like_pattern(search: &str) -> String {
    let mut p = String::with_capacity(search.len() + 2);
    p.push('%');
    for ch in search.chars() {
        if matches!(ch, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(ch);
    }
    p.push('%');
    p
}
