#pragma once
/// \file
/// Row kernels of the xtensor backend, written with xtensor: every row is an
/// `xt::adapt`ed view of the caller's memory (no copy). Updates of long spans
/// are xtensor expressions on the span adapted in place (`adapt_span`);
/// reductions, the exps / logs of a row, and the updates of shorter spans are
/// xsimd batches (xtensor's SIMD layer) over the adaptor's storage. Why not
/// expressions everywhere, measured on Zen 5: xtensor's lazy reducers walk a
/// stepper element by element (5x slower), an assignment to an
/// `xt::view(row, xt::range(b, e))` runs a scalar loop, and one to an adapted
/// span vectorises but costs about 20 ns to set up — 3x the arithmetic of a
/// 16-token group.
///
/// The algorithm is the cpu backend's 3-pass form (max per group, exp over the
/// row, normalise per group; see backends/cpu/.../row_kernels.hpp for the
/// formulas and the edge cases: -inf, empty sets, NaN confined to its group).

#include "labelgraph/config.hpp"

LABELGRAPH_SIMD_WARNINGS_OFF

#include <xsimd/xsimd.hpp>
#include <xtensor/xadapt.hpp>
#include <xtensor/xmath.hpp>
#include <xtensor/xnoalias.hpp>
#include <xtensor/xreducer.hpp>
#include <xtensor/xview.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>

#include "labelgraph/backend/row_numerics.hpp"
#include "labelgraph/backends/xtensor/exp.hpp"

namespace labelgraph::backends::xtensor_detail {

/// A row of V elements at `data`, adapted without a copy.
template <class T>
[[nodiscard]] auto adapt_row(T* data, std::size_t length) noexcept {
  return xt::adapt(data, length, xt::no_ownership(), std::array<std::size_t, 1>{length});
}

/// The span [b, e) of a row, adapted without a copy: a 1-D xtensor whose
/// expressions xtensor assigns with xsimd.
template <class T>
[[nodiscard]] auto adapt_span(T* row, std::size_t b, std::size_t e) noexcept {
  return xt::adapt(row + b, e - b, xt::no_ownership(), std::array<std::size_t, 1>{e - b});
}

/// Spans at least this long are updated by xtensor expressions, shorter ones
/// by `batch_map` (an expression's setup is then under a tenth of its work).
inline constexpr std::size_t expression_min_tokens = 1024;

using detail::group_shift;
using detail::inverse_or_zero;
using detail::is_allowed;
using detail::minus_infinity;

/// Elements per xsimd batch (the widest the build targets).
template <class T>
inline constexpr std::uint32_t batch_size = static_cast<std::uint32_t>(xsimd::batch<T>::size);

/// out[i] = op(in[i]...) on [b, e): xsimd batches, then the scalar tail
/// (`op` takes batches and scalars alike).
template <class T, class Op, class... In>
inline void batch_map(T* out, std::size_t b, std::size_t e, const Op& op, const In*... in) noexcept {
  constexpr std::size_t W = batch_size<T>;
  std::size_t i = b;
  for (; i + W <= e; i += W) op(xsimd::batch<T>::load_unaligned(in + i)...).store_unaligned(out + i);
  for (; i < e; ++i) out[i] = op(in[i]...);
}

/// out = op(in...) on the span [b, e): an xtensor expression on the adapted
/// spans when it is long, `batch_map` otherwise (`op` takes xtensor
/// expressions, batches and scalars alike; `out` may be one of the inputs).
template <class T, class Op, class... In>
inline void update_span(T* out, std::size_t b, std::size_t e, const Op& op, const In*... in) {
  if (e - b >= expression_min_tokens) {
    xt::noalias(adapt_span(out, b, e)) = op(adapt_span(in, b, e)...);
  } else {
    batch_map(out, b, e, op, in...);
  }
}

/// x[i] = exp(x[i]) on [first, last) with xsimd batches; the tail goes through
/// a padded batch so every element takes the same code path.
template <class T>
inline void exp_in_place(T* x, std::size_t first, std::size_t last) noexcept {
  constexpr std::size_t W = batch_size<T>;
  std::size_t i = first;
  for (; i + W <= last; i += W) xsimd::exp(xsimd::batch<T>::load_unaligned(x + i)).store_unaligned(x + i);
  if (i < last) {
    alignas(64) std::array<T, W> buffer{};
    std::copy(x + i, x + last, buffer.begin());
    xsimd::exp(xsimd::batch<T>::load_aligned(buffer.data())).store_aligned(buffer.data());
    std::copy(buffer.begin(), buffer.begin() + static_cast<std::ptrdiff_t>(last - i), x + i);
  }
}

/// x[i] = log(x[i]) on [0, n) with xsimd batches (log 0 = -inf); the tail
/// through a batch padded with ones.
template <class T>
inline void log_in_place(T* x, std::size_t n) noexcept {
  constexpr std::size_t W = batch_size<T>;
  std::size_t i = 0;
  for (; i + W <= n; i += W) xsimd::log(xsimd::batch<T>::load_unaligned(x + i)).store_unaligned(x + i);
  if (i < n) {
    alignas(64) std::array<T, W> buffer;
    buffer.fill(T(1));
    std::copy(x + i, x + n, buffer.begin());
    xsimd::log(xsimd::batch<T>::load_aligned(buffer.data())).store_aligned(buffer.data());
    std::copy(buffer.begin(), buffer.begin() + static_cast<std::ptrdiff_t>(n - i), x + i);
  }
}

/// max of x[0, n), n >= one batch, by xsimd batches.
template <class T>
inline T batch_max(const T* x, std::size_t n) noexcept {
  constexpr std::size_t W = batch_size<T>;
  auto best = xsimd::batch<T>::load_unaligned(x);
  std::size_t i = W;
  for (; i + W <= n; i += W) best = xsimd::max(best, xsimd::batch<T>::load_unaligned(x + i));
  alignas(64) std::array<T, W> lanes;
  best.store_aligned(lanes.data());
  T result = lanes[0];
  for (std::size_t k = 1; k < W; ++k) result = std::max(result, lanes[k]);  // xsimd 8 has no horizontal max
  for (; i < n; ++i) result = std::max(result, x[i]);
  return result;
}

/// A sum of xsimd batches whose float partial sum is flushed into a double
/// total every 16 batches: long float sums would otherwise drift past the
/// 1e-6 the backends promise against the reference. `start` is a first
/// partial sum, not counted among the 16.
template <class T>
class flushed_batch_sum {
public:
  explicit flushed_batch_sum(const xsimd::batch<T>& start = xsimd::batch<T>(T(0))) noexcept : partial_(start) {}

  void add(const xsimd::batch<T>& x) noexcept {
    partial_ += x;
    if (++since_flush_ == 16) {
      total_ += static_cast<double>(xsimd::hadd(partial_));
      partial_ = xsimd::batch<T>(T(0));
      since_flush_ = 0;
    }
  }

  /// The total so far, in double (scalar tails are added to it by the caller).
  [[nodiscard]] double total() const noexcept { return total_ + static_cast<double>(xsimd::hadd(partial_)); }

private:
  xsimd::batch<T> partial_;
  double total_ = 0;
  unsigned since_flush_ = 0;
};

/// Σ x[0, n), n >= one batch, by xsimd batches (`flushed_batch_sum`).
template <class T>
inline T batch_sum(const T* x, std::size_t n) noexcept {
  constexpr std::size_t W = batch_size<T>;
  flushed_batch_sum<T> sum;
  std::size_t i = 0;
  for (; i + W <= n; i += W) sum.add(xsimd::batch<T>::load_unaligned(x + i));
  double total = sum.total();
  for (; i < n; ++i) total += static_cast<double>(x[i]);
  return static_cast<T>(total);
}

/// out[i] = exp(z[i] − shift) on [b, e), returning Σ out: the shift, exp and
/// sum of an unmasked set in one pass of xsimd batches (the sum a
/// `flushed_batch_sum`); the tail through a padded batch.
template <class T>
inline T exp_shifted_sum(const T* z, T* out, std::size_t b, std::size_t e, T shift) noexcept {
  using B = xsimd::batch<T>;
  constexpr std::size_t W = batch_size<T>;
  const B amount(shift);
  flushed_batch_sum<T> sum;
  std::size_t i = b;
  for (; i + W <= e; i += W) {
    const B x = xsimd::exp(B::load_unaligned(z + i) - amount);
    x.store_unaligned(out + i);
    sum.add(x);
  }
  double total = sum.total();
  if (i < e) {
    alignas(64) std::array<T, W> buffer{};
    std::copy(z + i, z + e, buffer.begin());
    (xsimd::exp(B::load_aligned(buffer.data()) - amount)).store_aligned(buffer.data());
    for (std::size_t k = 0; k < e - i; ++k) total += static_cast<double>(out[i + k] = buffer[k]);
  }
  return static_cast<T>(total);
}

/// Σ a·b over [0, n), n >= one batch, by xsimd batches.
template <class T>
inline T batch_dot(const T* a, const T* b, std::size_t n) noexcept {
  constexpr std::size_t W = batch_size<T>;
  xsimd::batch<T> partial(T(0));
  std::size_t i = 0;
  for (; i + W <= n; i += W) {
    partial = xsimd::fma(xsimd::batch<T>::load_unaligned(a + i), xsimd::batch<T>::load_unaligned(b + i), partial);
  }
  T total = xsimd::hadd(partial);
  for (; i < n; ++i) total += a[i] * b[i];
  return total;
}

/// The ops on one group of an adapted row: xtensor views for groups of at
/// least one batch, the adaptor's elements for shorter ones.
template <class Row>
struct group_ops {
  using value_type = typename std::decay_t<Row>::value_type;
  using T = value_type;

  /// max over the allowed tokens of [b, e) (-inf when none). Long groups: xsimd
  /// batches over the adaptor's storage (xtensor's lazy `amax` walks a stepper
  /// element by element, 5x slower here).
  static T max(const Row& z, std::size_t b, std::size_t e, const std::uint8_t* allowed) {
    if (allowed == nullptr && e - b >= batch_size<T>) return batch_max(z.data() + b, e - b);
    // Short groups: the adaptor's storage directly (element access through
    // the adaptor's strides measured 3x slower in these tiny loops).
    const T* values = z.data();
    T best = minus_infinity<T>;
    if (allowed == nullptr) {
      for (std::size_t v = b; v < e; ++v) best = std::max(best, values[v]);
    } else {
      for (std::size_t v = b; v < e; ++v) best = std::max(best, allowed[v] != 0 ? values[v] : minus_infinity<T>);
    }
    return best;
  }
  /// Σ x over [b, e), accumulated in double (float sums of long groups would
  /// otherwise drift past the 1e-6 the backends promise against the reference).
  static T sum(const Row& x, std::size_t b, std::size_t e) {
    if (e - b >= batch_size<T>) return batch_sum(x.data() + b, e - b);
    const T* values = x.data();
    double total = 0;
    for (std::size_t v = b; v < e; ++v) total += static_cast<double>(values[v]);
    return static_cast<T>(total);
  }
  /// out = allowed ? z − shift : −inf on [b, e).
  template <class Out>
  static void shift(const Row& z, Out& out, T amount, std::size_t b, std::size_t e, const std::uint8_t* allowed) {
    const T* in = z.data();
    T* result = out.data();
    if (allowed != nullptr) {
      for (std::size_t v = b; v < e; ++v) result[v] = allowed[v] != 0 ? in[v] - amount : minus_infinity<T>;
    } else {
      update_span(result, b, e, [amount](const auto& x) { return x - amount; }, in);
    }
  }
  /// x *= factor on [b, e).
  template <class Out>
  static void scale(Out& x, T factor, std::size_t b, std::size_t e) {
    T* values = x.data();
    update_span(values, b, e, [factor](const auto& v) { return v * factor; }, static_cast<const T*>(values));
  }
};

/// x[v] = value for the masked-out tokens of [b, e): the rare NaN path.
template <class T>
inline void reset_masked(T* x, std::size_t b, std::size_t e, const std::uint8_t* allowed, T value) noexcept {
  for (std::size_t v = b; v < e; ++v) {
    if (allowed[v] == 0) x[v] = value;
  }
}

/// True when an allowed token of [b, e) holds a NaN logit.
template <class T>
inline bool holds_nan(const T* z, std::size_t b, std::size_t e, const std::uint8_t* allowed) noexcept {
  for (std::size_t v = b; v < e; ++v) {
    if (is_allowed(allowed, v) && std::isnan(z[v])) return true;
  }
  return false;
}


/// Block softmax of one row: m_g = max_{g∩M} z; y = exp(z − m_g) (0 outside M); y /= Σ_g y.
template <class T>
void block_softmax_row(const T* z_data, T* y_data, std::size_t length, const std::uint32_t* offsets,
                       std::uint32_t groups, const std::uint8_t* allowed) {
  const auto z = adapt_row(z_data, length);
  auto y = adapt_row(y_data, length);
  using ops = group_ops<decltype(z)>;
  for (std::uint32_t g = 0; g < groups; ++g) {
    ops::shift(z, y, group_shift(ops::max(z, offsets[g], offsets[g + 1], allowed)), offsets[g], offsets[g + 1], allowed);
  }
  exp_in_place(y_data, offsets[0], offsets[groups]);
  for (std::uint32_t g = 0; g < groups; ++g) {
    const T inverse = inverse_or_zero(group_ops<decltype(y)>::sum(y, offsets[g], offsets[g + 1]));
    ops::scale(y, inverse, offsets[g], offsets[g + 1]);
    // A NaN in the set makes the factor NaN, and 0 · NaN would leak it into
    // the masked-out tokens, which stay 0 (rare path: one test per group).
    if (allowed != nullptr && std::isnan(inverse)) reset_masked(y_data, offsets[g], offsets[g + 1], allowed, T(0));
  }
}

/// Block log-softmax of one row: y = z − m_g − log Σ_{g∩M} exp(z − m_g); −inf outside M
/// and in a group without allowed tokens. `work` holds V + groups elements.
template <class T>
void block_log_softmax_row(const T* z_data, T* y_data, std::size_t length, const std::uint32_t* offsets,
                           std::uint32_t groups, const std::uint8_t* allowed, T* work) {
  const auto z = adapt_row(z_data, length);
  auto y = adapt_row(y_data, length);
  auto exps = adapt_row(work, length);
  auto log_sums = adapt_row(work + length, groups);
  using ops = group_ops<decltype(z)>;
  for (std::uint32_t g = 0; g < groups; ++g) {
    ops::shift(z, y, group_shift(ops::max(z, offsets[g], offsets[g + 1], allowed)), offsets[g], offsets[g + 1], allowed);
  }
  // The sets' span: the whole row, or one large group of a tiled call.
  std::copy(y_data + offsets[0], y_data + offsets[groups], work + offsets[0]);
  exp_in_place(work, offsets[0], offsets[groups]);
  for (std::uint32_t g = 0; g < groups; ++g) log_sums(g) = group_ops<decltype(exps)>::sum(exps, offsets[g], offsets[g + 1]);
  log_in_place(work + length, groups);
  for (std::uint32_t g = 0; g < groups; ++g) {
    if (log_sums(g) == minus_infinity<T>) {
      xt::view(y, xt::range(offsets[g], offsets[g + 1])) = minus_infinity<T>;
    } else {
      group_ops<decltype(y)>::shift(y, y, log_sums(g), offsets[g], offsets[g + 1], nullptr);
      // A NaN in the set: −inf − NaN would leak into the masked-out tokens, which stay −inf.
      if (allowed != nullptr && std::isnan(log_sums(g))) {
        reset_masked(y_data, offsets[g], offsets[g + 1], allowed, minus_infinity<T>);
      }
    }
  }
}

/// Softmax backward of one row: dz = y ⊙ (dy − Σ_{g∩M} y·dy), 0 outside M.
template <class T>
void block_softmax_backward_row(const T* y_data, const T* dy_data, T* dz_data, std::size_t length,
                                const std::uint32_t* offsets, std::uint32_t groups, const std::uint8_t* allowed) {
  const auto y = adapt_row(y_data, length);
  const auto dy = adapt_row(dy_data, length);
  auto dz = adapt_row(dz_data, length);
  for (std::uint32_t g = 0; g < groups; ++g) {
    const std::size_t b = offsets[g];
    const std::size_t e = offsets[g + 1];
    T s = 0;
    if (e - b >= batch_size<T>) {
      s = batch_dot(y.data() + b, dy.data() + b, e - b);
    } else {
      for (std::size_t v = b; v < e; ++v) s += y_data[v] * dy_data[v];
    }
    if (allowed != nullptr) {
      for (std::size_t v = b; v < e; ++v) dz_data[v] = allowed[v] != 0 ? y_data[v] * (dy_data[v] - s) : T(0);
    } else {
      update_span(dz_data, b, e, [s](const auto& yv, const auto& dyv) { return yv * (dyv - s); }, y_data, dy_data);
    }
  }
}

/// Log-softmax backward of one row: dz = dy − exp(log y) ⊙ Σ_{g∩M} dy, 0 outside M
/// and 0 on a set without mass (all −inf: Σ_N p = 0).
/// `work` holds V elements.
template <class T>
void block_log_softmax_backward_row(const T* log_y_data, const T* dy_data, T* dz_data, std::size_t length,
                                    const std::uint32_t* offsets, std::uint32_t groups, const std::uint8_t* allowed,
                                    T* work) {
  const auto log_y = adapt_row(log_y_data, length);
  const auto dy = adapt_row(dy_data, length);
  auto dz = adapt_row(dz_data, length);
  auto p = adapt_row(work, length);
  xt::noalias(p) = log_y;
  exp_in_place(work, offsets[0], offsets[groups]);
  for (std::uint32_t g = 0; g < groups; ++g) {
    const std::size_t b = offsets[g];
    const std::size_t e = offsets[g + 1];
    if (allowed == nullptr && e - b >= batch_size<T>) {
      const T s = batch_sum(dy.data() + b, e - b);
      if (batch_sum(p.data() + b, e - b) == T(0)) {
        std::fill(dz_data + b, dz_data + e, T(0));
      } else {
        update_span(dz_data, b, e, [s](const auto& dyv, const auto& pv) { return dyv - pv * s; }, dy_data,
                    static_cast<const T*>(work));
      }
      continue;
    }
    T s = 0;
    T mass = 0;  // Σ_N p: 0 for a set without mass, whose gradient is 0
    for (std::size_t v = b; v < e; ++v) {
      s += is_allowed(allowed, v) ? dy(v) : T(0);
      mass += is_allowed(allowed, v) ? p(v) : T(0);
    }
    if (mass == T(0)) {
      xt::view(dz, xt::range(b, e)) = T(0);
    } else if (allowed == nullptr) {
      for (std::size_t v = b; v < e; ++v) dz(v) = dy(v) - p(v) * s;
    } else {
      for (std::size_t v = b; v < e; ++v) dz(v) = allowed[v] != 0 ? dy(v) - p(v) * s : T(0);
    }
  }
}

/// Loss and lse of one row of the fused NLL.
template <class T>
struct nll_row_result {
  T loss;
  T lse;
};

/// Lane numbers 0, 1, ... of a batch of T (enough for 16 lanes).
template <class T>
[[nodiscard]] inline xsimd::batch<T> lane_numbers() noexcept {
  alignas(64) static constexpr T numbers[16] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
  static_assert(batch_size<T> <= 16);
  return xsimd::batch<T>::load_aligned(numbers);
}

/// Lane i ^ Distance: the butterfly step of a horizontal reduction.
template <unsigned Distance>
struct butterfly_lane {
  static constexpr unsigned get(unsigned i, unsigned) { return i ^ Distance; }
};

/// max over the lanes of x (xsimd 8 has no horizontal max): log2 W swizzles.
template <class T, unsigned Distance = batch_size<T> / 2>
[[nodiscard, gnu::always_inline]] inline T horizontal_max(const xsimd::batch<T>& x) noexcept {
  if constexpr (Distance == 0) {
    return x.get(0);
  } else {
    using lane_index = xsimd::batch<std::conditional_t<sizeof(T) == 4, std::uint32_t, std::uint64_t>>;
    constexpr auto partner = xsimd::make_batch_constant<lane_index, butterfly_lane<Distance>>();
    return horizontal_max<T, Distance / 2>(xsimd::max(x, xsimd::swizzle(x, partner)));
  }
}

/// The sum of x's lanes in every lane: log2 W butterfly steps, no trip
/// through a scalar (a row's sum that scales its own batch).
template <class T, unsigned Distance = batch_size<T> / 2>
[[nodiscard, gnu::always_inline]] inline xsimd::batch<T> all_lanes_sum(const xsimd::batch<T>& x) noexcept {
  if constexpr (Distance == 0) {
    return x;
  } else {
    using lane_index = xsimd::batch<std::conditional_t<sizeof(T) == 4, std::uint32_t, std::uint64_t>>;
    constexpr auto partner = xsimd::make_batch_constant<lane_index, butterfly_lane<Distance>>();
    return all_lanes_sum<T, Distance / 2>(x + xsimd::swizzle(x, partner));
  }
}

/// Fused NLL of one row over N = [b, e) ∩ M (formulas: backend/kernels.hpp):
/// ε_target = weight of 1_t in the gradient, spread = mass spread uniformly
/// over N, max_bonus = ε put on the argmax (MaxSup). Writes grad on [b, e)
/// only; `grad` may equal `z`.
template <class T>
nll_row_result<T> block_nll_row(const T* z_data, T* grad_data, std::size_t length, std::size_t b, std::size_t e,
                                std::size_t target, T weight, const std::uint8_t* allowed, int regulariser, T epsilon) {
  const auto z = adapt_row(z_data, length);
  auto grad = adapt_row(grad_data, length);
  using ops = group_ops<decltype(z)>;
  // Pass 1 over N: max, first argmax, Σ z, |N|, z_t.
  T max = minus_infinity<T>;
  std::size_t argmax = target;
  T logit_sum = 0;
  std::size_t count = 0;
  if (allowed == nullptr) {
    max = ops::max(z, b, e, nullptr);
    count = e - b;
    if (regulariser != 0) logit_sum = ops::sum(z, b, e);
    if (regulariser == 2 && max != minus_infinity<T>) {
      const auto set = xt::view(z, xt::range(b, e));
      argmax = b + static_cast<std::size_t>(std::find(set.cbegin(), set.cend(), max) - set.cbegin());
    }
  } else {
    for (std::size_t v = b; v < e; ++v) {
      if (allowed[v] == 0) continue;
      if (z(v) > max) {
        max = z(v);
        argmax = v;
      }
      logit_sum += z(v);
      ++count;
    }
  }
  const T target_logit = z(target);
  if (max == minus_infinity<T>) {  // no finite or +inf logit: the maximum skipped NaNs
    if (holds_nan(z_data, b, e, allowed)) {  // a NaN is the set's only mass: the whole set is NaN
      const T nan = std::numeric_limits<T>::quiet_NaN();
      for (std::size_t v = b; v < e; ++v) grad(v) = is_allowed(allowed, v) ? weight * nan : T(0);
      return {weight == T(0) ? T(0) : nan, nan};
    }
    // A set without mass (all −inf or masked): p_t = 0.
    xt::view(grad, xt::range(b, e)) = T(0);
    return {weight == T(0) ? T(0) : weight * std::numeric_limits<T>::infinity(), minus_infinity<T>};
  }
  // Pass 2: e = exp(z − m) into the gradient, s = Σ e.
  const T shift = group_shift(max);
  T sum;
  if (allowed == nullptr) {
    sum = exp_shifted_sum(z_data, grad_data, b, e, shift);
  } else {
    ops::shift(z, grad, shift, b, e, allowed);
    exp_in_place(grad_data, b, e);
    sum = group_ops<decltype(grad)>::sum(grad, b, e);
  }
  const T lse = shift + std::log(sum);
  const T uniform = count == 0 ? T(0) : T(1) / static_cast<T>(count);
  const T mean_logit = logit_sum * uniform;
  T loss = lse - target_logit;
  T target_pull = 1;
  T spread = 0;
  if (regulariser == 1) {  // label smoothing
    loss = (T(1) - epsilon) * loss + epsilon * (lse - mean_logit);
    target_pull = T(1) - epsilon;
    spread = epsilon * uniform;
  } else if (regulariser == 2) {  // MaxSup
    loss += epsilon * (max - mean_logit);
    spread = epsilon * uniform;
  }
  // Pass 3: grad = w (e / s − spread) on N, one-hot corrections.
  const T inverse = inverse_or_zero(sum);
  if (allowed == nullptr) {
    update_span(grad_data, b, e, [=](const auto& x) { return weight * (x * inverse - spread); },
                static_cast<const T*>(grad_data));
  } else {
    for (std::size_t v = b; v < e; ++v) grad(v) = allowed[v] != 0 ? weight * (grad(v) * inverse - spread) : T(0);
  }
  grad(target) -= weight * target_pull;
  if (regulariser == 2) grad(argmax) += weight * epsilon;
  return {weight == T(0) ? T(0) : weight * loss, lse};
}

/// Batches a set may span to take `block_nll_row_in_batches`.
inline constexpr std::size_t nll_register_batches = 4;

/// `block_nll_row` for a set [b, e) of at most `nll_register_batches` batches
/// and no mask, written for speed (the pet and mix graphs' groups): the set is
/// loaded into batches once (lanes past its end are −inf), then max, exp, sums
/// and the gradient stay in registers; the gradient's one-hot terms are
/// subtracted before the store. Writes the gradient on [b, e) only, or whole
/// batches past e when the caller zeroed the row (`row_is_zero`: those lanes
/// hold 0). `grad` may equal `z`.
/// Same formulas and edge cases as `block_nll_row`, which it calls for a set
/// without mass.
template <class T>
nll_row_result<T> block_nll_row_in_batches(const T* z, T* grad, std::size_t length, std::size_t b, std::size_t e,
                                           std::size_t target, T weight, int regulariser, T epsilon, bool row_is_zero) {
  using B = xsimd::batch<T>;
  constexpr std::size_t W = batch_size<T>;
  const std::size_t count = e - b;
  const std::size_t batches = (count + W - 1) / W;
  const B lanes = lane_numbers<T>();
  const B minus_inf(minus_infinity<T>);
  B x[nll_register_batches];
  alignas(64) std::array<T, W> buffer;
  B max_batch = minus_inf;
  for (std::size_t i = 0; i < batches; ++i) {
    const std::size_t first = b + i * W;
    if (first + W <= length) {
      x[i] = B::load_unaligned(z + first);
    } else {  // the last batch of the row: never read past its end
      buffer.fill(T(0));
      std::copy(z + first, z + length, buffer.begin());
      x[i] = B::load_aligned(buffer.data());
    }
    x[i] = xsimd::select(lanes < B(static_cast<T>(count - i * W)), x[i], minus_inf);
    max_batch = xsimd::max(max_batch, x[i]);
  }
  const T max = horizontal_max(max_batch);
  if (max == minus_infinity<T>) {  // no mass, or a NaN as the only mass: the general row's rare paths
    return block_nll_row(z, grad, length, b, e, target, weight, nullptr, regulariser, epsilon);
  }
  const T target_logit = z[target];
  const B shift(group_shift(max));
  B sum_batch(T(0));
  for (std::size_t i = 0; i < batches; ++i) {
    x[i] = exp_nonpositive(x[i] - shift);  // exp(z − m), 0 outside the set
    sum_batch += x[i];
  }
  const T sum = xsimd::hadd(sum_batch);
  const T lse = group_shift(max) + std::log(sum);
  T loss = lse - target_logit;
  T target_pull = 1;
  T spread = 0;
  std::size_t argmax = target;
  if (regulariser != 0) {
    const T uniform = T(1) / static_cast<T>(count);
    double logit_sum = 0;
    for (std::size_t v = b; v < e; ++v) logit_sum += static_cast<double>(z[v]);
    const T mean_logit = static_cast<T>(logit_sum) * uniform;
    spread = epsilon * uniform;
    if (regulariser == 1) {
      loss = (T(1) - epsilon) * loss + epsilon * (lse - mean_logit);
      target_pull = T(1) - epsilon;
    } else {
      loss += epsilon * (max - mean_logit);
      argmax = static_cast<std::size_t>(std::find(z + b, z + e, max) - z);
    }
  }
  // grad = w (e / s − spread) on the set, − w·pull at t, + w·ε at the argmax (MaxSup).
  const B scale(weight * inverse_or_zero(sum));
  const B offset(weight * spread);
  const B target_lane(static_cast<T>(target - b));
  const B argmax_lane(static_cast<T>(argmax - b));
  const B pull(weight * target_pull);
  const B bonus(regulariser == 2 ? weight * epsilon : T(0));
  for (std::size_t i = 0; i < batches; ++i) {
    const B lane = lanes + B(static_cast<T>(i * W));
    B g = xsimd::select(lane < B(static_cast<T>(count)), x[i] * scale - offset, B(T(0)));
    g -= xsimd::select(lane == target_lane, pull, B(T(0)));
    g += xsimd::select(lane == argmax_lane, bonus, B(T(0)));
    const std::size_t first = b + i * W;
    if (first + W <= e || (row_is_zero && first + W <= length)) {
      g.store_unaligned(grad + first);
    } else {
      g.store_aligned(buffer.data());
      std::copy(buffer.begin(), buffer.begin() + static_cast<std::ptrdiff_t>(e - first), grad + first);
    }
  }
  return {weight == T(0) ? T(0) : weight * loss, lse};
}

/// The fused NLL of one row: `block_nll_row_in_batches` for an unmasked set of
/// up to `nll_register_batches` batches, `block_nll_row` otherwise.
template <class T>
nll_row_result<T> fused_nll_row(const T* z, T* grad, std::size_t length, std::size_t b, std::size_t e,
                                std::size_t target, T weight, const std::uint8_t* allowed, int regulariser, T epsilon,
                                bool row_is_zero) {
  if (allowed == nullptr && e - b <= nll_register_batches * batch_size<T>) {
    return block_nll_row_in_batches(z, grad, length, b, e, target, weight, regulariser, epsilon, row_is_zero);
  }
  return block_nll_row(z, grad, length, b, e, target, weight, allowed, regulariser, epsilon);
}

}  // namespace labelgraph::backends::xtensor_detail

LABELGRAPH_SIMD_WARNINGS_ON
