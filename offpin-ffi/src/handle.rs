//! What an [`OffpinLock`]'s opaque storage holds once provisioned (a
//! `Lock` and the entry in progress), how a C handle pointer reaches it,
//! and the `out` buffer and entry report behind C pointers.

use core::mem::{align_of, size_of};
use core::ptr;

use offpin::lock::{Change, Check, ClockStatus, Lock};
use zeroize::Zeroize;

use crate::{
    OffpinEntry, OffpinLock, OffpinStatus, OFFPIN_LOCK_BYTES, OFFPIN_MEMORY, OFFPIN_STATE_LEN,
};

// Named in the documentation only.
#[cfg(doc)]
use crate::{offpin_charge, offpin_check, offpin_load};

pub(crate) type InnerLock = Lock<OFFPIN_MEMORY, 1>;

/// The change waiting for its commit.
pub(crate) enum Pending {
    /// The start of a loaded lock ([`offpin_load`]).
    Start(Change),
    /// An entry charged ([`offpin_charge`]), not yet decided.
    Charge(Change),
    /// An entry checked ([`offpin_check`]): its change and decision.
    Check(Check),
}

impl Pending {
    pub(crate) fn change(&self) -> &Change {
        match self {
            Pending::Start(change) | Pending::Charge(change) => change,
            Pending::Check(check) => &check.change,
        }
    }
}

/// What an [`OffpinLock`]'s storage holds once provisioned.
pub(crate) struct Slot {
    pub(crate) lock: InnerLock,
    /// The entry charged or checked and not yet committed.
    pub(crate) pending: Option<Pending>,
}

/// Marks a provisioned handle ("OFPN").
const MAGIC: u32 = 0x4F46_504E;

const _: () = {
    assert!(size_of::<Slot>() <= OFFPIN_LOCK_BYTES);
    assert!(align_of::<Slot>() <= 16);
    assert!(core::mem::offset_of!(OffpinLock, storage) == 0);
    assert!(InnerLock::STATE_LEN == OFFPIN_STATE_LEN);
};

/// The provisioned slot of a handle.
///
/// # Safety
///
/// `lock` is NULL or points to an `OffpinLock` that is zeroed or was
/// written by this library, not accessed by anything else for `'a`.
pub(crate) unsafe fn slot_mut<'a>(lock: *mut OffpinLock) -> Result<&'a mut Slot, OffpinStatus> {
    // SAFETY: by the caller's contract, `lock` is NULL or valid and
    // unaliased for 'a.
    let Some(handle) = (unsafe { lock.as_mut() }) else {
        return Err(OffpinStatus::NullPointer);
    };
    slot_of(handle)
}

/// The provisioned slot of a handle the caller holds.
pub(crate) fn slot_of(handle: &mut OffpinLock) -> Result<&mut Slot, OffpinStatus> {
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
pub(crate) unsafe fn slot_ref<'a>(lock: *const OffpinLock) -> Result<&'a Slot, OffpinStatus> {
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
pub(crate) unsafe fn clear(handle: &mut OffpinLock) {
    if handle.magic == MAGIC {
        handle.magic = 0;
        // SAFETY: a `Slot` lives in `storage` (see `slot_mut`); `magic` is
        // cleared first, so it is dropped once.
        unsafe { ptr::drop_in_place(handle.storage.as_mut_ptr().cast::<Slot>()) };
    }
    handle.storage.zeroize();
}

/// Puts `lock` into the handle (dropping what was there).
pub(crate) fn install(handle: &mut OffpinLock, lock: InnerLock) {
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

/// # Safety
///
/// `out` is NULL or points to `len` writable bytes not otherwise accessed
/// for `'a`.
pub(crate) unsafe fn out_buffer<'a>(out: *mut u8, len: usize) -> Option<&'a mut [u8]> {
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
pub(crate) unsafe fn report(out: *mut OffpinEntry, change: &Change, clock: ClockStatus) {
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
