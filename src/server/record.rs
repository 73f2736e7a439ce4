//! The `access_code` record of the hosted lock APIs, for offline codes.
//!
//! [`AccessCode`] serialises (with `serde`) to exactly the object the
//! hosted lock APIs return for an offline access code: the same keys, in
//! the same (alphabetical) order, the same value types, times as RFC 3339
//! UTC with milliseconds (`2025-01-01T16:00:00.000Z`) and `null` for the
//! absent ones.
//!
//! `starts_at` and `ends_at` are the window the PIN *encodes* (after
//! rounding to hours or the lock's days), so the record says what the lock
//! will do. For a one-time code they are its use window.
//!
//! Codes the lock must see used within an activation window (one-time
//! codes, and time-bound codes longer than the profile's activation
//! window) carry the warning `igloo_algopin_must_be_used_within_24_hours`
//! with the profile's actual window in its message; an exhausted window is
//! the error `igloohome_offline_access_code_no_variance_available`
//! ([`CodeError::no_variance_available`]).

// The crate is `no_std`; this module is std-only.
use std::format;
use std::prelude::rust_2024::*;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::grant::Grant;
use crate::issue::Plan;
use crate::profile::Profile;
use crate::server::chrono_time::{from_unix, parse_rfc3339, rfc3339_millis};
use crate::time::HOUR;

/// The warning code of codes that must be used within an activation
/// window after their start.
pub const MUST_BE_USED_WITHIN_24_HOURS: &str = "igloo_algopin_must_be_used_within_24_hours";
/// The error code of a window whose variances are all in use.
pub const NO_VARIANCE_AVAILABLE: &str = "igloohome_offline_access_code_no_variance_available";

/// `type` of an access code.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CodeType {
    /// Valid until removed.
    Ongoing,
    /// Valid from `starts_at` to `ends_at`.
    TimeBound,
}

/// `status` of an access code. Offline codes are `set` from the moment
/// they are issued: the lock already knows them.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CodeStatus {
    /// Being configured.
    Setting,
    /// Active and operational.
    Set,
    /// Deactivated or not yet active.
    Unset,
    /// Being removed.
    Removing,
    /// Indeterminate.
    Unknown,
}

/// One entry of `errors`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CodeError {
    /// When the error was raised.
    #[serde(with = "millis")]
    pub created_at: DateTime<Utc>,
    /// Machine-readable code, e.g. [`NO_VARIANCE_AVAILABLE`].
    pub error_code: String,
    /// Always `true` for access-code errors.
    pub is_access_code_error: bool,
    /// Human-readable description.
    pub message: String,
}

impl CodeError {
    /// The `igloohome_offline_access_code_no_variance_available` error: all
    /// `variances` PINs of one window are in use on the device.
    ///
    /// # Examples
    ///
    /// ```
    /// use offpin::server::record::{CodeError, NO_VARIANCE_AVAILABLE};
    /// let e = CodeError::no_variance_available(3, chrono::Utc::now());
    /// assert_eq!(e.error_code, NO_VARIANCE_AVAILABLE);
    /// ```
    pub fn no_variance_available(variances: u32, created_at: DateTime<Utc>) -> Self {
        CodeError {
            created_at,
            error_code: NO_VARIANCE_AVAILABLE.to_owned(),
            is_access_code_error: true,
            message: format!(
                "Lock has reached maximum amount of codes: all {variances} variances of this window are in use on the device; choose another window or delete a code of this one."
            ),
        }
    }
}

/// One entry of `warnings`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CodeWarning {
    /// When the warning was raised.
    #[serde(with = "millis")]
    pub created_at: DateTime<Utc>,
    /// Human-readable description.
    pub message: String,
    /// Machine-readable code, e.g. [`MUST_BE_USED_WITHIN_24_HOURS`].
    pub warning_code: String,
}

/// The `access_code` object, as the hosted lock APIs return it for an
/// offline code. Fields are declared in the API's (alphabetical) order.
///
/// # Examples
///
/// ```
/// use offpin::server::record::{AccessCode, OfflineCode};
/// use offpin::profile::shipped::STANDARD_10 as P;
/// use offpin::{Codec, DeviceKey, Request};
///
/// let codec = Codec::new(&DeviceKey::from_bytes([1; 16]), P)?;
/// let start = P.epoch() + 24 * 3600;
/// let issued = codec.issue(&Request::time_bound(start, start + 3 * 3600))?;
/// let created = chrono::DateTime::from_timestamp(start, 0).ok_or("time")?;
/// let record = AccessCode::offline(OfflineCode {
///     access_code_id: "e9cf6dd6-89aa-477f-a701-c08f3de13c1f",
///     device_id: "front-door",
///     name: Some("guest"),
///     code: issued.pin.as_str(),
///     common_code_key: None,
///     plan: &issued.plan,
///     profile: &P,
///     created_at: created,
/// }).ok_or("revocation codes have no record")?;
/// let json = serde_json::to_value(&record)?;
/// assert_eq!(json["type"], "time_bound");
/// assert_eq!(json["starts_at"], "2024-01-02T00:00:00.000Z");
/// assert_eq!(json["is_offline_access_code"], true);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessCode {
    /// Unique identifier (a UUID).
    pub access_code_id: String,
    /// The PIN.
    pub code: String,
    /// Identifier of a group of codes sharing one PIN (`null` here).
    pub common_code_key: Option<String>,
    /// When the code was issued.
    #[serde(with = "millis")]
    pub created_at: DateTime<Utc>,
    /// The device (lock) the code opens.
    pub device_id: String,
    /// End of the encoded window (`null` for ongoing codes).
    #[serde(with = "opt_millis")]
    pub ends_at: Option<DateTime<Utc>>,
    /// Errors.
    pub errors: Vec<CodeError>,
    /// Whether this is a backup code (`false`).
    pub is_backup: bool,
    /// Whether a backup code is available (`false` for offline codes).
    pub is_backup_access_code_available: bool,
    /// Whether changes made outside the issuer are allowed (`false`).
    pub is_external_modification_allowed: bool,
    /// Whether the issuer manages the code (`true`).
    pub is_managed: bool,
    /// `true`: the code was derived offline.
    pub is_offline_access_code: bool,
    /// Whether the code opens only once.
    pub is_one_time_use: bool,
    /// Whether the lock enforces the schedule itself (`true`).
    pub is_scheduled_on_device: bool,
    /// Whether the code is waiting for its PIN (`false`: offline codes
    /// have it at once).
    pub is_waiting_for_code_assignment: bool,
    /// Name given by the operator.
    pub name: Option<String>,
    /// Pulled backup code (`null`).
    pub pulled_backup_access_code_id: Option<String>,
    /// Start of the encoded window (`null` for ongoing codes).
    #[serde(with = "opt_millis")]
    pub starts_at: Option<DateTime<Utc>>,
    /// Lifecycle status (`set` for offline codes).
    pub status: CodeStatus,
    /// `ongoing` or `time_bound`.
    #[serde(rename = "type")]
    pub code_type: CodeType,
    /// Warnings.
    pub warnings: Vec<CodeWarning>,
}

/// What [`AccessCode::offline`] needs: identifiers, the PIN and the plan it
/// encodes.
#[derive(Clone, Copy, Debug)]
pub struct OfflineCode<'a> {
    /// The record's UUID.
    pub access_code_id: &'a str,
    /// The device.
    pub device_id: &'a str,
    /// Operator-given name.
    pub name: Option<&'a str>,
    /// The PIN.
    pub code: &'a str,
    /// Group key, if any.
    pub common_code_key: Option<&'a str>,
    /// The plan the PIN encodes ([`crate::Issued::plan`]).
    pub plan: &'a Plan,
    /// The device's profile.
    pub profile: &'a Profile,
    /// Issue time (truncated to milliseconds in the JSON).
    pub created_at: DateTime<Utc>,
}

fn hours(secs: i64) -> i64 {
    secs / HOUR
}

impl AccessCode {
    /// The record of an offline code: time-bound (hourly, daily), one-time
    /// or ongoing. `None` for a revocation code, which is not an access
    /// code.
    pub fn offline(parts: OfflineCode<'_>) -> Option<AccessCode> {
        let plan = parts.plan;
        let window = plan.window;
        let starts_at = window.and_then(|w| from_unix(w.start));
        let ends_at = window.and_then(|w| from_unix(w.end));
        let (code_type, one_time) = match plan.grant {
            Grant::Hourly(_) | Grant::Daily(_) => (CodeType::TimeBound, false),
            Grant::OneTime { .. } => (CodeType::TimeBound, true),
            Grant::Ongoing { .. } => (CodeType::Ongoing, false),
            Grant::Revoke(_) => return None,
        };
        let mut warnings = Vec::new();
        let p = parts.profile;
        if let Some(w) = window {
            let fmt = |secs| from_unix(secs).map_or_else(String::new, |t| rfc3339_millis(&t));
            if one_time {
                let h = hours(p.one_time_use_secs());
                warnings.push(CodeWarning {
                    created_at: parts.created_at,
                    message: format!(
                        "One-time code: it opens once, and only if used within {h} hours of its start ({} to {}).",
                        fmt(w.start),
                        fmt(w.end)
                    ),
                    warning_code: MUST_BE_USED_WITHIN_24_HOURS.to_owned(),
                });
            } else if w.len_secs() > p.activation_secs() {
                let h = hours(p.activation_secs());
                warnings.push(CodeWarning {
                    created_at: parts.created_at,
                    message: format!(
                        "The code must be used for the first time within {h} hours of its start (by {}); if it is, it keeps opening until {}.",
                        fmt(w.start + p.activation_secs()),
                        fmt(w.end)
                    ),
                    warning_code: MUST_BE_USED_WITHIN_24_HOURS.to_owned(),
                });
            }
        }
        Some(AccessCode {
            access_code_id: parts.access_code_id.to_owned(),
            code: parts.code.to_owned(),
            common_code_key: parts.common_code_key.map(str::to_owned),
            created_at: parts.created_at,
            device_id: parts.device_id.to_owned(),
            ends_at,
            errors: Vec::new(),
            is_backup: false,
            is_backup_access_code_available: false,
            is_external_modification_allowed: false,
            is_managed: true,
            is_offline_access_code: true,
            is_one_time_use: one_time,
            is_scheduled_on_device: true,
            is_waiting_for_code_assignment: false,
            name: parts.name.map(str::to_owned),
            pulled_backup_access_code_id: None,
            starts_at,
            status: CodeStatus::Set,
            code_type,
            warnings,
        })
    }
}

/// serde for `DateTime<Utc>` as RFC 3339 UTC with milliseconds.
mod millis {
    use super::*;

    pub(super) fn serialize<S: Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&rfc3339_millis(t))
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
        let text = String::deserialize(d)?;
        parse_rfc3339(&text).map_err(serde::de::Error::custom)
    }
}

/// serde for `Option<DateTime<Utc>>` (`null` when absent).
mod opt_millis {
    use super::*;

    pub(super) fn serialize<S: Serializer>(
        t: &Option<DateTime<Utc>>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        match t {
            Some(t) => s.serialize_str(&rfc3339_millis(t)),
            None => s.serialize_none(),
        }
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<DateTime<Utc>>, D::Error> {
        match Option::<String>::deserialize(d)? {
            Some(text) => parse_rfc3339(&text)
                .map(Some)
                .map_err(serde::de::Error::custom),
            None => Ok(None),
        }
    }
}
