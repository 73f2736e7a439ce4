//! The board the firmware runs on, chosen by the compilation target:
//!
//! | target | QEMU board | core | counter |
//! |---|---|---|---|
//! | `thumbv6m-none-eabi` | `microbit` (nRF51822, 256 KiB flash, 16 KiB RAM) | Cortex-M0 | nRF51 `TIMER0`, 16 MHz |
//! | `thumbv7em-none-eabihf` | `mps2-an386` | Cortex-M4F | SysTick, 25 MHz |
//! | `thumbv8m.main-none-eabi` | `mps2-an505` | Cortex-M33 | SysTick |
//!
//! Each board gives a name for the report and a free-running up-counter
//! ([`ticks`], [`TICK_MASK`]) that the script uses to time a check. Under
//! QEMU's `-icount shift=0` one guest instruction is 1 ns of virtual time,
//! so a counter tick is a fixed number of instructions; `timing.rs`
//! calibrates it against a loop of known length.
//!
//! The nRF51 has no SysTick (it is optional on the Cortex-M0 and Nordic
//! left it out), so the micro:bit counts with a TIMER peripheral instead.

#[cfg(not(target_has_atomic = "32"))]
#[path = "board/microbit.rs"]
mod imp;

#[cfg(target_has_atomic = "32")]
#[path = "board/systick.rs"]
mod imp;

pub use imp::{TICK_MASK, init, ticks};

// The board's interrupt vectors (shared with the validator image).
#[path = "vectors.rs"]
mod vectors;

/// The board and core, for the report.
pub const NAME: &str = if cfg!(not(target_has_atomic = "32")) {
    "QEMU microbit (nRF51822, Cortex-M0)"
} else if cfg!(target_abi = "eabihf") {
    "QEMU mps2-an386 (Cortex-M4F)"
} else {
    "QEMU mps2-an505 (Cortex-M33)"
};
