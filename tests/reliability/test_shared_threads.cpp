// Many threads sharing one graph, one layout, one target table and one cpu
// backend object (whose copies share its task arena and scratch): every thread
// must get exactly the results a single thread gets. Run under
// ThreadSanitizer by scripts/tsan (docs/reliability.md), this is the data-race
// check of the "immutable after build(), cheap to share across threads" and
// "one backend object may be used from several threads at once" promises.
#include <catch2/catch.hpp>

#include <cstring>
#include <random>
#include <span>
#include <thread>
#include <vector>

#include "labelgraph/backends/cpu.hpp"
#include "labelgraph/paths.hpp"
#include "test_support.hpp"

using namespace labelgraph;
using namespace labelgraph::testing;

namespace {

constexpr int thread_count = 8;

/// Everything one thread computes from the shared objects.
struct results {
  std::vector<std::uint64_t> counts;
  std::vector<std::vector<node_id>> paths;
  std::vector<std::uint8_t> deterministic;
  std::vector<std::vector<node_id>> ground_truth;
  std::vector<double> probabilities;
  std::vector<double> loss;
  std::vector<double> grad;
  std::vector<token_id> sampled;

  friend bool operator==(const results&, const results&) = default;
};

results compute(const label_graph& shared_graph, const output_layout& layout, const target_table& table,
                const backends::cpu& backend, const host_matrix<double>& logits, const std::vector<node_id>& nodes,
                const std::vector<token_id>& targets) {
  const label_graph graph = shared_graph;  // a copy: the shared state's reference count changes concurrently
  results out;
  const path_counts counts = count_paths(graph);
  for (node_id v = 0; v < graph.node_count(); ++v) {
    out.counts.push_back(counts.of(v));
    if (!graph.is_label(v)) continue;
    for (const classified_path& path : classify_paths(graph, v)) {
      out.paths.push_back(path.nodes);
      out.deterministic.push_back(path.deterministic ? 1 : 0);
    }
    out.ground_truth.push_back(ground_truth_set(graph, v));
    for (path_index p : table.paths_of(v)) out.deterministic.push_back(table.deterministic(p) ? 1 : 0);
  }
  const std::size_t rows = logits.rows;
  const std::size_t tokens = layout.token_count();
  host_matrix<double> probabilities(rows, tokens), grad(rows, tokens);
  const row_mask mask = row_mask::from_candidates(host_view(nodes));
  block_softmax(backend, layout.view(), logits.view(), probabilities.view(), normalization::candidate, mask);
  out.probabilities = probabilities.storage;
  out.loss.resize(rows);
  block_nll(backend, layout.view(), normalization::candidate, mask,
            block_nll_tensors<double>{logits.view(), host_view(targets), {}, host_view(out.loss), grad.view(), {}, {}},
            regularizer::label_smoothing(0.1));
  out.grad = grad.storage;
  out.sampled.resize(rows);
  sample_candidates(backend, layout.view(), logits.view(), host_view(nodes), host_view(out.sampled), 42, 1);
  return out;
}

}  // namespace

TEST_CASE("threads sharing one graph, layout, target table and cpu backend get the single-thread results",
          "[reliability][threads]") {
  const label_graph graph = pet_graph();
  const output_layout layout = make_output_layout(graph);
  const target_table table = make_target_table(graph, layout);
  const backends::cpu backend(4);  // its arena and scratch are shared by every thread below

  std::mt19937_64 rng(5);
  const std::size_t rows = 600;  // several row blocks per kernel call
  const host_matrix<double> logits = random_logits<double>(rng, rows, layout.token_count());
  const std::vector<node_id> nodes = random_nodes(rng, rows, static_cast<std::uint32_t>(graph.node_count()));
  std::vector<token_id> targets(rows);
  for (std::size_t r = 0; r < rows; ++r) {
    const auto candidates = layout.candidates(nodes[r]);
    targets[r] = candidates.empty() ? no_token : candidates[rng() % candidates.size()];
  }

  const results expected = compute(graph, layout, table, backend, logits, nodes, targets);
  std::vector<results> actual(thread_count);
  {
    std::vector<std::jthread> threads;
    for (int t = 0; t < thread_count; ++t) {
      threads.emplace_back([&, t] {
        // Half the threads use the shared object, half a copy of it (same arena and scratch).
        const backends::cpu copy = backend;
        actual[t] = compute(graph, layout, table, t % 2 == 0 ? backend : copy, logits, nodes, targets);
      });
    }
  }
  for (int t = 0; t < thread_count; ++t) {
    INFO("thread " << t);
    CHECK(actual[t] == expected);
  }
}
