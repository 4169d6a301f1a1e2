#pragma once
/// \file
/// The xtensor backend's tile of the fused NLL (labelgraph/backend/nll_tiles.hpp:
/// W rows of short sets at once, one row per lane) in xsimd batches, with
/// the W x W transposes of tile_kernels.hpp and xsimd's exp and log.

#include "labelgraph/config.hpp"

LABELGRAPH_SIMD_WARNINGS_OFF

#include <xsimd/xsimd.hpp>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "labelgraph/backend/nll_tiles.hpp"
#include "labelgraph/backends/xtensor/planned_rows.hpp"
#include "labelgraph/backends/xtensor/row_kernels.hpp"
#include "labelgraph/backends/xtensor/tile_kernels.hpp"

namespace labelgraph::backends::xtensor_detail {

/// The fused NLL (regulariser `none`) of `rows` (at most W) whose sets span
/// at most K batches each: lane i is row i (`detail::nll_tile_lane_row`).
/// For each row, with e_v = exp(z_v − m), s = Σ_N e:
///   lse = m + log s,  loss = w (lse − z_t),  grad_v = w (e_v / s − 1_t)
/// on N (`block_nll_row`'s formulas). `keep(row, result)` receives each
/// row's {loss, lse}. `whole_batches`: a set's batches may be stored whole
/// where they stay inside the row (their lanes past the set are 0, and the
/// caller zeroed the row in cache); otherwise only the set's lanes are. A
/// row whose maximum is −inf (no mass, or NaN as its only mass) is left to
/// the row kernel, as there.
template <std::size_t K, class T, class Keep>
[[gnu::flatten]] inline void nll_tile(std::span<const detail::nll_tile_row<T>> rows, std::size_t tokens,
                                      bool whole_batches, Keep&& keep) noexcept {
  using B = xsimd::batch<T>;
  constexpr std::size_t W = B::size;
  const detail::nll_tile_lanes<T, W> lane(rows);
  alignas(64) std::array<T, W> buffer;
  const B minus_inf(minus_infinity<T>);
  const B zero(T(0));
  // x[p][j], lane i: position p W + j of row i's set (−inf past its end).
  std::array<std::array<B, W>, K> x;
  for (std::size_t p = 0; p < K; ++p) {
    for (std::size_t i = 0; i < W; ++i) {  // (batches past a shorter set are not read: all their lanes are masked)
      const detail::nll_tile_row<T>& r = detail::nll_tile_lane_row(rows, i);
      const std::size_t first = r.begin + p * W;
      x[p][i] = first < r.end ? load_in_row(r.logits, first, tokens, buffer) : minus_inf;
    }
    transpose_square(x[p].data());
  }
  const B size = B::load_aligned(lane.set_size.data());
  B max = minus_inf;
  for (std::size_t p = 0; p < K; ++p) {
    for (std::size_t j = 0; j < W; ++j) {
      x[p][j] = xsimd::select(B(static_cast<T>(p * W + j)) < size, x[p][j], minus_inf);
      max = xsimd::max(max, x[p][j]);
    }
  }
  const B shift = xsimd::select(max == minus_inf, zero, max);
  B sum = zero;
  for (std::size_t p = 0; p < K; ++p) {
    for (std::size_t j = 0; j < W; ++j) {
      x[p][j] = exp_nonpositive(x[p][j] - shift);  // e, 0 past the set's end
      sum += x[p][j];
    }
  }
  const B lse = shift + xsimd::log(sum);
  const B w = B::load_aligned(lane.weight.data());
  const B scale = w / sum;
  const B target = B::load_aligned(lane.target_position.data());
  for (std::size_t p = 0; p < K; ++p) {
    for (std::size_t j = 0; j < W; ++j) {
      const B position(static_cast<T>(p * W + j));
      const B gradient = x[p][j] * scale - xsimd::select(position == target, w, zero);
      // 0 past the set's end, also when the set is NaN (e = 0, but e / s is not).
      x[p][j] = xsimd::select(position < size, gradient, zero);
    }
    transpose_square(x[p].data());
    for (std::size_t i = 0; i < rows.size(); ++i) {
      const detail::nll_tile_row<T>& r = rows[i];
      const std::size_t first = r.begin + p * W;
      if (first >= r.end) continue;  // a shorter set than the tile's longest
      if ((whole_batches && first + W <= tokens) || first + W <= r.end) {
        x[p][i].store_unaligned(r.grad + first);
      } else {
        x[p][i].store_aligned(buffer.data());
        std::copy(buffer.begin(), buffer.begin() + static_cast<std::ptrdiff_t>(r.end - first), r.grad + first);
      }
    }
  }
  alignas(64) std::array<T, W> row_lse, row_loss, row_max;
  lse.store_aligned(row_lse.data());
  xsimd::select(w == zero, zero, w * (lse - B::load_aligned(lane.target_logit.data()))).store_aligned(row_loss.data());
  max.store_aligned(row_max.data());
  detail::keep_nll_tile_results(
      rows, row_loss, row_lse, row_max,
      [tokens](const detail::nll_tile_row<T>& r) {
        return block_nll_row_in_batches(r.logits, r.grad, tokens, r.begin, r.end, r.target, r.weight, 0, T(0),
                                        /*row_is_zero=*/true);
      },
      keep);
}

}  // namespace labelgraph::backends::xtensor_detail

LABELGRAPH_SIMD_WARNINGS_ON
