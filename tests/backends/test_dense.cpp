// The dense operations of dense_backend against brute force (and so against
// each other), float and double.
#include <catch2/catch.hpp>

#include <cmath>
#include <random>
#include <type_traits>
#include <vector>

#include "test_support.hpp"

using namespace labelgraph;
using namespace labelgraph::testing;

namespace {

/// Entry (i, j) of 0.5·op(A)·op(B) + 2·C, summed in double over the inner
/// dimension k: what both GEMM tests expect.
template <class T>
double expected_gemm_entry(const host_matrix<T>& a, const host_matrix<T>& b, const host_matrix<T>& c, transpose ta,
                           transpose tb, std::size_t i, std::size_t j, std::size_t k) {
  double sum = 0.0;
  for (std::size_t l = 0; l < k; ++l) {
    sum += static_cast<double>(ta == transpose::no ? a(i, l) : a(l, i)) *
           static_cast<double>(tb == transpose::no ? b(l, j) : b(j, l));
  }
  return 0.5 * sum + 2 * static_cast<double>(c(i, j));
}

}  // namespace

TEMPLATE_LIST_TEST_CASE("GEMM with every transpose combination", "[backends][dense]", backends_under_test) {
  if constexpr (dense_backend<TestType>) {
    std::mt19937_64 rng(4);
    constexpr std::size_t m = 19, k = 37, n = 23;
    for_each_instance_and_type<TestType>([&]<class T>(const TestType& backend, std::type_identity<T>) {
      for (transpose ta : {transpose::no, transpose::yes}) {
        for (transpose tb : {transpose::no, transpose::yes}) {
          INFO("ta " << static_cast<int>(ta) << " tb " << static_cast<int>(tb));
          const auto a = ta == transpose::no ? random_logits<T>(rng, m, k, 1.0, 2) : random_logits<T>(rng, k, m, 1.0, 2);
          const auto b = tb == transpose::no ? random_logits<T>(rng, k, n, 1.0) : random_logits<T>(rng, n, k, 1.0);
          auto c = random_logits<T>(rng, m, n, 1.0, 1);
          const auto c_before = c;
          gemm(backend, ta, tb, T(0.5), a.view(), b.view(), T(2), c.view());
          for (std::size_t i = 0; i < m; ++i) {
            for (std::size_t j = 0; j < n; ++j) {
              const double expected = expected_gemm_entry(a, b, c_before, ta, tb, i, j, k);
              REQUIRE(close(static_cast<double>(c(i, j)), expected, relative_tolerance<T> * 10, k));
            }
          }
        }
      }
      // β = 0 ignores what C held, even NaN (BLAS semantics).
      const auto a = random_logits<T>(rng, 2, 3, 1.0);
      const auto b = random_logits<T>(rng, 3, 2, 1.0);
      host_matrix<T> c(2, 2, 0, static_cast<T>(std::nan("")));
      gemm(backend, transpose::no, transpose::no, T(1), a.view(), b.view(), T(0), c.view());
      CHECK(no_nan(c.view()));
    });
  }
}

// Products of at least 2^27 multiply-adds take another partition of C (a grid
// of row × column blocks, backends/cpu/.../dense_kernels.hpp): checked against
// brute force on sampled entries, every transpose combination, and bitwise
// equal on 1 and 2 threads. Shape: C [600, 4500] = 2 × 2 blocks, inner 64.
TEMPLATE_LIST_TEST_CASE("large GEMMs (the block grid) match brute force and the thread count does not change a bit",
                        "[backends][dense]", backends_under_test) {
  if constexpr (dense_backend<TestType> && !std::is_same_v<TestType, backends::reference>) {
    std::mt19937_64 rng(6);
    constexpr std::size_t m = 600, k = 64, n = 4500;
    static_assert(m * n * k >= std::size_t{1} << 27);
    using T = float;
    for (transpose ta : {transpose::no, transpose::yes}) {
      for (transpose tb : {transpose::no, transpose::yes}) {
        INFO("ta " << static_cast<int>(ta) << " tb " << static_cast<int>(tb));
        const auto a = ta == transpose::no ? random_logits<T>(rng, m, k, 1.0) : random_logits<T>(rng, k, m, 1.0);
        const auto b = tb == transpose::no ? random_logits<T>(rng, k, n, 1.0) : random_logits<T>(rng, n, k, 1.0);
        const auto c_before = random_logits<T>(rng, m, n, 1.0);
        std::vector<host_matrix<T>> results;
        for_each_instance<TestType>([&](const TestType& backend, const std::string&) {
          auto c = c_before;
          gemm(backend, ta, tb, T(0.5), a.view(), b.view(), T(2), c.view());
          for (std::size_t i = 0; i < m; i += 7) {
            for (std::size_t j = i % 11; j < n; j += 11) {
              const double expected = expected_gemm_entry(a, b, c_before, ta, tb, i, j, k);
              REQUIRE(close(static_cast<double>(c(i, j)), expected, relative_tolerance<T> * 10, k));
            }
          }
          results.push_back(std::move(c));
        });
        for (std::size_t r = 1; r < results.size(); ++r) CHECK(results[r].storage == results[0].storage);
      }
    }
  }
}

TEMPLATE_LIST_TEST_CASE("bias, elementwise ops and activations", "[backends][dense]", backends_under_test) {
  if constexpr (dense_backend<TestType>) {
    std::mt19937_64 rng(5);
    for_each_instance_and_type<TestType>([&]<class T>(const TestType& backend, std::type_identity<T>) {
      const double tol = relative_tolerance<T> * 4;
      constexpr std::size_t rows = 13, cols = 29;
      const auto x = random_logits<T>(rng, rows, cols, 3.0, 1);
      const auto y = random_logits<T>(rng, rows, cols, 3.0);
      std::vector<T> bias(cols);
      for (std::size_t j = 0; j < cols; ++j) bias[j] = static_cast<T>(0.25 * static_cast<double>(j) - 3);

      auto shifted = x;
      add_bias(backend, host_view(std::as_const(bias)), shifted.view());
      std::vector<T> sums(cols);
      column_sum(backend, x.view(), host_view(sums));
      host_matrix<T> total(rows, cols), product(rows, cols);
      add(backend, x.view(), y.view(), total.view());
      multiply(backend, x.view(), y.view(), product.view());
      auto scaled = x;
      scale(backend, T(-1.5), scaled.view());
      for (std::size_t j = 0; j < cols; ++j) {
        double column = 0.0;
        for (std::size_t i = 0; i < rows; ++i) {
          const double xi = static_cast<double>(x(i, j)), yi = static_cast<double>(y(i, j));
          column += xi;
          CHECK(close(static_cast<double>(shifted(i, j)), xi + static_cast<double>(bias[j]), tol, 3.0));
          CHECK(close(static_cast<double>(total(i, j)), xi + yi, tol, 3.0));
          CHECK(close(static_cast<double>(product(i, j)), xi * yi, tol, 3.0));
          CHECK(close(static_cast<double>(scaled(i, j)), -1.5 * xi, tol, 3.0));
        }
        CHECK(close(static_cast<double>(sums[j]), column, tol, 3.0 * rows));
      }

      host_matrix<T> out(rows, cols), grad(rows, cols);
      for (activation kind : {activation::identity, activation::tanh, activation::sigmoid, activation::relu}) {
        INFO("activation " << static_cast<int>(kind));
        activate(backend, kind, x.view(), out.view());
        activation_backward(backend, kind, out.view(), y.view(), grad.view());
        for (std::size_t i = 0; i < rows; ++i) {
          for (std::size_t j = 0; j < cols; ++j) {
            const double xi = static_cast<double>(x(i, j));
            double f = xi, slope = 1.0;
            switch (kind) {
              case activation::identity: break;
              case activation::tanh: f = std::tanh(xi); slope = 1 - f * f; break;
              case activation::sigmoid: f = 1 / (1 + std::exp(-xi)); slope = f * (1 - f); break;
              case activation::relu: f = xi > 0 ? xi : 0; slope = xi > 0 ? 1 : 0; break;
            }
            CHECK(close(static_cast<double>(out(i, j)), f, tol, 1.0));
            CHECK(close(static_cast<double>(grad(i, j)), slope * static_cast<double>(y(i, j)), tol * 4, 1.0));
          }
        }
      }
      // In place: y = f(y).
      auto in_place = x;
      activate(backend, activation::tanh, in_place.view(), in_place.view());
      CHECK(close(static_cast<double>(in_place(3, 4)), std::tanh(static_cast<double>(x(3, 4))), tol, 1.0));
    });
  }
}
