// sequence_nll on the pet graph: values against an independent oracle written
// from the formulas (every pooling, normalization and regulariser, token and
// pair weights, scale), gradients against central finite differences in
// double, `marginal` against the log-sum-exp of explicitly enumerated paths,
// `best` / `random` selection, every backend against the reference, in-place
// gradients, and bad input with its exact text.
//
// Finite differences: central, h = 1e-5, agreement to 1e-6 relative with a
// floor of 1 (as tests/backends/test_gradients.cpp argues, truncation and
// rounding errors are ~1e-10 there).
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "labelgraph/loss/sequence_nll.hpp"
#include "labelgraph/paths/enumerate.hpp"
#include "loss_support.hpp"

using namespace labelgraph;
using namespace labelgraph::testing;

namespace {

constexpr double infinity = std::numeric_limits<double>::infinity();

/// A batch of the pet graph: fine labels with several paths, a coarse label
/// in prefix mode, single-path labels.
struct pet_batch {
  pet_fixture pets;
  std::vector<node_id> labels = pets.nodes({"british-shorthair", "cat", "pug", "sphynx", "bengal"});
  std::vector<target_mode> modes = {target_mode::exact, target_mode::prefix, target_mode::exact, target_mode::exact,
                                    target_mode::exact};
  path_targets targets = make_path_targets(pets.graph, pets.layout, pets.table, labels, {.sample_modes = modes});
  layout_view layout = pets.layout.view();
  [[nodiscard]] std::size_t rows() const { return targets.pairs() * targets.steps; }
};

/// One row's cost and log-probability, straight from DESIGN.md section 2.
struct row_value {
  double cost = 0.0;
  double log_probability = 0.0;
};

row_value oracle_row(const pet_batch& batch, const double* z, node_id u, token_id t, const sequence_nll_options& options) {
  const output_layout& layout = batch.pets.layout;
  std::vector<token_id> set;  // N(t)
  const auto candidates = layout.candidates(u);
  const bool masked = options.norm == normalization::candidate || options.candidate_mask;
  for (token_id v = 0; v < layout.token_count(); ++v) {
    const bool in_mask = !masked || std::find(candidates.begin(), candidates.end(), v) != candidates.end();
    const bool in_group = options.norm != normalization::block || layout.token_group(v) == layout.token_group(t);
    if (in_mask && in_group) set.push_back(v);
  }
  double sum = 0.0, mean = 0.0, top = -infinity;
  for (token_id v : set) {
    sum += std::exp(z[v]);
    mean += z[v] / static_cast<double>(set.size());
    top = std::max(top, z[v]);
  }
  const double lse = std::log(sum);
  const double nll = lse - z[t];
  const double eps = options.reg.epsilon;
  double cost = nll;
  if (options.reg.kind == regularizer_kind::label_smoothing) cost = (1 - eps) * nll + eps * (lse - mean);
  if (options.reg.kind == regularizer_kind::max_suppression) cost = nll + eps * (top - mean);
  return {cost, z[t] - lse};
}

/// The expected outputs of one call.
struct oracle_result {
  std::vector<double> sample_loss;
  double total = 0.0;
  std::vector<double> log_probability;
  std::vector<double> pooling_weight;
};

oracle_result oracle(const pet_batch& batch, const host_matrix<double>& logits, const sequence_nll_options& options,
                     const std::vector<double>& token_weights, const std::vector<double>& pair_weights) {
  const path_targets& targets = batch.targets;
  const std::size_t steps = targets.steps;
  oracle_result result;
  std::vector<double> cost(targets.pairs(), 0.0);
  result.log_probability.assign(targets.pairs(), 0.0);
  result.pooling_weight.assign(targets.pairs(), 0.0);
  for (std::size_t p = 0; p < targets.pairs(); ++p) {
    for (std::size_t t = 0; t < steps; ++t) {
      const std::size_t r = p * steps + t;
      if (targets.tokens[r] == no_token) continue;
      const row_value value = oracle_row(batch, &logits(r, 0), targets.nodes[r], targets.tokens[r], options);
      cost[p] += (token_weights.empty() ? 1.0 : token_weights[r]) * value.cost;
      result.log_probability[p] += value.log_probability;
    }
  }
  const auto prior = [&](std::size_t p) { return pair_weights.empty() ? 1.0 : pair_weights[p]; };
  for (std::size_t s = 0; s < targets.samples; ++s) {
    const auto [first, last] = targets.pairs_of(s);
    const double n = static_cast<double>(last - first);
    double loss = 0.0;
    switch (options.pool) {
      case pooling::mean:
      case pooling::sum:
        for (auto p = first; p < last; ++p) {
          result.pooling_weight[p] = prior(p) / (options.pool == pooling::mean ? n : 1.0);
          loss += result.pooling_weight[p] * cost[p];
        }
        break;
      case pooling::random: {
        const auto k = first + static_cast<std::uint32_t>(philox_uniform(options.seed, static_cast<std::uint32_t>(s), 0) * n);
        result.pooling_weight[k] = prior(k);
        loss = prior(k) * cost[k];
        break;
      }
      case pooling::marginal: {
        double sum = 0.0;
        for (auto p = first; p < last; ++p) sum += prior(p) * std::exp(-cost[p]);
        loss = -std::log(sum);
        for (auto p = first; p < last; ++p) result.pooling_weight[p] = prior(p) * std::exp(-cost[p]) / sum;
        break;
      }
      case pooling::best: {
        auto best = first;
        for (auto p = first; p < last; ++p) {
          if (cost[p] - std::log(prior(p)) < cost[best] - std::log(prior(best))) best = p;
        }
        loss = cost[best] - std::log(prior(best));
        result.pooling_weight[best] = 1.0;
        break;
      }
    }
    result.sample_loss.push_back(options.scale * loss);
    result.total += options.scale * loss;
  }
  return result;
}

/// The outputs of one sequence_nll call.
template <class T>
struct call_result {
  std::vector<T> sample_loss;
  std::vector<T> total = std::vector<T>(1);
  std::vector<T> log_probability;
  std::vector<T> pooling_weight;
  host_matrix<T> gradient;
};

template <class B, class T>
call_result<T> run(const B& backend, const pet_batch& batch, const host_matrix<T>& logits,
                   const sequence_nll_options& options, const std::vector<T>& token_weights,
                   const std::vector<T>& pair_weights, bool want_gradient = true) {
  call_result<T> out;
  out.sample_loss.assign(batch.targets.samples, T(-1));
  out.log_probability.assign(batch.targets.pairs(), T(-1));
  out.pooling_weight.assign(batch.targets.pairs(), T(-1));
  out.gradient = host_matrix<T>(logits.rows, logits.cols, 2, T(7));
  sequence_nll_tensors<T> io{.logits = logits.view(),
                             .targets = batch.targets.view(),
                             .token_weights = token_weights.empty() ? tensor_view<const T, 1>{} : host_view(token_weights),
                             .pair_weights = pair_weights.empty() ? tensor_view<const T, 1>{} : host_view(pair_weights),
                             .sample_loss = host_view(out.sample_loss),
                             .total = host_view(out.total),
                             .grad_logits = want_gradient ? out.gradient.view() : tensor_view<T, 2>{},
                             .pair_log_probability = host_view(out.log_probability),
                             .pair_pooling_weights = host_view(out.pooling_weight)};
  sequence_nll(backend, batch.layout, io, options);
  return out;
}

/// Every configuration the tests sweep: 5 normalisations × 3 regularisers × 5 poolings.
std::vector<sequence_nll_options> all_options() {
  std::vector<sequence_nll_options> result;
  const std::pair<normalization, bool> norms[] = {{normalization::candidate, true},
                                                  {normalization::block, true},
                                                  {normalization::block, false},
                                                  {normalization::full, true},
                                                  {normalization::full, false}};
  const regularizer regs[] = {{}, regularizer::label_smoothing(0.1), regularizer::max_suppression(0.2)};
  const pooling pools[] = {pooling::mean, pooling::sum, pooling::random, pooling::marginal, pooling::best};
  std::uint64_t seed = 11;
  for (const auto& [norm, masked] : norms) {
    for (const regularizer& reg : regs) {
      for (pooling pool : pools) {
        result.push_back({.norm = norm, .candidate_mask = masked, .reg = reg, .pool = pool, .seed = seed++, .scale = 0.75});
      }
    }
  }
  return result;
}

std::string describe(const sequence_nll_options& options) {
  return std::string(to_string(options.norm)) + (options.candidate_mask ? "" : " (unmasked)") + ", reg " +
         std::to_string(static_cast<int>(options.reg.kind)) + ", pooling " + std::string(to_string(options.pool));
}

template <class T>
std::vector<T> random_weights(std::mt19937_64& rng, std::size_t n, double low, double high) {
  std::uniform_real_distribution<double> value(low, high);
  std::vector<T> weights(n);
  for (auto& w : weights) w = static_cast<T>(value(rng));
  return weights;
}

}  // namespace

TEST_CASE("sequence_nll matches the oracle for every pooling, normalization and regularizer", "[loss][sequence_nll]") {
  const pet_batch batch;
  std::mt19937_64 rng(2106);
  const auto logits = random_logits<double>(rng, batch.rows(), batch.layout.tokens, 3.0, 1);
  const auto token_weights = random_weights<double>(rng, batch.rows(), 0.5, 1.5);
  const auto pair_weights = random_weights<double>(rng, batch.targets.pairs(), 0.2, 2.0);
  const backends::reference backend;
  for (const sequence_nll_options& options : all_options()) {
    INFO(describe(options));
    for (bool weighted : {false, true}) {
      const std::vector<double> no_weights;
      const auto& omega = weighted ? token_weights : no_weights;
      const auto& c = weighted ? pair_weights : no_weights;
      const oracle_result expected = oracle(batch, logits, options, omega, c);
      const call_result<double> actual = run(backend, batch, logits, options, omega, c);
      require_close(host_view(actual.sample_loss), host_view(std::as_const(expected.sample_loss)), 1e-12, 1.0, "sample loss");
      CHECK(close(actual.total[0], expected.total, 1e-12, 1.0));
      require_close(host_view(actual.log_probability), host_view(std::as_const(expected.log_probability)), 1e-12, 1.0,
                    "log p(P)");
      require_close(host_view(actual.pooling_weight), host_view(std::as_const(expected.pooling_weight)), 1e-12, 1e-3,
                    "pooling weight");
    }
  }
}

TEST_CASE("sequence_nll gradients match finite differences for every configuration", "[loss][sequence_nll][gradient]") {
  const pet_batch batch;
  std::mt19937_64 rng(9260);
  const backends::reference backend;
  const auto token_weights = random_weights<double>(rng, batch.rows(), 0.5, 1.5);
  for (const sequence_nll_options& options : all_options()) {
    INFO(describe(options));
    const bool prior = options.pool == pooling::marginal || options.pool == pooling::best;
    // Signed pair weights (REINFORCE advantages) where allowed, priors elsewhere.
    const auto pair_weights = random_weights<double>(rng, batch.targets.pairs(), prior ? 0.2 : -1.0, 2.0);
    auto logits = random_logits<double>(rng, batch.rows(), batch.layout.tokens, 3.0);
    const call_result<double> analytic = run(backend, batch, logits, options, token_weights, pair_weights);
    const auto total = [&](const host_matrix<double>& z) {
      return static_cast<double>(run(backend, batch, z, options, token_weights, pair_weights, false).total[0]);
    };
    // Every row, a random third of the tokens (plus every target): ~500 entries per configuration.
    constexpr double h = 1e-5;
    for (std::size_t r = 0; r < logits.rows; ++r) {
      for (std::size_t v = 0; v < logits.cols; ++v) {
        if (rng() % 3 != 0 && batch.targets.tokens[r] != v) continue;
        const double saved = logits(r, v);
        logits(r, v) = saved + h;
        const double up = total(logits);
        logits(r, v) = saved - h;
        const double down = total(logits);
        logits(r, v) = saved;
        const double numeric = (up - down) / (2 * h);
        if (!close(analytic.gradient(r, v), numeric, 1e-6, 1.0)) {
          FAIL("d total/dz(" << r << ", " << v << ") = " << analytic.gradient(r, v) << ", finite differences " << numeric);
        }
      }
    }
  }
}

TEST_CASE("marginal pooling is the log-sum-exp of explicitly enumerated path probabilities", "[loss][sequence_nll]") {
  const pet_batch batch;
  const pet_fixture& pets = batch.pets;
  std::mt19937_64 rng(42);
  const auto logits = random_logits<double>(rng, batch.rows(), batch.layout.tokens, 3.0);
  const call_result<double> result =
      run(backends::reference{}, batch, logits, {.pool = pooling::marginal}, std::vector<double>{}, std::vector<double>{});
  for (std::size_t s = 0; s < batch.labels.size(); ++s) {
    INFO("sample " << s);
    // Enumerate the node paths afresh and score them with the candidate softmax by hand.
    std::vector<double> log_probabilities;
    std::size_t pair = batch.targets.sample_offsets[s];
    for (std::span<const node_id> path : enumerate_paths(pets.graph, batch.labels[s])) {
      const std::size_t row0 = pair * batch.targets.steps;  // this pair's step rows (same path order as the table)
      std::vector<token_id> tokens;
      for (node_id node : path.subspan(1)) tokens.push_back(pets.layout.token(node));
      if (batch.modes[s] == target_mode::exact) tokens.push_back(pets.layout.eop());
      double log_p = 0.0;
      node_id u = pets.graph.root();
      for (std::size_t t = 0; t < tokens.size(); ++t) {
        double sum = 0.0;
        for (token_id v : pets.layout.candidates(u)) sum += std::exp(logits(row0 + t, v));
        log_p += logits(row0 + t, tokens[t]) - std::log(sum);
        if (tokens[t] != pets.layout.eop()) u = pets.layout.node(tokens[t]);
      }
      log_probabilities.push_back(log_p);
      ++pair;
    }
    REQUIRE(pair == batch.targets.sample_offsets[s + 1]);
    double sum = 0.0;
    for (double lp : log_probabilities) sum += std::exp(lp);
    CHECK(close(result.sample_loss[s], -std::log(sum), 1e-12, 1.0));
    if (s == 0) CHECK(log_probabilities.size() == 4);
  }
}

TEST_CASE("pool_by_posterior gives marginal and best losses and weights from path costs", "[loss][pooling]") {
  constexpr double inf = std::numeric_limits<double>::infinity();
  const auto unit = [](std::size_t) { return 1.0; };
  std::vector<double> weight(3, -1.0);
  // Costs 1, 2, 3: L = −log(e^-1 + e^-2 + e^-3), a_P ∝ e^{−ℓ(P)}.
  const std::vector<double> cost = {1.0, 2.0, 3.0};
  const double total = std::exp(-1.0) + std::exp(-2.0) + std::exp(-3.0);
  CHECK(pool_by_posterior(pooling::marginal, cost, unit, weight) == Approx(-std::log(total)).epsilon(1e-15));
  for (std::size_t i = 0; i < 3; ++i) CHECK(weight[i] == Approx(std::exp(-cost[i]) / total).epsilon(1e-15));
  CHECK(pool_by_posterior(pooling::best, cost, unit, weight) == 1.0);
  CHECK(weight == std::vector<double>{1.0, 0.0, 0.0});
  // Priors c = (1, 0, e): the second pair has no mass; scores −1, −inf, −2.
  const auto prior = [](std::size_t i) { return i == 0 ? 1.0 : i == 1 ? 0.0 : std::exp(1.0); };
  const double prior_total = std::exp(-1.0) + std::exp(-2.0);
  CHECK(pool_by_posterior(pooling::best, cost, prior, weight) == 1.0);
  CHECK(weight == std::vector<double>{1.0, 0.0, 0.0});
  CHECK(pool_by_posterior(pooling::marginal, cost, prior, weight) == Approx(-std::log(prior_total)).epsilon(1e-15));
  CHECK(weight[0] == Approx(std::exp(-1.0) / prior_total).epsilon(1e-15));
  CHECK(weight[1] == 0.0);
  CHECK(weight[2] == Approx(std::exp(-2.0) / prior_total).epsilon(1e-15));
  // A tie: best keeps the first pair, marginal splits evenly.
  const std::vector<double> tie = {2.0, 2.0};
  CHECK(pool_by_posterior(pooling::best, tie, unit, std::span<double>(weight).first(2)) == 2.0);
  CHECK(weight[0] == 1.0);
  CHECK(weight[1] == 0.0);
  CHECK(pool_by_posterior(pooling::marginal, tie, unit, std::span<double>(weight).first(2)) ==
        Approx(2.0 - std::log(2.0)).epsilon(1e-15));
  CHECK(weight[0] == 0.5);
  CHECK(weight[1] == 0.5);
  // Costs far from 0 neither underflow nor overflow: the sum is taken relative to the best score.
  const std::vector<double> large = {1e4, 1e4 + 1.0};
  const double near = 1.0 + std::exp(-1.0);
  CHECK(pool_by_posterior(pooling::marginal, large, unit, std::span<double>(weight).first(2)) ==
        Approx(1e4 - std::log(near)).epsilon(1e-15));
  CHECK(weight[0] == Approx(1.0 / near).epsilon(1e-15));
  CHECK(weight[1] == Approx(std::exp(-1.0) / near).epsilon(1e-15));
  // No pair with mass (infinite costs, zero priors): an infinite loss and no weight, never NaN.
  const std::vector<double> hopeless = {inf, 2.0};
  for (pooling kind : {pooling::marginal, pooling::best}) {
    CHECK(pool_by_posterior(kind, hopeless, [](std::size_t i) { return i == 0 ? 1.0 : 0.0; },
                            std::span<double>(weight).first(2)) == inf);
    CHECK(weight[0] == 0.0);
    CHECK(weight[1] == 0.0);
  }
}

TEST_CASE("best pooling takes the most likely path and random pooling one path per sample", "[loss][sequence_nll]") {
  const pet_batch batch;
  std::mt19937_64 rng(7);
  const auto logits = random_logits<double>(rng, batch.rows(), batch.layout.tokens, 3.0);
  const backends::reference backend;
  const std::vector<double> none;
  const call_result<double> best = run(backend, batch, logits, {.pool = pooling::best}, none, none);
  for (std::size_t s = 0; s < batch.targets.samples; ++s) {
    const auto [first, last] = batch.targets.pairs_of(s);
    double top = -infinity;
    for (auto p = first; p < last; ++p) top = std::max(top, best.log_probability[p]);
    CHECK(close(best.sample_loss[s], -top, 1e-12, 1.0));
  }
  // Random: one pair per sample gets all the weight; over seeds every pair of
  // British Shorthair (sample 0, 4 paths) is drawn.
  std::vector<int> drawn(4, 0);
  for (std::uint64_t seed = 0; seed < 64; ++seed) {
    const call_result<double> random = run(backend, batch, logits, {.pool = pooling::random, .seed = seed}, none, none, false);
    for (std::size_t s = 0; s < batch.targets.samples; ++s) {
      const auto [first, last] = batch.targets.pairs_of(s);
      int chosen = 0;
      for (auto p = first; p < last; ++p) chosen += random.pooling_weight[p] == 1.0 ? 1 : 0;
      REQUIRE(chosen == 1);
    }
    for (std::size_t p = 0; p < 4; ++p) drawn[p] += random.pooling_weight[p] == 1.0 ? 1 : 0;
  }
  for (int count : drawn) CHECK(count >= 6);  // ~16 expected each; P(count < 6) < 1e-3
}

TEMPLATE_LIST_TEST_CASE("best pooling: a path with a NaN logit gets no weight and no NaN gradient",
                        "[loss][sequence_nll][backends]", backends_under_test) {
  // Sample 0 (British Shorthair) has 4 paths; a NaN in pair 1's first target
  // logit makes ℓ(P1) NaN, so P1 is never the argmin: a_P1 = 0, and its rows'
  // gradient is 0, as the fused NLL's weight 0 gives (never 0·NaN).
  const pet_batch batch;
  std::mt19937_64 rng(5);
  auto logits = random_logits<double>(rng, batch.rows(), batch.layout.tokens, 3.0);
  const std::size_t steps = batch.targets.steps;
  logits(steps, batch.targets.tokens[steps]) = std::numeric_limits<double>::quiet_NaN();
  const std::vector<double> none;
  for_each_instance<TestType>([&](const TestType& backend, const std::string&) {
    const auto result = run(backend, batch, logits, {.pool = pooling::best}, none, none);
    CHECK(result.pooling_weight[1] == 0.0);
    CHECK(std::isfinite(result.sample_loss[0]));
    for (std::size_t r = 0; r < 4 * steps; ++r) {
      for (std::size_t v = 0; v < batch.layout.tokens; ++v) {
        INFO("row " << r << ", token " << v);
        REQUIRE(std::isfinite(result.gradient(r, v)));
        if (r / steps == 1) REQUIRE(result.gradient(r, v) == 0.0);
      }
    }
  });
}

TEST_CASE("sequence_nll: REINFORCE surrogate with signed pair weights", "[loss][sequence_nll]") {
  // pooling sum with c_P = r(P) − b: L = Σ_P c_P·(−log p(P)), gradient Σ_P c_P·∂(−log p(P)).
  const pet_batch batch;
  std::mt19937_64 rng(5);
  const auto logits = random_logits<double>(rng, batch.rows(), batch.layout.tokens, 3.0);
  std::vector<double> advantages(batch.targets.pairs());
  for (std::size_t p = 0; p < advantages.size(); ++p) advantages[p] = p % 2 == 0 ? 0.5 : -0.25;
  const backends::reference backend;
  const call_result<double> result = run(backend, batch, logits, {.pool = pooling::sum}, std::vector<double>{}, advantages);
  double expected = 0.0;
  for (std::size_t p = 0; p < advantages.size(); ++p) expected += advantages[p] * -result.log_probability[p];
  CHECK(close(result.total[0], expected, 1e-12, 1.0));
}

TEMPLATE_LIST_TEST_CASE("sequence_nll: every backend matches the reference", "[loss][sequence_nll][backends]",
                        backends_under_test) {
  const pet_batch batch;
  std::mt19937_64 rng(17);
  const auto logits_double = random_logits<double>(rng, batch.rows(), batch.layout.tokens, 3.0);
  const auto weights_double = random_weights<double>(rng, batch.rows(), 0.5, 1.5);
  host_matrix<float> logits_float(batch.rows(), batch.layout.tokens);
  for (std::size_t r = 0; r < logits_float.rows; ++r) {
    for (std::size_t v = 0; v < logits_float.cols; ++v) logits_float(r, v) = static_cast<float>(logits_double(r, v));
  }
  const std::vector<float> weights_float(weights_double.begin(), weights_double.end());
  const backends::reference oracle_backend;
  for_each_instance<TestType>([&](const TestType& backend, const std::string&) {
    for (const sequence_nll_options& options : all_options()) {
      INFO(describe(options));
      const std::vector<double> none_d;
      const auto expected = run(oracle_backend, batch, logits_double, options, weights_double, none_d);
      const auto actual = run(backend, batch, logits_double, options, weights_double, none_d);
      require_close(host_view(actual.sample_loss), host_view(std::as_const(expected.sample_loss)), 1e-12, 1.0, "loss");
      require_close(actual.gradient.view(), expected.gradient.view(), 1e-12, 1.0, "gradient");
      require_close(host_view(actual.log_probability), host_view(std::as_const(expected.log_probability)), 1e-12, 1.0,
                    "log p");
      const std::vector<float> none_f;
      const auto expected_f = run(oracle_backend, batch, logits_float, options, weights_float, none_f);
      const auto actual_f = run(backend, batch, logits_float, options, weights_float, none_f);
      require_close(host_view(actual_f.sample_loss), host_view(std::as_const(expected_f.sample_loss)), 1e-5, 1.0, "loss (float)");
      require_close(actual_f.gradient.view(), expected_f.gradient.view(), 1e-5, 1.0, "gradient (float)");
    }
  });
}

TEST_CASE("sequence_nll: the gradient may overwrite the logits, and the workspace is reusable", "[loss][sequence_nll]") {
  const pet_batch batch;
  std::mt19937_64 rng(3);
  auto logits = random_logits<double>(rng, batch.rows(), batch.layout.tokens, 3.0);
  const backends::reference backend;
  const std::vector<double> none;
  for (pooling pool : {pooling::mean, pooling::marginal, pooling::best}) {
    INFO("pooling " << to_string(pool));
    const auto expected = run(backend, batch, logits, {.pool = pool}, none, none);
    std::vector<double> loss(batch.targets.samples);
    std::vector<double> log_probability(batch.targets.pairs());
    sequence_nll_workspace<backends::reference, double> workspace;
    for (int repeat = 0; repeat < 2; ++repeat) {  // the second call reuses the workspace
      auto in_place = logits;
      sequence_nll_tensors<double> io{.logits = in_place.view(), .targets = batch.targets.view(),
                                      .sample_loss = host_view(loss), .grad_logits = in_place.view(),
                                      .pair_log_probability = host_view(log_probability)};
      sequence_nll(backend, batch.layout, io, {.pool = pool}, workspace);
      require_close(in_place.view(), expected.gradient.view(), 1e-15, 1.0, "in-place gradient");
      require_close(host_view(loss), host_view(std::as_const(expected.sample_loss)), 1e-15, 1.0, "loss");
      // log p(P) reads the target logits, which the gradient overwrites
      require_close(host_view(log_probability), host_view(std::as_const(expected.log_probability)), 1e-15, 1.0, "log p");
    }
  }
}

TEST_CASE("sequence_nll: a sample without pairs costs nothing", "[loss][sequence_nll]") {
  const pet_batch batch;
  std::mt19937_64 rng(1);
  const auto logits = random_logits<double>(rng, batch.rows(), batch.layout.tokens, 3.0);
  std::vector<std::uint32_t> offsets = batch.targets.sample_offsets;
  offsets.insert(offsets.begin() + 1, offsets[1]);  // an empty sample 1
  sequence_targets targets = batch.targets.view();
  targets.sample_offsets = host_view(std::as_const(offsets));
  for (pooling pool : {pooling::mean, pooling::random, pooling::marginal, pooling::best}) {
    std::vector<double> loss(offsets.size() - 1, -1.0);
    sequence_nll(backends::reference{}, batch.layout,
                 sequence_nll_tensors<double>{.logits = logits.view(), .targets = targets, .sample_loss = host_view(loss)},
                 {.pool = pool});
    CHECK(loss[1] == 0.0);
    CHECK(loss[0] > 0.0);
  }
}

TEST_CASE("sequence_nll: bad input is reported with the tensor, pair and step", "[loss][sequence_nll][errors]") {
  const pet_batch batch;
  std::mt19937_64 rng(1);
  const auto logits = random_logits<double>(rng, batch.rows(), batch.layout.tokens, 3.0);
  const backends::reference backend;
  std::vector<double> loss(batch.targets.samples);
  const auto call = [&](sequence_nll_tensors<double> io, sequence_nll_options options = {}) {
    sequence_nll(backend, batch.layout, io, options);
  };
  const sequence_nll_tensors<double> good{.logits = logits.view(), .targets = batch.targets.view(), .sample_loss = host_view(loss)};
  CHECK_NOTHROW(call(good));

  auto io = good;
  const auto short_logits = random_logits<double>(rng, batch.rows() - 1, batch.layout.tokens);
  io.logits = short_logits.view();
  CHECK_THROWS_MATCHES(call(io), shape_error, Catch::Message("logits: expected [40, 34], got [39, 34]"));

  io = good;
  std::vector<double> short_loss(2);
  io.sample_loss = host_view(short_loss);
  CHECK_THROWS_MATCHES(call(io), shape_error, Catch::Message("sample_loss: expected [5], got [2]"));

  io = good;
  std::vector<double> pair_weights(batch.targets.pairs(), 1.0);
  pair_weights[3] = -0.5;
  io.pair_weights = host_view(std::as_const(pair_weights));
  CHECK_NOTHROW(call(io, {.pool = pooling::sum}));
  CHECK_THROWS_MATCHES(call(io, {.pool = pooling::marginal}), argument_error,
                       Catch::Message("pair_weights: pair 3: weight -0.500000 must be finite and >= 0 with pooling marginal"));

  // A token outside the layout and a token that is not a candidate of the current node.
  std::vector<token_id> tokens = batch.targets.tokens;
  tokens[batch.targets.steps * 2 + 1] = 99;
  io = good;
  io.targets.tokens = tensor_view<const token_id, 2>(tokens.data(), {batch.targets.pairs(), batch.targets.steps});
  CHECK_THROWS_MATCHES(call(io), argument_error,
                       Catch::Message("targets.tokens: pair 2, step 1: token 99 is outside the layout (34 tokens)"));
  tokens[batch.targets.steps * 2 + 1] = batch.pets.token("dog");
  CHECK_THROWS_MATCHES(call(io), argument_error,
                       Catch::Message("targets.tokens: pair 2, step 1: token " + std::to_string(batch.pets.token("dog")) +
                                      " is not a candidate of node " + std::to_string(batch.pets.node("cat"))));
  CHECK_NOTHROW(call(io, {.norm = normalization::block, .candidate_mask = false}));  // unmasked block: any token

  // Offsets that do not cover the pairs.
  std::vector<std::uint32_t> offsets = batch.targets.sample_offsets;
  offsets.back() -= 1;
  io = good;
  io.targets.sample_offsets = host_view(std::as_const(offsets));
  CHECK_THROWS_MATCHES(call(io), argument_error,
                       Catch::Message("targets.sample_offsets: must end at the number of pairs (10), got 9"));

  CHECK_THROWS_MATCHES(call(good, {.scale = std::nan("")}), argument_error,
                       Catch::Message("sequence_nll: scale must be finite, got nan"));
}
