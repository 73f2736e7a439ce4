//! The profiles that ship with offpin.
//!
//! | profile | alphabet | digits | hourly | daily | one-time | ongoing | variances | lineages | activation |
//! |---|---|---|---|---|---|---|---|---|---|
//! | [`STANDARD_10`] | 0-9 | 10 | ≤ 28 d | ≤ 366 d | 24 h | 100 | 3 | – | 24 h |
//! | [`COMPACT_8`] | 0-9 | 8 | ≤ 7 d | ≤ 31 d | 24 h | 20 | 1 | – | 12 h |
//! | [`SECURE_12`] | 0-9 | 12 | ≤ 28 d | ≤ 366 d | 24 h | 1000 | 8 | 4 | 12 h |
//! | [`KEYPAD9_11`] | 1-9 | 11 | ≤ 28 d | ≤ 366 d | 24 h | 100 | 3 | – | 24 h |
//! | [`STANDARD_10_V2`] | 0-9 | 10 | ≤ 28 d | ≤ 366 d | 24 h | 100 | 3 | – | 24 h |
//!
//! [`STANDARD_10_V2`] is format v2: [`STANDARD_10`] plus weekly recurring
//! codes (5 weekday masks × 6 hour ranges, up to 13 weeks), clock-setting
//! codes (10-minute instants, steps up to 7 days) and rolling service codes
//! (RFC 6238, 8 digits, 30 s, ±1 step).
//!
//! All share the epoch 2024-01-01T00:00:00Z and a 10-minute clock grace.
//!
//! | profile | back-off | guess budget | attempts / day ≤ | attempts / year ≤ |
//! |---|---|---|---|---|
//! | [`STANDARD_10`], [`SECURE_12`], [`KEYPAD9_11`] | 5 wrong: 5 min, doubling to 1 day | 10, one back per hour | 34 | 8 770 |
//! | [`COMPACT_8`] | 3 wrong: 15 min, doubling to 1 day | 6, one back every 2 hours | 18 | 4 386 |
//! Their security figures are computed by [`crate::security`] and listed
//! in the README.

use super::{
    ClockCodes, CodeRules, FormatVersion, Keys, LockoutPolicy, Profile, ProfileParams, Radix,
    RecurringMenu, ServiceCodes,
};
use crate::recurring::{Hours, Weekdays};

/// 2024-01-01T00:00:00Z, the epoch of every shipped profile.
pub const EPOCH_2024: i64 = 1_704_067_200;

const fn build(params: ProfileParams) -> Profile {
    match Profile::new(params) {
        Ok(p) => p,
        Err(e) => e.panic_const(),
    }
}

/// The default: 10 digits with igloohome's feature set (hourly windows up
/// to 28 days, daily windows up to a year, one-time codes, three variances,
/// 24-hour activation), 100 ongoing slots and revocation codes, for 100
/// years from 2024.
pub const STANDARD_10: Profile = build(ProfileParams {
    name: "standard-10",
    format: FormatVersion::V1,
    radix: Radix::Ten,
    keys: Keys::STANDARD,
    digits: 10,
    epoch: EPOCH_2024,
    lifetime_days: 36_525,
    variances: 3,
    lineages: 0,
    hourly_max_hours: 28 * 24,
    daily_max_days: 366,
    one_time_use_hours: 24,
    ongoing_slots: 100,
    revocation: true,
    activation_hours: 24,
    grace_secs: 600,
    lock_memory: 64,
    lockout: LockoutPolicy {
        failures: 5,
        base_secs: 300,
        cap_secs: 86_400,
        budget: 10,
        refill_secs: 3_600,
    },
    entry_max_digits: 0,
    recurring: RecurringMenu::NONE,
    clock_codes: ClockCodes::NONE,
    service_codes: ServiceCodes::NONE,
    code_rules: CodeRules::NONE,
});

/// 8 digits for short stays: hourly windows up to a week, daily windows up
/// to a month, one variance, a 12-hour activation window and a stricter
/// lock-out (3 failures), 20 years from 2024.
pub const COMPACT_8: Profile = build(ProfileParams {
    name: "compact-8",
    format: FormatVersion::V1,
    radix: Radix::Ten,
    keys: Keys::STANDARD,
    digits: 8,
    epoch: EPOCH_2024,
    lifetime_days: 7_305,
    variances: 1,
    lineages: 0,
    hourly_max_hours: 7 * 24,
    daily_max_days: 31,
    one_time_use_hours: 24,
    ongoing_slots: 20,
    revocation: true,
    activation_hours: 12,
    grace_secs: 600,
    lock_memory: 32,
    lockout: LockoutPolicy {
        failures: 3,
        base_secs: 900,
        cap_secs: 86_400,
        budget: 6,
        refill_secs: 7_200,
    },
    entry_max_digits: 0,
    recurring: RecurringMenu::NONE,
    clock_codes: ClockCodes::NONE,
    service_codes: ServiceCodes::NONE,
    code_rules: CodeRules::NONE,
});

/// 12 digits for high-value doors: eight variances, four supersede
/// lineages (rooms whose next guest revokes the previous one), a 12-hour
/// activation window and 1000 ongoing slots.
pub const SECURE_12: Profile = build(ProfileParams {
    name: "secure-12",
    format: FormatVersion::V1,
    radix: Radix::Ten,
    keys: Keys::STANDARD,
    digits: 12,
    epoch: EPOCH_2024,
    lifetime_days: 36_525,
    variances: 8,
    lineages: 4,
    hourly_max_hours: 28 * 24,
    daily_max_days: 366,
    one_time_use_hours: 24,
    ongoing_slots: 1_000,
    revocation: true,
    activation_hours: 12,
    grace_secs: 600,
    lock_memory: 128,
    lockout: LockoutPolicy {
        failures: 5,
        base_secs: 300,
        cap_secs: 86_400,
        budget: 10,
        refill_secs: 3_600,
    },
    entry_max_digits: 0,
    recurring: RecurringMenu::NONE,
    clock_codes: ClockCodes::NONE,
    service_codes: ServiceCodes::NONE,
    code_rules: CodeRules::NONE,
});

/// The default feature set for keypads without a `0` key: digits `1`-`9`,
/// 11 of them (9^11 ≈ 3.1·10^10 PINs).
pub const KEYPAD9_11: Profile = build(ProfileParams {
    name: "keypad9-11",
    radix: Radix::Nine,
    keys: Keys::STANDARD,
    digits: 11,
    ..STANDARD_10.params()
});

/// The default profile of format v2: [`STANDARD_10`]'s PIN length, windows
/// and lock-out, plus
///
/// - weekly recurring codes: weekdays, weekends, every day, Mon/Wed/Fri or
///   Tue/Thu, from 08-12, 12-16, 16-20, 09-17, 08-18 or all day, for 1 to 13
///   weeks (a quarter);
/// - clock-setting codes: an instant on a 10-minute grid, moving the
///   lock's clock forward by at most 7 days;
/// - rolling service codes: RFC 6238, 8 digits, 30-second steps, ±1 step.
///
/// Its PINs are not [`STANDARD_10`]'s (another tweak).
pub const STANDARD_10_V2: Profile = build(ProfileParams {
    name: "standard-10-v2",
    format: FormatVersion::V2,
    recurring: STANDARD_MENU,
    clock_codes: ClockCodes {
        unit_minutes: 10,
        max_step_hours: 7 * 24,
    },
    service_codes: ServiceCodes {
        digits: 8,
        step_secs: 30,
        skew_steps: 1,
    },
    ..STANDARD_10.params()
});

/// The recurring menu of [`STANDARD_10_V2`].
pub const STANDARD_MENU: RecurringMenu = RecurringMenu {
    days: &[
        Weekdays::WEEKDAYS,
        Weekdays::WEEKENDS,
        Weekdays::EVERY_DAY,
        Weekdays::MON_WED_FRI,
        Weekdays::TUE_THU,
    ],
    hours: &[
        Hours::new(8, 12),
        Hours::new(12, 16),
        Hours::new(16, 20),
        Hours::new(9, 17),
        Hours::new(8, 18),
        Hours::new(0, 24),
    ],
    max_weeks: 13,
};

/// The shipped profiles of format v1 (offpin 0.1's, unchanged: their
/// vectors are `tests/vectors/{profiles,issue,decode}.json`).
pub const V1: [Profile; 4] = [STANDARD_10, COMPACT_8, SECURE_12, KEYPAD9_11];

/// The shipped profiles of format v2 (vectors:
/// `tests/vectors/v2/*.json`).
pub const V2: [Profile; 1] = [STANDARD_10_V2];

/// Every shipped profile.
pub const ALL: [Profile; 5] = [
    STANDARD_10,
    COMPACT_8,
    SECURE_12,
    KEYPAD9_11,
    STANDARD_10_V2,
];

/// Looks a shipped profile up by its name.
///
/// # Examples
///
/// ```
/// let p = offpin::profile::shipped::by_name("compact-8");
/// assert_eq!(p.map(|p| p.digits()), Some(8));
/// ```
pub fn by_name(name: &str) -> Option<Profile> {
    ALL.iter().copied().find(|p| p.name() == name)
}
