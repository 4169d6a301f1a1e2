#pragma once
/// \file
/// The fused block NLL: loss, gradient w.r.t. the logits and the per-row
/// log-normaliser in one pass over the logits (the paper's Eq. 2 per step).
///
/// Row r with target t, normalisation set N = N(t) (g(t) ∩ M for `block`, M
/// for `full` / `candidate`), K = |N|, lse = log Σ_{w ∈ N} exp z_w, weight w_r:
///   none:            loss = w·(lse − z_t)
///   label smoothing: loss = w·[(1−ε)(lse − z_t) + ε(lse − mean_N z)]
///   MaxSup:          loss = w·[(lse − z_t) + ε(max_N z − mean_N z)]
/// Rows whose target is `no_token` are ignored (loss 0, gradient 0,
/// log-normaliser 0). The gradient tensor may be the logits tensor itself.
///
///     std::vector<float> loss(rows);
///     lg::block_nll_tensors<float> io{.logits = logits, .targets = targets, .loss = lg::host_view(loss),
///                                     .grad_logits = logits /* in place */};
///     lg::block_nll(backend, layout.view(), lg::normalization::candidate,
///                   lg::row_mask::from_candidates(current_nodes), io, lg::regularizer::label_smoothing(0.1));

#include <string>

#include "labelgraph/backend/concept.hpp"
#include "labelgraph/error.hpp"
#include "labelgraph/ops/detail/validate.hpp"
#include "labelgraph/ops/mask.hpp"
#include "labelgraph/ops/options.hpp"
#include "labelgraph/paths/output_layout.hpp"

namespace labelgraph {

namespace detail {

/// Every target is a token of the layout and allowed by its row's mask
/// (a target outside M has probability 0: its loss would be infinite).
template <backend B, class T>
void check_targets(const layout_view& layout, const row_mask& mask, tensor_view<const token_id, 1> targets) {
  if constexpr (host_backend<B>) {
    for (std::size_t r = 0; r < targets.extent(0); ++r) {
      const token_id t = targets(r);
      if (t == no_token) continue;
      if (t >= layout.tokens) {
        LABELGRAPH_THROW(argument_error("targets: row " + std::to_string(r) + ": token " + std::to_string(t) +
                                        " is outside the layout (" + std::to_string(layout.tokens) + " tokens)"));
      }
      if (!mask.allows(layout, r, t)) {
        const std::string which = mask.kind == mask_kind::candidates
                                      ? "not a candidate of node " + std::to_string(mask.nodes(r))
                                      : "masked out";
        LABELGRAPH_THROW(argument_error("targets: row " + std::to_string(r) + ": token " + std::to_string(t) +
                                        " is outside the row's mask (" + which + ")"));
      }
    }
  }
}

}  // namespace detail

/// Fused NLL forward + gradient; see the file comment for the formulas and
/// `block_nll_tensors` for which outputs are optional.
template <backend B, class T>
void block_nll(const B& backend, const layout_view& layout, normalization norm, const row_mask& mask,
               const block_nll_tensors<T>& tensors, regularizer reg = {}) {
  const std::size_t rows = tensors.logits.extent(0);
  detail::check_tensor<B>("logits", tensors.logits, {rows, layout.tokens});
  detail::check_tensor<B>("targets", tensors.targets, {rows});
  detail::check_optional_tensor<B>("weights", tensors.weights, {rows});
  detail::check_tensor<B>("loss", tensors.loss, {rows});
  detail::check_optional_tensor<B>("grad_logits", tensors.grad_logits, {rows, layout.tokens});
  detail::check_optional_tensor<B>("log_normalizer", tensors.log_normalizer, {rows});
  detail::check_optional_tensor<B>("total", tensors.total, {1});
  detail::check_normalization(norm, mask);
  detail::check_mask<B>(mask, layout, rows);
  if (reg.kind != regularizer_kind::none && !(reg.epsilon >= 0.0 && reg.epsilon < 1.0)) {
    LABELGRAPH_THROW(argument_error("regularizer: epsilon must be in [0, 1), got " + std::to_string(reg.epsilon)));
  }
  // Aliasing: only grad_logits may be (exactly) the logits; outputs never share memory.
  detail::check_no_overlap("grad_logits", tensors.grad_logits, "logits", tensors.logits, true);
  const auto check_output = [&](std::string_view name, const auto& output) {
    detail::check_no_overlap(name, output, "logits", tensors.logits, false);
    detail::check_no_overlap(name, output, "targets", tensors.targets, false);
    detail::check_no_overlap(name, output, "weights", tensors.weights, false);
    detail::check_no_overlap(name, output, "grad_logits", tensors.grad_logits, false);
  };
  check_output("loss", tensors.loss);
  check_output("log_normalizer", tensors.log_normalizer);
  check_output("total", tensors.total);
  detail::check_no_overlap("log_normalizer", tensors.log_normalizer, "loss", tensors.loss, false);
  detail::check_no_overlap("total", tensors.total, "loss", tensors.loss, false);
  detail::check_no_overlap("total", tensors.total, "log_normalizer", tensors.log_normalizer, false);
  detail::check_no_overlap("grad_logits", tensors.grad_logits, "targets", tensors.targets, false);
  detail::check_no_overlap("grad_logits", tensors.grad_logits, "weights", tensors.weights, false);
  detail::check_targets<B, T>(layout, mask, tensors.targets);
  block_nll_kernel(backend, normalization_spec{layout, norm, mask}, reg, tensors);
}

}  // namespace labelgraph
