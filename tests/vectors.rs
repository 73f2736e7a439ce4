//! The format's machine-readable vectors (`tests/vectors/*.json`).
//!
//! Each file is generated from the implementation by the functions below
//! and committed. The tests regenerate them and compare with the committed
//! copies, so any change of the format shows up as a failing test. After an
//! intentional format change, run `OFFPIN_BLESS=1 cargo test --test vectors`
//! to rewrite the files (and bump the format version in docs/FORMAT.md).
//!
//! The issue and decode vectors are also checked *semantically* here (PIN
//! decodes to the grant, tampered PINs are refused), so they cannot be
//! blessed into nonsense.

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
    json!({
        "want": want,
        "variance": req.variance,
        "lineage": req.lineage,
        "max_rounding_secs": req.max_rounding_secs,
        "utc_offset_minutes": req.zone.standard_offset().minutes(),
    })
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
    let p = codec.profile();
    let result = match codec.decode_input(input.as_bytes()) {
        Ok(g) => json!({
            "grant": grant_json(&g),
            "window": window_json(g.window(p, offset)),
            "check": verdict_json(&p.check(&g, now, offset)),
        }),
        Err(e) => json!({"error": e.to_string()}),
    };
    json!({
        "profile": p.name(),
        "case": what,
        "pin": input,
        "now": now,
        "utc_offset_minutes": offset.minutes(),
        "result": result,
    })
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

fn check_file(name: &str, generated: Value) {
    let path: PathBuf = [env!("CARGO_MANIFEST_DIR"), "tests", "vectors", name]
        .iter()
        .collect();
    let text = serde_json::to_string_pretty(&generated).unwrap() + "\n";
    if std::env::var_os("OFFPIN_BLESS").is_some() {
        std::fs::write(&path, &text).unwrap();
        return;
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
         If intended, rerun with OFFPIN_BLESS=1 and bump the format version."
    );
}

#[test]
fn key_derivation_vectors() {
    check_file("keys.json", keys_vectors());
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
