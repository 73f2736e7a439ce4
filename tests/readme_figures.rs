//! The README's security table must match what `Profile::security` computes.

#![allow(
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::cast_possible_truncation,
    reason = "test code: a failed unwrap is a failed test"
)]

use offpin::UtcOffset;
use offpin::profile::shipped::ALL;

#[path = "common/figures.rs"]
mod figures;
use figures::{grouped, sci};

#[test]
fn readme_table_matches_the_computed_figures() {
    let readme = include_str!("../README.md");
    for p in ALL {
        let s = p.security();
        let row = readme
            .lines()
            .find(|l| l.starts_with(&format!("| `{}` |", p.name())))
            .unwrap_or_else(|| panic!("README has no row for {}", p.name()));
        let k = s.max_by_kind;
        for (what, n) in [
            ("hourly", k.hourly),
            ("daily", k.daily),
            ("one-time", k.one_time),
            ("ongoing", k.ongoing),
            ("remembered", s.remembered),
        ] {
            assert!(
                row.contains(&format!("| {} |", grouped(n))),
                "{}: {what} = {} not in row {row}",
                p.name(),
                grouped(n)
            );
        }
        assert!(
            row.contains(&format!("**{}**", grouped(s.w_max))),
            "{}: W_max = {} not in row {row}",
            p.name(),
            s.w_max
        );
        assert!(
            row.contains(&format!("| {} |", s.attempts_per_day)),
            "{}: attempts/day {}",
            p.name(),
            s.attempts_per_day
        );
        assert!(
            row.contains(&format!("| {} |", sci(s.per_year(), 1))),
            "{}: p per year {} not in row {row}",
            p.name(),
            sci(s.per_year(), 1)
        );
    }
}

/// The README says `W_max` is attained and that the kinds peak together:
/// some instant near the end of each shipped profile's lifetime, at some
/// whole-hour offset, has exactly `W_max − remembered` acceptable indices,
/// the sum of the kind columns.
#[test]
fn readme_w_max_is_attained_and_is_the_sum_of_the_kinds() {
    for p in ALL {
        let s = p.security();
        let k = s.max_by_kind;
        assert_eq!(s.w_max, k.total() + s.remembered, "{}", p.name());
        let end = p.epoch() + i64::from(p.params().lifetime_days) * 86_400;
        let g = p.grace_secs();
        let attained = (end - 2 * 86_400..end)
            .step_by(3_600)
            .flat_map(|h| [h - g, h + g - 1])
            .flat_map(|t| (-14..=14).map(move |o| (t, o)))
            .map(|(t, o)| {
                let offset = UtcOffset::from_minutes(o * 60).unwrap();
                p.acceptable_at(t, offset).total()
            })
            .max()
            .unwrap();
        assert_eq!(attained + s.remembered, s.w_max, "{}", p.name());
    }
}
