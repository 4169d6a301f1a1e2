/// \file
/// The non-temporal zero fill of the fused NLL's gradient
/// (labelgraph/backend/stream_zero.hpp): `detail::zero_block` at every
/// alignment, and the cpu and xtensor kernels on a gradient larger than
/// `streaming_gradient_bytes` (the only size at which they stream, or zero
/// short rows one by one) against the reference backend.

#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

#include "labelgraph/backends/cpu.hpp"
#include "labelgraph/backends/reference.hpp"
#include "labelgraph/ops/ops.hpp"
#include "test_support.hpp"
#if __has_include("labelgraph/backends/xtensor.hpp")
#include "labelgraph/backends/xtensor.hpp"
#define LABELGRAPH_TEST_XTENSOR_STREAMING 1
#endif

namespace {

namespace lg = labelgraph;
using lg::testing::mask_case;

template <class T>
void check_zero_block_everywhere() {
  constexpr T sentinel = T(7);
  for (const bool streaming : {false, true}) {
    for (std::size_t offset = 0; offset < 20; ++offset) {
      for (std::size_t n = 0; n < 70; ++n) {
        alignas(64) T buffer[128];
        for (T& x : buffer) x = sentinel;
        lg::detail::zero_block(buffer + offset, n, streaming);
        std::size_t wrong = 0;
        for (std::size_t i = 0; i < 128; ++i) {
          const bool inside = i >= offset && i < offset + n;
          wrong += (buffer[i] == (inside ? T(0) : sentinel)) ? 0 : 1;
        }
        INFO("streaming " << streaming << ", offset " << offset << ", n " << n);
        CHECK(wrong == 0);
      }
    }
  }
}

/// The fused NLL of `batch_rows` rows whose group sizes cycle through
/// `sizes` (EOP last, `tokens` in all) on the cpu and xtensor backends
/// against the reference: a float gradient of at least
/// `streaming_gradient_bytes`, whose rows start at every alignment when
/// `tokens` is odd; with regulariser `reg` and mask `mask` (block
/// normalisation): `dense` masks every fifth token, never the target;
/// `candidates` gives C(u) lists of 5 nodes, node k dropping the tokens v
/// with (v + k) % 5 == 2 and node 4 none.
void check_large_gradient(std::size_t batch_rows, std::uint32_t tokens, const std::vector<std::uint32_t>& sizes,
                          const lg::regularizer& reg = {}, mask_case mask = mask_case::none) {
  std::vector<std::uint32_t> offsets{0};
  for (std::size_t i = 0; offsets.back() < tokens - 1; ++i) {
    offsets.push_back(std::min(tokens - 1, offsets.back() + sizes[i % sizes.size()]));
  }
  offsets.push_back(tokens);
  std::vector<std::uint32_t> token_group;
  for (std::uint32_t g = 0; g + 1 < offsets.size(); ++g) token_group.insert(token_group.end(), offsets[g + 1] - offsets[g], g);
  lg::layout_view layout;
  layout.tokens = tokens;
  layout.groups = static_cast<std::uint32_t>(offsets.size() - 1);
  layout.eop = tokens - 1;
  layout.group_offsets = offsets.data();
  layout.token_group = token_group.data();
  constexpr std::uint32_t node_count = 5;
  const auto node_allows = [](std::uint32_t node, std::uint32_t v) { return node == 4 || (v + node) % 5 != 2; };
  std::vector<std::uint32_t> candidate_offsets{0};
  std::vector<lg::token_id> candidate_tokens;
  for (std::uint32_t node = 0; node < node_count; ++node) {
    for (std::uint32_t v = 0; v < tokens; ++v) {
      if (node_allows(node, v)) candidate_tokens.push_back(v);
    }
    candidate_offsets.push_back(static_cast<std::uint32_t>(candidate_tokens.size()));
  }
  layout.nodes = node_count;
  layout.candidate_offsets = candidate_offsets.data();
  layout.candidate_tokens = candidate_tokens.data();
  REQUIRE(batch_rows * tokens * sizeof(float) >= lg::detail::streaming_gradient_bytes);

  std::mt19937_64 rng(5);
  std::normal_distribution<float> normal(0.0f, 3.0f);
  std::vector<float> logits(batch_rows * tokens);
  for (float& x : logits) x = normal(rng);
  std::vector<lg::token_id> targets(batch_rows);
  std::vector<lg::node_id> nodes(batch_rows);
  for (std::size_t r = 0; r < batch_rows; ++r) {
    nodes[r] = static_cast<lg::node_id>(r % node_count);
    auto target = static_cast<lg::token_id>((r * 2654435761ULL) % tokens);
    if (mask == mask_case::candidates && !node_allows(nodes[r], target)) target = (target + 1) % tokens;  // in C(u)
    targets[r] = r % 97 == 5 ? lg::no_token : target;
  }
  // allowed(r, v) for every mask; the dense mask's tensor when `mask` is dense.
  std::vector<std::uint8_t> allowed(mask == mask_case::none ? 0 : batch_rows * tokens);
  for (std::size_t i = 0; i < allowed.size(); ++i) {
    const std::size_t r = i / tokens;
    const auto v = static_cast<std::uint32_t>(i % tokens);
    allowed[i] = mask == mask_case::dense ? (i % 5 != 2 || targets[r] == v) : node_allows(nodes[r], v);
    if (targets[r] == v) REQUIRE(allowed[i] != 0);
  }

  struct outputs {
    std::vector<float> loss;
    std::vector<float> grad;
    std::vector<float> lse;
    outputs(std::size_t row_count, std::size_t size)
        : loss(row_count), grad(size, std::numeric_limits<float>::quiet_NaN()), lse(row_count) {}  // NaN: every element must be written
  };
  const auto run = [&](const auto& backend, outputs& out) {
    lg::block_nll_tensors<float> t;
    t.logits = lg::tensor_view<const float, 2>(logits.data(), {batch_rows, tokens});
    t.targets = lg::tensor_view<const lg::token_id, 1>(targets.data(), {batch_rows});
    t.loss = lg::tensor_view<float, 1>(out.loss.data(), {batch_rows});
    t.grad_logits = lg::tensor_view<float, 2>(out.grad.data(), {batch_rows, tokens});
    t.log_normalizer = lg::tensor_view<float, 1>(out.lse.data(), {batch_rows});
    lg::row_mask rows_mask = lg::row_mask::all();
    if (mask == mask_case::dense) rows_mask = lg::row_mask::from_dense(lg::tensor_view<const std::uint8_t, 2>(allowed.data(), {batch_rows, tokens}));
    if (mask == mask_case::candidates) rows_mask = lg::row_mask::from_candidates(lg::tensor_view<const lg::node_id, 1>(nodes.data(), {batch_rows}));
    lg::block_nll(backend, layout, lg::normalization::block, rows_mask, t, reg);
  };
  outputs expected(batch_rows, batch_rows * tokens);
  run(lg::backends::reference{}, expected);
  const auto check = [&](const auto& backend, const char* name) {
    INFO(name);
    outputs actual(batch_rows, batch_rows * tokens);
    run(backend, actual);
    std::size_t wrong = 0;
    std::size_t first_wrong = 0;
    for (std::size_t i = 0; i < batch_rows * tokens; ++i) {
      const float e = expected.grad[i];
      const float a = actual.grad[i];
      // Exact zeros outside the target's set and on masked tokens; the set
      // within float accuracy (a singleton set's MaxSup gradient is 0 only
      // up to rounding).
      const lg::token_id target = targets[i / tokens];
      const bool in_set = target != lg::no_token && token_group[i % tokens] == token_group[target] &&
                          (allowed.empty() || allowed[i] != 0);
      const bool right = in_set ? std::abs(a - e) <= 1e-6f * std::max(1.0f, std::abs(e)) : a == 0.0f && e == 0.0f;
      if (!right && wrong++ == 0) first_wrong = i;
    }
    INFO("first wrong: row " << first_wrong / tokens << ", token " << first_wrong % tokens << ": "
                             << actual.grad[first_wrong] << " instead of " << expected.grad[first_wrong]);
    CHECK(wrong == 0);
    for (std::size_t r = 0; r < batch_rows; ++r) {
      INFO("row " << r);
      REQUIRE(actual.loss[r] == Approx(expected.loss[r]).epsilon(1e-6).margin(1e-6));
      REQUIRE(actual.lse[r] == Approx(expected.lse[r]).epsilon(1e-6).margin(1e-6));
    }
  };
  check(lg::backends::cpu(2), "cpu");
#ifdef LABELGRAPH_TEST_XTENSOR_STREAMING
  check(lg::backends::xtensor(2), "xtensor");
#endif
}

}  // namespace

TEST_CASE("zero_block zeroes exactly its range at every alignment, streamed or not", "[cpu][streaming]") {
  check_zero_block_everywhere<float>();
  check_zero_block_everywhere<double>();
}

TEST_CASE("cpu, xtensor: the fused NLL of a gradient larger than the cache matches the reference",
          "[cpu][xtensor][streaming]") {
  SECTION("long rows: row blocks zeroed by non-temporal stores") {
    // 2048 rows of 4101 tokens: 33.6 MB, groups of 1..23 tokens.
    REQUIRE(lg::detail::streaming_pays(2048, 4101 * sizeof(float)));
    std::vector<std::uint32_t> sizes(23);
    for (std::uint32_t i = 0; i < 23; ++i) sizes[i] = i + 1;
    check_large_gradient(2048, 4101, sizes);
  }
  // Short rows: 32771 rows of 257 tokens (33.7 MB), each row zeroed just
  // before its set (cpu: gradient_fill::zeroed_rows); sets of 1-17 tokens
  // and two of more than the cpu's 4 packets in registers (70, 66).
  const std::vector<std::uint32_t> short_row_groups{1, 70, 2, 9, 17, 3, 5, 66, 12, 4, 1, 16, 8};
  SECTION("short rows: each row zeroed just before its set (cpu: gradient_fill::zeroed_rows)") {
    REQUIRE(lg::backends::cpu_detail::zeroing_rows_pays<float>(32771, 257));
    check_large_gradient(32771, 257, short_row_groups);
  }
  SECTION("short rows with label smoothing") {
    check_large_gradient(32771, 257, short_row_groups, lg::regularizer::label_smoothing(0.1));
  }
  SECTION("short rows with MaxSup and a dense mask") {
    check_large_gradient(32771, 257, short_row_groups, lg::regularizer::max_suppression(0.1), mask_case::dense);
  }
  SECTION("short rows with C(u) lists") {
    check_large_gradient(32771, 257, short_row_groups, {}, mask_case::candidates);
  }
  SECTION("short rows with C(u) lists and label smoothing") {
    check_large_gradient(32771, 257, short_row_groups, lg::regularizer::label_smoothing(0.1), mask_case::candidates);
  }
}
