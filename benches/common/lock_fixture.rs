//! The lock fixture shared by `benches/lock.rs` and
//! `examples/check_cost.rs`, so criterion and callgrind measure the same
//! work: the lock's keys, a guest's PIN and the same PIN with one digit
//! changed.

use offpin::{Codec, DeviceKey, Profile, Request};

pub const HOUR: i64 = 3_600;
pub const DAY: i64 = 86_400;
/// Remembered codes: at most every shipped profile's `lock_memory`.
pub const MEMORY: usize = 32;

/// The lock's keys: key 0 issued the PIN; the others are other keys the
/// lock also holds (tried after it, or all of them for a wrong PIN).
pub fn codecs<const KEYS: usize>(profile: Profile) -> [Codec; KEYS] {
    core::array::from_fn(|k| {
        let mut key = [0x5Au8; 16];
        key[0] = u8::try_from(k).unwrap();
        Codec::new(&DeviceKey::from_bytes(key), profile).unwrap()
    })
}

/// `(valid PIN, invalid PIN, now)` for `profile`, issued with key 0: a
/// guest's stay of 3 days less 4 hours (it needs activation, so the check
/// scans the lock's memory), typed two hours after check-in; the invalid
/// PIN is the same with its last digit changed.
pub fn pins(profile: Profile) -> (Vec<u8>, Vec<u8>, i64) {
    let issuer = &codecs::<1>(profile)[0];
    let start = profile.epoch() + 700 * DAY + 15 * HOUR;
    let issued = issuer
        .issue(&Request::time_bound(start, start + 3 * DAY - 4 * HOUR))
        .unwrap();
    let valid = issued.pin.as_bytes().to_vec();
    let mut invalid = valid.clone();
    let last = invalid.last_mut().unwrap();
    *last = if *last == b'9' { b'1' } else { *last + 1 };
    (valid, invalid, start + 2 * HOUR)
}
