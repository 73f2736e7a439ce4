//! Workspaces: a workspace's view of the ledger answers for another
//! workspace's devices, codes and groups exactly as for missing ones
//! (same variant, same message), spends none of their slots, and the
//! ledger keeps devices, groups and keys from mixing; ledgers written
//! before workspaces (SQLite schema 3, PostgreSQL migrations 1 to 3)
//! migrate with everything in `default`.

use super::*;
use offpin_ledger::ledger::api_keys::Capabilities;
use offpin_ledger::ledger::spendable::device_capacity;
use offpin_ledger::ledger::workspaces::create_api_key;
use offpin_ledger::ledger::{DEFAULT_WORKSPACE, DeviceFilter, PageRequest, Scoped};

/// `acme` owns `lock-a`, `globex` owns `lock-g`; one ongoing code of
/// `lock-a`, issued through `acme`'s view. Returns its id.
fn two_tenants<L: Ledger>(l: &mut L) -> String {
    let m = master();
    for w in ["acme", "globex"] {
        assert!(l.create_workspace(w, now()).unwrap().1);
    }
    let again = l.create_workspace("acme", now()).unwrap();
    assert!(!again.1, "creating it again changes nothing");
    l.add_device(
        &m,
        &Device::new("lock-a", "standard-10").in_workspace("acme"),
    )
    .unwrap();
    l.add_device(
        &m,
        &Device::new("lock-g", "standard-10").in_workspace("globex"),
    )
    .unwrap();
    let mut acme = Scoped::new(l, "acme");
    acme.issue(&m, &CodeSpec::ongoing("lock-a"), now())
        .unwrap()
        .record
        .access_code_id
}

/// The same error, same words, for another workspace's object and a
/// missing one (its id put in the missing one's message).
fn same_refusal(theirs: &LedgerError, missing: &LedgerError, their_id: &str, missing_id: &str) {
    assert_eq!(
        std::mem::discriminant(theirs),
        std::mem::discriminant(missing),
        "{theirs} / {missing}"
    );
    assert_eq!(
        theirs.to_string(),
        missing.to_string().replace(missing_id, their_id)
    );
}

/// Another workspace's device and code are missing to a view.
pub(super) fn tenancy<L: Ledger>(l: &mut L) {
    let m = master();
    let id = two_tenants(l);
    let mut globex = Scoped::new(l, "globex");
    let ongoing = CodeSpec::ongoing("lock-a");
    // Creates: one at a time, in a batch, for a group.
    for _ in 0..25 {
        let theirs = globex.issue(&m, &ongoing, now()).unwrap_err();
        let missing = globex
            .issue(&m, &CodeSpec::ongoing("ghost"), now())
            .unwrap_err();
        same_refusal(&theirs, &missing, "lock-a", "ghost");
        assert!(matches!(theirs, LedgerError::UnknownDevice { .. }));
    }
    let batch = [CodeSpec::ongoing("lock-g"), ongoing.clone()];
    let e = globex.issue_batch(&m, &batch, now()).unwrap_err();
    assert!(
        matches!(&e, LedgerError::InBatch { index: 1, source } if matches!(**source, LedgerError::UnknownDevice { .. })),
        "{e}"
    );
    let shared = offpin_ledger::ledger::SharedSpec::new(&["lock-a"], ongoing.want);
    let e = globex.issue_shared(&m, &shared, now()).unwrap_err();
    assert!(matches!(e, LedgerError::UnknownDevice { .. }), "{e}");
    // Reads and changes of the code.
    let missing_id = "00000000-0000-4000-8000-000000000000";
    let pairs = [
        (
            globex.get(&id, now()).unwrap_err(),
            globex.get(missing_id, now()).unwrap_err(),
        ),
        (
            globex.delete(&m, &id, now()).unwrap_err(),
            globex.delete(&m, missing_id, now()).unwrap_err(),
        ),
    ];
    for (theirs, missing) in &pairs {
        same_refusal(theirs, missing, &id, missing_id);
        assert!(matches!(theirs, LedgerError::NotFound { .. }));
    }
    let rename = CodeUpdate {
        name: Some(Some("mine now".into())),
        ..CodeUpdate::default()
    };
    let theirs = globex.update(&id, &rename, now()).unwrap_err().to_string();
    let missing = globex.update(missing_id, &rename, now()).unwrap_err();
    assert_eq!(theirs, missing.to_string().replace(missing_id, &id));
    assert!(matches!(
        globex.get_by_code("lock-a", "0000000000", now()),
        Err(RequestError::Ledger(LedgerError::UnknownDevice { .. }))
    ));
    assert!(
        globex
            .list(&ListFilter::device("lock-a"), now())
            .unwrap()
            .is_empty()
    );
    let by_id = ListFilter {
        access_code_ids: vec![id.clone()],
        ..ListFilter::default()
    };
    assert!(globex.list(&by_id, now()).unwrap().is_empty());
    assert!(matches!(
        globex.device("lock-a"),
        Err(LedgerError::UnknownDevice { .. })
    ));
    assert!(matches!(
        device_capacity(&mut globex, "lock-a", now()),
        Err(LedgerError::UnknownDevice { .. })
    ));
    let seen: Vec<String> = globex
        .devices()
        .unwrap()
        .into_iter()
        .map(|d| d.device_id)
        .collect();
    assert_eq!(seen, ["lock-g"]);
    // Nothing of it happened: acme's code is as it was, its slots free
    // but the one it took.
    let mut acme = Scoped::new(l, "acme");
    let code = acme.get(&id, now()).unwrap();
    assert_eq!(code.name, None);
    assert_eq!(code.status, CodeStatus::Set);
    let c = device_capacity(&mut acme, "lock-a", now()).unwrap();
    assert_eq!(c.workspace_id, "acme");
    assert_eq!(
        (c.ongoing_slots, c.ongoing_slots_used, c.ongoing_slots_free),
        (100, 1, 99)
    );
    let next = acme.issue(&m, &ongoing, now()).unwrap();
    assert!(
        matches!(
            codec(l, "lock-a").decode_input(next.record.code.as_bytes()),
            Ok(Grant::Ongoing { slot: 1, .. })
        ),
        "the second ongoing code of lock-a takes slot 1"
    );
}

/// Devices, groups and keys never mix; workspaces must exist.
pub(super) fn no_mixing<L: Ledger + ApiKeyStore>(l: &mut L) {
    let m = master();
    two_tenants(l);
    let e = l
        .add_device(
            &m,
            &Device::new("lock-a", "standard-10").in_workspace("globex"),
        )
        .unwrap_err();
    assert!(matches!(e, LedgerError::WorkspaceMismatch { .. }), "{e}");
    assert_eq!(
        e.to_string(),
        "device 'lock-a' belongs to workspace 'acme', not 'globex': a workspace's devices, groups and keys never mix"
    );
    // Removed, it stays acme's: its codes must not change hands.
    l.remove_device("lock-a", now()).unwrap();
    let e = l
        .add_device(
            &m,
            &Device::new("lock-a", "standard-10").in_workspace("globex"),
        )
        .unwrap_err();
    assert!(matches!(e, LedgerError::WorkspaceMismatch { .. }), "{e}");
    l.add_device(
        &m,
        &Device::new("lock-a", "standard-10").in_workspace("acme"),
    )
    .unwrap();
    let e = l
        .add_device(
            &m,
            &Device::new("lock-n", "standard-10").in_workspace("nope"),
        )
        .unwrap_err();
    assert!(matches!(e, LedgerError::UnknownWorkspace { .. }), "{e}");
    assert!(matches!(
        l.create_workspace("a b", now()),
        Err(LedgerError::InvalidWorkspaceId { .. })
    ));
    // A group's members are its workspace's devices.
    let g = l.create_group_in(&m, "globex", "g", "standard-10").unwrap();
    assert_eq!(g.workspace_id, "globex");
    let e = l.add_to_group(&m, "g", "lock-a").unwrap_err();
    assert!(matches!(e, LedgerError::WorkspaceMismatch { .. }), "{e}");
    l.add_to_group(&m, "g", "lock-g").unwrap();
    let e = l
        .create_group_in(&m, "acme", "g", "standard-10")
        .unwrap_err();
    assert!(matches!(e, LedgerError::WorkspaceMismatch { .. }), "{e}");
    assert!(matches!(
        Scoped::new(l, "acme").group("g"),
        Err(LedgerError::UnknownGroup { .. })
    ));
    assert_eq!(
        Scoped::new(l, "globex").group("g").unwrap().members,
        ["lock-g"]
    );
    // Keys act in an existing workspace.
    assert!(matches!(
        create_api_key(
            l,
            "k0",
            "nope",
            Capabilities::NONE,
            &[3; RANDOM_BYTES],
            now()
        ),
        Err(ApiKeyError::Ledger(LedgerError::UnknownWorkspace { .. }))
    ));
    // A key carries its workspace and its capabilities.
    let may = Capabilities {
        read_service_secrets: true,
        issue_clock_codes: false,
    };
    let key = create_api_key(l, "k1", "acme", may, &[4; RANDOM_BYTES], now()).unwrap();
    let record = l.authenticate(key.expose_secret()).unwrap();
    assert_eq!(
        (record.workspace_id.as_str(), record.capabilities),
        ("acme", may)
    );
    let plain = l.create_api_key("k2", &[5; RANDOM_BYTES], now()).unwrap();
    assert_eq!(
        l.authenticate(plain.expose_secret()).unwrap().workspace_id,
        DEFAULT_WORKSPACE
    );
    let ids: Vec<String> = l
        .workspace_entries()
        .unwrap()
        .into_iter()
        .map(|w| w.workspace_id)
        .collect();
    assert_eq!(ids, ["acme", "default", "globex"]);
}

/// A workspace's pages hold its codes and devices only, in the page
/// query (a page is never cut short by another workspace's codes), and an
/// idempotency key is the workspace's: another workspace using it gets a
/// code of its own.
pub(super) fn pages_and_keys<L: Ledger>(l: &mut L) {
    let m = master();
    let first = two_tenants(l);
    let mut ids = vec![first];
    // acme: 3 codes on lock-a; globex: 2 on lock-g, interleaved in time,
    // each with the idempotency key the other workspace uses too.
    for i in 0..3 {
        for (w, device, n) in [("acme", "lock-a", 3), ("globex", "lock-g", 2)] {
            if i >= n {
                continue;
            }
            let spec = CodeSpec::ongoing(device).with_idempotency_key(&format!("booking-{i}"));
            let issued = Scoped::new(l, w).issue(&m, &spec, now()).unwrap();
            assert!(issued.created, "{w} {i}");
            ids.push(issued.record.access_code_id);
        }
    }
    let filter = ListFilter {
        access_code_ids: ids.clone(),
        ..ListFilter::default()
    };
    for (w, device, want) in [("acme", "lock-a", 4), ("globex", "lock-g", 2)] {
        let mut view = Scoped::new(l, w);
        let mut seen = Vec::new();
        let mut after = None;
        loop {
            let page = PageRequest {
                after: after.clone(),
                limit: Some(1),
                retention: None,
            };
            let found = view.list_page(&filter, &page, now()).unwrap();
            assert!(found.codes.len() <= 1);
            seen.extend(found.codes.into_iter().map(|c| c.device_id));
            match found.next {
                Some(k) => after = Some(k),
                None => break,
            }
        }
        assert_eq!(seen.len(), want, "{w}: {seen:?}");
        assert!(seen.iter().all(|d| d == device), "{w}: {seen:?}");
        let devices = view
            .device_page(&DeviceFilter::default(), None, Some(10))
            .unwrap();
        let names: Vec<&str> = devices
            .devices
            .iter()
            .map(|d| d.device_id.as_str())
            .collect();
        assert_eq!(names, [device]);
        // Another workspace's device filter finds nothing.
        let other = if w == "acme" { "lock-g" } else { "lock-a" };
        let page = view
            .list_page(&ListFilter::device(other), &PageRequest::default(), now())
            .unwrap();
        assert!(page.codes.is_empty());
    }
    // The key sent again in one workspace returns its code.
    let again = CodeSpec::ongoing("lock-g").with_idempotency_key("booking-0");
    let issued = Scoped::new(l, "globex").issue(&m, &again, now()).unwrap();
    assert!(!issued.created);
    assert_eq!(issued.record.device_id, "lock-g");
}

#[test]
fn memory_ledger_workspaces() {
    tenancy(&mut MemoryLedger::new());
    no_mixing(&mut MemoryLedger::new());
    pages_and_keys(&mut MemoryLedger::new());
}

#[cfg(feature = "sqlite")]
#[test]
fn sqlite_ledger_workspaces() {
    use offpin_ledger::ledger::sqlite::SqliteLedger;
    let dir = tempfile::tempdir().unwrap();
    tenancy(&mut SqliteLedger::open(&dir.path().join("a.db")).unwrap());
    no_mixing(&mut SqliteLedger::open(&dir.path().join("b.db")).unwrap());
    pages_and_keys(&mut SqliteLedger::open(&dir.path().join("c.db")).unwrap());
}

#[cfg(feature = "postgres")]
#[test]
fn postgres_ledger_workspaces() {
    use offpin_ledger::ledger::postgres::PostgresLedger;
    let Some(url) = super::postgres_backend::fresh_url() else {
        return;
    };
    tenancy(&mut PostgresLedger::connect(&url).unwrap());
    let url = super::postgres_backend::fresh_url().unwrap();
    no_mixing(&mut PostgresLedger::connect(&url).unwrap());
    let url = super::postgres_backend::fresh_url().unwrap();
    pages_and_keys(&mut PostgresLedger::connect(&url).unwrap());
}

/// The PIN the ledger of the tests issues `lock-a` for hour 11583
/// (2025-04-27T15:00Z), 2 h, variance 0.
fn old_pin() -> String {
    let codec = Device::new("lock-a", "standard-10")
        .codec(&master())
        .unwrap();
    let grant = Grant::Hourly(offpin::Span {
        start: 11_583,
        length: 2,
        variance: 0,
        lineage: 0,
    });
    codec.pin_for(&grant).unwrap().as_str().to_owned()
}

/// What a ledger written before workspaces holds, after its migration:
/// everything in `default`, which a view of `default` sees whole and
/// another view not at all.
fn everything_in_default<L: Ledger + ApiKeyStore>(l: &mut L, key: &str) {
    let ids: Vec<String> = l
        .workspace_entries()
        .unwrap()
        .into_iter()
        .map(|w| w.workspace_id)
        .collect();
    assert_eq!(ids, [DEFAULT_WORKSPACE]);
    let devices = l.devices().unwrap();
    assert_eq!(devices.len(), 2);
    assert!(devices.iter().all(|d| d.workspace_id == DEFAULT_WORKSPACE));
    let groups = l.group_entries().unwrap();
    assert_eq!(groups.len(), 1);
    assert_eq!(groups[0].workspace_id, DEFAULT_WORKSPACE);
    assert_eq!(groups[0].members, ["lock-a"]);
    let record = l.authenticate(key).unwrap();
    assert_eq!(
        (record.name.as_str(), record.workspace_id.as_str()),
        ("ci", DEFAULT_WORKSPACE)
    );
    let mut default = Scoped::new(l, DEFAULT_WORKSPACE);
    assert_eq!(default.devices().unwrap().len(), 2);
    let code = default.get("old-1", now()).unwrap();
    assert_eq!(code.code, old_pin());
    assert_eq!(default.group("g").unwrap().members, ["lock-a"]);
    l.create_workspace("later", now()).unwrap();
    let mut later = Scoped::new(l, "later");
    assert!(later.devices().unwrap().is_empty());
    assert!(matches!(
        later.get("old-1", now()),
        Err(LedgerError::NotFound { .. })
    ));
    // Idempotency keys are unique per workspace: `later` uses the old
    // code's key for a code of its own; in `default` it still names the
    // old code (another request with it is a conflict).
    l.add_device(
        &master(),
        &Device::new("later-door", "standard-10").in_workspace("later"),
    )
    .unwrap();
    let spec = CodeSpec::ongoing("later-door").with_idempotency_key("booking-1");
    let mut later = Scoped::new(l, "later");
    let own = later.issue(&master(), &spec, now()).unwrap();
    assert!(own.created);
    assert_eq!(own.record.device_id, "later-door");
    let again = later.issue(&master(), &spec, now()).unwrap();
    assert!(!again.created);
    assert_eq!(again.record.access_code_id, own.record.access_code_id);
    let reuse = CodeSpec::ongoing("lock-b").with_idempotency_key("booking-1");
    assert!(matches!(
        l.issue(&master(), &reuse, now()),
        Err(LedgerError::IdempotencyConflict { .. })
    ));
    // The migrated ledger issues on: the next variance of the window.
    let next = CodeSpec::time_bound(
        "lock-a",
        t("2025-04-27T15:00:00Z"),
        t("2025-04-27T17:00:00Z"),
    );
    let b = l.issue(&master(), &next, now()).unwrap().record;
    assert_eq!(
        codec(l, "lock-a")
            .decode_input(b.code.as_bytes())
            .unwrap()
            .variance(),
        1
    );
}

/// The schema-3 SQL of the last offpin before workspaces (with the
/// capabilities column its writable opens add), with a device in a group,
/// a device alone, a code with an idempotency key and an API key.
#[cfg(feature = "sqlite")]
fn write_v3(path: &std::path::Path, key_hash: &[u8]) {
    let c = rusqlite::Connection::open(path).unwrap();
    c.execute_batch(&format!(
        "CREATE TABLE meta (key TEXT PRIMARY KEY NOT NULL, value BLOB NOT NULL);
        CREATE TABLE devices (device_id TEXT PRIMARY KEY NOT NULL, profile TEXT NOT NULL, utc_offset_minutes INTEGER NOT NULL, generation INTEGER NOT NULL, time_zone TEXT, removed_at TEXT);
        CREATE TABLE codes (seq INTEGER PRIMARY KEY AUTOINCREMENT, access_code_id TEXT NOT NULL UNIQUE, device_id TEXT NOT NULL, generation INTEGER NOT NULL, kind TEXT NOT NULL, start INTEGER NOT NULL, length INTEGER NOT NULL, lineage INTEGER NOT NULL, number INTEGER NOT NULL, code TEXT NOT NULL, issued_start INTEGER, issued_end INTEGER, name TEXT, user_identifier_key TEXT, common_code_key TEXT, idempotency_key TEXT UNIQUE, created_at TEXT NOT NULL, deleted_at TEXT, revocation_code TEXT, group_id TEXT, group_generation INTEGER);
        CREATE UNIQUE INDEX codes_allocation ON codes (device_id, generation, kind, start, length, lineage, number);
        CREATE INDEX codes_device ON codes (device_id);
        CREATE INDEX codes_user ON codes (user_identifier_key);
        CREATE TABLE groups (group_id TEXT PRIMARY KEY NOT NULL, profile TEXT NOT NULL, generation INTEGER NOT NULL);
        CREATE TABLE group_members (device_id TEXT PRIMARY KEY NOT NULL, group_id TEXT NOT NULL REFERENCES groups (group_id));
        CREATE TABLE api_keys (seq INTEGER PRIMARY KEY AUTOINCREMENT, key_id TEXT NOT NULL UNIQUE, name TEXT NOT NULL, hash BLOB NOT NULL, created_at TEXT NOT NULL, revoked_at TEXT, capabilities TEXT);
        INSERT INTO devices VALUES ('lock-a', 'standard-10', 0, 0, NULL, NULL), ('lock-b', 'compact-8', 0, 0, NULL, NULL);
        INSERT INTO groups VALUES ('g', 'standard-10', 0);
        INSERT INTO group_members VALUES ('lock-a', 'g');
        INSERT INTO codes (access_code_id, device_id, generation, kind, start, length, lineage, number, code, created_at, idempotency_key) VALUES ('old-1', 'lock-a', 0, 'hourly', 11583, 2, 0, 0, '{}', '2025-04-01T00:00:00.000Z', 'booking-1');
        PRAGMA application_id = 1868984430; PRAGMA user_version = 3;",
        old_pin()
    ))
    .unwrap();
    c.execute(
        "INSERT INTO api_keys (key_id, name, hash, created_at) VALUES (?1, 'ci', ?2, '2025-04-01T00:00:00.000Z')",
        rusqlite::params!["060606060606", key_hash],
    )
    .unwrap();
}

#[cfg(feature = "sqlite")]
#[test]
fn a_schema_3_sqlite_ledger_migrates_into_the_default_workspace() {
    use offpin_ledger::ledger::api_keys::ApiKey;
    use offpin_ledger::ledger::sqlite::SqliteLedger;
    let key = ApiKey::from_random(&[6; RANDOM_BYTES]);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v3.db");
    write_v3(&path, &key.hash());
    assert!(matches!(
        SqliteLedger::open_read_only(&path),
        Err(LedgerError::NeedsUpgrade { from: 3, to: 4, .. })
    ));
    let mut l = SqliteLedger::open_existing(&path).unwrap();
    everything_in_default(&mut l, key.expose_secret());
    drop(l);
    // Upgraded once: read-only opens now work, and see it the same (with
    // the device `later` registered), the old code's idempotency key in
    // `default` only.
    let mut ro = SqliteLedger::open_read_only(&path).unwrap();
    assert_eq!(ro.devices().unwrap().len(), 3);
    let keyed: Vec<(String, String)> = ro
        .find(&ListFilter::default())
        .unwrap()
        .into_iter()
        .filter(|c| c.idempotency_key.as_deref() == Some("booking-1"))
        .map(|c| (c.access_code_id, c.device_id))
        .collect();
    assert_eq!(keyed.len(), 2, "{keyed:?}");
    assert!(keyed.contains(&("old-1".to_owned(), "lock-a".to_owned())));
    assert!(keyed.iter().any(|(_, d)| d == "later-door"));
}

#[cfg(feature = "postgres")]
#[test]
fn a_postgres_ledger_of_migration_3_migrates_into_the_default_workspace() {
    use offpin_ledger::ledger::api_keys::ApiKey;
    use offpin_ledger::ledger::postgres::{MIGRATIONS, PostgresLedger};
    let Some(url) = super::postgres_backend::fresh_url() else {
        return;
    };
    let key = ApiKey::from_random(&[6; RANDOM_BYTES]);
    let mut c = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    // The database as the offpin before workspaces left it: migrations 1
    // to 3 (never changed once released; 3 is the keys' capabilities),
    // then its rows.
    c.batch_execute(
        "CREATE TABLE offpin_migrations (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())",
    )
    .unwrap();
    for (version, sql) in (1..=3).zip(&MIGRATIONS[..3]) {
        c.batch_execute(sql).unwrap();
        c.execute(
            "INSERT INTO offpin_migrations (version) VALUES ($1)",
            &[&version],
        )
        .unwrap();
    }
    c.batch_execute(&format!(
        "INSERT INTO devices VALUES ('lock-a', 'standard-10', 0, 0, NULL, NULL), ('lock-b', 'compact-8', 0, 0, NULL, NULL);
        INSERT INTO groups VALUES ('g', 'standard-10', 0);
        INSERT INTO group_members VALUES ('lock-a', 'g');
        INSERT INTO codes (access_code_id, device_id, generation, kind, start, length, lineage, number, code, created_at, idempotency_key) VALUES ('old-1', 'lock-a', 0, 'hourly', 11583, 2, 0, 0, '{}', '2025-04-01T00:00:00Z', 'booking-1');",
        old_pin()
    ))
    .unwrap();
    c.execute(
        "INSERT INTO api_keys (key_id, name, hash, created_at) VALUES ('060606060606', 'ci', $1, now())",
        &[&key.hash().as_slice()],
    )
    .unwrap();
    let mut l = PostgresLedger::connect(&url).unwrap();
    everything_in_default(&mut l, key.expose_secret());
}
