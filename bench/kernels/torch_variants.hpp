#pragma once
/// \file
/// The libtorch side of the kernel comparison, shared by the benchmark
/// (torch_bench.cpp) and the test that checks every variant computes what the
/// labelgraph kernels compute (tests/bench/test_torch_variants.cpp): the same
/// shapes (shapes.hpp), float, every way torch offers to do a segmented
/// (block) softmax and the fused block NLL forward + backward:
///
/// block softmax (probabilities into `torch_problem::out`)
/// - `narrow`:  one `softmax` per group on a `narrow`ed column range, written
///              back with `_softmax_out`-style copies (one torch call per group);
/// - `padded`:  scatter the row into [rows, G, maxg] filled with -inf,
///              `softmax(-1)`, gather back (left out where the padded tensor
///              would exceed 2^28 elements);
/// - `segment_reduce`: per-group max and sum with `at::segment_reduce` along
///              the token axis, `repeat_interleave` to broadcast them back.
/// fused block NLL forward + backward (the target's group only, as ours;
/// per-row losses and the gradient of their sum)
/// - `gather_manual`:   gather each row's target group into [rows, maxg]
///              (-inf padded), `log_softmax`, loss by `gather`, gradient
///              p − 1_t written by hand and scattered into a zeroed [rows, V];
/// - `gather_autograd`: the same forward, gradient by `backward()`.

#include <torch/torch.h>

#include <array>
#include <cstdint>
#include <limits>
#include <vector>

#include "shapes.hpp"

namespace labelgraph::bench {

/// A shape's data as torch tensors (built once).
struct torch_problem {
  const kernel_shape* shape;
  torch::Tensor logits;          // [rows, V]
  torch::Tensor out;             // [rows, V]
  torch::Tensor lengths;         // [G] int64
  torch::Tensor lengths_rows;    // [rows, G] int64 (segment_reduce wants one lengths row per data row)
  torch::Tensor pad_index;       // [V]: token -> g * maxg + position in its group
  torch::Tensor targets;         // [rows] int64
  torch::Tensor group_index;     // [rows, maxg]: the target group's tokens, clamped to its last token
  torch::Tensor group_padding;   // [rows, maxg] bool: k >= |group of target|
  torch::Tensor target_position; // [rows, 1]: position of the target inside its group
  std::int64_t groups = 0;
  std::int64_t max_group = 0;

  explicit torch_problem(const kernel_shape& s) : shape(&s) {
    const auto rows = static_cast<std::int64_t>(s.rows);
    const auto tokens = static_cast<std::int64_t>(s.tokens);
    std::vector<float> values = make_logits(s);
    logits = torch::from_blob(values.data(), {rows, tokens}, torch::kFloat32).clone();
    out = torch::empty_like(logits);
    groups = s.groups();
    max_group = s.max_group_size();
    std::vector<std::int64_t> length_values(static_cast<std::size_t>(groups));
    std::vector<std::int64_t> pad_values(s.tokens);
    for (std::uint32_t g = 0; g < s.groups(); ++g) {
      length_values[g] = s.group_offsets[g + 1] - s.group_offsets[g];
      for (std::uint32_t v = s.group_offsets[g]; v < s.group_offsets[g + 1]; ++v) {
        pad_values[v] = static_cast<std::int64_t>(g) * max_group + (v - s.group_offsets[g]);
      }
    }
    lengths = torch::tensor(length_values, torch::kInt64);
    lengths_rows = lengths.unsqueeze(0).expand({rows, groups}).contiguous();
    pad_index = torch::tensor(pad_values, torch::kInt64);
    const std::vector<std::uint32_t> target_values = make_targets(s);
    std::vector<std::int64_t> t(s.rows), index(s.rows * static_cast<std::size_t>(max_group)), position(s.rows);
    std::vector<std::uint8_t> padding(index.size());
    for (std::size_t r = 0; r < s.rows; ++r) {
      const std::uint32_t target = target_values[r];
      const std::uint32_t g = s.token_group[target];
      const std::uint32_t first = s.group_offsets[g];
      const std::uint32_t last = s.group_offsets[g + 1];
      t[r] = target;
      position[r] = target - first;
      for (std::int64_t k = 0; k < max_group; ++k) {
        const auto token = first + static_cast<std::uint32_t>(k);
        index[r * static_cast<std::size_t>(max_group) + static_cast<std::size_t>(k)] = token < last ? token : last - 1;
        padding[r * static_cast<std::size_t>(max_group) + static_cast<std::size_t>(k)] = token < last ? 0 : 1;
      }
    }
    targets = torch::tensor(t, torch::kInt64);
    group_index = torch::tensor(index, torch::kInt64).view({rows, max_group});
    group_padding = torch::tensor(std::vector<std::int64_t>(padding.begin(), padding.end()), torch::kInt64).view({rows, max_group}).to(torch::kBool);
    target_position = torch::tensor(position, torch::kInt64).view({rows, 1});
  }
  [[nodiscard]] std::int64_t tensor_bytes() const { return logits.numel() * static_cast<std::int64_t>(sizeof(float)); }
};

/// The padded variant is left out where [rows, G, maxg] would exceed this.
inline constexpr std::int64_t max_padded_elements = std::int64_t{1} << 28;

inline bool always(const torch_problem&) { return true; }
inline bool padded_fits(const torch_problem& p) {
  return static_cast<std::int64_t>(p.shape->rows) * p.groups * p.max_group <= max_padded_elements;
}

inline void softmax_narrow(const torch_problem& p) {
  const auto& s = *p.shape;
  for (std::uint32_t g = 0; g < s.groups(); ++g) {
    const std::int64_t first = s.group_offsets[g];
    const std::int64_t size = s.group_offsets[g + 1] - s.group_offsets[g];
    p.out.narrow(1, first, size).copy_(torch::softmax(p.logits.narrow(1, first, size), 1));
  }
}

inline void softmax_padded(const torch_problem& p) {
  const std::int64_t rows = p.logits.size(0);
  auto padded = torch::full({rows, p.groups * p.max_group}, -std::numeric_limits<float>::infinity(), p.logits.options());
  padded.index_copy_(1, p.pad_index, p.logits);
  auto probabilities = torch::softmax(padded.view({rows, p.groups, p.max_group}), -1).view({rows, p.groups * p.max_group});
  torch::Tensor out = p.out;  // a handle to the same storage
  torch::index_select_out(out, probabilities, 1, p.pad_index);
}

inline void softmax_segment_reduce(const torch_problem& p) {
  const auto max = at::segment_reduce(p.logits, "max", p.lengths_rows, {}, {}, 1, true);
  const auto shifted = p.logits - torch::repeat_interleave(max, p.lengths, 1);
  const auto exps = shifted.exp();
  const auto sums = at::segment_reduce(exps, "sum", p.lengths_rows, {}, {}, 1, true);
  torch::Tensor out = p.out;
  torch::div_out(out, exps, torch::repeat_interleave(sums, p.lengths, 1));
}

/// What a fused NLL variant returns: the losses [rows, 1] and their sum's
/// gradient w.r.t. the logits [rows, V].
struct nll_result {
  torch::Tensor loss;
  torch::Tensor grad;
};

/// The target group's logits, -inf padded: [rows, maxg].
inline torch::Tensor target_group_logits(const torch_problem& p, const torch::Tensor& logits) {
  return logits.gather(1, p.group_index).masked_fill(p.group_padding, -std::numeric_limits<float>::infinity());
}

inline nll_result nll_gather_manual(const torch_problem& p) {
  const auto log_p = torch::log_softmax(target_group_logits(p, p.logits), 1);
  const auto loss = -log_p.gather(1, p.target_position);
  auto grad_group = log_p.exp();
  grad_group.scatter_add_(1, p.target_position, torch::full_like(p.target_position, -1, grad_group.options()));
  grad_group.masked_fill_(p.group_padding, 0.0f);
  // Padding slots point at the group's last token and carry 0: scatter_add is exact.
  p.out.zero_();
  p.out.scatter_add_(1, p.group_index, grad_group);
  return {loss, p.out};
}

inline nll_result nll_gather_autograd(const torch_problem& p) {
  auto logits = p.logits.detach().requires_grad_(true);
  const auto log_p = torch::log_softmax(target_group_logits(p, logits), 1);
  const auto row_losses = -log_p.gather(1, p.target_position);
  row_losses.sum().backward();
  return {row_losses.detach(), logits.grad()};
}

/// A block-softmax variant: writes the probabilities into `p.out`.
struct torch_softmax_variant {
  const char* name;
  void (*run)(const torch_problem& p);
  bool (*applies)(const torch_problem& p);
};

/// A fused NLL variant: returns the per-row losses and the gradient.
struct torch_nll_variant {
  const char* name;
  nll_result (*run)(const torch_problem& p);
};

inline constexpr std::array<torch_softmax_variant, 3> torch_softmax_variants{{
    {"torch_narrow", softmax_narrow, always},
    {"torch_padded", softmax_padded, padded_fits},
    {"torch_segment_reduce", softmax_segment_reduce, always},
}};

inline constexpr std::array<torch_nll_variant, 2> torch_nll_variants{{
    {"torch_gather_manual", nll_gather_manual},
    {"torch_gather_autograd", nll_gather_autograd},
}};

}  // namespace labelgraph::bench
