//! Issue 9, point 3: no configuration change the API allows reopens
//! anything. Each test saves a lock's state, changes the configuration
//! (grace, UTC offset; key order is in `tests/lock_persist.rs`), loads the
//! image and attacks the way the issue measured on main, where each of
//! these opened the door.

#![allow(
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::cast_possible_truncation,
    reason = "test code: a failed unwrap is a failed test"
)]

#[path = "common/boot.rs"]
mod boot;
use boot::started;
use offpin::lock::{Decision, Lock};
use offpin::profile::shipped::{SECURE_12, STANDARD_10};
use offpin::{
    Codec, DeviceKey, Grant, Pin, Profile, ProfileParams, Refusal, Request, TzRule, UtcOffset,
};

const HOUR: i64 = 3_600;
const DAY: i64 = 86_400;

fn with_grace(p: Profile, grace: u32) -> Profile {
    Profile::new(ProfileParams {
        grace_secs: grace,
        ..p.params()
    })
    .unwrap()
}

fn codec(p: Profile) -> Codec {
    Codec::new(&DeviceKey::from_bytes([0x5E; 16]), p).unwrap()
}

fn offset(minutes: i32) -> UtcOffset {
    UtcOffset::from_minutes(minutes).unwrap()
}

fn enter<const M: usize>(l: &mut Lock<M>, pin: &Pin, now: i64) -> Decision {
    let c = l.check(pin.as_bytes(), now);
    l.commit(c.change).unwrap();
    c.decision
}

/// The state of `l` loaded under profile `p` (same tweak) and `zone` (an
/// offset or a rule).
fn reload<const M: usize>(l: &Lock<M>, p: Profile, zone: impl Into<TzRule>) -> Lock<M> {
    let mut image = vec![0u8; Lock::<M>::STATE_LEN];
    l.save(&mut image).unwrap();
    started(Lock::<M>::load(codec(p), zone, &image).unwrap())
}

#[cfg(feature = "format-v2")]
use offpin::Span;

#[cfg(feature = "format-v2")]
const PARIS: TzRule = match TzRule::parse(b"CET-1CEST,M3.5.0,M10.5.0/3") {
    Ok(r) => r,
    Err(_) => panic!("rule"),
};
/// 2026-03-29T01:00:00Z: Paris moves from +01:00 to +02:00.
#[cfg(feature = "format-v2")]
const SPRING_2026: i64 = 1_774_746_000;
/// 2026-10-25T01:00:00Z: and back.
#[cfg(feature = "format-v2")]
const AUTUMN_2026: i64 = 1_792_890_000;

/// Raising the grace after a one-time code was used used to make it open
/// again: its memory entry stored the expiry computed with the old grace.
#[test]
fn lock_grace_raised_after_a_use_does_not_reopen_the_code() {
    let p = with_grace(STANDARD_10, 0);
    let t = p.epoch() + 30_000 * HOUR;
    let once = codec(p).issue(&Request::one_time(t)).unwrap().pin;
    let long = codec(p)
        .issue(&Request::time_bound(t, t + 30 * HOUR))
        .unwrap()
        .pin;
    let mut l = Lock::<8>::new(codec(p), UtcOffset::UTC).unwrap();
    assert!(enter(&mut l, &once, t + 60).opens());
    assert!(enter(&mut l, &long, t + 120).opens(), "activated");
    let end = t + 24 * HOUR;
    for grace in [0, 1, 600, 1_800, 3_599] {
        let q = with_grace(STANDARD_10, grace);
        assert_eq!(q.tweak(), p.tweak(), "grace is not part of the format");
        let l2 = reload(&l, q, UtcOffset::UTC);
        let g = i64::from(grace);
        // Every instant the new grace accepts the code at, it is refused
        // as used (before the window's end) or as expired.
        for at in [end - 1, end, end + g / 2, end + g - 1, end + g, end + HOUR] {
            let d = l2.check(once.as_bytes(), at).decision;
            assert!(
                matches!(d, Decision::Refuse(Refusal::AlreadyUsed | Refusal::Expired)),
                "grace {grace}: {d:?} at end + {}",
                at - end
            );
        }
        // The activated code stays activated to the end of its window
        // under the new grace.
        let long_end = t + 30 * HOUR;
        assert!(
            l2.check(long.as_bytes(), long_end + g - 1).decision.opens(),
            "grace {grace}"
        );
    }
}

/// A daily code that started within an hour before a revocation watermark
/// used to be un-revoked by moving the offset back an hour (a DST change);
/// one that was not revoked must not become revoked either.
#[test]
fn lock_offset_change_neither_unrevokes_nor_revokes_daily_codes() {
    let p = STANDARD_10;
    let summer = offset(120);
    let day = 20_000u32;
    let midnight = p.epoch() + i64::from(day) * DAY - 2 * HOUR; // local 00:00 at +02:00
    let daily = |d: u32| {
        codec(p)
            .issue(
                &Request::time_bound(
                    p.epoch() + i64::from(d) * DAY - 2 * HOUR,
                    p.epoch() + i64::from(d + 30) * DAY - 2 * HOUR,
                )
                .with_utc_offset(summer)
                .with_max_rounding_secs(DAY as u32),
            )
            .unwrap()
    };
    let revoked = daily(day);
    assert!(matches!(revoked.plan.grant, Grant::Daily(_)));
    let kept = daily(day + 1);
    // Revoke everything that started before local 01:00 of `day`.
    let revoke = codec(p)
        .issue(&Request::revoke_started_before(midnight + HOUR))
        .unwrap()
        .pin;
    let mut l = Lock::<8>::new(codec(p), summer).unwrap();
    assert!(matches!(
        enter(&mut l, &revoke, midnight + HOUR + 60),
        Decision::Revoked(_)
    ));
    let now = midnight + DAY + 3 * HOUR;
    assert_eq!(
        l.check(revoked.pin.as_bytes(), now).decision,
        Decision::Refuse(Refusal::Revoked)
    );
    for minutes in [60, 0, -300, -840, 840, 180] {
        let l2 = reload(&l, p, offset(minutes));
        assert_eq!(
            l2.check(revoked.pin.as_bytes(), now).decision,
            Decision::Refuse(Refusal::Revoked),
            "offset {minutes}: un-revoked"
        );
        // Day + 1 started after the watermark at +02:00: it opens under
        // any offset at which its window is open.
        let window = kept.plan.grant.window(&p, offset(minutes)).unwrap();
        assert!(
            l2.check(kept.pin.as_bytes(), window.start + 60)
                .decision
                .opens(),
            "offset {minutes}: revoked a code that was not"
        );
    }
}

/// Changing the offset after a daily code was activated used to cut the
/// last hour(s) off it: the memory entry ended with the old offset's
/// window.
#[test]
fn lock_offset_change_does_not_cut_an_activated_daily_code_short() {
    let p = STANDARD_10;
    for (from, to) in [(60, 0), (840, -840), (120, 60), (-300, -840)] {
        let day = 20_000u32;
        let start = p.epoch() + i64::from(day) * DAY - i64::from(from) * 60;
        let issued = codec(p)
            .issue(
                &Request::time_bound(start, start + 40 * DAY)
                    .with_utc_offset(offset(from))
                    .with_max_rounding_secs(DAY as u32),
            )
            .unwrap();
        assert!(matches!(issued.plan.grant, Grant::Daily(_)));
        let mut l = Lock::<8>::new(codec(p), offset(from)).unwrap();
        assert!(
            enter(&mut l, &issued.pin, start + HOUR).opens(),
            "activated"
        );
        let l2 = reload(&l, p, offset(to));
        let end = issued.plan.grant.window(&p, offset(to)).unwrap().end;
        let g = p.grace_secs();
        for at in [end - 2 * HOUR, end - 1, end + g - 1] {
            assert!(
                l2.check(issued.pin.as_bytes(), at).decision.opens(),
                "{from} -> {to}: refused at end {:+}",
                at - end
            );
        }
        assert_eq!(
            l2.check(issued.pin.as_bytes(), end + g).decision,
            Decision::Refuse(Refusal::Expired)
        );
    }
}

/// Lineage marks are fixed like the watermark: a newer room code that
/// superseded an older daily one keeps it superseded under another offset.
#[test]
fn lock_offset_change_keeps_superseded_codes_superseded() {
    let p = SECURE_12;
    let plus1 = offset(60);
    let day = 20_000u32;
    let midnight = p.epoch() + i64::from(day) * DAY - HOUR;
    let old_guest = codec(p)
        .issue(
            &Request::time_bound(midnight, midnight + 35 * DAY)
                .with_utc_offset(plus1)
                .with_lineage(1)
                .with_max_rounding_secs(DAY as u32),
        )
        .unwrap();
    assert!(matches!(old_guest.plan.grant, Grant::Daily(_)));
    // The next guest's hourly code starts an hour after the old one's day.
    let new_guest = codec(p)
        .issue(&Request::time_bound(midnight + HOUR, midnight + 5 * HOUR).with_lineage(1))
        .unwrap()
        .pin;
    let mut l = Lock::<8>::new(codec(p), plus1).unwrap();
    assert!(enter(&mut l, &new_guest, midnight + 2 * HOUR).opens());
    for minutes in [60, 0, -60, -840, 840] {
        let l2 = reload(&l, p, offset(minutes));
        assert_eq!(
            l2.check(old_guest.pin.as_bytes(), midnight + 3 * HOUR)
                .decision,
            Decision::Refuse(Refusal::Superseded),
            "offset {minutes}"
        );
    }
}

/// A daylight-saving change neither un-revokes nor shortens anything, on a
/// lock that keeps the Paris rule: daily windows across either change run
/// from local midnight to local midnight (23 or 25 hours a day), an
/// activated daily code stays open to its end, and a watermark set before
/// the change refuses after it exactly what it refused before. Also when the lock is reloaded under the rule after
/// running on the fixed offset of offpin 0.1 (a firmware update).
/// DST rules need the `format-v2` feature.
#[cfg(feature = "format-v2")]
#[test]
fn lock_dst_change_neither_unrevokes_nor_shortens() {
    assert_eq!(PARIS.offset_at(SPRING_2026 - 1).minutes(), 60);
    assert_eq!(PARIS.offset_at(SPRING_2026).minutes(), 120);
    assert_eq!(PARIS.offset_at(AUTUMN_2026).minutes(), 60);
    let p = SECURE_12;
    let c = codec(p);
    let day = |t: i64| PARIS.local_day(t);
    for change in [SPRING_2026, AUTUMN_2026] {
        // A 3-day window over the change and a 10-day one (activation).
        let first = day(change) - 1;
        let start = PARIS.day_start(first);
        let daily = |days: u32| {
            let grant = Grant::Daily(Span {
                start: u32::try_from(first - p.epoch_day()).unwrap(),
                length: days,
                variance: 0,
                lineage: 0,
            });
            c.pin_for(&grant).unwrap()
        };
        let (short, long) = (daily(3), daily(10));
        // What the issuer makes of a 40-day stay over the change: a daily
        // window from local midnight to local midnight.
        let stay = c
            .issue(&Request::time_bound(start, PARIS.day_start(first + 40)).with_zone(PARIS))
            .unwrap();
        assert!(matches!(stay.plan.grant, Grant::Daily(s) if s.length == 40));
        assert!(!stay.plan.was_rounded());
        let end = PARIS.day_start(first + 3);
        let hours = (end - start) / HOUR;
        assert!(hours == 71 || hours == 73, "{hours} h over the change");
        let g = p.grace_secs();
        let mut l = Lock::<8>::new(codec(p), PARIS).unwrap();
        l.commit(l.observe_clock(start - DAY)).unwrap();
        assert_eq!(
            l.check(short.as_bytes(), start - g - 1).decision,
            Decision::Refuse(Refusal::NotYetValid)
        );
        assert!(enter(&mut l, &short, start - g).opens());
        assert!(enter(&mut l, &long, start + HOUR).opens(), "activated");
        // Across the change: both open to their ends (plus grace).
        assert!(enter(&mut l, &short, end + g - 1).opens());
        assert_eq!(
            l.check(short.as_bytes(), end + g).decision,
            Decision::Refuse(Refusal::Expired)
        );
        let long_end = PARIS.day_start(first + 10);
        assert!(
            enter(&mut l, &long, long_end + g - 1).opens(),
            "not shortened"
        );

        // A watermark set the evening before the change, on a lock that
        // ran at +01:00 and is reloaded under the rule (and back).
        let before = PARIS.day_start(day(change)) - 2 * HOUR;
        let revoke = c
            .issue(&Request::revoke_started_before(before).with_max_rounding_secs(3_600))
            .unwrap()
            .pin;
        let next_day = c
            .issue(
                &Request::time_bound(
                    PARIS.day_start(day(change) + 1),
                    PARIS.day_start(day(change) + 2),
                )
                .with_zone(PARIS),
            )
            .unwrap();
        let mut fixed = Lock::<8>::new(codec(p), offset(60)).unwrap();
        assert!(matches!(
            enter(&mut fixed, &revoke, before),
            Decision::Revoked(_)
        ));
        for mut l2 in [
            reload(&fixed, p, PARIS),
            reload(&reload(&fixed, p, PARIS), p, offset(60)),
        ] {
            let zone = *l2.zone();
            // The short window started before the mark: revoked, in any season.
            for at in [before + HOUR, change + HOUR, end - HOUR] {
                assert_eq!(
                    l2.check(short.as_bytes(), at).decision,
                    Decision::Refuse(Refusal::Revoked),
                    "{zone} at {at}"
                );
            }
            // A window starting the day after: not revoked.
            let at = next_day.plan.window.unwrap().start + HOUR;
            if zone == PARIS {
                assert!(enter(&mut l2, &next_day.pin, at).opens(), "{zone}");
            } else {
                assert_ne!(
                    l2.check(next_day.pin.as_bytes(), at).decision,
                    Decision::Refuse(Refusal::Revoked)
                );
            }
        }
    }
}
