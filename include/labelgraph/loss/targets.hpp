#pragma once
/// \file
/// `make_path_targets`: the supervision of one batch, ready for the sequence
/// losses (Eq. 2, pooled as in `labelgraph/loss/pooling.hpp`) and the rewards (Eq. 3).
///
/// For sample s with label y_s every path P ∈ paths(y_s) of the target table
/// becomes one (sample, path) *pair*. Pairs are stored sample by sample, so
/// the pairs of sample s are [sample_offsets[s], sample_offsets[s+1]). Pair p
/// occupies `steps` decoder steps, i.e. rows p·steps .. p·steps+steps-1 of a
/// [pairs·steps, V] logits matrix:
///
///     step t:        0      1      ...   n-1     n      n+1 ...
///     tokens(p, t):  v1     v2     ...   vn      EOP    no_token ...   (exact)
///     tokens(p, t):  v1     v2     ...   vn      no_token ...           (prefix)
///     nodes(p, t):   root   v1     ...   v(n-1)  vn     root ...
///
/// `nodes(p, t)` is the node the decoder stands on when it predicts step t
/// (what it conditions on, and the u whose candidates C(u) mask the row);
/// padding steps stand on the root so that every entry is a valid node.
/// Target mode `exact` supervises the whole token sequence (v1, ..., vn, EOP);
/// `prefix` (a coarse label: the sample may lie anywhere below y) supervises
/// (v1, ..., vn) and leaves every later step free, exactly like a padded step.
///
///     auto targets = lg::make_path_targets(graph, layout, table, labels, {.mode = lg::target_mode::exact});
///     lg::sequence_nll(backend, layout.view(), {.logits = logits, .targets = targets.view(), ...});

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "labelgraph/error.hpp"
#include "labelgraph/graph/label_graph.hpp"
#include "labelgraph/paths/detail/arguments.hpp"
#include "labelgraph/paths/ground_truth.hpp"
#include "labelgraph/paths/output_layout.hpp"
#include "labelgraph/paths/target_table.hpp"
#include "labelgraph/tensor/tensor_view.hpp"

namespace labelgraph {

/// What part of a label's paths is supervised.
enum class target_mode : std::uint8_t {
  exact,   ///< (v1, ..., vn, EOP): the sample is exactly y
  prefix,  ///< (v1, ..., vn): the sample is y or lies below it (a coarse label); later steps are free
};

/// "exact", "prefix".
[[nodiscard]] constexpr std::string_view to_string(target_mode mode) noexcept {
  return mode == target_mode::exact ? "exact" : "prefix";
}

/// Options of `make_path_targets`.
struct path_target_options {
  target_mode mode = target_mode::exact;  ///< mode of every sample (unless `sample_modes` is given)
  std::span<const target_mode> sample_modes = {};  ///< optional per-sample modes ([samples]); overrides `mode`
  std::size_t steps = 0;         ///< decoder steps T per pair; 0 = the longest supervised sequence of the batch
  bool deterministic_only = false;  ///< keep only deterministic paths (Algorithm 1's teacher-forced part)
};

/// The tensors of a batch's pairs, as the sequence losses read them. Every
/// view is dense row-major; [pairs, steps] views flatten to [pairs·steps] rows.
struct sequence_targets {
  std::size_t steps = 0;                                ///< T, decoder steps per pair
  tensor_view<const token_id, 2> tokens{};                ///< [pairs, T] target tokens, `no_token` = free/padding
  tensor_view<const node_id, 2> nodes{};                  ///< [pairs, T] current node at each step (root at step 0)
  tensor_view<const std::uint32_t, 1> sample_offsets{};   ///< [samples + 1]: pairs of s are [o[s], o[s+1])

  /// Number of (sample, path) pairs.
  [[nodiscard]] std::size_t pairs() const noexcept { return tokens.extent(0); }
  /// Number of samples.
  [[nodiscard]] std::size_t samples() const noexcept {
    return sample_offsets.extent(0) == 0 ? 0 : sample_offsets.extent(0) - 1;
  }
  /// pairs · T, the rows of the logits.
  [[nodiscard]] std::size_t rows() const noexcept { return pairs() * steps; }
  /// The [pairs·T] target tokens, one per logits row.
  [[nodiscard]] tensor_view<const token_id, 1> row_tokens() const noexcept {
    return tensor_view<const token_id, 1>(tokens.data(), {rows()}, tokens.where());
  }
  /// The [pairs·T] current nodes, one per logits row (for `row_mask::from_candidates`).
  [[nodiscard]] tensor_view<const node_id, 1> row_nodes() const noexcept {
    return tensor_view<const node_id, 1>(nodes.data(), {rows()}, nodes.where());
  }
};

/// A batch's supervision in host memory: pairs with their flags, padded
/// token and node tensors, the pair <-> sample maps, the uncertain samples and
/// every sample's ground-truth set S(y). Made by `make_path_targets`.
struct path_targets {
  std::size_t samples = 0;  ///< batch size
  std::size_t steps = 0;    ///< T, decoder steps per pair

  std::vector<token_id> tokens;                 ///< [pairs·T] targets, `no_token` where free
  std::vector<node_id> nodes;                   ///< [pairs·T] current node per step
  std::vector<std::uint32_t> lengths;           ///< [pairs] supervised steps (EOP included in `exact`)
  std::vector<std::uint32_t> pair_sample;       ///< [pairs] the sample of each pair
  std::vector<path_index> pair_path;            ///< [pairs] the path of each pair in the target table
  std::vector<std::uint8_t> deterministic;      ///< [pairs] Def. 3.2/3.3 flag of the pair's path (1 = deterministic)
  std::vector<target_mode> modes;               ///< [samples] the mode each sample was made with
  std::vector<std::uint32_t> sample_offsets;    ///< [samples + 1] pairs of s are [o[s], o[s+1])
  std::vector<std::uint32_t> uncertain_samples; ///< ascending: samples with at least one nondeterministic path
  std::vector<std::uint32_t> ground_truth_offsets;  ///< [samples + 1] CSR of S(y_s)
  std::vector<node_id> ground_truth_nodes;      ///< S(y_s) ascending, sample by sample

  /// Number of (sample, path) pairs.
  [[nodiscard]] std::size_t pairs() const noexcept { return pair_sample.size(); }
  /// Pairs of sample s, as an index range [first, last).
  [[nodiscard]] std::pair<std::uint32_t, std::uint32_t> pairs_of(std::size_t sample) const noexcept {
    return {sample_offsets[sample], sample_offsets[sample + 1]};
  }
  /// S(y_s), ascending.
  [[nodiscard]] std::span<const node_id> ground_truth(std::size_t sample) const noexcept {
    return {ground_truth_nodes.data() + ground_truth_offsets[sample],
            ground_truth_nodes.data() + ground_truth_offsets[sample + 1]};
  }
  /// True when sample s has a nondeterministic path (it is in `uncertain_samples`).
  [[nodiscard]] bool uncertain(std::size_t sample) const noexcept {
    return std::binary_search(uncertain_samples.begin(), uncertain_samples.end(), static_cast<std::uint32_t>(sample));
  }
  /// The [pairs, T] token tensor.
  [[nodiscard]] tensor_view<const token_id, 2> token_view() const noexcept {
    return tensor_view<const token_id, 2>(tokens.data(), {pairs(), steps});
  }
  /// The [pairs, T] current-node tensor.
  [[nodiscard]] tensor_view<const node_id, 2> node_view() const noexcept {
    return tensor_view<const node_id, 2>(nodes.data(), {pairs(), steps});
  }
  /// The tensors the sequence losses read.
  [[nodiscard]] sequence_targets view() const noexcept {
    return {steps, token_view(), node_view(), host_view(sample_offsets)};
  }
};

/// Builds the pairs of a batch with sample labels `labels` (node ids of
/// `graph`), from a target table and layout made from `graph`.
/// Throws `argument_error` when a label is outside the graph or not a label
/// node (naming the sample index and the node), when `sample_modes` has the
/// wrong length, or when the table / layout were not made from `graph`;
/// `limit_error` when a supervised sequence is longer than `options.steps`
/// or the batch has more than 2^32-1 pairs.
[[nodiscard]] inline path_targets make_path_targets(const label_graph& graph, const output_layout& layout,
                                                   const target_table& table, std::span<const node_id> labels,
                                                   const path_target_options& options = {}) {
  const std::string where = detail::source_prefix(graph) + "make_path_targets: ";
  if (graph.empty()) LABELGRAPH_THROW(argument_error("make_path_targets: the label graph is empty"));
  if (table.node_count() != graph.node_count() || layout.view().nodes != graph.node_count()) {
    LABELGRAPH_THROW(argument_error(where + "the target table (" + std::to_string(table.node_count()) +
                                    " nodes) or the output layout (" + std::to_string(layout.view().nodes) +
                                    " nodes) was not made from this graph (" + std::to_string(graph.node_count()) +
                                    " nodes)"));
  }
  if (!options.sample_modes.empty() && options.sample_modes.size() != labels.size()) {
    LABELGRAPH_THROW(argument_error(where + "sample_modes has " + std::to_string(options.sample_modes.size()) +
                                    " entries for " + std::to_string(labels.size()) + " samples"));
  }
  path_targets targets;
  targets.samples = labels.size();
  targets.sample_offsets.reserve(labels.size() + 1);
  targets.sample_offsets.push_back(0);
  targets.ground_truth_offsets.reserve(labels.size() + 1);
  targets.ground_truth_offsets.push_back(0);
  targets.modes.reserve(labels.size());
  ancestor_walk walk(graph);
  std::size_t longest = 0;
  // Pass 1: choose the pairs, check the labels, find the longest sequence.
  for (std::size_t s = 0; s < labels.size(); ++s) {
    const node_id y = labels[s];
    const std::string sample_text = "sample " + std::to_string(s) + ": ";
    if (y >= graph.node_count()) {
      LABELGRAPH_THROW(argument_error(where + sample_text + "node id " + std::to_string(y) + " is outside the graph (" +
                                      std::to_string(graph.node_count()) + " nodes)"));
    }
    if (!graph.is_label(y)) {
      LABELGRAPH_THROW(argument_error(where + sample_text + detail::node_phrase(graph, y) +
                                      " is not a label node (kind: " + std::string(to_string(graph.kind(y))) + ")"));
    }
    const target_mode mode = options.sample_modes.empty() ? options.mode : options.sample_modes[s];
    targets.modes.push_back(mode);
    bool uncertain = false;
    for (path_index path : table.paths_of(y)) {
      uncertain = uncertain || !table.deterministic(path);
      if (options.deterministic_only && !table.deterministic(path)) continue;
      const std::size_t length = table.tokens(path).size() - (mode == target_mode::prefix ? 1 : 0);
      longest = std::max(longest, length);
      if (options.steps != 0 && length > options.steps) {
        LABELGRAPH_THROW(limit_error(where + sample_text + "a path of " + detail::node_phrase(graph, y) + " needs " +
                                     std::to_string(length) + " steps (" + std::string(to_string(mode)) +
                                     " mode), longer than steps = " + std::to_string(options.steps)));
      }
      targets.pair_sample.push_back(static_cast<std::uint32_t>(s));
      targets.pair_path.push_back(path);
      targets.deterministic.push_back(table.deterministic(path) ? 1 : 0);
      targets.lengths.push_back(static_cast<std::uint32_t>(length));
      if (targets.pair_sample.size() >= std::numeric_limits<std::uint32_t>::max()) {
        LABELGRAPH_THROW(limit_error(where + "more than 2^32-1 (sample, path) pairs in one batch"));
      }
    }
    if (uncertain) targets.uncertain_samples.push_back(static_cast<std::uint32_t>(s));
    targets.sample_offsets.push_back(static_cast<std::uint32_t>(targets.pair_sample.size()));
    for (node_id node : ground_truth_set(walk, y)) targets.ground_truth_nodes.push_back(node);
    targets.ground_truth_offsets.push_back(static_cast<std::uint32_t>(targets.ground_truth_nodes.size()));
  }
  // Pass 2: the padded [pairs, T] tensors.
  const std::size_t steps = options.steps != 0 ? options.steps : longest;
  targets.steps = steps;
  targets.tokens.assign(targets.pairs() * steps, no_token);
  targets.nodes.assign(targets.pairs() * steps, graph.root());
  for (std::size_t p = 0; p < targets.pairs(); ++p) {
    const std::span<const token_id> sequence = table.tokens(targets.pair_path[p]);
    token_id* tokens = targets.tokens.data() + p * steps;
    node_id* nodes = targets.nodes.data() + p * steps;
    for (std::size_t t = 0; t < targets.lengths[p]; ++t) tokens[t] = sequence[t];
    // The decoder stands on the node of the previous token; after the last
    // non-EOP token (step n) it stands on the label itself.
    for (std::size_t t = 1; t < steps && t < sequence.size(); ++t) nodes[t] = layout.node(sequence[t - 1]);
  }
  return targets;
}

}  // namespace labelgraph
