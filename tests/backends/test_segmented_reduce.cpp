// Segmented reductions (sum, mean, logsumexp, max, min, argmin) on every
// backend against brute force, with empty segments and NaN.
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <random>
#include <type_traits>
#include <vector>

#include "test_support.hpp"

using namespace labelgraph;
using namespace labelgraph::testing;

namespace {

/// Brute force, straight from the definitions.
double brute_force(reduction kind, const std::vector<double>& segment) {
  if (segment.empty()) {
    switch (kind) {
      case reduction::sum:
      case reduction::mean: return 0.0;
      case reduction::logsumexp:
      case reduction::max: return -inf;
      case reduction::min: return inf;
      case reduction::argmin: return static_cast<double>(no_index);
    }
  }
  double sum = 0.0, lowest = segment[0], highest = segment[0];
  std::size_t argmin = 0;
  for (std::size_t i = 0; i < segment.size(); ++i) {
    sum += segment[i];
    if (segment[i] < lowest) {
      lowest = segment[i];
      argmin = i;
    }
    highest = std::max(highest, segment[i]);
  }
  double exp_sum = 0.0;
  for (double x : segment) exp_sum += std::exp(x - highest);
  switch (kind) {
    case reduction::sum: return sum;
    case reduction::mean: return sum / static_cast<double>(segment.size());
    case reduction::logsumexp: return highest + std::log(exp_sum);
    case reduction::max: return highest;
    case reduction::min: return lowest;
    case reduction::argmin: return static_cast<double>(argmin);
  }
  return 0.0;
}

}  // namespace

TEMPLATE_LIST_TEST_CASE("segmented reductions match brute force, empty segments included", "[backends][reduce]",
                        backends_under_test) {
  std::mt19937_64 rng(17);
  // Segment lengths with empties at the start, middle and end, and one long segment.
  std::vector<std::uint32_t> lengths{0, 3, 1, 0, 0, 7, 2, 130, 5, 0};
  for (int i = 0; i < 40; ++i) lengths.push_back(static_cast<std::uint32_t>(rng() % 9));
  lengths.push_back(0);
  std::vector<std::uint32_t> offsets{0};
  for (auto n : lengths) offsets.push_back(offsets.back() + n);
  std::uniform_real_distribution<double> value(-20, 20);
  std::vector<double> source(offsets.back());
  for (auto& x : source) x = value(rng);
  const std::size_t segments = lengths.size();

  for_each_instance_and_type<TestType>([&]<class T>(const TestType& backend, std::type_identity<T>) {
    std::vector<T> values(source.begin(), source.end());
    for (reduction kind : {reduction::sum, reduction::mean, reduction::logsumexp, reduction::max, reduction::min,
                           reduction::argmin}) {
      INFO(to_string(kind));
      std::vector<T> out(segments, T(-3));
      std::vector<std::uint32_t> index(segments, 12345);
      if (kind == reduction::argmin) {
        segmented_reduce(backend, kind, host_view(std::as_const(values)), host_view(std::as_const(offsets)),
                         host_view(out), host_view(index));
      } else {
        segmented_reduce(backend, kind, host_view(std::as_const(values)), host_view(std::as_const(offsets)),
                         host_view(out));
      }
      for (std::size_t s = 0; s < segments; ++s) {
        INFO("segment " << s << " of length " << lengths[s]);
        const std::vector<double> segment(values.begin() + offsets[s], values.begin() + offsets[s + 1]);
        const double expected = brute_force(kind, segment);
        if (kind == reduction::argmin) {
          CHECK(static_cast<double>(index[s]) == expected);
          CHECK(static_cast<double>(out[s]) == brute_force(reduction::min, segment));
        } else {
          // Sums of up to 130 values of magnitude 20: relative to that scale.
          CHECK(close(static_cast<double>(out[s]), expected, relative_tolerance<T>, 20.0 * static_cast<double>(1 + segment.size())));
        }
      }
    }
  });
}

TEMPLATE_LIST_TEST_CASE("segmented reductions: ties, -inf and NaN stay in their segment", "[backends][reduce]",
                        backends_under_test) {
  for_each_instance<TestType>([&](const TestType& backend, const std::string&) {
    const std::vector<double> values{2, -1, -1, 5, -inf, -inf, 1, std::nan(""), 0, 3};
    const std::vector<std::uint32_t> offsets{0, 4, 6, 9, 10};  // {2, −1, −1, 5} {−inf, −inf} {1, NaN, 0} {3}
    std::vector<double> out(4);
    std::vector<std::uint32_t> index(4);
    segmented_reduce(backend, reduction::argmin, host_view(values), host_view(offsets), host_view(out), host_view(index));
    CHECK(index == std::vector<std::uint32_t>{1, 0, 1, 0});  // ties: lowest; NaN: its own position
    segmented_reduce(backend, reduction::logsumexp, host_view(values), host_view(offsets), host_view(out));
    CHECK(out[0] == Approx(5 + std::log(1 + std::exp(-3.0) + 2 * std::exp(-6.0))));
    CHECK(out[1] == -inf);  // all −inf: −inf, not NaN
    CHECK(std::isnan(out[2]));
    CHECK(out[3] == 3.0);
    segmented_reduce(backend, reduction::max, host_view(values), host_view(offsets), host_view(out));
    CHECK(out[0] == 5.0);
    CHECK(out[1] == -inf);
    CHECK(std::isnan(out[2]));
    CHECK(out[3] == 3.0);
  });
}
