//! Keypad alphabets (format v2, `docs/FORMAT.md` §2.3.4 and §4): a radix
//! from 2 to 10 and the key of each numeral. The vectors
//! (`tests/vectors/v2/alphabets.json`) give, for four alphabets, the
//! profile's canonical bytes and tweak, the PINs of the usual requests
//! and what the keypad's malformed entries decode to; the tests below
//! attack the mapping.

use super::*;
use offpin::profile::shipped::{KEYPAD9_11, STANDARD_10};
use offpin::{Alphabet, Keys, Pin, PinError, Profile, ProfileParams, Radix};

/// The alphabets of the vectors: TTLock's keys 1–7, a nine-key pad read
/// in reverse, a pad without `0` and `1`, and two keys.
pub(crate) fn profiles() -> Vec<Profile> {
    let v2 = |params: ProfileParams| Profile::new(params).unwrap();
    vec![
        v2(ProfileParams {
            name: "ttlock-11",
            format: FormatVersion::V2,
            radix: Radix::Seven,
            digits: 11,
            ..STANDARD_10.params()
        }),
        v2(ProfileParams {
            name: "nine-reversed-11",
            format: FormatVersion::V2,
            keys: Keys::new(b"987654321"),
            ..KEYPAD9_11.params()
        }),
        v2(ProfileParams {
            name: "eight-keys-12",
            format: FormatVersion::V2,
            radix: Radix::Eight,
            keys: Keys::new(b"23456789"),
            digits: 12,
            ..STANDARD_10.params()
        }),
        v2(ProfileParams {
            name: "binary-20",
            format: FormatVersion::V2,
            radix: Radix::Two,
            digits: 20,
            lifetime_days: 800,
            variances: 1,
            lineages: 0,
            hourly_max_hours: 24,
            daily_max_days: 7,
            one_time_use_hours: 4,
            ongoing_slots: 10,
            ..STANDARD_10.params()
        }),
    ]
}

/// Typed entries that are not PINs of `p`: a key the keypad lacks, a
/// letter, a short one.
fn malformed(p: &Profile) -> Vec<(&'static str, String)> {
    let n = usize::from(p.digits());
    let keys = p.alphabet().keys().to_vec();
    let missing = (b'0'..=b'9').find(|k| !keys.contains(k)).unwrap_or(b'a');
    let mut with_missing = vec![keys[0]; n];
    with_missing[n / 2] = missing;
    vec![
        (
            "a key the keypad lacks",
            String::from_utf8(with_missing).unwrap(),
        ),
        ("a letter", "a".repeat(n)),
        (
            "too short",
            String::from_utf8(vec![keys[0]; n - 1]).unwrap(),
        ),
    ]
}

pub(crate) fn vectors() -> Value {
    let key = master().derive_device_key(DEVICE_ID.as_bytes(), 0).unwrap();
    let offset = UtcOffset::from_minutes(60).unwrap();
    let t = EPOCH_2024 + 700 * DAY;
    let mut profiles_out = Vec::new();
    let mut cases = Vec::new();
    for p in profiles() {
        let s = p.security();
        profiles_out.push(json!({
            "name": p.name(),
            "radix": p.radix().value(),
            "keys": String::from_utf8(p.alphabet().keys().to_vec()).unwrap(),
            "digits": p.digits(),
            "canonical": hex(p.canonical_bytes().as_bytes()),
            "tweak": hex(&p.tweak()),
            "grant_count": p.grant_count(),
            "domain": p.domain(),
            "w_max": s.w_max,
        }));
        let codec = Codec::new(&key, p).unwrap();
        for (what, req) in requests(offset) {
            let result = match codec.issue(&req) {
                Ok(issued) => {
                    let pin = issued.pin.as_str().to_owned();
                    cases.push(decode_case_of(
                        &codec,
                        TzRule::fixed(offset),
                        true,
                        what,
                        &pin,
                        t + 16 * HOUR,
                    ));
                    json!({
                        "pin": pin,
                        "index": p.index_of(&issued.plan.grant).unwrap(),
                        "grant": grant_json(&issued.plan.grant),
                    })
                }
                Err(e) => json!({"error": e.to_string()}),
            };
            cases.push(json!({
                "profile": p.name(),
                "case": what,
                "request": request_json(&req),
                "result": result,
            }));
        }
        for (what, input) in malformed(&p) {
            cases.push(decode_case_of(
                &codec,
                TzRule::fixed(offset),
                true,
                what,
                &input,
                t,
            ));
        }
    }
    json!({
        "device_id": DEVICE_ID,
        "generation": 0,
        "profiles": profiles_out,
        "cases": cases,
    })
}

#[test]
fn alphabet_vectors_match() {
    check_file("v2/alphabets.json", vectors());
}

/// Every PIN an alphabet renders uses only its keys, reads back to its
/// value, and decodes to its grant; the same digits under the standard
/// alphabet of the radix are another numeral (the keys are the format).
#[test]
fn pins_use_only_the_keypads_keys_and_read_back() {
    let key = master().derive_device_key(b"alphabet", 0).unwrap();
    let t = EPOCH_2024 + 700 * DAY;
    for p in profiles() {
        let a = p.alphabet();
        let codec = Codec::new(&key, p).unwrap();
        for h in 0..48 {
            let req = Request::time_bound(t + h * HOUR, t + (h + 2) * HOUR);
            let issued = codec.issue(&req).unwrap();
            let pin = &issued.pin;
            assert_eq!(pin.len(), usize::from(p.digits()));
            assert!(
                pin.as_bytes().iter().all(|k| a.keys().contains(k)),
                "{}: {}",
                p.name(),
                pin.as_str()
            );
            let value = pin.value(a).unwrap();
            assert_eq!(Pin::from_value(value, a, p.digits()).unwrap(), *pin);
            assert_eq!(codec.decode(pin).unwrap(), issued.plan.grant);
        }
    }
}

/// A key outside the alphabet is refused where it is typed, and counts as
/// a failed entry on a lock (the feature `alphabets` reads it).
#[test]
fn keys_outside_the_alphabet_are_refused() {
    let p = profiles()[0];
    let ttlock = p.alphabet();
    assert_eq!(ttlock.keys(), b"1234567");
    assert_eq!(p.digits(), 11);
    assert_eq!(
        Pin::parse(b"12345678123", ttlock, 11),
        Err(PinError::NotOnKeypad { position: 7 })
    );
    assert_eq!(
        Pin::parse(b"1234567012x", ttlock, 11),
        Err(PinError::NotOnKeypad { position: 7 })
    );
    let key = master().derive_device_key(b"alphabet", 0).unwrap();
    let mut lock =
        offpin::lock::Lock::<8, 1>::new([Codec::new(&key, p).unwrap()], UtcOffset::UTC).unwrap();
    let now = EPOCH_2024 + 700 * DAY;
    let seen = lock.observe_clock(now);
    lock.commit(seen).unwrap();
    let budget = lock.budget_left(now);
    let c = lock.check(b"99999999999", now);
    assert_eq!(
        c.decision,
        offpin::lock::Decision::Refuse(offpin::Refusal::InvalidCode)
    );
    lock.commit(c.change).unwrap();
    assert_eq!(lock.budget_left(now), budget - 1, "the entry counted");
}

/// Radix 7 needs 11 digits where radix 10 needs 10 for the same grants,
/// and its per-attempt figure is `W_max / 7^11`.
#[test]
fn the_figure_follows_the_radix() {
    let p = profiles()[0];
    assert_eq!(p.domain(), 7u64.pow(11));
    assert_eq!(p.grant_count(), STANDARD_10.grant_count());
    let s = p.security();
    assert_eq!(s.w_max, STANDARD_10.security().w_max);
    assert!((s.per_attempt() - s.w_max as f64 / 7f64.powi(11)).abs() < 1e-15);
    // Ten digits of radix 7 do not hold standard-10's grants.
    let short = Profile::new(ProfileParams {
        digits: 10,
        ..p.params()
    });
    assert!(matches!(
        short,
        Err(offpin::ProfileError::IndexSpaceTooSmall { .. })
    ));
}

/// The alphabet is the format's: an alphabet other than radix 10 and 9
/// with standard keys is format v2 only, the standard keys given
/// explicitly are the standard alphabet (one encoding), and a profile
/// with other keys has another tweak.
#[test]
fn the_alphabet_enters_the_tweak() {
    let v1 = Profile::new(ProfileParams {
        radix: Radix::Seven,
        digits: 12,
        ..STANDARD_10.params()
    });
    assert_eq!(v1.err().map(|e| e.code()), Some("needs_format_v2"));
    let v1_keys = Profile::new(ProfileParams {
        keys: Keys::new(b"9876543210"),
        ..STANDARD_10.params()
    });
    assert_eq!(v1_keys.err().map(|e| e.code()), Some("needs_format_v2"));
    let base = ProfileParams {
        format: FormatVersion::V2,
        ..STANDARD_10.params()
    };
    let standard = Profile::new(base).unwrap();
    let explicit = Profile::new(ProfileParams {
        keys: Keys::new(b"0123456789"),
        ..base
    })
    .unwrap();
    assert_eq!(standard.canonical_bytes(), explicit.canonical_bytes());
    let reversed = Profile::new(ProfileParams {
        keys: Keys::new(b"9876543210"),
        ..base
    })
    .unwrap();
    assert_ne!(standard.tweak(), reversed.tweak());
    assert_eq!(
        Profile::new(ProfileParams {
            keys: Keys::new(b"012345678"),
            ..base
        })
        .err()
        .map(|e| e.code()),
        Some("invalid_alphabet")
    );
    assert_eq!(
        Alphabet::new(Radix::Seven, Keys::STANDARD).unwrap().keys(),
        b"1234567"
    );
}
