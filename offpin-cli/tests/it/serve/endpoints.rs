//! The endpoints in the encodings the SDKs use (JSON bodies, query
//! strings, GET with a body, PUT, PATCH, DELETE), the records computed at
//! read time, spent capacity, and the methods each route answers.

use serde_json::{Value, json};

use crate::util::http::{agent, at_rest, codes_of, delete, get, post, send, window};
use crate::util::serve::Fixture;

#[test]
fn the_three_kinds_in_the_sdks_encodings() {
    let fx = Fixture::sqlite();
    let server = fx.start(&[]);
    let a = agent();
    let (start, end) = window(20, 46);
    let stay = post(
        &a,
        &server,
        &fx.key,
        "/access_codes/create",
        &json!({"device_id": "front-door", "name": "Ann", "starts_at": start, "ends_at": end,
                "is_offline_access_code": true, "max_time_rounding": "1hour",
                "preferred_code_length": 10, "user_identifier_key": "guest-1"}),
    );
    assert_eq!(stay.status, 200, "{stay:?}");
    let stay = &stay.body["access_code"];
    assert_eq!(stay["type"], "time_bound");
    assert_eq!(stay["is_offline_access_code"], true);
    assert_eq!(stay["code"].as_str().unwrap().len(), 10);
    let once = post(
        &a,
        &server,
        &fx.key,
        "/access_codes/create",
        &json!({"device_id": "front-door", "starts_at": start, "is_one_time_use": true}),
    );
    assert_eq!(once.status, 200, "{once:?}");
    assert_eq!(once.body["access_code"]["is_one_time_use"], true);
    let ongoing = post(
        &a,
        &server,
        &fx.key,
        "/access_codes/create",
        &json!({"device_id": "front-door", "name": "cleaner"}),
    );
    assert_eq!(ongoing.body["access_code"]["type"], "ongoing");
    let ids: Vec<String> = [
        stay,
        &once.body["access_code"],
        &ongoing.body["access_code"],
    ]
    .iter()
    .map(|c| c["access_code_id"].as_str().unwrap().to_owned())
    .collect();

    // GET with query parameters as the SDKs serialise them: sorted,
    // repeated keys for arrays, `_strict=true`.
    let q = format!(
        "access_code_ids={}&access_code_ids={}&_strict=true",
        ids[2], ids[0]
    );
    let listed = get(&a, &server, &fx.key, &format!("/access_codes/list?{q}"));
    let got: Vec<&str> = listed.body["access_codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["access_code_id"].as_str().unwrap())
        .collect();
    assert_eq!(got, [ids[0].as_str(), ids[2].as_str()], "issue order");
    // GET with a JSON body, as the API's curl examples do.
    let by_body = send(
        &a,
        "GET",
        &server.url("/access_codes/list"),
        Some(&fx.key),
        Some(br#"{"device_id": "front-door", "user_identifier_key": "guest-1"}"#),
    )
    .unwrap();
    assert_eq!(by_body.body["access_codes"].as_array().unwrap().len(), 1);
    // get by id (GET query) and by device + PIN (POST).
    let got = get(
        &a,
        &server,
        &fx.key,
        &format!("/access_codes/get?access_code_id={}", ids[0]),
    );
    assert_eq!(at_rest(&got.body["access_code"]), at_rest(stay));
    let by_pin = post(
        &a,
        &server,
        &fx.key,
        "/access_codes/get",
        &json!({"device_id": "front-door", "code": stay["code"]}),
    );
    assert_eq!(at_rest(&by_pin.body["access_code"]), at_rest(stay));
    // update: PATCH renames; a window change is refused and changes nothing.
    let renamed = send(
        &a,
        "PATCH",
        &server.url("/access_codes/update"),
        Some(&fx.key),
        Some(
            json!({"access_code_id": ids[0], "name": "Ann Smith"})
                .to_string()
                .as_bytes(),
        ),
    )
    .unwrap();
    assert_eq!(renamed.body["access_code"]["name"], "Ann Smith");
    let moved = post(
        &a,
        &server,
        &fx.key,
        "/access_codes/update",
        &json!({"access_code_id": ids[0], "ends_at": window(25, 1).1}),
    );
    assert_eq!((moved.status, moved.error_type()), (400, "invalid_input"));
    let message = moved.body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("cannot be recalled") && message.contains("new code"),
        "{message}"
    );
    assert_eq!(
        codes_of(&a, &server, &fx.key, "front-door")[0]["name"],
        "Ann Smith"
    );
    // DELETE with a query string: an ongoing code's answer carries the
    // revocation PIN.
    let deleted = delete(
        &a,
        &server,
        &fx.key,
        &format!(
            "/access_codes/delete?access_code_id={}&_strict=true",
            ids[2]
        ),
    );
    assert_eq!(deleted.status, 200, "{deleted:?}");
    let revocation = deleted.body["revocation_code"].as_str().unwrap();
    assert_eq!(revocation.len(), 10);
    assert_ne!(
        revocation,
        ongoing.body["access_code"]["code"].as_str().unwrap()
    );
    // Devices: profile, offset, lengths, security figures.
    let dev = get(&a, &server, &fx.key, "/devices/get?device_id=front-door");
    let d = &dev.body["device"];
    assert_eq!(d["profile"], "standard-10");
    assert_eq!(d["utc_offset"], "+01:00");
    assert_eq!(d["supported_code_lengths"], json!([10]));
    assert_eq!(d["security"]["w_max"], 52_007);
    let all = get(&a, &server, &fx.key, "/devices/list");
    let names: Vec<&str> = all.body["devices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["device_id"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["back-door", "front-door"]);
    // The description is served and names every endpoint.
    let doc = get(&a, &server, &fx.key, "/openapi.json");
    for path in [
        "/access_codes/create",
        "/access_codes/create_multiple",
        "/access_codes/list",
        "/devices/get",
        "/health",
    ] {
        assert!(doc.body["paths"].get(path).is_some(), "{path}");
    }
}

/// The records the ledger computes at read time, as the service serves
/// them: dead-on-arrival windows refused with their deadline, deleted
/// codes listed as `removing` (a deleted ongoing code shows its
/// revocation PIN again), devices with their time zones, the
/// `user_identifier_key` filter, a removed device.
#[test]
fn the_service_serves_read_time_records() {
    let fx = Fixture::sqlite();
    let server = fx.start(&[]);
    let a = agent();
    let create = |body: Value| post(&a, &server, &fx.key, "/access_codes/create", &body);

    // Dead on arrival: a 3-day stay that started 2 days ago (its first use
    // was due a day ago), and a window that has ended.
    let (start, end) = (window(-2, 72).0, window(1, 0).0);
    let late = create(json!({"device_id": "front-door", "starts_at": start, "ends_at": end}));
    assert_eq!(
        (late.status, late.error_type()),
        (400, "invalid_input"),
        "{late:?}"
    );
    let message = late.body["error"]["message"].as_str().unwrap();
    assert!(message.contains("must be used by"), "{message}");
    assert!(
        late.body["error"]["validation_errors"]
            .get("starts_at")
            .is_some(),
        "{late:?}"
    );
    let (start, end) = window(-5, 3);
    let ended = create(json!({"device_id": "front-door", "starts_at": start, "ends_at": end}));
    assert_eq!(ended.status, 400, "{ended:?}");
    assert!(
        ended.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("the window ended at"),
        "{ended:?}"
    );
    assert!(codes_of(&a, &server, &fx.key, "front-door").is_empty());

    // Deleted codes stay listed: removing, with what the lock still does.
    let (start, end) = window(7, 30);
    let stay = create(
        json!({"device_id": "front-door", "starts_at": start, "ends_at": end,
                            "user_identifier_key": "guest-7"}),
    );
    let ongoing = create(json!({"device_id": "front-door", "user_identifier_key": "staff"}));
    let id = |r: &crate::util::http::Answer| {
        r.body["access_code"]["access_code_id"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let (stay_id, ongoing_id) = (id(&stay), id(&ongoing));
    for code in [&stay_id, &ongoing_id] {
        let d = post(
            &a,
            &server,
            &fx.key,
            "/access_codes/delete",
            &json!({"access_code_id": code}),
        );
        assert_eq!(d.status, 200, "{d:?}");
        assert_eq!(d.body["access_code"]["status"], "removing");
    }
    let listed = codes_of(&a, &server, &fx.key, "front-door");
    assert_eq!(listed.len(), 2);
    for r in &listed {
        assert_eq!(r["status"], "removing", "{r}");
        let warnings: Vec<&str> = r["warnings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|w| w["warning_code"].as_str().unwrap())
            .collect();
        assert!(
            warnings.contains(&"offpin_deleted_still_opens"),
            "{warnings:?}"
        );
    }
    let again = post(
        &a,
        &server,
        &fx.key,
        "/access_codes/delete",
        &json!({"access_code_id": ongoing_id}),
    );
    let revocation = again.body["revocation_code"].as_str().unwrap().to_owned();
    let got = post(
        &a,
        &server,
        &fx.key,
        "/access_codes/get",
        &json!({"access_code_id": ongoing_id}),
    );
    assert!(
        got.body["access_code"]["warnings"][0]["message"]
            .as_str()
            .unwrap()
            .contains(&revocation),
        "get shows the revocation PIN again: {got:?}"
    );

    // list by user_identifier_key (with a device), never alone.
    let by_user = post(
        &a,
        &server,
        &fx.key,
        "/access_codes/list",
        &json!({"device_id": "front-door", "user_identifier_key": "guest-7"}),
    );
    let ids: Vec<&str> = by_user.body["access_codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["access_code_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [stay_id.as_str()]);
    assert_eq!(
        by_user.body["access_codes"][0]["user_identifier_key"],
        "guest-7"
    );
    let alone = post(
        &a,
        &server,
        &fx.key,
        "/access_codes/list",
        &json!({"user_identifier_key": "guest-7"}),
    );
    assert_eq!((alone.status, alone.error_type()), (400, "invalid_input"));

    // Devices carry their IANA time zone.
    let devices = get(&a, &server, &fx.key, "/devices/list");
    let zones: Vec<(&str, &Value)> = devices.body["devices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (d["device_id"].as_str().unwrap(), &d["time_zone"]))
        .collect();
    assert_eq!(
        zones,
        [
            ("back-door", &Value::Null),
            ("front-door", &json!("Europe/Paris"))
        ]
    );
    let front = &devices.body["devices"][1];
    assert_eq!(front["location"]["time_zone"], "Europe/Paris", "{front}");
    assert_eq!(devices.body["devices"][0]["location"], Value::Null);

    // A device removed (by the operator, while the server runs): no
    // creates, no longer listed, its codes listed as unknown.
    let (start, end) = window(9, 2);
    let back = create(json!({"device_id": "back-door", "starts_at": start, "ends_at": end}));
    let back_id = id(&back);
    fx.run(&["device", "remove", "--device-id", "back-door"]);
    let refused = create(json!({"device_id": "back-door", "starts_at": start, "ends_at": end}));
    assert_eq!(
        (refused.status, refused.error_type()),
        (404, "device_removed"),
        "{refused:?}"
    );
    let gone = get(&a, &server, &fx.key, "/devices/get?device_id=back-door");
    assert_eq!(gone.status, 404, "{gone:?}");
    let devices = get(&a, &server, &fx.key, "/devices/list");
    assert_eq!(devices.body["devices"].as_array().unwrap().len(), 1);
    let orphan = post(
        &a,
        &server,
        &fx.key,
        "/access_codes/get",
        &json!({"access_code_id": back_id}),
    );
    assert_eq!(
        orphan.body["access_code"]["status"], "unknown",
        "{orphan:?}"
    );
    assert!(!server.log_text().contains("status=5"), "no 5xx");
}

#[test]
fn spent_variances_are_the_no_variance_error() {
    let fx = Fixture::sqlite();
    let server = fx.start(&[]);
    let a = agent();
    let (start, end) = window(10, 5);
    let body = json!({"device_id": "front-door", "starts_at": start, "ends_at": end});
    let answers: Vec<_> = (0..4)
        .map(|_| post(&a, &server, &fx.key, "/access_codes/create", &body))
        .collect();
    assert!(answers[..3].iter().all(|r| r.status == 200));
    assert_eq!(answers[3].status, 409);
    assert_eq!(
        answers[3].error_type(),
        "igloohome_offline_access_code_no_variance_available"
    );
    assert_eq!(codes_of(&a, &server, &fx.key, "front-door").len(), 3);
}

/// A spent window over HTTP: 409 with the error's `data` naming the
/// device, the kind, the window, its holders, `next_free_at` and the
/// proposed window, which a create then gets; spent ongoing slots name
/// theirs and never free. Refused requests store nothing.
#[test]
fn spent_capacity_answers_with_its_facts_and_a_proposal() {
    let fx = Fixture::sqlite();
    let server = fx.start(&[]);
    let a = agent();
    let (start, end) = window(12, 3);
    let millis = |t: &str, hours: i64| {
        let t: chrono::DateTime<chrono::Utc> = t.parse().unwrap();
        (t + chrono::TimeDelta::hours(hours)).to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
    };
    let body = json!({"device_id": "front-door", "starts_at": start, "ends_at": end});
    let held: Vec<Value> = (0..3)
        .map(|_| post(&a, &server, &fx.key, "/access_codes/create", &body))
        .map(|r| {
            assert_eq!(r.status, 200, "{r:?}");
            r.body["access_code"]["access_code_id"].clone()
        })
        .collect();
    let refused = post(&a, &server, &fx.key, "/access_codes/create", &body);
    assert_eq!(refused.status, 409, "{refused:?}");
    assert_eq!(
        refused.error_type(),
        "igloohome_offline_access_code_no_variance_available"
    );
    let data = &refused.body["error"]["data"];
    assert_eq!(data["device_id"], "front-door");
    assert_eq!(data["code_kind"], "time_bound");
    assert_eq!(data["window_kind"], "hourly");
    assert_eq!(data["starts_at"], millis(&start, 0).as_str());
    assert_eq!(data["ends_at"], millis(&end, 0).as_str());
    assert_eq!(data["held_by"], Value::Array(held));
    assert_eq!(data["next_free_at"], millis(&end, 0).as_str());
    let (ps, pe) = (millis(&start, 1), millis(&end, 1));
    assert_eq!(data["proposed_starts_at"], ps.as_str());
    assert_eq!(data["proposed_ends_at"], pe.as_str());
    let message = refused.body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains(&format!(
            "the nearest with one free is {ps} to {pe} (1 hour later)"
        )),
        "{message}"
    );
    assert_eq!(codes_of(&a, &server, &fx.key, "front-door").len(), 3);
    let moved = post(
        &a,
        &server,
        &fx.key,
        "/access_codes/create",
        &json!({"device_id": "front-door", "starts_at": ps, "ends_at": pe}),
    );
    assert_eq!(moved.status, 200, "{moved:?}");
    assert_eq!(moved.body["access_code"]["starts_at"], ps.as_str());
    assert_eq!(moved.body["access_code"]["ends_at"], pe.as_str());
    // Other errors keep `data: null`.
    let unknown = post(
        &a,
        &server,
        &fx.key,
        "/access_codes/create",
        &json!({"device_id": "no-such-door"}),
    );
    assert_eq!(unknown.status, 404);
    assert!(unknown.body["error"]["data"].is_null(), "{unknown:?}");
    // Every ongoing slot of back-door (compact-8: 20).
    let ongoing = json!({"device_id": "back-door"});
    for _ in 0..20 {
        let r = post(&a, &server, &fx.key, "/access_codes/create", &ongoing);
        assert_eq!(r.status, 200, "{r:?}");
    }
    let full = post(&a, &server, &fx.key, "/access_codes/create", &ongoing);
    assert_eq!((full.status, full.error_type()), (409, "no_slot_available"));
    let data = &full.body["error"]["data"];
    assert_eq!(
        (&data["device_id"], &data["code_kind"]),
        (&json!("back-door"), &json!("ongoing"))
    );
    assert_eq!(data["held_by"].as_array().unwrap().len(), 20);
    assert!(data["next_free_at"].is_null());
    assert_eq!(codes_of(&a, &server, &fx.key, "back-door").len(), 20);
}

/// Every route answers the methods `/openapi.json` lists for it (and HEAD
/// where it lists GET), and 405 with the API's JSON error and an `Allow`
/// header to every other; HEAD, GET and TRACE on `/access_codes/create`
/// spend no variance (issue 20 point 2: a HEAD used to run the create).
#[test]
fn every_route_answers_the_described_methods_and_405_to_the_rest() {
    let fx = Fixture::sqlite();
    let server = fx.start(&[]);
    let a = agent();
    let key = Some(fx.key.as_str());
    let description = send(&a, "GET", &server.url("/openapi.json"), key, None).unwrap();
    assert_eq!(description.status, 200);
    let paths = description.body["paths"].as_object().unwrap();
    assert_eq!(paths.len(), 10, "{paths:?}");
    let all = [
        "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE",
    ];
    let mut refused = 0;
    for (path, item) in paths {
        let listed = |m: &str| {
            let m = if m == "HEAD" { "get" } else { m };
            item.get(m.to_lowercase()).is_some()
        };
        for method in all {
            let body = (method != "GET" && method != "HEAD").then_some(&b"{}"[..]);
            let r = send(&a, method, &server.url(path), key, body).unwrap();
            if listed(method) {
                assert_ne!(r.status, 405, "{method} {path}: {r:?}");
                continue;
            }
            refused += 1;
            assert_eq!(r.status, 405, "{method} {path}: {r:?}");
            let allow = r.allow.clone().unwrap_or_default();
            assert!(
                all.iter().filter(|m| listed(m)).all(|m| allow.contains(m)),
                "{allow}"
            );
            if method != "HEAD" {
                assert_eq!(r.error_type(), "method_not_allowed", "{method} {path}");
            }
        }
    }
    assert!(refused >= 40, "{refused} refusals");
    for method in ["HEAD", "GET", "TRACE"] {
        let r = send(&a, method, &server.url("/access_codes/create"), key, None).unwrap();
        assert_eq!(r.status, 405, "{method}");
    }
    assert!(codes_of(&a, &server, &fx.key, "front-door").is_empty());
}

/// `/devices/get` says what the device's offline codes can be, from its
/// profile: `can_program_offline_access_codes`, the `code_constraints` its
/// PINs keep (a nine-key keypad: `no_zeros`; always
/// `cannot_specify_pin_code`) and the `offline_time_frame_options` of
/// each kind the profile enables, in the device's time zone.
#[test]
fn devices_say_what_their_offline_codes_can_be() {
    let fx = Fixture::sqlite();
    fx.run(&[
        "device",
        "add",
        "--device-id",
        "nine-keys",
        "--profile",
        "keypad9-11",
        "--utc-offset",
        "+00:00",
    ]);
    let server = fx.start(&[]);
    let a = agent();
    let device = |id: &str| {
        get(
            &a,
            &server,
            &fx.key,
            &format!("/devices/get?device_id={id}"),
        )
        .body["device"]
            .clone()
    };
    let constraints = |d: &Value| -> Vec<String> {
        d["code_constraints"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["constraint_type"].as_str().unwrap().to_owned())
            .collect()
    };
    let front = device("front-door");
    assert_eq!(front["can_program_offline_access_codes"], true);
    assert_eq!(constraints(&front), ["cannot_specify_pin_code"]);
    let nine = device("nine-keys");
    assert_eq!(constraints(&nine), ["no_zeros", "cannot_specify_pin_code"]);
    assert_eq!(nine["supported_code_lengths"], json!([11]));
    // standard-10: hourly windows up to its longest, daily windows from
    // local midnight, one-time codes; in Europe/Paris.
    let p = offpin::profile::shipped::STANDARD_10.params();
    let frames = front["offline_time_frame_options"].as_array().unwrap();
    let names: Vec<&str> = frames
        .iter()
        .map(|f| f["display_name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["offpin hourly", "offpin daily", "offpin one-time"]);
    assert_eq!(frames[0]["min_duration"], "PT1H");
    assert_eq!(
        frames[0]["max_duration"],
        format!("PT{}H", p.hourly_max_hours)
    );
    assert_eq!(frames[0]["matching_start_end_time"], false);
    assert_eq!(frames[1]["max_duration"], format!("P{}D", p.daily_max_days));
    assert_eq!(frames[1]["matching_start_end_time"], true);
    assert_eq!(
        frames[1]["time_pairs"],
        json!([{"start_time": "00:00", "end_time": "00:00"}])
    );
    assert_eq!(frames[2]["min_duration"], frames[2]["max_duration"]);
    assert_eq!(
        frames[2]["max_duration"],
        format!("PT{}H", p.one_time_use_hours)
    );
    assert!(frames.iter().all(|f| f["time_zone"] == "Europe/Paris"));
    // A profile whose menu lacks a kind lists no option for it.
    let back = device("back-door");
    let compact = offpin::profile::shipped::COMPACT_8.params();
    let kinds = [
        compact.hourly_max_hours,
        compact.daily_max_days,
        compact.one_time_use_hours,
    ];
    let enabled = kinds.iter().filter(|k| **k > 0).count();
    assert_eq!(
        back["offline_time_frame_options"].as_array().unwrap().len(),
        enabled
    );
    assert!(back["offline_time_frame_options"][0]["time_zone"].is_null());
}
