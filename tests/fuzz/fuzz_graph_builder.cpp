// Fuzz harness: graph_builder fed arbitrary calls — datasets, nodes of every
// kind (invalid ones included), edges between any names (self loops, cycles,
// undeclared names), groups with any members. build() must return a graph
// that satisfies every invariant or throw graph_error; never crash or hang.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "fuzz_support.hpp"
#include "labelgraph/paths/count.hpp"
#include "labelgraph/paths/output_layout.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace labelgraph;
  fuzz::byte_reader in(data, size);
  graph_builder builder("<fuzz>");
  // Names come from a small pool so that edges and groups hit declared nodes.
  const std::uint32_t pool = 2 + in.below(40);
  const auto name = [&]() {
    const std::uint32_t v = in.below(pool + 1);
    return v == pool ? std::string() : "n" + std::to_string(v);  // the empty name now and then
  };
  builder.add_dataset("d");
  std::size_t operations = 0;
  while (!in.at_end() && operations++ < 4096) {
    switch (in.byte() % 8) {
      case 0: builder.add_dataset(in.byte() % 4 == 0 ? std::string("d") : "e" + std::to_string(in.byte() % 3)); break;
      case 1:
      case 2: {
        const auto kind = static_cast<node_kind>(in.byte() % 4);  // 3 is not a valid kind
        std::vector<std::string> datasets;
        const std::uint32_t count = in.below(3);
        for (std::uint32_t i = 0; i < count; ++i) datasets.push_back(in.byte() % 2 ? "d" : "e1");
        builder.add_node(name(), kind, datasets);
        break;
      }
      case 3:
      case 4:
      case 5: {
        const std::string parent = name();
        builder.add_edge(parent, name());
        break;
      }
      case 6: {
        std::vector<std::string> members;
        const std::uint32_t count = in.below(5);
        for (std::uint32_t i = 0; i < count; ++i) members.push_back(name());
        builder.add_group("g" + std::to_string(in.byte() % 4), members);
        break;
      }
      default: {  // a chain, to reach depth quickly
        const std::uint32_t first = in.below(pool);
        const std::uint32_t length = in.below(pool);
        for (std::uint32_t i = 0; i < length && first + i + 1 < pool; ++i) {
          builder.add_edge("n" + std::to_string(first + i), "n" + std::to_string(first + i + 1));
        }
        break;
      }
    }
  }
  label_graph graph;
  try {
    graph = builder.build();
  } catch (const graph_error& problem) {
    fuzz::require(!problem.problems().empty(), "a graph_error lists at least one problem");
    fuzz::require(!builder.has_problems(), "build() leaves the builder empty");
    return 0;
  }
  fuzz::check_graph_invariants(graph);
  // Everything downstream of a valid graph must work on it.
  const output_layout layout = make_output_layout(graph);
  fuzz::require(layout.token_count() == graph.node_count(), "one token per non-root node plus EOP");
  for (std::uint32_t g = 0; g + 1 < layout.group_count(); ++g) {
    for (std::uint32_t t = layout.group_offset(g); t < layout.group_offset(g + 1); ++t) {
      fuzz::require(layout.token_group(t) == g, "every group is one contiguous token range");
    }
  }
  const path_counts counts = count_paths(graph);
  for (node_id v = 0; v < graph.node_count(); ++v) {
    fuzz::require(counts.overflowed(v) || counts.saturated(v) >= 1, "every node is reachable from the root");
  }
  return 0;
}
