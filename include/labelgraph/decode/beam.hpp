#pragma once
/// \file
/// Beam search over the label graph: the `width` most probable paths per
/// input, every step restricted to the legal moves C(u).
///
/// Each input keeps `width` hypotheses (rows input · width .. input · width +
/// width − 1). At step t every unfinished hypothesis h standing at u is
/// extended by each v ∈ C(u) with q(v | u) > 0 (decode/detail/choice.hpp,
/// `max_candidate` or `max_block`), finished hypotheses are carried over
/// unchanged, and the `width` best of all of them survive, ranked by
///
///   score(P) = log p(P) / |P|^α      (α = `length_penalty`; 0: log p(P) itself)
///
/// with |P| the tokens emitted, EOP included. Ties go to the lower source row,
/// then the lower token, so the search is deterministic. At step 0 only one
/// hypothesis per input exists (the root), so no path is found twice. The
/// model is told in `step_context::source_rows` which row of step t − 1 each
/// row continues, and must reorder its recurrent state accordingly.
///
/// The result holds `width` paths per input, best first. With a width at
/// least the number of paths of the graph nothing is ever pruned (the live
/// prefixes and finished paths at any step map to distinct complete paths),
/// so beam search then lists every path in exact probability order; width 1
/// is greedy decoding. A hypothesis whose candidates all have probability 0
/// is dropped; when fewer than `width` paths exist, the extra rows are empty
/// with status `dead_end` and log p = −inf.
///
///     lg::path_batch beams = lg::beam_decode(backend, graph, layout, model, inputs, {.width = 5}, workspace);

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <numeric>
#include <string>
#include <vector>

#include "labelgraph/backend/concept.hpp"
#include "labelgraph/decode/detail/choice.hpp"
#include "labelgraph/decode/detail/stepwise.hpp"
#include "labelgraph/decode/path_batch.hpp"
#include "labelgraph/decode/step_function.hpp"
#include "labelgraph/error.hpp"
#include "labelgraph/graph/label_graph.hpp"
#include "labelgraph/ops/options.hpp"
#include "labelgraph/paths/output_layout.hpp"

namespace labelgraph {

/// Options of `beam_decode`.
struct beam_options {
  std::size_t width = 4;                         ///< hypotheses kept per input (k)
  std::size_t max_length = 0;                    ///< length guard in tokens, EOP included; 0 = longest path + 1
  double length_penalty = 0.0;                   ///< α of score = log p / |P|^α; 0 ranks by log p
  decode_rule rule = decode_rule::max_candidate; ///< the distribution q ranked by
};

namespace detail {

/// One way to fill a beam slot at the next step.
struct beam_extension {
  double score = 0.0;           ///< the ranking score after the step
  double log_probability = 0.0; ///< log p of the extended path
  double log_q = 0.0;           ///< log q of the new token (0 for a carried, finished hypothesis)
  std::uint32_t source = 0;     ///< the row it extends
  token_id token = no_token;    ///< the new token; `no_token` carries a finished hypothesis over
};

/// Better first: higher score, then lower source row, then lower token.
[[nodiscard]] inline bool better_extension(const beam_extension& a, const beam_extension& b) noexcept {
  if (a.score != b.score) return a.score > b.score;
  if (a.source != b.source) return a.source < b.source;
  return a.token < b.token;
}

/// score = log p / length^α.
[[nodiscard]] inline double beam_score(double log_probability, std::size_t length, double length_penalty) noexcept {
  if (length_penalty == 0.0 || length == 0) return log_probability;
  return log_probability / std::pow(static_cast<double>(length), length_penalty);
}

/// Per-row history of the hypotheses, double-buffered for reordering.
struct beam_state {
  std::size_t max_length = 0;
  std::vector<token_id> tokens;   // [rows, T]
  std::vector<double> log_q;      // [rows, T]
  std::vector<std::uint32_t> length;
  std::vector<double> log_probability;
  std::vector<double> score;
  std::vector<std::uint8_t> alive;  // 0: empty slot (fewer hypotheses than width)

  void resize(std::size_t rows, std::size_t steps) {
    max_length = steps;
    tokens.assign(rows * steps, no_token);
    log_q.assign(rows * steps, 0.0);
    length.assign(rows, 0);
    log_probability.assign(rows, -std::numeric_limits<double>::infinity());
    score.assign(rows, -std::numeric_limits<double>::infinity());
    alive.assign(rows, 0);
  }
  /// Row `to` becomes a copy of row `from` of `other`.
  void copy_row(const beam_state& other, std::size_t from, std::size_t to) {
    std::copy_n(other.tokens.begin() + static_cast<std::ptrdiff_t>(from * max_length), max_length,
                tokens.begin() + static_cast<std::ptrdiff_t>(to * max_length));
    std::copy_n(other.log_q.begin() + static_cast<std::ptrdiff_t>(from * max_length), max_length,
                log_q.begin() + static_cast<std::ptrdiff_t>(to * max_length));
    length[to] = other.length[from];
    log_probability[to] = other.log_probability[from];
    score[to] = other.score[from];
    alive[to] = other.alive[from];
  }
};

}  // namespace detail

/// The `options.width` best paths of each of `inputs` inputs, best first,
/// reusing `workspace`. Host backends (the logits are ranked on the host).
template <backend B, class T, step_function<T> Model>
  requires detail::host_backend<B>
[[nodiscard]] path_batch beam_decode(const B& /*backend*/, const label_graph& graph, const output_layout& layout,
                                     Model&& model, std::size_t inputs, const beam_options& options,
                                     decode_workspace<T>& workspace) {
  const std::size_t length = detail::check_decode_call(graph, layout, options.max_length, "beam_decode");
  if (options.width == 0) LABELGRAPH_THROW(argument_error("beam_decode: width must be at least 1"));
  if (!(options.length_penalty >= 0.0) || !std::isfinite(options.length_penalty)) {
    LABELGRAPH_THROW(argument_error("beam_decode: length_penalty must be finite and >= 0, got " +
                                    std::to_string(options.length_penalty)));
  }
  const layout_view view = layout.view();
  const std::size_t width = options.width;
  const std::size_t rows = inputs * width;
  if (rows > std::numeric_limits<std::uint32_t>::max()) {
    LABELGRAPH_THROW(limit_error("beam_decode: " + std::to_string(rows) + " rows; rows are counted in 32 bits"));
  }
  workspace.reserve(rows, view.tokens);
  detail::beam_state state, next;
  state.resize(rows, length);
  next.resize(rows, length);
  std::fill_n(workspace.previous_tokens.begin(), rows, no_token);
  std::fill_n(workspace.current_nodes.begin(), rows, graph.root());
  std::iota(workspace.source_rows.begin(), workspace.source_rows.begin() + static_cast<std::ptrdiff_t>(rows), 0u);
  std::fill_n(workspace.finished.begin(), rows, std::uint8_t{1});
  for (std::size_t input = 0; input < inputs; ++input) {  // one live hypothesis per input: the root
    const std::size_t row = input * width;
    state.alive[row] = 1;
    state.log_probability[row] = 0.0;
    state.score[row] = 0.0;
    workspace.finished[row] = 0;
  }
  const tensor_view<T, 2> logits = workspace.logits(rows, view.tokens);
  std::vector<detail::beam_extension> extensions;
  std::vector<node_id> next_nodes(rows);
  for (std::uint32_t step = 0; step < length; ++step) {
    if (std::none_of(workspace.finished.begin(), workspace.finished.begin() + static_cast<std::ptrdiff_t>(rows),
                     [](std::uint8_t done) { return done == 0; })) {
      break;
    }
    model(workspace.context(step, rows, width), logits);
    for (std::size_t input = 0; input < inputs; ++input) {
      extensions.clear();
      for (std::size_t b = 0; b < width; ++b) {
        const auto row = static_cast<std::uint32_t>(input * width + b);
        if (state.alive[row] == 0) continue;
        if (workspace.finished[row] != 0) {  // a finished path competes with its final score
          extensions.push_back({state.score[row], state.log_probability[row], 0.0, row, no_token});
          continue;
        }
        detail::for_each_candidate_log_probability(
            view, options.rule, logits.row(row), workspace.current_nodes[row], [&](token_id v, double log_q) {
              if (!(log_q > -std::numeric_limits<double>::infinity())) return;  // −inf or NaN: impossible move
              const double log_probability = state.log_probability[row] + log_q;
              extensions.push_back({detail::beam_score(log_probability, state.length[row] + 1u, options.length_penalty),
                                    log_probability, log_q, row, v});
            });
      }
      const std::size_t kept = std::min(width, extensions.size());
      std::partial_sort(extensions.begin(), extensions.begin() + static_cast<std::ptrdiff_t>(kept), extensions.end(),
                        detail::better_extension);
      for (std::size_t b = 0; b < width; ++b) {
        const std::size_t row = input * width + b;
        if (b >= kept) {  // fewer hypotheses than slots
          next.alive[row] = 0;
          next.length[row] = 0;
          next.log_probability[row] = -std::numeric_limits<double>::infinity();
          next.score[row] = -std::numeric_limits<double>::infinity();
          workspace.source_rows[row] = static_cast<std::uint32_t>(row);
          next_nodes[row] = graph.root();
          continue;
        }
        const detail::beam_extension& chosen = extensions[b];
        next.copy_row(state, chosen.source, row);
        workspace.source_rows[row] = chosen.source;
        next_nodes[row] = workspace.current_nodes[chosen.source];
        if (chosen.token == no_token) continue;  // carried over, finished
        const std::size_t position = next.length[row];
        next.tokens[row * length + position] = chosen.token;
        next.log_q[row * length + position] = chosen.log_q;
        next.length[row] = static_cast<std::uint32_t>(position + 1);
        next.log_probability[row] = chosen.log_probability;
        next.score[row] = chosen.score;
        if (chosen.token != view.eop) next_nodes[row] = layout.node(chosen.token);
      }
    }
    std::swap(state, next);
    for (std::size_t row = 0; row < rows; ++row) {
      workspace.current_nodes[row] = next_nodes[row];
      const std::uint32_t emitted = state.length[row];
      workspace.previous_tokens[row] = emitted == 0 ? no_token : state.tokens[row * length + emitted - 1];
      workspace.finished[row] = state.alive[row] == 0 || workspace.previous_tokens[row] == view.eop ? 1 : 0;
    }
  }
  // Best first within each input (slots are already in rank order, but a
  // finished path can sit below a live one with a lower final score).
  path_batch paths(inputs, width, length, graph.root());
  std::vector<std::uint32_t> order(width);
  for (std::size_t input = 0; input < inputs; ++input) {
    std::iota(order.begin(), order.end(), static_cast<std::uint32_t>(input * width));
    std::stable_sort(order.begin(), order.end(), [&](std::uint32_t a, std::uint32_t b) {
      return state.score[a] > state.score[b];
    });
    for (std::size_t b = 0; b < width; ++b) {
      const std::uint32_t from = order[b];
      const std::size_t row = input * width + b;
      if (state.alive[from] == 0) {
        paths.set_no_path(row, path_status::dead_end);
        continue;
      }
      for (std::uint32_t t = 0; t < state.length[from]; ++t) {
        const token_id token = state.tokens[from * length + t];
        paths.append(row, token, layout.node(token), state.log_q[from * length + t]);
      }
      const bool complete = state.length[from] != 0 && state.tokens[from * length + state.length[from] - 1] == view.eop;
      paths.finish(row, complete ? path_status::complete : path_status::truncated);
      paths.set_score(row, state.score[from]);
    }
  }
  return paths;
}

/// `beam_decode` with a workspace of its own. T is the logits' element type (float unless given: `beam_decode<double>(...)`).
template <class T = float, backend B, step_function<T> Model>
  requires detail::host_backend<B>
[[nodiscard]] path_batch beam_decode(const B& backend, const label_graph& graph, const output_layout& layout,
                                     Model&& model, std::size_t inputs, const beam_options& options = {}) {
  decode_workspace<T> workspace;
  return beam_decode(backend, graph, layout, model, inputs, options, workspace);
}

}  // namespace labelgraph
