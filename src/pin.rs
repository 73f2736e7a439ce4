//! [`Pin`]: the digits a person types, in a fixed-capacity buffer.
//!
//! Radix 10 PINs use the keys `0`-`9` for the digit values 0-9. Radix 9
//! PINs, for keypads without a `0` key, use the keys `1`-`9` for the digit
//! values 0-8. Other alphabets ([`Alphabet`], crate feature `alphabets`)
//! map their numerals to their own keys. The first digit is the most
//! significant.

use core::fmt;
use core::hash::{Hash, Hasher};

use ctutils::CtEq;
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::alphabet::Alphabet;
#[cfg(doc)]
use crate::ff1::Radix;
use crate::rules::CodeConstraint;

/// Most digits a PIN can have: 18 for radix 10 and 9, 20 for the smaller
/// radixes ([`Radix::max_len`]).
pub const MAX_DIGITS: usize = crate::ff1::MAX_LEN as usize;

/// Why typed input is not a PIN of the profile.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum PinError {
    /// Nothing was typed.
    Empty,
    /// The input has the wrong number of digits.
    WrongLength {
        /// Digits the profile's PINs have.
        expected: u8,
        /// Characters given.
        found: usize,
    },
    /// A character is not a digit key of the keypad.
    NotADigit {
        /// 0-based position of the character.
        position: usize,
    },
    /// A `0` on a radix-9 profile, whose keypads have no `0` key.
    ZeroOnNineKeyPad {
        /// 0-based position of the `0`.
        position: usize,
    },
    /// A digit key the profile's keypad alphabet does not have (a `9` on
    /// a keypad with the keys 1–7, say).
    NotOnKeypad {
        /// 0-based position of the key.
        position: usize,
    },
    /// The keys break one of the profile's code rules
    /// ([`CodeRules`](crate::CodeRules)): no PIN is such a string.
    BreaksCodeRule {
        /// 0-based position of the key that breaks it: the `2` of a
        /// start `1 2`, the third key of a triple.
        position: usize,
        /// The rule.
        constraint: CodeConstraint,
    },

    /// The numeric value does not fit `digits` digits (rendering only).
    ValueOutOfRange,
}

impl PinError {
    /// A stable snake_case code (`empty`, `wrong_length`, `not_a_digit`,
    /// `zero_on_nine_key_pad`, `not_on_keypad`, `breaks_code_rule`,
    /// `value_out_of_range`); the `Display` text is informative English.
    pub const fn code(&self) -> &'static str {
        match self {
            PinError::Empty => "empty",
            PinError::WrongLength { .. } => "wrong_length",
            PinError::NotADigit { .. } => "not_a_digit",
            PinError::ZeroOnNineKeyPad { .. } => "zero_on_nine_key_pad",
            PinError::NotOnKeypad { .. } => "not_on_keypad",
            PinError::BreaksCodeRule { .. } => "breaks_code_rule",
            PinError::ValueOutOfRange => "value_out_of_range",
        }
    }
}

impl fmt::Display for PinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PinError::Empty => f.write_str("no digits were entered"),
            PinError::WrongLength { expected, found } => {
                write!(f, "a PIN has {expected} digits, {found} were entered")
            }
            PinError::NotADigit { position } => {
                write!(f, "character {} is not a digit", position + 1)
            }
            PinError::ZeroOnNineKeyPad { position } => write!(
                f,
                "character {} is a 0, which this profile's keypads do not have",
                position + 1
            ),
            PinError::NotOnKeypad { position } => write!(
                f,
                "character {} is a key this profile's keypads do not have",
                position + 1
            ),
            PinError::BreaksCodeRule {
                position,
                constraint,
            } => write!(
                f,
                "character {} breaks the keypad's code rule {constraint}",
                position + 1
            ),
            PinError::ValueOutOfRange => f.write_str("value does not fit the PIN length"),
        }
    }
}

impl core::error::Error for PinError {}

/// Checks typed keypad input for a profile with `alphabet` and `digits`
/// and returns its numeral value: the validation of [`Pin::parse`] (whose
/// errors it returns, first one first), fused with [`Pin::value`]. The
/// lock's hot path uses it directly, so the digits are never copied into a
/// buffer that would have to be zeroized.
pub(crate) fn typed_value(input: &[u8], alphabet: &Alphabet, digits: u8) -> Result<u64, PinError> {
    if input.is_empty() {
        return Err(PinError::Empty);
    }
    if input.len() != usize::from(digits) || input.len() > MAX_DIGITS {
        return Err(PinError::WrongLength {
            expected: digits,
            found: input.len(),
        });
    }
    numeral_value(input, alphabet)
}

/// The value of `input` (length checked) on a ten-key or nine-key keypad
/// with its standard keys: without the feature `alphabets` every
/// [`Alphabet`] is one ([`Alphabet::new`] refuses the others).
#[cfg(not(feature = "alphabets"))]
fn numeral_value(input: &[u8], alphabet: &Alphabet) -> Result<u64, PinError> {
    let nine = matches!(alphabet.radix(), crate::ff1::Radix::Nine);
    let (zero, base) = if nine { (b'1', 9) } else { (b'0', 10) };
    let mut value = 0u64;
    for (position, &c) in input.iter().enumerate() {
        if !c.is_ascii_digit() {
            return Err(PinError::NotADigit { position });
        }
        if c == b'0' && nine {
            return Err(PinError::ZeroOnNineKeyPad { position });
        }
        // At most 18 digits below the base: no overflow (10^18 < 2^64).
        value = value * base + u64::from(c - zero);
    }
    Ok(value)
}

/// The value of `input` (length checked) on any keypad alphabet: each key
/// looked up among the alphabet's keys (constant time in the key).
#[cfg(feature = "alphabets")]
fn numeral_value(input: &[u8], alphabet: &Alphabet) -> Result<u64, PinError> {
    let base = u64::from(alphabet.radix().value());
    let mut value = 0u64;
    for (position, &c) in input.iter().enumerate() {
        if !c.is_ascii_digit() {
            return Err(PinError::NotADigit { position });
        }
        let Some(v) = alphabet.numeral(c) else {
            // Only a refused key asks which keypad it was typed on.
            let nine = *alphabet == Alphabet::standard(crate::ff1::Radix::Nine);
            return Err(if c == b'0' && nine {
                PinError::ZeroOnNineKeyPad { position }
            } else {
                PinError::NotOnKeypad { position }
            });
        };
        // radix^digits <= 10^18: no overflow.
        value = value * base + u64::from(v);
    }
    Ok(value)
}

/// Writes the last `out.len()` digits of `value` in `alphabet` into `out`
/// (most significant first) and returns what is left of `value` (0 when
/// it fit). Radix 10 and 9 divide by literal constants.
#[cfg(not(feature = "alphabets"))]
fn render(mut value: u64, alphabet: &Alphabet, out: &mut [u8]) -> u64 {
    let nine = matches!(alphabet.radix(), crate::ff1::Radix::Nine);
    for dst in out.iter_mut().rev() {
        let (q, r) = if nine {
            (value / 9, value % 9)
        } else {
            (value / 10, value % 10)
        };
        #[allow(clippy::cast_possible_truncation, reason = "r < 10")]
        let r = r as u8;
        *dst = if nine { b'1' + r } else { b'0' + r };
        value = q;
    }
    value
}

/// Writes the last `out.len()` digits of `value` in `alphabet` into `out`
/// (most significant first) and returns what is left of `value` (0 when
/// it fit), with the constant-time divider.
#[cfg(feature = "alphabets")]
fn render(mut value: u64, alphabet: &Alphabet, out: &mut [u8]) -> u64 {
    let radix = crate::divisor::Divisor::new(u64::from(alphabet.radix().value()));
    for dst in out.iter_mut().rev() {
        let (q, r) = radix.div_rem(value);
        // r < radix <= 10: its low byte is the numeral.
        let [low, ..] = r.to_le_bytes();
        *dst = alphabet.key(low);
        value = q;
    }
    value
}

/// A PIN: `1..=`[`MAX_DIGITS`] ASCII digits, stored inline (no heap).
///
/// `Display` and [`as_str`](Pin::as_str) show the digits; `Debug` shows only
/// the length, so PINs do not end up in logs by accident. The buffer is
/// zeroized on drop. Equality is constant time in the digits (the length
/// is public): `==` compares every byte with `ctutils`, without an early
/// exit.
///
/// A `Pin` holds keys, not numerals: the same keys mean different numerals
/// on a ten-key and a nine-key keypad, so [`Pin::value`] and
/// [`Codec::decode`](crate::Codec::decode) read it for a radix and refuse
/// a key that radix does not have.
#[derive(Clone)]
pub struct Pin {
    buf: [u8; MAX_DIGITS],
    len: u8,
}

impl Pin {
    /// Parses typed input for a profile with `alphabet` (a [`Radix`] for
    /// its standard keys) and `digits`.
    ///
    /// Not constant time: it stops at the first key that is not a digit of
    /// the keypad (see `SECURITY.md`).
    ///
    /// # Errors
    ///
    /// [`PinError::Empty`], [`PinError::WrongLength`],
    /// [`PinError::NotADigit`], [`PinError::ZeroOnNineKeyPad`] or
    /// [`PinError::NotOnKeypad`].
    ///
    /// # Examples
    ///
    /// ```
    /// use offpin::{Pin, PinError, Radix};
    /// assert_eq!(Pin::parse(b"123456", Radix::Ten, 6)?.value(Radix::Ten), Ok(123_456));
    /// assert_eq!(Pin::parse(b"1234506", Radix::Nine, 7), Err(PinError::ZeroOnNineKeyPad { position: 5 }));
    /// # Ok::<(), PinError>(())
    /// ```
    pub fn parse(input: &[u8], alphabet: impl Into<Alphabet>, digits: u8) -> Result<Pin, PinError> {
        typed_value(input, &alphabet.into(), digits)?;
        let mut buf = [0u8; MAX_DIGITS];
        for (dst, src) in buf.iter_mut().zip(input) {
            *dst = *src;
        }
        Ok(Pin { buf, len: digits })
    }

    /// Renders the numeral `value` (`< radix^digits`) as a PIN on
    /// `alphabet`'s keys.
    ///
    /// Divisions are by the literal constants 9 or 10 (compilers turn
    /// them into multiplications) or, for the other radixes, by the
    /// crate's constant-time divider: the time does not depend on
    /// `value`.
    ///
    /// # Errors
    ///
    /// [`PinError::ValueOutOfRange`] when `value >= radix^digits`,
    /// [`PinError::WrongLength`] when `digits` is 0 or above
    /// [`MAX_DIGITS`].
    pub fn from_value(
        value: u64,
        alphabet: impl Into<Alphabet>,
        digits: u8,
    ) -> Result<Pin, PinError> {
        let alphabet = alphabet.into();
        let n = usize::from(digits);
        if n == 0 || n > MAX_DIGITS {
            return Err(PinError::WrongLength {
                expected: digits,
                found: n,
            });
        }
        let mut buf = [0u8; MAX_DIGITS];
        let rest = render(value, &alphabet, buf.get_mut(..n).unwrap_or(&mut []));
        if rest != 0 {
            return Err(PinError::ValueOutOfRange);
        }
        Ok(Pin { buf, len: digits })
    }

    /// The numeral's value: the keys read as a base-`radix` number, by
    /// the same rules as [`Pin::parse`].
    ///
    /// # Errors
    ///
    /// [`PinError::ZeroOnNineKeyPad`] when the PIN has a `0` and
    /// `alphabet` is [`Radix::Nine`] (a PIN parsed or rendered for radix
    /// 10 read on a nine-key keypad): the key has no numeral there, and
    /// reading it as one would alias another PIN; likewise
    /// [`PinError::NotOnKeypad`] for a key another alphabet lacks.
    ///
    /// ```
    /// use offpin::{Pin, PinError, Radix};
    /// let pin = Pin::parse(b"1000000", Radix::Ten, 7)?;
    /// assert_eq!(pin.value(Radix::Ten), Ok(1_000_000));
    /// assert_eq!(pin.value(Radix::Nine), Err(PinError::ZeroOnNineKeyPad { position: 1 }));
    /// # Ok::<(), PinError>(())
    /// ```
    pub fn value(&self, alphabet: impl Into<Alphabet>) -> Result<u64, PinError> {
        typed_value(self.as_bytes(), &alphabet.into(), self.len)
    }

    /// The digits as ASCII bytes.
    pub fn as_bytes(&self) -> &[u8] {
        self.buf.get(..usize::from(self.len)).unwrap_or(&[])
    }

    /// The digits as a string slice.
    pub fn as_str(&self) -> &str {
        core::str::from_utf8(self.as_bytes()).unwrap_or("")
    }

    /// Number of digits.
    pub const fn len(&self) -> usize {
        self.len as usize
    }

    /// Whether the PIN has no digits (never true for a parsed PIN).
    pub const fn is_empty(&self) -> bool {
        self.len == 0
    }
}

impl Drop for Pin {
    fn drop(&mut self) {
        self.buf.zeroize();
    }
}
impl ZeroizeOnDrop for Pin {}

impl PartialEq for Pin {
    /// Constant time in the digits: every byte of both buffers is compared
    /// (the bytes after the length are zero in every `Pin`).
    fn eq(&self, other: &Self) -> bool {
        (self.len.ct_eq(&other.len) & self.buf.ct_eq(&other.buf)).to_bool()
    }
}
impl Eq for Pin {}

impl Hash for Pin {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_bytes().hash(state);
    }
}

impl fmt::Display for Pin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for Pin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Pin({} digits, ..)", self.len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ff1::Radix;
    use proptest::prelude::*;

    #[test]
    fn bad_input_is_an_error() {
        assert_eq!(Pin::parse(b"", Radix::Ten, 6), Err(PinError::Empty));
        assert_eq!(
            Pin::parse(b"12345", Radix::Ten, 6),
            Err(PinError::WrongLength {
                expected: 6,
                found: 5
            })
        );
        assert_eq!(
            Pin::parse(b"12a456", Radix::Ten, 6),
            Err(PinError::NotADigit { position: 2 })
        );
        assert_eq!(
            Pin::parse(b"123456789012345678901", Radix::Ten, 21),
            Err(PinError::WrongLength {
                expected: 21,
                found: 21
            })
        );
        assert!(Pin::from_value(1_000_000, Radix::Ten, 6).is_err());
    }

    #[test]
    fn bytes_next_to_the_digits_are_not_digits() {
        for (c, nine) in [
            (b'/', false),
            (b':', false),
            (0xFF, false),
            (0, true),
            (b':', true),
        ] {
            let radix = if nine { Radix::Nine } else { Radix::Ten };
            let mut input = [b'5'; 10];
            input[7] = c;
            assert_eq!(
                Pin::parse(&input, radix, 10),
                Err(PinError::NotADigit { position: 7 })
            );
            assert_eq!(
                typed_value(&input, &radix.into(), 10),
                Err(PinError::NotADigit { position: 7 })
            );
        }
        assert_eq!(
            typed_value(b"1000000", &Radix::Ten.into(), 7),
            Ok(1_000_000)
        );
        assert_eq!(
            typed_value(b"2111111", &Radix::Nine.into(), 7),
            Ok(9u64.pow(6))
        );
    }

    #[test]
    fn debug_hides_digits() {
        let pin = Pin::parse(b"987654", Radix::Ten, 6).unwrap();
        assert_eq!(std::format!("{pin:?}"), "Pin(6 digits, ..)");
        assert_eq!(std::format!("{pin}"), "987654");
    }

    proptest! {
        #[test]
        fn render_then_parse_round_trips(
            radix in proptest::sample::select(Radix::ALL.to_vec()),
            extra in 0u8..=13,
            seed in any::<u64>(),
        ) {
            let digits = (radix.min_len() + extra).min(radix.max_len());
            let domain = u64::from(radix.value()).pow(u32::from(digits));
            let value = seed % domain;
            let pin = Pin::from_value(value, radix, digits).unwrap();
            prop_assert_eq!(pin.len(), usize::from(digits));
            let parsed = Pin::parse(pin.as_bytes(), radix, digits).unwrap();
            prop_assert_eq!(parsed.value(radix), Ok(value));
            prop_assert_eq!(&parsed, &pin);
        }
    }
}
