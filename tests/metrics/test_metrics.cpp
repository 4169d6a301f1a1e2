// Metrics on hand-computed examples from the pet graph: label accuracy per
// dataset, exact-path accuracy, hierarchical precision / recall / F1, the
// expected calibration error, the printed table, and bad input.
#include <catch2/catch.hpp>

#include <cmath>
#include <string>
#include <vector>

#include "labelgraph/graph/json.hpp"
#include "labelgraph/metrics/metrics.hpp"
#include "labelgraph/paths/output_layout.hpp"

using namespace labelgraph;
using Catch::Message;

namespace {

const std::string pets_source = LABELGRAPH_SOURCE_DIR "/examples/graphs/pets.json";

/// One complete predicted path per sample, from node names, with p(P̂).
path_batch predictions(const label_graph& graph, const output_layout& layout,
                       const std::vector<std::pair<std::vector<std::string>, double>>& paths) {
  path_batch batch(paths.size(), 1, 4, graph.root());
  for (std::size_t r = 0; r < paths.size(); ++r) {
    for (const std::string& name : paths[r].first) batch.append(r, layout.token(graph.at(name)), graph.at(name), 0.0);
    batch.append(r, layout.eop(), no_node, std::log(paths[r].second));
    batch.finish(r, path_status::complete);
  }
  return batch;
}

}  // namespace

TEST_CASE("metrics of four pet predictions, computed by hand", "[metrics]") {
  const label_graph graph = read_graph_json(pets_source);
  const output_layout layout = make_output_layout(graph);
  const std::vector<node_id> labels{graph.at("british-shorthair"), graph.at("cat"), graph.at("persian"),
                                    graph.at("chihuahua")};
  const path_batch predicted = predictions(graph, layout,
                                           {{{"cat", "shorthair", "british-shorthair"}, 0.9},
                                            {{"cat", "tabby", "british-shorthair"}, 0.6},
                                            {{"cat", "solid", "british-shorthair"}, 0.3},
                                            {{"dog", "small", "pug"}, 0.8}});
  const evaluation_report report = evaluate_paths(graph, predicted, labels);
  REQUIRE(report.samples == 4);
  REQUIRE(report.datasets.size() == 2);
  // oxford-pet: british-shorthair (right), persian (british-shorthair: wrong), chihuahua (pug: wrong).
  CHECK(report.datasets[0].dataset == "oxford-pet");
  CHECK(report.datasets[0].samples == 3);
  CHECK(report.datasets[0].correct == 1);
  // dogs-vs-cats: the coarse label cat is read off the path's last dogs-vs-cats label: right.
  CHECK(report.datasets[1].dataset == "dogs-vs-cats");
  CHECK(report.datasets[1].samples == 1);
  CHECK(report.datasets[1].correct == 1);
  // Exact path: only the first ends at its label.
  CHECK(report.exact_path_correct == 1);
  CHECK(report.exact_path_accuracy() == 0.25);
  // |A(P̂) ∩ A(y)| = 6 + 1 + 3 + 3, Σ|A(P̂)| = 6 + 6 + 6 + 4, Σ|A(y)| = 6 + 1 + 5 + 5.
  CHECK(report.hierarchical_precision == Approx(13.0 / 22.0).epsilon(1e-15));
  CHECK(report.hierarchical_recall == Approx(13.0 / 17.0).epsilon(1e-15));
  CHECK(report.hierarchical_f1 == Approx(338.0 / 507.0).epsilon(1e-15));
  // One prediction per bin: ECE = (|1 − 0.9| + |0 − 0.6| + |0 − 0.3| + |0 − 0.8|) / 4.
  CHECK(report.expected_calibration_error == Approx(0.45).epsilon(1e-12));
  CHECK(report.table(table_format::markdown) ==
        "| metric | value |\n"
        "|---|---|\n"
        "| samples | 4 |\n"
        "| accuracy oxford-pet | 0.3333 (1/3) |\n"
        "| accuracy dogs-vs-cats | 1.0000 (1/1) |\n"
        "| exact-path accuracy | 0.2500 (1/4) |\n"
        "| hierarchical precision | 0.5909 |\n"
        "| hierarchical recall | 0.7647 |\n"
        "| hierarchical F1 | 0.6667 |\n"
        "| ECE (10 bins) | 0.4500 |\n");
  CHECK(report.table() ==
        "metric                  value\n"
        "samples                 4\n"
        "accuracy oxford-pet     0.3333 (1/3)\n"
        "accuracy dogs-vs-cats   1.0000 (1/1)\n"
        "exact-path accuracy     0.2500 (1/4)\n"
        "hierarchical precision  0.5909\n"
        "hierarchical recall     0.7647\n"
        "hierarchical F1         0.6667\n"
        "ECE (10 bins)           0.4500\n");
}

TEST_CASE("a truncated or empty prediction is never an exact path", "[metrics]") {
  const label_graph graph = read_graph_json(pets_source);
  const output_layout layout = make_output_layout(graph);
  path_batch batch(2, 1, 2, graph.root());
  batch.append(0, layout.token(graph.at("cat")), graph.at("cat"), 0.0);
  batch.finish(0, path_status::truncated);  // reached cat, but never emitted EOP
  batch.finish(1, path_status::dead_end);   // nothing at all
  const std::vector<node_id> labels{graph.at("cat"), graph.at("dog")};
  const evaluation_report report = evaluate_paths(graph, batch, labels);
  CHECK(report.exact_path_correct == 0);
  CHECK(report.datasets[1].correct == 1);  // the label reached is still cat
  CHECK(report.hierarchical_precision == 1.0);  // {cat} ⊆ A(cat); the empty path predicts nothing
  CHECK(report.hierarchical_recall == 0.5);     // |A(cat)| + |A(dog)| = 2
}

TEST_CASE("expected calibration error by hand", "[metrics]") {
  const std::vector<double> confidence{0.2, 0.4, 0.6, 0.8, 1.0};
  const std::vector<std::uint8_t> correct{0, 1, 1, 1, 1};
  // Bin [0, 0.5): acc 0.5, conf 0.3; bin [0.5, 1]: acc 1, conf 0.8 → 2/5·0.2 + 3/5·0.2.
  CHECK(expected_calibration_error(confidence, correct, 2) == Approx(0.2).epsilon(1e-12));
  CHECK(expected_calibration_error(confidence, correct, 1) == Approx(std::abs(0.8 - 0.6)).epsilon(1e-12));
  CHECK_THROWS_MATCHES(expected_calibration_error(confidence, correct, 0), argument_error,
                       Message("expected_calibration_error: bins must be at least 1"));
  CHECK_THROWS_MATCHES(expected_calibration_error(std::vector<double>{1.5}, std::vector<std::uint8_t>{1}, 10), argument_error,
                       Message("expected_calibration_error: confidence 0 is 1.500000, outside [0, 1]"));
  CHECK_THROWS_MATCHES(expected_calibration_error(confidence, std::vector<std::uint8_t>{1}, 10), argument_error,
                       Message("expected_calibration_error: 5 confidences for 1 outcomes"));
}

TEST_CASE("evaluate_paths rejects labels that are not label nodes", "[metrics][errors]") {
  const label_graph graph = read_graph_json(pets_source);
  const output_layout layout = make_output_layout(graph);
  const path_batch predicted = predictions(graph, layout, {{{"cat"}, 1.0}});
  CHECK_THROWS_MATCHES(evaluate_paths(graph, predicted, std::vector<node_id>{graph.at("shorthair")}), argument_error,
                       Message(pets_source + ": evaluate_paths: labels: sample 0: node 'shorthair' is not a label node (kind: augmented)"));
  CHECK_THROWS_MATCHES(evaluate_paths(graph, predicted, std::vector<node_id>{}), argument_error,
                       Message("evaluate_paths: 0 labels for 1 predicted inputs"));
}
