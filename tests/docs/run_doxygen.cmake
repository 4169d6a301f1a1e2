# Runs Doxygen on the `docs` target's Doxyfile (cmake -P) and fails on any
# warning. The Doxyfile already says WARN_AS_ERROR = FAIL_ON_WARNINGS (a
# non-zero exit status after every warning is printed); the output is checked
# as well, so that a Doxyfile edit that loses that setting cannot turn the
# test green.
#   DOXYGEN    the doxygen executable
#   DOXYFILE   the configured Doxyfile (<build>/docs/Doxyfile)
#   SOURCE_DIR the project's source folder (Doxygen runs there, as the target does)
cmake_minimum_required(VERSION 3.25)

execute_process(COMMAND "${DOXYGEN}" "${DOXYFILE}"
                WORKING_DIRECTORY "${SOURCE_DIR}"
                RESULT_VARIABLE result
                OUTPUT_VARIABLE output
                ERROR_VARIABLE output)
string(REGEX MATCHALL "[^\n]*(warning|error): [^\n]*" problems "${output}")
list(LENGTH problems count)
if(NOT result EQUAL 0 OR count GREATER 0)
  list(JOIN problems "\n" listed)
  message(FATAL_ERROR "docs.doxygen: Doxygen exited with ${result} and ${count} warning(s):\n${listed}\n"
                      "---- full output ----\n${output}")
endif()
file(STRINGS "${DOXYFILE}" output_line REGEX "^OUTPUT_DIRECTORY")
string(REGEX REPLACE "^OUTPUT_DIRECTORY *= *\"?([^\"]*)\"?$" "\\1" html "${output_line}")
if(NOT EXISTS "${html}/html/index.html")
  message(FATAL_ERROR "docs.doxygen: Doxygen passed but wrote no ${html}/html/index.html")
endif()
message(STATUS "docs.doxygen: no warnings; ${html}/html/index.html")
