// The libtorch comparison measures the same work as the labelgraph kernels:
// every torch variant of bench/kernels/torch_variants.hpp, on the benchmark
// shapes cut to a few rows, gives the reference backend's block softmax,
// and its fused NLL's losses and gradient (the target's group only, zero
// elsewhere), to float accuracy.
// libtorch's logging (glog) defines CHECK: Catch's macros go by their CATCH_ names here.
#define CATCH_CONFIG_PREFIX_ALL
#include <catch2/catch.hpp>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string>
#include <vector>

#include "labelgraph/backends/reference.hpp"
#include "torch_variants.hpp"

using namespace labelgraph;
using labelgraph::bench::kernel_shape;
using labelgraph::bench::torch_problem;

namespace {

/// The benchmark shapes with `rows` rows each (their groups and data as in the benchmarks).
std::vector<kernel_shape> cut_shapes(std::size_t rows) {
  std::vector<kernel_shape> shapes = labelgraph::bench::kernel_shapes();
  for (auto& shape : shapes) shape.rows = rows;
  return shapes;
}

/// Where `actual` [rows, V] (contiguous float) and `expected` differ by more
/// than 1e-6 + 1e-5 |expected|, or "" when nowhere; NaN never matches.
std::string first_difference(const torch::Tensor& actual, const std::vector<float>& expected, std::size_t tokens) {
  const torch::Tensor values = actual.contiguous();
  if (static_cast<std::size_t>(values.numel()) != expected.size()) {
    return "size " + std::to_string(values.numel()) + " instead of " + std::to_string(expected.size());
  }
  const float* a = values.data_ptr<float>();
  for (std::size_t i = 0; i < expected.size(); ++i) {
    const double difference = std::abs(static_cast<double>(a[i]) - static_cast<double>(expected[i]));
    if (!(difference <= 1e-6 + 1e-5 * std::abs(static_cast<double>(expected[i])))) {
      std::ostringstream where;
      where << "row " << i / tokens << ", token " << i % tokens << ": " << a[i] << " instead of " << expected[i];
      return where.str();
    }
  }
  return "";
}

}  // namespace

CATCH_TEST_CASE("every libtorch block-softmax variant computes the reference backend's block softmax", "[bench][torch]") {
  at::set_num_threads(1);
  for (const kernel_shape& shape : cut_shapes(24)) {
    const torch_problem problem(shape);
    const std::vector<float> logits = labelgraph::bench::make_logits(shape);
    std::vector<float> expected(logits.size());
    const normalization_spec spec{shape.view(), normalization::block, {}};
    block_softmax_kernel(backends::reference{}, spec, tensor_view<const float, 2>(logits.data(), {shape.rows, shape.tokens}),
                         tensor_view<float, 2>(expected.data(), {shape.rows, shape.tokens}));
    for (const auto& variant : labelgraph::bench::torch_softmax_variants) {
      CATCH_INFO(shape.name << ", " << variant.name);
      CATCH_REQUIRE(variant.applies(problem));
      problem.out.fill_(-1.0f);
      variant.run(problem);
      CATCH_CHECK(first_difference(problem.out, expected, shape.tokens) == "");
    }
  }
}

CATCH_TEST_CASE("every libtorch fused-NLL variant computes the reference backend's losses and gradient", "[bench][torch]") {
  at::set_num_threads(1);
  for (const kernel_shape& shape : cut_shapes(24)) {
    const torch_problem problem(shape);
    const std::vector<float> logits = labelgraph::bench::make_logits(shape);
    const std::vector<std::uint32_t> targets = labelgraph::bench::make_targets(shape);
    std::vector<float> loss(shape.rows), grad(logits.size(), -1.0f);
    block_nll_tensors<float> t;
    t.logits = tensor_view<const float, 2>(logits.data(), {shape.rows, shape.tokens});
    t.targets = tensor_view<const std::uint32_t, 1>(targets.data(), {shape.rows});
    t.loss = tensor_view<float, 1>(loss.data(), {shape.rows});
    t.grad_logits = tensor_view<float, 2>(grad.data(), {shape.rows, shape.tokens});
    block_nll_kernel(backends::reference{}, normalization_spec{shape.view(), normalization::block, {}}, regularizer{}, t);
    for (const auto& variant : labelgraph::bench::torch_nll_variants) {
      CATCH_INFO(shape.name << ", " << variant.name);
      problem.out.fill_(-1.0f);
      const labelgraph::bench::nll_result result = variant.run(problem);
      CATCH_CHECK(first_difference(result.loss, loss, 1) == "");
      CATCH_CHECK(first_difference(result.grad, grad, shape.tokens) == "");
    }
  }
}
