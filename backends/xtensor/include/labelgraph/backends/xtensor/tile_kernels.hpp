#pragma once
/// \file
/// The xtensor backend's vector work for the tiled block softmax /
/// log-softmax of labelgraph/backend/tiled_rows.hpp (layouts of many small
/// groups): W rows are transposed into a [tokens, W] tile with xsimd batches,
/// each group is normalised by vertical batch ops, and groups of
/// `detail::tile_large_group` tokens or more go row by row through the three
/// passes of planned_rows.hpp (`normalise_streaming`). Same formulas and edge
/// cases as `block_softmax_row` / `block_log_softmax_row`, lane by lane.

#include "labelgraph/config.hpp"

LABELGRAPH_SIMD_WARNINGS_OFF

#include <xsimd/xsimd.hpp>

#include <bit>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <type_traits>
#include <utility>

#include "labelgraph/backend/tiled_rows.hpp"
#include "labelgraph/backends/xtensor/planned_rows.hpp"

namespace labelgraph::backends::xtensor_detail {

/// The instruction set of the transposes: 128-bit batches (SSE2's 4 float
/// lanes) wherever the build has them, AVX-512 and AVX2 builds included.
/// There a perfect shuffle is xsimd's `zip_lo` / `zip_hi` (one unpack each),
/// and a 4 x 4 transpose 8 of them. xsimd 8 has no two-source shuffle across
/// 128-bit lanes: wider transposes take two one-source swizzles and a blend
/// per output batch (log2 W rounds), which cost 1.1 instructions per element
/// at 8 lanes against 0.5 here; a side run on Zen 5 (the mix256 benchmark,
/// 1 thread) went from 18.1 to 15.6 ms. The group ops use the build's widest
/// batches; an AVX-512 tile row is then four transposed 4 x 4 blocks side by side.
#if XSIMD_WITH_SSE2
using transpose_arch = xsimd::sse2;
#elif XSIMD_WITH_AVX2
using transpose_arch = xsimd::avx2;
#else
using transpose_arch = xsimd::default_arch;
#endif

/// Lanes of a tile row: rows normalised at once.
template <class T>
inline constexpr std::size_t tile_lanes = xsimd::batch<T>::size;

/// Scratch elements `block_softmax_tiled` needs for rows of `row_length`.
template <class T>
[[nodiscard]] constexpr std::size_t tile_scratch_size(std::size_t row_length) noexcept {
  return detail::tile_chunk_tokens * tile_lanes<T> + row_length;
}

/// Lane i of the interleave of a and b reads lane i / 2 (low halves) or
/// W / 2 + i / 2 (high halves) of both, then takes a's value in even lanes.
struct low_half_lane {
  static constexpr unsigned get(unsigned i, unsigned) { return i / 2; }
};
struct high_half_lane {
  static constexpr unsigned get(unsigned i, unsigned size) { return size / 2 + i / 2; }
};
struct even_lane {
  static constexpr bool get(unsigned i, unsigned) { return i % 2 == 0; }
};

/// (a0, b0, a1, b1, ...) from the low halves of a and b (`high`: the high halves).
/// One unpack for a 128-bit batch; two swizzles and a blend for wider ones
/// (xsimd's `zip_lo` / `zip_hi` interleave within each 128-bit lane).
template <class B, bool high>
[[nodiscard, gnu::always_inline]] inline B interleave(const B& a, const B& b) noexcept {
  if constexpr (sizeof(B) == 16) {
    return high ? xsimd::zip_hi(a, b) : xsimd::zip_lo(a, b);
  } else {
    using lane_index = xsimd::batch<std::conditional_t<sizeof(typename B::value_type) == 4, std::uint32_t, std::uint64_t>,
                                    typename B::arch_type>;
    constexpr auto lanes = xsimd::make_batch_constant<lane_index, std::conditional_t<high, high_half_lane, low_half_lane>>();
    constexpr auto from_a = xsimd::make_batch_bool_constant<B, even_lane>();
    return xsimd::select(from_a, xsimd::swizzle(a, lanes), xsimd::swizzle(b, lanes));
  }
}

/// One perfect shuffle of W batches: r'[2i] and r'[2i + 1] interleave r[i]
/// with r[i + W/2].
template <class B, std::size_t... I>
[[gnu::always_inline, gnu::flatten]] inline void perfect_shuffle(B* r, std::index_sequence<I...>) noexcept {
  constexpr std::size_t half = sizeof...(I);
  const B low[] = {interleave<B, false>(r[I], r[I + half])...};
  const B high[] = {interleave<B, true>(r[I], r[I + half])...};
  ((r[2 * I] = low[I], r[2 * I + 1] = high[I]), ...);
}

/// Transposes the W x W block held in W batches: log2 W perfect shuffles
/// (each moves one bit of the row index into the column index). Inlined
/// with everything it calls, so that the W batches stay in registers.
template <std::size_t rounds, class B>
[[gnu::always_inline, gnu::flatten]] inline void shuffle_rounds(B* r) noexcept {
  if constexpr (rounds > 0) {
    perfect_shuffle(r, std::make_index_sequence<B::size / 2>());
    shuffle_rounds<rounds - 1>(r);
  }
}
template <class B>
[[gnu::always_inline]] inline void transpose_square(B* r) noexcept {
  shuffle_rounds<static_cast<std::size_t>(std::countr_zero(B::size))>(r);
}

/// The `Tiles` of labelgraph/backend/tiled_rows.hpp for xsimd batches.
template <class T>
struct batch_tiles {
  using B = xsimd::batch<T>;                  ///< a tile row: token k of W rows
  using S = xsimd::batch<T, transpose_arch>;  ///< a row of one transposed block
  static constexpr std::size_t W = B::size;
  static constexpr std::size_t SW = S::size;
  static_assert(W % SW == 0);

  T* tile;              ///< tile_chunk_tokens x W elements
  std::size_t row_length;
  bool log_output;

  // load, store and normalise are flattened: GCC's -O3 otherwise leaves
  // xsimd's select and swizzle as calls, with the batches passed through memory
  // (3.5x slower on the pet layout).

  /// tile[c][lane] = rows[lane][first + c] for c < count: SW rows at a time
  /// along the chunk (SW streams for the prefetcher, SW pointers in registers).
  [[gnu::flatten]] void load(const T* const* rows, std::uint32_t first, std::uint32_t count) const noexcept {
    const std::uint32_t whole = count - count % static_cast<std::uint32_t>(SW);
    for (std::size_t part = 0; part < W; part += SW) {
      const T* source[SW];
      for_each_index<SW>([&](std::size_t k) { source[k] = rows[part + k] + first; });
      for (std::uint32_t c = 0; c < whole; c += SW) {
        S block[SW];
        for_each_index<SW>([&](std::size_t k) { block[k] = S::load_unaligned(source[k] + c); });
        transpose_square(block);
        for_each_index<SW>([&](std::size_t k) { block[k].store_unaligned(tile + (c + k) * W + part); });
      }
    }
    for (std::uint32_t c = whole; c < count; ++c) {
      for (std::size_t lane = 0; lane < W; ++lane) tile[c * W + lane] = rows[lane][first + c];
    }
  }

  /// rows[lane][first + c] = tile[c][lane] for c < count, SW rows at a time.
  [[gnu::flatten]] void store(std::uint32_t first, std::uint32_t count, T* const* rows) const noexcept {
    const std::uint32_t whole = count - count % static_cast<std::uint32_t>(SW);
    for (std::size_t part = 0; part < W; part += SW) {
      T* target[SW];
      for_each_index<SW>([&](std::size_t k) { target[k] = rows[part + k] + first; });
      for (std::uint32_t c = 0; c < whole; c += SW) {
        S block[SW];
        for_each_index<SW>([&](std::size_t k) { block[k] = S::load_unaligned(tile + (c + k) * W + part); });
        transpose_square(block);
        for_each_index<SW>([&](std::size_t k) { block[k].store_unaligned(target[k] + c); });
      }
    }
    for (std::uint32_t c = whole; c < count; ++c) {
      for (std::size_t lane = 0; lane < W; ++lane) rows[lane][first + c] = tile[c * W + lane];
    }
  }

  /// The group in tile rows [begin, end), W rows at once: m = max (0 when
  /// −inf), then y = exp(z − m) / Σ exp(z − m), or y = (z − m) − log Σ exp(z − m)
  /// in this order (z − (m + log s) would round log s away next to a large m).
  [[gnu::flatten]] void normalise(std::uint32_t begin, std::uint32_t end) const noexcept {
    const B minus_inf(minus_infinity<T>);
    const B zero(T(0));
    B max = minus_inf;
    for (std::uint32_t k = begin; k < end; ++k) max = xsimd::max(max, row(k));
    const B shift = xsimd::select(max == minus_inf, zero, max);
    B sum = zero;
    if (!log_output) {
      for (std::uint32_t k = begin; k < end; ++k) {
        const B e = exp_nonpositive(row(k) - shift);
        e.store_unaligned(tile + k * W);
        sum += e;
      }
      const B inverse = xsimd::select(sum == zero, zero, B(T(1)) / sum);
      for (std::uint32_t k = begin; k < end; ++k) (row(k) * inverse).store_unaligned(tile + k * W);
    } else {
      for (std::uint32_t k = begin; k < end; ++k) sum += exp_nonpositive(row(k) - shift);
      const auto empty = sum == zero;
      const B log_sum = xsimd::log(sum);
      for (std::uint32_t k = begin; k < end; ++k) {
        xsimd::select(empty, minus_inf, (row(k) - shift) - log_sum).store_unaligned(tile + k * W);
      }
    }
  }

  /// The large group [begin, end) of one row, in three passes (planned_rows.hpp).
  void row_group(const T* z, T* y, std::uint32_t begin, std::uint32_t end) const {
    normalise_streaming(z, y, row_length, begin, end - begin, log_output);
  }

private:
  [[nodiscard]] B row(std::uint32_t k) const noexcept { return B::load_unaligned(tile + k * W); }

  /// body(0), ..., body(N - 1), unrolled.
  template <std::size_t N, class Body>
  [[gnu::always_inline]] static void for_each_index(const Body& body) noexcept {
    [&]<std::size_t... I>(std::index_sequence<I...>) { (body(I), ...); }(std::make_index_sequence<N>());
  }
};

/// Block softmax (`log_output`: log-softmax) without a mask of `rows` rows
/// through tiles. `scratch` holds `tile_scratch_size<T>(row_length)` elements;
/// `y` may equal `z`.
template <class T>
void block_softmax_tiled(const T* z, std::size_t z_stride, T* y, std::size_t y_stride, std::size_t rows,
                         std::size_t row_length, const std::uint32_t* offsets, std::uint32_t groups, bool log_output,
                         T* scratch) {
  T* spare_row = scratch + detail::tile_chunk_tokens * tile_lanes<T>;  // the padded lanes' output
  batch_tiles<T> tiles{scratch, row_length, log_output};
  detail::tiled_rows<tile_lanes<T>>(z, z_stride, y, y_stride, rows, offsets, groups, spare_row, tiles);
}

}  // namespace labelgraph::backends::xtensor_detail

LABELGRAPH_SIMD_WARNINGS_ON
