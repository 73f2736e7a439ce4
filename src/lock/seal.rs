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
//!
//! The CMAC is written here (RFC 4493 §2.4 on the AES backend, one backend
//! set-up per tag) rather than taken from the `cmac` crate, whose generic
//! buffering costs the lock 150–200 bytes more flash; it is tested against
//! RFC 4493's vectors and subkeys and, on random keys and messages, against
//! the `cmac` crate (a dev-dependency).

use aes::Aes128;
use aes::cipher::{
    Array, BlockCipherEncBackend, BlockCipherEncClosure, BlockCipherEncrypt, BlockSizeUser,
    KeyInit, consts::U16,
};
use ctutils::CtEq;
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

/// `dbl` of RFC 4493 §2.3 (doubling in GF(2^128)): a shift left by one
/// bit, and the constant `0x87` folded into the last byte when the bit
/// shifted out was set (with a mask, not a branch: the subkeys are secret).
fn dbl(block: &mut [u8; 16]) {
    let mut carry = 0u8;
    for b in block.iter_mut().rev() {
        let out = *b >> 7;
        *b = *b << 1 | carry;
        carry = out;
    }
    if let Some(last) = block.last_mut() {
        *last ^= 0x87 & 0u8.wrapping_sub(carry);
    }
}

/// AES-CMAC (RFC 4493 §2.4) of a message, computed inside one call into
/// the AES backend (set up once, not once per block).
struct CmacOf<'a> {
    message: &'a [u8],
    tag: &'a mut [u8; TAG_LEN],
}

impl BlockSizeUser for CmacOf<'_> {
    type BlockSize = U16;
}

impl BlockCipherEncClosure for CmacOf<'_> {
    fn call<B: BlockCipherEncBackend<BlockSize = U16>>(self, backend: &B) {
        let encrypt = |block: &mut [u8; 16]| {
            let mut b = Array::from(*block);
            backend.encrypt_block((&mut b).into());
            *block = b.into();
            b.as_mut_slice().zeroize();
        };
        // Steps 1-3: the subkey (K1 = dbl(L), L = AES_K(0^128); K2 =
        // dbl(K1) for an incomplete last block) and the blocks. The empty
        // message is one incomplete block.
        let mut subkey = [0u8; 16];
        encrypt(&mut subkey);
        dbl(&mut subkey);
        let n = self.message.len();
        let complete = n != 0 && n.is_multiple_of(16);
        if !complete {
            dbl(&mut subkey);
        }
        let (body, last) = self
            .message
            .split_at(if complete { n - 16 } else { n - n % 16 });
        // Step 6: the CBC-MAC of every block but the last ...
        let mut x = [0u8; 16];
        for block in body.chunks_exact(16) {
            for (x, m) in x.iter_mut().zip(block) {
                *x ^= m;
            }
            encrypt(&mut x);
        }
        // ... and of step 4's last block: complete, XOR K1; else padded
        // with 10*, XOR K2.
        for (i, (x, k)) in x.iter_mut().zip(subkey.iter()).enumerate() {
            let m = match last.get(i) {
                Some(m) => *m,
                None if i == last.len() => 0x80,
                None => 0,
            };
            *x ^= m ^ k;
        }
        encrypt(&mut x);
        *self.tag = x;
        x.zeroize();
        subkey.zeroize();
    }
}

/// AES-CMAC (RFC 4493) of `bytes` under `cipher`'s key.
fn aes_cmac(cipher: &Aes128, bytes: &[u8]) -> [u8; TAG_LEN] {
    let mut tag = [0u8; TAG_LEN];
    cipher.encrypt_with_backend(CmacOf {
        message: bytes,
        tag: &mut tag,
    });
    tag
}

/// The tag of `bytes` under the state key derived from `codec`'s key.
pub(crate) fn tag(codec: &Codec, bytes: &[u8]) -> [u8; TAG_LEN] {
    let mut key = encrypt(codec.cipher(), STATE_KEY_LABEL);
    let cipher = Aes128::new(&Array::from(key));
    key.zeroize();
    aes_cmac(&cipher, bytes)
}

/// Whether `tag` is the tag of `bytes` (compared in constant time, with
/// `ctutils`; the same finalisation as [`tag`], so the image code carries
/// one).
pub(crate) fn verify(codec: &Codec, bytes: &[u8], tag: &[u8]) -> bool {
    let mut expected = self::tag(codec, bytes);
    let same = expected.as_slice().ct_eq(tag).into();
    expected.zeroize();
    same
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
/// cell) from deliberate change; the tag is what authenticates. Out of
/// line: the encoder and the decoder share it (64 bytes of the Cortex-M0
/// validator).
#[inline(never)]
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
    /// and its subkeys (§2.4's example).
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
        let cipher = Aes128::new_from_slice(&key).unwrap();
        for (len, expected) in cases {
            let out = aes_cmac(&cipher, &msg[..len]);
            assert_eq!(out.to_vec(), unhex(expected), "Mlen = {len}");
        }
        let mut k = [0u8; 16];
        cipher.encrypt_block((&mut k).into());
        assert_eq!(k.to_vec(), unhex("7df76b0c1ab899b33e42f047b91b546f"));
        dbl(&mut k);
        assert_eq!(k.to_vec(), unhex("fbeed618357133667c85e08f7236a8de"));
        dbl(&mut k);
        assert_eq!(k.to_vec(), unhex("f7ddac306ae266ccf90bc11ee46d513b"));
    }

    proptest::proptest! {
        /// Any message under any key gets the tag of the `cmac` crate
        /// (RustCrypto), the implementation the image used before: every
        /// image written before keeps authenticating.
        #[test]
        fn lock_seal_cmac_matches_the_cmac_crate(
            key in proptest::array::uniform16(proptest::num::u8::ANY),
            message in proptest::collection::vec(proptest::num::u8::ANY, 0..200),
        ) {
            use cmac::Mac;
            let mut reference = <cmac::Cmac<Aes128> as KeyInit>::new_from_slice(&key).unwrap();
            reference.update(&message);
            let expected: [u8; 16] = reference.finalize().into_bytes().into();
            let cipher = Aes128::new_from_slice(&key).unwrap();
            proptest::prop_assert_eq!(aes_cmac(&cipher, &message), expected);
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
