//! A power cut at every point of the documented firmware sequence
//! (count-before-check)
//!
//! ```text
//! charge -> write its image -> commit -> check -> (if needed) write its
//! image -> commit -> act
//! ```
//!
//! never lets a one-time code open twice, never loses a revocation, and
//! never lets an entry be evaluated before its failure is on flash.
//!
//! The flash has two image slots. A cut can happen before the charge,
//! after any number of bytes of either image write (the slot either
//! overwritten in place or erased to `0xFF` first), after the charge is
//! written, right after the decision (the attack of a power cut timed with
//! a side channel), after the check's write, after the commit (before the
//! door is driven) and after the door is driven. The lock then boots from
//! the newest valid image ([`Lock::load_newest`]) and the person at the
//! door types the same code again (unless the door had already acted),
//! then the rest of the script runs.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::cast_possible_truncation,
    reason = "test code: a failed unwrap is a failed test"
)]

#[path = "common/boot.rs"]
mod boot;
use boot::started;
use offpin::lock::{Decision, Lock};
use offpin::profile::shipped::STANDARD_10 as P;
use offpin::{
    Codec, DeviceKey, Grant, Pin, Refusal, Request, RevokeTarget, UnixSeconds, UtcOffset,
};

const HOUR: i64 = 3_600;
const M: usize = 8;
type L = Lock<M>;
const LEN: usize = L::STATE_LEN;

fn codec() -> Codec {
    Codec::new(&DeviceKey::from_bytes([9; 16]), P).unwrap()
}

fn t0() -> UnixSeconds {
    P.epoch() + 20_000 * HOUR
}

/// Where the power fails.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Cut {
    BeforeCheck(usize),
    WritingCharge {
        step: usize,
        bytes: usize,
        erased_first: bool,
    },
    AfterCharge(usize),
    AfterDecision(usize),
    Writing {
        step: usize,
        bytes: usize,
        erased_first: bool,
    },
    AfterWrite(usize),
    AfterCommit(usize),
    AfterActing(usize),
}

struct Script {
    entries: Vec<(Pin, UnixSeconds)>,
    one_time: Vec<Grant>,
    revoke_slot_step: usize,
    watermark_step: usize,
}

fn script() -> Script {
    let c = codec();
    let t = t0();
    let issue = |r: Request| c.issue(&r).unwrap();
    let once_a = issue(Request::one_time(t));
    let once_b = issue(Request::one_time(t).with_variance(1));
    let long = issue(Request::time_bound(t, t + 72 * HOUR));
    let ongoing5 = issue(Request::ongoing(5));
    let revoke5 = issue(Request::revoke_slot(5));
    let before = issue(Request::revoke_started_before(t + HOUR));
    let wrong = Pin::parse(b"0000000000", P.radix(), P.digits()).unwrap();
    let entries = vec![
        (once_a.pin.clone(), t + 60),
        (once_a.pin.clone(), t + 120),
        (long.pin.clone(), t + 150),
        (ongoing5.pin.clone(), t + 180),
        (revoke5.pin.clone(), t + 240),
        (ongoing5.pin.clone(), t + 300),
        (wrong, t + 360),
        (once_b.pin.clone(), t + 420),
        (once_b.pin.clone(), t + 480),
        (before.pin.clone(), t + HOUR + 60),
        (long.pin.clone(), t + HOUR + 120),
        (once_a.pin.clone(), t + HOUR + 180),
        (revoke5.pin, t + HOUR + 240),
        (ongoing5.pin, t + HOUR + 300),
    ];
    Script {
        entries,
        one_time: vec![once_a.plan.grant, once_b.plan.grant],
        revoke_slot_step: 4,
        watermark_step: 9,
    }
}

/// Power-on: the newest valid image, then the start (its state written
/// again to the other slot; no counter in this test).
fn boot(flash: &mut [[u8; LEN]; 2]) -> L {
    let mut lock = L::load_newest(codec(), UtcOffset::UTC, &[&flash[0], &flash[1]])
        .expect("a valid image always survives");
    let start = lock.start();
    let slot = (start.image_sequence() % 2) as usize;
    lock.save_after(&start, &mut flash[slot]).unwrap();
    lock.commit(start).unwrap();
    lock
}

/// What a boot would find on the flash, without writing anything.
fn peek(flash: &[[u8; LEN]; 2]) -> L {
    started(
        L::load_newest(codec(), UtcOffset::UTC, &[&flash[0], &flash[1]])
            .expect("a valid image always survives"),
    )
}

/// What the door did, and what the lock knew at the end.
struct Run {
    acted: Vec<(usize, Decision)>,
    slot5_revoked: bool,
    watermark: Option<offpin::lock::Mark>,
    /// Step whose revocation image was completely written.
    persisted: Vec<usize>,
}

fn run(s: &Script, cut: Option<Cut>) -> Run {
    // Provisioning: a fresh state in slot 0, slot 1 erased.
    let mut flash = [[0xffu8; LEN]; 2];
    let fresh = L::new(codec(), UtcOffset::UTC).unwrap();
    fresh.save(&mut flash[0]).unwrap();
    let mut lock = boot(&mut flash);

    let mut pending = cut;
    let mut acted = Vec::new();
    let mut persisted = Vec::new();
    let mut step = 0;
    // Writes `image` to `slot`, or tears the write if the cut says so
    // (then the caller reboots and the entry is typed again).
    let write = |flash: &mut [[u8; LEN]; 2],
                 slot: usize,
                 image: &[u8; LEN],
                 torn: Option<(usize, bool)>| {
        match torn {
            Some((bytes, erased_first)) => {
                if erased_first {
                    flash[slot] = [0xff; LEN];
                }
                flash[slot][..bytes].copy_from_slice(&image[..bytes]);
                false
            }
            None => {
                flash[slot] = *image;
                true
            }
        }
    };
    while step < s.entries.len() {
        let (pin, now) = &s.entries[step];
        if pending == Some(Cut::BeforeCheck(step)) {
            pending = None;
            lock = boot(&mut flash);
        }
        // 1. The charge: persisted before anything is decided.
        let charge = lock.charge(*now);
        if charge.needs_write() {
            let slot = (charge.image_sequence() % 2) as usize;
            let mut image = [0u8; LEN];
            lock.save_after(&charge, &mut image).unwrap();
            let torn = match pending {
                Some(Cut::WritingCharge {
                    step: at,
                    bytes,
                    erased_first,
                }) if at == step => {
                    pending = None;
                    Some((bytes, erased_first))
                }
                _ => None,
            };
            if !write(&mut flash, slot, &image, torn) {
                lock = boot(&mut flash);
                continue; // typed again
            }
        }
        lock.commit(charge).unwrap();
        if pending == Some(Cut::AfterCharge(step)) {
            pending = None;
            lock = boot(&mut flash);
            continue;
        }
        // 2. The decision. The flash already counts this entry as failed.
        let on_flash = peek(&flash);
        assert_eq!(
            on_flash.budget_left(*now),
            lock.budget_left(*now),
            "charge not on flash at step {step}"
        );
        assert_eq!(on_flash.consecutive_failures(), lock.consecutive_failures());
        let c = lock.check(pin.as_bytes(), *now);
        let failed = matches!(c.decision, Decision::Refuse(r) if r != Refusal::MemoryFull && r != Refusal::LockedOut);
        if pending == Some(Cut::AfterDecision(step)) {
            // Cut with the decision known (a side channel): the failure
            // stays counted, an opening is lost.
            pending = None;
            let budget = lock.budget_left(*now);
            let failures = lock.consecutive_failures();
            lock = boot(&mut flash);
            assert_eq!(lock.budget_left(*now), budget, "a cut erased a charge");
            assert_eq!(lock.consecutive_failures(), failures);
            if failed {
                step += 1; // the attacker moves on to the next guess
            }
            continue;
        }
        if c.change.needs_write() {
            let slot = (c.change.image_sequence() % 2) as usize;
            let mut image = [0u8; LEN];
            lock.save_after(&c.change, &mut image).unwrap();
            let torn = match pending {
                Some(Cut::Writing {
                    step: at,
                    bytes,
                    erased_first,
                }) if at == step => {
                    pending = None;
                    Some((bytes, erased_first))
                }
                _ => None,
            };
            if !write(&mut flash, slot, &image, torn) {
                lock = boot(&mut flash);
                continue; // typed again
            }
            persisted.push(step);
            if pending == Some(Cut::AfterWrite(step)) {
                pending = None;
                lock = boot(&mut flash);
                continue;
            }
        }
        lock.commit(c.change).unwrap();
        if pending == Some(Cut::AfterCommit(step)) {
            pending = None;
            lock = boot(&mut flash);
            continue;
        }
        acted.push((step, c.decision));
        step += 1;
        if pending == Some(Cut::AfterActing(step - 1)) {
            pending = None;
            lock = boot(&mut flash);
        }
    }
    assert_eq!(pending, None, "the cut {cut:?} was reached");
    Run {
        acted,
        slot5_revoked: lock.is_slot_revoked(5),
        watermark: lock.watermark(),
        persisted,
    }
}

fn check_run(s: &Script, cut: Option<Cut>, r: &Run) {
    for g in &s.one_time {
        let opens = r
            .acted
            .iter()
            .filter(|(_, d)| *d == Decision::Open(*g))
            .count();
        assert!(opens <= 1, "{g} opened {opens} times with cut {cut:?}");
    }
    // Revocations are never lost: once their image is written, the door
    // never opens for what they revoke, and the final state has them.
    assert!(r.persisted.contains(&s.revoke_slot_step));
    for (step, d) in &r.acted {
        if *step > s.revoke_slot_step {
            assert_ne!(
                *d,
                Decision::Open(Grant::Ongoing { slot: 5 }),
                "revoked slot opened at step {step} with cut {cut:?}"
            );
        }
        if *step > s.watermark_step
            && let Decision::Open(g) = d
        {
            assert!(
                g.starts_at(&P, UtcOffset::UTC)
                    .is_none_or(|st| st >= t0() + HOUR),
                "{g} opened under the watermark with cut {cut:?}"
            );
        }
    }
    assert!(r.slot5_revoked, "slot revocation lost with cut {cut:?}");
    assert_eq!(
        r.watermark.map(|m| m.hour),
        Some(20_001),
        "watermark lost with cut {cut:?}"
    );
}

#[test]
fn lock_power_cut_at_every_point_never_reopens_nor_forgets() {
    let s = script();
    let baseline = run(&s, None);
    check_run(&s, None, &baseline);
    // The uninterrupted run decides as expected.
    let decisions: Vec<_> = baseline.acted.iter().map(|(_, d)| *d).collect();
    assert!(decisions[0].opens());
    assert_eq!(decisions[1], Decision::Refuse(Refusal::AlreadyUsed));
    assert_eq!(decisions[4], Decision::Revoked(RevokeTarget::Slot(5)));
    assert_eq!(decisions[5], Decision::Refuse(Refusal::Revoked));
    assert_eq!(decisions[8], Decision::Refuse(Refusal::AlreadyUsed));
    assert_eq!(decisions[10], Decision::Refuse(Refusal::Revoked));

    let mut points = 0usize;
    for step in 0..s.entries.len() {
        let writes =
            !matches!(baseline.acted[step].1, Decision::Refuse(r) if r != Refusal::MemoryFull);
        let mut cuts = vec![
            Cut::BeforeCheck(step),
            Cut::AfterCharge(step),
            Cut::AfterDecision(step),
            Cut::AfterCommit(step),
            Cut::AfterActing(step),
        ];
        if writes {
            cuts.push(Cut::AfterWrite(step));
        }
        for bytes in 0..LEN {
            for erased_first in [false, true] {
                cuts.push(Cut::WritingCharge {
                    step,
                    bytes,
                    erased_first,
                });
                if writes {
                    cuts.push(Cut::Writing {
                        step,
                        bytes,
                        erased_first,
                    });
                }
            }
        }
        for cut in cuts {
            let r = run(&s, Some(cut));
            check_run(&s, Some(cut), &r);
            points += 1;
        }
    }
    println!(
        "{points} power-cut points over {} entries ({LEN}-byte image)",
        s.entries.len()
    );
    let failed = decisions
        .iter()
        .filter(|d| matches!(d, Decision::Refuse(_)))
        .count();
    assert_eq!(
        points,
        s.entries.len() * (6 + 4 * LEN) - failed * (1 + 2 * LEN)
    );
}

#[test]
fn lock_power_cut_between_persist_and_door_burns_the_one_time_code() {
    // The price of persisting first: a cut after the write but before the
    // motor leaves the one-time code used without the door having opened.
    let s = script();
    let r = run(&s, Some(Cut::AfterCommit(0)));
    assert_eq!(r.acted[0], (0, Decision::Refuse(Refusal::AlreadyUsed)));
}
