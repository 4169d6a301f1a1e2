#pragma once
/// \file
/// Vector math for the cpu backend: the widest Eigen packet the compiler
/// targets (AVX-512 `Packet16f`/`Packet8d` with -mavx512f, AVX2 `Packet8f`,
/// SSE2 `Packet4f` otherwise: chosen at compile time) and a fast `exp` on it.
///
/// Why not Eigen's own `pexp`: it clamps its input to [-88.7, 88.7] and
/// returns exp(-88.7) ~ 3e-39 for -inf, so a masked (-inf) logit would get a
/// tiny non-zero probability; and its float version rebuilds 2^n with a slow,
/// overflow-safe ldexp. `exp_packet` below has the exact limits kernels need:
/// exp(-inf) = 0, exp(+inf) = +inf, NaN stays NaN: a table form on AVX-512,
/// the Cephes polynomial elsewhere. bench/kernels measures it against Eigen's
/// (`exp/...`).

#include "labelgraph/config.hpp"

LABELGRAPH_SIMD_WARNINGS_OFF

#include <Eigen/Core>

#include "labelgraph/backend/exp_polynomial.hpp"

#if defined(__SSE2__)
#include <immintrin.h>
#endif

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>

namespace labelgraph::backends::cpu_detail {

namespace ei = Eigen::internal;

/// The widest packet of T the build targets.
template <class T>
using packet = typename ei::packet_traits<T>::type;

/// Lanes in `packet<T>`.
template <class T>
inline constexpr std::size_t lanes = static_cast<std::size_t>(ei::unpacket_traits<packet<T>>::size);

/// exp over a packet of floats, any packet width: x = n ln2 + r, |r| <= ln2/2, exp(r) by the
/// Cephes degree-6 polynomial (max rel. error ~1.2e-7 over the reduced range;
/// constants and method: labelgraph/backend/exp_polynomial.hpp). n is rounded
/// by the "magic number" addition, so no floor and no int conversion. Limits:
/// x <= -88.03 gives n = -127, i.e. 2^n = +0 (exp(-inf) = 0 exactly; results
/// below FLT_MIN flush to 0), x > 127.5 ln2 gives +inf, NaN stays NaN.
inline packet<float> exp_packet_cephes(const packet<float>& x_in) noexcept {
  using P = packet<float>;
  using PI = typename ei::unpacket_traits<P>::integer_packet;
  const P lowest = ei::pset1<P>(-88.0296919311f);  // -127 ln2: 2^n = 0
  const P highest = ei::pset1<P>(88.3762626647949f);  // 127.5 ln2: n <= 127
  namespace c = detail::exp_polynomial;
  const P magic = ei::pset1<P>(c::round_to_exponent);
  // pmax/pmin keep a NaN in their first argument (Eigen's std::max/min order).
  const P x = ei::pmin(ei::pmax(x_in, lowest), highest);
  const P t = ei::pmadd(x, ei::pset1<P>(c::log2e), magic);
  const P n = ei::psub(t, magic);
  P r = ei::pmadd(n, ei::pset1<P>(-c::ln2_high), x);
  r = ei::pmadd(n, ei::pset1<P>(-c::ln2_low), r);
  P poly = ei::pset1<P>(c::q[5]);
  for (int k = 4; k >= 0; --k) poly = ei::pmadd(poly, r, ei::pset1<P>(c::q[k]));
  const P r2 = ei::pmul(r, r);
  poly = ei::pmadd(poly, r2, ei::padd(r, ei::pset1<P>(1.0f)));
  const P scale = ei::preinterpret<P>(ei::plogical_shift_left<23>(ei::preinterpret<PI>(t)));
  const P result = ei::pmul(poly, scale);
  return ei::pselect(ei::pcmp_lt(highest, x_in), ei::pset1<P>(std::numeric_limits<float>::infinity()), result);
}

#if defined(__AVX512F__)
/// 2^(j/16), j = 0..15, rounded to float: the table of `exp_packet` on AVX-512.
inline __m512 exp2_sixteenths() noexcept {
  return _mm512_setr_ps(1.0f, 1.0442737340927124f, 1.0905077457427979f, 1.1387885808944702f, 1.1892070770263672f,
                        1.2418577671051025f, 1.2968395948410034f, 1.3542555570602417f, 1.4142135381698608f,
                        1.4768261909484863f, 1.5422108173370361f, 1.610490322113037f, 1.6817928552627563f,
                        1.7562521696090698f, 1.8340080976486206f, 1.9152065515518188f);
}

/// exp over 16 floats with AVX-512: 13 instructions instead of the Cephes
/// form's 18 (bench/kernels `exp/...`: 5.1 G exp/s on one Zen 4 core, Eigen's
/// `pexp` 3.9, the Cephes form 3.9):
/// x = (16 n + j) ln2/16 + r, |r| <= ln2/32, so exp(x) = 2^n · 2^(j/16) · exp(r) with
/// - k = 16 n + j = round(x · 16/ln2) by the "magic number" addition
///   t = x·16/ln2 + 1.5·2^23 (t's low mantissa bits then hold k: its low 4
///   bits index the table with one `vpermps`, which reads only those bits);
/// - r = x − k·ln2/16 in two steps (ln2/16 = C1 + C2, C1 of 12 bits, so
///   k·C1 is exact for |k| < 2^12);
/// - exp(r) − 1 = r (1 + r (1/2 + r/6)): the degree-3 Taylor polynomial,
///   truncation error r^4/24 < 1e-8 relative over |r| <= ln2/32;
/// - 2^n by `vscalefps` (a · 2^floor(k/16)): exact, and it overflows to +inf
///   and underflows to 0 by itself.
/// Limits: x is clamped to [−104, 89] first (exp(−104) is below the smallest
/// denormal, exp(89) overflows), so exp(−inf) = 0 exactly, exp(+inf) = +inf,
/// and NaN stays NaN (`vmaxps`/`vminps` return their second operand when
/// either is NaN: x is passed second).
inline __m512 exp_packet(const __m512& x_in) noexcept {
  // The maskz forms with every lane set compute the same as the plain
  // intrinsics; GCC 12 warns inside the plain ones (bug 105593).
  constexpr __mmask16 all = 0xFFFF;
  const __m512 x = _mm512_maskz_min_ps(all, _mm512_set1_ps(89.0f), _mm512_maskz_max_ps(all, _mm512_set1_ps(-104.0f), x_in));
  const __m512 magic = _mm512_set1_ps(12582912.0f);  // 1.5·2^23
  const __m512 t = _mm512_fmadd_ps(x, _mm512_set1_ps(23.083120654223414f), magic);
  const __m512 k = _mm512_sub_ps(t, magic);
  __m512 r = _mm512_fmadd_ps(k, _mm512_set1_ps(-0.0433197021484375f), x);
  r = _mm512_fmadd_ps(k, _mm512_set1_ps(-1.9966364561696537e-06f), r);
  __m512 expm1 = _mm512_fmadd_ps(r, _mm512_set1_ps(1.0f / 6.0f), _mm512_set1_ps(0.5f));
  expm1 = _mm512_mul_ps(_mm512_fmadd_ps(expm1, r, _mm512_set1_ps(1.0f)), r);
  const __m512 fraction = _mm512_maskz_permutexvar_ps(all, _mm512_castps_si512(t), exp2_sixteenths());
  return _mm512_maskz_scalef_ps(all, _mm512_fmadd_ps(fraction, expm1, fraction), _mm512_mul_ps(k, _mm512_set1_ps(0.0625f)));
}
#else
/// exp over a packet of floats: `exp_packet_cephes` (AVX-512 builds use a faster table form).
inline packet<float> exp_packet(const packet<float>& x) noexcept { return exp_packet_cephes(x); }
#endif

/// exp over a packet of doubles: x = n ln2 + r, exp(r) by its Taylor series to
/// degree 12 (truncation < 2e-16 for |r| <= ln2/2), 2^n by Eigen's ldexp.
inline packet<double> exp_packet(const packet<double>& x_in) noexcept {
  using P = packet<double>;
  const P lowest = ei::pset1<P>(-708.3964185322641);  // ln(DBL_MIN)
  const P highest = ei::pset1<P>(709.782712893384);   // ln(DBL_MAX)
  const P x = ei::pmin(ei::pmax(x_in, lowest), highest);
  const P n = ei::pfloor(ei::pmadd(x, ei::pset1<P>(1.4426950408889634073599), ei::pset1<P>(0.5)));
  P r = ei::pmadd(n, ei::pset1<P>(-0.693145751953125), x);
  r = ei::pmadd(n, ei::pset1<P>(-1.42860682030941723212e-6), r);
  // Horner on 1/k!, k = 12 .. 0.
  constexpr double inverse_factorials[13] = {1.0,
                                             1.0,
                                             1.0 / 2,
                                             1.0 / 6,
                                             1.0 / 24,
                                             1.0 / 120,
                                             1.0 / 720,
                                             1.0 / 5040,
                                             1.0 / 40320,
                                             1.0 / 362880,
                                             1.0 / 3628800,
                                             1.0 / 39916800,
                                             1.0 / 479001600};
  P poly = ei::pset1<P>(inverse_factorials[12]);
  for (int k = 11; k >= 0; --k) poly = ei::pmadd(poly, r, ei::pset1<P>(inverse_factorials[k]));
  P result = ei::pldexp(poly, n);
  result = ei::pselect(ei::pcmp_lt(x_in, lowest), ei::pzero(result), result);
  result = ei::pselect(ei::pcmp_lt(highest, x_in), ei::pset1<P>(std::numeric_limits<double>::infinity()), result);
  return ei::pselect(ei::pcmp_eq(x_in, x_in), result, x_in);
}

#if defined(__AVX512F__)
/// log over 16 floats with AVX-512, the Cephes `logf` form with its
/// exponent split done by two instructions instead of a frexp emulation
/// (bench/kernels `log/...`: 4.1 G/s, 2.1x Eigen's `plog`, on one Zen 5 core):
/// - x = m · 2^e with m in [1, 2) by `vgetmantps` and e by `vgetexpps`
///   (exact, denormals included); m > √2 is halved and e raised by one, so
///   f = m − 1 lies in [√½ − 1, √2 − 1];
/// - log(1 + f) = f − f²/2 + f³ P(f), P the Cephes degree-8 polynomial
///   (max rel. error about 1 ulp over the reduced range);
/// - + e ln2 in two steps (ln2 = C1 + C2, C1 exact in 9 bits).
/// Limits as `std::log`: log(±0) = −inf, log(+inf) = +inf, log(x < 0) = NaN,
/// NaN stays NaN.
inline __m512 log_packet(const __m512& x) noexcept {
  constexpr __mmask16 all = 0xFFFF;  // maskz with every lane: GCC 12 warns in the plain forms (bug 105593)
  const __m512 m = _mm512_maskz_getmant_ps(all, x, _MM_MANT_NORM_1_2, _MM_MANT_SIGN_nan);
  __m512 e = _mm512_maskz_getexp_ps(all, x);
  const __mmask16 upper = _mm512_cmp_ps_mask(m, _mm512_set1_ps(1.41421356237f), _CMP_GT_OQ);
  e = _mm512_mask_add_ps(e, upper, e, _mm512_set1_ps(1.0f));
  const __m512 one = _mm512_set1_ps(1.0f);
  // f = m/2 − 1 where m > √2, else m − 1 (both exact), side by side.
  const __m512 f = _mm512_mask_blend_ps(upper, _mm512_sub_ps(m, one), _mm512_fmsub_ps(m, _mm512_set1_ps(0.5f), one));
  const __m512 f2 = _mm512_mul_ps(f, f);
  const __m512 f3 = _mm512_mul_ps(f2, f);
  const __m512 f4 = _mm512_mul_ps(f2, f2);
  // P(f) by Estrin's scheme (pairs, then pairs of pairs): half the latency of Horner's.
  const __m512 p01 = _mm512_fmadd_ps(_mm512_set1_ps(-2.4999993993e-1f), f, _mm512_set1_ps(3.3333331174e-1f));
  const __m512 p23 = _mm512_fmadd_ps(_mm512_set1_ps(-1.6668057665e-1f), f, _mm512_set1_ps(2.0000714765e-1f));
  const __m512 p45 = _mm512_fmadd_ps(_mm512_set1_ps(-1.2420140846e-1f), f, _mm512_set1_ps(1.4249322787e-1f));
  const __m512 p67 = _mm512_fmadd_ps(_mm512_set1_ps(-1.1514610310e-1f), f, _mm512_set1_ps(1.1676998740e-1f));
  const __m512 p03 = _mm512_fmadd_ps(p23, f2, p01);
  const __m512 p47 = _mm512_fmadd_ps(p67, f2, p45);
  const __m512 p48 = _mm512_fmadd_ps(_mm512_set1_ps(7.0376836292e-2f), f4, p47);
  const __m512 poly = _mm512_fmadd_ps(p48, f4, p03);
  // f³ P(f) − f²/2 + e·C2, then f + that + e·C1.
  const __m512 small = _mm512_fmadd_ps(f2, _mm512_set1_ps(-0.5f), _mm512_mul_ps(e, _mm512_set1_ps(-2.12194440e-4f)));
  const __m512 y = _mm512_fmadd_ps(poly, f3, small);
  const __m512 result = _mm512_fmadd_ps(e, _mm512_set1_ps(0.693359375f), _mm512_add_ps(f, y));
  // ±0 and +inf: e = ∓inf makes the sum above NaN or −inf; set them here.
  const __m512 infinity = _mm512_set1_ps(std::numeric_limits<float>::infinity());
  const __mmask16 zero = _mm512_cmp_ps_mask(x, _mm512_setzero_ps(), _CMP_EQ_OQ);
  const __mmask16 plus_inf = _mm512_cmp_ps_mask(x, infinity, _CMP_EQ_OQ);
  return _mm512_mask_blend_ps(plus_inf, _mm512_mask_blend_ps(zero, result, _mm512_set1_ps(-std::numeric_limits<float>::infinity())), infinity);
}
#else
/// log over a packet of floats: Eigen's `plog` (AVX-512 builds use `log_packet` above).
inline packet<float> log_packet(const packet<float>& x) noexcept { return ei::plog(x); }
#endif

/// log over a packet of doubles: Eigen's `plog` (log 0 = −inf).
inline packet<double> log_packet(const packet<double>& x) noexcept { return ei::plog(x); }

/// y[i] = exp(x[i]) for i < n (x may equal y). Full packets, then the tail
/// through a padded packet, so every element takes the same code path and the
/// result of an element never depends on where it sits.
template <class T>
inline void exp_array(const T* x, T* y, std::size_t n) noexcept {
  constexpr std::size_t W = lanes<T>;
  std::size_t i = 0;
  for (; i + W <= n; i += W) ei::pstoreu(y + i, exp_packet(ei::ploadu<packet<T>>(x + i)));
  if (i < n) {
    alignas(64) T buffer[W] = {};
    for (std::size_t k = 0; k < n - i; ++k) buffer[k] = x[i + k];
    ei::pstore(buffer, exp_packet(ei::pload<packet<T>>(buffer)));
    for (std::size_t k = 0; k < n - i; ++k) y[i + k] = buffer[k];
  }
}

/// x[i] = log(x[i]) for i < n through `log_packet` (log 0 = -inf).
template <class T>
inline void log_array(T* x, std::size_t n) noexcept {
  constexpr std::size_t W = lanes<T>;
  std::size_t i = 0;
  for (; i + W <= n; i += W) ei::pstoreu(x + i, log_packet(ei::ploadu<packet<T>>(x + i)));
  if (i < n) {
    alignas(64) T buffer[W];
    for (std::size_t k = 0; k < W; ++k) buffer[k] = T(1);
    for (std::size_t k = 0; k < n - i; ++k) buffer[k] = x[i + k];
    ei::pstore(buffer, log_packet(ei::pload<packet<T>>(buffer)));
    for (std::size_t k = 0; k < n - i; ++k) x[i + k] = buffer[k];
  }
}

/// Elements of T in one 64-byte cache line.
template <class T>
inline constexpr std::size_t line_elements = 64 / sizeof(T);

/// Stores the first n < `lanes<T>` lanes of `x` at `to` (a masked store with
/// AVX-512, through a buffer otherwise).
template <class T>
inline void store_first_lanes(T* to, const packet<T>& x, std::size_t n) noexcept {
#if defined(__AVX512F__)
  if constexpr (sizeof(T) == 4) {
    _mm512_mask_storeu_ps(to, static_cast<__mmask16>((1u << n) - 1u), x);
  } else {
    _mm512_mask_storeu_pd(to, static_cast<__mmask8>((1u << n) - 1u), x);
  }
#else
  alignas(64) T buffer[lanes<T>];
  ei::pstore(buffer, x);
  for (std::size_t k = 0; k < n; ++k) to[k] = buffer[k];
#endif
}

/// Loads the first n < `lanes<T>` elements at `from` into a packet; the other
/// lanes are 0 and their memory is not read (a masked load with AVX-512,
/// through a buffer otherwise).
template <class T>
inline packet<T> load_first_lanes(const T* from, std::size_t n) noexcept {
#if defined(__AVX512F__)
  if constexpr (sizeof(T) == 4) {
    return _mm512_maskz_loadu_ps(static_cast<__mmask16>((1u << n) - 1u), from);
  } else {
    return _mm512_maskz_loadu_pd(static_cast<__mmask8>((1u << n) - 1u), from);
  }
#else
  alignas(64) T buffer[lanes<T>] = {};
  for (std::size_t k = 0; k < n; ++k) buffer[k] = from[k];
  return ei::pload<packet<T>>(buffer);
#endif
}

/// exp of one scalar through the packet code (bitwise equal to `exp_array`).
template <class T>
inline T exp_scalar(T x) noexcept {
  return ei::pfirst(exp_packet(ei::pset1<packet<T>>(x)));
}

}  // namespace labelgraph::backends::cpu_detail

LABELGRAPH_SIMD_WARNINGS_ON
