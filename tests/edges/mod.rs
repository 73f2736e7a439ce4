//! Vectors at the edges of every comparison of `docs/FORMAT.md` §5–§10,
//! in `tests/vectors/v2/edges/` (§13 gives their schema).
//!
//! Each comparison gets inputs one unit before its boundary, at it and
//! one unit after it, so an implementation that moves a boundary by one
//! unit, makes an end inclusive or checks two conditions in another order
//! disagrees with some vector. The files are generated here from the
//! crate's public API and committed; the tests generate them again and
//! compare (`check_file`: a change of behaviour fails), and check what
//! each vector claims: the two sides of every boundary differ
//! ([`assert_straddles`]), an order-of-checks request fails with the check
//! FORMAT.md names first.
//!
//! - `check.json` (§6, §11.1): stateless verdicts of PINs around each
//!   window end, activation deadline, grace, week, weekday and hour edge;
//! - `issue.json` (§5): requests around each rounding, length and range
//!   limit, and requests failing two checks at once;
//! - `tz.json` (§9): every change instant of shipped, committed and IANA
//!   rules, ±1 s, in 2027 and the leap year 2028, and the local days
//!   around them;
//! - `lock.json` (§8, §10.3, §11.1): entries typed at a lock after others
//!   (service codes at the skew window's edges, used counters, a rolled
//!   back clock, clock codes at their own instant);
//! - `wmax.json` (§7): a small profile whose `W_max` is reached only at a
//!   UTC offset that is not a whole hour.

use super::v2::{PARIS, profile_v2_json};
use super::*;
use offpin::Profile;

mod check;
mod issue;
mod lock;
mod tz;
mod wmax;

/// The device key of every edge vector (§13: master key 0..31, the
/// vectors' device id, generation 0).
fn device_key() -> offpin::DeviceKey {
    master().derive_device_key(DEVICE_ID.as_bytes(), 0).unwrap()
}

/// The keys every edge file starts with.
fn header() -> serde_json::Map<String, Value> {
    let mut m = serde_json::Map::new();
    m.insert("master_key".into(), json!(hex(master().expose_secret())));
    m.insert("device_id".into(), json!(DEVICE_ID));
    m.insert("generation".into(), json!(0));
    m
}

/// A custom profile as the edge files state it: the `profiles` schema
/// plus the lock policy that the lock vectors depend on.
fn custom_profile_json(p: &Profile) -> Value {
    let mut v = profile_v2_json(p);
    let l = p.lockout();
    v["lock_memory"] = json!(p.lock_memory());
    v["lockout"] = json!({
        "failures": l.failures,
        "base_secs": l.base_secs,
        "cap_secs": l.cap_secs,
        "budget": l.budget,
        "refill_secs": l.refill_secs,
    });
    v
}

/// Asserts that the results one unit below and one unit above a boundary
/// differ, and that the result at it is one of them: the vectors of a
/// boundary pin a real change, at a known side.
fn assert_straddles(what: &str, below: &Value, at: &Value, above: &Value) {
    assert_ne!(below, above, "{what}: no change across the boundary");
    assert!(
        at == below || at == above,
        "{what}: the result at the boundary is neither side's"
    );
}

/// Checks every boundary of a file (`boundaries[].cases[]`, three cases:
/// below, at, above) with `result` naming the compared field.
fn assert_file_straddles(file: &Value, result: &str) -> usize {
    let bounds = file["boundaries"].as_array().unwrap();
    for b in bounds {
        let cases = b["cases"].as_array().unwrap();
        assert_eq!(cases.len(), 3, "{}", b["comparison"]);
        let what = format!("§{} {}", b["section"], b["comparison"]);
        assert_straddles(
            &what,
            &cases[0][result],
            &cases[1][result],
            &cases[2][result],
        );
    }
    bounds.len()
}

#[test]
fn check_edges_match() {
    let generated = check::vectors();
    let n = assert_file_straddles(&generated, "check");
    assert!(n >= 29, "{n} boundaries");
    check_file("v2/edges/check.json", generated);
}

#[test]
fn issue_edges_match() {
    let generated = issue::vectors();
    let n = assert_file_straddles(&generated, "outcome");
    assert!(n >= 25, "{n} boundaries");
    issue::assert_orders(&generated);
    check_file("v2/edges/issue.json", generated);
}

#[test]
fn tz_edges_match() {
    let generated = tz::vectors();
    tz::assert_changes(&generated);
    check_file("v2/edges/tz.json", generated);
}

#[test]
fn lock_edges_match() {
    let generated = lock::vectors();
    let n = assert_file_straddles(&generated, "outcome");
    assert!(n >= 10, "{n} boundaries");
    check_file("v2/edges/lock.json", generated);
}

#[test]
fn wmax_edges_match() {
    let generated = wmax::vectors();
    wmax::assert_witness(&generated);
    check_file("v2/edges/wmax.json", generated);
}
