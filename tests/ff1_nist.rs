//! Known-answer tests for `offpin::ff1`: the radix-10 samples of NIST SP
//! 800-38G's "FF1 samples" (loaded from `tests/vectors/ff1_nist.json`),
//! each also cross-checked against the `fpe` crate, plus radix-9
//! cross-checks and the error cases.

#![allow(
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a failed unwrap or index is a failed test"
)]

use aes::cipher::{BlockCipherEncrypt, BlockSizeUser, KeyInit, consts::U16};
use fpe::ff1::{FF1, FlexibleNumeralString};
use offpin::ff1::{Ff1, Ff1Aes128, Ff1Error, MAX_TWEAK_LEN, Radix};
use serde_json::Value;

const VECTORS: &str = include_str!("vectors/ff1_nist.json");

struct Sample {
    number: u64,
    cipher: String,
    key: Vec<u8>,
    radix: u32,
    tweak: Vec<u8>,
    plaintext: Vec<u8>,
    ciphertext: Vec<u8>,
}

fn digits(s: &str) -> Vec<u8> {
    s.bytes()
        .map(|c| {
            assert!(c.is_ascii_digit(), "not a decimal numeral: {s}");
            c - b'0'
        })
        .collect()
}

fn value(digits: &[u8], radix: u64) -> u64 {
    digits.iter().fold(0, |acc, &d| acc * radix + u64::from(d))
}

fn render(mut x: u64, radix: u64, n: usize) -> Vec<u8> {
    let mut out = vec![0u8; n];
    for d in out.iter_mut().rev() {
        *d = u8::try_from(x % radix).unwrap();
        x /= radix;
    }
    assert_eq!(x, 0);
    out
}

fn str_field<'a>(v: &'a Value, name: &str) -> &'a str {
    v[name]
        .as_str()
        .unwrap_or_else(|| panic!("field {name} missing in {v}"))
}

fn load() -> (Vec<Sample>, Vec<Value>) {
    let root: Value = serde_json::from_str(VECTORS).unwrap();
    assert!(str_field(&root, "source").contains("NIST SP 800-38G"));
    let samples = root["samples"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            assert!(str_field(s, "source").starts_with(
                "NIST SP 800-38G, FF1 samples (csrc.nist.gov examples, FF1samples.pdf), Sample "
            ));
            Sample {
                number: s["sample"].as_u64().unwrap(),
                cipher: str_field(s, "cipher").to_owned(),
                key: hex::decode(str_field(s, "key")).unwrap(),
                radix: u32::try_from(s["radix"].as_u64().unwrap()).unwrap(),
                tweak: hex::decode(str_field(s, "tweak")).unwrap(),
                plaintext: digits(str_field(s, "plaintext")),
                ciphertext: digits(str_field(s, "ciphertext")),
            }
        })
        .collect();
    let skipped = root["skipped"].as_array().unwrap().clone();
    (samples, skipped)
}

fn fpe_encrypt<C>(key: &[u8], radix: u32, tweak: &[u8], x: &[u8]) -> Vec<u8>
where
    C: BlockCipherEncrypt + KeyInit + Clone,
{
    let ff1 = FF1::<C>::new(key, radix).unwrap();
    let ns = FlexibleNumeralString::from(x.iter().map(|&d| u16::from(d)).collect::<Vec<_>>());
    let out: Vec<u16> = ff1.encrypt(tweak, &ns).unwrap().into();
    out.into_iter().map(|d| u8::try_from(d).unwrap()).collect()
}

fn fpe_decrypt<C>(key: &[u8], radix: u32, tweak: &[u8], x: &[u8]) -> Vec<u8>
where
    C: BlockCipherEncrypt + KeyInit + Clone,
{
    let ff1 = FF1::<C>::new(key, radix).unwrap();
    let ns = FlexibleNumeralString::from(x.iter().map(|&d| u16::from(d)).collect::<Vec<_>>());
    let out: Vec<u16> = ff1.decrypt(tweak, &ns).unwrap().into();
    out.into_iter().map(|d| u8::try_from(d).unwrap()).collect()
}

/// Checks one sample with cipher `C`: both directions, both APIs, the
/// `fpe` crate, batch, and tampered ciphertexts.
fn check_sample<C>(s: &Sample)
where
    C: BlockCipherEncrypt + BlockSizeUser<BlockSize = U16> + KeyInit + Clone,
{
    let radix = match s.radix {
        10 => Radix::Ten,
        9 => Radix::Nine,
        r => panic!("sample {}: unsupported radix {r}", s.number),
    };
    let r = u64::from(s.radix);
    let n = u8::try_from(s.plaintext.len()).unwrap();
    let ctx = format!("sample {}", s.number);

    // The published values agree with an independent implementation.
    assert_eq!(
        fpe_encrypt::<C>(&s.key, s.radix, &s.tweak, &s.plaintext),
        s.ciphertext,
        "{ctx}: fpe disagrees with the vector file"
    );
    assert_eq!(
        fpe_decrypt::<C>(&s.key, s.radix, &s.tweak, &s.ciphertext),
        s.plaintext,
        "{ctx}: fpe decrypt"
    );

    let ff1 = Ff1::<C>::new(&s.key, radix, n, &s.tweak).unwrap();
    assert_eq!(ff1.radix(), radix);
    assert_eq!(ff1.len(), n);
    assert_eq!(ff1.domain_size(), r.pow(u32::from(n)));

    // Integer API, both directions.
    let pt = value(&s.plaintext, r);
    let ct = value(&s.ciphertext, r);
    assert_eq!(ff1.encrypt(pt), Ok(ct), "{ctx}: encrypt");
    assert_eq!(ff1.decrypt(ct), Ok(pt), "{ctx}: decrypt");

    // Digit API, both directions, in place.
    let mut buf = s.plaintext.clone();
    ff1.encrypt_digits(&mut buf).unwrap();
    assert_eq!(buf, s.ciphertext, "{ctx}: encrypt_digits");
    ff1.decrypt_digits(&mut buf).unwrap();
    assert_eq!(buf, s.plaintext, "{ctx}: decrypt_digits");

    // Batch API (a lone value, and amid others).
    let mut batch = vec![pt; 11];
    batch[4] = 0;
    ff1.encrypt_batch(&mut batch).unwrap();
    assert!(batch.iter().enumerate().all(|(i, &y)| i == 4 || y == ct));
    ff1.decrypt_batch(&mut batch).unwrap();
    assert!(batch.iter().enumerate().all(|(i, &x)| i == 4 || x == pt));
    assert_eq!(batch[4], 0);

    // Tampering: one changed digit of the ciphertext must not decrypt to
    // the plaintext (and still agrees with fpe).
    for pos in 0..s.ciphertext.len() {
        for delta in 1..s.radix {
            let mut tampered = s.ciphertext.clone();
            tampered[pos] = u8::try_from((u32::from(tampered[pos]) + delta) % s.radix).unwrap();
            let x = ff1.decrypt(value(&tampered, r)).unwrap();
            assert_ne!(
                x, pt,
                "{ctx}: tampered digit {pos} decrypts to the plaintext"
            );
            if delta == 1 {
                let mut digits = tampered.clone();
                ff1.decrypt_digits(&mut digits).unwrap();
                assert_eq!(value(&digits, r), x);
                assert_eq!(
                    digits,
                    fpe_decrypt::<C>(&s.key, s.radix, &s.tweak, &tampered),
                    "{ctx}: tampered digit {pos}: fpe"
                );
            }
        }
    }
}

#[test]
fn nist_radix_10_samples() {
    let (samples, _) = load();
    let numbers: Vec<u64> = samples.iter().map(|s| s.number).collect();
    assert_eq!(numbers, [1, 2, 4, 5, 7, 8]);
    for s in &samples {
        match s.cipher.as_str() {
            "AES-128" => check_sample::<aes::Aes128>(s),
            "AES-192" => check_sample::<aes::Aes192>(s),
            "AES-256" => check_sample::<aes::Aes256>(s),
            c => panic!("sample {}: unknown cipher {c}", s.number),
        }
    }
}

#[test]
fn radix_36_samples_are_listed_as_skipped() {
    let (_, skipped) = load();
    let numbers: Vec<u64> = skipped
        .iter()
        .map(|s| s["sample"].as_u64().unwrap())
        .collect();
    assert_eq!(numbers, [3, 6, 9]);
    for s in &skipped {
        assert_eq!(s["radix"].as_u64(), Some(36));
        assert!(str_field(s, "reason").contains("radix 36 unsupported"));
    }
}

#[test]
fn sample_1_by_hand() {
    let key = hex::decode("2B7E151628AED2A6ABF7158809CF4F3C").unwrap();
    let ff1 = Ff1Aes128::new(&key, Radix::Ten, 10, b"").unwrap();
    assert_eq!(ff1.encrypt(123_456_789), Ok(2_433_477_484));
    // The sample-2 tweak is the ASCII string "9876543210".
    let ff1 = Ff1Aes128::new(&key, Radix::Ten, 10, b"9876543210").unwrap();
    assert_eq!(ff1.encrypt(123_456_789), Ok(6_124_200_773));
}

/// Radix 9 has no NIST sample: cross-check with fpe at every length and a
/// few tweak lengths (including the maximum).
#[test]
fn radix_9_against_fpe() {
    let key: Vec<u8> = (0u8..16).map(|i| i.wrapping_mul(37) ^ 0xA5).collect();
    for n in Radix::Nine.min_len()..=Radix::Nine.max_len() {
        for tweak_len in [0usize, 1, 10, 11, 12, 15, 16, 27, 63, MAX_TWEAK_LEN] {
            let tweak: Vec<u8> = (0..tweak_len)
                .map(|i| u8::try_from((i * 7 + usize::from(n)) % 256).unwrap())
                .collect();
            let ff1 = Ff1Aes128::new(&key, Radix::Nine, n, &tweak).unwrap();
            let domain = ff1.domain_size();
            assert_eq!(domain, 9u64.pow(u32::from(n)));
            for x in [0, 1, domain / 3, domain - 2, domain - 1] {
                let pt = render(x, 9, usize::from(n));
                let want = fpe_encrypt::<aes::Aes128>(&key, 9, &tweak, &pt);
                let y = ff1.encrypt(x).unwrap();
                assert_eq!(
                    render(y, 9, usize::from(n)),
                    want,
                    "n={n} t={tweak_len} x={x}"
                );
                assert_eq!(ff1.decrypt(y), Ok(x));
                let mut d = pt.clone();
                ff1.encrypt_digits(&mut d).unwrap();
                assert_eq!(d, want);
            }
        }
    }
}

/// `encrypt(x) == NUM(encrypt_digits(STR_n(x)))`, for both radixes and every
/// length.
#[test]
fn integer_and_digit_apis_agree() {
    let key = [0x42u8; 16];
    for radix in Radix::ALL {
        let r = u64::from(radix.value());
        for n in radix.min_len()..=radix.max_len() {
            let ff1 = Ff1Aes128::new(&key, radix, n, b"offpin").unwrap();
            let domain = ff1.domain_size();
            for x in [0, 7, domain / 2 + 1, domain - 1] {
                let y = ff1.encrypt(x).unwrap();
                let mut d = render(x, r, usize::from(n));
                ff1.encrypt_digits(&mut d).unwrap();
                assert_eq!(value(&d, r), y);
                assert!(y < domain);
                ff1.decrypt_digits(&mut d).unwrap();
                assert_eq!(value(&d, r), x);
            }
        }
    }
}

#[test]
fn parameter_errors_are_specific() {
    let key = [1u8; 16];
    assert_eq!(
        Ff1Aes128::new(&key, Radix::Ten, 5, b"").err(),
        Some(Ff1Error::LengthTooShort {
            radix: 10,
            len: 5,
            min: 6
        })
    );
    assert_eq!(
        Ff1Aes128::new(&key, Radix::Nine, 6, b"").err(),
        Some(Ff1Error::LengthTooShort {
            radix: 9,
            len: 6,
            min: 7
        })
    );
    assert_eq!(
        Ff1Aes128::new(&key, Radix::Ten, 0, b"").err(),
        Some(Ff1Error::LengthTooShort {
            radix: 10,
            len: 0,
            min: 6
        })
    );
    for radix in [Radix::Ten, Radix::Nine] {
        for len in [19u8, 20, 255] {
            assert_eq!(
                Ff1Aes128::new(&key, radix, len, b"").err(),
                Some(Ff1Error::LengthTooLong { len, max: 18 })
            );
        }
    }
    assert_eq!(
        Ff1Aes128::new(&key, Radix::Ten, 10, &[0; 65]).err(),
        Some(Ff1Error::TweakTooLong { len: 65, max: 64 })
    );
    assert_eq!(
        Ff1Aes128::new(&key, Radix::Ten, 10, &[0; 1000]).err(),
        Some(Ff1Error::TweakTooLong { len: 1000, max: 64 })
    );
    assert_eq!(
        Ff1Aes128::new(&[0; 32], Radix::Ten, 10, b"").err(),
        Some(Ff1Error::KeyLength {
            expected: 16,
            got: 32
        })
    );
    assert_eq!(
        Ff1::<aes::Aes256>::new(&key, Radix::Ten, 10, b"").err(),
        Some(Ff1Error::KeyLength {
            expected: 32,
            got: 16
        })
    );
    assert!(Ff1Aes128::new(&key, Radix::Ten, 6, &[0; MAX_TWEAK_LEN]).is_ok());
    assert!(Ff1Aes128::new(&key, Radix::Nine, 7, b"").is_ok());
    assert!(Ff1Aes128::new(&key, Radix::Ten, 18, b"").is_ok());
}

#[test]
fn numeral_errors_are_specific() {
    let ff1 = Ff1Aes128::new(&[1u8; 16], Radix::Ten, 6, b"t").unwrap();
    assert_eq!(ff1.encrypt(1_000_000), Err(Ff1Error::NumeralOutOfRange));
    assert_eq!(ff1.decrypt(u64::MAX), Err(Ff1Error::NumeralOutOfRange));
    assert!(ff1.encrypt(999_999).is_ok());

    // Batch: all values are validated before any is touched.
    let mut xs = [1, 2, 3, 4, 5, 6, 7, 8, 9, 1_000_000];
    assert_eq!(ff1.encrypt_batch(&mut xs), Err(Ff1Error::NumeralOutOfRange));
    assert_eq!(xs, [1, 2, 3, 4, 5, 6, 7, 8, 9, 1_000_000]);
    assert_eq!(ff1.decrypt_batch(&mut xs), Err(Ff1Error::NumeralOutOfRange));
    assert_eq!(xs, [1, 2, 3, 4, 5, 6, 7, 8, 9, 1_000_000]);
    assert_eq!(ff1.encrypt_batch(&mut []), Ok(()));

    // Digits: a value >= radix, and the wrong count. The slice is unchanged.
    let mut d = [0, 1, 2, 10, 4, 5];
    assert_eq!(
        ff1.encrypt_digits(&mut d),
        Err(Ff1Error::DigitOutOfRange { radix: 10 })
    );
    assert_eq!(d, [0, 1, 2, 10, 4, 5]);
    let mut d = [255, 1, 2, 3, 4, 5];
    assert_eq!(
        ff1.decrypt_digits(&mut d),
        Err(Ff1Error::DigitOutOfRange { radix: 10 })
    );
    let mut d = [0u8; 5];
    assert_eq!(
        ff1.encrypt_digits(&mut d),
        Err(Ff1Error::WrongDigitCount {
            expected: 6,
            got: 5
        })
    );
    let mut d = [0u8; 7];
    assert_eq!(
        ff1.decrypt_digits(&mut d),
        Err(Ff1Error::WrongDigitCount {
            expected: 6,
            got: 7
        })
    );

    let nine = Ff1Aes128::new(&[1u8; 16], Radix::Nine, 7, b"").unwrap();
    assert_eq!(nine.encrypt(4_782_969), Err(Ff1Error::NumeralOutOfRange));
    let mut d = [0, 1, 2, 3, 4, 5, 9];
    assert_eq!(
        nine.encrypt_digits(&mut d),
        Err(Ff1Error::DigitOutOfRange { radix: 9 })
    );
    let mut d = [8u8; 7];
    assert!(nine.encrypt_digits(&mut d).is_ok());
}

#[test]
fn errors_display() {
    let errors = [
        Ff1Error::LengthTooShort {
            radix: 9,
            len: 6,
            min: 7,
        },
        Ff1Error::LengthTooLong { len: 19, max: 18 },
        Ff1Error::TweakTooLong { len: 65, max: 64 },
        Ff1Error::KeyLength {
            expected: 16,
            got: 15,
        },
        Ff1Error::NumeralOutOfRange,
        Ff1Error::DigitOutOfRange { radix: 10 },
        Ff1Error::WrongDigitCount {
            expected: 6,
            got: 5,
        },
    ];
    for e in errors {
        assert!(!e.to_string().is_empty());
    }
    assert_eq!(
        errors[0].to_string(),
        "FF1 needs radix^len >= 1000000: radix 9 needs at least 7 digits, not 6"
    );
}

#[test]
fn debug_is_redacted() {
    let key = [0xABu8; 16];
    let ff1 = Ff1Aes128::new(&key, Radix::Ten, 10, b"secret-tweak").unwrap();
    let s = format!("{ff1:?}");
    assert_eq!(s, "Ff1 { radix: Ten, len: 10, .. }");
    assert!(!s.to_lowercase().contains("ab"));
    let clone = ff1.clone();
    assert_eq!(clone.encrypt(5), ff1.encrypt(5));
}
