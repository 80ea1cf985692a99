#include "kvm_support.h"

#include <stdio.h>
#include <stdlib.h>

#include "hv.h"

#ifndef GLINT_SKIP_CODE
#define GLINT_SKIP_CODE 77
#endif

void glint_test_require_kvm(void) {
    if (!glint_kvm_available()) {
        fprintf(stderr, "NOT RUN: /dev/kvm is not usable here; run this test through "
                        "scripts/test.sh or tests/harness/kvm-harness.sh\n");
        exit(GLINT_SKIP_CODE);
    }
}

const char *glint_test_guest_path(const char *name) {
    static char path[4096];
    const char *dir = getenv("GLINT_GUEST_DIR");
    if (dir == NULL) dir = GLINT_GUEST_DIR;
    snprintf(path, sizeof path, "%s/%s.elf", dir, name);
    return path;
}
