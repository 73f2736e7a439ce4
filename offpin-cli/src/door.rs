//! The door: one entry typed at the lock side of the crate,
//! [`offpin::lock::Lock`], in the order firmware follows (check, persist
//! the state after the change, commit), and what it did in words. `verify`
//! and `demo` both type through it.

use offpin::lock::{ClockStatus, EntryKind, Remembered};
use offpin::time::HOUR;
use offpin::{Codec, Decision, Grant, Lock, MasterKey, RevokeTarget, UnixSeconds};
use offpin_ledger::ledger::Device;

use crate::output::{CliError, CliResult, fail};

/// What one entry at the lock did.
#[derive(Debug, Clone, Copy)]
pub struct Entry {
    /// What the lock decided.
    pub decision: Decision,
    /// Whether the clock was found rolled back.
    pub clock: ClockStatus,
    /// The grant the lock decoded the entry into (`None` when it names no
    /// grant or the lock did not evaluate it).
    pub grant: Option<Grant>,
    /// The lock's memory entry for this code, if it holds a live one, and
    /// whether this entry added it.
    pub memory: Option<(Remembered, bool)>,
    /// Whether the entry changed the state (and an image was written).
    pub written: bool,
}

impl Entry {
    /// Whether the door opened.
    pub const fn opened(&self) -> bool {
        self.decision.opens()
    }

    /// `open`, `refused`, `revocation` or `clock set`.
    pub const fn word(&self) -> &'static str {
        match self.decision {
            Decision::Open(_) | Decision::Service { .. } => "open",
            Decision::Revoked(_) => "revocation",
            Decision::ClockSet { .. } => "clock set",
            Decision::Refuse(_) => "refused",
        }
    }

    /// Why, in words (times through `time`).
    pub fn reason(&self, epoch: UnixSeconds, time: impl Fn(UnixSeconds) -> String) -> String {
        match self.decision {
            Decision::Open(_) => "the code is valid".to_owned(),
            Decision::Service { counter } => {
                format!("a valid service code (RFC 6238 counter {counter}), now used")
            }
            Decision::Revoked(RevokeTarget::Slot(slot)) => {
                format!("ongoing slot {slot} is revoked for good")
            }
            Decision::Revoked(RevokeTarget::StartedBefore { hour }) => format!(
                "every code that started before {} is revoked",
                time(epoch.saturating_add(i64::from(hour).saturating_mul(HOUR)))
            ),
            Decision::ClockSet { to } => format!("the lock's clock moved forward to {}", time(to)),
            Decision::Refuse(r) => r.to_string(),
        }
    }

    /// What the lock remembers about this code (times through `time`).
    pub fn memory_note(&self, time: impl Fn(UnixSeconds) -> String) -> Option<String> {
        let (r, added) = self.memory?;
        let until = time(r.until);
        Some(match (r.kind, added) {
            (EntryKind::Used, _) => format!("remembered as used until {until}"),
            (EntryKind::Service, _) => format!("service counter remembered as used until {until}"),
            (EntryKind::Activated, true) => format!("remembered as activated until {until}"),
            (EntryKind::Activated, false) => {
                format!("activated earlier, remembered until {until}")
            }
        })
    }
}

/// Types `typed` at `lock` at `now` in the documented order: check, hand
/// the image of the state after the change to `persist` (with the image's
/// sequence number), commit. An entry that changes nothing (refused while
/// the keypad is locked out) is neither persisted nor committed. `codec`
/// (the lock's key) names the grant of a refused code.
pub fn enter<const M: usize>(
    lock: &mut Lock<M>,
    codec: &Codec,
    typed: &str,
    now: UnixSeconds,
    persist: impl FnOnce(u64, &[u8]) -> CliResult,
) -> CliResult<Entry> {
    let typed = typed.trim().as_bytes();
    let check = lock.check(typed, now);
    let before: Vec<Remembered> = lock.remembered().collect();
    let written = !check.change.is_empty();
    if written {
        let mut image = vec![0u8; Lock::<M>::STATE_LEN];
        lock.save_after(&check.change, &mut image)
            .map_err(|e| fail("lock_state", "lock state", e))?;
        persist(check.change.image_sequence(), &image)?;
        lock.commit(check.change)
            .map_err(|e| fail("lock_state", "lock state", e))?;
    }
    let grant = match check.decision {
        Decision::Open(g) => Some(g),
        Decision::Revoked(target) => Some(Grant::Revoke(target)),
        Decision::ClockSet { .. } | Decision::Service { .. } | Decision::Refuse(_) => {
            check.key.and_then(|_| codec.decode_input(typed).ok())
        }
    };
    let t = now.max(lock.highest_seen());
    let memory = grant.zip(check.key).and_then(|(g, key)| {
        let index = lock.profile().index_of(&g).ok()?;
        let key = u8::try_from(key).ok()?;
        let r = lock
            .remembered()
            .find(|r| r.key == key && r.index == index && r.is_live(t))?;
        Some((r, !before.contains(&r)))
    });
    Ok(Entry {
        decision: check.decision,
        clock: check.clock,
        grant,
        memory,
        written,
    })
}

/// The lock-out state of `lock` at `now`, in words (times through `time`).
pub fn lockout_note<const M: usize>(
    lock: &Lock<M>,
    now: UnixSeconds,
    time: impl Fn(UnixSeconds) -> String,
) -> String {
    let failures = lock.consecutive_failures();
    let batch = u64::from(lock.profile().lockout().failures).max(1);
    let entries = |n: u64| {
        if n == 1 {
            "1 failed entry".to_owned()
        } else {
            format!("{n} failed entries")
        }
    };
    match lock.locked_out_until(now) {
        Some(until) => format!(
            "locked out until {} (after {} in a row)",
            time(until),
            entries(failures)
        ),
        None if failures == 0 => "no failed entries".to_owned(),
        None => format!(
            "{} in a row (the keypad locks at {})",
            entries(failures),
            (failures / batch).saturating_add(1).saturating_mul(batch)
        ),
    }
}

/// A new lock for `device`, with empty state.
pub fn new_lock<const M: usize>(device: &Device, master: &MasterKey) -> CliResult<Lock<M>> {
    Lock::new(device.codec(master)?, device.lock_rule()?).map_err(|e| lock_config(device, e))
}

/// The error of a lock that cannot be built for `device`.
pub fn lock_config(device: &Device, e: impl std::fmt::Display) -> CliError {
    CliError::new(
        "lock_config",
        format!(
            "cannot build the lock of device '{}': {e}",
            device.device_id
        ),
    )
}

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    reason = "tests"
)]
mod tests {
    use super::*;
    use offpin::{Refusal, Request, UtcOffset};
    use offpin_ledger::chrono_time::unix_rfc3339;

    fn device() -> (Device, MasterKey) {
        (
            Device::new("unit-door", "standard-10"),
            MasterKey::from_bytes([9; 32]),
        )
    }

    #[test]
    fn enter_persists_the_state_after_the_entry_before_committing() {
        let (device, master) = device();
        let codec = device.codec(&master).unwrap();
        let mut lock = new_lock::<64>(&device, &master).unwrap();
        let start = codec.profile().epoch() + 1_000 * 3_600;
        let pin = codec.issue(&Request::one_time(start)).unwrap().pin;
        let mut saved = Vec::new();
        let entry = enter(&mut lock, &codec, pin.as_str(), start + 60, |seq, image| {
            saved = image.to_vec();
            assert_eq!(seq, 1);
            Ok(())
        })
        .unwrap();
        assert!(entry.opened() && entry.written);
        let (remembered, added) = entry.memory.unwrap();
        assert!(added && remembered.kind == EntryKind::Used);
        // The image handed over is the committed state.
        let mut now_saved = vec![0; Lock::<64>::STATE_LEN];
        lock.save(&mut now_saved).unwrap();
        assert_eq!(saved, now_saved);
        // Reloaded, it refuses the code again, naming its grant.
        let mut lock =
            Lock::<64>::load(device.codec(&master).unwrap(), UtcOffset::UTC, &saved).unwrap();
        let started = lock.start();
        lock.commit(started).unwrap();
        let again = enter(&mut lock, &codec, pin.as_str(), start + 120, |_, _| Ok(())).unwrap();
        assert_eq!(again.decision, Decision::Refuse(Refusal::AlreadyUsed));
        assert_eq!(again.grant, entry.grant);
        assert_eq!(again.memory.map(|(_, added)| added), Some(false));
    }

    #[test]
    fn enter_writes_nothing_while_locked_out() {
        let (device, master) = device();
        let codec = device.codec(&master).unwrap();
        let mut lock = new_lock::<64>(&device, &master).unwrap();
        let now = codec.profile().epoch() + 1_000 * 3_600;
        let mut writes = 0;
        for i in 0..5 {
            let e = enter(&mut lock, &codec, "12", now + i, |_, _| {
                writes += 1;
                Ok(())
            })
            .unwrap();
            assert_eq!(e.decision, Decision::Refuse(Refusal::InvalidCode));
            assert_eq!(e.grant, None);
        }
        assert_eq!(writes, 5);
        let note = lockout_note(&lock, now + 10, unix_rfc3339);
        assert!(note.starts_with("locked out until"), "{note}");
        let e = enter(&mut lock, &codec, "12", now + 10, |_, _| {
            panic!("a locked-out entry must not be written")
        })
        .unwrap();
        assert_eq!(e.decision, Decision::Refuse(Refusal::LockedOut));
        assert!(!e.written);
        assert_eq!(
            lockout_note(&lock, now + 400, unix_rfc3339),
            "5 failed entries in a row (the keypad locks at 10)"
        );
    }
}
