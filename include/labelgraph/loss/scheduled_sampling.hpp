#pragma once
/// \file
/// Scheduled sampling: the teacher-force rate r_tf of Algorithm 1. At each
/// decoding step the decoder is fed either the teacher's token (the ground
/// truth v_t, with probability r_tf) or its own most likely legal move
/// argmax_{v ∈ C(u)} (rule `max_candidate` or the paper's `max_block`, as in
/// ops/sample.hpp). The loss keeps the teacher's targets either way
/// (Algorithm 1 accumulates −log p(t_i | t_{i−1}) against the ground truth);
/// only the decoder's inputs change.
///
/// The coin is uniform = philox_uniform(seed, row, step) per token (default),
/// philox_uniform(seed, row, 0) per sequence, or philox_uniform(seed, 0, 0)
/// once per batch (Algorithm 1 literally: "Sample coin ∼ U(0,1)" once, before
/// the loop); the teacher's token is fed when uniform < r_tf, so r_tf = 1 is
/// pure teacher forcing and r_tf = 0 pure free running. Every backend feeds
/// the same tokens for the same seed.
///
///     for (std::uint32_t t = 0; t + 1 < T; ++t) {
///       model.step(inputs, logits_t);                     // the user's decoder
///       lg::scheduled_sampling_inputs(backend, layout.view(), logits_t, decoder_nodes, teacher_t,
///                                     next_inputs, t, {.teacher_force_rate = 0.75, .seed = step_seed});
///       lg::nodes_of_tokens(layout, next_inputs, decoder_nodes);   // where the decoder now stands
///     }

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "labelgraph/backend/concept.hpp"
#include "labelgraph/backend/philox.hpp"
#include "labelgraph/error.hpp"
#include "labelgraph/ops/detail/validate.hpp"
#include "labelgraph/ops/options.hpp"
#include "labelgraph/ops/sample.hpp"
#include "labelgraph/paths/output_layout.hpp"
#include "labelgraph/tensor/tensor_view.hpp"

namespace labelgraph {

/// How often the teacher-forcing coin is thrown.
enum class teacher_coin : std::uint8_t {
  per_token,     ///< a coin per (row, step)
  per_sequence,  ///< one coin per row, the same at every step
  per_batch,     ///< one coin for the whole batch (Algorithm 1)
};

/// Options of `scheduled_sampling_inputs`.
struct scheduled_sampling_options {
  double teacher_force_rate = 1.0;            ///< r_tf in [0, 1]
  std::uint64_t seed = 0;                     ///< Philox key of the coins
  teacher_coin coin = teacher_coin::per_token;  ///< coin granularity
  decode_rule rule = decode_rule::max_candidate;  ///< how the decoder's own token is chosen
};

/// The coin of (row, step): true = feed the teacher's token.
[[nodiscard]] inline bool teacher_forced(const scheduled_sampling_options& options, std::uint32_t row,
                                         std::uint32_t step) noexcept {
  const std::uint32_t coin_row = options.coin == teacher_coin::per_batch ? 0u : row;
  const std::uint32_t coin_step = options.coin == teacher_coin::per_token ? step : 0u;
  return philox_uniform(options.seed, coin_row, coin_step) < options.teacher_force_rate;
}

/// inputs(r) = teacher(r) when `teacher_forced(options, r, step)`, otherwise
/// the argmax of `logits` (the step's output, [rows, V]) over C(nodes(r)),
/// where nodes(r) is the node the decoder stands on (a valid node in every
/// row: the root where its path has ended). Rows whose teacher token
/// is `no_token` (padding, free steps) get `no_token`. `forced` [rows]
/// (optional) receives 1 where the teacher's token was fed. Throws
/// `argument_error` for a rate outside [0, 1] or a teacher token outside the
/// layout, `shape_error` for wrong shapes.
template <backend B, class T>
void scheduled_sampling_inputs(const B& backend, const layout_view& layout, tensor_view<const T, 2> logits,
                               tensor_view<const node_id, 1> nodes, tensor_view<const token_id, 1> teacher,
                               tensor_view<token_id, 1> inputs, std::uint32_t step,
                               const scheduled_sampling_options& options = {},
                               tensor_view<std::uint8_t, 1> forced = {}) {
  const std::size_t rows = logits.extent(0);
  if (!(options.teacher_force_rate >= 0.0 && options.teacher_force_rate <= 1.0)) {
    LABELGRAPH_THROW(argument_error("scheduled sampling: teacher_force_rate must be in [0, 1], got " +
                                    std::to_string(options.teacher_force_rate)));
  }
  detail::check_tensor<B>("teacher", teacher, {rows});
  detail::check_optional_tensor<B>("forced", forced, {rows});
  detail::check_no_overlap("inputs", inputs, "teacher", teacher, false);
  detail::check_no_overlap("forced", forced, "inputs", inputs, false);
  std::vector<token_id> host_teacher(rows);
  if (rows != 0) backend.copy_to_host(teacher.data(), host_teacher.data(), rows);
  for (std::size_t r = 0; r < rows; ++r) {
    if (host_teacher[r] != no_token && host_teacher[r] >= layout.tokens) {
      LABELGRAPH_THROW(argument_error("teacher: row " + std::to_string(r) + ": token " + std::to_string(host_teacher[r]) +
                                      " is outside the layout (" + std::to_string(layout.tokens) + " tokens)"));
    }
  }
  // The decoder's own choice (skipped when every row is teacher-forced anyway).
  std::vector<token_id> chosen(rows, no_token);
  std::vector<std::uint8_t> coin(rows, 1);
  bool any_free = false;
  for (std::size_t r = 0; r < rows; ++r) {
    coin[r] = teacher_forced(options, static_cast<std::uint32_t>(r), step) ? 1 : 0;
    any_free = any_free || (coin[r] == 0 && host_teacher[r] != no_token);
  }
  if (any_free) {
    argmax_candidates(backend, layout, logits, nodes, inputs, options.rule);
    backend.copy_to_host(inputs.data(), chosen.data(), rows);
  } else {
    detail::check_choice_call<B, T>(layout, logits, nodes, inputs);
  }
  for (std::size_t r = 0; r < rows; ++r) {
    if (host_teacher[r] == no_token) {
      chosen[r] = no_token;
      coin[r] = 0;
    } else if (coin[r] != 0) {
      chosen[r] = host_teacher[r];
    }
  }
  if (rows != 0) backend.copy_from_host(chosen.data(), inputs.data(), rows);
  if (!forced.empty() && rows != 0) backend.copy_from_host(coin.data(), forced.data(), rows);
}

/// nodes(r) = the node of token tokens(r); EOP and `no_token` (the path has
/// ended) give `ended` -- pass the graph's root to keep every row a valid
/// current node for the next step's C(u). Host memory. Throws
/// `argument_error` for a token outside the layout.
inline void nodes_of_tokens(const output_layout& layout, tensor_view<const token_id, 1> tokens,
                            tensor_view<node_id, 1> nodes, node_id ended = no_node) {
  if (nodes.extent(0) != tokens.extent(0)) {
    LABELGRAPH_THROW(shape_error("nodes: expected [" + std::to_string(tokens.extent(0)) + "], got [" +
                                 std::to_string(nodes.extent(0)) + "]"));
  }
  for (std::size_t r = 0; r < tokens.extent(0); ++r) {
    const token_id t = tokens(r);
    if (t != no_token) layout.check_token(t, "tokens: row " + std::to_string(r) + ": token");
    nodes(r) = t == no_token || t == layout.eop() ? ended : layout.node(t);
  }
}

}  // namespace labelgraph
