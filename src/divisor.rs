//! Constant-time division of a secret `u64` by a public divisor, with no
//! divide instruction and no division routine.
//!
//! The hardware divider is not constant time on the targets offpin runs on
//! (x86-64 `div` takes a data-dependent number of cycles on many cores; the
//! Cortex-M3/M4 `UDIV` terminates early; 64-bit division on 32-bit targets
//! is a software loop in `compiler_builtins`, and the Cortex-M0 has no
//! divider at all, so every division there is a call into 0.9 KB of
//! library code). FF1 reduces secret values modulo `radix^m` and splits
//! secret numerals into halves, the index layout splits a secret grant
//! index into its mixed-radix fields, and the lock turns times into hours
//! and days; all of them divide with a precomputed reciprocal instead
//! ([`Reciprocal`]: Barrett reduction, in the form of Granlund and
//! Montgomery, "Division by invariant integers using multiplication", PLDI
//! 1994). Reciprocals of constants and of a `const` profile's fields are
//! computed at compile time:
//!
//! * `m = floor(2^64 / d)` is computed once, from the public `d`;
//! * `q = floor(x * m / 2^64)` is either `floor(x / d)` or one less, because
//!   `x * m / 2^64 > x / d - x / 2^64 > x / d - 1`;
//! * so `r = x - q * d` lies in `0..2d`, and one masked correction
//!   (`r -= d; q += 1` when `r >= d`, selected with an all-ones/all-zeros
//!   mask rather than a branch) gives the exact quotient and remainder.
//!
//! The modular additions of the Feistel rounds, `(a ± y) mod d` with a
//! 64-bit `y`, use the exact remainder of Lemire, Kaser and Kurz ("Faster
//! remainder by direct computation", Software: Practice and Experience
//! 49(6), 2019, Theorem 1) instead: with `c = ceil(2^128 / d)`,
//! `z mod d = floor(((c * z) mod 2^128) * d / 2^128)` for every `z < 2^66`
//! when `d <= 2^62` (FF1's moduli are at most `10^9`). The numerator is
//! formed so that it is never negative and never needs a correction, so a
//! round is three multiplications and an addition with no selection at all:
//! that shortens the chain of dependent operations from one AES block to
//! the next, which is what bounds the speed of one FF1 evaluation.
//!
//! Every operation is a multiplication, an addition, a subtraction or a
//! bitwise mask whose operands do not change the instruction sequence.

use core::hint::black_box;

/// A public divisor `d >= 1` with its reciprocal: the quotient and
/// remainder of any `u64` by `d` in constant time (see the module docs).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct Reciprocal {
    /// The divisor.
    d: u64,
    /// `floor(2^64 / d)`, or `2^64 - 1` for `d = 1` (which keeps the
    /// quotient estimate within one of the truth, see the module docs).
    reciprocal: u64,
}

impl Reciprocal {
    /// Precomputes the reciprocal of `d` (with a 128-bit division, on the
    /// public `d` only: in `const` for a constant `d`). `d` must be at
    /// least 1 (the results for `d = 0` are meaningless, but nothing
    /// panics).
    #[allow(
        clippy::cast_possible_truncation,
        reason = "for d >= 2, 2^64 / d <= 2^63 fits in 64 bits; d <= 1 is handled apart"
    )]
    pub(crate) const fn new(d: u64) -> Reciprocal {
        let reciprocal = if d <= 1 {
            u64::MAX
        } else {
            ((1u128 << 64) / d as u128) as u64
        };
        Reciprocal { d, reciprocal }
    }

    /// `(x / d, x % d)` in constant time, for every `x: u64`.
    ///
    /// Inlined on 64-bit targets, where the 128-bit product is one or two
    /// instructions; called on 32-bit ones, where it is a dozen
    /// multiplications (on a Cortex-M0, calls to `__aeabi_lmul`) that are
    /// better written into the image once.
    #[cfg_attr(target_pointer_width = "64", inline)]
    #[cfg_attr(not(target_pointer_width = "64"), inline(never))]
    pub(crate) fn div_rem(self, x: u64) -> (u64, u64) {
        // Estimate: q0 in {floor(x/d) - 1, floor(x/d)}, so q0 * d <= x.
        let q0 = high_u64(u128::from(x) * u128::from(self.reciprocal));
        let r0 = x.wrapping_sub(q0.wrapping_mul(self.d));
        // Correction: r0 < 2d; subtract d once if r0 >= d.
        let (r1, borrow) = r0.overflowing_sub(self.d);
        let keep = mask_if(borrow);
        let r = (r0 & keep) | (r1 & !keep);
        let q = q0.wrapping_add(1 & !keep);
        (q, r)
    }

    /// `(floor(x / d), x mod d)` of a signed `x`, rounding towards negative
    /// infinity (Euclidean, for `d >= 1`): for the lock's time arithmetic.
    /// The sign of `x` picks a branch, so it is constant time only in the
    /// magnitude of `x` (times are public).
    #[allow(
        clippy::cast_possible_wrap,
        reason = "q <= |x| < 2^63 fits in an i64; !q is -(q + 1)"
    )]
    pub(crate) fn div_euclid(self, x: i64) -> (i64, u64) {
        // For a negative x, x = -(y + 1) with y = !x >= 0, and y = q d + r
        // gives x = -(q + 1) d + (d - 1 - r).
        let negative = x < 0;
        let y = if negative { !x } else { x };
        let (q, r) = self.div_rem(y.unsigned_abs());
        if negative {
            (!(q as i64), self.d.wrapping_sub(1).wrapping_sub(r))
        } else {
            (q as i64, r)
        }
    }

    /// `floor(x / d)` of a signed `x` (see [`Reciprocal::div_euclid`]).
    pub(crate) fn div_floor(self, x: i64) -> i64 {
        self.div_euclid(x).0
    }

    /// `ceil(x / d)` of a signed `x` (see [`Reciprocal::div_euclid`]),
    /// saturating at `i64::MAX`.
    pub(crate) fn div_ceil(self, x: i64) -> i64 {
        let (q, r) = self.div_euclid(x);
        q.saturating_add(i64::from(r != 0))
    }
}

/// A public divisor `d >= 1` with its precomputed reciprocal and the
/// constants of FF1's exact modular additions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Divisor {
    /// The divisor and its reciprocal.
    reciprocal: Reciprocal,
    /// `ceil(2^128 / d)` (wrapping to 0 for `d = 1`, which still gives the
    /// remainder 0; 0 for the meaningless `d = 0`).
    fastmod: u128,
    /// The least multiple of `d` that is at least `2^64` (0 for `d = 0`):
    /// added before subtracting a 64-bit `y`, it keeps the numerator
    /// non-negative without changing it modulo `d`.
    multiple_above_2_64: u128,
}

/// The high 64 bits of a 128-bit value.
#[inline(always)]
#[allow(
    clippy::cast_possible_truncation,
    reason = "shifted right by 64: the value fits in 64 bits"
)]
const fn high_u64(x: u128) -> u64 {
    (x >> 64) as u64
}

/// All ones if `borrow`, else zero; hidden from the optimiser so the
/// selection stays a mask instead of becoming a branch.
#[inline(always)]
fn mask_if(borrow: bool) -> u64 {
    black_box(0u64.wrapping_sub(u64::from(borrow)))
}

impl Divisor {
    /// Precomputes the reciprocal of `d` and the constants of the modular
    /// additions. The hardware divider is used here, on the public `d`
    /// only. `d` must be at least 1 (the results for `d = 0` are
    /// meaningless, but nothing panics).
    pub(crate) const fn new(d: u64) -> Divisor {
        let reciprocal = Reciprocal::new(d);
        let (fastmod, multiple_above_2_64) = if d == 0 {
            (0, 0)
        } else {
            let d = d as u128;
            (
                (u128::MAX / d).wrapping_add(1),
                (1u128 << 64).div_ceil(d) * d,
            )
        };
        Divisor {
            reciprocal,
            fastmod,
            multiple_above_2_64,
        }
    }

    /// The divisor `d`.
    pub(crate) const fn get(self) -> u64 {
        self.reciprocal.d
    }

    /// `(x / d, x % d)` in constant time, for every `x: u64`.
    #[inline]
    pub(crate) fn div_rem(self, x: u64) -> (u64, u64) {
        self.reciprocal.div_rem(x)
    }

    /// `x % d` in constant time, for every `x: u64`.
    #[cfg(test)]
    #[inline]
    pub(crate) fn rem(self, x: u64) -> u64 {
        self.div_rem(x).1
    }

    /// `floor(frac * d / 2^128)` for the fractional part `frac` of
    /// `z / d` (that is, `(c * z) mod 2^128`): `z mod d` when `z < 2^66`
    /// and `d <= 2^62` (Lemire, Kaser and Kurz, Theorem 1, with `N = 66`,
    /// `L = 62`: see the module docs). No correction step.
    #[inline(always)]
    #[allow(
        clippy::cast_possible_truncation,
        reason = "the low 64 bits of a 128-bit value are wanted"
    )]
    fn rem_from_fraction(self, frac: u128) -> u64 {
        // The high 64 bits of the 192-bit product frac * d.
        let d = u128::from(self.reciprocal.d);
        let low = (u128::from(frac as u64) * d) >> 64;
        high_u64(u128::from(high_u64(frac)) * d + low)
    }

    /// `(a + y) mod d` for `a < d` and any `y`, in constant time (exact for
    /// `d <= 2^62`; FF1's moduli are below `2^30`).
    #[inline]
    pub(crate) fn add_mod(self, a: u64, y: u64) -> u64 {
        // z = a + y < 2^64 + 2^62 < 2^66. Four multiplications: c * z
        // (z's high bit selects c, no product) and frac * d.
        self.rem_wide(u128::from(a) + u128::from(y))
    }

    /// `(b - y) mod d` for `b < d` and any `y`, in constant time (exact for
    /// `d <= 2^62`).
    #[inline]
    pub(crate) fn sub_mod(self, b: u64, y: u64) -> u64 {
        // z = b + k*d - y with k*d >= 2^64 > y: non-negative, congruent to
        // b - y, and below 2^62 + 2^64 + 2^62 < 2^66. Wrapping only for
        // the meaningless d = 0.
        let z = (u128::from(b) + self.multiple_above_2_64).wrapping_sub(u128::from(y));
        self.rem_wide(z)
    }

    /// `z mod d` for `z < 2^66`: the fractional part of `z / d` as a
    /// 128-bit fixed-point number, `frac = (c * z) mod 2^128`, then
    /// `floor(frac * d / 2^128)` (Lemire, Kaser and Kurz, Theorem 1).
    #[inline(always)]
    fn rem_wide(self, z: u128) -> u64 {
        self.rem_from_fraction(self.fastmod.wrapping_mul(z))
    }
}

#[cfg(test)]
mod tests {
    use super::{Divisor, Reciprocal};
    use proptest::prelude::*;

    /// The signed divisions the lock does, against `i64`'s own.
    fn signed_agrees(d: u64, x: i64) {
        let r = Reciprocal::new(d);
        let di = i64::try_from(d).unwrap();
        let (q, rem) = r.div_euclid(x);
        assert_eq!(
            (q, rem),
            (x.div_euclid(di), x.rem_euclid(di).unsigned_abs()),
            "{x} / {d}"
        );
        assert_eq!(r.div_floor(x), x.div_euclid(di));
        let ceil = i128::from(x).div_euclid(i128::from(d))
            + i128::from(i128::from(x).rem_euclid(i128::from(d)) != 0);
        assert_eq!(i128::from(r.div_ceil(x)), ceil.min(i128::from(i64::MAX)));
    }

    #[test]
    fn signed_edges() {
        for d in [1u64, 2, 3, 60, 3_600, 86_400, 1 << 40, i64::MAX as u64] {
            let di = i64::try_from(d).unwrap();
            for x in [
                i64::MIN,
                i64::MIN + 1,
                -di,
                -di - 1,
                1 - di,
                -1,
                0,
                1,
                di,
                i64::MAX - 1,
                i64::MAX,
            ] {
                signed_agrees(d, x);
            }
        }
    }

    /// Every divisor FF1 uses: radix^k for radix 9 and 10, k in 1..=18.
    fn ff1_divisors() -> impl Strategy<Value = u64> {
        (prop_oneof![Just(9u64), Just(10u64)], 1u32..=18).prop_map(|(r, k)| r.pow(k))
    }

    #[test]
    fn edges() {
        for d in [1u64, 2, 3, 9, 10, 1 << 32, (1 << 63) - 1, 1 << 63, u64::MAX] {
            let div = Divisor::new(d);
            assert_eq!(div.get(), d);
            for x in [0u64, 1, d - 1, d, d.wrapping_add(1), u64::MAX - 1, u64::MAX] {
                assert_eq!(div.div_rem(x), (x / d, x % d), "x={x} d={d}");
            }
        }
        for k in 1..=18 {
            for r in [9u64, 10] {
                let d = r.pow(k);
                let div = Divisor::new(d);
                for x in [0, d - 1, d, 2 * d - 1, 2 * d, u64::MAX, u64::MAX - d] {
                    assert_eq!(div.div_rem(x), (x / d, x % d), "x={x} d={d}");
                }
            }
        }
    }

    #[test]
    fn modular_edges_for_ff1_divisors() {
        for k in 1..=18 {
            for r in [9u64, 10] {
                let d = r.pow(k);
                let div = Divisor::new(d);
                let ys = [
                    0,
                    1,
                    d - 1,
                    d,
                    d + 1,
                    u64::MAX - 1,
                    u64::MAX,
                    (u64::MAX / d) * d,
                ];
                for a in [0, 1, d / 2, d - 1] {
                    for y in ys {
                        let sum = (u128::from(a) + u128::from(y)) % u128::from(d);
                        assert_eq!(u128::from(div.add_mod(a, y)), sum, "{a} + {y} mod {d}");
                        let diff =
                            (u128::from(a) + u128::from(d) - u128::from(y % d)) % u128::from(d);
                        assert_eq!(u128::from(div.sub_mod(a, y)), diff, "{a} - {y} mod {d}");
                    }
                }
            }
        }
        // The largest divisor the bound covers, and small ones.
        for d in [1u64, 2, 3, 7, 1 << 32, (1 << 62) - 1, 1 << 62] {
            let div = Divisor::new(d);
            for a in [0, d - 1] {
                for y in [0, 1, u64::MAX, u64::MAX / 3, d] {
                    let sum = (u128::from(a) + u128::from(y)) % u128::from(d);
                    assert_eq!(u128::from(div.add_mod(a, y)), sum, "{a} + {y} mod {d}");
                    let diff = (u128::from(a) + u128::from(d) - u128::from(y % d)) % u128::from(d);
                    assert_eq!(u128::from(div.sub_mod(a, y)), diff, "{a} - {y} mod {d}");
                }
            }
        }
    }

    #[test]
    fn divisor_zero_does_not_panic() {
        let div = Divisor::new(0);
        let _ = div.div_rem(12345);
        let _ = div.add_mod(0, 7);
        let _ = div.sub_mod(0, 7);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2048))]

        #[test]
        fn matches_native_for_ff1_divisors(d in ff1_divisors(), x in any::<u64>()) {
            let div = Divisor::new(d);
            prop_assert_eq!(div.div_rem(x), (x / d, x % d));
            prop_assert_eq!(div.rem(x), x % d);
        }

        #[test]
        fn matches_native_for_any_divisor(d in 1u64.., x in any::<u64>()) {
            let div = Divisor::new(d);
            prop_assert_eq!(div.div_rem(x), (x / d, x % d));
            prop_assert_eq!(Reciprocal::new(d).div_rem(x), (x / d, x % d));
        }

        #[test]
        fn reciprocal_signed_matches_native(d in 1u64..=i64::MAX as u64, x in any::<i64>()) {
            signed_agrees(d, x);
        }

        #[test]
        fn reciprocal_signed_matches_native_for_time_units(
            d in prop_oneof![Just(60u64), Just(3_600u64), Just(86_400u64)],
            x in any::<i64>(),
        ) {
            signed_agrees(d, x);
        }

        #[test]
        fn matches_native_for_small_x(d in 1u64..=1_000_000_000, x in 0u64..=1 << 40) {
            let div = Divisor::new(d);
            prop_assert_eq!(div.div_rem(x), (x / d, x % d));
        }

        #[test]
        fn modular_add_and_sub_up_to_2_62(d in 1u64..=1 << 62, a in any::<u64>(), y in any::<u64>()) {
            let div = Divisor::new(d);
            let a = a % d;
            let sum = (u128::from(a) + u128::from(y)) % u128::from(d);
            prop_assert_eq!(u128::from(div.add_mod(a, y)), sum);
            let diff = (u128::from(a) + u128::from(d) - u128::from(y % d)) % u128::from(d);
            prop_assert_eq!(u128::from(div.sub_mod(a, y)), diff);
        }

        #[test]
        fn modular_add_and_sub(d in ff1_divisors(), a in any::<u64>(), y in any::<u64>()) {
            let div = Divisor::new(d);
            let a = a % d;
            let sum = u64::try_from((u128::from(a) + u128::from(y)) % u128::from(d)).unwrap();
            prop_assert_eq!(div.add_mod(a, y), sum);
            let diff = (a + d - y % d) % d;
            prop_assert_eq!(div.sub_mod(a, y), diff);
            prop_assert_eq!(div.sub_mod(div.add_mod(a, y), y), a);
        }
    }
}
