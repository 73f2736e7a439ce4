//! The engine, per shipped profile: issuing one PIN (plan + index + FF1 +
//! rendering), and the stateless lock path, checking one valid and one
//! invalid PIN (parse the typed digits, FF1-decrypt, `grant_at`,
//! `Profile::check`). Plus key derivation (master -> device key), the
//! per-key precomputation (`Codec::new`), and an RFC 6238 code from
//! `totp-lite` as the everyday reference for "one keyed code".
//!
//! `cargo bench --bench engine`; the stateful lock path is in
//! `benches/lock.rs`.

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
use offpin::profile::shipped::ALL;
use offpin::{Codec, DecodeError, MasterKey, Profile, Request, UtcOffset, Verdict};

const MASTER: [u8; 32] = *b"offpin bench master key 32 bytes";
const DEVICE_ID: &[u8] = b"11111111-1111-1111-1111-444444444444";
const HOUR: i64 = 3_600;
const DAY: i64 = 86_400;

/// One profile's fixture: a codec, a request, its PIN, an instant inside
/// the window, and a wrong PIN (one digit of the valid one changed).
pub struct Fixture {
    pub profile: Profile,
    pub codec: Codec,
    pub request: Request,
    pub valid: Vec<u8>,
    pub invalid: Vec<u8>,
    pub now: i64,
}

pub fn fixture(profile: Profile) -> Fixture {
    let key = MasterKey::from_bytes(MASTER)
        .derive_device_key(DEVICE_ID, 0)
        .unwrap();
    let codec = Codec::new(&key, profile).unwrap();
    let start = profile.epoch() + 700 * DAY + 15 * HOUR;
    let request = Request::time_bound(start, start + 3 * DAY - 4 * HOUR);
    let issued = codec.issue(&request).unwrap();
    let valid = issued.pin.as_str().as_bytes().to_vec();
    let now = start + 2 * HOUR;
    assert!(
        profile
            .check(&codec.decode_input(&valid).unwrap(), now, UtcOffset::UTC)
            .opens(),
        "{}: the valid PIN does not open",
        profile.name()
    );
    // Change one digit until the result does not open (almost always the
    // first try: a changed digit names an unrelated index).
    let mut invalid = valid.clone();
    let last = invalid.len() - 1;
    let lowest = if profile.radix() == offpin::Radix::Nine {
        b'1'
    } else {
        b'0'
    };
    loop {
        invalid[last] = if invalid[last] == b'9' {
            lowest
        } else {
            invalid[last] + 1
        };
        let opens = codec
            .decode_input(&invalid)
            .is_ok_and(|g| profile.check(&g, now, UtcOffset::UTC).opens());
        if !opens && invalid != valid {
            break;
        }
    }
    Fixture {
        profile,
        codec,
        request,
        valid,
        invalid,
        now,
    }
}

/// The stateless check of typed digits.
#[inline]
fn check(f: &Fixture, typed: &[u8]) -> Result<Verdict, DecodeError> {
    let grant = f.codec.decode_input(typed)?;
    Ok(f.profile.check(&grant, f.now, UtcOffset::UTC))
}

fn per_profile(c: &mut Criterion) {
    let fixtures: Vec<Fixture> = ALL.into_iter().map(fixture).collect();
    let mut g = c.benchmark_group("engine");
    for f in &fixtures {
        let name = f.profile.name();
        g.bench_with_input(BenchmarkId::new("issue", name), f, |b, f| {
            b.iter(|| f.codec.issue(black_box(&f.request)).unwrap())
        });
        g.bench_with_input(BenchmarkId::new("check_valid", name), f, |b, f| {
            b.iter(|| check(f, black_box(&f.valid)))
        });
        g.bench_with_input(BenchmarkId::new("check_invalid", name), f, |b, f| {
            b.iter(|| check(f, black_box(&f.invalid)))
        });
    }
    g.finish();
}

fn keys_and_reference(c: &mut Criterion) {
    let master = MasterKey::from_bytes(MASTER);
    let key = master.derive_device_key(DEVICE_ID, 0).unwrap();
    let mut g = c.benchmark_group("keys");
    g.bench_function("derive_device_key", |b| {
        b.iter(|| master.derive_device_key(black_box(DEVICE_ID), black_box(0)))
    });
    g.bench_function("codec_new", |b| {
        b.iter(|| Codec::new(black_box(&key), black_box(ALL[0])))
    });
    g.finish();

    let mut g = c.benchmark_group("reference");
    let secret = *b"12345678901234567890"; // RFC 6238's SHA-1 seed
    g.bench_function("totp_sha1_6_digits", |b| {
        b.iter(|| {
            totp_lite::totp_custom::<totp_lite::Sha1>(
                30,
                6,
                black_box(&secret),
                black_box(1_764_601_200),
            )
        })
    });
    g.finish();
}

fn summary(r: &common::Results) {
    if !r.any() {
        return;
    }
    println!("\n== offpin engine summary (this run) ==");
    for p in ALL {
        let n = p.name();
        let get = |id: &str| r.ns("engine", &format!("{id}/{n}"));
        if let (Some(i), Some(v), Some(w)) =
            (get("issue"), get("check_valid"), get("check_invalid"))
        {
            println!(
                "{n:>12}: issue {i:7.1} ns   check valid {v:6.1} ns   check invalid {w:6.1} ns"
            );
        }
    }
    if let Some(t) = r.ns("keys", "derive_device_key") {
        println!("derive_device_key: {t:.1} ns");
    }
    if let Some(t) = r.ns("keys", "codec_new") {
        println!("Codec::new (per-key precomputation): {t:.1} ns");
    }
    if let Some(t) = r.ns("reference", "totp_sha1_6_digits") {
        println!("totp-lite RFC 6238 (SHA-1, 6 digits): {t:.1} ns");
    }
}

fn main() {
    common::run(&[per_profile, keys_and_reference], summary);
}
