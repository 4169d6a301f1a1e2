#pragma once
/// \file
/// The fused NLL of a row whose normalisation set is cut by C(u), for host
/// backends: N = C(u) ∩ N(t) is a run of u's ascending candidate list, found
/// by two binary searches, and the row costs O(|N|) plus the gradient's zero
/// fill instead of a masked pass over all V tokens. A backend supplies its
/// own unmasked row kernel; this header only decides where it runs:
///
/// - N's tokens consecutive (a sibling group, or C(u) = every token): in
///   place on the row, as for an unmasked block set;
/// - otherwise (and when no gradient is wanted): on N's logits gathered into
///   scratch, with the gradient scattered back.
///
/// The formulas are the kernel's with N as the set; tokens outside N get a
/// zero gradient. Gathering keeps the token order, so MaxSup's argmax stays
/// N's lowest token of the maximum.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>

#include "labelgraph/paths/output_layout.hpp"

namespace labelgraph::detail {

/// C(u) ∩ [begin, end): the run of u's ascending candidate list inside the token range.
[[nodiscard]] inline std::span<const token_id> candidates_in(const layout_view& layout, node_id u, std::uint32_t begin,
                                                             std::uint32_t end) noexcept {
  const token_id* first = layout.candidate_tokens + layout.candidate_offsets[u];
  const token_id* last = layout.candidate_tokens + layout.candidate_offsets[u + 1];
  first = std::lower_bound(first, last, begin);
  last = std::lower_bound(first, last, end);
  return {first, last};
}

/// True when the ascending tokens `run` are consecutive (one token range).
[[nodiscard]] inline bool consecutive(std::span<const token_id> run) noexcept {
  return !run.empty() && run.back() - run.front() + 1 == run.size();
}

/// The fused NLL of row `z` (length `tokens`) over the set N = `run` with
/// target `target` ∈ N. `row_nll(z, grad, length, begin, end, target)` is the
/// backend's unmasked kernel over the set [begin, end) of a row of `length`:
/// it returns {loss, lse} and writes `grad` on [begin, end) only. `grad` may
/// be null (no gradient output) or `z` (in place); `row_is_zero`: the caller
/// zeroed the gradient row already. `scratch` holds at least 2 |N| elements.
template <class T, class RowNll>
auto candidate_set_nll(const T* z, T* grad, std::size_t tokens, std::span<const token_id> run, token_id target, T weight,
                       bool row_is_zero, T* scratch, RowNll&& row_nll) noexcept
    -> decltype(row_nll(z, grad, tokens, std::uint32_t{}, std::uint32_t{}, target)) {
  const auto k = static_cast<std::uint32_t>(run.size());
  if (k == 0) {  // no mass (a target outside C(u) is refused before the kernels)
    if (grad != nullptr && !row_is_zero) std::fill(grad, grad + tokens, T(0));
    return {weight == T(0) ? T(0) : weight * std::numeric_limits<T>::infinity(), -std::numeric_limits<T>::infinity()};
  }
  if (grad != nullptr && consecutive(run)) {
    const std::uint32_t begin = run.front(), end = run.back() + 1;
    const auto result = row_nll(z, grad, tokens, begin, end, target);
    if (!row_is_zero) {
      std::fill(grad, grad + begin, T(0));
      std::fill(grad + end, grad + tokens, T(0));
    }
    return result;
  }
  // Gather (before the gradient, which may be the logits, is written), run, scatter.
  T* gathered = scratch;
  T* gathered_grad = scratch + k;
  for (std::uint32_t i = 0; i < k; ++i) gathered[i] = z[run[i]];
  const auto position = static_cast<token_id>(std::lower_bound(run.begin(), run.end(), target) - run.begin());
  const auto result = row_nll(gathered, gathered_grad, std::size_t{k}, std::uint32_t{0}, k, position);
  if (grad != nullptr) {
    if (!row_is_zero) std::fill(grad, grad + tokens, T(0));
    for (std::uint32_t i = 0; i < k; ++i) grad[run[i]] = gathered_grad[i];
  }
  return result;
}

}  // namespace labelgraph::detail
