#pragma once
/// \file
/// The small option types of the block-softmax op family:
/// which set a probability is normalised over, the regulariser of the fused
/// NLL, the decoding rule, and the segmented reductions.

#include <cstdint>
#include <string_view>

namespace labelgraph {

/// The set N(v) a token's probability is normalised over, given the row's
/// allowed-token mask M (all tokens when there is no mask):
/// - `block`: N(v) = g(v) ∩ M, the paper's block softmax
///   p_blk(v) = exp z_v / Σ_{w ∈ g(v) ∩ M} exp z_w;
/// - `full`: N(v) = M, a plain softmax over the allowed tokens;
/// - `candidate`: N(v) = M = C(u), the proper distribution over legal moves
///   p(v|u) = exp z_v / Σ_{w ∈ C(u)} exp z_w. Kernels treat it exactly as
///   `full`; the front ends insist that a mask is given with it.
enum class normalization : std::uint8_t {
  full,       ///< N(v) = M: a plain softmax over the allowed tokens
  block,      ///< N(v) = g(v) ∩ M: the paper's block softmax
  candidate   ///< N(v) = M = C(u): the distribution over legal moves (needs a mask)
};

/// "full", "block", "candidate".
[[nodiscard]] constexpr std::string_view to_string(normalization norm) noexcept {
  switch (norm) {
    case normalization::full: return "full";
    case normalization::block: return "block";
    case normalization::candidate: return "candidate";
  }
  return "?";
}

/// Which regulariser the fused NLL adds inside the normalisation set N.
enum class regularizer_kind : std::uint8_t {
  none,             ///< plain NLL: lse_N − z_t
  label_smoothing,  ///< (1−ε)(lse_N − z_t) + ε(lse_N − mean_N z)
  max_suppression,  ///< MaxSup: (lse_N − z_t) + ε(max_N z − mean_N z)
};

/// A regulariser and its strength ε (0 <= ε < 1).
struct regularizer {
  regularizer_kind kind = regularizer_kind::none;  ///< none, label smoothing or MaxSup
  double epsilon = 0.0;                            ///< the strength ε, 0 <= ε < 1

  /// Label smoothing: ε of the target's mass spread uniformly over N.
  [[nodiscard]] static constexpr regularizer label_smoothing(double epsilon) noexcept {
    return {regularizer_kind::label_smoothing, epsilon};
  }
  /// Max Suppression: the smoothing term applied to the top-1 logit of N
  /// instead of the target's, which penalises over-confidence in whatever the
  /// model ranks first, right or wrong.
  [[nodiscard]] static constexpr regularizer max_suppression(double epsilon) noexcept {
    return {regularizer_kind::max_suppression, epsilon};
  }
};

/// How sampling and argmax score a row's candidates C(u):
/// - `max_candidate` (default): by the candidate softmax p(v|u) (argmax: by z_v);
/// - `max_block` (the paper's Algorithm 2): by the block softmax p_blk(v) over
///   g(v) ∩ C(u), renormalised over C(u) for sampling.
enum class decode_rule : std::uint8_t {
  max_candidate,  ///< by the candidate softmax p(v|u) (the default)
  max_block       ///< by the block softmax over g(v) ∩ C(u) (the paper's Algorithm 2)
};

/// Reductions of `segmented_reduce` (multi-path pooling). Empty segments give
/// sum 0, mean 0, logsumexp −inf, max −inf, min +inf, argmin `no_index`.
enum class reduction : std::uint8_t {
  sum,        ///< Σ values (empty: 0)
  mean,       ///< Σ values / count (empty: 0)
  logsumexp,  ///< log Σ exp values (empty: −inf)
  max,        ///< the largest value (empty: −inf)
  min,        ///< the smallest value (empty: +inf)
  argmin      ///< the position of the smallest value within the segment (empty: `no_index`)
};

/// "sum", "mean", "logsumexp", "max", "min", "argmin".
[[nodiscard]] constexpr std::string_view to_string(reduction kind) noexcept {
  switch (kind) {
    case reduction::sum: return "sum";
    case reduction::mean: return "mean";
    case reduction::logsumexp: return "logsumexp";
    case reduction::max: return "max";
    case reduction::min: return "min";
    case reduction::argmin: return "argmin";
  }
  return "?";
}

/// Whether GEMM reads an operand as stored or transposed.
enum class transpose : std::uint8_t {
  no,   ///< the operand as stored
  yes   ///< the operand transposed
};

/// Elementwise activations of the dense models; their derivatives are written
/// in terms of the output y: tanh' = 1 − y², sigmoid' = y(1 − y), relu' = [y > 0].
enum class activation : std::uint8_t {
  identity,  ///< y = x
  tanh,      ///< y = tanh x
  sigmoid,   ///< y = 1 / (1 + exp(−x))
  relu       ///< y = max(x, 0)
};

}  // namespace labelgraph
