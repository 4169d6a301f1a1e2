#pragma once
/// \file
/// The graph-sparse output layer: the decoder's output projection and the
/// fused candidate NLL evaluated only on each row's legal moves C(u)
/// (for large graphs: the cost grows with the out-degree, not the vocabulary).
///
/// Row r with hidden state h_r [H], current node u_r and target t_r; output
/// weights W [V, H] and bias b [V]. The dense layer computes
/// z_r = W h_r + b for all V tokens and then the candidate NLL over C(u_r);
/// tokens outside C(u_r) have probability 0 and zero gradient, so only
///
///     z_rv = ⟨W_v, h_r⟩ + b_v               for v ∈ C(u_r)   (gather-GEMV)
///     loss_r = ω_r · nll_reg(z_r|C(u_r), t_r)                  (ops/block_nll.hpp, N = C(u_r))
///     ∂/∂h_r = Σ_{v ∈ C(u_r)} δ_rv W_v,  ∂/∂W_v += Σ_{r: v ∈ C(u_r)} δ_rv h_r,  ∂/∂b_v += Σ_r δ_rv
///
/// are needed (δ = ∂loss/∂z). Cost is O(Σ_r |C(u_r)| · H): it grows with the
/// out-degree of the current nodes, not with V. The result equals the dense
/// path (`gemm` + `add_bias` + `block_nll` with `normalization::candidate`)
/// up to rounding.
///
/// How: rows are sorted by |C(u)| and cut into chunks of
/// `sparse_output_chunk_rows`; each chunk's candidate logits form a compact
/// [rows_c, max |C(u)|] matrix (short rows padded and masked out), on which
/// the backend's fused `block_nll` kernel runs with `normalization::full` and
/// a dense mask -- the very kernel of the dense path, so both agree on every
/// regulariser and edge case. Weight and bias gradients are accumulated token
/// by token over the rows in ascending order (a counting sort of the
/// (token, row) pairs): deterministic, no atomics, the same bits for any
/// thread count.
///
/// `grad_weight` and `grad_bias` are ADDED to (autograd `.grad` semantics:
/// zero them once per step; only rows of tokens in some C(u_r) are touched,
/// so a [V, H] clear is the caller's choice, not this function's cost).
/// `grad_hidden` is overwritten.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "labelgraph/backend/concept.hpp"
#include "labelgraph/backend/kernels.hpp"
#include "labelgraph/error.hpp"
#include "labelgraph/ops/block_nll.hpp"
#include "labelgraph/ops/detail/validate.hpp"
#include "labelgraph/ops/mask.hpp"
#include "labelgraph/ops/options.hpp"
#include "labelgraph/paths/output_layout.hpp"
#include "labelgraph/tensor/tensor_view.hpp"

namespace labelgraph {

/// Rows per compact chunk of the sparse output layer (rows sorted by |C(u)|).
inline constexpr std::size_t sparse_output_chunk_rows = 64;

/// The tensors of `sparse_output_nll`; empty views are "not wanted".
template <class T>
struct sparse_output_tensors {
  tensor_view<const T, 2> hidden{};          ///< [rows, H] input
  tensor_view<const T, 2> weight{};          ///< [V, H] input: output projection, one row per token
  tensor_view<const T, 1> bias{};            ///< [V] input, optional (0)
  tensor_view<const node_id, 1> nodes{};     ///< [rows] input: current node u of every row
  tensor_view<const token_id, 1> targets{};  ///< [rows] input, in C(u); `no_token` = ignored row
  tensor_view<const T, 1> weights{};         ///< [rows] input, optional per-row weights ω (1)
  tensor_view<T, 1> loss{};                  ///< [rows] output, required
  tensor_view<T, 1> log_normalizer{};        ///< [rows] output, optional: log Σ_{C(u)} exp z
  tensor_view<T, 1> total{};                 ///< [1] output, optional: Σ_r loss, deterministic
  tensor_view<T, 2> grad_hidden{};           ///< [rows, H] output, optional, overwritten
  tensor_view<T, 2> grad_weight{};           ///< [V, H] output, optional, ADDED to
  tensor_view<T, 1> grad_bias{};             ///< [V] output, optional, ADDED to
};

/// Reusable host scratch of `sparse_output_nll`: O(Σ_r |C(u_r)|) entries,
/// never O(V).
template <class T>
class sparse_output_workspace {
public:
  /// The compact-row plan: row order, chunking, (token, entry) pairs.
  candidate_output_plan plan;
  std::vector<std::uint32_t> order;             ///< compact row i holds row order[i]
  std::vector<std::size_t> compact_offsets;     ///< [rows + 1] start of compact row i (padded width)
  std::vector<std::uint32_t> chunk_rows;        ///< [chunks + 1] first compact row of each chunk
  std::vector<std::uint32_t> chunk_width;       ///< [chunks] padded width of each chunk
  std::vector<T> compact;                       ///< candidate logits, then their gradient (in place)
  std::vector<std::uint8_t> allowed;            ///< 1 for real candidates, 0 for padding
  std::vector<token_id> local_targets;          ///< target position within C(u), per compact row
  ///@{
  /// Per compact row: the row's weight, its loss and its log-normaliser.
  std::vector<T> local_weights, local_loss, local_lse;
  ///@}
  std::vector<std::uint32_t> token_group;       ///< zeros: one group per compact row
  std::vector<std::uint64_t> entry_keys;        ///< (token << 32 | compact row), sorted
  std::vector<token_id> entry_tokens;           ///< distinct tokens of the batch, ascending
  std::vector<std::uint32_t> entry_offsets;     ///< [distinct + 1] into entry_index
  std::vector<std::size_t> entry_index;         ///< compact element of each (token, row), rows ascending
  std::vector<std::uint32_t> entry_row;         ///< original row of each entry
};

namespace detail {

/// Validates a `sparse_output_nll` call.
template <backend B, class T>
void check_sparse_output_call(const layout_view& layout, const sparse_output_tensors<T>& io) {
  const std::size_t rows = io.hidden.extent(0);
  const std::size_t width = io.hidden.extent(1);
  check_tensor<B>("hidden", io.hidden, {rows, width});
  check_tensor<B>("weight", io.weight, {layout.tokens, width});
  check_optional_tensor<B>("bias", io.bias, {layout.tokens});
  check_current_nodes<B>("nodes", io.nodes, layout, rows);
  check_tensor<B>("targets", io.targets, {rows});
  check_optional_tensor<B>("weights", io.weights, {rows});
  check_tensor<B>("loss", io.loss, {rows});
  check_optional_tensor<B>("log_normalizer", io.log_normalizer, {rows});
  check_optional_tensor<B>("total", io.total, {1});
  check_optional_tensor<B>("grad_hidden", io.grad_hidden, {rows, width});
  check_optional_tensor<B>("grad_weight", io.grad_weight, {layout.tokens, width});
  check_optional_tensor<B>("grad_bias", io.grad_bias, {layout.tokens});
  if (rows >= std::numeric_limits<std::uint32_t>::max()) {
    LABELGRAPH_THROW(limit_error("hidden: " + std::to_string(rows) + " rows; the sparse output layer counts rows in 32 bits"));
  }
  const auto inputs = [&](std::string_view name, const auto& output) {
    check_no_overlap(name, output, "hidden", io.hidden, false);
    check_no_overlap(name, output, "weight", io.weight, false);
    check_no_overlap(name, output, "bias", io.bias, false);
    check_no_overlap(name, output, "nodes", io.nodes, false);
    check_no_overlap(name, output, "targets", io.targets, false);
    check_no_overlap(name, output, "weights", io.weights, false);
  };
  inputs("loss", io.loss);
  inputs("log_normalizer", io.log_normalizer);
  inputs("total", io.total);
  inputs("grad_hidden", io.grad_hidden);
  inputs("grad_weight", io.grad_weight);
  inputs("grad_bias", io.grad_bias);
  check_no_overlap("grad_weight", io.grad_weight, "grad_hidden", io.grad_hidden, false);
  check_no_overlap("grad_bias", io.grad_bias, "grad_hidden", io.grad_hidden, false);
  check_no_overlap("grad_bias", io.grad_bias, "grad_weight", io.grad_weight, false);
  for (std::size_t r = 0; r < rows; ++r) {
    const token_id t = io.targets(r);
    if (t == no_token) continue;
    if (t >= layout.tokens) {
      LABELGRAPH_THROW(argument_error("targets: row " + std::to_string(r) + ": token " + std::to_string(t) +
                                      " is outside the layout (" + std::to_string(layout.tokens) + " tokens)"));
    }
    if (!row_mask::from_candidates(io.nodes).allows(layout, r, t)) {
      LABELGRAPH_THROW(argument_error("targets: row " + std::to_string(r) + ": token " + std::to_string(t) +
                                      " is outside the row's mask (not a candidate of node " +
                                      std::to_string(io.nodes(r)) + ")"));
    }
  }
}

/// Sorts rows by |C(u)|, cuts chunks, lays out the compact matrix and the
/// (token, row) entries of the weight gradient. O(E log E), E = Σ_r |C(u_r)|.
template <class T>
void plan_sparse_output(const layout_view& layout, tensor_view<const node_id, 1> nodes, sparse_output_workspace<T>& ws) {
  const std::size_t rows = nodes.extent(0);
  std::vector<std::uint64_t> keyed(rows);  // (degree << 32 | row): sorted = by degree, then row
  for (std::size_t r = 0; r < rows; ++r) keyed[r] = (std::uint64_t{layout.candidate_count(nodes(r))} << 32) | r;
  std::sort(keyed.begin(), keyed.end());
  ws.order.resize(rows);
  for (std::size_t i = 0; i < rows; ++i) ws.order[i] = static_cast<std::uint32_t>(keyed[i] & 0xffffffffu);
  ws.compact_offsets.assign(rows + 1, 0);
  ws.chunk_rows.clear();
  ws.chunk_width.clear();
  std::size_t offset = 0;
  for (std::size_t first = 0; first < rows; first += sparse_output_chunk_rows) {
    const std::size_t last = std::min(rows, first + sparse_output_chunk_rows);
    const auto width = static_cast<std::uint32_t>(keyed[last - 1] >> 32);  // the chunk's largest |C(u)|
    ws.chunk_rows.push_back(static_cast<std::uint32_t>(first));
    ws.chunk_width.push_back(width);
    for (std::size_t i = first; i < last; ++i) {
      ws.compact_offsets[i] = offset;
      offset += width;
    }
  }
  ws.chunk_rows.push_back(static_cast<std::uint32_t>(rows));
  ws.compact_offsets[rows] = offset;
  ws.compact.assign(offset, T(0));
  ws.allowed.assign(offset, 0);
  std::uint32_t widest = 0;
  for (std::uint32_t width : ws.chunk_width) widest = std::max(widest, width);
  ws.token_group.assign(widest, 0);
  // (token, compact row) keys; sorted, they list each token's rows in order.
  ws.entry_keys.clear();
  for (std::size_t i = 0; i < rows; ++i) {
    const node_id u = nodes(ws.order[i]);
    const std::uint32_t degree = layout.candidate_count(u);
    const token_id* candidates = layout.candidate_tokens + layout.candidate_offsets[u];
    for (std::uint32_t j = 0; j < degree; ++j) {
      ws.allowed[ws.compact_offsets[i] + j] = 1;
      ws.entry_keys.push_back((std::uint64_t{candidates[j]} << 32) | i);
    }
  }
  std::sort(ws.entry_keys.begin(), ws.entry_keys.end());
  ws.entry_tokens.clear();
  ws.entry_offsets.assign(1, 0);
  ws.entry_index.resize(ws.entry_keys.size());
  ws.entry_row.resize(ws.entry_keys.size());
  for (std::size_t e = 0; e < ws.entry_keys.size(); ++e) {
    const auto v = static_cast<token_id>(ws.entry_keys[e] >> 32);
    const auto i = static_cast<std::uint32_t>(ws.entry_keys[e] & 0xffffffffu);
    if (ws.entry_tokens.empty() || ws.entry_tokens.back() != v) {
      if (!ws.entry_tokens.empty()) ws.entry_offsets.push_back(static_cast<std::uint32_t>(e));
      ws.entry_tokens.push_back(v);
    }
    const node_id u = nodes(ws.order[i]);
    const token_id* first = layout.candidate_tokens + layout.candidate_offsets[u];
    const token_id* last = layout.candidate_tokens + layout.candidate_offsets[u + 1];
    ws.entry_index[e] = ws.compact_offsets[i] + static_cast<std::size_t>(std::lower_bound(first, last, v) - first);
    ws.entry_row[e] = ws.order[i];
  }
  ws.entry_offsets.push_back(static_cast<std::uint32_t>(ws.entry_keys.size()));
  if (ws.entry_tokens.empty()) ws.entry_offsets.assign(1, 0);
  ws.plan = candidate_output_plan{layout,
                                  nodes,
                                  host_view(std::as_const(ws.order)),
                                  host_view(std::as_const(ws.compact_offsets)),
                                  host_view(std::as_const(ws.entry_tokens)),
                                  host_view(std::as_const(ws.entry_offsets)),
                                  host_view(std::as_const(ws.entry_index)),
                                  host_view(std::as_const(ws.entry_row))};
}

}  // namespace detail

/// Sparse output projection + fused candidate NLL + gradients; see the file
/// comment. Host backends (the plan and the gather/scatter run on the host;
/// the per-chunk NLL runs on the backend's `block_nll_kernel`). Throws
/// `shape_error` for wrong shapes, memory spaces or overlapping outputs,
/// `argument_error` for nodes outside the graph and targets outside C(u).
template <backend B, class T>
  requires detail::host_backend<B>
void sparse_output_nll(const B& backend, const layout_view& layout, const sparse_output_tensors<T>& io,
                       sparse_output_workspace<T>& ws, regularizer reg = {}) {
  detail::check_sparse_output_call<B, T>(layout, io);
  const std::size_t rows = io.hidden.extent(0);
  detail::plan_sparse_output(layout, io.nodes, ws);
  const std::size_t compact_size = ws.compact.size();
  const tensor_view<T, 1> compact(ws.compact.data(), {compact_size});
  candidate_output_tensors<T> dense{io.hidden, io.weight, io.bias, io.grad_hidden, io.grad_weight, io.grad_bias};
  gather_candidate_logits_kernel(backend, ws.plan, dense, compact);

  // The fused NLL of each chunk on its compact [rows_c, width_c] matrix.
  ws.local_targets.resize(rows);
  ws.local_weights.resize(rows);
  ws.local_loss.resize(rows);
  ws.local_lse.resize(rows);
  for (std::size_t i = 0; i < rows; ++i) {
    const std::uint32_t r = ws.order[i];
    const token_id t = io.targets(r);
    const node_id u = io.nodes(r);
    const token_id* first = layout.candidate_tokens + layout.candidate_offsets[u];
    const token_id* last = layout.candidate_tokens + layout.candidate_offsets[u + 1];
    ws.local_targets[i] = t == no_token ? no_token : static_cast<token_id>(std::lower_bound(first, last, t) - first);
    ws.local_weights[i] = io.weights.empty() ? T(1) : io.weights(r);
  }
  const bool want_gradient = !io.grad_hidden.empty() || !io.grad_weight.empty() || !io.grad_bias.empty();
  for (std::size_t c = 0; c + 1 < ws.chunk_rows.size(); ++c) {
    const std::size_t first = ws.chunk_rows[c];
    const std::size_t count = ws.chunk_rows[c + 1] - first;
    const std::uint32_t width = ws.chunk_width[c];
    const std::uint32_t group_offsets[2] = {0, width};
    layout_view local{width, 1, 0, width == 0 ? 0 : width - 1, group_offsets, ws.token_group.data(), nullptr, nullptr};
    T* chunk = ws.compact.data() + ws.compact_offsets[first];
    const tensor_view<T, 2> logits(chunk, {count, width});
    block_nll_tensors<T> tensors{.logits = logits,
                                 .targets = tensor_view<const token_id, 1>(ws.local_targets.data() + first, {count}),
                                 .weights = tensor_view<const T, 1>(ws.local_weights.data() + first, {count}),
                                 .loss = tensor_view<T, 1>(ws.local_loss.data() + first, {count}),
                                 .grad_logits = want_gradient ? logits : tensor_view<T, 2>{},
                                 .log_normalizer = tensor_view<T, 1>(ws.local_lse.data() + first, {count}),
                                 .total = {}};
    const auto mask = row_mask::from_dense(
        tensor_view<const std::uint8_t, 2>(ws.allowed.data() + ws.compact_offsets[first], {count, width}));
    block_nll(backend, local, normalization::full, mask, tensors, reg);
  }
  for (std::size_t i = 0; i < rows; ++i) {
    io.loss(ws.order[i]) = ws.local_loss[i];
    if (!io.log_normalizer.empty()) io.log_normalizer(ws.order[i]) = ws.local_lse[i];
  }
  if (!io.total.empty()) io.total(0) = static_cast<T>(detail::chunked_total(tensor_view<const T, 1>(io.loss)));
  if (want_gradient) scatter_candidate_gradients_kernel(backend, ws.plan, dense, tensor_view<const T, 1>(compact));
}

/// `sparse_output_nll` with a one-off workspace.
template <backend B, class T>
  requires detail::host_backend<B>
void sparse_output_nll(const B& backend, const layout_view& layout, const sparse_output_tensors<T>& io,
                       regularizer reg = {}) {
  sparse_output_workspace<T> ws;
  sparse_output_nll(backend, layout, io, ws, reg);
}

}  // namespace labelgraph
