//! The service's OpenAPI description, generated from the request and
//! response types and the endpoints' annotations (utoipa), served at
//! `/openapi.json`.
//!
//! Every endpoint answers POST with a JSON body; the read endpoints are
//! also described with GET and query parameters, and delete with DELETE,
//! as the official SDKs call them. The router accepts every method on
//! every endpoint (see [`crate::request`]).

use offpin::server::record::{AccessCode, CodeError, CodeStatus, CodeType, CodeWarning};
use serde::Serialize;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi, ToSchema};

use crate::request::{
    CreateMultipleRequest, CreateRequest, DeleteRequest, DeviceGetRequest, DeviceListRequest,
    GetRequest, ListRequest, MaxTimeRounding, TypeParam, UpdateRequest, WhenNotSharedParam,
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

macro_rules! documented {
    ($name:ident, $method:ident, $path:literal, $summary:literal, { $($input:tt)* }, $ok:ty, [$($status:literal),*]) => {
        #[utoipa::path(
            $method,
            path = $path,
            summary = $summary,
            $($input)*,
            responses(
                (status = 200, description = "OK", body = $ok),
                $((status = $status, description = "Error", body = ErrorResponse),)*
            ),
            security(("api_key" = []))
        )]
        #[allow(dead_code, reason = "documentation of an encoding the router accepts")]
        fn $name() {}
    };
}

documented!(
    create_post,
    post,
    "/access_codes/create",
    "Create an offline access code",
    { request_body = CreateRequest },
    AccessCodeResponse,
    [400, 401, 404, 409, 413, 429]
);
documented!(
    create_multiple_put,
    put,
    "/access_codes/create_multiple",
    "Create one offline PIN for every member of a group",
    { request_body = CreateMultipleRequest },
    AccessCodesResponse,
    [400, 401, 404, 409, 413, 429]
);
documented!(
    create_multiple_post,
    post,
    "/access_codes/create_multiple",
    "Create one offline PIN for every member of a group",
    { request_body = CreateMultipleRequest },
    AccessCodesResponse,
    [400, 401, 404, 409, 413, 429]
);
documented!(
    list_post,
    post,
    "/access_codes/list",
    "List access codes",
    { request_body = ListRequest },
    AccessCodesResponse,
    [400, 401, 413, 429]
);
documented!(
    list_get,
    get,
    "/access_codes/list",
    "List access codes",
    { params(ListRequest) },
    AccessCodesResponse,
    [400, 401, 429]
);
documented!(
    get_post,
    post,
    "/access_codes/get",
    "Get an access code",
    { request_body = GetRequest },
    AccessCodeResponse,
    [400, 401, 404, 413, 429]
);
documented!(
    get_get,
    get,
    "/access_codes/get",
    "Get an access code",
    { params(GetRequest) },
    AccessCodeResponse,
    [400, 401, 404, 429]
);
documented!(
    delete_post,
    post,
    "/access_codes/delete",
    "Delete an access code",
    { request_body = DeleteRequest },
    DeleteResponse,
    [400, 401, 404, 413, 429]
);
documented!(
    delete_delete,
    delete,
    "/access_codes/delete",
    "Delete an access code",
    { params(DeleteRequest) },
    DeleteResponse,
    [400, 401, 404, 429]
);
documented!(
    update_post,
    post,
    "/access_codes/update",
    "Rename an access code",
    { request_body = UpdateRequest },
    AccessCodeResponse,
    [400, 401, 404, 413, 429]
);
documented!(
    update_patch,
    patch,
    "/access_codes/update",
    "Rename an access code",
    { request_body = UpdateRequest },
    AccessCodeResponse,
    [400, 401, 404, 413, 429]
);
documented!(
    devices_list_post,
    post,
    "/devices/list",
    "List devices",
    { request_body = DeviceListRequest },
    DevicesResponse,
    [400, 401, 413, 429]
);
documented!(
    devices_list_get,
    get,
    "/devices/list",
    "List devices",
    { params(DeviceListRequest) },
    DevicesResponse,
    [400, 401, 429]
);
documented!(
    devices_get_post,
    post,
    "/devices/get",
    "Get a device",
    { request_body = DeviceGetRequest },
    DeviceResponse,
    [400, 401, 404, 413, 429]
);
documented!(
    devices_get_get,
    get,
    "/devices/get",
    "Get a device",
    { params(DeviceGetRequest) },
    DeviceResponse,
    [400, 401, 404, 429]
);

#[utoipa::path(get, path = "/health", summary = "Liveness", responses((status = 200, description = "OK", body = HealthResponse)))]
#[allow(dead_code, reason = "documentation")]
fn health_get() {}

/// The description.
#[derive(OpenApi)]
#[openapi(
    info(title = "offpin", description = "Offline smart-lock PINs, in the hosted access-code API's shapes."),
    paths(
        create_post, create_multiple_put, create_multiple_post, list_post, list_get, get_post, get_get, delete_post, delete_delete,
        update_post, update_patch, devices_list_post, devices_list_get, devices_get_post,
        devices_get_get, health_get
    ),
    components(schemas(
        AccessCode, CodeError, CodeWarning, CodeStatus, CodeType, MaxTimeRounding, TypeParam,
        WhenNotSharedParam,
        ErrorResponse, ErrorDetail
    )),
    modifiers(&BearerAuth)
)]
pub struct ApiDoc;
