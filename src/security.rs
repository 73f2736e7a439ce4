//! The security figure: how likely is one random attempt to open the lock?
//!
//! FF1 is a pseudorandom permutation of the `radix^n` PINs, so a PIN
//! guessed at random decrypts to an index uniformly distributed over
//! `0..radix^n` (to within the PRP advantage of AES). It opens the lock
//! exactly when that index names a grant the lock accepts at that instant.
//! With `W(now)` such indices, one attempt succeeds with probability
//!
//! ```text
//! p = W(now) / radix^n
//! ```
//!
//! `M`, the number of grants the profile can express, does not matter;
//! only the grants acceptable *now* do. [`Profile::acceptable_at`] counts
//! them exactly at one instant, by the same rules as
//! [`Profile::check`](crate::Profile::check):
//!
//! - windows whose activation is still open (started within the activation
//!   window, grace included) and that have not ended, for every length and
//!   variance and lineage;
//! - one-time codes whose use window is open;
//! - every ongoing slot (none revoked);
//!
//! and [`Profile::security`] takes the maximum over time and adds
//!
//! - the codes the lock remembers as activated (at most its memory size),
//!
//! then multiplies by the number of keys the lock holds. Revocation codes
//! do not open the lock; the indices that would trigger one are reported
//! separately ([`SecurityFigures::revocation_indices`]).
//!
//! The lock-out policy bounds the attempts: [`SecurityFigures::attempts_per_day`]
//! and [`SecurityFigures::attempts_per_year`] are the most entries a lock
//! evaluates and refuses in any 24 hours (any 365 days) of real time, for
//! **any** sequence of entries: insiders opening between guesses, lock-outs,
//! reloads of the saved state, power cuts (with count-before-check, see
//! [`crate::lock`]) and clock steps within the grace ([`attempts_in`]). The
//! yearly probability is the union bound `min(1, attempts · p)`, an upper
//! bound.

use core::fmt;

use crate::profile::Profile;
use crate::time::{DAY, HOUR, UnixSeconds, UtcOffset, div_floor};

/// Indices acceptable at one instant, by kind.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Acceptable {
    /// Hourly windows that open the lock now without memory.
    pub hourly: u64,
    /// Daily windows that open the lock now without memory.
    pub daily: u64,
    /// One-time codes whose use window is open.
    pub one_time: u64,
    /// Ongoing slots.
    pub ongoing: u64,
}

impl Acceptable {
    /// The sum over kinds.
    pub const fn total(&self) -> u64 {
        self.hourly + self.daily + self.one_time + self.ongoing
    }
}

/// The published security figures of a profile.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SecurityFigures {
    /// `radix^n`.
    pub domain: u64,
    /// Maximum over time of the acceptable windowed indices, by kind
    /// (each kind's own maximum; ongoing is constant).
    pub max_by_kind: Acceptable,
    /// Codes the lock may remember as activated.
    pub remembered: u64,
    /// Keys the lock holds (each multiplies the acceptable set).
    pub keys: u32,
    /// `W_max`: the most indices acceptable at any instant, all keys.
    pub w_max: u64,
    /// Indices that trigger a revocation at the worst instant (do not open).
    pub revocation_indices: u64,
    /// Most failed entries a lock evaluates in any 24 hours, whatever else
    /// happens at the door ([`attempts_in`]`(profile, 86 400)`).
    pub attempts_per_day: u64,
    /// Most failed entries a lock evaluates in any 365 days
    /// ([`attempts_in`]`(profile, 365 × 86 400)`).
    pub attempts_per_year: u64,
}

impl SecurityFigures {
    /// Probability that one random attempt opens the lock: `W_max / radix^n`.
    pub fn per_attempt(&self) -> f64 {
        self.w_max as f64 / self.domain as f64
    }

    /// Upper bound of the probability that a day of attempts opens the lock.
    pub fn per_day(&self) -> f64 {
        (self.attempts_per_day as f64 * self.per_attempt()).min(1.0)
    }

    /// Upper bound of the probability that a year of attempts opens the lock.
    pub fn per_year(&self) -> f64 {
        (self.attempts_per_year as f64 * self.per_attempt()).min(1.0)
    }

    /// Expected number of random attempts until one opens: `radix^n / W_max`.
    pub fn attempts_per_success(&self) -> f64 {
        self.domain as f64 / self.w_max.max(1) as f64
    }
}

impl fmt::Display for SecurityFigures {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "W_max = {} of {} PINs: p = {:.3e} per attempt, {} attempts/day, p <= {:.3e} per year",
            self.w_max,
            self.domain,
            self.per_attempt(),
            self.attempts_per_day,
            self.per_year()
        )
    }
}

/// Counts the (start, length) pairs of one time-bound kind that open the
/// lock without memory at `r` seconds after `origin`. Starts are multiples
/// of `unit`; lengths are `1..=max_len` units; `activation` and `grace` in
/// seconds. See [`Profile::check`](crate::Profile::check) for the rules.
fn open_windows(r: i64, unit: i64, starts: u32, max_len: u32, activation: i64, grace: i64) -> u64 {
    if max_len == 0 {
        return 0;
    }
    let first = div_floor(r - grace - activation, unit).max(0);
    let last = div_floor(r + grace, unit).min(i64::from(starts) - 1);
    let mut count = 0u64;
    let mut s = first;
    while s <= last {
        let start = s * unit;
        // x: how far past start + grace we are.
        let x = r - start - grace;
        if start - grace <= r && x < activation {
            // Lengths d with d·unit > x stay open.
            let d_min = if x < 0 { 1 } else { x / unit + 1 };
            let n = i64::from(max_len) - d_min + 1;
            count += u64::try_from(n).unwrap_or(0);
        }
        s += 1;
    }
    count
}

/// Counts the one-time codes (per variance) whose use window is open.
fn open_one_time(r: i64, starts: u32, use_secs: i64, grace: i64) -> u64 {
    if use_secs == 0 {
        return 0;
    }
    let first = div_floor(r - grace - use_secs, HOUR).max(0);
    let last = div_floor(r + grace, HOUR).min(i64::from(starts) - 1);
    let mut count = 0u64;
    let mut s = first;
    while s <= last {
        let start = s * HOUR;
        if start - grace <= r && r < start + use_secs + grace {
            count += 1;
        }
        s += 1;
    }
    count
}

impl Profile {
    /// The indices that open the lock at `now` without anything in its
    /// memory and with nothing revoked, for a lock whose UTC offset is
    /// `offset`. Exact: it agrees with [`Profile::check`] on every grant.
    pub fn acceptable_at(&self, now: UnixSeconds, offset: UtcOffset) -> Acceptable {
        let p = self.params();
        let per_window = u64::from(p.variances) * (u64::from(p.lineages) + 1);
        let g = self.grace_secs();
        let a = self.activation_secs();
        let r = now - self.epoch();
        let hourly = open_windows(r, HOUR, self.lifetime_hours(), p.hourly_max_hours, a, g);
        let daily = open_windows(
            r + offset.seconds(),
            DAY,
            p.lifetime_days,
            p.daily_max_days,
            a,
            g,
        );
        let one_time = open_one_time(r, self.lifetime_hours(), self.one_time_use_secs(), g);
        Acceptable {
            hourly: hourly * per_window,
            daily: daily * per_window,
            one_time: one_time * u64::from(p.variances),
            ongoing: u64::from(p.ongoing_slots),
        }
    }

    /// The security figures of a lock holding one key.
    pub fn security(&self) -> SecurityFigures {
        self.security_with_keys(1)
    }

    /// The security figures of a lock holding `keys` keys of this profile
    /// (for example a device key and a group key).
    ///
    /// # Examples
    ///
    /// ```
    /// use offpin::profile::shipped::STANDARD_10;
    /// let s = STANDARD_10.security();
    /// assert!(s.per_attempt() < 1e-4);
    /// assert_eq!(STANDARD_10.security_with_keys(2).w_max, 2 * s.w_max);
    /// ```
    pub fn security_with_keys(&self, keys: u32) -> SecurityFigures {
        let p = self.params();
        let g = self.grace_secs();
        // A steady-state day in the middle of the lifetime. Every count
        // changes only at instants that are ±grace from a whole hour (the
        // shipped offsets are whole hours; a fractional offset shifts the
        // daily count in time without raising its maximum), so its
        // maximum is attained at one of the 48 instants below.
        let mid = self.epoch() + i64::from(p.lifetime_days / 2) * DAY;
        let mut max = Acceptable::default();
        let mut revocations_max = 0u64;
        for h in 0..24 {
            for delta in [-g, g] {
                let t = mid + h * HOUR + delta;
                let w = self.acceptable_at(t, UtcOffset::UTC);
                max.hourly = max.hourly.max(w.hourly);
                max.daily = max.daily.max(w.daily);
                max.one_time = max.one_time.max(w.one_time);
                max.ongoing = max.ongoing.max(w.ongoing);
                let before = if p.revocation {
                    open_one_time(
                        t - self.epoch(),
                        self.lifetime_hours(),
                        self.activation_secs(),
                        g,
                    )
                } else {
                    0
                };
                revocations_max = revocations_max.max(before);
            }
        }
        let remembered = u64::from(p.lock_memory);
        let w_one_key = max.total() + remembered;
        let revocation_slots = if p.revocation {
            u64::from(p.ongoing_slots)
        } else {
            0
        };
        let attempts_per_day = attempts_in(self, DAY);
        let attempts_per_year = attempts_in(self, 365 * DAY);
        SecurityFigures {
            domain: self.domain(),
            max_by_kind: max,
            remembered,
            keys,
            w_max: w_one_key.saturating_mul(u64::from(keys)),
            revocation_indices: (revocations_max + revocation_slots)
                .saturating_mul(u64::from(keys)),
            attempts_per_day,
            attempts_per_year,
        }
    }
}

/// The most failed entries a lock of `profile` evaluates within any
/// `period` seconds of real time, for any sequence of entries: a true upper
/// bound, not a typical figure.
///
/// The lock judges entries on its monotonic time `t`, and a clock within
/// the grace `g` of real time keeps `t` within `g` of it either way, so
/// `period` seconds of real time span at most `L = period + 2g` seconds of
/// the lock's time. In `L` seconds:
///
/// - the **guess budget** allows at most `budget + ⌊L / refill_secs⌋`
///   failures: the bucket holds at most `budget` at the start, and its
///   refills are `refill_secs` apart (an opening, a reload or a power cut
///   never adds one);
/// - the **back-off** allows at most `failures · ⌈L / base_secs⌉ +
///   failures − 1`: a batch of `failures` failures locks the keypad for at
///   least `base_secs`, during which nothing is evaluated, so two batches
///   complete at least `base_secs` apart, whatever openings reset in
///   between; at most `failures − 1` more follow the last one.
///
/// The bound is the smaller of the two (for the shipped profiles, the
/// budget's). `tests/lock_adversary.rs` drives an adversary against it.
/// Saturates instead of overflowing for huge periods.
pub fn attempts_in(profile: &Profile, period: i64) -> u64 {
    let policy = profile.lockout();
    let span = u64::try_from(period.max(0))
        .unwrap_or(0)
        .saturating_add(2 * u64::try_from(profile.grace_secs()).unwrap_or(0));
    let budget =
        u64::from(policy.budget).saturating_add(span / u64::from(policy.refill_secs.max(1)));
    let failures = u64::from(policy.failures);
    let backoff = failures
        .saturating_mul(span.div_ceil(u64::from(policy.base_secs.max(1))))
        .saturating_add(failures.saturating_sub(1));
    budget.min(backoff)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::grant::{Grant, Span};
    use crate::profile::shipped::{ALL, STANDARD_10};
    use crate::profile::{LockoutPolicy, ProfileParams};

    #[test]
    fn the_default_matches_the_design_brief() {
        // 24 start hours × 672 lengths − the ones already over: 15 852
        // hourly windows per variance without grace; the 10-minute grace
        // adds the hour that starts within it.
        let s = STANDARD_10.security();
        let per_variance_hourly = s.max_by_kind.hourly / 3;
        assert!(
            (15_852..=15_852 + 672).contains(&per_variance_hourly),
            "{per_variance_hourly}"
        );
        assert!(s.w_max < 3 * 24_000, "{}", s.w_max);
    }

    /// Brute force: check every grant of a small profile at many instants.
    #[test]
    fn closed_form_counts_agree_with_check() {
        let small = Profile::new(ProfileParams {
            name: "tiny",
            lifetime_days: 6,
            variances: 2,
            lineages: 1,
            hourly_max_hours: 30,
            daily_max_days: 3,
            one_time_use_hours: 5,
            ongoing_slots: 3,
            activation_hours: 7,
            grace_secs: 900,
            ..STANDARD_10.params()
        })
        .unwrap();
        let offset = UtcOffset::from_minutes(-150).unwrap();
        for step in 0..(6 * 24 * 4 + 8) {
            let now = small.epoch() - 2 * HOUR + step * 900 + 1;
            let mut by_check = Acceptable::default();
            for index in 0..small.grant_count() {
                let g = small.grant_at(index).unwrap();
                if small.check(&g, now, offset).opens() {
                    match g {
                        Grant::Hourly(Span { .. }) => by_check.hourly += 1,
                        Grant::Daily(_) => by_check.daily += 1,
                        Grant::OneTime { .. } => by_check.one_time += 1,
                        Grant::Ongoing { .. } => by_check.ongoing += 1,
                        Grant::Revoke(_) => unreachable!("revocations do not open"),
                    }
                }
            }
            assert_eq!(small.acceptable_at(now, offset), by_check, "at {now}");
        }
    }

    #[test]
    fn lockout_bounds_attempts() {
        let p = Profile::new(ProfileParams {
            lockout: LockoutPolicy {
                failures: 5,
                base_secs: 3_600,
                cap_secs: 3_600,
                budget: 1_000,
                refill_secs: 1,
            },
            ..STANDARD_10.params()
        })
        .unwrap();
        // A budget that refills every second: the back-off binds, 5 per
        // hour over the 24 h 20 min of lock time a day can span, plus 4.
        assert_eq!(p.security().attempts_per_day, 5 * 25 + 4);
        // The shipped budget binds: 10 banked + 24 refills.
        assert_eq!(STANDARD_10.security().attempts_per_day, 34);
        assert_eq!(STANDARD_10.security().attempts_per_year, 8_770);
        for p in ALL {
            let s = p.security();
            assert!(s.per_year() <= 1.0 && s.per_attempt() > 0.0);
            assert!(s.w_max < s.domain);
        }
    }
}
