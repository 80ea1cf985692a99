// test_cxx_header.cpp - the public header from C++: it compiles with the
// project's warnings, and its functions link with C linkage (a missing
// extern "C" shows as an undefined reference to glint_type_name(int)).
#include "glint/glint.h"

#include <cstdio>
#include <cstring>

int main() {
    glint_config cfg;
    glint_config_init(&cfg);
    glint_value v = glint_i32(42);
    glint_value s = glint_str("text");
    if (v.as.i32 != 42 || s.as.str.len != 4) return 1;
    if (std::strcmp(glint_type_name(GLINT_TYPE_I32), "i32") != 0) return 1;
    if (std::strcmp(glint_status_name(GLINT_OK), "GLINT_OK") != 0) return 1;
    glint_hypervisor_info info;
    (void)info;
    std::puts("glint.h: C++ compile and C linkage ok");
    return 0;
}
