/// \file
/// Decoding throughput: REINFORCE path sampling (`sample_paths`), greedy and
/// beam search (`beam_decode`), and the REINFORCE loss + gradient on sampled
/// paths, per host backend and thread count, on the paper's pet graph and on
/// the WordNet 3.0 noun DAG (82,116 tokens).
///
///     decode_bench [--wordnet=DIR] --benchmark_format=json
///
/// The model is a trivial step function: it fills the [rows, V] logits with
/// uniform random values in [-4, 4] once, in an untimed first call (the
/// workspace is reused, so they stay), and then returns at once, so the
/// figures are the decoders' own cost (candidate scoring over C(u), Philox
/// draws, bookkeeping), not a network's.
/// Counters: `paths_per_second` (rows decoded per second), `steps` (model
/// calls per decode), `rows`, `tokens` (V), `threads`.

#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "labelgraph/backends/cpu.hpp"
#include "labelgraph/backends/reference.hpp"
#include "labelgraph/backends/xtensor.hpp"
#include "labelgraph/decode/decode.hpp"
#include "labelgraph/graph/json.hpp"
#include "labelgraph/graph/wordnet.hpp"
#include "labelgraph/loss/reinforce.hpp"
#include "labelgraph/paths/output_layout.hpp"

namespace {

namespace lg = labelgraph;

std::filesystem::path& wordnet_dir() {
  static std::filesystem::path dir = [] {
    const char* from_environment = std::getenv("LABELGRAPH_WORDNET_DIR");
    return std::filesystem::path(from_environment != nullptr ? from_environment : "/usr/share/wordnet");
  }();
  return dir;
}

/// A graph and its layout, made once.
struct graph_fixture {
  lg::label_graph graph;
  lg::output_layout layout;
};

const graph_fixture& pets() {
  static const graph_fixture fixture = [] {
    lg::label_graph graph = lg::read_graph_json(LABELGRAPH_SOURCE_DIR "/examples/graphs/pets.json");
    lg::output_layout layout = lg::make_output_layout(graph);
    return graph_fixture{std::move(graph), std::move(layout)};
  }();
  return fixture;
}

const graph_fixture& wordnet() {
  static const graph_fixture fixture = [] {
    lg::label_graph graph = lg::read_wordnet(wordnet_dir());
    lg::output_layout layout = lg::make_output_layout(graph);
    return graph_fixture{std::move(graph), std::move(layout)};
  }();
  return fixture;
}

/// The trivial model: random logits written on the first call, then left as they are.
struct static_model {
  bool filled = false;
  void operator()(const lg::step_context&, lg::tensor_view<float, 2> logits) {
    if (filled) return;
    std::mt19937_64 rng(1);
    std::uniform_real_distribution<float> value(-4.0f, 4.0f);
    for (std::size_t r = 0; r < logits.extent(0); ++r) {
      float* row = logits.row(r);
      for (std::size_t v = 0; v < logits.extent(1); ++v) row[v] = value(rng);
    }
    filled = true;
  }
};

void set_counters(benchmark::State& state, std::size_t rows, std::size_t tokens, int threads, double steps) {
  state.counters["paths_per_second"] = benchmark::Counter(static_cast<double>(rows), benchmark::Counter::kIsIterationInvariantRate);
  state.counters["rows"] = static_cast<double>(rows);
  state.counters["tokens"] = static_cast<double>(tokens);
  state.counters["threads"] = threads;
  state.counters["steps"] = steps;
}

template <class Backend>
void sample_benchmark(benchmark::State& state, const graph_fixture& fixture, Backend backend, int threads,
                      std::size_t inputs, std::size_t samples_per_input) {
  lg::decode_workspace<float> workspace;
  static_model model;
  std::uint64_t seed = 0;
  std::size_t steps = 0;
  // One untimed call: the model fills the [rows, V] logits here (on WordNet
  // 21M floats, far more than a decode), so the loop times the decoder alone.
  (void)lg::sample_paths(backend, fixture.graph, fixture.layout, model, inputs,
                         {.samples_per_input = samples_per_input, .seed = seed}, workspace);
  for (auto _ : state) {
    const lg::path_batch paths = lg::sample_paths(backend, fixture.graph, fixture.layout, model, inputs,
                                                  {.samples_per_input = samples_per_input, .seed = ++seed}, workspace);
    benchmark::DoNotOptimize(paths.log_probability(0));
    steps = paths.max_length();
  }
  set_counters(state, inputs * samples_per_input, fixture.layout.token_count(), threads, static_cast<double>(steps));
}

template <class Backend>
void beam_benchmark(benchmark::State& state, const graph_fixture& fixture, Backend backend, int threads,
                    std::size_t inputs, std::size_t width) {
  lg::decode_workspace<float> workspace;
  static_model model;
  (void)lg::beam_decode(backend, fixture.graph, fixture.layout, model, inputs, {.width = width}, workspace);  // fills the logits
  for (auto _ : state) {
    const lg::path_batch paths =
        lg::beam_decode(backend, fixture.graph, fixture.layout, model, inputs, {.width = width}, workspace);
    benchmark::DoNotOptimize(paths.log_probability(0));
  }
  set_counters(state, inputs * width, fixture.layout.token_count(), threads, 0);
  state.counters["inputs_per_second"] = benchmark::Counter(static_cast<double>(inputs), benchmark::Counter::kIsIterationInvariantRate);
}

template <class Backend>
void reinforce_benchmark(benchmark::State& state, const graph_fixture& fixture, Backend backend, int threads,
                         std::size_t inputs, std::size_t samples_per_input) {
  lg::decode_workspace<float> workspace;
  static_model model;
  const lg::path_batch paths = lg::sample_paths(backend, fixture.graph, fixture.layout, model, inputs,
                                                {.samples_per_input = samples_per_input, .seed = 1}, workspace);
  const std::size_t rows = paths.rows() * paths.max_length();
  const std::size_t tokens = fixture.layout.token_count();
  std::vector<float> logits(rows * tokens), gradient(rows * tokens);
  std::mt19937_64 rng(2);
  std::uniform_real_distribution<float> value(-4.0f, 4.0f);
  for (float& z : logits) z = value(rng);
  std::vector<double> rewards(paths.rows()), baselines(paths.rows(), 0.25);
  for (std::size_t p = 0; p < rewards.size(); ++p) rewards[p] = static_cast<double>(p % 3) * 0.5;
  lg::reinforce_workspace<Backend, float> scratch;
  for (auto _ : state) {
    const lg::reinforce_result result =
        lg::reinforce(backend, fixture.layout, paths, std::span<const double>(rewards), std::span<const double>(baselines),
                      lg::tensor_view<const float, 2>(logits.data(), {rows, tokens}),
                      lg::tensor_view<float, 2>(gradient.data(), {rows, tokens}), {.entropy_weight = 0.01}, scratch);
    benchmark::DoNotOptimize(result.loss);
  }
  set_counters(state, paths.rows(), tokens, threads, static_cast<double>(paths.max_length()));
  state.counters["logits_bytes"] = static_cast<double>(rows * tokens * sizeof(float));
}

/// Registers one benchmark family for every host backend configuration.
template <class Register>
void for_each_backend(Register&& add) {
  add("reference", lg::backends::reference{}, 1);
  add("cpu", lg::backends::cpu(1), 1);
  add("cpu", lg::backends::cpu(2), 2);
  add("xtensor", lg::backends::xtensor(1), 1);
  add("xtensor", lg::backends::xtensor(2), 2);
}

void register_benchmarks() {
  struct shape {
    const char* graph;
    const graph_fixture& (*fixture)();
    std::size_t inputs;
    std::size_t per_input;
  };
  const std::vector<shape> sampling{{"pets", pets, 256, 4}, {"wordnet", wordnet, 64, 4}};
  const std::vector<shape> beams{{"pets", pets, 256, 4}, {"pets", pets, 64, 46}, {"wordnet", wordnet, 64, 4}};
  for_each_backend([&](std::string_view name, auto backend, int threads) {
    const std::string suffix = "/" + std::string(name) + "/threads:" + std::to_string(threads);
    for (const shape& s : sampling) {
      benchmark::RegisterBenchmark(("sample_paths/" + std::string(s.graph) + "/inputs:" + std::to_string(s.inputs) +
                                    "/K:" + std::to_string(s.per_input) + suffix).c_str(),
                                   [=](benchmark::State& state) {
                                     sample_benchmark(state, s.fixture(), backend, threads, s.inputs, s.per_input);
                                   })
          ->Unit(benchmark::kMicrosecond);
    }
    for (const shape& s : beams) {
      benchmark::RegisterBenchmark(("beam_decode/" + std::string(s.graph) + "/inputs:" + std::to_string(s.inputs) +
                                    "/width:" + std::to_string(s.per_input) + suffix).c_str(),
                                   [=](benchmark::State& state) {
                                     beam_benchmark(state, s.fixture(), backend, threads, s.inputs, s.per_input);
                                   })
          ->Unit(benchmark::kMicrosecond);
    }
    benchmark::RegisterBenchmark(("reinforce/pets/inputs:256/K:4" + suffix).c_str(),
                                 [=](benchmark::State& state) { reinforce_benchmark(state, pets(), backend, threads, 256, 4); })
        ->Unit(benchmark::kMicrosecond);
  });
}

}  // namespace

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    const std::string_view argument = argv[i];
    if (argument.starts_with("--wordnet=")) wordnet_dir() = std::string(argument.substr(10));
  }
  register_benchmarks();
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
