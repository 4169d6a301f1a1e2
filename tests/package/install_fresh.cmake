# The fixture of the package tests (cmake -P): configures the source from
# scratch into a test-private build folder (tests, tools, benchmarks, examples
# and docs off, as a packager would), installs it into a staging prefix, and
# checks the installed tree:
#   - the headers, the config + version file and the core's targets file;
#   - one targets file per backend that this machine has (LG_COMPONENTS), none other;
#   - no binaries, no lib/ (header-only, ARCH_INDEPENDENT);
#   - no absolute path of the source, build or prefix folder in share/ (relocatable).
#
#   cmake -DLG_SOURCE_DIR=... -DLG_WORK_DIR=... -DLG_COMPONENTS=cpu,xtensor
#         [-DLG_GENERATOR=...] [-DLG_CXX_COMPILER=...] -P install_fresh.cmake

cmake_minimum_required(VERSION 3.25)
set(build "${LG_WORK_DIR}/build")
set(prefix "${LG_WORK_DIR}/prefix")
file(REMOVE_RECURSE "${LG_WORK_DIR}")

function(lg_step)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE result OUTPUT_VARIABLE output ERROR_VARIABLE output)
  if(NOT result EQUAL 0)
    string(JOIN " " text ${ARGN})
    message(FATAL_ERROR "package.install: FAILED (${result}): ${text}\n${output}")
  endif()
endfunction()

set(compiler "")
if(LG_CXX_COMPILER)
  set(compiler "-DCMAKE_CXX_COMPILER=${LG_CXX_COMPILER}")
endif()
lg_step("${CMAKE_COMMAND}" -S "${LG_SOURCE_DIR}" -B "${build}" -G "${LG_GENERATOR}" ${compiler}
        -DCMAKE_BUILD_TYPE=Release -DLABELGRAPH_BUILD_TESTS=OFF -DLABELGRAPH_BUILD_TOOLS=OFF
        -DLABELGRAPH_BUILD_BENCH=OFF -DLABELGRAPH_BUILD_EXAMPLES=OFF -DLABELGRAPH_BUILD_DOCS=OFF)
lg_step("${CMAKE_COMMAND}" --install "${build}" --prefix "${prefix}")

set(problems "")
set(config "${prefix}/share/labelgraph")
foreach(expected IN ITEMS
        "${config}/labelgraphConfig.cmake" "${config}/labelgraphConfigVersion.cmake"
        "${config}/labelgraph-targets.cmake" "${prefix}/share/pkgconfig/labelgraph.pc"
        "${prefix}/include/labelgraph/config.hpp" "${prefix}/include/labelgraph/graph/label_graph.hpp"
        "${prefix}/include/labelgraph/backends/reference.hpp")
  if(NOT EXISTS "${expected}")
    string(APPEND problems "  missing: ${expected}\n")
  endif()
endforeach()

string(REPLACE "," ";" components "${LG_COMPONENTS}")
foreach(component IN ITEMS cpu xtensor cuda)
  set(targets "${config}/labelgraph-${component}-targets.cmake")
  if(component IN_LIST components AND NOT EXISTS "${targets}")
    string(APPEND problems "  the ${component} backend exists here, but ${targets} was not installed\n")
  elseif(NOT component IN_LIST components AND EXISTS "${targets}")
    string(APPEND problems "  ${targets} was installed without the ${component} backend\n")
  endif()
  if(component IN_LIST components)
    file(GLOB_RECURSE headers RELATIVE "${LG_SOURCE_DIR}/backends/${component}/include"
         "${LG_SOURCE_DIR}/backends/${component}/include/*")
    foreach(header IN LISTS headers)
      if(NOT EXISTS "${prefix}/include/${header}")
        string(APPEND problems "  the ${component} header ${header} was not installed\n")
      endif()
    endforeach()
  endif()
endforeach()

foreach(forbidden IN ITEMS bin lib lib64)
  if(EXISTS "${prefix}/${forbidden}")
    string(APPEND problems "  a header-only package installed ${forbidden}/\n")
  endif()
endforeach()

file(GLOB_RECURSE package_files "${prefix}/share/*")
foreach(file IN LISTS package_files)
  file(READ "${file}" text)
  foreach(absolute IN ITEMS "${LG_SOURCE_DIR}" "${build}" "${prefix}")
    string(FIND "${text}" "${absolute}" at)
    if(NOT at EQUAL -1)
      string(APPEND problems "  ${file} contains the absolute path ${absolute} (not relocatable)\n")
    endif()
  endforeach()
endforeach()

if(problems)
  message(FATAL_ERROR "package.install: the installed tree in ${prefix} is wrong:\n${problems}")
endif()
message(STATUS "package.install: ${prefix} holds the core, the reference backend and: ${LG_COMPONENTS}")
