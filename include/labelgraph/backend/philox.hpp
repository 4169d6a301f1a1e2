#pragma once
/// \file
/// Philox 4x32-10, the counter-based generator of Salmon, Moraes, Dror and
/// Shaw, "Parallel random numbers: as easy as 1, 2, 3" (SC 2011), with the
/// constants of Random123.
///
/// A counter-based generator is a pure function (counter, key) -> 128 random
/// bits: no state, no sequence to advance, identical in host and device code.
/// labelgraph keys it by the user's seed and counts by (row, step), so every
/// backend -- serial, multi-threaded, GPU -- draws the same random numbers for
/// the same row and decoding step, whatever the thread count or launch shape.

#include <array>
#include <cstdint>

#include "labelgraph/config.hpp"

namespace labelgraph {

/// 128 bits of counter or output.
using philox_counter = std::array<std::uint32_t, 4>;
/// 64 bits of key.
using philox_key = std::array<std::uint32_t, 2>;

namespace detail {

/// Random123's Philox4x32 multipliers and Weyl key increments.
inline constexpr std::uint32_t philox_m0 = 0xD2511F53u;
inline constexpr std::uint32_t philox_m1 = 0xCD9E8D57u;
inline constexpr std::uint32_t philox_w0 = 0x9E3779B9u;  // golden ratio
inline constexpr std::uint32_t philox_w1 = 0xBB67AE85u;  // sqrt(3) - 1

/// One Philox round: two 32x32->64 multiplications, their halves mixed with
/// the other two counter words and the round key (S-box + P-box of the paper).
LABELGRAPH_HOST_DEVICE constexpr philox_counter philox_round(const philox_counter& x, const philox_key& k) noexcept {
  const std::uint64_t product0 = std::uint64_t{philox_m0} * x[0];
  const std::uint64_t product1 = std::uint64_t{philox_m1} * x[2];
  const auto hi0 = static_cast<std::uint32_t>(product0 >> 32);
  const auto lo0 = static_cast<std::uint32_t>(product0);
  const auto hi1 = static_cast<std::uint32_t>(product1 >> 32);
  const auto lo1 = static_cast<std::uint32_t>(product1);
  return {hi1 ^ x[1] ^ k[0], lo1, hi0 ^ x[3] ^ k[1], lo0};
}

}  // namespace detail

/// Philox 4x32 with `Rounds` rounds (10 is the standard, crush-resistant choice).
template <int Rounds = 10>
[[nodiscard]] LABELGRAPH_HOST_DEVICE constexpr philox_counter philox4x32(philox_counter counter, philox_key key) noexcept {
  for (int round = 0; round < Rounds; ++round) {
    if (round != 0) {  // key schedule: a Weyl sequence, bumped between rounds
      key[0] += detail::philox_w0;
      key[1] += detail::philox_w1;
    }
    counter = detail::philox_round(counter, key);
  }
  return counter;
}

/// The key for a 64-bit seed: low word first.
[[nodiscard]] LABELGRAPH_HOST_DEVICE constexpr philox_key philox_key_from_seed(std::uint64_t seed) noexcept {
  return {static_cast<std::uint32_t>(seed), static_cast<std::uint32_t>(seed >> 32)};
}

/// A double uniform in [0, 1) with 53 random bits, from the first two output
/// words: ((x0 << 32 | x1) >> 11) * 2^-53.
[[nodiscard]] LABELGRAPH_HOST_DEVICE constexpr double uniform_double(const philox_counter& bits) noexcept {
  const std::uint64_t word = (std::uint64_t{bits[0]} << 32) | bits[1];
  return static_cast<double>(word >> 11) * 0x1.0p-53;
}

/// The uniform in [0, 1) that every backend uses for (seed, row, step):
/// Philox4x32-10 with key = seed and counter = (row, step, 0, 0).
[[nodiscard]] LABELGRAPH_HOST_DEVICE constexpr double philox_uniform(std::uint64_t seed, std::uint32_t row,
                                                                    std::uint32_t step) noexcept {
  return uniform_double(philox4x32<10>({row, step, 0u, 0u}, philox_key_from_seed(seed)));
}

}  // namespace labelgraph
