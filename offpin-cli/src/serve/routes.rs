//! Every route of `offpin serve`, registered once with its OpenAPI
//! description (utoipa-axum's `routes!`): the router answers exactly the
//! methods `/openapi.json` lists, and 405 (with the API's JSON error and
//! an `Allow` header) to any other.
//!
//! The methods are the official SDKs' (`../shared/HOSTED_API.md`, "How
//! the SDKs send each call"): since 2026-08 they use the method that fits
//! each call; older releases POST a JSON body everywhere, so every
//! endpoint also takes POST. GET routes answer HEAD (axum's rule) and
//! only read; no route that writes answers HEAD, GET or TRACE.
//!
//! | endpoint | methods |
//! |---|---|
//! | `/access_codes/create` | POST |
//! | `/access_codes/create_multiple` | PUT, POST |
//! | `/access_codes/update` | PUT, PATCH, POST |
//! | `/access_codes/delete` | DELETE, POST |
//! | `/access_codes/get`, `/access_codes/list`, `/devices/get`, `/devices/list` | GET (HEAD), POST |
//! | `/health`, `/health/ready`, `/openapi.json` | GET (HEAD) |

use axum::Json;
use axum::Router;
use axum::extract::State;
use utoipa::OpenApi;
use utoipa::openapi::OpenApi as Description;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::auth::Caller;
use super::error::ApiError;
use super::handlers::{self, AppState, Params};
use super::idempotency::IdempotencyKey;
use super::openapi::{
    AccessCodeResponse, AccessCodesPage, AccessCodesResponse, ApiDoc, DeleteResponse,
    DeviceResponse, DevicesResponse, ErrorResponse, HealthResponse,
};
use super::pages::{self, Origin};
use super::ready;
use crate::request::{
    CreateMultipleRequest, CreateRequest, DeleteRequest, DeviceGetRequest, DeviceListRequest,
    GetRequest, ListRequest, UpdateRequest,
};

/// One method of one endpoint: its description and the handler it runs
/// (the endpoint's one handler, whichever method carried the request),
/// which takes the request's key ([`Caller`]: its workspace and
/// capabilities).
macro_rules! endpoint {
    (
        $name:ident: $method:ident $path:literal, $summary:literal,
        $handler:path, $req:ty, { $($input:tt)* }, $ok:ty, [$($status:literal),*]
    ) => {
        #[utoipa::path(
            $method,
            path = $path,
            summary = $summary,
            $($input)*,
            responses(
                (status = 200, description = "OK", body = $ok),
                $((status = $status, description = "Error", body = ErrorResponse),)*
                (status = 405, description = "Method not allowed", body = ErrorResponse)
            ),
            security(("api_key" = []))
        )]
        async fn $name(
            state: State<AppState>,
            caller: Caller,
            params: Params<$req>,
        ) -> Result<Json<$ok>, ApiError> {
            $handler(state, caller, params).await
        }
    };
}

/// An endpoint's JSON-body method (POST, PUT, PATCH).
macro_rules! with_body {
    ($name:ident: $method:ident $path:literal, $summary:literal, $handler:path, $req:ty, $ok:ty, [$($status:literal),*]) => {
        endpoint!($name: $method $path, $summary, $handler, $req, { request_body = $req }, $ok, [$($status,)* 413]);
    };
}

/// An endpoint's query-string method (GET, DELETE).
macro_rules! with_query {
    ($name:ident: $method:ident $path:literal, $summary:literal, $handler:path, $req:ty, $ok:ty, [$($status:literal),*]) => {
        endpoint!($name: $method $path, $summary, $handler, $req, { params($req) }, $ok, [$($status),*]);
    };
}

/// `/access_codes/create`: the one endpoint with a header of its own
/// (`Idempotency-Key`), so written out rather than by `with_body!`.
#[utoipa::path(
    post,
    path = "/access_codes/create",
    summary = "Create an offline access code",
    request_body = CreateRequest,
    params(IdempotencyKey),
    responses(
        (status = 200, description = "OK (sent again with the same Idempotency-Key: the code the first request stored)", body = AccessCodeResponse),
        (status = 400, description = "Error", body = ErrorResponse),
        (status = 401, description = "Error", body = ErrorResponse),
        (status = 403, description = "Error (`forbidden`: a clock-setting code asked for by a key without that capability)", body = ErrorResponse),
        (status = 404, description = "Error", body = ErrorResponse),
        (status = 409, description = "Error (`idempotency_conflict`: the key was used for another request)", body = ErrorResponse),
        (status = 413, description = "Error", body = ErrorResponse),
        (status = 429, description = "Error", body = ErrorResponse),
        (status = 503, description = "`ledger_unavailable` (nothing was stored), or `outcome_unknown` (the code may have been stored: send the request again with the same Idempotency-Key)", body = ErrorResponse),
        (status = 405, description = "Method not allowed", body = ErrorResponse)
    ),
    security(("api_key" = []))
)]
async fn create_post(
    state: State<AppState>,
    caller: Caller,
    key: IdempotencyKey,
    params: Params<CreateRequest>,
) -> Result<Json<AccessCodeResponse>, ApiError> {
    handlers::create(state, caller, key, params).await
}
with_body!(create_multiple_put: put "/access_codes/create_multiple",
    "Create one offline PIN for every member of a group",
    handlers::create_multiple, CreateMultipleRequest, AccessCodesResponse, [400, 401, 404, 409, 429]);
with_body!(create_multiple_post: post "/access_codes/create_multiple",
    "Create one offline PIN for every member of a group",
    handlers::create_multiple, CreateMultipleRequest, AccessCodesResponse, [400, 401, 404, 409, 429]);
/// A paged list's method: [`endpoint!`] with the request's [`Origin`]
/// (its next page's URL).
macro_rules! paged {
    (
        $name:ident: $method:ident $path:literal, $summary:literal,
        $handler:path, $req:ty, { $($input:tt)* }, $ok:ty, [$($status:literal),*]
    ) => {
        #[utoipa::path(
            $method,
            path = $path,
            summary = $summary,
            $($input)*,
            responses(
                (status = 200, description = "OK: one page", body = $ok),
                $((status = $status, description = "Error", body = ErrorResponse),)*
                (status = 405, description = "Method not allowed", body = ErrorResponse)
            ),
            security(("api_key" = []))
        )]
        async fn $name(
            state: State<AppState>,
            caller: Caller,
            origin: Origin,
            params: Params<$req>,
        ) -> Result<Json<$ok>, ApiError> {
            $handler(state, caller, origin, params).await
        }
    };
}

paged!(list_get: get "/access_codes/list", "List access codes, a page at a time",
    pages::list, ListRequest, { params(ListRequest) }, AccessCodesPage, [400, 401, 429]);
paged!(list_post: post "/access_codes/list", "List access codes, a page at a time",
    pages::list, ListRequest, { request_body = ListRequest }, AccessCodesPage, [400, 401, 413, 429]);
with_query!(get_get: get "/access_codes/get", "Get an access code",
    handlers::get, GetRequest, AccessCodeResponse, [400, 401, 404, 429]);
with_body!(get_post: post "/access_codes/get", "Get an access code",
    handlers::get, GetRequest, AccessCodeResponse, [400, 401, 404, 429]);
with_query!(delete_delete: delete "/access_codes/delete", "Delete an access code",
    handlers::delete, DeleteRequest, DeleteResponse, [400, 401, 404, 429]);
with_body!(delete_post: post "/access_codes/delete", "Delete an access code",
    handlers::delete, DeleteRequest, DeleteResponse, [400, 401, 404, 429]);
with_body!(update_put: put "/access_codes/update", "Rename an access code",
    handlers::update, UpdateRequest, AccessCodeResponse, [400, 401, 404, 429]);
with_body!(update_patch: patch "/access_codes/update", "Rename an access code",
    handlers::update, UpdateRequest, AccessCodeResponse, [400, 401, 404, 429]);
with_body!(update_post: post "/access_codes/update", "Rename an access code",
    handlers::update, UpdateRequest, AccessCodeResponse, [400, 401, 404, 429]);
paged!(devices_list_get: get "/devices/list", "List devices, a page at a time",
    pages::devices_list, DeviceListRequest, { params(DeviceListRequest) }, DevicesResponse, [400, 401, 429]);
paged!(devices_list_post: post "/devices/list", "List devices, a page at a time",
    pages::devices_list, DeviceListRequest, { request_body = DeviceListRequest }, DevicesResponse, [400, 401, 413, 429]);
endpoint!(devices_get_get: get "/devices/get", "Get a device",
    handlers::devices_get, DeviceGetRequest, { params(DeviceGetRequest) }, DeviceResponse,
    [400, 401, 404, 429]);
endpoint!(devices_get_post: post "/devices/get", "Get a device",
    handlers::devices_get, DeviceGetRequest, { request_body = DeviceGetRequest }, DeviceResponse,
    [400, 401, 404, 429, 413]);

#[utoipa::path(
    get,
    path = "/health",
    summary = "Liveness",
    responses((status = 200, description = "OK", body = HealthResponse))
)]
async fn health_get() -> Json<HealthResponse> {
    handlers::health().await
}

#[utoipa::path(
    get,
    path = "/health/ready",
    summary = "Readiness: whether the ledger answers",
    responses(
        (status = 200, description = "OK: a ledger connection answered a query", body = HealthResponse),
        (status = 503, description = "`ledger_unavailable`: the ledger did not answer within 2 s", body = ErrorResponse)
    )
)]
async fn ready_get(state: State<AppState>) -> Result<Json<HealthResponse>, ApiError> {
    ready::ready(state).await
}

/// The routes that need an API key, with their description.
pub fn keyed() -> (Router<AppState>, Description) {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(create_post))
        .routes(routes!(create_multiple_put, create_multiple_post))
        .routes(routes!(list_get, list_post))
        .routes(routes!(get_get, get_post))
        .routes(routes!(delete_delete, delete_post))
        .routes(routes!(update_put, update_patch, update_post))
        .routes(routes!(devices_list_get, devices_list_post))
        .routes(routes!(devices_get_get, devices_get_post))
        .split_for_parts()
}

/// The routes open to anyone (`/health`, `/health/ready`), with their
/// description.
pub fn open() -> (Router<AppState>, Description) {
    OpenApiRouter::new()
        .routes(routes!(health_get))
        .routes(routes!(ready_get))
        .split_for_parts()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The description lists, for each endpoint, the methods the table in
    /// this module's documentation gives, and no other.
    #[test]
    fn the_description_lists_the_sdks_methods() {
        let (_, mut description) = keyed();
        description.merge(open().1);
        let methods = |path: &str| {
            let item = description.paths.paths.get(path).unwrap();
            let mut m = Vec::new();
            for (name, op) in [
                ("GET", &item.get),
                ("PUT", &item.put),
                ("POST", &item.post),
                ("DELETE", &item.delete),
                ("PATCH", &item.patch),
                ("HEAD", &item.head),
                ("TRACE", &item.trace),
                ("OPTIONS", &item.options),
            ] {
                if op.is_some() {
                    m.push(name);
                }
            }
            m
        };
        assert_eq!(methods("/access_codes/create"), ["POST"]);
        assert_eq!(methods("/access_codes/create_multiple"), ["PUT", "POST"]);
        assert_eq!(methods("/access_codes/update"), ["PUT", "POST", "PATCH"]);
        assert_eq!(methods("/access_codes/delete"), ["POST", "DELETE"]);
        for read in [
            "/access_codes/get",
            "/access_codes/list",
            "/devices/get",
            "/devices/list",
        ] {
            assert_eq!(methods(read), ["GET", "POST"], "{read}");
        }
        assert_eq!(methods("/health"), ["GET"]);
        assert_eq!(methods("/health/ready"), ["GET"]);
        assert_eq!(description.paths.paths.len(), 10);
        // The create documents its Idempotency-Key header.
        let create = description.paths.paths["/access_codes/create"]
            .post
            .as_ref()
            .unwrap();
        let params = create.parameters.as_ref().unwrap();
        assert!(params.iter().any(|p| p.name == "Idempotency-Key"
            && p.parameter_in == utoipa::openapi::path::ParameterIn::Header));
    }
}
