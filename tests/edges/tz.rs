//! `tz.json`: every instant at which a rule's offset changes in 2027 (a
//! common year) and 2028 (a leap year), with the offset and the local day
//! one second before, at and one second after it; the first second of
//! each year; and the local days around every change: their starts, and
//! the first day starting at or after each start ±1 s (§9).

use super::*;

/// Real zones' rules (the TZif footers of the IANA database, or of an
/// earlier release for Tehran, whose `Jn` dates fall on different days of
/// a leap year than `n` dates would), after the committed vectors' rules
/// (`TZ_RULES`, Paris first).
const RULES: [&str; 4] = [
    // America/Santiago, Pacific/Chatham, Africa/Cairo, Asia/Tehran (2022).
    "<-04>4<-03>,M9.1.6/24,M4.1.6/24",
    "<+1245>-12:45<+1345>,M9.5.0/2:45,M4.1.0/3:45",
    "EET-2EEST,M4.5.5/0,M10.5.4/24",
    "<+0330>-3:30<+0430>,J79/24,J263/24",
];

/// The first second of 2027, 2028 and 2029 (UTC).
const YEARS: [(i64, i64, bool); 2] = [
    (1_798_761_600, 1_830_297_600, false),
    (1_830_297_600, 1_861_920_000, true),
];

/// The instants in `[lo, hi)` where the offset differs from the second
/// before: found hour by hour, then to the second.
fn changes(rule: &TzRule, lo: i64, hi: i64) -> Vec<i64> {
    let mut out = Vec::new();
    let off = |t: i64| rule.offset_at(t);
    let mut t = lo;
    while t < hi {
        let next = (t + HOUR).min(hi);
        if off(t - 1) != off(next - 1) {
            // The change is in (t - 1, next - 1]: the first x with
            // off(x) != off(t - 1).
            let (mut a, mut b) = (t - 1, next - 1);
            while b - a > 1 {
                let mid = a + (b - a) / 2;
                if off(mid) == off(t - 1) {
                    a = mid
                } else {
                    b = mid
                }
            }
            out.push(b);
        }
        t = next;
    }
    out
}

fn around(rule: &TzRule, t: i64) -> Value {
    let offsets = [t - 1, t, t + 1].map(|x| rule.offset_at(x).minutes());
    let days = [t - 1, t, t + 1].map(|x| rule.local_day(x));
    json!({"at": t, "offsets_minutes": offsets, "local_days": days})
}

/// One rule in one year.
fn year(rule: &TzRule, (lo, hi, leap): (i64, i64, bool)) -> Value {
    let found = changes(rule, lo, hi);
    let mut days: Vec<i64> = found
        .iter()
        .flat_map(|&c| {
            let d = rule.local_day(c);
            [d - 1, d, d + 1]
        })
        .collect();
    days.sort_unstable();
    days.dedup();
    let day_starts: Vec<Value> = days
        .iter()
        .map(|&d| {
            let s = rule.day_start(d);
            let after = [s - 1, s, s + 1].map(|x| rule.first_day_starting_at_or_after(x));
            json!({"day": d, "start": s, "first_day_starting_at_or_after": after})
        })
        .collect();
    json!({
        "year_start": around(rule, lo),
        "leap": leap,
        "changes": found.iter().map(|&c| around(rule, c)).collect::<Vec<_>>(),
        "days": day_starts,
    })
}

/// The file.
pub(super) fn vectors() -> Value {
    let rules: Vec<Value> = crate::v2::TZ_RULES
        .iter()
        .chain(&RULES)
        .map(|text| {
            let rule = TzRule::parse(text.as_bytes()).unwrap();
            json!({
                "rule": text,
                "shown": rule.to_string(),
                "bytes": hex(&rule.to_bytes()),
                "years": YEARS.map(|y| year(&rule, y)),
            })
        })
        .collect();
    json!({"rules": rules})
}

/// What the file claims: each change is one (the offsets before and at it
/// differ, the second after it agrees with it), a rule with DST changes
/// only with DST, a day starts at `start` (the first day at or after
/// `start` is that day, at `start + 1` the next), and the shown rule
/// parses back to the same bytes.
pub(super) fn assert_changes(file: &Value) {
    let mut changes = 0;
    for r in file["rules"].as_array().unwrap() {
        let shown = TzRule::parse(r["shown"].as_str().unwrap().as_bytes()).unwrap();
        assert_eq!(hex(&shown.to_bytes()), r["bytes"], "{}", r["rule"]);
        for y in r["years"].as_array().unwrap() {
            let found = y["changes"].as_array().unwrap();
            assert!(found.is_empty() || shown.has_dst(), "{}", r["rule"]);
            for c in found {
                let o = &c["offsets_minutes"];
                assert_ne!(o[0], o[1], "{} {}", r["rule"], c["at"]);
                assert_eq!(o[1], o[2], "{} {}", r["rule"], c["at"]);
                changes += 1;
            }
            for d in y["days"].as_array().unwrap() {
                let after = &d["first_day_starting_at_or_after"];
                assert_eq!(after[1], d["day"]);
                assert_eq!(after[0], d["day"]);
                assert_eq!(after[2].as_i64().unwrap(), d["day"].as_i64().unwrap() + 1);
            }
        }
    }
    assert!(changes >= 40, "{changes}");
}
