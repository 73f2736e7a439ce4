//! The keypad lock-out: consecutive failures and the back-off they earn.
//!
//! The policy is the profile's [`LockoutPolicy`]: after `failures`
//! consecutive refused entries the keypad is locked for `base_secs`; every
//! further batch of `failures` refused entries locks it again for twice as
//! long, up to `cap_secs` ([`LockoutPolicy::duration_after_batch`]). An
//! entry that opens the door resets the counter. While the keypad is
//! locked, entries are refused with
//! [`Refusal::LockedOut`](crate::Refusal::LockedOut) without being decoded
//! and without counting: that is exactly the attacker model of
//! [`Profile::security`](crate::Profile::security)'s attempts per day.
//!
//! The counter is kept as the number of completed batches (which sets the
//! next lock-out's length, saturating) and the failures of the current
//! batch, so it never wraps into a shorter lock-out.

use crate::profile::LockoutPolicy;
use crate::time::UnixSeconds;

/// Lock-out counters (plain data, persisted).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct Lockout {
    /// Failures in the current batch, `0..policy.failures`.
    pub(crate) strikes: u8,
    /// Batches completed since the last success (each one locked the
    /// keypad), saturating.
    pub(crate) batches: u32,
    /// The keypad is locked while the lock's time is before this instant
    /// ([`i64::MIN`]: never locked since the last reset).
    pub(crate) until: UnixSeconds,
}

impl Lockout {
    /// No failures, not locked.
    pub(crate) const CLEAR: Lockout = Lockout {
        strikes: 0,
        batches: 0,
        until: UnixSeconds::MIN,
    };

    /// Whether the keypad is locked at `now`.
    pub(crate) const fn is_locked(&self, now: UnixSeconds) -> bool {
        now < self.until
    }

    /// Consecutive failures since the last success (saturating).
    pub(crate) fn failures(&self, policy: &LockoutPolicy) -> u64 {
        u64::from(self.batches)
            .saturating_mul(u64::from(policy.failures))
            .saturating_add(u64::from(self.strikes))
    }

    /// The counters after one more failure at `now`.
    pub(crate) fn after_failure(&self, policy: &LockoutPolicy, now: UnixSeconds) -> Lockout {
        let strikes = self.strikes.saturating_add(1);
        if strikes < policy.failures {
            return Lockout { strikes, ..*self };
        }
        let secs = policy.duration_after_batch(self.batches);
        Lockout {
            strikes: 0,
            batches: self.batches.saturating_add(1),
            until: now.saturating_add(i64::from(secs)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const POLICY: LockoutPolicy = LockoutPolicy {
        failures: 3,
        base_secs: 60,
        cap_secs: 200,
    };

    #[test]
    fn lock_lockout_doubles_per_batch_up_to_the_cap() {
        let mut l = Lockout::CLEAR;
        let mut t = 1_000;
        let mut durations = [0i64; 4];
        for d in &mut durations {
            for _ in 0..3 {
                assert!(!l.is_locked(t));
                l = l.after_failure(&POLICY, t);
            }
            assert!(l.is_locked(t));
            *d = l.until - t;
            t = l.until;
        }
        assert_eq!(durations, [60, 120, 200, 200]);
        assert_eq!(l.failures(&POLICY), 12);
    }

    #[test]
    fn lock_lockout_counter_saturates_without_shortening() {
        let l = Lockout {
            strikes: 2,
            batches: u32::MAX,
            until: 0,
        };
        let next = l.after_failure(&POLICY, 10);
        assert_eq!(next.batches, u32::MAX);
        assert_eq!(next.until, 210);
    }
}
