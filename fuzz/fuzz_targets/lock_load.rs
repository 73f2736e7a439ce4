//! Loading arbitrary bytes as a saved lock state, for every shipped
//! profile (a two-key lock that remembers 4 codes): never panics; an image
//! that loads is canonical (saving the loaded lock writes the same bytes);
//! and the loaded lock never opens more than a lock in some valid state
//! would: whatever it opens is an issued code whose window the profile
//! accepts at the lock's time, a code that needs activation opens after
//! its activation window only if the image remembers it as activated, and
//! no opening happens while the image says the keypad is locked out.
//!
//! Random bytes almost never pass the checksum, so most inputs are first
//! turned into images that do: the input's bytes are laid over a valid
//! image (a fresh lock's, or one with entries) and the header and checksum
//! are then repaired, as a faulty writer would produce them. The mode byte
//! picks raw or repaired, and what is repaired.

#![no_main]

#[path = "common.rs"]
mod common;

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use offpin::lock::{Decision, Lock};
use offpin::{UtcOffset, Verdict};
use sha2::{Digest, Sha256};

use common::{DAY, HOUR, KEYS, MEMORY, codecs, universes};

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

fuzz_target!(|data: &[u8]| {
    let Some((&mode, body)) = data.split_first() else {
        return;
    };
    let universes = universes();
    let which = usize::from(mode >> 4) % universes.len();
    let u = &universes[which];
    let profile = u.profile;
    let image: Vec<u8> = match mode & 3 {
        // Raw bytes.
        0 => body.to_vec(),
        // Laid over the template from byte 0, header and checksum repaired.
        1 | 2 => {
            let mut image = templates()[which].clone();
            let start = if mode & 3 == 1 { 0 } else { 15 };
            for (dst, src) in image[start..].iter_mut().zip(body) {
                *dst = *src;
            }
            // Header of this lock: magic, version, tweak, capacity, keys.
            image[..3].copy_from_slice(b"OPL");
            image[3] = 1;
            image[4..12].copy_from_slice(&profile.tweak());
            image[12..14].copy_from_slice(&(MEMORY as u16).to_be_bytes());
            image[14] = KEYS as u8;
            repair_checksum(&mut image);
            image
        }
        // Sparse edits of the template: (offset, byte) pairs.
        _ => {
            let mut image = templates()[which].clone();
            for pair in body.chunks_exact(3) {
                let at = usize::from(u16::from_le_bytes([pair[0], pair[1]])) % image.len();
                image[at] = pair[2];
            }
            if body.len() % 3 == 0 {
                repair_checksum(&mut image);
            }
            image
        }
    };

    let Ok(lock) = L::load(codecs(profile), UtcOffset::UTC, &image) else {
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

    // Canonical: what loads saves back to the same bytes.
    let mut saved = vec![0u8; L::STATE_LEN];
    lock.save(&mut saved).expect("save");
    assert_eq!(saved, image, "a loaded image does not save back to itself");

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

fn repair_checksum(image: &mut [u8]) {
    let n = image.len() - 8;
    let digest = Sha256::digest(&image[..n]);
    image[n..].copy_from_slice(&digest[..8]);
}
