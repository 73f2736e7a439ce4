//! FF1 format-preserving encryption (NIST SP 800-38G, Algorithms 7 and 8)
//! over AES, for numerals of radix 2 to 10 (6 to 20 digits; the domain
//! `radix^n` between `10^6` and `10^18`).
//!
//! A PIN of `n` digits is the FF1 encryption of an index `x < radix^n`. This
//! module works on the integer value of a numeral string: a numeral
//! `X = x_1 .. x_n` (with `x_1` the most significant) is the integer
//! `NUM_radix(X)`, held in a `u64` (`radix^n <= 10^18 < 2^63`). It is integer-only,
//! allocation-free and `no_std`, and its arithmetic on secret values is
//! constant time (see `docs/ff1-side-channels.md`).
//!
//! Everything that does not depend on the numeral is precomputed by
//! [`Ff1::new`]: the block `P`, the CBC-MAC state after `P` and after every
//! block of `Q` that holds only tweak and padding bytes. Each Feistel round
//! then costs exactly one AES block encryption (ten per FF1 evaluation),
//! whatever the tweak's length.
//!
//! ```
//! use offpin::ff1::{Ff1Aes128, Radix};
//!
//! // NIST SP 800-38G FF1 sample 1.
//! let key = [
//!     0x2B, 0x7E, 0x15, 0x16, 0x28, 0xAE, 0xD2, 0xA6,
//!     0xAB, 0xF7, 0x15, 0x88, 0x09, 0xCF, 0x4F, 0x3C,
//! ];
//! let ff1 = Ff1Aes128::new(&key, Radix::Ten, 10, b"")?;
//! assert_eq!(ff1.encrypt(123_456_789)?, 2_433_477_484);
//! assert_eq!(ff1.decrypt(2_433_477_484)?, 123_456_789);
//! # Ok::<(), offpin::Ff1Error>(())
//! ```

use core::fmt;

use aes::cipher::{
    Array, BlockCipherEncBackend, BlockCipherEncClosure, BlockCipherEncrypt, BlockSizeUser,
    KeyInit, consts::U16, typenum::Unsigned,
};
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::divisor::Divisor;

/// The smallest domain FF1 allows: SP 800-38G requires `radix^minlen >= 10^6`.
pub const MIN_DOMAIN: u64 = 1_000_000;

/// The longest numeral supported, in digits, by any radix: values stay
/// below `10^18 < 2^63`, so radix 10 and 9 allow 18 digits, radix 8
/// allows 19 and radixes 2 to 7 allow 20 ([`Radix::max_len`]).
pub const MAX_LEN: u8 = 20;

/// The longest tweak accepted by [`Ff1::new`], in bytes. The tweak is
/// absorbed once, at construction, so its length costs nothing per
/// encryption; the bound only sizes a stack buffer.
pub const MAX_TWEAK_LEN: usize = 64;

/// How many independent numerals [`Ff1::encrypt_batch`] and
/// [`Ff1::decrypt_batch`] interleave: each Feistel round issues this many
/// AES blocks at once, which the `aes` crate pipelines. (On CPUs whose
/// `aes` backend encrypts many blocks per instruction, VAES, batches are
/// interleaved 64 at a time first.)
pub const BATCH_LANES: usize = 8;

/// Lanes per interleaved group on backends with wide parallel encryption
/// (VAES): the VAES-512 backend's 64 parallel blocks.
const WIDE_LANES: usize = 64;

/// The size of the buffer holding `Q` without its last block's variable
/// part: the tweak, at most 15 bytes of padding, `[i]` and `[NUM(B)]^b`
/// (`b <= 4`), rounded up to whole blocks.
const MAX_Q_BLOCKS: usize = (MAX_TWEAK_LEN + 15 + 1 + 4) / 16;

/// One AES block.
type Block = Array<u8, U16>;

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
    const fn pow(self, k: u8) -> u64 {
        (self.value() as u64).wrapping_pow(k as u32)
    }
}

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

/// An FF1 context: a block cipher key, a radix, a numeral length and a
/// tweak, with everything that does not depend on the numeral precomputed.
///
/// `C` is the block cipher (128-bit blocks): [`aes::Aes128`] by default;
/// `aes::Aes192` and `aes::Aes256` work too.
///
/// # Key material
///
/// The context holds the cipher's key schedule and a CBC-MAC state derived
/// from the key. On drop, the state is zeroized by this type's `Drop`
/// implementation; the key schedule is zeroized by the cipher's own `Drop`:
/// offpin builds `aes` with its `zeroize` feature, under which every AES
/// type's `Drop` calls `zeroize::zeroize_flat_type` on itself and the type
/// implements [`ZeroizeOnDrop`] (`aes` 0.9, `common_impls!` in its
/// `lib.rs`). So `Ff1<C>` implements [`ZeroizeOnDrop`] whenever `C` does.
/// Copies made by moves are not erased (a limit of safe Rust).
///
/// `Debug` prints only the radix and the length: `Ff1 { radix: Ten, len:
/// 10, .. }`.
///
/// # Examples
///
/// ```
/// use offpin::ff1::{Ff1Aes128, Radix};
///
/// let key = [0x2B, 0x7E, 0x15, 0x16, 0x28, 0xAE, 0xD2, 0xA6,
///            0xAB, 0xF7, 0x15, 0x88, 0x09, 0xCF, 0x4F, 0x3C];
/// let ff1 = Ff1Aes128::new(&key, Radix::Ten, 10, &[])?;
/// let mut digits = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
/// ff1.encrypt_digits(&mut digits)?; // NIST SP 800-38G FF1 sample 1
/// assert_eq!(digits, [2, 4, 3, 3, 4, 7, 7, 4, 8, 4]);
/// assert_eq!(format!("{ff1:?}"), "Ff1 { radix: Ten, len: 10, .. }");
/// # Ok::<(), offpin::Ff1Error>(())
/// ```
pub struct Ff1<C = aes::Aes128> {
    /// The block cipher, keyed.
    cipher: C,
    /// The radix.
    radix: Radix,
    /// The numeral length `n`.
    len: u8,
    /// `radix^u`, `u = floor(n/2)`: the modulus of even rounds.
    div_u: Divisor,
    /// `radix^v`, `v = n - u`: the modulus of odd rounds; also splits a
    /// value into `NUM(A) = x div radix^v` and `NUM(B) = x mod radix^v`.
    div_v: Divisor,
    /// `radix`: renders values as digits.
    div_radix: Divisor,
    /// `radix^n`.
    domain: u64,
    /// `8 * b`: the bit position of `[i]` in the last block of `Q`.
    i_shift: u32,
    /// The CBC-MAC state after `P` and all but the last block of `Q`,
    /// XORed with the constant bytes of that last block (tweak tail and
    /// padding). Key-derived: zeroized on drop.
    last_block_base: u128,
}

/// FF1 over AES-128, the cipher offpin's device keys are for.
pub type Ff1Aes128 = Ff1<aes::Aes128>;

/// The high 64 bits of a 128-bit value.
#[inline(always)]
#[allow(
    clippy::cast_possible_truncation,
    reason = "shifted right by 64: the value fits in 64 bits"
)]
const fn high_u64(x: u128) -> u64 {
    (x >> 64) as u64
}

impl<C> Ff1<C>
where
    C: BlockCipherEncrypt + BlockSizeUser<BlockSize = U16> + KeyInit,
{
    /// Keys AES (or `C`) with `key` and precomputes FF1 for numerals of
    /// `len` digits in `radix` under `tweak`.
    ///
    /// # Errors
    ///
    /// * [`Ff1Error::LengthTooShort`] when `radix^len < 10^6` (radix 10:
    ///   `len < 6`; radix 9: `len < 7`);
    /// * [`Ff1Error::LengthTooLong`] when `len > radix.max_len()` (18 for
    ///   radix 10 and 9, 19 for 8, 20 below);
    /// * [`Ff1Error::TweakTooLong`] when the tweak exceeds
    ///   [`MAX_TWEAK_LEN`] bytes;
    /// * [`Ff1Error::KeyLength`] when `key` is not the cipher's key length
    ///   (16 bytes for AES-128).
    ///
    /// # Examples
    ///
    /// ```
    /// use offpin::ff1::{Ff1Aes128, Ff1Error, Radix};
    ///
    /// let key = [0x2B, 0x7E, 0x15, 0x16, 0x28, 0xAE, 0xD2, 0xA6,
    ///            0xAB, 0xF7, 0x15, 0x88, 0x09, 0xCF, 0x4F, 0x3C];
    /// let ff1 = Ff1Aes128::new(&key, Radix::Ten, 10, b"")?;
    /// assert_eq!(ff1.encrypt(123_456_789)?, 2_433_477_484); // NIST sample 1
    /// assert_eq!(
    ///     Ff1Aes128::new(&key, Radix::Nine, 6, b"").err(),
    ///     Some(Ff1Error::LengthTooShort { radix: 9, len: 6, min: 7 })
    /// );
    /// # Ok::<(), Ff1Error>(())
    /// ```
    pub fn new(key: &[u8], radix: Radix, len: u8, tweak: &[u8]) -> Result<Self, Ff1Error> {
        check_params(radix, len, tweak)?;
        let cipher = C::new_from_slice(key).map_err(|_| Ff1Error::KeyLength {
            expected: C::key_size(),
            got: key.len(),
        })?;
        Self::from_cipher(cipher, radix, len, tweak)
    }

    /// Like [`Ff1::new`], with the key already expanded into `cipher`.
    ///
    /// # Errors
    ///
    /// As [`Ff1::new`], except [`Ff1Error::KeyLength`].
    ///
    /// # Examples
    ///
    /// ```
    /// use aes::cipher::KeyInit;
    /// use offpin::ff1::{Ff1, Radix};
    ///
    /// let cipher = aes::Aes128::new(&[0x2B, 0x7E, 0x15, 0x16, 0x28, 0xAE, 0xD2, 0xA6,
    ///                                 0xAB, 0xF7, 0x15, 0x88, 0x09, 0xCF, 0x4F, 0x3C].into());
    /// let ff1 = Ff1::from_cipher(cipher, Radix::Ten, 10, b"")?;
    /// assert_eq!(ff1.encrypt(123_456_789)?, 2_433_477_484); // NIST sample 1
    /// # Ok::<(), offpin::Ff1Error>(())
    /// ```
    pub fn from_cipher(cipher: C, radix: Radix, len: u8, tweak: &[u8]) -> Result<Self, Ff1Error> {
        check_params(radix, len, tweak)?;
        let n = len;
        let t = tweak.len();
        let radix_u32 = radix.value();

        // 1. Let u = floor(n/2); v = n - u.
        let u = n / 2;
        let v = n - u;

        // 2. Let A = X[1..u]; B = X[u+1..n]. Per numeral: NUM(A) = x div
        //    radix^v and NUM(B) = x mod radix^v (`split`); here only the
        //    moduli are prepared.
        let div_u = Divisor::new(radix.pow(u));
        let div_v = Divisor::new(radix.pow(v));

        // 3. Let b = ceil(ceil(v * LOG2(radix)) / 8). ceil(log2(x)) is the
        //    bit length of x - 1 for x >= 2 (a power of two too: radix 2,
        //    4 and 8): integers only, no floats.
        let bits = u64::BITS - div_v.get().saturating_sub(1).leading_zeros();
        let b = bits.div_ceil(8);
        // radix^v <= 10^9 < 2^32 (v <= 9 for radix 10 and 9, v <= 10
        // below: 8^10 = 2^30), so b <= 4.

        // 4. Let d = 4 * ceil(b/4) + 4. With 1 <= b <= 4, d = 8: S is the
        //    first 8 bytes of R (step 6.iii needs no extra AES block) and
        //    y = NUM_2(S) fits in a u64.

        // 5. Let P = [1]^1 || [2]^1 || [1]^1 || [radix]^3 || [10]^1 ||
        //    [u mod 256]^1 || [n]^4 || [t]^4.
        let t_u32 = u32::try_from(t).map_err(|_| Ff1Error::TweakTooLong {
            len: t,
            max: MAX_TWEAK_LEN,
        })?;
        let p: u128 = (0x01_02_01u128 << 104)
            | (u128::from(radix_u32) << 80)
            | (10u128 << 72)
            | (u128::from(u) << 64)
            | (u128::from(n) << 32)
            | u128::from(t_u32);

        // 6.i (constant part). Q = T || [0]^((-t-b-1) mod 16) || [i]^1 ||
        //    [NUM(B)]^b. Only the last 1 + b <= 5 bytes vary, and they
        //    are always in Q's last block: lay out Q with zeros there.
        //    Its length is 16 * ceil((t + b + 1) / 16) bytes.
        let q_blocks = (t_u32 + b + 1).div_ceil(16);
        let mut q = [[0u8; 16]; MAX_Q_BLOCKS];
        for (dst, &src) in q.as_flattened_mut().iter_mut().zip(tweak) {
            *dst = src;
        }

        // 6.ii (constant part). PRF(P || Q) is CBC-MAC with a zero IV:
        //    Y_0 = 0, Y_j = CIPH_K(Y_{j-1} xor X_j). Absorb P and every block
        //    of Q but the last now; fold the last block's constant bytes
        //    into the state, so a round only XORs in [i] and [NUM(B)]^b.
        let mut state = encrypt_u128(&cipher, p);
        let mut last_block_base = 0;
        for (j, block) in (1u32..).zip(q.iter()) {
            let x = state ^ u128::from_be_bytes(*block);
            if j < q_blocks {
                state = encrypt_u128(&cipher, x);
            } else if j == q_blocks {
                last_block_base = x;
            }
        }
        state.zeroize();
        q.as_flattened_mut().zeroize();

        Ok(Ff1 {
            cipher,
            radix,
            len,
            div_u,
            div_v,
            div_radix: Divisor::new(u64::from(radix_u32)),
            domain: radix.pow(n),
            i_shift: 8 * b,
            last_block_base,
        })
    }

    /// The keyed block cipher, for key-derived values outside FF1 (the
    /// lock derives its state key and key fingerprints with it, under
    /// labels no FF1 block can equal).
    pub(crate) const fn cipher(&self) -> &C {
        &self.cipher
    }

    /// The radix of the numerals.
    pub const fn radix(&self) -> Radix {
        self.radix
    }

    /// The numeral length `n`, in digits.
    #[allow(clippy::len_without_is_empty, reason = "a numeral is never empty")]
    pub const fn len(&self) -> u8 {
        self.len
    }

    /// The number of numerals, `radix^len`: values are `0..domain_size()`.
    pub fn domain_size(&self) -> u64 {
        self.domain
    }

    /// Encrypts the numeral whose value is `x`, returning the value
    /// `NUM_radix(Y)` of the ciphertext numeral `Y`
    /// (SP 800-38G Algorithm 7, FF1.Encrypt).
    ///
    /// # Errors
    ///
    /// [`Ff1Error::NumeralOutOfRange`] when `x >= radix^len`.
    ///
    /// # Examples
    ///
    /// ```
    /// use offpin::ff1::{Ff1Aes128, Radix};
    ///
    /// let key = [0x2B, 0x7E, 0x15, 0x16, 0x28, 0xAE, 0xD2, 0xA6,
    ///            0xAB, 0xF7, 0x15, 0x88, 0x09, 0xCF, 0x4F, 0x3C];
    /// let ff1 = Ff1Aes128::new(&key, Radix::Ten, 10, b"")?;
    /// assert_eq!(ff1.encrypt(123_456_789)?, 2_433_477_484); // NIST sample 1
    /// assert!(ff1.encrypt(10_000_000_000).is_err());
    /// # Ok::<(), offpin::Ff1Error>(())
    /// ```
    pub fn encrypt(&self, x: u64) -> Result<u64, Ff1Error> {
        self.check_value(x)?;
        let mut lane = [x];
        self.encrypt_one(&mut lane);
        let [y] = lane;
        Ok(y)
    }

    /// Decrypts the numeral whose value is `y` (SP 800-38G Algorithm 8,
    /// FF1.Decrypt).
    ///
    /// # Errors
    ///
    /// [`Ff1Error::NumeralOutOfRange`] when `y >= radix^len`.
    ///
    /// # Examples
    ///
    /// ```
    /// use offpin::ff1::{Ff1Aes128, Radix};
    ///
    /// let key = [0x2B, 0x7E, 0x15, 0x16, 0x28, 0xAE, 0xD2, 0xA6,
    ///            0xAB, 0xF7, 0x15, 0x88, 0x09, 0xCF, 0x4F, 0x3C];
    /// let ff1 = Ff1Aes128::new(&key, Radix::Ten, 10, b"")?;
    /// assert_eq!(ff1.decrypt(2_433_477_484)?, 123_456_789); // NIST sample 1
    /// # Ok::<(), offpin::Ff1Error>(())
    /// ```
    pub fn decrypt(&self, y: u64) -> Result<u64, Ff1Error> {
        self.check_value(y)?;
        let mut lane = [y];
        self.decrypt_one(&mut lane);
        let [x] = lane;
        Ok(x)
    }

    /// Encrypts a numeral given as digit values (`0..radix`, most
    /// significant first), in place.
    ///
    /// # Errors
    ///
    /// [`Ff1Error::WrongDigitCount`] when `digits.len() != self.len()`,
    /// [`Ff1Error::DigitOutOfRange`] when a digit value is `>= radix`. The
    /// slice is unchanged on error.
    ///
    /// # Examples
    ///
    /// ```
    /// use offpin::ff1::{Ff1Aes128, Radix};
    ///
    /// let key = [0x2B, 0x7E, 0x15, 0x16, 0x28, 0xAE, 0xD2, 0xA6,
    ///            0xAB, 0xF7, 0x15, 0x88, 0x09, 0xCF, 0x4F, 0x3C];
    /// let ff1 = Ff1Aes128::new(&key, Radix::Ten, 10, b"")?;
    /// let mut digits = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
    /// ff1.encrypt_digits(&mut digits)?; // NIST sample 1
    /// assert_eq!(digits, [2, 4, 3, 3, 4, 7, 7, 4, 8, 4]);
    /// # Ok::<(), offpin::Ff1Error>(())
    /// ```
    pub fn encrypt_digits(&self, digits: &mut [u8]) -> Result<(), Ff1Error> {
        let mut lane = [self.digits_value(digits)?];
        self.encrypt_one(&mut lane);
        let [y] = lane;
        self.render_digits(y, digits);
        Ok(())
    }

    /// Decrypts a numeral given as digit values (`0..radix`, most
    /// significant first), in place.
    ///
    /// # Errors
    ///
    /// As [`Ff1::encrypt_digits`].
    ///
    /// # Examples
    ///
    /// ```
    /// use offpin::ff1::{Ff1Aes128, Radix};
    ///
    /// let key = [0x2B, 0x7E, 0x15, 0x16, 0x28, 0xAE, 0xD2, 0xA6,
    ///            0xAB, 0xF7, 0x15, 0x88, 0x09, 0xCF, 0x4F, 0x3C];
    /// let ff1 = Ff1Aes128::new(&key, Radix::Ten, 10, b"")?;
    /// let mut digits = [2, 4, 3, 3, 4, 7, 7, 4, 8, 4];
    /// ff1.decrypt_digits(&mut digits)?; // NIST sample 1
    /// assert_eq!(digits, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    /// # Ok::<(), offpin::Ff1Error>(())
    /// ```
    pub fn decrypt_digits(&self, digits: &mut [u8]) -> Result<(), Ff1Error> {
        let mut lane = [self.digits_value(digits)?];
        self.decrypt_one(&mut lane);
        let [x] = lane;
        self.render_digits(x, digits);
        Ok(())
    }

    /// Encrypts many independent numerals in place, as [`Ff1::encrypt`]
    /// would one by one. Evaluations are interleaved [`BATCH_LANES`] at a
    /// time (64 at a time first on VAES backends; then 4, 2, 1 for the
    /// tail), so each Feistel round hands the cipher several independent
    /// blocks at once, which the `aes` crate pipelines (AES-NI, VAES,
    /// ARMv8, or bitsliced in parallel). The whole slice is one call into
    /// the cipher's backend. No heap.
    ///
    /// # Errors
    ///
    /// [`Ff1Error::NumeralOutOfRange`] when any value is `>= radix^len`;
    /// all values are checked first, and the slice is unchanged on error.
    ///
    /// # Examples
    ///
    /// ```
    /// use offpin::ff1::{Ff1Aes128, Radix};
    ///
    /// let ff1 = Ff1Aes128::new(&[7; 16], Radix::Ten, 8, b"door")?;
    /// let mut xs: Vec<u64> = (0..20).collect();
    /// ff1.encrypt_batch(&mut xs)?;
    /// assert_eq!(xs[3], ff1.encrypt(3)?);
    /// ff1.decrypt_batch(&mut xs)?;
    /// assert_eq!(xs, (0..20).collect::<Vec<u64>>());
    /// # Ok::<(), offpin::Ff1Error>(())
    /// ```
    pub fn encrypt_batch(&self, xs: &mut [u64]) -> Result<(), Ff1Error> {
        self.check_values(xs)?;
        // One call into the backend for the whole slice (see `Feistel`).
        self.cipher
            .encrypt_with_backend(Feistel::<C, false> { ff1: self, xs });
        Ok(())
    }

    /// Decrypts many independent numerals in place, as [`Ff1::decrypt`]
    /// would one by one, interleaved like [`Ff1::encrypt_batch`].
    ///
    /// # Errors
    ///
    /// [`Ff1Error::NumeralOutOfRange`] when any value is `>= radix^len`;
    /// all values are checked first, and the slice is unchanged on error.
    ///
    /// # Examples
    ///
    /// ```
    /// use offpin::ff1::{Ff1Aes128, Radix};
    ///
    /// let ff1 = Ff1Aes128::new(&[7; 16], Radix::Nine, 7, b"")?;
    /// let mut ys = [ff1.encrypt(1)?, ff1.encrypt(2)?, ff1.encrypt(3)?];
    /// ff1.decrypt_batch(&mut ys)?;
    /// assert_eq!(ys, [1, 2, 3]);
    /// assert!(ff1.decrypt_batch(&mut [0, 4_782_969]).is_err()); // 9^7
    /// # Ok::<(), offpin::Ff1Error>(())
    /// ```
    pub fn decrypt_batch(&self, ys: &mut [u64]) -> Result<(), Ff1Error> {
        self.check_values(ys)?;
        // One call into the backend for the whole slice (see `Feistel`).
        self.cipher
            .encrypt_with_backend(Feistel::<C, true> { ff1: self, xs: ys });
        Ok(())
    }

    /// Range check of a value. Branches on `x`, by design: whether a value
    /// is a numeral of the domain is public (length validation).
    fn check_value(&self, x: u64) -> Result<(), Ff1Error> {
        if x < self.domain {
            Ok(())
        } else {
            Err(Ff1Error::NumeralOutOfRange)
        }
    }

    /// Range check of every value (see [`Ff1::check_value`]).
    fn check_values(&self, xs: &[u64]) -> Result<(), Ff1Error> {
        xs.iter().try_for_each(|&x| self.check_value(x))
    }

    /// The value of a digit string, checking its length (public) and its
    /// digits. The digits are checked without an early exit, so the time
    /// tells only whether all were valid, not where a bad one was.
    fn digits_value(&self, digits: &[u8]) -> Result<u64, Ff1Error> {
        if digits.len() != usize::from(self.len) {
            return Err(Ff1Error::WrongDigitCount {
                expected: self.len,
                got: digits.len(),
            });
        }
        let radix = self.div_radix.get();
        let mut bad = 0u64;
        let mut x = 0u64;
        for &digit in digits {
            let digit = u64::from(digit);
            // (radix - 1) - digit borrows, setting the top bit, exactly when
            // digit >= radix (both are below 2^8).
            bad |= (radix - 1).wrapping_sub(digit) >> 63;
            // Horner: below radix^n < 2^63 when every digit is valid;
            // wrapping (and discarded) otherwise.
            x = x.wrapping_mul(radix).wrapping_add(digit);
        }
        if bad == 0 {
            Ok(x)
        } else {
            Err(Ff1Error::DigitOutOfRange {
                radix: self.radix.value(),
            })
        }
    }

    /// Writes `STR^n_radix(x)` into `digits` (length already checked),
    /// with the constant-time divider.
    fn render_digits(&self, mut x: u64, digits: &mut [u8]) {
        for dst in digits.iter_mut().rev() {
            let (q, r) = self.div_radix.div_rem(x);
            // r < radix <= 10: its low byte is the digit.
            let [low, ..] = r.to_le_bytes();
            *dst = low;
            x = q;
        }
    }

    /// FF1.Encrypt (SP 800-38G Algorithm 7) of one in-range value.
    fn encrypt_one(&self, xs: &mut [u64; 1]) {
        self.cipher
            .encrypt_with_backend(Single::<C, false> { ff1: self, xs });
    }

    /// FF1.Decrypt (SP 800-38G Algorithm 8) of one in-range value.
    fn decrypt_one(&self, ys: &mut [u64; 1]) {
        self.cipher
            .encrypt_with_backend(Single::<C, true> { ff1: self, xs: ys });
    }
}

impl<C> Ff1<C> {
    /// Steps 1 and 2: `NUM(A) = x div radix^v`, `NUM(B) = x mod radix^v`.
    #[inline(always)]
    fn split<const N: usize>(&self, xs: &[u64; N]) -> ([u64; N], [u64; N]) {
        let mut a = [0u64; N];
        let mut b = [0u64; N];
        for ((&x, a), b) in xs.iter().zip(a.iter_mut()).zip(b.iter_mut()) {
            (*a, *b) = self.div_v.div_rem(x);
        }
        (a, b)
    }

    /// Step 7: `NUM_radix(A || B) = NUM(A) * radix^v + NUM(B)`, with `A`
    /// of `u` digits and `B` of `v` digits (below radix^n < 2^63: no
    /// wrap).
    #[inline(always)]
    fn join<const N: usize>(&self, a: &[u64; N], b: &[u64; N], out: &mut [u64; N]) {
        for ((o, &a), &b) in out.iter_mut().zip(a).zip(b) {
            *o = a.wrapping_mul(self.div_v.get()).wrapping_add(b);
        }
    }

    /// 6.i and 6.ii, round part: the last block of Q is
    /// `... || [i]^1 || [NUM(h)]^b` where `h` is B (encryption) or A
    /// (decryption), `h < radix^v < 2^(8b)`. XORed into the precomputed
    /// state, it is the input of the final CBC-MAC block encryption.
    #[inline(always)]
    fn last_block(&self, i: u8, h: u64) -> Block {
        let x = self.last_block_base ^ (u128::from(i) << self.i_shift) ^ u128::from(h);
        Block::from(x.to_be_bytes())
    }
}

/// FF1 on `N` in-range values at once (`DECRYPT = false`: SP 800-38G
/// Algorithm 7, FF1.Encrypt; `true`: Algorithm 8, FF1.Decrypt), on the
/// cipher's backend.
#[inline(always)]
fn lanes<C, B, const N: usize, const DECRYPT: bool>(ff1: &Ff1<C>, backend: &B, xs: &mut [u64; N])
where
    B: BlockCipherEncBackend<BlockSize = U16>,
{
    // Steps 1-5 were done by `from_cipher`, except splitting X:
    // 1. u = floor(n/2), v = n - u.
    // 2. A = X[1..u], B = X[u+1..n].
    let (mut a_lanes, mut b_lanes) = ff1.split(xs);
    let (a, b) = (&mut a_lanes, &mut b_lanes);
    let mut blocks = [Block::default(); N];
    // 6. For i from 0 to 9 (decryption: from 9 to 0):
    for round in 0u8..10 {
        // Encryption: i from 0 to 9; decryption: i from 9 to 0.
        let i = if DECRYPT { 9 - round } else { round };
        // 6.i   Q = T || [0]^((-t-b-1) mod 16) || [i]^1 || [NUM(H)]^b,
        //       H = B (encryption) or A (decryption).
        // 6.ii  R = PRF(P || Q): one AES block per lane, the rest of
        //       the CBC-MAC is precomputed.
        let hs: &[u64; N] = if DECRYPT { a } else { b };
        for (block, &h) in blocks.iter_mut().zip(hs) {
            *block = ff1.last_block(i, h);
        }
        encrypt_blocks_on(backend, &mut blocks);
        // 6.v   If i is even, m = u; else m = v (i is public).
        let modulus = if i % 2 == 0 { ff1.div_u } else { ff1.div_v };
        for ((block, a), b) in blocks.iter().zip(a.iter_mut()).zip(b.iter_mut()) {
            // 6.iii S = the first d = 8 bytes of R (d <= 16: no extra
            //       AES blocks).
            // 6.iv  y = NUM_2(S).
            let y = high_u64(u128::from_be_bytes((*block).into()));
            if DECRYPT {
                // 6.vi  c = (NUM_radix(B) - y) mod radix^m.
                // 6.vii C = STR^m_radix(c): kept as its value c.
                let c = modulus.sub_mod(*b, y);
                // 6.viii B = A.
                *b = *a;
                // 6.ix  A = C.
                *a = c;
            } else {
                // 6.vi  c = (NUM_radix(A) + y) mod radix^m.
                // 6.vii C = STR^m_radix(c): kept as its value c.
                let c = modulus.add_mod(*a, y);
                // 6.viii A = B.
                *a = *b;
                // 6.ix  B = C.
                *b = c;
            }
        }
    }
    // 7. Return A || B.
    ff1.join(a, b, xs);
    for block in blocks.iter_mut() {
        block.as_mut_slice().zeroize();
    }
    a_lanes.zeroize();
    b_lanes.zeroize();
}

/// One FF1 evaluation, run as a closure on the cipher's backend.
///
/// Why a closure: `BlockCipherEncrypt::encrypt_block(s)` re-enters the
/// `aes` crate's backend dispatch on every call, and on CPUs with VAES its
/// AVX-512/AVX2 backends first broadcast the whole key schedule into vector
/// registers: 36 ns per call on the development machine (AMD EPYC, aes
/// 0.9.4), three times the AES work of one block. Running all ten rounds
/// inside one `encrypt_with_backend` call pays that once per evaluation
/// instead of once per round. See `docs/PERFORMANCE.md`.
struct Single<'a, C, const DECRYPT: bool> {
    ff1: &'a Ff1<C>,
    xs: &'a mut [u64; 1],
}

impl<C, const DECRYPT: bool> BlockSizeUser for Single<'_, C, DECRYPT> {
    type BlockSize = U16;
}

impl<C, const DECRYPT: bool> BlockCipherEncClosure for Single<'_, C, DECRYPT> {
    #[inline(always)]
    fn call<B: BlockCipherEncBackend<BlockSize = U16>>(self, backend: &B) {
        lanes::<C, B, 1, DECRYPT>(self.ff1, backend, self.xs);
    }
}

/// Many independent FF1 evaluations in one call into the backend (so the
/// backend's set-up is paid once per batch), interleaved [`BATCH_LANES`]
/// at a time (then 4, 2, 1 for the tail): each Feistel round hands the
/// backend that many independent blocks, which it pipelines.
struct Feistel<'a, C, const DECRYPT: bool> {
    ff1: &'a Ff1<C>,
    xs: &'a mut [u64],
}

impl<C, const DECRYPT: bool> BlockSizeUser for Feistel<'_, C, DECRYPT> {
    type BlockSize = U16;
}

impl<C, const DECRYPT: bool> BlockCipherEncClosure for Feistel<'_, C, DECRYPT> {
    #[inline(always)]
    fn call<B: BlockCipherEncBackend<BlockSize = U16>>(self, backend: &B) {
        let Feistel { ff1, xs } = self;
        // Backends that encrypt many blocks per instruction sequence
        // (VAES-256: 30, VAES-512: 64) only do so for a full set of
        // parallel blocks: give them that many lanes.
        let xs = if B::ParBlocksSize::USIZE >= 16 {
            let (chunks, rest) = xs.as_chunks_mut::<WIDE_LANES>();
            for c in chunks {
                wide_lanes::<C, B, DECRYPT>(ff1, backend, c);
            }
            rest
        } else {
            xs
        };
        let (chunks, rest) = xs.as_chunks_mut::<BATCH_LANES>();
        for c in chunks {
            lanes::<C, B, BATCH_LANES, DECRYPT>(ff1, backend, c);
        }
        let (chunks, rest) = rest.as_chunks_mut::<4>();
        for c in chunks {
            lanes::<C, B, 4, DECRYPT>(ff1, backend, c);
        }
        let (chunks, rest) = rest.as_chunks_mut::<2>();
        for c in chunks {
            lanes::<C, B, 2, DECRYPT>(ff1, backend, c);
        }
        let (chunks, _) = rest.as_chunks_mut::<1>();
        for c in chunks {
            lanes::<C, B, 1, DECRYPT>(ff1, backend, c);
        }
    }
}

/// [`lanes`] with [`WIDE_LANES`] lanes, out of line: its 2 KiB of lane
/// state is on the stack only while it runs (never, with the software or
/// plain AES-NI backends).
#[inline(never)]
fn wide_lanes<C, B, const DECRYPT: bool>(ff1: &Ff1<C>, backend: &B, xs: &mut [u64; WIDE_LANES])
where
    B: BlockCipherEncBackend<BlockSize = U16>,
{
    lanes::<C, B, WIDE_LANES, DECRYPT>(ff1, backend, xs);
}

/// Encrypts `blocks` in place on `backend`, in the backend's parallel
/// chunks and then one by one (what `encrypt_blocks` does, without
/// re-entering the dispatch).
#[inline(always)]
fn encrypt_blocks_on<B: BlockCipherEncBackend<BlockSize = U16>>(backend: &B, blocks: &mut [Block]) {
    if B::ParBlocksSize::USIZE > 1 {
        let (chunks, tail) = Array::<Block, B::ParBlocksSize>::slice_as_chunks_mut(blocks);
        for chunk in chunks {
            backend.encrypt_par_blocks_inplace(chunk);
        }
        backend.encrypt_tail_blocks_inplace(tail);
    } else {
        for block in blocks {
            backend.encrypt_block_inplace(block);
        }
    }
}

/// Checks the parameters of [`Ff1::new`] (all public).
fn check_params(radix: Radix, len: u8, tweak: &[u8]) -> Result<(), Ff1Error> {
    if len > radix.max_len() {
        return Err(Ff1Error::LengthTooLong {
            len,
            max: radix.max_len(),
        });
    }
    if len < radix.min_len() || radix.pow(len) < MIN_DOMAIN {
        return Err(Ff1Error::LengthTooShort {
            radix: radix.value(),
            len,
            min: radix.min_len(),
        });
    }
    if tweak.len() > MAX_TWEAK_LEN {
        return Err(Ff1Error::TweakTooLong {
            len: tweak.len(),
            max: MAX_TWEAK_LEN,
        });
    }
    Ok(())
}

/// `CIPH_K(x)` on a block held as a big-endian `u128`.
fn encrypt_u128<C>(cipher: &C, x: u128) -> u128
where
    C: BlockCipherEncrypt + BlockSizeUser<BlockSize = U16>,
{
    let mut block = Block::from(x.to_be_bytes());
    cipher.encrypt_block(&mut block);
    let mut bytes: [u8; 16] = block.into();
    let y = u128::from_be_bytes(bytes);
    bytes.zeroize();
    block.as_mut_slice().zeroize();
    y
}

impl<C> Drop for Ff1<C> {
    fn drop(&mut self) {
        // The cipher's key schedule is zeroized by its own Drop (see the
        // type's docs); this is the key-derived CBC-MAC state.
        self.last_block_base.zeroize();
    }
}

impl<C: ZeroizeOnDrop> ZeroizeOnDrop for Ff1<C> {}

impl<C> fmt::Debug for Ff1<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Ff1")
            .field("radix", &self.radix)
            .field("len", &self.len)
            .finish_non_exhaustive()
    }
}

impl<C: Clone> Clone for Ff1<C> {
    fn clone(&self) -> Self {
        Ff1 {
            cipher: self.cipher.clone(),
            radix: self.radix,
            len: self.len,
            div_u: self.div_u,
            div_v: self.div_v,
            div_radix: self.div_radix,
            domain: self.domain,
            i_shift: self.i_shift,
            last_block_base: self.last_block_base,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NIST_KEY: [u8; 16] = [
        0x2B, 0x7E, 0x15, 0x16, 0x28, 0xAE, 0xD2, 0xA6, 0xAB, 0xF7, 0x15, 0x88, 0x09, 0xCF, 0x4F,
        0x3C,
    ];

    /// The largest domain `radix^n` of any numeral length.
    const MAX_DOMAIN: u64 = 1_000_000_000_000_000_000;

    /// The tables of `min_len` and `max_len` are their definitions.
    #[test]
    fn lengths_are_the_least_and_greatest_allowed() {
        for radix in Radix::ALL {
            let pow = |n: u8| u128::from(radix.value()).pow(u32::from(n));
            let min = (1..=MAX_LEN).find(|&n| pow(n) >= u128::from(MIN_DOMAIN));
            assert_eq!(Some(radix.min_len()), min, "{radix:?}");
            let max = (1..=MAX_LEN)
                .rev()
                .find(|&n| pow(n) <= u128::from(MAX_DOMAIN));
            assert_eq!(Some(radix.max_len()), max, "{radix:?}");
        }
    }

    #[test]
    fn b_is_at_most_four_and_d_is_eight() {
        for radix in Radix::ALL {
            for n in radix.min_len()..=radix.max_len() {
                let ff1 = Ff1Aes128::new(&NIST_KEY, radix, n, b"").unwrap();
                let b = ff1.i_shift / 8;
                assert!((1..=4).contains(&b), "radix {radix:?} n {n}: b = {b}");
                assert_eq!(4 * b.div_ceil(4) + 4, 8);
                // b bytes hold every value of B.
                assert!(ff1.div_v.get() <= 1 << ff1.i_shift);
            }
        }
    }

    #[test]
    fn nist_sample_1_and_2() {
        let ff1 = Ff1Aes128::new(&NIST_KEY, Radix::Ten, 10, b"").unwrap();
        assert_eq!(ff1.encrypt(123_456_789), Ok(2_433_477_484));
        let ff1 = Ff1Aes128::new(&NIST_KEY, Radix::Ten, 10, b"9876543210").unwrap();
        assert_eq!(ff1.encrypt(123_456_789), Ok(6_124_200_773));
        assert_eq!(ff1.decrypt(6_124_200_773), Ok(123_456_789));
    }

    #[test]
    fn parameter_errors() {
        let k = NIST_KEY;
        assert_eq!(
            Ff1Aes128::new(&k, Radix::Ten, 5, b"").err(),
            Some(Ff1Error::LengthTooShort {
                radix: 10,
                len: 5,
                min: 6
            })
        );
        assert_eq!(
            Ff1Aes128::new(&k, Radix::Nine, 6, b"").err(),
            Some(Ff1Error::LengthTooShort {
                radix: 9,
                len: 6,
                min: 7
            })
        );
        assert_eq!(
            Ff1Aes128::new(&k, Radix::Ten, 19, b"").err(),
            Some(Ff1Error::LengthTooLong { len: 19, max: 18 })
        );
        assert_eq!(
            Ff1Aes128::new(&k, Radix::Ten, 6, &[0; MAX_TWEAK_LEN + 1]).err(),
            Some(Ff1Error::TweakTooLong {
                len: MAX_TWEAK_LEN + 1,
                max: MAX_TWEAK_LEN
            })
        );
        assert_eq!(
            Ff1Aes128::new(&k[..15], Radix::Ten, 6, b"").err(),
            Some(Ff1Error::KeyLength {
                expected: 16,
                got: 15
            })
        );
        assert!(Ff1Aes128::new(&k, Radix::Ten, 6, &[0; MAX_TWEAK_LEN]).is_ok());
    }

    #[test]
    fn debug_is_redacted() {
        let ff1 = Ff1Aes128::new(&NIST_KEY, Radix::Nine, 7, b"t").unwrap();
        assert_eq!(std::format!("{ff1:?}"), "Ff1 { radix: Nine, len: 7, .. }");
    }

    #[test]
    fn zeroize_on_drop_is_implemented() {
        fn assert_zod<T: ZeroizeOnDrop>() {}
        assert_zod::<Ff1Aes128>();
        assert_zod::<Ff1<aes::Aes256>>();
    }
}
