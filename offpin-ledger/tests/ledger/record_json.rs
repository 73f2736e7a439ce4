//! The `access_code` record against the seeds' sample objects, field by
//! field.

use chrono::{DateTime, Utc};
use offpin::MasterKey;
use offpin_ledger::ledger::LedgerError;
use offpin_ledger::ledger::memory::MemoryLedger;
use offpin_ledger::ledger::{CodeSpec, Device, Ledger};
use offpin_ledger::record::{CodeError, MUST_BE_USED_WITHIN_24_HOURS, NO_VARIANCE_AVAILABLE};
use serde_json::{Map, Value, json};

/// "A time-bound offline access code resource" (seeds: the access_code object).
const SEED_TIME_BOUND_OFFLINE: &str = r#"{
"access_code_id": "e9cf6dd6-89aa-477f-a701-c08f3de13c1f",
"code": "1234",
"common_code_key": null,
"created_at": "2025-06-14T16:54:17.946242Z",
"device_id": "c9cd621d-ef0c-45c8-b608-026ebdb74615",
"ends_at": "2025-07-04T16:54:17.946049Z",
"errors": [],
"is_backup": false,
"is_backup_access_code_available": false,
"is_external_modification_allowed": false,
"is_managed": true,
"is_offline_access_code": true,
"is_one_time_use": false,
"is_scheduled_on_device": true,
"is_waiting_for_code_assignment": false,
"name": "My Access Code",
"pulled_backup_access_code_id": null,
"starts_at": "2025-07-02T16:54:17.946049Z",
"status": "set",
"type": "time_bound",
"warnings": []
}"#;

/// "A one-time-use offline access code resource" (seeds).
const SEED_ONE_TIME_OFFLINE: &str = r#"{
"access_code_id" : "e9cf6dd6-89aa-477f-a701-c08f3de13c1f" ,
"code" : "1234" ,
"common_code_key" : null ,
"created_at" : "2025-06-14T16:54:17.946242Z" ,
"device_id" : "c9cd621d-ef0c-45c8-b608-026ebdb74615" ,
"ends_at" : "2025-07-04T16:54:17.946049Z" ,
"errors" : [] ,
"is_backup" : false ,
"is_backup_access_code_available" : false ,
"is_external_modification_allowed" : false ,
"is_managed" : true ,
"is_offline_access_code" : true ,
"is_one_time_use" : true ,
"is_scheduled_on_device" : true ,
"is_waiting_for_code_assignment" : false ,
"name" : "My Access Code" ,
"pulled_backup_access_code_id" : null ,
"starts_at" : "2025-07-02T16:54:17.946049Z" ,
"status" : "set" ,
"type" : "time_bound" ,
"warnings" : []
}"#;

/// "An ongoing online access code resource" (seeds): the shape of an
/// ongoing code; only the offline flags differ for ours.
const SEED_ONGOING_ONLINE: &str = r#"{
"access_code_id": "e9cf6dd6-89aa-477f-a701-c08f3de13c1f",
"code": "1234",
"common_code_key": "auto_set_by_create_multiple_550e8400-e29b-41d4-a716-446655440000",
"created_at": "2025-06-14T16:54:17.946242Z",
"device_id": "c9cd621d-ef0c-45c8-b608-026ebdb74615",
"ends_at": null,
"errors": [],
"is_backup": false,
"is_backup_access_code_available": true,
"is_external_modification_allowed": true,
"is_managed": true,
"is_offline_access_code": false,
"is_one_time_use": false,
"is_scheduled_on_device": true,
"is_waiting_for_code_assignment": false,
"name": "My Access Code",
"pulled_backup_access_code_id": null,
"starts_at": null,
"status": "set",
"type": "ongoing",
"warnings": []
}"#;

const DEVICE: &str = "6aae9d08-fed6-4ca5-8328-e36849ab48fe";

fn t(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

/// An issue time before every window of these tests.
fn created() -> DateTime<Utc> {
    t("2024-12-01T00:00:00Z")
}

fn ledger() -> MemoryLedger {
    let mut l = MemoryLedger::new();
    l.add_device(&master(), &Device::new(DEVICE, "standard-10"))
        .unwrap();
    l
}

fn master() -> MasterKey {
    MasterKey::from_bytes([0x42; 32])
}

fn obj(v: &Value) -> &Map<String, Value> {
    v.as_object().expect("a JSON object")
}

fn is_api_time(v: &Value) -> bool {
    let s = v.as_str().unwrap_or("");
    // 2025-01-01T16:00:00.000Z
    s.len() == 24
        && s.ends_with('Z')
        && s.as_bytes()[19] == b'.'
        && DateTime::parse_from_rfc3339(s).is_ok()
}

/// The keys ours has beyond the seeds' offline-code objects: `appearance`
/// (in the seeds' list responses) and `user_identifier_key` (what the code
/// was issued for).
const EXTRA_KEYS: [&str; 2] = ["appearance", "user_identifier_key"];

/// Same keys (the seed's plus [`EXTRA_KEYS`]) in the same alphabetical
/// order, same JSON types, and equal values where the seed's value is a
/// constant of offline codes.
fn assert_same_shape(ours: &Value, seed: &Value, constants: &[&str]) {
    let (o, s) = (obj(ours), obj(seed));
    let ok: Vec<&str> = o.keys().map(String::as_str).collect();
    let mut sk: Vec<&str> = s.keys().map(String::as_str).chain(EXTRA_KEYS).collect();
    sk.sort_unstable();
    assert_eq!(ok, sk, "key sets (and order) differ");
    for k in EXTRA_KEYS {
        assert!(
            o[k].is_null() || o[k].is_object() || o[k].is_string(),
            "{k}"
        );
    }
    for (k, sv) in s {
        let ov = &o[k];
        // Nullable fields may be null on one side.
        let same_type = std::mem::discriminant(ov) == std::mem::discriminant(sv)
            || ov.is_null()
            || sv.is_null();
        assert!(same_type, "{k}: ours {ov} vs seed {sv}");
        if sv.is_string() && k.ends_with("_at") {
            assert!(
                is_api_time(ov),
                "{k}: {ov} is not RFC 3339 UTC with milliseconds"
            );
        }
    }
    for k in constants {
        assert_eq!(o[*k], s[*k], "{k}");
    }
}

const OFFLINE_CONSTANTS: &[&str] = &[
    "common_code_key",
    "errors",
    "is_backup",
    "is_backup_access_code_available",
    "is_external_modification_allowed",
    "is_managed",
    "is_offline_access_code",
    "is_one_time_use",
    "is_scheduled_on_device",
    "is_waiting_for_code_assignment",
    "pulled_backup_access_code_id",
    "status",
    "type",
];

#[test]
fn time_bound_record_matches_the_seed_object() {
    let mut l = ledger();
    let spec = CodeSpec::time_bound(DEVICE, t("2025-07-02T16:00:00Z"), t("2025-07-03T16:00:00Z"))
        .with_name("My Access Code");
    let r = l
        .issue(&master(), &spec, t("2025-06-14T16:54:17.946242Z"))
        .unwrap()
        .record;
    let ours = serde_json::to_value(&r).unwrap();
    let seed: Value = serde_json::from_str(SEED_TIME_BOUND_OFFLINE).unwrap();
    assert_same_shape(&ours, &seed, OFFLINE_CONSTANTS);
    assert_eq!(ours["name"], seed["name"]);
    assert_eq!(ours["device_id"], DEVICE);
    assert_eq!(ours["created_at"], "2025-06-14T16:54:17.946Z");
    assert_eq!(ours["starts_at"], "2025-07-02T16:00:00.000Z");
    assert_eq!(ours["ends_at"], "2025-07-03T16:00:00.000Z");
    assert_eq!(
        ours["warnings"],
        json!([]),
        "a 24 h window needs no activation warning"
    );
    assert_eq!(ours["code"].as_str().unwrap().len(), 10);
    assert!(uuid::Uuid::parse_str(ours["access_code_id"].as_str().unwrap()).is_ok());
}

#[test]
fn the_seeds_list_sample_window_is_encoded_exactly() {
    // The list endpoint's sample: 2025-01-01T16:00:00.000Z .. 2025-01-22T12:00:00.000Z.
    let mut l = ledger();
    let spec = CodeSpec::time_bound(
        DEVICE,
        t("2025-01-01T16:00:00.000Z"),
        t("2025-01-22T12:00:00.000Z"),
    )
    .with_name("my time-bound code");
    let r = l.issue(&master(), &spec, created()).unwrap().record;
    let v = serde_json::to_value(&r).unwrap();
    assert_eq!(v["starts_at"], "2025-01-01T16:00:00.000Z");
    assert_eq!(v["ends_at"], "2025-01-22T12:00:00.000Z");
    assert_eq!(v["type"], "time_bound");
    assert_eq!(v["status"], "set");
    // Longer than the 24 h activation window: the warning says so.
    let w = &v["warnings"][0];
    assert_eq!(w["warning_code"], MUST_BE_USED_WITHIN_24_HOURS);
    assert!(w["message"].as_str().unwrap().contains("within 24 hours"));
    assert!(
        w["message"]
            .as_str()
            .unwrap()
            .contains("2025-01-02T16:00:00.000Z")
    );
    assert_eq!(
        obj(w).keys().collect::<Vec<_>>(),
        ["created_at", "message", "warning_code"]
    );
}

#[test]
fn one_time_record_matches_the_seed_object_and_carries_the_warning() {
    let mut l = ledger();
    let spec = CodeSpec::one_time(DEVICE, t("2025-07-02T16:00:00Z")).with_name("My Access Code");
    let r = l
        .issue(&master(), &spec, t("2025-06-14T16:54:17Z"))
        .unwrap()
        .record;
    let ours = serde_json::to_value(&r).unwrap();
    let seed: Value = serde_json::from_str(SEED_ONE_TIME_OFFLINE).unwrap();
    assert_same_shape(&ours, &seed, OFFLINE_CONSTANTS);
    assert_eq!(ours["is_one_time_use"], true);
    // The use window actually encoded: 24 h from the start hour.
    assert_eq!(ours["starts_at"], "2025-07-02T16:00:00.000Z");
    assert_eq!(ours["ends_at"], "2025-07-03T16:00:00.000Z");
    let w = &ours["warnings"][0];
    assert_eq!(
        w["warning_code"],
        "igloo_algopin_must_be_used_within_24_hours"
    );
    assert!(w["message"].as_str().unwrap().contains("within 24 hours"));
    assert_eq!(w["created_at"], "2025-06-14T16:54:17.000Z");
}

#[test]
fn ongoing_record_matches_the_seed_shape() {
    let mut l = ledger();
    let r = l
        .issue(
            &master(),
            &CodeSpec::ongoing(DEVICE).with_name("My Access Code"),
            created(),
        )
        .unwrap()
        .record;
    let ours = serde_json::to_value(&r).unwrap();
    let seed: Value = serde_json::from_str(SEED_ONGOING_ONLINE).unwrap();
    // The seed is an online code: compare what offline codes share with it.
    assert_same_shape(
        &ours,
        &seed,
        &[
            "ends_at",
            "errors",
            "is_backup",
            "is_managed",
            "is_one_time_use",
            "starts_at",
            "status",
            "type",
            "warnings",
        ],
    );
    assert_eq!(ours["is_offline_access_code"], true);
    assert_eq!(ours["starts_at"], Value::Null);
    assert_eq!(ours["ends_at"], Value::Null);
}

#[test]
fn rounded_windows_report_what_the_lock_will_do() {
    let mut l = MemoryLedger::new();
    let plus1 = offpin::UtcOffset::from_minutes(60).unwrap();
    l.add_device(
        &master(),
        &Device::new("d", "standard-10").with_utc_offset(plus1),
    )
    .unwrap();
    // 16:20 .. 18:40 UTC, rounded outward to whole hours.
    let spec = CodeSpec::time_bound("d", t("2025-03-01T16:20:00Z"), t("2025-03-01T18:40:00Z"))
        .with_max_rounding_secs(3_600);
    let v = serde_json::to_value(l.issue(&master(), &spec, created()).unwrap().record).unwrap();
    assert_eq!(v["starts_at"], "2025-03-01T16:00:00.000Z");
    assert_eq!(v["ends_at"], "2025-03-01T19:00:00.000Z");
    // 40 days: daily windows at the lock's local (UTC+1) midnights.
    let spec = CodeSpec::time_bound(
        "d",
        t("2025-03-01T10:00:00+01:00"),
        t("2025-04-10T10:00:00+01:00"),
    )
    .with_max_rounding_secs(86_400);
    let v = serde_json::to_value(l.issue(&master(), &spec, created()).unwrap().record).unwrap();
    assert_eq!(v["starts_at"], "2025-02-28T23:00:00.000Z");
    assert_eq!(v["ends_at"], "2025-04-10T23:00:00.000Z");
}

#[test]
fn no_variance_error_object() {
    let e = CodeError::no_variance_available(3, t("2025-01-01T00:00:00Z"));
    let v = serde_json::to_value(&e).unwrap();
    assert_eq!(
        obj(&v).keys().collect::<Vec<_>>(),
        [
            "created_at",
            "error_code",
            "is_access_code_error",
            "message"
        ]
    );
    assert_eq!(v["error_code"], NO_VARIANCE_AVAILABLE);
    assert_eq!(v["is_access_code_error"], true);
    assert_eq!(v["created_at"], "2025-01-01T00:00:00.000Z");
}

#[test]
fn records_round_trip_through_json() {
    let mut l = ledger();
    let r = l
        .issue(
            &master(),
            &CodeSpec::one_time(DEVICE, t("2025-07-02T16:00:00Z")),
            created(),
        )
        .unwrap()
        .record;
    let text = serde_json::to_string(&r).unwrap();
    let back: offpin_ledger::record::AccessCode = serde_json::from_str(&text).unwrap();
    assert_eq!(back, r);
}

#[test]
fn appearance_and_user_identifier_key_are_what_was_stored() {
    let mut l = ledger();
    let spec = CodeSpec::ongoing(DEVICE)
        .with_name("my ongoing code")
        .with_user_identifier_key("guest-7");
    let v = serde_json::to_value(l.issue(&master(), &spec, created()).unwrap().record).unwrap();
    assert_eq!(v["appearance"], json!({"name": "my ongoing code"}));
    assert_eq!(v["user_identifier_key"], "guest-7");
    let v = serde_json::to_value(
        l.issue(&master(), &CodeSpec::ongoing(DEVICE), created())
            .unwrap()
            .record,
    )
    .unwrap();
    assert_eq!(v["appearance"], Value::Null);
    assert_eq!(v["user_identifier_key"], Value::Null);
}

#[test]
fn debug_output_never_shows_a_pin() {
    let mut l = ledger();
    let r = l
        .issue(&master(), &CodeSpec::ongoing(DEVICE), created())
        .unwrap()
        .record;
    let debug = format!("{r:?}");
    assert!(!debug.contains(&r.code), "{debug}");
    assert!(debug.contains("code: \"..\""), "{debug}");
    let deleted = l.delete(&master(), &r.access_code_id, created()).unwrap();
    let revocation = deleted.revocation_code.clone().unwrap();
    let debug = format!("{deleted:?}");
    assert!(
        !debug.contains(&revocation) && !debug.contains(&r.code),
        "{debug}"
    );
    let stored = format!("{:?}", ledger_code(&mut l, &r.access_code_id));
    assert!(
        !stored.contains(&revocation) && !stored.contains(&r.code),
        "{stored}"
    );
    let parts = offpin_ledger::record::OfflineCode {
        access_code_id: "x",
        device_id: DEVICE,
        code: &r.code,
        grant: offpin::Grant::Ongoing { slot: 0 },
        generation: 0,
        issued_window: None,
        name: None,
        user_identifier_key: None,
        common_code_key: None,
        created_at: created(),
        deleted_at: None,
        revocation_code: Some(&revocation),
        group: None,
    };
    let debug = format!("{parts:?}");
    assert!(
        !debug.contains(&r.code) && !debug.contains(&revocation),
        "{debug}"
    );
}

fn ledger_code(l: &mut MemoryLedger, id: &str) -> offpin_ledger::ledger::StoredCode {
    l.find_one(id).unwrap().unwrap()
}

#[test]
fn ledger_errors_take_the_seeds_error_shape() {
    let mut l = ledger();
    let spec = CodeSpec::time_bound(DEVICE, t("2025-07-02T16:00:00Z"), t("2025-07-02T18:00:00Z"));
    for _ in 0..3 {
        l.issue(&master(), &spec, created()).unwrap();
    }
    let e = l.issue(&master(), &spec, created()).unwrap_err();
    assert!(matches!(e, LedgerError::NoVarianceAvailable { .. }));
    let v = serde_json::to_value(e.to_code_error(t("2025-01-01T00:00:00.123456Z"))).unwrap();
    assert_eq!(
        v,
        json!({
            "created_at": "2025-01-01T00:00:00.123Z",
            "error_code": NO_VARIANCE_AVAILABLE,
            "is_access_code_error": true,
            "message": e.to_string(),
        })
    );
}
