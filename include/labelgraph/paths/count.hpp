#pragma once
/// \file
/// `count_paths`: |paths(v)| for every node v by dynamic programming over the
/// topological order (docs/model.md, "Paths").
///
///     N(root) = 1,    N(v) = Σ_{p ∈ parents(v)} N(p)
///
/// One pass, O(|V| + |E|) time and O(|V|) memory. Counts grow exponentially
/// with depth in multi-parent graphs (a ladder of 64 diamonds already has 2^64
/// paths), so every addition is checked: a count that does not fit in 64 bits
/// is marked *overflowed* and saturated at UINT64_MAX, and the mark propagates
/// to every descendant. Nothing ever wraps.

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "labelgraph/error.hpp"
#include "labelgraph/graph/label_graph.hpp"
#include "labelgraph/paths/detail/arguments.hpp"

namespace labelgraph {

/// A count that may not fit in 64 bits: `value` is exact unless `overflowed`,
/// in which case it is saturated at UINT64_MAX (2^64-1 itself is a legal,
/// exact count, hence the separate flag).
struct checked_count {
  std::uint64_t value = 0;  ///< the count, UINT64_MAX when overflowed
  bool overflowed = false;  ///< the true count is 2^64 or more

  /// a + b, overflowed if either is or if the sum does not fit.
  [[nodiscard]] friend constexpr checked_count operator+(checked_count a, checked_count b) noexcept {
    constexpr std::uint64_t max = std::numeric_limits<std::uint64_t>::max();
    // a + b > max  <=>  b > max - a: tested before adding, so nothing ever wraps (any compiler).
    if (a.overflowed || b.overflowed || b.value > max - a.value) return {max, true};
    return {a.value + b.value, false};
  }
  /// *this = *this + other.
  checked_count& operator+=(checked_count other) noexcept { return *this = *this + other; }
  /// Same value and same flag.
  [[nodiscard]] friend constexpr bool operator==(checked_count, checked_count) noexcept = default;
};

namespace detail {
/// The message every overflowed count reports.
[[nodiscard]] inline std::string overflow_message(const label_graph& graph, node_id node) {
  return source_prefix(graph) + node_phrase(graph, node) + " has more than " +
         std::to_string(std::numeric_limits<std::uint64_t>::max()) +
         " root-to-node paths (count overflows 64 bits)";
}
}  // namespace detail

/// |paths(v)| for every node of one graph; made by `count_paths`, immutable,
/// safe to read from any number of threads.
class path_counts {
public:
  /// No counts; `of` throws `argument_error`. Use `count_paths`.
  path_counts() = default;

  /// The exact number of root-to-`node` paths. Throws `limit_error` naming the
  /// node when the count does not fit in 64 bits, `argument_error` for a node
  /// outside the graph.
  [[nodiscard]] std::uint64_t of(node_id node) const {
    detail::check_node(graph_, node, "path_counts::of");
    if (overflowed(node)) LABELGRAPH_THROW(limit_error(detail::overflow_message(graph_, node)));
    return counts_[node].value;
  }
  /// True when node has 2^64 or more root-to-node paths.
  [[nodiscard]] bool overflowed(node_id node) const noexcept { return counts_[node].overflowed; }
  /// The count, or UINT64_MAX when it overflowed.
  [[nodiscard]] std::uint64_t saturated(node_id node) const noexcept { return counts_[node].value; }
  /// The count with its overflow flag.
  [[nodiscard]] checked_count checked(node_id node) const noexcept { return counts_[node]; }
  /// Number of nodes counted (= the graph's node count).
  [[nodiscard]] std::size_t size() const noexcept { return counts_.size(); }
  /// The graph the counts belong to.
  [[nodiscard]] const label_graph& graph() const noexcept { return graph_; }

private:
  friend path_counts count_paths(const label_graph& graph);
  label_graph graph_;
  std::vector<checked_count> counts_;
};

/// N(v) for every node in one pass over `graph.topological_order()`.
[[nodiscard]] inline path_counts count_paths(const label_graph& graph) {
  path_counts result;
  if (graph.empty()) LABELGRAPH_THROW(argument_error("count_paths: the label graph is empty"));
  result.graph_ = graph;
  result.counts_.assign(graph.node_count(), checked_count{});
  result.counts_[graph.root()] = {1, false};
  for (node_id node : graph.topological_order()) {
    if (node == graph.root()) continue;
    checked_count sum;
    for (node_id parent : graph.parents(node)) sum += result.counts_[parent];
    result.counts_[node] = sum;
  }
  return result;
}

/// Σ over label nodes of |paths(v)| (the `paths_total` of `labelgraph stats`),
/// with its overflow flag; never throws.
[[nodiscard]] inline checked_count checked_path_total(const path_counts& counts) noexcept {
  checked_count total;
  const label_graph& graph = counts.graph();
  for (node_id node = 0; node < counts.size(); ++node) {
    if (graph.is_label(node)) total += counts.checked(node);
  }
  return total;
}

/// Σ over label nodes of |paths(v)|; throws `limit_error` when it does not fit
/// in 64 bits.
[[nodiscard]] inline std::uint64_t path_total(const path_counts& counts) {
  checked_count total = checked_path_total(counts);
  if (total.overflowed) {
    LABELGRAPH_THROW(limit_error(detail::source_prefix(counts.graph()) + "the label nodes have more than " +
                                 std::to_string(std::numeric_limits<std::uint64_t>::max()) +
                                 " root-to-label paths in total (count overflows 64 bits)"));
  }
  return total.value;
}

}  // namespace labelgraph
