#pragma once
// Shared by the integration examples (Eigen, libtorch): a synthetic data set
// over the labels of one dataset of a label graph, and the teacher-forcing
// rows of the paper's Eq. 2 with the `mean` multi-path reduction.
//
// Sample i has a label y_i and features x_i = prototype(y_i) + noise. Its
// supervision is every path P in paths(y_i) as tokens (v1, ..., vn, EOP):
// one row per step t, with the node u_t the decoder stands on (u_0 = root),
// the target token v_t and the weight 1/|paths(y_i)| (the paper's best
// reduction, `mean`: each path counts equally, each sample counts once).
// A model scores row (i, t) from [x_i ; onehot(u_t)].
#include <cstddef>
#include <random>
#include <string_view>
#include <vector>

#include <labelgraph/graph/label_graph.hpp>
#include <labelgraph/paths/output_layout.hpp>
#include <labelgraph/paths/target_table.hpp>

namespace labelgraph::examples {

/// Labelled feature vectors, row-major [samples, features].
struct synthetic_samples {
  std::size_t features = 0;
  std::vector<node_id> labels;   // [samples]
  std::vector<double> values;    // [samples * features]
};

/// `per_label` samples of every label of `dataset`, in `features` dimensions:
/// a random prototype per label (N(0, 1) entries) plus N(0, noise^2) noise.
inline synthetic_samples make_synthetic_samples(const label_graph& graph, std::string_view dataset,
                                                std::size_t per_label, std::size_t features, double noise,
                                                std::uint64_t seed) {
  std::mt19937_64 generator(seed);
  std::normal_distribution<double> normal(0.0, 1.0);
  synthetic_samples samples;
  samples.features = features;
  for (node_id node = 0; node < graph.node_count(); ++node) {
    bool in_dataset = false;
    for (dataset_id d : graph.datasets(node)) in_dataset = in_dataset || graph.dataset_name(d) == dataset;
    if (!in_dataset) continue;
    std::vector<double> prototype(features);
    for (double& value : prototype) value = normal(generator);
    for (std::size_t k = 0; k < per_label; ++k) {
      samples.labels.push_back(node);
      for (double centre : prototype) samples.values.push_back(centre + noise * normal(generator));
    }
  }
  return samples;
}

/// The teacher-forcing rows of a batch of labels (see the file comment).
struct teacher_forcing_rows {
  std::vector<std::size_t> sample;  // [rows] which sample the row belongs to
  std::vector<node_id> node;        // [rows] u_t, the current node
  std::vector<token_id> target;     // [rows] v_t
  std::vector<double> weight;       // [rows] 1 / |paths(y)|
  [[nodiscard]] std::size_t size() const noexcept { return target.size(); }
};

inline teacher_forcing_rows make_teacher_forcing_rows(const label_graph& graph, const output_layout& layout,
                                                      const target_table& table, const std::vector<node_id>& labels) {
  teacher_forcing_rows rows;
  for (std::size_t i = 0; i < labels.size(); ++i) {
    const auto paths = table.paths_of(labels[i]);
    const double weight = 1.0 / static_cast<double>(paths.size());
    for (path_index path : paths) {
      node_id current = graph.root();
      for (token_id token : table.tokens(path)) {
        rows.sample.push_back(i);
        rows.node.push_back(current);
        rows.target.push_back(token);
        rows.weight.push_back(weight);
        if (token != layout.eop()) current = layout.node(token);
      }
    }
  }
  return rows;
}

}  // namespace labelgraph::examples
