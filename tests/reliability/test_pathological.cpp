// Pathological sizes (docs/reliability.md): a node with 1,000,000 children
// through layout, counting, target table and a block softmax over its
// million-token group; a 200 MB graph file generated at test time; target
// tables of a 10^6-deep chain and of 2^63 paths, refused by counting before
// anything is stored. Each heavy step runs in a child process whose peak
// resident memory is asserted against a bound stated next to it. (2^64 paths
// and reading / enumerating a 10^6-deep chain: tests/paths/test_limits.cpp
// and tests/graph/test_json_large.cpp.)
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "labelgraph/graph/json.hpp"
#include "labelgraph/paths.hpp"
#include "each_backend.hpp"
#include "peak_memory.hpp"
#include "test_support.hpp"

using namespace labelgraph;
using namespace labelgraph::testing;

namespace {

/// Reports a failed expectation from inside a child process.
bool expect(bool condition, const char* what) {
  if (!condition) std::fprintf(stderr, "child: expectation failed: %s\n", what);
  return condition;
}

/// root -> c0 ... c{n-1}, all labels of dataset d.
label_graph star(std::size_t n) {
  graph_builder builder("star");
  builder.reserve(n + 1, n);
  builder.add_dataset("d");
  builder.add_node("root", node_kind::root);
  for (std::size_t i = 0; i < n; ++i) {
    std::string name = "c" + std::to_string(i);
    builder.add_edge("root", name);
    builder.add_node(std::move(name), node_kind::label, {"d"});
  }
  return builder.build();
}

/// root -> c1 -> c2 -> ... -> c{n-1}, all labels.
label_graph chain(std::size_t n) {
  graph_builder builder("chain");
  builder.reserve(n, n - 1);
  builder.add_dataset("d");
  builder.add_node("c0", node_kind::root);
  for (std::size_t i = 1; i < n; ++i) {
    std::string name = "c" + std::to_string(i);
    builder.add_edge("c" + std::to_string(i - 1), name);
    builder.add_node(std::move(name), node_kind::label, {"d"});
  }
  return builder.build();
}

/// Softmax over the root's candidates (its million children) on one backend:
/// every row sums to 1, the largest logit wins.
template <class B>
bool million_token_softmax(const B& backend, const output_layout& layout, node_id root) {
  const std::size_t rows = 2;
  const std::size_t tokens = layout.token_count();
  host_matrix<float> logits(rows, tokens), probabilities(rows, tokens);
  for (std::size_t r = 0; r < rows; ++r) {
    for (std::size_t v = 0; v < tokens; ++v) logits(r, v) = static_cast<float>((v * 7919 + r) % 1000) / 100.0f;
  }
  logits(1, 123456) = 50.0f;
  const std::vector<node_id> nodes(rows, root);
  block_softmax(backend, layout.view(), logits.view(), probabilities.view(), normalization::candidate,
                row_mask::from_candidates(host_view(nodes)));
  bool ok = true;
  for (std::size_t r = 0; r < rows; ++r) {
    double sum = 0;
    for (std::size_t v = 0; v < tokens; ++v) sum += probabilities(r, v);
    ok = expect(std::abs(sum - 1.0) < 1e-3, "a million-token row sums to 1") && ok;
  }
  ok = expect(probabilities(1, 123456) > 0.99f, "the one large logit takes the mass") && ok;
  ok = expect(probabilities(0, tokens - 1) == 0.0f, "EOP is not a candidate of the root") && ok;
  std::vector<token_id> best(rows);
  argmax_candidates(backend, layout.view(), logits.view(), host_view(nodes), host_view(best));
  return expect(best[1] == 123456, "argmax finds the large logit among a million candidates") && ok;
}

}  // namespace

TEST_CASE("one node with 1,000,000 children: layout, counts, target table and kernels in bounded memory",
          "[reliability][pathological]") {
  constexpr std::size_t n = 1'000'000;
  const child_result result = run_in_child([&] {
    const label_graph graph = star(n);
    const output_layout layout = make_output_layout(graph);
    bool ok = expect(layout.token_count() == n + 1, "one token per child plus EOP");
    ok = expect(layout.max_group_size() == n, "the children form one group") && ok;
    ok = expect(layout.candidates(graph.root()).size() == n, "C(root) holds every child") && ok;
    const path_counts counts = count_paths(graph);
    ok = expect(path_total(counts) == n, "one path per child") && ok;
    const target_table table = make_target_table(graph, layout);
    ok = expect(table.path_count() == n && table.token_count() == 2 * n, "a path (child, EOP) per child") && ok;
    ok = expect(ground_truth_set(graph, graph.at("c999999")) == std::vector<node_id>{graph.at("c999999")},
                "S(y) of a child is the child") && ok;
    for_each_backend_type([&]<class B>(std::type_identity<B>) {
      for (const B& backend : backend_instances<B>::make()) ok = million_token_softmax(backend, layout, graph.root()) && ok;
    });
    return ok;
  });
  CHECK(result.exit_status == 0);
  // Graph ~100 MB (names, hash index, CSR), layout ~16 MB, table ~40 MB, two
  // 1,000,001-float rows for logits and probabilities ~16 MB: measured ~330
  // MB (RelWithDebInfo); the bound leaves room for the sanitizers' shadow memory.
  INFO("peak resident memory " << result.peak_mib << " MiB");
  CHECK(result.peak_mib < 1024);
}

TEST_CASE("a 200 MB graph file is read in bounded memory", "[reliability][pathological]") {
  // A pretty-printed tree with 16 children per node and long names, written
  // to the build folder at test time (never committed).
  const std::filesystem::path file = std::filesystem::path(LABELGRAPH_RELIABILITY_SCRATCH) / "large-200MB.json";
  constexpr std::uintmax_t target_bytes = 200'000'000;
  const auto name = [](std::size_t i) {
    char text[64];
    std::snprintf(text, sizeof text, "synset-%08zu-of-a-generated-large-graph", i);
    return std::string(text);
  };
  const std::size_t per_node = 2 * name(0).size() + 108;  // a node line and an edge line, names excluded: 108 bytes
  const std::size_t n = target_bytes / per_node + 1;
  {
    std::ofstream out(file, std::ios::binary | std::ios::trunc);
    out << "{\n  \"format\": \"labelgraph/1\",\n  \"datasets\": [\"d\"],\n  \"nodes\": [\n"
        << "    {\"name\": \"" << name(0) << "\", \"kind\": \"root\"}";
    for (std::size_t i = 1; i < n; ++i) {
      out << ",\n    {\"name\": \"" << name(i) << "\", \"kind\": \"label\", \"datasets\": [\"d\"]}";
    }
    out << "\n  ],\n  \"edges\": [\n";
    for (std::size_t i = 1; i < n; ++i) {
      out << (i == 1 ? "" : ",\n") << "    [\"" << name((i - 1) / 16) << "\", \"" << name(i) << "\"]";
    }
    out << "\n  ]\n}\n";
  }
  const std::uintmax_t bytes = std::filesystem::file_size(file);
  REQUIRE(bytes >= target_bytes);
  const child_result result = run_in_child([&] {
    const label_graph graph = read_graph_json(file);
    return expect(graph.node_count() == n && graph.edge_count() == n - 1, "every node and edge is read") &&
           expect(graph.children(graph.root()).size() == 16, "the tree has 16 children per node");
  });
  std::filesystem::remove(file);
  CHECK(result.exit_status == 0);
  // The reader streams (SAX): memory follows the graph (~1.06M nodes with
  // 40-byte names: builder, hash index, CSR; ~510 bytes a node measured,
  // RelWithDebInfo), never the file held whole or as a DOM (a DOM of this
  // file takes several GB).
  INFO("file " << bytes / 1'000'000 << " MB, " << n << " nodes; peak resident memory " << result.peak_mib << " MiB");
  CHECK(result.peak_mib < 1024);
}

TEST_CASE("a target table of a 10^6-deep chain is refused by counting, before anything is stored",
          "[reliability][pathological]") {
  constexpr std::size_t n = 1'000'000;
  const child_result result = run_in_child([&] {
    const label_graph graph = chain(n);
    const output_layout layout = make_output_layout(graph);
    path_limits long_paths;
    long_paths.max_length = n;
    // Label c_k has one path of k+1 nodes = k+1 tokens: Σ_{k=1}^{n-1} (k+1).
    const std::uint64_t m = n - 1;
    const std::uint64_t tokens = m * (m + 1) / 2 + m;
    try {
      (void)make_target_table(graph, layout, long_paths);
    } catch (const limit_error& refused) {
      return expect(std::string(refused.what()) == "chain: the target table would hold " + std::to_string(tokens) +
                                                       " tokens, more than 268435456 (path_limits::max_tokens)",
                    "the refusal names the token count and the limit");
    }
    return expect(false, "a 2 TB target table must be refused");
  });
  CHECK(result.exit_status == 0);
  // The graph and layout of the chain (~150 MB); without the count the table
  // would have grown to 2 TB before failing.
  INFO("peak resident memory " << result.peak_mib << " MiB");
  CHECK(result.peak_mib < 1024);
}

TEST_CASE("a target table whose token count overflows 64 bits is refused", "[reliability][pathological]") {
  // A ladder of 63 rungs: a_i and b_i both under a_{i-1} and b_{i-1}, so the
  // label `end` under a_63, b_63 has 2^63 paths of 65 nodes.
  graph_builder builder("ladder");
  builder.add_dataset("d");
  builder.add_node("root", node_kind::root);
  std::vector<std::string> previous{"root"};
  for (int i = 1; i <= 63; ++i) {
    const std::vector<std::string> rung{"a" + std::to_string(i), "b" + std::to_string(i)};
    for (const auto& node : rung) {
      builder.add_node(node, node_kind::augmented);
      for (const auto& parent : previous) builder.add_edge(parent, node);
    }
    previous = rung;
  }
  builder.add_node("end", node_kind::label, {"d"});
  for (const auto& parent : previous) builder.add_edge(parent, "end");
  const label_graph graph = builder.build();
  path_limits limits;
  limits.max_paths = std::uint64_t{1} << 63;
  limits.max_length = 100;
  CHECK_THROWS_MATCHES(make_target_table(graph, make_output_layout(graph), limits), limit_error,
                       Catch::Message("ladder: the target table would hold more than 2^64 tokens, more than 268435456 "
                                      "(path_limits::max_tokens)"));
  limits.max_paths = 1'000'000;
  CHECK_THROWS_MATCHES(make_target_table(graph, make_output_layout(graph), limits), limit_error,
                       Catch::Message("ladder: node 'end' has more than 1000000 paths (path_limits::max_paths)"));
}
