//! The anti-peep phase (feature `anti-peep`): a `standard-10` lock that
//! searches entries of up to 16 keys for the owner's PIN typed among
//! extra digits.

use offpin::profile::shipped::STANDARD_10;
use offpin::{Profile, ProfileParams, Refusal, TzRule};

use super::Phase;
use crate::issued::{OWNER, OWNER_17, OWNER_FIRST, OWNER_HIDDEN, T0};
use crate::script::Expect::{Open, Refused};
use crate::script::{Step, measured, typed, wrong};
use crate::{H, MIN};

/// The anti-peep phase (feature `anti-peep`): `standard-10` searching
/// entries of up to 16 keys for a PIN typed among extra digits, at UTC.
/// The bound is policy, not format: the PINs are `standard-10`'s.
const STANDARD_10_ANTI_PEEP: Profile = match Profile::new(ProfileParams {
    name: "standard-10 (anti-peep, 16 keys)",
    entry_max_digits: 16,
    ..STANDARD_10.params()
}) {
    Ok(p) => p,
    Err(e) => e.panic_const(),
};

pub(crate) const ANTI_PEEP: Phase = Phase {
    profile: STANDARD_10_ANTI_PEEP,
    zone: TzRule::UTC,
    zone_name: "UTC",
    t0: T0,
    t0_text: "2025-12-01T00:00Z",
    steps: SCRIPT_ANTI_PEEP,
    codes: &[&OWNER, &OWNER_HIDDEN, &OWNER_FIRST, &OWNER_17],
};

/// The anti-peep script: the owner's PIN inside 16 keys opens (the
/// entry tested two other PINs first: one failure of the budget), first
/// in 16 keys opens (its charge refunded), inside 17 keys is refused; 16
/// keys with no PIN in them are one refusal, not seven.
const SCRIPT_ANTI_PEEP: &[Step] = &[
    measured(
        typed(H, OWNER_HIDDEN.pin, Open),
        "anti-peep: PIN at position 2 of 16 keys",
    ),
    typed(H + MIN, OWNER_FIRST.pin, Open),
    typed(H + 2 * MIN, OWNER_17.pin, Refused(Refusal::InvalidCode)),
    measured(
        wrong(H + 3 * MIN, "3141592653589793"),
        "anti-peep: 16 keys, no PIN (7 windows)",
    ),
];
