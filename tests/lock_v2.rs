//! The format-v2 kinds on the lock: weekly recurring codes in local time
//! (with a DST rule), clock-setting codes (forward only, bounded, once,
//! and what a stolen one buys an attacker), and the issuer's answers.

// Profiles and rules of format v2 (the default features).
#![cfg(all(feature = "format-v2", feature = "service-codes"))]
#![allow(
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::cast_possible_truncation,
    reason = "test code: a failed unwrap is a failed test"
)]

use offpin::lock::{ClockStatus, Decision, Lock};
use offpin::profile::shipped::{STANDARD_10, STANDARD_10_V2 as P};
use offpin::recurring::{Hours, RecurringMenu, Weekdays};
use offpin::{
    Codec, DeviceKey, FormatVersion, Grant, IssueError, Pin, Profile, ProfileError, ProfileParams,
    Refusal, Request, Tag, TzRule, UtcOffset,
};

const HOUR: i64 = 3_600;
const DAY: i64 = 86_400;
const MIN: i64 = 60;

const PARIS: TzRule = match TzRule::parse(b"CET-1CEST,M3.5.0,M10.5.0/3") {
    Ok(r) => r,
    Err(_) => panic!("rule"),
};

fn key() -> DeviceKey {
    DeviceKey::from_bytes([0x7A; 16])
}

fn codec() -> Codec {
    Codec::new(&key(), P).unwrap()
}

fn lock(zone: TzRule, at: i64) -> Lock<16> {
    let mut l = Lock::<16>::new(codec(), zone).unwrap();
    l.commit(l.observe_clock(at)).unwrap();
    l
}

fn enter(l: &mut Lock<16>, pin: &Pin, now: i64) -> Decision {
    let c = l.check(pin.as_bytes(), now);
    l.commit(c.change).unwrap();
    c.decision
}

/// Local midnight (Paris) of the local day that contains `t`.
fn midnight(t: i64) -> i64 {
    PARIS.day_start(PARIS.local_day(t))
}

/// The cleaner of the issue: weekdays 08:00-12:00 local time for a
/// quarter, across the spring DST change. Inside its hours in winter and
/// in summer (local hours, so 07:00Z then 06:00Z), outside them, on a
/// weekend, before its first week and after its last.
#[test]
fn recurring_codes_open_in_their_local_hours_in_every_season() {
    // 2026-03-02 is a Monday (week 113 of the 2024 epoch); 13 weeks run to
    // 2026-06-01, across 2026-03-29.
    let monday = 1_772_406_000; // 2026-03-02T00:00+01:00
    assert_eq!(PARIS.local_day(monday) - P.epoch_day(), 791);
    assert_eq!((PARIS.local_day(monday) - P.epoch_day()) % 7, 0);
    let issued = codec()
        .issue(
            &Request::recurring(monday, 13, Weekdays::WEEKDAYS, Hours::new(8, 12)).with_zone(PARIS),
        )
        .unwrap();
    let Grant::Recurring(r) = issued.plan.grant else {
        panic!("{:?}", issued.plan.grant)
    };
    assert_eq!((r.start_week, r.weeks), (113, 13));
    assert!(!issued.plan.was_rounded());
    let mut l = lock(PARIS, monday - DAY);
    let g = P.grace_secs();
    let pin = &issued.pin;
    // Winter: Monday 2 March, 08:00-12:00 +01:00.
    let eight = monday + 8 * HOUR;
    assert_eq!(
        l.check(pin.as_bytes(), eight - g - 1).decision,
        Decision::Refuse(Refusal::OutsideSchedule)
    );
    assert!(enter(&mut l, pin, eight - g).opens());
    assert!(enter(&mut l, pin, eight + 3 * HOUR + 59 * MIN).opens());
    assert!(enter(&mut l, pin, eight + 4 * HOUR + g - 1).opens());
    assert_eq!(
        l.check(pin.as_bytes(), eight + 4 * HOUR + g).decision,
        Decision::Refuse(Refusal::OutsideSchedule)
    );
    // Saturday 7 March at 10:00: not a weekday.
    assert_eq!(
        l.check(pin.as_bytes(), monday + 5 * DAY + 10 * HOUR)
            .decision,
        Decision::Refuse(Refusal::OutsideSchedule)
    );
    // Summer: Monday 30 March, the day after the change; 08:00 local is
    // 06:00Z, and 07:30Z (09:30 local) is inside, 10:30Z (12:30) is not.
    let summer = midnight(monday + 28 * DAY + 12 * HOUR);
    assert_eq!(summer, monday + 28 * DAY - HOUR);
    assert!(enter(&mut l, pin, summer + 8 * HOUR).opens());
    assert_eq!(PARIS.offset_at(summer + 8 * HOUR).minutes(), 120);
    assert!(enter(&mut l, pin, summer + 9 * HOUR + 30 * MIN).opens());
    assert_eq!(
        l.check(pin.as_bytes(), summer + 12 * HOUR + 30 * MIN)
            .decision,
        Decision::Refuse(Refusal::OutsideSchedule)
    );
    // A lock that kept the fixed +01:00 would be an hour off in summer:
    // 08:00 local (06:00Z) is 07:00 at +01:00, outside.
    let mut fixed = lock(
        TzRule::fixed(UtcOffset::from_minutes(60).unwrap()),
        monday - DAY,
    );
    assert_eq!(
        fixed.check(pin.as_bytes(), summer + 8 * HOUR).decision,
        Decision::Refuse(Refusal::OutsideSchedule)
    );
    assert!(enter(&mut fixed, pin, summer + 9 * HOUR).opens());
    // Before the first week and after the last.
    let fresh = lock(PARIS, monday - 7 * DAY);
    assert_eq!(
        fresh
            .check(pin.as_bytes(), monday - 7 * DAY + 9 * HOUR)
            .decision,
        Decision::Refuse(Refusal::NotYetValid)
    );
    let after = midnight(monday + 13 * 7 * DAY + 12 * HOUR) + 9 * HOUR;
    assert_eq!(
        l.check(pin.as_bytes(), after).decision,
        Decision::Refuse(Refusal::Expired)
    );
    assert!(
        enter(&mut l, pin, after - 3 * DAY).opens(),
        "the last Friday"
    );
}

/// A recurring code needs no activation and takes no memory; the
/// revoke-before watermark revokes it when its first week started before.
#[test]
fn recurring_codes_take_no_memory_and_can_be_revoked() {
    let monday = 1_772_406_000;
    let c = codec();
    let pin = c
        .issue(
            &Request::recurring(monday, 4, Weekdays::EVERY_DAY, Hours::new(0, 24)).with_zone(PARIS),
        )
        .unwrap()
        .pin;
    let mut l = lock(PARIS, monday);
    for d in 0..20 {
        assert!(enter(&mut l, &pin, monday + d * DAY + 13 * HOUR).opens());
    }
    assert_eq!(l.free_memory(monday + 20 * DAY), 16);
    let revoke = c
        .issue(&Request::revoke_started_before(
            monday + 21 * DAY + 12 * HOUR,
        ))
        .unwrap()
        .pin;
    assert!(matches!(
        enter(&mut l, &revoke, monday + 21 * DAY + 12 * HOUR),
        Decision::Revoked(_)
    ));
    assert_eq!(
        l.check(pin.as_bytes(), monday + 22 * DAY).decision,
        Decision::Refuse(Refusal::Revoked)
    );
}

/// The issuer refuses what the menu cannot say and names the nearest
/// schedule; a first week that is not a week start needs rounding; a v1
/// profile cannot have a menu at all.
#[test]
fn the_issuer_names_the_nearest_schedule() {
    let monday = 1_772_406_000;
    let ask = |days, hours| P.plan(&Request::recurring(monday, 13, days, hours).with_zone(PARIS));
    assert_eq!(
        ask(Weekdays(0b000_1111), Hours::new(9, 13)),
        Err(IssueError::NotInMenu {
            days: Weekdays(0b000_1111),
            hours: Hours::new(9, 13),
            nearest_days: Weekdays::WEEKDAYS,
            nearest_hours: Hours::new(8, 12),
        })
    );
    let text = ask(Weekdays::day(2), Hours::new(10, 14))
        .unwrap_err()
        .to_string();
    assert!(text.contains("nearest schedule it can is"), "{text}");
    assert!(ask(Weekdays::MON_WED_FRI, Hours::new(9, 17)).is_ok());
    // Wednesday 4 March: two days after the week's start.
    let wednesday = Request::recurring(monday + 2 * DAY, 4, Weekdays::TUE_THU, Hours::new(9, 17))
        .with_zone(PARIS);
    assert_eq!(
        P.plan(&wednesday),
        Err(IssueError::RoundingTooLarge {
            needed_secs: 2 * DAY,
            allowed_secs: 0
        })
    );
    let plan = P
        .plan(&wednesday.with_max_rounding_secs(7 * DAY as u32))
        .unwrap();
    assert_eq!(plan.window.unwrap().start, monday);
    assert!(matches!(
        P.plan(&Request::recurring(
            monday,
            14,
            Weekdays::WEEKDAYS,
            Hours::new(8, 12)
        )),
        Err(IssueError::TooLong { .. })
    ));
    let v1_with_menu = ProfileParams {
        recurring: P.params().recurring,
        ..STANDARD_10.params()
    };
    assert_eq!(
        Profile::new(v1_with_menu),
        Err(ProfileError::NeedsFormatV2 {
            tag: Tag::Recurring
        })
    );
    let bad_menu = ProfileParams {
        recurring: RecurringMenu {
            max_weeks: 0,
            ..P.params().recurring
        },
        ..P.params()
    };
    assert_eq!(
        Profile::new(bad_menu),
        Err(ProfileError::InvalidRecurringMenu)
    );
    assert_eq!(P.format(), FormatVersion::V2);
}

/// A lock whose clock stopped for two days during a power loss: the
/// technician types the clock code of the present; the clock moves to it
/// (the firmware sets its RTC), the code cannot be used twice, and codes
/// that would move the clock back or more than 7 days ahead are refused.
#[test]
fn clock_codes_move_the_clock_forward_once_within_the_step() {
    let real = P.epoch() + 800 * DAY + 10 * HOUR + 3 * MIN;
    let stopped = real - 2 * DAY;
    let c = codec();
    let now_code = c
        .issue(&Request::clock_set(real).with_max_rounding_secs(600))
        .unwrap();
    assert_eq!(now_code.plan.effective_at, Some(real - 3 * MIN));
    let mut l = lock(TzRule::UTC, stopped);
    // A stay that started yesterday (real time) is "not yet valid" on the
    // lagging clock.
    let stay = c
        .issue(&Request::time_bound(real - DAY, real + 3 * DAY).with_max_rounding_secs(3_600))
        .unwrap()
        .pin;
    assert_eq!(
        l.check(stay.as_bytes(), stopped + MIN).decision,
        Decision::Refuse(Refusal::NotYetValid)
    );
    let to = real - 3 * MIN;
    assert_eq!(
        enter(&mut l, &now_code.pin, stopped + MIN),
        Decision::ClockSet { to }
    );
    assert_eq!(l.highest_seen(), to);
    // The firmware sets its RTC to `to`; the clock now reads real time.
    let d = enter(&mut l, &stay, to + MIN);
    assert!(d.opens(), "{d:?}");
    // Once: the same code now moves nothing (it is in the past).
    assert_eq!(
        l.check(now_code.pin.as_bytes(), to + 2 * MIN).decision,
        Decision::Refuse(Refusal::Expired)
    );
    // Back: a code of yesterday.
    let yesterday = c
        .issue(&Request::clock_set(real - DAY).with_max_rounding_secs(600))
        .unwrap()
        .pin;
    assert_eq!(
        l.check(yesterday.as_bytes(), to + 3 * MIN).decision,
        Decision::Refuse(Refusal::Expired)
    );
    // Too far: 8 days ahead (the step is 7 days).
    let far = c
        .issue(&Request::clock_set(to + 8 * DAY).with_max_rounding_secs(600))
        .unwrap()
        .pin;
    assert_eq!(
        l.check(far.as_bytes(), to + 4 * MIN).decision,
        Decision::Refuse(Refusal::NotYetValid)
    );
    // A firmware that forgets to set its RTC sees the lock's clock as
    // rolled back: time-dependent codes are refused until it does.
    let mut forgetful = lock(TzRule::UTC, stopped);
    assert!(matches!(
        enter(&mut forgetful, &now_code.pin, stopped + MIN),
        Decision::ClockSet { .. }
    ));
    let check = forgetful.check(stay.as_bytes(), stopped + 2 * MIN);
    assert!(matches!(check.clock, ClockStatus::RolledBack { .. }));
    assert_eq!(check.decision, Decision::Refuse(Refusal::ClockRolledBack));
}

/// A lock whose RTC was reset (rolled back far behind the time it has
/// seen): clock codes are still judged, at the lock's own time, so the
/// technician can set it right.
#[test]
fn a_clock_code_repairs_a_rolled_back_clock() {
    let seen = P.epoch() + 900 * DAY;
    let real = seen + 3 * DAY;
    let mut l = lock(TzRule::UTC, seen);
    let code = codec()
        .issue(&Request::clock_set(real).with_max_rounding_secs(600))
        .unwrap()
        .pin;
    let reset_rtc = P.epoch();
    let check = l.check(code.as_bytes(), reset_rtc);
    assert!(matches!(check.clock, ClockStatus::RolledBack { .. }));
    assert_eq!(check.decision, Decision::ClockSet { to: real });
    l.commit(check.change).unwrap();
    assert_eq!(l.check(b"0000000000", real + 1).clock, ClockStatus::Ok);
}

/// What a stolen clock code buys (docs/LOCK.md §4): the clock moves at
/// most one step forward and the code works once, but the jump banks no
/// guess (the budget's refill period moves with it: after 168 hours of
/// jump it holds what it held, and refills with the real time that passes
/// after it), and today's short codes expire at once, so the owner notices.
/// `tests/lock_adversary/clock_codes.rs` drives the attack with up to 20
/// codes.
#[test]
fn a_stolen_clock_code_banks_no_guess() {
    let now = P.epoch() + 1_000 * DAY;
    let mut l = lock(TzRule::UTC, now);
    let policy = P.lockout();
    let refill = i64::from(policy.refill_secs);
    // An attacker spends the whole budget.
    let mut t = now;
    while l.budget_left(t) > 0 {
        let c = l.check(b"1234567890", t);
        l.commit(c.change).unwrap();
        t += 1;
    }
    assert!(l.locked_out_until(t).is_some());
    // The stolen code is for an instant a week ahead (issued for a future
    // visit): it moves the clock 7 days, once.
    let ahead = codec()
        .issue(&Request::clock_set(t + 7 * DAY - HOUR).with_max_rounding_secs(600))
        .unwrap()
        .pin;
    let check = l.check(ahead.as_bytes(), t);
    // While locked out, even a valid code is not evaluated.
    assert_eq!(check.decision, Decision::Refuse(Refusal::LockedOut));
    let t = l.locked_out_until(t).unwrap();
    assert_eq!(l.budget_left(t), 1, "one failure banked by time");
    let failures = l.consecutive_failures();
    let check = l.check(ahead.as_bytes(), t);
    let Decision::ClockSet { to } = check.decision else {
        panic!("{:?}", check.decision)
    };
    assert!(to - t > 6 * DAY);
    l.commit(check.change).unwrap();
    assert_eq!(l.highest_seen(), to);
    assert_eq!(l.budget_left(to), 1, "the jump banked nothing");
    assert_eq!(l.consecutive_failures(), failures, "nor reset the back-off");
    // The firmware sets its RTC to `to`; the next failure is banked a
    // refill period after the last one, in real time.
    assert_eq!(l.budget_left(to + refill - 1), 1);
    assert_eq!(l.budget_left(to + refill), 2);
    assert_eq!(l.locked_out_until(to), None);
    // It spent no failure either: the one banked is still there for a
    // guess; then the keypad is locked for a refill.
    let c = l.check(b"1234567890", to);
    assert!(
        matches!(c.decision, Decision::Refuse(r) if r != Refusal::LockedOut),
        "evaluated: {:?}",
        c.decision
    );
    l.commit(c.change).unwrap();
    assert_eq!(l.locked_out_until(to), Some(to + refill));
    assert_eq!(
        l.check(ahead.as_bytes(), to + refill).decision,
        Decision::Refuse(Refusal::Expired),
        "once"
    );
    // A week's stay that started before the jump is still valid at the new
    // time only if its window covers it; a short one of the present is
    // expired: the owner notices.
    let short = codec()
        .issue(&Request::time_bound(now, now + 3 * HOUR))
        .unwrap()
        .pin;
    assert_eq!(
        l.check(short.as_bytes(), to + refill).decision,
        Decision::Refuse(Refusal::Expired)
    );
}
