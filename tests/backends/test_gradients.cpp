// Gradients against central finite differences, in double, on every backend:
// softmax backward, log-softmax backward and the fused NLL (every
// normalization and mask kind, weights, ignored rows, label smoothing, MaxSup)
// on the pet layout and on random layouts.
//
// Central differences (f(z + h) − f(z − h)) / 2h with h = 1e-5 have truncation
// error ~h²·f''' ≈ 1e-10 and rounding error ~1e-16·|f| / h ≈ 1e-10 here, so
// agreement to 1e-6 (relative, floor 1) is a real check, not a tautology.
#include <catch2/catch.hpp>

#include <random>
#include <vector>

#include "test_support.hpp"

using namespace labelgraph;
using namespace labelgraph::testing;

namespace {

constexpr double step = 1e-5;
constexpr double gradient_tolerance = 1e-6;

/// Checks `analytic` [rows, V] against central differences of the scalar `f(logits)`.
template <class F>
void check_against_finite_differences(host_matrix<double> logits, const host_matrix<double>& analytic, F&& f,
                                      const char* what) {
  for (std::size_t r = 0; r < logits.rows; ++r) {
    for (std::size_t v = 0; v < logits.cols; ++v) {
      const double saved = logits(r, v);
      logits(r, v) = saved + step;
      const double up = f(logits);
      logits(r, v) = saved - step;
      const double down = f(logits);
      logits(r, v) = saved;
      const double numeric = (up - down) / (2 * step);
      if (!close(analytic(r, v), numeric, gradient_tolerance, 1.0)) {
        FAIL(what << ": d/dz(" << r << ", " << v << ") = " << analytic(r, v) << ", finite differences " << numeric);
      }
    }
  }
}

template <class B>
void check_softmax_gradients(const B& backend, const layout_view& layout, normalization norm, const mask_fixture& mask,
                             std::mt19937_64& rng, std::size_t rows) {
  const auto logits = random_logits<double>(rng, rows, layout.tokens, 3.0);
  const auto weights = random_logits<double>(rng, rows, layout.tokens, 1.0);  // upstream dy = c
  host_matrix<double> y(rows, layout.tokens), dz(rows, layout.tokens);

  // L = Σ c ⊙ softmax(z): dL/dz = softmax_backward(y, c).
  block_softmax(backend, layout, logits.view(), y.view(), norm, mask.mask);
  block_softmax_backward(backend, layout, y.view(), weights.view(), dz.view(), norm, mask.mask);
  check_against_finite_differences(logits, dz, [&](const host_matrix<double>& z) {
    host_matrix<double> out(rows, layout.tokens);
    block_softmax(backend, layout, z.view(), out.view(), norm, mask.mask);
    double sum = 0.0;
    for (std::size_t r = 0; r < rows; ++r) {
      for (std::size_t v = 0; v < layout.tokens; ++v) sum += weights(r, v) * out(r, v);
    }
    return sum;
  }, "softmax backward");

  // L = Σ_{allowed} c ⊙ log_softmax(z): dL/dz = log_softmax_backward(log y, c), masked dy ignored.
  block_log_softmax(backend, layout, logits.view(), y.view(), norm, mask.mask);
  block_log_softmax_backward(backend, layout, y.view(), weights.view(), dz.view(), norm, mask.mask);
  check_against_finite_differences(logits, dz, [&](const host_matrix<double>& z) {
    host_matrix<double> out(rows, layout.tokens);
    block_log_softmax(backend, layout, z.view(), out.view(), norm, mask.mask);
    double sum = 0.0;
    for (std::size_t r = 0; r < rows; ++r) {
      for (std::size_t v = 0; v < layout.tokens; ++v) {
        if (mask.mask.allows(layout, r, static_cast<token_id>(v))) sum += weights(r, v) * out(r, v);
      }
    }
    return sum;
  }, "log-softmax backward");
}

template <class B>
void check_nll_gradients(const B& backend, const layout_view& layout, normalization norm, const mask_fixture& mask,
                         std::mt19937_64& rng, std::size_t rows) {
  const auto logits = random_logits<double>(rng, rows, layout.tokens, 3.0);
  const std::vector<token_id> targets = random_targets(rng, layout, mask.mask, rows);
  std::vector<double> weights(rows);
  std::uniform_real_distribution<double> weight(0.25, 2.0);
  for (auto& w : weights) w = weight(rng);
  weights[0] = 0.0;  // a zero weight: no loss, no gradient
  for (regularizer reg : {regularizer{}, regularizer::label_smoothing(0.2), regularizer::max_suppression(0.2)}) {
    INFO("regularizer " << static_cast<int>(reg.kind));
    std::vector<double> loss(rows), total(1);
    host_matrix<double> grad(rows, layout.tokens);
    block_nll_tensors<double> io{logits.view(), host_view(targets), host_view(std::as_const(weights)), host_view(loss),
                                 grad.view(), {}, host_view(total)};
    block_nll(backend, layout, norm, mask.mask, io, reg);
    CHECK(loss[0] == 0.0);
    check_against_finite_differences(logits, grad, [&](const host_matrix<double>& z) {
      std::vector<double> l(rows), t(1);
      block_nll_tensors<double> forward{z.view(), host_view(targets), host_view(std::as_const(weights)), host_view(l),
                                        {}, {}, host_view(t)};
      block_nll(backend, layout, norm, mask.mask, forward, reg);
      return t[0];
    }, "fused NLL");
  }
}

template <class B>
void check_all_gradients(const B& backend, const layout_view& layout, std::size_t rows, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  for (mask_case which : {mask_case::none, mask_case::dense, mask_case::candidates}) {
    for (normalization norm : {normalization::block, normalization::full, normalization::candidate}) {
      if (norm == normalization::candidate && which == mask_case::none) continue;
      INFO("normalization " << to_string(norm) << ", mask " << static_cast<int>(which));
      const mask_fixture mask = make_mask(which, rng, layout, rows);
      check_softmax_gradients(backend, layout, norm, mask, rng, rows);
      check_nll_gradients(backend, layout, norm, mask, rng, rows);
    }
  }
}

}  // namespace

TEMPLATE_LIST_TEST_CASE("gradients match finite differences on the pet layout", "[backends][gradients]",
                        backends_under_test) {
  const output_layout pets = make_output_layout(pet_graph());
  for_each_instance<TestType>([&](const TestType& backend, const std::string&) {
    check_all_gradients(backend, pets.view(), 6, 5);
  });
}

TEMPLATE_LIST_TEST_CASE("gradients match finite differences on random layouts", "[backends][gradients]",
                        backends_under_test) {
  std::mt19937_64 rng(99);
  const synthetic_layout first = synthetic_layout::random(rng, 8, 7, 6);
  const synthetic_layout second = synthetic_layout::random(rng, 4, 20, 4);
  for_each_instance<TestType>([&](const TestType& backend, const std::string&) {
    check_all_gradients(backend, first.view(), 5, 6);
    check_all_gradients(backend, second.view(), 4, 7);
  });
}
