#pragma once
/// \file
/// Deterministic and nondeterministic paths (Def. 3.2 / 3.3 of the paper).
///
/// **Definition.** A path P ∈ paths(v) is *nondeterministic* iff another path
/// P' ∈ paths(v) contains a node w that competes (Def. 3.1) with a node u of
/// P; otherwise P is *deterministic*.
///
/// **Efficient form.** Let U(v) = ⋃_{P ∈ paths(v)} P = ancestors(v) ∪ {v}
/// (proved in ancestors.hpp) and call a group g *contested* for v when
/// |g ∩ U(v)| ≥ 2. Then
///
///     P is nondeterministic  ⇔  P contains a node of a contested group.
///
/// Proof. (⇒) If w ∈ P' competes with u ∈ P, then u ≠ w are in one group g and
/// both lie in U(v), so g is contested and u ∈ P is in it. (⇐) Let u ∈ P be in
/// a contested group g; pick w ∈ g ∩ U(v), w ≠ u. By the definition of U(v)
/// some P' ∈ paths(v) contains w, and w competes with u. P' ≠ P: two nodes of
/// one path are ancestor and descendant of each other, and `build()` rejects a
/// node grouped with its ancestor, so u and w are not both on P. ∎
///
/// So classifying needs U(v) and its group counts once per target —
/// O(|U(v)| log |U(v)|) — and then O(|P| log k) per path (k contested groups),
/// never pairs of paths. The same observation gives the number of
/// deterministic paths by dynamic programming over U(v) alone: they are the
/// root-to-v paths that avoid every node of a contested group.

#include <algorithm>
#include <cstdint>
#include <span>
#include <vector>

#include "labelgraph/graph/label_graph.hpp"
#include "labelgraph/paths/ancestors.hpp"
#include "labelgraph/paths/competing.hpp"
#include "labelgraph/paths/count.hpp"
#include "labelgraph/paths/enumerate.hpp"

namespace labelgraph {

/// One path of a target, root..target, with its Def. 3.3 class.
struct classified_path {
  std::vector<node_id> nodes;  ///< root..target
  bool deterministic = false;  ///< Def. 3.3 class
};

/// Classifies paths of one target, one at a time, without storing them: build
/// it once per target, then ask `deterministic(path)` for each path while
/// enumerating.
class path_classifier {
public:
  /// Classifier for the paths of `target`.
  path_classifier(const label_graph& graph, node_id target) : path_classifier(ancestor_walk(graph), target) {}
  /// Same, reusing a workspace (for many targets of one large graph).
  path_classifier(ancestor_walk& walk, node_id target)
      : graph_(walk.graph()), target_(target), contested_(labelgraph::contested_groups(walk, target)) {}

  /// Def. 3.3 for `path`, which must be a root-to-target path of the graph
  /// (as `enumerate_paths` yields): true iff none of its nodes is in a group
  /// contested for the target.
  [[nodiscard]] bool deterministic(std::span<const node_id> path) const noexcept {
    return std::none_of(path.begin(), path.end(), [this](node_id node) { return in_contested_group(node); });
  }
  /// True when `node` belongs to a group contested for the target: every path
  /// through such a node is nondeterministic.
  [[nodiscard]] bool in_contested_group(node_id node) const noexcept {
    group_id group = graph_.group(node);
    return group != no_group && std::binary_search(contested_.begin(), contested_.end(), group);
  }
  /// True when at least one path of the target is nondeterministic (every
  /// member of a contested group lies on some path).
  [[nodiscard]] bool has_nondeterministic_path() const noexcept { return !contested_.empty(); }
  /// The groups with at least two members on paths of the target, ascending.
  [[nodiscard]] std::span<const group_id> contested_groups() const noexcept { return contested_; }
  /// The node whose paths are classified.
  [[nodiscard]] node_id target() const noexcept { return target_; }

private:
  path_classifier(ancestor_walk&& walk, node_id target) : path_classifier(walk, target) {}

  label_graph graph_;
  node_id target_;
  std::vector<group_id> contested_;
};

/// How many paths of one target are deterministic and how many are not.
struct determinism_counts {
  checked_count deterministic;     ///< paths avoiding every contested group
  checked_count nondeterministic;  ///< all other paths
};

/// The two counts of `determinism_counts` without enumerating a path: dynamic
/// programming over U(target) in topological order, O(|U| + its edges):
///
///     D(root) = 1,  D(x) = 0 if x is in a contested group, else Σ_{p ∈ parents(x)} D(p)
///     N(root) = 0,  N(x) = Σ_p (D(p) + N(p)) if x is in a contested group, else Σ_p N(p)
///
/// D counts the paths avoiding contested groups (deterministic, see above), N
/// the others. Overflow is flagged per count, never wrapped.
[[nodiscard]] inline determinism_counts count_path_determinism(ancestor_walk& walk, node_id target) {
  const label_graph& graph = walk.graph();
  std::span<const node_id> order = walk.path_nodes(target);
  const std::vector<group_id> contested = detail::groups_met_twice(graph, order);
  std::vector<determinism_counts> counts(order.size());
  for (std::size_t i = 0; i < order.size(); ++i) {
    node_id node = order[i];
    determinism_counts& here = counts[i];
    if (node == graph.root()) {
      here.deterministic = {1, false};
      continue;
    }
    const bool contested_node = std::binary_search(contested.begin(), contested.end(), graph.group(node));
    for (node_id parent : graph.parents(node)) {
      const determinism_counts& above = counts[walk.position(parent)];
      if (contested_node) {
        here.nondeterministic += above.deterministic + above.nondeterministic;
      } else {
        here.deterministic += above.deterministic;
        here.nondeterministic += above.nondeterministic;
      }
    }
  }
  return counts.back();
}

/// One-off form of `count_path_determinism` (allocates O(|V|)).
[[nodiscard]] inline determinism_counts count_path_determinism(const label_graph& graph, node_id target) {
  ancestor_walk walk(graph);
  return count_path_determinism(walk, target);
}

/// Every path of `target` with its class, in `enumerate_paths` order. Throws
/// `limit_error` past `limits`, like the enumeration, but checks `max_paths`
/// against the counted paths first, so it fails before storing anything.
[[nodiscard]] inline std::vector<classified_path> classify_paths(const label_graph& graph, node_id target,
                                                                 path_limits limits = {}) {
  path_range paths = enumerate_paths(graph, target, limits);
  ancestor_walk walk(graph);
  const determinism_counts split = count_path_determinism(walk, target);
  const checked_count total = split.deterministic + split.nondeterministic;
  if (total.overflowed || total.value > limits.max_paths) detail::throw_too_many_paths(graph, target, limits);
  path_classifier classifier(walk, target);
  std::vector<classified_path> result;
  result.reserve(total.value);
  for (std::span<const node_id> path : paths) {
    result.push_back({std::vector<node_id>(path.begin(), path.end()), classifier.deterministic(path)});
  }
  return result;
}

}  // namespace labelgraph
