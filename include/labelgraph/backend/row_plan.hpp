#pragma once
/// \file
/// The *row plan* of the planned block softmax / log-softmax, shared by the
/// host backends (cpu: AVX-512 intrinsics, xtensor: xsimd batches). A layout's
/// groups are cut once per call into steps, in token order, for vectors of
/// `Lanes` lanes:
/// - a *window*: a run of consecutive groups of at most `Lanes` tokens each
///   that fits in one vector (the pet graph's 2, 3, 12, ...; WordNet's
///   siblings). Per-group max and sum inside the vector are segmented
///   all-reductions: log2(Lanes) steps of "combine with lane i + d if it is in
///   my group" (d = 1, 2, 4, ...: the first lane of a group then holds its
///   reduction), then a broadcast of the group's first lane over the group.
///   The window carries the masks of these steps, computed once per call.
/// - a group of `Lanes` + 1 .. 4 · `Lanes` tokens: held in 2-4 vectors,
///   one read and one write (max, exp, sum, scale without touching memory in
///   between).
/// - a longer group: max pass, exp + sum pass, scale pass (`streaming`).
/// Groups are independent, so the steps of a row overlap in the out-of-order
/// core; the step kinds repeat row after row, which the branch predictor
/// learns. Each backend decides for which layouts and types the plan pays off.
///
/// **The row's max as the shift** (probabilities only). Eq. 3 holds for any
/// shift of a group: p_v = exp(z_v − M) / Σ_g exp(z − M) for every M. With M
/// the row's max (finite), a window needs no segmented max and a group of a
/// few vectors no horizontal max: the chain of dependent instructions per
/// step, which bounds how many steps the core overlaps, loses its max scan
/// (about a fifth of it).
/// Rows whose max is not finite or beyond ±2^20 keep each group's own max.
/// Two things keep the result as accurate as with the group's own max:
/// - z − M rounded to T is off by up to half an ulp of |z − M|, which exp
///   turns into a relative error of that size (2^-20 for |z − M| in 16..32 in
///   float); Knuth's TwoSum gives that rounding error δ exactly, and
///   exp(a + δ) = exp(a) (1 + δ) to 2^-40.
/// - A group far below M would lose its small terms to underflow: a step
///   whose groups do not all keep a mass Σ_g exp(z − M) of at least
///   `least_shared_mass` (their max within about 27 of M; −inf and NaN
///   inside fail too) is redone with each group's own max. Past that bound
///   only terms below 2^-86 of their group's mass could underflow.
/// Log-probabilities keep each group's own max: (z − M) − log Σ_g exp(z − M)
/// would cancel to an absolute error of the ulp of |z − M|.

#include <bit>
#include <cstdint>
#include <vector>

namespace labelgraph::detail {

/// The least mass Σ_g exp(z − M) a group may keep under the row's shift M
/// (see above): 2^-40.
template <class T>
inline constexpr T least_shared_mass = T(0x1p-40);

/// exp(x) is 0 in T below −exp_range<T> (float: e^-104 is under the
/// smallest denormal; double: e^-746).
template <class T>
inline constexpr T exp_range = sizeof(T) == sizeof(float) ? T(104) : T(746);

/// True when M (a row's max) can be its groups' shared shift: finite, and
/// small enough (|M| <= 2^20) that M − exp_range<T> is M lowered by about
/// exp_range<T> (for M = 1e30 it would round to M).
template <class T>
[[nodiscard]] inline bool can_share_shift(T max) noexcept {
  return max >= T(-0x1p20) && max <= T(0x1p20);  // false for NaN and ±inf
}

/// A run of whole groups inside one vector of `Lanes` lanes, with the masks
/// (bit i: lane i) of its segmented reductions.
template <std::uint32_t Lanes>
struct packed_window {
  static_assert(std::has_single_bit(Lanes) && Lanes >= 2 && Lanes <= 16, "a window is one vector of 2 to 16 lanes");
  /// log2(Lanes): the combine steps of a segmented reduction.
  static constexpr std::uint32_t steps = static_cast<std::uint32_t>(std::countr_zero(Lanes));

  std::uint32_t begin = 0;                          ///< first token
  std::uint32_t lanes = 0;                          ///< lanes holding tokens
  std::uint32_t combine[steps] = {};               ///< step d = 2^s: lane i takes lane i + d (same group)
  alignas(16) std::uint8_t group_head[Lanes] = {};  ///< lane of the first token of lane i's group (i itself past the last group)
};

/// One step of a row plan.
struct plan_step {
  /// How the step's tokens are processed: a window, a group in 2, 3 or 4
  /// vectors, or a longer group in three passes.
  enum kind_type : std::uint32_t { window, registers_2, registers_3, registers_4, streaming };
  kind_type kind;
  std::uint32_t begin;  ///< first token
  std::uint32_t count;  ///< tokens (the group's size), or the window's index for `window`
  /// A window's combine steps whose masks are not empty (2^scan_steps covers
  /// its largest group: 0 for singletons only); 0 for the other kinds.
  std::uint32_t scan_steps = 0;
};

/// The steps of one layout's rows, in token order; built once per call, its
/// storage reused from call to call (no allocation in the steady state).
template <std::uint32_t Lanes>
struct row_plan {
  using window_type = packed_window<Lanes>;
  std::vector<plan_step> steps;
  std::vector<window_type> windows;
  std::uint32_t length = 0;  ///< tokens the steps cover: offsets[groups]

  /// Cuts groups [offsets[g], offsets[g + 1]) into steps.
  void build(const std::uint32_t* offsets, std::uint32_t groups) {
    steps.clear();
    windows.clear();
    length = offsets[groups];
    std::uint32_t g = 0;
    while (g < groups) {
      const std::uint32_t size = offsets[g + 1] - offsets[g];
      if (size == 0) {
        ++g;
        continue;
      }
      if (size > Lanes) {
        const std::uint32_t vectors = (size + Lanes - 1) / Lanes;
        const plan_step::kind_type kind = vectors == 2   ? plan_step::registers_2
                                          : vectors == 3 ? plan_step::registers_3
                                          : vectors == 4 ? plan_step::registers_4
                                                         : plan_step::streaming;
        steps.push_back({kind, offsets[g], size, 0});
        ++g;
        continue;
      }
      window_type w;
      w.begin = offsets[g];
      std::uint32_t used = 0;
      while (g < groups && offsets[g + 1] - offsets[g] <= Lanes && offsets[g + 1] - w.begin <= Lanes) {
        const std::uint32_t first = offsets[g] - w.begin;
        const std::uint32_t last = offsets[g + 1] - w.begin;
        for (std::uint32_t lane = first; lane < last; ++lane) {
          w.group_head[lane] = static_cast<std::uint8_t>(first);
          for (std::uint32_t s = 0; s < window_type::steps; ++s) {
            if (lane + (1u << s) < last) w.combine[s] |= 1u << lane;
          }
        }
        used = last;
        ++g;
      }
      // Every lane from 0, not from `used`: GCC 12 at -O3 otherwise reports a
      // write past group_head (-Wstringop-overflow, a false positive).
      for (std::uint32_t lane = 0; lane < Lanes; ++lane) {
        if (lane >= used) w.group_head[lane] = static_cast<std::uint8_t>(lane);
      }
      w.lanes = (1u << used) - 1u;
      std::uint32_t scan_steps = 0;
      while (scan_steps < window_type::steps && w.combine[scan_steps] != 0) ++scan_steps;
      steps.push_back({plan_step::window, w.begin, static_cast<std::uint32_t>(windows.size()), scan_steps});
      windows.push_back(w);
    }
  }
};

}  // namespace labelgraph::detail
