//! The index space of a profile: where each kind's indices lie, and the
//! radices an index is split by. Laid out once by
//! [`Profile::new`](super::Profile::new), in `const`.

use super::{Kind, ProfileError, ProfileParams};
use crate::divisor::Reciprocal;

/// Where each kind's indices lie in `0..total`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct Layout {
    /// First index of each kind, in [`Kind::ALL`] order.
    pub(crate) base: [u64; Kind::COUNT],
    /// `M`, the number of grants the profile can express.
    pub(crate) total: u64,
    /// `|S|`: the strings that keep the code rules, `radix^digits`
    /// without rules (which [`Profile::domain`](super::Profile::domain) recomputes: a profile is
    /// copied into every codec, so it stores one of the two).
    pub(crate) pins: u64,
    /// The radices of the mixed-radix fields, as divisors.
    pub(crate) radices: Radices,
}

/// The radices an index is split by (`index.rs`), with their reciprocals:
/// computed once by [`Profile::new`](super::Profile::new) (at compile time for a `const`
/// profile), so that splitting a decoded index is constant time and needs
/// no division routine on the lock.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct Radices {
    /// `lineages + 1`.
    pub(crate) lineages: Reciprocal,
    /// `variances`.
    pub(crate) variances: Reciprocal,
    /// `hourly_max_hours` (unused when 0: no hourly kind).
    pub(crate) hourly_lengths: Reciprocal,
    /// `daily_max_days` (unused when 0: no daily kind).
    pub(crate) daily_lengths: Reciprocal,
}

impl Layout {
    /// Lays the kinds of `params` out in `0..M`, or why they do not fit
    /// in the `pins` PINs.
    pub(super) const fn of(params: &ProfileParams, pins: u64) -> Result<Layout, ProfileError> {
        let too_small = ProfileError::IndexSpaceTooSmall {
            needed: u64::MAX,
            available: pins,
        };
        let count = match counts(params, too_small) {
            Ok(count) => count,
            Err(e) => return Err(e),
        };
        let (base, total) = match bases(&count, too_small) {
            Ok(sums) => sums,
            Err(e) => return Err(e),
        };
        if total > pins {
            return Err(ProfileError::IndexSpaceTooSmall {
                needed: total,
                available: pins,
            });
        }
        Ok(Layout {
            base,
            total,
            pins,
            radices: Radices::of(params),
        })
    }
}

impl Radices {
    /// The radices of `params`' mixed-radix fields.
    const fn of(params: &ProfileParams) -> Radices {
        Radices {
            lineages: Reciprocal::new(params.lineages as u64 + 1),
            variances: Reciprocal::new(params.variances as u64),
            hourly_lengths: Reciprocal::new(params.hourly_max_hours as u64),
            daily_lengths: Reciprocal::new(params.daily_max_days as u64),
        }
    }
}

/// `a * b`, or `None` on overflow (const-friendly).
const fn mul(a: u64, b: u64) -> Option<u64> {
    a.checked_mul(b)
}

/// The indices of a time-bound kind: `starts · max_units · per_window`
/// (`None` on overflow).
const fn windows(starts: u64, max_units: u32, per_window: u64) -> Option<u64> {
    match mul(starts, max_units as u64) {
        Some(x) => mul(x, per_window),
        None => None,
    }
}

/// The number of indices of each kind, in [`Kind::ALL`] order, or
/// `too_small` when one overflows.
const fn counts(
    params: &ProfileParams,
    too_small: ProfileError,
) -> Result<[u64; Kind::COUNT], ProfileError> {
    let days = params.lifetime_days as u64;
    let hours = days * 24;
    let v = params.variances as u64;
    let per_window = v * (params.lineages as u64 + 1);
    let Some(hourly) = windows(hours, params.hourly_max_hours, per_window) else {
        return Err(too_small);
    };
    let Some(daily) = windows(days, params.daily_max_days, per_window) else {
        return Err(too_small);
    };
    let one_time = if params.one_time_use_hours == 0 {
        0
    } else {
        hours * v
    };
    let ongoing = params.ongoing_slots as u64;
    let (revoke_slot, revoke_before) = if params.revocation {
        (ongoing, hours)
    } else {
        (0, 0)
    };
    let menu = params.recurring;
    let recurring = if menu.is_enabled() {
        let per_week = menu.max_weeks as u64 * menu.days.len() as u64 * menu.hours.len() as u64 * v;
        match mul(days.div_ceil(7), per_week) {
            Some(x) => x,
            None => return Err(too_small),
        }
    } else {
        0
    };
    let clock = params.clock_codes;
    let clock_set = if clock.is_enabled() {
        days * (1_440 / clock.unit_minutes as u64)
    } else {
        0
    };
    Ok([
        hourly,
        daily,
        one_time,
        ongoing,
        revoke_slot,
        revoke_before,
        recurring,
        clock_set,
    ])
}

/// The first index of each kind (the running sums of `count`) and the
/// total, or `too_small` when the total overflows.
const fn bases(
    count: &[u64; Kind::COUNT],
    too_small: ProfileError,
) -> Result<([u64; Kind::COUNT], u64), ProfileError> {
    // Running sums; each term is at most u64::MAX / 2 only if the sum
    // does not overflow, which `checked_add` verifies.
    let mut base = [0u64; Kind::COUNT];
    let mut total = 0u64;
    let mut i = 0;
    while i < Kind::COUNT {
        #[allow(
            clippy::indexing_slicing,
            reason = "i < Kind::COUNT, the arrays' length"
        )]
        {
            base[i] = total;
            total = match total.checked_add(count[i]) {
                Some(t) => t,
                None => return Err(too_small),
            };
        }
        i += 1;
    }
    Ok((base, total))
}
