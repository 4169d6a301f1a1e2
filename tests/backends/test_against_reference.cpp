// Every kernel of every backend against the reference backend, on the pet
// layout and on random layouts, for every normalization and mask kind, float
// (1e-6 relative) and double (1e-12 relative). The floor of the relative
// tolerance is the scale of the values an output is computed from: 1e-3 for
// probabilities, the logits' scale for log-domain values (z − lse cannot be
// more accurate than the ulp of z), 1 for gradients.
#include <catch2/catch.hpp>

#include <random>
#include <type_traits>
#include <vector>

#include "test_support.hpp"

using namespace labelgraph;
using namespace labelgraph::testing;

namespace {

constexpr double logit_scale = 4.0;

/// One randomised problem: layout, logits (with row padding), mask, upstream gradient.
template <class T>
struct problem {
  layout_view layout;
  host_matrix<T> logits;
  host_matrix<T> upstream;
  mask_fixture mask;
  std::vector<token_id> targets;
  std::vector<T> weights;
};

template <class T>
problem<T> make_problem(std::mt19937_64& rng, const layout_view& layout, std::size_t rows, mask_case which) {
  problem<T> p;
  p.layout = layout;
  p.logits = random_logits<T>(rng, rows, layout.tokens, logit_scale, 3);
  p.upstream = random_logits<T>(rng, rows, layout.tokens, 1.0);
  p.mask = make_mask(which, rng, layout, rows);
  p.targets = random_targets(rng, layout, p.mask.mask, rows);
  std::uniform_real_distribution<double> weight(0.5, 2.0);
  for (std::size_t r = 0; r < rows; ++r) p.weights.push_back(static_cast<T>(weight(rng)));
  return p;
}

template <class B, class T>
void compare_softmax_family(const B& backend, const problem<T>& p, normalization norm) {
  const backends::reference oracle;
  const double rel = relative_tolerance<T>;
  const std::size_t rows = p.logits.rows;
  const std::size_t tokens = p.layout.tokens;
  const row_mask& mask = p.mask.mask;
  host_matrix<T> expected(rows, tokens), actual(rows, tokens, 1);

  block_softmax(oracle, p.layout, p.logits.view(), expected.view(), norm, mask);
  block_softmax(backend, p.layout, p.logits.view(), actual.view(), norm, mask);
  require_close(actual.view(), expected.view(), rel, 1e-3, "block_softmax");
  host_matrix<T> probabilities = expected;

  block_log_softmax(oracle, p.layout, p.logits.view(), expected.view(), norm, mask);
  block_log_softmax(backend, p.layout, p.logits.view(), actual.view(), norm, mask);
  require_close(actual.view(), expected.view(), rel, logit_scale, "block_log_softmax");
  host_matrix<T> log_probabilities = expected;

  block_softmax_backward(oracle, p.layout, probabilities.view(), p.upstream.view(), expected.view(), norm, mask);
  block_softmax_backward(backend, p.layout, probabilities.view(), p.upstream.view(), actual.view(), norm, mask);
  require_close(actual.view(), expected.view(), rel, 1.0, "block_softmax_backward");
  host_matrix<T> upstream_in_place = p.upstream;  // dz written over dy (the API allows either input)
  block_softmax_backward(backend, p.layout, probabilities.view(), upstream_in_place.view(), upstream_in_place.view(), norm, mask);
  require_close(upstream_in_place.view(), expected.view(), rel, 1.0, "block_softmax_backward in place");
  host_matrix<T> probabilities_in_place = probabilities;  // dz written over y
  block_softmax_backward(backend, p.layout, probabilities_in_place.view(), p.upstream.view(), probabilities_in_place.view(),
                         norm, mask);
  require_close(probabilities_in_place.view(), expected.view(), rel, 1.0, "block_softmax_backward in place of y");

  block_log_softmax_backward(oracle, p.layout, log_probabilities.view(), p.upstream.view(), expected.view(), norm, mask);
  block_log_softmax_backward(backend, p.layout, log_probabilities.view(), p.upstream.view(), actual.view(), norm, mask);
  require_close(actual.view(), expected.view(), rel, 1.0, "block_log_softmax_backward");

  // In place: the output is the input tensor.
  host_matrix<T> in_place = p.logits;
  block_softmax(backend, p.layout, in_place.view(), in_place.view(), norm, mask);
  require_close(in_place.view(), probabilities.view(), rel, 1e-3, "block_softmax in place");
}

template <class B, class T>
void compare_nll(const B& backend, const problem<T>& p, normalization norm, regularizer reg, bool weighted) {
  const backends::reference oracle;
  const double rel = relative_tolerance<T>;
  const std::size_t rows = p.logits.rows;
  const std::size_t tokens = p.layout.tokens;
  struct outputs {
    std::vector<T> loss, lse, total;
    host_matrix<T> grad;
  };
  // Gradient rows padded (each row zeroed around its set) or contiguous (the
  // cpu backend zeroes whole row blocks first, then writes only the sets).
  const auto run = [&](const auto& which, outputs& out, std::size_t padding = 2) {
    out.loss.assign(rows, T(-7));
    out.lse.assign(rows, T(-7));
    out.total.assign(1, T(-7));
    out.grad = host_matrix<T>(rows, tokens, padding, T(-7));
    block_nll_tensors<T> io{p.logits.view(),   host_view(p.targets), weighted ? host_view(p.weights) : tensor_view<const T, 1>{},
                            host_view(out.loss), out.grad.view(),     host_view(out.lse),
                            host_view(out.total)};
    block_nll(which, p.layout, norm, p.mask.mask, io, reg);
  };
  outputs expected, actual;
  run(oracle, expected);
  run(backend, actual);
  require_close(host_view(std::as_const(actual.loss)), host_view(std::as_const(expected.loss)), rel, logit_scale, "loss");
  require_close(host_view(std::as_const(actual.lse)), host_view(std::as_const(expected.lse)), rel, logit_scale, "lse");
  require_close(actual.grad.view(), expected.grad.view(), rel, 1.0, "grad_logits");
  outputs contiguous;
  run(backend, contiguous, 0);
  require_close(contiguous.grad.view(), expected.grad.view(), rel, 1.0, "grad_logits, contiguous rows");
  require_close(host_view(std::as_const(contiguous.loss)), host_view(std::as_const(expected.loss)), rel, logit_scale,
                "loss, contiguous rows");
  // The total is a sum of rows losses: its error scales with the sum of their magnitudes.
  double magnitude = 0.0;
  for (T loss : expected.loss) magnitude += std::abs(static_cast<double>(loss));
  CHECK(close(static_cast<double>(actual.total[0]), static_cast<double>(expected.total[0]), rel, magnitude));

  // Loss only (no optional outputs), then in place: gradient written over the logits.
  std::vector<T> loss_only(rows);
  block_nll_tensors<T> minimal{p.logits.view(), host_view(p.targets), {}, host_view(loss_only), {}, {}, {}};
  if (!weighted) {
    block_nll(backend, p.layout, norm, p.mask.mask, minimal, reg);
    require_close(host_view(std::as_const(loss_only)), host_view(std::as_const(expected.loss)), rel, logit_scale, "loss only");
    host_matrix<T> in_place = p.logits;
    block_nll_tensors<T> io{in_place.view(), host_view(p.targets), {}, host_view(loss_only), in_place.view(), {}, {}};
    block_nll(backend, p.layout, norm, p.mask.mask, io, reg);
    require_close(in_place.view(), expected.grad.view(), rel, 1.0, "grad_logits in place");
  }
}

template <class B, class T>
void compare_everything(const B& backend, const layout_view& layout, std::size_t rows, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  for (mask_case which : {mask_case::none, mask_case::dense, mask_case::candidates}) {
    for (normalization norm : {normalization::block, normalization::full, normalization::candidate}) {
      if (norm == normalization::candidate && which == mask_case::none) continue;
      INFO("normalization " << to_string(norm) << ", mask " << static_cast<int>(which));
      const problem<T> p = make_problem<T>(rng, layout, rows, which);
      compare_softmax_family(backend, p, norm);
      for (regularizer reg : {regularizer{}, regularizer::label_smoothing(0.1), regularizer::max_suppression(0.15)}) {
        INFO("regularizer " << static_cast<int>(reg.kind));
        compare_nll(backend, p, norm, reg, false);
        compare_nll(backend, p, norm, reg, true);
      }
    }
  }
}

/// Random logits and upstream gradients, no mask; targets and weights are the caller's.
template <class T>
problem<T> unmasked_problem(std::mt19937_64& rng, const layout_view& view, std::size_t rows) {
  problem<T> p;
  p.layout = view;
  p.logits = random_logits<T>(rng, rows, view.tokens, logit_scale);
  p.upstream = random_logits<T>(rng, rows, view.tokens, 1.0);
  p.mask = make_mask(mask_case::none, rng, view, rows);
  return p;
}

}  // namespace

TEMPLATE_LIST_TEST_CASE("every softmax-family kernel matches the reference on the pet layout", "[backends][reference]",
                        backends_under_test) {
  const output_layout pets = make_output_layout(pet_graph());
  // 33 non-root nodes + EOP; groups species 2, hair 3, color 3, size 3, coat 2, cat-breed 12, dog-breed 8, EOP 1.
  REQUIRE(pets.token_count() == 34);
  REQUIRE(std::vector<std::uint32_t>(pets.group_offsets().begin(), pets.group_offsets().end()) ==
          std::vector<std::uint32_t>{0, 2, 5, 8, 11, 13, 25, 33, 34});
  for_each_instance_and_type<TestType>([&]<class T>(const TestType& backend, std::type_identity<T>) {
    compare_everything<TestType, T>(backend, pets.view(), 37, 11);
  });
}

TEMPLATE_LIST_TEST_CASE("every softmax-family kernel matches the reference on random layouts", "[backends][reference]",
                        backends_under_test) {
  for_each_instance_and_type<TestType>([&]<class T>(const TestType& backend, std::type_identity<T>) {
    std::mt19937_64 rng(2024);
    // Small groups, medium groups, and large groups (full SIMD vectors plus tails).
    const synthetic_layout small = synthetic_layout::random(rng, 12, 6, 9);
    const synthetic_layout medium = synthetic_layout::random(rng, 9, 40, 7);
    const synthetic_layout large = synthetic_layout::random(rng, 6, 140, 5);
    compare_everything<TestType, T>(backend, small.view(), 29, 1);
    compare_everything<TestType, T>(backend, medium.view(), 23, 2);
    compare_everything<TestType, T>(backend, large.view(), 17, 3);
  });
}

TEMPLATE_LIST_TEST_CASE("every softmax-family kernel matches the reference on a layout with every kind of row-plan step",
                        "[backends][reference]", backends_under_test) {
  // The row plan (labelgraph/backend/row_plan.hpp; cpu: AVX-512 rows, xtensor:
  // xsimd batches of 2-16 lanes) cuts a row into windows of small groups
  // sharing a vector, groups of up to 4 vectors in registers, and longer
  // groups in passes. These sizes reach each window shape (a group of 9..16
  // needs the segmented reduction's 8-lane step, two groups of 8 meet in the
  // middle, 16 singletons fill a packet), every register count with full and
  // partial tails, the passes, and a last window that would pass the row's
  // end. The xtensor backend takes its tiles for the log-softmax when at
  // least half of the tokens are in groups under 64, as here, and its row
  // plan once two long groups are added in front; for the softmax, only when
  // groups average at most 8 tokens, as in the first 23 groups alone.
  std::vector<std::uint32_t> sizes = {9, 7, 16, 3, 13, 8, 8};
  for (int i = 0; i < 16; ++i) sizes.push_back(1);
  const std::vector<std::uint32_t> small_groups = sizes;  // 80 tokens in 23 groups
  for (std::uint32_t size : {15u, 1u, 12u, 2u, 2u, 2u, 10u, 17u, 32u, 33u, 48u, 49u, 64u, 65u, 100u, 5u, 1u}) sizes.push_back(size);
  std::vector<std::uint32_t> long_first = {300, 251};
  long_first.insert(long_first.end(), sizes.begin(), sizes.end());
  for (const std::vector<std::uint32_t>& layout_sizes : {small_groups, sizes, long_first}) {
    std::uint32_t tokens = 0;
    for (std::uint32_t size : layout_sizes) tokens += size;
    INFO(tokens << " tokens");
    std::vector<token_id> every_other, last_groups;
    for (token_id t = 0; t < tokens; t += 2) every_other.push_back(t);
    for (token_id t = tokens > 180 ? tokens - 180 : tokens / 2; t < tokens; ++t) last_groups.push_back(t);
    const synthetic_layout layout(layout_sizes, {every_other, last_groups, {3, 4, 5}});
    for_each_instance_and_type<TestType>([&]<class T>(const TestType& backend, std::type_identity<T>) {
      compare_everything<TestType, T>(backend, layout.view(), 13, 4);
    });
  }
}

TEMPLATE_LIST_TEST_CASE("block softmax keeps its accuracy when groups sit far below the row's max",
                        "[backends][reference]", backends_under_test) {
  // The row plans take the row's max M as every group's shift (row_plan.hpp):
  // z − M of magnitude 16..32 rounds by up to 2^-20, which exp would turn
  // into relative errors of 1e-6 and more without the TwoSum correction. One
  // token per row lifts M to 22 (every group within the shared path's reach),
  // 30 (some groups past it: their steps fall back to their own max) or
  // leaves the row as it is; every probability must still match the
  // reference to 1e-6 (float) and 1e-12 (double).
  std::vector<std::uint32_t> sizes = {300, 251, 9, 7, 16, 3, 13, 8, 8, 1, 1, 1, 15, 12, 2, 10, 17, 32, 33, 48, 49, 64, 65, 5};
  std::uint32_t tokens = 0;
  for (std::uint32_t size : sizes) tokens += size;
  const synthetic_layout layout(sizes, {});
  const layout_view view = layout.view();
  const std::size_t rows = 48;
  for_each_instance_and_type<TestType>([&]<class T>(const TestType& backend, std::type_identity<T>) {
    std::mt19937_64 rng(2106);
    host_matrix<T> logits = random_logits<T>(rng, rows, tokens, logit_scale);
    for (std::size_t r = 0; r < rows; ++r) {
      if (r % 3 != 2) logits(r, (r * 37) % tokens) = static_cast<T>(r % 3 == 0 ? 22 : 30);
    }
    const backends::reference oracle;
    host_matrix<T> expected(rows, tokens), actual(rows, tokens);
    block_softmax(oracle, view, logits.view(), expected.view(), normalization::block, row_mask{});
    block_softmax(backend, view, logits.view(), actual.view(), normalization::block, row_mask{});
    require_close(actual.view(), expected.view(), relative_tolerance<T>, 1e-3, "block_softmax");
  });
}

TEMPLATE_LIST_TEST_CASE("kernels match the reference on a shape large enough to be split across threads",
                        "[backends][reference]", backends_under_test) {
  std::mt19937_64 rng(77);
  const synthetic_layout layout = synthetic_layout::random(rng, 40, 60, 16);
  for_each_instance<TestType>([&](const TestType& backend, const std::string&) {
    const problem<float> p = make_problem<float>(rng, layout.view(), 700, mask_case::candidates);
    compare_softmax_family(backend, p, normalization::block);
    compare_softmax_family(backend, p, normalization::candidate);
    compare_nll(backend, p, normalization::candidate, regularizer::label_smoothing(0.1), true);
    compare_nll(backend, p, normalization::block, regularizer::max_suppression(0.1), false);
  });
}

TEMPLATE_LIST_TEST_CASE("the fused NLL of rows whose every set fits a few vectors matches the reference, special rows included",
                        "[backends][reference]", backends_under_test) {
  // Where every set fits one vector of 16 floats and rows are at most 1 KiB,
  // the cpu backend's AVX-512 build runs each row on one vector, its set
  // loaded and stored with masks, and handles a set without mass by masks
  // instead of a branch (backends/cpu/nll_tiles.hpp, `nll_vector_rows_pay`);
  // sets of up to 4 vectors in rows of large groups take
  // `block_nll_row_in_registers`; the xtensor backend runs each row on one
  // xsimd batch where every set fits one (xtensor/nll_vector_rows.hpp). All
  // shift a set by its target's logit where the sum stays at most 2^64
  // (labelgraph/backend/nll_shift.hpp), by its max otherwise. Groups of 1-16
  // tokens in rows of 70 (the last, 13 tokens, ends the row); the whole row
  // as one set of 16 with the `full` normalization; groups of 3-64 tokens in
  // rows of 193; groups of 1-2 tokens in rows of 17, which fit one batch of
  // every build's width (2-16 lanes), and of 1-8 in rows of 37 (8 lanes and
  // more).
  // Special rows: a set all -inf, a NaN among finite logits, a NaN as a
  // set's only mass, +inf, +-1e30, weight 0, ignored rows, targets at
  // either end of their sets, a target's logit 40, 50 and 100 below
  // another logit of its set (the sum under z_t within the bound, past it,
  // past float's range), and a target's logit -inf among finite ones.
  for (const auto& [sizes, norm] : {std::pair{std::vector<std::uint32_t>{16, 1, 2, 12, 3, 5, 1, 8, 4, 2, 3, 13}, normalization::block},
                                    std::pair{std::vector<std::uint32_t>{3, 5, 7, 1}, normalization::full},
                                    std::pair{std::vector<std::uint32_t>{64, 17, 33, 40, 20, 16, 3}, normalization::block},
                                    std::pair{std::vector<std::uint32_t>{2, 1, 2, 2, 1, 2, 1, 1, 2, 2, 1}, normalization::block},
                                    std::pair{std::vector<std::uint32_t>{8, 1, 4, 3, 8, 2, 5, 1, 5}, normalization::block}}) {
    const synthetic_layout layout(sizes, {{0}});
    const layout_view view = layout.view();
    INFO(to_string(norm) << ", " << view.tokens << " tokens");
    const std::size_t rows = 150;
    for_each_instance_and_type<TestType>([&]<class T>(const TestType& backend, std::type_identity<T>) {
      std::mt19937_64 rng(8086);
      problem<T> p = unmasked_problem<T>(rng, view, rows);
      for (std::size_t r = 0; r < rows; ++r) {
        p.targets.push_back(static_cast<token_id>(rng() % view.tokens));
        p.weights.push_back(static_cast<T>(0.5 + static_cast<double>(r % 3) * 0.25));
      }
      const auto set_of = [&](std::size_t r) {
        if (norm == normalization::full) return std::pair{0u, view.tokens};
        const std::uint32_t g = view.token_group[p.targets[r]];
        return std::pair{view.group_offsets[g], view.group_offsets[g + 1]};
      };
      const T nan = std::numeric_limits<T>::quiet_NaN();
      const T infinity = std::numeric_limits<T>::infinity();
      for (auto [from, to] = set_of(3); from < to; ++from) p.logits(3, from) = -infinity;  // no mass
      p.logits(7, set_of(7).first) = nan;                                                  // NaN among finite logits
      for (auto [from, to] = set_of(11); from < to; ++from) p.logits(11, from) = -infinity;
      p.logits(11, set_of(11).second - 1) = nan;                                           // NaN as the only mass
      p.logits(13, set_of(13).first) = infinity;                                           // +inf
      p.logits(17, set_of(17).first) = T(1e30);
      p.logits(17, set_of(17).second - 1) = T(-1e30);
      p.weights[19] = T(0);
      p.targets[23] = p.targets[24] = no_token;
      p.targets[29] = view.tokens - 1;             // the row's last token (the last group's vector starts before it)
      p.targets[31] = set_of(31).first;            // a set's first token
      for (const auto& [r, gap] : {std::pair{37, 40.0}, std::pair{41, 50.0}, std::pair{43, 100.0}, std::pair{47, inf}}) {
        p.targets[r] = 0;  // token 0's set holds 2 tokens or more
        p.logits(r, 0) = static_cast<T>(-gap / 2);
        p.logits(r, 1) = static_cast<T>(std::isinf(gap) ? 1.0 : gap / 2);
      }
      compare_nll(backend, p, norm, regularizer{}, true);
      compare_nll(backend, p, norm, regularizer{}, false);
    });
  }
}

TEMPLATE_LIST_TEST_CASE("the fused NLL on a layout of small groups matches the reference, each row whatever rows share its tile",
                        "[backends][reference]", backends_under_test) {
  // The cpu backend runs the fused NLL of short sets W rows at a time (one
  // row per vector lane: backends/cpu/nll_tiles.hpp) on layouts of small
  // groups (mean size <= 8) in rows of at most 256 floats, where the rows of
  // a tile need not have sets of the same length. This layout mixes 35
  // singletons with sets of 2-64 tokens (1-4 packets of 16 floats, up to 16
  // of 4) and ends in a 13-token group (packets past the row's end); 230 rows
  // make several row blocks, each ending in a partial tile. Some rows are
  // special: a set all -inf, a NaN in a set, weight 0, ignored rows.
  std::vector<std::uint32_t> sizes = {64, 2, 33, 3, 17, 5, 16, 4, 48, 9, 7};
  for (int i = 0; i < 35; ++i) sizes.insert(sizes.begin() + 1 + (i * 7) % static_cast<int>(sizes.size()), 1u);
  sizes.push_back(13);
  const synthetic_layout layout(sizes, {{0}});
  const layout_view view = layout.view();
  REQUIRE(view.tokens == 256);
  REQUIRE(view.tokens <= 8 * view.groups);
  const std::size_t rows = 230;
  for_each_instance_and_type<TestType>([&]<class T>(const TestType& backend, std::type_identity<T>) {
    std::mt19937_64 rng(5150);
    problem<T> p = unmasked_problem<T>(rng, view, rows);
    for (std::size_t r = 0; r < rows; ++r) {
      // Every third row targets the last group (its packets pass the row's end).
      p.targets.push_back(r % 3 == 0 ? static_cast<token_id>(view.tokens - 1 - r % 13)
                                     : static_cast<token_id>(rng() % view.tokens));
      p.weights.push_back(static_cast<T>(0.5 + static_cast<double>(r % 4) * 0.5));
    }
    const auto set_of = [&](std::size_t r) {
      const std::uint32_t g = view.token_group[p.targets[r]];
      return std::pair{view.group_offsets[g], view.group_offsets[g + 1]};
    };
    for (auto [from, to] = set_of(5); from < to; ++from) p.logits(5, from) = -std::numeric_limits<T>::infinity();
    std::uint32_t group_of_33 = 0;
    while (view.group_offsets[group_of_33 + 1] - view.group_offsets[group_of_33] != 33) ++group_of_33;
    p.targets[17] = view.group_offsets[group_of_33] + 5;
    p.logits(17, view.group_offsets[group_of_33] + 20) = std::numeric_limits<T>::quiet_NaN();
    p.weights[23] = T(0);
    p.targets[40] = p.targets[41] = no_token;
    compare_nll(backend, p, normalization::block, regularizer{}, true);
    compare_nll(backend, p, normalization::block, regularizer{}, false);

    // The rows in reverse order share tiles with other rows: each row's
    // loss, lse and gradient must not change by a bit.
    const auto run = [&](const problem<T>& q, std::vector<T>& loss, std::vector<T>& lse, host_matrix<T>& grad) {
      loss.assign(rows, T(-7));
      lse.assign(rows, T(-7));
      grad = host_matrix<T>(rows, view.tokens, 0, T(-7));
      block_nll_tensors<T> io{q.logits.view(), host_view(q.targets), host_view(q.weights), host_view(loss),
                              grad.view(),     host_view(lse),       {}};
      block_nll(backend, view, normalization::block, q.mask.mask, io, regularizer{});
    };
    problem<T> reversed = p;
    for (std::size_t r = 0; r < rows; ++r) {
      const std::size_t from = rows - 1 - r;
      reversed.targets[r] = p.targets[from];
      reversed.weights[r] = p.weights[from];
      for (std::uint32_t v = 0; v < view.tokens; ++v) reversed.logits(r, v) = p.logits(from, v);
    }
    std::vector<T> loss, lse, reversed_loss, reversed_lse;
    host_matrix<T> grad, reversed_grad;
    run(p, loss, lse, grad);
    run(reversed, reversed_loss, reversed_lse, reversed_grad);
    const auto same = [](T a, T b) { return (std::isnan(a) && std::isnan(b)) || a == b; };
    std::size_t differing = 0;
    for (std::size_t r = 0; r < rows; ++r) {
      const std::size_t from = rows - 1 - r;
      bool row_same = same(reversed_loss[r], loss[from]) && same(reversed_lse[r], lse[from]);
      for (std::uint32_t v = 0; v < view.tokens; ++v) row_same = row_same && same(reversed_grad(r, v), grad(from, v));
      if (!row_same) ++differing;
    }
    CHECK(differing == 0);
  });
}
