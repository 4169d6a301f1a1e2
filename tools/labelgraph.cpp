// The `labelgraph` command-line tool: check, stats, paths, dot, import-wordnet.
//
// Exit codes: 0 success, 1 the input is bad (one line per problem on stderr),
// 2 the command line is bad.

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>

#include "labelgraph/graph/dot.hpp"
#include "labelgraph/graph/json.hpp"
#include "labelgraph/graph/wordnet.hpp"
#include "labelgraph/paths/classify.hpp"
#include "labelgraph/paths/count.hpp"
#include "labelgraph/paths/enumerate.hpp"
#include "labelgraph/paths/graph_stats.hpp"

namespace lg = labelgraph;
namespace fs = std::filesystem;

namespace {

int check(const std::vector<std::string>& files) {
  int status = 0;
  for (const auto& file : files) {
    try {
      lg::label_graph graph = lg::read_graph_json(file);
      std::cout << file << ": ok (" << graph.node_count() << " nodes, " << graph.edge_count() << " edges, "
                << graph.group_count() << " groups)\n";
    } catch (const lg::error& e) {
      std::istringstream lines(e.what());
      for (std::string line; std::getline(lines, line);) std::cerr << "error: " << line << '\n';
      status = 1;
    }
  }
  return status;
}

void print_stats(const lg::graph_stats& stats, bool as_json) {
  if (as_json) {
    nlohmann::ordered_json out;
    out["nodes"] = stats.nodes;
    out["edges"] = stats.edges;
    out["groups"] = stats.groups;
    out["declared_groups"] = stats.declared_groups;
    out["datasets"] = stats.datasets;
    out["labels"] = stats.labels;
    out["augmented"] = stats.augmented;
    out["max_depth"] = stats.max_depth;
    out["max_group_size"] = stats.max_group_size;
    if (stats.paths_overflow) {
      out["paths_total"] = nullptr;  // does not fit in 64 bits
      out["paths_max"] = nullptr;
    } else {
      out["paths_total"] = stats.paths_total;
      out["paths_max"] = stats.paths_max;
    }
    out["paths_overflow"] = stats.paths_overflow;
    out["nondeterministic_labels"] = stats.nondeterministic_labels;
    std::cout << out.dump(2) << '\n';
    return;
  }
  auto paths = [&](std::uint64_t value) {
    return stats.paths_overflow ? std::string(">= 2^64 (overflow)") : std::to_string(value);
  };
  std::cout << "nodes                    " << stats.nodes << '\n'
            << "edges                    " << stats.edges << '\n'
            << "groups                   " << stats.groups << " (" << stats.declared_groups << " declared)\n"
            << "datasets                 " << stats.datasets << '\n'
            << "labels                   " << stats.labels << '\n'
            << "augmented                " << stats.augmented << '\n'
            << "max depth                " << stats.max_depth << '\n'
            << "largest group            " << stats.max_group_size << '\n'
            << "paths (all labels)       " << paths(stats.paths_total) << '\n'
            << "paths (most for a label) " << paths(stats.paths_max) << '\n'
            << "nondeterministic labels  " << stats.nondeterministic_labels << '\n';
}

int paths(const std::string& file, const std::string& node_name, const lg::path_limits& limits) {
  lg::label_graph graph = lg::read_graph_json(file);
  lg::node_id target = graph.at(node_name);
  lg::path_classifier classifier(graph, target);
  std::string line;
  for (std::span<const lg::node_id> path : lg::enumerate_paths(graph, target, limits)) {
    line.clear();
    for (lg::node_id node : path) {
      if (!line.empty()) line += " > ";
      line += graph.name(node);
    }
    line += classifier.deterministic(path) ? "\tdeterministic\n" : "\tnondeterministic\n";
    std::cout << line;
  }
  return 0;
}

/// Writes DOT text, or an image through Graphviz when OUT ends in an image suffix.
int dot(const lg::label_graph& graph, const std::string& out, const lg::dot_options& options) {
  std::ostringstream text;
  lg::write_dot(text, graph, options);
  if (out.empty() || out == "-") {
    std::cout << text.str();
    return 0;
  }
  std::string format = fs::path(out).extension().string();
  if (format == ".dot" || format == ".gv") {
    std::ofstream stream(out);
    stream << text.str();
    if (!stream) throw lg::error("cannot write '" + out + "'");
    return 0;
  }
  if (format != ".png" && format != ".svg" && format != ".pdf") {
    throw lg::argument_error("cannot tell the output format of '" + out + "': use .dot, .gv, .png, .svg or .pdf");
  }
  std::string command = "dot -T" + format.substr(1) + " -o '" + out + "'";
  FILE* pipe = popen(command.c_str(), "w");
  if (pipe == nullptr) throw lg::error("cannot run Graphviz 'dot' (install the graphviz package)");
  std::string body = text.str();
  std::fwrite(body.data(), 1, body.size(), pipe);
  int status = pclose(pipe);
  if (status != 0) throw lg::error("Graphviz 'dot' failed writing '" + out + "' (is the graphviz package installed?)");
  return 0;
}

int import_wordnet(const std::string& dir, const std::string& out) {
  lg::label_graph graph = lg::read_wordnet(dir);
  lg::write_graph_json(graph, out);
  std::cout << out << ": " << graph.node_count() << " nodes, " << graph.edge_count() << " edges, "
            << graph.group_count() << " groups\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"labelgraph: inspect, check and convert label graphs (labelgraph/1 JSON)"};
  app.set_version_flag("--version", std::to_string(LABELGRAPH_VERSION_MAJOR) + "." +
                                        std::to_string(LABELGRAPH_VERSION_MINOR) + "." +
                                        std::to_string(LABELGRAPH_VERSION_PATCH));
  app.require_subcommand(1);

  std::vector<std::string> check_files;
  auto* check_cmd = app.add_subcommand("check", "Validate graph files; print every problem, one per line");
  check_cmd->add_option("GRAPH", check_files, "labelgraph/1 JSON files")->required();

  std::string graph_file;
  bool as_json = false;
  auto* stats_cmd = app.add_subcommand("stats", "Print node, edge, group and path statistics");
  stats_cmd->add_option("GRAPH", graph_file, "labelgraph/1 JSON file")->required();
  stats_cmd->add_flag("--json", as_json, "Print one JSON object");

  std::string node_name;
  lg::path_limits limits;
  auto* paths_cmd = app.add_subcommand("paths", "Print every root-to-NODE path and whether it is deterministic");
  paths_cmd->add_option("GRAPH", graph_file, "labelgraph/1 JSON file")->required();
  paths_cmd->add_option("NODE", node_name, "node name")->required();
  paths_cmd->add_option("--max-paths", limits.max_paths, "Stop with an error beyond this many paths")
      ->capture_default_str();
  paths_cmd->add_option("--max-length", limits.max_length, "Stop with an error at a longer path")
      ->capture_default_str();

  std::string out;
  lg::dot_options dot_options;
  std::string highlight;
  std::string group_style = "clusters";
  auto* dot_cmd = app.add_subcommand("dot", "Render the graph with Graphviz (DOT text, or .png/.svg/.pdf via dot)");
  dot_cmd->add_option("GRAPH", graph_file, "labelgraph/1 JSON file")->required();
  dot_cmd->add_option("-o,--output", out, "Output file (.dot, .gv, .png, .svg, .pdf); stdout when omitted");
  dot_cmd->add_option("--highlight", highlight, "Highlight the paths of this label (Figure 2 style)");
  dot_cmd->add_option("--groups", group_style, "Show groups as 'clusters' or 'colors'")
      ->check(CLI::IsMember({"clusters", "colors"}))
      ->capture_default_str();

  std::string wordnet_dir = "/usr/share/wordnet";
  auto* wordnet_cmd = app.add_subcommand("import-wordnet", "Convert WordNet 3.0 nouns (data.noun) to labelgraph/1 JSON");
  wordnet_cmd->add_option("DIR", wordnet_dir, "WordNet dict folder")->capture_default_str();
  wordnet_cmd->add_option("-o,--output", out, "Output JSON file")->required();

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? 0 : 2;
  }

  try {
    if (*check_cmd) return check(check_files);
    if (*stats_cmd) {
      print_stats(lg::compute_graph_stats(lg::read_graph_json(graph_file)), as_json);
      return 0;
    }
    if (*paths_cmd) return paths(graph_file, node_name, limits);
    if (*dot_cmd) {
      lg::label_graph graph = lg::read_graph_json(graph_file);
      dot_options.highlight = highlight;
      dot_options.groups = group_style == "colors" ? lg::dot_group_display::colors : lg::dot_group_display::clusters;
      return dot(graph, out, dot_options);
    }
    if (*wordnet_cmd) return import_wordnet(wordnet_dir, out);
  } catch (const lg::error& e) {
    std::istringstream lines(e.what());
    for (std::string line; std::getline(lines, line);) std::cerr << "error: " << line << '\n';
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << '\n';
    return 1;
  }
  return 0;
}
