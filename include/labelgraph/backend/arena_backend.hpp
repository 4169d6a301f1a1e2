#pragma once
/// \file
/// `labelgraph::backends::arena_backend`: the part of a host backend on a
/// oneTBB arena that is not its kernels (the `cpu` and `xtensor` backends
/// derive from it): host memory used in place, the arena as the queue, and
/// the row blocks of labelgraph/backend/row_blocks.hpp with one `Scratch`
/// per thread. Needs oneTBB, as row_blocks.hpp does.

#include <tbb/task_arena.h>

#include <cstddef>
#include <cstring>

#include "labelgraph/backend/row_blocks.hpp"
#include "labelgraph/tensor/memory_space.hpp"

namespace labelgraph::backends {

/// Memory, queue and threads of a host backend whose kernels run over row
/// blocks in a oneTBB arena. Copies share the arena and the scratch; one
/// object may be used from several threads at once.
template <class Scratch>
class arena_backend {
public:
  /// Host memory: kernels read and write the user's arrays in place.
  using memory_space = host_space;
  /// Kernels run in this arena.
  using queue_type = tbb::task_arena*;

  /// Exactly `threads` threads (>= 1; `tbb::task_arena::automatic` = all cores).
  explicit arena_backend(int threads) : blocks_(threads) {}

  /// The number of threads kernels use.
  [[nodiscard]] int threads() const { return blocks_.threads(); }
  /// The arena the kernels run in (shared by copies of this object).
  [[nodiscard]] queue_type queue() const noexcept { return blocks_.arena(); }
  /// Kernels return when done: nothing is ever queued.
  void synchronize() const noexcept {}

  /// `n` uninitialised elements of host memory, 64-byte aligned.
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

  /// Runs `body(first_row, last_row, Scratch&)` over the fixed blocks of
  /// [0, rows) in the arena (`detail::rows_per_task`), this thread's scratch
  /// with each block.
  template <class Body>
  void for_row_blocks(std::size_t rows, std::size_t row_length, const Body& body) const {
    blocks_.run(rows, row_length, body);
  }

private:
  detail::row_block_arena<Scratch> blocks_;
};

}  // namespace labelgraph::backends
