#pragma once
/// \file
/// Shared fixtures of the loss tests: the pet graph with its layout and
/// target table, and a few label lookups.

#include <string>
#include <vector>

#include "labelgraph/paths/target_table.hpp"
#include "test_support.hpp"

namespace labelgraph::testing {

/// The pet graph, its output layout and its target table.
struct pet_fixture {
  label_graph graph = pet_graph();
  output_layout layout = make_output_layout(graph);
  target_table table = make_target_table(graph, layout);

  /// The node called `name`.
  [[nodiscard]] node_id node(const std::string& name) const { return graph.at(name); }
  /// The token of the node called `name`.
  [[nodiscard]] token_id token(const std::string& name) const { return layout.token(graph.at(name)); }
  /// Node ids of `names`.
  [[nodiscard]] std::vector<node_id> nodes(const std::vector<std::string>& names) const {
    std::vector<node_id> ids;
    for (const auto& name : names) ids.push_back(node(name));
    return ids;
  }
};

}  // namespace labelgraph::testing
