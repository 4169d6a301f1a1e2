#pragma once
/// \file
/// `path_batch`: the paths a decoder produced (sampling, greedy, beam search),
/// stored flat so the loss code can hand them to the kernels unchanged.
///
/// A batch holds `rows = inputs · paths_per_input` paths; row r belongs to
/// input r / paths_per_input (K samples per input, or the beams of an input
/// best first). Every path is stored as `max_length` (T) steps:
///
///     tokens     [rows, T]  v_1 .. v_n, EOP, then `no_token` padding
///     step_nodes [rows, T]  u_t, the node the decoder stands on when it
///                           predicts step t (u_0 = root); padding steps stand
///                           on the root, as in `make_path_targets`, so every
///                           entry is a valid node for a C(u) mask
///     node_path  [rows, T]  the non-root nodes the path reached, v_1 .. v_n,
///                           then `no_node`
///
/// plus per row the length (tokens emitted, EOP included), the status, and
/// log p(P) = Σ_t log q(v_t | u_t) under the distribution the decoder drew
/// or ranked with (decode/detail/choice.hpp).

#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <string_view>
#include <vector>

#include "labelgraph/graph/label_graph.hpp"
#include "labelgraph/paths/output_layout.hpp"
#include "labelgraph/tensor/tensor_view.hpp"

namespace labelgraph {

/// How a decoded path ended.
enum class path_status : std::uint8_t {
  complete,   ///< emitted EOP
  truncated,  ///< reached the maximum length without EOP (the length guard)
  dead_end    ///< no candidate of C(u) had positive probability (all −inf or NaN logits)
};

/// "complete", "truncated", "dead_end".
[[nodiscard]] constexpr std::string_view to_string(path_status status) noexcept {
  switch (status) {
    case path_status::complete: return "complete";
    case path_status::truncated: return "truncated";
    case path_status::dead_end: return "dead_end";
  }
  return "?";
}

/// Decoded paths, `paths_per_input` per input, each padded to `max_length` steps.
class path_batch {
public:
  /// An empty batch.
  path_batch() = default;

  /// Room for `inputs · paths_per_input` paths of at most `max_length` tokens,
  /// every one empty (length 0, status truncated, log p = 0, at `start`).
  path_batch(std::size_t inputs, std::size_t paths_per_input, std::size_t max_length, node_id start)
      : inputs_(inputs),
        paths_per_input_(paths_per_input),
        max_length_(max_length),
        tokens_(inputs * paths_per_input * max_length, no_token),
        step_nodes_(inputs * paths_per_input * max_length, start),
        node_path_(inputs * paths_per_input * max_length, no_node),
        lengths_(inputs * paths_per_input, 0),
        status_(inputs * paths_per_input, path_status::truncated),
        log_probability_(inputs * paths_per_input, 0.0),
        score_(inputs * paths_per_input, 0.0) {}

  /// Number of paths (inputs · paths_per_input).
  [[nodiscard]] std::size_t rows() const noexcept { return lengths_.size(); }
  /// Number of inputs.
  [[nodiscard]] std::size_t inputs() const noexcept { return inputs_; }
  /// Paths per input: K samples, the beam width, or 1 for greedy decoding.
  [[nodiscard]] std::size_t paths_per_input() const noexcept { return paths_per_input_; }
  /// T, the step count every path is padded to.
  [[nodiscard]] std::size_t max_length() const noexcept { return max_length_; }
  /// The input a path belongs to.
  [[nodiscard]] std::size_t input_of(std::size_t row) const noexcept { return row / paths_per_input_; }

  /// Tokens emitted by path `row` (EOP included when complete).
  [[nodiscard]] std::uint32_t length(std::size_t row) const noexcept { return lengths_[row]; }
  /// How path `row` ended.
  [[nodiscard]] path_status status(std::size_t row) const noexcept { return status_[row]; }
  /// log p(P) under the decoder's distribution (Σ over the emitted tokens).
  [[nodiscard]] double log_probability(std::size_t row) const noexcept { return log_probability_[row]; }
  /// The beam search ranking score (log p(P) / length^α); log p(P) for the other decoders.
  [[nodiscard]] double score(std::size_t row) const noexcept { return score_[row]; }
  /// The tokens of path `row`: v_1 .. v_n (and EOP when complete).
  [[nodiscard]] std::span<const token_id> tokens(std::size_t row) const noexcept {
    return {tokens_.data() + row * max_length_, lengths_[row]};
  }
  /// The non-root nodes path `row` reached, in order (EOP is not a node).
  [[nodiscard]] std::span<const node_id> nodes(std::size_t row) const noexcept {
    const std::size_t count = lengths_[row] - (status_[row] == path_status::complete ? 1u : 0u);
    return {node_path_.data() + row * max_length_, count};
  }
  /// The node path `row` ends at (the last node reached; `start` for an empty path).
  [[nodiscard]] node_id last_node(std::size_t row) const noexcept {
    const auto reached = nodes(row);
    return reached.empty() ? step_nodes_[row * max_length_] : reached.back();
  }

  /// tokens [rows, T] (padding `no_token`): the targets of a teacher-forced
  /// re-evaluation of the paths, one row of logits per step.
  [[nodiscard]] tensor_view<const token_id, 2> token_matrix() const noexcept {
    return tensor_view<const token_id, 2>(tokens_.data(), {rows(), max_length_});
  }
  /// step_nodes [rows, T]: u_t of every step, the C(u) mask of the re-evaluation.
  [[nodiscard]] tensor_view<const node_id, 2> step_node_matrix() const noexcept {
    return tensor_view<const node_id, 2>(step_nodes_.data(), {rows(), max_length_});
  }
  /// tokens as [rows · T], one target per row of re-evaluated logits.
  [[nodiscard]] tensor_view<const token_id, 1> flat_tokens() const noexcept {
    return tensor_view<const token_id, 1>(tokens_.data(), {tokens_.size()});
  }
  /// step_nodes as [rows · T], for `row_mask::from_candidates`.
  [[nodiscard]] tensor_view<const node_id, 1> flat_step_nodes() const noexcept {
    return tensor_view<const node_id, 1>(step_nodes_.data(), {step_nodes_.size()});
  }

  // Writers, for the decoders (and for tests that build a batch by hand).
  /// Appends token `token` (reaching `node`; `no_node` for EOP) with log q(token | u) to path `row`.
  void append(std::size_t row, token_id token, node_id node, double log_q) noexcept {
    const std::size_t step = lengths_[row];
    tokens_[row * max_length_ + step] = token;
    if (node != no_node) {
      node_path_[row * max_length_ + step] = node;
      if (step + 1 < max_length_) step_nodes_[row * max_length_ + step + 1] = node;
    }
    lengths_[row] = static_cast<std::uint32_t>(step + 1);
    log_probability_[row] += log_q;
    score_[row] = log_probability_[row];
  }
  /// Ends path `row` with `status`.
  void finish(std::size_t row, path_status status) noexcept { status_[row] = status; }
  /// Marks `row` as holding no path (an unused beam slot): log p = score = −inf.
  void set_no_path(std::size_t row, path_status status) noexcept {
    log_probability_[row] = -std::numeric_limits<double>::infinity();
    score_[row] = log_probability_[row];
    finish(row, status);
  }
  /// Sets the ranking score of path `row`.
  void set_score(std::size_t row, double score) noexcept { score_[row] = score; }

private:
  std::size_t inputs_ = 0;
  std::size_t paths_per_input_ = 1;
  std::size_t max_length_ = 0;
  std::vector<token_id> tokens_;
  std::vector<node_id> step_nodes_;
  std::vector<node_id> node_path_;
  std::vector<std::uint32_t> lengths_;
  std::vector<path_status> status_;
  std::vector<double> log_probability_;
  std::vector<double> score_;
};

}  // namespace labelgraph
