//! The lock-side state: memory of used and activated codes, supersede
//! lineages, revocations, the lock-out, clock faults, group keys, and the
//! two-phase check/commit; with a property test over arbitrary sequences of
//! entries and clock moves.

#![allow(
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::cast_possible_truncation,
    reason = "test code: a failed unwrap is a failed test"
)]

use offpin::lock::{ClockStatus, CommitError, Decision, EntryKind, Lock, LockError};
use offpin::profile::shipped::{COMPACT_8, KEYPAD9_11, SECURE_12, STANDARD_10};
use offpin::{
    Codec, DeviceKey, Grant, LockoutPolicy, Pin, Profile, ProfileParams, Refusal, Request,
    RevokeTarget, UnixSeconds, UtcOffset,
};
use proptest::prelude::*;

#[path = "common/figures.rs"]
mod figures;
#[cfg_attr(
    not(all(feature = "format-v2", feature = "service-codes")),
    allow(unused_imports, dead_code)
)]
use figures::{grouped, sci};

const HOUR: i64 = 3_600;
const DAY: i64 = 86_400;
/// The shipped profiles' clock grace.
const G: i64 = 600;

fn codec_with(p: Profile, key: u8) -> Codec {
    Codec::new(&DeviceKey::from_bytes([key; 16]), p).unwrap()
}

fn codec(p: Profile) -> Codec {
    codec_with(p, 7)
}

fn lock<const M: usize>(p: Profile) -> Lock<M> {
    Lock::new(codec(p), UtcOffset::UTC).unwrap()
}

fn pin(p: Profile, req: Request) -> Pin {
    codec(p).issue(&req).unwrap().pin
}

/// An hour-aligned instant well inside the shipped profiles' lifetime.
fn t0(p: Profile) -> UnixSeconds {
    p.epoch() + 10_000 * HOUR
}

/// Check, commit (persisting is tested elsewhere), return the decision.
fn enter<const M: usize, const K: usize>(
    lock: &mut Lock<M, K>,
    pin: &Pin,
    now: UnixSeconds,
) -> Decision {
    let c = lock.check(pin.as_bytes(), now);
    lock.commit(c.change).unwrap();
    c.decision
}

fn enter_raw<const M: usize>(lock: &mut Lock<M>, typed: &[u8], now: UnixSeconds) -> Decision {
    let c = lock.check(typed, now);
    lock.commit(c.change).unwrap();
    c.decision
}

fn refused(r: Refusal) -> Decision {
    Decision::Refuse(r)
}

#[test]
fn lock_one_time_code_opens_once_then_expires() {
    let p = STANDARD_10;
    let t = t0(p);
    let mut l = lock::<64>(p);
    let code = pin(p, Request::one_time(t));
    assert_eq!(
        enter(&mut l, &code, t + 60),
        Decision::Open(Grant::OneTime {
            start_hour: 10_000,
            variance: 0
        })
    );
    assert_eq!(enter(&mut l, &code, t + 120), refused(Refusal::AlreadyUsed));
    let entries: Vec<_> = l.remembered().collect();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].kind, EntryKind::Used);
    // Remembered until an hour after its use window: past any grace a
    // profile may have, so no later grace reopens it.
    assert_eq!(entries[0].until, t + 25 * HOUR);
    assert_eq!(
        enter(&mut l, &code, t + 24 * HOUR + G - 1),
        refused(Refusal::AlreadyUsed)
    );
    assert_eq!(
        enter(&mut l, &code, t + 24 * HOUR + G),
        refused(Refusal::Expired)
    );
    assert_eq!(l.free_memory(t + 25 * HOUR - 1), 63);
    assert_eq!(l.free_memory(t + 25 * HOUR), 64);
}

#[test]
fn lock_full_memory_refuses_and_never_evicts() {
    let p = STANDARD_10;
    let t = t0(p);
    let mut l = lock::<2>(p);
    let a = pin(p, Request::one_time(t));
    let b = pin(p, Request::one_time(t).with_variance(1));
    let later = pin(p, Request::one_time(t + HOUR));
    assert!(enter(&mut l, &a, t + 10).opens());
    assert!(enter(&mut l, &b, t + 20).opens());
    let failures = l.consecutive_failures();
    assert_eq!(
        enter(&mut l, &later, t + HOUR),
        refused(Refusal::MemoryFull)
    );
    assert_eq!(
        l.consecutive_failures(),
        failures,
        "MemoryFull is not a failure"
    );
    // Nothing was evicted: both used codes stay used.
    assert_eq!(enter(&mut l, &a, t + HOUR), refused(Refusal::AlreadyUsed));
    assert_eq!(enter(&mut l, &b, t + HOUR), refused(Refusal::AlreadyUsed));
    // Once a and b have expired their slots are reused.
    let expiry = t + 25 * HOUR;
    assert!(enter(&mut l, &later, expiry).opens());
    assert_eq!(enter(&mut l, &a, expiry + 1), refused(Refusal::Expired));
    assert_eq!(
        enter(&mut l, &later, expiry + 2),
        refused(Refusal::AlreadyUsed)
    );
}

#[test]
fn lock_activated_codes_are_remembered_until_their_end() {
    let p = STANDARD_10;
    let t = t0(p);
    let mut l = lock::<64>(p);
    let long = pin(p, Request::time_bound(t, t + 48 * HOUR));
    let never_used = pin(p, Request::time_bound(t, t + 48 * HOUR).with_variance(1));
    let short = pin(p, Request::time_bound(t, t + 3 * HOUR));
    assert!(enter(&mut l, &short, t + 60).opens());
    assert_eq!(l.remembered().count(), 0, "a short window needs no memory");

    assert!(enter(&mut l, &long, t + 2 * HOUR).opens());
    let e = l.remembered().next().unwrap();
    assert_eq!((e.kind, e.until), (EntryKind::Activated, t + 49 * HOUR));
    assert!(enter(&mut l, &long, t + 30 * HOUR).opens(), "remembered");
    assert_eq!(l.remembered().count(), 1, "one entry per code");
    assert_eq!(
        enter(&mut l, &never_used, t + 30 * HOUR),
        refused(Refusal::NotActivated)
    );
    assert_eq!(
        enter(&mut l, &long, t + 48 * HOUR + G),
        refused(Refusal::Expired)
    );
}

#[test]
fn lock_activated_and_one_time_codes_share_the_memory() {
    let p = STANDARD_10;
    let t = t0(p);
    let mut l = lock::<1>(p);
    let long = pin(p, Request::time_bound(t, t + 48 * HOUR));
    let once = pin(p, Request::one_time(t + HOUR));
    assert!(enter(&mut l, &long, t + 60).opens());
    assert_eq!(enter(&mut l, &once, t + HOUR), refused(Refusal::MemoryFull));
    assert!(
        enter(&mut l, &long, t + 2 * HOUR).opens(),
        "a remembered code needs no new entry"
    );
    // The activated entry lives until an hour past the window's end.
    let once_later = pin(p, Request::one_time(t + 48 * HOUR));
    assert_eq!(
        enter(&mut l, &once_later, t + 49 * HOUR - 1),
        refused(Refusal::MemoryFull)
    );
    assert!(enter(&mut l, &once_later, t + 49 * HOUR).opens());
}

#[test]
fn lock_a_newer_code_of_a_lineage_supersedes_older_ones() {
    let p = SECURE_12;
    let t = t0(p);
    let mut l = lock::<64>(p);
    let room = |start: i64, hours: i64, variance: u8, lineage: u8| {
        pin(
            p,
            Request::time_bound(start, start + hours * HOUR)
                .with_variance(variance)
                .with_lineage(lineage),
        )
    };
    let guest_a = room(t, 3, 0, 1);
    let guest_a2 = room(t + HOUR, 3, 0, 1);
    let guest_b = room(t + 2 * HOUR, 3, 0, 1);
    let guest_b_spare = room(t + 2 * HOUR, 4, 1, 1);
    let other_room = room(t, 3, 0, 2);
    let no_lineage = room(t, 3, 0, 0);

    assert!(enter(&mut l, &guest_a, t + 600).opens());
    assert_eq!(l.lineage_mark(1).map(|m| m.hour), Some(10_000));
    assert!(enter(&mut l, &guest_b, t + 2 * HOUR + 60).opens());
    assert_eq!(l.lineage_mark(1).map(|m| m.hour), Some(10_002));
    assert_eq!(
        enter(&mut l, &guest_a, t + 2 * HOUR + 120),
        refused(Refusal::Superseded)
    );
    assert_eq!(
        enter(&mut l, &guest_a2, t + 2 * HOUR + 180),
        refused(Refusal::Superseded),
        "an older code never used is superseded too"
    );
    assert!(
        enter(&mut l, &guest_b_spare, t + 2 * HOUR + 240).opens(),
        "same start: same booking"
    );
    assert!(enter(&mut l, &other_room, t + 2 * HOUR + 300).opens());
    assert!(enter(&mut l, &no_lineage, t + 2 * HOUR + 360).opens());
    assert_eq!(l.lineage_mark(2).map(|m| m.hour), Some(10_000));
    assert_eq!(l.lineage_mark(3), None);
}

#[test]
fn lock_slot_revocation_applies_once_and_is_idempotent() {
    let p = STANDARD_10;
    let t = t0(p);
    let mut l = lock::<64>(p);
    let slot3 = pin(p, Request::ongoing(3));
    let slot4 = pin(p, Request::ongoing(4));
    let revoke3 = pin(p, Request::revoke_slot(3));
    assert!(enter(&mut l, &slot3, t).opens());
    for i in 0..2 {
        let c = l.check(revoke3.as_bytes(), t + 10 + i);
        assert_eq!(c.decision, Decision::Revoked(RevokeTarget::Slot(3)));
        assert!(!c.decision.opens());
        l.commit(c.change).unwrap();
        assert!(l.is_slot_revoked(3));
        assert_eq!((0..100).filter(|s| l.is_slot_revoked(*s)).count(), 1);
    }
    assert_eq!(enter(&mut l, &slot3, t + 20), refused(Refusal::Revoked));
    assert!(enter(&mut l, &slot4, t + 30).opens());
}

#[test]
fn lock_watermark_revokes_everything_that_started_before() {
    let p = STANDARD_10;
    let t = t0(p);
    let mut l = lock::<64>(p);
    let long = pin(p, Request::time_bound(t, t + 72 * HOUR));
    let once = pin(p, Request::one_time(t + 10 * HOUR));
    let after = pin(p, Request::time_bound(t + 20 * HOUR, t + 23 * HOUR));
    let ongoing = pin(p, Request::ongoing(0));
    let revoke = pin(p, Request::revoke_started_before(t + 20 * HOUR));
    assert!(enter(&mut l, &long, t + 60).opens(), "activated");

    let at = t + 20 * HOUR + 300;
    let target = RevokeTarget::StartedBefore { hour: 10_020 };
    assert_eq!(enter(&mut l, &revoke, at), Decision::Revoked(target));
    assert_eq!(enter(&mut l, &revoke, at + 1), Decision::Revoked(target));
    assert_eq!(l.watermark().map(|m| m.hour), Some(10_020));
    assert_eq!(enter(&mut l, &long, at + 2), refused(Refusal::Revoked));
    assert_eq!(enter(&mut l, &once, at + 3), refused(Refusal::Revoked));
    assert!(enter(&mut l, &after, at + 4).opens());
    assert!(enter(&mut l, &ongoing, at + 5).opens());
    // The revocation code has its own entry window.
    assert_eq!(
        enter(&mut l, &revoke, t + 20 * HOUR + 24 * HOUR + G),
        refused(Refusal::Expired)
    );
}

#[test]
fn lock_lockout_backs_off_up_to_the_cap_and_resets_on_success() {
    // COMPACT_8's back-off (3 failures, 900 s, doubling up to one day),
    // with a budget too large to bind: the back-off alone.
    let p = Profile::new(ProfileParams {
        lockout: LockoutPolicy {
            budget: 1_000,
            ..COMPACT_8.lockout()
        },
        ..COMPACT_8.params()
    })
    .unwrap();
    let policy = p.lockout();
    let mut l = lock::<32>(p);
    let ongoing = pin(p, Request::ongoing(0));
    let wrong: [&[u8]; 3] = [b"", b"12ab5678", b"123"];
    let mut t = t0(p);
    for batch in 0..10u32 {
        for w in wrong {
            assert!(
                matches!(enter_raw(&mut l, w, t), Decision::Refuse(r) if r != Refusal::LockedOut)
            );
        }
        let until = l.locked_out_until(t).unwrap();
        assert_eq!(
            until - t,
            i64::from(policy.duration_after_batch(batch)),
            "batch {batch}"
        );
        // Locked: even a valid code is refused, without counting.
        let c = l.check(ongoing.as_bytes(), until - 1);
        assert_eq!(c.decision, refused(Refusal::LockedOut));
        assert!(c.change.is_empty());
        l.commit(c.change).unwrap();
        assert_eq!(l.consecutive_failures(), u64::from(batch + 1) * 3);
        t = until;
    }
    assert_eq!(
        policy.duration_after_batch(9),
        86_400,
        "the loop reached the cap"
    );
    assert!(enter(&mut l, &ongoing, t).opens());
    assert_eq!(l.consecutive_failures(), 0);
    for w in wrong {
        enter_raw(&mut l, w, t + 1);
    }
    assert_eq!(
        l.locked_out_until(t + 1),
        Some(t + 1 + 900),
        "reset to base"
    );
}

#[test]
fn lock_malformed_input_counts_as_a_failure() {
    let p = KEYPAD9_11;
    let mut l = lock::<64>(p);
    let t = t0(p);
    let zero = b"12345678901"; // a 0 on a nine-key keypad
    let cases: [&[u8]; 5] = [b"", b"1234", zero, b"1234567891a", &[0xff; 11]];
    for (i, typed) in cases.into_iter().enumerate() {
        if l.locked_out_until(t).is_some() {
            break;
        }
        assert_eq!(enter_raw(&mut l, typed, t), refused(Refusal::InvalidCode));
        assert_eq!(l.consecutive_failures(), (i + 1) as u64);
    }
    assert!(
        l.locked_out_until(t).is_some(),
        "5 failures lock the keypad"
    );
}

#[test]
fn lock_clock_rollback_does_not_resurrect_a_used_code() {
    let p = STANDARD_10;
    let t = t0(p);
    let mut l = lock::<64>(p);
    let once = pin(p, Request::one_time(t));
    let ongoing = pin(p, Request::ongoing(1));
    assert!(enter(&mut l, &once, t + 2 * HOUR).opens());

    // Behind by less than the grace: judged at the highest time seen.
    let c = l.check(once.as_bytes(), t + 2 * HOUR - G);
    assert_eq!(c.clock, ClockStatus::Ok);
    assert_eq!(c.decision, refused(Refusal::AlreadyUsed));

    // Behind by more: reported, time-dependent codes refused, the used
    // code's entry outlives the jump, ongoing codes still open.
    let back = t - 5 * DAY;
    let c = l.check(once.as_bytes(), back);
    assert_eq!(
        c.clock,
        ClockStatus::RolledBack {
            by_secs: 2 * HOUR + 5 * DAY
        }
    );
    assert_eq!(c.decision, refused(Refusal::ClockRolledBack));
    l.commit(c.change).unwrap();
    assert_eq!(l.free_memory(back), 63, "the entry is still live");
    assert_eq!(l.highest_seen(), t + 2 * HOUR, "time never runs backwards");
    assert!(enter(&mut l, &ongoing, back + 1).opens());

    // Clock set right again: still used.
    assert_eq!(
        enter(&mut l, &once, t + 3 * HOUR),
        refused(Refusal::AlreadyUsed)
    );
}

#[test]
fn lock_clock_rollback_never_reopens_a_closed_window() {
    let p = STANDARD_10;
    let t = t0(p);
    let mut l = lock::<64>(p);
    let short = pin(p, Request::time_bound(t, t + 3 * HOUR));
    let end = t + 3 * HOUR;
    assert_eq!(
        enter(&mut l, &short, end + G + 10),
        refused(Refusal::Expired)
    );
    // Back by less than the grace: inside the window by the clock, but the
    // lock has seen it closed.
    assert_eq!(enter(&mut l, &short, end + 20), refused(Refusal::Expired));
    // Back by more than the grace: refused, reported.
    let c = l.check(short.as_bytes(), t + HOUR);
    assert!(matches!(c.clock, ClockStatus::RolledBack { .. }));
    assert_eq!(c.decision, refused(Refusal::ClockRolledBack));
}

#[test]
fn lock_clock_rollback_does_not_reset_the_lockout() {
    let p = COMPACT_8;
    let t = t0(p);
    let mut l = lock::<32>(p);
    for _ in 0..3 {
        enter_raw(&mut l, b"1", t);
    }
    let until = t + 900;
    assert_eq!(l.locked_out_until(t), Some(until));
    let ongoing = pin(p, Request::ongoing(0));
    for back in [t - 60, t - HOUR, t - 400 * DAY] {
        assert_eq!(l.locked_out_until(back), Some(until));
        let c = l.check(ongoing.as_bytes(), back);
        assert_eq!(c.decision, refused(Refusal::LockedOut), "at {back}");
    }
    assert!(enter(&mut l, &ongoing, until).opens());
}

#[test]
fn lock_clock_ahead_or_behind_within_the_grace_still_opens() {
    let p = STANDARD_10;
    let t = t0(p);
    let mut l = lock::<64>(p);
    let code = pin(p, Request::time_bound(t, t + 3 * HOUR));
    // A lock clock 10 minutes fast sees the guest arrive early; a slow one
    // sees them leave late.
    assert!(enter(&mut l, &code, t - G).opens());
    assert!(enter(&mut l, &code, t + 3 * HOUR + G - 1).opens());
    assert_eq!(
        enter(&mut l, &code, t + 3 * HOUR + G),
        refused(Refusal::Expired)
    );
    let fresh = lock::<64>(p);
    assert_eq!(
        fresh.check(code.as_bytes(), t - G - 1).decision,
        refused(Refusal::NotYetValid)
    );
}

#[test]
fn lock_observe_clock_moves_the_rollback_reference() {
    let p = STANDARD_10;
    let t = t0(p);
    let mut l = lock::<64>(p);
    assert_eq!(l.highest_seen(), p.epoch());
    let c = l.observe_clock(t);
    assert!(!c.is_empty());
    l.commit(c).unwrap();
    assert_eq!(l.highest_seen(), t);
    assert!(l.observe_clock(t - 1).is_empty());
    let code = pin(p, Request::time_bound(t - DAY, t - DAY + HOUR));
    assert_eq!(
        l.check(code.as_bytes(), t - DAY + 60).decision,
        refused(Refusal::ClockRolledBack)
    );
}

#[cfg(feature = "group-keys")]
#[test]
fn lock_group_keys_each_open_their_own_codes() {
    let p = STANDARD_10;
    let t = t0(p);
    let device = codec_with(p, 1);
    let group = codec_with(p, 2);
    let mut l: Lock<32, 2> =
        Lock::new([codec_with(p, 1), codec_with(p, 2)], UtcOffset::UTC).unwrap();
    let req = Request::one_time(t);
    let by_device = device.issue(&req).unwrap().pin;
    let by_group = group.issue(&req).unwrap().pin;
    assert_ne!(by_device, by_group);
    let c = l.check(by_group.as_bytes(), t);
    assert!(c.decision.opens());
    assert_eq!(c.key, Some(1));
    l.commit(c.change).unwrap();
    let c = l.check(by_device.as_bytes(), t);
    assert_eq!(c.key, Some(0));
    assert!(
        c.decision.opens(),
        "same grant, other key: its own memory entry"
    );
    l.commit(c.change).unwrap();
    assert_eq!(enter(&mut l, &by_group, t), refused(Refusal::AlreadyUsed));
    assert_eq!(enter(&mut l, &by_device, t), refused(Refusal::AlreadyUsed));
    let stranger = codec_with(p, 3).issue(&Request::ongoing(0)).unwrap().pin;
    assert!(!enter(&mut l, &stranger, t).opens());
    assert_eq!(l.security().w_max, p.security_with_keys(2).w_max);
}

#[test]
fn lock_new_refuses_bad_configurations() {
    let p = STANDARD_10;
    assert_eq!(
        Lock::<65>::new(codec(p), UtcOffset::UTC).unwrap_err(),
        LockError::MemoryExceedsProfile {
            memory: 65,
            profile: 64
        }
    );
    #[cfg(feature = "group-keys")]
    {
        assert_eq!(
            Lock::<8, 2>::new([codec(p), codec(p)], UtcOffset::UTC).unwrap_err(),
            LockError::DuplicateKey {
                first: 0,
                second: 1
            }
        );
        assert_eq!(
            Lock::<8, 2>::new([codec(p), codec(COMPACT_8)], UtcOffset::UTC).unwrap_err(),
            LockError::ProfileMismatch { key: 1 }
        );
    }
    let many_slots = Profile::new(ProfileParams {
        ongoing_slots: 2_000,
        ..SECURE_12.params()
    })
    .unwrap();
    assert_eq!(
        Lock::<8>::new(codec(many_slots), UtcOffset::UTC).unwrap_err(),
        LockError::TooManySlots {
            slots: 2_000,
            max: 1_024
        }
    );
    let unrevocable = Profile::new(ProfileParams {
        revocation: false,
        ..many_slots.params()
    })
    .unwrap();
    assert!(Lock::<8>::new(codec(unrevocable), UtcOffset::UTC).is_ok());
    let many_lineages = Profile::new(ProfileParams {
        lineages: 17,
        ..SECURE_12.params()
    })
    .unwrap();
    assert_eq!(
        Lock::<8>::new(codec(many_lineages), UtcOffset::UTC).unwrap_err(),
        LockError::TooManyLineages {
            lineages: 17,
            max: 16
        }
    );
    for e in [
        LockError::DuplicateKey {
            first: 0,
            second: 1,
        },
        LockError::ProfileMismatch { key: 1 },
    ] {
        assert!(!e.to_string().is_empty());
    }
}

/// Without the crate feature `group-keys` a lock holds its device key
/// only: a second key (a group key) is refused, by `Lock::new` and by
/// every load, with an error that names the feature; one key, alone or
/// as an array of one, makes a lock.
#[cfg(not(feature = "group-keys"))]
#[test]
fn lock_without_group_keys_refuses_a_second_key() {
    let p = STANDARD_10;
    let not_built = LockError::GroupKeysNotBuilt { keys: 2 };
    let e = Lock::<8, 2>::new([codec_with(p, 1), codec_with(p, 2)], UtcOffset::UTC).unwrap_err();
    assert_eq!(e, not_built);
    assert!(e.to_string().contains("group-keys"), "{e}");
    // Refused before the keys are compared: the same key twice, or two
    // profiles, say the same.
    assert_eq!(
        Lock::<8, 2>::new([codec(p), codec(p)], UtcOffset::UTC).unwrap_err(),
        not_built
    );
    assert_eq!(
        Lock::<8, 2>::new([codec(p), codec(COMPACT_8)], UtcOffset::UTC).unwrap_err(),
        not_built
    );
    assert_eq!(
        Lock::<8, 3>::new(
            [codec_with(p, 1), codec_with(p, 2), codec_with(p, 3)],
            UtcOffset::UTC
        )
        .unwrap_err(),
        LockError::GroupKeysNotBuilt { keys: 3 }
    );
    // The device key alone: its image loads; with a second key it does
    // not, whatever the image.
    let mut one: Lock<8> = Lock::new([codec(p)], UtcOffset::UTC).unwrap();
    let t = t0(p);
    let code = pin(p, Request::one_time(t));
    assert!(enter(&mut one, &code, t).opens());
    let mut image = [0u8; Lock::<8>::STATE_LEN];
    one.save(&mut image).unwrap();
    let mut loaded = Lock::<8>::load(codec(p), UtcOffset::UTC, &image).unwrap();
    let start = loaded.start();
    loaded.commit(start).unwrap();
    assert_eq!(enter(&mut loaded, &code, t), refused(Refusal::AlreadyUsed));
    assert_eq!(
        Lock::<8, 2>::load([codec(p), codec_with(p, 2)], UtcOffset::UTC, &image).unwrap_err(),
        offpin::PersistError::Config(not_built)
    );
}

#[test]
fn lock_check_never_mutates_and_stale_changes_are_refused() {
    let p = STANDARD_10;
    let t = t0(p);
    let mut l = lock::<16>(p);
    let a = pin(p, Request::one_time(t));
    let b = pin(p, Request::one_time(t).with_variance(1));
    let mut before = [0u8; Lock::<16>::STATE_LEN];
    let mut after = [0u8; Lock::<16>::STATE_LEN];
    l.save(&mut before).unwrap();
    let ca = l.check(a.as_bytes(), t);
    let cb = l.check(b.as_bytes(), t);
    let _ = l.check(b"garbage", t);
    l.save(&mut after).unwrap();
    assert_eq!(before, after);
    assert_eq!(l.sequence(), 0);
    l.commit(ca.change).unwrap();
    assert_eq!(l.sequence(), 1);
    assert_eq!(
        l.commit(cb.change),
        Err(CommitError::Stale { change: 0, lock: 1 })
    );
    assert!(
        l.check(b.as_bytes(), t).decision.opens(),
        "checked again, b opens"
    );
}

#[test]
fn lock_size_of_state() {
    let size = std::mem::size_of::<Lock<64>>();
    println!(
        "size_of::<Lock<64>>() = {size}; STATE_LEN = {} / {} / {} for MEMORY = 32 / 64 / 128",
        Lock::<32>::STATE_LEN,
        Lock::<64>::STATE_LEN,
        Lock::<128>::STATE_LEN
    );
    assert!(size <= 3_072, "{size}");
    const { assert!(Lock::<32>::STATE_LEN <= 1_024) };
    assert_eq!(Lock::<32>::STATE_LEN, 823);
    assert_eq!(Lock::<64>::STATE_LEN, 1_271);
    assert_eq!(Lock::<128>::STATE_LEN, 2_167);
    assert_eq!(Lock::<32, 2>::STATE_LEN, 831);
}

// ---------------------------------------------------------------------
// Property test: arbitrary entries and clock moves.

/// The codes a random session draws from.
struct Pool {
    pins: Vec<Pin>,
    grants: Vec<Grant>,
}

fn pool(p: Profile, t: UnixSeconds) -> Pool {
    let requests = [
        Request::one_time(t),
        Request::one_time(t).with_variance(1),
        Request::one_time(t + 2 * HOUR),
        Request::one_time(t + 30 * HOUR),
        Request::time_bound(t, t + 3 * HOUR),
        Request::time_bound(t, t + 48 * HOUR),
        Request::time_bound(t + HOUR, t + 40 * HOUR).with_variance(2),
        Request::time_bound(t - 2 * DAY, t + 5 * DAY).with_max_rounding_secs(DAY as u32),
        Request::ongoing(0),
        Request::ongoing(1),
        Request::revoke_slot(1),
        Request::revoke_started_before(t + 6 * HOUR),
    ];
    let c = codec(p);
    let issued: Vec<_> = requests.iter().map(|r| c.issue(r).unwrap()).collect();
    Pool {
        pins: issued.iter().map(|i| i.pin.clone()).collect(),
        grants: issued.iter().map(|i| i.plan.grant).collect(),
    }
}

#[derive(Clone, Debug)]
enum Op {
    Enter(usize),
    Random(Vec<u8>),
    Forward(i64),
    Back(i64),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => (0usize..12).prop_map(Op::Enter),
        2 => proptest::collection::vec(b'0'..=b'9', 0..12).prop_map(Op::Random),
        3 => (0i64..6 * HOUR).prop_map(Op::Forward),
        1 => (0i64..3 * DAY).prop_map(Op::Forward),
        1 => (0i64..2 * HOUR).prop_map(Op::Back),
        1 => (0i64..3 * DAY).prop_map(Op::Back),
    ]
}

/// An independent model of the lock-out: the back-off and the budget.
struct LockoutModel {
    strikes: u32,
    batches: u32,
    until: i64,
    tokens: u64,
    since: i64,
}

impl LockoutModel {
    fn new(p: &Profile) -> Self {
        LockoutModel {
            strikes: 0,
            batches: 0,
            until: i64::MIN,
            tokens: u64::from(p.lockout().budget),
            since: p.epoch(),
        }
    }

    /// Brings the budget to time `t`.
    fn refill(&mut self, p: &Profile, t: i64) {
        let cap = u64::from(p.lockout().budget);
        let r = i64::from(p.lockout().refill_secs);
        if self.tokens >= cap {
            self.since = t;
            return;
        }
        let k = (t - self.since).max(0) / r;
        self.tokens += k as u64;
        if self.tokens >= cap {
            self.tokens = cap;
            self.since = t;
        } else {
            self.since += k * r;
        }
    }

    fn locked(&mut self, p: &Profile, t: i64) -> bool {
        self.refill(p, t);
        t < self.until || self.tokens == 0
    }

    fn fail(&mut self, p: &Profile, t: i64) {
        let policy = p.lockout();
        self.refill(p, t);
        self.tokens -= 1;
        self.strikes += 1;
        if self.strikes == u32::from(policy.failures) {
            self.strikes = 0;
            self.until = t + i64::from(policy.duration_after_batch(self.batches));
            self.batches += 1;
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn lock_random_sessions_keep_every_promise(ops in proptest::collection::vec(op(), 1..60)) {
        let p = STANDARD_10;
        let t = t0(p);
        let pool = pool(p, t);
        let mut l = lock::<4>(p);
        let mut now = t - HOUR;
        let mut monotone = p.epoch();
        let mut opened = vec![0u32; pool.pins.len()];
        let mut slot1_revoked = false;
        let mut watermark: Option<i64> = None;
        let mut model = LockoutModel::new(&p);
        for op in ops {
            let typed: Vec<u8> = match op {
                Op::Forward(d) => { now += d; continue; }
                Op::Back(d) => { now -= d; continue; }
                Op::Enter(i) => pool.pins[i].as_bytes().to_vec(),
                Op::Random(ref digits) => digits.clone(),
            };
            let c = l.check(&typed, now);
            if !c.change.is_empty() {
                monotone = monotone.max(now);
            }
            // Lock-out honoured, exactly as the policy says.
            let locked = model.locked(&p, monotone.max(now));
            prop_assert_eq!(c.decision == Decision::Refuse(Refusal::LockedOut), locked);
            match c.decision {
                Decision::Open(g) => {
                    model.strikes = 0;
                    model.batches = 0;
                    // FF1 is a permutation: a grant has one PIN per key.
                    if let Some(i) = pool.grants.iter().position(|x| *x == g) {
                        opened[i] += 1;
                    }
                    // A revoked code never opens.
                    if slot1_revoked {
                        prop_assert_ne!(g, Grant::Ongoing { slot: 1 });
                    }
                    if let (Some(w), Some(start)) = (watermark, g.starts_at(&p, UtcOffset::UTC)) {
                        prop_assert!(start >= w, "{g} started before the watermark");
                    }
                }
                Decision::Revoked(RevokeTarget::Slot(1)) => slot1_revoked = true,
                Decision::Revoked(RevokeTarget::StartedBefore { hour }) => {
                    let at = p.epoch() + i64::from(hour) * HOUR;
                    watermark = Some(watermark.map_or(at, |w| w.max(at)));
                }
                Decision::Revoked(_) => {}
                Decision::ClockSet { .. } | Decision::Service { .. } => {
                    prop_assert!(false, "a v1 profile has no clock or service codes")
                }
                Decision::Refuse(Refusal::LockedOut | Refusal::MemoryFull) => {}
                Decision::Refuse(_) => model.fail(&p, monotone),
            }
            l.commit(c.change).unwrap();
            prop_assert_eq!(l.highest_seen(), monotone.max(p.epoch()));
        }
        // One-time codes (pool positions 0..4) open at most once.
        for (i, n) in opened.iter().enumerate().take(4) {
            prop_assert!(*n <= 1, "one-time code {} opened {} times", i, n);
        }
    }
}

/// The figures docs/LOCK.md cites.
/// The sizes are those of the default features (a lock with service
/// codes and format v2).
#[cfg(all(feature = "format-v2", feature = "service-codes"))]
#[test]
fn lock_guide_figures_are_current() {
    let guide = include_str!("../docs/LOCK.md");
    let with = |p: Profile, f: &dyn Fn(&mut ProfileParams)| {
        let mut q = p.params();
        f(&mut q);
        Profile::new(q).unwrap()
    };
    let w = |p: Profile| p.security().w_max;
    let memory: Vec<u64> = [16u16, 32, 64, 128, 256, 1_024]
        .iter()
        .map(|m| w(with(STANDARD_10, &|q| q.lock_memory = *m)))
        .collect();
    assert_eq!(memory, [51_959, 51_975, 52_007, 52_071, 52_199, 52_967]);
    let grace: Vec<u64> = [0u32, 60, 300, 600, 1_800, 3_599]
        .iter()
        .map(|g| w(with(STANDARD_10, &|q| q.grace_secs = *g)))
        .collect();
    assert_eq!(grace, [48_890, 52_007, 52_007, 52_007, 52_007, 54_026]);
    let grace8: Vec<u64> = [0u32, 60, 300, 600, 1_800]
        .iter()
        .map(|g| w(with(COMPACT_8, &|q| q.grace_secs = *g)))
        .collect();
    assert_eq!(grace8, [2_057, 2_226, 2_226, 2_226, 2_226]);
    assert_eq!(STANDARD_10.security_with_keys(2).w_max, 104_014);
    // §4: the clock codes within a step ahead; the bound clock codes do
    // not raise; the budget an RTC jump refills to at most; the RTC
    // attacker's guesses and how far ahead their lock's clock ends.
    let v2 = offpin::profile::shipped::STANDARD_10_V2;
    assert_eq!(v2.security().max_by_kind.clock_set, 1_008);
    assert!(guide.contains("(the 1 008 codes within a step\nahead count as if they"));
    let per_day = offpin::security::attempts_in(&v2, DAY);
    assert!(guide.contains(&format!("({per_day} for `standard-10-v2`)")));
    assert_eq!(STANDARD_10.lockout().budget, 10);
    assert!(guide.contains("(`budget`, 10 for\n`standard-10`)"));
    assert_eq!(STANDARD_10.lockout().refill_secs, 3_600);
    assert!(guide.contains("costs a refill (an hour on `standard-10`)"));
    let rtc = offpin::security::rtc_attack(&STANDARD_10, DAY, 3);
    assert!(guide.contains(&format!(
        "entry every 3 s, **{} guesses a day**",
        grouped(rtc.guesses)
    )));
    let years = rtc.ahead_secs as f64 / (365 * DAY) as f64;
    assert!(guide.contains(&format!("at least **{years:.1} years ahead**")));

    // §5: the shipped profiles' bounds, row by row.
    for p in [STANDARD_10, COMPACT_8, SECURE_12, KEYPAD9_11] {
        let s = p.security();
        let row = guide
            .lines()
            .find(|l| l.starts_with(&format!("| `{}` | {} / ", p.name(), p.lockout().failures)))
            .unwrap_or_else(|| panic!("LOCK.md §5 has no row for {}", p.name()));
        for cell in [
            format!("| **{}** |", s.attempts_per_day),
            format!("| {} |", sci(s.per_day(), 2)),
            format!("| **{}** |", grouped(s.attempts_per_year)),
            format!("| {} |", sci(s.per_year(), 1)),
        ] {
            assert!(row.contains(&cell), "{}: {cell} not in {row}", p.name());
        }
    }
    // §5: the other policies for standard-10.
    let policy = |budget: u16, refill_secs: u32| {
        with(STANDARD_10, &|q| {
            q.lockout = offpin::LockoutPolicy {
                budget,
                refill_secs,
                ..STANDARD_10.lockout()
            }
        })
        .security()
    };
    for (budget, refill, label) in [
        (5u16, 3_600u32, "5, 1 h"),
        (10, 3_600, "**10, 1 h (shipped)**"),
        (20, 3_600, "20, 1 h"),
        (10, 7_200, "10, 2 h"),
        (10, 1_800, "10, 30 min"),
        (10, 900, "10, 15 min"),
    ] {
        let s = policy(budget, refill);
        let row = guide
            .lines()
            .find(|l| l.starts_with(&format!("| {label} |")))
            .unwrap_or_else(|| panic!("LOCK.md §5 has no row {label}"));
        let bold = |x: String| {
            if label.starts_with("**") {
                format!("**{x}**")
            } else {
                x
            }
        };
        for cell in [
            bold(s.attempts_per_day.to_string()),
            bold(grouped(s.attempts_per_year)),
            bold(sci(s.per_year(), 1)),
        ] {
            assert!(
                row.contains(&format!("| {cell} |")),
                "{label}: {cell} not in {row}"
            );
        }
    }
    // A budget that does not bind gives no back-off figure instead: an
    // opening resets the back-off, so the bound is the budget's alone.
    assert_eq!(
        policy(10_000, 1).attempts_per_day,
        10_000 + 86_400 + 1_200,
        "the budget's bound, the back-off's ignored"
    );
    // §1: sizes, of the image and (on x86-64, the table's column) of the
    // lock in RAM.
    for (len, ram, text) in [
        (Lock::<32>::STATE_LEN, size_of::<Lock<32>>(), "| 32 | 823 |"),
        (
            Lock::<64>::STATE_LEN,
            size_of::<Lock<64>>(),
            "| 64 | 1 271 |",
        ),
        (
            Lock::<128>::STATE_LEN,
            size_of::<Lock<128>>(),
            "| 128 | 2 167 |",
        ),
    ] {
        assert!(guide.contains(text), "{len}: {text}");
        assert!(text.contains(&grouped(len as u64)));
        #[cfg(target_arch = "x86_64")]
        {
            let row = format!("{text} {} |", grouped(ram as u64));
            assert!(guide.contains(&row), "LOCK.md §1 has no row {row}");
        }
        let _ = ram;
    }
    assert!(guide.contains(&format!(
        "{}-byte image",
        grouped(Lock::<64, 2>::STATE_LEN as u64)
    )));
    #[cfg(target_arch = "x86_64")]
    {
        let two = format!(
            "`Lock<64, 2>` is {} bytes",
            grouped(size_of::<Lock<64, 2>>() as u64)
        );
        assert!(guide.contains(&two), "LOCK.md §1: {two}");
    }
}
