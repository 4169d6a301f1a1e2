#pragma once
/// \file
/// `target_table`: the supervision targets of every label, ready for the loss
/// code (Eq. 2 and the multi-path reductions of `labelgraph/loss/pooling.hpp`).
///
/// For each label node y, every P ∈ paths(y) as the token sequence
/// (v1, ..., vn, EOP) — the tokens of P's non-root nodes in path order, then
/// EOP — with P's Def. 3.3 flag. Stored flat, two levels of CSR:
///
///     node y  -> paths  [node_path_offsets[y], node_path_offsets[y+1])
///     path p  -> tokens [path_token_offsets[p], path_token_offsets[p+1])
///
/// Memory is linear in the total path length: 4 bytes per token (Σ over labels
/// and their paths of |P|, EOP included), 13 bytes per path (offset, owning
/// label, flag) and 8 bytes per node. `memory_bytes()` reports it. Paths are
/// enumerated within `path_limits` per label, so the table cannot explode
/// silently on a graph with exponentially many paths.

#include <algorithm>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <ranges>
#include <span>
#include <string>
#include <vector>

#include "labelgraph/error.hpp"
#include "labelgraph/graph/label_graph.hpp"
#include "labelgraph/paths/ancestors.hpp"
#include "labelgraph/paths/classify.hpp"
#include "labelgraph/paths/count.hpp"
#include "labelgraph/paths/enumerate.hpp"
#include "labelgraph/paths/output_layout.hpp"

namespace labelgraph {

/// Index of a path in a `target_table`.
using path_index = std::uint64_t;

/// The paths [first, last) of one label: a random-access range of
/// `path_index` (like `std::ranges::iota_view`, which clang 14 cannot
/// instantiate with libstdc++ 12).
class path_index_range {
public:
  /// A random-access iterator over consecutive path indices.
  class iterator {
  public:
    /// Iterator traits: random access, values are path indices.
    using iterator_concept = std::random_access_iterator_tag;
    /// Same as `iterator_concept`.
    using iterator_category = std::random_access_iterator_tag;
    /// A path index.
    using value_type = path_index;
    /// Signed distance between iterators.
    using difference_type = std::int64_t;
    /// Dereferencing yields the index by value.
    using reference = path_index;
    /// A singular iterator.
    iterator() = default;
    /// Points at path `at`.
    explicit constexpr iterator(path_index at) noexcept : at_(at) {}
    /// The path index.
    [[nodiscard]] constexpr path_index operator*() const noexcept { return at_; }
    /// The path index n steps ahead.
    [[nodiscard]] constexpr path_index operator[](difference_type n) const noexcept { return at_ + static_cast<path_index>(n); }
    /// Next path.
    constexpr iterator& operator++() noexcept { ++at_; return *this; }
    /// Next path (postfix).
    constexpr iterator operator++(int) noexcept { return iterator(at_++); }
    /// Previous path.
    constexpr iterator& operator--() noexcept { --at_; return *this; }
    /// Previous path (postfix).
    constexpr iterator operator--(int) noexcept { return iterator(at_--); }
    /// n paths ahead.
    constexpr iterator& operator+=(difference_type n) noexcept { at_ += static_cast<path_index>(n); return *this; }
    /// n paths back.
    constexpr iterator& operator-=(difference_type n) noexcept { at_ -= static_cast<path_index>(n); return *this; }
    /// `it` moved n paths ahead.
    [[nodiscard]] friend constexpr iterator operator+(iterator it, difference_type n) noexcept { return it += n; }
    /// `it` moved n paths ahead.
    [[nodiscard]] friend constexpr iterator operator+(difference_type n, iterator it) noexcept { return it += n; }
    /// `it` moved n paths back.
    [[nodiscard]] friend constexpr iterator operator-(iterator it, difference_type n) noexcept { return it -= n; }
    /// Paths between two iterators.
    [[nodiscard]] friend constexpr difference_type operator-(iterator a, iterator b) noexcept {
      return static_cast<difference_type>(a.at_ - b.at_);
    }
    /// Iterators are equal at the same position. (Declared explicitly: nvcc
    /// does not define the `==` implied by a defaulted `<=>` of a friend.)
    [[nodiscard]] friend constexpr bool operator==(iterator a, iterator b) noexcept { return a.at_ == b.at_; }
    /// Iterators order by position.
    [[nodiscard]] friend constexpr auto operator<=>(iterator a, iterator b) noexcept { return a.at_ <=> b.at_; }

  private:
    path_index at_ = 0;
  };

  /// Paths [first, last).
  constexpr path_index_range(path_index first, path_index last) noexcept : first_(first), last_(last) {}
  /// The first path.
  [[nodiscard]] constexpr iterator begin() const noexcept { return iterator(first_); }
  /// Past the last path.
  [[nodiscard]] constexpr iterator end() const noexcept { return iterator(last_); }
  /// Number of paths.
  [[nodiscard]] constexpr std::size_t size() const noexcept { return static_cast<std::size_t>(last_ - first_); }
  /// True when the node has no path (not a label).
  [[nodiscard]] constexpr bool empty() const noexcept { return first_ == last_; }
  /// The first path (the range must not be empty).
  [[nodiscard]] constexpr path_index front() const noexcept { return first_; }
  /// The last path (the range must not be empty).
  [[nodiscard]] constexpr path_index back() const noexcept { return last_ - 1; }
  /// The i-th path of the label.
  [[nodiscard]] constexpr path_index operator[](std::size_t i) const noexcept { return first_ + i; }

private:
  path_index first_;
  path_index last_;
};
static_assert(std::ranges::random_access_range<path_index_range>);

/// Token sequences of all paths of all labels, with their determinism flags.
/// Immutable once made: any number of threads may read one table.
class target_table {
public:
  /// An empty table (no nodes, no paths); use `make_target_table`.
  target_table() = default;

  /// Paths in the table (all labels together).
  [[nodiscard]] std::uint64_t path_count() const noexcept { return path_label_.size(); }
  /// Tokens in the table, EOPs included.
  [[nodiscard]] std::uint64_t token_count() const noexcept { return tokens_.size(); }
  /// The longest token sequence, EOP included (the decoder's step count).
  [[nodiscard]] std::size_t max_length() const noexcept { return max_length_; }
  /// Number of graph nodes the table is indexed by.
  [[nodiscard]] std::size_t node_count() const noexcept { return node_path_offsets_.size() - 1; }

  /// The paths of `node` as indices for `tokens` / `deterministic`; empty for
  /// nodes that are not labels.
  [[nodiscard]] path_index_range paths_of(node_id node) const noexcept {
    return {node_path_offsets_[node], node_path_offsets_[node + 1]};
  }
  /// The token sequence of `path`: (v1, ..., vn, EOP).
  [[nodiscard]] std::span<const token_id> tokens(path_index path) const noexcept {
    return {tokens_.data() + path_token_offsets_[path], tokens_.data() + path_token_offsets_[path + 1]};
  }
  /// Def. 3.3 flag of `path`.
  [[nodiscard]] bool deterministic(path_index path) const noexcept { return deterministic_[path] != 0; }
  /// The label node whose path `path` is.
  [[nodiscard]] node_id label(path_index path) const noexcept { return path_label_[path]; }

  // Flat arrays, for mirroring to a device.
  /// [nodes + 1]: paths of node y are [offsets[y], offsets[y+1]).
  [[nodiscard]] std::span<const std::uint64_t> node_path_offsets() const noexcept { return node_path_offsets_; }
  /// [paths + 1]: tokens of path p are [offsets[p], offsets[p+1]).
  [[nodiscard]] std::span<const std::uint64_t> path_token_offsets() const noexcept { return path_token_offsets_; }
  /// [tokens]: every path's tokens back to back.
  [[nodiscard]] std::span<const token_id> token_data() const noexcept { return tokens_; }
  /// [paths]: 1 for deterministic paths, 0 for nondeterministic ones.
  [[nodiscard]] std::span<const std::uint8_t> deterministic_flags() const noexcept { return deterministic_; }
  /// [paths]: the label each path leads to.
  [[nodiscard]] std::span<const node_id> path_labels() const noexcept { return path_label_; }

  /// Bytes held by the arrays above.
  [[nodiscard]] std::size_t memory_bytes() const noexcept {
    return node_path_offsets_.size() * sizeof(std::uint64_t) + path_token_offsets_.size() * sizeof(std::uint64_t) +
           tokens_.size() * sizeof(token_id) + deterministic_.size() + path_label_.size() * sizeof(node_id);
  }

private:
  friend target_table make_target_table(const label_graph& graph, const output_layout& layout, path_limits limits);
  std::vector<std::uint64_t> node_path_offsets_{0};
  std::vector<std::uint64_t> path_token_offsets_{0};
  std::vector<token_id> tokens_;
  std::vector<std::uint8_t> deterministic_;
  std::vector<node_id> path_label_;
  std::size_t max_length_ = 0;
};

/// Enumerates and classifies the paths of every label node of `graph` and
/// writes them as tokens of `layout` (which must be made from `graph`). Throws
/// `limit_error` when a label breaks `limits` (`max_paths` for every label
/// and `max_tokens` for the whole table are checked by counting before
/// anything is stored), `argument_error`
/// when the layout does not fit the graph.
[[nodiscard]] inline target_table make_target_table(const label_graph& graph, const output_layout& layout,
                                                    path_limits limits = {}) {
  if (graph.empty()) LABELGRAPH_THROW(argument_error("make_target_table: the label graph is empty"));
  if (layout.view().nodes != graph.node_count() || layout.token_count() != graph.node_count()) {
    LABELGRAPH_THROW(argument_error(detail::source_prefix(graph) + "make_target_table: the output layout (" +
                                    std::to_string(layout.view().nodes) + " nodes, " +
                                    std::to_string(layout.token_count()) + " tokens) was not made from this graph (" +
                                    std::to_string(graph.node_count()) + " nodes)"));
  }
  // Check every label against max_paths before storing anything (one O(|E|) pass).
  const path_counts counts = count_paths(graph);
  for (node_id node = 0; node < graph.node_count(); ++node) {
    if (graph.is_label(node) && (counts.overflowed(node) || counts.saturated(node) > limits.max_paths)) {
      detail::throw_too_many_paths(graph, node, limits);
    }
  }
  const std::uint64_t total_paths = path_total(counts);  // throws if even the sum overflows
  // Tokens of the table, counted before storing: Σ_y Σ_{P ∈ paths(y)} |P| with
  // |P| = non-root nodes + EOP. L(v) = Σ over paths of v of their non-root
  // nodes obeys L(v) = Σ_{parents p} (L(p) + N(p)), L(root) = 0, in one O(|E|) pass.
  {
    std::vector<checked_count> nodes_on_paths(graph.node_count());
    checked_count tokens;
    for (node_id node : graph.topological_order()) {
      if (node == graph.root()) continue;
      checked_count sum;
      for (node_id parent : graph.parents(node)) sum += nodes_on_paths[parent] + counts.checked(parent);
      nodes_on_paths[node] = sum;
      if (graph.is_label(node)) tokens += sum + counts.checked(node);  // + one EOP per path
    }
    if (tokens.overflowed || tokens.value > limits.max_tokens) {
      LABELGRAPH_THROW(limit_error(detail::source_prefix(graph) + "the target table would hold " +
                                   (tokens.overflowed ? std::string("more than 2^64") : std::to_string(tokens.value)) +
                                   " tokens, more than " + std::to_string(limits.max_tokens) +
                                   " (path_limits::max_tokens)"));
    }
  }
  target_table table;
  const token_id eop = layout.eop();
  path_range paths(graph, limits);    // both re-targeted from label to label: no allocation per label
  path_classifier classifier(graph);
  table.node_path_offsets_.reserve(graph.node_count() + 1);
  table.path_token_offsets_.reserve(total_paths + 1);
  table.deterministic_.reserve(total_paths);
  table.path_label_.reserve(total_paths);
  for (node_id node = 0; node < graph.node_count(); ++node) {
    if (graph.is_label(node)) {
      paths.retarget(node);
      classifier.retarget(node);
      for (std::span<const node_id> path : paths) {
        for (node_id step : path.subspan(1)) table.tokens_.push_back(layout.token(step));  // root is implicit
        table.tokens_.push_back(eop);
        table.path_token_offsets_.push_back(table.tokens_.size());
        table.deterministic_.push_back(classifier.deterministic(path) ? 1 : 0);
        table.path_label_.push_back(node);
        table.max_length_ = std::max(table.max_length_, path.size());  // |P| - 1 tokens + EOP
      }
    }
    table.node_path_offsets_.push_back(table.path_label_.size());
  }
  return table;
}

}  // namespace labelgraph
