//! The memory routines of the validator image, one byte at a time:
//! `memcpy`, `memmove`, `memset` and the ARM EABI entry points the compiler
//! calls for copies and clears (`__aeabi_memcpy*`, `__aeabi_memmove*`,
//! `__aeabi_memset*`, `__aeabi_memclr*`).
//!
//! Without them the image links compiler-builtins' versions, which copy
//! word by word with a path for every alignment and a separate routine per
//! EABI entry point: 1.3 KB of flash on the Cortex-M0, 1.6 KB on the
//! Cortex-M4F and M33, a tenth of a 16 KiB part (`run.sh` reports the
//! image both ways). A C firmware gets the same trade from newlib-nano's
//! byte loops. What the lock copies is small: a `Check` or a `Change` (a
//! few hundred bytes) per entry, the `Lock` once per boot.
//!
//! compiler-builtins defines these symbols weak, so these definitions are
//! the ones linked. The only other `unsafe` of the firmware is the vector
//! table and the nRF51 timer's registers.

#![allow(
    unsafe_code,
    reason = "the C ABI memory routines the compiler calls take raw pointers"
)]

use core::ptr;

/// Copies `n` bytes from `src` to `dest`, forwards (or backwards when
/// `dest` is above an overlapping `src`).
///
/// # Safety
///
/// `src` is readable and `dest` writable for `n` bytes.
unsafe fn copy(dest: *mut u8, src: *const u8, n: usize) {
    if (dest as usize) <= (src as usize) {
        for i in 0..n {
            // SAFETY: i < n: inside both regions (the caller's contract).
            // Volatile: the loop must not be turned into a call to
            // `memcpy`, which is this routine.
            unsafe { ptr::write_volatile(dest.add(i), *src.add(i)) };
        }
    } else {
        for i in (0..n).rev() {
            // SAFETY: as above; backwards, so an overlapping `src` below
            // `dest` is read before it is overwritten.
            unsafe { ptr::write_volatile(dest.add(i), *src.add(i)) };
        }
    }
}

/// Writes `n` copies of `byte` from `dest`.
///
/// # Safety
///
/// `dest` is writable for `n` bytes.
unsafe fn fill(dest: *mut u8, byte: u8, n: usize) {
    for i in 0..n {
        // SAFETY: i < n (the caller's contract); volatile as in `copy`.
        unsafe { ptr::write_volatile(dest.add(i), byte) };
    }
}

/// C `memcpy`.
///
/// # Safety
///
/// As C's: `src` readable and `dest` writable for `n` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn memcpy(dest: *mut u8, src: *const u8, n: usize) -> *mut u8 {
    // SAFETY: the caller's contract.
    unsafe { copy(dest, src, n) };
    dest
}

/// C `memmove`.
///
/// # Safety
///
/// As C's.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn memmove(dest: *mut u8, src: *const u8, n: usize) -> *mut u8 {
    // SAFETY: the caller's contract; `copy` handles the overlap.
    unsafe { copy(dest, src, n) };
    dest
}

/// C `memset` (the byte is the low byte of `c`).
///
/// # Safety
///
/// As C's: `dest` writable for `n` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn memset(dest: *mut u8, c: i32, n: usize) -> *mut u8 {
    #[allow(
        clippy::cast_possible_truncation,
        reason = "C's memset stores (unsigned char)c"
    )]
    // SAFETY: the caller's contract.
    unsafe {
        fill(dest, c as u8, n)
    };
    dest
}

/// The EABI copy routines (run-time ABI for the Arm architecture, §4.3.4):
/// `n` bytes, `dest` and `src` aligned to 1, 4 or 8 (ignored here).
macro_rules! eabi_copy {
    ($($name:ident),*) => {$(
        /// An EABI copy or move.
        ///
        /// # Safety
        ///
        /// `src` readable and `dest` writable for `n` bytes.
        #[unsafe(no_mangle)]
        pub unsafe extern "C" fn $name(dest: *mut u8, src: *const u8, n: usize) {
            // SAFETY: the caller's contract.
            unsafe { copy(dest, src, n) }
        }
    )*};
}
eabi_copy!(
    __aeabi_memcpy,
    __aeabi_memcpy4,
    __aeabi_memcpy8,
    __aeabi_memmove,
    __aeabi_memmove4,
    __aeabi_memmove8
);

/// The EABI fill routines: note the order `(dest, n, c)`.
macro_rules! eabi_set {
    ($($name:ident),*) => {$(
        /// An EABI fill.
        ///
        /// # Safety
        ///
        /// `dest` writable for `n` bytes.
        #[unsafe(no_mangle)]
        pub unsafe extern "C" fn $name(dest: *mut u8, n: usize, c: i32) {
            #[allow(clippy::cast_possible_truncation, reason = "the low byte is stored")]
            // SAFETY: the caller's contract.
            unsafe {
                fill(dest, c as u8, n)
            }
        }
    )*};
}
eabi_set!(__aeabi_memset, __aeabi_memset4, __aeabi_memset8);

/// The EABI clear routines: `(dest, n)`.
macro_rules! eabi_clear {
    ($($name:ident),*) => {$(
        /// An EABI clear.
        ///
        /// # Safety
        ///
        /// `dest` writable for `n` bytes.
        #[unsafe(no_mangle)]
        pub unsafe extern "C" fn $name(dest: *mut u8, n: usize) {
            // SAFETY: the caller's contract.
            unsafe { fill(dest, 0, n) }
        }
    )*};
}
eabi_clear!(__aeabi_memclr, __aeabi_memclr4, __aeabi_memclr8);
