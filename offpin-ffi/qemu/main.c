/* The keypad script as a C firmware's main on QEMU. */
#include "platform.h"

int main(void) { return offpin_keypad_script() == 0 ? 0 : 1; }
