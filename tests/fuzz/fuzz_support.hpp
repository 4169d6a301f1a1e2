#pragma once
/// \file
/// Shared pieces of the fuzz harnesses (tests/fuzz): a byte reader that turns
/// fuzzer input into choices, a generator of mostly-valid random DAGs, and the
/// invariant check that aborts (so libFuzzer records the input) when a
/// property the library promises does not hold.
///
/// A harness defines `LLVMFuzzerTestOneInput`. Built with clang and
/// `-fsanitize=fuzzer` it is a libFuzzer target; built with any compiler and
/// `replay_main.cpp` it replays corpus files, which is how the seed corpora and
/// every regression input run in the ordinary test suite.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "labelgraph/graph/graph_builder.hpp"
#include "labelgraph/graph/label_graph.hpp"

namespace labelgraph::fuzz {

/// Aborts with a message when an invariant fails: libFuzzer saves the input.
inline void require(bool condition, const char* what) {
  if (!condition) {
    std::fprintf(stderr, "fuzz invariant violated: %s\n", what);
    std::abort();
  }
}

/// Reads choices from the fuzzer's bytes; past the end every read returns 0.
class byte_reader {
public:
  byte_reader(const std::uint8_t* data, std::size_t size) noexcept : data_(data), size_(size) {}

  /// One byte.
  std::uint8_t byte() noexcept { return position_ < size_ ? data_[position_++] : 0; }
  /// A value in [0, bound) (bound > 0), from two bytes.
  std::uint32_t below(std::uint32_t bound) noexcept {
    const auto value = static_cast<std::uint32_t>(byte()) | static_cast<std::uint32_t>(byte()) << 8;
    return value % bound;
  }
  /// True when no byte is left.
  [[nodiscard]] bool at_end() const noexcept { return position_ >= size_; }

private:
  const std::uint8_t* data_;
  std::size_t size_;
  std::size_t position_ = 0;
};

/// A random DAG fed to a `graph_builder`: node 0 is the root, node i > 0 gets
/// 1-3 parents among the nodes before it (so it is acyclic and connected),
/// kinds label / augmented, and a few declared groups of random members.
/// Declared groups may break the ancestor rule on purpose: `build()` must
/// then throw `graph_error`, never crash.
struct random_dag {
  std::size_t nodes = 0;
  std::vector<std::pair<std::uint32_t, std::uint32_t>> edges;
  std::vector<bool> label;
  std::vector<std::vector<std::uint32_t>> groups;

  /// Draws the graph from `in`; at most `max_nodes` nodes.
  static random_dag draw(byte_reader& in, std::uint32_t max_nodes) {
    random_dag dag;
    dag.nodes = 2 + in.below(max_nodes - 1);
    dag.label.assign(dag.nodes, false);
    for (std::uint32_t v = 1; v < dag.nodes; ++v) {
      const std::uint8_t shape = in.byte();
      dag.label[v] = (shape & 1) == 0;
      const std::uint32_t parents = 1 + (shape >> 1) % 3;
      std::vector<std::uint32_t> chosen;
      for (std::uint32_t p = 0; p < parents; ++p) {
        // Parents near v make deep graphs, parents near the root wide ones.
        const std::uint32_t parent = (shape & 0x40) ? v - 1 - in.below(std::min<std::uint32_t>(v, 3)) : in.below(v);
        bool repeated = false;
        for (std::uint32_t c : chosen) repeated = repeated || c == parent;
        if (!repeated) {
          chosen.push_back(parent);
          dag.edges.emplace_back(parent, v);
        }
      }
    }
    const std::uint32_t group_count = in.below(4);
    std::vector<bool> grouped(dag.nodes, false);
    for (std::uint32_t g = 0; g < group_count; ++g) {
      std::vector<std::uint32_t> members;
      const std::uint32_t size = 1 + in.below(4);
      for (std::uint32_t m = 0; m < size; ++m) {
        const std::uint32_t v = 1 + in.below(static_cast<std::uint32_t>(dag.nodes - 1));
        if (!grouped[v]) {
          grouped[v] = true;
          members.push_back(v);
        }
      }
      if (!members.empty()) dag.groups.push_back(std::move(members));
    }
    return dag;
  }

  /// "n<i>".
  [[nodiscard]] static std::string name(std::uint32_t v) { return "n" + std::to_string(v); }

  /// Builds it; throws `graph_error` when a declared group breaks a rule.
  [[nodiscard]] label_graph build() const {
    graph_builder builder("<fuzz>");
    builder.add_dataset("d");
    for (std::uint32_t v = 0; v < nodes; ++v) {
      if (v == 0) {
        builder.add_node(name(v), node_kind::root);
      } else if (label[v]) {
        builder.add_node(name(v), node_kind::label, {"d"});
      } else {
        builder.add_node(name(v), node_kind::augmented);
      }
    }
    for (const auto& [parent, child] : edges) builder.add_edge(name(parent), name(child));
    for (std::size_t g = 0; g < groups.size(); ++g) {
      std::vector<std::string> members;
      for (std::uint32_t v : groups[g]) members.push_back(name(v));
      builder.add_group("g" + std::to_string(g), members);
    }
    return builder.build();
  }
};

/// Checks the structural promises of a built graph: one root, parents before
/// children in the topological order, children / parents mirror each other,
/// every non-root node in exactly one group, `competes` symmetric.
inline void check_graph_invariants(const label_graph& graph) {
  const std::size_t n = graph.node_count();
  require(n >= 1, "a built graph has a node");
  require(graph.kind(graph.root()) == node_kind::root, "the root has kind root");
  require(graph.parents(graph.root()).empty(), "the root has no parent");
  std::vector<std::size_t> position(n, n);
  const auto order = graph.topological_order();
  require(order.size() == n, "the topological order lists every node");
  for (std::size_t i = 0; i < order.size(); ++i) position[order[i]] = i;
  std::size_t edges = 0;
  for (node_id v = 0; v < n; ++v) {
    require(position[v] < n, "every node is in the topological order once");
    if (v != graph.root()) {
      require(graph.kind(v) != node_kind::root, "exactly one root");
      require(!graph.parents(v).empty(), "every non-root node has a parent");
      require(graph.group(v) != no_group, "every non-root node has a group");
    }
    for (node_id child : graph.children(v)) {
      ++edges;
      require(position[v] < position[child], "a parent comes before its child");
      bool mirrored = false;
      for (node_id parent : graph.parents(child)) mirrored = mirrored || parent == v;
      require(mirrored, "children and parents mirror each other");
    }
  }
  require(edges == graph.edge_count(), "edge_count counts the children lists");
  for (group_id g = 0; g < graph.group_count(); ++g) {
    for (node_id member : graph.group_members(g)) require(graph.group(member) == g, "a group's members point back to it");
  }
  for (node_id u = 0; u < n && u < 64; ++u) {
    for (node_id w = 0; w < n && w < 64; ++w) require(graph.competes(u, w) == graph.competes(w, u), "competes is symmetric");
  }
}

}  // namespace labelgraph::fuzz
