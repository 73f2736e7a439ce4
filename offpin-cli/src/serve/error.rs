//! The service's error answers: `{"error": {"type", "message", ...},
//! "ok": false}` with the HTTP status of the cause ([`Fault`] for the
//! ledger's errors).
//!
//! A 503 tells the client only what it can act on: a stable `type`
//! ([`LEDGER_UNAVAILABLE`], or [`OUTCOME_UNKNOWN`] with the ids of the
//! codes that may have been stored) and a generic message. The ledger's
//! detail, which names the database (`postgres://user@host:port/db`,
//! never a password), goes to the operator's log.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use offpin_ledger::ledger::LedgerError;
use offpin_ledger::ledger::api_keys::ApiKeyError;
use offpin_ledger::ledger::capacity::error_data;
use offpin_ledger::ledger::hosted::RequestError;
use serde_json::{Value, json};

use super::fault::{Fault, INVALID_INPUT, LEDGER_UNAVAILABLE, OUTCOME_UNKNOWN};
use crate::request::DecodeError;

/// An error answer.
#[derive(Debug)]
pub struct ApiError {
    /// The HTTP status.
    pub status: StatusCode,
    /// The error's `type`.
    pub kind: &'static str,
    /// Its `message`.
    pub message: String,
    /// The request field to blame (`invalid_input` only).
    pub field: Option<String>,
    /// Seconds to wait before retrying (429, 503).
    pub retry_after: Option<u64>,
    /// Its `data`: the facts of a capacity refusal
    /// ([`offpin_ledger::ledger::capacity::error_data`]), else `null`.
    pub data: Option<Value>,
}

impl ApiError {
    /// An error without a field.
    pub fn new(status: StatusCode, kind: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            kind,
            message: message.into(),
            field: None,
            retry_after: None,
            data: None,
        }
    }

    /// A 400 `invalid_input` about `field`.
    pub fn invalid(field: Option<String>, message: impl Into<String>) -> Self {
        ApiError {
            field,
            ..ApiError::new(StatusCode::BAD_REQUEST, INVALID_INPUT, message)
        }
    }

    /// A 401.
    pub fn unauthorized(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
    }

    /// The 503 of a ledger that cannot be used now; `detail` (what
    /// failed, naming the database) goes to the log, not to the client.
    pub fn unavailable(detail: &dyn core::fmt::Display) -> Self {
        tracing::error!(r#type = LEDGER_UNAVAILABLE, detail = %detail, "the ledger is unavailable");
        ApiError {
            retry_after: Some(1),
            ..ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                LEDGER_UNAVAILABLE,
                "the ledger is unavailable; nothing was changed; retry later",
            )
        }
    }

    /// A 500 for a fault of the server (never for what a client sent).
    pub fn internal(message: impl Into<String>) -> Self {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal_server_error",
            message,
        )
    }

    /// The JSON body.
    pub fn body(&self) -> Value {
        let mut error = json!({
            "type": self.kind,
            "message": self.message,
            "data": self.data.clone().unwrap_or(Value::Null),
        });
        if self.kind == INVALID_INPUT
            && let Some(obj) = error.as_object_mut()
        {
            // The shape the SDKs read (`{"_errors": [], "field": {"_errors": [msg]}}`).
            let mut errors = json!({ "_errors": [] });
            match (&self.field, errors.as_object_mut()) {
                (Some(field), Some(map)) => {
                    map.insert(field.clone(), json!({ "_errors": [self.message] }));
                }
                (None, Some(map)) => {
                    map.insert("_errors".to_owned(), json!([self.message]));
                }
                _ => {}
            }
            obj.insert("validation_errors".to_owned(), errors);
        }
        json!({ "error": error, "ok": false })
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (self.status, Json(self.body())).into_response();
        if let Some(secs) = self.retry_after
            && let Ok(v) = HeaderValue::from_str(&secs.to_string())
        {
            response.headers_mut().insert(header::RETRY_AFTER, v);
        }
        response
    }
}

impl From<DecodeError> for ApiError {
    fn from(e: DecodeError) -> Self {
        let message = e.to_string();
        ApiError::invalid(e.field, message)
    }
}

impl ApiError {
    /// The answer a fault gets ([`Fault`]), with `message`; a 503 asks
    /// the client to retry in a second.
    fn from_fault(f: Fault, message: String) -> Self {
        let status = f.status;
        ApiError {
            status,
            kind: f.error_type,
            message,
            field: f.field.map(str::to_owned),
            retry_after: (status == StatusCode::SERVICE_UNAVAILABLE).then_some(1),
            data: None,
        }
    }

    /// The answer to a ledger error: its [`Fault`], its message and its
    /// `data`; for a 503 the generic message ([`ApiError::unavailable`],
    /// [`OUTCOME_UNKNOWN`]'s with the codes' ids), the detail logged.
    fn from_ledger(f: Fault, e: &dyn core::fmt::Display, ledger: Option<&LedgerError>) -> Self {
        if f.status != StatusCode::SERVICE_UNAVAILABLE {
            return ApiError {
                data: ledger.and_then(error_data),
                ..ApiError::from_fault(f, e.to_string())
            };
        }
        let Some(LedgerError::OutcomeUnknown {
            access_code_ids, ..
        }) = ledger.map(LedgerError::innermost)
        else {
            return ApiError::unavailable(e);
        };
        tracing::error!(r#type = OUTCOME_UNKNOWN, detail = %e, "the outcome of a write is unknown");
        ApiError {
            data: Some(json!({ "access_code_ids": access_code_ids })),
            ..ApiError::from_fault(
                f,
                "the ledger lost its database while storing the code and could not learn whether it was stored: send the same request again with the same Idempotency-Key, which returns the code if it was stored and issues it if not".to_owned(),
            )
        }
    }
}

impl From<LedgerError> for ApiError {
    fn from(e: LedgerError) -> Self {
        ApiError::from_ledger(Fault::of(&e), &e, Some(&e))
    }
}

impl From<RequestError> for ApiError {
    fn from(e: RequestError) -> Self {
        let ledger = match &e {
            RequestError::Ledger(l) => Some(l),
            _ => None,
        };
        ApiError::from_ledger(Fault::of_request(&e), &e, ledger)
    }
}

impl From<ApiKeyError> for ApiError {
    fn from(e: ApiKeyError) -> Self {
        match e {
            ApiKeyError::Ledger(e) => e.into(),
            other => ApiError::unauthorized(other.to_string()),
        }
    }
}
