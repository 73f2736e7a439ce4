//! The hosted access-code API's rules, for a service that speaks it
//! (`offpin serve`): which code a create request asks for, what an update
//! may change, finding a code by its PIN, and the HTTP status and error
//! `type` of every refusal ([`Fault`]). The service parses and answers;
//! these functions decide.

use core::fmt;

use chrono::{DateTime, Utc};

use super::{CodeSpec, CodeWant, Deleted, Device, Ledger, LedgerError, ListFilter, ct_eq};
use crate::record::{AccessCode, CodeType, NO_VARIANCE_AVAILABLE};
use crate::zone::ZoneError;
use offpin::issue::IssueError;
use offpin::keys::MasterKey;

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

/// `type` of a request the API refuses for its content (HTTP 400), with
/// the field to blame in `validation_errors`.
pub const INVALID_INPUT: &str = "invalid_input";
/// `type` of an unknown device (HTTP 404), as the hosted API names it.
pub const DEVICE_NOT_FOUND: &str = "device_not_found";

/// How the API answers a refusal or a failure: the HTTP status, the
/// error's `type`, and the request field to blame (400s).
///
/// What a client sent is answered 4xx, never 5xx: 400 `invalid_input` for
/// a bad field (a window the lock would never open for included, its
/// deadline in the message), 404 for an unknown device or code, 409 for a
/// spent window (`igloohome_offline_access_code_no_variance_available`),
/// spent ongoing slots and reused idempotency keys. 5xx is the server's
/// side: 503 when the ledger cannot be used now (storage, a read-only or
/// interrupted ledger), 500 when the server's own setup is wrong (another
/// master key, a profile or time zone this build does not know).
///
/// # Examples
///
/// ```
/// use offpin_ledger::ledger::LedgerError;
/// use offpin_ledger::ledger::hosted::Fault;
/// let f = Fault::of(&LedgerError::NoSlotAvailable {
///     device_id: "d".into(),
///     slots: 20,
///     held_by: Vec::new(),
///     taken_in_batch: 0,
/// });
/// assert_eq!((f.status, f.error_type), (409, "no_slot_available"));
/// let f = Fault::of(&LedgerError::ActivationDeadlinePassed { deadline: 0, activation_secs: 86_400, now: 1 });
/// assert_eq!((f.status, f.error_type, f.field), (400, "invalid_input", Some("starts_at")));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fault {
    /// The HTTP status.
    pub status: u16,
    /// The error's `type`: [`INVALID_INPUT`] for every 400,
    /// [`DEVICE_NOT_FOUND`] for an unknown device, otherwise the ledger's
    /// [`LedgerError::code`].
    pub error_type: &'static str,
    /// The request field to blame, if one is.
    pub field: Option<&'static str>,
}

impl Fault {
    const fn new(status: u16, error_type: &'static str) -> Self {
        Fault {
            status,
            error_type,
            field: None,
        }
    }

    const fn invalid(field: Option<&'static str>) -> Self {
        Fault {
            status: 400,
            error_type: INVALID_INPUT,
            field,
        }
    }

    /// The answer to a ledger error. Every variant is matched by name
    /// (none falls into a default arm), so a new one must be given its
    /// answer here.
    pub fn of(e: &LedgerError) -> Fault {
        let code = e.code();
        match e {
            LedgerError::UnknownDevice { .. } => Fault::new(404, DEVICE_NOT_FOUND),
            LedgerError::DeviceRemoved { .. } | LedgerError::NotFound { .. } => {
                Fault::new(404, code)
            }
            LedgerError::NoVarianceAvailable { .. } => Fault::new(409, NO_VARIANCE_AVAILABLE),
            LedgerError::NoSlotAvailable { .. }
            | LedgerError::IdempotencyConflict { .. }
            | LedgerError::DeviceConflict { .. } => Fault::new(409, code),
            LedgerError::MissingFilter => Fault::invalid(Some("device_id")),
            LedgerError::WindowEnded { .. } => Fault::invalid(Some("ends_at")),
            LedgerError::ActivationDeadlinePassed { .. } => Fault::invalid(Some("starts_at")),
            LedgerError::GenerationNotHigher { .. } => Fault::invalid(Some("generation")),
            LedgerError::Key(_) => Fault::invalid(Some("device_id")),
            LedgerError::TimesDisagree { .. } | LedgerError::NoChange { .. } => {
                Fault::invalid(None)
            }
            LedgerError::Issue(issue) => match issue {
                IssueError::EndNotAfterStart | IssueError::TooLong { .. } => {
                    Fault::invalid(Some("ends_at"))
                }
                IssueError::BeforeEpoch { .. } | IssueError::BeyondLifetime { .. } => {
                    Fault::invalid(Some("starts_at"))
                }
                IssueError::RoundingTooLarge { .. } => Fault::invalid(Some("max_time_rounding")),
                // A recurring schedule outside the profile's menu (format
                // v2; the hosted API has no field for it).
                IssueError::NotInMenu { .. } | IssueError::Grant(_) => Fault::invalid(None),
                // A profile's cipher refusing a numeral is a fault of the
                // build, whatever was asked.
                IssueError::Cipher(_) => Fault::new(500, code),
                // A refusal the engine adds later is the request's.
                _ => Fault::invalid(None),
            },
            LedgerError::Zone(zone) => match zone {
                // A stored device's zone this build's database lacks, or
                // whose rules its lock cannot keep: the operator's
                // configuration, not the request.
                ZoneError::Unknown { .. }
                | ZoneError::NoRule { .. }
                | ZoneError::RuleChanges { .. } => Fault::new(500, code),
                ZoneError::Gap { .. } | ZoneError::Fold { .. } | ZoneError::OutOfRange { .. } => {
                    Fault::invalid(None)
                }
            },
            LedgerError::InBatch { source, .. } => Fault::of(source),
            LedgerError::UnknownGroup { .. } => Fault::new(404, "group_not_found"),
            LedgerError::GroupConflict { .. } | LedgerError::DeviceInAnotherGroup { .. } => {
                Fault::new(409, code)
            }
            LedgerError::NoSharedVariance { .. } => Fault::new(409, NO_VARIANCE_AVAILABLE),
            LedgerError::InvalidGroupId { .. } => Fault::invalid(Some("group_id")),
            LedgerError::NotAMember { .. } | LedgerError::GroupProfileMismatch { .. } => {
                Fault::invalid(Some("device_id"))
            }
            LedgerError::CannotShare(_) => Fault::invalid(Some("device_ids")),
            LedgerError::MasterKeyMismatch { .. }
            | LedgerError::KeyDoesNotDerive { .. }
            | LedgerError::MasterKeyUnbound { .. }
            | LedgerError::UnknownProfile { .. }
            | LedgerError::Offset(_) => Fault::new(500, code),
            LedgerError::NotALedger { .. }
            | LedgerError::NeedsUpgrade { .. }
            | LedgerError::NeedsRecovery { .. }
            | LedgerError::Unwritable { .. }
            | LedgerError::Storage(_) => Fault::new(503, code),
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
        self.fault().field
    }

    /// How the API answers it ([`Fault`]).
    pub fn fault(&self) -> Fault {
        match self {
            RequestError::Invalid { field, .. } | RequestError::Immutable { field } => {
                Fault::invalid(Some(field))
            }
            RequestError::CodeNotFound { .. } => Fault::new(404, "access_code_not_found"),
            RequestError::Ledger(e) => Fault::of(e),
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

#[cfg(test)]
mod faults {
    use super::*;
    use offpin::UtcOffset;
    use offpin::ff1::Ff1Error;
    use offpin::index::GrantError;
    use offpin::keys::KeyError;
    use offpin::profile::Kind;
    use offpin::recurring::{Hours, Weekdays};
    use offpin::time::OffsetError;
    use std::boxed::Box;
    use std::collections::BTreeSet;

    /// The position of each variant (nested ones spelled out): a new
    /// variant does not compile here until it is given a place, and then
    /// the test below fails until it has a sample and an expected answer.
    fn place(e: &LedgerError) -> usize {
        match e {
            LedgerError::UnknownDevice { .. } => 0,
            LedgerError::DeviceRemoved { .. } => 1,
            LedgerError::DeviceConflict { .. } => 2,
            LedgerError::NoChange { .. } => 3,
            LedgerError::GenerationNotHigher { .. } => 4,
            LedgerError::UnknownProfile { .. } => 5,
            LedgerError::Zone(ZoneError::Unknown { .. }) => 6,
            LedgerError::Zone(ZoneError::Gap { .. }) => 7,
            LedgerError::Zone(ZoneError::Fold { .. }) => 8,
            LedgerError::Zone(ZoneError::OutOfRange { .. }) => 9,
            LedgerError::Zone(ZoneError::NoRule { .. }) => 35,
            LedgerError::Zone(ZoneError::RuleChanges { .. }) => 36,
            LedgerError::NotFound { .. } => 10,
            LedgerError::MissingFilter => 11,
            LedgerError::TimesDisagree { .. } => 12,
            LedgerError::NoVarianceAvailable { .. } => 13,
            LedgerError::NoSlotAvailable { .. } => 14,
            LedgerError::WindowEnded { .. } => 15,
            LedgerError::ActivationDeadlinePassed { .. } => 16,
            LedgerError::IdempotencyConflict { .. } => 17,
            LedgerError::MasterKeyMismatch { .. } => 18,
            LedgerError::KeyDoesNotDerive { .. } => 19,
            LedgerError::MasterKeyUnbound { .. } => 38,
            LedgerError::InBatch { .. } => 20,
            LedgerError::Issue(IssueError::EndNotAfterStart) => 21,
            LedgerError::Issue(IssueError::BeforeEpoch { .. }) => 22,
            LedgerError::Issue(IssueError::BeyondLifetime { .. }) => 23,
            LedgerError::Issue(IssueError::TooLong { .. }) => 24,
            LedgerError::Issue(IssueError::RoundingTooLarge { .. }) => 25,
            LedgerError::Issue(IssueError::NotInMenu { .. }) => 37,
            LedgerError::Issue(IssueError::Grant(_)) => 26,
            LedgerError::Issue(IssueError::Cipher(_)) => 27,
            // `IssueError` is the engine's, `#[non_exhaustive]`: a variant
            // it adds later answers as `Fault::of`'s catch-all says.
            LedgerError::Issue(_) => usize::MAX,
            LedgerError::Key(_) => 28,
            LedgerError::Offset(_) => 29,
            LedgerError::NotALedger { .. } => 30,
            LedgerError::NeedsUpgrade { .. } => 31,
            LedgerError::NeedsRecovery { .. } => 32,
            LedgerError::Unwritable { .. } => 33,
            LedgerError::Storage(_) => 34,
            LedgerError::UnknownGroup { .. } => 39,
            LedgerError::InvalidGroupId { .. } => 40,
            LedgerError::GroupConflict { .. } => 41,
            LedgerError::DeviceInAnotherGroup { .. } => 42,
            LedgerError::NotAMember { .. } => 43,
            LedgerError::GroupProfileMismatch { .. } => 44,
            LedgerError::CannotShare(_) => 45,
            LedgerError::NoSharedVariance { .. } => 46,
        }
    }
    const PLACES: usize = 47;

    fn s(text: &str) -> String {
        text.to_owned()
    }

    #[test]
    fn every_ledger_error_has_its_status_and_no_client_error_is_a_5xx() {
        let zone = |z| LedgerError::Zone(z);
        let off = UtcOffset::UTC;
        let pool = || {
            Box::new(super::super::SpentPool::new(
                Kind::Hourly,
                Utc::now(),
                Utc::now(),
            ))
        };
        let d = || s("front-door");
        // (error, status, type, field)
        let cases: Vec<(LedgerError, u16, &str, Option<&str>)> = vec![
            (
                LedgerError::UnknownDevice { device_id: d() },
                404,
                "device_not_found",
                None,
            ),
            (
                LedgerError::DeviceRemoved {
                    device_id: d(),
                    removed_at: Utc::now(),
                },
                404,
                "device_removed",
                None,
            ),
            (
                LedgerError::DeviceConflict { device_id: d() },
                409,
                "device_conflict",
                None,
            ),
            (
                LedgerError::NoChange { device_id: d() },
                400,
                INVALID_INPUT,
                None,
            ),
            (
                LedgerError::GenerationNotHigher {
                    device_id: d(),
                    current: 2,
                    requested: 1,
                },
                400,
                INVALID_INPUT,
                Some("generation"),
            ),
            (
                LedgerError::UnknownProfile { name: s("x") },
                500,
                "unknown_profile",
                None,
            ),
            (
                zone(ZoneError::Unknown {
                    name: s("Mars/Olympus"),
                }),
                500,
                "unknown_time_zone",
                None,
            ),
            (
                zone(ZoneError::Gap {
                    local: s("02:30"),
                    zone: s("Europe/Paris"),
                    before: off,
                    after: off,
                }),
                400,
                INVALID_INPUT,
                None,
            ),
            (
                zone(ZoneError::Fold {
                    local: s("02:30"),
                    zone: s("Europe/Paris"),
                    before: off,
                    after: off,
                }),
                400,
                INVALID_INPUT,
                None,
            ),
            (
                zone(ZoneError::OutOfRange { time: s("9999") }),
                400,
                INVALID_INPUT,
                None,
            ),
            (
                zone(ZoneError::NoRule {
                    zone: s("Africa/Casablanca"),
                    footer: s(""),
                }),
                500,
                "invalid_local_time",
                None,
            ),
            (
                zone(ZoneError::RuleChanges {
                    zone: s("Africa/Casablanca"),
                    footer: s("<+01>-1"),
                    at: 0,
                }),
                500,
                "invalid_local_time",
                None,
            ),
            (
                LedgerError::not_found("x"),
                404,
                "access_code_not_found",
                None,
            ),
            (
                LedgerError::MissingFilter,
                400,
                INVALID_INPUT,
                Some("device_id"),
            ),
            (
                LedgerError::TimesDisagree { why: "x" },
                400,
                INVALID_INPUT,
                None,
            ),
            (
                LedgerError::NoVarianceAvailable {
                    device_id: d(),
                    variances: 3,
                    pool: pool(),
                },
                409,
                NO_VARIANCE_AVAILABLE,
                None,
            ),
            (
                LedgerError::NoSlotAvailable {
                    device_id: d(),
                    slots: 8,
                    held_by: Vec::new(),
                    taken_in_batch: 0,
                },
                409,
                "no_slot_available",
                None,
            ),
            (
                LedgerError::WindowEnded { ends_at: 0, now: 1 },
                400,
                INVALID_INPUT,
                Some("ends_at"),
            ),
            (
                LedgerError::ActivationDeadlinePassed {
                    deadline: 0,
                    activation_secs: 86_400,
                    now: 1,
                },
                400,
                INVALID_INPUT,
                Some("starts_at"),
            ),
            (
                LedgerError::IdempotencyConflict {
                    key: s("k"),
                    access_code_id: s("a"),
                },
                409,
                "idempotency_conflict",
                None,
            ),
            (
                LedgerError::MasterKeyMismatch {
                    ledger: [1; 8],
                    given: [2; 8],
                },
                500,
                "master_key_mismatch",
                None,
            ),
            (
                LedgerError::KeyDoesNotDerive {
                    access_code_id: s("a"),
                    given: [2; 8],
                },
                500,
                "master_key_mismatch",
                None,
            ),
            (
                LedgerError::MasterKeyUnbound {
                    device_id: d(),
                    given: [2; 8],
                },
                500,
                "master_key_unbound",
                None,
            ),
            (
                LedgerError::InBatch {
                    index: 3,
                    source: Box::new(LedgerError::NoVarianceAvailable {
                        device_id: d(),
                        variances: 3,
                        pool: pool(),
                    }),
                },
                409,
                NO_VARIANCE_AVAILABLE,
                None,
            ),
            (
                LedgerError::Issue(IssueError::EndNotAfterStart),
                400,
                INVALID_INPUT,
                Some("ends_at"),
            ),
            (
                LedgerError::Issue(IssueError::BeforeEpoch { epoch: 0 }),
                400,
                INVALID_INPUT,
                Some("starts_at"),
            ),
            (
                LedgerError::Issue(IssueError::BeyondLifetime { last_start: 0 }),
                400,
                INVALID_INPUT,
                Some("starts_at"),
            ),
            (
                LedgerError::Issue(IssueError::TooLong {
                    requested_secs: 9,
                    max_secs: 1,
                }),
                400,
                INVALID_INPUT,
                Some("ends_at"),
            ),
            (
                LedgerError::Issue(IssueError::RoundingTooLarge {
                    needed_secs: 9,
                    allowed_secs: 1,
                }),
                400,
                INVALID_INPUT,
                Some("max_time_rounding"),
            ),
            (
                LedgerError::Issue(IssueError::NotInMenu {
                    days: Weekdays(0b001_1111),
                    hours: Hours::new(9, 17),
                    nearest_days: Weekdays(0b001_1111),
                    nearest_hours: Hours::new(8, 18),
                }),
                400,
                INVALID_INPUT,
                None,
            ),
            (
                LedgerError::Issue(IssueError::Grant(GrantError::KindDisabled(Kind::OneTime))),
                400,
                INVALID_INPUT,
                None,
            ),
            (
                LedgerError::Issue(IssueError::Cipher(Ff1Error::LengthTooLong {
                    len: 99,
                    max: 56,
                })),
                500,
                "invalid_window",
                None,
            ),
            (
                LedgerError::Key(KeyError::DeviceIdTooLong { found: 300 }),
                400,
                INVALID_INPUT,
                Some("device_id"),
            ),
            (
                LedgerError::Offset(OffsetError { minutes: 9_999 }),
                500,
                "storage_error",
                None,
            ),
            (
                LedgerError::NotALedger {
                    path: s("p"),
                    reason: s("r"),
                },
                503,
                "not_a_ledger",
                None,
            ),
            (
                LedgerError::NeedsUpgrade {
                    path: s("p"),
                    from: 1,
                    to: 2,
                },
                503,
                "ledger_needs_upgrade",
                None,
            ),
            (
                LedgerError::NeedsRecovery { path: s("p") },
                503,
                "ledger_needs_recovery",
                None,
            ),
            (
                LedgerError::Unwritable {
                    path: s("p"),
                    reason: s("r"),
                },
                503,
                "ledger_not_writable",
                None,
            ),
            (LedgerError::Storage(s("disk")), 503, "storage_error", None),
            (
                LedgerError::UnknownGroup { group_id: s("g") },
                404,
                "group_not_found",
                None,
            ),
            (
                LedgerError::InvalidGroupId { len: 0 },
                400,
                INVALID_INPUT,
                Some("group_id"),
            ),
            (
                LedgerError::GroupConflict {
                    group_id: s("g"),
                    profile: s("compact-8"),
                },
                409,
                "group_conflict",
                None,
            ),
            (
                LedgerError::DeviceInAnotherGroup {
                    device_id: d(),
                    group_id: s("g"),
                },
                409,
                "device_in_another_group",
                None,
            ),
            (
                LedgerError::NotAMember {
                    device_id: d(),
                    group_id: s("g"),
                },
                400,
                INVALID_INPUT,
                Some("device_id"),
            ),
            (
                LedgerError::GroupProfileMismatch {
                    device_id: d(),
                    device_profile: s("compact-8"),
                    group_id: s("g"),
                    group_profile: s("standard-10"),
                },
                400,
                INVALID_INPUT,
                Some("device_id"),
            ),
            (
                LedgerError::CannotShare(super::super::ShareRefusal::NotInAGroup {
                    device_id: d(),
                }),
                400,
                INVALID_INPUT,
                Some("device_ids"),
            ),
            (
                LedgerError::NoSharedVariance {
                    group_id: s("g"),
                    variances: 3,
                    taken: vec![(d(), vec![0, 1, 2])],
                    pool: pool(),
                },
                409,
                NO_VARIANCE_AVAILABLE,
                None,
            ),
        ];
        let covered: BTreeSet<usize> = cases.iter().map(|(e, ..)| place(e)).collect();
        assert_eq!(covered, (0..PLACES).collect(), "every variant has a case");
        for (e, status, error_type, field) in &cases {
            let f = Fault::of(e);
            assert_eq!(
                (f.status, f.error_type, f.field),
                (*status, *error_type, *field),
                "{e}"
            );
            // What the errors about a code say is the client's to fix:
            // never a 5xx (but for a cipher that refuses its own profile,
            // which no request can cause).
            if e.to_code_error(Utc::now()).is_access_code_error
                && !matches!(e, LedgerError::Issue(IssueError::Cipher(_)))
            {
                assert!(f.status < 500, "{e}");
            }
        }
        // The request's own refusals.
        let immutable = RequestError::Immutable { field: "ends_at" };
        assert_eq!(immutable.fault(), Fault::invalid(Some("ends_at")));
        let missing = RequestError::CodeNotFound { device_id: d() };
        assert_eq!(missing.fault().status, 404);
        let wrapped = RequestError::Ledger(LedgerError::MissingFilter);
        assert_eq!(wrapped.field(), Some("device_id"));
    }
}
