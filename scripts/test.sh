#!/usr/bin/env bash
# test.sh: THE test command.  Installs missing packages, builds build/ (normal) and build-asan/
# (ASan+UBSan), runs the unit tests of both, then the KVM tests of both on every KVM there is: directly on
# this machine's /dev/kvm when a probe guest really runs there (`glint doctor`; today a paravirtual PVM),
# AND in ONE boot of the KVM test harness VM (tests/harness/kvm-harness.sh: nested KVM with AMD SVM
# semantics), every time.  A KVM test proves something only for the KVM it ran on.  Exits nonzero when
# anything failed, and a KVM test that did not run (skipped, disabled, not found) counts as failed.
#
#   scripts/test.sh                          (as root on a fresh machine: it installs packages)
#   GLINT_TEST_FILTER=REGEX scripts/test.sh  only the tests whose name matches REGEX (ctest -R)
#
# Environment: GLINT_TEST_FILTER (ctest -R regex), GLINT_KVM_MODE=auto|direct|harness (default auto: both
# where the probe says guests run here, the harness alone otherwise; direct or harness: only that one),
# GLINT_KVM_TEST_JOBS (parallel KVM tests, default 1), GLINT_HARNESS_* (see tests/harness/kvm-harness.sh).
# See docs/testing.md.

set -uo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root" || exit 1

dirs=(build build-asan)
filter=${GLINT_TEST_FILTER:-}
kvm_jobs=${GLINT_KVM_TEST_JOBS:-1}
jobs=$(nproc 2>/dev/null || echo 2)

# run_ctest DIR LABEL JOBS [TAG]: ctest with its own summary on stdout and a JUnit report in
# DIR/Testing/glint-LABEL[-TAG].xml (read back by summarize).  Returns ctest's status.
run_ctest() {
    local dir=$1 label=$2 j=$3 tag=${4:+-$4} args
    args=(--test-dir "$dir" -L "^$label\$" --output-on-failure -j "$j"
        --output-junit "$root/$dir/Testing/glint-$label$tag.xml")
    if [[ -n $filter ]]; then
        args+=(-R "$filter" --no-tests=ignore)
    else
        args+=(--no-tests=error)
    fi
    mkdir -p "$dir/Testing"
    rm -f "$dir/Testing/glint-$label$tag.xml" "$dir/Testing/glint-$label$tag.status"
    echo "=== ctest $dir: $label tests${4:+ ($4)}"
    ctest "${args[@]}"
    local rc=$?
    echo "$rc" >"$dir/Testing/glint-$label$tag.status"
    return "$rc"
}

# Internal: what runs inside the harness VM: the KVM tests of every build dir, results tagged TAG.
if [[ ${1:-} == --kvm-tests ]]; then
    if [[ ! -c /dev/kvm ]]; then
        echo "test.sh: /dev/kvm is missing here" >&2
    fi
    tag=$2
    shift 2
    rc=0
    for d in "$@"; do
        run_ctest "$d" kvm "$kvm_jobs" "$tag" || rc=1
    done
    exit "$rc"
fi

start=$SECONDS
status=0
summary=()
add_summary() { summary+=("$(printf '  %-34s %s' "$1" "$2")"); }

finish() {
    echo
    echo "=== test.sh summary"
    printf '%s\n' "${summary[@]}"
    printf '  %-34s %s\n' "time" "$((SECONDS - start)) s"
    if ((status == 0)); then
        echo "=== test.sh: ALL PASSED"
    else
        echo "=== test.sh: FAILED"
    fi
    exit "$status"
}

# count_junit FILE: prints "passed failed skipped disabled" from a ctest JUnit report.
count_junit() {
    local f=$1
    sed -n 's/.*<testcase .*status="\([a-z]*\)".*/\1/p' "$f" | awk '
        $1 == "run" { p++ } $1 == "fail" { f++ } $1 == "notrun" { s++ } $1 == "disabled" { d++ }
        END { printf "%d %d %d %d\n", p, f, s, d }'
}

# summarize DIR LABEL [TAG [WHAT]]: one summary line from run_ctest's JUnit report and status file; sets
# status on failure.  A KVM test that did not run is a failure: a test that proved nothing must not pass.
summarize() {
    local dir=$1 label=$2 tag=${3:+-$3} name="$2 ($1)"
    [[ -n ${3:-} ]] && name="$label ${4:-$3} ($dir)"
    local rc p f s d line names xml=$dir/Testing/glint-$label$tag.xml
    rc=$(cat "$dir/Testing/glint-$label$tag.status" 2>/dev/null) || rc=
    if [[ -z $rc ]]; then
        add_summary "$name" "NOT RUN (ctest did not finish)"
        status=1
        return
    fi
    if [[ ! -s $xml ]]; then
        add_summary "$name" "NO RESULTS (ctest status $rc; no tests matched?)"
        status=1
        return
    fi
    read -r p f s d < <(count_junit "$xml")
    line="$p passed, $f failed"
    if [[ $label == kvm ]]; then
        line+=", $((s + d)) not run"
        if ((s + d > 0)); then
            names=$(grep -E 'status="(notrun|disabled)"' "$xml" |
                sed -n 's/.*<testcase name="\([^"]*\)".*/\1/p' | paste -sd ' ')
            line+=" (FAILURE: KVM tests that did not run: $names)"
            status=1
        fi
    else
        if ((s + d > 0)); then line+=", $((s + d)) skipped"; fi
    fi
    if ((f > 0 || rc != 0)); then
        status=1
        line+=" -> FAILED (ctest status $rc)"
    fi
    add_summary "$name" "$line"
}

# count_tests DIR LABEL: how many tests of LABEL (and GLINT_TEST_FILTER) DIR has.
count_tests() {
    local args=(--test-dir "$1" -N -L "^$2\$")
    if [[ -n $filter ]]; then args+=(-R "$filter"); fi
    ctest "${args[@]}" 2>/dev/null | sed -n 's/^Total Tests: *\([0-9]*\).*/\1/p'
}
matched=0

# shellcheck source=kvm-here.sh
source "$root/scripts/kvm-here.sh"

# ---------------------------------------------------------------- dependencies and builds
echo "=== dependencies"
if ! scripts/deps.sh; then
    add_summary deps "FAILED (scripts/deps.sh)"
    status=1
    finish
fi

echo "=== build: build/"
if cmake -B build -S . && cmake --build build -j "$jobs"; then
    add_summary "build (build)" ok
else
    add_summary "build (build)" FAILED
    status=1
    finish
fi

# Reuse build/'s newlib for the ASan build so that newlib is built only once.
asan_args=(-DGLINT_SANITIZE=ON)
sysroot=$(sed -n 's/^GLINT_NEWLIB_SYSROOT_DIR:[A-Z]*=//p' build/CMakeCache.txt 2>/dev/null)
[[ -n $sysroot ]] || sysroot=$root/build/toolchain/newlib-sysroot
if [[ -d $sysroot ]]; then
    asan_args+=("-DGLINT_GUEST_LIBC_SYSROOT=$sysroot")
fi
echo "=== build: build-asan/"
if cmake -B build-asan -S . "${asan_args[@]}" && cmake --build build-asan -j "$jobs"; then
    add_summary "build (build-asan)" ok
else
    add_summary "build (build-asan)" FAILED
    status=1
    finish
fi

# ---------------------------------------------------------------- unit tests
for d in "${dirs[@]}"; do
    n=$(count_tests "$d" unit)
    if [[ -n $filter && ${n:-0} == 0 ]]; then
        add_summary "unit ($d)" "none match GLINT_TEST_FILTER"
        continue
    fi
    matched=$((matched + ${n:-0}))
    run_ctest "$d" unit "$jobs"
    summarize "$d" unit
done

# ---------------------------------------------------------------- fuzzing (bounded runs, label fuzz)
# libFuzzer targets built with clang by tests/fuzz/run.sh, each run for a bounded time; build/ only (the
# targets carry their own sanitizers).
n=$(count_tests build fuzz)
if [[ ${n:-0} -gt 0 ]]; then
    matched=$((matched + n))
    run_ctest build fuzz 1
    summarize build fuzz
elif [[ -z $filter ]]; then
    add_summary "fuzz (build)" "NOT RUN (no fuzz test registered: is clang installed?)"
    status=1
fi

# ---------------------------------------------------------------- KVM tests
# Every KVM there is: this machine's own (when a probe guest runs on it) and the harness VM's, which has
# hardware-virtualisation (SVM) semantics.  They are different KVMs: passing on one proves nothing about
# the other.
mode=${GLINT_KVM_MODE:-auto}
kvm_dirs=()
for d in "${dirs[@]}"; do
    n=$(count_tests "$d" kvm)
    if [[ -n $filter && ${n:-0} == 0 ]]; then
        add_summary "kvm ($d)" "none match GLINT_TEST_FILTER"
    else
        kvm_dirs+=("$d")
        matched=$((matched + ${n:-0}))
    fi
done
run_direct=0 run_harness=0
case $mode in
    auto)
        run_harness=1
        echo "=== KVM here? (glint doctor)"
        if guests_run_here build; then
            run_direct=1
        else
            add_summary "kvm direct" "not possible here ($GLINT_KVM_HERE): harness only"
        fi
        ;;
    direct)
        run_direct=1
        if ! guests_run_here build; then
            add_summary "kvm direct" "FAILED: GLINT_KVM_MODE=direct, but guests do not run here ($GLINT_KVM_HERE)"
            status=1
            run_direct=0
        fi
        ;;
    harness) run_harness=1 ;;
    *)
        echo "test.sh: GLINT_KVM_MODE must be auto, direct or harness (got '$mode')" >&2
        add_summary kvm "NOT RUN (bad GLINT_KVM_MODE)"
        status=1
        ;;
esac
if ((${#kvm_dirs[@]} == 0)); then run_direct=0 run_harness=0; fi
if ((run_direct)); then
    direct_what="direct: ${GLINT_KVM_HERE%%:*}"
    echo "=== KVM tests directly on this machine's KVM ($GLINT_KVM_HERE)"
    for d in "${kvm_dirs[@]}"; do
        run_ctest "$d" kvm "$kvm_jobs" direct
        summarize "$d" kvm direct "$direct_what"
    done
fi
if ((run_harness)); then
    echo "=== KVM tests in the KVM test harness VM (nested KVM, AMD SVM semantics; one boot)"
    for d in "${kvm_dirs[@]}"; do rm -f "$d/Testing/glint-kvm-harness.xml" "$d/Testing/glint-kvm-harness.status"; done
    # A wedged emulated VM (see docs/testing.md) shows as a timeout or a lost VM: retry once, and say so.
    harness_timeout=${GLINT_HARNESS_TIMEOUT:-1500}
    tests/harness/kvm-harness.sh --timeout "$harness_timeout" -- "$root/scripts/test.sh" --kvm-tests harness "${kvm_dirs[@]}"
    hrc=$?
    if ((hrc == 124 || hrc == 97)); then
        echo "=== KVM tests: the harness VM timed out or died (exit $hrc); retrying once in a fresh VM"
        add_summary harness "retried once after harness exit $hrc"
        tests/harness/kvm-harness.sh --timeout "$harness_timeout" -- "$root/scripts/test.sh" --kvm-tests harness "${kvm_dirs[@]}"
        hrc=$?
    fi
    if ((hrc >= 90 && hrc <= 97 || hrc == 124)); then
        add_summary harness "FAILED (kvm-harness.sh exit $hrc, see its error above)"
        status=1
    fi
    for d in "${kvm_dirs[@]}"; do summarize "$d" kvm harness "harness: kvm svm, QEMU TCG"; done
fi

if [[ -n $filter ]] && ((matched == 0)); then
    add_summary filter "no test matches GLINT_TEST_FILTER='$filter'"
    status=1
fi

finish
