// The graph-sparse output layer equals the dense path (GEMM + bias + fused
// candidate NLL, gradients by GEMM and column sums) on the pet graph, for
// every regulariser, on every backend; its scratch grows with the candidate
// lists, not the vocabulary; weight gradients accumulate deterministically;
// bad input is reported with its exact text.
#include <catch2/catch.hpp>

#include <random>
#include <string>
#include <vector>

#include "labelgraph/ops/dense.hpp"
#include "labelgraph/ops/sparse_output.hpp"
#include "loss_support.hpp"

using namespace labelgraph;
using namespace labelgraph::testing;

namespace {

/// One output-layer problem: hidden states, W, bias, current nodes, targets, row weights.
template <class T>
struct output_problem {
  layout_view layout;
  std::size_t rows = 0;
  std::size_t width = 0;
  host_matrix<T> hidden, weight;
  std::vector<T> bias, row_weights;
  std::vector<node_id> nodes;
  std::vector<token_id> targets;

  output_problem(std::mt19937_64& rng, const layout_view& l, std::size_t r, std::size_t h) : layout(l), rows(r), width(h) {
    hidden = random_logits<T>(rng, rows, width, 1.0, 1);
    weight = random_logits<T>(rng, layout.tokens, width, 1.0);
    const auto b = random_logits<T>(rng, 1, layout.tokens, 0.5);
    bias.assign(b.storage.begin(), b.storage.begin() + layout.tokens);
    nodes = random_nodes(rng, rows, layout.nodes);
    targets = random_targets(rng, layout, row_mask::from_candidates(host_view(std::as_const(nodes))), rows);
    std::uniform_real_distribution<double> w(-0.5, 2.0);  // negative weights too (REINFORCE advantages)
    for (std::size_t i = 0; i < rows; ++i) row_weights.push_back(static_cast<T>(w(rng)));
  }
};

/// Outputs of one evaluation; the weight and bias gradients start from a
/// nonzero value to test that they are added to.
template <class T>
struct output_result {
  std::vector<T> loss, lse, total = std::vector<T>(1);
  host_matrix<T> grad_hidden, grad_weight;
  std::vector<T> grad_bias;

  explicit output_result(const output_problem<T>& p)
      : loss(p.rows), lse(p.rows), grad_hidden(p.rows, p.width, 0, T(9)), grad_weight(p.layout.tokens, p.width, 0, T(0.25)),
        grad_bias(p.layout.tokens, T(-0.5)) {}
};

/// The dense path on the reference backend: z = h Wᵀ + b, candidate NLL, G = dL/dz,
/// dh = G W, dW += Gᵀ h, db += Σ_rows G.
template <class T>
output_result<T> dense_path(const output_problem<T>& p, regularizer reg) {
  const backends::reference backend;
  output_result<T> out(p);
  host_matrix<T> logits(p.rows, p.layout.tokens);
  gemm<backends::reference, T>(backend, transpose::no, transpose::yes, T(1), p.hidden.view(), p.weight.view(), T(0),
                               logits.view());
  add_bias<backends::reference, T>(backend, host_view(p.bias), logits.view());
  block_nll_tensors<T> io{logits.view(), host_view(p.targets), host_view(p.row_weights), host_view(out.loss),
                          logits.view(), host_view(out.lse), host_view(out.total)};
  block_nll(backend, p.layout, normalization::candidate, row_mask::from_candidates(host_view(p.nodes)), io, reg);
  gemm<backends::reference, T>(backend, transpose::no, transpose::no, T(1), logits.view(), p.weight.view(), T(0),
                               out.grad_hidden.view());
  gemm<backends::reference, T>(backend, transpose::yes, transpose::no, T(1), logits.view(), p.hidden.view(), T(1),
                               out.grad_weight.view());
  std::vector<T> column(p.layout.tokens);
  column_sum<backends::reference, T>(backend, logits.view(), host_view(column));
  for (std::size_t v = 0; v < column.size(); ++v) out.grad_bias[v] += column[v];
  return out;
}

template <class B, class T>
output_result<T> sparse_path(const B& backend, const output_problem<T>& p, regularizer reg,
                             sparse_output_workspace<T>* workspace = nullptr) {
  output_result<T> out(p);
  const sparse_output_tensors<T> io{.hidden = p.hidden.view(),
                                    .weight = p.weight.view(),
                                    .bias = host_view(p.bias),
                                    .nodes = host_view(p.nodes),
                                    .targets = host_view(p.targets),
                                    .weights = host_view(p.row_weights),
                                    .loss = host_view(out.loss),
                                    .log_normalizer = host_view(out.lse),
                                    .total = host_view(out.total),
                                    .grad_hidden = out.grad_hidden.view(),
                                    .grad_weight = out.grad_weight.view(),
                                    .grad_bias = host_view(out.grad_bias)};
  if (workspace != nullptr) {
    sparse_output_nll(backend, p.layout, io, *workspace, reg);
  } else {
    sparse_output_nll(backend, p.layout, io, reg);
  }
  return out;
}

template <class T>
void require_same(const output_result<T>& actual, const output_result<T>& expected, double rel) {
  require_close(host_view(actual.loss), host_view(expected.loss), rel, 1.0, "loss");
  require_close(host_view(actual.lse), host_view(expected.lse), rel, 1.0, "log-normaliser");
  require_close(host_view(actual.total), host_view(expected.total), rel, 1.0, "total");
  require_close(actual.grad_hidden.view(), expected.grad_hidden.view(), rel, 1.0, "grad hidden");
  require_close(actual.grad_weight.view(), expected.grad_weight.view(), rel, 1.0, "grad weight");
  require_close(host_view(actual.grad_bias), host_view(expected.grad_bias), rel, 1.0, "grad bias");
}

const regularizer all_regularizers[] = {{}, regularizer::label_smoothing(0.1), regularizer::max_suppression(0.2)};

}  // namespace

TEMPLATE_LIST_TEST_CASE("sparse output layer equals the dense path on the pet graph", "[loss][sparse_output][backends]",
                        backends_under_test) {
  const pet_fixture pets;
  std::mt19937_64 rng(11);
  // 200 rows: several chunks of 64 rows with different widths.
  const output_problem<double> p_double(rng, pets.layout.view(), 200, 13);
  output_problem<float> p_float(rng, pets.layout.view(), 200, 13);
  for_each_instance<TestType>([&](const TestType& backend, const std::string&) {
    for (const regularizer& reg : all_regularizers) {
      INFO("regularizer " << static_cast<int>(reg.kind));
      require_same(sparse_path(backend, p_double, reg), dense_path(p_double, reg), 1e-9);
      require_same(sparse_path(backend, p_float, reg), dense_path(p_float, reg), 1e-5);
    }
  });
}

TEST_CASE("sparse output layer: deterministic, reusable workspace, scratch independent of V",
          "[loss][sparse_output]") {
  std::mt19937_64 rng(12);
  // 20,000 tokens, but every candidate list has at most 4 tokens.
  std::vector<std::uint32_t> groups(4999, 4);
  groups.push_back(3);
  groups.push_back(1);  // EOP
  std::vector<std::vector<token_id>> candidates(300);
  for (auto& list : candidates) {
    const std::size_t degree = 1 + rng() % 4;
    for (std::size_t k = 0; k < degree; ++k) list.push_back(static_cast<token_id>(rng() % 20000));
    std::sort(list.begin(), list.end());
    list.erase(std::unique(list.begin(), list.end()), list.end());
  }
  const synthetic_layout layout(groups, candidates);
  REQUIRE(layout.view().tokens == 20000);
  const output_problem<double> p(rng, layout.view(), 256, 8);
  sparse_output_workspace<double> workspace;
  const auto first = sparse_path(backends::reference{}, p, {}, &workspace);
  CHECK(workspace.compact.size() <= 256 * 4);
  CHECK(workspace.entry_index.size() <= 256 * 4);
  CHECK(workspace.entry_tokens.size() <= 256 * 4);
  const auto second = sparse_path(backends::reference{}, p, {}, &workspace);
  require_same(second, first, 0.0);  // bit for bit
  require_same(first, dense_path(p, {}), 1e-9);
#ifdef LABELGRAPH_TEST_CPU_BACKEND
  // The same bits for any thread count.
  require_same(sparse_path(backends::cpu(1), p, {}), sparse_path(backends::cpu(2), p, {}), 0.0);
#endif
}

TEST_CASE("sparse output layer: bad input is reported with its text", "[loss][sparse_output][errors]") {
  const pet_fixture pets;
  std::mt19937_64 rng(13);
  output_problem<double> p(rng, pets.layout.view(), 8, 4);
  const backends::reference backend;
  // A target that is not a candidate of its row's node.
  p.nodes[3] = pets.node("cat");
  p.targets[3] = pets.token("dog");
  CHECK_THROWS_MATCHES(sparse_path(backend, p, {}), argument_error,
                       Catch::Message("targets: row 3: token " + std::to_string(pets.token("dog")) +
                                      " is outside the row's mask (not a candidate of node " +
                                      std::to_string(pets.node("cat")) + ")"));
  p.targets[3] = 34;
  CHECK_THROWS_MATCHES(sparse_path(backend, p, {}), argument_error,
                       Catch::Message("targets: row 3: token 34 is outside the layout (34 tokens)"));
  p.targets[3] = no_token;
  CHECK_NOTHROW(sparse_path(backend, p, {}));
  p.nodes[1] = 34;
  CHECK_THROWS_MATCHES(sparse_path(backend, p, {}), argument_error,
                       Catch::Message("nodes: row 1: node 34 is outside the graph (34 nodes)"));
  p.nodes[1] = 0;
  output_problem<double> narrow = p;
  narrow.weight = random_logits<double>(rng, 33, 4, 1.0);
  CHECK_THROWS_MATCHES(sparse_path(backend, narrow, {}), shape_error, Catch::Message("weight: expected [34, 4], got [33, 4]"));
  output_result<double> out(p);
  const sparse_output_tensors<double> aliased{.hidden = p.hidden.view(),
                                              .weight = p.weight.view(),
                                              .nodes = host_view(p.nodes),
                                              .targets = host_view(p.targets),
                                              .loss = host_view(out.loss),
                                              .grad_hidden = tensor_view<double, 2>(const_cast<double*>(p.hidden.view().data()),
                                                                                    {p.rows, p.width}, {p.width + 1, 1})};
  CHECK_THROWS_MATCHES(sparse_output_nll(backend, p.layout, aliased), shape_error,
                       Catch::Message("grad_hidden: is the same memory as hidden; this operation cannot run in place"));
}
