# One smoke run of a benchmark binary (ctest, label `bench`):
#   cmake -DBENCH=<binary> -DFILTER=<regex> [-DNEEDS=<file>] -P smoke.cmake
# runs the benchmarks FILTER matches for one short iteration each, with JSON
# output, and fails when the binary exits non-zero, when FILTER matches no
# benchmark, or when a benchmark reports an error. Prints "SKIPPED: ..." (a
# skipped test) when the data file NEEDS is not installed.
if(DEFINED NEEDS AND NOT EXISTS "${NEEDS}")
  message("SKIPPED: ${NEEDS} is not installed")
  return()
endif()
execute_process(
  COMMAND "${BENCH}" "--benchmark_filter=${FILTER}" --benchmark_min_time=0.001 --benchmark_format=json
  RESULT_VARIABLE status OUTPUT_VARIABLE report ERROR_VARIABLE errors)
if(NOT status EQUAL 0)
  message(FATAL_ERROR "${BENCH} exited with ${status}:\n${errors}")
endif()
string(JSON count ERROR_VARIABLE json_error LENGTH "${report}" benchmarks)
if(json_error)
  message(FATAL_ERROR "${BENCH}: no JSON report (${json_error}):\n${report}\n${errors}")
endif()
if(count EQUAL 0)
  message(FATAL_ERROR "${BENCH}: the filter '${FILTER}' matches no benchmark")
endif()
math(EXPR last "${count} - 1")
foreach(i RANGE ${last})
  string(JSON name GET "${report}" benchmarks ${i} name)
  string(JSON failed ERROR_VARIABLE no_error_field GET "${report}" benchmarks ${i} error_occurred)
  if(NOT no_error_field AND failed)
    string(JSON why GET "${report}" benchmarks ${i} error_message)
    message(FATAL_ERROR "${BENCH}: ${name} reported an error: ${why}")
  endif()
  message("ran ${name}")
endforeach()
