/* Bare-metal start-up of the C image on QEMU's mps2-an386 (Cortex-M4F):
   the vector table, the reset handler (copy .data, zero .bss, enable the
   FPU, run main), and Arm semihosting for output and exit. No libc. */
#include <stdint.h>

#include "platform.h"

extern uint32_t _stack_start;
extern uint32_t __sidata, __sdata, __edata, __sbss, __ebss;

int main(void);
void reset_handler(void);
void fault_handler(void);

/* Semihosting call (ARM DUI 0471: BKPT 0xAB in Thumb state). */
static int semihost(int op, const void *arg) {
    register int r0 __asm__("r0") = op;
    register const void *r1 __asm__("r1") = arg;
    __asm__ volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}

#define SYS_WRITE0 0x04
#define SYS_EXIT 0x18
#define ADP_STOPPED_APPLICATION_EXIT 0x20026
#define ADP_STOPPED_RUN_TIME_ERROR 0x20023

void platform_write(const char *s) { semihost(SYS_WRITE0, s); }

/* Ends the run: QEMU exits with 0 on success, 1 otherwise. Not inlined:
   the stack measurement (firmware/stack.py) stops at its entry. */
__attribute__((noinline, noreturn)) void offpin_c_finish(int ok) {
    semihost(SYS_EXIT, (const void *)(uintptr_t)(ok ? ADP_STOPPED_APPLICATION_EXIT
                                                    : ADP_STOPPED_RUN_TIME_ERROR));
    for (;;) {
    }
}

void reset_handler(void) {
    uint32_t *src = &__sidata, *dst = &__sdata;
    while (dst < &__edata) *dst++ = *src++;
    for (dst = &__sbss; dst < &__ebss; dst++) *dst = 0;
    /* CPACR: full access to CP10 and CP11 (the FPU), as the hard-float
       ABI of the Rust library expects. */
    *(volatile uint32_t *)0xE000ED88u |= 0xFu << 20;
    __asm__ volatile("dsb\n\tisb" ::: "memory");
    offpin_c_finish(main() == 0);
}

void fault_handler(void) {
    platform_write("FATAL: fault\n");
    offpin_c_finish(0);
}

/* Initial stack pointer, then reset, NMI, HardFault, MemManage, BusFault,
   UsageFault: all a program without interrupts can meet. */
struct vector_table {
    uint32_t *initial_sp;
    void (*handlers[6])(void);
};

__attribute__((section(".vector_table"), used)) static const struct vector_table vectors = {
    &_stack_start,
    {reset_handler, fault_handler, fault_handler, fault_handler, fault_handler, fault_handler},
};
