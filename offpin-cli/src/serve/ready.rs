//! `/health/ready`: readiness, beside `/health` (liveness, which answers
//! while the process runs). A server is ready when a pooled ledger
//! connection, checked on checkout, answers a ledger query within
//! [`TIMEOUT`]; otherwise it answers 503 `ledger_unavailable` in the API's
//! error shape, so that a load balancer sends its traffic elsewhere.

use std::time::Duration;

use axum::Json;
use axum::extract::State;

use super::error::ApiError;
use super::handlers::{AppState, health};
use super::openapi::HealthResponse;

/// How long the check may take: a connection from the pool (validated
/// with `SELECT 1` on PostgreSQL), then the master-key fingerprint read
/// from the ledger.
pub const TIMEOUT: Duration = Duration::from_secs(2);

/// `/health/ready`.
///
/// # Errors
///
/// 503 `ledger_unavailable` (the cause in the log) when the ledger does
/// not answer within [`TIMEOUT`].
pub async fn ready(State(state): State<AppState>) -> Result<Json<HealthResponse>, ApiError> {
    let pool = state.pool.clone();
    let check = tokio::task::spawn_blocking(move || {
        let mut conn = pool.get_timeout(TIMEOUT).map_err(|e| e.to_string())?;
        conn.master_fingerprint()
            .map(drop)
            .map_err(|e| e.to_string())
    });
    match tokio::time::timeout(TIMEOUT, check).await {
        Ok(Ok(Ok(()))) => Ok(health().await),
        Ok(Ok(Err(e))) => Err(ApiError::unavailable(&format_args!("readiness: {e}"))),
        Ok(Err(e)) => Err(ApiError::unavailable(&format_args!(
            "readiness: the check failed: {e}"
        ))),
        Err(_) => Err(ApiError::unavailable(&format_args!(
            "readiness: the ledger did not answer within {} s",
            TIMEOUT.as_secs()
        ))),
    }
}
