#![allow(dead_code, reason = "each target uses part of this module")]

//! Shared by the lock targets: every shipped profile, and `standard-10`
//! with code rules, with two keys and a universe of issued codes of every
//! kind around one instant.

use offpin::lock::Lock;
use std::sync::OnceLock;

use offpin::profile::shipped::ALL;
use offpin::{CodeRules, Codec, DeviceKey, FormatVersion, Grant, Profile, Request};

pub const HOUR: i64 = 3_600;
pub const DAY: i64 = 86_400;
/// Keys a fuzzed lock holds.
pub const KEYS: usize = 2;
/// Codes a fuzzed lock remembers: small, so the memory fills up.
pub const MEMORY: usize = 4;

pub fn key(k: usize) -> DeviceKey {
    let mut bytes = [0xA5u8; 16];
    bytes[0] = k as u8;
    DeviceKey::from_bytes(bytes)
}

pub fn codecs(profile: Profile) -> [Codec; KEYS] {
    codecs_in(profile, [0, 1])
}

/// The codecs of keys `order[0]`, `order[1]`, in that order.
pub fn codecs_in(profile: Profile, order: [usize; KEYS]) -> [Codec; KEYS] {
    core::array::from_fn(|i| Codec::new(&key(order[i]), profile).expect("shipped profile"))
}

/// `profile` with another clock grace (not part of the format: same PINs).
pub fn with_grace(profile: Profile, grace_secs: u32) -> Profile {
    Profile::new(offpin::ProfileParams {
        grace_secs,
        ..profile.params()
    })
    .expect("grace below an hour")
}

/// The CRC-32 (zlib) the image's last four bytes hold, recomputed: what
/// anyone editing an image can do.
pub fn fix_crc(image: &mut [u8]) {
    let n = image.len() - 4;
    let mut crc = u32::MAX;
    for b in &image[..n] {
        crc ^= u32::from(*b);
        for _ in 0..8 {
            crc = (crc >> 1) ^ (0xEDB8_8320 & (crc & 1).wrapping_neg());
        }
    }
    image[n..].copy_from_slice(&(!crc).to_be_bytes());
}

/// Reseals a version-2 image with the tag key `k` would write, and its CRC:
/// what a faulty implementation holding the key produces (the fuzzer's own
/// AES-CMAC, from the layout in `src/lock/persist.rs` and `seal.rs`).
pub fn reseal(image: &mut [u8], k: usize) {
    use aes::cipher::{BlockCipherEncrypt, KeyInit};
    use cmac::Mac;
    let aes = aes::Aes128::new(&(*key(k).expose_secret()).into());
    let mut state_key = aes::Block::from(*b"offpin/v2/state\0");
    aes.encrypt_block(&mut state_key);
    let mut mac = <cmac::Cmac<aes::Aes128> as KeyInit>::new(&state_key);
    let n = image.len();
    mac.update(&image[..n - 20]);
    image[n - 20..n - 4].copy_from_slice(&mac.finalize().into_bytes());
    fix_crc(image);
}

/// One issued code: the key that issued it, its PIN and its grant.
pub struct Code {
    pub key: usize,
    pub pin: Vec<u8>,
    pub grant: Grant,
}

pub struct Universe {
    pub profile: Profile,
    /// Local midnight (UTC) 700 days after the epoch; codes are around it.
    pub t0: i64,
    pub codes: Vec<Code>,
}

fn build(profile: Profile) -> Universe {
    let t0 = profile.epoch() + 700 * DAY;
    let mut requests = vec![
        Request::one_time(t0),
        Request::one_time(t0 + 5 * HOUR),
        Request::one_time(t0 + 30 * HOUR).with_variance(0),
        Request::time_bound(t0 + 2 * HOUR, t0 + 5 * HOUR),
        Request::time_bound(t0 + HOUR, t0 + HOUR + 3 * DAY),
        Request::time_bound(t0 - 2 * DAY, t0 + 2 * DAY),
        Request::time_bound(t0, t0 + 10 * DAY),
        Request::time_bound(t0 + DAY, t0 + 40 * DAY),
        Request::ongoing(0),
        Request::ongoing(1),
        Request::ongoing(2),
        Request::revoke_slot(0),
        Request::revoke_slot(1),
        Request::revoke_started_before(t0 + 10 * HOUR),
        Request::revoke_started_before(t0 + 40 * HOUR),
    ];
    if profile.params().lineages > 0 {
        requests.extend([
            Request::time_bound(t0 + HOUR, t0 + 20 * HOUR).with_lineage(1),
            Request::time_bound(t0 + 20 * HOUR, t0 + 50 * HOUR).with_lineage(1),
            Request::time_bound(t0 + 3 * HOUR, t0 + 30 * HOUR).with_lineage(2),
        ]);
    }
    let mut codes = Vec::new();
    for (k, codec) in codecs(profile).iter().enumerate() {
        for r in &requests {
            // A request a profile cannot express (too long a window, say)
            // is simply not part of its universe.
            if let Ok(issued) = codec.issue(r) {
                codes.push(Code {
                    key: k,
                    pin: issued.pin.as_bytes().to_vec(),
                    grant: issued.plan.grant,
                });
            }
        }
    }
    Universe { profile, t0, codes }
}

/// `standard-10` with both code rules (format v2, tag 5): its lock ranks
/// every entry and walks FF1 back, and refuses a string that breaks a
/// rule before any.
pub fn code_rules_profile() -> Profile {
    Profile::new(offpin::ProfileParams {
        name: "standard-10-rules",
        format: FormatVersion::V2,
        code_rules: CodeRules::ALL,
        ..offpin::profile::shipped::STANDARD_10.params()
    })
    .expect("standard-10 with code rules")
}

pub fn universes() -> &'static [Universe] {
    static U: OnceLock<Vec<Universe>> = OnceLock::new();
    U.get_or_init(|| {
        ALL.iter()
            .copied()
            .chain([code_rules_profile()])
            .map(build)
            .collect()
    })
}

/// Maps arbitrary bytes onto the profile's keypad, exactly `digits` long.
pub fn keypad(profile: &Profile, bytes: &[u8]) -> Vec<u8> {
    let alphabet = profile.alphabet();
    let keys = alphabet.keys();
    bytes
        .iter()
        .chain(core::iter::repeat(&0u8))
        .take(usize::from(profile.digits()))
        .map(|b| keys[usize::from(*b) % keys.len()])
        .collect()
}

/// The lock, started: its start change committed (the fuzz harnesses that
/// model no flash write it nowhere; `lock_script` writes it).
pub fn started<const M: usize, const K: usize>(mut lock: Lock<M, K>) -> Lock<M, K> {
    let start = lock.start();
    lock.commit(start).expect("a start commits");
    lock
}
