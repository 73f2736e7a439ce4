//! SysTick as the counter (Cortex-M4F on `mps2-an386`, Cortex-M33 on
//! `mps2-an505`): 24 bits, counting down from its reload value on the
//! core clock; [`ticks`] turns it into an up-counter.

use cortex_m::peripheral::{SYST, syst::SystClkSource};

/// The counter's width: differences of [`ticks`] are taken modulo this.
pub const TICK_MASK: u32 = 0x00FF_FFFF;

/// Starts SysTick free-running on the core clock. `false` if the core
/// peripherals were already taken.
pub fn init() -> bool {
    let Some(mut cp) = cortex_m::Peripherals::take() else {
        return false;
    };
    cp.SYST.set_clock_source(SystClkSource::Core);
    cp.SYST.set_reload(TICK_MASK);
    cp.SYST.clear_current();
    cp.SYST.enable_counter();
    true
}

/// The counter now (counting up, modulo [`TICK_MASK`] + 1).
#[inline(always)]
pub fn ticks() -> u32 {
    TICK_MASK - SYST::get_current()
}
