//! What seals a saved image to its lock: key fingerprints, the state key,
//! the AES-CMAC tag and the CRC-32 that tells a torn write from a forgery.
//!
//! Everything here uses AES-128 under the lock's own key(s), which the lock
//! carries for FF1 anyway: no hash function is needed on the lock.
//!
//! ```text
//! fingerprint(K) = AES_K("offpin/v2/key-fp")[0..8]
//! state_key      = AES_K0("offpin/v2/state\0")   K0: the first key of the image
//! tag            = AES-CMAC(state_key, image bytes before the tag)   (RFC 4493)
//! crc            = CRC-32 (IEEE 802.3, reflected, as zlib) of the bytes before it
//! ```
//!
//! The labels are single AES blocks that no block FF1 encrypts can equal
//! (FF1's first PRF block starts with `01 02 01`), so the state key and the
//! fingerprints are independent of every FF1 evaluation: the device key's
//! FF1 and the image's MAC never share an AES input.

use aes::Aes128;
use aes::cipher::{Array, BlockCipherEncrypt, KeyInit};
use cmac::{Cmac, Mac};
use zeroize::Zeroize;

use crate::codec::Codec;

/// Label block of the key fingerprints.
pub const FINGERPRINT_LABEL: [u8; 16] = *b"offpin/v2/key-fp";
/// Label block of the state key.
pub const STATE_KEY_LABEL: [u8; 16] = *b"offpin/v2/state\0";
/// Bytes of a key fingerprint.
pub const FINGERPRINT_LEN: usize = 8;
/// Bytes of the AES-CMAC tag.
pub const TAG_LEN: usize = 16;
/// Bytes of the CRC-32.
pub const CRC_LEN: usize = 4;

/// `AES_K(block)` under the codec's key.
fn encrypt(cipher: &Aes128, block: [u8; 16]) -> [u8; 16] {
    let mut b = Array::from(block);
    cipher.encrypt_block(&mut b);
    let out: [u8; 16] = b.into();
    b.as_mut_slice().zeroize();
    out
}

/// The public fingerprint of the codec's key: names the key in an image
/// without revealing it (an AES output under the key).
pub(crate) fn fingerprint(codec: &Codec) -> [u8; FINGERPRINT_LEN] {
    let block = encrypt(codec.cipher(), FINGERPRINT_LABEL);
    let mut fp = [0u8; FINGERPRINT_LEN];
    for (d, s) in fp.iter_mut().zip(block.iter()) {
        *d = *s;
    }
    fp
}

/// The CMAC of `bytes` under the state key derived from `codec`'s key.
fn cmac(codec: &Codec, bytes: &[u8]) -> Cmac<Aes128> {
    let mut key = encrypt(codec.cipher(), STATE_KEY_LABEL);
    let mut mac = <Cmac<Aes128> as KeyInit>::new(&Array::from(key));
    key.zeroize();
    mac.update(bytes);
    mac
}

/// The tag of `bytes` under the state key derived from `codec`'s key.
pub(crate) fn tag(codec: &Codec, bytes: &[u8]) -> [u8; TAG_LEN] {
    cmac(codec, bytes).finalize().into_bytes().into()
}

/// Whether `tag` is the tag of `bytes` (compared in constant time).
pub(crate) fn verify(codec: &Codec, bytes: &[u8], tag: &[u8]) -> bool {
    cmac(codec, bytes).verify_slice(tag).is_ok()
}

/// The CRC-32 of each nibble value: 64 bytes of table, two look-ups a
/// byte (eight times fewer steps than bit by bit).
#[allow(
    clippy::indexing_slicing,
    clippy::cast_possible_truncation,
    reason = "const evaluation: n < 16, the table's length (a build error otherwise)"
)]
const CRC_NIBBLES: [u32; 16] = {
    let mut table = [0u32; 16];
    let mut n = 0;
    while n < 16 {
        let mut crc = n as u32;
        let mut bit = 0;
        while bit < 4 {
            crc = (crc >> 1) ^ (0xEDB8_8320 & (crc & 1).wrapping_neg());
            bit += 1;
        }
        table[n] = crc;
        n += 1;
    }
    table
};

/// One nibble step of the CRC.
#[allow(
    clippy::indexing_slicing,
    reason = "the index is masked to 0..16, the table's length"
)]
const fn crc_nibble(crc: u32) -> u32 {
    (crc >> 4) ^ CRC_NIBBLES[(crc & 0xF) as usize]
}

/// CRC-32 (IEEE 802.3, reflected polynomial `0xEDB88320`, initial and
/// final XOR `0xFFFFFFFF`: zlib's `crc32`), a nibble at a time from a
/// 16-entry table. It only tells accidental damage (a torn write, a worn
/// cell) from deliberate change; the tag is what authenticates.
pub(crate) fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = u32::MAX;
    for byte in bytes {
        crc ^= u32::from(*byte);
        crc = crc_nibble(crc_nibble(crc));
    }
    !crc
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unhex(s: &str) -> std::vec::Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    /// RFC 4493 §4: AES-CMAC with K = 2b7e1516 28aed2a6 abf71588 09cf4f3c,
    /// through the same `cmac` + `aes` the image uses.
    #[test]
    fn lock_seal_cmac_matches_rfc_4493() {
        let key = unhex("2b7e151628aed2a6abf7158809cf4f3c");
        let msg = unhex(concat!(
            "6bc1bee22e409f96e93d7e117393172a",
            "ae2d8a571e03ac9c9eb76fac45af8e51",
            "30c81c46a35ce411e5fbc1191a0a52ef",
            "f69f2445df4f9b17ad2b417be66c3710"
        ));
        let cases = [
            (0, "bb1d6929e95937287fa37d129b756746"),
            (16, "070a16b46b4d4144f79bdd9dd04a287c"),
            (40, "dfa66747de9ae63030ca32611497c827"),
            (64, "51f0bebf7e3b9d92fc49741779363cfe"),
        ];
        for (len, expected) in cases {
            let mut mac = <Cmac<Aes128> as KeyInit>::new_from_slice(&key).unwrap();
            mac.update(&msg[..len]);
            let out: [u8; 16] = mac.finalize().into_bytes().into();
            assert_eq!(out.to_vec(), unhex(expected), "Mlen = {len}");
        }
    }

    #[test]
    fn lock_seal_crc32_matches_zlib() {
        assert_eq!(crc32(b""), 0);
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(
            crc32(b"The quick brown fox jumps over the lazy dog"),
            0x414F_A339
        );
    }

    #[test]
    fn lock_seal_fingerprints_and_tags_depend_on_the_key() {
        use crate::keys::DeviceKey;
        use crate::profile::shipped::STANDARD_10;
        let a = Codec::new(&DeviceKey::from_bytes([1; 16]), STANDARD_10).unwrap();
        let b = Codec::new(&DeviceKey::from_bytes([2; 16]), STANDARD_10).unwrap();
        assert_ne!(fingerprint(&a), fingerprint(&b));
        let t = tag(&a, b"state");
        assert!(verify(&a, b"state", &t));
        assert!(!verify(&b, b"state", &t));
        assert!(!verify(&a, b"statf", &t));
        assert_ne!(&fingerprint(&a)[..], &t[..8], "separate labels");
    }
}
