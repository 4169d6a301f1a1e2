#pragma once
/// \file
/// Zeroing a large gradient with non-temporal stores, shared by the host
/// backends' fused NLL. The gradient of the NLL is zero outside each row's
/// set N(t), so a row block is zeroed first and only the sets are written
/// after. Ordinary stores read every line for ownership before writing it: a
/// tensor larger than the cache then costs two memory transfers per byte.
/// Non-temporal stores skip that read (wordnet, 128 MiB of gradient in rows
/// of 128 KiB: 1.6x faster than ordinary stores). On short rows they lose: a
/// set's lines are read back right after the streamed fill (1.5x slower on
/// the 1 KiB rows of mix256), hence the row-length condition of
/// `streaming_pays`.

#include <algorithm>
#include <cstddef>
#include <cstdint>

#if defined(__SSE2__)
#include <immintrin.h>
#endif

namespace labelgraph::detail {

/// Gradients at least this large are zeroed with non-temporal stores (the L3
/// of the machines we measure is 32 MiB: a larger tensor gains nothing from
/// ordinary stores) ...
inline constexpr std::size_t streaming_gradient_bytes = std::size_t{32} << 20;
/// ... when each row is at least this long.
inline constexpr std::size_t streaming_row_bytes = std::size_t{16} << 10;

/// Whether a gradient of `rows` rows of `row_bytes` is zeroed by `stream_zero`.
[[nodiscard]] constexpr bool streaming_pays(std::size_t rows, std::size_t row_bytes) noexcept {
  return rows * row_bytes >= streaming_gradient_bytes && row_bytes >= streaming_row_bytes;
}

/// Zeroes n elements at `line` with non-temporal stores: `line` is 64-byte
/// aligned and n a multiple of one cache line's elements.
template <class T>
inline void stream_zero_lines(T* line, std::size_t n) noexcept {
  constexpr std::size_t line_elements = 64 / sizeof(T);
#if defined(__AVX512F__)
  const __m512i zero = _mm512_setzero_si512();
  for (std::size_t i = 0; i < n; i += line_elements) _mm512_stream_si512(reinterpret_cast<__m512i*>(line + i), zero);
#elif defined(__AVX__)
  const __m256i zero = _mm256_setzero_si256();
  for (std::size_t i = 0; i < n; i += line_elements) {
    _mm256_stream_si256(reinterpret_cast<__m256i*>(line + i), zero);
    _mm256_stream_si256(reinterpret_cast<__m256i*>(line + i) + 1, zero);
  }
#elif defined(__SSE2__)
  const __m128i zero = _mm_setzero_si128();
  for (std::size_t i = 0; i < n; i += line_elements) {
    for (int k = 0; k < 4; ++k) _mm_stream_si128(reinterpret_cast<__m128i*>(line + i) + k, zero);
  }
#else
  std::fill(line, line + n, T(0));
#endif
}

/// Zeroes x[0, n): the whole cache lines inside with non-temporal stores,
/// the partial lines at the ends with ordinary ones. Call `stream_fence()`
/// before the data is read by another thread.
template <class T>
inline void stream_zero(T* x, std::size_t n) noexcept {
  constexpr std::size_t line_elements = 64 / sizeof(T);
  const auto address = reinterpret_cast<std::uintptr_t>(x);
  const std::size_t head = std::min(n, ((64 - address % 64) % 64) / sizeof(T));
  const std::size_t lines = (n - head) / line_elements * line_elements;
  std::fill(x, x + head, T(0));
  stream_zero_lines(x + head, lines);
  std::fill(x + head + lines, x + n, T(0));
}

/// Orders this thread's non-temporal stores before its later stores.
inline void stream_fence() noexcept {
#if defined(__SSE2__)
  _mm_sfence();
#endif
}

/// Zeroes a block of the fused NLL's gradient, x[0, n): by `stream_zero`
/// and a fence when `streamed` (`streaming_pays` for the gradient), by
/// ordinary stores otherwise.
template <class T>
inline void zero_block(T* x, std::size_t n, bool streamed) noexcept {
  if (streamed) {
    stream_zero(x, n);
    stream_fence();
  } else {
    std::fill(x, x + n, T(0));
  }
}

}  // namespace labelgraph::detail
