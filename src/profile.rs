//! Profiles: the shared description of what a lock's PINs can express.
//!
//! A [`Profile`] is built once, in `const` context, from [`ProfileParams`]
//! and shared by the issuer and the lock. It fixes the keypad alphabet
//! ([`Radix`]), the PIN length, the epoch and lifetime, and which grant
//! kinds exist with their ranges. [`Profile::new`] checks that every grant
//! the profile can express has its own index below `radix^digits`.
//!
//! Four profiles ship with the crate ([`shipped`]); any other can be defined
//! the same way:
//!
//! ```
//! use offpin::{LockoutPolicy, Profile, ProfileParams, Radix};
//!
//! const CABIN: Profile = match Profile::new(ProfileParams {
//!     name: "cabin-9",
//!     radix: Radix::Ten,
//!     digits: 9,
//!     hourly_max_hours: 14 * 24,
//!     daily_max_days: 0,
//!     ..offpin::profile::shipped::STANDARD_10.params()
//! }) {
//!     Ok(p) => p,
//!     Err(e) => e.panic_const(),
//! };
//! assert_eq!(CABIN.digits(), 9);
//! ```

mod canonical;
mod sha256;
pub mod shipped;

pub use canonical::{CANONICAL_CAPACITY, Canonical, FormatVersion, Tag};

use core::fmt;

pub use crate::alphabet::{Alphabet, AlphabetError, Keys};
use crate::divisor::Reciprocal;
pub use crate::ff1::Radix;
pub use crate::recurring::RecurringMenu;
pub use crate::rules::CodeRules;
use crate::time::{DAY, HOUR, UnixSeconds};

/// The grant kinds, in the order their index ranges are laid out.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    /// Time-bound window on hour boundaries.
    Hourly,
    /// Time-bound window on the lock's local midnights.
    Daily,
    /// One-time code: first use within the use window after its start.
    OneTime,
    /// Ongoing code in a numbered slot, valid until revoked.
    Ongoing,
    /// Revocation code that revokes one ongoing slot.
    RevokeSlot,
    /// Revocation code that revokes every window that started before an hour.
    RevokeBefore,
    /// Weekly recurring code: a weekday mask and a daily range of local
    /// hours, for whole weeks (format v2).
    Recurring,
    /// Clock-setting code: moves the lock's clock forward to an instant
    /// (format v2).
    ClockSet,
}

impl Kind {
    /// The number of kinds.
    pub const COUNT: usize = 8;

    /// Every kind, in index-layout order: the kinds of format v1 first,
    /// then those format v2 added (so a v1 profile's layout is unchanged).
    pub const ALL: [Kind; Kind::COUNT] = [
        Kind::Hourly,
        Kind::Daily,
        Kind::OneTime,
        Kind::Ongoing,
        Kind::RevokeSlot,
        Kind::RevokeBefore,
        Kind::Recurring,
        Kind::ClockSet,
    ];

    /// Position of the kind in [`Kind::ALL`].
    pub const fn position(self) -> usize {
        match self {
            Kind::Hourly => 0,
            Kind::Daily => 1,
            Kind::OneTime => 2,
            Kind::Ongoing => 3,
            Kind::RevokeSlot => 4,
            Kind::RevokeBefore => 5,
            Kind::Recurring => 6,
            Kind::ClockSet => 7,
        }
    }

    /// The first format version that has this kind.
    pub const fn format(self) -> FormatVersion {
        match self {
            Kind::Hourly
            | Kind::Daily
            | Kind::OneTime
            | Kind::Ongoing
            | Kind::RevokeSlot
            | Kind::RevokeBefore => FormatVersion::V1,
            Kind::Recurring | Kind::ClockSet => FormatVersion::V2,
        }
    }

    /// A short lowercase name (`hourly`, `daily`, `one_time`, ...).
    pub const fn name(self) -> &'static str {
        match self {
            Kind::Hourly => "hourly",
            Kind::Daily => "daily",
            Kind::OneTime => "one_time",
            Kind::Ongoing => "ongoing",
            Kind::RevokeSlot => "revoke_slot",
            Kind::RevokeBefore => "revoke_before",
            Kind::Recurring => "recurring",
            Kind::ClockSet => "clock_set",
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

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

/// Latest epoch [`Profile::new`] accepts: 9999-12-31T00:00:00Z, the last
/// midnight with a four-digit year.
pub const MAX_EPOCH: UnixSeconds = 253_402_214_400;

/// Longest lifetime [`Profile::new`] accepts: 10 000 Gregorian years
/// (25 cycles of 146 097 days). Its hours, 87 658 200, fit a `u32`.
pub const MAX_LIFETIME_DAYS: u32 = 3_652_425;

/// Longest duration in hours [`Profile::new`] accepts for the hourly
/// window, the one-time use window and the activation window: the longest
/// lifetime, `24 · MAX_LIFETIME_DAYS`.
pub const MAX_DURATION_HOURS: u32 = 24 * MAX_LIFETIME_DAYS;

/// A bound on the magnitude of every instant, in seconds after the Unix
/// epoch, that issuing, checking and the security figure compute from a
/// profile [`Profile::new`] accepts and a grant of it: the latest epoch,
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
    /// by [`Profile::entry_positions`]. The lock checks it only with the
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

/// Why [`Profile::new`] refused a set of parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProfileError {
    /// `radix^digits` is below 10^6 (FF1's minimum domain) or `digits > 18`.
    DigitsOutOfRange {
        /// The radix.
        radix: u32,
        /// The requested length.
        digits: u8,
    },
    /// The epoch is not a UTC midnight (a multiple of 86 400).
    EpochNotMidnight,
    /// The epoch is negative or after [`MAX_EPOCH`].
    EpochOutOfRange,
    /// `lifetime_days` is zero.
    ZeroLifetime,
    /// `lifetime_days` is above [`MAX_LIFETIME_DAYS`].
    LifetimeTooLong,
    /// `hourly_max_hours` is above [`MAX_DURATION_HOURS`].
    HourlyWindowTooLong,
    /// `daily_max_days` is above [`MAX_LIFETIME_DAYS`].
    DailyWindowTooLong,
    /// `one_time_use_hours` is above [`MAX_DURATION_HOURS`].
    OneTimeUseTooLong,
    /// `variances` is zero.
    ZeroVariances,
    /// No kind that opens the lock is enabled.
    NoGrantKinds,
    /// `activation_hours` is zero.
    ZeroActivation,
    /// `activation_hours` is above [`MAX_DURATION_HOURS`].
    ActivationTooLong,
    /// `grace_secs` is one hour or more.
    GraceTooLarge,
    /// The lock-out policy has zero failures, a zero duration, a cap below
    /// its base, a zero budget or a zero refill period.
    InvalidLockout,
    /// The recurring menu is malformed: an empty part, an invalid or
    /// repeated mask or hour range, more than
    /// [`recurring::MAX_MENU`](crate::recurring::MAX_MENU) of either, or
    /// `max_weeks` outside `1..=`[`MAX_WEEKS`](crate::recurring::MAX_WEEKS).
    InvalidRecurringMenu,
    /// The clock-setting codes' unit is not a divisor of 1 440 minutes, or
    /// their step is not `1..=`[`MAX_CLOCK_STEP_HOURS`] hours and at least
    /// one unit.
    InvalidClockCodes,
    /// The service codes' digits are not `6..=10`, their step not
    /// `10..=600` s, their skew above 2, or the keypad is not radix 10
    /// with its standard keys.
    InvalidServiceCodes,
    /// The keys are not one ASCII digit per numeral, each once.
    InvalidAlphabet(AlphabetError),
    /// The keypad alphabet is not radix 10 or 9 with their standard keys,
    /// and the crate was built without the `alphabets` feature (a lock
    /// that reads only ten-key and nine-key keypads).
    AlphabetNotBuilt,
    /// A format-v2 feature is enabled on a format-v1 profile.
    NeedsFormatV2 {
        /// The feature's extension field.
        tag: Tag,
    },
    /// The canonical encoding would exceed [`CANONICAL_CAPACITY`] bytes.
    CanonicalTooLong,
    /// `entry_max_digits` is neither `0` (off) nor in
    /// `digits..=min(2 · digits, `[`MAX_ENTRY_DIGITS`]`)`.
    EntryMaxDigitsOutOfRange {
        /// The requested bound.
        entry_max_digits: u8,
        /// The PIN length it must reach.
        digits: u8,
        /// The most it may be for this PIN length.
        max: u8,
    },
    /// The code rules have undefined bits, or the profile also has
    /// service codes (RFC 6238 codes cannot keep the rules).
    InvalidCodeRules,
    /// The profile has code rules and keys other than its radix's
    /// standard ones (the rules compare the typed keys as digits).
    CodeRulesNeedStandardKeys,
    /// The code rules leave fewer than half of the `radix^digits`
    /// strings: cycle walking could need more than
    /// [`MAX_WALK_STEPS`](crate::rules::MAX_WALK_STEPS) evaluations too
    /// often. Fewer digits or fewer rules (or more keys) fix it.
    CodeRulesTooStrict {
        /// The strings that keep the rules, `|S|`.
        pins: u64,
        /// `radix^digits`.
        domain: u64,
    },
    /// The profile has code rules, and the crate was built without the
    /// `code-rules` feature (a lock that does not check them).
    CodeRulesNotBuilt,
    /// The grants do not fit in the PINs: `radix^digits` indices, or
    /// `|S|` with code rules.
    IndexSpaceTooSmall {
        /// Indices the grants need (`u64::MAX` if the count overflows).
        needed: u64,
        /// `radix^digits`, or `|S|` with code rules.
        available: u64,
    },
}

impl ProfileError {
    /// A stable snake_case code of the error (the variant's name in
    /// snake case, e.g. `needs_format_v2`); the `Display` text is
    /// informative English.
    pub const fn code(&self) -> &'static str {
        match self {
            ProfileError::DigitsOutOfRange { .. } => "digits_out_of_range",
            ProfileError::EpochNotMidnight => "epoch_not_midnight",
            ProfileError::EpochOutOfRange => "epoch_out_of_range",
            ProfileError::ZeroLifetime => "zero_lifetime",
            ProfileError::LifetimeTooLong => "lifetime_too_long",
            ProfileError::HourlyWindowTooLong => "hourly_window_too_long",
            ProfileError::DailyWindowTooLong => "daily_window_too_long",
            ProfileError::OneTimeUseTooLong => "one_time_use_too_long",
            ProfileError::ZeroVariances => "zero_variances",
            ProfileError::NoGrantKinds => "no_grant_kinds",
            ProfileError::ZeroActivation => "zero_activation",
            ProfileError::ActivationTooLong => "activation_too_long",
            ProfileError::GraceTooLarge => "grace_too_large",
            ProfileError::InvalidLockout => "invalid_lockout",
            ProfileError::InvalidRecurringMenu => "invalid_recurring_menu",
            ProfileError::InvalidClockCodes => "invalid_clock_codes",
            ProfileError::InvalidServiceCodes => "invalid_service_codes",
            ProfileError::InvalidAlphabet(_) => "invalid_alphabet",
            ProfileError::AlphabetNotBuilt => "alphabet_not_built",
            ProfileError::NeedsFormatV2 { .. } => "needs_format_v2",
            ProfileError::CanonicalTooLong => "canonical_too_long",
            ProfileError::EntryMaxDigitsOutOfRange { .. } => "entry_max_digits_out_of_range",
            ProfileError::InvalidCodeRules => "invalid_code_rules",
            ProfileError::CodeRulesNeedStandardKeys => "code_rules_need_standard_keys",
            ProfileError::CodeRulesTooStrict { .. } => "code_rules_too_strict",
            ProfileError::CodeRulesNotBuilt => "code_rules_not_built",
            ProfileError::IndexSpaceTooSmall { .. } => "index_space_too_small",
        }
    }

    /// Aborts compilation with this error's message; for use when building
    /// a profile in a `const` item, where a bad profile must not compile.
    pub const fn panic_const(self) -> ! {
        #[allow(
            clippy::panic,
            reason = "only reached in const evaluation: a build error"
        )]
        match self {
            ProfileError::DigitsOutOfRange { .. } => {
                panic!("profile: radix^digits must be >= 10^6 and at most 10^18")
            }
            ProfileError::EpochNotMidnight => panic!("profile: epoch must be a UTC midnight"),
            ProfileError::EpochOutOfRange => {
                panic!("profile: epoch must be in 0..=MAX_EPOCH (9999-12-31)")
            }
            ProfileError::ZeroLifetime => panic!("profile: lifetime_days must be > 0"),
            ProfileError::LifetimeTooLong => {
                panic!("profile: lifetime_days must be <= MAX_LIFETIME_DAYS (3652425)")
            }
            ProfileError::HourlyWindowTooLong => {
                panic!("profile: hourly_max_hours must be <= MAX_DURATION_HOURS (87658200)")
            }
            ProfileError::DailyWindowTooLong => {
                panic!("profile: daily_max_days must be <= MAX_LIFETIME_DAYS (3652425)")
            }
            ProfileError::OneTimeUseTooLong => {
                panic!("profile: one_time_use_hours must be <= MAX_DURATION_HOURS (87658200)")
            }
            ProfileError::ZeroVariances => panic!("profile: variances must be > 0"),
            ProfileError::NoGrantKinds => panic!("profile: no grant kind is enabled"),
            ProfileError::ZeroActivation => panic!("profile: activation_hours must be > 0"),
            ProfileError::ActivationTooLong => {
                panic!("profile: activation_hours must be <= MAX_DURATION_HOURS (87658200)")
            }
            ProfileError::GraceTooLarge => panic!("profile: grace_secs must be < 3600"),
            ProfileError::InvalidLockout => panic!("profile: invalid lock-out policy"),
            ProfileError::InvalidRecurringMenu => panic!("profile: invalid recurring menu"),
            ProfileError::InvalidClockCodes => panic!("profile: invalid clock-setting codes"),
            ProfileError::InvalidServiceCodes => panic!("profile: invalid service codes"),
            ProfileError::InvalidAlphabet(_) => {
                panic!("profile: keys must be one digit per numeral, each once")
            }
            ProfileError::AlphabetNotBuilt => {
                panic!("profile: this keypad alphabet needs the crate feature `alphabets`")
            }
            ProfileError::NeedsFormatV2 { .. } => {
                panic!("profile: a format-v2 feature needs format: FormatVersion::V2")
            }
            ProfileError::CanonicalTooLong => {
                panic!("profile: the canonical encoding exceeds CANONICAL_CAPACITY")
            }
            ProfileError::EntryMaxDigitsOutOfRange { .. } => panic!(
                "profile: entry_max_digits must be 0 or in digits..=min(2 * digits, MAX_ENTRY_DIGITS)"
            ),
            ProfileError::InvalidCodeRules => {
                panic!("profile: code rules need defined bits only and no service codes")
            }
            ProfileError::CodeRulesNeedStandardKeys => {
                panic!("profile: code rules need the radix's standard keys")
            }
            ProfileError::CodeRulesTooStrict { .. } => {
                panic!("profile: the code rules leave fewer than half the strings")
            }
            ProfileError::CodeRulesNotBuilt => {
                panic!("profile: code rules need the crate feature `code-rules`")
            }
            ProfileError::IndexSpaceTooSmall { .. } => {
                panic!("profile: grants do not fit in radix^digits")
            }
        }
    }
}

impl fmt::Display for ProfileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProfileError::DigitsOutOfRange { radix, digits } => write!(
                f,
                "{digits} digits of radix {radix} is outside FF1's range (radix^digits from 10^6 to 10^18: at most 18 digits in radix 10 and 9, 19 in radix 8, 20 below)"
            ),
            ProfileError::EpochNotMidnight => {
                f.write_str("the epoch must be a UTC midnight (a multiple of 86400)")
            }
            ProfileError::EpochOutOfRange => write!(
                f,
                "the epoch must be in 0..={MAX_EPOCH} (1970-01-01 to 9999-12-31)"
            ),
            ProfileError::ZeroLifetime => f.write_str("lifetime_days must be at least 1"),
            ProfileError::LifetimeTooLong => write!(
                f,
                "lifetime_days must be at most {MAX_LIFETIME_DAYS} (10 000 years)"
            ),
            ProfileError::HourlyWindowTooLong => write!(
                f,
                "hourly_max_hours must be at most {MAX_DURATION_HOURS} (10 000 years)"
            ),
            ProfileError::DailyWindowTooLong => write!(
                f,
                "daily_max_days must be at most {MAX_LIFETIME_DAYS} (10 000 years)"
            ),
            ProfileError::OneTimeUseTooLong => write!(
                f,
                "one_time_use_hours must be at most {MAX_DURATION_HOURS} (10 000 years)"
            ),
            ProfileError::ZeroVariances => f.write_str("variances must be at least 1"),
            ProfileError::NoGrantKinds => {
                f.write_str("no grant kind that opens the lock is enabled")
            }
            ProfileError::ZeroActivation => f.write_str("activation_hours must be at least 1"),
            ProfileError::ActivationTooLong => write!(
                f,
                "activation_hours must be at most {MAX_DURATION_HOURS} (10 000 years)"
            ),
            ProfileError::GraceTooLarge => f.write_str("grace_secs must be below 3600"),
            ProfileError::InvalidLockout => f.write_str(
                "lock-out policy needs failures >= 1, base_secs >= 1, cap_secs >= base_secs, budget >= 1 and refill_secs >= 1",
            ),
            ProfileError::InvalidRecurringMenu => write!(
                f,
                "the recurring menu needs 1 to {} distinct valid weekday masks, 1 to {} distinct hour ranges (from < to <= 24) and max_weeks in 1..={}",
                crate::recurring::MAX_MENU,
                crate::recurring::MAX_MENU,
                crate::recurring::MAX_WEEKS
            ),
            ProfileError::InvalidClockCodes => write!(
                f,
                "clock-setting codes need unit_minutes dividing 1440 and max_step_hours in 1..={MAX_CLOCK_STEP_HOURS}, at least one unit"
            ),
            ProfileError::InvalidServiceCodes => f.write_str(
                "service codes need 6 to 10 digits, a step of 10 to 600 s, a skew of at most 2 steps and a ten-key (radix 10) keypad with its standard keys",
            ),
            ProfileError::InvalidAlphabet(e) => write!(f, "invalid keypad alphabet: {e}"),
            ProfileError::AlphabetNotBuilt => f.write_str(
                "the keypad is not a ten-key or nine-key keypad with standard keys; build offpin with the alphabets feature to read it",
            ),
            ProfileError::NeedsFormatV2 { tag } => write!(
                f,
                "{tag} is a format-v2 feature; set format: FormatVersion::V2 (a v1 profile keeps offpin 0.1's PINs)"
            ),
            ProfileError::CanonicalTooLong => write!(
                f,
                "the profile's canonical encoding exceeds {CANONICAL_CAPACITY} bytes"
            ),
            ProfileError::EntryMaxDigitsOutOfRange {
                entry_max_digits,
                digits,
                max,
            } => write!(
                f,
                "entry_max_digits is {entry_max_digits} but must be 0 (anti-peep off) or from the PIN length {digits} to {max} (twice the PIN length, at most {MAX_ENTRY_DIGITS})"
            ),
            ProfileError::InvalidCodeRules => f.write_str(
                "code rules are a set of cannot_start_with_12 (bit 0) and no_triple_consecutive_ints (bit 1), and cannot go with service codes (RFC 6238 codes do not keep them)",
            ),
            ProfileError::CodeRulesNeedStandardKeys => f.write_str(
                "code rules need the radix's standard keys (0-9 for radix 10, 1, 2, ... for the others)",
            ),
            ProfileError::CodeRulesTooStrict { pins, domain } => write!(
                f,
                "the code rules leave {pins} of {domain} strings, fewer than half; use fewer digits or fewer rules"
            ),
            ProfileError::CodeRulesNotBuilt => f.write_str(
                "the profile has code rules; build offpin with the code-rules feature to check them",
            ),
            ProfileError::IndexSpaceTooSmall { needed, available } => write!(
                f,
                "the grants need {needed} indices but {available} PINs exist; add digits or shrink a range"
            ),
        }
    }
}

/// The [`AlphabetError`] is the `source()` of
/// [`ProfileError::InvalidAlphabet`].
impl core::error::Error for ProfileError {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            ProfileError::InvalidAlphabet(e) => Some(e),
            _ => None,
        }
    }
}

/// Where each kind's indices lie in `0..total`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct Layout {
    /// First index of each kind, in [`Kind::ALL`] order.
    pub(crate) base: [u64; Kind::COUNT],
    /// `M`, the number of grants the profile can express.
    pub(crate) total: u64,
    /// `|S|`: the strings that keep the code rules, `radix^digits`
    /// without rules (which [`Profile::domain`] recomputes: a profile is
    /// copied into every codec, so it stores one of the two).
    pub(crate) pins: u64,
    /// The radices of the mixed-radix fields, as divisors.
    pub(crate) radices: Radices,
}

/// The radices an index is split by (`index.rs`), with their reciprocals:
/// computed once by [`Profile::new`] (at compile time for a `const`
/// profile), so that splitting a decoded index is constant time and needs
/// no division routine on the lock.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct Radices {
    /// `lineages + 1`.
    pub(crate) lineages: Reciprocal,
    /// `variances`.
    pub(crate) variances: Reciprocal,
    /// `hourly_max_hours` (unused when 0: no hourly kind).
    pub(crate) hourly_lengths: Reciprocal,
    /// `daily_max_days` (unused when 0: no daily kind).
    pub(crate) daily_lengths: Reciprocal,
}

/// A validated profile. See the [module docs](self).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Profile {
    params: ProfileParams,
    layout: Layout,
    /// [`Profile::tweak`], computed once by [`Profile::new`] (in `const`
    /// for a `const` profile, so a lock never runs SHA-256 for it).
    tweak: [u8; 8],
}

/// `x / DAY` of a UTC midnight `x` in `0..=MAX_EPOCH` (what
/// [`Profile::new`] accepts as an epoch) by a multiplication: a lock's
/// calendar arithmetic links no division routine. `ceil(2^64 / DAY)`
/// exceeds `2^64 / DAY` by less than 1, so for `x < 2^38` the product
/// overshoots `x / DAY`, an integer, by less than `2^-26`.
#[allow(
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    clippy::cast_possible_wrap,
    reason = "x in 0..=MAX_EPOCH < 2^38, so the quotient is below 2^22"
)]
const fn days_of_midnight(x: i64) -> i64 {
    const M: u128 = (1u128 << 64).div_ceil(DAY as u128);
    ((x as u64 as u128 * M) >> 64) as i64
}

/// `a * b`, or `None` on overflow (const-friendly).
const fn mul(a: u64, b: u64) -> Option<u64> {
    a.checked_mul(b)
}

impl Profile {
    /// Validates `params` and lays out the index space.
    ///
    /// The bounds ([`MAX_EPOCH`], [`MAX_LIFETIME_DAYS`],
    /// [`MAX_DURATION_HOURS`], grace below an hour) keep every instant
    /// derived from the profile within [`INSTANT_BOUND`], so no time
    /// computation of issuing, checking or the security figure can
    /// overflow.
    ///
    /// # Errors
    ///
    /// A [`ProfileError`] naming the first parameter that is out of range
    /// (each bound has its own variant), or
    /// [`ProfileError::IndexSpaceTooSmall`] when the grants do not fit.
    pub const fn new(params: ProfileParams) -> Result<Profile, ProfileError> {
        let radix = params.radix.value() as u64;
        let digits = params.digits;
        let domain = match radix.checked_pow(digits as u32) {
            Some(d) if digits <= params.radix.max_len() && d >= 1_000_000 => d,
            _ => {
                return Err(ProfileError::DigitsOutOfRange {
                    radix: params.radix.value(),
                    digits,
                });
            }
        };
        if params.epoch < 0 || params.epoch > MAX_EPOCH {
            return Err(ProfileError::EpochOutOfRange);
        }
        if params.epoch % DAY != 0 {
            return Err(ProfileError::EpochNotMidnight);
        }
        if params.lifetime_days == 0 {
            return Err(ProfileError::ZeroLifetime);
        }
        if params.lifetime_days > MAX_LIFETIME_DAYS {
            return Err(ProfileError::LifetimeTooLong);
        }
        if params.hourly_max_hours > MAX_DURATION_HOURS {
            return Err(ProfileError::HourlyWindowTooLong);
        }
        if params.daily_max_days > MAX_LIFETIME_DAYS {
            return Err(ProfileError::DailyWindowTooLong);
        }
        if params.one_time_use_hours > MAX_DURATION_HOURS {
            return Err(ProfileError::OneTimeUseTooLong);
        }
        if params.variances == 0 {
            return Err(ProfileError::ZeroVariances);
        }
        if params.hourly_max_hours == 0
            && params.daily_max_days == 0
            && params.one_time_use_hours == 0
            && params.ongoing_slots == 0
            && !params.recurring.is_enabled()
            && !params.service_codes.is_enabled()
        {
            return Err(ProfileError::NoGrantKinds);
        }
        if params.activation_hours == 0 {
            return Err(ProfileError::ZeroActivation);
        }
        if params.activation_hours > MAX_DURATION_HOURS {
            return Err(ProfileError::ActivationTooLong);
        }
        if params.grace_secs >= 3_600 {
            return Err(ProfileError::GraceTooLarge);
        }
        let lo = params.lockout;
        if lo.failures == 0
            || lo.base_secs == 0
            || lo.cap_secs < lo.base_secs
            || lo.budget == 0
            || lo.refill_secs == 0
        {
            return Err(ProfileError::InvalidLockout);
        }

        let entry_max = params.entry_max_digits;
        let entry_cap = if digits.saturating_mul(2) < MAX_ENTRY_DIGITS {
            digits.saturating_mul(2)
        } else {
            MAX_ENTRY_DIGITS
        };
        if entry_max != 0 && (entry_max < digits || entry_max > entry_cap) {
            return Err(ProfileError::EntryMaxDigitsOutOfRange {
                entry_max_digits: entry_max,
                digits,
                max: entry_cap,
            });
        }

        if params.recurring.is_enabled() && !params.recurring.is_valid() {
            return Err(ProfileError::InvalidRecurringMenu);
        }
        let clock = params.clock_codes;
        if clock.is_enabled()
            && (clock.unit_minutes == 0
                || 1_440 % clock.unit_minutes != 0
                || clock.max_step_hours == 0
                || clock.max_step_hours > MAX_CLOCK_STEP_HOURS
                || clock.max_step_secs() < clock.unit_secs())
        {
            return Err(ProfileError::InvalidClockCodes);
        }
        let service = params.service_codes;
        if service.is_enabled()
            && (service.digits < 6
                || service.digits > 10
                || service.step_secs < 10
                || service.step_secs > 600
                || service.skew_steps > 2
                || !matches!(params.radix, Radix::Ten)
                || canonical::custom_keys(&params))
        {
            return Err(ProfileError::InvalidServiceCodes);
        }
        match Alphabet::new(params.radix, params.keys) {
            // A lock without the feature reads only the built-in keypads.
            Err(AlphabetError::NotBuilt) => return Err(ProfileError::AlphabetNotBuilt),
            Err(e) => return Err(ProfileError::InvalidAlphabet(e)),
            Ok(_) => {}
        }
        if matches!(params.format, FormatVersion::V1) && !params.radix.is_builtin() {
            return Err(ProfileError::NeedsFormatV2 { tag: Tag::Alphabet });
        }
        if matches!(params.format, FormatVersion::V1) {
            let mut t = 0;
            while t < Tag::ALL.len() {
                #[allow(clippy::indexing_slicing, reason = "t < Tag::ALL.len()")]
                let tag = Tag::ALL[t];
                if canonical::field_present(&params, tag) {
                    return Err(ProfileError::NeedsFormatV2 { tag });
                }
                t += 1;
            }
        }

        let pins = match crate::rules::pins_of(&params, domain) {
            Ok(pins) => pins,
            Err(e) => return Err(e),
        };
        let too_small = ProfileError::IndexSpaceTooSmall {
            needed: u64::MAX,
            available: pins,
        };
        let days = params.lifetime_days as u64;
        let hours = days * 24;
        let v = params.variances as u64;
        let per_window = v * (params.lineages as u64 + 1);
        let hourly = match mul(hours, params.hourly_max_hours as u64) {
            Some(x) => match mul(x, per_window) {
                Some(y) => y,
                None => return Err(too_small),
            },
            None => return Err(too_small),
        };
        let daily = match mul(days, params.daily_max_days as u64) {
            Some(x) => match mul(x, per_window) {
                Some(y) => y,
                None => return Err(too_small),
            },
            None => return Err(too_small),
        };
        let one_time = if params.one_time_use_hours == 0 {
            0
        } else {
            hours * v
        };
        let ongoing = params.ongoing_slots as u64;
        let (revoke_slot, revoke_before) = if params.revocation {
            (ongoing, hours)
        } else {
            (0, 0)
        };
        let menu = params.recurring;
        let recurring = if menu.is_enabled() {
            let per_week =
                menu.max_weeks as u64 * menu.days.len() as u64 * menu.hours.len() as u64 * v;
            match mul(days.div_ceil(7), per_week) {
                Some(x) => x,
                None => return Err(too_small),
            }
        } else {
            0
        };
        let clock_set = if clock.is_enabled() {
            days * (1_440 / clock.unit_minutes as u64)
        } else {
            0
        };
        let count: [u64; Kind::COUNT] = [
            hourly,
            daily,
            one_time,
            ongoing,
            revoke_slot,
            revoke_before,
            recurring,
            clock_set,
        ];
        // Running sums; each term is at most u64::MAX / 2 only if the sum
        // does not overflow, which `checked_add` verifies.
        let mut base = [0u64; Kind::COUNT];
        let mut total = 0u64;
        let mut i = 0;
        while i < Kind::COUNT {
            #[allow(
                clippy::indexing_slicing,
                reason = "i < Kind::COUNT, the arrays' length"
            )]
            {
                base[i] = total;
                total = match total.checked_add(count[i]) {
                    Some(t) => t,
                    None => return Err(too_small),
                };
            }
            i += 1;
        }
        if total > pins {
            return Err(ProfileError::IndexSpaceTooSmall {
                needed: total,
                available: pins,
            });
        }
        let canonical = canonical::canonical_of(&params);
        if canonical.overflowed() {
            return Err(ProfileError::CanonicalTooLong);
        }
        Ok(Profile {
            params,
            layout: Layout {
                base,
                total,
                pins,
                radices: Radices {
                    lineages: Reciprocal::new(params.lineages as u64 + 1),
                    variances: Reciprocal::new(v),
                    hourly_lengths: Reciprocal::new(params.hourly_max_hours as u64),
                    daily_lengths: Reciprocal::new(params.daily_max_days as u64),
                },
            },
            tweak: canonical::tweak_of(&canonical),
        })
    }

    /// The parameters this profile was built from.
    pub const fn params(&self) -> ProfileParams {
        self.params
    }

    /// The same profile with the format-v2 feature of `tag` disabled (a
    /// profile without it is returned unchanged): what the feature costs
    /// is the difference of their [`security`](Profile::security) figures.
    /// Its PINs differ (the extension field leaves the tweak).
    ///
    /// # Errors
    ///
    /// [`ProfileError::NoGrantKinds`] if the feature was the only kind.
    ///
    /// ```
    /// use offpin::Tag;
    /// use offpin::profile::shipped::STANDARD_10_V2 as P;
    /// let without = P.without(Tag::Recurring)?;
    /// assert!(without.security().w_max < P.security().w_max);
    /// # Ok::<(), offpin::ProfileError>(())
    /// ```
    pub const fn without(&self, tag: Tag) -> Result<Profile, ProfileError> {
        let mut params = self.params;
        match tag {
            Tag::Recurring => params.recurring = RecurringMenu::NONE,
            Tag::ClockCodes => params.clock_codes = ClockCodes::NONE,
            Tag::ServiceCodes => params.service_codes = ServiceCodes::NONE,
            Tag::CodeRules => params.code_rules = CodeRules::NONE,
            Tag::Alphabet => {}
        }
        Profile::new(params)
    }
    /// The profile's name.
    pub const fn name(&self) -> &'static str {
        self.params.name
    }
    /// The keypad alphabet.
    pub const fn radix(&self) -> Radix {
        self.params.radix
    }

    /// The keypad alphabet: the radix and the key of each numeral, how
    /// PINs are typed and rendered.
    pub const fn alphabet(&self) -> Alphabet {
        canonical::alphabet_of(&self.params)
    }
    /// PIN length in digits.
    pub const fn digits(&self) -> u8 {
        self.params.digits
    }
    /// The format version.
    pub const fn format(&self) -> FormatVersion {
        self.params.format
    }
    /// The epoch (Unix seconds of hour 0 / day 0).
    pub const fn epoch(&self) -> UnixSeconds {
        self.params.epoch
    }
    /// The epoch as a day number: days since 1970-01-01 (the epoch is a
    /// UTC midnight, so local day `d` of the profile is local day
    /// `epoch_day() + d` since 1970).
    pub const fn epoch_day(&self) -> i64 {
        days_of_midnight(self.params.epoch)
    }
    /// `radix^digits`: the numeral strings FF1 permutes. Without code
    /// rules every one is a PIN; with them, [`pin_count`](Self::pin_count)
    /// are.
    pub const fn domain(&self) -> u64 {
        // Checked by `Profile::new`: at most 10^18.
        (self.params.radix.value() as u64).saturating_pow(self.params.digits as u32)
    }
    /// `|S|`: how many PINs exist, the strings of the keypad that keep
    /// the profile's [`code_rules`](Self::code_rules)
    /// ([`domain`](Self::domain) without rules). The per-attempt figure
    /// is `W_max / pin_count`.
    pub const fn pin_count(&self) -> u64 {
        self.layout.pins
    }
    /// The code rules (format v2, tag 5; [`CodeRules::NONE`] without).
    pub const fn code_rules(&self) -> CodeRules {
        self.params.code_rules
    }
    /// The PINs as a ranked set, if the profile has code rules (crate
    /// feature `code-rules`; `None` without rules: every string is a PIN,
    /// its rank its value).
    #[cfg(feature = "code-rules")]
    pub const fn pin_set(&self) -> Option<crate::rules::PinSet> {
        if self.params.code_rules.is_empty() {
            return None;
        }
        Some(crate::rules::PinSet::known(
            self.params.radix,
            self.params.digits,
            self.params.code_rules,
            self.layout.pins,
        ))
    }
    /// `M`: how many grants the profile can express (all below
    /// [`domain`](Self::domain)).
    pub const fn grant_count(&self) -> u64 {
        self.layout.total
    }
    /// Number of indices of one kind (0 if the kind is disabled).
    #[allow(
        clippy::indexing_slicing,
        reason = "Kind::position() < Kind::COUNT, the array's length (i + 1 is checked)"
    )]
    pub const fn kind_count(&self, kind: Kind) -> u64 {
        // The kinds are consecutive ranges: a kind's count is the distance
        // to the next base (to `M` for the last), so only the bases are
        // stored (a profile is copied into every codec: RAM on a lock).
        let i = kind.position();
        let next = if i + 1 < Kind::COUNT {
            self.layout.base[i + 1]
        } else {
            self.layout.total
        };
        next - self.layout.base[i]
    }
    /// First index of one kind.
    #[allow(
        clippy::indexing_slicing,
        reason = "Kind::position() < Kind::COUNT, the array's length"
    )]
    pub(crate) const fn kind_base(&self, kind: Kind) -> u64 {
        self.layout.base[kind.position()]
    }
    /// The radices an index is split by, with their reciprocals.
    pub(crate) const fn radices(&self) -> &Radices {
        &self.layout.radices
    }
    /// Whether the profile has grants of this kind.
    pub const fn has_kind(&self, kind: Kind) -> bool {
        self.kind_count(kind) > 0
    }
    /// Number of hours after the epoch in which windows may start
    /// (`24 · lifetime_days`, exact: [`Profile::new`] bounds the lifetime so
    /// that it fits).
    pub const fn lifetime_hours(&self) -> u32 {
        self.params.lifetime_days.saturating_mul(24)
    }
    /// The Unix time at which hour `hour` after the epoch starts: the one
    /// place where an hour count becomes a time (the checker, the lock and
    /// grant windows use it). Saturates at `i64::MAX` instead of wrapping.
    // Out of line: inlined into its four callers on the lock it costs the
    // Cortex-M0 validator 144 bytes (firmware/run.sh).
    #[inline(never)]
    pub const fn hour_start(&self, hour: u32) -> UnixSeconds {
        crate::time::add_secs(self.params.epoch, hour as i64 * HOUR)
    }
    /// Activation window in seconds.
    pub const fn activation_secs(&self) -> i64 {
        self.params.activation_hours as i64 * 3_600
    }
    /// Number of weeks in which recurring codes may start:
    /// `⌈lifetime_days / 7⌉`.
    pub const fn lifetime_weeks(&self) -> u32 {
        self.params.lifetime_days.div_ceil(7)
    }
    /// The weekday of the epoch's day: `0` Monday ..= `6` Sunday.
    pub const fn epoch_weekday(&self) -> i64 {
        // 1970-01-01 was a Thursday (3 days after a Monday).
        (self.epoch_day() + 3).rem_euclid(7)
    }
    /// The instant clock-setting code `at` names: `epoch + at · unit`
    /// (saturating).
    pub const fn clock_instant(&self, at: u32) -> UnixSeconds {
        self.params
            .epoch
            .saturating_add(at as i64 * self.params.clock_codes.unit_secs())
    }
    /// Clock-skew grace in seconds.
    pub const fn grace_secs(&self) -> i64 {
        self.params.grace_secs as i64
    }
    /// One-time use window in seconds.
    pub const fn one_time_use_secs(&self) -> i64 {
        self.params.one_time_use_hours as i64 * 3_600
    }
    /// The keypad lock-out policy.
    pub const fn lockout(&self) -> LockoutPolicy {
        self.params.lockout
    }
    /// Codes the lock is sized to remember.
    pub const fn lock_memory(&self) -> u16 {
        self.params.lock_memory
    }
    /// The longest entry the lock searches for a PIN (anti-peep entry):
    /// [`digits`](Self::digits) when anti-peep is off (`entry_max_digits`
    /// 0 or `digits`), else `entry_max_digits`.
    pub const fn entry_max_digits(&self) -> u8 {
        if self.params.entry_max_digits > self.params.digits {
            self.params.entry_max_digits
        } else {
            self.params.digits
        }
    }
    /// Whether the lock searches entries longer than a PIN (anti-peep
    /// entry; a lock needs the crate feature `anti-peep`).
    pub const fn has_anti_peep(&self) -> bool {
        self.params.entry_max_digits > self.params.digits
    }
    /// The PINs one entry of the longest searched length tests:
    /// `entry_max_digits − digits + 1` (1 without anti-peep). The
    /// per-attempt figure is multiplied by it
    /// ([`SecurityFigures::positions`](crate::security::SecurityFigures::positions)).
    pub const fn entry_positions(&self) -> u32 {
        (self.entry_max_digits() - self.params.digits) as u32 + 1
    }

    /// The canonical encoding of the format-relevant parameters (see
    /// `docs/FORMAT.md` §2.1): 51 bytes for a v1 profile, the same fields
    /// after the v2 label followed by the extension fields for a v2 one.
    pub const fn canonical_bytes(&self) -> Canonical {
        canonical::canonical_of(&self.params)
    }

    /// The FF1 tweak: the first 8 bytes of SHA-256 of
    /// [`canonical_bytes`](Self::canonical_bytes). Two profiles that differ
    /// in any format parameter give unrelated PINs under the same key.
    ///
    /// Computed by [`Profile::new`] and stored, so this is a copy: for a
    /// `const` profile the hash was computed by the compiler, and code that
    /// only reads the tweak (a lock's `Codec::new`) links no SHA-256.
    ///
    /// ```
    /// use offpin::profile::shipped::STANDARD_10;
    /// const TWEAK: [u8; 8] = STANDARD_10.tweak(); // evaluated at compile time
    /// assert_eq!(TWEAK, STANDARD_10.tweak());
    /// ```
    pub const fn tweak(&self) -> [u8; 8] {
        self.tweak
    }
}

#[cfg(test)]
mod tests {
    use super::shipped::*;
    use super::*;

    #[test]
    fn canonical_bytes_of_v1_are_51_bytes() {
        let p = STANDARD_10;
        let canonical = p.canonical_bytes();
        let bytes = canonical.as_bytes();
        assert_eq!(bytes.len(), 51);
        assert_eq!(&bytes[..18], b"offpin/v1/profile\0");
        assert_eq!(bytes[50], 1, "revocation flag is the last byte");
    }

    /// A v2 profile without extension fields: the v2 label, the same 33
    /// bytes of v1 fields, nothing after; another tweak.
    #[test]
    fn canonical_bytes_of_v2_start_with_the_v1_fields() {
        let v1 = STANDARD_10;
        let v2 = Profile::new(ProfileParams {
            format: FormatVersion::V2,
            ..v1.params()
        })
        .unwrap();
        let (a, b) = (v1.canonical_bytes(), v2.canonical_bytes());
        assert_eq!(&b.as_bytes()[..18], b"offpin/v2/profile\0");
        assert_eq!(a.as_bytes()[18..], b.as_bytes()[18..]);
        assert_ne!(v1.tweak(), v2.tweak());
        assert_eq!(v1.grant_count(), v2.grant_count());
    }

    /// The stored tweak is what SHA-256 (the `sha2` crate) gives for the
    /// canonical bytes, for every shipped profile and for profiles built
    /// at run time from varied parameters.
    #[test]
    fn stored_tweak_is_sha256_of_the_canonical_bytes() {
        use sha2::{Digest, Sha256};
        let check = |p: &Profile| {
            let digest = Sha256::digest(p.canonical_bytes().as_bytes());
            assert_eq!(p.tweak()[..], digest[..8], "{}", p.name());
        };
        ALL.iter().for_each(check);
        let mut built = 0;
        for digits in 8..=12u8 {
            for ongoing_slots in [0u32, 1, 300] {
                for (revocation, format) in [
                    (false, FormatVersion::V1),
                    (true, FormatVersion::V1),
                    (true, FormatVersion::V2),
                ] {
                    let params = ProfileParams {
                        digits,
                        ongoing_slots,
                        revocation,
                        format,
                        epoch: STANDARD_10.epoch() + i64::from(digits) * 86_400,
                        ..STANDARD_10.params()
                    };
                    if let Ok(p) = Profile::new(params) {
                        check(&p);
                        built += 1;
                    }
                }
            }
        }
        assert!(built >= 18, "only {built} profiles were built");
    }

    /// Anti-peep entry is policy, not format: `entry_max_digits` is
    /// bounded by `digits` and `min(2 · digits, 32)`, and leaves the
    /// canonical bytes and the tweak (so every PIN) as they are.
    #[test]
    fn entry_max_digits_is_bounded_and_not_part_of_the_format() {
        for p in ALL {
            let digits = p.digits();
            let max = (2 * digits).min(MAX_ENTRY_DIGITS);
            assert_eq!(p.params().entry_max_digits, 0, "{}: shipped off", p.name());
            assert_eq!(p.entry_positions(), 1);
            for e in [0, digits, digits + 1, max] {
                let q = Profile::new(ProfileParams {
                    entry_max_digits: e,
                    ..p.params()
                })
                .unwrap();
                assert_eq!(
                    q.canonical_bytes().as_bytes(),
                    p.canonical_bytes().as_bytes(),
                    "{}",
                    p.name()
                );
                assert_eq!(q.tweak(), p.tweak());
                assert_eq!(q.has_anti_peep(), e > digits);
                assert_eq!(q.entry_max_digits(), e.max(digits));
                assert_eq!(q.entry_positions(), u32::from(e.max(digits) - digits) + 1);
            }
            for e in [1, digits - 1, max + 1, u8::MAX] {
                let err = Profile::new(ProfileParams {
                    entry_max_digits: e,
                    ..p.params()
                })
                .unwrap_err();
                assert_eq!(
                    err,
                    ProfileError::EntryMaxDigitsOutOfRange {
                        entry_max_digits: e,
                        digits,
                        max,
                    }
                );
                assert_eq!(err.code(), "entry_max_digits_out_of_range");
            }
        }
        // 18 digits: the cap is 32 keys, not 36.
        let long = Profile::new(ProfileParams {
            digits: 18,
            entry_max_digits: 32,
            ..STANDARD_10.params()
        })
        .unwrap();
        assert_eq!(long.entry_positions(), 15);
        assert!(
            Profile::new(ProfileParams {
                entry_max_digits: 33,
                ..long.params()
            })
            .is_err()
        );
    }

    #[test]
    fn tweaks_differ_between_shipped_profiles() {
        let t: std::vec::Vec<_> = ALL.iter().map(|p| p.tweak()).collect();
        for i in 0..t.len() {
            for j in i + 1..t.len() {
                assert_ne!(t[i], t[j]);
            }
        }
    }

    #[test]
    fn too_many_grants_are_refused() {
        let params = ProfileParams {
            digits: 6,
            ..STANDARD_10.params()
        };
        assert!(matches!(
            Profile::new(params),
            Err(ProfileError::IndexSpaceTooSmall { .. })
        ));
    }

    #[test]
    fn each_parameter_is_checked() {
        let base = STANDARD_10.params();
        let cases = [
            (ProfileParams { digits: 5, ..base }, "digits"),
            (ProfileParams { digits: 19, ..base }, "digits"),
            (ProfileParams { epoch: 1, ..base }, "epoch"),
            (
                ProfileParams {
                    lifetime_days: 0,
                    ..base
                },
                "lifetime",
            ),
            (
                ProfileParams {
                    variances: 0,
                    ..base
                },
                "variances",
            ),
            (
                ProfileParams {
                    activation_hours: 0,
                    ..base
                },
                "activation",
            ),
            (
                ProfileParams {
                    grace_secs: 3600,
                    ..base
                },
                "grace",
            ),
            (
                ProfileParams {
                    hourly_max_hours: 0,
                    daily_max_days: 0,
                    one_time_use_hours: 0,
                    ongoing_slots: 0,
                    ..base
                },
                "kinds",
            ),
            (
                ProfileParams {
                    lockout: LockoutPolicy {
                        failures: 0,
                        ..base.lockout
                    },
                    ..base
                },
                "lockout",
            ),
            (
                ProfileParams {
                    lockout: LockoutPolicy {
                        budget: 0,
                        ..base.lockout
                    },
                    ..base
                },
                "budget",
            ),
            (
                ProfileParams {
                    lockout: LockoutPolicy {
                        refill_secs: 0,
                        ..base.lockout
                    },
                    ..base
                },
                "refill",
            ),
        ];
        for (params, what) in cases {
            assert!(Profile::new(params).is_err(), "{what} not checked");
        }
        // Each bound has its own error, and the bound itself is accepted.
        let small = ProfileParams {
            lifetime_days: 10,
            ..COMPACT_8.params()
        };
        let bounds = [
            (
                ProfileParams {
                    epoch: -DAY,
                    ..small
                },
                ProfileParams { epoch: 0, ..small },
                ProfileError::EpochOutOfRange,
            ),
            (
                ProfileParams {
                    epoch: MAX_EPOCH + DAY,
                    ..small
                },
                ProfileParams {
                    epoch: MAX_EPOCH,
                    ..small
                },
                ProfileError::EpochOutOfRange,
            ),
            (
                ProfileParams {
                    epoch: MAX_EPOCH + 1,
                    ..small
                },
                ProfileParams {
                    epoch: MAX_EPOCH - DAY,
                    ..small
                },
                ProfileError::EpochOutOfRange,
            ),
            (
                ProfileParams {
                    lifetime_days: MAX_LIFETIME_DAYS + 1,
                    hourly_max_hours: 0,
                    one_time_use_hours: 0,
                    revocation: false,
                    digits: 18,
                    ..small
                },
                ProfileParams {
                    lifetime_days: MAX_LIFETIME_DAYS,
                    hourly_max_hours: 0,
                    one_time_use_hours: 0,
                    revocation: false,
                    digits: 18,
                    ..small
                },
                ProfileError::LifetimeTooLong,
            ),
            (
                ProfileParams {
                    hourly_max_hours: MAX_DURATION_HOURS + 1,
                    digits: 18,
                    ..small
                },
                ProfileParams {
                    hourly_max_hours: MAX_DURATION_HOURS,
                    digits: 18,
                    ..small
                },
                ProfileError::HourlyWindowTooLong,
            ),
            (
                ProfileParams {
                    daily_max_days: MAX_LIFETIME_DAYS + 1,
                    digits: 18,
                    ..small
                },
                ProfileParams {
                    daily_max_days: MAX_LIFETIME_DAYS,
                    digits: 18,
                    ..small
                },
                ProfileError::DailyWindowTooLong,
            ),
            (
                ProfileParams {
                    one_time_use_hours: MAX_DURATION_HOURS + 1,
                    ..small
                },
                ProfileParams {
                    one_time_use_hours: MAX_DURATION_HOURS,
                    ..small
                },
                ProfileError::OneTimeUseTooLong,
            ),
            (
                ProfileParams {
                    activation_hours: MAX_DURATION_HOURS + 1,
                    ..small
                },
                ProfileParams {
                    activation_hours: MAX_DURATION_HOURS,
                    ..small
                },
                ProfileError::ActivationTooLong,
            ),
        ];
        for (refused, accepted, error) in bounds {
            assert_eq!(Profile::new(refused), Err(error));
            assert!(Profile::new(accepted).is_ok(), "{error}");
        }
        let radix9_6 = ProfileParams {
            radix: Radix::Nine,
            keys: Keys::STANDARD,
            digits: 6,
            ..base
        };
        assert!(matches!(
            Profile::new(radix9_6),
            Err(ProfileError::DigitsOutOfRange {
                radix: 9,
                digits: 6
            })
        ));
    }

    #[test]
    fn lockout_doubles_up_to_its_cap() {
        let l = LockoutPolicy {
            failures: 5,
            base_secs: 60,
            cap_secs: 300,
            budget: 10,
            refill_secs: 3_600,
        };
        assert_eq!(l.duration_after_batch(0), 60);
        assert_eq!(l.duration_after_batch(1), 120);
        assert_eq!(l.duration_after_batch(2), 240);
        assert_eq!(l.duration_after_batch(3), 300);
        assert_eq!(l.duration_after_batch(40), 300);
    }
}
