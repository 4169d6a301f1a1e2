// DOT writer: the paper's pet graph with British-Shorthair's 1 deterministic
// and 3 nondeterministic paths highlighted (edge styles checked in the text,
// and the text rendered by Graphviz when `dot` is installed), group display
// modes, escaping of names, and the size guard.

#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "labelgraph/graph/dot.hpp"
#include "labelgraph/graph/graph_builder.hpp"
#include "labelgraph/graph/json.hpp"
#include "labelgraph/graph/wordnet.hpp"

using namespace labelgraph;

namespace {

const std::filesystem::path pets_file = std::filesystem::path(LABELGRAPH_SOURCE_DIR) / "examples/graphs/pets.json";
const std::string dot_executable = LABELGRAPH_DOT_EXECUTABLE;

std::string dot_text(const label_graph& graph, const dot_options& options) {
  std::ostringstream out;
  write_dot(out, graph, options);
  return out.str();
}

/// "parent > child" for every edge line of a DOT text, by its style attribute
/// ("bold", "dashed", or "" for an edge without one).
std::map<std::string, std::set<std::string>> edges_by_style(const label_graph& graph, const std::string& text) {
  static const std::regex edge_line(R"(^  n(\d+) -> n(\d+)(?: \[(.*)\])?;$)");
  static const std::regex style_attribute(R"(style=(\w+))");
  std::map<std::string, std::set<std::string>> edges;
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    std::smatch match;
    if (!std::regex_match(line, match, edge_line)) continue;
    const auto parent = static_cast<node_id>(std::stoul(match[1]));
    const auto child = static_cast<node_id>(std::stoul(match[2]));
    const std::string attributes = match[3];
    std::smatch style;
    const std::string key = std::regex_search(attributes, style, style_attribute) ? style[1].str() : "";
    edges[key].insert(std::string(graph.name(parent)) + " > " + std::string(graph.name(child)));
  }
  return edges;
}

/// Renders `text` with Graphviz to PNG; returns false (and says why on stdout,
/// which ctest turns into "skipped") when `dot` is not installed.
bool render_png(const std::string& text, const std::string& stem) {
  if (dot_executable.empty()) {
    std::cout << "SKIPPED: Graphviz 'dot' not found at configure time; DOT text checked, rendering not\n";
    return false;
  }
  const auto folder = std::filesystem::temp_directory_path() / "labelgraph-dot-test";
  std::filesystem::create_directories(folder);
  const auto dot_file = folder / (stem + ".dot");
  const auto png_file = folder / (stem + ".png");
  std::filesystem::remove(png_file);
  std::ofstream(dot_file) << text;
  const std::string command = "'" + dot_executable + "' -Tpng '" + dot_file.string() + "' -o '" + png_file.string() + "'";
  REQUIRE(std::system(command.c_str()) == 0);
  std::ifstream png(png_file, std::ios::binary);
  char signature[8] = {};
  png.read(signature, 8);
  CHECK(std::string(signature + 1, 3) == "PNG");
  CHECK(std::filesystem::file_size(png_file) > 1000);
  return true;
}

label_graph awkward_names_graph() {
  graph_builder builder("awkward");
  builder.add_dataset("d");
  builder.add_node("root \"quoted\"", node_kind::root);
  builder.add_node("back\\slash", node_kind::label, {"d"});
  builder.add_node("html <b>&amp;</b>", node_kind::augmented);
  builder.add_node("plain", node_kind::label, {"d"});
  builder.add_edge("root \"quoted\"", "back\\slash");
  builder.add_edge("root \"quoted\"", "html <b>&amp;</b>");
  builder.add_edge("html <b>&amp;</b>", "plain");
  builder.add_group("group <\"x\"> & 'y'", {"back\\slash", "html <b>&amp;</b>"});
  return builder.build();
}

}  // namespace

TEST_CASE("pets: British-Shorthair's 1 deterministic path is bold, its 3 nondeterministic paths dashed") {
  const label_graph pets = read_graph_json(pets_file);
  dot_options options;
  options.highlight = "british-shorthair";
  const std::string text = dot_text(pets, options);

  CHECK_THAT(text, Catch::Contains("// highlight british-shorthair: 1 deterministic, 3 nondeterministic paths"));
  const auto edges = edges_by_style(pets, text);
  CHECK(edges.at("bold") ==
        std::set<std::string>{"animal > cat", "cat > shorthair", "shorthair > british-shorthair"});
  CHECK(edges.at("dashed") == std::set<std::string>{"cat > solid", "solid > british-shorthair", "cat > tabby",
                                                    "tabby > british-shorthair", "cat > point",
                                                    "point > british-shorthair"});
  REQUIRE(edges.count("") == 1);
  CHECK(edges.at("").size() == pets.edge_count() - 9);  // faded
  CHECK(edges.size() == 3);
  CHECK_THAT(text, Catch::Contains("n" + std::to_string(pets.at("british-shorthair")) +
                                   " [label=\"british-shorthair\", shape=box, fillcolor=\"#b2f2bb\", peripheries=2"));

  render_png(text, "pets-british-shorthair");
}

TEST_CASE("pets without highlight: every edge plain, node kinds in the paper's colours, groups as clusters") {
  const label_graph pets = read_graph_json(pets_file);
  const std::string text = dot_text(pets, {});
  const auto edges = edges_by_style(pets, text);
  REQUIRE(edges.size() == 1);
  CHECK(edges.at("").size() == pets.edge_count());
  CHECK_THAT(text, Catch::Contains("n" + std::to_string(pets.root()) +
                                   " [label=\"animal\", shape=doubleoctagon, fillcolor=\"#ffe066\"]"));
  CHECK_THAT(text, Catch::Contains("[label=\"tabby\", shape=ellipse, fillcolor=\"#a5d8ff\"]"));
  CHECK_THAT(text, Catch::Contains("[label=\"cat\", shape=box, fillcolor=\"#b2f2bb\"]"));
  // One cluster per group of two or more members: the 7 declared pet groups.
  std::size_t clusters = 0;
  for (std::size_t at = text.find("subgraph \"cluster_g"); at != std::string::npos;
       at = text.find("subgraph \"cluster_g", at + 1)) {
    ++clusters;
  }
  CHECK(clusters == 7);
  for (const char* group : {"species", "hair", "color", "size", "coat", "cat-breed", "dog-breed"}) {
    CHECK_THAT(text, Catch::Contains("label=\"" + std::string(group) + "\"; style=\"rounded,dashed\""));
  }
  render_png(text, "pets-clusters");
}

TEST_CASE("pets with groups as colours: one fill colour per group, listed in the legend") {
  const label_graph pets = read_graph_json(pets_file);
  dot_options options;
  options.groups = dot_group_display::colors;
  options.highlight = "maine-coon";
  const std::string text = dot_text(pets, options);
  CHECK(text.find("cluster_g") == std::string::npos);

  std::map<std::string, std::string> fill_of;
  static const std::regex node_line(R"re(^  n\d+ \[label="([^"]*)", shape=\w+, fillcolor="([^"]*)")re");
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    std::smatch match;
    if (std::regex_search(line, match, node_line)) fill_of[match[1]] = match[2];
  }
  REQUIRE(fill_of.size() == pets.node_count());
  CHECK(fill_of["shorthair"] == fill_of["longhair"]);
  CHECK(fill_of["solid"] == fill_of["point"]);
  CHECK(fill_of["shorthair"] != fill_of["solid"]);
  CHECK(fill_of["cat"] != fill_of["shorthair"]);
  CHECK(fill_of["animal"] == "#ffffff");
  CHECK_THAT(text, Catch::Contains("<td align=\"left\">group color</td>"));
  CHECK_THAT(text, Catch::Contains("dashed: only on nondeterministic paths of maine-coon"));
  render_png(text, "pets-colors");
}

TEST_CASE("names are escaped for DOT strings and HTML labels") {
  const label_graph graph = awkward_names_graph();
  for (auto display : {dot_group_display::clusters, dot_group_display::colors}) {
    dot_options options;
    options.groups = display;
    options.highlight = "plain";
    const std::string text = dot_text(graph, options);
    CHECK_THAT(text, Catch::Contains(R"([label="root \"quoted\"", )"));
    CHECK_THAT(text, Catch::Contains(R"([label="back\\slash", )"));
    CHECK_THAT(text, Catch::Contains(R"([label="html <b>&amp;</b>", )"));
    if (display == dot_group_display::clusters) {
      CHECK_THAT(text, Catch::Contains(R"(label="group <\"x\"> & 'y'"; )"));
    } else {
      CHECK_THAT(text, Catch::Contains("group &lt;&quot;x&quot;&gt; &amp; &#39;y&#39;"));
    }
    render_png(text, display == dot_group_display::clusters ? "awkward-clusters" : "awkward-colors");
  }
}

TEST_CASE("write_dot refuses graphs above max_nodes and unknown highlight names") {
  const label_graph wordnet = read_wordnet(LABELGRAPH_WORDNET_FIXTURES);
  dot_options options;
  options.max_nodes = 9;
  std::ostringstream out;
  CHECK_THROWS_MATCHES(write_dot(out, wordnet, options), limit_error,
                       Catch::Message((std::filesystem::path(LABELGRAPH_WORDNET_FIXTURES) / "data.noun").string() +
                                      ": write_dot: the graph has 10 nodes, more than dot_options::max_nodes = 9; "
                                      "Graphviz cannot lay out a graph this large readably (raise max_nodes to try "
                                      "anyway)"));
  CHECK(out.str().empty());
  options.max_nodes = 10;
  CHECK_NOTHROW(write_dot(out, wordnet, options));

  options.highlight = "no-such-node";
  CHECK_THROWS_AS(write_dot(out, wordnet, options), argument_error);
  options.highlight = "whole.n.00003553";
  options.highlight_limits.max_paths = 2;  // whole has 3 paths
  CHECK_THROWS_AS(write_dot(out, wordnet, options), limit_error);
}
