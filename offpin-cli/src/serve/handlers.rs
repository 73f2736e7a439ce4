//! The endpoints: each parses its parameters, asks the ledger on the
//! blocking pool, and answers in the API's envelope.

use std::sync::Arc;

use axum::Json;
use axum::body::Body;
use axum::extract::{FromRequest, Request, State};
use axum::http::StatusCode;
use chrono::Utc;
use offpin::{MasterKey, Profile};
use offpin_ledger::ledger::hosted::{HostedApi, check_length, code_lengths};
use offpin_ledger::ledger::spendable::{DeviceCapacity, device_capacity};
use offpin_ledger::ledger::sqlite::SqliteLedger;
use offpin_ledger::ledger::sqlite::writer::GroupCommit;
use offpin_ledger::ledger::{Device, GroupRef, Ledger, Scoped};
use offpin_ledger::service::otpauth_uri;
use serde::de::DeserializeOwned;

use super::auth::Caller;
use super::error::ApiError;
use super::fault::FORBIDDEN;
use super::idempotency::IdempotencyKey;
use super::openapi::{
    AccessCodeResponse, AccessCodesResponse, CapacityView, CodeConstraintView, DeleteResponse,
    DeviceResponse, DeviceView, HealthResponse, LocationView, SecurityView, TimeFrameOption,
    TimePair,
};
use crate::request::{
    CreateMultipleRequest, CreateRequest, DeleteRequest, DeviceGetRequest, GetBy, GetRequest,
    OFFPIN_DEVICE_TYPE, UpdateRequest, decode,
};
use crate::store::{Pool, Store};

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    /// Ledger connections.
    pub pool: Pool,
    /// The master key.
    pub master: Arc<MasterKey>,
    /// Largest request body, in bytes.
    pub body_limit: usize,
    /// The one writer of an SQLite ledger: every create, delete and update
    /// goes through it, and concurrent ones share a commit (group commit;
    /// `None` on PostgreSQL, whose writers run side by side on the pool
    /// and whose server groups their commits' log flushes itself).
    pub writer: Option<Arc<GroupCommit>>,
    /// `/access_codes/list` leaves out codes dead for longer than this
    /// (`--list-retention-days`; `None`: none left out).
    pub list_retention: Option<chrono::TimeDelta>,
}

impl AppState {
    /// Runs `f` with a pooled ledger connection on the blocking pool.
    pub async fn ledger<T, F>(&self, f: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&mut dyn Store, &MasterKey) -> Result<T, ApiError> + Send + 'static,
    {
        self.call(f).await
    }

    /// [`AppState::ledger`] for a call that writes: on SQLite, queued to
    /// the ledger's writer, and answered once its commit is on disk.
    pub async fn ledger_write<T, F>(&self, f: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&mut dyn Store, &MasterKey) -> Result<T, ApiError> + Send + 'static,
    {
        let Some(writer) = &self.writer else {
            return self.call(f).await;
        };
        let master = Arc::clone(&self.master);
        let (tx, rx) = tokio::sync::oneshot::channel();
        writer
            .submit(
                move |ledger: &mut SqliteLedger| f(ledger, &master),
                move |result| {
                    let _ = tx.send(result);
                },
            )
            .map_err(|e| ApiError::unavailable(&e))?;
        // A job that panicked is dropped unanswered.
        rx.await
            .map_err(|_| ApiError::internal("the ledger call failed"))?
    }

    /// Runs `f` with the view of the request's workspace ([`Scoped`])
    /// over a pooled ledger connection: another workspace's devices and
    /// codes do not exist for it.
    pub async fn in_workspace<T, F>(&self, caller: Caller, f: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: for<'a> FnOnce(&mut Scoped<'a, dyn Store + 'a>, &MasterKey) -> Result<T, ApiError>
            + Send
            + 'static,
    {
        self.call(move |ledger, master| f(&mut Scoped::new(ledger, &caller.workspace_id), master))
            .await
    }

    /// [`AppState::in_workspace`] for a call that writes: through
    /// [`AppState::ledger_write`] (on SQLite, the ledger's writer), the
    /// view of the request's workspace over the writer's connection as
    /// over a pooled one.
    pub async fn write_in<T, F>(&self, caller: Caller, f: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: for<'a> FnOnce(&mut Scoped<'a, dyn Store + 'a>, &MasterKey) -> Result<T, ApiError>
            + Send
            + 'static,
    {
        self.ledger_write(move |ledger, master| {
            f(&mut Scoped::new(ledger, &caller.workspace_id), master)
        })
        .await
    }

    async fn call<T, F>(&self, f: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&mut dyn Store, &MasterKey) -> Result<T, ApiError> + Send + 'static,
    {
        let pool = self.pool.clone();
        let master = Arc::clone(&self.master);
        tokio::task::spawn_blocking(move || {
            let mut conn = pool
                .get()
                .map_err(|e| ApiError::unavailable(&format_args!("no ledger connection: {e}")))?;
            f(&mut **conn, &master)
        })
        .await
        .map_err(|_| ApiError::internal("the ledger call failed"))?
    }
}

/// A request's parameters, from its JSON body or its query string
/// ([`decode`]).
pub struct Params<T>(pub T);

impl<T: DeserializeOwned> FromRequest<AppState> for Params<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request<Body>, state: &AppState) -> Result<Self, ApiError> {
        let query = req.uri().query().map(str::to_owned);
        let body = axum::body::to_bytes(req.into_body(), state.body_limit)
            .await
            .map_err(|_| {
                ApiError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "payload_too_large",
                    format!("the request body is larger than {} bytes", state.body_limit),
                )
            })?;
        Ok(Params(decode(query.as_deref(), &body)?))
    }
}

/// `/health`.
pub async fn health() -> Json<HealthResponse> {
    Json(HealthResponse {
        ok: true,
        service: "offpin".to_owned(),
        version: env!("CARGO_PKG_VERSION").to_owned(),
    })
}

/// `/access_codes/create`; with an `Idempotency-Key`, a request sent
/// again returns the code the first one stored ([`IdempotencyKey`]).
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    key: IdempotencyKey,
    Params(req): Params<CreateRequest>,
) -> Result<Json<AccessCodeResponse>, ApiError> {
    let create = req.parse()?;
    if create.sets_clock_to.is_some() && !caller.capabilities.issue_clock_codes {
        return Err(clock_codes_forbidden());
    }
    let access_code = state
        .write_in(caller, move |ledger, master| {
            let mut spec = create.spec()?;
            spec.idempotency_key = key.key;
            let device = ledger.device(&create.device_id)?;
            check_length(create.preferred_code_length, &code_lengths(&device)?)?;
            Ok(ledger.issue(master, &spec, Utc::now())?.record)
        })
        .await?;
    Ok(Json(AccessCodeResponse {
        access_code,
        ok: true,
    }))
}

/// `/access_codes/create_multiple`: one PIN for the members of a group
/// (`Ledger::issue_shared`).
pub async fn create_multiple(
    State(state): State<AppState>,
    caller: Caller,
    Params(req): Params<CreateMultipleRequest>,
) -> Result<Json<AccessCodesResponse>, ApiError> {
    let spec = req.parse()?;
    let preferred = req.preferred_code_length.and_then(|n| u8::try_from(n).ok());
    let access_codes = state
        .write_in(caller, move |ledger, master| {
            for id in &spec.device_ids {
                check_length(preferred, &code_lengths(&ledger.device(id)?)?)?;
            }
            Ok(ledger.issue_shared(master, &spec, Utc::now())?.records)
        })
        .await?;
    Ok(Json(AccessCodesResponse {
        access_codes,
        ok: true,
    }))
}

/// `/access_codes/get`.
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Params(req): Params<GetRequest>,
) -> Result<Json<AccessCodeResponse>, ApiError> {
    let by = req.by()?;
    let access_code = state
        .in_workspace(caller, move |ledger, _| match by {
            GetBy::Id(id) => Ok(ledger.get(&id, Utc::now())?),
            GetBy::Code { device_id, code } => {
                Ok(ledger.get_by_code(&device_id, &code, Utc::now())?)
            }
        })
        .await?;
    Ok(Json(AccessCodeResponse {
        access_code,
        ok: true,
    }))
}

/// `/access_codes/delete`.
pub async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    Params(req): Params<DeleteRequest>,
) -> Result<Json<DeleteResponse>, ApiError> {
    let deleted = state
        .write_in(caller, move |ledger, master| {
            Ok(ledger.delete_code(
                master,
                &req.access_code_id,
                req.device_id.as_deref(),
                Utc::now(),
            )?)
        })
        .await?;
    Ok(Json(DeleteResponse {
        access_code: deleted.record,
        revocation_code: deleted.revocation_code,
        revoked_slot: deleted.revoked_slot,
        ok: true,
    }))
}

/// `/access_codes/update`.
pub async fn update(
    State(state): State<AppState>,
    caller: Caller,
    Params(req): Params<UpdateRequest>,
) -> Result<Json<AccessCodeResponse>, ApiError> {
    let change = req.parse()?;
    let access_code = state
        .write_in(caller, move |ledger, _| {
            Ok(ledger.update(&req.access_code_id, &change, Utc::now())?)
        })
        .await?;
    Ok(Json(AccessCodeResponse {
        access_code,
        ok: true,
    }))
}

/// A device as the API shows it, `group` the group it is a member of,
/// `capacity` what it has left to spend.
pub(crate) fn device_view(
    device: &Device,
    group: Option<&GroupRef>,
    capacity: DeviceCapacity,
) -> Result<DeviceView, ApiError> {
    let profile = device.profile()?;
    // The figures of the rule the lock keeps (its zone's, if the profile
    // covers it, else its standard offset: both covered), with every key
    // it tries: a group member holds the group key too.
    let rule = device.lock_rule()?;
    let keys = if group.is_some() { 2 } else { 1 };
    let s = profile
        .security_under(&rule, keys)
        .unwrap_or_else(|| profile.security_with_keys(keys));
    Ok(DeviceView {
        device_id: device.device_id.clone(),
        display_name: device.device_id.clone(),
        device_type: OFFPIN_DEVICE_TYPE,
        is_managed: true,
        profile: device.profile.clone(),
        time_zone: device.time_zone.clone(),
        location: device.time_zone.clone().map(|time_zone| LocationView {
            location_name: None,
            time_zone,
        }),
        utc_offset: device.utc_offset.to_string(),
        generation: device.generation,
        supported_code_lengths: code_lengths(device)?,
        variances: profile.params().variances,
        ongoing_slots: profile.params().ongoing_slots,
        group_id: group.map(|g| g.group_id.clone()),
        security: SecurityView {
            keys,
            pins: s.domain,
            w_max: s.w_max,
            p_per_attempt: s.per_attempt(),
            attempts_per_day: s.attempts_per_day,
            p_per_year: s.per_year(),
        },
        can_program_offline_access_codes: true,
        code_constraints: profile
            .code_constraints()
            .map(|c| CodeConstraintView {
                constraint_type: c.as_str(),
            })
            .collect(),
        offline_time_frame_options: time_frames(&profile, device.time_zone.as_deref()),
        workspace_id: device.workspace_id.clone(),
        offpin_capacity: CapacityView::from(capacity),
        offpin_service_code_otpauth_uri: None,
    })
}

/// The windows the profile's offline codes can have: hourly windows on
/// whole hours, daily windows from local midnight to local midnight, and
/// one-time codes, whose use window has one length.
fn time_frames(profile: &Profile, time_zone: Option<&str>) -> Vec<TimeFrameOption> {
    let p = profile.params();
    let option = |name: &str, min: String, max: String, daily: bool| TimeFrameOption {
        display_name: format!("offpin {name}"),
        min_duration: min,
        max_duration: max,
        matching_start_end_time: daily,
        time_pairs: if daily {
            vec![TimePair {
                start_time: "00:00".to_owned(),
                end_time: "00:00".to_owned(),
            }]
        } else {
            Vec::new()
        },
        start_date_rrule: if daily { "FREQ=DAILY" } else { "FREQ=HOURLY" }.to_owned(),
        end_date_rrule: if daily { "FREQ=DAILY" } else { "FREQ=HOURLY" }.to_owned(),
        time_zone: time_zone.map(str::to_owned),
    };
    let mut frames = Vec::new();
    if p.hourly_max_hours > 0 {
        let max = format!("PT{}H", p.hourly_max_hours);
        frames.push(option("hourly", "PT1H".to_owned(), max, false));
    }
    if p.daily_max_days > 0 {
        let max = format!("P{}D", p.daily_max_days);
        frames.push(option("daily", "P1D".to_owned(), max, true));
    }
    if p.one_time_use_hours > 0 {
        let use_window = format!("PT{}H", p.one_time_use_hours);
        frames.push(option("one-time", use_window.clone(), use_window, false));
    }
    frames
}

/// The 403 of a clock-setting code asked for by a key without the
/// capability.
fn clock_codes_forbidden() -> ApiError {
    ApiError::new(
        StatusCode::FORBIDDEN,
        FORBIDDEN,
        "offpin_clock_setting: this API key may not issue clock-setting codes, which move a lock's clock forward; the operator grants it with `offpin api-key create --can-issue-clock-codes`",
    )
}

/// `/devices/get`: with the device's rolling service codes
/// (`offpin_service_code_otpauth_uri`) for a key that may read them.
pub async fn devices_get(
    State(state): State<AppState>,
    caller: Caller,
    Params(req): Params<DeviceGetRequest>,
) -> Result<Json<DeviceResponse>, ApiError> {
    let secrets = caller.capabilities.read_service_secrets;
    let device = state
        .in_workspace(caller, move |ledger, master| {
            let device = ledger.device(&req.device_id)?;
            let capacity = device_capacity(ledger, &req.device_id, Utc::now())?;
            let group = ledger.membership(&req.device_id)?;
            let mut view = device_view(&device, group.as_ref(), capacity)?;
            if secrets {
                let codes = device.profile()?.params().service_codes;
                let secret = device.service_secret(master)?;
                view.offpin_service_code_otpauth_uri =
                    otpauth_uri(&secret, codes, "offpin", &device.device_id);
            }
            Ok(view)
        })
        .await?;
    Ok(Json(DeviceResponse { device, ok: true }))
}
