//! Format v2's vectors, in `tests/vectors/v2/`: profiles, issue, decode,
//! service codes and TZ rules, and v1 and v2 PINs typed at a v2-capable
//! lock.

use super::*;
use crate::totp::{code_at, otpauth_uri};
use offpin::lock::{Decision, Lock};
use offpin::profile::shipped::V2;
use offpin::recurring::{Hours, Weekdays};
use offpin::service::ServiceSecret;
use offpin::{Profile, Refusal};

/// The lock's rule in the v2 vectors: Paris (from its IANA zone's TZif
/// footer, `Zone::tz_rule_from`).
pub(crate) const PARIS: TzRule = match TzRule::parse(b"CET-1CEST,M3.5.0,M10.5.0/3") {
    Ok(r) => r,
    Err(_) => panic!("rule"),
};

/// The extension fields of a profile, as JSON (null when absent).
pub(crate) fn extensions_json(p: &Profile) -> Value {
    let params = p.params();
    let menu = params.recurring;
    let recurring = menu.is_enabled().then(|| {
        json!({
            "days": menu.days.iter().map(|d| d.0).collect::<Vec<_>>(),
            "hours": menu.hours.iter().map(|h| [h.from, h.to]).collect::<Vec<_>>(),
            "max_weeks": menu.max_weeks,
        })
    });
    let clock = params.clock_codes;
    let clock = clock.is_enabled().then(
        || json!({"unit_minutes": clock.unit_minutes, "max_step_hours": clock.max_step_hours}),
    );
    let service = params.service_codes;
    let service = service.is_enabled().then(|| {
        json!({
            "digits": service.digits,
            "step_secs": service.step_secs,
            "skew_steps": service.skew_steps,
        })
    });
    json!({"recurring": recurring, "clock_codes": clock, "service_codes": service})
}

/// A version-2 profile as the `profiles` files state it (also the
/// custom profiles of the edge vectors, `tests/edges/`).
pub(crate) fn profile_v2_json(p: &Profile) -> Value {
    let params = p.params();
    let layout: Vec<Value> = Kind::ALL
        .iter()
        .map(|k| json!({"kind": k.name(), "count": p.kind_count(*k)}))
        .collect();
    let s = p.security();
    json!({
        "name": p.name(),
        "format": p.format().number(),
        "radix": params.radix.value(),
        "digits": params.digits,
        "epoch": params.epoch,
        "lifetime_days": params.lifetime_days,
        "variances": params.variances,
        "lineages": params.lineages,
        "hourly_max_hours": params.hourly_max_hours,
        "daily_max_days": params.daily_max_days,
        "one_time_use_hours": params.one_time_use_hours,
        "ongoing_slots": params.ongoing_slots,
        "revocation": params.revocation,
        "activation_hours": params.activation_hours,
        "grace_secs": params.grace_secs,
        "extensions": extensions_json(p),
        "canonical": hex(p.canonical_bytes().as_bytes()),
        "tweak": hex(&p.tweak()),
        "layout": layout,
        "grant_count": p.grant_count(),
        "domain": p.domain(),
        "w_max": s.w_max,
        "max_by_kind": {
            "hourly": s.max_by_kind.hourly,
            "daily": s.max_by_kind.daily,
            "one_time": s.max_by_kind.one_time,
            "ongoing": s.max_by_kind.ongoing,
            "recurring": s.max_by_kind.recurring,
            "clock_set": s.max_by_kind.clock_set,
        },
        "remembered": s.remembered,
    })
}

fn profiles_v2_vectors() -> Value {
    let profiles: Vec<Value> = V2.iter().map(profile_v2_json).collect();
    json!({"profiles": profiles})
}

/// The v2 requests: v1's (with the lock's DST rule), recurring and
/// clock-setting ones, and the refusals the issuer names.
fn requests_v2() -> Vec<(&'static str, Request)> {
    // 2026-03-01T23:00:00Z: Monday 2 March 2026, 00:00 in Paris (week 113).
    let monday = 1_772_406_000;
    let mut out: Vec<(&'static str, Request)> = requests(UtcOffset::from_minutes(60).unwrap())
        .into_iter()
        .map(|(what, r)| (what, r.with_zone(PARIS)))
        .collect();
    out.extend([
        (
            "35 days over the spring change, local midnight to local midnight",
            Request::time_bound(
                PARIS.day_start(PARIS.local_day(monday) + 14),
                PARIS.day_start(PARIS.local_day(monday) + 49),
            )
            .with_zone(PARIS),
        ),
        (
            "40 nights over the autumn change, in the lock's rule",
            Request::time_bound(1_792_533_600, 1_792_533_600 + 40 * DAY)
                .with_zone(PARIS)
                .with_max_rounding_secs(86_400),
        ),
        (
            "recurring: weekdays 08-12 for a quarter",
            Request::recurring(monday, 13, Weekdays::WEEKDAYS, Hours::new(8, 12)).with_zone(PARIS),
        ),
        (
            "recurring: Mon/Wed/Fri 09-17 for 4 weeks, variance 2",
            Request::recurring(monday, 4, Weekdays::MON_WED_FRI, Hours::new(9, 17))
                .with_variance(2)
                .with_zone(PARIS),
        ),
        (
            "recurring: weekends all day, from a Wednesday",
            Request::recurring(
                monday + 2 * 86_400,
                2,
                Weekdays::WEEKENDS,
                Hours::new(0, 24),
            )
            .with_zone(PARIS)
            .with_max_rounding_secs(7 * 86_400),
        ),
        (
            "recurring: not in the menu (Mon-Thu 09-13)",
            Request::recurring(monday, 4, Weekdays(0b000_1111), Hours::new(9, 13)).with_zone(PARIS),
        ),
        (
            "recurring: longer than the menu's 13 weeks",
            Request::recurring(monday, 14, Weekdays::WEEKDAYS, Hours::new(8, 12)).with_zone(PARIS),
        ),
        (
            "recurring: from a Wednesday, no rounding allowed",
            Request::recurring(
                monday + 2 * 86_400,
                2,
                Weekdays::WEEKENDS,
                Hours::new(0, 24),
            )
            .with_zone(PARIS),
        ),
        (
            "clock set to 2026-03-02 10:00 Paris",
            Request::clock_set(monday + 10 * 3_600).with_zone(PARIS),
        ),
        (
            "clock set, rounded down to 10 minutes",
            Request::clock_set(monday + 10 * 3_600 + 7 * 60 + 30)
                .with_zone(PARIS)
                .with_max_rounding_secs(600),
        ),
        (
            "clock set, not on the grid",
            Request::clock_set(monday + 10 * 3_600 + 7 * 60).with_zone(PARIS),
        ),
    ]);
    out
}

pub(crate) fn issued_json(p: &Profile, out: Result<offpin::Issued, offpin::IssueError>) -> Value {
    match out {
        Ok(issued) => json!({
            "pin": issued.pin.as_str(),
            "index": p.index_of(&issued.plan.grant).unwrap(),
            "grant": grant_json(&issued.plan.grant),
            "window": window_json(issued.plan.window),
            "effective_at": issued.plan.effective_at,
        }),
        Err(e) => json!({"error": e.to_string(), "error_code": e.code()}),
    }
}

fn issue_v2_vectors() -> Value {
    let m = master();
    let key = m.derive_device_key(DEVICE_ID.as_bytes(), 0).unwrap();
    let mut cases = Vec::new();
    for p in V2 {
        let codec = Codec::new(&key, p).unwrap();
        for (what, req) in requests_v2() {
            cases.push(json!({
                "profile": p.name(),
                "case": what,
                "request": request_json_of(&req, true),
                "result": issued_json(&p, codec.issue(&req)),
            }));
        }
    }
    json!({
        "master_key": hex(m.expose_secret()),
        "device_id": DEVICE_ID,
        "generation": 0,
        "cases": cases,
    })
}

/// Instants at which the v2 decode vectors check each issued PIN: the v1
/// set, and the recurring codes' and clock codes' edges.
fn decode_times_v2() -> Vec<i64> {
    let t = EPOCH_2024 + 700 * DAY;
    let monday = 1_772_406_000;
    let g = 600;
    vec![
        t - DAY,
        t + 15 * HOUR,
        t + 17 * HOUR,
        t + 2 * DAY,
        t + 30 * DAY,
        monday - DAY,
        monday + 8 * HOUR - g - 1,
        monday + 8 * HOUR - g,
        monday + 10 * HOUR - 1,
        monday + 12 * HOUR + g - 1,
        monday + 12 * HOUR + g,
        monday + 5 * DAY + 10 * HOUR,
        monday + 28 * DAY - HOUR + 8 * HOUR,
        monday + 28 * DAY - HOUR + 12 * HOUR + 30 * 60,
        monday + 91 * DAY + 9 * HOUR,
    ]
}

fn decode_v2_vectors() -> Value {
    let key = master().derive_device_key(DEVICE_ID.as_bytes(), 0).unwrap();
    let mut cases = Vec::new();
    for p in V2 {
        let codec = Codec::new(&key, p).unwrap();
        for (what, req) in requests_v2() {
            let Ok(issued) = codec.issue(&req) else {
                continue;
            };
            let pin = issued.pin.as_str().to_owned();
            for now in decode_times_v2() {
                cases.push(decode_case_of(&codec, PARIS, true, what, &pin, now));
            }
            cases.push(decode_case_of(
                &codec,
                PARIS,
                true,
                "one digit changed",
                &tamper(&pin, 3, false),
                1_772_406_000 + 9 * HOUR,
            ));
        }
        for (what, input) in [
            ("empty", String::new()),
            ("too short", "1".repeat(usize::from(p.digits()) - 1)),
            (
                "letters",
                "12ab".repeat(5)[..usize::from(p.digits())].to_owned(),
            ),
        ] {
            cases.push(decode_case_of(
                &codec,
                PARIS,
                true,
                what,
                &input,
                1_772_406_000,
            ));
        }
    }
    json!({
        "master_key": hex(master().expose_secret()),
        "device_id": DEVICE_ID,
        "generation": 0,
        "cases": cases,
    })
}

/// Service codes: the device's secret, the code at several instants (the
/// lock accepts the current counter ±skew, each once).
fn service_v2_vectors() -> Value {
    let key = master().derive_device_key(DEVICE_ID.as_bytes(), 0).unwrap();
    let secret = ServiceSecret::derive(&key);
    let mut profiles = Vec::new();
    for p in V2 {
        let codes = p.params().service_codes;
        let mut cases = Vec::new();
        for t in [
            EPOCH_2024 + 700 * DAY,
            1_772_406_000 + 10 * HOUR + 7,
            1_772_406_000 + 10 * HOUR + 29,
            2_000_000_000,
        ] {
            let counter = t / i64::from(codes.step_secs);
            let mut lock = Lock::<16>::new(Codec::new(&key, p).unwrap(), PARIS).unwrap();
            lock.commit(lock.observe_clock(t)).unwrap();
            let code = code_at(&secret, codes, t).unwrap();
            let first = lock.check(code.as_bytes(), t);
            lock.commit(first.change).unwrap();
            let second = lock.check(code.as_bytes(), t);
            let decision = |d: Decision| match d {
                Decision::Service { counter } => json!({"verdict": "open", "counter": counter}),
                Decision::Refuse(r) => json!({"verdict": "refuse", "reason": r.code()}),
                other => panic!("{other:?}"),
            };
            cases.push(json!({
                "now": t,
                "counter": counter,
                "code": code,
                "first_entry": decision(first.decision),
                "second_entry": decision(second.decision),
            }));
        }
        profiles.push(json!({
            "profile": p.name(),
            "secret": hex(secret.expose_secret()),
            "secret_base32": String::from_utf8(secret.base32().to_vec()).unwrap(),
            "otpauth_uri": otpauth_uri(&secret, codes, "offpin", DEVICE_ID).unwrap(),
            "cases": cases,
        }));
    }
    json!({
        "master_key": hex(master().expose_secret()),
        "device_id": DEVICE_ID,
        "generation": 0,
        "device_key": hex(key.expose_secret()),
        "profiles": profiles,
    })
}

/// The rules of `tz_rules.json` (committed: never change the list),
/// also the first rules of the edge vectors (`edges/tz.rs`).
pub(crate) const TZ_RULES: [&str; 10] = [
    "CET-1CEST,M3.5.0,M10.5.0/3",
    "EST5EDT,M3.2.0,M11.1.0",
    "AEST-10AEDT,M10.1.0,M4.1.0/3",
    "IST-5:30",
    "<-03>3",
    "IST-1GMT0,M10.5.0,M3.5.0/1",
    "<+1030>-10:30<+11>-11,M10.1.0,M4.1.0",
    "<-02>2<-01>,M3.5.0/-1,M10.5.0/0",
    "EST5EDT,0/0,J365/25",
    "<-03>3<-02>,M11.1.0/0,M2.3.0/1",
];

/// TZ rules: their encoding, the offset at instants around their
/// transitions, and the start of local days around them.
fn tz_rules_vectors() -> Value {
    let mut rules = Vec::new();
    for text in TZ_RULES {
        let rule = TzRule::parse(text.as_bytes()).unwrap();
        let mut offsets = Vec::new();
        let mut days = Vec::new();
        for year_start in [1_767_225_600i64, 1_798_761_600] {
            // 2026, 2027: every 10 days at noon UTC.
            for d in (0..365).step_by(10) {
                let t = year_start + d * DAY + 12 * HOUR;
                offsets.push(json!([t, rule.offset_at(t).minutes()]));
            }
            for d in (0..365).step_by(5) {
                let day = year_start / DAY + d;
                days.push(json!([day, rule.day_start(day)]));
            }
        }
        rules.push(json!({
            "rule": text,
            "bytes": hex(&rule.to_bytes()),
            "shown": rule.to_string(),
            "offsets_minutes_at": offsets,
            "local_day_starts": days,
        }));
    }
    json!({"rules": rules})
}

#[test]
fn profile_v2_vectors() {
    check_file("v2/profiles.json", profiles_v2_vectors());
}

#[test]
fn issue_v2_vectors_match() {
    check_file("v2/issue.json", issue_v2_vectors());
}

#[test]
fn decode_v2_vectors_match() {
    check_file("v2/decode.json", decode_v2_vectors());
}

#[test]
fn service_v2_vectors_match() {
    check_file("v2/service.json", service_v2_vectors());
}

#[test]
fn tz_rule_vectors_match() {
    check_file("v2/tz_rules.json", tz_rules_vectors());
}

/// The committed v1 vectors, issued again and then typed at this crate's
/// lock (which checks every kind of format v2 too) built with the v1
/// profiles: each PIN gets the decode vectors' verdict (a fresh lock, so
/// memory-dependent verdicts are those of a lock that remembers nothing).
#[test]
fn v1_pins_open_a_v2_capable_lock() {
    let read = |name: &str| -> Value {
        serde_json::from_str(&std::fs::read_to_string(vector_path(name)).unwrap()).unwrap()
    };
    let master = master();
    let key = master.derive_device_key(DEVICE_ID.as_bytes(), 0).unwrap();
    let issue = read("issue.json");
    let mut issued = 0;
    for case in issue["cases"].as_array().unwrap() {
        let p = V1.iter().find(|p| p.name() == case["profile"]).unwrap();
        let Some(pin) = case["result"]["pin"].as_str() else {
            continue;
        };
        // Issued again from the same request, the PIN is the committed one.
        let grant = Codec::new(&key, *p)
            .unwrap()
            .decode_input(pin.as_bytes())
            .unwrap();
        assert_eq!(
            Codec::new(&key, *p)
                .unwrap()
                .pin_for(&grant)
                .unwrap()
                .as_str(),
            pin
        );
        issued += 1;
    }
    assert!(issued > 30, "{issued}");
    let decode = read("decode.json");
    let mut typed = 0;
    for case in decode["cases"].as_array().unwrap() {
        let p = V1.iter().find(|p| p.name() == case["profile"]).unwrap();
        assert_eq!(p.format(), FormatVersion::V1);
        let offset =
            UtcOffset::from_minutes(case["utc_offset_minutes"].as_i64().unwrap() as i32).unwrap();
        let now = case["now"].as_i64().unwrap();
        let pin = case["pin"].as_str().unwrap();
        let lock = Lock::<16>::new(Codec::new(&key, *p).unwrap(), offset).unwrap();
        let got = lock.check(pin.as_bytes(), now).decision;
        let result = &case["result"];
        let expected = if result.get("error").is_some() {
            Decision::Refuse(Refusal::InvalidCode)
        } else {
            let grant = Codec::new(&key, *p)
                .unwrap()
                .decode_input(pin.as_bytes())
                .unwrap();
            match result["check"]["verdict"].as_str().unwrap() {
                "open" => Decision::Open(grant),
                "open_if_activated" => Decision::Refuse(Refusal::NotActivated),
                "revoke" => match grant {
                    Grant::Revoke(t) => Decision::Revoked(t),
                    other => panic!("{other:?}"),
                },
                "refuse" => {
                    let code = result["check"]["reason"].as_str().unwrap();
                    let reason = [
                        Refusal::NotYetValid,
                        Refusal::Expired,
                        Refusal::Revoked,
                        Refusal::InvalidCode,
                    ]
                    .into_iter()
                    .find(|r| r.code() == code)
                    .unwrap();
                    Decision::Refuse(reason)
                }
                other => panic!("{other}"),
            }
        };
        assert_eq!(got, expected, "{} {} at {now}", p.name(), case["case"]);
        typed += 1;
    }
    assert!(typed > 200, "{typed}");
}

/// The v2 vectors mean what they say: every issued PIN decodes to its
/// grant, recurring codes open exactly inside their local hours, clock
/// codes set the clock within their step, tampered PINs never open.
#[test]
fn v2_pins_decode_and_behave() {
    let key = master().derive_device_key(DEVICE_ID.as_bytes(), 0).unwrap();
    for p in V2 {
        let codec = Codec::new(&key, p).unwrap();
        for (what, req) in requests_v2() {
            let Ok(issued) = codec.issue(&req) else {
                continue;
            };
            assert_eq!(
                codec.decode(&issued.pin).unwrap(),
                issued.plan.grant,
                "{what}"
            );
            match issued.plan.grant {
                Grant::Recurring(r) => {
                    let menu = p.params().recurring;
                    let (days, hours) = (
                        menu.days[usize::from(r.days)],
                        menu.hours[usize::from(r.hours)],
                    );
                    let start = issued.plan.window.unwrap().start;
                    for d in 0..i64::from(r.weeks) * 7 {
                        let midnight = PARIS.day_start(PARIS.local_day(start) + d);
                        let weekday = ((PARIS.local_day(midnight) + 3).rem_euclid(7)) as u8;
                        for h in 0..24 {
                            let at = midnight + h * HOUR + 1_800;
                            let local_hour = (PARIS.local_seconds(at).rem_euclid(DAY) / HOUR) as u8;
                            let inside = days.contains(weekday)
                                && hours.from <= local_hour
                                && local_hour < hours.to;
                            let v = p.check(&issued.plan.grant, at, PARIS);
                            assert_eq!(v.opens(), inside, "{what}: day {d} hour {h}");
                        }
                    }
                }
                Grant::ClockSet { .. } => {
                    let to = issued.plan.effective_at.unwrap();
                    let step = p.params().clock_codes.max_step_secs();
                    assert_eq!(
                        p.check(&issued.plan.grant, to - step, PARIS),
                        Verdict::SetClock { to }
                    );
                    assert_eq!(
                        p.check(&issued.plan.grant, to, PARIS),
                        Verdict::Refuse(Refusal::Expired)
                    );
                    assert_eq!(
                        p.check(&issued.plan.grant, to - step - 1, PARIS),
                        Verdict::Refuse(Refusal::NotYetValid)
                    );
                }
                _ => {}
            }
            for pos in 0..usize::from(p.digits()) {
                let bad = tamper(issued.pin.as_str(), pos, false);
                let lock = Lock::<16>::new(Codec::new(&key, p).unwrap(), PARIS).unwrap();
                let at = issued
                    .plan
                    .window
                    .map_or(p.epoch() + 800 * DAY, |w| w.start + 9 * HOUR);
                assert!(
                    !lock.check(bad.as_bytes(), at).decision.opens() || bad == issued.pin.as_str()
                );
            }
        }
    }
}
