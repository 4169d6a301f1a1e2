#pragma once
/// \file
/// Segmented reductions over rows, for multi-path pooling: segment s is
/// values[offsets(s) .. offsets(s+1)), out(s) its sum, mean, log-sum-exp,
/// max or min, or index(s) its argmin (position within the segment, ties to
/// the lowest). Empty segments: sum 0, mean 0, logsumexp −inf, max −inf,
/// min +inf, argmin `no_index`. NaN propagates to its own segment only.

#include <cstdint>
#include <string>
#include <type_traits>

#include "labelgraph/backend/concept.hpp"
#include "labelgraph/error.hpp"
#include "labelgraph/ops/detail/validate.hpp"
#include "labelgraph/ops/options.hpp"

namespace labelgraph {

/// Reduces each segment of `values`; `out` [S] receives the values (for argmin
/// optional: the minima), `index` [S] the argmin positions (argmin only).
template <backend B, class T>
void segmented_reduce(const B& backend, reduction kind, std::type_identity_t<tensor_view<const T, 1>> values,
                      tensor_view<const std::uint32_t, 1> offsets, tensor_view<T, 1> out,
                      tensor_view<std::uint32_t, 1> index = {}) {
  if (offsets.extent(0) == 0) LABELGRAPH_THROW(shape_error("offsets: expected [segments + 1], got [0]"));
  const std::size_t segments = offsets.extent(0) - 1;
  detail::check_tensor<B>("values", values, {values.extent(0)});
  detail::check_tensor<B>("offsets", offsets, {segments + 1});
  if (kind == reduction::argmin) {
    detail::check_tensor<B>("index", index, {segments});
    detail::check_optional_tensor<B>("out", out, {segments});
  } else {
    detail::check_tensor<B>("out", out, {segments});
    if (!index.empty()) {
      LABELGRAPH_THROW(argument_error("index: only reduction argmin writes an index, not " + std::string(to_string(kind))));
    }
  }
  detail::check_no_overlap("out", out, "values", values, false);
  detail::check_no_overlap("out", out, "offsets", offsets, false);
  detail::check_no_overlap("index", index, "values", values, false);
  detail::check_no_overlap("index", index, "offsets", offsets, false);
  detail::check_no_overlap("index", index, "out", out, false);
  if constexpr (detail::host_backend<B>) {
    if (offsets(0) != 0) {
      LABELGRAPH_THROW(argument_error("offsets: must start at 0, got " + std::to_string(offsets(0))));
    }
    for (std::size_t s = 0; s < segments; ++s) {
      if (offsets(s + 1) < offsets(s)) {
        LABELGRAPH_THROW(argument_error("offsets: must not decrease, got " + std::to_string(offsets(s)) + " then " +
                                        std::to_string(offsets(s + 1)) + " at segment " + std::to_string(s)));
      }
    }
    if (offsets(segments) != values.extent(0)) {
      LABELGRAPH_THROW(argument_error("offsets: must end at the number of values (" + std::to_string(values.extent(0)) +
                                      "), got " + std::to_string(offsets(segments))));
    }
  }
  segmented_reduce_kernel(backend, kind, values, offsets, out, index);
}

}  // namespace labelgraph
