//! Issue 19: anti-peep entry against the lock-out.

use super::*;
use offpin::{Grant, ProfileParams};

/// `standard-10` searching entries of up to 16 keys: 7 positions.
pub(crate) fn profile() -> Profile {
    Profile::new(ProfileParams {
        name: "standard-10-anti-peep-16",
        entry_max_digits: 16,
        ..STANDARD_10.params()
    })
    .unwrap()
}

/// `n` filler digits (a fixed pseudo-random sequence of `seed`).
fn filler(seed: u64, n: usize) -> Vec<u8> {
    let mut x = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
    (0..n)
        .map(|_| {
            x = x
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            b'0' + ((x >> 33) % 10) as u8
        })
        .collect()
}

/// `pin` between `before` and `after` filler digits.
fn embed(pin: &[u8], before: usize, after: usize, seed: u64) -> Vec<u8> {
    let mut entry = filler(seed, before);
    entry.extend_from_slice(pin);
    entry.extend(filler(seed ^ 0xA5A5, after));
    entry
}

const MODES: [Mode; 2] = [Mode::CountBeforeCheck, Mode::CheckThenCount];

fn t0(p: Profile) -> UnixSeconds {
    p.epoch() + 20_000 * HOUR
}

#[test]
fn anti_peep_a_pin_at_every_offset_opens() {
    let p = profile();
    let budget = p.lockout().budget;
    let pin = codec(p).issue(&Request::ongoing(3)).unwrap().pin;
    for mode in MODES {
        for len in 10..=16 {
            for before in 0..=len - 10 {
                let mut door = Door::new(p, mode, t0(p));
                let entry = embed(pin.as_bytes(), before, len - 10 - before, len as u64);
                let now = door.clock();
                let c = door.lock.check(&entry, now);
                assert_eq!(c.key, Some(0));
                assert_eq!(
                    door.enter(&entry, Cut::None),
                    Some(Decision::Open(Grant::Ongoing { slot: 3 })),
                    "{mode:?} {}",
                    String::from_utf8_lossy(&entry)
                );
                // The first window decides alone; a later one after
                // `before` PINs tested and refused: one failure.
                let spent = u16::from(before > 0);
                assert_eq!(door.lock.budget_left(now), budget - spent, "{mode:?}");
                assert_eq!(door.lock.consecutive_failures(), 0, "an opening clears");
            }
        }
    }
}

#[test]
fn anti_peep_a_split_or_altered_pin_does_not_open() {
    let p = profile();
    let pin = codec(p).issue(&Request::ongoing(4)).unwrap().pin;
    let pin = pin.as_bytes();
    let mut entries = Vec::new();
    // Split by 1 to 6 digits typed inside it.
    for at in 1..10 {
        for inserted in 1..=6 {
            let mut e = pin[..at].to_vec();
            e.extend(filler(at as u64 * 7 + inserted as u64, inserted));
            e.extend_from_slice(&pin[at..]);
            entries.push(e);
        }
    }
    // One digit off, at every offset of a 16-key entry.
    for digit in 0..10 {
        let mut off = pin.to_vec();
        off[digit] = b'0' + (off[digit] - b'0' + 1) % 10;
        for before in 0..=6 {
            entries.push(embed(&off, before, 6 - before, digit as u64));
        }
    }
    // Cut short at either end.
    entries.push(embed(&pin[1..], 7, 0, 1));
    entries.push(embed(&pin[..9], 0, 7, 2));
    for mode in MODES {
        for entry in &entries {
            let mut door = Door::new(p, mode, t0(p));
            let d = door.enter(entry, Cut::None).unwrap();
            assert!(
                matches!(d, Decision::Refuse(r) if r != Refusal::LockedOut && r != Refusal::MemoryFull),
                "{} -> {d:?}",
                String::from_utf8_lossy(entry)
            );
            assert_eq!(door.lock.budget_left(door.clock()), p.lockout().budget - 1);
            assert_eq!(door.lock.consecutive_failures(), 1);
        }
    }
}

#[test]
fn anti_peep_an_entry_over_the_bound_is_refused_as_one_failure() {
    let p = profile();
    let pin = codec(p).issue(&Request::ongoing(5)).unwrap().pin;
    let pin = pin.as_bytes();
    for mode in MODES {
        for entry in [
            embed(pin, 0, 7, 1),
            embed(pin, 7, 0, 2),
            embed(pin, 3, 4, 3),
            embed(pin, 11, 11, 4),
            embed(pin, 0, 1_000, 5),
        ] {
            let mut door = Door::new(p, mode, t0(p));
            let now = door.clock();
            let c = door.lock.check(&entry, now);
            assert_eq!(
                (c.decision, c.key),
                (Decision::Refuse(Refusal::InvalidCode), None)
            );
            assert_eq!(
                door.enter(&entry, Cut::None),
                Some(Decision::Refuse(Refusal::InvalidCode))
            );
            assert_eq!(door.lock.budget_left(now), p.lockout().budget - 1);
            assert_eq!(door.lock.consecutive_failures(), 1);
        }
    }
}

/// A long entry of wrong digits tries 7 PINs and counts one failure:
/// one charge (count-before-check) or one failure (check-then-count),
/// for the budget and the back-off alike.
#[test]
fn anti_peep_a_long_wrong_entry_counts_once() {
    let p = profile();
    let policy = p.lockout();
    for mode in MODES {
        let mut door = Door::new(p, mode, t0(p));
        for k in 1..=u16::from(policy.failures) {
            assert_eq!(
                door.lock.locked_out_until(door.clock()),
                None,
                "{mode:?} {k}"
            );
            let entry = filler(u64::from(k) * 1_000 + 17, 16);
            assert!(matches!(
                door.enter(&entry, Cut::None),
                Some(Decision::Refuse(r)) if r != Refusal::LockedOut
            ));
            assert_eq!(door.lock.budget_left(door.clock()), policy.budget - k);
            assert_eq!(door.lock.consecutive_failures(), u64::from(k));
            door.wait(3);
        }
        // The back-off starts after `failures` entries, not windows.
        assert!(
            door.lock.locked_out_until(door.clock()).is_some(),
            "{mode:?}"
        );
        assert_eq!(door.failures.len(), usize::from(policy.failures));
    }
}

#[test]
fn anti_peep_a_one_time_code_inside_a_longer_entry_opens_once() {
    let p = profile();
    let start = t0(p) + 10 * HOUR;
    let pin = codec(p).issue(&Request::one_time(start)).unwrap().pin;
    let pin = pin.as_bytes();
    for mode in MODES {
        let mut door = Door::new(p, mode, start + 60);
        let d = door.enter(&embed(pin, 3, 2, 9), Cut::None).unwrap();
        assert!(matches!(d, Decision::Open(Grant::OneTime { .. })), "{d:?}");
        for entry in [embed(pin, 0, 6, 10), embed(pin, 6, 0, 11), pin.to_vec()] {
            door.wait(3);
            let d = door.enter(&entry, Cut::None).unwrap();
            assert!(matches!(d, Decision::Refuse(_)), "{mode:?}: {d:?}");
        }
        door.wait(3);
        assert_eq!(
            door.enter(pin, Cut::None),
            Some(Decision::Refuse(Refusal::AlreadyUsed))
        );
        assert_eq!(door.opened, 1);
    }
}

/// An insider who types guesses in front of their own code: each entry
/// opens, but tested up to 6 other PINs, so each spends a failure; the
/// budget stops them as it stops a stranger (and the published
/// per-attempt figure, 7 PINs an entry, bounds what they tested).
#[test]
fn anti_peep_an_insider_cannot_hide_guesses_before_their_own_code() {
    let p = profile();
    let budget = usize::from(p.lockout().budget);
    let own = codec(p).issue(&Request::ongoing(6)).unwrap().pin;
    for mode in MODES {
        let mut door = Door::new(p, mode, t0(p));
        let mut opened = 0;
        for k in 0..100u64 {
            let entry = embed(own.as_bytes(), 6, 0, k);
            match door.enter(&entry, Cut::None) {
                Some(d) if d.opens() => opened += 1,
                Some(Decision::Refuse(Refusal::LockedOut)) => break,
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(opened, budget, "{mode:?}: the clock stood still");
        // Their own code alone still opens once the budget refills.
        door.wait(p.lockout().refill_secs.into());
        assert!(door.enter(own.as_bytes(), Cut::None).unwrap().opens());
    }
}

const PROP_PINS: usize = 4;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    /// Random entries (some with an issued PIN typed inside) never
    /// open unless a window of the entry is a PIN of the grant that
    /// opened; an issued PIN inside an entry within the bound always
    /// opens; every entry costs one failure or none.
    #[test]
    fn anti_peep_never_opens_unless_a_window_is_a_pin(
        digits in proptest::collection::vec(0u8..10, 0..=20),
        embedded in proptest::option::of((0..PROP_PINS, 0usize..=20)),
        charged in any::<bool>(),
    ) {
        let p = profile();
        let now = t0(p) + 30 * 60;
        let c = codec(p);
        let pins: [Pin; PROP_PINS] = [
            c.issue(&Request::ongoing(7)).unwrap().pin,
            c.issue(&Request::time_bound(t0(p), t0(p) + 5 * HOUR)).unwrap().pin,
            c.issue(&Request::one_time(t0(p))).unwrap().pin,
            c.issue(&Request::ongoing(8)).unwrap().pin,
        ];
        let mut entry: Vec<u8> = digits.iter().map(|d| b'0' + d).collect();
        if let Some((which, at)) = embedded {
            let at = at.min(entry.len());
            entry.splice(at..at, pins[which].as_bytes().iter().copied());
        }
        let mode = if charged { Mode::CountBeforeCheck } else { Mode::CheckThenCount };
        let mut door = Door::new(p, mode, now);
        let before = door.lock.budget_left(now);
        let d = door.enter(&entry, Cut::None).unwrap();
        let spent = before - door.lock.budget_left(now);
        let within = entry.len() >= 10 && entry.len() <= 16;
        if embedded.is_some() && within {
            prop_assert!(d.opens(), "{} -> {d:?}", String::from_utf8_lossy(&entry));
        }
        match d {
            Decision::Open(grant) => {
                prop_assert!(within);
                let at = entry
                    .windows(10)
                    .position(|w| c.decode_input(w) == Ok(grant));
                prop_assert!(at.is_some(), "no window is a PIN of {grant:?}");
                prop_assert_eq!(spent, u16::from(at != Some(0)));
            }
            Decision::Refuse(r) => {
                prop_assert!(r != Refusal::LockedOut && r != Refusal::MemoryFull);
                prop_assert_eq!(spent, 1);
            }
            other => prop_assert!(false, "{other:?}"),
        }
    }
}
