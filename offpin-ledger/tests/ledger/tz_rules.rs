//! The lock's POSIX TZ rules (`offpin::tz`) against jiff, the server's
//! time-zone library: offsets at every transition, and the start of every
//! local day, for every zone of the bundled database and many years.

use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use offpin::tz::TzRule;
use offpin_ledger::zone::Zone;

const DAY: i64 = 86_400;

fn days_since_1970(d: Date) -> i64 {
    d.to_zoned(TimeZone::UTC).unwrap().timestamp().as_second() / DAY
}

/// jiff's offset of `tz` at `t`, in minutes.
fn jiff_minutes(tz: &TimeZone, t: i64) -> i32 {
    tz.to_offset(Timestamp::from_second(t).unwrap()).seconds() / 60
}

/// Instants where `tz` changes offset in `[from, to)`, by jiff.
fn transitions(tz: &TimeZone, from: i64, to: i64) -> Vec<i64> {
    tz.following(Timestamp::from_second(from).unwrap())
        .map(|t| t.timestamp().as_second())
        .take_while(|t| *t < to)
        .collect()
}

/// The instant local day `day` starts in `tz`, by jiff (its
/// `start_of_day`: the end of a gap at midnight, the first of two
/// midnights).
fn jiff_day_start(tz: &TimeZone, day: i64) -> i64 {
    let date = Date::constant(1970, 1, 1)
        .checked_add(jiff::Span::new().days(day))
        .unwrap();
    date.to_zoned(tz.clone())
        .unwrap()
        .start_of_day()
        .unwrap()
        .timestamp()
        .as_second()
}

/// Every zone of the bundled database: its footer parses, and either the
/// rule gives jiff's offset (of the zone itself, and of jiff's own reading
/// of the footer) around every transition from 2025 to 2045, plus noon of
/// every month, or the zone is refused as changing its rules, at an
/// instant where the two really disagree.
#[test]
fn every_zone_footer_gives_jiffs_offsets() {
    let (from, to) = (
        Date::constant(2025, 1, 1)
            .to_zoned(TimeZone::UTC)
            .unwrap()
            .timestamp()
            .as_second(),
        Date::constant(2045, 1, 1)
            .to_zoned(TimeZone::UTC)
            .unwrap()
            .timestamp()
            .as_second(),
    );
    let mut zones = 0;
    let mut with_dst = 0;
    let mut changing = Vec::new();
    let mut checked = 0u64;
    for name in jiff::tz::db().available() {
        let name = name.as_str();
        let Ok(zone) = Zone::get(name) else { continue };
        let tz = jiff::tz::db().get(name).unwrap();
        let rule = match zone.tz_rule_from(from) {
            Ok(rule) => rule,
            Err(offpin_ledger::zone::ZoneError::RuleChanges { footer, at, .. }) => {
                let rule = TzRule::parse(footer.as_bytes()).unwrap();
                assert!(at >= from, "{name}");
                assert_ne!(
                    rule.offset_at(at).minutes(),
                    jiff_minutes(&tz, at),
                    "{name} at {at}"
                );
                changing.push(name.to_owned());
                continue;
            }
            Err(e) => panic!("{name}: {e}"),
        };
        zones += 1;
        with_dst += usize::from(rule.has_dst());
        let posix = TimeZone::posix(&rule.to_string()).unwrap();
        let mut instants: Vec<i64> = transitions(&tz, from, to)
            .into_iter()
            .flat_map(|t| [t - 3_601, t - 1, t, t + 1, t + 3_599])
            .collect();
        instants.extend((0..240).map(|m| from + m * 30 * DAY + 43_200));
        for t in instants {
            let ours = rule.offset_at(t).minutes();
            assert_eq!(ours, jiff_minutes(&tz, t), "{name} ({rule}) at {t}");
            assert_eq!(ours, jiff_minutes(&posix, t), "{name} ({rule}) at {t}");
            checked += 1;
        }
    }
    println!(
        "{zones} zones keep their rule from 2025 ({with_dst} with DST); changing: {changing:?}"
    );
    assert!(
        zones > 400 && with_dst > 50,
        "{zones} zones, {with_dst} with DST"
    );
    assert!(changing.len() < 20, "{changing:?}");
    assert!(checked > 100_000, "{checked}");
}

/// The zones the brief names, and the odd rules (negative DST, `/25`,
/// `/-1`, half-hour DST, permanent DST): every local day of several
/// years starts where jiff says, and our rule agrees with jiff's reading
/// of the same POSIX string at every transition over four centuries.
#[test]
fn local_days_start_where_jiff_says() {
    let zones = [
        "Europe/Paris",
        "America/New_York",
        "Australia/Sydney",
        "Asia/Kolkata",
        "America/Sao_Paulo",
        "Europe/Dublin",
        "America/Nuuk",
        "Australia/Lord_Howe",
        "Antarctica/Troll",
        "Pacific/Chatham",
        "America/Havana",
        "Asia/Gaza",
        "Africa/Casablanca",
        "America/Santiago",
        "Pacific/Auckland",
    ];
    for name in zones {
        let zone = Zone::get(name).unwrap();
        // 2100: after every change the database lists for these zones.
        let rule = zone.tz_rule_from(4_102_444_800).unwrap();
        let tz = TimeZone::posix(&rule.to_string()).unwrap();
        for year in [2026i16, 2027, 2030, 2038, 2100] {
            let first = days_since_1970(Date::new(year, 1, 1).unwrap());
            for day in first - 1..first + 367 {
                assert_eq!(
                    rule.day_start(day),
                    jiff_day_start(&tz, day),
                    "{name} ({rule}): local day {day} of {year}"
                );
            }
        }
    }
    for text in [
        "IST-1GMT0,M10.5.0,M3.5.0/1",
        "<-02>2<-01>,M3.5.0/-1,M10.5.0/0",
        "EST5EDT,0/0,J365/25",
        "XXX-2<+01>-1,0/0,J365/23",
        "<+00>0<+02>-2,M3.5.0/1,M10.5.0/3",
        "<+1030>-10:30<+11>-11,M10.1.0,M4.1.0",
        "<-03>3<-02>,M11.1.0/0,M2.3.0/0",
        "<-03>3<-02>,M11.1.0/0,M2.3.0/1",
        "AAA3BBB,J60/1:30:15,300/-100",
        "AAA-14BBB-13,M1.1.0/0,M12.5.6/24",
        "AAA3BBB,365/2,J1/4",
    ] {
        let rule = TzRule::parse(text.as_bytes()).unwrap();
        let tz = TimeZone::posix(text).unwrap();
        let (from, to) = (-2_000_000_000i64, 12_000_000_000i64);
        let mut n = 0;
        for t in transitions(&tz, from, to) {
            for x in [t - 1, t, t + 1] {
                assert_eq!(
                    rule.offset_at(x).minutes(),
                    jiff_minutes(&tz, x),
                    "{text} at {x}"
                );
            }
            n += 1;
        }
        // Every day around the transitions of a few years.
        for year in [1999i16, 2024, 2025, 2200] {
            let first = days_since_1970(Date::new(year, 1, 1).unwrap());
            for day in first - 2..first + 368 {
                assert_eq!(
                    rule.day_start(day),
                    jiff_day_start(&tz, day),
                    "{text}: day {day}"
                );
            }
        }
        assert!(
            n > 0 || !rule.has_dst() || text.contains("J365"),
            "{text}: no transitions"
        );
    }
}

/// Random instants: offset, local day and "first day starting at or
/// after" are consistent with the day starts.
#[test]
fn day_starts_and_local_days_agree() {
    let rules = [
        "CET-1CEST,M3.5.0,M10.5.0/3",
        "AEST-10AEDT,M10.1.0,M4.1.0/3",
        "<-03>3<-02>,M11.1.0/0,M2.3.0/1",
        // Fixed offsets take the closed form.
        "UTC0",
        "<+0530>-5:30",
        "<-0930>9:30",
    ];
    for text in rules {
        let rule = TzRule::parse(text.as_bytes()).unwrap();
        let mut t = 1_700_000_000i64;
        for _ in 0..20_000 {
            t += 7_919;
            let d = rule.first_day_starting_at_or_after(t);
            assert!(rule.day_start(d) >= t, "{text} {t}");
            assert!(rule.day_start(d - 1) < t, "{text} {t}");
            let local = rule.local_day(t);
            assert!(rule.day_start(local) <= t, "{text} {t}");
        }
    }
}

/// The DST shift limit (2 hours, `TzError::DstShiftOutOfRange`) refuses
/// no real zone: every footer of the bundled database that offpin
/// otherwise accepts parses, the largest shift is 2 hours
/// (`Antarctica/Troll`), and every shipped profile covers every one of
/// them. Also counted: the zones whose rule turns the clocks back over
/// local midnight (none, see `tests/wmax_dst_rules.rs`).
#[test]
fn every_zone_is_within_the_dst_shift_limit() {
    use offpin::tz::{DST_SHIFT_MAX_SECS, TzError};
    use offpin_ledger::zone::ZoneError;
    let (from, to) = (1_735_689_600, 1_830_297_600); // 2025..2028
    let mut largest = (0, String::new());
    let mut rules = 0;
    let mut back_over_midnight = Vec::new();
    for name in jiff::tz::db().available() {
        let name = name.as_str();
        let Ok(zone) = Zone::get(name) else { continue };
        let footer = match zone.tz_rule_from(from) {
            Ok(rule) => rule.to_string(),
            Err(ZoneError::RuleChanges { footer, .. } | ZoneError::NoRule { footer, .. }) => footer,
            Err(e) => panic!("{name}: {e}"),
        };
        let rule = match TzRule::parse(footer.as_bytes()) {
            Ok(rule) => rule,
            Err(e) => {
                assert_ne!(e, TzError::DstShiftOutOfRange, "{name}: {footer}");
                continue;
            }
        };
        rules += 1;
        if rule.dst_shift_secs() > largest.0 {
            largest = (rule.dst_shift_secs(), name.to_owned());
        }
        for p in offpin::profile::shipped::ALL {
            assert!(p.covers_rule(&rule), "{} {name}", p.name());
        }
        let tz = TimeZone::posix(&rule.to_string()).unwrap();
        if transitions(&tz, from, to)
            .into_iter()
            .any(|c| rule.local_day(c) < rule.local_day(c - 1))
        {
            back_over_midnight.push(name.to_owned());
        }
    }
    println!(
        "{rules} zone rules; largest DST shift {largest:?}; back over midnight: {back_over_midnight:?}"
    );
    assert_eq!(largest, (DST_SHIFT_MAX_SECS, "Antarctica/Troll".to_owned()));
    assert!(rules > 400, "{rules}");
    assert_eq!(back_over_midnight, Vec::<String>::new());
}
