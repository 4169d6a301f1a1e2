#pragma once
/// \file
/// `sequence_nll`: the teacher-forced path loss (Eq. 2) over a batch of
/// (sample, path) pairs, with the multi-path pooling of loss/pooling.hpp.
///
/// Logits are one row per decoder step: row r = p·T + t holds the step-t
/// logits of pair p ([pairs·T, V], the layout of `make_path_targets`). Row r's
/// per-token cost is the fused NLL of ops/block_nll.hpp with the chosen
/// normalisation (N = C(u) for `candidate`, g(t) ∩ M for `block`, M for
/// `full`, with M = C(u) when `candidate_mask` is on, u = the row's current
/// node), the regulariser, and the per-token weight ω_r:
///
///     ℓ(P) = Σ_t ω_{p·T+t} · nll_reg(z_{p·T+t}, v_t)          (Eq. 2, one path)
///
/// Free and padded steps (`no_token`) cost nothing. The sample losses L_s
/// pool ℓ over each sample's pairs (mean, sum, random, marginal, best: see
/// loss/pooling.hpp), the total is scale · Σ_s L_s, and the gradient is that
/// of the total. Every pooling is linear in the per-row costs once its pair
/// weights a_P = ∂L_s/∂ℓ(P) are known, so the gradient is each row's fused
/// `block_nll` gradient times scale · a_P · ω_r:
/// - mean / sum / random: a_P = c_P/n_s, c_P, c_P·[P = Q] are known up front:
///   one pass over the logits with row weights scale · a_P · ω_r (loss and
///   gradient together);
/// - marginal: a_P = c_P e^{−ℓ(P)} / Σ_P' c_P' e^{−ℓ(P')} (the posterior of P),
///   best: a_P = [P = argmin]: a_P needs every ℓ(P) first, so the one pass over
///   the logits runs with row weights ω_r, and `scale_target_sets_kernel` then
///   multiplies each row's set N(v_t) of the gradient by scale · a_P (the
///   gradient is 0 outside it): a pass over the sets, not over the logits.
/// Nothing larger than [pairs·T] scalars is allocated (the workspace).
///
/// Pair weights c_P may be negative for mean / sum / random: with pooling
/// `sum` and c_P = r(P) − b the total is the REINFORCE surrogate
/// L_pg = Σ_P (r(P) − b)·(−log p(P)) of Eq. 4-5 and its gradient the
/// estimator of Eq. 5 (the baseline receives no gradient: it is a constant).
///
/// Memory: logits, gradient, token weights and the targets' token and node
/// tensors live in the backend's memory space; the pair- and sample-level
/// tensors (sample_offsets, pair weights, every [pairs] / [samples] output)
/// are read and written on the host, where the O(pairs) pooling runs.
///
///     lg::path_targets targets = lg::make_path_targets(graph, layout, table, labels);
///     std::vector<float> sample_loss(targets.samples);
///     lg::sequence_nll_tensors<float> io{.logits = logits, .targets = targets.view(),
///                                        .sample_loss = lg::host_view(sample_loss), .grad_logits = logits};
///     lg::sequence_nll(backend, layout.view(), io, {.pool = lg::pooling::marginal});

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <string>
#include <vector>

#include "labelgraph/backend/concept.hpp"
#include "labelgraph/backend/philox.hpp"
#include "labelgraph/error.hpp"
#include "labelgraph/loss/pooling.hpp"
#include "labelgraph/loss/targets.hpp"
#include "labelgraph/ops/block_nll.hpp"
#include "labelgraph/ops/detail/validate.hpp"
#include "labelgraph/ops/mask.hpp"
#include "labelgraph/ops/options.hpp"
#include "labelgraph/paths/output_layout.hpp"
#include "labelgraph/tensor/buffer.hpp"
#include "labelgraph/tensor/tensor_view.hpp"

namespace labelgraph {

/// Options of `sequence_nll`.
struct sequence_nll_options {
  normalization norm = normalization::candidate;  ///< the step distribution (see `normalization`)
  bool candidate_mask = true;    ///< `block` / `full`: normalise within M = C(u) (off: the paper's unmasked block softmax)
  regularizer reg = {};          ///< label smoothing / MaxSup inside each row's normalisation set
  pooling pool = pooling::mean;  ///< reduction over a sample's paths
  std::uint64_t seed = 0;        ///< `random` pooling: Philox key (change it every training step)
  double scale = 1.0;            ///< multiplies every loss and the gradient (e.g. 1 / batch size, or α of Algorithm 1)
};

/// The tensors of `sequence_nll`; empty views are "not wanted". Rows = pairs·T.
template <class T>
struct sequence_nll_tensors {
  tensor_view<const T, 2> logits{};              ///< [pairs·T, V] input (backend memory)
  sequence_targets targets{};                    ///< tokens / nodes [pairs, T] (backend memory), sample_offsets (host)
  tensor_view<const T, 1> token_weights{};       ///< [pairs·T] optional per-step weights ω (backend memory)
  tensor_view<const T, 1> pair_weights{};        ///< [pairs] optional c_P (host); see loss/pooling.hpp
  tensor_view<T, 1> sample_loss{};               ///< [samples] output (host), required: scale · L_s
  tensor_view<T, 1> total{};                     ///< [1] output (host), optional: scale · Σ_s L_s, summed in order in double
  tensor_view<T, 2> grad_logits{};               ///< [pairs·T, V] output, optional: d total / d logits; may be `logits`
  tensor_view<T, 1> pair_log_probability{};      ///< [pairs] output (host), optional: log p(P) = Σ_t log p(v_t | u_t)
  tensor_view<T, 1> pair_pooling_weights{};      ///< [pairs] output (host), optional: a_P = ∂L_s/∂ℓ(P)
};

namespace detail {
template <backend B, class T>
struct sequence_nll_pass;
}  // namespace detail

/// Reusable [rows] scratch of `sequence_nll` (row weights, row losses,
/// log-normalisers) in the backend's memory space, plus host mirrors.
template <backend B, class T>
class sequence_nll_workspace {
public:
  /// Grows the arrays to hold `rows` rows (never shrinks).
  void reserve(std::size_t rows) {
    if (row_loss_.size() >= rows) return;
    row_weights_ = buffer<T, typename B::memory_space>(rows);
    row_loss_ = buffer<T, typename B::memory_space>(rows);
    row_lse_ = buffer<T, typename B::memory_space>(rows);
    host_weights_.resize(rows);
    host_loss_.resize(rows);
    host_lse_.resize(rows);
  }

private:
  template <backend Backend, class Value>
  friend struct detail::sequence_nll_pass;
  buffer<T, typename B::memory_space> row_weights_;
  buffer<T, typename B::memory_space> row_loss_;
  buffer<T, typename B::memory_space> row_lse_;
  std::vector<T> host_weights_;
  std::vector<T> host_loss_;
  std::vector<T> host_lse_;
};

namespace detail {

/// A host-side [n] view must live in host memory (the pooling runs there).
template <class V>
void check_host_tensor(std::string_view name, const V& view, std::size_t expected, bool required) {
  if (view.empty() && !required) return;
  if (view.empty()) {
    if (expected == 0) return;
    LABELGRAPH_THROW(shape_error(std::string(name) + ": expected [" + std::to_string(expected) + "], got no tensor"));
  }
  if (view.extent(0) != expected) {
    LABELGRAPH_THROW(shape_error(std::string(name) + ": expected [" + std::to_string(expected) + "], got [" +
                                 std::to_string(view.extent(0)) + "]"));
  }
  if (view.stride(0) != 1 && expected > 1) {
    LABELGRAPH_THROW(shape_error(std::string(name) + ": must be contiguous (stride 1), got stride " +
                                 std::to_string(view.stride(0))));
  }
  if (!accessible_from<host_space>(view.where())) {
    LABELGRAPH_THROW(shape_error(std::string(name) + ": in memory space " + view.where().str() +
                                 ", sequence_nll reads it on the host"));
  }
}

/// A [pairs, T] targets tensor: the extents, dense rows (it is read as [pairs·T]).
template <backend B, class V>
void check_step_tensor(std::string_view name, const V& view, std::size_t pairs, std::size_t steps) {
  check_tensor<B>(name, view, {pairs, steps});
  if (pairs > 1 && steps > 0 && view.stride(0) != steps) {
    LABELGRAPH_THROW(shape_error(std::string(name) + ": rows must be dense (row stride " + std::to_string(steps) +
                                 "), got row stride " + std::to_string(view.stride(0))));
  }
}

/// Validates everything `sequence_nll` reads on the host and the shapes of the rest.
template <backend B, class T>
void check_sequence_nll_call(const layout_view& layout, const sequence_nll_tensors<T>& io,
                             const sequence_nll_options& options) {
  const sequence_targets& targets = io.targets;
  const std::size_t pairs = targets.tokens.extent(0);
  const std::size_t steps = targets.steps;
  check_step_tensor<B>("targets.tokens", targets.tokens, pairs, steps);
  check_step_tensor<B>("targets.nodes", targets.nodes, pairs, steps);
  check_tensor<B>("logits", io.logits, {pairs * steps, layout.tokens});
  check_host_tensor("targets.sample_offsets", targets.sample_offsets, targets.sample_offsets.extent(0), true);
  if (targets.sample_offsets.extent(0) == 0) {
    LABELGRAPH_THROW(shape_error("targets.sample_offsets: expected [samples + 1], got [0]"));
  }
  const std::size_t samples = targets.samples();
  const auto& offsets = targets.sample_offsets;
  if (offsets(0) != 0) {
    LABELGRAPH_THROW(argument_error("targets.sample_offsets: must start at 0, got " + std::to_string(offsets(0))));
  }
  for (std::size_t s = 0; s < samples; ++s) {
    if (offsets(s + 1) < offsets(s)) {
      LABELGRAPH_THROW(argument_error("targets.sample_offsets: must not decrease, got " + std::to_string(offsets(s)) +
                                      " then " + std::to_string(offsets(s + 1)) + " at sample " + std::to_string(s)));
    }
  }
  if (offsets(samples) != pairs) {
    LABELGRAPH_THROW(argument_error("targets.sample_offsets: must end at the number of pairs (" +
                                    std::to_string(pairs) + "), got " + std::to_string(offsets(samples))));
  }
  check_optional_tensor<B>("token_weights", io.token_weights, {pairs * steps});
  check_host_tensor("pair_weights", io.pair_weights, pairs, false);
  check_host_tensor("sample_loss", io.sample_loss, samples, true);
  check_host_tensor("total", io.total, 1, false);
  check_host_tensor("pair_log_probability", io.pair_log_probability, pairs, false);
  check_host_tensor("pair_pooling_weights", io.pair_pooling_weights, pairs, false);
  check_optional_tensor<B>("grad_logits", io.grad_logits, {pairs * steps, layout.tokens});
  if (!std::isfinite(options.scale)) {
    LABELGRAPH_THROW(argument_error("sequence_nll: scale must be finite, got " + std::to_string(options.scale)));
  }
  const bool prior_weights = options.pool == pooling::marginal || options.pool == pooling::best;
  for (std::size_t p = 0; p < (io.pair_weights.empty() ? 0 : pairs); ++p) {
    const double c = static_cast<double>(io.pair_weights(p));
    if (!std::isfinite(c) || (prior_weights && c < 0.0)) {
      LABELGRAPH_THROW(argument_error("pair_weights: pair " + std::to_string(p) + ": weight " + std::to_string(c) +
                                      (prior_weights ? " must be finite and >= 0 with pooling " : " must be finite with pooling ") +
                                      std::string(to_string(options.pool))));
    }
  }
  if constexpr (host_backend<B>) {  // name the pair and step of a bad target
    for (std::size_t p = 0; p < pairs; ++p) {
      for (std::size_t t = 0; t < steps; ++t) {
        const token_id v = targets.tokens(p, t);
        const node_id u = targets.nodes(p, t);
        const auto place = [&] { return "pair " + std::to_string(p) + ", step " + std::to_string(t); };
        if (u >= layout.nodes) {
          LABELGRAPH_THROW(argument_error("targets.nodes: " + place() + ": node " + std::to_string(u) +
                                          " is outside the graph (" + std::to_string(layout.nodes) + " nodes)"));
        }
        if (v == no_token) continue;
        if (v >= layout.tokens) {
          LABELGRAPH_THROW(argument_error("targets.tokens: " + place() + ": token " + std::to_string(v) +
                                          " is outside the layout (" + std::to_string(layout.tokens) + " tokens)"));
        }
        const bool masked = options.norm == normalization::candidate || options.candidate_mask;
        if (masked && !row_mask::from_candidates(targets.row_nodes()).allows(layout, p * steps + t, v)) {
          LABELGRAPH_THROW(argument_error("targets.tokens: " + place() + ": token " + std::to_string(v) +
                                          " is not a candidate of node " + std::to_string(u)));
        }
      }
    }
  }
}

/// One call of the fused NLL over all rows with the workspace's row weights
/// (or the token weights), writing row losses and log-normalisers into the
/// workspace and, when asked, the gradient; then mirrors them to the host.
/// `rescale` multiplies the gradient's sets by the workspace's row weights.
template <backend B, class T>
struct sequence_nll_pass {
  static row_mask mask_of(const sequence_nll_tensors<T>& io, const sequence_nll_options& options) {
    return options.norm == normalization::candidate || options.candidate_mask
               ? row_mask::from_candidates(io.targets.row_nodes())
               : row_mask::all();
  }

  static void run(const B& backend, const layout_view& layout, const sequence_nll_tensors<T>& io,
                  const sequence_nll_options& options, sequence_nll_workspace<B, T>& workspace, bool use_row_weights,
                  bool want_gradient, bool want_log_normalizer) {
    const std::size_t rows = io.targets.rows();
    if (use_row_weights && rows != 0) {
      backend.copy_from_host(workspace.host_weights_.data(), workspace.row_weights_.data(), rows);
    }
    const row_mask mask = mask_of(io, options);
    const auto where = buffer<T, typename B::memory_space>::where();
    block_nll_tensors<T> tensors{
        .logits = io.logits,
        .targets = io.targets.row_tokens(),
        .weights = use_row_weights ? tensor_view<const T, 1>(workspace.row_weights_.data(), {rows}, where)
                                   : io.token_weights,
        .loss = tensor_view<T, 1>(workspace.row_loss_.data(), {rows}, where),
        .grad_logits = want_gradient ? io.grad_logits : tensor_view<T, 2>{},
        .log_normalizer = want_log_normalizer ? tensor_view<T, 1>(workspace.row_lse_.data(), {rows}, where)
                                              : tensor_view<T, 1>{},
        .total = {}};
    block_nll(backend, layout, options.norm, mask, tensors, options.reg);
    if (rows == 0) return;
    backend.copy_to_host(workspace.row_loss_.data(), workspace.host_loss_.data(), rows);
    if (want_log_normalizer) backend.copy_to_host(workspace.row_lse_.data(), workspace.host_lse_.data(), rows);
  }

  static void rescale(const B& backend, const layout_view& layout, const sequence_nll_tensors<T>& io,
                      const sequence_nll_options& options, sequence_nll_workspace<B, T>& workspace) {
    const std::size_t rows = io.targets.rows();
    if (rows == 0) return;
    backend.copy_from_host(workspace.host_weights_.data(), workspace.row_weights_.data(), rows);
    const auto where = buffer<T, typename B::memory_space>::where();
    scale_target_sets_kernel(backend, normalization_spec{layout, options.norm, mask_of(io, options)},
                             io.targets.row_tokens(), tensor_view<const T, 1>(workspace.row_weights_.data(), {rows}, where),
                             io.grad_logits);
  }

  /// Host mirror of the row losses / log-normalisers / row weights.
  static std::vector<T>& host_loss(sequence_nll_workspace<B, T>& workspace) { return workspace.host_loss_; }
  static std::vector<T>& host_lse(sequence_nll_workspace<B, T>& workspace) { return workspace.host_lse_; }
  static std::vector<T>& host_weights(sequence_nll_workspace<B, T>& workspace) { return workspace.host_weights_; }
};

/// The token weights on the host (a copy for device backends), or empty.
template <backend B, class T>
std::vector<T> token_weights_on_host(const B& backend, tensor_view<const T, 1> weights) {
  std::vector<T> host;
  if (weights.empty()) return host;
  host.resize(weights.extent(0));
  if (!host.empty()) backend.copy_to_host(weights.data(), host.data(), host.size());
  return host;
}

}  // namespace detail

/// Teacher-forced sequence NLL with multi-path pooling: writes the sample
/// losses, optionally the total, the gradient w.r.t. the logits, log p(P) per
/// pair and the pooling weights; see the file comment. Throws `shape_error`
/// for tensors of the wrong shape or memory space, `argument_error` for bad
/// offsets, targets (naming the pair and step) or pair weights.
template <backend B, class T>
void sequence_nll(const B& backend, const layout_view& layout, const sequence_nll_tensors<T>& io,
                  const sequence_nll_options& options, sequence_nll_workspace<B, T>& workspace) {
  detail::check_sequence_nll_call<B, T>(layout, io, options);
  using pass = detail::sequence_nll_pass<B, T>;
  const std::size_t steps = io.targets.steps;
  const std::size_t pairs = io.targets.pairs();
  const std::size_t samples = io.targets.samples();
  const std::size_t rows = pairs * steps;
  const auto& offsets = io.targets.sample_offsets;
  workspace.reserve(rows);
  const auto prior = [&](std::size_t p) { return io.pair_weights.empty() ? 1.0 : static_cast<double>(io.pair_weights(p)); };
  const bool want_log_probability = !io.pair_log_probability.empty();
  const bool want_gradient = !io.grad_logits.empty();
  const bool posterior_weights = options.pool == pooling::marginal || options.pool == pooling::best;
  // log p(P) = Σ_t (z_t − lse_N(t)): on host backends z_t is read here, before
  // a gradient written in place overwrites it, and lse comes from the loss
  // pass; elsewhere a plain pass (no regulariser, unit weights) runs first.
  const bool lse_from_pass = want_log_probability && detail::host_backend<B>;
  std::vector<double> target_logit;
  if (lse_from_pass) {
    target_logit.assign(rows, 0.0);
    const tensor_view<const token_id, 1> row_tokens = io.targets.row_tokens();
    for (std::size_t r = 0; r < rows; ++r) {
      if (row_tokens(r) != no_token) target_logit[r] = static_cast<double>(io.logits(r, row_tokens(r)));
    }
  } else if (want_log_probability) {
    sequence_nll_options plain = options;
    plain.reg = {};
    sequence_nll_tensors<T> plain_io = io;
    plain_io.token_weights = {};
    pass::run(backend, layout, plain_io, plain, workspace, false, false, false);
    const std::vector<T>& plain_loss = pass::host_loss(workspace);
    for (std::size_t p = 0; p < pairs; ++p) {
      double log_probability = 0.0;
      for (std::size_t t = 0; t < steps; ++t) log_probability -= static_cast<double>(plain_loss[p * steps + t]);
      io.pair_log_probability(p) = static_cast<T>(log_probability);
    }
  }

  std::vector<double> pooling_weight(pairs, 0.0);  // a_P
  std::vector<double> sample_value(samples, 0.0);  // L_s before scale (posterior-weighted poolings)
  const std::vector<T> token_weights = detail::token_weights_on_host(backend, io.token_weights);
  // Row weights scale · a_P, times ω_r when `with_token_weights`.
  const auto fill_row_weights = [&](bool with_token_weights) {
    std::vector<T>& weights = pass::host_weights(workspace);
    for (std::size_t p = 0; p < pairs; ++p) {
      for (std::size_t t = 0; t < steps; ++t) {
        const std::size_t r = p * steps + t;
        const double omega = !with_token_weights || token_weights.empty() ? 1.0 : static_cast<double>(token_weights[r]);
        weights[r] = static_cast<T>(options.scale * pooling_weight[p] * omega);
      }
    }
  };

  if (posterior_weights) {
    // The one pass over the logits, row weights ω: ℓ(P) = Σ_t ω·nll_reg and
    // the gradient of each ℓ(P); then the posterior / argmin (`pool_by_posterior`).
    pass::run(backend, layout, io, options, workspace, false, want_gradient, lse_from_pass);
    const std::vector<T>& row_loss = pass::host_loss(workspace);
    std::vector<double> cost(pairs, 0.0);
    for (std::size_t p = 0; p < pairs; ++p) {
      for (std::size_t t = 0; t < steps; ++t) cost[p] += static_cast<double>(row_loss[p * steps + t]);
    }
    for (std::size_t s = 0; s < samples; ++s) {
      const std::uint32_t first = offsets(s);
      const std::uint32_t last = offsets(s + 1);
      if (first == last) continue;
      sample_value[s] = pool_by_posterior(options.pool, std::span<const double>(cost).subspan(first, last - first),
                                          [&](std::size_t i) { return prior(first + i); },
                                          std::span<double>(pooling_weight).subspan(first, last - first));
    }
    if (want_gradient) {  // d total / dz = scale · a_P · d ℓ(P) / dz: rescale each row's set
      fill_row_weights(false);
      pass::rescale(backend, layout, io, options, workspace);
    }
  } else {
    for (std::size_t s = 0; s < samples; ++s) {
      const std::uint32_t first = offsets(s);
      const std::uint32_t last = offsets(s + 1);
      if (first == last) continue;
      if (options.pool == pooling::random) {
        const double u = philox_uniform(options.seed, static_cast<std::uint32_t>(s), 0);
        const auto k = std::min<std::uint32_t>(static_cast<std::uint32_t>(u * (last - first)), last - first - 1);
        pooling_weight[first + k] = prior(first + k);
        continue;
      }
      const double share = options.pool == pooling::mean ? 1.0 / static_cast<double>(last - first) : 1.0;
      for (std::uint32_t p = first; p < last; ++p) pooling_weight[p] = share * prior(p);
    }
    fill_row_weights(true);
    pass::run(backend, layout, io, options, workspace, true, want_gradient, lse_from_pass);
  }

  // Sample losses and the total, in double, in sample order.
  double total = 0.0;
  const std::vector<T>& row_loss = pass::host_loss(workspace);
  for (std::size_t s = 0; s < samples; ++s) {
    double value = 0.0;
    if (posterior_weights) {
      value = offsets(s) == offsets(s + 1) ? 0.0 : options.scale * sample_value[s];
    } else {
      for (std::size_t r = std::size_t{offsets(s)} * steps; r < std::size_t{offsets(s + 1)} * steps; ++r) {
        value += static_cast<double>(row_loss[r]);
      }
    }
    io.sample_loss(s) = static_cast<T>(value);
    total += value;
  }
  if (!io.total.empty()) io.total(0) = static_cast<T>(total);
  if (!io.pair_pooling_weights.empty()) {
    for (std::size_t p = 0; p < pairs; ++p) io.pair_pooling_weights(p) = static_cast<T>(pooling_weight[p]);
  }
  if (!lse_from_pass) return;
  const std::vector<T>& lse = pass::host_lse(workspace);
  for (std::size_t p = 0; p < pairs; ++p) {
    double log_probability = 0.0;
    for (std::size_t t = 0; t < steps; ++t) {
      const std::size_t r = p * steps + t;
      if (io.targets.tokens(p, t) != no_token) log_probability += target_logit[r] - static_cast<double>(lse[r]);
    }
    io.pair_log_probability(p) = static_cast<T>(log_probability);
  }
}

/// `sequence_nll` with a one-off workspace (allocates [pairs·T] scratch).
template <backend B, class T>
void sequence_nll(const B& backend, const layout_view& layout, const sequence_nll_tensors<T>& io,
                  const sequence_nll_options& options = {}) {
  sequence_nll_workspace<B, T> workspace;
  sequence_nll(backend, layout, io, options, workspace);
}

}  // namespace labelgraph
