#pragma once
/// \file
/// Ancestral sampling of paths through the label graph (the sampling half of
/// REINFORCE, Eq. 4-5, and of Algorithm 1's policy-gradient part).
///
/// For every input, K paths are drawn step by step from the root: at step t
/// row r stands at u_t and draws v_{t+1} ~ q(· | u_t) over C(u_t) with
/// `sample_candidates` (the shared Philox stream keyed by (seed, r, t): every
/// backend draws the same paths for the same seed), until it emits EOP. The
/// batch records tokens, the nodes per step, and log p(P) = Σ_t log q(v_{t+1} | u_t)
/// under the sampling distribution (rule `max_candidate`: q = p(v|u), the
/// candidate softmax; `max_block`: the block softmax renormalised over C(u)).
///
///     lg::sampling_options options{.samples_per_input = 4, .seed = epoch * 1000003 + batch};
///     lg::path_batch samples = lg::sample_paths(backend, graph, layout, model, inputs, options);
///
/// Length guard: at most `max_length` tokens (0: the longest path of the
/// graph plus EOP, so a path can never be cut); a path still going then is
/// returned with status `truncated`, never looped on. A row whose candidates
/// all have probability 0 (−inf or NaN logits) stops with status `dead_end`.

#include <cstddef>
#include <cstdint>

#include "labelgraph/backend/concept.hpp"
#include "labelgraph/decode/detail/stepwise.hpp"
#include "labelgraph/decode/path_batch.hpp"
#include "labelgraph/decode/step_function.hpp"
#include "labelgraph/graph/label_graph.hpp"
#include "labelgraph/ops/options.hpp"
#include "labelgraph/ops/sample.hpp"
#include "labelgraph/paths/output_layout.hpp"

namespace labelgraph {

/// Options of `sample_paths`.
struct sampling_options {
  std::size_t samples_per_input = 1;             ///< K paths per input (rows = inputs · K, row = input · K + k)
  std::size_t max_length = 0;                    ///< length guard in tokens, EOP included; 0 = longest path + 1
  std::uint64_t seed = 0;                        ///< Philox key; step t of row r uses counter (r, t)
  decode_rule rule = decode_rule::max_candidate; ///< the distribution drawn from
};

/// Draws `options.samples_per_input` paths for each of `inputs` inputs with
/// the model `model`, reusing `workspace`. Host backends (the model's logits
/// are read on the host to record log p(P)).
template <backend B, class T, step_function<T> Model>
  requires detail::host_backend<B>
[[nodiscard]] path_batch sample_paths(const B& backend, const label_graph& graph, const output_layout& layout,
                                      Model&& model, std::size_t inputs, const sampling_options& options,
                                      decode_workspace<T>& workspace) {
  const std::size_t length = detail::check_decode_call(graph, layout, options.max_length, "sample_paths");
  if (options.samples_per_input == 0) LABELGRAPH_THROW(argument_error("sample_paths: samples_per_input must be at least 1"));
  const layout_view view = layout.view();
  return detail::run_stepwise(graph, layout, model, inputs, options.samples_per_input, length, options.rule, workspace,
                              [&](tensor_view<const T, 2> logits, tensor_view<const node_id, 1> nodes,
                                  tensor_view<token_id, 1> tokens, std::uint32_t step) {
                                sample_candidates(backend, view, logits, nodes, tokens, options.seed, step, options.rule);
                              });
}

/// `sample_paths` with a workspace of its own (allocates per call). T is the logits' element type (float unless given: `sample_paths<double>(...)`).
template <class T = float, backend B, step_function<T> Model>
  requires detail::host_backend<B>
[[nodiscard]] path_batch sample_paths(const B& backend, const label_graph& graph, const output_layout& layout,
                                      Model&& model, std::size_t inputs, const sampling_options& options = {}) {
  decode_workspace<T> workspace;
  return sample_paths(backend, graph, layout, model, inputs, options, workspace);
}

}  // namespace labelgraph
