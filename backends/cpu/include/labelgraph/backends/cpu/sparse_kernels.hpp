#pragma once
/// \file
/// The cpu backend's kernels of the graph-sparse output layer
/// (ops/sparse_output.hpp): the generic per-row and per-token routines of
/// backend/kernels.hpp, run over blocks of compact rows / tokens in the
/// backend's arena. Every row and every token is computed by one task in a
/// fixed order, so the results are bitwise equal for any thread count.

#include <cstddef>

#include "labelgraph/backend/kernels.hpp"
#include "labelgraph/backends/cpu/backend.hpp"

namespace labelgraph::backends {

/// z = ⟨W_v, h_r⟩ + b_v for every row's candidates, rows in parallel.
template <class T>
void gather_candidate_logits_kernel(const cpu& backend, const candidate_output_plan& plan,
                                    const candidate_output_tensors<T>& io, tensor_view<T, 1> compact) noexcept {
  // A row costs about |C(u)|·H multiply-adds; 8 candidates is a typical out-degree.
  backend.for_row_blocks(plan.order.extent(0), 8 * io.hidden.extent(1), [&](std::size_t first, std::size_t last, auto&) {
    for (std::size_t i = first; i < last; ++i) labelgraph::detail::gather_candidate_row(plan, io, compact, i);
  });
}

/// Hidden gradients row-parallel, then weight / bias gradients token-parallel
/// (each token's rows summed in ascending order by one task: no atomics).
template <class T>
void scatter_candidate_gradients_kernel(const cpu& backend, const candidate_output_plan& plan,
                                        const candidate_output_tensors<T>& io,
                                        tensor_view<const T, 1> compact_gradient) noexcept {
  const std::size_t width = io.hidden.extent(1);
  if (!io.grad_hidden.empty()) {
    backend.for_row_blocks(plan.order.extent(0), 8 * width, [&](std::size_t first, std::size_t last, auto&) {
      for (std::size_t i = first; i < last; ++i) labelgraph::detail::scatter_hidden_row(plan, io, compact_gradient, i);
    });
  }
  if (io.grad_weight.empty() && io.grad_bias.empty()) return;
  backend.for_row_blocks(plan.entry_tokens.extent(0), 2 * width, [&](std::size_t first, std::size_t last, auto&) {
    for (std::size_t k = first; k < last; ++k) labelgraph::detail::scatter_token_gradient(plan, io, compact_gradient, k);
  });
}

}  // namespace labelgraph::backends
