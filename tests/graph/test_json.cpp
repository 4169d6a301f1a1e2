// The labelgraph/1 reader and writer: the malformed catalogue, valid files,
// round trips, locations, messages.
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <numeric>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "json_test_support.hpp"
#include "labelgraph/graph/json.hpp"

using namespace labelgraph;
using labelgraph::test::json_error;
using labelgraph::test::json_problems;
using labelgraph::test::require_same_graph;
using labelgraph::test::temporary_folder;
using labelgraph::test::to_json;

namespace {

const std::filesystem::path data_folder = LABELGRAPH_TEST_DATA;
const std::filesystem::path malformed_folder = data_folder / "malformed";
const std::filesystem::path valid_folder = data_folder / "valid";
const std::filesystem::path pets_file = std::filesystem::path(LABELGRAPH_SOURCE_DIR) / "examples" / "graphs" / "pets.json";

/// expected.txt: FILE<TAB>NEEDLE lines (see its header), grouped by file.
std::map<std::string, std::vector<std::string>> read_expectations() {
  std::ifstream table(malformed_folder / "expected.txt");
  REQUIRE(table);
  std::map<std::string, std::vector<std::string>> cases;
  std::string line;
  while (std::getline(table, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() || line.front() == '#') continue;
    auto tab = line.find('\t');
    REQUIRE(tab != std::string::npos);
    cases[line.substr(0, tab)].push_back(line.substr(tab + 1));
  }
  return cases;
}

std::string file_error(const std::filesystem::path& file) {
  try {
    (void)read_graph_json(file);
  } catch (const graph_error& e) {
    return e.what();
  }
  return "no error";
}

const char* const small_graph = R"({
  "format": "labelgraph/1",
  "datasets": ["pets"],
  "nodes": [
    {"name": "animal", "kind": "root"},
    {"name": "cat", "kind": "label", "datasets": ["pets"]},
    {"name": "dog", "kind": "label", "datasets": ["pets"]}
  ],
  "edges": [["animal", "cat"], ["animal", "dog"]]
})";

}  // namespace

TEST_CASE("every file of the malformed catalogue is rejected with its expected text") {
  const auto cases = read_expectations();
  CHECK(cases.size() >= 24);
  std::set<std::string> files;
  for (const auto& entry : std::filesystem::directory_iterator(malformed_folder)) {
    if (entry.path().extension() == ".json") files.insert(entry.path().filename().string());
  }
  for (const auto& file : files) {
    INFO(file);
    CHECK(cases.contains(file));  // no file without an expectation
  }
  for (const auto& [file, needles] : cases) {
    INFO(file);
    REQUIRE(files.contains(file));
    const std::string text = file_error(malformed_folder / file);
    for (const auto& needle : needles) CHECK_THAT(text, Catch::Contains(needle));
    // One problem per line, each naming the file.
    std::istringstream lines(text);
    std::string line;
    while (std::getline(lines, line)) CHECK_THAT(line, Catch::StartsWith((malformed_folder / file).string()));
  }
}

TEST_CASE("several problems in one file are all reported, reader and builder together") {
  std::string text = file_error(malformed_folder / "several_problems.json");
  CHECK(std::count(text.begin(), text.end(), '\n') + 1 == 6);
}

TEST_CASE("problems name the nodes involved") {
  SECTION("cycle") {
    auto problems = json_problems(R"({"format": "labelgraph/1", "nodes": [
      {"name": "r", "kind": "root"}, {"name": "a", "kind": "augmented"}, {"name": "b", "kind": "augmented"}],
      "edges": [["r", "a"], ["a", "b"], ["b", "a"]]})");
    REQUIRE(problems.size() == 1);
    CHECK(problems[0].nodes == std::vector<std::string>{"a", "b"});
    CHECK(problems[0].where.pointer == "/edges/2");
    CHECK(problems[0].where.line == 3);
    CHECK(problems[0].message == "cycle: a > b > a (a label graph must be acyclic)");
  }
  SECTION("second root") {
    auto problems = json_problems(R"({"format": "labelgraph/1", "nodes": [
      {"name": "r", "kind": "root"},
      {"name": "s", "kind": "root"}]})");
    REQUIRE(problems.size() >= 1);
    CHECK(problems[0].nodes == std::vector<std::string>{"r", "s"});
    CHECK(problems[0].where.str() == "test.json:3: /nodes/1");
  }
}

TEST_CASE("valid files load with exact node, edge and group counts") {
  struct expected_counts {
    std::filesystem::path file;
    std::size_t nodes, edges, groups, declared_groups, datasets;
  };
  const std::vector<expected_counts> files = {
      {pets_file, 34, 57, 7, 7, 2},
      {valid_folder / "root_only.json", 1, 0, 0, 0, 0},
      {valid_folder / "any_key_order.json", 6, 6, 4, 1, 2},
      {valid_folder / "multi_parent.json", 10, 13, 7, 1, 2},
      {valid_folder / "unicode_names.json", 6, 5, 3, 1, 1},
  };
  for (const auto& expected : files) {
    INFO(expected.file.string());
    label_graph graph = read_graph_json(expected.file);
    CHECK(graph.node_count() == expected.nodes);
    CHECK(graph.edge_count() == expected.edges);
    CHECK(graph.group_count() == expected.groups);
    CHECK(graph.dataset_count() == expected.datasets);
    std::size_t declared = 0;
    for (group_id g = 0; g < graph.group_count(); ++g) declared += graph.group_declared(g) ? 1 : 0;
    CHECK(declared == expected.declared_groups);
    CHECK(graph.source() == expected.file.string());
  }
}

TEST_CASE("the pet graph reads as the paper draws it") {
  label_graph graph = read_graph_json(pets_file);
  CHECK(graph.name(graph.root()) == "animal");
  node_id bsh = graph.at("british-shorthair");
  REQUIRE(graph.parents(bsh).size() == 4);
  CHECK(graph.name(graph.parents(bsh)[0]) == "shorthair");
  CHECK(graph.name(graph.parents(bsh)[3]) == "point");
  CHECK(graph.group_name(graph.group(bsh)) == "cat-breed");
  CHECK(graph.group_members(graph.group(bsh)).size() == 12);
  CHECK(graph.competes(graph.at("solid"), graph.at("tabby")));
  CHECK_FALSE(graph.competes(graph.at("solid"), graph.at("shorthair")));
  REQUIRE(graph.datasets(graph.at("cat")).size() == 1);
  CHECK(graph.dataset_name(graph.datasets(graph.at("cat"))[0]) == "dogs-vs-cats");
  CHECK(graph.datasets(graph.at("tabby")).empty());
}

TEST_CASE("keys may come in any order and names may be used before they are declared") {
  label_graph graph = read_graph_json(valid_folder / "any_key_order.json");
  node_id cat = graph.at("cat");
  REQUIRE(graph.parents(cat).size() == 2);
  CHECK(graph.name(graph.parents(cat)[0]) == "small");
  CHECK(graph.datasets(graph.at("horse")).size() == 2);
  CHECK(graph.group_name(graph.group(graph.at("small"))) == "size");
  CHECK(graph.group_name(graph.group(cat)) == "siblings of small+large");
}

TEST_CASE("names are unescaped JSON strings and pointers escape slash and tilde") {
  label_graph graph = read_graph_json(valid_folder / "unicode_names.json");
  CHECK(graph.find("caf\xC3\xA9") != no_node);
  CHECK(graph.find("th\xC3\xA9") != no_node);
  CHECK(graph.find("quote\"back\\slash") != no_node);
  CHECK(graph.group_name(graph.group(graph.at("caf\xC3\xA9"))) == "hot/cold~");
  std::string text = json_error(R"({"format": "labelgraph/1", "nodes": [{"name": "r", "kind": "root"}],
    "groups": {"a/b~c": [1]}})");
  CHECK_THAT(text, Catch::Contains("test.json:2: /groups/a~1b~0c/0: member of group 'a/b~c' must be a node name"));
}

TEST_CASE("write then read gives back the same graph") {
  std::vector<std::filesystem::path> files = {pets_file};
  for (const auto& entry : std::filesystem::directory_iterator(valid_folder)) files.push_back(entry.path());
  for (const auto& file : files) {
    INFO(file.string());
    label_graph original = read_graph_json(file);
    std::string text = to_json(original);
    label_graph again = read_graph_json_string(text);
    require_same_graph(original, again);
    CHECK(to_json(again) == text);  // writing is deterministic
  }
}

TEST_CASE("the writer keeps the children order and the parents order of every node") {
  // Parents of x come in the order b, a although a is declared first; the
  // children of a are y, x. No parent-major listing keeps both orders.
  const char* text = R"({"format": "labelgraph/1", "nodes": [
    {"name": "r", "kind": "root"}, {"name": "a", "kind": "augmented"}, {"name": "b", "kind": "augmented"},
    {"name": "x", "kind": "augmented"}, {"name": "y", "kind": "augmented"}],
    "edges": [["r", "b"], ["r", "a"], ["b", "x"], ["a", "y"], ["a", "x"]]})";
  label_graph original = read_graph_json_string(text);
  label_graph again = read_graph_json_string(to_json(original));
  require_same_graph(original, again);
  CHECK(again.name(again.parents(again.at("x"))[0]) == "b");
  CHECK(again.name(again.children(again.at("a"))[0]) == "y");
}

TEST_CASE("the writer writes only declared groups and escapes names") {
  label_graph graph = read_graph_json(valid_folder / "multi_parent.json");
  std::string text = to_json(graph);
  CHECK_THAT(text, Catch::Contains("\"groups\": {\n    \"domain\": [\"vehicle\", \"animal\"]\n  }"));
  CHECK_THAT(text, !Catch::Contains("siblings of"));
  CHECK_THAT(text, Catch::Contains("[\"winged\", \"plane\"]"));
  std::string unicode = to_json(read_graph_json(valid_folder / "unicode_names.json"));
  CHECK_THAT(unicode, Catch::Contains(R"({"name": "quote\"back\\slash", "kind": "label", "datasets": ["caf)"));
}

TEST_CASE("writing a name that is not UTF-8 is an argument_error, not a broken file") {
  graph_builder builder("memory");
  builder.add_node("r", node_kind::root);
  builder.add_node("caf\xE9", node_kind::augmented);
  builder.add_edge("r", "caf\xE9");
  label_graph graph = builder.build();
  std::ostringstream out;
  CHECK_THROWS_WITH(write_graph_json(graph, out), Catch::Contains("node name 'caf\xE9' is not valid UTF-8"));
}

TEST_CASE("write_graph_json to a path replaces the file through a temporary sibling") {
  temporary_folder folder;
  const auto file = folder.path() / "pets-copy.json";
  label_graph graph = read_graph_json(pets_file);
  write_graph_json(graph, file);
  write_graph_json(graph, file);  // over an existing file
  require_same_graph(graph, read_graph_json(file));
  std::size_t entries = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator(folder.path())) ++entries;
  CHECK(entries == 1);  // no temporary file left behind
  CHECK_THROWS_WITH(write_graph_json(graph, folder.path() / "no-such-folder" / "x.json"),
                    Catch::Contains("cannot write '") && Catch::Contains("x.json'"));
}

TEST_CASE("a file that cannot be opened or read is a graph_error naming it") {
  temporary_folder folder;
  const auto missing = folder.path() / "missing.json";
  CHECK(file_error(missing) == "cannot open '" + missing.string() + "': No such file or directory");
  CHECK(file_error(folder.path()) == "cannot read '" + folder.path().string() + "': Is a directory");
}

TEST_CASE("read_graph_json_string names its source") {
  CHECK_THAT(json_error("[]", "<inline>"), Catch::StartsWith("<inline>:1: a labelgraph file is a JSON object"));
  try {
    (void)read_graph_json_string("{");
    FAIL("no error");
  } catch (const graph_error& e) {
    CHECK(std::string(e.what()) == "<string>:1:2: syntax error: unexpected end of input; expected string literal");
  }
}

TEST_CASE("after a syntax error only the syntax error is reported") {
  std::string text = json_error(R"({"format": "labelgraph/1", "kinds": 1, "nodes": [
    {"name": "cat", "kind": "label"},
    {"name": "cat", "kind": "label"}
  ], "edges": [["cat", "cat"]] )");
  CHECK(text == "test.json:4:32: syntax error: unexpected end of input; expected '}'");  // the column after the end
}

TEST_CASE("a wrong format string is reported alone but a missing one with everything else") {
  CHECK(json_error(R"({"format": "labelgraph/2", "kinds": 1, "nodes": []})") ==
        R"(test.json:1: /format: unsupported format 'labelgraph/2': this reader reads "labelgraph/1" files)");
  CHECK(json_error(R"({"format": 1, "nodes": [{"name": "r", "kind": "root"}]})") ==
        R"(test.json:1: /format: 'format' must be the string "labelgraph/1", not a number)");
  auto problems = json_problems(R"({"kinds": 1, "nodes": [{"name": "r", "kind": "root"}, {"name": "r", "kind": "root"}]})");
  REQUIRE(problems.size() == 3);  // in the order found
  CHECK_THAT(problems[0].message, Catch::StartsWith("unknown key 'kinds' at the top level (the keys allowed are"));
  CHECK(problems[1].message == "duplicate node name 'r' (first declared at line 1: /nodes/0)");
  CHECK(problems[2].message == "missing required key 'format' at the top level (it must be \"labelgraph/1\")");
}

TEST_CASE("unknown keys get a did-you-mean suggestion, or the list of keys allowed") {
  auto node_with = [](const std::string& key) {
    return json_error(R"({"format": "labelgraph/1", "nodes": [{"name": "r", "kind": "root", ")" + key + R"(": "x"}]})");
  };
  CHECK_THAT(node_with("kinds"), Catch::Contains("/nodes/0/kinds: unknown key 'kinds' in node 'r' (did you mean 'kind'?)"));
  CHECK_THAT(node_with("dataset"), Catch::Contains("unknown key 'dataset' in node 'r' (did you mean 'datasets'?)"));
  CHECK_THAT(node_with("descripton"), Catch::Contains("(did you mean 'description'?)"));
  CHECK_THAT(node_with("Name"), Catch::Contains("unknown key 'Name' in node 'r' (did you mean 'name'?)"));
  CHECK_THAT(node_with("colour"), Catch::Contains("unknown key 'colour' in node 'r' (the keys allowed are 'name', "
                                                  "'kind', 'datasets', 'description')"));
  CHECK_THAT(json_error(R"({"format": "labelgraph/1", "nodez": []})"),
             Catch::Contains("test.json:1: /nodez: unknown key 'nodez' at the top level (did you mean 'nodes'?)"));
  CHECK_THAT(json_error(R"({"fromat": "labelgraph/1", "nodes": [{"name": "r", "kind": "root"}]})"),
             Catch::Contains("unknown key 'fromat' at the top level (did you mean 'format'?)"));
}

TEST_CASE("the value of an unknown key is skipped whatever it holds") {
  auto problems = json_problems(R"({"format": "labelgraph/1", "extra": {"nodes": [{"name": 1}], "x": [[[]]]},
    "nodes": [{"name": "r", "kind": "root", "note": [{"kind": 7}]}]})");
  REQUIRE(problems.size() == 2);
  CHECK(problems[0].where.pointer == "/extra");
  CHECK(problems[1].where.pointer == "/nodes/0/note");
}

TEST_CASE("wrong types are reported with the place and the type found") {
  CHECK_THAT(json_error(R"({"format": "labelgraph/1", "nodes": {"r": "root"}})"),
             Catch::Contains("test.json:1: /nodes: 'nodes' must be an array of node objects, not an object"));
  CHECK_THAT(json_error(R"({"format": "labelgraph/1", "nodes": [{"name": "r", "kind": "root"}], "groups": []})"),
             Catch::Contains("/groups: 'groups' must be an object {group: [member, ...]}, not an array"));
  CHECK_THAT(json_error(R"({"format": "labelgraph/1", "nodes": [{"name": "r", "kind": "root"}], "edges": {}})"),
             Catch::Contains("/edges: 'edges' must be an array of names, not an object"));
  CHECK_THAT(json_error(R"({"format": "labelgraph/1", "nodes": [{"name": "r", "kind": "root", "datasets": "pets"}]})"),
             Catch::Contains("/nodes/0/datasets: 'datasets' in node 'r' must be an array of dataset names, not a string"));
  CHECK_THAT(json_error(R"({"format": "labelgraph/1", "nodes": [{"name": "r", "kind": "root", "description": false}]})"),
             Catch::Contains("/nodes/0/description: 'description' in node 'r' must be a string, not a boolean"));
  CHECK_THAT(json_error(R"({"format": "labelgraph/1", "description": 3.5, "nodes": [{"name": "r", "kind": "root"}]})"),
             Catch::Contains("/description: 'description' must be a string, not a number"));
  CHECK_THAT(json_error(R"({"format": "labelgraph/1", "nodes": [{"name": "r", "kind": "root"}], "edges": [["r"]]})"),
             Catch::Contains("/edges/0: edge ['r'] has 1 element; an edge is [parent, child]"));
  CHECK_THAT(json_error(R"({"format": "labelgraph/1", "nodes": [{"name": "r", "kind": "root"}], "edges": [[]]})"),
             Catch::Contains("/edges/0: edge [] has 0 elements; an edge is [parent, child]"));
  CHECK(json_error("17") == "test.json:1: a labelgraph file is a JSON object, not a number");
}

TEST_CASE("lines are counted where the item starts, also after numbers and blank lines") {
  auto problems = json_problems("{\"format\": \"labelgraph/1\",\n\n\"nodes\": [\n  {\"name\": \"r\", \"kind\": \"root\"},\n"
                                "  {\"kind\": \"augmented\",\n   \"name\": 5\n  }\n,\r\n\t[1,\n2]\n]}");
  REQUIRE(problems.size() == 2);  // a name of the wrong type is not also "missing"
  CHECK(problems[0].str() == "test.json:6: /nodes/1/name: 'name' in node must be a string, not a number");
  CHECK(problems[1].str() == "test.json:9: /nodes/2: node must be an object {\"name\": ..., \"kind\": ...}, not an array");
}

TEST_CASE("a node with a bad kind is still declared, so its edges add no noise") {
  auto problems = json_problems(R"({"format": "labelgraph/1", "datasets": ["d"], "nodes": [
    {"name": "r", "kind": "root"}, {"name": "x", "kind": "labl", "datasets": ["d"]}, {"name": "y", "kind": 3}],
    "edges": [["r", "x"], ["x", "y"]]})");
  REQUIRE(problems.size() == 2);
  CHECK_THAT(problems[0].message, Catch::Contains("unknown kind 'labl' in node 'x'"));
  CHECK_THAT(problems[1].message, Catch::Contains("'kind' in node 'y' must be a string, not a number"));
}

TEST_CASE("schema problems beyond the limit are counted in one line") {
  std::string text = R"({"format": "labelgraph/1", "nodes": [{"name": "r", "kind": "root"})";
  for (int i = 0; i < 150; ++i) text += R"(, {"name": )" + std::to_string(i) + R"(, "kind": "augmented"})";
  text += "]}";
  auto problems = json_problems(text);
  REQUIRE(problems.size() == detail::graph_json_handler::max_schema_problems + 1);
  CHECK(problems.back().message == "... and 50 more problems in the file");
}

TEST_CASE("the byte order mark and surrounding blanks are accepted") {
  label_graph graph = read_graph_json_string("\xEF\xBB\xBF \n" + std::string(small_graph) + "\n\n  ");
  CHECK(graph.node_count() == 3);
}

TEST_CASE("edit distance and suggestions") {
  using detail::edit_distance;
  CHECK(edit_distance("kind", "kind", 3) == 0);
  CHECK(edit_distance("kinds", "kind", 3) == 1);
  CHECK(edit_distance("shorthiar", "shorthair", 3) == 1);  // a transposition
  CHECK(edit_distance("", "abc", 5) == 3);
  CHECK(edit_distance("kitten", "sitting", 5) == 3);
  CHECK(edit_distance("kitten", "sitting", 2) == 3);  // limit + 1
  CHECK(edit_distance("a", "abcdef", 2) == 3);
  std::vector<std::string> names = {"tabby", "solid", "point"};
  CHECK(detail::did_you_mean("tabbby", names) == " (did you mean 'tabby'?)");
  CHECK(detail::did_you_mean("zebra", names).empty());
  CHECK(detail::did_you_mean("id", std::vector<std::string>{"kind"}).empty());
  CHECK(detail::in_quotes("a'b\nc") == "'a\\'b\\x0Ac'");
}

TEST_CASE("write then read gives back random multi-parent graphs with edges in any order") {
  std::mt19937 rng(7);
  auto pick = [&rng](std::size_t n) { return std::uniform_int_distribution<std::size_t>(0, n - 1)(rng); };
  for (int round = 0; round < 200; ++round) {
    const std::size_t n = 2 + pick(30);
    std::vector<std::pair<std::size_t, std::size_t>> edges;
    for (std::size_t child = 1; child < n; ++child) {
      std::set<std::size_t> parents;
      const std::size_t count = 1 + pick(std::min<std::size_t>(child, 3));
      while (parents.size() < count) parents.insert(pick(child));
      for (std::size_t parent : parents) edges.emplace_back(parent, child);
    }
    std::shuffle(edges.begin(), edges.end(), rng);
    graph_builder builder("random");
    builder.add_dataset("d");
    builder.add_dataset("e");
    // Declared in a shuffled order, so node ids differ from the topological order.
    std::vector<std::size_t> order(n);
    std::iota(order.begin(), order.end(), std::size_t{0});
    std::shuffle(order.begin(), order.end(), rng);
    for (std::size_t v : order) {
      if (v == 0) {
        builder.add_node("n0", node_kind::root);
      } else if (pick(2) == 0) {
        builder.add_node("n" + std::to_string(v), node_kind::label, pick(3) == 0 ? std::vector<std::string>{"e", "d"}
                                                                                  : std::vector<std::string>{"d"});
      } else {
        builder.add_node("n" + std::to_string(v), node_kind::augmented);
      }
    }
    for (const auto& [parent, child] : edges) builder.add_edge("n" + std::to_string(parent), "n" + std::to_string(child));
    // A declared group of leaves (never ancestors of one another).
    std::vector<std::string> leaves;
    std::set<std::size_t> has_child;
    for (const auto& edge : edges) has_child.insert(edge.first);
    for (std::size_t v = 1; v < n; ++v) {
      if (!has_child.contains(v) && pick(2) == 0) leaves.push_back("n" + std::to_string(v));
    }
    if (!leaves.empty()) builder.add_group("leaves", leaves);
    label_graph original = builder.build();
    INFO("round " << round);
    const std::string text = to_json(original);
    require_same_graph(original, read_graph_json_string(text));
  }
}

TEST_CASE("every problem stays on one line whatever the names hold") {
  auto problems = json_problems(R"({"format": "labelgraph/1", "nodes": [{"name": "r", "kind": "root"},
    {"name": "a\nb", "kind": "augmented"}, {"name": "c\td", "kind": "augmented"}],
    "edges": [["r", "a\nb"], ["a\nb", "c\td"], ["c\td", "a\nb"]], "x\ny": 1})");
  REQUIRE(problems.size() == 2);
  CHECK(problems[0].str() == "test.json:3: /x\\x0Ay: unknown key 'x\\x0Ay' at the top level (the keys allowed are "
                             "'format', 'description', 'datasets', 'nodes', 'edges', 'groups')");
  CHECK(problems[1].str() == "test.json:3: /edges/2: cycle: a\\x0Ab > c\\x09d > a\\x0Ab (a label graph must be acyclic)");
  CHECK(problems[1].nodes == std::vector<std::string>{"a\nb", "c\td"});
}
