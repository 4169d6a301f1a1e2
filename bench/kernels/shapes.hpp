#pragma once
/// \file
/// The benchmark shapes of the block-softmax kernels, shared by the labelgraph
/// and the libtorch binaries so that both measure exactly the same problems.
///
/// Shapes (rows, V) and their group sizes, all generated deterministically:
/// - pet     (4096, 64):    the pet graph's groups (examples/graphs/pets.json:
///                          2, 3, 3, 3, 2, 12, 8) repeated, the last one cut so
///                          that 63 tokens + EOP = 64.
/// - mix1k   (4096, 1024):  Zipf-like sizes, P(s) ∝ s^-1.2 on [1, 256].
/// - mix256  (65536, 256):  Zipf-like sizes, P(s) ∝ s^-1.2 on [1, 64].
/// - wordnet (1024, 32768): WordNet-like sibling groups, P(s) ∝ s^-1.6 on
///                          [1, 4096]: many groups of 1-5 siblings and a long
///                          tail with a few large ones.
/// Zipf-like sizes are drawn by inverse CDF from a 64-bit LCG (Knuth's MMIX
/// constants, seed = V), the last group cut to fill V - 1 tokens, EOP last.
/// Logits are sin-based values in [-8, 8]; targets are one token per row
/// spread over the vocabulary.

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "labelgraph/paths/output_layout.hpp"

namespace labelgraph::bench {

/// One benchmark problem: its size and a flat group layout.
struct kernel_shape {
  std::string name;
  std::size_t rows = 0;
  std::uint32_t tokens = 0;
  std::vector<std::uint32_t> group_offsets;  ///< [groups + 1]
  std::vector<std::uint32_t> token_group;    ///< [tokens]

  [[nodiscard]] std::uint32_t groups() const { return static_cast<std::uint32_t>(group_offsets.size() - 1); }
  [[nodiscard]] std::uint32_t max_group_size() const {
    std::uint32_t largest = 0;
    for (std::uint32_t g = 0; g < groups(); ++g) {
      largest = std::max(largest, group_offsets[g + 1] - group_offsets[g]);
    }
    return largest;
  }
  /// The groups as a `layout_view` (no candidate lists: the benchmarks do not mask).
  [[nodiscard]] layout_view view() const {
    layout_view layout;
    layout.tokens = tokens;
    layout.groups = groups();
    layout.eop = tokens - 1;
    layout.group_offsets = group_offsets.data();
    layout.token_group = token_group.data();
    return layout;
  }
};

namespace detail {

/// Cuts `sizes` (cycled) into groups filling V - 1 tokens, then adds EOP's group.
template <class NextSize>
kernel_shape make_shape(std::string name, std::size_t rows, std::uint32_t tokens, NextSize next_size) {
  kernel_shape shape{std::move(name), rows, tokens, {0}, {}};
  std::uint32_t filled = 0;
  while (filled < tokens - 1) {
    const std::uint32_t size = std::min(next_size(), tokens - 1 - filled);
    filled += size;
    shape.group_offsets.push_back(filled);
  }
  shape.group_offsets.push_back(tokens);  // EOP
  for (std::uint32_t g = 0; g + 1 < shape.group_offsets.size(); ++g) {
    for (std::uint32_t v = shape.group_offsets[g]; v < shape.group_offsets[g + 1]; ++v) shape.token_group.push_back(g);
  }
  return shape;
}

/// Sizes s in [1, cap] with P(s) ∝ s^-exponent, by inverse CDF of a 64-bit LCG.
inline auto zipf_sizes(std::uint32_t cap, double exponent, std::uint64_t seed) {
  std::vector<double> cdf(cap);
  double total = 0;
  for (std::uint32_t s = 1; s <= cap; ++s) {
    total += std::pow(static_cast<double>(s), -exponent);
    cdf[s - 1] = total;
  }
  return [cdf = std::move(cdf), total, state = seed]() mutable {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    const double u = static_cast<double>(state >> 11) * 0x1.0p-53 * total;
    std::uint32_t s = 0;
    while (s + 1 < cdf.size() && cdf[s] < u) ++s;
    return s + 1;
  };
}

}  // namespace detail

/// The four shapes of the kernel benchmarks, in report order.
inline std::vector<kernel_shape> kernel_shapes() {
  std::vector<kernel_shape> shapes;
  const std::uint32_t pet_groups[] = {2, 3, 3, 3, 2, 12, 8};
  std::size_t next_pet = 0;
  shapes.push_back(detail::make_shape("pet", 4096, 64, [&] { return pet_groups[next_pet++ % 7]; }));
  shapes.push_back(detail::make_shape("mix1k", 4096, 1024, detail::zipf_sizes(256, 1.2, 1024)));
  shapes.push_back(detail::make_shape("mix256", 65536, 256, detail::zipf_sizes(64, 1.2, 256)));
  shapes.push_back(detail::make_shape("wordnet", 1024, 32768, detail::zipf_sizes(4096, 1.6, 32768)));
  return shapes;
}

/// Deterministic logits in [-8, 8].
inline std::vector<float> make_logits(const kernel_shape& shape) {
  std::vector<float> logits(shape.rows * shape.tokens);
  for (std::size_t i = 0; i < logits.size(); ++i) logits[i] = static_cast<float>(8.0 * std::sin(0.7 * static_cast<double>(i)));
  return logits;
}

/// One target per row, spread over the vocabulary.
inline std::vector<std::uint32_t> make_targets(const kernel_shape& shape) {
  std::vector<std::uint32_t> targets(shape.rows);
  for (std::size_t r = 0; r < shape.rows; ++r) targets[r] = static_cast<std::uint32_t>((r * 2654435761ULL) % shape.tokens);
  return targets;
}

}  // namespace labelgraph::bench
