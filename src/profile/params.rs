//! The parameters a profile is built from: [`ProfileParams`], the
//! policies and format-v2 features it holds, and the bounds
//! [`Profile::new`](super::Profile::new) checks them against.

use super::{CodeRules, FormatVersion, Keys, Radix, RecurringMenu};
use crate::time::UnixSeconds;

/// The keypad lock-out policy: a **guess budget** that bounds the
/// failures in any span of time, and a **back-off** on top of it.
///
/// - Budget (a token bucket): at most `budget` failed entries are banked;
///   one more is banked every `refill_secs` of the lock's monotonic time.
///   Every failed entry spends one; with none left, the keypad refuses
///   every entry unseen until the next one arrives. Nothing refills it
///   but time: not an opening, not a clock step within the grace, not a
///   power cut, not a reload of the saved state. This is what bounds the
///   published attempts per day and per year.
/// - Back-off (usability): after `failures` consecutive wrong entries the
///   keypad is locked for `base_secs`, doubling with every further batch of
///   `failures` wrong entries up to `cap_secs`. An opening resets it.
///
/// [`Profile::security`](crate::Profile::security) publishes the bounds
/// this policy gives; `docs/LOCK.md` §5 explains the choice of the shipped
/// values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct LockoutPolicy {
    /// Consecutive failures that trigger a back-off lock-out (at least 1).
    pub failures: u8,
    /// First back-off duration in seconds (at least 1).
    pub base_secs: u32,
    /// Longest back-off duration in seconds (at least `base_secs`).
    pub cap_secs: u32,
    /// Failed entries the guess budget banks at most (at least 1).
    pub budget: u16,
    /// Seconds of the lock's time per failed entry returned to the budget
    /// (at least 1).
    pub refill_secs: u32,
}

impl LockoutPolicy {
    /// Lock-out duration after the `batch`-th batch of failures (0-based):
    /// `min(base << batch, cap)`.
    pub const fn duration_after_batch(&self, batch: u32) -> u32 {
        let shifted = if batch >= 32 {
            u64::MAX
        } else {
            (self.base_secs as u64) << batch
        };
        if shifted >= self.cap_secs as u64 {
            self.cap_secs
        } else {
            #[allow(clippy::cast_possible_truncation, reason = "shifted < cap_secs, a u32")]
            let fits = shifted as u32;
            fits
        }
    }
}

/// Clock-setting codes (format v2, tag 2): a code names an instant on a
/// grid of `unit_minutes`; typing it moves the lock's clock forward to
/// that instant, by at most `max_step_hours` (see [`crate::lock`]).
/// Disabled ([`ClockCodes::NONE`]) when `unit_minutes` is 0.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ClockCodes {
    /// The grid of instants, in minutes: a divisor of 1 440 (a day).
    pub unit_minutes: u16,
    /// The longest step forward a code may make, in hours
    /// (`1..=`[`MAX_CLOCK_STEP_HOURS`], at least one unit).
    pub max_step_hours: u16,
}

impl ClockCodes {
    /// No clock-setting codes.
    pub const NONE: ClockCodes = ClockCodes {
        unit_minutes: 0,
        max_step_hours: 0,
    };

    /// Whether the profile has clock-setting codes.
    pub const fn is_enabled(&self) -> bool {
        self.unit_minutes != 0 || self.max_step_hours != 0
    }

    /// The grid unit in seconds.
    pub const fn unit_secs(&self) -> i64 {
        self.unit_minutes as i64 * 60
    }

    /// The longest step in seconds.
    pub const fn max_step_secs(&self) -> i64 {
        self.max_step_hours as i64 * 3_600
    }
}

/// Rolling service codes (format v2, tag 3): RFC 6238 codes of `digits`
/// decimal digits for counters of `step_secs` seconds, accepted `±
/// skew_steps` counters around the lock's, each once (see
/// [`crate::service`]). Disabled ([`ServiceCodes::NONE`]) when `digits` is
/// 0. Needs a ten-key keypad: codes are decimal.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ServiceCodes {
    /// Digits of a code, `6..=10` (authenticator apps show 6 or 8).
    pub digits: u8,
    /// Seconds per counter, `10..=600` (RFC 6238's default is 30).
    pub step_secs: u16,
    /// Counters accepted on each side of the lock's, `0..=2`.
    pub skew_steps: u8,
}

impl ServiceCodes {
    /// No service codes.
    pub const NONE: ServiceCodes = ServiceCodes {
        digits: 0,
        step_secs: 0,
        skew_steps: 0,
    };

    /// Whether the profile has service codes.
    pub const fn is_enabled(&self) -> bool {
        self.digits != 0 || self.step_secs != 0 || self.skew_steps != 0
    }

    /// Counters accepted at once: `2 · skew_steps + 1`.
    pub const fn codes_at_once(&self) -> u32 {
        2 * self.skew_steps as u32 + 1
    }
}

/// The longest step a clock-setting code may make: 30 days.
pub const MAX_CLOCK_STEP_HOURS: u16 = 720;

/// Latest epoch [`Profile::new`](super::Profile::new) accepts: 9999-12-31T00:00:00Z, the last
/// midnight with a four-digit year.
pub const MAX_EPOCH: UnixSeconds = 253_402_214_400;

/// Longest lifetime [`Profile::new`](super::Profile::new) accepts: 10 000 Gregorian years
/// (25 cycles of 146 097 days). Its hours, 87 658 200, fit a `u32`.
pub const MAX_LIFETIME_DAYS: u32 = 3_652_425;

/// Longest duration in hours [`Profile::new`](super::Profile::new) accepts for the hourly
/// window, the one-time use window and the activation window: the longest
/// lifetime, `24 · MAX_LIFETIME_DAYS`.
pub const MAX_DURATION_HOURS: u32 = 24 * MAX_LIFETIME_DAYS;

/// A bound on the magnitude of every instant, in seconds after the Unix
/// epoch, that issuing, checking and the security figure compute from a
/// profile [`Profile::new`](super::Profile::new) accepts and a grant of it: the latest epoch,
/// plus the longest lifetime, plus the longest window or activation
/// (10 000 years each), plus a day of UTC offset and grace, is below
/// `2^40` (about 34 800 years), far inside `i64`.
pub const INSTANT_BOUND: i64 = 1 << 40;

/// The longest entry a lock searches for a PIN typed among extra digits
/// (anti-peep entry, [`ProfileParams::entry_max_digits`]): a keypad's
/// entry buffer of 32 keys, and at most `32 − digits + 1` FF1 decryptions
/// per key of the lock for one entry.
pub const MAX_ENTRY_DIGITS: u8 = 32;

/// Everything that defines a profile, as plain fields so it can be written
/// in `const` context (and built from another profile with `..`).
///
/// Ranges: a kind with a zero range is disabled (`hourly_max_hours: 0`
/// means no hourly windows).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ProfileParams {
    /// Human-readable name, e.g. `"standard-10"`. Not part of the format.
    pub name: &'static str,
    /// The format version: the label of the canonical encoding, and which
    /// extension fields the profile may have (v2 only).
    pub format: FormatVersion,
    /// The numerals' radix: ten keys, nine for keypads without `0`, or
    /// (format v2) any of 2 to 10 ([`Radix`]).
    pub radix: Radix,
    /// The key pressed for each numeral ([`Keys::STANDARD`]: `0`–`9` for
    /// radix 10, `1`… otherwise). Others are format v2 (tag 4).
    pub keys: Keys,
    /// PIN length in digits (`radix^digits >= 10^6`, at most
    /// [`Radix::max_len`]: 18 for radix 10 and 9, 19 for 8, 20 below).
    pub digits: u8,
    /// Unix time of hour 0 and day 0. Must be a UTC midnight in
    /// `0..=`[`MAX_EPOCH`] (1970-01-01 to 9999-12-31).
    pub epoch: UnixSeconds,
    /// Days after the epoch in which windows may start, `1..=`
    /// [`MAX_LIFETIME_DAYS`].
    pub lifetime_days: u32,
    /// Distinct PINs per identical window (`V`, at least 1).
    pub variances: u8,
    /// Supersede lineages for time-bound codes (`0` disables them). A
    /// time-bound grant carries lineage `0` (none) or `1..=lineages`.
    pub lineages: u8,
    /// Longest hourly window in hours (`0` disables hourly windows), at
    /// most [`MAX_DURATION_HOURS`].
    pub hourly_max_hours: u32,
    /// Longest daily window in days (`0` disables daily windows), at most
    /// [`MAX_LIFETIME_DAYS`].
    pub daily_max_days: u32,
    /// Use window of one-time codes in hours (`0` disables them), at most
    /// [`MAX_DURATION_HOURS`].
    pub one_time_use_hours: u32,
    /// Number of ongoing-code slots (`0` disables ongoing codes).
    pub ongoing_slots: u32,
    /// Whether revocation codes exist (a slot revocation per ongoing slot,
    /// and a "revoke everything that started before hour h" per hour).
    pub revocation: bool,
    /// Activation window in hours: a code whose window is longer must be
    /// first used within this long after its start, `1..=`
    /// [`MAX_DURATION_HOURS`]. Not part of the format.
    pub activation_hours: u32,
    /// Clock-skew grace in seconds (below one hour), applied at both ends of
    /// every window. Not part of the format.
    pub grace_secs: u32,
    /// Codes the lock can remember (activated and used one-time codes).
    /// Not part of the format.
    pub lock_memory: u16,
    /// Keypad lock-out policy. Not part of the format.
    pub lockout: LockoutPolicy,
    /// Anti-peep entry: the longest entry, in keys, in which the lock
    /// searches for a PIN typed among extra digits (every window of
    /// `digits` consecutive keys, in order). `0` or `digits` turns it off
    /// (every shipped profile); otherwise `digits..=`
    /// [`MAX_ENTRY_DIGITS`] and at most `2 · digits`. Each extra key is
    /// one more PIN tested per entry: the per-attempt figure is multiplied
    /// by [`Profile::entry_positions`](super::Profile::entry_positions). The lock checks it only with the
    /// crate feature `anti-peep`. Not part of the format.
    pub entry_max_digits: u8,
    /// Weekly recurring codes (format v2, tag 1;
    /// [`RecurringMenu::NONE`]: none).
    pub recurring: RecurringMenu,
    /// Clock-setting codes (format v2, tag 2; [`ClockCodes::NONE`]: none).
    pub clock_codes: ClockCodes,
    /// Rolling service codes (format v2, tag 3; [`ServiceCodes::NONE`]:
    /// none).
    pub service_codes: ServiceCodes,
    /// Code rules (format v2, tag 5; [`CodeRules::NONE`]: none): the PINs
    /// are the strings that keep them ([`crate::rules`]). Needs the
    /// radix's standard keys and no service codes; a lock checks them
    /// with the crate feature `code-rules`.
    pub code_rules: CodeRules,
}
