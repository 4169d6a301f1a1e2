// Sampling and argmax over candidates: same seed -> same tokens on every
// backend; frequencies match the rule's probabilities (chi-square); the two
// rules; rows without a candidate of positive probability.
#include <catch2/catch.hpp>

#include <cmath>
#include <map>
#include <random>
#include <type_traits>
#include <vector>

#include "test_support.hpp"

using namespace labelgraph;
using namespace labelgraph::testing;

namespace {

/// The rule's probabilities over C(u), computed independently of the library
/// (DESIGN.md section 2): candidate softmax, or block softmax within
/// g ∩ C(u) renormalised over C(u).
std::map<token_id, double> rule_probabilities(const layout_view& layout, decode_rule rule, const std::vector<double>& z,
                                              node_id u) {
  std::vector<token_id> candidates(layout.candidate_tokens + layout.candidate_offsets[u],
                                   layout.candidate_tokens + layout.candidate_offsets[u + 1]);
  std::map<token_id, double> p;
  for (token_id v : candidates) {
    double denominator = 0.0;
    for (token_id w : candidates) {
      if (rule == decode_rule::max_candidate || layout.token_group[w] == layout.token_group[v]) denominator += std::exp(z[w]);
    }
    p[v] = std::exp(z[v]) / denominator;
  }
  double total = 0.0;
  for (const auto& [v, q] : p) total += q;
  for (auto& [v, q] : p) q /= total;
  return p;
}

/// Is `token` one of C(u)?
bool view_allows_candidate(const layout_view& layout, node_id u, token_id token) {
  for (std::uint32_t i = layout.candidate_offsets[u]; i < layout.candidate_offsets[u + 1]; ++i) {
    if (layout.candidate_tokens[i] == token) return true;
  }
  return false;
}

/// Upper 1e-6 tail of chi-square with `df` degrees of freedom (Wilson–Hilferty).
double chi_square_critical(double df) {
  constexpr double z = 4.753;  // standard normal quantile at 1 − 1e-6
  const double a = 2.0 / (9.0 * df);
  return df * std::pow(1.0 - a + z * std::sqrt(a), 3.0);
}

}  // namespace

TEMPLATE_LIST_TEST_CASE("the same seed draws the same samples on every backend", "[backends][sampling]",
                        backends_under_test) {
  std::mt19937_64 rng(3);
  const synthetic_layout layout = synthetic_layout::random(rng, 15, 9, 20);
  const layout_view view = layout.view();
  constexpr std::size_t rows = 400;
  const auto logits = random_logits<float>(rng, rows, view.tokens, 3.0, 1);
  auto as_double = random_logits<double>(rng, rows, view.tokens);
  for (std::size_t r = 0; r < rows; ++r) {
    for (std::size_t v = 0; v < view.tokens; ++v) as_double(r, v) = static_cast<double>(logits(r, v));
  }
  const std::vector<node_id> nodes = random_nodes(rng, rows, view.nodes);
  const backends::reference oracle;
  for (decode_rule rule : {decode_rule::max_candidate, decode_rule::max_block}) {
    std::vector<token_id> expected(rows), again(rows), other_step(rows);
    sample_candidates(oracle, view, logits.view(), host_view(nodes), host_view(expected), 1234, 0, rule);
    sample_candidates(oracle, view, logits.view(), host_view(nodes), host_view(again), 1234, 0, rule);
    CHECK(expected == again);
    sample_candidates(oracle, view, logits.view(), host_view(nodes), host_view(other_step), 1234, 1, rule);
    CHECK(expected != other_step);
    for (std::size_t r = 0; r < rows; ++r) REQUIRE(view_allows_candidate(view, nodes[r], expected[r]));
    for_each_instance<TestType>([&](const TestType& backend, const std::string&) {
      std::vector<token_id> actual(rows), from_double(rows);
      sample_candidates(backend, view, logits.view(), host_view(nodes), host_view(actual), 1234, 0, rule);
      CHECK(actual == expected);
      // Double logits holding the same values: the same draws (the walk is in double).
      sample_candidates(backend, view, as_double.view(), host_view(nodes), host_view(from_double), 1234, 0, rule);
      CHECK(from_double == expected);
      argmax_candidates(backend, view, logits.view(), host_view(nodes), host_view(actual), rule);
      argmax_candidates(oracle, view, logits.view(), host_view(nodes), host_view(again), rule);
      CHECK(actual == again);
    });
  }
}

TEMPLATE_LIST_TEST_CASE("sample frequencies match the rule's probabilities (chi-square, p = 1e-6)",
                        "[backends][sampling]", backends_under_test) {
  const label_graph pets = pet_graph();
  const output_layout pets_layout = make_output_layout(pets);
  const layout_view view = pets_layout.view();
  // Node "cat": C = {shorthair, longhair, hairless, solid, tabby, point}: two groups of three.
  const node_id cat = pets.at("cat");
  std::mt19937_64 rng(8);
  std::vector<double> z(view.tokens);
  std::uniform_real_distribution<double> value(-1.5, 1.5);
  for (auto& x : z) x = value(rng);
  constexpr std::size_t draws = 30000;
  host_matrix<double> logits(draws, view.tokens);
  for (std::size_t r = 0; r < draws; ++r) {
    for (std::size_t v = 0; v < view.tokens; ++v) logits(r, v) = z[v];
  }
  const std::vector<node_id> nodes(draws, cat);
  for_each_instance<TestType>([&](const TestType& backend, const std::string&) {
    for (decode_rule rule : {decode_rule::max_candidate, decode_rule::max_block}) {
      INFO("rule " << static_cast<int>(rule));
      std::vector<token_id> tokens(draws);
      sample_candidates(backend, view, logits.view(), host_view(nodes), host_view(tokens), 99, 3, rule);
      const auto probabilities = rule_probabilities(view, rule, z, cat);
      std::map<token_id, double> counts;
      for (token_id t : tokens) {
        REQUIRE(probabilities.count(t) == 1);  // only candidates are ever drawn
        counts[t] += 1;
      }
      double chi_square = 0.0;
      for (const auto& [v, q] : probabilities) {
        const double expected = q * draws;
        chi_square += (counts[v] - expected) * (counts[v] - expected) / expected;
      }
      const double df = static_cast<double>(probabilities.size() - 1);
      INFO("chi-square " << chi_square << " with " << df << " degrees of freedom");
      CHECK(chi_square < chi_square_critical(df));
      // And the test can fail: the other rule's probabilities are rejected.
      const auto wrong = rule_probabilities(view, rule == decode_rule::max_block ? decode_rule::max_candidate
                                                                                   : decode_rule::max_block, z, cat);
      double wrong_chi_square = 0.0;
      for (const auto& [v, q] : wrong) wrong_chi_square += (counts[v] - q * draws) * (counts[v] - q * draws) / (q * draws);
      CHECK(wrong_chi_square > chi_square_critical(df));
    }
  });
}

TEMPLATE_LIST_TEST_CASE("candidates of zero probability are never drawn", "[backends][sampling]", backends_under_test) {
  const synthetic_layout small({2, 2, 1}, {{0, 1, 2, 3, 4}, {1, 3}});
  const layout_view view = small.view();
  constexpr std::size_t rows = 200;
  host_matrix<double> logits(rows, 5);
  std::vector<node_id> nodes(rows, 0);
  for (std::size_t r = 0; r < rows; ++r) {
    const double values[5] = {0, -inf, std::nan(""), 1, -inf};
    for (std::size_t v = 0; v < 5; ++v) logits(r, v) = values[v];
    if (r % 2 == 1) {  // node 1: C = {1, 3} with z_3 = −inf too: nothing to draw
      nodes[r] = 1;
      logits(r, 3) = -inf;
    }
  }
  for_each_instance<TestType>([&](const TestType& backend, const std::string&) {
    for (decode_rule rule : {decode_rule::max_candidate, decode_rule::max_block}) {
      std::vector<token_id> tokens(rows), best(rows);
      sample_candidates(backend, view, logits.view(), host_view(nodes), host_view(tokens), 5, 0, rule);
      argmax_candidates(backend, view, logits.view(), host_view(nodes), host_view(best), rule);
      for (std::size_t r = 0; r < rows; ++r) {
        INFO("row " << r);
        if (r % 2 == 1) {
          CHECK(tokens[r] == no_token);
          CHECK(best[r] == no_token);
        } else {
          CHECK((tokens[r] == 0 || tokens[r] == 3));  // never −inf (1, 4) nor NaN (2)
          // max_candidate: z_3 = 1 wins; max_block: token 0 is certain within {0, 1, 2}, token 3 within {3}: tie -> 0.
          CHECK(best[r] == (rule == decode_rule::max_candidate ? 3u : 0u));
        }
      }
    }
  });
}
