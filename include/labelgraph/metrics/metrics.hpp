#pragma once
/// \file
/// Evaluation of decoded paths against sample labels (host code), as the
/// paper's Tables 2-4 report it, plus the hierarchical and calibration
/// measures a demanding user expects. For sample i with label y and predicted
/// path P̂ (the first path of input i in a `path_batch`, e.g. greedy or the
/// best beam):
///
/// - **label accuracy per dataset d** (over the samples whose label belongs
///   to d): the prediction for d is the *last* node of P̂ that is a label of
///   d, correct iff it is y. A coarse dataset (dogs-vs-cats) is thereby
///   scored on the coarse label the path passes through (`cat` on
///   animal > cat > shorthair > british-shorthair), a fine one on the fine label.
/// - **exact-path accuracy**: P̂ is complete (ended with EOP) and ends at y,
///   i.e. P̂ ∈ paths(y).
/// - **hierarchical precision / recall / F1** (Kiritchenko et al. 2005,
///   micro-averaged): with the ancestor-closed node sets
///   A(P̂) = U(last node of P̂) \\ {root} and A(y) = U(y) \\ {root}
///   (U(v) = ancestors(v) ∪ {v}): hP = Σ|A(P̂) ∩ A(y)| / Σ|A(P̂)|,
///   hR = Σ|A(P̂) ∩ A(y)| / Σ|A(y)|, hF = 2·hP·hR / (hP + hR).
/// - **expected calibration error** (Guo et al. 2017) of the confidence
///   p(P̂) = exp(log p(P̂)) against exact-path correctness, over `bins` equal
///   bins of [0, 1]: ECE = Σ_b (n_b / n)·|acc_b − conf_b|.
///
///     lg::evaluation_report report = lg::evaluate_paths(graph, greedy, labels);
///     std::cout << report.table(lg::table_format::markdown);

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "labelgraph/decode/path_batch.hpp"
#include "labelgraph/error.hpp"
#include "labelgraph/graph/label_graph.hpp"
#include "labelgraph/paths/ancestors.hpp"
#include "labelgraph/paths/detail/arguments.hpp"

namespace labelgraph {

/// Label accuracy on one dataset.
struct dataset_accuracy {
  std::string dataset;      ///< the dataset's name
  std::size_t samples = 0;  ///< samples whose label belongs to the dataset
  std::size_t correct = 0;  ///< of which the path's last label of the dataset is the label
  /// correct / samples (0 without samples).
  [[nodiscard]] double accuracy() const noexcept {
    return samples == 0 ? 0.0 : static_cast<double>(correct) / static_cast<double>(samples);
  }
};

/// How `evaluation_report::table` prints.
enum class table_format : std::uint8_t {
  text,      ///< aligned plain-text columns
  markdown   ///< a Markdown table
};

/// Options of `evaluate_paths`.
struct evaluation_options {
  std::size_t calibration_bins = 10;  ///< equal-width confidence bins of the ECE
};

/// Every measure of the file comment for one batch of predictions.
struct evaluation_report {
  std::size_t samples = 0;                   ///< predictions evaluated
  std::vector<dataset_accuracy> datasets;    ///< one entry per dataset of the graph, in graph order
  std::size_t exact_path_correct = 0;        ///< complete paths ending at the label
  double hierarchical_precision = 0.0;       ///< hP
  double hierarchical_recall = 0.0;          ///< hR
  double hierarchical_f1 = 0.0;              ///< hF
  double expected_calibration_error = 0.0;   ///< ECE of p(P̂) vs exact-path correctness
  std::size_t calibration_bins = 0;          ///< bins used for the ECE

  /// exact_path_correct / samples.
  [[nodiscard]] double exact_path_accuracy() const noexcept {
    return samples == 0 ? 0.0 : static_cast<double>(exact_path_correct) / static_cast<double>(samples);
  }

  /// Two columns, "metric" and "value", as aligned plain text or a markdown table.
  [[nodiscard]] std::string table(table_format format = table_format::text) const {
    std::vector<std::pair<std::string, std::string>> rows;
    const auto fixed = [](double value) {
      char text[32];
      std::snprintf(text, sizeof text, "%.4f", value);
      return std::string(text);
    };
    const auto ratio = [&](double value, std::size_t hits, std::size_t total) {
      return fixed(value) + " (" + std::to_string(hits) + "/" + std::to_string(total) + ")";
    };
    rows.emplace_back("samples", std::to_string(samples));
    for (const dataset_accuracy& d : datasets) {
      rows.emplace_back("accuracy " + d.dataset, ratio(d.accuracy(), d.correct, d.samples));
    }
    rows.emplace_back("exact-path accuracy", ratio(exact_path_accuracy(), exact_path_correct, samples));
    rows.emplace_back("hierarchical precision", fixed(hierarchical_precision));
    rows.emplace_back("hierarchical recall", fixed(hierarchical_recall));
    rows.emplace_back("hierarchical F1", fixed(hierarchical_f1));
    rows.emplace_back("ECE (" + std::to_string(calibration_bins) + " bins)", fixed(expected_calibration_error));
    std::string text;
    if (format == table_format::markdown) {
      text = "| metric | value |\n|---|---|\n";
      for (const auto& [name, value] : rows) text += "| " + name + " | " + value + " |\n";
      return text;
    }
    std::size_t width = 6;
    for (const auto& row : rows) width = std::max(width, row.first.size());
    const auto line = [&](const std::string& name, const std::string& value) {
      return name + std::string(width - name.size() + 2, ' ') + value + "\n";
    };
    text = line("metric", "value");
    for (const auto& [name, value] : rows) text += line(name, value);
    return text;
  }
};

/// ECE = Σ_b (n_b / n)·|acc_b − conf_b| over `bins` equal bins of [0, 1]
/// (confidence 1 falls in the last bin). Throws `argument_error` for
/// bins = 0, lengths that differ, or a confidence outside [0, 1] or NaN.
[[nodiscard]] inline double expected_calibration_error(std::span<const double> confidence,
                                                       std::span<const std::uint8_t> correct, std::size_t bins) {
  if (bins == 0) LABELGRAPH_THROW(argument_error("expected_calibration_error: bins must be at least 1"));
  if (confidence.size() != correct.size()) {
    LABELGRAPH_THROW(argument_error("expected_calibration_error: " + std::to_string(confidence.size()) +
                                    " confidences for " + std::to_string(correct.size()) + " outcomes"));
  }
  std::vector<double> confidence_sum(bins, 0.0);
  std::vector<double> correct_sum(bins, 0.0);
  std::vector<std::size_t> count(bins, 0);
  for (std::size_t i = 0; i < confidence.size(); ++i) {
    const double c = confidence[i];
    if (!(c >= 0.0 && c <= 1.0)) {
      LABELGRAPH_THROW(argument_error("expected_calibration_error: confidence " + std::to_string(i) + " is " +
                                      std::to_string(c) + ", outside [0, 1]"));
    }
    const std::size_t bin = std::min(bins - 1, static_cast<std::size_t>(c * static_cast<double>(bins)));
    confidence_sum[bin] += c;
    correct_sum[bin] += correct[i] != 0 ? 1.0 : 0.0;
    ++count[bin];
  }
  double ece = 0.0;
  for (std::size_t b = 0; b < bins; ++b) {
    if (count[b] == 0) continue;
    const double n = static_cast<double>(count[b]);
    ece += n / static_cast<double>(confidence.size()) * std::abs(correct_sum[b] / n - confidence_sum[b] / n);
  }
  return ece;
}

/// The last node of `nodes` that is a label of `dataset`; `no_node` when none is.
[[nodiscard]] inline node_id last_label_of_dataset(const label_graph& graph, std::span<const node_id> nodes,
                                                   dataset_id dataset) noexcept {
  for (std::size_t i = nodes.size(); i-- > 0;) {
    for (dataset_id d : graph.datasets(nodes[i])) {
      if (d == dataset) return nodes[i];
    }
  }
  return no_node;
}

/// Evaluates the first path of every input of `predictions` against
/// `labels` [inputs]. Throws `argument_error` naming the sample when a label
/// is outside the graph or not a label node, or when the counts differ.
[[nodiscard]] inline evaluation_report evaluate_paths(const label_graph& graph, const path_batch& predictions,
                                                      std::span<const node_id> labels,
                                                      const evaluation_options& options = {}) {
  if (graph.empty()) LABELGRAPH_THROW(argument_error("evaluate_paths: the label graph is empty"));
  if (labels.size() != predictions.inputs()) {
    LABELGRAPH_THROW(argument_error("evaluate_paths: " + std::to_string(labels.size()) + " labels for " +
                                    std::to_string(predictions.inputs()) + " predicted inputs"));
  }
  for (std::size_t i = 0; i < labels.size(); ++i) {
    const std::string where = detail::source_prefix(graph) + "evaluate_paths: labels: sample " + std::to_string(i) + ": ";
    if (labels[i] >= graph.node_count()) {
      LABELGRAPH_THROW(argument_error(where + "node id " + std::to_string(labels[i]) + " is outside the graph (" +
                                      std::to_string(graph.node_count()) + " nodes)"));
    }
    if (!graph.is_label(labels[i])) {
      LABELGRAPH_THROW(argument_error(where + detail::node_phrase(graph, labels[i]) + " is not a label node (kind: " +
                                      std::string(to_string(graph.kind(labels[i]))) + ")"));
    }
  }
  evaluation_report report;
  report.samples = labels.size();
  report.calibration_bins = options.calibration_bins;
  for (dataset_id d = 0; d < graph.dataset_count(); ++d) report.datasets.push_back({std::string(graph.dataset_name(d)), 0, 0});
  ancestor_walk walk(graph);
  std::vector<node_id> predicted_closure;
  std::size_t overlap = 0, predicted_total = 0, true_total = 0;
  std::vector<double> confidence(labels.size());
  std::vector<std::uint8_t> correct(labels.size());
  for (std::size_t i = 0; i < labels.size(); ++i) {
    const std::size_t row = i * predictions.paths_per_input();
    const node_id y = labels[i];
    const std::span<const node_id> nodes = predictions.nodes(row);
    for (dataset_id d : graph.datasets(y)) {
      ++report.datasets[d].samples;
      if (last_label_of_dataset(graph, nodes, d) == y) ++report.datasets[d].correct;
    }
    const bool exact = predictions.status(row) == path_status::complete && !nodes.empty() && nodes.back() == y;
    report.exact_path_correct += exact ? 1u : 0u;
    correct[i] = exact ? 1 : 0;
    const double log_p = predictions.log_probability(row);
    confidence[i] = std::isnan(log_p) ? 0.0 : std::min(1.0, std::exp(log_p));
    // Hierarchical sets: A(P̂) = U(last node) \ {root}, A(y) = U(y) \ {root}.
    predicted_closure.clear();
    if (!nodes.empty()) {
      for (node_id node : walk.path_nodes(nodes.back())) {
        if (node != graph.root()) predicted_closure.push_back(node);
      }
    }
    const std::span<const node_id> truth = walk.path_nodes(y);
    true_total += truth.size() - 1;  // the root is always in U(y)
    predicted_total += predicted_closure.size();
    for (node_id node : predicted_closure) overlap += walk.contains(node) ? 1u : 0u;
  }
  report.hierarchical_precision = predicted_total == 0 ? 0.0 : static_cast<double>(overlap) / static_cast<double>(predicted_total);
  report.hierarchical_recall = true_total == 0 ? 0.0 : static_cast<double>(overlap) / static_cast<double>(true_total);
  const double sum = report.hierarchical_precision + report.hierarchical_recall;
  report.hierarchical_f1 = sum == 0.0 ? 0.0 : 2.0 * report.hierarchical_precision * report.hierarchical_recall / sum;
  report.expected_calibration_error = labels.empty() ? 0.0 : expected_calibration_error(confidence, correct, options.calibration_bins);
  return report;
}

}  // namespace labelgraph
