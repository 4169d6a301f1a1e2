#pragma once
/// \file
/// `ancestor_walk`: the nodes lying on the root-to-v paths, U(v), found
/// without enumerating any path.
///
///     U(v) = ⋃_{P ∈ paths(v)} P = ancestors(v) ∪ {v}
///
/// "⊆": every node of a root-to-v path is v or has a path to v. "⊇": an
/// ancestor a is reachable from the root (validated by `build()`), so a path
/// root→a followed by a path a→v is a root-to-v path (simple, the graph being
/// acyclic) through a.
///
/// The walk is an iterative post-order search over parent edges: cost
/// O(|U(v)| + edges inside U(v)), independent of the number of paths, and its
/// output lists every node after all of its parents, i.e. a topological order
/// of U(v) ready for dynamic programming restricted to v's ancestors.

#include <algorithm>
#include <cstdint>
#include <span>
#include <utility>
#include <vector>

#include "labelgraph/graph/label_graph.hpp"
#include "labelgraph/paths/detail/arguments.hpp"

namespace labelgraph {

/// Reusable workspace for ancestor searches on one graph: O(|V|) memory once,
/// then each `path_nodes(v)` costs only O(|U(v)| + its edges). Reuse one walk
/// for many targets (statistics over every label of WordNet); not thread-safe,
/// use one per thread.
class ancestor_walk {
public:
  /// A walk over `graph` (shared, not copied); throws argument_error when it is empty.
  explicit ancestor_walk(label_graph graph) : graph_(std::move(graph)) {
    if (graph_.empty()) LABELGRAPH_THROW(argument_error("ancestor_walk: the label graph is empty"));
    stamp_.assign(graph_.node_count(), 0);
    position_.assign(graph_.node_count(), 0);
  }

  /// U(v) = ancestors(v) ∪ {v}, every node after all of its parents (the
  /// root first, v last). Valid until the next call.
  [[nodiscard]] std::span<const node_id> path_nodes(node_id target) {
    detail::check_node(graph_, target, "ancestor_walk::path_nodes");
    next_search();
    order_.clear();
    stack_.clear();
    stack_.push_back({target, 0});
    stamp_[target] = search_;
    while (!stack_.empty()) {
      auto& [node, next_parent] = stack_.back();
      auto parents = graph_.parents(node);
      if (next_parent < parents.size()) {
        node_id parent = parents[next_parent++];
        if (stamp_[parent] != search_) {
          stamp_[parent] = search_;
          stack_.push_back({parent, 0});  // invalidates node/next_parent; not used below
        }
        continue;
      }
      position_[node] = static_cast<std::uint32_t>(order_.size());
      order_.push_back(node);
      stack_.pop_back();
    }
    return order_;
  }

  /// U(v) = ancestors(v) ∪ {v} in breadth-first discovery order (v first), for
  /// callers that need the set but not a topological order: a plain
  /// breadth-first search over parent edges, with the result doubling as the
  /// queue, so about half the bookkeeping of `path_nodes`. Valid until the
  /// next call; `contains` answers for it, `position` does not.
  [[nodiscard]] std::span<const node_id> path_nodes_unordered(node_id target) {
    detail::check_node(graph_, target, "ancestor_walk::path_nodes_unordered");
    next_search();
    order_.clear();
    order_.push_back(target);
    stamp_[target] = search_;
    for (std::size_t next = 0; next < order_.size(); ++next) {
      for (node_id parent : graph_.parents(order_[next])) {
        if (stamp_[parent] != search_) {
          stamp_[parent] = search_;
          order_.push_back(parent);
        }
      }
    }
    return order_;
  }

  /// True when `node` is in the U(v) of the last `path_nodes(v)` or `path_nodes_unordered(v)` call.
  [[nodiscard]] bool contains(node_id node) const noexcept { return stamp_[node] == search_ && search_ != 0; }
  /// Index of `node` in the last `path_nodes` result; only if `contains(node)`.
  [[nodiscard]] std::uint32_t position(node_id node) const noexcept { return position_[node]; }
  /// The graph searched.
  [[nodiscard]] const label_graph& graph() const noexcept { return graph_; }

private:
  void next_search() {
    if (++search_ == 0) {  // 2^32 searches: start the stamps afresh
      std::fill(stamp_.begin(), stamp_.end(), 0);
      search_ = 1;
    }
  }

  label_graph graph_;
  std::vector<std::uint32_t> stamp_;     // == search_: visited in the current search
  std::vector<std::uint32_t> position_;  // index in order_, valid where stamped
  std::vector<node_id> order_;
  std::vector<std::pair<node_id, std::size_t>> stack_;  // (node, next parent to visit)
  std::uint32_t search_ = 0;
};

/// U(v) = ancestors(v) ∪ {v}: the nodes on at least one root-to-v path, in
/// ascending id order. Allocates O(|V|); use an `ancestor_walk` for many targets.
[[nodiscard]] inline std::vector<node_id> path_nodes(const label_graph& graph, node_id target) {
  ancestor_walk walk(graph);
  auto found = walk.path_nodes(target);
  std::vector<node_id> nodes(found.begin(), found.end());
  std::sort(nodes.begin(), nodes.end());
  return nodes;
}

}  // namespace labelgraph
