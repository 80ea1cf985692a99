#!/usr/bin/env bash
# install-test.sh - install a Glint build into a temporary prefix and use it
# from there alone, like an application outside the tree would.
#
#   install-test.sh MODE BUILD_DIR SOURCE_DIR
#
# MODE
#   package        check what is installed: libglint.so (symlinks, soname,
#                  only glint_* exported, the USDT probes), libglint.a, the
#                  headers (they compile on their own), glint --version, the
#                  CMake and pkg-config files, the guest SDK; no installed text
#                  file names the source or build tree
#   example_build  build examples/out-of-tree (copied out of the tree) both
#                  ways: CMake find_package(Glint), and pkg-config + cc for the
#                  host with the guest toolchain file for the guest; no
#                  generated build file names the source or build tree
#   example        example_build, then run both host programs against their
#                  guests and check the results.  Where guests cannot run
#                  (no /dev/kvm, or one that runs no guest: the installed
#                  glint doctor decides) it exits GLINT_SKIP_CODE (77: ctest
#                  "skipped") after building, never 0
#
# The prefix is installed to one place and then moved to another before it is
# used, so anything that remembers the install location fails here.
#
# Environment (tests/install/CMakeLists.txt sets it): GLINT_INSTALL_LIBDIR
# (lib), GLINT_VERSION, GLINT_SOVERSION, GLINT_TRACE (1/0), GLINT_SKIP_CODE,
# CMAKE, CC.  GLINT_KEEP_TEST_DIR=1 keeps the temporary directory.
set -euo pipefail

prog=install-test
fail() {
    printf '%s: FAIL: %s\n' "$prog" "$*" >&2
    exit 1
}
note() { printf '%s: %s\n' "$prog" "$*"; }

(($# == 3)) || fail "usage: $0 package|example_build|example BUILD_DIR SOURCE_DIR"
mode=$1
build=$(cd "$2" && pwd -P)
src=$(cd "$3" && pwd -P)
case $mode in package | example_build | example) ;; *) fail "unknown mode '$mode'" ;; esac

libdir=${GLINT_INSTALL_LIBDIR:-lib}
version=${GLINT_VERSION:?GLINT_VERSION not set}
soversion=${GLINT_SOVERSION:?GLINT_SOVERSION not set}
trace=${GLINT_TRACE:-1}
skip_code=${GLINT_SKIP_CODE:-77}
cmake=${CMAKE:-cmake}
export CC=${CC:-cc}

# Nothing from the caller's environment may lead back to the tree.
unset GLINT_SDK_DIR GLINT_GUEST_DIR CMAKE_PREFIX_PATH PKG_CONFIG_PATH CMAKE_TOOLCHAIN_FILE \
    CMAKE_GENERATOR CFLAGS LDFLAGS CPATH C_INCLUDE_PATH LIBRARY_PATH LD_LIBRARY_PATH

work=$(mktemp -d "${TMPDIR:-/tmp}/glint-$mode.XXXXXX")
work=$(cd "$work" && pwd -P)
if [[ ${GLINT_KEEP_TEST_DIR:-0} == 1 ]]; then
    note "keeping $work"
else
    trap 'rm -rf "$work"' EXIT
fi
case "$work/" in
"$src/"* | "$build/"*) fail "temporary directory $work is inside the source or build tree (set TMPDIR)" ;;
esac

# Fails if a text file under DIR names the source or the build tree.
check_no_tree_paths() {
    local dir=$1 what=$2 hits
    hits=$(grep -rIlF -e "$src" -e "$build" "$dir" || true)
    if [[ -n $hits ]]; then
        printf '%s\n' "$hits" | head -n 20 >&2
        grep -rIhoF -e "$src" -e "$build" "$dir" | sort | uniq -c | head -n 5 >&2 || true
        fail "$what refers to the source tree ($src) or the build tree ($build): files above"
    fi
}

# ---------------------------------------------------------------- install
stage=$work/stage
prefix=$work/prefix
"$cmake" --install "$build" --prefix "$stage" >"$work/install.log" 2>&1 ||
    {
        tail -n 30 "$work/install.log" >&2
        fail "cmake --install $build failed (is the build complete?)"
    }
mv "$stage" "$prefix"
note "installed $build into a temporary prefix, moved to $prefix"
sdk=$prefix/$libdir/glint/guest-sdk

# ---------------------------------------------------------------- package
check_package() {
    local f
    for f in bin/glint include/glint/glint.h include/glint/abi.h include/glint/status.h \
        include/glint/wire.h "$libdir/libglint.a" "$libdir/libglint.so.$version" \
        "$libdir/cmake/Glint/GlintConfig.cmake" "$libdir/cmake/Glint/GlintConfigVersion.cmake" \
        "$libdir/cmake/Glint/GlintGuestInstalled.cmake" \
        "$libdir/cmake/Glint/GlintGuestFunctions.cmake" "$libdir/pkgconfig/glint.pc"; do
        [[ -f $prefix/$f ]] || fail "$f is not installed"
    done
    for f in glint-sdk.cmake include/glint_guest.h include/glint/abi.h lib/libglint_guest_runtime.a \
        toolchain/guest.ld toolchain/glint-guest-toolchain.cmake toolchain/check-guest-elf.sh \
        sysroot/lib/libc.a sysroot/include/stdio.h; do
        [[ -f $sdk/$f ]] || fail "guest SDK: $libdir/glint/guest-sdk/$f is not installed"
    done

    # libglint.so -> libglint.so.SOVERSION -> libglint.so.VERSION, with that soname.
    local lib=$prefix/$libdir/libglint.so.$version
    [[ $(readlink "$prefix/$libdir/libglint.so") == "libglint.so.$soversion" ]] ||
        fail "libglint.so does not point at libglint.so.$soversion"
    [[ $(readlink "$prefix/$libdir/libglint.so.$soversion") == "libglint.so.$version" ]] ||
        fail "libglint.so.$soversion does not point at libglint.so.$version"
    local soname
    soname=$(readelf -d "$lib" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
    [[ $soname == "libglint.so.$soversion" ]] || fail "soname is '$soname', not libglint.so.$soversion"
    note "libglint.so.$version: soname $soname"

    # Exports: the API and nothing else.
    local exports others
    exports=$(nm -D --defined-only "$lib" | awk '{print $NF}')
    others=$(printf '%s\n' "$exports" | grep -v '^glint_' || true)
    [[ -z $others ]] || fail "libglint.so exports symbols outside glint_*: $(tr '\n' ' ' <<<"$others")"
    for f in glint_sandbox_create glint_sandbox_call glint_sandbox_restore glint_status_name \
        glint_str; do
        printf '%s\n' "$exports" | grep -qx "$f" || fail "libglint.so does not export $f"
    done
    if printf '%s\n' "$exports" | grep -q '^glint_sb_'; then
        fail "libglint.so exports internal glint_sb_* functions (visibility)"
    fi
    note "libglint.so exports $(printf '%s\n' "$exports" | wc -l) symbols, all glint_*"

    # USDT probes (readelf -n shows the stapsdt notes).
    if [[ $trace == 1 ]]; then
        local probes p
        probes=$(readelf -n "$lib" | awk '/Provider:/ {p = $2} /Name:/ && p != "" {print p ":" $2}')
        for p in call_start call_end host_call_start host_call_end vm_exit restore_start \
            restore_end kill map unmap; do
            printf '%s\n' "$probes" | grep -qx "glint:$p" || fail "no USDT probe glint:$p in libglint.so"
        done
        note "USDT probes: $(printf '%s\n' "$probes" | sort -u | tr '\n' ' ')"
    fi

    # The installed headers are complete on their own (no path into the tree).
    printf '#include <glint/glint.h>\nint main(void) { return glint_sandbox_kill(0); }\n' >"$work/h.c"
    "$CC" -std=c11 -Wall -Wextra -Werror -I"$prefix/include" -c "$work/h.c" -o "$work/h.o" ||
        fail "<glint/glint.h> does not compile from $prefix/include alone"
    "$CC" "$work/h.o" -o "$work/h" -L"$prefix/$libdir" -lglint ||
        fail "linking -lglint from the prefix failed"

    local v
    v=$("$prefix/bin/glint" --version)
    [[ $v == "glint $version" ]] || fail "glint --version printed '$v', expected 'glint $version'"
    v=$(PKG_CONFIG_PATH=$prefix/$libdir/pkgconfig pkg-config --modversion glint)
    [[ $v == "$version" ]] || fail "pkg-config --modversion glint gave '$v'"
    note "glint --version and pkg-config report $version"

    check_no_tree_paths "$prefix" "the installed prefix"
    note "package: ok"
}

# ---------------------------------------------------------------- example
ex=$work/example
cmake_out=$work/build-cmake
pc_out=$work/build-pkg-config

build_example() {
    cp -R "$src/examples/out-of-tree" "$ex"

    note "CMake: find_package(Glint) with CMAKE_PREFIX_PATH=$prefix"
    "$cmake" -S "$ex" -B "$cmake_out" -DCMAKE_PREFIX_PATH="$prefix" >"$work/cmake.log" 2>&1 ||
        {
            cat "$work/cmake.log" >&2
            fail "configuring the example with find_package(Glint) failed"
        }
    "$cmake" --build "$cmake_out" >>"$work/cmake.log" 2>&1 ||
        {
            cat "$work/cmake.log" >&2
            fail "building the example with find_package(Glint) failed"
        }
    [[ -x $cmake_out/oot_host && -f $cmake_out/guests/oot_guest.elf ]] ||
        fail "the CMake build did not produce oot_host and guests/oot_guest.elf"
    check_no_tree_paths "$cmake_out" "the example's CMake build"

    note "pkg-config + cc (host), installed toolchain file (guest)"
    CMAKE=$cmake sh "$ex/build-pkg-config.sh" "$prefix" "$pc_out" >"$work/pc.log" 2>&1 ||
        {
            cat "$work/pc.log" >&2
            fail "examples/out-of-tree/build-pkg-config.sh failed"
        }
    [[ -x $pc_out/oot_host && -f $pc_out/guest/oot_guest.elf ]] ||
        fail "build-pkg-config.sh did not produce oot_host and guest/oot_guest.elf"
    check_no_tree_paths "$pc_out" "the example's pkg-config build"

    # Both hosts use the installed shared library.
    local h
    for h in "$cmake_out/oot_host" "$pc_out/oot_host"; do
        readelf -d "$h" | grep -q "NEEDED.*\[libglint.so.$soversion\]" ||
            fail "$h does not link libglint.so.$soversion"
    done
    note "example_build: ok"
}

run_example() {
    # Like the other kvm tests: not "does /dev/kvm open" but "does a guest
    # run on it" (the installed glint doctor: 0 yes, 2 no /dev/kvm, 3 it
    # opens but runs no guest, as a paravirtual KVM may).
    local kvm rc=0
    kvm=$("$prefix/bin/glint" doctor --brief 2>&1) || rc=$?
    case $rc in
    0) note "$kvm" ;;
    2 | 3)
        echo "NOT RUN: $kvm (the builds above passed); run this test through" \
            "scripts/test.sh or tests/harness/kvm-harness.sh" >&2
        exit "$skip_code"
        ;;
    *) fail "glint doctor --brief exited $rc: $kvm" ;;
    esac
    local h g out
    for pair in "$cmake_out/oot_host $cmake_out/guests/oot_guest.elf" \
        "$pc_out/oot_host $pc_out/guest/oot_guest.elf"; do
        read -r h g <<<"$pair"
        note "running ${h#"$work"/} ${g#"$work"/}"
        out=$("$h" "$g" 2>&1) || {
            printf '%s\n' "$out" >&2
            fail "${h#"$work"/} failed"
        }
        printf '%s\n' "$out"
        grep -qx 'scaled_sum(40, 2) = 42000' <<<"$out" || fail "wrong scaled_sum result"
        grep -qx 'greet("out of tree") = "hello, out of tree"' <<<"$out" || fail "wrong greet result"
    done
    note "example: ok"
}

case $mode in
package) check_package ;;
example_build) build_example ;;
example)
    build_example
    run_example
    ;;
esac
