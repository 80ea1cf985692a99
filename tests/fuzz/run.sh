#!/usr/bin/env bash
# run.sh: build the libFuzzer targets with clang (ASan + UBSan + libFuzzer) straight from the
# sources - no CMake - and run each for a bounded time, printing executions per second and the
# total number of executions.  Exits nonzero if a target finds a crash, a leak, a sanitizer
# report or an invariant violation (the reproducer lands in OUT/artifacts/).
#
#   tests/fuzz/run.sh [SECONDS]          each target SECONDS (default 60), the test command uses 20
#   tests/fuzz/run.sh 3600               a long run: one hour per target
#   options (before SECONDS):
#     --out DIR          binaries, working corpora, artifacts (default build-fuzz/ in the source tree)
#     --elf-dir DIR      also seed the ELF target with DIR/*.elf (stripped copies), e.g. build/guests
#     --targets "A B"    only these targets (elf wire stack gdb)
#     --jobs N           libFuzzer -jobs/-workers N per target (default 1)
#     --regen-seeds      rewrite tests/fuzz/corpus/{wire,stack} with gen_seeds.c, then exit
#
# Targets: elf   glint_elf_parse + glint_elf_load (+ layout) on arbitrary bytes   fuzz_elf.c
#          wire  glint_msg_open + every glint_decode_* on arbitrary bytes         fuzz_wire.c
#          stack glint_stack_peek/pop/reserve/commit on an arbitrary buffer       fuzz_stack.c
#          gdb   the gdb remote stub (packet framing + commands) on raw bytes     fuzz_gdb.c
# Seeds: tests/fuzz/corpus/<target>/ (checked in); new inputs found go to OUT/corpus/<target>/,
# which later runs start from.

set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
out=$root/build-fuzz
elf_dir=
targets="elf wire stack gdb"
jobs=1
regen=0
seconds=60

while (($#)); do
    case $1 in
        --out) out=$2; shift 2 ;;
        --elf-dir) elf_dir=$2; shift 2 ;;
        --targets) targets=$2; shift 2 ;;
        --jobs) jobs=$2; shift 2 ;;
        --regen-seeds) regen=1; shift ;;
        -h | --help) sed -n '2,23p' "$0"; exit 0 ;;
        *)
            [[ $1 =~ ^[1-9][0-9]*$ ]] || { echo "run.sh: bad argument '$1'" >&2; exit 64; }
            seconds=$1; shift ;;
    esac
done

cc=
for c in clang clang-19 clang-18 clang-17 clang-16 clang-15 clang-14; do
    if command -v "$c" >/dev/null; then cc=$c; break; fi
done
[[ -n $cc ]] || { echo "run.sh: clang not found (apt install clang libclang-rt-14-dev)" >&2; exit 90; }

mkdir -p "$out/bin" "$out/artifacts" || exit 1
common_flags=(-g -O1 -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wno-unused-parameter
    -I"$root/common/include" -I"$root/host/include" -I"$root/host/src")
wire_src=("$root/common/src/wire.c" "$root/common/src/status.c")

if ((regen)); then
    "$cc" "${common_flags[@]}" "$here/gen_seeds.c" "${wire_src[@]}" -o "$out/bin/gen_seeds" || exit 1
    rm -f "$here/corpus/wire/"* "$here/corpus/stack/"*
    "$out/bin/gen_seeds" "$here/corpus/wire" "$here/corpus/stack" || exit 1
    echo "run.sh: seeds rewritten in $here/corpus/{wire,stack}"
    exit 0
fi

fuzz_flags=(-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined)
declare -A sources=(
    [elf]="$here/fuzz_elf.c $root/host/src/elf_loader.c $root/host/src/layout.c $root/host/src/error.c $root/host/src/symbols.c $root/host/src/counted.c ${wire_src[*]}"
    [wire]="$here/fuzz_wire.c ${wire_src[*]}"
    [stack]="$here/fuzz_stack.c ${wire_src[*]}"
    [gdb]="$here/fuzz_gdb.c $root/host/src/gdb_packet.c $root/host/src/gdb_stub.c $root/host/src/gdb_regs.c"
)
declare -A max_len=([elf]=131072 [wire]=8192 [stack]=16384 [gdb]=65536)

status=0
summary=()
for t in $targets; do
    [[ -n ${sources[$t]:-} ]] || { echo "run.sh: unknown target '$t'" >&2; exit 64; }
    bin=$out/bin/fuzz_$t
    # shellcheck disable=SC2086
    if ! "$cc" "${common_flags[@]}" "${fuzz_flags[@]}" ${sources[$t]} -o "$bin"; then
        echo "run.sh: building fuzz_$t failed" >&2
        exit 1
    fi
    corpus=$out/corpus/$t
    mkdir -p "$corpus"
    seeds=("$here/corpus/$t")
    if [[ $t == elf && -n $elf_dir && -d $elf_dir ]]; then
        mkdir -p "$out/seeds-elf"
        for f in "$elf_dir"/*.elf; do
            [[ -f $f ]] && strip --strip-all -o "$out/seeds-elf/$(basename "$f")" "$f" 2>/dev/null
        done
        seeds+=("$out/seeds-elf")
    fi
    log=$out/fuzz_$t.log
    echo "=== fuzz_$t: ${seconds} s (corpus $corpus, seeds ${seeds[*]})"
    args=(-max_total_time="$seconds" -print_final_stats=1 -max_len="${max_len[$t]}"
        -timeout=10 -rss_limit_mb=2048 -artifact_prefix="$out/artifacts/$t-")
    if ((jobs > 1)); then args+=(-jobs="$jobs" -workers="$jobs"); fi
    "$bin" "${args[@]}" "$corpus" "${seeds[@]}" >"$log" 2>&1
    rc=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | awk '{s += $1} END {print s + 0}')
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | awk '{s += $1} END {print s + 0}')
    cov=$(grep -E '^#[0-9]+' "$log" | tail -n1 | sed -n 's/.*cov: \([0-9]*\).*corp: \([0-9]*\).*/cov \1, corpus \2/p')
    if ((rc != 0)); then
        status=1
        tail -n 40 "$log"
        summary+=("$(printf '  %-6s FAILED (exit %d) after %s executions; see %s and %s/artifacts/' "$t" "$rc" "$execs" "$log" "$out")")
    else
        summary+=("$(printf '  %-6s %10s executions  %8s exec/s  %s' "$t" "$execs" "$rate" "$cov")")
    fi
done

echo "=== fuzz summary (${seconds} s per target, $cc)"
printf '%s\n' "${summary[@]}"
exit "$status"
