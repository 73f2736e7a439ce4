//! Bearer API keys, the per-key rate limit and the per-address throttle
//! of failed authentications, in front of every endpoint but `/health`.
//!
//! **Failed authentications** (a missing, malformed, unknown, wrong or
//! revoked key) count against the client's address: `--auth-failure-rate`
//! a second, bursts of `--auth-failure-burst`. Past its budget an address
//! gets 429 `too_many_failed_authentications` (with `Retry-After`) for
//! every request that does not carry a key this server verified within
//! `--key-cache-secs`, before the key is looked up: a flood of wrong keys
//! costs no ledger read, and a client behind the same address that holds
//! a good key goes on being served.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use offpin_ledger::ledger::api_keys::{ApiKeyError, ApiKeyRecord, Capabilities, key_id_of};

use super::error::ApiError;
use super::handlers::AppState;

/// The per-key limit: `per_second` requests a second, bursts of `burst`.
pub fn limiter(per_second: u32, burst: u32) -> Option<Arc<DefaultKeyedRateLimiter<String>>> {
    let rate = NonZeroU32::new(per_second)?;
    let burst = NonZeroU32::new(burst).unwrap_or(rate);
    Some(Arc::new(RateLimiter::keyed(
        Quota::per_second(rate).allow_burst(burst),
    )))
}

/// The per-address budget of failed authentications: `per_second`, bursts
/// of `burst` (`None`: unlimited).
pub fn failure_limiter(per_second: u32, burst: u32) -> Option<Arc<FailureThrottle>> {
    let rate = NonZeroU32::new(per_second)?;
    let burst = NonZeroU32::new(burst).unwrap_or(rate);
    Some(Arc::new(FailureThrottle {
        budget: RateLimiter::keyed(Quota::per_second(rate).allow_burst(burst)),
        blocked: Mutex::new(HashMap::new()),
    }))
}

/// Addresses that failed to authenticate too often, and until when.
#[derive(Debug)]
pub struct FailureThrottle {
    budget: DefaultKeyedRateLimiter<IpAddr>,
    blocked: Mutex<HashMap<IpAddr, Instant>>,
}

/// Addresses remembered before the expired ones are dropped.
const REMEMBERED_ADDRESSES: usize = 4_096;

impl FailureThrottle {
    /// How long `ip` must still wait, if it spent its budget.
    fn blocked_for(&self, ip: IpAddr) -> Option<Duration> {
        let blocked = self.blocked.lock().ok()?;
        let until = *blocked.get(&ip)?;
        until.checked_duration_since(Instant::now())
    }

    /// Counts a failure of `ip`; `Some(wait)` when it is over budget.
    fn fail(&self, ip: IpAddr) -> Option<Duration> {
        let not_until = self.budget.check_key(&ip).err()?;
        let wait = not_until.wait_time_from(DefaultClock::default().now());
        if let Ok(mut blocked) = self.blocked.lock() {
            if blocked.len() >= REMEMBERED_ADDRESSES {
                let now = Instant::now();
                blocked.retain(|_, until| *until > now);
                self.budget.retain_recent();
            }
            blocked.insert(ip, Instant::now() + wait);
        }
        Some(wait)
    }
}

/// The 429 of an address over its failure budget.
fn throttled(ip: IpAddr, wait: Duration) -> Response {
    ApiError {
        retry_after: Some(wait.as_secs().max(1)),
        ..ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_failed_authentications",
            format!(
                "too many failed authentications from {ip}: retry in {} ms with a valid API key",
                wait.as_millis()
            ),
        )
    }
    .into_response()
}

/// Key records read from the ledger in the last `ttl`, by key id: a
/// revocation reaches a server within `ttl` (zero: every request reads
/// the ledger).
#[derive(Debug, Default)]
pub struct KeyCache {
    ttl: Duration,
    records: Mutex<HashMap<String, (ApiKeyRecord, Instant)>>,
}

impl KeyCache {
    /// A cache keeping records for `ttl`.
    pub fn new(ttl: Duration) -> Self {
        KeyCache {
            ttl,
            records: Mutex::new(HashMap::new()),
        }
    }

    fn fresh(&self, key_id: &str) -> Option<ApiKeyRecord> {
        let records = self.records.lock().ok()?;
        let (record, at) = records.get(key_id)?;
        (at.elapsed() < self.ttl).then(|| record.clone())
    }

    fn store(&self, record: &ApiKeyRecord) {
        if self.ttl.is_zero() {
            return;
        }
        if let Ok(mut records) = self.records.lock() {
            records.retain(|_, (_, at)| at.elapsed() < self.ttl);
            records.insert(record.key_id.clone(), (record.clone(), Instant::now()));
        }
    }
}

/// What the middleware needs.
#[derive(Clone)]
pub struct Guard {
    /// The service's state (for the ledger).
    pub app: AppState,
    /// The per-key limiter (`None`: unlimited).
    pub limiter: Option<Arc<DefaultKeyedRateLimiter<String>>>,
    /// Recently read key records.
    pub cache: Arc<KeyCache>,
    /// The per-address throttle of failed authentications (`None`: off).
    pub failures: Option<Arc<FailureThrottle>>,
}

/// The request's authenticated key, as the handlers need it: the
/// workspace it acts in (each handler asks the ledger through that
/// workspace's view, `offpin_ledger::ledger::Scoped`, so another
/// workspace's device or code is, to the request, one that does not
/// exist: 404) and what it may do beyond the ordinary calls
/// (`/devices/get`'s service codes, `/access_codes/create`'s
/// clock-setting codes). [`authenticate`] hands it on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Caller {
    /// The key's workspace.
    pub workspace_id: String,
    /// The key's capabilities.
    pub capabilities: Capabilities,
}

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        // Only a route behind `authenticate` asks for it: without one, the
        // router is wrong, not the request; it gets no workspace and no
        // capability.
        parts
            .extensions
            .get::<Caller>()
            .cloned()
            .ok_or_else(|| ApiError::internal("the request's API key is unknown"))
    }
}

/// The key of an `Authorization: Bearer KEY` header.
fn bearer(req: &Request) -> Option<String> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_owned())
}

/// Authenticates the request's key (throttling the addresses that fail
/// too often), applies its rate limit, and records the key's name (never
/// the key) in the request's log span.
pub async fn authenticate(State(guard): State<Guard>, mut req: Request, next: Next) -> Response {
    let ip = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip());
    let key = match identify(&guard, bearer(&req), ip).await {
        Ok(key) => key,
        Err(refusal) => {
            let over = ip.zip(guard.failures.as_ref());
            return match over.and_then(|(ip, f)| f.fail(ip).map(|wait| (ip, wait))) {
                Some((ip, wait)) => throttled(ip, wait),
                None => refusal,
            };
        }
    };
    if let Some(limiter) = &guard.limiter
        && let Err(not_until) = limiter.check_key(&key.key_id)
    {
        let wait = not_until.wait_time_from(DefaultClock::default().now());
        return ApiError {
            retry_after: Some(wait.as_secs().max(1)),
            ..ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                format!(
                    "too many requests for API key '{}': retry in {} ms",
                    key.name,
                    wait.as_millis()
                ),
            )
        }
        .into_response();
    }
    tracing::Span::current().record("key", key.name.as_str());
    req.extensions_mut().insert(Caller {
        workspace_id: key.workspace_id,
        capabilities: key.capabilities,
    });
    next.run(req).await
}

/// The key record of the request's bearer key, or the refusal to send: a
/// 401, or a 429 for an address over its failure budget that holds no
/// key verified here recently.
async fn identify(
    guard: &Guard,
    token: Option<String>,
    ip: Option<IpAddr>,
) -> Result<ApiKeyRecord, Response> {
    let cached = token
        .as_deref()
        .and_then(|t| key_id_of(t).ok())
        .and_then(|id| guard.cache.fresh(id));
    if let (Some(ip), Some(failures)) = (ip, &guard.failures)
        && let Some(wait) = failures.blocked_for(ip)
        && !matches!((&cached, &token), (Some(r), Some(t)) if r.verify(t).is_ok())
    {
        return Err(throttled(ip, wait));
    }
    let Some(token) = token else {
        return Err(ApiError::from(ApiKeyError::Missing).into_response());
    };
    match cached {
        // The cached record is checked like a stored one (constant-time
        // hash comparison, revocation).
        Some(record) => match record.verify(&token) {
            Ok(()) => Ok(record),
            Err(e) => Err(ApiError::from(e).into_response()),
        },
        None => match guard
            .app
            .ledger(move |ledger, _| Ok(ledger.authenticate(&token)?))
            .await
        {
            Ok(record) => {
                guard.cache.store(&record);
                Ok(record)
            }
            Err(e) => Err(e.into_response()),
        },
    }
}
