//! `W_max` is the true maximum of the acceptable set, over every instant
//! and every UTC offset a lock accepts, checked against brute force.
//!
//! The brute force knows nothing of `src/security.rs`: it enumerates every
//! grant of a small profile (`Profile::grant_at` over `0..M`) and asks
//! `Profile::check` whether it opens (or revokes) at an instant.
//!
//! Which instants: `check`'s verdict on a grant depends on `now` only
//! through the comparisons `now < s − g`, `now >= e + g` and
//! `now < s + A + g` (window `[s, e)`, revocations at `t`: `t − g`,
//! `t + A + g`). So the number of grants that open is a step function of
//! `now` that changes only at those instants, the *events*; between two
//! consecutive events it is constant, and its maximum over all of time is
//! its maximum over the events (and one instant before the first). The
//! sweep evaluates `check` for every grant at every event.
//!
//! Which offsets: the UTC offset moves daily windows only (by `−offset`),
//! so the count at `(now, offset)` is `G(now) + D(now + offset)`, where `G`
//! counts the other grants and `D` the daily ones at UTC; the test checks
//! this decomposition against `check` at the real offset at sampled
//! instants, then takes the maximum over all 1 681 offsets (whole minutes
//! within ±14 h) and every event of `G` and of `D` shifted by the offset.
//!
//! Format v2: recurring codes follow local time like daily windows (they
//! are in `D`); their verdict changes at local midnights and `±g` from
//! every local whole hour, which are their events. Clock-setting codes
//! count where `check` says `SetClock` (they move the lock's clock, which
//! `W` prices like an opening); their events are `T − step` and `T`.

// Profiles and rules of format v2 (the default features).
#![cfg(feature = "format-v2")]
#![allow(
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::cast_possible_truncation,
    reason = "test code: a failed unwrap is a failed test"
)]

use offpin::profile::MAX_EPOCH;
use offpin::profile::shipped::{EPOCH_2024, STANDARD_10};
use offpin::recurring::{Hours, RecurringMenu, Weekdays};
use offpin::security::Acceptable;
use offpin::{
    ClockCodes, FormatVersion, Grant, Keys, Profile, ProfileParams, Radix, RevokeTarget, UtcOffset,
    Verdict,
};
use proptest::prelude::*;

const HOUR: i64 = 3_600;
const DAY: i64 = 86_400;

/// Grants that open (by kind) and that revoke, at one instant.
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq)]
struct Count {
    hourly: u64,
    daily: u64,
    one_time: u64,
    ongoing: u64,
    recurring: u64,
    clock_set: u64,
    revoke: u64,
}

impl Count {
    fn opening(&self) -> u64 {
        self.hourly + self.daily + self.one_time + self.ongoing + self.recurring + self.clock_set
    }
    /// The grants that follow local time.
    fn local(&self) -> u64 {
        self.daily + self.recurring
    }
}

fn count_at(p: &Profile, grants: &[Grant], now: i64, offset: UtcOffset) -> Count {
    let mut c = Count::default();
    for g in grants {
        match p.check(g, now, offset) {
            Verdict::Open(_) => match g {
                Grant::Hourly(_) => c.hourly += 1,
                Grant::Daily(_) => c.daily += 1,
                Grant::OneTime { .. } => c.one_time += 1,
                Grant::Ongoing { .. } => c.ongoing += 1,
                Grant::Recurring(_) => c.recurring += 1,
                Grant::Revoke(_) | Grant::ClockSet { .. } => panic!("{g:?} opened"),
            },
            Verdict::Revoke(_) => c.revoke += 1,
            Verdict::SetClock { .. } => c.clock_set += 1,
            _ => {}
        }
    }
    c
}

/// The instants at which `check`'s verdict on one of `grants` can change
/// (at UTC), sorted, with one instant before the first.
fn events(p: &Profile, grants: &[Grant]) -> Vec<i64> {
    let g = p.grace_secs();
    let a = p.activation_secs();
    let mut out = Vec::new();
    for grant in grants {
        if let (Grant::Recurring(_), Some(w)) = (grant, grant.window(p, UtcOffset::UTC)) {
            // Local midnights and ±g from every whole hour, over its weeks.
            let mut h = w.start - HOUR;
            while h <= w.end + HOUR {
                out.extend([h - g, h, h + g]);
                h += HOUR;
            }
            continue;
        }
        if let Some(w) = grant.window(p, UtcOffset::UTC) {
            out.extend([w.start - g, w.end + g, w.start + a + g]);
        }
        if let Grant::ClockSet { at } = grant {
            let t = p.clock_instant(*at);
            out.extend([
                t - i64::from(p.params().clock_codes.max_step_hours) * HOUR,
                t,
            ]);
        }
        if let Grant::Revoke(RevokeTarget::StartedBefore { hour }) = grant {
            let t = p.epoch() + i64::from(*hour) * HOUR;
            out.extend([t - g, t + a + g]);
        }
    }
    let first = out.iter().min().copied().unwrap_or(p.epoch());
    out.push(first - 1);
    out.sort_unstable();
    out.dedup();
    out
}

/// A step function known at its change points.
struct Steps {
    at: Vec<i64>,
    count: Vec<Count>,
}

impl Steps {
    fn sweep(p: &Profile, grants: &[Grant]) -> Steps {
        let at = events(p, grants);
        let count = at
            .iter()
            .map(|&t| count_at(p, grants, t, UtcOffset::UTC))
            .collect();
        Steps { at, count }
    }

    /// The value at `t`: the one of the last change at or before `t` (the
    /// first entry is before every change).
    fn value(&self, t: i64) -> Count {
        let i = self.at.partition_point(|&e| e <= t);
        self.count[i.saturating_sub(1)]
    }

    fn max_by(&self, f: impl Fn(&Count) -> u64) -> u64 {
        self.count.iter().map(f).max().unwrap_or(0)
    }
}

/// The brute-force peak: (max opening over instants and offsets, per-kind
/// maxima, max revoking).
fn brute_force(p: &Profile) -> (u64, Acceptable, u64) {
    let all: Vec<Grant> = (0..p.grant_count())
        .map(|i| p.grant_at(i).unwrap())
        .collect();
    let (daily, other): (Vec<Grant>, Vec<Grant>) = all
        .iter()
        .partition(|g| matches!(g, Grant::Daily(_) | Grant::Recurring(_)));
    let g = Steps::sweep(p, &other);
    let d = Steps::sweep(p, &daily);

    // The decomposition G(t) + D(t + offset), against check at the real
    // offset, at instants around the events.
    for (i, &t) in g.at.iter().enumerate().step_by(17) {
        let minutes = (i as i32 * 97) % 1_681 - 840;
        let offset = UtcOffset::from_minutes(minutes).unwrap();
        let q = t + offset.seconds();
        let real = count_at(p, &all, t, offset);
        let (gv, dv) = (g.value(t), d.value(q));
        assert_eq!(real.opening(), gv.opening() + dv.local(), "at {t} {offset}");
        assert_eq!(real.revoke, gv.revoke);
        assert_eq!(p.acceptable_at(t, offset).total(), real.opening());
    }

    let mut best = 0;
    for minutes in -840..=840i64 {
        let off = minutes * 60;
        let candidates = g.at.iter().copied().chain(d.at.iter().map(|q| q - off));
        for t in candidates {
            best = best.max(g.value(t).opening() + d.value(t + off).local());
        }
    }
    let by_kind = Acceptable {
        hourly: g.max_by(|c| c.hourly),
        daily: d.max_by(|c| c.daily),
        one_time: g.max_by(|c| c.one_time),
        ongoing: g.max_by(|c| c.ongoing),
        recurring: d.max_by(|c| c.recurring),
        clock_set: g.max_by(|c| c.clock_set),
    };
    (best, by_kind, g.max_by(|c| c.revoke))
}

fn grace() -> impl Strategy<Value = u32> {
    prop_oneof![
        Just(0u32),
        Just(1),
        Just(59),
        Just(60),
        Just(1_799),
        Just(1_800),
        Just(3_599),
        0u32..3_600,
    ]
}

/// Recurring menus for the sweep (none, and three shapes).
const MENUS: [RecurringMenu; 4] = [
    RecurringMenu::NONE,
    RecurringMenu {
        days: &[Weekdays::EVERY_DAY],
        hours: &[Hours::new(0, 24)],
        max_weeks: 1,
    },
    RecurringMenu {
        days: &[Weekdays::WEEKDAYS, Weekdays::WEEKENDS, Weekdays::TUE_THU],
        hours: &[Hours::new(8, 12), Hours::new(10, 14), Hours::new(23, 24)],
        max_weeks: 2,
    },
    RecurringMenu {
        days: &[Weekdays::day(3), Weekdays::day(4)],
        hours: &[Hours::new(0, 1), Hours::new(5, 6)],
        max_weeks: 3,
    },
];

prop_compose! {
    fn small_profile()(
        epoch in prop_oneof![Just(0i64), Just(EPOCH_2024), Just(MAX_EPOCH)],
        lifetime_days in 1u32..=3,
        variances in 1u8..=2,
        lineages in 0u8..=1,
        hourly_max_hours in prop_oneof![Just(0u32), 1u32..=30],
        daily_max_days in 0u32..=4,
        one_time_use_hours in 0u32..=30,
        ongoing_slots in 0u32..=3,
        revocation in any::<bool>(),
        activation_hours in prop_oneof![1u32..=30, 31u32..=100],
        grace_secs in grace(),
        lock_memory in 0u16..=5,
        menu in 0usize..MENUS.len(),
        clock in prop_oneof![
            Just(ClockCodes::NONE),
            Just(ClockCodes { unit_minutes: 60, max_step_hours: 1 }),
            Just(ClockCodes { unit_minutes: 480, max_step_hours: 20 }),
            Just(ClockCodes { unit_minutes: 45, max_step_hours: 3 }),
        ],
    ) -> ProfileParams {
        ProfileParams {
            name: "sweep",
            radix: Radix::Ten,
            keys: Keys::STANDARD,
            digits: 7,
            epoch,
            lifetime_days,
            variances,
            lineages,
            hourly_max_hours,
            daily_max_days,
            one_time_use_hours,
            ongoing_slots,
            revocation,
            activation_hours,
            grace_secs,
            lock_memory,
            format: if menu == 0 && clock == ClockCodes::NONE {
                FormatVersion::V1
            } else {
                FormatVersion::V2
            },
            recurring: MENUS[menu],
            clock_codes: clock,
            ..STANDARD_10.params()
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// The published figures are the brute-force maxima.
    #[test]
    fn w_max_is_the_maximum_over_every_instant_and_offset(params in small_profile()) {
        let Ok(p) = Profile::new(params) else {
            return Err(TestCaseError::reject("not a profile"));
        };
        let s = p.security();
        let (best, by_kind, revoke) = brute_force(&p);
        prop_assert_eq!(s.w_max - s.remembered, best);
        prop_assert_eq!(s.max_by_kind, by_kind);
        prop_assert_eq!(s.revocation_indices, revoke);
        prop_assert_eq!(s.remembered, u64::from(params.lock_memory));
        prop_assert_eq!(p.security_with_keys(3).w_max, 3 * s.w_max);
    }
}

/// Every second of a tiny profile's life (every 7th second of the 15 days
/// its v2 twin's recurring codes span), at offsets that are not whole
/// hours and with a grace that is not whole minutes: `acceptable_at` is
/// the brute-force count, and never above `W_max`.
#[test]
fn acceptable_at_is_exact_at_every_second() {
    let v1 = Profile::new(ProfileParams {
        name: "tiny",
        digits: 7,
        lifetime_days: 2,
        variances: 1,
        lineages: 0,
        hourly_max_hours: 3,
        daily_max_days: 2,
        one_time_use_hours: 2,
        ongoing_slots: 1,
        revocation: true,
        activation_hours: 2,
        grace_secs: 37,
        lock_memory: 0,
        ..STANDARD_10.params()
    })
    .unwrap();
    // The same with recurring and clock-setting codes (format v2), weeks
    // starting on the epoch's Monday.
    let v2 = Profile::new(ProfileParams {
        format: FormatVersion::V2,
        recurring: MENUS[2],
        clock_codes: ClockCodes {
            unit_minutes: 20,
            max_step_hours: 5,
        },
        ..v1.params()
    })
    .unwrap();
    for p in [v1, v2] {
        let all: Vec<Grant> = (0..p.grant_count())
            .map(|i| p.grant_at(i).unwrap())
            .collect();
        let w_max = p.security().w_max;
        let until = if p.format() == FormatVersion::V2 {
            15
        } else {
            5
        };
        for minutes in [-840, -331, 0, 45, 840] {
            let offset = UtcOffset::from_minutes(minutes).unwrap();
            let mut seen_max = 0;
            for now in (p.epoch() - 15 * HOUR..p.epoch() + until * DAY).step_by(if until > 5 {
                7
            } else {
                1
            }) {
                let brute = count_at(&p, &all, now, offset).opening();
                assert_eq!(
                    p.acceptable_at(now, offset).total(),
                    brute,
                    "{} {now} {offset}",
                    p.format()
                );
                seen_max = seen_max.max(brute);
            }
            assert!(seen_max <= w_max, "{offset}: {seen_max} > {w_max}");
        }
    }
}

/// Issue 9's counter-example: a 10-day lifetime with a 240-hour activation
/// window. Sampling the middle of the lifetime published 260 234 while
/// 398 921 indices were acceptable at one instant; the maximum is near the
/// end of the lifetime, where every start is still within its activation.
#[test]
fn short_lifetime_with_long_activation_is_not_undercounted() {
    let p = Profile::new(ProfileParams {
        lifetime_days: 10,
        activation_hours: 240,
        ..STANDARD_10.params()
    })
    .unwrap();
    let all: Vec<Grant> = (0..p.grant_count())
        .map(|i| p.grant_at(i).unwrap())
        .collect();
    let s = p.security();
    let w = s.w_max - s.remembered;
    // The busiest instant at UTC within ±g of an hour in the last two days.
    let end = p.epoch() + 10 * DAY;
    let g = p.grace_secs();
    let busiest = (end - 2 * DAY..end + DAY)
        .step_by(HOUR as usize)
        .flat_map(|h| [h - g, h + g])
        .max_by_key(|&t| p.acceptable_at(t, UtcOffset::UTC).total())
        .unwrap();
    let brute = count_at(&p, &all, busiest, UtcOffset::UTC).opening();
    assert_eq!(p.acceptable_at(busiest, UtcOffset::UTC).total(), brute);
    assert!(
        brute >= 398_921,
        "the issue's instant had 398 921, found {brute}"
    );
    assert!(
        w >= brute,
        "W_max − remembered = {w} < {brute} at {busiest}"
    );
    // The middle of the lifetime, where the old figure sampled, is far
    // below: the maximum is not there.
    let mid = p.epoch() + 5 * DAY;
    let mid_max = (mid..mid + DAY)
        .step_by(HOUR as usize)
        .flat_map(|h| [h - g, h + g])
        .map(|t| p.acceptable_at(t, UtcOffset::UTC).total())
        .max()
        .unwrap();
    assert!(mid_max < brute, "{mid_max} vs {brute}");
}

/// The maximum is over every offset the lock accepts, not only UTC: on
/// this profile the busiest instant at UTC has fewer acceptable indices
/// than the busiest instant at some other offset, and `W_max` counts the
/// latter (brute force over all offsets agrees).
#[test]
fn the_maximum_can_need_an_offset_other_than_utc() {
    let p = Profile::new(ProfileParams {
        name: "offset-matters",
        digits: 9,
        lifetime_days: 1,
        variances: 1,
        lineages: 0,
        hourly_max_hours: 0,
        daily_max_days: 4,
        one_time_use_hours: 22,
        ongoing_slots: 0,
        revocation: false,
        activation_hours: 6,
        grace_secs: 1_299,
        lock_memory: 0,
        ..STANDARD_10.params()
    })
    .unwrap();
    let (best, _, _) = brute_force(&p);
    let w = p.security().w_max;
    assert_eq!(w, best);
    let all: Vec<Grant> = (0..p.grant_count())
        .map(|i| p.grant_at(i).unwrap())
        .collect();
    let utc_best = events(&p, &all)
        .iter()
        .map(|&t| count_at(&p, &all, t, UtcOffset::UTC).opening())
        .max()
        .unwrap();
    assert!(utc_best < w, "UTC reaches {utc_best}, W_max is {w}");
}

/// docs/FORMAT.md §7: a lock with a DST rule never accepts more than
/// `W_max`, which is taken over fixed offsets. Small profiles whose whole
/// lifetime straddles a change (spring and autumn, positive and negative
/// DST, a change at midnight), swept at every instant where a verdict can
/// change under the rule.
#[test]
fn w_max_bounds_every_dst_rule() {
    use offpin::tz::TzRule;
    let rules = [
        "CET-1CEST,M3.5.0,M10.5.0/3",
        "AEST-10AEDT,M10.1.0,M4.1.0/3",
        "IST-1GMT0,M10.5.0,M3.5.0/1",
        "<-03>3<-02>,M11.1.0/0,M2.3.0/1",
        "<+1030>-10:30<+11>-11,M10.1.0,M4.1.0",
    ];
    // Epochs a day or two before changes of 2024 and 2025.
    let epochs = [
        1_711_670_400, // 2024-03-29
        1_729_728_000, // 2024-10-24
        1_727_913_600, // 2024-10-03
        1_730_332_800, // 2024-10-31
        1_739_318_400, // 2025-02-12
    ];
    let base = ProfileParams {
        name: "dst",
        digits: 7,
        lifetime_days: 3,
        variances: 1,
        lineages: 0,
        hourly_max_hours: 4,
        daily_max_days: 3,
        one_time_use_hours: 3,
        ongoing_slots: 1,
        revocation: false,
        activation_hours: 20,
        grace_secs: 900,
        lock_memory: 0,
        format: FormatVersion::V2,
        recurring: MENUS[2],
        clock_codes: ClockCodes::NONE,
        ..STANDARD_10.params()
    };
    let mut swept = 0;
    for text in rules {
        let rule = TzRule::parse(text.as_bytes()).unwrap();
        for epoch in epochs {
            for activation_hours in [20, 30] {
                let p = Profile::new(ProfileParams {
                    epoch,
                    activation_hours,
                    ..base
                })
                .unwrap();
                let w_max = p.security().w_max;
                let all: Vec<Grant> = (0..p.grant_count())
                    .map(|i| p.grant_at(i).unwrap())
                    .collect();
                let g = p.grace_secs();
                let a = p.activation_secs();
                let mut at = Vec::new();
                for grant in &all {
                    if let Some(w) = grant.window(&p, rule) {
                        at.extend([w.start - g, w.end + g, w.start + a + g]);
                        if matches!(grant, Grant::Recurring(_)) {
                            let mut h = w.start - HOUR;
                            while h <= w.end + HOUR {
                                at.extend([h - g, h, h + g]);
                                h += HOUR;
                            }
                        }
                    }
                }
                // Local whole hours move with the rule: also every UTC
                // quarter hour ± g over the lifetime.
                let mut q = p.epoch() - DAY;
                while q < p.epoch() + 30 * DAY {
                    at.extend([q - g, q, q + g]);
                    q += 900;
                }
                at.sort_unstable();
                at.dedup();
                let peak = at
                    .iter()
                    .map(|&t| all.iter().filter(|gr| p.check(gr, t, rule).opens()).count() as u64)
                    .max()
                    .unwrap();
                assert!(peak <= w_max, "{text} epoch {epoch}: {peak} > {w_max}");
                swept += 1;
            }
        }
    }
    assert_eq!(swept, 50);
}
