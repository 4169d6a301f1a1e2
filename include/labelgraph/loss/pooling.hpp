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

#include <cstdint>
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

}  // namespace labelgraph
