/*
 * test_hypervisor.c - glint_hypervisor_probe() and `glint doctor` on the KVM
 * this test runs on: the probe guest must run (it is how test.sh decides to
 * run the kvm label directly), the kind must be known, and the unexpected-exit
 * path must name what happened.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <cmocka.h>

#include "kvm_support.h"

static void test_probe_reports_this_kvm(void **state) {
    (void)state;
    glint_hypervisor_info hi;
    assert_int_equal(glint_hypervisor_probe(&hi, true), GLINT_OK);
    printf("probe: kind %s (%s), nested %d (%s), API %d: %s\n", glint_hypervisor_kind_name(hi.kind),
           hi.kind_source, hi.nested, hi.outer_hypervisor, hi.api_version, hi.message);
    assert_true(hi.device_exists);
    assert_true(hi.device_opens);
    assert_int_equal(hi.open_errno, 0);
    assert_int_equal(hi.api_version, 12);
    /* The machines this runs on: PVM directly, SVM in the harness, VMX or
     * SVM elsewhere; never "unknown" where guests run. */
    assert_true(hi.kind == GLINT_HYPERVISOR_PVM || hi.kind == GLINT_HYPERVISOR_VMX ||
                hi.kind == GLINT_HYPERVISOR_SVM);
    assert_true(hi.kind_source[0] != '\0');
    if (hi.nested) assert_true(strlen(hi.outer_hypervisor) > 0);
    assert_true(hi.cap_count > 0 && hi.cap_count <= GLINT_HYPERVISOR_MAX_CAPS);
    for (uint32_t i = 0; i < hi.cap_count; i++) {
        assert_non_null(hi.caps[i].name);
        assert_non_null(hi.caps[i].use);
        if (hi.caps[i].required) assert_true(hi.caps[i].present);
    }
    assert_true(hi.probe_ran);
    assert_true(hi.guests_run);
    assert_true(hi.probe_ns > 0);
    assert_non_null(strstr(hi.message, "guests run here"));

    /* Without the guest: the same facts, no probe. */
    glint_hypervisor_info quick;
    assert_int_equal(glint_hypervisor_probe(&quick, false), GLINT_OK);
    assert_false(quick.probe_ran);
    assert_false(quick.guests_run);
    assert_int_equal(quick.kind, hi.kind);
    assert_int_equal(quick.cap_count, hi.cap_count);
}

static void test_probe_bad_input(void **state) {
    (void)state;
    assert_int_equal(glint_hypervisor_probe(NULL, true), GLINT_E_INVALID_ARGUMENT);
    assert_string_equal(glint_hypervisor_kind_name(GLINT_HYPERVISOR_PVM), "pvm");
    assert_string_equal(glint_hypervisor_kind_name((glint_hypervisor_kind)99), "unknown");
}

/* `glint doctor --brief` exits 0 here and names the kind; a bad option is
 * a usage error. */
static void test_doctor_cli(void **state) {
    (void)state;
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "%s doctor --brief", GLINT_CLI_PATH);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    char line[512] = "";
    assert_non_null(fgets(line, sizeof line, p));
    int status = pclose(p);
    printf("glint doctor --brief: %s", line);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    assert_non_null(strstr(line, "guests run"));
    assert_true(strncmp(line, "kvm pvm", 7) == 0 || strncmp(line, "kvm svm", 7) == 0 ||
                strncmp(line, "kvm vmx", 7) == 0);
    snprintf(cmd, sizeof cmd, "%s doctor --bogus 2>/dev/null", GLINT_CLI_PATH);
    status = system(cmd);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 1);
}

int main(void) {
    glint_test_require_kvm();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_probe_reports_this_kvm),
        cmocka_unit_test(test_probe_bad_input),
        cmocka_unit_test(test_doctor_cli),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
