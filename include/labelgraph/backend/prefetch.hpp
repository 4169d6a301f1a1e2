#pragma once
/// \file
/// Software prefetch, shared by the host backends. The fused NLL reads a few
/// tokens at a random place of each row (the target's set N(t)):
/// the hardware prefetcher cannot guess them, and without a prefetch every
/// row waits for one memory access (mix256, 64 MiB of logits: the cpu
/// backend's NLL took about 21 ms without it, 9-14 ms with it, 1 thread).
/// The tiled softmax (tiled_rows.hpp) reads W rows side by side, W strided
/// streams that the hardware prefetcher follows poorly: it asks for the next
/// block's rows (the xtensor tiles on mix256: 19.1 → 18.1 ms, 1 thread).
/// The softmax backward reads y and dy, two streams besides dz's write
/// stream: each row asks for the lines it reads at the same places of the
/// next row (the cpu backend: 50-65% → 76-107% of the copy's bandwidth on
/// the large shapes, 1 thread).

#include <cstddef>

namespace labelgraph::detail {

/// How many rows ahead the fused NLL prefetches the logits of the target's set.
inline constexpr std::size_t nll_prefetch_rows = 8;

/// Asks for the cache lines of row[begin, end) ahead of their use, to read
/// (`for_write` 0) or to write (1: `prefetchw`, fetched for ownership, so
/// that the stores find them in the cache). Always inlined: GCC finds a
/// function whose only effect is a prefetch pure and drops the call.
template <int for_write, class T>
[[gnu::always_inline]] inline void prefetch_lines(const T* row, std::size_t begin, std::size_t end) noexcept {
#if defined(__GNUC__)
  constexpr std::size_t line_elements = 64 / sizeof(T);
  for (std::size_t v = begin; v < end; v += line_elements) __builtin_prefetch(row + v, for_write);
  if (end != begin) __builtin_prefetch(row + end - 1, for_write);
#else
  (void)row, (void)begin, (void)end;
#endif
}

/// `prefetch_lines` to read.
template <class T>
[[gnu::always_inline]] inline void prefetch_span(const T* row, std::size_t begin, std::size_t end) noexcept {
  prefetch_lines<0>(row, begin, end);
}

/// `prefetch_lines` to write.
template <class T>
[[gnu::always_inline]] inline void prefetch_span_for_write(T* row, std::size_t begin, std::size_t end) noexcept {
  prefetch_lines<1>(row, begin, end);
}

/// Where a row kernel finds the next row of its two inputs: elements from
/// the current row's (the rows' strides). Both 0: no prefetch (past the last
/// row, or inputs that stay in the cache).
struct next_rows {
  std::ptrdiff_t first = 0;
  std::ptrdiff_t second = 0;
};

/// Inputs smaller than this are left to the cache: the pet shape (1 MiB per
/// tensor) ran 10-15% slower with the next row's prefetches, the larger
/// shapes (16 MiB and up) faster.
inline constexpr std::size_t next_rows_min_bytes = std::size_t{8} << 20;

/// The next_rows of row r of two [rows, V] views.
template <class A, class B>
[[nodiscard]] next_rows next_rows_of(const A& a, const B& b, std::size_t r) noexcept {
  const std::size_t bytes = a.extent(0) * a.stride(0) * sizeof(*a.data());
  if (r + 1 >= a.extent(0) || bytes < next_rows_min_bytes) return {};
  return {static_cast<std::ptrdiff_t>(a.stride(0)), static_cast<std::ptrdiff_t>(b.stride(0))};
}

/// Asks for the line of a + v and of b + v in the next rows. Called once per
/// vector as the row is read: interleaved with the loads, these did better
/// than one `prefetch_span` burst per group (cpu backend, wordnet: 15.0
/// against 19.0 ms, 1 thread). Always inlined, as `prefetch_span`.
template <class T>
[[gnu::always_inline]] inline void prefetch_next_rows(const T* a, const T* b, std::size_t v, next_rows next) noexcept {
#if defined(__GNUC__)
  if (next.first == 0 && next.second == 0) return;
  __builtin_prefetch(a + v + next.first);
  __builtin_prefetch(b + v + next.second);
#else
  (void)a, (void)b, (void)v, (void)next;
#endif
}

}  // namespace labelgraph::detail
