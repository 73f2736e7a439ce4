//! Timing a check with the board's counter ([`board::ticks`]): the fewest
//! ticks of a few runs (under QEMU's `-icount shift=0` one tick is a
//! fixed number of instructions).

use core::hint::black_box;

use crate::board;

/// The fewest counter ticks `f` took in a few runs.
pub(crate) fn min_ticks(mut f: impl FnMut()) -> u32 {
    let mut best = u32::MAX;
    for _ in 0..3 {
        let start = board::ticks();
        black_box(());
        f();
        black_box(());
        let end = board::ticks();
        best = best.min(end.wrapping_sub(start) & board::TICK_MASK);
    }
    best
}
