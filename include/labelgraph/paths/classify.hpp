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
/// O(|U(v)| + its edges) with the stamps of `contested_group_finder` — and then
/// O(|P| log k) per path (k contested groups; nothing at all when k = 0), never
/// pairs of paths. In particular a target with a single path has no contested
/// group (U(v) is that path, and no two nodes of one path share a group): the
/// re-targetable classifier marks those targets once, O(|V| + |E|), and then
/// skips the walk for them. The same observation gives the number of
/// deterministic paths by dynamic programming over U(v) alone: they are the
/// root-to-v paths that avoid every node of a contested group.

#include <algorithm>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "labelgraph/error.hpp"
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

/// Classifies paths of one target, one at a time, without storing them: aim it
/// at a target, then ask `deterministic(path)` for each path while
/// enumerating. Two ways to use it:
///
/// - one target: `path_classifier(graph, target)` or `(walk, target)`;
/// - many targets of one graph: `path_classifier(graph)` once, then
///   `retarget(v)` per target. It keeps its workspaces (an `ancestor_walk` and
///   a `contested_group_finder`), so a target costs O(|U(v)| + its edges) and
///   no allocation once warm, and a target with a single path costs one bit
///   lookup (the bits are computed once, by dynamic programming over the graph).
class path_classifier {
public:
  /// Classifier for the paths of `target`.
  path_classifier(const label_graph& graph, node_id target) : path_classifier(ancestor_walk(graph), target) {}
  /// Same, reusing a workspace (for many targets of one large graph).
  path_classifier(ancestor_walk& walk, node_id target)
      : graph_(walk.graph()), target_(target), contested_(labelgraph::contested_groups(walk, target)) {}
  /// A re-targetable classifier with no target yet (every path counts as
  /// deterministic until `retarget`); builds its O(|V| + |groups|)
  /// workspaces once, in O(|V| + |E|). Throws `argument_error` when the graph
  /// is empty.
  explicit path_classifier(const label_graph& graph)
      : graph_(graph), workspace_(make_workspace(graph)) {}

  /// A copy classifies like `other`; it makes its own workspaces when re-targeted.
  path_classifier(const path_classifier& other)
      : graph_(other.graph_), target_(other.target_), contested_(other.contested_) {}
  /// Same as the copy constructor.
  path_classifier& operator=(const path_classifier& other) {
    if (this != &other) *this = path_classifier(other);
    return *this;
  }
  /// Takes over `other`'s target and workspaces.
  path_classifier(path_classifier&& other) noexcept = default;
  /// Takes over `other`'s target and workspaces.
  path_classifier& operator=(path_classifier&& other) noexcept = default;
  /// Releases the workspaces.
  ~path_classifier() = default;

  /// Aims the classifier at `target`, reusing the workspaces of a classifier
  /// made by `path_classifier(graph)` (the others get them on the first call).
  /// Throws `argument_error` for a node outside the graph.
  void retarget(node_id target) {
    detail::check_node(graph_, target, "path_classifier::retarget");
    if (!workspace_) workspace_ = make_workspace(graph_);
    target_ = target;
    contested_.clear();
    if (workspace_->single_path[target]) return;  // one path: no two of its nodes share a group (see above)
    std::span<const group_id> found = workspace_->finder.find(workspace_->walk, target);
    contested_.assign(found.begin(), found.end());
  }

  /// Def. 3.3 for `path`, which must be a root-to-target path of the graph
  /// (as `enumerate_paths` yields): true iff none of its nodes is in a group
  /// contested for the target.
  [[nodiscard]] bool deterministic(std::span<const node_id> path) const noexcept {
    if (contested_.empty()) return true;  // the common case: nothing to look up
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
  /// The node whose paths are classified (`no_node` before the first `retarget`).
  [[nodiscard]] node_id target() const noexcept { return target_; }

private:
  /// What `retarget` reuses from one target to the next.
  struct workspace {
    /// O(|V| + |E|): the walk's and the finder's stamps and the single-path bits.
    explicit workspace(const label_graph& graph) : walk(graph), finder(graph), single_path(graph.node_count()) {
      // S(root) = true,  S(v) = (v has exactly one parent p) and S(p): v has exactly one path.
      for (node_id node : graph.topological_order()) {
        std::span<const node_id> parents = graph.parents(node);
        single_path[node] = node == graph.root() || (parents.size() == 1 && single_path[parents[0]]);
      }
    }
    ancestor_walk walk;
    contested_group_finder finder;
    std::vector<bool> single_path;  // one bit per node: 10 KB for WordNet, stays in cache
  };

  /// The workspaces for `graph`; `argument_error` when it is empty.
  [[nodiscard]] static std::unique_ptr<workspace> make_workspace(const label_graph& graph) {
    if (graph.empty()) LABELGRAPH_THROW(argument_error("path_classifier: the label graph is empty"));
    return std::make_unique<workspace>(graph);
  }

  path_classifier(ancestor_walk&& walk, node_id target) : path_classifier(walk, target) {}

  label_graph graph_;
  node_id target_ = no_node;
  std::vector<group_id> contested_;
  std::unique_ptr<workspace> workspace_;  // only for re-targeting
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
