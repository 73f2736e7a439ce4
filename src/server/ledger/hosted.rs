//! The hosted access-code API's rules, for a service that speaks it
//! (`offpin serve`): which code a create request asks for, what an update
//! may change, finding a code by its PIN. The service parses and answers;
//! these functions decide.

// The crate is `no_std`; this module is std-only.
use std::prelude::rust_2024::*;

use core::fmt;

use chrono::{DateTime, Utc};

use super::{CodeSpec, CodeWant, Deleted, Device, Ledger, LedgerError, ListFilter, ct_eq};
use crate::keys::MasterKey;
use crate::server::record::{AccessCode, CodeType};

/// `max_time_rounding` when a request gives none: one hour.
pub const DEFAULT_MAX_TIME_ROUNDING_SECS: u32 = 3_600;

/// The seconds of a `max_time_rounding` value of the API (`1h`, `1hour`,
/// `1d`, `1day`), or `None`.
///
/// # Examples
///
/// ```
/// use offpin::server::ledger::hosted::max_time_rounding_secs;
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
        match self {
            RequestError::Invalid { field, .. } | RequestError::Immutable { field } => Some(field),
            RequestError::CodeNotFound { .. } | RequestError::Ledger(_) => None,
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
    /// use offpin::server::ledger::CodeWant;
    /// use offpin::server::ledger::hosted::CreateCode;
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
