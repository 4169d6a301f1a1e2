#pragma once
/// \file
/// `labelgraph::backends::xtensor`: host memory, kernels on xtensor views of
/// the caller's memory (row_kernels.hpp), run over fixed row blocks on a
/// oneTBB arena of a chosen size (labelgraph/backend/row_blocks.hpp: results
/// bitwise equal for any number of threads). Scratch rows live in
/// thread-local xtensor containers, grown to the largest row seen and
/// reused: a steady-state call allocates nothing.

#include "labelgraph/config.hpp"

LABELGRAPH_SIMD_WARNINGS_OFF

#include <xtensor/xtensor.hpp>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "labelgraph/backend/arena_backend.hpp"
#include "labelgraph/backend/candidate_nll.hpp"
#include "labelgraph/backend/kernels.hpp"
#include "labelgraph/backend/prefetch.hpp"
#include "labelgraph/backend/row_blocks.hpp"
#include "labelgraph/backend/row_sets.hpp"
#include "labelgraph/backend/stream_zero.hpp"
#include "labelgraph/backends/xtensor/nll_tiles.hpp"
#include "labelgraph/backends/xtensor/nll_vector_rows.hpp"
#include "labelgraph/backends/xtensor/planned_rows.hpp"
#include "labelgraph/backends/xtensor/row_kernels.hpp"
#include "labelgraph/backends/xtensor/tile_kernels.hpp"
#include "labelgraph/ops/mask.hpp"
#include "labelgraph/tensor/tensor_view.hpp"

namespace labelgraph::backends {

namespace xtensor_detail {
/// The arena's per-thread scratch: none (`xtensor_detail::scratch` is thread-local).
struct no_scratch {};
}  // namespace xtensor_detail

/// The xtensor + xsimd host backend, on a oneTBB arena. Memory, queue and
/// threads: `arena_backend` (labelgraph/backend/arena_backend.hpp). Copies
/// share the arena; one object may be used from several threads at once.
class xtensor : public arena_backend<xtensor_detail::no_scratch> {
public:
  /// The backend's name in messages and benchmark labels.
  static constexpr std::string_view name = "xtensor";

  /// As many threads as oneTBB sees cores.
  xtensor() : xtensor(tbb::task_arena::automatic) {}
  /// Exactly `threads` threads (>= 1; `tbb::task_arena::automatic` = all cores).
  explicit xtensor(int threads) : arena_backend(threads) {}

  /// Runs `body(first_row, last_row)` over fixed blocks of [0, rows) in the arena.
  template <class Body>
  void for_row_blocks(std::size_t rows, std::size_t row_length, const Body& body) const {
    arena_backend::for_row_blocks(rows, row_length,
                                  [&](std::size_t first, std::size_t last, xtensor_detail::no_scratch&) { body(first, last); });
  }
};

namespace xtensor_detail {

/// This thread's scratch of at least `count` elements of T.
template <class T>
[[nodiscard]] T* scratch(std::size_t count) {
  thread_local xt::xtensor<T, 1> storage;
  if (storage.size() < count) storage.resize({count});
  return storage.data();
}

/// The normalisation sets and the mask of one call
/// (labelgraph/backend/row_sets.hpp), C(u) spread into this thread's scratch.
class row_sets : public detail::row_sets {
public:
  using detail::row_sets::row_sets;

  /// M of `row` as bytes (nullptr: every token allowed).
  [[nodiscard]] const std::uint8_t* allowed(std::size_t row) const {
    return detail::row_sets::allowed(row, [](std::size_t count) { return scratch<std::uint8_t>(count); });
  }
};

/// True when a call takes the tiled path (tile_kernels.hpp): block
/// normalisation without a mask, over
/// - a layout of groups of at most 8 tokens on average, either output (the
///   cpu backend's rule): pet, 2.6-2.7x faster than the row plan
///   (planned_rows.hpp) for the softmax, 4.5x for the log-softmax;
/// - for the log-softmax (`log_output`), also a layout with at least half of
///   its tokens in small groups (< `detail::tile_large_group`), whose windows
///   in the plan wait on a log each: mix1k and mix256, 1.5x faster.
/// The softmax of those two takes the plan, which shares the row's max as
/// the shift (tenth round): 1.2-1.25x faster than tiles on mix256; on mix1k
/// 1.0-1.02x slower on 1 thread and 1.1-1.2x on 2 (docs/performance.md,
/// fourteenth round), which the simpler rule accepts. The WordNet-like
/// layout (a fifth of its tokens in small groups) takes the plan: tiles
/// 3.2x slower.
[[nodiscard]] inline bool use_tiles(const normalization_spec& spec, bool log_output) noexcept {
  if (!spec.per_group() || spec.mask.kind != mask_kind::none) return false;
  const layout_view& layout = spec.layout;
  if (layout.groups != 0 && layout.tokens <= 8u * layout.groups) return true;
  return log_output && 2 * detail::tokens_in_small_groups(layout.group_offsets, layout.groups) >= layout.tokens;
}

/// The tiled block softmax (`log_output`: log-softmax) of every row.
template <class T>
void tiled_kernel(const xtensor& backend, const normalization_spec& spec, tensor_view<const T, 2> logits,
                  tensor_view<T, 2> out, bool log_output) {
  const std::size_t tokens = logits.extent(1);
  backend.for_row_blocks(logits.extent(0), tokens, [&](std::size_t first, std::size_t last) {
    block_softmax_tiled(logits.row(first), logits.stride(0), out.row(first), out.stride(0), last - first, tokens,
                        spec.layout.group_offsets, spec.layout.groups, log_output,
                        scratch<T>(tile_scratch_size<T>(tokens)));
  });
}

/// Runs `body(r, plan)` for every row r over the call's row plan
/// (planned_rows.hpp). The plan lives in the calling thread's storage
/// (rebuilt per call in O(groups), its capacity reused: no allocation in the
/// steady state); the row tasks only read it.
template <class T, class Body>
void for_planned_rows(const xtensor& backend, const normalization_spec& spec, std::size_t rows, std::size_t tokens,
                      const Body& body) {
  thread_local planned_rows<T> storage;
  const row_sets sets(spec, tokens);
  storage.build(sets.offsets(), sets.groups());
  const planned_rows<T>& plan = storage;
  backend.for_row_blocks(rows, tokens, [&](std::size_t first, std::size_t last) {
    for (std::size_t r = first; r < last; ++r) body(r, plan);
  });
}

/// The planned block softmax (`log_output`: log-softmax) of every unmasked row.
template <class T>
void planned_kernel(const xtensor& backend, const normalization_spec& spec, tensor_view<const T, 2> logits,
                    tensor_view<T, 2> out, bool log_output) {
  const std::size_t tokens = logits.extent(1);
  for_planned_rows<T>(backend, spec, logits.extent(0), tokens, [&](std::size_t r, const planned_rows<T>& plan) {
    block_softmax_row_planned(logits.row(r), out.row(r), tokens, plan, log_output);
  });
}

}  // namespace xtensor_detail

/// Block softmax of every row: tiles for layouts of tiny groups
/// (`xtensor_detail::block_softmax_tiled`, where `use_tiles`), the row plan for other unmasked
/// rows (`xtensor_detail::block_softmax_row_planned`), and
/// `xtensor_detail::block_softmax_row` for masked ones.
template <class T>
void block_softmax_kernel(const xtensor& backend, const normalization_spec& spec, tensor_view<const T, 2> logits,
                          tensor_view<T, 2> probabilities) noexcept {
  if (xtensor_detail::use_tiles(spec, false)) {
    xtensor_detail::tiled_kernel(backend, spec, logits, probabilities, false);
    return;
  }
  if (spec.mask.kind == mask_kind::none) {
    xtensor_detail::planned_kernel(backend, spec, logits, probabilities, false);
    return;
  }
  const xtensor_detail::row_sets sets(spec, logits.extent(1));
  backend.for_row_blocks(logits.extent(0), logits.extent(1), [&](std::size_t first, std::size_t last) {
    for (std::size_t r = first; r < last; ++r) {
      xtensor_detail::block_softmax_row(logits.row(r), probabilities.row(r), logits.extent(1), sets.offsets(),
                                        sets.groups(), sets.allowed(r));
    }
  });
}

/// Block log-softmax of every row: tiles, the row plan, or `xtensor_detail::block_log_softmax_row`.
template <class T>
void block_log_softmax_kernel(const xtensor& backend, const normalization_spec& spec, tensor_view<const T, 2> logits,
                              tensor_view<T, 2> log_probabilities) noexcept {
  if (xtensor_detail::use_tiles(spec, true)) {
    xtensor_detail::tiled_kernel(backend, spec, logits, log_probabilities, true);
    return;
  }
  if (spec.mask.kind == mask_kind::none) {
    xtensor_detail::planned_kernel(backend, spec, logits, log_probabilities, true);
    return;
  }
  const xtensor_detail::row_sets sets(spec, logits.extent(1));
  backend.for_row_blocks(logits.extent(0), logits.extent(1), [&](std::size_t first, std::size_t last) {
    T* work = xtensor_detail::scratch<T>(logits.extent(1) + sets.groups());
    for (std::size_t r = first; r < last; ++r) {
      xtensor_detail::block_log_softmax_row(logits.row(r), log_probabilities.row(r), logits.extent(1), sets.offsets(),
                                            sets.groups(), sets.allowed(r), work);
    }
  });
}

/// dz = y ⊙ (dy − Σ_N y·dy): the row plan for unmasked rows, `xtensor_detail::block_softmax_backward_row` otherwise.
template <class T>
void block_softmax_backward_kernel(const xtensor& backend, const normalization_spec& spec,
                                   tensor_view<const T, 2> probabilities, tensor_view<const T, 2> grad_probabilities,
                                   tensor_view<T, 2> grad_logits) noexcept {
  const std::size_t tokens = probabilities.extent(1);
  if (spec.mask.kind == mask_kind::none) {  // the row plan, as the forward's
    xtensor_detail::for_planned_rows<T>(backend, spec, probabilities.extent(0), tokens,
                                        [&](std::size_t r, const xtensor_detail::planned_rows<T>& plan) {
                                          xtensor_detail::block_softmax_backward_row_planned(
                                              probabilities.row(r), grad_probabilities.row(r), grad_logits.row(r),
                                              tokens, plan, detail::next_rows_of(probabilities, grad_probabilities, r));
                                        });
    return;
  }
  const xtensor_detail::row_sets sets(spec, tokens);
  backend.for_row_blocks(probabilities.extent(0), probabilities.extent(1), [&](std::size_t first, std::size_t last) {
    for (std::size_t r = first; r < last; ++r) {
      xtensor_detail::block_softmax_backward_row(probabilities.row(r), grad_probabilities.row(r), grad_logits.row(r),
                                                 probabilities.extent(1), sets.offsets(), sets.groups(), sets.allowed(r));
    }
  });
}

/// dz = dy − p ⊙ Σ_N dy, p = exp(log y).
template <class T>
void block_log_softmax_backward_kernel(const xtensor& backend, const normalization_spec& spec,
                                       tensor_view<const T, 2> log_probabilities,
                                       tensor_view<const T, 2> grad_log_probabilities,
                                       tensor_view<T, 2> grad_logits) noexcept {
  const xtensor_detail::row_sets sets(spec, log_probabilities.extent(1));
  const std::size_t tokens = log_probabilities.extent(1);
  backend.for_row_blocks(log_probabilities.extent(0), tokens, [&](std::size_t first, std::size_t last) {
    T* work = xtensor_detail::scratch<T>(tokens);
    for (std::size_t r = first; r < last; ++r) {
      xtensor_detail::block_log_softmax_backward_row(log_probabilities.row(r), grad_log_probabilities.row(r),
                                                     grad_logits.row(r), tokens, sets.offsets(), sets.groups(),
                                                     sets.allowed(r), work);
    }
  });
}

/// Fused NLL forward + gradient (with C(u) lists over C(u) ∩ N(t) only:
/// `detail::candidate_set_nll`): one row per batch where every set fits one
/// (`nll_rows_in_one_batch`), W rows per tile where `detail::nll_tiles_pay`
/// (`nll_tile`), `fused_nll_row` otherwise; batch total by `detail::chunked_total`.
template <class T>
void block_nll_kernel(const xtensor& backend, const normalization_spec& spec, const regularizer& reg,
                      const block_nll_tensors<T>& t) noexcept {
  const std::size_t tokens = t.logits.extent(1);
  const xtensor_detail::row_sets sets(spec, tokens);
  const int regulariser = reg.kind == regularizer_kind::label_smoothing   ? 1
                          : reg.kind == regularizer_kind::max_suppression ? 2
                                                                          : 0;
  const T epsilon = static_cast<T>(reg.epsilon);
  // The gradient is zero outside each row's set. When the sets are groups and
  // the gradient's rows are contiguous and apart from the logits, each row
  // block is zeroed in one fill and only the sets are written afterwards
  // (the cpu backend's `block` fill; fills around each set run at a fraction
  // of memset's speed).
  const bool zero_blocks = !t.grad_logits.empty() && spec.per_group() && t.grad_logits.stride(0) == tokens &&
                           static_cast<const void*>(t.grad_logits.data()) != static_cast<const void*>(t.logits.data());
  const auto keep = [&](std::size_t r, const xtensor_detail::nll_row_result<T>& result) {
    t.loss(r) = result.loss;
    if (!t.log_normalizer.empty()) t.log_normalizer(r) = result.lse;
  };
  const auto row_loss = [&](std::size_t r, token_id target) {
    T* grad = t.grad_logits.empty() ? nullptr : t.grad_logits.row(r);
    if (target == no_token) {
      keep(r, {T(0), T(0)});
      if (grad != nullptr && !zero_blocks) std::fill(grad, grad + tokens, T(0));
      return;
    }
    const detail::token_range set = sets.set_of(target);
    const auto [first, last] = set;
    const T weight = t.weights.empty() ? T(1) : t.weights(r);
    if (sets.candidate_lists()) {  // O(|C(u) ∩ N(t)|), see labelgraph/backend/candidate_nll.hpp
      const auto run = sets.candidates_in(r, set);
      const auto row_nll = [&](const T* x, T* gradient, std::size_t length, std::uint32_t begin, std::uint32_t end,
                               token_id set_target) {
        return xtensor_detail::fused_nll_row(x, gradient, length, begin, end, set_target, weight, nullptr, regulariser,
                                             epsilon, /*row_is_zero=*/false);  // a gathered run: not a zeroed row
      };
      keep(r, detail::candidate_set_nll(t.logits.row(r), grad, tokens, run, target, weight, zero_blocks,
                                        xtensor_detail::scratch<T>(2 * run.size()), row_nll));
      return;
    }
    T* exps = grad != nullptr ? grad : xtensor_detail::scratch<T>(tokens);
    keep(r, xtensor_detail::fused_nll_row(t.logits.row(r), exps, tokens, first, last, target, weight, sets.allowed(r),
                                          regulariser, epsilon, zero_blocks));
    if (grad != nullptr && !zero_blocks) {
      std::fill(grad, grad + first, T(0));
      std::fill(grad + last, grad + tokens, T(0));
    }
  };
  const std::size_t rows = t.logits.extent(0);
  // Large gradients of long rows: the zeros by non-temporal stores (labelgraph/backend/stream_zero.hpp).
  const bool streamed = zero_blocks && detail::streaming_pays(rows, tokens * sizeof(T));
  // The target's set of the row `nll_prefetch_rows` ahead is prefetched
  // (labelgraph/backend/prefetch.hpp), not with C(u) lists (the cpu backend
  // measured those 10-35% slower with their candidates' lines prefetched).
  const bool prefetch = spec.mask.kind != mask_kind::candidates;
  // Short sets of zeroed rows W rows at a time (labelgraph/backend/nll_tiles.hpp).
  const bool tiles = zero_blocks && regulariser == 0 && spec.mask.kind == mask_kind::none &&
                     detail::nll_tiles_pay<T>(tokens, sets.groups());
  // Rows whose every set fits one batch: one row per batch, no tiles
  // (nll_vector_rows.hpp), each row zeroed by batch stores.
  const bool one_batch_rows = regulariser == 0 && spec.mask.kind == mask_kind::none && !t.grad_logits.empty() &&
                              static_cast<const void*>(t.grad_logits.data()) != static_cast<const void*>(t.logits.data()) &&
                              detail::nll_sets_fit_one_vector<T>(spec, tokens, xtensor_detail::batch_size<T>);
  backend.for_row_blocks(rows, tokens, [&](std::size_t first_row, std::size_t last_row) {
    if (one_batch_rows) {
      xtensor_detail::nll_rows_in_one_batch(t, first_row, last_row, sets, keep);
      return;
    }
    if (zero_blocks) detail::zero_block(t.grad_logits.row(first_row), (last_row - first_row) * tokens, streamed);
    detail::nll_tile_queue<T, xtensor_detail::batch_size<T>> tile_queue;
    const auto run_tile = [&] {
      tile_queue.run([&](auto vectors, std::span<const detail::nll_tile_row<T>> waiting) {
        xtensor_detail::nll_tile<decltype(vectors)::value>(waiting, tokens, !streamed, keep);
      });
    };
    for (std::size_t r = first_row; r < last_row; ++r) {
      if (const std::size_t ahead = r + detail::nll_prefetch_rows; prefetch && ahead < rows && t.targets(ahead) != no_token) {
        const auto [begin, end] = sets.set_of(t.targets(ahead));
        detail::prefetch_span(t.logits.row(ahead), begin, end);
      }
      const token_id target = t.targets(r);
      if (tiles && target != no_token) {
        const auto [begin, end] = sets.set_of(target);
        const auto first = static_cast<std::uint32_t>(begin), last = static_cast<std::uint32_t>(end);
        if (tile_queue.fits(first, last)) {
          const T weight = t.weights.empty() ? T(1) : t.weights(r);
          if (tile_queue.push({r, t.logits.row(r), t.grad_logits.row(r), first, last, target, weight})) run_tile();
          continue;
        }
      }
      row_loss(r, target);
    }
    if (!tile_queue.empty()) run_tile();
  });
  if (!t.total.empty()) t.total(0) = static_cast<T>(detail::chunked_total(tensor_view<const T, 1>(t.loss)));
}

/// dz ← f_r·dz over each row's set, row blocks in parallel: the shared
/// per-row loop (`detail::scale_target_set_rows`), a plain scaling of spans.
template <class T>
void scale_target_sets_kernel(const xtensor& backend, const normalization_spec& spec,
                              tensor_view<const token_id, 1> targets, tensor_view<const T, 1> factors,
                              tensor_view<T, 2> grad_logits) noexcept {
  backend.for_row_blocks(grad_logits.extent(0), labelgraph::detail::typical_target_set_length(spec),
                         [&](std::size_t first, std::size_t last) {
                           labelgraph::detail::scale_target_set_rows(spec, targets, factors, grad_logits, first, last);
                         });
}

}  // namespace labelgraph::backends

LABELGRAPH_SIMD_WARNINGS_ON
