//! The security figure, measured: random PINs typed at a deliberately small
//! profile open the lock at the rate `W(now) / radix^n` that
//! `Profile::acceptable_at` computes.
//!
//! Two experiments on a 6-digit profile (10^6 PINs):
//!
//! 1. Exhaustive: all 10^6 PINs are decoded and checked. FF1 is a
//!    permutation, so exactly `W(now)` of them must open: the count must be
//!    equal, not merely close.
//! 2. Random: 10^6 PINs drawn uniformly with replacement (a fixed-seed
//!    SplitMix64, so the test is deterministic). The number that open is
//!    Binomial(10^6, p) with `p = W/10^6`; the test requires it within
//!    5 standard deviations of `10^6 · p` (a false alarm for a correct
//!    implementation has probability below 10^-6).

#![allow(
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::cast_possible_truncation,
    reason = "test code: a failed unwrap is a failed test"
)]

use offpin::profile::shipped::STANDARD_10;
use offpin::{
    Codec, DeviceKey, Keys, LockoutPolicy, Pin, Profile, ProfileParams, Radix, UtcOffset,
};

const SMALL: Profile = match Profile::new(ProfileParams {
    name: "small-6",
    radix: Radix::Ten,
    keys: Keys::STANDARD,
    digits: 6,
    lifetime_days: 30,
    variances: 2,
    lineages: 0,
    hourly_max_hours: 48,
    daily_max_days: 7,
    one_time_use_hours: 24,
    ongoing_slots: 10,
    revocation: true,
    activation_hours: 24,
    grace_secs: 600,
    lock_memory: 8,
    lockout: LockoutPolicy {
        failures: 5,
        base_secs: 60,
        cap_secs: 3_600,
        budget: 10,
        refill_secs: 3_600,
    },
    ..STANDARD_10.params()
}) {
    Ok(p) => p,
    Err(e) => e.panic_const(),
};

/// SplitMix64: a small, well-distributed generator for test inputs.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

fn opens(codec: &Codec, value: u64, now: i64, offset: UtcOffset) -> bool {
    let p = codec.profile();
    let pin = Pin::from_value(value, p.radix(), p.digits()).unwrap();
    match codec.decode(&pin) {
        Ok(grant) => p.check(&grant, now, offset).opens(),
        Err(_) => false,
    }
}

fn setup() -> (Codec, i64, UtcOffset, u64) {
    let codec = Codec::new(&DeviceKey::from_bytes([0x5A; 16]), SMALL).unwrap();
    // Mid-lifetime, 10 minutes into an hour: inside the grace of the hour's
    // windows, where W is at its largest.
    let now = SMALL.epoch() + 15 * 86_400 + 13 * 3_600 - 300;
    let offset = UtcOffset::from_minutes(60).unwrap();
    let w = SMALL.acceptable_at(now, offset).total();
    (codec, now, offset, w)
}

#[test]
fn every_pin_tried_exactly_w_open() {
    let (codec, now, offset, w) = setup();
    assert!(w > 1_000, "the experiment needs a visible rate, W = {w}");
    let opened = (0..SMALL.domain())
        .filter(|&v| opens(&codec, v, now, offset))
        .count() as u64;
    println!(
        "exhaustive: {opened} of {} PINs open, computed W(now) = {w}",
        SMALL.domain()
    );
    assert_eq!(opened, w);
}

#[test]
fn a_million_random_pins_open_at_the_computed_rate() {
    let (codec, now, offset, w) = setup();
    let trials: u64 = 1_000_000;
    let p = w as f64 / SMALL.domain() as f64;
    let mut rng = SplitMix64(0x0FF1_0FF1);
    let opened = (0..trials)
        .filter(|_| opens(&codec, rng.next() % SMALL.domain(), now, offset))
        .count() as u64;
    let expected = trials as f64 * p;
    let sigma = (trials as f64 * p * (1.0 - p)).sqrt();
    let z = (opened as f64 - expected) / sigma;
    println!(
        "random: {opened} of {trials} opened; computed p = {p:.6}, expected {expected:.1} ± {sigma:.1} (z = {z:.2})"
    );
    assert!(
        z.abs() < 5.0,
        "measured rate is {z:.2} sigma from W/radix^n"
    );
}
