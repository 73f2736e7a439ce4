//! `offpin list`, `get` and `delete`: filters, records computed when read,
//! deleted codes and what the lock still does with them.

use serde_json::Value;

use crate::util::env::{DEVICE, Env, fails, id, s};

#[test]
fn list_filters_by_device_ids_and_user_in_issue_order() {
    let env = Env::new();
    let a = env.issue(&[
        "--starts-at",
        "2040-01-01T16:00:00Z",
        "--ends-at",
        "2040-01-01T18:00:00Z",
        "--user-identifier-key",
        "user-1",
    ]);
    let b = env.ongoing();
    let c = env.time_bound("2040-01-02T16:00:00Z", "2040-01-02T18:00:00Z");
    let ids: Vec<String> = env.list().iter().map(|r| id(r).to_owned()).collect();
    assert_eq!(ids, [id(&a), id(&b), id(&c)]);
    let by_user = env.json(&[
        "list",
        "--device-id",
        DEVICE,
        "--user-identifier-key",
        "user-1",
    ]);
    assert_eq!(by_user, Value::Array(vec![a.clone()]));
    let two = format!("{},{}", id(&c), id(&a));
    let by_ids = env.json(&["list", "--access-code-id", &two]);
    let got: Vec<&str> = by_ids.as_array().unwrap().iter().map(id).collect();
    assert_eq!(got, [id(&a), id(&c)]);
    fails(
        &env,
        &["list"],
        1,
        "list needs at least a device_id or access_code_ids",
    );
    fails(
        &env,
        &["list", "--user-identifier-key", "u"],
        1,
        "list needs at least a device_id or access_code_ids",
    );
}

#[test]
fn get_shows_one_record() {
    let env = Env::new();
    let a = env.time_bound("2040-01-01T16:00:00Z", "2040-01-01T18:00:00Z");
    assert_eq!(env.json(&["get", "--access-code-id", id(&a)]), a);
    fails(
        &env,
        &[
            "get",
            "--access-code-id",
            "00000000-0000-0000-0000-000000000000",
        ],
        1,
        "access code '00000000-0000-0000-0000-000000000000' not found",
    );
}

#[test]
fn records_are_computed_when_read() {
    let env = Env::new();
    let a = env.time_bound("2040-01-01T16:00:00Z", "2040-01-03T18:00:00Z");
    let at = |t: &str| env.json(&["get", "--access-code-id", id(&a), "--at", t]);
    let past_deadline = at("2040-01-02T17:00:00Z");
    assert_eq!(past_deadline["status"], "set");
    assert_eq!(
        s(&past_deadline["warnings"][0]["message"]),
        "Its activation deadline 2040-01-02T16:00:00.000Z has passed: the lock keeps opening for it until 2040-01-03T18:00:00.000Z only if it was first used by then, which the server cannot know."
    );
    let expired = at("2040-01-03T18:10:00Z");
    assert_eq!(expired["status"], "unset");
    assert_eq!(
        s(&expired["warnings"][0]["message"]),
        "The window ended at 2040-01-03T18:00:00.000Z (plus the lock's 10-minute clock grace): the lock no longer opens for this code."
    );
}

#[test]
fn a_deleted_time_bound_code_stays_listed_while_it_still_opens() {
    let env = Env::new();
    let tb = env.time_bound("2040-01-01T16:00:00Z", "2040-01-01T18:00:00Z");
    let d = env.json(&["delete", "--access-code-id", id(&tb)]);
    assert_eq!(d["deleted"], true);
    assert_eq!(d["revocation_code"], Value::Null);
    assert_eq!(
        d["note"],
        "an offline code cannot be recalled: the lock accepts it until its window ends"
    );
    let listed = env.list();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["status"], "removing");
    assert_eq!(
        listed[0]["warnings"][0]["warning_code"],
        "offpin_deleted_still_opens"
    );
    let msg = s(&listed[0]["warnings"][0]["message"]);
    assert!(
        msg.ends_with("but an offline code cannot be recalled: the lock keeps opening for it until 2040-01-01T18:00:00.000Z (plus the lock's 10-minute clock grace)."),
        "{msg}"
    );
    let after = env.json(&[
        "get",
        "--access-code-id",
        id(&tb),
        "--at",
        "2040-01-02T00:00:00Z",
    ]);
    assert_eq!(after["status"], "unset");
    assert_eq!(after["warnings"][0]["warning_code"], "offpin_deleted");
}

#[test]
fn a_deleted_ongoing_code_shows_its_revocation_pin_again() {
    let env = Env::new();
    let og = env.ongoing();
    let d = env.json(&["delete", "--access-code-id", id(&og)]);
    assert_eq!(d["revoked_slot"], 0);
    let revoke = s(&d["revocation_code"]).to_owned();
    assert_eq!(revoke.len(), 10);
    let got = env.json(&["get", "--access-code-id", id(&og)]);
    assert_eq!(got["status"], "removing");
    let msg = s(&got["warnings"][0]["message"]);
    assert!(
        msg.ends_with(&format!("the lock keeps opening for it until the revocation is typed at the lock: type its revocation PIN {revoke} at the lock to stop it for good.")),
        "{msg}"
    );
    // Deleting again gives the same PIN; the slot is never reused.
    let again = env.json(&["delete", "--access-code-id", id(&og)]);
    assert_eq!(again["revocation_code"], d["revocation_code"]);
    assert_ne!(env.ongoing()["code"], og["code"]);
}
