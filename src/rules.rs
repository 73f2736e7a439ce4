//! Code rules: the constraints a hosted lock API lists for a device's codes
//! (`code_constraints`), and the PINs that keep them.
//!
//! The API names six constraints ([`CodeConstraint`]). Three exclude
//! digits, and are keypad alphabets, not rules: `no_zeros` is a nine-key
//! keypad (radix 9, keys `1`–`9`), `cannot_contain_089` the keys `1`–`7`
//! (radix 7) and `cannot_contain_0789` the keys `1`–`6` (radix 6); every
//! PIN of such a profile keeps them by construction. `cannot_specify_pin_code`
//! holds for every profile: offline PINs are derived, never chosen.
//! [`Profile::code_constraints`] lists the constraints a profile's PINs
//! keep, for a device's description.
//!
//! The other two are **code rules** ([`CodeRules`], format v2, tag 5,
//! `docs/FORMAT.md` §2.3.5), which remove strings from the keypad's
//! `radix^digits`:
//!
//! - `cannot_start_with_12`: the first two keys are not `1`, `2`;
//! - `no_triple_consecutive_ints`: no three keys in a row are equal
//!   (`d d d`), ascend by one (`d, d+1, d+2`) or descend by one
//!   (`d, d−1, d−2`), compared as typed key digits: a PIN keeps every
//!   reading of the rule.
//!
//! With rules, the PINs are the set `S` of the `digits`-key strings that
//! keep them. [`PinSet`] ranks and unranks `S` in lexicographic order
//! with a small automaton (counts of the valid completions of each length
//! from each state, computed one row at a time: under 500 bytes of
//! stack, no table). A grant's index `i < |S|` becomes `y = FF1(i)`,
//! encrypted again while `y >= |S|` (cycle walking, at most
//! [`MAX_WALK_STEPS`] evaluations), and its PIN is the element of rank `y`.
//! The lock refuses a typed string outside `S` before any AES, ranks it,
//! and walks `FF1⁻¹` back. Both are bijections, so no two grants share a
//! PIN; the per-attempt figure is `W(now) / |S|`
//! ([`Profile::pin_count`]).
//!
//! A lock checks rules with the crate feature `code-rules` (in `std`);
//! without it [`Profile::new`] refuses a profile that has them
//! ([`ProfileError::CodeRulesNotBuilt`])
//! and none of this module's automaton is compiled.
//!
//! ```
//! # #[cfg(feature = "code-rules")] {
//! use offpin::{CodeRules, FormatVersion, Profile, ProfileParams};
//! use offpin::profile::shipped::STANDARD_10;
//!
//! let p = Profile::new(ProfileParams {
//!     name: "standard-10-rules",
//!     format: FormatVersion::V2,
//!     code_rules: CodeRules::ALL,
//!     ..STANDARD_10.params()
//! })?;
//! assert!(p.pin_count() < p.domain());
//! let names: Vec<&str> = p.code_constraints().map(|c| c.as_str()).collect();
//! assert_eq!(
//!     names,
//!     ["cannot_start_with_12", "no_triple_consecutive_ints", "cannot_specify_pin_code"]
//! );
//! # }
//! # Ok::<(), offpin::ProfileError>(())
//! ```

use core::fmt;

use crate::alphabet::Alphabet;
use crate::profile::{Profile, ProfileError, ProfileParams};

/// The most FF1 evaluations one PIN of a profile with code rules takes:
/// the issuer refuses an index whose walk needs more
/// ([`GrantError::WalkTooLong`](crate::GrantError::WalkTooLong)), the lock
/// refuses a typed PIN whose walk back needs more (it names no grant). A
/// profile's rules keep at least half the strings
/// ([`ProfileError::CodeRulesTooStrict`]), so under a random permutation
/// an index needs more with probability at most `2^-64`.
pub const MAX_WALK_STEPS: u32 = 64;

/// The code rules of a profile (format v2, tag 5): a set of
/// [`CANNOT_START_WITH_12`](Self::CANNOT_START_WITH_12) and
/// [`NO_TRIPLE_CONSECUTIVE_INTS`](Self::NO_TRIPLE_CONSECUTIVE_INTS), the
/// field's value byte. [`NONE`](Self::NONE) (no field) leaves every string
/// of the keypad a PIN.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct CodeRules(u8);

impl CodeRules {
    /// No rules: every string of the keypad is a PIN.
    pub const NONE: CodeRules = CodeRules(0);
    /// Bit 0: the first two keys are not `1`, `2`.
    pub const CANNOT_START_WITH_12: CodeRules = CodeRules(1);
    /// Bit 1: no three keys in a row equal, ascending by one or
    /// descending by one.
    pub const NO_TRIPLE_CONSECUTIVE_INTS: CodeRules = CodeRules(2);
    /// Both rules.
    pub const ALL: CodeRules = CodeRules(3);

    /// The rules of the value byte `bits`; bits other than 0 and 1 are
    /// kept, and [`Profile::new`] refuses them
    /// ([`ProfileError::InvalidCodeRules`]).
    pub const fn from_bits(bits: u8) -> CodeRules {
        CodeRules(bits)
    }

    /// The value byte of the field.
    pub const fn bits(self) -> u8 {
        self.0
    }

    /// Both sets of rules.
    pub const fn union(self, other: CodeRules) -> CodeRules {
        CodeRules(self.0 | other.0)
    }

    /// Whether every rule of `other` is in this set.
    pub const fn contains(self, other: CodeRules) -> bool {
        self.0 & other.0 == other.0
    }

    /// Whether there is no rule (the profile has no tag-5 field).
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// Whether only the defined bits (0 and 1) are set.
    pub const fn is_valid(self) -> bool {
        self.0 & !CodeRules::ALL.0 == 0
    }
}

/// A constraint of the hosted lock API's `code_constraints`
/// (`{constraint_type}`), by its API string ([`as_str`](Self::as_str)).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CodeConstraint {
    /// `no_zeros`: no key `0` (a nine-key keypad, or fewer keys).
    NoZeros,
    /// `cannot_start_with_12`: the first two keys are not `1`, `2`.
    CannotStartWith12,
    /// `no_triple_consecutive_ints`: no three keys in a row equal,
    /// ascending by one or descending by one.
    NoTripleConsecutiveInts,
    /// `cannot_specify_pin_code`: the PIN is derived, not chosen (every
    /// offline PIN).
    CannotSpecifyPinCode,
    /// `cannot_contain_089`: no key `0`, `8` or `9` (keys `1`–`7` at most).
    CannotContain089,
    /// `cannot_contain_0789`: no key `0`, `7`, `8` or `9` (keys `1`–`6` at
    /// most).
    CannotContain0789,
}

impl CodeConstraint {
    /// Every constraint, in the API's order.
    pub const ALL: [CodeConstraint; 6] = [
        CodeConstraint::NoZeros,
        CodeConstraint::CannotStartWith12,
        CodeConstraint::NoTripleConsecutiveInts,
        CodeConstraint::CannotSpecifyPinCode,
        CodeConstraint::CannotContain089,
        CodeConstraint::CannotContain0789,
    ];

    /// The API's `constraint_type` string (`no_zeros`, ...).
    pub const fn as_str(self) -> &'static str {
        match self {
            CodeConstraint::NoZeros => "no_zeros",
            CodeConstraint::CannotStartWith12 => "cannot_start_with_12",
            CodeConstraint::NoTripleConsecutiveInts => "no_triple_consecutive_ints",
            CodeConstraint::CannotSpecifyPinCode => "cannot_specify_pin_code",
            CodeConstraint::CannotContain089 => "cannot_contain_089",
            CodeConstraint::CannotContain0789 => "cannot_contain_0789",
        }
    }

    /// The constraint of an API string, if it is one of the six.
    pub fn parse(s: &str) -> Option<CodeConstraint> {
        CodeConstraint::ALL.into_iter().find(|c| c.as_str() == s)
    }

    /// The keys a PIN keeping this constraint never has, as a bit set
    /// (bit `d` for the key `d`); 0 for the rules and
    /// `cannot_specify_pin_code`.
    const fn excluded_keys(self) -> u16 {
        match self {
            CodeConstraint::NoZeros => 1,
            CodeConstraint::CannotContain089 => 1 | 1 << 8 | 1 << 9,
            CodeConstraint::CannotContain0789 => 1 | 1 << 7 | 1 << 8 | 1 << 9,
            _ => 0,
        }
    }

    /// Its bit in the position of [`CodeConstraint::ALL`].
    const fn bit(self) -> u8 {
        match self {
            CodeConstraint::NoZeros => 1,
            CodeConstraint::CannotStartWith12 => 1 << 1,
            CodeConstraint::NoTripleConsecutiveInts => 1 << 2,
            CodeConstraint::CannotSpecifyPinCode => 1 << 3,
            CodeConstraint::CannotContain089 => 1 << 4,
            CodeConstraint::CannotContain0789 => 1 << 5,
        }
    }
}

impl fmt::Display for CodeConstraint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The constraints a profile's PINs keep, in [`CodeConstraint::ALL`]'s
/// order ([`Profile::code_constraints`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct CodeConstraints {
    /// The constraints not yet returned, by [`CodeConstraint::bit`].
    left: u8,
}

impl CodeConstraints {
    /// Whether `c` is among them (returned or not).
    pub const fn contains(&self, c: CodeConstraint) -> bool {
        self.left & c.bit() != 0
    }
}

impl Iterator for CodeConstraints {
    type Item = CodeConstraint;

    fn next(&mut self) -> Option<CodeConstraint> {
        let next = CodeConstraint::ALL
            .into_iter()
            .find(|c| self.left & c.bit() != 0)?;
        self.left &= !next.bit();
        Some(next)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = self.left.count_ones() as usize;
        (n, Some(n))
    }
}

impl ExactSizeIterator for CodeConstraints {}

impl Profile {
    /// The hosted lock API's `code_constraints` this profile's PINs keep:
    /// `no_zeros`, `cannot_contain_089` and `cannot_contain_0789` when its
    /// keypad lacks those keys, its [`code_rules`](Self::code_rules), and
    /// always `cannot_specify_pin_code` (PINs are derived). What a
    /// device's description (`/devices/get`) lists.
    ///
    /// ```
    /// use offpin::CodeConstraint;
    /// use offpin::profile::shipped::{KEYPAD9_11, STANDARD_10};
    /// let ten: Vec<_> = STANDARD_10.code_constraints().collect();
    /// assert_eq!(ten, [CodeConstraint::CannotSpecifyPinCode]);
    /// assert!(KEYPAD9_11.code_constraints().contains(CodeConstraint::NoZeros));
    /// ```
    pub fn code_constraints(&self) -> CodeConstraints {
        let keys = self
            .alphabet()
            .keys()
            .iter()
            .fold(0u16, |set, k| set | 1u16 << (k.wrapping_sub(b'0') & 15));
        let rules = self.code_rules();
        let mut left = CodeConstraint::CannotSpecifyPinCode.bit();
        for c in CodeConstraint::ALL {
            let excluded = c.excluded_keys();
            if excluded != 0 && keys & excluded == 0 {
                left |= c.bit();
            }
        }
        if rules.contains(CodeRules::CANNOT_START_WITH_12) {
            left |= CodeConstraint::CannotStartWith12.bit();
        }
        if rules.contains(CodeRules::NO_TRIPLE_CONSECUTIVE_INTS) {
            left |= CodeConstraint::NoTripleConsecutiveInts.bit();
        }
        CodeConstraints { left }
    }
}

/// `|S|` of a profile's parameters (checked by [`Profile::new`]):
/// `domain` (`radix^digits`) without rules, else the strings that keep
/// them.
///
/// # Errors
///
/// [`ProfileError::InvalidCodeRules`] for undefined bits or rules with
/// service codes (RFC 6238 codes cannot keep them),
/// [`ProfileError::CodeRulesNeedStandardKeys`] for keys other than the
/// radix's standard ones, [`ProfileError::CodeRulesTooStrict`] when fewer
/// than half the strings keep them,
/// [`ProfileError::CodeRulesNotBuilt`] without the crate feature
/// `code-rules`.
pub(crate) const fn pins_of(p: &ProfileParams, domain: u64) -> Result<u64, ProfileError> {
    let rules = p.code_rules;
    if rules.is_empty() {
        return Ok(domain);
    }
    if !rules.is_valid() || p.service_codes.is_enabled() {
        return Err(ProfileError::InvalidCodeRules);
    }
    let standard = match Alphabet::new(p.radix, p.keys) {
        Ok(a) => a.same_as(&Alphabet::standard(p.radix)),
        Err(_) => false,
    };
    if !standard {
        return Err(ProfileError::CodeRulesNeedStandardKeys);
    }
    #[cfg(feature = "code-rules")]
    {
        let pins = match PinSet::new(p.radix, p.digits, rules) {
            Some(set) => set.len(),
            None => 0,
        };
        if pins < domain.div_ceil(2) {
            return Err(ProfileError::CodeRulesTooStrict { pins, domain });
        }
        Ok(pins)
    }
    #[cfg(not(feature = "code-rules"))]
    {
        Err(ProfileError::CodeRulesNotBuilt)
    }
}

#[cfg(feature = "code-rules")]
mod automaton;
#[cfg(feature = "code-rules")]
pub use automaton::PinSet;
#[cfg(feature = "code-rules")]
pub(crate) use automaton::walk;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::FormatVersion;
    use crate::profile::shipped::{KEYPAD9_11, STANDARD_10};

    /// A lock built without the feature refuses a profile with rules (as
    /// a build error for a `const` one); with it, the profile has
    /// `|S|` PINs.
    #[test]
    fn a_profile_with_rules_needs_the_feature() {
        let params = ProfileParams {
            format: FormatVersion::V2,
            code_rules: CodeRules::ALL,
            ..STANDARD_10.params()
        };
        let p = Profile::new(params);
        #[cfg(feature = "code-rules")]
        {
            let p = p.unwrap();
            assert_eq!(p.pin_count(), 8_122_855_720);
            assert_eq!(p.security().domain, p.pin_count());
        }
        #[cfg(not(feature = "code-rules"))]
        {
            assert_eq!(p, Err(ProfileError::CodeRulesNotBuilt));
            assert_eq!(
                ProfileError::CodeRulesNotBuilt.code(),
                "code_rules_not_built"
            );
        }
        // Without rules nothing changes, with the feature or without.
        assert_eq!(STANDARD_10.pin_count(), STANDARD_10.domain());
        assert_eq!(STANDARD_10.code_rules(), CodeRules::NONE);
    }

    #[test]
    fn rules_and_constraints() {
        assert!(CodeRules::ALL.contains(CodeRules::CANNOT_START_WITH_12));
        assert!(!CodeRules::NO_TRIPLE_CONSECUTIVE_INTS.contains(CodeRules::ALL));
        assert_eq!(
            CodeRules::CANNOT_START_WITH_12.union(CodeRules::NO_TRIPLE_CONSECUTIVE_INTS),
            CodeRules::ALL
        );
        assert!(!CodeRules::from_bits(0x80).is_valid());
        assert!(CodeRules::NONE.is_empty() && CodeRules::NONE.is_valid());
        let mut c = KEYPAD9_11.code_constraints();
        assert_eq!(c.len(), 2);
        assert_eq!(c.next(), Some(CodeConstraint::NoZeros));
        assert_eq!(c.next(), Some(CodeConstraint::CannotSpecifyPinCode));
        assert_eq!(c.next(), None);
    }
}
