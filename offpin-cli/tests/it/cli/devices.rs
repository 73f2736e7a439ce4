//! `offpin device update` and `remove`: a new key generation, a new UTC
//! offset, a removed device's codes and history.

use serde_json::Value;

use crate::util::env::{DEVICE, Env, fails, id, one_error_line, s};

#[test]
fn a_new_key_generation_lists_the_codes_that_stop_opening() {
    let env = Env::new();
    let a = env.time_bound("2040-01-01T16:00:00Z", "2040-01-01T18:00:00Z");
    let o = env.ongoing();
    let u = env.json(&[
        "device",
        "update",
        "--device-id",
        DEVICE,
        "--generation",
        "1",
    ]);
    assert_eq!(u["before"]["generation"], 0);
    assert_eq!(u["device"]["generation"], 1);
    let affected: Vec<(&str, &str, &str)> = u["affected"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| (id(x), s(&x["consequence"]), s(&x["message"])))
        .collect();
    let msg = "stops opening once the lock holds the key of generation 1";
    assert_eq!(
        affected,
        [
            (id(&a), "stops_opening", msg),
            (id(&o), "stops_opening", msg)
        ]
    );
    let old = env.json(&["get", "--access-code-id", id(&a)]);
    assert_eq!(old["status"], "unset");
    assert_eq!(
        old["errors"][0]["error_code"],
        "offpin_key_generation_changed"
    );
    fails(
        &env,
        &[
            "device",
            "update",
            "--device-id",
            DEVICE,
            "--generation",
            "0",
        ],
        1,
        "device 'front-door' is at key generation 1; a new generation must be higher (got 0): going back would make the codes of that generation open again",
    );
}

#[test]
fn a_new_utc_offset_moves_the_daily_windows() {
    let env = Env::new();
    let daily = env.issue(&[
        "--starts-at",
        "2040-02-01T00:00:00+01:00",
        "--ends-at",
        "2040-03-15T00:00:00+01:00",
        "--max-time-rounding",
        "1d",
    ]);
    env.time_bound("2040-01-01T16:00:00Z", "2040-01-01T18:00:00Z");
    let u = env.json(&[
        "device",
        "update",
        "--device-id",
        DEVICE,
        "--utc-offset",
        "+02:00",
    ]);
    assert_eq!(u["affected"].as_array().unwrap().len(), 1);
    assert_eq!(u["affected"][0]["access_code_id"], daily["access_code_id"]);
    assert_eq!(
        u["affected"][0]["message"],
        "the lock honours 2040-01-31T22:00:00.000Z .. 2040-03-14T22:00:00.000Z instead of 2040-01-31T23:00:00.000Z .. 2040-03-14T23:00:00.000Z"
    );
    let now = env.json(&["get", "--access-code-id", id(&daily)]);
    assert_eq!(now["starts_at"], "2040-01-31T22:00:00.000Z");
    assert_eq!(now["warnings"][1]["warning_code"], "offpin_window_moved");
}

#[test]
fn a_removed_device_keeps_its_codes_and_its_history() {
    let env = Env::new();
    let a = env.time_bound("2040-01-01T16:00:00Z", "2040-01-01T18:00:00Z");
    let r = env.json(&["device", "remove", "--device-id", DEVICE]);
    assert_eq!(r["removed"], true);
    assert_eq!(r["still_opens"][0]["access_code_id"], a["access_code_id"]);
    assert_eq!(env.json(&["device", "list"]), Value::Array(vec![]));
    let out = env.run(&["issue", "--device-id", DEVICE, "--ongoing"]);
    let line = one_error_line(&out, 1);
    assert!(
        line.starts_with("error: device 'front-door' was removed at "),
        "{line}"
    );
    assert!(
        line.ends_with(" (add it again with `offpin device add`)"),
        "{line}"
    );
    assert_eq!(env.list()[0]["errors"][0]["error_code"], "device_removed");
    // Added again, it never hands out the same PIN.
    env.ok(&[
        "device",
        "add",
        "--device-id",
        DEVICE,
        "--utc-offset",
        "+01:00",
    ]);
    let b = env.time_bound("2040-01-01T16:00:00Z", "2040-01-01T18:00:00Z");
    assert_ne!(a["code"], b["code"]);
}
