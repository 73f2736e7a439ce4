//! The ledger, one test binary: the behaviour every backend shares
//! (memory, SQLite, PostgreSQL when `OFFPIN_TEST_POSTGRES` is set), each
//! part a function run on every backend, and the backends' own tests.
//!
//! - `ledger/issuing.rs`: allocation, listing, deletion, the refusals of
//!   dead codes, atomic batches with idempotency keys;
//! - `ledger/master_key.rs`: the master-key fingerprint, ledgers an older
//!   offpin wrote;
//! - `ledger/lifecycle.rs`: device update and removal, records at read
//!   time;
//! - `ledger/hosted.rs`: the hosted API's rules and API keys;
//! - `ledger/concurrency.rs`: concurrent writers (SQLite, PostgreSQL);
//! - `ledger/sqlite.rs`: the file: persistence, upgrades, foreign and
//!   empty files, read-only opens; `ledger/group_commit.rs`: its writer
//!   for services (shared commits, savepoints, WAL while it runs);
//!   `ledger/postgres.rs`: migrations, reconnects; `ledger/commit_lost.rs`:
//!   connections lost at the commit;
//! - `ledger/capacity.rs`: spent windows and slots; `ledger/groups.rs`:
//!   groups; `ledger/record_json.rs`: the `access_code` JSON;
//!   `ledger/service.rs`: service codes and their URIs against the
//!   committed vectors; `ledger/tz_rules.rs`: IANA zones against the
//!   lock's TZ rules; `ledger/kinds.rs`: weekly recurring and
//!   clock-setting codes, API-key capabilities; `ledger/pages.rs`: pages
//!   of `list`, `search`, the retention, the revocation PIN in the record;
//!   `ledger/workspaces.rs`: tenancy, and ledgers migrated into the
//!   `default` workspace.
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
#[cfg(feature = "postgres")]
#[path = "ledger/commit_lost.rs"]
mod commit_lost;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
#[path = "ledger/concurrency.rs"]
mod concurrency;
#[cfg(feature = "sqlite")]
#[path = "ledger/group_commit.rs"]
mod group_commit;
#[path = "ledger/groups.rs"]
mod groups;
#[path = "ledger/hosted.rs"]
mod hosted;
#[path = "ledger/issuing.rs"]
mod issuing;
#[path = "ledger/kinds.rs"]
mod kinds;
#[path = "ledger/lifecycle.rs"]
mod lifecycle;
#[path = "ledger/master_key.rs"]
mod master_key;
#[path = "ledger/pages.rs"]
mod pages;
#[cfg(feature = "postgres")]
#[path = "ledger/postgres.rs"]
mod postgres_backend;
#[path = "ledger/record_json.rs"]
mod record_json;
#[path = "ledger/service.rs"]
mod service;
#[cfg(feature = "sqlite")]
#[path = "ledger/sqlite.rs"]
mod sqlite;
#[path = "ledger/tz_rules.rs"]
mod tz_rules;
#[path = "ledger/workspaces.rs"]
mod workspaces;

#[cfg(any(feature = "sqlite", feature = "postgres"))]
use concurrency::concurrent_writers;
use hosted::{api_keys, hosted};
use issuing::{batches, exercise, refusals};
use lifecycle::{lifecycle, read_time};
use master_key::{key_binding, older_ledger_with_a_code, older_ledger_without_codes};

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

/// Every behaviour test, on ledgers `open` makes (each a fresh ledger).
#[cfg(any(feature = "sqlite", feature = "postgres"))]
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
