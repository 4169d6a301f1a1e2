#pragma once
/// \file
/// What the example trainers need to know about a label graph: the graph, its
/// output layout and target table, the ground-truth sets S(y) (Eq. 3), which
/// labels have nondeterministic paths, and which label nodes are the *fine*
/// classes a model is scored on. Each experiment fills `graph` and
/// `fine_node`, then calls `complete_label_space`.

#include <algorithm>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "labelgraph/graph/graph_builder.hpp"
#include "labelgraph/graph/label_graph.hpp"
#include "labelgraph/paths/ground_truth.hpp"
#include "labelgraph/paths/output_layout.hpp"
#include "labelgraph/paths/target_table.hpp"
#include "checkpoint.hpp"

namespace labelgraph::examples {

/// Graph, layout, targets and class maps of one run.
struct path_label_space {
  label_graph graph;
  output_layout layout;
  target_table table;
  std::uint64_t hash = 0;                   ///< graph_hash(graph), for checkpoints
  std::vector<node_id> fine_node;           ///< class index -> its fine label node
  std::vector<std::vector<node_id>> truth;  ///< S(y) of every label node (Eq. 3), empty for others
  std::vector<std::uint8_t> uncertain;      ///< 1 for labels with a nondeterministic path (the I_pg samples)
  std::vector<int> class_of_node;           ///< node -> class index, −1 for non-fine nodes

  /// What is left of a label's paths when the sample is known to pass a node.
  struct known_paths {
    std::vector<path_index> deterministic;  ///< deterministic among the paths through the node
    bool uncertain = false;                 ///< some path through the node is nondeterministic among them
    std::vector<node_id> truth;             ///< label nodes on the paths through the node (S of Eq. 3), sorted
  };

  /// Def. 3.2 / 3.3 restricted to the paths of `label` through `via`: a
  /// fine-labelled sample whose coarse label is known too (the paper's Arxiv
  /// Original: "cs.AI" implies "cs") has only those as candidates, so a path
  /// that competes only with paths through other coarse labels is certain.
  [[nodiscard]] known_paths paths_through(node_id label, node_id via) const {
    const token_id via_token = layout.token(via);
    std::vector<path_index> candidates;
    for (path_index p : table.paths_of(label)) {
      const auto tokens = table.tokens(p);
      if (std::find(tokens.begin(), tokens.end(), via_token) != tokens.end()) candidates.push_back(p);
    }
    if (candidates.empty()) {
      LABELGRAPH_THROW(argument_error("no path of \"" + std::string(graph.name(label)) + "\" passes \"" +
                                      std::string(graph.name(via)) + "\""));
    }
    const auto nodes_of = [&](path_index p) {
      std::vector<node_id> nodes;
      for (token_id t : table.tokens(p)) {
        if (t != layout.eop()) nodes.push_back(layout.node(t));
      }
      return nodes;
    };
    known_paths known;
    for (path_index p : candidates) {
      const std::vector<node_id> mine = nodes_of(p);
      bool contested = false;
      for (path_index q : candidates) {
        if (q == p || contested) continue;
        for (node_id w : nodes_of(q)) {
          for (node_id u : mine) contested = contested || graph.competes(u, w);
        }
      }
      if (contested) {
        known.uncertain = true;
      } else {
        known.deterministic.push_back(p);
      }
      for (node_id v : mine) {
        if (graph.is_label(v)) known.truth.push_back(v);
      }
    }
    std::sort(known.truth.begin(), known.truth.end());
    known.truth.erase(std::unique(known.truth.begin(), known.truth.end()), known.truth.end());
    return known;
  }

  /// Deterministic paths of `label`.
  [[nodiscard]] std::vector<path_index> deterministic_paths(node_id label) const {
    std::vector<path_index> paths;
    for (path_index p : table.paths_of(label)) {
      if (table.deterministic(p)) paths.push_back(p);
    }
    return paths;
  }
};

/// Fills everything but `graph` and `fine_node`: layout, target table, hash,
/// S(y) and the uncertain flag of every label, and `class_of_node`.
inline void complete_label_space(path_label_space& space) {
  const label_graph& g = space.graph;
  space.layout = make_output_layout(g);
  space.table = make_target_table(g, space.layout);
  space.hash = graph_hash(g);
  ancestor_walk walk(g);
  space.truth.assign(g.node_count(), {});
  space.uncertain.assign(g.node_count(), 0);
  space.class_of_node.assign(g.node_count(), -1);
  for (node_id v = 0; v < g.node_count(); ++v) {
    if (!g.is_label(v)) continue;
    space.truth[v] = ground_truth_set(walk, v);
    for (path_index p : space.table.paths_of(v)) {
      if (!space.table.deterministic(p)) space.uncertain[v] = 1;
    }
  }
  for (std::size_t c = 0; c < space.fine_node.size(); ++c) space.class_of_node[space.fine_node[c]] = static_cast<int>(c);
}

/// The flat graph of the baselines: a root with the fine labels of `graph`
/// (`fine`, in class order) as children, all in one group.
[[nodiscard]] inline label_graph make_flat_graph(const label_graph& graph, std::span<const node_id> fine) {
  graph_builder builder("flat " + std::to_string(fine.size()) + "-class graph");
  builder.add_dataset("fine");
  builder.add_node("flat-root", node_kind::root);
  for (node_id v : fine) {
    builder.add_node(std::string(graph.name(v)), node_kind::label, {"fine"});
    builder.add_edge("flat-root", graph.name(v));
  }
  return builder.build();
}

}  // namespace labelgraph::examples
