//! The ledger: allocation, the master-key fingerprint, dead codes, atomic
//! batches with idempotency keys, device lifecycle, records at read time,
//! the hosted API's rules and API keys, on every backend (memory, SQLite,
//! PostgreSQL); concurrent writers on SQLite and PostgreSQL; and (with
//! feature `sqlite`) the file: persistence, upgrades, foreign and empty
//! files, read-only opens; groups (`ledger/groups.rs`); the `access_code`
//! JSON (`ledger/record_json.rs`); service codes and their URIs against the
//! committed vectors (`ledger/service.rs`); IANA zones against the lock's
//! TZ rules (`ledger/tz_rules.rs`).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "tests"
)]

use chrono::{DateTime, Duration, Utc};
use offpin::{Codec, Grant, MasterKey, RevokeTarget, UtcOffset};
use offpin_ledger::ledger::api_keys::{ApiKeyError, ApiKeyStore, RANDOM_BYTES};
use offpin_ledger::ledger::hosted::{CodeUpdate, HostedApi, RequestError};
use offpin_ledger::ledger::memory::MemoryLedger;
use offpin_ledger::ledger::{
    CodeSpec, Consequence, Device, DeviceChange, DeviceEntry, Ledger, LedgerError, ListFilter,
};
use offpin_ledger::record::{
    CANNOT_OPEN, CodeStatus, DAILY_WINDOW_OFF_LOCAL_MIDNIGHT, DELETED_STILL_OPENS, DEVICE_REMOVED,
    KEY_GENERATION_CHANGED, MUST_BE_USED_WITHIN_24_HOURS, WINDOW_ENDED, WINDOW_MOVED,
};

#[path = "ledger/capacity.rs"]
mod capacity;
#[path = "ledger/groups.rs"]
mod groups;
#[path = "ledger/record_json.rs"]
mod record_json;
#[path = "ledger/service.rs"]
mod service;
#[path = "ledger/tz_rules.rs"]
mod tz_rules;

fn t(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

fn master() -> MasterKey {
    MasterKey::from_bytes([9; 32])
}

/// Before every window of these tests.
fn now() -> DateTime<Utc> {
    t("2025-04-01T00:00:00Z")
}

fn window() -> CodeSpec {
    CodeSpec::time_bound(
        "lock-a",
        t("2025-05-01T15:00:00Z"),
        t("2025-05-03T11:00:00Z"),
    )
}

fn setup<L: Ledger>(l: &mut L) {
    l.add_device(&master(), &Device::new("lock-a", "standard-10"))
        .unwrap();
    l.add_device(&master(), &Device::new("lock-b", "compact-8"))
        .unwrap();
}

fn codec<L: Ledger>(l: &mut L, device: &str) -> Codec {
    l.device(device).unwrap().codec(&master()).unwrap()
}

fn warning_codes(r: &offpin_ledger::record::AccessCode) -> Vec<&str> {
    r.warnings.iter().map(|w| w.warning_code.as_str()).collect()
}

fn error_codes(r: &offpin_ledger::record::AccessCode) -> Vec<&str> {
    r.errors.iter().map(|e| e.error_code.as_str()).collect()
}

/// Allocation, listing and deletion, the same on every backend.
fn exercise<L: Ledger>(l: &mut L) {
    setup(l);
    let m = master();
    let now = now();

    // Three variances of one window, then the error.
    let a = l
        .issue(&m, &window().with_user_identifier_key("guest-1"), now)
        .unwrap()
        .record;
    let b = l.issue(&m, &window(), now).unwrap().record;
    let c = l.issue(&m, &window(), now).unwrap().record;
    assert!(a.code != b.code && b.code != c.code && a.code != c.code);
    let err = l.issue(&m, &window(), now).unwrap_err();
    assert!(matches!(
        err,
        LedgerError::NoVarianceAvailable { variances: 3, .. }
    ));
    assert_eq!(
        err.code(),
        "igloohome_offline_access_code_no_variance_available"
    );
    // The message says what the operator can do; deleting is not it.
    let text = err.to_string();
    assert!(
        text.contains("deleting a code does not free its variance"),
        "{text}"
    );
    assert!(text.contains("an hour earlier or later"), "{text}");
    let codec_a = codec(l, "lock-a");
    let variances: Vec<u8> = [&a, &b, &c]
        .iter()
        .map(|r| codec_a.decode_input(r.code.as_bytes()).unwrap().variance())
        .collect();
    assert_eq!(variances, [0, 1, 2]);

    // Deleting never frees the variance, and the deleted code stays listed.
    let deleted = l.delete(&m, &b.access_code_id, now).unwrap();
    assert_eq!(deleted.revocation_code, None);
    assert_eq!(deleted.record.status, CodeStatus::Removing);
    assert_eq!(
        warning_codes(&deleted.record),
        [MUST_BE_USED_WITHIN_24_HOURS, DELETED_STILL_OPENS]
    );
    assert!(matches!(
        l.issue(&m, &window(), now),
        Err(LedgerError::NoVarianceAvailable { .. })
    ));
    // Deleting again answers the same.
    assert_eq!(
        l.delete(&m, &b.access_code_id, now).unwrap().record,
        deleted.record
    );

    // A different window or device starts again at variance 0.
    let other = l
        .issue(
            &m,
            &CodeSpec::one_time("lock-b", t("2025-05-01T15:00:00Z")),
            now,
        )
        .unwrap()
        .record;
    assert_eq!(
        codec(l, "lock-b")
            .decode_input(other.code.as_bytes())
            .unwrap()
            .variance(),
        0
    );

    // list: filters, the required filter, stable order, deleted included.
    assert!(matches!(
        l.list(&ListFilter::default(), now),
        Err(LedgerError::MissingFilter)
    ));
    let only_user = ListFilter {
        user_identifier_key: Some("guest-1".into()),
        ..ListFilter::default()
    };
    assert!(matches!(
        l.list(&only_user, now),
        Err(LedgerError::MissingFilter)
    ));
    let ids: Vec<String> = l
        .list(&ListFilter::device("lock-a"), now)
        .unwrap()
        .into_iter()
        .map(|r| r.access_code_id)
        .collect();
    assert_eq!(
        ids,
        [
            a.access_code_id.clone(),
            b.access_code_id.clone(),
            c.access_code_id.clone()
        ]
    );
    let by_user = l
        .list(
            &ListFilter {
                user_identifier_key: Some("guest-1".into()),
                ..ListFilter::device("lock-a")
            },
            now,
        )
        .unwrap();
    assert_eq!(by_user.len(), 1);
    assert_eq!(by_user[0].access_code_id, a.access_code_id);
    assert_eq!(by_user[0].user_identifier_key.as_deref(), Some("guest-1"));
    let by_ids = l
        .list(
            &ListFilter {
                access_code_ids: vec![other.access_code_id.clone(), c.access_code_id.clone()],
                ..ListFilter::default()
            },
            now,
        )
        .unwrap();
    let got: Vec<&str> = by_ids.iter().map(|r| r.access_code_id.as_str()).collect();
    assert_eq!(
        got,
        [c.access_code_id.as_str(), other.access_code_id.as_str()]
    );

    // get, and the not-found error.
    assert_eq!(l.get(&a.access_code_id, now).unwrap(), a);
    assert_eq!(l.get(&b.access_code_id, now).unwrap(), deleted.record);
    assert!(matches!(
        l.get("nope", now),
        Err(LedgerError::NotFound { .. })
    ));
    assert!(matches!(
        l.delete(&m, "nope", now),
        Err(LedgerError::NotFound { .. })
    ));

    // Ongoing: lowest free slot; delete yields the revocation PIN, which
    // get shows again, and retires the slot for good.
    let o0 = l
        .issue(&m, &CodeSpec::ongoing("lock-a"), now)
        .unwrap()
        .record;
    let o1 = l
        .issue(&m, &CodeSpec::ongoing("lock-a"), now)
        .unwrap()
        .record;
    assert_eq!(
        codec_a.decode_input(o0.code.as_bytes()).unwrap(),
        Grant::Ongoing { slot: 0 }
    );
    assert_eq!(
        codec_a.decode_input(o1.code.as_bytes()).unwrap(),
        Grant::Ongoing { slot: 1 }
    );
    let gone = l.delete(&m, &o0.access_code_id, now).unwrap();
    assert_eq!(gone.revoked_slot, Some(0));
    let revoke = gone.revocation_code.unwrap();
    assert_eq!(
        codec_a.decode_input(revoke.as_bytes()).unwrap(),
        Grant::Revoke(RevokeTarget::Slot(0))
    );
    let later = l
        .get(&o0.access_code_id, now + Duration::days(400))
        .unwrap();
    assert_eq!(later.status, CodeStatus::Removing);
    assert!(
        later.warnings[0].message.contains(&revoke),
        "{:?}",
        later.warnings
    );
    let o2 = l
        .issue(&m, &CodeSpec::ongoing("lock-a"), now)
        .unwrap()
        .record;
    assert_eq!(
        codec_a.decode_input(o2.code.as_bytes()).unwrap(),
        Grant::Ongoing { slot: 2 }
    );

    // Unknown device, bad window.
    assert!(matches!(
        l.issue(&m, &CodeSpec::ongoing("ghost"), now),
        Err(LedgerError::UnknownDevice { .. })
    ));
    let backwards = CodeSpec::time_bound(
        "lock-a",
        t("2025-05-03T00:00:00Z"),
        t("2025-05-01T00:00:00Z"),
    );
    assert!(matches!(
        l.issue(&m, &backwards, now),
        Err(LedgerError::Issue(offpin::IssueError::EndNotAfterStart))
    ));

    // Devices: idempotent registration, conflicts refused.
    l.add_device(&master(), &Device::new("lock-a", "standard-10"))
        .unwrap();
    assert!(matches!(
        l.add_device(&master(), &Device::new("lock-a", "compact-8")),
        Err(LedgerError::DeviceConflict { .. })
    ));
    assert!(matches!(
        l.add_device(&master(), &Device::new("", "compact-8")),
        Err(LedgerError::Key(_))
    ));
    assert!(matches!(
        l.add_device(
            &master(),
            &Device::new("x", "standard-10").with_time_zone("Mars/Olympus")
        ),
        Err(LedgerError::Zone(_))
    ));
    let names: Vec<String> = l
        .devices()
        .unwrap()
        .into_iter()
        .map(|d| d.device_id)
        .collect();
    assert_eq!(names, ["lock-a", "lock-b"]);
}

/// Every refusal that keeps a code from lying.
fn refusals<L: Ledger>(l: &mut L) {
    setup(l);
    let m = master();
    // The ledger keeps the key its devices were registered with and
    // refuses another, naming both (more in `key_binding`).
    l.issue(&m, &window(), now()).unwrap();
    let other = MasterKey::from_bytes([1; 32]);
    let e = l.issue(&other, &window(), now()).unwrap_err();
    let LedgerError::MasterKeyMismatch { ledger, given } = e else {
        panic!("{e}");
    };
    assert_eq!((ledger, given), (m.fingerprint(), other.fingerprint()));
    let text = l.issue(&other, &window(), now()).unwrap_err().to_string();
    let hex = |f: [u8; 8]| offpin_ledger::ledger::fingerprint_hex(&f);
    assert!(
        text.contains(&hex(m.fingerprint())) && text.contains(&hex(other.fingerprint())),
        "{text}"
    );
    assert!(matches!(
        l.delete(&other, "x", now()),
        Err(LedgerError::MasterKeyMismatch { .. })
    ));
    assert_eq!(
        l.list(&ListFilter::device("lock-a"), now()).unwrap().len(),
        1
    );

    // Dead on arrival: issued 2026-12-01 for 2026-11-29 .. 2026-12-04
    // (must be used by 2026-11-30), and a window that ended.
    let issued_at = t("2026-12-01T12:00:00Z");
    let late = CodeSpec::time_bound(
        "lock-a",
        t("2026-11-29T15:00:00Z"),
        t("2026-12-04T11:00:00Z"),
    );
    let e = l.issue(&m, &late, issued_at).unwrap_err();
    assert!(
        matches!(e, LedgerError::ActivationDeadlinePassed { .. }),
        "{e}"
    );
    assert!(
        e.to_string()
            .contains("must be used by 2026-11-30T15:00:00.000Z"),
        "{e}"
    );
    let ended = CodeSpec::time_bound(
        "lock-a",
        t("2026-11-20T15:00:00Z"),
        t("2026-11-21T11:00:00Z"),
    );
    let e = l.issue(&m, &ended, issued_at).unwrap_err();
    assert!(matches!(e, LedgerError::WindowEnded { .. }), "{e}");
    assert!(
        e.to_string().contains("ended at 2026-11-21T11:00:00.000Z"),
        "{e}"
    );
    let one_time = CodeSpec::one_time("lock-a", t("2026-11-29T15:00:00Z"));
    assert!(matches!(
        l.issue(&m, &one_time, issued_at),
        Err(LedgerError::WindowEnded { .. })
    ));
    // Nothing was stored.
    assert_eq!(
        l.list(&ListFilter::device("lock-a"), issued_at)
            .unwrap()
            .len(),
        1
    );
    // A backfill records it, and the record says it cannot open.
    let r = l
        .issue(&m, &late.with_backfill(), issued_at)
        .unwrap()
        .record;
    assert_eq!(r.status, CodeStatus::Unset);
    assert_eq!(error_codes(&r), [CANNOT_OPEN]);
    assert!(r.errors[0].message.contains("2026-11-30T15:00:00.000Z"));
    // A window that has started but can still be activated is issued.
    let fresh = CodeSpec::time_bound(
        "lock-a",
        t("2026-12-01T09:00:00Z"),
        t("2026-12-04T11:00:00Z"),
    );
    let r = l.issue(&m, &fresh, issued_at).unwrap().record;
    assert_eq!(r.status, CodeStatus::Set);
}

/// What a refused operation must leave as it was: the fingerprint, the
/// devices, every code.
type Snapshot = (
    Option<[u8; 8]>,
    Vec<DeviceEntry>,
    Vec<offpin_ledger::ledger::StoredCode>,
);

fn snapshot<L: Ledger>(l: &mut L) -> Snapshot {
    let devices = l.device_entries().unwrap();
    let codes = devices
        .iter()
        .flat_map(|d| l.find(&ListFilter::device(&d.device.device_id)).unwrap())
        .collect();
    (l.master_fingerprint().unwrap(), devices, codes)
}

/// Asserts the refusal of `key` by a ledger bound to `ledger`, naming both
/// fingerprints.
fn assert_mismatch<T: std::fmt::Debug>(
    r: Result<T, LedgerError>,
    ledger: &MasterKey,
    key: &MasterKey,
    what: &str,
) {
    let e = r.unwrap_err();
    let hex = |k: &MasterKey| offpin_ledger::ledger::fingerprint_hex(&k.fingerprint());
    let text = e.to_string();
    assert!(
        text.contains(&hex(ledger)) && text.contains(&hex(key)),
        "{what}: {text}"
    );
    let LedgerError::MasterKeyMismatch {
        ledger: bound,
        given,
    } = e
    else {
        panic!("{what}: {e}");
    };
    assert_eq!(
        (bound, given),
        (ledger.fingerprint(), key.fingerprint()),
        "{what}"
    );
}

/// Every operation that takes a key, with `b`, on a ledger bound to `a`:
/// each is refused naming both keys, and nothing is stored.
fn all_refused<L: Ledger>(l: &mut L, a: &MasterKey, b: &MasterKey, code_id: &str) {
    let before = snapshot(l);
    let rekey = DeviceChange {
        generation: Some(7),
        ..DeviceChange::default()
    };
    let retry = CodeSpec::ongoing("lock-a").with_idempotency_key("booking-1");
    assert_mismatch(
        l.issue(b, &CodeSpec::ongoing("lock-a"), now()),
        a,
        b,
        "issue",
    );
    assert_mismatch(l.issue(b, &window(), now()), a, b, "issue time-bound");
    assert_mismatch(
        l.issue_batch(b, &[window(), CodeSpec::ongoing("lock-a")], now()),
        a,
        b,
        "batch",
    );
    assert_mismatch(l.issue(b, &retry, now()), a, b, "idempotent retry");
    assert_mismatch(l.issue_batch(b, &[retry], now()), a, b, "batch retry");
    assert_mismatch(l.verify_master_key(b), a, b, "device key (read-only)");
    assert_mismatch(l.adopt_master_key(b), a, b, "device key (adopting)");
    assert_mismatch(l.check_master_key(b), a, b, "check");
    assert_mismatch(
        l.update_device(b, "lock-a", &rekey, now()),
        a,
        b,
        "device update",
    );
    assert_mismatch(
        l.add_device(b, &Device::new("lock-b", "compact-8")),
        a,
        b,
        "device add of a later device",
    );
    assert_mismatch(
        l.add_device(b, &Device::new("lock-a", "standard-10")),
        a,
        b,
        "device add again",
    );
    assert_mismatch(l.delete(b, code_id, now()), a, b, "delete");
    assert_eq!(snapshot(l), before, "a refused key stored nothing");
}

/// Issue 17, point 5: the ledger is bound to the key of its first
/// registered device, so another key is refused before any code exists
/// (the first issue used to bind it), by every operation that takes a key.
fn key_binding<L: Ledger>(l: &mut L) {
    let (a, b) = (master(), MasterKey::from_bytes([1; 32]));
    // A read-only check binds nothing; an empty ledger refuses no key.
    l.verify_master_key(&b).unwrap();
    assert_eq!(l.master_fingerprint().unwrap(), None);
    l.add_device(&a, &Device::new("lock-a", "standard-10"))
        .unwrap();
    assert_eq!(l.master_fingerprint().unwrap(), Some(a.fingerprint()));
    // A device, no code yet: B is refused everywhere, nothing stored.
    all_refused(l, &a, &b, "no-such-code");
    assert!(l.find(&ListFilter::device("lock-a")).unwrap().is_empty());

    // With A: issued; the device key (what the lock holds) derives it.
    let retry = CodeSpec::ongoing("lock-a").with_idempotency_key("booking-1");
    let issued = l.issue(&a, &retry, now()).unwrap().record;
    l.verify_master_key(&a).unwrap();
    let lock_key = a.derive_device_key(b"lock-a", 0).unwrap();
    let lock = Codec::new(&lock_key, offpin::profile::shipped::STANDARD_10).unwrap();
    assert_eq!(
        lock.decode_input(issued.code.as_bytes()).unwrap(),
        Grant::Ongoing { slot: 0 }
    );
    // A code exists: B is still refused everywhere (its idempotent retry
    // does not return A's code), and the code is not deleted.
    all_refused(l, &a, &b, &issued.access_code_id);
    let again = l.issue(&a, &retry, now()).unwrap();
    assert!(!again.created);
    assert_eq!(again.record.code, issued.code);
    // A keeps working for everything else.
    l.add_device(&a, &Device::new("lock-b", "compact-8"))
        .unwrap();
    let rekey = DeviceChange {
        generation: Some(1),
        ..DeviceChange::default()
    };
    l.update_device(&a, "lock-a", &rekey, now()).unwrap();
    l.delete(&a, &issued.access_code_id, now()).unwrap();
}

/// The device an older offpin registered: no fingerprint was stored.
fn older_device<L: Ledger>(l: &mut L, device: Device) {
    let entry = DeviceEntry {
        device,
        removed_at: None,
    };
    assert!(l.put_device(&entry, None).unwrap());
}

/// A ledger an older offpin wrote, with a device but no fingerprint and
/// no code: no key is taken (not even the right one: nothing tells them
/// apart), nothing is stored, until `adopt_master_key` (the command's
/// `device key`) binds one; then every other key is refused.
fn older_ledger_without_codes<L: Ledger>(l: &mut L) {
    let (a, b) = (master(), MasterKey::from_bytes([1; 32]));
    older_device(l, Device::new("lock-a", "standard-10"));
    let before = snapshot(l);
    assert_eq!(before.0, None);
    let hex = |k: &MasterKey| offpin_ledger::ledger::fingerprint_hex(&k.fingerprint());
    for key in [&a, &b] {
        let unbound = |r: Result<(), LedgerError>, what: &str| {
            let e = r.unwrap_err();
            assert!(e.to_string().contains(&hex(key)), "{what}: {e}");
            assert!(
                matches!(&e, LedgerError::MasterKeyUnbound { device_id, given }
                    if device_id == "lock-a" && *given == key.fingerprint()),
                "{what}: {e}"
            );
            assert_eq!(e.code(), "master_key_unbound");
        };
        unbound(l.issue(key, &window(), now()).map(drop), "issue");
        unbound(
            l.issue_batch(key, &[CodeSpec::ongoing("lock-a")], now())
                .map(drop),
            "batch",
        );
        unbound(l.verify_master_key(key), "read-only check");
        unbound(l.check_master_key(key), "check");
        unbound(
            l.add_device(key, &Device::new("lock-b", "compact-8")),
            "device add",
        );
        let rekey = DeviceChange {
            generation: Some(1),
            ..DeviceChange::default()
        };
        unbound(
            l.update_device(key, "lock-a", &rekey, now()).map(drop),
            "device update",
        );
    }
    assert_eq!(snapshot(l), before, "nothing stored, nothing bound");
    // Adopting binds; then it is an ordinary bound ledger.
    l.adopt_master_key(&a).unwrap();
    assert_eq!(l.master_fingerprint().unwrap(), Some(a.fingerprint()));
    l.adopt_master_key(&a).unwrap();
    all_refused(l, &a, &b, "no-such-code");
    l.issue(&a, &window(), now()).unwrap();
}

/// A ledger an older offpin wrote, with codes but no fingerprint: the key
/// must derive a stored PIN (of the key generation it was issued with,
/// though the device has been re-keyed since); the one that does binds it.
fn older_ledger_with_a_code<L: Ledger>(l: &mut L) {
    use offpin_ledger::ledger::{Allocation, AllocationScope, Slot, StoredCode};
    let (a, b) = (master(), MasterKey::from_bytes([1; 32]));
    let device = Device::new("lock-a", "standard-10");
    older_device(l, device.clone().with_generation(1));
    // Its code of generation 0, issued with A.
    let grant = Grant::Ongoing { slot: 0 };
    let pin = device.codec(&a).unwrap().pin_for(&grant).unwrap();
    let (scope, _) = AllocationScope::of(&grant, 0).unwrap();
    let batch = [Allocation {
        device_id: "lock-a",
        scope,
        limit: 8,
        idempotency_key: None,
        joint: false,
    }];
    let mut decide = |_: usize, slot: Slot| {
        assert_eq!(slot, Slot::Free(0));
        Ok(StoredCode {
            access_code_id: "old-1".to_owned(),
            device_id: "lock-a".to_owned(),
            scope,
            number: 0,
            code: pin.as_str().to_owned(),
            issued_window: None,
            name: None,
            user_identifier_key: None,
            common_code_key: None,
            idempotency_key: None,
            created_at: now(),
            deleted_at: None,
            revocation_code: None,
            group: None,
        })
    };
    l.allocate(&batch, &mut decide).unwrap();
    let before = snapshot(l);
    let e = l.issue(&b, &window(), now()).unwrap_err();
    assert!(
        matches!(&e, LedgerError::KeyDoesNotDerive { access_code_id, given }
            if access_code_id == "old-1" && *given == b.fingerprint()),
        "{e}"
    );
    assert!(matches!(
        l.add_device(&b, &Device::new("lock-b", "compact-8")),
        Err(LedgerError::KeyDoesNotDerive { .. })
    ));
    // A read-only check accepts A and binds nothing.
    l.verify_master_key(&a).unwrap();
    assert_eq!(snapshot(l), before);
    l.issue(&a, &window(), now()).unwrap();
    assert_eq!(l.master_fingerprint().unwrap(), Some(a.fingerprint()));
    assert_mismatch(l.issue(&b, &window(), now()), &a, &b, "after binding");
}

/// Batches: all or nothing; retries return what was issued.
fn batches<L: Ledger>(l: &mut L) {
    setup(l);
    let m = master();
    let rows: Vec<CodeSpec> = (0..21)
        .map(|i| {
            let start = t("2025-06-01T10:00:00Z") + Duration::days(i);
            CodeSpec::time_bound("lock-a", start, start + Duration::hours(2))
                .with_idempotency_key(&format!("booking-{i}"))
        })
        .collect();
    // A bad request in the middle: nothing of the batch is issued.
    let mut bad = rows.clone();
    bad[10] = CodeSpec::ongoing("ghost");
    let e = l.issue_batch(&m, &bad, now()).unwrap_err();
    let LedgerError::InBatch { index: 10, source } = &e else {
        panic!("{e}");
    };
    assert!(matches!(**source, LedgerError::UnknownDevice { .. }));
    // A request that fails only at allocation (its window's variances are
    // spent by the rows before it): rolled back too.
    let mut spent = rows.clone();
    for i in 0..4 {
        spent[16 + i] = rows[15].clone().with_idempotency_key(&format!("again-{i}"));
    }
    let e = l.issue_batch(&m, &spent, now()).unwrap_err();
    assert!(matches!(e, LedgerError::InBatch { index: 18, .. }), "{e}");
    assert!(
        l.list(&ListFilter::device("lock-a"), now())
            .unwrap()
            .is_empty()
    );

    let first = l.issue_batch(&m, &rows, now()).unwrap();
    assert_eq!(first.len(), 21);
    assert!(first.iter().all(|o| o.created));
    // The same batch again issues nothing and returns the same codes.
    let again = l.issue_batch(&m, &rows, now()).unwrap();
    assert!(again.iter().all(|o| !o.created));
    let codes = |v: &[offpin_ledger::ledger::IssueOutcome]| {
        v.iter().map(|o| o.record.code.clone()).collect::<Vec<_>>()
    };
    assert_eq!(codes(&first), codes(&again));
    assert_eq!(
        l.list(&ListFilter::device("lock-a"), now()).unwrap().len(),
        21
    );
    // The same key for another request is refused.
    let reused = window().with_idempotency_key("booking-3");
    assert!(matches!(
        l.issue(&m, &reused, now()),
        Err(LedgerError::IdempotencyConflict { .. })
    ));
}

/// Device update and removal, and what they do to the codes.
fn lifecycle<L: Ledger>(l: &mut L) {
    let m = master();
    let plus1 = UtcOffset::from_minutes(60).unwrap();
    l.add_device(
        &master(),
        &Device::new("lock-a", "standard-10").with_utc_offset(plus1),
    )
    .unwrap();
    let hourly = l.issue(&m, &window(), now()).unwrap().record;
    let daily = l
        .issue(
            &m,
            &CodeSpec::time_bound(
                "lock-a",
                t("2025-05-01T23:00:00Z"),
                t("2025-06-10T23:00:00Z"),
            ),
            now(),
        )
        .unwrap()
        .record;
    let ongoing = l
        .issue(&m, &CodeSpec::ongoing("lock-a"), now())
        .unwrap()
        .record;

    // A new offset moves the daily window, nothing else.
    let change = DeviceChange {
        utc_offset: Some(UtcOffset::from_minutes(120).unwrap()),
        ..DeviceChange::default()
    };
    let u = l.update_device(&m, "lock-a", &change, now()).unwrap();
    assert_eq!(u.affected.len(), 1);
    assert_eq!(u.affected[0].record.access_code_id, daily.access_code_id);
    let Consequence::WindowMoves { from, to } = u.affected[0].consequence else {
        panic!("{:?}", u.affected[0]);
    };
    assert_eq!(from.start - to.start, 3_600);
    let moved = l.get(&daily.access_code_id, now()).unwrap();
    assert_eq!(
        warning_codes(&moved),
        [MUST_BE_USED_WITHIN_24_HOURS, WINDOW_MOVED]
    );
    assert_eq!(moved.starts_at, Some(t("2025-05-01T22:00:00Z")));

    // Re-keying: every code that may open stops opening.
    let bump = DeviceChange {
        generation: Some(1),
        ..DeviceChange::default()
    };
    let u = l.update_device(&m, "lock-a", &bump, now()).unwrap();
    let ids: Vec<&str> = u
        .affected
        .iter()
        .map(|a| a.record.access_code_id.as_str())
        .collect();
    assert_eq!(
        ids,
        [
            &hourly.access_code_id,
            &daily.access_code_id,
            &ongoing.access_code_id
        ]
    );
    assert!(
        u.affected
            .iter()
            .all(|a| a.consequence == Consequence::StopsOpening)
    );
    let old = l.get(&hourly.access_code_id, now()).unwrap();
    assert_eq!(old.status, CodeStatus::Unset);
    assert_eq!(error_codes(&old), [KEY_GENERATION_CHANGED]);
    // A new generation gets fresh variances and slots, and other PINs.
    let fresh = l.issue(&m, &window(), now()).unwrap().record;
    assert_ne!(fresh.code, hourly.code);
    assert_eq!(
        codec(l, "lock-a")
            .decode_input(fresh.code.as_bytes())
            .unwrap()
            .variance(),
        0
    );
    // Going back, or changing nothing, is refused.
    assert!(matches!(
        l.update_device(
            &m,
            "lock-a",
            &DeviceChange {
                generation: Some(1),
                ..DeviceChange::default()
            },
            now()
        ),
        Err(LedgerError::GenerationNotHigher {
            current: 1,
            requested: 1,
            ..
        })
    ));
    assert!(matches!(
        l.update_device(&m, "lock-a", &DeviceChange::default(), now()),
        Err(LedgerError::NoChange { .. })
    ));

    // Removal: codes stay, marked; no issuing; re-adding continues the
    // allocation, so no PIN is handed out twice.
    let r = l.remove_device("lock-a", now()).unwrap();
    assert_eq!(
        r.affected.len(),
        1,
        "only the generation-1 code may still open"
    );
    assert!(matches!(
        l.issue(&m, &window(), now()),
        Err(LedgerError::DeviceRemoved { .. })
    ));
    assert!(l.devices().unwrap().is_empty());
    let listed = l.get(&fresh.access_code_id, now()).unwrap();
    assert_eq!(listed.status, CodeStatus::Unknown);
    assert_eq!(error_codes(&listed), [DEVICE_REMOVED]);
    let readd = Device::new("lock-a", "standard-10")
        .with_utc_offset(UtcOffset::from_minutes(120).unwrap())
        .with_generation(1);
    l.add_device(&master(), &readd).unwrap();
    let next = l.issue(&m, &window(), now()).unwrap().record;
    assert_ne!(next.code, fresh.code);
    assert_eq!(
        codec(l, "lock-a")
            .decode_input(next.code.as_bytes())
            .unwrap()
            .variance(),
        1
    );
}

/// Records say what the lock does at the time they are read.
fn read_time<L: Ledger>(l: &mut L) {
    setup(l);
    let m = master();
    let r = l.issue(&m, &window(), now()).unwrap().record;
    let mut at = |s: &str| l_get(l, &r.access_code_id, t(s));
    fn l_get<L: Ledger>(
        l: &mut L,
        id: &str,
        at: DateTime<Utc>,
    ) -> offpin_ledger::record::AccessCode {
        l.get(id, at).unwrap()
    }
    let before = at("2025-04-02T00:00:00Z");
    assert_eq!(before.status, CodeStatus::Set);
    assert!(
        before.warnings[0]
            .message
            .contains("must be used for the first time")
    );
    let past_deadline = at("2025-05-02T16:00:00Z");
    assert_eq!(past_deadline.status, CodeStatus::Set);
    assert!(
        past_deadline.warnings[0].message.contains("has passed"),
        "{:?}",
        past_deadline.warnings
    );
    assert!(
        past_deadline.warnings[0]
            .message
            .contains("the server cannot know")
    );
    // Within the lock's grace after the end it still opens.
    assert_eq!(at("2025-05-03T11:05:00Z").status, CodeStatus::Set);
    let expired = at("2025-05-03T11:10:00Z");
    assert_eq!(expired.status, CodeStatus::Unset);
    assert_eq!(warning_codes(&expired), [WINDOW_ENDED]);
}

/// The hosted API's rules on a backend: rename, immutable windows, get by
/// PIN, delete on the right device; deleted codes stay found.
fn hosted<L: Ledger>(l: &mut L) {
    setup(l);
    let m = master();
    let now = now();
    let a = l
        .issue(&m, &window().with_name("before"), now)
        .unwrap()
        .record;
    let renamed = l
        .update(
            &a.access_code_id,
            &CodeUpdate {
                name: Some(Some("after".into())),
                starts_at: Some(a.starts_at),
                ..CodeUpdate::default()
            },
            now,
        )
        .unwrap();
    assert_eq!(renamed.name.as_deref(), Some("after"));
    assert_eq!(
        renamed.appearance.as_ref().map(|a| a.name.as_str()),
        Some("after")
    );
    assert_eq!(l.get(&a.access_code_id, now).unwrap(), renamed);
    let moved = l.update(
        &a.access_code_id,
        &CodeUpdate {
            name: Some(Some("lost".into())),
            ends_at: Some(Some(t("2025-05-04T11:00:00Z"))),
            ..CodeUpdate::default()
        },
        now,
    );
    assert!(
        matches!(moved, Err(RequestError::Immutable { field: "ends_at" })),
        "{moved:?}"
    );
    assert_eq!(
        l.get(&a.access_code_id, now).unwrap(),
        renamed,
        "nothing changed"
    );
    // The same name again changes nothing.
    let same = CodeUpdate {
        name: Some(Some("after".into())),
        ..CodeUpdate::default()
    };
    assert_eq!(l.update(&a.access_code_id, &same, now).unwrap(), renamed);
    assert_eq!(l.get_by_code("lock-a", &a.code, now).unwrap(), renamed);
    assert!(matches!(
        l.get_by_code("lock-b", &a.code, now),
        Err(RequestError::CodeNotFound { .. })
    ));
    assert!(matches!(
        l.get_by_code("ghost", &a.code, now),
        Err(RequestError::Ledger(LedgerError::UnknownDevice { .. }))
    ));
    assert!(matches!(
        l.delete_code(&m, &a.access_code_id, Some("lock-b"), now),
        Err(RequestError::Ledger(LedgerError::NotFound { .. }))
    ));
    assert_eq!(
        l.get(&a.access_code_id, now).unwrap().status,
        CodeStatus::Set,
        "a delete on the wrong device deletes nothing"
    );
    let deleted = l
        .delete_code(&m, &a.access_code_id, Some("lock-a"), now)
        .unwrap();
    assert_eq!(deleted.record.status, CodeStatus::Removing);
    // A deleted code is still found by its PIN, and may be renamed.
    assert_eq!(
        l.get_by_code("lock-a", &a.code, now).unwrap(),
        deleted.record
    );
    let cleared = CodeUpdate {
        name: Some(None),
        ..CodeUpdate::default()
    };
    let r = l.update(&a.access_code_id, &cleared, now).unwrap();
    assert_eq!(
        (r.name, r.appearance, r.status),
        (None, None, CodeStatus::Removing)
    );
    assert!(matches!(
        l.update("nope", &CodeUpdate::default(), now),
        Err(RequestError::Ledger(LedgerError::NotFound { .. }))
    ));
}

/// API keys on a backend: created keys authenticate, near misses and
/// revoked keys do not.
fn api_keys<L: ApiKeyStore>(l: &mut L) {
    let now = now();
    let key = l.create_api_key("ci", &[7; RANDOM_BYTES], now).unwrap();
    let text = key.expose_secret().to_owned();
    assert!(text.starts_with("seam_"));
    assert_eq!(l.authenticate(&text).unwrap().name, "ci");
    // Same id, another secret: refused (the hash differs).
    let mut forged = text.clone();
    forged.pop();
    forged.push(if text.ends_with('0') { '1' } else { '0' });
    assert!(matches!(l.authenticate(&forged), Err(ApiKeyError::Unknown)));
    assert!(matches!(
        l.authenticate("seam_nothex"),
        Err(ApiKeyError::Malformed)
    ));
    assert!(matches!(
        l.create_api_key("ci", &[8; RANDOM_BYTES], now),
        Err(ApiKeyError::NameTaken { .. })
    ));
    let other = l.create_api_key("ops", &[9; RANDOM_BYTES], now).unwrap();
    l.revoke_api_key("ci", now).unwrap();
    assert!(matches!(l.authenticate(&text), Err(ApiKeyError::Revoked)));
    assert!(matches!(
        l.revoke_api_key("ci", now),
        Err(ApiKeyError::NoSuchName { .. })
    ));
    assert_eq!(l.authenticate(other.expose_secret()).unwrap().name, "ops");
    // A revoked name can be given to a new key.
    l.create_api_key("ci", &[10; RANDOM_BYTES], now).unwrap();
    let names: Vec<(String, bool)> = l
        .api_keys()
        .unwrap()
        .into_iter()
        .map(|k| (k.name, k.revoked_at.is_some()))
        .collect();
    assert_eq!(
        names,
        [
            ("ci".to_owned(), true),
            ("ops".to_owned(), false),
            ("ci".to_owned(), false)
        ]
    );
    // The store never holds the key's text.
    assert!(!format!("{:?}", l.api_keys().unwrap()).contains(&text));
}

/// Every behaviour test, on ledgers `open` makes (each a fresh ledger).
fn every_behaviour<L: Ledger + ApiKeyStore>(mut open: impl FnMut() -> L) {
    exercise(&mut open());
    refusals(&mut open());
    key_binding(&mut open());
    older_ledger_without_codes(&mut open());
    older_ledger_with_a_code(&mut open());
    batches(&mut open());
    lifecycle(&mut open());
    read_time(&mut open());
    hosted(&mut open());
    api_keys(&mut open());
}

/// One racer's work in [`concurrent_writers`]: its number and its
/// connection in, its result out.
type Job<L, R> = std::sync::Arc<dyn Fn(usize, &mut L) -> R + Send + Sync>;

/// `n` racers, each on a connection of its own from `open`, released
/// together; their results.
fn race<L: 'static, R: Send + 'static, F: Fn() -> L + Send + Sync + 'static>(
    open: &std::sync::Arc<F>,
    n: usize,
    job: Job<L, R>,
) -> Vec<R> {
    use std::sync::{Arc, Barrier};
    let barrier = Arc::new(Barrier::new(n));
    let handles: Vec<_> = (0..n)
        .map(|i| {
            let (open, barrier, job) = (Arc::clone(open), Arc::clone(&barrier), Arc::clone(&job));
            std::thread::spawn(move || {
                let mut l = open();
                barrier.wait();
                job(i, &mut l)
            })
        })
        .collect();
    handles.into_iter().map(|h| h.join().unwrap()).collect()
}

/// Racers on connections `open` makes to one shared ledger: no variance
/// or ongoing slot handed out twice, nothing lost; one code per
/// idempotency key; the first registration's master key wins; a device compare-and-swap
/// has one winner; batches that cross each other's scopes all commit.
fn concurrent_writers<L: Ledger + 'static, F: Fn() -> L + Send + Sync + 'static>(open: F) {
    use std::collections::BTreeSet;
    use std::sync::{Arc, Barrier};
    let open = Arc::new(open);
    // The first registration binds the ledger: of 6 racers that register
    // the same device with 6 keys, one wins; the others are refused and
    // store nothing. The rest of the test uses the winner's key.
    let key_of = |i: usize| MasterKey::from_bytes([u8::try_from(i).unwrap() + 1; 32]);
    let keys = race(
        &open,
        6,
        Arc::new(move |i, l: &mut L| {
            let r = l.add_device(&key_of(i), &Device::new("lock-a", "standard-10"));
            (i, r)
        }),
    );
    let winners: Vec<usize> = keys
        .iter()
        .filter(|(_, r)| r.is_ok())
        .map(|(i, _)| *i)
        .collect();
    assert_eq!(winners.len(), 1, "{keys:?}");
    let won = winners[0];
    for (i, r) in &keys {
        assert!(
            *i == won || matches!(r, Err(LedgerError::MasterKeyMismatch { .. })),
            "{r:?}"
        );
    }
    {
        let mut l = open();
        assert_eq!(
            l.master_fingerprint().unwrap(),
            Some(key_of(won).fingerprint())
        );
        l.add_device(&key_of(won), &Device::new("lock-s", "secure-12"))
            .unwrap();
    }
    let master = move || key_of(won);

    // secure-12 has 8 variances; 12 writers race for one window, 10 more
    // for ongoing slots of another device.
    let writers = 12;
    let results = race(
        &open,
        writers + 10,
        Arc::new(move |i, l: &mut L| {
            let spec = if i < writers {
                CodeSpec::time_bound(
                    "lock-s",
                    t("2025-05-01T15:00:00Z"),
                    t("2025-05-01T20:00:00Z"),
                )
            } else {
                CodeSpec::ongoing("lock-a")
            };
            (i, l.issue(&master(), &spec, now()))
        }),
    );
    let mut windowed = BTreeSet::new();
    let mut slots = BTreeSet::new();
    let mut exhausted = 0;
    for (i, r) in results {
        match (i < writers, r) {
            (true, Ok(o)) => assert!(windowed.insert(o.record.code)),
            (true, Err(LedgerError::NoVarianceAvailable { .. })) => exhausted += 1,
            (false, Ok(o)) => assert!(slots.insert(o.record.code)),
            (_, Err(e)) => panic!("unexpected error: {e}"),
        }
    }
    assert_eq!(windowed.len(), 8);
    assert_eq!(exhausted, writers - 8);
    assert_eq!(slots.len(), 10);
    // Nothing lost: the ledger holds exactly the codes handed out.
    let mut l = open();
    let stored: BTreeSet<String> = l
        .list(&ListFilter::device("lock-s"), now())
        .unwrap()
        .into_iter()
        .map(|r| r.code)
        .collect();
    assert_eq!(stored, windowed);
    let codec_s = l.device("lock-s").unwrap().codec(&master()).unwrap();
    let vs: BTreeSet<u8> = stored
        .iter()
        .map(|c| codec_s.decode_input(c.as_bytes()).unwrap().variance())
        .collect();
    assert_eq!(vs, (0..8).collect());
    assert_eq!(
        l.list(&ListFilter::device("lock-a"), now()).unwrap().len(),
        10
    );

    // One idempotency key, 8 racers: one code, the same PIN for all.
    let same = race(
        &open,
        8,
        Arc::new(move |i, l: &mut L| {
            let spec = window().with_idempotency_key("booking-42");
            (i, l.issue(&master(), &spec, now()))
        }),
    );
    let pins: BTreeSet<String> = same
        .iter()
        .map(|(_, r)| r.as_ref().unwrap().record.code.clone())
        .collect();
    assert_eq!(pins.len(), 1);
    assert_eq!(
        same.iter()
            .filter(|(_, r)| r.as_ref().unwrap().created)
            .count(),
        1
    );
    let by_key = ListFilter::device("lock-a");
    assert_eq!(
        l.list(&by_key, now())
            .unwrap()
            .iter()
            .filter(|r| pins.contains(&r.code))
            .count(),
        1
    );

    // Batches that take the same two windows in opposite orders (on
    // PostgreSQL: transactions that wait on each other) all commit, and
    // share no PIN.
    let crossed = race(
        &open,
        6,
        Arc::new(move |i, l: &mut L| {
            let first = CodeSpec::time_bound(
                "lock-s",
                t("2025-07-01T10:00:00Z"),
                t("2025-07-01T12:00:00Z"),
            );
            let second = CodeSpec::time_bound(
                "lock-s",
                t("2025-07-02T10:00:00Z"),
                t("2025-07-02T12:00:00Z"),
            );
            let batch = if i % 2 == 0 {
                [first, second]
            } else {
                [second, first]
            };
            let r = l
                .issue_batch(&master(), &batch, now())
                .map(|mut v| v.remove(0));
            (i, r)
        }),
    );
    assert!(crossed.iter().all(|(_, r)| r.is_ok()), "{crossed:?}");
    let july = ListFilter::device("lock-s");
    let july: Vec<String> = l
        .list(&july, now())
        .unwrap()
        .into_iter()
        .filter(|r| r.starts_at >= Some(t("2025-07-01T00:00:00Z")))
        .map(|r| r.code)
        .collect();
    assert_eq!(july.len(), 12);
    assert_eq!(july.iter().collect::<BTreeSet<_>>().len(), 12);

    // Device compare-and-swap: of racers that expect the same entry, one
    // stores its change.
    let entry = l.device_entry("lock-a").unwrap().unwrap();
    let cas: Vec<bool> = {
        let barrier = Arc::new(Barrier::new(5));
        let handles: Vec<_> = (0..5u32)
            .map(|g| {
                let (open, barrier, entry) =
                    (Arc::clone(&open), Arc::clone(&barrier), entry.clone());
                std::thread::spawn(move || {
                    let mut l = open();
                    let new = DeviceEntry {
                        device: entry.device.clone().with_generation(g + 1),
                        removed_at: None,
                    };
                    barrier.wait();
                    l.put_device(&new, Some(&entry)).unwrap()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    };
    assert_eq!(cas.iter().filter(|w| **w).count(), 1, "{cas:?}");
    let won = cas.iter().position(|w| *w).unwrap();
    assert_eq!(
        l.device("lock-a").unwrap().generation,
        u32::try_from(won).unwrap() + 1
    );
}

#[test]
fn memory_ledger_behaviour() {
    exercise(&mut MemoryLedger::new());
}

#[test]
fn memory_ledger_hosted_api_and_keys() {
    hosted(&mut MemoryLedger::new());
    api_keys(&mut MemoryLedger::new());
}

#[test]
fn memory_ledger_refusals() {
    refusals(&mut MemoryLedger::new());
}

#[test]
fn memory_ledger_binds_its_key_at_the_first_device() {
    key_binding(&mut MemoryLedger::new());
    older_ledger_without_codes(&mut MemoryLedger::new());
    older_ledger_with_a_code(&mut MemoryLedger::new());
}

#[test]
fn memory_ledger_batches_are_all_or_nothing_and_idempotent() {
    batches(&mut MemoryLedger::new());
}

#[test]
fn memory_ledger_device_lifecycle() {
    lifecycle(&mut MemoryLedger::new());
}

#[test]
fn memory_ledger_records_at_read_time() {
    read_time(&mut MemoryLedger::new());
}

#[test]
fn kinds_and_times_must_agree() {
    use offpin_ledger::ledger::CodeWant;
    let s = Some(t("2025-05-01T15:00:00Z"));
    assert_eq!(
        CodeWant::from_times(None, None, false).unwrap(),
        CodeWant::Ongoing
    );
    assert!(matches!(
        CodeWant::from_times(s, s, false),
        Ok(CodeWant::TimeBound { .. })
    ));
    assert!(matches!(
        CodeWant::from_times(s, None, true),
        Ok(CodeWant::OneTime { .. })
    ));
    for (a, b, one) in [
        (s, None, false),
        (None, s, false),
        (s, s, true),
        (None, None, true),
        (None, s, true),
    ] {
        assert!(
            matches!(
                CodeWant::from_times(a, b, one),
                Err(LedgerError::TimesDisagree { .. })
            ),
            "{a:?} {b:?} {one}"
        );
    }
}

#[test]
fn daily_windows_off_local_midnight_are_flagged_with_the_hours() {
    let mut l = MemoryLedger::new();
    let paris = Device::new("paris-1", "standard-10")
        .with_time_zone("Europe/Paris")
        .with_utc_offset(UtcOffset::from_minutes(60).unwrap());
    l.add_device(&master(), &paris).unwrap();
    // A July lease in local time: 15:00 local is 13:00Z in summer.
    let start = paris.resolve(&"2030-07-01T15:00".parse().unwrap()).unwrap();
    let end = paris.resolve(&"2030-08-30T11:00".parse().unwrap()).unwrap();
    assert_eq!(start, t("2030-07-01T13:00:00Z"));
    let spec = CodeSpec::time_bound("paris-1", start, end).with_max_rounding_secs(86_400);
    let r = l
        .issue(&master(), &spec, t("2030-06-01T00:00:00Z"))
        .unwrap()
        .record;
    let w = r
        .warnings
        .iter()
        .find(|w| w.warning_code == DAILY_WINDOW_OFF_LOCAL_MIDNIGHT)
        .expect("the DST warning");
    assert!(
        w.message.contains(
            "it starts at 2030-07-01T01:00:00+02:00 local time, 1 h after local midnight"
        ),
        "{}",
        w.message
    );
    // A winter lease on the same lock starts at local midnight: no warning.
    let start = paris.resolve(&"2030-01-05T15:00".parse().unwrap()).unwrap();
    let end = paris.resolve(&"2030-02-25T11:00".parse().unwrap()).unwrap();
    let spec = CodeSpec::time_bound("paris-1", start, end).with_max_rounding_secs(86_400);
    let r = l
        .issue(&master(), &spec, t("2030-01-01T00:00:00Z"))
        .unwrap()
        .record;
    assert!(
        !warning_codes(&r).contains(&DAILY_WINDOW_OFF_LOCAL_MIDNIGHT),
        "{:?}",
        r.warnings
    );
    assert_eq!(
        paris
            .offsets_off_the_lock(t("2030-01-01T00:00:00Z"))
            .unwrap(),
        [UtcOffset::from_minutes(120).unwrap()]
    );
}

#[test]
fn ledgers_are_send() {
    fn send<T: Send + ?Sized>() {}
    send::<MemoryLedger>();
    send::<dyn Ledger>();
    #[cfg(feature = "sqlite")]
    send::<offpin_ledger::ledger::sqlite::SqliteLedger>();
}

#[cfg(feature = "sqlite")]
mod sqlite {
    use super::*;
    use offpin_ledger::ledger::api_keys::ApiKey;
    use offpin_ledger::ledger::sqlite::SqliteLedger;
    use std::collections::BTreeSet;

    fn file_ledger(dir: &tempfile::TempDir, name: &str) -> SqliteLedger {
        SqliteLedger::open(&dir.path().join(name)).unwrap()
    }

    #[test]
    fn sqlite_ledger_behaviour() {
        exercise(&mut SqliteLedger::open_in_memory().unwrap());
        let dir = tempfile::tempdir().unwrap();
        let mut n = 0;
        every_behaviour(|| {
            n += 1;
            file_ledger(&dir, &format!("{n}.db"))
        });
        // One file each: no journal or WAL left beside the ledgers.
        let names: BTreeSet<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, (1..=10).map(|i| format!("{i}.db")).collect());
    }

    #[test]
    fn a_schema_2_ledger_without_api_keys_gets_the_table_when_opened_for_writing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ledger.db");
        {
            let mut l = SqliteLedger::open(&path).unwrap();
            setup(&mut l);
        }
        // As the offpin before the service wrote it.
        rusqlite::Connection::open(&path)
            .unwrap()
            .execute_batch("DROP TABLE api_keys;")
            .unwrap();
        let mut ro = SqliteLedger::open_read_only(&path).unwrap();
        assert!(ro.api_keys().unwrap().is_empty());
        assert!(matches!(
            ro.authenticate(ApiKey::from_random(&[1; RANDOM_BYTES]).expose_secret()),
            Err(ApiKeyError::Unknown)
        ));
        drop(ro);
        let mut l = SqliteLedger::open_existing(&path).unwrap();
        let key = l.create_api_key("ci", &[2; RANDOM_BYTES], now()).unwrap();
        drop(l);
        let mut ro = SqliteLedger::open_read_only(&path).unwrap();
        assert_eq!(ro.authenticate(key.expose_secret()).unwrap().name, "ci");
        assert_eq!(ro.devices().unwrap().len(), 2);
    }

    #[test]
    fn survives_a_restart() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ledger.db");
        let m = master();
        let (a, o) = {
            let mut l = SqliteLedger::open(&path).unwrap();
            setup(&mut l);
            let a = l
                .issue(&m, &window().with_name("guest"), now())
                .unwrap()
                .record;
            let o = l
                .issue(&m, &CodeSpec::ongoing("lock-a"), now())
                .unwrap()
                .record;
            l.delete(&m, &o.access_code_id, now()).unwrap();
            (a, o)
        };
        let mut l = SqliteLedger::open_existing(&path).unwrap();
        assert_eq!(l.get(&a.access_code_id, now()).unwrap(), a);
        let b = l.issue(&m, &window(), now()).unwrap().record;
        let codec = codec(&mut l, "lock-a");
        assert_eq!(codec.decode_input(b.code.as_bytes()).unwrap().variance(), 1);
        let o2 = l
            .issue(&m, &CodeSpec::ongoing("lock-a"), now())
            .unwrap()
            .record;
        assert_ne!(o2.code, o.code);
        assert_eq!(
            codec.decode_input(o2.code.as_bytes()).unwrap(),
            Grant::Ongoing { slot: 1 }
        );
        // The fingerprint survives too.
        assert!(matches!(
            l.issue(&MasterKey::from_bytes([3; 32]), &window(), now()),
            Err(LedgerError::MasterKeyMismatch { .. })
        ));
    }

    #[test]
    fn empty_foreign_and_missing_files_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let cases: [(&str, &[u8], &str); 3] = [
            ("empty.db", b"", "empty (0 bytes)"),
            ("junk.db", b"this is not a database, not even close to one........................................................", "not an SQLite database"),
            ("short.db", b"SQLite format 3\0", "not an SQLite database"),
        ];
        for (name, bytes, why) in cases {
            let p = dir.path().join(name);
            std::fs::write(&p, bytes).unwrap();
            for e in [
                SqliteLedger::open(&p).unwrap_err(),
                SqliteLedger::open_existing(&p).unwrap_err(),
                SqliteLedger::open_read_only(&p).unwrap_err(),
            ] {
                assert!(matches!(e, LedgerError::NotALedger { .. }), "{name}: {e}");
                assert!(e.to_string().contains(why), "{name}: {e}");
            }
            assert_eq!(std::fs::read(&p).unwrap(), bytes, "{name} was written to");
        }
        let missing = dir.path().join("missing.db");
        assert!(SqliteLedger::open_existing(&missing).is_err());
        assert!(SqliteLedger::open_read_only(&missing).is_err());
        assert!(!missing.exists());
        // Another application's SQLite database.
        let other = dir.path().join("other.db");
        drop(SqliteLedger::open(&other).unwrap());
        let mut bytes = std::fs::read(&other).unwrap();
        bytes[68..72].copy_from_slice(&[0, 0, 0, 1]);
        std::fs::write(&other, &bytes).unwrap();
        let e = SqliteLedger::open(&other).unwrap_err();
        assert!(
            e.to_string()
                .contains("another application's SQLite database"),
            "{e}"
        );
    }

    #[test]
    fn read_only_opens_write_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ledger.db");
        let id = {
            let mut l = SqliteLedger::open(&path).unwrap();
            setup(&mut l);
            l.issue(&master(), &window(), now())
                .unwrap()
                .record
                .access_code_id
        };
        let before = std::fs::read(&path).unwrap();
        let mut l = SqliteLedger::open_read_only(&path).unwrap();
        assert_eq!(
            l.list(&ListFilter::device("lock-a"), now()).unwrap().len(),
            1
        );
        l.get(&id, now()).unwrap();
        // A write through it fails, naming the file.
        let e = l.issue(&master(), &window(), now()).unwrap_err();
        assert!(matches!(e, LedgerError::Unwritable { .. }), "{e}");
        assert!(e.to_string().contains("ledger.db"), "{e}");
        drop(l);
        assert_eq!(std::fs::read(&path).unwrap(), before);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn a_writer_killed_midway_is_rolled_back_by_the_next_writable_open() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ledger.db");
        {
            let mut l = SqliteLedger::open(&path).unwrap();
            setup(&mut l);
        }
        // A writer in the middle of a big transaction, its pages already
        // spilled into the file: copy the file and its journal as a crash
        // (kill -9, power loss) would leave them.
        let w = rusqlite::Connection::open(&path).unwrap();
        w.execute_batch(
            "PRAGMA cache_size = 10; BEGIN IMMEDIATE; CREATE TABLE junk (x BLOB);
             WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 5000)
             INSERT INTO junk SELECT randomblob(200) FROM n;
             DELETE FROM devices;",
        )
        .unwrap();
        let crashed = dir.path().join("crashed.db");
        std::fs::copy(&path, &crashed).unwrap();
        std::fs::copy(
            dir.path().join("ledger.db-journal"),
            dir.path().join("crashed.db-journal"),
        )
        .unwrap();
        drop(w);
        assert!(matches!(
            SqliteLedger::open_read_only(&crashed),
            Err(LedgerError::NeedsRecovery { .. })
        ));
        let mut l = SqliteLedger::open_existing(&crashed).unwrap();
        assert_eq!(
            l.devices().unwrap().len(),
            2,
            "the interrupted transaction was not rolled back"
        );
        drop(l);
        assert!(!dir.path().join("crashed.db-journal").exists());
        SqliteLedger::open_read_only(&crashed).unwrap();
    }

    /// A ledger of schema 1 (records as JSON, WAL journal), as the first
    /// release wrote it.
    fn write_v1(path: &std::path::Path, record: &str) {
        let c = rusqlite::Connection::open(path).unwrap();
        c.execute_batch(&format!(
            "PRAGMA journal_mode = WAL;
            CREATE TABLE devices (device_id TEXT PRIMARY KEY NOT NULL, profile TEXT NOT NULL, utc_offset_minutes INTEGER NOT NULL, generation INTEGER NOT NULL);
            CREATE TABLE access_codes (seq INTEGER PRIMARY KEY AUTOINCREMENT, access_code_id TEXT NOT NULL UNIQUE, device_id TEXT NOT NULL REFERENCES devices(device_id), kind TEXT NOT NULL, start INTEGER NOT NULL, length INTEGER NOT NULL, lineage INTEGER NOT NULL, variance INTEGER NOT NULL, user_identifier_key TEXT, record TEXT NOT NULL, deleted_at TEXT);
            CREATE UNIQUE INDEX access_codes_allocation ON access_codes (device_id, kind, start, length, lineage, variance);
            INSERT INTO devices VALUES ('lock-a', 'standard-10', 0, 0);
            INSERT INTO access_codes (access_code_id, device_id, kind, start, length, lineage, variance, user_identifier_key, record) VALUES ('old-1', 'lock-a', 'hourly', 11583, 2, 0, 0, 'guest-1', '{record}');
            PRAGMA application_id = 1868984430; PRAGMA user_version = 1;"
        ))
        .unwrap();
    }

    #[test]
    fn schema_1_ledgers_are_upgraded_and_checked_against_the_key() {
        let m = master();
        // What the first release stored for hour 11583 (2025-04-27T15:00Z), 2 h.
        let codec = Device::new("lock-a", "standard-10").codec(&m).unwrap();
        let grant = Grant::Hourly(offpin::Span {
            start: 11_583,
            length: 2,
            variance: 0,
            lineage: 0,
        });
        let pin = codec.pin_for(&grant).unwrap();
        let record = format!(
            r#"{{"access_code_id":"old-1","code":"{}","common_code_key":null,"created_at":"2025-04-01T00:00:00.000Z","device_id":"lock-a","ends_at":"2025-04-27T17:00:00.000Z","errors":[],"is_backup":false,"is_backup_access_code_available":false,"is_external_modification_allowed":false,"is_managed":true,"is_offline_access_code":true,"is_one_time_use":false,"is_scheduled_on_device":true,"is_waiting_for_code_assignment":false,"name":"old guest","pulled_backup_access_code_id":null,"starts_at":"2025-04-27T15:00:00.000Z","status":"set","type":"time_bound","warnings":[]}}"#,
            pin.as_str()
        );
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v1.db");
        write_v1(&path, &record);
        assert!(matches!(
            SqliteLedger::open_read_only(&path),
            Err(LedgerError::NeedsUpgrade { from: 1, to: 3, .. })
        ));
        let mut l = SqliteLedger::open_existing(&path).unwrap();
        let r = l.get("old-1", now()).unwrap();
        assert_eq!(r.code, pin.as_str());
        assert_eq!(r.name.as_deref(), Some("old guest"));
        assert_eq!(r.starts_at, Some(t("2025-04-27T15:00:00Z")));
        assert_eq!(r.user_identifier_key.as_deref(), Some("guest-1"));
        // No fingerprint yet: a key that does not derive the stored PIN is
        // refused; the right one binds the ledger.
        let e = l
            .issue(&MasterKey::from_bytes([1; 32]), &window(), now())
            .unwrap_err();
        assert!(matches!(e, LedgerError::KeyDoesNotDerive { .. }), "{e}");
        let next = CodeSpec::time_bound(
            "lock-a",
            t("2025-04-27T15:00:00Z"),
            t("2025-04-27T17:00:00Z"),
        );
        let b = l.issue(&m, &next, now()).unwrap().record;
        assert_eq!(codec.decode_input(b.code.as_bytes()).unwrap().variance(), 1);
        assert_eq!(l.master_fingerprint().unwrap(), Some(m.fingerprint()));
        drop(l);
        SqliteLedger::open_read_only(&path).unwrap();
    }

    #[test]
    fn concurrent_writers_never_share_a_variance() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ledger.db");
        concurrent_writers(move || SqliteLedger::open(&path).unwrap());
    }
}

/// The PostgreSQL backend, on the database `OFFPIN_TEST_POSTGRES` names
/// (each ledger in a schema of its own). CI always sets it; elsewhere the
/// tests say they skip.
#[cfg(feature = "postgres")]
mod postgres_backend {
    use super::*;
    use offpin_ledger::ledger::postgres::{MIGRATIONS, PostgresLedger};

    /// The URL of a fresh schema, or `None` (skip) when no database is
    /// configured outside CI.
    pub(super) fn fresh_url() -> Option<String> {
        let Ok(base) = std::env::var("OFFPIN_TEST_POSTGRES") else {
            assert!(
                std::env::var_os("CI").is_none(),
                "CI must set OFFPIN_TEST_POSTGRES"
            );
            eprintln!("OFFPIN_TEST_POSTGRES is not set: PostgreSQL backend skipped");
            return None;
        };
        let schema = format!("t_{}", uuid::Uuid::new_v4().simple());
        let mut c = postgres::Client::connect(&base, postgres::NoTls).unwrap();
        c.batch_execute(&format!("CREATE SCHEMA {schema}")).unwrap();
        let sep = if base.contains('?') { '&' } else { '?' };
        Some(format!("{base}{sep}options=-csearch_path%3D{schema}"))
    }

    #[test]
    fn postgres_ledger_behaviour() {
        if fresh_url().is_none() {
            return;
        }
        every_behaviour(|| PostgresLedger::connect(&fresh_url().unwrap()).unwrap());
    }

    #[test]
    fn postgres_concurrent_writers_never_share_a_variance() {
        let Some(url) = fresh_url() else { return };
        concurrent_writers(move || PostgresLedger::connect(&url).unwrap());
    }

    #[test]
    fn postgres_survives_a_reconnect_with_its_fingerprint_and_allocation() {
        let Some(url) = fresh_url() else { return };
        let m = master();
        let a = {
            let mut l = PostgresLedger::connect(&url).unwrap();
            setup(&mut l);
            l.issue(&m, &window().with_name("guest"), now())
                .unwrap()
                .record
        };
        let mut l = PostgresLedger::connect(&url).unwrap();
        assert_eq!(l.get(&a.access_code_id, now()).unwrap(), a);
        let b = l.issue(&m, &window(), now()).unwrap().record;
        assert_eq!(
            codec(&mut l, "lock-a")
                .decode_input(b.code.as_bytes())
                .unwrap()
                .variance(),
            1
        );
        assert!(matches!(
            l.issue(&MasterKey::from_bytes([3; 32]), &window(), now()),
            Err(LedgerError::MasterKeyMismatch { .. })
        ));
    }

    #[test]
    fn migrations_run_once_and_newer_schemas_are_refused() {
        let Some(url) = fresh_url() else { return };
        // Connections opened at once all migrate, under the advisory lock.
        let handles: Vec<_> = (0..4)
            .map(|_| {
                let url = url.clone();
                std::thread::spawn(move || PostgresLedger::connect(&url).map(drop))
            })
            .collect();
        for h in handles {
            h.join().unwrap().unwrap();
        }
        let mut c = postgres::Client::connect(&url, postgres::NoTls).unwrap();
        let versions: Vec<i32> = c
            .query(
                "SELECT version FROM offpin_migrations ORDER BY version",
                &[],
            )
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect();
        let expected: Vec<i32> = (1..=i32::try_from(MIGRATIONS.len()).unwrap()).collect();
        assert_eq!(versions, expected);
        c.execute("INSERT INTO offpin_migrations (version) VALUES (999)", &[])
            .unwrap();
        let e = PostgresLedger::connect(&url).unwrap_err();
        assert!(matches!(e, LedgerError::NotALedger { .. }), "{e}");
        assert!(e.to_string().contains("newer than this offpin"), "{e}");
    }
}
