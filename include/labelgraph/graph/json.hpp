#pragma once
/// \file
/// The labelgraph/1 JSON graph format (docs/graph-format.md):
/// `read_graph_json`, `read_graph_json_string` and `write_graph_json`.
///
/// The reader streams: nlohmann's iterative SAX parser drives a schema-checking
/// handler that feeds a `graph_builder` directly, so no document tree is ever
/// built, a 1,000,000-node file costs memory linear in the graph, and nested
/// garbage cannot overflow the stack. Every item carries its file, line and
/// JSON pointer into the messages (`pets.json:14: /edges/3: ...`).

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <ostream>
#include <queue>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "labelgraph/error.hpp"
#include "labelgraph/graph/detail/json_graph_handler.hpp"
#include "labelgraph/graph/detail/json_input.hpp"
#include "labelgraph/graph/graph_builder.hpp"
#include "labelgraph/graph/label_graph.hpp"

namespace labelgraph {

namespace detail {

/// Runs the SAX parse of `source` into a builder and returns the graph, or
/// throws `graph_error`: the syntax error alone, the format error alone, or
/// every schema and graph problem together.
template <class Source>
label_graph read_graph_json_from(Source& bytes, const std::string& source_name) {
  read_position position;
  graph_builder builder(source_name);
  graph_json_handler handler(builder, source_name, position);
  line_counting_iterator<Source> first(bytes, position);
  line_counting_iterator<Source> last;
  nlohmann::json::sax_parse(first, last, &handler, nlohmann::json::input_format_t::json, /*strict=*/true);
  if constexpr (std::is_same_v<Source, file_bytes>) {
    if (bytes.error() != 0) {
      LABELGRAPH_THROW(graph_error(
          graph_problem{{}, "cannot read " + in_quotes(source_name) + ": " + std::strerror(bytes.error()), {}}));
    }
  }
  if (handler.syntax_error()) LABELGRAPH_THROW(graph_error(*handler.syntax_error()));
  if (handler.format_error()) LABELGRAPH_THROW(graph_error(*handler.format_error()));
  handler.finish();
  return builder.build();
}

/// Writes `text` as a JSON string. Printable ASCII (nearly every name) goes
/// out directly; anything else through nlohmann's serializer, which escapes
/// it and rejects bytes that are not UTF-8.
inline void write_json_string(std::ostream& out, std::string_view text, std::string_view what) {
  const bool plain = std::all_of(text.begin(), text.end(), [](char c) {
    auto byte = static_cast<unsigned char>(c);
    return byte >= 0x20 && byte < 0x7f && c != '"' && c != '\\';
  });
  if (plain) {
    out << '"' << text << '"';
    return;
  }
  try {
    out << nlohmann::json(std::string(text)).dump(-1, ' ', false, nlohmann::json::error_handler_t::strict);
  } catch (const nlohmann::json::type_error&) {
    LABELGRAPH_THROW(argument_error("write_graph_json: " + std::string(what) + " " + in_quotes(text) +
                                    " is not valid UTF-8 and cannot be written as JSON"));
  }
}

/// The edges in an order that reproduces both the children order of every
/// node and the parents order of every node when read back (the graph keeps
/// those two orders, not the original edge list). Each edge must follow its
/// predecessor in its parent's children row and in its child's parents row;
/// one edge list satisfied both (the one the graph was built from), so this
/// precedence graph is acyclic and Kahn's algorithm orders it. Ties go to the
/// smallest (parent-major) edge, so a file written in parent-major order
/// comes back unchanged.
inline std::vector<std::pair<node_id, node_id>> edges_in_file_order(const label_graph& graph) {
  const std::size_t n = graph.node_count();
  // Edge e = position in the concatenated children rows (parent-major).
  std::vector<std::pair<node_id, node_id>> edges;
  edges.reserve(graph.edge_count());
  for (node_id parent = 0; parent < n; ++parent) {
    for (node_id child : graph.children(parent)) edges.emplace_back(parent, child);
  }
  // The edges of each child's parents row, in that row's order: bucket the
  // edges by child (counting sort), then place each at its parent's position
  // in the row. Arrays only, linear in the edges.
  std::vector<std::uint64_t> row_start(n + 1, 0);
  for (const auto& edge : edges) ++row_start[edge.second + 1];
  for (std::size_t v = 0; v < n; ++v) row_start[v + 1] += row_start[v];
  std::vector<std::uint32_t> by_child(edges.size());
  {
    std::vector<std::uint64_t> cursor(row_start.begin(), row_start.end() - 1);
    for (std::size_t e = 0; e < edges.size(); ++e) by_child[cursor[edges[e].second]++] = static_cast<std::uint32_t>(e);
  }
  std::vector<std::uint32_t> parents_row(edges.size());
  std::vector<std::uint32_t> position_in_row(n, 0);
  for (node_id child = 0; child < n; ++child) {
    auto parents = graph.parents(child);
    for (std::size_t j = 0; j < parents.size(); ++j) position_in_row[parents[j]] = static_cast<std::uint32_t>(j);
    for (std::uint64_t i = row_start[child]; i < row_start[child + 1]; ++i) {
      parents_row[row_start[child] + position_in_row[edges[by_child[i]].first]] = by_child[i];
    }
  }
  constexpr std::uint32_t none = 0xFFFFFFFFu;
  std::vector<std::uint32_t> next_in_parents(edges.size(), none);
  std::vector<std::uint8_t> waiting(edges.size(), 0);  // predecessors not yet written (0..2)
  for (node_id child = 0; child < n; ++child) {
    for (std::uint64_t i = row_start[child] + 1; i < row_start[child + 1]; ++i) {
      next_in_parents[parents_row[i - 1]] = parents_row[i];
      ++waiting[parents_row[i]];
    }
  }
  std::vector<std::uint8_t> last_in_row(edges.size(), 0);
  for (std::size_t e = 0; e < edges.size(); ++e) {
    if (e + 1 < edges.size() && edges[e + 1].first == edges[e].first) {
      ++waiting[e + 1];
    } else {
      last_in_row[e] = 1;
    }
  }
  std::priority_queue<std::uint32_t, std::vector<std::uint32_t>, std::greater<>> ready;
  for (std::uint32_t e = 0; e < edges.size(); ++e) {
    if (waiting[e] == 0) ready.push(e);
  }
  std::vector<std::pair<node_id, node_id>> ordered;
  ordered.reserve(edges.size());
  while (!ready.empty()) {
    const std::uint32_t e = ready.top();
    ready.pop();
    ordered.push_back(edges[e]);
    if (!last_in_row[e] && --waiting[e + 1] == 0) ready.push(e + 1);
    if (next_in_parents[e] != none && --waiting[next_in_parents[e]] == 0) ready.push(next_in_parents[e]);
  }
  return ordered.size() == edges.size() ? ordered : edges;  // the fallback cannot happen for a built graph
}

/// A name for a temporary file next to `file`, unlikely to collide with a
/// concurrent writer's.
inline std::filesystem::path temporary_sibling(const std::filesystem::path& file) {
  static std::atomic<std::uint64_t> counter{0};
  const auto ticks = static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
  const auto salt = reinterpret_cast<std::uintptr_t>(&counter) ^ ticks ^ (counter.fetch_add(1) * 0x9E3779B97F4A7C15ull);
  std::filesystem::path temporary = file;
  temporary += ".tmp-" + std::to_string(salt % 1000000007u);
  return temporary;
}

}  // namespace detail

/// Reads a labelgraph/1 graph from `text`; `source_name` stands for the file
/// in messages. Throws `graph_error` listing every problem (see
/// `read_graph_json`).
[[nodiscard]] inline label_graph read_graph_json_string(std::string_view text, std::string source_name = "<string>") {
  detail::memory_bytes bytes(text);
  return detail::read_graph_json_from(bytes, source_name);
}

/// Reads a labelgraph/1 graph file and validates it (docs/graph-format.md, "Rules").
///
/// Throws `graph_error`: for a file that cannot be opened or read ("cannot
/// open 'x.json': No such file or directory"); for a syntax error, alone
/// ("x.json:3:17: syntax error: unexpected end of input; expected ']'"); for
/// a format string other than "labelgraph/1", alone; otherwise for every
/// schema problem (unknown key, wrong type, ...) and every graph problem
/// (cycle, second root, ...) at once, each with `file:line: /json/pointer`.
[[nodiscard]] inline label_graph read_graph_json(const std::filesystem::path& file) {
  const std::string name = file.string();
  std::FILE* handle = detail::file_bytes::open(file);
  if (handle == nullptr) {
    const int reason = errno;
    LABELGRAPH_THROW(graph_error(
        graph_problem{{}, "cannot open " + detail::in_quotes(name) + ": " + std::strerror(reason), {}}));
  }
  detail::file_bytes bytes(handle);
  return detail::read_graph_json_from(bytes, name);
}

/// Writes `graph` as labelgraph/1 JSON: one node, edge or group per line.
/// Only declared groups are written (the sibling-rule groups are derived
/// again when reading), edges in an order that gives back the same children
/// and parents order, so `read(write(g))` has the same node ids, names,
/// kinds, datasets, edges and groups as `g`.
inline void write_graph_json(const label_graph& graph, std::ostream& out) {
  if (graph.empty()) LABELGRAPH_THROW(argument_error("write_graph_json: the label graph is empty"));
  auto string = [&out](std::string_view text, std::string_view what) { detail::write_json_string(out, text, what); };
  out << "{\n  \"format\": \"" << detail::graph_json_format << "\",\n  \"datasets\": [";
  for (dataset_id d = 0; d < graph.dataset_count(); ++d) {
    if (d != 0) out << ", ";
    string(graph.dataset_name(d), "dataset name");
  }
  out << "],\n  \"nodes\": [";
  for (node_id v = 0; v < graph.node_count(); ++v) {
    out << (v == 0 ? "\n    {\"name\": " : ",\n    {\"name\": ");
    string(graph.name(v), "node name");
    out << ", \"kind\": \"" << to_string(graph.kind(v)) << '"';
    if (graph.kind(v) == node_kind::label) {
      out << ", \"datasets\": [";
      auto datasets = graph.datasets(v);
      for (std::size_t i = 0; i < datasets.size(); ++i) {
        if (i != 0) out << ", ";
        string(graph.dataset_name(datasets[i]), "dataset name");
      }
      out << ']';
    }
    out << '}';
  }
  out << "\n  ],\n  \"edges\": [";
  bool first = true;
  for (const auto& [parent, child] : detail::edges_in_file_order(graph)) {
    out << (first ? "\n    [" : ",\n    [");
    first = false;
    string(graph.name(parent), "node name");
    out << ", ";
    string(graph.name(child), "node name");
    out << ']';
  }
  out << "\n  ],\n  \"groups\": {";
  first = true;
  for (group_id g = 0; g < graph.group_count(); ++g) {
    if (!graph.group_declared(g)) continue;
    out << (first ? "\n    " : ",\n    ");
    first = false;
    string(graph.group_name(g), "group name");
    out << ": [";
    auto members = graph.group_members(g);
    for (std::size_t i = 0; i < members.size(); ++i) {
      if (i != 0) out << ", ";
      string(graph.name(members[i]), "node name");
    }
    out << ']';
  }
  out << "\n  }\n}\n";
}

/// Writes `graph` to `file` safely: into a temporary file in the same folder,
/// then renamed over `file`, so that readers never see a half-written graph.
/// Throws `labelgraph::error` naming the file when it cannot be written.
inline void write_graph_json(const label_graph& graph, const std::filesystem::path& file) {
  const std::filesystem::path temporary = detail::temporary_sibling(file);
  auto fail = [&](const std::string& reason) {
    std::error_code ignored;
    std::filesystem::remove(temporary, ignored);
    LABELGRAPH_THROW(error("cannot write " + detail::in_quotes(file.string()) + ": " + reason));
  };
  {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    if (!out) fail(std::strerror(errno));
    try {
      write_graph_json(graph, out);
    } catch (...) {
      out.close();
      std::error_code ignored;
      std::filesystem::remove(temporary, ignored);
      throw;
    }
    out.close();
    if (out.fail()) fail("write failed (disk full?)");
  }
  std::error_code renamed;
  std::filesystem::rename(temporary, file, renamed);
  if (renamed) fail(renamed.message());
}

}  // namespace labelgraph
