#pragma once
// Helpers shared by the JSON reader/writer tests.

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <system_error>

#include "labelgraph/graph/json.hpp"

namespace labelgraph::test {

/// The text of the graph_error that reading `text` throws ("no error" if none).
inline std::string json_error(std::string_view text, std::string source = "test.json") {
  try {
    (void)read_graph_json_string(text, std::move(source));
  } catch (const graph_error& e) {
    return e.what();
  }
  return "no error";
}

/// The problems of the graph_error that reading `text` throws (empty if none).
inline std::vector<graph_problem> json_problems(std::string_view text) {
  try {
    (void)read_graph_json_string(text, "test.json");
  } catch (const graph_error& e) {
    return e.problems();
  }
  return {};
}

/// A fresh folder under the system temp folder, removed with its content.
class temporary_folder {
public:
  temporary_folder() {
    std::random_device seed;
    path_ = std::filesystem::temp_directory_path() / ("labelgraph-test-" + std::to_string(seed()) + std::to_string(seed()));
    std::filesystem::create_directories(path_);
  }
  ~temporary_folder() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  temporary_folder(const temporary_folder&) = delete;
  temporary_folder& operator=(const temporary_folder&) = delete;
  [[nodiscard]] const std::filesystem::path& path() const noexcept { return path_; }

private:
  std::filesystem::path path_;
};

/// Every observable part of two graphs is the same: names (by id), kinds,
/// datasets, children and parents (in order), topological order, groups
/// (names, declared flag, members in order).
inline void require_same_graph(const label_graph& a, const label_graph& b) {
  REQUIRE(a.node_count() == b.node_count());
  REQUIRE(a.edge_count() == b.edge_count());
  REQUIRE(a.group_count() == b.group_count());
  REQUIRE(a.dataset_count() == b.dataset_count());
  CHECK(a.root() == b.root());
  for (dataset_id d = 0; d < a.dataset_count(); ++d) CHECK(a.dataset_name(d) == b.dataset_name(d));
  for (node_id v = 0; v < a.node_count(); ++v) {
    INFO("node " << a.name(v));
    CHECK(a.name(v) == b.name(v));
    CHECK(a.kind(v) == b.kind(v));
    CHECK(std::ranges::equal(a.datasets(v), b.datasets(v)));
    CHECK(std::ranges::equal(a.children(v), b.children(v)));
    CHECK(std::ranges::equal(a.parents(v), b.parents(v)));
    CHECK(a.group(v) == b.group(v));
  }
  CHECK(std::ranges::equal(a.topological_order(), b.topological_order()));
  for (group_id g = 0; g < a.group_count(); ++g) {
    INFO("group " << a.group_name(g));
    CHECK(a.group_name(g) == b.group_name(g));
    CHECK(a.group_declared(g) == b.group_declared(g));
    CHECK(std::ranges::equal(a.group_members(g), b.group_members(g)));
  }
}

/// write_graph_json to a string.
inline std::string to_json(const label_graph& graph) {
  std::ostringstream out;
  write_graph_json(graph, out);
  return out.str();
}

}  // namespace labelgraph::test
