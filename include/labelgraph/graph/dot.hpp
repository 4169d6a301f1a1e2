#pragma once
/// \file
/// `write_dot`: a label graph as Graphviz DOT text, drawn like the paper's
/// Figure 2 (root yellow, label nodes green, augmented nodes blue), with the
/// competing groups (Def. 3.1) shown as clusters or as fill colours, and
/// optionally the root-to-v paths of one node highlighted by their Def. 3.2 /
/// 3.3 class: edges on a deterministic path solid and bold, edges only on
/// nondeterministic paths dashed in another colour, all other edges faded.
///
/// Graphviz cannot lay out a graph like WordNet's 82,115 nouns usefully, so
/// `dot_options::max_nodes` refuses large graphs with a `limit_error` instead
/// of producing a file nobody can render.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <ostream>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "labelgraph/error.hpp"
#include "labelgraph/graph/label_graph.hpp"
#include "labelgraph/paths/classify.hpp"

namespace labelgraph {

/// How `write_dot` shows the competing groups.
enum class dot_group_display {
  /// Each group of two or more nodes is a `subgraph cluster_*` box named after
  /// the group; fill colours show the node kind.
  clusters,
  /// Each group of two or more nodes has its own fill colour, listed in a
  /// legend; the node kind is shown by shape and border colour.
  colors,
};

/// Options of `write_dot`.
struct dot_options {
  /// Groups as clusters (default) or as fill colours.
  dot_group_display groups = dot_group_display::clusters;
  /// Name of a node whose root-to-node paths are highlighted; empty: none.
  std::string highlight;
  /// Bounds on the paths of `highlight` (a `limit_error` when one is hit).
  path_limits highlight_limits{100'000, 10'000};
  /// Graphs with more nodes are refused with a `limit_error`.
  std::size_t max_nodes = 1'000;
  /// Lay the graph out left to right instead of top to bottom.
  bool left_to_right = false;
};

namespace detail {

/// `text` as the inside of a DOT double-quoted string: `"` and `\` escaped
/// (a lone `\` would start a Graphviz escape such as `\N`), line breaks as `\n`.
[[nodiscard]] inline std::string dot_escape(std::string_view text) {
  std::string escaped;
  escaped.reserve(text.size() + 2);
  for (char c : text) {
    switch (c) {
      case '"': escaped += "\\\""; break;
      case '\\': escaped += "\\\\"; break;
      case '\n': escaped += "\\n"; break;
      case '\r': break;
      default: escaped += c;
    }
  }
  return escaped;
}

/// `text` for a Graphviz HTML-like label.
[[nodiscard]] inline std::string dot_html_escape(std::string_view text) {
  std::string escaped;
  escaped.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&': escaped += "&amp;"; break;
      case '<': escaped += "&lt;"; break;
      case '>': escaped += "&gt;"; break;
      case '"': escaped += "&quot;"; break;
      case '\'': escaped += "&#39;"; break;
      default: escaped += c;
    }
  }
  return escaped;
}

/// The look of one node kind (the paper's Figure 2 colours).
struct dot_kind_style {
  std::string_view fill;    // light colour: fill in `clusters` mode
  std::string_view border;  // dark colour: border in `colors` mode
  std::string_view shape;
};

[[nodiscard]] constexpr dot_kind_style dot_style_of(node_kind kind) noexcept {
  switch (kind) {
    case node_kind::root: return {"#ffe066", "#c9a200", "doubleoctagon"};
    case node_kind::label: return {"#b2f2bb", "#2b8a3e", "box"};
    case node_kind::augmented: return {"#a5d8ff", "#1864ab", "ellipse"};
  }
  return {"#ffffff", "#000000", "box"};
}

/// A distinct light colour for the `index`-th colour-coded group: a fixed
/// qualitative palette first, then hues spaced by the golden angle.
[[nodiscard]] inline std::string dot_group_colour(std::size_t index) {
  static constexpr std::string_view palette[] = {
      "#8dd3c7", "#ffffb3", "#bebada", "#fb8072", "#80b1d3", "#fdb462", "#b3de69", "#fccde5",
      "#d9d9d9", "#bc80bd", "#ccebc5", "#ffed6f", "#fbb4ae", "#b3cde3", "#decbe4", "#fed9a6"};
  if (index < std::size(palette)) return std::string(palette[index]);
  const double golden = 0.6180339887498949;
  double hue = static_cast<double>(index) * golden;
  hue -= static_cast<double>(static_cast<std::uint64_t>(hue));
  char text[32];
  std::snprintf(text, sizeof text, "%.3f 0.35 0.97", hue);  // Graphviz "H S V"
  return text;
}

/// The class of an edge with respect to the highlighted node's paths.
enum class dot_edge_role : std::uint8_t { unrelated, nondeterministic, deterministic };

/// Role of every edge lying on a path of `target`: deterministic when it lies
/// on at least one deterministic path, else nondeterministic.
[[nodiscard]] inline std::unordered_map<std::uint64_t, dot_edge_role> dot_edge_roles(
    const label_graph& graph, node_id target, const path_limits& limits, std::size_t& deterministic_paths,
    std::size_t& nondeterministic_paths) {
  std::unordered_map<std::uint64_t, dot_edge_role> roles;
  deterministic_paths = nondeterministic_paths = 0;
  for (const auto& path : classify_paths(graph, target, limits)) {
    (path.deterministic ? deterministic_paths : nondeterministic_paths) += 1;
    const dot_edge_role role = path.deterministic ? dot_edge_role::deterministic : dot_edge_role::nondeterministic;
    node_id previous = no_node;
    for (node_id node : path.nodes) {
      if (previous != no_node) {
        dot_edge_role& known = roles[(std::uint64_t{previous} << 32) | node];
        if (role > known) known = role;
      }
      previous = node;
    }
  }
  return roles;
}

/// One row of the HTML legend: a coloured cell and its caption.
inline void dot_legend_row(std::ostream& out, std::string_view colour, std::string_view caption) {
  out << "      <tr><td bgcolor=\"" << colour << "\" width=\"24\"></td><td align=\"left\">"
      << dot_html_escape(caption) << "</td></tr>\n";
}

}  // namespace detail

/// Writes `graph` as a Graphviz `digraph` (render with `dot -Tpng`). Node
/// identifiers are `n<id>`; names appear, escaped, as labels. Throws
/// `limit_error` when the graph has more than `options.max_nodes` nodes or the
/// highlighted node has more paths than `options.highlight_limits` allows, and
/// `argument_error` for an empty graph or an unknown `highlight` name.
inline void write_dot(std::ostream& out, const label_graph& graph, const dot_options& options = {}) {
  if (graph.empty()) LABELGRAPH_THROW(argument_error("write_dot: the label graph is empty"));
  const std::string source = graph.source().empty() ? std::string() : graph.source() + ": ";
  if (graph.node_count() > options.max_nodes) {
    LABELGRAPH_THROW(limit_error(source + "write_dot: the graph has " + std::to_string(graph.node_count()) +
                                 " nodes, more than dot_options::max_nodes = " + std::to_string(options.max_nodes) +
                                 "; Graphviz cannot lay out a graph this large readably (raise max_nodes to try anyway)"));
  }
  using detail::dot_escape;
  const bool coloured_groups = options.groups == dot_group_display::colors;

  // Groups that can compete (two or more members) get a cluster or a colour.
  std::vector<std::string> group_colour(graph.group_count());
  std::vector<group_id> shown_groups;
  for (group_id g = 0; g < graph.group_count(); ++g) {
    if (graph.group_members(g).size() < 2) continue;
    group_colour[g] = detail::dot_group_colour(shown_groups.size());
    shown_groups.push_back(g);
  }

  node_id highlighted = no_node;
  std::unordered_map<std::uint64_t, detail::dot_edge_role> roles;
  std::size_t deterministic_paths = 0, nondeterministic_paths = 0;
  if (!options.highlight.empty()) {
    highlighted = graph.at(options.highlight);
    roles = detail::dot_edge_roles(graph, highlighted, options.highlight_limits, deterministic_paths,
                                   nondeterministic_paths);
  }

  out << "digraph \"labelgraph\" {\n";
  out << "  // " << dot_escape(graph.source().empty() ? std::string("label graph") : graph.source()) << ": "
      << graph.node_count() << " nodes, " << graph.edge_count() << " edges, " << graph.group_count()
      << " groups\n";
  if (highlighted != no_node) {
    out << "  // highlight " << dot_escape(options.highlight) << ": " << deterministic_paths
        << " deterministic, " << nondeterministic_paths << " nondeterministic paths\n";
  }
  out << "  graph [rankdir=" << (options.left_to_right ? "LR" : "TB")
      << ", fontname=\"Helvetica\", nodesep=0.25, ranksep=0.6];\n"
      << "  node [style=\"filled\", fontname=\"Helvetica\", fontsize=11];\n"
      << "  edge [color=\"#495057\", arrowsize=0.6];\n";

  auto write_node = [&](node_id node, std::string_view indent) {
    const detail::dot_kind_style style = detail::dot_style_of(graph.kind(node));
    const group_id g = graph.group(node);
    const bool grouped_colour = coloured_groups && g != no_group && !group_colour[g].empty();
    out << indent << 'n' << node << " [label=\"" << dot_escape(graph.name(node)) << "\", shape=" << style.shape;
    if (coloured_groups) {
      out << ", fillcolor=\"" << (grouped_colour ? std::string_view(group_colour[g]) : std::string_view("#ffffff"))
          << "\", color=\"" << style.border << "\", penwidth=2";
    } else {
      out << ", fillcolor=\"" << style.fill << "\"";
    }
    if (node == highlighted) out << ", peripheries=2, fontcolor=\"#c92a2a\"";
    out << "];\n";
  };

  if (coloured_groups) {
    for (node_id node = 0; node < graph.node_count(); ++node) write_node(node, "  ");
  } else {
    write_node(graph.root(), "  ");
    for (group_id g = 0; g < graph.group_count(); ++g) {
      const bool cluster = graph.group_members(g).size() >= 2;
      if (cluster) {
        out << "  subgraph \"cluster_g" << g << "\" {\n    label=\"" << dot_escape(graph.group_name(g))
            << "\"; style=\"rounded,dashed\"; color=\"#868e96\"; fontcolor=\"#495057\"; fontsize=10;\n";
      }
      for (node_id node : graph.group_members(g)) write_node(node, cluster ? "    " : "  ");
      if (cluster) out << "  }\n";
    }
  }

  for (node_id parent = 0; parent < graph.node_count(); ++parent) {
    for (node_id child : graph.children(parent)) {
      out << "  n" << parent << " -> n" << child;
      if (highlighted != no_node) {
        auto it = roles.find((std::uint64_t{parent} << 32) | child);
        const detail::dot_edge_role role = it == roles.end() ? detail::dot_edge_role::unrelated : it->second;
        switch (role) {
          case detail::dot_edge_role::deterministic:
            out << " [style=bold, color=\"#2b8a3e\", penwidth=2.5]";
            break;
          case detail::dot_edge_role::nondeterministic:
            out << " [style=dashed, color=\"#e8590c\", penwidth=1.8]";
            break;
          case detail::dot_edge_role::unrelated:
            out << " [color=\"#ced4da\"]";
            break;
        }
      }
      out << ";\n";
    }
  }

  // Legend: node kinds, group colours, highlight edge styles.
  out << "  subgraph \"cluster_legend\" {\n    label=\"legend\"; style=\"rounded\"; color=\"#adb5bd\"; fontsize=10;\n"
      << "    legend [shape=plaintext, style=\"\", label=<\n"
      << "      <table border=\"0\" cellborder=\"1\" cellspacing=\"0\" cellpadding=\"3\">\n";
  for (node_kind kind : {node_kind::root, node_kind::label, node_kind::augmented}) {
    const detail::dot_kind_style style = detail::dot_style_of(kind);
    detail::dot_legend_row(out, coloured_groups ? style.border : style.fill,
                           std::string(to_string(kind)) + " node (" + std::string(style.shape) + ")");
  }
  if (coloured_groups) {
    for (group_id g : shown_groups) detail::dot_legend_row(out, group_colour[g], "group " + std::string(graph.group_name(g)));
  }
  if (highlighted != no_node) {
    detail::dot_legend_row(out, "#2b8a3e", "bold: on a deterministic path of " + options.highlight);
    detail::dot_legend_row(out, "#e8590c", "dashed: only on nondeterministic paths of " + options.highlight);
  }
  out << "      </table>>];\n  }\n}\n";
}

}  // namespace labelgraph
