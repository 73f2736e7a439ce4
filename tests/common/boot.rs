//! Starting a loaded lock in tests that model no flash (shared by the
//! tests that load images).

use offpin::lock::Lock;

/// The lock, started: its start change committed as if its image had been
/// written and the counter raised (the firmware's order, without a flash
/// to write to). Panics if the lock refuses the commit: a failed test.
#[allow(
    dead_code,
    reason = "not every test binary that includes this starts a lock"
)]
pub fn started<const M: usize, const K: usize>(mut lock: Lock<M, K>) -> Lock<M, K> {
    let start = lock.start();
    assert!(
        start.needs_write() || lock.is_started(),
        "a start writes an image"
    );
    if let Err(e) = lock.commit(start) {
        panic!("the start change does not commit: {e}");
    }
    lock
}
