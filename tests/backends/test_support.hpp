#pragma once
/// \file
/// Shared helpers of the backend tests: layouts (the pet graph, random
/// synthetic layouts), random inputs, tolerance comparisons, and a runner
/// that calls a test body for every backend configuration under test.

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "backends_under_test.hpp"
#include "labelgraph/graph/json.hpp"
#include "labelgraph/ops/ops.hpp"
#include "labelgraph/paths/output_layout.hpp"

namespace labelgraph::testing {

/// The paper's pet graph, read from examples/graphs/pets.json.
inline label_graph pet_graph() { return read_graph_json(LABELGRAPH_SOURCE_DIR "/examples/graphs/pets.json"); }

/// A layout made directly from flat arrays: random group sizes (singletons
/// included, EOP last) and random "nodes" whose candidate lists are random
/// ascending token subsets. Kernels only see `layout_view`, so this covers
/// layouts no small graph would produce.
class synthetic_layout {
public:
  synthetic_layout(std::vector<std::uint32_t> group_sizes, std::vector<std::vector<token_id>> candidates) {
    group_offsets_.push_back(0);
    for (std::uint32_t g = 0; g < group_sizes.size(); ++g) {
      for (std::uint32_t i = 0; i < group_sizes[g]; ++i) token_group_.push_back(g);
      group_offsets_.push_back(group_offsets_.back() + group_sizes[g]);
    }
    candidate_offsets_.push_back(0);
    for (auto& list : candidates) {
      std::sort(list.begin(), list.end());
      candidate_tokens_.insert(candidate_tokens_.end(), list.begin(), list.end());
      candidate_offsets_.push_back(static_cast<std::uint32_t>(candidate_tokens_.size()));
    }
    nodes_ = static_cast<std::uint32_t>(candidates.size());
  }

  /// Random group sizes in [1, max_group] (a third of them singletons), EOP last,
  /// and `nodes` candidate lists of random tokens (each non-empty; every
  /// third one consecutive).
  static synthetic_layout random(std::mt19937_64& rng, std::uint32_t groups, std::uint32_t max_group, std::uint32_t nodes) {
    std::vector<std::uint32_t> sizes;
    std::uniform_int_distribution<std::uint32_t> size(1, max_group);
    for (std::uint32_t g = 0; g < groups; ++g) sizes.push_back(rng() % 3 == 0 ? 1u : size(rng));
    sizes.push_back(1);  // EOP
    std::uint32_t tokens = 0;
    for (auto s : sizes) tokens += s;
    std::vector<std::vector<token_id>> candidates(nodes);
    std::bernoulli_distribution keep(0.4);
    for (auto& list : candidates) {
      for (token_id v = 0; v < tokens; ++v) {
        if (keep(rng)) list.push_back(v);
      }
      if (list.empty()) list.push_back(static_cast<token_id>(rng() % tokens));
    }
    // Every third list is a run of consecutive tokens (a sibling group, or
    // all tokens): the fused NLL of the cpu and xtensor backends works on
    // those in place and gathers the others (backend/candidate_nll.hpp).
    for (std::size_t u = 2; u < candidates.size(); u += 3) {
      std::vector<token_id>& list = candidates[u];
      const token_id first = list.front(), last = list.back();
      list.clear();
      for (token_id v = first; v <= last; ++v) list.push_back(v);
    }
    return synthetic_layout(std::move(sizes), std::move(candidates));
  }

  [[nodiscard]] layout_view view() const noexcept {
    const auto tokens = static_cast<std::uint32_t>(token_group_.size());
    return {tokens,
            static_cast<std::uint32_t>(group_offsets_.size() - 1),
            nodes_,
            tokens - 1,
            group_offsets_.data(),
            token_group_.data(),
            candidate_offsets_.data(),
            candidate_tokens_.data()};
  }

private:
  std::vector<std::uint32_t> group_offsets_;
  std::vector<std::uint32_t> token_group_;
  std::vector<std::uint32_t> candidate_offsets_;
  std::vector<token_id> candidate_tokens_;
  std::uint32_t nodes_ = 0;
};

/// A host [rows, cols] matrix with a row stride of `cols + padding` (padding
/// filled with a sentinel that must never leak into results).
template <class T>
struct host_matrix {
  std::size_t rows = 0;
  std::size_t cols = 0;
  std::size_t stride = 0;
  std::vector<T> storage;

  host_matrix() = default;
  host_matrix(std::size_t r, std::size_t c, std::size_t padding = 0, T fill = T(0))
      : rows(r), cols(c), stride(c + padding), storage(r * (c + padding) + 1, fill) {}

  [[nodiscard]] tensor_view<T, 2> view() { return tensor_view<T, 2>(storage.data(), {rows, cols}, {stride, 1}); }
  [[nodiscard]] tensor_view<const T, 2> view() const {
    return tensor_view<const T, 2>(storage.data(), {rows, cols}, {stride, 1});
  }
  T& operator()(std::size_t r, std::size_t c) { return storage[r * stride + c]; }
  const T& operator()(std::size_t r, std::size_t c) const { return storage[r * stride + c]; }
};

/// Logits uniform in [-scale, scale].
template <class T>
host_matrix<T> random_logits(std::mt19937_64& rng, std::size_t rows, std::size_t cols, double scale = 4.0,
                             std::size_t padding = 0) {
  host_matrix<T> logits(rows, cols, padding, T(-12345));
  std::uniform_real_distribution<double> value(-scale, scale);
  for (std::size_t r = 0; r < rows; ++r) {
    for (std::size_t c = 0; c < cols; ++c) logits(r, c) = static_cast<T>(value(rng));
  }
  return logits;
}

/// Random current nodes, one per row.
inline std::vector<node_id> random_nodes(std::mt19937_64& rng, std::size_t rows, std::uint32_t nodes) {
  std::vector<node_id> result(rows);
  for (auto& u : result) u = static_cast<node_id>(rng() % nodes);
  return result;
}

/// A random dense mask: each token allowed with probability `density` (small
/// groups are then often masked out entirely).
inline host_matrix<std::uint8_t> random_dense_mask(std::mt19937_64& rng, std::size_t rows, std::size_t cols,
                                                   double density = 0.6) {
  host_matrix<std::uint8_t> mask(rows, cols);
  std::bernoulli_distribution allowed(density);
  for (std::size_t r = 0; r < rows; ++r) {
    for (std::size_t c = 0; c < cols; ++c) mask(r, c) = allowed(rng) ? 1 : 0;
  }
  return mask;
}

/// Runs `body(std::type_identity<T>{})` for T = float, then T = double.
template <class Body>
void for_float_and_double(Body&& body) {
  body(std::type_identity<float>{});
  body(std::type_identity<double>{});
}

/// +inf and a quiet NaN, as doubles (the tests cast them to T).
constexpr double inf = std::numeric_limits<double>::infinity();
constexpr double quiet_nan = std::numeric_limits<double>::quiet_NaN();

/// Relative tolerance of the cross-backend comparisons: 1e-6 (float), 1e-12 (double).
template <class T>
constexpr double relative_tolerance = sizeof(T) == sizeof(float) ? 1e-6 : 1e-12;

/// |actual − expected| <= rel · max(|expected|, floor); equal infinities and
/// NaN == NaN count as equal (the catalogue checks NaN placement separately).
inline bool close(double actual, double expected, double rel, double floor) {
  if (std::isnan(expected) || std::isnan(actual)) return std::isnan(expected) && std::isnan(actual);
  if (std::isinf(expected) || std::isinf(actual)) return actual == expected;
  return std::abs(actual - expected) <= rel * std::max(std::abs(expected), floor);
}

/// Checks two [rows, cols] results: the same extents, then element by element;
/// reports the first mismatch.
template <class T, class U>
void require_close(const tensor_view<T, 2>& actual, const tensor_view<U, 2>& expected, double rel, double floor,
                   const std::string& what) {
  INFO(what);
  REQUIRE(actual.extent(0) == expected.extent(0));
  REQUIRE(actual.extent(1) == expected.extent(1));
  for (std::size_t r = 0; r < expected.extent(0); ++r) {
    for (std::size_t c = 0; c < expected.extent(1); ++c) {
      const double a = static_cast<double>(actual(r, c));
      const double e = static_cast<double>(expected(r, c));
      if (!close(a, e, rel, floor)) {
        FAIL(what << ": (" << r << ", " << c << ") = " << a << ", expected " << e);
      }
    }
  }
}
template <class T, class U>
void require_close(const tensor_view<T, 1>& actual, const tensor_view<U, 1>& expected, double rel, double floor,
                   const std::string& what) {
  INFO(what);
  REQUIRE(actual.extent(0) == expected.extent(0));
  for (std::size_t i = 0; i < expected.extent(0); ++i) {
    const double a = static_cast<double>(actual(i));
    const double e = static_cast<double>(expected(i));
    if (!close(a, e, rel, floor)) FAIL(what << ": (" << i << ") = " << a << ", expected " << e);
  }
}

/// True when no element is NaN.
template <class T, std::size_t Rank>
bool no_nan(const tensor_view<T, Rank>& view) {
  const T* p = view.data();
  if constexpr (Rank == 2) {
    for (std::size_t r = 0; r < view.extent(0); ++r) {
      for (std::size_t c = 0; c < view.extent(1); ++c) {
        if (std::isnan(static_cast<double>(p[r * view.stride(0) + c]))) return false;
      }
    }
  } else {
    for (std::size_t i = 0; i < view.extent(0); ++i) {
      if (std::isnan(static_cast<double>(view(i)))) return false;
    }
  }
  return true;
}

/// Calls `body(backend, label)` for every configuration of backend type B.
template <class B, class Body>
void for_each_instance(Body&& body) {
  const auto instances = backend_instances<B>::make();
  for (std::size_t i = 0; i < instances.size(); ++i) {
    const std::string label = std::string(B::name) + "#" + std::to_string(i);
    INFO("backend " << label);
    body(instances[i], label);
  }
}

/// `body(backend, std::type_identity<T>{})` for every instance of backend B
/// (`for_each_instance`) and T = float, then double, with both in the
/// failure messages.
template <class B, class Body>
void for_each_instance_and_type(Body&& body) {
  for_each_instance<B>([&](const B& backend, const std::string&) {
    for_float_and_double([&]<class T>(std::type_identity<T> type) {
      INFO((sizeof(T) == 4 ? "float" : "double"));
      body(backend, type);
    });
  });
}

/// The three mask shapes a test may run with.
enum class mask_case { none, dense, candidates };

/// A row mask and the storage behind it.
struct mask_fixture {
  host_matrix<std::uint8_t> dense;
  std::vector<node_id> nodes;
  row_mask mask;
};

inline mask_fixture make_mask(mask_case which, std::mt19937_64& rng, const layout_view& layout, std::size_t rows) {
  mask_fixture fixture;
  switch (which) {
    case mask_case::none: break;
    case mask_case::dense:
      fixture.dense = random_dense_mask(rng, rows, layout.tokens);
      fixture.mask = row_mask::from_dense(fixture.dense.view());
      break;
    case mask_case::candidates:
      fixture.nodes = random_nodes(rng, rows, layout.nodes);
      fixture.mask = row_mask::from_candidates(host_view(std::as_const(fixture.nodes)));
      break;
  }
  return fixture;
}

/// A target per row drawn from the row's allowed tokens (no_token if none, and
/// for about one row in eight, to test ignored rows).
inline std::vector<token_id> random_targets(std::mt19937_64& rng, const layout_view& layout, const row_mask& mask,
                                            std::size_t rows) {
  std::vector<token_id> targets(rows, no_token);
  for (std::size_t r = 0; r < rows; ++r) {
    if (rng() % 8 == 0) continue;
    std::vector<token_id> allowed;
    for (token_id v = 0; v < layout.tokens; ++v) {
      if (mask.allows(layout, r, v)) allowed.push_back(v);
    }
    if (!allowed.empty()) targets[r] = allowed[rng() % allowed.size()];
  }
  return targets;
}

}  // namespace labelgraph::testing
