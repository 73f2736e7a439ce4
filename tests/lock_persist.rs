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

#[path = "common/boot.rs"]
mod boot;
use boot::started;

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
    assert_eq!(
        loaded.check(pins[0].as_bytes(), t0(SECURE_12)).decision,
        Decision::Refuse(Refusal::NotStarted),
        "a loaded lock decides nothing before its start"
    );
    let loaded = started(loaded);
    assert_eq!(
        loaded.sequence(),
        l.sequence() + 1,
        "the start is one write"
    );
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
        assert_eq!(
            l.check(pin.as_bytes(), t).decision,
            loaded.check(pin.as_bytes(), t).decision
        );
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
    assert_eq!(&image[..4], b"OPL\x02");

    let mut v3 = image;
    v3[3] = 3;
    assert_eq!(
        Lock::<32>::load(codec(p), UtcOffset::UTC, &v3).unwrap_err(),
        PersistError::UnknownVersion { found: 3 }
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
    // Other number of keys (a lock of two needs the feature group-keys).
    #[cfg(feature = "group-keys")]
    {
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
    }
    // Keys that do not make a lock: the wrapper says why through source().
    let e = Lock::<65>::load(codec(p), UtcOffset::UTC, &image).unwrap_err();
    assert!(matches!(e, PersistError::Config(_)));
    let source = std::error::Error::source(&e).expect("a source");
    assert!(source.to_string().contains("lock_memory"), "{source}");
    for e in [
        PersistError::Checksum,
        PersistError::Corrupted,
        PersistError::Forged,
        PersistError::ForeignLock { key: 1 },
        PersistError::RolledBack {
            image: 1,
            counter: 2,
        },
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
        PersistError::Corrupted
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
        let mut image = b"OPL\x02".to_vec();
        image.extend_from_slice(&body);
        image.truncate(cut.min(image.len()));
        prop_assert!(Lock::<8>::load(codec(STANDARD_10), UtcOffset::UTC, &image).is_err());
    }
}

/// The CRC-32 (zlib) of the bytes before the last four, written there: what
/// anyone editing an image can recompute.
fn fix_crc(image: &mut [u8]) {
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

/// Issue 9, point 2: an image edited and resealed, a forged one, another
/// lock's image of the same profile, each refused with its own error, and
/// none of them opens what the genuine image refuses.
#[test]
fn lock_image_forged_resealed_or_foreign_is_refused() {
    let p = STANDARD_10;
    let t = t0(p);
    let once = pin(p, Request::one_time(t));
    let mut l = Lock::<8>::new(codec(p), UtcOffset::UTC).unwrap();
    assert!(enter(&mut l, &once, t + 60).opens());
    let mut genuine = [0u8; Lock::<8>::STATE_LEN];
    l.save(&mut genuine).unwrap();
    let load = |image: &[u8]| Lock::<8>::load(codec(p), UtcOffset::UTC, image).map(started);
    assert_eq!(
        load(&genuine)
            .unwrap()
            .check(once.as_bytes(), t + 120)
            .decision,
        Decision::Refuse(Refusal::AlreadyUsed)
    );

    // Edited (the used code's memory slot cleared) and resealed with what
    // a flash reader can compute: the CRC is right, the tag is not.
    let entries = Lock::<8>::STATE_LEN - 20 - 8 * 14;
    let mut resealed = genuine;
    resealed[entries..entries + 14].fill(0);
    fix_crc(&mut resealed);
    assert_eq!(load(&resealed).unwrap_err(), PersistError::Forged);
    // ... or resealed the way version 1 was, with a SHA-256 checksum.
    let mut v1_style = genuine;
    v1_style[entries..entries + 14].fill(0);
    let n = v1_style.len() - 8;
    let digest = <sha2::Sha256 as sha2::Digest>::digest(&v1_style[..n]);
    v1_style[n..].copy_from_slice(&digest[..8]);
    assert_eq!(load(&v1_style).unwrap_err(), PersistError::Corrupted);

    // Forged: the attacker's own lock of the same profile writes a valid
    // image (with a budget and memory of their choosing), and the victim
    // lock's key fingerprints are put in its header.
    let attacker = Lock::<8>::new(codec_with(p, 99), UtcOffset::UTC).unwrap();
    let mut forged = [0u8; Lock::<8>::STATE_LEN];
    attacker.save(&mut forged).unwrap();
    let mut foreign = forged;
    forged[15..23].copy_from_slice(&genuine[15..23]);
    fix_crc(&mut forged);
    assert_eq!(load(&forged).unwrap_err(), PersistError::Forged);

    // Another lock's genuine image of the same profile, as it is.
    assert_eq!(
        load(&foreign).unwrap_err(),
        PersistError::ForeignLock { key: 0 }
    );
    // Random damage (a torn write) is told apart from tampering.
    foreign[100] ^= 4;
    assert_eq!(load(&foreign).unwrap_err(), PersistError::Corrupted);

    // load_newest never picks any of them over the genuine image.
    for bad in [&resealed[..], &forged[..], &v1_style[..]] {
        let l =
            started(Lock::<8>::load_newest(codec(p), UtcOffset::UTC, &[bad, &genuine]).unwrap());
        assert_eq!(
            l.check(once.as_bytes(), t + 120).decision,
            Decision::Refuse(Refusal::AlreadyUsed)
        );
    }
}

/// Issue 9, point 3: loading `[group, device]` where `[device, group]` was
/// saved keeps every used code used (entries follow their key).
#[cfg(feature = "group-keys")]
#[test]
fn lock_image_keys_in_another_order_keep_their_memory() {
    let p = STANDARD_10;
    let t = t0(p);
    let (device, group) = (1, 2);
    let once = codec_with(p, group)
        .issue(&Request::one_time(t))
        .unwrap()
        .pin;
    let mut l = Lock::<8, 2>::new(
        [codec_with(p, device), codec_with(p, group)],
        UtcOffset::UTC,
    )
    .unwrap();
    let c = l.check(once.as_bytes(), t + 60);
    assert_eq!((c.decision.opens(), c.key), (true, Some(1)));
    l.commit(c.change).unwrap();
    let mut image = [0u8; Lock::<8, 2>::STATE_LEN];
    l.save(&mut image).unwrap();

    let swapped = started(
        Lock::<8, 2>::load(
            [codec_with(p, group), codec_with(p, device)],
            UtcOffset::UTC,
            &image,
        )
        .unwrap(),
    );
    let c = swapped.check(once.as_bytes(), t + 120);
    assert_eq!(c.decision, Decision::Refuse(Refusal::AlreadyUsed));
    assert_eq!(c.key, Some(0), "the group key is now key 0");
    assert_eq!(swapped.remembered().next().map(|e| e.key), Some(0));
    // Saved in the new order, loaded back in the old one: still used.
    let mut again = [0u8; Lock::<8, 2>::STATE_LEN];
    swapped.save(&mut again).unwrap();
    assert_ne!(again, image, "fingerprints in the new order");
    let back = started(
        Lock::<8, 2>::load(
            [codec_with(p, device), codec_with(p, group)],
            UtcOffset::UTC,
            &again,
        )
        .unwrap(),
    );
    assert_eq!(
        back.check(once.as_bytes(), t + 180).decision,
        Decision::Refuse(Refusal::AlreadyUsed)
    );
    // A lock with one key replaced by another is another lock.
    assert_eq!(
        Lock::<8, 2>::load(
            [codec_with(p, device), codec_with(p, 3)],
            UtcOffset::UTC,
            &image
        )
        .unwrap_err(),
        PersistError::ForeignLock { key: 1 }
    );
}

/// Issue 9, point 2: an older genuine image is refused once the firmware's
/// monotonic counter has moved past it; without a counter it loads and
/// reopens exactly what was used after it was written (LOCK.md §2).
#[test]
fn lock_image_rollback_is_refused_with_a_counter() {
    let p = STANDARD_10;
    let t = t0(p);
    let once = pin(p, Request::one_time(t));
    let mut hw = 0u32; // the simulated hardware counter
    let mut l = Lock::<8>::new(codec(p), UtcOffset::UTC).unwrap();
    let write = |l: &mut Lock<8>, change: offpin::lock::Change, hw: &mut u32| {
        let mut image = [0u8; Lock::<8>::STATE_LEN];
        l.save_after(&change, &mut image).unwrap();
        assert_eq!(change.counter(), *hw + 1, "the lock writes counter + 1");
        *hw = change.counter(); // raised after the write
        l.commit(change).unwrap();
        image
    };
    let observed = l.observe_clock(t);
    let old = write(&mut l, observed, &mut hw);
    assert_eq!((l.rollback_counter(), hw), (1, 1));
    let c = l.check(once.as_bytes(), t + 60);
    assert!(c.decision.opens());
    let new = write(&mut l, c.change, &mut hw);
    assert_eq!(hw, 2);

    assert_eq!(
        Lock::<8>::load_with_counter(codec(p), UtcOffset::UTC, &old, hw).unwrap_err(),
        PersistError::RolledBack {
            image: 1,
            counter: 2
        }
    );
    let l = started(
        Lock::<8>::load_newest_with_counter(codec(p), UtcOffset::UTC, &[&old, &new], hw).unwrap(),
    );
    assert_eq!(
        l.check(once.as_bytes(), t + 120).decision,
        Decision::Refuse(Refusal::AlreadyUsed)
    );
    // A cut between the write and the bump: the image is one ahead, loads.
    assert!(Lock::<8>::load_with_counter(codec(p), UtcOffset::UTC, &new, hw - 1).is_ok());
    // Without a counter the old image loads, and the one-time code used
    // since opens again: what LOCK.md says a rollback reopens.
    let rolled = started(Lock::<8>::load(codec(p), UtcOffset::UTC, &old).unwrap());
    assert!(rolled.check(once.as_bytes(), t + 120).decision.opens());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// Version-1 garbage never loads either.
    #[test]
    fn lock_garbage_v1_images_never_load(
        body in proptest::collection::vec(any::<u8>(), 316 + 18 * 8 - 4),
    ) {
        let mut image = b"OPL\x01".to_vec();
        image.extend_from_slice(&body);
        prop_assert!(Lock::<8>::load(codec(STANDARD_10), UtcOffset::UTC, &image).is_err());
    }
}

/// The image of a lock's current state, to compare two states byte for
/// byte.
fn image_of<const M: usize>(l: &Lock<M>) -> Vec<u8> {
    let mut image = vec![0u8; Lock::<M>::STATE_LEN];
    l.save(&mut image).unwrap();
    image
}

/// Issue 14: `load_newest_into` loads in place what `load_newest` returns
/// by value: the newest valid image, skipping a torn one, with its memory.
#[test]
fn lock_load_newest_into_is_load_newest_in_place() {
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
    let mut torn = new;
    torn[200] ^= 0x10;

    for images in [
        [&old[..], &new[..]],
        [&new[..], &old[..]],
        [&old[..], &torn[..]],
        [&torn[..], &new[..]],
    ] {
        let by_value = Lock::<8>::load_newest(codec(p), UtcOffset::UTC, &images).unwrap();
        let mut in_place = Lock::<8>::new(codec(p), UtcOffset::UTC).unwrap();
        in_place.load_newest_into(&images, 0).unwrap();
        assert_eq!(image_of(&in_place), image_of(&by_value));
        let (by_value, in_place) = (started(by_value), started(in_place));
        assert_eq!(
            in_place.check(once.as_bytes(), t + 60),
            by_value.check(once.as_bytes(), t + 60)
        );
    }
    // Loaded into a lock that already holds a newer state: replaced.
    let mut running = Lock::<8>::new(codec(p), UtcOffset::UTC).unwrap();
    running.load_newest_into(&[&new], 0).unwrap();
    let mut running = started(running);
    assert_eq!(
        running.check(once.as_bytes(), t + 60).decision,
        Decision::Refuse(Refusal::AlreadyUsed)
    );
    running.load_newest_into(&[&old], 0).unwrap();
    assert_eq!(running.sequence(), 0);
    let running = started(running);
    assert!(running.check(once.as_bytes(), t + 60).decision.opens());
}

/// Issue 14: an image `load_newest_into` refuses changes nothing in the
/// lock it was loaded into: not a torn, forged, foreign, rolled-back,
/// truncated or other-profile image, nor an empty list.
#[test]
fn lock_load_newest_into_leaves_the_lock_unchanged_on_error() {
    let p = STANDARD_10;
    let t = t0(p);
    let once = pin(p, Request::one_time(t));
    let mut l = Lock::<8>::new(codec(p), UtcOffset::UTC).unwrap();
    let observed = l.observe_clock(t);
    let mut old = [0u8; Lock::<8>::STATE_LEN];
    l.save_after(&observed, &mut old).unwrap();
    l.commit(observed).unwrap();
    let c = l.check(once.as_bytes(), t + 60);
    let change = c.change;
    let mut new = [0u8; Lock::<8>::STATE_LEN];
    l.save_after(&change, &mut new).unwrap();
    l.commit(change).unwrap();
    assert_eq!(new.to_vec(), image_of(&l));

    let mut torn = new;
    torn[300] ^= 1;
    let mut forged = new;
    let entries = Lock::<8>::STATE_LEN - 20 - 8 * 14;
    forged[entries..entries + 14].fill(0);
    fix_crc(&mut forged);
    let mut foreign = [0u8; Lock::<8>::STATE_LEN];
    Lock::<8>::new(codec_with(p, 99), UtcOffset::UTC)
        .unwrap()
        .save(&mut foreign)
        .unwrap();
    let mut other_profile = [0u8; Lock::<8>::STATE_LEN];
    Lock::<8>::new(codec(COMPACT_8), UtcOffset::UTC)
        .unwrap()
        .save(&mut other_profile)
        .unwrap();
    let cases: [(&[&[u8]], u32, PersistError); 7] = [
        (
            &[],
            0,
            PersistError::WrongLength {
                expected: Lock::<8>::STATE_LEN,
                found: 0,
            },
        ),
        (&[&torn], 0, PersistError::Corrupted),
        (&[&forged, &torn], 0, PersistError::Forged),
        (&[&foreign], 0, PersistError::ForeignLock { key: 0 }),
        (&[&other_profile], 0, PersistError::ForeignProfile),
        (
            &[&old],
            2,
            PersistError::RolledBack {
                image: 1,
                counter: 2,
            },
        ),
        (
            &[&new[..100]],
            0,
            PersistError::WrongLength {
                expected: Lock::<8>::STATE_LEN,
                found: 100,
            },
        ),
    ];
    for (images, counter, error) in cases {
        assert_eq!(l.load_newest_into(images, counter), Err(error));
        assert_eq!(image_of(&l), new.to_vec(), "{error:?} changed the lock");
        assert_eq!(
            l.check(once.as_bytes(), t + 120).decision,
            Decision::Refuse(Refusal::AlreadyUsed)
        );
    }
    // With the genuine newest image among them, it is the one loaded.
    l.load_newest_into(&[&forged, &old, &torn, &new], 2)
        .unwrap();
    assert_eq!(image_of(&l), new.to_vec());
}

/// Issue 14: loading in place drops a charge waiting for its check, as a
/// power cut does: the check computed before the load cannot be
/// committed, and the loaded charge stays counted.
#[test]
fn lock_load_newest_into_drops_a_waiting_charge() {
    let p = STANDARD_10;
    let t = t0(p);
    let mut l = Lock::<8>::new(codec(p), UtcOffset::UTC).unwrap();
    let charge = l.charge(t);
    let mut image = [0u8; Lock::<8>::STATE_LEN];
    l.save_after(&charge, &mut image).unwrap();
    l.commit(charge).unwrap();
    let handyman = pin(p, Request::ongoing(8));
    let check = l.check(handyman.as_bytes(), t + 1);
    assert!(check.decision.opens());
    let budget = l.budget_left(t + 1);
    l.load_newest_into(&[&image], 0).unwrap();
    assert_eq!(
        l.commit(check.change),
        Err(offpin::lock::CommitError::StaleCharge)
    );
    assert_eq!(l.budget_left(t + 1), budget, "the charge stays spent");
    // Not started: nothing is charged, every entry refused unseen.
    assert!(l.charge(t + 2).is_empty());
    assert_eq!(
        l.check(handyman.as_bytes(), t + 2).decision,
        Decision::Refuse(Refusal::NotStarted)
    );
    let mut l = started(l);
    // An entry after the start is charged and checked as usual.
    let charge = l.charge(t + 2);
    l.commit(charge).unwrap();
    let check = l.check(handyman.as_bytes(), t + 2);
    l.commit(check.change).unwrap();
    assert!(check.decision.opens());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Issue 14: for any choice of slots (genuine images of a lock's
    /// history, each possibly damaged) and any counter, loading in place
    /// gives what loading by value gives, and on error leaves the lock as
    /// it was.
    #[test]
    fn lock_load_newest_into_agrees_with_load_newest(
        picks in proptest::collection::vec((0usize..6, proptest::option::of(0usize..Lock::<4>::STATE_LEN)), 0..4),
        counter in 0u32..8,
    ) {
        let p = STANDARD_10;
        let t = t0(p);
        // A history of six images, with counters 1..=6.
        let mut l = Lock::<4>::new(codec(p), UtcOffset::UTC).unwrap();
        let mut history = Vec::new();
        for i in 0..6u32 {
            let at = t + i64::from(i) * HOUR;
            let change = if i % 2 == 0 {
                l.check(pin(p, Request::one_time(at)).as_bytes(), at).change
            } else {
                l.observe_clock(at)
            };
            let mut image = vec![0u8; Lock::<4>::STATE_LEN];
            l.save_after(&change, &mut image).unwrap();
            l.commit(change).unwrap();
            history.push(image);
        }
        let slots: Vec<Vec<u8>> = picks
            .iter()
            .map(|(i, flip)| {
                let mut image = history[*i].clone();
                if let Some(at) = flip {
                    image[*at] ^= 0x20;
                }
                image
            })
            .collect();
        let refs: Vec<&[u8]> = slots.iter().map(Vec::as_slice).collect();
        let by_value = Lock::<4>::load_newest_with_counter(codec(p), UtcOffset::UTC, &refs, counter);
        let mut running = Lock::<4>::new(codec(p), UtcOffset::UTC).unwrap();
        running.load_newest_into(&[&history[2]], 0).unwrap();
        let before = image_of(&running);
        match (by_value, running.load_newest_into(&refs, counter)) {
            (Ok(v), Ok(())) => prop_assert_eq!(image_of(&v), image_of(&running)),
            (Err(a), Err(b)) => {
                prop_assert_eq!(a, b);
                prop_assert_eq!(image_of(&running), before);
            }
            (a, b) => prop_assert!(false, "by value {:?}, in place {:?}", a.map(|_| ()), b),
        }
    }
}
