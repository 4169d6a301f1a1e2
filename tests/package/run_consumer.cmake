# Configures, builds and runs one consumer project of tests/package (cmake -P).
# The test's generated script sets these, then includes this file:
#
#   LG_NAME                    test name, for messages
#   LG_SOURCE_DIR              the consumer project
#   LG_BINARY_DIR              its build folder (removed first: every run starts fresh)
#   LG_GENERATOR, LG_CXX_COMPILER
#   LG_CONFIGURE_ARGS          list of configure arguments
#   LG_ENVIRONMENT             list of NAME=VALUE for the configure step (cmake -E env)
#   LG_EXPECT_CONFIGURE_ERROR  regex: the configure step must FAIL with output matching it
#   LG_EXPECT_CONFIGURE_OUTPUT regex: the configure step's output must match it
#   LG_EXPECT_PACKAGE_DIR      labelgraph_DIR in the consumer's cache must be this folder
#   LG_RUN                     program (relative to LG_BINARY_DIR) to run after the build
#   LG_RUN_ARGS                its arguments
#   LG_EXPECT_RUN_OUTPUT       regex its output must match
#   LG_SKIP                    if set: print why and stop (the test's SKIP_REGULAR_EXPRESSION)

cmake_minimum_required(VERSION 3.25)

if(LG_SKIP)
  message("labelgraph-package-test: SKIPPED: ${LG_SKIP}")
  return()
endif()

function(lg_fail what output)
  message(FATAL_ERROR "${LG_NAME}: ${what}\n---- output ----\n${output}")
endfunction()

file(REMOVE_RECURSE "${LG_BINARY_DIR}")
set(compiler "")
if(LG_CXX_COMPILER)
  set(compiler "-DCMAKE_CXX_COMPILER=${LG_CXX_COMPILER}")
endif()
execute_process(
  COMMAND "${CMAKE_COMMAND}" -E env ${LG_ENVIRONMENT}
          "${CMAKE_COMMAND}" -S "${LG_SOURCE_DIR}" -B "${LG_BINARY_DIR}" -G "${LG_GENERATOR}" ${compiler}
          ${LG_CONFIGURE_ARGS}
  RESULT_VARIABLE result
  OUTPUT_VARIABLE output
  ERROR_VARIABLE output)

if(DEFINED LG_EXPECT_CONFIGURE_ERROR)
  if(result EQUAL 0)
    lg_fail("the configure step succeeded, but it must fail with /${LG_EXPECT_CONFIGURE_ERROR}/" "${output}")
  endif()
  # CMake wraps long messages and puts two blanks after a full stop: compare
  # with every run of blanks and line breaks made one blank.
  string(REGEX REPLACE "[ \n]+" " " flat "${output}")
  if(NOT flat MATCHES "${LG_EXPECT_CONFIGURE_ERROR}")
    lg_fail("the configure step failed, but without /${LG_EXPECT_CONFIGURE_ERROR}/" "${output}")
  endif()
  message(STATUS "${LG_NAME}: the configure step failed as expected:\n${output}")
  return()
endif()

if(NOT result EQUAL 0)
  lg_fail("the configure step failed (${result})" "${output}")
endif()
if(DEFINED LG_EXPECT_CONFIGURE_OUTPUT AND NOT output MATCHES "${LG_EXPECT_CONFIGURE_OUTPUT}")
  lg_fail("the configure output does not match /${LG_EXPECT_CONFIGURE_OUTPUT}/" "${output}")
endif()
if(DEFINED LG_EXPECT_PACKAGE_DIR)
  load_cache("${LG_BINARY_DIR}" READ_WITH_PREFIX consumer_ labelgraph_DIR)
  file(REAL_PATH "${consumer_labelgraph_DIR}" found)
  file(REAL_PATH "${LG_EXPECT_PACKAGE_DIR}" expected)
  if(NOT found STREQUAL expected)
    lg_fail("labelgraph was found in '${found}', not in '${expected}'" "${output}")
  endif()
endif()

execute_process(COMMAND "${CMAKE_COMMAND}" --build "${LG_BINARY_DIR}"
                RESULT_VARIABLE result OUTPUT_VARIABLE build_output ERROR_VARIABLE build_output)
if(NOT result EQUAL 0)
  lg_fail("the build failed (${result})" "${output}\n${build_output}")
endif()

if(LG_RUN)
  execute_process(COMMAND "${LG_BINARY_DIR}/${LG_RUN}" ${LG_RUN_ARGS}
                  RESULT_VARIABLE result OUTPUT_VARIABLE run_output ERROR_VARIABLE run_output)
  if(NOT result EQUAL 0)
    lg_fail("${LG_RUN} failed (${result})" "${run_output}")
  endif()
  if(DEFINED LG_EXPECT_RUN_OUTPUT AND NOT run_output MATCHES "${LG_EXPECT_RUN_OUTPUT}")
    lg_fail("the output of ${LG_RUN} does not match /${LG_EXPECT_RUN_OUTPUT}/" "${run_output}")
  endif()
  message(STATUS "${LG_NAME}: ${run_output}")
endif()
message(STATUS "${LG_NAME}: passed")
