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
mod error;
mod layout;
mod params;
mod sha256;
pub mod shipped;
#[cfg(test)]
mod tests;
mod validate;

pub use canonical::{CANONICAL_CAPACITY, Canonical, FormatVersion, Tag};
pub use error::ProfileError;
pub use params::{
    ClockCodes, INSTANT_BOUND, LockoutPolicy, MAX_CLOCK_STEP_HOURS, MAX_DURATION_HOURS,
    MAX_ENTRY_DIGITS, MAX_EPOCH, MAX_LIFETIME_DAYS, ProfileParams, ServiceCodes,
};

use core::fmt;

pub use crate::alphabet::{Alphabet, AlphabetError, Keys};
pub use crate::ff1::Radix;
pub use crate::recurring::RecurringMenu;
pub use crate::rules::CodeRules;
use crate::time::{DAY, HOUR, UnixSeconds};
use layout::{Layout, Radices};

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
        let domain = match validate::validate(&params) {
            Ok(domain) => domain,
            Err(e) => return Err(e),
        };
        let pins = match crate::rules::pins_of(&params, domain) {
            Ok(pins) => pins,
            Err(e) => return Err(e),
        };
        let layout = match Layout::of(&params, pins) {
            Ok(layout) => layout,
            Err(e) => return Err(e),
        };
        let canonical = canonical::canonical_of(&params);
        if canonical.overflowed() {
            return Err(ProfileError::CanonicalTooLong);
        }
        Ok(Profile {
            params,
            layout,
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
