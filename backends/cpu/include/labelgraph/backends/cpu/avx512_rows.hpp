#pragma once
/// \file
/// Block softmax / log-softmax and the softmax backward of unmasked float
/// rows with AVX-512: every group is one or a few 16-lane packets held in
/// registers, tails are masked loads and stores, so no group ever takes a
/// scalar loop.
///
/// The row is cut once per call into the shared `detail::row_plan` of steps
/// (labelgraph/backend/row_plan.hpp) for 16-lane packets: windows of small
/// groups, groups of 17..64 tokens in 2-4 packets, longer groups in three
/// passes. A window's broadcast of each group's first lane is one permute by
/// its `group_head`. Measured on Zen 4 (docs/performance.md), with the table exp of
/// simd.hpp: 1.1-1.7x the GB/s of the previous row kernel on the Zipf-like
/// layouts; layouts of tiny groups keep the transposed tiles of
/// tile_kernels.hpp, which are faster there.
///
/// Each step is a chain of dependent instructions (max, exp, sum, divide),
/// and how many steps the core overlaps is bounded by how many waiting
/// instructions its schedulers hold: shorter chains, not fewer loads, make
/// these kernels faster. Hence probabilities under the row's max as the
/// shared shift (row_plan.hpp), and a window's scans compiled for the steps
/// its largest group needs.
///
/// Formulas (paper eq. 3, per group g, shift m_g = max_g z or 0 when that is −inf;
/// probabilities: the row's max M where row_plan.hpp allows it):
///   p_v = exp(z_v − m_g) / Σ_g exp(z − m_g)            (0 for a group without mass)
///   log p_v = (z_v − m_g) − log Σ_g exp(z − m_g)       (−inf for a group without mass)
///   dz_v = y_v (dy_v − Σ_g y·dy)                      (softmax backward)
/// Same edge cases as row_kernels.hpp: −inf logits, ±1e30, NaN kept in its group.

// simd.hpp first: it includes the intrinsics inside LABELGRAPH_SIMD_WARNINGS_OFF.
#include "labelgraph/backends/cpu/simd.hpp"
#include "labelgraph/backends/cpu/tile_kernels.hpp"
#include "labelgraph/backend/prefetch.hpp"
#include "labelgraph/backend/row_numerics.hpp"
#include "labelgraph/backend/row_plan.hpp"

#if defined(__AVX512F__)

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>

#include "labelgraph/config.hpp"

LABELGRAPH_SIMD_WARNINGS_OFF

namespace labelgraph::backends::cpu_detail {

/// The row plan of 16-lane packets (labelgraph/backend/row_plan.hpp).
using row_plan = detail::row_plan<16>;
using packed_window = row_plan::window_type;
using detail::plan_step;

namespace avx512 {

/// Every lane: the maskz intrinsics with this mask compute the same as the
/// plain ones, inside which GCC 12 warns (bug 105593).
inline constexpr __mmask16 all_lanes = 0xFFFF;

inline __m512 minus_inf() noexcept { return _mm512_set1_ps(-std::numeric_limits<float>::infinity()); }

/// Lanes i .. i + n − 1 of a packet: the mask of a tail of n in [1, 16] tokens.
inline __mmask16 first_lanes(std::uint32_t n) noexcept { return static_cast<__mmask16>((1u << n) - 1u); }

/// x shifted down by 2^S lanes (lane i gets lane i + 2^S; the top lanes wrap
/// around, and the combine masks never select them).
template <int S>
inline __m512 lanes_down(__m512 x) noexcept {
  const __m512i bits = _mm512_castps_si512(x);
  return _mm512_castsi512_ps(_mm512_maskz_alignr_epi32(all_lanes, bits, bits, 1 << S));
}

/// 1/s per lane for s ≠ 0 (rcp14 and one Newton step: 2^-28 relative).
inline __m512 inverse(__m512 s) noexcept {
  const __m512 r = _mm512_maskz_rcp14_ps(all_lanes, s);
  return _mm512_fmadd_ps(r, _mm512_fnmadd_ps(s, r, _mm512_set1_ps(1.0f)), r);
}

/// 1/s per lane, 0 where s = 0.
inline __m512 inverse_or_zero(__m512 s) noexcept {
  return _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(s, _mm512_setzero_ps(), _CMP_NEQ_UQ), inverse(s));
}

/// The masks of one window's segmented reductions, as AVX-512 operands.
struct window_lanes {
  __mmask16 lanes;       ///< lanes holding tokens
  __mmask16 combine[4];  ///< step s: lane i takes lane i + 2^s (same group)
  __m512i head;          ///< lane of the first token of lane i's group

  explicit window_lanes(const packed_window& w) noexcept
      : lanes(static_cast<__mmask16>(w.lanes)),
        combine{static_cast<__mmask16>(w.combine[0]), static_cast<__mmask16>(w.combine[1]),
                static_cast<__mmask16>(w.combine[2]), static_cast<__mmask16>(w.combine[3])},
        head(_mm512_maskz_cvtepu8_epi32(all_lanes, _mm_load_si128(reinterpret_cast<const __m128i*>(w.group_head)))) {}
};

/// The max over each group of a window, in every lane of the group: after
/// `Scans` combine steps (the window's `scan_steps`) lane i holds the max of
/// its group's lanes >= i (the later steps' masks are empty), then
/// each group's first lane is broadcast over the group.
template <std::uint32_t Scans>
inline __m512 segmented_max(__m512 x, const window_lanes& m) noexcept {
  if constexpr (Scans == 0) return x;  // singletons only
  if constexpr (Scans > 0) x = _mm512_mask_max_ps(x, m.combine[0], x, lanes_down<0>(x));
  if constexpr (Scans > 1) x = _mm512_mask_max_ps(x, m.combine[1], x, lanes_down<1>(x));
  if constexpr (Scans > 2) x = _mm512_mask_max_ps(x, m.combine[2], x, lanes_down<2>(x));
  if constexpr (Scans > 3) x = _mm512_mask_max_ps(x, m.combine[3], x, lanes_down<3>(x));
  return _mm512_maskz_permutexvar_ps(all_lanes, m.head, x);
}

/// The sum over each group of a window, in every lane of the group (as `segmented_max`).
template <std::uint32_t Scans>
inline __m512 segmented_sum(__m512 x, const window_lanes& m) noexcept {
  if constexpr (Scans == 0) return x;
  if constexpr (Scans > 0) x = _mm512_mask_add_ps(x, m.combine[0], x, lanes_down<0>(x));
  if constexpr (Scans > 1) x = _mm512_mask_add_ps(x, m.combine[1], x, lanes_down<1>(x));
  if constexpr (Scans > 2) x = _mm512_mask_add_ps(x, m.combine[2], x, lanes_down<2>(x));
  if constexpr (Scans > 3) x = _mm512_mask_add_ps(x, m.combine[3], x, lanes_down<3>(x));
  return _mm512_maskz_permutexvar_ps(all_lanes, m.head, x);
}

/// Normalises the groups of one window.
template <std::uint32_t Scans>
[[gnu::always_inline]] inline void normalise_window(const float* z, float* y, const packed_window& w, tile_output output) noexcept {
  const window_lanes m(w);
  const __m512 x = _mm512_mask_loadu_ps(minus_inf(), m.lanes, z + w.begin);
  const __m512 max = segmented_max<Scans>(x, m);
  const __m512 shift = _mm512_mask_blend_ps(_mm512_cmp_ps_mask(max, minus_inf(), _CMP_EQ_OQ), max, _mm512_setzero_ps());
  const __m512 shifted = _mm512_sub_ps(x, shift);
  const __m512 e = exp_packet(shifted);
  const __m512 sum = segmented_sum<Scans>(e, m);
  __m512 result;
  if (output == tile_output::probabilities) {
    result = _mm512_mul_ps(e, inverse_or_zero(sum));
  } else {
    const __m512 empty = _mm512_setzero_ps();
    result = _mm512_mask_blend_ps(_mm512_cmp_ps_mask(sum, empty, _CMP_EQ_OQ), _mm512_sub_ps(shifted, log_packet(sum)), minus_inf());
  }
  _mm512_mask_storeu_ps(y + w.begin, m.lanes, result);
}

/// The max of a row's tokens, NaN ignored (`vmaxps` returns its second
/// operand when either is NaN, and the running max is passed second).
inline float row_max(const float* z, std::uint32_t length) noexcept {
  const std::uint32_t full = length / 16;
  __m512 even = minus_inf(), odd = minus_inf();
  std::uint32_t i = 0;
  for (; i + 1 < full; i += 2) {
    even = _mm512_maskz_max_ps(all_lanes, _mm512_loadu_ps(z + 16 * i), even);
    odd = _mm512_maskz_max_ps(all_lanes, _mm512_loadu_ps(z + 16 * i + 16), odd);
  }
  if (i < full) even = _mm512_maskz_max_ps(all_lanes, _mm512_loadu_ps(z + 16 * i), even);
  if (length % 16 != 0) odd = _mm512_maskz_max_ps(all_lanes, _mm512_mask_loadu_ps(minus_inf(), first_lanes(length % 16), z + 16 * full), odd);
  return _mm512_reduce_max_ps(_mm512_maskz_max_ps(all_lanes, even, odd));
}

/// The row's shift M in the forms `exp_below_row_max` takes.
struct row_shift {
  __m512 max;    ///< M
  __m512 minus;  ///< −M
  __m512 floor;  ///< M − 104: exp(z − M) is 0 below it
  explicit row_shift(float m) noexcept
      : max(_mm512_set1_ps(m)), minus(_mm512_set1_ps(-m)), floor(_mm512_set1_ps(m - detail::exp_range<float>)) {}
};

/// exp(z − M) to the accuracy of exp itself (row_plan.hpp, "the row's max
/// as the shift"): z raised to M − 104 first, so that −inf gives 0 and not
/// NaN (a NaN z stays NaN: `vmaxps` returns its second operand), the
/// rounding error δ of a = z − M by Knuth's TwoSum, then exp(a)·(1 + δ).
[[gnu::always_inline]] inline __m512 exp_below_row_max(__m512 z, const row_shift& shift) noexcept {
  const __m512 x = _mm512_maskz_max_ps(all_lanes, shift.floor, z);
  const __m512 a = _mm512_sub_ps(x, shift.max);
  const __m512 x_part = _mm512_add_ps(a, shift.max);
  const __m512 m_part = _mm512_sub_ps(a, x_part);
  const __m512 error = _mm512_add_ps(_mm512_sub_ps(x, x_part), _mm512_sub_ps(shift.minus, m_part));
  const __m512 e = exp_packet(a);
  return _mm512_fmadd_ps(e, error, e);
}

/// Probabilities of one window's groups under the row's shift M:
/// p_v = exp(z_v − M) / Σ_g exp(z − M), the same as with the group's own max
/// while every group keeps at least `least_shared_mass`; false (nothing
/// written) when one does not.
template <std::uint32_t Scans>
[[gnu::always_inline]] inline bool normalise_window_shared(const float* z, float* y, const packed_window& w, const row_shift& shift) noexcept {
  const window_lanes m(w);
  const __m512 e = exp_below_row_max(_mm512_maskz_loadu_ps(m.lanes, z + w.begin), shift);
  const __m512 sum = segmented_sum<Scans>(e, m);
  if (_mm512_mask_cmp_ps_mask(m.lanes, sum, _mm512_set1_ps(detail::least_shared_mass<float>), _CMP_NGE_UQ) != 0) return false;
  _mm512_mask_storeu_ps(y + w.begin, m.lanes, _mm512_mul_ps(e, inverse(sum)));  // every sum >= least_shared_mass
  return true;
}

/// As `normalise_window_shared`, for one group of 17..64 tokens in registers.
template <int Packets>
[[gnu::always_inline]] inline bool normalise_in_registers_shared(const float* z, float* y, std::uint32_t size, const row_shift& shift) noexcept {
  const __mmask16 tail = first_lanes(size - 16u * (Packets - 1));
  __m512 e[Packets];
  for (int i = 0; i + 1 < Packets; ++i) e[i] = exp_below_row_max(_mm512_loadu_ps(z + 16 * i), shift);
  e[Packets - 1] = exp_below_row_max(_mm512_mask_loadu_ps(minus_inf(), tail, z + 16 * (Packets - 1)), shift);
  __m512 sum = e[0];
  for (int i = 1; i < Packets; ++i) sum = _mm512_add_ps(sum, e[i]);
  const float total = _mm512_reduce_add_ps(sum);
  if (!(total >= detail::least_shared_mass<float>)) return false;
  const __m512 inverse = _mm512_set1_ps(1.0f / total);
  for (int i = 0; i + 1 < Packets; ++i) _mm512_storeu_ps(y + 16 * i, _mm512_mul_ps(e[i], inverse));
  _mm512_mask_storeu_ps(y + 16 * (Packets - 1), tail, _mm512_mul_ps(e[Packets - 1], inverse));
  return true;
}

/// One group of 17..64 tokens in `Packets` registers: one read, one write.
template <int Packets>
inline void normalise_in_registers(const float* z, float* y, std::uint32_t size, tile_output output) noexcept {
  const __mmask16 tail = first_lanes(size - 16u * (Packets - 1));
  __m512 x[Packets];
  for (int i = 0; i + 1 < Packets; ++i) x[i] = _mm512_loadu_ps(z + 16 * i);
  x[Packets - 1] = _mm512_mask_loadu_ps(minus_inf(), tail, z + 16 * (Packets - 1));
  __m512 max = x[0];
  for (int i = 1; i < Packets; ++i) max = _mm512_maskz_max_ps(all_lanes, max, x[i]);
  const __m512 shift = _mm512_set1_ps(group_shift(ei::predux_max(max)));
  __m512 sum = _mm512_setzero_ps();
  if (output == tile_output::probabilities) {
    for (int i = 0; i < Packets; ++i) {
      x[i] = exp_packet(_mm512_sub_ps(x[i], shift));
      sum = _mm512_add_ps(sum, x[i]);
    }
    const float total = ei::predux(sum);
    const __m512 inverse = _mm512_set1_ps(total == 0.0f ? 0.0f : 1.0f / total);
    for (int i = 0; i < Packets; ++i) x[i] = _mm512_mul_ps(x[i], inverse);
  } else {
    for (int i = 0; i < Packets; ++i) sum = _mm512_add_ps(sum, exp_packet(_mm512_sub_ps(x[i], shift)));
    const float total = ei::predux(sum);
    const __m512 log_sum = _mm512_set1_ps(total == 0.0f ? std::numeric_limits<float>::infinity() : std::log(total));
    for (int i = 0; i < Packets; ++i) x[i] = _mm512_sub_ps(_mm512_sub_ps(x[i], shift), log_sum);
  }
  for (int i = 0; i + 1 < Packets; ++i) _mm512_storeu_ps(y + 16 * i, x[i]);
  _mm512_mask_storeu_ps(y + 16 * (Packets - 1), tail, x[Packets - 1]);
}

/// A window step: under the row's shift when `shared` and the window's
/// groups keep their mass under it, otherwise under each group's own max.
template <std::uint32_t Scans>
[[gnu::always_inline]] inline void window_step(const float* z, float* y, const packed_window& w, tile_output output, bool shared,
                                               const row_shift& shift) noexcept {
  if (!shared || !normalise_window_shared<Scans>(z, y, w, shift)) normalise_window<Scans>(z, y, w, output);
}

/// A step of one group of 17..64 tokens, as `window_step`.
template <int Packets>
[[gnu::always_inline]] inline void registers_step(const float* z, float* y, std::uint32_t size, tile_output output, bool shared,
                                                  const row_shift& shift) noexcept {
  if (!shared || !normalise_in_registers_shared<Packets>(z, y, size, shift)) normalise_in_registers<Packets>(z, y, size, output);
}

/// One long group: max pass, exp + sum pass, normalisation pass.
inline void normalise_streaming(const float* z, float* y, std::uint32_t size, tile_output output) noexcept {
  const std::uint32_t full = (size - 1) / 16;  // whole packets before the last, possibly partial, one
  const __mmask16 tail = first_lanes(size - 16u * full);
  const __m512 last = _mm512_mask_loadu_ps(minus_inf(), tail, z + 16 * full);
  __m512 max = last;
  for (std::uint32_t i = 0; i < full; ++i) max = _mm512_maskz_max_ps(all_lanes, max, _mm512_loadu_ps(z + 16 * i));
  const __m512 shift = _mm512_set1_ps(group_shift(ei::predux_max(max)));
  __m512 sum = exp_packet(_mm512_sub_ps(last, shift));
  if (output == tile_output::probabilities) {
    for (std::uint32_t i = 0; i < full; ++i) {
      const __m512 e = exp_packet(_mm512_sub_ps(_mm512_loadu_ps(z + 16 * i), shift));
      sum = _mm512_add_ps(sum, e);
      _mm512_storeu_ps(y + 16 * i, e);
    }
    const float total = ei::predux(sum);
    const __m512 inverse = _mm512_set1_ps(total == 0.0f ? 0.0f : 1.0f / total);
    for (std::uint32_t i = 0; i < full; ++i) _mm512_storeu_ps(y + 16 * i, _mm512_mul_ps(_mm512_loadu_ps(y + 16 * i), inverse));
    _mm512_mask_storeu_ps(y + 16 * full, tail, _mm512_mul_ps(exp_packet(_mm512_sub_ps(last, shift)), inverse));
  } else {
    for (std::uint32_t i = 0; i < full; ++i) sum = _mm512_add_ps(sum, exp_packet(_mm512_sub_ps(_mm512_loadu_ps(z + 16 * i), shift)));
    const float total = ei::predux(sum);
    const __m512 log_sum = _mm512_set1_ps(total == 0.0f ? std::numeric_limits<float>::infinity() : std::log(total));
    for (std::uint32_t i = 0; i < full; ++i) {
      _mm512_storeu_ps(y + 16 * i, _mm512_sub_ps(_mm512_sub_ps(_mm512_loadu_ps(z + 16 * i), shift), log_sum));
    }
    _mm512_mask_storeu_ps(y + 16 * full, tail, _mm512_sub_ps(_mm512_sub_ps(last, shift), log_sum));
  }
}

/// Softmax backward of one window's groups: dz = y ⊙ (dy − Σ_g y·dy), one
/// masked load of y and of dy, one masked store.
template <std::uint32_t Scans>
[[gnu::always_inline]] inline void backward_window(const float* y, const float* dy, float* dz, const packed_window& w,
                                                   detail::next_rows next) noexcept {
  const window_lanes m(w);
  detail::prefetch_next_rows(y, dy, w.begin, next);
  const __m512 probability = _mm512_maskz_loadu_ps(m.lanes, y + w.begin);
  const __m512 upstream = _mm512_maskz_loadu_ps(m.lanes, dy + w.begin);
  const __m512 dot = segmented_sum<Scans>(_mm512_mul_ps(probability, upstream), m);
  _mm512_mask_storeu_ps(dz + w.begin, m.lanes, _mm512_mul_ps(probability, _mm512_sub_ps(upstream, dot)));
}

/// Softmax backward of one group of more than 16 tokens: Σ y·dy in one pass
/// (two accumulators, the next rows' lines asked for on the way), dz in a
/// second (the group is then in L1), both in token order. The last, possibly
/// partial, packet is loaded once with a mask, so neither pass has a scalar
/// tail; `dz` may equal `y` or `dy` (each packet is read before it is written).
inline void backward_group(const float* y, const float* dy, float* dz, std::uint32_t size, detail::next_rows next) noexcept {
  const std::uint32_t full = (size - 1) / 16;  // whole packets before the last one
  __m512 even = _mm512_setzero_ps();
  __m512 odd = _mm512_setzero_ps();
  std::uint32_t i = 0;
  for (; i + 1 < full; i += 2) {
    detail::prefetch_next_rows(y, dy, 16 * i, next);
    detail::prefetch_next_rows(y, dy, 16 * i + 16, next);
    even = _mm512_fmadd_ps(_mm512_loadu_ps(y + 16 * i), _mm512_loadu_ps(dy + 16 * i), even);
    odd = _mm512_fmadd_ps(_mm512_loadu_ps(y + 16 * (i + 1)), _mm512_loadu_ps(dy + 16 * (i + 1)), odd);
  }
  if (i < full) {
    detail::prefetch_next_rows(y, dy, 16 * i, next);
    even = _mm512_fmadd_ps(_mm512_loadu_ps(y + 16 * i), _mm512_loadu_ps(dy + 16 * i), even);
  }
  detail::prefetch_next_rows(y, dy, 16 * full, next);
  const __mmask16 tail = first_lanes(size - 16u * full);
  const __m512 last_probability = _mm512_maskz_loadu_ps(tail, y + 16 * full);
  const __m512 last_upstream = _mm512_maskz_loadu_ps(tail, dy + 16 * full);
  odd = _mm512_fmadd_ps(last_probability, last_upstream, odd);
  const __m512 dot = _mm512_set1_ps(ei::predux(_mm512_add_ps(even, odd)));
  for (i = 0; i < full; ++i) {
    const __m512 probability = _mm512_loadu_ps(y + 16 * i);
    _mm512_storeu_ps(dz + 16 * i, _mm512_mul_ps(probability, _mm512_sub_ps(_mm512_loadu_ps(dy + 16 * i), dot)));
  }
  _mm512_mask_storeu_ps(dz + 16 * full, tail, _mm512_mul_ps(last_probability, _mm512_sub_ps(last_upstream, dot)));
}

}  // namespace avx512

/// The case of a step in the row loops' one `switch`: a window's scan steps
/// (0..4), so that the window's code is compiled for them, or the group kinds
/// after those. One indirect jump per step: a second branch on the scan steps
/// mispredicted often enough on the Zipf-like layouts to lose what the
/// shorter scans gain (docs/performance.md, tenth round).
enum step_case : std::uint32_t { window_scans_0 = 0, window_scans_4 = 4, group_registers_2, group_registers_3, group_registers_4, group_streaming };

[[nodiscard]] inline std::uint32_t case_of(const plan_step& step) noexcept {
  return step.kind == plan_step::window ? step.scan_steps : group_registers_2 + (step.kind - plan_step::registers_2);
}

/// Block softmax or log-softmax of one unmasked float row along `plan`
/// (`y` may equal `z`: every step reads its tokens before it writes them).
///
/// Probabilities take the row's max M as every group's shift
/// (row_plan.hpp, "the row's max as the shift"): no segmented max in a
/// window, no horizontal max in a group of 17..64. A step whose groups lose
/// their mass under M falls back to each group's own max; so does every long
/// group (it has a max pass of its own, and writes before it could check).
inline void block_softmax_row_planned(const float* z, float* y, const row_plan& plan, tile_output output) noexcept {
  const packed_window* windows = plan.windows.data();
  const float row_max = output == tile_output::probabilities ? avx512::row_max(z, plan.length) : 0.0f;
  const bool shared = output == tile_output::probabilities && detail::can_share_shift(row_max);
  const avx512::row_shift shift(row_max);
  for (const plan_step& step : plan.steps) {
    const float* zs = z + step.begin;
    float* ys = y + step.begin;
    switch (case_of(step)) {
      case window_scans_0 + 0: avx512::window_step<0>(z, y, windows[step.count], output, shared, shift); break;
      case window_scans_0 + 1: avx512::window_step<1>(z, y, windows[step.count], output, shared, shift); break;
      case window_scans_0 + 2: avx512::window_step<2>(z, y, windows[step.count], output, shared, shift); break;
      case window_scans_0 + 3: avx512::window_step<3>(z, y, windows[step.count], output, shared, shift); break;
      case window_scans_4: avx512::window_step<4>(z, y, windows[step.count], output, shared, shift); break;
      case group_registers_2: avx512::registers_step<2>(zs, ys, step.count, output, shared, shift); break;
      case group_registers_3: avx512::registers_step<3>(zs, ys, step.count, output, shared, shift); break;
      case group_registers_4: avx512::registers_step<4>(zs, ys, step.count, output, shared, shift); break;
      default: avx512::normalise_streaming(zs, ys, step.count, output); break;
    }
  }
}

/// Softmax backward of one unmasked float row along `plan`, prefetching the
/// `next` rows:   dz = y ⊙ (dy − Σ_g y·dy)   (`dz` may equal `y` or `dy`).
inline void block_softmax_backward_row_planned(const float* y, const float* dy, float* dz, const row_plan& plan,
                                               detail::next_rows next) noexcept {
  const packed_window* windows = plan.windows.data();
  for (const plan_step& step : plan.steps) {
    switch (case_of(step)) {
      case window_scans_0 + 0: avx512::backward_window<0>(y, dy, dz, windows[step.count], next); break;
      case window_scans_0 + 1: avx512::backward_window<1>(y, dy, dz, windows[step.count], next); break;
      case window_scans_0 + 2: avx512::backward_window<2>(y, dy, dz, windows[step.count], next); break;
      case window_scans_0 + 3: avx512::backward_window<3>(y, dy, dz, windows[step.count], next); break;
      case window_scans_4: avx512::backward_window<4>(y, dy, dz, windows[step.count], next); break;
      default: avx512::backward_group(y + step.begin, dy + step.begin, dz + step.begin, step.count, next); break;
    }
  }
}

}  // namespace labelgraph::backends::cpu_detail

LABELGRAPH_SIMD_WARNINGS_ON

#endif  // __AVX512F__
