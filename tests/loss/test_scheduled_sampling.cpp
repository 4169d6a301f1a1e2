// Scheduled sampling (Algorithm 1's teacher-force rate): rate 1 feeds the
// teacher, rate 0 the constrained argmax, intermediate rates a Philox coin per
// token / sequence / batch; the same inputs on every backend; bad input.
#include <catch2/catch.hpp>

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "labelgraph/loss/scheduled_sampling.hpp"
#include "labelgraph/loss/targets.hpp"
#include "loss_support.hpp"

using namespace labelgraph;
using namespace labelgraph::testing;

namespace {

/// Step 1 of a batch of British Shorthair pairs (rows = pairs): teacher tokens
/// (hair / color nodes) and the decoder standing on `cat`.
struct step_fixture {
  pet_fixture pets;
  std::size_t rows = 512;
  std::vector<node_id> nodes;
  std::vector<token_id> teacher;
  host_matrix<float> logits;

  explicit step_fixture(std::mt19937_64& rng) {
    const std::vector<node_id> labels(rows / 4, pets.node("british-shorthair"));
    const path_targets targets = make_path_targets(pets.graph, pets.layout, pets.table, labels);
    for (std::size_t p = 0; p < targets.pairs(); ++p) {
      nodes.push_back(targets.nodes[p * targets.steps + 1]);
      teacher.push_back(targets.tokens[p * targets.steps + 1]);
    }
    teacher[5] = no_token;  // a padded row
    logits = random_logits<float>(rng, rows, pets.layout.token_count(), 3.0);
  }

  template <class B>
  std::vector<token_id> inputs(const B& backend, const scheduled_sampling_options& options, std::uint32_t step = 1,
                               std::vector<std::uint8_t>* forced = nullptr) const {
    std::vector<token_id> result(rows, 12345);
    scheduled_sampling_inputs(backend, pets.layout.view(), logits.view(), host_view(nodes), host_view(teacher),
                              host_view(result), step, options,
                              forced == nullptr ? tensor_view<std::uint8_t, 1>{} : host_view(*forced));
    return result;
  }
};

}  // namespace

TEST_CASE("scheduled sampling: rate 1 feeds the teacher, rate 0 the argmax over C(u)", "[loss][scheduled_sampling]") {
  std::mt19937_64 rng(1);
  const step_fixture f(rng);
  const backends::reference backend;
  std::vector<token_id> expected = f.teacher;
  CHECK(f.inputs(backend, {.teacher_force_rate = 1.0}) == expected);

  std::vector<token_id> argmax(f.rows);
  argmax_candidates(backend, f.pets.layout.view(), f.logits.view(), host_view(f.nodes), host_view(argmax));
  argmax[5] = no_token;
  std::vector<std::uint8_t> forced(f.rows, 9);
  CHECK(f.inputs(backend, {.teacher_force_rate = 0.0}, 1, &forced) == argmax);
  CHECK(forced == std::vector<std::uint8_t>(f.rows, 0));
  // The argmax is a legal move: a child of cat.
  for (std::size_t r = 0; r < f.rows; ++r) {
    if (r == 5) continue;
    const auto candidates = f.pets.layout.candidates(f.pets.node("cat"));
    CHECK(std::find(candidates.begin(), candidates.end(), argmax[r]) != candidates.end());
  }
  // max_block scores by the block softmax within C(u).
  std::vector<token_id> block_argmax(f.rows);
  argmax_candidates(backend, f.pets.layout.view(), f.logits.view(), host_view(f.nodes), host_view(block_argmax),
                    decode_rule::max_block);
  block_argmax[5] = no_token;
  CHECK(f.inputs(backend, {.teacher_force_rate = 0.0, .rule = decode_rule::max_block}) == block_argmax);
}

TEST_CASE("scheduled sampling: the coin follows Philox per token, per sequence and per batch", "[loss][scheduled_sampling]") {
  std::mt19937_64 rng(2);
  const step_fixture f(rng);
  const backends::reference backend;
  const double rate = 0.3;
  for (teacher_coin coin : {teacher_coin::per_token, teacher_coin::per_sequence, teacher_coin::per_batch}) {
    INFO("coin " << static_cast<int>(coin));
    const scheduled_sampling_options options{.teacher_force_rate = rate, .seed = 99, .coin = coin};
    std::vector<std::uint8_t> forced(f.rows);
    const std::vector<token_id> inputs = f.inputs(backend, options, 3, &forced);
    std::size_t teacher_count = 0;
    for (std::size_t r = 0; r < f.rows; ++r) {
      if (r == 5) {
        CHECK(inputs[r] == no_token);
        continue;
      }
      const bool expected = teacher_forced(options, static_cast<std::uint32_t>(r), 3);
      CHECK(static_cast<bool>(forced[r]) == expected);
      if (expected) CHECK(inputs[r] == f.teacher[r]);
      teacher_count += expected ? 1 : 0;
    }
    if (coin == teacher_coin::per_batch) {
      CHECK((teacher_count == 0 || teacher_count == f.rows - 1));
    } else {
      // 511 Bernoulli(0.3) coins: mean 153, sd 10.4; ±5 sd.
      CHECK(std::abs(static_cast<double>(teacher_count) - rate * 511) < 52);
    }
  }
  // Per-sequence coins do not change with the step; per-token coins do.
  const scheduled_sampling_options per_sequence{.teacher_force_rate = 0.5, .seed = 4, .coin = teacher_coin::per_sequence};
  const scheduled_sampling_options per_token{.teacher_force_rate = 0.5, .seed = 4, .coin = teacher_coin::per_token};
  std::size_t sequence_changes = 0, token_changes = 0;
  for (std::uint32_t r = 0; r < 100; ++r) {
    sequence_changes += teacher_forced(per_sequence, r, 1) != teacher_forced(per_sequence, r, 2) ? 1 : 0;
    token_changes += teacher_forced(per_token, r, 1) != teacher_forced(per_token, r, 2) ? 1 : 0;
  }
  CHECK(sequence_changes == 0);
  CHECK(token_changes > 20);
}

TEMPLATE_LIST_TEST_CASE("scheduled sampling: every backend feeds the same inputs", "[loss][scheduled_sampling][backends]",
                        backends_under_test) {
  std::mt19937_64 rng(3);
  const step_fixture f(rng);
  const auto expected = f.inputs(backends::reference{}, {.teacher_force_rate = 0.5, .seed = 8});
  for_each_instance<TestType>([&](const TestType& backend, const std::string&) {
    CHECK(f.inputs(backend, {.teacher_force_rate = 0.5, .seed = 8}) == expected);
  });
}

TEST_CASE("scheduled sampling: nodes_of_tokens and bad input", "[loss][scheduled_sampling][errors]") {
  std::mt19937_64 rng(4);
  const step_fixture f(rng);
  const backends::reference backend;
  CHECK_THROWS_MATCHES(f.inputs(backend, {.teacher_force_rate = 1.5}), argument_error,
                       Catch::Message("scheduled sampling: teacher_force_rate must be in [0, 1], got 1.500000"));
  step_fixture bad = f;
  bad.teacher[7] = 77;
  CHECK_THROWS_MATCHES(bad.inputs(backend, {}), argument_error,
                       Catch::Message("teacher: row 7: token 77 is outside the layout (34 tokens)"));
  bad = f;
  bad.nodes[2] = 500;
  CHECK_THROWS_MATCHES(bad.inputs(backend, {.teacher_force_rate = 0.0}), argument_error,
                       Catch::Message("nodes: row 2: node 500 is outside the graph (34 nodes)"));

  const std::vector<token_id> tokens = {f.pets.token("cat"), f.pets.layout.eop(), no_token};
  std::vector<node_id> nodes(3);
  nodes_of_tokens(f.pets.layout, host_view(tokens), host_view(nodes), f.pets.graph.root());
  CHECK(nodes == std::vector<node_id>{f.pets.node("cat"), f.pets.graph.root(), f.pets.graph.root()});
  const std::vector<token_id> outside = {40};
  std::vector<node_id> one(1);
  CHECK_THROWS_MATCHES(nodes_of_tokens(f.pets.layout, host_view(outside), host_view(one)), argument_error,
                       Catch::Message("tokens: row 0: token 40 is outside the layout (34 tokens)"));
}
