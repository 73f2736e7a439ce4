//! [`Ff1Error`]: why an FF1 context could not be built or a numeral
//! could not be processed.

use core::fmt;

#[cfg(doc)]
use super::{MAX_TWEAK_LEN, Radix};

/// Why an FF1 context could not be built or a numeral could not be
/// processed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Ff1Error {
    /// `radix^len < 10^6`: SP 800-38G forbids domains this small.
    LengthTooShort {
        /// The radix asked for.
        radix: u32,
        /// The length asked for.
        len: u8,
        /// The shortest length allowed for this radix.
        min: u8,
    },
    /// The length exceeds the radix's [`Radix::max_len`].
    LengthTooLong {
        /// The length asked for.
        len: u8,
        /// The longest length supported.
        max: u8,
    },
    /// The tweak exceeds [`MAX_TWEAK_LEN`].
    TweakTooLong {
        /// The tweak's length in bytes.
        len: usize,
        /// The longest tweak accepted.
        max: usize,
    },
    /// The key's length does not fit the block cipher.
    KeyLength {
        /// The cipher's key length in bytes.
        expected: usize,
        /// The key's length in bytes.
        got: usize,
    },
    /// The numeral's value is not below `radix^len`.
    NumeralOutOfRange,
    /// A digit value is not below the radix.
    DigitOutOfRange {
        /// The radix.
        radix: u32,
    },
    /// The digit slice's length is not the context's numeral length.
    WrongDigitCount {
        /// The context's numeral length.
        expected: u8,
        /// The slice's length.
        got: usize,
    },
}

impl fmt::Display for Ff1Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Ff1Error::LengthTooShort { radix, len, min } => write!(
                f,
                "FF1 needs radix^len >= 1000000: radix {radix} needs at least {min} digits, not {len}"
            ),
            Ff1Error::LengthTooLong { len, max } => {
                write!(f, "numerals of {len} digits are too long (at most {max})")
            }
            Ff1Error::TweakTooLong { len, max } => {
                write!(f, "the tweak has {len} bytes (at most {max})")
            }
            Ff1Error::KeyLength { expected, got } => {
                write!(f, "the key has {got} bytes but the cipher takes {expected}")
            }
            Ff1Error::NumeralOutOfRange => f.write_str("the numeral is not below radix^len"),
            Ff1Error::DigitOutOfRange { radix } => {
                write!(f, "a digit value is not below the radix {radix}")
            }
            Ff1Error::WrongDigitCount { expected, got } => {
                write!(f, "expected {expected} digits, got {got}")
            }
        }
    }
}

impl core::error::Error for Ff1Error {}
