#pragma once
/// \file
/// The kernel interface between the generic op front ends (`ops/`) and a
/// backend: the argument bundles, the exact signature of every kernel, and
/// the generic fallbacks of the optional kernels.
///
/// A kernel is a free function found by argument-dependent lookup on the
/// backend type (Thrust's dispatch): the front end in `namespace labelgraph`
/// calls `block_softmax_kernel(backend, ...)` unqualified, and the overload in
/// the backend's namespace is chosen. For the optional kernels a generic
/// fallback below is visible too; a backend's own overload is more specialised
/// and wins. Kernels are `noexcept` and assume inputs the front end validated:
/// extents agree, every tensor is in the backend's memory space with a
/// contiguous last dimension, outputs do not partially overlap inputs.
///
/// Required kernels (T = float and double; `B` the backend type):
///
///     void block_softmax_kernel(const B&, const normalization_spec&,
///                               tensor_view<const T, 2> logits, tensor_view<T, 2> probabilities) noexcept;
///     void block_log_softmax_kernel(const B&, const normalization_spec&,
///                                   tensor_view<const T, 2> logits, tensor_view<T, 2> log_probabilities) noexcept;
///     void block_softmax_backward_kernel(const B&, const normalization_spec&, tensor_view<const T, 2> probabilities,
///                                        tensor_view<const T, 2> grad_probabilities, tensor_view<T, 2> grad_logits) noexcept;
///     void block_log_softmax_backward_kernel(const B&, const normalization_spec&, tensor_view<const T, 2> log_probabilities,
///                                            tensor_view<const T, 2> grad_log_probabilities, tensor_view<T, 2> grad_logits) noexcept;
///     void block_nll_kernel(const B&, const normalization_spec&, const regularizer&, const block_nll_tensors<T>&) noexcept;
///
/// Optional kernels (generic host fallback here; a backend in a non-host
/// memory space must provide them):
///
///     void sample_candidates_kernel(const B&, const layout_view&, decode_rule, tensor_view<const T, 2> logits,
///                                   tensor_view<const node_id, 1> nodes, std::uint64_t seed, std::uint32_t step,
///                                   tensor_view<token_id, 1> tokens) noexcept;
///     void argmax_candidates_kernel(const B&, const layout_view&, decode_rule, tensor_view<const T, 2> logits,
///                                   tensor_view<const node_id, 1> nodes, tensor_view<token_id, 1> tokens) noexcept;
///     void segmented_reduce_kernel(const B&, reduction, tensor_view<const T, 1> values,
///                                  tensor_view<const std::uint32_t, 1> offsets, tensor_view<T, 1> out,
///                                  tensor_view<std::uint32_t, 1> index) noexcept;
///     void scale_target_sets_kernel(const B&, const normalization_spec&, tensor_view<const token_id, 1> targets,
///                                   tensor_view<const T, 1> factors, tensor_view<T, 2> grad_logits) noexcept;
///   (multiplies each row's fused-NLL gradient by a factor: the posterior weights of `sequence_nll`)
///     void gather_candidate_logits_kernel(const B&, const candidate_output_plan&, const candidate_output_tensors<T>&,
///                                         tensor_view<T, 1> compact) noexcept;
///     void scatter_candidate_gradients_kernel(const B&, const candidate_output_plan&, const candidate_output_tensors<T>&,
///                                             tensor_view<const T, 1> compact_gradient) noexcept;
///   (the graph-sparse output layer, ops/sparse_output.hpp)
///
/// Dense kernels (required by `dense_backend` only; see backend/concept.hpp):
///
///     void gemm_kernel(const B&, transpose ta, transpose tb, T alpha, tensor_view<const T, 2> a,
///                      tensor_view<const T, 2> b, T beta, tensor_view<T, 2> c) noexcept;   // C = α·op(A)·op(B) + β·C
///     void add_bias_kernel(const B&, tensor_view<const T, 1> bias, tensor_view<T, 2> x) noexcept;  // x(i,j) += bias(j)
///     void column_sum_kernel(const B&, tensor_view<const T, 2> x, tensor_view<T, 1> sums) noexcept; // sums(j) = Σ_i x(i,j)
///     void add_kernel(const B&, tensor_view<const T, 2> a, tensor_view<const T, 2> b, tensor_view<T, 2> out) noexcept;      // a + b
///     void multiply_kernel(const B&, tensor_view<const T, 2> a, tensor_view<const T, 2> b, tensor_view<T, 2> out) noexcept; // a ⊙ b
///     void scale_kernel(const B&, T alpha, tensor_view<T, 2> x) noexcept;                   // x ← α·x
///     void activation_kernel(const B&, activation, tensor_view<const T, 2> x, tensor_view<T, 2> y) noexcept;
///     void activation_backward_kernel(const B&, activation, tensor_view<const T, 2> y,
///                                     tensor_view<const T, 2> grad_y, tensor_view<T, 2> grad_x) noexcept;
///
/// Semantics shared by every backend (the reference backend has the formulas
/// next to its loops):
/// - N(v) is the normalisation set of `normalization_spec` (g(v) ∩ M for
///   `block`, M for `full` / `candidate`). Tokens outside M: probability 0,
///   log-probability −inf, every gradient 0. A set with no allowed member, or
///   whose members are all −inf, has no mass: probability 0 (log-probability
///   −inf) and every gradient 0 (log-softmax backward included), never NaN.
/// - Maxima are taken per set (never one global maximum), so ±1e30 logits do
///   not overflow; form p = exp(z − m) / Σ exp(z − m) and
///   log p = (z − m) − log Σ exp(z − m), never exp(z − lse): with m = 1e30,
///   lse = m + log Σ rounds to m.
/// - NaN: a NaN logit of an allowed token makes its whole set NaN
///   (probabilities, log-probabilities, gradients; the loss and log-normaliser
///   of a row whose target set holds it), also when it is the set's only
///   logit above −inf. Tokens outside M keep 0 / −inf and other sets are
///   untouched.
/// - A −inf logit inside M is a legal zero-probability token: p = 0,
///   log p = −inf, softmax-backward and NLL gradient 0 (no regulariser); the
///   log-softmax backward passes dy through (d log p_v / dz_v = 1 − p_v = 1,
///   as torch does), unless the whole set is −inf (no mass: gradient 0).
///   A regulariser term with ε = 0 is skipped (0·∞ would be NaN).
/// - softmax backward: dz = y ⊙ (dy − Σ_{N} y·dy); log-softmax backward:
///   dz = dy − p ⊙ Σ_{N} dy with p = exp(log y).
/// - fused NLL of row r, target t (`no_token` = ignored: loss 0, gradient 0,
///   log-normaliser 0), N = N(t), K = |N|, lse = log Σ_N exp z, weight w
///   (1 when no weights are given); p = softmax over N:
///     none:            loss = w·(lse − z_t),                              dz = w·(p − 1_t)
///     label smoothing: loss = w·[(1−ε)(lse − z_t) + ε(lse − mean_N z)],   dz = w·(p − (1−ε)·1_t − ε/K on N)
///     MaxSup:          loss = w·[(lse − z_t) + ε(max_N z − mean_N z)],    dz = w·(p − 1_t + ε·(1_argmax − 1/K on N))
///   (argmax: lowest token of maximal logit in N). Gradient 0 outside N.
///   A target whose set has no mass (all −inf): loss +inf (0 if w = 0),
///   gradient 0, lse −inf. Outputs: the per-row loss, the gradient (may be the logits tensor itself: in place),
///   the per-row lse of N, and the batch total Σ_r loss_r, summed in double
///   over fixed chunks of `loss_total_chunk_rows` rows, chunk partials added
///   serially in chunk order (deterministic for any thread count).
/// - sampling / argmax: exactly `detail::sample_candidate` /
///   `detail::argmax_candidate` (ops/detail/candidate_choice.hpp) per row with
///   u = nodes(r) and uniform = philox_uniform(seed, r, step).
/// - segmented reductions: segment s is values[offsets(s) .. offsets(s+1));
///   empty segment: sum 0, mean 0, logsumexp −inf, max −inf, min +inf, argmin
///   `no_index`. NaN propagates (argmin: the index of the first NaN). For
///   argmin, `index` receives the position within the segment (ties: lowest)
///   and `out`, if not empty, the minimum; for the other reductions `index` is
///   empty.

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>

#include "labelgraph/backend/candidate_nll.hpp"
#include "labelgraph/backend/nll_tiles.hpp"
#include "labelgraph/backend/philox.hpp"
#include "labelgraph/ops/detail/candidate_choice.hpp"
#include "labelgraph/ops/mask.hpp"
#include "labelgraph/ops/options.hpp"
#include "labelgraph/paths/output_layout.hpp"
#include "labelgraph/tensor/memory_space.hpp"
#include "labelgraph/tensor/tensor_view.hpp"

namespace labelgraph {

/// "No index": argmin of an empty segment.
inline constexpr std::uint32_t no_index = std::numeric_limits<std::uint32_t>::max();

/// Rows per chunk of the fused NLL's deterministic batch total.
inline constexpr std::size_t loss_total_chunk_rows = 1024;

/// The tensors of the fused block NLL; empty views are "not wanted".
template <class T>
struct block_nll_tensors {
  tensor_view<const T, 2> logits;             ///< [rows, V] input
  tensor_view<const token_id, 1> targets;     ///< [rows] input; `no_token` = ignored row
  tensor_view<const T, 1> weights;            ///< [rows] input, optional (all 1)
  tensor_view<T, 1> loss;                     ///< [rows] output, required
  tensor_view<T, 2> grad_logits;              ///< [rows, V] output, optional; may be `logits` itself
  tensor_view<T, 1> log_normalizer;           ///< [rows] output, optional: lse over N(t)
  tensor_view<T, 1> total;                    ///< [1] output, optional: deterministic Σ_r loss
};

namespace detail {

/// A backend whose kernels run on the host and read host memory.
template <class B>
concept host_backend = (B::memory_space::kind == memory_kind::host);

/// Σ values[0 .. n) in double, over fixed chunks of `loss_total_chunk_rows`,
/// chunk partials added in order: the same bits for any thread count as long
/// as each chunk is summed serially.
template <class T>
[[nodiscard]] double chunked_total(tensor_view<const T, 1> values) noexcept {
  double total = 0.0;
  for (std::size_t chunk = 0; chunk < values.extent(0); chunk += loss_total_chunk_rows) {
    const std::size_t end = chunk + loss_total_chunk_rows < values.extent(0) ? chunk + loss_total_chunk_rows : values.extent(0);
    double partial = 0.0;
    for (std::size_t r = chunk; r < end; ++r) partial += static_cast<double>(values(r));
    total += partial;
  }
  return total;
}

}  // namespace detail

// --- generic fallbacks of the optional kernels (host backends) ----------------

/// Fallback: one draw per row with the shared scalar routine,
/// uniform = philox_uniform(seed, row, step).
template <class B, class T>
  requires detail::host_backend<B>
void sample_candidates_kernel(const B& /*backend*/, const layout_view& layout, decode_rule rule,
                              tensor_view<const T, 2> logits, tensor_view<const node_id, 1> nodes, std::uint64_t seed,
                              std::uint32_t step, tensor_view<token_id, 1> tokens) noexcept {
  for (std::size_t r = 0; r < logits.extent(0); ++r) {
    const double uniform = philox_uniform(seed, static_cast<std::uint32_t>(r), step);
    tokens(r) = detail::sample_candidate(layout, rule, logits.row(r), nodes(r), uniform);
  }
}

/// Fallback: the shared scalar argmax per row.
template <class B, class T>
  requires detail::host_backend<B>
void argmax_candidates_kernel(const B& /*backend*/, const layout_view& layout, decode_rule rule,
                              tensor_view<const T, 2> logits, tensor_view<const node_id, 1> nodes,
                              tensor_view<token_id, 1> tokens) noexcept {
  for (std::size_t r = 0; r < logits.extent(0); ++r) tokens(r) = detail::argmax_candidate(layout, rule, logits.row(r), nodes(r));
}

/// Fallback: segment by segment, serially, in double.
template <class B, class T>
  requires detail::host_backend<B>
void segmented_reduce_kernel(const B& /*backend*/, reduction kind, tensor_view<const T, 1> values,
                             tensor_view<const std::uint32_t, 1> offsets, tensor_view<T, 1> out,
                             tensor_view<std::uint32_t, 1> index) noexcept {
  constexpr double infinity = std::numeric_limits<double>::infinity();
  const std::size_t segments = offsets.extent(0) - 1;
  for (std::size_t s = 0; s < segments; ++s) {
    const std::uint32_t first = offsets(s);
    const std::uint32_t last = offsets(s + 1);
    double result = 0.0;
    switch (kind) {
      case reduction::sum:
      case reduction::mean: {  // Σ x, and Σ x / n (0 for an empty segment)
        for (std::uint32_t i = first; i < last; ++i) result += static_cast<double>(values(i));
        if (kind == reduction::mean && last > first) result /= static_cast<double>(last - first);
        break;
      }
      case reduction::logsumexp: {  // m + log Σ exp(x − m), m = max x; −inf when empty or all −inf
        double m = -infinity;
        bool nan = false;
        for (std::uint32_t i = first; i < last; ++i) {
          const double x = static_cast<double>(values(i));
          nan = nan || x != x;
          if (x > m) m = x;
        }
        if (nan) {
          result = std::numeric_limits<double>::quiet_NaN();
        } else if (m == -infinity || m == infinity) {
          result = m;
        } else {
          double sum = 0.0;
          for (std::uint32_t i = first; i < last; ++i) sum += std::exp(static_cast<double>(values(i)) - m);
          result = m + std::log(sum);
        }
        break;
      }
      case reduction::max:
      case reduction::min:
      case reduction::argmin: {
        const bool want_max = kind == reduction::max;
        result = want_max ? -infinity : infinity;
        std::uint32_t where = no_index;
        for (std::uint32_t i = first; i < last; ++i) {
          const double x = static_cast<double>(values(i));
          if (x != x) {  // NaN propagates: the first NaN is the result
            result = x;
            where = i - first;
            break;
          }
          if (where == no_index || (want_max ? x > result : x < result)) {  // strict: ties keep the lowest index
            result = x;
            where = i - first;
          }
        }
        if (kind == reduction::argmin) index(s) = where;
        break;
      }
    }
    if (!out.empty()) out(s) = static_cast<T>(result);
  }
}

namespace detail {

/// Calls `span(first, last)` for ranges of consecutive tokens that together
/// hold N(t) of row r, the support of the fused NLL's gradient: t's group
/// (`block`); under a candidate mask, each run of consecutive tokens of C(u)
/// (a sibling group, then EOP); otherwise the whole row.
template <class Span>
void for_each_target_span(const normalization_spec& spec, std::size_t r, token_id t, const Span& span) noexcept {
  const layout_view& layout = spec.layout;
  if (spec.per_group()) {
    span(layout.group_begin(layout.token_group[t]), layout.group_end(layout.token_group[t]));
    return;
  }
  if (spec.mask.kind != mask_kind::candidates) {
    span(std::uint32_t{0}, layout.tokens);
    return;
  }
  const node_id u = spec.mask.nodes(r);
  const std::span<const token_id> candidates(layout.candidate_tokens + layout.candidate_offsets[u],
                                             layout.candidate_tokens + layout.candidate_offsets[u + 1]);
  if (consecutive(candidates)) {  // one run (a sibling group, or every token): no walk
    span(candidates.front(), candidates.back() + 1);
    return;
  }
  for (std::size_t i = 0; i < candidates.size(); ++i) {  // C(u) is ascending
    const token_id first = candidates[i];
    while (i + 1 < candidates.size() && candidates[i + 1] == candidates[i] + 1) ++i;
    span(first, candidates[i] + 1);
  }
}

/// Row r of `scale_target_sets_kernel`: dz_v ← f·dz_v over the spans of
/// `for_each_target_span`. f = 0 writes 0 (a NaN gradient times 0 stays 0,
/// as the fused NLL's weight 0 does); the zeros outside N stay 0.
template <class T>
void scale_target_set_row(const normalization_spec& spec, std::size_t r, token_id t, T factor, T* dz) noexcept {
  for_each_target_span(spec, r, t, [&](std::uint32_t first, std::uint32_t last) {
    if (factor == T(0)) {
      for (std::uint32_t v = first; v < last; ++v) dz[v] = T(0);
    } else {
      for (std::uint32_t v = first; v < last; ++v) dz[v] *= factor;
    }
  });
}

/// Rows [first, last) of `scale_target_sets_kernel`; ignored rows
/// (`no_token`) are left alone. Host backends run it over their row blocks.
template <class T>
void scale_target_set_rows(const normalization_spec& spec, tensor_view<const token_id, 1> targets,
                           tensor_view<const T, 1> factors, tensor_view<T, 2> grad_logits, std::size_t first,
                           std::size_t last) noexcept {
  for (std::size_t r = first; r < last; ++r) {
    if (targets(r) != no_token) scale_target_set_row(spec, r, targets(r), factors(r), grad_logits.row(r));
  }
}

/// About how many tokens a row of `scale_target_sets_kernel` touches (to size
/// row blocks): one group on average (`block`), up to the whole row otherwise.
[[nodiscard]] inline std::size_t typical_target_set_length(const normalization_spec& spec) noexcept {
  const std::uint32_t groups = spec.layout.groups == 0 ? 1 : spec.layout.groups;
  return spec.per_group() ? spec.layout.tokens / groups : spec.layout.tokens;
}

/// Whether the fused NLL of rows of `tokens` elements of T may take one
/// vector of `width` lanes per row (the host backends' one-vector rows):
/// every set N(t) fits one vector, a row holds at least one vector (the
/// vector that holds a set can then stay inside its row) and at most
/// `nll_tile_row_bytes` (each row is zeroed by vector stores, not by one
/// fill per row block). O(groups).
template <class T>
[[nodiscard]] bool nll_sets_fit_one_vector(const normalization_spec& spec, std::size_t tokens,
                                           std::size_t width) noexcept {
  if (tokens < width || tokens * sizeof(T) > nll_tile_row_bytes) return false;
  if (!spec.per_group()) return tokens <= width;
  for (std::uint32_t g = 0; g < spec.layout.groups; ++g) {
    if (spec.layout.group_end(g) - spec.layout.group_begin(g) > width) return false;
  }
  return true;
}

}  // namespace detail

/// Fallback: every row, serially.
template <class B, class T>
  requires detail::host_backend<B>
void scale_target_sets_kernel(const B& /*backend*/, const normalization_spec& spec,
                              tensor_view<const token_id, 1> targets, tensor_view<const T, 1> factors,
                              tensor_view<T, 2> grad_logits) noexcept {
  detail::scale_target_set_rows(spec, targets, factors, grad_logits, 0, grad_logits.extent(0));
}

// --- the graph-sparse output layer (ops/sparse_output.hpp) -------------------

/// Where each row's candidate logits sit in the compact buffer of the sparse
/// output layer, and the transposed (token -> entries) lists of its weight
/// gradient. Made by `detail::plan_sparse_output`; flat host arrays.
struct candidate_output_plan {
  layout_view layout{};                                 ///< C(u) lists
  tensor_view<const node_id, 1> nodes{};                ///< [rows] current node of each row
  tensor_view<const std::uint32_t, 1> order{};          ///< [rows] compact row i holds row order(i)
  tensor_view<const std::size_t, 1> compact_offsets{};  ///< [rows + 1] first element of compact row i
  tensor_view<const token_id, 1> entry_tokens{};        ///< [used] distinct tokens of the batch, ascending
  tensor_view<const std::uint32_t, 1> entry_offsets{};  ///< [used + 1] entries of entry_tokens(k)
  tensor_view<const std::size_t, 1> entry_index{};      ///< [entries] compact element of each entry, rows ascending
  tensor_view<const std::uint32_t, 1> entry_row{};      ///< [entries] original row of each entry
};

/// The dense operands of the sparse output layer; empty views are "not wanted".
template <class T>
struct candidate_output_tensors {
  tensor_view<const T, 2> hidden{};  ///< [rows, H]
  tensor_view<const T, 2> weight{};  ///< [V, H]
  tensor_view<const T, 1> bias{};    ///< [V], optional
  tensor_view<T, 2> grad_hidden{};   ///< [rows, H], overwritten
  tensor_view<T, 2> grad_weight{};   ///< [V, H], added to
  tensor_view<T, 1> grad_bias{};     ///< [V], added to
};

namespace detail {

/// ⟨a, b⟩ over n elements with 8 independent partial sums (vectorisable
/// without reassociating one accumulator), combined in a fixed order.
template <class T>
[[nodiscard]] inline T dot_product(const T* a, const T* b, std::size_t n) noexcept {
  T partial[8] = {};
  std::size_t k = 0;
  for (; k + 8 <= n; k += 8) {
    for (std::size_t lane = 0; lane < 8; ++lane) partial[lane] += a[k + lane] * b[k + lane];
  }
  for (; k < n; ++k) partial[k % 8] += a[k] * b[k];
  return ((partial[0] + partial[1]) + (partial[2] + partial[3])) + ((partial[4] + partial[5]) + (partial[6] + partial[7]));
}

/// Compact row i: z_j = ⟨W_{v_j}, h_r⟩ + b_{v_j} for the candidates v_j of r = order(i).
template <class T>
void gather_candidate_row(const candidate_output_plan& plan, const candidate_output_tensors<T>& io,
                          tensor_view<T, 1> compact, std::size_t i) noexcept {
  const std::uint32_t r = plan.order(i);
  const node_id u = plan.nodes(r);
  const token_id* candidates = plan.layout.candidate_tokens + plan.layout.candidate_offsets[u];
  const std::uint32_t degree = plan.layout.candidate_count(u);
  const std::size_t width = io.hidden.extent(1);
  T* out = compact.data() + plan.compact_offsets(i);
  for (std::uint32_t j = 0; j < degree; ++j) {
    const token_id v = candidates[j];
    out[j] = dot_product(io.weight.row(v), io.hidden.row(r), width) + (io.bias.empty() ? T(0) : io.bias(v));
  }
}

/// ∂/∂h_r = Σ_j δ_j W_{v_j} for compact row i, j ascending (overwrites the row).
template <class T>
void scatter_hidden_row(const candidate_output_plan& plan, const candidate_output_tensors<T>& io,
                        tensor_view<const T, 1> gradient, std::size_t i) noexcept {
  const std::uint32_t r = plan.order(i);
  const node_id u = plan.nodes(r);
  const token_id* candidates = plan.layout.candidate_tokens + plan.layout.candidate_offsets[u];
  const std::uint32_t degree = plan.layout.candidate_count(u);
  const std::size_t width = io.hidden.extent(1);
  const T* delta = gradient.data() + plan.compact_offsets(i);
  T* out = io.grad_hidden.row(r);
  for (std::size_t k = 0; k < width; ++k) out[k] = T(0);
  for (std::uint32_t j = 0; j < degree; ++j) {
    if (delta[j] == T(0)) continue;
    const T* w = io.weight.row(candidates[j]);
    for (std::size_t k = 0; k < width; ++k) out[k] += delta[j] * w[k];
  }
}

/// ∂/∂W_v += Σ δ_rv h_r and ∂/∂b_v += Σ δ_rv over the entries of token
/// entry_tokens(k), rows ascending.
template <class T>
void scatter_token_gradient(const candidate_output_plan& plan, const candidate_output_tensors<T>& io,
                            tensor_view<const T, 1> gradient, std::size_t k) noexcept {
  const token_id v = plan.entry_tokens(k);
  const std::size_t width = io.hidden.extent(1);
  T bias_sum = T(0);
  T* out = io.grad_weight.empty() ? nullptr : io.grad_weight.row(v);
  for (std::uint32_t e = plan.entry_offsets(k); e < plan.entry_offsets(k + 1); ++e) {
    const T delta = gradient(plan.entry_index(e));
    bias_sum += delta;
    if (out == nullptr || delta == T(0)) continue;
    const T* h = io.hidden.row(plan.entry_row(e));
    for (std::size_t c = 0; c < width; ++c) out[c] += delta * h[c];
  }
  if (!io.grad_bias.empty()) io.grad_bias(v) += bias_sum;
}

}  // namespace detail

/// Fallback: every compact row in turn.
template <class B, class T>
  requires detail::host_backend<B>
void gather_candidate_logits_kernel(const B& /*backend*/, const candidate_output_plan& plan,
                                    const candidate_output_tensors<T>& io, tensor_view<T, 1> compact) noexcept {
  for (std::size_t i = 0; i < plan.order.extent(0); ++i) detail::gather_candidate_row(plan, io, compact, i);
}

/// Fallback: hidden gradients row by row, then weight and bias gradients
/// token by token (each token's rows ascending: deterministic).
template <class B, class T>
  requires detail::host_backend<B>
void scatter_candidate_gradients_kernel(const B& /*backend*/, const candidate_output_plan& plan,
                                        const candidate_output_tensors<T>& io,
                                        tensor_view<const T, 1> compact_gradient) noexcept {
  if (!io.grad_hidden.empty()) {
    for (std::size_t i = 0; i < plan.order.extent(0); ++i) detail::scatter_hidden_row(plan, io, compact_gradient, i);
  }
  if (io.grad_weight.empty() && io.grad_bias.empty()) return;
  for (std::size_t k = 0; k < plan.entry_tokens.extent(0); ++k) {
    detail::scatter_token_gradient(plan, io, compact_gradient, k);
  }
}

}  // namespace labelgraph
