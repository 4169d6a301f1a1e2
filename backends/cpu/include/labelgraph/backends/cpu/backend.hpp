#pragma once
/// \file
/// `labelgraph::backends::cpu`: host memory, a oneTBB task arena of a chosen
/// size, per-thread scratch rows reused from call to call.
///
/// Rows are independent, so kernels split [0, rows) into fixed blocks whose
/// size depends only on the shape (`rows_per_task`), never on the thread
/// count: each row is computed by the same code whatever thread runs it, and
/// results are bitwise equal for any number of threads.

#include <tbb/blocked_range.h>
#include <tbb/enumerable_thread_specific.h>
#include <tbb/parallel_for.h>
#include <tbb/partitioner.h>
#include <tbb/task_arena.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string_view>
#include <vector>

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

/// Rows per parallel task: about 64 KiB of logits, at least one row. A
/// function of the shape only (determinism: never of the thread count).
[[nodiscard]] inline std::size_t rows_per_task(std::size_t rows, std::size_t row_length) noexcept {
  constexpr std::size_t elements_per_task = 16384;
  const std::size_t per_task = std::max<std::size_t>(1, elements_per_task / std::max<std::size_t>(1, row_length));
  return std::min(std::max<std::size_t>(1, rows), per_task);
}

// ThreadSanitizer annotations. Debian's oneTBB is not built with TSan, so TSan
// does not see that a task's writes happen before `task_arena::execute`
// returns (nor the caller's writes before the tasks start) and reports the
// kernels' outputs as races. `for_row_blocks` states those two edges; without
// `-fsanitize=thread` the functions are empty.
#if defined(__SANITIZE_THREAD__)
#define LABELGRAPH_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define LABELGRAPH_TSAN 1
#endif
#endif
#ifdef LABELGRAPH_TSAN
extern "C" void __tsan_acquire(void* address);
extern "C" void __tsan_release(void* address);
/// Acquire on `address` (after a release on it by another thread).
inline void tsan_acquire(void* address) noexcept { __tsan_acquire(address); }
/// Release on `address`.
inline void tsan_release(void* address) noexcept { __tsan_release(address); }
#else
/// Without ThreadSanitizer: nothing.
inline void tsan_acquire(void*) noexcept {}
/// Without ThreadSanitizer: nothing.
inline void tsan_release(void*) noexcept {}
#endif

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
  explicit cpu(int threads) : state_(std::make_shared<state>(threads)) {}

  /// The number of threads kernels use.
  [[nodiscard]] int threads() const { return state_->arena.max_concurrency(); }
  /// The arena the kernels run in (shared by copies of this object).
  [[nodiscard]] queue_type queue() const noexcept { return &state_->arena; }
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
    if (rows == 0) return;
    const std::size_t grain = cpu_detail::rows_per_task(rows, row_length);
    state& shared = *state_;
    char handoff = 0;  // the happens-before edges TSan cannot see inside an uninstrumented oneTBB
    cpu_detail::tsan_release(&handoff);
    shared.arena.execute([&] {
      tbb::parallel_for(
          tbb::blocked_range<std::size_t>(0, rows, grain),
          [&](const tbb::blocked_range<std::size_t>& block) {
            cpu_detail::tsan_acquire(&handoff);
            body(block.begin(), block.end(), shared.scratch.local());
            cpu_detail::tsan_release(&handoff);
          },
          tbb::simple_partitioner());
    });
    cpu_detail::tsan_acquire(&handoff);
  }

private:
  struct state {
    explicit state(int threads) : arena(threads) {}
    tbb::task_arena arena;
    tbb::enumerable_thread_specific<cpu_detail::scratch> scratch;
  };
  std::shared_ptr<state> state_;
};

}  // namespace labelgraph::backends
