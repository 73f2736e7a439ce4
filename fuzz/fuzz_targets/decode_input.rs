//! Arbitrary bytes typed on the keypad, for every shipped profile (and
//! `standard-10` with code rules): decoding
//! never panics; whatever decodes names a grant of the profile whose PIN
//! (re-issued with the same key) is exactly what was typed; and checking
//! that grant at any instant and UTC offset never panics.
//!
//! Each input is tried twice per profile: as raw bytes, and mapped onto the
//! profile's keypad (one key per byte, cut or padded to the PIN length) so
//! that every input reaches FF1 and the index decoder.
//!
//! The same is done for one more profile read from the input's first
//! bytes: any parameters `Profile::new` accepts (extreme epochs, lifetimes
//! and lengths included, code rules too: a keyed entry may then break a
//! rule, and is refused for it exactly when it does). On it, planning a request at the fuzzed instant
//! never panics, and no instant and offset has more acceptable indices
//! than its published `W_max`.

#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use offpin::profile::shipped::{ALL, STANDARD_10};
use offpin::profile::{MAX_DURATION_HOURS, MAX_EPOCH, MAX_LIFETIME_DAYS};
use offpin::{
    CodeRules, Codec, DecodeError, DeviceKey, Keys, Pin, PinError, Profile, ProfileParams, Radix,
    Request, UtcOffset, Verdict,
};

const FUZZ_KEY: [u8; 16] = *b"offpin fuzz key!";

/// Bytes that define a fuzzed profile, at the start of the input.
const PROFILE_BYTES: usize = 32;

/// A value of `x` cut to `0..=max`, small most of the time (shifted right
/// by `shift % 32` bits first), so that most fuzzed profiles fit their
/// index space.
fn sized(x: u32, shift: u8, max: u32) -> u32 {
    (x >> (shift % 32)) % max.saturating_add(1)
}

/// The profile the first [`PROFILE_BYTES`] bytes describe, if
/// `Profile::new` accepts it.
fn fuzzed_profile(b: &[u8]) -> Option<Profile> {
    let b: &[u8; PROFILE_BYTES] = b.get(..PROFILE_BYTES)?.try_into().ok()?;
    let word = |i: usize| u32::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
    let days = MAX_EPOCH / 86_400;
    // Every radix, its standard keys or (bit 4 of b[0]) the same keys in
    // reverse order (format v2 where version 1 has no such keypad).
    let radix = Radix::ALL[usize::from(b[0] & 15) % Radix::ALL.len()];
    let standard = offpin::Alphabet::standard(radix);
    let reversed: Vec<u8> = standard.keys().iter().rev().copied().collect();
    let keys = if b[0] & 16 == 0 {
        Keys::STANDARD
    } else {
        Keys::new(&reversed)
    };
    let span = radix.max_len() - radix.min_len() + 1;
    // Bits 5 and 6: the code rules (format v2).
    let code_rules = CodeRules::from_bits((b[0] >> 5) & 3);
    let params = ProfileParams {
        name: "fuzzed",
        format: if radix.is_builtin() && b[0] & 16 == 0 && code_rules.is_empty() {
            STANDARD_10.params().format
        } else {
            offpin::FormatVersion::V2
        },
        code_rules,
        radix,
        keys,
        digits: radix.min_len() + b[1] % span,
        epoch: i64::from(word(2)).rem_euclid(days + 1) * 86_400,
        lifetime_days: sized(word(6), b[26], MAX_LIFETIME_DAYS - 1) + 1,
        variances: b[10].max(1),
        lineages: b[11] % 5,
        hourly_max_hours: sized(word(12), b[27], MAX_DURATION_HOURS),
        daily_max_days: sized(word(16), b[28], MAX_LIFETIME_DAYS),
        one_time_use_hours: sized(word(20), b[29], MAX_DURATION_HOURS),
        ongoing_slots: sized(word(22), b[30], u32::MAX),
        revocation: b[24] & 1 == 1,
        activation_hours: sized(word(14), b[31], MAX_DURATION_HOURS - 1) + 1,
        grace_secs: u32::from(u16::from_le_bytes([b[24], b[25]])) % 3_600,
        lock_memory: u16::from_le_bytes([b[18], b[19]]),
        ..STANDARD_10.params()
    };
    Profile::new(params).ok()
}

/// The shipped profiles, and `standard-10` with both code rules.
fn codecs() -> &'static [Codec] {
    static CODECS: OnceLock<Vec<Codec>> = OnceLock::new();
    CODECS.get_or_init(|| {
        let rules = Profile::new(ProfileParams {
            name: "standard-10-rules",
            format: offpin::FormatVersion::V2,
            code_rules: CodeRules::ALL,
            ..STANDARD_10.params()
        })
        .expect("standard-10 with code rules");
        ALL.iter()
            .copied()
            .chain([rules])
            .map(|p| Codec::new(&DeviceKey::from_bytes(FUZZ_KEY), p).expect("a valid profile"))
            .collect()
    })
}

fuzz_target!(|data: &[u8]| {
    // The first 12 bytes pick the instant and offset; the rest is typed.
    let (now, offset, typed) = match data {
        [a, b, c, d, e, f, g, h, i, j, k, l, rest @ ..] => (
            i64::from_le_bytes([*a, *b, *c, *d, *e, *f, *g, *h]),
            i32::from_le_bytes([*i, *j, *k, *l]),
            rest,
        ),
        _ => (0, 0, data),
    };
    // Keep `now` near the profiles' lifetime half of the time, anywhere
    // otherwise.
    let now = if now & 1 == 0 {
        1_704_067_200 + (now >> 1).rem_euclid(40 * 365 * 86_400)
    } else {
        now
    };
    let offset = UtcOffset::from_minutes(offset % 2_000).unwrap_or(UtcOffset::UTC);
    let fuzzed = fuzzed_profile(data).map(|p| {
        let s = p.security();
        let w = p.acceptable_at(now, offset).total();
        assert!(
            w + s.remembered <= s.w_max,
            "{p:?}: {w} at {now} above W_max {}",
            s.w_max
        );
        for req in [
            Request::time_bound(
                now,
                now.saturating_add(offset.seconds().abs() + 1),
            ),
            Request::one_time(now),
            Request::revoke_started_before(now),
        ] {
            let _ = p.plan(&req.with_max_rounding_secs(3_600).with_utc_offset(offset));
        }
        Codec::new(&DeviceKey::from_bytes(FUZZ_KEY), p).expect("an accepted profile")
    });
    for codec in codecs().iter().chain(fuzzed.as_ref()) {
        let _ = try_typed(codec, typed, now, offset);
        let p = codec.profile();
        let alphabet = p.alphabet();
        let keys = alphabet.keys();
        let keyed: Vec<u8> = typed
            .iter()
            .chain(core::iter::repeat(&0u8))
            .take(usize::from(p.digits()))
            .map(|b| keys[usize::from(*b) % keys.len()])
            .collect();
        let grant = try_typed(codec, &keyed, now, offset);
        // On the keypad, only "names no grant" may refuse a well-formed
        // PIN, and with code rules "breaks a rule", of a string that does.
        let breaks = p.pin_set().map(|s| s.check_keys(&keyed));
        match (grant, breaks) {
            (Ok(_) | Err(DecodeError::NotAGrant), None | Some(Ok(()))) => {}
            (Err(DecodeError::Pin(e @ PinError::BreaksCodeRule { .. })), Some(Err(f))) => {
                assert_eq!(e, f, "{}", p.name());
            }
            (r, b) => panic!("{}: well-formed PIN: {r:?}, rules: {b:?}", p.name()),
        }
    }
});

fn try_typed(
    codec: &Codec,
    typed: &[u8],
    now: i64,
    offset: UtcOffset,
) -> Result<offpin::Grant, DecodeError> {
    let p = codec.profile();
    let grant = codec.decode_input(typed)?;
    // It names a grant of the profile ...
    let index = p.index_of(&grant).expect("a decoded grant has an index");
    assert!(index < p.grant_count());
    assert_eq!(p.grant_at(index), Some(grant));
    // ... whose PIN is what was typed.
    let pin = codec.pin_for(&grant).expect("a decoded grant re-issues");
    assert_eq!(pin.as_bytes(), typed, "{}: re-issued PIN differs", p.name());
    let parsed = Pin::parse(typed, p.radix(), p.digits()).expect("decoded input parses");
    assert_eq!(codec.decode(&parsed), Ok(grant));
    // Checking never panics; an opening verdict is never given outside the
    // grant's window widened by the clock grace.
    let verdict = p.check(&grant, now, offset);
    if let (Verdict::Open(_) | Verdict::OpenIfActivated { .. }, Some(w)) =
        (verdict, grant.window(p, offset))
    {
        assert!(now >= w.start - p.grace_secs() && now < w.end + p.grace_secs());
    }
    Ok(grant)
}
