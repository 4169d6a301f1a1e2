/// \file
/// Sequence-loss and output-layer benchmarks on the cpu backend (1 and 2
/// threads), float:
///
/// - `sequence_nll/<pooling>/<normalization>/threads:<n>/<shape>`: forward +
///   backward of `sequence_nll` on [pairs·T, V] logits (T = 4, two paths per
///   sample) at the four shapes of bench/kernels/shapes.hpp, next to the bare
///   fused kernel (`block_nll_fwd_bwd/...`) and a STREAM-style copy of the
///   same bytes (`copy/...`) measured in the same run. Bytes processed =
///   logits read + gradient written (2 tensors), so GB/s compares directly
///   with the copy; `marginal` adds a pass over each row's set of the
///   gradient (the posterior rescale) and is still credited with 2 tensors.
///   `candidate` normalises over C(u) where every step's node has all V
///   tokens as candidates (C(u) at full width); `candidate-siblings` over
///   C(u) = the target's group + EOP, what a tree's node has (its children
///   and EOP: scattered tokens, gathered by the cpu backend); `block` is the
///   paper's unmasked block softmax.
/// - `output_layer/<dense|sparse>/threads:<n>/wordnet-<rows>`: one training
///   step's output layer on the WordNet noun graph (82,115 tokens), H = 256,
///   1024 rows: dense = GEMM logits + bias + fused candidate NLL + GEMM
///   gradients of hidden and W + bias column sums through the cpu backend's
///   dense ops (`dense`) or as one Eigen GEMM per product (`dense-eigen`, the
///   fastest dense form here; 1 thread); sparse = `sparse_output_nll`.
///   Rows' current nodes are drawn uniformly from the graph (`uniform`) or
///   from random root-to-label paths (`on-path`: what teacher forcing visits,
///   weighted towards high out-degree inner nodes).
///
///     loss_bench --benchmark_format=json > loss.json

#include <benchmark/benchmark.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "labelgraph/backends/cpu.hpp"
#include "labelgraph/graph/wordnet.hpp"
#include "labelgraph/loss/sequence_nll.hpp"
#include "labelgraph/ops/dense.hpp"
#include "labelgraph/ops/sparse_output.hpp"
#include "shapes.hpp"

namespace {

namespace lg = labelgraph;
using lg::bench::kernel_shape;

constexpr std::size_t steps = 4;
constexpr std::size_t paths_per_sample = 2;

/// A 64-bit LCG (Knuth's MMIX constants): deterministic inputs.
struct lcg {
  std::uint64_t state;
  std::uint64_t next() { return state = state * 6364136223846793005ULL + 1442695040888963407ULL; }
  std::uint32_t below(std::uint64_t n) { return static_cast<std::uint32_t>((next() >> 33) % n); }
  float uniform(float scale) { return scale * (static_cast<float>(next() >> 40) * 0x1.0p-24f * 2.0f - 1.0f); }
};

/// One shape as a sequence batch: pairs = rows / T. Node 0's candidate list
/// is every token; node 1 + g's is group g and EOP (the last token).
struct sequence_problem {
  const kernel_shape* shape;
  std::vector<std::uint32_t> candidate_offsets;
  std::vector<lg::token_id> candidate_tokens;
  std::vector<float> logits, gradient, loss, lse, total = std::vector<float>(1), sample_loss;
  std::vector<lg::token_id> targets;
  std::vector<lg::node_id> nodes;          ///< node 0 on every step
  std::vector<lg::node_id> sibling_nodes;  ///< node 1 + (the target's group) on every step
  std::vector<std::uint32_t> sample_offsets;

  explicit sequence_problem(const kernel_shape& s)
      : shape(&s), candidate_offsets{0, s.tokens}, logits(lg::bench::make_logits(s)), gradient(logits.size()),
        loss(s.rows), lse(s.rows), targets(lg::bench::make_targets(s)), nodes(s.rows, 0) {
    for (lg::token_id v = 0; v < s.tokens; ++v) candidate_tokens.push_back(v);
    const lg::token_id eop = s.tokens - 1;
    for (std::uint32_t g = 0; g < s.groups(); ++g) {
      for (lg::token_id v = s.group_offsets[g]; v < s.group_offsets[g + 1]; ++v) candidate_tokens.push_back(v);
      if (s.group_offsets[g + 1] <= eop) candidate_tokens.push_back(eop);
      candidate_offsets.push_back(static_cast<std::uint32_t>(candidate_tokens.size()));
    }
    for (lg::token_id t : targets) sibling_nodes.push_back(1 + s.token_group[t]);
    for (std::size_t p = 0; p <= pairs(); p += paths_per_sample) sample_offsets.push_back(static_cast<std::uint32_t>(p));
    sample_loss.resize(sample_offsets.size() - 1);
  }
  [[nodiscard]] std::size_t pairs() const { return shape->rows / steps; }
  [[nodiscard]] lg::layout_view layout() const {
    lg::layout_view view = shape->view();
    view.nodes = 1 + shape->groups();
    view.candidate_offsets = candidate_offsets.data();
    view.candidate_tokens = candidate_tokens.data();
    return view;
  }
  [[nodiscard]] lg::tensor_view<const float, 2> in() const { return {logits.data(), {shape->rows, shape->tokens}}; }
  [[nodiscard]] lg::tensor_view<float, 2> grad() { return {gradient.data(), {shape->rows, shape->tokens}}; }
  [[nodiscard]] std::int64_t tensor_bytes() const { return static_cast<std::int64_t>(logits.size() * sizeof(float)); }
  void finish(benchmark::State& state) const {
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * 2 * tensor_bytes());
    state.counters["rows"] = static_cast<double>(shape->rows);
    state.counters["V"] = static_cast<double>(shape->tokens);
  }
};

void register_sequence(int threads, sequence_problem& p) {
  const std::string suffix = "/threads:" + std::to_string(threads) + "/" + p.shape->name;
  enum class sets { block, candidate, candidate_siblings };
  for (lg::pooling pool : {lg::pooling::mean, lg::pooling::marginal}) {
    for (sets which : {sets::block, sets::candidate, sets::candidate_siblings}) {
      const lg::normalization norm = which == sets::block ? lg::normalization::block : lg::normalization::candidate;
      const std::string sets_name = which == sets::candidate_siblings ? "candidate-siblings" : std::string(lg::to_string(norm));
      const std::string name = "sequence_nll/" + std::string(lg::to_string(pool)) + "/" + sets_name + suffix;
      benchmark::RegisterBenchmark(name.c_str(), [threads, pool, norm, which, &p](benchmark::State& state) {
        const lg::backends::cpu backend(threads);
        lg::sequence_nll_workspace<lg::backends::cpu, float> workspace;
        const lg::node_id* nodes = which == sets::candidate_siblings ? p.sibling_nodes.data() : p.nodes.data();
        const lg::sequence_nll_tensors<float> io{
            .logits = p.in(),
            .targets = {steps, {p.targets.data(), {p.pairs(), steps}}, {nodes, {p.pairs(), steps}},
                        lg::host_view(std::as_const(p.sample_offsets))},
            .sample_loss = lg::host_view(p.sample_loss),
            .total = lg::host_view(p.total),
            .grad_logits = p.grad()};
        const lg::sequence_nll_options options{.norm = norm, .candidate_mask = norm == lg::normalization::candidate,
                                               .pool = pool};
        for (auto _ : state) {
          lg::sequence_nll(backend, p.layout(), io, options, workspace);
          benchmark::ClobberMemory();
        }
        p.finish(state);
      })->UseRealTime();
    }
  }
  benchmark::RegisterBenchmark(("block_nll_fwd_bwd/block" + suffix).c_str(), [threads, &p](benchmark::State& state) {
    const lg::backends::cpu backend(threads);
    const lg::normalization_spec spec{p.shape->view(), lg::normalization::block, {}};
    lg::block_nll_tensors<float> t{p.in(), {p.targets.data(), {p.shape->rows}}, {}, lg::host_view(p.loss), p.grad(),
                                   lg::host_view(p.lse), lg::host_view(p.total)};
    for (auto _ : state) {
      block_nll_kernel(backend, spec, lg::regularizer{}, t);
      benchmark::ClobberMemory();
    }
    p.finish(state);
  })->UseRealTime();
  benchmark::RegisterBenchmark(("copy/stream" + suffix).c_str(), [threads, &p](benchmark::State& state) {
    const lg::backends::cpu backend(threads);
    namespace ei = Eigen::internal;
    using packet = lg::backends::cpu_detail::packet<float>;
    constexpr std::size_t lanes = lg::backends::cpu_detail::lanes<float>;
    const std::size_t width = p.shape->tokens;
    for (auto _ : state) {
      backend.for_row_blocks(p.shape->rows, width, [&](std::size_t first, std::size_t last, auto&) {
        const float* from = p.logits.data() + first * width;
        float* to = p.gradient.data() + first * width;
        const std::size_t n = (last - first) * width;
        for (std::size_t i = 0; i < n; i += lanes) ei::pstoreu(to + i, ei::ploadu<packet>(from + i));
      });
      benchmark::ClobberMemory();
    }
    p.finish(state);
  })->UseRealTime();
}

/// One training step's output layer on WordNet.
struct output_problem {
  static constexpr std::size_t rows = 1024;
  static constexpr std::size_t width = 256;
  const lg::output_layout* layout;
  std::string name;
  std::vector<float> hidden, weight, bias, row_weights, loss, lse, total = std::vector<float>(1);
  std::vector<float> grad_hidden, grad_weight, grad_bias, logits, column;
  std::vector<lg::node_id> nodes;
  std::vector<lg::token_id> targets;
  double mean_candidates = 0.0;

  output_problem(const lg::label_graph& graph, const lg::output_layout& l, bool on_path) : layout(&l) {
    name = std::string("wordnet-") + (on_path ? "on-path" : "uniform");
    const std::size_t tokens = l.token_count();
    lcg rng{on_path ? 7u : 3u};
    hidden.resize(rows * width);
    for (auto& x : hidden) x = rng.uniform(1.0f);
    weight.resize(tokens * width);
    for (auto& x : weight) x = rng.uniform(0.1f);
    bias.resize(tokens);
    for (auto& x : bias) x = rng.uniform(0.1f);
    row_weights.assign(rows, 1.0f);
    loss.resize(rows);
    lse.resize(rows);
    grad_hidden.resize(rows * width);
    grad_weight.assign(tokens * width, 0.0f);
    grad_bias.assign(tokens, 0.0f);
    column.resize(tokens);
    for (std::size_t r = 0; r < rows; ++r) {
      lg::node_id u = rng.below(graph.node_count());
      if (on_path) {  // a random ancestor chain of a random node, then a random node on it
        std::vector<lg::node_id> chain{u};
        while (!graph.parents(chain.back()).empty()) {
          const auto parents = graph.parents(chain.back());
          chain.push_back(parents[rng.below(parents.size())]);
        }
        u = chain[rng.below(chain.size())];
      }
      nodes.push_back(u);
      const auto candidates = l.candidates(u);
      targets.push_back(candidates[rng.below(candidates.size())]);
      mean_candidates += static_cast<double>(candidates.size()) / rows;
    }
  }
  void finish(benchmark::State& state) const {
    state.counters["V"] = static_cast<double>(layout->token_count());
    state.counters["H"] = static_cast<double>(width);
    state.counters["rows"] = static_cast<double>(rows);
    state.counters["mean_candidates"] = mean_candidates;
  }
};

void register_output_layer(int threads, output_problem& p) {
  const std::string suffix = "/threads:" + std::to_string(threads) + "/" + p.name;
  benchmark::RegisterBenchmark(("output_layer/dense" + suffix).c_str(), [threads, &p](benchmark::State& state) {
    const lg::backends::cpu backend(threads);
    const std::size_t tokens = p.layout->token_count();
    p.logits.resize(output_problem::rows * tokens);
    const lg::tensor_view<float, 2> logits(p.logits.data(), {output_problem::rows, tokens});
    const lg::tensor_view<const float, 2> hidden(p.hidden.data(), {output_problem::rows, output_problem::width});
    const lg::tensor_view<const float, 2> weight(p.weight.data(), {tokens, output_problem::width});
    for (auto _ : state) {
      lg::gemm<lg::backends::cpu, float>(backend, lg::transpose::no, lg::transpose::yes, 1.0f, hidden, weight, 0.0f, logits);
      lg::add_bias<lg::backends::cpu, float>(backend, lg::host_view(std::as_const(p.bias)), logits);
      lg::block_nll_tensors<float> io{logits, lg::host_view(std::as_const(p.targets)), lg::host_view(std::as_const(p.row_weights)),
                                      lg::host_view(p.loss), logits, lg::host_view(p.lse), lg::host_view(p.total)};
      lg::block_nll(backend, p.layout->view(), lg::normalization::candidate,
                    lg::row_mask::from_candidates(lg::host_view(std::as_const(p.nodes))), io);
      lg::gemm<lg::backends::cpu, float>(backend, lg::transpose::no, lg::transpose::no, 1.0f, logits, weight, 0.0f,
                                         {p.grad_hidden.data(), {output_problem::rows, output_problem::width}});
      lg::gemm<lg::backends::cpu, float>(backend, lg::transpose::yes, lg::transpose::no, 1.0f, logits, hidden, 1.0f,
                                         {p.grad_weight.data(), {tokens, output_problem::width}});
      lg::column_sum<lg::backends::cpu, float>(backend, logits, lg::host_view(p.column));
      benchmark::ClobberMemory();
    }
    p.finish(state);
  })->UseRealTime()->Unit(benchmark::kMillisecond)->Iterations(3);
  if (threads == 1) {  // the dense path the fastest way: one Eigen GEMM per product (Eigen is single-threaded here)
    benchmark::RegisterBenchmark(("output_layer/dense-eigen" + suffix).c_str(), [&p](benchmark::State& state) {
      const lg::backends::cpu backend(1);
      using matrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
      const auto tokens = static_cast<Eigen::Index>(p.layout->token_count());
      const auto rows = static_cast<Eigen::Index>(output_problem::rows);
      const auto width = static_cast<Eigen::Index>(output_problem::width);
      p.logits.resize(output_problem::rows * p.layout->token_count());
      Eigen::Map<matrix> z(p.logits.data(), rows, tokens);
      const Eigen::Map<const matrix> h(p.hidden.data(), rows, width);
      const Eigen::Map<const matrix> w(p.weight.data(), tokens, width);
      const Eigen::Map<const Eigen::RowVectorXf> b(p.bias.data(), tokens);
      Eigen::Map<matrix> dh(p.grad_hidden.data(), rows, width);
      Eigen::Map<matrix> dw(p.grad_weight.data(), tokens, width);
      Eigen::Map<Eigen::RowVectorXf> db(p.grad_bias.data(), tokens);
      const lg::tensor_view<float, 2> logits(p.logits.data(), {output_problem::rows, p.layout->token_count()});
      for (auto _ : state) {
        z.noalias() = h * w.transpose();
        z.rowwise() += b;
        lg::block_nll_tensors<float> io{logits, lg::host_view(std::as_const(p.targets)), lg::host_view(std::as_const(p.row_weights)),
                                        lg::host_view(p.loss), logits, lg::host_view(p.lse), lg::host_view(p.total)};
        lg::block_nll(backend, p.layout->view(), lg::normalization::candidate,
                      lg::row_mask::from_candidates(lg::host_view(std::as_const(p.nodes))), io);
        dh.noalias() = z * w;
        dw.noalias() += z.transpose() * h;
        db += z.colwise().sum();
        benchmark::ClobberMemory();
      }
      p.finish(state);
    })->UseRealTime()->Unit(benchmark::kMillisecond)->Iterations(2);
  }
  benchmark::RegisterBenchmark(("output_layer/sparse" + suffix).c_str(), [threads, &p](benchmark::State& state) {
    const lg::backends::cpu backend(threads);
    const std::size_t tokens = p.layout->token_count();
    lg::sparse_output_workspace<float> workspace;
    const lg::sparse_output_tensors<float> io{
        .hidden = {p.hidden.data(), {output_problem::rows, output_problem::width}},
        .weight = {p.weight.data(), {tokens, output_problem::width}},
        .bias = lg::host_view(std::as_const(p.bias)),
        .nodes = lg::host_view(std::as_const(p.nodes)),
        .targets = lg::host_view(std::as_const(p.targets)),
        .weights = lg::host_view(std::as_const(p.row_weights)),
        .loss = lg::host_view(p.loss),
        .log_normalizer = lg::host_view(p.lse),
        .total = lg::host_view(p.total),
        .grad_hidden = {p.grad_hidden.data(), {output_problem::rows, output_problem::width}},
        .grad_weight = {p.grad_weight.data(), {tokens, output_problem::width}},
        .grad_bias = lg::host_view(p.grad_bias)};
    for (auto _ : state) {
      lg::sparse_output_nll(backend, p.layout->view(), io, workspace);
      benchmark::ClobberMemory();
    }
    p.finish(state);
  })->UseRealTime()->Unit(benchmark::kMillisecond);
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  static const std::vector<kernel_shape> shapes = lg::bench::kernel_shapes();
  static std::vector<std::unique_ptr<sequence_problem>> sequences;
  for (const kernel_shape& shape : shapes) sequences.push_back(std::make_unique<sequence_problem>(shape));
  for (auto& p : sequences) {
    for (int threads : {1, 2}) register_sequence(threads, *p);
  }
  // WordNet from Debian's wordnet-base, when installed.
  static std::unique_ptr<lg::label_graph> graph;
  static std::unique_ptr<lg::output_layout> layout;
  static std::vector<std::unique_ptr<output_problem>> outputs;
  try {
    graph = std::make_unique<lg::label_graph>(lg::read_wordnet("/usr/share/wordnet"));
    layout = std::make_unique<lg::output_layout>(lg::make_output_layout(*graph));
    for (bool on_path : {false, true}) outputs.push_back(std::make_unique<output_problem>(*graph, *layout, on_path));
  } catch (const lg::error& e) {
    std::fprintf(stderr, "loss_bench: WordNet not available (%s); output-layer benchmarks skipped\n", e.what());
  }
  for (auto& p : outputs) {
    for (int threads : {1, 2}) register_output_layer(threads, *p);
  }
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
