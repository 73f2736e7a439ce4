//! Capacity errors that help (`offpin_ledger::ledger::capacity`), on
//! every backend (memory, SQLite, PostgreSQL when `OFFPIN_TEST_POSTGRES`
//! is set): a spent window names its pool, its holders and when the first
//! stops opening, and proposes the nearest window with a free variance,
//! which is then issued and tried on a real `Lock`; spent ongoing slots
//! name their holders; a refused request stores nothing.

use super::{master, now, t};
use chrono::{DateTime, Duration, Utc};
use offpin::lock::{Decision, Lock};
use offpin::profile::Kind;
use offpin::tz::TzRule;
use offpin::{Codec, DeviceKey, UtcOffset};
use offpin_ledger::ledger::capacity::error_data;
use offpin_ledger::ledger::{
    CodeSpec, CodeWant, Device, Ledger, LedgerError, ListFilter, PROPOSAL_SHIFTS, SharedSpec,
    SpentPool,
};

/// `standard-10`: 3 variances per window.
const THREE: &str = "cap-three";
/// `compact-8`: 1 variance per window, 20 ongoing slots.
const ONE: &str = "cap-one";
/// `standard-10-v2` in Europe/Paris: the lock keeps the zone's DST rule.
const PARIS: &str = "cap-paris";
const GROUP: &str = "cap-group";
const MEMBERS: [&str; 2] = ["cap-g1", "cap-g2"];

fn setup<L: Ledger>(l: &mut L) {
    let m = master();
    l.add_device(&m, &Device::new(THREE, "standard-10"))
        .unwrap();
    l.add_device(&m, &Device::new(ONE, "compact-8")).unwrap();
    let paris = Device::new(PARIS, "standard-10-v2")
        .with_time_zone("Europe/Paris")
        .with_utc_offset(UtcOffset::from_minutes(60).unwrap());
    l.add_device(&m, &paris).unwrap();
    l.create_group(&m, GROUP, "standard-10").unwrap();
    for d in MEMBERS {
        l.add_device(&m, &Device::new(d, "standard-10")).unwrap();
        l.add_to_group(&m, GROUP, d).unwrap();
    }
}

fn count<L: Ledger>(l: &mut L, device: &str) -> usize {
    l.find(&ListFilter::device(device)).unwrap().len()
}

fn key(id: &str) -> DeviceKey {
    master().derive_device_key(id.as_bytes(), 0).unwrap()
}

fn profile_of(device: &str) -> offpin::Profile {
    let name = match device {
        ONE => "compact-8",
        PARIS => "standard-10-v2",
        _ => "standard-10",
    };
    offpin::profile::shipped::by_name(name).unwrap()
}

/// Whether a fresh lock (UTC) holding `keys` (its own, then a group key)
/// opens for `pin` at `at`.
fn opens(device: &str, keys: &[DeviceKey], pin: &str, at: DateTime<Utc>) -> bool {
    opens_in(UtcOffset::UTC.into(), device, keys, pin, at)
}

/// [`opens`] on a lock keeping local time `zone`.
fn opens_in(zone: TzRule, device: &str, keys: &[DeviceKey], pin: &str, at: DateTime<Utc>) -> bool {
    let p = profile_of(device);
    let codec = |k: &DeviceKey| Codec::new(k, p).unwrap();
    let at = at.timestamp();
    let decision = match keys {
        [own] => {
            let mut lock = Lock::<8, 1>::new(codec(own), zone).unwrap();
            let seen = lock.observe_clock(at);
            lock.commit(seen).unwrap();
            lock.check(pin.as_bytes(), at).decision
        }
        [own, group] => {
            let mut lock = Lock::<8, 2>::new([codec(own), codec(group)], zone).unwrap();
            let seen = lock.observe_clock(at);
            lock.commit(seen).unwrap();
            lock.check(pin.as_bytes(), at).decision
        }
        _ => panic!("one or two keys"),
    };
    matches!(decision, Decision::Open(_))
}

fn spent(e: &LedgerError) -> &SpentPool {
    match e.innermost() {
        LedgerError::NoVarianceAvailable { pool, .. }
        | LedgerError::NoSharedVariance { pool, .. } => pool,
        other => panic!("not a spent window: {other}"),
    }
}

fn hours(start: &str, h: i64) -> CodeSpec {
    let s = t(start);
    CodeSpec::time_bound(ONE, s, s + Duration::hours(h))
}

/// Fills every variance of a window (rounded outward), then asks again:
/// the error names the pool, its holders, `next_free_at` is the earliest
/// end of a holder's window, nothing is stored, and the proposed window is
/// issued and opens a real lock inside it (not before).
fn fill_then_propose<L: Ledger>(l: &mut L) {
    setup(l);
    let m = master();
    let spec = CodeSpec::time_bound(THREE, t("2025-05-01T15:20:00Z"), t("2025-05-01T17:40:00Z"))
        .with_max_rounding_secs(3_600);
    let held: Vec<_> = (0..3)
        .map(|_| l.issue(&m, &spec, now()).unwrap().record)
        .collect();
    let e = l.issue(&m, &spec, now()).unwrap_err();
    assert_eq!(count(l, THREE), 3, "a refused request stores nothing");
    let LedgerError::NoVarianceAvailable {
        device_id,
        variances,
        pool,
    } = &e
    else {
        panic!("{e}")
    };
    assert_eq!((device_id.as_str(), *variances), (THREE, 3));
    assert_eq!(pool.kind, Kind::Hourly);
    assert_eq!(pool.code_kind(), "time_bound");
    // The window as encoded: rounded outward to 15:00 and 18:00.
    assert_eq!(
        (pool.starts_at, pool.ends_at),
        (t("2025-05-01T15:00:00Z"), t("2025-05-01T18:00:00Z"))
    );
    let ids: Vec<&str> = held.iter().map(|r| r.access_code_id.as_str()).collect();
    assert_eq!(pool.held_by, ids);
    assert_eq!(pool.taken_in_batch, 0);
    let earliest_end = held.iter().filter_map(|r| r.ends_at).min();
    assert_eq!(pool.next_free_at, earliest_end);
    assert_eq!(pool.next_free_at, Some(t("2025-05-01T18:00:00Z")));
    let p = pool.proposal.unwrap();
    assert_eq!(
        (p.starts_at, p.ends_at, p.shift),
        (t("2025-05-01T16:00:00Z"), t("2025-05-01T19:00:00Z"), 1)
    );
    let text = e.to_string();
    for part in [
        "igloohome_offline_access_code_no_variance_available on device 'cap-three'",
        "all 3 variances of the hourly window 2025-05-01T15:00:00.000Z to 2025-05-01T18:00:00.000Z are taken",
        ids[0],
        "stops opening at 2025-05-01T18:00:00.000Z, when the window ends",
        "deleting a code does not free its variance",
        "2025-05-01T16:00:00.000Z to 2025-05-01T19:00:00.000Z (1 hour later)",
    ] {
        assert!(text.contains(part), "{part:?} in {text}");
    }
    let data = error_data(&e).unwrap();
    assert_eq!(data["device_id"], THREE);
    assert_eq!(data["code_kind"], "time_bound");
    assert_eq!(data["window_kind"], "hourly");
    assert_eq!(data["next_free_at"], "2025-05-01T18:00:00.000Z");
    assert_eq!(data["proposed_starts_at"], "2025-05-01T16:00:00.000Z");
    assert_eq!(data["proposed_ends_at"], "2025-05-01T19:00:00.000Z");
    assert_eq!(data["held_by"].as_array().unwrap().len(), 3);

    // Issuing at the proposal succeeds, on the window proposed.
    let moved = CodeSpec::time_bound(THREE, p.starts_at, p.ends_at);
    let r = l.issue(&m, &moved, now()).unwrap().record;
    assert_eq!(
        (r.starts_at, r.ends_at),
        (Some(p.starts_at), Some(p.ends_at))
    );
    assert_eq!(count(l, THREE), 4);
    let inside = p.starts_at + Duration::minutes(30);
    assert!(opens(THREE, &[key(THREE)], &r.code, inside));
    assert!(!opens(
        THREE,
        &[key(THREE)],
        &r.code,
        inside - Duration::hours(1)
    ));
    // Every holder still opens in its own window: nothing was re-issued.
    for h in &held {
        assert!(opens(
            THREE,
            &[key(THREE)],
            &h.code,
            t("2025-05-01T15:30:00Z")
        ));
    }
}

/// The pool is spent for several consecutive windows: the proposal is the
/// nearest free one, later first at equal distance, earlier ones too.
fn consecutive_windows<L: Ledger>(l: &mut L) {
    setup(l);
    let m = master();
    // W = 10:00-12:00; fill W, W+1h, W-1h, W+2h (one variance each).
    for start in [
        "2025-05-02T10:00:00Z",
        "2025-05-02T11:00:00Z",
        "2025-05-02T09:00:00Z",
        "2025-05-02T12:00:00Z",
    ] {
        l.issue(&m, &hours(start, 2), now()).unwrap();
    }
    let w = hours("2025-05-02T10:00:00Z", 2);
    let e = l.issue(&m, &w, now()).unwrap_err();
    let p = spent(&e).proposal.unwrap();
    assert_eq!(
        (p.starts_at, p.ends_at, p.shift),
        (t("2025-05-02T08:00:00Z"), t("2025-05-02T10:00:00Z"), -2)
    );
    assert!(e.to_string().contains("(2 hours earlier)"), "{e}");
    // W-2h taken too: W+3h.
    l.issue(&m, &hours("2025-05-02T08:00:00Z", 2), now())
        .unwrap();
    let before = count(l, ONE);
    let e = l.issue(&m, &w, now()).unwrap_err();
    assert_eq!(count(l, ONE), before);
    let p = spent(&e).proposal.unwrap();
    assert_eq!(
        (p.starts_at, p.ends_at, p.shift),
        (t("2025-05-02T13:00:00Z"), t("2025-05-02T15:00:00Z"), 3)
    );
    let r = l
        .issue(
            &m,
            &CodeSpec::time_bound(ONE, p.starts_at, p.ends_at),
            now(),
        )
        .unwrap()
        .record;
    assert!(opens(ONE, &[key(ONE)], &r.code, t("2025-05-02T14:59:00Z")));
    assert!(!opens(ONE, &[key(ONE)], &r.code, t("2025-05-02T12:30:00Z")));
}

/// An earlier window is proposed only if it starts at or after the issue
/// time.
fn earlier_only_in_the_future<L: Ledger>(l: &mut L) {
    setup(l);
    let m = master();
    // The window starts at the issue time: an hour earlier has begun.
    let w = CodeSpec::time_bound(ONE, now(), now() + Duration::hours(2));
    l.issue(&m, &w, now()).unwrap();
    l.issue(
        &m,
        &CodeSpec::time_bound(ONE, now() + Duration::hours(1), now() + Duration::hours(3)),
        now(),
    )
    .unwrap();
    let p = spent(&l.issue(&m, &w, now()).unwrap_err())
        .proposal
        .unwrap();
    assert_eq!((p.starts_at, p.shift), (now() + Duration::hours(2), 2));
}

/// The search looks at `2 × PROPOSAL_SHIFTS` windows and no further: with
/// all of them spent there is no proposal, though the next one is free.
fn the_search_is_bounded<L: Ledger>(l: &mut L) {
    setup(l);
    let m = master();
    let w = t("2025-05-10T10:00:00Z");
    let at = |k: i64| CodeSpec::time_bound(ONE, w + Duration::hours(k), w + Duration::hours(k + 1));
    let n = i64::from(PROPOSAL_SHIFTS);
    let fill: Vec<CodeSpec> = (-n..=n).map(at).collect();
    assert_eq!(fill.len(), 49);
    l.issue_batch(&m, &fill, now()).unwrap();
    let e = l.issue(&m, &at(0), now()).unwrap_err();
    let pool = spent(&e);
    assert_eq!(pool.proposal, None);
    assert!(
        e.to_string()
            .contains("none of those up to 24 hours earlier or later has one free"),
        "{e}"
    );
    assert!(error_data(&e).unwrap()["proposed_starts_at"].is_null());
    assert_eq!(count(l, ONE), 49);
    // Just past the bound, both ways, windows are free.
    l.issue(&m, &at(n + 1), now()).unwrap();
    l.issue(&m, &at(-n - 1), now()).unwrap();
}

/// One-time codes: the pool is the use window of a start hour; the
/// proposal is the next start hour, issued as a one-time code.
fn one_time<L: Ledger>(l: &mut L) {
    setup(l);
    let m = master();
    let spec = CodeSpec::one_time(THREE, t("2025-05-05T09:00:00Z"));
    for _ in 0..3 {
        l.issue(&m, &spec, now()).unwrap();
    }
    let e = l.issue(&m, &spec, now()).unwrap_err();
    let pool = spent(&e);
    assert_eq!((pool.kind, pool.code_kind()), (Kind::OneTime, "one_time"));
    assert_eq!(
        (pool.starts_at, pool.ends_at),
        (t("2025-05-05T09:00:00Z"), t("2025-05-06T09:00:00Z"))
    );
    assert_eq!(pool.next_free_at, Some(t("2025-05-06T09:00:00Z")));
    let p = pool.proposal.unwrap();
    assert_eq!(
        (p.starts_at, p.ends_at),
        (t("2025-05-05T10:00:00Z"), t("2025-05-06T10:00:00Z"))
    );
    assert!(e.to_string().contains("one-time use window"), "{e}");
    let r = l
        .issue(&m, &CodeSpec::one_time(THREE, p.starts_at), now())
        .unwrap()
        .record;
    assert_eq!(r.starts_at, Some(p.starts_at));
    assert!(opens(
        THREE,
        &[key(THREE)],
        &r.code,
        t("2025-05-05T10:30:00Z")
    ));
}

/// Daily windows shift by days.
fn daily<L: Ledger>(l: &mut L) {
    setup(l);
    let m = master();
    // Ten days: longer than compact-8's hourly windows (7 days).
    let spec = CodeSpec::time_bound(ONE, t("2025-06-01T00:00:00Z"), t("2025-06-11T00:00:00Z"));
    l.issue(&m, &spec, now()).unwrap();
    let e = l.issue(&m, &spec, now()).unwrap_err();
    let pool = spent(&e);
    assert_eq!(pool.kind, Kind::Daily);
    let p = pool.proposal.unwrap();
    assert_eq!(
        (p.starts_at, p.ends_at, p.shift),
        (t("2025-06-02T00:00:00Z"), t("2025-06-12T00:00:00Z"), 1)
    );
    let text = e.to_string();
    for part in [
        "the variance of the daily window 2025-06-01T00:00:00.000Z to 2025-06-11T00:00:00.000Z is taken",
        "starts a day earlier or later has 1 variance of its own",
        "(1 day later)",
    ] {
        assert!(text.contains(part), "{part:?} in {text}");
    }
    let r = l
        .issue(
            &m,
            &CodeSpec::time_bound(ONE, p.starts_at, p.ends_at),
            now(),
        )
        .unwrap()
        .record;
    // First used within compact-8's 12-hour activation window.
    assert!(opens(ONE, &[key(ONE)], &r.code, t("2025-06-02T06:00:00Z")));
    assert!(!opens(ONE, &[key(ONE)], &r.code, t("2025-06-01T06:00:00Z")));
}

/// Daily windows of a lock that keeps the zone's DST rule: the proposal
/// starts and ends at local midnights across the change of 2025-10-26,
/// and its PIN opens a lock keeping that rule.
fn daily_across_dst<L: Ledger>(l: &mut L) {
    setup(l);
    let m = master();
    // 00:00 CEST on 1 October to 00:00 CET on 5 November: 35 days, longer
    // than the profile's hourly windows (28 days).
    let spec = CodeSpec::time_bound(PARIS, t("2025-09-30T22:00:00Z"), t("2025-11-04T23:00:00Z"));
    for _ in 0..3 {
        l.issue(&m, &spec, now()).unwrap();
    }
    let e = l.issue(&m, &spec, now()).unwrap_err();
    let pool = spent(&e);
    assert_eq!(pool.kind, Kind::Daily);
    let p = pool.proposal.unwrap();
    assert_eq!(
        (p.starts_at, p.ends_at, p.shift),
        (t("2025-10-01T22:00:00Z"), t("2025-11-05T23:00:00Z"), 1)
    );
    let r = l
        .issue(
            &m,
            &CodeSpec::time_bound(PARIS, p.starts_at, p.ends_at),
            now(),
        )
        .unwrap()
        .record;
    assert_eq!(
        (r.starts_at, r.ends_at),
        (Some(p.starts_at), Some(p.ends_at))
    );
    let rule = l.device(PARIS).unwrap().lock_rule().unwrap();
    assert!(rule.has_dst());
    let own = [key(PARIS)];
    assert!(opens_in(
        rule,
        PARIS,
        &own,
        &r.code,
        t("2025-10-02T10:00:00Z")
    ));
    assert!(!opens_in(
        rule,
        PARIS,
        &own,
        &r.code,
        t("2025-10-01T21:00:00Z")
    ));
}

/// Every ongoing slot taken, two of them revoked: the error names the
/// holders, says that no slot frees, and stores nothing.
fn ongoing_slots<L: Ledger>(l: &mut L) {
    setup(l);
    let m = master();
    let all: Vec<CodeSpec> = (0..20).map(|_| CodeSpec::ongoing(ONE)).collect();
    let issued = l.issue_batch(&m, &all, now()).unwrap();
    let ids: Vec<String> = issued
        .iter()
        .map(|o| o.record.access_code_id.clone())
        .collect();
    for i in [3, 7] {
        l.delete(&m, &ids[i], now()).unwrap();
    }
    let e = l.issue(&m, &CodeSpec::ongoing(ONE), now()).unwrap_err();
    assert_eq!(count(l, ONE), 20, "a refused request stores nothing");
    let LedgerError::NoSlotAvailable {
        device_id,
        slots,
        held_by,
        taken_in_batch,
    } = &e
    else {
        panic!("{e}")
    };
    assert_eq!((device_id.as_str(), *slots, *taken_in_batch), (ONE, 20, 0));
    let slots_held: Vec<u32> = held_by.iter().map(|h| h.slot).collect();
    assert_eq!(slots_held, (0..20).collect::<Vec<u32>>());
    let holder_ids: Vec<&str> = held_by.iter().map(|h| h.access_code_id.as_str()).collect();
    assert_eq!(
        holder_ids,
        ids.iter().map(String::as_str).collect::<Vec<_>>()
    );
    let revoked: Vec<u32> = held_by
        .iter()
        .filter(|h| h.deleted_at.is_some())
        .map(|h| h.slot)
        .collect();
    assert_eq!(revoked, [3, 7]);
    let text = e.to_string();
    for part in [
        "all 20 ongoing slots of device 'cap-one' are taken",
        "18 held by live codes (slot 0: ",
        "2 revoked when their codes were deleted (slots 3, 7)",
        "No slot ever frees",
        "gives 20 fresh slots",
    ] {
        assert!(text.contains(part), "{part:?} in {text}");
    }
    let data = error_data(&e).unwrap();
    assert_eq!(data["code_kind"], "ongoing");
    assert!(data["next_free_at"].is_null());
    assert_eq!(data["held_by"].as_array().unwrap().len(), 20);
    assert_eq!(data["held_by"][3]["access_code_id"], ids[3].as_str());
    assert!(data["held_by"][3]["deleted_at"].is_string());
}

/// In a batch, the requests before the refused one count: the window
/// they fill is named with their share, the proposal skips what they
/// take, and nothing of the batch is stored.
fn batches<L: Ledger>(l: &mut L) {
    setup(l);
    let m = master();
    let w = CodeSpec::time_bound(THREE, t("2025-05-20T10:00:00Z"), t("2025-05-20T12:00:00Z"));
    let next = CodeSpec::time_bound(THREE, t("2025-05-20T11:00:00Z"), t("2025-05-20T13:00:00Z"));
    l.issue(&m, &w, now()).unwrap();
    // Two more in W, three in W+1h, then W again.
    let batch = [
        w.clone(),
        w.clone(),
        next.clone(),
        next.clone(),
        next,
        w.clone(),
    ];
    let e = l.issue_batch(&m, &batch, now()).unwrap_err();
    assert!(matches!(e, LedgerError::InBatch { index: 5, .. }), "{e}");
    assert_eq!(count(l, THREE), 1, "nothing of the batch is stored");
    let pool = spent(&e);
    assert_eq!((pool.held_by.len(), pool.taken_in_batch), (1, 2));
    assert_eq!(pool.next_free_at, Some(t("2025-05-20T12:00:00Z")));
    // W+1h is full within the batch: W-1h.
    let p = pool.proposal.unwrap();
    assert_eq!((p.starts_at, p.shift), (t("2025-05-20T09:00:00Z"), -1));
    assert!(
        e.to_string().contains("(by access codes ")
            && e.to_string()
                .contains(" and by 2 earlier requests of this batch)"),
        "{e}"
    );
    assert_eq!(error_data(&e).unwrap()["taken_in_batch"], 2);
    // Ongoing slots taken within the batch.
    let slots: Vec<CodeSpec> = (0..21).map(|_| CodeSpec::ongoing(ONE)).collect();
    let e = l.issue_batch(&m, &slots, now()).unwrap_err();
    assert!(
        matches!(
            e.innermost(),
            LedgerError::NoSlotAvailable {
                taken_in_batch: 20,
                ..
            }
        ),
        "{e}"
    );
    assert_eq!(count(l, ONE), 0);
    // A retried request (same idempotency key) takes nothing more.
    let keyed = w.clone().with_idempotency_key("k-1");
    l.issue(&m, &keyed, now()).unwrap();
    let e = l
        .issue_batch(&m, &[keyed.clone(), keyed, w.clone(), w.clone()], now())
        .unwrap_err();
    assert!(matches!(e, LedgerError::InBatch { index: 3, .. }), "{e}");
    let pool = spent(&e);
    assert_eq!((pool.held_by.len(), pool.taken_in_batch), (2, 1), "{e}");
}

/// A group: the proposal has a variance free on every member, and its
/// shared PIN opens both locks.
fn groups<L: Ledger>(l: &mut L) {
    setup(l);
    let m = master();
    let [g1, g2] = MEMBERS;
    let w = (t("2025-05-15T10:00:00Z"), t("2025-05-15T14:00:00Z"));
    let plus = |h: i64| (w.0 + Duration::hours(h), w.1 + Duration::hours(h));
    // W is full on g1, W+1h on g2 (codes of their own).
    for _ in 0..3 {
        l.issue(&m, &CodeSpec::time_bound(g1, w.0, w.1), now())
            .unwrap();
        let (s, e) = plus(1);
        l.issue(&m, &CodeSpec::time_bound(g2, s, e), now()).unwrap();
    }
    let want = |(starts_at, ends_at)| CodeWant::TimeBound { starts_at, ends_at };
    let e = l
        .issue_shared(&m, &SharedSpec::new(&MEMBERS, want(w)), now())
        .unwrap_err();
    assert_eq!(count(l, g1) + count(l, g2), 6, "nothing stored");
    let pool = spent(&e);
    assert_eq!(pool.held_by.len(), 3, "g1's three codes hold W");
    assert_eq!(pool.next_free_at, Some(w.1));
    let p = pool.proposal.unwrap();
    // W+1h is full on g2: W-1h is free on both.
    assert_eq!(((p.starts_at, p.ends_at), p.shift), (plus(-1), -1));
    let text = e.to_string();
    assert!(
        text.contains("'cap-g1' has taken [0, 1, 2] (none free)"),
        "{text}"
    );
    assert!(
        text.contains("the nearest with one free on every member is 2025-05-15T09:00:00.000Z"),
        "{text}"
    );
    let data = error_data(&e).unwrap();
    assert_eq!(data["group_id"], GROUP);
    assert_eq!(data["taken"][g1], serde_json::json!([0, 1, 2]));
    assert_eq!(data["proposed_starts_at"], "2025-05-15T09:00:00.000Z");
    let out = l
        .issue_shared(
            &m,
            &SharedSpec::new(&MEMBERS, want((p.starts_at, p.ends_at))),
            now(),
        )
        .unwrap();
    let pin = &out.records[0].code;
    let group_key = master().derive_group_key(GROUP.as_bytes(), 0).unwrap();
    for d in MEMBERS {
        assert!(opens(
            d,
            &[key(d), group_key.clone()],
            pin,
            t("2025-05-15T09:30:00Z")
        ));
    }
}

fn every_case<L: Ledger>(mut open: impl FnMut() -> L) {
    fill_then_propose(&mut open());
    consecutive_windows(&mut open());
    earlier_only_in_the_future(&mut open());
    the_search_is_bounded(&mut open());
    one_time(&mut open());
    daily(&mut open());
    daily_across_dst(&mut open());
    ongoing_slots(&mut open());
    batches(&mut open());
    groups(&mut open());
}

#[test]
fn memory_ledger_capacity_errors() {
    every_case(offpin_ledger::ledger::memory::MemoryLedger::new);
}

#[cfg(feature = "sqlite")]
#[test]
fn sqlite_ledger_capacity_errors() {
    use offpin_ledger::ledger::sqlite::SqliteLedger;
    let dir = tempfile::tempdir().unwrap();
    let mut n = 0;
    every_case(|| {
        n += 1;
        SqliteLedger::open(&dir.path().join(format!("{n}.db"))).unwrap()
    });
}

#[cfg(feature = "postgres")]
#[test]
fn postgres_ledger_capacity_errors() {
    use offpin_ledger::ledger::postgres::PostgresLedger;
    if super::postgres_backend::fresh_url().is_none() {
        return;
    }
    every_case(|| {
        let url = super::postgres_backend::fresh_url().unwrap();
        PostgresLedger::connect(&url).unwrap()
    });
}
