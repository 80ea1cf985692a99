#!/usr/bin/env bash
# bench/run.sh - THE benchmark command: builds glint_bench (and its guest) in build/ if needed, then runs
# it - directly when a probe guest runs on this machine's /dev/kvm (`glint doctor`, as scripts/test.sh and
# scripts/demo.sh decide), otherwise inside the QEMU KVM harness
# (tests/harness/kvm-harness.sh, nested KVM under an emulated CPU: the counts are right, the times are
# not bare-metal times).  The table goes to stdout, the JSON to build/bench.json (bench-hyperlight.json for
# --suite hyperlight).  See docs/benchmarks.md.
#
#   bench/run.sh [--build DIR] [--json PATH] [--direct | --harness] [--suite glint|hyperlight]
#                [glint_bench options...]
#
#   --build DIR     build directory (default: build/ in the repository; env GLINT_BUILD_DIR)
#   --json PATH     JSON output (default: DIR/bench.json, DIR/bench-hyperlight.json for
#                   --suite hyperlight)
#   --direct        run on this machine's /dev/kvm (fail if guests do not run there)
#   --harness       run inside the QEMU KVM harness even if /dev/kvm works
#   --suite S       glint (default): Glint's own scenarios; hyperlight: Hyperlight 0.14's
#                   benchmark scenarios and sizes, under its ids
#   anything else   passed to glint_bench: --quick (default), --iterations N, --config NAME,
#                   --scenario PREFIX, --clones N
#
# Environment: GLINT_CMAKE_ARGS (extra arguments for the first cmake configure), GLINT_HARNESS_* (see
# tests/harness/kvm-harness.sh).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${GLINT_BUILD_DIR:-$root/build}
json=
mode=auto
suite=glint
args=()
while (($#)); do
    case $1 in
        --build) build=$2; shift 2 ;;
        --build=*) build=${1#*=}; shift ;;
        --json) json=$2; shift 2 ;;
        --json=*) json=${1#*=}; shift ;;
        --direct) mode=direct; shift ;;
        --harness) mode=harness; shift ;;
        --suite) suite=$2; args+=("$1" "$2"); shift 2 ;;
        --suite=*) suite=${1#*=}; args+=(--suite "$suite"); shift ;;
        -h | --help) sed -n '2,23p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) args+=("$1"); shift ;;
    esac
done
[[ $build = /* ]] || build=$(pwd)/$build
case $suite in
    glint) json=${json:-$build/bench.json} ;;
    hyperlight) json=${json:-$build/bench-hyperlight.json} ;;
    *) echo "run.sh: unknown suite '$suite' (glint or hyperlight)" >&2; exit 2 ;;
esac
[[ $json = /* ]] || json=$(pwd)/$json

if [[ ! -f $build/CMakeCache.txt ]]; then
    # shellcheck disable=SC2086 # GLINT_CMAKE_ARGS is a list of arguments
    cmake -S "$root" -B "$build" ${GLINT_CMAKE_ARGS:-} >&2
fi
cmake --build "$build" --target glint_bench bench_guest -j "$(nproc 2>/dev/null || echo 2)" >&2

cmake --build "$build" --target glint_cli -j "$(nproc 2>/dev/null || echo 2)" >&2
bench=$build/bench/glint_bench
# shellcheck source=../scripts/kvm-here.sh
source "$root/scripts/kvm-here.sh"
if [[ $mode == auto ]]; then
    if guests_run_here "$build"; then mode=direct; else mode=harness; fi
fi
mkdir -p "$(dirname "$json")"
case $mode in
    direct)
        [[ -n ${GLINT_KVM_HERE:-} ]] || guests_run_here "$build" || {
            echo "run.sh: guests do not run on this machine's KVM" >&2
            exit 2
        }
        exec "$bench" --json "$json" "${args[@]}"
        ;;
    harness)
        echo "run.sh: guests do not run here (or --harness): running in the QEMU KVM harness (nested, emulated CPU)" >&2
        exec "$root/tests/harness/kvm-harness.sh" -- "$bench" --json "$json" "${args[@]}"
        ;;
esac
