// fashion_fusion: the paper's Table 3 experiment on Fashion-MNIST.
//
// Joins a small fine-labelled dataset A with a large coarse-labelled dataset
// B through the label graph examples/graphs/fashion.json and trains one of
// the Table 3 models on the cpu backend; prints the fine test accuracy.
// examples/fashion_fusion/README.md explains the graph, the flags and the runs.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <string>

#include <CLI/CLI.hpp>

#include "training_backend.hpp"  // first: the backend's kernels before the generic code
#include "png.hpp"
#include "trainer.hpp"
#include "training_run.hpp"

namespace lg = labelgraph;
namespace lx = labelgraph::examples;
using lx::training_backend;

#ifndef FASHION_DEFAULT_GRAPH
#define FASHION_DEFAULT_GRAPH "examples/graphs/fashion.json"
#endif

namespace {

struct run_settings : lx::loop_settings {
  std::string data = lx::default_fashion_directory;
  std::string graph = FASHION_DEFAULT_GRAPH;
  std::string model = "label-aug";
  bool fusion = false;
  std::size_t a_size = 1000;
  std::size_t b_size = 0;
  std::size_t test_size = 10000;
  double trim = 0.0;
  bool interpret = false;
  bool json = false;
};

using model_type = lx::fashion_trainer<training_backend, float>;

/// Trains `trainer` for the remaining epochs; returns the final test accuracy.
double run_epochs(model_type& trainer, const run_settings& s, const std::string& name, const lx::image_set& test,
                  const std::vector<std::uint32_t>& test_images, std::ofstream* csv, std::uint64_t graph_hash) {
  return lx::run_epochs(trainer, s, name, [&] { return trainer.accuracy(test, test_images); }, "test accuracy", csv,
                        graph_hash);
}

/// PNG grids (the paper's Figure 4): test images whose predicted path passes
/// through each augmented node, framed blue (deterministic path) or green (nondeterministic).
void write_interpretability(model_type& trainer, const lx::fashion_label_space& space, const lx::image_set& test,
                            const std::vector<std::uint32_t>& test_images, const std::filesystem::path& out) {
  const auto predictions = trainer.predict(test, test_images);
  const std::size_t columns = 10, rows = 4, cell = 28 + 6;
  for (lg::node_id v = 0; v < space.graph.node_count(); ++v) {
    if (space.graph.kind(v) != lg::node_kind::augmented) continue;
    lx::rgb_image grid(columns * cell, rows * cell);
    std::size_t placed = 0, deterministic = 0, through = 0;
    for (std::size_t i = 0; i < predictions.size(); ++i) {
      const auto& path = predictions[i].path;
      if (std::find(path.begin(), path.end(), v) == path.end()) continue;
      ++through;
      deterministic += predictions[i].deterministic ? 1 : 0;
      if (placed == columns * rows) continue;
      const std::size_t x0 = (placed % columns) * cell, y0 = (placed / columns) * cell;
      const std::array<std::uint8_t, 3> frame =
          predictions[i].deterministic ? std::array<std::uint8_t, 3>{40, 90, 220} : std::array<std::uint8_t, 3>{40, 170, 60};
      for (std::size_t y = 0; y < 32; ++y)
        for (std::size_t x = 0; x < 32; ++x) grid.set(x0 + 1 + x, y0 + 1 + y, frame);
      const std::uint8_t* image = test.raw.data() + std::size_t{test_images[i]} * test.pixels;
      for (std::size_t y = 0; y < 28; ++y)
        for (std::size_t x = 0; x < 28; ++x) {
          const auto g = static_cast<std::uint8_t>(255 - image[y * 28 + x]);
          grid.set(x0 + 3 + x, y0 + 3 + y, {g, g, g});
        }
      ++placed;
    }
    const std::string file = (out / ("interpret-" + std::string(space.graph.name(v)) + ".png")).string();
    lx::write_png(file, grid);
    std::cout << "interpretability: " << file << ": " << through << " test images predicted through \""
              << space.graph.name(v) << "\" (" << deterministic << " on deterministic paths)\n";
  }
}

int run(const run_settings& s, lx::trainer_options options) {
  const std::filesystem::path data(s.data);
  const lx::image_set train = lx::read_fashion(data, "train");
  const lx::image_set test = lx::read_fashion(data, "t10k");
  const lx::fashion_label_space space = lx::make_label_space(s.graph, s.trim);
  const lx::fusion_split split = lx::split_training_set(train.count, s.a_size, s.b_size, options.seed);
  std::vector<std::uint32_t> test_images(std::min(s.test_size, test.count));
  std::iota(test_images.begin(), test_images.end(), 0u);
  std::vector<lx::training_item> pool_a, pool_b;
  for (std::uint32_t i : split.a) pool_a.push_back({i, space.fine_node[train.labels[i]], false});
  const bool pseudo = s.model == "pseudo-label";
  if (s.fusion && !pseudo) {
    for (std::uint32_t i : split.b) pool_b.push_back({i, space.coarse_node[train.labels[i]], true});
  }
  options.kind = lx::parse_model(pseudo ? "ffn" : s.model);
  std::ofstream csv = lx::open_metrics_csv(s, "test_accuracy");
  const training_backend backend(s.threads);
  std::cerr << "fashion_fusion: model " << s.model << (s.fusion ? " (A + B)" : " (A)") << ", A = " << split.a.size()
            << " fine-labelled, B = " << split.b.size() << (s.fusion || pseudo ? " coarse-labelled" : " unused")
            << ", test = " << test_images.size() << ", graph " << space.layout.token_count() << " tokens, "
            << backend.threads() << " threads\n";
  double accuracy = 0;
  std::string description = s.model + (s.fusion ? " A+B" : " A");
  if (pseudo) {
    // Stage 1: FFN on A; it labels B; keep the labels B's coarse label agrees with.
    model_type teacher(backend, space, train, pool_a, {}, options);
    run_epochs(teacher, s, "pseudo-label teacher", test, test_images, csv.is_open() ? &csv : nullptr, space.hash);
    const auto predicted = teacher.predict(train, split.b);
    std::size_t kept = 0;
    for (std::size_t k = 0; k < split.b.size(); ++k) {
      const int c = predicted[k].fine_class;
      const std::uint32_t image = split.b[k];
      if (c >= 0 && space.coarse_node[static_cast<std::size_t>(c)] == space.coarse_node[train.labels[image]]) {
        pool_b.push_back({image, space.fine_node[static_cast<std::size_t>(c)], false});
        ++kept;
      }
    }
    std::size_t right = 0;
    for (const auto& item : pool_b) right += item.label == space.fine_node[train.labels[item.image]] ? 1 : 0;
    std::cerr << "pseudo labels: kept " << kept << " of " << split.b.size() << " (coarse label agrees), "
              << (kept ? 100.0 * static_cast<double>(right) / static_cast<double>(kept) : 0.0) << "% correct\n";
    model_type student(backend, space, train, pool_a, pool_b, options);
    accuracy = run_epochs(student, s, "pseudo-label student", test, test_images, csv.is_open() ? &csv : nullptr, space.hash);
    description = "pseudo-label A+B";
  } else {
    model_type trainer(backend, space, train, pool_a, pool_b, options);
    if (!s.resume.empty()) {
      trainer.load(lx::checkpoint_reader(s.resume, space.hash));
      std::cerr << "resumed from " << s.resume << " at step " << trainer.step_count() << "\n";
    }
    accuracy = run_epochs(trainer, s, s.model, test, test_images, csv.is_open() ? &csv : nullptr, space.hash);
    if (s.interpret && options.kind == lx::model_kind::label_aug) {
      write_interpretability(trainer, space, test, test_images, s.out.empty() ? "." : s.out);
    }
  }
  std::printf("fine test accuracy (%s, %zu test images): %.4f\n", description.c_str(), test_images.size(), accuracy);
  if (s.json) {
    std::printf("{\"model\": \"%s\", \"fusion\": %s, \"seed\": %llu, \"trim\": %g, \"pooling\": \"%s\", "
                "\"regularizer\": \"%s\", \"test_accuracy\": %.6f}\n",
                s.model.c_str(), s.fusion ? "true" : "false", static_cast<unsigned long long>(options.seed), s.trim,
                s.pooling.c_str(), s.reg.c_str(), accuracy);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Fashion-MNIST fusion trainer: the paper's Table 3 on a small fine-labelled set A and a large "
               "coarse-labelled set B, joined by a label graph"};
  run_settings s;
  lx::trainer_options o;
  app.add_option("--data", s.data, "directory with the Fashion-MNIST IDX files")->capture_default_str();
  app.add_option("--graph", s.graph, "label graph (JSON)")->capture_default_str();
  app.add_option("--model", s.model, "ffn | label-set | label-aug | pseudo-label")->capture_default_str();
  app.add_flag("--fusion", s.fusion, "also train on dataset B's coarse labels (label-aug)");
  app.add_option("--a-size", s.a_size, "images in dataset A (fine labels)")->capture_default_str();
  app.add_option("--b-size", s.b_size, "images in dataset B (coarse labels; 0 = the rest)")->capture_default_str();
  app.add_option("--test-size", s.test_size, "test images scored")->capture_default_str();
  lx::add_training_flags(app, s, o);
  app.add_option("--trim", s.trim, "fraction of augmented nodes removed (0.36, 0.63: Table 4)")->capture_default_str();
  lx::add_run_flags(app, s, o, "output directory: metrics.csv, interpretability PNGs");
  app.add_flag("--interpret", s.interpret, "write the Figure 4 PNG grids (label-aug)");
  app.add_flag("--json", s.json, "print the result as one JSON line");
  CLI11_PARSE(app, argc, argv);
  try {
    lx::resolve_training_flags(s, o);
    if (!s.resume.empty() && s.model == "pseudo-label") throw lg::argument_error("--resume: not supported for pseudo-label");
    return run(s, o);
  } catch (const std::exception& e) {
    std::cerr << "fashion_fusion: error: " << e.what() << "\n";
    return 1;
  }
}
