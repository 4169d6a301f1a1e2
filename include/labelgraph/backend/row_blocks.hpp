#pragma once
/// \file
/// Rows split into fixed blocks run on a oneTBB task arena: the threading of
/// the host backends that use oneTBB (`cpu`, `xtensor`). Needs oneTBB, which
/// those backends' CMake targets link; the core does not include this header.
///
/// Rows are independent, so kernels split [0, rows) into blocks whose size
/// depends only on the shape (`rows_per_task`), never on the thread count:
/// each row is computed by the same code whatever thread runs it, and results
/// are bitwise equal for any number of threads.

#include <tbb/blocked_range.h>
#include <tbb/enumerable_thread_specific.h>
#include <tbb/parallel_for.h>
#include <tbb/partitioner.h>
#include <tbb/task_arena.h>

#include <algorithm>
#include <cstddef>
#include <memory>

namespace labelgraph::detail {

/// Rows per parallel task: about 64 KiB of float logits, at least one row. A
/// function of the shape only (determinism: never of the thread count).
[[nodiscard]] inline std::size_t rows_per_task(std::size_t rows, std::size_t row_length) noexcept {
  constexpr std::size_t elements_per_task = 16384;
  const std::size_t per_task = std::max<std::size_t>(1, elements_per_task / std::max<std::size_t>(1, row_length));
  return std::min(std::max<std::size_t>(1, rows), per_task);
}

// ThreadSanitizer annotations. Debian's oneTBB is not built with TSan, so TSan
// does not see that a task's writes happen before `task_arena::execute`
// returns (nor the caller's writes before the tasks start) and reports the
// kernels' outputs as races. `row_block_arena::run` states those two edges;
// without `-fsanitize=thread` the functions are empty.
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

/// A oneTBB arena of a chosen size and one `Scratch` per thread that runs in
/// it. Copies share both, so a backend object holding one is cheap to copy
/// and may be used from several threads at once.
template <class Scratch>
class row_block_arena {
public:
  /// Exactly `threads` threads (>= 1; `tbb::task_arena::automatic` = all cores).
  explicit row_block_arena(int threads) : state_(std::make_shared<state>(threads)) {}

  /// The number of threads kernels use.
  [[nodiscard]] int threads() const { return state_->arena.max_concurrency(); }
  /// The arena (shared by copies).
  [[nodiscard]] tbb::task_arena* arena() const noexcept { return &state_->arena; }

  /// Runs `body(first_row, last_row, Scratch&)` over the blocks of
  /// `rows_per_task(rows, row_length)` rows of [0, rows), in the arena;
  /// returns when every block is done.
  template <class Body>
  void run(std::size_t rows, std::size_t row_length, const Body& body) const {
    if (rows == 0) return;
    const std::size_t grain = rows_per_task(rows, row_length);
    state& shared = *state_;
    char handoff = 0;  // the happens-before edges TSan cannot see inside an uninstrumented oneTBB
    tsan_release(&handoff);
    shared.arena.execute([&] {
      tbb::parallel_for(
          tbb::blocked_range<std::size_t>(0, rows, grain),
          [&](const tbb::blocked_range<std::size_t>& block) {
            tsan_acquire(&handoff);
            body(block.begin(), block.end(), shared.scratch.local());
            tsan_release(&handoff);
          },
          tbb::simple_partitioner());
    });
    tsan_acquire(&handoff);
  }

private:
  struct state {
    explicit state(int threads) : arena(threads) {}
    tbb::task_arena arena;
    tbb::enumerable_thread_specific<Scratch> scratch;
  };
  std::shared_ptr<state> state_;
};

}  // namespace labelgraph::detail
