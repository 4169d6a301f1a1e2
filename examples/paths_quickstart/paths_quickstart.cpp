// The README's quick start, built and run by the test suite so it stays true.
// Run from the source folder: build/dev/examples/paths_quickstart/paths_quickstart
#include <iostream>
#include <labelgraph/graph/json.hpp>
#include <labelgraph/paths/classify.hpp>
#include <labelgraph/paths/output_layout.hpp>
#include <labelgraph/paths/target_table.hpp>

namespace lg = labelgraph;

int main() {
  lg::label_graph graph = lg::read_graph_json("examples/graphs/pets.json");
  lg::node_id bsh = graph.at("british-shorthair");
  for (const lg::classified_path& path : lg::classify_paths(graph, bsh)) {
    for (lg::node_id node : path.nodes) std::cout << graph.name(node) << ' ';
    std::cout << (path.deterministic ? "(deterministic)\n" : "(nondeterministic)\n");
  }
  lg::output_layout layout = lg::make_output_layout(graph);   // tokens, groups contiguous
  lg::target_table targets = lg::make_target_table(graph, layout);  // every label's token paths
  std::cout << layout.token_count() << " tokens, " << layout.group_count() << " groups\n";
}
