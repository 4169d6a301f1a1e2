#pragma once
/// \file
/// Argument checks shared by the path algorithms: a usable graph and a node
/// id inside it, reported as `argument_error` naming the graph's source.

#include <string>
#include <string_view>

#include "labelgraph/error.hpp"
#include "labelgraph/graph/label_graph.hpp"

namespace labelgraph::detail {

/// "pets.json: " or "" when the graph has no recorded source.
[[nodiscard]] inline std::string source_prefix(const label_graph& graph) {
  return graph.source().empty() ? std::string() : graph.source() + ": ";
}

/// "node 'cat'": how every message of this folder names a node.
[[nodiscard]] inline std::string node_phrase(const label_graph& graph, node_id node) {
  return "node '" + std::string(graph.name(node)) + "'";
}

/// The `argument_error` of `check_node`; out of line, so that the check itself
/// stays a compare and a branch where it is inlined (once per target in the
/// re-targeted loops over every label).
[[noreturn]] [[gnu::noinline]] [[gnu::cold]] inline void throw_bad_node(const label_graph& graph, node_id node,
                                                                       std::string_view caller) {
  if (graph.empty()) {
    LABELGRAPH_THROW(argument_error(std::string(caller) + ": the label graph is empty (not made by graph_builder::build)"));
  }
  LABELGRAPH_THROW(argument_error(source_prefix(graph) + std::string(caller) + ": node id " + std::to_string(node) +
                                  " is outside the graph (" + std::to_string(graph.node_count()) + " nodes)"));
}

/// Throws `argument_error` unless `graph` was built and `node` is one of its nodes.
inline void check_node(const label_graph& graph, node_id node, std::string_view caller) {
  if (node >= graph.node_count()) [[unlikely]] throw_bad_node(graph, node, caller);  // also when empty: 0 nodes
}

}  // namespace labelgraph::detail
