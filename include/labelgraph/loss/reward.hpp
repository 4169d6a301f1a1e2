#pragma once
/// \file
/// Rewards of sampled paths (the paper's Eq. 3) and user reward functors.
///
/// The paper rewards a sampled path P̂ of a sample labelled y by the share of
/// the ground-truth label nodes it visits:
///
///   r(P̂) = |P̂ ∩ S| / |S|,   S = S(y) = the label nodes on at least one path of y (paths/ground_truth.hpp)
///
/// so a path to y scores 1 however it gets there, and a path to a coarser or
/// sibling label gets partial credit. Any callable
/// `reward(std::size_t input, std::span<const node_id> nodes) -> double`
/// (nodes: the non-root nodes the path reached, in order) is a
/// `reward_function`; `compute_rewards` evaluates one over a `path_batch` and
/// rejects non-finite values, which would poison every gradient of the batch.
///
///     lg::ground_truth_reward reward(graph, labels);            // Eq. 3, one label per input
///     std::vector<double> r = lg::compute_rewards(samples, reward);

#include <algorithm>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "labelgraph/decode/path_batch.hpp"
#include "labelgraph/error.hpp"
#include "labelgraph/graph/label_graph.hpp"
#include "labelgraph/paths/ancestors.hpp"
#include "labelgraph/paths/detail/arguments.hpp"
#include "labelgraph/paths/ground_truth.hpp"

namespace labelgraph {

/// A reward: `reward(input, nodes)` scores the path through `nodes` (non-root
/// nodes in path order) for input `input`.
template <class F>
concept reward_function = requires(const F& reward, std::size_t input, std::span<const node_id> nodes) {
  { reward(input, nodes) } -> std::convertible_to<double>;
};

/// The paper's reward, Eq. 3: r(P) = |P ∩ S(y)| / |S(y)| with y the input's label.
class ground_truth_reward {
public:
  /// S(y) of every input's label. Throws `argument_error` naming the input
  /// when a label is outside the graph or not a label node.
  ground_truth_reward(const label_graph& graph, std::span<const node_id> labels) {
    if (graph.empty()) LABELGRAPH_THROW(argument_error("ground_truth_reward: the label graph is empty"));
    ancestor_walk walk(graph);
    offsets_.reserve(labels.size() + 1);
    offsets_.push_back(0);
    for (std::size_t input = 0; input < labels.size(); ++input) {
      const node_id y = labels[input];
      const std::string where = detail::source_prefix(graph) + "ground_truth_reward: labels: input " + std::to_string(input) + ": ";
      if (y >= graph.node_count()) {
        LABELGRAPH_THROW(argument_error(where + "node id " + std::to_string(y) + " is outside the graph (" +
                                        std::to_string(graph.node_count()) + " nodes)"));
      }
      if (!graph.is_label(y)) {
        LABELGRAPH_THROW(argument_error(where + detail::node_phrase(graph, y) + " is not a label node (kind: " +
                                        std::string(to_string(graph.kind(y))) + ")"));
      }
      for (node_id node : ground_truth_set(walk, y)) nodes_.push_back(node);
      offsets_.push_back(static_cast<std::uint32_t>(nodes_.size()));
    }
  }

  /// Number of inputs (labels) the reward knows.
  [[nodiscard]] std::size_t inputs() const noexcept { return offsets_.size() - 1; }
  /// S(y) of input `input`, ascending.
  [[nodiscard]] std::span<const node_id> ground_truth(std::size_t input) const noexcept {
    return {nodes_.data() + offsets_[input], nodes_.data() + offsets_[input + 1]};
  }

  /// |nodes ∩ S| / |S| (a path visits a node at most once, so no node is counted twice).
  /// Throws `argument_error` when `input` has no label.
  [[nodiscard]] double operator()(std::size_t input, std::span<const node_id> nodes) const {
    if (input >= inputs()) {
      LABELGRAPH_THROW(argument_error("ground_truth_reward: input " + std::to_string(input) + " has no label (labels for " +
                                      std::to_string(inputs()) + " inputs)"));
    }
    const std::span<const node_id> truth = ground_truth(input);
    std::size_t hits = 0;
    for (node_id node : nodes) hits += std::binary_search(truth.begin(), truth.end(), node) ? 1u : 0u;
    return static_cast<double>(hits) / static_cast<double>(truth.size());
  }

private:
  std::vector<std::uint32_t> offsets_;
  std::vector<node_id> nodes_;
};

/// rewards[r] = reward(input_of(r), nodes(r)) for every path of `paths`.
/// Throws `shape_error` when `rewards` has the wrong length and
/// `argument_error` ("reward: path 3 (input 1): the reward is nan; rewards
/// must be finite") for a non-finite reward.
template <reward_function F>
void compute_rewards(const path_batch& paths, const F& reward, std::span<double> rewards) {
  if (rewards.size() != paths.rows()) {
    LABELGRAPH_THROW(shape_error("rewards: expected [" + std::to_string(paths.rows()) + "], got [" +
                                 std::to_string(rewards.size()) + "]"));
  }
  for (std::size_t row = 0; row < paths.rows(); ++row) {
    const double value = static_cast<double>(reward(paths.input_of(row), paths.nodes(row)));
    if (!std::isfinite(value)) {
      LABELGRAPH_THROW(argument_error("reward: path " + std::to_string(row) + " (input " +
                                      std::to_string(paths.input_of(row)) + "): the reward is " + std::to_string(value) +
                                      "; rewards must be finite"));
    }
    rewards[row] = value;
  }
}

/// `compute_rewards` into a new vector.
template <reward_function F>
[[nodiscard]] std::vector<double> compute_rewards(const path_batch& paths, const F& reward) {
  std::vector<double> rewards(paths.rows());
  compute_rewards(paths, reward, std::span<double>(rewards));
  return rewards;
}

}  // namespace labelgraph
