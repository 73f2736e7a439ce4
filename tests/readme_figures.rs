//! The README's security tables must match what `Profile::security`
//! computes.

#![allow(
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::cast_possible_truncation,
    reason = "test code: a failed unwrap is a failed test"
)]

use offpin::profile::shipped::{ALL, STANDARD_10_V2, V1};
use offpin::{FormatVersion, Profile, Tag, UtcOffset};

#[path = "common/figures.rs"]
mod figures;
use figures::{grouped, sci};

fn row<'a>(readme: &'a str, start: &str) -> &'a str {
    readme
        .lines()
        .find(|l| l.starts_with(start))
        .unwrap_or_else(|| panic!("README has no row starting {start}"))
}

/// The README row that starts with `| what |` holds each of `cells` as a
/// whole cell.
fn assert_row(readme: &str, what: &str, cells: &[String]) {
    let row = row(readme, &format!("| {what} |"));
    for cell in cells {
        assert!(
            row.contains(&format!("| {cell} |")),
            "{what}: {cell} not in {row}"
        );
    }
}

/// The cells of the v2 table (W_max, per attempt, service share, attempts
/// a day, per day, per year).
fn v2_cells(s: &offpin::SecurityFigures) -> [String; 6] {
    [
        format!("**{}**", grouped(s.w_max)),
        sci(s.per_attempt(), 2),
        format!("{:.2} %", 100.0 * s.service_share()),
        s.attempts_per_day.to_string(),
        sci(s.per_day(), 2),
        sci(s.per_year(), 1),
    ]
}

#[test]
fn readme_table_matches_the_computed_figures() {
    let readme = include_str!("../README.md");
    for p in ALL {
        let s = p.security();
        let row = row(readme, &format!("| `{}` |", p.name()));
        let k = s.max_by_kind;
        let v2 = p.format() == FormatVersion::V2;
        let optional = |n: u64| if v2 { grouped(n) } else { "–".to_owned() };
        let service = s.service.map_or_else(
            || "–".to_owned(),
            |v| format!("{:.1}", v.w_equivalent(s.domain)),
        );
        for (what, cell) in [
            ("format", p.format().number().to_string()),
            ("hourly", grouped(k.hourly)),
            ("daily", grouped(k.daily)),
            ("one-time", grouped(k.one_time)),
            ("ongoing", grouped(k.ongoing)),
            ("recurring", optional(k.recurring)),
            ("clock", optional(k.clock_set)),
            ("remembered", grouped(s.remembered)),
            ("service", service),
            ("p per attempt", sci(s.per_attempt(), 2)),
            ("attempts/day", s.attempts_per_day.to_string()),
            ("p per year", sci(s.per_year(), 1)),
        ] {
            assert!(
                row.contains(&format!("| {cell} |")),
                "{}: {what} = {cell} not in row {row}",
                p.name()
            );
        }
        assert!(
            row.contains(&format!("**{}**", grouped(s.w_max))),
            "{}: W_max = {} not in row {row}",
            p.name(),
            s.w_max
        );
    }
}

/// The v2 profile with and without each v2 kind, row by row.
#[test]
fn readme_v2_table_matches_the_computed_figures() {
    let readme = include_str!("../README.md");
    let p = STANDARD_10_V2;
    let none = p
        .without(Tag::Recurring)
        .and_then(|q| q.without(Tag::ClockCodes))
        .and_then(|q| q.without(Tag::ServiceCodes))
        .unwrap();
    let variants: [(&str, Profile); 5] = [
        ("all v2 kinds", p),
        (
            "without recurring codes",
            p.without(Tag::Recurring).unwrap(),
        ),
        (
            "without clock-setting codes",
            p.without(Tag::ClockCodes).unwrap(),
        ),
        (
            "without service codes",
            p.without(Tag::ServiceCodes).unwrap(),
        ),
        ("without any v2 kind", none),
    ];
    for (what, q) in variants {
        assert_row(readme, what, &v2_cells(&q.security()));
    }
    // The last row: on a DST rule (format-v2 builds), the sum of the
    // kinds' maxima.
    #[cfg(feature = "format-v2")]
    {
        let santiago = offpin::tz::TzRule::parse(b"<-04>4<-03>,M9.1.6/24,M4.1.6/24").unwrap();
        let s = p.security_under(&santiago, 1).unwrap();
        assert_eq!(s.w_max, p.security().max_by_kind.total() + s.remembered);
        assert_row(readme, "all v2 kinds, on a DST rule (bound)", &v2_cells(&s));
    }
    // The text's differences.
    let w = |q: Profile| q.security().w_max;
    let with = w(p);
    let recurring = with - w(variants[1].1);
    let clock = with - w(variants[2].1);
    let base = w(none) as f64;
    let pct = |n: u64| format!("{:.1} %", 100.0 * n as f64 / base);
    assert!(readme.contains(&format!(
        "Recurring codes add {} acceptable indices ({})",
        grouped(recurring),
        pct(recurring)
    )));
    assert!(readme.contains(&format!(
        "clock-setting codes\n{} ({})",
        grouped(clock),
        pct(clock)
    )));
    let service = p.security().service.unwrap().per_attempt();
    assert!(readme.contains(&format!(
        "service codes {} per attempt ({:.2} % of the\ntotal)",
        sci(service, 2),
        100.0 * p.security().service_share()
    )));
    assert_eq!(
        w(none),
        V1[0].security().w_max,
        "v2 without its kinds is standard-10's figure"
    );
}

/// The README says `W_max` is attained and that the v1 kinds peak
/// together: some instant near the end of each v1 profile's lifetime, at
/// some whole-hour offset, has exactly `W_max − remembered` acceptable
/// indices, the sum of the kind columns; for the v2 profile the maximum is
/// attained too, below the sum of the kinds.
#[test]
fn readme_w_max_is_attained_and_is_the_sum_of_the_kinds_for_v1() {
    for p in ALL {
        let s = p.security();
        let k = s.max_by_kind;
        let v2 = p.format() == FormatVersion::V2;
        if v2 {
            assert!(s.w_max < k.total() + s.remembered, "{}", p.name());
        } else {
            assert_eq!(s.w_max, k.total() + s.remembered, "{}", p.name());
        }
        let end = p.epoch() + i64::from(p.params().lifetime_days) * 86_400;
        let g = p.grace_secs();
        let span = if v2 { 11 * 86_400 } else { 2 * 86_400 };
        let attained = (end - span..end)
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

/// What README and SECURITY.md say an attacker who sets the lock's
/// real-time clock gets (a physical attack): `security::rtc_attack` for
/// `standard-10`, one entry every 3 s for a day.
#[test]
fn the_rtc_attack_figures_are_current() {
    let readme = include_str!("../README.md");
    let security = include_str!("../SECURITY.md");
    let p = offpin::profile::shipped::STANDARD_10;
    let rtc = offpin::security::rtc_attack(&p, 86_400, 3);
    let guesses = grouped(rtc.guesses);
    let years = format!("{:.1} years", rtc.ahead_secs as f64 / (365.0 * 86_400.0));
    assert_eq!((guesses.as_str(), years.as_str()), ("28 800", "3.3 years"));
    let text = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
    let (readme, security) = (text(readme), text(security));
    assert!(readme.contains(&format!("({guesses} a day at one entry every 3 s)")));
    assert!(readme.contains(&format!("at least {years} ahead after a day")));
    assert!(security.contains(&format!("{guesses} guesses a day at one entry every 3 s")));
    assert!(security.contains(&format!("is at least {years} ahead")));
    assert_eq!(p.lockout().refill_secs, 3_600);
    assert!(security.contains("costs a refill, an hour on `standard-10`"));
}

/// What SECURITY.md and FORMAT.md §7 publish for a lock with a DST rule on
/// `standard-10-v2`: the sum of the kinds' maxima
/// (`Profile::security_under`), next to the fixed-offset `W_max`.
#[cfg(feature = "format-v2")]
#[test]
fn the_dst_rule_figures_are_current() {
    let text = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
    let security = text(include_str!("../SECURITY.md"));
    let format = text(include_str!("../docs/FORMAT.md"));
    let p = STANDARD_10_V2;
    let santiago = offpin::tz::TzRule::parse(b"<-04>4<-03>,M9.1.6/24,M4.1.6/24").unwrap();
    let under = p.security_under(&santiago, 1).unwrap();
    let (bound, fixed) = (grouped(under.w_max), grouped(p.security().w_max));
    assert_eq!((bound.as_str(), fixed.as_str()), ("57 110", "56 012"));
    assert!(security.contains(&format!(
        "`standard-10-v2`: **{bound}** against {fixed}, per attempt {}",
        sci(under.per_attempt(), 2)
    )));
    assert!(format.contains(&format!(
        "For `standard-10-v2` it is **{bound}** (`W_max` at a fixed offset: {fixed})"
    )));
    // A rule without DST keeps the fixed-offset figures.
    let fixed_rule = offpin::tz::TzRule::fixed(UtcOffset::UTC);
    assert_eq!(p.security_under(&fixed_rule, 1), Some(p.security()));
}

/// Issue 19: what docs/LOCK.md §9 and SECURITY.md publish for anti-peep
/// entry: `standard-10` with `entry_max_digits = 16` tests 7 PINs per
/// entry, so its per-attempt figure is 7 times `standard-10`'s; the
/// attempts per day and per year do not change (an entry counts once).
/// Every shipped profile keeps 1 position and its figures.
#[test]
fn the_anti_peep_figures_are_current() {
    use offpin::ProfileParams;
    use offpin::profile::shipped::STANDARD_10;
    let text = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
    let lock_md = text(include_str!("../docs/LOCK.md"));
    let security = text(include_str!("../SECURITY.md"));
    for p in ALL {
        assert_eq!(p.security().positions, 1, "{}", p.name());
    }
    let base = STANDARD_10.security();
    let p = Profile::new(ProfileParams {
        entry_max_digits: 16,
        ..STANDARD_10.params()
    })
    .unwrap();
    let s = p.security();
    assert_eq!(s.positions, 7);
    assert_eq!(s.w_max, base.w_max);
    assert_eq!(
        (s.attempts_per_day, s.attempts_per_year),
        (base.attempts_per_day, base.attempts_per_year)
    );
    assert!((s.per_attempt() - 7.0 * base.per_attempt()).abs() < 1e-18);
    let (attempt, day, year) = (
        sci(s.per_attempt(), 2),
        sci(s.per_day(), 2),
        sci(s.per_year(), 1),
    );
    assert_eq!(
        (attempt.as_str(), day.as_str(), year.as_str()),
        ("3.64·10⁻⁵", "1.24·10⁻³", "3.2·10⁻¹")
    );
    let (one, without) = (sci(base.per_attempt(), 2), sci(base.per_year(), 1));
    assert!(lock_md.contains(&format!(
        "For `standard-10` with `entry_max_digits = 16` (7 positions): **{attempt} per attempt** (7 × {one}), ≤ {day} per day and ≤ {year} per year, against {without} without."
    )));
    assert!(security.contains(&format!(
        "For `standard-10` with `entry_max_digits = 16` (7 positions): **{attempt} per attempt**, ≤ {day} per day, ≤ {year} per year (against {without} without)."
    )));
}

/// README's table of `standard-10` on a lock with each capability of issue
/// 19 (a crate feature on the lock), as `offpin report` prints it: a
/// group member holds two keys, anti-peep multiplies the PIN share by the
/// positions, a seven-key keypad needs 11 digits, code rules leave `|S|`
/// of the strings PINs (the figure is `W_max / |S|`).
#[cfg(all(feature = "alphabets", feature = "code-rules"))]
#[test]
fn readme_capability_table_matches_the_computed_figures() {
    use offpin::profile::shipped::{KEYPAD9_11, STANDARD_10};
    use offpin::{CodeRules, ProfileParams, Radix};
    let readme = include_str!("../README.md");
    let p = STANDARD_10.params();
    let ttlock = ProfileParams {
        format: FormatVersion::V2,
        radix: Radix::Seven,
        digits: 11,
        ..p
    };
    let rules = ProfileParams {
        format: FormatVersion::V2,
        code_rules: CodeRules::ALL,
        ..p
    };
    let rows: [(&str, ProfileParams, u32); 7] = [
        ("as shipped (one key)", p, 1),
        ("a group member (2 keys)", p, 2),
        (
            "anti-peep, 16 keys (7 positions)",
            ProfileParams {
                entry_max_digits: 16,
                ..p
            },
            1,
        ),
        ("keys 1–7 (radix 7, 11 digits)", ttlock, 1),
        (
            "all three (2 keys, radix 7, 17-key entry)",
            ProfileParams {
                entry_max_digits: 17,
                ..ttlock
            },
            2,
        ),
        ("code rules: not `12…`, no triples (10 digits)", rules, 1),
        (
            "keys 1–9 and both rules (11 digits)",
            ProfileParams {
                radix: Radix::Nine,
                digits: 11,
                ..rules
            },
            1,
        ),
    ];
    assert_eq!(rows[6].1.digits, KEYPAD9_11.digits());
    for (what, params, keys) in rows {
        let s = Profile::new(params).unwrap().security_with_keys(keys);
        let cells = [
            format!("**{}**", grouped(s.w_max)),
            sci(s.domain as f64, 2),
            s.positions.to_string(),
            sci(s.per_attempt(), 2),
            s.attempts_per_day.to_string(),
            sci(s.per_year(), 1),
        ];
        assert_row(readme, what, &cells);
    }
    // The text under the table: |S| of both rule rows, and how much the
    // rules raise standard-10's per-attempt figure.
    let text = readme.split_whitespace().collect::<Vec<_>>().join(" ");
    let [ten, nine] = [rows[5].1, rows[6].1].map(|q| Profile::new(q).unwrap());
    let ratio = ten.security().per_attempt() / STANDARD_10.security().per_attempt();
    let said = format!(
        "(`|S|`: {} of the 10^10, and {} of the 9^11 on a nine-key keypad, the hosted API's `no_zeros`): a guess keeps the rules, so the figure is `W_max / |S|`, {ratio:.2} times `standard-10`'s.",
        grouped(ten.pin_count()),
        grouped(nine.pin_count()),
    );
    assert!(text.contains(&said), "README lacks: {said}");
    let security = include_str!("../SECURITY.md")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    let said = format!(
        "(`standard-10` with both rules: `|S|` = {}, **{} per attempt**, {ratio:.2} times `standard-10`'s;",
        grouped(ten.pin_count()),
        sci(ten.security().per_attempt(), 2),
    );
    assert!(security.contains(&said), "SECURITY.md lacks: {said}");
}

/// README: "Lock firmware depends on `offpin` alone: `cargo tree -p offpin
/// --no-default-features -e normal` lists no database, serde, chrono or
/// jiff". The tree is asked of cargo itself, offline (the lock file's
/// packages are already fetched to build this test).
#[test]
fn the_lock_crate_links_no_server_dependency() {
    let readme = include_str!("../README.md");
    assert!(readme.contains("`cargo tree -p offpin\n--no-default-features -e normal`"));
    let out = std::process::Command::new(env!("CARGO"))
        .args(["tree", "--offline", "-p", "offpin", "--no-default-features"])
        .args(["-e", "normal", "--prefix", "none", "--format", "{p}"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let tree = String::from_utf8(out.stdout).unwrap();
    let names: Vec<&str> = tree.lines().filter_map(|l| l.split(' ').next()).collect();
    assert!(names.contains(&"aes") && names.contains(&"hmac"), "{tree}");
    for server_side in [
        "rusqlite",
        "postgres",
        "serde",
        "serde_json",
        "chrono",
        "jiff",
        "uuid",
        "totp-lite",
        "utoipa",
        "tokio",
        "offpin-ledger",
    ] {
        assert!(
            !names.contains(&server_side),
            "{server_side} in the lock's tree:\n{tree}"
        );
    }
}
