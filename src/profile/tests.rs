use super::shipped::*;
use super::*;

#[test]
fn canonical_bytes_of_v1_are_51_bytes() {
    let p = STANDARD_10;
    let canonical = p.canonical_bytes();
    let bytes = canonical.as_bytes();
    assert_eq!(bytes.len(), 51);
    assert_eq!(&bytes[..18], b"offpin/v1/profile\0");
    assert_eq!(bytes[50], 1, "revocation flag is the last byte");
}

/// A v2 profile without extension fields: the v2 label, the same 33
/// bytes of v1 fields, nothing after; another tweak.
#[test]
fn canonical_bytes_of_v2_start_with_the_v1_fields() {
    let v1 = STANDARD_10;
    let v2 = Profile::new(ProfileParams {
        format: FormatVersion::V2,
        ..v1.params()
    })
    .unwrap();
    let (a, b) = (v1.canonical_bytes(), v2.canonical_bytes());
    assert_eq!(&b.as_bytes()[..18], b"offpin/v2/profile\0");
    assert_eq!(a.as_bytes()[18..], b.as_bytes()[18..]);
    assert_ne!(v1.tweak(), v2.tweak());
    assert_eq!(v1.grant_count(), v2.grant_count());
}

/// The stored tweak is what SHA-256 (the `sha2` crate) gives for the
/// canonical bytes, for every shipped profile and for profiles built
/// at run time from varied parameters.
#[test]
fn stored_tweak_is_sha256_of_the_canonical_bytes() {
    use sha2::{Digest, Sha256};
    let check = |p: &Profile| {
        let digest = Sha256::digest(p.canonical_bytes().as_bytes());
        assert_eq!(p.tweak()[..], digest[..8], "{}", p.name());
    };
    ALL.iter().for_each(check);
    let mut built = 0;
    for digits in 8..=12u8 {
        for ongoing_slots in [0u32, 1, 300] {
            for (revocation, format) in [
                (false, FormatVersion::V1),
                (true, FormatVersion::V1),
                (true, FormatVersion::V2),
            ] {
                let params = ProfileParams {
                    digits,
                    ongoing_slots,
                    revocation,
                    format,
                    epoch: STANDARD_10.epoch() + i64::from(digits) * 86_400,
                    ..STANDARD_10.params()
                };
                if let Ok(p) = Profile::new(params) {
                    check(&p);
                    built += 1;
                }
            }
        }
    }
    assert!(built >= 18, "only {built} profiles were built");
}

/// Anti-peep entry is policy, not format: `entry_max_digits` is
/// bounded by `digits` and `min(2 · digits, 32)`, and leaves the
/// canonical bytes and the tweak (so every PIN) as they are.
#[test]
fn entry_max_digits_is_bounded_and_not_part_of_the_format() {
    for p in ALL {
        let digits = p.digits();
        let max = (2 * digits).min(MAX_ENTRY_DIGITS);
        assert_eq!(p.params().entry_max_digits, 0, "{}: shipped off", p.name());
        assert_eq!(p.entry_positions(), 1);
        for e in [0, digits, digits + 1, max] {
            let q = Profile::new(ProfileParams {
                entry_max_digits: e,
                ..p.params()
            })
            .unwrap();
            assert_eq!(
                q.canonical_bytes().as_bytes(),
                p.canonical_bytes().as_bytes(),
                "{}",
                p.name()
            );
            assert_eq!(q.tweak(), p.tweak());
            assert_eq!(q.has_anti_peep(), e > digits);
            assert_eq!(q.entry_max_digits(), e.max(digits));
            assert_eq!(q.entry_positions(), u32::from(e.max(digits) - digits) + 1);
        }
        for e in [1, digits - 1, max + 1, u8::MAX] {
            let err = Profile::new(ProfileParams {
                entry_max_digits: e,
                ..p.params()
            })
            .unwrap_err();
            assert_eq!(
                err,
                ProfileError::EntryMaxDigitsOutOfRange {
                    entry_max_digits: e,
                    digits,
                    max,
                }
            );
            assert_eq!(err.code(), "entry_max_digits_out_of_range");
        }
    }
    // 18 digits: the cap is 32 keys, not 36.
    let long = Profile::new(ProfileParams {
        digits: 18,
        entry_max_digits: 32,
        ..STANDARD_10.params()
    })
    .unwrap();
    assert_eq!(long.entry_positions(), 15);
    assert!(
        Profile::new(ProfileParams {
            entry_max_digits: 33,
            ..long.params()
        })
        .is_err()
    );
}

#[test]
fn tweaks_differ_between_shipped_profiles() {
    let t: std::vec::Vec<_> = ALL.iter().map(|p| p.tweak()).collect();
    for i in 0..t.len() {
        for j in i + 1..t.len() {
            assert_ne!(t[i], t[j]);
        }
    }
}

#[test]
fn too_many_grants_are_refused() {
    let params = ProfileParams {
        digits: 6,
        ..STANDARD_10.params()
    };
    assert!(matches!(
        Profile::new(params),
        Err(ProfileError::IndexSpaceTooSmall { .. })
    ));
}

#[test]
fn each_parameter_is_checked() {
    let base = STANDARD_10.params();
    let cases = [
        (ProfileParams { digits: 5, ..base }, "digits"),
        (ProfileParams { digits: 19, ..base }, "digits"),
        (ProfileParams { epoch: 1, ..base }, "epoch"),
        (
            ProfileParams {
                lifetime_days: 0,
                ..base
            },
            "lifetime",
        ),
        (
            ProfileParams {
                variances: 0,
                ..base
            },
            "variances",
        ),
        (
            ProfileParams {
                activation_hours: 0,
                ..base
            },
            "activation",
        ),
        (
            ProfileParams {
                grace_secs: 3600,
                ..base
            },
            "grace",
        ),
        (
            ProfileParams {
                hourly_max_hours: 0,
                daily_max_days: 0,
                one_time_use_hours: 0,
                ongoing_slots: 0,
                ..base
            },
            "kinds",
        ),
        (
            ProfileParams {
                lockout: LockoutPolicy {
                    failures: 0,
                    ..base.lockout
                },
                ..base
            },
            "lockout",
        ),
        (
            ProfileParams {
                lockout: LockoutPolicy {
                    budget: 0,
                    ..base.lockout
                },
                ..base
            },
            "budget",
        ),
        (
            ProfileParams {
                lockout: LockoutPolicy {
                    refill_secs: 0,
                    ..base.lockout
                },
                ..base
            },
            "refill",
        ),
    ];
    for (params, what) in cases {
        assert!(Profile::new(params).is_err(), "{what} not checked");
    }
    // Each bound has its own error, and the bound itself is accepted.
    let small = ProfileParams {
        lifetime_days: 10,
        ..COMPACT_8.params()
    };
    let bounds = [
        (
            ProfileParams {
                epoch: -DAY,
                ..small
            },
            ProfileParams { epoch: 0, ..small },
            ProfileError::EpochOutOfRange,
        ),
        (
            ProfileParams {
                epoch: MAX_EPOCH + DAY,
                ..small
            },
            ProfileParams {
                epoch: MAX_EPOCH,
                ..small
            },
            ProfileError::EpochOutOfRange,
        ),
        (
            ProfileParams {
                epoch: MAX_EPOCH + 1,
                ..small
            },
            ProfileParams {
                epoch: MAX_EPOCH - DAY,
                ..small
            },
            ProfileError::EpochOutOfRange,
        ),
        (
            ProfileParams {
                lifetime_days: MAX_LIFETIME_DAYS + 1,
                hourly_max_hours: 0,
                one_time_use_hours: 0,
                revocation: false,
                digits: 18,
                ..small
            },
            ProfileParams {
                lifetime_days: MAX_LIFETIME_DAYS,
                hourly_max_hours: 0,
                one_time_use_hours: 0,
                revocation: false,
                digits: 18,
                ..small
            },
            ProfileError::LifetimeTooLong,
        ),
        (
            ProfileParams {
                hourly_max_hours: MAX_DURATION_HOURS + 1,
                digits: 18,
                ..small
            },
            ProfileParams {
                hourly_max_hours: MAX_DURATION_HOURS,
                digits: 18,
                ..small
            },
            ProfileError::HourlyWindowTooLong,
        ),
        (
            ProfileParams {
                daily_max_days: MAX_LIFETIME_DAYS + 1,
                digits: 18,
                ..small
            },
            ProfileParams {
                daily_max_days: MAX_LIFETIME_DAYS,
                digits: 18,
                ..small
            },
            ProfileError::DailyWindowTooLong,
        ),
        (
            ProfileParams {
                one_time_use_hours: MAX_DURATION_HOURS + 1,
                ..small
            },
            ProfileParams {
                one_time_use_hours: MAX_DURATION_HOURS,
                ..small
            },
            ProfileError::OneTimeUseTooLong,
        ),
        (
            ProfileParams {
                activation_hours: MAX_DURATION_HOURS + 1,
                ..small
            },
            ProfileParams {
                activation_hours: MAX_DURATION_HOURS,
                ..small
            },
            ProfileError::ActivationTooLong,
        ),
    ];
    for (refused, accepted, error) in bounds {
        assert_eq!(Profile::new(refused), Err(error));
        assert!(Profile::new(accepted).is_ok(), "{error}");
    }
    let radix9_6 = ProfileParams {
        radix: Radix::Nine,
        keys: Keys::STANDARD,
        digits: 6,
        ..base
    };
    assert!(matches!(
        Profile::new(radix9_6),
        Err(ProfileError::DigitsOutOfRange {
            radix: 9,
            digits: 6
        })
    ));
}

#[test]
fn lockout_doubles_up_to_its_cap() {
    let l = LockoutPolicy {
        failures: 5,
        base_secs: 60,
        cap_secs: 300,
        budget: 10,
        refill_secs: 3_600,
    };
    assert_eq!(l.duration_after_batch(0), 60);
    assert_eq!(l.duration_after_batch(1), 120);
    assert_eq!(l.duration_after_batch(2), 240);
    assert_eq!(l.duration_after_batch(3), 300);
    assert_eq!(l.duration_after_batch(40), 300);
}
