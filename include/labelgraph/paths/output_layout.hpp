#pragma once
/// \file
/// `output_layout`: the decoder's token vocabulary (docs/model.md, "Output layout").
///
/// One token per non-root node plus the end-of-path token EOP. Tokens are
/// numbered so that every competing group is one contiguous range
/// `[group_offset(g), group_offset(g+1))`, EOP last in a group of its own;
/// kernels therefore only ever see contiguous segments. The layout also holds
/// the legal-move lists C(u) = children(u) ∪ {EOP if u is a label or a leaf}
/// of every node as CSR token lists, and exposes all of it as `layout_view`,
/// a bundle of flat arrays that a backend can mirror to its device once.

#include <algorithm>
#include <cstdint>
#include <limits>
#include <span>
#include <string>
#include <vector>

#include "labelgraph/config.hpp"
#include "labelgraph/error.hpp"
#include "labelgraph/graph/label_graph.hpp"

namespace labelgraph {

/// Index of a decoder output token, 0 .. token_count()-1.
using token_id = std::uint32_t;
/// The token of the root (which has none) and of unknown nodes.
inline constexpr token_id no_token = std::numeric_limits<token_id>::max();

/// Flat, trivially copyable description of a layout for kernels (host or
/// device pointers, depending on where the arrays live).
struct layout_view {
  std::uint32_t tokens = 0;                        ///< V, EOP included
  std::uint32_t groups = 0;                        ///< groups, EOP's included
  std::uint32_t nodes = 0;                         ///< graph nodes
  token_id eop = 0;                                ///< the EOP token (= tokens - 1)
  const std::uint32_t* group_offsets = nullptr;    ///< [groups + 1]
  const std::uint32_t* token_group = nullptr;      ///< [tokens]
  const std::uint32_t* candidate_offsets = nullptr;///< [nodes + 1], C(u) of node u
  const token_id* candidate_tokens = nullptr;      ///< ascending within a node

  /// First token of group g.
  LABELGRAPH_HOST_DEVICE std::uint32_t group_begin(std::uint32_t g) const noexcept { return group_offsets[g]; }
  /// One past the last token of group g.
  LABELGRAPH_HOST_DEVICE std::uint32_t group_end(std::uint32_t g) const noexcept { return group_offsets[g + 1]; }
  /// |C(node)|.
  LABELGRAPH_HOST_DEVICE std::uint32_t candidate_count(std::uint32_t node) const noexcept {
    return candidate_offsets[node + 1] - candidate_offsets[node];
  }
};

/// The output vocabulary of a graph; immutable once made.
class output_layout {
public:
  /// An empty layout (no tokens, no groups); `make_output_layout` makes real ones.
  output_layout() = default;

  /// V: one token per non-root node, plus EOP.
  [[nodiscard]] std::uint32_t token_count() const noexcept { return static_cast<std::uint32_t>(node_of_token_.size()); }
  /// Groups including EOP's own (the last one).
  [[nodiscard]] std::uint32_t group_count() const noexcept { return static_cast<std::uint32_t>(group_offsets_.size() - 1); }
  /// The end-of-path token (the last one).
  [[nodiscard]] token_id eop() const noexcept { return token_count() - 1; }

  /// The token of a non-root node (`no_token` for the root).
  [[nodiscard]] token_id token(node_id node) const noexcept { return token_of_node_[node]; }
  /// The node of a token (`no_node` for EOP).
  [[nodiscard]] node_id node(token_id token) const noexcept { return node_of_token_[token]; }
  /// Layout group of a token; groups [0, group_count()-1) are the graph's
  /// groups with the same ids, the last is EOP's.
  [[nodiscard]] std::uint32_t token_group(token_id token) const noexcept { return token_group_[token]; }
  /// First token of a layout group; group_offset(group_count()) == token_count().
  [[nodiscard]] std::uint32_t group_offset(std::uint32_t group) const noexcept { return group_offsets_[group]; }
  /// All group offsets, [group_count() + 1].
  [[nodiscard]] std::span<const std::uint32_t> group_offsets() const noexcept { return group_offsets_; }
  /// Size of the largest group.
  [[nodiscard]] std::uint32_t max_group_size() const noexcept { return max_group_size_; }

  /// C(u): legal next tokens at node u, ascending.
  [[nodiscard]] std::span<const token_id> candidates(node_id node) const noexcept {
    return {candidate_tokens_.data() + candidate_offsets_[node], candidate_tokens_.data() + candidate_offsets_[node + 1]};
  }

  /// Throws `argument_error` unless `token` is inside the layout.
  void check_token(token_id token, std::string_view what = "token") const {
    if (token >= token_count()) {
      LABELGRAPH_THROW(argument_error(std::string(what) + " " + std::to_string(token) + " is outside the layout (" +
                                      std::to_string(token_count()) + " tokens)"));
    }
  }

  /// The flat arrays, for kernels.
  [[nodiscard]] layout_view view() const noexcept {
    return {token_count(),         group_count(),         static_cast<std::uint32_t>(token_of_node_.size()),
            eop(),                 group_offsets_.data(), token_group_.data(),
            candidate_offsets_.data(), candidate_tokens_.data()};
  }

  // Flat arrays, for mirroring to a device.
  /// Layout group of every token, [token_count()].
  [[nodiscard]] std::span<const std::uint32_t> token_groups() const noexcept { return token_group_; }
  /// CSR offsets of the candidate lists, [node_count + 1].
  [[nodiscard]] std::span<const std::uint32_t> candidate_offsets() const noexcept { return candidate_offsets_; }
  /// CSR items of the candidate lists.
  [[nodiscard]] std::span<const token_id> candidate_tokens() const noexcept { return candidate_tokens_; }

private:
  friend output_layout make_output_layout(const label_graph& graph);
  std::vector<token_id> token_of_node_;
  std::vector<node_id> node_of_token_;
  std::vector<std::uint32_t> token_group_;
  std::vector<std::uint32_t> group_offsets_;
  std::vector<std::uint32_t> candidate_offsets_;
  std::vector<token_id> candidate_tokens_;
  std::uint32_t max_group_size_ = 0;
};

/// Numbers the tokens group by group (graph group order, members in order),
/// EOP last, and builds every node's candidate list C(u).
[[nodiscard]] inline output_layout make_output_layout(const label_graph& graph) {
  output_layout layout;
  const auto nodes = static_cast<std::uint32_t>(graph.node_count());
  const std::size_t candidate_total = graph.edge_count() + nodes;
  if (candidate_total >= std::numeric_limits<std::uint32_t>::max()) {
    LABELGRAPH_THROW(limit_error("graph too large for an output layout: " + std::to_string(candidate_total) +
                                 " candidate entries (at most 2^32-1)"));
  }
  layout.token_of_node_.assign(nodes, no_token);
  layout.node_of_token_.reserve(nodes);
  layout.group_offsets_.push_back(0);
  for (group_id g = 0; g < graph.group_count(); ++g) {
    auto members = graph.group_members(g);
    for (node_id member : members) {
      layout.token_of_node_[member] = static_cast<token_id>(layout.node_of_token_.size());
      layout.node_of_token_.push_back(member);
      layout.token_group_.push_back(g);
    }
    layout.max_group_size_ = std::max(layout.max_group_size_, static_cast<std::uint32_t>(members.size()));
    layout.group_offsets_.push_back(static_cast<std::uint32_t>(layout.node_of_token_.size()));
  }
  // EOP: its own group, last.
  layout.node_of_token_.push_back(no_node);
  layout.token_group_.push_back(static_cast<std::uint32_t>(graph.group_count()));
  layout.group_offsets_.push_back(static_cast<std::uint32_t>(layout.node_of_token_.size()));
  layout.max_group_size_ = std::max(layout.max_group_size_, 1u);
  const token_id eop = layout.eop();

  layout.candidate_offsets_.reserve(nodes + 1);
  layout.candidate_tokens_.reserve(candidate_total);
  layout.candidate_offsets_.push_back(0);
  for (node_id u = 0; u < nodes; ++u) {
    auto first = layout.candidate_tokens_.size();
    for (node_id child : graph.children(u)) layout.candidate_tokens_.push_back(layout.token_of_node_[child]);
    if (graph.is_label(u) || graph.is_leaf(u)) layout.candidate_tokens_.push_back(eop);
    std::sort(layout.candidate_tokens_.begin() + static_cast<std::ptrdiff_t>(first), layout.candidate_tokens_.end());
    layout.candidate_offsets_.push_back(static_cast<std::uint32_t>(layout.candidate_tokens_.size()));
  }
  return layout;
}

}  // namespace labelgraph
