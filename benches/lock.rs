//! The lock's hot path through [`Lock::check`]: one valid and one invalid
//! PIN per shipped profile (parse, FF1-decrypt, `grant_at`, the stateless
//! check, revocations, the memory scan, the lock-out bookkeeping); how the
//! cost grows with the number of keys a lock holds; writing the state
//! image of an entry (`save_after`, with its checksum); and, with the
//! feature `anti-peep`, a maximum-length entry searched for a PIN.
//!
//! `cargo bench --bench lock`. The same work is counted in instructions by
//! `benches/callgrind.sh` (examples/check_cost.rs).

#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "benchmark code: a failed setup is a failed benchmark"
)]

mod common;

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion};
use offpin::lock::Lock;
use offpin::profile::shipped::{ALL, STANDARD_10};
use offpin::{Profile, UtcOffset};

#[path = "common/lock_fixture.rs"]
mod lock_fixture;

use lock_fixture::{MEMORY, codecs, pins};

fn lock<const KEYS: usize>(profile: Profile) -> Lock<MEMORY, KEYS> {
    Lock::new(codecs::<KEYS>(profile), UtcOffset::UTC).unwrap()
}

fn per_profile(c: &mut Criterion) {
    let mut g = c.benchmark_group("lock_check");
    for profile in ALL {
        let (valid, invalid, now) = pins(profile);
        let lock = lock::<1>(profile);
        assert!(lock.check(&valid, now).decision.opens());
        assert!(!lock.check(&invalid, now).decision.opens());
        let name = profile.name();
        g.bench_with_input(BenchmarkId::new("valid", name), &valid, |b, typed| {
            b.iter(|| lock.check(black_box(typed), black_box(now)).decision)
        });
        g.bench_with_input(BenchmarkId::new("invalid", name), &invalid, |b, typed| {
            b.iter(|| lock.check(black_box(typed), black_box(now)).decision)
        });
    }
    g.finish();
}

fn keys<const KEYS: usize>(c: &mut Criterion) {
    let profile = STANDARD_10;
    let (valid, invalid, now) = pins(profile);
    let lock = lock::<KEYS>(profile);
    assert!(lock.check(&valid, now).decision.opens());
    assert!(!lock.check(&invalid, now).decision.opens());
    let mut g = c.benchmark_group("lock_keys");
    g.bench_with_input(BenchmarkId::new("valid", KEYS), &valid, |b, typed| {
        b.iter(|| lock.check(black_box(typed), black_box(now)).decision)
    });
    g.bench_with_input(BenchmarkId::new("invalid", KEYS), &invalid, |b, typed| {
        b.iter(|| lock.check(black_box(typed), black_box(now)).decision)
    });
    g.finish();
}

fn persist(c: &mut Criterion) {
    let profile = STANDARD_10;
    let (valid, _, now) = pins(profile);
    let lock = lock::<1>(profile);
    let check = lock.check(&valid, now);
    let mut image = vec![0u8; Lock::<MEMORY, 1>::STATE_LEN];
    lock.save_after(&check.change, &mut image).unwrap();
    let mut g = c.benchmark_group("lock_persist");
    g.bench_function("save_after", |b| {
        b.iter(|| lock.save_after(black_box(&check.change), black_box(&mut image)))
    });
    g.bench_function("load", |b| {
        b.iter(|| {
            Lock::<MEMORY, 1>::load(codecs::<1>(profile), UtcOffset::UTC, black_box(&image))
                .map(|l| l.sequence())
        })
    });
    g.finish();
}

/// Anti-peep entry (issue 19, feature `anti-peep`): `standard-10`
/// searching entries of up to 16 keys (7 positions). The worst case is a
/// maximum-length entry that opens nowhere: every window decrypted under
/// every key (`positions × KEYS` FF1 decryptions); the valid PIN is typed
/// at the last position (all 7 windows tried).
#[cfg(feature = "anti-peep")]
fn anti_peep_entry<const KEYS: usize>(c: &mut Criterion) {
    let profile = Profile::new(offpin::ProfileParams {
        name: "standard-10-anti-peep-16",
        entry_max_digits: 16,
        ..STANDARD_10.params()
    })
    .unwrap();
    let (valid, invalid, now) = pins(profile);
    let mut last = b"314159".to_vec();
    last.extend_from_slice(&valid);
    let mut wrong = b"271828".to_vec();
    wrong.extend_from_slice(&invalid);
    let lock = lock::<KEYS>(profile);
    assert_eq!(lock.security().positions, 7);
    assert!(lock.check(&last, now).decision.opens());
    assert!(!lock.check(&wrong, now).decision.opens());
    let mut g = c.benchmark_group("lock_anti_peep");
    g.bench_with_input(BenchmarkId::new("valid_last", KEYS), &last, |b, typed| {
        b.iter(|| lock.check(black_box(typed), black_box(now)).decision)
    });
    g.bench_with_input(BenchmarkId::new("invalid_16", KEYS), &wrong, |b, typed| {
        b.iter(|| lock.check(black_box(typed), black_box(now)).decision)
    });
    g.finish();
}

fn summary(r: &common::Results) {
    if !r.any() {
        return;
    }
    println!("\n== offpin lock summary (this run) ==");
    for p in ALL {
        let n = p.name();
        if let (Some(v), Some(w)) = (
            r.ns("lock_check", &format!("valid/{n}")),
            r.ns("lock_check", &format!("invalid/{n}")),
        ) {
            println!("{n:>12}: Lock::check valid {v:6.1} ns   invalid {w:6.1} ns");
        }
    }
    for k in [1, 2, 4] {
        if let (Some(v), Some(w)) = (
            r.ns("lock_keys", &format!("valid/{k}")),
            r.ns("lock_keys", &format!("invalid/{k}")),
        ) {
            println!("standard-10, {k} key(s): valid {v:6.1} ns   invalid {w:6.1} ns");
        }
    }
    for k in [1, 4] {
        if let (Some(v), Some(w)) = (
            r.ns("lock_anti_peep", &format!("valid_last/{k}")),
            r.ns("lock_anti_peep", &format!("invalid_16/{k}")),
        ) {
            println!(
                "standard-10, anti-peep 16 keys (7 positions), {k} key(s): PIN last {v:6.1} ns   no PIN {w:6.1} ns"
            );
        }
    }
    if let Some(t) = r.ns("lock_persist", "save_after") {
        println!(
            "save_after ({} bytes): {t:.1} ns",
            Lock::<MEMORY, 1>::STATE_LEN
        );
    }
    if let Some(t) = r.ns("lock_persist", "load") {
        println!("load (incl. building the codec): {t:.1} ns");
    }
}

fn main() {
    #[cfg_attr(not(feature = "anti-peep"), allow(unused_mut))]
    let mut groups: Vec<fn(&mut Criterion)> =
        vec![per_profile, keys::<1>, keys::<2>, keys::<4>, persist];
    #[cfg(feature = "anti-peep")]
    groups.extend([
        anti_peep_entry::<1> as fn(&mut Criterion),
        anti_peep_entry::<4>,
    ]);
    common::run(&groups, summary);
}
