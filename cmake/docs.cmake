# The `docs` target: the API reference and the pages of docs/ rendered by
# Doxygen into <build>/docs/html. Doxygen warnings (an undocumented public
# declaration, a broken doc comment) fail the target. Not part of `all`:
#
#   cmake --build build/dev --target docs
#
# Included at the end of the top-level CMakeLists.txt, and earlier by
# tests/docs (whose ctest `docs.doxygen` runs the same Doxyfile): whichever
# comes first defines everything. It leaves behind, for that test,
#   LABELGRAPH_DOCS_DOXYFILE     the configured Doxyfile (unset: no docs here)
#   LABELGRAPH_DOCS_UNAVAILABLE  why there are no docs (option off, no Doxygen)
include_guard(GLOBAL)

option(LABELGRAPH_BUILD_DOCS "Add the `docs` target (Doxygen; not built by default)" ${PROJECT_IS_TOP_LEVEL})
if(NOT LABELGRAPH_BUILD_DOCS)
  set(LABELGRAPH_DOCS_UNAVAILABLE "LABELGRAPH_BUILD_DOCS is OFF")
  return()
endif()

find_package(Doxygen 1.9 QUIET)
if(NOT TARGET Doxygen::doxygen)
  set(LABELGRAPH_DOCS_UNAVAILABLE "Doxygen 1.9 or newer not found (Debian: doxygen)")
  message(STATUS "labelgraph: ${LABELGRAPH_DOCS_UNAVAILABLE}, no `docs` target")
  return()
endif()

# Headers of the core and of every backend folder (whether or not its
# dependencies were found here: the documentation covers all of them), the
# pages of docs/, the examples' README pages (docs/index.md links to them, and
# Doxygen resolves a link to a .md file only if that file is one of its pages)
# and the README as the main page.
file(GLOB _labelgraph_backend_include_dirs LIST_DIRECTORIES true "${PROJECT_SOURCE_DIR}/backends/*/include")
file(GLOB _labelgraph_example_pages "${PROJECT_SOURCE_DIR}/examples/*/README.md")
set(_labelgraph_include_roots "${PROJECT_SOURCE_DIR}/include" ${_labelgraph_backend_include_dirs})
set(_labelgraph_docs_input ${_labelgraph_include_roots} "${PROJECT_SOURCE_DIR}/docs" ${_labelgraph_example_pages}
                           "${PROJECT_SOURCE_DIR}/README.md")
# Doxyfile lists: quoted, blank-separated.
list(TRANSFORM _labelgraph_docs_input PREPEND "\"")
list(TRANSFORM _labelgraph_docs_input APPEND "\"")
list(JOIN _labelgraph_docs_input " " LABELGRAPH_DOCS_INPUT)
list(TRANSFORM _labelgraph_include_roots PREPEND "\"")
list(TRANSFORM _labelgraph_include_roots APPEND "\"")
list(JOIN _labelgraph_include_roots " " LABELGRAPH_DOCS_INCLUDE_ROOTS)
set(LABELGRAPH_DOCS_OUTPUT_DIRECTORY "${PROJECT_BINARY_DIR}/docs")
set(LABELGRAPH_DOCS_DOXYFILE "${PROJECT_BINARY_DIR}/docs/Doxyfile")

configure_file("${PROJECT_SOURCE_DIR}/docs/Doxyfile.in" "${LABELGRAPH_DOCS_DOXYFILE}" @ONLY)
add_custom_target(docs
  COMMAND Doxygen::doxygen "${LABELGRAPH_DOCS_DOXYFILE}"
  WORKING_DIRECTORY "${PROJECT_SOURCE_DIR}"
  COMMENT "Doxygen: ${LABELGRAPH_DOCS_OUTPUT_DIRECTORY}/html (warnings are errors)"
  VERBATIM)

unset(_labelgraph_backend_include_dirs)
unset(_labelgraph_example_pages)
unset(_labelgraph_include_roots)
unset(_labelgraph_docs_input)
