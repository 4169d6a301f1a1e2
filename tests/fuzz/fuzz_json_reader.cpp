// Fuzz harness: the JSON graph reader (read_graph_json_string). Any input
// must either build a graph or throw labelgraph::error (graph_error with a
// location); anything else escaping, a crash, a sanitizer report or a hang is
// a finding. A graph that reads must survive a write / read round trip
// unchanged in its counts and names.
#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string>
#include <string_view>

#include "fuzz_support.hpp"
#include "labelgraph/graph/json.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace labelgraph;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  label_graph graph;
  try {
    graph = read_graph_json_string(text, "<fuzz>");
  } catch (const graph_error& problem) {
    fuzz::require(!problem.problems().empty(), "a graph_error lists at least one problem");
    fuzz::require(std::string_view(problem.what()).find("<fuzz>") != std::string_view::npos,
                  "a graph_error names the source");
    return 0;
  } catch (const error&) {
    return 0;  // limit_error and friends: refused with a message
  }
  fuzz::check_graph_invariants(graph);
  std::ostringstream written;
  write_graph_json(graph, written);
  const label_graph again = read_graph_json_string(written.str(), "<round trip>");
  fuzz::require(again.node_count() == graph.node_count(), "round trip keeps the node count");
  fuzz::require(again.edge_count() == graph.edge_count(), "round trip keeps the edge count");
  fuzz::require(again.group_count() == graph.group_count(), "round trip keeps the group count");
  for (node_id v = 0; v < graph.node_count(); ++v) {
    fuzz::require(again.find(graph.name(v)) != no_node, "round trip keeps every name");
  }
  return 0;
}
