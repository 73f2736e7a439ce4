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

mod error;
mod feistel;
mod radix;
#[cfg(test)]
mod tests;

pub use error::Ff1Error;
pub use radix::Radix;

use core::fmt;

use aes::cipher::{Array, BlockCipherEncrypt, BlockSizeUser, KeyInit, consts::U16};
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::divisor::Divisor;
use feistel::{Feistel, Single};

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
/// The size of the buffer holding `Q` without its last block's variable
/// part: the tweak, at most 15 bytes of padding, `[i]` and `[NUM(B)]^b`
/// (`b <= 4`), rounded up to whole blocks.
const MAX_Q_BLOCKS: usize = (MAX_TWEAK_LEN + 15 + 1 + 4) / 16;

/// One AES block.
type Block = Array<u8, U16>;

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
