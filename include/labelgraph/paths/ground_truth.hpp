#pragma once
/// \file
/// The ground-truth set S(y) of a sample labelled y (docs/model.md, "Ground-truth set"):
/// the label nodes lying on at least one path of y, y included. It is what the
/// reward r(P) = |P ∩ S| / |S| (Eq. 3) measures a sampled path against.
///
/// Since the nodes of all paths of y are exactly U(y) = ancestors(y) ∪ {y}
/// (ancestors.hpp), S(y) = { u ∈ U(y) : u is a label node }, found in
/// O(|U(y)| log |U(y)|) without enumerating paths.

#include <algorithm>
#include <string>
#include <vector>

#include "labelgraph/error.hpp"
#include "labelgraph/graph/label_graph.hpp"
#include "labelgraph/paths/ancestors.hpp"
#include "labelgraph/paths/detail/arguments.hpp"

namespace labelgraph {

/// S(label), ascending, reusing a workspace. Throws `argument_error` when
/// `label` is not a label node.
[[nodiscard]] inline std::vector<node_id> ground_truth_set(ancestor_walk& walk, node_id label) {
  const label_graph& graph = walk.graph();
  detail::check_node(graph, label, "ground_truth_set");
  if (!graph.is_label(label)) {
    LABELGRAPH_THROW(argument_error(detail::source_prefix(graph) + "ground_truth_set: " +
                                    detail::node_phrase(graph, label) + " is not a label node (kind: " +
                                    std::string(to_string(graph.kind(label))) + "); S(y) is defined for label nodes"));
  }
  std::vector<node_id> labels;
  for (node_id node : walk.path_nodes(label)) {
    if (graph.is_label(node)) labels.push_back(node);
  }
  std::sort(labels.begin(), labels.end());
  return labels;
}

/// S(label), ascending (one-off form; allocates O(|V|)).
[[nodiscard]] inline std::vector<node_id> ground_truth_set(const label_graph& graph, node_id label) {
  detail::check_node(graph, label, "ground_truth_set");
  ancestor_walk walk(graph);
  return ground_truth_set(walk, label);
}

}  // namespace labelgraph
