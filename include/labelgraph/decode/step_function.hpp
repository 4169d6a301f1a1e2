#pragma once
/// \file
/// The step-function interface between the decoders and the user's model.
///
/// The library never owns the network: a decoder calls the model once per
/// step with a `step_context` (where every row stands) and a [rows, V] logits
/// view to fill. Any callable `model(const step_context&, tensor_view<T, 2>)`
/// is a `step_function<T>`. A GRU decoder, for instance:
///
///     auto model = [&](const lg::step_context& context, lg::tensor_view<float, 2> logits) {
///       if (context.step == 0) hidden = encoder_features(context.rows);        // root: start token
///       else hidden = gather_rows(hidden, context.source_rows);                 // beam search reorders rows
///       hidden = gru(embed(context.previous_tokens), hidden);                   // no_token = start token
///       project(hidden, logits);                                                // logits [rows, V]
///     };
///     lg::path_batch best = lg::greedy_decode(backend, graph, layout, model, inputs);
///
/// Rows are grouped by input: row r belongs to input r / rows_per_input (K
/// samples per input for sampling, the beams for beam search, 1 for greedy).
/// The number of rows never changes during a decode; rows whose path has
/// ended are marked in `finished` and their logits are ignored.

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "labelgraph/graph/label_graph.hpp"
#include "labelgraph/paths/output_layout.hpp"
#include "labelgraph/tensor/buffer.hpp"
#include "labelgraph/tensor/tensor_view.hpp"

namespace labelgraph {

/// What the model is told at decoding step t (every view is host memory, [rows]).
struct step_context {
  std::uint32_t step = 0;          ///< t = 0, 1, ..., max_length − 1
  std::size_t rows = 0;            ///< rows of the logits to write
  std::size_t rows_per_input = 1;  ///< row r decodes input r / rows_per_input
  /// The token each row emitted at step t − 1: its decoder input. `no_token` at t = 0 (the start token).
  tensor_view<const token_id, 1> previous_tokens;
  /// u_t, the node each row stands at (the root at t = 0); its next token is drawn from C(u_t).
  tensor_view<const node_id, 1> current_nodes;
  /// The row of step t − 1 that row r continues: the identity except in beam
  /// search, where the model must reorder its recurrent state by it
  /// (state_t(r) = state_{t−1}(source_rows(r))) before using it.
  tensor_view<const std::uint32_t, 1> source_rows;
  /// 1 where the row's path has already ended; its logits are not read.
  tensor_view<const std::uint8_t, 1> finished;
};

/// A model the decoders can drive: `model(context, logits)` writes the
/// logits [context.rows, V] of step `context.step` (element type T).
template <class F, class T>
concept step_function = requires(F& model, const step_context& context, tensor_view<T, 2> logits) {
  model(context, logits);
};

/// Reusable storage of a decoder: the logits the model writes and the
/// per-row bookkeeping. Grows to the largest call, then a decode allocates
/// nothing but its result. Not thread-safe: one per thread.
template <class T>
class decode_workspace {
public:
  /// An empty workspace; grows on first use.
  decode_workspace() = default;

  /// Makes room for `rows` rows of `tokens` logits.
  void reserve(std::size_t rows, std::size_t tokens) {
    if (logits_.size() < rows * tokens) logits_ = buffer<T>(rows * tokens);
    previous_tokens.resize(rows);
    current_nodes.resize(rows);
    source_rows.resize(rows);
    finished.resize(rows);
    chosen.resize(rows);
  }
  /// The logits of one step, [rows, tokens] (after `reserve(rows, tokens)`).
  [[nodiscard]] tensor_view<T, 2> logits(std::size_t rows, std::size_t tokens) noexcept { return logits_.view(rows, tokens); }

  std::vector<token_id> previous_tokens;  ///< [rows] decoder inputs of the current step
  std::vector<node_id> current_nodes;     ///< [rows] u_t
  std::vector<std::uint32_t> source_rows; ///< [rows] beam reordering
  std::vector<std::uint8_t> finished;     ///< [rows] 1 = ended
  std::vector<token_id> chosen;           ///< [rows] the tokens chosen at this step

  /// The context handed to the model at `step`.
  [[nodiscard]] step_context context(std::uint32_t step, std::size_t rows, std::size_t rows_per_input) const noexcept {
    return {step,
            rows,
            rows_per_input,
            tensor_view<const token_id, 1>(previous_tokens.data(), {rows}),
            tensor_view<const node_id, 1>(current_nodes.data(), {rows}),
            tensor_view<const std::uint32_t, 1>(source_rows.data(), {rows}),
            tensor_view<const std::uint8_t, 1>(finished.data(), {rows})};
  }

private:
  buffer<T> logits_;
};

}  // namespace labelgraph
