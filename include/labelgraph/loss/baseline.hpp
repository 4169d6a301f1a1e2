#pragma once
/// \file
/// REINFORCE baselines b (the paper's Eq. 5: ∂L/∂z = (r(P̂) − b)·∂(−log p(P̂))/∂z).
///
/// Subtracting b from the reward leaves the gradient's expectation unchanged
/// when b does not depend on the path it is subtracted from (E[∇ log p] = 0),
/// and lowers its variance when b is close to E[r]. Baselines are plain
/// numbers computed from rewards: they never carry a gradient (the bug of
/// fast_abs_rl #49 cannot happen). With K paths per input and r_{i,k} the
/// reward of path k of input i:
///
/// | kind            | b_{i,k}                                          | unbiased |
/// |-----------------|--------------------------------------------------|----------|
/// | `none`          | 0                                                | yes |
/// | `running_mean`  | m ← μ·m + (1−μ)·mean(r) after each batch; b = m before the update (the paper's "average baseline"; the first batch uses its own mean) | yes (after the first batch) |
/// | `batch_mean`    | mean of the batch's rewards, r_{i,k} included    | O(1/n) bias |
/// | `leave_one_out` | (Σ_j r_{i,j} − r_{i,k}) / (K − 1), K >= 2        | yes |
/// | `self_critical` | the reward of input i's greedy path (given)      | yes |
///
///     lg::running_mean_state average(0.9);                       // lives across batches
///     std::vector<double> b = lg::compute_baselines(lg::baseline::running_mean(average), rewards, K);

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "labelgraph/error.hpp"

namespace labelgraph {

/// Which baseline `compute_baselines` uses; see the file comment.
enum class baseline_kind : std::uint8_t {
  none,           ///< b = 0
  running_mean,   ///< the running mean m of past batches' mean rewards (the paper's "average baseline")
  batch_mean,     ///< the mean reward of the batch, the path's own included
  leave_one_out,  ///< the mean reward of the input's other K − 1 paths
  self_critical   ///< the reward of the input's greedy path
};

/// "none", "running_mean", "batch_mean", "leave_one_out", "self_critical".
[[nodiscard]] constexpr std::string_view to_string(baseline_kind kind) noexcept {
  switch (kind) {
    case baseline_kind::none: return "none";
    case baseline_kind::running_mean: return "running_mean";
    case baseline_kind::batch_mean: return "batch_mean";
    case baseline_kind::leave_one_out: return "leave_one_out";
    case baseline_kind::self_critical: return "self_critical";
  }
  return "?";
}

/// The state of the running-mean baseline, kept by the caller across batches:
/// m ← μ·m + (1 − μ)·(batch mean reward).
class running_mean_state {
public:
  /// A fresh average with momentum μ in [0, 1).
  explicit running_mean_state(double momentum = 0.9) : momentum_(momentum) {
    if (!(momentum >= 0.0 && momentum < 1.0)) {
      LABELGRAPH_THROW(argument_error("running_mean_state: momentum must be in [0, 1), got " + std::to_string(momentum)));
    }
  }
  /// True before the first update.
  [[nodiscard]] bool empty() const noexcept { return updates_ == 0; }
  /// The current average m (0 before the first update).
  [[nodiscard]] double value() const noexcept { return value_; }
  /// μ.
  [[nodiscard]] double momentum() const noexcept { return momentum_; }
  /// Folds in one batch's mean reward (the first batch sets m).
  void update(double batch_mean) noexcept {
    value_ = updates_ == 0 ? batch_mean : momentum_ * value_ + (1.0 - momentum_) * batch_mean;
    ++updates_;
  }

private:
  double momentum_;
  double value_ = 0.0;
  std::uint64_t updates_ = 0;
};

/// A baseline choice; made by the static functions, passed by value.
class baseline {
public:
  /// b = 0: plain REINFORCE.
  [[nodiscard]] static baseline none() noexcept { return baseline(baseline_kind::none); }
  /// The paper's average baseline, updated in `state` by every `compute_baselines` call.
  [[nodiscard]] static baseline running_mean(running_mean_state& state) noexcept {
    baseline b(baseline_kind::running_mean);
    b.state_ = &state;
    return b;
  }
  /// The mean reward of the current batch.
  [[nodiscard]] static baseline batch_mean() noexcept { return baseline(baseline_kind::batch_mean); }
  /// The mean reward of the other K − 1 paths of the same input.
  [[nodiscard]] static baseline leave_one_out() noexcept { return baseline(baseline_kind::leave_one_out); }
  /// The reward of each input's greedy path, `greedy_rewards` [inputs] (viewed, not copied).
  [[nodiscard]] static baseline self_critical(std::span<const double> greedy_rewards) noexcept {
    baseline b(baseline_kind::self_critical);
    b.greedy_rewards_ = greedy_rewards;
    return b;
  }

  /// Which baseline this is.
  [[nodiscard]] baseline_kind kind() const noexcept { return kind_; }
  /// The running-mean state (running_mean only).
  [[nodiscard]] running_mean_state* state() const noexcept { return state_; }
  /// The greedy rewards (self_critical only).
  [[nodiscard]] std::span<const double> greedy_rewards() const noexcept { return greedy_rewards_; }

private:
  explicit baseline(baseline_kind kind) noexcept : kind_(kind) {}
  baseline_kind kind_ = baseline_kind::none;
  running_mean_state* state_ = nullptr;
  std::span<const double> greedy_rewards_;
};

/// b for every path: `rewards` and `baselines` are [inputs · K], path k of
/// input i at i·K + k. Throws `shape_error` on lengths that do not fit and
/// `argument_error` for leave-one-out with K < 2, a self-critical baseline
/// without one finite greedy reward per input, or non-finite rewards.
inline void compute_baselines(const baseline& choice, std::span<const double> rewards, std::size_t paths_per_input,
                              std::span<double> baselines) {
  const std::string where = "compute_baselines (" + std::string(to_string(choice.kind())) + "): ";
  if (paths_per_input == 0) LABELGRAPH_THROW(argument_error(where + "paths_per_input must be at least 1"));
  if (rewards.size() % paths_per_input != 0) {
    LABELGRAPH_THROW(shape_error(where + "rewards: " + std::to_string(rewards.size()) + " values are not a multiple of " +
                                 std::to_string(paths_per_input) + " paths per input"));
  }
  if (baselines.size() != rewards.size()) {
    LABELGRAPH_THROW(shape_error(where + "baselines: expected [" + std::to_string(rewards.size()) + "], got [" +
                                 std::to_string(baselines.size()) + "]"));
  }
  double total = 0.0;
  for (std::size_t i = 0; i < rewards.size(); ++i) {
    if (!std::isfinite(rewards[i])) {
      LABELGRAPH_THROW(argument_error(where + "rewards: path " + std::to_string(i) + ": the reward is " +
                                      std::to_string(rewards[i]) + "; rewards must be finite"));
    }
    total += rewards[i];
  }
  const std::size_t inputs = rewards.size() / paths_per_input;
  const double batch_mean = rewards.empty() ? 0.0 : total / static_cast<double>(rewards.size());
  switch (choice.kind()) {
    case baseline_kind::none:
      for (double& b : baselines) b = 0.0;
      return;
    case baseline_kind::batch_mean:
      for (double& b : baselines) b = batch_mean;
      return;
    case baseline_kind::running_mean: {
      running_mean_state& state = *choice.state();
      const double value = state.empty() ? batch_mean : state.value();  // before this batch's update
      for (double& b : baselines) b = value;
      if (!rewards.empty()) state.update(batch_mean);
      return;
    }
    case baseline_kind::leave_one_out: {
      if (paths_per_input < 2) {
        LABELGRAPH_THROW(argument_error(where + "needs at least 2 paths per input, got " + std::to_string(paths_per_input)));
      }
      const double others = static_cast<double>(paths_per_input - 1);
      for (std::size_t input = 0; input < inputs; ++input) {
        double sum = 0.0;
        for (std::size_t k = 0; k < paths_per_input; ++k) sum += rewards[input * paths_per_input + k];
        for (std::size_t k = 0; k < paths_per_input; ++k) {
          const std::size_t i = input * paths_per_input + k;
          baselines[i] = (sum - rewards[i]) / others;
        }
      }
      return;
    }
    case baseline_kind::self_critical: {
      const std::span<const double> greedy = choice.greedy_rewards();
      if (greedy.size() != inputs) {
        LABELGRAPH_THROW(shape_error(where + "greedy_rewards: expected [" + std::to_string(inputs) + "], got [" +
                                     std::to_string(greedy.size()) + "]"));
      }
      for (std::size_t input = 0; input < inputs; ++input) {
        if (!std::isfinite(greedy[input])) {
          LABELGRAPH_THROW(argument_error(where + "greedy_rewards: input " + std::to_string(input) + ": the reward is " +
                                          std::to_string(greedy[input]) + "; rewards must be finite"));
        }
        for (std::size_t k = 0; k < paths_per_input; ++k) baselines[input * paths_per_input + k] = greedy[input];
      }
      return;
    }
  }
}

/// `compute_baselines` into a new vector.
[[nodiscard]] inline std::vector<double> compute_baselines(const baseline& choice, std::span<const double> rewards,
                                                           std::size_t paths_per_input) {
  std::vector<double> baselines(rewards.size());
  compute_baselines(choice, rewards, paths_per_input, std::span<double>(baselines));
  return baselines;
}

}  // namespace labelgraph
