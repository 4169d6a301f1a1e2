#pragma once
/// \file
/// The scalar rules the host backends' row kernels share (STYLE.md,
/// "Numerics"): −inf as "no mass", the dense-mask test, the shift of a
/// group, and the reciprocal that gives an all-masked group probability 0
/// and gradient 0 instead of NaN.

#include <cstddef>
#include <cstdint>
#include <limits>

namespace labelgraph::detail {

/// −inf in T: the logit of a masked token, the max of a group without mass.
template <class T>
inline constexpr T minus_infinity = -std::numeric_limits<T>::infinity();

/// Whether a row's dense mask allows `token` (`allowed` null: every token).
inline bool is_allowed(const std::uint8_t* allowed, std::size_t token) noexcept {
  return allowed == nullptr || allowed[token] != 0;
}

/// The shift that makes the largest allowed logit 0: the group max, or 0 when
/// the max is −inf (all masked or all −inf) so that exp gives 0, not NaN.
template <class T>
inline T group_shift(T group_max) noexcept {
  return group_max == minus_infinity<T> ? T(0) : group_max;
}

/// 1/s, or 0 for an empty sum (a group without allowed tokens: all zeros).
template <class T>
inline T inverse_or_zero(T sum) noexcept {
  return sum == T(0) ? T(0) : T(1) / sum;
}

}  // namespace labelgraph::detail
