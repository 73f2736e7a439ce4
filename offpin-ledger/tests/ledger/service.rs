//! The server's rolling service codes (`offpin_ledger::service`) against
//! the committed vectors `tests/vectors/v2/service.json`, which the lock's
//! side (the root crate's `vectors` test) checks too: the code at each
//! instant and the `otpauth://` URI an authenticator app imports.

use offpin::profile::shipped::V2;
use offpin::service::ServiceSecret;
use offpin::{DeviceKey, MasterKey, ServiceCodes};
use offpin_ledger::service::{code_at, otpauth_uri};
use serde_json::Value;

fn vectors() -> Value {
    let text = include_str!("../../../tests/vectors/v2/service.json");
    serde_json::from_str(text).unwrap()
}

fn bytes<const N: usize>(hex_text: &Value) -> [u8; N] {
    hex::decode(hex_text.as_str().unwrap())
        .unwrap()
        .try_into()
        .unwrap()
}

/// Every profile's secret, URI and code of the committed vectors, as the
/// server derives them from the master key.
#[test]
fn service_codes_and_uris_match_the_committed_vectors() {
    let v = vectors();
    let master = MasterKey::from_bytes(bytes(&v["master_key"]));
    let device_id = v["device_id"].as_str().unwrap();
    let key = master.derive_device_key(device_id.as_bytes(), 0).unwrap();
    assert_eq!(key.expose_secret(), &bytes::<16>(&v["device_key"]));
    let secret = ServiceSecret::derive(&key);
    let profiles = v["profiles"].as_array().unwrap();
    assert!(!profiles.is_empty());
    let mut checked = 0;
    for p in profiles {
        let profile = V2
            .iter()
            .find(|q| q.name() == p["profile"].as_str().unwrap())
            .unwrap();
        let codes = profile.params().service_codes;
        assert_eq!(
            otpauth_uri(&secret, codes, "offpin", device_id).as_deref(),
            p["otpauth_uri"].as_str()
        );
        for case in p["cases"].as_array().unwrap() {
            let now = case["now"].as_i64().unwrap();
            assert_eq!(
                code_at(&secret, codes, now).as_deref(),
                case["code"].as_str()
            );
            checked += 1;
        }
    }
    assert!(checked >= 4, "{checked} codes checked");
}

/// The key URI carries the secret in base 32 and the profile's digits and
/// step, the label percent-encoded; a profile without service codes has
/// none.
#[test]
fn the_otpauth_uri() {
    let secret = ServiceSecret::derive(&DeviceKey::from_bytes([1; 16]));
    let codes = ServiceCodes {
        digits: 8,
        step_secs: 30,
        skew_steps: 1,
    };
    let uri = otpauth_uri(&secret, codes, "offpin", "paris 1").unwrap();
    let b32 = String::from_utf8(secret.base32().to_vec()).unwrap();
    assert_eq!(
        uri,
        format!(
            "otpauth://totp/offpin:paris%201?secret={b32}&issuer=offpin&algorithm=SHA1&digits=8&period=30"
        )
    );
    assert_eq!(
        otpauth_uri(&secret, ServiceCodes::NONE, "offpin", "x"),
        None
    );
    assert_eq!(code_at(&secret, ServiceCodes::NONE, 0), None);
    assert_eq!(code_at(&secret, codes, -1), None);
}
