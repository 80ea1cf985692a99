#!/bin/sh
# build-pkg-config.sh - the example without find_package: the host program
# with pkg-config and a plain cc command line, the guest with the installed
# guest toolchain file.
#
#   examples/out-of-tree/build-pkg-config.sh PREFIX OUTDIR
#   OUTDIR/oot_host OUTDIR/guest/oot_guest.elf
#
# PREFIX is where Glint was installed (cmake --install <build> --prefix PREFIX).
# CC (default cc) and CMAKE (default cmake) may be set in the environment.
set -eu
if [ $# -ne 2 ]; then
    echo "usage: $0 PREFIX OUTDIR" >&2
    exit 2
fi
prefix=$1
out=$2
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$out"

# glint.pc lives in <libdir>/pkgconfig; libdir is lib, or lib/<multiarch>
# when Glint was configured for /usr.
PKG_CONFIG_PATH=$(find "$prefix" -path '*/pkgconfig/glint.pc' -exec dirname {} \; | head -n 1)
export PKG_CONFIG_PATH

# Host: the rpath lets oot_host find libglint.so in a prefix the dynamic
# linker does not search (drop it for /usr or /usr/local).  pkg-config's
# output is meant to be split into words.
# shellcheck disable=SC2046
${CC:-cc} -std=c11 -Wall -Wextra -Werror -O2 \
    $(pkg-config --cflags glint) \
    -o "$out/oot_host" "$here/host.c" \
    $(pkg-config --libs glint) -Wl,-rpath,"$(pkg-config --variable=libdir glint)"

# Guest: a CMake project of its own on the installed toolchain file.
${CMAKE:-cmake} -S "$here/guest" -B "$out/guest" \
    -DCMAKE_TOOLCHAIN_FILE="$(pkg-config --variable=guesttoolchainfile glint)"
${CMAKE:-cmake} --build "$out/guest"
