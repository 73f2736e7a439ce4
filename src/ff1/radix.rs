//! [`Radix`]: the alphabet size of the numerals.

#[cfg(feature = "alphabets")]
use super::MAX_LEN;

/// The alphabet size of the numerals: 2 to 10 keys.
///
/// Radix 10 and 9 are the keypads every lock build reads (ten keys, or
/// nine without `0`); the others (a keypad with the keys 1–7, say) exist
/// only with the crate feature `alphabets` (the issuer, `std`, always has
/// it), so a lock without it compiles exactly the ten-key and nine-key
/// code. FF1 itself works for every radix here.
///
/// ```
/// use offpin::Radix;
/// assert_eq!(Radix::Ten.value(), 10);
/// assert_eq!(Radix::Nine.min_len(), 7); // 9^6 = 531441 < 10^6
/// # #[cfg(feature = "alphabets")] {
/// assert_eq!(Radix::Seven.min_len(), 8); // 7^8 = 5764801
/// assert_eq!(Radix::Two.min_len(), 20);
/// # }
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Radix {
    /// Decimal digits, values 0-9 (a ten-key keypad).
    Ten,
    /// Nine digit values 0-8 (a nine-key keypad without `0`).
    Nine,
    /// Eight values (keys 1–8 by default).
    #[cfg(feature = "alphabets")]
    Eight,
    /// Seven values (keys 1–7 by default, TTLock's keypads).
    #[cfg(feature = "alphabets")]
    Seven,
    /// Six values.
    #[cfg(feature = "alphabets")]
    Six,
    /// Five values.
    #[cfg(feature = "alphabets")]
    Five,
    /// Four values.
    #[cfg(feature = "alphabets")]
    Four,
    /// Three values.
    #[cfg(feature = "alphabets")]
    Three,
    /// Two values.
    #[cfg(feature = "alphabets")]
    Two,
}

impl Radix {
    /// Every radix of this build, from 10 down (to 2 with the feature
    /// `alphabets`, to 9 without).
    #[cfg(feature = "alphabets")]
    pub const ALL: [Radix; 9] = [
        Radix::Ten,
        Radix::Nine,
        Radix::Eight,
        Radix::Seven,
        Radix::Six,
        Radix::Five,
        Radix::Four,
        Radix::Three,
        Radix::Two,
    ];

    /// Every radix of this build, from 10 down (to 2 with the feature
    /// `alphabets`, to 9 without).
    #[cfg(not(feature = "alphabets"))]
    pub const ALL: [Radix; 2] = [Radix::Ten, Radix::Nine];

    /// The radix as an integer, 2 to 10.
    pub const fn value(self) -> u32 {
        match self {
            Radix::Ten => 10,
            Radix::Nine => 9,
            #[cfg(feature = "alphabets")]
            Radix::Eight => 8,
            #[cfg(feature = "alphabets")]
            Radix::Seven => 7,
            #[cfg(feature = "alphabets")]
            Radix::Six => 6,
            #[cfg(feature = "alphabets")]
            Radix::Five => 5,
            #[cfg(feature = "alphabets")]
            Radix::Four => 4,
            #[cfg(feature = "alphabets")]
            Radix::Three => 3,
            #[cfg(feature = "alphabets")]
            Radix::Two => 2,
        }
    }

    /// Whether every lock build reads this radix (10 or 9): the others
    /// need the crate feature `alphabets`.
    pub const fn is_builtin(self) -> bool {
        matches!(self, Radix::Ten | Radix::Nine)
    }

    /// The shortest numeral FF1 allows for this radix: the least `n` with
    /// `radix^n >= 10^6` (6 for radix 10, 7 for radix 9, 20 for radix 2).
    pub const fn min_len(self) -> u8 {
        match self {
            Radix::Ten => 6,
            Radix::Nine => 7,
            #[cfg(feature = "alphabets")]
            Radix::Eight => 7,
            #[cfg(feature = "alphabets")]
            Radix::Seven | Radix::Six => 8,
            #[cfg(feature = "alphabets")]
            Radix::Five => 9,
            #[cfg(feature = "alphabets")]
            Radix::Four => 10,
            #[cfg(feature = "alphabets")]
            Radix::Three => 13,
            #[cfg(feature = "alphabets")]
            Radix::Two => 20,
        }
    }

    /// The longest numeral supported: the greatest `n <= MAX_LEN` with
    /// `radix^n <= 10^18` (18 for radix 10 and 9, 19 for radix 8, 20
    /// below).
    pub const fn max_len(self) -> u8 {
        match self {
            Radix::Ten | Radix::Nine => 18,
            #[cfg(feature = "alphabets")]
            Radix::Eight => 19,
            #[cfg(feature = "alphabets")]
            _ => MAX_LEN,
        }
    }

    /// `radix^k` (exact for `k <= max_len`, wrapping beyond).
    pub(super) const fn pow(self, k: u8) -> u64 {
        (self.value() as u64).wrapping_pow(k as u32)
    }
}
