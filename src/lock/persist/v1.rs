//! Version 1: the images of offpin 0.1, read to migrate them
//! (`Lock::migrate_v1_into`, the feature `lock-state-v1`).

use sha2::{Digest, Sha256};

use super::super::LockState;
use super::super::lockout::{Budget, Lockout};
use super::super::revocation::{MAX_LINEAGES, Mark, SLOT_BYTES};
use super::PersistError;
use super::decode::{Against, Reader, read_entry, read_header, read_slots};
use crate::profile::Profile;
use crate::tz::TzRule;

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
/// version-2 state, into `out` if given (as
/// [`decode`](super::decode::decode)): the same memory, revocations and
/// back-off, a budget with the failures since the last opening spent,
/// counter 0. Returns its sequence number.
pub(super) fn decode<const MEMORY: usize, const KEYS: usize>(
    lock: &Against<'_, KEYS>,
    image: &[u8],
    // The migration refuses a moved counter before it reads one.
    _min_counter: u32,
    mut out: Option<&mut LockState<MEMORY>>,
) -> Result<u64, PersistError> {
    let body = open::<MEMORY, KEYS>(image)?;
    let mut r = Reader { buf: body, at: 0 };
    read_header::<MEMORY, KEYS>(&mut r, lock.profile)?;
    let seq = read_state(&mut r, lock, out.as_deref_mut());
    read_lineages(&mut r, lock, out.as_deref_mut())?;
    read_slots(&mut r, lock.profile, out.as_deref_mut())?;
    read_memory::<MEMORY, KEYS>(&mut r, lock.profile, out)?;
    Ok(seq)
}

/// Checks the length and the checksum of a version-1 image, and returns
/// what the checksum covers.
fn open<const MEMORY: usize, const KEYS: usize>(image: &[u8]) -> Result<&[u8], PersistError> {
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
    Ok(body)
}

/// The mark of an instant version 1 stored ([`NONE`]: none), in the
/// lock's local time.
fn mark(profile: &Profile, zone: &TzRule, at: i64) -> Mark {
    if at == NONE {
        Mark::NONE
    } else {
        Mark::before_instant(profile, at, zone)
    }
}

/// Reads the sequence number, the highest time seen, the back-off and the
/// watermark into `out` (version 1 checked none of them), with a budget
/// that has the failures since the last opening spent and counter 0.
/// Returns the sequence number.
fn read_state<const MEMORY: usize, const KEYS: usize>(
    r: &mut Reader<'_>,
    lock: &Against<'_, KEYS>,
    out: Option<&mut LockState<MEMORY>>,
) -> u64 {
    let seq = r.u64();
    let highest_seen = r.i64();
    let policy = lock.profile.lockout();
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
    let watermark = mark(lock.profile, lock.zone, r.i64());
    if let Some(state) = out {
        state.counter = 0;
        state.seq = seq;
        state.highest_seen = highest_seen;
        state.lockout = lockout;
        state.budget = budget;
        state.revocations.watermark = watermark;
    }
    seq
}

/// Reads the instant of every lineage's supersede mark into `out`, as a
/// mark: those beyond the profile's lineages are none.
fn read_lineages<const MEMORY: usize, const KEYS: usize>(
    r: &mut Reader<'_>,
    lock: &Against<'_, KEYS>,
    mut out: Option<&mut LockState<MEMORY>>,
) -> Result<(), PersistError> {
    let lineages = usize::from(lock.profile.params().lineages);
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
            *m = mark(lock.profile, lock.zone, raw);
        }
    }
    Ok(())
}

/// Reads the memory slots into `out`; each entry's end is recomputed: at
/// least as late as the one version 1 stored (window end plus a grace
/// below an hour).
fn read_memory<const MEMORY: usize, const KEYS: usize>(
    r: &mut Reader<'_>,
    profile: &Profile,
    mut out: Option<&mut LockState<MEMORY>>,
) -> Result<(), PersistError> {
    for i in 0..MEMORY {
        let offset = r.at;
        let (tag, key, index, until) = (r.u8(), r.u8(), r.u64(), r.i64());
        let zero = key == 0 && index == 0 && until == 0;
        let entry = read_entry(profile, KEYS, (tag, key, index), None, zero, offset)?;
        if let Some(slot) = out.as_deref_mut().and_then(|s| s.memory.slots.get_mut(i)) {
            *slot = entry;
        }
    }
    Ok(())
}
