// The paper's pet example (Figure 1, Def. 3.3) checked literally on
// examples/graphs/pets.json.

#include <catch2/catch.hpp>

#include <algorithm>
#include <ranges>
#include <set>
#include <string>
#include <vector>

#include "labelgraph/graph/graph_builder.hpp"
#include "labelgraph/graph/json.hpp"
#include "labelgraph/paths.hpp"
#include "path_checks.hpp"

using namespace labelgraph;

namespace {

using path_checks::names;
using path_checks::pets_file;
using path_checks::pets;

using name_path = std::vector<std::string>;

}  // namespace

TEST_CASE("pets: british-shorthair has one deterministic and three nondeterministic paths") {
  const label_graph& graph = pets();
  auto classified = classify_paths(graph, graph.at("british-shorthair"));
  std::vector<name_path> deterministic, nondeterministic;
  for (const auto& path : classified) (path.deterministic ? deterministic : nondeterministic).push_back(names(graph, path.nodes));
  std::sort(nondeterministic.begin(), nondeterministic.end());
  CHECK(deterministic == std::vector<name_path>{{"animal", "cat", "shorthair", "british-shorthair"}});
  CHECK(nondeterministic == std::vector<name_path>{{"animal", "cat", "point", "british-shorthair"},
                                                   {"animal", "cat", "solid", "british-shorthair"},
                                                   {"animal", "cat", "tabby", "british-shorthair"}});

  // The same answer without enumerating, and from the streaming classifier.
  determinism_counts counts = count_path_determinism(graph, graph.at("british-shorthair"));
  CHECK(counts.deterministic == checked_count{1, false});
  CHECK(counts.nondeterministic == checked_count{3, false});
  path_classifier classifier(graph, graph.at("british-shorthair"));
  CHECK(classifier.has_nondeterministic_path());
  REQUIRE(classifier.contested_groups().size() == 1);
  CHECK(graph.group_name(classifier.contested_groups()[0]) == "color");
  CHECK(count_paths(graph).of(graph.at("british-shorthair")) == 4);
}

TEST_CASE("pets: tabby is on deterministic paths of three breeds and nondeterministic paths of two") {
  const label_graph& graph = pets();
  const node_id tabby = graph.at("tabby");
  std::set<std::string> deterministic_via_tabby, nondeterministic_via_tabby;
  for (node_id node = 0; node < graph.node_count(); ++node) {
    if (!graph.is_label(node)) continue;
    for (const auto& path : classify_paths(graph, node)) {
      if (std::find(path.nodes.begin(), path.nodes.end(), tabby) == path.nodes.end()) continue;
      (path.deterministic ? deterministic_via_tabby : nondeterministic_via_tabby).emplace(graph.name(node));
    }
  }
  CHECK(deterministic_via_tabby == std::set<std::string>{"abyssinian", "bengal", "egyptian-mau"});
  CHECK(nondeterministic_via_tabby == std::set<std::string>{"british-shorthair", "maine-coon"});
}

TEST_CASE("pets: ground-truth sets and competitors and contested groups and counts") {
  const label_graph& graph = pets();
  auto truth = [&](const char* name) { return names(graph, ground_truth_set(graph, graph.at(name))); };
  CHECK(truth("british-shorthair") == std::vector<std::string>{"cat", "british-shorthair"});
  CHECK(truth("cat") == std::vector<std::string>{"cat"});
  CHECK(truth("samoyed") == std::vector<std::string>{"dog", "samoyed"});
  CHECK_THROWS_WITH(ground_truth_set(graph, graph.at("tabby")),
                    std::string(pets_file) +
                        ": ground_truth_set: node 'tabby' is not a label node (kind: augmented); S(y) is defined for label nodes");
  CHECK_THROWS_AS(ground_truth_set(graph, graph.root()), argument_error);

  CHECK(names(graph, competitors(graph, graph.at("tabby"))) == std::vector<std::string>{"solid", "point"});
  CHECK(competitors(graph, graph.root()).empty());
  CHECK(contested_groups(graph, graph.at("abyssinian")).empty());  // shorthair and tabby: different groups
  CHECK(names(graph, path_nodes(graph, graph.at("abyssinian"))) ==
        std::vector<std::string>{"animal", "cat", "shorthair", "tabby", "abyssinian"});

  path_counts counts = count_paths(graph);
  CHECK(counts.of(graph.root()) == 1);
  CHECK(counts.of(graph.at("cat")) == 1);
  CHECK(counts.of(graph.at("sphynx")) == 1);
  CHECK(counts.of(graph.at("chihuahua")) == 3);
  // 2 coarse labels with one path each; 12 cat breeds: 2+2+2+4+3+3+2+2+2+2+2+1; 8 dog breeds: 3+2+2+2+2+2+2+2.
  CHECK(path_total(counts) == 2 + 27 + 17);
  CHECK(checked_path_total(counts) == checked_count{46, false});
}

TEST_CASE("pets: enumeration by name in parent order with argument errors") {
  const label_graph& graph = pets();
  std::vector<name_path> paths;
  for (std::span<const node_id> path : enumerate_paths(graph, "british-shorthair")) paths.push_back(names(graph, path));
  // parents of british-shorthair in edge order: shorthair, solid, tabby, point.
  CHECK(paths == std::vector<name_path>{{"animal", "cat", "shorthair", "british-shorthair"},
                                        {"animal", "cat", "solid", "british-shorthair"},
                                        {"animal", "cat", "tabby", "british-shorthair"},
                                        {"animal", "cat", "point", "british-shorthair"}});
  static_assert(std::ranges::input_range<path_range>);
  CHECK_THROWS_WITH(enumerate_paths(graph, "tabbby"), std::string(pets_file) + ": no node named 'tabbby' in the graph");
  CHECK_THROWS_WITH(enumerate_paths(graph, node_id{999}),
                    std::string(pets_file) + ": enumerate_paths: node id 999 is outside the graph (34 nodes)");
  CHECK_THROWS_AS(count_paths(graph).of(node_id{34}), argument_error);

  // The root has exactly one path: itself.
  path_range root_paths = enumerate_paths(graph, graph.root());
  REQUIRE(root_paths.next());
  CHECK(root_paths.path().size() == 1);
  CHECK_FALSE(root_paths.next());
  CHECK(root_paths.path().empty());
}

TEST_CASE("pets: target table token sequences end with EOP and follow C(u)") {
  const label_graph& graph = pets();
  output_layout layout = make_output_layout(graph);
  target_table table = make_target_table(graph, layout);
  CHECK(table.path_count() == 46);
  CHECK(table.max_length() == 4);  // animal > cat > hair|color > breed: 3 tokens + EOP
  for (node_id node = 0; node < graph.node_count(); ++node) {
    auto rows = table.paths_of(node);
    if (!graph.is_label(node)) {
      CHECK(rows.empty());
      continue;
    }
    auto classified = classify_paths(graph, node);
    REQUIRE(rows.size() == classified.size());
    std::size_t i = 0;
    for (path_index row : rows) {
      path_checks::require_token_sequence_of(graph, layout, table.tokens(row), classified[i].nodes);
      CHECK(table.deterministic(row) == classified[i].deterministic);
      CHECK(table.label(row) == node);
      ++i;
    }
  }
  // The deterministic path of british-shorthair, literally.
  auto bsh_rows = table.paths_of(graph.at("british-shorthair"));
  auto first = table.tokens(bsh_rows.front());
  CHECK(std::vector<token_id>(first.begin(), first.end()) ==
        std::vector<token_id>{layout.token(graph.at("cat")), layout.token(graph.at("shorthair")),
                              layout.token(graph.at("british-shorthair")), layout.eop()});
  CHECK(table.deterministic(bsh_rows.front()));
  CHECK(table.memory_bytes() == table.node_path_offsets().size_bytes() + table.path_token_offsets().size_bytes() +
                                    table.token_data().size_bytes() + table.deterministic_flags().size_bytes() +
                                    table.path_labels().size_bytes());

  graph_builder other;
  other.add_node("r", node_kind::root);
  CHECK_THROWS_AS(make_target_table(graph, make_output_layout(other.build())), argument_error);
}
