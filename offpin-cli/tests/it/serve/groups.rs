//! `offpin serve`'s `/access_codes/create_multiple` over real sockets, on
//! SQLite and (with `OFFPIN_TEST_POSTGRES`) PostgreSQL: one PIN for the
//! members of a group (set up with `offpin group`), tried on real locks
//! (`Lock<8, 2>` holding each member's device key and the group key).

use offpin::{Codec, DeviceKey};
use serde_json::{Value, json};

use crate::util::http::{Answer, agent, codes_of, delete, get, post, send, window};
use crate::util::opens;
use crate::util::serve::{Fixture, Server};

const P: offpin::Profile = offpin::profile::shipped::STANDARD_10;

/// `front-door` and `side-door` in group `house`; `garage` in none (all
/// standard-10, Europe/Paris at +01:00).
fn with_group(fx: &Fixture) {
    for d in ["side-door", "garage"] {
        fx.add_paris_device(d);
    }
    fx.run(&[
        "group",
        "create",
        "--group-id",
        "house",
        "--profile",
        "standard-10",
    ]);
    for d in ["front-door", "side-door"] {
        fx.run(&["group", "add", "--group-id", "house", "--device-id", d]);
    }
}

fn put(a: &ureq::Agent, server: &Server, key: &str, body: &Value) -> Answer {
    send(
        a,
        "PUT",
        &server.url("/access_codes/create_multiple"),
        Some(key),
        Some(body.to_string().as_bytes()),
    )
    .unwrap()
}

fn group_key(fx: &Fixture, generation: u32) -> DeviceKey {
    let hex = fx.run(&["group", "key", "--group-id", "house"]);
    let expected = fx
        .master_key("master.key")
        .derive_group_key(b"house", generation)
        .unwrap();
    let printed = hex::decode(hex.trim()).unwrap();
    assert_eq!(printed, expected.expose_secret(), "group key printed");
    expected
}

fn own_key(fx: &Fixture, device: &str) -> DeviceKey {
    fx.master_key("master.key")
        .derive_device_key(device.as_bytes(), 0)
        .unwrap()
}

/// PUT (current SDKs) and POST (older ones): one PIN, the same on each
/// member, opening each member's lock; one record per member; a variance
/// taken on one member is skipped on all; deleting one member's record
/// leaves the other.
fn shares_one_pin(fx: &Fixture) {
    with_group(fx);
    let server = fx.start(&[]);
    let a = agent();
    let (start, end) = window(20, 46);
    let inside = window(20, 1).1;
    // front-door holds variance 0 of the window already.
    let own = post(
        &a,
        &server,
        &fx.key,
        "/access_codes/create",
        &json!({"device_id": "front-door", "starts_at": start, "ends_at": end}),
    );
    assert_eq!(own.status, 200, "{own:?}");
    let body = json!({"device_ids": ["front-door", "side-door"], "name": "guests",
                      "starts_at": start, "ends_at": end, "preferred_code_length": 10,
                      "behavior_when_code_cannot_be_shared": "throw"});
    let group = group_key(fx, 0);
    for (method, answer) in [
        ("PUT", put(&a, &server, &fx.key, &body)),
        (
            "POST",
            post(&a, &server, &fx.key, "/access_codes/create_multiple", &body),
        ),
    ] {
        assert_eq!(
            (answer.status, &answer.body["ok"]),
            (200, &json!(true)),
            "{method}: {answer:?}"
        );
        let codes = answer.body["access_codes"].as_array().unwrap();
        assert_eq!(codes.len(), 2);
        let pin = codes[0]["code"].as_str().unwrap();
        let key = codes[0]["common_code_key"].as_str().unwrap();
        assert_ne!(codes[0]["access_code_id"], codes[1]["access_code_id"]);
        for (c, d) in codes.iter().zip(["front-door", "side-door"]) {
            assert_eq!(c["device_id"], d);
            assert_eq!(c["code"], pin);
            assert_eq!(c["common_code_key"], key);
            assert_eq!(c["name"], "guests");
            assert!(opens(&own_key(fx, d), &group, pin, &inside), "{method} {d}");
        }
        // Not the lock outside the group.
        assert!(!opens(
            &own_key(fx, "garage"),
            &group_key_of(fx, "other"),
            pin,
            &inside
        ));
    }
    // The first shared code took variance 1 (front-door held 0), on both.
    let first = &codes_of(&a, &server, &fx.key, "side-door")[0];
    let decoded = Codec::new(&group, P)
        .unwrap()
        .decode_input(first["code"].as_str().unwrap().as_bytes())
        .unwrap();
    let offpin::Grant::Hourly(span) = decoded else {
        panic!("{decoded:?}")
    };
    assert_eq!(span.variance, 1);
    // A member shows the figures of a lock with two keys.
    let device = |d: &str| {
        get(&a, &server, &fx.key, &format!("/devices/get?device_id={d}")).body["device"].clone()
    };
    let (member, loner) = (device("front-door"), device("garage"));
    assert_eq!(member["group_id"], "house");
    assert_eq!(member["security"]["keys"], 2);
    assert_eq!(loner["security"]["keys"], 1);
    assert_eq!(
        member["security"]["w_max"].as_u64().unwrap(),
        2 * loner["security"]["w_max"].as_u64().unwrap()
    );
    // Deleting each member's record is per device: the other stays.
    let front = codes_of(&a, &server, &fx.key, "front-door");
    let side = codes_of(&a, &server, &fx.key, "side-door");
    let shared: Vec<&Value> = front
        .iter()
        .chain(&side)
        .filter(|c| c["common_code_key"] == side[0]["common_code_key"])
        .collect();
    assert_eq!(shared.len(), 2);
    for (i, c) in shared.iter().enumerate() {
        let id = c["access_code_id"].as_str().unwrap();
        let del = delete(
            &a,
            &server,
            &fx.key,
            &format!("/access_codes/delete?access_code_id={id}"),
        );
        assert_eq!(del.status, 200, "{del:?}");
        for (j, other) in shared.iter().enumerate() {
            let id = other["access_code_id"].as_str().unwrap();
            let got = get(
                &a,
                &server,
                &fx.key,
                &format!("/access_codes/get?access_code_id={id}"),
            );
            let warned = got.body["access_code"]["warnings"]
                .as_array()
                .unwrap()
                .iter()
                .any(|w| w["warning_code"].as_str().unwrap().contains("deleted"));
            assert_eq!(warned, j <= i, "record {j} after deleting {i}");
        }
    }
    assert!(!server.log_text().contains("status=5"), "no 5xx");
}

fn group_key_of(fx: &Fixture, id: &str) -> DeviceKey {
    fx.master_key("master.key")
        .derive_group_key(id.as_bytes(), 0)
        .unwrap()
}

#[test]
fn create_multiple_shares_one_pin_on_sqlite_and_postgres() {
    for fx in [Some(Fixture::sqlite()), Fixture::postgres()]
        .iter()
        .flatten()
    {
        shares_one_pin(fx);
    }
}

/// `throw` refuses and stores nothing (no common group; no variance free
/// on every member); `create_random_code` gives each device its own code.
#[test]
fn codes_that_cannot_be_shared() {
    let fx = Fixture::sqlite();
    with_group(&fx);
    let server = fx.start(&[]);
    let a = agent();
    let (start, end) = window(30, 5);
    let count = |d: &str| codes_of(&a, &server, &fx.key, d).len();
    let body = json!({"device_ids": ["front-door", "garage"], "starts_at": start, "ends_at": end});
    let refused = put(&a, &server, &fx.key, &body);
    assert_eq!(
        (refused.status, refused.error_type()),
        (400, "invalid_input"),
        "{refused:?}"
    );
    let message = refused.body["error"]["message"].as_str().unwrap();
    assert!(message.contains("'garage' is in no group"), "{message}");
    assert!(refused.body["error"]["validation_errors"]["device_ids"].is_object());
    assert_eq!(count("front-door") + count("garage"), 0, "nothing stored");
    let mut random = body.clone();
    random["behavior_when_code_cannot_be_shared"] = json!("create_random_code");
    let each = put(&a, &server, &fx.key, &random);
    assert_eq!(each.status, 200, "{each:?}");
    let codes = each.body["access_codes"].as_array().unwrap();
    assert_eq!(codes.len(), 2);
    assert_ne!(codes[0]["code"], codes[1]["code"]);
    for c in codes {
        assert!(c["common_code_key"].is_null());
        let warnings: Vec<&str> = c["warnings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|w| w["warning_code"].as_str().unwrap())
            .collect();
        assert!(warnings.contains(&"offpin_code_not_shared"), "{warnings:?}");
    }
    // A subset of the group: refused.
    let subset = put(
        &a,
        &server,
        &fx.key,
        &json!({"device_ids": ["front-door"], "starts_at": start, "ends_at": end}),
    );
    assert_eq!(subset.status, 400, "{subset:?}");
    assert!(
        subset.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("'side-door'")
    );
    // side-door has no variance left: throw names it, stores nothing.
    for _ in 0..3 {
        let r = post(
            &a,
            &server,
            &fx.key,
            "/access_codes/create",
            &json!({"device_id": "side-door", "starts_at": start, "ends_at": end}),
        );
        assert_eq!(r.status, 200);
    }
    let before = count("front-door") + count("side-door");
    let full = put(
        &a,
        &server,
        &fx.key,
        &json!({"device_ids": ["front-door", "side-door"], "starts_at": start, "ends_at": end}),
    );
    assert_eq!(full.status, 409, "{full:?}");
    assert_eq!(
        full.error_type(),
        "igloohome_offline_access_code_no_variance_available"
    );
    let message = full.body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("'side-door' has taken [0, 1, 2] (none free)"),
        "{message}"
    );
    // Its data: the group, what each member took, and a window free on
    // every member.
    let data = &full.body["error"]["data"];
    assert_eq!(data["device_ids"], json!(["front-door", "side-door"]));
    assert_eq!(data["taken"]["side-door"], json!([0, 1, 2]));
    let taken: usize = ["front-door", "side-door"]
        .iter()
        .map(|d| data["taken"][d].as_array().unwrap().len())
        .sum();
    assert_eq!(data["held_by"].as_array().unwrap().len(), taken);
    assert!(data["group_id"].is_string(), "{data}");
    assert!(data["proposed_starts_at"].is_string(), "{data}");
    assert!(data["next_free_at"].is_string(), "{data}");
    assert_eq!(
        count("front-door") + count("side-door"),
        before,
        "nothing stored"
    );
    // Unknown fields and an empty list are refused.
    let bad = put(
        &a,
        &server,
        &fx.key,
        &json!({"device_ids": [], "starts_at": start, "ends_at": end}),
    );
    assert_eq!((bad.status, bad.error_type()), (400, "invalid_input"));
    let bad = put(
        &a,
        &server,
        &fx.key,
        &json!({"device_ids": ["front-door", "side-door"], "common_code_key": "x"}),
    );
    assert_eq!(bad.status, 400);
    assert!(!server.log_text().contains("status=5"), "no 5xx");
}

/// `offpin group remove` re-keys: a code shared after it does not open the
/// removed lock, which still holds the old group key, and opens the
/// member given the new one; the CLI's `issue --group` prints one PIN and
/// the members it opens.
#[test]
fn removing_a_member_rekeys_the_group() {
    let fx = Fixture::sqlite();
    with_group(&fx);
    let (start, end) = window(40, 3);
    let inside = window(40, 1).1;
    let issued: Value = serde_json::from_str(&fx.run(&[
        "issue",
        "--group",
        "house",
        "--starts-at",
        &start,
        "--ends-at",
        &end,
    ]))
    .unwrap();
    assert_eq!(issued["opens"], json!(["front-door", "side-door"]));
    assert_eq!(issued["group_generation"], 0);
    let old_pin = issued["code"].as_str().unwrap().to_owned();
    let old_key = group_key(&fx, 0);
    for d in ["front-door", "side-door"] {
        assert!(opens(&own_key(&fx, d), &old_key, &old_pin, &inside), "{d}");
    }
    fx.run(&[
        "group",
        "remove",
        "--group-id",
        "house",
        "--device-id",
        "side-door",
    ]);
    let new_key = group_key(&fx, 1);
    let server = fx.start(&[]);
    let a = agent();
    let after = put(
        &a,
        &server,
        &fx.key,
        &json!({"device_ids": ["front-door"], "starts_at": start, "ends_at": end}),
    );
    assert_eq!(after.status, 200, "{after:?}");
    let new_pin = after.body["access_codes"][0]["code"].as_str().unwrap();
    assert!(opens(
        &own_key(&fx, "front-door"),
        &new_key,
        new_pin,
        &inside
    ));
    assert!(
        !opens(&own_key(&fx, "side-door"), &old_key, new_pin, &inside),
        "removed lock"
    );
    assert!(
        opens(&own_key(&fx, "side-door"), &old_key, &old_pin, &inside),
        "until re-provisioned"
    );
    let side = codes_of(&a, &server, &fx.key, "side-door");
    let warnings: Vec<&str> = side[0]["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["warning_code"].as_str().unwrap())
        .collect();
    assert!(
        warnings.contains(&"offpin_device_left_group"),
        "{warnings:?}"
    );
    let front = codes_of(&a, &server, &fx.key, "front-door");
    let warnings: Vec<&str> = front[0]["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["warning_code"].as_str().unwrap())
        .collect();
    assert!(warnings.contains(&"offpin_group_rekeyed"), "{warnings:?}");
    let device: Value = get(&a, &server, &fx.key, "/devices/get?device_id=side-door").body;
    assert_eq!(device["device"]["security"]["keys"], 1);
}
