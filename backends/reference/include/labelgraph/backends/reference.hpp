#pragma once
/// \file
/// The reference backend: single-threaded, obviously correct, the oracle every
/// other backend is tested against (tests/backends). Every kernel is a plain
/// loop with its formula next to it; arithmetic is in double whatever T is, so
/// that the oracle is more accurate than what it checks. It is also the worked
/// example of docs/backends.md: a backend type plus free-function kernels.
///
/// Optional operations (sampling, argmax, segmented reductions) are not
/// written here: the generic host fallbacks of backend/kernels.hpp serve it.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string_view>

#include "labelgraph/backend/concept.hpp"
#include "labelgraph/backend/kernels.hpp"
#include "labelgraph/ops/mask.hpp"
#include "labelgraph/ops/options.hpp"
#include "labelgraph/paths/output_layout.hpp"
#include "labelgraph/tensor/memory_space.hpp"
#include "labelgraph/tensor/tensor_view.hpp"

namespace labelgraph::backends {

/// The reference backend's queue: there is nothing to queue, every kernel has
/// finished when it returns.
struct reference_queue {};

/// Single-threaded host backend; the test oracle.
struct reference {
  using memory_space = host_space;      ///< host memory, used in place
  using queue_type = reference_queue;   ///< nothing is ever queued
  static constexpr std::string_view name = "reference";  ///< for messages and benchmark labels

  /// The (empty) queue.
  [[nodiscard]] queue_type queue() const noexcept { return {}; }
  /// Kernels run synchronously: nothing to wait for.
  void synchronize() const noexcept {}

  /// `n` uninitialised elements of host memory.
  template <class T>
  [[nodiscard]] T* allocate(std::size_t n) const {
    return static_cast<T*>(memory_space::allocate(n * sizeof(T)));
  }
  /// Frees `n` elements obtained from `allocate<T>(n)`.
  template <class T>
  void deallocate(T* pointer, std::size_t n) const noexcept {
    memory_space::deallocate(pointer, n * sizeof(T));
  }
  /// Host to host: a plain copy.
  template <class T>
  void copy_to_host(const T* from, T* host_to, std::size_t n) const {
    std::copy_n(from, n, host_to);
  }
  /// Host to host: a plain copy.
  template <class T>
  void copy_from_host(const T* host_from, T* to, std::size_t n) const {
    std::copy_n(host_from, n, to);
  }
};

namespace reference_detail {

inline constexpr double infinity = std::numeric_limits<double>::infinity();

/// The token ranges [first, last) that contain the normalisation sets of a
/// row: one per group for `block` (N(v) = g(v) ∩ M), the whole row for `full`
/// and `candidate` (N(v) = M). Membership within a range is `mask.allows`.
template <class Visit>
void for_each_set_range(const normalization_spec& spec, Visit&& visit) {
  if (spec.per_group()) {
    for (std::uint32_t g = 0; g < spec.layout.groups; ++g) visit(spec.layout.group_begin(g), spec.layout.group_end(g));
  } else {
    visit(std::uint32_t{0}, spec.layout.tokens);
  }
}

/// Statistics of one normalisation set S of a row: m = max_S z (−inf when S
/// is empty or all −inf), Σ_S exp(z − m), |S|, Σ_S z, and the lowest token
/// reaching the maximum.
///
/// NaN contract (every backend): a NaN logit in S makes m and Σ NaN, so every
/// token of S gets NaN (probability, log-probability, gradient, and the loss
/// of a target in S), even when the NaN is S's only logit above −inf. Tokens
/// outside M and other sets are untouched.
///
/// Probabilities are formed as exp(z − m) / Σ exp(z − m), never as
/// exp(z − lse): for m = 1e30, lse = m + log Σ rounds to m and would lose the
/// log Σ term entirely.
struct set_statistics {
  double max = -infinity;
  double sum_exp = 0.0;
  std::size_t count = 0;
  double sum = 0.0;
  token_id argmax = no_token;

  /// False when S is empty or all −inf: probabilities 0, gradients 0.
  [[nodiscard]] bool has_mass() const noexcept { return max != -infinity; }
  /// log Σ_S exp z = m + log Σ exp(z − m); −inf for a set without mass.
  [[nodiscard]] double log_sum_exp() const noexcept { return has_mass() ? max + std::log(sum_exp) : -infinity; }
  /// exp(z − m) / Σ exp(z − m).
  [[nodiscard]] double probability(double z) const noexcept { return std::exp(z - max) / sum_exp; }
  /// (z − m) − log Σ exp(z − m).
  [[nodiscard]] double log_probability(double z) const noexcept { return (z - max) - std::log(sum_exp); }
};

template <class T>
set_statistics statistics(const normalization_spec& spec, std::size_t row, const T* z, std::uint32_t first,
                          std::uint32_t last) {
  set_statistics s;
  bool holds_nan = false;
  for (std::uint32_t v = first; v < last; ++v) {
    if (!spec.mask.allows(spec.layout, row, v)) continue;
    const double zv = static_cast<double>(z[v]);
    ++s.count;
    s.sum += zv;
    holds_nan = holds_nan || std::isnan(zv);
    if (zv > s.max || (s.argmax == no_token && zv == s.max)) {  // strict: ties keep the lowest token
      s.max = zv;
      s.argmax = v;
    }
  }
  if (holds_nan) {  // NaN propagates through the whole set (has_mass() is true for m = NaN)
    s.max = std::numeric_limits<double>::quiet_NaN();
    s.sum_exp = std::numeric_limits<double>::quiet_NaN();
    return s;
  }
  if (!s.has_mass()) return s;
  // The per-set maximum keeps every exp() in [0, 1].
  for (std::uint32_t v = first; v < last; ++v) {
    if (spec.mask.allows(spec.layout, row, v)) s.sum_exp += std::exp(static_cast<double>(z[v]) - s.max);
  }
  return s;
}

}  // namespace reference_detail

/// p(v) = exp(z_v − m) / Σ_{w ∈ N(v)} exp(z_w − m), m = max_{N(v)} z; 0 outside
/// M and in sets without mass. (Paper: block softmax.)
template <class T>
void block_softmax_kernel(const reference&, const normalization_spec& spec, tensor_view<const T, 2> logits,
                          tensor_view<T, 2> probabilities) noexcept {
  using namespace reference_detail;
  for (std::size_t r = 0; r < logits.extent(0); ++r) {
    const T* z = logits.row(r);
    T* p = probabilities.row(r);
    for_each_set_range(spec, [&](std::uint32_t first, std::uint32_t last) {
      const set_statistics s = statistics(spec, r, z, first, last);
      for (std::uint32_t v = first; v < last; ++v) {
        const bool live = spec.mask.allows(spec.layout, r, v) && s.has_mass();
        p[v] = live ? static_cast<T>(s.probability(static_cast<double>(z[v]))) : T(0);
      }
    });
  }
}

/// log p(v) = z_v − lse_{N(v)}; −inf outside M and in sets without mass.
template <class T>
void block_log_softmax_kernel(const reference&, const normalization_spec& spec, tensor_view<const T, 2> logits,
                              tensor_view<T, 2> log_probabilities) noexcept {
  using namespace reference_detail;
  for (std::size_t r = 0; r < logits.extent(0); ++r) {
    const T* z = logits.row(r);
    T* log_p = log_probabilities.row(r);
    for_each_set_range(spec, [&](std::uint32_t first, std::uint32_t last) {
      const set_statistics s = statistics(spec, r, z, first, last);
      for (std::uint32_t v = first; v < last; ++v) {
        const bool live = spec.mask.allows(spec.layout, r, v) && s.has_mass();
        log_p[v] = live ? static_cast<T>(s.log_probability(static_cast<double>(z[v])))
                        : -std::numeric_limits<T>::infinity();
      }
    });
  }
}

/// dz_v = y_v · (dy_v − Σ_{w ∈ N(v)} y_w dy_w); 0 outside M.
template <class T>
void block_softmax_backward_kernel(const reference&, const normalization_spec& spec,
                                   tensor_view<const T, 2> probabilities, tensor_view<const T, 2> grad_probabilities,
                                   tensor_view<T, 2> grad_logits) noexcept {
  using namespace reference_detail;
  for (std::size_t r = 0; r < probabilities.extent(0); ++r) {
    const T* y = probabilities.row(r);
    const T* dy = grad_probabilities.row(r);
    T* dz = grad_logits.row(r);
    for_each_set_range(spec, [&](std::uint32_t first, std::uint32_t last) {
      double dot = 0.0;  // Σ_N y·dy
      for (std::uint32_t v = first; v < last; ++v) {
        if (spec.mask.allows(spec.layout, r, v)) dot += static_cast<double>(y[v]) * static_cast<double>(dy[v]);
      }
      for (std::uint32_t v = first; v < last; ++v) {
        const double yv = static_cast<double>(y[v]);
        dz[v] = spec.mask.allows(spec.layout, r, v) && yv != 0.0 ? static_cast<T>(yv * (static_cast<double>(dy[v]) - dot))
                                                                  : T(0);
      }
    });
  }
}

/// dz_v = dy_v − p_v · Σ_{w ∈ N(v)} dy_w with p = exp(log y); 0 outside M.
/// A −inf logit (p = 0) in a set with mass passes dy through
/// (d log p_v / dz_v = 1 − p_v); a set without mass (log y = −inf
/// throughout: empty or all −inf, where the derivative is undefined) gets 0,
/// like a masked-out set.
template <class T>
void block_log_softmax_backward_kernel(const reference&, const normalization_spec& spec,
                                       tensor_view<const T, 2> log_probabilities,
                                       tensor_view<const T, 2> grad_log_probabilities,
                                       tensor_view<T, 2> grad_logits) noexcept {
  using namespace reference_detail;
  for (std::size_t r = 0; r < log_probabilities.extent(0); ++r) {
    const T* log_y = log_probabilities.row(r);
    const T* dy = grad_log_probabilities.row(r);
    T* dz = grad_logits.row(r);
    for_each_set_range(spec, [&](std::uint32_t first, std::uint32_t last) {
      double dy_sum = 0.0;  // Σ_N dy
      double mass = 0.0;    // Σ_N p: 1, or 0 for a set without mass
      for (std::uint32_t v = first; v < last; ++v) {
        if (!spec.mask.allows(spec.layout, r, v)) continue;
        dy_sum += static_cast<double>(dy[v]);
        mass += std::exp(static_cast<double>(log_y[v]));
      }
      for (std::uint32_t v = first; v < last; ++v) {
        const bool live = spec.mask.allows(spec.layout, r, v) && mass != 0.0;
        const double p = std::exp(static_cast<double>(log_y[v]));
        dz[v] = live ? static_cast<T>(static_cast<double>(dy[v]) - p * dy_sum) : T(0);
      }
    });
  }
}

/// Fused NLL of each row over N = N(t) (formulas in ops/block_nll.hpp and
/// backend/kernels.hpp):
///   loss = w·[(lse − z_t) + ε_ls·(z_t − mean_N z) + ε_ms·(max_N z − mean_N z)]
///   dz_v = w·(p_v − (1−ε_ls)·[v = t] − ε_ls/K + ε_ms·([v = argmax] − 1/K)) on N, 0 elsewhere
/// where ε_ls is ε for label smoothing and ε_ms is ε for MaxSup (0 otherwise),
/// since (1−ε)(lse − z_t) + ε(lse − mean z) = (lse − z_t) + ε(z_t − mean z);
/// the loss is computed in the first form, which stays +inf (not NaN) when z_t
/// and another logit of N are −inf.
template <class T>
void block_nll_kernel(const reference&, const normalization_spec& spec, const regularizer& reg,
                      const block_nll_tensors<T>& io) noexcept {
  using namespace reference_detail;
  const double eps_ls = reg.kind == regularizer_kind::label_smoothing ? reg.epsilon : 0.0;
  const double eps_ms = reg.kind == regularizer_kind::max_suppression ? reg.epsilon : 0.0;
  const std::uint32_t tokens = spec.layout.tokens;
  for (std::size_t r = 0; r < io.logits.extent(0); ++r) {
    const T* z = io.logits.row(r);
    const token_id t = io.targets(r);
    const double w = io.weights.empty() ? 1.0 : static_cast<double>(io.weights(r));
    if (t == no_token) {  // ignored row
      io.loss(r) = T(0);
      if (!io.log_normalizer.empty()) io.log_normalizer(r) = T(0);
      if (!io.grad_logits.empty()) std::fill_n(io.grad_logits.row(r), tokens, T(0));
      continue;
    }
    // N(t): t's group (block) or the whole row (full, candidate), within M.
    const std::uint32_t first = spec.per_group() ? spec.layout.group_begin(spec.layout.token_group[t]) : 0;
    const std::uint32_t last = spec.per_group() ? spec.layout.group_end(spec.layout.token_group[t]) : tokens;
    const set_statistics s = statistics(spec, r, z, first, last);
    const double z_t = static_cast<double>(z[t]);
    const double k = static_cast<double>(s.count);
    const double mean = s.sum / k;
    // lse − z_t = (m − z_t) + log Σ exp(z − m): the log Σ term survives m = ±1e30.
    const double log_sum = s.has_mass() ? std::log(s.sum_exp) : 0.0;
    double loss = s.has_mass() ? (s.max - z_t) + log_sum : infinity;  // no mass: p_t = 0, whatever the regulariser
    // Label smoothing as (1−ε)(lse − z_t) + ε(lse − mean): the shorter (lse − z_t) + ε(z_t − mean)
    // is NaN when z_t and a logit of N are −inf (−inf − (−inf)), where the loss is +inf.
    if (eps_ls != 0.0 && s.has_mass()) loss = (1.0 - eps_ls) * loss + eps_ls * ((s.max - mean) + log_sum);
    if (eps_ms != 0.0 && s.has_mass()) loss += eps_ms * (s.max - mean);
    io.loss(r) = w == 0.0 ? T(0) : static_cast<T>(w * loss);
    if (!io.log_normalizer.empty()) io.log_normalizer(r) = static_cast<T>(s.log_sum_exp());
    if (io.grad_logits.empty()) continue;
    T* dz = io.grad_logits.row(r);  // may be z itself: every z_v is read before dz_v is written
    for (std::uint32_t v = 0; v < tokens; ++v) {
      const bool in_set = v >= first && v < last && spec.mask.allows(spec.layout, r, v);
      if (!in_set || !s.has_mass() || w == 0.0) {
        dz[v] = T(0);
        continue;
      }
      const double p = s.probability(static_cast<double>(z[v]));
      const double target = v == t ? 1.0 : 0.0;
      const double top = v == s.argmax ? 1.0 : 0.0;
      dz[v] = static_cast<T>(w * (p - (1.0 - eps_ls) * target - eps_ls / k + eps_ms * (top - 1.0 / k)));
    }
  }
  if (!io.total.empty()) io.total(0) = static_cast<T>(labelgraph::detail::chunked_total(tensor_view<const T, 1>(io.loss)));
}

// --- dense operations (dense_backend) -------------------------------------------

/// C = α·op(A)·op(B) + β·C, op(X) = X or Xᵀ; β = 0 ignores C's old contents (BLAS).
template <class T>
void gemm_kernel(const reference&, transpose ta, transpose tb, T alpha, tensor_view<const T, 2> a,
                 tensor_view<const T, 2> b, T beta, tensor_view<T, 2> c) noexcept {
  const std::size_t inner = ta == transpose::no ? a.extent(1) : a.extent(0);
  for (std::size_t i = 0; i < c.extent(0); ++i) {
    for (std::size_t j = 0; j < c.extent(1); ++j) {
      double sum = 0.0;  // Σ_k op(A)(i,k) · op(B)(k,j)
      for (std::size_t k = 0; k < inner; ++k) {
        const double a_ik = static_cast<double>(ta == transpose::no ? a(i, k) : a(k, i));
        const double b_kj = static_cast<double>(tb == transpose::no ? b(k, j) : b(j, k));
        sum += a_ik * b_kj;
      }
      const double old = beta == T(0) ? 0.0 : static_cast<double>(beta) * static_cast<double>(c(i, j));
      c(i, j) = static_cast<T>(static_cast<double>(alpha) * sum + old);
    }
  }
}

/// x(i,j) += bias(j).
template <class T>
void add_bias_kernel(const reference&, tensor_view<const T, 1> bias, tensor_view<T, 2> x) noexcept {
  for (std::size_t i = 0; i < x.extent(0); ++i) {
    for (std::size_t j = 0; j < x.extent(1); ++j) x(i, j) += bias(j);
  }
}

/// sums(j) = Σ_i x(i,j): the bias gradient.
template <class T>
void column_sum_kernel(const reference&, tensor_view<const T, 2> x, tensor_view<T, 1> sums) noexcept {
  for (std::size_t j = 0; j < x.extent(1); ++j) {
    double sum = 0.0;
    for (std::size_t i = 0; i < x.extent(0); ++i) sum += static_cast<double>(x(i, j));
    sums(j) = static_cast<T>(sum);
  }
}

/// out = a + b.
template <class T>
void add_kernel(const reference&, tensor_view<const T, 2> a, tensor_view<const T, 2> b, tensor_view<T, 2> out) noexcept {
  for (std::size_t i = 0; i < out.extent(0); ++i) {
    for (std::size_t j = 0; j < out.extent(1); ++j) out(i, j) = a(i, j) + b(i, j);
  }
}

/// out = a ⊙ b.
template <class T>
void multiply_kernel(const reference&, tensor_view<const T, 2> a, tensor_view<const T, 2> b,
                     tensor_view<T, 2> out) noexcept {
  for (std::size_t i = 0; i < out.extent(0); ++i) {
    for (std::size_t j = 0; j < out.extent(1); ++j) out(i, j) = a(i, j) * b(i, j);
  }
}

/// x ← α·x.
template <class T>
void scale_kernel(const reference&, T alpha, tensor_view<T, 2> x) noexcept {
  for (std::size_t i = 0; i < x.extent(0); ++i) {
    for (std::size_t j = 0; j < x.extent(1); ++j) x(i, j) *= alpha;
  }
}

namespace reference_detail {

/// f(x) for each activation.
inline double activate(activation kind, double x) noexcept {
  switch (kind) {
    case activation::identity: return x;
    case activation::tanh: return std::tanh(x);
    case activation::sigmoid: return 1.0 / (1.0 + std::exp(-x));
    case activation::relu: return x > 0.0 ? x : 0.0;
  }
  return x;
}

/// f'(x) written with y = f(x): 1, 1 − y², y(1 − y), [y > 0].
inline double derivative_from_output(activation kind, double y) noexcept {
  switch (kind) {
    case activation::identity: return 1.0;
    case activation::tanh: return 1.0 - y * y;
    case activation::sigmoid: return y * (1.0 - y);
    case activation::relu: return y > 0.0 ? 1.0 : 0.0;
  }
  return 1.0;
}

}  // namespace reference_detail

/// y = f(x).
template <class T>
void activation_kernel(const reference&, activation kind, tensor_view<const T, 2> x, tensor_view<T, 2> y) noexcept {
  for (std::size_t i = 0; i < y.extent(0); ++i) {
    for (std::size_t j = 0; j < y.extent(1); ++j) {
      y(i, j) = static_cast<T>(reference_detail::activate(kind, static_cast<double>(x(i, j))));
    }
  }
}

/// grad_x = grad_y ⊙ f'(x), with f' expressed through the output y.
template <class T>
void activation_backward_kernel(const reference&, activation kind, tensor_view<const T, 2> y,
                                tensor_view<const T, 2> grad_y, tensor_view<T, 2> grad_x) noexcept {
  for (std::size_t i = 0; i < grad_x.extent(0); ++i) {
    for (std::size_t j = 0; j < grad_x.extent(1); ++j) {
      const double slope = reference_detail::derivative_from_output(kind, static_cast<double>(y(i, j)));
      grad_x(i, j) = static_cast<T>(static_cast<double>(grad_y(i, j)) * slope);
    }
  }
}

static_assert(backend<reference>);
static_assert(dense_backend<reference>);

}  // namespace labelgraph::backends
