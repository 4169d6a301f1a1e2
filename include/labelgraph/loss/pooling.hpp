#pragma once
/// \file
/// How a sample's several ground-truth paths are reduced to one loss.
/// With ℓ(P) the teacher-forced cost of path
/// P (Eq. 2 summed over its steps: −log p(P) without regulariser and token
/// weights) and c_P the optional pair weight (1 when absent):
///
///     mean:      L_s = Σ_P c_P ℓ(P) / n_s                  (the paper's best)
///     sum:       L_s = Σ_P c_P ℓ(P)
///     random:    L_s = c_Q ℓ(Q), Q = P_k, k = ⌊u·n_s⌋, u = philox_uniform(seed, s, 0)
///     marginal:  L_s = −log Σ_P c_P exp(−ℓ(P))          (= −log Σ_P p(P) when c = 1)
///     best:      L_s = min_P [ℓ(P) − log c_P]            (hard EM: the most likely path)
///
/// n_s is the number of pairs of sample s; a sample without pairs has loss 0.
/// For mean, sum and random c_P may be any finite number, negative included
/// (REINFORCE advantages, L_pg = Σ_P (r − b)·(−log p(P)), use pooling `sum`);
/// for marginal and best it is a prior weight and must be >= 0.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <string_view>

namespace labelgraph {

/// The reduction of a sample's path costs; see the file comment for the formulas.
enum class pooling : std::uint8_t {
  mean,      ///< Σ_P c_P ℓ(P) / n_s (the paper's best)
  sum,       ///< Σ_P c_P ℓ(P)
  random,    ///< c_Q ℓ(Q) of one path Q chosen by Philox from (seed, sample)
  marginal,  ///< −log Σ_P c_P exp(−ℓ(P))
  best       ///< min_P [ℓ(P) − log c_P] (hard EM)
};

/// "mean", "sum", "random", "marginal", "best".
[[nodiscard]] constexpr std::string_view to_string(pooling kind) noexcept {
  switch (kind) {
    case pooling::mean: return "mean";
    case pooling::sum: return "sum";
    case pooling::random: return "random";
    case pooling::marginal: return "marginal";
    case pooling::best: return "best";
  }
  return "?";
}

/// The `marginal` or `best` pooling of one sample, on the host: from its
/// pairs' costs ℓ(P) (`cost`) and prior weights c_P >= 0 (`prior(i)`, the
/// i-th pair of the sample), writes each pair's gradient weight
/// a_P = ∂L_s/∂ℓ(P) into `weight` (as long as `cost`) and returns L_s:
///
///     marginal:  L_s = −log Σ_P c_P e^{−ℓ(P)},  a_P = c_P e^{−ℓ(P)} / Σ_P' c_P' e^{−ℓ(P')}
///     best:      L_s = min_P [ℓ(P) − log c_P],  a_P = 1 for that pair (the first on ties), else 0
///
/// Pairs are ranked by the score −ℓ(P) + log c_P (−inf for c_P = 0 or
/// ℓ(P) = +inf), and the marginal sum is taken relative to the best score, so
/// that costs of any size neither overflow nor underflow. With no pair of
/// mass, L_s = +inf and every a_P = 0. `sequence_nll` pools with it; a
/// trainer that computes ℓ(P) step by step can weight its rows with it.
template <class Prior>
double pool_by_posterior(pooling kind, std::span<const double> cost, Prior&& prior, std::span<double> weight) {
  constexpr double infinity = std::numeric_limits<double>::infinity();
  const auto score = [&](std::size_t i) {
    const double c = static_cast<double>(prior(i));
    return c > 0.0 ? -cost[i] + std::log(c) : -infinity;
  };
  const std::span<double> a = weight.first(cost.size());  // the scores wait here first
  std::size_t best = cost.size();
  double best_score = -infinity;
  for (std::size_t i = 0; i < cost.size(); ++i) {
    a[i] = score(i);
    if (a[i] > best_score) {  // strict: ties keep the first pair
      best = i;
      best_score = a[i];
    }
  }
  if (best == cost.size()) {  // no pair has mass: infinite loss, no gradient
    std::fill(a.begin(), a.end(), 0.0);
    return infinity;
  }
  if (kind == pooling::best) {
    std::fill(a.begin(), a.end(), 0.0);
    a[best] = 1.0;
    return -best_score;  // ℓ(P*) − log c_P*
  }
  // −log Σ c_P e^{−ℓ(P)} = −(m + log Σ e^{score − m}); a_P = e^{score − m} / Σ.
  double sum = 0.0;
  for (double& x : a) sum += (x = std::exp(x - best_score));
  for (double& x : a) x /= sum;
  return -(best_score + std::log(sum));
}

}  // namespace labelgraph
