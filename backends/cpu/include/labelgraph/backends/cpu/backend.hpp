#pragma once
/// \file
/// `labelgraph::backends::cpu`: host memory, a oneTBB task arena of a chosen
/// size, per-thread scratch rows reused from call to call. Kernels run over
/// fixed row blocks (labelgraph/backend/row_blocks.hpp): results are bitwise
/// equal for any number of threads.

#include <tbb/task_arena.h>

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "labelgraph/backend/arena_backend.hpp"
#include "labelgraph/backend/row_blocks.hpp"

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
/// (AVX-512 / AVX2 / SSE2, chosen at compile time) inside a row. Memory,
/// queue and threads: `arena_backend` (labelgraph/backend/arena_backend.hpp),
/// whose `for_row_blocks` hands each block this thread's `cpu_detail::scratch`.
/// Copies share the arena and the scratch; one object may be used from
/// several threads at once.
class cpu : public arena_backend<cpu_detail::scratch> {
public:
  /// The backend's name in messages and benchmark labels.
  static constexpr std::string_view name = "cpu";

  /// As many threads as oneTBB sees cores.
  cpu() : cpu(tbb::task_arena::automatic) {}
  /// Exactly `threads` threads (>= 1; `tbb::task_arena::automatic` = all cores).
  explicit cpu(int threads) : arena_backend(threads) {}
};

}  // namespace labelgraph::backends
