//! Refusals: usage errors (exit 2), bad requests (exit 1), each one line
//! on stderr, and one JSON object with `--json`.

use serde_json::Value;

use crate::util::env::{DEVICE, Env, fails, one_error_line, s};

#[test]
fn bad_flags_are_usage_errors() {
    let env = Env::new();
    for (args, line) in [
        (
            vec![
                "issue",
                "--device-id",
                DEVICE,
                "--starts-at",
                "2040-01-01 16:00+0x",
                "--ends-at",
                "2040-01-02T16:00:00Z",
            ],
            "invalid value '2040-01-01 16:00+0x' for '--starts-at <STARTS_AT>': '2040-01-01 16:00+0x' is not a time like 2025-01-01T16:00:00+01:00 (RFC 3339) or a local time like 2025-01-01T16:00 (see --help)",
        ),
        (
            vec![
                "issue",
                "--device-id",
                DEVICE,
                "--ongoing",
                "--starts-at",
                "2040-01-01T00:00:00Z",
            ],
            "the argument '--ongoing' cannot be used with '--starts-at <STARTS_AT>' (see --help)",
        ),
        (
            vec![
                "issue",
                "--device-id",
                DEVICE,
                "--ongoing",
                "--max-time-rounding",
                "soon",
            ],
            "invalid value 'soon' for '--max-time-rounding <MAX_TIME_ROUNDING>': 'soon' is not a rounding like 1h, 1d, 30m or 0 (see --help)",
        ),
        (
            vec![
                "device",
                "add",
                "--device-id",
                "x",
                "--utc-offset",
                "+15:00",
            ],
            "invalid value '+15:00' for '--utc-offset <UTC_OFFSET>': '+15:00': UTC offset of 900 minutes is outside -14:00..=+14:00 (see --help)",
        ),
        (
            vec![
                "device",
                "add",
                "--device-id",
                "x",
                "--utc-offset",
                "+-01:30",
            ],
            "invalid value '+-01:30' for '--utc-offset <UTC_OFFSET>': '+-01:30': not a UTC offset like +01:00, -05:30, +0530 or Z (see --help)",
        ),
        (
            vec![
                "device",
                "add",
                "--device-id",
                "x",
                "--utc-offset",
                "++01:00",
            ],
            "invalid value '++01:00' for '--utc-offset <UTC_OFFSET>': '++01:00': not a UTC offset like +01:00, -05:30, +0530 or Z (see --help)",
        ),
        (
            vec!["device", "add", "--device-id", "x"],
            "the following required arguments were not provided: <--utc-offset <UTC_OFFSET>|--time-zone <TIME_ZONE>> (see --help)",
        ),
        (
            vec!["frobnicate"],
            "unrecognized subcommand 'frobnicate' (see --help)",
        ),
    ] {
        fails(&env, &args, 2, line);
    }
}

#[test]
fn bad_requests_are_one_clear_line() {
    let env = Env::new();
    for (args, line) in [
        (
            vec!["issue", "--device-id", "back-door", "--ongoing"],
            "unknown device 'back-door' (register it with `offpin device add`)".to_owned(),
        ),
        (
            vec![
                "issue",
                "--device-id",
                DEVICE,
                "--starts-at",
                "2040-01-02T16:00:00Z",
                "--ends-at",
                "2040-01-01T16:00:00Z",
            ],
            "ends_at must be after starts_at".to_owned(),
        ),
        (
            vec![
                "issue",
                "--device-id",
                DEVICE,
                "--starts-at",
                "2040-01-01T00:00:00Z",
                "--ends-at",
                "2041-06-01T00:00:00Z",
            ],
            "the window lasts 12408 h but the profile encodes at most 8784 h".to_owned(),
        ),
        (
            vec![
                "device",
                "add",
                "--device-id",
                "x",
                "--profile",
                "huge-99",
                "--utc-offset",
                "Z",
            ],
            "unknown profile 'huge-99' (shipped: standard-10, compact-8, secure-12, keypad9-11, standard-10-v2)"
                .to_owned(),
        ),
        (
            vec![
                "device",
                "add",
                "--device-id",
                "x",
                "--time-zone",
                "Mars/Olympus",
            ],
            "unknown time zone 'Mars/Olympus' (an IANA name like Europe/Paris or America/New_York)"
                .to_owned(),
        ),
        (
            vec![
                "device",
                "add",
                "--device-id",
                DEVICE,
                "--profile",
                "compact-8",
                "--utc-offset",
                "+01:00",
            ],
            "device 'front-door' is already registered with other settings (change its offset, time zone or generation with `offpin device update`)".to_owned(),
        ),
        (
            vec!["delete", "--access-code-id", "nope"],
            "access code 'nope' not found".to_owned(),
        ),
        (
            vec!["inspect", "--device-id", DEVICE, "--pin", "12ab"],
            "--pin: a PIN has 10 digits, 4 were entered".to_owned(),
        ),
        (
            vec!["report", "--profile", "nope"],
            "unknown profile 'nope' (shipped: standard-10, compact-8, secure-12, keypad9-11, standard-10-v2)"
                .to_owned(),
        ),
    ] {
        fails(&env, &args, 1, &line);
    }
}

#[test]
fn errors_are_one_json_object_with_json() {
    let env = Env::new();
    let out = env.run(&["--json", "issue", "--device-id", "back-door", "--ongoing"]);
    let line = one_error_line(&out, 1);
    let v: Value = serde_json::from_str(&line).unwrap();
    let keys: Vec<&String> = v.as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        [
            "created_at",
            "error_code",
            "is_access_code_error",
            "message"
        ]
    );
    assert_eq!(v["error_code"], "unknown_device");
    assert_eq!(
        v["message"],
        "unknown device 'back-door' (register it with `offpin device add`)"
    );
    assert!(s(&v["created_at"]).ends_with('Z'));
    // Usage errors too.
    let out = env.run(&["--json", "frobnicate"]);
    let v: Value = serde_json::from_str(&one_error_line(&out, 2)).unwrap();
    assert_eq!(v["error_code"], "invalid_usage");
    // The igloohome error keeps its code.
    for _ in 0..3 {
        env.time_bound("2040-06-01T10:00:00Z", "2040-06-01T14:00:00Z");
    }
    let out = env.run(&[
        "--json",
        "issue",
        "--device-id",
        DEVICE,
        "--starts-at",
        "2040-06-01T10:00:00Z",
        "--ends-at",
        "2040-06-01T14:00:00Z",
    ]);
    let v: Value = serde_json::from_str(&one_error_line(&out, 1)).unwrap();
    assert_eq!(
        v["error_code"],
        "igloohome_offline_access_code_no_variance_available"
    );
    assert_eq!(v["is_access_code_error"], true);
}
