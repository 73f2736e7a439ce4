//! The handle outside an entry: [`offpin_wipe`], its state
//! ([`offpin_sequence`], [`offpin_is_started`],
//! [`offpin_rollback_counter`]), and [`offpin_refusal_name`].

use crate::handle::{clear, slot_ref};
use crate::OffpinLock;

// Named in the documentation only.
#[cfg(doc)]
use crate::{offpin_load, offpin_provision, offpin_save, OffpinRefusal};

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
