//! `offpin group` and `offpin issue --group`: one PIN for several locks.

use serde_json::Value;

use crate::util::env::{DEVICE, Env, fails};
use crate::util::{master_key, opens};

/// `offpin group` and `offpin issue --group`: one PIN printed with the
/// members it opens and its common_code_key, opening each member's lock
/// (its device key and the group key `group key` prints); refusals are one
/// line on stderr, nothing on stdout; removing a member re-keys the group.
#[test]
fn groups_share_one_pin_and_removal_rekeys() {
    let env = Env::new();
    env.ok(&[
        "device",
        "add",
        "--device-id",
        "back-door",
        "--utc-offset",
        "+01:00",
    ]);
    env.ok(&[
        "device",
        "add",
        "--device-id",
        "shed",
        "--utc-offset",
        "+01:00",
    ]);
    let g = env.json(&[
        "group",
        "create",
        "--group-id",
        "house",
        "--profile",
        "standard-10",
    ]);
    assert_eq!(g["generation"], 0);
    env.ok(&["group", "create", "--group-id", "empty"]);
    for d in [DEVICE, "back-door"] {
        env.ok(&["group", "add", "--group-id", "house", "--device-id", d]);
    }
    fails(
        &env,
        &["group", "add", "--group-id", "empty", "--device-id", DEVICE],
        1,
        "device 'front-door' is a member of group 'house': a device is in at most one group (its lock holds one group key); remove it from that group first",
    );
    fails(
        &env,
        &["issue", "--group", "empty", "--ongoing"],
        1,
        "group 'empty' has no member (offpin group add)",
    );
    fails(
        &env,
        &["issue", "--group", "nowhere", "--ongoing"],
        1,
        "unknown group 'nowhere'",
    );
    let master = master_key(&env.path("offpin.key"));
    let hex = |k: &offpin::DeviceKey| hex::encode(k.expose_secret());
    let group0 = master.derive_group_key(b"house", 0).unwrap();
    assert_eq!(
        env.ok(&["group", "key", "--group-id", "house"]),
        format!("{}\n", hex(&group0))
    );
    let out = env.json(&[
        "issue",
        "--group",
        "house",
        "--starts-at",
        "2030-07-01T15:00:00+01:00",
        "--ends-at",
        "2030-07-02T11:00:00+01:00",
        "--name",
        "guests",
    ]);
    assert_eq!(out["opens"], serde_json::json!(["back-door", "front-door"]));
    let pin = out["code"].as_str().unwrap();
    let key = out["common_code_key"].as_str().unwrap();
    assert!(!key.is_empty());
    for (record, d) in out["access_codes"]
        .as_array()
        .unwrap()
        .iter()
        .zip(["back-door", DEVICE])
    {
        assert_eq!(
            (record["code"].as_str(), record["device_id"].as_str()),
            (Some(pin), Some(d))
        );
        assert_eq!(record["common_code_key"], key);
        let own = master.derive_device_key(d.as_bytes(), 0).unwrap();
        assert!(
            opens(&own, &group0, pin, "2030-07-01T16:00:00+01:00"),
            "{d}"
        );
    }
    // Removing a member re-keys the group; stderr says what the locks need.
    let removed = env.run(&[
        "group",
        "remove",
        "--group-id",
        "house",
        "--device-id",
        "back-door",
    ]);
    assert!(removed.status.success());
    let stderr = String::from_utf8_lossy(&removed.stderr);
    assert!(
        stderr.contains("re-keyed (generation 1)")
            && stderr.contains("still opens the 1 group code"),
        "{stderr}"
    );
    let after: Value = serde_json::from_slice(&removed.stdout).unwrap();
    assert_eq!(after["group"]["members"], serde_json::json!([DEVICE]));
    let group1 = master.derive_group_key(b"house", 1).unwrap();
    assert_eq!(
        env.ok(&["group", "key", "--group-id", "house"]),
        format!("{}\n", hex(&group1))
    );
    let listed = env.json(&["group", "list"]);
    assert_eq!(listed[1]["group_id"], "house");
    assert_eq!(listed[1]["generation"], 1);
}
