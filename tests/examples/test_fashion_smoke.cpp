// Smoke run of the Fashion-MNIST fusion trainer on a subset (needs the Debian
// package dataset-fashion-mnist): the loss decreases, the accuracy is far
// above chance, checkpoints round-trip bit-exactly, and a resumed run equals
// an uninterrupted one bit for bit. Plus the trainer's data and graph rules.
#include <catch2/catch.hpp>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>

#include <zlib.h>

#include "labelgraph/backends/cpu.hpp"
#include "trainer.hpp"

namespace lg = labelgraph;
namespace lx = labelgraph::examples;

namespace {

using backend_type = lg::backends::cpu;
using trainer_type = lx::fashion_trainer<backend_type, float>;

const std::string graph_file = std::string(LABELGRAPH_SOURCE_DIR) + "/examples/graphs/fashion.json";

bool have_data() { return std::filesystem::exists(std::string(lx::default_fashion_directory) + "/train-images-idx3-ubyte.gz"); }

/// The data, read once per test program.
struct smoke_data {
  lx::image_set train = lx::read_fashion(lx::default_fashion_directory, "train");
  lx::image_set test = lx::read_fashion(lx::default_fashion_directory, "t10k");
  lx::fashion_label_space space = lx::make_label_space(graph_file, 0.0);
  lx::fusion_split split = lx::split_training_set(train.count, 500, 3000, 7);
  std::vector<lx::training_item> pool_a, pool_b;
  std::vector<std::uint32_t> test_images;
  smoke_data() {
    for (std::uint32_t i : split.a) pool_a.push_back({i, space.fine_node[train.labels[i]], false});
    for (std::uint32_t i : split.b) pool_b.push_back({i, space.coarse_node[train.labels[i]], true});
    for (std::uint32_t i = 0; i < 1000; ++i) test_images.push_back(i);
  }
};

smoke_data& data() {
  static smoke_data instance;
  return instance;
}

lx::trainer_options small_options() {
  lx::trainer_options o;
  o.hidden = 64;
  o.state = 32;
  o.embedding = 16;
  o.batch = 64;
  o.b_share = 0.5;
  o.seed = 3;
  return o;
}

std::unique_ptr<trainer_type> make_trainer(const backend_type& backend, lx::trainer_options o = small_options()) {
  smoke_data& d = data();
  return std::make_unique<trainer_type>(backend, d.space, d.train, d.pool_a, d.pool_b, o);
}

std::vector<std::vector<float>> values(const trainer_type& t) {
  std::vector<std::vector<float>> all;
  for (const auto* p : t.parameters()) all.push_back(p->value.to_host());
  return all;
}

std::string file_bytes(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace

TEST_CASE("fashion trainer: loss decreases and accuracy is far above chance", "[examples][fashion]") {
  if (!have_data()) {
    WARN("SKIPPED: dataset-fashion-mnist is not installed (no /usr/share/datasets/fashion-mnist): smoke run not done");
    return;
  }
  const backend_type backend(2);
  auto trainer = make_trainer(backend);
  const double before = trainer->accuracy(data().test, data().test_images);
  const lx::step_statistics first = trainer->train(10);
  trainer->train(40);
  const lx::step_statistics last = trainer->train(10);
  CHECK(last.teacher_loss < 0.7 * first.teacher_loss);
  CHECK(last.reward_samples > 0);  // REINFORCE ran on the uncertain samples
  const double after = trainer->accuracy(data().test, data().test_images);
  CHECK(before < 0.25);
  CHECK(after > 0.5);  // chance is 0.1
  for (const char* kind : {"ffn", "label-set"}) {
    auto o = small_options();
    o.kind = std::string(kind) == "ffn" ? lx::model_kind::ffn : lx::model_kind::label_set;
    trainer_type flat(backend, data().space, data().train, data().pool_a, {}, o);
    const auto a = flat.train(10);
    flat.train(40);
    const auto b = flat.train(10);
    INFO(kind);
    CHECK(b.loss < 0.7 * a.loss);
    CHECK(flat.accuracy(data().test, data().test_images) > 0.5);
  }
}

TEST_CASE("fashion trainer: checkpoint round trip is bit-exact and resume equals an uninterrupted run",
          "[examples][fashion]") {
  if (!have_data()) {
    WARN("SKIPPED: dataset-fashion-mnist is not installed (no /usr/share/datasets/fashion-mnist): smoke run not done");
    return;
  }
  const auto dir = std::filesystem::temp_directory_path() / "labelgraph_fashion_smoke";
  std::filesystem::create_directories(dir);
  const backend_type backend(2);
  const std::uint64_t hash = data().space.hash;

  auto straight = make_trainer(backend);
  straight->train(12);

  auto first_half = make_trainer(backend);
  first_half->train(6);
  lx::checkpoint_writer writer(hash);
  first_half->save(writer);
  writer.write(dir / "half.ckpt");

  auto resumed = make_trainer(backend);
  resumed->load(lx::checkpoint_reader(dir / "half.ckpt", hash));
  CHECK(values(*resumed) == values(*first_half));
  CHECK(resumed->step_count() == 6);
  CHECK(resumed->baseline() == first_half->baseline());
  // Saving what was loaded reproduces the file byte for byte.
  lx::checkpoint_writer again(hash);
  resumed->save(again);
  again.write(dir / "again.ckpt");
  CHECK(file_bytes(dir / "half.ckpt") == file_bytes(dir / "again.ckpt"));

  resumed->train(6);
  CHECK(values(*resumed) == values(*straight));
  CHECK(resumed->baseline() == straight->baseline());
  const auto p1 = straight->predict(data().test, data().test_images);
  const auto p2 = resumed->predict(data().test, data().test_images);
  bool same = p1.size() == p2.size();
  for (std::size_t i = 0; same && i < p1.size(); ++i) same = p1[i].path == p2[i].path;
  CHECK(same);

  const auto trimmed = lx::make_label_space(graph_file, 0.36);
  CHECK_THROWS_WITH(lx::checkpoint_reader(dir / "half.ckpt", trimmed.hash), Catch::Contains("made for another label graph"));
  auto o = small_options();
  o.state = 48;
  auto bigger = make_trainer(backend, o);
  CHECK_THROWS_WITH(bigger->load(lx::checkpoint_reader(dir / "half.ckpt", hash)), Catch::Contains("another model size"));
  std::filesystem::remove_all(dir);
}

TEST_CASE("fashion label space: classes, coarse ancestors, uncertain labels, trimming rule", "[examples][fashion]") {
  const auto space = lx::make_label_space(graph_file, 0.0);
  const lg::label_graph& g = space.graph;
  CHECK(g.name(space.coarse_node[5]) == "footwear");  // sandal
  CHECK(g.name(space.coarse_node[6]) == "top");       // shirt
  CHECK(space.coarse_node[8] == space.fine_node[8]);   // bag is both
  const auto uncertain = [&](const char* name) { return space.uncertain[g.at(name)] != 0; };
  CHECK(uncertain("shirt"));
  CHECK(uncertain("sandal"));
  CHECK(uncertain("ankle-boot"));
  CHECK_FALSE(uncertain("t-shirt-top"));
  CHECK_FALSE(uncertain("sneaker"));
  CHECK(space.deterministic_paths(g.at("shirt")).size() == 1);  // via open-front, like the paper's British shorthair
  CHECK(space.truth[g.at("shirt")] == std::vector<lg::node_id>{g.at("top"), g.at("shirt")});

  const auto count_augmented = [](const lg::label_graph& graph) {
    std::size_t n = 0;
    for (lg::node_id v = 0; v < graph.node_count(); ++v) n += graph.kind(v) == lg::node_kind::augmented ? 1 : 0;
    return n;
  };
  const auto medium = lx::make_label_space(graph_file, 0.36);
  const auto small = lx::make_label_space(graph_file, 0.63);
  CHECK(count_augmented(g) == 10);
  CHECK(count_augmented(medium.graph) == 6);  // heel and upper removed
  CHECK(count_augmented(small.graph) == 4);   // and shaft
  CHECK(medium.graph.find("flat-heel") == lg::no_node);
  CHECK(medium.graph.find("low-shaft") != lg::no_node);
  CHECK(small.graph.find("low-shaft") == lg::no_node);
  // Spliced: the sneaker hangs from footwear directly once all its attribute parents are gone.
  const auto parents = small.graph.parents(small.graph.at("sneaker"));
  REQUIRE(parents.size() == 1);
  CHECK(small.graph.name(parents[0]) == "footwear");
  CHECK_FALSE(small.uncertain[small.graph.at("sandal")] != 0);
  CHECK(small.uncertain[small.graph.at("shirt")] != 0);
}

TEST_CASE("fashion data: the split is seeded and disjoint, IDX errors name the file", "[examples][fashion]") {
  const auto split = lx::split_training_set(100, 10, 0, 5);
  CHECK(split.a.size() == 10);
  CHECK(split.b.size() == 90);
  std::vector<std::uint32_t> all(split.a);
  all.insert(all.end(), split.b.begin(), split.b.end());
  std::sort(all.begin(), all.end());
  CHECK(std::adjacent_find(all.begin(), all.end()) == all.end());
  CHECK(lx::split_training_set(100, 10, 0, 5).a == split.a);
  CHECK(lx::split_training_set(100, 10, 0, 6).a != split.a);
  CHECK_THROWS_WITH(lx::split_training_set(100, 60, 50, 5), Catch::Contains("exceeds the 100 training images"));

  CHECK_THROWS_WITH(lx::read_idx("/nonexistent/train-images-idx3-ubyte.gz"),
                    Catch::Contains("/nonexistent/train-images-idx3-ubyte.gz: cannot open the file"));
  const auto file = (std::filesystem::temp_directory_path() / "labelgraph_truncated_idx.gz").string();
  {
    gzFile out = gzopen(file.c_str(), "wb");
    const unsigned char header[] = {0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 28, 0, 0, 0, 28, 1, 2, 3};
    gzwrite(out, header, sizeof header);
    gzclose(out);
  }
  CHECK_THROWS_WITH(lx::read_idx(file), Catch::Contains(file + ": truncated file (data: expected 1568 bytes, got 3)"));
  std::filesystem::remove(file);
}
