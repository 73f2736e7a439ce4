//! Bearer API keys and the per-key rate limit, in front of every endpoint
//! but `/health`.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use offpin_ledger::ledger::api_keys::{ApiKeyError, ApiKeyRecord, key_id_of};

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
}

/// The key of an `Authorization: Bearer KEY` header.
fn bearer(req: &Request) -> Option<String> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_owned())
}

/// Authenticates the request's key, applies its rate limit, and records
/// the key's name (never the key) in the request's log span.
pub async fn authenticate(State(guard): State<Guard>, req: Request, next: Next) -> Response {
    let Some(token) = bearer(&req) else {
        return ApiError::from(ApiKeyError::Missing).into_response();
    };
    let cached = key_id_of(&token).ok().and_then(|id| guard.cache.fresh(id));
    let key = match cached {
        // The cached record is checked like a stored one (constant-time
        // hash comparison, revocation).
        Some(record) => match record.verify(&token) {
            Ok(()) => record,
            Err(e) => return ApiError::from(e).into_response(),
        },
        None => match guard
            .app
            .ledger(move |ledger, _| Ok(ledger.authenticate(&token)?))
            .await
        {
            Ok(record) => {
                guard.cache.store(&record);
                record
            }
            Err(e) => return e.into_response(),
        },
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
    next.run(req).await
}
