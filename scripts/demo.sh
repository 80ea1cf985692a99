#!/usr/bin/env bash
# demo.sh: THE demo command.  Installs missing packages, builds build/, and runs the demo guest with the
# glint command-line tool.  The demo needs KVM: it runs directly where a probe guest runs on this
# machine's /dev/kvm (`glint doctor`: hardware VMX/SVM, or a paravirtual PVM as on our machines), and
# otherwise inside the KVM test harness VM (tests/harness/kvm-harness.sh), which costs a boot of about
# 5-10 s and runs everything ~100x slower than real KVM (software CPU).
#
#   scripts/demo.sh            (as root on a fresh machine: it installs packages)

set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

scripts/deps.sh

echo "=== building build/ (log: build/demo-build.log)"
mkdir -p build
if ! { cmake -B build -S . && cmake --build build -j "$(nproc 2>/dev/null || echo 2)"; } >build/demo-build.log 2>&1; then
    tail -n 40 build/demo-build.log >&2
    echo "demo.sh: the build failed (full log: build/demo-build.log)" >&2
    exit 1
fi

# shellcheck source=kvm-here.sh
source "$root/scripts/kvm-here.sh"
echo "=== KVM here? (glint doctor)"
if guests_run_here build; then kvm_direct=1; else kvm_direct=0; fi

# run_in_kvm COMMAND [ARGS...]: run COMMAND where guests run.  Every call without them here boots one
# harness VM, so put several demo steps into one call (e.g. run_in_kvm sh -c '...').
run_in_kvm() {
    if ((kvm_direct)); then
        "$@"
    else
        echo "=== guests do not run on this machine's KVM: running in the KVM test harness VM (emulated CPU, slow)" >&2
        tests/harness/kvm-harness.sh -- "$@"
    fi
}

# The demo: inspect the example guest (memory layout, its functions and signatures), then call its
# functions through the glint CLI; arguments are typed from the signatures the guest declares.  All in one
# shell so that, without /dev/kvm, the harness VM boots once.
run_demo() {
    if [[ $# -gt 0 ]]; then
        run_in_kvm build/host/glint call build/guests/demo.elf "$@"
        return
    fi
    run_in_kvm sh -c '
        set -e
        echo "\$ glint inspect build/guests/demo.elf"; build/host/glint inspect build/guests/demo.elf
        echo; echo "\$ glint call build/guests/demo.elf greet Glint"; build/host/glint call build/guests/demo.elf greet Glint
        echo; echo "\$ glint call build/guests/demo.elf add 40 2"; build/host/glint call build/guests/demo.elf add 40 2
        echo; echo "\$ glint call build/guests/demo.elf fib 90"; build/host/glint call build/guests/demo.elf fib 90
        if [ -x build/examples/js/glint-js ]; then
            echo; echo "\$ glint-js \"[1,2,3].map(function (x) { return x * 7; }).join()\" \"JSON.stringify({sum: 40 + 2})\""
            build/examples/js/glint-js "[1,2,3].map(function (x) { return x * 7; }).join()" "JSON.stringify({sum: 40 + 2})"
        fi
    '
}
# ---------------------------------------------------------------- end of placeholder

echo "=== demo"
run_demo "$@"
