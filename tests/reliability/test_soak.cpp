// Numerical soak: a randomised differential test of every kernel of every host
// backend against the reference, on thousands of random layouts, shapes,
// masks and logits with extreme values (±1e30, −inf, whole groups at −inf,
// huge and tiny scales, NaN), float and double.
//
// It runs for a time budget with a fixed seed: LABELGRAPH_SOAK_SECONDS
// (default 20) and LABELGRAPH_SOAK_SEED (default 1); scripts/soak runs it
// longer with other seeds. Each problem is drawn from its own seed
// (seed, iteration), and a failure prints both, so any failing problem can be
// replayed alone (LABELGRAPH_SOAK_ONLY=iteration).
//
// Tolerances: the cross-backend ones of tests/backends (1e-6 float, 1e-12
// double, relative), with the log-domain floor the largest finite |logit| of
// the problem (z − lse cannot be more accurate than the ulp of z) and the
// log-softmax-backward floor the largest |Σ dy| of a row. NaN and ±inf must
// appear exactly where the reference has them.
#include <catch2/catch.hpp>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <random>
#include <string>
#include <type_traits>
#include <vector>

#include "each_backend.hpp"
#include "test_support.hpp"

using namespace labelgraph;
using namespace labelgraph::testing;

namespace {

/// An environment variable as an integer, or `fallback`.
std::uint64_t env_or(const char* name, std::uint64_t fallback) {
  const char* text = std::getenv(name);
  return text != nullptr && *text != '\0' ? std::strtoull(text, nullptr, 10) : fallback;
}

/// One random problem: layout, logits with extreme values, mask, upstream gradient, targets.
template <class T>
struct soak_problem {
  /// `layout` points into `layout_storage`'s vectors, whose buffers a move keeps in place.
  explicit soak_problem(synthetic_layout storage) : layout_storage(std::move(storage)), layout(layout_storage.view()) {}

  synthetic_layout layout_storage;
  layout_view layout;
  host_matrix<T> logits;
  host_matrix<T> upstream;
  mask_fixture mask;
  std::vector<token_id> targets;
  std::vector<T> weights;
  normalization norm = normalization::block;
  regularizer reg;
  double scale = 1;  ///< the largest finite |logit|
};

/// Logits of one of several regimes, then extreme values sprinkled in:
/// ±1e30, −inf tokens, whole groups at −inf, and NaN inside one group of a row.
template <class T>
void fill_logits(std::mt19937_64& rng, soak_problem<T>& p) {
  static constexpr double scales[] = {1e-6, 1.0, 4.0, 30.0, 1e4, 1e30};
  const double regime = scales[rng() % std::size(scales)];
  std::uniform_real_distribution<double> value(-regime, regime);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  const double inf = std::numeric_limits<double>::infinity();
  const layout_view& layout = p.layout;
  for (std::size_t r = 0; r < p.logits.rows; ++r) {
    for (std::size_t v = 0; v < p.logits.cols; ++v) {
      const double u = unit(rng);
      double z = value(rng);
      if (u < 0.05) z = -inf;
      else if (u < 0.08) z = 1e30;
      else if (u < 0.11) z = -1e30;
      p.logits(r, v) = static_cast<T>(z);
    }
    if (unit(rng) < 0.1) {  // a whole group at −inf
      const std::uint32_t g = static_cast<std::uint32_t>(rng() % layout.groups);
      for (std::uint32_t v = layout.group_offsets[g]; v < layout.group_offsets[g + 1]; ++v) p.logits(r, v) = static_cast<T>(-inf);
    }
    if (unit(rng) < 0.05) {  // NaN: it must turn its own set NaN and nothing else
      const auto v = static_cast<token_id>(rng() % p.logits.cols);
      p.logits(r, v) = std::numeric_limits<T>::quiet_NaN();
    }
  }
  p.scale = 1;
  for (std::size_t r = 0; r < p.logits.rows; ++r) {
    for (std::size_t v = 0; v < p.logits.cols; ++v) {
      const double z = static_cast<double>(p.logits(r, v));
      if (std::isfinite(z)) p.scale = std::max(p.scale, std::abs(z));
    }
  }
}

template <class T>
soak_problem<T> draw_problem(std::mt19937_64& rng) {
  const auto groups = static_cast<std::uint32_t>(1 + rng() % 30);
  const auto max_group = static_cast<std::uint32_t>(1 + rng() % 90);
  const auto nodes = static_cast<std::uint32_t>(1 + rng() % 12);
  soak_problem<T> p(synthetic_layout::random(rng, groups, max_group, nodes));
  const std::size_t rows = 1 + rng() % 48;
  p.logits = host_matrix<T>(rows, p.layout.tokens, rng() % 4, T(-12345));
  const auto which = static_cast<mask_case>(rng() % 3);
  fill_logits(rng, p);
  p.upstream = random_logits<T>(rng, rows, p.layout.tokens, 1.0);
  p.mask = make_mask(which, rng, p.layout, rows);
  static constexpr normalization norms[] = {normalization::block, normalization::full, normalization::candidate};
  p.norm = norms[rng() % 3];
  if (which == mask_case::none && p.norm == normalization::candidate) p.norm = normalization::full;
  p.targets = random_targets(rng, p.layout, p.mask.mask, rows);
  std::uniform_real_distribution<double> weight(0.0, 3.0);
  for (std::size_t r = 0; r < rows; ++r) p.weights.push_back(static_cast<T>(weight(rng)));
  static const regularizer regs[] = {regularizer{}, regularizer::label_smoothing(0.1), regularizer::max_suppression(0.2)};
  p.reg = regs[rng() % 3];
  return p;
}

/// Every kernel of `backend` on problem `p`, against the reference.
template <class B, class T>
void compare(const B& backend, const soak_problem<T>& p, std::uint64_t seed) {
  const backends::reference oracle;
  const double rel = relative_tolerance<T>;
  const std::size_t rows = p.logits.rows;
  const std::size_t tokens = p.layout.tokens;
  const row_mask& mask = p.mask.mask;
  host_matrix<T> expected(rows, tokens), actual(rows, tokens, 1);

  block_softmax(oracle, p.layout, p.logits.view(), expected.view(), p.norm, mask);
  block_softmax(backend, p.layout, p.logits.view(), actual.view(), p.norm, mask);
  require_close(actual.view(), expected.view(), rel, 1e-3, "block_softmax");
  const host_matrix<T> probabilities = expected;

  block_log_softmax(oracle, p.layout, p.logits.view(), expected.view(), p.norm, mask);
  block_log_softmax(backend, p.layout, p.logits.view(), actual.view(), p.norm, mask);
  require_close(actual.view(), expected.view(), rel, p.scale, "block_log_softmax");
  const host_matrix<T> log_probabilities = expected;

  block_softmax_backward(oracle, p.layout, probabilities.view(), p.upstream.view(), expected.view(), p.norm, mask);
  block_softmax_backward(backend, p.layout, probabilities.view(), p.upstream.view(), actual.view(), p.norm, mask);
  require_close(actual.view(), expected.view(), rel, 1.0, "block_softmax_backward");

  // dz = dy − p ⊙ Σ_N dy: the terms are as large as |Σ_N dy|, which grows with
  // the set (up to thousands of tokens here): that is the floor.
  double upstream_sum = 1;
  for (std::size_t r = 0; r < rows; ++r) {
    double sum = 0;
    for (std::size_t v = 0; v < tokens; ++v) sum += static_cast<double>(p.upstream(r, v));
    upstream_sum = std::max(upstream_sum, 2 * std::abs(sum));
  }
  block_log_softmax_backward(oracle, p.layout, log_probabilities.view(), p.upstream.view(), expected.view(), p.norm, mask);
  block_log_softmax_backward(backend, p.layout, log_probabilities.view(), p.upstream.view(), actual.view(), p.norm, mask);
  require_close(actual.view(), expected.view(), rel, upstream_sum, "block_log_softmax_backward");

  // The fused NLL, all outputs, weighted.
  std::vector<T> loss_e(rows), loss_a(rows), lse_e(rows), lse_a(rows), total_e(1), total_a(1);
  host_matrix<T> grad_e(rows, tokens), grad_a(rows, tokens, 2);
  block_nll(oracle, p.layout, p.norm, mask,
            block_nll_tensors<T>{p.logits.view(), host_view(p.targets), host_view(p.weights), host_view(loss_e),
                                 grad_e.view(), host_view(lse_e), host_view(total_e)},
            p.reg);
  block_nll(backend, p.layout, p.norm, mask,
            block_nll_tensors<T>{p.logits.view(), host_view(p.targets), host_view(p.weights), host_view(loss_a),
                                 grad_a.view(), host_view(lse_a), host_view(total_a)},
            p.reg);
  // A loss is lse − z, scaled by weights up to 3: its floor is the logits' scale.
  require_close(host_view(std::as_const(loss_a)), host_view(std::as_const(loss_e)), rel, 3 * p.scale, "loss");
  require_close(host_view(std::as_const(lse_a)), host_view(std::as_const(lse_e)), rel, p.scale, "log_normalizer");
  require_close(grad_a.view(), grad_e.view(), rel, 3.0, "grad_logits");
  double magnitude = 0;
  for (T loss : loss_e) magnitude += std::isfinite(static_cast<double>(loss)) ? std::abs(static_cast<double>(loss)) : 0.0;
  // Each loss carries the error of its log-domain floor (3 · scale): so does their sum.
  magnitude = std::max(magnitude, 3 * p.scale * static_cast<double>(rows));
  if (!close(static_cast<double>(total_a[0]), static_cast<double>(total_e[0]), rel * static_cast<double>(rows), magnitude)) {
    FAIL("total = " << total_a[0] << ", expected " << total_e[0]);
  }

  // Argmax and sampling over C(u) of random current nodes: the same tokens exactly.
  std::mt19937_64 rng(seed);
  const std::vector<node_id> nodes = random_nodes(rng, rows, p.layout.nodes);
  for (decode_rule rule : {decode_rule::max_candidate, decode_rule::max_block}) {
    std::vector<token_id> best_e(rows), best_a(rows), drawn_e(rows), drawn_a(rows);
    argmax_candidates(oracle, p.layout, p.logits.view(), host_view(nodes), host_view(best_e), rule);
    argmax_candidates(backend, p.layout, p.logits.view(), host_view(nodes), host_view(best_a), rule);
    sample_candidates(oracle, p.layout, p.logits.view(), host_view(nodes), host_view(drawn_e), seed, 3, rule);
    sample_candidates(backend, p.layout, p.logits.view(), host_view(nodes), host_view(drawn_a), seed, 3, rule);
    for (std::size_t r = 0; r < rows; ++r) {
      if (best_a[r] != best_e[r]) FAIL("argmax row " << r << ": " << best_a[r] << ", expected " << best_e[r]);
      if (drawn_a[r] != drawn_e[r]) FAIL("sample row " << r << ": " << drawn_a[r] << ", expected " << drawn_e[r]);
    }
  }

  // Segmented reductions of the first row's logits, cut into random segments (empty ones included).
  std::vector<T> values(p.logits.storage.begin(), p.logits.storage.begin() + static_cast<std::ptrdiff_t>(tokens));
  std::vector<std::uint32_t> offsets{0};
  while (offsets.back() < tokens) {
    offsets.push_back(std::min<std::uint32_t>(static_cast<std::uint32_t>(tokens), offsets.back() + static_cast<std::uint32_t>(rng() % 9)));
  }
  const std::size_t segments = offsets.size() - 1;
  for (reduction kind : {reduction::sum, reduction::mean, reduction::logsumexp, reduction::max, reduction::min}) {
    std::vector<T> out_e(segments), out_a(segments);
    segmented_reduce(oracle, kind, host_view(std::as_const(values)), host_view(std::as_const(offsets)), host_view(out_e));
    segmented_reduce(backend, kind, host_view(std::as_const(values)), host_view(std::as_const(offsets)), host_view(out_a));
    // Sums of values up to 1e30 over <= 8 terms: the floor is 8 times the scale.
    require_close(host_view(std::as_const(out_a)), host_view(std::as_const(out_e)), rel * 8, 8 * p.scale,
                  "segmented_reduce " + std::string(to_string(kind)));
  }
  std::vector<std::uint32_t> index_e(segments), index_a(segments);
  segmented_reduce(oracle, reduction::argmin, host_view(std::as_const(values)), host_view(std::as_const(offsets)),
                   tensor_view<T, 1>{}, host_view(index_e));
  segmented_reduce(backend, reduction::argmin, host_view(std::as_const(values)), host_view(std::as_const(offsets)),
                   tensor_view<T, 1>{}, host_view(index_a));
  for (std::size_t s = 0; s < segments; ++s) {
    if (index_a[s] != index_e[s]) FAIL("argmin segment " << s << ": " << index_a[s] << ", expected " << index_e[s]);
  }
}

}  // namespace

TEST_CASE("soak: every kernel of every host backend agrees with the reference on random extreme inputs",
          "[reliability][soak]") {
  const std::uint64_t seconds = env_or("LABELGRAPH_SOAK_SECONDS", 20);
  const std::uint64_t seed = env_or("LABELGRAPH_SOAK_SEED", 1);
  const std::uint64_t only = env_or("LABELGRAPH_SOAK_ONLY", std::numeric_limits<std::uint64_t>::max());
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  std::uint64_t iteration = only == std::numeric_limits<std::uint64_t>::max() ? 0 : only;
  std::uint64_t problems = 0;
  do {
    const std::uint64_t problem_seed = seed * 1'000'003 + iteration;
    INFO("LABELGRAPH_SOAK_SEED=" << seed << " LABELGRAPH_SOAK_ONLY=" << iteration);
    std::mt19937_64 rng(problem_seed);
    const auto run = [&]<class T>(std::type_identity<T>) {
      const soak_problem<T> p = draw_problem<T>(rng);
      for_each_backend_type([&]<class B>(std::type_identity<B>) {
        if constexpr (!std::is_same_v<B, backends::reference>) {
          for_each_instance<B>([&](const B& backend, const std::string&) { compare(backend, p, problem_seed); });
        }
      });
    };
    if (iteration % 2 == 0) {
      run(std::type_identity<float>{});
    } else {
      run(std::type_identity<double>{});
    }
    ++problems;
    ++iteration;
  } while (only == std::numeric_limits<std::uint64_t>::max() && std::chrono::steady_clock::now() < deadline);
  WARN("soak: " << problems << " random problems in " << seconds << " s, seed " << seed);
  CHECK(problems > 0);
}
