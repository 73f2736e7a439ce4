//! What the lock has taken back: revoked ongoing slots, the "started
//! before" watermark and the supersede marks of lineages.
//!
//! - **Slots**: a bitmap of [`MAX_REVOCABLE_SLOTS`] bits; entering the
//!   revocation code of slot `s` sets bit `s`, and the ongoing code of slot
//!   `s` is refused from then on.
//! - **Watermark**: entering "revoke everything that started before hour
//!   `h`" raises the watermark to `h` (never lowers it); every time-bound
//!   and one-time code whose window starts before the watermark is refused.
//!   Ongoing codes are not affected (revoke their slots).
//! - **Lineages**: a time-bound code may carry a supersede lineage
//!   `1..=L` (a room, say). When a code of lineage `l` whose window starts
//!   at `s` opens the door, the mark of `l` rises to `s`; codes of lineage
//!   `l` whose window starts before the mark are refused as
//!   [`Superseded`](crate::Refusal::Superseded). Codes whose window starts
//!   at the same instant as the mark are *not* superseded (the same
//!   booking may have several codes: variances, lengths).
//!
//! Every operation is idempotent and monotone: entering a revocation twice
//! changes nothing the second time, and nothing here is ever undone, so a
//! power cut can only lose a revocation whose image was not yet written.

use crate::time::UnixSeconds;

/// Ongoing slots a lock can revoke (the bitmap's size). A profile with more
/// ongoing slots and revocation codes is refused by
/// [`Lock::new`](crate::lock::Lock::new). The largest shipped profile has
/// 1000.
pub const MAX_REVOCABLE_SLOTS: u32 = 1024;

/// Supersede lineages a lock can track. A profile with more is refused by
/// [`Lock::new`](crate::lock::Lock::new). The shipped profiles have at
/// most 4.
pub const MAX_LINEAGES: u8 = 16;

/// Bytes of the slot bitmap.
pub(crate) const SLOT_BYTES: usize = (MAX_REVOCABLE_SLOTS / 8) as usize;

/// No watermark / no mark yet.
pub(crate) const NONE: UnixSeconds = UnixSeconds::MIN;

/// Revocation state (plain data, persisted).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct Revocations {
    /// Bit `s % 8` of byte `s / 8` is set when slot `s` is revoked.
    pub(crate) slots: [u8; SLOT_BYTES],
    /// Codes whose window starts before this instant are revoked
    /// ([`NONE`]: nothing).
    pub(crate) watermark: UnixSeconds,
    /// Per lineage `1..=MAX_LINEAGES` (at position `l - 1`): the start of
    /// the newest window that opened the door ([`NONE`]: none).
    pub(crate) lineages: [UnixSeconds; MAX_LINEAGES as usize],
}

/// Byte and bit of a slot in the bitmap.
const fn bit(slot: u32) -> (usize, u8) {
    ((slot / 8) as usize, 1 << (slot % 8))
}

impl Revocations {
    /// Nothing revoked.
    pub(crate) const CLEAR: Revocations = Revocations {
        slots: [0; SLOT_BYTES],
        watermark: NONE,
        lineages: [NONE; MAX_LINEAGES as usize],
    };

    /// Whether ongoing slot `slot` is revoked. A slot beyond the bitmap
    /// counts as revoked (fail closed; [`Lock::new`] refuses such
    /// profiles anyway).
    ///
    /// [`Lock::new`]: crate::lock::Lock::new
    pub(crate) fn is_slot_revoked(&self, slot: u32) -> bool {
        let (byte, mask) = bit(slot);
        self.slots.get(byte).is_none_or(|b| b & mask != 0)
    }

    /// Revokes ongoing slot `slot` (no-op beyond the bitmap).
    pub(crate) fn revoke_slot(&mut self, slot: u32) {
        let (byte, mask) = bit(slot);
        if let Some(b) = self.slots.get_mut(byte) {
            *b |= mask;
        }
    }

    /// Whether a window starting at `start` is under the watermark.
    pub(crate) const fn is_under_watermark(&self, start: UnixSeconds) -> bool {
        start < self.watermark
    }

    /// Raises the watermark to `at` (never lowers it).
    pub(crate) fn raise_watermark(&mut self, at: UnixSeconds) {
        self.watermark = self.watermark.max(at);
    }

    /// The mark of `lineage` (`1..=MAX_LINEAGES`), if any code of it opened.
    pub(crate) fn lineage_mark(&self, lineage: u8) -> Option<UnixSeconds> {
        let at = usize::from(lineage).checked_sub(1)?;
        self.lineages.get(at).copied().filter(|m| *m != NONE)
    }

    /// Whether a code of `lineage` whose window starts at `start` was
    /// superseded (lineage `0` never is).
    pub(crate) fn is_superseded(&self, lineage: u8, start: UnixSeconds) -> bool {
        self.lineage_mark(lineage).is_some_and(|m| start < m)
    }

    /// Raises the mark of `lineage` to `start` (no-op for lineage `0`).
    pub(crate) fn mark_lineage(&mut self, lineage: u8, start: UnixSeconds) {
        let Some(at) = usize::from(lineage).checked_sub(1) else {
            return;
        };
        if let Some(m) = self.lineages.get_mut(at) {
            *m = (*m).max(start);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lock_revocations_are_monotone_and_idempotent() {
        let mut r = Revocations::CLEAR;
        assert!(!r.is_slot_revoked(999));
        r.revoke_slot(999);
        r.revoke_slot(999);
        assert!(r.is_slot_revoked(999));
        assert!(!r.is_slot_revoked(998));
        assert!(r.is_slot_revoked(MAX_REVOCABLE_SLOTS), "beyond: closed");

        r.raise_watermark(100);
        r.raise_watermark(50);
        assert!(r.is_under_watermark(99));
        assert!(!r.is_under_watermark(100));

        assert!(!r.is_superseded(2, 0));
        r.mark_lineage(2, 500);
        r.mark_lineage(2, 400);
        r.mark_lineage(0, 1_000);
        assert!(r.is_superseded(2, 499));
        assert!(!r.is_superseded(2, 500), "same start: same booking");
        assert!(!r.is_superseded(1, 0));
        assert!(!r.is_superseded(0, 0));
        assert_eq!(r.lineage_mark(2), Some(500));
    }
}
