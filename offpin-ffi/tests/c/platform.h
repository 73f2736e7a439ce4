/* What the keypad script needs from where it runs: write a string, end
   the run. tests/c/host.c (stdio) and qemu/main.c (Arm semihosting)
   implement it. */
#ifndef OFFPIN_TEST_PLATFORM_H
#define OFFPIN_TEST_PLATFORM_H

void platform_write(const char *s);
/* Runs the script; returns the number of decisions that were not the
   expected ones (0: every one was). */
unsigned offpin_keypad_script(void);

#endif
