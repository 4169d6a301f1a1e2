#pragma once
/// \file
/// The combined training objective of the paper's Algorithm 1:
///
///   L = α · L_tf + β · L_pg
///
/// - L_tf (Eq. 2): teacher forcing on the *deterministic* paths of every
///   sample of the batch (`make_path_targets` with `deterministic_only`),
///   pooled by `sequence_nll` (the paper's best: `mean`);
/// - L_pg (Eq. 4-5): REINFORCE on paths sampled for the *uncertain* samples
///   I_pg (those with a nondeterministic path, `path_targets::uncertain_samples`),
///   rewarded by Eq. 3 against S(y) and reduced by a baseline.
///
/// The two parts read different logits (the teacher-forced run of the
/// deterministic pairs, and the teacher-forced re-run of the sampled paths),
/// so each writes its own gradient, already multiplied by α or β; the caller
/// back-propagates both through its model. One training step:
///
///     auto tf = lg::make_path_targets(graph, layout, table, labels, {.deterministic_only = true});
///     model.teacher_forced(tf.token_view(), tf_logits);                          // [pairs·T, V]
///     std::vector<lg::node_id> pg_labels = lg::select_samples(labels, tf.uncertain_samples);
///     auto model_pg = model.decoder_for(tf.uncertain_samples);                    // step function
///     auto samples = lg::sample_paths(backend, graph, layout, model_pg, pg_labels.size(), {.samples_per_input = 4, .seed = step});
///     auto rewards = lg::compute_rewards(samples, lg::ground_truth_reward(graph, pg_labels));
///     auto b = lg::compute_baselines(lg::baseline::running_mean(average), rewards, 4);
///     model_pg.teacher_forced(samples.token_matrix(), pg_logits);                 // [paths·T, V]
///     auto L = lg::combined_objective(backend, layout, {.alpha = 1.0, .beta = 0.5},
///                                     lg::teacher_forcing_part<float>{tf, tf_logits, tf_grad},
///                                     lg::policy_gradient_part<float>{samples, rewards, b, pg_logits, pg_grad});
///
/// When I_pg is empty, pass an empty `path_batch` (no paths): L = α·L_tf.

#include <cstddef>
#include <span>
#include <string>
#include <vector>

#include "labelgraph/backend/concept.hpp"
#include "labelgraph/decode/path_batch.hpp"
#include "labelgraph/error.hpp"
#include "labelgraph/loss/reinforce.hpp"
#include "labelgraph/loss/sequence_nll.hpp"
#include "labelgraph/loss/targets.hpp"
#include "labelgraph/paths/output_layout.hpp"
#include "labelgraph/tensor/tensor_view.hpp"

namespace labelgraph {

/// α and β of Algorithm 1.
struct objective_weights {
  double alpha = 1.0;  ///< weight of the teacher-forcing loss L_tf
  double beta = 1.0;   ///< weight of the policy-gradient loss L_pg
};

/// The teacher-forcing half: the deterministic pairs and their logits.
template <class T>
struct teacher_forcing_part {
  const path_targets& targets;          ///< pairs of deterministic paths (`deterministic_only`)
  tensor_view<const T, 2> logits;       ///< [pairs·T, V]
  tensor_view<T, 2> grad_logits;        ///< [pairs·T, V] output: α · ∂L_tf/∂z; may be `logits`
  sequence_nll_options options = {};    ///< normalisation, pooling (mean: the paper's best), ...; its scale is multiplied by α
};

/// The policy-gradient half: sampled paths of I_pg, rewards, baselines, logits.
template <class T>
struct policy_gradient_part {
  const path_batch& samples;            ///< from `sample_paths` on the uncertain samples
  std::span<const double> rewards;      ///< [paths] r(P), Eq. 3
  std::span<const double> baselines;    ///< [paths] b, never differentiated
  tensor_view<const T, 2> logits;       ///< [paths·T, V] teacher-forced re-run of the samples
  tensor_view<T, 2> grad_logits;        ///< [paths·T, V] output: β · ∂L_pg/∂z; may be `logits`
  reinforce_options options = {};       ///< its scale is multiplied by β
};

/// The value of Algorithm 1's loss and its parts.
struct objective_result {
  double loss = 0.0;              ///< α·L_tf + β·L_pg
  double teacher_forcing = 0.0;   ///< L_tf (unweighted)
  double policy_gradient = 0.0;   ///< L_pg (unweighted, entropy bonus included)
  reinforce_result reinforce;     ///< the REINFORCE statistics (its losses include β)
};

/// `labels` at the positions `samples` (e.g. the labels of I_pg). Throws
/// `argument_error` for a position outside `labels`.
[[nodiscard]] inline std::vector<node_id> select_samples(std::span<const node_id> labels,
                                                        std::span<const std::uint32_t> samples) {
  std::vector<node_id> selected;
  selected.reserve(samples.size());
  for (std::uint32_t s : samples) {
    if (s >= labels.size()) {
      LABELGRAPH_THROW(argument_error("select_samples: sample " + std::to_string(s) + " is outside the batch (" +
                                      std::to_string(labels.size()) + " labels)"));
    }
    selected.push_back(labels[s]);
  }
  return selected;
}

/// α·L_tf + β·L_pg (Algorithm 1): runs `sequence_nll` on the teacher-forcing
/// part with scale α and `reinforce` on the policy-gradient part with scale
/// β, each writing its own gradient. Throws `argument_error` for non-finite
/// α or β, and whatever the two losses throw for their inputs.
template <backend B, class T>
  requires detail::host_backend<B>
objective_result combined_objective(const B& backend, const output_layout& layout, const objective_weights& weights,
                                    const teacher_forcing_part<T>& teacher, const policy_gradient_part<T>& policy) {
  if (!std::isfinite(weights.alpha) || !std::isfinite(weights.beta)) {
    LABELGRAPH_THROW(argument_error("combined_objective: alpha and beta must be finite, got alpha = " +
                                    std::to_string(weights.alpha) + ", beta = " + std::to_string(weights.beta)));
  }
  objective_result result;
  // Part 1: teacher forcing on the deterministic paths (Eq. 2), weighted by α.
  std::vector<T> sample_loss(teacher.targets.samples);
  std::vector<T> total(1);
  sequence_nll_options tf_options = teacher.options;
  tf_options.scale *= weights.alpha;
  sequence_nll_workspace<B, T> workspace;
  sequence_nll(backend, layout.view(),
               sequence_nll_tensors<T>{.logits = teacher.logits,
                                       .targets = teacher.targets.view(),
                                       .token_weights = {},
                                       .pair_weights = {},
                                       .sample_loss = host_view(sample_loss),
                                       .total = host_view(total),
                                       .grad_logits = teacher.grad_logits,
                                       .pair_log_probability = {},
                                       .pair_pooling_weights = {}},
               tf_options, workspace);
  const double weighted_tf = static_cast<double>(total[0]);
  result.teacher_forcing = weights.alpha != 0.0 ? weighted_tf / weights.alpha : 0.0;
  // Part 2: REINFORCE on the uncertain samples (Eq. 4-5), weighted by β.
  reinforce_options pg_options = policy.options;
  pg_options.scale *= weights.beta;
  result.reinforce = reinforce(backend, layout, policy.samples, policy.rewards, policy.baselines, policy.logits,
                               policy.grad_logits, pg_options);
  result.policy_gradient = weights.beta != 0.0 ? result.reinforce.loss / weights.beta : 0.0;
  result.loss = weighted_tf + result.reinforce.loss;
  return result;
}

}  // namespace labelgraph
