//! The device-specific part of the vector table, per board (cortex-m-rt's
//! `device` feature, with `device.x`), linked by both firmware images.
//!
//! The only other `unsafe` of the firmware (beside the nRF51 timer's
//! registers): the vector table is an unmangled static in its link
//! section, and names cortex-m-rt's `DefaultHandler` through an `extern`
//! block. Nothing here runs: the firmware enables no interrupt.

#![allow(
    unsafe_code,
    reason = "the vector table must be an unmangled static in its link section"
)]

/// External interrupts of the board's interrupt controller: the nRF51's 26
/// (POWER_CLOCK to SWI5), the AN386's 32 (QEMU's `mps2` `num-irq`), the
/// AN505's 96 (the IoT Kit's 32 and 64 expansion interrupts).
const IRQS: usize = if cfg!(not(target_has_atomic = "32")) {
    26
} else if cfg!(target_abi = "eabihf") {
    32
} else {
    96
};

unsafe extern "C" {
    /// cortex-m-rt's default exception and interrupt handler.
    fn DefaultHandler();
}

/// The device-specific part of the vector table (cortex-m-rt's `device`
/// feature): the board's interrupt count, every one to `DefaultHandler`,
/// instead of cortex-m-rt's generic 240 (ARMv7-M) or 480 (ARMv8-M
/// Mainline) vectors, as a real device crate would give. The firmware
/// enables no interrupt.
#[unsafe(link_section = ".vector_table.interrupts")]
#[unsafe(no_mangle)]
pub static __INTERRUPTS: [unsafe extern "C" fn(); IRQS] = [DefaultHandler; IRQS];
