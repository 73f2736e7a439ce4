//! The ledger: variance and slot allocation, list/get/delete, and (with
//! feature `sqlite`) persistence and concurrent writers.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "tests"
)]
#![cfg(feature = "ledger")]

use chrono::{DateTime, Utc};
use offpin::server::ledger::api_keys::{ApiKeyError, ApiKeyStore, RANDOM_BYTES};
use offpin::server::ledger::hosted::{CodeUpdate, HostedApi, RequestError};
use offpin::server::ledger::memory::MemoryLedger;
use offpin::server::ledger::{CodeSpec, Device, Ledger, LedgerError, ListFilter};
use offpin::{Codec, Grant, MasterKey, RevokeTarget};

fn t(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

fn master() -> MasterKey {
    MasterKey::from_bytes([9; 32])
}

fn window() -> CodeSpec {
    CodeSpec::time_bound(
        "lock-a",
        t("2025-05-01T15:00:00Z"),
        t("2025-05-03T11:00:00Z"),
    )
}

fn setup<L: Ledger>(l: &mut L) {
    l.add_device(&Device::new("lock-a", "standard-10")).unwrap();
    l.add_device(&Device::new("lock-b", "compact-8")).unwrap();
}

/// The behaviour every backend must have.
fn exercise<L: Ledger>(l: &mut L) {
    setup(l);
    let m = master();
    let now = t("2025-04-01T00:00:00Z");

    // Three variances of one window, then the error.
    let a = l
        .issue(&m, &window().with_user_identifier_key("guest-1"), now)
        .unwrap();
    let b = l.issue(&m, &window(), now).unwrap();
    let c = l.issue(&m, &window(), now).unwrap();
    assert!(a.code != b.code && b.code != c.code && a.code != c.code);
    let err = l.issue(&m, &window(), now).unwrap_err();
    assert!(matches!(
        err,
        LedgerError::NoVarianceAvailable { variances: 3, .. }
    ));
    assert!(
        err.to_string()
            .starts_with("igloohome_offline_access_code_no_variance_available")
    );
    // The codes decode to variances 0, 1, 2.
    let dev = l.device("lock-a").unwrap();
    let codec: Codec = dev.codec(&m).unwrap();
    let variances: Vec<u8> = [&a, &b, &c]
        .iter()
        .map(|r| codec.decode_input(r.code.as_bytes()).unwrap().variance())
        .collect();
    assert_eq!(variances, [0, 1, 2]);

    // Deleting never frees the variance: the deleted PIN keeps opening the
    // lock offline until its window ends, so it is never handed out again.
    let deleted = l.delete(&m, &b.access_code_id, now).unwrap();
    assert_eq!(deleted.revocation_code, None);
    assert!(matches!(
        l.issue(&m, &window(), now),
        Err(LedgerError::NoVarianceAvailable { .. })
    ));

    // A different window or device starts again at variance 0.
    let other = l
        .issue(
            &m,
            &CodeSpec::one_time("lock-b", t("2025-05-01T15:00:00Z")),
            now,
        )
        .unwrap();
    assert_eq!(
        l.device("lock-b")
            .unwrap()
            .codec(&m)
            .unwrap()
            .decode_input(other.code.as_bytes())
            .unwrap()
            .variance(),
        0
    );

    // list: filters, the required filter, stable order.
    assert!(matches!(
        l.list(&ListFilter::default()),
        Err(LedgerError::MissingFilter)
    ));
    let only_user = ListFilter {
        user_identifier_key: Some("guest-1".into()),
        ..ListFilter::default()
    };
    assert!(matches!(
        l.list(&only_user),
        Err(LedgerError::MissingFilter)
    ));
    let ids: Vec<String> = l
        .list(&ListFilter::device("lock-a"))
        .unwrap()
        .into_iter()
        .map(|r| r.access_code_id)
        .collect();
    assert_eq!(ids, [a.access_code_id.clone(), c.access_code_id.clone()]);
    let by_user = l
        .list(&ListFilter {
            user_identifier_key: Some("guest-1".into()),
            ..ListFilter::device("lock-a")
        })
        .unwrap();
    assert_eq!(by_user.len(), 1);
    assert_eq!(by_user[0].access_code_id, a.access_code_id);
    let by_ids = l
        .list(&ListFilter {
            access_code_ids: vec![other.access_code_id.clone(), c.access_code_id.clone()],
            ..ListFilter::default()
        })
        .unwrap();
    let got: Vec<&str> = by_ids.iter().map(|r| r.access_code_id.as_str()).collect();
    assert_eq!(
        got,
        [c.access_code_id.as_str(), other.access_code_id.as_str()]
    );

    // get, and the not-found error (also for deleted codes).
    assert_eq!(l.get(&a.access_code_id).unwrap(), a);
    assert!(matches!(
        l.get(&b.access_code_id),
        Err(LedgerError::NotFound { .. })
    ));
    assert!(matches!(l.get("nope"), Err(LedgerError::NotFound { .. })));
    assert!(matches!(
        l.delete(&m, "nope", now),
        Err(LedgerError::NotFound { .. })
    ));

    // Ongoing: lowest free slot; delete yields the revocation PIN and
    // retires the slot for good.
    let o0 = l.issue(&m, &CodeSpec::ongoing("lock-a"), now).unwrap();
    let o1 = l.issue(&m, &CodeSpec::ongoing("lock-a"), now).unwrap();
    assert_eq!(
        codec.decode_input(o0.code.as_bytes()).unwrap(),
        Grant::Ongoing { slot: 0 }
    );
    assert_eq!(
        codec.decode_input(o1.code.as_bytes()).unwrap(),
        Grant::Ongoing { slot: 1 }
    );
    let gone = l.delete(&m, &o0.access_code_id, now).unwrap();
    assert_eq!(gone.revoked_slot, Some(0));
    let revoke = gone.revocation_code.unwrap();
    assert_eq!(
        codec.decode_input(revoke.as_bytes()).unwrap(),
        Grant::Revoke(RevokeTarget::Slot(0))
    );
    let o2 = l.issue(&m, &CodeSpec::ongoing("lock-a"), now).unwrap();
    assert_eq!(
        codec.decode_input(o2.code.as_bytes()).unwrap(),
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
        Err(LedgerError::Issue(_))
    ));

    // Devices: idempotent registration, conflicts refused.
    l.add_device(&Device::new("lock-a", "standard-10")).unwrap();
    assert!(matches!(
        l.add_device(&Device::new("lock-a", "compact-8")),
        Err(LedgerError::DeviceConflict { .. })
    ));
    let names: Vec<String> = l
        .devices()
        .unwrap()
        .into_iter()
        .map(|d| d.device_id)
        .collect();
    assert_eq!(names, ["lock-a", "lock-b"]);
}

/// The hosted API's rules on a backend: rename, immutable windows, get by
/// PIN, delete on the right device.
fn exercise_hosted<L: Ledger>(l: &mut L) {
    setup(l);
    let m = master();
    let now = t("2025-04-01T00:00:00Z");
    let a = l.issue(&m, &window().with_name("before"), now).unwrap();
    let renamed = l
        .update(
            &a.access_code_id,
            &CodeUpdate {
                name: Some(Some("after".into())),
                starts_at: Some(a.starts_at),
                ..CodeUpdate::default()
            },
        )
        .unwrap();
    assert_eq!(renamed.name.as_deref(), Some("after"));
    assert_eq!(l.get(&a.access_code_id).unwrap(), renamed);
    let moved = l.update(
        &a.access_code_id,
        &CodeUpdate {
            name: Some(Some("lost".into())),
            ends_at: Some(Some(t("2025-05-04T11:00:00Z"))),
            ..CodeUpdate::default()
        },
    );
    assert!(
        matches!(moved, Err(RequestError::Immutable { field: "ends_at" })),
        "{moved:?}"
    );
    assert_eq!(
        l.get(&a.access_code_id).unwrap(),
        renamed,
        "nothing changed"
    );
    assert_eq!(l.get_by_code("lock-a", &a.code).unwrap(), renamed);
    assert!(matches!(
        l.get_by_code("lock-b", &a.code),
        Err(RequestError::CodeNotFound { .. })
    ));
    assert!(matches!(
        l.delete_code(&m, &a.access_code_id, Some("lock-b"), now),
        Err(RequestError::Ledger(LedgerError::NotFound { .. }))
    ));
    l.delete_code(&m, &a.access_code_id, Some("lock-a"), now)
        .unwrap();
    assert!(matches!(
        l.update(&a.access_code_id, &CodeUpdate::default()),
        Err(RequestError::Ledger(LedgerError::NotFound { .. }))
    ));
}

/// API keys on a backend: created keys authenticate, near misses and
/// revoked keys do not.
fn exercise_api_keys<L: ApiKeyStore>(l: &mut L) {
    let now = t("2025-04-01T00:00:00Z");
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

/// Racers for one window (8 variances on secure-12) and for ongoing
/// slots, on connections `open` makes: no number is handed out twice,
/// nothing is lost.
fn concurrent_writers<L: Ledger, F: Fn() -> L + Send + Sync + 'static>(open: F) {
    use std::collections::BTreeSet;
    use std::sync::{Arc, Barrier};
    {
        let mut l = open();
        l.add_device(&Device::new("lock-s", "secure-12")).unwrap();
        l.add_device(&Device::new("lock-a", "standard-10")).unwrap();
    }
    let open = Arc::new(open);
    let writers = 12;
    let barrier = Arc::new(Barrier::new(writers + 10));
    let mut handles = Vec::new();
    for i in 0..writers + 10 {
        let open = Arc::clone(&open);
        let barrier = Arc::clone(&barrier);
        handles.push(std::thread::spawn(move || {
            let mut l = open();
            let spec = if i < writers {
                CodeSpec::time_bound(
                    "lock-s",
                    t("2025-05-01T15:00:00Z"),
                    t("2025-05-01T20:00:00Z"),
                )
            } else {
                CodeSpec::ongoing("lock-a")
            };
            barrier.wait();
            (i < writers, l.issue(&master(), &spec, Utc::now()))
        }));
    }
    let results: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    let mut windowed = BTreeSet::new();
    let mut slots = BTreeSet::new();
    let mut exhausted = 0;
    for (is_window, r) in results {
        match (is_window, r) {
            (true, Ok(rec)) => assert!(windowed.insert(rec.code)),
            (true, Err(LedgerError::NoVarianceAvailable { .. })) => exhausted += 1,
            (false, Ok(rec)) => assert!(slots.insert(rec.code)),
            (_, Err(e)) => panic!("unexpected error: {e}"),
        }
    }
    assert_eq!(windowed.len(), 8);
    assert_eq!(exhausted, writers - 8);
    assert_eq!(slots.len(), 10);
    let mut l = open();
    let stored: BTreeSet<String> = l
        .list(&ListFilter::device("lock-s"))
        .unwrap()
        .into_iter()
        .map(|r| r.code)
        .collect();
    assert_eq!(stored, windowed);
    let codec = l.device("lock-s").unwrap().codec(&master()).unwrap();
    let vs: BTreeSet<u8> = stored
        .iter()
        .map(|c| codec.decode_input(c.as_bytes()).unwrap().variance())
        .collect();
    assert_eq!(vs, (0..8).collect());
    assert_eq!(l.list(&ListFilter::device("lock-a")).unwrap().len(), 10);
}

#[test]
fn memory_ledger_behaviour() {
    exercise(&mut MemoryLedger::new());
    exercise_hosted(&mut MemoryLedger::new());
    exercise_api_keys(&mut MemoryLedger::new());
}

#[test]
fn unknown_profiles_are_reported() {
    let mut l = MemoryLedger::new();
    l.add_device(&Device::new("x", "no-such-profile")).unwrap();
    let err = l
        .issue(&master(), &CodeSpec::ongoing("x"), Utc::now())
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("unknown profile 'no-such-profile'")
    );
}

#[cfg(feature = "sqlite")]
mod sqlite {
    use super::*;
    use offpin::server::ledger::sqlite::SqliteLedger;

    #[test]
    fn sqlite_ledger_behaviour() {
        exercise(&mut SqliteLedger::open_in_memory().unwrap());
        let dir = tempfile::tempdir().unwrap();
        exercise(&mut SqliteLedger::open(&dir.path().join("l.db")).unwrap());
        exercise_hosted(&mut SqliteLedger::open_in_memory().unwrap());
        exercise_api_keys(&mut SqliteLedger::open(&dir.path().join("k.db")).unwrap());
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
                .issue(&m, &window().with_name("guest"), Utc::now())
                .unwrap();
            let o = l
                .issue(&m, &CodeSpec::ongoing("lock-a"), Utc::now())
                .unwrap();
            l.delete(&m, &o.access_code_id, Utc::now()).unwrap();
            (a, o)
        };
        let mut l = SqliteLedger::open_existing(&path).unwrap();
        assert_eq!(l.get(&a.access_code_id).unwrap(), a);
        // The next code of the same window takes variance 1, and the
        // revoked ongoing slot 0 stays retired.
        let b = l.issue(&m, &window(), Utc::now()).unwrap();
        let codec = l.device("lock-a").unwrap().codec(&m).unwrap();
        assert_eq!(codec.decode_input(b.code.as_bytes()).unwrap().variance(), 1);
        let o2 = l
            .issue(&m, &CodeSpec::ongoing("lock-a"), Utc::now())
            .unwrap();
        assert_ne!(o2.code, o.code);
        assert_eq!(
            codec.decode_input(o2.code.as_bytes()).unwrap(),
            Grant::Ongoing { slot: 1 }
        );
    }

    #[test]
    fn foreign_and_missing_files_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let junk = dir.path().join("junk.db");
        std::fs::write(
            &junk,
            b"this is not a database, not even close to one........",
        )
        .unwrap();
        let e = SqliteLedger::open(&junk).unwrap_err();
        assert!(matches!(e, LedgerError::Storage(_)), "{e}");
        let missing = dir.path().join("missing.db");
        assert!(SqliteLedger::open_existing(&missing).is_err());
        assert!(!missing.exists());
        // Another application's SQLite database.
        let other = dir.path().join("other.db");
        make_foreign_sqlite_db(&other);
        let e = SqliteLedger::open(&other).unwrap_err();
        assert!(e.to_string().contains("not an offpin ledger"), "{e}");
    }

    /// Makes a SQLite file with tables but without offpin's identity:
    /// an offpin ledger whose application id is cleared in the header.
    fn make_foreign_sqlite_db(path: &std::path::Path) {
        // Build a valid ledger, then corrupt its identity in the header:
        // application_id lives at byte offset 68 of the database header.
        drop(SqliteLedger::open(path).unwrap());
        let mut bytes = std::fs::read(path).unwrap();
        if bytes.len() >= 72 {
            bytes[68..72].copy_from_slice(&[0, 0, 0, 0]);
        }
        std::fs::write(path, bytes).unwrap();
        let _ = std::fs::remove_file(path.with_extension("db-wal"));
        let _ = std::fs::remove_file(path.with_extension("db-shm"));
    }

    #[test]
    fn concurrent_writers_never_share_a_variance() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ledger.db");
        concurrent_writers(move || SqliteLedger::open(&path).unwrap());
    }
}

/// The PostgreSQL backend, on the database `OFFPIN_TEST_POSTGRES` names
/// (each test in a schema of its own). CI always sets it; elsewhere the
/// tests say they skip.
#[cfg(feature = "postgres")]
mod postgres_backend {
    use super::*;
    use offpin::server::ledger::postgres::{MIGRATIONS, PostgresLedger};

    /// The URL of a fresh schema, or `None` (skip) when no database is
    /// configured outside CI.
    fn fresh_url() -> Option<String> {
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
        let Some(url) = fresh_url() else { return };
        exercise(&mut PostgresLedger::connect(&url).unwrap());
        let Some(url) = fresh_url() else { return };
        exercise_hosted(&mut PostgresLedger::connect(&url).unwrap());
        let Some(url) = fresh_url() else { return };
        exercise_api_keys(&mut PostgresLedger::connect(&url).unwrap());
    }

    #[test]
    fn postgres_concurrent_writers_never_share_a_variance() {
        let Some(url) = fresh_url() else { return };
        concurrent_writers(move || PostgresLedger::connect(&url).unwrap());
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
        assert!(e.to_string().contains("newer than this offpin"), "{e}");
    }
}
