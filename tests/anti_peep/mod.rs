//! Anti-peep entry's vectors, `tests/vectors/anti_peep.json`.

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
            let mut lock = Lock::<16>::new(Codec::new(&key, p).unwrap(), UtcOffset::UTC).unwrap();
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
