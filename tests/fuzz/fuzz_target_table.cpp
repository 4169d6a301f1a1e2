// Fuzz harness: target building (make_output_layout + make_target_table) on
// random DAGs with random declared groups and random path limits. The table
// must agree with the path counts, every token sequence must be a real
// root-to-label path followed by EOP, and every Def. 3.3 flag must match a
// brute-force check over all pairs of paths of the label; a limit that is
// broken (max_paths per label, max_tokens for the table) must be refused with
// limit_error, and only then.
#include <cstddef>
#include <cstdint>
#include <set>
#include <span>
#include <vector>

#include "fuzz_support.hpp"
#include "labelgraph/paths/count.hpp"
#include "labelgraph/paths/enumerate.hpp"
#include "labelgraph/paths/output_layout.hpp"
#include "labelgraph/paths/target_table.hpp"

namespace {

using namespace labelgraph;

/// Def. 3.3 by brute force: path i of `paths` is nondeterministic iff some
/// path of the same label holds a node that competes with a node of path i.
bool brute_force_deterministic(const label_graph& graph, const std::vector<std::vector<node_id>>& paths, std::size_t i) {
  for (const auto& other : paths) {
    for (node_id u : paths[i]) {
      for (node_id w : other) {
        if (graph.competes(u, w)) return false;
      }
    }
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz::byte_reader in(data, size);
  const fuzz::random_dag dag = fuzz::random_dag::draw(in, 24);
  path_limits limits;
  limits.max_paths = 1 + in.below(64);
  limits.max_tokens = in.below(2) == 0 ? path_limits{}.max_tokens : 1 + in.below(2000);
  label_graph graph;
  try {
    graph = dag.build();
  } catch (const graph_error&) {
    return 0;  // a declared group broke a rule
  }
  const output_layout layout = make_output_layout(graph);
  const path_counts counts = count_paths(graph);
  bool over_limit = false;
  std::uint64_t expected_paths = 0;
  for (node_id v = 0; v < graph.node_count(); ++v) {
    if (!graph.is_label(v)) continue;
    if (counts.overflowed(v) || counts.saturated(v) > limits.max_paths) over_limit = true;
    expected_paths += counts.saturated(v);
  }
  // Tokens of the table by brute force: a path of |P| nodes (root included) is |P| tokens (EOP included).
  std::uint64_t expected_tokens = 0;
  if (!over_limit) {
    for (node_id v = 0; v < graph.node_count(); ++v) {
      if (!graph.is_label(v)) continue;
      for (std::span<const node_id> path : enumerate_paths(graph, v)) expected_tokens += path.size();
    }
    over_limit = expected_tokens > limits.max_tokens;
  }
  target_table table;
  try {
    table = make_target_table(graph, layout, limits);
  } catch (const limit_error&) {
    fuzz::require(over_limit, "limit_error only when a label has more than max_paths paths or the table too many tokens");
    return 0;
  }
  fuzz::require(!over_limit, "a label over max_paths or a table over max_tokens is refused");
  fuzz::require(table.token_count() == expected_tokens, "the table holds the counted tokens");
  fuzz::require(table.path_count() == expected_paths, "the table holds every path of every label");
  for (node_id y = 0; y < graph.node_count(); ++y) {
    const path_index_range paths = table.paths_of(y);
    fuzz::require(graph.is_label(y) || paths.empty(), "only labels have paths");
    std::vector<std::vector<node_id>> as_nodes;
    std::set<std::vector<token_id>> distinct;
    for (path_index p : paths) {
      const auto tokens = table.tokens(p);
      fuzz::require(table.label(p) == y, "a path belongs to its label");
      fuzz::require(!tokens.empty() && tokens.back() == layout.eop(), "a token sequence ends with EOP");
      fuzz::require(tokens.size() <= table.max_length(), "max_length bounds every path");
      std::vector<node_id> nodes{graph.root()};
      for (std::size_t i = 0; i + 1 < tokens.size(); ++i) {
        fuzz::require(tokens[i] < layout.eop(), "only the last token is EOP");
        const node_id v = layout.node(tokens[i]);
        bool edge = false;
        for (node_id child : graph.children(nodes.back())) edge = edge || child == v;
        fuzz::require(edge, "consecutive path nodes are joined by an edge");
        nodes.push_back(v);
      }
      fuzz::require(nodes.back() == y, "a path ends at its label");
      fuzz::require(distinct.insert({tokens.begin(), tokens.end()}).second, "paths are distinct");
      as_nodes.push_back(std::move(nodes));
    }
    std::size_t i = 0;
    for (path_index p : paths) {
      fuzz::require(table.deterministic(p) == brute_force_deterministic(graph, as_nodes, i++),
                    "the Def. 3.3 flag matches brute force");
    }
  }
  return 0;
}
