//! Secret-holding core types (issue 9, point 6) and wrapper errors (point 7).
//!
//! - `MasterKey`, `DeviceKey`, `Pin`, `Codec` and the FF1 context zeroize
//!   on drop (`ZeroizeOnDrop`, checked at compile time) and print no secret
//!   in `Debug`: not the key bytes in any usual rendering, not the digits.
//! - Key and PIN equality is decided on every byte (constant time is a
//!   property of the code, `ctutils`' `CtEq`; here its results are
//!   checked: a difference in any one byte, first or last, is seen).
//! - Wrapper errors return the wrapped error from `source()`.

#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::cast_possible_truncation,
    reason = "test code: a failed unwrap is a failed test"
)]

use std::error::Error;

use offpin::ff1::Ff1Aes128;
use offpin::profile::shipped::{KEYPAD9_11, STANDARD_10};
use offpin::{
    Codec, DecodeError, DeviceKey, Ff1Error, GrantError, IssueError, MasterKey, Pin, PinError,
    Radix, Request,
};
use zeroize::ZeroizeOnDrop;

fn zeroize_on_drop<T: ZeroizeOnDrop>() {}

#[test]
fn secret_types_zeroize_on_drop() {
    zeroize_on_drop::<MasterKey>();
    zeroize_on_drop::<DeviceKey>();
    zeroize_on_drop::<Pin>();
    zeroize_on_drop::<Codec>();
    zeroize_on_drop::<Ff1Aes128>();
    zeroize_on_drop::<offpin::service::ServiceSecret>();
}

/// The service secret, and a lock that holds one, show no secret bytes.
#[cfg(feature = "service-codes")]
#[test]
fn service_secrets_are_redacted() {
    use offpin::profile::shipped::STANDARD_10_V2;
    use offpin::service::ServiceSecret;
    let key = DeviceKey::from_bytes([0x5A; 16]);
    let secret = ServiceSecret::derive(&key);
    let bytes = *secret.expose_secret();
    let b32 = String::from_utf8(secret.base32().to_vec()).unwrap();
    let lock = offpin::lock::Lock::<4>::new(
        Codec::new(&key, STANDARD_10_V2).unwrap(),
        offpin::UtcOffset::UTC,
    )
    .unwrap();
    for text in [
        format!("{secret:?}"),
        format!("{lock:?}"),
        format!("{lock:#?}"),
    ] {
        for leak in renderings(&bytes).into_iter().chain([b32.clone()]) {
            assert!(
                !text.contains(&leak),
                "{text} shows the service secret {leak}"
            );
        }
    }
    assert_eq!(format!("{secret:?}"), "ServiceSecret(..)");
}

/// Every way the bytes could leak into a log line.
fn renderings(bytes: &[u8]) -> Vec<String> {
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    vec![
        hex.clone(),
        hex.to_uppercase(),
        format!("{bytes:?}"),
        format!("{:?}", &bytes[..4]),
        bytes
            .iter()
            .map(|b| b.to_string())
            .collect::<Vec<_>>()
            .join(", "),
    ]
}

#[test]
fn debug_never_shows_key_bytes_or_digits() {
    let master_bytes: [u8; 32] = core::array::from_fn(|i| 0xC0 ^ (i as u8 * 7));
    let master = MasterKey::from_bytes(master_bytes);
    let device = master.derive_device_key(b"front-door", 0).unwrap();
    let device_bytes = *device.expose_secret();
    let codec = Codec::new(&device, STANDARD_10).unwrap();
    let t = STANDARD_10.epoch() + 1_000 * 3_600;
    let pin = codec.issue(&Request::time_bound(t, t + 3_600)).unwrap().pin;
    let shown = [
        format!("{master:?}"),
        format!("{master:#?}"),
        format!("{device:?}"),
        format!("{codec:?}"),
        format!("{codec:#?}"),
        format!("{pin:?}"),
        format!("{pin:#?}"),
        format!(
            "{:?}",
            codec.issue(&Request::time_bound(t, t + 3_600)).unwrap()
        ),
    ];
    for text in &shown {
        for leak in renderings(&master_bytes)
            .into_iter()
            .chain(renderings(&device_bytes))
        {
            assert!(!text.contains(&leak), "{text} shows key bytes {leak}");
        }
        assert!(!text.contains(pin.as_str()), "{text} shows the PIN");
    }
    assert_eq!(shown[0], "MasterKey(..)");
    assert_eq!(shown[2], "DeviceKey(..)");
    assert_eq!(shown[5], "Pin(10 digits, ..)");
}

#[test]
fn equality_sees_every_byte() {
    let base: [u8; 16] = core::array::from_fn(|i| i as u8);
    for i in 0..16 {
        let mut other = base;
        other[i] ^= 1;
        assert_ne!(DeviceKey::from_bytes(base), DeviceKey::from_bytes(other));
    }
    assert_eq!(DeviceKey::from_bytes(base), DeviceKey::from_bytes(base));
    let typed = *b"123456789012345678";
    let pin = Pin::parse(&typed, Radix::Ten, 18).unwrap();
    for i in 0..18 {
        let mut other = typed;
        other[i] = if other[i] == b'9' { b'0' } else { other[i] + 1 };
        assert_ne!(pin, Pin::parse(&other, Radix::Ten, 18).unwrap(), "byte {i}");
    }
    assert_eq!(pin, Pin::parse(&typed, Radix::Ten, 18).unwrap());
    // Same leading digits, different lengths.
    assert_ne!(
        Pin::parse(b"1234567", Radix::Ten, 7).unwrap(),
        Pin::parse(b"12345678", Radix::Ten, 8).unwrap()
    );
}

#[test]
fn wrapper_errors_return_their_source() {
    let codec = Codec::new(&DeviceKey::from_bytes([1; 16]), KEYPAD9_11).unwrap();
    let e = codec.decode_input(b"10000000000").unwrap_err();
    let source = e.source().and_then(|s| s.downcast_ref::<PinError>());
    assert_eq!(source, Some(&PinError::ZeroOnNineKeyPad { position: 1 }));
    assert!(DecodeError::NotAGrant.source().is_none());
    let cipher = DecodeError::Cipher(Ff1Error::NumeralOutOfRange);
    assert!(cipher.source().unwrap().is::<Ff1Error>());

    let t = STANDARD_10.epoch();
    let e = STANDARD_10
        .plan(&Request::time_bound(t, t + 3_600).with_variance(9))
        .unwrap_err();
    assert!(matches!(e, IssueError::Grant(_)));
    assert!(e.source().unwrap().is::<GrantError>());
    assert!(
        IssueError::Cipher(Ff1Error::NumeralOutOfRange)
            .source()
            .unwrap()
            .is::<Ff1Error>()
    );
    assert!(IssueError::EndNotAfterStart.source().is_none());
}

/// Core errors speak of the library's knobs, not of a command line.
#[test]
fn rounding_error_names_the_api_knob() {
    let t = STANDARD_10.epoch() + 100;
    let e = STANDARD_10
        .plan(&Request::time_bound(t, t + 3_600))
        .unwrap_err();
    let text = e.to_string();
    assert!(text.contains("max_rounding_secs"), "{text}");
    assert!(!text.contains("1h") && !text.contains("1d"), "{text}");
}
