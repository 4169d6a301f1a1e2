/// \file
/// The xtensor backend's exp of non-positive arguments (`exp_nonpositive`,
/// xtensor/exp.hpp) against the C library in double precision: an error
/// bound in units in the last place over [ln 2^-126, 0], and the limits the
/// softmax kernels rely on (exp(−inf) = 0, NaN kept, 0 under FLT_MIN).

#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "labelgraph/backends/xtensor/exp.hpp"
#include "ulps.hpp"

namespace {

namespace xd = labelgraph::backends::xtensor_detail;

/// exp_nonpositive lane by lane: whole batches, the last one padded with 0.
template <class T>
std::vector<T> exp_nonpositive_of(const std::vector<T>& x) {
  constexpr std::size_t W = xsimd::batch<T>::size;
  std::vector<T> padded(x);
  padded.resize((x.size() + W - 1) / W * W, T(0));
  std::vector<T> y(padded.size());
  for (std::size_t i = 0; i < padded.size(); i += W) {
    xd::exp_nonpositive(xsimd::batch<T>::load_unaligned(padded.data() + i)).store_unaligned(y.data() + i);
  }
  y.resize(x.size());
  return y;
}

TEST_CASE("xtensor exp_nonpositive (float) is within 1 ulp of exp down to FLT_MIN", "[xtensor][vector-math]") {
  std::vector<float> x;
  for (float v = -87.336f; v < 0.0f; v += 0.000731f) x.push_back(v);
  x.push_back(-0.0f);
  x.push_back(0.0f);
  const std::vector<float> y = exp_nonpositive_of(x);
  const labelgraph::testing::worst_ulps worst(x, y, [](double v) { return std::exp(v); });
  INFO("worst at x = " << worst.at);
  CHECK(worst.distance <= 1);
}

TEST_CASE("xtensor exp_nonpositive keeps the limits the kernels rely on", "[xtensor][vector-math]") {
  constexpr float infinity = std::numeric_limits<float>::infinity();
  const std::vector<float> x = {-infinity, std::numeric_limits<float>::quiet_NaN(), 0.0f, -87.34f, -104.0f, -1e30f, -87.33f};
  const std::vector<float> y = exp_nonpositive_of(x);
  CHECK(y[0] == 0.0f);
  CHECK(std::isnan(y[1]));
  CHECK(y[2] == 1.0f);
  CHECK(y[3] == 0.0f);  // under FLT_MIN: 0, not a denormal
  CHECK(y[4] == 0.0f);
  CHECK(y[5] == 0.0f);
  CHECK(y[6] == Approx(std::exp(static_cast<double>(-87.33f))).epsilon(1e-6));  // still normal
}

TEST_CASE("xtensor exp_nonpositive (double) matches exp to 1e-15 relative down to DBL_MIN", "[xtensor][vector-math]") {
  std::vector<double> x;
  for (double v = -708.0; v <= 0.0; v += 0.0137) x.push_back(v);  // e^-708 > DBL_MIN
  const std::vector<double> y = exp_nonpositive_of(x);
  for (std::size_t i = 0; i < x.size(); ++i) {
    INFO("x = " << x[i]);
    const double expected = std::exp(x[i]);
    CHECK(std::abs(y[i] - expected) <= 1e-15 * expected);
  }
  const std::vector<double> limits = exp_nonpositive_of(std::vector<double>{-std::numeric_limits<double>::infinity(), 0.0});
  CHECK(limits[0] == 0.0);
  CHECK(limits[1] == 1.0);
}

}  // namespace
