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

#include <cstddef>

namespace labelgraph::detail {

/// How many rows ahead the fused NLL prefetches the logits of the target's set.
inline constexpr std::size_t nll_prefetch_rows = 8;

/// Asks for the cache lines of row[begin, end) ahead of their use. Always
/// inlined: GCC finds a function whose only effect is a prefetch pure and
/// drops the call.
template <class T>
[[gnu::always_inline]] inline void prefetch_span(const T* row, std::size_t begin, std::size_t end) noexcept {
#if defined(__GNUC__)
  constexpr std::size_t line_elements = 64 / sizeof(T);
  for (std::size_t v = begin; v < end; v += line_elements) __builtin_prefetch(row + v);
  if (end != begin) __builtin_prefetch(row + end - 1);
#else
  (void)row, (void)begin, (void)end;
#endif
}

}  // namespace labelgraph::detail
