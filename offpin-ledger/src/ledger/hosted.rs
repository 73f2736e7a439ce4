//! The hosted access-code API's rules, for a service that speaks it
//! (`offpin serve`): which code a create request asks for, what an update
//! may change, finding a code by its PIN, and whose each refusal or
//! failure is ([`Blame`]: the request and its field, something missing, a
//! conflict with the ledger, the server's setup, the storage). The service
//! parses and answers, and alone knows HTTP statuses and error `type`s;
//! these functions decide.

use core::fmt;

use chrono::{DateTime, Utc};

use super::{CodeSpec, CodeWant, Deleted, Device, Ledger, LedgerError, ListFilter, ct_eq};
use crate::record::{AccessCode, CodeType, WEEKDAY_NAMES};
use crate::zone::ZoneError;
use offpin::GrantError;
use offpin::issue::IssueError;
use offpin::keys::MasterKey;
use offpin::profile::Kind;
use offpin::recurring::{Hours, Weekdays};

/// The create request's extension field of a weekly recurring code
/// (`{"weekdays": [...], "starts_at_time": "08:00", "ends_at_time":
/// "12:00"}`), and of its record.
pub const RECURRENCE_FIELD: &str = "offpin_recurrence";
/// The create request's extension field of a clock-setting code
/// (`{"sets_clock_to": "..."}`), and of its record.
pub const CLOCK_SETTING_FIELD: &str = "offpin_clock_setting";

/// `max_time_rounding` when a request gives none: one hour.
pub const DEFAULT_MAX_TIME_ROUNDING_SECS: u32 = 3_600;

/// The seconds of a `max_time_rounding` value of the API (`1h`, `1hour`,
/// `1d`, `1day`), or `None`.
///
/// # Examples
///
/// ```
/// use offpin_ledger::ledger::hosted::max_time_rounding_secs;
/// assert_eq!(max_time_rounding_secs("1day"), Some(86_400));
/// assert_eq!(max_time_rounding_secs("2h"), None);
/// ```
pub fn max_time_rounding_secs(value: &str) -> Option<u32> {
    match value {
        "1h" | "1hour" => Some(3_600),
        "1d" | "1day" => Some(86_400),
        _ => None,
    }
}

/// Whose a refusal or a failure is, as the hosted API tells its client:
/// what the request must change, or that the server must. Every
/// [`LedgerError`] has one ([`LedgerError::blame`]); a service turns it
/// into its answer (`offpin serve`: an HTTP status and an error `type`).
///
/// What a client sent is [`Blame::Request`], [`Blame::NotFound`],
/// [`Blame::Conflict`] or [`Blame::Capacity`], never the server's: a window
/// the lock would never open for is the request's (its deadline in the
/// message). [`Blame::Server`] is the server's own setup (another master
/// key, a profile or time zone this build does not know);
/// [`Blame::Unavailable`] is a ledger that cannot be used now (its
/// storage, a read-only or interrupted ledger); [`Blame::Invariant`] is a
/// bug.
///
/// # Examples
///
/// ```
/// use offpin_ledger::ledger::LedgerError;
/// use offpin_ledger::ledger::hosted::Blame;
/// let e = LedgerError::NoSlotAvailable {
///     device_id: "d".into(),
///     slots: 20,
///     held_by: Vec::new(),
///     taken_in_batch: 0,
/// };
/// assert_eq!(e.blame(), Blame::Capacity);
/// let e = LedgerError::ActivationDeadlinePassed { deadline: 0, activation_secs: 86_400, now: 1 };
/// assert_eq!(e.blame(), Blame::Request { field: Some("starts_at") });
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Blame {
    /// The request's content is refused.
    Request {
        /// The request field to fix, if one is to blame.
        field: Option<&'static str>,
    },
    /// What the request names does not exist (a device, a code, a group),
    /// or no longer does (a removed device).
    NotFound,
    /// The request conflicts with what the ledger holds: a device or group
    /// registered otherwise, a device in another group, an idempotency key
    /// used for another request.
    Conflict,
    /// The window's variances, or the device's ongoing slots, are spent
    /// (the error says which codes hold them, and proposes a window).
    Capacity,
    /// The server's own setup is wrong, whatever was asked: another master
    /// key, a profile or time zone this build does not know, a stored
    /// value it cannot read.
    Server,
    /// The ledger cannot be used now (its storage failed, it is read-only,
    /// interrupted or of another schema); a retry may succeed.
    Unavailable,
    /// A state the ledger never reaches unless it has a bug
    /// ([`LedgerError::Invariant`]): neither the request nor a retry can
    /// fix it.
    Invariant,
}

impl Blame {
    /// [`Blame::Request`] about `field`.
    const fn field(field: &'static str) -> Self {
        Blame::Request { field: Some(field) }
    }

    /// [`Blame::Request`] about no one field.
    const REQUEST: Blame = Blame::Request { field: None };

    /// The request field to blame, if one is.
    pub const fn request_field(&self) -> Option<&'static str> {
        match self {
            Blame::Request { field } => *field,
            _ => None,
        }
    }
}

impl LedgerError {
    /// Whose the error is ([`Blame`]), and the request field to fix. Every
    /// variant is matched by name (none falls into a default arm), so a new
    /// one must be given its blame here.
    pub fn blame(&self) -> Blame {
        match self {
            LedgerError::UnknownDevice { .. }
            | LedgerError::DeviceRemoved { .. }
            | LedgerError::NotFound { .. }
            | LedgerError::UnknownGroup { .. }
            | LedgerError::UnknownWorkspace { .. } => Blame::NotFound,
            LedgerError::NoVarianceAvailable { .. }
            | LedgerError::NoSlotAvailable { .. }
            | LedgerError::NoSharedVariance { .. } => Blame::Capacity,
            LedgerError::IdempotencyConflict { .. }
            | LedgerError::DeviceConflict { .. }
            | LedgerError::GroupConflict { .. }
            | LedgerError::DeviceInAnotherGroup { .. }
            | LedgerError::WorkspaceMismatch { .. } => Blame::Conflict,
            LedgerError::MissingFilter | LedgerError::Key(_) => Blame::field("device_id"),
            LedgerError::WindowEnded { .. } => Blame::field("ends_at"),
            LedgerError::ActivationDeadlinePassed { .. } => Blame::field("starts_at"),
            LedgerError::GenerationNotHigher { .. } => Blame::field("generation"),
            LedgerError::InvalidGroupId { .. } => Blame::field("group_id"),
            LedgerError::InvalidWorkspaceId { .. } => Blame::field("workspace_id"),
            LedgerError::NotAMember { .. } | LedgerError::GroupProfileMismatch { .. } => {
                Blame::field("device_id")
            }
            LedgerError::CannotShare(_) => Blame::field("device_ids"),
            LedgerError::TimesDisagree { .. } | LedgerError::NoChange { .. } => Blame::REQUEST,
            LedgerError::RecurrenceOutsideSpan { field, .. } => Blame::field(field),
            LedgerError::Issue(issue) => issue_blame(issue),
            LedgerError::Zone(zone) => zone_blame(zone),
            LedgerError::InBatch { source, .. } => source.blame(),
            LedgerError::MasterKeyMismatch { .. }
            | LedgerError::KeyDoesNotDerive { .. }
            | LedgerError::MasterKeyUnbound { .. }
            | LedgerError::UnknownProfile { .. }
            | LedgerError::Offset(_) => Blame::Server,
            LedgerError::NotALedger { .. }
            | LedgerError::NeedsUpgrade { .. }
            | LedgerError::NeedsRecovery { .. }
            | LedgerError::Unwritable { .. }
            | LedgerError::Storage(_)
            | LedgerError::OutcomeUnknown { .. } => Blame::Unavailable,
            LedgerError::Invariant { .. } => Blame::Invariant,
        }
    }
}

/// Whose an issuer's refusal is.
fn issue_blame(e: &IssueError) -> Blame {
    match e {
        IssueError::EndNotAfterStart | IssueError::TooLong { .. } => Blame::field("ends_at"),
        IssueError::BeforeEpoch { .. } | IssueError::BeyondLifetime { .. } => {
            Blame::field("starts_at")
        }
        IssueError::RoundingTooLarge { .. } => Blame::field("max_time_rounding"),
        // A recurring schedule outside the profile's menu, or a format-v2
        // kind the device's profile lacks: the extension field that asked.
        IssueError::NotInMenu { .. }
        | IssueError::Grant(GrantError::KindDisabled(Kind::Recurring)) => {
            Blame::field(RECURRENCE_FIELD)
        }
        IssueError::Grant(GrantError::KindDisabled(Kind::ClockSet)) => {
            Blame::field(CLOCK_SETTING_FIELD)
        }
        IssueError::Grant(_) => Blame::REQUEST,
        // A profile's cipher refusing a numeral is a fault of the build,
        // whatever was asked.
        IssueError::Cipher(_) => Blame::Server,
        // A refusal the engine adds later is the request's.
        _ => Blame::REQUEST,
    }
}

/// Whose a time-zone error is.
fn zone_blame(e: &ZoneError) -> Blame {
    match e {
        // A stored device's zone this build's database lacks, or whose
        // rules its lock cannot keep: the operator's configuration, not
        // the request.
        ZoneError::Unknown { .. } | ZoneError::NoRule { .. } | ZoneError::RuleChanges { .. } => {
            Blame::Server
        }
        ZoneError::Gap { .. } | ZoneError::Fold { .. } | ZoneError::OutOfRange { .. } => {
            Blame::REQUEST
        }
    }
}

/// Why a request of the hosted API cannot be carried out.
#[derive(Debug)]
#[non_exhaustive]
pub enum RequestError {
    /// A field's value is refused.
    Invalid {
        /// The field.
        field: &'static str,
        /// Why.
        message: String,
    },
    /// An update tries to change what an offline PIN encodes.
    Immutable {
        /// The field.
        field: &'static str,
    },
    /// No live code of the device has this PIN.
    CodeNotFound {
        /// The device.
        device_id: String,
    },
    /// The ledger refused or failed.
    Ledger(LedgerError),
}

impl RequestError {
    fn invalid(field: &'static str, message: &str) -> Self {
        RequestError::Invalid {
            field,
            message: message.to_owned(),
        }
    }

    /// The request field the error is about, if one.
    pub fn field(&self) -> Option<&'static str> {
        self.blame().request_field()
    }

    /// Whose the error is ([`Blame`]).
    pub fn blame(&self) -> Blame {
        match self {
            RequestError::Invalid { field, .. } | RequestError::Immutable { field } => {
                Blame::field(field)
            }
            RequestError::CodeNotFound { .. } => Blame::NotFound,
            RequestError::Ledger(e) => e.blame(),
        }
    }
}

impl fmt::Display for RequestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RequestError::Invalid { field, message } => write!(f, "{field}: {message}"),
            RequestError::Immutable { field } => write!(
                f,
                "{field} cannot change: an offline PIN cannot be recalled, the lock keeps accepting it for the window it encodes. Create a new code for the new window (and delete this one: an ongoing code's deletion yields its revocation PIN)"
            ),
            RequestError::CodeNotFound { device_id } => {
                write!(f, "no access code of device '{device_id}' has this code")
            }
            RequestError::Ledger(e) => fmt::Display::fmt(e, f),
        }
    }
}

impl std::error::Error for RequestError {}

impl From<LedgerError> for RequestError {
    fn from(e: LedgerError) -> Self {
        RequestError::Ledger(e)
    }
}

/// A create request of the API, its fields parsed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CreateCode {
    /// The device.
    pub device_id: String,
    /// Name shown in the record.
    pub name: Option<String>,
    /// Start of the window (time-bound and one-time codes).
    pub starts_at: Option<DateTime<Utc>>,
    /// End of the window (time-bound codes).
    pub ends_at: Option<DateTime<Utc>>,
    /// A one-time code.
    pub is_one_time_use: bool,
    /// `max_time_rounding` in seconds ([`max_time_rounding_secs`]).
    pub max_time_rounding_secs: u32,
    /// The operator's user id.
    pub user_identifier_key: Option<String>,
    /// `preferred_code_length`: the PIN length the client asks for
    /// ([`check_length`]).
    pub preferred_code_length: Option<u8>,
    /// [`RECURRENCE_FIELD`]: a weekly recurring code's weekdays and hours
    /// ([`schedule`]), over `starts_at` .. `ends_at`.
    pub recurrence: Option<(Weekdays, Hours)>,
    /// [`CLOCK_SETTING_FIELD`]: a clock-setting code's instant.
    pub sets_clock_to: Option<DateTime<Utc>>,
}

/// A weekday of [`RECURRENCE_FIELD`]: `monday` … `sunday` or `mon` …
/// `sun`, in any case; `0` is Monday.
fn weekday(name: &str) -> Option<u8> {
    let name = name.trim().to_ascii_lowercase();
    (0u8..)
        .zip(WEEKDAY_NAMES)
        .find(|(_, full)| *full == name || full.get(..3) == Some(name.as_str()))
        .map(|(d, _)| d)
}

/// A whole hour `HH:00` (`end`: `24:00`, and `00:00` as the next
/// midnight).
fn whole_hour(field: &'static str, text: &str, end: bool) -> Result<u8, RequestError> {
    let bad = || {
        RequestError::invalid(
            field,
            "a local time of day HH:00 (the lock's schedules are whole hours; 24:00 ends at midnight)",
        )
    };
    let (h, m) = text.trim().split_once(':').ok_or_else(bad)?;
    let h: u8 = h.parse().map_err(|_| bad())?;
    if m != "00" || h > 24 || (h == 24 && !end) {
        return Err(bad());
    }
    Ok(if end && h == 0 { 24 } else { h })
}

/// The weekdays and hours of a [`RECURRENCE_FIELD`] value: weekday names
/// (`monday`, or `mon`), a start and an end time `HH:00` of the lock's
/// local day. Whether the device's profile can express them is the
/// issuer's to check (its menu; the refusal names the nearest schedule).
///
/// # Errors
///
/// [`RequestError::Invalid`] naming `offpin_recurrence.weekdays`,
/// `offpin_recurrence.starts_at_time` or `offpin_recurrence.ends_at_time`.
///
/// ```
/// use offpin_ledger::ledger::hosted::schedule;
/// use offpin::recurring::{Hours, Weekdays};
/// let days = ["monday", "tuesday", "wednesday", "thursday", "friday"].map(String::from);
/// assert_eq!(schedule(&days, "09:00", "17:00")?, (Weekdays::WEEKDAYS, Hours::new(9, 17)));
/// assert!(schedule(&days, "09:30", "17:00").is_err());
/// # Ok::<(), offpin_ledger::ledger::hosted::RequestError>(())
/// ```
pub fn schedule(
    weekdays: &[String],
    starts_at_time: &str,
    ends_at_time: &str,
) -> Result<(Weekdays, Hours), RequestError> {
    let mut mask = 0u8;
    for name in weekdays {
        let d = weekday(name).ok_or_else(|| RequestError::Invalid {
            field: "offpin_recurrence.weekdays",
            message: format!("'{name}' is not a weekday (monday ... sunday)"),
        })?;
        mask |= 1 << d;
    }
    if mask == 0 {
        return Err(RequestError::invalid(
            "offpin_recurrence.weekdays",
            "name at least one weekday",
        ));
    }
    let from = whole_hour("offpin_recurrence.starts_at_time", starts_at_time, false)?;
    let to = whole_hour("offpin_recurrence.ends_at_time", ends_at_time, true)?;
    if to <= from {
        return Err(RequestError::invalid(
            "offpin_recurrence.ends_at_time",
            "must be after starts_at_time, within one local day",
        ));
    }
    Ok((Weekdays(mask), Hours::new(from, to)))
}

/// Refuses a `preferred_code_length` the device's PINs cannot have: an
/// offline PIN's length is its profile's (`lengths`, the device's
/// [`code_lengths`]), so a request for another length is answered with
/// the length it would get, never with a PIN of another length in
/// silence.
///
/// # Errors
///
/// [`RequestError::Invalid`] naming `preferred_code_length`.
///
/// ```
/// use offpin_ledger::ledger::hosted::check_length;
/// assert!(check_length(None, &[10]).is_ok());
/// assert!(check_length(Some(10), &[10]).is_ok());
/// let e = check_length(Some(4), &[10]).unwrap_err();
/// assert!(e.to_string().contains("10 digits"));
/// ```
pub fn check_length(preferred: Option<u8>, lengths: &[u8]) -> Result<(), RequestError> {
    match preferred {
        Some(n) if !lengths.contains(&n) => Err(RequestError::Invalid {
            field: "preferred_code_length",
            message: format!(
                "this device's offline PINs have {} digits (its supported_code_lengths); a {n}-digit PIN cannot be issued: send preferred_code_length {} or leave it out",
                lengths.first().copied().unwrap_or_default(),
                lengths.first().copied().unwrap_or_default()
            ),
        }),
        _ => Ok(()),
    }
}

impl CreateCode {
    /// What the request asks for ([`CodeWant::from_times`]): time-bound
    /// with both times, one-time with `is_one_time_use` and `starts_at`,
    /// ongoing with neither time.
    ///
    /// # Errors
    ///
    /// [`RequestError::Invalid`] naming the field when the times and the
    /// kind disagree: one time of a time-bound window missing, an
    /// `ends_at` on a one-time code (its use window is the profile's, not
    /// chosen), a one-time code without `starts_at`. (An end not after the
    /// start is the issuer's to refuse: `ends_at` too.)
    ///
    /// # Examples
    ///
    /// ```
    /// use offpin_ledger::ledger::CodeWant;
    /// use offpin_ledger::ledger::hosted::CreateCode;
    /// let ongoing = CreateCode { device_id: "d".into(), ..CreateCode::default() };
    /// assert_eq!(ongoing.want()?, CodeWant::Ongoing);
    /// let half = CreateCode { starts_at: Some("2025-01-01T16:00:00Z".parse()?), ..ongoing };
    /// assert_eq!(half.want().unwrap_err().field(), Some("ends_at"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn want(&self) -> Result<CodeWant, RequestError> {
        if let Some(at) = self.sets_clock_to {
            return self.clock_set_want(at);
        }
        if let Some((days, hours)) = self.recurrence {
            let (Some(starts_at), Some(ends_at)) = (self.starts_at, self.ends_at) else {
                let field = if self.starts_at.is_none() {
                    "starts_at"
                } else {
                    "ends_at"
                };
                return Err(RequestError::invalid(
                    field,
                    "a recurring code needs starts_at and ends_at: the span its weeks cover",
                ));
            };
            if self.is_one_time_use {
                return Err(RequestError::invalid(
                    "is_one_time_use",
                    "a recurring code opens at every slot of its schedule, not once",
                ));
            }
            return Ok(CodeWant::Recurring {
                starts_at,
                ends_at,
                days,
                hours,
            });
        }
        CodeWant::from_times(self.starts_at, self.ends_at, self.is_one_time_use).map_err(|e| {
            // The field the request lacks, or the one it should not have.
            let field = match (self.starts_at, self.ends_at) {
                (Some(_), None) if !self.is_one_time_use => "ends_at",
                (None, _) => "starts_at",
                _ => "ends_at",
            };
            RequestError::invalid(field, &e.to_string())
        })
    }

    /// A clock-setting code for `at`: no other kind's field with it.
    fn clock_set_want(&self, at: DateTime<Utc>) -> Result<CodeWant, RequestError> {
        let conflict = if self.recurrence.is_some() {
            Some(RECURRENCE_FIELD)
        } else if self.starts_at.is_some() {
            Some("starts_at")
        } else if self.ends_at.is_some() {
            Some("ends_at")
        } else if self.is_one_time_use {
            Some("is_one_time_use")
        } else {
            None
        };
        match conflict {
            Some(field) => Err(RequestError::invalid(
                field,
                "a clock-setting code has no window of its own (it is accepted during the profile's step before offpin_clock_setting.sets_clock_to): leave this field out",
            )),
            None => Ok(CodeWant::ClockSet { at }),
        }
    }

    /// The ledger's issue request.
    ///
    /// # Errors
    ///
    /// As [`CreateCode::want`].
    pub fn spec(&self) -> Result<CodeSpec, RequestError> {
        Ok(CodeSpec {
            max_rounding_secs: self.max_time_rounding_secs,
            name: self.name.clone(),
            user_identifier_key: self.user_identifier_key.clone(),
            ..CodeSpec::new(&self.device_id, self.want()?)
        })
    }
}

/// The code lengths a device offers: its profile's PIN length.
///
/// # Errors
///
/// [`LedgerError::UnknownProfile`].
pub fn code_lengths(device: &Device) -> Result<Vec<u8>, LedgerError> {
    Ok(vec![device.profile()?.digits()])
}

/// The changes an update request asks for. `None`: the field was not
/// sent. A field the record already has is accepted as no change.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CodeUpdate {
    /// New name (`Some(None)` clears it).
    pub name: Option<Option<String>>,
    /// The window's start.
    pub starts_at: Option<Option<DateTime<Utc>>>,
    /// The window's end.
    pub ends_at: Option<Option<DateTime<Utc>>>,
    /// The code's type.
    pub code_type: Option<CodeType>,
    /// Whether it opens once.
    pub is_one_time_use: Option<bool>,
    /// The PIN.
    pub code: Option<String>,
    /// The device.
    pub device_id: Option<String>,
    /// The PIN's length (`preferred_code_length`, which older SDKs send
    /// with an update).
    pub code_length: Option<usize>,
}

impl CodeUpdate {
    /// The name the update gives the code, if it changes it: only the
    /// name may change.
    ///
    /// # Errors
    ///
    /// [`RequestError::Immutable`] for the first field that would change
    /// what the PIN encodes (its window, type, PIN or device).
    pub fn new_name(&self, record: &AccessCode) -> Result<Option<Option<String>>, RequestError> {
        let differs = |field: &'static str, same: bool| {
            if same {
                Ok(())
            } else {
                Err(RequestError::Immutable { field })
            }
        };
        if let Some(t) = self.starts_at {
            differs("starts_at", t == record.starts_at)?;
        }
        if let Some(t) = self.ends_at {
            differs("ends_at", t == record.ends_at)?;
        }
        if let Some(t) = self.code_type {
            differs("type", t == record.code_type)?;
        }
        if let Some(b) = self.is_one_time_use {
            differs("is_one_time_use", b == record.is_one_time_use)?;
        }
        if let Some(code) = &self.code {
            differs("code", ct_eq(code.as_bytes(), record.code.as_bytes()))?;
        }
        if let Some(d) = &self.device_id {
            differs("device_id", *d == record.device_id)?;
        }
        if let Some(n) = self.code_length {
            differs("preferred_code_length", n == record.code.len())?;
        }
        Ok(self.name.clone().filter(|name| *name != record.name))
    }
}

/// The hosted API's operations beyond [`Ledger`]'s, for every ledger.
/// Records are computed at `now`, as [`Ledger::get`] does.
pub trait HostedApi: Ledger {
    /// Applies `update` to the code `access_code_id`
    /// ([`CodeUpdate::new_name`]) and returns its record. A deleted code
    /// may be renamed too (it stays listed).
    ///
    /// # Errors
    ///
    /// [`RequestError::Immutable`]; [`LedgerError::NotFound`] and
    /// [`LedgerError::Storage`] in [`RequestError::Ledger`].
    fn update(
        &mut self,
        access_code_id: &str,
        update: &CodeUpdate,
        now: DateTime<Utc>,
    ) -> Result<AccessCode, RequestError> {
        let current = self.get(access_code_id, now)?;
        match update.new_name(&current)? {
            Some(name) => {
                self.rename(access_code_id, name.as_deref())?;
                Ok(self.get(access_code_id, now)?)
            }
            None => Ok(current),
        }
    }

    /// The code of `device_id` whose PIN is `code` (each PIN is compared
    /// in constant time). Deleted codes are found too, as `get` finds
    /// them; when PINs of several key generations match, the one the lock
    /// may still open for, then the latest, is returned.
    ///
    /// # Errors
    ///
    /// [`RequestError::CodeNotFound`]; [`LedgerError::UnknownDevice`],
    /// [`LedgerError::DeviceRemoved`] and [`LedgerError::Storage`] in
    /// [`RequestError::Ledger`].
    fn get_by_code(
        &mut self,
        device_id: &str,
        code: &str,
        now: DateTime<Utc>,
    ) -> Result<AccessCode, RequestError> {
        self.device(device_id)?;
        let mut found: Option<AccessCode> = None;
        for r in self.list(&ListFilter::device(device_id), now)? {
            if ct_eq(r.code.as_bytes(), code.as_bytes())
                && found.as_ref().is_none_or(|f| r.may_open() || !f.may_open())
            {
                found = Some(r);
            }
        }
        found.ok_or_else(|| RequestError::CodeNotFound {
            device_id: device_id.to_owned(),
        })
    }

    /// Deletes the code `access_code_id` ([`Ledger::delete`]); when
    /// `device_id` is given the code must be of that device.
    ///
    /// # Errors
    ///
    /// [`LedgerError::NotFound`] (also for a code of another device) and
    /// [`Ledger::delete`]'s, in [`RequestError::Ledger`].
    fn delete_code(
        &mut self,
        master: &MasterKey,
        access_code_id: &str,
        device_id: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<Deleted, RequestError> {
        if let Some(d) = device_id
            && self
                .find_one(access_code_id)?
                .is_some_and(|c| c.device_id != d)
        {
            return Err(LedgerError::not_found(access_code_id).into());
        }
        Ok(self.delete(master, access_code_id, now)?)
    }
}

impl<L: Ledger + ?Sized> HostedApi for L {}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        s.parse().unwrap_or_default()
    }

    #[test]
    fn kinds_follow_the_times() {
        let base = CreateCode {
            device_id: "d".into(),
            ..CreateCode::default()
        };
        let start = Some(t("2025-01-01T16:00:00Z"));
        let end = Some(t("2025-01-02T10:00:00Z"));
        let cases = [
            (false, start, end, Ok(())),
            (false, start, end.and(None), Err("ends_at")),
            (false, None, end, Err("starts_at")),
            (true, start, None, Ok(())),
            (true, start, end, Err("ends_at")),
            (true, None, None, Err("starts_at")),
        ];
        for (one_time, starts_at, ends_at, expected) in cases {
            let req = CreateCode {
                is_one_time_use: one_time,
                starts_at,
                ends_at,
                ..base.clone()
            };
            assert_eq!(
                req.want().map(|_| ()).map_err(|e| e.field().unwrap_or("")),
                expected,
                "{req:?}"
            );
        }
    }
}
