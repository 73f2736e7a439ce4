//! The saved image of a lock's state: round trips, the image after a
//! change, and every way a bad image is refused (each single-bit flip,
//! truncation, another version, profile, capacity or key count), never
//! with a panic and never with a lock that opens.

#![allow(
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::cast_possible_truncation,
    reason = "test code: a failed unwrap is a failed test"
)]

use offpin::lock::{Decision, Lock, PersistError};
use offpin::profile::shipped::{COMPACT_8, SECURE_12, STANDARD_10};
use offpin::{Codec, DeviceKey, Pin, Profile, Refusal, Request, UnixSeconds, UtcOffset};
use proptest::prelude::*;

const HOUR: i64 = 3_600;

fn codec_with(p: Profile, key: u8) -> Codec {
    Codec::new(&DeviceKey::from_bytes([key; 16]), p).unwrap()
}

fn codec(p: Profile) -> Codec {
    codec_with(p, 7)
}

fn pin(p: Profile, req: Request) -> Pin {
    codec(p).issue(&req).unwrap().pin
}

fn t0(p: Profile) -> UnixSeconds {
    p.epoch() + 10_000 * HOUR
}

fn enter<const M: usize>(l: &mut Lock<M>, pin: &Pin, now: UnixSeconds) -> Decision {
    let c = l.check(pin.as_bytes(), now);
    l.commit(c.change).unwrap();
    c.decision
}

/// A SECURE_12 lock with something in every part of its state.
fn busy_lock<const M: usize>() -> (Lock<M>, Vec<Pin>) {
    let p = SECURE_12;
    let t = t0(p);
    let mut l = Lock::<M>::new(codec(p), UtcOffset::from_minutes(90).unwrap()).unwrap();
    let once = pin(p, Request::one_time(t));
    let long = pin(p, Request::time_bound(t, t + 72 * HOUR).with_lineage(3));
    let revoke = pin(p, Request::revoke_slot(999));
    let before = pin(p, Request::revoke_started_before(t - 100 * HOUR));
    assert!(matches!(
        enter(&mut l, &before, t - 100 * HOUR + 10),
        Decision::Revoked(_)
    ));
    assert!(enter(&mut l, &once, t + 60).opens());
    assert!(enter(&mut l, &long, t + 120).opens());
    assert!(matches!(
        enter(&mut l, &revoke, t + 180),
        Decision::Revoked(_)
    ));
    for _ in 0..2 {
        assert!(
            !enter(
                &mut l,
                &Pin::parse(b"000000000000", p.radix(), 12).unwrap(),
                t + 240
            )
            .opens()
        );
    }
    (l, vec![once, long])
}

#[test]
fn lock_image_round_trips() {
    let (l, pins) = busy_lock::<32>();
    let mut image = [0u8; Lock::<32>::STATE_LEN];
    l.save(&mut image).unwrap();
    let loaded = Lock::<32>::load(codec(SECURE_12), l.offset(), &image).unwrap();
    let mut again = [0u8; Lock::<32>::STATE_LEN];
    loaded.save(&mut again).unwrap();
    assert_eq!(image, again);
    assert_eq!(loaded.sequence(), l.sequence());
    assert_eq!(loaded.highest_seen(), l.highest_seen());
    assert_eq!(loaded.consecutive_failures(), 2);
    assert!(loaded.is_slot_revoked(999));
    assert_eq!(loaded.watermark(), l.watermark());
    assert_eq!(loaded.lineage_mark(3), l.lineage_mark(3));
    assert_eq!(
        loaded.remembered().collect::<Vec<_>>(),
        l.remembered().collect::<Vec<_>>()
    );
    let t = t0(SECURE_12) + 300;
    for pin in &pins {
        assert_eq!(l.check(pin.as_bytes(), t), loaded.check(pin.as_bytes(), t));
    }
    assert_eq!(
        loaded.check(pins[0].as_bytes(), t).decision,
        Decision::Refuse(Refusal::AlreadyUsed)
    );
}

#[test]
fn lock_image_after_a_change_is_the_image_after_commit() {
    let (mut l, _) = busy_lock::<8>();
    let p = SECURE_12;
    let t = t0(p) + 400;
    let entries = [
        pin(p, Request::one_time(t0(p) + HOUR)),
        pin(p, Request::revoke_slot(5)),
        pin(
            p,
            Request::time_bound(t0(p), t0(p) + 3 * HOUR).with_lineage(4),
        ),
        Pin::parse(b"123456789012", p.radix(), 12).unwrap(),
    ];
    for (i, e) in entries.iter().enumerate() {
        let c = l.check(e.as_bytes(), t + i as i64);
        let mut predicted = [0u8; Lock::<8>::STATE_LEN];
        l.save_after(&c.change, &mut predicted).unwrap();
        l.commit(c.change).unwrap();
        let mut actual = [0u8; Lock::<8>::STATE_LEN];
        l.save(&mut actual).unwrap();
        assert_eq!(predicted, actual, "entry {i}");
        // A change is stale once committed.
        assert_eq!(
            l.save_after(&c.change, &mut predicted),
            Err(PersistError::StaleChange)
        );
    }
}

#[test]
fn lock_image_every_single_bit_flip_is_detected() {
    let (l, pins) = busy_lock::<64>();
    let mut image = [0u8; Lock::<64>::STATE_LEN];
    l.save(&mut image).unwrap();
    let mut flips = 0;
    for byte in 0..image.len() {
        for bit in 0..8 {
            let mut bad = image;
            bad[byte] ^= 1 << bit;
            let r = Lock::<64>::load(codec(SECURE_12), l.offset(), &bad);
            assert!(r.is_err(), "flip of bit {bit} of byte {byte} undetected");
            flips += 1;
        }
    }
    assert_eq!(flips, 8 * Lock::<64>::STATE_LEN);
    println!("{flips} single-bit flips detected");
    // The untouched image still loads and remembers.
    let ok = Lock::<64>::load(codec(SECURE_12), l.offset(), &image).unwrap();
    assert!(
        !ok.check(pins[0].as_bytes(), t0(SECURE_12) + 300)
            .decision
            .opens()
    );
}

#[test]
fn lock_image_truncated_or_extended_is_refused() {
    let (l, _) = busy_lock::<16>();
    let mut image = vec![0u8; Lock::<16>::STATE_LEN];
    l.save(&mut image).unwrap();
    for len in 0..image.len() {
        let r = Lock::<16>::load(codec(SECURE_12), l.offset(), &image[..len]);
        assert_eq!(
            r.unwrap_err(),
            PersistError::WrongLength {
                expected: Lock::<16>::STATE_LEN,
                found: len
            },
            "length {len}"
        );
    }
    image.push(0);
    assert!(matches!(
        Lock::<16>::load(codec(SECURE_12), l.offset(), &image),
        Err(PersistError::WrongLength { .. })
    ));
    let mut short = [0u8; 10];
    assert_eq!(
        l.save(&mut short),
        Err(PersistError::WrongLength {
            expected: Lock::<16>::STATE_LEN,
            found: 10
        })
    );
}

#[test]
fn lock_image_of_another_version_profile_capacity_or_key_count_is_refused() {
    let p = STANDARD_10;
    let l = Lock::<32>::new(codec(p), UtcOffset::UTC).unwrap();
    let mut image = [0u8; Lock::<32>::STATE_LEN];
    l.save(&mut image).unwrap();
    assert_eq!(&image[..4], b"OPL\x01");

    let mut v2 = image;
    v2[3] = 2;
    assert_eq!(
        Lock::<32>::load(codec(p), UtcOffset::UTC, &v2).unwrap_err(),
        PersistError::UnknownVersion { found: 2 }
    );
    let mut magic = image;
    magic[0] = b'X';
    assert_eq!(
        Lock::<32>::load(codec(p), UtcOffset::UTC, &magic).unwrap_err(),
        PersistError::BadMagic
    );
    // Same capacity, other profile.
    let other = Lock::<32>::new(codec(COMPACT_8), UtcOffset::UTC).unwrap();
    let mut foreign = [0u8; Lock::<32>::STATE_LEN];
    other.save(&mut foreign).unwrap();
    assert_eq!(
        Lock::<32>::load(codec(p), UtcOffset::UTC, &foreign).unwrap_err(),
        PersistError::ForeignProfile
    );
    // Other capacity.
    assert_eq!(
        Lock::<64>::load(codec(p), UtcOffset::UTC, &image).unwrap_err(),
        PersistError::CapacityMismatch {
            expected: 64,
            found: 32
        }
    );
    // Other number of keys.
    let two = Lock::<32, 2>::new([codec_with(p, 1), codec_with(p, 2)], UtcOffset::UTC).unwrap();
    let mut image2 = [0u8; Lock::<32, 2>::STATE_LEN];
    two.save(&mut image2).unwrap();
    assert_eq!(
        Lock::<32>::load(codec(p), UtcOffset::UTC, &image2).unwrap_err(),
        PersistError::KeyCountMismatch {
            expected: 1,
            found: 2
        }
    );
    assert!(
        Lock::<32, 2>::load(
            [codec_with(p, 1), codec_with(p, 2)],
            UtcOffset::UTC,
            &image2
        )
        .is_ok()
    );
    // Keys that do not make a lock.
    assert!(matches!(
        Lock::<65>::load(codec(p), UtcOffset::UTC, &image),
        Err(PersistError::Config(_))
    ));
    for e in [
        PersistError::Checksum,
        PersistError::BadMagic,
        PersistError::InvalidField { offset: 3 },
    ] {
        assert!(!e.to_string().is_empty());
    }
}

#[test]
fn lock_load_newest_prefers_the_newest_valid_image() {
    let p = STANDARD_10;
    let t = t0(p);
    let mut l = Lock::<8>::new(codec(p), UtcOffset::UTC).unwrap();
    let mut old = [0u8; Lock::<8>::STATE_LEN];
    l.save(&mut old).unwrap();
    let once = pin(p, Request::one_time(t));
    let c = l.check(once.as_bytes(), t);
    let mut new = [0u8; Lock::<8>::STATE_LEN];
    l.save_after(&c.change, &mut new).unwrap();
    l.commit(c.change).unwrap();

    for images in [[&old[..], &new[..]], [&new[..], &old[..]]] {
        let loaded = Lock::<8>::load_newest(codec(p), UtcOffset::UTC, &images).unwrap();
        assert_eq!(loaded.sequence(), 1);
        assert!(!loaded.check(once.as_bytes(), t).decision.opens());
    }
    let mut torn = new;
    torn[200] ^= 0x10;
    let loaded = Lock::<8>::load_newest(codec(p), UtcOffset::UTC, &[&old, &torn]).unwrap();
    assert_eq!(loaded.sequence(), 0, "the torn image is skipped");
    assert_eq!(
        Lock::<8>::load_newest(codec(p), UtcOffset::UTC, &[&torn, &[0xff; 3]]).unwrap_err(),
        PersistError::Checksum
    );
    assert!(matches!(
        Lock::<8>::load_newest(codec(p), UtcOffset::UTC, &[]),
        Err(PersistError::WrongLength { found: 0, .. })
    ));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Garbage with a plausible header never loads, and never panics.
    #[test]
    fn lock_garbage_images_never_load(
        body in proptest::collection::vec(any::<u8>(), Lock::<8>::STATE_LEN - 4),
        cut in 0usize..Lock::<8>::STATE_LEN + 4,
    ) {
        let mut image = b"OPL\x01".to_vec();
        image.extend_from_slice(&body);
        image.truncate(cut.min(image.len()));
        prop_assert!(Lock::<8>::load(codec(STANDARD_10), UtcOffset::UTC, &image).is_err());
    }
}
