#pragma once
/// \file
/// Block softmax / log-softmax for many small groups, vectorised *across
/// rows*: W rows (W = packet lanes) are transposed, one chunk of tokens at a
/// time, into a [tokens, W] tile, so that token v of all W rows is one packet.
/// A group of any size is then a few vertical packet ops — max, exp, sum,
/// scale — with no horizontal reduction, no masked load, and one loop per
/// group for W rows instead of one per row.
///
/// Why: the pet graph's groups have 2-12 tokens and WordNet's siblings are
/// mostly 1-5; row-wise, each tiny group costs a few unpredictable loop exits
/// (about 2 ns per token measured on Zen 4), which made the row kernel 10x
/// slower than the copy. Groups of `large_group` tokens or more still take the
/// row path of row_kernels.hpp (vectorised along the row).
///
/// Results per row do not depend on which lane or which block the row landed
/// in (every op is lane-wise), so they are independent of the thread count.

#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "labelgraph/backends/cpu/row_kernels.hpp"
#include "labelgraph/backends/cpu/simd.hpp"

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"  // GCC bug 105593, see simd.hpp
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wignored-attributes"
#endif

namespace labelgraph::backends::cpu_detail {

/// Groups at least this long are normalised row by row.
inline constexpr std::uint32_t large_group = 64;
/// Tokens per transposed chunk (the tile is chunk_tokens x W elements).
inline constexpr std::uint32_t chunk_tokens = 256;

/// Tiles pay off when groups are tiny on average: measured on Zen 4 (AVX-512),
/// 3.5x faster than the row kernel for the pet layout (mean group size 4.3),
/// 10-40% slower for the Zipf-like layouts of mean size 11-22, whose singletons
/// and large groups gain nothing from the transposes.
[[nodiscard]] constexpr bool prefer_tiles(std::uint32_t tokens, std::uint32_t groups) noexcept {
  return groups != 0 && tokens <= 8u * groups;
}

/// Scratch elements `block_softmax_tiled` needs.
template <class T>
[[nodiscard]] constexpr std::size_t tile_scratch_size(std::size_t row_length) noexcept {
  return chunk_tokens * lanes<T> + row_length;
}

/// Which normalised output a tile pass writes.
enum class tile_output : std::uint8_t { probabilities, log_probabilities };

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

/// Block softmax or log-softmax (no mask) of `rows` rows: blocks of W rows
/// through tiles for runs of small groups, large groups row by row. Rows past
/// the last in a partial block read row 0 again and write to scratch.
/// `scratch` holds `tile_scratch_size<T>(V)` elements; `y` may equal `z`.
template <class T>
inline void block_softmax_tiled(const T* z, std::size_t z_stride, T* y, std::size_t y_stride, std::size_t rows,
                                const std::uint32_t* offsets, std::uint32_t groups, tile_output output,
                                T* scratch) noexcept {
  constexpr std::uint32_t W = lanes<T>;
  T* tile = scratch;
  T* spare_row = scratch + chunk_tokens * W;  // output of the lanes past the last row; the log-softmax's exps
  for (std::size_t first = 0; first < rows; first += W) {
    const std::size_t count = std::min<std::size_t>(W, rows - first);
    const T* in[W];
    T* out[W];
    for (std::uint32_t lane = 0; lane < W; ++lane) {
      in[lane] = lane < count ? z + (first + lane) * z_stride : z + first * z_stride;
      out[lane] = lane < count ? y + (first + lane) * y_stride : spare_row;
    }
    std::uint32_t g = 0;
    while (g < groups) {
      if (offsets[g + 1] - offsets[g] >= large_group) {
        for (std::uint32_t lane = 0; lane < count; ++lane) {
          normalise_row_group(in[lane], out[lane], token_range{offsets[g], offsets[g + 1]}, output, spare_row);
        }
        ++g;
        continue;
      }
      // A run of small groups filling at most one chunk.
      const std::uint32_t run_first = g;
      const std::uint32_t begin = offsets[g];
      while (g < groups && offsets[g + 1] - offsets[g] < large_group && offsets[g + 1] - begin <= chunk_tokens) ++g;
      const std::uint32_t end = offsets[g];
      load_tile(in, begin, end - begin, tile);
      for (std::uint32_t h = run_first; h < g; ++h) normalise_tile_group(tile, offsets[h] - begin, offsets[h + 1] - begin, output);
      store_tile(tile, begin, end - begin, out);
    }
  }
}

}  // namespace labelgraph::backends::cpu_detail

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
