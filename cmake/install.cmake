# Install rules, the CMake package `labelgraph` and the pkg-config file.
#
# Layout under the install prefix (all of it architecture independent: the
# library is header-only):
#
#   include/labelgraph/...                    the core and every backend that was configured
#   share/labelgraph/labelgraphConfig.cmake   find_package(labelgraph CONFIG [COMPONENTS ...])
#   share/labelgraph/labelgraphConfigVersion.cmake   SameMajorVersion, ARCH_INDEPENDENT
#   share/labelgraph/labelgraph-targets.cmake        labelgraph::labelgraph, labelgraph::reference
#   share/labelgraph/labelgraph-<component>-targets.cmake   one per backend: cpu, xtensor, cuda
#   share/pkgconfig/labelgraph.pc             the core, for non-CMake builds
#
# Each backend has its own export set, so that the config file creates
# `labelgraph::<component>` only when a consumer asks for the component, after
# it has found that component's dependencies (cmake/labelgraphConfig.cmake.in).
# A backend whose target was not created (its dependencies were missing when
# this project was configured) is simply not installed; asking for it later
# gives a clear "not part of this installation" message.
#
# Included at the end of the top-level CMakeLists.txt, after backends/.

include(CMakePackageConfigHelpers)

option(LABELGRAPH_INSTALL "Generate the install rules, the CMake package and the pkg-config file"
       ${PROJECT_IS_TOP_LEVEL})
if(NOT LABELGRAPH_INSTALL)
  return()
endif()

set(LABELGRAPH_INSTALL_CMAKEDIR "${CMAKE_INSTALL_DATADIR}/${PROJECT_NAME}"
    CACHE STRING "Where the CMake package files are installed, relative to the prefix")
set(LABELGRAPH_INSTALL_PKGCONFIGDIR "${CMAKE_INSTALL_DATADIR}/pkgconfig"
    CACHE STRING "Where labelgraph.pc is installed, relative to the prefix")

# Headers only: nothing else of the source folders (CMake files, docs) is installed.
set(_labelgraph_header_patterns PATTERN "*.hpp" PATTERN "*.h" PATTERN "*.cuh")

# --- the core, with the reference backend (it needs nothing but the core) ------
set_target_properties(labelgraph_reference PROPERTIES EXPORT_NAME reference)
install(TARGETS labelgraph labelgraph_reference EXPORT labelgraph-targets)
install(DIRECTORY "${PROJECT_SOURCE_DIR}/include/" "${PROJECT_SOURCE_DIR}/backends/reference/include/"
        DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}"
        FILES_MATCHING ${_labelgraph_header_patterns})
install(EXPORT labelgraph-targets
        NAMESPACE labelgraph::
        DESTINATION "${LABELGRAPH_INSTALL_CMAKEDIR}"
        FILE labelgraph-targets.cmake)

# --- one export set per backend component that this configuration has -------
# The component names are the config file's (LABELGRAPH_KNOWN_COMPONENTS there).
set(LABELGRAPH_INSTALLED_COMPONENTS "")
foreach(_labelgraph_component IN ITEMS cpu xtensor cuda)
  if(NOT TARGET labelgraph_${_labelgraph_component})
    continue()
  endif()
  set_target_properties(labelgraph_${_labelgraph_component} PROPERTIES EXPORT_NAME ${_labelgraph_component})
  install(TARGETS labelgraph_${_labelgraph_component} EXPORT labelgraph-${_labelgraph_component}-targets)
  install(DIRECTORY "${PROJECT_SOURCE_DIR}/backends/${_labelgraph_component}/include/"
          DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}"
          FILES_MATCHING ${_labelgraph_header_patterns})
  install(EXPORT labelgraph-${_labelgraph_component}-targets
          NAMESPACE labelgraph::
          DESTINATION "${LABELGRAPH_INSTALL_CMAKEDIR}"
          FILE labelgraph-${_labelgraph_component}-targets.cmake)
  list(APPEND LABELGRAPH_INSTALLED_COMPONENTS ${_labelgraph_component})
endforeach()
list(JOIN LABELGRAPH_INSTALLED_COMPONENTS " " _labelgraph_listed)
message(STATUS "labelgraph: install rules for the core, the reference backend and: ${_labelgraph_listed}")

# --- config and version file ----------------------------------------------------
configure_package_config_file(
  "${CMAKE_CURRENT_LIST_DIR}/labelgraphConfig.cmake.in"
  "${PROJECT_BINARY_DIR}/cmake/labelgraphConfig.cmake"
  INSTALL_DESTINATION "${LABELGRAPH_INSTALL_CMAKEDIR}"
  NO_SET_AND_CHECK_MACRO)
write_basic_package_version_file(
  "${PROJECT_BINARY_DIR}/cmake/labelgraphConfigVersion.cmake"
  VERSION ${PROJECT_VERSION}
  COMPATIBILITY SameMajorVersion
  ARCH_INDEPENDENT)
install(FILES "${PROJECT_BINARY_DIR}/cmake/labelgraphConfig.cmake"
              "${PROJECT_BINARY_DIR}/cmake/labelgraphConfigVersion.cmake"
        DESTINATION "${LABELGRAPH_INSTALL_CMAKEDIR}")

# --- pkg-config (the core only: backends need CMake's dependency handling) ------
# The .pc file finds the prefix from its own location, so the installed tree
# stays relocatable (a Conan package folder, a vcpkg installed tree, a tarball).
file(RELATIVE_PATH LABELGRAPH_PC_PREFIX_FROM_PCFILEDIR
     "/prefix/${LABELGRAPH_INSTALL_PKGCONFIGDIR}" "/prefix")
string(REGEX REPLACE "/$" "" LABELGRAPH_PC_PREFIX_FROM_PCFILEDIR "${LABELGRAPH_PC_PREFIX_FROM_PCFILEDIR}")
configure_file("${CMAKE_CURRENT_LIST_DIR}/labelgraph.pc.in" "${PROJECT_BINARY_DIR}/cmake/labelgraph.pc" @ONLY)
install(FILES "${PROJECT_BINARY_DIR}/cmake/labelgraph.pc" DESTINATION "${LABELGRAPH_INSTALL_PKGCONFIGDIR}")

unset(_labelgraph_component)
unset(_labelgraph_listed)
unset(_labelgraph_header_patterns)
