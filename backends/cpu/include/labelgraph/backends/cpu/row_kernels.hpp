#pragma once
/// \file
/// Row kernels of the cpu backend: raw-pointer functions over one row of
/// [rows, V] logits whose tokens are cut into contiguous groups by `offsets`
/// ([groups + 1], group g = tokens [offsets[g], offsets[g+1])). The `full`
/// normalization is the same code with the single group {0, V}.
///
/// Every kernel walks a row in a few passes while it sits in L1/L2 (the
/// 3-pass softmax: max, exp, normalise; compared
/// against the online 2-pass form: `block_softmax_row_online` below, measured
/// by bench/kernels: the 3-pass form is 3.4-4.8x faster). Per-group work
/// (max, sum, scale) is scalar for groups shorter than one packet and
/// vectorised for longer ones; the exps of a row are always one vectorised
/// pass over the whole row, so that tiny groups (the pet graph: 2, 3, 3, 12,
/// ...) still get 16 exps per instruction. These kernels serve masked rows,
/// doubles, and builds without AVX-512: unmasked float rows take the row plan
/// of avx512_rows.hpp (masked tails, segmented reductions, one read and one
/// write per group) or, for layouts of tiny groups, the transposed tiles of
/// tile_kernels.hpp. docs/performance.md has the figures.
///
/// A token is *allowed* when `allowed == nullptr` or `allowed[v] != 0`; tokens
/// outside the mask get probability 0, log-probability -inf and gradient 0. A
/// group with no allowed token (or only -inf logits) gives zeros, never NaN.
/// Per-group max subtraction, never a global max, so +-1e30 logits and groups
/// of mixed scales are exact; a NaN only spreads inside its own group.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>

#include "labelgraph/backend/nll_shift.hpp"
#include "labelgraph/backend/row_numerics.hpp"
#include "labelgraph/backend/row_sets.hpp"
#include "labelgraph/backends/cpu/simd.hpp"

#include "labelgraph/config.hpp"

LABELGRAPH_SIMD_WARNINGS_OFF

namespace labelgraph::backends::cpu_detail {

/// A group's token range [begin, end).
using detail::token_range;

using detail::group_shift;
using detail::inverse_or_zero;
using detail::is_allowed;
using detail::minus_infinity;

/// max over the allowed tokens of a range (-inf when none; NaNs are skipped
/// here and surface in the group's sum instead).
template <class T>
inline T range_max(const T* z, token_range range, const std::uint8_t* allowed) noexcept {
  constexpr std::uint32_t W = lanes<T>;
  std::uint32_t v = range.begin;
  T best = minus_infinity<T>;
  if (allowed == nullptr && range.size() >= W) {
    packet<T> acc = ei::pset1<packet<T>>(best);
    for (; v + W <= range.end; v += W) acc = ei::pmax(acc, ei::ploadu<packet<T>>(z + v));
    best = ei::predux_max(acc);
  }
  if (allowed == nullptr) {
    // Branch-free (maxss): a data-dependent branch here mispredicts on every
    // other token of random logits.
    for (; v < range.end; ++v) best = std::max(best, z[v]);
  } else {
    for (; v < range.end; ++v) best = std::max(best, allowed[v] != 0 ? z[v] : minus_infinity<T>);
  }
  return best;
}

/// sum of x over a range.
template <class T>
inline T range_sum(const T* x, token_range range) noexcept {
  constexpr std::uint32_t W = lanes<T>;
  std::uint32_t v = range.begin;
  T total = 0;
  if (range.size() >= W) {
    packet<T> acc = ei::pzero(ei::pset1<packet<T>>(T(0)));
    for (; v + W <= range.end; v += W) acc = ei::padd(acc, ei::ploadu<packet<T>>(x + v));
    total = ei::predux(acc);
  }
  for (; v < range.end; ++v) total += x[v];
  return total;
}

/// sum of a*b over a range.
template <class T>
inline T range_dot(const T* a, const T* b, token_range range) noexcept {
  constexpr std::uint32_t W = lanes<T>;
  std::uint32_t v = range.begin;
  T total = 0;
  if (range.size() >= W) {
    packet<T> acc = ei::pzero(ei::pset1<packet<T>>(T(0)));
    for (; v + W <= range.end; v += W) acc = ei::pmadd(ei::ploadu<packet<T>>(a + v), ei::ploadu<packet<T>>(b + v), acc);
    total = ei::predux(acc);
  }
  for (; v < range.end; ++v) total += a[v] * b[v];
  return total;
}

/// out[v] = allowed ? z[v] - shift : -inf over a range (out may equal z).
template <class T>
inline void range_shift(const T* z, T* out, T shift, token_range range, const std::uint8_t* allowed) noexcept {
  constexpr std::uint32_t W = lanes<T>;
  std::uint32_t v = range.begin;
  if (allowed == nullptr) {
    const packet<T> s = ei::pset1<packet<T>>(shift);
    for (; v + W <= range.end; v += W) ei::pstoreu(out + v, ei::psub(ei::ploadu<packet<T>>(z + v), s));
  }
  if (allowed == nullptr) {
    for (; v < range.end; ++v) out[v] = z[v] - shift;
  } else {
    for (; v < range.end; ++v) out[v] = allowed[v] != 0 ? z[v] - shift : minus_infinity<T>;
  }
}

/// out[v] = exp(z[v] − shift) over a range, and the sum of out over it: one
/// pass for what `range_shift`, `exp_array` and `range_sum` do in three, with
/// the same packets and summation order (bitwise the same). `out` may be `z`.
template <class T>
inline T range_exp_sum(const T* z, T* out, T shift, token_range range) noexcept {
  constexpr std::uint32_t W = lanes<T>;
  const packet<T> s = ei::pset1<packet<T>>(shift);
  std::uint32_t v = range.begin;
  T total = 0;
  if (range.size() >= W) {
    packet<T> acc = ei::pzero(s);
    for (; v + W <= range.end; v += W) {
      const packet<T> e = exp_packet(ei::psub(ei::ploadu<packet<T>>(z + v), s));
      ei::pstoreu(out + v, e);
      acc = ei::padd(acc, e);
    }
    total = ei::predux(acc);
  }
  if (v < range.end) {  // the tail through one buffered packet, as `exp_array` does it
    alignas(64) T buffer[W] = {};
    const std::uint32_t n = range.end - v;
    for (std::uint32_t k = 0; k < n; ++k) buffer[k] = z[v + k] - shift;
    ei::pstore(buffer, exp_packet(ei::pload<packet<T>>(buffer)));
    for (std::uint32_t k = 0; k < n; ++k) {
      out[v + k] = buffer[k];
      total += buffer[k];
    }
  }
  return total;
}

/// x[v] *= factor over a range.
template <class T>
inline void range_scale(T* x, T factor, token_range range) noexcept {
  constexpr std::uint32_t W = lanes<T>;
  std::uint32_t v = range.begin;
  const packet<T> f = ei::pset1<packet<T>>(factor);
  for (; v + W <= range.end; v += W) ei::pstoreu(x + v, ei::pmul(ei::ploadu<packet<T>>(x + v), f));
  for (; v < range.end; ++v) x[v] *= factor;
}

/// Block softmax of `rows` rows (paper eq. 3, p_blk(v) = exp z_v / sum_{w in g(v) ∩ M} exp z_w):
///   pass 1, per group: m_g = max_{g ∩ M} z,  y_v = z_v - m_g (-inf outside M)
///   pass 2, whole row: y = exp(y)
///   pass 3, per group: y_v /= sum_g y   (0 when the sum is 0).
/// Each pass runs over all `rows` rows before the next starts (callers pass
/// a few rows that fit in L1): the vector exp then never reads a row whose
/// scalar stores are still in flight (a failed store-to-load forward costs
/// more than the exp). `y` may equal `z`; `allowed` has the same row stride as
/// `z` or is nullptr.
template <class T>
inline void block_softmax_rows(const T* z, std::size_t z_stride, T* y, std::size_t y_stride, std::size_t rows,
                               const std::uint32_t* offsets, std::uint32_t groups, const std::uint8_t* const* allowed) noexcept {
  for (std::size_t r = 0; r < rows; ++r) {
    const std::uint8_t* row_allowed = allowed == nullptr ? nullptr : allowed[r];
    for (std::uint32_t g = 0; g < groups; ++g) {
      const token_range range{offsets[g], offsets[g + 1]};
      range_shift(z + r * z_stride, y + r * y_stride, group_shift(range_max(z + r * z_stride, range, row_allowed)), range,
                  row_allowed);
    }
  }
  for (std::size_t r = 0; r < rows; ++r) {
    T* row = y + r * y_stride;
    exp_array(row + offsets[0], row + offsets[0], offsets[groups] - offsets[0]);
  }
  for (std::size_t r = 0; r < rows; ++r) {
    for (std::uint32_t g = 0; g < groups; ++g) {
      const token_range range{offsets[g], offsets[g + 1]};
      const T inverse = inverse_or_zero(range_sum(y + r * y_stride, range));
      range_scale(y + r * y_stride, inverse, range);
      // A NaN in the set makes the factor NaN, and 0 · NaN would leak it into
      // the masked-out tokens, which must stay 0 (rare: one test per group).
      if (allowed != nullptr && std::isnan(inverse)) {
        for (std::uint32_t v = range.begin; v < range.end; ++v) {
          if (allowed[r][v] == 0) y[r * y_stride + v] = T(0);
        }
      }
    }
  }
}

/// One row of `block_softmax_rows`.
template <class T>
inline void block_softmax_row(const T* z, T* y, const std::uint32_t* offsets, std::uint32_t groups,
                              const std::uint8_t* allowed) noexcept {
  block_softmax_rows(z, 0, y, 0, 1, offsets, groups, allowed == nullptr ? nullptr : &allowed);
}

/// The online 2-pass form, for comparison only (bench/kernels measures it
/// against the 3-pass form above): pass 1 keeps a running max and rescales the
/// running sum, s <- s * exp(m_old - m_new) + exp(z - m_new); pass 2 writes
/// exp(z - m) / s. One read of z fewer, but one exp more per token.
template <class T>
inline void block_softmax_row_online(const T* z, T* y, const std::uint32_t* offsets, std::uint32_t groups) noexcept {
  constexpr std::uint32_t W = lanes<T>;
  using P = packet<T>;
  for (std::uint32_t g = 0; g < groups; ++g) {
    const token_range range{offsets[g], offsets[g + 1]};
    std::uint32_t v = range.begin;
    T max = minus_infinity<T>;
    T sum = 0;
    if (range.size() >= W) {
      P running_max = ei::pset1<P>(max);
      P running_sum = ei::pzero(running_max);
      for (; v + W <= range.end; v += W) {
        const P x = ei::ploadu<P>(z + v);
        const P new_max = ei::pmax(running_max, x);
        const P safe_max = ei::pselect(ei::pcmp_eq(new_max, ei::pset1<P>(max)), ei::pzero(x), new_max);
        running_sum = ei::padd(ei::pmul(running_sum, exp_packet(ei::psub(running_max, safe_max))),
                               exp_packet(ei::psub(x, safe_max)));
        running_max = new_max;
      }
      max = ei::predux_max(running_max);
      const T shift = group_shift(max);
      alignas(64) T lane_max[W];
      alignas(64) T lane_sum[W];
      ei::pstore(lane_max, running_max);
      ei::pstore(lane_sum, running_sum);
      for (std::uint32_t lane = 0; lane < W; ++lane) {
        if (lane_max[lane] != minus_infinity<T>) sum += lane_sum[lane] * exp_scalar(lane_max[lane] - shift);
      }
    }
    for (; v < range.end; ++v) {
      if (z[v] > max) {
        sum = sum * exp_scalar(max - z[v]);
        max = z[v];
      }
      sum += exp_scalar(z[v] - group_shift(max));
    }
    const T shift = group_shift(max);
    const T inverse = inverse_or_zero(sum);
    range_shift(z, y, shift, range, nullptr);
    exp_array(y + range.begin, y + range.begin, range.size());
    range_scale(y, inverse, range);
  }
}

/// Block log-softmax of one row: y_v = z_v - m_g - log sum_{g ∩ M} exp(z - m_g);
/// -inf outside M and in a group without allowed tokens.
/// `work` holds V + groups elements; `y` may equal `z`.
template <class T>
inline void block_log_softmax_row(const T* z, T* y, const std::uint32_t* offsets, std::uint32_t groups,
                                  const std::uint8_t* allowed, T* work) noexcept {
  const std::uint32_t first = offsets[0];
  const std::uint32_t tokens = offsets[groups] - first;
  T* exps = work;             // [V]
  T* log_sums = work + offsets[groups];  // [groups]
  for (std::uint32_t g = 0; g < groups; ++g) {
    const token_range range{offsets[g], offsets[g + 1]};
    range_shift(z, y, group_shift(range_max(z, range, allowed)), range, allowed);
  }
  exp_array(y + first, exps + first, tokens);
  for (std::uint32_t g = 0; g < groups; ++g) log_sums[g] = range_sum(exps, token_range{offsets[g], offsets[g + 1]});
  log_array(log_sums, groups);
  for (std::uint32_t g = 0; g < groups; ++g) {
    const token_range range{offsets[g], offsets[g + 1]};
    if (log_sums[g] == minus_infinity<T>) {
      std::fill(y + range.begin, y + range.end, minus_infinity<T>);
    } else if (allowed != nullptr && std::isnan(log_sums[g])) {
      range_shift(y, y, log_sums[g], range, allowed);  // a NaN in the set: masked-out tokens stay −inf
    } else {
      range_shift(y, y, log_sums[g], range, nullptr);
    }
  }
}

/// Softmax backward of one row, per group g ∩ M (outside M, y = 0 so dz = 0):
///   dz = y ⊙ (dy − sum_g y·dy).   `dz` may equal `dy`.
template <class T>
inline void block_softmax_backward_row(const T* y, const T* dy, T* dz, const std::uint32_t* offsets,
                                       std::uint32_t groups, const std::uint8_t* allowed) noexcept {
  constexpr std::uint32_t W = lanes<T>;
  for (std::uint32_t g = 0; g < groups; ++g) {
    const token_range range{offsets[g], offsets[g + 1]};
    const T s = range_dot(y, dy, range);
    std::uint32_t v = range.begin;
    if (allowed == nullptr) {
      const packet<T> ps = ei::pset1<packet<T>>(s);
      for (; v + W <= range.end; v += W) {
        ei::pstoreu(dz + v, ei::pmul(ei::ploadu<packet<T>>(y + v), ei::psub(ei::ploadu<packet<T>>(dy + v), ps)));
      }
    }
    if (allowed == nullptr) {
      for (; v < range.end; ++v) dz[v] = y[v] * (dy[v] - s);
    } else {
      for (; v < range.end; ++v) dz[v] = allowed[v] != 0 ? y[v] * (dy[v] - s) : T(0);
    }
  }
}

/// Log-softmax backward of one row, per group g ∩ M, with p = exp(log p):
///   dz = dy − p ⊙ sum_{g ∩ M} dy;  0 outside M and on a set without mass
///   (all −inf: sum_{g ∩ M} p = 0).
/// `work` holds V elements; `dz` may equal `dy`.
template <class T>
inline void block_log_softmax_backward_row(const T* log_p, const T* dy, T* dz, const std::uint32_t* offsets,
                                           std::uint32_t groups, const std::uint8_t* allowed, T* work) noexcept {
  constexpr std::uint32_t W = lanes<T>;
  const std::uint32_t first = offsets[0];
  exp_array(log_p + first, work + first, offsets[groups] - first);
  for (std::uint32_t g = 0; g < groups; ++g) {
    const token_range range{offsets[g], offsets[g + 1]};
    std::uint32_t v = range.begin;
    if (allowed == nullptr && range_sum(work, range) == T(0)) {  // a set without mass: gradient 0
      std::fill(dz + range.begin, dz + range.end, T(0));
      continue;
    }
    if (allowed == nullptr) {
      const T s = range_sum(dy, range);
      const packet<T> ps = ei::pset1<packet<T>>(s);
      for (; v + W <= range.end; v += W) {
        ei::pstoreu(dz + v, ei::psub(ei::ploadu<packet<T>>(dy + v), ei::pmul(ei::ploadu<packet<T>>(work + v), ps)));
      }
      for (; v < range.end; ++v) dz[v] = dy[v] - work[v] * s;
    } else {
      T s = 0;
      T mass = 0;
      for (std::uint32_t u = range.begin; u < range.end; ++u) {
        s += allowed[u] != 0 ? dy[u] : T(0);
        mass += allowed[u] != 0 ? work[u] : T(0);
      }
      for (; v < range.end; ++v) dz[v] = allowed[v] != 0 && mass != T(0) ? dy[v] - work[v] * s : T(0);
    }
  }
}

/// The regulariser inside the normalization set of the fused NLL.
enum class nll_regulariser : std::uint8_t {
  none,             ///< plain cross-entropy
  label_smoothing,  ///< (1-ε) CE + ε CE against the uniform distribution on N
  max_suppression,  ///< MaxSup: ε (z_max − mean_N z) added to CE
};

/// Loss and lse of one row of the fused NLL.
template <class T>
struct nll_row_result {
  T loss;
  T lse;
};

/// The fused NLL of a set N whose maximum is −inf. Usually N has no mass
/// (empty, masked, all −inf): p_t = 0, loss w·(+inf), gradient 0 on N. But the
/// maximum skips NaN, so a NaN that is N's only logit above −inf lands here
/// too: then N is NaN (loss, lse and gradient on N; the NaN contract of
/// backend/kernels.hpp). Rare path: one scan of N.
template <class T>
inline nll_row_result<T> nll_of_set_without_maximum(const T* z, T* grad, token_range range, T weight,
                                                    const std::uint8_t* allowed) noexcept {
  bool holds_nan = false;  // read before grad (which may be z) is written
  for (std::uint32_t v = range.begin; v < range.end; ++v) holds_nan = holds_nan || (is_allowed(allowed, v) && std::isnan(z[v]));
  const T nan = std::numeric_limits<T>::quiet_NaN();
  for (std::uint32_t v = range.begin; v < range.end; ++v) grad[v] = holds_nan && is_allowed(allowed, v) ? weight * nan : T(0);
  if (!holds_nan) return {weight == T(0) ? T(0) : weight * std::numeric_limits<T>::infinity(), minus_infinity<T>};
  return {weight == T(0) ? T(0) : nan, nan};
}

/// Fused block NLL of one row with target t in normalization set N = range ∩ M,
/// K = |N|, lse = log sum_N exp z, p = exp(z − lse), weight w:
///   none:  loss = w (lse − z_t),                        grad = w (p − 1_t)
///   label smoothing ε: loss = w [(1−ε)(lse − z_t) + ε (lse − mean_N z)],
///                      grad = w (p − (1−ε) 1_t − ε/K)
///   MaxSup ε: loss = w [(lse − z_t) + ε (z_max − mean_N z)],
///             grad = w (p − 1_t + ε (1_argmax − 1/K))   (argmax: lowest token of the max)
/// Only `range` of the gradient row is written (the caller zeroes the rest);
/// `grad` may equal `z` (in place): the logits of N are read before they are
/// overwritten.
template <class T>
inline nll_row_result<T> block_nll_row(const T* z, T* grad, token_range range,
                                       std::uint32_t target, T weight, const std::uint8_t* allowed,
                                       nll_regulariser regulariser, T epsilon) noexcept {
  // Pass 1 over N: max, its first token, sum and count of the logits, z_t.
  T max = minus_infinity<T>;
  std::uint32_t argmax = target;
  T logit_sum = 0;
  std::uint32_t count = 0;
  if (allowed == nullptr) {
    max = range_max(z, range, nullptr);
    count = range.size();
    if (regulariser != nll_regulariser::none) logit_sum = range_sum(z, range);
    if (regulariser == nll_regulariser::max_suppression && max != minus_infinity<T>) {
      argmax = static_cast<std::uint32_t>(std::find(z + range.begin, z + range.end, max) - z);
    }
  } else {
    for (std::uint32_t v = range.begin; v < range.end; ++v) {
      if (allowed[v] == 0) continue;
      if (z[v] > max) {
        max = z[v];
        argmax = v;
      }
      logit_sum += z[v];
      ++count;
    }
  }
  const T target_logit = z[target];
  if (max == minus_infinity<T>) return nll_of_set_without_maximum(z, grad, range, weight, allowed);
  // Pass 2: e = exp(z − m) into the gradient row (N's logits are no longer needed).
  const T shift = group_shift(max);
  T sum;
  if (allowed == nullptr) {
    sum = range_exp_sum(z, grad, shift, range);
  } else {
    range_shift(z, grad, shift, range, allowed);
    exp_array(grad + range.begin, grad + range.begin, range.size());
    sum = range_sum(grad, range);
  }
  const T lse = shift + std::log(sum);
  // Pass 3: gradient on N, zeros elsewhere.
  const T inverse = inverse_or_zero(sum);
  const T uniform = count == 0 ? T(0) : T(1) / static_cast<T>(count);
  const T mean_logit = logit_sum * uniform;
  T loss = lse - target_logit;
  T target_pull = 1;
  T spread = 0;
  switch (regulariser) {
    case nll_regulariser::none: break;
    case nll_regulariser::label_smoothing:
      loss = (T(1) - epsilon) * loss + epsilon * (lse - mean_logit);
      target_pull = T(1) - epsilon;
      spread = epsilon * uniform;
      break;
    case nll_regulariser::max_suppression:
      loss += epsilon * (max - mean_logit);
      spread = epsilon * uniform;
      break;
  }
  // grad_v = w (e_v / s − spread) on N, then the one-hot corrections.
  constexpr std::uint32_t W = lanes<T>;
  std::uint32_t v = range.begin;
  if (allowed == nullptr) {
    const packet<T> scale = ei::pset1<packet<T>>(weight * inverse);
    const packet<T> offset = ei::pset1<packet<T>>(weight * spread);
    for (; v + W <= range.end; v += W) {
      ei::pstoreu(grad + v, ei::psub(ei::pmul(ei::ploadu<packet<T>>(grad + v), scale), offset));
    }
  }
  for (; v < range.end; ++v) {
    grad[v] = is_allowed(allowed, v) ? weight * (grad[v] * inverse - spread) : T(0);
  }
  grad[target] -= weight * target_pull;
  if (regulariser == nll_regulariser::max_suppression) grad[argmax] += weight * epsilon;
  return {weight == T(0) ? T(0) : weight * loss, lse};
}

/// Zeroes row[0, tokens) outside `keep` (the gradient outside the target's
/// set), unless the caller zeroed the row already (`row_is_zero`).
template <class T>
inline void zero_outside(T* row, std::size_t tokens, token_range keep, bool row_is_zero) noexcept {
  if (row_is_zero) return;
  std::fill(row, row + keep.begin, T(0));
  std::fill(row + keep.end, row + tokens, T(0));
}

/// Packets a set may span to take `block_nll_row_in_registers`.
inline constexpr std::uint32_t nll_register_packets = 4;

/// `block_nll_row` for a set of at most `nll_register_packets` packets and no
/// mask, written for speed: the set is loaded into registers once (lanes past
/// its end are −inf), then exp, sums and the gradient never touch memory
/// again (the shift is z_t, or the max where z_t does not serve); the
/// gradient row is zeroed and the set's packets stored over it (their lanes
/// past the set's end are 0, so whole packets can be stored).
/// Unlike `block_nll_row` it writes the whole gradient row, or only the set
/// when the caller zeroed the row (`row_is_zero`). Same formulas.
template <class T>
inline nll_row_result<T> block_nll_row_in_registers(const T* z, T* grad, std::uint32_t tokens, token_range range,
                                                    std::uint32_t target, T weight, nll_regulariser regulariser,
                                                    T epsilon, bool row_is_zero) noexcept {
  using P = packet<T>;
  constexpr std::uint32_t W = lanes<T>;
  const std::uint32_t count = range.size();
  const std::uint32_t packets = (count + W - 1) / W;
  const P minus_inf = ei::pset1<P>(minus_infinity<T>);
  const P zero = ei::pzero(minus_inf);
  P x[nll_register_packets];
  P inside[nll_register_packets];
  alignas(64) T buffer[W];
  for (std::uint32_t i = 0; i < packets; ++i) {
    const std::uint32_t first = range.begin + i * W;
    inside[i] = ei::pcmp_lt(ei::plset<P>(static_cast<T>(i * W)), ei::pset1<P>(static_cast<T>(count)));
    if (first + W <= tokens) {
      x[i] = ei::ploadu<P>(z + first);
    } else {  // the last packet of the row: never read past its end
      for (std::uint32_t k = 0; k < W; ++k) buffer[k] = first + k < tokens ? z[first + k] : T(0);
      x[i] = ei::pload<P>(buffer);
    }
    x[i] = ei::pselect(inside[i], x[i], minus_inf);
  }
  const T target_logit = z[target];
  // e = exp(z − c) into e[], 0 outside N; returns s = Σ_N e.
  P e[nll_register_packets];
  const auto exp_sum = [&](T shift) {
    P sum_packet = zero;
    for (std::uint32_t i = 0; i < packets; ++i) {
      e[i] = exp_packet(ei::psub(x[i], ei::pset1<P>(shift)));
      sum_packet = ei::padd(sum_packet, e[i]);
    }
    return ei::predux(sum_packet);
  };
  // The shift c: z_t where it serves (labelgraph/backend/nll_shift.hpp),
  // the set's max otherwise and for the regularisers (MaxSup needs the max).
  T shift = target_logit;
  T sum = regulariser == nll_regulariser::none ? exp_sum(shift) : std::numeric_limits<T>::infinity();
  T max = minus_infinity<T>;
  if (!detail::target_shift_serves(sum)) {
    P max_packet = minus_inf;
    for (std::uint32_t i = 0; i < packets; ++i) max_packet = ei::pmax(max_packet, x[i]);
    max = ei::predux_max(max_packet);
    if (max == minus_infinity<T>) {  // no mass (or a NaN as the only mass)
      const auto result = nll_of_set_without_maximum(z, grad, range, weight, nullptr);
      zero_outside(grad, tokens, range, row_is_zero);
      return result;
    }
    shift = group_shift(max);
    sum = exp_sum(shift);
  }
  const T log_sum = std::log(sum);
  const T lse = shift + log_sum;
  T loss = (shift - target_logit) + log_sum;  // lse − z_t
  T target_pull = 1;
  T spread = 0;
  std::uint32_t argmax = target;
  if (regulariser != nll_regulariser::none) {
    const T uniform = T(1) / static_cast<T>(count);
    T logit_sum = 0;
    for (std::uint32_t v = range.begin; v < range.end; ++v) logit_sum += z[v];
    const T mean_logit = logit_sum * uniform;
    spread = epsilon * uniform;
    if (regulariser == nll_regulariser::label_smoothing) {
      loss = (T(1) - epsilon) * loss + epsilon * (lse - mean_logit);
      target_pull = T(1) - epsilon;
    } else {
      loss += epsilon * (max - mean_logit);
      if (max != minus_infinity<T>) {
        argmax = range.begin;
        while (argmax + 1 < range.end && !(z[argmax] == max)) ++argmax;
      }
    }
  }
  const P scale = ei::pset1<P>(weight * inverse_or_zero(sum));
  const P offset = ei::pset1<P>(weight * spread);
  for (std::uint32_t i = 0; i < packets; ++i) e[i] = ei::pselect(inside[i], ei::psub(ei::pmul(e[i], scale), offset), zero);
  // The one-hot terms go in before the store: a scalar read-modify-write of
  // a just-stored lane waits for the (masked) store to retire.
  const auto subtract_at = [&](std::uint32_t token, T value) {
    const P at = ei::pset1<P>(static_cast<T>(token - range.begin));
    for (std::uint32_t i = 0; i < packets; ++i) {
      const P lane = ei::pcmp_eq(ei::plset<P>(static_cast<T>(i * W)), at);
      e[i] = ei::psub(e[i], ei::pselect(lane, ei::pset1<P>(value), zero));
    }
  };
  subtract_at(target, weight * target_pull);
  if (regulariser == nll_regulariser::max_suppression) subtract_at(argmax, -(weight * epsilon));
  // The set is in registers now: zeroing the row is safe even in place.
  zero_outside(grad, tokens, range, row_is_zero);
  // Only the set's own elements are stored: a whole last packet would also
  // write the line after the set, one more line to read for ownership when
  // the caller streamed the zeros.
  for (std::uint32_t i = 0; i < packets; ++i) {
    const std::uint32_t first = range.begin + i * W;
    if (first + W <= range.end) {
      ei::pstoreu(grad + first, e[i]);
    } else {
      store_first_lanes(grad + first, e[i], range.end - first);
    }
  }
  return {weight == T(0) ? T(0) : weight * loss, lse};
}

}  // namespace labelgraph::backends::cpu_detail

LABELGRAPH_SIMD_WARNINGS_ON
