//! `wmax.json` (§7): a small profile whose `W_max` is reached only at a
//! UTC offset that is not a whole hour, with an instant and offset that
//! reach it and the best count at whole-hour offsets (lower).

use super::*;
use offpin::profile::shipped::STANDARD_10_V2 as P2;
use offpin::recurring::{Hours, RecurringMenu, Weekdays};
use offpin::{ClockCodes, ProfileParams};

/// A one-day lifetime with clock codes every 15 minutes, each a day
/// ahead at most: all 96 are acceptable only in the quarter hour before
/// the epoch (`[E − unit − step, 0)` = `[−900 s, 0)`), when code 0 is still
/// ahead and code 95 already within a step. Recurring codes every day,
/// hours 00-01 and 02-03 with a grace of 31 minutes: both ranges hold only
/// from 01:29 to 01:31 local. The two meet only at an offset between
/// +01:30 and +01:45, never at a whole hour.
pub(super) const PROFILE: Profile = match Profile::new(ProfileParams {
    name: "edges-v2-wmax-offset",
    lifetime_days: 1,
    hourly_max_hours: 0,
    daily_max_days: 0,
    one_time_use_hours: 0,
    ongoing_slots: 0,
    revocation: false,
    grace_secs: 31 * 60,
    lock_memory: 0,
    recurring: RecurringMenu {
        days: &[Weekdays::EVERY_DAY],
        hours: &[Hours::new(0, 1), Hours::new(2, 3)],
        max_weeks: 1,
    },
    clock_codes: ClockCodes {
        unit_minutes: 15,
        max_step_hours: 24,
    },
    ..P2.params()
}) {
    Ok(p) => p,
    Err(e) => e.panic_const(),
};

/// An instant and an offset (minutes east) at which the count reaches
/// `W_max − lock_memory`: 10 minutes before the epoch, at UTC+01:40
/// (01:30 local).
const WITNESS: (i64, i32) = (PROFILE.epoch() - 600, 100);

/// The most indices acceptable at any whole-hour offset: the counts change
/// only at `±g` and `g + A` from whole hours (UTC and local, which agree at
/// a whole-hour offset) and on the clock codes' grid (§7), so checking
/// those instants, over the lifetime and 12 days around it, is exact.
/// Returns the count, an instant and an offset that reach it.
pub(super) fn best_at_whole_hours(p: &Profile) -> (u64, i64, i32) {
    let prm = p.params();
    let (g, a) = (p.grace_secs(), p.activation_secs());
    let end = p.epoch() + i64::from(prm.lifetime_days) * DAY;
    let mut events = Vec::new();
    let mut h = p.epoch() - 3 * DAY;
    while h < end + 12 * DAY {
        events.extend([h - g, h, h + g, h + g + a]);
        h += HOUR;
    }
    if prm.clock_codes.is_enabled() {
        let (u, s) = (prm.clock_codes.unit_secs(), prm.clock_codes.max_step_secs());
        let mut k = p.epoch() - 3 * DAY;
        while k < end + 12 * DAY {
            events.extend([k, k - s]);
            k += u;
        }
    }
    let mut best = (0, 0, 0);
    for minutes in (-14..=14).map(|h| h * 60) {
        let offset = UtcOffset::from_minutes(minutes).unwrap();
        for &now in &events {
            let w = p.acceptable_at(now, offset).total();
            if w > best.0 {
                best = (w, now, minutes);
            }
        }
    }
    best
}

/// The file.
pub(super) fn vectors() -> Value {
    let s = PROFILE.security();
    let (now, minutes) = WITNESS;
    let at = PROFILE.acceptable_at(now, UtcOffset::from_minutes(minutes).unwrap());
    let (best, best_now, best_minutes) = best_at_whole_hours(&PROFILE);
    json!({
        "profiles": [{
            "profile": super::custom_profile_json(&PROFILE),
            "witness": {
                "now": now,
                "utc_offset_minutes": minutes,
                "acceptable": at.total(),
                "acceptable_by_kind": {
                    "hourly": at.hourly,
                    "daily": at.daily,
                    "one_time": at.one_time,
                    "ongoing": at.ongoing,
                    "recurring": at.recurring,
                    "clock_set": at.clock_set,
                },
            },
            "best_at_whole_hours": {
                "acceptable": best,
                "now": best_now,
                "utc_offset_minutes": best_minutes,
            },
            "w_max": s.w_max,
        }]
    })
}

/// The witness reaches `W_max` at an offset that is not whole hours, and
/// no whole-hour offset does.
pub(super) fn assert_witness(file: &Value) {
    for p in file["profiles"].as_array().unwrap() {
        let w_max = p["w_max"].as_u64().unwrap();
        let memory = p["profile"]["lock_memory"].as_u64().unwrap();
        let witness = &p["witness"];
        assert_eq!(witness["acceptable"].as_u64().unwrap() + memory, w_max);
        assert_ne!(witness["utc_offset_minutes"].as_i64().unwrap() % 60, 0);
        let best = p["best_at_whole_hours"]["acceptable"].as_u64().unwrap();
        assert!(best + memory < w_max);
        // docs/FORMAT.md §7 states both.
        let doc = std::fs::read_to_string(
            [env!("CARGO_MANIFEST_DIR"), "docs", "FORMAT.md"]
                .iter()
                .collect::<PathBuf>(),
        )
        .unwrap()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
        let minutes = witness["utc_offset_minutes"].as_i64().unwrap();
        let stated = format!(
            "W_max ({w_max}) is reached at UTC+{:02}:{:02} and never at a whole-hour offset ({} at most there)",
            minutes / 60,
            minutes % 60,
            best + memory
        );
        assert!(doc.contains(&stated), "FORMAT.md §7 should say: {stated}");
    }
    // The witness's count by brute force: every grant, checked (§7 counts
    // "open" and "set the clock").
    let (now, minutes) = WITNESS;
    let offset = UtcOffset::from_minutes(minutes).unwrap();
    let opening = (0..PROFILE.grant_count())
        .map(|i| PROFILE.grant_at(i).unwrap())
        .filter(|g| {
            matches!(
                PROFILE.check(g, now, offset),
                Verdict::Open(_) | Verdict::SetClock { .. }
            )
        })
        .count();
    assert_eq!(
        u64::try_from(opening).unwrap() + u64::from(PROFILE.lock_memory()),
        PROFILE.security().w_max
    );
}
