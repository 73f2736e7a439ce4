//! The lock's hot path, repeated: `Lock::check` of one valid or one invalid
//! PIN, `N` times. Used by `benches/callgrind.sh` to count instructions per
//! check (two runs with different `N`, differenced, so setup cancels out).
//!
//! ```sh
//! cargo run --release --example check_cost -- valid 1000 standard-10
//! cargo run --release --example check_cost -- invalid 1000 standard-10 4   # a lock with 4 keys
//! ```
//!
//! The valid PIN is a guest's stay (3 days less 4 hours, so it needs
//! activation: the check scans the lock's memory), typed two hours after
//! check-in; the invalid one is the same PIN with its last digit changed.
//! A check mutates nothing, so every repetition does the same work.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "a measurement harness: bad arguments end it"
)]

use std::hint::black_box;

use offpin::lock::Lock;
use offpin::profile::shipped::by_name;
use offpin::{Profile, UtcOffset};

#[path = "../benches/common/lock_fixture.rs"]
mod lock_fixture;

use lock_fixture::{MEMORY, codecs, pins};

fn run<const KEYS: usize>(profile: Profile, typed: &[u8], now: i64, n: u64, expect_open: bool) {
    let lock = Lock::<MEMORY, KEYS>::new(codecs::<KEYS>(profile), UtcOffset::UTC).unwrap();
    let mut opened = 0u64;
    for _ in 0..n {
        let check = lock.check(black_box(typed), black_box(now));
        opened += u64::from(black_box(check).decision.opens());
    }
    assert_eq!(opened, if expect_open { n } else { 0 });
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let usage = "usage: check_cost <valid|invalid> <N> [profile (standard-10)] [keys: 1|2|4 (1)]";
    let mode = args.get(1).expect(usage).as_str();
    let n: u64 = args.get(2).expect(usage).parse().expect(usage);
    let profile = by_name(args.get(3).map_or("standard-10", String::as_str)).expect(usage);
    let keys: usize = args.get(4).map_or(Ok(1), |k| k.parse()).expect(usage);
    let (valid, invalid, now) = pins(profile);
    let (typed, expect_open) = match mode {
        "valid" => (valid, true),
        "invalid" => (invalid, false),
        _ => panic!("{usage}"),
    };
    match keys {
        1 => run::<1>(profile, &typed, now, n, expect_open),
        2 => run::<2>(profile, &typed, now, n, expect_open),
        4 => run::<4>(profile, &typed, now, n, expect_open),
        _ => panic!("{usage}"),
    }
}
