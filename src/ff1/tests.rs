use super::*;

const NIST_KEY: [u8; 16] = [
    0x2B, 0x7E, 0x15, 0x16, 0x28, 0xAE, 0xD2, 0xA6, 0xAB, 0xF7, 0x15, 0x88, 0x09, 0xCF, 0x4F, 0x3C,
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
