//! Rolling service codes on the server side: the code of an instant (with
//! `totp-lite`, not the lock's HMAC-SHA1) and the `otpauth://totp/` key
//! URI an authenticator app imports (Google Authenticator's Key URI
//! format), so that a manager can open a lock when no server is reachable.

use offpin::profile::ServiceCodes;
use offpin::service::ServiceSecret;
use offpin::time::UnixSeconds;

/// The service code at Unix time `t`, `digits` digits with leading zeros
/// (RFC 6238, `T0 = 0`, HMAC-SHA1). `None` when the profile has no service
/// codes or `t` is before 1970.
///
/// # Examples
///
/// ```
/// use offpin::profile::ServiceCodes;
/// use offpin_ledger::service::code_at;
/// use offpin::{DeviceKey, service::ServiceSecret};
/// let secret = ServiceSecret::derive(&DeviceKey::from_bytes([7; 16]));
/// let codes = ServiceCodes { digits: 8, step_secs: 30, skew_steps: 1 };
/// let code = code_at(&secret, codes, 1_767_225_600).unwrap();
/// assert_eq!(code.len(), 8);
/// ```
pub fn code_at(secret: &ServiceSecret, codes: ServiceCodes, t: UnixSeconds) -> Option<String> {
    if !codes.is_enabled() {
        return None;
    }
    let t = u64::try_from(t).ok()?;
    Some(totp_lite::totp_custom::<totp_lite::Sha1>(
        u64::from(codes.step_secs),
        u32::from(codes.digits),
        secret.expose_secret(),
        t,
    ))
}

/// Percent-encodes everything but RFC 3986's unreserved characters.
fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The `otpauth://totp/ISSUER:DEVICE?secret=…&issuer=…&algorithm=SHA1&digits=…&period=…`
/// URI of a device's service codes (the label and issuer percent-encoded,
/// the secret in base 32 without padding). `None` when the profile has no
/// service codes. The URI holds the secret: show it only to whom may open
/// the lock.
///
/// ```
/// use offpin::profile::ServiceCodes;
/// use offpin_ledger::service::otpauth_uri;
/// use offpin::{DeviceKey, service::ServiceSecret};
/// let secret = ServiceSecret::derive(&DeviceKey::from_bytes([7; 16]));
/// let codes = ServiceCodes { digits: 8, step_secs: 30, skew_steps: 1 };
/// let uri = otpauth_uri(&secret, codes, "offpin", "front door").unwrap();
/// assert!(uri.starts_with("otpauth://totp/offpin:front%20door?secret="));
/// assert!(uri.ends_with("&issuer=offpin&algorithm=SHA1&digits=8&period=30"));
/// ```
pub fn otpauth_uri(
    secret: &ServiceSecret,
    codes: ServiceCodes,
    issuer: &str,
    device_id: &str,
) -> Option<String> {
    if !codes.is_enabled() {
        return None;
    }
    let b32 = secret.base32();
    let b32 = core::str::from_utf8(&b32).ok()?;
    let issuer = percent_encode(issuer);
    Some(format!(
        "otpauth://totp/{issuer}:{}?secret={b32}&issuer={issuer}&algorithm=SHA1&digits={}&period={}",
        percent_encode(device_id),
        codes.digits,
        codes.step_secs
    ))
}
