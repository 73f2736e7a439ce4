//! `W_max` bounds every DST rule the lock accepts (`docs/FORMAT.md` §7 and
//! §9.1): exhaustively, over a grid of accepted rules and small profiles
//! whose lifetime straddles each change of a leap year and a common year.
//!
//! `W_max` is computed over fixed offsets. A rule moves only the grants
//! that follow local time (daily windows, recurring codes); the others
//! (hourly windows, one-time codes, ongoing slots) follow UTC and are
//! counted by `Profile::acceptable_at`, which `tests/wmax_exhaustive.rs`
//! checks against brute force. The local grants are brute-forced here:
//! `Profile::check` under the rule, for each of them, at every instant
//! where a verdict can change, so the maximum found is the maximum over
//! all of time:
//!
//! - `s − g`, `e + g` and `s + A + g` for each window `[s, e)` under the
//!   rule (daily windows and the weeks of recurring codes);
//! - each whole local hour and `±g` from it, at either offset of the rule
//!   (recurring codes judge the local time of day);
//! - each whole UTC hour and `±g` from it (the UTC grants' changes);
//! - each change of the rule and the second before it.
//!
//! Under a rule with DST, a profile with recurring codes publishes the sum
//! of the kinds' maxima (`Profile::security_under`): a change back over
//! midnight passes the fixed-offset `W_max` (found here), never that sum.
//!
//! The limit is exact: for a profile whose `max_dst_shift_secs` is below
//! a rule's shift, the same sweep finds an instant where the lock accepts
//! more than `W_max`. The issue 17 rule (a spring change skipping a whole
//! day) is refused, with the error naming the limit.

// DST rules need format v2 (a default feature).
#![cfg(feature = "format-v2")]
#![allow(
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::cast_possible_truncation,
    reason = "test code: a failed unwrap is a failed test"
)]

use offpin::profile::shipped::STANDARD_10;
use offpin::recurring::{Hours, RecurringMenu, Weekdays};
use offpin::tz::{DST_SHIFT_MAX_SECS, TzError, TzRule};
use offpin::{FormatVersion, Grant, Profile, ProfileParams, UtcOffset, Verdict};

const HOUR: i64 = 3_600;
const DAY: i64 = 86_400;
/// 2024-01-01T00:00:00Z (a leap year), 2025-01-01 and 2026-01-01.
const Y2024: i64 = 1_704_067_200;
const Y2025: i64 = 1_735_689_600;
const Y2026: i64 = 1_767_225_600;

/// A POSIX offset (hours west) for `minutes` east.
fn posix(minutes: i32) -> String {
    let west = -minutes;
    let sign = if west < 0 { "-" } else { "" };
    let m = west.unsigned_abs();
    if m.is_multiple_of(60) {
        format!("{sign}{}", m / 60)
    } else {
        format!("{sign}{}:{:02}", m / 60, m % 60)
    }
}

/// The rule with standard offset `std` and DST offset `dst` (minutes
/// east) and the given transitions.
fn rule_text(std: i32, dst: i32, start: &str, end: &str) -> String {
    format!("AAA{}BBB{},{start},{end}", posix(std), posix(dst))
}

/// (standard, DST) offsets in minutes east: DST of ±30 min, ±1 h and
/// ±2 h, at UTC, at half hours, and at both ends of the ±14 h range.
const OFFSETS: [(i32, i32); 12] = [
    (0, 60),
    (60, 120),
    (-300, -240),
    (330, 360),
    (630, 660),
    (0, 120),
    (60, 0),
    (-180, -300),
    (780, 840),
    (720, 840),
    (-840, -720),
    (-780, -840),
];

/// Transition pairs: northern and southern, at and across midnight, every
/// date form (`Mm.w.d`, `Jn`, `n` with February 29 and day 365), changes
/// hours apart, permanent DST, and times at the ±167 h extremes.
const TRANSITIONS: [(&str, &str); 9] = [
    ("M3.5.0", "M10.5.0/3"),
    ("M10.1.0/0", "M4.1.0/0"),
    ("J60/0", "300/24"),
    ("59/23:30", "J365/25"),
    ("0/0", "J365/25"),
    ("J100/0", "J100/3"),
    ("M3.5.0/-1", "M10.5.0/167"),
    ("365/0", "J1/-2"),
    ("M2.5.6/167", "M11.1.0/-167"),
];

/// The instants in `[from, to)` where `rule` changes offset: every hour
/// scanned, each change found to the second.
fn changes(rule: &TzRule, from: i64, to: i64) -> Vec<i64> {
    let mut out = Vec::new();
    let mut t = from;
    while t < to {
        let next = t + HOUR;
        if rule.offset_at(t) != rule.offset_at(next) {
            let (mut lo, mut hi) = (t, next);
            while hi - lo > 1 {
                let mid = lo + (hi - lo) / 2;
                if rule.offset_at(mid) == rule.offset_at(t) {
                    lo = mid;
                } else {
                    hi = mid;
                }
            }
            out.push(hi);
            // A second change within the same hour (changes minutes
            // apart) is found from `hi` on.
            t = hi;
            continue;
        }
        t = next;
    }
    out
}

/// Small profiles whose figures cover every accepted rule
/// (`max_dst_shift_secs` = 2 h), two of them at the edge: `A + 2g` is
/// 2 h 2 s below a day (profile 1) and exactly 2 h below two days
/// (profile 2, with recurring codes). Profile 0 has `standard-10`'s
/// activation and grace.
fn profiles(epoch: i64) -> Vec<Profile> {
    let base = ProfileParams {
        name: "dst-sweep",
        digits: 7,
        epoch,
        lifetime_days: 3,
        variances: 1,
        lineages: 0,
        hourly_max_hours: 3,
        daily_max_days: 3,
        one_time_use_hours: 2,
        ongoing_slots: 1,
        revocation: false,
        activation_hours: 24,
        grace_secs: 600,
        lock_memory: 0,
        ..STANDARD_10.params()
    };
    const MENU: RecurringMenu = RecurringMenu {
        days: &[Weekdays::EVERY_DAY, Weekdays::WEEKENDS],
        hours: &[Hours::new(0, 2), Hours::new(22, 24), Hours::new(11, 13)],
        max_weeks: 1,
    };
    [
        base,
        ProfileParams {
            activation_hours: 21,
            grace_secs: 1_799,
            ..base
        },
        ProfileParams {
            activation_hours: 46,
            grace_secs: 0,
            format: FormatVersion::V2,
            recurring: MENU,
            ..base
        },
    ]
    .into_iter()
    .map(|p| Profile::new(p).unwrap())
    .collect()
}

/// The daily windows and recurring codes of `p`.
fn local_grants(p: &Profile) -> Vec<Grant> {
    (0..p.grant_count())
        .map(|i| p.grant_at(i).unwrap())
        .filter(|g| matches!(g, Grant::Daily(_) | Grant::Recurring(_)))
        .collect()
}

/// The most indices open under `rule` at any instant: UTC grants by
/// `acceptable_at`, local grants by `check` under the rule, at every
/// instant where either can change. Returns (max, instants tried).
fn peak_under(p: &Profile, rule: &TzRule, rule_changes: &[i64]) -> (u64, usize) {
    let local = local_grants(p);
    let g = p.grace_secs();
    let a = p.activation_secs();
    let (std, dst) = (
        rule.standard_offset().seconds(),
        rule.dst().map_or(0, |d| i64::from(d.offset)),
    );
    let (from, to) = (p.epoch() - 2 * DAY, p.epoch() + 16 * DAY);
    let mut at: Vec<i64> = Vec::new();
    for grant in &local {
        if let Some(w) = grant.window(p, rule) {
            at.extend([w.start - g, w.end + g, w.start + a + g]);
        }
    }
    let mut h = from;
    while h < to {
        for x in [h, h - std, h - dst] {
            at.extend([x - g, x, x + g]);
        }
        h += HOUR;
    }
    at.extend(
        rule_changes
            .iter()
            .filter(|&&c| (from..to).contains(&c))
            .flat_map(|&c| [c - 1, c]),
    );
    at.sort_unstable();
    at.dedup();
    let best = at
        .iter()
        .map(|&t| {
            let utc = p.acceptable_at(t, UtcOffset::UTC);
            let open = local
                .iter()
                .filter(|gr| matches!(p.check(gr, t, rule), Verdict::Open(_)))
                .count() as u64;
            utc.hourly + utc.one_time + utc.ongoing + open
        })
        .max()
        .unwrap();
    (best, at.len())
}

/// The largest count under `rule` over profiles `make(epoch)` whose
/// lifetime ends 0 to 3 days after each change of 2024 and 2025, with the
/// largest excess over `W_max` (negative: below it everywhere). Asserts
/// that no count exceeds the figure published for the rule
/// (`Profile::security_under`).
fn sweep(rule: &TzRule, make: impl Fn(i64) -> Profile) -> (u64, u64, i64, usize) {
    let changes = changes(rule, Y2024 - 2 * DAY, Y2026 + 2 * DAY);
    // Each change, and each year's first second (where the rule's year,
    // and its clamps, turn over; the only anchors of permanent DST).
    let anchors = changes.iter().copied().chain([Y2024, Y2025, Y2026]);
    let mut out = (0, 0, i64::MIN, 0);
    for c in anchors {
        for back in 0..=3 {
            let p = make((c.div_euclid(DAY) - back) * DAY);
            let (peak, n) = peak_under(&p, rule, &changes);
            let w_max = p.security().w_max;
            if let Some(under) = p.security_under(rule, 1) {
                assert!(
                    peak <= under.w_max,
                    "{rule}: {peak} above the published {}",
                    under.w_max
                );
            }
            let excess = peak as i64 - w_max as i64;
            if excess > out.2 {
                out = (peak, w_max, excess, out.3);
            }
            out.3 += n;
        }
    }
    out
}

/// Every rule of the grid (12 offset pairs × 9 transition pairs), every
/// profile, the lifetime ending 0 to 3 days after each change of 2024
/// (a leap year) and 2025 and each year's start: the count never exceeds
/// the figure published for the rule (`Profile::security_under`, in
/// `sweep`), and never the fixed-offset `W_max` except where a change
/// turns the local clock back over midnight on the profile with recurring
/// codes, which is why that figure is the sum of the kinds' maxima there.
#[test]
fn w_max_bounds_every_accepted_rule_of_the_grid() {
    for p in profiles(Y2024) {
        assert_eq!(
            p.max_dst_shift_secs(),
            DST_SHIFT_MAX_SECS,
            "{:?}",
            p.params()
        );
    }
    let mut rules = 0;
    let mut crossing = 0;
    let mut beyond = Vec::new();
    let mut rule_changes = 0;
    let mut instants = 0;
    let mut worst = [(0u64, 0u64); 3];
    for (std, dst) in OFFSETS {
        for (start, end) in TRANSITIONS {
            let text = rule_text(std, dst, start, end);
            let rule = TzRule::parse(text.as_bytes()).unwrap_or_else(|e| panic!("{text}: {e}"));
            rules += 1;
            let all = changes(&rule, Y2024 - 2 * DAY, Y2026 + 2 * DAY);
            rule_changes += all.len();
            let back_over_midnight = all
                .iter()
                .any(|&c| rule.local_day(c) < rule.local_day(c - 1));
            crossing += usize::from(back_over_midnight);
            for (i, slot) in worst.iter_mut().enumerate() {
                let (peak, w_max, excess, n) = sweep(&rule, |epoch| profiles(epoch).remove(i));
                instants += n;
                if back_over_midnight {
                    if excess > 0 {
                        beyond.push(format!("{text}, profile {i}: {peak} > {w_max}"));
                    }
                    continue;
                }
                assert!(excess <= 0, "{text}, profile {i}: {peak} > {w_max}");
                *slot = (*slot).max((peak, w_max));
            }
        }
    }
    println!(
        "{rules} rules ({crossing} turn the clocks back over midnight), {rule_changes} changes, \
         {instants} instants; (max W, W_max) per profile: {worst:?}; beyond W_max: {beyond:#?}"
    );
    // A change that turns the local clock back over midnight pairs the
    // new day's daily windows with the old day's recurring hours, which no
    // fixed offset does: the grid goes past the fixed-offset `W_max` only
    // there, on the profile with both kinds (whose published figure under
    // a DST rule is the sum of the kinds' maxima, never passed above).
    assert!(!beyond.is_empty(), "the sum is needed: {beyond:#?}");
    assert!(
        beyond.iter().all(|b| b.contains("profile 2")),
        "{beyond:#?}"
    );
    assert_eq!(rules, OFFSETS.len() * TRANSITIONS.len());
    assert!(rule_changes > 3 * rules, "{rule_changes}");
    // The sweep reaches W_max (it is not vacuous) on every profile.
    for (peak, w_max) in worst {
        assert_eq!(peak, w_max);
    }
}

/// The limit is where the bound breaks: with `A + 2g` a shift or less
/// below a multiple of a day, a rule with that shift or more gets past
/// `W_max`; with the day boundary just beyond the shift, it does not.
#[test]
fn past_a_profiles_shift_limit_the_bound_breaks() {
    let make = |activation_hours, grace_secs| {
        move |epoch| {
            Profile::new(ProfileParams {
                activation_hours,
                grace_secs,
                ..profiles(epoch)[0].params()
            })
            .unwrap()
        }
    };
    let london = TzRule::parse(b"GMT0BST,M3.5.0/1,M10.5.0").unwrap();
    let half = TzRule::parse(b"AAA0BBB-0:30,M3.5.0/1,M10.5.0").unwrap();
    let troll = TzRule::parse(b"<+00>0<+02>-2,M3.5.0/1,M10.5.0/3").unwrap();
    // (activation hours, grace, rule, its shift within the profile's limit)
    let cases = [
        (23, 600, &london, false), // A + 2g = 23 h 20 min: 40 min to midnight
        (23, 600, &half, true),
        (23, 0, &london, true), // exactly 1 h to midnight
        (23, 1, &london, false),
        (46, 0, &troll, true), // exactly 2 h to two days
        (46, 1, &troll, false),
        (24, 0, &half, false), // A + 2g is a whole day: no DST at all
    ];
    for (a, g, rule, covered) in cases {
        let p = make(a, g)(Y2024);
        assert_eq!(p.covers_rule(rule), covered, "A = {a} h, g = {g}: {rule}");
        // The lock refuses the pairs the figure does not cover.
        let with_memory = Profile::new(ProfileParams {
            lock_memory: 4,
            ..p.params()
        })
        .unwrap();
        let codec =
            offpin::Codec::new(&offpin::DeviceKey::from_bytes([5; 16]), with_memory).unwrap();
        match offpin::lock::Lock::<4>::new(codec, *rule) {
            Ok(_) => assert!(covered, "A = {a} h, g = {g}: {rule} built a lock"),
            Err(e) => assert_eq!(
                e,
                offpin::lock::LockError::RuleNotCovered {
                    shift_secs: rule.dst_shift_secs(),
                    max_secs: p.max_dst_shift_secs(),
                },
                "A = {a} h, g = {g}: {rule}"
            ),
        }
        let (peak, w_max, excess, _) = sweep(rule, make(a, g));
        println!("A = {a} h, g = {g} s, {rule}: max W {peak}, W_max {w_max}");
        assert_eq!(
            excess <= 0,
            covered,
            "A = {a} h, g = {g}: {rule}: {peak} vs {w_max}"
        );
    }
}

/// Issue 17's rule: DST 24 hours ahead of standard time, the spring change
/// skipping a whole day at local noon. Refused as text and as bytes, with
/// the error that names the 2-hour limit; so is a shift of 2 h 1 min, and
/// 2 h is accepted.
#[test]
fn the_issue_rule_is_refused() {
    let issue = b"AAA12BBB-12,M3.5.0/12,M10.5.0/3";
    assert_eq!(TzRule::parse(issue), Err(TzError::DstShiftOutOfRange));
    assert!(
        TzError::DstShiftOutOfRange
            .to_string()
            .contains("more than 2 hours"),
        "{}",
        TzError::DstShiftOutOfRange
    );
    // Its 21 bytes: std −720 min, DST +720 min, M3.5.0/12, M10.5.0/3.
    let mut bytes = TzRule::parse(b"AAA12BBB11,M3.5.0/12,M10.5.0/3")
        .unwrap()
        .to_bytes();
    bytes[2..4].copy_from_slice(&720i16.to_be_bytes());
    assert_eq!(TzRule::from_bytes(&bytes), Err(TzError::DstShiftOutOfRange));
    // One minute beyond the limit, both ways, and the limit itself.
    let edge = TzRule::parse(b"AAA0BBB-2,M3.5.0,M10.5.0").unwrap();
    assert_eq!(edge.dst_shift_secs(), DST_SHIFT_MAX_SECS);
    for dst in [121i16, -121] {
        let mut b = edge.to_bytes();
        b[2..4].copy_from_slice(&dst.to_be_bytes());
        assert_eq!(TzRule::from_bytes(&b), Err(TzError::DstShiftOutOfRange));
        b[2..4].copy_from_slice(&(dst.signum() * 120).to_be_bytes());
        assert_eq!(
            TzRule::from_bytes(&b).map(|r| r.dst_shift_secs()),
            Ok(7_200)
        );
    }
    assert_eq!(
        TzRule::parse(b"AAA0BBB2:01,M3.5.0,M10.5.0"),
        Err(TzError::DstShiftOutOfRange)
    );
}

/// Every shipped profile covers every accepted rule.
#[test]
fn shipped_profiles_cover_every_accepted_rule() {
    for p in offpin::profile::shipped::ALL {
        assert_eq!(p.max_dst_shift_secs(), DST_SHIFT_MAX_SECS, "{}", p.name());
    }
}
