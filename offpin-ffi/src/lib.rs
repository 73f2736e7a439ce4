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
//! - **Charge → persist → commit, check → persist → commit.** Each entry
//!   is first counted as a failure ([`offpin_charge`], count-before-check:
//!   the failure is on flash before the entry is decided), then decided
//!   ([`offpin_check`], which computes the state change but *withholds the
//!   decision*). After each of the two calls, the firmware writes the image
//!   of the state after the pending change if [`OffpinEntry::needs_write`]
//!   says so ([`offpin_save_pending`], to slot `image_sequence % 2`), then
//!   [`offpin_commit`] applies the change, and for a check only then
//!   releases the decision. So a decision is never acted on before the
//!   state that records it is on flash, and pulling the power during the
//!   check never erases its failure. `offpin_check` without a charge
//!   (check-then-count) works too, at one write less per opening.
//! - **Rollback counter.** The lock chooses every image's counter: one
//!   above its state's ([`OffpinEntry::counter`]). A firmware with a
//!   monotonic counter raises it to that value after the image is written
//!   and before [`offpin_commit`]; [`offpin_load`] refuses an image older
//!   than the counter it is given ([`OffpinStatus::RolledBack`]). A
//!   forged, foreign, damaged or version-1 image has its own status too.
//! - **Started by the same path as every entry.** [`offpin_load`] leaves
//!   the lock's *start* pending (`Lock::start`: the loaded state written
//!   again with the counter plus one, which burns the counter of an image
//!   written before a power cut that stopped the raise) and reports it
//!   like a charge: write its image, raise the counter, commit. Until that
//!   commit, [`offpin_charge`] and [`offpin_check`] return
//!   [`OffpinStatus::EntryPending`]; a discarded start leaves a lock that
//!   refuses every entry ([`OffpinRefusal::NotStarted`]) until it is
//!   loaded again. So a firmware that persists every change the same way
//!   cannot act on a loaded lock before its start is on flash.
//! - **No copy of the lock at boot.** [`offpin_load`] builds the lock in
//!   the handle and reads the image's state into it in place
//!   (`Lock::load_newest_into`).
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

use offpin::lock::{Change, Check, ClockStatus, Decision, Lock};
use offpin::profile::shipped;
use offpin::{Codec, DeviceKey, PersistError, Profile, Refusal, UtcOffset};
use zeroize::Zeroize;

/// Codes a lock remembers (used one-time codes and activated stays).
pub const OFFPIN_MEMORY: usize = 32;

/// The length in bytes of a state image ([`offpin_save`],
/// [`offpin_save_pending`], [`offpin_load`]).
pub const OFFPIN_STATE_LEN: usize = 823;

/// The bytes of an [`OffpinLock`]'s opaque storage (enough on every
/// target: checked at compile time).
pub const OFFPIN_LOCK_BYTES: usize = 2560;

/// The AES-128 key length in bytes.
pub const OFFPIN_KEY_LEN: usize = 16;

type InnerLock = Lock<OFFPIN_MEMORY, 1>;

/// The change waiting for its commit.
enum Pending {
    /// The start of a loaded lock ([`offpin_load`]).
    Start(Change),
    /// An entry charged ([`offpin_charge`]), not yet decided.
    Charge(Change),
    /// An entry checked ([`offpin_check`]): its change and decision.
    Check(Check),
}

impl Pending {
    fn change(&self) -> &Change {
        match self {
            Pending::Start(change) | Pending::Charge(change) => change,
            Pending::Check(check) => &check.change,
        }
    }
}

/// What an [`OffpinLock`]'s storage holds once provisioned.
struct Slot {
    lock: InnerLock,
    /// The entry charged or checked and not yet committed.
    pending: Option<Pending>,
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
    /// No image given was a valid image of this lock, for another reason
    /// than the four below (another profile, capacity, version or length,
    /// not an image at all, or a field out of range).
    ImageInvalid = 7,
    /// [`offpin_save_pending`] or [`offpin_commit`] without a charged or
    /// checked entry.
    NoPendingEntry = 8,
    /// [`offpin_charge`], [`offpin_check`] or [`offpin_save`] while an
    /// entry is charged or checked and not committed: commit it (or
    /// [`offpin_discard`] it) first.
    EntryPending = 9,
    /// The state moved since the entry was checked (cannot happen through
    /// this interface; check again).
    Stale = 10,
    /// The key and profile do not make a lock (cannot happen for the
    /// shipped profiles).
    Config = 11,
    /// The image is damaged (its CRC fails): a write torn by a power cut
    /// or a worn cell. Expected for the slot that was being written; not
    /// an alarm.
    Corrupted = 12,
    /// The image's CRC is right but its AES-CMAC tag is not: someone
    /// without the lock's key wrote or edited it on purpose. Report it.
    Forged = 13,
    /// The image is another lock's (its key fingerprint is not this
    /// lock's key).
    ForeignLock = 14,
    /// An authentic image of this lock, older than the monotonic counter
    /// given to [`offpin_load`]: an old image was put back. Report it.
    RolledBack = 15,
    /// A version-1 image (offpin 0.1's layout, unkeyed: anyone can write
    /// one): loading never reads it. Report it.
    Version1 = 16,
    /// The one-time migration from version 1 found a version-2 image or a
    /// moved counter (this interface does not migrate; named for
    /// totality).
    AlreadyMigrated = 17,
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
    /// [`offpin_commit`] of a charge: the entry is counted as a failure
    /// and not decided yet; check it next.
    Charged = 3,
    /// [`offpin_commit`] of the start [`offpin_load`] left pending: the
    /// lock decides entries from now on.
    Started = 4,
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
    /// The lock was loaded and its start not committed (discarded): it
    /// decides nothing; load it again.
    NotStarted = 11,
    /// A refusal this version of the interface does not name.
    Other = 255,
}

/// What [`offpin_charge`] and [`offpin_check`] report before the change
/// is committed (and, for a check, before the decision is released).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OffpinEntry {
    /// Whether the image after the pending change must be written
    /// ([`offpin_save_pending`], then the flash write) before
    /// [`offpin_commit`]. False for an entry refused while the keypad is
    /// locked out (nothing changes) and for the check of a charged entry
    /// that failed (its failure was written with the charge): commit
    /// those without writing.
    pub needs_write: bool,
    /// The sequence number of the image to write (slot
    /// `image_sequence % 2` of two alternating slots).
    pub image_sequence: u64,
    /// The rollback counter that image carries, chosen by the lock (one
    /// above the state's): with a monotonic hardware counter, raise it to
    /// this value after the image is written and before
    /// [`offpin_commit`]; without one, ignore it.
    pub counter: u32,
    /// Whether the clock was found behind the highest time seen (always
    /// false for a charge).
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
        Refusal::NotStarted => OffpinRefusal::NotStarted,
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
    slot_of(handle)
}

/// The provisioned slot of a handle the caller holds.
fn slot_of(handle: &mut OffpinLock) -> Result<&mut Slot, OffpinStatus> {
    if handle.magic != MAGIC {
        return Err(OffpinStatus::NotProvisioned);
    }
    // SAFETY: `magic == MAGIC` only after `install` wrote a `Slot` at the
    // start of `storage`, which is 16-aligned (the struct's `align(16)`,
    // `storage` at offset 0) and large enough (compile-time assertions
    // above); the `&mut` borrow of the handle covers it.
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

/// What a refused image or image buffer comes to in C.
fn persist_status(e: PersistError) -> OffpinStatus {
    match e {
        PersistError::Config(_) => OffpinStatus::Config,
        PersistError::Corrupted => OffpinStatus::Corrupted,
        PersistError::Forged => OffpinStatus::Forged,
        PersistError::ForeignLock { .. } => OffpinStatus::ForeignLock,
        PersistError::RolledBack { .. } => OffpinStatus::RolledBack,
        PersistError::Version1 => OffpinStatus::Version1,
        PersistError::AlreadyMigrated => OffpinStatus::AlreadyMigrated,
        PersistError::StaleChange => OffpinStatus::Stale,
        _ => OffpinStatus::ImageInvalid,
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

/// Writes the entry report of a pending change through `out` (if not
/// NULL).
///
/// # Safety
///
/// `out` is NULL or writable.
unsafe fn report(out: *mut OffpinEntry, change: &Change, clock: ClockStatus) {
    let entry = OffpinEntry {
        needs_write: change.needs_write(),
        image_sequence: change.image_sequence(),
        counter: change.counter(),
        clock_rolled_back: clock != ClockStatus::Ok,
    };
    if !out.is_null() {
        // SAFETY: `out` is non-NULL and writable (the caller's contract);
        // `write` does not read or drop what was there, which may be
        // uninitialised.
        unsafe { out.write(entry) };
    }
}

/// Count-before-check: counts the next entry as a failure at `now` (Unix
/// seconds) *before* it is decided. Write [`offpin_save_pending`]'s image
/// if [`OffpinEntry::needs_write`], [`offpin_commit`] the charge, then
/// [`offpin_check`] the entry: if it opens (or revokes), its change gives
/// the charge back. While the keypad is locked out the charge changes
/// nothing (no write), and the check refuses it unseen. Refused while
/// another entry is pending.
///
/// # Safety
///
/// `lock` as in [`offpin_provision`]; `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn offpin_charge(
    lock: *mut OffpinLock,
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
    let change = slot.lock.charge(now);
    // SAFETY: the caller's contract on `out`.
    unsafe { report(out, &change, ClockStatus::Ok) };
    slot.pending = Some(Pending::Charge(change));
    OffpinStatus::Ok
}

/// Checks typed keypad input (ASCII digits) at `now` (Unix seconds):
/// computes the decision and the state change, applies nothing, and
/// reports whether an image must be written. The decision is released by
/// [`offpin_commit`]. Call it after the entry's charge is committed
/// ([`offpin_charge`]), or alone (check-then-count: the failure is then
/// part of the check's change). Refused while another entry is pending.
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
    // SAFETY: the caller's contract on `out`.
    unsafe { report(out, &check.change, check.clock) };
    slot.pending = Some(Pending::Check(check));
    OffpinStatus::Ok
}

/// Writes the image of the state *after* the pending start, charge or
/// check into `out` (`out_len` must be [`OFFPIN_STATE_LEN`]), carrying
/// the rollback counter the lock chose ([`OffpinEntry::counter`]):
/// persist it, raise a monotonic hardware counter to that value, then
/// [`offpin_commit`].
///
/// # Safety
///
/// `lock` as in [`offpin_provision`]; `out` is NULL or points to `out_len`
/// writable bytes.
#[no_mangle]
pub unsafe extern "C" fn offpin_save_pending(
    lock: *mut OffpinLock,
    out: *mut u8,
    out_len: usize,
) -> OffpinStatus {
    // SAFETY: the caller's contract on `lock`.
    let Slot { lock, pending } = match unsafe { slot_mut(lock) } {
        Ok(s) => s,
        Err(e) => return e,
    };
    let Some(pending) = pending.as_ref() else {
        return OffpinStatus::NoPendingEntry;
    };
    // SAFETY: the caller's contract on `out`.
    let Some(buf) = (unsafe { out_buffer(out, out_len) }) else {
        return OffpinStatus::NullPointer;
    };
    match lock.save_after(pending.change(), buf) {
        Ok(()) => OffpinStatus::Ok,
        Err(PersistError::WrongLength { .. }) => OffpinStatus::BufferLength,
        Err(e) => persist_status(e),
    }
}

/// Applies the pending entry's change; for a check, releases its decision
/// into `out` (for a charge, `out` reads [`OffpinOutcome::Charged`]; for
/// the start [`offpin_load`] left pending, [`OffpinOutcome::Started`]).
/// Call it after the image of [`offpin_save_pending`] is written and the
/// hardware counter raised to [`OffpinEntry::counter`] (if the entry
/// [needed a write](OffpinEntry::needs_write)).
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
    let (change, decision) = match slot.pending.take() {
        None => return OffpinStatus::NoPendingEntry,
        Some(Pending::Start(change)) => (change, Err(OffpinOutcome::Started)),
        Some(Pending::Charge(change)) => (change, Err(OffpinOutcome::Charged)),
        Some(Pending::Check(check)) => (check.change, Ok(check.decision)),
    };
    if slot.lock.commit(change).is_err() {
        return OffpinStatus::Stale;
    }
    let released = decision.map_or_else(
        |outcome| OffpinDecision {
            outcome,
            refusal: OffpinRefusal::None,
        },
        decision_of,
    );
    if !out.is_null() {
        // SAFETY: as in `report`.
        unsafe { out.write(released) };
    }
    OffpinStatus::Ok
}

/// Drops the pending start, charge or check without applying it (its
/// image could not be written): the door stays shut and the state is as
/// before the call that made it pending. A lock whose start was dropped
/// refuses every entry ([`OffpinRefusal::NotStarted`]) until
/// [`offpin_load`] again.
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

/// Whether the lock decides entries: true once provisioned
/// ([`offpin_provision`]) or once the start [`offpin_load`] left pending is
/// committed; false for a NULL or unprovisioned handle.
///
/// # Safety
///
/// As [`offpin_save`].
#[no_mangle]
pub unsafe extern "C" fn offpin_is_started(lock: *const OffpinLock) -> bool {
    // SAFETY: the caller's contract on `lock`.
    match unsafe { slot_ref(lock) } {
        Ok(slot) => slot.lock.is_started(),
        Err(_) => false,
    }
}

/// The rollback counter of the lock's state (that of its last image), or
/// 0 for a NULL or unprovisioned handle.
///
/// # Safety
///
/// As [`offpin_save`].
#[no_mangle]
pub unsafe extern "C" fn offpin_rollback_counter(lock: *const OffpinLock) -> u32 {
    // SAFETY: the caller's contract on `lock`.
    match unsafe { slot_ref(lock) } {
        Ok(slot) => slot.lock.rollback_counter(),
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
        11 => b"not_started\0",
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
#[allow(
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    reason = "test code: a panic is a failed test"
)]
mod tests;
