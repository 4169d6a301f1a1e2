# vcpkg overlay port of labelgraph (header-only), built from the checkout that
# contains this folder:
#
#   vcpkg install labelgraph[cpu,xtensor] --overlay-ports=<checkout>/ports
#
# To publish the port in a registry, replace SOURCE_PATH by
# vcpkg_from_github(OUT_SOURCE_PATH SOURCE_PATH REPO ... REF v${VERSION} SHA512 ...).
#
# Each feature makes the project's configuration require that backend's
# packages (CMAKE_REQUIRE_FIND_PACKAGE_<Pkg>); a feature left out makes it
# ignore them (CMAKE_DISABLE_FIND_PACKAGE_<Pkg>), so that a package found
# elsewhere never adds a backend that was not asked for. oneTBB (TBB) serves
# both cpu and xtensor, and vcpkg_check_features refuses a variable named
# twice: TBB is required when either feature is there and ignored only when
# neither is (without its feature, cpu stays out for want of Eigen3, xtensor
# for want of xtensor and xsimd).
# Tested without vcpkg by tests/package (package.vcpkg_port): see docs/install.md.

get_filename_component(SOURCE_PATH "${CMAKE_CURRENT_LIST_DIR}/../.." ABSOLUTE)
set(VCPKG_BUILD_TYPE release)  # header-only: one configuration is all there is

vcpkg_check_features(OUT_FEATURE_OPTIONS FEATURE_OPTIONS
  FEATURES
    cpu     CMAKE_REQUIRE_FIND_PACKAGE_Eigen3
    xtensor CMAKE_REQUIRE_FIND_PACKAGE_xtensor
    xtensor CMAKE_REQUIRE_FIND_PACKAGE_xsimd
    cuda    CMAKE_REQUIRE_FIND_PACKAGE_CUDAToolkit
  INVERTED_FEATURES
    cpu     CMAKE_DISABLE_FIND_PACKAGE_Eigen3
    xtensor CMAKE_DISABLE_FIND_PACKAGE_xtensor
    xtensor CMAKE_DISABLE_FIND_PACKAGE_xsimd
    cuda    CMAKE_DISABLE_FIND_PACKAGE_CUDAToolkit
)
if("cpu" IN_LIST FEATURES OR "xtensor" IN_LIST FEATURES)
  list(APPEND FEATURE_OPTIONS -DCMAKE_REQUIRE_FIND_PACKAGE_TBB=ON -DCMAKE_DISABLE_FIND_PACKAGE_TBB=OFF)
else()
  list(APPEND FEATURE_OPTIONS -DCMAKE_REQUIRE_FIND_PACKAGE_TBB=OFF -DCMAKE_DISABLE_FIND_PACKAGE_TBB=ON)
endif()

vcpkg_cmake_configure(
  SOURCE_PATH "${SOURCE_PATH}"
  OPTIONS
    ${FEATURE_OPTIONS}
    -DLABELGRAPH_INSTALL=ON
    -DLABELGRAPH_BUILD_TESTS=OFF
    -DLABELGRAPH_BUILD_TOOLS=OFF
    -DLABELGRAPH_BUILD_BENCH=OFF
    -DLABELGRAPH_BUILD_EXAMPLES=OFF
    -DLABELGRAPH_BUILD_DOCS=OFF
)
vcpkg_cmake_install()
vcpkg_cmake_config_fixup(CONFIG_PATH share/labelgraph)
vcpkg_fixup_pkgconfig()

# A requested backend that the project did not install is an error, not a
# silently smaller package.
foreach(backend IN ITEMS cpu xtensor cuda)
  if(backend IN_LIST FEATURES AND NOT EXISTS "${CURRENT_PACKAGES_DIR}/share/${PORT}/labelgraph-${backend}-targets.cmake")
    message(FATAL_ERROR "labelgraph: the feature '${backend}' was requested, but the ${backend} backend was not installed")
  endif()
endforeach()

file(INSTALL "${CMAKE_CURRENT_LIST_DIR}/usage" DESTINATION "${CURRENT_PACKAGES_DIR}/share/${PORT}")
vcpkg_install_copyright(FILE_LIST "${SOURCE_PATH}/LICENSE")
