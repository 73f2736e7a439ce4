//! `check.json`: stateless verdicts (§6, §11.1) one second before, at and
//! one second after every comparison of a grant's verdict, and window
//! lengths one hour (or one DST hour) each side of the activation window.

use super::*;
use offpin::Span;
use offpin::grant::Recurrence;
use offpin::profile::shipped::{STANDARD_10, STANDARD_10_V2 as P2};

/// Monday 2027-06-07, profile day 1253 (week 179).
const JUNE_WEEK: u32 = 179;
/// Hour 30106 after the epoch: 2027-06-08T10:00Z.
const JUNE_HOUR: u32 = 30_106;
/// Sunday 2027-03-28 (23 h in Paris) and 2027-10-31 (25 h): profile days.
const SPRING_DAY: u32 = 1_182;
const AUTUMN_DAY: u32 = 1_399;

/// One stateless case: the PIN of `grant`, decoded and checked at `now`.
fn case(codec: &Codec, zone: TzRule, grant: &Grant, now: i64) -> Value {
    let p = codec.profile();
    let pin = codec.pin_for(grant).unwrap();
    let decoded = codec.decode(&pin).unwrap();
    assert_eq!(&decoded, grant);
    json!({
        "pin": pin.as_str(),
        "grant": grant_json(&decoded),
        "window": window_json(decoded.window(p, zone)),
        "now": now,
        "check": verdict_json(&p.check(&decoded, now, zone)),
    })
}

struct Out {
    key: offpin::DeviceKey,
    boundaries: Vec<Value>,
}

impl Out {
    /// A boundary in time: `grant` checked at `b − 1`, `b`, `b + 1`.
    fn at(&mut self, p: Profile, zone: TzRule, comparison: &str, grant: Grant, b: i64) {
        self.of(
            p,
            zone,
            "6",
            comparison,
            "now",
            b,
            [grant; 3],
            [b - 1, b, b + 1],
        );
    }

    /// A boundary of any variable: three grants, each checked at its `now`.
    #[allow(clippy::too_many_arguments, reason = "one vector's fields")]
    fn of(
        &mut self,
        p: Profile,
        zone: TzRule,
        section: &str,
        comparison: &str,
        variable: &str,
        boundary: i64,
        grants: [Grant; 3],
        nows: [i64; 3],
    ) {
        let codec = Codec::new(&self.key, p).unwrap();
        let cases: Vec<Value> = grants
            .iter()
            .zip(nows)
            .map(|(g, now)| case(&codec, zone, g, now))
            .collect();
        self.boundaries.push(json!({
            "section": section,
            "comparison": comparison,
            "profile": p.name(),
            "tz_rule": zone.to_string(),
            "utc_offset_minutes": zone.standard_offset().minutes(),
            "variable": variable,
            "boundary": boundary,
            "cases": cases,
        }));
    }
}

fn hourly(start: u32, length: u32) -> Grant {
    Grant::Hourly(Span {
        start,
        length,
        variance: 0,
        lineage: 0,
    })
}

fn daily(start: u32, length: u32) -> Grant {
    Grant::Daily(Span {
        start,
        length,
        variance: 0,
        lineage: 0,
    })
}

/// Weeks `JUNE_WEEK..+2` on the menu's days `days` and hours `hours`.
fn recurring(days: u8, hours: u8) -> Grant {
    Grant::Recurring(Recurrence {
        start_week: JUNE_WEEK,
        weeks: 2,
        days,
        hours,
        variance: 0,
    })
}

/// The window ends, activation deadlines and grace of the time-bound,
/// one-time and revoke-before kinds.
fn time_bound(out: &mut Out) {
    let g = P2.grace_secs();
    let a = P2.activation_secs();
    let hs = P2.hour_start(JUNE_HOUR);
    let short = hourly(JUNE_HOUR, 3);
    out.at(P2, PARIS, "hourly: now < s − g", short, hs - g);
    out.at(P2, PARIS, "hourly: now >= e + g", short, hs + 3 * HOUR + g);
    let long = hourly(JUNE_HOUR, 30);
    out.at(
        P2,
        PARIS,
        "hourly: now < s − g (longer than A)",
        long,
        hs - g,
    );
    out.at(
        P2,
        PARIS,
        "hourly: now < s + A + g (activation deadline)",
        long,
        hs + a + g,
    );
    out.at(
        P2,
        PARIS,
        "hourly: now >= e + g (longer than A)",
        long,
        hs + 30 * HOUR + g,
    );
    let lengths = [23, 24, 25].map(|h| hourly(JUNE_HOUR, h));
    out.of(
        P2,
        PARIS,
        "6",
        "hourly: e − s <= A (lengths 23, 24, 25 h, at s)",
        "window hours",
        24,
        lengths,
        [hs; 3],
    );
    // Daily windows in Paris: a normal day, the 23-hour and 25-hour days.
    let june_day = 1_254;
    let ds = |d: u32| PARIS.day_start(P2.epoch_day() + i64::from(d));
    let one = daily(june_day, 1);
    out.at(
        P2,
        PARIS,
        "daily: now < s − g (local midnight)",
        one,
        ds(june_day) - g,
    );
    out.at(
        P2,
        PARIS,
        "daily: now >= e + g (next local midnight)",
        one,
        ds(june_day + 1) + g,
    );
    let two = daily(june_day, 2);
    out.at(
        P2,
        PARIS,
        "daily: now < s + A + g (activation deadline)",
        two,
        ds(june_day) + a + g,
    );
    let spring = daily(SPRING_DAY, 1);
    out.at(
        P2,
        PARIS,
        "daily: now >= e + g (23-hour day)",
        spring,
        ds(SPRING_DAY + 1) + g,
    );
    let autumn = daily(AUTUMN_DAY, 1);
    out.at(
        P2,
        PARIS,
        "daily: now < s + A + g (25-hour day, longer than A)",
        autumn,
        ds(AUTUMN_DAY) + a + g,
    );
    out.at(
        P2,
        PARIS,
        "daily: now >= e + g (25-hour day)",
        autumn,
        ds(AUTUMN_DAY + 1) + g,
    );
    out.of(
        P2,
        PARIS,
        "6",
        "daily: e − s <= A (one local day of 23, 24, 25 h, at s)",
        "window seconds",
        a,
        [spring, one, autumn],
        [ds(SPRING_DAY), ds(june_day), ds(AUTUMN_DAY)],
    );
    // A fixed offset that is not whole hours, on a version-1 profile.
    let india = TzRule::fixed(UtcOffset::from_minutes(330).unwrap());
    let day = |d: u32| india.day_start(STANDARD_10.epoch_day() + i64::from(d));
    out.at(
        STANDARD_10,
        india,
        "daily (v1, +05:30): now < s − g",
        one,
        day(june_day) - g,
    );
    out.at(
        STANDARD_10,
        india,
        "daily (v1, +05:30): now >= e + g",
        one,
        day(june_day + 1) + g,
    );
    let one_time = Grant::OneTime {
        start_hour: JUNE_HOUR,
        variance: 0,
    };
    let u = P2.one_time_use_secs();
    out.at(P2, PARIS, "one-time: now < s − g", one_time, hs - g);
    out.at(
        P2,
        PARIS,
        "one-time: now >= s + 3600·U + g",
        one_time,
        hs + u + g,
    );
    let revoke = Grant::Revoke(RevokeTarget::StartedBefore { hour: JUNE_HOUR });
    out.at(P2, PARIS, "revoke before: t − g <= now", revoke, hs - g);
    out.at(
        P2,
        PARIS,
        "revoke before: now < t + A + g",
        revoke,
        hs + a + g,
    );
}

/// Recurring codes' weeks, weekdays and hours (§6), in Paris, with DST
/// days; clock codes' step and instant (§11.1).
fn recurring_and_clock(out: &mut Out) {
    let g = P2.grace_secs();
    let week_start = |w: u32| PARIS.day_start(P2.epoch_day() + 7 * i64::from(w));
    let ds = |d: i64| PARIS.day_start(P2.epoch_day() + d);
    let monday = i64::from(JUNE_WEEK) * 7;
    // Menu: masks Mon-Fri (0), Sat-Sun (1), every day (2); ranges 08-12
    // (0), 00-24 (5).
    let weekdays_8_12 = recurring(0, 0);
    let every_day_all = recurring(2, 5);
    out.at(
        P2,
        PARIS,
        "recurring: w < start_week (local midnight of the first week)",
        every_day_all,
        week_start(JUNE_WEEK),
    );
    out.at(
        P2,
        PARIS,
        "recurring: w >= start_week + weeks (local midnight after the last)",
        every_day_all,
        week_start(JUNE_WEEK + 2),
    );
    out.at(
        P2,
        PARIS,
        "recurring: 3600·from − g <= r (08:00 local)",
        weekdays_8_12,
        ds(monday + 1) + 8 * HOUR - g,
    );
    out.at(
        P2,
        PARIS,
        "recurring: r < 3600·to + g (12:00 local)",
        weekdays_8_12,
        ds(monday + 1) + 12 * HOUR + g,
    );
    let weekdays_all = recurring(0, 5);
    out.at(
        P2,
        PARIS,
        "recurring: weekday in mask (Friday to Saturday, 00-24: no grace across midnight)",
        weekdays_all,
        ds(monday + 5),
    );
    let weekends_all = recurring(1, 5);
    out.at(
        P2,
        PARIS,
        "recurring: weekday in mask (Friday to Saturday, weekends 00-24)",
        weekends_all,
        ds(monday + 5),
    );
    // The same hours on the DST days: local hours, not UTC ones.
    let spring_week = SPRING_DAY / 7;
    let spring = Grant::Recurring(Recurrence {
        start_week: spring_week,
        weeks: 1,
        days: 2,
        hours: 0,
        variance: 0,
    });
    let sd = ds(i64::from(SPRING_DAY));
    out.at(
        P2,
        PARIS,
        "recurring: 3600·from − g <= r on the 23-hour day (local 08:00 is 7 h after midnight)",
        spring,
        sd + 7 * HOUR - g,
    );
    let autumn = Grant::Recurring(Recurrence {
        start_week: AUTUMN_DAY / 7,
        weeks: 1,
        days: 2,
        hours: 0,
        variance: 0,
    });
    let ad = ds(i64::from(AUTUMN_DAY));
    out.at(
        P2,
        PARIS,
        "recurring: r < 3600·to + g on the 25-hour day (local 12:00 is 13 h after midnight)",
        autumn,
        ad + 13 * HOUR + g,
    );
    // Clock codes: no grace.
    let at = 2_000_000;
    let clock = Grant::ClockSet { at };
    let t = P2.clock_instant(at);
    let step = P2.params().clock_codes.max_step_secs();
    out.of(
        P2,
        PARIS,
        "11.1",
        "clock set: now < T − step",
        "now",
        t - step,
        [clock; 3],
        [t - step - 1, t - step, t - step + 1],
    );
    out.of(
        P2,
        PARIS,
        "11.1",
        "clock set: now >= T (its own instant)",
        "now",
        t,
        [clock; 3],
        [t - 1, t, t + 1],
    );
}

/// The file.
pub(super) fn vectors() -> Value {
    let mut out = Out {
        key: device_key(),
        boundaries: Vec::new(),
    };
    time_bound(&mut out);
    recurring_and_clock(&mut out);
    let mut file = header();
    file.insert("boundaries".into(), json!(out.boundaries));
    Value::Object(file)
}
