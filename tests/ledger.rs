//! The ledger: allocation, the master-key fingerprint, dead codes, atomic
//! batches with idempotency keys, device lifecycle, records at read time,
//! and (with feature `sqlite`) the file: persistence, upgrades, foreign
//! and empty files, read-only opens, concurrent writers.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "tests"
)]
#![cfg(feature = "ledger")]

use chrono::{DateTime, Duration, Utc};
use offpin::server::ledger::memory::MemoryLedger;
use offpin::server::ledger::{
    CodeSpec, Consequence, Device, DeviceChange, Ledger, LedgerError, ListFilter,
};
use offpin::server::record::{
    CANNOT_OPEN, CodeStatus, DAILY_WINDOW_OFF_LOCAL_MIDNIGHT, DELETED_STILL_OPENS, DEVICE_REMOVED,
    KEY_GENERATION_CHANGED, MUST_BE_USED_WITHIN_24_HOURS, WINDOW_ENDED, WINDOW_MOVED,
};
use offpin::{Codec, Grant, MasterKey, RevokeTarget, UtcOffset};

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
    l.add_device(&Device::new("lock-a", "standard-10")).unwrap();
    l.add_device(&Device::new("lock-b", "compact-8")).unwrap();
}

fn codec<L: Ledger>(l: &mut L, device: &str) -> Codec {
    l.device(device).unwrap().codec(&master()).unwrap()
}

fn warning_codes(r: &offpin::server::record::AccessCode) -> Vec<&str> {
    r.warnings.iter().map(|w| w.warning_code.as_str()).collect()
}

fn error_codes(r: &offpin::server::record::AccessCode) -> Vec<&str> {
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
    l.add_device(&Device::new("lock-a", "standard-10")).unwrap();
    assert!(matches!(
        l.add_device(&Device::new("lock-a", "compact-8")),
        Err(LedgerError::DeviceConflict { .. })
    ));
    assert!(matches!(
        l.add_device(&Device::new("", "compact-8")),
        Err(LedgerError::Key(_))
    ));
    assert!(matches!(
        l.add_device(&Device::new("x", "standard-10").with_time_zone("Mars/Olympus")),
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
    // The ledger takes the first key and refuses another, naming both.
    l.issue(&m, &window(), now()).unwrap();
    let other = MasterKey::from_bytes([1; 32]);
    let e = l.issue(&other, &window(), now()).unwrap_err();
    let LedgerError::MasterKeyMismatch { ledger, given } = e else {
        panic!("{e}");
    };
    assert_eq!((ledger, given), (m.fingerprint(), other.fingerprint()));
    let text = l.issue(&other, &window(), now()).unwrap_err().to_string();
    let hex = |f: [u8; 8]| offpin::server::ledger::fingerprint_hex(&f);
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
    let codes = |v: &[offpin::server::ledger::IssueOutcome]| {
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
    l.add_device(&Device::new("lock-a", "standard-10").with_utc_offset(plus1))
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
    let u = l.update_device("lock-a", &change, now()).unwrap();
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
    let u = l.update_device("lock-a", &bump, now()).unwrap();
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
        l.update_device("lock-a", &DeviceChange::default(), now()),
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
    l.add_device(&readd).unwrap();
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
    ) -> offpin::server::record::AccessCode {
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

#[test]
fn memory_ledger_behaviour() {
    exercise(&mut MemoryLedger::new());
}

#[test]
fn memory_ledger_refusals() {
    refusals(&mut MemoryLedger::new());
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
    use offpin::server::ledger::CodeWant;
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
    l.add_device(&paris).unwrap();
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
    send::<offpin::server::ledger::sqlite::SqliteLedger>();
}

#[cfg(feature = "sqlite")]
mod sqlite {
    use super::*;
    use offpin::server::ledger::sqlite::SqliteLedger;
    use std::collections::BTreeSet;
    use std::sync::{Arc, Barrier};

    fn file_ledger(dir: &tempfile::TempDir, name: &str) -> SqliteLedger {
        SqliteLedger::open(&dir.path().join(name)).unwrap()
    }

    #[test]
    fn sqlite_ledger_behaviour() {
        exercise(&mut SqliteLedger::open_in_memory().unwrap());
        let dir = tempfile::tempdir().unwrap();
        exercise(&mut file_ledger(&dir, "a.db"));
        refusals(&mut file_ledger(&dir, "b.db"));
        batches(&mut file_ledger(&dir, "c.db"));
        lifecycle(&mut file_ledger(&dir, "d.db"));
        read_time(&mut file_ledger(&dir, "e.db"));
        // One file: no journal or WAL left beside the ledgers.
        let names: BTreeSet<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            names,
            ["a.db", "b.db", "c.db", "d.db", "e.db"]
                .map(String::from)
                .into()
        );
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
            Err(LedgerError::NeedsUpgrade { from: 1, to: 2, .. })
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
        {
            let mut l = SqliteLedger::open(&path).unwrap();
            l.add_device(&Device::new("lock-s", "secure-12")).unwrap();
            l.add_device(&Device::new("lock-a", "standard-10")).unwrap();
        }
        // secure-12 has 8 variances; 12 writers race for one window, 10
        // more for ongoing slots of another device.
        let writers = 12;
        let barrier = Arc::new(Barrier::new(writers + 10));
        let mut handles = Vec::new();
        for i in 0..writers + 10 {
            let path = path.clone();
            let barrier = Arc::clone(&barrier);
            handles.push(std::thread::spawn(move || {
                let mut l = SqliteLedger::open(&path).unwrap();
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
                (i < writers, l.issue(&master(), &spec, now()))
            }));
        }
        let results: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
        let mut windowed = BTreeSet::new();
        let mut slots = BTreeSet::new();
        let mut exhausted = 0;
        for (is_window, r) in results {
            match (is_window, r) {
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
        let mut l = SqliteLedger::open_existing(&path).unwrap();
        let stored: BTreeSet<String> = l
            .list(&ListFilter::device("lock-s"), now())
            .unwrap()
            .into_iter()
            .map(|r| r.code)
            .collect();
        assert_eq!(stored, windowed);
        let codec = codec(&mut l, "lock-s");
        let vs: BTreeSet<u8> = stored
            .iter()
            .map(|c| codec.decode_input(c.as_bytes()).unwrap().variance())
            .collect();
        assert_eq!(vs, (0..8).collect());
        assert_eq!(
            l.list(&ListFilter::device("lock-a"), now()).unwrap().len(),
            10
        );
    }
}
