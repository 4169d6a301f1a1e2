#pragma once
/// \file
/// The loop shared by ancestral sampling and greedy decoding: one model call
/// and one choice per step, every row advancing independently from the root
/// until it emits EOP, reaches a dead end, or hits the length guard.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <numeric>
#include <string>
#include <utility>
#include <vector>

#include "labelgraph/backend/concept.hpp"
#include "labelgraph/decode/detail/choice.hpp"
#include "labelgraph/decode/path_batch.hpp"
#include "labelgraph/decode/step_function.hpp"
#include "labelgraph/error.hpp"
#include "labelgraph/graph/label_graph.hpp"
#include "labelgraph/paths/output_layout.hpp"

namespace labelgraph::detail {

/// Tokens on the longest root-to-node path plus EOP: no legal path is longer.
[[nodiscard]] inline std::size_t longest_path_tokens(const label_graph& graph) {
  std::vector<std::size_t> depth(graph.node_count(), 0);
  std::size_t deepest = 0;
  for (node_id node : graph.topological_order()) {  // parents first: depth is final when read
    for (node_id child : graph.children(node)) depth[child] = std::max(depth[child], depth[node] + 1);
    deepest = std::max(deepest, depth[node]);
  }
  return deepest + 1;
}

/// The graph is usable and the layout was made from it; the step count
/// (0 = the longest path of the graph).
inline std::size_t check_decode_call(const label_graph& graph, const output_layout& layout, std::size_t max_length,
                                     std::string_view caller) {
  if (graph.empty()) LABELGRAPH_THROW(argument_error(std::string(caller) + ": the label graph is empty"));
  if (layout.view().nodes != graph.node_count()) {
    LABELGRAPH_THROW(argument_error(std::string(caller) + ": the output layout (" + std::to_string(layout.view().nodes) +
                                    " nodes) was not made from this graph (" + std::to_string(graph.node_count()) +
                                    " nodes)"));
  }
  const std::size_t length = max_length == 0 ? longest_path_tokens(graph) : max_length;
  if (length > std::numeric_limits<std::uint32_t>::max()) {
    LABELGRAPH_THROW(limit_error(std::string(caller) + ": max_length " + std::to_string(length) + " does not fit in 32 bits"));
  }
  return length;
}

/// Runs `choose(logits, nodes, tokens, step)` once per step on every row of
/// `inputs · per_input` rows and records the paths; log q of each chosen
/// token under `rule` (decode/detail/choice.hpp).
template <class T, class Model, class Choose>
path_batch run_stepwise(const label_graph& graph, const output_layout& layout, Model& model, std::size_t inputs,
                        std::size_t per_input, std::size_t max_length, decode_rule rule, decode_workspace<T>& work,
                        Choose&& choose) {
  const layout_view view = layout.view();
  const std::size_t rows = inputs * per_input;
  if (rows > std::numeric_limits<std::uint32_t>::max()) {
    LABELGRAPH_THROW(limit_error("decode: " + std::to_string(rows) + " rows; rows are counted in 32 bits"));
  }
  path_batch paths(inputs, per_input, max_length, graph.root());
  work.reserve(rows, view.tokens);
  std::fill_n(work.previous_tokens.begin(), rows, no_token);
  std::fill_n(work.current_nodes.begin(), rows, graph.root());
  std::iota(work.source_rows.begin(), work.source_rows.begin() + static_cast<std::ptrdiff_t>(rows), 0u);
  std::fill_n(work.finished.begin(), rows, std::uint8_t{0});
  std::size_t active = rows;
  const tensor_view<T, 2> logits = work.logits(rows, view.tokens);
  for (std::uint32_t step = 0; step < max_length && active != 0; ++step) {
    model(work.context(step, rows, per_input), logits);
    const tensor_view<const T, 2> written = logits;
    choose(written, tensor_view<const node_id, 1>(work.current_nodes.data(), {rows}),
           tensor_view<token_id, 1>(work.chosen.data(), {rows}), step);
    for (std::size_t r = 0; r < rows; ++r) {
      if (work.finished[r] != 0) continue;
      const token_id token = work.chosen[r];
      const node_id u = work.current_nodes[r];
      if (token == no_token) {  // no candidate with mass: stop here
        paths.finish(r, path_status::dead_end);
        work.finished[r] = 1;
        --active;
        continue;
      }
      const node_id reached = layout.node(token);  // no_node for EOP
      paths.append(r, token, reached, candidate_log_probability(view, rule, written.row(r), u, token));
      work.previous_tokens[r] = token;
      if (token == view.eop) {
        paths.finish(r, path_status::complete);
        work.finished[r] = 1;
        --active;
      } else {
        work.current_nodes[r] = reached;
      }
    }
  }
  for (std::size_t r = 0; r < rows; ++r) {
    if (work.finished[r] == 0) paths.finish(r, path_status::truncated);  // the length guard
  }
  return paths;
}

}  // namespace labelgraph::detail
