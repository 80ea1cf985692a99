# CMake toolchain file for Glint guests built out of tree.
#
#   cmake -S myguest -B build \
#     -DCMAKE_TOOLCHAIN_FILE=<glint>/toolchain/glint-guest-toolchain.cmake \
#     -DGLINT_SDK_DIR=<glint build tree, or <prefix>/lib/glint/guest-sdk of an install>
#
# The installed copy (<prefix>/lib/glint/guest-sdk/toolchain/) finds its SDK
# by itself: -DCMAKE_TOOLCHAIN_FILE is then all a guest project needs.
#
# Then add_executable(myguest main.c) links myguest.elf, a static PIE guest
# (ld.lld + guest.ld + the guest runtime + libc + libm + libgcc), and checks it
# with check-guest-elf.sh.  C, GNU assembler (.S) and NASM (enable ASM_NASM)
# sources are supported.  target_link_options() take raw ld.lld options.
#
# GLINT_SDK_DIR may also come from the environment.  It must hold the
# glint-sdk.cmake file that the Glint build writes (build tree:
# <build>/glint-sdk.cmake; install tree: <prefix>/lib/glint/guest-sdk/).
#
# Options (cache variables):
#   GLINT_GUEST_NO_RUNTIME  ON: do not link the Glint guest runtime (the
#                           project provides _start)
#
# Note: CMAKE_C_FLAGS here are the guest flags (from the SDK); add your own
# with CMAKE_C_FLAGS / target_compile_options as usual.  Only put guest-safe
# flags there: this toolchain builds nothing but guest code.

if(NOT GLINT_SDK_DIR AND DEFINED ENV{GLINT_SDK_DIR})
  set(GLINT_SDK_DIR "$ENV{GLINT_SDK_DIR}")
endif()
# The installed copy of this file lives in <guest-sdk>/toolchain/, next to
# the SDK it belongs to, so it needs no GLINT_SDK_DIR.
if(NOT GLINT_SDK_DIR AND EXISTS "${CMAKE_CURRENT_LIST_DIR}/../glint-sdk.cmake")
  get_filename_component(GLINT_SDK_DIR "${CMAKE_CURRENT_LIST_DIR}/.." ABSOLUTE)
endif()
if(NOT GLINT_SDK_DIR)
  message(FATAL_ERROR "glint-guest-toolchain.cmake: set GLINT_SDK_DIR to a Glint build tree "
    "or to <prefix>/lib/glint/guest-sdk of an installed Glint")
endif()
get_filename_component(GLINT_SDK_DIR "${GLINT_SDK_DIR}" ABSOLUTE)
set(GLINT_SDK_DIR "${GLINT_SDK_DIR}" CACHE PATH "Glint guest SDK (build tree or installed guest-sdk directory)")
# try_compile() projects re-read this file and need the same SDK.
list(APPEND CMAKE_TRY_COMPILE_PLATFORM_VARIABLES GLINT_SDK_DIR)
set(ENV{GLINT_SDK_DIR} "${GLINT_SDK_DIR}")

set(_glint_sdk_file "")
foreach(_c "${GLINT_SDK_DIR}/glint-sdk.cmake" "${GLINT_SDK_DIR}/lib/glint/guest-sdk/glint-sdk.cmake")
  if(EXISTS "${_c}")
    set(_glint_sdk_file "${_c}")
    break()
  endif()
endforeach()
if(NOT _glint_sdk_file)
  message(FATAL_ERROR "glint-guest-toolchain.cmake: no glint-sdk.cmake in GLINT_SDK_DIR=${GLINT_SDK_DIR} "
    "(configure and build Glint there first, or install it)")
endif()
include("${_glint_sdk_file}")

if(NOT EXISTS "${GLINT_SDK_LIBC}")
  message(FATAL_ERROR "glint-guest-toolchain.cmake: ${GLINT_SDK_LIBC} does not exist; "
    "build Glint in ${GLINT_SDK_DIR} first (cmake --build ${GLINT_SDK_DIR})")
endif()

option(GLINT_GUEST_NO_RUNTIME "Do not link the Glint guest runtime (the project provides _start)" OFF)
if(NOT GLINT_GUEST_NO_RUNTIME AND (NOT GLINT_SDK_RUNTIME_ARCHIVE OR NOT EXISTS "${GLINT_SDK_RUNTIME_ARCHIVE}"))
  message(FATAL_ERROR "glint-guest-toolchain.cmake: the guest runtime archive "
    "'${GLINT_SDK_RUNTIME_ARCHIVE}' does not exist (build Glint first, or set GLINT_GUEST_NO_RUNTIME=ON)")
endif()

# --- target system -----------------------------------------------------------
set(CMAKE_SYSTEM_NAME Generic)
set(CMAKE_SYSTEM_PROCESSOR x86_64)
set(CMAKE_C_COMPILER "${GLINT_SDK_C_COMPILER}")
if(GLINT_SDK_NASM)
  set(CMAKE_ASM_NASM_COMPILER "${GLINT_SDK_NASM}")
endif()
set(CMAKE_ASM_NASM_OBJECT_FORMAT elf64)
set(CMAKE_ASM_NASM_FLAGS_INIT "-g -F dwarf")
# Compiler checks must not try to link a guest (there is no _start yet).
set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)

# Never look for libraries or headers of the build machine.
set(CMAKE_FIND_ROOT_PATH "${GLINT_SDK_SYSROOT}")
set(CMAKE_SYSROOT_COMPILE "")
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# --- compile flags -----------------------------------------------------------
execute_process(COMMAND "${CMAKE_C_COMPILER}" -print-file-name=include
  OUTPUT_VARIABLE _glint_cc_inc OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
execute_process(COMMAND "${CMAKE_C_COMPILER}" -print-libgcc-file-name
  OUTPUT_VARIABLE _glint_libgcc OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
if(NOT IS_ABSOLUTE "${_glint_libgcc}" OR NOT EXISTS "${_glint_libgcc}")
  set(_glint_libgcc "")
endif()

set(_glint_inc_flags "")
foreach(_d IN LISTS GLINT_SDK_INCLUDE_DIRS)
  if(_d)
    string(APPEND _glint_inc_flags " -I\"${_d}\"")
  endif()
endforeach()
set(CMAKE_C_FLAGS_INIT
  "-std=c11 ${GLINT_SDK_CODEGEN_FLAGS} ${GLINT_SDK_LIBC_DEFINES} -nostdinc -isystem \"${GLINT_SDK_SYSROOT}/include\" -isystem \"${_glint_cc_inc}\"${_glint_inc_flags} ${GLINT_SDK_OPT_FLAGS}")
# CMAKE_BUILD_TYPE adds the usual per-configuration flags on top (Release:
# -O3 -DNDEBUG, Debug: -g, ...); later flags win.
set(_glint_asm_inc "")
foreach(_d IN LISTS GLINT_SDK_INCLUDE_DIRS)
  if(_d)
    string(APPEND _glint_asm_inc " -I\"${_d}/\"")
  endif()
endforeach()
string(APPEND CMAKE_ASM_NASM_FLAGS_INIT "${_glint_asm_inc}")

# --- link rule -----------------------------------------------------------------
set(_glint_link_tail "--start-group <LINK_LIBRARIES>")
if(NOT GLINT_GUEST_NO_RUNTIME)
  set(_glint_link_tail "--whole-archive \"${GLINT_SDK_RUNTIME_ARCHIVE}\" --no-whole-archive ${_glint_link_tail}")
  foreach(_l IN LISTS GLINT_SDK_RUNTIME_LIBS)
    string(APPEND _glint_link_tail " \"${_l}\"")
  endforeach()
endif()
string(APPEND _glint_link_tail " \"${GLINT_SDK_LIBC}\"")
if(GLINT_SDK_LIBM)
  string(APPEND _glint_link_tail " \"${GLINT_SDK_LIBM}\"")
endif()
if(_glint_libgcc)
  string(APPEND _glint_link_tail " \"${_glint_libgcc}\"")
endif()
string(APPEND _glint_link_tail " --end-group")

set(_glint_link
  "\"${GLINT_SDK_LD_LLD}\" ${GLINT_SDK_LINK_FLAGS} -T \"${GLINT_SDK_TOOLCHAIN_DIR}/guest.ld\" <LINK_FLAGS> -o <TARGET> <OBJECTS> ${_glint_link_tail}")
set(_glint_check "sh \"${GLINT_SDK_TOOLCHAIN_DIR}/check-guest-elf.sh\" \"${GLINT_SDK_READELF}\" <TARGET>")
set(CMAKE_C_LINK_EXECUTABLE "${_glint_link}" "${_glint_check}")
set(CMAKE_ASM_NASM_LINK_EXECUTABLE "${_glint_link}" "${_glint_check}")
set(CMAKE_ASM_LINK_EXECUTABLE "${_glint_link}" "${_glint_check}")
set(CMAKE_EXECUTABLE_SUFFIX ".elf")
set(CMAKE_EXECUTABLE_SUFFIX_C ".elf")
set(CMAKE_EXECUTABLE_SUFFIX_ASM_NASM ".elf")
