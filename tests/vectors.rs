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

/// Format v2's vectors (`tests/format_v2/`) need its kinds, its DST rules
/// and service codes (the `std`, `format-v2` and `service-codes`
/// features); the v1 vectors
/// above are checked by every build, the no_std core's included.
#[cfg(all(feature = "std", feature = "service-codes"))]
#[path = "format_v2/mod.rs"]
mod v2;

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

/// Issue 19: anti-peep entry (`tests/anti_peep/`, file
/// `tests/vectors/anti_peep.json`). Not part of
/// the format (the PINs are `standard-10`'s), but what a lock decides about
/// an entry longer than a PIN is: which windows it searches, in which
/// order, and what the entry costs the guess budget.
#[cfg(all(feature = "std", feature = "anti-peep"))]
#[path = "anti_peep/mod.rs"]
mod anti_peep;
