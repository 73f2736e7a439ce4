//! `offpin service-code`: rolling service codes of a format-v2 device.

use crate::util::env::{Env, fails};

/// `offpin service-code` prints the otpauth:// URI (and a QR code); the
/// code of an instant opens the device's lock once at `verify`, and the
/// second time it is refused as already used.
#[test]
fn service_codes_print_a_key_uri_and_open_the_lock_once() {
    let env = Env::bare();
    env.ok(&["keygen"]);
    env.ok(&[
        "device",
        "add",
        "--device-id",
        "paris-v2",
        "--profile",
        "standard-10-v2",
        "--time-zone",
        "Europe/Paris",
    ]);
    let out = env.ok(&[
        "service-code",
        "--device-id",
        "paris-v2",
        "--at",
        "2040-07-01T12:00:00Z",
    ]);
    let uri = out.lines().next().unwrap();
    assert!(
        uri.starts_with("otpauth://totp/offpin:paris-v2?secret="),
        "{uri}"
    );
    assert!(uri.ends_with("&issuer=offpin&algorithm=SHA1&digits=8&period=30"));
    assert!(out.contains('█'), "a QR code");
    let code = out
        .lines()
        .find_map(|l| l.strip_prefix("code at 2040-07-01T12:00:00+00:00: "))
        .unwrap();
    assert_eq!(code.len(), 8);
    let verify = |at: &str| {
        let out = env.run(&[
            "verify",
            "--device-id",
            "paris-v2",
            "--pin",
            code,
            "--at",
            at,
        ]);
        (
            String::from_utf8(out.stdout).unwrap(),
            out.status.code().unwrap(),
        )
    };
    let (first, status) = verify("2040-07-01T12:00:10Z");
    assert_eq!(status, 0, "{first}");
    let (second, status) = verify("2040-07-01T12:00:20Z");
    assert_eq!(status, 3, "{second}");
    assert!(second.contains("already used"), "{second}");
    // A v1 device has no service codes.
    env.ok(&[
        "device",
        "add",
        "--device-id",
        "v1",
        "--utc-offset",
        "+01:00",
    ]);
    fails(
        &env,
        &["service-code", "--device-id", "v1"],
        1,
        "profile standard-10 has no service codes (a format-v2 profile such as standard-10-v2 has them)",
    );
}
