//! Loading arbitrary bytes as a saved lock state, version 2 or version 1
//! (migrated), for every shipped profile (a two-key lock that remembers 4
//! codes): never panics; a version-2 image that loads is canonical (saving
//! the loaded lock writes the same bytes); a version-1 image that loads
//! saves as a version-2 image that loads into a lock deciding every code
//! the same way; and the loaded lock never opens more than a lock in some
//! valid state would: whatever it opens is an issued code whose window the
//! profile accepts at the lock's time, a code that needs activation opens
//! after its activation window only if the image remembers it as
//! activated, and no opening happens while the image says the keypad is
//! locked out.
//!
//! Random bytes almost never pass the CRC and the tag (or version 1's
//! checksum), so most inputs are first turned into images that do: the
//! input's bytes are laid over a valid image (a lock's with entries, or a
//! fresh version-1 one) and the header, fingerprints, tag and CRC (or the
//! checksum) are then repaired, as a faulty writer holding the key would
//! produce them (with the fuzzer's own AES-CMAC). The mode byte picks raw
//! or repaired, the version, and what is repaired.

#![no_main]

#[path = "common.rs"]
mod common;

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use offpin::lock::{Decision, Lock};
use offpin::{UtcOffset, Verdict};
use sha2::{Digest, Sha256};

use common::{DAY, HOUR, KEYS, MEMORY, codecs, reseal, started, universes};

type L = Lock<MEMORY, KEYS>;

/// Per profile: a valid image of a lock that went through a few entries.
fn templates() -> &'static [Vec<u8>] {
    static T: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    T.get_or_init(|| {
        universes()
            .iter()
            .map(|u| {
                let mut lock = L::new(codecs(u.profile), UtcOffset::UTC).expect("lock");
                let mut now = u.t0 - HOUR;
                for (i, code) in u.codes.iter().enumerate() {
                    now += 3 * HOUR;
                    let typed: &[u8] = if i % 3 == 2 {
                        b"0000000000000"
                    } else {
                        &code.pin
                    };
                    let check = lock.check(typed, now);
                    lock.commit(check.change).expect("commit");
                }
                let mut image = vec![0u8; L::STATE_LEN];
                lock.save(&mut image).expect("save");
                image
            })
            .collect()
    })
}

/// A fresh lock's version-1 image (offpin 0.1's layout), for `profile`.
fn v1_template(profile: &offpin::Profile) -> Vec<u8> {
    let mut image = Vec::new();
    image.extend_from_slice(b"OPL\x01");
    image.extend_from_slice(&profile.tweak());
    image.extend_from_slice(&(MEMORY as u16).to_be_bytes());
    image.push(KEYS as u8);
    image.extend_from_slice(&0u64.to_be_bytes());
    image.extend_from_slice(&profile.epoch().to_be_bytes());
    image.push(0);
    image.extend_from_slice(&0u32.to_be_bytes());
    for _ in 0..18 {
        image.extend_from_slice(&i64::MIN.to_be_bytes()); // until, watermark, 16 marks
    }
    image.extend_from_slice(&[0u8; 128]);
    image.extend_from_slice(&[0u8; 18 * MEMORY]);
    repair_checksum_v1(&mut image, true);
    image
}

fn repair_checksum_v1(image: &mut Vec<u8>, append: bool) {
    if append {
        image.extend_from_slice(&[0u8; 8]);
    }
    let n = image.len() - 8;
    let digest = Sha256::digest(&image[..n]);
    image[n..].copy_from_slice(&digest[..8]);
}

/// The decisions of `lock` for every code of the universe at a few times.
fn decisions(lock: &L, u: &common::Universe) -> Vec<Decision> {
    let mut out = Vec::new();
    for dt in [-DAY, 0, HOUR, DAY, 30 * DAY] {
        let now = u.t0.saturating_add(dt);
        for code in &u.codes {
            out.push(lock.check(&code.pin, now).decision);
        }
    }
    out
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, body)) = data.split_first() else {
        return;
    };
    let universes = universes();
    let which = usize::from(mode >> 4) % universes.len();
    let u = &universes[which];
    let profile = u.profile;
    let v1 = mode & 4 != 0;
    let template = if v1 {
        v1_template(&profile)
    } else {
        templates()[which].clone()
    };
    let repair = |image: &mut Vec<u8>| {
        if v1 {
            image[..4].copy_from_slice(b"OPL\x01");
            image[4..12].copy_from_slice(&profile.tweak());
            image[12..14].copy_from_slice(&(MEMORY as u16).to_be_bytes());
            image[14] = KEYS as u8;
            repair_checksum_v1(image, false);
        } else {
            // Header and fingerprints of this lock, then tag and CRC.
            image[..31].copy_from_slice(&template[..31]);
            reseal(image, 0);
        }
    };
    let image: Vec<u8> = match mode & 3 {
        // Raw bytes.
        0 => body.to_vec(),
        // Laid over the template from byte 0, or after the header.
        1 | 2 => {
            let mut image = template.clone();
            let start = if mode & 3 == 1 { 0 } else { 31 };
            for (dst, src) in image[start..].iter_mut().zip(body) {
                *dst = *src;
            }
            repair(&mut image);
            image
        }
        // Sparse edits of the template: (offset, byte) pairs.
        _ => {
            let mut image = template.clone();
            for pair in body.chunks_exact(3) {
                let at = usize::from(u16::from_le_bytes([pair[0], pair[1]])) % image.len();
                image[at] = pair[2];
            }
            if body.len() % 3 == 0 {
                repair(&mut image);
            }
            image
        }
    };

    // Loading never reads a version-1 image; the one-time migration does.
    let loaded = if image.get(3) == Some(&1) {
        assert!(L::load(codecs(profile), UtcOffset::UTC, &image).is_err());
        let mut lock = L::new(codecs(profile), UtcOffset::UTC).expect("lock");
        lock.migrate_v1_into(&[&image], 0).map(|()| lock)
    } else {
        L::load(codecs(profile), UtcOffset::UTC, &image)
    };
    let Ok(lock) = loaded else {
        // Also through load_newest, next to a valid image: it must pick
        // the valid one.
        let good = &templates()[which];
        let lock = L::load_newest(codecs(profile), UtcOffset::UTC, &[&image, good])
            .expect("a valid image next to an invalid one loads");
        let mut saved = vec![0u8; L::STATE_LEN];
        lock.save(&mut saved).expect("save");
        assert_eq!(&saved, good);
        return;
    };

    let mut saved = vec![0u8; L::STATE_LEN];
    lock.save(&mut saved).expect("save");
    let lock = started(lock);
    // Bytes 31..56 of a version-2 image of this lock: the configuration
    // it was saved with, which may differ from the lock's (nothing in the
    // state depends on it; saving records the lock's own).
    const SAVED_WITH: core::ops::Range<usize> = 31..56;
    if image[3] == 2 && image[SAVED_WITH] == saved[SAVED_WITH] {
        // Canonical: what loads saves back to the same bytes.
        assert_eq!(saved, image, "a loaded image does not save back to itself");
    } else if image[3] == 2 {
        // Saved under this lock's configuration: the same decisions.
        let again =
            started(L::load(codecs(profile), UtcOffset::UTC, &saved).expect("a saved image loads"));
        assert_eq!(
            decisions(&lock, u),
            decisions(&again, u),
            "resaving changed a decision"
        );
    } else {
        // Migrated: the version-2 image decides everything the same way.
        let again = started(
            L::load(codecs(profile), UtcOffset::UTC, &saved).expect("a migrated image loads"),
        );
        assert_eq!(
            decisions(&lock, u),
            decisions(&again, u),
            "migration changed a decision"
        );
        // And once the counter moved, or beside a version-2 image, the
        // version-1 image is refused.
        for (slots, counter) in [([&image[..], &image[..]], 1), ([&image[..], &saved[..]], 0)] {
            let mut lock = L::new(codecs(profile), UtcOffset::UTC).expect("lock");
            assert!(lock.migrate_v1_into(&slots, counter).is_err());
        }
    }

    // Never opens more than a valid state would.
    let hs = lock.highest_seen();
    for dt in [-DAY, -HOUR, 0, HOUR, 5 * HOUR, DAY, 3 * DAY, 30 * DAY] {
        let now = u.t0.saturating_add(dt);
        let t = now.max(hs);
        let locked = lock.locked_out_until(now).is_some();
        for code in &u.codes {
            let check = lock.check(&code.pin, now);
            if let Decision::Open(grant) = check.decision {
                assert!(!locked, "opened while locked out");
                assert_eq!(grant, code.grant);
                assert_eq!(check.key, Some(code.key));
                match profile.check(&grant, t, UtcOffset::UTC) {
                    Verdict::Open(_) => {}
                    Verdict::OpenIfActivated { .. } => {
                        let index = profile.index_of(&grant).expect("index");
                        assert!(
                            lock.remembered().any(|r| r.key as usize == code.key
                                && r.index == index
                                && r.kind == offpin::lock::EntryKind::Activated
                                && r.is_live(t)),
                            "opened {grant:?} after its activation window without a memory entry"
                        );
                    }
                    v => panic!("opened {grant:?} at {t}: the profile says {v:?}"),
                }
            }
        }
        // A guess is never accepted as anything but what it decodes to.
        let _ = lock.check(b"12345678901", now);
    }
});
