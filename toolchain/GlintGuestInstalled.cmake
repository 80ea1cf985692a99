# GlintGuestInstalled.cmake - glint_add_guest() and glint_add_guest_library()
# for projects that use an installed Glint.  Included by GlintConfig.cmake
# (find_package(Glint)) with GLINT_GUEST_SDK_DIR set to the installed guest
# SDK (<prefix>/lib/glint/guest-sdk): the SDK's description (glint-sdk.cmake,
# written by GlintGuest.cmake at install time) gives the libc sysroot, the
# runtime archive, the headers, the linker script and the exact flags of the
# Glint build; the tools are this machine's.  The functions themselves are
# the ones the Glint build uses (GlintGuestFunctions.cmake), so a guest
# builds the same way in and out of the tree.
#
# A tool that is missing does not fail find_package(Glint) (a project may
# use only the host library): the first glint_add_guest() reports it.

if(NOT GLINT_GUEST_SDK_DIR OR NOT EXISTS "${GLINT_GUEST_SDK_DIR}/glint-sdk.cmake")
  message(FATAL_ERROR "GlintGuestInstalled.cmake: no glint-sdk.cmake in "
    "GLINT_GUEST_SDK_DIR='${GLINT_GUEST_SDK_DIR}' (a broken Glint installation?)")
endif()
include("${GLINT_GUEST_SDK_DIR}/glint-sdk.cmake") # GLINT_SDK_*

set(GLINT_GUEST_UNAVAILABLE "")
set(GLINT_TOOLCHAIN_DIR "${GLINT_SDK_TOOLCHAIN_DIR}")
set(GLINT_GUEST_SYSROOT "${GLINT_SDK_SYSROOT}")
set(GLINT_GUEST_LIBC "${GLINT_SDK_LIBC}")
set(GLINT_GUEST_LIBM "${GLINT_SDK_LIBM}")
set(GLINT_GUEST_LIBC_STAMP "") # the libc is already built
set(GLINT_GUEST_RUNTIME glint::guest_runtime)
set(GLINT_GUEST_DEFAULT_INCLUDE_DIRS ${GLINT_SDK_INCLUDE_DIRS})
if(NOT DEFINED GLINT_GUEST_DIR)
  set(GLINT_GUEST_DIR "${CMAKE_BINARY_DIR}/guests")
endif()
file(MAKE_DIRECTORY "${GLINT_GUEST_DIR}")

foreach(_glint_f "${GLINT_SDK_LIBC}" "${GLINT_SDK_RUNTIME_ARCHIVE}" "${GLINT_SDK_TOOLCHAIN_DIR}/guest.ld")
  if(NOT _glint_f OR NOT EXISTS "${_glint_f}")
    set(GLINT_GUEST_UNAVAILABLE "the installed guest SDK lacks '${_glint_f}'")
  endif()
endforeach()

# A tool: the cache variable if the user set it, else the one the SDK was
# built with if this machine has it, else the same name (or NAMES) on PATH.
function(_glint_guest_find_tool var recorded what)
  if(${var})
    return()
  endif()
  set(_names ${ARGN})
  if(recorded)
    if(EXISTS "${recorded}")
      set(${var} "${recorded}" CACHE FILEPATH "${what} for Glint guests")
      return()
    endif()
    get_filename_component(_n "${recorded}" NAME)
    list(PREPEND _names "${_n}")
  endif()
  find_program(${var} NAMES ${_names} DOC "${what} for Glint guests")
endfunction()

_glint_guest_find_tool(GLINT_GUEST_C_COMPILER "${GLINT_SDK_C_COMPILER}" "C compiler (gcc or clang)"
  cc gcc clang)
_glint_guest_find_tool(GLINT_LD_LLD "${GLINT_SDK_LD_LLD}" "ld.lld"
  ld.lld ld.lld-19 ld.lld-18 ld.lld-17 ld.lld-16 ld.lld-15 ld.lld-14)
_glint_guest_find_tool(GLINT_READELF "${GLINT_SDK_READELF}" "readelf" llvm-readelf readelf)
_glint_guest_find_tool(GLINT_NASM "${GLINT_SDK_NASM}" "nasm (only for .asm sources)" nasm)
if(CMAKE_AR)
  set(GLINT_AR "${CMAKE_AR}")
else()
  _glint_guest_find_tool(GLINT_AR "" "ar" ar llvm-ar)
endif()
_glint_guest_find_tool(GLINT_SH "" "POSIX shell" sh bash)
foreach(_glint_t GLINT_GUEST_C_COMPILER GLINT_LD_LLD GLINT_READELF GLINT_AR GLINT_SH)
  if(NOT ${_glint_t} OR NOT EXISTS "${${_glint_t}}")
    set(GLINT_GUEST_UNAVAILABLE "${_glint_t} not found ('${${_glint_t}}'; Debian: apt install gcc lld binutils)")
  endif()
endforeach()

set(GLINT_GUEST_LIBGCC "")
set(_glint_cc_include "")
if(GLINT_GUEST_C_COMPILER)
  execute_process(COMMAND "${GLINT_GUEST_C_COMPILER}" -print-file-name=include
    OUTPUT_VARIABLE _glint_cc_include OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
  if(NOT IS_ABSOLUTE "${_glint_cc_include}" OR NOT EXISTS "${_glint_cc_include}/stddef.h")
    set(GLINT_GUEST_UNAVAILABLE "cannot find the include directory of ${GLINT_GUEST_C_COMPILER} "
      "(-print-file-name=include gave '${_glint_cc_include}')")
  endif()
  execute_process(COMMAND "${GLINT_GUEST_C_COMPILER}" -print-libgcc-file-name
    OUTPUT_VARIABLE GLINT_GUEST_LIBGCC OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
  if(NOT IS_ABSOLUTE "${GLINT_GUEST_LIBGCC}" OR NOT EXISTS "${GLINT_GUEST_LIBGCC}")
    set(GLINT_GUEST_LIBGCC "")
  endif()
endif()

# The flags of the Glint build (GlintGuest.cmake composes the same list).
set(GLINT_GUEST_OPT_FLAGS "${GLINT_SDK_OPT_FLAGS}" CACHE STRING
  "Optimisation and debug flags for guest code")
separate_arguments(GLINT_GUEST_CODEGEN_FLAGS UNIX_COMMAND "${GLINT_SDK_CODEGEN_FLAGS}")
separate_arguments(GLINT_GUEST_LIBC_DEFINES UNIX_COMMAND "${GLINT_SDK_LIBC_DEFINES}")
separate_arguments(_glint_opt UNIX_COMMAND "${GLINT_GUEST_OPT_FLAGS}")
separate_arguments(GLINT_GUEST_WARNING_FLAGS UNIX_COMMAND "${GLINT_SDK_WARNING_FLAGS}")
separate_arguments(GLINT_GUEST_NASM_FLAGS UNIX_COMMAND "${GLINT_SDK_NASM_FLAGS}")
separate_arguments(GLINT_GUEST_LINK_FLAGS UNIX_COMMAND "${GLINT_SDK_LINK_FLAGS}")
list(APPEND GLINT_GUEST_LINK_FLAGS -T "${GLINT_SDK_TOOLCHAIN_DIR}/guest.ld")
set(GLINT_GUEST_C_FLAGS
  -std=c11
  ${GLINT_GUEST_CODEGEN_FLAGS}
  ${GLINT_GUEST_LIBC_DEFINES}
  -nostdinc
  -isystem "${GLINT_SDK_SYSROOT}/include"
  -isystem "${_glint_cc_include}"
  "-fmacro-prefix-map=${CMAKE_SOURCE_DIR}/="
  ${_glint_opt})

# The runtime as a target, so that the functions find its archive and
# headers the way they find the in-tree glint_guest_runtime.
if(NOT TARGET glint::guest_runtime)
  add_library(glint::guest_runtime INTERFACE IMPORTED)
  set_target_properties(glint::guest_runtime PROPERTIES
    GLINT_GUEST_LIBRARY TRUE
    GLINT_GUEST_ARCHIVE "${GLINT_SDK_RUNTIME_ARCHIVE}"
    GLINT_GUEST_INCLUDE_DIRS "${GLINT_SDK_INCLUDE_DIRS}"
    GLINT_GUEST_INTERFACE_INCLUDE_DIRS "${GLINT_SDK_INCLUDE_DIRS}"
    GLINT_GUEST_LINK_ARCHIVES "${GLINT_SDK_RUNTIME_LIBS}")
endif()

include("${CMAKE_CURRENT_LIST_DIR}/GlintGuestFunctions.cmake")
unset(_glint_opt)
unset(_glint_cc_include)
