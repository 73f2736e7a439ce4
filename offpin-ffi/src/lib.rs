//! A C interface to offpin's lock side, for lock firmware written in C
//! (vendor SDKs, Zephyr, ESP-IDF). Header: `include/offpin.h`, generated
//! by cbindgen from this file.
//!
//! # Design
//!
//! - **No heap.** The caller owns the storage of a lock: an [`OffpinLock`]
//!   (a static, or on its stack), which holds a `Lock<32>` of offpin (32
//!   remembered codes, one key) and the entry in progress.
//! - **Total entry points.** Every function checks its pointers, lengths
//!   and the handle's state and returns an [`OffpinStatus`]; nothing
//!   panics (the crate denies `unwrap`, indexing and unchecked
//!   arithmetic, and the library is built with `panic = "abort"` as a
//!   second line only).
//! - **Check → persist → commit.** [`offpin_check`] decides and computes
//!   the state change but *withholds the decision*; the firmware writes the
//!   image of the state after the change ([`offpin_save_pending`], to slot
//!   `image_sequence % 2`), then [`offpin_commit`] applies the change and
//!   only then returns the decision. So a decision is never acted on before
//!   the state that records it is on flash, and a lock that counts an
//!   attempt before checking it, or bumps a rollback counter with each
//!   image, fits the same three calls: the counter value is the
//!   `image_sequence` that `offpin_check` reports.
//!
//! The handle must be zero-initialised (or already provisioned) before the
//! first call: a zeroed handle reads as "not provisioned".
//!
//! `unsafe` is confined to turning the C pointers into references, each
//! block with its `SAFETY` argument; everything else is offpin's safe API.

#![no_std]
#![deny(missing_docs)]

// Built with `panic = "unwind"` (cargo's test profile, for the unit tests
// and the issuing example), std provides the panic handler; the library
// that C links is built with `panic = "abort"` (release and dev profiles)
// and brings its own, below.
#[cfg(panic = "unwind")]
extern crate std;

use core::mem::{align_of, size_of};
use core::ptr;

use offpin::lock::{Check, ClockStatus, Decision, Lock};
use offpin::profile::shipped;
use offpin::{Codec, DeviceKey, Profile, Refusal, UtcOffset};
use zeroize::Zeroize;

/// Codes a lock remembers (used one-time codes and activated stays).
pub const OFFPIN_MEMORY: usize = 32;

/// The length in bytes of a state image ([`offpin_save`],
/// [`offpin_save_pending`], [`offpin_load`]).
pub const OFFPIN_STATE_LEN: usize = 892;

/// The bytes of an [`OffpinLock`]'s opaque storage (enough on every
/// target: checked at compile time).
pub const OFFPIN_LOCK_BYTES: usize = 2560;

/// The AES-128 key length in bytes.
pub const OFFPIN_KEY_LEN: usize = 16;

type InnerLock = Lock<OFFPIN_MEMORY, 1>;

/// What an [`OffpinLock`]'s storage holds once provisioned.
struct Slot {
    lock: InnerLock,
    /// The entry checked and not yet committed.
    pending: Option<Check>,
}

/// Marks a provisioned handle ("OFPN").
const MAGIC: u32 = 0x4F46_504E;

const _: () = {
    assert!(size_of::<Slot>() <= OFFPIN_LOCK_BYTES);
    assert!(align_of::<Slot>() <= 16);
    assert!(core::mem::offset_of!(OffpinLock, storage) == 0);
    assert!(InnerLock::STATE_LEN == OFFPIN_STATE_LEN);
};

/// A lock and the entry in progress, in storage the caller owns. Treat it
/// as opaque; zero it before first use.
#[repr(C, align(16))]
pub struct OffpinLock {
    /// The `Slot`, once provisioned. First, so it starts at the struct's
    /// 16-byte alignment.
    storage: [u8; OFFPIN_LOCK_BYTES],
    /// `MAGIC` once provisioned, anything else before.
    magic: u32,
}

/// The shipped profiles (`offpin::profile::shipped`).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OffpinProfile {
    /// `standard-10`: 10 digits.
    Standard10 = 0,
    /// `compact-8`: 8 digits.
    Compact8 = 1,
    /// `secure-12`: 12 digits.
    Secure12 = 2,
    /// `keypad9-11`: 11 digits on a nine-key keypad.
    Keypad911 = 3,
}

/// What a call came to.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OffpinStatus {
    /// Done.
    Ok = 0,
    /// A required pointer was NULL.
    NullPointer = 1,
    /// The key is not [`OFFPIN_KEY_LEN`] bytes.
    KeyLength = 2,
    /// The profile number is not an [`OffpinProfile`].
    UnknownProfile = 3,
    /// The UTC offset is not a whole number of minutes within ±18 h.
    BadOffset = 4,
    /// The handle was never provisioned (or was wiped).
    NotProvisioned = 5,
    /// A buffer is not [`OFFPIN_STATE_LEN`] bytes.
    BufferLength = 6,
    /// No image given was a valid image of this lock (corrupted, torn,
    /// another profile, capacity or version).
    ImageInvalid = 7,
    /// [`offpin_save_pending`] or [`offpin_commit`] without a checked
    /// entry.
    NoPendingEntry = 8,
    /// [`offpin_check`] or [`offpin_save`] while an entry is checked and
    /// not committed: commit it (or [`offpin_discard`] it) first.
    EntryPending = 9,
    /// The state moved since the entry was checked (cannot happen through
    /// this interface; check again).
    Stale = 10,
    /// The key and profile do not make a lock (cannot happen for the
    /// shipped profiles).
    Config = 11,
}

/// What the door does.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OffpinOutcome {
    /// Open.
    Open = 0,
    /// A valid revocation code: the revocation is applied, the door stays
    /// shut.
    Revoked = 1,
    /// Stay shut: see the refusal.
    Refused = 2,
}

/// Why an entry was refused (`offpin::Refusal`).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OffpinRefusal {
    /// Not refused.
    None = 0,
    /// The digits name no grant (wrong PIN, or another lock's).
    InvalidCode = 1,
    /// Before the code's window.
    NotYetValid = 2,
    /// After the code's window.
    Expired = 3,
    /// A code that needed activation was first used too late.
    NotActivated = 4,
    /// A one-time code already used.
    AlreadyUsed = 5,
    /// Revoked.
    Revoked = 6,
    /// Superseded by a newer code of its lineage.
    Superseded = 7,
    /// The lock's memory is full of live entries.
    MemoryFull = 8,
    /// The keypad is locked out after repeated failures.
    LockedOut = 9,
    /// The clock is behind the highest time seen by more than the grace.
    ClockRolledBack = 10,
    /// A refusal this version of the interface does not name.
    Other = 255,
}

/// What [`offpin_check`] reports before the decision is released.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OffpinEntry {
    /// Whether the state changes: then write [`offpin_save_pending`]'s
    /// image before [`offpin_commit`] (if not, both are cheap no-ops).
    pub needs_persist: bool,
    /// The sequence number of the image to write (slot
    /// `image_sequence % 2` of two alternating slots).
    pub image_sequence: u64,
    /// Whether the clock was found behind the highest time seen.
    pub clock_rolled_back: bool,
}

/// The decision, released by [`offpin_commit`].
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OffpinDecision {
    /// Open, revoked, or refused.
    pub outcome: OffpinOutcome,
    /// Why, when refused ([`OffpinRefusal::None`] otherwise).
    pub refusal: OffpinRefusal,
}

fn profile_of(n: u32) -> Option<Profile> {
    Some(match n {
        0 => shipped::STANDARD_10,
        1 => shipped::COMPACT_8,
        2 => shipped::SECURE_12,
        3 => shipped::KEYPAD9_11,
        _ => return None,
    })
}

fn refusal_of(r: Refusal) -> OffpinRefusal {
    match r {
        Refusal::InvalidCode => OffpinRefusal::InvalidCode,
        Refusal::NotYetValid => OffpinRefusal::NotYetValid,
        Refusal::Expired => OffpinRefusal::Expired,
        Refusal::NotActivated => OffpinRefusal::NotActivated,
        Refusal::AlreadyUsed => OffpinRefusal::AlreadyUsed,
        Refusal::Revoked => OffpinRefusal::Revoked,
        Refusal::Superseded => OffpinRefusal::Superseded,
        Refusal::MemoryFull => OffpinRefusal::MemoryFull,
        Refusal::LockedOut => OffpinRefusal::LockedOut,
        Refusal::ClockRolledBack => OffpinRefusal::ClockRolledBack,
        _ => OffpinRefusal::Other,
    }
}

fn decision_of(d: Decision) -> OffpinDecision {
    match d {
        Decision::Open(_) => OffpinDecision {
            outcome: OffpinOutcome::Open,
            refusal: OffpinRefusal::None,
        },
        Decision::Revoked(_) => OffpinDecision {
            outcome: OffpinOutcome::Revoked,
            refusal: OffpinRefusal::None,
        },
        Decision::Refuse(r) => OffpinDecision {
            outcome: OffpinOutcome::Refused,
            refusal: refusal_of(r),
        },
        // The C interface offers the format-v1 profiles only, which have
        // neither service nor clock-setting codes; mapped for totality.
        Decision::Service { .. } => OffpinDecision {
            outcome: OffpinOutcome::Open,
            refusal: OffpinRefusal::None,
        },
        Decision::ClockSet { .. } => OffpinDecision {
            outcome: OffpinOutcome::Refused,
            refusal: OffpinRefusal::Other,
        },
    }
}

/// The codec for a C key and profile number.
///
/// # Safety
///
/// `key` is NULL or points to `key_len` readable bytes.
unsafe fn codec_from(
    key: *const u8,
    key_len: usize,
    profile: u32,
) -> Result<(Codec, Profile), OffpinStatus> {
    if key.is_null() {
        return Err(OffpinStatus::NullPointer);
    }
    if key_len != OFFPIN_KEY_LEN {
        return Err(OffpinStatus::KeyLength);
    }
    let profile = profile_of(profile).ok_or(OffpinStatus::UnknownProfile)?;
    let mut bytes = [0u8; OFFPIN_KEY_LEN];
    // SAFETY: `key` is non-NULL and points to `key_len` = 16 readable
    // bytes (the caller's contract); `bytes` is a distinct local array.
    unsafe { ptr::copy_nonoverlapping(key, bytes.as_mut_ptr(), OFFPIN_KEY_LEN) };
    let device_key = DeviceKey::from_bytes(bytes);
    bytes.zeroize();
    let codec = Codec::new(&device_key, profile).map_err(|_| OffpinStatus::Config)?;
    Ok((codec, profile))
}

fn offset_from(secs: i32) -> Result<UtcOffset, OffpinStatus> {
    if secs % 60 != 0 {
        return Err(OffpinStatus::BadOffset);
    }
    UtcOffset::from_minutes(secs / 60).map_err(|_| OffpinStatus::BadOffset)
}

/// The provisioned slot of a handle.
///
/// # Safety
///
/// `lock` is NULL or points to an `OffpinLock` that is zeroed or was
/// written by this library, not accessed by anything else for `'a`.
unsafe fn slot_mut<'a>(lock: *mut OffpinLock) -> Result<&'a mut Slot, OffpinStatus> {
    // SAFETY: by the caller's contract, `lock` is NULL or valid and
    // unaliased for 'a.
    let Some(handle) = (unsafe { lock.as_mut() }) else {
        return Err(OffpinStatus::NullPointer);
    };
    if handle.magic != MAGIC {
        return Err(OffpinStatus::NotProvisioned);
    }
    // SAFETY: `magic == MAGIC` only after `install` wrote a `Slot` at the
    // start of `storage`, which is 16-aligned (the struct's `align(16)`,
    // `storage` at offset 0) and large enough (compile-time assertions
    // above); the `&mut` borrow of the handle covers it for 'a.
    Ok(unsafe { &mut *handle.storage.as_mut_ptr().cast::<Slot>() })
}

/// # Safety
///
/// As [`slot_mut`], for shared access.
unsafe fn slot_ref<'a>(lock: *const OffpinLock) -> Result<&'a Slot, OffpinStatus> {
    // SAFETY: by the caller's contract, `lock` is NULL or valid for 'a.
    let Some(handle) = (unsafe { lock.as_ref() }) else {
        return Err(OffpinStatus::NullPointer);
    };
    if handle.magic != MAGIC {
        return Err(OffpinStatus::NotProvisioned);
    }
    // SAFETY: as in `slot_mut`.
    Ok(unsafe { &*handle.storage.as_ptr().cast::<Slot>() })
}

/// Drops the handle's lock, if any (its key schedule is zeroized by
/// offpin's `Drop`), and marks it not provisioned.
///
/// # Safety
///
/// As [`slot_mut`].
unsafe fn clear(handle: &mut OffpinLock) {
    if handle.magic == MAGIC {
        handle.magic = 0;
        // SAFETY: a `Slot` lives in `storage` (see `slot_mut`); `magic` is
        // cleared first, so it is dropped once.
        unsafe { ptr::drop_in_place(handle.storage.as_mut_ptr().cast::<Slot>()) };
    }
    handle.storage.zeroize();
}

/// Puts `lock` into the handle (dropping what was there).
fn install(handle: &mut OffpinLock, lock: InnerLock) {
    // SAFETY: the handle is valid (a `&mut`); `clear` drops an existing
    // slot exactly once.
    unsafe { clear(handle) };
    let slot = Slot {
        lock,
        pending: None,
    };
    // SAFETY: `storage` is 16-aligned and at least `size_of::<Slot>()`
    // bytes (compile-time assertions); after `clear` it holds no live
    // value, so writing without dropping is right.
    unsafe { ptr::write(handle.storage.as_mut_ptr().cast::<Slot>(), slot) };
    handle.magic = MAGIC;
}

/// The size of [`OffpinLock`] in bytes (`sizeof(OffpinLock)` in C).
#[no_mangle]
pub extern "C" fn offpin_lock_size() -> usize {
    size_of::<OffpinLock>()
}

/// Provisions a new lock: 16-byte device key, shipped profile, UTC offset
/// in seconds (whole minutes). Replaces (and wipes) whatever the handle
/// held. Write its first image with [`offpin_save`].
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
/// two saved images (`image_b` may be NULL for one slot). The handle is
/// unchanged on error.
///
/// # Safety
///
/// As [`offpin_provision`]; each image pointer is NULL or points to its
/// length in bytes.
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
    // SAFETY: `image_a` is non-NULL and points to `len_a` readable bytes
    // (the caller's contract), not written during this call.
    let a = unsafe { core::slice::from_raw_parts(image_a, len_a) };
    let loaded = if image_b.is_null() {
        InnerLock::load_newest(codec, offset, &[a])
    } else {
        // SAFETY: as for `image_a`.
        let b = unsafe { core::slice::from_raw_parts(image_b, len_b) };
        InnerLock::load_newest(codec, offset, &[a, b])
    };
    match loaded {
        Ok(l) => {
            install(handle, l);
            OffpinStatus::Ok
        }
        Err(offpin::PersistError::Config(_)) => OffpinStatus::Config,
        Err(_) => OffpinStatus::ImageInvalid,
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

/// # Safety
///
/// `out` is NULL or points to `len` writable bytes not otherwise accessed
/// for `'a`.
unsafe fn out_buffer<'a>(out: *mut u8, len: usize) -> Option<&'a mut [u8]> {
    if out.is_null() {
        return None;
    }
    // SAFETY: non-NULL, `len` writable bytes, unaliased (the contract).
    Some(unsafe { core::slice::from_raw_parts_mut(out, len) })
}

/// Checks typed keypad input (ASCII digits) at `now` (Unix seconds):
/// computes the decision and the state change, applies nothing, and
/// reports whether an image must be written. The decision is released by
/// [`offpin_commit`]. Refused while another entry is pending.
///
/// # Safety
///
/// `lock` as in [`offpin_provision`]; `typed` is NULL (with `typed_len`
/// 0) or points to `typed_len` bytes; `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn offpin_check(
    lock: *mut OffpinLock,
    typed: *const u8,
    typed_len: usize,
    now: i64,
    out: *mut OffpinEntry,
) -> OffpinStatus {
    // SAFETY: the caller's contract on `lock`.
    let slot = match unsafe { slot_mut(lock) } {
        Ok(s) => s,
        Err(e) => return e,
    };
    if slot.pending.is_some() {
        return OffpinStatus::EntryPending;
    }
    let input: &[u8] = if typed.is_null() {
        if typed_len != 0 {
            return OffpinStatus::NullPointer;
        }
        &[]
    } else {
        // SAFETY: non-NULL, `typed_len` readable bytes (the contract).
        unsafe { core::slice::from_raw_parts(typed, typed_len) }
    };
    let check = slot.lock.check(input, now);
    let entry = OffpinEntry {
        needs_persist: !check.change.is_empty(),
        image_sequence: check.change.image_sequence(),
        clock_rolled_back: check.clock != ClockStatus::Ok,
    };
    slot.pending = Some(check);
    if !out.is_null() {
        // SAFETY: `out` is non-NULL and writable (the caller's contract);
        // `write` does not read or drop what was there, which may be
        // uninitialised.
        unsafe { out.write(entry) };
    }
    OffpinStatus::Ok
}

/// Writes the image of the state *after* the pending entry into `out`
/// (`out_len` must be [`OFFPIN_STATE_LEN`]): persist it, then commit.
///
/// # Safety
///
/// As [`offpin_save`].
#[no_mangle]
pub unsafe extern "C" fn offpin_save_pending(
    lock: *const OffpinLock,
    out: *mut u8,
    out_len: usize,
) -> OffpinStatus {
    // SAFETY: the caller's contract on `lock`.
    let slot = match unsafe { slot_ref(lock) } {
        Ok(s) => s,
        Err(e) => return e,
    };
    let Some(check) = slot.pending.as_ref() else {
        return OffpinStatus::NoPendingEntry;
    };
    // SAFETY: the caller's contract on `out`.
    let Some(buf) = (unsafe { out_buffer(out, out_len) }) else {
        return OffpinStatus::NullPointer;
    };
    match slot.lock.save_after(&check.change, buf) {
        Ok(()) => OffpinStatus::Ok,
        Err(offpin::PersistError::StaleChange) => OffpinStatus::Stale,
        Err(_) => OffpinStatus::BufferLength,
    }
}

/// Applies the pending entry's change and releases its decision into
/// `out`. Call it after the image of [`offpin_save_pending`] is written.
///
/// # Safety
///
/// `lock` as in [`offpin_provision`]; `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn offpin_commit(
    lock: *mut OffpinLock,
    out: *mut OffpinDecision,
) -> OffpinStatus {
    // SAFETY: the caller's contract on `lock`.
    let slot = match unsafe { slot_mut(lock) } {
        Ok(s) => s,
        Err(e) => return e,
    };
    let Some(check) = slot.pending.take() else {
        return OffpinStatus::NoPendingEntry;
    };
    if slot.lock.commit(check.change).is_err() {
        return OffpinStatus::Stale;
    }
    if !out.is_null() {
        // SAFETY: as in `offpin_check`.
        unsafe { out.write(decision_of(check.decision)) };
    }
    OffpinStatus::Ok
}

/// Drops the pending entry without applying it (the image could not be
/// written): the door stays shut and the state is as before the check.
///
/// # Safety
///
/// As [`offpin_commit`].
#[no_mangle]
pub unsafe extern "C" fn offpin_discard(lock: *mut OffpinLock) -> OffpinStatus {
    // SAFETY: the caller's contract on `lock`.
    match unsafe { slot_mut(lock) } {
        Ok(slot) => match slot.pending.take() {
            Some(_) => OffpinStatus::Ok,
            None => OffpinStatus::NoPendingEntry,
        },
        Err(e) => e,
    }
}

/// Wipes the handle: the key schedule and state are zeroized and the
/// handle reads as not provisioned. NULL is ignored.
///
/// # Safety
///
/// As [`offpin_provision`].
#[no_mangle]
pub unsafe extern "C" fn offpin_wipe(lock: *mut OffpinLock) {
    // SAFETY: the caller's contract on `lock`.
    if let Some(handle) = unsafe { lock.as_mut() } {
        // SAFETY: a valid handle, by the contract.
        unsafe { clear(handle) };
    }
}

/// The current sequence number of the lock's state (that of its last
/// image), or 0 for a NULL or unprovisioned handle.
///
/// # Safety
///
/// As [`offpin_save`].
#[no_mangle]
pub unsafe extern "C" fn offpin_sequence(lock: *const OffpinLock) -> u64 {
    // SAFETY: the caller's contract on `lock`.
    match unsafe { slot_ref(lock) } {
        Ok(slot) => slot.lock.sequence(),
        Err(_) => 0,
    }
}

/// A stable snake_case name of a refusal (`"invalid_code"`, ...; `"none"`,
/// `"other"`), a static NUL-terminated string; `"unknown"` for a number
/// that is no [`OffpinRefusal`].
#[no_mangle]
pub extern "C" fn offpin_refusal_name(refusal: u32) -> *const core::ffi::c_char {
    let name: &'static [u8] = match refusal {
        0 => b"none\0",
        1 => b"invalid_code\0",
        2 => b"not_yet_valid\0",
        3 => b"expired\0",
        4 => b"not_activated\0",
        5 => b"already_used\0",
        6 => b"revoked\0",
        7 => b"superseded\0",
        8 => b"memory_full\0",
        9 => b"locked_out\0",
        10 => b"clock_rolled_back\0",
        255 => b"other\0",
        _ => b"unknown\0",
    };
    name.as_ptr().cast()
}

#[cfg(panic = "abort")]
#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    // Unreachable by construction (every entry point is total); a C
    // library has nowhere to report, so stop here.
    loop {
        core::hint::spin_loop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
