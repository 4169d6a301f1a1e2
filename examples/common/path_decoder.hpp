#pragma once
/// \file
/// `path_decoder`: the recurrent decoder of the paper's model (Figure 3,
/// Eq. 1): token embedding -> GRU cell -> output projection to one logit per
/// token of the output layout. The caller drives it one step at a time (the
/// next input is a teacher token, an argmax or a sample, decided from the
/// step's logits), then writes ∂loss/∂logits in place over the stored logits
/// and calls `backward` (back-propagation through time).

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "layers.hpp"

namespace labelgraph::examples {

/// Embedding + GRU + projection over a vocabulary of `tokens` output tokens
/// and `tokens + 1` input tokens (the extra one is START, the root).
template <dense_backend B, class T>
class path_decoder {
public:
  /// Sizes: V output tokens, embedding width E, hidden width H.
  path_decoder(const B& backend, std::size_t tokens, std::size_t embedding_width, std::size_t hidden)
      : backend_(backend), embedding_(backend, "decoder.embedding", tokens + 1, embedding_width),
        cell_(backend, "decoder.gru", embedding_width, hidden), projection_(backend, "decoder.projection", hidden, tokens),
        states_(backend, 0, hidden), inputs_(backend, 0, embedding_width), gates_(backend, 0, 3 * hidden),
        hidden_gates_(backend, 0, 3 * hidden), differences_(backend, 0, hidden), logits_(backend, 0, tokens),
        state_grads_(backend, 0, hidden), input_grads_(backend, 0, embedding_width), carry_(backend, 0, hidden),
        work_(backend, 0, 3 * hidden), hidden_work_(backend, 0, 3 * hidden) {}

  /// The START input token (index V of the embedding).
  [[nodiscard]] std::uint32_t start_token() const noexcept { return static_cast<std::uint32_t>(tokens()); }
  /// V.
  [[nodiscard]] std::size_t tokens() const noexcept { return projection_.out(); }
  /// H.
  [[nodiscard]] std::size_t hidden() const noexcept { return cell_.hidden(); }
  /// Appends every parameter.
  void collect(parameter_list<B, T>& list) {
    embedding_.collect(list);
    cell_.collect(list);
    projection_.collect(list);
  }
  /// Seeded initialisation of every parameter.
  void initialize(std::uint64_t seed, std::uint32_t& index) {
    embedding_.initialize(seed, index);
    cell_.initialize(seed, index);
    projection_.initialize(seed, index);
  }

  /// Starts a batch of `rows` sequences of at most `max_steps` steps from h0 [rows, H].
  void begin(tensor_view<const T, 2> h0, std::size_t max_steps) {
    rows_ = h0.extent(0);
    steps_ = 0;
    const std::size_t H = hidden();
    states_.reserve((max_steps + 1) * rows_, H);
    inputs_.reserve(max_steps * rows_, embedding_.width());
    gates_.reserve(max_steps * rows_, 3 * H);
    hidden_gates_.reserve(max_steps * rows_, 3 * H);
    differences_.reserve(max_steps * rows_, H);
    logits_.reserve(max_steps * rows_, tokens());
    while (selections_.size() < max_steps) selections_.emplace_back(backend_);
    activate<B, T>(backend_, activation::identity, h0, states_.rows_view(0, rows_));
  }

  /// Runs step `steps()` on the input tokens (one per row; `start_token()` at
  /// the first step) and returns its logits [rows, V] (writable: the caller
  /// overwrites them with their gradient before `backward`).
  tensor_view<T, 2> step(std::span<const std::uint32_t> input_tokens) {
    const std::size_t t = steps_++;
    const std::size_t first = t * rows_;
    selections_[t].assign(input_tokens, embedding_.vocabulary());
    embedding_.forward(selections_[t], inputs_.rows_view(first, rows_));
    cell_.forward(inputs_.rows_view(first, rows_), states_.rows_view(first, rows_), cache(t),
                  states_.rows_view(first + rows_, rows_));
    projection_.forward(states_.rows_view(first + rows_, rows_), logits_.rows_view(first, rows_));
    return logits_.rows_view(first, rows_);
  }

  /// Steps run since `begin`.
  [[nodiscard]] std::size_t steps() const noexcept { return steps_; }
  /// Rows of the batch.
  [[nodiscard]] std::size_t rows() const noexcept { return rows_; }
  /// The logits (or, after the caller overwrote them, their gradient) of step t.
  [[nodiscard]] tensor_view<T, 2> logits(std::size_t t) noexcept { return logits_.rows_view(t * rows_, rows_); }
  /// The hidden state after step t (t = 0: h0), [rows, H].
  [[nodiscard]] tensor_view<const T, 2> state(std::size_t t) const noexcept { return states_.rows_view(t * rows_, rows_); }

  /// Back-propagation through time: reads ∂loss/∂logits of every step from
  /// `logits(t)`, accumulates parameter gradients, writes dh0 [rows, H].
  void backward(tensor_view<T, 2> dh0) {
    const std::size_t n = rows_;
    const std::size_t total = steps_ * n;
    if (steps_ == 0) {
      scale<B, T>(backend_, T(0), dh0);
      return;
    }
    state_grads_.reserve(total, hidden());
    input_grads_.reserve(total, embedding_.width());
    carry_.reserve(n, hidden());
    work_.reserve(n, 3 * hidden());
    hidden_work_.reserve(n, 3 * hidden());
    // All steps' projections at once: one GEMM each way.
    projection_.backward(states_.rows_view(n, total), logits_.rows_view(0, total), state_grads_.rows_view(0, total));
    for (std::size_t t = steps_; t-- > 0;) {
      const auto dh_out = state_grads_.rows_view(t * n, n);
      if (t + 1 != steps_) add<B, T>(backend_, dh_out, carry_.rows_view(0, n), dh_out);
      cell_.backward(inputs_.rows_view(t * n, n), states_.rows_view(t * n, n), cache(t), dh_out,
                     input_grads_.rows_view(t * n, n), carry_.rows_view(0, n), work_.rows_view(0, n),
                     hidden_work_.rows_view(0, n));
      embedding_.backward(selections_[t], input_grads_.rows_view(t * n, n));
    }
    activate<B, T>(backend_, activation::identity, carry_.rows_view(0, n), dh0);
  }

private:
  gru_cache<T> cache(std::size_t t) noexcept {
    return {gates_.rows_view(t * rows_, rows_), hidden_gates_.rows_view(t * rows_, rows_),
            differences_.rows_view(t * rows_, rows_)};
  }

  B backend_;
  embedding<B, T> embedding_;
  gru_cell<B, T> cell_;
  linear<B, T> projection_;
  std::vector<row_selection<B, T>> selections_;  // the input tokens of each step
  device_matrix<B, T> states_;        // [(steps + 1)·rows, H]: h0, h1, ...
  device_matrix<B, T> inputs_;        // [steps·rows, E]
  device_matrix<B, T> gates_;         // [steps·rows, 3H]
  device_matrix<B, T> hidden_gates_;  // [steps·rows, 3H]
  device_matrix<B, T> differences_;   // [steps·rows, H]
  device_matrix<B, T> logits_;        // [steps·rows, V], then their gradient
  device_matrix<B, T> state_grads_;   // [steps·rows, H]: ∂loss/∂h_t through the projection, then in total
  device_matrix<B, T> input_grads_;   // [steps·rows, E]
  device_matrix<B, T> carry_;         // [rows, H]: ∂loss/∂h_{t} flowing back from step t + 1
  device_matrix<B, T> work_;          // GRU backward scratch
  device_matrix<B, T> hidden_work_;
  std::size_t rows_ = 0;
  std::size_t steps_ = 0;
};

}  // namespace labelgraph::examples
