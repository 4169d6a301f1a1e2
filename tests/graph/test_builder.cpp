#include <catch2/catch.hpp>

#include "labelgraph/graph/graph_builder.hpp"
#include "labelgraph/paths/output_layout.hpp"

using namespace labelgraph;

namespace {
graph_builder small_pet_builder() {
  graph_builder builder("memory");
  builder.add_dataset("pets");
  builder.add_node("animal", node_kind::root);
  builder.add_node("cat", node_kind::label, {"pets"});
  builder.add_node("dog", node_kind::label, {"pets"});
  builder.add_node("shorthair", node_kind::augmented);
  builder.add_node("longhair", node_kind::augmented);
  builder.add_node("bsh", node_kind::label, {"pets"});
  builder.add_edge("animal", "cat");
  builder.add_edge("animal", "dog");
  builder.add_edge("cat", "shorthair");
  builder.add_edge("cat", "longhair");
  builder.add_edge("shorthair", "bsh");
  builder.add_group("hair", {"shorthair", "longhair"});
  return builder;
}

std::string build_error(graph_builder builder) {
  try {
    (void)builder.build();
  } catch (const graph_error& e) {
    return e.what();
  }
  return "no error";
}
}  // namespace

TEST_CASE("builder makes CSR adjacency, groups by declaration and by the sibling rule") {
  label_graph graph = small_pet_builder().build();
  REQUIRE(graph.node_count() == 6);
  REQUIRE(graph.edge_count() == 5);
  node_id cat = graph.at("cat");
  CHECK(graph.name(graph.root()) == "animal");
  CHECK(graph.children(cat).size() == 2);
  CHECK(graph.parents(graph.at("bsh")).size() == 1);
  CHECK(graph.group_name(graph.group(graph.at("shorthair"))) == "hair");
  CHECK(graph.competes(graph.at("shorthair"), graph.at("longhair")));
  CHECK(graph.competes(cat, graph.at("dog")));  // siblings of animal
  CHECK_FALSE(graph.competes(cat, cat));
  CHECK(graph.group(graph.root()) == no_group);
  CHECK(graph.find("tabby") == no_node);
  CHECK_THROWS_AS(graph.at("tabby"), argument_error);
  CHECK(graph.topological_order().front() == graph.root());
}

TEST_CASE("output layout keeps every group contiguous and EOP last") {
  label_graph graph = small_pet_builder().build();
  output_layout layout = make_output_layout(graph);
  REQUIRE(layout.token_count() == 6);  // 5 non-root nodes + EOP
  CHECK(layout.node(layout.eop()) == no_node);
  for (node_id v = 0; v < graph.node_count(); ++v) {
    if (v == graph.root()) continue;
    token_id t = layout.token(v);
    CHECK(layout.node(t) == v);
    std::uint32_t g = layout.token_group(t);
    CHECK(g == graph.group(v));
    CHECK(layout.group_offset(g) <= t);
    CHECK(t < layout.group_offset(g + 1));
  }
  auto bsh = layout.candidates(graph.at("bsh"));
  REQUIRE(bsh.size() == 1);
  CHECK(bsh[0] == layout.eop());
  auto cat = layout.candidates(graph.at("cat"));  // children + EOP (cat is a label)
  CHECK(cat.size() == 3);
}

TEST_CASE("builder reports every problem at once") {
  graph_builder builder = small_pet_builder();
  builder.add_node("cat", node_kind::label, {"pets"});
  builder.add_edge("bsh", "cat");
  builder.add_edge("cat", "tabbby");
  builder.add_group("hair2", {"longhair"});
  std::string text = build_error(std::move(builder));
  CHECK_THAT(text, Catch::Contains("duplicate node name 'cat'"));
  CHECK_THAT(text, Catch::Contains("undeclared node 'tabbby'"));
  CHECK_THAT(text, Catch::Contains("cycle: "));
  CHECK_THAT(text, Catch::Contains("node 'longhair' is in two groups: 'hair' and 'hair2'"));
}
