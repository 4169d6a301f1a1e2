// The re-targetable forms — `path_range::retarget`, `path_classifier(graph)` +
// `retarget`, `contested_group_finder` — on the pet graph and on a long chain:
// what an untargeted object does, error texts, copies, limits hit after a
// re-target, and buffers that grow and shrink between targets.

#include <catch2/catch.hpp>

#include <iterator>
#include <span>
#include <string>
#include <vector>

#include "labelgraph/graph/graph_builder.hpp"
#include "labelgraph/graph/json.hpp"
#include "labelgraph/paths.hpp"
#include "path_checks.hpp"

using namespace labelgraph;

namespace {

using path_checks::names;
using path_checks::pets_file;
using path_checks::pets;

std::vector<std::string> group_names(const label_graph& graph, std::span<const group_id> groups) {
  std::vector<std::string> result;
  for (group_id group : groups) result.emplace_back(graph.group_name(group));
  return result;
}

/// r -> c1 -> ... -> c60, plus a diamond at the bottom: c60 -> {x, y} -> z.
/// Sibling rule: x and y compete, so z has two nondeterministic paths.
label_graph chain_with_diamond() {
  graph_builder builder("chain.json");
  builder.add_dataset("d");
  builder.add_node("r", node_kind::root);
  std::string previous = "r";
  for (int i = 1; i <= 60; ++i) {
    const std::string name = "c" + std::to_string(i);
    builder.add_node(name, node_kind::label, {"d"});
    builder.add_edge(previous, name);
    previous = name;
  }
  for (const char* name : {"x", "y", "z"}) builder.add_node(name, node_kind::label, {"d"});
  builder.add_edge("c60", "x");
  builder.add_edge("c60", "y");
  builder.add_edge("x", "z");
  builder.add_edge("y", "z");
  return builder.build();
}

}  // namespace

TEST_CASE("re-target: an untargeted range and classifier do nothing until aimed") {
  const label_graph& graph = pets();
  path_range range(graph);
  CHECK(range.target() == no_node);
  CHECK(range.begin() == std::default_sentinel);
  CHECK_FALSE(range.next());
  CHECK(range.path().empty());
  CHECK(range.produced() == 0);

  path_classifier classifier(graph);
  CHECK(classifier.target() == no_node);
  CHECK(classifier.contested_groups().empty());
  CHECK_FALSE(classifier.has_nondeterministic_path());
}

TEST_CASE("re-target: one range and one classifier walk british-shorthair after other targets") {
  const label_graph& graph = pets();
  path_range range(graph);
  path_classifier classifier(graph);
  for (const char* other : {"maine-coon", "cat", "abyssinian", "animal"}) {
    range.retarget(graph.at(other));
    classifier.retarget(graph.at(other));
    for (std::span<const node_id> path : range) CHECK(path.back() == graph.at(other));
  }
  CHECK(classifier.contested_groups().empty());  // the root: one empty path

  const node_id british = graph.at("british-shorthair");
  range.retarget(british);
  classifier.retarget(british);
  CHECK(range.produced() == 0);
  CHECK(group_names(graph, classifier.contested_groups()) == std::vector<std::string>{"color"});
  std::vector<std::vector<std::string>> deterministic, nondeterministic;
  for (auto it = range.begin(); it != std::default_sentinel; ++it) {
    (classifier.deterministic(*it) ? deterministic : nondeterministic).push_back(names(graph, *it));
  }
  CHECK(deterministic == std::vector<std::vector<std::string>>{{"animal", "cat", "shorthair", "british-shorthair"}});
  CHECK(nondeterministic.size() == 3);
  CHECK(range.produced() == 4);

  // A copy classifies like the original and re-targets on its own workspaces.
  path_classifier copy = classifier;
  CHECK(copy.target() == british);
  CHECK(group_names(graph, copy.contested_groups()) == std::vector<std::string>{"color"});
  copy.retarget(graph.at("abyssinian"));
  CHECK(copy.contested_groups().empty());
  CHECK(classifier.target() == british);
  CHECK(classifier.has_nondeterministic_path());
  path_classifier one_off(graph, british);  // made for one target: re-targets too (workspaces on first use)
  one_off.retarget(graph.at("abyssinian"));
  CHECK_FALSE(one_off.has_nondeterministic_path());

  contested_group_finder finder(graph);
  ancestor_walk walk(graph);
  std::span<const group_id> found = finder.find(walk, british);
  CHECK(group_names(graph, found) == std::vector<std::string>{"color"});
  CHECK(finder.find(walk, graph.at("abyssinian")).empty());
}

TEST_CASE("re-target: bad targets and empty graphs are argument errors naming the caller") {
  const label_graph& graph = pets();
  path_range range(graph);
  CHECK_THROWS_WITH(range.retarget(node_id{999}),
                    std::string(pets_file) + ": enumerate_paths: node id 999 is outside the graph (34 nodes)");
  CHECK_THROWS_AS(range.retarget(no_node), argument_error);
  path_classifier classifier(graph);
  CHECK_THROWS_WITH(classifier.retarget(node_id{34}),
                    std::string(pets_file) + ": path_classifier::retarget: node id 34 is outside the graph (34 nodes)");
  ancestor_walk walk(graph);
  CHECK_THROWS_WITH(walk.path_nodes_unordered(node_id{40}),
                    std::string(pets_file) +
                        ": ancestor_walk::path_nodes_unordered: node id 40 is outside the graph (34 nodes)");

  const label_graph empty;
  CHECK_THROWS_WITH(path_range(empty), "enumerate_paths: the label graph is empty");
  CHECK_THROWS_WITH(path_classifier(empty), "path_classifier: the label graph is empty");
  CHECK_THROWS_WITH(contested_group_finder(empty), "contested_group_finder: the label graph is empty");
}

TEST_CASE("re-target: buffers grow and shrink between targets, and a limit error leaves the range usable") {
  const label_graph graph = chain_with_diamond();
  path_limits limits;
  limits.max_length = 30;
  path_range range(graph, limits);
  path_classifier classifier(graph);

  range.retarget(graph.at("c5"));
  REQUIRE(range.next());
  CHECK(names(graph, range.path()) == std::vector<std::string>{"r", "c1", "c2", "c3", "c4", "c5"});
  CHECK_FALSE(range.next());

  range.retarget(graph.at("c40"));  // 41 nodes > max_length
  CHECK_THROWS_WITH(range.next(), "chain.json: node 'c40' has a path longer than 30 nodes (path_limits::max_length)");
  range.retarget(graph.at("c29"));  // exactly 30 nodes: allowed, and the buffers grow past 16 levels
  REQUIRE(range.next());
  CHECK(range.path().size() == 30);
  CHECK(range.path().back() == graph.at("c29"));
  CHECK_FALSE(range.next());

  path_range unbounded(graph);
  const node_id z = graph.at("z");
  unbounded.retarget(z);
  classifier.retarget(z);
  std::vector<std::string> middles;
  for (std::span<const node_id> path : unbounded) {
    REQUIRE(path.size() == 63);  // r, c1..c60, x or y, z
    CHECK_FALSE(classifier.deterministic(path));
    middles.emplace_back(graph.name(path[61]));
  }
  CHECK(middles == std::vector<std::string>{"x", "y"});
  unbounded.retarget(graph.at("c1"));  // short again after a long target
  REQUIRE(unbounded.next());
  CHECK(names(graph, unbounded.path()) == std::vector<std::string>{"r", "c1"});
  classifier.retarget(graph.at("c60"));
  CHECK_FALSE(classifier.has_nondeterministic_path());
  CHECK(classifier.deterministic(unbounded.path()));  // c1's path is a prefix of c60's: same verdict
}
