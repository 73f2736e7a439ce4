use super::calendar::{days_from_civil, weekday_sunday0, year_of_day};
use super::*;

fn rule(s: &str) -> TzRule {
    TzRule::parse(s.as_bytes()).unwrap()
}

#[test]
fn civil_dates_round_trip() {
    for days in (-800_000i64..800_000).step_by(97) {
        let y = year_of_day(days);
        assert!(days_from_civil(y, 1, 1) <= days && days < days_from_civil(y + 1, 1, 1));
    }
    assert_eq!(days_from_civil(1970, 1, 1), 0);
    assert_eq!(days_from_civil(2024, 1, 1), 19_723);
    assert_eq!(weekday_sunday0(19_723), 1, "2024-01-01 was a Monday");
}

#[test]
fn rules_parse_and_display_round_trip() {
    for text in [
        "CET-1CEST,M3.5.0,M10.5.0/3",
        "EST5EDT,M3.2.0,M11.1.0",
        "AEST-10AEDT,M10.1.0,M4.1.0/3",
        "IST-5:30",
        "<-03>3",
        "IST-1GMT0,M10.5.0,M3.5.0/1",
        "<+1030>-10:30<+11>-11,M10.1.0,M4.1.0",
        "<-02>2<-01>,M3.5.0/-1,M10.5.0/0",
        "EST5EDT,0/0,J365/25",
        "<+00>0<+02>-2,M3.5.0/1,M10.5.0/3",
        "XXX-2<+01>-1,0/0,J365/23",
        "AAA3BBB,J60/1:30:15,300/-167",
    ] {
        let r = rule(text);
        let shown = std::format!("{r}");
        assert_eq!(rule(&shown), r, "{text} -> {shown}");
        assert_eq!(TzRule::from_bytes(&r.to_bytes()), Ok(r), "{text}");
    }
    for bad in [
        "",
        "CE-1",
        "CET",
        "CET-1CEST",
        "CET-1CEST,M3.5.0",
        "CET-1CEST,M13.5.0,M10.5.0",
        "CET-1CEST,M3.6.0,M10.5.0",
        "CET-1CEST,M3.5.7,M10.5.0",
        "CET-1CEST,J0,J365",
        "CET-1CEST,366,J365",
        "CET-15",
        "CET-1:00:30",
        "CET-1 ",
        "<+0>0",
        "CET-1CEST,M3.5.0/168,M10.5.0",
    ] {
        assert!(TzRule::parse(bad.as_bytes()).is_err(), "{bad:?}");
    }
    // The DST shift: 2 hours either way, not a minute more.
    for (text, shift) in [
        ("<+00>0<+02>-2,M3.5.0/1,M10.5.0/3", Ok(7_200)),
        ("AAA0BBB2,M3.5.0,M10.5.0", Ok(7_200)),
        (
            "AAA0BBB-2:01,M3.5.0,M10.5.0",
            Err(TzError::DstShiftOutOfRange),
        ),
        ("AAA0BBB1:59,M3.5.0,M10.5.0", Ok(7_140)),
        (
            "AAA0BBB2:01,M3.5.0,M10.5.0",
            Err(TzError::DstShiftOutOfRange),
        ),
        (
            "AAA12BBB-12,M3.5.0/12,M10.5.0/3",
            Err(TzError::DstShiftOutOfRange),
        ),
        ("AAA-13BBB-14,M3.5.0,M10.5.0", Ok(3_600)),
    ] {
        let parsed = TzRule::parse(text.as_bytes());
        assert_eq!(parsed.map(|r| r.dst_shift_secs()), shift, "{text}");
    }
}

#[test]
fn paris_days_follow_the_rule() {
    let paris = rule("CET-1CEST,M3.5.0,M10.5.0/3");
    // 2025-03-30 (spring) and 2025-10-26 (autumn), days since 1970.
    let spring = days_from_civil(2025, 3, 30);
    let autumn = days_from_civil(2025, 10, 26);
    assert_eq!(paris.day_start(spring), spring * DAY - 3_600);
    assert_eq!(paris.day_start(spring + 1), (spring + 1) * DAY - 7_200);
    assert_eq!(
        paris.day_start(autumn + 1) - paris.day_start(autumn),
        25 * 3_600
    );
    // 01:00 UTC on the spring day is 03:00 CEST.
    let at = spring * DAY + 3_600;
    assert_eq!(paris.offset_at(at).minutes(), 120);
    assert_eq!(paris.offset_at(at - 1).minutes(), 60);
    assert_eq!(paris.first_day_starting_at_or_after(at), spring + 1);
    assert_eq!(
        paris.first_day_starting_at_or_after(paris.day_start(spring)),
        spring
    );
}

/// A zone whose clocks jump over midnight: the day starts at the end
/// of the gap; one that falls back over midnight: at the first one.
#[test]
fn midnight_gaps_and_folds() {
    // DST from the first Sunday of November at 00:00 (to 01:00).
    let r = rule("<-03>3<-02>,M11.1.0/0,M2.3.0/0");
    let day = days_from_civil(2025, 11, 2);
    // Local midnight does not exist: the day starts at 00:00 -03 =
    // 03:00 UTC, when the clocks show 01:00 -02.
    assert_eq!(r.day_start(day), day * DAY + 3 * 3_600);
    assert_eq!(r.local_day(r.day_start(day)), day);
    assert_eq!(r.local_day(r.day_start(day) - 1), day - 1);
    // DST ends on the third Sunday of February at 00:00 -02: the
    // clocks fall back to 23:00, so the 14th is 25 hours long.
    let end = days_from_civil(2026, 2, 15);
    assert_eq!(r.day_start(end), end * DAY + 3 * 3_600);
    assert_eq!(r.day_start(end) - r.day_start(end - 1), 25 * 3_600);
    // Ending at 01:00 -02 instead, midnight happens twice: the day
    // starts at the first, and the second belongs to a started day.
    let r = rule("<-03>3<-02>,M11.1.0/0,M2.3.0/1");
    assert_eq!(r.day_start(end), end * DAY + 2 * 3_600);
    assert_eq!(r.day_start(end + 1) - r.day_start(end), 25 * 3_600);
    assert_eq!(
        r.first_day_starting_at_or_after(end * DAY + 3 * 3_600),
        end + 1
    );
}
