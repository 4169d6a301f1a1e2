#pragma once
/// \file
/// The backends every test in tests/backends runs on. To test a new backend
/// against the reference, add one `#if __has_include` block below (and link
/// its target in tests/backends/CMakeLists.txt); give it a
/// `backend_instances` specialisation if one object is not enough (the cpu
/// backend is tested with 1 and 2 threads).

#include <tuple>
#include <vector>

#include "labelgraph/backends/reference.hpp"

#if __has_include("labelgraph/backends/cpu.hpp")
#include "labelgraph/backends/cpu.hpp"
#define LABELGRAPH_TEST_CPU_BACKEND 1
#endif

#if __has_include("labelgraph/backends/xtensor.hpp")
#include "labelgraph/backends/xtensor.hpp"
#define LABELGRAPH_TEST_XTENSOR_BACKEND 1
#endif

namespace labelgraph::testing {

/// Every backend under test, reference first.
using backends_under_test = std::tuple<labelgraph::backends::reference
#ifdef LABELGRAPH_TEST_CPU_BACKEND
                                       ,
                                       labelgraph::backends::cpu
#endif
#ifdef LABELGRAPH_TEST_XTENSOR_BACKEND
                                       ,
                                       labelgraph::backends::xtensor
#endif
                                       >;

/// The configurations of one backend that every test runs (default: one
/// default-constructed object).
template <class Backend>
struct backend_instances {
  static std::vector<Backend> make() { return {Backend{}}; }
};

#ifdef LABELGRAPH_TEST_CPU_BACKEND
/// The cpu backend with one and with two threads.
template <>
struct backend_instances<labelgraph::backends::cpu> {
  static std::vector<labelgraph::backends::cpu> make() {
    return {labelgraph::backends::cpu(1), labelgraph::backends::cpu(2)};
  }
};
#endif

}  // namespace labelgraph::testing
