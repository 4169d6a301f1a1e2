#pragma once
/// \file
/// The `dense_backend` kernels of the cpu backend, on Eigen maps of the
/// views (no copies): GEMM by Eigen's blocked product over fixed row blocks of
/// C in the arena (deterministic: a block's product never depends on the
/// thread count), the elementwise ones as Eigen array expressions per block.

#include <Eigen/Core>

#include <algorithm>
#include <cstddef>

#include "labelgraph/backend/kernels.hpp"
#include "labelgraph/backends/cpu/backend.hpp"
#include "labelgraph/ops/options.hpp"
#include "labelgraph/tensor/tensor_view.hpp"

namespace labelgraph::backends {

namespace cpu_detail {

template <class T>
using matrix_map = Eigen::Map<Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>, Eigen::Unaligned,
                              Eigen::OuterStride<>>;
template <class T>
using const_matrix_map = Eigen::Map<const Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>,
                                    Eigen::Unaligned, Eigen::OuterStride<>>;

/// Rows [first, last) of a [rows, cols] view as an Eigen row-major map.
template <class T>
[[nodiscard]] auto rows_map(tensor_view<T, 2> view, std::size_t first, std::size_t last) noexcept {
  using map = std::conditional_t<std::is_const_v<T>, const_matrix_map<std::remove_const_t<T>>, matrix_map<T>>;
  return map(view.row(first), static_cast<Eigen::Index>(last - first), static_cast<Eigen::Index>(view.extent(1)),
             Eigen::OuterStride<>(static_cast<Eigen::Index>(view.stride(0))));
}

/// True when halving [0, size) down to blocks of at most `grain` rows (what
/// `for_row_blocks` does) leaves every block a multiple of 4 rows long, the
/// last one (`last`) excepted.
[[nodiscard]] inline bool blocks_in_fours(std::size_t size, std::size_t grain, bool last) noexcept {
  if (size <= grain) return last || size % 4 == 0;
  return blocks_in_fours(size / 2, grain, false) && blocks_in_fours(size - size / 2, grain, last);
}

/// The row length to give `for_row_blocks` for a GEMM of C [rows, columns]
/// with inner dimension `inner`.
///
/// Each block of rows is its own Eigen product and packs all of op(B) again:
/// at 4 rows a block (the encoder's [128, 784]·[784, 256] of the fashion
/// trainer) packing cost more than the multiplications. Halving with a larger
/// grain stops the same halving earlier, so its blocks are unions of the fine
/// blocks, and coarser blocks (at least 64 rows) are taken only where every
/// row of C is then computed exactly as before, so that results stay bit for
/// bit the same. Eigen computes a row-major C as Cᵀ = op(B)ᵀ·op(A)ᵀ: our
/// rows are its columns, walked in panels of nr = 4 from the block's first
/// row, the last rows % 4 one at a time; our columns are its rows, in panels
/// of 3, 2 and 1 packets (P floats each), then fractions of a packet.
/// - When every fine block but the last is a multiple of 4 rows, each row
///   stays in the same kind of panel.
/// - When the columns fill 3- and 2-packet panels only (columns mod 3P is 0
///   or 2P), the panel kind does not matter: those kernels accumulate each
///   dot product in one register either way, while the 1-packet and smaller
///   kernels split a 4-row panel's sum into even and odd k. Blocks of 1 row
///   (a GEMV in Eigen) and tiny products (coefficient-based in Eigen) keep
///   their fine blocks.
[[nodiscard]] inline std::size_t gemm_row_length(std::size_t rows, std::size_t columns, std::size_t inner,
                                                 std::size_t packet) noexcept {
  constexpr std::size_t coarse = 256;  // rows_per_task(rows, 256) = 64 rows
  const std::size_t fine = inner * 4;
  if (fine <= coarse) return fine;
  const std::size_t grain = rows_per_task(rows, fine);
  const bool in_fours = blocks_in_fours(rows, grain, true);
  const bool wide_panels_only = (columns % (3 * packet)) % (2 * packet) == 0 && grain >= 4 && columns + inner >= 20;
  return in_fours || wide_panels_only ? coarse : fine;
}

/// GEMMs of at least this many multiply-adds are cut into a grid of large
/// blocks (`large_gemm_grid`) instead of the row blocks above.
inline constexpr std::size_t large_gemm_multiply_adds = std::size_t{1} << 27;

/// The blocks of C [rows, cols] for a large GEMM: at most 512 rows × 4096
/// columns each, the rows and the columns split evenly. Every block packs its
/// slice of op(A) (rows × inner) and of op(B) (inner × columns) once, so the
/// packing is at most 1/512 + 1/4096 of the multiply-adds. The row blocks of
/// `gemm_row_length` were sized for logits-like rows: with a long inner
/// dimension they fall to 1-4 rows, and each re-packs all of op(B) (the
/// WordNet output layer's [1024, 256]·[256, 82116] and its weight gradient
/// ran 4x slower than one Eigen product). A function of the shape only, so
/// results stay independent of the thread count.
struct gemm_grid {
  std::size_t row_blocks, block_rows, column_blocks, block_columns;
};
[[nodiscard]] inline gemm_grid large_gemm_grid(std::size_t rows, std::size_t columns) noexcept {
  constexpr std::size_t max_rows = 512, max_columns = 4096;
  const std::size_t row_blocks = (rows + max_rows - 1) / max_rows;
  const std::size_t column_blocks = (columns + max_columns - 1) / max_columns;
  return {row_blocks, (rows + row_blocks - 1) / row_blocks, column_blocks, (columns + column_blocks - 1) / column_blocks};
}

/// C[r0:r1, c0:c1] = α·op(A)[r0:r1, :]·op(B)[:, c0:c1] + β·C[r0:r1, c0:c1]: one block of a large GEMM.
template <class T>
void gemm_grid_block(transpose ta, transpose tb, T alpha, tensor_view<const T, 2> a, tensor_view<const T, 2> b, T beta,
                     tensor_view<T, 2> c, std::size_t r0, std::size_t r1, std::size_t c0, std::size_t c1) noexcept {
  const auto rows = static_cast<Eigen::Index>(r1 - r0), columns = static_cast<Eigen::Index>(c1 - c0);
  const auto first_row = static_cast<Eigen::Index>(r0), first_column = static_cast<Eigen::Index>(c0);
  auto c_block = rows_map(c, r0, r1).middleCols(first_column, columns);
  if (beta == T(0)) {
    c_block.setZero();
  } else if (beta != T(1)) {
    c_block *= beta;
  }
  const auto a_map = rows_map(a, 0, a.extent(0));
  const auto b_map = rows_map(b, 0, b.extent(0));
  if (ta == transpose::no && tb == transpose::no) {
    c_block.noalias() += alpha * a_map.middleRows(first_row, rows) * b_map.middleCols(first_column, columns);
  } else if (ta == transpose::no) {
    c_block.noalias() += alpha * a_map.middleRows(first_row, rows) * b_map.middleRows(first_column, columns).transpose();
  } else if (tb == transpose::no) {
    c_block.noalias() += alpha * a_map.middleCols(first_row, rows).transpose() * b_map.middleCols(first_column, columns);
  } else {
    c_block.noalias() +=
        alpha * a_map.middleCols(first_row, rows).transpose() * b_map.middleRows(first_column, columns).transpose();
  }
}

}  // namespace cpu_detail

/// C = α·op(A)·op(B) + β·C, rows of C in parallel blocks (β = 0 ignores C's old contents);
/// large products in a grid of row × column blocks (`cpu_detail::large_gemm_grid`).
template <class T>
void gemm_kernel(const cpu& backend, transpose ta, transpose tb, T alpha, tensor_view<const T, 2> a,
                 tensor_view<const T, 2> b, T beta, tensor_view<T, 2> c) noexcept {
  const std::size_t inner = ta == transpose::no ? a.extent(1) : a.extent(0);
  if (c.extent(0) * c.extent(1) * inner >= cpu_detail::large_gemm_multiply_adds) {
    const cpu_detail::gemm_grid grid = cpu_detail::large_gemm_grid(c.extent(0), c.extent(1));
    // One block per task: a row length of 16384 elements makes `rows_per_task` 1.
    backend.for_row_blocks(grid.row_blocks * grid.column_blocks, 16384, [&](std::size_t first, std::size_t last, cpu_detail::scratch&) {
      for (std::size_t block = first; block < last; ++block) {
        const std::size_t r0 = (block / grid.column_blocks) * grid.block_rows;
        const std::size_t c0 = (block % grid.column_blocks) * grid.block_columns;
        cpu_detail::gemm_grid_block(ta, tb, alpha, a, b, beta, c, r0, std::min(c.extent(0), r0 + grid.block_rows), c0,
                                    std::min(c.extent(1), c0 + grid.block_columns));
      }
    });
    return;
  }
  backend.for_row_blocks(c.extent(0), cpu_detail::gemm_row_length(c.extent(0), c.extent(1), inner,
                                                                      Eigen::internal::gebp_traits<T, T>::LhsProgress), [&](std::size_t first, std::size_t last, cpu_detail::scratch&) {
    auto c_block = cpu_detail::rows_map(c, first, last);
    const auto full_a = cpu_detail::rows_map(a, 0, a.extent(0));
    const auto b_map = cpu_detail::rows_map(b, 0, b.extent(0));
    const auto rows = static_cast<Eigen::Index>(last - first);
    const auto start = static_cast<Eigen::Index>(first);
    if (beta == T(0)) {
      c_block.setZero();
    } else if (beta != T(1)) {
      c_block *= beta;
    }
    if (ta == transpose::no && tb == transpose::no) {
      c_block.noalias() += alpha * full_a.middleRows(start, rows) * b_map;
    } else if (ta == transpose::no) {
      c_block.noalias() += alpha * full_a.middleRows(start, rows) * b_map.transpose();
    } else if (tb == transpose::no) {
      c_block.noalias() += alpha * full_a.transpose().middleRows(start, rows) * b_map;
    } else {
      c_block.noalias() += alpha * full_a.transpose().middleRows(start, rows) * b_map.transpose();
    }
  });
}

/// x(i, j) += bias(j).
template <class T>
void add_bias_kernel(const cpu& backend, tensor_view<const T, 1> bias, tensor_view<T, 2> x) noexcept {
  const Eigen::Map<const Eigen::Matrix<T, 1, Eigen::Dynamic>> b(bias.data(), static_cast<Eigen::Index>(bias.extent(0)));
  backend.for_row_blocks(x.extent(0), x.extent(1), [&](std::size_t first, std::size_t last, cpu_detail::scratch&) {
    cpu_detail::rows_map(x, first, last).rowwise() += b;
  });
}

/// sums(j) = Σ_i x(i, j), serially over i (a fixed order: deterministic).
template <class T>
void column_sum_kernel(const cpu& /*backend*/, tensor_view<const T, 2> x, tensor_view<T, 1> sums) noexcept {
  Eigen::Map<Eigen::Matrix<T, 1, Eigen::Dynamic>> s(sums.data(), static_cast<Eigen::Index>(sums.extent(0)));
  s = cpu_detail::rows_map(x, 0, x.extent(0)).colwise().sum();
}

/// out = a + b.
template <class T>
void add_kernel(const cpu& backend, tensor_view<const T, 2> a, tensor_view<const T, 2> b, tensor_view<T, 2> out) noexcept {
  backend.for_row_blocks(out.extent(0), out.extent(1), [&](std::size_t first, std::size_t last, cpu_detail::scratch&) {
    cpu_detail::rows_map(out, first, last) = cpu_detail::rows_map(a, first, last) + cpu_detail::rows_map(b, first, last);
  });
}

/// out = a ⊙ b.
template <class T>
void multiply_kernel(const cpu& backend, tensor_view<const T, 2> a, tensor_view<const T, 2> b, tensor_view<T, 2> out) noexcept {
  backend.for_row_blocks(out.extent(0), out.extent(1), [&](std::size_t first, std::size_t last, cpu_detail::scratch&) {
    cpu_detail::rows_map(out, first, last) =
        cpu_detail::rows_map(a, first, last).cwiseProduct(cpu_detail::rows_map(b, first, last));
  });
}

/// x ← α·x.
template <class T>
void scale_kernel(const cpu& backend, T alpha, tensor_view<T, 2> x) noexcept {
  backend.for_row_blocks(x.extent(0), x.extent(1), [&](std::size_t first, std::size_t last, cpu_detail::scratch&) {
    cpu_detail::rows_map(x, first, last) *= alpha;
  });
}

/// y = f(x) for f = identity, tanh, sigmoid, relu.
template <class T>
void activation_kernel(const cpu& backend, activation kind, tensor_view<const T, 2> x, tensor_view<T, 2> y) noexcept {
  backend.for_row_blocks(y.extent(0), y.extent(1), [&](std::size_t first, std::size_t last, cpu_detail::scratch&) {
    const auto in = cpu_detail::rows_map(x, first, last).array();
    auto out = cpu_detail::rows_map(y, first, last).array();
    switch (kind) {
      case activation::identity: out = in; break;
      case activation::tanh: out = in.tanh(); break;
      case activation::sigmoid: out = T(1) / (T(1) + (-in).exp()); break;
      case activation::relu: out = in.max(T(0)); break;
    }
  });
}

/// grad_x = grad_y ⊙ f'(x), with f' written through the output y:
/// identity 1, tanh 1 − y², sigmoid y(1 − y), relu [y > 0].
template <class T>
void activation_backward_kernel(const cpu& backend, activation kind, tensor_view<const T, 2> y,
                                tensor_view<const T, 2> grad_y, tensor_view<T, 2> grad_x) noexcept {
  backend.for_row_blocks(grad_x.extent(0), grad_x.extent(1), [&](std::size_t first, std::size_t last, cpu_detail::scratch&) {
    const auto out = cpu_detail::rows_map(y, first, last).array();
    const auto upstream = cpu_detail::rows_map(grad_y, first, last).array();
    auto result = cpu_detail::rows_map(grad_x, first, last).array();
    switch (kind) {
      case activation::identity: result = upstream; break;
      case activation::tanh: result = upstream * (T(1) - out.square()); break;
      case activation::sigmoid: result = upstream * out * (T(1) - out); break;
      case activation::relu: result = (out > T(0)).select(upstream, T(0)); break;
    }
  });
}

}  // namespace labelgraph::backends
