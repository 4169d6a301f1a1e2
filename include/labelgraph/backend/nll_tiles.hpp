#pragma once
/// \file
/// Rows of the fused NLL collected into tiles, for the host backends' NLL
/// tiles (cpu: backends/cpu/nll_tiles.hpp, xtensor: its nll_tiles.hpp).
///
/// On a layout of small groups the fused NLL of a row costs little more than
/// the work that does not grow with its set: two horizontal reductions (max
/// and sum), a scalar `log`, a division, and loop exits that depend on the
/// set's length, so they mispredict from row to row. A tile takes W rows (W
/// = vector lanes) whose sets span at most 4 vectors, loads each row's set
/// from its first token and transposes W x W blocks: lane i then holds row
/// i, and max, sum, log, 1/sum and the gradient are vertical vector ops over
/// the set's positions (one vector log and one division per W rows, no
/// horizontal reduction, no branch that depends on a row). The gradient is
/// transposed back and stored over each set of rows the caller zeroed.
/// Lanes never mix: a row's result depends on its own logits only, whichever
/// rows share its tile. Regulariser `none` only (the others go row by row).

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <type_traits>

namespace labelgraph::detail {

/// Vectors' worth of tokens a set may hold to go into a tile (it then spans
/// at most that many vectors from its first token).
inline constexpr std::uint32_t nll_tile_vectors = 4;

/// Rows at most this long take tiles: a row block (64 KiB of logits,
/// `rows_per_task`) then holds 64 rows or more, so that few tiles run part
/// full at a block's end.
inline constexpr std::size_t nll_tile_row_bytes = 1024;

/// Whether the fused NLL of rows of `tokens` tokens cut into `groups` groups
/// takes tiles: mean group size at most 8 (the cpu backend's rule for its
/// softmax tiles) and rows of at most `nll_tile_row_bytes`. The pet
/// benchmark layout (64 tokens in 15 groups): 1.7-1.8x faster than the row
/// kernels; mix256 (256 tokens in 24 groups, sets of 1-4 vectors of 16
/// floats), which this rule leaves out: 1.15x slower (docs/performance.md).
template <class T>
[[nodiscard]] constexpr bool nll_tiles_pay(std::size_t tokens, std::size_t groups) noexcept {
  return groups > 1 && tokens <= 8 * groups && tokens * sizeof(T) <= nll_tile_row_bytes;
}

/// One row of the fused NLL waiting for its tile.
template <class T>
struct nll_tile_row {
  std::size_t row;       ///< its index in the batch (for the outputs)
  const T* logits;       ///< the row's logits
  T* grad;               ///< the row's gradient, zeroed by the caller
  std::uint32_t begin;   ///< N(t) = [begin, end), at most nll_tile_vectors vectors long
  std::uint32_t end;
  std::uint32_t target;  ///< t ∈ N(t)
  T weight;
};

/// The row of a tile's lane `lane`: lanes past the tile's rows repeat its
/// last row (their results are dropped).
template <class T>
[[nodiscard]] const nll_tile_row<T>& nll_tile_lane_row(std::span<const nll_tile_row<T>> rows, std::size_t lane) noexcept {
  return rows[std::min(lane, rows.size() - 1)];
}

/// What a tile needs of each lane's row besides its logits, one array per
/// quantity for the backend's aligned vector loads: the set's length, the
/// target's position in the set, the weight and the target's logit z_t.
template <class T, std::size_t Width>
struct nll_tile_lanes {
  alignas(64) std::array<T, Width> set_size;
  alignas(64) std::array<T, Width> target_position;
  alignas(64) std::array<T, Width> weight;
  alignas(64) std::array<T, Width> target_logit;

  explicit nll_tile_lanes(std::span<const nll_tile_row<T>> rows) noexcept {
    for (std::size_t i = 0; i < Width; ++i) {
      const nll_tile_row<T>& r = nll_tile_lane_row(rows, i);
      set_size[i] = static_cast<T>(r.end - r.begin);
      target_position[i] = static_cast<T>(r.target - r.begin);
      weight[i] = r.weight;
      target_logit[i] = r.logits[r.target];
    }
  }
};

/// Hands each of a tile's rows its result, `keep(row, {loss, lse})`, from
/// the tile's per-lane `loss`, `lse` and `max`; a row whose maximum is −inf
/// (no mass, or NaN as its only mass) gets `row_kernel(row)` instead, the
/// backend's row kernel, which owns those rules. The result type is the row
/// kernel's.
template <class T, std::size_t Width, class RowKernel, class Keep>
void keep_nll_tile_results(std::span<const nll_tile_row<T>> rows, const std::array<T, Width>& loss,
                           const std::array<T, Width>& lse, const std::array<T, Width>& max, RowKernel&& row_kernel,
                           Keep&& keep) {
  using result = std::invoke_result_t<RowKernel&, const nll_tile_row<T>&>;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    if (max[i] == -std::numeric_limits<T>::infinity()) {
      keep(rows[i].row, row_kernel(rows[i]));
    } else {
      keep(rows[i].row, result{loss[i], lse[i]});
    }
  }
}

/// Up to `Width` rows waiting for a tile, in arrival order, and the most
/// vectors any of their sets spans (the tile's length).
template <class T, std::uint32_t Width>
class nll_tile_queue {
public:
  /// Whether a row with this set may wait here.
  [[nodiscard]] static constexpr bool fits(std::uint32_t begin, std::uint32_t end) noexcept {
    return end > begin && end - begin <= nll_tile_vectors * Width;
  }

  /// Queues `row` (its set `fits`); true when `Width` rows wait (`run` them).
  [[nodiscard]] bool push(const nll_tile_row<T>& row) noexcept {
    vectors_ = std::max(vectors_, (row.end - row.begin + Width - 1) / Width);
    rows_[waiting_++] = row;
    return waiting_ == Width;
  }

  [[nodiscard]] bool empty() const noexcept { return waiting_ == 0; }

  /// Runs the rows waiting as one tile, `tile(vectors, rows)` with `vectors`
  /// a std::integral_constant (the most vectors their sets span, a
  /// compile-time length for the backend's tile), then empties the queue.
  template <class Tile>
  void run(Tile&& tile) {
    static_assert(nll_tile_vectors == 4, "one case per count of vectors below");
    const std::span<const nll_tile_row<T>> rows(rows_.data(), waiting_);
    switch (vectors_) {
      case 1: tile(std::integral_constant<std::uint32_t, 1>{}, rows); break;
      case 2: tile(std::integral_constant<std::uint32_t, 2>{}, rows); break;
      case 3: tile(std::integral_constant<std::uint32_t, 3>{}, rows); break;
      default: tile(std::integral_constant<std::uint32_t, 4>{}, rows); break;
    }
    waiting_ = 0;
    vectors_ = 0;
  }

private:
  std::array<nll_tile_row<T>, Width> rows_;
  std::uint32_t waiting_ = 0;
  std::uint32_t vectors_ = 0;
};

}  // namespace labelgraph::detail
