//! Groups in the ledger: one PIN for several locks, on every backend
//! (memory, SQLite, PostgreSQL when `OFFPIN_TEST_POSTGRES` is set). Every
//! shared PIN is tried on real locks (`Lock<8, 2>` holding the member's
//! device key and the group key).

use super::{master, now, t, warning_codes};
use offpin::lock::{Decision, Lock};
use offpin::{Codec, DeviceKey, MasterKey, UtcOffset};
use offpin_ledger::ledger::hosted::Blame;
use offpin_ledger::ledger::memory::MemoryLedger;
use offpin_ledger::ledger::{
    CodeSpec, CodeWant, Device, Ledger, LedgerError, ListFilter, NOT_SHARED, ShareRefusal,
    SharedSpec, WhenNotShared,
};
use offpin_ledger::record::{GROUP_REKEYED, LEFT_GROUP};

/// Inside the window of [`want`].
fn at() -> i64 {
    t("2025-05-01T16:00:00Z").timestamp()
}

fn want() -> CodeWant {
    CodeWant::TimeBound {
        starts_at: t("2025-05-01T15:00:00Z"),
        ends_at: t("2025-05-03T11:00:00Z"),
    }
}

const P: offpin::Profile = offpin::profile::shipped::STANDARD_10;

fn device_key(id: &str) -> DeviceKey {
    master().derive_device_key(id.as_bytes(), 0).unwrap()
}

fn group_key(group: &str, generation: u32) -> DeviceKey {
    master()
        .derive_group_key(group.as_bytes(), generation)
        .unwrap()
}

/// Whether a lock holding `keys` (its own, then a group key) opens for
/// `pin` inside the window.
fn opens(keys: &[DeviceKey], pin: &str) -> bool {
    let codec = |k: &DeviceKey| Codec::new(k, P).unwrap();
    let decision = match keys {
        [own] => {
            let mut lock = Lock::<8, 1>::new(codec(own), UtcOffset::UTC).unwrap();
            let seen = lock.observe_clock(at());
            lock.commit(seen).unwrap();
            lock.check(pin.as_bytes(), at()).decision
        }
        [own, group] => {
            let mut lock = Lock::<8, 2>::new([codec(own), codec(group)], UtcOffset::UTC).unwrap();
            let seen = lock.observe_clock(at());
            lock.commit(seen).unwrap();
            lock.check(pin.as_bytes(), at()).decision
        }
        _ => panic!("one or two keys"),
    };
    matches!(decision, Decision::Open(_))
}

fn setup<L: Ledger>(l: &mut L, members: &[&str]) {
    let m = master();
    for d in members.iter().chain(&["outsider", "loner"]) {
        l.add_device(&m, &Device::new(d, "standard-10")).unwrap();
    }
    l.create_group(&m, "building-a", "standard-10").unwrap();
    for d in members {
        l.add_to_group(&m, "building-a", d).unwrap();
    }
    l.create_group(&m, "building-b", "standard-10").unwrap();
    l.add_to_group(&m, "building-b", "outsider").unwrap();
}

fn shared(ids: &[&str]) -> SharedSpec {
    SharedSpec::new(ids, want())
}

fn code_count<L: Ledger>(l: &mut L, devices: &[&str]) -> usize {
    devices
        .iter()
        .map(|d| l.find(&ListFilter::device(d)).unwrap().len())
        .sum()
}

/// One PIN, the same on every member, opening each member's lock and no
/// other; each record its own, linked by `common_code_key`.
fn same_code_on_every_member<L: Ledger>(l: &mut L) {
    let members = ["door-1", "door-2", "door-3"];
    setup(l, &members);
    let out = l.issue_shared(&master(), &shared(&members), now()).unwrap();
    assert_eq!(out.records.len(), 3);
    let key = out.common_code_key.clone().unwrap();
    let pin = out.records[0].code.clone();
    for (r, d) in out.records.iter().zip(members) {
        assert_eq!(r.device_id, d);
        assert_eq!(r.code, pin);
        assert_eq!(r.common_code_key.as_deref(), Some(key.as_str()));
        assert!(r.warnings.iter().all(|w| w.warning_code != NOT_SHARED));
        assert!(
            opens(&[device_key(d), group_key("building-a", 0)], &pin),
            "{d}"
        );
        // Its own key alone does not open: the PIN is the group's.
        assert!(!opens(&[device_key(d)], &pin), "{d}");
        // Read back, the record is the same.
        assert_eq!(l.get(&r.access_code_id, now()).unwrap(), *r);
    }
    assert!(!opens(
        &[device_key("outsider"), group_key("building-b", 0)],
        &pin
    ));
    let ids: std::collections::BTreeSet<&str> = out
        .records
        .iter()
        .map(|r| r.access_code_id.as_str())
        .collect();
    assert_eq!(ids.len(), 3, "one record per member");
    // Deleting one member's record is per device: the others stay.
    for (i, r) in out.records.iter().enumerate() {
        let deleted = l.delete(&master(), &r.access_code_id, now()).unwrap();
        assert!(
            deleted
                .record
                .warnings
                .iter()
                .any(|w| w.warning_code.contains("deleted"))
        );
        for (j, other) in out.records.iter().enumerate() {
            let now_rec = l.get(&other.access_code_id, now()).unwrap();
            let deleted_now = now_rec
                .warnings
                .iter()
                .any(|w| w.warning_code.contains("deleted"));
            assert_eq!(deleted_now, j <= i, "record {j} after deleting {i}");
        }
    }
}

/// A lock of `member` (its key, the group's) that has opened with the
/// ongoing group `pin`, then is typed `revocation`: what it decides, and
/// whether `pin` still opens after.
fn revoke_at(member: &str, pin: &str, revocation: &str) -> (Decision, bool) {
    let codecs = [
        Codec::new(&device_key(member), P).unwrap(),
        Codec::new(&group_key("building-a", 0), P).unwrap(),
    ];
    let mut lock = Lock::<8, 2>::new(codecs, UtcOffset::UTC).unwrap();
    let seen = lock.observe_clock(at());
    lock.commit(seen).unwrap();
    let first = lock.check(pin.as_bytes(), at());
    assert!(
        matches!(first.decision, Decision::Open(_)),
        "{member}: {first:?}"
    );
    lock.commit(first.change).unwrap();
    let revoked = lock.check(revocation.as_bytes(), at() + 60);
    lock.commit(revoked.change).unwrap();
    let after = lock.check(pin.as_bytes(), at() + 120);
    (
        revoked.decision,
        matches!(after.decision, Decision::Open(_)),
    )
}

/// An ongoing group code opens every member; deleting it on one member
/// gives the revocation PIN of its slot, under the group key: typed at
/// that member it revokes the slot, and (README, "Deleting") typed at
/// another member it revokes it there as well. The other members'
/// records stay live until they are deleted too.
fn ongoing_revocation_reaches_every_member<L: Ledger>(l: &mut L) {
    let members = ["door-1", "door-2"];
    setup(l, &members);
    let spec = SharedSpec::new(&members, CodeWant::Ongoing);
    let out = l.issue_shared(&master(), &spec, now()).unwrap();
    let pin = out.records[0].code.clone();
    assert!(out.records.iter().all(|r| r.code == pin));
    let deleted = l
        .delete(&master(), &out.records[0].access_code_id, now())
        .unwrap();
    let revocation = deleted.revocation_code.clone().unwrap();
    assert_ne!(revocation, pin);
    for member in members {
        let (decision, still_opens) = revoke_at(member, &pin, &revocation);
        assert!(
            matches!(decision, Decision::Revoked(_)),
            "{member}: {decision:?}"
        );
        assert!(
            !still_opens,
            "{member}: the ongoing PIN opens after its revocation"
        );
    }
    // The revocation PIN is the group key's: a lock holding a member's own
    // key alone refuses it.
    let mut alone = Lock::<8, 1>::new(
        Codec::new(&device_key("door-1"), P).unwrap(),
        UtcOffset::UTC,
    )
    .unwrap();
    let seen = alone.observe_clock(at());
    alone.commit(seen).unwrap();
    let d = alone.check(revocation.as_bytes(), at()).decision;
    assert!(matches!(d, Decision::Refuse(_)), "{d:?}");
    let second = l.get(&out.records[1].access_code_id, now()).unwrap();
    assert!(
        warning_codes(&second)
            .iter()
            .all(|w| !w.contains("deleted"))
    );
}

/// Member A holds a live code on variance 0 of the window: the group code
/// takes variance 1, on every member.
fn variance_collision<L: Ledger>(l: &mut L) {
    let members = ["door-1", "door-2"];
    setup(l, &members);
    let m = master();
    let CodeWant::TimeBound { starts_at, ends_at } = want() else {
        unreachable!()
    };
    let own = l
        .issue(
            &m,
            &CodeSpec::time_bound("door-1", starts_at, ends_at),
            now(),
        )
        .unwrap();
    let out = l.issue_shared(&m, &shared(&members), now()).unwrap();
    for d in members {
        let stored = l.find(&ListFilter::device(d)).unwrap();
        let group_code = stored.iter().find(|c| c.group.is_some()).unwrap();
        assert_eq!(group_code.number, 1, "{d}: variance 1");
    }
    let pin = &out.records[0].code;
    for d in members {
        assert!(opens(&[device_key(d), group_key("building-a", 0)], pin));
    }
    // The own code still opens door-1 (device key), not door-2.
    assert!(opens(
        &[device_key("door-1"), group_key("building-a", 0)],
        &own.record.code
    ));
}

/// No variance free on every member: `throw` stores nothing and names the
/// member; `create_random_code` gives each device its own code.
fn no_free_variance<L: Ledger>(l: &mut L) {
    let members = ["door-1", "door-2"];
    setup(l, &members);
    let m = master();
    let CodeWant::TimeBound { starts_at, ends_at } = want() else {
        unreachable!()
    };
    let v = u32::from(P.params().variances);
    for _ in 0..v {
        l.issue(
            &m,
            &CodeSpec::time_bound("door-2", starts_at, ends_at),
            now(),
        )
        .unwrap();
    }
    let before = code_count(l, &members);
    let e = l.issue_shared(&m, &shared(&members), now()).unwrap_err();
    let LedgerError::NoSharedVariance { taken, .. } = &e else {
        panic!("{e}")
    };
    assert_eq!(taken.len(), 2);
    assert!(e.to_string().contains("'door-2' has taken"), "{e}");
    assert!(e.to_string().contains("(none free)"), "{e}");
    assert_eq!(e.blame(), Blame::Capacity);
    assert_eq!(code_count(l, &members), before, "throw stores nothing");

    let mut spec = shared(&members);
    spec.when_not_shared = WhenNotShared::CreateRandomCode;
    // door-2 has no variance left at all: even its own code is refused,
    // and nothing is stored.
    let e = l.issue_shared(&m, &spec, now()).unwrap_err();
    assert!(
        matches!(e.innermost(), LedgerError::NoVarianceAvailable { device_id, .. } if device_id == "door-2"),
        "{e}"
    );
    assert_eq!(code_count(l, &members), before);

    // Each member has a free variance, none is free on both: d-x takes
    // 0..V-1 of its own, shares V-1 with d-y, leaves; d-z takes 0..V-1
    // and joins d-y.
    let own = |l: &mut L, d: &str, n: u32| {
        for _ in 0..n {
            l.issue(&m, &CodeSpec::time_bound(d, starts_at, ends_at), now())
                .unwrap();
        }
    };
    l.create_group(&m, "building-c", "standard-10").unwrap();
    for d in ["d-x", "d-y", "d-z"] {
        l.add_device(&m, &Device::new(d, "standard-10")).unwrap();
    }
    own(l, "d-x", v - 1);
    l.add_to_group(&m, "building-c", "d-x").unwrap();
    l.add_to_group(&m, "building-c", "d-y").unwrap();
    l.issue_shared(&m, &shared(&["d-x", "d-y"]), now()).unwrap();
    l.remove_from_group(&m, "building-c", "d-x", now()).unwrap();
    own(l, "d-z", v - 1);
    l.add_to_group(&m, "building-c", "d-z").unwrap();
    let pair = ["d-y", "d-z"];
    let before = code_count(l, &pair);
    let e = l.issue_shared(&m, &shared(&pair), now()).unwrap_err();
    assert!(matches!(e, LedgerError::NoSharedVariance { .. }), "{e}");
    assert!(!e.to_string().contains("(none free)"), "{e}");
    assert_eq!(code_count(l, &pair), before);
    let mut spec = shared(&pair);
    spec.when_not_shared = WhenNotShared::CreateRandomCode;
    let out = l.issue_shared(&m, &spec, now()).unwrap();
    assert_eq!(code_count(l, &pair), before + 2);
    assert!(out.common_code_key.is_none());
    assert!(out.not_shared.unwrap().contains("no variance"));
    assert_ne!(out.records[0].code, out.records[1].code);
    for (r, d) in out.records.iter().zip(pair) {
        assert!(warning_codes(r).contains(&NOT_SHARED));
        assert!(opens(&[device_key(d), group_key("building-c", 1)], &r.code));
        let other = if d == "d-y" { "d-z" } else { "d-y" };
        assert!(!opens(
            &[device_key(other), group_key("building-c", 1)],
            &r.code
        ));
    }
}

/// `create_random_code` when the devices are in no common group: codes of
/// their own, each opening its own lock only, with the warning.
fn random_codes<L: Ledger>(l: &mut L) {
    setup(l, &["door-1", "door-2"]);
    let m = master();
    let ids = ["door-1", "loner"];
    let e = l.issue_shared(&m, &shared(&ids), now()).unwrap_err();
    assert!(
        matches!(&e, LedgerError::CannotShare(ShareRefusal::NotInAGroup { device_id }) if device_id == "loner"),
        "{e}"
    );
    assert_eq!(
        e.blame(),
        Blame::Request {
            field: Some("device_ids")
        }
    );
    assert_eq!(code_count(l, &ids), 0);
    let mut spec = shared(&ids);
    spec.when_not_shared = WhenNotShared::CreateRandomCode;
    let out = l.issue_shared(&m, &spec, now()).unwrap();
    assert!(out.common_code_key.is_none() && out.group.is_none());
    assert!(out.not_shared.unwrap().contains("no group"));
    assert_ne!(out.records[0].code, out.records[1].code);
    for (r, d) in out.records.iter().zip(ids) {
        assert_eq!(r.device_id, d);
        assert!(r.common_code_key.is_none());
        assert!(warning_codes(r).contains(&NOT_SHARED));
        assert!(opens(&[device_key(d)], &r.code), "{d}");
    }
    // A subset of a group: refused (the PIN would open the others too).
    let e = l.issue_shared(&m, &shared(&["door-1"]), now()).unwrap_err();
    assert!(
        matches!(&e, LedgerError::CannotShare(ShareRefusal::NotEveryMember { missing, .. }) if missing == &["door-2".to_owned()]),
        "{e}"
    );
    // Two groups.
    let e = l
        .issue_shared(&m, &shared(&["door-1", "door-2", "outsider"]), now())
        .unwrap_err();
    assert!(
        matches!(
            &e,
            LedgerError::CannotShare(ShareRefusal::DifferentGroups { .. })
        ),
        "{e}"
    );
    // Duplicates and an empty list are refused whatever the behaviour.
    let mut dup = shared(&["door-1", "door-1"]);
    dup.when_not_shared = WhenNotShared::CreateRandomCode;
    assert!(matches!(
        l.issue_shared(&m, &dup, now()).unwrap_err(),
        LedgerError::CannotShare(ShareRefusal::DuplicateDevice { .. })
    ));
    assert!(matches!(
        l.issue_shared(&m, &shared(&[]), now()).unwrap_err(),
        LedgerError::CannotShare(ShareRefusal::NoDevices)
    ));
}

/// Membership rules.
fn membership<L: Ledger>(l: &mut L) {
    setup(l, &["door-1", "door-2"]);
    let m = master();
    let e = l.add_to_group(&m, "building-b", "door-1").unwrap_err();
    assert!(
        matches!(&e, LedgerError::DeviceInAnotherGroup { group_id, .. } if group_id == "building-a"),
        "{e}"
    );
    assert!(e.to_string().contains("at most one group"), "{e}");
    // Adding again is a no-op.
    let g = l.add_to_group(&m, "building-a", "door-1").unwrap();
    assert_eq!(g.members, ["door-1", "door-2"]);
    l.add_device(&m, &Device::new("small", "compact-8"))
        .unwrap();
    assert!(matches!(
        l.add_to_group(&m, "building-a", "small").unwrap_err(),
        LedgerError::GroupProfileMismatch { .. }
    ));
    assert!(matches!(
        l.add_to_group(&m, "nowhere", "loner").unwrap_err(),
        LedgerError::UnknownGroup { .. }
    ));
    assert!(matches!(
        l.create_group(&m, "building-a", "compact-8").unwrap_err(),
        LedgerError::GroupConflict { .. }
    ));
    assert!(matches!(
        l.create_group(&m, "", "standard-10").unwrap_err(),
        LedgerError::InvalidGroupId { len: 0 }
    ));
    assert!(matches!(
        l.create_group(&m, &"g".repeat(256), "standard-10")
            .unwrap_err(),
        LedgerError::InvalidGroupId { len: 256 }
    ));
    assert!(matches!(
        l.remove_from_group(&m, "building-a", "loner", now())
            .unwrap_err(),
        LedgerError::NotAMember { .. }
    ));
    // Another master key is refused.
    let other = MasterKey::from_bytes([1; 32]);
    assert!(matches!(
        l.create_group(&other, "x", "standard-10").unwrap_err(),
        LedgerError::MasterKeyMismatch { .. }
    ));
    assert!(matches!(
        l.group_key(&other, "building-a").unwrap_err(),
        LedgerError::MasterKeyMismatch { .. }
    ));
    assert_eq!(
        l.group_key(&m, "building-a").unwrap(),
        group_key("building-a", 0)
    );
    let listed: Vec<String> = l
        .group_entries()
        .unwrap()
        .into_iter()
        .map(|g| g.group_id)
        .collect();
    assert_eq!(listed, ["building-a", "building-b"]);
}

/// Removing members one by one: each removal re-keys the group; a group
/// code issued after it does not open the removed lock (which holds the
/// old group key), opens every remaining member given the new key; the
/// records say what each lock does.
fn removal_rekeys<L: Ledger>(l: &mut L) {
    let mut members = vec!["door-1", "door-2", "door-3"];
    setup(l, &members);
    let m = master();
    // What each lock holds: its own key and the group key it was given.
    let mut held: std::collections::BTreeMap<&str, u32> = members.iter().map(|d| (*d, 0)).collect();
    let mut before = l.issue_shared(&m, &shared(&members), now()).unwrap();
    let mut generation = 0;
    while members.len() > 1 {
        let removed = members.remove(0);
        let out = l
            .remove_from_group(&m, "building-a", removed, now())
            .unwrap();
        generation += 1;
        assert_eq!(out.after.generation, generation);
        assert_eq!(out.after.members, members);
        // Its group codes (one per issue it was in) may still open.
        assert_eq!(out.still_open.len(), generation as usize);
        // The remaining members are given the new group key.
        for d in &members {
            held.insert(d, generation);
        }
        let after = l.issue_shared(&m, &shared(&members), now()).unwrap();
        let new_pin = &after.records[0].code;
        let old_pin = &before.records[0].code;
        for (d, g) in &held {
            let lock = [device_key(d), group_key("building-a", *g)];
            let member = members.contains(d);
            assert_eq!(opens(&lock, new_pin), member, "{d}: new code");
            if *d == removed {
                assert!(opens(&lock, old_pin), "{d} still opens the old code");
            }
        }
        // The records say so.
        for r in l.list(&ListFilter::device(removed), now()).unwrap() {
            if r.common_code_key == before.common_code_key {
                assert!(warning_codes(&r).contains(&LEFT_GROUP), "{r:?}");
            }
        }
        for d in &members {
            for r in l.list(&ListFilter::device(d), now()).unwrap() {
                let codes = warning_codes(&r);
                if r.common_code_key == before.common_code_key {
                    assert!(codes.contains(&GROUP_REKEYED), "{d}: {r:?}");
                }
                if r.common_code_key == after.common_code_key {
                    assert!(!codes.contains(&GROUP_REKEYED), "{d}: {r:?}");
                }
            }
        }
        before = after;
    }
}

fn every_behaviour<L: Ledger>(mut open: impl FnMut() -> L) {
    same_code_on_every_member(&mut open());
    variance_collision(&mut open());
    no_free_variance(&mut open());
    random_codes(&mut open());
    membership(&mut open());
    removal_rekeys(&mut open());
    ongoing_revocation_reaches_every_member(&mut open());
}

#[test]
fn memory_ledger_groups() {
    every_behaviour(MemoryLedger::new);
}

#[cfg(feature = "sqlite")]
#[test]
fn sqlite_ledger_groups() {
    use offpin_ledger::ledger::sqlite::SqliteLedger;
    every_behaviour(|| SqliteLedger::open_in_memory().unwrap());
}

#[cfg(feature = "sqlite")]
#[test]
fn sqlite_ledger_keeps_groups_in_its_file() {
    use offpin_ledger::ledger::sqlite::SqliteLedger;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger.db");
    let out = {
        let mut l = SqliteLedger::open(&path).unwrap();
        setup(&mut l, &["door-1", "door-2"]);
        l.issue_shared(&master(), &shared(&["door-1", "door-2"]), now())
            .unwrap()
    };
    let mut l = SqliteLedger::open_read_only(&path).unwrap();
    let g = l.group("building-a").unwrap();
    assert_eq!(g.members, ["door-1", "door-2"]);
    for r in &out.records {
        assert_eq!(l.get(&r.access_code_id, now()).unwrap(), *r);
    }
}

/// A schema-2 ledger (before groups) is upgraded by a writable open: its
/// codes stay, groups work; a read-only open asks for the upgrade.
#[cfg(feature = "sqlite")]
#[test]
fn sqlite_schema_2_ledgers_are_upgraded_to_groups() {
    use offpin_ledger::ledger::sqlite::SqliteLedger;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger.db");
    let m = master();
    let old = {
        let mut l = SqliteLedger::open(&path).unwrap();
        l.add_device(&m, &Device::new("door-1", "standard-10"))
            .unwrap();
        l.issue(&m, &CodeSpec::ongoing("door-1"), now())
            .unwrap()
            .record
    };
    // What schema 2 was: no group tables, no group columns.
    let c = rusqlite::Connection::open(&path).unwrap();
    c.execute_batch(
        "DROP TABLE group_members; DROP TABLE groups; ALTER TABLE codes DROP COLUMN group_id; ALTER TABLE codes DROP COLUMN group_generation; PRAGMA user_version = 2;",
    )
    .unwrap();
    drop(c);
    assert!(matches!(
        SqliteLedger::open_read_only(&path),
        Err(LedgerError::NeedsUpgrade { from: 2, to: 4, .. })
    ));
    let mut l = SqliteLedger::open_existing(&path).unwrap();
    assert_eq!(l.get(&old.access_code_id, now()).unwrap(), old);
    l.add_device(&m, &Device::new("door-2", "standard-10"))
        .unwrap();
    l.create_group(&m, "building-a", "standard-10").unwrap();
    l.add_to_group(&m, "building-a", "door-1").unwrap();
    l.add_to_group(&m, "building-a", "door-2").unwrap();
    l.issue_shared(&m, &shared(&["door-1", "door-2"]), now())
        .unwrap();
    drop(l);
    SqliteLedger::open_read_only(&path).unwrap();
}

#[cfg(feature = "postgres")]
#[test]
fn postgres_ledger_groups() {
    use offpin_ledger::ledger::postgres::PostgresLedger;
    if super::postgres_backend::fresh_url().is_none() {
        return;
    }
    every_behaviour(|| {
        let url = super::postgres_backend::fresh_url().unwrap();
        PostgresLedger::connect(&url).unwrap()
    });
}

/// The derivation alone (`tests/vectors/group_keys.json`): a group's PIN
/// opens a lock holding its own key and the group key, and not a lock of
/// another group.
#[test]
fn a_group_pin_opens_every_member_and_no_other_lock() {
    let group = group_key("building-a", 0);
    let pin = Codec::new(&group, P)
        .unwrap()
        .issue(&offpin::Request::ongoing(7))
        .unwrap()
        .pin;
    for member in ["door-1", "door-2"] {
        assert!(
            opens(&[device_key(member), group.clone()], pin.as_str()),
            "{member}"
        );
    }
    let other = group_key("building-b", 0);
    assert!(!opens(&[device_key("outsider"), other], pin.as_str()));
}
