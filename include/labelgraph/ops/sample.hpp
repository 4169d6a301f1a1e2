#pragma once
/// \file
/// Choosing each row's next token among its candidates C(u) (docs/model.md,
/// "Step distribution of the decoders"): `sample_candidates` draws it, `argmax_candidates`
/// picks the most probable one. Rule `max_candidate` (default) scores by the
/// candidate softmax p(v|u); rule `max_block` (the paper's Algorithm 2) by
/// the block softmax p_blk(v) over g(v) ∩ C(u), renormalised over C(u) when
/// sampling. Argmax ties go to the lowest token.
///
/// Randomness is Philox 4x32-10 keyed by `seed`, counter (row, step, 0, 0):
/// every backend returns the same tokens for the same seed, row and step
/// (they all call `detail::sample_candidate`). Rows without a candidate of
/// positive probability (all −inf or NaN) get `no_token`.

#include <cstdint>
#include <limits>
#include <string>
#include <type_traits>

#include "labelgraph/backend/concept.hpp"
#include "labelgraph/error.hpp"
#include "labelgraph/ops/detail/validate.hpp"
#include "labelgraph/ops/options.hpp"
#include "labelgraph/paths/output_layout.hpp"

namespace labelgraph {

namespace detail {

/// logits [rows, V], nodes [rows] inside the graph, tokens [rows] apart from both.
template <backend B, class T>
void check_choice_call(const layout_view& layout, tensor_view<const T, 2> logits, tensor_view<const node_id, 1> nodes,
                       tensor_view<token_id, 1> tokens) {
  const std::size_t rows = logits.extent(0);
  check_tensor<B>("logits", logits, {rows, layout.tokens});
  check_current_nodes<B>("nodes", nodes, layout, rows);
  check_tensor<B>("tokens", tokens, {rows});
  check_no_overlap("tokens", tokens, "logits", logits, false);
  check_no_overlap("tokens", tokens, "nodes", nodes, false);
  if (rows > std::numeric_limits<std::uint32_t>::max()) {
    LABELGRAPH_THROW(limit_error("logits: " + std::to_string(rows) + " rows; sampling counts rows in 32 bits"));
  }
}

}  // namespace detail

/// tokens(r) ~ the rule's distribution over C(nodes(r)), with uniform philox_uniform(seed, r, step).
template <backend B, class T>
void sample_candidates(const B& backend, const layout_view& layout, tensor_view<T, 2> logits,
                       tensor_view<const node_id, 1> nodes, tensor_view<token_id, 1> tokens, std::uint64_t seed,
                       std::uint32_t step, decode_rule rule = decode_rule::max_candidate) {
  using value_type = std::remove_const_t<T>;
  const tensor_view<const value_type, 2> input = logits;
  detail::check_choice_call<B, value_type>(layout, input, nodes, tokens);
  sample_candidates_kernel(backend, layout, rule, input, nodes, seed, step, tokens);
}

/// tokens(r) = the lowest candidate of C(nodes(r)) with the highest score under `rule`.
template <backend B, class T>
void argmax_candidates(const B& backend, const layout_view& layout, tensor_view<T, 2> logits,
                       tensor_view<const node_id, 1> nodes, tensor_view<token_id, 1> tokens,
                       decode_rule rule = decode_rule::max_candidate) {
  using value_type = std::remove_const_t<T>;
  const tensor_view<const value_type, 2> input = logits;
  detail::check_choice_call<B, value_type>(layout, input, nodes, tokens);
  argmax_candidates_kernel(backend, layout, rule, input, nodes, tokens);
}

}  // namespace labelgraph
