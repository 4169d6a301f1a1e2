#pragma once
/// \file
/// `compute_graph_stats`: the figures `labelgraph stats` prints,
/// computed in time linear in the graph plus the ancestor sets of
/// the label nodes — never by enumerating paths.

#include <algorithm>
#include <cstdint>
#include <vector>

#include "labelgraph/graph/label_graph.hpp"
#include "labelgraph/paths/ancestors.hpp"
#include "labelgraph/paths/competing.hpp"
#include "labelgraph/paths/count.hpp"

namespace labelgraph {

/// Size and shape figures of a graph.
struct graph_stats {
  std::size_t nodes = 0;            ///< |V|
  std::size_t edges = 0;            ///< |E|
  std::size_t groups = 0;           ///< all competing groups
  std::size_t declared_groups = 0;  ///< groups declared in the file
  std::size_t datasets = 0;         ///< datasets declared
  std::size_t labels = 0;           ///< label nodes
  std::size_t augmented = 0;        ///< augmented nodes
  std::size_t max_depth = 0;       ///< edges on the longest root-to-node path
  std::size_t max_group_size = 0;  ///< members of the largest group
  std::uint64_t paths_total = 0;   ///< Σ over label nodes of |paths(v)|
  std::uint64_t paths_max = 0;     ///< max over label nodes of |paths(v)|
  bool paths_overflow = false;     ///< a path figure does not fit in 64 bits
  std::size_t nondeterministic_labels = 0;  ///< labels with a nondeterministic path
};


/// Computes every figure of `graph_stats` for a graph.
[[nodiscard]] inline graph_stats compute_graph_stats(const label_graph& graph) {
  graph_stats stats;
  stats.nodes = graph.node_count();
  stats.edges = graph.edge_count();
  stats.groups = graph.group_count();
  stats.datasets = graph.dataset_count();
  for (group_id g = 0; g < graph.group_count(); ++g) {
    stats.declared_groups += graph.group_declared(g) ? 1 : 0;
    stats.max_group_size = std::max(stats.max_group_size, graph.group_members(g).size());
  }
  std::vector<std::size_t> depth(graph.node_count(), 0);
  for (node_id node : graph.topological_order()) {
    for (node_id child : graph.children(node)) depth[child] = std::max(depth[child], depth[node] + 1);
    stats.max_depth = std::max(stats.max_depth, depth[node]);
  }
  path_counts counts = count_paths(graph);
  ancestor_walk walk(graph);               // reused: cost linear in each label's ancestors
  contested_group_finder contested(graph);  // per-group stamps: no sort per label
  for (node_id node = 0; node < graph.node_count(); ++node) {
    if (graph.kind(node) == node_kind::augmented) ++stats.augmented;
    if (!graph.is_label(node)) continue;
    ++stats.labels;
    if (counts.overflowed(node)) {
      stats.paths_overflow = true;
    } else {
      std::uint64_t n = counts.saturated(node);
      stats.paths_max = std::max(stats.paths_max, n);
      if (__builtin_add_overflow(stats.paths_total, n, &stats.paths_total)) stats.paths_overflow = true;
    }
    // Def. 3.3: some path of the label is nondeterministic iff a group is contested.
    if (!contested.find(walk, node).empty()) ++stats.nondeterministic_labels;
  }
  return stats;
}

}  // namespace labelgraph
