//! Rolling service codes (format v2, tag 3): the lock's no_std HMAC-SHA1
//! TOTP against RFC 6238's table and against `totp-lite` (the server's),
//! each code at most once, ±skew steps and no more, across power cuts.

#![cfg(all(feature = "service-codes", feature = "std"))]
#![allow(
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::cast_possible_truncation,
    reason = "test code: a failed unwrap is a failed test"
)]

#[path = "common/boot.rs"]
mod boot;
#[path = "common/totp.rs"]
mod totp;
use boot::started;
use offpin::lock::{Decision, EntryKind, Lock};
use offpin::profile::shipped::STANDARD_10_V2 as P;
use offpin::service::{ServiceSecret, hotp, max_values_per_code};
use offpin::{Codec, DeviceKey, Profile, ProfileParams, Refusal, Request, ServiceCodes, UtcOffset};
use proptest::prelude::*;
use totp::code_at;

const STEP: i64 = 30;

fn codec(key: &DeviceKey) -> Codec {
    Codec::new(key, P).unwrap()
}

/// A lock provisioned at `t0`.
fn lock_at(key: &DeviceKey, t0: i64) -> Lock<16> {
    let mut l = Lock::<16>::new(codec(key), UtcOffset::UTC).unwrap();
    l.commit(l.observe_clock(t0)).unwrap();
    l
}

fn enter(l: &mut Lock<16>, typed: &str, now: i64) -> Decision {
    let charge = l.charge(now);
    l.commit(charge).unwrap();
    let c = l.check(typed.as_bytes(), now);
    l.commit(c.change).unwrap();
    c.decision
}

/// The code of counter `counter`, as the server shows it.
fn code(secret: &ServiceSecret, counter: i64) -> String {
    code_at(secret, P.params().service_codes, counter * STEP).unwrap()
}

/// RFC 6238 Appendix B (SHA-1 rows), by the lock's HMAC-SHA1 and by
/// totp-lite, from the RFC's ASCII secret.
#[test]
fn rfc6238_table_by_the_lock_and_by_totp_lite() {
    let secret = b"12345678901234567890";
    for (t, expected) in [
        (59u64, "94287082"),
        (1_111_111_109, "07081804"),
        (1_111_111_111, "14050471"),
        (1_234_567_890, "89005924"),
        (2_000_000_000, "69279037"),
        (20_000_000_000, "65353130"),
    ] {
        assert_eq!(
            totp_lite::totp_custom::<totp_lite::Sha1>(30, 8, secret, t),
            expected
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Random device keys and times: the lock's HOTP is totp-lite's, the
    /// lock opens for the server's current code once, and refuses it (and
    /// every earlier counter) from then on; it accepts ±1 step, not ±2.
    #[test]
    fn the_lock_agrees_with_totp_lite(key in any::<[u8; 16]>(), secs in 0i64..2_000_000_000) {
        let key = DeviceKey::from_bytes(key);
        let secret = ServiceSecret::derive(&key);
        let now = P.epoch() + secs;
        let counter = now / STEP;
        for c in [counter - 1, counter, counter + 1] {
            let ours = format!("{:08}", hotp(&secret, c as u64, 8));
            prop_assert_eq!(ours, code(&secret, c));
        }
        let mut l = lock_at(&key, now - 3_600);
        let typed = code(&secret, counter);
        prop_assert_eq!(enter(&mut l, &typed, now), Decision::Service { counter: counter as u64 });
        prop_assert_eq!(enter(&mut l, &typed, now), Decision::Refuse(Refusal::AlreadyUsed));
        prop_assert_eq!(
            enter(&mut l, &code(&secret, counter - 1), now),
            Decision::Refuse(Refusal::AlreadyUsed)
        );
        // The next step's code is newer: accepted (±1 step of skew).
        prop_assert_eq!(
            enter(&mut l, &code(&secret, counter + 1), now),
            Decision::Service { counter: counter as u64 + 1 }
        );
        // Two steps away: refused on a fresh lock, whichever side.
        let mut fresh = lock_at(&key, now - 3_600);
        for c in [counter - 2, counter + 2] {
            let d = enter(&mut fresh, &code(&secret, c), now);
            prop_assert_eq!(d, Decision::Refuse(Refusal::InvalidCode));
        }
        // The previous step's code, on a fresh lock: accepted once.
        prop_assert_eq!(
            enter(&mut fresh, &code(&secret, counter - 1), now),
            Decision::Service { counter: counter as u64 - 1 }
        );
    }
}

/// A used code stays used across a power cut (the memory entry is in the
/// image), and the entry is dropped once no counter it covers can be
/// accepted any more.
#[test]
fn a_used_service_code_is_refused_after_a_reload() {
    let key = DeviceKey::from_bytes([0x42; 16]);
    let secret = ServiceSecret::derive(&key);
    let now = P.epoch() + 700 * 86_400 + 12 * 3_600 + 7;
    let counter = now / STEP;
    let mut l = lock_at(&key, now - 60);
    let typed = code(&secret, counter);
    assert!(enter(&mut l, &typed, now).opens());
    let entry = l
        .remembered()
        .find(|e| e.kind == EntryKind::Service)
        .unwrap();
    assert_eq!(entry.index, counter as u64);
    assert!(entry.until >= (counter + 2) * STEP, "until {}", entry.until);
    let mut image = vec![0u8; Lock::<16>::STATE_LEN];
    l.save(&mut image).unwrap();
    let mut l2 = started(Lock::<16>::load(codec(&key), UtcOffset::UTC, &image).unwrap());
    assert_eq!(
        enter(&mut l2, &typed, now + 5),
        Decision::Refuse(Refusal::AlreadyUsed)
    );
    // An hour later the code is just invalid; the slot is free again.
    let later = entry.until + 1;
    assert_eq!(l2.free_memory(later), 16);
    assert_eq!(
        enter(&mut l2, &typed, later),
        Decision::Refuse(Refusal::InvalidCode)
    );
}

/// A FF1 PIN and a service code of the same length are both checked: the
/// profile's PINs keep opening, and so do service codes.
#[test]
fn service_codes_as_long_as_pins() {
    let p = Profile::new(ProfileParams {
        service_codes: ServiceCodes {
            digits: 10,
            ..P.params().service_codes
        },
        ..P.params()
    })
    .unwrap();
    let key = DeviceKey::from_bytes([9; 16]);
    let c = Codec::new(&key, p).unwrap();
    let secret = ServiceSecret::derive(&key);
    let now = p.epoch() + 800 * 86_400;
    let mut l = Lock::<16>::new(Codec::new(&key, p).unwrap(), UtcOffset::UTC).unwrap();
    l.commit(l.observe_clock(now)).unwrap();
    let pin = c
        .issue(&Request::time_bound(now - 3_600, now + 3_600))
        .unwrap()
        .pin;
    let check = l.check(pin.as_bytes(), now);
    assert!(matches!(check.decision, Decision::Open(_)));
    let totp = code_at(&secret, p.params().service_codes, now).unwrap();
    assert_eq!(totp.len(), 10);
    let check = l.check(totp.as_bytes(), now);
    assert_eq!(
        check.decision,
        Decision::Service {
            counter: (now / STEP) as u64
        }
    );
    // One string of ten digits is the code of at most one 31-bit value.
    assert_eq!(max_values_per_code(10), 1);
}

/// The figure: the service code's share of the per-attempt figure is
/// `3 · ⌈2^31 / 10^8⌉ / 2^31` over the total, and an attacker's entry
/// opens with at most that chance: over 10^6 random 8-digit guesses at a
/// fixed instant, the number that open is within the binomial bound.
#[test]
fn the_service_share_is_what_random_guesses_get() {
    let s = P.security();
    let service = s.service.unwrap();
    assert_eq!(
        (service.digits, service.codes, service.values_per_code),
        (8, 3, 22)
    );
    let share = 3.0 * 22.0 / 2f64.powi(31);
    assert!((service.per_attempt() - share).abs() < 1e-18);
    assert!((s.per_attempt() - (s.w_max as f64 / 1e10 + share)).abs() < 1e-18);
    assert!(
        s.service_share() > 0.004 && s.service_share() < 0.007,
        "{}",
        s.service_share()
    );
    // The three codes accepted at one instant are three strings of 10^8:
    // a guess opens iff it is one of them.
    let key = DeviceKey::from_bytes([3; 16]);
    let secret = ServiceSecret::derive(&key);
    let now = P.epoch() + 1_000_000;
    let counter = (now / STEP) as u64;
    let accepted: Vec<u32> = (counter - 1..=counter + 1)
        .map(|c| hotp(&secret, c, 8))
        .collect();
    let l = lock_at(&key, now);
    let mut opened = 0;
    for guess in (0u32..100_000_000).step_by(1_009).take(20_000) {
        let d = l.check(format!("{guess:08}").as_bytes(), now).decision;
        assert_eq!(d.opens(), accepted.contains(&guess), "{guess}");
        opened += usize::from(d.opens());
    }
    assert!(opened <= 3);
}
