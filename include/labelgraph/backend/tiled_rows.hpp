#pragma once
/// \file
/// The row loop of the *tiled* block softmax / log-softmax, shared by the
/// host backends (cpu: Eigen packets, xtensor: xsimd batches). For a layout of
/// many small groups, W rows at a time (W = lanes of one vector) are
/// transposed, one chunk of tokens at a time, into a [tokens, W] tile, so that
/// token v of all W rows is one vector. A group of any size is then a few
/// vertical vector ops — max, exp, sum, scale — with no horizontal reduction,
/// no masked load, and one loop per group for W rows instead of one per row.
/// Groups of `tile_large_group` tokens or more are normalised row by row.
/// Each backend decides for which layouts tiles pay off.
///
/// Why: the pet graph's groups have 2-12 tokens and WordNet's siblings are
/// mostly 1-5; row-wise, each tiny group costs a few unpredictable loop exits
/// (about 2 ns per token measured on Zen 4), which made the row kernels up to
/// 10x slower than a copy.
///
/// The backend supplies the vector work as a `Tiles` object with
///   - `load(rows, first, count)`: tile[c][lane] = rows[lane][first + c], c < count;
///   - `normalise(begin, end)`: one group held in tile rows [begin, end);
///   - `store(first, count, rows)`: rows[lane][first + c] = tile[c][lane];
///   - `row_group(z, y, begin, end)`: the large group [begin, end) of one row.
/// Results per row do not depend on the lane or block the row lands in (every
/// op is lane-wise), so they are independent of the thread count.

#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "labelgraph/backend/prefetch.hpp"

namespace labelgraph::detail {

/// Groups at least this long are normalised row by row.
inline constexpr std::uint32_t tile_large_group = 64;
/// Tokens per transposed chunk (a tile holds tile_chunk_tokens x W elements).
inline constexpr std::uint32_t tile_chunk_tokens = 256;

/// The tokens of the groups `offsets[0..groups]` that tiles serve: those in
/// groups of fewer than `tile_large_group` tokens (the backends' rules for
/// when tiles pay off compare this with the row length).
[[nodiscard]] inline std::size_t tokens_in_small_groups(const std::uint32_t* offsets, std::uint32_t groups) noexcept {
  std::size_t tokens = 0;
  for (std::uint32_t g = 0; g < groups; ++g) {
    const std::uint32_t size = offsets[g + 1] - offsets[g];
    if (size < tile_large_group) tokens += size;
  }
  return tokens;
}

/// Normalises `rows` rows of z (row stride `z_stride`) into y (`y_stride`)
/// over the groups `offsets[0..groups]`: blocks of W rows through `tiles` for
/// runs of small groups, large groups row by row. The lanes past the last row
/// of a partial block read the block's first row again and write to
/// `spare_row` (one row of scratch). `y` may equal `z`.
template <std::size_t W, class T, class Tiles>
void tiled_rows(const T* z, std::size_t z_stride, T* y, std::size_t y_stride, std::size_t rows,
                const std::uint32_t* offsets, std::uint32_t groups, T* spare_row, Tiles& tiles) {
  for (std::size_t first = 0; first < rows; first += W) {
    const std::size_t count = std::min<std::size_t>(W, rows - first);
    const T* in[W];
    T* out[W];
    for (std::size_t lane = 0; lane < W; ++lane) {
      in[lane] = lane < count ? z + (first + lane) * z_stride : z + first * z_stride;
      out[lane] = lane < count ? y + (first + lane) * y_stride : spare_row;
    }
    std::uint32_t g = 0;
    while (g < groups) {
      if (offsets[g + 1] - offsets[g] >= tile_large_group) {
        for (std::size_t lane = 0; lane < count; ++lane) tiles.row_group(in[lane], out[lane], offsets[g], offsets[g + 1]);
        ++g;
        continue;
      }
      // A run of small groups filling at most one chunk.
      const std::uint32_t run_first = g;
      const std::uint32_t begin = offsets[g];
      while (g < groups && offsets[g + 1] - offsets[g] < tile_large_group && offsets[g + 1] - begin <= tile_chunk_tokens) ++g;
      const std::uint32_t end = offsets[g];
      if (first + 2 * W <= rows) {  // the same span of the next block's rows: W strided streams
        for (std::size_t lane = 0; lane < W; ++lane) prefetch_span(in[lane] + W * z_stride, begin, end);
      }
      tiles.load(in, begin, end - begin);
      for (std::uint32_t h = run_first; h < g; ++h) tiles.normalise(offsets[h] - begin, offsets[h + 1] - begin);
      tiles.store(begin, end - begin, out);
    }
  }
}

}  // namespace labelgraph::detail
