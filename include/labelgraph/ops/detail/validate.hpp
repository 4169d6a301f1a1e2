#pragma once
/// \file
/// Checks the op front ends run before calling a kernel. Each throws with a
/// message that names the tensor and what was expected:
///   shape_error     "logits: expected [4096, 64], got [4096, 63]"
///   shape_error     "logits: in memory space cuda:0, backend reference reads host memory"
///   shape_error     "probabilities: overlaps logits; an output may share memory with an input only as the identical tensor"
///   shape_error     "logits: the data pointer is not aligned to 4 bytes (the alignment of its element type)"
///   argument_error  "targets: row 7: token 12 is outside the row's mask"

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "labelgraph/backend/concept.hpp"
#include "labelgraph/error.hpp"
#include "labelgraph/ops/mask.hpp"
#include "labelgraph/ops/options.hpp"
#include "labelgraph/paths/output_layout.hpp"
#include "labelgraph/tensor/tensor_view.hpp"

namespace labelgraph::detail {

/// "[4096, 64]".
template <std::size_t Rank>
[[nodiscard]] inline std::string format_extents(const std::array<std::size_t, Rank>& extents) {
  std::string text = "[";
  for (std::size_t dim = 0; dim < Rank; ++dim) text += (dim == 0 ? "" : ", ") + std::to_string(extents[dim]);
  return text + "]";
}

/// The tensor must exist, have `expected` extents, a contiguous last
/// dimension, and live where backend B can read it.
template <backend B, class T, std::size_t Rank>
void check_tensor(std::string_view name, const tensor_view<T, Rank>& view,
                  const std::array<std::size_t, Rank>& expected) {
  const std::string prefix = std::string(name) + ": ";
  if (view.empty()) {
    std::size_t elements = 1;
    for (std::size_t extent : expected) elements *= extent;
    if (elements == 0) return;  // nothing to read or write
    LABELGRAPH_THROW(shape_error(prefix + "expected " + format_extents(expected) + ", got no tensor"));
  }
  if (view.extents() != expected) {
    LABELGRAPH_THROW(shape_error(prefix + "expected " + format_extents(expected) + ", got " + format_extents(view.extents())));
  }
  if (!view.inner_contiguous()) {
    LABELGRAPH_THROW(shape_error(prefix + "the last dimension must be contiguous (stride 1), got stride " +
                                 std::to_string(view.stride(Rank - 1))));
  }
  // A misaligned pointer (bytes reinterpreted at an odd offset) is undefined
  // behaviour in every kernel: refuse it here, not inside one.
  if (reinterpret_cast<std::uintptr_t>(view.data()) % alignof(T) != 0) {
    LABELGRAPH_THROW(shape_error(prefix + "the data pointer is not aligned to " + std::to_string(alignof(T)) +
                                 " bytes (the alignment of its element type)"));
  }
  if (!backend_accesses<B>(view.where())) {
    LABELGRAPH_THROW(shape_error(prefix + "in memory space " + view.where().str() + ", backend " + std::string(B::name) +
                                 " reads " + std::string(B::memory_space::name) + " memory"));
  }
}

/// Like `check_tensor`, but an empty view ("not wanted") passes.
template <backend B, class T, std::size_t Rank>
void check_optional_tensor(std::string_view name, const tensor_view<T, Rank>& view,
                           const std::array<std::size_t, Rank>& expected) {
  if (!view.empty()) check_tensor<B>(name, view, expected);
}

/// Byte range [begin, end) a view touches.
template <class T, std::size_t Rank>
[[nodiscard]] std::array<const void*, 2> address_range(const tensor_view<T, Rank>& view) noexcept {
  return {static_cast<const void*>(view.data()), view.end_address()};
}

/// An output may be exactly an input (same data, extents and strides: in
/// place) where `in_place_allowed`, and must otherwise not share a byte with it.
template <class T, std::size_t RankOut, class U, std::size_t RankIn>
void check_no_overlap(std::string_view output_name, const tensor_view<T, RankOut>& output, std::string_view input_name,
                      const tensor_view<U, RankIn>& input, bool in_place_allowed) {
  if (output.empty() || input.empty() || output.size() == 0 || input.size() == 0) return;
  const auto out = address_range(output);
  const auto in = address_range(input);
  const std::less<const void*> before;
  const bool disjoint = !before(out[0], in[1]) || !before(in[0], out[1]);
  if (disjoint) return;
  if constexpr (RankOut == RankIn && sizeof(T) == sizeof(U)) {
    const bool identical = static_cast<const void*>(output.data()) == static_cast<const void*>(input.data()) &&
                           output.extents() == input.extents() && output.strides() == input.strides();
    if (identical && in_place_allowed) return;
    if (identical) {
      LABELGRAPH_THROW(shape_error(std::string(output_name) + ": is the same memory as " + std::string(input_name) +
                                   "; this operation cannot run in place"));
    }
  }
  LABELGRAPH_THROW(shape_error(std::string(output_name) + ": overlaps " + std::string(input_name) +
                               (in_place_allowed ? "; an output may share memory with an input only as the identical tensor"
                                                 : "; they must not share memory")));
}

/// Current nodes u of `rows` rows: [rows], and (host memory) inside the graph.
template <backend B>
void check_current_nodes(std::string_view name, tensor_view<const node_id, 1> nodes, const layout_view& layout,
                         std::size_t rows) {
  check_tensor<B>(name, nodes, {rows});
  if constexpr (host_backend<B>) {
    for (std::size_t r = 0; r < rows; ++r) {
      if (nodes(r) >= layout.nodes) {
        LABELGRAPH_THROW(argument_error(std::string(name) + ": row " + std::to_string(r) + ": node " +
                                        std::to_string(nodes(r)) + " is outside the graph (" +
                                        std::to_string(layout.nodes) + " nodes)"));
      }
    }
  }
}

/// The mask fits `rows` rows of the layout: shapes, memory space, and (host
/// memory) every current node inside the graph.
template <backend B>
void check_mask(const row_mask& mask, const layout_view& layout, std::size_t rows) {
  switch (mask.kind) {
    case mask_kind::none: return;
    case mask_kind::dense: check_tensor<B>("mask", mask.dense, {rows, layout.tokens}); return;
    case mask_kind::candidates: check_current_nodes<B>("mask nodes", mask.nodes, layout, rows); return;
  }
}

/// `candidate` normalisation means "over C(u)": it needs a mask.
inline void check_normalization(normalization norm, const row_mask& mask) {
  if (norm == normalization::candidate && mask.kind == mask_kind::none) {
    LABELGRAPH_THROW(argument_error(
        "normalization candidate needs a mask: pass row_mask::from_candidates(current nodes) or a dense mask"));
  }
}

}  // namespace labelgraph::detail
