//! The `access_code` record of the hosted lock APIs, for offline codes,
//! computed when it is read.
//!
//! [`AccessCode`] serialises (with `serde`) to the object the hosted lock
//! APIs return for an offline access code: the same keys in the same
//! (alphabetical) order, the same value types, times as RFC 3339 UTC with
//! milliseconds (`2025-01-01T16:00:00.000Z`) and `null` for absent ones,
//! plus `user_identifier_key` (what the code was issued for, so a list by
//! that key can be checked against what was stored).
//!
//! A record is a view, not a stored value: [`AccessCode::offline`] builds
//! it from what the ledger stored about the code ([`OfflineCode`]), the
//! device as it is configured now ([`LockView`]) and the time of reading.
//! `status`, `warnings` and `errors` say what the lock will do *now*:
//!
//! | situation | `status` | entry |
//! |---|---|---|
//! | the lock will open for it (now or later) | `set` | — |
//! | longer than the activation window, or one-time | `set` | warning [`MUST_BE_USED_WITHIN_24_HOURS`] with the deadline |
//! | its activation deadline has passed | `set` | the same warning, saying that it opens only if it was first used in time, which the server cannot know |
//! | its window has ended | `unset` | warning [`WINDOW_ENDED`] |
//! | deleted, but the lock still opens for it | `removing` | warning [`DELETED_STILL_OPENS`] (until when; for an ongoing code its revocation PIN) |
//! | deleted, and its window has ended | `unset` | warning [`DELETED`] |
//! | issued after its deadline (a backfill): can never open | `unset` | error [`CANNOT_OPEN`] |
//! | issued under an older key generation of a re-keyed device | `unset` | error [`KEY_GENERATION_CHANGED`] |
//! | its device was removed from the ledger | `unknown` | error [`DEVICE_REMOVED`] |
//! | a daily window whose boundaries miss local midnight (DST) | (as above) | warning [`DAILY_WINDOW_OFF_LOCAL_MIDNIGHT`] with the hours |
//! | its daily window moved because the device's UTC offset changed | (as above) | warning [`WINDOW_MOVED`] |
//!
//! "Ended" counts the lock's clock grace: the lock still accepts a code
//! for `grace` seconds after its `ends_at`. Deleted codes stay visible:
//! an offline PIN cannot be recalled, so hiding one that still opens the
//! door would hide the truth.

mod offline;

use core::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::chrono_time::{parse_rfc3339, rfc3339_millis};
use crate::zone::Zone;
use offpin::grant::Grant;
use offpin::profile::Profile;
use offpin::time::{UnixSeconds, UtcOffset, Window};
use offpin::tz::TzRule;

/// Warning: the code must be used within an activation window after its
/// start (one-time codes, and time-bound codes longer than the profile's
/// activation window).
pub const MUST_BE_USED_WITHIN_24_HOURS: &str = "igloo_algopin_must_be_used_within_24_hours";
/// Error: all variances of a window are in use.
pub const NO_VARIANCE_AVAILABLE: &str = "igloohome_offline_access_code_no_variance_available";
/// Error: the code's device was removed from the ledger.
pub const DEVICE_REMOVED: &str = "device_removed";
/// Error: the code was issued after the last instant it could have been
/// used (a backfilled record): the lock never opens for it.
pub const CANNOT_OPEN: &str = "offpin_code_cannot_open";
/// Error: the device was re-keyed after this code was issued.
pub const KEY_GENERATION_CHANGED: &str = "offpin_key_generation_changed";
/// Warning: the code's window has ended.
pub const WINDOW_ENDED: &str = "offpin_window_ended";
/// Warning: the code was deleted but the lock still opens for it.
pub const DELETED_STILL_OPENS: &str = "offpin_deleted_still_opens";
/// Warning: the code was deleted (and no longer opens).
pub const DELETED: &str = "offpin_deleted";
/// Warning: a daily window's boundaries are not at local midnight, because
/// the lock counts days at a fixed UTC offset and the zone observes
/// daylight saving time.
pub const DAILY_WINDOW_OFF_LOCAL_MIDNIGHT: &str = "offpin_daily_window_off_local_midnight";
/// Warning: the device's UTC offset changed after issue, so the lock now
/// honours a daily window at other instants.
pub const WINDOW_MOVED: &str = "offpin_window_moved";
/// Warning: a group code's device left the group after issue: the lock
/// still holds the group key (and opens for the code) until it is
/// re-provisioned; group codes issued since do not open it.
pub const LEFT_GROUP: &str = "offpin_device_left_group";
/// Warning: a group code's group was re-keyed after issue (a member left):
/// the lock stops opening for it once it is given the new group key.
pub const GROUP_REKEYED: &str = "offpin_group_rekeyed";

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

/// `status` of an access code (see the [module docs](self) for when each
/// is given).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CodeStatus {
    /// Being configured (not used for offline codes).
    Setting,
    /// The lock opens for it, now or later.
    Set,
    /// It no longer opens (or never can).
    Unset,
    /// Deleted, but the lock still opens for it.
    Removing,
    /// Indeterminate (its device was removed).
    Unknown,
}

impl CodeStatus {
    /// The status as the JSON says it (`set`, `unset`, `removing`, ...).
    pub const fn name(self) -> &'static str {
        match self {
            CodeStatus::Setting => "setting",
            CodeStatus::Set => "set",
            CodeStatus::Unset => "unset",
            CodeStatus::Removing => "removing",
            CodeStatus::Unknown => "unknown",
        }
    }
}

/// One entry of `errors`, and the shape of an error of the command's
/// `--json` output.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CodeError {
    /// When the error was raised.
    #[serde(with = "millis")]
    pub created_at: DateTime<Utc>,
    /// Machine-readable code, e.g. [`NO_VARIANCE_AVAILABLE`].
    pub error_code: String,
    /// `true` for errors about an access code.
    pub is_access_code_error: bool,
    /// Human-readable description.
    pub message: String,
}

impl CodeError {
    /// An access-code error.
    pub fn new(error_code: &str, message: String, created_at: DateTime<Utc>) -> Self {
        CodeError {
            created_at,
            error_code: error_code.to_owned(),
            is_access_code_error: true,
            message,
        }
    }

    /// The `igloohome_offline_access_code_no_variance_available` error: all
    /// `variances` PINs of one window are in use on the device.
    ///
    /// # Examples
    ///
    /// ```
    /// use offpin_ledger::record::{CodeError, NO_VARIANCE_AVAILABLE};
    /// let e = CodeError::no_variance_available(3, chrono::Utc::now());
    /// assert_eq!(e.error_code, NO_VARIANCE_AVAILABLE);
    /// ```
    pub fn no_variance_available(variances: u32, created_at: DateTime<Utc>) -> Self {
        CodeError::new(
            NO_VARIANCE_AVAILABLE,
            no_variance_message(variances),
            created_at,
        )
    }
}

/// What the operator can do when a window's variances are spent.
pub(crate) fn no_variance_message(variances: u32) -> String {
    format!(
        "Lock has reached maximum amount of codes: all {variances} variances of this window are issued on the device, and deleting a code does not free its variance (an offline PIN cannot be recalled). Issue the code for a window that starts or ends an hour earlier or later (another window, with {variances} variances of its own), or re-key the device (a new key generation), which makes every code issued before stop opening."
    )
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

/// The `offpin_recurrence` of a weekly recurring code: it opens on its
/// `weekdays`, from `starts_at_time` to `ends_at_time` the lock's local
/// time, in the `weeks` whole weeks from the record's `starts_at` to its
/// `ends_at` (the local midnights that begin its first week and end its
/// last).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recurrence {
    /// The days it opens on, Monday first: `monday` … `sunday`.
    pub weekdays: Vec<String>,
    /// When each day's slot opens, local time (`HH:MM`, a whole hour).
    pub starts_at_time: String,
    /// When it closes, local time (`HH:MM`; `24:00` is the next midnight).
    pub ends_at_time: String,
    /// Its length in weeks.
    pub weeks: u16,
}

/// The names of the weekdays, Monday first (ISO 8601's order, the bits of
/// [`Weekdays`](offpin::recurring::Weekdays)).
pub const WEEKDAY_NAMES: [&str; 7] = [
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
];

/// The `offpin_clock_setting` of a clock-setting code: typed at the lock
/// from `starts_at` (its step before) until `ends_at`, it sets the lock's
/// clock to `sets_clock_to` (which is `ends_at`). It opens nothing.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClockSetting {
    /// The instant the lock's clock moves to.
    #[serde(with = "millis")]
    pub sets_clock_to: DateTime<Utc>,
}

/// `appearance`: the name as it appears where the code is kept. Offline
/// locks store no names, so it is the ledger's name, unsplit.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Appearance {
    /// First name, for providers that split names (never, here).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_name: Option<String>,
    /// Last name, for providers that split names (never, here).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_name: Option<String>,
    /// The name.
    pub name: String,
}

/// The `access_code` object, as the hosted lock APIs return it for an
/// offline code, computed at read time. Fields are declared in the API's
/// (alphabetical) order. `Debug` redacts the PIN and shows only the codes
/// of warnings and errors (a message may carry a revocation PIN).
///
/// # Examples
///
/// ```
/// use offpin_ledger::record::{AccessCode, LockView, OfflineCode};
/// use offpin::profile::shipped::STANDARD_10 as P;
/// use offpin::{Codec, DeviceKey, Request, UtcOffset};
///
/// let codec = Codec::new(&DeviceKey::from_bytes([1; 16]), P)?;
/// let start = P.epoch() + 24 * 3600;
/// let issued = codec.issue(&Request::time_bound(start, start + 3 * 3600))?;
/// let created = chrono::DateTime::from_timestamp(start - 3600, 0).ok_or("time")?;
/// let code = OfflineCode {
///     access_code_id: "e9cf6dd6-89aa-477f-a701-c08f3de13c1f",
///     device_id: "front-door",
///     code: issued.pin.as_str(),
///     grant: issued.plan.grant,
///     generation: 0,
///     issued_window: issued.plan.window,
///     name: Some("guest"),
///     user_identifier_key: None,
///     common_code_key: None,
///     created_at: created,
///     deleted_at: None,
///     revocation_code: None,
///     group: None,
/// };
/// let lock = LockView { profile: &P, utc_offset: UtcOffset::UTC, zone: None, generation: 0, removed_at: None, group: None };
/// let record = AccessCode::offline(&code, &lock, created).ok_or("revocation codes have no record")?;
/// let json = serde_json::to_value(&record)?;
/// assert_eq!(json["type"], "time_bound");
/// assert_eq!(json["status"], "set");
/// assert_eq!(json["starts_at"], "2024-01-02T00:00:00.000Z");
/// assert!(!format!("{record:?}").contains(issued.pin.as_str()));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessCode {
    /// Unique identifier (a UUID).
    pub access_code_id: String,
    /// The name as it appears (`null` without a name).
    pub appearance: Option<Appearance>,
    /// The PIN.
    pub code: String,
    /// Identifier of a group of codes sharing one PIN (`null` here).
    pub common_code_key: Option<String>,
    /// When the code was issued.
    #[serde(with = "millis")]
    pub created_at: DateTime<Utc>,
    /// The device (lock) the code opens.
    pub device_id: String,
    /// End of the window the lock honours (`null` for ongoing codes).
    #[serde(with = "opt_millis")]
    pub ends_at: Option<DateTime<Utc>>,
    /// Errors: why the code cannot open.
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
    /// offpin's extension: what a clock-setting code sets the lock's clock
    /// to (absent for every other kind).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offpin_clock_setting: Option<ClockSetting>,
    /// offpin's extension: a weekly recurring code's schedule (absent for
    /// every other kind).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offpin_recurrence: Option<Recurrence>,
    /// Pulled backup code (`null`).
    pub pulled_backup_access_code_id: Option<String>,
    /// For a deleted ongoing code: the PIN to type at the lock to revoke
    /// it (its slot's revocation code), so that an SDK whose `delete`
    /// returns nothing can read it with `get`. Absent otherwise (and for a
    /// profile without revocation codes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revocation_code: Option<String>,
    /// Start of the window the lock honours (`null` for ongoing codes).
    #[serde(with = "opt_millis")]
    pub starts_at: Option<DateTime<Utc>>,
    /// Lifecycle status, at the time of reading.
    pub status: CodeStatus,
    /// `ongoing` or `time_bound`.
    #[serde(rename = "type")]
    pub code_type: CodeType,
    /// The operator's own user id the code was issued for.
    pub user_identifier_key: Option<String>,
    /// Warnings, at the time of reading.
    pub warnings: Vec<CodeWarning>,
}

impl fmt::Debug for AccessCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccessCode")
            .field("access_code_id", &self.access_code_id)
            .field("code", &"..")
            .field("device_id", &self.device_id)
            .field("code_type", &self.code_type)
            .field("is_one_time_use", &self.is_one_time_use)
            .field("starts_at", &self.starts_at)
            .field("ends_at", &self.ends_at)
            .field("status", &self.status)
            .field("name", &self.name)
            .field("user_identifier_key", &self.user_identifier_key)
            .field("created_at", &self.created_at)
            .field(
                "revocation_code",
                &self.revocation_code.as_ref().map(|_| ".."),
            )
            // Codes only: a message may carry a revocation PIN.
            .field(
                "errors",
                &self
                    .errors
                    .iter()
                    .map(|e| &e.error_code)
                    .collect::<Vec<_>>(),
            )
            .field(
                "warnings",
                &self
                    .warnings
                    .iter()
                    .map(|w| &w.warning_code)
                    .collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

/// What the ledger stored about an issued code: the facts a record is
/// computed from. `Debug` redacts the PIN and the revocation PIN.
#[derive(Clone, Copy)]
pub struct OfflineCode<'a> {
    /// The record's UUID.
    pub access_code_id: &'a str,
    /// The device.
    pub device_id: &'a str,
    /// The PIN.
    pub code: &'a str,
    /// The grant the PIN encodes.
    pub grant: Grant,
    /// The device key generation the PIN was derived with.
    pub generation: u32,
    /// The window as issued (the device's UTC offset then); `None` for
    /// ongoing codes.
    pub issued_window: Option<Window>,
    /// Operator-given name.
    pub name: Option<&'a str>,
    /// The operator's user id.
    pub user_identifier_key: Option<&'a str>,
    /// Group key, if any.
    pub common_code_key: Option<&'a str>,
    /// Issue time.
    pub created_at: DateTime<Utc>,
    /// When it was deleted.
    pub deleted_at: Option<DateTime<Utc>>,
    /// For a deleted ongoing code: the PIN that revokes it at the lock.
    pub revocation_code: Option<&'a str>,
    /// For a group code: the group and the group key generation its PIN
    /// was derived with (`None`: the device's own key).
    pub group: Option<(&'a str, u32)>,
}

impl fmt::Debug for OfflineCode<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OfflineCode")
            .field("access_code_id", &self.access_code_id)
            .field("device_id", &self.device_id)
            .field("code", &"..")
            .field("grant", &self.grant)
            .field("generation", &self.generation)
            .field("issued_window", &self.issued_window)
            .field("name", &self.name)
            .field("user_identifier_key", &self.user_identifier_key)
            .field("created_at", &self.created_at)
            .field("deleted_at", &self.deleted_at)
            .field("revocation_code", &self.revocation_code.map(|_| ".."))
            .finish_non_exhaustive()
    }
}

/// The device as it is configured at the time of reading.
#[derive(Clone, Copy, Debug)]
pub struct LockView<'a> {
    /// Its profile.
    pub profile: &'a Profile,
    /// The lock's fixed UTC offset.
    pub utc_offset: UtcOffset,
    /// Its time zone, if known.
    pub zone: Option<&'a Zone>,
    /// Its current key generation.
    pub generation: u32,
    /// When it was removed from the ledger.
    pub removed_at: Option<DateTime<Utc>>,
    /// The group the device is a member of now, and the group's key
    /// generation (`None`: in no group).
    pub group: Option<(&'a str, u32)>,
}

/// The instants that decide what a code can still do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Deadlines {
    /// The window the lock honours (`None` for ongoing codes).
    pub window: Option<Window>,
    /// The last instant of a first use (activation), for codes that need
    /// one: one-time codes (the end of their use window) and time-bound
    /// codes longer than the activation window.
    pub first_use_by: Option<UnixSeconds>,
    /// The lock's clock grace, in seconds.
    pub grace: i64,
}

impl Deadlines {
    /// The deadlines of `grant` on a lock whose local time is `zone` (a
    /// fixed offset or a DST rule).
    pub fn of(grant: &Grant, profile: &Profile, zone: impl Into<TzRule>) -> Deadlines {
        let window = match grant {
            // When the lock accepts it: up to its step before its instant
            // (docs/FORMAT.md §11).
            Grant::ClockSet { at } => {
                let to = profile.clock_instant(*at);
                let step = i64::from(profile.params().clock_codes.max_step_hours) * 3_600;
                to.checked_sub(step).map(|start| Window { start, end: to })
            }
            _ => grant.window(profile, zone),
        };
        let first_use_by = match (grant, window) {
            (Grant::OneTime { .. }, Some(w)) => Some(w.end),
            (Grant::Hourly(_) | Grant::Daily(_), Some(w))
                if w.len_secs() > profile.activation_secs() =>
            {
                w.start.checked_add(profile.activation_secs())
            }
            _ => None,
        };
        Deadlines {
            window,
            first_use_by,
            // A clock-setting code is judged without grace.
            grace: match grant {
                Grant::ClockSet { .. } => 0,
                _ => profile.grace_secs(),
            },
        }
    }

    /// Whether the lock can no longer open for the code at `now`: its
    /// window (plus grace) has ended. Never for ongoing codes.
    pub fn ended(&self, now: UnixSeconds) -> bool {
        self.window
            .is_some_and(|w| now >= w.end.saturating_add(self.grace))
    }
}

impl AccessCode {
    /// Whether the lock may still open for this code (`set` or
    /// `removing`).
    pub fn may_open(&self) -> bool {
        matches!(self.status, CodeStatus::Set | CodeStatus::Removing)
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
