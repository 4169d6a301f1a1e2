/// \file
/// Graph benchmarks on the WordNet 3.0 noun DAG (82,115 synsets, 84,427
/// hypernym edges): import of data.noun, counting the root-to-node paths of
/// every synset (DP, linear in edges), enumerating every path of every label
/// node, and enumerating + classifying them (Def. 3.3) with the streaming
/// `path_classifier` — one `path_range` and one classifier re-targeted from
/// label to label, and, for comparison, fresh one-target objects per label.
/// One thread. scripts/bench-wordnet runs this binary,
/// times networkx on the same machine and writes the comparison table.
///
///     wordnet_bench [--wordnet=DIR] --benchmark_format=json
///
/// DIR defaults to $LABELGRAPH_WORDNET_DIR, else /usr/share/wordnet. Every
/// benchmark reports the work it did as counters (`nodes`, `edges`, `paths`,
/// `nondeterministic`), so a run can be checked against the reference.

#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "labelgraph/graph/wordnet.hpp"
#include "labelgraph/paths/ancestors.hpp"
#include "labelgraph/paths/classify.hpp"
#include "labelgraph/paths/count.hpp"
#include "labelgraph/paths/enumerate.hpp"

namespace {

namespace lg = labelgraph;

std::filesystem::path& wordnet_dir() {
  static std::filesystem::path dir = [] {
    const char* from_environment = std::getenv("LABELGRAPH_WORDNET_DIR");
    return std::filesystem::path(from_environment != nullptr ? from_environment : "/usr/share/wordnet");
  }();
  return dir;
}

/// The graph, read once and shared by the benchmarks that do not time the import.
const lg::label_graph& wordnet() {
  static const lg::label_graph graph = lg::read_wordnet(wordnet_dir());
  return graph;
}

/// Non-root nodes: the label nodes, whose paths the benchmarks walk.
std::vector<lg::node_id> label_nodes(const lg::label_graph& graph) {
  std::vector<lg::node_id> labels;
  for (lg::node_id node = 0; node < graph.node_count(); ++node) {
    if (graph.is_label(node)) labels.push_back(node);
  }
  return labels;
}

void set_graph_counters(benchmark::State& state, const lg::label_graph& graph) {
  state.counters["nodes"] = static_cast<double>(graph.node_count());
  state.counters["edges"] = static_cast<double>(graph.edge_count());
}

/// The graph's counters plus the paths enumerated (items processed) and how many were nondeterministic.
void set_path_counters(benchmark::State& state, const lg::label_graph& graph, std::uint64_t paths,
                       std::uint64_t nondeterministic) {
  set_graph_counters(state, graph);
  state.counters["paths"] = static_cast<double>(paths);
  state.counters["nondeterministic"] = static_cast<double>(nondeterministic);
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(paths));
}

/// Parse data.noun into synset records only.
void read_synsets(benchmark::State& state) {
  std::size_t synsets = 0;
  for (auto _ : state) {
    auto records = lg::read_wordnet_synsets(wordnet_dir());
    synsets = records.size();
    benchmark::DoNotOptimize(records.data());
  }
  state.counters["synsets"] = static_cast<double>(synsets);
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(synsets));
}

/// data.noun -> validated label_graph (parse, builder, validation, sibling groups).
void import_graph(benchmark::State& state) {
  lg::label_graph graph;
  for (auto _ : state) {
    graph = lg::read_wordnet(wordnet_dir());
    benchmark::DoNotOptimize(graph.node_count());
  }
  set_graph_counters(state, graph);
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(graph.node_count()));
}

/// N(v) for every node: one pass over the topological order.
void count_all_paths(benchmark::State& state) {
  const lg::label_graph& graph = wordnet();
  std::uint64_t total = 0;
  for (auto _ : state) {
    const lg::path_counts counts = lg::count_paths(graph);
    total = lg::path_total(counts);
    benchmark::DoNotOptimize(total);
  }
  set_graph_counters(state, graph);
  state.counters["paths"] = static_cast<double>(total);
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(graph.edge_count()));
}

/// Every root-to-v path of every label node v, materialised one at a time by
/// one `path_range` re-targeted from label to label (buffers reused; made
/// inside the timed loop, so its set-up is timed too).
void enumerate_all_paths(benchmark::State& state) {
  const lg::label_graph& graph = wordnet();
  const std::vector<lg::node_id> labels = label_nodes(graph);
  std::uint64_t paths = 0;
  for (auto _ : state) {
    lg::path_range paths_of(graph);
    paths = 0;
    std::uint64_t nodes_seen = 0;
    for (lg::node_id target : labels) {
      paths_of.retarget(target);
      for (std::span<const lg::node_id> path : paths_of) {
        nodes_seen += path.size();
        ++paths;
      }
    }
    benchmark::DoNotOptimize(nodes_seen);
  }
  set_graph_counters(state, graph);
  state.counters["paths"] = static_cast<double>(paths);
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(paths));
}

/// Every path of every label node, enumerated and classified (Def. 3.3): one
/// `path_range` and one `path_classifier`, both re-targeted from label to
/// label. Both are made inside the timed loop: the classifier's O(|V| + |E|)
/// set-up (stamps, single-path bits) is part of the time.
void classify_all_paths(benchmark::State& state) {
  const lg::label_graph& graph = wordnet();
  const std::vector<lg::node_id> labels = label_nodes(graph);
  std::uint64_t paths = 0, nondeterministic = 0;
  for (auto _ : state) {
    lg::path_range paths_of(graph);
    lg::path_classifier classifier(graph);
    paths = nondeterministic = 0;
    for (lg::node_id target : labels) {
      paths_of.retarget(target);
      classifier.retarget(target);
      for (std::span<const lg::node_id> path : paths_of) {
        nondeterministic += classifier.deterministic(path) ? 0 : 1;
        ++paths;
      }
    }
    benchmark::DoNotOptimize(nondeterministic);
  }
  set_path_counters(state, graph, paths, nondeterministic);
}

/// The same work with the one-target forms: a fresh `enumerate_paths` range and
/// a `path_classifier(walk, target)` per label (one reused `ancestor_walk`).
/// Shows what the re-targetable forms save.
void classify_all_paths_per_target(benchmark::State& state) {
  const lg::label_graph& graph = wordnet();
  const std::vector<lg::node_id> labels = label_nodes(graph);
  lg::ancestor_walk walk(graph);
  std::uint64_t paths = 0, nondeterministic = 0;
  for (auto _ : state) {
    paths = nondeterministic = 0;
    for (lg::node_id target : labels) {
      const lg::path_classifier classifier(walk, target);
      for (std::span<const lg::node_id> path : lg::enumerate_paths(graph, target)) {
        nondeterministic += classifier.deterministic(path) ? 0 : 1;
        ++paths;
      }
    }
    benchmark::DoNotOptimize(nondeterministic);
  }
  set_path_counters(state, graph, paths, nondeterministic);
}

/// The deterministic / nondeterministic path counts of every label node by DP
/// over its ancestors, without enumerating a path.
void count_determinism_all(benchmark::State& state) {
  const lg::label_graph& graph = wordnet();
  const std::vector<lg::node_id> labels = label_nodes(graph);
  lg::ancestor_walk walk(graph);
  std::uint64_t paths = 0, nondeterministic = 0;
  for (auto _ : state) {
    paths = nondeterministic = 0;
    for (lg::node_id target : labels) {
      const lg::determinism_counts counts = lg::count_path_determinism(walk, target);
      paths += counts.deterministic.value + counts.nondeterministic.value;
      nondeterministic += counts.nondeterministic.value;
    }
    benchmark::DoNotOptimize(nondeterministic);
  }
  set_graph_counters(state, graph);
  state.counters["paths"] = static_cast<double>(paths);
  state.counters["nondeterministic"] = static_cast<double>(nondeterministic);
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(labels.size()));
}

}  // namespace

BENCHMARK(read_synsets)->Name("wordnet/read_synsets")->Unit(benchmark::kMillisecond);
BENCHMARK(import_graph)->Name("wordnet/import")->Unit(benchmark::kMillisecond);
BENCHMARK(count_all_paths)->Name("wordnet/count_paths")->Unit(benchmark::kMillisecond);
BENCHMARK(enumerate_all_paths)->Name("wordnet/enumerate_all_paths")->Unit(benchmark::kMillisecond);
BENCHMARK(classify_all_paths)->Name("wordnet/enumerate_and_classify_all_paths")->Unit(benchmark::kMillisecond);
BENCHMARK(classify_all_paths_per_target)
    ->Name("wordnet/enumerate_and_classify_all_paths_per_target")
    ->Unit(benchmark::kMillisecond);
BENCHMARK(count_determinism_all)->Name("wordnet/count_determinism_all_labels")->Unit(benchmark::kMillisecond);

int main(int argc, char** argv) {
  // Our one flag, --wordnet=DIR, is taken out before Google Benchmark parses the rest.
  std::vector<char*> arguments;
  for (int i = 0; i < argc; ++i) {
    std::string_view argument = argv[i];
    if (argument.starts_with("--wordnet=")) {
      wordnet_dir() = std::string(argument.substr(10));
    } else {
      arguments.push_back(argv[i]);
    }
  }
  int count = static_cast<int>(arguments.size());
  benchmark::Initialize(&count, arguments.data());
  if (benchmark::ReportUnrecognizedArguments(count, arguments.data())) return 1;
  if (!std::filesystem::exists(lg::detail::wordnet_noun_file(wordnet_dir()))) {
    std::cerr << "wordnet_bench: no data.noun in " << wordnet_dir().string()
              << " (install wordnet-base or pass --wordnet=DIR)\n";
    return 1;
  }
  benchmark::AddCustomContext("wordnet", lg::detail::wordnet_noun_file(wordnet_dir()).string());
  benchmark::AddCustomContext("threads", "1");
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
