/// \file
/// The libtorch side of the kernel comparison: every variant of
/// torch_variants.hpp (segmented softmax and fused block NLL forward +
/// backward, the fastest ways torch allows) on the shapes of shapes.hpp,
/// float, 1 and 2 threads (`at::set_num_threads`, set explicitly: Debian's
/// libtorch would otherwise pick its own). tests/bench/test_torch_variants.cpp
/// checks that each variant computes what the labelgraph kernels compute.
/// Bytes processed are counted as in block_softmax_bench (logits in + result
/// out) so GB/s and ratios compare directly.
///
///     block_softmax_torch_bench --benchmark_format=json > torch.json
///
/// Benchmark names: <op>/torch_<variant>/threads:<n>/<shape>.

#include <benchmark/benchmark.h>

#include <cstdint>
#include <string>
#include <vector>

#include "torch_variants.hpp"

namespace {

using labelgraph::bench::kernel_shape;
using labelgraph::bench::torch_problem;

void finish(benchmark::State& state, const torch_problem& p) {
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * 2 * p.tensor_bytes());
  state.counters["rows"] = static_cast<double>(p.shape->rows);
  state.counters["V"] = static_cast<double>(p.shape->tokens);
}

template <class Op>
void register_variant(const std::string& name, int threads, const torch_problem& p, Op op) {
  benchmark::RegisterBenchmark(name.c_str(), [threads, &p, op](benchmark::State& state) {
    at::set_num_threads(threads);
    try {
      op(p);
    } catch (const std::exception& error) {
      state.SkipWithError(error.what());
      return;
    }
    for (auto _ : state) {
      benchmark::DoNotOptimize(op(p));
    }
    finish(state, p);
  })->UseRealTime();
}

}  // namespace

int main(int argc, char** argv) {
  static const std::vector<kernel_shape> shapes = labelgraph::bench::kernel_shapes();
  static std::vector<torch_problem> problems;
  problems.reserve(shapes.size());
  for (const auto& shape : shapes) problems.emplace_back(shape);
  for (const auto& p : problems) {
    for (int threads : {1, 2}) {
      const std::string suffix = "/threads:" + std::to_string(threads) + "/" + p.shape->name;
      for (const auto& variant : labelgraph::bench::torch_softmax_variants) {
        if (!variant.applies(p)) continue;
        register_variant("block_softmax/" + std::string(variant.name) + suffix, threads, p,
                         [run = variant.run](const torch_problem& q) { run(q); return q.out.data_ptr<float>(); });
      }
      for (const auto& variant : labelgraph::bench::torch_nll_variants) {
        register_variant("block_nll_fwd_bwd/" + std::string(variant.name) + suffix, threads, p,
                         [run = variant.run](const torch_problem& q) { return run(q).grad.data_ptr<float>(); });
      }
    }
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
