//! Issue 9, point 2: a lock updated in the field does not forget what it
//! remembered. `tests/vectors/lock_state_v1.json` holds version-1 images
//! written by offpin 0.1 (main at 4cbeee4, before version 2 existed) with
//! the state each holds and the decisions its lock gave; this crate loads
//! every one, carries every used code, activation, revocation, lineage
//! mark and the lock-out over, decides every probe the same way, and saves
//! it as version 2.

#![cfg(feature = "lock-state-v1")]
#![allow(
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::cast_possible_truncation,
    reason = "test code: a failed unwrap is a failed test"
)]

use offpin::lock::{Decision, EntryKind, Lock, PersistError};
use offpin::profile::shipped::by_name;
use offpin::{Codec, DeviceKey, Pin, Profile, UtcOffset};
use serde_json::Value;

#[path = "common/boot.rs"]
mod boot;
use boot::started;

/// The lock migrated from version-1 `images` (the migration path, once),
/// started.
fn migrated<const M: usize, const K: usize>(
    codecs: [Codec; K],
    offset: UtcOffset,
    images: &[&[u8]],
    counter: u32,
) -> Result<Lock<M, K>, PersistError> {
    let mut lock = Lock::<M, K>::new(codecs, offset)?;
    lock.migrate_v1_into(images, counter)?;
    Ok(started(lock))
}

fn cases() -> Vec<Value> {
    let doc: Value = serde_json::from_str(include_str!("vectors/lock_state_v1.json")).unwrap();
    doc["cases"].as_array().unwrap().clone()
}

fn decision(d: Decision) -> String {
    match d {
        Decision::Open(g) => format!("open:{}", g.kind().name()),
        Decision::Revoked(_) => "revoked".into(),
        Decision::ClockSet { to } => format!("clock_set:{to}"),
        Decision::Service { counter } => format!("service:{counter}"),
        Decision::Refuse(r) => format!("refuse:{}", r.code()),
    }
}

fn codecs<const K: usize>(case: &Value, p: Profile) -> [Codec; K] {
    let keys = case["keys"].as_array().unwrap();
    core::array::from_fn(|i| {
        let bytes: [u8; 16] = hex::decode(keys[i].as_str().unwrap())
            .unwrap()
            .try_into()
            .unwrap();
        Codec::new(&DeviceKey::from_bytes(bytes), p).unwrap()
    })
}

/// Loads the case's image into a `Lock<M, K>` and checks it against what
/// the vector says, then saves it as version 2 and checks that again.
fn migrate<const M: usize, const K: usize>(case: &Value) {
    let name = case["case"].as_str().unwrap();
    let p = by_name(case["profile"].as_str().unwrap()).unwrap();
    let offset =
        UtcOffset::from_minutes(case["utc_offset_minutes"].as_i64().unwrap() as i32).unwrap();
    let image = hex::decode(case["image"].as_str().unwrap()).unwrap();
    assert_eq!(&image[..4], b"OPL\x01", "{name}");
    // Loading never reads it; the migration does.
    assert_eq!(
        Lock::<M, K>::load(codecs::<K>(case, p), offset, &image).unwrap_err(),
        PersistError::Version1,
        "{name}"
    );
    let lock = migrated::<M, K>(codecs::<K>(case, p), offset, &[&image], 0)
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    same_as_vector(name, p, case, &lock, 1);

    // Saved again: a version-2 image that keeps all of it.
    let mut v2 = vec![0u8; Lock::<M, K>::STATE_LEN];
    lock.save(&mut v2).unwrap();
    assert_eq!(&v2[..4], b"OPL\x02");
    let again = started(Lock::<M, K>::load(codecs::<K>(case, p), offset, &v2).unwrap());
    same_as_vector(name, p, case, &again, 2);

    // Once a version-2 image was written, or the firmware's counter has
    // moved, a version-1 image (which anyone can write) is refused.
    assert_eq!(
        migrated::<M, K>(codecs::<K>(case, p), offset, &[&image, &v2], 0).unwrap_err(),
        PersistError::AlreadyMigrated,
        "{name}"
    );
    assert_eq!(
        migrated::<M, K>(codecs::<K>(case, p), offset, &[&image], 1).unwrap_err(),
        PersistError::AlreadyMigrated,
        "{name}"
    );
}

fn same_as_vector<const M: usize, const K: usize>(
    name: &str,
    p: Profile,
    case: &Value,
    lock: &Lock<M, K>,
    starts: u64,
) {
    let state = &case["state"];
    // Each start writes the state again, one sequence number up.
    assert_eq!(
        lock.sequence(),
        state["sequence"].as_u64().unwrap() + starts,
        "{name}"
    );
    let hs = state["highest_seen"].as_i64().unwrap();
    assert_eq!(lock.highest_seen(), hs, "{name}");
    assert_eq!(
        lock.consecutive_failures(),
        state["consecutive_failures"].as_u64().unwrap(),
        "{name}"
    );
    assert_eq!(
        lock.locked_out_until(hs),
        state["locked_out_until"].as_i64(),
        "{name}: lock-out"
    );
    // The failures since the last opening are spent from the budget.
    assert_eq!(
        u64::from(lock.budget_left(hs)),
        u64::from(p.lockout().budget) - state["consecutive_failures"].as_u64().unwrap(),
        "{name}: budget"
    );
    // The watermark and the lineage marks stand for the same instants: a
    // code starting before them (by the v1 lock's offset) is refused.
    let epoch = p.epoch();
    let hour_of = |at: i64| u32::try_from((at - epoch).div_euclid(3_600)).unwrap();
    assert_eq!(
        lock.watermark().map(|m| m.hour),
        state["watermark"].as_i64().map(hour_of),
        "{name}: watermark"
    );
    for (i, mark) in state["lineage_marks"]
        .as_array()
        .unwrap()
        .iter()
        .enumerate()
    {
        let l = u8::try_from(i + 1).unwrap();
        assert_eq!(
            lock.lineage_mark(l).map(|m| m.hour),
            mark.as_i64()
                .map(|at| u32::try_from((at - epoch + 3_599).div_euclid(3_600)).unwrap()),
            "{name}: lineage {l}"
        );
    }
    let revoked: Vec<u32> = (0..p.params().ongoing_slots)
        .filter(|s| lock.is_slot_revoked(*s))
        .collect();
    let expected: Vec<u32> = state["revoked_slots"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_u64().unwrap() as u32)
        .collect();
    assert_eq!(revoked, expected, "{name}: revoked slots");
    // Every remembered code, same key, index and kind, remembered at least
    // as long as version 1 did.
    let entries: Vec<_> = lock.remembered().collect();
    let remembered = state["remembered"].as_array().unwrap();
    assert_eq!(entries.len(), remembered.len(), "{name}: memory");
    for (e, v) in entries.iter().zip(remembered) {
        assert_eq!(u64::from(e.key), v["key"].as_u64().unwrap(), "{name}");
        assert_eq!(e.index, v["index"].as_u64().unwrap(), "{name}");
        let kind = match e.kind {
            EntryKind::Used => "used",
            EntryKind::Activated => "activated",
            EntryKind::Service => "service",
        };
        assert_eq!(kind, v["kind"].as_str().unwrap(), "{name}");
        assert!(
            e.until >= v["until"].as_i64().unwrap(),
            "{name}: entry ends early"
        );
    }
    // Every probe decides as the version-1 lock did.
    let pins: Vec<(String, Pin)> = case["codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            let pin = Pin::parse(c["pin"].as_str().unwrap().as_bytes(), p.radix(), p.digits());
            (c["code"].as_str().unwrap().to_owned(), pin.unwrap())
        })
        .collect();
    let probes = case["probes"].as_array().unwrap();
    assert!(!probes.is_empty());
    for probe in probes {
        let code = probe["code"].as_str().unwrap();
        let now = probe["now"].as_i64().unwrap();
        let pin = &pins.iter().find(|(c, _)| c == code).unwrap().1;
        assert_eq!(
            decision(lock.check(pin.as_bytes(), now).decision),
            probe["decision"].as_str().unwrap(),
            "{name}: {code} at {now}"
        );
    }
}

#[test]
fn lock_v1_images_migrate_with_everything_they_remember() {
    let cases = cases();
    assert_eq!(cases.len(), 8);
    for case in &cases {
        let memory = case["memory"].as_u64().unwrap();
        let keys = case["keys"].as_array().unwrap().len();
        match (memory, keys) {
            (32, 1) => migrate::<32, 1>(case),
            (64, 1) => migrate::<64, 1>(case),
            // A lock of two keys needs the feature group-keys.
            #[cfg(feature = "group-keys")]
            (8, 2) => migrate::<8, 2>(case),
            #[cfg(not(feature = "group-keys"))]
            (8, 2) => {}
            other => panic!("no lock type for {other:?}"),
        }
    }
}

#[test]
fn lock_v1_images_are_checked_as_before() {
    let case = &cases()[1];
    let p = by_name(case["profile"].as_str().unwrap()).unwrap();
    let image = hex::decode(case["image"].as_str().unwrap()).unwrap();
    let load = |image: &[u8]| migrated::<32, 1>(codecs::<1>(case, p), UtcOffset::UTC, &[image], 0);
    assert!(load(&image).is_ok());
    let mut bad = image.clone();
    bad[40] ^= 1;
    assert_eq!(load(&bad).unwrap_err(), PersistError::Checksum);
    assert_eq!(
        migrated::<64, 1>(codecs::<1>(case, p), UtcOffset::UTC, &[&image], 0).unwrap_err(),
        PersistError::CapacityMismatch {
            expected: 64,
            found: 32
        }
    );
    let other = by_name("compact-8").unwrap();
    let image8 = &cases()[4];
    let raw8 = hex::decode(image8["image"].as_str().unwrap()).unwrap();
    assert_eq!(load(&raw8).unwrap_err(), PersistError::ForeignProfile);
    assert!(migrated::<32, 1>(codecs::<1>(image8, other), UtcOffset::UTC, &[&raw8], 0).is_ok());
}

/// Found by the `lock_load` fuzz target: version 1 did not check that a
/// batch holds fewer strikes than the policy's `failures`; such an image
/// migrates (the next failure completes the batch) and saves as a
/// version-2 image that loads.
#[test]
fn lock_v1_image_with_a_full_batch_of_strikes_migrates() {
    let case = &cases()[5];
    assert_eq!(case["case"], "strikes");
    let p = by_name(case["profile"].as_str().unwrap()).unwrap();
    let mut image = hex::decode(case["image"].as_str().unwrap()).unwrap();
    image[31] = 9; // strikes, with `failures` = 5
    let n = image.len() - 8;
    let digest = <sha2::Sha256 as sha2::Digest>::digest(&image[..n]);
    image[n..].copy_from_slice(&digest[..8]);
    let lock = migrated::<32, 1>(codecs::<1>(case, p), UtcOffset::UTC, &[&image], 0).unwrap();
    assert_eq!(lock.consecutive_failures(), 4);
    let mut v2 = vec![0u8; Lock::<32>::STATE_LEN];
    lock.save(&mut v2).unwrap();
    assert!(Lock::<32>::load(codecs::<1>(case, p), UtcOffset::UTC, &v2).is_ok());
}

/// A version-1 image with its checksum recomputed after `edit` (anyone can
/// do it: the checksum is unkeyed).
fn forge_v1(mut image: Vec<u8>, edit: impl FnOnce(&mut [u8])) -> Vec<u8> {
    edit(&mut image);
    let n = image.len() - 8;
    let digest = <sha2::Sha256 as sha2::Digest>::digest(&image[..n]);
    image[n..].copy_from_slice(&digest[..8]);
    image
}

/// Issue 17, point 2: version-1 images are no downgrade path. A lock that
/// migrated (its used one-time code carried over, a version-2 image
/// written) is offered three version-1 images in which that code is
/// unused: one forged from scratch (its memory cleared), the genuine one
/// forged with sequence `u64::MAX`, and another lock's. Loading never
/// reads them, beside the genuine version-2 image or alone; the migration
/// path refuses them where a version-2 image shows or the counter moved.
#[test]
fn lock_v1_images_after_a_v2_write_are_refused() {
    let all = cases();
    let case = all.iter().find(|c| c["case"] == "used_one_time").unwrap();
    let other = all.iter().find(|c| c["case"] == "fresh").unwrap();
    // Version 1 names no key: another lock's image (here the `fresh`
    // case's, of the same profile) is as good as this lock's own.
    let p = by_name(case["profile"].as_str().unwrap()).unwrap();
    let once_a = case["codes"][0]["pin"].as_str().unwrap();
    let now = 1_761_674_550;
    let image = hex::decode(case["image"].as_str().unwrap()).unwrap();

    // The migration, then its start written (slot 1) with the counter
    // raised to 1, beside the version-1 image (slot 0).
    let mut lock = Lock::<32>::new(codecs::<1>(case, p), UtcOffset::UTC).unwrap();
    lock.migrate_v1_into(&[&image], 0).unwrap();
    let start = lock.start();
    assert_eq!((start.counter(), start.image_sequence() % 2), (1, 1));
    let mut v2 = vec![0u8; Lock::<32>::STATE_LEN];
    lock.save_after(&start, &mut v2).unwrap();
    lock.commit(start).unwrap();
    let used = |l: &Lock<32>| l.check(once_a.as_bytes(), now).decision;
    let already = Decision::Refuse(offpin::Refusal::AlreadyUsed);
    assert_eq!(used(&lock), already);

    let from_scratch = forge_v1(image.clone(), |b| {
        let end = b.len() - 8;
        b[308..end].fill(0);
    });
    let newest = forge_v1(from_scratch.clone(), |b| b[15..23].fill(0xff));
    let foreign = hex::decode(other["image"].as_str().unwrap()).unwrap();
    for (what, forged) in [
        ("forged from scratch", &from_scratch),
        ("forged with sequence u64::MAX", &newest),
        ("another lock's", &foreign),
    ] {
        // Had it been read, the code would open again.
        let mut naive = Lock::<32>::new(codecs::<1>(case, p), UtcOffset::UTC).unwrap();
        naive.migrate_v1_into(&[forged], 0).unwrap();
        assert!(
            started(naive)
                .check(once_a.as_bytes(), now)
                .decision
                .opens(),
            "{what}"
        );

        for counter in [0, 1] {
            let codecs = || codecs::<1>(case, p);
            // Beside the genuine image, in either slot: the genuine one.
            for slots in [[&forged[..], &v2[..]], [&v2[..], &forged[..]]] {
                let l =
                    Lock::<32>::load_newest_with_counter(codecs(), UtcOffset::UTC, &slots, counter)
                        .unwrap();
                assert_eq!(used(&started(l)), already, "{what}, counter {counter}");
                assert_eq!(
                    migrated::<32, 1>(codecs(), UtcOffset::UTC, &slots, counter).unwrap_err(),
                    PersistError::AlreadyMigrated,
                    "{what}"
                );
            }
            // Alone (the version-2 images erased): loading refuses it.
            assert_eq!(
                Lock::<32>::load_with_counter(codecs(), UtcOffset::UTC, forged, counter)
                    .unwrap_err(),
                PersistError::Version1,
                "{what}"
            );
        }
        // Alone, with the counter moved: the migration refuses it too.
        assert_eq!(
            migrated::<32, 1>(codecs::<1>(case, p), UtcOffset::UTC, &[forged], 1).unwrap_err(),
            PersistError::AlreadyMigrated,
            "{what}"
        );
    }
}
