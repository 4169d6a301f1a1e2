#pragma once
/// \file
/// The normalisation sets and the mask of the rows of one kernel call, as the
/// host backends' row kernels take them (cpu, xtensor): contiguous token
/// groups (the layout's groups for `block`, the single group [0, V) for
/// `full` / `candidate`) and, per row, the allowed tokens M as bytes.

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "labelgraph/backend/candidate_nll.hpp"
#include "labelgraph/ops/mask.hpp"
#include "labelgraph/paths/output_layout.hpp"

namespace labelgraph::detail {

/// A set's token range [begin, end).
struct token_range {
  std::uint32_t begin;
  std::uint32_t end;
  [[nodiscard]] std::uint32_t size() const noexcept { return end - begin; }
};

/// The sets and the mask of one call over rows of `row_length` tokens.
class row_sets {
public:
  row_sets(const normalization_spec& spec, std::size_t row_length)
      : spec_(spec), whole_row_{0, static_cast<std::uint32_t>(row_length)}, row_length_(row_length) {}

  /// The sets' offsets: `groups() + 1` ascending tokens from 0 to V.
  [[nodiscard]] const std::uint32_t* offsets() const noexcept {
    return spec_.per_group() ? spec_.layout.group_offsets : whole_row_.data();
  }
  [[nodiscard]] std::uint32_t groups() const noexcept { return spec_.per_group() ? spec_.layout.groups : 1u; }

  /// The tokens of the set holding `token`.
  [[nodiscard]] token_range set_of(token_id token) const noexcept {
    if (!spec_.per_group()) return {0, whole_row_[1]};
    const std::uint32_t g = spec_.layout.token_group[token];
    return {spec_.layout.group_offsets[g], spec_.layout.group_offsets[g + 1]};
  }

  /// M of `row` as bytes: the dense mask's row, C(u) spread into the
  /// `row_length` bytes that `bytes(row_length)` lends, or nullptr when every
  /// token is allowed.
  template <class Bytes>
  [[nodiscard]] const std::uint8_t* allowed(std::size_t row, Bytes&& bytes) const {
    switch (spec_.mask.kind) {
      case mask_kind::none: return nullptr;
      case mask_kind::dense: return spec_.mask.dense.row(row);
      case mask_kind::candidates: {
        std::uint8_t* spread = bytes(row_length_);
        std::fill(spread, spread + row_length_, std::uint8_t{0});
        const node_id u = spec_.mask.nodes(row);
        const layout_view& layout = spec_.layout;
        for (std::uint32_t i = layout.candidate_offsets[u]; i < layout.candidate_offsets[u + 1]; ++i) {
          spread[layout.candidate_tokens[i]] = 1;
        }
        return spread;
      }
    }
    return nullptr;
  }

  /// True when M is each row's C(u) (`candidates_in` applies).
  [[nodiscard]] bool candidate_lists() const noexcept { return spec_.mask.kind == mask_kind::candidates; }

  /// The tokens of C(u) of `row` inside `set`: a run of u's ascending list.
  [[nodiscard]] std::span<const token_id> candidates_in(std::size_t row, token_range set) const noexcept {
    return detail::candidates_in(spec_.layout, spec_.mask.nodes(row), set.begin, set.end);
  }

private:
  const normalization_spec& spec_;
  std::array<std::uint32_t, 2> whole_row_;
  std::size_t row_length_;
};

}  // namespace labelgraph::detail
