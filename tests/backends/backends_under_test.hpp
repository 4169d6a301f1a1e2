#pragma once
/// \file
/// The backends every test in tests/backends runs on. To test a new backend
/// against the reference, add one `#if __has_include` block below (and link
/// its target in tests/backends/CMakeLists.txt); give it a
/// `backend_instances` specialisation if one object is not enough (the cpu
/// and xtensor backends are tested with 1 and 2 threads).

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

/// A backend on a oneTBB arena, with one and with two threads.
template <class Backend>
struct threaded_instances {
  static std::vector<Backend> make() { return {Backend(1), Backend(2)}; }
};

#ifdef LABELGRAPH_TEST_CPU_BACKEND
template <>
struct backend_instances<labelgraph::backends::cpu> : threaded_instances<labelgraph::backends::cpu> {};
#endif
#ifdef LABELGRAPH_TEST_XTENSOR_BACKEND
template <>
struct backend_instances<labelgraph::backends::xtensor> : threaded_instances<labelgraph::backends::xtensor> {};
#endif

}  // namespace labelgraph::testing
