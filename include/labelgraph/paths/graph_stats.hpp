#pragma once
/// \file
/// `compute_graph_stats`: the figures `labelgraph stats` prints (DESIGN.md
/// section 7), computed in time linear in the graph plus the ancestor sets of
/// the label nodes — never by enumerating paths.

#include <algorithm>
#include <cstdint>
#include <vector>

#include "labelgraph/graph/label_graph.hpp"
#include "labelgraph/paths/count.hpp"

namespace labelgraph {

/// Size and shape figures of a graph.
struct graph_stats {
  std::size_t nodes = 0, edges = 0, groups = 0, declared_groups = 0, datasets = 0;
  std::size_t labels = 0, augmented = 0;
  std::size_t max_depth = 0;       ///< edges on the longest root-to-node path
  std::size_t max_group_size = 0;
  std::uint64_t paths_total = 0;   ///< Σ over label nodes of |paths(v)|
  std::uint64_t paths_max = 0;     ///< max over label nodes of |paths(v)|
  bool paths_overflow = false;     ///< a path figure does not fit in 64 bits
  std::size_t nondeterministic_labels = 0;  ///< labels with a nondeterministic path
};

namespace detail {

/// True when some path of `target` is nondeterministic (Def. 3.3). The nodes
/// of all paths of v are exactly ancestors(v) ∪ {v}, so v has a
/// nondeterministic path iff one group has two members in that set.
class nondeterminism_finder {
public:
  explicit nondeterminism_finder(const label_graph& graph)
      : graph_(graph), node_stamp_(graph.node_count(), 0), group_stamp_(graph.group_count(), 0) {}

  [[nodiscard]] bool has_nondeterministic_path(node_id target) {
    ++search_;
    stack_.assign(1, target);
    node_stamp_[target] = search_;
    while (!stack_.empty()) {
      node_id node = stack_.back();
      stack_.pop_back();
      if (group_id g = graph_.group(node); g != no_group) {
        if (group_stamp_[g] == search_) return true;
        group_stamp_[g] = search_;
      }
      for (node_id parent : graph_.parents(node)) {
        if (node_stamp_[parent] != search_) {
          node_stamp_[parent] = search_;
          stack_.push_back(parent);
        }
      }
    }
    return false;
  }

private:
  const label_graph& graph_;
  std::vector<std::uint32_t> node_stamp_, group_stamp_;
  std::vector<node_id> stack_;
  std::uint32_t search_ = 0;
};

}  // namespace detail

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
  detail::nondeterminism_finder finder(graph);
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
    if (finder.has_nondeterministic_path(node)) ++stats.nondeterministic_labels;
  }
  return stats;
}

}  // namespace labelgraph
