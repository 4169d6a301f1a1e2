#pragma once
/// \file
/// The cpu backend's fused NLL of short sets (labelgraph/backend/nll_tiles.hpp)
/// with the backend's own exp and log: the tile (W rows of short sets at
/// once, one row per lane, Eigen packets and Eigen's `ptranspose`) and, on
/// AVX-512, rows whose set fits one vector, one row at a time.

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <type_traits>

#include "labelgraph/backend/kernels.hpp"
#include "labelgraph/backend/nll_shift.hpp"
#include "labelgraph/backend/nll_tiles.hpp"
#include "labelgraph/backends/cpu/backend.hpp"
#include "labelgraph/backends/cpu/row_kernels.hpp"
#include "labelgraph/backends/cpu/simd.hpp"

#include "labelgraph/config.hpp"

LABELGRAPH_SIMD_WARNINGS_OFF

namespace labelgraph::backends::cpu_detail {

/// The packet of `row` (length `tokens`) at `first`; lanes past the row's
/// end are 0 (never read).
template <class T>
inline packet<T> load_in_row(const T* row, std::uint32_t first, std::uint32_t tokens) noexcept {
  constexpr std::uint32_t W = lanes<T>;
  if (first + W <= tokens) return ei::ploadu<packet<T>>(row + first);
  return load_first_lanes(row + first, tokens - first);
}

/// The fused NLL (regulariser `none`) of `rows` (at most W) whose sets span
/// at most K packets each: lane i is row i (`detail::nll_tile_lane_row`).
/// For each row, with e_v = exp(z_v − m), s = Σ_N e:
///   lse = m + log s,  loss = w (lse − z_t),  grad_v = w (e_v / s − 1_t)
/// on N (`block_nll_row`'s formulas). `keep(row, result)` receives each
/// row's {loss, lse}. `whole_packets`: the packets of the set may be stored
/// whole where they stay inside the row (their lanes past the set are 0, and
/// the caller zeroed the row in cache); otherwise only the set's lanes are.
/// A row whose maximum is −inf (no mass, or NaN as its only mass) is left to
/// the row kernel, as there.
template <std::uint32_t K, class T, class Keep>
inline void nll_tile(std::span<const detail::nll_tile_row<T>> rows, std::uint32_t tokens, bool whole_packets,
                     Keep&& keep) noexcept {
  using P = packet<T>;
  constexpr std::uint32_t W = lanes<T>;
  const detail::nll_tile_lanes<T, W> lane(rows);
  const P minus_inf = ei::pset1<P>(minus_infinity<T>);
  const P zero = ei::pzero(minus_inf);
  // x[p][j], lane i: position p W + j of row i's set (−inf past its end).
  P x[K][W];
  ei::PacketBlock<P, W> block;
  for (std::uint32_t p = 0; p < K; ++p) {
    for (std::uint32_t i = 0; i < W; ++i) {  // (packets past a shorter set are not read: all their lanes are masked)
      const detail::nll_tile_row<T>& r = detail::nll_tile_lane_row(rows, i);
      const std::uint32_t first = r.begin + p * W;
      block.packet[i] = first < r.end ? load_in_row(r.logits, first, tokens) : minus_inf;
    }
    ei::ptranspose(block);
    for (std::uint32_t j = 0; j < W; ++j) x[p][j] = block.packet[j];
  }
  const P size = ei::pload<P>(lane.set_size.data());
  P max = minus_inf;
  for (std::uint32_t p = 0; p < K; ++p) {
    for (std::uint32_t j = 0; j < W; ++j) {
      const P inside = ei::pcmp_lt(ei::pset1<P>(static_cast<T>(p * W + j)), size);
      x[p][j] = ei::pselect(inside, x[p][j], minus_inf);
      max = ei::pmax(max, x[p][j]);  // NaN skipped, as in the row kernel
    }
  }
  const P shift = ei::pselect(ei::pcmp_eq(max, minus_inf), zero, max);
  P sum = zero;
  for (std::uint32_t p = 0; p < K; ++p) {
    for (std::uint32_t j = 0; j < W; ++j) {
      x[p][j] = exp_packet(ei::psub(x[p][j], shift));  // e, 0 past the set's end
      sum = ei::padd(sum, x[p][j]);
    }
  }
  const P lse = ei::padd(shift, log_packet(sum));
  const P w = ei::pload<P>(lane.weight.data());
  const P scale = ei::pdiv(w, sum);
  const P target = ei::pload<P>(lane.target_position.data());
  for (std::uint32_t p = 0; p < K; ++p) {
    for (std::uint32_t j = 0; j < W; ++j) {
      const P position = ei::pset1<P>(static_cast<T>(p * W + j));
      const P one_hot = ei::pselect(ei::pcmp_eq(position, target), w, zero);
      // 0 past the set's end, also when the set is NaN (e = 0, but e / s is not).
      block.packet[j] = ei::pselect(ei::pcmp_lt(position, size), ei::psub(ei::pmul(x[p][j], scale), one_hot), zero);
    }
    ei::ptranspose(block);
    for (std::size_t i = 0; i < rows.size(); ++i) {
      const detail::nll_tile_row<T>& r = rows[i];
      const std::uint32_t first = r.begin + p * W;
      if (first >= r.end) continue;  // a shorter set than the tile's longest
      if ((whole_packets && first + W <= tokens) || first + W <= r.end) {
        ei::pstoreu(r.grad + first, block.packet[i]);
      } else {
        store_first_lanes(r.grad + first, block.packet[i], r.end - first);
      }
    }
  }
  alignas(64) std::array<T, W> row_lse, row_loss, row_max;
  ei::pstore(row_lse.data(), lse);
  ei::pstore(row_loss.data(),
             ei::pselect(ei::pcmp_eq(w, zero), zero, ei::pmul(w, ei::psub(lse, ei::pload<P>(lane.target_logit.data())))));
  ei::pstore(row_max.data(), max);
  detail::keep_nll_tile_results(
      rows, row_loss, row_lse, row_max,
      [tokens](const detail::nll_tile_row<T>& r) {
        return block_nll_row_in_registers(r.logits, r.grad, tokens, token_range{r.begin, r.end}, r.target, r.weight,
                                          nll_regulariser::none, T(0), /*row_is_zero=*/true);
      },
      keep);
}

/// Zeroes `row[0, tokens)`, tokens >= W, by whole-packet stores (the last
/// one may overlap the one before it).
template <class T>
inline void zero_row_by_packets(T* row, std::uint32_t tokens) noexcept {
  constexpr std::uint32_t W = lanes<T>;
  const packet<T> zero = ei::pset1<packet<T>>(T(0));
  std::uint32_t v = 0;
  for (; v + W <= tokens; v += W) ei::pstoreu(row + v, zero);
  if (v < tokens) ei::pstoreu(row + tokens - W, zero);
}

/// Whether the fused NLL's rows of `tokens` floats, their sets given by
/// `spec`, take `nll_rows_in_one_vector`: AVX-512 builds (regulariser `none`
/// and no mask, checked by the caller), and `detail::nll_sets_fit_one_vector`
/// for 16 lanes. Pet (64 tokens, groups of at most 12): 1.15x faster than
/// the tiles on 1 thread, 1.14x on 2 (docs/performance.md, twelfth round).
template <class T>
[[nodiscard]] bool nll_vector_rows_pay(const normalization_spec& spec, std::size_t tokens) noexcept {
#if defined(__AVX512F__)
  return std::is_same_v<T, float> && detail::nll_sets_fit_one_vector<T>(spec, tokens, 16);
#else
  (void)spec;
  (void)tokens;
  return false;
#endif
}

#if defined(__AVX512F__)
/// Every lane the max (`all_lanes_max`) or the sum (`all_lanes_sum`) of x's
/// 16 lanes: four butterfly steps, no trip through a scalar.
inline __m512 all_lanes_max(__m512 x) noexcept {
  x = _mm512_max_ps(x, _mm512_shuffle_f32x4(x, x, 0x4E));
  x = _mm512_max_ps(x, _mm512_shuffle_f32x4(x, x, 0xB1));
  x = _mm512_max_ps(x, _mm512_permute_ps(x, 0x4E));
  return _mm512_max_ps(x, _mm512_permute_ps(x, 0xB1));
}
inline __m512 all_lanes_sum(__m512 x) noexcept {
  x = _mm512_add_ps(x, _mm512_shuffle_f32x4(x, x, 0x4E));
  x = _mm512_add_ps(x, _mm512_shuffle_f32x4(x, x, 0xB1));
  x = _mm512_add_ps(x, _mm512_permute_ps(x, 0x4E));
  return _mm512_add_ps(x, _mm512_permute_ps(x, 0xB1));
}

/// The fused NLL (regulariser `none`, no mask) of rows [first, last) whose
/// every set fits one vector of 16 floats (`nll_vector_rows_pay`). With e =
/// exp(z − c) for a shift c, s = Σ_N e (Eq. 3 holds for any c):
///   lse = c + log s,  loss = w ((c − z_t) + log s),  grad = w (e / s − 1_t) on N,
/// 0 elsewhere in the row, which is written whole. Each row loads its set
/// with a masked load (−inf outside N), sums across lanes by butterflies, and
/// stores the gradient's set over its zeroed row with a masked store; c, s,
/// c − z_t and w wait in `work`, and one vector `log` per 16 rows makes lse
/// and the loss at the end. `set_of(target)` gives N(t); `keep(row, {loss, lse})`.
///
/// The shift is the target's logit, c = z_t, where the gradient is not the
/// logits tensor (labelgraph/backend/nll_shift.hpp); a row where it does not
/// serve is done again with c = max_N z after the block's pass (the data is
/// still there). In place every row takes the max. With the max a set
/// without mass (all −inf, or NaN as its only mass) gets
/// `nll_of_set_without_maximum`'s results by masks. No branch depends on the
/// row but the one for ignored rows.
template <class SetOf, class Keep>
void nll_rows_in_one_vector(const block_nll_tensors<float>& t, std::size_t first, std::size_t last, scratch& work,
                            SetOf&& set_of, Keep&& keep) noexcept {
  constexpr std::size_t W = 16;
  const auto tokens = static_cast<std::uint32_t>(t.logits.extent(1));
  const std::size_t padded = (last - first + W - 1) / W * W;
  float* const row_shift = work.values<float>(4 * padded);  // c (0 for a set without mass)
  float* const row_sum = row_shift + padded;                // s
  float* const row_gap = row_sum + padded;                  // c − z_t
  float* const row_weight = row_gap + padded;               // w
  // The tensors' fields in locals: the stores below could alias them otherwise.
  const float* const logits = t.logits.data();
  const std::size_t logits_stride = t.logits.stride(0);
  float* const gradient = t.grad_logits.data();
  const std::size_t gradient_stride = t.grad_logits.stride(0);
  const token_id* const targets = t.targets.data();
  const std::size_t targets_stride = t.targets.stride(0);
  const float* const weights = t.weights.empty() ? nullptr : t.weights.data();
  const std::size_t weights_stride = t.weights.empty() ? 0 : t.weights.stride(0);
  const __m512 minus_inf = _mm512_set1_ps(minus_infinity<float>);
  const __m512 zero = _mm512_setzero_ps();
  const __m512 infinity = _mm512_set1_ps(std::numeric_limits<float>::infinity());
  const __m512i lane = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  // Entries whose pass below gives loss 0 and lse 0 (w = 0, s = 1): ignored
  // rows, and the padding after the block's last row.
  const auto make_neutral = [&](std::size_t i) {
    row_shift[i] = row_gap[i] = row_weight[i] = 0.0f;
    row_sum[i] = 1.0f;
  };
  // Row r of a target, shifted by z_t (`by_target`) or by its set's max.
  const auto run_row = [&]<bool by_target>(std::size_t r, token_id target, std::bool_constant<by_target>) {
    const std::size_t i = r - first;
    const float* z = logits + r * logits_stride;
    float* grad = gradient + r * gradient_stride;
    const token_range set = set_of(target);
    const float w = weights == nullptr ? 1.0f : weights[r * weights_stride];
    const auto inside = static_cast<__mmask16>((1u << set.size()) - 1u);  // |N| <= 16
    const __m512 x = _mm512_mask_loadu_ps(minus_inf, inside, z + set.begin);
    const float z_t = z[target];
    __m512 shift;
    __mmask16 mass = 0xFFFF;
    if constexpr (by_target) {
      shift = _mm512_set1_ps(z_t);
    } else {
      const __m512 m = all_lanes_max(x);  // a NaN in N makes the set NaN, through m or through s
      // A set without mass (m = −inf) gets shift 0, so e = 0 (NaN for a NaN
      // logit, which then makes s and the whole set NaN), s = 0, 1/s = 0 and
      // no one-hot term: `nll_of_set_without_maximum`'s results, without a branch.
      mass = _mm512_cmp_ps_mask(m, minus_inf, _CMP_NEQ_UQ);
      shift = _mm512_maskz_mov_ps(mass, m);
    }
    const __m512 e = exp_packet(_mm512_sub_ps(x, shift));  // exp(z − c), 0 outside N
    const __m512 s = all_lanes_sum(e);
    // w / s; 0 for s = 0 (no mass), which only the max shift meets (z_t's gives s >= 1, or the row is redone).
    const __m512 scale = by_target ? _mm512_div_ps(_mm512_set1_ps(w), s)
                                   : _mm512_maskz_div_ps(_mm512_cmp_ps_mask(s, zero, _CMP_NEQ_UQ), _mm512_set1_ps(w), s);
    const __mmask16 at_target =
        mass & _mm512_cmpeq_epi32_mask(lane, _mm512_set1_epi32(static_cast<int>(target - set.begin)));
    const __m512 g = _mm512_sub_ps(_mm512_mul_ps(e, scale), _mm512_maskz_mov_ps(at_target, _mm512_set1_ps(w)));
    zero_row_by_packets(grad, tokens);
    _mm512_mask_storeu_ps(grad + set.begin, inside, g);
    const float c = _mm512_cvtss_f32(shift);
    row_shift[i] = c;
    row_sum[i] = _mm512_cvtss_f32(s);
    row_gap[i] = by_target ? 0.0f : c - z_t;
    row_weight[i] = w;
  };
  const auto run_rows = [&]<bool by_target>(std::bool_constant<by_target> shift) {
    for (std::size_t r = first; r < last; ++r) {
      const token_id target = targets[r * targets_stride];
      if (target == no_token) {
        zero_row_by_packets(gradient + r * gradient_stride, tokens);
        make_neutral(r - first);
        continue;
      }
      run_row(r, target, shift);
    }
  };
  for (std::size_t i = last - first; i < padded; ++i) make_neutral(i);
  if (static_cast<const void*>(gradient) != static_cast<const void*>(logits)) {
    run_rows(std::true_type{});
    // Rows whose s under z_t is past the bound (or NaN) again with the max.
    const __m512 bound = _mm512_set1_ps(detail::target_shift_sums<float>);
    for (std::size_t i = 0; i < padded; i += W) {
      auto again = static_cast<std::uint32_t>(_mm512_cmp_ps_mask(_mm512_loadu_ps(row_sum + i), bound, _CMP_NLE_UQ));
      for (; again != 0; again &= again - 1) {
        const std::size_t r = first + i + static_cast<std::size_t>(std::countr_zero(again));
        run_row(r, targets[r * targets_stride], std::false_type{});
      }
    }
  } else {
    run_rows(std::false_type{});
  }
  // lse = c + log s and the loss, 16 rows at a time (into row_sum and
  // row_gap): w ((c − z_t) + log s), w·(+inf) for a set without mass (s = 0,
  // lse = −inf), and 0 for w = 0.
  for (std::size_t i = 0; i < padded; i += W) {
    const __m512 w = _mm512_loadu_ps(row_weight + i);
    const __m512 s = _mm512_loadu_ps(row_sum + i);
    const __m512 log_s = log_packet(s);
    const __m512 lse = _mm512_add_ps(_mm512_loadu_ps(row_shift + i), log_s);
    __m512 loss = _mm512_mul_ps(w, _mm512_add_ps(_mm512_loadu_ps(row_gap + i), log_s));
    loss = _mm512_mask_mul_ps(loss, _mm512_cmp_ps_mask(s, zero, _CMP_EQ_OQ), w, infinity);
    _mm512_storeu_ps(row_sum + i, lse);
    _mm512_storeu_ps(row_gap + i, _mm512_mask_blend_ps(_mm512_cmp_ps_mask(w, zero, _CMP_EQ_OQ), loss, zero));
  }
  for (std::size_t r = first; r < last; ++r) keep(r, nll_row_result<float>{row_gap[r - first], row_sum[r - first]});
}
#endif

}  // namespace labelgraph::backends::cpu_detail

LABELGRAPH_SIMD_WARNINGS_ON
