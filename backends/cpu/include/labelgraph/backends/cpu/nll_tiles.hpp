#pragma once
/// \file
/// The cpu backend's tile of the fused NLL (labelgraph/backend/nll_tiles.hpp:
/// W rows of short sets at once, one row per lane) in Eigen packets, with
/// the backend's own exp and log and Eigen's `ptranspose`.

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "labelgraph/backend/nll_tiles.hpp"
#include "labelgraph/backends/cpu/row_kernels.hpp"
#include "labelgraph/backends/cpu/simd.hpp"

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"  // GCC bug 105593, see simd.hpp
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wignored-attributes"
#endif

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

}  // namespace labelgraph::backends::cpu_detail

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
