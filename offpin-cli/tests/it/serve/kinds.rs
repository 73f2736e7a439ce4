//! Every offline code kind over the socket: weekly recurring codes
//! (`offpin_recurrence`) and clock-setting codes (`offpin_clock_setting`,
//! for keys allowed to) through `/access_codes/create`, list and get
//! showing what was issued, the PINs checked by a real `offpin::Lock` at
//! the edges of their slots; and `/devices/get` showing a device's
//! rolling service codes only to a key allowed to read them.

use chrono::{DateTime, Datelike, Duration, DurationRound, TimeDelta, Utc};
use offpin::check::Refusal;
use offpin::lock::{Decision, Lock};
use offpin::profile::shipped::STANDARD_10_V2;
use offpin::{Codec, UtcOffset};
use serde_json::{Value, json};

use crate::util::http::{Answer, agent, at_rest, codes_of, get, post};
use crate::util::serve::{Fixture, Server};

/// The format-v2 device (UTC, so the profile's weeks start on Mondays).
const V2: &str = "v2";

/// Adds `v2` and the keys `reader` (service secrets) and `clocks` (clock
/// codes) to a fixture; returns their texts.
fn setup(fx: &Fixture) -> (String, String) {
    fx.run(&[
        "device",
        "add",
        "--device-id",
        V2,
        "--profile",
        "standard-10-v2",
        "--utc-offset",
        "+00:00",
    ]);
    let key = |args: &[&str]| fx.run(args).lines().last().unwrap().to_owned();
    let reader = key(&[
        "api-key",
        "create",
        "--name",
        "reader",
        "--can-read-service-secrets",
    ]);
    let clocks = key(&[
        "api-key",
        "create",
        "--name",
        "clocks",
        "--can-issue-clock-codes",
    ]);
    (reader, clocks)
}

/// 00:00 UTC of the first Monday at least two weeks from now.
fn monday() -> DateTime<Utc> {
    let day = (Utc::now() + Duration::days(14))
        .duration_trunc(TimeDelta::days(1))
        .unwrap();
    day + Duration::days(i64::from((7 - day.weekday().num_days_from_monday()) % 7))
}

/// What a standard-10-v2 lock at UTC holding `v2`'s key decides for `pin`
/// at `t` (a fresh lock whose clock reads `t`).
fn decide(fx: &Fixture, pin: &str, t: DateTime<Utc>) -> Decision {
    let key = fx
        .master_key("master.key")
        .derive_device_key(V2.as_bytes(), 0)
        .unwrap();
    let codec = Codec::new(&key, STANDARD_10_V2).unwrap();
    let mut lock = Lock::<8, 1>::new([codec], UtcOffset::UTC).unwrap();
    let seen = lock.observe_clock(t.timestamp());
    lock.commit(seen).unwrap();
    lock.check(pin.as_bytes(), t.timestamp()).decision
}

fn opens(fx: &Fixture, pin: &str, t: DateTime<Utc>) -> bool {
    matches!(decide(fx, pin, t), Decision::Open(_))
}

fn create(server: &Server, key: &str, body: &Value) -> Answer {
    post(&agent(), server, key, "/access_codes/create", body)
}

/// The field `validation_errors` blames.
fn blamed(a: &Answer) -> Vec<String> {
    a.body["error"]["validation_errors"]
        .as_object()
        .map(|m| m.keys().filter(|k| *k != "_errors").cloned().collect())
        .unwrap_or_default()
}

fn office(start: DateTime<Utc>, end: DateTime<Utc>) -> Value {
    json!({
        "device_id": V2,
        "starts_at": start.to_rfc3339(),
        "ends_at": end.to_rfc3339(),
        "offpin_recurrence": {
            "weekdays": ["monday", "tuesday", "wednesday", "thursday", "friday"],
            "starts_at_time": "09:00",
            "ends_at_time": "17:00"
        }
    })
}

#[test]
fn a_recurring_code_over_http_opens_the_lock_in_its_slots_only() {
    let fx = Fixture::sqlite();
    setup(&fx);
    let server = fx.start(&[]);
    let m = monday();
    let h = |d: i64, hh: i64, s: i64| {
        m + Duration::days(d) + Duration::hours(hh) + Duration::seconds(s)
    };
    // Monday 09:00 to Friday 17:00 of the next week.
    let a = create(&server, &fx.key, &office(h(0, 9, 0), h(11, 17, 0)));
    assert_eq!(a.status, 200, "{a:?}");
    let code = &a.body["access_code"];
    assert_eq!(
        code["offpin_recurrence"],
        json!({
            "weekdays": ["monday", "tuesday", "wednesday", "thursday", "friday"],
            "starts_at_time": "09:00",
            "ends_at_time": "17:00",
            "weeks": 2
        })
    );
    assert_eq!(code["type"], "time_bound");
    assert_eq!(code["status"], "set");
    assert!(code.get("offpin_clock_setting").is_none(), "{code}");
    assert_eq!(
        code["starts_at"],
        m.format("%Y-%m-%dT%H:%M:%S.000Z").to_string()
    );
    // list and get show what was issued.
    let listed = codes_of(&agent(), &server, &fx.key, V2);
    assert_eq!(listed.len(), 1);
    assert_eq!(at_rest(&listed[0]), at_rest(code));
    let id = code["access_code_id"].as_str().unwrap();
    let got = get(
        &agent(),
        &server,
        &fx.key,
        &format!("/access_codes/get?access_code_id={id}"),
    );
    assert_eq!(at_rest(&got.body["access_code"]), at_rest(code));
    // The lock: the slot's start and end minute, its 10-minute grace, and
    // just outside each.
    let pin = code["code"].as_str().unwrap();
    let g = 600;
    for (t, open) in [
        (h(0, 9, 0), true),
        (h(0, 9, -g), true),
        (h(0, 9, -g - 1), false),
        (h(0, 16, 3_599), true),
        (h(0, 17, g - 1), true),
        (h(0, 17, g), false),
        (h(2, 12, 0), true),
        (h(11, 9, 0), true),
        (h(11, 17, g - 1), true),
        (h(11, 17, g), false),
        (h(5, 12, 0), false),
        (h(13, 12, 0), false),
    ] {
        assert_eq!(opens(&fx, pin, t), open, "{t}");
    }
    assert_eq!(
        decide(&fx, pin, h(5, 12, 0)),
        Decision::Refuse(Refusal::OutsideSchedule)
    );
    assert_eq!(
        decide(&fx, pin, h(14, 9, 0)),
        Decision::Refuse(Refusal::Expired)
    );
    assert_eq!(
        decide(&fx, pin, h(-3, 12, 0)),
        Decision::Refuse(Refusal::NotYetValid)
    );
}

#[test]
fn recurrences_the_profile_cannot_express_or_that_open_longer_are_refused() {
    let fx = Fixture::sqlite();
    setup(&fx);
    let server = fx.start(&[]);
    let m = monday();
    let h = |d: i64, hh: i64| m + Duration::days(d) + Duration::hours(hh);
    let refused = |body: Value, field: &str, says: &str| {
        let a = create(&server, &fx.key, &body);
        assert_eq!((a.status, a.error_type()), (400, "invalid_input"), "{a:?}");
        assert_eq!(blamed(&a), [field], "{a:?}");
        let message = a.body["error"]["message"].as_str().unwrap();
        assert!(message.contains(says), "{message}");
    };
    // From Wednesday: Monday's slot of that week opens before it (by more
    // than the default hour of rounding).
    refused(office(h(2, 9), h(11, 17)), "starts_at", "before it");
    refused(office(h(0, 9), h(9, 17)), "ends_at", "after it");
    refused(office(h(5, 0), h(7, 0)), "ends_at", "would never open");
    let mut mon_thu = office(h(0, 9), h(11, 17));
    mon_thu["offpin_recurrence"]["weekdays"] = json!(["mon", "tue", "wed", "thu"]);
    refused(
        mon_thu,
        "offpin_recurrence",
        "nearest schedule it can is Mon-Fri 09:00-17:00",
    );
    let mut funday = office(h(0, 9), h(11, 17));
    funday["offpin_recurrence"]["weekdays"] = json!(["funday"]);
    refused(funday, "offpin_recurrence.weekdays", "'funday'");
    let mut half = office(h(0, 9), h(11, 17));
    half["offpin_recurrence"]["starts_at_time"] = json!("09:30");
    refused(half, "offpin_recurrence.starts_at_time", "whole hours");
    let mut v1 = office(h(0, 9), h(11, 17));
    v1["device_id"] = json!("front-door");
    refused(v1, "offpin_recurrence", "recurring");
    let mut open_ended = office(h(0, 9), h(11, 17));
    open_ended.as_object_mut().unwrap().remove("ends_at");
    refused(open_ended, "ends_at", "starts_at and ends_at");
    let mut unknown = office(h(0, 9), h(11, 17));
    unknown["offpin_recurrence"]["timezone"] = json!("UTC");
    let a = create(&server, &fx.key, &unknown);
    assert_eq!(a.status, 400, "{a:?}");
    // Nothing was stored.
    assert!(codes_of(&agent(), &server, &fx.key, V2).is_empty());
}

#[test]
fn clock_setting_codes_need_a_key_allowed_to_issue_them() {
    let fx = Fixture::sqlite();
    let (_, clocks) = setup(&fx);
    let server = fx.start(&[]);
    let to = monday() + Duration::hours(10);
    let body = json!({
        "device_id": V2,
        "offpin_clock_setting": { "sets_clock_to": to.to_rfc3339() }
    });
    // Refused for an ordinary key, and nothing is stored.
    let a = create(&server, &fx.key, &body);
    assert_eq!((a.status, a.error_type()), (403, "forbidden"), "{a:?}");
    assert!(
        a.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("--can-issue-clock-codes"),
        "{a:?}"
    );
    assert!(codes_of(&agent(), &server, &fx.key, V2).is_empty());
    // Issued for a key allowed to.
    let a = create(&server, &clocks, &body);
    assert_eq!(a.status, 200, "{a:?}");
    let code = &a.body["access_code"];
    let millis = |t: DateTime<Utc>| t.format("%Y-%m-%dT%H:%M:%S.000Z").to_string();
    assert_eq!(
        code["offpin_clock_setting"],
        json!({ "sets_clock_to": millis(to) })
    );
    let step = Duration::hours(168);
    assert_eq!(code["starts_at"], millis(to - step));
    assert_eq!(code["ends_at"], millis(to));
    let listed = codes_of(&agent(), &server, &fx.key, V2);
    assert_eq!(at_rest(&listed[0]), at_rest(code));
    // The lock sets its clock to it within its step, and not outside.
    let pin = code["code"].as_str().unwrap();
    let one = Duration::seconds(1);
    assert_eq!(
        decide(&fx, pin, to - step),
        Decision::ClockSet { to: to.timestamp() }
    );
    assert_eq!(
        decide(&fx, pin, to - one),
        Decision::ClockSet { to: to.timestamp() }
    );
    assert_eq!(
        decide(&fx, pin, to - step - one),
        Decision::Refuse(Refusal::NotYetValid)
    );
    assert_eq!(decide(&fx, pin, to), Decision::Refuse(Refusal::Expired));
    // One PIN per instant; no window of its own.
    let again = create(&server, &clocks, &body);
    assert_eq!(again.status, 409, "{again:?}");
    let mut windowed = body.clone();
    windowed["starts_at"] = json!(to.to_rfc3339());
    let a = create(&server, &clocks, &windowed);
    assert_eq!(
        (a.status, blamed(&a)),
        (400, vec!["starts_at".to_owned()]),
        "{a:?}"
    );
    let mut v1 = body;
    v1["device_id"] = json!("front-door");
    let a = create(&server, &clocks, &v1);
    assert_eq!(
        (a.status, blamed(&a)),
        (400, vec!["offpin_clock_setting".to_owned()]),
        "{a:?}"
    );
}

#[test]
fn devices_get_shows_the_service_codes_only_to_a_key_allowed_to_read_them() {
    let fx = Fixture::sqlite();
    let (reader, clocks) = setup(&fx);
    let server = fx.start(&[]);
    let uri = fx
        .run(&["service-code", "--device-id", V2, "--no-qr"])
        .lines()
        .next()
        .unwrap()
        .to_owned();
    assert!(uri.starts_with("otpauth://totp/offpin:v2?secret="), "{uri}");
    let field = "offpin_service_code_otpauth_uri";
    for path in ["/devices/get?device_id=v2"] {
        let a = get(&agent(), &server, &reader, path);
        assert_eq!(a.status, 200, "{a:?}");
        assert_eq!(a.body["device"][field], json!(uri));
        for other in [&fx.key, &clocks] {
            let a = get(&agent(), &server, other, path);
            assert_eq!(a.status, 200, "{a:?}");
            assert!(a.body["device"].get(field).is_none(), "{a:?}");
        }
    }
    let by_post = post(
        &agent(),
        &server,
        &reader,
        "/devices/get",
        &json!({ "device_id": V2 }),
    );
    assert_eq!(by_post.body["device"][field], json!(uri));
    let plain_post = post(
        &agent(),
        &server,
        &fx.key,
        "/devices/get",
        &json!({ "device_id": V2 }),
    );
    assert!(
        plain_post.body["device"].get(field).is_none(),
        "{plain_post:?}"
    );
    // A profile without service codes has none to show; a list shows none.
    let a = get(
        &agent(),
        &server,
        &reader,
        "/devices/get?device_id=front-door",
    );
    assert!(a.body["device"].get(field).is_none(), "{a:?}");
    let a = get(&agent(), &server, &reader, "/devices/list");
    assert!(
        a.body["devices"]
            .as_array()
            .unwrap()
            .iter()
            .all(|d| d.get(field).is_none()),
        "{a:?}"
    );
    // The keys' capabilities as the command lists them.
    let listed: Value = serde_json::from_str(&fx.run(&["api-key", "list"])).unwrap();
    let caps: Vec<(&str, &Value)> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|k| (k["name"].as_str().unwrap(), &k["capabilities"]))
        .collect();
    assert_eq!(
        caps,
        [
            ("tests", &json!([])),
            ("reader", &json!(["read_service_secrets"])),
            ("clocks", &json!(["issue_clock_codes"]))
        ]
    );
}

#[test]
fn recurring_and_clock_codes_round_trip_on_postgres() {
    let Some(fx) = Fixture::postgres() else {
        return;
    };
    let (reader, clocks) = setup(&fx);
    let server = fx.start(&[]);
    let m = monday();
    let a = create(
        &server,
        &fx.key,
        &office(
            m + Duration::hours(9),
            m + Duration::days(4) + Duration::hours(17),
        ),
    );
    assert_eq!(a.status, 200, "{a:?}");
    assert!(opens(
        &fx,
        a.body["access_code"]["code"].as_str().unwrap(),
        m + Duration::hours(9)
    ));
    let to = m + Duration::hours(10);
    let c = create(
        &server,
        &clocks,
        &json!({"device_id": V2, "offpin_clock_setting": {"sets_clock_to": to.to_rfc3339()}}),
    );
    assert_eq!(c.status, 200, "{c:?}");
    let listed = codes_of(&agent(), &server, &fx.key, V2);
    assert_eq!(
        listed.iter().map(at_rest).collect::<Vec<_>>(),
        [
            at_rest(&a.body["access_code"]),
            at_rest(&c.body["access_code"])
        ]
    );
    let d = get(&agent(), &server, &reader, "/devices/get?device_id=v2");
    assert!(
        d.body["device"]["offpin_service_code_otpauth_uri"]
            .as_str()
            .unwrap()
            .starts_with("otpauth://"),
        "{d:?}"
    );
}
