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
#include <span>
#include <vector>

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
