//! Arbitrary bytes as a lock's time-zone rule, as POSIX TZ text and as its
//! 21-byte encoding (`docs/FORMAT.md` §9). Parsing and decoding never
//! panic; a rule the text parser accepts displays as a string that parses
//! back to the same rule, encodes to 21 bytes that decode back to it, and
//! keeps DST within the 2-hour limit; 21 bytes that decode re-encode to
//! themselves; and wherever jiff (the server's time-zone library) reads
//! the same text, or offpin's display of it, as a POSIX TZ string, the two
//! agree on the UTC offset on both sides of every transition jiff finds in
//! a few years derived from the input (leap and common years, a century
//! that is not a leap year), and at every month's middle.

#![no_main]

use jiff::Timestamp;
use jiff::tz::TimeZone;
use libfuzzer_sys::fuzz_target;
use offpin::tz::{DST_SHIFT_MAX_SECS, TZ_RULE_LEN, TzRule};

/// 1970-01-01 day number of January 1 of `y` (proleptic Gregorian).
fn year_start(y: i64) -> i64 {
    let y1 = y - 1;
    let days = 365 * (y - 1970) + (y1.div_euclid(4) - 1969 / 4) - (y1.div_euclid(100) - 1969 / 100)
        + (y1.div_euclid(400) - 1969 / 400);
    days * 86_400
}

/// The years to compare in: fixed ones (a leap year, a common year, 2100
/// which is not a leap year, 2000 which is) and one from the input.
fn years(data: &[u8]) -> [i64; 5] {
    let h = data
        .iter()
        .fold(17u32, |h, b| h.wrapping_mul(31).wrapping_add(u32::from(*b)));
    [2024, 2025, 2100, 2000, 1900 + i64::from(h % 400)]
}

fn agree_with_jiff(rule: &TzRule, text: &str, data: &[u8]) {
    let Ok(tz) = TimeZone::posix(text) else {
        return;
    };
    let jiff_minutes = |t: i64| -> Option<i32> {
        Timestamp::from_second(t)
            .ok()
            .map(|ts| tz.to_offset(ts).seconds() / 60)
    };
    for y in years(data) {
        let (from, to) = (year_start(y), year_start(y + 1));
        let Ok(start) = Timestamp::from_second(from - 1) else {
            continue;
        };
        let mut instants: Vec<i64> = tz
            .following(start)
            .map(|t| t.timestamp().as_second())
            .take_while(|t| *t <= to)
            .take(8)
            .flat_map(|t| [t - 1, t, t + 1])
            .collect();
        instants.extend((0..12).map(|m| from + m * 30 * 86_400 + 15 * 86_400));
        instants.extend([from, from - 1, to - 1]);
        for t in instants {
            if let Some(theirs) = jiff_minutes(t) {
                assert_eq!(
                    rule.offset_at(t).minutes(),
                    theirs,
                    "{text:?} ({rule}) at {t}"
                );
            }
        }
    }
}

fn check_rule(rule: &TzRule, data: &[u8]) {
    let shown = rule.to_string();
    assert_eq!(TzRule::parse(shown.as_bytes()), Ok(*rule), "{shown}");
    let bytes = rule.to_bytes();
    assert_eq!(TzRule::from_bytes(&bytes), Ok(*rule), "{shown}");
    assert!(rule.dst_shift_secs() <= DST_SHIFT_MAX_SECS, "{shown}");
    assert_eq!(rule.has_dst(), rule.dst().is_some());
    agree_with_jiff(rule, &shown, data);
}

fuzz_target!(|data: &[u8]| {
    if let Ok(rule) = TzRule::parse(data) {
        check_rule(&rule, data);
        if let Ok(text) = std::str::from_utf8(data) {
            agree_with_jiff(&rule, text, data);
        }
    } else if let Err(e) = TzRule::parse(data) {
        assert!(!e.to_string().is_empty());
    }
    if let Some(Ok(bytes)) = data.get(..TZ_RULE_LEN).map(<[u8; TZ_RULE_LEN]>::try_from) {
        match TzRule::from_bytes(&bytes) {
            Ok(rule) => {
                assert_eq!(rule.to_bytes(), bytes);
                check_rule(&rule, data);
            }
            Err(e) => assert!(!e.to_string().is_empty()),
        }
    }
});
