//! Weekly recurring and clock-setting codes through the ledger, on every
//! backend: what is stored round-trips (list and get show the schedule
//! and the instant), the PIN is the grant asked for, each window has its
//! variances (a clock instant its one PIN), and every request that would
//! open longer than asked, or that the profile cannot express, is refused
//! with the field to blame. API keys keep their capabilities.

use super::*;
use offpin::grant::Recurrence;
use offpin::recurring::{Hours, Weekdays};
use offpin_ledger::ledger::api_keys::Capabilities;
use offpin_ledger::ledger::hosted::Blame;

/// `v2`: standard-10-v2 at UTC (weeks of the profile start on Mondays).
const V2: &str = "v2";

/// Monday 2025-05-05 (week 70 of the profile: 490 days after 2024-01-01).
const MONDAY: &str = "2025-05-05T09:00:00Z";
/// Friday of the next week, at the end of its slot.
const FRIDAY_NEXT: &str = "2025-05-16T17:00:00Z";

fn office(start: &str, end: &str) -> CodeSpec {
    CodeSpec::recurring(
        V2,
        (t(start), t(end)),
        Weekdays::WEEKDAYS,
        Hours::new(9, 17),
    )
}

fn blame_field(e: &LedgerError) -> Option<&'static str> {
    e.blame().request_field()
}

/// Every check of this module on a fresh ledger.
pub fn kinds<L: Ledger + ApiKeyStore>(l: &mut L) {
    l.add_device(&master(), &Device::new(V2, "standard-10-v2"))
        .unwrap();
    l.add_device(&master(), &Device::new("v1", "standard-10"))
        .unwrap();
    recurring_round_trips(l);
    recurring_refusals(l);
    clock_setting(l);
    capabilities(l);
}

fn recurring_round_trips<L: Ledger>(l: &mut L) {
    let m = master();
    // Monday 09:00 to Friday 17:00 of the next week: two whole weeks, no
    // rounding needed (no slot lies between midnight and 09:00).
    let spec = office(MONDAY, FRIDAY_NEXT).with_max_rounding_secs(0);
    let a = l.issue(&m, &spec, now()).unwrap().record;
    assert_eq!(a.starts_at, Some(t("2025-05-05T00:00:00Z")));
    assert_eq!(a.ends_at, Some(t("2025-05-19T00:00:00Z")));
    let r = a.offpin_recurrence.clone().expect("the schedule");
    assert_eq!(
        r.weekdays,
        ["monday", "tuesday", "wednesday", "thursday", "friday"]
    );
    assert_eq!(
        (r.starts_at_time.as_str(), r.ends_at_time.as_str()),
        ("09:00", "17:00")
    );
    assert_eq!(r.weeks, 2);
    assert_eq!(a.offpin_clock_setting, None);
    assert_eq!(a.status, CodeStatus::Set);
    // The PIN is that grant: week 70, mask #0 (Mon-Fri), range #3 (09-17).
    let grant = codec(l, V2).decode_input(a.code.as_bytes()).unwrap();
    assert_eq!(
        grant,
        Grant::Recurring(Recurrence {
            start_week: 70,
            weeks: 2,
            days: 0,
            hours: 3,
            variance: 0
        })
    );
    // A request from Saturday before the first week starts on its Monday:
    // the same weeks, the next variance.
    let b = l
        .issue(&m, &office("2025-05-03T09:00:00Z", FRIDAY_NEXT), now())
        .unwrap()
        .record;
    assert_eq!(b.starts_at, a.starts_at);
    assert_ne!(b.code, a.code);
    assert_eq!(
        codec(l, V2)
            .decode_input(b.code.as_bytes())
            .unwrap()
            .variance(),
        1
    );
    l.issue(&m, &spec, now()).unwrap();
    let e = l.issue(&m, &spec, now()).unwrap_err();
    assert!(matches!(e, LedgerError::NoVarianceAvailable { .. }), "{e}");
    assert!(e.to_string().contains("recurring code's weeks"), "{e}");
    // Another schedule is another scope: variance 0 again.
    let tue_thu = CodeSpec::recurring(
        V2,
        (t(MONDAY), t(FRIDAY_NEXT)),
        Weekdays::TUE_THU,
        Hours::new(9, 17),
    );
    let c = l.issue(&m, &tue_thu, now()).unwrap().record;
    assert_eq!(
        codec(l, V2).decode_input(c.code.as_bytes()).unwrap(),
        Grant::Recurring(Recurrence {
            start_week: 70,
            weeks: 2,
            days: 4,
            hours: 3,
            variance: 0
        })
    );
    // list and get show what was issued.
    assert_eq!(l.get(&a.access_code_id, now()).unwrap(), a);
    let listed = l.list(&ListFilter::device(V2), now()).unwrap();
    assert_eq!(listed.len(), 4);
    assert_eq!(listed[0], a);
    assert_eq!(
        listed[3].offpin_recurrence.as_ref().unwrap().weekdays,
        ["tuesday", "thursday"]
    );
    // After its last week it no longer opens.
    let later = l.get(&a.access_code_id, t("2025-05-20T00:00:00Z")).unwrap();
    assert_eq!(later.status, CodeStatus::Unset);
}

fn recurring_refusals<L: Ledger>(l: &mut L) {
    let m = master();
    let refused = |l: &mut L, spec: &CodeSpec| l.issue(&m, spec, now()).unwrap_err();
    // From Wednesday: Monday's and Tuesday's slots of that week would open
    // before it.
    let e = refused(l, &office("2025-05-07T09:00:00Z", FRIDAY_NEXT));
    assert!(
        matches!(e, LedgerError::RecurrenceOutsideSpan { .. }),
        "{e}"
    );
    assert_eq!(blame_field(&e), Some("starts_at"));
    assert!(e.to_string().contains("2025-05-05T09:00:00"), "{e}");
    // Until Wednesday 17:00: Thursday and Friday would open after it.
    let e = refused(l, &office(MONDAY, "2025-05-14T17:00:00Z"));
    assert_eq!(blame_field(&e), Some("ends_at"), "{e}");
    // One hour short of Friday's slot end: refused without rounding,
    // accepted within an hour's.
    let mwf = |rounding| {
        CodeSpec::recurring(
            V2,
            (t(MONDAY), t("2025-05-16T16:00:00Z")),
            Weekdays::MON_WED_FRI,
            Hours::new(9, 17),
        )
        .with_max_rounding_secs(rounding)
    };
    let e = refused(l, &mwf(3_599));
    assert_eq!(blame_field(&e), Some("ends_at"), "{e}");
    let r = l.issue(&m, &mwf(3_600), now()).unwrap().record;
    assert_eq!(r.ends_at, Some(t("2025-05-19T00:00:00Z")));
    // A weekend holds no weekday slot: the code would never open.
    let e = refused(l, &office("2025-05-10T00:00:00Z", "2025-05-12T00:00:00Z"));
    assert_eq!(blame_field(&e), Some("ends_at"), "{e}");
    assert!(e.to_string().contains("would never open"), "{e}");
    // Monday to Thursday is not in the profile's menu: the nearest is named.
    let mon_thu = CodeSpec::recurring(
        V2,
        (t(MONDAY), t(FRIDAY_NEXT)),
        Weekdays(0b000_1111),
        Hours::new(9, 17),
    );
    let e = refused(l, &mon_thu);
    assert_eq!(blame_field(&e), Some("offpin_recurrence"), "{e}");
    assert!(e.to_string().contains("Mon-Fri 09:00-17:00"), "{e}");
    // 14 weeks: longer than the profile's 13.
    let e = refused(l, &office(MONDAY, "2025-08-08T17:00:00Z"));
    assert_eq!(blame_field(&e), Some("ends_at"), "{e}");
    // A format-1 profile has no recurring codes.
    let e = refused(
        l,
        &CodeSpec {
            device_id: "v1".to_owned(),
            ..office(MONDAY, FRIDAY_NEXT)
        },
    );
    assert_eq!(blame_field(&e), Some("offpin_recurrence"), "{e}");
    // Nothing of the refusals was stored.
    assert_eq!(l.list(&ListFilter::device(V2), now()).unwrap().len(), 5);
}

fn clock_setting<L: Ledger>(l: &mut L) {
    let m = master();
    let at = t("2025-05-01T12:00:00Z");
    let a = l
        .issue(&m, &CodeSpec::clock_set(V2, at), now())
        .unwrap()
        .record;
    assert_eq!(
        a.offpin_clock_setting.as_ref().map(|c| c.sets_clock_to),
        Some(at)
    );
    assert_eq!(a.offpin_recurrence, None);
    // Accepted during the profile's step (168 h) before its instant.
    assert_eq!(a.starts_at, Some(t("2025-04-24T12:00:00Z")));
    assert_eq!(a.ends_at, Some(at));
    assert_eq!(
        codec(l, V2).decode_input(a.code.as_bytes()).unwrap(),
        Grant::ClockSet {
            at: u32::try_from((at.timestamp() - t("2024-01-01T00:00:00Z").timestamp()) / 600)
                .unwrap()
        }
    );
    assert_eq!(l.get(&a.access_code_id, now()).unwrap(), a);
    // No grace: unset from its instant on.
    assert_eq!(
        l.get(&a.access_code_id, at).unwrap().status,
        CodeStatus::Unset
    );
    // One PIN per instant.
    let e = l
        .issue(&m, &CodeSpec::clock_set(V2, at), now())
        .unwrap_err();
    assert!(matches!(e, LedgerError::NoVarianceAvailable { .. }), "{e}");
    // Off the 10-minute grid without rounding; in the past.
    let e = l
        .issue(
            &m,
            &CodeSpec::clock_set(V2, t("2025-05-01T12:05:00Z")),
            now(),
        )
        .unwrap_err();
    assert_eq!(blame_field(&e), Some("max_time_rounding"), "{e}");
    let e = l
        .issue(
            &m,
            &CodeSpec::clock_set(V2, t("2025-03-01T12:00:00Z")),
            now(),
        )
        .unwrap_err();
    assert!(matches!(e, LedgerError::WindowEnded { .. }), "{e}");
    let e = l
        .issue(&m, &CodeSpec::clock_set("v1", at), now())
        .unwrap_err();
    assert_eq!(
        e.blame(),
        Blame::Request {
            field: Some("offpin_clock_setting")
        },
        "{e}"
    );
}

fn capabilities<L: ApiKeyStore>(l: &mut L) {
    let plain = l
        .create_api_key("plain", &[3; RANDOM_BYTES], now())
        .unwrap();
    let all = Capabilities {
        read_service_secrets: true,
        issue_clock_codes: true,
    };
    let strong = l
        .create_api_key_with("strong", all, &[4; RANDOM_BYTES], now())
        .unwrap();
    assert_eq!(
        l.authenticate(plain.expose_secret()).unwrap().capabilities,
        Capabilities::NONE
    );
    assert_eq!(
        l.authenticate(strong.expose_secret()).unwrap().capabilities,
        all
    );
    let listed: Vec<_> = l
        .api_keys()
        .unwrap()
        .into_iter()
        .map(|k| k.capabilities)
        .collect();
    assert_eq!(listed, [Capabilities::NONE, all]);
}

#[test]
fn memory_ledger_kinds() {
    kinds(&mut MemoryLedger::new());
}

#[cfg(feature = "sqlite")]
#[test]
fn sqlite_ledger_kinds_survive_a_reopen() {
    use offpin_ledger::ledger::sqlite::SqliteLedger;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("kinds.db");
    let before = {
        let mut l = SqliteLedger::open(&path).unwrap();
        kinds(&mut l);
        l.list(&ListFilter::device(V2), now()).unwrap()
    };
    let mut ro = SqliteLedger::open_read_only(&path).unwrap();
    assert_eq!(ro.list(&ListFilter::device(V2), now()).unwrap(), before);
    assert_eq!(ro.api_keys().unwrap()[1].capabilities.names().len(), 2);
}

#[cfg(feature = "sqlite")]
#[test]
fn a_ledger_whose_keys_predate_capabilities_gets_the_column_and_keeps_its_keys() {
    use offpin_ledger::ledger::sqlite::SqliteLedger;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.db");
    let key = {
        let mut l = SqliteLedger::open(&path).unwrap();
        l.create_api_key("old", &[5; RANDOM_BYTES], now()).unwrap()
    };
    // As the offpin before capabilities wrote it.
    rusqlite::Connection::open(&path)
        .unwrap()
        .execute_batch("ALTER TABLE api_keys DROP COLUMN capabilities;")
        .unwrap();
    let mut ro = SqliteLedger::open_read_only(&path).unwrap();
    let old = ro.authenticate(key.expose_secret()).unwrap();
    assert_eq!(old.capabilities, Capabilities::NONE);
    drop(ro);
    let mut l = SqliteLedger::open_existing(&path).unwrap();
    assert_eq!(
        l.authenticate(key.expose_secret()).unwrap().capabilities,
        Capabilities::NONE
    );
    let all = Capabilities {
        read_service_secrets: true,
        issue_clock_codes: false,
    };
    let new = l
        .create_api_key_with("new", all, &[6; RANDOM_BYTES], now())
        .unwrap();
    assert_eq!(
        l.authenticate(new.expose_secret()).unwrap().capabilities,
        all
    );
}

#[cfg(feature = "postgres")]
#[test]
fn postgres_ledger_kinds_survive_a_reconnect() {
    use offpin_ledger::ledger::postgres::PostgresLedger;
    let Some(url) = super::postgres_backend::fresh_url() else {
        return;
    };
    let before = {
        let mut l = PostgresLedger::connect(&url).unwrap();
        kinds(&mut l);
        l.list(&ListFilter::device(V2), now()).unwrap()
    };
    let mut l = PostgresLedger::connect(&url).unwrap();
    assert_eq!(l.list(&ListFilter::device(V2), now()).unwrap(), before);
    assert_eq!(l.api_keys().unwrap()[1].capabilities.names().len(), 2);
}

/// README's service section shows this answer (filtered by `jq`).
#[test]
fn the_readme_recurring_example_is_what_the_ledger_issues() {
    let mut l = MemoryLedger::new();
    l.add_device(&master(), &Device::new("office", "standard-10-v2"))
        .unwrap();
    let spec = CodeSpec::recurring(
        "office",
        (t("2027-01-04T09:00:00Z"), t("2027-01-15T17:00:00Z")),
        Weekdays::WEEKDAYS,
        Hours::new(9, 17),
    )
    .with_max_rounding_secs(3_600);
    let r = l
        .issue(&master(), &spec, t("2026-12-01T00:00:00Z"))
        .unwrap()
        .record;
    // As `jq -c '{starts_at, ends_at, offpin_recurrence}'` prints the
    // record (its fields in the order the server writes them).
    let json = serde_json::to_value(&r).unwrap();
    let line = format!(
        r#"{{"starts_at":{},"ends_at":{},"offpin_recurrence":{}}}"#,
        json["starts_at"],
        json["ends_at"],
        serde_json::to_string(&r.offpin_recurrence).unwrap()
    );
    assert_eq!(
        line,
        r#"{"starts_at":"2027-01-04T00:00:00.000Z","ends_at":"2027-01-18T00:00:00.000Z","offpin_recurrence":{"weekdays":["monday","tuesday","wednesday","thursday","friday"],"starts_at_time":"09:00","ends_at_time":"17:00","weeks":2}}"#
    );
    assert!(include_str!("../../../README.md").contains(&line));
}
