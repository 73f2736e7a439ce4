//! The checks of [`Profile::new`](super::Profile::new): every parameter
//! against its bound, in the order the errors are documented (the first
//! parameter out of range names the error). All `const`, so a bad `const`
//! profile does not compile.

use super::params::{
    MAX_CLOCK_STEP_HOURS, MAX_DURATION_HOURS, MAX_ENTRY_DIGITS, MAX_EPOCH, MAX_LIFETIME_DAYS,
};
use super::{
    Alphabet, AlphabetError, FormatVersion, ProfileError, ProfileParams, Radix, Tag, canonical,
};
use crate::time::DAY;

/// Checks every parameter of `params` but the index space, and returns
/// `radix^digits`.
pub(super) const fn validate(params: &ProfileParams) -> Result<u64, ProfileError> {
    let domain = match domain_of(params) {
        Ok(d) => d,
        Err(e) => return Err(e),
    };
    if let Err(e) = check_calendar(params) {
        return Err(e);
    }
    if let Err(e) = check_kinds(params) {
        return Err(e);
    }
    if let Err(e) = check_lock_policy(params) {
        return Err(e);
    }
    if let Err(e) = check_extensions(params) {
        return Err(e);
    }
    if let Err(e) = check_keypad_and_format(params) {
        return Err(e);
    }
    Ok(domain)
}

/// `radix^digits`, if FF1 accepts it: from `10^6` to the radix's longest
/// numeral.
const fn domain_of(params: &ProfileParams) -> Result<u64, ProfileError> {
    let radix = params.radix.value() as u64;
    let digits = params.digits;
    match radix.checked_pow(digits as u32) {
        Some(d) if digits <= params.radix.max_len() && d >= 1_000_000 => Ok(d),
        _ => Err(ProfileError::DigitsOutOfRange {
            radix: params.radix.value(),
            digits,
        }),
    }
}

/// The epoch (a UTC midnight in `0..=MAX_EPOCH`) and the lifetime.
const fn check_calendar(params: &ProfileParams) -> Result<(), ProfileError> {
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
    Ok(())
}

/// The ranges of the time-bound kinds, the variances, and at least one
/// kind that opens the lock.
const fn check_kinds(params: &ProfileParams) -> Result<(), ProfileError> {
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
    Ok(())
}

/// What the lock applies and the format leaves out: the activation
/// window, the grace, the lock-out policy and the anti-peep bound.
const fn check_lock_policy(params: &ProfileParams) -> Result<(), ProfileError> {
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
    let digits = params.digits;
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
    Ok(())
}

/// The format-v2 features: the recurring menu, the clock-setting codes
/// and the service codes.
const fn check_extensions(params: &ProfileParams) -> Result<(), ProfileError> {
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
            || canonical::custom_keys(params))
    {
        return Err(ProfileError::InvalidServiceCodes);
    }
    Ok(())
}

/// The keypad alphabet (and whether this build reads it), and no
/// format-v2 feature on a format-v1 profile.
const fn check_keypad_and_format(params: &ProfileParams) -> Result<(), ProfileError> {
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
            if canonical::field_present(params, tag) {
                return Err(ProfileError::NeedsFormatV2 { tag });
            }
            t += 1;
        }
    }
    Ok(())
}
