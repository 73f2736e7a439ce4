//! Pages, filters and the rest of the SDKs' surface (issue 20 point 3),
//! through a real socket on SQLite and PostgreSQL: `limit`, `page_cursor`
//! and `pagination` on `/access_codes/list` and `/devices/list` (walked by
//! cursor and by `next_page_url`, with codes issued between pages), bad
//! cursors, `search`, the devices' filters, the retention of dead codes
//! (`--list-retention-days`), the revocation PIN read back with `get`, the
//! rounding error in the API's terms, and the older SDKs' call shapes.

use serde_json::{Value, json};

use crate::util::http::{agent, delete, get, post, send, window};
use crate::util::serve::{Fixture, Server};

fn ids(codes: &[Value]) -> Vec<String> {
    codes
        .iter()
        .map(|c| c["access_code_id"].as_str().unwrap().to_owned())
        .collect()
}

fn sorted(ids: &[String]) -> Vec<String> {
    let mut ids = ids.to_vec();
    ids.sort();
    ids
}

/// Whether codes come in the pages' keyset order: `created_at` (RFC 3339
/// in UTC with milliseconds, so text order is time order), then id.
fn in_keyset_order(codes: &[Value]) -> bool {
    let key = |c: &Value| {
        (
            c["created_at"].as_str().unwrap().to_owned(),
            c["access_code_id"].as_str().unwrap().to_owned(),
        )
    };
    codes.windows(2).all(|w| key(&w[0]) < key(&w[1]))
}

/// Creates a time-bound code of front-door on day `day` from now, at
/// `hour`, with `name`; its id.
fn create(a: &ureq::Agent, server: &Server, key: &str, day: i64, hour: i64, name: &str) -> String {
    let (start, _) = window(day, 0);
    let start: chrono::DateTime<chrono::Utc> = start.parse().unwrap();
    let start = start + chrono::TimeDelta::hours(hour);
    let end = start + chrono::TimeDelta::hours(3);
    let r = post(
        a,
        server,
        key,
        "/access_codes/create",
        &json!({"device_id": "front-door", "name": name,
                "starts_at": start.to_rfc3339(), "ends_at": end.to_rfc3339()}),
    );
    assert_eq!(r.status, 200, "{r:?}");
    r.body["access_code"]["access_code_id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// Follows `next_page_url` from `first` (a GET path) to the last page;
/// the codes in order and the number of pages.
fn walk_urls(a: &ureq::Agent, server: &Server, key: &str, first: &str) -> (Vec<String>, usize) {
    let mut page = get(a, server, key, first);
    let (mut all, mut pages) = (Vec::new(), 0);
    loop {
        assert_eq!(page.status, 200, "{page:?}");
        pages += 1;
        all.extend(ids(page.body["access_codes"].as_array().unwrap()));
        let p = &page.body["pagination"];
        if p["has_next_page"] == false {
            assert!(
                p["next_page_cursor"].is_null() && p["next_page_url"].is_null(),
                "{p}"
            );
            break;
        }
        let url = p["next_page_url"].as_str().unwrap();
        assert!(url.starts_with(&server.url("/access_codes/list?")), "{url}");
        let cursor = p["next_page_cursor"].as_str().unwrap();
        assert!(
            url.contains(&format!("page_cursor={cursor}")),
            "{url} {cursor}"
        );
        page = send(a, "GET", url, Some(key), None).unwrap();
        assert!(pages < 50);
    }
    (all, pages)
}

fn pages_walk_every_code_once(fx: &Fixture) {
    let server = fx.start(&[]);
    let a = agent();
    let mut made = Vec::new();
    for i in 0..7 {
        made.push(create(
            &a,
            &server,
            &fx.key,
            20 + i,
            0,
            &format!("guest {i}"),
        ));
    }
    // No limit: every code, and no next page.
    let all = get(
        &a,
        &server,
        &fx.key,
        "/access_codes/list?device_id=front-door",
    );
    // Issue order is (created_at, id): two codes created in one
    // millisecond come by id, so the order to follow is the list's, which
    // must hold every code made, in keyset order.
    let listed = all.body["access_codes"].as_array().unwrap();
    let order = ids(listed);
    assert_eq!(sorted(&order), sorted(&made));
    assert!(in_keyset_order(listed), "{listed:?}");
    assert_eq!(all.body["pagination"]["has_next_page"], false);
    // 3 a page, by next_page_url (GET, query string as the SDKs send it).
    let (walked, pages) = walk_urls(
        &a,
        &server,
        &fx.key,
        "/access_codes/list?_strict=true&device_id=front-door&limit=3",
    );
    assert_eq!((walked, pages), (order.clone(), 3));
    // 7 codes, 7 a page: one page that says nothing follows.
    let (walked, pages) = walk_urls(
        &a,
        &server,
        &fx.key,
        "/access_codes/list?device_id=front-door&limit=7",
    );
    assert_eq!((walked, pages), (order.clone(), 1));

    // POST with a JSON body and a cursor, as older SDKs do, while codes
    // are issued between pages: every code once, new ones at the end.
    let (mut seen, mut cursor, mut added) = (Vec::new(), Value::Null, Vec::new());
    loop {
        let p = post(
            &a,
            &server,
            &fx.key,
            "/access_codes/list",
            &json!({"device_id": "front-door", "limit": 2, "page_cursor": cursor}),
        );
        assert_eq!(p.status, 200, "{p:?}");
        seen.extend(ids(p.body["access_codes"].as_array().unwrap()));
        if added.len() < 2 {
            added.push(create(
                &a,
                &server,
                &fx.key,
                40 + added.len() as i64,
                0,
                "late",
            ));
        }
        if p.body["pagination"]["has_next_page"] == false {
            break;
        }
        // The body's parameters are in the next page's URL.
        let url = p.body["pagination"]["next_page_url"].as_str().unwrap();
        assert!(
            url.contains("device_id=front-door") && url.contains("limit=2"),
            "{url}"
        );
        cursor = p.body["pagination"]["next_page_cursor"].clone();
    }
    // Every code once, none skipped, in issue order: the late ones after
    // the first seven.
    let everything = get(
        &a,
        &server,
        &fx.key,
        "/access_codes/list?device_id=front-door",
    );
    let everything = everything.body["access_codes"].as_array().unwrap();
    assert!(in_keyset_order(everything), "{everything:?}");
    assert_eq!(everything.len(), order.len() + added.len());
    assert_eq!(seen, ids(everything), "no code twice, none skipped");
    assert_eq!(seen.get(..order.len()), Some(order.as_slice()));

    // search: name, case of ASCII letters ignored, with paging.
    let (walked, _) = walk_urls(
        &a,
        &server,
        &fx.key,
        "/access_codes/list?device_id=front-door&search=GUEST&limit=4",
    );
    assert_eq!(walked, order);
    let one = get(
        &a,
        &server,
        &fx.key,
        "/access_codes/list?device_id=front-door&search=guest%203",
    );
    assert_eq!(
        ids(one.body["access_codes"].as_array().unwrap()),
        [made[3].clone()]
    );
    server.terminate();
}

#[test]
fn pages_walk_every_code_once_sqlite() {
    pages_walk_every_code_once(&Fixture::sqlite());
}

#[test]
fn pages_walk_every_code_once_postgres() {
    if let Some(fx) = Fixture::postgres() {
        pages_walk_every_code_once(&fx);
    }
}

/// A cursor that was altered, is not one, or belongs to another query is
/// `invalid_input` naming `page_cursor`; a limit out of range names
/// `limit`; nothing is a 5xx.
#[test]
fn bad_cursors_and_limits_are_invalid_input() {
    let fx = Fixture::sqlite();
    let server = fx.start(&[]);
    let a = agent();
    for day in 0..3 {
        create(&a, &server, &fx.key, 20 + day, 0, "g");
    }
    let first = get(
        &a,
        &server,
        &fx.key,
        "/access_codes/list?device_id=front-door&limit=1",
    );
    let cursor = first.body["pagination"]["next_page_cursor"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut flipped = cursor.clone().into_bytes();
    flipped[cursor.len() / 2] ^= 0x01;
    let flipped = String::from_utf8(flipped).unwrap();
    let cases = [
        format!("device_id=front-door&page_cursor={flipped}"),
        "device_id=front-door&page_cursor=garbage!".to_owned(),
        format!(
            "device_id=front-door&page_cursor={}",
            &cursor[..cursor.len() - 4]
        ),
        // Another query's cursor.
        format!("device_id=back-door&page_cursor={cursor}"),
        format!("device_id=front-door&search=g&page_cursor={cursor}"),
    ];
    for q in &cases {
        let r = get(&a, &server, &fx.key, &format!("/access_codes/list?{q}"));
        assert_eq!(
            (r.status, r.error_type()),
            (400, "invalid_input"),
            "{q}: {r:?}"
        );
        let v = &r.body["error"]["validation_errors"];
        assert!(v.get("page_cursor").is_some(), "{q}: {r:?}");
    }
    for q in ["limit=0", "limit=10001", "limit=-1", "limit=x"] {
        let r = get(
            &a,
            &server,
            &fx.key,
            &format!("/access_codes/list?device_id=front-door&{q}"),
        );
        assert_eq!(
            (r.status, r.error_type()),
            (400, "invalid_input"),
            "{q}: {r:?}"
        );
        assert!(
            r.body["error"]["validation_errors"].get("limit").is_some(),
            "{r:?}"
        );
    }
    // The cursor itself still reads the next page.
    let next = get(
        &a,
        &server,
        &fx.key,
        &format!("/access_codes/list?device_id=front-door&limit=1&page_cursor={cursor}"),
    );
    assert_eq!(next.status, 200, "{next:?}");
    assert_eq!(next.body["access_codes"].as_array().unwrap().len(), 1);
    let log = server.log_text();
    assert!(!log.contains("status=5"), "{log}");
}

/// `/devices/list`: `device_ids`, `search`, `device_type(s)`,
/// `manufacturer`, `limit` and cursors; the hosted filters an offline
/// lock has no data for are refused by name.
#[test]
fn devices_list_filters_and_pages() {
    let fx = Fixture::sqlite();
    for id in ["garage", "gate-1", "gate-2"] {
        fx.add_paris_device(id);
    }
    let server = fx.start(&[]);
    let a = agent();
    let names = |q: &str| -> (Vec<String>, Value) {
        let r = get(&a, &server, &fx.key, &format!("/devices/list?{q}"));
        assert_eq!(r.status, 200, "{q}: {r:?}");
        let ids = r.body["devices"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["device_id"].as_str().unwrap().to_owned())
            .collect();
        (ids, r.body["pagination"].clone())
    };
    let all = ["back-door", "front-door", "garage", "gate-1", "gate-2"];
    assert_eq!(names("").0, all);
    assert_eq!(
        names("device_ids=gate-2&device_ids=garage").0,
        ["garage", "gate-2"]
    );
    assert_eq!(names("search=GATE").0, ["gate-1", "gate-2"]);
    assert_eq!(
        names("search=door&device_type=offpin_lock").0,
        ["back-door", "front-door"]
    );
    assert_eq!(
        names("device_types=offpin_lock&device_types=august_lock")
            .0
            .len(),
        5
    );
    assert!(names("device_type=august_lock").0.is_empty());
    assert!(names("manufacturer=august").0.is_empty());
    assert_eq!(names("manufacturer=offpin").0.len(), 5);
    // Two a page: 3 pages by cursor.
    let (mut seen, mut q) = (Vec::new(), "limit=2".to_owned());
    for page in 1.. {
        let (got, p) = names(&q);
        seen.extend(got);
        if p["has_next_page"] == false {
            assert_eq!(page, 3);
            break;
        }
        let url = p["next_page_url"].as_str().unwrap();
        assert!(
            url.starts_with(&server.url("/devices/list?limit=2&page_cursor=")),
            "{url}"
        );
        q = format!(
            "limit=2&page_cursor={}",
            p["next_page_cursor"].as_str().unwrap()
        );
    }
    assert_eq!(seen, all);
    let r = get(
        &a,
        &server,
        &fx.key,
        "/devices/list?search=gate&page_cursor=AAAA",
    );
    assert_eq!((r.status, r.error_type()), (400, "invalid_input"), "{r:?}");
    for field in [
        "created_before",
        "connected_account_id",
        "custom_metadata_has",
    ] {
        let r = post(
            &a,
            &server,
            &fx.key,
            "/devices/list",
            &json!({ field: "x" }),
        );
        assert_eq!((r.status, r.error_type()), (400, "invalid_input"), "{r:?}");
        assert!(
            r.body["error"]["validation_errors"].get(field).is_some(),
            "{r:?}"
        );
    }
    // The device says its type.
    let d = get(&a, &server, &fx.key, "/devices/get?device_id=garage");
    assert_eq!(d.body["device"]["device_type"], "offpin_lock");
}

fn retention(fx: &Fixture) {
    // Two windows recorded after they ended (`--allow-backfill`): one 60
    // days ago, one 5 days ago; and an ongoing code, deleted.
    let day = |d: i64| window(d, 0).0;
    let backfill = |from: i64, to: i64| {
        let out = fx.run(&[
            "issue",
            "--device-id",
            "front-door",
            "--starts-at",
            &day(from),
            "--ends-at",
            &day(to),
            "--allow-backfill",
        ]);
        let r: Value = serde_json::from_str(&out).unwrap();
        r["access_code_id"].as_str().unwrap().to_owned()
    };
    let old = backfill(-61, -60);
    let recent = backfill(-6, -5);
    let a = agent();
    let list = |server: &Server| {
        let r = get(
            &a,
            server,
            &fx.key,
            "/access_codes/list?device_id=front-door",
        );
        assert_eq!(r.status, 200, "{r:?}");
        ids(r.body["access_codes"].as_array().unwrap())
    };
    // The default (30 days) and a month: the code dead for 60 days is
    // not listed; get still reads it.
    for extra in [&[][..], &["--list-retention-days", "30"][..]] {
        let server = fx.start(extra);
        assert_eq!(list(&server), std::slice::from_ref(&recent), "{extra:?}");
        let got = get(
            &a,
            &server,
            &fx.key,
            &format!("/access_codes/get?access_code_id={old}"),
        );
        assert_eq!(
            (got.status, got.body["access_code"]["status"].as_str()),
            (200, Some("unset"))
        );
        server.terminate();
    }
    // 4 days: neither; 100 days: both.
    let server = fx.start(&["--list-retention-days", "4"]);
    assert!(list(&server).is_empty());
    let ongoing = post(
        &a,
        &server,
        &fx.key,
        "/access_codes/create",
        &json!({"device_id": "front-door"}),
    );
    let ongoing = ongoing.body["access_code"]["access_code_id"]
        .as_str()
        .unwrap()
        .to_owned();
    delete(
        &a,
        &server,
        &fx.key,
        &format!("/access_codes/delete?access_code_id={ongoing}"),
    );
    // A deleted ongoing code opens until its revocation is typed: listed.
    assert_eq!(list(&server), std::slice::from_ref(&ongoing));
    server.terminate();
    let server = fx.start(&["--list-retention-days", "100"]);
    assert_eq!(list(&server), [old, recent, ongoing]);
    server.terminate();
}

#[test]
fn retention_drops_dead_codes_from_list_not_from_get_sqlite() {
    retention(&Fixture::sqlite());
}

#[test]
fn retention_drops_dead_codes_from_list_not_from_get_postgres() {
    if let Some(fx) = Fixture::postgres() {
        retention(&fx);
    }
}

/// After an SDK's `delete` (which returns nothing), `get` shows the
/// ongoing code's revocation PIN in `revocation_code`, the one the delete
/// answered.
#[test]
fn get_shows_the_revocation_pin_after_delete() {
    let fx = Fixture::sqlite();
    let server = fx.start(&[]);
    let a = agent();
    let c = post(
        &a,
        &server,
        &fx.key,
        "/access_codes/create",
        &json!({"device_id": "front-door"}),
    );
    let id = c.body["access_code"]["access_code_id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        c.body["access_code"].get("revocation_code").is_none(),
        "{c:?}"
    );
    let d = delete(
        &a,
        &server,
        &fx.key,
        &format!("/access_codes/delete?access_code_id={id}"),
    );
    let pin = d.body["revocation_code"].as_str().unwrap().to_owned();
    assert_eq!(d.body["access_code"]["revocation_code"], pin.as_str());
    let got = get(
        &a,
        &server,
        &fx.key,
        &format!("/access_codes/get?access_code_id={id}"),
    );
    assert_eq!(got.body["access_code"]["revocation_code"], pin.as_str());
    let doc = get(&a, &server, &fx.key, "/openapi.json");
    let field = &doc.body["components"]["schemas"]["AccessCode"]["properties"]["revocation_code"];
    assert!(
        field["description"].as_str().unwrap().contains("revoke"),
        "{field}"
    );
}

/// A 40-day window with the default rounding: the error names the
/// field the client sends and the value that fixes it.
#[test]
fn a_long_window_says_to_send_max_time_rounding_1d() {
    let fx = Fixture::sqlite();
    let server = fx.start(&[]);
    let a = agent();
    let (start, _) = window(20, 0);
    let s: chrono::DateTime<chrono::Utc> = start.parse().unwrap();
    let start = s + chrono::TimeDelta::hours(15 - i64::from(chrono::Timelike::hour(&s)));
    let end = start + chrono::TimeDelta::days(40);
    let body = json!({"device_id": "front-door", "starts_at": start.to_rfc3339(), "ends_at": end.to_rfc3339()});
    let r = post(&a, &server, &fx.key, "/access_codes/create", &body);
    assert_eq!((r.status, r.error_type()), (400, "invalid_input"), "{r:?}");
    let message = r.body["error"]["message"].as_str().unwrap();
    assert!(!message.contains("max_rounding_secs"), "{message}");
    assert!(message.contains("max_time_rounding: \"1d\""), "{message}");
    assert!(
        r.body["error"]["validation_errors"]
            .get("max_time_rounding")
            .is_some(),
        "{r:?}"
    );
    let mut fixed = body.clone();
    fixed["max_time_rounding"] = json!("1d");
    let r = post(&a, &server, &fx.key, "/access_codes/create", &fixed);
    assert_eq!(r.status, 200, "{r:?}");
}

/// The older SDKs POST everywhere, and their `update` carries the create
/// fields the API has since removed from it: accepted when they say what
/// the code is, refused by name when they would change it.
#[test]
fn the_older_sdks_call_shapes_are_accepted() {
    let fx = Fixture::sqlite();
    let server = fx.start(&[]);
    let a = agent();
    let id = create(&a, &server, &fx.key, 20, 0, "Ann");
    let old_update = json!({
        "access_code_id": id, "name": "Ann S.",
        "allow_external_modification": false, "attempt_for_offline_device": true,
        "is_external_modification_allowed": false, "is_managed": true,
        "is_offline_access_code": true, "use_offline_access_code": true,
        "max_time_rounding": "1hour", "preferred_code_length": 10,
        "prefer_native_scheduling": true, "use_backup_access_code_pool": false
    });
    let r = post(&a, &server, &fx.key, "/access_codes/update", &old_update);
    assert_eq!(r.status, 200, "{r:?}");
    for (path, body) in [
        ("/access_codes/get", json!({"access_code_id": id})),
        (
            "/access_codes/list",
            json!({"device_id": "front-door", "limit": 5}),
        ),
        ("/devices/get", json!({"device_id": "front-door"})),
        ("/devices/list", json!({})),
    ] {
        let r = post(&a, &server, &fx.key, path, &body);
        assert_eq!(r.status, 200, "{path}: {r:?}");
    }
    let got = post(
        &a,
        &server,
        &fx.key,
        "/access_codes/get",
        &json!({"access_code_id": id}),
    );
    assert_eq!(got.body["access_code"]["name"], "Ann S.");
    for (field, value) in [
        ("preferred_code_length", json!(4)),
        ("is_managed", json!(false)),
        ("use_offline_access_code", json!(false)),
        ("use_backup_access_code_pool", json!(true)),
    ] {
        let mut body = json!({"access_code_id": id});
        body[field] = value;
        let r = post(&a, &server, &fx.key, "/access_codes/update", &body);
        assert_eq!(
            (r.status, r.error_type()),
            (400, "invalid_input"),
            "{field}: {r:?}"
        );
        assert!(
            r.body["error"]["validation_errors"].get(field).is_some(),
            "{r:?}"
        );
    }
    let d = post(
        &a,
        &server,
        &fx.key,
        "/access_codes/delete",
        &json!({"access_code_id": id}),
    );
    assert_eq!(d.status, 200, "{d:?}");
}
