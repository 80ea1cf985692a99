/* Helpers for kvm-labelled tests. */
#ifndef GLINT_KVM_SUPPORT_H
#define GLINT_KVM_SUPPORT_H

#include "glint/glint.h"

/* Exits with GLINT_SKIP_CODE (ctest: "not run") when /dev/kvm is unusable. */
void glint_test_require_kvm(void);
/* Path of a built guest, e.g. glint_test_guest_path("test_guest"). */
const char *glint_test_guest_path(const char *name);

#endif
