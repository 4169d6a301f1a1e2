// Graph-constrained decoding: sampling is identical on every host backend and
// follows q; beam search with width = number of paths lists them in exact
// probability order; greedy equals beam width 1; the length guard and dead
// ends; bad input.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "../backends/backends_under_test.hpp"
#include "decode_support.hpp"

using namespace labelgraph;
using namespace labelgraph::testing;
using Catch::Message;

namespace {

/// Checks that every path of `paths` follows C(u) and that its recorded
/// log p equals Σ log q of its tokens under `model`'s logits.
template <class T>
void require_legal(const label_graph& graph, const output_layout& layout, const path_batch& paths,
                   const table_model<T>& model, decode_rule rule) {
  for (std::size_t r = 0; r < paths.rows(); ++r) {
    node_id u = graph.root();
    double log_p = 0.0;
    const auto tokens = paths.tokens(r);
    for (std::size_t t = 0; t < tokens.size(); ++t) {
      const auto candidates = layout.candidates(u);
      REQUIRE(std::find(candidates.begin(), candidates.end(), tokens[t]) != candidates.end());
      REQUIRE(paths.step_node_matrix()(r, t) == u);
      log_p += detail::candidate_log_probability(layout.view(), rule, model.row(paths.input_of(r), u), u, tokens[t]);
      if (tokens[t] != layout.eop()) u = layout.node(tokens[t]);
    }
    REQUIRE(paths.last_node(r) == u);
    REQUIRE(paths.log_probability(r) == Approx(log_p).margin(1e-12));
    REQUIRE((paths.status(r) == path_status::complete) == (!tokens.empty() && tokens.back() == layout.eop()));
  }
}

}  // namespace

TEMPLATE_LIST_TEST_CASE("sampling draws the same paths on every host backend", "[decode][sampling]",
                        backends_under_test) {
  const label_graph graph = pets();
  const output_layout layout = make_output_layout(graph);
  constexpr std::size_t inputs = 7;
  table_model<float> model(graph.node_count(), layout.token_count(), inputs, 11);
  const backends::reference oracle;
  for (decode_rule rule : {decode_rule::max_candidate, decode_rule::max_block}) {
    const sampling_options options{.samples_per_input = 9, .max_length = 0, .seed = 77, .rule = rule};
    const path_batch expected = sample_paths<float>(oracle, graph, layout, model, inputs, options);
    REQUIRE(expected.rows() == inputs * 9);
    REQUIRE(expected.max_length() == 4);  // animal > cat > shorthair > breed, EOP
    require_legal(graph, layout, expected, model, rule);
    const auto instances = backend_instances<TestType>::make();
    for (const TestType& backend : instances) {
      decode_workspace<float> workspace;
      const path_batch actual = sample_paths(backend, graph, layout, model, inputs, options, workspace);
      for (std::size_t r = 0; r < expected.rows(); ++r) {
        REQUIRE(std::vector<token_id>(actual.tokens(r).begin(), actual.tokens(r).end()) ==
                std::vector<token_id>(expected.tokens(r).begin(), expected.tokens(r).end()));
        REQUIRE(actual.log_probability(r) == expected.log_probability(r));
        REQUIRE(actual.status(r) == path_status::complete);
      }
    }
    const path_batch other_seed =
        sample_paths<float>(oracle, graph, layout, model, inputs, {.samples_per_input = 9, .seed = 78, .rule = rule});
    bool differs = false;
    for (std::size_t r = 0; r < expected.rows(); ++r) {
      differs = differs || !std::equal(expected.tokens(r).begin(), expected.tokens(r).end(), other_seed.tokens(r).begin(),
                                       other_seed.tokens(r).end());
    }
    CHECK(differs);
  }
}

TEST_CASE("sampled path frequencies match the enumerated path probabilities", "[decode][sampling]") {
  const label_graph graph = pets();
  const output_layout layout = make_output_layout(graph);
  table_model<double> model(graph.node_count(), layout.token_count(), 1, 5, 1.5);
  const backends::reference backend;
  for (decode_rule rule : {decode_rule::max_candidate, decode_rule::max_block}) {
    const auto all = enumerate_sequences(graph, layout, rule, [&](node_id u) { return model.row(0, u); });
    double total = 0.0;
    for (const auto& path : all) total += std::exp(path.log_probability);
    REQUIRE(total == Approx(1.0).margin(1e-12));  // q is a distribution over complete paths
    constexpr std::size_t draws = 20000;
    const path_batch samples = sample_paths<double>(backend, graph, layout, model, 1, {.samples_per_input = draws, .seed = 3, .rule = rule});
    std::map<std::vector<token_id>, std::size_t> counts;
    for (std::size_t r = 0; r < draws; ++r) ++counts[{samples.tokens(r).begin(), samples.tokens(r).end()}];
    // Pearson chi-square over the paths, critical value at 1e-6 (Wilson–Hilferty).
    double chi_square = 0.0;
    for (const auto& path : all) {
      const double expected = static_cast<double>(draws) * std::exp(path.log_probability);
      const double observed = static_cast<double>(counts[path.tokens]);
      chi_square += (observed - expected) * (observed - expected) / expected;
    }
    const double df = static_cast<double>(all.size() - 1);
    const double a = 2.0 / (9.0 * df);
    const double critical = df * std::pow(1.0 - a + 4.753 * std::sqrt(a), 3.0);
    INFO("rule " << static_cast<int>(rule) << ", paths " << all.size() << ", chi-square " << chi_square);
    CHECK(chi_square < critical);
    CHECK(counts.size() <= all.size());  // nothing outside the enumerated paths
  }
}

TEST_CASE("beam search with width = number of paths lists every path in probability order", "[decode][beam]") {
  const label_graph graph = pets();
  const output_layout layout = make_output_layout(graph);
  constexpr std::size_t inputs = 3;
  table_model<double> model(graph.node_count(), layout.token_count(), inputs, 21);
  const backends::reference backend;
  for (decode_rule rule : {decode_rule::max_candidate, decode_rule::max_block}) {
    std::vector<std::vector<enumerated_path>> expected(inputs);
    for (std::size_t i = 0; i < inputs; ++i) {
      expected[i] = enumerate_sequences(graph, layout, rule, [&](node_id u) { return model.row(i, u); });
      std::sort(expected[i].begin(), expected[i].end(),
                [](const auto& a, const auto& b) { return a.log_probability > b.log_probability; });
    }
    const std::size_t width = expected[0].size();
    REQUIRE(width == 46);  // cat, dog, 27 cat-breed paths, 17 dog-breed paths (every leaf is a label)
    decode_workspace<double> workspace;
    const path_batch beams = beam_decode(backend, graph, layout, model, inputs, {.width = width, .rule = rule}, workspace);
    for (std::size_t i = 0; i < inputs; ++i) {
      for (std::size_t b = 0; b < width; ++b) {
        const std::size_t row = i * width + b;
        INFO("input " << i << ", beam " << b);
        REQUIRE(beams.status(row) == path_status::complete);
        REQUIRE(std::vector<token_id>(beams.tokens(row).begin(), beams.tokens(row).end()) == expected[i][b].tokens);
        REQUIRE(beams.log_probability(row) == Approx(expected[i][b].log_probability).margin(1e-12));
      }
    }
    // A wider beam leaves the extra slots empty.
    const path_batch wider = beam_decode<double>(backend, graph, layout, model, 1, {.width = width + 2, .rule = rule});
    CHECK(wider.status(width) == path_status::dead_end);
    CHECK(wider.log_probability(width + 1) == -std::numeric_limits<double>::infinity());
    CHECK(wider.tokens(width).empty());
  }
}

TEMPLATE_LIST_TEST_CASE("greedy decoding equals beam search of width 1", "[decode][greedy][beam]", backends_under_test) {
  const label_graph graph = pets();
  const output_layout layout = make_output_layout(graph);
  constexpr std::size_t inputs = 64;
  table_model<float> model(graph.node_count(), layout.token_count(), inputs, 8, 3.0);
  for (const TestType& backend : backend_instances<TestType>::make()) {
    for (decode_rule rule : {decode_rule::max_candidate, decode_rule::max_block}) {
      decode_workspace<float> workspace;
      const path_batch greedy = greedy_decode(backend, graph, layout, model, inputs, {.rule = rule}, workspace);
      const path_batch beam = beam_decode(backend, graph, layout, model, inputs, {.width = 1, .rule = rule}, workspace);
      require_legal(graph, layout, greedy, model, rule);
      for (std::size_t i = 0; i < inputs; ++i) {
        INFO("input " << i);
        REQUIRE(std::vector<token_id>(greedy.tokens(i).begin(), greedy.tokens(i).end()) ==
                std::vector<token_id>(beam.tokens(i).begin(), beam.tokens(i).end()));
        REQUIRE(greedy.log_probability(i) == Approx(beam.log_probability(i)).margin(1e-12));
        // Algorithm 2: each step takes the argmax of the rule's score over C(u).
        node_id u = graph.root();
        for (token_id v : greedy.tokens(i)) {
          REQUIRE(v == detail::argmax_candidate(layout.view(), rule, model.row(i, u), u));
          if (v != layout.eop()) u = layout.node(v);
        }
      }
    }
  }
}

TEST_CASE("beam search keeps the width best hypotheses and reorders rows for the model", "[decode][beam]") {
  const label_graph graph = pets();
  const output_layout layout = make_output_layout(graph);
  table_model<double> model(graph.node_count(), layout.token_count(), 2, 4);
  const backends::reference backend;
  const auto all = enumerate_sequences(graph, layout, decode_rule::max_candidate, [&](node_id u) { return model.row(1, u); });
  // The model checks that source_rows / previous_tokens / current_nodes are consistent with the path so far.
  std::vector<node_id> last_nodes;
  std::vector<token_id> last_tokens;
  auto checking_model = [&](const step_context& context, tensor_view<double, 2> logits) {
    if (context.step > 0) {
      for (std::size_t r = 0; r < context.rows; ++r) {
        if (context.finished(r) != 0) continue;
        const std::uint32_t source = context.source_rows(r);
        REQUIRE(source / context.rows_per_input == r / context.rows_per_input);  // never crosses inputs
        const token_id token = context.previous_tokens(r);
        REQUIRE(std::find(layout.candidates(last_nodes[source]).begin(), layout.candidates(last_nodes[source]).end(),
                          token) != layout.candidates(last_nodes[source]).end());
        REQUIRE(context.current_nodes(r) == layout.node(token));
      }
    }
    last_nodes.assign(context.current_nodes.data(), context.current_nodes.data() + context.rows);
    last_tokens.assign(context.previous_tokens.data(), context.previous_tokens.data() + context.rows);
    model(context, logits);
  };
  const path_batch beams = beam_decode<double>(backend, graph, layout, checking_model, 2, {.width = 5});
  // Input 1's beams: distinct complete paths, each with its enumerated probability, best first.
  std::map<std::vector<token_id>, double> log_p;
  for (const auto& path : all) log_p[path.tokens] = path.log_probability;
  std::set<std::vector<token_id>> seen;
  for (std::size_t b = 0; b < 5; ++b) {
    const std::vector<token_id> tokens(beams.tokens(5 + b).begin(), beams.tokens(5 + b).end());
    REQUIRE(log_p.count(tokens) == 1);
    CHECK(beams.log_probability(5 + b) == Approx(log_p[tokens]).margin(1e-12));
    CHECK(seen.insert(tokens).second);
    if (b > 0) CHECK(beams.score(5 + b) <= beams.score(5 + b - 1));
  }
}

TEST_CASE("length normalisation ranks by log p / |P|^alpha", "[decode][beam]") {
  const label_graph graph = pets();
  const output_layout layout = make_output_layout(graph);
  table_model<double> model(graph.node_count(), layout.token_count(), 1, 9);
  const backends::reference backend;
  const path_batch beams = beam_decode<double>(backend, graph, layout, model, 1, {.width = 46, .length_penalty = 1.0});
  for (std::size_t b = 0; b < 46; ++b) {
    REQUIRE(beams.score(b) == Approx(beams.log_probability(b) / static_cast<double>(beams.length(b))).margin(1e-12));
    if (b > 0) REQUIRE(beams.score(b) <= beams.score(b - 1));
  }
}

TEST_CASE("the length guard truncates, a row without legal mass is a dead end", "[decode][guard]") {
  const label_graph graph = pets();
  const output_layout layout = make_output_layout(graph);
  table_model<float> model(graph.node_count(), layout.token_count(), 1, 2);
  // Make EOP impossible after `cat`, so that greedy goes below it.
  model.row(0, graph.at("cat"))[layout.eop()] = -std::numeric_limits<float>::infinity();
  const backends::reference backend;
  const path_batch cut = greedy_decode(backend, graph, layout, model, 1, {.max_length = 2});  // T = float by default
  CHECK(cut.status(0) == path_status::truncated);
  CHECK(cut.length(0) == 2);
  CHECK(cut.nodes(0).size() == 2);
  CHECK(model.calls == 2);
  const path_batch sampled = sample_paths<float>(backend, graph, layout, model, 1, {.samples_per_input = 50, .max_length = 1});
  for (std::size_t r = 0; r < 50; ++r) {
    CHECK(sampled.status(r) == path_status::truncated);
    CHECK(sampled.length(r) == 1);
  }
  // All of C(root) at −inf / NaN: no legal move.
  for (token_id v : layout.candidates(graph.root())) model.row(0, graph.root())[v] = std::numeric_limits<float>::quiet_NaN();
  const path_batch dead = greedy_decode<float>(backend, graph, layout, model, 1);
  CHECK(dead.status(0) == path_status::dead_end);
  CHECK(dead.length(0) == 0);
  CHECK(dead.last_node(0) == graph.root());
  const path_batch dead_beam = beam_decode<float>(backend, graph, layout, model, 1, {.width = 3});
  CHECK(dead_beam.status(0) == path_status::dead_end);
  const path_batch dead_sample = sample_paths<float>(backend, graph, layout, model, 1, {.samples_per_input = 2});
  CHECK(dead_sample.status(1) == path_status::dead_end);
}

TEST_CASE("decoders reject bad arguments with clear messages", "[decode][errors]") {
  const label_graph graph = pets();
  const output_layout layout = make_output_layout(graph);
  table_model<float> model(graph.node_count(), layout.token_count(), 1, 2);
  const backends::reference backend;
  CHECK_THROWS_MATCHES(sample_paths<float>(backend, graph, layout, model, 1, {.samples_per_input = 0}), argument_error,
                       Message("sample_paths: samples_per_input must be at least 1"));
  CHECK_THROWS_MATCHES(beam_decode<float>(backend, graph, layout, model, 1, {.width = 0}), argument_error,
                       Message("beam_decode: width must be at least 1"));
  CHECK_THROWS_MATCHES(beam_decode<float>(backend, graph, layout, model, 1, {.width = 2, .length_penalty = -1.0}),
                       argument_error, Message("beam_decode: length_penalty must be finite and >= 0, got -1.000000"));
  const label_graph other = read_graph_json(LABELGRAPH_TEST_DATA "/valid/multi_parent.json");
  CHECK_THROWS_MATCHES(greedy_decode<float>(backend, other, layout, model, 1), argument_error,
                       Message("greedy_decode: the output layout (34 nodes) was not made from this graph (" +
                               std::to_string(other.node_count()) + " nodes)"));
  CHECK_THROWS_MATCHES(greedy_decode<float>(backend, label_graph(), layout, model, 1), argument_error,
                       Message("greedy_decode: the label graph is empty"));
}
