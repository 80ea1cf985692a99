# GlintGuest.cmake - build Glint guests (static PIE ELF files for the Glint
# micro-VM host) inside the main CMake build.  See docs/building.md.
#
# Guest code is compiled by custom commands that call the C compiler and nasm
# directly with exactly the guest flags below, so nothing from CMAKE_C_FLAGS,
# CMAKE_C_FLAGS_<CONFIG>, add_compile_options() or directory properties (for
# example sanitizer or coverage flags meant for host code) reaches a guest
# object.  Header dependencies are tracked with depfiles (-MD / nasm -MD).
#
# Public API (the functions live in GlintGuestFunctions.cmake, which an
# installed Glint shares through find_package(Glint))
#   glint_add_guest_library(NAME SOURCES src... [INCLUDE_DIRS dir...]
#                           [DEFINES def...] [OPTIONS flag...] [LIBRARIES guestlib...])
#   glint_add_guest(NAME SOURCES src... [LIBRARIES guestlib...] [INCLUDE_DIRS dir...]
#                   [DEFINES def...] [OPTIONS flag...] [LINK_OPTIONS flag...]
#                   [NO_RUNTIME] [NO_LIBC])
#
# Cache variables
#   GLINT_GUEST_LIBC_SYSROOT   external libc sysroot (include/, lib/libc.a); empty = build newlib
#   GLINT_NEWLIB_TARBALL       newlib source tarball (default Debian's newlib-source)
#   GLINT_GUEST_C_COMPILER     compiler for guest code (gcc or clang; default: CMAKE_C_COMPILER)
#   GLINT_GUEST_OPT_FLAGS      optimisation/debug flags for guest code (default "-O2 -g")
#   GLINT_GUEST_EXTRA_C_FLAGS  extra code-generation flags for guest code AND newlib (e.g. -march=...)
#
# Variables set here
#   GLINT_GUEST_C_FLAGS        full flag list for guest C sources (list)
#   GLINT_GUEST_WARNING_FLAGS  warnings added to guest sources built by the functions (list)
#   GLINT_GUEST_NASM_FLAGS     flags for guest .asm sources (list)
#   GLINT_GUEST_LINK_FLAGS     ld.lld flags for guest executables (list)
#   GLINT_NEWLIB_SYSROOT_DIR   where newlib is (or would be) built: ${CMAKE_BINARY_DIR}/toolchain/newlib-sysroot
#   GLINT_GUEST_SYSROOT        the libc sysroot actually used
#   GLINT_GUEST_LIBC, GLINT_GUEST_LIBM, GLINT_GUEST_LIBGCC   archives linked into guests (LIBM may be empty)
#   GLINT_GUEST_RUNTIME        name of the runtime target (glint_guest_runtime)
#   GLINT_TOOLCHAIN_DIR        this directory (guest.ld, check-guest-elf.sh, ...)
#   GLINT_LD_LLD, GLINT_READELF, GLINT_NASM   tools
#
# Targets
#   glint_guest_libc           builds newlib once (no-op with an external sysroot)
#
# Target properties (set on the custom targets the functions create)
#   GLINT_GUEST_ARCHIVE                 library: absolute path of lib<NAME>.a
#   GLINT_GUEST_INCLUDE_DIRS            library: its own INCLUDE_DIRS (absolute)
#   GLINT_GUEST_LINK_LIBRARIES          library: the guest libraries it was given in LIBRARIES
#   GLINT_GUEST_INTERFACE_INCLUDE_DIRS  library: own + dependencies' include dirs (generator expression)
#   GLINT_GUEST_LINK_ARCHIVES           library: own + dependencies' archives (generator expression)
#   GLINT_GUEST_ELF                     guest: absolute path of ${GLINT_GUEST_DIR}/<NAME>.elf

include_guard(GLOBAL)

if(CMAKE_VERSION VERSION_LESS 3.20)
  message(FATAL_ERROR "GlintGuest.cmake needs CMake 3.20 or newer (DEPFILE support for Makefile generators)")
endif()

set(GLINT_TOOLCHAIN_DIR "${CMAKE_CURRENT_LIST_DIR}")
get_filename_component(_glint_source_root "${CMAKE_CURRENT_LIST_DIR}/.." ABSOLUTE)
if(NOT DEFINED GLINT_GUEST_DIR)
  set(GLINT_GUEST_DIR "${CMAKE_BINARY_DIR}/guests")
endif()
set(GLINT_GUEST_RUNTIME glint_guest_runtime)
if(NOT DEFINED GLINT_GUEST_SDK_INSTALL_DIR)
  if(DEFINED CMAKE_INSTALL_LIBDIR)
    set(GLINT_GUEST_SDK_INSTALL_DIR "${CMAKE_INSTALL_LIBDIR}/glint/guest-sdk")
  else()
    set(GLINT_GUEST_SDK_INSTALL_DIR "lib/glint/guest-sdk")
  endif()
endif()
set(GLINT_GUEST_DEFAULT_INCLUDE_DIRS
  "${_glint_source_root}/guest/include"
  "${_glint_source_root}/common/include")

# ---------------------------------------------------------------------------
# Tools
# ---------------------------------------------------------------------------
set(GLINT_GUEST_C_COMPILER "${CMAKE_C_COMPILER}" CACHE STRING
  "C compiler for guest code and newlib (gcc or clang, name or path); defaults to the host C compiler")
if(NOT GLINT_GUEST_C_COMPILER)
  message(FATAL_ERROR "GLINT_GUEST_C_COMPILER is empty (enable the C language before including GlintGuest.cmake)")
endif()
if(NOT IS_ABSOLUTE "${GLINT_GUEST_C_COMPILER}")
  find_program(_glint_cc_path NAMES "${GLINT_GUEST_C_COMPILER}" NO_CACHE)
  if(NOT _glint_cc_path)
    message(FATAL_ERROR "GLINT_GUEST_C_COMPILER=${GLINT_GUEST_C_COMPILER} not found")
  endif()
  set(GLINT_GUEST_C_COMPILER "${_glint_cc_path}" CACHE STRING "" FORCE)
endif()

if(GLINT_GUEST_C_COMPILER STREQUAL CMAKE_C_COMPILER AND CMAKE_C_COMPILER_ID)
  set(_glint_cc_id "${CMAKE_C_COMPILER_ID}")
else()
  execute_process(COMMAND "${GLINT_GUEST_C_COMPILER}" --version
    OUTPUT_VARIABLE _glint_cc_version ERROR_QUIET RESULT_VARIABLE _glint_rc)
  if(_glint_cc_version MATCHES "clang")
    set(_glint_cc_id Clang)
  elseif(_glint_cc_version MATCHES "GCC|gcc|Free Software Foundation")
    set(_glint_cc_id GNU)
  else()
    set(_glint_cc_id unknown)
  endif()
endif()
if(NOT _glint_cc_id MATCHES "^(GNU|Clang|AppleClang)$")
  message(FATAL_ERROR "Glint guests need gcc or clang; GLINT_GUEST_C_COMPILER=${GLINT_GUEST_C_COMPILER} is '${_glint_cc_id}'")
endif()

# The compiler's own headers (stddef.h, stdarg.h, float.h, limits.h, intrinsics).
execute_process(COMMAND "${GLINT_GUEST_C_COMPILER}" -print-file-name=include
  OUTPUT_VARIABLE GLINT_GUEST_CC_INCLUDE_DIR OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
if(NOT IS_ABSOLUTE "${GLINT_GUEST_CC_INCLUDE_DIR}" OR NOT EXISTS "${GLINT_GUEST_CC_INCLUDE_DIR}/stddef.h")
  message(FATAL_ERROR "Cannot find the compiler's include directory "
    "(${GLINT_GUEST_C_COMPILER} -print-file-name=include gave '${GLINT_GUEST_CC_INCLUDE_DIR}')")
endif()
get_filename_component(GLINT_GUEST_CC_INCLUDE_DIR "${GLINT_GUEST_CC_INCLUDE_DIR}" REALPATH)

# libgcc.a (or clang's builtins): 128-bit division, __popcountdi2 and friends.
execute_process(COMMAND "${GLINT_GUEST_C_COMPILER}" -print-libgcc-file-name
  OUTPUT_VARIABLE GLINT_GUEST_LIBGCC OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
if(NOT IS_ABSOLUTE "${GLINT_GUEST_LIBGCC}" OR NOT EXISTS "${GLINT_GUEST_LIBGCC}")
  message(WARNING "No libgcc.a found (${GLINT_GUEST_C_COMPILER} -print-libgcc-file-name gave "
    "'${GLINT_GUEST_LIBGCC}'); guests are linked without it")
  set(GLINT_GUEST_LIBGCC "")
else()
  get_filename_component(GLINT_GUEST_LIBGCC "${GLINT_GUEST_LIBGCC}" REALPATH)
endif()

find_program(GLINT_LD_LLD NAMES ld.lld ld.lld-19 ld.lld-18 ld.lld-17 ld.lld-16 ld.lld-15 ld.lld-14
  DOC "LLVM linker used to link Glint guests")
if(NOT GLINT_LD_LLD)
  message(FATAL_ERROR "ld.lld not found (Debian: apt install lld); Glint guests are linked with it")
endif()
find_program(GLINT_READELF NAMES llvm-readelf readelf llvm-readelf-19 llvm-readelf-18
  llvm-readelf-17 llvm-readelf-16 llvm-readelf-15 llvm-readelf-14
  DOC "readelf used to check linked guests")
if(NOT GLINT_READELF)
  message(FATAL_ERROR "Neither llvm-readelf nor readelf found (needed to check guest ELF files)")
endif()
if(CMAKE_ASM_NASM_COMPILER)
  set(GLINT_NASM "${CMAKE_ASM_NASM_COMPILER}")
else()
  find_program(GLINT_NASM NAMES nasm DOC "nasm for guest .asm sources")
endif()
if(CMAKE_AR)
  set(GLINT_AR "${CMAKE_AR}")
else()
  find_program(GLINT_AR NAMES ar llvm-ar DOC "archiver for guest libraries")
endif()
find_program(GLINT_SH NAMES sh bash DOC "POSIX shell for the toolchain scripts")
if(NOT GLINT_SH)
  message(FATAL_ERROR "No POSIX shell found")
endif()

# ---------------------------------------------------------------------------
# Flags (docs/building.md explains each one)
# ---------------------------------------------------------------------------
set(GLINT_GUEST_OPT_FLAGS "-O2 -g" CACHE STRING
  "Optimisation and debug flags for guest code (not newlib)")
set(GLINT_GUEST_EXTRA_C_FLAGS "" CACHE STRING
  "Extra code-generation flags for guest code and newlib (changing them rebuilds newlib), e.g. -march=x86-64-v2")
separate_arguments(_glint_opt_flags UNIX_COMMAND "${GLINT_GUEST_OPT_FLAGS}")
separate_arguments(_glint_extra_flags UNIX_COMMAND "${GLINT_GUEST_EXTRA_C_FLAGS}")

# Code generation: shared by guest code and newlib, so that they agree on ABI.
set(GLINT_GUEST_CODEGEN_FLAGS
  -fno-stack-protector            # no TLS canary: the guest has no %fs base or __stack_chk_guard
  -mno-red-zone                   # exceptions/interrupts in the guest push onto the current stack
  -fPIE                           # the image is relocated to 0x1000 by the host
  -fstack-clash-protection        # probe large stack allocations page by page (guard page works)
  -fno-omit-frame-pointer         # frame-pointer backtraces of guest crashes ...
  -mno-omit-leaf-frame-pointer    # ... leaf functions included (docs/debugging.md)
  -fno-asynchronous-unwind-tables # no .eh_frame in the image; -g still gives .debug_frame
  -ffunction-sections             # with --gc-sections: drop unused functions ...
  -fdata-sections                 # ... and data from the image
  -U_FORTIFY_SOURCE               # some distro compilers define it; glibc-only __*_chk calls
  ${_glint_extra_flags})

# ---------------------------------------------------------------------------
# C library sysroot
# ---------------------------------------------------------------------------
set(GLINT_GUEST_LIBC_SYSROOT "" CACHE PATH
  "libc sysroot for guests (must contain include/ and lib/libc.a; lib/libm.a optional). Empty: build newlib from GLINT_NEWLIB_TARBALL")
set(GLINT_NEWLIB_TARBALL "/usr/src/newlib/newlib-3.3.0.tar.xz" CACHE FILEPATH
  "newlib source tarball (or unpacked tree) built when GLINT_GUEST_LIBC_SYSROOT is empty")
set(GLINT_NEWLIB_SYSROOT_DIR "${CMAKE_BINARY_DIR}/toolchain/newlib-sysroot")

if(GLINT_GUEST_LIBC_SYSROOT)
  get_filename_component(GLINT_GUEST_SYSROOT "${GLINT_GUEST_LIBC_SYSROOT}" ABSOLUTE)
  if(NOT IS_DIRECTORY "${GLINT_GUEST_SYSROOT}/include" OR NOT EXISTS "${GLINT_GUEST_SYSROOT}/lib/libc.a")
    message(FATAL_ERROR "GLINT_GUEST_LIBC_SYSROOT=${GLINT_GUEST_LIBC_SYSROOT} is not a usable libc sysroot: "
      "it must contain include/ (stdio.h, stdlib.h, ...) and lib/libc.a built for x86-64 "
      "freestanding, PIC/PIE, no red zone (see docs/building.md). Leave it empty to build newlib.")
  endif()
  if(NOT EXISTS "${GLINT_GUEST_SYSROOT}/include/stdio.h" OR NOT EXISTS "${GLINT_GUEST_SYSROOT}/include/stdlib.h")
    message(FATAL_ERROR "GLINT_GUEST_LIBC_SYSROOT=${GLINT_GUEST_LIBC_SYSROOT}: include/ has no stdio.h/stdlib.h")
  endif()
  set(GLINT_GUEST_LIBC "${GLINT_GUEST_SYSROOT}/lib/libc.a")
  if(EXISTS "${GLINT_GUEST_SYSROOT}/lib/libm.a")
    set(GLINT_GUEST_LIBM "${GLINT_GUEST_SYSROOT}/lib/libm.a")
  else()
    set(GLINT_GUEST_LIBM "")        # e.g. picolibc: the maths functions live in libc.a
  endif()
  set(GLINT_GUEST_LIBC_STAMP "")
  add_custom_target(glint_guest_libc)
  message(STATUS "Glint guests: libc sysroot ${GLINT_GUEST_SYSROOT}")
else()
  if(NOT EXISTS "${GLINT_NEWLIB_TARBALL}")
    message(FATAL_ERROR "newlib source not found at GLINT_NEWLIB_TARBALL=${GLINT_NEWLIB_TARBALL}. "
      "Install it (Debian: apt install newlib-source), point GLINT_NEWLIB_TARBALL at a newlib tarball, "
      "or set GLINT_GUEST_LIBC_SYSROOT to an existing libc sysroot.")
  endif()
  set(GLINT_GUEST_SYSROOT "${GLINT_NEWLIB_SYSROOT_DIR}")
  set(GLINT_GUEST_LIBC "${GLINT_GUEST_SYSROOT}/lib/libc.a")
  set(GLINT_GUEST_LIBM "${GLINT_GUEST_SYSROOT}/lib/libm.a")
  set(GLINT_GUEST_LIBC_STAMP "${CMAKE_BINARY_DIR}/toolchain/newlib.stamp")
  set(_glint_ranlib ranlib)
  if(CMAKE_RANLIB)
    set(_glint_ranlib "${CMAKE_RANLIB}")
  endif()

  # newlib is compiled freestanding: it implements memcpy, memset, ... itself,
  # and GCC must not turn their loops back into calls to themselves.
  set(_glint_newlib_cflags -ffreestanding ${GLINT_GUEST_CODEGEN_FLAGS}
    -nostdinc -isystem "${GLINT_GUEST_CC_INCLUDE_DIR}" -O2 -g)
  list(JOIN _glint_newlib_cflags " " _glint_newlib_cflags_str)
  # Everything that should trigger a rebuild of newlib goes into this file;
  # file(CONFIGURE) leaves it untouched when nothing changed.
  # The same text is stored in the sysroot after a successful build, and
  # build-newlib.sh does nothing when they match (so "clean" or a deleted
  # stamp does not cost a newlib rebuild).
  file(SHA256 "${GLINT_TOOLCHAIN_DIR}/build-newlib.sh" _glint_script_hash)
  file(CONFIGURE OUTPUT "${CMAKE_BINARY_DIR}/toolchain/newlib-config.txt" CONTENT
"tarball=${GLINT_NEWLIB_TARBALL}
cc=${GLINT_GUEST_C_COMPILER}
cflags=${_glint_newlib_cflags_str}
ar=${GLINT_AR}
script=${_glint_script_hash}
" @ONLY)
  add_custom_command(
    OUTPUT "${GLINT_GUEST_LIBC_STAMP}"
    COMMAND "${CMAKE_COMMAND}" -E env
            "GLINT_NEWLIB_CONFIG=${CMAKE_BINARY_DIR}/toolchain/newlib-config.txt"
            "CC_FOR_TARGET=${GLINT_GUEST_C_COMPILER}"
            "CFLAGS_FOR_TARGET=${_glint_newlib_cflags_str}"
            "AR_FOR_TARGET=${GLINT_AR}"
            "RANLIB_FOR_TARGET=${_glint_ranlib}"
            "${GLINT_SH}" "${GLINT_TOOLCHAIN_DIR}/build-newlib.sh"
            "${GLINT_NEWLIB_TARBALL}"
            "${CMAKE_BINARY_DIR}/toolchain/newlib-build"
            "${GLINT_NEWLIB_SYSROOT_DIR}"
    COMMAND "${CMAKE_COMMAND}" -E touch "${GLINT_GUEST_LIBC_STAMP}"
    DEPENDS "${GLINT_TOOLCHAIN_DIR}/build-newlib.sh" "${GLINT_NEWLIB_TARBALL}"
            "${CMAKE_BINARY_DIR}/toolchain/newlib-config.txt"
    COMMENT "Building newlib for Glint guests (once per build tree, a few minutes; log: toolchain/newlib-build/build.log)"
    USES_TERMINAL
    VERBATIM)
  add_custom_target(glint_guest_libc DEPENDS "${GLINT_GUEST_LIBC_STAMP}")
  message(STATUS "Glint guests: newlib from ${GLINT_NEWLIB_TARBALL} -> ${GLINT_GUEST_SYSROOT}")
endif()

# What the runtime adds to newlib, announced to its headers: clock_gettime,
# clock_getres and CLOCK_MONOTONIC (guest/src/world.c).  newlib's
# <sys/features.h> defines these only for RTEMS and Cygwin; for x86_64-elf
# <time.h> would hide them.  Guest code only: newlib itself is built without.
set(GLINT_GUEST_LIBC_DEFINES -D_POSIX_TIMERS=200809L -D_POSIX_MONOTONIC_CLOCK=200809L)

# Guest C flags.  Hosted C (no -ffreestanding): the guest links a complete C
# library, so the compiler may inline and optimise memcpy/strlen/... calls.
set(GLINT_GUEST_C_FLAGS
  -std=c11
  ${GLINT_GUEST_CODEGEN_FLAGS}
  ${GLINT_GUEST_LIBC_DEFINES}
  -nostdinc                                  # never the host's /usr/include
  -isystem "${GLINT_GUEST_SYSROOT}/include"  # libc headers
  -isystem "${GLINT_GUEST_CC_INCLUDE_DIR}"   # compiler headers (stddef.h, stdarg.h, intrinsics)
  "-fmacro-prefix-map=${CMAKE_SOURCE_DIR}/="  # __FILE__ in guest log records: repo-relative, no build paths
  ${_glint_opt_flags})
set(GLINT_GUEST_WARNING_FLAGS -Wall -Wextra)
set(GLINT_GUEST_NASM_FLAGS -f elf64 -g -F dwarf)
set(GLINT_GUEST_LINK_FLAGS
  -pie --no-dynamic-linker     # static PIE: relocatable image, no interpreter
  -nostdlib                    # only the archives listed on the line
  -z max-page-size=4096 -z common-page-size=4096
  -z separate-loadable-segments  # each PT_LOAD starts on its own file page (offset == vaddr)
  -z noexecstack -z text       # no executable stack, no text relocations
  --build-id=none              # reproducible and no extra note
  --gc-sections                # drop unreferenced sections (with -ffunction-sections)
  --hash-style=sysv            # tiny .hash (no symbols are exported anyway)
  --fatal-warnings             # e.g. a missing _start is an error, not a warning
  -e _start
  -T "${GLINT_TOOLCHAIN_DIR}/guest.ld")

include("${CMAKE_CURRENT_LIST_DIR}/GlintGuestFunctions.cmake")

# ---------------------------------------------------------------------------
# SDK description for out-of-tree guests (toolchain/glint-guest-toolchain.cmake)
#   build tree:   ${CMAKE_BINARY_DIR}/glint-sdk.cmake  (absolute paths)
#   install tree: <prefix>/${GLINT_GUEST_SDK_INSTALL_DIR}/ (relocatable; lib/glint/guest-sdk)
# Written at the end of the top-level directory, when the runtime target exists.
# ---------------------------------------------------------------------------
function(_glint_guest_write_sdk)
  list(JOIN GLINT_GUEST_CODEGEN_FLAGS " " _codegen)
  list(JOIN GLINT_GUEST_LIBC_DEFINES " " _libc_defines)
  list(JOIN _glint_opt_flags " " _opt)
  list(JOIN GLINT_GUEST_LINK_FLAGS " " _link)
  list(JOIN GLINT_GUEST_WARNING_FLAGS " " _warn)
  list(JOIN GLINT_GUEST_NASM_FLAGS " " _nasm)
  # The -T path is replaced by the SDK's own guest.ld in the toolchain file.
  string(REPLACE "-T ${GLINT_TOOLCHAIN_DIR}/guest.ld" "" _link "${_link}")
  string(STRIP "${_link}" _link)
  set(_rt_archive "")
  set(_rt_incs "")
  set(_rt_libs "")
  if(TARGET ${GLINT_GUEST_RUNTIME})
    set(_rt_archive "$<TARGET_PROPERTY:${GLINT_GUEST_RUNTIME},GLINT_GUEST_ARCHIVE>")
    set(_rt_incs "$<FILTER:$<GENEX_EVAL:$<TARGET_PROPERTY:${GLINT_GUEST_RUNTIME},GLINT_GUEST_INTERFACE_INCLUDE_DIRS>>,EXCLUDE,^$>")
    # Guest libraries the runtime links (its own archive included; harmless).
    set(_rt_libs "$<REMOVE_DUPLICATES:$<FILTER:$<GENEX_EVAL:$<TARGET_PROPERTY:${GLINT_GUEST_RUNTIME},GLINT_GUEST_LINK_ARCHIVES>>,EXCLUDE,^$>>")
  endif()
  set(_common
"set(GLINT_SDK_C_COMPILER \"${GLINT_GUEST_C_COMPILER}\")
set(GLINT_SDK_NASM \"${GLINT_NASM}\")
set(GLINT_SDK_LD_LLD \"${GLINT_LD_LLD}\")
set(GLINT_SDK_READELF \"${GLINT_READELF}\")
set(GLINT_SDK_CODEGEN_FLAGS \"${_codegen}\")
set(GLINT_SDK_LIBC_DEFINES \"${_libc_defines}\")
set(GLINT_SDK_OPT_FLAGS \"${_opt}\")
set(GLINT_SDK_LINK_FLAGS \"${_link}\")
set(GLINT_SDK_WARNING_FLAGS \"${_warn}\")
set(GLINT_SDK_NASM_FLAGS \"${_nasm}\")
")
  file(GENERATE OUTPUT "${CMAKE_BINARY_DIR}/glint-sdk.cmake" CONTENT
"# Glint guest SDK description (build tree), generated by GlintGuest.cmake.
# Use with -DCMAKE_TOOLCHAIN_FILE=${GLINT_TOOLCHAIN_DIR}/glint-guest-toolchain.cmake -DGLINT_SDK_DIR=${CMAKE_BINARY_DIR}
${_common}set(GLINT_SDK_TOOLCHAIN_DIR \"${GLINT_TOOLCHAIN_DIR}\")
set(GLINT_SDK_SYSROOT \"${GLINT_GUEST_SYSROOT}\")
set(GLINT_SDK_LIBC \"${GLINT_GUEST_LIBC}\")
set(GLINT_SDK_LIBM \"${GLINT_GUEST_LIBM}\")
set(GLINT_SDK_RUNTIME_ARCHIVE \"${_rt_archive}\")
set(GLINT_SDK_RUNTIME_LIBS \"${_rt_libs}\")
set(GLINT_SDK_INCLUDE_DIRS \"${_rt_incs};${GLINT_GUEST_DEFAULT_INCLUDE_DIRS}\")
")

  # Install tree.  GLINT_GUEST_SDK_INSTALL_DIR is relative to the prefix; the
  # package config (cmake/GlintConfig.cmake.in) finds the SDK through it.
  set(_dest "${GLINT_GUEST_SDK_INSTALL_DIR}")
  get_filename_component(_libm_name "${GLINT_GUEST_LIBM}" NAME)
  set(_inst_libm "")
  if(GLINT_GUEST_LIBM)
    set(_inst_libm "\${_glint_sdk}/sysroot/lib/${_libm_name}")
  endif()
  set(_inst_rt "")
  if(_rt_archive)
    set(_inst_rt "\${_glint_sdk}/lib/lib${GLINT_GUEST_RUNTIME}.a")
  endif()
  file(GENERATE OUTPUT "${CMAKE_BINARY_DIR}/toolchain/install/glint-sdk.cmake" CONTENT
"# Glint guest SDK description (install tree), generated by GlintGuest.cmake.
get_filename_component(_glint_sdk \"\${CMAKE_CURRENT_LIST_DIR}\" ABSOLUTE)
${_common}set(GLINT_SDK_TOOLCHAIN_DIR \"\${_glint_sdk}/toolchain\")
set(GLINT_SDK_SYSROOT \"\${_glint_sdk}/sysroot\")
set(GLINT_SDK_LIBC \"\${_glint_sdk}/sysroot/lib/libc.a\")
set(GLINT_SDK_LIBM \"${_inst_libm}\")
set(GLINT_SDK_RUNTIME_ARCHIVE \"${_inst_rt}\")
file(GLOB GLINT_SDK_RUNTIME_LIBS \"\${_glint_sdk}/lib/*.a\")
set(GLINT_SDK_INCLUDE_DIRS \"\${_glint_sdk}/include\")
")
  install(FILES "${CMAKE_BINARY_DIR}/toolchain/install/glint-sdk.cmake" DESTINATION ${_dest})
  install(FILES "${GLINT_TOOLCHAIN_DIR}/guest.ld" "${GLINT_TOOLCHAIN_DIR}/glint-guest-toolchain.cmake"
    DESTINATION ${_dest}/toolchain)
  install(PROGRAMS "${GLINT_TOOLCHAIN_DIR}/check-guest-elf.sh" DESTINATION ${_dest}/toolchain)
  install(DIRECTORY "${GLINT_GUEST_SYSROOT}/include" DESTINATION ${_dest}/sysroot)
  install(FILES "${GLINT_GUEST_LIBC}" ${GLINT_GUEST_LIBM} DESTINATION ${_dest}/sysroot/lib)
  foreach(_d IN LISTS GLINT_GUEST_DEFAULT_INCLUDE_DIRS)
    if(IS_DIRECTORY "${_d}")
      install(DIRECTORY "${_d}/" DESTINATION ${_dest}/include)
    endif()
  endforeach()
  if(_rt_archive)
    install(FILES "${_rt_libs}" DESTINATION ${_dest}/lib)
  endif()
endfunction()
cmake_language(DEFER CALL _glint_guest_write_sdk)
