//! The keypad lock-out: a guess budget that only time refills, and a
//! back-off on top of it.
//!
//! The policy is the profile's [`LockoutPolicy`]:
//!
//! - **Budget** ([`Budget`]): a token bucket of at most `budget` failures,
//!   one more every `refill_secs` of the lock's monotonic time. Every
//!   failed entry spends one; with none left the keypad refuses every entry
//!   unseen ([`Refusal::LockedOut`](crate::Refusal::LockedOut)) until the
//!   next one arrives. Nothing else refills it: an opening refunds only the
//!   charge of its own entry (count-before-check, see [`crate::lock`]), a
//!   reload restores what was saved, the clock it is judged on never
//!   runs backwards, and a clock-setting code's jump (format v2) moves the
//!   refill period with it instead of banking the time it skips. This
//!   bounds the failures in *any* span of time,
//!   [`attempts_in`](crate::security::attempts_in).
//! - **Back-off** ([`Lockout`]): after `failures` consecutive refused
//!   entries the keypad is locked for `base_secs`; every further batch of
//!   `failures` locks it again for twice as long, up to `cap_secs`
//!   ([`LockoutPolicy::duration_after_batch`]). An opening resets it: it is
//!   for the household that mistypes, the budget is the bound.
//!
//! Both saturate instead of wrapping, and neither can saturate into
//! "never locked": at `i64::MAX` the back-off may end, but the budget no
//! longer refills (no time passes), so it binds for good.

use crate::profile::LockoutPolicy;
use crate::time::UnixSeconds;

/// Back-off counters (plain data, persisted).
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
            until: crate::time::add_secs(now, i64::from(secs)),
        }
    }
}

/// The guess budget (plain data, persisted): `tokens` failures banked as
/// of `since`, one more every `refill_secs` after it, at most `budget`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct Budget {
    /// Failures banked at `since` (at most the policy's budget).
    pub(crate) tokens: u16,
    /// When the refill period in progress began.
    pub(crate) since: UnixSeconds,
}

impl Budget {
    /// A full budget as of `t`.
    pub(crate) fn full(policy: &LockoutPolicy, t: UnixSeconds) -> Budget {
        Budget {
            tokens: policy.budget,
            since: t,
        }
    }

    /// The budget as it stands at `t` (at or after `since`): the refills
    /// since `since` added, capped; `since` moved to the start of the
    /// refill period in progress (to `t` when full, so a full bucket does
    /// not bank time).
    pub(crate) fn at(&self, policy: &LockoutPolicy, t: UnixSeconds) -> Budget {
        let cap = policy.budget;
        if self.tokens >= cap {
            return Budget::full(policy, t);
        }
        let refill = u64::from(policy.refill_secs.max(1));
        let elapsed = if t > self.since {
            t.abs_diff(self.since)
        } else {
            0
        };
        // Full once the missing failures are all banked again.
        let missing = cap - self.tokens;
        // missing · refill < 2^16 · 2^32: no overflow.
        if elapsed >= u64::from(missing) * refill {
            return Budget::full(policy, t);
        }
        // So refills = floor(elapsed / refill) < missing < 2^16: sixteen
        // steps of shift and subtract, no division routine.
        let (mut refills, mut rest) = (0u16, elapsed);
        for bit in (0..16).rev() {
            let step = refill << bit;
            if rest >= step {
                rest -= step;
                refills |= 1 << bit;
            }
        }
        Budget {
            tokens: self.tokens + refills,
            // refills · refill = elapsed - rest <= t - since: no overflow.
            since: self.since.saturating_add_unsigned(elapsed - rest),
        }
    }

    /// The budget after a clock-setting code moves the lock's time from
    /// `t` to `to`: the start of its refill period moved forward by the
    /// jump, so at any time `u` after it the budget holds what it would
    /// have held at `u - (to - t)` without it: the jump banks nothing, and
    /// the refill goes on with the time that passes after it. (`since <=
    /// t` for a budget of the lock's time `t`, so `since + (to - t) <=
    /// to`: the saturation is only a guard, and at the end of time no
    /// refill comes anyway.)
    #[cfg(feature = "format-v2")]
    pub(crate) const fn jumped(&self, t: UnixSeconds, to: UnixSeconds) -> Budget {
        let jump = if to > t { to.abs_diff(t) } else { 0 };
        Budget {
            tokens: self.tokens,
            since: self.since.saturating_add_unsigned(jump),
        }
    }

    /// Whether no failure is left at `t`.
    pub(crate) fn is_spent(&self, policy: &LockoutPolicy, t: UnixSeconds) -> bool {
        self.at(policy, t).tokens == 0
    }

    /// When the next failure is banked, if the budget is empty at `t`.
    pub(crate) fn empty_until(
        &self,
        policy: &LockoutPolicy,
        t: UnixSeconds,
    ) -> Option<UnixSeconds> {
        let b = self.at(policy, t);
        (b.tokens == 0).then(|| b.since.saturating_add(i64::from(policy.refill_secs)))
    }

    /// The budget after one failure at `t` (the caller checked that one is
    /// left; an empty budget stays empty).
    pub(crate) fn spend(&self, policy: &LockoutPolicy, t: UnixSeconds) -> Budget {
        let b = self.at(policy, t);
        Budget {
            tokens: b.tokens.saturating_sub(1),
            ..b
        }
    }

    /// The budget after the charge of an entry that did not fail is given
    /// back at `t`: one more, capped.
    pub(crate) fn refund(&self, policy: &LockoutPolicy, t: UnixSeconds) -> Budget {
        let b = self.at(policy, t);
        if b.tokens.saturating_add(1) >= policy.budget {
            Budget::full(policy, t)
        } else {
            Budget {
                tokens: b.tokens + 1,
                ..b
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// The budget's refills, computed without a division, are those
        /// of the division: tokens plus floor(elapsed / refill), capped,
        /// and the refill period in progress.
        #[test]
        fn lock_budget_at_matches_the_division(
            budget in 1u16..,
            refill in 1u32..,
            tokens in any::<u16>(),
            since in -(1i64 << 50)..(1i64 << 50),
            elapsed in prop_oneof![0u64..1 << 20, 0u64..1 << 50],
        ) {
            let policy = LockoutPolicy { budget, refill_secs: refill, ..POLICY };
            let b = Budget { tokens: tokens % budget, since };
            let t = since + i64::try_from(elapsed).unwrap();
            let refills = elapsed / u64::from(refill);
            let expected = match u16::try_from(u64::from(b.tokens) + refills) {
                Ok(n) if n < budget => Budget {
                    tokens: n,
                    since: since + i64::try_from(refills * u64::from(refill)).unwrap(),
                },
                _ => Budget::full(&policy, t),
            };
            prop_assert_eq!(b.at(&policy, t), expected);
        }
    }

    const POLICY: LockoutPolicy = LockoutPolicy {
        failures: 3,
        base_secs: 60,
        cap_secs: 200,
        budget: 4,
        refill_secs: 100,
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

    #[test]
    fn lock_budget_refills_with_time_only_and_caps() {
        let mut b = Budget::full(&POLICY, 0);
        for _ in 0..4 {
            assert!(!b.is_spent(&POLICY, 10));
            b = b.spend(&POLICY, 10);
        }
        assert!(b.is_spent(&POLICY, 10));
        assert_eq!(b.empty_until(&POLICY, 10), Some(110));
        assert_eq!(b.at(&POLICY, 109).tokens, 0);
        assert_eq!(b.at(&POLICY, 110).tokens, 1);
        assert_eq!(b.at(&POLICY, 250).tokens, 2);
        // The period in progress is kept: 2 more at 250, the third at 310.
        let b2 = b.spend(&POLICY, 250);
        assert_eq!(b2.at(&POLICY, 309).tokens, 1);
        assert_eq!(b2.at(&POLICY, 310).tokens, 2);
        // A long wait fills it, no more.
        assert_eq!(b.at(&POLICY, 1_000_000).tokens, 4);
        // Refund: one back, capped.
        assert_eq!(b.refund(&POLICY, 10).tokens, 1);
        assert_eq!(Budget::full(&POLICY, 0).refund(&POLICY, 5).tokens, 4);
    }

    /// A clock code's jump banks nothing: the refills after it are those
    /// of the real time that passes, whatever the jump; a full budget
    /// stays full, no more; at the end of time it saturates without
    /// refilling.
    #[cfg(feature = "format-v2")]
    #[test]
    fn lock_budget_jump_banks_nothing() {
        let mut b = Budget::full(&POLICY, 0);
        for _ in 0..4 {
            b = b.spend(&POLICY, 10);
        }
        // 30 s into the period that began at 10: the jump keeps those 30 s.
        for jump in [1, 100, 7 * 86_400, 1 << 40] {
            let j = b.jumped(40, 40 + jump);
            assert_eq!(j.at(&POLICY, 40 + jump).tokens, 0, "jump {jump}");
            assert_eq!(j.at(&POLICY, 40 + jump + 69).tokens, 0);
            assert_eq!(j.at(&POLICY, 40 + jump + 70).tokens, 1);
            assert_eq!(j.at(&POLICY, 40 + jump + 170).tokens, 2);
            // Spent at the new time, the next one comes a period later.
            let s = j.at(&POLICY, 40 + jump + 70).spend(&POLICY, 40 + jump + 70);
            assert_eq!(
                s.empty_until(&POLICY, 40 + jump + 70),
                Some(40 + jump + 170)
            );
        }
        // Banked before the jump is kept, not more, normalised or not.
        for c in [b, b.at(&POLICY, 250)] {
            let j = c.jumped(250, 10_000);
            assert_eq!(j.at(&POLICY, 10_000).tokens, 2);
            assert_eq!(j.at(&POLICY, 10_059).tokens, 2);
            assert_eq!(j.at(&POLICY, 10_060).tokens, 3);
        }
        // Full stays full, and banks no time; no jump (to <= t) changes
        // nothing.
        let full = Budget::full(&POLICY, 0).jumped(5, 1_000);
        assert_eq!(full.at(&POLICY, 1_000), Budget::full(&POLICY, 1_000));
        assert_eq!(full.spend(&POLICY, 1_000).at(&POLICY, 1_099).tokens, 3);
        assert_eq!(b.jumped(40, 40), b);
        assert_eq!(b.jumped(40, 0), b);
        // To the end of time from the beginning: no overflow, no refill.
        let empty = Budget {
            tokens: 0,
            since: i64::MIN,
        };
        let j = empty.jumped(i64::MIN + 50, i64::MAX);
        assert_eq!(j.since, i64::MAX - 50);
        assert_eq!(j.at(&POLICY, i64::MAX).tokens, 0);
        // A budget whose start is after `t` (never made by the lock)
        // saturates instead of wrapping.
        let odd = Budget {
            tokens: 1,
            since: 100,
        };
        assert_eq!(odd.jumped(0, i64::MAX).since, i64::MAX);
    }

    #[test]
    fn lock_budget_never_saturates_into_unlimited() {
        // At the end of time the budget stops refilling: it binds for good.
        let mut b = Budget::full(&POLICY, i64::MAX - 150);
        let mut spent = 0;
        for t in [i64::MAX - 150, i64::MAX - 1, i64::MAX, i64::MAX] {
            for _ in 0..10 {
                if !b.is_spent(&POLICY, t) {
                    b = b.spend(&POLICY, t);
                    spent += 1;
                }
            }
        }
        assert_eq!(spent, 4 + 1, "4 banked, one refill in the last 150 s");
        assert!(b.is_spent(&POLICY, i64::MAX));
        // From the beginning of time, no overflow either.
        let b = Budget {
            tokens: 0,
            since: i64::MIN,
        };
        assert_eq!(b.at(&POLICY, i64::MAX).tokens, 4);
    }
}
