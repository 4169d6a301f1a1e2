/// \file
/// Training throughput of the Fashion-MNIST fusion trainer (docs/performance.md,
/// "Training throughput: fashion_fusion against libtorch"; run by
/// scripts/bench-trainers), samples per second of one training step:
///
/// - `trainer_step/labelgraph-cpu/threads:<n>`: `fashion_trainer<cpu, float>`
///   (examples/fashion_fusion/trainer.hpp), model label-aug with fusion (half
///   of each batch from pool B's coarse labels, so REINFORCE runs on the A
///   samples whose label has a nondeterministic path), on a cpu backend of n
///   threads;
/// - `trainer_step/libtorch/threads:<n>` (when libtorch is found):
///   `torch_fashion_trainer` (examples/libtorch_fashion/torch_model.hpp), the
///   same model and step in libtorch ops and autograd, `at::set_num_threads(n)`.
///
/// Both use fashion_fusion's default sizes (trainer_options: hidden 256,
/// state 128, embedding 32, batch 128, b-share 0.5) and the same seed, so
/// they draw the same batches (and hence the same decoder rows) from the same
/// split (A = 1,000 images, B = the rest), and start from the same weights.
/// Before timing, the first step of both is run from a fresh start and the
/// teacher-forced NLLs are put in the JSON context
/// (`first_step_teacher_nll_*`): equal to float rounding when the two
/// implementations compute the same model. Items = samples, so
/// `items_per_second` is samples/s. Without the Fashion-MNIST files
/// (Debian `dataset-fashion-mnist`) the images are random pixels: a step's
/// cost does not depend on their values.
///
///     trainer_bench --benchmark_format=json > trainers.json

#include <benchmark/benchmark.h>

#ifdef LABELGRAPH_BENCH_TORCH
#include "torch_model.hpp"
#endif

#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "labelgraph/backends/cpu.hpp"
#include "trainer.hpp"

namespace {

namespace lg = labelgraph;
namespace lx = labelgraph::examples;

/// The training set, the graph and fashion_fusion's `--fusion` pools.
struct fixture {
  lx::image_set train;
  lx::fashion_label_space space;
  std::vector<lx::training_item> pool_a, pool_b;
  lx::trainer_options options;
  bool real_images = false;

  fixture() : space(lx::make_label_space(FASHION_GRAPH, 0.0)) {
    const std::filesystem::path data = lx::default_fashion_directory;
    if (std::filesystem::exists(data / "train-images-idx3-ubyte.gz")) {
      train = lx::read_fashion(data, "train");
      real_images = true;
    } else {
      train.count = 8000;  // A = 1,000 and B = 7,000: a smaller B draws the same batch shapes
      train.pixels = 784;
      train.images.resize(train.count * train.pixels);
      train.labels.resize(train.count);
      std::uint64_t state = 0x9E3779B97F4A7C15ull;
      const auto next = [&state] { return state = state * 6364136223846793005ull + 1442695040888963407ull; };
      for (float& pixel : train.images) pixel = static_cast<float>(next() >> 40) * 0x1.0p-24f;
      for (std::uint8_t& label : train.labels) label = static_cast<std::uint8_t>((next() >> 33) % 10);
    }
    const lx::fusion_split split = lx::split_training_set(train.count, 1000, 0, options.seed);
    for (std::uint32_t i : split.a) pool_a.push_back({i, space.fine_node[train.labels[i]], false});
    for (std::uint32_t i : split.b) pool_b.push_back({i, space.coarse_node[train.labels[i]], true});
    options.kind = lx::model_kind::label_aug;
  }
};

const fixture& data() {
  static const fixture f;
  return f;
}

void set_counters(benchmark::State& state, int threads) {
  const lx::trainer_options& o = data().options;
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * o.batch));
  state.counters["threads"] = threads;
  state.counters["batch"] = static_cast<double>(o.batch);
  state.counters["hidden"] = static_cast<double>(o.hidden);
  state.counters["state"] = static_cast<double>(o.state);
  state.counters["embedding"] = static_cast<double>(o.embedding);
}

/// Runs `train(1)` of a trainer made by `make(threads)` per iteration, after two warm-up steps.
template <class Make>
void time_steps(benchmark::State& state, int threads, const Make& make) {
  auto trainer = make(threads);
  trainer->train(2);
  for (auto _ : state) {
    const lx::step_statistics stats = trainer->train(1);
    benchmark::DoNotOptimize(stats.loss);
  }
  set_counters(state, threads);
}

/// Registers `trainer_step/<name>/threads:1` and `:2` for the trainers `make(threads)`
/// makes, and puts the teacher-forced NLL of a fresh trainer's first step into the
/// context as `first_step_teacher_nll_<context>`.
template <class Make>
void register_trainer(const std::string& name, const std::string& context, Make make) {
  char text[64];
  std::snprintf(text, sizeof text, "%.9g", make(1)->train(1).teacher_loss);
  benchmark::AddCustomContext("first_step_teacher_nll_" + context, text);
  for (int threads : {1, 2}) {
    benchmark::RegisterBenchmark(("trainer_step/" + name + "/threads:" + std::to_string(threads)).c_str(),
                                 [threads, make](benchmark::State& state) { time_steps(state, threads, make); })
        ->UseRealTime()
        ->Unit(benchmark::kMillisecond);
  }
}

using cpu_trainer = lx::fashion_trainer<lg::backends::cpu, float>;

std::unique_ptr<cpu_trainer> make_cpu_trainer(int threads) {
  const fixture& f = data();
  return std::make_unique<cpu_trainer>(lg::backends::cpu(threads), f.space, f.train, f.pool_a, f.pool_b, f.options);
}

#ifdef LABELGRAPH_BENCH_TORCH
std::unique_ptr<lx::torch_fashion_trainer> make_torch_trainer(int threads) {
  at::set_num_threads(threads);
  const fixture& f = data();
  return std::make_unique<lx::torch_fashion_trainer>(f.space, f.train, f.pool_a, f.pool_b, f.options);
}
#endif

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  const fixture& f = data();
  benchmark::AddCustomContext("images", f.real_images ? "Fashion-MNIST" : "random pixels");
  register_trainer("labelgraph-cpu", "labelgraph", make_cpu_trainer);
#ifdef LABELGRAPH_BENCH_TORCH
  register_trainer("libtorch", "libtorch", make_torch_trainer);
#endif
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
