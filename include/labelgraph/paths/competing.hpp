#pragma once
/// \file
/// The competing relation (Def. 3.1) beyond `label_graph::competes`: the
/// competitors of a node, and the groups that compete *for a target*.
///
/// A group g is **contested** for a target v when at least two of its members
/// lie in U(v) = ancestors(v) ∪ {v} (see ancestors.hpp), i.e. when two
/// alternatives of g both occur on paths of v. Contested groups are what make
/// paths nondeterministic (classify.hpp).

#include <algorithm>
#include <cstdint>
#include <span>
#include <utility>
#include <vector>

#include "labelgraph/error.hpp"
#include "labelgraph/graph/label_graph.hpp"
#include "labelgraph/paths/ancestors.hpp"
#include "labelgraph/paths/detail/arguments.hpp"

namespace labelgraph {

/// The nodes competing with `node` (Def. 3.1: the other members of its
/// group), in group order; empty for the root and for singleton groups.
[[nodiscard]] inline std::vector<node_id> competitors(const label_graph& graph, node_id node) {
  detail::check_node(graph, node, "competitors");
  std::vector<node_id> result;
  group_id group = graph.group(node);
  if (group == no_group) return result;
  for (node_id member : graph.group_members(group)) {
    if (member != node) result.push_back(member);
  }
  return result;
}

namespace detail {
/// The groups having at least two members among `nodes` (a set: no repeats), ascending.
[[nodiscard]] inline std::vector<group_id> groups_met_twice(const label_graph& graph, std::span<const node_id> nodes) {
  std::vector<group_id> groups;
  for (node_id node : nodes) {
    if (group_id group = graph.group(node); group != no_group) groups.push_back(group);
  }
  std::sort(groups.begin(), groups.end());
  std::vector<group_id> repeated;
  for (std::size_t i = 1; i < groups.size(); ++i) {
    if (groups[i] == groups[i - 1] && (repeated.empty() || repeated.back() != groups[i])) repeated.push_back(groups[i]);
  }
  return repeated;
}
}  // namespace detail

/// Reusable workspace that finds the groups met at least twice in a node set
/// with one stamp per group instead of a sort: O(|groups|) memory once, then
/// O(|nodes|) per call and no allocation once warm. For many targets of one
/// graph (statistics, classification of every label); not thread-safe, use one
/// per thread.
class contested_group_finder {
public:
  /// A finder for the groups of `graph` (shared, not copied).
  /// Throws `argument_error` when it is empty.
  explicit contested_group_finder(label_graph graph) : graph_(std::move(graph)) {
    if (graph_.empty()) LABELGRAPH_THROW(argument_error("contested_group_finder: the label graph is empty"));
    stamp_.assign(graph_.group_count(), 0);
  }

  /// The groups having at least two members among `nodes` (a set: no
  /// repeats), ascending. Valid until the next call.
  [[nodiscard]] std::span<const group_id> find(std::span<const node_id> nodes) {
    next_search();
    contested_.clear();
    // stamp_[g] == met_once: one member of g seen so far; == met_twice: g already reported.
    const std::uint32_t met_once = 2 * search_;
    const std::uint32_t met_twice = met_once + 1;
    for (node_id node : nodes) {
      const group_id group = graph_.group(node);
      if (group == no_group) continue;
      std::uint32_t& stamp = stamp_[group];
      if (stamp == met_once) {
        stamp = met_twice;
        contested_.push_back(group);
      } else if (stamp != met_twice) {
        stamp = met_once;
      }
    }
    std::sort(contested_.begin(), contested_.end());  // a handful at most; keeps the documented order
    return contested_;
  }

  /// The groups with at least two members in U(target), ascending. Uses (and
  /// overwrites) the walk's last search; the walk must be over the same graph.
  [[nodiscard]] std::span<const group_id> find(ancestor_walk& walk, node_id target) {
    return find(walk.path_nodes_unordered(target));
  }

  /// The graph whose groups are counted.
  [[nodiscard]] const label_graph& graph() const noexcept { return graph_; }

private:
  void next_search() {
    if (++search_ == std::uint32_t{1} << 31) {  // 2^31 searches: 2 * search_ would wrap, start afresh
      std::fill(stamp_.begin(), stamp_.end(), 0);
      search_ = 1;
    }
  }

  label_graph graph_;
  std::vector<std::uint32_t> stamp_;  // per group: 2 * search_ (met once) or 2 * search_ + 1 (contested)
  std::vector<group_id> contested_;
  std::uint32_t search_ = 0;
};

/// The groups with at least two members in U(target), ascending. Uses (and
/// overwrites) the walk's last search.
[[nodiscard]] inline std::vector<group_id> contested_groups(ancestor_walk& walk, node_id target) {
  return detail::groups_met_twice(walk.graph(), walk.path_nodes(target));
}

/// The groups with at least two members in U(target), ascending (one-off
/// form; allocates O(|V|)).
[[nodiscard]] inline std::vector<group_id> contested_groups(const label_graph& graph, node_id target) {
  ancestor_walk walk(graph);
  return contested_groups(walk, target);
}

}  // namespace labelgraph
