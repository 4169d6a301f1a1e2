# Checks the documentation's links (cmake -P):
#   - every relative Markdown link `[text](target)` in README.md and docs/*.md
#     names a file or folder that exists (anchors `#...` are stripped; links
#     with a scheme such as https: and pure anchors are not checked);
#   - docs/index.md links to every other page of docs/, so a new page cannot
#     be left out of the index.
# Every problem is listed, then the test fails.
#   SOURCE_DIR the project's source folder
cmake_minimum_required(VERSION 3.25)

file(GLOB pages "${SOURCE_DIR}/docs/*.md")
set(problems "")
foreach(page IN LISTS pages ITEMS "${SOURCE_DIR}/README.md")
  file(READ "${page}" text)
  # Fenced code blocks hold C++ and shell, not links.
  string(REGEX REPLACE "```[^`]*```" "" text "${text}")
  # CMake lists: brackets group items and semicolons separate them, so mark
  # each link start, then drop both before matching.
  string(REPLACE "](" "@LINK@(" text "${text}")
  string(REGEX REPLACE "[][;]" " " text "${text}")
  get_filename_component(folder "${page}" DIRECTORY)
  file(RELATIVE_PATH page_name "${SOURCE_DIR}" "${page}")
  string(REGEX MATCHALL "@LINK@\\([^)]*\\)" links "${text}")
  foreach(link IN LISTS links)
    string(REGEX REPLACE "^@LINK@\\(([^) ]*)[^)]*\\)$" "\\1" target "${link}")
    string(REGEX REPLACE "#.*$" "" target "${target}")
    if(target STREQUAL "" OR target MATCHES "^[a-z]+:")
      continue()
    endif()
    if(NOT EXISTS "${folder}/${target}")
      list(APPEND problems "${page_name}: the link to '${target}' leads nowhere")
    endif()
  endforeach()
endforeach()

set(index "${SOURCE_DIR}/docs/index.md")
if(NOT EXISTS "${index}")
  list(APPEND problems "docs/index.md is missing")
else()
  file(READ "${index}" index_text)
  foreach(page IN LISTS pages)
    get_filename_component(name "${page}" NAME)
    if(name STREQUAL "index.md")
      continue()
    endif()
    string(FIND "${index_text}" "](${name}" at)
    if(at EQUAL -1)
      list(APPEND problems "docs/index.md does not link to docs/${name}")
    endif()
  endforeach()
endif()

list(LENGTH pages page_count)
if(problems)
  list(JOIN problems "\n" listed)
  message(FATAL_ERROR "docs.links:\n${listed}")
endif()
message(STATUS "docs.links: ${page_count} pages of docs/ and README.md, every link resolves")
