#include "kvm_support.h"

#include <stdio.h>
#include <stdlib.h>

#include "hv.h"

#ifndef GLINT_SKIP_CODE
#define GLINT_SKIP_CODE 77
#endif

void glint_test_require_kvm(void) {
    /* Not "does /dev/kvm open": does a guest run on it (a paravirtual KVM
     * opens and answers every ioctl and may still not run guests). */
    glint_hypervisor_info hi;
    if (glint_hypervisor_probe(&hi, true) != GLINT_OK || !hi.guests_run) {
        fprintf(stderr,
                "NOT RUN: guests do not run on this machine's KVM (%s); run this test through "
                "scripts/test.sh or tests/harness/kvm-harness.sh\n",
                hi.message);
        exit(GLINT_SKIP_CODE);
    }
    printf("KVM: %s%s%s\n", glint_hypervisor_kind_name(hi.kind), hi.nested ? ", nested under " : "",
           hi.nested ? hi.outer_hypervisor : "");
}

const char *glint_test_guest_path(const char *name) {
    static char path[4096];
    const char *dir = getenv("GLINT_GUEST_DIR");
    if (dir == NULL) dir = GLINT_GUEST_DIR;
    snprintf(path, sizeof path, "%s/%s.elf", dir, name);
    return path;
}
