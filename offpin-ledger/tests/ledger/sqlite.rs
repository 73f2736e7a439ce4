//! The SQLite file: persistence, upgrades, foreign and empty files,
//! read-only opens, a writer killed midway, concurrent writers.

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

#[test]
fn a_corrupted_file_is_a_storage_error_whose_source_is_sqlites() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger.db");
    {
        let mut l = SqliteLedger::open(&path).unwrap();
        setup(&mut l);
    }
    // Every page but the first (the header and the schema) overwritten:
    // the file is still taken for a ledger, its tables are garbage.
    let mut bytes = std::fs::read(&path).unwrap();
    let page = match u16::from_be_bytes([bytes[16], bytes[17]]) {
        1 => 65_536,
        n => usize::from(n),
    };
    assert!(bytes.len() > page, "one page only");
    bytes[page..].fill(0xff);
    std::fs::write(&path, &bytes).unwrap();
    let mut l = SqliteLedger::open_read_only(&path).unwrap();
    let e = l.devices().unwrap_err();
    assert!(matches!(e, LedgerError::Storage(_)), "{e}");
    assert_eq!(e.code(), "storage_error");
    assert!(e.to_string().contains("ledger.db"), "{e}");
    // The chain: LedgerError -> StorageError -> rusqlite::Error.
    let storage = std::error::Error::source(&e).expect("the StorageError");
    let sqlite = storage
        .source()
        .and_then(|s| s.downcast_ref::<rusqlite::Error>())
        .expect("SQLite's error as the source");
    assert_eq!(
        sqlite.sqlite_error_code(),
        Some(rusqlite::ErrorCode::DatabaseCorrupt),
        "{sqlite}"
    );
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
        Err(LedgerError::NeedsUpgrade { from: 1, to: 4, .. })
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
