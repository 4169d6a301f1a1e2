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
#include "fashion_data.hpp"
#include "path_label_space.hpp"

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

/// The fusion experiment's label space: the generic one plus each class's coarse label.
struct fashion_label_space : path_label_space {
  std::array<node_id, 10> coarse_node{};  ///< class index -> its coarse label node (dataset fashion-coarse)
};

/// Loads the graph file, trims it, and checks that it names the ten classes
/// (dataset `fashion-fine`) and gives each exactly one coarse ancestor-or-self
/// in dataset `fashion-coarse`.
[[nodiscard]] inline fashion_label_space make_label_space(const std::filesystem::path& graph_file, double trim) {
  fashion_label_space space;
  space.graph = trim_augmented(read_graph_json(graph_file), trim);
  const label_graph& g = space.graph;
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
  space.fine_node.resize(fashion_class_names.size());
  for (std::size_t c = 0; c < fashion_class_names.size(); ++c) {
    const node_id v = g.find(fashion_class_names[c]);
    if (v == no_node || !g.is_label(v) || !in(v, fine)) {
      LABELGRAPH_THROW(error(graph_file.string() + ": class " + std::to_string(c) + " needs a label node \"" +
                             fashion_class_names[c] + "\" in dataset fashion-fine"));
    }
    space.fine_node[c] = v;
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
  complete_label_space(space);
  return space;
}

}  // namespace labelgraph::examples
