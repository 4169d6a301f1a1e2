// The numerics catalogue of STYLE.md, on every backend, float and double:
// per-group maxima with mixed scales, −inf logits, all-masked groups,
// singleton groups (EOP included), ±1e30, NaN confined to its group.
//
// Layout: groups A = {0, 1, 2} | B = {3, 4} | S = {5} (singleton) | EOP = {6}.
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <type_traits>
#include <utility>
#include <vector>

#include "test_support.hpp"

using namespace labelgraph;
using namespace labelgraph::testing;

namespace {

const synthetic_layout& catalogue_layout() {
  static const synthetic_layout layout({3, 2, 1, 1}, {{0, 1, 2, 3, 4, 5, 6}, {3, 4, 6}, {0, 1, 3, 4, 5, 6}});
  return layout;
}

template <class T>
host_matrix<T> row_of(const std::vector<double>& values) {
  host_matrix<T> z(1, values.size());
  for (std::size_t v = 0; v < values.size(); ++v) z(0, v) = static_cast<T>(values[v]);
  return z;
}

/// Runs forward, log forward, both backwards (dy = 1..V) and the NLL for
/// target `target` with regulariser `reg`; returns all outputs for inspection.
template <class T>
struct catalogue_run {
  host_matrix<T> p, log_p, dz_softmax, dz_log, grad;
  std::vector<T> loss{T(0)};
};

template <class B, class T>
catalogue_run<T> run_all(const B& backend, const host_matrix<T>& z, normalization norm, const row_mask& mask,
                         token_id target, regularizer reg = {}) {
  const layout_view layout = catalogue_layout().view();
  const std::size_t tokens = layout.tokens;
  catalogue_run<T> out{host_matrix<T>(1, tokens), host_matrix<T>(1, tokens), host_matrix<T>(1, tokens),
                       host_matrix<T>(1, tokens), host_matrix<T>(1, tokens)};
  host_matrix<T> dy(1, tokens);
  for (std::size_t v = 0; v < tokens; ++v) dy(0, v) = static_cast<T>(v + 1);
  block_softmax(backend, layout, z.view(), out.p.view(), norm, mask);
  block_log_softmax(backend, layout, z.view(), out.log_p.view(), norm, mask);
  block_softmax_backward(backend, layout, out.p.view(), dy.view(), out.dz_softmax.view(), norm, mask);
  block_log_softmax_backward(backend, layout, out.log_p.view(), dy.view(), out.dz_log.view(), norm, mask);
  const std::vector<token_id> targets{target};
  block_nll_tensors<T> io{z.view(), host_view(targets), {}, host_view(out.loss), out.grad.view(), {}, {}};
  block_nll(backend, layout, norm, mask, io, reg);
  return out;
}

template <class T>
void require_no_nan(const catalogue_run<T>& run) {
  CHECK(no_nan(run.p.view()));
  CHECK(no_nan(run.dz_softmax.view()));
  CHECK(no_nan(run.dz_log.view()));
  CHECK(no_nan(run.grad.view()));
  CHECK_FALSE(std::isnan(static_cast<double>(run.loss[0])));
  for (std::size_t v = 0; v < run.log_p.cols; ++v) CHECK_FALSE(std::isnan(static_cast<double>(run.log_p(0, v))));
}

}  // namespace

TEMPLATE_LIST_TEST_CASE("per-group maxima: groups at +1000 and -1000 in one row", "[backends][numerics]",
                        backends_under_test) {
  for_each_instance_and_type<TestType>([&]<class T>(const TestType& backend, std::type_identity<T>) {
    // A global maximum (1001) would underflow every exp of group B to 0.
    const auto z = row_of<T>({1000, 1001, 999, -1000, -1000 + std::log(3.0), 5, 0});
    const auto run = run_all(backend, z, normalization::block, row_mask::all(), 4, regularizer::label_smoothing(0.1));
    require_no_nan(run);
    // −1000 + ln 3 is stored with the ulp of 1000 (6e-5 in float): compare at that precision.
    const double tol = sizeof(T) == sizeof(float) ? 2e-4 : 1e-9;
    const double e = std::exp(1.0);
    const double a = 1 + e + 1 / e;
    CHECK(static_cast<double>(run.p(0, 0)) == Approx(1 / a).epsilon(tol));
    CHECK(static_cast<double>(run.p(0, 1)) == Approx(e / a).epsilon(tol));
    CHECK(static_cast<double>(run.p(0, 3)) == Approx(0.25).epsilon(tol));
    CHECK(static_cast<double>(run.p(0, 4)) == Approx(0.75).epsilon(tol));
    CHECK(static_cast<double>(run.loss[0]) ==
          Approx(-0.9 * std::log(0.75) + 0.1 * (std::log(4.0) - std::log(3.0) / 2)).epsilon(tol).margin(tol));
    // Full normalization: group B is e^-2000 smaller, exactly 0 in float and double; still no NaN.
    const auto full = run_all(backend, z, normalization::full, row_mask::all(), 1);
    require_no_nan(full);
    CHECK(full.p(0, 3) == T(0));
    CHECK(static_cast<double>(full.log_p(0, 3)) == Approx(-2000 - std::log(a)).epsilon(tol));
  });
}

TEMPLATE_LIST_TEST_CASE("logits of -inf get probability 0, log-probability -inf, finite gradients", "[backends][numerics]",
                        backends_under_test) {
  for_each_instance_and_type<TestType>([&]<class T>(const TestType& backend, std::type_identity<T>) {
    const auto z = row_of<T>({-inf, 0, std::log(3.0), -inf, 2, 1, 1});
    for (normalization norm : {normalization::block, normalization::full}) {
      INFO(to_string(norm));
      const auto run = run_all(backend, z, norm, row_mask::all(), 2);
      require_no_nan(run);
      for (std::size_t v : {0u, 3u}) {
        CHECK(run.p(0, v) == T(0));
        CHECK(static_cast<double>(run.log_p(0, v)) == -inf);
        CHECK(run.dz_softmax(0, v) == T(0));
        // d log p_v / dz_v = 1 − p_v = 1: log-softmax passes dy through, finite (as torch does).
        CHECK(run.dz_log(0, v) == static_cast<T>(v + 1));
        CHECK(run.grad(0, v) == T(0));
      }
      if (norm == normalization::block) {
        CHECK(static_cast<double>(run.p(0, 2)) == Approx(0.75).epsilon(1e-6));
        CHECK(static_cast<double>(run.p(0, 4)) == Approx(1.0).epsilon(1e-6));  // {−inf, 2}: certain
      }
    }
  });
}

TEMPLATE_LIST_TEST_CASE("all-masked and all -inf groups give zeros, never NaN", "[backends][numerics]",
                        backends_under_test) {
  const layout_view layout = catalogue_layout().view();
  for_each_instance_and_type<TestType>([&]<class T>(const TestType& backend, std::type_identity<T>) {
    // Group A masked out entirely (dense mask), target in B.
    host_matrix<std::uint8_t> dense(1, layout.tokens);
    for (std::size_t v = 3; v < layout.tokens; ++v) dense(0, v) = 1;
    const auto z = row_of<T>({1, 2, 3, 0.5, -0.5, 1, 1});
    for (normalization norm : {normalization::block, normalization::full, normalization::candidate}) {
      INFO(to_string(norm));
      const auto run = run_all(backend, z, norm, row_mask::from_dense(dense.view()), 3);
      require_no_nan(run);
      for (std::size_t v = 0; v < 3; ++v) {
        CHECK(run.p(0, v) == T(0));
        CHECK(static_cast<double>(run.log_p(0, v)) == -inf);
        CHECK(run.dz_softmax(0, v) == T(0));
        CHECK(run.dz_log(0, v) == T(0));  // masked out: always 0
        CHECK(run.grad(0, v) == T(0));
      }
    }
    // Candidate mask C(1) = {3, 4, 6} leaves groups A and S without members.
    const std::vector<node_id> node{1};
    const auto candidates = run_all(backend, z, normalization::block, row_mask::from_candidates(host_view(node)), 4);
    require_no_nan(candidates);
    CHECK(candidates.p(0, 5) == T(0));
    CHECK(candidates.p(0, 6) == T(1));
    // Group A all −inf, no mask: no mass in block, so zeros and zero gradients although dy ≠ 0.
    const auto dead = row_of<T>({-inf, -inf, -inf, 0.5, -0.5, 1, 1});
    for (normalization norm : {normalization::block, normalization::full}) {
      const auto run = run_all(backend, dead, norm, row_mask::all(), 4);
      require_no_nan(run);
      for (std::size_t v = 0; v < 3; ++v) {
        CHECK(run.p(0, v) == T(0));
        CHECK(static_cast<double>(run.log_p(0, v)) == -inf);
        CHECK(run.dz_softmax(0, v) == T(0));
        // block: the set {0, 1, 2} has no mass -> 0; full: −inf tokens of a live set pass dy through.
        CHECK(run.dz_log(0, v) == (norm == normalization::block ? T(0) : static_cast<T>(v + 1)));
        CHECK(run.grad(0, v) == T(0));
      }
    }
    // The NLL of a target whose whole set is −inf: infinite loss, zero gradient, no NaN.
    const auto hopeless = run_all(backend, dead, normalization::block, row_mask::all(), 1);
    CHECK(static_cast<double>(hopeless.loss[0]) == inf);
    CHECK(no_nan(hopeless.grad.view()));
    for (std::size_t v = 0; v < dead.cols; ++v) CHECK(hopeless.grad(0, v) == T(0));
  });
}

TEMPLATE_LIST_TEST_CASE("singleton groups, EOP included, are certain and have zero gradient", "[backends][numerics]",
                        backends_under_test) {
  for_each_instance_and_type<TestType>([&]<class T>(const TestType& backend, std::type_identity<T>) {
    const auto z = row_of<T>({0.1, 0.2, 0.3, 0.4, 0.5, -7, 300});
    for (token_id target : {5u, 6u}) {  // S and EOP
      const auto run = run_all(backend, z, normalization::block, row_mask::all(), target);
      require_no_nan(run);
      for (std::size_t v : {5u, 6u}) {
        CHECK(run.p(0, v) == T(1));
        CHECK(run.log_p(0, v) == T(0));
        CHECK(run.dz_softmax(0, v) == T(0));
        CHECK(run.dz_log(0, v) == T(0));
      }
      CHECK(run.loss[0] == T(0));  // block softmax never trains a singleton: p = 1 (DESIGN.md)
      for (std::size_t v = 0; v < z.cols; ++v) CHECK(run.grad(0, v) == T(0));
      // With label smoothing (K = 1) and MaxSup the loss stays 0 and the gradient 0 up to rounding of 1 − ε + ε.
      for (regularizer reg : {regularizer::label_smoothing(0.1), regularizer::max_suppression(0.3)}) {
        const auto smoothed = run_all(backend, z, normalization::block, row_mask::all(), target, reg);
        CHECK(smoothed.loss[0] == T(0));
        for (std::size_t v = 0; v < z.cols; ++v) CHECK(static_cast<double>(smoothed.grad(0, v)) == Approx(0).margin(1e-7));
      }
    }
  });
}

TEMPLATE_LIST_TEST_CASE("logits of +-1e30 do not overflow", "[backends][numerics]", backends_under_test) {
  for_each_instance_and_type<TestType>([&]<class T>(const TestType& backend, std::type_identity<T>) {
    const auto z = row_of<T>({1e30, -1e30, 0, 1e30, 1e30, -1e30, 0});
    const auto run = run_all(backend, z, normalization::block, row_mask::all(), 1, regularizer::label_smoothing(0.1));
    require_no_nan(run);
    CHECK(run.p(0, 0) == T(1));
    CHECK(run.p(0, 1) == T(0));
    CHECK(run.p(0, 2) == T(0));
    CHECK(static_cast<double>(run.p(0, 3)) == Approx(0.5));
    CHECK(static_cast<double>(run.p(0, 4)) == Approx(0.5));
    CHECK(run.p(0, 5) == T(1));
    // Target −1e30 against 1e30: loss = 0.9·2e30 + 0.1·(1e30 − 0) = 1.9e30, finite.
    CHECK(static_cast<double>(run.loss[0]) == Approx(1.9e30).epsilon(1e-6));
    CHECK(std::isfinite(static_cast<double>(run.loss[0])));
    const auto full = run_all(backend, z, normalization::full, row_mask::all(), 0);
    require_no_nan(full);
    CHECK(static_cast<double>(full.p(0, 0)) == Approx(1.0 / 3));
    CHECK(full.p(0, 2) == T(0));
  });
}

TEMPLATE_LIST_TEST_CASE("NaN in one group stays in that group", "[backends][numerics]", backends_under_test) {
  for_each_instance_and_type<TestType>([&]<class T>(const TestType& backend, std::type_identity<T>) {
    const auto clean = row_of<T>({0.3, 1.2, -0.4, 0.5, -0.5, 1, 2});
    auto poisoned = clean;
    poisoned(0, 1) = static_cast<T>(quiet_nan);
    const auto expected = run_all(backend, clean, normalization::block, row_mask::all(), 4, regularizer::max_suppression(0.1));
    const auto actual = run_all(backend, poisoned, normalization::block, row_mask::all(), 4, regularizer::max_suppression(0.1));
    for (std::size_t v = 3; v < clean.cols; ++v) {  // groups B, S, EOP: bit for bit unaffected
      INFO("token " << v);
      CHECK(actual.p(0, v) == expected.p(0, v));
      CHECK(actual.log_p(0, v) == expected.log_p(0, v));
      CHECK(actual.dz_softmax(0, v) == expected.dz_softmax(0, v));
      CHECK(actual.dz_log(0, v) == expected.dz_log(0, v));
      CHECK(actual.grad(0, v) == expected.grad(0, v));
    }
    CHECK(actual.loss[0] == expected.loss[0]);  // the target's group has no NaN
    CHECK(std::isnan(static_cast<double>(actual.p(0, 1))));  // the NaN is reported where it is
  });
}

TEMPLATE_LIST_TEST_CASE("NaN turns its whole set NaN, also as the set's only mass; masked-out tokens keep 0 and -inf",
                        "[backends][numerics]", backends_under_test) {
  const layout_view layout = catalogue_layout().view();
  for_each_instance_and_type<TestType>([&]<class T>(const TestType& backend, std::type_identity<T>) {
    // Group A = {NaN, −inf, 5 (masked out)}: the NaN is the only mass of A ∩ M.
    const auto z = row_of<T>({quiet_nan, -inf, 5, 0.5, -0.5, 1, 1});
    // M = every token but 2, as a dense mask and as C(u) of node 2.
    host_matrix<std::uint8_t> dense(1, layout.tokens);
    for (std::size_t v = 0; v < layout.tokens; ++v) dense(0, v) = v == 2 ? 0 : 1;
    const std::vector<node_id> node{2};
    const row_mask dense_mask = row_mask::from_dense(dense.view());
    const row_mask candidates = row_mask::from_candidates(host_view(node));
    for (const auto& [norm, mask] : {std::pair{normalization::block, dense_mask}, std::pair{normalization::full, dense_mask},
                                     std::pair{normalization::block, candidates},
                                     std::pair{normalization::candidate, candidates}}) {
      INFO(to_string(norm) << (mask.kind == mask_kind::candidates ? ", C(u)" : ", dense mask"));
      const auto run = run_all(backend, z, norm, mask, 1);
      // The set of tokens 0 and 1 (block: A ∩ M; full: all of M) is NaN everywhere.
      const std::size_t set_end = norm == normalization::block ? 2 : layout.tokens;
      for (std::size_t v = 0; v < set_end; ++v) {
        if (v == 2) continue;
        INFO("token " << v);
        CHECK(std::isnan(static_cast<double>(run.p(0, v))));
        CHECK(std::isnan(static_cast<double>(run.log_p(0, v))));
        CHECK(std::isnan(static_cast<double>(run.dz_log(0, v))));
        CHECK(std::isnan(static_cast<double>(run.grad(0, v))));
      }
      CHECK(std::isnan(static_cast<double>(run.loss[0])));
      // The masked-out token 2 keeps its values.
      CHECK(run.p(0, 2) == T(0));
      CHECK(static_cast<double>(run.log_p(0, 2)) == -inf);
      CHECK(run.dz_softmax(0, 2) == T(0));
      CHECK(run.dz_log(0, 2) == T(0));
      CHECK(run.grad(0, 2) == T(0));
      if (norm == normalization::block) {  // groups B, S, EOP: untouched
        CHECK(static_cast<double>(run.p(0, 3)) == Approx(1 / (1 + std::exp(-1.0))));
        CHECK(run.p(0, 5) == T(1));
        CHECK(run.grad(0, 3) == T(0));  // outside the target's set
      }
    }
  });
}

TEMPLATE_LIST_TEST_CASE("the catalogue holds in rows of small and long groups (the row plans' windows, registers, passes)",
                        "[backends][numerics]", backends_under_test) {
  // Mostly long groups: the cpu backend's AVX-512 rows and the xtensor
  // backend's row plan instead of tiles. Groups: 0-2 | 3-4 | 5 | 6 | 7-26 (20)
  // | 27-96 (70) | 97-186 (90). Each row holds one entry of the catalogue in
  // a small group (a window) and in a long one; every result must equal the
  // reference, NaN for NaN and ±inf for ±inf, with and without aliasing.
  const synthetic_layout layout({3, 2, 1, 1, 20, 70, 90}, {});
  const std::size_t tokens = layout.view().tokens;
  const double big = 1e30;
  const std::vector<std::vector<std::pair<std::size_t, double>>> rows = {
      {{0, 1000}, {1, 999}, {3, -1000}, {4, -1001}, {30, 1000}, {100, -1000}},  // mixed scales
      {{0, -inf}, {4, -inf}, {10, -inf}, {60, -inf}, {186, -inf}},               // some −inf
      {{3, -inf}, {4, -inf}, {5, -inf}},                                         // groups without mass
      {{1, quiet_nan}, {50, quiet_nan}},                                         // NaN in its group
      {{0, big}, {2, -big}, {20, big}, {120, -big}, {121, big}},                 // ±1e30
      {{15, quiet_nan}, {3, 2}},                                                 // NaN in a group of 20
  };
  for_each_instance_and_type<TestType>([&]<class T>(const TestType& backend, std::type_identity<T>) {
    std::mt19937_64 rng(5);
    host_matrix<T> z = random_logits<T>(rng, rows.size() + 1, tokens);
    for (std::size_t r = 0; r < rows.size(); ++r) {
      for (const auto& [token, value] : rows[r]) z(r, token) = static_cast<T>(value);
    }
    for (std::size_t v = 97; v < tokens; ++v) z(2, v) = static_cast<T>(-inf);  // a long group without mass
    for (normalization norm : {normalization::block, normalization::full}) {
      INFO(to_string(norm));
      const backends::reference oracle;
      host_matrix<T> expected(z.rows, tokens), actual(z.rows, tokens);
      block_softmax(oracle, layout.view(), z.view(), expected.view(), norm, {});
      block_softmax(backend, layout.view(), z.view(), actual.view(), norm, {});
      require_close(actual.view(), expected.view(), relative_tolerance<T>, 1e-3, "block_softmax");
      host_matrix<T> in_place = z;
      block_softmax(backend, layout.view(), in_place.view(), in_place.view(), norm, {});
      require_close(in_place.view(), expected.view(), relative_tolerance<T>, 1e-3, "block_softmax in place");
      block_log_softmax(oracle, layout.view(), z.view(), expected.view(), norm, {});
      block_log_softmax(backend, layout.view(), z.view(), actual.view(), norm, {});
      require_close(actual.view(), expected.view(), relative_tolerance<T>, 1e3, "block_log_softmax");
      in_place = z;
      block_log_softmax(backend, layout.view(), in_place.view(), in_place.view(), norm, {});
      require_close(in_place.view(), expected.view(), relative_tolerance<T>, 1e3, "block_log_softmax in place");
    }
  });
}
