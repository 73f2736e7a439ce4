//! Keypad alphabets: the radix of a profile's numerals and the key a
//! person presses for each of them.
//!
//! A PIN is an FF1 numeral of `digits` digits in the profile's radix (2 to
//! 10); the keypad shows keys, not numerals. [`Keys`] is the profile's
//! mapping, numeral by numeral; [`Alphabet`] is a radix with its keys,
//! what reading and rendering a PIN need.
//!
//! - **Standard keys** ([`Keys::STANDARD`]): `0`–`9` for radix 10, and
//!   `1`, `2`, … for every other radix (`1`–`9` on a nine-key keypad
//!   without `0`, `1`–`7` on TTLock's keypads). Radix 10 and 9 with
//!   their standard keys are what every lock build reads.
//! - **Any other alphabet** (another radix, or keys in another order or
//!   another set: a keypad whose `0` is missing and whose numerals are
//!   `2`–`9`, say) is format v2 (tag 4 when the keys are not standard,
//!   `docs/FORMAT.md` §2.3.4) and needs the crate feature `alphabets` on
//!   the lock; the issuer (`std`) always has it.
//!
//! The per-attempt figure is `W_max / radix^digits`: a keypad with fewer
//! keys needs more digits for the same figure (`Profile::security`).
//!
//! ```
//! # #[cfg(feature = "alphabets")] {
//! use offpin::{Alphabet, Keys, Pin, Radix};
//!
//! // TTLock's keypads: keys 1 to 7.
//! let ttlock = Alphabet::standard(Radix::Seven);
//! assert_eq!(ttlock.keys(), b"1234567");
//! let pin = Pin::from_value(7u64.pow(8) - 1, ttlock, 8)?;
//! assert_eq!(pin.as_str(), "77777777");
//! assert_eq!(pin.value(ttlock)?, 7u64.pow(8) - 1);
//!
//! // A nine-key pad that reads its keys in another order.
//! let keys = Keys::new(b"987654321");
//! let nine = Alphabet::new(Radix::Nine, keys)?;
//! assert_eq!(Pin::from_value(0, nine, 7)?.as_str(), "9999999");
//! # }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use core::fmt;

use crate::ff1::Radix;

/// The keys of a profile's keypad, numeral by numeral: `keys[v]` is
/// pressed for numeral `v`. A profile parameter (format v2, tag 4, when
/// not [`STANDARD`](Keys::STANDARD)); [`Alphabet::new`] checks it against
/// the radix.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Keys {
    keys: [u8; 10],
    /// Keys given; 0 for the standard keys, 11 for more than ten.
    len: u8,
}

impl Keys {
    /// The radix's standard keys: `0`–`9` for radix 10, `1`… for the
    /// others.
    pub const STANDARD: Keys = Keys {
        keys: [0; 10],
        len: 0,
    };

    /// The keys `keys` (ASCII), numeral 0 first. Not checked here:
    /// [`Alphabet::new`] (and so `Profile::new`) refuses a count that is
    /// not the radix, a key that is not a digit and a key given twice.
    pub const fn new(keys: &[u8]) -> Keys {
        let mut out = [0u8; 10];
        let mut i = 0;
        while i < keys.len() && i < 10 {
            #[allow(clippy::indexing_slicing, reason = "i < 10 and i < keys.len()")]
            {
                out[i] = keys[i];
            }
            i += 1;
        }
        #[allow(clippy::cast_possible_truncation, reason = "at most 11")]
        let len = if keys.len() > 10 {
            11
        } else {
            keys.len() as u8
        };
        Keys { keys: out, len }
    }

    /// Whether these are the radix's standard keys.
    pub const fn is_standard(&self) -> bool {
        self.len == 0
    }

    /// The keys given (empty for the standard keys).
    pub fn as_bytes(&self) -> &[u8] {
        self.keys.get(..usize::from(self.len)).unwrap_or(&self.keys)
    }
}

impl fmt::Debug for Keys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_standard() {
            return f.write_str("Keys::STANDARD");
        }
        let text = core::str::from_utf8(self.as_bytes()).unwrap_or("?");
        write!(f, "Keys({text:?})")
    }
}

/// Why a radix and keys make no keypad alphabet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum AlphabetError {
    /// Not one key per numeral.
    WrongKeyCount {
        /// The radix: keys needed.
        radix: u32,
        /// Keys given.
        found: usize,
    },
    /// A key is not an ASCII digit `0`–`9`.
    NotADigitKey {
        /// 0-based numeral of the key.
        numeral: usize,
    },
    /// A key stands for two numerals.
    DuplicateKey {
        /// The key (ASCII).
        key: u8,
    },
    /// Keys other than the radix's standard ones, on a build without the
    /// crate feature `alphabets` (which reads only the standard ten-key
    /// and nine-key keypads).
    NotBuilt,
}

impl fmt::Display for AlphabetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AlphabetError::WrongKeyCount { radix, found } => write!(
                f,
                "a radix-{radix} keypad needs {radix} keys, one per numeral; {found} were given"
            ),
            AlphabetError::NotADigitKey { numeral } => {
                write!(f, "the key of numeral {numeral} is not a digit 0-9")
            }
            AlphabetError::DuplicateKey { key } => {
                write!(f, "the key {} stands for two numerals", char::from(*key))
            }
            AlphabetError::NotBuilt => {
                f.write_str("keys other than the standard ones need the crate feature `alphabets`")
            }
        }
    }
}

impl core::error::Error for AlphabetError {}

/// A radix and the key of each of its numerals: how a PIN is typed.
///
/// `From<Radix>` gives the radix's standard keys, so [`Pin`](crate::Pin)'s
/// functions take a [`Radix`] where the keys are standard.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Alphabet {
    radix: Radix,
    /// The key of numeral `v` at `v`; unused entries 0.
    keys: [u8; 10],
}

impl Alphabet {
    /// The radix with its standard keys ([`Keys::STANDARD`]).
    pub const fn standard(radix: Radix) -> Alphabet {
        let first = if matches!(radix, Radix::Ten) {
            b'0'
        } else {
            b'1'
        };
        let mut keys = [0u8; 10];
        let mut v = 0;
        while v < radix.value() as usize {
            #[allow(
                clippy::indexing_slicing,
                clippy::cast_possible_truncation,
                reason = "v < radix <= 10"
            )]
            {
                keys[v] = first + v as u8;
            }
            v += 1;
        }
        Alphabet { radix, keys }
    }

    /// The radix with `keys` (the standard ones for [`Keys::STANDARD`]).
    ///
    /// # Errors
    ///
    /// [`AlphabetError::WrongKeyCount`] unless there is one key per
    /// numeral, [`AlphabetError::NotADigitKey`] for a key that is not
    /// `0`–`9`, [`AlphabetError::DuplicateKey`] for a key given twice,
    /// [`AlphabetError::NotBuilt`] for keys other than the standard ones
    /// without the crate feature `alphabets`.
    pub const fn new(radix: Radix, keys: Keys) -> Result<Alphabet, AlphabetError> {
        if keys.is_standard() {
            return Ok(Alphabet::standard(radix));
        }
        let r = radix.value() as usize;
        if keys.len as usize != r {
            return Err(AlphabetError::WrongKeyCount {
                radix: radix.value(),
                found: keys.len as usize,
            });
        }
        let mut seen = 0u16;
        let mut v = 0;
        while v < r {
            #[allow(clippy::indexing_slicing, reason = "v < r <= 10")]
            let key = keys.keys[v];
            if !key.is_ascii_digit() {
                return Err(AlphabetError::NotADigitKey { numeral: v });
            }
            let bit = 1u16 << (key - b'0');
            if seen & bit != 0 {
                return Err(AlphabetError::DuplicateKey { key });
            }
            seen |= bit;
            v += 1;
        }
        let a = Alphabet {
            radix,
            keys: keys.keys,
        };
        // Without the feature, every alphabet is a standard one: the
        // built-in readers need not check.
        if cfg!(not(feature = "alphabets")) && !a.same_as(&Alphabet::standard(radix)) {
            return Err(AlphabetError::NotBuilt);
        }
        Ok(a)
    }

    /// The radix.
    pub const fn radix(&self) -> Radix {
        self.radix
    }

    /// The keys, numeral 0 first (`radix` of them).
    pub fn keys(&self) -> &[u8] {
        let r = self.radix.value() as usize;
        self.keys.get(..r).unwrap_or(&self.keys)
    }

    /// Whether every lock build reads this alphabet: radix 10 or 9 with
    /// the standard keys. Others need the crate feature `alphabets`.
    pub const fn is_builtin(&self) -> bool {
        self.radix.is_builtin() && self.same_as(&Alphabet::standard(self.radix))
    }

    /// Whether `other` is the same alphabet (`const` equality).
    pub(crate) const fn same_as(&self, other: &Alphabet) -> bool {
        if self.radix.value() != other.radix.value() {
            return false;
        }
        let mut i = 0;
        while i < 10 {
            #[allow(clippy::indexing_slicing, reason = "i < 10")]
            if self.keys[i] != other.keys[i] {
                return false;
            }
            i += 1;
        }
        true
    }

    /// The key of numeral `v` in `const` code (`v < 10`; 0 otherwise).
    pub(crate) const fn key_at(&self, v: usize) -> u8 {
        if v < 10 {
            #[allow(clippy::indexing_slicing, reason = "v < 10")]
            return self.keys[v];
        }
        0
    }

    /// The key of numeral `v` (`v < radix`; 0 otherwise).
    #[cfg(feature = "alphabets")]
    pub(crate) fn key(&self, v: u8) -> u8 {
        self.keys.get(usize::from(v)).copied().unwrap_or(0)
    }

    /// The numeral of `key`, if the keypad has it. Constant time in the
    /// key: every key is compared, without an early exit.
    #[cfg(feature = "alphabets")]
    pub(crate) fn numeral(&self, key: u8) -> Option<u8> {
        let mut found = 0u8;
        let mut hit = 0u8;
        for (v, &k) in (0u8..).zip(self.keys()) {
            // 0xFF exactly when k == key.
            let eq = u8::from(k == key).wrapping_neg();
            found |= eq & v;
            hit |= eq;
        }
        (hit != 0).then_some(found)
    }
}

impl From<Radix> for Alphabet {
    fn from(radix: Radix) -> Alphabet {
        Alphabet::standard(radix)
    }
}

#[cfg(all(test, feature = "alphabets"))]
mod tests {
    use super::*;

    #[test]
    fn standard_keys() {
        assert_eq!(Alphabet::standard(Radix::Ten).keys(), b"0123456789");
        assert_eq!(Alphabet::standard(Radix::Nine).keys(), b"123456789");
        assert_eq!(Alphabet::standard(Radix::Two).keys(), b"12");
        for radix in Radix::ALL {
            let a = Alphabet::standard(radix);
            assert_eq!(Alphabet::new(radix, Keys::STANDARD), Ok(a));
            assert_eq!(a.is_builtin(), radix.is_builtin());
            for (v, &k) in (0u8..).zip(a.keys()) {
                assert_eq!(a.numeral(k), Some(v));
                assert_eq!(a.key(v), k);
            }
        }
    }

    #[test]
    fn keys_are_checked() {
        let seven = Radix::Seven;
        assert_eq!(
            Alphabet::new(seven, Keys::new(b"123456")),
            Err(AlphabetError::WrongKeyCount { radix: 7, found: 6 })
        );
        assert_eq!(
            Alphabet::new(seven, Keys::new(b"12345#7")),
            Err(AlphabetError::NotADigitKey { numeral: 5 })
        );
        assert_eq!(
            Alphabet::new(seven, Keys::new(b"1234565")),
            Err(AlphabetError::DuplicateKey { key: b'5' })
        );
        assert_eq!(
            Alphabet::new(Radix::Ten, Keys::new(b"01234567890")),
            Err(AlphabetError::WrongKeyCount {
                radix: 10,
                found: 11
            })
        );
        let a = Alphabet::new(seven, Keys::new(b"2345678")).unwrap();
        assert!(!a.is_builtin());
        assert_eq!(a.numeral(b'1'), None);
        assert_eq!(a.numeral(b'8'), Some(6));
        // The standard keys given explicitly are the standard alphabet.
        let ten = Alphabet::new(Radix::Ten, Keys::new(b"0123456789")).unwrap();
        assert!(ten.is_builtin());
    }
}
