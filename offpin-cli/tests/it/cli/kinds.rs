//! `offpin issue` of the format-v2 kinds: weekly recurring codes
//! (`--weekdays`, `--hours`) and clock-setting codes (`--sets-clock-to`),
//! their records in `list` and `get`, the lock's verdicts at a slot's
//! edges (`verify`), the refusals; `api-key create` with capabilities.

use serde_json::{Value, json};

use crate::util::env::{Env, field, id, one_error_line, s};

/// The format-v2 device, at UTC.
const V2: &str = "v2";

fn env() -> Env {
    let env = Env::new();
    env.ok(&[
        "device",
        "add",
        "--device-id",
        V2,
        "--profile",
        "standard-10-v2",
        "--utc-offset",
        "+00:00",
    ]);
    env
}

fn issue(env: &Env, extra: &[&str]) -> Value {
    let mut args = vec!["issue", "--device-id", V2];
    args.extend_from_slice(extra);
    env.json(&args)
}

/// `verify`'s decision for `pin` on `v2` at `at` (times in increasing
/// order: the lock's state file keeps its clock); exit 0 opens, 3 refuses.
fn decision(env: &Env, pin: &str, at: &str) -> String {
    let out = env.run(&["verify", "--device-id", V2, "--pin", pin, "--at", at]);
    let text = String::from_utf8(out.stdout).unwrap();
    let d = field(&text, "decision").to_owned();
    assert_eq!(
        out.status.code(),
        Some(if d == "refused" { 3 } else { 0 }),
        "{text}"
    );
    format!("{d} / {}", field(&text, "reason"))
}

// 2040-01-02 is a Monday.
const OFFICE: [&str; 8] = [
    "--weekdays",
    "monday,tue,wednesday,thu,friday",
    "--hours",
    "09:00-17:00",
    "--starts-at",
    "2040-01-02T09:00:00Z",
    "--ends-at",
    "2040-01-06T17:00:00Z",
];

#[test]
fn a_recurring_code_is_issued_listed_and_opens_in_its_slots() {
    let env = env();
    let mut args = OFFICE.to_vec();
    args.extend(["--max-time-rounding", "0", "--name", "cleaner"]);
    let r = issue(&env, &args);
    assert_eq!(
        r["offpin_recurrence"],
        json!({
            "weekdays": ["monday", "tuesday", "wednesday", "thursday", "friday"],
            "starts_at_time": "09:00",
            "ends_at_time": "17:00",
            "weeks": 1
        })
    );
    assert_eq!(r["starts_at"], "2040-01-02T00:00:00.000Z");
    assert_eq!(r["ends_at"], "2040-01-09T00:00:00.000Z");
    let listed = env.json(&["list", "--device-id", V2]);
    assert_eq!(listed.as_array().map(Vec::len), Some(1));
    for key in [
        "access_code_id",
        "code",
        "offpin_recurrence",
        "starts_at",
        "ends_at",
    ] {
        assert_eq!(listed[0][key], r[key], "{key}");
    }
    let got = env.json(&["get", "--access-code-id", id(&r)]);
    assert_eq!(got["offpin_recurrence"], r["offpin_recurrence"]);
    let pin = s(&r["code"]);
    // The lock's grace is 10 minutes.
    for (at, want) in [
        ("2040-01-02T08:49:59Z", "refused / "),
        ("2040-01-02T08:50:00Z", "open / "),
        ("2040-01-02T17:09:59Z", "open / "),
        ("2040-01-02T17:10:00Z", "refused / "),
        ("2040-01-06T12:00:00Z", "open / "),
        ("2040-01-07T12:00:00Z", "refused / "),
        ("2040-01-09T12:00:00Z", "refused / "),
    ] {
        let d = decision(&env, pin, at);
        assert!(d.starts_with(want), "{at}: {d}");
    }
}

#[test]
fn recurrences_that_would_open_longer_or_the_profile_lacks_are_refused() {
    let env = env();
    let refused = |extra: &[&str], says: &str| {
        let mut args = vec!["issue", "--device-id", V2];
        args.extend_from_slice(extra);
        let line = one_error_line(&env.run(&args), 1);
        assert!(line.contains(says), "{extra:?}: {line}");
    };
    let mut from_wednesday = OFFICE.to_vec();
    from_wednesday[5] = "2040-01-04T09:00:00Z";
    refused(&from_wednesday, "before it");
    let mut mon_thu = OFFICE.to_vec();
    mon_thu[1] = "mon,tue,wed,thu";
    refused(
        &mon_thu,
        "the nearest schedule it can is Mon-Fri 09:00-17:00",
    );
    let mut half_hour = OFFICE.to_vec();
    half_hour[3] = "09:30-17:00";
    refused(&half_hour, "whole hours");
    // On a format-1 profile.
    let mut args = vec!["issue", "--device-id", "front-door"];
    args.extend_from_slice(&OFFICE);
    let line = one_error_line(&env.run(&args), 1);
    assert!(line.contains("recurring"), "{line}");
    assert_eq!(env.json(&["list", "--device-id", V2]), json!([]));
}

#[test]
fn a_clock_setting_code_sets_the_lock_clock_within_its_step() {
    let env = env();
    let r = issue(&env, &["--sets-clock-to", "2040-01-02T10:00:00Z"]);
    assert_eq!(
        r["offpin_clock_setting"],
        json!({ "sets_clock_to": "2040-01-02T10:00:00.000Z" })
    );
    assert_eq!(r["starts_at"], "2039-12-26T10:00:00.000Z");
    assert_eq!(r["ends_at"], "2040-01-02T10:00:00.000Z");
    let pin = s(&r["code"]);
    let d = decision(&env, pin, "2039-12-26T09:59:59Z");
    assert!(d.starts_with("refused"), "{d}");
    let d = decision(&env, pin, "2039-12-30T00:00:00Z");
    assert!(!d.starts_with("refused"), "{d}");
    // Off the profile's 10-minute grid without rounding; with a window.
    let line = one_error_line(
        &env.run(&[
            "issue",
            "--device-id",
            V2,
            "--sets-clock-to",
            "2040-01-02T10:05:00Z",
            "--max-time-rounding",
            "0",
        ]),
        1,
    );
    assert!(line.contains("rounding"), "{line}");
    let out = env.run(&[
        "issue",
        "--device-id",
        V2,
        "--sets-clock-to",
        "2040-01-02T10:00:00Z",
        "--starts-at",
        "2040-01-02T10:00:00Z",
    ]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
}

#[test]
fn api_keys_are_created_with_the_capabilities_asked_for() {
    let env = env();
    let out = env.ok(&[
        "api-key",
        "create",
        "--name",
        "ops",
        "--can-read-service-secrets",
        "--can-issue-clock-codes",
    ]);
    assert!(
        out.contains("may read_service_secrets, issue_clock_codes"),
        "{out}"
    );
    env.ok(&["api-key", "create", "--name", "plain"]);
    let listed = env.json(&["api-key", "list"]);
    assert_eq!(
        listed[0]["capabilities"],
        json!(["read_service_secrets", "issue_clock_codes"])
    );
    assert_eq!(listed[1]["capabilities"], json!([]));
}
