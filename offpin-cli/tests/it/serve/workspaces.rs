//! Workspaces through the socket, on SQLite and PostgreSQL: a key never
//! sees or changes another workspace's device or code, and gets exactly
//! the answer a missing one gets (status, `type`, message, body); 100
//! ongoing creates by another workspace's key spend none of a device's
//! slots; `/devices/get` states what the device's workspace may spend;
//! pages, `search`, cursors and `Idempotency-Key`s stay in the key's
//! workspace.

use serde_json::{Value, json};

use crate::util::http::{Answer, agent, get, post, send_with, window};
use crate::util::serve::{Fixture, Server};

/// The fixture's ledger with a workspace `acme` that owns `acme-door`
/// (standard-10, UTC), and a key of `acme`; the fixture's key is
/// `default`'s.
fn with_acme(fx: &Fixture) -> String {
    fx.run(&["workspace", "create", "--workspace-id", "acme"]);
    fx.run(&[
        "device",
        "add",
        "--device-id",
        "acme-door",
        "--profile",
        "standard-10",
        "--utc-offset",
        "+00:00",
        "--workspace",
        "acme",
    ]);
    let out = fx.run(&["api-key", "create", "--name", "acme", "--workspace", "acme"]);
    out.lines().last().unwrap().to_owned()
}

/// `theirs` is answered as `missing` is: same status and the same body,
/// once the id asked for is swapped.
fn same_answer(theirs: &Answer, missing: &Answer, their_id: &str, missing_id: &str) {
    assert_eq!(theirs.status, 404, "{theirs:?}");
    assert_eq!(theirs.status, missing.status, "{theirs:?} / {missing:?}");
    let expected = missing.body.to_string().replace(missing_id, their_id);
    assert_eq!(theirs.body.to_string(), expected);
}

/// What a device states it has left: `offpin_capacity`.
fn capacity(a: &ureq::Agent, server: &Server, key: &str, device: &str) -> Value {
    let d = get(a, server, key, &format!("/devices/get?device_id={device}"));
    assert_eq!(d.status, 200, "{d:?}");
    d.body["device"]["offpin_capacity"].clone()
}

/// One workspace's key against another's device and code, endpoint by
/// endpoint, compared with a device and a code that do not exist.
fn a_key_sees_its_workspace_only(fx: &Fixture) {
    let acme = with_acme(fx);
    let other = &fx.key;
    let server = fx.start(&["--rate-limit", "0"]);
    let a = agent();
    let (start, end) = window(3, 2);
    let made = post(
        &a,
        &server,
        &acme,
        "/access_codes/create",
        &json!({"device_id": "acme-door", "starts_at": start, "ends_at": end, "name": "acme guest"}),
    );
    assert_eq!(made.status, 200, "{made:?}");
    let code = made.body["access_code"].clone();
    let id = code["access_code_id"].as_str().unwrap().to_owned();
    let pin = code["code"].as_str().unwrap().to_owned();
    let ghost_id = "00000000-0000-4000-8000-000000000000";
    // Devices.
    let theirs = get(&a, &server, other, "/devices/get?device_id=acme-door");
    let missing = get(&a, &server, other, "/devices/get?device_id=ghost-door");
    same_answer(&theirs, &missing, "acme-door", "ghost-door");
    assert_eq!(theirs.error_type(), "device_not_found");
    for (key, seen) in [
        (other.as_str(), vec!["back-door", "front-door"]),
        (acme.as_str(), vec!["acme-door"]),
    ] {
        let list = get(&a, &server, key, "/devices/list");
        let ids: Vec<&str> = list.body["devices"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["device_id"].as_str().unwrap())
            .collect();
        assert_eq!(ids, seen);
    }
    // Creates, one device or a group of them.
    for (path, theirs_body, missing_body) in [
        (
            "/access_codes/create",
            json!({"device_id": "acme-door", "starts_at": start, "ends_at": end}),
            json!({"device_id": "ghost-door", "starts_at": start, "ends_at": end}),
        ),
        (
            "/access_codes/create_multiple",
            json!({"device_ids": ["acme-door"], "starts_at": start, "ends_at": end}),
            json!({"device_ids": ["ghost-door"], "starts_at": start, "ends_at": end}),
        ),
    ] {
        let theirs = post(&a, &server, other, path, &theirs_body);
        let missing = post(&a, &server, other, path, &missing_body);
        same_answer(&theirs, &missing, "acme-door", "ghost-door");
    }
    // The code: get (by id, by PIN), update, delete.
    for (path, theirs_body, missing_body, their_id, missing_id) in [
        (
            "/access_codes/get",
            json!({"access_code_id": id}),
            json!({"access_code_id": ghost_id}),
            id.as_str(),
            ghost_id,
        ),
        (
            "/access_codes/get",
            json!({"device_id": "acme-door", "code": pin}),
            json!({"device_id": "ghost-door", "code": pin}),
            "acme-door",
            "ghost-door",
        ),
        (
            "/access_codes/update",
            json!({"access_code_id": id, "name": "taken"}),
            json!({"access_code_id": ghost_id, "name": "taken"}),
            id.as_str(),
            ghost_id,
        ),
        (
            "/access_codes/delete",
            json!({"access_code_id": id}),
            json!({"access_code_id": ghost_id}),
            id.as_str(),
            ghost_id,
        ),
    ] {
        let theirs = post(&a, &server, other, path, &theirs_body);
        let missing = post(&a, &server, other, path, &missing_body);
        same_answer(&theirs, &missing, their_id, missing_id);
    }
    // Lists: the device's codes are none, as a missing device's.
    for body in [
        json!({"device_id": "acme-door"}),
        json!({"access_code_ids": [id]}),
    ] {
        let theirs = post(&a, &server, other, "/access_codes/list", &body);
        assert_eq!(theirs.status, 200, "{theirs:?}");
        assert_eq!(theirs.body["access_codes"], json!([]));
    }
    // Nothing of it happened: the code is as acme made it.
    let mine = post(
        &a,
        &server,
        &acme,
        "/access_codes/get",
        &json!({"access_code_id": id}),
    );
    assert_eq!(mine.status, 200, "{mine:?}");
    assert_eq!(mine.body["access_code"]["name"], "acme guest");
    assert_eq!(mine.body["access_code"]["status"], code["status"]);
    // And acme's key sees none of default's devices.
    let theirs = get(&a, &server, &acme, "/devices/get?device_id=front-door");
    let missing = get(&a, &server, &acme, "/devices/get?device_id=ghost-door");
    same_answer(&theirs, &missing, "front-door", "ghost-door");
}

/// The attack of issue 20: 100 ongoing creates by another workspace's
/// key on a device. Each is 404; the device's slots stay free, its own
/// workspace's next ongoing code takes slot 0, and `/devices/get` says so.
fn another_workspace_cannot_spend_the_slots(fx: &Fixture) {
    let acme = with_acme(fx);
    let server = fx.start(&["--rate-limit", "0"]);
    let a = agent();
    let before = capacity(&a, &server, &acme, "acme-door");
    assert_eq!(
        before,
        json!({
            "workspace_id": "acme",
            "generation": 0,
            "ongoing_slots": {"total": 100, "used": 0, "revoked": 0, "free": 100},
            "variances_per_window": 3,
            "windows_open": 0,
            "windows_full": 0,
        })
    );
    for i in 0..100 {
        let r = post(
            &a,
            &server,
            &fx.key,
            "/access_codes/create",
            &json!({"device_id": "acme-door", "name": format!("squat {i}")}),
        );
        assert_eq!(
            (r.status, r.error_type()),
            (404, "device_not_found"),
            "{r:?}"
        );
    }
    assert_eq!(capacity(&a, &server, &acme, "acme-door"), before);
    let mine = post(
        &a,
        &server,
        &acme,
        "/access_codes/create",
        &json!({"device_id": "acme-door"}),
    );
    assert_eq!(mine.status, 200, "{mine:?}");
    assert_eq!(mine.body["access_code"]["type"], "ongoing");
    // What acme spends shows: one slot taken, then revoked; one window
    // full after three codes.
    let id = mine.body["access_code"]["access_code_id"].as_str().unwrap();
    let gone = post(
        &a,
        &server,
        &acme,
        "/access_codes/delete",
        &json!({"access_code_id": id}),
    );
    assert_eq!(gone.status, 200, "{gone:?}");
    assert_eq!(gone.body["revoked_slot"], 0, "the first slot");
    let (start, end) = window(5, 3);
    for _ in 0..3 {
        let r = post(
            &a,
            &server,
            &acme,
            "/access_codes/create",
            &json!({"device_id": "acme-door", "starts_at": start, "ends_at": end}),
        );
        assert_eq!(r.status, 200, "{r:?}");
    }
    let after = capacity(&a, &server, &acme, "acme-door");
    assert_eq!(
        after["ongoing_slots"],
        json!({"total": 100, "used": 1, "revoked": 1, "free": 99})
    );
    assert_eq!(
        (
            after["windows_open"].as_u64(),
            after["windows_full"].as_u64()
        ),
        (Some(1), Some(1))
    );
    // The same figures in the list, beside the device's owner.
    let list = get(&a, &server, &acme, "/devices/list");
    assert_eq!(list.body["devices"][0]["offpin_capacity"], after);
    assert_eq!(list.body["devices"][0]["workspace_id"], "acme");
    // The description documents the new fields.
    let doc = get(&a, &server, &acme, "/openapi.json");
    let device = &doc.body["components"]["schemas"]["DeviceView"]["properties"];
    assert!(device["offpin_capacity"].is_object(), "{device}");
    assert!(device["workspace_id"].is_object(), "{device}");
}

/// A create with an `Idempotency-Key`.
fn create_keyed(a: &ureq::Agent, server: &Server, key: &str, body: &Value, idem: &str) -> Answer {
    send_with(
        a,
        "POST",
        &server.url("/access_codes/create"),
        Some(key),
        &[("Idempotency-Key", idem)],
        Some(body.to_string().as_bytes()),
    )
    .unwrap()
}

/// Every page of a POSTed list `body` (one code a page), following
/// `next_page_cursor`: the devices of the codes seen.
fn walk(a: &ureq::Agent, server: &Server, key: &str, path: &str, body: &Value) -> Vec<String> {
    let mut body = body.clone();
    let mut seen = Vec::new();
    loop {
        let page = post(a, server, key, path, &body);
        assert_eq!(page.status, 200, "{page:?}");
        let items = page.body["access_codes"]
            .as_array()
            .or(page.body["devices"].as_array())
            .unwrap();
        assert!(items.len() <= 1, "{page:?}");
        seen.extend(
            items
                .iter()
                .map(|c| c["device_id"].as_str().unwrap().to_owned()),
        );
        match page.body["pagination"]["next_page_cursor"].as_str() {
            Some(cursor) => body["page_cursor"] = json!(cursor),
            None => return seen,
        }
    }
}

/// Pages, `search` and `Idempotency-Key` stay in the key's workspace:
/// `default`'s key (B) walks pages of a list naming acme's codes and its
/// own, and sees its own only; acme's cursor is refused to it; an
/// `Idempotency-Key` acme used makes B a code of its own, not a 409 naming
/// acme's code.
fn pages_and_idempotency_keys_stay_in_their_workspace(fx: &Fixture) {
    let acme = with_acme(fx);
    let b = fx.key.clone();
    let server = fx.start(&["--rate-limit", "0"]);
    let a = agent();
    let mut ids = Vec::new();
    let mut acme_ids = Vec::new();
    for i in 0..3 {
        let body = json!({"device_id": "acme-door", "name": format!("shared {i}")});
        let r = create_keyed(&a, &server, &acme, &body, &format!("booking-{i}"));
        assert_eq!(r.status, 200, "{r:?}");
        let id = r.body["access_code"]["access_code_id"]
            .as_str()
            .unwrap()
            .to_owned();
        acme_ids.push(id.clone());
        ids.push(id);
    }
    let mut b_ids = Vec::new();
    for i in 0..2 {
        let body = json!({"device_id": "front-door", "name": format!("shared b{i}")});
        let r = create_keyed(&a, &server, &b, &body, &format!("booking-{i}"));
        assert_eq!(r.status, 200, "the key acme used is B's own: {r:?}");
        assert_eq!(r.body["access_code"]["device_id"], "front-door");
        let id = r.body["access_code"]["access_code_id"]
            .as_str()
            .unwrap()
            .to_owned();
        assert!(!acme_ids.contains(&id));
        b_ids.push(id.clone());
        ids.push(id);
        // Sent again in B's workspace: B's code, nothing new.
        let again = create_keyed(&a, &server, &b, &body, &format!("booking-{i}"));
        assert_eq!(again.status, 200, "{again:?}");
        assert_eq!(again.body["access_code"]["access_code_id"], b_ids[i]);
    }
    // And acme's key, sent again, still gets acme's code.
    let again = create_keyed(
        &a,
        &server,
        &acme,
        &json!({"device_id": "acme-door", "name": "shared 0"}),
        "booking-0",
    );
    assert_eq!(again.body["access_code"]["access_code_id"], acme_ids[0]);
    // Page walks and searches naming every code: each key sees its own.
    for search in [None, Some("SHARED")] {
        let mut body = json!({"access_code_ids": ids, "limit": 1});
        if let Some(s) = search {
            body["search"] = json!(s);
        }
        let seen = walk(&a, &server, &b, "/access_codes/list", &body);
        assert_eq!(seen, ["front-door", "front-door"], "{search:?}");
        let seen = walk(&a, &server, &acme, "/access_codes/list", &body);
        assert_eq!(seen, ["acme-door"; 3], "{search:?}");
    }
    let seen = walk(
        &a,
        &server,
        &b,
        "/access_codes/list",
        &json!({"device_id": "acme-door", "search": "shared", "limit": 1}),
    );
    assert!(seen.is_empty(), "{seen:?}");
    let devices = walk(&a, &server, &b, "/devices/list", &json!({"limit": 1}));
    assert_eq!(devices, ["back-door", "front-door"]);
    let devices = walk(&a, &server, &acme, "/devices/list", &json!({"limit": 1}));
    assert_eq!(devices, ["acme-door"]);
    // acme's cursor, same filters, is not B's to walk on from.
    let first = post(
        &a,
        &server,
        &acme,
        "/access_codes/list",
        &json!({"access_code_ids": ids, "limit": 1}),
    );
    let cursor = first.body["pagination"]["next_page_cursor"]
        .as_str()
        .unwrap();
    let stolen = post(
        &a,
        &server,
        &b,
        "/access_codes/list",
        &json!({"access_code_ids": ids, "limit": 1, "page_cursor": cursor}),
    );
    assert_eq!(
        (stolen.status, stolen.error_type()),
        (400, "invalid_input"),
        "{stolen:?}"
    );
}

#[test]
fn pages_and_idempotency_keys_stay_in_their_workspace_on_sqlite() {
    pages_and_idempotency_keys_stay_in_their_workspace(&Fixture::sqlite());
}

#[test]
fn pages_and_idempotency_keys_stay_in_their_workspace_on_postgres() {
    if let Some(fx) = Fixture::postgres() {
        pages_and_idempotency_keys_stay_in_their_workspace(&fx);
    }
}

#[test]
fn a_key_sees_its_workspace_only_on_sqlite() {
    a_key_sees_its_workspace_only(&Fixture::sqlite());
}

#[test]
fn a_key_sees_its_workspace_only_on_postgres() {
    if let Some(fx) = Fixture::postgres() {
        a_key_sees_its_workspace_only(&fx);
    }
}

#[test]
fn another_workspace_cannot_spend_the_slots_on_sqlite() {
    another_workspace_cannot_spend_the_slots(&Fixture::sqlite());
}

#[test]
fn another_workspace_cannot_spend_the_slots_on_postgres() {
    if let Some(fx) = Fixture::postgres() {
        another_workspace_cannot_spend_the_slots(&fx);
    }
}
