#pragma once
/// \file
/// Shared by the decode and reinforce tests: the pet graph, a "table" model
/// whose logits depend only on the input and the current node (so p(P) is a
/// product over the path's steps and can be computed by enumeration), and a
/// brute-force enumeration of every complete token sequence.

#include <cmath>
#include <cstddef>
#include <random>
#include <utility>
#include <vector>

#include "labelgraph/decode/decode.hpp"
#include "labelgraph/decode/detail/choice.hpp"
#include "labelgraph/graph/json.hpp"
#include "labelgraph/paths/output_layout.hpp"

namespace labelgraph::testing {

/// The paper's pet graph, read from examples/graphs/pets.json.
inline label_graph pets() { return read_graph_json(LABELGRAPH_SOURCE_DIR "/examples/graphs/pets.json"); }

/// Logits z(input, u, v): one [nodes, V] table per input; the model writes
/// row r = table(input of r)[u_t(r)].
template <class T>
struct table_model {
  std::size_t nodes = 0;
  std::size_t tokens = 0;
  std::vector<std::vector<T>> tables;  // [inputs][nodes · V]
  mutable std::size_t calls = 0;  // model invocations (steps)

  table_model(std::size_t node_count, std::size_t token_count, std::size_t inputs, std::uint64_t seed, double scale = 2.0)
      : nodes(node_count), tokens(token_count), tables(inputs, std::vector<T>(node_count * token_count)) {
    std::mt19937_64 rng(seed);
    std::uniform_real_distribution<double> value(-scale, scale);
    for (auto& table : tables) {
      for (T& z : table) z = static_cast<T>(value(rng));
    }
  }
  [[nodiscard]] T* row(std::size_t input, node_id u) { return tables[input].data() + u * tokens; }
  [[nodiscard]] const T* row(std::size_t input, node_id u) const { return tables[input].data() + u * tokens; }

  void operator()(const step_context& context, tensor_view<T, 2> logits) const {
    ++calls;
    for (std::size_t r = 0; r < context.rows; ++r) {
      const T* source = row(r / context.rows_per_input, context.current_nodes(r));
      std::copy(source, source + tokens, logits.row(r));
    }
  }
};

/// One complete token sequence (…, EOP) and its log-probability under q.
struct enumerated_path {
  std::vector<token_id> tokens;
  double log_probability = 0.0;
};

/// Every token sequence root → … → EOP that follows C(u), with log q under
/// `rule` for the logits rows `row_of(u)` (explicit stack, no recursion).
template <class RowOf>
std::vector<enumerated_path> enumerate_sequences(const label_graph& graph, const output_layout& layout, decode_rule rule,
                                                 RowOf&& row_of) {
  std::vector<enumerated_path> complete;
  struct partial {
    node_id u;
    enumerated_path path;
  };
  std::vector<partial> stack{{graph.root(), {}}};
  while (!stack.empty()) {
    partial current = std::move(stack.back());
    stack.pop_back();
    detail::for_each_candidate_log_probability(layout.view(), rule, row_of(current.u), current.u,
                                               [&](token_id v, double log_q) {
                                                 partial next = current;
                                                 next.path.tokens.push_back(v);
                                                 next.path.log_probability += log_q;
                                                 if (v == layout.eop()) {
                                                   complete.push_back(std::move(next.path));
                                                 } else {
                                                   next.u = layout.node(v);
                                                   stack.push_back(std::move(next));
                                                 }
                                               });
  }
  return complete;
}

}  // namespace labelgraph::testing
