//! Arbitrary bytes typed on the keypad, for every shipped profile: decoding
//! never panics; whatever decodes names a grant of the profile whose PIN
//! (re-issued with the same key) is exactly what was typed; and checking
//! that grant at any instant and UTC offset never panics.
//!
//! Each input is tried twice per profile: as raw bytes, and mapped onto the
//! profile's keypad (one key per byte, cut or padded to the PIN length) so
//! that every input reaches FF1 and the index decoder.

#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use offpin::profile::shipped::ALL;
use offpin::{Codec, DecodeError, DeviceKey, Pin, Radix, UtcOffset, Verdict};

fn codecs() -> &'static [Codec] {
    static CODECS: OnceLock<Vec<Codec>> = OnceLock::new();
    CODECS.get_or_init(|| {
        ALL.iter()
            .map(|p| Codec::new(&DeviceKey::from_bytes(*b"offpin fuzz key!"), *p).expect("shipped"))
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
    for codec in codecs() {
        let _ = try_typed(codec, typed, now, offset);
        let p = codec.profile();
        let (first, base) = match p.radix() {
            Radix::Ten => (b'0', 10u8),
            Radix::Nine => (b'1', 9u8),
        };
        let keyed: Vec<u8> = typed
            .iter()
            .chain(core::iter::repeat(&0u8))
            .take(usize::from(p.digits()))
            .map(|b| first + b % base)
            .collect();
        let grant = try_typed(codec, &keyed, now, offset);
        // On the keypad, only "names no grant" may refuse a well-formed PIN.
        match grant {
            Ok(_) | Err(DecodeError::NotAGrant) => {}
            Err(e) => panic!("{}: well-formed PIN refused: {e:?}", p.name()),
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
