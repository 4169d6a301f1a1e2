#pragma once
/// \file
/// The xtensor backend's planned block softmax, log-softmax and softmax
/// backward of unmasked rows: the steps of the shared `detail::row_plan`
/// (labelgraph/backend/row_plan.hpp) in xsimd batches of W lanes.
/// - A *window* of small groups is one batch. Its segmented max and sum
///   (`segmented_all`) are two scans of log2 W steps, run side by side: a
///   suffix scan ("combine with lane i + d when it is in my group") and a
///   prefix scan ("... lane i − d ..."), each step a swizzle and a select;
///   lane i's group total is its prefix combined with the suffix of lane
///   i + 1. xsimd 8 has no run-time permute to broadcast a group's first
///   lane, and two independent scans have half the latency of a scan
///   followed by a spread. The selects' masks are the window's, turned into
///   `batch_bool`s once per call (`window_masks`).
/// - A group of W + 1 .. 4W tokens is held in 2-4 batches: one read, one write.
/// - A longer group takes three passes (`normalise_streaming`).
/// Batches are whole loads and stores: the lanes past a step's tokens are
/// read, left out of its reductions, and written back unchanged (they belong
/// to later steps of the same row, which overwrite them; with `y == z` they
/// are still the input). A window that would pass the row's end is read and
/// written as the row's last batch instead, its masks shifted up (the lanes
/// below it keep the earlier steps' results); a group's last batch that
/// would pass the row's end, or any batch of a row shorter than one, goes
/// through a stack buffer, so no access leaves the row.
/// - Scans stop after the steps the window's largest group needs (a window
///   of groups of at most 4 tokens takes 2 of the 4 steps of 16 lanes).
///
/// Formulas (paper eq. 3, per group g, shift m_g = max_g z or 0 when that is −inf):
///   p_v = exp(z_v − m_g) / Σ_g exp(z − m_g)            (0 for a group without mass)
///   log p_v = (z_v − m_g) − log Σ_g exp(z − m_g)       (−inf for a group without mass)
/// Same edge cases as row_kernels.hpp: −inf logits, ±1e30, NaN kept in its group.

#include "labelgraph/config.hpp"

LABELGRAPH_SIMD_WARNINGS_OFF

#include <xsimd/xsimd.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <utility>
#include <vector>

#include "labelgraph/backend/prefetch.hpp"
#include "labelgraph/backend/row_plan.hpp"
#include "labelgraph/backends/xtensor/row_kernels.hpp"

namespace labelgraph::backends::xtensor_detail {

/// The row plan for batches of T.
template <class T>
using batch_row_plan = detail::row_plan<batch_size<T>>;

/// The lanes whose bit is set in `bits`.
template <class T>
[[nodiscard]] xsimd::batch_bool<T> lanes_of(std::uint32_t bits) noexcept {
  std::array<bool, batch_size<T>> lanes;
  for (std::uint32_t lane = 0; lane < batch_size<T>; ++lane) lanes[lane] = ((bits >> lane) & 1u) != 0;
  return xsimd::batch_bool<T>::load_unaligned(lanes.data());
}

/// The selects of one window's segmented reductions, and where its batch
/// starts. A window that would pass the end of a row of `length` tokens is
/// read and written as the row's last batch, `shift` lanes lower, with its
/// masks moved up by `shift`: no copy through a buffer at every row's end
/// (a row at least one batch long).
template <class T>
struct window_masks {
  using window_type = typename batch_row_plan<T>::window_type;
  static constexpr std::uint32_t steps = window_type::steps;

  xsimd::batch_bool<T> lanes;           ///< lanes holding tokens
  xsimd::batch_bool<T> suffix[steps];   ///< suffix scan, step s: lane i takes lane i + 2^s (same group)
  xsimd::batch_bool<T> prefix[steps];   ///< prefix scan, step s: lane i takes lane i − 2^s (same group)
  std::uint32_t shift = 0;              ///< the batch starts at the window's first token − shift
  std::uint32_t needed = 0;             ///< scan steps that combine anything: 2^needed >= the largest group

  window_masks(const window_type& w, std::size_t length) noexcept {
    constexpr std::uint32_t W = batch_size<T>;
    if (w.begin + W > length && length >= W) shift = static_cast<std::uint32_t>(w.begin + W - length);
    lanes = lanes_of<T>(w.lanes << shift);
    std::uint32_t head[W];  // lane of the first token of lane i's group, in the shifted batch
    for (std::uint32_t lane = 0; lane < W; ++lane) head[lane] = lane < shift ? lane : w.group_head[lane - shift] + shift;
    for (std::uint32_t s = 0; s < steps; ++s) {
      suffix[s] = lanes_of<T>(w.combine[s] << shift);
      std::uint32_t bits = 0;
      for (std::uint32_t lane = 1u << s; lane < W; ++lane) {
        if (lane - (1u << s) >= head[lane]) bits |= 1u << lane;
      }
      prefix[s] = lanes_of<T>(bits);
      if (w.combine[s] != 0) needed = s + 1;
    }
  }
};

/// A row plan with its windows' masks, rebuilt per call (storage reused).
template <class T>
struct planned_rows {
  batch_row_plan<T> plan;
  std::vector<window_masks<T>> masks;

  /// The plan of rows whose sets are [offsets[g], offsets[g + 1]), covering the row.
  void build(const std::uint32_t* offsets, std::uint32_t groups) {
    plan.build(offsets, groups);
    masks.clear();
    for (const auto& window : plan.windows) masks.emplace_back(window, offsets[groups]);
  }
};

/// Lane i takes lane (i + Distance) mod W.
template <unsigned Distance>
struct lane_below {
  static constexpr unsigned get(unsigned i, unsigned size) { return (i + Distance) % size; }
};
/// Lane i takes lane (i − Distance) mod W.
template <unsigned Distance>
struct lane_above {
  static constexpr unsigned get(unsigned i, unsigned size) { return (i + size - Distance) % size; }
};

template <class Lane, class T>
[[nodiscard, gnu::always_inline]] inline xsimd::batch<T> swizzled(const xsimd::batch<T>& x) noexcept {
  using lane_index = xsimd::batch<std::conditional_t<sizeof(T) == 4, std::uint32_t, std::uint64_t>>;
  return xsimd::swizzle(x, xsimd::make_batch_constant<lane_index, Lane>());
}

/// `combine` over each group of a window, in every lane of the group: the
/// prefix of lane i (its group's lanes up to i) combined with the suffix of
/// lane i + 1 (its group's lanes from i + 1 on, when i + 1 is in the group).
template <class T, class Combine>
[[nodiscard, gnu::always_inline]] inline xsimd::batch<T> segmented_all(const xsimd::batch<T>& x, const window_masks<T>& m,
                                                                     const Combine& combine) noexcept {
  xsimd::batch<T> suffix = x;
  xsimd::batch<T> prefix = x;
  [&]<std::size_t... S>(std::index_sequence<S...>) {
    ((S < m.needed ? (suffix = xsimd::select(m.suffix[S], combine(suffix, swizzled<lane_below<1u << S>>(suffix)), suffix),
                      prefix = xsimd::select(m.prefix[S], combine(prefix, swizzled<lane_above<1u << S>>(prefix)), prefix), 0)
                   : 0),
     ...);
  }(std::make_index_sequence<window_masks<T>::steps>());
  return xsimd::select(m.suffix[0], combine(prefix, swizzled<lane_below<1u>>(suffix)), prefix);
}

/// The batch at z + first: loaded directly, or through `buffer` (zeros past
/// the row) when it would pass the row's end.
template <class T>
[[nodiscard, gnu::always_inline]] inline xsimd::batch<T> load_in_row(const T* z, std::size_t first, std::size_t length,
                                                                   std::array<T, batch_size<T>>& buffer) noexcept {
  if (first + batch_size<T> <= length) return xsimd::batch<T>::load_unaligned(z + first);
  buffer.fill(T(0));
  std::copy(z + first, z + length, buffer.begin());
  return xsimd::batch<T>::load_unaligned(buffer.data());
}

/// Stores x at y + first, never past the row's end.
template <class T>
[[gnu::always_inline]] inline void store_in_row(const xsimd::batch<T>& x, T* y, std::size_t first, std::size_t length,
                                                std::array<T, batch_size<T>>& buffer) noexcept {
  if (first + batch_size<T> <= length) {
    x.store_unaligned(y + first);
    return;
  }
  x.store_unaligned(buffer.data());
  std::copy(buffer.begin(), buffer.begin() + static_cast<std::ptrdiff_t>(length - first), y + first);
}

/// The last batch of a group of `count` tokens at `begin`: how many whole
/// batches come before it, where it starts, and which of its lanes hold the
/// group's tokens (the others are left out and written back as they were).
template <class T>
struct last_batch {
  std::size_t before;
  std::size_t first;
  xsimd::batch_bool<T> inside;

  last_batch(std::size_t begin, std::size_t count) noexcept
      : before((count - 1) / batch_size<T>),
        first(begin + before * batch_size<T>),
        inside(lane_numbers<T>() < xsimd::batch<T>(static_cast<T>(count - before * batch_size<T>))) {}
};

/// The row's max M as every group's shift (`exp_below_row_max`), with the
/// forms the kernels take.
template <class T>
struct row_shift {
  xsimd::batch<T> max;    ///< M
  xsimd::batch<T> minus;  ///< −M
  xsimd::batch<T> floor;  ///< M − detail::exp_range<T>: exp(z − M) is 0 below it
  explicit row_shift(T m) noexcept : max(m), minus(-m), floor(m - detail::exp_range<T>) {}
};

/// The max of a row's `length` tokens (NaN, when one is NaN, makes the row
/// take each group's own max).
template <class T>
[[nodiscard]] T row_max(const T* z, std::size_t length) noexcept {
  using B = xsimd::batch<T>;
  constexpr std::size_t W = batch_size<T>;
  B even(minus_infinity<T>);
  B odd(minus_infinity<T>);
  std::size_t i = 0;
  for (; i + 2 * W <= length; i += 2 * W) {
    even = xsimd::max(B::load_unaligned(z + i), even);
    odd = xsimd::max(B::load_unaligned(z + i + W), odd);
  }
  if (i + W <= length) {
    even = xsimd::max(B::load_unaligned(z + i), even);
    i += W;
  }
  T best = horizontal_max(xsimd::max(even, odd));
  for (; i < length; ++i) best = z[i] > best || std::isnan(z[i]) ? z[i] : best;
  return best;
}

/// exp(z − M) to the accuracy of exp itself (formulas: row_plan.hpp, "the
/// row's max as the shift"): z raised to M − exp_range first (so −inf gives
/// 0, not NaN; `max` returns its second operand when one is NaN, so a NaN
/// stays NaN), the rounding error δ of a = z − M by TwoSum, exp(a)·(1 + δ).
template <class T>
[[nodiscard, gnu::always_inline]] inline xsimd::batch<T> exp_below_row_max(const xsimd::batch<T>& z,
                                                                         const row_shift<T>& shift) noexcept {
  using B = xsimd::batch<T>;
  const B x = xsimd::max(shift.floor, z);
  const B a = x - shift.max;
  const B x_part = a + shift.max;
  const B m_part = a - x_part;
  const B error = (x - x_part) + (shift.minus - m_part);
  const B e = exp_nonpositive(a);
  return xsimd::fma(e, error, e);
}

/// Probabilities of one window's groups under the row's shift; false
/// (nothing written) when one of its groups has less than
/// `detail::least_shared_mass` under it.
template <class T>
[[gnu::always_inline]] inline bool normalise_window_shared(const T* z, T* y, std::size_t length, std::size_t begin,
                                                           const window_masks<T>& m, const row_shift<T>& shift) noexcept {
  using B = xsimd::batch<T>;
  std::array<T, batch_size<T>> buffer;
  const std::size_t first = begin - m.shift;
  const B x = load_in_row(z, first, length, buffer);
  const B e = exp_below_row_max(xsimd::select(m.lanes, x, B(minus_infinity<T>)), shift);
  const B sum = segmented_all(e, m, [](const B& a, const B& b) { return a + b; });
  if (xsimd::any(m.lanes && !(sum >= B(detail::least_shared_mass<T>)))) return false;
  const B kept = m.shift == 0 ? x : load_in_row(static_cast<const T*>(y), first, length, buffer);
  store_in_row(xsimd::select(m.lanes, e / sum, kept), y, first, length, buffer);
  return true;
}

/// Normalises the groups of one window starting at token `begin`.
template <class T>
[[gnu::flatten]] void normalise_window(const T* z, T* y, std::size_t length, std::size_t begin, const window_masks<T>& m,
                      bool log_output) noexcept {
  using B = xsimd::batch<T>;
  const B minus_inf(minus_infinity<T>);
  const B zero(T(0));
  std::array<T, batch_size<T>> buffer;
  const std::size_t first = begin - m.shift;
  const B x = load_in_row(z, first, length, buffer);
  const B in_set = xsimd::select(m.lanes, x, minus_inf);
  const B max = segmented_all(in_set, m, [](const B& a, const B& b) { return xsimd::max(a, b); });
  const B shifted = in_set - xsimd::select(max == minus_inf, zero, max);
  const B e = exp_nonpositive(shifted);
  const B sum = segmented_all(e, m, [](const B& a, const B& b) { return a + b; });
  const auto empty = sum == zero;
  const B result = log_output ? xsimd::select(empty, minus_inf, shifted - xsimd::log(sum))
                              : e * xsimd::select(empty, zero, B(T(1)) / sum);
  // Lanes below a shifted window hold earlier steps' results: y's, kept.
  const B kept = m.shift == 0 ? x : load_in_row(static_cast<const T*>(y), first, length, buffer);
  store_in_row(xsimd::select(m.lanes, result, kept), y, first, length, buffer);
}

/// Normalises one group of `count` tokens at `begin`, held in `Batches` batches.
template <std::size_t Batches, class T>
[[gnu::flatten]] void normalise_in_batches(const T* z, T* y, std::size_t length, std::size_t begin, std::size_t count,
                          bool log_output) noexcept {
  using B = xsimd::batch<T>;
  constexpr std::size_t W = batch_size<T>;
  const B minus_inf(minus_infinity<T>);
  std::array<T, W> buffer;
  B x[Batches];
  for (std::size_t i = 0; i < Batches; ++i) x[i] = load_in_row(z, begin + i * W, length, buffer);
  const B last = x[Batches - 1];  // its lanes past the group are written back unchanged
  const auto tail = last_batch<T>(begin, count).inside;
  x[Batches - 1] = xsimd::select(tail, last, minus_inf);
  B max_batch = x[0];
  for (std::size_t i = 1; i < Batches; ++i) max_batch = xsimd::max(max_batch, x[i]);
  const B shift(group_shift(horizontal_max(max_batch)));
  B sum_batch(T(0));
  if (log_output) {
    for (std::size_t i = 0; i < Batches; ++i) sum_batch += exp_nonpositive(x[i] - shift);
    const T sum = xsimd::hadd(sum_batch);
    const B log_sum(sum == T(0) ? -minus_infinity<T> : std::log(sum));
    for (std::size_t i = 0; i < Batches; ++i) x[i] = (x[i] - shift) - log_sum;
  } else {
    for (std::size_t i = 0; i < Batches; ++i) {
      x[i] = exp_nonpositive(x[i] - shift);
      sum_batch += x[i];
    }
    const B inverse(inverse_or_zero(xsimd::hadd(sum_batch)));
    for (std::size_t i = 0; i < Batches; ++i) x[i] *= inverse;
  }
  x[Batches - 1] = xsimd::select(tail, x[Batches - 1], last);
  for (std::size_t i = 0; i < Batches; ++i) store_in_row(x[i], y, begin + i * W, length, buffer);
}

/// As `normalise_window_shared`, for one group held in `Batches` batches.
template <std::size_t Batches, class T>
[[gnu::always_inline]] inline bool normalise_in_batches_shared(const T* z, T* y, std::size_t length, std::size_t begin,
                                                               std::size_t count, const row_shift<T>& shift) noexcept {
  using B = xsimd::batch<T>;
  constexpr std::size_t W = batch_size<T>;
  std::array<T, W> buffer;
  B e[Batches];
  for (std::size_t i = 0; i + 1 < Batches; ++i) e[i] = exp_below_row_max(B::load_unaligned(z + begin + i * W), shift);
  const B last = load_in_row(z, begin + (Batches - 1) * W, length, buffer);  // its lanes past the group are written back unchanged
  const auto tail = last_batch<T>(begin, count).inside;
  e[Batches - 1] = exp_below_row_max(xsimd::select(tail, last, B(minus_infinity<T>)), shift);
  B sum_batch = e[0];
  for (std::size_t i = 1; i < Batches; ++i) sum_batch += e[i];
  const T sum = xsimd::hadd(sum_batch);
  if (!(sum >= detail::least_shared_mass<T>)) return false;
  const B inverse(T(1) / sum);
  for (std::size_t i = 0; i + 1 < Batches; ++i) (e[i] * inverse).store_unaligned(y + begin + i * W);
  store_in_row(xsimd::select(tail, e[Batches - 1] * inverse, last), y, begin + (Batches - 1) * W, length, buffer);
  return true;
}

/// Normalises one long group of `count` tokens at `begin` in three passes:
/// max; exp and sum (the exps stored for softmax); scale, or shift for
/// log-softmax. The last batch is loaded once, with its lanes past the group
/// left out and written back unchanged, so no pass has a scalar tail. The
/// sum is a `flushed_batch_sum`.
template <class T>
[[gnu::flatten]] void normalise_streaming(const T* z, T* y, std::size_t length, std::size_t begin, std::size_t count,
                                          bool log_output) noexcept {
  using B = xsimd::batch<T>;
  constexpr std::size_t W = batch_size<T>;
  const B minus_inf(minus_infinity<T>);
  const last_batch<T> tail(begin, count);
  const std::size_t full = tail.before;
  std::array<T, W> buffer;
  const B last_input = load_in_row(z, tail.first, length, buffer);
  const B last = xsimd::select(tail.inside, last_input, minus_inf);
  B max_batch = last;
  for (std::size_t i = 0; i < full; ++i) max_batch = xsimd::max(max_batch, B::load_unaligned(z + begin + i * W));
  const B shift(group_shift(horizontal_max(max_batch)));
  const B last_exp = exp_nonpositive(last - shift);
  flushed_batch_sum<T> exps(last_exp);
  for (std::size_t i = 0; i < full; ++i) {
    const B e = exp_nonpositive(B::load_unaligned(z + begin + i * W) - shift);
    if (!log_output) e.store_unaligned(y + begin + i * W);
    exps.add(e);
  }
  const T sum = static_cast<T>(exps.total());
  B result;
  if (log_output) {
    const B log_sum(sum == T(0) ? -minus_infinity<T> : std::log(sum));
    for (std::size_t i = 0; i < full; ++i) {
      ((B::load_unaligned(z + begin + i * W) - shift) - log_sum).store_unaligned(y + begin + i * W);
    }
    result = (last - shift) - log_sum;
  } else {
    const B inverse(inverse_or_zero(sum));
    for (std::size_t i = 0; i < full; ++i) (B::load_unaligned(y + begin + i * W) * inverse).store_unaligned(y + begin + i * W);
    result = last_exp * inverse;
  }
  store_in_row(xsimd::select(tail.inside, result, last_input), y, tail.first, length, buffer);
}

/// Block softmax (`log_output`: log-softmax) of one unmasked row of `length`
/// tokens along `rows`' plan; `y` may equal `z`.
template <class T>
void block_softmax_row_planned(const T* z, T* y, std::size_t length, const planned_rows<T>& rows,
                               bool log_output) noexcept {
  const window_masks<T>* masks = rows.masks.data();
  // Probabilities: the row's max as every group's shift where it is finite
  // (row_plan.hpp); a step whose groups lose their mass under it, and a long
  // group, take their own max.
  const T max = log_output || length < batch_size<T> ? T(0) : row_max(z, length);
  const bool shared = !log_output && length >= batch_size<T> && detail::can_share_shift(max);
  const row_shift<T> shift(max);
  for (const detail::plan_step& step : rows.plan.steps) {
    const std::size_t b = step.begin;
    const std::size_t n = step.count;
    switch (step.kind) {
      case detail::plan_step::window:
        if (!shared || !normalise_window_shared(z, y, length, b, masks[n], shift)) normalise_window(z, y, length, b, masks[n], log_output);
        break;
      case detail::plan_step::registers_2:
        if (!shared || !normalise_in_batches_shared<2>(z, y, length, b, n, shift)) normalise_in_batches<2>(z, y, length, b, n, log_output);
        break;
      case detail::plan_step::registers_3:
        if (!shared || !normalise_in_batches_shared<3>(z, y, length, b, n, shift)) normalise_in_batches<3>(z, y, length, b, n, log_output);
        break;
      case detail::plan_step::registers_4:
        if (!shared || !normalise_in_batches_shared<4>(z, y, length, b, n, shift)) normalise_in_batches<4>(z, y, length, b, n, log_output);
        break;
      case detail::plan_step::streaming: normalise_streaming(z, y, length, b, n, log_output); break;
    }
  }
}

/// Softmax backward of one window's groups: dz = y ⊙ (dy − Σ_g y·dy). The
/// lanes past the window keep what dz holds there when dz is y or dy (those
/// tokens are still the input of a later step); otherwise a later step
/// overwrites them. Inlined into the row loop, whose swizzle constants then
/// stay in registers.
template <class T>
[[gnu::always_inline, gnu::flatten]] inline void backward_window(const T* y, const T* dy, T* dz, std::size_t length,
                                                                 std::size_t begin, const window_masks<T>& m,
                                                                 detail::next_rows next) noexcept {
  using B = xsimd::batch<T>;
  detail::prefetch_next_rows(y, dy, begin, next);
  std::array<T, batch_size<T>> buffer;
  const std::size_t first = begin - m.shift;
  const B probability = load_in_row(y, first, length, buffer);
  const B upstream = load_in_row(dy, first, length, buffer);
  // Lanes below a shifted window hold earlier steps' results: dz's, kept.
  const B kept = m.shift != 0 ? load_in_row(static_cast<const T*>(dz), first, length, buffer) : dz == y ? probability : upstream;
  const B dot = segmented_all(probability * upstream, m, [](const B& a, const B& b) { return a + b; });
  store_in_row(xsimd::select(m.lanes, probability * (upstream - dot), kept), dz, first, length, buffer);
}

/// Softmax backward of one group of `count` tokens at `begin` (more than one
/// batch): Σ y·dy in one pass (two accumulators, in token order), dz in a
/// second (the group is then in L1). The last batch is loaded once, with its
/// lanes past the group left out and written back as dz holds them when dz
/// is y or dy (otherwise a later step overwrites them), so neither pass has a
/// scalar tail.
template <class T>
[[gnu::flatten]] void backward_group(const T* y, const T* dy, T* dz, std::size_t length, std::size_t begin,
                                     std::size_t count, detail::next_rows next) noexcept {
  using B = xsimd::batch<T>;
  constexpr std::size_t W = batch_size<T>;
  const last_batch<T> tail(begin, count);
  const std::size_t full = tail.before;
  std::array<T, W> buffer;
  B even(T(0));
  B odd(T(0));
  std::size_t i = 0;
  for (; i + 1 < full; i += 2) {
    const std::size_t first = begin + i * W;
    detail::prefetch_next_rows(y, dy, first, next);
    detail::prefetch_next_rows(y, dy, first + W, next);
    even = xsimd::fma(B::load_unaligned(y + first), B::load_unaligned(dy + first), even);
    odd = xsimd::fma(B::load_unaligned(y + first + W), B::load_unaligned(dy + first + W), odd);
  }
  if (i < full) {
    detail::prefetch_next_rows(y, dy, begin + i * W, next);
    even = xsimd::fma(B::load_unaligned(y + begin + i * W), B::load_unaligned(dy + begin + i * W), even);
  }
  detail::prefetch_next_rows(y, dy, tail.first, next);
  const B last_probability = load_in_row(y, tail.first, length, buffer);
  const B last_upstream = load_in_row(dy, tail.first, length, buffer);
  odd += xsimd::select(tail.inside, last_probability * last_upstream, B(T(0)));
  const B dot(xsimd::hadd(even + odd));
  const B kept = dz == y ? last_probability : last_upstream;  // as in `backward_window`
  for (i = 0; i < full; ++i) {
    const std::size_t first = begin + i * W;
    (B::load_unaligned(y + first) * (B::load_unaligned(dy + first) - dot)).store_unaligned(dz + first);
  }
  store_in_row(xsimd::select(tail.inside, last_probability * (last_upstream - dot), kept), dz, tail.first, length, buffer);
}

/// Softmax backward of one unmasked row of `length` tokens along `rows`'
/// plan, prefetching the `next` rows (labelgraph/backend/prefetch.hpp):
/// dz = y ⊙ (dy − Σ_g y·dy). `dz` may equal `y` or `dy`.
template <class T>
void block_softmax_backward_row_planned(const T* y, const T* dy, T* dz, std::size_t length, const planned_rows<T>& rows,
                                        detail::next_rows next) noexcept {
  const window_masks<T>* masks = rows.masks.data();
  for (const detail::plan_step& step : rows.plan.steps) {
    switch (step.kind) {
      case detail::plan_step::window: backward_window(y, dy, dz, length, step.begin, masks[step.count], next); break;
      default: backward_group(y, dy, dz, length, step.begin, step.count, next); break;  // 2 batches or more
    }
  }
}

}  // namespace labelgraph::backends::xtensor_detail

LABELGRAPH_SIMD_WARNINGS_ON
