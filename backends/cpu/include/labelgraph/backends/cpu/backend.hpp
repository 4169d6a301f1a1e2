#pragma once
/// \file
/// `labelgraph::backends::cpu`: host memory, a oneTBB task arena of a chosen
/// size, per-thread scratch rows reused from call to call. Kernels run over
/// fixed row blocks (labelgraph/backend/row_blocks.hpp): results are bitwise
/// equal for any number of threads.

#include <tbb/task_arena.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>
#include <vector>

#include "labelgraph/backend/row_blocks.hpp"
#include "labelgraph/tensor/memory_space.hpp"

namespace labelgraph::backends {

namespace cpu_detail {

/// One thread's scratch: grown to the largest row seen, then reused, so a
/// steady-state call allocates nothing.
struct scratch {
  std::vector<float> floats;
  std::vector<double> doubles;
  std::vector<std::uint8_t> mask;

  template <class T>
  [[nodiscard]] T* values(std::size_t count) {
    auto& storage = [this]() -> std::vector<T>& {
      if constexpr (sizeof(T) == sizeof(float)) {
        return floats;
      } else {
        return doubles;
      }
    }();
    if (storage.size() < count) storage.resize(count);
    return storage.data();
  }
  [[nodiscard]] std::uint8_t* bytes(std::size_t count) {
    if (mask.size() < count) mask.resize(count);
    return mask.data();
  }
};

/// Rows per parallel task (labelgraph/backend/row_blocks.hpp).
using labelgraph::detail::rows_per_task;

}  // namespace cpu_detail

/// The multi-threaded host backend: oneTBB over row blocks, Eigen packets
/// (AVX-512 / AVX2 / SSE2, chosen at compile time) inside a row.
/// Copies share the arena and the scratch; one object may be used from
/// several threads at once.
class cpu {
public:
  /// Host memory: kernels read and write the user's arrays in place.
  using memory_space = host_space;
  /// Kernels run in this arena.
  using queue_type = tbb::task_arena*;
  /// The backend's name in messages and benchmark labels.
  static constexpr std::string_view name = "cpu";

  /// As many threads as oneTBB sees cores.
  cpu() : cpu(tbb::task_arena::automatic) {}
  /// Exactly `threads` threads (>= 1; `tbb::task_arena::automatic` = all cores).
  explicit cpu(int threads) : blocks_(threads) {}

  /// The number of threads kernels use.
  [[nodiscard]] int threads() const { return blocks_.threads(); }
  /// The arena the kernels run in (shared by copies of this object).
  [[nodiscard]] queue_type queue() const noexcept { return blocks_.arena(); }
  /// Kernels return when done: nothing is ever queued.
  void synchronize() const noexcept {}

  /// `n` elements of host memory, 64-byte aligned.
  template <class T>
  [[nodiscard]] T* allocate(std::size_t n) const {
    return static_cast<T*>(memory_space::allocate(n * sizeof(T)));
  }
  /// Frees `n` elements obtained from `allocate<T>(n)`.
  template <class T>
  void deallocate(T* pointer, std::size_t n) const noexcept {
    memory_space::deallocate(pointer, n * sizeof(T));
  }
  /// Host to host: a plain copy of `n` elements.
  template <class T>
  void copy_to_host(const T* from, T* host_to, std::size_t n) const {
    if (n != 0) std::memmove(host_to, from, n * sizeof(T));
  }
  /// Host to host: a plain copy of `n` elements.
  template <class T>
  void copy_from_host(const T* host_from, T* to, std::size_t n) const {
    if (n != 0) std::memmove(to, host_from, n * sizeof(T));
  }

  /// Runs `body(first_row, last_row, scratch&)` over fixed blocks of
  /// [0, rows) in the arena (blocks: `cpu_detail::rows_per_task`).
  template <class Body>
  void for_row_blocks(std::size_t rows, std::size_t row_length, const Body& body) const {
    blocks_.run(rows, row_length, body);
  }

private:
  detail::row_block_arena<cpu_detail::scratch> blocks_;
};

}  // namespace labelgraph::backends
