//! No panic, no wrap, on any value the API accepts (issue 9, point 5).
//!
//! Arbitrary profiles that `Profile::new` accepts (extreme epochs,
//! lifetimes, window lengths and activation included; code rules too) and arbitrary
//! instants (`i64::MIN`, `i64::MAX`, ±2^62, and values near the profile's
//! lifetime) go through `plan`, `issue`, `decode`, `decode_input`, `check`,
//! `acceptable_at` and `security`. Tests run with overflow checks on, so an
//! overflow anywhere is a panic and a failed case. The results must also be
//! sane: an issued PIN decodes to its grant and opens at its window's
//! start, the encoded window covers the request within the rounding, and no
//! instant and offset has more acceptable indices than `W_max` says.

#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::cast_possible_truncation,
    reason = "test code: a failed unwrap is a failed test"
)]

use offpin::grant::Recurrence;
use offpin::profile::shipped::{EPOCH_2024, KEYPAD9_11, STANDARD_10, STANDARD_MENU};
use offpin::profile::{MAX_DURATION_HOURS, MAX_EPOCH, MAX_LIFETIME_DAYS};
use offpin::recurring::{Hours, Weekdays};
use offpin::{
    ClockCodes, CodeRules, Codec, DecodeError, DeviceKey, FormatVersion, Grant, IssueError, Pin,
    PinError, Profile, ProfileParams, Radix, Request, RevokeTarget, ServiceCodes, Span, TzRule,
    UtcOffset, Verdict,
};
use proptest::prelude::*;

const DAY: i64 = 86_400;

fn duration_hours() -> impl Strategy<Value = u32> {
    prop_oneof![
        Just(0u32),
        1u32..=48,
        1u32..=100_000,
        Just(MAX_DURATION_HOURS),
    ]
}

prop_compose! {
    fn any_params()(
        nine in any::<bool>(),
        digits in prop_oneof![6u8..=18, Just(18u8)],
        epoch in prop_oneof![
            Just(0i64),
            Just(EPOCH_2024),
            Just(MAX_EPOCH),
            (0..=MAX_EPOCH / DAY).prop_map(|d| d * DAY),
        ],
        lifetime_days in prop_oneof![1u32..=40, 1u32..=MAX_LIFETIME_DAYS, Just(MAX_LIFETIME_DAYS)],
        variances in prop_oneof![1u8..=3, any::<u8>().prop_map(|v| v.max(1))],
        lineages in prop_oneof![Just(0u8), any::<u8>()],
        hourly_max_hours in duration_hours(),
        daily_max_days in prop_oneof![Just(0u32), 1u32..=400, Just(MAX_LIFETIME_DAYS)],
        one_time_use_hours in duration_hours(),
        ongoing_slots in prop_oneof![0u32..=100, any::<u32>()],
        revocation in any::<bool>(),
        activation_hours in duration_hours().prop_map(|h| h.max(1)),
        grace_secs in 0u32..3_600,
        lock_memory in any::<u16>(),
        v2 in any::<bool>(),
        // Code rules (format v2, without service codes): a quarter of
        // the profiles.
        rules in prop_oneof![3 => Just(0u8), 1 => 1u8..=3],
    ) -> ProfileParams {
        ProfileParams {
            name: "arbitrary",
            radix: if nine { Radix::Nine } else { Radix::Ten },
            digits,
            epoch,
            lifetime_days,
            variances,
            lineages,
            hourly_max_hours,
            daily_max_days,
            one_time_use_hours,
            ongoing_slots,
            revocation,
            activation_hours,
            grace_secs,
            lock_memory,
            format: if v2 || rules != 0 { FormatVersion::V2 } else { FormatVersion::V1 },
            code_rules: CodeRules::from_bits(rules),
            recurring: if v2 { STANDARD_MENU } else { offpin::recurring::RecurringMenu::NONE },
            clock_codes: if v2 {
                ClockCodes { unit_minutes: 10, max_step_hours: 168 }
            } else {
                ClockCodes::NONE
            },
            service_codes: if v2 && !nine && rules == 0 {
                ServiceCodes { digits: 8, step_secs: 30, skew_steps: 1 }
            } else {
                ServiceCodes::NONE
            },
            ..STANDARD_10.params()
        }
    }
}

fn accepted_profile() -> impl Strategy<Value = Profile> {
    any_params().prop_filter_map("refused by Profile::new", |p| Profile::new(p).ok())
}

/// An instant: anywhere in `i64`, an extreme, or near the profile's
/// lifetime (its start or its end), picked by `how`.
fn instant(p: &Profile, how: u8, raw: i64) -> i64 {
    let end = p.epoch() + i64::from(p.params().lifetime_days) * DAY;
    match how % 5 {
        0 => raw,
        1 => [i64::MIN, i64::MAX, 1 << 62, -(1 << 62), 0, -1][(raw.unsigned_abs() % 6) as usize],
        2 => p.epoch() + raw % (3 * DAY),
        3 => end + raw % (3 * DAY),
        _ => p.epoch() + raw.rem_euclid(end - p.epoch() + DAY),
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 256,
        max_global_rejects: 100_000,
        ..ProptestConfig::default()
    })]

    #[test]
    fn every_accepted_profile_and_instant_is_total(
        p in accepted_profile(),
        key in any::<[u8; 16]>(),
        how in any::<[u8; 4]>(),
        raw in any::<[i64; 4]>(),
        rounding in prop_oneof![Just(0u32), Just(3_600), Just(86_400), any::<u32>()],
        offset_minutes in -840i32..=840,
        variance in any::<u8>(),
        lineage in any::<u8>(),
        slot in any::<u32>(),
        fields in any::<(u32, u32, u8, u8)>(),
        value in any::<u64>(),
        rule in 0usize..3,
    ) {
        let offset = UtcOffset::from_minutes(offset_minutes).unwrap();
        // The lock's local time: the offset, or a DST rule (format 2 locks).
        let zone = [
            TzRule::fixed(offset),
            // Without the format-v2 feature no DST rule is built: the
            // offset stands in for them.
            TzRule::parse(b"CET-1CEST,M3.5.0,M10.5.0/3").unwrap_or(TzRule::fixed(offset)),
            TzRule::parse(b"<-03>3<-02>,M11.1.0/0,M2.3.0/1").unwrap_or(TzRule::fixed(offset)),
        ][rule];
        let now = instant(&p, how[0], raw[0]);
        let start = instant(&p, how[1], raw[1]);
        let end = instant(&p, how[2], raw[2]);
        let at = instant(&p, how[3], raw[3]);

        // The security figure bounds every instant at every offset.
        let s = p.security();
        let w = p.acceptable_at(now, offset);
        prop_assert!(w.total() + s.remembered <= s.w_max, "{:?} at {now}", w);
        prop_assert!(s.w_max - s.remembered <= p.grant_count());
        prop_assert!(p.acceptable_at(at, offset).total() + s.remembered <= s.w_max);

        // Every kind of request plans or is refused with a reason.
        let codec = Codec::new(&DeviceKey::from_bytes(key), p).unwrap();
        let requests = [
            Request::time_bound(start, end),
            Request::time_bound(start.min(end), start.max(end)),
            Request::one_time(start),
            Request::ongoing(slot),
            Request::revoke_slot(slot),
            Request::revoke_started_before(at),
            Request::recurring(start, (slot % 20) as u16, Weekdays(variance), Hours::new(lineage % 26, variance % 26)),
            Request::recurring(start, 13, Weekdays::WEEKDAYS, Hours::new(8, 12)),
            Request::clock_set(at),
        ];
        for req in requests {
            let req = req
                .with_max_rounding_secs(rounding)
                .with_zone(zone)
                .with_variance(variance % 4)
                .with_lineage(lineage % 3);
            let issued = match codec.issue(&req) {
                Ok(issued) => issued,
                Err(e) => {
                    prop_assert!(!e.to_string().is_empty());
                    prop_assert_eq!(p.plan(&req).err(), Some(e));
                    continue;
                }
            };
            let plan = issued.plan;
            prop_assert_eq!(codec.decode(&issued.pin), Ok(plan.grant));
            prop_assert_eq!(codec.decode_input(issued.pin.as_bytes()), Ok(plan.grant));
            prop_assert!(plan.start_rounded_secs.unsigned_abs() <= u64::from(rounding));
            if let (offpin::Want::TimeBound { starts_at, ends_at }, Some(win)) = (req.want, plan.window) {
                prop_assert!(win.start <= starts_at && win.end >= ends_at);
                prop_assert!(plan.end_rounded_secs >= 0);
                prop_assert!(plan.end_rounded_secs.unsigned_abs() <= u64::from(rounding));
            }
            if let (Some(win), false) = (plan.window, matches!(plan.grant, Grant::Recurring(_))) {
                prop_assert!(p.check(&plan.grant, win.start, zone).opens());
            }
            let _ = p.check(&plan.grant, now, zone);
        }

        // Any numeral decodes or is refused; what decodes can be checked at
        // any instant.
        let pin = Pin::from_value(value % p.domain(), p.radix(), p.digits()).unwrap();
        match codec.decode(&pin) {
            Ok(g) => {
                prop_assert!(p.index_of(&g).is_ok());
                let _ = p.check(&g, now, offset);
            }
            // With code rules, a numeral outside `S` is refused for it.
            Err(DecodeError::Pin(PinError::BreaksCodeRule { .. })) if !p.code_rules().is_empty() => {}
            Err(e) => prop_assert_eq!(e, DecodeError::NotAGrant),
        }

        // Grants built by hand, with any fields, check without panicking.
        let (a, b, v, l) = fields;
        let span = Span { start: a, length: b, variance: v, lineage: l };
        let recurrence = Recurrence {
            start_week: a,
            weeks: (b % 65_536) as u16,
            days: v,
            hours: l,
            variance: v,
        };
        for g in [
            Grant::Hourly(span),
            Grant::Daily(span),
            Grant::OneTime { start_hour: a, variance: v },
            Grant::Revoke(RevokeTarget::StartedBefore { hour: a }),
            Grant::Recurring(recurrence),
            Grant::ClockSet { at: a },
        ] {
            let _ = p.check(&g, now, zone);
            let _ = p.check(&g, now, offset);
            let _ = g.window(&p, zone);
            let _ = p.index_of(&g);
        }
    }
}

/// Requests at the ends of `i64` are refused with the error the checks'
/// order gives, never a panic.
#[test]
fn extreme_request_times_are_refused() {
    let p = STANDARD_10;
    let hour = 3_600;
    // Not on an hour: the rounding is checked first.
    assert!(matches!(
        p.plan(&Request::time_bound(i64::MIN, i64::MIN + hour)),
        Err(IssueError::RoundingTooLarge { .. })
    ));
    assert!(matches!(
        p.plan(&Request::time_bound(i64::MIN, i64::MIN + hour).with_max_rounding_secs(3_600)),
        Err(IssueError::BeforeEpoch { .. })
    ));
    assert!(matches!(
        p.plan(&Request::time_bound(i64::MAX - hour, i64::MAX).with_max_rounding_secs(3_600)),
        Err(IssueError::BeyondLifetime { .. })
    ));
    assert!(matches!(
        p.plan(&Request::time_bound(i64::MIN, i64::MAX)),
        Err(IssueError::TooLong {
            requested_secs: i64::MAX,
            ..
        })
    ));
    for t in [i64::MIN, i64::MAX, 1 << 62, -(1 << 62)] {
        let any_rounding = u32::MAX;
        assert!(p.plan(&Request::one_time(t)).is_err());
        assert!(
            p.plan(&Request::one_time(t).with_max_rounding_secs(any_rounding))
                .is_err()
        );
        assert!(
            p.plan(&Request::revoke_started_before(t).with_max_rounding_secs(any_rounding))
                .is_err()
        );
        let _ = p.acceptable_at(t, UtcOffset::UTC);
    }
}

/// The largest profile `Profile::new` accepts still computes its figure,
/// and an epoch past `MAX_EPOCH` (the issue's `i64::MAX` region) is refused.
#[test]
fn the_extreme_profiles_compute() {
    let far = Profile::new(ProfileParams {
        digits: 18,
        epoch: MAX_EPOCH,
        lifetime_days: MAX_LIFETIME_DAYS,
        variances: 1,
        hourly_max_hours: 0,
        daily_max_days: 1,
        one_time_use_hours: MAX_DURATION_HOURS,
        activation_hours: MAX_DURATION_HOURS,
        revocation: true,
        ..STANDARD_10.params()
    })
    .unwrap();
    let s = far.security();
    assert!(s.w_max > s.remembered && s.w_max - s.remembered <= far.grant_count());
    let last = Request::one_time(MAX_EPOCH + i64::from(far.lifetime_hours() - 1) * 3_600);
    let codec = Codec::new(&DeviceKey::from_bytes([1; 16]), far).unwrap();
    let issued = codec.issue(&last).unwrap();
    let w = issued.plan.window.unwrap();
    assert_eq!(
        far.check(&issued.plan.grant, w.end - 1, UtcOffset::UTC),
        Verdict::Open(offpin::Remember::Used {
            until: w.end + far.grace_secs()
        })
    );
    let epoch = i64::MAX / DAY * DAY;
    assert!(
        Profile::new(ProfileParams {
            epoch,
            ..STANDARD_10.params()
        })
        .is_err()
    );
}

/// A `Pin` holds keys. Parsed for radix 10 and decoded by a nine-key codec,
/// a `0` (a key the keypad lacks) is refused with its position, as typing
/// it would be, and never read as another numeral (it used to alias).
#[test]
fn a_ten_key_pin_on_a_nine_key_codec_is_refused_not_aliased() {
    let codec = Codec::new(&DeviceKey::from_bytes([7; 16]), KEYPAD9_11).unwrap();
    for position in 0..11 {
        let mut typed = *b"12345678912";
        typed[position] = b'0';
        let pin = Pin::parse(&typed, Radix::Ten, 11).unwrap();
        let refused = Err(DecodeError::Pin(PinError::ZeroOnNineKeyPad { position }));
        assert_eq!(codec.decode(&pin), refused);
        assert_eq!(codec.decode_input(&typed), refused);
        assert_eq!(
            pin.value(Radix::Nine),
            Err(PinError::ZeroOnNineKeyPad { position })
        );
    }
    // Keys the nine-key keypad has decode as if typed there.
    let pin = Pin::parse(b"98765432111", Radix::Ten, 11).unwrap();
    assert_eq!(codec.decode(&pin), codec.decode_input(b"98765432111"));
    // A PIN of another length is refused with the profile's length.
    let short = Pin::parse(b"1234567891", Radix::Ten, 10).unwrap();
    assert_eq!(
        codec.decode(&short),
        Err(DecodeError::Pin(PinError::WrongLength {
            expected: 11,
            found: 10
        }))
    );
}
