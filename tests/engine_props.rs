//! Property tests of the engine: index layout, issuing and checking.
//!
//! Inputs are generated valid (a shipped profile, a window inside its
//! lifetime) and the results are compared with what the format promises:
//! the index mapping is a bijection on `0..M`, an issued PIN decodes to its
//! grant, the encoded window contains the requested one and moves each end
//! by at most the allowed rounding, and the check opens exactly inside the
//! window (with grace).

#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "test code: a failed unwrap is a failed test"
)]

use offpin::profile::shipped::ALL;
use offpin::{Codec, DeviceKey, Grant, Profile, Refusal, Request, UtcOffset, Verdict};
use proptest::prelude::*;

const HOUR: i64 = 3_600;

/// A shipped profile; without the `format-v2` feature only those without
/// its kinds (their PINs name no grant in such a build: `Lock::new` and the
/// issuer refuse them).
fn profile() -> impl Strategy<Value = Profile> {
    let built: Vec<Profile> = ALL
        .into_iter()
        .filter(|p| {
            cfg!(feature = "format-v2")
                || !(p.has_kind(offpin::Kind::Recurring) || p.has_kind(offpin::Kind::ClockSet))
        })
        .collect();
    (0..built.len()).prop_map(move |i| built[i])
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// `grant_at` and `index_of` are inverse on `0..M`, and nothing at or
    /// above `M` is a grant.
    #[test]
    fn index_layout_is_a_bijection(p in profile(), seed in any::<u64>()) {
        let index = seed % p.grant_count();
        let grant = p.grant_at(index).unwrap();
        prop_assert_eq!(p.index_of(&grant), Ok(index));
        let above = p.grant_count() + seed % (p.domain() - p.grant_count());
        prop_assert_eq!(p.grant_at(above), None);
    }

    /// Issue → decode → check, for time-bound requests with rounding.
    #[test]
    fn issued_time_bound_codes_open_exactly_in_their_window(
        p in profile(),
        key in any::<[u8; 16]>(),
        start_offset in 0i64..(365 * 86_400),
        length in 60i64..(20 * 86_400),
        rounding in prop_oneof![Just(0u32), Just(3_600), Just(86_400)],
        offset_minutes in -720i32..=840,
        variance_seed in any::<u8>(),
    ) {
        let offset = UtcOffset::from_minutes(offset_minutes / 15 * 15).unwrap();
        let codec = Codec::new(&DeviceKey::from_bytes(key), p).unwrap();
        let starts_at = p.epoch() + 30 * 86_400 + start_offset;
        let ends_at = starts_at + length;
        let variance = variance_seed % p.params().variances;
        let req = Request::time_bound(starts_at, ends_at)
            .with_max_rounding_secs(rounding)
            .with_utc_offset(offset)
            .with_variance(variance);
        let Ok(issued) = codec.issue(&req) else {
            // Refused requests must be the ones that need more rounding
            // than allowed or are too long; re-plan to see the reason.
            let err = p.plan(&req).unwrap_err();
            prop_assert!(matches!(
                err,
                offpin::IssueError::RoundingTooLarge { .. } | offpin::IssueError::TooLong { .. }
            ), "unexpected {err:?}");
            return Ok(());
        };
        let plan = issued.plan;
        prop_assert_eq!(codec.decode(&issued.pin).unwrap(), plan.grant);
        prop_assert_eq!(plan.grant.variance(), variance);
        // Outward only, within the allowance.
        let w = plan.window.unwrap();
        prop_assert!(w.start <= starts_at && w.end >= ends_at);
        prop_assert!(starts_at - w.start <= i64::from(rounding));
        prop_assert!(w.end - ends_at <= i64::from(rounding));
        // Opens at its start; refused before (minus grace) and after.
        let g = p.grace_secs();
        let check = |t| p.check(&plan.grant, t, offset);
        prop_assert!(check(w.start).opens());
        prop_assert!(check(w.start - g).opens());
        prop_assert_eq!(check(w.start - g - 1), Verdict::Refuse(Refusal::NotYetValid));
        prop_assert_eq!(check(w.end + g), Verdict::Refuse(Refusal::Expired));
        // Inside the window it opens, or (past the activation window of a
        // long code) opens if activated.
        let mid = w.start + (w.end - w.start) / 2;
        let opens_or_needs_memory =
            matches!(check(mid), Verdict::Open(_) | Verdict::OpenIfActivated { .. });
        prop_assert!(opens_or_needs_memory, "refused in the middle of its window");
    }

    /// One-time codes open throughout their use window and nowhere else.
    #[test]
    fn one_time_codes_open_in_their_use_window(
        p in profile(),
        key in any::<[u8; 16]>(),
        hour in 24u32..(24 * 3_000),
        at in 0i64..(26 * HOUR),
    ) {
        let codec = Codec::new(&DeviceKey::from_bytes(key), p).unwrap();
        let starts_at = p.epoch() + i64::from(hour) * HOUR;
        let issued = codec.issue(&Request::one_time(starts_at)).unwrap();
        let grant = codec.decode(&issued.pin).unwrap();
        prop_assert_eq!(grant, Grant::OneTime { start_hour: hour, variance: 0 });
        let now = starts_at - HOUR + at;
        let inside = now >= starts_at - p.grace_secs()
            && now < starts_at + p.one_time_use_secs() + p.grace_secs();
        prop_assert_eq!(p.check(&grant, now, UtcOffset::UTC).opens(), inside);
    }

    /// Any typed input either decodes or is an error; never a panic.
    #[test]
    fn arbitrary_input_never_panics(p in profile(), input in proptest::collection::vec(any::<u8>(), 0..24)) {
        let codec = Codec::new(&DeviceKey::from_bytes([9; 16]), p).unwrap();
        if let Ok(grant) = codec.decode_input(&input) {
            // Whatever decodes re-encodes to the same digits.
            let pin = codec.pin_for(&grant).unwrap();
            prop_assert_eq!(pin.as_bytes(), &input[..]);
        }
    }
}
