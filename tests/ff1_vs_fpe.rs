//! Property tests: `offpin::ff1` against the `fpe` crate's FF1 over random
//! keys (AES-128/192/256), tweaks (0..=MAX_TWEAK_LEN bytes), every radix 2 to 10,
//! every supported length and random numerals; plus round trips and batch
//! against one-by-one.

#![allow(
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a failed unwrap or index is a failed test"
)]

use aes::cipher::{BlockCipherEncrypt, BlockSizeUser, KeyInit, consts::U16};
use fpe::ff1::{FF1, FlexibleNumeralString};
use offpin::ff1::{Ff1, MAX_TWEAK_LEN, Radix};
use proptest::prelude::*;

const CASES: u32 = 256;

fn render(mut x: u64, radix: u64, n: u8) -> Vec<u16> {
    let mut out = vec![0u16; usize::from(n)];
    for d in out.iter_mut().rev() {
        *d = u16::try_from(x % radix).unwrap();
        x /= radix;
    }
    out
}

fn value(digits: &[u16], radix: u64) -> u64 {
    digits.iter().fold(0, |acc, &d| acc * radix + u64::from(d))
}

/// (radix, length, x < radix^length).
fn numeral() -> impl Strategy<Value = (Radix, u8, u64)> {
    proptest::sample::select(Radix::ALL.to_vec())
        .prop_flat_map(|radix| (Just(radix), radix.min_len()..=radix.max_len()))
        .prop_flat_map(|(radix, n)| {
            let domain = u64::from(radix.value()).pow(u32::from(n));
            (Just(radix), Just(n), 0..domain)
        })
}

fn tweak() -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(any::<u8>(), 0..=MAX_TWEAK_LEN)
}

/// Our encrypt/decrypt equal fpe's, and round-trip.
fn agrees_with_fpe<C>(
    key: &[u8],
    tweak: &[u8],
    radix: Radix,
    n: u8,
    x: u64,
) -> Result<(), TestCaseError>
where
    C: BlockCipherEncrypt + BlockSizeUser<BlockSize = U16> + KeyInit + Clone,
{
    let r = u64::from(radix.value());
    let ours = Ff1::<C>::new(key, radix, n, tweak).unwrap();
    let theirs = FF1::<C>::new(key, radix.value()).unwrap();

    let y = ours.encrypt(x).unwrap();
    let want: Vec<u16> = theirs
        .encrypt(tweak, &FlexibleNumeralString::from(render(x, r, n)))
        .unwrap()
        .into();
    prop_assert_eq!(render(y, r, n), want);
    prop_assert_eq!(ours.decrypt(y).unwrap(), x);

    // Decrypting x (as a ciphertext) agrees too.
    let z = ours.decrypt(x).unwrap();
    let want: Vec<u16> = theirs
        .decrypt(tweak, &FlexibleNumeralString::from(render(x, r, n)))
        .unwrap()
        .into();
    prop_assert_eq!(value(&want, r), z);
    prop_assert_eq!(ours.encrypt(z).unwrap(), x);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES))]

    #[test]
    fn aes128_matches_fpe(key in any::<[u8; 16]>(), tweak in tweak(), (radix, n, x) in numeral()) {
        agrees_with_fpe::<aes::Aes128>(&key, &tweak, radix, n, x)?;
    }

    #[test]
    fn aes192_matches_fpe(key in any::<[u8; 24]>(), tweak in tweak(), (radix, n, x) in numeral()) {
        agrees_with_fpe::<aes::Aes192>(&key, &tweak, radix, n, x)?;
    }

    #[test]
    fn aes256_matches_fpe(key in any::<[u8; 32]>(), tweak in tweak(), (radix, n, x) in numeral()) {
        agrees_with_fpe::<aes::Aes256>(&key, &tweak, radix, n, x)?;
    }

    #[test]
    fn digits_match_integers(key in any::<[u8; 16]>(), tweak in tweak(), (radix, n, x) in numeral()) {
        let r = u64::from(radix.value());
        let ff1 = Ff1::<aes::Aes128>::new(&key, radix, n, &tweak).unwrap();
        let mut digits: Vec<u8> = render(x, r, n).into_iter().map(|d| u8::try_from(d).unwrap()).collect();
        ff1.encrypt_digits(&mut digits).unwrap();
        let as_u16: Vec<u16> = digits.iter().map(|&d| u16::from(d)).collect();
        prop_assert_eq!(value(&as_u16, r), ff1.encrypt(x).unwrap());
        ff1.decrypt_digits(&mut digits).unwrap();
        let as_u16: Vec<u16> = digits.iter().map(|&d| u16::from(d)).collect();
        prop_assert_eq!(value(&as_u16, r), x);
    }

    #[test]
    fn batch_equals_one_by_one(
        key in any::<[u8; 16]>(),
        tweak in tweak(),
        radix in proptest::sample::select(Radix::ALL.to_vec()),
        n_off in 0u8..=12,
        seeds in proptest::collection::vec(any::<u64>(), 0..40),
    ) {
        let n = (radix.min_len() + n_off).min(radix.max_len());
        let ff1 = Ff1::<aes::Aes128>::new(&key, radix, n, &tweak).unwrap();
        let domain = ff1.domain_size();
        let xs: Vec<u64> = seeds.iter().map(|s| s % domain).collect();

        let mut batch = xs.clone();
        ff1.encrypt_batch(&mut batch).unwrap();
        let one_by_one: Vec<u64> = xs.iter().map(|&x| ff1.encrypt(x).unwrap()).collect();
        prop_assert_eq!(&batch, &one_by_one);

        ff1.decrypt_batch(&mut batch).unwrap();
        prop_assert_eq!(&batch, &xs);

        let mut dec = xs.clone();
        ff1.decrypt_batch(&mut dec).unwrap();
        let one_by_one: Vec<u64> = xs.iter().map(|&x| ff1.decrypt(x).unwrap()).collect();
        prop_assert_eq!(dec, one_by_one);
    }
}
