# One test of bench/smoke.cmake against tests/bench/fake_benchmark.sh:
#   cmake -DSMOKE=<smoke.cmake> -DFAKE=<fake_benchmark.sh> -DMODE=<mode> -DEXPECT=<regex> [-DPASSES=ON] -P check_smoke.cmake
# runs the smoke script on the fake binary in MODE and requires it to pass
# (PASSES) or to fail, with its messages (white space collapsed) matching
# EXPECT either way.
set(ENV{LABELGRAPH_FAKE_BENCH} "${MODE}")
execute_process(COMMAND "${CMAKE_COMMAND}" "-DBENCH=${FAKE}" -DFILTER=fake -P "${SMOKE}"
                RESULT_VARIABLE status OUTPUT_VARIABLE output ERROR_VARIABLE output)
if(PASSES AND NOT status EQUAL 0)
  message(FATAL_ERROR "smoke.cmake failed on '${MODE}' (exit ${status}), it should pass:\n${output}")
elseif(NOT PASSES AND status EQUAL 0)
  message(FATAL_ERROR "smoke.cmake passed on '${MODE}', it should fail:\n${output}")
endif()
string(REGEX REPLACE "[ \t\n]+" " " flat "${output}")  # CMake wraps long messages
if(NOT flat MATCHES "${EXPECT}")
  message(FATAL_ERROR "smoke.cmake on '${MODE}' did not say '${EXPECT}':\n${output}")
endif()
message("smoke.cmake on '${MODE}': ${output}")
