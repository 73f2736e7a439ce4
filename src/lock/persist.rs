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

use core::fmt;

use super::lockout::{Budget, Lockout};
use super::memory::{EntryKind, Remembered, service_until_hour, until_hour};
use super::revocation::{MAX_LINEAGES, Mark, SLOT_BYTES};
use super::seal::{self, CRC_LEN, FINGERPRINT_LEN, TAG_LEN};
use super::{Change, IntoCodecs, Lock, LockError, LockState, Revocation};
use crate::codec::Codec;
use crate::grant::Grant;
use crate::profile::{LockoutPolicy, Profile};
use crate::time::{PER_HOUR, UnixSeconds, UtcOffset};
use crate::tz::TzRule;

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

/// A write cursor over a buffer of exactly the right size (bytes beyond
/// its end, which the length check before rules out, are dropped).
struct Writer<'a> {
    buf: &'a mut [u8],
}

impl Writer<'_> {
    /// Writes `bytes` as they are.
    fn put(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.be(u64::from(*b), 1);
        }
    }

    /// Writes the `n` (at most 8) low bytes of `value`, big-endian. One
    /// routine for every field, so that the image code stays small.
    #[inline(never)]
    #[allow(clippy::cast_possible_truncation, reason = "the low byte is wanted")]
    fn be(&mut self, value: u64, n: usize) {
        let buf = core::mem::take(&mut self.buf);
        let (head, tail) = buf.split_at_mut(n.min(buf.len()));
        let mut v = value;
        for b in head.iter_mut().rev() {
            *b = v as u8;
            v >>= 8;
        }
        self.buf = tail;
    }
}

/// A read cursor that knows its offset in the image. The image's length is
/// checked before anything is read, so a read past the end cannot happen;
/// it would read zeros, so no read needs an error path.
struct Reader<'a> {
    buf: &'a [u8],
    at: usize,
}

#[allow(
    clippy::cast_possible_truncation,
    reason = "each read is as wide as the type it is cast to"
)]
impl Reader<'_> {
    /// The next `n` (at most 8) bytes as a big-endian number. One routine
    /// for every field, so that the image code stays small.
    #[inline(never)]
    fn be(&mut self, n: usize) -> u64 {
        let (head, tail) = self.buf.split_at(n.min(self.buf.len()));
        self.buf = tail;
        self.at += n;
        head.iter().fold(0, |v, b| v << 8 | u64::from(*b))
    }
    /// The next `n` bytes as they are (fewer at the end of the image).
    fn bytes(&mut self, n: usize) -> &[u8] {
        let (head, tail) = self.buf.split_at(n.min(self.buf.len()));
        self.buf = tail;
        self.at += n;
        head
    }
    fn u8(&mut self) -> u8 {
        self.be(1) as u8
    }
    fn u16(&mut self) -> u16 {
        self.be(2) as u16
    }
    fn i16(&mut self) -> i16 {
        self.be(2) as u16 as i16
    }
    fn u32(&mut self) -> u32 {
        self.be(4) as u32
    }
    fn u64(&mut self) -> u64 {
        self.be(8)
    }
    fn i64(&mut self) -> i64 {
        self.be(8) as i64
    }
}

/// The state as it will be after an optional change, field by field,
/// without copying it.
struct After<'a, const MEMORY: usize> {
    state: &'a LockState<MEMORY>,
    change: Option<&'a Change>,
}

impl<const MEMORY: usize> After<'_, MEMORY> {
    fn changing(&self) -> Option<&Change> {
        self.change.filter(|c| c.write)
    }
    fn seq(&self) -> u64 {
        match self.changing() {
            Some(_) => self.state.seq.wrapping_add(1),
            None => self.state.seq,
        }
    }
    fn counter(&self) -> u32 {
        self.changing()
            .map_or(self.state.counter, |c| c.counter.max(self.state.counter))
    }
    fn highest_seen(&self) -> UnixSeconds {
        match self.changing() {
            Some(c) => self.state.highest_seen.max(c.highest_seen),
            None => self.state.highest_seen,
        }
    }
    fn lockout(&self) -> Lockout {
        self.changing().map_or(self.state.lockout, |c| c.lockout)
    }
    fn budget(&self) -> Budget {
        self.changing().map_or(self.state.budget, |c| c.budget)
    }
    fn watermark(&self) -> Mark {
        let w = self.state.revocations.watermark;
        match self.changing().and_then(|c| c.revoke) {
            Some(Revocation::Before(m)) => w.join(m),
            _ => w,
        }
    }
    fn lineage(&self, position: usize, mark: Mark) -> Mark {
        match self.changing().and_then(|c| c.lineage) {
            Some((l, m)) if usize::from(l) == position + 1 => mark.join(m),
            _ => mark,
        }
    }
    fn slot_byte(&self, position: usize, byte: u8) -> u8 {
        match self.changing().and_then(|c| c.revoke) {
            Some(Revocation::Slot(s)) if (s / 8) as usize == position => byte | 1 << (s % 8),
            _ => byte,
        }
    }
    fn entry(&self, position: usize, entry: Option<Remembered>) -> Option<Remembered> {
        match self.changing().and_then(|c| c.remember) {
            Some((slot, e)) if slot == position => Some(e),
            _ => entry,
        }
    }
}

/// The hour count of an entry's end, as stored (`until` is always the start
/// of an hour after the epoch, see [`until_hour`]).
fn entry_hour(profile: &Profile, until: UnixSeconds) -> u32 {
    let hours = PER_HOUR.div_floor(crate::time::sub_secs(until, profile.epoch()));
    u32::try_from(hours.max(0)).unwrap_or(u32::MAX)
}

/// Writes the image of `view` for `lock`.
fn encode<const MEMORY: usize, const KEYS: usize>(
    lock: &Lock<MEMORY, KEYS>,
    view: &After<'_, MEMORY>,
    out: &mut [u8],
) -> Result<(), PersistError> {
    let expected = state_len(MEMORY, KEYS);
    if out.len() != expected {
        return Err(PersistError::WrongLength {
            expected,
            found: out.len(),
        });
    }
    let profile = lock.profile();
    let p = profile.params();
    let lo = p.lockout;
    {
        let (sealed, _) = out.split_at_mut(expected - TAG_LEN - CRC_LEN);
        let mut w = Writer { buf: sealed };
        // Each field as `(value, bytes)`: signed values as their two's
        // complement (the low bytes of the sign-extended value); MEMORY <=
        // u16::MAX and KEYS <= 255 (checked at compile time), |offset| <=
        // 840 minutes, grace < 3 600 s.
        w.put(&MAGIC);
        w.put(&[VERSION]);
        w.put(&profile.tweak());
        w.be(MEMORY as u64, 2);
        w.be(KEYS as u64, 1);
        for fp in &lock.fingerprints {
            w.put(fp);
        }
        w.be(i64::from(lock.zone.standard_minutes()) as u64, 2);
        w.be(u64::from(p.grace_secs), 2);
        w.be(u64::from(p.activation_hours), 4);
        w.be(u64::from(p.lock_memory), 2);
        w.be(u64::from(lo.failures), 1);
        w.be(u64::from(lo.base_secs), 4);
        w.be(u64::from(lo.cap_secs), 4);
        w.be(u64::from(lo.budget), 2);
        w.be(u64::from(lo.refill_secs), 4);
        w.be(u64::from(view.counter()), 4);
        w.be(view.seq(), 8);
        w.be(view.highest_seen() as u64, 8);
        let lockout = view.lockout();
        w.be(u64::from(lockout.strikes), 1);
        w.be(u64::from(lockout.batches), 4);
        w.be(lockout.until as u64, 8);
        let budget = view.budget();
        w.be(u64::from(budget.tokens), 2);
        w.be(budget.since as u64, 8);
        let mark = |w: &mut Writer<'_>, m: Mark| {
            w.be(u64::from(m.hour), 4);
            w.be(u64::from(m.day), 4);
        };
        mark(&mut w, view.watermark());
        for (i, m) in view.state.revocations.lineages.iter().enumerate() {
            mark(&mut w, view.lineage(i, *m));
        }
        for (i, byte) in view.state.revocations.slots.iter().enumerate() {
            w.be(u64::from(view.slot_byte(i, *byte)), 1);
        }
        for (i, slot) in view.state.memory.slots.iter().enumerate() {
            let (tag, key, index, hour) = match view.entry(i, *slot) {
                None => (0, 0, 0, 0),
                Some(e) => (e.kind.tag(), e.key, e.index, entry_hour(profile, e.until)),
            };
            w.be(u64::from(tag), 1);
            w.be(u64::from(key), 1);
            w.be(index, 8);
            w.be(u64::from(hour), 4);
        }
    }
    let (covered, crc) = out.split_at_mut(expected - CRC_LEN);
    let (sealed, tag) = covered.split_at_mut(expected - CRC_LEN - TAG_LEN);
    // KEYS >= 1: the first codec exists.
    if let Some(codec) = lock.codecs.first() {
        tag.copy_from_slice(&seal::tag(codec, sealed));
    }
    crc.copy_from_slice(&seal::crc32(covered).to_be_bytes());
    Ok(())
}

/// Checks a memory slot read from an image: the tag names a kind (or the
/// slot is all zeros), the key exists, the index names a grant of the
/// kind's sort, and (when given) the end is the grant's.
fn read_entry(
    profile: &Profile,
    keys: usize,
    (tag, key, index): (u8, u8, u64),
    hour: Option<u32>,
    zero: bool,
    offset: usize,
) -> Result<Option<Remembered>, PersistError> {
    let invalid = PersistError::InvalidField { offset };
    let Some(kind) = EntryKind::from_tag(tag) else {
        return if tag == 0 && zero {
            Ok(None)
        } else {
            Err(invalid)
        };
    };
    if kind == EntryKind::Service {
        // A service-code counter (version-2 images of profiles with
        // service codes only; `hour` is `None` for version 1, which had
        // none): key 0, the entry's end the counter's.
        let until = service_until_hour(profile, index).ok_or(invalid)?;
        if key != 0 || hour.is_none_or(|h| h != until) {
            return Err(invalid);
        }
        return Ok(Some(Remembered {
            key,
            index,
            kind,
            until: profile.hour_start(until),
        }));
    }
    let grant = profile.grant_at(index).ok_or(invalid)?;
    let grant_fits = matches!(
        (kind, grant),
        (EntryKind::Activated, Grant::Hourly(_) | Grant::Daily(_))
            | (EntryKind::Used, Grant::OneTime { .. })
    );
    let until = until_hour(profile, &grant).ok_or(invalid)?;
    if usize::from(key) >= keys || !grant_fits || hour.is_some_and(|h| h != until) {
        return Err(invalid);
    }
    Ok(Some(Remembered {
        key,
        index,
        kind,
        until: profile.hour_start(until),
    }))
}

/// Checks the revoked-slot bitmap byte `i` against the profile.
fn slot_byte_fits(profile: &Profile, i: usize, byte: u8) -> bool {
    let p = profile.params();
    let revocable = if p.revocation { p.ongoing_slots } else { 0 };
    let first = u32::try_from(i * 8).unwrap_or(u32::MAX);
    let valid_bits = revocable.saturating_sub(first).min(8);
    let mask = u8::try_from((1u16 << valid_bits) - 1).unwrap_or(u8::MAX);
    byte & !mask == 0
}

/// What an image is read against: the keys and profile of the lock
/// loading it. Its state is not needed, so the state can be
/// written while the image is read.
struct Against<'a, const KEYS: usize> {
    codecs: &'a [Codec; KEYS],
    fingerprints: &'a [[u8; FINGERPRINT_LEN]; KEYS],
    profile: &'a Profile,
    /// The lock's local time (version 1 stored instants, marked with it).
    #[cfg(feature = "lock-state-v1")]
    zone: &'a TzRule,
}

/// Reads and validates an image against a lock's keys and profile and
/// returns its sequence number. With `out`, it also writes the state the
/// image holds there, field by field as it reads them (in place: no second
/// state is ever on the stack). On error `out` holds a partly written
/// state, so a caller passes `out` only for an image that already passed
/// without it.
fn decode<const MEMORY: usize, const KEYS: usize>(
    lock: &Against<'_, KEYS>,
    image: &[u8],
    min_counter: u32,
    mut out: Option<&mut LockState<MEMORY>>,
) -> Result<u64, PersistError> {
    let expected = state_len(MEMORY, KEYS);
    let wrong_length = PersistError::WrongLength {
        expected,
        found: image.len(),
    };
    let (magic, rest) = image.split_first_chunk::<3>().ok_or(wrong_length)?;
    if *magic != MAGIC {
        return Err(PersistError::BadMagic);
    }
    let (version, _) = rest.split_first().ok_or(wrong_length)?;
    match *version {
        VERSION => {}
        // Only the migration reads them (`Lock::migrate_v1_into`).
        VERSION_1 => return Err(PersistError::Version1),
        found => return Err(PersistError::UnknownVersion { found }),
    }
    if image.len() != expected {
        // An image of another capacity or key count says so in its header.
        let header = |at: usize, n: usize| image.get(at..at + n);
        let memory = header(12, 2)
            .and_then(|b| b.first_chunk::<2>())
            .map(|b| usize::from(u16::from_be_bytes(*b)));
        let keys = header(14, 1)
            .and_then(|b| b.first())
            .map(|k| usize::from(*k));
        return Err(match (memory, keys) {
            (Some(m), Some(k)) if state_len(m, k) == image.len() && m != MEMORY => {
                PersistError::CapacityMismatch {
                    expected: MEMORY,
                    found: m,
                }
            }
            (Some(m), Some(k)) if state_len(m, k) == image.len() && k != KEYS => {
                PersistError::KeyCountMismatch {
                    expected: KEYS,
                    found: k,
                }
            }
            _ => wrong_length,
        });
    }
    let (crc_covered, crc) = image.split_at(expected - CRC_LEN);
    if seal::crc32(crc_covered).to_be_bytes() != crc {
        return Err(PersistError::Corrupted);
    }
    let (sealed, tag) = crc_covered.split_at(expected - CRC_LEN - TAG_LEN);

    let profile = *lock.profile;
    let mut r = Reader { buf: sealed, at: 0 };
    let _magic_and_version = r.bytes(4);
    if r.bytes(8) != lock.profile.tweak() {
        return Err(PersistError::ForeignProfile);
    }
    let found = usize::from(r.u16());
    if found != MEMORY {
        return Err(PersistError::CapacityMismatch {
            expected: MEMORY,
            found,
        });
    }
    let found = usize::from(r.u8());
    if found != KEYS {
        return Err(PersistError::KeyCountMismatch {
            expected: KEYS,
            found,
        });
    }
    // Image key i is this lock's key `position[i]` (with group keys, the
    // keys may be given in another order than they were saved in).
    #[cfg(feature = "group-keys")]
    let position = {
        let mut position = [0u8; KEYS];
        for (i, pos) in position.iter_mut().enumerate() {
            let fp = r.bytes(FINGERPRINT_LEN);
            let j = lock
                .fingerprints
                .iter()
                .position(|f| *f == fp)
                .ok_or(PersistError::ForeignLock { key: i })?;
            *pos = u8::try_from(j).map_err(|_| PersistError::ForeignLock { key: i })?;
        }
        position
    };
    #[cfg(feature = "group-keys")]
    let signer = position
        .first()
        .and_then(|j| lock.codecs.get(usize::from(*j)));
    // Without group keys a lock has one key (`Lock::new` refuses more):
    // the image names it, or it is another lock's. (Byte by byte: a slice
    // comparison costs the Cortex-M0 validator 60 bytes more.)
    #[cfg(not(feature = "group-keys"))]
    for (i, fp) in lock.fingerprints.iter().enumerate() {
        let found = r.bytes(FINGERPRINT_LEN);
        if !fp.iter().zip(found).all(|(a, b)| a == b) || found.len() != FINGERPRINT_LEN {
            return Err(PersistError::ForeignLock { key: i });
        }
    }
    #[cfg(not(feature = "group-keys"))]
    let signer = lock.codecs.first();
    let signer = signer.ok_or(PersistError::ForeignLock { key: 0 })?;
    if !seal::verify(signer, sealed, tag) {
        return Err(PersistError::Forged);
    }

    // The configuration it was saved with: authentic, checked for range,
    // otherwise informative (nothing in the state depends on it).
    let at = r.at;
    if UtcOffset::from_minutes(i32::from(r.i16())).is_err() {
        return Err(PersistError::InvalidField { offset: at });
    }
    let at = r.at;
    if r.u16() >= 3_600 {
        return Err(PersistError::InvalidField { offset: at });
    }
    let _activation_hours = r.u32();
    let _lock_memory = r.u16();
    let at = r.at;
    let saved = LockoutPolicy {
        failures: r.u8(),
        base_secs: r.u32(),
        cap_secs: r.u32(),
        budget: r.u16(),
        refill_secs: r.u32(),
    };
    if saved.failures == 0 || saved.budget == 0 || saved.refill_secs == 0 {
        return Err(PersistError::InvalidField { offset: at });
    }

    let counter = r.u32();
    if counter < min_counter {
        return Err(PersistError::RolledBack {
            image: counter,
            counter: min_counter,
        });
    }
    let seq = r.u64();
    let highest_seen = r.i64();
    let policy = profile.lockout();
    let at = r.at;
    let mut lockout = Lockout {
        strikes: r.u8(),
        batches: r.u32(),
        until: r.i64(),
    };
    if lockout.strikes >= saved.failures {
        return Err(PersistError::InvalidField { offset: at });
    }
    // A smaller batch now: the next failure completes it.
    lockout.strikes = lockout.strikes.min(policy.failures.saturating_sub(1));
    let at = r.at;
    let tokens = r.u16();
    if tokens > saved.budget {
        return Err(PersistError::InvalidField { offset: at });
    }
    let budget = Budget {
        // A smaller budget now caps what was banked.
        tokens: tokens.min(policy.budget),
        since: r.i64(),
    };
    let watermark = Mark {
        hour: r.u32(),
        day: r.u32(),
    };
    if let Some(state) = out.as_deref_mut() {
        state.counter = counter;
        state.seq = seq;
        state.highest_seen = highest_seen;
        state.lockout = lockout;
        state.budget = budget;
        state.revocations.watermark = watermark;
    }
    let lineages = usize::from(profile.params().lineages);
    for i in 0..usize::from(MAX_LINEAGES) {
        let offset = r.at;
        let mark = Mark {
            hour: r.u32(),
            day: r.u32(),
        };
        if i >= lineages && mark.is_set() {
            return Err(PersistError::InvalidField { offset });
        }
        if let Some(m) = out
            .as_deref_mut()
            .and_then(|s| s.revocations.lineages.get_mut(i))
        {
            *m = mark;
        }
    }
    for i in 0..SLOT_BYTES {
        let offset = r.at;
        let byte = r.u8();
        // Bits of slots the profile cannot revoke must be clear.
        if !slot_byte_fits(&profile, i, byte) {
            return Err(PersistError::InvalidField { offset });
        }
        if let Some(b) = out
            .as_deref_mut()
            .and_then(|s| s.revocations.slots.get_mut(i))
        {
            *b = byte;
        }
    }
    for i in 0..MEMORY {
        let offset = r.at;
        let (tag, key, index, hour) = (r.u8(), r.u8(), r.u64(), r.u32());
        let zero = key == 0 && index == 0 && hour == 0;
        #[cfg_attr(not(feature = "group-keys"), allow(unused_mut))]
        let mut entry = read_entry(&profile, KEYS, (tag, key, index), Some(hour), zero, offset)?;
        // The key's position in this lock (the order may have changed).
        #[cfg(feature = "group-keys")]
        if let Some(e) = entry.as_mut() {
            e.key = position
                .get(usize::from(e.key))
                .copied()
                .ok_or(PersistError::InvalidField { offset })?;
        }
        if let Some(slot) = out.as_deref_mut().and_then(|s| s.memory.slots.get_mut(i)) {
            *slot = entry;
        }
    }
    Ok(seq)
}

/// Version 1: the images of offpin 0.1, read to migrate them.
#[cfg(feature = "lock-state-v1")]
mod v1 {
    use sha2::{Digest, Sha256};

    use super::super::LockState;
    use super::super::lockout::{Budget, Lockout};
    use super::super::revocation::{MAX_LINEAGES, Mark, SLOT_BYTES};
    use super::{Against, PersistError, Reader, read_entry, slot_byte_fits};

    /// Bytes before the memory slots.
    const FIXED_LEN: usize = 15 + 8 + 8 + 1 + 4 + 8 + 8 + 8 * MAX_LINEAGES as usize + SLOT_BYTES;
    /// Bytes of one memory slot.
    const ENTRY_LEN: usize = 18;
    /// Bytes of the checksum.
    const CHECKSUM_LEN: usize = 8;
    /// "None" of the instants version 1 stored.
    const NONE: i64 = i64::MIN;

    /// Size of a version-1 image of `memory` slots.
    pub(super) const fn state_len(memory: usize) -> usize {
        FIXED_LEN + ENTRY_LEN * memory + CHECKSUM_LEN
    }

    /// Reads a version-1 image (checked as offpin 0.1 checked it) as the
    /// version-2 state, into `out` if given (as [`super::decode`]): the
    /// same memory, revocations and back-off, a budget with the failures
    /// since the last opening spent, counter 0. Returns its sequence
    /// number.
    pub(super) fn decode<const MEMORY: usize, const KEYS: usize>(
        lock: &Against<'_, KEYS>,
        image: &[u8],
        // The migration refuses a moved counter before it reads one.
        _min_counter: u32,
        mut out: Option<&mut LockState<MEMORY>>,
    ) -> Result<u64, PersistError> {
        let expected = state_len(MEMORY);
        if image.len() != expected {
            let found = image
                .get(12..14)
                .and_then(|b| b.first_chunk::<2>())
                .map(|b| usize::from(u16::from_be_bytes(*b)));
            return Err(match found {
                Some(found) if found != MEMORY && state_len(found) == image.len() => {
                    PersistError::CapacityMismatch {
                        expected: MEMORY,
                        found,
                    }
                }
                _ => PersistError::WrongLength {
                    expected: super::state_len(MEMORY, KEYS),
                    found: image.len(),
                },
            });
        }
        let (body, sum) = image.split_at(expected - CHECKSUM_LEN);
        if Sha256::digest(body).get(..CHECKSUM_LEN) != Some(sum) {
            return Err(PersistError::Checksum);
        }
        let profile = *lock.profile;
        let mut r = Reader { buf: body, at: 0 };
        let _magic_and_version = r.bytes(4);
        if r.bytes(8) != lock.profile.tweak() {
            return Err(PersistError::ForeignProfile);
        }
        let found = usize::from(r.u16());
        if found != MEMORY {
            return Err(PersistError::CapacityMismatch {
                expected: MEMORY,
                found,
            });
        }
        let found = usize::from(r.u8());
        if found != KEYS {
            return Err(PersistError::KeyCountMismatch {
                expected: KEYS,
                found,
            });
        }
        let seq = r.u64();
        let highest_seen = r.i64();
        let policy = profile.lockout();
        let mut lockout = Lockout {
            strikes: r.u8(),
            batches: r.u32(),
            until: r.i64(),
        };
        let failures = lockout.failures(&policy);
        // Version 1 did not check it; a batch is at most `failures` long.
        lockout.strikes = lockout.strikes.min(policy.failures.saturating_sub(1));
        let spent = u16::try_from(failures).unwrap_or(u16::MAX);
        let budget = Budget {
            tokens: policy.budget.saturating_sub(spent),
            since: highest_seen,
        };
        let zone = lock.zone;
        let mark = |at: i64| {
            if at == NONE {
                Mark::NONE
            } else {
                Mark::before_instant(&profile, at, zone)
            }
        };
        let watermark = mark(r.i64());
        if let Some(state) = out.as_deref_mut() {
            state.counter = 0;
            state.seq = seq;
            state.highest_seen = highest_seen;
            state.lockout = lockout;
            state.budget = budget;
            state.revocations.watermark = watermark;
        }
        let lineages = usize::from(profile.params().lineages);
        for i in 0..usize::from(MAX_LINEAGES) {
            let at = r.at;
            let raw = r.i64();
            if i >= lineages && raw != NONE {
                return Err(PersistError::InvalidField { offset: at });
            }
            if let Some(m) = out
                .as_deref_mut()
                .and_then(|s| s.revocations.lineages.get_mut(i))
            {
                *m = mark(raw);
            }
        }
        for i in 0..SLOT_BYTES {
            let offset = r.at;
            let byte = r.u8();
            if !slot_byte_fits(&profile, i, byte) {
                return Err(PersistError::InvalidField { offset });
            }
            if let Some(b) = out
                .as_deref_mut()
                .and_then(|s| s.revocations.slots.get_mut(i))
            {
                *b = byte;
            }
        }
        for i in 0..MEMORY {
            let offset = r.at;
            let (tag, key, index, until) = (r.u8(), r.u8(), r.u64(), r.i64());
            let zero = key == 0 && index == 0 && until == 0;
            // The entry's end is recomputed: at least as late as the one
            // version 1 stored (window end plus a grace below an hour).
            let entry = read_entry(&profile, KEYS, (tag, key, index), None, zero, offset)?;
            if let Some(slot) = out.as_deref_mut().and_then(|s| s.memory.slots.get_mut(i)) {
                *slot = entry;
            }
        }
        Ok(seq)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::DeviceKey;
    use crate::profile::shipped::STANDARD_10;

    type L = Lock<4>;

    fn codec() -> crate::Codec {
        crate::Codec::new(&DeviceKey::from_bytes([1; 16]), STANDARD_10).unwrap()
    }

    fn fresh_image() -> [u8; L::STATE_LEN] {
        let lock = L::new(codec(), UtcOffset::UTC).unwrap();
        let mut image = [0u8; L::STATE_LEN];
        lock.save(&mut image).unwrap();
        image
    }

    /// Recomputes the tag and the CRC with the lock's key, as a faulty
    /// implementation holding the key would have written them.
    fn reseal(image: &mut [u8]) {
        reseal_with(&codec(), image);
    }

    fn reseal_with(codec: &crate::Codec, image: &mut [u8]) {
        let n = image.len();
        let tag = seal::tag(codec, &image[..n - TAG_LEN - CRC_LEN]);
        image[n - TAG_LEN - CRC_LEN..n - CRC_LEN].copy_from_slice(&tag);
        let crc = seal::crc32(&image[..n - CRC_LEN]);
        image[n - CRC_LEN..].copy_from_slice(&crc.to_be_bytes());
    }

    fn load(image: &[u8]) -> Result<L, PersistError> {
        L::load(codec(), UtcOffset::UTC, image)
    }

    /// Where the memory slots start in a one-key image.
    const ENTRIES: usize = HEADER_LEN + FINGERPRINT_LEN + CONFIG_LEN + STATE_FIXED_LEN;

    #[test]
    fn lock_image_fields_out_of_range_are_refused_when_authentic() {
        let entry = ENTRIES;
        let one_time_index = STANDARD_10.kind_base(crate::Kind::OneTime);
        let one_time_until =
            until_hour(&STANDARD_10, &STANDARD_10.grant_at(one_time_index).unwrap()).unwrap();
        let hourly_index = 5u64;
        let hourly_until =
            until_hour(&STANDARD_10, &STANDARD_10.grant_at(hourly_index).unwrap()).unwrap();
        let with = |tag: u8, key: u8, index: u64, hour: u32| {
            let mut e = [0u8; ENTRY_LEN];
            e[0] = tag;
            e[1] = key;
            e[2..10].copy_from_slice(&index.to_be_bytes());
            e[10..14].copy_from_slice(&hour.to_be_bytes());
            e
        };
        // Unknown tag; key beyond KEYS; a used entry naming an hourly
        // grant; an activated entry naming a one-time grant; a free slot
        // with bytes in it; an entry ending earlier than its grant's end.
        let cases = [
            with(3, 0, one_time_index, one_time_until),
            with(2, 1, one_time_index, one_time_until),
            with(2, 0, hourly_index, hourly_until),
            with(1, 0, one_time_index, one_time_until),
            with(0, 0, 0, 1),
            with(2, 0, one_time_index, one_time_until - 1),
        ];
        for (i, bytes) in cases.iter().enumerate() {
            let mut image = fresh_image();
            image[entry..entry + ENTRY_LEN].copy_from_slice(bytes);
            reseal(&mut image);
            assert_eq!(
                load(&image).unwrap_err(),
                PersistError::InvalidField { offset: entry },
                "case {i}"
            );
        }
        // Valid entries load.
        let mut image = fresh_image();
        image[entry..entry + ENTRY_LEN].copy_from_slice(&with(
            2,
            0,
            one_time_index,
            one_time_until,
        ));
        image[entry + ENTRY_LEN..entry + 2 * ENTRY_LEN].copy_from_slice(&with(
            1,
            0,
            hourly_index,
            hourly_until,
        ));
        reseal(&mut image);
        assert_eq!(load(&image).unwrap().remembered().count(), 2);

        // A revoked slot the profile does not have (slot 100 of 100).
        let slots = ENTRIES - SLOT_BYTES;
        let mut image = fresh_image();
        image[slots + 12] = 0x10;
        reseal(&mut image);
        assert_eq!(
            load(&image).unwrap_err(),
            PersistError::InvalidField { offset: slots + 12 }
        );
        image[slots + 12] = 0x08; // slot 99: fine
        reseal(&mut image);
        assert!(load(&image).unwrap().is_slot_revoked(99));

        // A lineage mark on a profile without lineages.
        let marks = slots - 8 * usize::from(MAX_LINEAGES);
        let mut image = fresh_image();
        image[marks..marks + 4].copy_from_slice(&7u32.to_be_bytes());
        reseal(&mut image);
        assert_eq!(
            load(&image).unwrap_err(),
            PersistError::InvalidField { offset: marks }
        );
    }

    /// Service-code entries (tag 3): key 0 and the counter's end, on a
    /// profile with service codes only.
    #[cfg(feature = "service-codes")]
    #[test]
    fn lock_image_service_entries_are_checked() {
        use crate::profile::shipped::STANDARD_10_V2 as V2;
        let v2 = || crate::Codec::new(&DeviceKey::from_bytes([1; 16]), V2).unwrap();
        let image_of = |codec: crate::Codec, entry: [u8; ENTRY_LEN]| {
            let lock = L::new(codec, UtcOffset::UTC).unwrap();
            let mut image = [0u8; L::STATE_LEN];
            lock.save(&mut image).unwrap();
            image[ENTRIES..ENTRIES + ENTRY_LEN].copy_from_slice(&entry);
            image
        };
        let counter = 60_000_000u64;
        let hour = service_until_hour(&V2, counter).unwrap();
        let with = |key: u8, hour: u32| {
            let mut e = [0u8; ENTRY_LEN];
            e[0] = 3;
            e[1] = key;
            e[2..10].copy_from_slice(&counter.to_be_bytes());
            e[10..14].copy_from_slice(&hour.to_be_bytes());
            e
        };
        let mut good = image_of(v2(), with(0, hour));
        reseal_with(&v2(), &mut good);
        let lock = L::load(v2(), UtcOffset::UTC, &good).unwrap();
        let e = lock.remembered().next().unwrap();
        assert_eq!((e.kind, e.index), (EntryKind::Service, counter));
        for entry in [with(1, hour), with(0, hour + 1), with(0, hour - 1)] {
            let mut bad = image_of(v2(), entry);
            reseal_with(&v2(), &mut bad);
            assert_eq!(
                L::load(v2(), UtcOffset::UTC, &bad).unwrap_err(),
                PersistError::InvalidField { offset: ENTRIES }
            );
        }
        // A profile without service codes has no such entries.
        let mut v1 = image_of(codec(), with(0, hour));
        reseal(&mut v1);
        assert_eq!(
            load(&v1).unwrap_err(),
            PersistError::InvalidField { offset: ENTRIES }
        );
    }

    #[test]
    fn lock_image_layout_adds_up() {
        assert_eq!(
            HEADER_LEN + CONFIG_LEN + STATE_FIXED_LEN + TAG_LEN + CRC_LEN,
            367
        );
        assert_eq!(state_len(0, 1), 375);
        assert_eq!(state_len(32, 1), 823);
        assert_eq!(state_len(64, 1), 1_271);
        assert_eq!(state_len(128, 1), 2_167);
        assert_eq!(state_len(32, 2), 831);
        #[cfg(feature = "lock-state-v1")]
        assert_eq!(v1::state_len(32), 892);
    }
}
