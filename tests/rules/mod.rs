//! Code rules (format v2, tag 5, `docs/FORMAT.md` §2.3.5): the PINs of a
//! profile with rules are the strings `S` that keep them, ranked in
//! lexicographic order, and a grant's PIN is the string of rank
//! `FF1(index)` cycle-walked inside `[0, |S|)`.
//!
//! The vectors (`tests/vectors/v2/code_rules.json`) give, for five
//! profiles, their canonical bytes, `|S|`, the PINs of the usual requests
//! with their walks, the strings at the edges of `S` (the smallest, the
//! largest, each side of the `12…` strings) and where they walk back to,
//! refused strings, and the longest walk of a sample. The tests below
//! check the automaton against brute force, the walk for being a
//! permutation, the lock, and the figures; and measure the walk.

use super::*;
use offpin::ff1::Ff1Aes128;
use offpin::lock::{Decision, Lock};
use offpin::profile::shipped::{KEYPAD9_11, STANDARD_10};
use offpin::rules::MAX_WALK_STEPS;
use offpin::{
    CodeConstraint, CodeRules, DecodeError, DeviceKey, GrantError, IssueError, Pin, PinError,
    PinSet, Profile, ProfileError, ProfileParams, Radix, Refusal, Tag,
};
use proptest::prelude::*;

const RULE_SETS: [(CodeRules, &str); 3] = [
    (CodeRules::CANNOT_START_WITH_12, "cannot_start_with_12"),
    (
        CodeRules::NO_TRIPLE_CONSECUTIVE_INTS,
        "no_triple_consecutive_ints",
    ),
    (CodeRules::ALL, "both"),
];

/// `params` as format v2 with `rules`.
fn with_rules(name: &'static str, params: ProfileParams, rules: CodeRules) -> Profile {
    Profile::new(ProfileParams {
        name,
        format: FormatVersion::V2,
        code_rules: rules,
        ..params
    })
    .unwrap()
}

/// The profiles of the vectors: `standard-10` with each rule and both,
/// `keypad9-11` (`no_zeros`) with both, TTLock's keys 1–7 without
/// triples (12 digits: 11 do not hold `standard-10`'s grants without them).
pub(crate) fn profiles() -> Vec<Profile> {
    let ten = STANDARD_10.params();
    vec![
        with_rules("standard-10-start", ten, CodeRules::CANNOT_START_WITH_12),
        with_rules(
            "standard-10-triples",
            ten,
            CodeRules::NO_TRIPLE_CONSECUTIVE_INTS,
        ),
        with_rules("standard-10-rules", ten, CodeRules::ALL),
        with_rules("keypad9-11-rules", KEYPAD9_11.params(), CodeRules::ALL),
        with_rules(
            "ttlock-12-triples",
            ProfileParams {
                radix: Radix::Seven,
                digits: 12,
                ..ten
            },
            CodeRules::NO_TRIPLE_CONSECUTIVE_INTS,
        ),
    ]
}

// --- an independent model of the rules ------------------------------------

/// The first position of `keys` (typed, standard keys) that breaks
/// `rules`, with the rule's name: written from the definitions, not from
/// the crate.
fn first_violation(keys: &[u8], rules: CodeRules) -> Option<(usize, &'static str)> {
    if rules.contains(CodeRules::CANNOT_START_WITH_12) && keys.starts_with(b"12") {
        return Some((1, "cannot_start_with_12"));
    }
    if rules.contains(CodeRules::NO_TRIPLE_CONSECUTIVE_INTS) {
        for j in 2..keys.len() {
            let (a, b, c) = (
                i32::from(keys[j - 2]),
                i32::from(keys[j - 1]),
                i32::from(keys[j]),
            );
            if (b - a).abs() <= 1 && c - b == b - a {
                return Some((j, "no_triple_consecutive_ints"));
            }
        }
    }
    None
}

/// The standard keys of `radix`, numeral 0 first.
fn keys_of(radix: Radix) -> Vec<u8> {
    offpin::Alphabet::standard(radix).keys().to_vec()
}

/// The typed keys of the numeral `value`.
fn keys_of_value(radix: Radix, digits: u8, mut value: u64) -> Vec<u8> {
    let keys = keys_of(radix);
    let r = u64::from(radix.value());
    let mut out = vec![0u8; usize::from(digits)];
    for k in out.iter_mut().rev() {
        *k = keys[(value % r) as usize];
        value /= r;
    }
    out
}

/// `|S|` by a dynamic programme over the last two keys (100 states), in
/// `u128`: another count than the crate's automaton.
fn count_by_last_two(radix: Radix, digits: u8, rules: CodeRules) -> u128 {
    let keys = keys_of(radix);
    let n = usize::from(digits);
    if n == 1 {
        return keys.len() as u128;
    }
    let triples = CodeRules::NO_TRIPLE_CONSECUTIVE_INTS;
    let triple_rule = rules.contains(triples);
    // counts[(a, b)]: valid strings of the current length ending a, b.
    let mut counts = std::collections::BTreeMap::<(u8, u8), u128>::new();
    for &a in &keys {
        for &b in &keys {
            if first_violation(&[a, b], rules).is_none() {
                counts.insert((a, b), 1);
            }
        }
    }
    for _ in 2..n {
        let mut next = std::collections::BTreeMap::new();
        for (&(a, b), &count) in &counts {
            for &c in &keys {
                if !triple_rule || first_violation(&[a, b, c], triples).is_none() {
                    *next.entry((b, c)).or_insert(0) += count;
                }
            }
        }
        counts = next;
    }
    counts.values().sum()
}

/// The numeral value of typed keys (standard keys of `radix`).
fn value_of_keys(radix: Radix, keys: &[u8]) -> u64 {
    let digits = u8::try_from(keys.len()).unwrap();
    Pin::parse(keys, radix, digits)
        .unwrap()
        .value(radix)
        .unwrap()
}

/// FF1 of a profile under `key`, to walk with the test's own loop.
fn ff1_of(p: &Profile, key: &DeviceKey) -> Ff1Aes128 {
    Ff1Aes128::new(key.expose_secret(), p.radix(), p.digits(), &p.tweak()).unwrap()
}

/// The test's own cycle walk: `f` from `x`, again while the value is not
/// below `pins`; the value and the evaluations.
fn walk(pins: u64, x: u64, f: impl Fn(u64) -> u64) -> (u64, u32) {
    let (mut y, mut steps) = (f(x), 1);
    while y >= pins {
        y = f(y);
        steps += 1;
    }
    (y, steps)
}

/// The rank `index`'s PIN has, and the FF1 evaluations it takes.
fn walk_forward(ff1: &Ff1Aes128, pins: u64, index: u64) -> (u64, u32) {
    walk(pins, index, |x| ff1.encrypt(x).unwrap())
}

/// The index the string of rank `rank` walks back to, and the
/// evaluations.
fn walk_back(ff1: &Ff1Aes128, pins: u64, rank: u64) -> (u64, u32) {
    walk(pins, rank, |x| ff1.decrypt(x).unwrap())
}

/// The indices the walk is measured on: `k · ⌊M / 100 000⌋`, `k <
/// 100 000`.
const SAMPLE: u64 = 100_000;

fn sample(p: &Profile) -> impl Iterator<Item = u64> {
    let step = p.grant_count() / SAMPLE;
    (0..SAMPLE).map(move |k| k * step)
}

/// The sample's longest walk (the first index that takes it), and the
/// evaluations of all.
fn walk_sample(p: &Profile, key: &DeviceKey) -> ((u64, u32), u64) {
    let ff1 = ff1_of(p, key);
    let mut longest = (0, 0);
    let mut total = 0u64;
    for index in sample(p) {
        let (_, steps) = walk_forward(&ff1, p.pin_count(), index);
        total += u64::from(steps);
        if steps > longest.1 {
            longest = (index, steps);
        }
    }
    (longest, total)
}

/// The smallest rank whose string is at or above `value` (`|S|` if none).
fn first_at_or_after(set: &PinSet, value: u64) -> u64 {
    let (mut lo, mut hi) = (0, set.len());
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if set.unrank(mid).unwrap() < value {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    lo
}

/// The keys `prefix` then numeral 0's key up to the PIN length.
fn padded(p: &Profile, prefix: &[u8]) -> Vec<u8> {
    let mut keys = prefix.to_vec();
    keys.resize(usize::from(p.digits()), p.alphabet().keys()[0]);
    keys
}

/// The ranks at the edges of `S`: the smallest and largest strings, the
/// last before the strings `12…`, the first at or after them and the
/// first at or after `13…` (the same, under the start rule).
fn edge_ranks(p: &Profile, set: &PinSet) -> Vec<(&'static str, u64)> {
    let radix = p.radix();
    let twelve = first_at_or_after(set, value_of_keys(radix, &padded(p, b"12")));
    let thirteen = first_at_or_after(set, value_of_keys(radix, &padded(p, b"13")));
    vec![
        ("the smallest PIN", 0),
        ("the last PIN before 12…", twelve - 1),
        ("the first PIN at or after 12…", twelve),
        ("the first PIN at or after 13…", thirteen),
        ("the largest PIN", set.len() - 1),
    ]
}

/// Strings the keypad can type that break a rule of `p` (or keep them,
/// for a profile without that rule): a start `1 2`, three equal keys,
/// three ascending, three descending.
fn broken_strings(p: &Profile, set: &PinSet) -> Vec<(&'static str, String)> {
    let smallest = keys_of_value(p.radix(), p.digits(), set.unrank(0).unwrap());
    let largest = keys_of_value(p.radix(), p.digits(), set.unrank(set.len() - 1).unwrap());
    let put = |base: &[u8], at: usize, keys: &[u8]| {
        let mut s = base.to_vec();
        s[at..at + keys.len()].copy_from_slice(keys);
        String::from_utf8(s).unwrap()
    };
    vec![
        ("starts with 1 2", put(&smallest, 0, b"12")),
        ("three equal keys", put(&largest, 4, b"555")),
        ("three keys ascending", put(&largest, 5, b"345")),
        ("three keys descending", put(&smallest, 3, b"765")),
    ]
}

pub(crate) fn vectors() -> Value {
    let key = master().derive_device_key(DEVICE_ID.as_bytes(), 0).unwrap();
    let offset = UtcOffset::from_minutes(60).unwrap();
    let zone = TzRule::fixed(offset);
    let t = EPOCH_2024 + 700 * DAY;
    let (mut profiles_out, mut issued, mut strings, mut decode) = (vec![], vec![], vec![], vec![]);
    for p in profiles() {
        let set = p.pin_set().unwrap();
        let (pins, ff1) = (p.pin_count(), ff1_of(&p, &key));
        let codec = Codec::new(&key, p).unwrap();
        let ((longest, steps), _) = walk_sample(&p, &key);
        let grant = p.grant_at(longest).unwrap();
        let pin = codec.pin_for(&grant).unwrap();
        assert!(steps <= MAX_WALK_STEPS);
        assert_eq!(
            set.rank(pin.value(p.radix()).unwrap()),
            Some(walk_forward(&ff1, pins, longest).0)
        );
        profiles_out.push(json!({
            "name": p.name(),
            "radix": p.radix().value(),
            "keys": String::from_utf8(p.alphabet().keys().to_vec()).unwrap(),
            "digits": p.digits(),
            "code_rules": p.code_rules().bits(),
            "code_constraints": p.code_constraints().map(|c| c.as_str()).collect::<Vec<_>>(),
            "canonical": hex(p.canonical_bytes().as_bytes()),
            "tweak": hex(&p.tweak()),
            "grant_count": p.grant_count(),
            "domain": p.domain(),
            "pins": pins,
            "w_max": p.security().w_max,
            "longest_walk": {
                "index": longest,
                "steps": steps,
                "pin": pin.as_str(),
                "grant": grant_json(&grant),
            },
        }));
        for (what, req) in requests(offset) {
            let result = match codec.issue(&req) {
                Ok(out) => {
                    let index = p.index_of(&out.plan.grant).unwrap();
                    let (rank, steps) = walk_forward(&ff1, pins, index);
                    let pin = out.pin.as_str().to_owned();
                    // The test's own walk gives the same PIN, which keeps the rules.
                    assert_eq!(set.unrank(rank), Some(out.pin.value(p.radix()).unwrap()));
                    assert_eq!(first_violation(pin.as_bytes(), p.code_rules()), None);
                    decode.push(decode_case_of(
                        &codec,
                        zone,
                        true,
                        what,
                        &pin,
                        t + 16 * HOUR,
                    ));
                    json!({"pin": pin, "index": index, "rank": rank, "steps": steps,
                           "grant": grant_json(&out.plan.grant)})
                }
                Err(e) => json!({"error": e.to_string(), "error_code": e.code()}),
            };
            issued.push(json!({
                "profile": p.name(),
                "case": what,
                "request": request_json_of(&req, true),
                "result": result,
            }));
        }
        let last = p.grant_count() - 1;
        let of_grants = [
            ("the PIN of index 0", 0),
            ("the PIN of the last index", last),
        ]
        .map(|(what, index)| (what, walk_forward(&ff1, pins, index).0));
        for (what, rank) in edge_ranks(&p, &set).into_iter().chain(of_grants) {
            let value = set.unrank(rank).unwrap();
            let keys = String::from_utf8(keys_of_value(p.radix(), p.digits(), value)).unwrap();
            let (index, steps) = walk_back(&ff1, pins, rank);
            let case = decode_case_of(&codec, zone, true, what, &keys, t);
            assert_eq!(
                case["result"].get("error").is_none(),
                index < p.grant_count()
            );
            strings.push(json!({
                "profile": p.name(),
                "case": what,
                "pin": keys,
                "rank": rank,
                "walks_back_to": {"index": index, "steps": steps},
                "result": case["result"],
            }));
        }
        for (what, keys) in broken_strings(&p, &set) {
            decode.push(decode_case_of(&codec, zone, true, what, &keys, t));
        }
    }
    json!({
        "master_key": hex(master().expose_secret()),
        "device_id": DEVICE_ID,
        "generation": 0,
        "max_walk_steps": MAX_WALK_STEPS,
        "profiles": profiles_out,
        "issue": issued,
        "strings": strings,
        "decode": decode,
    })
}

#[test]
fn code_rules_vectors_match() {
    check_file("v2/code_rules.json", vectors());
}

/// Every radix, every length whose `radix^n` is at most 20 000 (4 digits
/// of radix 10), every set of rules: `S` by brute force from the rules'
/// definitions; `rank` is a string's position in it, `unrank` the
/// inverse, `len` its size, and a string outside it has no rank and is
/// refused at the key that breaks the rule.
#[test]
fn rank_and_unrank_are_inverse_bijections_onto_s() {
    let sets = [
        CodeRules::NONE,
        CodeRules::CANNOT_START_WITH_12,
        CodeRules::NO_TRIPLE_CONSECUTIVE_INTS,
        CodeRules::ALL,
    ];
    let mut checked = 0;
    for radix in Radix::ALL {
        for digits in 1..=8u8 {
            let domain = u64::from(radix.value()).pow(u32::from(digits));
            if domain > 20_000 {
                continue;
            }
            for rules in sets {
                let set = PinSet::new(radix, digits, rules).unwrap();
                let mut rank = 0u64;
                for value in 0..domain {
                    let keys = keys_of_value(radix, digits, value);
                    match first_violation(&keys, rules) {
                        None => {
                            assert_eq!(set.rank(value), Some(rank), "{keys:?}");
                            assert_eq!(set.unrank(rank), Some(value));
                            assert_eq!(set.check_keys(&keys), Ok(()));
                            rank += 1;
                        }
                        Some((position, name)) => {
                            assert_eq!(set.rank(value), None, "{keys:?}");
                            let constraint = CodeConstraint::parse(name).unwrap();
                            assert_eq!(
                                set.check_keys(&keys),
                                Err(PinError::BreaksCodeRule {
                                    position,
                                    constraint
                                })
                            );
                        }
                    }
                }
                assert_eq!(set.len(), rank);
                assert_eq!(set.unrank(rank), None);
                assert_eq!(set.rank(domain), None);
                checked += 1;
            }
        }
    }
    assert!(checked >= 40, "{checked}");
}

/// `|S|` for every radix, length and set of rules is the count of another
/// dynamic programme (over the last two keys, in `u128`).
#[test]
fn the_automaton_counts_what_the_rules_allow() {
    for radix in Radix::ALL {
        for digits in 1..=radix.max_len() {
            for rules in [
                CodeRules::CANNOT_START_WITH_12,
                CodeRules::NO_TRIPLE_CONSECUTIVE_INTS,
                CodeRules::ALL,
            ] {
                let set = PinSet::new(radix, digits, rules).unwrap();
                assert_eq!(
                    u128::from(set.len()),
                    count_by_last_two(radix, digits, rules),
                    "radix {} digits {digits} {rules:?}",
                    radix.value()
                );
            }
        }
        assert_eq!(PinSet::new(radix, 0, CodeRules::ALL), None);
        assert_eq!(
            PinSet::new(radix, radix.max_len() + 1, CodeRules::ALL),
            None
        );
    }
    assert_eq!(PinSet::new(Radix::Ten, 6, CodeRules::from_bits(4)), None);
}

/// Six digits of radix 10 with both rules, every grant an ongoing slot
/// (`M = |S|`): typing each of the 10^6 strings, those of `S` decode to
/// distinct slots, every slot once, and the others break a rule. So the
/// lock's map from `S` to `[0, |S|)` (rank, then FF1⁻¹ walked) is a
/// bijection, the inverse of the issuer's; which gives, on a sample,
/// each slot's PIN.
#[test]
fn the_walk_is_a_permutation_of_s() {
    let pins = PinSet::new(Radix::Ten, 6, CodeRules::ALL).unwrap().len();
    let p = Profile::new(ProfileParams {
        name: "slots-6",
        format: FormatVersion::V2,
        digits: 6,
        hourly_max_hours: 0,
        daily_max_days: 0,
        one_time_use_hours: 0,
        ongoing_slots: u32::try_from(pins).unwrap(),
        revocation: false,
        code_rules: CodeRules::ALL,
        ..STANDARD_10.params()
    })
    .unwrap();
    assert_eq!((p.grant_count(), p.pin_count()), (pins, pins));
    let codec = Codec::new(&DeviceKey::from_bytes([7; 16]), p).unwrap();
    let mut pin_of = vec![None; usize::try_from(pins).unwrap()];
    for value in 0..1_000_000u32 {
        let keys = format!("{value:06}");
        match codec.decode_input(keys.as_bytes()) {
            Ok(Grant::Ongoing { slot }) => {
                let slot = usize::try_from(slot).unwrap();
                assert!(pin_of[slot].is_none(), "slot {slot} twice");
                pin_of[slot] = Some(value);
            }
            Err(DecodeError::Pin(PinError::BreaksCodeRule { .. })) => {
                assert!(first_violation(keys.as_bytes(), CodeRules::ALL).is_some());
            }
            other => panic!("{keys}: {other:?}"),
        }
    }
    assert!(pin_of.iter().all(Option::is_some));
    for slot in (0..pins).step_by(997) {
        let pin = codec
            .pin_for(&Grant::Ongoing {
                slot: u32::try_from(slot).unwrap(),
            })
            .unwrap();
        assert_eq!(
            Some(value_of_keys(Radix::Ten, pin.as_bytes()) as u32),
            pin_of[slot as usize]
        );
    }
}

#[allow(dead_code, reason = "the rules' tests print counts only")]
#[path = "../common/figures.rs"]
mod figures;

/// docs/FORMAT.md §2.3.5 publishes the cycle walk of `standard-10` with
/// each rule, over the indices `k · ⌊M / 100 000⌋` (`k < 100 000`) under
/// the vectors' device key: its mean (which is `radix^n / |S|`, to 0.01)
/// and its longest, far below the bound.
#[test]
fn the_walk_is_measured() {
    let key = master().derive_device_key(DEVICE_ID.as_bytes(), 0).unwrap();
    let format = include_str!("../../docs/FORMAT.md");
    let mut missing = Vec::new();
    for (rules, name) in RULE_SETS {
        let p = with_rules("measured", STANDARD_10.params(), rules);
        let ((_, worst), total) = walk_sample(&p, &key);
        let mean = total as f64 / SAMPLE as f64;
        let expected = p.domain() as f64 / p.pin_count() as f64;
        assert!(
            (mean - expected).abs() < 0.01,
            "{name}: {mean} against {expected}"
        );
        assert!(worst < MAX_WALK_STEPS / 4, "{name}: {worst}");
        let row = format!(
            "| `{name}` | {} | {expected:.4} | {mean:.4} | {worst} |",
            figures::grouped(p.pin_count()),
        );
        if !format.contains(&row) {
            missing.push(row);
        }
    }
    assert!(
        missing.is_empty(),
        "FORMAT.md §2.3.5 lacks the rows\n{}",
        missing.join("\n")
    );
}

/// The figure counts the PINs: `|S|` (another count than the crate's),
/// in `SecurityFigures::domain` and the per-attempt figure. The rules
/// change no `W_max` (the grants are the same), only the PINs they are
/// spread over.
#[test]
fn the_figure_is_w_over_the_pins() {
    for p in profiles() {
        let pins = count_by_last_two(p.radix(), p.digits(), p.code_rules());
        assert_eq!(u128::from(p.pin_count()), pins, "{}", p.name());
        assert!(p.pin_count() < p.domain());
        let s = p.security();
        let without = p.without(Tag::CodeRules).unwrap();
        assert_eq!(without.code_rules(), CodeRules::NONE);
        assert_eq!(without.pin_count(), without.domain());
        let base = without.security();
        assert_eq!((s.domain, s.w_max), (p.pin_count(), base.w_max));
        let exact = s.w_max as f64 / pins as f64;
        assert!((s.per_attempt() - exact).abs() < 1e-18 * exact.max(1.0));
        let ratio = s.per_attempt() / base.per_attempt();
        assert!((ratio - p.domain() as f64 / pins as f64).abs() < 1e-9);
    }
}

/// What a profile with rules must be: format v2, defined bits, no service
/// codes, standard keys, at least half the strings, the grants within
/// `|S|`; its canonical bytes end with the field `05 0001 bits`, and each
/// rule set has its own tweak.
#[test]
fn profiles_with_rules_are_checked() {
    let ten = STANDARD_10.params();
    let new = |params: ProfileParams| Profile::new(params).map_err(|e| e.code());
    let v2 = ProfileParams {
        format: FormatVersion::V2,
        ..ten
    };
    assert_eq!(
        Profile::new(ProfileParams {
            code_rules: CodeRules::ALL,
            ..ten
        })
        .unwrap_err(),
        ProfileError::NeedsFormatV2 {
            tag: Tag::CodeRules
        }
    );
    let cases = [
        (
            ProfileParams {
                code_rules: CodeRules::from_bits(4),
                ..v2
            },
            "invalid_code_rules",
        ),
        (
            ProfileParams {
                code_rules: CodeRules::ALL,
                ..offpin::profile::shipped::STANDARD_10_V2.params()
            },
            "invalid_code_rules",
        ),
        (
            ProfileParams {
                code_rules: CodeRules::ALL,
                keys: offpin::Keys::new(b"9876543210"),
                ..v2
            },
            "code_rules_need_standard_keys",
        ),
        (
            ProfileParams {
                code_rules: CodeRules::NO_TRIPLE_CONSECUTIVE_INTS,
                radix: Radix::Three,
                digits: 13,
                hourly_max_hours: 1,
                daily_max_days: 1,
                ..v2
            },
            "code_rules_too_strict",
        ),
        (
            ProfileParams {
                code_rules: CodeRules::ALL,
                digits: 7,
                ..v2
            },
            "index_space_too_small",
        ),
    ];
    for (params, code) in cases {
        assert_eq!(new(params).err(), Some(code), "{params:?}");
    }
    // The standard keys given explicitly are standard keys.
    let explicit = Profile::new(ProfileParams {
        code_rules: CodeRules::ALL,
        keys: offpin::Keys::new(b"0123456789"),
        ..v2
    })
    .unwrap();
    let mut tweaks = vec![Profile::new(v2).unwrap().tweak()];
    for (rules, _) in RULE_SETS {
        let p = with_rules("r", ten, rules);
        let bytes = p.canonical_bytes();
        assert_eq!(bytes.len(), 55);
        assert_eq!(bytes.as_bytes()[51..], [5, 0, 1, rules.bits()]);
        tweaks.push(p.tweak());
    }
    assert_eq!(explicit.tweak(), tweaks[3]);
    tweaks.sort_unstable();
    tweaks.dedup();
    assert_eq!(tweaks.len(), 4);
}

/// `code_constraints` lists what every PIN keeps, for `/devices/get`.
#[test]
fn the_constraints_a_profile_lists() {
    let names = |p: &Profile| {
        p.code_constraints()
            .map(CodeConstraint::as_str)
            .collect::<Vec<_>>()
    };
    let ps = profiles();
    assert_eq!(names(&STANDARD_10), ["cannot_specify_pin_code"]);
    assert_eq!(names(&KEYPAD9_11), ["no_zeros", "cannot_specify_pin_code"]);
    assert_eq!(
        names(&ps[0]),
        ["cannot_start_with_12", "cannot_specify_pin_code"]
    );
    assert_eq!(
        names(&ps[3]),
        [
            "no_zeros",
            "cannot_start_with_12",
            "no_triple_consecutive_ints",
            "cannot_specify_pin_code"
        ]
    );
    assert_eq!(
        names(&ps[4]),
        [
            "no_zeros",
            "no_triple_consecutive_ints",
            "cannot_specify_pin_code",
            "cannot_contain_089"
        ]
    );
    let six = Profile::new(ProfileParams {
        format: FormatVersion::V2,
        radix: Radix::Six,
        digits: 12,
        ..STANDARD_10.params()
    })
    .unwrap();
    assert_eq!(
        names(&six),
        [
            "no_zeros",
            "cannot_specify_pin_code",
            "cannot_contain_089",
            "cannot_contain_0789"
        ]
    );
    assert_eq!(ps[3].code_constraints().len(), 4);
    for c in CodeConstraint::ALL {
        assert_eq!(CodeConstraint::parse(c.as_str()), Some(c));
        assert_eq!(c.to_string(), c.as_str());
    }
    assert_eq!(CodeConstraint::parse("no_ones"), None);
}

/// An index whose walk is too long is refused by name, with the bound
/// (none is, on these profiles, nor in the measured sample: the bound
/// itself is tested on a permutation built for it, in `src/rules/`).
#[test]
fn a_walk_too_long_is_an_error_by_name() {
    let e = IssueError::Grant(GrantError::WalkTooLong { index: 5 });
    assert_eq!(e.code(), "walk_too_long");
    assert!(e.to_string().contains("64"), "{e}");
}

/// Keys with a violation put in: a start `1 2`, three equal keys, three
/// ascending or descending, at `at`; or the keys as they are.
fn with_violation(p: &Profile, value: u64, how: u8, at: usize) -> Vec<u8> {
    let mut keys = keys_of_value(p.radix(), p.digits(), value % p.domain());
    let alphabet = keys_of(p.radix());
    let at = at % (keys.len() - 2);
    let d = alphabet[(value as usize / 7) % (alphabet.len() - 2)];
    let put: Option<[u8; 3]> = match how {
        1 => {
            keys[..2].copy_from_slice(b"12");
            None
        }
        2 => Some([d, d, d]),
        3 => Some([d, d + 1, d + 2]),
        4 => Some([d + 2, d + 1, d]),
        _ => None,
    };
    if let Some(three) = put {
        keys[at..at + 3].copy_from_slice(&three);
    }
    keys
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Every PIN issued under rules keeps them, decodes to its grant and
    /// opens a lock at its window's first instant, middle and last.
    #[test]
    fn issued_pins_keep_the_rules_and_open_the_lock(
        which in 0usize..5,
        start_hour in 0i64..24 * 3_000,
        hours in 1i64..=24,
        variance in 0u8..3,
        slot in proptest::option::of(0u32..100),
    ) {
        let p = profiles()[which];
        let key = DeviceKey::from_bytes([9; 16]);
        let codec = Codec::new(&key, p).unwrap();
        let s = p.epoch() + start_hour * HOUR;
        let req = match slot {
            Some(slot) => Request::ongoing(slot),
            None => Request::time_bound(s, s + hours * HOUR).with_variance(variance),
        };
        let issued = codec.issue(&req).unwrap();
        let pin = issued.pin.as_bytes();
        prop_assert_eq!(first_violation(pin, p.code_rules()), None);
        prop_assert_eq!(codec.decode(&issued.pin), Ok(issued.plan.grant));
        let window = issued.plan.window.unwrap_or(Window { start: s, end: s + HOUR });
        let mut lock = Lock::<8, 1>::new([Codec::new(&key, p).unwrap()], UtcOffset::UTC).unwrap();
        for now in [window.start, window.start + (window.end - window.start) / 2, window.end - 1] {
            let seen = lock.observe_clock(now);
            lock.commit(seen).unwrap();
            let c = lock.check(pin, now);
            prop_assert_eq!(c.decision, Decision::Open(issued.plan.grant));
            lock.commit(c.change).unwrap();
        }
    }

    /// A string that breaks a rule is refused at the key that breaks it
    /// (what the rules' definitions say, not the crate), by the codec
    /// and by the lock, where it counts as a failure; one that keeps
    /// them is a PIN (of a grant or not).
    #[test]
    fn strings_that_break_a_rule_are_refused(
        which in 0usize..5,
        value in any::<u64>(),
        how in 0u8..5,
        at in 0usize..32,
    ) {
        let p = profiles()[which];
        let keys = with_violation(&p, value, how, at);
        let key = DeviceKey::from_bytes([3; 16]);
        let codec = Codec::new(&key, p).unwrap();
        let expected = first_violation(&keys, p.code_rules());
        match (codec.decode_input(&keys), expected) {
            (Err(DecodeError::Pin(PinError::BreaksCodeRule { position, constraint })), Some((at, name))) => {
                prop_assert_eq!((position, constraint.as_str()), (at, name));
            }
            (Ok(_) | Err(DecodeError::NotAGrant), None) => {}
            (got, _) => prop_assert!(false, "{:?}: {:?} against {:?}", keys, got, expected),
        }
        if expected.is_some() {
            let now = p.epoch() + 700 * DAY;
            let mut lock = Lock::<8, 1>::new([codec], UtcOffset::UTC).unwrap();
            let seen = lock.observe_clock(now);
            lock.commit(seen).unwrap();
            let budget = lock.budget_left(now);
            let c = lock.check(&keys, now);
            prop_assert_eq!(c.decision, Decision::Refuse(Refusal::InvalidCode));
            lock.commit(c.change).unwrap();
            prop_assert_eq!(lock.budget_left(now), budget - 1);
        }
    }
}
