/// \file
/// The determinism promise of the threaded host backends (cpu, and xtensor
/// where it is built): every kernel gives bitwise equal results on 1 and on 2
/// threads (rows are split into blocks that depend on the shape only). The
/// shapes have enough rows for several parallel blocks.

#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <tuple>
#include <vector>

#include "labelgraph/backends/cpu.hpp"
#include "labelgraph/backends/reference.hpp"
#include "labelgraph/ops/ops.hpp"
#if __has_include("labelgraph/backends/xtensor.hpp")
#include "labelgraph/backends/xtensor.hpp"
#define LABELGRAPH_TEST_XTENSOR_THREADS 1
#endif

namespace {

namespace lg = labelgraph;

/// A flat layout of the given group sizes, EOP last; node u's candidates are
/// every third token starting at u. The default has sizes 1..37 (singletons,
/// sizes below and above one AVX-512 packet: the row kernels); `tiny` has
/// the pet graph's sizes (mean below 8: the transposed tile kernels).
struct flat_layout {
  std::vector<std::uint32_t> offsets{0};
  std::vector<std::uint32_t> token_group;
  std::vector<std::uint32_t> candidate_offsets{0};
  std::vector<lg::token_id> candidate_tokens;
  std::uint32_t nodes = 5;

  static flat_layout tiny() { return flat_layout({2, 3, 3, 3, 2, 12, 8, 1, 5, 2, 3, 2, 3, 3, 3, 2, 12, 8, 1}); }

  explicit flat_layout(const std::vector<std::uint32_t>& sizes = {1, 2, 3, 17, 5, 1, 37, 12, 16, 8}) {
    for (std::uint32_t size : sizes) offsets.push_back(offsets.back() + size);
    offsets.push_back(offsets.back() + 1);  // EOP
    for (std::uint32_t g = 0; g + 1 < offsets.size(); ++g) {
      for (std::uint32_t v = offsets[g]; v < offsets[g + 1]; ++v) token_group.push_back(g);
    }
    for (std::uint32_t u = 0; u < nodes; ++u) {
      for (std::uint32_t v = u; v < tokens(); v += 3) candidate_tokens.push_back(v);
      candidate_offsets.push_back(static_cast<std::uint32_t>(candidate_tokens.size()));
    }
  }
  [[nodiscard]] std::uint32_t tokens() const { return offsets.back(); }
  [[nodiscard]] lg::layout_view view() const {
    return {tokens(), static_cast<std::uint32_t>(offsets.size() - 1), nodes, tokens() - 1, offsets.data(),
            token_group.data(), candidate_offsets.data(), candidate_tokens.data()};
  }
};

constexpr std::size_t rows = 3001;  // several blocks of rows_per_task(3001, 103) = 159 rows

template <class T>
std::vector<T> random_logits(std::size_t count, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal(0.0, 4.0);
  std::vector<T> values(count);
  for (auto& x : values) x = static_cast<T>(normal(rng));
  values[5] = -std::numeric_limits<T>::infinity();
  values[17] = static_cast<T>(1e30);
  return values;
}

template <class T>
bool bitwise_equal(const std::vector<T>& a, const std::vector<T>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(T)) == 0;
}

/// Runs `op(backend, outputs...)` on 1 and 2 threads and compares the outputs bit for bit.
template <class T, class Backend = lg::backends::cpu, class Op>
void check_same_bits(const Op& op, std::size_t outputs, std::size_t output_size) {
  const Backend one(1);
  const Backend two(2);
  REQUIRE(one.threads() == 1);
  REQUIRE(two.threads() == 2);
  std::vector<std::vector<T>> first(outputs, std::vector<T>(output_size));
  std::vector<std::vector<T>> second(outputs, std::vector<T>(output_size));
  op(one, first);
  op(two, second);
  for (std::size_t i = 0; i < outputs; ++i) {
    CHECK(bitwise_equal(first[i], second[i]));
  }
}

/// A threaded backend and a value type.
template <class B, class T>
struct backend_and_type {
  using backend = B;
  using value = T;
};

using threaded_backends = std::tuple<backend_and_type<lg::backends::cpu, float>, backend_and_type<lg::backends::cpu, double>
#ifdef LABELGRAPH_TEST_XTENSOR_THREADS
                                     ,
                                     backend_and_type<lg::backends::xtensor, float>,
                                     backend_and_type<lg::backends::xtensor, double>
#endif
                                     >;

}  // namespace

TEMPLATE_LIST_TEST_CASE("block softmax family is bitwise equal on 1 and 2 threads", "[cpu][xtensor][threads]",
                        threaded_backends) {
  using T = typename TestType::value;
  using Backend = typename TestType::backend;
  INFO("backend " << Backend::name);
  const flat_layout layout = GENERATE(flat_layout(), flat_layout::tiny());
  const lg::layout_view view = layout.view();
  const std::size_t V = layout.tokens();
  const std::vector<T> logits = random_logits<T>(rows * V, 7);
  const std::vector<T> upstream = random_logits<T>(rows * V, 8);
  std::vector<lg::node_id> nodes(rows);
  std::vector<std::uint8_t> dense(rows * V);
  for (std::size_t r = 0; r < rows; ++r) nodes[r] = static_cast<lg::node_id>(r % layout.nodes);
  for (std::size_t i = 0; i < dense.size(); ++i) dense[i] = static_cast<std::uint8_t>((i * 7) % 5 != 0);
  const lg::tensor_view<const T, 2> z(logits.data(), {rows, V});
  const lg::tensor_view<const T, 2> dy(upstream.data(), {rows, V});

  struct setting {
    lg::normalization norm;
    lg::row_mask mask;
  };
  const std::vector<setting> settings = {
      {lg::normalization::block, lg::row_mask::all()},
      {lg::normalization::full, lg::row_mask::all()},
      {lg::normalization::block, lg::row_mask::from_dense({dense.data(), {rows, V}})},
      {lg::normalization::candidate, lg::row_mask::from_candidates({nodes.data(), {rows}})},
  };
  for (const auto& [norm, mask] : settings) {
    INFO("normalization " << lg::to_string(norm) << ", mask kind " << static_cast<int>(mask.kind));
    check_same_bits<T, Backend>(
        [&](const Backend& backend, std::vector<std::vector<T>>& out) {
          const lg::tensor_view<T, 2> p(out[0].data(), {rows, V});
          const lg::tensor_view<T, 2> log_p(out[1].data(), {rows, V});
          lg::block_softmax<Backend, T>(backend, view, z, p, norm, mask);
          lg::block_log_softmax<Backend, T>(backend, view, z, log_p, norm, mask);
          lg::block_softmax_backward<Backend, T>(backend, view, p, dy, {out[2].data(), {rows, V}}, norm, mask);
          lg::block_log_softmax_backward<Backend, T>(backend, view, log_p, dy, {out[3].data(), {rows, V}}, norm, mask);
          // The outputs are real: each group of row 1 sums to 1 (a singleton is 1) unless masked.
          if (mask.kind == lg::mask_kind::none && norm == lg::normalization::block) {
            T first_group = 0;
            for (std::uint32_t v = layout.offsets[0]; v < layout.offsets[1]; ++v) first_group += out[0][V + v];
            CHECK(first_group == Approx(T(1)).epsilon(1e-5));
          }
        },
        4, rows * V);
  }
}

TEMPLATE_LIST_TEST_CASE("fused NLL and its batch total are bitwise equal on 1 and 2 threads", "[cpu][xtensor][threads]",
                        threaded_backends) {
  using T = typename TestType::value;
  using Backend = typename TestType::backend;
  INFO("backend " << Backend::name);
  const flat_layout layout;
  const lg::layout_view view = layout.view();
  const std::size_t V = layout.tokens();
  const std::vector<T> logits = random_logits<T>(rows * V, 9);
  std::vector<lg::token_id> targets(rows);
  std::vector<T> weights(rows);
  for (std::size_t r = 0; r < rows; ++r) {
    targets[r] = r % 11 == 3 ? lg::no_token : static_cast<lg::token_id>((r * 37) % V);
    weights[r] = static_cast<T>(0.5 + static_cast<double>(r % 4) * 0.25);
  }
  for (const lg::regularizer reg : {lg::regularizer{}, lg::regularizer::label_smoothing(0.1),
                                    lg::regularizer::max_suppression(0.2)}) {
    for (const lg::normalization norm : {lg::normalization::block, lg::normalization::full}) {
      INFO("regularizer " << static_cast<int>(reg.kind) << ", normalization " << lg::to_string(norm));
      check_same_bits<T, Backend>(
          [&](const Backend& backend, std::vector<std::vector<T>>& out) {
            lg::block_nll_tensors<T> t;
            t.logits = lg::tensor_view<const T, 2>(logits.data(), {rows, V});
            t.targets = lg::tensor_view<const lg::token_id, 1>(targets.data(), {rows});
            t.weights = lg::tensor_view<const T, 1>(weights.data(), {rows});
            t.loss = lg::tensor_view<T, 1>(out[0].data(), {rows});
            t.grad_logits = lg::tensor_view<T, 2>(out[1].data(), {rows, V});
            t.log_normalizer = lg::tensor_view<T, 1>(out[2].data(), {rows});
            t.total = lg::tensor_view<T, 1>(out[3].data(), {1});
            lg::block_nll<Backend, T>(backend, view, norm, lg::row_mask::all(), t, reg);
            CHECK(out[0][3] == T(0));  // row 3 is ignored
            CHECK(out[3][0] > T(0));
          },
          4, rows * V);
    }
  }
}

TEMPLATE_LIST_TEST_CASE("the set rescale of sequence_nll is bitwise equal on 1 and 2 threads and to the fallback",
                        "[cpu][xtensor][threads]", threaded_backends) {
  using T = typename TestType::value;
  using Backend = typename TestType::backend;
  INFO("backend " << Backend::name);
  const flat_layout layout;
  const lg::layout_view view = layout.view();
  const std::size_t V = layout.tokens();
  const std::vector<T> gradient = random_logits<T>(rows * V, 4);
  std::vector<lg::token_id> targets(rows);
  std::vector<lg::node_id> nodes(rows);
  std::vector<T> factors(rows);
  for (std::size_t r = 0; r < rows; ++r) {
    nodes[r] = static_cast<lg::node_id>(r % layout.nodes);
    targets[r] = r % 11 == 3 ? lg::no_token : static_cast<lg::token_id>(nodes[r] + 3 * ((r * 7) % 10));  // in C(u)
    factors[r] = r % 5 == 2 ? T(0) : static_cast<T>(0.25 + static_cast<double>(r % 7) * 0.5);
  }
  const lg::row_mask candidates = lg::row_mask::from_candidates(lg::tensor_view<const lg::node_id, 1>(nodes.data(), {rows}));
  const lg::normalization_spec specs[] = {{view, lg::normalization::block, lg::row_mask::all()},
                                          {view, lg::normalization::candidate, candidates},
                                          {view, lg::normalization::full, lg::row_mask::all()}};
  for (const lg::normalization_spec& spec : specs) {
    INFO("normalization " << lg::to_string(spec.norm));
    const auto rescale = [&](const auto& backend, std::vector<T>& out) {
      out = gradient;
      scale_target_sets_kernel(backend, spec, lg::tensor_view<const lg::token_id, 1>(targets.data(), {rows}),
                               lg::tensor_view<const T, 1>(factors.data(), {rows}), lg::tensor_view<T, 2>(out.data(), {rows, V}));
    };
    check_same_bits<T, Backend>([&](const Backend& backend, std::vector<std::vector<T>>& out) { rescale(backend, out[0]); },
                                1, rows * V);
    std::vector<T> threaded;
    std::vector<T> fallback;
    rescale(Backend(2), threaded);
    rescale(lg::backends::reference{}, fallback);  // the generic host fallback
    CHECK(bitwise_equal(threaded, fallback));
    // Every token of N(t) is scaled (0 for a zero factor), ignored rows are untouched.
    for (std::size_t r = 0; r < rows; r += 97) {
      for (std::size_t v = 0; v < V; ++v) {
        const bool in_set = targets[r] != lg::no_token &&
                            (spec.norm != lg::normalization::block || view.token_group[v] == view.token_group[targets[r]]) &&
                            spec.mask.allows(view, r, static_cast<lg::token_id>(v));
        if (targets[r] == lg::no_token) REQUIRE(std::memcmp(&threaded[r * V + v], &gradient[r * V + v], sizeof(T)) == 0);
        if (in_set && factors[r] == T(0)) REQUIRE(threaded[r * V + v] == T(0));
        if (in_set && factors[r] != T(0)) REQUIRE(threaded[r * V + v] == factors[r] * gradient[r * V + v]);
      }
    }
  }
}

TEMPLATE_TEST_CASE("cpu: GEMM is bitwise equal on 1 and 2 threads", "[cpu][threads][dense]", float, double) {
  using T = TestType;
  constexpr std::size_t m = 517, k = 131, n = 67;
  const std::vector<T> a = random_logits<T>(m * k, 10);
  const std::vector<T> b = random_logits<T>(k * n, 11);
  std::vector<T> small_a(a.begin(), a.end());
  small_a[5] = 1;
  small_a[17] = 2;  // no infinities in a product
  std::vector<T> small_b(b.begin(), b.end());
  small_b[5] = 1;
  small_b[17] = 2;
  check_same_bits<T>(
      [&](const lg::backends::cpu& backend, std::vector<std::vector<T>>& out) {
        gemm_kernel(backend, lg::transpose::no, lg::transpose::no, T(1), lg::tensor_view<const T, 2>(small_a.data(), {m, k}),
                    lg::tensor_view<const T, 2>(small_b.data(), {k, n}), T(0), lg::tensor_view<T, 2>(out[0].data(), {m, n}));
        // Spot check one entry against a plain dot product.
        T expected = 0;
        for (std::size_t i = 0; i < k; ++i) expected += small_a[3 * k + i] * small_b[i * n + 4];
        CHECK(out[0][3 * n + 4] == Approx(expected).epsilon(1e-4));
      },
      1, m * n);
}

// The cpu GEMM takes coarser row blocks than `rows_per_task(rows, 4·inner)`
// only where Eigen then computes every row of C exactly as in the fine blocks
// (dense_kernels.hpp, `gemm_row_length`): the results must equal, bit for
// bit, one product per fine block (a GEMM of one fine block's rows is one
// Eigen product). Shapes of the fashion trainer (the encoder, the GRU and its
// gradients, the projection) and odd ones.
TEST_CASE("cpu: GEMM row blocks give the fine blocks' results bit for bit", "[cpu][dense]") {
  struct shape {
    std::size_t rows, columns, inner;
    lg::transpose ta, tb;
  };
  const lg::transpose no = lg::transpose::no, yes = lg::transpose::yes;
  const std::vector<shape> shapes = {{128, 256, 784, no, no}, {128, 128, 256, no, no}, {180, 384, 128, no, no},
                                     {180, 384, 32, no, no},  {180, 128, 384, no, yes}, {180, 32, 384, no, yes},
                                     {128, 384, 180, yes, no}, {784, 256, 128, yes, no}, {180, 25, 128, no, no},
                                     {37, 144, 96, no, no},   {181, 48, 200, yes, yes}};
  std::mt19937 random(7);
  std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
  const lg::backends::cpu one(1);
  for (const shape& s : shapes) {
    std::vector<float> a(s.rows * s.inner), b(s.inner * s.columns), c(s.rows * s.columns), expected(c.size());
    for (float& x : a) x = uniform(random);
    for (float& x : b) x = uniform(random);
    // op(A) rows [first, first + count) as a view of A ([rows, inner], or [inner, rows] when transposed).
    const auto a_rows = [&](std::size_t first, std::size_t count) {
      return s.ta == no ? lg::tensor_view<const float, 2>(a.data() + first * s.inner, {count, s.inner})
                        : lg::tensor_view<const float, 2>(a.data() + first, {s.inner, count}, {s.rows, 1});
    };
    const auto b_view = s.tb == no ? lg::tensor_view<const float, 2>(b.data(), {s.inner, s.columns})
                                   : lg::tensor_view<const float, 2>(b.data(), {s.columns, s.inner});
    lg::gemm(one, s.ta, s.tb, 1.0f, a_rows(0, s.rows), b_view, 0.0f, lg::tensor_view<float, 2>(c.data(), {s.rows, s.columns}));
    const std::size_t grain = lg::backends::cpu_detail::rows_per_task(s.rows, 4 * s.inner);
    const auto fine_block = [&](const auto& self, std::size_t first, std::size_t last) -> void {
      if (last - first > grain) {
        const std::size_t middle = first + (last - first) / 2;
        self(self, first, middle);
        self(self, middle, last);
        return;
      }
      lg::gemm(one, s.ta, s.tb, 1.0f, a_rows(first, last - first), b_view, 0.0f,
               lg::tensor_view<float, 2>(expected.data() + first * s.columns, {last - first, s.columns}));
    };
    fine_block(fine_block, 0, s.rows);
    INFO("C [" << s.rows << ", " << s.columns << "], inner " << s.inner);
    CHECK(std::memcmp(c.data(), expected.data(), sizeof(float) * c.size()) == 0);
  }
}
