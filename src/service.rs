//! Rolling service codes (format v2, tag 3): RFC 6238 TOTP codes of the
//! profile's digits and step, from a per-device service secret, so that a
//! technician or the owner can open the lock with any authenticator app
//! when no server is reachable.
//!
//! # The secret
//!
//! ```text
//! service_secret = AES_K("offpin/v2/svc-k1") || AES_K("offpin/v2/svc-k2")[0..4]   (20 bytes)
//! ```
//!
//! under the device key `K`: derived from the key the lock already holds,
//! with its own labels (single AES blocks that no FF1 block, key
//! fingerprint or state key input can equal), and 160 bits long, as RFC
//! 4226 recommends for HMAC-SHA1. Only AES is needed to derive it; the
//! server derives the same from the device key it derives from the master
//! key.
//!
//! # The code
//!
//! RFC 6238 with `T0 = 0`, HMAC-SHA1 and dynamic truncation (RFC 4226
//! §5.3): at Unix time `t` the counter is `⌊t / step⌋` and the code is
//! `HOTP(secret, counter) mod 10^digits`, shown with leading zeros. The
//! lock accepts the counters `T − skew ..= T + skew` of its time `T`, each
//! at most once: it remembers the highest counter used until no earlier
//! one can be accepted (a memory entry of kind
//! [`Service`](crate::lock::EntryKind::Service)), and refuses any counter
//! at or below it.
//!
//! # What it costs
//!
//! A 31-bit HOTP value is spread over `10^digits` strings: the likeliest
//! string is the value of `⌈2^31 / 10^digits⌉` of the 2^31, so one attempt
//! at a service code opens with probability at most
//! `(2·skew + 1) · ⌈2^31 / 10^digits⌉ / 2^31` ([`per_attempt`]), which the
//! published figure adds to `W / radix^n`.

use core::fmt;

use aes::Aes128;
use aes::cipher::{Array, BlockCipherEncrypt, KeyInit};
use ctutils::CtEq;
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::keys::DeviceKey;

/// The first label block of the service secret.
pub const SERVICE_LABEL_1: [u8; 16] = *b"offpin/v2/svc-k1";
/// The second label block of the service secret.
pub const SERVICE_LABEL_2: [u8; 16] = *b"offpin/v2/svc-k2";
/// Bytes of a service secret (160 bits).
pub const SECRET_LEN: usize = 20;

/// A device's service secret: the HMAC-SHA1 key of its RFC 6238 codes.
/// Zeroized on drop, shown as `ServiceSecret(..)`, compared in constant
/// time.
#[derive(Clone)]
pub struct ServiceSecret([u8; SECRET_LEN]);

impl ServiceSecret {
    /// The service secret of the device whose key is `key`.
    pub fn derive(key: &DeviceKey) -> ServiceSecret {
        let cipher = Aes128::new(&Array::from(*key.expose_secret()));
        Self::from_cipher(&cipher)
    }

    /// The service secret under an AES-128 instance of the device key (the
    /// lock's codec holds one).
    pub(crate) fn from_cipher(cipher: &Aes128) -> ServiceSecret {
        let mut out = [0u8; SECRET_LEN];
        let mut a = Array::from(SERVICE_LABEL_1);
        let mut b = Array::from(SERVICE_LABEL_2);
        cipher.encrypt_block(&mut a);
        cipher.encrypt_block(&mut b);
        for (dst, src) in out.iter_mut().zip(a.iter().chain(b.iter())) {
            *dst = *src;
        }
        a.as_mut_slice().zeroize();
        b.as_mut_slice().zeroize();
        ServiceSecret(out)
    }

    /// The raw secret, for an `otpauth://` URI. Handle with care.
    pub const fn expose_secret(&self) -> &[u8; SECRET_LEN] {
        &self.0
    }

    /// The secret in base 32 (RFC 4648, no padding: 20 bytes are 32
    /// characters), as authenticator apps take it.
    pub fn base32(&self) -> [u8; 32] {
        const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
        let mut out = [b'A'; 32];
        // 20 bytes = 4 groups of 5 bytes = 4 groups of 8 characters.
        for (group, chars) in self.0.chunks_exact(5).zip(out.chunks_exact_mut(8)) {
            let bits = group.iter().fold(0u64, |acc, b| acc << 8 | u64::from(*b));
            for (i, c) in chars.iter_mut().enumerate() {
                let shift = 35 - 5 * i;
                let index = usize::try_from((bits >> shift) & 31).unwrap_or(0);
                *c = ALPHABET.get(index).copied().unwrap_or(b'A');
            }
        }
        out
    }
}

impl fmt::Debug for ServiceSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ServiceSecret(..)")
    }
}

impl Drop for ServiceSecret {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}
impl ZeroizeOnDrop for ServiceSecret {}

impl PartialEq for ServiceSecret {
    /// Constant time (`ctutils`' `CtEq` over the 20 bytes).
    fn eq(&self, other: &Self) -> bool {
        self.0.ct_eq(&other.0).to_bool()
    }
}
impl Eq for ServiceSecret {}

/// `10^digits` (`digits <= 10`).
pub(crate) const fn modulus(digits: u8) -> u64 {
    10u64.pow(digits as u32)
}

/// The most of the 2^31 HOTP values one `digits`-digit string is the
/// code of: `⌈2^31 / 10^digits⌉`.
pub const fn max_values_per_code(digits: u8) -> u64 {
    (1u64 << 31).div_ceil(modulus(digits))
}

/// The probability that one attempt opens the lock as a service code: at
/// most `codes` counters are accepted at once (`2·skew + 1`), each shows
/// the guessed string with probability at most
/// [`max_values_per_code`]`/ 2^31` (HMAC-SHA1 as a PRF).
pub fn per_attempt(digits: u8, codes: u32) -> f64 {
    f64::from(codes) * max_values_per_code(digits) as f64 / f64::from(1u32 << 31)
}

/// The RFC 4226 HOTP value of `counter` under `secret`, truncated to
/// `digits` digits (`6..=10`): the code shown at that counter. Constant
/// time in the secret (HMAC-SHA1; the truncation offset is public once the
/// code is shown).
#[cfg(feature = "service-codes")]
pub fn hotp(secret: &ServiceSecret, counter: u64, digits: u8) -> u32 {
    use hmac::{Hmac, Mac};
    use sha1::Sha1;
    let Ok(mut mac) = <Hmac<Sha1> as KeyInit>::new_from_slice(&secret.0) else {
        return 0;
    };
    mac.update(&counter.to_be_bytes());
    let mut hs = mac.finalize().into_bytes();
    let offset = usize::from(hs.get(19).copied().unwrap_or(0) & 0x0f);
    let mut word = [0u8; 4];
    for (dst, src) in word.iter_mut().zip(hs.iter().skip(offset)) {
        *dst = *src;
    }
    hs.as_mut_slice().zeroize();
    let value = u32::from_be_bytes(word) & 0x7fff_ffff;
    word.zeroize();
    u32::try_from(u64::from(value) % modulus(digits)).unwrap_or(0)
}

#[cfg(all(test, feature = "service-codes"))]
mod tests {
    use super::*;

    /// RFC 6238 Appendix B, the SHA-1 rows (8 digits, 30-second step).
    #[test]
    fn rfc6238_appendix_b() {
        let secret = ServiceSecret(*b"12345678901234567890");
        for (t, code) in [
            (59u64, 94_287_082u32),
            (1_111_111_109, 7_081_804),
            (1_111_111_111, 14_050_471),
            (1_234_567_890, 89_005_924),
            (2_000_000_000, 69_279_037),
            (20_000_000_000, 65_353_130),
        ] {
            assert_eq!(hotp(&secret, t / 30, 8), code, "T = {t}");
        }
        // RFC 4226 Appendix D: HOTP of counters 0..=9, 6 digits.
        let expected = [
            755_224, 287_082, 359_152, 969_429, 338_314, 254_676, 287_922, 162_583, 399_871,
            520_489,
        ];
        for (counter, code) in (0u64..).zip(expected) {
            assert_eq!(hotp(&secret, counter, 6), code);
        }
    }

    #[test]
    fn base32_and_redaction() {
        let secret = ServiceSecret(*b"12345678901234567890");
        assert_eq!(&secret.base32(), b"GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
        assert_eq!(std::format!("{secret:?}"), "ServiceSecret(..)");
        assert_eq!(max_values_per_code(8), 22);
        assert_eq!(max_values_per_code(10), 1);
        assert_eq!(max_values_per_code(6), 2_148);
    }
}
