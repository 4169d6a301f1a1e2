#pragma once
// Helpers shared by the path tests: structural checks of one path and of one
// target-table entry, written against the graph and layout directly.

#include <catch2/catch.hpp>

#include <algorithm>
#include <span>
#include <string>
#include <vector>

#include "labelgraph/graph/json.hpp"
#include "labelgraph/graph/label_graph.hpp"
#include "labelgraph/paths/output_layout.hpp"

namespace path_checks {

/// The bundled pet graph of the paper's Figure 2 (error messages name this file).
inline const char* const pets_file = LABELGRAPH_SOURCE_DIR "/examples/graphs/pets.json";

/// The pet graph, read once per test program.
inline const labelgraph::label_graph& pets() {
  static const labelgraph::label_graph graph = labelgraph::read_graph_json(pets_file);
  return graph;
}

/// The names of `nodes`, in order.
inline std::vector<std::string> names(const labelgraph::label_graph& graph, std::span<const labelgraph::node_id> nodes) {
  std::vector<std::string> result;
  for (labelgraph::node_id node : nodes) result.emplace_back(graph.name(node));
  return result;
}

/// The path starts at the root, follows edges, ends at `target`, repeats no node.
inline void require_root_to_target_path(const labelgraph::label_graph& graph, std::span<const labelgraph::node_id> path,
                                        labelgraph::node_id target) {
  REQUIRE(!path.empty());
  REQUIRE(path.front() == graph.root());
  REQUIRE(path.back() == target);
  for (std::size_t i = 1; i < path.size(); ++i) {
    auto children = graph.children(path[i - 1]);
    REQUIRE(std::find(children.begin(), children.end(), path[i]) != children.end());
  }
  std::vector<labelgraph::node_id> sorted(path.begin(), path.end());
  std::sort(sorted.begin(), sorted.end());
  REQUIRE(std::adjacent_find(sorted.begin(), sorted.end()) == sorted.end());
}

/// `tokens` is `path` without the root, as tokens, then EOP, and every token is
/// a legal move C(u) from the node before it (the root first).
inline void require_token_sequence_of(const labelgraph::label_graph& graph, const labelgraph::output_layout& layout,
                                      std::span<const labelgraph::token_id> tokens,
                                      std::span<const labelgraph::node_id> path) {
  REQUIRE(tokens.size() == path.size());
  REQUIRE(tokens.back() == layout.eop());
  labelgraph::node_id current = graph.root();
  for (std::size_t i = 0; i < tokens.size(); ++i) {
    auto candidates = layout.candidates(current);
    REQUIRE(std::binary_search(candidates.begin(), candidates.end(), tokens[i]));
    if (i + 1 < tokens.size()) {
      REQUIRE(layout.node(tokens[i]) == path[i + 1]);
      current = path[i + 1];
    }
  }
}

}  // namespace path_checks
