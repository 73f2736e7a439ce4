//! The format's machine-readable vectors (`tests/vectors/*.json`).
//!
//! Each file is generated from the implementation by the functions below
//! and committed. The tests regenerate them and compare with the committed
//! copies, so any change of the format shows up as a failing test.
//! Committed vectors are a contract: a new format gets new files, and
//! `OFFPIN_BLESS=1 cargo test --test vectors` writes only the files that do
//! not exist yet (`OFFPIN_BLESS=v2/` rewrites those whose name starts with
//! `v2/`, for a format under development; never a released one).
//!
//! The issue and decode vectors are also checked *semantically* here (PIN
//! decodes to the grant, tampered PINs are refused), so they cannot be
//! blessed into nonsense.
//!
//! Format v2 has its own files in `tests/vectors/v2/` (profiles, issue,
//! decode, service codes, TZ rules); the v1 files stay as committed, and
//! `v1_pins_open_a_v2_capable_lock` types the v1 vectors' PINs at this
//! crate's lock (which also checks every v2 kind) built with the v1
//! profiles.

#![allow(
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::cast_possible_truncation,
    reason = "test code: a failed unwrap is a failed test"
)]

use std::path::PathBuf;

use offpin::profile::FormatVersion;
use offpin::profile::shipped::{EPOCH_2024, V1};
use offpin::tz::TzRule;
use offpin::{
    Codec, Grant, Kind, MasterKey, Pin, Remember, Request, RevokeTarget, UtcOffset, Verdict, Want,
    Window,
};
use serde_json::{Value, json};

const HOUR: i64 = 3_600;
const DAY: i64 = 86_400;

fn master() -> MasterKey {
    let mut bytes = [0u8; 32];
    for (i, b) in bytes.iter_mut().enumerate() {
        *b = i as u8;
    }
    MasterKey::from_bytes(bytes)
}

const DEVICE_ID: &str = "11111111-1111-1111-1111-444444444444";

fn grant_json(g: &Grant) -> Value {
    match g {
        Grant::Hourly(s) | Grant::Daily(s) => json!({
            "kind": g.kind().name(),
            "start": s.start,
            "length": s.length,
            "variance": s.variance,
            "lineage": s.lineage,
        }),
        Grant::OneTime {
            start_hour,
            variance,
        } => json!({"kind": "one_time", "start": start_hour, "variance": variance}),
        Grant::Ongoing { slot } => json!({"kind": "ongoing", "slot": slot}),
        Grant::Revoke(RevokeTarget::Slot(slot)) => json!({"kind": "revoke_slot", "slot": slot}),
        Grant::Revoke(RevokeTarget::StartedBefore { hour }) => {
            json!({"kind": "revoke_before", "hour": hour})
        }
        Grant::Recurring(r) => json!({
            "kind": "recurring",
            "start_week": r.start_week,
            "weeks": r.weeks,
            "days": r.days,
            "hours": r.hours,
            "variance": r.variance,
        }),
        Grant::ClockSet { at } => json!({"kind": "clock_set", "at": at}),
    }
}

fn window_json(w: Option<Window>) -> Value {
    match w {
        Some(w) => json!({"start": w.start, "end": w.end}),
        None => Value::Null,
    }
}

fn verdict_json(v: &Verdict) -> Value {
    match v {
        Verdict::Open(Remember::Nothing) => json!({"verdict": "open", "remember": null}),
        Verdict::Open(Remember::Activated { until }) => {
            json!({"verdict": "open", "remember": {"activated_until": until}})
        }
        Verdict::Open(Remember::Used { until }) => {
            json!({"verdict": "open", "remember": {"used_until": until}})
        }
        Verdict::OpenIfActivated { until } => {
            json!({"verdict": "open_if_activated", "until": until})
        }
        Verdict::Revoke(t) => {
            json!({"verdict": "revoke", "target": grant_json(&Grant::Revoke(*t))})
        }
        Verdict::SetClock { to } => json!({"verdict": "set_clock", "to": to}),
        Verdict::Refuse(r) => json!({"verdict": "refuse", "reason": r.code()}),
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn keys_vectors() -> Value {
    let m = master();
    let mut cases = Vec::new();
    for (id, generation) in [
        (DEVICE_ID, 0u32),
        (DEVICE_ID, 1),
        ("front-door", 0),
        ("x", 4_294_967_295),
    ] {
        let key = m.derive_device_key(id.as_bytes(), generation).unwrap();
        cases.push(json!({
            "master_key": hex(m.expose_secret()),
            "device_id": id,
            "generation": generation,
            "device_key": hex(key.expose_secret()),
        }));
    }
    json!({"description": "device_key = HMAC-SHA256(master, \"offpin/v1/device-key\" || 0x00 || u8 len || device_id || u32be generation)[0..16]", "cases": cases})
}

/// Group keys (one PIN for several locks): the derivation, and an ongoing
/// code issued under each (it opens every member:
/// `ledger::groups::a_group_pin_opens_every_member_and_no_other_lock`).
#[cfg(feature = "group-keys")]
fn group_key_vectors() -> Value {
    let m = master();
    let mut cases = Vec::new();
    for (id, generation) in [
        ("building-a", 0u32),
        ("building-a", 1),
        (DEVICE_ID, 0),
        ("g", 4_294_967_295),
    ] {
        let key = m.derive_group_key(id.as_bytes(), generation).unwrap();
        let codec = Codec::new(&key, offpin::profile::shipped::STANDARD_10).unwrap();
        let pin = codec.issue(&offpin::Request::ongoing(7)).unwrap().pin;
        cases.push(json!({
            "master_key": hex(m.expose_secret()),
            "group_id": id,
            "generation": generation,
            "group_key": hex(key.expose_secret()),
            "standard_10_ongoing_slot_7": pin.as_str(),
        }));
    }
    json!({"description": "group_key = HMAC-SHA256(master, \"offpin/v1/group-key\" || 0x00 || u8 len || group_id || u32be generation)[0..16]", "cases": cases})
}

fn profiles_vectors() -> Value {
    let profiles: Vec<Value> = V1
        .iter()
        .map(|p| {
            let params = p.params();
            let layout: Vec<Value> = Kind::ALL
                .iter()
                .filter(|k| k.format() == FormatVersion::V1)
                .map(|k| json!({"kind": k.name(), "count": p.kind_count(*k)}))
                .collect();
            json!({
                "name": p.name(),
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
                "canonical": hex(p.canonical_bytes().as_bytes()),
                "tweak": hex(&p.tweak()),
                "layout": layout,
                "grant_count": p.grant_count(),
                "domain": p.domain(),
            })
        })
        .collect();
    json!({"profiles": profiles})
}

/// The requests every profile is asked to issue (those it cannot express
/// are recorded with their error).
fn requests(offset: UtcOffset) -> Vec<(&'static str, Request)> {
    let t = EPOCH_2024 + 700 * DAY; // 2025-12-01T00:00:00Z
    vec![
        (
            "aligned 3 h",
            Request::time_bound(t + 15 * HOUR, t + 18 * HOUR),
        ),
        (
            "rounded out to hours, variance 1",
            Request::time_bound(t + 15 * HOUR + 1_200, t + 18 * HOUR - 300)
                .with_variance(1)
                .with_max_rounding_secs(3_600),
        ),
        (
            "a 4-night stay",
            Request::time_bound(t + 15 * HOUR, t + 4 * DAY + 11 * HOUR),
        ),
        (
            "60 days, daily in the lock's offset",
            Request::time_bound(t, t + 60 * DAY)
                .with_utc_offset(offset)
                .with_max_rounding_secs(86_400),
        ),
        (
            "lineage 1",
            Request::time_bound(t + 15 * HOUR, t + 40 * HOUR).with_lineage(1),
        ),
        ("one-time", Request::one_time(t + 9 * HOUR)),
        ("ongoing slot 7", Request::ongoing(7)),
        ("revoke slot 7", Request::revoke_slot(7)),
        (
            "revoke before",
            Request::revoke_started_before(t + 12 * HOUR + 600).with_max_rounding_secs(3_600),
        ),
        (
            "too long for hourly, no rounding",
            Request::time_bound(t + HOUR, t + 40 * DAY),
        ),
        ("end before start", Request::time_bound(t, t - HOUR)),
    ]
}

fn request_json(req: &Request) -> Value {
    request_json_of(req, false)
}

/// A request as JSON; format-v2 files add the lock's rule (`tz_rule`, the
/// POSIX string; `tz_rule_bytes`, its 21-byte encoding).
fn request_json_of(req: &Request, v2: bool) -> Value {
    let want = match req.want {
        Want::TimeBound { starts_at, ends_at } => {
            json!({"kind": "time_bound", "starts_at": starts_at, "ends_at": ends_at})
        }
        Want::OneTime { starts_at } => json!({"kind": "one_time", "starts_at": starts_at}),
        Want::Ongoing { slot } => json!({"kind": "ongoing", "slot": slot}),
        Want::RevokeSlot { slot } => json!({"kind": "revoke_slot", "slot": slot}),
        Want::RevokeStartedBefore { at } => json!({"kind": "revoke_started_before", "at": at}),
        Want::ClockSet { at } => json!({"kind": "clock_set", "at": at}),
        Want::Recurring {
            starts_at,
            weeks,
            days,
            hours,
        } => json!({
            "kind": "recurring",
            "starts_at": starts_at,
            "weeks": weeks,
            "days": days.0,
            "hours": [hours.from, hours.to],
        }),
    };
    let mut out = json!({
        "want": want,
        "variance": req.variance,
        "lineage": req.lineage,
        "max_rounding_secs": req.max_rounding_secs,
        "utc_offset_minutes": req.zone.standard_offset().minutes(),
    });
    if v2 {
        out["tz_rule"] = json!(req.zone.to_string());
        out["tz_rule_bytes"] = json!(hex(&req.zone.to_bytes()));
    }
    out
}

fn issue_vectors() -> Value {
    let m = master();
    let key = m.derive_device_key(DEVICE_ID.as_bytes(), 0).unwrap();
    let offset = UtcOffset::from_minutes(60).unwrap();
    let mut cases = Vec::new();
    for p in V1 {
        let codec = Codec::new(&key, p).unwrap();
        for (what, req) in requests(offset) {
            let out = match codec.issue(&req) {
                Ok(issued) => json!({
                    "pin": issued.pin.as_str(),
                    "index": p.index_of(&issued.plan.grant).unwrap(),
                    "grant": grant_json(&issued.plan.grant),
                    "window": window_json(issued.plan.window),
                    "effective_at": issued.plan.effective_at,
                }),
                Err(e) => json!({"error": e.to_string()}),
            };
            cases.push(json!({
                "profile": p.name(),
                "case": what,
                "request": request_json(&req),
                "result": out,
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

/// Changes the digit at `pos` to the next key of the keypad.
fn tamper(pin: &str, pos: usize, nine: bool) -> String {
    pin.char_indices()
        .map(|(i, c)| {
            if i != pos {
                return c;
            }
            let d = c.to_digit(10).unwrap();
            let next = if nine { d % 9 + 1 } else { (d + 1) % 10 };
            char::from_digit(next, 10).unwrap()
        })
        .collect()
}

fn decode_vectors() -> Value {
    let key = master().derive_device_key(DEVICE_ID.as_bytes(), 0).unwrap();
    let offset = UtcOffset::from_minutes(60).unwrap();
    let t = EPOCH_2024 + 700 * DAY;
    let mut cases = Vec::new();
    for p in V1 {
        let codec = Codec::new(&key, p).unwrap();
        let nine = p.radix().value() == 9;
        for (what, req) in requests(offset) {
            let Ok(issued) = codec.issue(&req) else {
                continue;
            };
            let pin = issued.pin.as_str().to_owned();
            let times = [
                t - DAY,
                t + 15 * HOUR,
                t + 17 * HOUR,
                t + 2 * DAY,
                t + 30 * DAY,
            ];
            for now in times {
                cases.push(decode_case(&codec, offset, what, &pin, now));
            }
            let tampered = tamper(&pin, 3, nine);
            cases.push(decode_case(
                &codec,
                offset,
                "one digit changed",
                &tampered,
                t + 16 * HOUR,
            ));
        }
        for (what, input) in [
            ("empty", String::new()),
            ("too short", "1".repeat(usize::from(p.digits()) - 1)),
            (
                "letters",
                "12ab".repeat(5)[..usize::from(p.digits())].to_owned(),
            ),
            ("zero key", "0".repeat(usize::from(p.digits()))),
        ] {
            cases.push(decode_case(&codec, offset, what, &input, t));
        }
    }
    json!({"device_id": DEVICE_ID, "generation": 0, "cases": cases})
}

fn decode_case(codec: &Codec, offset: UtcOffset, what: &str, input: &str, now: i64) -> Value {
    decode_case_of(codec, TzRule::fixed(offset), false, what, input, now)
}

/// A decode case as JSON; format-v2 files add the lock's rule.
fn decode_case_of(
    codec: &Codec,
    zone: TzRule,
    v2: bool,
    what: &str,
    input: &str,
    now: i64,
) -> Value {
    let p = codec.profile();
    let result = match codec.decode_input(input.as_bytes()) {
        Ok(g) => json!({
            "grant": grant_json(&g),
            "window": window_json(g.window(p, zone)),
            "check": verdict_json(&p.check(&g, now, zone)),
        }),
        Err(e) if v2 => json!({"error": e.to_string(), "error_code": e.code()}),
        Err(e) => json!({"error": e.to_string()}),
    };
    let mut out = json!({
        "profile": p.name(),
        "case": what,
        "pin": input,
        "now": now,
        "utc_offset_minutes": zone.standard_offset().minutes(),
        "result": result,
    });
    if v2 {
        out["tz_rule"] = json!(zone.to_string());
    }
    out
}

/// Error messages explain a refusal; they are not part of the format. A
/// message reworded after a vector file was committed is listed here, as
/// (committed text, text the implementation gives now), so the committed
/// file stays unchanged, every rewording is explicit, and the case must
/// still be the same refusal.
const REWORDED_ERRORS: &[(&str, &str)] = &[(
    "encoding the window needs 3600 s of rounding but only 0 s are allowed (allow 1h or 1d of rounding, or align the window)",
    "encoding the window needs 3600 s of rounding but max_rounding_secs is 0 (raise it, or align the window to the profile's hours or the lock's local days)",
)];

/// Replaces, in a committed file, every reworded `"error"` text by its
/// current wording.
fn reword_errors(v: &mut Value) {
    match v {
        Value::Object(map) => {
            for (k, x) in map.iter_mut() {
                if let (true, Value::String(text)) = (k == "error", &mut *x) {
                    if let Some((_, now)) = REWORDED_ERRORS.iter().find(|(old, _)| old == text) {
                        *text = (*now).to_owned();
                    }
                } else {
                    reword_errors(x);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(reword_errors),
        _ => {}
    }
}

/// The path of the vector file `name` (under `tests/vectors/`).
fn vector_path(name: &str) -> PathBuf {
    [env!("CARGO_MANIFEST_DIR"), "tests", "vectors", name]
        .iter()
        .collect()
}

fn check_file(name: &str, generated: Value) {
    let path = vector_path(name);
    let text = serde_json::to_string_pretty(&generated).unwrap() + "\n";
    if let Some(bless) = std::env::var_os("OFFPIN_BLESS") {
        let prefix = bless.to_string_lossy();
        if !path.exists() || (prefix != "1" && name.starts_with(prefix.as_ref())) {
            std::fs::write(&path, &text).unwrap();
            return;
        }
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e}; run OFFPIN_BLESS=1 cargo test --test vectors",
            path.display()
        )
    });
    let mut committed: Value = serde_json::from_str(&committed).unwrap();
    reword_errors(&mut committed);
    assert!(
        committed == generated,
        "{name} differs from the implementation: the format changed. \
         Committed vectors do not change: a new format gets new files."
    );
}

/// Keypad alphabets (format v2): `tests/alphabets/`, file
/// `tests/vectors/v2/alphabets.json`.
#[cfg(feature = "std")]
#[path = "alphabets/mod.rs"]
mod alphabets;

/// Code rules (format v2, tag 5): `tests/rules/`, file
/// `tests/vectors/v2/code_rules.json`.
#[cfg(feature = "std")]
#[path = "rules/mod.rs"]
mod rules;

/// The edges of every comparison of docs/FORMAT.md §5–§10 (`tests/edges/`,
/// files `tests/vectors/v2/edges/`).
#[cfg(all(feature = "std", feature = "service-codes"))]
#[path = "common/totp.rs"]
mod totp;

#[cfg(all(feature = "std", feature = "service-codes"))]
#[path = "edges/mod.rs"]
mod edges;

// --- format v2 -------------------------------------------------------------

/// Format v2's vectors need its kinds, its DST rules and service codes
/// (the `std`, `format-v2` and `service-codes` features); the v1 vectors
/// above are checked by every build, the no_std core's included.
#[cfg(all(feature = "std", feature = "service-codes"))]
mod v2 {
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
                Request::recurring(monday, 13, Weekdays::WEEKDAYS, Hours::new(8, 12))
                    .with_zone(PARIS),
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
                Request::recurring(monday, 4, Weekdays(0b000_1111), Hours::new(9, 13))
                    .with_zone(PARIS),
            ),
            (
                "recurring: longer than the menu's 13 weeks",
                Request::recurring(monday, 14, Weekdays::WEEKDAYS, Hours::new(8, 12))
                    .with_zone(PARIS),
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

    pub(crate) fn issued_json(
        p: &Profile,
        out: Result<offpin::Issued, offpin::IssueError>,
    ) -> Value {
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
                UtcOffset::from_minutes(case["utc_offset_minutes"].as_i64().unwrap() as i32)
                    .unwrap();
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
                                let local_hour =
                                    (PARIS.local_seconds(at).rem_euclid(DAY) / HOUR) as u8;
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
                        !lock.check(bad.as_bytes(), at).decision.opens()
                            || bad == issued.pin.as_str()
                    );
                }
            }
        }
    }
}

#[test]
fn key_derivation_vectors() {
    check_file("keys.json", keys_vectors());
}

#[cfg(feature = "group-keys")]
#[test]
fn group_key_vectors_match() {
    check_file("group_keys.json", group_key_vectors());
}

#[test]
fn profile_vectors() {
    check_file("profiles.json", profiles_vectors());
}

#[test]
fn issue_vectors_match() {
    check_file("issue.json", issue_vectors());
}

#[test]
fn decode_vectors_match() {
    check_file("decode.json", decode_vectors());
}

/// Semantic checks on the same cases, independent of the committed files.
#[test]
fn issued_pins_decode_and_tampered_ones_are_refused() {
    let key = master().derive_device_key(DEVICE_ID.as_bytes(), 0).unwrap();
    let offset = UtcOffset::from_minutes(60).unwrap();
    for p in V1 {
        let codec = Codec::new(&key, p).unwrap();
        let nine = p.radix().value() == 9;
        for (_, req) in requests(offset) {
            let Ok(issued) = codec.issue(&req) else {
                continue;
            };
            assert_eq!(codec.decode(&issued.pin).unwrap(), issued.plan.grant);
            if let Some(w) = issued.plan.window {
                let inside = w.start + 60;
                assert!(p.check(&issued.plan.grant, inside, offset).opens());
                for pos in 0..usize::from(p.digits()) {
                    let bad = tamper(issued.pin.as_str(), pos, nine);
                    let verdict = codec
                        .decode_input(bad.as_bytes())
                        .map(|g| p.check(&g, inside, offset));
                    assert!(
                        !matches!(verdict, Ok(Verdict::Open(_))),
                        "{}: tampered PIN opened",
                        p.name()
                    );
                }
            }
        }
        let pin = Pin::parse(&vec![b'1'; usize::from(p.digits())], p.radix(), p.digits()).unwrap();
        let _ = codec.decode(&pin); // any PIN decodes or is refused, never panics
    }
}

/// Issue 19: anti-peep entry (`tests/vectors/anti_peep.json`). Not part of
/// the format (the PINs are `standard-10`'s), but what a lock decides about
/// an entry longer than a PIN is: which windows it searches, in which
/// order, and what the entry costs the guess budget.
#[cfg(all(feature = "std", feature = "anti-peep"))]
mod anti_peep {
    use super::*;
    use offpin::lock::{Decision, Lock};
    use offpin::profile::shipped::STANDARD_10;
    use offpin::{Profile, ProfileParams};

    fn profile() -> Profile {
        Profile::new(ProfileParams {
            name: "standard-10-anti-peep-16",
            entry_max_digits: 16,
            ..STANDARD_10.params()
        })
        .unwrap()
    }

    fn decision_json(d: &Decision) -> Value {
        match d {
            Decision::Open(g) => json!({"decision": "open", "grant": grant_json(g)}),
            Decision::Revoked(t) => {
                json!({"decision": "revoke", "target": grant_json(&Grant::Revoke(*t))})
            }
            Decision::Refuse(r) => json!({"decision": "refuse", "reason": r.code()}),
            other => panic!("not in these vectors: {other:?}"),
        }
    }

    fn anti_peep_vectors() -> Value {
        let p = profile();
        let key = master().derive_device_key(DEVICE_ID.as_bytes(), 0).unwrap();
        let codec = Codec::new(&key, p).unwrap();
        let now = EPOCH_2024 + 700 * DAY + 10 * HOUR;
        let issue = |r: Request| codec.issue(&r).unwrap().pin.as_str().to_owned();
        let ongoing = issue(Request::ongoing(2));
        let one_time = issue(Request::one_time(now - HOUR));
        let revoke = issue(Request::revoke_slot(9));
        let cat = |parts: &[&str]| parts.concat();
        let mut entries: Vec<(String, String)> = vec![("the PIN alone".into(), ongoing.clone())];
        let filler = "8264031975";
        for at in 0..=6 {
            let entry = cat(&[&filler[..at], &ongoing, &filler[at..6]]);
            entries.push((format!("ongoing PIN at position {at} of 16 keys"), entry));
        }
        entries.extend([
            (
                "ongoing PIN at position 0 of 13 keys".into(),
                cat(&[&ongoing, "555"]),
            ),
            (
                "ongoing PIN at position 3 of 13 keys".into(),
                cat(&["555", &ongoing]),
            ),
            (
                "one-time PIN at position 4 of 14 keys".into(),
                cat(&["7070", &one_time]),
            ),
            (
                "revocation code at position 2 of 15 keys".into(),
                cat(&["31", &revoke, "415"]),
            ),
            (
                "17 keys: one over the bound".into(),
                cat(&["1234567", &ongoing]),
            ),
            ("17 keys, the PIN first".into(), cat(&[&ongoing, "1234567"])),
            ("16 keys, no PIN".into(), "1234567890123456".into()),
            (
                "the PIN split by a key".into(),
                cat(&[&ongoing[..5], "0", &ongoing[5..]]),
            ),
            (
                "the PIN without its last key".into(),
                cat(&["123456", &ongoing[..9]]),
            ),
            ("9 keys".into(), ongoing[..9].to_owned()),
        ]);
        let budget = p.lockout().budget;
        let cases: Vec<Value> = entries
            .into_iter()
            .map(|(what, entry)| {
                let mut lock =
                    Lock::<16>::new(Codec::new(&key, p).unwrap(), UtcOffset::UTC).unwrap();
                let c = lock.check(entry.as_bytes(), now);
                lock.commit(c.change).unwrap();
                let decided = match c.decision {
                    Decision::Open(g) => Some(g),
                    Decision::Revoked(t) => Some(Grant::Revoke(t)),
                    _ => None,
                };
                // The window of the decided grant (the first one that is
                // its PIN: an earlier one would have decided the same).
                let position = decided.and_then(|g| {
                    entry
                        .as_bytes()
                        .windows(10)
                        .position(|w| codec.decode_input(w) == Ok(g))
                });
                json!({
                    "case": what,
                    "entry": entry,
                    "keys": entry.len(),
                    "result": decision_json(&c.decision),
                    "window": position,
                    "failures": budget - lock.budget_left(now),
                })
            })
            .collect();
        json!({
            "profile": {
                "name": p.name(),
                "shipped_profile": STANDARD_10.name(),
                "entry_max_digits": p.params().entry_max_digits,
                "positions": p.entry_positions(),
                "tweak": hex(&p.tweak()),
            },
            "device_id": DEVICE_ID,
            "now": now,
            "utc_offset_minutes": 0,
            "lock": "a new lock for each case, check-then-count; failures: what the entry spent of the guess budget",
            "cases": cases,
        })
    }

    #[test]
    fn anti_peep_vectors_match() {
        let v = anti_peep_vectors();
        // Policy, not format: the profile's tweak (so every PIN) is
        // standard-10's.
        assert_eq!(v["profile"]["tweak"], hex(&STANDARD_10.tweak()));
        for case in v["cases"].as_array().unwrap() {
            let opens = case["result"]["decision"] == "open";
            let keys = case["keys"].as_u64().unwrap();
            // Within the bound the first deciding window decides; it
            // costs nothing only at position 0; everything else is one
            // failure.
            let free = (opens || case["result"]["decision"] == "revoke") && case["window"] == 0;
            assert_eq!(case["failures"], u64::from(!free), "{}", case["case"]);
            assert!(!opens || (10..=16).contains(&keys), "{}", case["case"]);
        }
        check_file("anti_peep.json", v);
    }
}
