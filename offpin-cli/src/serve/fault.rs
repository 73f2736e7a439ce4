//! The HTTP answer to a refusal or a failure of the ledger: its status, its
//! error `type` and the request field to blame. The ledger says whose the
//! error is ([`Blame`]); only this edge turns that into a status.
//!
//! What a client sent is answered 4xx, never 5xx: 400 `invalid_input` for
//! a bad field (a window the lock would never open for included, its
//! deadline in the message), 404 for an unknown device, code or group, 409
//! for a spent window (`igloohome_offline_access_code_no_variance_available`),
//! spent ongoing slots, reused idempotency keys and other conflicts with the
//! ledger. 5xx is the server's side: 503 when the ledger cannot be used now
//! (storage, a read-only or interrupted ledger: `type` [`LEDGER_UNAVAILABLE`],
//! or [`OUTCOME_UNKNOWN`] when a write's fate could not be learned), 500 when the server's own
//! setup is wrong (another master key, a profile or time zone this build
//! does not know), and 500 `internal_server_error` for a broken invariant
//! of the ledger (a bug: never 503, a retry would not help).

use axum::http::StatusCode;
use offpin_ledger::ledger::LedgerError;
use offpin_ledger::ledger::hosted::{Blame, RequestError};

#[cfg(test)]
mod tests;

/// `type` of a request the API refuses for its content (HTTP 400), with
/// the field to blame in `validation_errors`.
pub const INVALID_INPUT: &str = "invalid_input";
/// `type` of an unknown device (HTTP 404), as the hosted API names it.
pub const DEVICE_NOT_FOUND: &str = "device_not_found";
/// `type` of an unknown group (HTTP 404).
pub const GROUP_NOT_FOUND: &str = "group_not_found";
/// `type` of an unknown access code (HTTP 404).
pub const ACCESS_CODE_NOT_FOUND: &str = "access_code_not_found";
/// `type` of a request the key may not make (HTTP 403): a clock-setting
/// code asked for by a key without `issue_clock_codes`.
pub const FORBIDDEN: &str = "forbidden";
/// `type` of a ledger that cannot be used now (HTTP 503): its storage
/// failed, or it is read-only, interrupted, or not a ledger (the detail is
/// the operator's, in the log).
pub const LEDGER_UNAVAILABLE: &str = "ledger_unavailable";
/// `type` of a write whose outcome is unknown (HTTP 503): the database
/// was lost while it committed and could not be asked whether it did
/// ([`LedgerError::OutcomeUnknown`]); the same request with the same
/// `Idempotency-Key` returns the code if it was stored.
pub const OUTCOME_UNKNOWN: &str = "outcome_unknown";
/// `type` of a fault of the server that no request causes (HTTP 500): a
/// broken invariant of the ledger.
pub const INTERNAL_SERVER_ERROR: &str = "internal_server_error";

/// How the API answers a refusal or a failure.
///
/// # Examples
///
/// ```
/// use axum::http::StatusCode;
/// use offpin_cli::serve::fault::Fault;
/// use offpin_ledger::ledger::LedgerError;
/// let f = Fault::of(&LedgerError::NoSlotAvailable {
///     device_id: "d".into(),
///     slots: 20,
///     held_by: Vec::new(),
///     taken_in_batch: 0,
/// });
/// assert_eq!((f.status, f.error_type), (StatusCode::CONFLICT, "no_slot_available"));
/// let f = Fault::of(&LedgerError::ActivationDeadlinePassed { deadline: 0, activation_secs: 86_400, now: 1 });
/// assert_eq!((f.status, f.error_type, f.field), (StatusCode::BAD_REQUEST, "invalid_input", Some("starts_at")));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fault {
    /// The HTTP status.
    pub status: StatusCode,
    /// The error's `type`: [`INVALID_INPUT`] for every 400,
    /// [`DEVICE_NOT_FOUND`] and [`GROUP_NOT_FOUND`] for an unknown device
    /// or group, [`LEDGER_UNAVAILABLE`] or [`OUTCOME_UNKNOWN`] for a 503,
    /// otherwise the ledger's [`LedgerError::code`].
    pub error_type: &'static str,
    /// The request field to blame, if one is.
    pub field: Option<&'static str>,
}

impl Fault {
    /// The answer to a ledger error (for one in a batch, the error inside
    /// names the `type`).
    pub fn of(e: &LedgerError) -> Fault {
        let error_type = match e.innermost() {
            LedgerError::UnknownDevice { .. } => DEVICE_NOT_FOUND,
            LedgerError::UnknownGroup { .. } => GROUP_NOT_FOUND,
            LedgerError::OutcomeUnknown { .. } => OUTCOME_UNKNOWN,
            inner if inner.blame() == Blame::Unavailable => LEDGER_UNAVAILABLE,
            inner => inner.code(),
        };
        Fault::answer(e.blame(), error_type)
    }

    /// The answer to a request the hosted API's rules refuse.
    pub fn of_request(e: &RequestError) -> Fault {
        match e {
            RequestError::Ledger(e) => Fault::of(e),
            RequestError::CodeNotFound { .. } => Fault::answer(e.blame(), ACCESS_CODE_NOT_FOUND),
            other => Fault::answer(other.blame(), INVALID_INPUT),
        }
    }

    /// The status of `blame`; `error_type` unless the request is to blame
    /// ([`INVALID_INPUT`]) or a bug ([`INTERNAL_SERVER_ERROR`]).
    pub fn answer(blame: Blame, error_type: &'static str) -> Fault {
        let status = match blame {
            Blame::Request { field } => {
                return Fault {
                    status: StatusCode::BAD_REQUEST,
                    error_type: INVALID_INPUT,
                    field,
                };
            }
            Blame::NotFound => StatusCode::NOT_FOUND,
            Blame::Conflict | Blame::Capacity => StatusCode::CONFLICT,
            Blame::Server => StatusCode::INTERNAL_SERVER_ERROR,
            Blame::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            Blame::Invariant => {
                return Fault {
                    status: StatusCode::INTERNAL_SERVER_ERROR,
                    error_type: INTERNAL_SERVER_ERROR,
                    field: None,
                };
            }
        };
        Fault {
            status,
            error_type,
            field: None,
        }
    }
}
