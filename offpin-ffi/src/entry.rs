//! One entry, count-before-check: [`offpin_charge`], [`offpin_check`],
//! then for each [`offpin_save_pending`] and [`offpin_commit`] (or
//! [`offpin_discard`]).

use offpin::lock::ClockStatus;
use offpin::PersistError;

use crate::convert::{decision_of, persist_status};
use crate::handle::{out_buffer, report, slot_mut, Pending, Slot};
use crate::{OffpinDecision, OffpinEntry, OffpinLock, OffpinOutcome, OffpinRefusal, OffpinStatus};

// Named in the documentation only.
#[cfg(doc)]
use crate::{offpin_load, offpin_provision, OFFPIN_STATE_LEN};

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
