//! FF1: offpin's against the `fpe` crate's (same AES-128 key, tweak and
//! numeral; outputs asserted equal before timing), the AES-128 block
//! throughput that bounds FF1, batch issuing (interleaved FF1), and the
//! floor of one evaluation: the latency of one AES-128 block, and of ten
//! dependent blocks, on the backend in use with no per-call set-up,
//! against FF1 and `Lock::check` of a valid `standard-10` PIN.
//!
//! `cargo bench --bench ff1`. After criterion's own report, a summary
//! prints the ratios computed from the estimates of this run.

#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    clippy::cast_possible_truncation,
    reason = "benchmark code: a failed setup is a failed benchmark"
)]

mod common;

#[path = "common/lock_fixture.rs"]
mod lock_fixture;

use std::hint::black_box;
use std::time::{Duration, Instant};

use aes::cipher::{
    Array, BlockCipherEncBackend, BlockCipherEncClosure, BlockCipherEncrypt, BlockSizeUser,
    KeyInit, consts::U16,
};
use criterion::{BenchmarkId, Criterion, Throughput};
use fpe::ff1::{FF1, FlexibleNumeralString};
use offpin::ff1::{BATCH_LANES, Ff1Aes128, Radix};
use offpin::lock::Lock;
use offpin::profile::shipped::STANDARD_10;
use offpin::{Codec, DeviceKey, Grant, Span, UtcOffset};

const KEY: [u8; 16] = [
    0x2B, 0x7E, 0x15, 0x16, 0x28, 0xAE, 0xD2, 0xA6, 0xAB, 0xF7, 0x15, 0x88, 0x09, 0xCF, 0x4F, 0x3C,
];
/// A 10-digit numeral.
const X10: u64 = 1_234_567_890;
/// How many numerals / grants a batch holds.
const BATCH: usize = 1024;
/// AES blocks in the "many blocks" throughput measurement: a multiple of
/// 8 (AES-NI backend), 30 (VAES-256 backend) and 2 (bitsliced soft).
const AES_MANY: usize = 240;

fn digits(mut x: u64, n: u8) -> Vec<u16> {
    let mut out = vec![0u16; usize::from(n)];
    for d in out.iter_mut().rev() {
        *d = (x % 10) as u16;
        x /= 10;
    }
    out
}

fn value(ns: FlexibleNumeralString) -> u64 {
    Vec::<u16>::from(ns)
        .iter()
        .fold(0, |acc, &d| acc * 10 + u64::from(d))
}

fn tweak() -> [u8; 8] {
    STANDARD_10.tweak()
}

/// One FF1 of a 10-digit numeral, ours and fpe's, encrypt and decrypt.
fn ff1_vs_fpe(c: &mut Criterion) {
    let t = tweak();
    let ours = Ff1Aes128::new(&KEY, Radix::Ten, 10, &t).unwrap();
    let theirs = FF1::<aes::Aes128>::new(&KEY, 10).unwrap();
    let x = FlexibleNumeralString::from(digits(X10, 10));
    let y_ours = ours.encrypt(X10).unwrap();
    let y_fpe = theirs.encrypt(&t, &x).unwrap();
    assert_eq!(y_ours, value(y_fpe), "offpin and fpe disagree on encrypt");
    let y = FlexibleNumeralString::from(digits(y_ours, 10));
    assert_eq!(
        value(theirs.decrypt(&t, &y).unwrap()),
        X10,
        "fpe does not decrypt to the plaintext"
    );
    assert_eq!(ours.decrypt(y_ours).unwrap(), X10);
    let mut ds = [1u8, 2, 3, 4, 5, 6, 7, 8, 9, 0];
    ours.encrypt_digits(&mut ds).unwrap();
    assert_eq!(
        ds.iter().fold(0u64, |a, &d| a * 10 + u64::from(d)),
        y_ours,
        "encrypt_digits disagrees with encrypt"
    );

    let mut g = c.benchmark_group("ff1_10");
    g.throughput(Throughput::Elements(1));
    g.bench_function("offpin_encrypt", |b| {
        b.iter(|| ours.encrypt(black_box(X10)))
    });
    g.bench_function("offpin_decrypt", |b| {
        b.iter(|| ours.decrypt(black_box(y_ours)))
    });
    g.bench_function("offpin_encrypt_digits", |b| {
        b.iter(|| {
            let mut ds = black_box([1u8, 2, 3, 4, 5, 6, 7, 8, 9, 0]);
            ours.encrypt_digits(&mut ds).unwrap();
            ds
        })
    });
    g.bench_function("fpe_encrypt", |b| {
        b.iter(|| theirs.encrypt(black_box(&t), black_box(&x)))
    });
    g.bench_function("fpe_decrypt", |b| {
        b.iter(|| theirs.decrypt(black_box(&t), black_box(&y)))
    });
    g.finish();
}

/// How the cost grows with the numeral length (radix 10).
fn ff1_lengths(c: &mut Criterion) {
    let t = tweak();
    let mut g = c.benchmark_group("ff1_len");
    g.throughput(Throughput::Elements(1));
    for n in [6u8, 8, 12, 18] {
        let ours = Ff1Aes128::new(&KEY, Radix::Ten, n, &t).unwrap();
        let x = 123_456 % 10u64.pow(u32::from(n));
        g.bench_with_input(BenchmarkId::new("offpin_encrypt", n), &x, |b, &x| {
            b.iter(|| ours.encrypt(black_box(x)))
        });
        let theirs = FF1::<aes::Aes128>::new(&KEY, 10).unwrap();
        let xs = FlexibleNumeralString::from(digits(x, n));
        assert_eq!(
            ours.encrypt(x).unwrap(),
            value(theirs.encrypt(&t, &xs).unwrap())
        );
        g.bench_with_input(BenchmarkId::new("fpe_encrypt", n), &xs, |b, xs| {
            b.iter(|| theirs.encrypt(black_box(&t), black_box(xs)))
        });
    }
    g.finish();
}

/// AES-128 block throughput: one block per call (latency bound), the 8
/// blocks one Feistel round of a batch hands over, and many blocks.
fn aes_ceiling(c: &mut Criterion) {
    let aes = aes::Aes128::new(&Array::from(KEY));
    let mut g = c.benchmark_group("aes128");
    g.throughput(Throughput::Elements(1));
    g.bench_function("block_1", |b| {
        let mut block = Array::from([7u8; 16]);
        b.iter(|| {
            aes.encrypt_block(black_box(&mut block));
        })
    });
    g.throughput(Throughput::Elements(BATCH_LANES as u64));
    g.bench_function("blocks_8", |b| {
        let mut blocks = [Array::from([7u8; 16]); BATCH_LANES];
        b.iter(|| aes.encrypt_blocks(black_box(&mut blocks)))
    });
    g.throughput(Throughput::Elements(AES_MANY as u64));
    g.bench_function("blocks_240", |b| {
        let mut blocks = [Array::from([7u8; 16]); AES_MANY];
        b.iter(|| aes.encrypt_blocks(black_box(&mut blocks)))
    });
    g.finish();
}

/// `iters` repetitions of `chain` dependent AES-128 encryptions of one
/// block, all inside one call into the cipher's backend: the backend's
/// per-call set-up is paid once per criterion sample, not per block, so
/// the time per repetition is the latency of `chain` blocks on that backend
/// (the loop's only other work is one `black_box` per repetition).
struct Chain<'a> {
    iters: u64,
    chain: usize,
    elapsed: &'a mut Duration,
}

impl BlockSizeUser for Chain<'_> {
    type BlockSize = U16;
}

impl BlockCipherEncClosure for Chain<'_> {
    #[inline(always)]
    fn call<B: BlockCipherEncBackend<BlockSize = U16>>(self, backend: &B) {
        let mut block = Array::from([7u8; 16]);
        let start = Instant::now();
        for _ in 0..self.iters {
            for _ in 0..self.chain {
                backend.encrypt_block_inplace(&mut block);
            }
            block = black_box(block);
        }
        *self.elapsed = start.elapsed();
    }
}

/// The floor of one FF1 evaluation (ten dependent AES blocks, FF1's
/// Feistel rounds being sequential) on the backend the default build
/// selects, and what FF1 and a lock check cost above it.
fn floor(c: &mut Criterion) {
    let aes = aes::Aes128::new(&Array::from(KEY));
    let ff1 = Ff1Aes128::new(&KEY, Radix::Ten, 10, &tweak()).unwrap();
    let profile = STANDARD_10;
    let (valid, _, now) = lock_fixture::pins(profile);
    let lock: Lock<{ lock_fixture::MEMORY }, 1> =
        Lock::new(lock_fixture::codecs::<1>(profile), UtcOffset::UTC).unwrap();
    assert!(lock.check(&valid, now).decision.opens());

    let mut g = c.benchmark_group("floor");
    for chain in [1usize, 10] {
        g.bench_function(format!("aes_{chain}_dependent"), |b| {
            b.iter_custom(|iters| {
                let mut elapsed = Duration::ZERO;
                aes.encrypt_with_backend(Chain {
                    iters,
                    chain,
                    elapsed: &mut elapsed,
                });
                elapsed
            })
        });
    }
    // One block through the public entry point: the backend's set-up plus
    // one block (the set-up is this minus `aes_1_dependent`).
    g.bench_function("aes_1_per_call", |b| {
        let mut block = Array::from([7u8; 16]);
        b.iter(|| aes.encrypt_block(black_box(&mut block)))
    });
    g.bench_function("ff1_encrypt", |b| b.iter(|| ff1.encrypt(black_box(X10))));
    g.bench_function("ff1_decrypt", |b| b.iter(|| ff1.decrypt(black_box(X10))));
    g.bench_function("lock_check_valid_standard_10", |b| {
        b.iter(|| lock.check(black_box(&valid), black_box(now)).decision)
    });
    g.finish();
}

/// Grants to issue: a spread of hourly stays over the profile's lifetime.
fn grants() -> Vec<Grant> {
    (0..BATCH as u32)
        .map(|i| {
            Grant::Hourly(Span {
                start: 24 * 700 + 7 * i,
                length: 1 + (i * 13) % 672,
                variance: (i % 3) as u8,
                lineage: 0,
            })
        })
        .collect()
}

/// Batch issuing: `BATCH` numerals / grants in one call, no heap inside.
fn batch(c: &mut Criterion) {
    let t = tweak();
    let ff1 = Ff1Aes128::new(&KEY, Radix::Ten, 10, &t).unwrap();
    let xs: Vec<u64> = (0..BATCH as u64).map(|i| i * 9_765_625).collect();
    let mut check = xs.clone();
    ff1.encrypt_batch(&mut check).unwrap();
    for (x, y) in xs.iter().zip(&check) {
        assert_eq!(ff1.encrypt(*x).unwrap(), *y);
    }

    let codec = Codec::new(&DeviceKey::from_bytes(KEY), STANDARD_10).unwrap();
    let gs = grants();
    let mut out = vec![0u64; BATCH];
    codec.pin_values_for(&gs, &mut out).unwrap();
    for (g, v) in gs.iter().zip(&out) {
        let pin = codec.pin_for(g).unwrap();
        assert_eq!(pin.value(Radix::Ten), Ok(*v));
    }

    let mut g = c.benchmark_group("batch");
    g.throughput(Throughput::Elements(BATCH as u64));
    g.bench_function("ff1_encrypt_one_by_one", |b| {
        let mut buf = xs.clone();
        b.iter(|| {
            for x in buf.iter_mut() {
                *x = ff1.encrypt(black_box(*x) % 10_000_000_000).unwrap();
            }
        })
    });
    g.bench_function("ff1_encrypt_batch", |b| {
        let mut buf = xs.clone();
        b.iter(|| {
            buf.copy_from_slice(&xs);
            ff1.encrypt_batch(black_box(&mut buf)).unwrap();
        })
    });
    g.bench_function("codec_pin_values_for", |b| {
        b.iter(|| codec.pin_values_for(black_box(&gs), black_box(&mut out)))
    });
    g.finish();
}

/// The ratios to the floor (issue 14), from this run's estimates.
fn floor_summary(r: &common::Results) {
    let ns = |id: &str| r.ns("floor", id);
    let (Some(one), Some(ten)) = (ns("aes_1_dependent"), ns("aes_10_dependent")) else {
        return;
    };
    println!(
        "floor: AES-128 latency {one:.1} ns/block with no per-call set-up; 10 dependent blocks {ten:.1} ns"
    );
    let setup = ns("aes_1_per_call").map(|t| t - one);
    if let Some(s) = setup {
        println!("AES backend set-up per call (encrypt_block minus one block): {s:.1} ns");
    }
    for (id, what, goal) in [
        ("ff1_encrypt", "FF1 encrypt, 10 digits", 1.3),
        ("ff1_decrypt", "FF1 decrypt, 10 digits", 1.3),
        (
            "lock_check_valid_standard_10",
            "Lock::check, valid standard-10",
            1.6,
        ),
    ] {
        if let Some(t) = ns(id) {
            let mut line = format!(
                "{what}: {t:.1} ns = {:.2}x the floor (goal <= {goal}x)",
                t / ten
            );
            if let Some(s) = setup {
                line += &format!("; without the set-up {:.2}x", (t - s) / ten);
            }
            println!("{line}");
        }
    }
}

fn summary(r: &common::Results) {
    let ns = |g: &str, id: &str| r.ns(g, id);
    if !r.any() {
        return;
    }
    println!("\n== offpin FF1 summary (this run) ==");
    floor_summary(r);
    if let (Some(o), Some(f)) = (ns("ff1_10", "offpin_encrypt"), ns("ff1_10", "fpe_encrypt")) {
        println!(
            "FF1 encrypt, 10 digits: offpin {o:.1} ns, fpe {f:.1} ns: {:.1}x",
            f / o
        );
    }
    if let (Some(o), Some(f)) = (ns("ff1_10", "offpin_decrypt"), ns("ff1_10", "fpe_decrypt")) {
        println!(
            "FF1 decrypt, 10 digits: offpin {o:.1} ns, fpe {f:.1} ns: {:.1}x",
            f / o
        );
    }
    let one = ns("aes128", "block_1");
    let eight = ns("aes128", "blocks_8").map(|t| t / BATCH_LANES as f64);
    let many = ns("aes128", "blocks_240").map(|t| t / AES_MANY as f64);
    for (what, t) in [
        ("1 block/call", one),
        ("8 blocks/call", eight),
        ("240 blocks/call", many),
    ] {
        if let Some(t) = t {
            println!(
                "AES-128 {what}: {t:.2} ns/block = {} blocks; FF1 ceiling (/10) {}",
                common::per_second(t),
                common::per_second(10.0 * t)
            );
        }
    }
    let best = [one, eight, many]
        .into_iter()
        .flatten()
        .fold(f64::INFINITY, f64::min);
    for id in [
        "ff1_encrypt_one_by_one",
        "ff1_encrypt_batch",
        "codec_pin_values_for",
    ] {
        if let Some(t) = ns("batch", id) {
            let per = t / BATCH as f64;
            let mut line = format!(
                "{id}: {per:.1} ns/PIN = {} per core",
                common::per_second(per)
            );
            if let Some(e) = eight {
                line += &format!("; vs 8-block AES ceiling {:.2}", 10.0 * e / per);
            }
            if best.is_finite() {
                line += &format!("; vs best AES ceiling {:.2}", 10.0 * best / per);
            }
            println!("{line}");
        }
    }
}

fn main() {
    common::run(
        &[floor, ff1_vs_fpe, ff1_lengths, aes_ceiling, batch],
        summary,
    );
}
