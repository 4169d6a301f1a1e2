#pragma once
/// \file
/// The required block-softmax-family kernels of the cpu backend
/// (signatures and shared semantics: labelgraph/backend/kernels.hpp). Each
/// one resolves a row's normalisation sets and mask (`row_sets`) and calls a
/// row kernel of row_kernels.hpp, over row blocks in parallel.

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <type_traits>

#include "labelgraph/backend/candidate_nll.hpp"
#include "labelgraph/backend/kernels.hpp"
#include "labelgraph/backend/prefetch.hpp"
#include "labelgraph/backend/stream_zero.hpp"
#include "labelgraph/backends/cpu/avx512_rows.hpp"  // first: simd.hpp's pragmas must see the intrinsics first
#include "labelgraph/backends/cpu/backend.hpp"
#include "labelgraph/backends/cpu/nll_tiles.hpp"
#include "labelgraph/backends/cpu/row_kernels.hpp"
#include "labelgraph/backends/cpu/tile_kernels.hpp"
#include "labelgraph/ops/mask.hpp"
#include "labelgraph/tensor/tensor_view.hpp"

namespace labelgraph::backends {

namespace cpu_detail {

/// The normalisation sets and mask of the rows of one call
/// (labelgraph/backend/row_sets.hpp), C(u) spread into the bytes of this
/// thread's scratch.
class row_sets : public detail::row_sets {
public:
  using detail::row_sets::row_sets;

  /// M of `row` as bytes (nullptr: every token allowed).
  [[nodiscard]] const std::uint8_t* allowed(std::size_t row, scratch& work) const {
    return detail::row_sets::allowed(row, [&work](std::size_t count) { return work.bytes(count); });
  }
};

/// The fused NLL of one row whose set is N = C(u) ∩ N(t), the ascending
/// tokens `run` (`row_sets::candidates_in`): `detail::candidate_set_nll`
/// (in place for consecutive tokens, gathered otherwise) over this backend's
/// row kernels, in registers for sets of up to `nll_register_packets` packets.
template <class T>
nll_row_result<T> candidate_nll_row(const T* z, T* grad, std::size_t tokens, std::span<const token_id> run,
                                    token_id target, T weight, nll_regulariser regulariser, T epsilon, bool row_is_zero,
                                    scratch& work) noexcept {
  const auto row_nll = [&](const T* x, T* gradient, std::size_t length, std::uint32_t begin, std::uint32_t end,
                           token_id t) {
    const token_range set{begin, end};
    if (set.size() <= nll_register_packets * lanes<T>) {  // writes only the set: the caller zeroes the rest
      return block_nll_row_in_registers(x, gradient, static_cast<std::uint32_t>(length), set, t, weight, regulariser,
                                        epsilon, true);
    }
    return block_nll_row(x, gradient, set, t, weight, nullptr, regulariser, epsilon);
  };
  return detail::candidate_set_nll(z, grad, tokens, run, target, weight, row_is_zero, work.values<T>(2 * run.size()),
                                   row_nll);
}

[[nodiscard]] inline nll_regulariser to_row_regulariser(regularizer_kind kind) noexcept {
  switch (kind) {
    case regularizer_kind::none: return nll_regulariser::none;
    case regularizer_kind::label_smoothing: return nll_regulariser::label_smoothing;
    case regularizer_kind::max_suppression: return nll_regulariser::max_suppression;
  }
  return nll_regulariser::none;
}

/// True when a call should take the tiled path of tile_kernels.hpp: block
/// normalisation without a mask over a layout where tiles pay off for
/// `output` (`tiles_pay`).
[[nodiscard]] inline bool use_tiles(const normalization_spec& spec, tile_output output) noexcept {
  return spec.per_group() && spec.mask.kind == mask_kind::none && tiles_pay(spec.layout, output);
}

/// The tiled block softmax / log-softmax over all rows.
template <class T>
void tiled_kernel(const cpu& backend, const normalization_spec& spec, tensor_view<const T, 2> logits, tensor_view<T, 2> out,
                  tile_output output) noexcept {
  backend.for_row_blocks(logits.extent(0), logits.extent(1), [&](std::size_t first, std::size_t last, scratch& work) {
    block_softmax_tiled(logits.row(first), logits.stride(0), out.row(first), out.stride(0), last - first,
                        spec.layout.group_offsets, spec.layout.groups, output,
                        work.values<T>(tile_scratch_size<T>(logits.extent(1))));
  });
}

/// True when a call can take the AVX-512 row plan of avx512_rows.hpp: float
/// rows without a mask, built for AVX-512.
template <class T>
[[nodiscard]] bool use_row_plan(const normalization_spec& spec) noexcept {
#if defined(__AVX512F__)
  return std::is_same_v<T, float> && spec.mask.kind == mask_kind::none;
#else
  (void)spec;
  return false;
#endif
}

#if defined(__AVX512F__)
/// Runs `body(r, plan)` for every row r over a `row_plan` of the call's sets.
/// The plan lives in the calling thread's storage (rebuilt per call in
/// O(groups), its capacity reused: no allocation in the steady state); the
/// row tasks only read it.
template <class Body>
void for_planned_rows(const cpu& backend, const normalization_spec& spec, std::size_t rows, std::size_t tokens,
                      const Body& body) {
  thread_local row_plan plan;
  const row_sets sets(spec, tokens);
  plan.build(sets.offsets(), sets.groups());
  const row_plan& shared_plan = plan;
  backend.for_row_blocks(rows, tokens, [&](std::size_t first, std::size_t last, scratch&) {
    for (std::size_t r = first; r < last; ++r) body(r, shared_plan);
  });
}
#endif

/// The block softmax / log-softmax of every row along the row plan.
template <class T>
void planned_kernel(const cpu& backend, const normalization_spec& spec, tensor_view<const T, 2> logits, tensor_view<T, 2> out,
                    tile_output output) noexcept {
#if defined(__AVX512F__)
  if constexpr (std::is_same_v<T, float>) {
    for_planned_rows(backend, spec, logits.extent(0), logits.extent(1), [&](std::size_t r, const row_plan& plan) {
      block_softmax_row_planned(logits.row(r), out.row(r), plan, output);
    });
    return;
  }
#endif
  (void)backend, (void)spec, (void)logits, (void)out, (void)output;
}

/// The softmax backward of every row along the row plan, each row
/// prefetching the next one's y and dy.
template <class T>
void planned_backward_kernel(const cpu& backend, const normalization_spec& spec, tensor_view<const T, 2> probabilities,
                             tensor_view<const T, 2> grad_probabilities, tensor_view<T, 2> grad_logits) noexcept {
#if defined(__AVX512F__)
  if constexpr (std::is_same_v<T, float>) {
    for_planned_rows(backend, spec, probabilities.extent(0), probabilities.extent(1), [&](std::size_t r, const row_plan& plan) {
      block_softmax_backward_row_planned(probabilities.row(r), grad_probabilities.row(r), grad_logits.row(r), plan,
                                         detail::next_rows_of(probabilities, grad_probabilities, r));
    });
    return;
  }
#endif
  (void)backend, (void)spec, (void)probabilities, (void)grad_probabilities, (void)grad_logits;
}

}  // namespace cpu_detail

/// Block softmax (paper eq. 3) of every row: tile_kernels.hpp for layouts of
/// tiny groups, the AVX-512 row plan (avx512_rows.hpp) for other unmasked
/// float rows, otherwise row_kernels.hpp `block_softmax_row`.
template <class T>
void block_softmax_kernel(const cpu& backend, const normalization_spec& spec, tensor_view<const T, 2> logits,
                          tensor_view<T, 2> probabilities) noexcept {
  if (cpu_detail::use_tiles(spec, cpu_detail::tile_output::probabilities)) {
    cpu_detail::tiled_kernel(backend, spec, logits, probabilities, cpu_detail::tile_output::probabilities);
    return;
  }
  if (cpu_detail::use_row_plan<T>(spec)) {
    cpu_detail::planned_kernel(backend, spec, logits, probabilities, cpu_detail::tile_output::probabilities);
    return;
  }
  const cpu_detail::row_sets sets(spec, logits.extent(1));
  backend.for_row_blocks(logits.extent(0), logits.extent(1), [&](std::size_t first, std::size_t last, cpu_detail::scratch& work) {
    for (std::size_t r = first; r < last; ++r) {
      cpu_detail::block_softmax_row(logits.row(r), probabilities.row(r), sets.offsets(), sets.groups(), sets.allowed(r, work));
    }
  });
}

/// Block log-softmax of every row: tiles, the AVX-512 row plan or `block_log_softmax_row`.
template <class T>
void block_log_softmax_kernel(const cpu& backend, const normalization_spec& spec, tensor_view<const T, 2> logits,
                              tensor_view<T, 2> log_probabilities) noexcept {
  if (cpu_detail::use_tiles(spec, cpu_detail::tile_output::log_probabilities)) {
    cpu_detail::tiled_kernel(backend, spec, logits, log_probabilities, cpu_detail::tile_output::log_probabilities);
    return;
  }
  if (cpu_detail::use_row_plan<T>(spec)) {
    cpu_detail::planned_kernel(backend, spec, logits, log_probabilities, cpu_detail::tile_output::log_probabilities);
    return;
  }
  const cpu_detail::row_sets sets(spec, logits.extent(1));
  backend.for_row_blocks(logits.extent(0), logits.extent(1), [&](std::size_t first, std::size_t last, cpu_detail::scratch& work) {
    T* row_work = work.values<T>(logits.extent(1) + sets.groups());
    for (std::size_t r = first; r < last; ++r) {
      cpu_detail::block_log_softmax_row(logits.row(r), log_probabilities.row(r), sets.offsets(), sets.groups(),
                                        sets.allowed(r, work), row_work);
    }
  });
}

/// dz = y ⊙ (dy − Σ_N y·dy): the AVX-512 row plan for unmasked float rows,
/// otherwise `block_softmax_backward_row`.
template <class T>
void block_softmax_backward_kernel(const cpu& backend, const normalization_spec& spec, tensor_view<const T, 2> probabilities,
                                   tensor_view<const T, 2> grad_probabilities, tensor_view<T, 2> grad_logits) noexcept {
  if (cpu_detail::use_row_plan<T>(spec)) {
    cpu_detail::planned_backward_kernel(backend, spec, probabilities, grad_probabilities, grad_logits);
    return;
  }
  const cpu_detail::row_sets sets(spec, probabilities.extent(1));
  backend.for_row_blocks(probabilities.extent(0), probabilities.extent(1),
                         [&](std::size_t first, std::size_t last, cpu_detail::scratch& work) {
                           for (std::size_t r = first; r < last; ++r) {
                             cpu_detail::block_softmax_backward_row(probabilities.row(r), grad_probabilities.row(r),
                                                                    grad_logits.row(r), sets.offsets(), sets.groups(),
                                                                    sets.allowed(r, work));
                           }
                         });
}

/// dz = dy − p ⊙ Σ_N dy, p = exp(log y): `block_log_softmax_backward_row`.
template <class T>
void block_log_softmax_backward_kernel(const cpu& backend, const normalization_spec& spec,
                                       tensor_view<const T, 2> log_probabilities,
                                       tensor_view<const T, 2> grad_log_probabilities, tensor_view<T, 2> grad_logits) noexcept {
  const cpu_detail::row_sets sets(spec, log_probabilities.extent(1));
  backend.for_row_blocks(log_probabilities.extent(0), log_probabilities.extent(1),
                         [&](std::size_t first, std::size_t last, cpu_detail::scratch& work) {
                           T* row_work = work.values<T>(log_probabilities.extent(1));
                           for (std::size_t r = first; r < last; ++r) {
                             cpu_detail::block_log_softmax_backward_row(
                                 log_probabilities.row(r), grad_log_probabilities.row(r), grad_logits.row(r),
                                 sets.offsets(), sets.groups(), sets.allowed(r, work), row_work);
                           }
                         });
}

namespace cpu_detail {

/// How the fused NLL writes the gradient, which is zero outside each row's
/// set N(t). Chosen per call from the gradient's shape (a function of the
/// shape and the pointers only: results do not depend on it).
enum class gradient_fill : std::uint8_t {
  /// Each row zeroed around its set with ordinary stores: the gradient is
  /// the logits tensor (in place: zeros would overwrite logits not yet read),
  /// its rows are not contiguous, or a set may be the whole row (`full`,
  /// `candidate`).
  per_row,
  /// Each row block zeroed first in one fill, then only the sets written:
  /// block normalisation, whose sets are groups (mix1k, 16 MiB: 1.6x faster
  /// than per row, whose short fills around the set run at a fraction of
  /// `memset`'s speed).
  block,
  /// The same fill with non-temporal stores, where `detail::streaming_pays`
  /// (labelgraph/backend/stream_zero.hpp: large gradients of long rows).
  /// Streaming each whole short row instead, its set's lines assembled in a
  /// buffer so that no line is written twice, was 1.5x slower too (A/B on
  /// mix256, 1 thread), and so was streaming each row around its set's lines
  /// (docs/performance.md, fifteenth round).
  streamed_block,
  /// Each row zeroed by packets (`zero_row_by_packets`) just before its set
  /// is written, where the gradient is larger than the cache but its rows are
  /// too short to stream (`zeroing_rows_pays`): the zeros' stores and their
  /// lines' reads for ownership then overlap the rows' arithmetic, which a
  /// block fill leaves idle until it is done (mix256, 1 KiB rows: 1.15-1.25x
  /// faster than `block`).
  zeroed_rows,
};

/// Whether a gradient of `rows` rows of `tokens` T, cut into groups, takes
/// `gradient_fill::zeroed_rows`: larger than the cache, rows shorter than
/// streaming pays for, and at least one packet long.
template <class T>
[[nodiscard]] constexpr bool zeroing_rows_pays(std::size_t rows, std::size_t tokens) noexcept {
  const std::size_t row_bytes = tokens * sizeof(T);
  return rows * row_bytes >= detail::streaming_gradient_bytes && row_bytes < detail::streaming_row_bytes &&
         tokens >= lanes<T>;
}

template <class T>
[[nodiscard]] gradient_fill choose_gradient_fill(const block_nll_tensors<T>& t, const row_sets& sets) noexcept {
  const tensor_view<T, 2>& grad = t.grad_logits;
  if (grad.empty() || grad.stride(0) != grad.extent(1) ||
      static_cast<const void*>(grad.data()) == static_cast<const void*>(t.logits.data())) {
    return gradient_fill::per_row;
  }
  const std::size_t row_bytes = grad.extent(1) * sizeof(T);
  if (detail::streaming_pays(grad.extent(0), row_bytes)) {
    return gradient_fill::streamed_block;
  }
  // A set may be the whole row unless the rows are cut into groups: zeroing
  // it first would write most rows twice (C(u) = every token: 20% of the time).
  if (sets.groups() == 1) return gradient_fill::per_row;
  return zeroing_rows_pays<T>(grad.extent(0), grad.extent(1)) ? gradient_fill::zeroed_rows : gradient_fill::block;
}

/// Prefetches the logits of the target's set of `row`, and with
/// `zeroed_rows` the whole gradient row for writing: its zeros' stores then
/// find their lines owned instead of waiting for them at retirement (mix256:
/// 1.12-1.28x faster, 1 and 2 threads). (Not the gradient's lines after a
/// streamed fill: a streamed block holds at most 8 rows of 16 KiB, so the
/// row 8 ahead is never in the block just zeroed.) Always inlined: GCC finds
/// a function whose only effect is a prefetch pure, and drops the call.
template <class T>
[[gnu::always_inline]] inline void prefetch_target_set(const block_nll_tensors<T>& t, const row_sets& sets,
                                                       std::size_t row, gradient_fill fill) noexcept {
  if (fill == gradient_fill::zeroed_rows) detail::prefetch_span_for_write(t.grad_logits.row(row), 0, t.grad_logits.extent(1));
  const token_id target = t.targets(row);
  if (target == no_token) return;
  const token_range set = sets.set_of(target);
  detail::prefetch_span(t.logits.row(row), set.begin, set.end);
}

}  // namespace cpu_detail

/// Fused NLL forward + gradient, one pass over each row's set N(t)
/// (`block_nll_row`, or `block_nll_row_in_registers` for sets of up to 4
/// packets, or W rows at a time by `nll_tile` where `detail::nll_tiles_pay`,
/// or `nll_rows_in_one_vector` where `cpu_detail::nll_vector_rows_pay` (AVX-512);
/// with C(u) lists `candidate_nll_row`, O(|N(t)|)); the batch total by
/// `detail::chunked_total`. The gradient is zero outside N(t): how those
/// zeros are written is `cpu_detail::gradient_fill`.
template <class T>
void block_nll_kernel(const cpu& backend, const normalization_spec& spec, const regularizer& reg,
                      const block_nll_tensors<T>& t) noexcept {
  const std::size_t rows = t.logits.extent(0);
  const std::size_t tokens = t.logits.extent(1);
  const cpu_detail::row_sets sets(spec, tokens);
  const cpu_detail::nll_regulariser regulariser = cpu_detail::to_row_regulariser(reg.kind);
  const T epsilon = static_cast<T>(reg.epsilon);
  using cpu_detail::gradient_fill;
  const gradient_fill fill = cpu_detail::choose_gradient_fill(t, sets);
  const bool rows_zeroed = fill != gradient_fill::per_row;  // each row is zero before its set is written
  // Each row block zeroed in one fill before its rows (ordinary or streamed stores).
  const bool block_fill = fill == gradient_fill::block || fill == gradient_fill::streamed_block;
  // The zeroed rows are in the cache: a set's packets may be stored whole.
  const bool zeros_in_cache = fill == gradient_fill::block || fill == gradient_fill::zeroed_rows;
  // The target's set of the row 8 ahead is prefetched, across block ends (a
  // block of mix1k is 16 rows: half its rows went unprefetched when the
  // distance stopped at the block's end); rows with C(u) lists are not
  // (measured 10-35% slower with their candidates' lines prefetched).
  const bool prefetch = !sets.candidate_lists();
  // Short sets of zeroed rows W rows at a time (labelgraph/backend/nll_tiles.hpp).
  const bool tiles = rows_zeroed && regulariser == cpu_detail::nll_regulariser::none &&
                     spec.mask.kind == mask_kind::none && detail::nll_tiles_pay<T>(tokens, sets.groups());
  // Short rows whose every set fits one vector: one row at a time, no tiles,
  // no block fill (cpu/nll_tiles.hpp).
  [[maybe_unused]] const bool vector_rows = regulariser == cpu_detail::nll_regulariser::none &&
                                            spec.mask.kind == mask_kind::none && !t.grad_logits.empty() &&
                                            cpu_detail::nll_vector_rows_pay<T>(spec, tokens);
  backend.for_row_blocks(rows, tokens, [&](std::size_t first, std::size_t last, cpu_detail::scratch& work) {
    const auto keep = [&](std::size_t row, const cpu_detail::nll_row_result<T>& result) {
      t.loss(row) = result.loss;
      if (!t.log_normalizer.empty()) t.log_normalizer(row) = result.lse;
    };
#if defined(__AVX512F__)
    if constexpr (std::is_same_v<T, float>) {
      if (vector_rows) {
        cpu_detail::nll_rows_in_one_vector(t, first, last, work, [&](token_id target) { return sets.set_of(target); }, keep);
        return;
      }
    }
#endif
    detail::nll_tile_queue<T, cpu_detail::lanes<T>> tile_queue;
    const auto run_tile = [&] {
      tile_queue.run([&](auto vectors, std::span<const detail::nll_tile_row<T>> waiting) {
        cpu_detail::nll_tile<decltype(vectors)::value>(waiting, static_cast<std::uint32_t>(tokens), zeros_in_cache, keep);
      });
    };
    if (block_fill) {  // the block's rows are contiguous: one fill, then only the sets are written
      detail::zero_block(t.grad_logits.row(first), (last - first) * tokens, fill == gradient_fill::streamed_block);
    }
    for (std::size_t r = first; r < last; ++r) {
      if (prefetch && r + detail::nll_prefetch_rows < rows) {
        cpu_detail::prefetch_target_set(t, sets, r + detail::nll_prefetch_rows, fill);
      }
      const token_id target = t.targets(r);
      T* grad = t.grad_logits.empty() ? nullptr : t.grad_logits.row(r);
      if (fill == gradient_fill::zeroed_rows) cpu_detail::zero_row_by_packets(grad, static_cast<std::uint32_t>(tokens));
      if (target == no_token) {
        keep(r, {T(0), T(0)});
        if (grad != nullptr && !rows_zeroed) std::fill(grad, grad + tokens, T(0));
        continue;
      }
      const cpu_detail::token_range set = sets.set_of(target);
      const T weight = t.weights.empty() ? T(1) : t.weights(r);
      if (sets.candidate_lists()) {
        keep(r, cpu_detail::candidate_nll_row(t.logits.row(r), grad, tokens, sets.candidates_in(r, set), target, weight,
                                              regulariser, epsilon, rows_zeroed, work));
        continue;
      }
      if (tiles && tile_queue.fits(set.begin, set.end)) {
        if (tile_queue.push({r, t.logits.row(r), grad, set.begin, set.end, target, weight})) run_tile();
        continue;
      }
      const std::uint8_t* allowed = sets.allowed(r, work);
      if (grad != nullptr && allowed == nullptr && set.size() <= cpu_detail::nll_register_packets * cpu_detail::lanes<T>) {
        keep(r, cpu_detail::block_nll_row_in_registers(t.logits.row(r), grad, static_cast<std::uint32_t>(tokens), set, target,
                                                       weight, regulariser, epsilon, rows_zeroed));
        continue;
      }
      // Without a gradient output the exps go to a scratch row.
      T* exps = grad != nullptr ? grad : work.values<T>(tokens);
      keep(r, cpu_detail::block_nll_row(t.logits.row(r), exps, set, target, weight, allowed, regulariser, epsilon));
      if (grad != nullptr) cpu_detail::zero_outside(grad, tokens, set, rows_zeroed);
    }
    if (!tile_queue.empty()) run_tile();
  });
  if (!t.total.empty()) t.total(0) = static_cast<T>(detail::chunked_total(tensor_view<const T, 1>(t.loss)));
}

/// dz ← f_r·dz over each row's set (`detail::scale_target_set_rows`), row
/// blocks in parallel: `sequence_nll`'s posterior weights on the fused NLL's
/// gradient. (Prefetching each row's group 8 rows ahead, as `block_nll_kernel`
/// does, measured no faster here: mix256 9.9 → 10.8 ms, 1 thread.)
template <class T>
void scale_target_sets_kernel(const cpu& backend, const normalization_spec& spec, tensor_view<const token_id, 1> targets,
                              tensor_view<const T, 1> factors, tensor_view<T, 2> grad_logits) noexcept {
  backend.for_row_blocks(grad_logits.extent(0), labelgraph::detail::typical_target_set_length(spec),
                         [&](std::size_t first, std::size_t last, cpu_detail::scratch&) {
                           labelgraph::detail::scale_target_set_rows(spec, targets, factors, grad_logits, first, last);
                         });
}

}  // namespace labelgraph::backends
