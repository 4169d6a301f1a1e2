#pragma once
/// \file
/// The cpu backend's vector work for the tiled block softmax / log-softmax of
/// labelgraph/backend/tiled_rows.hpp (layouts of many small groups): the
/// transposes by Eigen's `ptranspose`, the vertical group ops by Eigen
/// packets with the backend's own exp and log, and large groups by the row
/// kernels of row_kernels.hpp (vectorised along the row).

#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "labelgraph/backend/tiled_rows.hpp"
#include "labelgraph/backends/cpu/row_kernels.hpp"
#include "labelgraph/backends/cpu/simd.hpp"

#include "labelgraph/config.hpp"

LABELGRAPH_SIMD_WARNINGS_OFF

namespace labelgraph::backends::cpu_detail {

/// Scratch elements `block_softmax_tiled` needs.
template <class T>
[[nodiscard]] constexpr std::size_t tile_scratch_size(std::size_t row_length) noexcept {
  return detail::tile_chunk_tokens * lanes<T> + row_length;
}

/// Which normalised output a tile pass writes.
enum class tile_output : std::uint8_t { probabilities, log_probabilities };

/// True when tiles beat the row kernels for `output` over `layout`:
/// - layouts of groups of at most 8 tokens on average, either output.
///   Measured on Zen 4 (AVX-512): 3.5x faster than the row kernel for the
///   pet layout (mean group size 4.3), 10-40% slower for the Zipf-like
///   layouts of mean size 11-22, whose singletons and large groups gain
///   nothing from the transposes.
/// - log-probabilities over layouts with at least three quarters of their
///   tokens in small groups (< `detail::tile_large_group`). Measured on Zen 5
///   with AVX-512, 1 thread, the kernels alone (docs/performance.md, eleventh
///   round): 1.4x faster than the row plan on mix256 (all of its tokens in
///   small groups), whose windows wait on a log each; 1.2x slower on mix1k
///   (half) and on the WordNet-like layout (a fifth). The softmax keeps the
///   plan on all three (1.3-1.7x faster than tiles there).
[[nodiscard]] inline bool tiles_pay(const layout_view& layout, tile_output output) noexcept {
  if (layout.groups != 0 && layout.tokens <= 8u * layout.groups) return true;
  return output == tile_output::log_probabilities &&
         4 * detail::tokens_in_small_groups(layout.group_offsets, layout.groups) >= 3 * std::size_t{layout.tokens};
}

/// tile[c][lane] = rows[lane][first + c] for c < count.
template <class T>
inline void load_tile(const T* const* rows, std::uint32_t first, std::uint32_t count, T* tile) noexcept {
  using P = packet<T>;
  constexpr std::uint32_t W = lanes<T>;
  std::uint32_t c = 0;
  for (; c + W <= count; c += W) {
    ei::PacketBlock<P, W> block;
    for (std::uint32_t lane = 0; lane < W; ++lane) block.packet[lane] = ei::ploadu<P>(rows[lane] + first + c);
    ei::ptranspose(block);
    for (std::uint32_t k = 0; k < W; ++k) ei::pstoreu(tile + (c + k) * W, block.packet[k]);
  }
  for (; c < count; ++c) {
    for (std::uint32_t lane = 0; lane < W; ++lane) tile[c * W + lane] = rows[lane][first + c];
  }
}

/// rows[lane][first + c] = tile[c][lane] for c < count.
template <class T>
inline void store_tile(const T* tile, std::uint32_t first, std::uint32_t count, T* const* rows) noexcept {
  using P = packet<T>;
  constexpr std::uint32_t W = lanes<T>;
  std::uint32_t c = 0;
  for (; c + W <= count; c += W) {
    ei::PacketBlock<P, W> block;
    for (std::uint32_t k = 0; k < W; ++k) block.packet[k] = ei::ploadu<P>(tile + (c + k) * W);
    ei::ptranspose(block);
    for (std::uint32_t lane = 0; lane < W; ++lane) ei::pstoreu(rows[lane] + first + c, block.packet[lane]);
  }
  for (; c < count; ++c) {
    for (std::uint32_t lane = 0; lane < W; ++lane) rows[lane][first + c] = tile[c * W + lane];
  }
}

/// One group held as tile rows [begin, end), W rows at once (same formulas as
/// `block_softmax_row` / `block_log_softmax_row`, lane by lane).
template <class T>
inline void normalise_tile_group(T* tile, std::uint32_t begin, std::uint32_t end, tile_output output) noexcept {
  using P = packet<T>;
  constexpr std::uint32_t W = lanes<T>;
  const P minus_inf = ei::pset1<P>(minus_infinity<T>);
  const P zero = ei::pzero(minus_inf);
  P max = minus_inf;
  for (std::uint32_t k = begin; k < end; ++k) max = ei::pmax(max, ei::ploadu<P>(tile + k * W));
  const P shift = ei::pselect(ei::pcmp_eq(max, minus_inf), zero, max);
  P sum = zero;
  if (output == tile_output::probabilities) {
    for (std::uint32_t k = begin; k < end; ++k) {
      const P e = exp_packet(ei::psub(ei::ploadu<P>(tile + k * W), shift));
      ei::pstoreu(tile + k * W, e);
      sum = ei::padd(sum, e);
    }
    const P empty = ei::pcmp_eq(sum, zero);
    const P inverse = ei::pselect(empty, zero, ei::pdiv(ei::pset1<P>(T(1)), sum));
    for (std::uint32_t k = begin; k < end; ++k) ei::pstoreu(tile + k * W, ei::pmul(ei::ploadu<P>(tile + k * W), inverse));
  } else {
    for (std::uint32_t k = begin; k < end; ++k) sum = ei::padd(sum, exp_packet(ei::psub(ei::ploadu<P>(tile + k * W), shift)));
    // (z − m) − log s, in this order: z − (m + log s) would round log s away
    // next to a large m (the log-probability of the top token is −log s).
    const P empty = ei::pcmp_eq(sum, zero);
    const P log_sum = log_packet(sum);
    for (std::uint32_t k = begin; k < end; ++k) {
      const P value = ei::psub(ei::psub(ei::ploadu<P>(tile + k * W), shift), log_sum);
      ei::pstoreu(tile + k * W, ei::pselect(empty, minus_inf, value));
    }
  }
}

/// A large group [begin, end) of one row, row-wise (vectorised along the row).
/// `work` holds the row's exps for the log-softmax.
template <class T>
inline void normalise_row_group(const T* z, T* y, token_range range, tile_output output, T* work) noexcept {
  const T shift = group_shift(range_max(z, range, nullptr));
  if (output == tile_output::probabilities) {
    range_scale(y, inverse_or_zero(range_exp_sum(z, y, shift, range)), range);
  } else {
    const T sum = range_exp_sum(z, work, shift, range);
    if (sum == T(0)) {
      std::fill(y + range.begin, y + range.end, minus_infinity<T>);
    } else {
      range_shift(z, y, shift, range, nullptr);
      range_shift(y, y, std::log(sum), range, nullptr);
    }
  }
}

/// The `Tiles` of labelgraph/backend/tiled_rows.hpp for Eigen packets.
template <class T>
struct packet_tiles {
  T* tile;        ///< tile_chunk_tokens x W elements
  T* spare_row;   ///< the log-softmax's exps of a large group
  tile_output output;

  void load(const T* const* rows, std::uint32_t first, std::uint32_t count) const noexcept {
    load_tile(rows, first, count, tile);
  }
  void normalise(std::uint32_t begin, std::uint32_t end) const noexcept { normalise_tile_group(tile, begin, end, output); }
  void store(std::uint32_t first, std::uint32_t count, T* const* rows) const noexcept {
    store_tile(tile, first, count, rows);
  }
  void row_group(const T* z, T* y, std::uint32_t begin, std::uint32_t end) const noexcept {
    normalise_row_group(z, y, token_range{begin, end}, output, spare_row);
  }
};

/// Block softmax or log-softmax (no mask) of `rows` rows through tiles
/// (labelgraph/backend/tiled_rows.hpp). `scratch` holds
/// `tile_scratch_size<T>(V)` elements; `y` may equal `z`.
template <class T>
inline void block_softmax_tiled(const T* z, std::size_t z_stride, T* y, std::size_t y_stride, std::size_t rows,
                                const std::uint32_t* offsets, std::uint32_t groups, tile_output output,
                                T* scratch) noexcept {
  T* spare_row = scratch + detail::tile_chunk_tokens * lanes<T>;  // padded lanes' output; the log-softmax's exps
  packet_tiles<T> tiles{scratch, spare_row, output};
  detail::tiled_rows<lanes<T>>(z, z_stride, y, y_stride, rows, offsets, groups, spare_row, tiles);
}

}  // namespace labelgraph::backends::cpu_detail

LABELGRAPH_SIMD_WARNINGS_ON
