//! FF1 over arbitrary keys (AES-128/192/256), tweaks, radixes, lengths and
//! numerals: parameters are refused exactly when SP 800-38G or offpin's
//! bounds say so; otherwise decrypt(encrypt(x)) == x, the result agrees
//! with the `fpe` crate's FF1, the digit and batch entry points agree with
//! the value one, and out-of-range numerals are refused, never wrapped.

#![no_main]

use aes::cipher::{BlockCipherEncrypt, BlockSizeUser, KeyInit, consts::U16};
use arbitrary::Arbitrary;
use fpe::ff1::{FF1, FlexibleNumeralString};
use libfuzzer_sys::fuzz_target;
use offpin::ff1::{Ff1, Ff1Error, MAX_TWEAK_LEN, Radix};

#[derive(Arbitrary, Debug)]
enum KeySize {
    Aes128([u8; 16]),
    Aes192([u8; 24]),
    Aes256([u8; 32]),
}

#[derive(Arbitrary, Debug)]
struct Input {
    key: KeySize,
    /// Radix 9 when odd.
    /// The radix, mod 9: every radix from 10 down to 2.
    radix: u8,
    len: u8,
    tweak: Vec<u8>,
    x: u64,
    /// Extra numerals for the batch entry points (0 to 149 of them: every
    /// lane width, 64 included).
    more: Vec<u64>,
}

fuzz_target!(|input: Input| {
    let Input {
        key,
        radix,
        len,
        tweak,
        x,
        more,
    } = input;
    let radix = Radix::ALL[usize::from(radix) % Radix::ALL.len()];
    match key {
        KeySize::Aes128(k) => run::<aes::Aes128>(&k, radix, len, &tweak, x, &more),
        KeySize::Aes192(k) => run::<aes::Aes192>(&k, radix, len, &tweak, x, &more),
        KeySize::Aes256(k) => run::<aes::Aes256>(&k, radix, len, &tweak, x, &more),
    }
});

fn run<C>(key: &[u8], radix: Radix, len: u8, tweak: &[u8], x: u64, more: &[u64])
where
    C: BlockCipherEncrypt + BlockSizeUser<BlockSize = U16> + KeyInit + Clone,
{
    let Some(ff1) = accepted::<C>(key, radix, len, tweak) else {
        return;
    };
    let r = u64::from(radix.value());
    let domain = r.pow(u32::from(len));

    // Out-of-range numerals are refused.
    if x >= domain {
        assert_eq!(ff1.encrypt(x), Err(Ff1Error::NumeralOutOfRange));
        assert_eq!(ff1.decrypt(x), Err(Ff1Error::NumeralOutOfRange));
    }
    let x = x % domain;
    let (y, z) = round_trip(&ff1, domain, x);
    agrees_with_fpe::<C>(key, radix, len, tweak, x, (y, z));
    digit_entry_points(&ff1, r, len, x, y);
    batch_agrees(&ff1, domain, x, more);
}

/// FF1 is built exactly when SP 800-38G's and offpin's bounds allow it.
fn accepted<C>(key: &[u8], radix: Radix, len: u8, tweak: &[u8]) -> Option<Ff1<C>>
where
    C: BlockCipherEncrypt + BlockSizeUser<BlockSize = U16> + KeyInit + Clone,
{
    let valid_params =
        (radix.min_len()..=radix.max_len()).contains(&len) && tweak.len() <= MAX_TWEAK_LEN;
    match Ff1::<C>::new(key, radix, len, tweak) {
        Ok(ff1) => {
            assert!(
                valid_params,
                "accepted radix {radix:?} len {len} tweak {}",
                tweak.len()
            );
            Some(ff1)
        }
        Err(e) => {
            assert!(!valid_params, "refused valid parameters: {e:?}");
            None
        }
    }
}

/// Round trip both ways, inside the domain: a permutation. Returns
/// (encrypt(x), decrypt(x)).
fn round_trip<C>(ff1: &Ff1<C>, domain: u64, x: u64) -> (u64, u64)
where
    C: BlockCipherEncrypt + BlockSizeUser<BlockSize = U16> + KeyInit + Clone,
{
    let y = ff1.encrypt(x).expect("in-range numeral");
    assert!(y < domain);
    assert_eq!(ff1.decrypt(y), Ok(x));
    let z = ff1.decrypt(x).expect("in-range numeral");
    assert!(z < domain);
    assert_eq!(ff1.encrypt(z), Ok(x));
    (y, z)
}

/// The `fpe` crate's FF1 gives the same encryption and decryption.
fn agrees_with_fpe<C>(key: &[u8], radix: Radix, len: u8, tweak: &[u8], x: u64, (y, z): (u64, u64))
where
    C: BlockCipherEncrypt + BlockSizeUser<BlockSize = U16> + KeyInit + Clone,
{
    let r = u64::from(radix.value());
    let fpe = FF1::<C>::new(key, radix.value()).expect("radix 9 and 10 are valid");
    let ns = FlexibleNumeralString::from(render(x, r, len));
    let theirs = fpe.encrypt(tweak, &ns).expect("valid numeral string");
    assert_eq!(value(Vec::from(theirs), r), y, "encrypt disagrees with fpe");
    let ns = FlexibleNumeralString::from(render(x, r, len));
    let theirs = fpe.decrypt(tweak, &ns).expect("valid numeral string");
    assert_eq!(value(Vec::from(theirs), r), z, "decrypt disagrees with fpe");
}

/// The digit entry points agree with the value ones and refuse a digit
/// out of range (leaving the input as it was) or a wrong count.
fn digit_entry_points<C>(ff1: &Ff1<C>, r: u64, len: u8, x: u64, y: u64)
where
    C: BlockCipherEncrypt + BlockSizeUser<BlockSize = U16> + KeyInit + Clone,
{
    let mut digits: Vec<u8> = render(x, r, len)
        .into_iter()
        .map(|d| u8::try_from(d).expect("digit"))
        .collect();
    ff1.encrypt_digits(&mut digits).expect("valid digits");
    assert_eq!(digits.iter().fold(0, |a, &d| a * r + u64::from(d)), y);
    ff1.decrypt_digits(&mut digits).expect("valid digits");
    assert_eq!(digits.iter().fold(0, |a, &d| a * r + u64::from(d)), x);
    let mut bad = digits.clone();
    if let Some(first) = bad.first_mut() {
        *first = u8::try_from(r).expect("radix") + (x % 7) as u8;
        assert!(matches!(
            ff1.encrypt_digits(&mut bad),
            Err(Ff1Error::DigitOutOfRange { .. })
        ));
        assert_eq!(
            bad.first().copied(),
            Some(u8::try_from(r).expect("radix") + (x % 7) as u8)
        );
    }
    let mut short = digits.clone();
    short.pop();
    assert!(matches!(
        ff1.encrypt_digits(&mut short),
        Err(Ff1Error::WrongDigitCount { .. })
    ));
}

/// Batch (all lane widths: 8, 4, 2, 1) against one by one; one
/// out-of-range value refuses the batch with nothing written.
fn batch_agrees<C>(ff1: &Ff1<C>, domain: u64, x: u64, more: &[u64])
where
    C: BlockCipherEncrypt + BlockSizeUser<BlockSize = U16> + KeyInit + Clone,
{
    let mut xs: Vec<u64> = core::iter::once(x)
        .chain(more.iter().take(149).map(|m| m % domain))
        .collect();
    let plain = xs.clone();
    ff1.encrypt_batch(&mut xs).expect("in range");
    for (p, c) in plain.iter().zip(&xs) {
        assert_eq!(ff1.encrypt(*p), Ok(*c));
    }
    ff1.decrypt_batch(&mut xs).expect("in range");
    assert_eq!(xs, plain);
    xs.push(domain);
    assert_eq!(ff1.encrypt_batch(&mut xs), Err(Ff1Error::NumeralOutOfRange));
    assert_eq!(xs.get(..plain.len()), Some(plain.as_slice()));
}

fn render(mut x: u64, r: u64, n: u8) -> Vec<u16> {
    let mut out = vec![0u16; usize::from(n)];
    for d in out.iter_mut().rev() {
        *d = u16::try_from(x % r).expect("digit");
        x /= r;
    }
    out
}

fn value(digits: Vec<u16>, r: u64) -> u64 {
    digits.iter().fold(0, |acc, &d| acc * r + u64::from(d))
}
