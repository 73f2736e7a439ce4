//! The paged lists, `/access_codes/list` and `/devices/list`: the hosted
//! API's `limit` and `page_cursor`, and the answer's `pagination`
//! (`has_next_page`, `next_page_cursor`, `next_page_url`). The ledger reads
//! each page ([`Ledger::list_page`], [`Ledger::device_page`]: a keyset in
//! SQL); this edge parses the cursor (a bad one is `invalid_input` naming
//! `page_cursor`) and builds the next page's URL: the request's own URL
//! with `page_cursor` set (for a request whose parameters came in a JSON
//! body, the URL carries them in its query, so a GET of it reads the next
//! page). Each page is read through the view of the key's workspace
//! (`Scoped`: in SQL, the workspace in the page query), and its cursor is
//! bound to that workspace: another workspace's key cannot walk on from
//! it.

use axum::Json;
use axum::extract::{FromRequestParts, State};
use axum::http::header;
use axum::http::request::Parts;
use chrono::Utc;
use offpin_ledger::ledger::spendable::device_capacity;
use offpin_ledger::ledger::{Ledger, PageKey, PageRequest};

use super::auth::Caller;
use super::error::ApiError;
use super::handlers::{AppState, Params, device_view};
use super::openapi::{AccessCodesPage, DevicesResponse, Pagination};
use crate::request::{DeviceListRequest, ListRequest, page_limit};

/// Where a request came to: the base of its next page's URL.
#[derive(Clone, Debug)]
pub struct Origin {
    /// `http://host:port/path`.
    base: String,
    /// The query's pairs, `page_cursor` left out; empty for a request
    /// whose parameters came in its body.
    query: Vec<(String, String)>,
}

impl<S: Send + Sync> FromRequestParts<S> for Origin {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let header = |name| {
            parts
                .headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        // Only a host name, an address and a port: a header never writes
        // anything else into the URL.
        let host = header(header::HOST)
            .filter(|h| {
                !h.is_empty()
                    && h.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"-.:[]".contains(&b))
            })
            .unwrap_or_else(|| "localhost".to_owned());
        let scheme = match header(header::HeaderName::from_static("x-forwarded-proto")).as_deref() {
            Some("https") => "https",
            _ => "http",
        };
        let query = form_urlencoded::parse(parts.uri.query().unwrap_or_default().as_bytes())
            .filter(|(k, _)| k != "page_cursor")
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect::<Vec<_>>();
        Ok(Origin {
            base: format!("{scheme}://{host}{}", parts.uri.path()),
            query,
        })
    }
}

impl Origin {
    /// The answer's `pagination`: the next page's cursor and URL, when one
    /// follows. `params` are the request's parameters, for a request that
    /// sent them in its body.
    fn pagination(&self, params: Vec<(&'static str, String)>, next: Option<String>) -> Pagination {
        let Some(cursor) = next else {
            return Pagination {
                has_next_page: false,
                next_page_cursor: None,
                next_page_url: None,
            };
        };
        let mut q = form_urlencoded::Serializer::new(String::new());
        if self.query.iter().any(|(k, _)| k != "_strict") {
            q.extend_pairs(&self.query);
        } else {
            q.extend_pairs(params);
        }
        q.append_pair("page_cursor", &cursor);
        Pagination {
            has_next_page: true,
            next_page_url: Some(format!("{}?{}", self.base, q.finish())),
            next_page_cursor: Some(cursor),
        }
    }
}

fn bad_cursor(e: impl core::fmt::Display) -> ApiError {
    ApiError::invalid(Some("page_cursor".to_owned()), format!("page_cursor: {e}"))
}

/// `/access_codes/list`: a page of codes, without those dead for longer
/// than the server's `--list-retention-days`.
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    origin: Origin,
    Params(req): Params<ListRequest>,
) -> Result<Json<AccessCodesPage>, ApiError> {
    let filter = req.filter();
    let after = req
        .page_cursor
        .as_deref()
        .map(|c| PageKey::from_cursor_in(c, &filter, &caller.workspace_id))
        .transpose()
        .map_err(bad_cursor)?;
    let page = PageRequest {
        after,
        limit: page_limit(req.limit)?,
        retention: state.list_retention,
    };
    let filter_ = filter.clone();
    let workspace_id = caller.workspace_id.clone();
    let found = state
        .in_workspace(caller, move |ledger, _| {
            Ok(ledger.list_page(&filter_, &page, Utc::now())?)
        })
        .await?;
    let next = found.next.map(|k| k.cursor_in(&filter, &workspace_id));
    Ok(Json(AccessCodesPage {
        access_codes: found.codes,
        pagination: origin.pagination(req.query_pairs(), next),
        ok: true,
    }))
}

/// `/devices/list`: a page of devices, by id.
pub async fn devices_list(
    State(state): State<AppState>,
    caller: Caller,
    origin: Origin,
    Params(req): Params<DeviceListRequest>,
) -> Result<Json<DevicesResponse>, ApiError> {
    let limit = page_limit(req.limit)?;
    let Some(filter) = req.filter() else {
        // Another type or manufacturer: no device of this server.
        return Ok(Json(DevicesResponse {
            devices: Vec::new(),
            pagination: origin.pagination(req.query_pairs(), None),
            ok: true,
        }));
    };
    let after = req
        .page_cursor
        .as_deref()
        .map(|c| filter.from_cursor_in(c, &caller.workspace_id))
        .transpose()
        .map_err(bad_cursor)?;
    let filter_ = filter.clone();
    let workspace_id = caller.workspace_id.clone();
    let (devices, next) = state
        .in_workspace(caller, move |ledger, _| {
            let page = ledger.device_page(&filter_, after.as_deref(), limit)?;
            let members = ledger.memberships()?;
            let now = Utc::now();
            let mut views = Vec::with_capacity(page.devices.len());
            for d in &page.devices {
                let capacity = device_capacity(ledger, &d.device_id, now)?;
                views.push(device_view(d, members.get(&d.device_id), capacity)?);
            }
            Ok((views, page.next))
        })
        .await?;
    let next = next.map(|id| filter.cursor_in(&id, &workspace_id));
    Ok(Json(DevicesResponse {
        devices,
        pagination: origin.pagination(req.query_pairs(), next),
        ok: true,
    }))
}
