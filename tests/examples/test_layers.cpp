// Finite-difference checks of every hand-written backward pass of
// examples/common (double precision, reference and cpu backends), and the
// behaviour of AdamW, the seeded initialisation and checkpoints.
#include <catch2/catch.hpp>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <vector>

#include "labelgraph/backends/reference.hpp"
#include "labelgraph/graph/json.hpp"
#if __has_include("labelgraph/backends/cpu.hpp")
#include "labelgraph/backends/cpu.hpp"
#define LG_TEST_CPU 1
#endif

#include "adam.hpp"
#include "checkpoint.hpp"
#include "layers.hpp"
#include "path_decoder.hpp"
#include "path_label_space.hpp"
#include "text_encoder.hpp"

namespace lg = labelgraph;
namespace lx = labelgraph::examples;

namespace {

/// Deterministic pseudo-random values in [−1, 1).
std::vector<double> pattern(std::size_t n, std::uint64_t seed) {
  std::vector<double> values(n);
  for (std::size_t i = 0; i < n; ++i) values[i] = 2.0 * lg::philox_uniform(seed, static_cast<std::uint32_t>(i), 7) - 1.0;
  return values;
}

template <class B>
lx::device_matrix<B, double> matrix(const B& backend, std::size_t rows, std::size_t cols, std::uint64_t seed) {
  lx::device_matrix<B, double> m(backend, rows, cols);
  m.copy_from_host(pattern(rows * cols, seed));
  return m;
}

/// Σ c ⊙ y: the scalar every check differentiates.
double weighted_sum(lg::tensor_view<const double, 2> y, const std::vector<double>& c) {
  double total = 0;
  for (std::size_t i = 0; i < y.extent(0); ++i)
    for (std::size_t j = 0; j < y.extent(1); ++j) total += c[i * y.extent(1) + j] * y(i, j);
  return total;
}

/// Compares analytic gradients with central differences on every element of
/// each (value, gradient) pair; `loss` runs a forward pass and returns the scalar.
template <class B>
void check_against_differences(std::vector<std::pair<lx::device_matrix<B, double>*, std::vector<double>>> pairs,
                               const std::function<double()>& loss) {
  const double h = 1e-6;
  for (auto& [value, analytic] : pairs) {
    std::vector<double> host = value->to_host();
    REQUIRE(host.size() == analytic.size());
    for (std::size_t k = 0; k < host.size(); ++k) {
      const double saved = host[k];
      host[k] = saved + h;
      value->copy_from_host(host);
      const double plus = loss();
      host[k] = saved - h;
      value->copy_from_host(host);
      const double minus = loss();
      host[k] = saved;
      value->copy_from_host(host);
      const double numeric = (plus - minus) / (2 * h);
      INFO("element " << k << " of " << host.size() << ": analytic " << analytic[k] << ", numeric " << numeric);
      CHECK(std::abs(numeric - analytic[k]) <= 1e-6 * (1.0 + std::abs(numeric)));
    }
  }
}

template <class B>
std::vector<std::pair<lx::device_matrix<B, double>*, std::vector<double>>> parameter_pairs(
    const lx::parameter_list<B, double>& list) {
  std::vector<std::pair<lx::device_matrix<B, double>*, std::vector<double>>> pairs;
  for (auto* p : list) pairs.emplace_back(&p->value, p->grad.to_host());
  return pairs;
}

template <class B>
std::vector<B> instances() {
  if constexpr (std::is_same_v<B, lg::backends::reference>) {
    return {B{}};
  } else {
    return {B(1), B(2)};
  }
}

}  // namespace

#ifdef LG_TEST_CPU
#define LG_TEST_BACKENDS lg::backends::reference, lg::backends::cpu
#else
#define LG_TEST_BACKENDS lg::backends::reference
#endif

TEMPLATE_TEST_CASE("linear and mlp backward match finite differences", "[examples][layers]", LG_TEST_BACKENDS) {
  for (const TestType& backend : instances<TestType>()) {
    lx::mlp<TestType, double> net(backend, "net", {5, 4, 3, 2},
                                  {lg::activation::tanh, lg::activation::sigmoid, lg::activation::identity});
    std::uint32_t index = 0;
    net.initialize(11, index);
    lx::parameter_list<TestType, double> params;
    net.collect(params);
    REQUIRE(params.size() == 6);
    auto x = matrix(backend, 3, 5, 1);
    const std::vector<double> c = pattern(3 * 2, 2);
    const auto loss = [&] { return weighted_sum(net.forward(x.view()), c); };
    lx::zero_gradients(params);
    loss();
    auto dy = lx::device_matrix<TestType, double>(backend, 3, 2);
    dy.copy_from_host(c);
    auto dx = lx::device_matrix<TestType, double>(backend, 3, 5);
    net.backward(x.view(), dy.view(), dx.view());
    auto pairs = parameter_pairs(params);
    pairs.emplace_back(&x, dx.to_host());
    check_against_differences<TestType>(pairs, loss);
  }
}

TEMPLATE_TEST_CASE("relu layers backward match finite differences away from the kink", "[examples][layers]",
                   LG_TEST_BACKENDS) {
  const TestType backend = instances<TestType>().front();
  lx::mlp<TestType, double> net(backend, "relu", {4, 6}, {lg::activation::relu});
  std::uint32_t index = 0;
  net.initialize(5, index);
  lx::parameter_list<TestType, double> params;
  net.collect(params);
  auto x = matrix(backend, 5, 4, 3);
  const std::vector<double> c = pattern(5 * 6, 4);
  const auto loss = [&] { return weighted_sum(net.forward(x.view()), c); };
  const auto y = [&] {
    auto out = net.forward(x.view());
    std::vector<double> host(out.size());
    for (std::size_t i = 0; i < out.extent(0); ++i)
      for (std::size_t j = 0; j < out.extent(1); ++j) host[i * out.extent(1) + j] = out(i, j);
    return host;
  }();
  std::size_t active = 0;
  for (double v : y) active += v > 0 ? 1 : 0;
  CHECK(active > 0);  // the check covers both branches of relu
  CHECK(active < y.size());
  lx::zero_gradients(params);
  loss();
  auto dy = lx::device_matrix<TestType, double>(backend, 5, 6);
  dy.copy_from_host(c);
  net.backward(x.view(), dy.view(), lg::tensor_view<double, 2>{});
  check_against_differences<TestType>(parameter_pairs(params), loss);
}

TEMPLATE_TEST_CASE("embedding and row selection backward match finite differences", "[examples][layers]",
                   LG_TEST_BACKENDS) {
  const TestType backend = instances<TestType>().back();
  lx::embedding<TestType, double> table(backend, "emb", 4, 3);
  std::uint32_t index = 0;
  table.initialize(9, index);
  lx::parameter_list<TestType, double> params;
  table.collect(params);
  lx::row_selection<TestType, double> tokens(backend);
  const std::vector<std::uint32_t> ids{2, 0, 2, 3, lg::no_token};  // repeated token, and one row that selects nothing
  tokens.assign(ids, 4);
  auto out = lx::device_matrix<TestType, double>(backend, 5, 3);
  const std::vector<double> c = pattern(15, 6);
  const auto loss = [&] {
    table.forward(tokens, out.view());
    return weighted_sum(out.view(), c);
  };
  loss();
  const auto rows = out.to_host();
  CHECK(rows[12] == 0.0);  // the no_token row
  CHECK(rows[0] == rows[6]);
  lx::zero_gradients(params);
  auto dout = lx::device_matrix<TestType, double>(backend, 5, 3);
  dout.copy_from_host(c);
  table.backward(tokens, dout.view());
  const auto grad = params[0]->grad.to_host();
  CHECK(grad[3] == 0.0);  // token 1 is never used
  check_against_differences<TestType>(parameter_pairs(params), loss);
}

TEMPLATE_TEST_CASE("hashed bag embedding and text encoder backward match finite differences", "[examples][layers]",
                   LG_TEST_BACKENDS) {
  const TestType backend = instances<TestType>().back();
  lx::hashed_bag_embedding<TestType, double> bag(backend, "bag", 6, 3);
  std::uint32_t index = 0;
  bag.initialize(4, index);
  lx::parameter_list<TestType, double> params;
  bag.collect(params);
  // A repeated bucket (weight 2/3), a single one, an empty bag (zero row), and bucket 5 never used.
  const std::vector<std::vector<std::uint32_t>> ids{{1, 3, 1}, {0}, {}, {2, 4}};
  const std::vector<std::span<const std::uint32_t>> bags(ids.begin(), ids.end());
  auto out = lx::device_matrix<TestType, double>(backend, 4, 3);
  const std::vector<double> c = pattern(12, 8);
  const auto loss = [&] {
    bag.forward(bags, out.view());
    return weighted_sum(out.view(), c);
  };
  loss();
  const auto rows = out.to_host();
  const auto table = params[0]->value.to_host();
  CHECK(rows[6] == 0.0);
  CHECK(std::abs(rows[0] - (2 * table[3] + table[9]) / 3) < 1e-12);
  lx::zero_gradients(params);
  auto dout = lx::device_matrix<TestType, double>(backend, 4, 3);
  dout.copy_from_host(c);
  bag.backward(dout.view());
  CHECK(params[0]->grad.to_host()[15] == 0.0);
  check_against_differences<TestType>(parameter_pairs(params), loss);

  // The whole text encoder (bag -> ReLU -> tanh): every parameter, through the pooled features.
  lx::text_set texts;
  texts.buckets = 16;
  for (const char* text : {"a small dog; a dog", "Dog!", "", "the small cat sat"}) texts.add(text);
  CHECK(texts.bag(0).size() == 9);  // 5 words, 4 bigrams
  CHECK(texts.bag(2).empty());
  lx::text_encoder<TestType, double> encoder(backend, 16, 4, 5, 3);
  index = 0;
  encoder.initialize(11, index);
  lx::parameter_list<TestType, double> encoder_params;
  encoder.collect(encoder_params);
  // Not the empty text: its pre-activations are the zero biases, the ReLU's kink.
  const std::vector<std::uint32_t> picked{3, 0, 1, 3, 0};
  const std::vector<double> weights = pattern(15, 12);
  const auto encoder_loss = [&] { return weighted_sum(encoder.forward(texts, picked), weights); };
  encoder_loss();
  lx::zero_gradients(encoder_params);
  auto dfeatures = lx::device_matrix<TestType, double>(backend, 5, 3);
  dfeatures.copy_from_host(weights);
  encoder.backward(dfeatures.view());
  check_against_differences<TestType>(parameter_pairs(encoder_params), encoder_loss);
}

TEST_CASE("hashed n-grams: words lower-cased, bigrams hashed apart from words", "[examples][layers]") {
  const auto ids = lx::hash_ngrams("The cat, the CAT", 1u << 20);
  REQUIRE(ids.size() == 7);  // the, the+cat, cat, cat+the, the, the+cat, cat
  CHECK(ids[0] == ids[4]);
  CHECK(ids[1] == ids[5]);
  CHECK(ids[2] == ids[6]);
  CHECK(ids[0] != ids[1]);
  CHECK(lx::hash_ngrams("  ;; ", 8).empty());
}

TEMPLATE_TEST_CASE("gru cell backward matches finite differences", "[examples][layers]", LG_TEST_BACKENDS) {
  for (const TestType& backend : instances<TestType>()) {
    const std::size_t n = 3, in = 4, H = 5;
    lx::gru_cell<TestType, double> cell(backend, "gru", in, H);
    std::uint32_t index = 0;
    cell.initialize(21, index);
    lx::parameter_list<TestType, double> params;
    cell.collect(params);
    // Non-zero biases, so that their gradients are checked at a generic point.
    for (auto* p : params) p->value.copy_from_host(pattern(p->value.size(), 40 + index++));
    auto x = matrix(backend, n, in, 31);
    auto h = matrix(backend, n, H, 32);
    lx::device_matrix<TestType, double> gates(backend, n, 3 * H), hidden_gates(backend, n, 3 * H), diff(backend, n, H),
        h_out(backend, n, H);
    const lx::gru_cache<double> cache{gates.view(), hidden_gates.view(), diff.view()};
    const std::vector<double> c = pattern(n * H, 33);
    const auto loss = [&] {
      cell.forward(x.view(), h.view(), cache, h_out.view());
      return weighted_sum(h_out.view(), c);
    };
    lx::zero_gradients(params);
    loss();
    lx::device_matrix<TestType, double> dh_out(backend, n, H), dx(backend, n, in), dh(backend, n, H),
        work(backend, n, 3 * H), hidden_work(backend, n, 3 * H);
    dh_out.copy_from_host(c);
    cell.backward(x.view(), h.view(), cache, dh_out.view(), dx.view(), dh.view(), work.view(), hidden_work.view());
    auto pairs = parameter_pairs(params);
    pairs.emplace_back(&x, dx.to_host());
    pairs.emplace_back(&h, dh.to_host());
    check_against_differences<TestType>(pairs, loss);
  }
}

TEMPLATE_TEST_CASE("path decoder back-propagation through time matches finite differences", "[examples][layers]",
                   LG_TEST_BACKENDS) {
  const TestType backend = instances<TestType>().back();
  const std::size_t rows = 3, V = 5, E = 4, H = 3, steps = 3;
  lx::path_decoder<TestType, double> decoder(backend, V, E, H);
  std::uint32_t index = 0;
  decoder.initialize(17, index);
  lx::parameter_list<TestType, double> params;
  decoder.collect(params);
  auto h0 = matrix(backend, rows, H, 50);
  const std::vector<std::vector<std::uint32_t>> inputs{{5, 5, 5}, {0, 3, 4}, {2, 2, 1}};  // 5 = START
  std::vector<std::vector<double>> c;
  for (std::size_t t = 0; t < steps; ++t) c.push_back(pattern(rows * V, 60 + t));
  const auto loss = [&] {
    decoder.begin(h0.view(), steps);
    double total = 0;
    for (std::size_t t = 0; t < steps; ++t) total += weighted_sum(decoder.step(inputs[t]), c[t]);
    return total;
  };
  lx::zero_gradients(params);
  loss();
  for (std::size_t t = 0; t < steps; ++t) {
    auto g = decoder.logits(t);
    for (std::size_t i = 0; i < rows; ++i)
      for (std::size_t j = 0; j < V; ++j) g(i, j) = c[t][i * V + j];
  }
  lx::device_matrix<TestType, double> dh0(backend, rows, H);
  decoder.backward(dh0.view());
  auto pairs = parameter_pairs(params);
  pairs.emplace_back(&h0, dh0.to_host());
  check_against_differences<TestType>(pairs, loss);
}

TEST_CASE("seeded initialisation is identical across backends and differs across seeds", "[examples][layers]") {
  lg::backends::reference ref;
  lx::linear<lg::backends::reference, float> a(ref, "a", 7, 5), b(ref, "b", 7, 5);
  std::uint32_t i = 0, j = 0;
  a.initialize(3, i);
  b.initialize(3, j);
  lx::parameter_list<lg::backends::reference, float> pa, pb;
  a.collect(pa);
  b.collect(pb);
  CHECK(pa[0]->value.to_host() == pb[0]->value.to_host());
  const auto values = pa[0]->value.to_host();
  const float bound = static_cast<float>(std::sqrt(6.0 / 12.0));
  for (float v : values) CHECK(std::abs(v) <= bound);
  std::uint32_t k = 0;
  b.initialize(4, k);
  CHECK(pa[0]->value.to_host() != pb[0]->value.to_host());
#ifdef LG_TEST_CPU
  lg::backends::cpu cpu(2);
  lx::linear<lg::backends::cpu, float> c(cpu, "c", 7, 5);
  std::uint32_t m = 0;
  c.initialize(3, m);
  lx::parameter_list<lg::backends::cpu, float> pc;
  c.collect(pc);
  CHECK(pc[0]->value.to_host() == values);
#endif
}

TEST_CASE("adamw takes the textbook first step", "[examples][adam]") {
  lg::backends::reference ref;
  lx::parameter<lg::backends::reference, double> p(ref, "p", 1, 3);
  p.value.copy_from_host(std::vector<double>{1.0, -2.0, 0.5});
  p.grad.copy_from_host(std::vector<double>{0.1, -0.3, 0.0});
  lx::adam<lg::backends::reference, double> opt({&p}, {.learning_rate = 0.01, .weight_decay = 0.1});
  opt.step();
  const auto v = p.value.to_host();
  // Step 1: m̂ = g, v̂ = g², update = sign(g)·|g|/(|g| + ε) ≈ ±1, plus λθ.
  CHECK(v[0] == Approx(1.0 - 0.01 * (0.1 / (0.1 + 1e-8) + 0.1 * 1.0)).epsilon(1e-12));
  CHECK(v[1] == Approx(-2.0 - 0.01 * (-0.3 / (0.3 + 1e-8) + 0.1 * -2.0)).epsilon(1e-12));
  CHECK(v[2] == Approx(0.5 - 0.01 * 0.1 * 0.5).epsilon(1e-12));
  CHECK(opt.steps() == 1);
}

TEST_CASE("checkpoints round-trip bit-exactly and reject corrupt or foreign files", "[examples][checkpoint]") {
  const auto file = std::filesystem::temp_directory_path() / "labelgraph_test_checkpoint.bin";
  const std::vector<float> values{1.5f, -0.0f, 3.25e-7f, std::nextafter(1.0f, 2.0f)};
  lx::checkpoint_writer writer(0x1234);
  writer.add<float>("w", values);
  writer.add_value<std::uint64_t>("step", 42);
  writer.write(file);
  CHECK_FALSE(std::filesystem::exists(file.string() + ".tmp"));
  {
    lx::checkpoint_reader reader(file, 0x1234);
    std::vector<float> back(values.size());
    reader.read<float>("w", back);
    CHECK(std::memcmp(back.data(), values.data(), values.size() * sizeof(float)) == 0);
    CHECK(reader.value<std::uint64_t>("step") == 42);
    std::vector<float> wrong(3);
    CHECK_THROWS_WITH(reader.read<float>("w", wrong), Catch::Contains("entry w holds 16 bytes, the model expects 12"));
    CHECK_THROWS_WITH(reader.value<int>("missing"), Catch::Contains("no entry missing"));
  }
  CHECK_THROWS_WITH(lx::checkpoint_reader(file, 0x9999), Catch::Contains("made for another label graph"));
  {
    std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(30);
    f.put('\x7f');
  }
  CHECK_THROWS_WITH(lx::checkpoint_reader(file, 0x1234), Catch::Contains("checksum mismatch"));
  std::filesystem::resize_file(file, 10);
  CHECK_THROWS_WITH(lx::checkpoint_reader(file, 0x1234), Catch::Contains("not a labelgraph checkpoint"));
  std::filesystem::remove(file);
  CHECK_THROWS_WITH(lx::checkpoint_reader(file, 0x1234), Catch::Contains("cannot open the file"));
}

TEST_CASE("paths through a known node: Def. 3.2 / 3.3 among those paths only", "[examples][label-space]") {
  lx::path_label_space space;
  space.graph = lg::read_graph_json(std::string(LABELGRAPH_SOURCE_DIR) + "/examples/graphs/pets.json");
  const lg::label_graph& g = space.graph;
  space.fine_node = {g.at("british-shorthair")};
  lx::complete_label_space(space);
  const lg::node_id bsh = g.at("british-shorthair");
  // Through `cat` (on every path): the label's own classification, one deterministic path and three uncertain.
  const auto all = space.paths_through(bsh, g.at("cat"));
  CHECK(all.deterministic == space.deterministic_paths(bsh));
  CHECK(all.deterministic.size() == 1);
  CHECK(all.uncertain == (space.uncertain[bsh] != 0));
  CHECK(all.truth == space.truth[bsh]);
  // Through `tabby`: one candidate path, so nothing competes with it.
  const auto tabby = space.paths_through(bsh, g.at("tabby"));
  REQUIRE(tabby.deterministic.size() == 1);
  CHECK_FALSE(tabby.uncertain);
  const auto tokens = space.table.tokens(tabby.deterministic.front());
  CHECK(std::find(tokens.begin(), tokens.end(), space.layout.token(g.at("tabby"))) != tokens.end());
  CHECK(std::find(tabby.truth.begin(), tabby.truth.end(), bsh) != tabby.truth.end());
  CHECK_THROWS_WITH(space.paths_through(bsh, g.at("dog")), Catch::Contains("no path of \"british-shorthair\" passes \"dog\""));
}
