// Cross-check of the WordNet noun DAG against networkx_reference.py, an
// independent implementation (Python + networkx, its own parser): node and
// edge counts, |paths(v)| of every synset, the total, and for ~200 sampled
// synsets the full path sets with each path's Def. 3.3 class must agree
// exactly with read_wordnet + count_paths + enumerate_paths + path_classifier.
//
// usage: wordnet_crosscheck PYTHON SCRIPT WORDNET_DIR
// Exit codes: 0 agree, 1 disagree or error, 77 skipped (no WordNet, no
// networkx), which ctest shows as "Skipped".

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <string_view>
#include <sys/wait.h>
#include <utility>
#include <vector>

#include "labelgraph/graph/wordnet.hpp"
#include "labelgraph/paths/ancestors.hpp"
#include "labelgraph/paths/classify.hpp"
#include "labelgraph/paths/count.hpp"
#include "labelgraph/paths/enumerate.hpp"

namespace {

constexpr int exit_skipped = 77;

/// A path as text: "<deterministic|nondeterministic> root ... node".
using path_text = std::string;

struct reference {
  std::uint64_t nodes = 0, edges = 0, paths_total = 0;
  std::vector<std::pair<std::string, std::uint64_t>> counts;
  std::map<std::string, std::pair<std::uint64_t, std::vector<path_text>>> samples;
};

std::string shell_quote(const std::string& text) {
  std::string quoted = "'";
  for (char c : text) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return quoted + "'";
}

/// Runs the command, returns (exit status, stdout).
std::pair<int, std::string> run(const std::string& command) {
  std::string output;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return {-1, {}};
  std::array<char, 1 << 16> buffer;
  std::size_t got = 0;
  while ((got = std::fread(buffer.data(), 1, buffer.size(), pipe)) > 0) output.append(buffer.data(), got);
  const int status = ::pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, std::move(output)};
}

reference parse_reference(const std::string& text) {
  reference result;
  std::istringstream in(text);
  std::string line, key, name, kind;
  std::string current_sample;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    fields >> key;
    if (key == "nodes") {
      fields >> result.nodes;
    } else if (key == "edges") {
      fields >> result.edges;
    } else if (key == "paths_total") {
      fields >> result.paths_total;
    } else if (key == "count") {
      std::uint64_t count = 0;
      fields >> name >> count;
      result.counts.emplace_back(name, count);
    } else if (key == "sample") {
      std::uint64_t count = 0;
      fields >> current_sample >> count;
      result.samples[current_sample].first = count;
    } else if (key == "path") {
      result.samples[current_sample].second.push_back(line.substr(5));
    }
  }
  return result;
}

class mismatches {
public:
  template <class A, class B>
  void check(const std::string& what, const A& ours, const B& theirs) {
    if (ours == theirs) return;
    if (count_++ < 20) std::cout << "MISMATCH " << what << ": labelgraph " << ours << ", networkx " << theirs << "\n";
  }
  void note(const std::string& what) {
    if (count_++ < 20) std::cout << "MISMATCH " << what << "\n";
  }
  [[nodiscard]] std::size_t count() const { return count_; }

private:
  std::size_t count_ = 0;
};

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::cerr << "usage: wordnet_crosscheck PYTHON SCRIPT WORDNET_DIR\n";
    return 1;
  }
  const std::string python = argv[1], script = argv[2];
  const std::filesystem::path wordnet_dir = argv[3];
  if (!std::filesystem::exists(wordnet_dir / "data.noun")) {
    std::cout << "SKIPPED: no WordNet data.noun in " << wordnet_dir.string() << " (install wordnet-base)\n";
    return exit_skipped;
  }

  auto [status, output] = run(shell_quote(python) + " " + shell_quote(script) + " " + shell_quote(wordnet_dir.string()));
  if (status == exit_skipped) {
    std::cout << output;  // the script's "SKIPPED: networkx ..." line
    return exit_skipped;
  }
  if (status != 0) {
    std::cout << "networkx reference failed (exit " << status << "):\n" << output;
    return 1;
  }
  const reference expected = parse_reference(output);

  using namespace labelgraph;
  const label_graph graph = read_wordnet(wordnet_dir);
  const path_counts counts = count_paths(graph);
  mismatches problems;
  problems.check("node count", graph.node_count(), expected.nodes);
  problems.check("edge count", graph.edge_count(), expected.edges);

  std::uint64_t total = 0;
  for (node_id node = 0; node < graph.node_count(); ++node) total += counts.of(node);
  problems.check("paths summed over all synsets", total, expected.paths_total);
  problems.check("synsets with a count line", expected.counts.size(), graph.node_count());
  for (const auto& [name, count] : expected.counts) {
    const node_id node = graph.find(name);
    if (node == no_node) {
      problems.note("networkx synset " + name + " is not a node");
      continue;
    }
    problems.check("|paths(" + name + ")|", counts.of(node), count);
  }

  ancestor_walk walk(graph);
  std::size_t sampled_paths = 0, nondeterministic = 0;
  for (const auto& [name, sample] : expected.samples) {
    const node_id node = graph.find(name);
    if (node == no_node) {
      problems.note("sampled synset " + name + " is not a node");
      continue;
    }
    const path_classifier classifier(walk, node);
    std::vector<path_text> ours;
    for (std::span<const node_id> path : enumerate_paths(graph, node)) {
      path_text text = classifier.deterministic(path) ? "deterministic" : "nondeterministic";
      for (node_id on_path : path) (text += ' ') += graph.name(on_path);
      ours.push_back(std::move(text));
    }
    std::vector<path_text> theirs = sample.second;
    std::sort(ours.begin(), ours.end());
    std::sort(theirs.begin(), theirs.end());
    problems.check("enumerated paths of " + name, ours.size(), sample.first);
    if (ours != theirs) problems.note("path set or classes of " + name + " differ");
    sampled_paths += ours.size();
    nondeterministic += static_cast<std::size_t>(std::count_if(
        ours.begin(), ours.end(), [](const path_text& text) { return text.starts_with("nondeterministic"); }));
  }

  std::cout << "WordNet nouns: " << graph.node_count() << " synsets, " << graph.edge_count() << " edges, " << total
            << " root-to-synset paths; " << expected.samples.size() << " sampled synsets, " << sampled_paths
            << " paths (" << nondeterministic << " nondeterministic) compared with networkx\n";
  if (expected.samples.size() < 100 || problems.count() != 0) {
    std::cout << "FAILED: " << problems.count() << " mismatches\n";
    return 1;
  }
  std::cout << "OK: labelgraph and networkx agree exactly\n";
  return 0;
}
