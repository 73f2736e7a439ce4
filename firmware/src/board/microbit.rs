//! The nRF51822's `TIMER0` as the counter (QEMU `microbit`): 32 bits,
//! counting up at 16 MHz (prescaler 0). The nRF51 has no SysTick.
//!
//! Register access is the only `unsafe` of the firmware: volatile reads and
//! writes of `TIMER0`'s registers at their fixed addresses (nRF51 Series
//! Reference Manual v3.0, section 18 "Timer/counter", instance `TIMER0` at
//! `0x4000_8000`). The `nrf51-pac` crate would need `unsafe` for the same
//! writes (its `TASKS_*` and `CC` fields are raw `bits`), so it would add a
//! dependency without removing any.

#![allow(unsafe_code, reason = "memory-mapped TIMER0 registers")]

use core::ptr;

/// `TIMER0`'s base address.
const TIMER0: usize = 0x4000_8000;
/// `TASKS_START`: start the timer.
const TASKS_START: usize = TIMER0;
/// `TASKS_CLEAR`: set the counter to 0.
const TASKS_CLEAR: usize = TIMER0 + 0x00C;
/// `TASKS_CAPTURE[0]`: copy the counter into `CC[0]`.
const TASKS_CAPTURE0: usize = TIMER0 + 0x040;
/// `MODE`: 0 = timer.
const MODE: usize = TIMER0 + 0x504;
/// `BITMODE`: 3 = 32 bits.
const BITMODE: usize = TIMER0 + 0x508;
/// `PRESCALER`: f = 16 MHz / 2^PRESCALER.
const PRESCALER: usize = TIMER0 + 0x510;
/// `CC[0]`: capture/compare register 0.
const CC0: usize = TIMER0 + 0x540;

/// The counter's width: differences of [`ticks`] are taken modulo this.
pub const TICK_MASK: u32 = u32::MAX;

fn write(addr: usize, value: u32) {
    // SAFETY: `addr` is one of the TIMER0 registers above: an aligned,
    // always-mapped 32-bit peripheral register of the nRF51 (and of QEMU's
    // model of it). Writing it has no effect on memory Rust owns.
    unsafe { ptr::write_volatile(addr as *mut u32, value) }
}

fn read(addr: usize) -> u32 {
    // SAFETY: as in `write`; reading CC[0] has no side effect.
    unsafe { ptr::read_volatile(addr as *const u32) }
}

/// Starts TIMER0 as a free-running 32-bit timer at 16 MHz.
pub fn init() -> bool {
    write(MODE, 0);
    write(BITMODE, 3);
    write(PRESCALER, 0);
    write(TASKS_CLEAR, 1);
    write(TASKS_START, 1);
    true
}

/// The counter now: captured into `CC[0]`, then read.
#[inline(always)]
pub fn ticks() -> u32 {
    write(TASKS_CAPTURE0, 1);
    read(CC0)
}
