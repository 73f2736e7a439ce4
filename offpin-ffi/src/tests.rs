use core::mem::size_of;
use core::ptr;

use offpin::Refusal;

use crate::convert::refusal_of;
use crate::handle::{InnerLock, Slot};
use crate::*;

/// Every refusal offpin names maps to its own C number, whose name is
/// offpin's stable code (`Refusal::code`).
#[test]
fn refusal_names_are_offpins_codes() {
    let all = [
        Refusal::InvalidCode,
        Refusal::NotYetValid,
        Refusal::Expired,
        Refusal::NotActivated,
        Refusal::AlreadyUsed,
        Refusal::Revoked,
        Refusal::Superseded,
        Refusal::MemoryFull,
        Refusal::LockedOut,
        Refusal::ClockRolledBack,
        Refusal::NotStarted,
    ];
    let mut seen = std::vec::Vec::new();
    for r in all {
        let c = refusal_of(r);
        assert_ne!(c, OffpinRefusal::Other, "{r:?} has no C number");
        assert!(!seen.contains(&(c as u32)), "{r:?} shares a number");
        seen.push(c as u32);
        // SAFETY: offpin_refusal_name returns a static NUL-terminated
        // string.
        let name = unsafe { core::ffi::CStr::from_ptr(offpin_refusal_name(c as u32)) };
        assert_eq!(name.to_str(), Ok(r.code()));
    }
}

/// The state image length the header promises is the lock's.
#[test]
fn constants_match_the_lock() {
    assert_eq!(OFFPIN_STATE_LEN, InnerLock::STATE_LEN);
    assert_eq!(offpin_lock_size(), size_of::<OffpinLock>());
    assert!(size_of::<Slot>() <= OFFPIN_LOCK_BYTES);
}

const KEY: [u8; 16] = [7; 16];
const T: i64 = 1_764_547_200;

fn zeroed() -> std::boxed::Box<OffpinLock> {
    std::boxed::Box::new(OffpinLock {
        storage: [0; OFFPIN_LOCK_BYTES],
        magic: 0,
    })
}

const NO_ENTRY: OffpinEntry = OffpinEntry {
    needs_write: false,
    image_sequence: 0,
    counter: 0,
    clock_rolled_back: false,
};

/// A lock provisioned with `key` (counter 0), charged `charges` times,
/// each image written and the counter raised to it; the last image.
fn provisioned(
    key: &[u8; 16],
    charges: u32,
) -> (std::boxed::Box<OffpinLock>, [u8; OFFPIN_STATE_LEN]) {
    let mut lock = zeroed();
    let mut image = [0u8; OFFPIN_STATE_LEN];
    let mut entry = NO_ENTRY;
    // SAFETY: a boxed handle, a 16-byte key, a buffer of its length.
    unsafe {
        assert_eq!(
            offpin_provision(&mut *lock, key.as_ptr(), 16, 0, 0),
            OffpinStatus::Ok
        );
        for n in 1..=charges {
            assert_eq!(offpin_charge(&mut *lock, T, &mut entry), OffpinStatus::Ok);
            assert!(entry.needs_write);
            assert_eq!(entry.counter, n, "the lock chooses the counter: one more");
            assert_eq!(
                offpin_save_pending(&mut *lock, image.as_mut_ptr(), image.len()),
                OffpinStatus::Ok
            );
            assert_eq!(offpin_commit(&mut *lock, ptr::null_mut()), OffpinStatus::Ok);
            assert_eq!(offpin_rollback_counter(&*lock), n);
        }
    }
    (lock, image)
}

/// Loads `image` into a fresh handle with `counter`; the status, and
/// whether the handle is provisioned afterwards.
fn load(image: &[u8], counter: u32) -> (OffpinStatus, bool) {
    let mut lock = zeroed();
    // SAFETY: a boxed handle, a 16-byte key, an image of its length.
    unsafe {
        let status = offpin_load(
            &mut *lock,
            KEY.as_ptr(),
            16,
            0,
            0,
            image.as_ptr(),
            image.len(),
            ptr::null(),
            0,
            counter,
            ptr::null_mut(),
        );
        let mut entry = NO_ENTRY;
        // A loaded lock has its start pending: no entry before it.
        let provisioned = offpin_charge(&mut *lock, T, &mut entry) == OffpinStatus::EntryPending;
        (status, provisioned)
    }
}

/// The CRC-32 (zlib) of all but the last four bytes, written there:
/// what anyone editing an image can recompute.
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

/// Each refused image has its own status (damaged, forged, another
/// lock's, rolled back, anything else), and a refused load leaves the
/// handle not provisioned, never on a fresh state.
#[test]
fn load_reports_each_refused_image_by_its_own_status() {
    let (_, genuine) = provisioned(&KEY, 3);
    assert_eq!(load(&genuine, 3), (OffpinStatus::Ok, true));
    assert_eq!(load(&genuine, 2), (OffpinStatus::Ok, true));
    assert_eq!(load(&genuine, 0), (OffpinStatus::Ok, true));

    let mut torn = genuine;
    torn[400] ^= 1;
    assert_eq!(load(&torn, 0), (OffpinStatus::Corrupted, false));
    let mut edited = torn;
    fix_crc(&mut edited);
    assert_eq!(load(&edited, 0), (OffpinStatus::Forged, false));
    let (_, foreign) = provisioned(&[8; 16], 3);
    assert_eq!(load(&foreign, 0), (OffpinStatus::ForeignLock, false));
    assert_eq!(load(&genuine, 4), (OffpinStatus::RolledBack, false));
    assert_eq!(
        load(&genuine[..100], 0),
        (OffpinStatus::ImageInvalid, false)
    );
    let mut not_an_image = genuine;
    not_an_image[0] = b'X';
    assert_eq!(load(&not_an_image, 0), (OffpinStatus::ImageInvalid, false));
    // A genuine offpin 0.1 image of this profile and capacity (valid
    // SHA-256, no key: it fits any lock), refused at its version byte.
    let v1 = v1_vector_image();
    assert_eq!(v1.len(), 316 + 18 * OFFPIN_MEMORY);
    assert_eq!(load(&v1, 0), (OffpinStatus::Version1, false));
    let statuses = [
        OffpinStatus::Corrupted,
        OffpinStatus::Forged,
        OffpinStatus::ForeignLock,
        OffpinStatus::RolledBack,
        OffpinStatus::Version1,
        OffpinStatus::AlreadyMigrated,
        OffpinStatus::ImageInvalid,
    ];
    for (i, a) in statuses.iter().enumerate() {
        assert!(statuses[i + 1..].iter().all(|b| (*a as u32) != (*b as u32)));
    }
}

/// Count-before-check through the interface: the charge's image counts
/// the failure before the check runs; a failed check then needs no
/// write, an opening's check does (it refunds the charge).
#[test]
fn charge_then_check_writes_the_failure_first() {
    let (mut lock, charged) = provisioned(&KEY, 1);
    let mut entry = OffpinEntry {
        needs_write: true,
        image_sequence: 0,
        counter: 0,
        clock_rolled_back: true,
    };
    let mut decision = OffpinDecision {
        outcome: OffpinOutcome::Open,
        refusal: OffpinRefusal::None,
    };
    let wrong = b"1234567890";
    // SAFETY: a boxed handle, input and outputs of their lengths.
    unsafe {
        assert_eq!(
            offpin_check(&mut *lock, wrong.as_ptr(), wrong.len(), T, &mut entry),
            OffpinStatus::Ok
        );
        assert!(!entry.needs_write, "the failure is on flash already");
        assert!(!entry.clock_rolled_back);
        assert_eq!(offpin_commit(&mut *lock, &mut decision), OffpinStatus::Ok);
        assert_eq!(decision.outcome, OffpinOutcome::Refused);
        assert_ne!(decision.refusal, OffpinRefusal::None);
        // The image the charge wrote already holds the failure: a power
        // cut during the check loses nothing.
        let mut now = [0u8; OFFPIN_STATE_LEN];
        assert_eq!(
            offpin_save(&*lock, now.as_mut_ptr(), now.len()),
            OffpinStatus::Ok
        );
        assert_eq!(now, charged);
        // A charge pending blocks a check until committed.
        assert_eq!(
            offpin_charge(&mut *lock, T + 1, &mut entry),
            OffpinStatus::Ok
        );
        assert_eq!(
            offpin_check(&mut *lock, wrong.as_ptr(), wrong.len(), T + 1, &mut entry),
            OffpinStatus::EntryPending
        );
        assert_eq!(offpin_commit(&mut *lock, &mut decision), OffpinStatus::Ok);
        assert_eq!(decision.outcome, OffpinOutcome::Charged);
    }
}

/// The "fresh" case of `tests/vectors/lock_state_v1.json`: a
/// `standard-10` lock of 32 codes at UTC, as offpin 0.1 wrote it.
fn v1_vector_image() -> std::vec::Vec<u8> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tests/vectors/lock_state_v1.json"
    );
    let json = std::fs::read_to_string(path).expect("the v1 vectors");
    let case = json.find("\"case\": \"fresh\"").expect("the fresh case");
    let rest = &json[case..];
    let at = rest.find("\"image\": \"").expect("its image") + "\"image\": \"".len();
    let hex = &rest[at..at + rest[at..].find('"').expect("the end of the image")];
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex"))
        .collect()
}

/// Writes the pending change's image into `slots` (if it needs one),
/// raises `hw` to its counter, commits; the released decision.
fn persist(
    lock: &mut OffpinLock,
    slots: &mut [[u8; OFFPIN_STATE_LEN]; 2],
    hw: &mut u32,
    entry: &OffpinEntry,
) -> OffpinDecision {
    let mut decision = OffpinDecision {
        outcome: OffpinOutcome::Refused,
        refusal: OffpinRefusal::Other,
    };
    // SAFETY: a live handle, a slot buffer of its length, a decision.
    unsafe {
        if entry.needs_write {
            let slot = &mut slots[(entry.image_sequence % 2) as usize];
            assert_eq!(
                offpin_save_pending(lock, slot.as_mut_ptr(), slot.len()),
                OffpinStatus::Ok
            );
            *hw = (*hw).max(entry.counter);
        }
        assert_eq!(offpin_commit(lock, &mut decision), OffpinStatus::Ok);
    }
    decision
}

/// Loads `slots` into `lock` with `hw`; the status and the start entry.
fn boot(
    lock: &mut OffpinLock,
    slots: &[[u8; OFFPIN_STATE_LEN]; 2],
    hw: u32,
) -> (OffpinStatus, OffpinEntry) {
    let mut entry = NO_ENTRY;
    // SAFETY: a live handle, a 16-byte key, two images of their length.
    let status = unsafe {
        offpin_load(
            lock,
            KEY.as_ptr(),
            16,
            0,
            0,
            slots[0].as_ptr(),
            OFFPIN_STATE_LEN,
            slots[1].as_ptr(),
            OFFPIN_STATE_LEN,
            hw,
            &mut entry,
        )
    };
    (status, entry)
}

/// A loaded lock decides nothing before its start is committed: the
/// start is pending (entries are refused as pending), it writes the
/// state again with the counter plus one, its commit releases
/// `Started`; a discarded start leaves a lock refusing `not_started`.
#[test]
fn a_loaded_lock_decides_nothing_before_its_start() {
    let (mut lock, image) = provisioned(&KEY, 2);
    let (mut slots, mut hw) = ([image, image], 2u32);
    // SAFETY: live handles, input and outputs of their lengths.
    unsafe {
        offpin_wipe(&mut *lock);
        let (status, start) = boot(&mut lock, &slots, hw);
        assert_eq!(status, OffpinStatus::Ok);
        assert!(start.needs_write);
        assert_eq!((start.image_sequence, start.counter), (3, 3));
        assert!(!offpin_is_started(&*lock));
        let mut entry = NO_ENTRY;
        assert_eq!(
            offpin_charge(&mut *lock, T, &mut entry),
            OffpinStatus::EntryPending
        );
        let pin = b"1234567890";
        assert_eq!(
            offpin_check(&mut *lock, pin.as_ptr(), 10, T, &mut entry),
            OffpinStatus::EntryPending
        );
        let started = persist(&mut lock, &mut slots, &mut hw, &start);
        assert_eq!(started.outcome, OffpinOutcome::Started);
        assert!(offpin_is_started(&*lock));
        assert_eq!((hw, offpin_sequence(&*lock)), (3, 3));

        // Discarded: the lock stays loaded and refuses every entry.
        let (status, _) = boot(&mut lock, &slots, hw);
        assert_eq!(status, OffpinStatus::Ok);
        assert_eq!(offpin_discard(&mut *lock), OffpinStatus::Ok);
        assert_eq!(offpin_charge(&mut *lock, T, &mut entry), OffpinStatus::Ok);
        assert!(!entry.needs_write, "a lock not started charges nothing");
        assert_eq!(
            persist(&mut lock, &mut slots, &mut hw, &entry).outcome,
            OffpinOutcome::Charged
        );
        assert_eq!(
            offpin_check(&mut *lock, pin.as_ptr(), 10, T, &mut entry),
            OffpinStatus::Ok
        );
        assert!(!entry.needs_write);
        let refused = persist(&mut lock, &mut slots, &mut hw, &entry);
        assert_eq!(
            (refused.outcome, refused.refusal),
            (OffpinOutcome::Refused, OffpinRefusal::NotStarted)
        );
    }
}

/// Issue 17's trick through the interface: an image written, the power
/// cut before the counter's raise, that image copied aside; the boot
/// and its start; a charge; the copy put back is refused as rolled
/// back (the old protocol loaded it, forgetting the charge).
#[test]
fn the_start_burns_an_unraised_images_counter() {
    let (mut lock, image) = provisioned(&KEY, 1);
    let (mut slots, mut hw) = ([image, [0; OFFPIN_STATE_LEN]], 1u32);
    let mut entry = NO_ENTRY;
    // SAFETY: live handles, outputs of their lengths.
    unsafe {
        assert_eq!(
            offpin_charge(&mut *lock, T + 5, &mut entry),
            OffpinStatus::Ok
        );
        assert_eq!((entry.image_sequence, entry.counter), (2, 2));
        let slot = &mut slots[0];
        assert_eq!(
            offpin_save_pending(&mut *lock, slot.as_mut_ptr(), slot.len()),
            OffpinStatus::Ok
        );
    }
    // Power cut: no raise, no commit; a flash writer keeps the image.
    let aside = slots[0];
    assert_eq!(hw, 1);
    let (status, start) = boot(&mut lock, &slots, hw);
    assert_eq!(status, OffpinStatus::Ok);
    assert_eq!((start.image_sequence, start.counter), (3, 2));
    persist(&mut lock, &mut slots, &mut hw, &start);
    assert_eq!(hw, 2, "the unraised image's counter is burnt");
    // SAFETY: a live handle and an entry.
    unsafe {
        assert_eq!(
            offpin_charge(&mut *lock, T + 6, &mut entry),
            OffpinStatus::Ok
        );
    }
    assert_eq!(entry.counter, 3);
    persist(&mut lock, &mut slots, &mut hw, &entry);
    slots[(entry.image_sequence % 2) as usize] = aside;
    let mut probe = zeroed();
    assert_eq!(boot(&mut probe, &slots, hw).0, OffpinStatus::RolledBack);
}
