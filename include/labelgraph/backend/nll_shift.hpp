#pragma once
/// \file
/// The shift of a set in the host backends' fused NLL: its target's logit
/// where that serves, its max otherwise.
///
/// Eq. 3 holds for any shift c of a set N: p_v = exp(z_v − c) / Σ_N exp(z − c).
/// With c = z_t (the target's logit) instead of max_N z:
/// - no max to find: one reduction less on each row's chain of dependent
///   instructions (a horizontal one where a row is one vector);
/// - e_t = exp(0) = 1, so s = Σ_N exp(z − z_t) >= 1: log s never underflows;
/// - loss = w (lse − z_t) = w log s: z_t is not added then subtracted.
/// It serves while s <= `target_shift_sums` (2^64: every logit of N at most
/// about 44 above z_t), so that 1/s and e/s stay normal numbers. A larger s,
/// an overflow to +inf, or a NaN (±inf or NaN in N, z_t = −inf) sends the
/// row to the shift by its max and that path's rules for special values.

namespace labelgraph::detail {

/// The largest sum Σ_N exp(z − z_t) the fused NLL keeps (2^64).
template <class T>
inline constexpr T target_shift_sums = T(0x1p64);

/// Whether the sum `s` under the shift z_t may be kept: s <= 2^64, false
/// for NaN.
template <class T>
[[nodiscard]] constexpr bool target_shift_serves(T s) noexcept {
  return s <= target_shift_sums<T>;
}

}  // namespace labelgraph::detail
