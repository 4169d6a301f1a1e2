// Inputs that would break a recursive or DOM-building reader: a 1,000,000-node
// chain (200,000 under ASan), 100,000 nested brackets, a node with 1,000,000
// children.
#include <catch2/catch.hpp>

#include <fstream>
#include <string>

#include "json_test_support.hpp"
#include "labelgraph/graph/json.hpp"

using namespace labelgraph;
using labelgraph::test::json_error;
using labelgraph::test::temporary_folder;

namespace {
// The chain's length: a million nodes, or 200,000 under AddressSanitizer, which
// makes this test 5x slower than all other asan tests together (2 minutes at
// -O0). Either length overflows the stack of a recursive reader or validator.
#if defined(__SANITIZE_ADDRESS__)
constexpr std::size_t chain_length = 200000;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
constexpr std::size_t chain_length = 200000;
#else
constexpr std::size_t chain_length = 1000000;
#endif
#else
constexpr std::size_t chain_length = 1000000;
#endif
}  // namespace

TEST_CASE("a chain of a million nodes (200,000 under ASan) reads and validates without deep recursion") {
  constexpr std::size_t n = chain_length;
  const auto name = [](std::size_t i) { return "n" + std::to_string(i); };
  temporary_folder folder;
  const auto file = folder.path() / "chain.json";
  {
    std::ofstream out(file);
    out << "{\n\"format\": \"labelgraph/1\",\n\"datasets\": [\"d\"],\n\"nodes\": [\n{\"name\": \"n0\", \"kind\": \"root\"}";
    for (std::size_t i = 1; i < n; ++i) out << ",\n{\"name\": \"n" << i << "\", \"kind\": \"label\", \"datasets\": [\"d\"]}";
    out << "\n],\n\"edges\": [\n";
    for (std::size_t i = 1; i < n; ++i) out << (i == 1 ? "" : ",\n") << "[\"n" << i - 1 << "\", \"n" << i << "\"]";
    out << "\n]\n}\n";
  }
  label_graph graph = read_graph_json(file);
  REQUIRE(graph.node_count() == n);
  REQUIRE(graph.edge_count() == n - 1);
  CHECK(graph.group_count() == n - 1);  // each node alone under its parent
  node_id last = graph.at(name(n - 1));
  REQUIRE(graph.parents(last).size() == 1);
  CHECK(graph.name(graph.parents(last)[0]) == name(n - 2));
  CHECK(graph.topological_order().front() == graph.root());
  CHECK(graph.topological_order().back() == last);

  // Close the chain into a cycle: found, named, and placed at its line.
  std::string text;
  {
    std::ifstream in(file);
    text.assign(std::istreambuf_iterator<char>(in), {});
  }
  const auto tail = text.rfind("\n]\n}");
  text.insert(tail, ",\n[\"" + name(n - 1) + "\", \"n1\"]");
  std::string error = json_error(text, "chain.json");
  // The closing edge is on line 2n + 6; the cycle n1 .. n(n-1) shows its first and last 6 nodes.
  std::string last_six;
  for (std::size_t i = n - 6; i < n; ++i) last_six += name(i) + " > ";
  CHECK(error == "chain.json:" + std::to_string(2 * n + 6) + ": /edges/" + std::to_string(n - 1) +
                     ": cycle: n1 > n2 > n3 > n4 > n5 > n6 > ... (" + std::to_string(n - 13) + " more) ... > " + last_six +
                     "n1 (a label graph must be acyclic)");
  if (n == 1000000) {  // the message spelled out once
    CHECK(error == "chain.json:2000006: /edges/999999: cycle: n1 > n2 > n3 > n4 > n5 > n6 > ... (999987 more) ... > "
                   "n999994 > n999995 > n999996 > n999997 > n999998 > n999999 > n1 (a label graph must be acyclic)");
  }
}

TEST_CASE("100000 nested brackets are rejected cleanly") {
  constexpr std::size_t depth = 100000;
  const std::string open(depth, '[');
  const std::string close(depth, ']');
  CHECK(json_error(open) == "test.json:1:100001: syntax error: unexpected end of input; expected '[', '{', or a literal");
  CHECK(json_error(open + close) == "test.json:1: a labelgraph file is a JSON object, not an array");
  CHECK(json_error(R"({"format": "labelgraph/1", "nodes": [{"name": "r", "kind": "root"}], "edges": )" + open + close + "}") ==
        "test.json:1: /edges/0/0: edge element 0 must be a node name (a string), not an array");
  std::string objects;
  for (std::size_t i = 0; i < depth; ++i) objects += "{\"a\":";
  objects += "1" + std::string(depth, '}');
  CHECK(json_error(R"({"format": "labelgraph/1", "nodes": [{"name": "r", "kind": "root"}], "groups": )" + objects + "}") ==
        "test.json:1: /groups/a: group 'a' must be an array of node names, not an object");
}

TEST_CASE("one node with 1000000 children builds quickly, all of them one sibling group") {
  constexpr std::size_t n = 1000000;
  graph_builder builder("memory");
  builder.reserve(n + 1, n);
  builder.add_dataset("d");
  builder.add_node("root", node_kind::root);
  for (std::size_t i = 0; i < n; ++i) {
    std::string name = "c" + std::to_string(i);
    builder.add_edge("root", name);
    builder.add_node(std::move(name), node_kind::label, {"d"});
  }
  label_graph graph = builder.build();
  REQUIRE(graph.node_count() == n + 1);
  REQUIRE(graph.children(graph.root()).size() == n);
  REQUIRE(graph.group_count() == 1);
  CHECK(graph.group_name(0) == "siblings of root");
  CHECK(graph.group_members(0).size() == n);
  CHECK(graph.competes(graph.at("c0"), graph.at("c999999")));
}
