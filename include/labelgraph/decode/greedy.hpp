#pragma once
/// \file
/// Greedy decoding, the paper's Algorithm 2 restricted to the graph: from the
/// root, each step takes the most probable legal move
///
///   v_{t+1} = argmax_{v ∈ C(u_t)} score(v),   score = z_v (`max_candidate`) or p_blk(v) (`max_block`)
///
/// (ties: the lowest token) until EOP or the length guard. `argmax_candidates`
/// picks the tokens, so every backend decodes the same paths. The batch holds
/// one path per input with log p(P) under the rule's distribution
/// (decode/detail/choice.hpp); it equals beam search of width 1.
///
///     lg::path_batch predicted = lg::greedy_decode(backend, graph, layout, model, inputs, {}, workspace);
///     lg::node_id label = predicted.last_node(i);

#include <cstddef>

#include "labelgraph/backend/concept.hpp"
#include "labelgraph/decode/detail/stepwise.hpp"
#include "labelgraph/decode/path_batch.hpp"
#include "labelgraph/decode/step_function.hpp"
#include "labelgraph/graph/label_graph.hpp"
#include "labelgraph/ops/options.hpp"
#include "labelgraph/ops/sample.hpp"
#include "labelgraph/paths/output_layout.hpp"

namespace labelgraph {

/// Options of `greedy_decode`.
struct decode_options {
  std::size_t max_length = 0;                    ///< length guard in tokens, EOP included; 0 = longest path + 1
  decode_rule rule = decode_rule::max_candidate; ///< `max_candidate` (default) or `max_block` (the paper)
};

/// One greedy path per input (Algorithm 2), reusing `workspace`. Host backends.
template <backend B, class T, step_function<T> Model>
  requires detail::host_backend<B>
[[nodiscard]] path_batch greedy_decode(const B& backend, const label_graph& graph, const output_layout& layout,
                                       Model&& model, std::size_t inputs, const decode_options& options,
                                       decode_workspace<T>& workspace) {
  const std::size_t length = detail::check_decode_call(graph, layout, options.max_length, "greedy_decode");
  const layout_view view = layout.view();
  return detail::run_stepwise(graph, layout, model, inputs, 1, length, options.rule, workspace,
                              [&](tensor_view<const T, 2> logits, tensor_view<const node_id, 1> nodes,
                                  tensor_view<token_id, 1> tokens, std::uint32_t) {
                                argmax_candidates(backend, view, logits, nodes, tokens, options.rule);
                              });
}

/// `greedy_decode` with a workspace of its own. T is the logits' element type (float unless given: `greedy_decode<double>(...)`).
template <class T = float, backend B, step_function<T> Model>
  requires detail::host_backend<B>
[[nodiscard]] path_batch greedy_decode(const B& backend, const label_graph& graph, const output_layout& layout,
                                       Model&& model, std::size_t inputs, const decode_options& options = {}) {
  decode_workspace<T> workspace;
  return greedy_decode(backend, graph, layout, model, inputs, options, workspace);
}

}  // namespace labelgraph
