//! [`ProfileError`]: why [`Profile::new`](super::Profile::new) refused a
//! set of parameters.

use core::fmt;

use super::params::{
    MAX_CLOCK_STEP_HOURS, MAX_DURATION_HOURS, MAX_ENTRY_DIGITS, MAX_EPOCH, MAX_LIFETIME_DAYS,
};
use super::{AlphabetError, CANONICAL_CAPACITY, Tag};

/// Why [`Profile::new`](super::Profile::new) refused a set of parameters.
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
            ProfileError::EntryMaxDigitsOutOfRange {
                entry_max_digits,
                digits,
                max,
            } => write!(
                f,
                "entry_max_digits is {entry_max_digits} but must be 0 (anti-peep off) or from the PIN length {digits} to {max} (twice the PIN length, at most {MAX_ENTRY_DIGITS})"
            ),
            ProfileError::InvalidRecurringMenu
            | ProfileError::InvalidClockCodes
            | ProfileError::InvalidServiceCodes
            | ProfileError::InvalidAlphabet(_)
            | ProfileError::AlphabetNotBuilt
            | ProfileError::NeedsFormatV2 { .. }
            | ProfileError::CanonicalTooLong
            | ProfileError::InvalidCodeRules
            | ProfileError::CodeRulesNeedStandardKeys
            | ProfileError::CodeRulesTooStrict { .. }
            | ProfileError::CodeRulesNotBuilt
            | ProfileError::IndexSpaceTooSmall { .. } => self.fmt_feature(f),
        }
    }
}

impl ProfileError {
    /// The message of an error about the keypad, a format-v2 feature, the
    /// encoding or the index space ([`Display`](fmt::Display) writes the
    /// parameters' bounds itself).
    fn fmt_feature(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
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
            // A parameter's bound: `Display::fmt` never hands one here.
            _ => f.write_str(self.code()),
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
