#pragma once
/// \file
/// `row_mask`: the per-row set M of allowed tokens.
///
/// A mask is one of
/// - none: every token is allowed;
/// - dense: a `uint8` [rows, V] tensor, nonzero = allowed;
/// - candidates: a `uint32` [rows] tensor holding each row's current node u,
///   M = C(u) read from the layout's candidate CSR lists (docs/model.md, "Output layout").
/// Tokens outside M get probability 0, log-probability −inf and gradient 0.

#include <cstddef>
#include <cstdint>

#include "labelgraph/config.hpp"
#include "labelgraph/ops/options.hpp"
#include "labelgraph/paths/output_layout.hpp"
#include "labelgraph/tensor/tensor_view.hpp"

namespace labelgraph {

/// Which representation a `row_mask` uses.
enum class mask_kind : std::uint8_t {
  none,        ///< every token allowed
  dense,       ///< a [rows, V] `uint8` tensor, nonzero = allowed
  candidates   ///< each row's current node u; M = C(u) from the layout
};

/// The allowed tokens of every row; trivially copyable, passed to kernels by value.
struct row_mask {
  mask_kind kind = mask_kind::none;  ///< which of the members below is used (none: every token allowed)
  tensor_view<const std::uint8_t, 2> dense;  ///< [rows, V] when kind == dense
  tensor_view<const node_id, 1> nodes;       ///< [rows] current nodes when kind == candidates

  /// Every token allowed.
  [[nodiscard]] static row_mask all() noexcept { return {}; }
  /// Allowed where `allowed(row, v) != 0`.
  [[nodiscard]] static row_mask from_dense(tensor_view<const std::uint8_t, 2> allowed) noexcept {
    return {mask_kind::dense, allowed, {}};
  }
  /// Row r allows C(nodes(r)).
  [[nodiscard]] static row_mask from_candidates(tensor_view<const node_id, 1> current_nodes) noexcept {
    return {mask_kind::candidates, {}, current_nodes};
  }

  /// Is token `v` allowed in `row`? O(1) for dense, O(log |C(u)|) for
  /// candidates: meant for simple kernels (the reference) and for checks.
  [[nodiscard]] LABELGRAPH_HOST_DEVICE bool allows(const layout_view& layout, std::size_t row, token_id v) const noexcept {
    switch (kind) {
      case mask_kind::none: return true;
      case mask_kind::dense: return dense(row, v) != 0;
      case mask_kind::candidates: {
        const node_id u = nodes(row);
        const token_id* first = layout.candidate_tokens + layout.candidate_offsets[u];
        const token_id* last = layout.candidate_tokens + layout.candidate_offsets[u + 1];
        // C(u) is ascending: binary search.
        while (first < last) {
          const token_id* middle = first + (last - first) / 2;
          if (*middle < v) {
            first = middle + 1;
          } else {
            last = middle;
          }
        }
        return first != layout.candidate_tokens + layout.candidate_offsets[u + 1] && *first == v;
      }
    }
    return false;
  }
};

/// Everything a block-softmax-family kernel needs to know about the sets it
/// normalises over: the layout (groups and C(u) lists, in the backend's
/// memory), the normalisation and the mask.
struct normalization_spec {
  layout_view layout;                         ///< groups, token maps and C(u) lists, in the backend's memory
  normalization norm = normalization::block;  ///< the set each row is normalised over: full, block or candidate
  row_mask mask;                              ///< the allowed tokens of every row

  /// True when the set of token v is g(v) ∩ M (`block`), false when it is M.
  [[nodiscard]] LABELGRAPH_HOST_DEVICE constexpr bool per_group() const noexcept { return norm == normalization::block; }
};

}  // namespace labelgraph
