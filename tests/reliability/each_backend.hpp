#pragma once
/// \file
/// `for_each_backend_type(body)`: calls `body(std::type_identity<B>{})` for
/// every backend type B of tests/backends/backends_under_test.hpp, for tests
/// that loop over backends inside one test case (a child process, a soak).

#include <tuple>
#include <type_traits>

#include "backends_under_test.hpp"

namespace labelgraph::testing {

/// Calls `body(std::type_identity<B>{})` for each backend type under test, reference first.
template <class Body>
void for_each_backend_type(Body&& body) {
  [&]<class... B>(std::tuple<B...>*) { (body(std::type_identity<B>{}), ...); }(static_cast<backends_under_test*>(nullptr));
}

}  // namespace labelgraph::testing
