/* The keypad script on the host: linked with the host build of
   liboffpin_ffi.a by offpin-ffi/test.sh. */
#include <stdio.h>
#include "platform.h"

void platform_write(const char *s) { fputs(s, stdout); }

int main(void) {
    unsigned failed = offpin_keypad_script();
    fflush(stdout);
    return failed == 0 ? 0 : 1;
}
