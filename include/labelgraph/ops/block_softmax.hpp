#pragma once
/// \file
/// Block softmax and block log-softmax over [rows, V] logits, forward and
/// backward (the paper's block softmax):
///
///   p(v) = exp z_v / Σ_{w ∈ N(v)} exp z_w,   N(v) = g(v) ∩ M (block) or M (full, candidate)
///
/// with M the row's mask. Tokens outside M get p = 0 (log p = −inf) and zero
/// gradient; a set with no allowed member gives zeros, never NaN.
///
///     lg::block_softmax(backend, layout.view(), logits, probabilities);                        // block, no mask
///     lg::block_softmax(backend, layout.view(), logits, probabilities, lg::normalization::candidate,
///                       lg::row_mask::from_candidates(current_nodes));                         // p(v|u)
///
/// Every output may be the same tensor as an input of the same call (in
/// place) but must not partially overlap one.

#include <type_traits>

#include "labelgraph/backend/concept.hpp"
#include "labelgraph/ops/detail/validate.hpp"
#include "labelgraph/ops/mask.hpp"
#include "labelgraph/ops/options.hpp"
#include "labelgraph/paths/output_layout.hpp"
#include "labelgraph/tensor/tensor_view.hpp"

namespace labelgraph {

namespace detail {

/// Validates the tensors of a block-softmax-family call (every tensor
/// [rows, V], rows from the first) and returns the kernels' spec.
template <backend B, class T>
normalization_spec check_softmax_call(const layout_view& layout, normalization norm, const row_mask& mask,
                                      std::string_view first_name, tensor_view<const T, 2> first,
                                      std::string_view second_name, tensor_view<const T, 2> second,
                                      std::string_view output_name, tensor_view<T, 2> output) {
  const std::size_t rows = first.extent(0);
  check_tensor<B>(first_name, first, {rows, layout.tokens});
  if (!second_name.empty()) check_tensor<B>(second_name, second, {rows, layout.tokens});
  check_tensor<B>(output_name, output, {rows, layout.tokens});
  check_normalization(norm, mask);
  check_mask<B>(mask, layout, rows);
  check_no_overlap(output_name, output, first_name, first, true);
  if (!second_name.empty()) check_no_overlap(output_name, output, second_name, second, true);
  return {layout, norm, mask};
}

}  // namespace detail

/// probabilities = softmax of `logits` over each token's normalisation set.
template <backend B, class T>
void block_softmax(const B& backend, const layout_view& layout, std::type_identity_t<tensor_view<const T, 2>> logits,
                   tensor_view<T, 2> probabilities, normalization norm = normalization::block,
                   const row_mask& mask = row_mask::all()) {
  const normalization_spec spec =
      detail::check_softmax_call<B, T>(layout, norm, mask, "logits", logits, {}, {}, "probabilities", probabilities);
  block_softmax_kernel(backend, spec, logits, probabilities);
}

/// log_probabilities = z_v − log Σ_{N(v)} exp z (−inf outside the mask).
template <backend B, class T>
void block_log_softmax(const B& backend, const layout_view& layout,
                       std::type_identity_t<tensor_view<const T, 2>> logits, tensor_view<T, 2> log_probabilities,
                       normalization norm = normalization::block, const row_mask& mask = row_mask::all()) {
  const normalization_spec spec = detail::check_softmax_call<B, T>(layout, norm, mask, "logits", logits, {}, {},
                                                                   "log_probabilities", log_probabilities);
  block_log_softmax_kernel(backend, spec, logits, log_probabilities);
}

/// grad_logits = y ⊙ (dy − Σ_{N(v)} y·dy) for y = block_softmax output, dy = its gradient.
template <backend B, class T>
void block_softmax_backward(const B& backend, const layout_view& layout,
                            std::type_identity_t<tensor_view<const T, 2>> probabilities,
                            std::type_identity_t<tensor_view<const T, 2>> grad_probabilities,
                            tensor_view<T, 2> grad_logits, normalization norm = normalization::block,
                            const row_mask& mask = row_mask::all()) {
  const normalization_spec spec =
      detail::check_softmax_call<B, T>(layout, norm, mask, "probabilities", probabilities, "grad_probabilities",
                                       grad_probabilities, "grad_logits", grad_logits);
  block_softmax_backward_kernel(backend, spec, probabilities, grad_probabilities, grad_logits);
}

/// grad_logits = dy − p ⊙ Σ_{N(v)} dy for log y = block_log_softmax output, p = exp(log y).
template <backend B, class T>
void block_log_softmax_backward(const B& backend, const layout_view& layout,
                                std::type_identity_t<tensor_view<const T, 2>> log_probabilities,
                                std::type_identity_t<tensor_view<const T, 2>> grad_log_probabilities,
                                tensor_view<T, 2> grad_logits, normalization norm = normalization::block,
                                const row_mask& mask = row_mask::all()) {
  const normalization_spec spec =
      detail::check_softmax_call<B, T>(layout, norm, mask, "log_probabilities", log_probabilities,
                                       "grad_log_probabilities", grad_log_probabilities, "grad_logits", grad_logits);
  block_log_softmax_backward_kernel(backend, spec, log_probabilities, grad_log_probabilities, grad_logits);
}

}  // namespace labelgraph
