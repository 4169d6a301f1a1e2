#pragma once
/// \file
/// The label space of the fusion experiment: the label graph (optionally
/// trimmed), its output layout and target table, and the maps between the
/// dataset's class indices and graph nodes.
///
/// Trimming rule (the paper's Table 4 "medium" / "small" graphs): remove the
/// last k = round(fraction · A) augmented nodes in declaration order (A = the
/// graph's augmented node count). examples/graphs/fashion.json declares its
/// attribute groups two nodes at a time, least important group last, so 0.36
/// removes the `heel` and `upper` groups (4 of 10) and 0.63 also `shaft` (6 of
/// 10). A removed node is spliced out: each child gets the removed node's
/// nearest kept ancestors as parents; declared groups keep their remaining members.

#include <array>
#include <cmath>
#include <string>
#include <vector>

#include "labelgraph/graph/graph_builder.hpp"
#include "labelgraph/graph/label_graph.hpp"
#include "labelgraph/paths/ground_truth.hpp"
#include "labelgraph/paths/output_layout.hpp"
#include "labelgraph/paths/target_table.hpp"
#include "checkpoint.hpp"
#include "fashion_data.hpp"

namespace labelgraph::examples {

/// `graph` without its last round(fraction · A) augmented nodes (see the file comment).
[[nodiscard]] inline label_graph trim_augmented(const label_graph& graph, double fraction) {
  std::vector<node_id> augmented;
  for (node_id v = 0; v < graph.node_count(); ++v) {
    if (graph.kind(v) == node_kind::augmented) augmented.push_back(v);
  }
  const auto remove_count = static_cast<std::size_t>(std::lround(fraction * static_cast<double>(augmented.size())));
  if (remove_count == 0) return graph;
  std::vector<bool> removed(graph.node_count(), false);
  for (std::size_t i = augmented.size() - std::min(remove_count, augmented.size()); i < augmented.size(); ++i) {
    removed[augmented[i]] = true;
  }
  graph_builder builder(graph.source() + " (trimmed " + std::to_string(remove_count) + " of " +
                        std::to_string(augmented.size()) + " augmented nodes)");
  for (dataset_id d = 0; d < graph.dataset_count(); ++d) builder.add_dataset(std::string(graph.dataset_name(d)));
  for (node_id v = 0; v < graph.node_count(); ++v) {
    if (removed[v]) continue;
    std::vector<std::string> datasets;
    for (dataset_id d : graph.datasets(v)) datasets.emplace_back(graph.dataset_name(d));
    builder.add_node(std::string(graph.name(v)), graph.kind(v), datasets);
  }
  // kept_parents(v): v's parents, a removed parent replaced by its own kept parents (topological order: iterative).
  std::vector<std::vector<node_id>> kept_parents(graph.node_count());
  for (node_id v : graph.topological_order()) {
    std::vector<node_id>& mine = kept_parents[v];
    for (node_id p : graph.parents(v)) {
      if (removed[p]) {
        mine.insert(mine.end(), kept_parents[p].begin(), kept_parents[p].end());
      } else {
        mine.push_back(p);
      }
    }
    std::sort(mine.begin(), mine.end());
    mine.erase(std::unique(mine.begin(), mine.end()), mine.end());
    if (!removed[v]) {
      for (node_id p : mine) builder.add_edge(graph.name(p), graph.name(v));
    }
  }
  for (group_id g = 0; g < graph.group_count(); ++g) {
    if (!graph.group_declared(g)) continue;
    std::vector<std::string> members;
    for (node_id v : graph.group_members(g)) {
      if (!removed[v]) members.emplace_back(graph.name(v));
    }
    if (!members.empty()) builder.add_group(std::string(graph.group_name(g)), members);
  }
  return builder.build();
}

/// Graph, layout, targets and class maps of one run.
struct fashion_label_space {
  label_graph graph;
  output_layout layout;
  target_table table;
  std::uint64_t hash = 0;                   ///< graph_hash(graph), for checkpoints
  std::array<node_id, 10> fine_node{};      ///< class index -> its fine label node
  std::array<node_id, 10> coarse_node{};    ///< class index -> its coarse label node (dataset fashion-coarse)
  std::vector<std::vector<node_id>> truth;  ///< S(y) of every label node (Eq. 3), empty for others
  std::vector<std::uint8_t> uncertain;      ///< 1 for labels with a nondeterministic path (the I_pg samples)
  std::vector<int> class_of_node;           ///< node -> class index, −1 for non-fine nodes

  /// Deterministic paths of `label`.
  [[nodiscard]] std::vector<path_index> deterministic_paths(node_id label) const {
    std::vector<path_index> paths;
    for (path_index p : table.paths_of(label)) {
      if (table.deterministic(p)) paths.push_back(p);
    }
    return paths;
  }
};

/// Loads the graph file, trims it, and checks that it names the ten classes
/// (dataset `fashion-fine`) and gives each exactly one coarse ancestor-or-self
/// in dataset `fashion-coarse`.
[[nodiscard]] inline fashion_label_space make_label_space(const std::filesystem::path& graph_file, double trim) {
  fashion_label_space space;
  space.graph = trim_augmented(read_graph_json(graph_file), trim);
  const label_graph& g = space.graph;
  space.layout = make_output_layout(g);
  space.table = make_target_table(g, space.layout);
  space.hash = graph_hash(g);
  const auto dataset = [&](std::string_view name) {
    for (dataset_id d = 0; d < g.dataset_count(); ++d) {
      if (g.dataset_name(d) == name) return d;
    }
    LABELGRAPH_THROW(error(graph_file.string() + ": the graph declares no dataset \"" + std::string(name) + "\""));
  };
  const dataset_id fine = dataset("fashion-fine");
  const dataset_id coarse = dataset("fashion-coarse");
  const auto in = [&](node_id v, dataset_id d) {
    const auto ds = g.datasets(v);
    return std::find(ds.begin(), ds.end(), d) != ds.end();
  };
  ancestor_walk walk(g);
  space.truth.resize(g.node_count());
  space.uncertain.assign(g.node_count(), 0);
  space.class_of_node.assign(g.node_count(), -1);
  for (node_id v = 0; v < g.node_count(); ++v) {
    if (!g.is_label(v)) continue;
    space.truth[v] = ground_truth_set(walk, v);
    for (path_index p : space.table.paths_of(v)) {
      if (!space.table.deterministic(p)) space.uncertain[v] = 1;
    }
  }
  for (std::size_t c = 0; c < fashion_class_names.size(); ++c) {
    const node_id v = g.find(fashion_class_names[c]);
    if (v == no_node || !g.is_label(v) || !in(v, fine)) {
      LABELGRAPH_THROW(error(graph_file.string() + ": class " + std::to_string(c) + " needs a label node \"" +
                             fashion_class_names[c] + "\" in dataset fashion-fine"));
    }
    space.fine_node[c] = v;
    space.class_of_node[v] = static_cast<int>(c);
    node_id found = no_node;
    for (node_id u : walk.path_nodes(v)) {
      if (g.is_label(u) && in(u, coarse)) {
        if (found != no_node) {
          LABELGRAPH_THROW(error(graph_file.string() + ": class \"" + fashion_class_names[c] +
                                 "\" has two coarse ancestors (\"" + std::string(g.name(found)) + "\", \"" +
                                 std::string(g.name(u)) + "\")"));
        }
        found = u;
      }
    }
    if (found == no_node) {
      LABELGRAPH_THROW(error(graph_file.string() + ": class \"" + fashion_class_names[c] +
                             "\" has no ancestor-or-self in dataset fashion-coarse"));
    }
    space.coarse_node[c] = found;
  }
  return space;
}

/// The flat graph of the baselines: root -> the ten classes (one group).
[[nodiscard]] inline label_graph make_flat_graph() {
  graph_builder builder("flat ten-class graph");
  builder.add_dataset("fashion-fine");
  builder.add_node("fashion-item", node_kind::root);
  for (const char* name : fashion_class_names) {
    builder.add_node(name, node_kind::label, {"fashion-fine"});
    builder.add_edge("fashion-item", name);
  }
  return builder.build();
}

}  // namespace labelgraph::examples
