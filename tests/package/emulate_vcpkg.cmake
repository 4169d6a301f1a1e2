# Runs labelgraph's vcpkg port (ports/labelgraph/portfile.cmake) the way
# `vcpkg install labelgraph[<features>] --overlay-ports=ports` would, without
# vcpkg: the portfile itself is included, with vcpkg's variables set and the
# vcpkg helper functions it calls defined below (each one does what vcpkg
# documents for it, reduced to a release-only Linux build; dependencies come
# from the system instead of vcpkg's installed tree). Then vcpkg's post-build
# checks that apply to a header-only port, and test_package built against the
# staged package with the components of the features.
#
#   cmake -DLG_SOURCE_DIR=<checkout> -DLG_WORK_DIR=<dir> -DLG_FEATURES=cpu,xtensor
#         [-DLG_GENERATOR=...] [-DLG_CXX_COMPILER=...] -P emulate_vcpkg.cmake

cmake_minimum_required(VERSION 3.25)
foreach(required IN ITEMS LG_SOURCE_DIR LG_WORK_DIR)
  if(NOT DEFINED ${required})
    message(FATAL_ERROR "vcpkg emulation: -D${required}=... is required")
  endif()
endforeach()
if(NOT LG_GENERATOR)
  set(LG_GENERATOR "Unix Makefiles")
endif()

function(lg_run)
  string(JOIN " " text ${ARGN})
  message(STATUS "[vcpkg emulation] ${text}")
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE result)
  if(NOT result EQUAL 0)
    message(FATAL_ERROR "vcpkg emulation: FAILED (${result}): ${text}")
  endif()
endfunction()

# --- the port's manifest, and the variables vcpkg gives a portfile ---------------
set(port_dir "${LG_SOURCE_DIR}/ports/labelgraph")
file(READ "${port_dir}/vcpkg.json" manifest)
string(JSON PORT GET "${manifest}" name)
string(JSON VERSION GET "${manifest}" version)
string(REPLACE "," ";" requested "${LG_FEATURES}")
set(FEATURES core)
foreach(feature IN LISTS requested)
  string(JSON declared ERROR_VARIABLE missing GET "${manifest}" features ${feature})
  if(missing)
    message(FATAL_ERROR "vcpkg emulation: ${PORT} has no feature '${feature}'")
  endif()
  list(APPEND FEATURES ${feature})
endforeach()
set(TARGET_TRIPLET x64-linux)
set(VCPKG_TARGET_IS_LINUX ON)
set(CURRENT_BUILDTREES_DIR "${LG_WORK_DIR}/buildtrees/${PORT}")
set(CURRENT_PACKAGES_DIR "${LG_WORK_DIR}/packages/${PORT}_${TARGET_TRIPLET}")
file(REMOVE_RECURSE "${LG_WORK_DIR}")
file(MAKE_DIRECTORY "${CURRENT_BUILDTREES_DIR}" "${CURRENT_PACKAGES_DIR}")

# --- vcpkg's helpers, as the portfile uses them ----------------------------------
function(vcpkg_check_features)
  cmake_parse_arguments(PARSE_ARGV 0 arg "" "OUT_FEATURE_OPTIONS;PREFIX" "FEATURES;INVERTED_FEATURES")
  if(arg_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "vcpkg_check_features: unexpected arguments ${arg_UNPARSED_ARGUMENTS}")
  endif()
  set(options "")
  set(variables "")
  foreach(kind IN ITEMS FEATURES INVERTED_FEATURES)
    list(LENGTH arg_${kind} count)
    math(EXPR odd "${count} % 2")
    if(odd)
      message(FATAL_ERROR "vcpkg_check_features: ${kind} needs <feature> <option> pairs")
    endif()
    while(arg_${kind})
      list(POP_FRONT arg_${kind} feature option)
      string(JSON declared ERROR_VARIABLE missing GET "${manifest}" features ${feature})
      if(missing)
        message(FATAL_ERROR "vcpkg_check_features: '${feature}' is not a feature of ${PORT}/vcpkg.json")
      endif()
      if(option IN_LIST variables)  # vcpkg: "since that is a bug"
        message(FATAL_ERROR "vcpkg_check_features: the variable ${option} is passed more than once")
      endif()
      list(APPEND variables "${option}")
      if((feature IN_LIST FEATURES) EQUAL (kind STREQUAL "FEATURES"))
        list(APPEND options "-D${option}=ON")
      else()
        list(APPEND options "-D${option}=OFF")
      endif()
    endwhile()
  endforeach()
  set(${arg_OUT_FEATURE_OPTIONS} "${options}" PARENT_SCOPE)
endfunction()

function(vcpkg_cmake_configure)
  cmake_parse_arguments(PARSE_ARGV 0 arg "DISABLE_PARALLEL_CONFIGURE;WINDOWS_USE_MSBUILD;NO_CHARSET_FLAG"
                        "SOURCE_PATH;GENERATOR;LOGFILE_BASE" "OPTIONS;OPTIONS_RELEASE;OPTIONS_DEBUG;MAYBE_UNUSED_VARIABLES")
  if(arg_UNPARSED_ARGUMENTS OR NOT IS_DIRECTORY "${arg_SOURCE_PATH}")
    message(FATAL_ERROR "vcpkg_cmake_configure: bad arguments (SOURCE_PATH '${arg_SOURCE_PATH}')")
  endif()
  if(NOT VCPKG_BUILD_TYPE STREQUAL "release")
    message(FATAL_ERROR "vcpkg emulation: only VCPKG_BUILD_TYPE=release (header-only) is emulated")
  endif()
  set(compiler "")
  if(LG_CXX_COMPILER)
    set(compiler "-DCMAKE_CXX_COMPILER=${LG_CXX_COMPILER}")
  endif()
  # The cache entries vcpkg_cmake_configure always passes that matter here.
  lg_run("${CMAKE_COMMAND}" -S "${arg_SOURCE_PATH}" -B "${CURRENT_BUILDTREES_DIR}/${TARGET_TRIPLET}-rel"
         -G "${LG_GENERATOR}" ${compiler}
         -DCMAKE_BUILD_TYPE=Release "-DCMAKE_INSTALL_PREFIX=${CURRENT_PACKAGES_DIR}"
         -DCMAKE_INSTALL_LIBDIR:STRING=lib -DCMAKE_INSTALL_BINDIR:STRING=bin
         -DFETCHCONTENT_FULLY_DISCONNECTED=ON -DCMAKE_EXPORT_NO_PACKAGE_REGISTRY=ON
         -DCMAKE_FIND_PACKAGE_NO_PACKAGE_REGISTRY=ON -DCMAKE_FIND_PACKAGE_NO_SYSTEM_PACKAGE_REGISTRY=ON
         -DVCPKG_MANIFEST_INSTALL=OFF -DBUILD_SHARED_LIBS=OFF
         ${arg_OPTIONS} ${arg_OPTIONS_RELEASE})
endfunction()

function(vcpkg_cmake_install)
  lg_run("${CMAKE_COMMAND}" --build "${CURRENT_BUILDTREES_DIR}/${TARGET_TRIPLET}-rel" --target install)
endfunction()

# Moves the config files to share/<package> (here: checks they are there) and
# requires them to be relocatable: vcpkg rewrites absolute paths to the package
# folder; a config that needs such rewriting is a defect of ours.
function(vcpkg_cmake_config_fixup)
  cmake_parse_arguments(PARSE_ARGV 0 arg "DO_NOT_DELETE_PARENT_CONFIG_PATH;NO_PREFIX_CORRECTION"
                        "PACKAGE_NAME;CONFIG_PATH;TOOLS_PATH" "")
  if(NOT arg_PACKAGE_NAME)
    set(arg_PACKAGE_NAME "${PORT}")
  endif()
  set(from "${CURRENT_PACKAGES_DIR}/${arg_CONFIG_PATH}")
  set(to "${CURRENT_PACKAGES_DIR}/share/${arg_PACKAGE_NAME}")
  if(NOT EXISTS "${from}")
    message(FATAL_ERROR "vcpkg_cmake_config_fixup: '${from}' does not exist")
  endif()
  if(NOT from STREQUAL to)
    file(RENAME "${from}" "${to}")
  endif()
  file(GLOB config_files "${to}/*.cmake")
  foreach(file IN LISTS config_files)
    file(READ "${file}" text)
    foreach(absolute IN ITEMS "${CURRENT_PACKAGES_DIR}" "${LG_SOURCE_DIR}" "${CURRENT_BUILDTREES_DIR}")
      string(FIND "${text}" "${absolute}" at)
      if(NOT at EQUAL -1)
        message(FATAL_ERROR "vcpkg_cmake_config_fixup: ${file} contains the absolute path ${absolute}")
      endif()
    endforeach()
  endforeach()
endfunction()

function(vcpkg_fixup_pkgconfig)
  file(GLOB pc_files "${CURRENT_PACKAGES_DIR}/lib/pkgconfig/*.pc" "${CURRENT_PACKAGES_DIR}/share/pkgconfig/*.pc")
  foreach(file IN LISTS pc_files)
    file(STRINGS "${file}" prefix_line REGEX "^prefix=")
    if(NOT prefix_line MATCHES "^prefix=\\\${pcfiledir}")
      message(FATAL_ERROR "vcpkg_fixup_pkgconfig: ${file} is not relocatable: ${prefix_line}")
    endif()
  endforeach()
endfunction()

function(vcpkg_install_copyright)
  cmake_parse_arguments(PARSE_ARGV 0 arg "" "COMMENT" "FILE_LIST")
  set(text "")
  foreach(file IN LISTS arg_FILE_LIST)
    file(READ "${file}" content)
    string(APPEND text "${content}")
  endforeach()
  file(WRITE "${CURRENT_PACKAGES_DIR}/share/${PORT}/copyright" "${text}")
endfunction()

# --- the port ----------------------------------------------------------------------
message(STATUS "[vcpkg emulation] ${PORT}[${LG_FEATURES}] ${VERSION}: ${port_dir}/portfile.cmake")
include("${port_dir}/portfile.cmake")

# --- vcpkg's post-build checks that apply to a header-only port ----------------------
foreach(expected IN ITEMS "share/${PORT}/copyright" "share/${PORT}/usage" "share/${PORT}/labelgraphConfig.cmake"
                          "share/${PORT}/labelgraphConfigVersion.cmake" "include/labelgraph/config.hpp")
  if(NOT EXISTS "${CURRENT_PACKAGES_DIR}/${expected}")
    message(FATAL_ERROR "vcpkg emulation: the package has no ${expected}")
  endif()
endforeach()
foreach(forbidden IN ITEMS debug lib bin tools)
  if(EXISTS "${CURRENT_PACKAGES_DIR}/${forbidden}")
    message(FATAL_ERROR "vcpkg emulation: a header-only package must not install ${forbidden}/")
  endif()
endforeach()
foreach(backend IN ITEMS cpu xtensor cuda)
  set(targets "${CURRENT_PACKAGES_DIR}/share/${PORT}/labelgraph-${backend}-targets.cmake")
  if(backend IN_LIST FEATURES AND NOT EXISTS "${targets}")
    message(FATAL_ERROR "vcpkg emulation: feature ${backend} requested, ${targets} missing")
  elseif(NOT backend IN_LIST FEATURES AND EXISTS "${targets}")
    message(FATAL_ERROR "vcpkg emulation: feature ${backend} not requested, yet ${targets} was installed")
  endif()
endforeach()

# --- a consumer: test_package against the staged package -------------------------
set(components ${requested})
list(REMOVE_ITEM components cuda)
set(compiler "")
if(LG_CXX_COMPILER)
  set(compiler "-DCMAKE_CXX_COMPILER=${LG_CXX_COMPILER}")
endif()
lg_run("${CMAKE_COMMAND}" -S "${LG_SOURCE_DIR}/test_package" -B "${LG_WORK_DIR}/test_package" -G "${LG_GENERATOR}"
       ${compiler} "-DCMAKE_PREFIX_PATH=${CURRENT_PACKAGES_DIR}" "-DLABELGRAPH_TEST_COMPONENTS=${components}")
lg_run("${CMAKE_COMMAND}" --build "${LG_WORK_DIR}/test_package")
lg_run("${LG_WORK_DIR}/test_package/test_package")
message(STATUS "[vcpkg emulation] ${PORT}[${LG_FEATURES}]: installed and tested")
