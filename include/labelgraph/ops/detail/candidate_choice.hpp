#pragma once
/// \file
/// The one scalar routine every backend uses to sample or pick a row's next
/// token among its candidates C(u). Sharing it (host and device) is what makes
/// "same seed, same samples on every backend" hold bit for bit: candidate
/// sets are small, so walking them serially in double costs nothing next to
/// the softmax over the whole row.
///
/// Scores (docs/model.md, "Step distribution of the decoders"), NaN logits never chosen:
/// - `max_candidate`: w(v) = exp(z_v − m), m = max_{C(u)} z  ∝ p(v|u);
/// - `max_block`: w(v) = p_blk(v) = exp(z_v − m_g) / Σ_{w ∈ g ∩ C(u)} exp(z_w − m_g),
///   g = g(v), m_g the maximum over g ∩ C(u); a group whose allowed members are
///   all −inf (or NaN) has no mass.
/// Sampling draws v with probability w(v) / Σ_{C(u)} w by inverse CDF of a
/// uniform; argmax returns the lowest token of maximal score (log w). A row
/// with no candidate of positive weight gives `no_token`.

#include <cmath>
#include <cstdint>
#include <limits>

#include "labelgraph/config.hpp"
#include "labelgraph/ops/options.hpp"
#include "labelgraph/paths/output_layout.hpp"

namespace labelgraph::detail {

/// Visits the maximal runs of C(u) that lie in one group (C(u) is ascending
/// and groups are contiguous token ranges, so g ∩ C(u) is one run). Calls
/// `visit(first, last)` with pointers into the candidate list.
template <class Visit>
LABELGRAPH_HOST_DEVICE void for_each_group_run(const layout_view& layout, node_id u, Visit&& visit) noexcept {
  const token_id* first = layout.candidate_tokens + layout.candidate_offsets[u];
  const token_id* const end = layout.candidate_tokens + layout.candidate_offsets[u + 1];
  while (first != end) {
    const std::uint32_t group = layout.token_group[*first];
    const token_id* last = first + 1;
    while (last != end && layout.token_group[*last] == group) ++last;
    visit(first, last);
    first = last;
  }
}

/// Maximum of z over [first, last) ignoring NaN; −inf when none.
template <class T>
LABELGRAPH_HOST_DEVICE double max_logit(const T* row, const token_id* first, const token_id* last) noexcept {
  double maximum = -std::numeric_limits<double>::infinity();
  for (; first != last; ++first) {
    const double z = static_cast<double>(row[*first]);
    if (z > maximum) maximum = z;  // false for NaN
  }
  return maximum;
}

/// Calls `visit(token, log_weight)` for every candidate of u, in ascending
/// token order, with log w(v) as defined in the file comment (−inf or NaN for
/// candidates that can never be chosen).
template <class T, class Visit>
LABELGRAPH_HOST_DEVICE void for_each_candidate_score(const layout_view& layout, decode_rule rule, const T* row,
                                                     node_id u, Visit&& visit) noexcept {
  const token_id* first = layout.candidate_tokens + layout.candidate_offsets[u];
  const token_id* last = layout.candidate_tokens + layout.candidate_offsets[u + 1];
  if (rule == decode_rule::max_candidate) {
    // log w(v) = z_v − m: monotone in z_v, and exp of it is ∝ p(v|u).
    const double m = max_logit(row, first, last);
    for (const token_id* v = first; v != last; ++v) visit(*v, static_cast<double>(row[*v]) - m);
    return;
  }
  // max_block: log w(v) = log p_blk(v) = z_v − m_g − log Σ_{g ∩ C(u)} exp(z_w − m_g).
  for_each_group_run(layout, u, [&](const token_id* run_first, const token_id* run_last) {
    const double m = max_logit(row, run_first, run_last);
    if (m == -std::numeric_limits<double>::infinity()) {  // no member with mass: the group cannot be chosen
      for (const token_id* v = run_first; v != run_last; ++v) visit(*v, m);
      return;
    }
    double sum = 0.0;
    for (const token_id* v = run_first; v != run_last; ++v) {
      const double z = static_cast<double>(row[*v]);
      if (z == z) sum += std::exp(z - m);  // NaN members carry no mass
    }
    const double log_normalizer = m + std::log(sum);
    for (const token_id* v = run_first; v != run_last; ++v) visit(*v, static_cast<double>(row[*v]) - log_normalizer);
  });
}

/// Lowest candidate of maximal score under `rule`; `no_token` when every
/// candidate has score −inf or NaN.
template <class T>
[[nodiscard]] LABELGRAPH_HOST_DEVICE token_id argmax_candidate(const layout_view& layout, decode_rule rule,
                                                               const T* row, node_id u) noexcept {
  token_id best = no_token;
  double best_score = -std::numeric_limits<double>::infinity();
  for_each_candidate_score(layout, rule, row, u, [&](token_id v, double score) {
    if (score > best_score) {  // strict: ties keep the lower token; NaN never wins
      best = v;
      best_score = score;
    }
  });
  return best;
}

/// The candidate whose cumulative weight first exceeds `uniform` · Σ w (inverse
/// CDF); `uniform` in [0, 1). `no_token` when no candidate has positive weight.
template <class T>
[[nodiscard]] LABELGRAPH_HOST_DEVICE token_id sample_candidate(const layout_view& layout, decode_rule rule,
                                                               const T* row, node_id u, double uniform) noexcept {
  auto weight = [](double log_weight) { return log_weight == log_weight ? std::exp(log_weight) : 0.0; };
  double total = 0.0;
  for_each_candidate_score(layout, rule, row, u, [&](token_id, double log_weight) { total += weight(log_weight); });
  if (!(total > 0.0) || !(total < std::numeric_limits<double>::infinity())) return no_token;
  const double threshold = uniform * total;
  double cumulative = 0.0;
  token_id chosen = no_token;
  token_id last_positive = no_token;
  for_each_candidate_score(layout, rule, row, u, [&](token_id v, double log_weight) {
    const double w = weight(log_weight);
    if (chosen != no_token || !(w > 0.0)) return;
    last_positive = v;
    cumulative += w;
    if (threshold < cumulative) chosen = v;
  });
  // Rounding can leave the threshold just above the final cumulative sum.
  return chosen != no_token ? chosen : last_positive;
}

}  // namespace labelgraph::detail
