//! The saved image of a lock's state: fixed size, versioned, authenticated
//! with a key derived from the lock's own key, bound to that lock, and
//! rollback-aware.
//!
//! # Layout (version 2)
//!
//! All integers big-endian; `MEMORY` and `KEYS` are the lock's const
//! parameters, the image is [`state_len(MEMORY, KEYS)`](state_len) =
//! `367 + 8 × KEYS + 14 × MEMORY` bytes ([`Lock::STATE_LEN`]; 823 for a
//! `Lock<32>`). `F = 15 + 8 × KEYS`, `C = F + 25`.
//!
//! | offset | bytes | field |
//! |---:|---:|---|
//! | 0 | 3 | magic `"OPL"` |
//! | 3 | 1 | version, `2` |
//! | 4 | 8 | the profile's [`tweak`](crate::Profile::tweak) |
//! | 12 | 2 | `MEMORY` |
//! | 14 | 1 | `KEYS` |
//! | 15 | 8 × `KEYS` | the fingerprint of each key, in the lock's order ([`seal`]) |
//! | F | 2 | saved with: standard UTC offset in minutes (`i16`) |
//! | F + 2 | 2 | saved with: grace in seconds |
//! | F + 4 | 4 | saved with: activation hours |
//! | F + 8 | 2 | saved with: `lock_memory` |
//! | F + 10 | 15 | saved with: lock-out policy (failures `u8`, base `u32`, cap `u32`, budget `u16`, refill `u32`) |
//! | C | 4 | rollback counter |
//! | C + 4 | 8 | sequence number |
//! | C + 12 | 8 | highest time seen (`i64`) |
//! | C + 20 | 1 | back-off: failures in the current batch |
//! | C + 21 | 4 | back-off: completed batches |
//! | C + 25 | 8 | back-off: locked until (`i64`; `i64::MIN`: never) |
//! | C + 33 | 2 | guess budget: failures banked |
//! | C + 35 | 8 | guess budget: start of the refill period (`i64`) |
//! | C + 43 | 8 | revocation watermark: hour, day (`u32` each; 0: none) |
//! | C + 51 | 8 × 16 | supersede mark of lineages 1..=16: hour, day |
//! | C + 179 | 128 | revoked ongoing slots, bit `s % 8` of byte `s / 8` |
//! | C + 307 | 14 × `MEMORY` | memory slots (below) |
//! | end − 20 | 16 | AES-CMAC tag of everything before, under the state key |
//! | end − 4 | 4 | CRC-32 of everything before |
//!
//! A memory slot is a tag (`0` free, `1` activated, `2` used, `3` the
//! highest service-code counter used), the key's position (`u8`; `0` for a
//! service entry), the grant index (`u64`; the counter for a service
//! entry) and the hour its entry ends ([`until_hour`],
//! [`service_until_hour`], `u32`); a free slot is all zeros. Tag `3`
//! appears only in images of profiles with service codes (format v2), so
//! the images of every other profile are unchanged.
//!
//! Keys are **not** in the image, only their fingerprints: firmware keeps
//! them in its key store and hands them to [`Lock::load`]. The tag binds
//! everything before it, so the profile, the configuration the state was
//! saved with and the identity and order of the keys are authenticated
//! with the state.
//!
//! # What loading checks
//!
//! In this order, each failure with its own [`PersistError`]:
//!
//! 1. the magic and version ([`BadMagic`](PersistError::BadMagic),
//!    [`UnknownVersion`](PersistError::UnknownVersion)); a version-1 image
//!    is refused ([`Version1`](PersistError::Version1)): only the one-time
//!    migration reads it (below);
//! 2. the length ([`WrongLength`](PersistError::WrongLength), or
//!    [`CapacityMismatch`](PersistError::CapacityMismatch) /
//!    [`KeyCountMismatch`](PersistError::KeyCountMismatch) when the header
//!    says why);
//! 3. the CRC ([`Corrupted`](PersistError::Corrupted): a torn write or a
//!    bad cell, nothing to alarm anyone);
//! 4. the profile, capacity and number of keys
//!    ([`ForeignProfile`](PersistError::ForeignProfile) and the two above);
//! 5. the key fingerprints ([`ForeignLock`](PersistError::ForeignLock):
//!    another lock's image). The same keys in another order are fine: the
//!    memory entries are mapped to the keys' new positions (a lock of
//!    more than one key needs the crate feature `group-keys`);
//! 6. the tag ([`Forged`](PersistError::Forged): the CRC is right but the
//!    tag is not, so someone without the key wrote or edited the image on
//!    purpose — report it);
//! 7. the rollback counter ([`RolledBack`](PersistError::RolledBack): an
//!    authentic image older than the firmware's monotonic counter);
//! 8. every field ([`InvalidField`](PersistError::InvalidField): tags, key
//!    positions, indices of the right kind, entry ends, zero padding,
//!    revoked slots and lineage marks within the profile's ranges).
//!
//! The configuration saved with the image (UTC offset, grace, activation,
//! lock-out policy) may differ from the one the lock is loaded with: no
//! part of the state depends on it (marks and memory entries are stored so
//! that no allowed change reopens anything, see [`revocation`](super::revocation)
//! and [`memory`](super::memory)); a smaller budget caps the banked
//! failures. No input makes loading panic, and an image that fails a check
//! is never used: firmware then has no state and must not open for
//! time-dependent codes (do not fall back to a fresh state silently).
//!
//! A loaded lock is not [started](Lock::is_started): it decides nothing
//! until the change of [`Lock::start`] (the loaded state written again,
//! with the hardware counter plus one) is persisted, the counter raised
//! and the change committed. See [`Lock::start`] for why.
//!
//! # Version 1 (migration)
//!
//! Loading never reads the images of offpin 0.1 (`316 + 18 × MEMORY`
//! bytes, an unkeyed SHA-256 checksum, no key fingerprints: anyone can
//! write one). With the feature `lock-state-v1` (off by default),
//! `Lock::migrate_v1_into` reads one, once, and carries every used code,
//! activation, revocation, lineage mark and the back-off over; the guess
//! budget starts with the failures since the last opening spent. It
//! refuses where a version-2 image can be seen or the rollback counter
//! moved ([`PersistError::AlreadyMigrated`]). The migrating firmware
//! records the migration in its key store; the next release leaves the
//! feature out.

mod decode;
mod encode;
#[cfg(test)]
mod tests;
#[cfg(feature = "lock-state-v1")]
mod v1;

use core::fmt;

#[cfg(doc)]
use super::memory::{service_until_hour, until_hour};
use super::revocation::{MAX_LINEAGES, SLOT_BYTES};
#[cfg(doc)]
use super::seal;
use super::seal::{CRC_LEN, FINGERPRINT_LEN, TAG_LEN};
use super::{Change, IntoCodecs, Lock, LockError, LockState};
use crate::tz::TzRule;
use decode::{Against, decode};
use encode::{After, encode};

/// The version byte of offpin 0.1's images, which only the migration
/// reads.
const VERSION_1: u8 = 1;

/// First bytes of every image.
pub const MAGIC: [u8; 3] = *b"OPL";
/// The image format version this crate writes.
pub const VERSION: u8 = 2;

/// Bytes of the header before the fingerprints (magic, version, tweak,
/// capacity, keys).
const HEADER_LEN: usize = 15;
/// Bytes of the configuration the state was saved with.
const CONFIG_LEN: usize = 2 + 2 + 4 + 2 + 15;
/// Bytes of the state between the configuration and the memory slots.
const STATE_FIXED_LEN: usize = 4 + 8 + 8 + 13 + 10 + 8 + 8 * MAX_LINEAGES as usize + SLOT_BYTES;
/// Bytes of one memory slot.
pub const ENTRY_LEN: usize = 14;

/// Size in bytes of the image of a lock with `memory` slots and `keys`
/// keys.
pub const fn state_len(memory: usize, keys: usize) -> usize {
    HEADER_LEN
        + FINGERPRINT_LEN * keys
        + CONFIG_LEN
        + STATE_FIXED_LEN
        + ENTRY_LEN * memory
        + TAG_LEN
        + CRC_LEN
}

/// Why an image could not be saved or loaded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum PersistError {
    /// The buffer or image is not [`Lock::STATE_LEN`] bytes (a truncated
    /// image, or a buffer of the wrong size).
    WrongLength {
        /// [`Lock::STATE_LEN`].
        expected: usize,
        /// The length given.
        found: usize,
    },
    /// The image does not start with [`MAGIC`]: not a lock state.
    BadMagic,
    /// The image has a format version this crate does not read.
    UnknownVersion {
        /// The image's version byte.
        found: u8,
    },
    /// A version-1 image (offpin 0.1's, unkeyed, forgeable by anyone):
    /// loading never reads one. Only `Lock::migrate_v1_into` (feature
    /// `lock-state-v1`) does, once, on a lock that has never written a
    /// version-2 image.
    Version1,
    /// `Lock::migrate_v1_into` found a version-2 image among the slots, or
    /// a rollback counter above 0: this lock has migrated (or never had a
    /// version-1 image), so a version-1 image is refused.
    AlreadyMigrated,
    /// A version-1 image's checksum does not match: it is corrupted.
    Checksum,
    /// The CRC does not match: the image is damaged (a write torn by a
    /// power cut, a worn flash cell). Expected for the slot being written
    /// when the power failed; [`Lock::load_newest`] skips it.
    Corrupted,
    /// The CRC matches but the authentication tag does not: the image was
    /// written or edited by someone without this lock's key (a forged
    /// image, or a genuine one edited and resealed). Report it.
    Forged,
    /// The image belongs to another profile (its tweak differs).
    ForeignProfile,
    /// The image belongs to another lock: a key it names is not one of
    /// this lock's keys.
    ForeignLock {
        /// Position in the image of the first key this lock does not hold.
        key: usize,
    },
    /// An authentic image older than the firmware's monotonic counter: a
    /// genuine image of this lock put back after a newer one was written
    /// (a rollback).
    RolledBack {
        /// The image's counter.
        image: u32,
        /// The firmware's counter.
        counter: u32,
    },
    /// The image was saved by a lock with another `MEMORY`.
    CapacityMismatch {
        /// This lock's `MEMORY`.
        expected: usize,
        /// The image's.
        found: usize,
    },
    /// The image was saved by a lock with another number of keys.
    KeyCountMismatch {
        /// This lock's `KEYS`.
        expected: usize,
        /// The image's.
        found: usize,
    },
    /// A field is out of range although the image is authentic (an image
    /// written by a faulty implementation).
    InvalidField {
        /// Byte offset of the field in the image.
        offset: usize,
    },
    /// [`Lock::save_after`] was given a change computed for another state.
    StaleChange,
    /// The keys and profile given to [`Lock::load`] do not make a lock.
    Config(LockError),
}

impl fmt::Display for PersistError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PersistError::WrongLength { expected, found } => write!(
                f,
                "a lock state image is {expected} bytes, {found} were given"
            ),
            PersistError::BadMagic => f.write_str("not a lock state image (bad magic)"),
            PersistError::UnknownVersion { found } => {
                write!(f, "unknown lock state image version {found}")
            }
            PersistError::Version1 => f.write_str(
                "a version-1 lock state image: only the one-time migration reads it",
            ),
            PersistError::AlreadyMigrated => f.write_str(
                "the lock has written a version-2 image (or its counter moved): a version-1 image is refused",
            ),
            PersistError::Checksum => {
                f.write_str("the version-1 lock state image is corrupted (checksum)")
            }
            PersistError::Corrupted => {
                f.write_str("the lock state image is damaged (CRC): a torn write or a bad flash cell")
            }
            PersistError::Forged => f.write_str(
                "the lock state image does not authenticate under this lock's key: it was forged or edited",
            ),
            PersistError::ForeignProfile => {
                f.write_str("the lock state image belongs to another profile")
            }
            PersistError::ForeignLock { key } => write!(
                f,
                "the lock state image belongs to another lock: its key {key} is not one of this lock's keys"
            ),
            PersistError::RolledBack { image, counter } => write!(
                f,
                "the lock state image has rollback counter {image}, older than the firmware's {counter}: an old image was put back"
            ),
            PersistError::CapacityMismatch { expected, found } => write!(
                f,
                "the lock state image remembers {found} codes but this lock {expected}"
            ),
            PersistError::KeyCountMismatch { expected, found } => write!(
                f,
                "the lock state image was saved with {found} keys but this lock has {expected}"
            ),
            PersistError::InvalidField { offset } => write!(
                f,
                "the lock state image has an invalid field at byte {offset}"
            ),
            PersistError::StaleChange => {
                f.write_str("the change was computed for another state; check the entry again")
            }
            PersistError::Config(_) => f.write_str("the keys do not make a lock"),
        }
    }
}

impl core::error::Error for PersistError {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            PersistError::Config(e) => Some(e),
            _ => None,
        }
    }
}

impl From<LockError> for PersistError {
    fn from(e: LockError) -> Self {
        PersistError::Config(e)
    }
}

impl<const MEMORY: usize, const KEYS: usize> Lock<MEMORY, KEYS> {
    /// Writes the image of the current state into `out`, which must be
    /// [`Lock::STATE_LEN`] bytes.
    ///
    /// # Errors
    ///
    /// [`PersistError::WrongLength`] when `out` has another length.
    pub fn save(&self, out: &mut [u8]) -> Result<(), PersistError> {
        let view = After {
            state: &self.state,
            change: None,
        };
        encode(self, &view, out)
    }

    /// Writes the image of the state *after* `change` into `out` (which
    /// must be [`Lock::STATE_LEN`] bytes) without applying it and without
    /// copying the state: persist this, then [`commit`](Lock::commit).
    /// After the commit, [`save`](Lock::save) writes the same bytes. For a
    /// change that [needs no write](Change::needs_write) it writes the
    /// current state.
    ///
    /// # Errors
    ///
    /// [`PersistError::WrongLength`] when `out` has another length, and
    /// [`PersistError::StaleChange`] when the change was computed for
    /// another state (nothing is written then).
    pub fn save_after(&self, change: &Change, out: &mut [u8]) -> Result<(), PersistError> {
        if change.write && (change.seq != self.state.seq || change.paid != self.credit.is_some()) {
            return Err(PersistError::StaleChange);
        }
        let view = After {
            state: &self.state,
            change: Some(change),
        };
        encode(self, &view, out)
    }

    /// Rebuilds a lock from its key(s), its local time (a UTC offset or a
    /// [`TzRule`]) and a saved image,
    /// for a firmware without a rollback counter (see
    /// [`Lock::load_with_counter`]).
    ///
    /// # Errors
    ///
    /// As [`Lock::load_with_counter`] with counter 0.
    pub fn load(
        codecs: impl IntoCodecs<KEYS>,
        zone: impl Into<TzRule>,
        image: &[u8],
    ) -> Result<Self, PersistError> {
        Self::load_with_counter(codecs, zone, image, 0)
    }

    /// Rebuilds a lock from its key(s), its local time and a saved image
    /// whose rollback counter must be at least `counter` (the firmware's
    /// monotonic counter). The keys may be given in another order than
    /// they were saved in; the offset and the profile's grace, activation
    /// and lock-out policy may differ from the ones the image was saved
    /// with (nothing reopens, see the [module docs](self)).
    ///
    /// # Errors
    ///
    /// [`PersistError::Config`] when the keys do not make a lock (see
    /// [`Lock::new`]), and every other [`PersistError`] for an image that
    /// is truncated, damaged, forged, another lock's, rolled back, of
    /// another version, profile, capacity or key count, or has a field out
    /// of range.
    pub fn load_with_counter(
        codecs: impl IntoCodecs<KEYS>,
        zone: impl Into<TzRule>,
        image: &[u8],
        counter: u32,
    ) -> Result<Self, PersistError> {
        Self::load_newest_with_counter(codecs, zone, &[image], counter)
    }

    /// Rebuilds a lock from the newest valid image among `images` (the
    /// slots firmware writes in turn), for a firmware without a rollback
    /// counter.
    ///
    /// # Errors
    ///
    /// As [`Lock::load_newest_with_counter`] with counter 0.
    pub fn load_newest(
        codecs: impl IntoCodecs<KEYS>,
        zone: impl Into<TzRule>,
        images: &[&[u8]],
    ) -> Result<Self, PersistError> {
        Self::load_newest_with_counter(codecs, zone, images, 0)
    }

    /// Rebuilds a lock from the newest valid image among `images` whose
    /// rollback counter is at least `counter`: the one with the highest
    /// sequence number, the first one on a tie. Invalid images are skipped,
    /// so a write torn by a power cut falls back to the previous state.
    /// The lock is returned by value and **not started**: persist and
    /// commit [`Lock::start`]'s change before it decides anything (see
    /// [`Lock::load_newest_into`], which loads in place, for firmware that
    /// keeps its lock in a static).
    ///
    /// # Errors
    ///
    /// [`PersistError::Config`] when the keys do not make a lock; when no
    /// image is valid, the error of the first one
    /// ([`PersistError::WrongLength`] if `images` is empty).
    pub fn load_newest_with_counter(
        codecs: impl IntoCodecs<KEYS>,
        zone: impl Into<TzRule>,
        images: &[&[u8]],
        counter: u32,
    ) -> Result<Self, PersistError> {
        let mut lock = Self::new(codecs, zone)?;
        lock.load_newest_into(images, counter)?;
        Ok(lock)
    }

    /// Replaces this lock's state, in place, with the one held by the
    /// newest valid image among `images` whose rollback counter is at
    /// least `counter` (the firmware's monotonic counter; pass 0 without
    /// one): the image with the highest sequence number, the first one on
    /// a tie, as [`Lock::load_newest_with_counter`] picks it, read against
    /// this lock's keys, profile and UTC offset. A charge waiting for its
    /// check ([`Lock::charge`]) is dropped, as a power cut drops it.
    ///
    /// The lock is then **not started**: it refuses every entry with
    /// [`Refusal::NotStarted`](crate::Refusal::NotStarted) until the
    /// change of [`Lock::start`] is persisted like any other (the image
    /// written to the next slot, the counter raised to
    /// [`Change::counter`](super::Change::counter), the change committed).
    ///
    /// Nothing is copied on the stack: every image is checked first
    /// without writing anything, then the chosen one is read a second time
    /// straight into the state. So a firmware that keeps its `Lock` in a
    /// static (built once by [`Lock::new`]) boots with no second `Lock`,
    /// nor a second state, on its stack.
    ///
    /// # Errors
    ///
    /// When no image is valid, the error of the first one
    /// ([`PersistError::WrongLength`] if `images` is empty), and the lock
    /// is unchanged: a lock built by [`Lock::new`] for the boot still holds
    /// its fresh state, which must not be used as if it were the saved one
    /// (see `docs/LOCK.md`, "Never fall back to a fresh state silently").
    /// So an image can also be tried on a running lock: a rolled-back,
    /// forged or foreign one is refused and changes nothing.
    ///
    /// # Examples
    ///
    /// ```
    /// use offpin::lock::{Change, Lock, PersistError};
    /// use offpin::profile::shipped::STANDARD_10 as P;
    /// use offpin::{Codec, DeviceKey, UtcOffset};
    ///
    /// type Slots = [[u8; Lock::<32>::STATE_LEN]; 2];
    ///
    /// /// The order every change takes: its image to the next slot, then
    /// /// the monotonic counter raised to the image's, then the commit.
    /// fn persist(lock: &mut Lock<32>, slots: &mut Slots, hw: &mut u32, change: Change)
    ///     -> Result<(), Box<dyn std::error::Error>> {
    ///     if change.needs_write() {
    ///         let slot = &mut slots[(change.image_sequence() % 2) as usize];
    ///         lock.save_after(&change, slot)?;
    ///         *hw = change.counter(); // after the write, before the commit
    ///     }
    ///     lock.commit(change)?;
    ///     Ok(())
    /// }
    ///
    /// let key = DeviceKey::from_bytes([7; 16]);
    /// let mut lock = Lock::<32>::new(Codec::new(&key, P)?, UtcOffset::UTC)?;
    /// let (mut slots, mut hw): (Slots, u32) = ([[0; Lock::<32>::STATE_LEN]; 2], 0);
    /// lock.save(&mut slots[0])?; // provisioning, counter 0
    /// let seen = lock.observe_clock(P.epoch() + 3_600);
    /// persist(&mut lock, &mut slots, &mut hw, seen)?;
    /// assert_eq!((lock.sequence(), hw), (1, 1));
    ///
    /// // Boot: a lock from the keys, its state from the slots, its start.
    /// let mut booted = Lock::<32>::new(Codec::new(&key, P)?, UtcOffset::UTC)?;
    /// booted.load_newest_into(&[&slots[0], &slots[1]], hw)?;
    /// assert!(!booted.is_started());
    /// let start = booted.start();
    /// persist(&mut booted, &mut slots, &mut hw, start)?;
    /// assert_eq!((booted.sequence(), hw), (2, 2));
    /// // The image before the start is refused now, and changes nothing.
    /// let old = slots[1];
    /// assert_eq!(
    ///     booted.load_newest_into(&[&old], hw),
    ///     Err(PersistError::RolledBack { image: 1, counter: 2 })
    /// );
    /// assert!(booted.is_started());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn load_newest_into(&mut self, images: &[&[u8]], counter: u32) -> Result<(), PersistError> {
        self.read_newest_into(images, counter, decode::<MEMORY, KEYS>)
    }

    /// Migrates a lock from offpin 0.1: replaces its state, in place, with
    /// the one held by the newest valid **version-1** image among
    /// `images` (unkeyed SHA-256, no key binding: anyone can write one),
    /// carrying every used code, activation, revocation, lineage mark and
    /// the back-off over; the guess budget starts with the failures since
    /// the last opening spent. Like a load, it leaves the lock
    /// [not started](Lock::is_started): persist and commit
    /// [`Lock::start`]'s change, which writes the first version-2 image.
    ///
    /// Call it at most once in a lock's life, on the boot where
    /// [`Lock::load_newest_into`] refused every slot with
    /// [`PersistError::Version1`], and record in the key store that the
    /// lock migrated (see `docs/LOCK.md` §2, "Migration from version 1").
    /// It refuses by itself where a version-2 image was ever written and
    /// can be seen: any slot holding a version-2 image (even a torn or
    /// forged one), or a rollback counter above 0
    /// ([`PersistError::AlreadyMigrated`]).
    ///
    /// # Errors
    ///
    /// [`PersistError::AlreadyMigrated`] as above; otherwise as
    /// [`Lock::load_newest_into`], with the version-1 errors
    /// ([`PersistError::Checksum`]).
    #[cfg(feature = "lock-state-v1")]
    pub fn migrate_v1_into(&mut self, images: &[&[u8]], counter: u32) -> Result<(), PersistError> {
        let v2_seen = images
            .iter()
            .any(|image| image.get(..3) == Some(&MAGIC[..]) && image.get(3) == Some(&VERSION));
        if counter > 0 || v2_seen {
            return Err(PersistError::AlreadyMigrated);
        }
        self.read_newest_into(images, counter, v1::decode::<MEMORY, KEYS>)
    }

    /// The newest image among `images` that `read` accepts, read into the
    /// state in place (see [`Lock::load_newest_into`]); the lock is then
    /// not started until [`Lock::start`]'s change is committed.
    fn read_newest_into(
        &mut self,
        images: &[&[u8]],
        counter: u32,
        read: impl Fn(
            &Against<'_, KEYS>,
            &[u8],
            u32,
            Option<&mut LockState<MEMORY>>,
        ) -> Result<u64, PersistError>,
    ) -> Result<(), PersistError> {
        let Lock {
            codecs,
            fingerprints,
            zone: _zone,
            state,
            credit,
            ..
        } = self;
        let against = Against {
            codecs,
            fingerprints,
            profile: super::profile_of(codecs),
            #[cfg(feature = "lock-state-v1")]
            zone: _zone,
        };
        // First pass: which image is valid and newest, writing nothing.
        let mut best: Option<(&[u8], u64)> = None;
        let mut first_error = None;
        for image in images {
            match read(&against, image, counter, None) {
                Ok(seq) => {
                    if best.is_none_or(|(_, b)| seq > b) {
                        best = Some((image, seq));
                    }
                }
                Err(e) => {
                    first_error.get_or_insert(e);
                }
            }
        }
        let Some((image, _)) = best else {
            return Err(first_error.unwrap_or(PersistError::WrongLength {
                expected: Self::STATE_LEN,
                found: 0,
            }));
        };
        // The same bytes against the same keys pass again; this time the
        // state is written as they are read.
        read(&against, image, counter, Some(state))?;
        *credit = None;
        // The start image carries the hardware counter plus one (an image
        // ahead of a counter that was never bumped: its own counter); at
        // least 1, so never the 0 of a started lock.
        state.start = counter.saturating_add(1).max(state.counter);
        Ok(())
    }
}
