// Small cases with hand-computed answers, on every backend, float and double.
//
// Layout: groups {0, 1} | {2, 3, 4} | EOP {5}. Node 0: C = {0, 1}; node 1: C = {1, 2, 3, 5}.
// Row logits z = [0, ln 3, 0, ln 2, ln 5, 7], so exp z = [1, 3, 1, 2, 5, e^7].
#include <catch2/catch.hpp>

#include <cmath>
#include <type_traits>
#include <vector>

#include "test_support.hpp"

using namespace labelgraph;
using namespace labelgraph::testing;

namespace {

const synthetic_layout& two_group_layout() {
  static const synthetic_layout layout({2, 3, 1}, {{0, 1}, {1, 2, 3, 5}});
  return layout;
}

template <class T>
host_matrix<T> known_row(std::size_t rows = 1) {
  host_matrix<T> z(rows, 6, 2, T(99));
  for (std::size_t r = 0; r < rows; ++r) {
    const double values[6] = {0.0, std::log(3.0), 0.0, std::log(2.0), std::log(5.0), 7.0};
    for (std::size_t v = 0; v < 6; ++v) z(r, v) = static_cast<T>(values[v]);
  }
  return z;
}

template <class T>
void check_row(const host_matrix<T>& actual, const std::vector<double>& expected, const char* what) {
  INFO(what);
  for (std::size_t v = 0; v < expected.size(); ++v) {
    INFO("token " << v);
    if (std::isinf(expected[v])) {
      CHECK(static_cast<double>(actual(0, v)) == expected[v]);
    } else {
      CHECK(static_cast<double>(actual(0, v)) == Approx(expected[v]).epsilon(relative_tolerance<T>).margin(relative_tolerance<T>));
    }
  }
}

}  // namespace

TEMPLATE_LIST_TEST_CASE("block, full and candidate softmax of a known row", "[backends][exact]", backends_under_test) {
  const layout_view layout = two_group_layout().view();
  for_each_instance_and_type<TestType>([&]<class T>(const TestType& backend, std::type_identity<T>) {
    const auto z = known_row<T>();
    host_matrix<T> p(1, 6, 1);
    block_softmax(backend, layout, z.view(), p.view());
    check_row(p, {1.0 / 4, 3.0 / 4, 1.0 / 8, 2.0 / 8, 5.0 / 8, 1.0}, "block");
    CHECK(p.storage[6] == T(0));  // the padding is never written

    block_log_softmax(backend, layout, z.view(), p.view());
    check_row(p, {std::log(0.25), std::log(0.75), std::log(0.125), std::log(0.25), std::log(0.625), 0.0}, "log block");

    const double all = 1 + 3 + 1 + 2 + 5 + std::exp(7.0);
    block_softmax(backend, layout, z.view(), p.view(), normalization::full);
    check_row(p, {1 / all, 3 / all, 1 / all, 2 / all, 5 / all, std::exp(7.0) / all}, "full");

    const std::vector<node_id> node{1};  // C = {1, 2, 3, 5}
    const row_mask candidates = row_mask::from_candidates(host_view(node));
    const double legal = 3 + 1 + 2 + std::exp(7.0);
    block_softmax(backend, layout, z.view(), p.view(), normalization::candidate, candidates);
    check_row(p, {0, 3 / legal, 1 / legal, 2 / legal, 0, std::exp(7.0) / legal}, "candidate");
    block_log_softmax(backend, layout, z.view(), p.view(), normalization::candidate, candidates);
    check_row(p, {-inf, std::log(3 / legal), std::log(1 / legal), std::log(2 / legal), -inf, std::log(std::exp(7.0) / legal)},
              "log candidate");

    // block ∩ C(u): g0 ∩ C = {1}, g1 ∩ C = {2, 3}.
    block_softmax(backend, layout, z.view(), p.view(), normalization::block, candidates);
    check_row(p, {0, 1, 1.0 / 3, 2.0 / 3, 0, 1}, "block within candidates");

    // The same with a dense mask equal to C(1), and the candidate identity p(v|u) = π(g|u)·p_blk(v).
    host_matrix<std::uint8_t> dense(1, 6);
    for (token_id v : {1u, 2u, 3u, 5u}) dense(0, v) = 1;
    host_matrix<T> p_dense(1, 6);
    block_softmax(backend, layout, z.view(), p_dense.view(), normalization::block, row_mask::from_dense(dense.view()));
    check_row(p_dense, {0, 1, 1.0 / 3, 2.0 / 3, 0, 1}, "block within dense mask");
    const double pi_g1 = 3.0 / legal;
    CHECK(pi_g1 * static_cast<double>(p_dense(0, 2)) == Approx(1 / legal).epsilon(relative_tolerance<T>));
  });
}

TEMPLATE_LIST_TEST_CASE("fused NLL of a known row: plain, label smoothing, MaxSup, weights, ignored rows",
                        "[backends][exact]", backends_under_test) {
  const layout_view layout = two_group_layout().view();
  for_each_instance_and_type<TestType>([&]<class T>(const TestType& backend, std::type_identity<T>) {
    const double tol = relative_tolerance<T>;
    const auto z = known_row<T>(4);
    // Rows: target 4 (block: p = 5/8), target 1 with weight 0.5, ignored, target 2.
    const std::vector<token_id> targets{4, 1, no_token, 2};
    const std::vector<T> weights{T(1), T(0.5), T(1), T(2)};
    std::vector<T> loss(4, T(-1)), lse(4, T(-1)), total(1, T(-1));
    host_matrix<T> grad(4, 6, 0, T(-1));
    block_nll_tensors<T> io{z.view(), host_view(targets), host_view(weights), host_view(loss), grad.view(),
                            host_view(lse), host_view(total)};
    block_nll(backend, layout, normalization::block, row_mask::all(), io);
    CHECK(static_cast<double>(loss[0]) == Approx(-std::log(5.0 / 8)).epsilon(tol).margin(tol));
    CHECK(static_cast<double>(loss[1]) == Approx(-0.5 * std::log(3.0 / 4)).epsilon(tol).margin(tol));
    CHECK(loss[2] == T(0));
    CHECK(static_cast<double>(loss[3]) == Approx(-2 * std::log(1.0 / 8)).epsilon(tol).margin(tol));
    CHECK(static_cast<double>(lse[0]) == Approx(std::log(8.0)).epsilon(tol).margin(tol));
    CHECK(static_cast<double>(lse[1]) == Approx(std::log(4.0)).epsilon(tol).margin(tol));
    CHECK(lse[2] == T(0));
    CHECK(static_cast<double>(total[0]) ==
          Approx(-std::log(5.0 / 8) - 0.5 * std::log(0.75) - 2 * std::log(0.125)).epsilon(tol).margin(tol));
    const std::vector<std::vector<double>> expected_grad = {{0, 0, 1.0 / 8, 2.0 / 8, -3.0 / 8, 0},
                                                            {0.5 * 0.25, 0.5 * -0.25, 0, 0, 0, 0},
                                                            {0, 0, 0, 0, 0, 0},
                                                            {0, 0, 2 * (1.0 / 8 - 1), 2 * 2.0 / 8, 2 * 5.0 / 8, 0}};
    for (std::size_t r = 0; r < 4; ++r) {
      for (std::size_t v = 0; v < 6; ++v) {
        INFO("row " << r << " token " << v);
        CHECK(static_cast<double>(grad(r, v)) == Approx(expected_grad[r][v]).epsilon(tol).margin(tol));
      }
    }

    // Label smoothing ε = 0.2, target 1 (N = {0, 1}, K = 2, lse = ln 4, mean z = ln 3 / 2):
    // loss = 0.8 (ln 4 − ln 3) + 0.2 (ln 4 − ln 3 / 2); grad = p − 0.8·1_t − 0.1.
    const std::vector<token_id> one_target{1};
    std::vector<T> one_loss(1);
    host_matrix<T> one_grad(1, 6);
    const auto z1 = known_row<T>(1);
    block_nll_tensors<T> smooth{z1.view(), host_view(one_target), {}, host_view(one_loss), one_grad.view(), {}, {}};
    block_nll(backend, layout, normalization::block, row_mask::all(), smooth, regularizer::label_smoothing(0.2));
    CHECK(static_cast<double>(one_loss[0]) ==
          Approx(0.8 * (std::log(4.0) - std::log(3.0)) + 0.2 * (std::log(4.0) - std::log(3.0) / 2)).epsilon(tol).margin(tol));
    check_row(one_grad, {0.25 - 0.1, 0.75 - 0.8 - 0.1, 0, 0, 0, 0}, "label smoothing gradient");

    // MaxSup ε = 0.2, target 2 (N = {2, 3, 4}, top-1 = token 4, mean z = (0 + ln 2 + ln 5) / 3):
    // loss = ln 8 + 0.2 (ln 5 − mean); grad = p − 1_t + 0.2 (1_4 − 1/3).
    const std::vector<token_id> target_two{2};
    block_nll_tensors<T> maxsup{z1.view(), host_view(target_two), {}, host_view(one_loss), one_grad.view(), {}, {}};
    block_nll(backend, layout, normalization::block, row_mask::all(), maxsup, regularizer::max_suppression(0.2));
    const double mean = (std::log(2.0) + std::log(5.0)) / 3;
    CHECK(static_cast<double>(one_loss[0]) == Approx(std::log(8.0) + 0.2 * (std::log(5.0) - mean)).epsilon(tol).margin(tol));
    check_row(one_grad, {0, 0, 1.0 / 8 - 1 - 0.2 / 3, 2.0 / 8 - 0.2 / 3, 5.0 / 8 + 0.2 - 0.2 / 3, 0}, "MaxSup gradient");

    // Candidate normalisation over C(1) = {1, 2, 3, 5}, target 5 (EOP), in place on a copy of the logits.
    auto in_place = known_row<T>(1);
    const std::vector<node_id> node{1};
    const std::vector<token_id> eop{5};
    block_nll_tensors<T> candidate{in_place.view(), host_view(eop), {}, host_view(one_loss), in_place.view(), {}, {}};
    block_nll(backend, layout, normalization::candidate, row_mask::from_candidates(host_view(node)), candidate);
    const double legal = 3 + 1 + 2 + std::exp(7.0);
    CHECK(static_cast<double>(one_loss[0]) == Approx(std::log(legal) - 7.0).epsilon(tol).margin(tol));
    check_row(in_place, {0, 3 / legal, 1 / legal, 2 / legal, 0, std::exp(7.0) / legal - 1}, "in-place candidate gradient");
  });
}

TEMPLATE_LIST_TEST_CASE("softmax and log-softmax backward of a known row", "[backends][exact]", backends_under_test) {
  const layout_view layout = two_group_layout().view();
  for_each_instance_and_type<TestType>([&]<class T>(const TestType& backend, std::type_identity<T>) {
    const auto z = known_row<T>();
    host_matrix<T> y(1, 6), dy(1, 6), dz(1, 6);
    for (std::size_t v = 0; v < 6; ++v) dy(0, v) = static_cast<T>(v + 1);
    block_softmax(backend, layout, z.view(), y.view());
    block_softmax_backward(backend, layout, y.view(), dy.view(), dz.view());
    // g0: Σ y·dy = 1/4 + 3/2 = 7/4; g1: 3/8 + 8/8 + 25/8 = 9/2; EOP: y = 1, dz = 1·(6 − 6) = 0.
    check_row(dz, {0.25 * (1 - 1.75), 0.75 * (2 - 1.75), 0.125 * (3 - 4.5), 0.25 * (4 - 4.5), 0.625 * (5 - 4.5), 0},
              "softmax backward");
    block_log_softmax(backend, layout, z.view(), y.view());
    block_log_softmax_backward(backend, layout, y.view(), dy.view(), dz.view());
    // dz = dy − p Σ dy: g0 Σ = 3, g1 Σ = 12, EOP Σ = 6.
    check_row(dz, {1 - 0.25 * 3, 2 - 0.75 * 3, 3 - 0.125 * 12, 4 - 0.25 * 12, 5 - 0.625 * 12, 0},
              "log-softmax backward");
  });
}

TEMPLATE_LIST_TEST_CASE("max_block and max_candidate pick different tokens where they should", "[backends][exact]",
                        backends_under_test) {
  // Groups {0, 1} | {2, 3} | EOP {4}; node 0: C = {0, 1, 2, 3}.
  const synthetic_layout small({2, 2, 1}, {{0, 1, 2, 3}});
  const layout_view layout = small.view();
  for_each_instance_and_type<TestType>([&]<class T>(const TestType& backend, std::type_identity<T>) {
    // z = [5, 4.9, 0, −10, 0]: the largest logit is token 0 (p_blk ≈ 0.525),
    // the most certain block choice is token 2 (p_blk ≈ 1 − 4.5e-5).
    host_matrix<T> z(1, 5);
    const double values[5] = {5, 4.9, 0, -10, 0};
    for (std::size_t v = 0; v < 5; ++v) z(0, v) = static_cast<T>(values[v]);
    const std::vector<node_id> node{0};
    std::vector<token_id> chosen(1, no_token);
    argmax_candidates(backend, layout, z.view(), host_view(node), host_view(chosen), decode_rule::max_candidate);
    CHECK(chosen[0] == 0);
    argmax_candidates(backend, layout, z.view(), host_view(node), host_view(chosen), decode_rule::max_block);
    CHECK(chosen[0] == 2);
    // Ties go to the lowest token: two equal logits in one group.
    z(0, 1) = z(0, 0);
    argmax_candidates(backend, layout, z.view(), host_view(node), host_view(chosen), decode_rule::max_candidate);
    CHECK(chosen[0] == 0);
  });
}
