/// \file
/// The cpu backend's vector exp and log (`exp_packet`, `log_packet` of
/// cpu/simd.hpp) against the C library in double precision: an error bound
/// in units in the last place over a sweep of the whole float range, and the
/// limits the kernels rely on (exp(−inf) = 0, log 0 = −inf, NaN kept).

#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <vector>

#include "labelgraph/backends/cpu.hpp"
#include "ulps.hpp"

namespace {

namespace cd = labelgraph::backends::cpu_detail;
namespace ei = Eigen::internal;

/// f applied lane by lane through `packet<T>`: whole packets, the last one padded with `pad`.
template <class T, class PacketFunction>
std::vector<T> apply(const std::vector<T>& x, PacketFunction f, T pad) {
  constexpr std::size_t W = cd::lanes<T>;
  std::vector<T> padded(x);
  padded.resize((x.size() + W - 1) / W * W, pad);
  std::vector<T> y(padded.size());
  for (std::size_t i = 0; i < padded.size(); i += W) ei::pstoreu(y.data() + i, f(ei::ploadu<cd::packet<T>>(padded.data() + i)));
  y.resize(x.size());
  return y;
}

using labelgraph::testing::worst_ulps;

#if defined(__AVX512F__)
constexpr bool avx512 = true;
#else
constexpr bool avx512 = false;
#endif

/// Every 1021st positive finite float (2.1 million values): from the smallest
/// denormal with AVX-512's `log_packet`, from FLT_MIN with Eigen's `plog`,
/// which takes denormals for FLT_MIN (the kernels' logs take sums >= 1).
std::vector<float> positive_float_sweep() {
  std::vector<float> x;
  for (std::uint32_t bits = avx512 ? 1u : 0x00800000u; bits < 0x7f800000u; bits += 1021) {
    float v = 0;
    std::memcpy(&v, &bits, sizeof v);
    x.push_back(v);
  }
  return x;
}

TEST_CASE("cpu log_packet (float) is within 1 ulp (AVX-512) or 2 of log over the positive floats", "[cpu][vector-math]") {
  const std::vector<float> x = positive_float_sweep();
  const std::vector<float> y = apply(x, [](const cd::packet<float>& p) { return cd::log_packet(p); }, 1.0f);
  const worst_ulps worst(x, y, [](double v) { return std::log(v); });
  INFO("worst at x = " << worst.at);
  // Cephes' logf polynomial: 1 ulp in the AVX-512 form; Eigen's plog elsewhere: 2 ulp allowed.
  CHECK(worst.distance <= (avx512 ? 1 : 2));
}

TEST_CASE("cpu log_packet keeps log's limits", "[cpu][vector-math]") {
  constexpr float infinity = std::numeric_limits<float>::infinity();
  const std::vector<float> x = {0.0f, -0.0f, infinity, 1.0f, -1.0f, -infinity, std::numeric_limits<float>::quiet_NaN(),
                                std::numeric_limits<float>::denorm_min(), std::numeric_limits<float>::max()};
  const std::vector<float> y = apply(x, [](const cd::packet<float>& p) { return cd::log_packet(p); }, 1.0f);
  CHECK(y[0] == -infinity);
  CHECK(y[1] == -infinity);
  CHECK(y[2] == infinity);
  CHECK(y[3] == 0.0f);
  CHECK(std::isnan(y[4]));
  CHECK(std::isnan(y[5]));
  CHECK(std::isnan(y[6]));
  if (avx512) CHECK(y[7] == Approx(std::log(static_cast<double>(std::numeric_limits<float>::denorm_min()))).epsilon(1e-7));
  CHECK(y[8] == Approx(std::log(static_cast<double>(std::numeric_limits<float>::max()))).epsilon(1e-7));
}

TEST_CASE("cpu log_packet (double) matches log to 1e-15 relative", "[cpu][vector-math]") {
  std::vector<double> x;
  for (double v = 1e-300; v < 1e300; v *= 1.37) x.push_back(v);
  for (double v = 0.5; v < 2.0; v += 1.0 / 1024) x.push_back(v);
  const std::vector<double> y = apply(x, [](const cd::packet<double>& p) { return cd::log_packet(p); }, 1.0);
  for (std::size_t i = 0; i < x.size(); ++i) {
    INFO("x = " << x[i]);
    const double expected = std::log(x[i]);
    CHECK(std::abs(y[i] - expected) <= 1e-15 * std::abs(expected) + 1e-300);
  }
}

TEST_CASE("cpu exp_packet (float) is within 2 ulp of exp where the result is normal", "[cpu][vector-math]") {
  // Up to 127.5 ln2 = 88.376: the Cephes form (builds without AVX-512) gives
  // +inf above it, 0.4% short of float's overflow at 88.72 (the kernels pass x <= 0).
  std::vector<float> x;
  for (float v = -87.0f; v < 88.37f; v += 0.000731f) x.push_back(v);
  const std::vector<float> y = apply(x, [](const cd::packet<float>& p) { return cd::exp_packet(p); }, 0.0f);
  const worst_ulps worst(x, y, [](double v) { return std::exp(v); });
  INFO("worst at x = " << worst.at);
  CHECK(worst.distance <= 2);
}

TEST_CASE("cpu exp_packet keeps exp's limits", "[cpu][vector-math]") {
  constexpr float infinity = std::numeric_limits<float>::infinity();
  const std::vector<float> x = {-infinity, infinity, std::numeric_limits<float>::quiet_NaN(), -200.0f, 200.0f, 0.0f, -1e30f, 1e30f};
  const std::vector<float> y = apply(x, [](const cd::packet<float>& p) { return cd::exp_packet(p); }, 0.0f);
  CHECK(y[0] == 0.0f);
  CHECK(y[1] == infinity);
  CHECK(std::isnan(y[2]));
  CHECK(y[3] == 0.0f);
  CHECK(y[4] == infinity);
  CHECK(y[5] == 1.0f);
  CHECK(y[6] == 0.0f);
  CHECK(y[7] == infinity);
}

}  // namespace
