//! The saved image of a lock's state: fixed size, versioned, checksummed.
//!
//! # Layout (version 1)
//!
//! All integers big-endian; `MEMORY` is the lock's capacity, the image is
//! [`state_len(MEMORY)`](state_len) = `316 + 18 × MEMORY` bytes
//! ([`Lock::STATE_LEN`]).
//!
//! | offset | bytes | field |
//! |---:|---:|---|
//! | 0 | 3 | magic `"OPL"` |
//! | 3 | 1 | version, `1` |
//! | 4 | 8 | the profile's [`tweak`](crate::Profile::tweak) |
//! | 12 | 2 | `MEMORY` |
//! | 14 | 1 | `KEYS` |
//! | 15 | 8 | sequence number |
//! | 23 | 8 | highest time seen (Unix seconds, `i64`) |
//! | 31 | 1 | lock-out: failures in the current batch |
//! | 32 | 4 | lock-out: completed batches |
//! | 36 | 8 | lock-out: locked until (`i64`; `i64::MIN`: never) |
//! | 44 | 8 | revocation watermark (`i64`; `i64::MIN`: none) |
//! | 52 | 8 × 16 | supersede mark of lineages 1..=16 (`i64`; `i64::MIN`: none) |
//! | 180 | 128 | revoked ongoing slots, bit `s % 8` of byte `s / 8` |
//! | 308 | 18 × `MEMORY` | memory slots (below) |
//! | end − 8 | 8 | checksum: the first 8 bytes of SHA-256 of everything before |
//!
//! A memory slot is a tag (`0` free, `1` activated, `2` used), the key's
//! position (`u8`), the grant index (`u64`) and the entry's expiry
//! (`i64`); a free slot is all zeros.
//!
//! Keys are **not** in the image: firmware keeps them in its key store
//! and hands them to [`Lock::load`]. The UTC offset is configuration too.
//!
//! # What loading checks
//!
//! In this order, each failure with its own [`PersistError`]: the magic
//! and version; the length (an image of another capacity is reported as
//! such); the checksum; that the image belongs to this profile (tweak),
//! capacity and number of keys; and every field (tags, key positions,
//! indices of the right kind, zero padding, revoked slots and lineage
//! marks within the profile's ranges). The checksum detects every error
//! burst of up to 64 bits and any other accidental corruption (a torn
//! write, a bad flash cell) with probability `1 − 2^−64`; it is not a MAC,
//! so it does not stop someone who can write the flash on purpose (store
//! the image where the lock's key store is, or MAC it in firmware). No
//! input makes loading panic, and an image that fails a check is never
//! used: firmware then has no state and must not open for time-dependent
//! codes (do not fall back to a fresh state silently).

use core::fmt;

use sha2::{Digest, Sha256};

use super::lockout::Lockout;
use super::memory::{EntryKind, Remembered};
use super::revocation::{MAX_LINEAGES, NONE, SLOT_BYTES};
use super::{Change, IntoCodecs, Lock, LockError, LockState, Revocation};
use crate::grant::Grant;
use crate::profile::Profile;
use crate::time::{UnixSeconds, UtcOffset};

/// First bytes of every image.
pub const MAGIC: [u8; 3] = *b"OPL";
/// The image format version this crate writes and reads.
pub const VERSION: u8 = 1;

/// Bytes of the header (magic, version, tweak, capacity, keys).
const HEADER_LEN: usize = 15;
/// Bytes of the fixed part before the memory slots.
const FIXED_LEN: usize =
    HEADER_LEN + 8 + 8 + 1 + 4 + 8 + 8 + 8 * MAX_LINEAGES as usize + SLOT_BYTES;
/// Bytes of one memory slot.
pub const ENTRY_LEN: usize = 18;
/// Bytes of the checksum.
const CHECKSUM_LEN: usize = 8;

/// Size in bytes of the image of a lock with `memory` slots.
pub const fn state_len(memory: usize) -> usize {
    FIXED_LEN + ENTRY_LEN * memory + CHECKSUM_LEN
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
    /// The checksum does not match: the image is corrupted.
    Checksum,
    /// The image belongs to another profile (its tweak differs).
    ForeignProfile,
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
    /// A field is out of range although the checksum matches (an image
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
            PersistError::Checksum => f.write_str("the lock state image is corrupted (checksum)"),
            PersistError::ForeignProfile => {
                f.write_str("the lock state image belongs to another profile")
            }
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
            PersistError::Config(e) => fmt::Display::fmt(e, f),
        }
    }
}

impl core::error::Error for PersistError {}

impl From<LockError> for PersistError {
    fn from(e: LockError) -> Self {
        PersistError::Config(e)
    }
}

/// A write cursor over a buffer of exactly the right size.
struct Writer<'a> {
    buf: &'a mut [u8],
}

impl Writer<'_> {
    fn put(&mut self, bytes: &[u8]) {
        let buf = core::mem::take(&mut self.buf);
        let n = bytes.len().min(buf.len());
        let (head, tail) = buf.split_at_mut(n);
        head.copy_from_slice(bytes.get(..n).unwrap_or_default());
        self.buf = tail;
    }
}

/// A read cursor that knows its offset in the image.
struct Reader<'a> {
    buf: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take<const N: usize>(&mut self) -> Result<[u8; N], PersistError> {
        let offset = self.at;
        let (head, tail) = self
            .buf
            .split_first_chunk::<N>()
            .ok_or(PersistError::InvalidField { offset })?;
        self.buf = tail;
        self.at += N;
        Ok(*head)
    }
    fn u8(&mut self) -> Result<u8, PersistError> {
        Ok(u8::from_be_bytes(self.take()?))
    }
    fn u32(&mut self) -> Result<u32, PersistError> {
        Ok(u32::from_be_bytes(self.take()?))
    }
    fn u64(&mut self) -> Result<u64, PersistError> {
        Ok(u64::from_be_bytes(self.take()?))
    }
    fn i64(&mut self) -> Result<i64, PersistError> {
        Ok(i64::from_be_bytes(self.take()?))
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
        self.change.filter(|c| !c.empty)
    }
    fn seq(&self) -> u64 {
        match self.changing() {
            Some(_) => self.state.seq.wrapping_add(1),
            None => self.state.seq,
        }
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
    fn watermark(&self) -> UnixSeconds {
        let w = self.state.revocations.watermark;
        match self.changing().and_then(|c| c.revoke) {
            Some(Revocation::Before(at)) => w.max(at),
            _ => w,
        }
    }
    fn lineage(&self, position: usize, mark: UnixSeconds) -> UnixSeconds {
        match self.changing().and_then(|c| c.lineage) {
            Some((l, start)) if usize::from(l) == position + 1 => mark.max(start),
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

fn checksum(bytes: &[u8]) -> [u8; CHECKSUM_LEN] {
    let digest = Sha256::digest(bytes);
    let mut out = [0u8; CHECKSUM_LEN];
    for (d, s) in out.iter_mut().zip(digest.iter()) {
        *d = *s;
    }
    out
}

/// Writes the image of `view` for a lock of `profile` with `keys` keys.
fn encode<const MEMORY: usize>(
    profile: &Profile,
    keys: u8,
    view: &After<'_, MEMORY>,
    out: &mut [u8],
) -> Result<(), PersistError> {
    let expected = state_len(MEMORY);
    if out.len() != expected {
        return Err(PersistError::WrongLength {
            expected,
            found: out.len(),
        });
    }
    let memory = u16::try_from(MEMORY).map_err(|_| LockError::MemoryExceedsProfile {
        memory: MEMORY,
        profile: profile.lock_memory(),
    })?;
    let (body, sum) = out.split_at_mut(expected - CHECKSUM_LEN);
    let mut w = Writer { buf: body };
    w.put(&MAGIC);
    w.put(&[VERSION]);
    w.put(&profile.tweak());
    w.put(&memory.to_be_bytes());
    w.put(&[keys]);
    w.put(&view.seq().to_be_bytes());
    w.put(&view.highest_seen().to_be_bytes());
    let lockout = view.lockout();
    w.put(&[lockout.strikes]);
    w.put(&lockout.batches.to_be_bytes());
    w.put(&lockout.until.to_be_bytes());
    w.put(&view.watermark().to_be_bytes());
    for (i, mark) in view.state.revocations.lineages.iter().enumerate() {
        w.put(&view.lineage(i, *mark).to_be_bytes());
    }
    for (i, byte) in view.state.revocations.slots.iter().enumerate() {
        w.put(&[view.slot_byte(i, *byte)]);
    }
    for (i, slot) in view.state.memory.slots.iter().enumerate() {
        match view.entry(i, *slot) {
            None => w.put(&[0u8; ENTRY_LEN]),
            Some(e) => {
                w.put(&[e.kind.tag(), e.key]);
                w.put(&e.index.to_be_bytes());
                w.put(&e.until.to_be_bytes());
            }
        }
    }
    sum.copy_from_slice(&checksum(body));
    Ok(())
}

/// Reads and validates an image for a lock of `profile` with `keys` keys
/// into `state` (in place, so a large state is never copied on the stack).
/// On error `state` holds garbage: the caller resets or discards it.
fn decode_into<const MEMORY: usize>(
    state: &mut LockState<MEMORY>,
    profile: &Profile,
    keys: usize,
    image: &[u8],
) -> Result<(), PersistError> {
    let expected = state_len(MEMORY);
    let wrong_length = PersistError::WrongLength {
        expected,
        found: image.len(),
    };
    let (magic, rest) = image.split_first_chunk::<3>().ok_or(wrong_length)?;
    if *magic != MAGIC {
        return Err(PersistError::BadMagic);
    }
    let (version, _) = rest.split_first().ok_or(wrong_length)?;
    if *version != VERSION {
        return Err(PersistError::UnknownVersion { found: *version });
    }
    if image.len() != expected {
        // An image of another capacity says so in its header.
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
            _ => wrong_length,
        });
    }
    let (body, sum) = image.split_at(expected - CHECKSUM_LEN);
    if checksum(body) != sum {
        return Err(PersistError::Checksum);
    }

    let mut r = Reader { buf: body, at: 0 };
    let _magic_and_version: [u8; 4] = r.take()?;
    if r.take::<8>()? != profile.tweak() {
        return Err(PersistError::ForeignProfile);
    }
    let found = usize::from(u16::from_be_bytes(r.take()?));
    if found != MEMORY {
        return Err(PersistError::CapacityMismatch {
            expected: MEMORY,
            found,
        });
    }
    let found = usize::from(r.u8()?);
    if found != keys {
        return Err(PersistError::KeyCountMismatch {
            expected: keys,
            found,
        });
    }
    state.seq = r.u64()?;
    state.highest_seen = r.i64()?;
    state.lockout = Lockout {
        strikes: r.u8()?,
        batches: r.u32()?,
        until: r.i64()?,
    };
    state.revocations.watermark = r.i64()?;
    let lineages = usize::from(profile.params().lineages);
    for (i, mark) in state.revocations.lineages.iter_mut().enumerate() {
        let offset = r.at;
        *mark = r.i64()?;
        if i >= lineages && *mark != NONE {
            return Err(PersistError::InvalidField { offset });
        }
    }
    let p = profile.params();
    let revocable = if p.revocation { p.ongoing_slots } else { 0 };
    for (i, byte) in state.revocations.slots.iter_mut().enumerate() {
        let offset = r.at;
        *byte = r.u8()?;
        // Bits of slots the profile cannot revoke must be clear.
        let first = u32::try_from(i * 8).unwrap_or(u32::MAX);
        let valid_bits = revocable.saturating_sub(first).min(8);
        let mask = u8::try_from((1u16 << valid_bits) - 1).unwrap_or(u8::MAX);
        if *byte & !mask != 0 {
            return Err(PersistError::InvalidField { offset });
        }
    }
    for slot in state.memory.slots.iter_mut() {
        let offset = r.at;
        let invalid = PersistError::InvalidField { offset };
        let tag = r.u8()?;
        let key = r.u8()?;
        let index = r.u64()?;
        let until = r.i64()?;
        *slot = match EntryKind::from_tag(tag) {
            None if tag == 0 && key == 0 && index == 0 && until == 0 => None,
            None => return Err(invalid),
            Some(kind) => {
                let grant_fits = matches!(
                    (kind, profile.grant_at(index)),
                    (
                        EntryKind::Activated,
                        Some(Grant::Hourly(_) | Grant::Daily(_))
                    ) | (EntryKind::Used, Some(Grant::OneTime { .. }))
                );
                if usize::from(key) >= keys || !grant_fits {
                    return Err(invalid);
                }
                Some(Remembered {
                    key,
                    index,
                    kind,
                    until,
                })
            }
        };
    }
    Ok(())
}

impl<const MEMORY: usize, const KEYS: usize> Lock<MEMORY, KEYS> {
    #[allow(
        clippy::cast_possible_truncation,
        reason = "KEYS <= 255, checked by new"
    )]
    const KEYS_BYTE: u8 = KEYS as u8;

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
        encode(&self.profile, Self::KEYS_BYTE, &view, out)
    }

    /// Writes the image of the state *after* `change` into `out` (which
    /// must be [`Lock::STATE_LEN`] bytes) without applying it and without
    /// copying the state: persist this, then [`commit`](Lock::commit).
    /// After the commit, [`save`](Lock::save) writes the same bytes.
    ///
    /// # Errors
    ///
    /// [`PersistError::WrongLength`] when `out` has another length, and
    /// [`PersistError::StaleChange`] when the change was computed for
    /// another state (nothing is written then).
    pub fn save_after(&self, change: &Change, out: &mut [u8]) -> Result<(), PersistError> {
        if !change.empty && change.seq != self.state.seq {
            return Err(PersistError::StaleChange);
        }
        let view = After {
            state: &self.state,
            change: Some(change),
        };
        encode(&self.profile, Self::KEYS_BYTE, &view, out)
    }

    /// Rebuilds a lock from its key(s), its UTC offset and a saved image.
    ///
    /// # Errors
    ///
    /// [`PersistError::Config`] when the keys do not make a lock (see
    /// [`Lock::new`]), and every other [`PersistError`] for an image that
    /// is truncated, corrupted, of another version, profile, capacity or
    /// key count, or has a field out of range.
    pub fn load(
        codecs: impl IntoCodecs<KEYS>,
        offset: UtcOffset,
        image: &[u8],
    ) -> Result<Self, PersistError> {
        let mut lock = Self::new(codecs, offset)?;
        decode_into(&mut lock.state, &lock.profile, KEYS, image)?;
        Ok(lock)
    }

    /// Rebuilds a lock from the newest valid image among `images` (the
    /// two slots firmware writes alternately): the one with the highest
    /// sequence number, the first one on a tie. Invalid images are skipped,
    /// so a write torn by a power cut falls back to the previous state.
    ///
    /// # Errors
    ///
    /// [`PersistError::Config`] when the keys do not make a lock; when no
    /// image is valid, the error of the first one
    /// ([`PersistError::WrongLength`] if `images` is empty).
    pub fn load_newest(
        codecs: impl IntoCodecs<KEYS>,
        offset: UtcOffset,
        images: &[&[u8]],
    ) -> Result<Self, PersistError> {
        let mut lock = Self::new(codecs, offset)?;
        // First pass: which image is valid and newest (decoded in place,
        // one after the other, so no second state lives on the stack).
        let mut best: Option<(&[u8], u64)> = None;
        let mut first_error = None;
        for image in images {
            match decode_into(&mut lock.state, &lock.profile, KEYS, image) {
                Ok(()) => {
                    let seq = lock.state.seq;
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
        decode_into(&mut lock.state, &lock.profile, KEYS, image)?;
        Ok(lock)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::DeviceKey;
    use crate::profile::shipped::STANDARD_10;

    type L = Lock<4>;

    fn fresh_image() -> [u8; L::STATE_LEN] {
        let codec = crate::Codec::new(&DeviceKey::from_bytes([1; 16]), STANDARD_10).unwrap();
        let lock = L::new(codec, UtcOffset::UTC).unwrap();
        let mut image = [0u8; L::STATE_LEN];
        lock.save(&mut image).unwrap();
        image
    }

    /// Recomputes the checksum, as a faulty writer would have.
    fn reseal(image: &mut [u8]) {
        let n = image.len() - CHECKSUM_LEN;
        let sum = checksum(&image[..n]);
        image[n..].copy_from_slice(&sum);
    }

    fn load(image: &[u8]) -> Result<L, PersistError> {
        let codec = crate::Codec::new(&DeviceKey::from_bytes([1; 16]), STANDARD_10).unwrap();
        L::load(codec, UtcOffset::UTC, image)
    }

    #[test]
    fn lock_image_fields_out_of_range_are_refused_after_a_valid_checksum() {
        let entry = FIXED_LEN;
        let one_time_index = STANDARD_10.kind_base(crate::Kind::OneTime);
        let hourly_index = 5u64;
        let mut cases: [(usize, [u8; ENTRY_LEN]); 5] = [(entry, [0; ENTRY_LEN]); 5];
        // Unknown tag; key beyond KEYS; a used entry naming an hourly
        // grant; an activated entry naming a one-time grant; a free slot
        // with bytes in it.
        let with = |tag: u8, key: u8, index: u64| {
            let mut e = [0u8; ENTRY_LEN];
            e[0] = tag;
            e[1] = key;
            e[2..10].copy_from_slice(&index.to_be_bytes());
            e[10..18].copy_from_slice(&1_000i64.to_be_bytes());
            e
        };
        cases[0].1 = with(3, 0, one_time_index);
        cases[1].1 = with(2, 1, one_time_index);
        cases[2].1 = with(2, 0, hourly_index);
        cases[3].1 = with(1, 0, one_time_index);
        cases[4].1 = with(0, 0, 0);
        for (i, (at, bytes)) in cases.iter().enumerate() {
            let mut image = fresh_image();
            image[*at..*at + ENTRY_LEN].copy_from_slice(bytes);
            reseal(&mut image);
            assert_eq!(
                load(&image).unwrap_err(),
                PersistError::InvalidField { offset: *at },
                "case {i}"
            );
        }
        // Valid entries load.
        let mut image = fresh_image();
        image[entry..entry + ENTRY_LEN].copy_from_slice(&with(2, 0, one_time_index));
        image[entry + ENTRY_LEN..entry + 2 * ENTRY_LEN].copy_from_slice(&with(1, 0, hourly_index));
        reseal(&mut image);
        assert_eq!(load(&image).unwrap().remembered().count(), 2);

        // A revoked slot the profile does not have (slot 100 of 100).
        let slots = FIXED_LEN - SLOT_BYTES;
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
        image[marks..marks + 8].copy_from_slice(&0i64.to_be_bytes());
        reseal(&mut image);
        assert_eq!(
            load(&image).unwrap_err(),
            PersistError::InvalidField { offset: marks }
        );
    }

    #[test]
    fn lock_image_layout_adds_up() {
        assert_eq!(FIXED_LEN, 308);
        assert_eq!(state_len(0), 316);
        assert_eq!(state_len(32), 892);
        assert_eq!(state_len(64), 1_468);
        assert_eq!(state_len(128), 2_620);
    }
}
