#pragma once
/// \file
/// The xtensor backend's fused NLL of rows whose every set fits one xsimd
/// batch (`detail::nll_sets_fit_one_vector`: pet's 64 floats in groups of
/// at most 12, AVX-512 builds): one row per batch, no tiles, no transposes.
///
/// The tiles of nll_tiles.hpp cost two W x W transposes per W rows, which
/// for 16 lanes xsimd 8 can only build from two swizzles and a blend per
/// batch and round (tile_kernels.hpp). Here each row loads the batch of its
/// row that holds its set, and the set's sum reaches every lane by
/// butterflies; the target's logit is the shift (labelgraph/backend/nll_shift.hpp),
/// so the row's chain has no max in it.

#include <xsimd/xsimd.hpp>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>

#include "labelgraph/backend/kernels.hpp"
#include "labelgraph/backend/nll_shift.hpp"
#include "labelgraph/backend/row_sets.hpp"
#include "labelgraph/backends/xtensor/exp.hpp"
#include "labelgraph/backends/xtensor/row_kernels.hpp"

namespace labelgraph::backends::xtensor_detail {

/// Zeroes row[0, tokens), tokens >= W, by whole-batch stores (the last one
/// may overlap the one before it). The count is 32 bits: GCC's loop
/// distribution turns the same loop over a std::size_t count into a call
/// to `memset` (and a `vzeroupper`) per row, which cost the pet rows 1.2x.
template <class T>
inline void zero_row_by_batches(T* row, std::uint32_t tokens) noexcept {
  using B = xsimd::batch<T>;
  constexpr auto W = static_cast<std::uint32_t>(B::size);
  const B zero(T(0));
  std::uint32_t v = 0;
  for (; v + W <= tokens; v += W) zero.store_unaligned(row + v);
  if (v < tokens) zero.store_unaligned(row + tokens - W);
}

/// The fused NLL (regulariser `none`, no mask, a gradient apart from the
/// logits) of rows [first, last), every set fitting one batch
/// (`detail::nll_sets_fit_one_vector` for `batch_size<T>` lanes). With the
/// shift c = z_t, e = exp(z − z_t) and s = Σ_N e (Eq. 3 holds for any shift):
///   lse = z_t + log s,  loss = w log s,  grad = w (e / s − 1_t) on N,
/// 0 elsewhere in the row, which is written whole: each row is zeroed, then
/// the batch [start, start + W) of its row that holds N is stored (its lanes
/// outside N are 0). W rows at a time keep s, z_t and w in arrays, and one
/// batch `log` makes their lse and loss. z − z_t is clamped to 64 for the
/// exp, so a clamped lane, like an overflow or a NaN, leaves s past
/// `detail::target_shift_sums`: such a row is done again after its W rows by
/// `block_nll_row_in_batches` (the max as the shift, and its rules for −inf,
/// NaN and sets without mass). `sets.set_of(target)` gives N(t);
/// `keep(row, {loss, lse})`.
template <class T, class Keep>
void nll_rows_in_one_batch(const block_nll_tensors<T>& t, std::size_t first, std::size_t last,
                           const detail::row_sets& sets, Keep&& keep) noexcept {
  using B = xsimd::batch<T>;
  constexpr std::size_t W = B::size;
  const std::size_t tokens = t.logits.extent(1);
  const auto row_length = static_cast<std::uint32_t>(tokens);  // at most nll_tile_row_bytes
  const B lanes = lane_numbers<T>();
  const B minus_inf(minus_infinity<T>);
  const B zero(T(0));
  const B clamp(T(64));  // exp(64) > 2^64
  for (std::size_t chunk = first; chunk < last; chunk += W) {
    const std::size_t count = std::min(W, last - chunk);
    // Entries of ignored rows, and past `count`, give loss 0 and lse 0.
    alignas(64) std::array<T, W> row_sum, row_target_logit, row_weight;
    row_sum.fill(T(1));
    row_target_logit.fill(T(0));
    row_weight.fill(T(0));
    for (std::size_t i = 0; i < count; ++i) {
      const std::size_t r = chunk + i;
      T* const grad = t.grad_logits.row(r);
      zero_row_by_batches(grad, row_length);
      const token_id target = t.targets(r);
      if (target == no_token) continue;
      const auto [begin, end] = sets.set_of(target);
      const std::size_t start = std::min<std::size_t>(begin, tokens - W);  // the batch that holds N, inside the row
      const T* const z = t.logits.row(r);
      const T w = t.weights.empty() ? T(1) : t.weights(r);
      const T z_t = z[target];
      const auto inside = lanes >= B(static_cast<T>(begin - start)) && lanes < B(static_cast<T>(end - start));
      const B x = xsimd::select(inside, B::load_unaligned(z + start), minus_inf);
      const B e = exp_nonpositive(xsimd::min(x - B(z_t), clamp));  // 0 outside N
      const B s = all_lanes_sum(e);
      const B g = e * (B(w) / s) - xsimd::select(lanes == B(static_cast<T>(target - start)), B(w), zero);
      g.store_unaligned(grad + start);
      row_sum[i] = s.get(0);
      row_target_logit[i] = z_t;
      row_weight[i] = w;
    }
    const B w = B::load_aligned(row_weight.data());
    const B log_s = xsimd::log(B::load_aligned(row_sum.data()));
    alignas(64) std::array<T, W> row_loss, row_lse;
    (B::load_aligned(row_target_logit.data()) + log_s).store_aligned(row_lse.data());
    xsimd::select(w == zero, zero, w * log_s).store_aligned(row_loss.data());
    for (std::size_t i = 0; i < count; ++i) {
      const std::size_t r = chunk + i;
      if (detail::target_shift_serves(row_sum[i])) {
        keep(r, nll_row_result<T>{row_loss[i], row_lse[i]});
        continue;
      }
      const token_id target = t.targets(r);
      const auto [begin, end] = sets.set_of(target);
      T* const grad = t.grad_logits.row(r);
      zero_row_by_batches(grad, row_length);
      keep(r, block_nll_row_in_batches(t.logits.row(r), grad, tokens, begin, end, target, row_weight[i], 0, T(0),
                                       /*row_is_zero=*/true));
    }
  }
}

}  // namespace labelgraph::backends::xtensor_detail
