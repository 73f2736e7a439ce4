//! The README's security table must match what `Profile::security` computes.

#![allow(
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::cast_possible_truncation,
    reason = "test code: a failed unwrap is a failed test"
)]

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
