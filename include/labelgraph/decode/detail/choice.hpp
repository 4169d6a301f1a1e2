#pragma once
/// \file
/// The decoders' distribution over a row's candidates C(u), in log space,
/// built on the same per-candidate scores as the sampling and argmax kernels
/// (ops/detail/candidate_choice.hpp), so that the log-probability a decoder
/// reports is exactly that of the distribution it drew from:
///
///   log q(v | u) = log w(v) − log Σ_{w' ∈ C(u)} w(w')
///
/// with w the rule's weight: `max_candidate` w(v) ∝ exp z_v, so q = p(v|u),
/// the candidate softmax; `max_block` w(v) = p_blk(v), so q is the block
/// softmax renormalised over C(u). Candidates of weight 0 (−inf or NaN
/// logits) get log q = −inf.

#include <cmath>
#include <limits>

#include "labelgraph/ops/detail/candidate_choice.hpp"
#include "labelgraph/ops/options.hpp"
#include "labelgraph/paths/output_layout.hpp"

namespace labelgraph::detail {

/// log Σ_{C(u)} w under `rule` (−inf when no candidate has weight).
template <class T>
[[nodiscard]] double candidate_log_normalizer(const layout_view& layout, decode_rule rule, const T* row, node_id u) noexcept {
  constexpr double minus_infinity = -std::numeric_limits<double>::infinity();
  double maximum = minus_infinity;
  for_each_candidate_score(layout, rule, row, u, [&](token_id, double log_weight) {
    if (log_weight > maximum) maximum = log_weight;  // false for NaN
  });
  if (maximum == minus_infinity) return minus_infinity;
  double sum = 0.0;
  for_each_candidate_score(layout, rule, row, u, [&](token_id, double log_weight) {
    if (log_weight == log_weight) sum += std::exp(log_weight - maximum);
  });
  return maximum + std::log(sum);
}

/// Calls `visit(token, log_q)` for every candidate of u in ascending token order.
template <class T, class Visit>
void for_each_candidate_log_probability(const layout_view& layout, decode_rule rule, const T* row, node_id u,
                                        Visit&& visit) {
  const double log_normalizer = candidate_log_normalizer(layout, rule, row, u);
  for_each_candidate_score(layout, rule, row, u, [&](token_id v, double log_weight) {
    const bool has_mass = log_weight == log_weight && log_normalizer > -std::numeric_limits<double>::infinity();
    visit(v, has_mass ? log_weight - log_normalizer : -std::numeric_limits<double>::infinity());
  });
}

/// log q(v | u) of one candidate v (−inf when v has no weight or is not in C(u)).
template <class T>
[[nodiscard]] double candidate_log_probability(const layout_view& layout, decode_rule rule, const T* row, node_id u,
                                               token_id v) {
  double result = -std::numeric_limits<double>::infinity();
  for_each_candidate_log_probability(layout, rule, row, u, [&](token_id candidate, double log_q) {
    if (candidate == v) result = log_q;
  });
  return result;
}

}  // namespace labelgraph::detail
