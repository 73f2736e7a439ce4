//! The service's OpenAPI description, generated from the request and
//! response types and the endpoints' annotations (utoipa), served at
//! `/openapi.json`.
//!
//! The request and answer types; each endpoint's description is written
//! once, beside its route ([`super::routes`]).

use offpin_ledger::record::{
    AccessCode, ClockSetting, CodeError, CodeStatus, CodeType, CodeWarning, Recurrence,
};
use serde::Serialize;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi, ToSchema};

use crate::request::{
    ClockSettingParam, MaxTimeRounding, RecurrenceParam, TypeParam, WhenNotSharedParam,
};

/// `{"access_code": {...}, "ok": true}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct AccessCodeResponse {
    /// The code.
    pub access_code: AccessCode,
    /// `true`.
    pub ok: bool,
}

/// `{"access_codes": [...], "ok": true}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct AccessCodesResponse {
    /// The codes, in issue order.
    pub access_codes: Vec<AccessCode>,
    /// `true`.
    pub ok: bool,
}

/// Where the next page is: `has_next_page`, and when it is `true` the
/// cursor to send as `page_cursor` and the URL of the next page (this
/// request's URL with `page_cursor` set).
#[derive(Debug, Serialize, ToSchema)]
pub struct Pagination {
    /// Whether more follow.
    pub has_next_page: bool,
    /// Send it back as `page_cursor` with the same filters (`null` on the
    /// last page). Opaque.
    pub next_page_cursor: Option<String>,
    /// The next page's URL (`null` on the last page).
    pub next_page_url: Option<String>,
}

/// `{"access_codes": [...], "pagination": {...}, "ok": true}`: one page of
/// `/access_codes/list`.
#[derive(Debug, Serialize, ToSchema)]
pub struct AccessCodesPage {
    /// The codes, in issue order (`created_at`, then id), without those
    /// that can no longer open and have not for longer than the server's
    /// retention (`get` still reads them by id).
    pub access_codes: Vec<AccessCode>,
    /// The next page.
    pub pagination: Pagination,
    /// `true`.
    pub ok: bool,
}

/// The answer to a delete.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeleteResponse {
    /// The deleted code.
    pub access_code: AccessCode,
    /// For an ongoing code: the PIN to type at the lock to revoke it.
    pub revocation_code: Option<String>,
    /// For an ongoing code: its slot, retired for good.
    pub revoked_slot: Option<u32>,
    /// `true`.
    pub ok: bool,
}

/// A device's security figures (the keys its lock tries, the profile's
/// lock-out): a group member tries its own key and the group key, which
/// doubles the PINs a guess can hit (`W_max`).
#[derive(Debug, Serialize, ToSchema)]
pub struct SecurityView {
    /// Keys the lock tries: 1, or 2 for a group member.
    pub keys: u32,
    /// Number of PINs (`radix^n`).
    pub pins: u64,
    /// Most PIN indices acceptable at any instant, on this device's local
    /// time (a DST zone on a profile with recurring codes: the sum of the
    /// per-kind maxima, an upper bound).
    pub w_max: u64,
    /// Probability that one random attempt opens the lock.
    pub p_per_attempt: f64,
    /// Attempts the lock-out allows per day.
    pub attempts_per_day: u64,
    /// Bound on the probability of a guess opening within a year.
    pub p_per_year: f64,
}

/// Where a device is, as the hosted API describes it: its time zone.
#[derive(Debug, Serialize, ToSchema)]
pub struct LocationView {
    /// `null`: the ledger keeps no location names.
    pub location_name: Option<String>,
    /// The IANA time zone (`Europe/Paris`).
    pub time_zone: String,
}

/// A device (lock).
#[derive(Debug, Serialize, ToSchema)]
pub struct DeviceView {
    /// The id.
    pub device_id: String,
    /// The id, as the SDKs show a device's name.
    pub display_name: String,
    /// `offpin_lock`: a lock that checks offline codes (the value
    /// `/devices/list`'s `device_type` filter matches).
    pub device_type: &'static str,
    /// `true`: this server manages the device's codes.
    pub is_managed: bool,
    /// The shipped profile.
    pub profile: String,
    /// IANA time zone (`null`: a fixed offset).
    pub time_zone: Option<String>,
    /// The time zone again, where the SDKs read it (`null` without one).
    pub location: Option<LocationView>,
    /// The lock's UTC offset.
    pub utc_offset: String,
    /// Key generation.
    pub generation: u32,
    /// PIN lengths offered.
    pub supported_code_lengths: Vec<u8>,
    /// PINs per window (variances).
    pub variances: u8,
    /// Ongoing codes the device can hold.
    pub ongoing_slots: u32,
    /// The group the device is a member of (its lock holds the group key).
    pub group_id: Option<String>,
    /// Security figures.
    pub security: SecurityView,
    /// `true`: the server issues offline codes for this device.
    pub can_program_offline_access_codes: bool,
    /// What every PIN of this device keeps: the hosted API's
    /// `{"constraint_type": ...}` list (`cannot_specify_pin_code` always:
    /// an offline PIN is derived, never chosen).
    pub code_constraints: Vec<CodeConstraintView>,
    /// The windows the device's offline codes can have, one entry per kind
    /// the profile enables (hourly, daily, one-time).
    pub offline_time_frame_options: Vec<TimeFrameOption>,
    /// The workspace that owns the device: only its API keys see the
    /// device and its codes, and spend its slots and variances.
    pub workspace_id: String,
    /// What the device has left to spend, now, and who may spend it
    /// (an offpin extension).
    pub offpin_capacity: CapacityView,
    /// offpin's extension, in `/devices/get` only, for an API key created
    /// with `--can-read-service-secrets` (absent for every other key, and
    /// for a profile without service codes): the device's rolling service
    /// codes as the `otpauth://totp/` URI an authenticator app imports.
    /// It holds the secret of codes that open the lock at any time.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offpin_service_code_otpauth_uri: Option<String>,
}

/// What a device has left to spend: its ongoing slots and its variance
/// pools, counted as the ledger allocates them (every code ever issued,
/// deleted ones included). Only the device's workspace (`workspace_id`)
/// may spend them: another workspace's key gets 404 for the device.
#[derive(Debug, Serialize, ToSchema)]
pub struct CapacityView {
    /// The workspace that may spend them (the device's).
    pub workspace_id: String,
    /// The key generation counted: re-keying the lock gives fresh slots
    /// and variances.
    pub generation: u32,
    /// The ongoing slots of that generation.
    pub ongoing_slots: SlotsView,
    /// PINs each window can have: every time-bound or one-time window has
    /// its own pool of this many.
    pub variances_per_window: u32,
    /// Windows of this generation's codes that have not ended (each holds
    /// at least one variance).
    pub windows_open: u32,
    /// Of those, the windows whose every variance is taken: a create for
    /// one is refused (409) with a proposal.
    pub windows_full: u32,
}

/// A device's ongoing slots.
#[derive(Debug, Serialize, ToSchema)]
pub struct SlotsView {
    /// Slots of a key generation.
    pub total: u32,
    /// Slots ever taken (live codes and revoked ones: a slot is never
    /// given out twice).
    pub used: u32,
    /// Of those, slots whose code was deleted (revoked at the lock).
    pub revoked: u32,
    /// Slots never taken: how many more ongoing codes can be created.
    pub free: u32,
}

impl From<offpin_ledger::ledger::spendable::DeviceCapacity> for CapacityView {
    fn from(c: offpin_ledger::ledger::spendable::DeviceCapacity) -> Self {
        CapacityView {
            workspace_id: c.workspace_id,
            generation: c.generation,
            ongoing_slots: SlotsView {
                total: c.ongoing_slots,
                used: c.ongoing_slots_used,
                revoked: c.ongoing_slots_revoked,
                free: c.ongoing_slots_free,
            },
            variances_per_window: c.variances_per_window,
            windows_open: c.windows_open,
            windows_full: c.windows_full,
        }
    }
}

/// One of a device's code constraints.
#[derive(Debug, Serialize, ToSchema)]
pub struct CodeConstraintView {
    /// `no_zeros`, `cannot_start_with_12`, `no_triple_consecutive_ints`,
    /// `cannot_specify_pin_code`, `cannot_contain_089` or
    /// `cannot_contain_0789`.
    pub constraint_type: &'static str,
}

/// A start and an end time of day (`HH:MM`, the device's local time).
#[derive(Debug, Serialize, ToSchema)]
pub struct TimePair {
    /// Start.
    pub start_time: String,
    /// End.
    pub end_time: String,
}

/// The windows one kind of offline code can have on a device.
#[derive(Debug, Serialize, ToSchema)]
pub struct TimeFrameOption {
    /// `offpin hourly`, `offpin daily` or `offpin one-time`.
    pub display_name: String,
    /// Shortest window (ISO 8601 duration, e.g. `PT1H`).
    pub min_duration: String,
    /// Longest window (ISO 8601, e.g. `PT720H`, `P30D`).
    pub max_duration: String,
    /// `true` when the window's start and end fall at the same time of day
    /// (daily windows: local midnight to local midnight).
    pub matching_start_end_time: bool,
    /// The times of day a window may start and end at (daily windows:
    /// `00:00`–`00:00`); empty: any whole hour.
    pub time_pairs: Vec<TimePair>,
    /// When a window may start (RFC 5545 RRULE): every hour, or every day.
    pub start_date_rrule: String,
    /// When a window may end (RRULE), the same granularity.
    pub end_date_rrule: String,
    /// The IANA time zone the times are in (`null`: the lock's fixed UTC
    /// offset, `utc_offset`).
    pub time_zone: Option<String>,
}

/// `{"device": {...}, "ok": true}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeviceResponse {
    /// The device.
    pub device: DeviceView,
    /// `true`.
    pub ok: bool,
}

/// `{"devices": [...], "ok": true}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct DevicesResponse {
    /// The devices, by id.
    pub devices: Vec<DeviceView>,
    /// The next page.
    pub pagination: Pagination,
    /// `true`.
    pub ok: bool,
}

/// `/health`.
#[derive(Debug, Serialize, ToSchema)]
pub struct HealthResponse {
    /// `true`.
    pub ok: bool,
    /// `offpin`.
    pub service: String,
    /// The server's version.
    pub version: String,
}

/// An error.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Machine-readable type, e.g. `invalid_input`.
    #[serde(rename = "type")]
    pub kind: String,
    /// What went wrong.
    pub message: String,
    /// `null`, or for a spent window or spent ongoing slots (409) its
    /// facts: `device_id` (or `group_id`), `code_kind`, the window
    /// (`starts_at`, `ends_at`), the codes that hold it (`held_by`),
    /// `next_free_at`, `proposed_starts_at` and `proposed_ends_at`.
    #[schema(value_type = Option<Object>)]
    pub data: Option<serde_json::Value>,
    /// `invalid_input`: `{"_errors": [], "<field>": {"_errors": ["..."]}}`.
    #[schema(value_type = Option<Object>)]
    pub validation_errors: Option<serde_json::Value>,
}

/// `{"error": {...}, "ok": false}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorResponse {
    /// The error.
    pub error: ErrorDetail,
    /// `false`.
    pub ok: bool,
}

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "api_key",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("seam_...")
                    .build(),
            ),
        );
    }
}

/// The description's frame: title, schemas, the bearer scheme. The
/// paths join it where the routes are registered ([`super::routes`]), so
/// the published description cannot drift from what the router answers.
#[derive(OpenApi)]
#[openapi(
    info(title = "offpin", description = "Offline smart-lock PINs, in the hosted access-code API's shapes."),
    components(schemas(
        AccessCode, CodeError, CodeWarning, CodeStatus, CodeType, MaxTimeRounding, TypeParam,
        WhenNotSharedParam, Recurrence, ClockSetting, RecurrenceParam, ClockSettingParam,
        ErrorResponse, ErrorDetail
    )),
    modifiers(&BearerAuth)
)]
pub struct ApiDoc;
