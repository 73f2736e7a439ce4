//! Why a lock could not be built ([`LockError`]) or a change not applied
//! ([`CommitError`]).

use core::fmt;

#[cfg(doc)]
use super::{Lock, MAX_LINEAGES, MAX_REVOCABLE_SLOTS};

/// Why [`Lock::new`] refused its configuration. Limits that depend only on
/// `MEMORY` and `KEYS` (`1 ≤ MEMORY ≤ 65 535`, `1 ≤ KEYS ≤ 255`) are
/// checked at compile time instead:
///
/// ```compile_fail
/// # use offpin::{Codec, DeviceKey, UtcOffset, lock::Lock};
/// # let codec = Codec::new(&DeviceKey::from_bytes([1; 16]), offpin::profile::shipped::STANDARD_10).unwrap();
/// let lock = Lock::<0>::new(codec, UtcOffset::UTC); // MEMORY = 0 does not build
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum LockError {
    /// `MEMORY` is larger than the profile's
    /// [`lock_memory`](crate::Profile::lock_memory), the number of
    /// remembered codes its published security figure assumes.
    MemoryExceedsProfile {
        /// The lock's `MEMORY`.
        memory: usize,
        /// The profile's `lock_memory`.
        profile: u16,
    },
    /// The codecs do not all have the same profile.
    ProfileMismatch {
        /// Position of the first codec whose profile differs from the
        /// first one's.
        key: usize,
    },
    /// Two codecs hold the same key: memory entries and saved images name
    /// keys by their fingerprint, so each key may appear once.
    DuplicateKey {
        /// Position of its first occurrence.
        first: usize,
        /// Position of the repeat.
        second: usize,
    },
    /// The lock was given more than one key (a group key beside its device
    /// key) but the crate was built without the `group-keys` feature, so
    /// the lock accepts its device key only.
    GroupKeysNotBuilt {
        /// The number of keys given (`KEYS`).
        keys: usize,
    },
    /// The profile has revocation codes for more ongoing slots than the
    /// lock's revocation bitmap holds.
    TooManySlots {
        /// The profile's ongoing slots.
        slots: u32,
        /// [`MAX_REVOCABLE_SLOTS`].
        max: u32,
    },
    /// The profile has more supersede lineages than the lock tracks.
    TooManyLineages {
        /// The profile's lineages.
        lineages: u8,
        /// [`MAX_LINEAGES`].
        max: u8,
    },
    /// The profile has rolling service codes but the crate was built
    /// without the `service-codes` feature (HMAC-SHA1), so the lock could
    /// not check them.
    ServiceCodesNotBuilt,
    /// The profile has recurring or clock-setting codes (format v2) but
    /// the crate was built without the `format-v2` feature, so the lock
    /// could not check them.
    FormatV2NotBuilt,
    /// The profile searches entries longer than a PIN (anti-peep entry,
    /// its `entry_max_digits` above its `digits`) but the crate was built
    /// without the `anti-peep` feature, so the lock could not search them.
    AntiPeepNotBuilt {
        /// The profile's `entry_max_digits`.
        entry_max_digits: u8,
    },
    /// The lock's DST rule moves the clock by more than the profile's
    /// published figure covers ([`Profile::max_dst_shift_secs`](crate::Profile::max_dst_shift_secs):
    /// the span `A + 2g` plus the shift would reach another local
    /// midnight, so the lock could accept more than `W_max`). Use the
    /// zone's standard offset, or a profile that covers the shift.
    RuleNotCovered {
        /// The rule's shift, `|dst − std|`, in seconds.
        shift_secs: i32,
        /// The most the profile covers, in seconds.
        max_secs: i32,
    },
}

impl fmt::Display for LockError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LockError::MemoryExceedsProfile { memory, profile } => write!(
                f,
                "the lock remembers {memory} codes but its profile's security figure assumes at most {profile}; raise the profile's lock_memory"
            ),
            LockError::ProfileMismatch { key } => write!(
                f,
                "key {key} is bound to another profile than key 0; every key of a lock must share its profile"
            ),
            LockError::DuplicateKey { first, second } => write!(
                f,
                "keys {first} and {second} are the same key; a lock holds each key once"
            ),
            LockError::GroupKeysNotBuilt { keys } => write!(
                f,
                "the lock was given {keys} keys but accepts one (its device key); build offpin with the group-keys feature to give it a group key"
            ),
            LockError::TooManySlots { slots, max } => write!(
                f,
                "the profile can revoke {slots} ongoing slots but a lock tracks at most {max}"
            ),
            LockError::TooManyLineages { lineages, max } => write!(
                f,
                "the profile has {lineages} supersede lineages but a lock tracks at most {max}"
            ),
            LockError::ServiceCodesNotBuilt => f.write_str(
                "the profile has service codes; build offpin with the service-codes feature to check them",
            ),
            LockError::FormatV2NotBuilt => f.write_str(
                "the profile has recurring or clock-setting codes; build offpin with the format-v2 feature to check them",
            ),
            LockError::AntiPeepNotBuilt { entry_max_digits } => write!(
                f,
                "the profile accepts a PIN inside an entry of up to {entry_max_digits} keys; build offpin with the anti-peep feature to search them"
            ),
            LockError::RuleNotCovered {
                shift_secs,
                max_secs,
            } => write!(
                f,
                "the lock's DST rule moves the clock by {shift_secs} s but the profile's W_max covers at most {max_secs} s; use the standard offset or another profile"
            ),
        }
    }
}

impl core::error::Error for LockError {}

/// Why [`Lock::commit`] refused a change.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CommitError {
    /// The change was computed for another state: the lock's sequence
    /// number moved since the [`Lock::check`] that produced it (another
    /// change was committed in between, or it comes from another lock).
    /// Check the entry again.
    Stale {
        /// The sequence number the change was computed for.
        change: u64,
        /// The lock's sequence number.
        lock: u64,
    },
    /// The change was computed before the entry's charge
    /// ([`Lock::charge`]) was committed, or after it was used by another
    /// check: each charge pays for one check. Charge and check again.
    StaleCharge,
}

impl fmt::Display for CommitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CommitError::Stale { change, lock } => write!(
                f,
                "the change was computed for state {change} but the lock is at state {lock}; check the entry again"
            ),
            CommitError::StaleCharge => f.write_str(
                "the change was computed for another charge of the entry; charge and check it again",
            ),
        }
    }
}

impl core::error::Error for CommitError {}
