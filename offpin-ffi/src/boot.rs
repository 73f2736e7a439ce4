//! A lock into the handle and its image out: [`offpin_lock_size`],
//! [`offpin_provision`], [`offpin_load`] (the start left pending) and
//! [`offpin_save`].

use core::mem::size_of;

use offpin::lock::ClockStatus;

use crate::convert::{codec_from, offset_from, persist_status};
use crate::handle::{clear, install, out_buffer, report, slot_of, slot_ref, InnerLock, Pending};
use crate::{OffpinEntry, OffpinLock, OffpinStatus};

// Named in the documentation only.
#[cfg(doc)]
use crate::{offpin_commit, offpin_save_pending, OffpinOutcome, OFFPIN_STATE_LEN};

/// The size of [`OffpinLock`] in bytes (`sizeof(OffpinLock)` in C).
#[no_mangle]
pub extern "C" fn offpin_lock_size() -> usize {
    size_of::<OffpinLock>()
}

/// Provisions a new lock: 16-byte device key, shipped profile, UTC offset
/// in seconds (whole minutes), rollback counter 0 (a new lock's hardware
/// counter is 0). Replaces (and wipes) whatever the handle held. Write its
/// first image with [`offpin_save`]. The lock is started.
///
/// # Safety
///
/// `lock` is NULL or points to a zeroed or library-written `OffpinLock`
/// not used concurrently; `key` is NULL or points to `key_len` bytes.
#[no_mangle]
pub unsafe extern "C" fn offpin_provision(
    lock: *mut OffpinLock,
    key: *const u8,
    key_len: usize,
    profile: u32,
    utc_offset_secs: i32,
) -> OffpinStatus {
    // SAFETY: the caller's contract on `lock`.
    let Some(handle) = (unsafe { lock.as_mut() }) else {
        return OffpinStatus::NullPointer;
    };
    // SAFETY: the caller's contract on `key`.
    let (codec, _) = match unsafe { codec_from(key, key_len, profile) } {
        Ok(c) => c,
        Err(e) => return e,
    };
    let offset = match offset_from(utc_offset_secs) {
        Ok(o) => o,
        Err(e) => return e,
    };
    match InnerLock::new(codec, offset) {
        Ok(l) => {
            install(handle, l);
            OffpinStatus::Ok
        }
        Err(_) => OffpinStatus::Config,
    }
}

/// Boots a lock from its key, profile and offset and the newest valid of
/// two saved images (`image_b` may be NULL for one slot) whose rollback
/// counter is at least `counter` (the hardware's monotonic counter; 0
/// without one). The lock is built in the handle and the image's state is
/// read into it in place.
///
/// The loaded lock's **start** is then pending, reported through `out`
/// like a charge: write its image ([`offpin_save_pending`], slot
/// `image_sequence % 2`), raise the hardware counter to
/// [`OffpinEntry::counter`], then [`offpin_commit`] (its decision reads
/// [`OffpinOutcome::Started`]). Until then no entry is charged or checked
/// ([`OffpinStatus::EntryPending`]). The start writes the state again with
/// the counter plus one, so an image written before a power cut that
/// stopped the counter's raise can never load again once an entry was
/// acted on.
///
/// A NULL pointer, a bad key, profile or offset leave the handle
/// unchanged. Otherwise the handle's previous lock is wiped first, and if
/// no image is valid the handle is left not provisioned, with the status
/// of the first image ([`OffpinStatus::Corrupted`], [`Forged`],
/// [`ForeignLock`], [`RolledBack`], [`Version1`] or [`ImageInvalid`]): a
/// lock that lost its state must not run on a fresh one (refuse
/// time-dependent codes and report, or provision it again).
///
/// [`Forged`]: OffpinStatus::Forged
/// [`ForeignLock`]: OffpinStatus::ForeignLock
/// [`RolledBack`]: OffpinStatus::RolledBack
/// [`Version1`]: OffpinStatus::Version1
/// [`ImageInvalid`]: OffpinStatus::ImageInvalid
///
/// # Safety
///
/// As [`offpin_provision`]; each image pointer is NULL or points to its
/// length in bytes; `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn offpin_load(
    lock: *mut OffpinLock,
    key: *const u8,
    key_len: usize,
    profile: u32,
    utc_offset_secs: i32,
    image_a: *const u8,
    len_a: usize,
    image_b: *const u8,
    len_b: usize,
    counter: u32,
    out: *mut OffpinEntry,
) -> OffpinStatus {
    // SAFETY: the caller's contract on `lock`.
    let Some(handle) = (unsafe { lock.as_mut() }) else {
        return OffpinStatus::NullPointer;
    };
    if image_a.is_null() {
        return OffpinStatus::NullPointer;
    }
    // SAFETY: the caller's contract on `key`.
    let (codec, _) = match unsafe { codec_from(key, key_len, profile) } {
        Ok(c) => c,
        Err(e) => return e,
    };
    let offset = match offset_from(utc_offset_secs) {
        Ok(o) => o,
        Err(e) => return e,
    };
    match InnerLock::new(codec, offset) {
        Ok(l) => install(handle, l),
        Err(_) => return OffpinStatus::Config,
    }
    // SAFETY: `image_a` is non-NULL and points to `len_a` readable bytes
    // (the caller's contract), not written during this call.
    let a = unsafe { core::slice::from_raw_parts(image_a, len_a) };
    let slot = match slot_of(handle) {
        Ok(slot) => slot,
        Err(e) => return e,
    };
    let loaded = if image_b.is_null() {
        slot.lock.load_newest_into(&[a], counter)
    } else {
        // SAFETY: as for `image_a`.
        let b = unsafe { core::slice::from_raw_parts(image_b, len_b) };
        slot.lock.load_newest_into(&[a, b], counter)
    };
    match loaded {
        Ok(()) => {
            let start = slot.lock.start();
            // SAFETY: the caller's contract on `out`.
            unsafe { report(out, &start, ClockStatus::Ok) };
            slot.pending = Some(Pending::Start(start));
            OffpinStatus::Ok
        }
        Err(e) => {
            // SAFETY: a valid handle (a `&mut`).
            unsafe { clear(handle) };
            persist_status(e)
        }
    }
}

/// Writes the image of the current state into `out` (`out_len` must be
/// [`OFFPIN_STATE_LEN`]). Refused while an entry is pending.
///
/// # Safety
///
/// `lock` as in [`offpin_provision`]; `out` is NULL or points to `out_len`
/// writable bytes.
#[no_mangle]
pub unsafe extern "C" fn offpin_save(
    lock: *const OffpinLock,
    out: *mut u8,
    out_len: usize,
) -> OffpinStatus {
    // SAFETY: the caller's contract on `lock`.
    let slot = match unsafe { slot_ref(lock) } {
        Ok(s) => s,
        Err(e) => return e,
    };
    if slot.pending.is_some() {
        return OffpinStatus::EntryPending;
    }
    // SAFETY: the caller's contract on `out`.
    let Some(buf) = (unsafe { out_buffer(out, out_len) }) else {
        return OffpinStatus::NullPointer;
    };
    match slot.lock.save(buf) {
        Ok(()) => OffpinStatus::Ok,
        Err(_) => OffpinStatus::BufferLength,
    }
}
