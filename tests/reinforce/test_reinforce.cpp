// REINFORCE (Eq. 3-5): the reward of Eq. 3 by hand, the baselines by hand,
// the estimator is unbiased (Monte-Carlo mean vs the exact gradient of the
// expected reward, enumerated), every baseline lowers its variance, the
// gradient against finite differences, the same result on every backend,
// Algorithm 1's combined objective, and bad input.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include "../backends/backends_under_test.hpp"
#include "../decode/decode_support.hpp"
#include "labelgraph/loss/baseline.hpp"
#include "labelgraph/loss/objective.hpp"
#include "labelgraph/loss/reinforce.hpp"
#include "labelgraph/loss/reward.hpp"
#include "labelgraph/paths/target_table.hpp"

using namespace labelgraph;
using namespace labelgraph::testing;
using Catch::Message;

namespace {

const std::string pets_source = LABELGRAPH_SOURCE_DIR "/examples/graphs/pets.json";

/// A one-path-per-input batch from node names (EOP appended when `complete`).
path_batch batch_of(const label_graph& graph, const output_layout& layout,
                    const std::vector<std::vector<std::string>>& names, std::size_t steps, bool complete = true) {
  path_batch paths(names.size(), 1, steps, graph.root());
  for (std::size_t r = 0; r < names.size(); ++r) {
    for (const std::string& name : names[r]) paths.append(r, layout.token(graph.at(name)), graph.at(name), 0.0);
    if (complete) paths.append(r, layout.eop(), no_node, 0.0);
    paths.finish(r, complete ? path_status::complete : path_status::truncated);
  }
  return paths;
}

/// Logits of the teacher-forced re-run of `paths` under a table model: row
/// p·T + t = table(input of p)[u_t].
template <class T>
std::vector<T> rerun_logits(const path_batch& paths, const table_model<T>& model) {
  const std::size_t steps = paths.max_length();
  std::vector<T> logits(paths.rows() * steps * model.tokens);
  for (std::size_t p = 0; p < paths.rows(); ++p) {
    for (std::size_t t = 0; t < steps; ++t) {
      const T* source = model.row(paths.input_of(p), paths.step_node_matrix()(p, t));
      std::copy(source, source + model.tokens, logits.data() + (p * steps + t) * model.tokens);
    }
  }
  return logits;
}

/// A pet model that prefers animal > cat > shorthair > british-shorthair, so
/// the mean reward of british-shorthair is high (self-critical then helps).
table_model<double> biased_pet_model(const label_graph& graph, const output_layout& layout, std::uint64_t seed,
                                     double bias) {
  table_model<double> model(graph.node_count(), layout.token_count(), 1, seed, 1.0);
  model.row(0, graph.root())[layout.token(graph.at("cat"))] += bias;
  model.row(0, graph.at("cat"))[layout.token(graph.at("shorthair"))] += bias;
  model.row(0, graph.at("shorthair"))[layout.token(graph.at("british-shorthair"))] += bias;
  return model;
}

/// Gradient coordinates of the table: (u, w) for every w ∈ C(u).
struct coordinate {
  node_id u;
  token_id w;
};
std::vector<coordinate> table_coordinates(const label_graph& graph, const output_layout& layout) {
  std::vector<coordinate> all;
  for (node_id u = 0; u < graph.node_count(); ++u) {
    for (token_id w : layout.candidates(u)) all.push_back({u, w});
  }
  return all;
}

/// ∇_θ J of J(θ) = E_P[r(P)] = Σ_P p(P) r(P), P enumerated, p(P) = Π p(v_t | u_t)
/// (candidate softmax of the table rows): Σ_P p(P) r(P) Σ_{t: u_t = u} (1[w = v_t] − p(w | u)).
std::map<std::pair<node_id, token_id>, double> exact_reward_gradient(const label_graph& graph,
                                                                     const output_layout& layout,
                                                                     const table_model<double>& model,
                                                                     const ground_truth_reward& reward,
                                                                     double& expected_reward) {
  std::map<std::pair<node_id, token_id>, double> gradient;
  expected_reward = 0.0;
  const auto all = enumerate_sequences(graph, layout, decode_rule::max_candidate, [&](node_id u) { return model.row(0, u); });
  for (const auto& path : all) {
    std::vector<node_id> nodes;
    for (token_id v : path.tokens) {
      if (v != layout.eop()) nodes.push_back(layout.node(v));
    }
    const double r = reward(0, nodes);
    const double weight = std::exp(path.log_probability) * r;
    expected_reward += weight;
    node_id u = graph.root();
    for (token_id v : path.tokens) {
      detail::for_each_candidate_log_probability(layout.view(), decode_rule::max_candidate, model.row(0, u), u,
                                                 [&](token_id w, double log_q) {
                                                   gradient[{u, w}] += weight * ((w == v ? 1.0 : 0.0) - std::exp(log_q));
                                                 });
      if (v != layout.eop()) u = layout.node(v);
    }
  }
  return gradient;
}

/// Per-path contributions c_P(u, w) = N · Σ_{t: u_t = u} ∂L/∂z_{P·T+t, w} of a
/// mean-reduced REINFORCE gradient: their mean is the estimate of −∇J.
struct contributions {
  std::vector<double> mean;      // [coordinates]
  std::vector<double> variance;  // [coordinates], of one path's contribution
};
contributions per_path_contributions(const path_batch& paths, const std::vector<double>& gradient,
                                     const std::vector<coordinate>& coordinates, const output_layout& layout) {
  const std::size_t steps = paths.max_length();
  const std::size_t n = paths.rows();
  const std::size_t tokens = layout.token_count();
  std::vector<std::size_t> index(layout.view().nodes * tokens, 0);  // (u, w) -> coordinate
  for (std::size_t c = 0; c < coordinates.size(); ++c) index[coordinates[c].u * tokens + coordinates[c].w] = c;
  contributions result{std::vector<double>(coordinates.size(), 0.0), std::vector<double>(coordinates.size(), 0.0)};
  std::vector<double> sum_square(coordinates.size(), 0.0);
  std::vector<double> path_value(coordinates.size(), 0.0);
  for (std::size_t p = 0; p < n; ++p) {
    std::fill(path_value.begin(), path_value.end(), 0.0);
    for (std::size_t t = 0; t < paths.length(p); ++t) {
      const node_id u = paths.step_node_matrix()(p, t);
      for (token_id w : layout.candidates(u)) {
        path_value[index[u * tokens + w]] += static_cast<double>(n) * gradient[(p * steps + t) * tokens + w];
      }
    }
    for (std::size_t c = 0; c < coordinates.size(); ++c) {
      result.mean[c] += path_value[c];
      sum_square[c] += path_value[c] * path_value[c];
    }
  }
  for (std::size_t c = 0; c < coordinates.size(); ++c) {
    result.mean[c] /= static_cast<double>(n);
    result.variance[c] = sum_square[c] / static_cast<double>(n) - result.mean[c] * result.mean[c];
  }
  return result;
}

struct estimator_run {
  contributions estimate;
  reinforce_result result;
};

/// Samples `n` paths of british-shorthair, computes rewards and the chosen
/// baseline, runs `reinforce` on the re-run logits and returns the per-path
/// contributions in table coordinates.
estimator_run run_estimator(const label_graph& graph, const output_layout& layout, const table_model<double>& model,
                            const ground_truth_reward& reward, baseline_kind kind, std::size_t n, std::uint64_t seed,
                            bool path_dependent_baseline = false) {
  const backends::reference backend;
  const path_batch samples = sample_paths<double>(backend, graph, layout, model, 1, {.samples_per_input = n, .seed = seed});
  const std::vector<double> rewards = compute_rewards(samples, reward);
  running_mean_state average(0.9);
  double greedy_reward = 0.0;
  {
    const path_batch greedy = greedy_decode<double>(backend, graph, layout, model, 1);
    greedy_reward = reward(0, greedy.nodes(0));
    // A running mean that has seen earlier batches of the same policy.
    const path_batch earlier = sample_paths<double>(backend, graph, layout, model, 1, {.samples_per_input = 500, .seed = seed + 1});
    const std::vector<double> earlier_rewards = compute_rewards(earlier, reward);
    double mean = 0.0;
    for (double r : earlier_rewards) mean += r / static_cast<double>(earlier_rewards.size());
    average.update(mean);
  }
  const std::vector<double> greedy_rewards{greedy_reward};
  baseline choice = baseline::none();
  switch (kind) {
    case baseline_kind::none: break;
    case baseline_kind::running_mean: choice = baseline::running_mean(average); break;
    case baseline_kind::batch_mean: choice = baseline::batch_mean(); break;
    case baseline_kind::leave_one_out: choice = baseline::leave_one_out(); break;
    case baseline_kind::self_critical: choice = baseline::self_critical(greedy_rewards); break;
  }
  // One input with K = n samples: leave-one-out is over all n.
  std::vector<double> baselines = compute_baselines(choice, rewards, n);
  if (path_dependent_baseline) {  // a wrong "baseline" that depends on the path itself: biased
    for (std::size_t p = 0; p < n; ++p) baselines[p] = 0.5 * rewards[p];
  }
  std::vector<double> logits = rerun_logits(samples, model);
  const std::size_t rows = samples.rows() * samples.max_length();
  std::vector<double> gradient(logits.size());
  const tensor_view<const double, 2> logits_view(logits.data(), {rows, layout.token_count()});
  estimator_run run;
  run.result = reinforce(backend, layout, samples, std::span<const double>(rewards), std::span<const double>(baselines),
                         logits_view, tensor_view<double, 2>(gradient.data(), {rows, layout.token_count()}));
  run.estimate = per_path_contributions(samples, gradient, table_coordinates(graph, layout), layout);
  return run;
}

}  // namespace

TEST_CASE("the reward of Eq. 3 is |P ∩ S| / |S|", "[reinforce][reward]") {
  const label_graph graph = pets();
  const output_layout layout = make_output_layout(graph);
  const std::vector<node_id> labels{graph.at("british-shorthair"), graph.at("british-shorthair"), graph.at("cat"),
                                    graph.at("persian"), graph.at("chihuahua")};
  const ground_truth_reward reward(graph, labels);
  CHECK(std::vector<node_id>(reward.ground_truth(0).begin(), reward.ground_truth(0).end()) ==
        std::vector<node_id>{graph.at("cat"), graph.at("british-shorthair")});
  const path_batch paths = batch_of(graph, layout,
                                    {{"cat", "tabby", "british-shorthair"},
                                     {"cat", "shorthair", "abyssinian"},
                                     {"cat", "solid", "persian"},
                                     {"cat", "point"},
                                     {"dog", "small", "pug"}},
                                    4, false);
  const std::vector<double> rewards = compute_rewards(paths, reward);
  CHECK(rewards == std::vector<double>{1.0, 0.5, 1.0, 0.5, 0.5});  // S(chihuahua) = {dog, chihuahua}
  // A user functor: any callable (input, nodes) -> double.
  const auto depth_reward = [](std::size_t, std::span<const node_id> nodes) { return static_cast<double>(nodes.size()); };
  CHECK(compute_rewards(paths, depth_reward) == std::vector<double>{3.0, 3.0, 3.0, 2.0, 3.0});
}

TEST_CASE("baselines by hand", "[reinforce][baseline]") {
  const std::vector<double> rewards{1.0, 0.0, 0.5, 0.5};
  CHECK(compute_baselines(baseline::none(), rewards, 2) == std::vector<double>{0, 0, 0, 0});
  CHECK(compute_baselines(baseline::batch_mean(), rewards, 2) == std::vector<double>{0.5, 0.5, 0.5, 0.5});
  CHECK(compute_baselines(baseline::leave_one_out(), rewards, 2) == std::vector<double>{0.0, 1.0, 0.5, 0.5});
  CHECK(compute_baselines(baseline::leave_one_out(), std::vector<double>{1.0, 0.0, 0.5, 0.25}, 4) ==
        std::vector<double>{0.25, 1.75 / 3.0, 1.25 / 3.0, 0.5});
  const std::vector<double> greedy{0.75, 0.25};
  CHECK(compute_baselines(baseline::self_critical(greedy), rewards, 2) == std::vector<double>{0.75, 0.75, 0.25, 0.25});
  running_mean_state average(0.9);
  CHECK(compute_baselines(baseline::running_mean(average), rewards, 2) == std::vector<double>{0.5, 0.5, 0.5, 0.5});
  CHECK(average.value() == 0.5);
  CHECK(compute_baselines(baseline::running_mean(average), std::vector<double>{1.0, 1.0}, 1) == std::vector<double>{0.5, 0.5});
  CHECK(average.value() == Approx(0.9 * 0.5 + 0.1 * 1.0).epsilon(1e-15));

  CHECK_THROWS_MATCHES(compute_baselines(baseline::leave_one_out(), rewards, 1), argument_error,
                       Message("compute_baselines (leave_one_out): needs at least 2 paths per input, got 1"));
  CHECK_THROWS_MATCHES(compute_baselines(baseline::self_critical(greedy), rewards, 1), shape_error,
                       Message("compute_baselines (self_critical): greedy_rewards: expected [4], got [2]"));
  CHECK_THROWS_MATCHES(compute_baselines(baseline::batch_mean(), rewards, 3), shape_error,
                       Message("compute_baselines (batch_mean): rewards: 4 values are not a multiple of 3 paths per input"));
  CHECK_THROWS_MATCHES(compute_baselines(baseline::batch_mean(), std::vector<double>{1.0, std::numeric_limits<double>::infinity()}, 1),
                       argument_error,
                       Message("compute_baselines (batch_mean): rewards: path 1: the reward is inf; rewards must be finite"));
  CHECK_THROWS_MATCHES(running_mean_state(1.0), argument_error,
                       Message("running_mean_state: momentum must be in [0, 1), got 1.000000"));
}

TEST_CASE("REINFORCE is unbiased: the Monte-Carlo mean converges to the exact gradient of E[r]", "[reinforce][statistics]") {
  const label_graph graph = pets();
  const output_layout layout = make_output_layout(graph);
  const table_model<double> model = biased_pet_model(graph, layout, 17, 1.5);
  const ground_truth_reward reward(graph, std::vector<node_id>{graph.at("british-shorthair")});
  double expected_reward = 0.0;
  const auto exact = exact_reward_gradient(graph, layout, model, reward, expected_reward);
  const std::vector<coordinate> coordinates = table_coordinates(graph, layout);
  constexpr std::size_t n = 20000;
  // Tolerance: each coordinate's mean of n i.i.d. per-path contributions is
  // within 5 standard errors of −∇J (two-sided normal tail 5.7e-7 per
  // coordinate, ~1e-4 over the ~90 coordinates; the seeds are fixed, so the
  // outcome is reproducible).
  for (baseline_kind kind : {baseline_kind::none, baseline_kind::running_mean, baseline_kind::batch_mean,
                             baseline_kind::leave_one_out, baseline_kind::self_critical}) {
    INFO("baseline " << to_string(kind));
    const estimator_run run = run_estimator(graph, layout, model, reward, kind, n, 1234);
    CHECK(run.result.statistics.mean_reward == Approx(expected_reward).margin(5.0 * 0.5 / std::sqrt(double(n))));
    std::size_t decisive = 0;
    for (std::size_t c = 0; c < coordinates.size(); ++c) {
      const double truth = -exact.at({coordinates[c].u, coordinates[c].w});  // the loss gradient is −∇J
      const double standard_error = std::sqrt(run.estimate.variance[c] / static_cast<double>(n));
      INFO("node " << graph.name(coordinates[c].u) << ", token " << coordinates[c].w << ": estimate "
                   << run.estimate.mean[c] << ", exact " << truth << ", standard error " << standard_error);
      REQUIRE(std::abs(run.estimate.mean[c] - truth) <= 5.0 * standard_error + 1e-12);
      decisive += std::abs(truth) > 10.0 * standard_error ? 1u : 0u;
    }
    CHECK(decisive >= 5);  // the test has power: several coordinates lie far from 0 in standard errors
  }
  // The test can fail: a "baseline" that depends on the sampled path itself
  // (b = r/2, as when a baseline is fitted on the same sample and receives
  // gradient) halves the estimate, and that is detected.
  const estimator_run biased = run_estimator(graph, layout, model, reward, baseline_kind::none, n, 1234, true);
  double worst = 0.0;
  for (std::size_t c = 0; c < coordinates.size(); ++c) {
    const double truth = -exact.at({coordinates[c].u, coordinates[c].w});
    const double standard_error = std::sqrt(biased.estimate.variance[c] / static_cast<double>(n));
    if (standard_error > 0.0) worst = std::max(worst, std::abs(biased.estimate.mean[c] - truth) / standard_error);
  }
  CHECK(worst > 5.0);
}

TEST_CASE("every baseline lowers the estimator's variance", "[reinforce][statistics]") {
  const label_graph graph = pets();
  const output_layout layout = make_output_layout(graph);
  // A model that mostly finds the label (mean reward ~0.85), as after some
  // training: the regime where a baseline matters and the greedy path is good.
  const table_model<double> model = biased_pet_model(graph, layout, 17, 3.0);
  const ground_truth_reward reward(graph, std::vector<node_id>{graph.at("british-shorthair")});
  constexpr std::size_t n = 4000;
  const auto total_variance = [](const estimator_run& run) {
    double sum = 0.0;
    for (double v : run.estimate.variance) sum += v;
    return sum;
  };
  const estimator_run plain = run_estimator(graph, layout, model, reward, baseline_kind::none, n, 99);
  INFO("no baseline: total variance " << total_variance(plain) << ", second moment "
                                      << plain.result.statistics.gradient_second_moment << ", mean reward "
                                      << plain.result.statistics.mean_reward);
  for (baseline_kind kind : {baseline_kind::running_mean, baseline_kind::batch_mean, baseline_kind::leave_one_out,
                             baseline_kind::self_critical}) {
    const estimator_run run = run_estimator(graph, layout, model, reward, kind, n, 99);
    INFO("baseline " << to_string(kind) << ": total variance " << total_variance(run) << ", second moment "
                     << run.result.statistics.gradient_second_moment);
    CHECK(total_variance(run) < 0.8 * total_variance(plain));
    CHECK(run.result.statistics.gradient_second_moment < 0.8 * plain.result.statistics.gradient_second_moment);
  }
}

TEST_CASE("the REINFORCE loss by hand and its gradient against finite differences", "[reinforce][gradient]") {
  const label_graph graph = pets();
  const output_layout layout = make_output_layout(graph);
  const backends::reference backend;
  const std::size_t tokens = layout.token_count();
  table_model<double> model(graph.node_count(), tokens, 2, 5);
  const path_batch samples = sample_paths<double>(backend, graph, layout, model, 2, {.samples_per_input = 3, .seed = 8});
  const std::vector<double> rewards{1.0, 0.5, 0.0, 0.25, 1.0, 0.5};
  const std::vector<double> baselines{0.4, 0.4, 0.4, 0.6, 0.6, 0.6};
  // Logits unrelated to the sampling model (a re-run may differ: dropout, a parameter update).
  std::mt19937_64 rng(42);
  std::uniform_real_distribution<double> value(-2.0, 2.0);
  const std::size_t rows = samples.rows() * samples.max_length();
  std::vector<double> logits(rows * tokens);
  for (double& z : logits) z = value(rng);
  for (normalization norm : {normalization::candidate, normalization::block}) {
    for (double entropy_weight : {0.0, 0.3}) {
      for (path_reduction reduction : {path_reduction::mean, path_reduction::sum}) {
        INFO("normalization " << to_string(norm) << ", entropy weight " << entropy_weight << ", reduction "
                              << static_cast<int>(reduction));
        const reinforce_options options{.norm = norm, .entropy_weight = entropy_weight, .reduction = reduction, .scale = 0.7};
        const auto loss_at = [&](const std::vector<double>& z) {
          std::vector<double> scratch(z.size());
          return reinforce(backend, layout, samples, std::span<const double>(rewards), std::span<const double>(baselines),
                           tensor_view<const double, 2>(z.data(), {rows, tokens}),
                           tensor_view<double, 2>(scratch.data(), {rows, tokens}), options)
              .loss;
        };
        std::vector<double> gradient(logits.size());
        const reinforce_result result =
            reinforce(backend, layout, samples, std::span<const double>(rewards), std::span<const double>(baselines),
                      tensor_view<const double, 2>(logits.data(), {rows, tokens}),
                      tensor_view<double, 2>(gradient.data(), {rows, tokens}), options);
        // By hand: L = s/N Σ_P [(r − b)(−log p(P)) − λ Σ_t H_t].
        const double n = reduction == path_reduction::mean ? static_cast<double>(samples.rows()) : 1.0;
        double expected = 0.0;
        for (std::size_t p = 0; p < samples.rows(); ++p) {
          for (std::size_t t = 0; t < samples.length(p); ++t) {
            const double* z = logits.data() + (p * samples.max_length() + t) * tokens;
            const node_id u = samples.step_node_matrix()(p, t);
            const token_id v = samples.tokens(p)[t];
            double set_sum = 0.0, all_sum = 0.0;
            for (token_id w : layout.candidates(u)) {
              all_sum += std::exp(z[w]);
              if (norm == normalization::candidate || layout.token_group(w) == layout.token_group(v)) set_sum += std::exp(z[w]);
            }
            double entropy = 0.0;
            for (token_id w : layout.candidates(u)) entropy -= std::exp(z[w]) / all_sum * (z[w] - std::log(all_sum));
            expected += 0.7 / n * ((rewards[p] - baselines[p]) * (std::log(set_sum) - z[v]) - entropy_weight * entropy);
          }
        }
        REQUIRE(result.loss == Approx(expected).epsilon(1e-12));
        // Central differences on every logit of the first path's rows, and zeros off C(u).
        constexpr double h = 1e-6;
        std::vector<double> shifted = logits;
        for (std::size_t row = 0; row < samples.max_length(); ++row) {
          for (std::size_t v = 0; v < tokens; ++v) {
            const std::size_t i = row * tokens + v;
            shifted[i] = logits[i] + h;
            const double up = loss_at(shifted);
            shifted[i] = logits[i] - h;
            const double down = loss_at(shifted);
            shifted[i] = logits[i];
            INFO("row " << row << ", token " << v);
            REQUIRE(gradient[i] == Approx((up - down) / (2 * h)).margin(1e-8));
          }
        }
      }
    }
  }
}

TEMPLATE_LIST_TEST_CASE("REINFORCE gives the same loss and gradient on every host backend", "[reinforce][backends]",
                        backends_under_test) {
  const label_graph graph = pets();
  const output_layout layout = make_output_layout(graph);
  const std::size_t tokens = layout.token_count();
  table_model<float> model(graph.node_count(), tokens, 16, 12);
  std::vector<node_id> labels;
  for (std::size_t i = 0; i < 16; ++i) labels.push_back(graph.at(i % 2 == 0 ? "british-shorthair" : "samoyed"));
  const backends::reference oracle;
  const path_batch samples = sample_paths<float>(oracle, graph, layout, model, 16, {.samples_per_input = 4, .seed = 5});
  const ground_truth_reward reward(graph, labels);
  std::vector<float> logits = rerun_logits(samples, model);
  const std::size_t rows = samples.rows() * samples.max_length();
  std::vector<float> expected(logits.size());
  const reinforce_options options{.entropy_weight = 0.01};
  const reinforce_result reference = reinforce(oracle, layout, samples, reward, baseline::leave_one_out(),
                                               tensor_view<const float, 2>(logits.data(), {rows, tokens}),
                                               tensor_view<float, 2>(expected.data(), {rows, tokens}), options);
  for (const TestType& backend : backend_instances<TestType>::make()) {
    // In place: the gradient overwrites a copy of the logits.
    std::vector<float> in_place = logits;
    const tensor_view<float, 2> both(in_place.data(), {rows, tokens});
    const reinforce_result result = reinforce(backend, layout, samples, reward, baseline::leave_one_out(), both, both, options);
    CHECK(result.loss == Approx(reference.loss).epsilon(1e-6));
    CHECK(result.statistics.mean_log_probability == Approx(reference.statistics.mean_log_probability).epsilon(1e-6));
    CHECK(result.statistics.mean_entropy == Approx(reference.statistics.mean_entropy).epsilon(1e-6));
    for (std::size_t i = 0; i < expected.size(); ++i) {
      REQUIRE(in_place[i] == Approx(expected[i]).margin(1e-6));
    }
  }
}

TEST_CASE("the combined objective is alpha * L_tf + beta * L_pg (Algorithm 1)", "[reinforce][objective]") {
  const label_graph graph = pets();
  const output_layout layout = make_output_layout(graph);
  const target_table table = make_target_table(graph, layout);
  const backends::reference backend;
  const std::size_t tokens = layout.token_count();
  const std::vector<node_id> labels{graph.at("british-shorthair"), graph.at("cat"), graph.at("persian"), graph.at("sphynx")};
  const path_targets teacher = make_path_targets(graph, layout, table, labels, {.deterministic_only = true});
  REQUIRE(teacher.uncertain_samples == std::vector<std::uint32_t>{0, 2});  // british-shorthair and persian have nondeterministic paths
  const std::vector<node_id> pg_labels = select_samples(labels, teacher.uncertain_samples);
  table_model<double> model(graph.node_count(), tokens, pg_labels.size(), 3);
  const path_batch samples = sample_paths<double>(backend, graph, layout, model, pg_labels.size(), {.samples_per_input = 3, .seed = 1});
  const std::vector<double> rewards = compute_rewards(samples, ground_truth_reward(graph, pg_labels));
  const std::vector<double> baselines = compute_baselines(baseline::batch_mean(), rewards, 3);
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> value(-1.0, 1.0);
  std::vector<double> tf_logits(teacher.pairs() * teacher.steps * tokens);
  for (double& z : tf_logits) z = value(rng);
  std::vector<double> pg_logits = rerun_logits(samples, model);
  const std::size_t tf_rows = teacher.pairs() * teacher.steps;
  const std::size_t pg_rows = samples.rows() * samples.max_length();
  std::vector<double> tf_grad(tf_logits.size()), pg_grad(pg_logits.size());
  const objective_result combined = combined_objective(
      backend, layout, {.alpha = 0.6, .beta = 2.5},
      teacher_forcing_part<double>{teacher, tensor_view<const double, 2>(tf_logits.data(), {tf_rows, tokens}),
                                   tensor_view<double, 2>(tf_grad.data(), {tf_rows, tokens})},
      policy_gradient_part<double>{samples, rewards, baselines,
                                   tensor_view<const double, 2>(pg_logits.data(), {pg_rows, tokens}),
                                   tensor_view<double, 2>(pg_grad.data(), {pg_rows, tokens})});
  // The parts separately, unweighted.
  std::vector<double> sample_loss(teacher.samples), total(1), tf_unit(tf_logits.size()), pg_unit(pg_logits.size());
  sequence_nll_workspace<backends::reference, double> workspace;
  sequence_nll(backend, layout.view(),
               sequence_nll_tensors<double>{.logits = tensor_view<const double, 2>(tf_logits.data(), {tf_rows, tokens}),
                                            .targets = teacher.view(),
                                            .token_weights = {},
                                            .pair_weights = {},
                                            .sample_loss = host_view(sample_loss),
                                            .total = host_view(total),
                                            .grad_logits = tensor_view<double, 2>(tf_unit.data(), {tf_rows, tokens}),
                                            .pair_log_probability = {},
                                            .pair_pooling_weights = {}},
               {}, workspace);
  const reinforce_result pg = reinforce(backend, layout, samples, std::span<const double>(rewards),
                                        std::span<const double>(baselines),
                                        tensor_view<const double, 2>(pg_logits.data(), {pg_rows, tokens}),
                                        tensor_view<double, 2>(pg_unit.data(), {pg_rows, tokens}));
  CHECK(combined.teacher_forcing == Approx(total[0]).epsilon(1e-12));
  CHECK(combined.policy_gradient == Approx(pg.loss).epsilon(1e-12));
  CHECK(combined.loss == Approx(0.6 * total[0] + 2.5 * pg.loss).epsilon(1e-12));
  for (std::size_t i = 0; i < tf_grad.size(); ++i) REQUIRE(tf_grad[i] == Approx(0.6 * tf_unit[i]).margin(1e-14));
  for (std::size_t i = 0; i < pg_grad.size(); ++i) REQUIRE(pg_grad[i] == Approx(2.5 * pg_unit[i]).margin(1e-14));
  // No uncertain sample: an empty batch of samples, L = α·L_tf.
  const path_batch none;
  const objective_result only_tf = combined_objective(
      backend, layout, {.alpha = 0.6, .beta = 2.5},
      teacher_forcing_part<double>{teacher, tensor_view<const double, 2>(tf_logits.data(), {tf_rows, tokens}),
                                   tensor_view<double, 2>(tf_grad.data(), {tf_rows, tokens})},
      policy_gradient_part<double>{none, {}, {}, {}, {}});
  CHECK(only_tf.loss == Approx(0.6 * total[0]).epsilon(1e-12));
  CHECK(only_tf.reinforce.statistics.paths == 0);
}

TEST_CASE("REINFORCE rejects bad input with clear messages", "[reinforce][errors]") {
  const label_graph graph = pets();
  const output_layout layout = make_output_layout(graph);
  const backends::reference backend;
  const std::size_t tokens = layout.token_count();
  // Labels that are not label nodes, or not in the graph.
  CHECK_THROWS_MATCHES(ground_truth_reward(graph, std::vector<node_id>{graph.at("cat"), graph.at("shorthair")}),
                       argument_error,
                       Message(pets_source + ": ground_truth_reward: labels: input 1: node 'shorthair' is not a label node (kind: augmented)"));
  CHECK_THROWS_MATCHES(ground_truth_reward(graph, std::vector<node_id>{999}), argument_error,
                       Message(pets_source + ": ground_truth_reward: labels: input 0: node id 999 is outside the graph (34 nodes)"));
  // A non-finite reward from a user functor.
  const path_batch paths = batch_of(graph, layout, {{"cat"}, {"dog"}}, 2);
  const auto broken = [](std::size_t input, std::span<const node_id>) {
    return input == 1 ? std::numeric_limits<double>::quiet_NaN() : 1.0;
  };
  CHECK_THROWS_MATCHES(compute_rewards(paths, broken), argument_error,
                       Message("reward: path 1 (input 1): the reward is nan; rewards must be finite"));
  std::vector<double> logits(paths.rows() * paths.max_length() * tokens, 0.0), gradient(logits.size());
  const tensor_view<const double, 2> z(logits.data(), {4, tokens});
  const tensor_view<double, 2> g(gradient.data(), {4, tokens});
  const std::vector<double> two{1.0, 0.0};
  const std::vector<double> bad{1.0, std::numeric_limits<double>::infinity()};
  CHECK_THROWS_MATCHES(reinforce(backend, layout, paths, std::span<const double>(bad), std::span<const double>(two), z, g),
                       argument_error,
                       Message("rewards: path 1 (input 1): the value is inf; rewards and baselines must be finite"));
  CHECK_THROWS_MATCHES(reinforce(backend, layout, paths, std::span<const double>(two), std::span<const double>(two.data(), 1), z, g),
                       shape_error, Message("baselines: expected [2], got [1]"));
  CHECK_THROWS_MATCHES(reinforce(backend, layout, paths, std::span<const double>(two), std::span<const double>(two),
                                 tensor_view<const double, 2>(logits.data(), {3, tokens}), g),
                       shape_error, Message("logits: expected [4, 34], got [3, 34]"));
  CHECK_THROWS_MATCHES(reinforce(backend, layout, paths, std::span<const double>(two), std::span<const double>(two), z, g,
                                 {.entropy_weight = -1.0}),
                       argument_error, Message("reinforce: entropy_weight must be finite and >= 0, got -1.000000"));
  // A token outside the layout, and a token that is not a legal move.
  path_batch outside(1, 1, 2, graph.root());
  outside.append(0, 999, no_node, 0.0);
  outside.finish(0, path_status::truncated);
  const std::vector<double> one{1.0};
  CHECK_THROWS_MATCHES(reinforce(backend, layout, outside, std::span<const double>(one), std::span<const double>(one),
                                 tensor_view<const double, 2>(logits.data(), {2, tokens}),
                                 tensor_view<double, 2>(gradient.data(), {2, tokens})),
                       argument_error, Message("targets.tokens: pair 0, step 0: token 999 is outside the layout (34 tokens)"));
  const path_batch illegal = batch_of(graph, layout, {{"shorthair"}}, 2);  // shorthair is not a child of the root
  CHECK_THROWS_MATCHES(reinforce(backend, layout, illegal, std::span<const double>(one), std::span<const double>(one),
                                 tensor_view<const double, 2>(logits.data(), {2, tokens}),
                                 tensor_view<double, 2>(gradient.data(), {2, tokens})),
                       argument_error,
                       Message("targets.tokens: pair 0, step 0: token " + std::to_string(layout.token(graph.at("shorthair"))) +
                               " is not a candidate of node " + std::to_string(graph.root())));
}
