#pragma once
/// \file
/// The layers of the example models, generic over `dense_backend`, each with
/// a hand-written backward pass built from the ops of ops/dense.hpp:
/// `linear` (y = xW + b), `mlp` (linear + activation, stacked), `row_selection`
/// (a 0/1 selection matrix: gather rows by GEMM, scatter-add by its transpose),
/// `embedding` (token vectors through a selection), `hashed_bag_embedding`
/// (mean of bucket vectors, fastText-style) and `gru_cell` (Cho et al.
/// 2014, PyTorch's gate convention). Backward passes *accumulate* into the
/// parameter gradients (zero them once per step) and *overwrite* input gradients.

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "labelgraph/ops/dense.hpp"
#include "parameter.hpp"

namespace labelgraph::examples {

/// y = x·W + b with W [in, out], b [out].
template <dense_backend B, class T>
class linear {
public:
  /// A zero layer; call `initialize`.
  linear(const B& backend, const std::string& name, std::size_t in, std::size_t out)
      : backend_(backend), weight_(backend, name + ".weight", in, out), bias_(backend, name + ".bias", 1, out),
        bias_scratch_(backend, 1, out) {}

  /// Input width.
  [[nodiscard]] std::size_t in() const noexcept { return weight_.value.rows(); }
  /// Output width.
  [[nodiscard]] std::size_t out() const noexcept { return weight_.value.cols(); }
  /// W, read-only.
  [[nodiscard]] tensor_view<const T, 2> weight() const noexcept { return weight_.value.view(); }
  /// Appends W and b.
  void collect(parameter_list<B, T>& list) {
    list.push_back(&weight_);
    list.push_back(&bias_);
  }
  /// W ~ U(±bound) (Glorot bound by default), b = 0; `index` numbers the parameter stream.
  void initialize(std::uint64_t seed, std::uint32_t& index, double bound = 0.0) {
    initialize_uniform(weight_, bound > 0.0 ? bound : glorot_bound(in(), out()), seed, index++);
    bias_.value.set_zero();
    ++index;
  }

  /// y = x·W + b for x [n, in], y [n, out].
  void forward(tensor_view<const T, 2> x, tensor_view<T, 2> y) const {
    gemm(backend_, transpose::no, transpose::no, T(1), x, weight_.value.view(), T(0), y);
    add_bias<B, T>(backend_, bias_.value.flat(out()), y);
  }

  /// ∂W += xᵀ·dy, ∂b += Σ_rows dy, and dx = dy·Wᵀ when dx is given.
  void backward(tensor_view<const T, 2> x, tensor_view<const T, 2> dy, tensor_view<T, 2> dx) {
    gemm(backend_, transpose::yes, transpose::no, T(1), x, dy, T(1), weight_.grad.view());
    column_sum<B, T>(backend_, dy, bias_scratch_.flat(out()));
    add<B, T>(backend_, bias_.grad.view(), bias_scratch_.view(), bias_.grad.view());
    if (!dx.empty()) gemm(backend_, transpose::no, transpose::yes, T(1), dy, weight_.value.view(), T(0), dx);
  }

private:
  B backend_;
  parameter<B, T> weight_;
  parameter<B, T> bias_;
  device_matrix<B, T> bias_scratch_;
};

/// A stack of `linear` layers, each followed by an activation:
/// h_{l+1} = f_l(h_l·W_l + b_l). Keeps its activations for the backward pass.
template <dense_backend B, class T>
class mlp {
public:
  /// widths = {input, hidden..., output}; one activation per layer (widths.size() − 1).
  mlp(const B& backend, const std::string& name, const std::vector<std::size_t>& widths,
      const std::vector<activation>& activations)
      : backend_(backend), activations_(activations) {
    if (widths.size() < 2 || activations.size() + 1 != widths.size()) {
      LABELGRAPH_THROW(argument_error("mlp " + name + ": " + std::to_string(widths.size()) + " widths need " +
                                      std::to_string(widths.size() == 0 ? 0 : widths.size() - 1) + " activations, got " +
                                      std::to_string(activations.size())));
    }
    layers_.reserve(widths.size() - 1);
    for (std::size_t l = 0; l + 1 < widths.size(); ++l) {
      layers_.emplace_back(backend, name + "." + std::to_string(l), widths[l], widths[l + 1]);
    }
    for (std::size_t l = 0; l + 1 < widths.size(); ++l) {
      outputs_.emplace_back(backend, 0, widths[l + 1]);
      grads_.emplace_back(backend, 0, widths[l + 1]);
    }
  }

  /// Input width.
  [[nodiscard]] std::size_t in() const noexcept { return layers_.front().in(); }
  /// Output width.
  [[nodiscard]] std::size_t out() const noexcept { return layers_.back().out(); }
  /// Appends every layer's parameters.
  void collect(parameter_list<B, T>& list) {
    for (auto& layer : layers_) layer.collect(list);
  }
  /// Glorot-uniform weights, zero biases.
  void initialize(std::uint64_t seed, std::uint32_t& index) {
    for (auto& layer : layers_) layer.initialize(seed, index);
  }

  /// The output for x [n, in]; valid until the next forward.
  tensor_view<const T, 2> forward(tensor_view<const T, 2> x) {
    const std::size_t n = x.extent(0);
    tensor_view<const T, 2> input = x;
    for (std::size_t l = 0; l < layers_.size(); ++l) {
      outputs_[l].reserve(n, layers_[l].out());
      tensor_view<T, 2> y = outputs_[l].rows_view(0, n);
      layers_[l].forward(input, y);
      activate<B, T>(backend_, activations_[l], y, y);
      input = y;
    }
    return input;
  }

  /// Backward of the last `forward(x)`: accumulates parameter gradients from
  /// dy [n, out] and writes dx [n, in] when given.
  void backward(tensor_view<const T, 2> x, tensor_view<const T, 2> dy, tensor_view<T, 2> dx) {
    const std::size_t n = x.extent(0);
    tensor_view<const T, 2> grad_out = dy;
    for (std::size_t l = layers_.size(); l-- > 0;) {
      grads_[l].reserve(n, layers_[l].out());
      tensor_view<T, 2> grad_pre = grads_[l].rows_view(0, n);  // ∂loss/∂(h_l W_l + b_l)
      activation_backward<B, T>(backend_, activations_[l], outputs_[l].rows_view(0, n), grad_out, grad_pre);
      const tensor_view<const T, 2> input = l == 0 ? x : tensor_view<const T, 2>(outputs_[l - 1].rows_view(0, n));
      tensor_view<T, 2> grad_in;
      if (l != 0) {
        grads_[l - 1].reserve(n, layers_[l - 1].out());
        grad_in = grads_[l - 1].rows_view(0, n);
      } else {
        grad_in = dx;
      }
      layers_[l].backward(input, grad_pre, grad_in);
      grad_out = grad_in;
    }
  }

private:
  B backend_;
  std::vector<activation> activations_;
  std::vector<linear<B, T>> layers_;
  std::vector<device_matrix<B, T>> outputs_;  // h_{l+1}, after the activation
  std::vector<device_matrix<B, T>> grads_;    // ∂loss/∂h_{l+1}, then ∂loss/∂pre-activation (in place)
};

/// The 0/1 matrix S [n, k] with S(i, index(i)) = 1: S·X gathers rows of X,
/// Sᵀ·dY scatter-adds gradients back. Written on the host, copied once per use,
/// so gathers run as one GEMM on any backend (n·k is small: k is a batch or a vocabulary).
template <dense_backend B, class T>
class row_selection {
public:
  explicit row_selection(const B& backend) : backend_(backend), matrix_(backend, 0, 0) {}

  /// S for `indices` (each < k); an index ≥ k (e.g. `no_token`) selects nothing (a zero row).
  void assign(std::span<const std::uint32_t> indices, std::size_t k) {
    rows_ = indices.size();
    cols_ = k;
    host_.assign(rows_ * cols_, T(0));
    for (std::size_t i = 0; i < rows_; ++i) {
      if (indices[i] < k) host_[i * k + indices[i]] = T(1);
    }
    matrix_.reserve(std::max<std::size_t>(rows_, 1), cols_);
    matrix_.copy_prefix_from_host(host_);
  }
  /// S, [n, k].
  [[nodiscard]] tensor_view<const T, 2> view() const noexcept { return matrix_.rows_view(0, rows_); }
  /// out [n, cols] = S·x for x [k, cols].
  void gather(tensor_view<const T, 2> x, tensor_view<T, 2> out) const {
    gemm(backend_, transpose::no, transpose::no, T(1), view(), x, T(0), out);
  }
  /// dx [k, cols] += Sᵀ·dy for dy [n, cols] (beta = 1: accumulate; 0: overwrite).
  void scatter(tensor_view<const T, 2> dy, tensor_view<T, 2> dx, T beta) const {
    gemm(backend_, transpose::yes, transpose::no, T(1), view(), dy, beta, dx);
  }

private:
  B backend_;
  std::vector<T> host_;
  device_matrix<B, T> matrix_;
  std::size_t rows_ = 0;
  std::size_t cols_ = 0;
};

/// Token embedding E [vocabulary, width]: out(i) = E(token(i)).
template <dense_backend B, class T>
class embedding {
public:
  embedding(const B& backend, const std::string& name, std::size_t vocabulary, std::size_t width)
      : table_(backend, name + ".table", vocabulary, width) {}
  /// Vocabulary size.
  [[nodiscard]] std::size_t vocabulary() const noexcept { return table_.value.rows(); }
  /// Embedding width.
  [[nodiscard]] std::size_t width() const noexcept { return table_.value.cols(); }
  /// Appends E.
  void collect(parameter_list<B, T>& list) { list.push_back(&table_); }
  /// E ~ U(±bound), `bound` ≈ 1/sqrt(width) by default.
  void initialize(std::uint64_t seed, std::uint32_t& index) {
    initialize_uniform(table_, 1.0 / std::sqrt(static_cast<double>(width())), seed, index++);
  }
  /// out [n, width] = S·E with the selection S of the tokens.
  void forward(const row_selection<B, T>& tokens, tensor_view<T, 2> out) const { tokens.gather(table_.value.view(), out); }
  /// ∂E += Sᵀ·dout.
  void backward(const row_selection<B, T>& tokens, tensor_view<const T, 2> dout) {
    tokens.scatter(dout, table_.grad.view(), T(1));
  }

private:
  parameter<B, T> table_;
};

/// Mean-pooled embedding of bags of hashed features (fastText's input layer,
/// Joulin et al. 2017): a table E [buckets, width] and, for row i with bag
/// b_i = (k_1, ..., k_m) of bucket ids (repeats count),
///   out(i) = (1/m) Σ_j E(k_j) = (A·E)(i),   A(i, k) = #{j : k_j = k} / m,
/// an empty bag gives a zero row. Backward: ∂E += Aᵀ·dout. A is written on the
/// host and multiplied by GEMM (as `row_selection`), so any dense backend runs
/// it; its cost is rows·buckets·width per pass, so keep `buckets` moderate.
template <dense_backend B, class T>
class hashed_bag_embedding {
public:
  hashed_bag_embedding(const B& backend, const std::string& name, std::size_t buckets, std::size_t width)
      : backend_(backend), table_(backend, name + ".table", buckets, width), pooling_(backend, 0, buckets) {}
  /// Bucket count.
  [[nodiscard]] std::size_t buckets() const noexcept { return table_.value.rows(); }
  /// Embedding width.
  [[nodiscard]] std::size_t width() const noexcept { return table_.value.cols(); }
  /// Appends E.
  void collect(parameter_list<B, T>& list) { list.push_back(&table_); }
  /// E ~ U(±1/sqrt(width)).
  void initialize(std::uint64_t seed, std::uint32_t& index) {
    initialize_uniform(table_, 1.0 / std::sqrt(static_cast<double>(width())), seed, index++);
  }
  /// out [n, width] = A·E for the bags of n rows (each id < buckets()).
  void forward(std::span<const std::span<const std::uint32_t>> bags, tensor_view<T, 2> out) {
    rows_ = bags.size();
    const std::size_t k = buckets();
    host_.assign(rows_ * k, T(0));
    for (std::size_t i = 0; i < rows_; ++i) {
      const T share = bags[i].empty() ? T(0) : T(1) / static_cast<T>(bags[i].size());
      for (std::uint32_t id : bags[i]) {
        if (id >= k) LABELGRAPH_THROW(argument_error("hashed_bag_embedding: bucket " + std::to_string(id) + " >= " + std::to_string(k)));
        host_[i * k + id] += share;
      }
    }
    pooling_.reserve(std::max<std::size_t>(rows_, 1), k);
    pooling_.copy_prefix_from_host(host_);
    gemm(backend_, transpose::no, transpose::no, T(1), pooling(), table_.value.view(), T(0), out);
  }
  /// Backward of the last `forward`: ∂E += Aᵀ·dout.
  void backward(tensor_view<const T, 2> dout) {
    gemm(backend_, transpose::yes, transpose::no, T(1), pooling(), dout, T(1), table_.grad.view());
  }
  /// A of the last forward, [n, buckets].
  [[nodiscard]] tensor_view<const T, 2> pooling() const noexcept { return pooling_.rows_view(0, rows_); }

private:
  B backend_;
  parameter<B, T> table_;
  device_matrix<B, T> pooling_;
  std::vector<T> host_;
  std::size_t rows_ = 0;
};

/// What a `gru_cell` forward keeps for its backward pass (views into the caller's buffers).
template <class T>
struct gru_cache {
  tensor_view<T, 2> gates;       ///< [n, 3H]: r, z, n after their activations
  tensor_view<T, 2> hidden_gates;///< [n, 3H]: h·W_h + b_h
  tensor_view<T, 2> difference;  ///< [n, H]: h − n
};

/// Gated recurrent unit (Cho et al. 2014), PyTorch's convention; the paper's Eq. 1 f_t = g(e_t, f_{t−1}):
///   r = σ(x·W_ir + b_ir + h·W_hr + b_hr)
///   z = σ(x·W_iz + b_iz + h·W_hz + b_hz)
///   n = tanh(x·W_in + b_in + r ⊙ (h·W_hn + b_hn))
///   h' = (1 − z) ⊙ n + z ⊙ h = n + z ⊙ (h − n)
/// W_i = [W_ir W_iz W_in] [in, 3H] and W_h [H, 3H] are stored side by side.
template <dense_backend B, class T>
class gru_cell {
public:
  gru_cell(const B& backend, const std::string& name, std::size_t in, std::size_t hidden)
      : backend_(backend), input_(backend, name + ".input", in, 3 * hidden), hidden_(backend, name + ".hidden", hidden, 3 * hidden) {}

  /// Input width.
  [[nodiscard]] std::size_t in() const noexcept { return input_.in(); }
  /// Hidden width H.
  [[nodiscard]] std::size_t hidden() const noexcept { return hidden_.in(); }
  /// Appends W_i, b_i, W_h, b_h.
  void collect(parameter_list<B, T>& list) {
    input_.collect(list);
    hidden_.collect(list);
  }
  /// Every weight ~ U(±1/sqrt(H)) (PyTorch's GRU initialisation), biases 0.
  void initialize(std::uint64_t seed, std::uint32_t& index) {
    const double bound = 1.0 / std::sqrt(static_cast<double>(hidden()));
    input_.initialize(seed, index, bound);
    hidden_.initialize(seed, index, bound);
  }

  /// h_out [n, H] = GRU(x [n, in], h [n, H]); fills `cache`.
  void forward(tensor_view<const T, 2> x, tensor_view<const T, 2> h, const gru_cache<T>& cache, tensor_view<T, 2> h_out) const {
    const std::size_t H = hidden();
    input_.forward(x, cache.gates);
    hidden_.forward(h, cache.hidden_gates);
    const auto reset_update = slice(cache.gates, 0, 2 * H);
    add<B, T>(backend_, reset_update, slice(cache.hidden_gates, 0, 2 * H), reset_update);
    activate<B, T>(backend_, activation::sigmoid, reset_update, reset_update);
    const auto reset = slice(cache.gates, 0, H);
    const auto update = slice(cache.gates, H, H);
    const auto candidate = slice(cache.gates, 2 * H, H);
    multiply<B, T>(backend_, reset, slice(cache.hidden_gates, 2 * H, H), cache.difference);  // r ⊙ (h·W_hn + b_hn)
    add<B, T>(backend_, candidate, cache.difference, candidate);
    activate<B, T>(backend_, activation::tanh, candidate, candidate);
    activate<B, T>(backend_, activation::identity, candidate, cache.difference);  // h − n
    scale<B, T>(backend_, T(-1), cache.difference);
    add<B, T>(backend_, h, cache.difference, cache.difference);
    multiply<B, T>(backend_, update, cache.difference, h_out);  // n + z ⊙ (h − n)
    add<B, T>(backend_, h_out, candidate, h_out);
  }

  /// Backward of one `forward`: accumulates parameter gradients from dh_out,
  /// writes dx [n, in] (when given) and dh [n, H] (must not alias dh_out).
  /// `work` and `hidden_work` are [n, 3H] scratch.
  void backward(tensor_view<const T, 2> x, tensor_view<const T, 2> h, const gru_cache<T>& cache,
                tensor_view<const T, 2> dh_out, tensor_view<T, 2> dx, tensor_view<T, 2> dh, tensor_view<T, 2> work,
                tensor_view<T, 2> hidden_work) {
    const std::size_t H = hidden();
    const auto reset = slice(cache.gates, 0, H);
    const auto update = slice(cache.gates, H, H);
    const auto candidate = slice(cache.gates, 2 * H, H);
    const auto d_reset = slice(work, 0, H);
    const auto d_update = slice(work, H, H);
    const auto d_candidate = slice(work, 2 * H, H);
    // ∂h'/∂z = h − n, ∂h'/∂n = 1 − z, ∂h'/∂h (direct) = z.
    multiply<B, T>(backend_, dh_out, cache.difference, d_update);
    multiply<B, T>(backend_, dh_out, update, d_candidate);
    scale<B, T>(backend_, T(-1), d_candidate);
    add<B, T>(backend_, dh_out, d_candidate, d_candidate);
    activation_backward<B, T>(backend_, activation::tanh, candidate, d_candidate, d_candidate);  // ∂ pre-tanh
    // Through r ⊙ (h·W_hn + b_hn): ∂(h·W_hn + b_hn) = ∂pre ⊙ r, ∂r = ∂pre ⊙ (h·W_hn + b_hn).
    multiply<B, T>(backend_, d_candidate, reset, slice(hidden_work, 2 * H, H));
    multiply<B, T>(backend_, d_candidate, slice(cache.hidden_gates, 2 * H, H), slice(hidden_work, 0, H));
    activation_backward<B, T>(backend_, activation::sigmoid, reset, slice(hidden_work, 0, H), d_reset);
    activation_backward<B, T>(backend_, activation::sigmoid, update, d_update, d_update);
    activate<B, T>(backend_, activation::identity, slice(work, 0, 2 * H), slice(hidden_work, 0, 2 * H));
    input_.backward(x, work, dx);
    multiply<B, T>(backend_, dh_out, update, dh);  // the direct path z ⊙ h
    hidden_.backward(h, hidden_work, tensor_view<T, 2>{});
    gemm(backend_, transpose::no, transpose::yes, T(1), tensor_view<const T, 2>(hidden_work), hidden_.weight(), T(1), dh);
  }

private:
  static tensor_view<T, 2> slice(tensor_view<T, 2> x, std::size_t first, std::size_t count) noexcept {
    return tensor_view<T, 2>(x.data() + first, {x.extent(0), count}, {x.stride(0), 1}, x.where());
  }

  B backend_;
  linear<B, T> input_;
  linear<B, T> hidden_;
};

}  // namespace labelgraph::examples
