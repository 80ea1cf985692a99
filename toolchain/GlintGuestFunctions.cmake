# GlintGuestFunctions.cmake - glint_add_guest_library() and glint_add_guest().
#
# Shared by the Glint build (included by GlintGuest.cmake, after it has found
# the tools, built or located the libc and set the flags) and by installed
# Glint packages (included by GlintGuestInstalled.cmake through
# find_package(Glint), which sets the same variables from the installed guest
# SDK).  Either way these variables must be set before the functions are
# called:
#
#   GLINT_GUEST_C_COMPILER, GLINT_NASM, GLINT_AR, GLINT_LD_LLD, GLINT_READELF, GLINT_SH
#   GLINT_GUEST_C_FLAGS, GLINT_GUEST_WARNING_FLAGS, GLINT_GUEST_NASM_FLAGS,
#   GLINT_GUEST_LINK_FLAGS (lists; the link flags include -T <guest.ld>)
#   GLINT_GUEST_LIBC, GLINT_GUEST_LIBM, GLINT_GUEST_LIBGCC (LIBM/LIBGCC may be empty)
#   GLINT_GUEST_LIBC_STAMP     file every guest object depends on (empty: none)
#   GLINT_GUEST_RUNTIME        target holding the runtime's GLINT_GUEST_* properties
#   GLINT_GUEST_DEFAULT_INCLUDE_DIRS   glint_guest.h and the glint/ ABI headers
#   GLINT_TOOLCHAIN_DIR        guest.ld and check-guest-elf.sh
#   GLINT_GUEST_DIR            where guests are linked
# and, optionally, the target glint_guest_libc (every guest target depends on
# it) and GLINT_GUEST_UNAVAILABLE (a reason why guests cannot be built here,
# reported when one is declared).  docs/building.md describes the API.

# ---------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------

# Generator expression: PREFIX before each non-empty element of LIST (one
# generator expression evaluating to a list).  No raw ';' may appear inside a
# generator expression that travels through a CMake list, hence $<SEMICOLON>.
function(_glint_prefix_genex out prefix list)
  set(_f "$<FILTER:${list},EXCLUDE,^$>")
  set(${out} "$<$<BOOL:${_f}>:${prefix}$<JOIN:${_f},$<SEMICOLON>${prefix}>>" PARENT_SCOPE)
endfunction()

# Makes NAME depend on the targets among DEPS that are built here: the
# installed runtime is an imported target, and an installed SDK has no
# glint_guest_libc to wait for.
function(_glint_guest_depend name)
  foreach(_t IN LISTS ARGN)
    if(TARGET ${_t})
      get_target_property(_imported ${_t} IMPORTED)
      if(NOT _imported)
        add_dependencies(${name} ${_t})
      endif()
    endif()
  endforeach()
endfunction()

# Stops at the first guest target when this SDK cannot build guests (a
# missing tool of an installed SDK), rather than when the package is found:
# projects that only use the host library do not need the guest tools.
function(_glint_guest_check_available name)
  if(GLINT_GUEST_UNAVAILABLE)
    message(FATAL_ERROR "${name}: cannot build Glint guests: ${GLINT_GUEST_UNAVAILABLE}")
  endif()
endfunction()

# Compile SOURCES for target NAME; sets OUT to the list of objects.
# INCLUDES may contain generator expressions.
function(_glint_guest_compile name out)
  cmake_parse_arguments(PARSE_ARGV 2 A "" "" "SOURCES;INCLUDES;DEFINES;OPTIONS;DEPENDS")
  if(NOT A_SOURCES)
    message(FATAL_ERROR "${name}: no SOURCES given")
  endif()
  set(_objdir "${CMAKE_CURRENT_BINARY_DIR}/${name}.guest-objs")
  set(_incs "")
  foreach(_d IN LISTS A_INCLUDES)
    if(_d MATCHES "^\\$<")
      _glint_prefix_genex(_g "-I" "${_d}")
      list(APPEND _incs "${_g}")
    elseif(_d)
      get_filename_component(_d "${_d}" ABSOLUTE BASE_DIR "${CMAKE_CURRENT_SOURCE_DIR}")
      list(APPEND _incs "-I${_d}")
    endif()
  endforeach()
  set(_nasm_incs "")
  foreach(_d IN LISTS A_INCLUDES)
    if(_d MATCHES "^\\$<")
      # nasm wants a trailing slash on -I directories (older versions do not add one).
      set(_f "$<FILTER:${_d},EXCLUDE,^$>")
      list(APPEND _nasm_incs "$<$<BOOL:${_f}>:-I$<JOIN:${_f},/$<SEMICOLON>-I>/>")
    elseif(_d)
      get_filename_component(_d "${_d}" ABSOLUTE BASE_DIR "${CMAKE_CURRENT_SOURCE_DIR}")
      list(APPEND _nasm_incs "-I${_d}/")
    endif()
  endforeach()
  set(_defs "")
  foreach(_d IN LISTS A_DEFINES)
    list(APPEND _defs "-D${_d}")
  endforeach()

  set(_objs "")
  foreach(_src IN LISTS A_SOURCES)
    get_filename_component(_abs "${_src}" ABSOLUTE BASE_DIR "${CMAKE_CURRENT_SOURCE_DIR}")
    get_filename_component(_ext "${_abs}" LAST_EXT)
    string(TOLOWER "${_ext}" _lext)
    if(_lext STREQUAL ".h" OR _lext STREQUAL ".inc")
      continue()
    endif()
    # Object path: mirror the source path below the source or binary dir,
    # else <hash of directory>/<file name>.
    file(RELATIVE_PATH _rel "${CMAKE_CURRENT_SOURCE_DIR}" "${_abs}")
    if(_rel MATCHES "^\\.\\./" OR IS_ABSOLUTE "${_rel}")
      file(RELATIVE_PATH _rel "${CMAKE_CURRENT_BINARY_DIR}" "${_abs}")
      if(_rel MATCHES "^\\.\\./" OR IS_ABSOLUTE "${_rel}")
        get_filename_component(_dir "${_abs}" DIRECTORY)
        get_filename_component(_fname "${_abs}" NAME)
        string(SHA1 _h "${_dir}")
        string(SUBSTRING "${_h}" 0 10 _h)
        set(_rel "ext-${_h}/${_fname}")
      else()
        set(_rel "gen/${_rel}")
      endif()
    endif()
    set(_obj "${_objdir}/${_rel}.o")
    set(_dep "${_objdir}/${_rel}.d")
    get_filename_component(_odir "${_obj}" DIRECTORY)
    file(MAKE_DIRECTORY "${_odir}")
    file(RELATIVE_PATH _shown "${CMAKE_BINARY_DIR}" "${_obj}")

    if(_lext STREQUAL ".c" OR _lext STREQUAL ".s" OR _ext STREQUAL ".S" OR _lext STREQUAL ".sx")
      add_custom_command(
        OUTPUT "${_obj}"
        COMMAND "${GLINT_GUEST_C_COMPILER}" ${GLINT_GUEST_C_FLAGS} ${GLINT_GUEST_WARNING_FLAGS}
                ${_defs} ${_incs} ${A_OPTIONS}
                -MD -MF "${_dep}" -MT "${_obj}"
                -c "${_abs}" -o "${_obj}"
        DEPENDS "${_abs}" ${A_DEPENDS}
        DEPFILE "${_dep}"
        COMMENT "Guest C object ${_shown}"
        VERBATIM COMMAND_EXPAND_LISTS)
    elseif(_lext STREQUAL ".asm" OR _lext STREQUAL ".nasm")
      if(NOT GLINT_NASM)
        message(FATAL_ERROR "${name}: nasm is needed for ${_src} but was not found")
      endif()
      add_custom_command(
        OUTPUT "${_obj}"
        # Dependencies in a separate preprocessing pass: nasm 2.16's -MD
        # (while assembling) leaves %include files out of the depfile.
        COMMAND "${GLINT_NASM}" ${GLINT_GUEST_NASM_FLAGS} ${_defs} ${_nasm_incs}
                -M -MF "${_dep}" -MT "${_obj}" "${_abs}"
        COMMAND "${GLINT_NASM}" ${GLINT_GUEST_NASM_FLAGS} ${_defs} ${_nasm_incs}
                -o "${_obj}" "${_abs}"
        DEPENDS "${_abs}" ${A_DEPENDS}
        DEPFILE "${_dep}"
        COMMENT "Guest NASM object ${_shown}"
        VERBATIM COMMAND_EXPAND_LISTS)
    elseif(_lext STREQUAL ".o" OR _lext STREQUAL ".obj")
      set(_obj "${_abs}")                     # prebuilt object: link as is
    else()
      message(FATAL_ERROR "${name}: don't know how to build guest source ${_src} "
        "(supported: .c, .S/.s, .asm/.nasm, .o)")
    endif()
    list(APPEND _objs "${_obj}")
  endforeach()
  set(${out} "${_objs}" PARENT_SCOPE)
endfunction()

# ---------------------------------------------------------------------------
# glint_add_guest_library(NAME SOURCES src... [INCLUDE_DIRS dir...]
#                         [DEFINES def...] [OPTIONS flag...] [LIBRARIES guestlib...])
#
# Builds ${CMAKE_CURRENT_BINARY_DIR}/lib${NAME}.a from C (.c), GNU assembler
# (.S/.s) and NASM (.asm/.nasm) sources with the guest flags, and a custom
# target NAME (built by ALL).  INCLUDE_DIRS are used to compile the library
# and by everything that links it; DEFINES and OPTIONS only for the library's
# own sources.  LIBRARIES are other guest libraries it uses (their include
# dirs are used to compile it, and guests linking it link them too).
# ---------------------------------------------------------------------------
function(glint_add_guest_library name)
  cmake_parse_arguments(PARSE_ARGV 1 A "" "" "SOURCES;INCLUDE_DIRS;DEFINES;OPTIONS;LIBRARIES")
  if(A_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "glint_add_guest_library(${name}): unexpected arguments: ${A_UNPARSED_ARGUMENTS}")
  endif()
  _glint_guest_check_available(${name})
  set(_own_incs "")
  foreach(_d IN LISTS A_INCLUDE_DIRS)
    get_filename_component(_d "${_d}" ABSOLUTE BASE_DIR "${CMAKE_CURRENT_SOURCE_DIR}")
    list(APPEND _own_incs "${_d}")
  endforeach()
  set(_dep_incs "")
  set(_dep_archives "")
  foreach(_l IN LISTS A_LIBRARIES)
    list(APPEND _dep_incs "$<GENEX_EVAL:$<TARGET_PROPERTY:${_l},GLINT_GUEST_INTERFACE_INCLUDE_DIRS>>")
    list(APPEND _dep_archives "$<GENEX_EVAL:$<TARGET_PROPERTY:${_l},GLINT_GUEST_LINK_ARCHIVES>>")
  endforeach()

  _glint_guest_compile(${name} _objs
    SOURCES ${A_SOURCES}
    INCLUDES ${_own_incs} ${_dep_incs}
    DEFINES ${A_DEFINES}
    OPTIONS ${A_OPTIONS}
    DEPENDS ${GLINT_GUEST_LIBC_STAMP})

  set(_archive "${CMAKE_CURRENT_BINARY_DIR}/lib${name}.a")
  add_custom_command(
    OUTPUT "${_archive}"
    COMMAND "${CMAKE_COMMAND}" -E rm -f "${_archive}"
    COMMAND "${GLINT_AR}" rcsD "${_archive}" ${_objs}
    DEPENDS ${_objs}
    COMMENT "Guest library lib${name}.a"
    VERBATIM)
  add_custom_target(${name} ALL DEPENDS "${_archive}")
  _glint_guest_depend(${name} glint_guest_libc)
  if(A_LIBRARIES)
    add_dependencies(${name} ${A_LIBRARIES})
  endif()
  set_target_properties(${name} PROPERTIES
    GLINT_GUEST_LIBRARY TRUE
    GLINT_GUEST_ARCHIVE "${_archive}"
    GLINT_GUEST_INCLUDE_DIRS "${_own_incs}"
    GLINT_GUEST_LINK_LIBRARIES "${A_LIBRARIES}"
    GLINT_GUEST_INTERFACE_INCLUDE_DIRS "${_own_incs};${_dep_incs}"
    GLINT_GUEST_LINK_ARCHIVES "${_archive};${_dep_archives}")
endfunction()

# ---------------------------------------------------------------------------
# glint_add_guest(NAME SOURCES src... [LIBRARIES guestlib...] [INCLUDE_DIRS dir...]
#                 [DEFINES def...] [OPTIONS flag...] [LINK_OPTIONS flag...]
#                 [NO_RUNTIME] [NO_LIBC])
#
# Compiles SOURCES (include path: INCLUDE_DIRS, the LIBRARIES' and the
# runtime's include dirs, guest/include, common/include) and links
# ${GLINT_GUEST_DIR}/NAME.elf with ld.lld and toolchain/guest.ld, in one
# group: the objects, the LIBRARIES archives (and what they link), the
# glint_guest_runtime archive (whole, so its ABI note and start-up code are
# always in), libc.a, libm.a, libgcc.a.  Then toolchain/check-guest-elf.sh
# fails the build if the ELF is not loadable (relocations other than
# R_X86_64_RELATIVE, DT_NEEDED, PT_INTERP, misaligned or W+X segments, ...).
#
# NO_RUNTIME: do not link glint_guest_runtime; the sources provide _start.
#   libc/libm/libgcc are still on the line (archives only contribute what is
#   referenced, so an assembly-only guest gets nothing from them).
# NO_LIBC:    do not link libc.a/libm.a either (libgcc.a stays).
# LINK_OPTIONS: extra ld.lld options (raw, not -Wl,).
# Creates custom target NAME (ALL) with property GLINT_GUEST_ELF.
# ---------------------------------------------------------------------------
function(glint_add_guest name)
  cmake_parse_arguments(PARSE_ARGV 1 A "NO_RUNTIME;NO_LIBC" ""
    "SOURCES;LIBRARIES;INCLUDE_DIRS;DEFINES;OPTIONS;LINK_OPTIONS")
  if(A_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "glint_add_guest(${name}): unexpected arguments: ${A_UNPARSED_ARGUMENTS}")
  endif()
  _glint_guest_check_available(${name})
  set(_libs ${A_LIBRARIES})
  if(NOT A_NO_RUNTIME)
    list(REMOVE_ITEM _libs ${GLINT_GUEST_RUNTIME})
  endif()

  set(_incs "")
  foreach(_d IN LISTS A_INCLUDE_DIRS)
    get_filename_component(_d "${_d}" ABSOLUTE BASE_DIR "${CMAKE_CURRENT_SOURCE_DIR}")
    list(APPEND _incs "${_d}")
  endforeach()
  set(_archives "")
  foreach(_l IN LISTS _libs)
    list(APPEND _incs "$<GENEX_EVAL:$<TARGET_PROPERTY:${_l},GLINT_GUEST_INTERFACE_INCLUDE_DIRS>>")
    list(APPEND _archives "$<GENEX_EVAL:$<TARGET_PROPERTY:${_l},GLINT_GUEST_LINK_ARCHIVES>>")
  endforeach()
  set(_rt_archive "")
  set(_rt_deps "")
  if(NOT A_NO_RUNTIME)
    list(APPEND _incs "$<GENEX_EVAL:$<TARGET_PROPERTY:${GLINT_GUEST_RUNTIME},GLINT_GUEST_INTERFACE_INCLUDE_DIRS>>")
    set(_rt_archive "$<TARGET_PROPERTY:${GLINT_GUEST_RUNTIME},GLINT_GUEST_ARCHIVE>")
    set(_rt_deps "$<GENEX_EVAL:$<TARGET_PROPERTY:${GLINT_GUEST_RUNTIME},GLINT_GUEST_LINK_ARCHIVES>>")
  endif()
  list(APPEND _incs ${GLINT_GUEST_DEFAULT_INCLUDE_DIRS})

  _glint_guest_compile(${name} _objs
    SOURCES ${A_SOURCES}
    INCLUDES ${_incs}
    DEFINES ${A_DEFINES}
    OPTIONS ${A_OPTIONS}
    DEPENDS ${GLINT_GUEST_LIBC_STAMP})

  set(_libc_archives "")
  if(NOT A_NO_LIBC)
    list(APPEND _libc_archives "${GLINT_GUEST_LIBC}")
    if(GLINT_GUEST_LIBM)
      list(APPEND _libc_archives "${GLINT_GUEST_LIBM}")
    endif()
  endif()
  if(GLINT_GUEST_LIBGCC)
    list(APPEND _libc_archives "${GLINT_GUEST_LIBGCC}")
  endif()

  list(JOIN _archives "$<SEMICOLON>" _all_archives)
  if(_rt_deps)
    set(_all_archives "${_all_archives}$<SEMICOLON>${_rt_deps}")
  endif()
  set(_all_archives "$<REMOVE_DUPLICATES:$<FILTER:${_all_archives},EXCLUDE,^$>>")
  set(_whole "")
  if(_rt_archive)
    set(_whole --whole-archive "${_rt_archive}" --no-whole-archive)
  endif()
  set(_elf "${GLINT_GUEST_DIR}/${name}.elf")
  set(_map "${CMAKE_CURRENT_BINARY_DIR}/${name}.guest-objs/${name}.map")
  set(_check_opts "")
  if(NOT A_NO_RUNTIME)
    set(_check_opts --want-note)
  endif()
  file(RELATIVE_PATH _shown "${CMAKE_BINARY_DIR}" "${_elf}")
  add_custom_command(
    OUTPUT "${_elf}"
    BYPRODUCTS "${_map}"
    COMMAND "${CMAKE_COMMAND}" -E rm -f "${_elf}" "${_elf}.rejected"
    COMMAND "${GLINT_LD_LLD}" ${GLINT_GUEST_LINK_FLAGS} ${A_LINK_OPTIONS}
            -Map "${_map}" -o "${_elf}"
            ${_objs} ${_whole}
            --start-group ${_all_archives} ${_libc_archives} --end-group
    COMMAND "${GLINT_SH}" "${GLINT_TOOLCHAIN_DIR}/check-guest-elf.sh" ${_check_opts}
            "${GLINT_READELF}" "${_elf}"
    DEPENDS ${_objs} ${_all_archives} ${_rt_archive} ${GLINT_GUEST_LIBC_STAMP}
            "${GLINT_TOOLCHAIN_DIR}/guest.ld" "${GLINT_TOOLCHAIN_DIR}/check-guest-elf.sh"
    COMMENT "Linking guest ${_shown}"
    VERBATIM COMMAND_EXPAND_LISTS)
  add_custom_target(${name} ALL DEPENDS "${_elf}")
  _glint_guest_depend(${name} glint_guest_libc)
  if(_libs)
    add_dependencies(${name} ${_libs})
  endif()
  if(NOT A_NO_RUNTIME)
    _glint_guest_depend(${name} ${GLINT_GUEST_RUNTIME})
  endif()
  set_target_properties(${name} PROPERTIES GLINT_GUEST_ELF "${_elf}")
endfunction()
