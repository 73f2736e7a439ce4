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
//! With code rules ([`crate::rules`]) the PINs are the `|S|` strings that
//! keep them, and cycle walking makes the map from indices to them a
//! permutation of `0..|S|`: a guess among them (a string outside `S` is
//! refused unseen, and counts as a failure) opens with probability
//! `W(now) / |S|` ([`Profile::pin_count`]).
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

use crate::profile::{Kind, Profile};
use crate::recurring::RecurringMenu;
use crate::time::{DAY, HOUR, UnixSeconds, UtcOffset, div_floor};
use crate::tz::{DST_SHIFT_MAX_SECS, TzRule};

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
    /// Weekly recurring codes within their hours (format v2).
    pub recurring: u64,
    /// Clock-setting codes that would move the clock forward now (format
    /// v2): they do not open, but a guess that hits one moves the lock's
    /// time (and refills its guess budget), so `W` counts them.
    pub clock_set: u64,
}

impl Acceptable {
    /// The sum over kinds.
    pub const fn total(&self) -> u64 {
        self.hourly + self.daily + self.one_time + self.ongoing + self.recurring + self.clock_set
    }
}

/// The published security figures of a profile.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SecurityFigures {
    /// The PINs a guess is among: `radix^n`, or `|S|` with code rules
    /// ([`Profile::pin_count`]).
    pub domain: u64,
    /// Maximum over time of the acceptable windowed indices, by kind
    /// (each kind's own maximum; ongoing is constant).
    pub max_by_kind: Acceptable,
    /// Codes the lock may remember as activated.
    pub remembered: u64,
    /// Keys the lock holds (each multiplies the acceptable set).
    pub keys: u32,
    /// PINs one entry tests: `entry_max_digits − digits + 1` with
    /// anti-peep entry ([`Profile::entry_positions`]: an entry of the
    /// longest searched length holds that many windows), 1 without. It
    /// multiplies the FF1 share of [`per_attempt`](Self::per_attempt);
    /// `w_max` stays the count at one position.
    pub positions: u32,
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
    /// The rolling service codes' share, if the profile has them (format
    /// v2): they are not FF1 indices, so they are priced apart from
    /// `w_max` and added to the per-attempt figure.
    pub service: Option<ServiceFigure>,
}

/// What rolling service codes add to one attempt's chance (see
/// [`crate::service`]): `codes` counters are accepted at once, and one
/// `digits`-digit string is the code of at most `values_per_code` of the
/// 2^31 HOTP values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ServiceFigure {
    /// Digits of a service code.
    pub digits: u8,
    /// Counters accepted at once: `2 · skew + 1`.
    pub codes: u32,
    /// `⌈2^31 / 10^digits⌉`.
    pub values_per_code: u64,
}

impl ServiceFigure {
    /// Probability that one attempt opens the lock as a service code:
    /// `codes · values_per_code / 2^31`.
    pub fn per_attempt(&self) -> f64 {
        crate::service::per_attempt(self.digits, self.codes)
    }

    /// The same in units of FF1 indices for a domain of `domain` PINs:
    /// `per_attempt · domain`, what the service codes weigh next to `W`.
    pub fn w_equivalent(&self, domain: u64) -> f64 {
        self.per_attempt() * domain as f64
    }
}

impl SecurityFigures {
    /// Probability that one random attempt opens the lock (or moves its
    /// clock): `positions · W_max / domain` (`radix^n`, or `|S|` with code
    /// rules), plus the service codes'
    /// share ([`ServiceFigure::per_attempt`]) if the profile has them. An
    /// entry is up to `positions` FF1 PINs (one without anti-peep entry),
    /// a service code (typed alone: the lock does not search for one
    /// inside a longer entry), or both, so the union bound over them
    /// bounds every case.
    pub fn per_attempt(&self) -> f64 {
        f64::from(self.positions) * self.w_max as f64 / self.domain as f64
            + self.service.map_or(0.0, |s| s.per_attempt())
    }

    /// The service codes' share of [`per_attempt`](Self::per_attempt),
    /// `0` without them.
    pub fn service_share(&self) -> f64 {
        self.service
            .map_or(0.0, |s| s.per_attempt() / self.per_attempt())
    }

    /// Upper bound of the probability that a day of attempts opens the lock.
    pub fn per_day(&self) -> f64 {
        (self.attempts_per_day as f64 * self.per_attempt()).min(1.0)
    }

    /// Upper bound of the probability that a year of attempts opens the lock.
    pub fn per_year(&self) -> f64 {
        (self.attempts_per_year as f64 * self.per_attempt()).min(1.0)
    }

    /// Expected number of random attempts until one opens:
    /// `1 / per_attempt`.
    pub fn attempts_per_success(&self) -> f64 {
        1.0 / self.per_attempt().max(f64::MIN_POSITIVE)
    }
}

impl fmt::Display for SecurityFigures {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "W_max = {} of {} PINs", self.w_max, self.domain)?;
        if self.positions > 1 {
            write!(f, " at each of {} positions", self.positions)?;
        }
        write!(
            f,
            ": p = {:.3e} per attempt, {} attempts/day, p <= {:.3e} per year",
            self.per_attempt(),
            self.attempts_per_day,
            self.per_year()
        )
    }
}

/// One family of windows that start on a grid: starts `s · unit` after an
/// origin for `s` in `0..starts`, all sharing the grace `grace` (seconds).
#[derive(Clone, Copy)]
struct Grid {
    unit: i128,
    starts: i128,
    grace: i128,
}

impl Grid {
    /// The starts `s` in `0..starts` with `lo < s · unit <= hi`, counted.
    fn starts_in(&self, lo: i128, hi: i128) -> i128 {
        let first = div_floor(lo, self.unit) + 1;
        let last = div_floor(hi, self.unit);
        (last.min(self.starts - 1) - first.max(0) + 1).max(0)
    }

    /// Time-bound windows of lengths `1..=max_len` units that open without
    /// memory at `r` seconds after the origin: by the rules of
    /// [`Profile::check`](crate::Profile::check), a window starting at
    /// `t = s · unit` opens iff `t − g <= r < t + g + min(len, A)`. In
    /// closed form (2g < unit):
    ///
    /// - the start with `r − g < t <= r + g` (at most one) contributes
    ///   every length;
    /// - a start `k` units older than `⌊(r − g)/unit⌋` contributes the
    ///   `max_len − k` lengths longer than its age, while its activation is
    ///   open (`t > r − g − A`).
    fn windows(&self, r: i128, max_len: i128, activation: i128) -> i128 {
        if max_len == 0 {
            return 0;
        }
        let g = self.grace;
        let fresh = self.starts_in(r - g, r + g) * max_len;
        let c = r - g;
        let newest = div_floor(c, self.unit);
        let oldest_open = div_floor(c - activation, self.unit) + 1;
        let k_lo = (newest - (self.starts - 1)).max(0);
        let k_hi = (newest - oldest_open).min(newest).min(max_len - 1);
        if k_hi < k_lo {
            return fresh;
        }
        let n = k_hi - k_lo + 1;
        // Σ_{k = k_lo}^{k_hi} (max_len − k); the product of n and (k_lo +
        // k_hi) is even, so the halving is exact.
        fresh + n * max_len - n * (k_lo + k_hi) / 2
    }

    /// Codes whose entry window `[t − g, t + len + g)` is open at `r`
    /// (one-time codes with `len = U`, revocations with `len = A`).
    fn entries(&self, r: i128, len: i128) -> i128 {
        if len == 0 {
            return 0;
        }
        self.starts_in(r - self.grace - len, r + self.grace)
    }

    /// The smallest instant after `x` at which [`Grid::windows`] or
    /// [`Grid::entries`] can change, given the residues modulo `period`
    /// where they change.
    fn next_change(x: i128, period: i128, residues: &[i128]) -> i128 {
        residues
            .iter()
            .map(|rho| x + 1 + (rho - x - 1).rem_euclid(period))
            .min()
            .unwrap_or(x + period)
    }
}

/// A count as `u64` (counts are at most `M < 2^64`; saturate regardless).
fn to_u64(n: i128) -> u64 {
    u64::try_from(n.max(0)).unwrap_or(u64::MAX)
}

/// The largest UTC offset in seconds, and the step of offsets (whole
/// minutes), as [`UtcOffset`] allows them.
const OFFSET_MAX: i128 = UtcOffset::MAX_MINUTES as i128 * 60;
const OFFSET_STEP: i128 = 60;

/// The acceptable-set counts split by the clock they follow: the hour grid
/// (hourly windows, one-time codes, revocations before an hour) counted
/// from the epoch, and the day grid (daily windows) counted from the lock's
/// local midnight of day 0.
struct Counts {
    hours: Grid,
    days: Grid,
    hourly_max: i128,
    daily_max: i128,
    activation: i128,
    one_time: i128,
    revocation: bool,
    per_window: i128,
    variances: i128,
    /// The recurring menu, if the profile has recurring codes.
    recurring: Option<RecurringMenu>,
    weeks: i128,
    epoch_weekday: i64,
    /// Clock-setting codes: their grid (no grace) and their step.
    clock: Option<(Grid, i128)>,
}

impl Counts {
    fn new(profile: &Profile) -> Counts {
        let p = profile.params();
        let grace = i128::from(profile.grace_secs());
        Counts {
            hours: Grid {
                unit: i128::from(HOUR),
                starts: i128::from(profile.lifetime_hours()),
                grace,
            },
            days: Grid {
                unit: i128::from(DAY),
                starts: i128::from(p.lifetime_days),
                grace,
            },
            hourly_max: i128::from(p.hourly_max_hours),
            daily_max: i128::from(p.daily_max_days),
            activation: i128::from(profile.activation_secs()),
            one_time: i128::from(profile.one_time_use_secs()),
            revocation: p.revocation,
            per_window: i128::from(p.variances) * (i128::from(p.lineages) + 1),
            variances: i128::from(p.variances),
            recurring: profile.has_kind(Kind::Recurring).then_some(p.recurring),
            weeks: i128::from(profile.lifetime_weeks()),
            epoch_weekday: profile.epoch_weekday(),
            clock: profile.has_kind(Kind::ClockSet).then(|| {
                let codes = p.clock_codes;
                let grid = Grid {
                    unit: i128::from(codes.unit_secs()),
                    starts: i128::from(profile.kind_count(Kind::ClockSet)),
                    grace: 0,
                };
                (grid, i128::from(codes.max_step_secs()))
            }),
        }
    }

    /// Clock-setting codes that move the clock forward at `r` seconds
    /// after the epoch: instants `T` with `T − step <= r < T`.
    fn clock_at(&self, r: i128) -> i128 {
        self.clock
            .map_or(0, |(grid, step)| grid.starts_in(r, r + step))
    }

    /// Where the clock-code count can change: at the multiples of the
    /// unit, and `step` before them.
    fn next_clock_change(&self, r: i128) -> i128 {
        self.clock.map_or(i128::MAX, |(grid, step)| {
            Grid::next_change(r, grid.unit, &[0, -step])
        })
    }

    /// Recurring codes open at local time `q` (seconds after the
    /// profile's local day 0 began), as indices.
    fn recurring_at(&self, q: i128) -> i128 {
        self.recurring.map_or(0, |menu| {
            let g = i64::try_from(self.days.grace).unwrap_or(0);
            menu.acceptable(q, g, self.weeks, self.epoch_weekday) * self.variances
        })
    }

    /// Whether any kind follows a weekly pattern or a long step (the
    /// peak search then spans weeks, see [`Profile::peak`]).
    fn has_v2_kinds(&self) -> bool {
        self.recurring.is_some() || self.clock.is_some()
    }

    /// Hourly windows and one-time codes open at `r` seconds after the
    /// epoch, as indices.
    fn hour_grid(&self, r: i128) -> (i128, i128) {
        (
            self.hours.windows(r, self.hourly_max, self.activation) * self.per_window,
            self.hours.entries(r, self.one_time) * self.variances,
        )
    }

    /// Daily windows open at local time `q` (seconds after the epoch plus
    /// the UTC offset), as indices.
    fn day_grid(&self, q: i128) -> i128 {
        self.days.windows(q, self.daily_max, self.activation) * self.per_window
    }

    /// Revocations before an hour whose entry window is open at `r`.
    fn revocations(&self, r: i128) -> i128 {
        if self.revocation {
            self.hours.entries(r, self.activation)
        } else {
            0
        }
    }

    /// Where the hour-grid counts can change: `±g` from every whole hour
    /// (window lengths, `A` and `U` are whole hours).
    fn next_hour_change(&self, r: i128) -> i128 {
        let g = self.hours.grace;
        Grid::next_change(r, self.hours.unit, &[-g, g])
    }

    /// Where the local-time counts can change: the daily count at `−g`,
    /// `g` and `g + A` from every local midnight; the recurring count at
    /// every local midnight and `±g` from every whole local hour.
    fn next_day_change(&self, q: i128) -> i128 {
        let g = self.days.grace;
        let daily = Grid::next_change(q, self.days.unit, &[-g, g, g + self.activation]);
        if self.recurring.is_none() {
            return daily;
        }
        let hours = Grid::next_change(q, self.hours.unit, &[-g, g]);
        let midnight = Grid::next_change(q, self.days.unit, &[0]);
        daily.min(hours).min(midnight)
    }

    /// The local-time indices open at local time `q`: daily windows and
    /// recurring codes.
    fn local_grid(&self, q: i128) -> i128 {
        self.day_grid(q) + self.recurring_at(q)
    }
}

/// The maxima over every instant and every UTC offset.
struct Peak {
    by_kind: Acceptable,
    total: u64,
    revocations: u64,
}

impl Profile {
    /// The indices that open the lock at `now` without anything in its
    /// memory and with nothing revoked, for a lock whose UTC offset is
    /// `offset`. Exact: it agrees with [`Profile::check`] on every grant,
    /// for every `now` (closed form, a constant number of operations).
    pub fn acceptable_at(&self, now: UnixSeconds, offset: UtcOffset) -> Acceptable {
        let c = Counts::new(self);
        let r = i128::from(now) - i128::from(self.epoch());
        let (hourly, one_time) = c.hour_grid(r);
        let q = r + i128::from(offset.seconds());
        Acceptable {
            hourly: to_u64(hourly),
            daily: to_u64(c.day_grid(q)),
            one_time: to_u64(one_time),
            ongoing: u64::from(self.params().ongoing_slots),
            recurring: to_u64(c.recurring_at(q)),
            clock_set: to_u64(c.clock_at(r)),
        }
    }

    /// The maximum over every instant and every UTC offset a lock accepts
    /// (whole minutes within ±14 h) of [`Profile::acceptable_at`], in
    /// total and per kind. See `docs/FORMAT.md` §7 for why it is exact.
    ///
    /// Write `G(r)` for the hour-grid indices (hourly, one-time) open `r`
    /// seconds after the epoch and `D(q)` for the daily ones at local time
    /// `q = r + offset`. Each is a sum over starts `s` of `f(age)`, with
    /// `age = r − s · unit`, where `f` is 0 before `−g` and non-increasing
    /// after. So along `r, r + unit, r + 2·unit, …` the count is a window
    /// of `starts` consecutive terms sliding over a sequence that is zero
    /// and then non-increasing: it rises until the newest start of the
    /// lifetime is at the youngest age `≥ −g` and falls after. The same
    /// holds for every 24th term (steps of a day), so along `r + n·DAY`
    /// `G + D` is the sum of two sequences that each rise then fall, and
    /// peaks between their peaks. The peaks lie within a day (plus the
    /// offset) of the end of the lifetime `E`: the maximum is attained at
    /// some `r` in `[E − 3 days, E + 2 days]`, where the counts are step
    /// functions that change only at `±g` from whole hours and at `−g`,
    /// `g`, `g + A` from local midnights. Every pair of constant pieces of
    /// `G` and of `D` is tried, with the offsets that bring them together.
    fn peak(&self) -> Peak {
        let c = Counts::new(self);
        let end = i128::from(self.params().lifetime_days) * i128::from(DAY);
        let day = i128::from(DAY);
        // Format-v2 kinds peak on their own weekly pattern (recurring
        // codes, in their lifetime's last start week): along steps of a
        // week every count rises then falls, and each peaks within
        // [E − 11 d, E + 10 d] (docs/FORMAT.md §7), so the search spans it.
        let (lo, hi) = if c.has_v2_kinds() {
            // Clock codes peak last where every instant of a step ahead is
            // still in the lifetime: at E − step.
            let step = c.clock.map_or(0, |(_, step)| step);
            ((end - 11 * day).min(end - step - 8 * day), end + 10 * day)
        } else {
            (end - 3 * day, end + 2 * day)
        };
        let mut by_kind = Acceptable {
            ongoing: u64::from(self.params().ongoing_slots),
            ..Acceptable::default()
        };
        let mut best: i128 = 0;
        let mut revocations: i128 = 0;
        // Daily pieces alone, over every local time an offset can reach.
        let mut q = lo - OFFSET_MAX;
        while q <= hi + OFFSET_MAX {
            by_kind.daily = by_kind.daily.max(to_u64(c.day_grid(q)));
            by_kind.recurring = by_kind.recurring.max(to_u64(c.recurring_at(q)));
            q = c.next_day_change(q);
        }
        // Hour-grid pieces [a, b), each against every daily piece [d0, d1)
        // that some offset o (a multiple of 60 in ±OFFSET_MAX) reaches with
        // a + … : r in [a, b), q = r + o in [d0, d1).
        let mut a = lo;
        while a <= hi {
            let b = c.next_hour_change(a).min(c.next_clock_change(a));
            let (hourly, one_time) = c.hour_grid(a);
            let clock_set = c.clock_at(a);
            by_kind.hourly = by_kind.hourly.max(to_u64(hourly));
            by_kind.one_time = by_kind.one_time.max(to_u64(one_time));
            by_kind.clock_set = by_kind.clock_set.max(to_u64(clock_set));
            revocations = revocations.max(c.revocations(a));
            let mut d0 = a - OFFSET_MAX;
            while d0 < b + OFFSET_MAX {
                let d1 = c.next_day_change(d0);
                // o = q − r ranges over [d0 − (b − 1), (d1 − 1) − a].
                let o_lo = (d0 - b + 1).max(-OFFSET_MAX);
                let o_hi = (d1 - 1 - a).min(OFFSET_MAX);
                let o = o_lo + (-o_lo).rem_euclid(OFFSET_STEP);
                if o <= o_hi {
                    best = best.max(hourly + one_time + clock_set + c.local_grid(d0));
                }
                d0 = d1;
            }
            a = b;
        }
        Peak {
            total: to_u64(best).saturating_add(by_kind.ongoing),
            by_kind,
            revocations: to_u64(revocations),
        }
    }

    /// The largest DST shift (`|dst − std|` of a [`TzRule`], in seconds)
    /// for which [`W_max`](SecurityFigures::w_max) bounds a lock of this
    /// profile: at most [`DST_SHIFT_MAX_SECS`] (2 hours, every rule offpin
    /// accepts), less when a multiple of a day lies within the shift
    /// above `A + 2g` (activation window plus twice the grace).
    ///
    /// `W_max` is a maximum over fixed offsets. Daily windows whose
    /// activation is open at an instant are those starting within a span
    /// of `A + 2g` seconds of local time around it; at a fixed offset that
    /// span holds at most `⌈(A + 2g) / 86 400⌉` local midnights, and a
    /// change of clocks by `δ` stretches it to `A + 2g + δ`, which holds
    /// one more when a multiple of a day lies in `[A + 2g, A + 2g + δ)`.
    /// Below that the rule's count is a fixed offset's
    /// (`docs/FORMAT.md` §9.1; `tests/wmax_dst_rules.rs` brute-forces both
    /// sides of the limit).
    ///
    /// # Examples
    ///
    /// ```
    /// use offpin::profile::shipped::STANDARD_10;
    /// // A + 2g = 24 h 20 min: the next day boundary is 23 h 40 min away.
    /// assert_eq!(STANDARD_10.max_dst_shift_secs(), 7_200);
    /// ```
    pub const fn max_dst_shift_secs(&self) -> i32 {
        let span = self.activation_secs() + 2 * self.grace_secs();
        let to_boundary = (DAY - span.rem_euclid(DAY)) % DAY;
        if to_boundary < DST_SHIFT_MAX_SECS as i64 {
            #[allow(
                clippy::cast_possible_truncation,
                reason = "below DST_SHIFT_MAX_SECS, an i32"
            )]
            let shift = to_boundary as i32;
            shift
        } else {
            DST_SHIFT_MAX_SECS
        }
    }

    /// Whether [`W_max`](SecurityFigures::w_max) bounds a lock of this
    /// profile keeping `rule`: its DST shift is at most
    /// [`max_dst_shift_secs`](Self::max_dst_shift_secs) (always true
    /// without DST).
    pub const fn covers_rule(&self, rule: &TzRule) -> bool {
        rule.dst_shift_secs() <= self.max_dst_shift_secs()
    }

    /// The security figures of a lock holding one key.
    pub fn security(&self) -> SecurityFigures {
        self.security_with_keys(1)
    }

    /// The security figures of a lock holding `keys` keys of this profile
    /// (for example a device key and a group key).
    ///
    /// `W_max` is exact: the most indices acceptable at any instant, for
    /// any UTC offset the lock may be configured with (see
    /// `docs/FORMAT.md` §7), plus the lock's memory, times `keys`. Its cost
    /// does not grow with the lifetime or the window lengths: a few
    /// thousand closed-form counts near the end of the lifetime.
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
        let peak = self.peak();
        let remembered = u64::from(p.lock_memory);
        let w_one_key = peak.total.saturating_add(remembered);
        let revocation_slots = if p.revocation {
            u64::from(p.ongoing_slots)
        } else {
            0
        };
        let attempts_per_day = attempts_in(self, DAY);
        let attempts_per_year = attempts_in(self, 365 * DAY);
        let codes = p.service_codes;
        let service = codes.is_enabled().then(|| ServiceFigure {
            digits: codes.digits,
            codes: codes.codes_at_once(),
            values_per_code: crate::service::max_values_per_code(codes.digits),
        });
        SecurityFigures {
            domain: self.pin_count(),
            max_by_kind: peak.by_kind,
            remembered,
            keys,
            positions: self.entry_positions(),
            w_max: w_one_key.saturating_mul(u64::from(keys)),
            revocation_indices: (peak.revocations.saturating_add(revocation_slots))
                .saturating_mul(u64::from(keys)),
            attempts_per_day,
            attempts_per_year,
            service,
        }
    }

    /// The security figures of a lock holding `keys` keys of this profile
    /// and keeping the local-time rule `rule`, or `None` if the profile
    /// does not [cover](Self::covers_rule) the rule (a lock refuses it:
    /// no bound is published for it).
    ///
    /// Without DST, or for a profile without recurring codes, these are
    /// [`security_with_keys`](Self::security_with_keys)'s figures. With
    /// DST and recurring codes, `W_max` is the sum of the per-kind maxima
    /// ([`SecurityFigures::max_by_kind`]) plus the memory, times `keys`:
    /// an upper bound, not an exact maximum. A change that turns the
    /// local clock back over midnight (Chile's `M4.1.6/24`, say) pairs the
    /// new day's daily windows with the old day's recurring hours, which
    /// no fixed offset does; each kind stays within its own maximum under
    /// a covered rule, so their sum bounds the count
    /// (`tests/wmax_dst_rules.rs`). For `standard-10-v2`: 57 110, against
    /// 56 012 at a fixed offset (+2.0 %).
    ///
    /// # Examples
    ///
    /// ```
    /// # #[cfg(feature = "format-v2")] {
    /// use offpin::profile::shipped::{STANDARD_10, STANDARD_10_V2};
    /// use offpin::tz::TzRule;
    /// let santiago = TzRule::parse(b"<-04>4<-03>,M9.1.6/24,M4.1.6/24").unwrap();
    /// let v2 = STANDARD_10_V2.security_under(&santiago, 1).unwrap();
    /// assert_eq!(v2.w_max, 57_110);
    /// // No recurring codes: the fixed-offset figure holds.
    /// let v1 = STANDARD_10.security_under(&santiago, 1).unwrap();
    /// assert_eq!(v1, STANDARD_10.security());
    /// # }
    /// ```
    pub fn security_under(&self, rule: &TzRule, keys: u32) -> Option<SecurityFigures> {
        if !self.covers_rule(rule) {
            return None;
        }
        let mut s = self.security_with_keys(keys);
        if rule.has_dst() && s.max_by_kind.recurring > 0 {
            s.w_max = s
                .max_by_kind
                .total()
                .saturating_add(s.remembered)
                .saturating_mul(u64::from(keys));
        }
        Some(s)
    }
}

/// The most failed entries a lock of `profile` evaluates within any
/// `period` seconds of real time, for any sequence of entries: a true upper
/// bound, not a typical figure.
///
/// The lock judges entries on its monotonic time `t`, and a clock within
/// the grace `g` of real time keeps `t` within `g` of it either way, so
/// `period` seconds of real time span at most `L = period + 2g` seconds of
/// the lock's time. In `L` seconds the **guess budget** allows at most
/// `budget + ⌊L / refill_secs⌋` failures: the bucket holds at most
/// `budget` at the start, and its refills are `refill_secs` apart (an
/// opening, a reload or a power cut never adds one).
///
/// The **back-off** is not part of the bound: an opening resets it, so an
/// insider who opens between every `failures − 1` guesses never meets it
/// (on `compact-8`, at one instant of the lock's time: 2 guesses, an
/// opening, 2 guesses, an opening, 2 guesses = 6 failures, the budget,
/// where the back-off alone would stop a stranger at 3).
/// `tests/lock_adversary.rs` drives an adversary against the bound.
/// Saturates instead of overflowing for huge periods.
pub fn attempts_in(profile: &Profile, period: i64) -> u64 {
    let policy = profile.lockout();
    let span = u64::try_from(period.max(0))
        .unwrap_or(0)
        .saturating_add(2 * u64::try_from(profile.grace_secs()).unwrap_or(0));
    u64::from(policy.budget).saturating_add(span / u64::from(policy.refill_secs.max(1)))
}

/// What an attacker who sets the lock's **real-time clock** itself gets
/// (a physical attack: the RTC's pins or its battery, not a clock-setting
/// code), from [`rtc_attack`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RtcAttack {
    /// Wrong entries evaluated in the period: one per entry, at the
    /// keypad's pace. Moving the clock past each lock-out, the attacker
    /// is bounded by how fast they type, not by the lock-out.
    pub guesses: u64,
    /// The lock's time those guesses need at least: the budget holds
    /// `budget` at the start, and each further failure waits for a refill,
    /// `refill_secs` of the lock's time (a back-off no opening resets
    /// needs more).
    pub lock_secs: u64,
    /// How far ahead of real time the lock's clock is at least at the end
    /// of the period: `lock_secs` less the period. Permanent: the lock's
    /// time never runs back, so every code issued for the present is
    /// refused until real time catches up.
    pub ahead_secs: u64,
}

/// What an attacker who moves the lock's real-time clock forward before
/// every entry gets in `period` seconds of real time, typing one entry
/// every `entry_secs` (at least 1): every entry is evaluated, and each one
/// beyond the budget costs `refill_secs` of the lock's time. The lock
/// cannot tell such a clock from time passing; the jump shows (today's
/// codes stop working) and is permanent. Saturates instead of
/// overflowing. `tests/lock_adversary.rs` drives the attack.
pub fn rtc_attack(profile: &Profile, period: i64, entry_secs: u32) -> RtcAttack {
    let policy = profile.lockout();
    let period = u64::try_from(period.max(0)).unwrap_or(0);
    let guesses = period.div_ceil(u64::from(entry_secs.max(1)));
    let lock_secs = guesses
        .saturating_sub(u64::from(policy.budget))
        .saturating_mul(u64::from(policy.refill_secs));
    RtcAttack {
        guesses,
        lock_secs,
        ahead_secs: lock_secs.saturating_sub(period),
    }
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
                        Grant::Recurring(_) => by_check.recurring += 1,
                        Grant::ClockSet { .. } => by_check.clock_set += 1,
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
        // A budget that refills every second: the back-off does not bind
        // (openings reset it), so the figure is the budget's over the
        // 24 h 20 min of lock time a day can span.
        assert_eq!(p.security().attempts_per_day, 1_000 + 86_400 + 1_200);
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
