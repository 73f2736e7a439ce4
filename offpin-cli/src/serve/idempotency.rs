//! The `Idempotency-Key` header of `/access_codes/create`, as payment APIs
//! take it: a create sent again with the key of an earlier one (after a
//! lost answer, a timeout, a 503) returns the code that one stored, and
//! issues nothing new; the same key on a different request is 409
//! `idempotency_conflict`. The ledger keeps the key with the code (one
//! key, one code, under a unique constraint), so a retry finds it on any
//! server of a fleet.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;

use super::error::ApiError;

/// The header's name.
pub const HEADER: &str = "Idempotency-Key";

/// The longest key, in bytes.
pub const MAX_LEN: usize = 255;

/// The request's `Idempotency-Key`, if it sent one: 1 to [`MAX_LEN`]
/// visible ASCII characters (anything else is 400 `invalid_input`
/// naming the header).
#[derive(Clone, Debug, Default, PartialEq, Eq, utoipa::IntoParams)]
#[into_params(parameter_in = Header)]
pub struct IdempotencyKey {
    /// A key of the client's choosing (a UUID, a booking's id): a create
    /// sent again with it returns the code the first one stored.
    #[param(rename = "Idempotency-Key", max_length = 255, min_length = 1)]
    pub key: Option<String>,
}

impl<S: Send + Sync> FromRequestParts<S> for IdempotencyKey {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let mut values = parts.headers.get_all(HEADER).iter();
        let Some(value) = values.next() else {
            return Ok(IdempotencyKey::default());
        };
        let refuse =
            |why: &str| ApiError::invalid(Some(HEADER.to_owned()), format!("{HEADER}: {why}"));
        if values.next().is_some() {
            return Err(refuse("sent more than once"));
        }
        let key = value
            .to_str()
            .ok()
            .filter(|k| (1..=MAX_LEN).contains(&k.len()) && k.bytes().all(|b| b.is_ascii_graphic()))
            .ok_or_else(|| {
                refuse(&format!(
                    "must be 1 to {MAX_LEN} visible ASCII characters (no spaces)"
                ))
            })?;
        Ok(IdempotencyKey {
            key: Some(key.to_owned()),
        })
    }
}
