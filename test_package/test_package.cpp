// The consumer program of the package tests (tests/package) and of the Conan
// test_package: it uses the core (JSON reader, output layout, block softmax)
// and every backend it was built with, checks the result, and prints one line.
//
//   test_package [GRAPH.json]     (without an argument: a small built-in graph)
//
// Backends are chosen by the build: LABELGRAPH_TEST_PACKAGE_CPU,
// LABELGRAPH_TEST_PACKAGE_XTENSOR (set when linking labelgraph::cpu /
// labelgraph::xtensor). LABELGRAPH_TEST_PACKAGE_VERSION is the version the
// build system found; it must match the headers'.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include <labelgraph/backends/reference.hpp>
#include <labelgraph/config.hpp>
#include <labelgraph/graph/json.hpp>
#include <labelgraph/ops/block_softmax.hpp>
#include <labelgraph/paths/output_layout.hpp>

#if defined(LABELGRAPH_TEST_PACKAGE_CPU)
#include <labelgraph/backends/cpu.hpp>
#endif
#if defined(LABELGRAPH_TEST_PACKAGE_XTENSOR)
#if __has_include(<labelgraph/backends/xtensor.hpp>)
#include <labelgraph/backends/xtensor.hpp>
#define LABELGRAPH_TEST_PACKAGE_XTENSOR_BACKEND 1
#else
// The backend header does not exist yet: use xtensor itself, which proves
// that labelgraph::xtensor carries xtensor's include directories.
#include <xtensor/xtensor.hpp>
#endif
#endif

namespace lg = labelgraph;

namespace {

constexpr const char* built_in_graph = R"({
  "format": "labelgraph/1",
  "datasets": ["pets"],
  "nodes": [
    {"name": "animal", "kind": "root"},
    {"name": "cat", "kind": "label", "datasets": ["pets"]},
    {"name": "dog", "kind": "label", "datasets": ["pets"]},
    {"name": "shorthair", "kind": "augmented"},
    {"name": "longhair", "kind": "augmented"},
    {"name": "british-shorthair", "kind": "label", "datasets": ["pets"]},
    {"name": "persian", "kind": "label", "datasets": ["pets"]}
  ],
  "edges": [["animal", "cat"], ["animal", "dog"], ["cat", "shorthair"], ["cat", "longhair"],
            ["shorthair", "british-shorthair"], ["longhair", "persian"]],
  "groups": {"hair": ["shorthair", "longhair"]}
})";

/// Largest |a - b| over two equally long vectors.
double max_difference(const std::vector<float>& a, const std::vector<float>& b) {
  double largest = 0;
  for (std::size_t i = 0; i < a.size(); ++i) largest = std::max(largest, std::abs(double(a[i]) - double(b[i])));
  return largest;
}

/// Block softmax of `logits` ([rows, V]) with one backend.
template <class Backend>
std::vector<float> block_softmax_with(const Backend& backend, const lg::output_layout& layout,
                                      const float* logits, std::size_t rows) {
  std::vector<float> probabilities(rows * layout.token_count());
  lg::block_softmax(backend, layout.view(), lg::tensor_view<const float, 2>(logits, {rows, layout.token_count()}),
                    lg::tensor_view<float, 2>(probabilities.data(), {rows, layout.token_count()}));
  return probabilities;
}

int fail(const std::string& message) {
  std::fprintf(stderr, "test_package: %s\n", message.c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) try {
  const std::string version = std::to_string(LABELGRAPH_VERSION_MAJOR) + "." + std::to_string(LABELGRAPH_VERSION_MINOR) +
                              "." + std::to_string(LABELGRAPH_VERSION_PATCH);
#if defined(LABELGRAPH_TEST_PACKAGE_VERSION)
  if (version != LABELGRAPH_TEST_PACKAGE_VERSION) {
    return fail("the headers say " + version + ", the package " + LABELGRAPH_TEST_PACKAGE_VERSION);
  }
#endif

  const lg::label_graph graph = argc > 1 ? lg::read_graph_json(argv[1]) : lg::read_graph_json_string(built_in_graph);
  const lg::output_layout layout = lg::make_output_layout(graph);
  const std::size_t rows = 3;
  const std::size_t tokens = layout.token_count();

  std::vector<float> logits(rows * tokens);
  for (std::size_t i = 0; i < logits.size(); ++i) logits[i] = float(4 * std::sin(0.37 * double(i)));

  // Reference backend: every group of every row sums to 1.
  const std::vector<float> reference = block_softmax_with(lg::backends::reference{}, layout, logits.data(), rows);
  for (std::size_t row = 0; row < rows; ++row) {
    for (std::uint32_t group = 0; group < layout.group_count(); ++group) {
      double sum = 0;
      for (std::uint32_t t = layout.group_offsets()[group]; t < layout.group_offsets()[group + 1]; ++t) {
        sum += reference[row * tokens + t];
      }
      if (std::abs(sum - 1) > 1e-5) return fail("group " + std::to_string(group) + " sums to " + std::to_string(sum));
    }
  }
  std::string backends = "reference";

#if defined(LABELGRAPH_TEST_PACKAGE_CPU)
  const std::vector<float> cpu = block_softmax_with(lg::backends::cpu(2), layout, logits.data(), rows);
  if (max_difference(cpu, reference) > 1e-5) return fail("the cpu backend disagrees with the reference backend");
  backends += " cpu";
#endif
#if defined(LABELGRAPH_TEST_PACKAGE_XTENSOR_BACKEND)
  const std::vector<float> xt = block_softmax_with(lg::backends::xtensor{}, layout, logits.data(), rows);
  if (max_difference(xt, reference) > 1e-5) return fail("the xtensor backend disagrees with the reference backend");
  backends += " xtensor";
#elif defined(LABELGRAPH_TEST_PACKAGE_XTENSOR)
  xt::xtensor<float, 2> xt_logits = xt::zeros<float>({rows, tokens});
  std::copy(logits.begin(), logits.end(), xt_logits.begin());
  if (max_difference(block_softmax_with(lg::backends::reference{}, layout, xt_logits.data(), rows), reference) != 0) {
    return fail("block softmax over xtensor memory differs");
  }
  backends += " xtensor(storage only: no xtensor backend header yet)";
#endif

  std::printf("labelgraph %s: %u nodes, %u tokens, %u groups; backends: %s; ok\n", version.c_str(),
              unsigned(graph.node_count()), unsigned(tokens), unsigned(layout.group_count()), backends.c_str());
  return 0;
} catch (const std::exception& error) {
  return fail(error.what());
}
