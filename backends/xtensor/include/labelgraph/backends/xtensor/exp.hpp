#pragma once
/// \file
/// exp of a logit minus its group's max (or the row's), for the xtensor
/// backend's softmax kernels: arguments at most 0, −inf, or NaN.
///
/// Why not `xsimd::exp`: a window of small groups is one chain of dependent
/// instructions (docs/performance.md, tenth round), and xsimd's float exp
/// spends its latency on a rounding instruction, a Horner polynomial and the
/// overflow and underflow selects of a general argument. This one has the
/// cpu backend's method and constants (labelgraph/backend/exp_polynomial.hpp):
/// the magic-number rounding, its polynomial by Estrin's scheme (three
/// multiply-adds deep instead of five), and one select off the chain, which
/// makes results under the smallest normal float 0. Measured alone on
/// mix1k / mix256 (1 thread, Zen 5), the forward block softmax took 7-8%
/// less time than with `xsimd::exp`.
///
/// Accuracy: that of the polynomial, about 1.2e-7 relative (the backends
/// promise 1e-6 against the reference, docs/backends.md). Doubles keep
/// `xsimd::exp`.

#include "labelgraph/config.hpp"

LABELGRAPH_SIMD_WARNINGS_OFF

#include <xsimd/xsimd.hpp>

#include <cstdint>
#include <type_traits>

#include "labelgraph/backend/exp_polynomial.hpp"

namespace labelgraph::backends::xtensor_detail {

/// exp(a) for a <= 0 (also −inf → 0 and NaN → NaN); 0 below ln 2^-126.
/// The same method holds up to a = 88 (2^n is then still a normal float):
/// the fused NLL's one-batch rows pass z − z_t clamped to 64
/// (nll_vector_rows.hpp).
template <class T>
[[nodiscard, gnu::always_inline]] inline xsimd::batch<T> exp_nonpositive(const xsimd::batch<T>& a) noexcept {
  if constexpr (!std::is_same_v<T, float>) {
    return xsimd::exp(a);
  } else {
    using B = xsimd::batch<float>;
    using bits = xsimd::batch<std::int32_t>;
    namespace c = detail::exp_polynomial;
    const B magic(c::round_to_exponent);
    const B t = xsimd::fma(a, B(c::log2e), magic);  // its low bits: n + 127
    const B n = t - magic;
    const B r = xsimd::fma(n, B(-c::ln2_low), xsimd::fma(n, B(-c::ln2_high), a));
    // q(r) = (q0 + q1 r) + (q2 + q3 r) r² + (q4 + q5 r) r⁴
    const B r2 = r * r;
    const B q = xsimd::fma(xsimd::fma(B(c::q[5]), r, B(c::q[4])), r2 * r2,
                           xsimd::fma(xsimd::fma(B(c::q[3]), r, B(c::q[2])), r2, xsimd::fma(B(c::q[1]), r, B(c::q[0]))));
    const B exp_r = xsimd::fma(q, r2, r + B(1.0f));
    const B two_to_n = xsimd::bitwise_cast<B>(xsimd::bitwise_cast<bits>(t) << 23);
    return xsimd::select(a < B(c::smallest_normal_log), B(0.0f), exp_r * two_to_n);
  }
}

}  // namespace labelgraph::backends::xtensor_detail

LABELGRAPH_SIMD_WARNINGS_ON
