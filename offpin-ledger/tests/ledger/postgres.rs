//! The PostgreSQL backend, on the database `OFFPIN_TEST_POSTGRES` names
//! (each ledger in a schema of its own). CI always sets it; elsewhere the
//! tests say they skip.

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

#[test]
fn an_unreachable_database_is_a_storage_error_whose_source_is_the_clients() {
    // Port 1 on the loopback: nothing listens, the connection is refused.
    let e = PostgresLedger::connect("postgres://offpin@127.0.0.1:1/offpin").unwrap_err();
    assert!(matches!(e, LedgerError::Storage(_)), "{e}");
    assert!(
        e.to_string()
            .contains("postgres postgres://offpin@127.0.0.1:1/offpin: "),
        "{e}"
    );
    let storage = std::error::Error::source(&e).expect("the StorageError");
    assert!(
        storage
            .source()
            .and_then(|s| s.downcast_ref::<postgres::Error>())
            .is_some(),
        "the client's error as the source: {e:?}"
    );
}
