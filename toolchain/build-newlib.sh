#!/bin/sh
# Build newlib (libc.a, libm.a and headers) for Glint guests.
#
#   build-newlib.sh SRC_TARBALL BUILD_DIR INSTALL_DIR
#
# SRC_TARBALL  newlib source tarball (Debian's newlib-source ships
#              /usr/src/newlib/newlib-3.3.0.tar.xz, which unpacks to newlib-salsa/)
#              or an already unpacked newlib source tree (a directory).
# BUILD_DIR    scratch directory (unpacked sources, objects, build.log); wiped first.
# INSTALL_DIR  resulting sysroot: INSTALL_DIR/include, INSTALL_DIR/lib/{libc,libm}.a
#
# Environment (GlintGuest.cmake sets all of these; the defaults suit a manual run):
#   CC_FOR_TARGET      C compiler for guest code               (default: cc)
#   CFLAGS_FOR_TARGET  guest code-generation flags             (default: see below)
#   AR_FOR_TARGET, RANLIB_FOR_TARGET, AS_FOR_TARGET, LD_FOR_TARGET, NM_FOR_TARGET,
#   READELF_FOR_TARGET, OBJDUMP_FOR_TARGET, OBJCOPY_FOR_TARGET, STRIP_FOR_TARGET
#                      host binutils                           (default: ar, ranlib, as, ...)
#   JOBS               parallel make jobs                      (default: nproc)
#   GLINT_NEWLIB_CONFIG a file describing the wanted build (GlintGuest.cmake writes
#                      one); it is copied to INSTALL_DIR/.glint-newlib-config, and
#                      when that copy is identical and libc.a/libm.a exist the script
#                      does nothing ("up to date").
#
# Everything goes to BUILD_DIR/build.log; on failure the last lines are printed.
# The install is done into a temporary directory and moved into place at the end,
# so INSTALL_DIR either holds a complete sysroot or does not exist.
set -eu

if [ $# -ne 3 ]; then
  echo "usage: $0 SRC_TARBALL BUILD_DIR INSTALL_DIR" >&2
  exit 2
fi

abspath() { case "$1" in /*) printf '%s\n' "$1" ;; *) printf '%s/%s\n' "$(pwd)" "$1" ;; esac; }
SRC=$(abspath "$1")
BUILD=$(abspath "$2")
INSTALL=$(abspath "$3")

if [ -n "${GLINT_NEWLIB_CONFIG:-}" ] && [ -f "$INSTALL/lib/libc.a" ] && [ -f "$INSTALL/lib/libm.a" ] &&
   cmp -s "$GLINT_NEWLIB_CONFIG" "$INSTALL/.glint-newlib-config"; then
  echo "build-newlib.sh: $INSTALL is up to date"
  exit 0
fi

CC_FOR_TARGET=${CC_FOR_TARGET:-cc}
if [ -z "${CFLAGS_FOR_TARGET:-}" ]; then
  GCC_INC=$($CC_FOR_TARGET -print-file-name=include)
  CFLAGS_FOR_TARGET="-ffreestanding -fno-stack-protector -mno-red-zone -fPIE -fstack-clash-protection \
-fno-omit-frame-pointer -mno-omit-leaf-frame-pointer -fno-asynchronous-unwind-tables -ffunction-sections -fdata-sections \
-U_FORTIFY_SOURCE -nostdinc -isystem $GCC_INC -O2 -g"
fi
# newlib's x86_64-elf configuration hard-codes -DHAVE_INIT_FINI, which makes
# __libc_init_array()/__libc_fini_array() call _init()/_fini() from crti.o.
# Glint guests have no crti.o, so turn it off (this comes after newlib's -D).
CFLAGS_FOR_TARGET="$CFLAGS_FOR_TARGET -UHAVE_INIT_FINI"
AR_FOR_TARGET=${AR_FOR_TARGET:-ar}
RANLIB_FOR_TARGET=${RANLIB_FOR_TARGET:-ranlib}
AS_FOR_TARGET=${AS_FOR_TARGET:-as}
LD_FOR_TARGET=${LD_FOR_TARGET:-ld}
NM_FOR_TARGET=${NM_FOR_TARGET:-nm}
# newlib's configure runs the target readelf to decide HAVE_INITFINI_ARRAY; if
# it is missing (x86_64-elf-readelf does not exist) __libc_init_array is
# silently left out of libc.a.
READELF_FOR_TARGET=${READELF_FOR_TARGET:-readelf}
OBJDUMP_FOR_TARGET=${OBJDUMP_FOR_TARGET:-objdump}
OBJCOPY_FOR_TARGET=${OBJCOPY_FOR_TARGET:-objcopy}
STRIP_FOR_TARGET=${STRIP_FOR_TARGET:-strip}
# Do not inherit a parent make's flags/jobserver, or host compiler flags.
unset MAKEFLAGS MFLAGS MAKELEVEL MAKEOVERRIDES CFLAGS CPPFLAGS LDFLAGS
JOBS=${JOBS:-$(nproc 2>/dev/null || echo 2)}

rm -rf "$BUILD"
mkdir -p "$BUILD/obj"
LOG=$BUILD/build.log
: >"$LOG"

fail() {
  echo "build-newlib.sh: $1 failed; last 60 lines of $LOG:" >&2
  tail -n 60 "$LOG" >&2
  exit 1
}

start=$(date +%s)
echo "build-newlib.sh: building newlib for Glint guests (log: $LOG)"

if [ -d "$SRC" ]; then
  SRCDIR=$SRC
else
  echo "== unpack $SRC" >>"$LOG"
  tar -xf "$SRC" -C "$BUILD" >>"$LOG" 2>&1 || fail "unpacking $SRC"
  SRCDIR=
  for d in "$BUILD"/*/; do
    if [ -x "$d/configure" ] && [ -d "$d/newlib" ]; then SRCDIR=${d%/}; break; fi
  done
  [ -n "$SRCDIR" ] || fail "finding the newlib source tree in $SRC"
fi

# Options (see docs/building.md for the reasons):
#   --target=x86_64-elf                  bare-metal x86-64 newlib (machine/x86_64 memcpy/memset/setjmp)
#   --disable-multilib                   one variant only
#   --disable-newlib-supplied-syscalls   the guest runtime provides sbrk, write, ...
#   --enable-newlib-nano-malloc          small malloc for small heaps
#   --disable-nls                        no message catalogues
#   --disable-newlib-multithread         single-threaded guests: no lock calls
#   --enable-newlib-io-long-long         printf/scanf %lld / %llu
#   --enable-newlib-io-c99-formats       printf/scanf %zu %jd %td %hhd %a
INST_TMP=$INSTALL.tmp.$$
rm -rf "$INST_TMP"
echo "== configure in $BUILD/obj" >>"$LOG"
(
  cd "$BUILD/obj" &&
  CC_FOR_TARGET="$CC_FOR_TARGET" CFLAGS_FOR_TARGET="$CFLAGS_FOR_TARGET" \
  AR_FOR_TARGET="$AR_FOR_TARGET" RANLIB_FOR_TARGET="$RANLIB_FOR_TARGET" \
  AS_FOR_TARGET="$AS_FOR_TARGET" LD_FOR_TARGET="$LD_FOR_TARGET" NM_FOR_TARGET="$NM_FOR_TARGET" \
  READELF_FOR_TARGET="$READELF_FOR_TARGET" OBJDUMP_FOR_TARGET="$OBJDUMP_FOR_TARGET" \
  OBJCOPY_FOR_TARGET="$OBJCOPY_FOR_TARGET" STRIP_FOR_TARGET="$STRIP_FOR_TARGET" \
  "$SRCDIR/configure" \
    --target=x86_64-elf \
    --prefix="$INST_TMP" \
    --disable-multilib \
    --disable-newlib-supplied-syscalls \
    --enable-newlib-nano-malloc \
    --disable-nls \
    --disable-newlib-multithread \
    --enable-newlib-io-long-long \
    --enable-newlib-io-c99-formats
) >>"$LOG" 2>&1 || fail "configure"

echo "== configured after $(($(date +%s) - start)) s; make -j$JOBS all-target-newlib" >>"$LOG"
make -C "$BUILD/obj" -j"$JOBS" all-target-newlib >>"$LOG" 2>&1 || fail "make all-target-newlib"
echo "== built after $(($(date +%s) - start)) s; make install-target-newlib" >>"$LOG"
make -C "$BUILD/obj" install-target-newlib >>"$LOG" 2>&1 || fail "make install-target-newlib"

# newlib installs into PREFIX/x86_64-elf/{include,lib}; check it, then move
# it into place as INSTALL/{include,lib}.
STAGE=$INST_TMP/x86_64-elf
for f in include/newlib.h include/stdio.h lib/libc.a lib/libm.a; do
  [ -f "$STAGE/$f" ] || fail "install (missing $f)"
done
grep -q '^#define HAVE_INITFINI_ARRAY' "$STAGE/include/newlib.h" ||
  fail "configure (HAVE_INITFINI_ARRAY not detected: is $READELF_FOR_TARGET working?)"
"$NM_FOR_TARGET" "$STAGE/lib/libc.a" 2>/dev/null | grep -q ' T __libc_init_array$' ||
  fail "build (__libc_init_array missing from libc.a)"
if [ -n "${GLINT_NEWLIB_CONFIG:-}" ]; then
  cp "$GLINT_NEWLIB_CONFIG" "$STAGE/.glint-newlib-config" || fail "recording the configuration"
fi
rm -rf "$INSTALL"
mkdir -p "$(dirname "$INSTALL")"
mv "$STAGE" "$INSTALL"
rm -rf "$INST_TMP"

end=$(date +%s)
echo "build-newlib.sh: newlib installed in $INSTALL ($((end - start)) s)"
echo "== done in $((end - start)) s" >>"$LOG"
