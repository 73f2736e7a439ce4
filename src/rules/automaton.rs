//! The automaton of the code rules (crate feature `code-rules`): `|S|`,
//! and the rank and unrank of `S` in lexicographic order
//! (`docs/FORMAT.md` §2.3.5).
//!
//! A string's **state** after its first key is its last numeral `a` and
//! the class of its last step (`DOWN` by one, `SAME`, `UP` by one, or
//! `OTHER`; after one key, `OTHER`): `4·a + class`, 40 states at most. A
//! key `c` may follow state `(a, s)` unless the triple rule is on and
//! `class(a, c) = s ≠ OTHER`; the start rule forbids the second key `2`
//! after a first key `1`. `C_L(state)` counts the valid completions of
//! `L` keys from a state: `C_0 = 1`, and
//!
//! ```text
//! U_L(a)      = C_L(a, OTHER) = Σ_c C_{L−1}(c, class(a, c))
//! C_L(a, s)   = U_L(a) − C_{L−1}(a + δ(s), s)      (s ≠ OTHER, triple rule; δ = −1, 0, +1)
//! ```
//!
//! One row (`L`) is computed from the previous one in place: the sums `U`
//! first (10 values; each is the sum of all `U_{L−1}` with the three
//! neighbours' counts swapped in), then `UP` in increasing `a`, `DOWN` in decreasing
//! `a`, each reading its neighbour before it is overwritten. So ranking a
//! typed PIN keeps one row (320 bytes) and the sums (80 bytes) on the
//! stack, and walks the positions right to left, one row per position;
//! unranking (the issuer) recomputes the rows it needs, `O(n²)` row
//! steps, with the same stack.
//!
//! The arithmetic cannot overflow: a count of `L` keys is at most
//! `radix^L <= 10^18` (`PinSet::new` bounds `digits` by
//! [`Radix::max_len`]); it saturates all the same.

use core::num::NonZeroU64;

use zeroize::Zeroize;

use super::{CodeConstraint, CodeRules, MAX_WALK_STEPS};
use crate::alphabet::Alphabet;
use crate::ff1::Radix;
use crate::pin::MAX_DIGITS as MAX_LEN;
use crate::pin::PinError;

/// The last step went down by one.
const DOWN: usize = 0;
/// The last two keys are equal.
const SAME: usize = 1;
/// The last step went up by one.
const UP: usize = 2;
/// Any other step, or one key only.
const OTHER: usize = 3;
/// States `4·numeral + class`: ten numerals at most.
const STATES: usize = 40;

/// Completion counts of one length, by state.
type Row = [u64; STATES];

/// `row[i]`, 0 out of range.
const fn get<const N: usize>(row: &[u64; N], i: usize) -> u64 {
    if i < N {
        #[allow(clippy::indexing_slicing, reason = "i < N")]
        return row[i];
    }
    0
}

/// `row[i] = v`, ignored out of range.
const fn put<const N: usize>(row: &mut [u64; N], i: usize, v: u64) {
    if i < N {
        #[allow(clippy::indexing_slicing, reason = "i < N")]
        {
            row[i] = v;
        }
    }
}

/// The class of the step from numeral `a` to numeral `c`.
const fn class(a: usize, c: usize) -> usize {
    if c + 1 == a {
        DOWN
    } else if c == a {
        SAME
    } else if c == a + 1 {
        UP
    } else {
        OTHER
    }
}

/// Cycle walking, from `first`, the value of a first evaluation: `next`
/// again while the value is not below `pins`; `None` when that takes more
/// than [`MAX_WALK_STEPS`] evaluations in all. Encrypting walks from an
/// index to a rank, decrypting from a rank back to the index: each value
/// passed over is `>= pins`, so the two walks meet the same values in
/// reverse and take the same steps.
///
/// # Errors
///
/// `next`'s error.
pub(crate) fn walk<E>(
    first: u64,
    pins: u64,
    mut next: impl FnMut(u64) -> Result<u64, E>,
) -> Result<Option<u64>, E> {
    let mut y = first;
    let mut steps = 1;
    while y >= pins {
        if steps >= MAX_WALK_STEPS {
            return Ok(None);
        }
        y = next(y)?;
        steps += 1;
    }
    Ok(Some(y))
}

/// `S`: the strings of `digits` numerals of a radix with its standard
/// keys that keep a set of [`CodeRules`], ranked in lexicographic order
/// (the order of their values). A profile's is
/// [`Profile::pin_set`](crate::Profile::pin_set).
///
/// ```
/// use offpin::{CodeRules, PinSet, Radix};
/// let s = PinSet::new(Radix::Ten, 4, CodeRules::ALL).unwrap();
/// assert_eq!(s.len(), 9_416);
/// assert_eq!(s.unrank(0), Some(10)); // "0010": "000x" breaks the triple rule
/// assert_eq!(s.rank(10), Some(0));
/// assert_eq!(s.rank(1_234), None); // "1234" breaks both
/// assert_eq!(s.unrank(s.len() - 1), Some(9_989)); // "999x" breaks the triple rule
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct PinSet {
    radix: Radix,
    digits: u8,
    rules: CodeRules,
    len: u64,
}

impl PinSet {
    /// `S` of `digits` (`1..=radix.max_len()`) numerals of `radix` under
    /// `rules`, or `None` for another length or undefined rule bits.
    pub const fn new(radix: Radix, digits: u8, rules: CodeRules) -> Option<PinSet> {
        if digits == 0 || digits > radix.max_len() || !rules.is_valid() {
            return None;
        }
        let mut set = PinSet {
            radix,
            digits,
            rules,
            len: 0,
        };
        set.len = set.count();
        Some(set)
    }

    /// The set of a profile, whose `len` [`Profile::new`](crate::Profile::new)
    /// computed.
    pub(crate) const fn known(radix: Radix, digits: u8, rules: CodeRules, len: u64) -> PinSet {
        PinSet {
            radix,
            digits,
            rules,
            len,
        }
    }

    /// `|S|`.
    pub const fn len(&self) -> u64 {
        self.len
    }

    /// Whether `S` is empty (never: a string of one key keeps every rule).
    pub const fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The radix (its standard keys).
    pub const fn radix(&self) -> Radix {
        self.radix
    }

    /// The length of the strings.
    pub const fn digits(&self) -> u8 {
        self.digits
    }

    /// The rules.
    pub const fn rules(&self) -> CodeRules {
        self.rules
    }

    const fn r(&self) -> usize {
        self.radix.value() as usize
    }

    const fn triple(&self) -> bool {
        self.rules.contains(CodeRules::NO_TRIPLE_CONSECUTIVE_INTS)
    }

    const fn start(&self) -> bool {
        self.rules.contains(CodeRules::CANNOT_START_WITH_12)
    }

    /// The numeral of the key `1` (the key `2`'s is one more).
    const fn one(&self) -> usize {
        if matches!(self.radix, Radix::Ten) {
            1
        } else {
            0
        }
    }

    /// `C_0`: one completion (the empty one) from every state.
    const fn first_row(&self) -> Row {
        let mut row = [0; STATES];
        let mut i = 0;
        while i < 4 * self.r() {
            put(&mut row, i, 1);
            i += 1;
        }
        row
    }

    /// `C_{L−1}` to `C_L` in place. Returns the completions of `L` keys
    /// after a first key `1` (`U_L(1)`, less those starting `2` under the
    /// start rule).
    const fn advance(&self, row: &mut Row) -> u64 {
        let r = self.r();
        let one = self.one();
        let after_12 = get(row, 4 * (one + 1) + UP);
        // U_L(a) = Σ_c C_{L−1}(c, class(a, c)): every U_{L−1}(c), the
        // neighbours `c = a − 1, a, a + 1` (the only classes other than
        // OTHER) replaced by their class's count.
        let mut all = 0u64;
        let mut c = 0;
        while c < r {
            all = all.saturating_add(get(row, 4 * c + OTHER));
            c += 1;
        }
        let mut u = [0u64; 10];
        let mut a = 0;
        while a < r {
            let mut sum = all;
            let mut c = a.saturating_sub(1);
            while c <= a + 1 && c < r {
                sum = sum
                    .saturating_sub(get(row, 4 * c + OTHER))
                    .saturating_add(get(row, 4 * c + class(a, c)));
                c += 1;
            }
            put(&mut u, a, sum);
            a += 1;
        }
        let triple = self.triple();
        // UP reads its right neighbour's old count: increasing `a`.
        let mut a = 0;
        while a < r {
            let ban = if triple && a + 1 < r {
                get(row, 4 * (a + 1) + UP)
            } else {
                0
            };
            put(row, 4 * a + UP, get(&u, a).saturating_sub(ban));
            a += 1;
        }
        // DOWN reads its left neighbour's: decreasing `a`.
        let mut a = r;
        while a > 0 {
            a -= 1;
            let ban = if triple && a > 0 {
                get(row, 4 * (a - 1) + DOWN)
            } else {
                0
            };
            put(row, 4 * a + DOWN, get(&u, a).saturating_sub(ban));
        }
        let mut a = 0;
        while a < r {
            let ban = if triple { get(row, 4 * a + SAME) } else { 0 };
            put(row, 4 * a + SAME, get(&u, a).saturating_sub(ban));
            put(row, 4 * a + OTHER, get(&u, a));
            a += 1;
        }
        let ban = if self.start() { after_12 } else { 0 };
        get(&u, one).saturating_sub(ban)
    }

    /// `C_l` and the completions of `l` keys after a first key `1`, from
    /// `C_0`.
    const fn row_at(&self, l: usize) -> (Row, u64) {
        let mut row = self.first_row();
        let mut after_one = 1;
        let mut k = 0;
        while k < l {
            after_one = self.advance(&mut row);
            k += 1;
        }
        (row, after_one)
    }

    /// The strings of `digits` keys starting with numeral `c`, given the
    /// row of `digits − 1` keys.
    const fn starting_with(&self, row: &Row, after_one: u64, c: usize) -> u64 {
        if self.start() && c == self.one() {
            after_one
        } else {
            get(row, 4 * c + OTHER)
        }
    }

    /// `|S|`.
    const fn count(&self) -> u64 {
        let (row, after_one) = self.row_at((self.digits as usize).saturating_sub(1));
        let mut total = 0u64;
        let mut c = 0;
        while c < self.r() {
            total = total.saturating_add(self.starting_with(&row, after_one, c));
            c += 1;
        }
        total
    }

    /// The valid completions, of the row's length, of `prefix` followed
    /// by numeral `c`; 0 when `c` may not follow `prefix`.
    fn completions(&self, row: &Row, after_one: u64, prefix: &[u8], c: usize) -> u64 {
        let (prev, before) = match prefix {
            [] => return self.starting_with(row, after_one, c),
            [first] => (usize::from(*first), OTHER),
            [.., a, b] => (usize::from(*b), class(usize::from(*a), usize::from(*b))),
        };
        let step = class(prev, c);
        let triple = self.triple() && before != OTHER && step == before;
        let start = self.start() && prefix.len() == 1 && prev == self.one() && c == prev + 1;
        if triple || start {
            return 0;
        }
        get(row, 4 * c + step)
    }

    /// The first position of `x` (numerals) that breaks a rule, and the
    /// rule: the second key of a start `1 2`, the third of a triple.
    fn broken(&self, x: &[u8]) -> Option<(usize, CodeConstraint)> {
        if let [a, b, ..] = x
            && self.start()
            && usize::from(*a) == self.one()
            && usize::from(*b) == self.one() + 1
        {
            return Some((1, CodeConstraint::CannotStartWith12));
        }
        if !self.triple() {
            return None;
        }
        x.windows(3).enumerate().find_map(|(j, w)| match w {
            [a, b, c] => {
                let (a, b, c) = (usize::from(*a), usize::from(*b), usize::from(*c));
                let s = class(a, b);
                (s != OTHER && class(b, c) == s)
                    .then_some((j + 2, CodeConstraint::NoTripleConsecutiveInts))
            }
            _ => None,
        })
    }

    /// The rank of `x` (numerals of a string of `S`): the strings of `S`
    /// below it, summed right to left, one row per position.
    fn rank_numerals(&self, x: &[u8]) -> u64 {
        let mut row = self.first_row();
        let mut after_one = 1;
        let mut total = 0u64;
        for (l, j) in (0..x.len()).rev().enumerate() {
            if l > 0 {
                after_one = self.advance(&mut row);
            }
            let prefix = x.get(..j).unwrap_or(&[]);
            let xj = x.get(j).map_or(0, |v| usize::from(*v));
            for c in 0..self.r() {
                // All of them, below x_j or not (no branch on the digit).
                let below = u64::from(c < xj).wrapping_neg();
                total = total.saturating_add(self.completions(&row, after_one, prefix, c) & below);
            }
        }
        total
    }

    /// Writes the numerals of the string of rank `y` into `out`.
    fn unrank_numerals(&self, mut y: u64, out: &mut [u8; MAX_LEN]) -> Option<()> {
        if y >= self.len {
            return None;
        }
        let n = usize::from(self.digits);
        for j in 0..n {
            let (row, after_one) = self.row_at(n - 1 - j);
            let mut chosen = None;
            for c in 0..self.r() {
                let count = self.completions(&row, after_one, out.get(..j)?, c);
                if chosen.is_none() {
                    if y < count {
                        chosen = Some(c);
                    } else {
                        y -= count;
                    }
                }
            }
            *out.get_mut(j)? = u8::try_from(chosen?).ok()?;
        }
        Some(())
    }

    /// The numerals of `value` (`< radix^digits`), most significant first.
    fn numerals_of(&self, mut value: u64, out: &mut [u8; MAX_LEN]) -> Option<()> {
        let radix = NonZeroU64::new(u64::from(self.radix.value()))?;
        for dst in out.get_mut(..usize::from(self.digits))?.iter_mut().rev() {
            *dst = u8::try_from(value % radix).ok()?;
            value /= radix;
        }
        (value == 0).then_some(())
    }

    /// The value of the numerals `x`.
    fn value_of(&self, x: &[u8]) -> u64 {
        let radix = u64::from(self.radix.value());
        x.iter().fold(0u64, |v, d| {
            v.saturating_mul(radix).saturating_add(u64::from(*d))
        })
    }

    /// The rank of the numeral `value` in `S`, or `None` if its string
    /// breaks a rule (or `value >= radix^digits`).
    pub fn rank(&self, value: u64) -> Option<u64> {
        self.rank_checked(value).ok()
    }

    /// The rank of the numeral `value` in `S`: what the lock decrypts
    /// (walking back).
    ///
    /// # Errors
    ///
    /// [`PinError::BreaksCodeRule`] at the first key that breaks a rule;
    /// [`PinError::ValueOutOfRange`] for `value >= radix^digits`.
    pub(crate) fn rank_checked(&self, value: u64) -> Result<u64, PinError> {
        let mut x = [0u8; MAX_LEN];
        let rank = self
            .numerals_of(value, &mut x)
            .and_then(|()| x.get(..usize::from(self.digits)))
            .ok_or(PinError::ValueOutOfRange)
            .and_then(|x| match self.broken(x) {
                Some((position, constraint)) => Err(PinError::BreaksCodeRule {
                    position,
                    constraint,
                }),
                None => Ok(self.rank_numerals(x)),
            });
        x.zeroize();
        rank
    }

    /// The numeral value of the string of rank `rank` (`< |S|`).
    pub fn unrank(&self, rank: u64) -> Option<u64> {
        let mut x = [0u8; MAX_LEN];
        let value = self
            .unrank_numerals(rank, &mut x)
            .and_then(|()| Some(self.value_of(x.get(..usize::from(self.digits))?)));
        x.zeroize();
        value
    }

    /// Checks typed keys: those of a PIN of the radix's standard keys
    /// ([`Pin::parse`](crate::Pin::parse)'s errors, first one first), then
    /// the rules: [`PinError::BreaksCodeRule`] at the first key that
    /// breaks one.
    ///
    /// # Errors
    ///
    /// The first [`PinError`].
    pub fn check_keys(&self, keys: &[u8]) -> Result<(), PinError> {
        let alphabet = Alphabet::standard(self.radix);
        let mut value = crate::pin::typed_value(keys, &alphabet, self.digits)?;
        let checked = self.rank_checked(value).map(|_| ());
        value.zeroize();
        checked
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The walk on a permutation whose cycle passes `over` values `>=
    /// pins` between two below it (`y ↦ y + 1 mod (pins + over)`): it
    /// takes `over + 1` evaluations each way, and gives up beyond
    /// [`MAX_WALK_STEPS`], forwards and back alike.
    #[test]
    fn the_walk_is_bounded_the_same_both_ways() {
        let pins = 10u64;
        for over in [0u64, 1, 62, 63, 64, 200] {
            let n = pins + over;
            let forward = |y: u64| Ok::<u64, ()>((y + 1) % n);
            let back = |y: u64| Ok::<u64, ()>((y + n - 1) % n);
            // `over + 1` evaluations: within the bound iff `over < MAX_WALK_STEPS`.
            let within = over < u64::from(MAX_WALK_STEPS);
            let expected = within.then_some(0);
            // From the last index below `pins`, across every value above.
            assert_eq!(
                walk(forward(pins - 1).unwrap(), pins, forward),
                Ok(expected),
                "{over}"
            );
            let back_expected = within.then_some(pins - 1);
            assert_eq!(
                walk(back(0).unwrap(), pins, back),
                Ok(back_expected),
                "{over}"
            );
        }
        assert_eq!(walk(3, 10, |_| Err::<u64, u8>(7)), Ok(Some(3)));
        assert_eq!(walk(30, 10, |_| Err::<u64, u8>(7)), Err(7));
    }
}
