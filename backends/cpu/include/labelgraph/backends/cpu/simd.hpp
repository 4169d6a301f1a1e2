#pragma once
/// \file
/// Vector math for the cpu backend: the widest Eigen packet the compiler
/// targets (AVX-512 `Packet16f`/`Packet8d` with -mavx512f, AVX2 `Packet8f`,
/// SSE2 `Packet4f` otherwise: chosen at compile time) and a fast `exp` on it.
///
/// Why not Eigen's own `pexp`: it clamps its input to [-88.7, 88.7] and
/// returns exp(-88.7) ~ 3e-39 for -inf, so a masked (-inf) logit would get a
/// tiny non-zero probability; and its float version rebuilds 2^n with a slow,
/// overflow-safe ldexp. `exp_packet` below is the same Cephes polynomial with
/// the exact limits kernels need: exp(-inf) = 0, exp(+inf) = +inf, NaN stays
/// NaN. bench/kernels measures both (`BM_exp/...`).

#if defined(__GNUC__) && !defined(__clang__)
// GCC 12 reports -W(maybe-)uninitialized inside its own AVX-512 intrinsics
// (GCC bug 105593) wherever Eigen's AVX-512 packets are inlined.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wignored-attributes"  // __m512 as a template argument
#endif

#include <Eigen/Core>

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

/// exp over a packet of floats: x = n ln2 + r, |r| <= ln2/2, exp(r) by the
/// Cephes degree-6 polynomial (max rel. error ~1.2e-7 over the reduced range).
/// n is rounded by the "magic number" addition t = x log2(e) + (1.5·2^23 + 127):
/// the low mantissa bits of t then hold n + 127, and shifting t's bits left by
/// 23 gives the float 2^n directly (no floor, no int conversion). Limits:
/// x <= -88.03 gives n = -127, i.e. 2^n = +0 (exp(-inf) = 0 exactly; results
/// below FLT_MIN flush to 0), x > 127.5 ln2 gives +inf, NaN stays NaN.
inline packet<float> exp_packet(const packet<float>& x_in) noexcept {
  using P = packet<float>;
  using PI = typename ei::unpacket_traits<P>::integer_packet;
  const P lowest = ei::pset1<P>(-88.0296919311f);  // -127 ln2: 2^n = 0
  const P highest = ei::pset1<P>(88.3762626647949f);  // 127.5 ln2: n <= 127
  const P magic = ei::pset1<P>(12583039.0f);  // 1.5·2^23 + 127
  // pmax/pmin keep a NaN in their first argument (Eigen's std::max/min order).
  const P x = ei::pmin(ei::pmax(x_in, lowest), highest);
  const P t = ei::pmadd(x, ei::pset1<P>(1.44269504088896341f), magic);
  const P n = ei::psub(t, magic);
  // r = x - n ln2 in two steps (ln2 = C1 + C2, C1 exact in 9 bits) to keep r exact.
  P r = ei::pmadd(n, ei::pset1<P>(-0.693359375f), x);
  r = ei::pmadd(n, ei::pset1<P>(2.12194440e-4f), r);
  P poly = ei::pset1<P>(1.9875691500e-4f);
  poly = ei::pmadd(poly, r, ei::pset1<P>(1.3981999507e-3f));
  poly = ei::pmadd(poly, r, ei::pset1<P>(8.3334519073e-3f));
  poly = ei::pmadd(poly, r, ei::pset1<P>(4.1665795894e-2f));
  poly = ei::pmadd(poly, r, ei::pset1<P>(1.6666665459e-1f));
  poly = ei::pmadd(poly, r, ei::pset1<P>(5.0000001201e-1f));
  const P r2 = ei::pmul(r, r);
  poly = ei::pmadd(poly, r2, ei::padd(r, ei::pset1<P>(1.0f)));
  const P scale = ei::preinterpret<P>(ei::plogical_shift_left<23>(ei::preinterpret<PI>(t)));
  const P result = ei::pmul(poly, scale);
  return ei::pselect(ei::pcmp_lt(highest, x_in), ei::pset1<P>(std::numeric_limits<float>::infinity()), result);
}

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

/// x[i] = log(x[i]) for i < n with Eigen's vectorised log (log 0 = -inf).
template <class T>
inline void log_array(T* x, std::size_t n) noexcept {
  constexpr std::size_t W = lanes<T>;
  std::size_t i = 0;
  for (; i + W <= n; i += W) ei::pstoreu(x + i, ei::plog(ei::ploadu<packet<T>>(x + i)));
  if (i < n) {
    alignas(64) T buffer[W];
    for (std::size_t k = 0; k < W; ++k) buffer[k] = T(1);
    for (std::size_t k = 0; k < n - i; ++k) buffer[k] = x[i + k];
    ei::pstore(buffer, ei::plog(ei::pload<packet<T>>(buffer)));
    for (std::size_t k = 0; k < n - i; ++k) x[i + k] = buffer[k];
  }
}

/// exp of one scalar through the packet code (bitwise equal to `exp_array`).
template <class T>
inline T exp_scalar(T x) noexcept {
  return ei::pfirst(exp_packet(ei::pset1<packet<T>>(x)));
}

}  // namespace labelgraph::backends::cpu_detail

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
