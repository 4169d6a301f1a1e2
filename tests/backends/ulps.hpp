#pragma once
/// \file
/// Errors in units in the last place, for the vector-math tests of the host
/// backends' exp and log.

#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

namespace labelgraph::testing {

/// Distance in representable floats between two finite floats of the same
/// sign (floats of opposite signs come out far apart, which fails any bound).
inline std::int64_t ulps(float a, float b) {
  std::int32_t ia = 0;
  std::int32_t ib = 0;
  std::memcpy(&ia, &a, sizeof a);
  std::memcpy(&ib, &b, sizeof b);
  return ia > ib ? std::int64_t{ia} - ib : std::int64_t{ib} - ia;
}

/// The largest distance of y[i] from exact(x[i]) computed in double and
/// rounded to float, and the x where it occurs.
struct worst_ulps {
  std::int64_t distance = 0;
  float at = 0;

  template <class Exact>
  worst_ulps(const std::vector<float>& x, const std::vector<float>& y, Exact exact) {
    for (std::size_t i = 0; i < x.size(); ++i) {
      const std::int64_t d = ulps(y[i], static_cast<float>(exact(static_cast<double>(x[i]))));
      if (d > distance) {
        distance = d;
        at = x[i];
      }
    }
  }
};

}  // namespace labelgraph::testing
