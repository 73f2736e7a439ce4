//! Reading an image: every check of the [module docs](super), in their
//! order, and the state it holds written in place as it is read.
//!
//! Each step of [`decode`] is a function of its own, inlined into it
//! (`#[inline(always)]`): out of line they cost the Cortex-M0 validator
//! 140 bytes (firmware/run.sh).

use super::super::LockState;
use super::super::lockout::{Budget, Lockout};
use super::super::memory::{EntryKind, Remembered, service_until_hour, until_hour};
use super::super::revocation::{MAX_LINEAGES, Mark, SLOT_BYTES};
use super::super::seal::{self, CRC_LEN, FINGERPRINT_LEN, TAG_LEN};
use super::{MAGIC, PersistError, VERSION, VERSION_1, state_len};
use crate::codec::Codec;
use crate::grant::Grant;
use crate::profile::{LockoutPolicy, Profile};
use crate::time::UtcOffset;
#[cfg(feature = "lock-state-v1")]
use crate::tz::TzRule;

/// A read cursor that knows its offset in the image. The image's length is
/// checked before anything is read, so a read past the end cannot happen;
/// it would read zeros, so no read needs an error path.
pub(super) struct Reader<'a> {
    pub(super) buf: &'a [u8],
    pub(super) at: usize,
}

#[allow(
    clippy::cast_possible_truncation,
    reason = "each read is as wide as the type it is cast to"
)]
impl Reader<'_> {
    /// The next `n` (at most 8) bytes as a big-endian number. One routine
    /// for every field, so that the image code stays small.
    #[inline(never)]
    pub(super) fn be(&mut self, n: usize) -> u64 {
        let (head, tail) = self.buf.split_at(n.min(self.buf.len()));
        self.buf = tail;
        self.at += n;
        head.iter().fold(0, |v, b| v << 8 | u64::from(*b))
    }
    /// The next `n` bytes as they are (fewer at the end of the image).
    pub(super) fn bytes(&mut self, n: usize) -> &[u8] {
        let (head, tail) = self.buf.split_at(n.min(self.buf.len()));
        self.buf = tail;
        self.at += n;
        head
    }
    pub(super) fn u8(&mut self) -> u8 {
        self.be(1) as u8
    }
    pub(super) fn u16(&mut self) -> u16 {
        self.be(2) as u16
    }
    pub(super) fn i16(&mut self) -> i16 {
        self.be(2) as u16 as i16
    }
    pub(super) fn u32(&mut self) -> u32 {
        self.be(4) as u32
    }
    pub(super) fn u64(&mut self) -> u64 {
        self.be(8)
    }
    pub(super) fn i64(&mut self) -> i64 {
        self.be(8) as i64
    }
}

/// What an image is read against: the keys and profile of the lock
/// loading it. Its state is not needed, so the state can be
/// written while the image is read.
pub(super) struct Against<'a, const KEYS: usize> {
    pub(super) codecs: &'a [Codec; KEYS],
    pub(super) fingerprints: &'a [[u8; FINGERPRINT_LEN]; KEYS],
    pub(super) profile: &'a Profile,
    /// The lock's local time (version 1 stored instants, marked with it).
    #[cfg(feature = "lock-state-v1")]
    pub(super) zone: &'a TzRule,
}

/// Reads and validates an image against a lock's keys and profile and
/// returns its sequence number. With `out`, it also writes the state the
/// image holds there, field by field as it reads them (in place: no second
/// state is ever on the stack). On error `out` holds a partly written
/// state, so a caller passes `out` only for an image that already passed
/// without it.
pub(super) fn decode<const MEMORY: usize, const KEYS: usize>(
    lock: &Against<'_, KEYS>,
    image: &[u8],
    min_counter: u32,
    mut out: Option<&mut LockState<MEMORY>>,
) -> Result<u64, PersistError> {
    let (sealed, tag) = open::<MEMORY, KEYS>(image)?;
    let mut r = Reader { buf: sealed, at: 0 };
    read_header::<MEMORY, KEYS>(&mut r, lock.profile)?;
    #[cfg(feature = "group-keys")]
    let position = read_keys(&mut r, lock, sealed, tag)?;
    #[cfg(not(feature = "group-keys"))]
    read_keys(&mut r, lock, sealed, tag)?;
    let saved = read_config(&mut r)?;
    let seq = read_state(
        &mut r,
        lock.profile,
        &saved,
        min_counter,
        out.as_deref_mut(),
    )?;
    read_lineages(&mut r, lock.profile, out.as_deref_mut())?;
    read_slots(&mut r, lock.profile, out.as_deref_mut())?;
    read_memory::<MEMORY, KEYS>(
        &mut r,
        lock.profile,
        #[cfg(feature = "group-keys")]
        &position,
        out,
    )?;
    Ok(seq)
}

/// Checks the magic, the version, the length and the CRC of an image, and
/// splits what the CRC covers into the sealed bytes and the tag.
#[inline(always)]
fn open<const MEMORY: usize, const KEYS: usize>(
    image: &[u8],
) -> Result<(&[u8], &[u8]), PersistError> {
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
        return Err(wrong_size::<MEMORY, KEYS>(image, wrong_length));
    }
    let (crc_covered, crc) = image.split_at(expected - CRC_LEN);
    if seal::crc32(crc_covered).to_be_bytes() != crc {
        return Err(PersistError::Corrupted);
    }
    Ok(crc_covered.split_at(expected - CRC_LEN - TAG_LEN))
}

/// Why an image of the wrong length is refused: an image of another
/// capacity or key count says so in its header, any other is
/// `wrong_length`.
#[inline(always)]
fn wrong_size<const MEMORY: usize, const KEYS: usize>(
    image: &[u8],
    wrong_length: PersistError,
) -> PersistError {
    let header = |at: usize, n: usize| image.get(at..at + n);
    let memory = header(12, 2)
        .and_then(|b| b.first_chunk::<2>())
        .map(|b| usize::from(u16::from_be_bytes(*b)));
    let keys = header(14, 1)
        .and_then(|b| b.first())
        .map(|k| usize::from(*k));
    match (memory, keys) {
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
    }
}

/// Reads the header after the magic and version (the same in versions 1
/// and 2): the profile's tweak, the capacity and the number of keys, each
/// the lock's.
#[inline(always)]
pub(super) fn read_header<const MEMORY: usize, const KEYS: usize>(
    r: &mut Reader<'_>,
    profile: &Profile,
) -> Result<(), PersistError> {
    let _magic_and_version = r.bytes(4);
    if r.bytes(8) != profile.tweak() {
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
    Ok(())
}

/// Reads the keys' fingerprints, then checks the tag under the first
/// image key. Returns where each image key is in this lock: image key `i`
/// is this lock's key `position[i]` (with group keys, the keys may be
/// given in another order than they were saved in).
#[cfg(feature = "group-keys")]
#[inline(always)]
fn read_keys<const KEYS: usize>(
    r: &mut Reader<'_>,
    lock: &Against<'_, KEYS>,
    sealed: &[u8],
    tag: &[u8],
) -> Result<[u8; KEYS], PersistError> {
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
    let signer = position
        .first()
        .and_then(|j| lock.codecs.get(usize::from(*j)));
    verify(signer, sealed, tag)?;
    Ok(position)
}

/// Reads the key's fingerprint, then checks the tag under the key.
/// Without group keys a lock has one key (`Lock::new` refuses more): the
/// image names it, or it is another lock's. (Byte by byte: a slice
/// comparison costs the Cortex-M0 validator 60 bytes more.)
#[cfg(not(feature = "group-keys"))]
#[inline(always)]
fn read_keys<const KEYS: usize>(
    r: &mut Reader<'_>,
    lock: &Against<'_, KEYS>,
    sealed: &[u8],
    tag: &[u8],
) -> Result<(), PersistError> {
    for (i, fp) in lock.fingerprints.iter().enumerate() {
        let found = r.bytes(FINGERPRINT_LEN);
        if !fp.iter().zip(found).all(|(a, b)| a == b) || found.len() != FINGERPRINT_LEN {
            return Err(PersistError::ForeignLock { key: i });
        }
    }
    verify(lock.codecs.first(), sealed, tag)
}

/// Checks the tag of the sealed bytes under the signer's key.
#[inline(always)]
fn verify(signer: Option<&Codec>, sealed: &[u8], tag: &[u8]) -> Result<(), PersistError> {
    let signer = signer.ok_or(PersistError::ForeignLock { key: 0 })?;
    if !seal::verify(signer, sealed, tag) {
        return Err(PersistError::Forged);
    }
    Ok(())
}

/// Reads the configuration the image was saved with: authentic, checked
/// for range, otherwise informative (nothing in the state depends on it).
/// Returns the lock-out policy it was saved with.
#[inline(always)]
fn read_config(r: &mut Reader<'_>) -> Result<LockoutPolicy, PersistError> {
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
    Ok(saved)
}

/// Reads the rollback counter (at least `min_counter`), the sequence
/// number, the highest time seen, the lock-out and the watermark into
/// `out`, and returns the sequence number.
#[inline(always)]
fn read_state<const MEMORY: usize>(
    r: &mut Reader<'_>,
    profile: &Profile,
    saved: &LockoutPolicy,
    min_counter: u32,
    out: Option<&mut LockState<MEMORY>>,
) -> Result<u64, PersistError> {
    let counter = r.u32();
    if counter < min_counter {
        return Err(PersistError::RolledBack {
            image: counter,
            counter: min_counter,
        });
    }
    let seq = r.u64();
    let highest_seen = r.i64();
    let (lockout, budget) = read_lockout(r, saved, &profile.lockout())?;
    let watermark = Mark {
        hour: r.u32(),
        day: r.u32(),
    };
    if let Some(state) = out {
        state.counter = counter;
        state.seq = seq;
        state.highest_seen = highest_seen;
        state.lockout = lockout;
        state.budget = budget;
        state.revocations.watermark = watermark;
    }
    Ok(seq)
}

/// Reads the back-off and the guess budget, checked against the policy
/// they were `saved` with and fitted to the lock's `policy`.
#[inline(always)]
fn read_lockout(
    r: &mut Reader<'_>,
    saved: &LockoutPolicy,
    policy: &LockoutPolicy,
) -> Result<(Lockout, Budget), PersistError> {
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
    Ok((lockout, budget))
}

/// Reads the supersede mark of every lineage into `out`: those beyond
/// the profile's lineages are unset.
#[inline(always)]
fn read_lineages<const MEMORY: usize>(
    r: &mut Reader<'_>,
    profile: &Profile,
    mut out: Option<&mut LockState<MEMORY>>,
) -> Result<(), PersistError> {
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
    Ok(())
}

/// Reads the revoked-slot bitmap into `out` (the same in versions 1 and
/// 2): bits of slots the profile cannot revoke must be clear.
#[inline(always)]
pub(super) fn read_slots<const MEMORY: usize>(
    r: &mut Reader<'_>,
    profile: &Profile,
    mut out: Option<&mut LockState<MEMORY>>,
) -> Result<(), PersistError> {
    for i in 0..SLOT_BYTES {
        let offset = r.at;
        let byte = r.u8();
        if !slot_byte_fits(profile, i, byte) {
            return Err(PersistError::InvalidField { offset });
        }
        if let Some(b) = out
            .as_deref_mut()
            .and_then(|s| s.revocations.slots.get_mut(i))
        {
            *b = byte;
        }
    }
    Ok(())
}

/// Reads the memory slots into `out`, each entry's key mapped to its
/// position in this lock (with group keys).
#[inline(always)]
fn read_memory<const MEMORY: usize, const KEYS: usize>(
    r: &mut Reader<'_>,
    profile: &Profile,
    #[cfg(feature = "group-keys")] position: &[u8; KEYS],
    mut out: Option<&mut LockState<MEMORY>>,
) -> Result<(), PersistError> {
    for i in 0..MEMORY {
        let offset = r.at;
        let (tag, key, index, hour) = (r.u8(), r.u8(), r.u64(), r.u32());
        let zero = key == 0 && index == 0 && hour == 0;
        #[cfg_attr(not(feature = "group-keys"), allow(unused_mut))]
        let mut entry = read_entry(profile, KEYS, (tag, key, index), Some(hour), zero, offset)?;
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
    Ok(())
}

/// Checks a memory slot read from an image: the tag names a kind (or the
/// slot is all zeros), the key exists, the index names a grant of the
/// kind's sort, and (when given) the end is the grant's.
pub(super) fn read_entry(
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
