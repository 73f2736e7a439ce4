//! Timing a check with the board's counter ([`board::ticks`]): the fewest
//! ticks of a few runs, and ticks turned into guest instructions by a
//! loop of known length (under QEMU's `-icount shift=0` one tick is a
//! fixed number of instructions).

use core::hint::black_box;

use cortex_m_semihosting::hprintln;

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

/// The counter ticks a loop of known length took: the ratio that turns a
/// check's ticks into guest instructions.
pub(crate) struct Calibration {
    /// The loop's ticks, less the empty measurement's (at least 1).
    ticks: u32,
    /// The loop's instructions.
    instructions: u64,
}

impl Calibration {
    /// Times the loop, less `baseline` (the ticks of an empty
    /// measurement), and prints the ratio and the baseline.
    pub(crate) fn measure(baseline: u32) -> Self {
        // Calibration: `cortex_m::asm::delay(n)` runs n + 1 iterations of
        // `subs; bne`, i.e. 2n + 2 instructions.
        const N: u32 = 1_000_000;
        let cal = min_ticks(|| cortex_m::asm::delay(black_box(N)))
            .saturating_sub(baseline)
            .max(1);
        let cal_instr = 2 * u64::from(N) + 2;
        hprintln!(
            "calibration: a loop of {} instructions took {} counter ticks ({}.{:02} instructions per tick)",
            cal_instr,
            cal,
            cal_instr / u64::from(cal),
            (cal_instr * 100 / u64::from(cal)) % 100
        );
        hprintln!("empty measurement: {} ticks (subtracted)", baseline);
        Calibration {
            ticks: cal,
            instructions: cal_instr,
        }
    }

    /// `ticks` in guest instructions.
    pub(crate) fn instructions(&self, ticks: u32) -> u64 {
        u64::from(ticks) * self.instructions / u64::from(self.ticks)
    }
}
