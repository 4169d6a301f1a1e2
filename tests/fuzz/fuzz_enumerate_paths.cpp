// Fuzz harness: path enumeration with random bounds (max_paths, max_length)
// on random DAGs, deep chains included. It must produce exactly the counted
// number of distinct, valid root-to-target paths, or throw limit_error when —
// and only when — a bound is broken; a target outside the graph is an
// argument_error.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <set>
#include <vector>

#include "fuzz_support.hpp"
#include "labelgraph/paths/count.hpp"
#include "labelgraph/paths/enumerate.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace labelgraph;
  fuzz::byte_reader in(data, size);
  const fuzz::random_dag dag = fuzz::random_dag::draw(in, 200);
  label_graph graph;
  try {
    graph = dag.build();
  } catch (const graph_error&) {
    return 0;
  }
  path_limits limits;
  limits.max_paths = 1 + in.below(300);
  limits.max_length = 1 + in.below(210);
  const auto target = static_cast<node_id>(in.below(static_cast<std::uint32_t>(graph.node_count() + 2)));
  if (target >= graph.node_count()) {
    bool refused = false;
    try {
      (void)enumerate_paths(graph, target, limits);
    } catch (const argument_error&) {
      refused = true;
    }
    fuzz::require(refused, "a target outside the graph is an argument_error");
    return 0;
  }
  const path_counts counts = count_paths(graph);
  const std::uint64_t expected = counts.saturated(target);
  // Nodes on the longest root-to-v path, by dynamic programming over the topological order.
  std::vector<std::size_t> deepest(graph.node_count(), 1);
  for (node_id v : graph.topological_order()) {
    for (node_id parent : graph.parents(v)) deepest[v] = std::max(deepest[v], deepest[parent] + 1);
  }
  std::uint64_t produced = 0;
  std::size_t longest = 0;
  std::set<std::vector<node_id>> distinct;
  bool limited = false;
  try {
    for (std::span<const node_id> path : enumerate_paths(graph, target, limits)) {
      fuzz::require(!path.empty() && path.front() == graph.root() && path.back() == target,
                    "a path runs from the root to the target");
      fuzz::require(path.size() <= limits.max_length, "no path is longer than max_length");
      for (std::size_t i = 0; i + 1 < path.size(); ++i) {
        const auto children = graph.children(path[i]);
        fuzz::require(std::find(children.begin(), children.end(), path[i + 1]) != children.end(),
                      "consecutive path nodes are joined by an edge");
      }
      fuzz::require(distinct.emplace(path.begin(), path.end()).second, "paths are distinct");
      longest = std::max(longest, path.size());
      ++produced;
    }
  } catch (const limit_error&) {
    limited = true;
  }
  if (limited) {
    // Refused: either there are more paths than max_paths, or some path is longer than max_length.
    fuzz::require(expected > limits.max_paths || deepest[target] > limits.max_length,
                  "limit_error only when a bound is broken");
  } else {
    fuzz::require(produced == expected, "every counted path is produced");
    fuzz::require(expected <= limits.max_paths, "more than max_paths paths are refused");
    fuzz::require(deepest[target] <= limits.max_length, "a path longer than max_length is refused");
    fuzz::require(longest == deepest[target], "the longest path is produced");
  }
  return 0;
}
