/// \file
/// Block-softmax kernel benchmarks: every backend (reference on 1 thread, cpu
/// and xtensor on 1 and 2), the four shapes of shapes.hpp, float, plus a
/// STREAM-style copy of the same bytes in the same run, the exp of the cpu
/// backend against Eigen's, the 3-pass softmax against the online 2-pass
/// form, and the zero fill of a gradient (the floor of the fused NLL). Bytes
/// processed = bytes read + bytes written by the op's tensors (softmax: logits
/// in, probabilities out; backward: y and dy in, dz out; fused NLL: logits in,
/// gradient out; zero fill: the gradient out), so GB/s compares directly with
/// the copy.
///
///     block_softmax_bench --benchmark_format=json > kernels.json
///
/// Benchmark names: <op>/<backend>/threads:<n>/<shape>.

#include <benchmark/benchmark.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "labelgraph/backends/cpu.hpp"
#include "shapes.hpp"
#if defined(LABELGRAPH_BENCH_REFERENCE)
#include "labelgraph/backends/reference.hpp"
#endif
#if defined(LABELGRAPH_BENCH_XTENSOR)
#include "labelgraph/backends/xtensor.hpp"
#endif

namespace {

namespace lg = labelgraph;
using lg::bench::kernel_shape;

/// The tensors of one shape, allocated once and shared by every benchmark of it.
struct problem {
  const kernel_shape* shape;
  std::vector<float> logits;
  std::vector<float> output;
  std::vector<float> upstream;  // dy of the backward
  std::vector<float> second;    // dz of the backward
  std::vector<std::uint32_t> targets;
  std::vector<float> loss;
  std::vector<float> lse;
  std::vector<float> total = std::vector<float>(1);

  explicit problem(const kernel_shape& s)
      : shape(&s),
        logits(lg::bench::make_logits(s)),
        output(logits.size()),
        upstream(logits.size()),
        second(logits.size()),
        targets(lg::bench::make_targets(s)),
        loss(s.rows),
        lse(s.rows) {
    for (std::size_t i = 0; i < upstream.size(); ++i) upstream[i] = static_cast<float>(i % 7) * 0.25f - 0.5f;
  }
  [[nodiscard]] std::size_t rows() const { return shape->rows; }
  [[nodiscard]] std::size_t tokens() const { return shape->tokens; }
  [[nodiscard]] lg::tensor_view<const float, 2> in(const std::vector<float>& v) const { return {v.data(), {rows(), tokens()}}; }
  [[nodiscard]] lg::tensor_view<float, 2> out(std::vector<float>& v) const { return {v.data(), {rows(), tokens()}}; }
  [[nodiscard]] std::int64_t tensor_bytes() const { return static_cast<std::int64_t>(logits.size() * sizeof(float)); }
};

void finish(benchmark::State& state, const problem& p, int tensors) {
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * tensors * p.tensor_bytes());
  state.counters["rows"] = static_cast<double>(p.rows());
  state.counters["V"] = static_cast<double>(p.tokens());
}

/// The four measured ops on backend `b`.
template <class Backend>
void register_ops(const std::string& label, const Backend& b, problem& p) {
  const std::string suffix = "/" + label + "/" + p.shape->name;
  benchmark::RegisterBenchmark(("block_softmax" + suffix).c_str(), [b, &p](benchmark::State& state) {
    const lg::normalization_spec spec{p.shape->view(), lg::normalization::block, {}};
    for (auto _ : state) {
      block_softmax_kernel(b, spec, p.in(p.logits), p.out(p.output));
      benchmark::ClobberMemory();
    }
    finish(state, p, 2);
  })->UseRealTime();
  benchmark::RegisterBenchmark(("block_log_softmax" + suffix).c_str(), [b, &p](benchmark::State& state) {
    const lg::normalization_spec spec{p.shape->view(), lg::normalization::block, {}};
    for (auto _ : state) {
      block_log_softmax_kernel(b, spec, p.in(p.logits), p.out(p.output));
      benchmark::ClobberMemory();
    }
    finish(state, p, 2);
  })->UseRealTime();
  benchmark::RegisterBenchmark(("block_softmax_backward" + suffix).c_str(), [b, &p](benchmark::State& state) {
    const lg::normalization_spec spec{p.shape->view(), lg::normalization::block, {}};
    block_softmax_kernel(b, spec, p.in(p.logits), p.out(p.output));
    for (auto _ : state) {
      block_softmax_backward_kernel(b, spec, p.in(p.output), p.in(p.upstream), p.out(p.second));
      benchmark::ClobberMemory();
    }
    finish(state, p, 3);
  })->UseRealTime();
  benchmark::RegisterBenchmark(("block_nll_fwd_bwd" + suffix).c_str(), [b, &p](benchmark::State& state) {
    const lg::normalization_spec spec{p.shape->view(), lg::normalization::block, {}};
    lg::block_nll_tensors<float> t;
    t.logits = p.in(p.logits);
    t.targets = lg::tensor_view<const std::uint32_t, 1>(p.targets.data(), {p.rows()});
    t.loss = lg::tensor_view<float, 1>(p.loss.data(), {p.rows()});
    t.grad_logits = p.out(p.output);
    t.log_normalizer = lg::tensor_view<float, 1>(p.lse.data(), {p.rows()});
    t.total = lg::tensor_view<float, 1>(p.total.data(), {1});
    for (auto _ : state) {
      block_nll_kernel(b, spec, lg::regularizer{}, t);
      benchmark::ClobberMemory();
    }
    finish(state, p, 2);
  })->UseRealTime();
}

/// STREAM "copy" (c[i] = a[i]) with packet loads and ordinary stores, as the
/// kernels store, over the logits' bytes, row blocks on the cpu backend's arena.
void register_copy(int threads, problem& p) {
  const std::string name = "copy/stream/threads:" + std::to_string(threads) + "/" + p.shape->name;
  benchmark::RegisterBenchmark(name.c_str(), [threads, &p](benchmark::State& state) {
    const lg::backends::cpu b(threads);
    namespace ei = Eigen::internal;
    using packet = lg::backends::cpu_detail::packet<float>;
    constexpr std::size_t W = lg::backends::cpu_detail::lanes<float>;
    for (auto _ : state) {
      b.for_row_blocks(p.rows(), p.tokens(), [&](std::size_t first, std::size_t last, auto&) {
        const float* from = p.logits.data() + first * p.tokens();
        float* to = p.output.data() + first * p.tokens();
        const std::size_t n = (last - first) * p.tokens();
        for (std::size_t i = 0; i < n; i += W) ei::pstoreu(to + i, ei::ploadu<packet>(from + i));
      });
      benchmark::ClobberMemory();
    }
    finish(state, p, 2);
  })->UseRealTime();
}

/// The floor of the fused NLL's gradient output: zeroing [rows, V] (one
/// `memset` per row block on the cpu backend's arena, so glibc picks ordinary
/// or non-temporal stores as it does for torch's `zeros`). Any fused NLL that
/// returns a dense gradient, ours or libtorch's, writes at least these bytes.
void register_zero_fill(int threads, problem& p) {
  const std::string name = "zero_fill/memset/threads:" + std::to_string(threads) + "/" + p.shape->name;
  benchmark::RegisterBenchmark(name.c_str(), [threads, &p](benchmark::State& state) {
    const lg::backends::cpu b(threads);
    for (auto _ : state) {
      b.for_row_blocks(p.rows(), p.tokens(), [&](std::size_t first, std::size_t last, auto&) {
        std::memset(p.output.data() + first * p.tokens(), 0, (last - first) * p.tokens() * sizeof(float));
      });
      benchmark::ClobberMemory();
    }
    finish(state, p, 1);
  })->UseRealTime();
}

/// The 3-pass row kernel of the cpu backend against the online 2-pass form,
/// one thread, no TBB: which one to ship is a measurement (DESIGN.md section 5).
void register_softmax_forms(problem& p) {
  benchmark::RegisterBenchmark(("softmax_form/three_pass/threads:1/" + p.shape->name).c_str(), [&p](benchmark::State& state) {
    const auto& s = *p.shape;
    for (auto _ : state) {
      for (std::size_t r = 0; r < p.rows(); ++r) {
        lg::backends::cpu_detail::block_softmax_row(p.logits.data() + r * p.tokens(), p.output.data() + r * p.tokens(),
                                                    s.group_offsets.data(), s.groups(), nullptr);
      }
      benchmark::ClobberMemory();
    }
    finish(state, p, 2);
  })->UseRealTime();
  benchmark::RegisterBenchmark(("softmax_form/online_two_pass/threads:1/" + p.shape->name).c_str(), [&p](benchmark::State& state) {
    const auto& s = *p.shape;
    for (auto _ : state) {
      for (std::size_t r = 0; r < p.rows(); ++r) {
        lg::backends::cpu_detail::block_softmax_row_online(p.logits.data() + r * p.tokens(),
                                                           p.output.data() + r * p.tokens(), s.group_offsets.data(), s.groups());
      }
      benchmark::ClobberMemory();
    }
    finish(state, p, 2);
  })->UseRealTime();
}

/// A packet function over 4096 floats (L1-resident), items/s = values/s.
template <class PacketFunction>
void register_packet_function(const std::string& name, const std::vector<float>& x, PacketFunction f) {
  namespace ei = Eigen::internal;
  using packet = lg::backends::cpu_detail::packet<float>;
  constexpr std::size_t W = lg::backends::cpu_detail::lanes<float>;
  benchmark::RegisterBenchmark(name.c_str(), [&x, f](benchmark::State& state) {
    std::vector<float> y(x.size());
    for (auto _ : state) {
      for (std::size_t i = 0; i < x.size(); i += W) ei::pstoreu(y.data() + i, f(ei::ploadu<packet>(x.data() + i)));
      benchmark::ClobberMemory();
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * x.size()));
  });
}

/// The cpu backend's `exp_packet` and `log_packet` against Eigen's `pexp` and
/// `plog`, on the arguments the kernels give them (exp: shifted logits <= 0;
/// log: sums of a group's exps, in [1, group size]).
void register_vector_math() {
  namespace ei = Eigen::internal;
  namespace cd = lg::backends::cpu_detail;
  using packet = cd::packet<float>;
  static std::vector<float> exp_arguments(4096), log_arguments(4096);
  for (std::size_t i = 0; i < 4096; ++i) {
    exp_arguments[i] = -static_cast<float>(i % 97) * 0.25f;
    log_arguments[i] = 1.0f + static_cast<float>(i % 97) * 0.25f;
  }
  register_packet_function("exp/labelgraph_exp_packet/threads:1/4096", exp_arguments, [](const packet& x) { return cd::exp_packet(x); });
  register_packet_function("exp/eigen_pexp/threads:1/4096", exp_arguments, [](const packet& x) { return ei::pexp(x); });
  register_packet_function("log/labelgraph_log_packet/threads:1/4096", log_arguments, [](const packet& x) { return cd::log_packet(x); });
  register_packet_function("log/eigen_plog/threads:1/4096", log_arguments, [](const packet& x) { return ei::plog(x); });
}

}  // namespace

int main(int argc, char** argv) {
  static const std::vector<kernel_shape> shapes = lg::bench::kernel_shapes();
  static std::vector<problem> problems;
  problems.reserve(shapes.size());
  for (const auto& shape : shapes) problems.emplace_back(shape);

  register_vector_math();
  for (auto& p : problems) {
    for (int threads : {1, 2}) register_copy(threads, p);
    for (int threads : {1, 2}) register_zero_fill(threads, p);
#if defined(LABELGRAPH_BENCH_REFERENCE)
    register_ops("reference/threads:1", lg::backends::reference{}, p);
#endif
    for (int threads : {1, 2}) register_ops("cpu/threads:" + std::to_string(threads), lg::backends::cpu(threads), p);
#if defined(LABELGRAPH_BENCH_XTENSOR)
    for (int threads : {1, 2}) register_ops("xtensor/threads:" + std::to_string(threads), lg::backends::xtensor(threads), p);
#endif
    register_softmax_forms(p);
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
