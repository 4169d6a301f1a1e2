// Quick start of training on the cpu backend: the path loss (Eq. 2, `sequence_nll`, marginal over a label's
// paths) of a small batch, gradient steps on a toy model whose logits W[u] depend only on the decoder's node u
// (so its loss falls towards the entropy of the batch's labels, 1.04), then greedy decoding (Algorithm 2).
// Usage: quickstart [path/to/pets.json]   (default: the copy in examples/graphs)
#include <cstdint>
#include <cstdio>
#include <exception>
#include <string>
#include <utility>
#include <vector>

#include <labelgraph/backend/philox.hpp>
#include <labelgraph/backends/cpu.hpp>
#include <labelgraph/decode/greedy.hpp>
#include <labelgraph/graph/json.hpp>
#include <labelgraph/loss/sequence_nll.hpp>

#ifndef QUICKSTART_GRAPH
#define QUICKSTART_GRAPH "examples/graphs/pets.json"
#endif

namespace lg = labelgraph;

int main(int argc, char** argv) try {
  const lg::label_graph graph = lg::read_graph_json(argc > 1 ? argv[1] : QUICKSTART_GRAPH);
  const lg::output_layout layout = lg::make_output_layout(graph);  // one token per non-root node, plus EOP
  const lg::target_table table = lg::make_target_table(graph, layout);
  const lg::backends::cpu backend(2);  // oneTBB, 2 threads
  std::vector<lg::node_id> labels;  // a batch of 4: each root-to-label path of a label is a (sample, path) pair
  for (auto name : {"british-shorthair", "persian", "british-shorthair", "pug"}) labels.push_back(graph.at(name));
  const lg::path_targets targets = lg::make_path_targets(graph, layout, table, labels);
  const std::size_t rows = targets.pairs() * targets.steps, tokens = layout.token_count();  // a row per step
  std::vector<float> weights(graph.node_count() * tokens);  // the model, random in [-0.5, 0.5)
  for (std::uint32_t i = 0; i < weights.size(); ++i) weights[i] = static_cast<float>(lg::philox_uniform(7, i, 0) - 0.5);
  std::vector<float> logits(rows * tokens), sample_loss(targets.samples), loss(1);
  const lg::sequence_nll_tensors<float> io{.logits = lg::host_view(std::as_const(logits).data(), rows, tokens),
                                           .targets = targets.view(), .sample_loss = lg::host_view(sample_loss),
                                           .total = lg::host_view(loss),
                                           .grad_logits = lg::host_view(logits.data(), rows, tokens)};  // in place
  for (int step = 0; step <= 50; ++step) {
    for (std::size_t r = 0; r < rows; ++r)  // forward: row r is W[u_r]
      for (std::size_t v = 0; v < tokens; ++v) logits[r * tokens + v] = weights[targets.nodes[r] * tokens + v];
    lg::sequence_nll(backend, layout.view(), io, {.pool = lg::pooling::marginal, .scale = 1.0 / 4});
    if (step % 25 == 0) std::printf("step %2d: loss %.4f per sample, %zu paths\n", step, loss[0], targets.pairs());
    for (std::size_t r = 0; r < rows; ++r)  // backward: the logits now hold dL/dz; SGD on W
      for (std::size_t v = 0; v < tokens; ++v) weights[targets.nodes[r] * tokens + v] -= 2.0f * logits[r * tokens + v];
  }
  auto model = [&](const lg::step_context& context, lg::tensor_view<float, 2> out) {  // the decoder's view of W
    for (std::size_t r = 0; r < context.rows; ++r)
      for (std::size_t v = 0; v < tokens; ++v) out(r, v) = weights[context.current_nodes(r) * tokens + v];
  };
  const lg::path_batch path = lg::greedy_decode(backend, graph, layout, model, 1);  // most likely legal move to EOP
  std::printf("greedy path: %s", std::string(graph.name(graph.root())).c_str());
  for (lg::node_id node : path.nodes(0)) std::printf(" %s", std::string(graph.name(node)).c_str());
  std::printf("\n");
} catch (const std::exception& error) {  // a missing file, a graph without these labels, ...
  std::fprintf(stderr, "quickstart: %s\n", error.what());
  return 1;
}
