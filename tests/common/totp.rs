//! The server's view of a rolling service code, for the core's tests:
//! RFC 6238 by `totp-lite` (an implementation the lock's HMAC-SHA1 does not
//! share), and the `otpauth://` key URI as `docs/FORMAT.md` §10 writes it.
//! `offpin-ledger`'s `service` module is checked against the same vectors.

use offpin::ServiceCodes;
use offpin::UnixSeconds;
use offpin::service::ServiceSecret;

/// The service code at `t` (`digits` digits, leading zeros kept).
pub fn code_at(secret: &ServiceSecret, codes: ServiceCodes, t: UnixSeconds) -> Option<String> {
    if !codes.is_enabled() {
        return None;
    }
    Some(totp_lite::totp_custom::<totp_lite::Sha1>(
        u64::from(codes.step_secs),
        u32::from(codes.digits),
        secret.expose_secret(),
        u64::try_from(t).ok()?,
    ))
}

/// The key URI an authenticator app imports (Google Authenticator's Key
/// URI format, as the vectors hold it).
#[allow(dead_code)]
pub fn otpauth_uri(
    secret: &ServiceSecret,
    codes: ServiceCodes,
    issuer: &str,
    account: &str,
) -> Option<String> {
    codes.is_enabled().then(|| {
        let b32 = String::from_utf8_lossy(&secret.base32()).into_owned();
        format!(
            "otpauth://totp/{issuer}:{account}?secret={b32}&issuer={issuer}&algorithm=SHA1&digits={}&period={}",
            codes.digits, codes.step_secs
        )
    })
}
