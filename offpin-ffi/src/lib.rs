//! A C interface to offpin's lock side, for lock firmware written in C
//! (vendor SDKs, Zephyr, ESP-IDF). Header: `include/offpin.h`, generated
//! by cbindgen from this crate (see Layout).
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
//!
//! # Layout
//!
//! - this file: the constants and the C types of the header;
//! - `boot`: [`offpin_lock_size`], [`offpin_provision`], [`offpin_load`],
//!   [`offpin_save`];
//! - `entry`: an entry's calls, [`offpin_charge`], [`offpin_check`],
//!   [`offpin_save_pending`], [`offpin_commit`], [`offpin_discard`];
//! - `state`: [`offpin_wipe`], the handle's state
//!   ([`offpin_sequence`], [`offpin_is_started`],
//!   [`offpin_rollback_counter`]) and [`offpin_refusal_name`];
//! - `handle`: what the opaque storage of an [`OffpinLock`] holds and how
//!   a C handle pointer reaches it;
//! - `convert`: offpin's values to C numbers and back;
//! - `tests`: the unit tests.
//!
//! cbindgen reads this file, then its modules in the order they are
//! declared (rustfmt sorts them by name), and lists the functions in the
//! order it read them: `boot`, `entry`, `state` is the header's order. A
//! module renamed out of that order reorders the header, which
//! `test.sh header` reports.

#![no_std]
#![deny(missing_docs)]

// Built with `panic = "unwind"` (cargo's test profile, for the unit tests
// and the issuing example), std provides the panic handler; the library
// that C links is built with `panic = "abort"` (release and dev profiles)
// and brings its own, below.
#[cfg(panic = "unwind")]
extern crate std;

mod boot;
mod convert;
mod entry;
mod handle;
mod state;
#[cfg(test)]
#[allow(
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    reason = "test code: a panic is a failed test"
)]
mod tests;

pub use boot::{offpin_load, offpin_lock_size, offpin_provision, offpin_save};
pub use entry::{offpin_charge, offpin_check, offpin_commit, offpin_discard, offpin_save_pending};
pub use state::{
    offpin_is_started, offpin_refusal_name, offpin_rollback_counter, offpin_sequence, offpin_wipe,
};

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

#[cfg(panic = "abort")]
#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    // Unreachable by construction (every entry point is total); a C
    // library has nowhere to report, so stop here.
    loop {
        core::hint::spin_loop();
    }
}
