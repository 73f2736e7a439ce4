//! Writing an image: the state as it is, or as it will be after a change
//! (without copying it), field by field in the layout of the
//! [module docs](super), then sealed.

use super::super::lockout::{Budget, Lockout};
use super::super::memory::Remembered;
use super::super::revocation::Mark;
use super::super::seal::{self, CRC_LEN, TAG_LEN};
use super::super::{Change, Lock, LockState, Revocation};
use super::{MAGIC, PersistError, VERSION, state_len};
use crate::profile::Profile;
use crate::time::{PER_HOUR, UnixSeconds};

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

/// The state as it will be after an optional change, field by field,
/// without copying it.
pub(super) struct After<'a, const MEMORY: usize> {
    pub(super) state: &'a LockState<MEMORY>,
    pub(super) change: Option<&'a Change>,
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
pub(super) fn encode<const MEMORY: usize, const KEYS: usize>(
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
