//! The README's security table must match what `Profile::security` computes.

#![allow(
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::cast_possible_truncation,
    reason = "test code: a failed unwrap is a failed test"
)]

use offpin::profile::shipped::ALL;

/// Formats `n` with a thin space every three digits, as the README does.
fn grouped(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(' ');
        }
        out.push(c);
    }
    out
}

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
    }
}
