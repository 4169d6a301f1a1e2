// Bounds: counts beyond 64 bits, a 1,000,000-node chain, and the error texts
// of every limit.

#include <catch2/catch.hpp>

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "labelgraph/graph/graph_builder.hpp"
#include "labelgraph/paths.hpp"

using namespace labelgraph;

namespace {

constexpr std::uint64_t max_u64 = std::numeric_limits<std::uint64_t>::max();

/// A ladder of 64 diamonds s_i -> {a_i, b_i} -> s_{i+1}: |paths(s_k)| = 2^k,
/// so s64 has 2^64 paths. Extra nodes:
///   exact     parents s0..s63:     Σ 2^k = 2^64 - 1 paths (fits, exactly UINT64_MAX)
///   too-many  parents s0..s63, a0: 2^64 paths (overflows by one)
///   after     child of s64:        inherits the overflow
const label_graph& ladder() {
  static const label_graph graph = [] {
    graph_builder builder("ladder.json");
    builder.add_dataset("d");
    auto s = [](int i) { return "s" + std::to_string(i); };
    builder.add_node(s(0), node_kind::root);
    for (int i = 0; i < 64; ++i) {
      const std::string a = "a" + std::to_string(i), b = "b" + std::to_string(i);
      builder.add_node(a, node_kind::augmented);
      builder.add_node(b, node_kind::augmented);
      builder.add_node(s(i + 1), node_kind::label, {"d"});
      builder.add_edge(s(i), a);
      builder.add_edge(s(i), b);
      builder.add_edge(a, s(i + 1));
      builder.add_edge(b, s(i + 1));
    }
    builder.add_node("exact", node_kind::label, {"d"});
    builder.add_node("too-many", node_kind::augmented);
    builder.add_node("after", node_kind::augmented);
    for (int i = 0; i < 64; ++i) {
      builder.add_edge(s(i), "exact");
      builder.add_edge(s(i), "too-many");
    }
    builder.add_edge("a0", "too-many");
    builder.add_edge("s64", "after");
    return builder.build();
  }();
  return graph;
}

/// root c0 -> c1 -> ... -> c999999; c500000 and c999999 are labels.
const label_graph& chain() {
  static const label_graph graph = [] {
    constexpr int length = 1'000'000;
    graph_builder builder("chain.json");
    builder.reserve(length, length);
    builder.add_dataset("d");
    builder.add_node("c0", node_kind::root);
    for (int i = 1; i < length; ++i) {
      const bool label = i == length / 2 || i == length - 1;
      builder.add_node("c" + std::to_string(i), label ? node_kind::label : node_kind::augmented,
                       label ? std::vector<std::string>{"d"} : std::vector<std::string>{});
      builder.add_edge("c" + std::to_string(i - 1), "c" + std::to_string(i));
    }
    return builder.build();
  }();
  return graph;
}

}  // namespace

TEST_CASE("counting: 2^64 paths overflow and are reported and propagate while 2^64-1 stays exact") {
  const label_graph& graph = ladder();
  const path_counts counts = count_paths(graph);
  const node_id s63 = graph.at("s63"), s64 = graph.at("s64");

  CHECK(counts.of(s63) == std::uint64_t{1} << 63);  // the node before the last diamond
  CHECK(counts.of(graph.at("s1")) == 2);
  CHECK(counts.of(graph.at("a63")) == std::uint64_t{1} << 63);
  CHECK_FALSE(counts.overflowed(s63));

  CHECK(counts.overflowed(s64));
  CHECK(counts.saturated(s64) == max_u64);
  CHECK_THROWS_AS(counts.of(s64), limit_error);
  CHECK_THROWS_WITH(counts.of(s64),
                    "ladder.json: node 's64' has more than 18446744073709551615 root-to-node paths (count overflows 64 bits)");
  CHECK(counts.overflowed(graph.at("after")));  // a child of an overflowed node
  CHECK(counts.checked(graph.at("after")) == checked_count{max_u64, true});

  // Exactly 2^64 - 1 is a count, not an overflow; one more path is.
  CHECK_FALSE(counts.overflowed(graph.at("exact")));
  CHECK(counts.of(graph.at("exact")) == max_u64);
  CHECK(counts.overflowed(graph.at("too-many")));

  CHECK(checked_path_total(counts).overflowed);
  CHECK_THROWS_WITH(path_total(counts), "ladder.json: the label nodes have more than 18446744073709551615 root-to-label "
                                        "paths in total (count overflows 64 bits)");

  // Determinism counts without enumeration: a_i and b_i compete (sibling
  // rule) and both lie on paths of every s_k, k > i, so all of s_k's paths are
  // nondeterministic; `exact` has one deterministic path, s0 > exact.
  const determinism_counts at_s63 = count_path_determinism(graph, s63);
  CHECK(at_s63.deterministic == checked_count{0, false});
  CHECK(at_s63.nondeterministic == checked_count{std::uint64_t{1} << 63, false});
  const determinism_counts at_s64 = count_path_determinism(graph, s64);
  CHECK(at_s64.deterministic == checked_count{0, false});
  CHECK(at_s64.nondeterministic == checked_count{max_u64, true});
  const determinism_counts at_exact = count_path_determinism(graph, graph.at("exact"));
  CHECK(at_exact.deterministic == checked_count{1, false});
  CHECK(at_exact.nondeterministic == checked_count{max_u64 - 1, false});

  // checked_count arithmetic at the boundary.
  CHECK(checked_count{max_u64 - 1, false} + checked_count{1, false} == checked_count{max_u64, false});
  CHECK(checked_count{max_u64, false} + checked_count{1, false} == checked_count{max_u64, true});
  CHECK(checked_count{0, true} + checked_count{0, false} == checked_count{max_u64, true});
}

TEST_CASE("enumeration: max_paths stops after exactly max_paths paths with a clear error") {
  const label_graph& graph = ladder();
  path_limits limits;
  limits.max_paths = 1000;
  std::uint64_t seen = 0;
  auto run = [&](const char* target) {
    seen = 0;
    for (auto p : enumerate_paths(graph, target, limits)) seen += p.empty() ? 0 : 1;
  };
  CHECK_THROWS_WITH(run("s10"), "ladder.json: node 's10' has more than 1000 paths (path_limits::max_paths)");
  CHECK(seen == 1000);
  CHECK_THROWS_AS(run("s10"), limit_error);
  limits.max_paths = 1024;  // s10 has exactly 2^10
  CHECK_NOTHROW(run("s10"));
  CHECK(seen == 1024);
  // Eager forms check the count first: they fail at once instead of storing
  // max_paths paths (a million paths of 129 nodes here) and then failing.
  CHECK_THROWS_WITH(classify_paths(graph, graph.at("s64")),
                    "ladder.json: node 's64' has more than 1000000 paths (path_limits::max_paths)");
  CHECK_THROWS_WITH(classify_paths(graph, graph.at("s20")),
                    "ladder.json: node 's20' has more than 1000000 paths (path_limits::max_paths)");
  CHECK_THROWS_WITH(make_target_table(graph, make_output_layout(graph)),
                    "ladder.json: node 's20' has more than 1000000 paths (path_limits::max_paths)");
}

TEST_CASE("a one-million-node chain counts and enumerates and classifies without deep recursion") {
  // One test case, so that the chain is built once per test process.
  const label_graph& graph = chain();
  const node_id last = graph.at("c999999");
  CHECK(count_paths(graph).of(last) == 1);

  path_limits long_paths;
  long_paths.max_length = 1'000'000;
  std::size_t path_count = 0;
  for (std::span<const node_id> p : enumerate_paths(graph, last, long_paths)) {
    ++path_count;
    REQUIRE(p.size() == 1'000'000);
    CHECK(p.front() == graph.root());
    CHECK(p.back() == last);
    bool follows_edges = true;
    for (std::size_t i = 1; i < p.size(); ++i) follows_edges = follows_edges && graph.parents(p[i])[0] == p[i - 1];
    CHECK(follows_edges);
  }
  CHECK(path_count == 1);

  auto classified = classify_paths(graph, last, long_paths);
  REQUIRE(classified.size() == 1);
  CHECK(classified[0].deterministic);
  CHECK(classified[0].nodes.size() == 1'000'000);
  const determinism_counts split = count_path_determinism(graph, last);
  CHECK(split.deterministic == checked_count{1, false});
  CHECK(split.nondeterministic == checked_count{0, false});
  CHECK(ground_truth_set(graph, last) == std::vector<node_id>{graph.at("c500000"), last});

  const target_table table = make_target_table(graph, make_output_layout(graph), long_paths);
  CHECK(table.path_count() == 2);
  CHECK(table.max_length() == 1'000'000);  // 999,999 non-root tokens + EOP
  CHECK(table.token_count() == 500'001 + 1'000'000);  // |P| tokens per path of |P| nodes

  // max_length: the default bound and its exact boundary.
  auto first_path_length = [&](path_limits limits) {
    path_range paths = enumerate_paths(graph, last, limits);
    return paths.next() ? paths.path().size() : 0;
  };
  CHECK_THROWS_WITH(first_path_length({}),
                    "chain.json: node 'c999999' has a path longer than 100000 nodes (path_limits::max_length)");
  path_limits almost;
  almost.max_length = 999'999;
  CHECK_THROWS_AS(first_path_length(almost), limit_error);
  path_limits enough;
  enough.max_length = 1'000'000;
  CHECK(first_path_length(enough) == 1'000'000);
  CHECK_THROWS_AS(make_target_table(graph, make_output_layout(graph)), limit_error);
}
