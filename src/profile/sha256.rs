//! SHA-256 (FIPS 180-4) as a `const fn`, for what depends only on a
//! profile: its FF1 tweak is computed when the profile is built, in `const`
//! for the shipped profiles and any profile a firmware declares as a
//! `const`, so a lock image needs no SHA-256 code to get it.
//!
//! Written for compile-time evaluation, not speed: the server side hashes
//! with the `sha2` crate, and the tests check this function against it on
//! many inputs. It processes public data only (profile parameters), so it
//! makes no constant-time claim.

/// The first 32 bits of the fractional parts of the cube roots of the first
/// 64 primes (FIPS 180-4, 4.2.2).
const K: [u32; 64] = [
    0x428a_2f98,
    0x7137_4491,
    0xb5c0_fbcf,
    0xe9b5_dba5,
    0x3956_c25b,
    0x59f1_11f1,
    0x923f_82a4,
    0xab1c_5ed5,
    0xd807_aa98,
    0x1283_5b01,
    0x2431_85be,
    0x550c_7dc3,
    0x72be_5d74,
    0x80de_b1fe,
    0x9bdc_06a7,
    0xc19b_f174,
    0xe49b_69c1,
    0xefbe_4786,
    0x0fc1_9dc6,
    0x240c_a1cc,
    0x2de9_2c6f,
    0x4a74_84aa,
    0x5cb0_a9dc,
    0x76f9_88da,
    0x983e_5152,
    0xa831_c66d,
    0xb003_27c8,
    0xbf59_7fc7,
    0xc6e0_0bf3,
    0xd5a7_9147,
    0x06ca_6351,
    0x1429_2967,
    0x27b7_0a85,
    0x2e1b_2138,
    0x4d2c_6dfc,
    0x5338_0d13,
    0x650a_7354,
    0x766a_0abb,
    0x81c2_c92e,
    0x9272_2c85,
    0xa2bf_e8a1,
    0xa81a_664b,
    0xc24b_8b70,
    0xc76c_51a3,
    0xd192_e819,
    0xd699_0624,
    0xf40e_3585,
    0x106a_a070,
    0x19a4_c116,
    0x1e37_6c08,
    0x2748_774c,
    0x34b0_bcb5,
    0x391c_0cb3,
    0x4ed8_aa4a,
    0x5b9c_ca4f,
    0x682e_6ff3,
    0x748f_82ee,
    0x78a5_636f,
    0x84c8_7814,
    0x8cc7_0208,
    0x90be_fffa,
    0xa450_6ceb,
    0xbef9_a3f7,
    0xc671_78f2,
];

/// The initial hash value (FIPS 180-4, 5.3.3).
const H0: [u32; 8] = [
    0x6a09_e667,
    0xbb67_ae85,
    0x3c6e_f372,
    0xa54f_f53a,
    0x510e_527f,
    0x9b05_688c,
    0x1f83_d9ab,
    0x5be0_cd19,
];

/// The byte at position `i` of the padded message `data || 0x80 || 0* ||
/// [8 * len]^8` (FIPS 180-4, 5.1.1), whose length is `padded_len(len)`.
#[allow(
    clippy::indexing_slicing,
    reason = "i < data.len() is checked first, and 8 - (total - i) < 8 in the length field"
)]
#[allow(
    clippy::cast_possible_truncation,
    reason = "one byte of the bit length is wanted"
)]
const fn padded_byte(data: &[u8], total: usize, i: usize) -> u8 {
    let len = data.len();
    if i < len {
        data[i]
    } else if i == len {
        0x80
    } else if i + 8 >= total {
        // The last 8 bytes: the message length in bits, big-endian.
        let bits = (len as u64).wrapping_mul(8);
        let shift = 8 * (total - 1 - i);
        (bits >> shift) as u8
    } else {
        0
    }
}

/// The length of the padded message: a multiple of 64 bytes with room for
/// the `0x80` byte and the 8-byte length.
const fn padded_len(len: usize) -> usize {
    (len + 1 + 8).div_ceil(64) * 64
}

/// SHA-256 of `data`.
#[allow(
    clippy::indexing_slicing,
    reason = "every index is below the constant length of the array it indexes (t < 64, j < 8, 4j + 3 < 32)"
)]
#[allow(clippy::cast_possible_truncation, reason = "bytes of a u32 are wanted")]
pub(crate) const fn sha256(data: &[u8]) -> [u8; 32] {
    let total = padded_len(data.len());
    let mut h = H0;
    let mut block = 0;
    while block < total {
        // 6.2.2 step 1: the message schedule.
        let mut w = [0u32; 64];
        let mut t = 0;
        while t < 16 {
            let at = block + 4 * t;
            w[t] = u32::from_be_bytes([
                padded_byte(data, total, at),
                padded_byte(data, total, at + 1),
                padded_byte(data, total, at + 2),
                padded_byte(data, total, at + 3),
            ]);
            t += 1;
        }
        while t < 64 {
            let s0 = w[t - 15].rotate_right(7) ^ w[t - 15].rotate_right(18) ^ (w[t - 15] >> 3);
            let s1 = w[t - 2].rotate_right(17) ^ w[t - 2].rotate_right(19) ^ (w[t - 2] >> 10);
            w[t] = w[t - 16]
                .wrapping_add(s0)
                .wrapping_add(w[t - 7])
                .wrapping_add(s1);
            t += 1;
        }
        // Steps 2-3: the 64 rounds.
        let [mut a, mut b, mut c, mut d, mut e, mut f, mut g, mut hh] = h;
        t = 0;
        while t < 64 {
            let sigma1 = e.rotate_right(6) ^ e.rotate_right(11) ^ e.rotate_right(25);
            let ch = (e & f) ^ (!e & g);
            let t1 = hh
                .wrapping_add(sigma1)
                .wrapping_add(ch)
                .wrapping_add(K[t])
                .wrapping_add(w[t]);
            let sigma0 = a.rotate_right(2) ^ a.rotate_right(13) ^ a.rotate_right(22);
            let maj = (a & b) ^ (a & c) ^ (b & c);
            let t2 = sigma0.wrapping_add(maj);
            hh = g;
            g = f;
            f = e;
            e = d.wrapping_add(t1);
            d = c;
            c = b;
            b = a;
            a = t1.wrapping_add(t2);
            t += 1;
        }
        // Step 4: the intermediate hash value.
        let add = [a, b, c, d, e, f, g, hh];
        let mut j = 0;
        while j < 8 {
            h[j] = h[j].wrapping_add(add[j]);
            j += 1;
        }
        block += 64;
    }
    let mut out = [0u8; 32];
    let mut j = 0;
    while j < 8 {
        let bytes = h[j].to_be_bytes();
        out[4 * j] = bytes[0];
        out[4 * j + 1] = bytes[1];
        out[4 * j + 2] = bytes[2];
        out[4 * j + 3] = bytes[3];
        j += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::sha256;
    use proptest::prelude::*;
    use sha2::{Digest, Sha256};

    fn reference(data: &[u8]) -> [u8; 32] {
        Sha256::digest(data).into()
    }

    /// FIPS 180-4 examples (NIST CSRC "SHA256.pdf"): "abc" and the
    /// two-block 448-bit message.
    #[test]
    fn nist_examples() {
        assert_eq!(
            sha256(b"abc"),
            [
                0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea, 0x41, 0x41, 0x40, 0xde, 0x5d, 0xae,
                0x22, 0x23, 0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17, 0x7a, 0x9c, 0xb4, 0x10, 0xff, 0x61,
                0xf2, 0x00, 0x15, 0xad,
            ]
        );
        assert_eq!(
            sha256(b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            [
                0x24, 0x8d, 0x6a, 0x61, 0xd2, 0x06, 0x38, 0xb8, 0xe5, 0xc0, 0x26, 0x93, 0x0c, 0x3e,
                0x60, 0x39, 0xa3, 0x3c, 0xe4, 0x59, 0x64, 0xff, 0x21, 0x67, 0xf6, 0xec, 0xed, 0xd4,
                0x19, 0xdb, 0x06, 0xc1,
            ]
        );
    }

    /// Every length from 0 to 300 bytes: all the padding cases (the
    /// length field in the same block or the next, 55/56/63/64 bytes).
    #[test]
    fn every_length_up_to_300_matches_sha2() {
        let data: std::vec::Vec<u8> = (0..300u32)
            .map(|i| {
                let [low, ..] = (i * 131 + 7).to_le_bytes();
                low
            })
            .collect();
        for n in 0..=data.len() {
            assert_eq!(sha256(&data[..n]), reference(&data[..n]), "length {n}");
        }
    }

    /// Evaluated by the compiler: the same function in `const`.
    #[test]
    fn const_evaluation_matches_sha2() {
        const EMPTY: [u8; 32] = sha256(b"");
        const LONG: [u8; 32] = sha256(&[0x61; 1000]);
        assert_eq!(EMPTY, reference(b""));
        assert_eq!(LONG, reference(&[0x61; 1000]));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn matches_sha2(data in proptest::collection::vec(any::<u8>(), 0..600)) {
            prop_assert_eq!(sha256(&data), reference(&data));
        }
    }
}
