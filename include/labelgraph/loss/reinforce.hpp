#pragma once
/// \file
/// The REINFORCE loss of sampled paths (the paper's Eq. 4-5, Williams 1992)
/// and its gradient w.r.t. the logits.
///
/// Given paths P sampled by `sample_paths`, their rewards r(P) (Eq. 3 or any
/// `reward_function`) and baselines b(P) (loss/baseline.hpp, constants), the
/// caller re-evaluates its model teacher-forced on the sampled tokens (so its
/// own autograd sees the computation) and passes those logits, one row per
/// step: row P·T + t holds the logits of step t of path P ([rows · T, V]).
/// With N = the number of paths (`path_reduction::mean`) or 1 (`sum`, the
/// paper's Σ), λ the entropy weight and s the scale (β of Algorithm 1, default 1):
///
///   L = (s/N) Σ_P [ (r(P) − b(P)) · (−log p(P))  −  λ Σ_t H(p(· | u_t)) ]
///   −log p(P) = Σ_{t < |P|} (lse_{N(v_t)} z_t − z_{t, v_t})          (Eq. 2 on the sampled tokens)
///   H(p(· | u)) = −Σ_{v ∈ C(u)} p(v|u) log p(v|u)                     (candidate softmax)
///
///   ∂L/∂z_{t,v} = s(r − b)/N · (p_t(v) − 1[v = v_t])   on N(v_t), 0 elsewhere   (Eq. 5)
///               + sλ/N · p(v|u_t) (log p(v|u_t) + H_t)  on C(u_t)
///
/// so E[∂L/∂z] = −∂E_P[r(P)]/∂z (minus the entropy term): the estimator of
/// the gradient of the expected reward, unbiased for any b that does not
/// depend on the path. The first term is the fused NLL of the sampled tokens
/// with pair weights r − b, pooling `sum` and scale 1/N (`sequence_nll`, the
/// fused NLL underneath; normalisation `candidate` by
/// default: exactly the distribution `max_candidate` sampling draws from;
/// `block` reproduces the paper literally but is the sampling distribution
/// only where C(u) is a single group). Nothing larger than the logits is
/// materialised; the gradient may be written over the logits (in place).
///
///     auto samples = lg::sample_paths(backend, graph, layout, model, inputs, {.samples_per_input = 4, .seed = s});
///     auto rewards = lg::compute_rewards(samples, lg::ground_truth_reward(graph, labels));
///     auto b = lg::compute_baselines(lg::baseline::leave_one_out(), rewards, 4);
///     model_forward_teacher_forced(samples.token_matrix(), logits);        // [inputs·4·T, V]
///     lg::reinforce_result pg = lg::reinforce(backend, layout, samples, rewards, b, logits, grad);

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "labelgraph/backend/concept.hpp"
#include "labelgraph/decode/path_batch.hpp"
#include "labelgraph/error.hpp"
#include "labelgraph/loss/baseline.hpp"
#include "labelgraph/loss/reward.hpp"
#include "labelgraph/loss/pooling.hpp"
#include "labelgraph/loss/sequence_nll.hpp"
#include "labelgraph/ops/mask.hpp"
#include "labelgraph/ops/options.hpp"
#include "labelgraph/paths/output_layout.hpp"
#include "labelgraph/tensor/tensor_view.hpp"

namespace labelgraph {

/// How the per-path terms are combined.
enum class path_reduction : std::uint8_t {
  mean,  ///< divided by the number of paths (independent of the batch size)
  sum    ///< the paper's Σ_P
};

/// Options of `reinforce`.
struct reinforce_options {
  normalization norm = normalization::candidate;   ///< how log p(v_t | u_t) is evaluated (mask C(u_t) always)
  double entropy_weight = 0.0;                     ///< λ >= 0 of the entropy bonus
  path_reduction reduction = path_reduction::mean; ///< N = paths (mean) or 1 (sum)
  double scale = 1.0;                              ///< multiplies the loss and the gradient (β of Algorithm 1)
};

/// What one REINFORCE step measured (all over the paths of the batch).
struct reinforce_statistics {
  std::size_t paths = 0;                ///< paths in the batch
  std::size_t truncated = 0;            ///< paths cut by the length guard
  std::size_t dead_ends = 0;            ///< paths stopped without a legal move
  double mean_reward = 0.0;             ///< mean r(P)
  double reward_variance = 0.0;         ///< population variance of r(P)
  double mean_baseline = 0.0;           ///< mean b(P)
  double advantage_variance = 0.0;      ///< population variance of r(P) − b(P)
  double mean_log_probability = 0.0;    ///< mean log p(P) under the re-evaluated logits
  double mean_entropy = 0.0;            ///< mean Σ_t H(p(· | u_t)) per path
  /// Estimator variance measure: mean over paths of ‖(r − b)·∇_z log p(P)‖².
  /// The mean gradient does not depend on the baseline, so the difference of
  /// this value between two baselines is the difference of the estimators'
  /// total variances (trace of the covariance).
  double gradient_second_moment = 0.0;
};

/// The loss and its statistics; the gradient went to `grad_logits`.
struct reinforce_result {
  double loss = 0.0;            ///< L = policy_loss − s·λ·entropy/N
  double policy_loss = 0.0;     ///< (s/N) Σ_P (r − b)·(−log p(P))
  double entropy = 0.0;         ///< Σ_P Σ_t H_t (before the 1/N and λ)
  reinforce_statistics statistics;  ///< what the step measured
};

/// Reusable storage of `reinforce` (grows to the largest call).
template <backend B, class T>
struct reinforce_workspace {
  sequence_nll_workspace<B, T> sequence;  ///< the fused NLL's [rows] scratch
  std::vector<T> pair_weights;            ///< [paths] r − b
  std::vector<std::uint32_t> offsets;     ///< [inputs + 1] paths of input i: [i·K, (i+1)·K)
  std::vector<T> input_loss;              ///< [inputs] policy loss per input
  std::vector<T> total;                   ///< [1]
  std::vector<std::size_t> entropy_rows;  ///< entropy-bonus gradient entries: row,
  std::vector<token_id> entropy_tokens;   ///< token,
  std::vector<double> entropy_gradient;   ///< and value
};

namespace detail {

/// What `reinforce` measures at one step of a path, from its logits row.
struct reinforce_step {
  double log_probability = 0.0;  ///< log p(v_t | u_t) under the loss's normalisation
  double gradient_norm = 0.0;    ///< ‖∇_z log p(v_t | u_t)‖² = Σ_{N} (p_w − 1[w = v_t])²
  double entropy = 0.0;          ///< H(p(· | u_t)), the candidate softmax
};

/// log-sum-exp of z over the members of C(u) accepted by `keep` (−inf if none has mass).
template <class T, class Keep>
double candidate_log_sum_exp(const layout_view& layout, const T* z, node_id u, Keep&& keep) {
  double maximum = -std::numeric_limits<double>::infinity();
  for (std::uint32_t i = layout.candidate_offsets[u]; i < layout.candidate_offsets[u + 1]; ++i) {
    const token_id w = layout.candidate_tokens[i];
    if (keep(w) && static_cast<double>(z[w]) > maximum) maximum = static_cast<double>(z[w]);
  }
  if (!(maximum > -std::numeric_limits<double>::infinity()) || !std::isfinite(maximum)) return maximum;
  double sum = 0.0;
  for (std::uint32_t i = layout.candidate_offsets[u]; i < layout.candidate_offsets[u + 1]; ++i) {
    const token_id w = layout.candidate_tokens[i];
    if (keep(w)) sum += std::exp(static_cast<double>(z[w]) - maximum);
  }
  return maximum + std::log(sum);
}

/// The statistics of step (z, u, v) and, through `entropy_gradient(w, ∂H/∂z_w)`,
/// the entropy's gradient ∂H/∂z_w = −p_w (log p_w + H) on C(u).
template <class T, class EntropyGradient>
reinforce_step measure_step(const layout_view& layout, normalization norm, const T* z, node_id u, token_id v,
                            EntropyGradient&& entropy_gradient) {
  reinforce_step step;
  // N(v): g(v) ∩ C(u) for block, C(u) for full / candidate (the mask is always C(u)).
  const auto in_set = [&](token_id w) { return norm != normalization::block || layout.token_group[w] == layout.token_group[v]; };
  const double set_lse = candidate_log_sum_exp(layout, z, u, in_set);
  step.log_probability = static_cast<double>(z[v]) - set_lse;
  const double candidate_lse = candidate_log_sum_exp(layout, z, u, [](token_id) { return true; });
  const bool has_mass = std::isfinite(candidate_lse);
  for (std::uint32_t i = layout.candidate_offsets[u]; i < layout.candidate_offsets[u + 1]; ++i) {
    const token_id w = layout.candidate_tokens[i];
    const double zw = static_cast<double>(z[w]);
    if (in_set(w) && std::isfinite(set_lse)) {
      const double unit = std::exp(zw - set_lse) - (w == v ? 1.0 : 0.0);
      step.gradient_norm += unit * unit;
    }
    if (has_mass) {
      const double log_p = zw - candidate_lse;
      const double p = std::exp(log_p);
      if (p > 0.0) step.entropy -= p * log_p;
    }
  }
  if (has_mass) {
    for (std::uint32_t i = layout.candidate_offsets[u]; i < layout.candidate_offsets[u + 1]; ++i) {
      const token_id w = layout.candidate_tokens[i];
      const double log_p = static_cast<double>(z[w]) - candidate_lse;
      const double p = std::exp(log_p);
      if (p > 0.0) entropy_gradient(w, -p * (log_p + step.entropy));
    }
  }
  return step;
}

}  // namespace detail

/// REINFORCE loss, gradient (into `grad_logits`, [rows · T, V], may be the
/// logits themselves) and statistics for the sampled `paths` with per-path
/// `rewards` and `baselines`. Throws `shape_error` for tensors or spans of
/// the wrong size, `argument_error` for non-finite rewards or baselines, a
/// negative entropy weight, or a token that is not a legal move of its step.
/// Host backends.
template <backend B, class T>
  requires detail::host_backend<B>
reinforce_result reinforce(const B& backend, const output_layout& layout, const path_batch& paths,
                           std::span<const double> rewards, std::span<const double> baselines,
                           std::type_identity_t<tensor_view<const T, 2>> logits, tensor_view<T, 2> grad_logits,
                           const reinforce_options& options, reinforce_workspace<B, T>& workspace) {
  const std::size_t count = paths.rows();
  const std::size_t steps = paths.max_length();
  const std::size_t rows = count * steps;
  const layout_view view = layout.view();
  if (rewards.size() != count) {
    LABELGRAPH_THROW(shape_error("rewards: expected [" + std::to_string(count) + "], got [" + std::to_string(rewards.size()) + "]"));
  }
  if (baselines.size() != count) {
    LABELGRAPH_THROW(shape_error("baselines: expected [" + std::to_string(count) + "], got [" +
                                 std::to_string(baselines.size()) + "]"));
  }
  if (!(options.entropy_weight >= 0.0) || !std::isfinite(options.entropy_weight)) {
    LABELGRAPH_THROW(argument_error("reinforce: entropy_weight must be finite and >= 0, got " +
                                    std::to_string(options.entropy_weight)));
  }
  detail::check_tensor<B>("logits", logits, {rows, view.tokens});
  detail::check_tensor<B>("grad_logits", grad_logits, {rows, view.tokens});
  if (!std::isfinite(options.scale)) {
    LABELGRAPH_THROW(argument_error("reinforce: scale must be finite, got " + std::to_string(options.scale)));
  }
  // The factor of every per-path term: scale / N.
  const double scale =
      options.scale * (options.reduction == path_reduction::mean && count != 0 ? 1.0 / static_cast<double>(count) : 1.0);

  reinforce_result result;
  reinforce_statistics& stats = result.statistics;
  stats.paths = count;
  workspace.pair_weights.resize(count);
  workspace.offsets.resize(paths.inputs() + 1);
  for (std::size_t i = 0; i <= paths.inputs(); ++i) workspace.offsets[i] = static_cast<std::uint32_t>(i * paths.paths_per_input());
  workspace.input_loss.resize(paths.inputs());
  workspace.total.resize(1);
  double reward_sum = 0.0;
  double baseline_sum = 0.0;
  for (std::size_t p = 0; p < count; ++p) {
    for (const auto& [name, value] : {std::pair<const char*, double>{"rewards", rewards[p]}, {"baselines", baselines[p]}}) {
      if (!std::isfinite(value)) {
        LABELGRAPH_THROW(argument_error(std::string(name) + ": path " + std::to_string(p) + " (input " +
                                        std::to_string(paths.input_of(p)) + "): the value is " + std::to_string(value) +
                                        "; rewards and baselines must be finite"));
      }
    }
    reward_sum += rewards[p];
    baseline_sum += baselines[p];
    stats.truncated += paths.status(p) == path_status::truncated ? 1u : 0u;
    stats.dead_ends += paths.status(p) == path_status::dead_end ? 1u : 0u;
    workspace.pair_weights[p] = static_cast<T>(rewards[p] - baselines[p]);  // Eq. 5's r − b: a constant, no gradient
  }

  // Σ_P (r − b)/N · (−log p(P)) and its gradient (Eq. 4-5): the teacher-forced
  // sequence NLL of the sampled tokens with pair weights r − b, pooling sum,
  // scale 1/N -- one pass of the fused NLL over every step.
  sequence_nll_tensors<T> nll{.logits = logits,
                              .targets = {steps, paths.token_matrix(), paths.step_node_matrix(),
                                          host_view(std::as_const(workspace.offsets))},
                              .token_weights = {},
                              .pair_weights = host_view(std::as_const(workspace.pair_weights)),
                              .sample_loss = host_view(workspace.input_loss),
                              .total = host_view(workspace.total),
                              .grad_logits = grad_logits,
                              .pair_log_probability = {},
                              .pair_pooling_weights = {}};
  const sequence_nll_options nll_options{.norm = options.norm, .pool = pooling::sum, .scale = scale};
  detail::check_sequence_nll_call<B, T>(view, nll, nll_options);  // every token a legal move, before reading any logit

  // Per-step statistics and the entropy bonus's gradient, read from the
  // logits before the fused NLL may overwrite them (in place).
  const tensor_view<const node_id, 1> step_nodes = paths.flat_step_nodes();
  const tensor_view<const token_id, 1> step_tokens = paths.flat_tokens();
  const double entropy_scale = options.entropy_weight * scale;
  workspace.entropy_rows.clear();
  workspace.entropy_tokens.clear();
  workspace.entropy_gradient.clear();
  double log_probability_sum = 0.0;
  double second_moment_sum = 0.0;
  double advantage_square_sum = 0.0;
  double reward_square_sum = 0.0;
  for (std::size_t p = 0; p < count; ++p) {
    const double advantage = rewards[p] - baselines[p];
    reward_square_sum += rewards[p] * rewards[p];
    advantage_square_sum += advantage * advantage;
    double log_probability = 0.0;
    double gradient_norm = 0.0;
    for (std::size_t t = 0; t < paths.length(p); ++t) {
      const std::size_t row = p * steps + t;
      const token_id v = step_tokens(row);
      const detail::reinforce_step measured =
          detail::measure_step(view, options.norm, logits.row(row), step_nodes(row), v, [&](token_id w, double d_entropy) {
            if (entropy_scale != 0.0) {  // ∂(−sλ/N · H)/∂z_w
              workspace.entropy_rows.push_back(row);
              workspace.entropy_tokens.push_back(w);
              workspace.entropy_gradient.push_back(-entropy_scale * d_entropy);
            }
          });
      log_probability += measured.log_probability;
      gradient_norm += measured.gradient_norm;
      result.entropy += measured.entropy;
    }
    log_probability_sum += log_probability;
    second_moment_sum += advantage * advantage * gradient_norm;
  }

  // Σ_P (r − b)/N · (−log p(P)) and its gradient.
  sequence_nll(backend, view, nll, nll_options, workspace.sequence);
  result.policy_loss = static_cast<double>(workspace.total[0]);
  for (std::size_t i = 0; i < workspace.entropy_rows.size(); ++i) {
    T& g = grad_logits(workspace.entropy_rows[i], workspace.entropy_tokens[i]);
    g = static_cast<T>(static_cast<double>(g) + workspace.entropy_gradient[i]);
  }
  result.loss = result.policy_loss - entropy_scale * result.entropy;
  if (count != 0) {
    const double n = static_cast<double>(count);
    stats.mean_reward = reward_sum / n;
    stats.mean_baseline = baseline_sum / n;
    stats.reward_variance = std::max(0.0, reward_square_sum / n - stats.mean_reward * stats.mean_reward);
    const double mean_advantage = stats.mean_reward - stats.mean_baseline;
    stats.advantage_variance = std::max(0.0, advantage_square_sum / n - mean_advantage * mean_advantage);
    stats.mean_log_probability = log_probability_sum / n;
    stats.mean_entropy = result.entropy / n;
    stats.gradient_second_moment = second_moment_sum / n;
  }
  return result;
}

/// `reinforce` with a workspace of its own and default options.
template <backend B, class T>
  requires detail::host_backend<B>
reinforce_result reinforce(const B& backend, const output_layout& layout, const path_batch& paths,
                           std::span<const double> rewards, std::span<const double> baselines,
                           std::type_identity_t<tensor_view<const T, 2>> logits, tensor_view<T, 2> grad_logits,
                           const reinforce_options& options = {}) {
  reinforce_workspace<B, T> workspace;
  return reinforce(backend, layout, paths, rewards, baselines, logits, grad_logits, options, workspace);
}

/// `reinforce` that first computes the rewards with `reward` and the
/// baselines with `choice` (a running mean is updated).
template <backend B, class T, reward_function F>
  requires detail::host_backend<B>
reinforce_result reinforce(const B& backend, const output_layout& layout, const path_batch& paths, const F& reward,
                           const baseline& choice, std::type_identity_t<tensor_view<const T, 2>> logits,
                           tensor_view<T, 2> grad_logits, const reinforce_options& options = {}) {
  const std::vector<double> rewards = compute_rewards(paths, reward);
  const std::vector<double> baselines = compute_baselines(choice, rewards, paths.paths_per_input());
  return reinforce(backend, layout, paths, std::span<const double>(rewards), std::span<const double>(baselines), logits,
                   grad_logits, options);
}

}  // namespace labelgraph
