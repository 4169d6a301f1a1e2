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

#if __has_include("labelgraph/backends/cpu.hpp")
#include "labelgraph/backends/cpu.hpp"
using training_backend = labelgraph::backends::cpu;
#else
#include "labelgraph/backends/reference.hpp"
using training_backend = labelgraph::backends::reference;
#endif

#include "png.hpp"
#include "progress.hpp"
#include "trainer.hpp"

namespace lg = labelgraph;
namespace lx = labelgraph::examples;

#ifndef FASHION_DEFAULT_GRAPH
#define FASHION_DEFAULT_GRAPH "examples/graphs/fashion.json"
#endif

namespace {

struct run_settings {
  std::string data = lx::default_fashion_directory;
  std::string graph = FASHION_DEFAULT_GRAPH;
  std::string model = "label-aug";
  bool fusion = false;
  std::size_t a_size = 1000;
  std::size_t b_size = 0;
  std::size_t test_size = 10000;
  std::size_t epochs = 10;
  std::size_t steps_per_epoch = 100;
  std::size_t stop_after = 0;
  double trim = 0.0;
  int threads = 2;
  std::string out;
  std::string checkpoint;
  std::string resume;
  bool interpret = false;
  bool json = false;
  std::string pooling = "mean", norm = "candidate", reg = "none", decode = "max-candidate";
  double epsilon = 0.1;
  std::string schedule = "linear";
};

using model_type = lx::fashion_trainer<training_backend, float>;

/// Trains `trainer` for the remaining epochs; returns the final test accuracy.
double run_epochs(model_type& trainer, const run_settings& s, const std::string& name, const lx::image_set& test,
                  const std::vector<std::uint32_t>& test_images, std::ofstream* csv, std::uint64_t graph_hash) {
  double accuracy = 0;
  std::size_t first_epoch = trainer.step_count() / s.steps_per_epoch;
  const std::size_t last_epoch = s.stop_after != 0 ? std::min(s.epochs, s.stop_after) : s.epochs;
  if (first_epoch >= last_epoch) accuracy = trainer.accuracy(test, test_images);
  for (std::size_t epoch = first_epoch; epoch < last_epoch; ++epoch) {
    lx::progress_bar bar(name + " epoch " + std::to_string(epoch + 1) + "/" + std::to_string(s.epochs),
                         s.steps_per_epoch * trainer.options().batch, "samples");
    lx::step_statistics total;
    const std::size_t chunk = 10;
    for (std::size_t done = 0; done < s.steps_per_epoch; done += chunk) {
      const std::size_t count = std::min(chunk, s.steps_per_epoch - done);
      const lx::step_statistics stats = trainer.train(count);
      total.loss += stats.loss * static_cast<double>(count);
      total.teacher_loss += stats.teacher_loss * static_cast<double>(count);
      total.reward += stats.reward * static_cast<double>(stats.reward_samples);
      total.reward_samples += stats.reward_samples;
      char status[96];
      std::snprintf(status, sizeof status, "loss %.4f", stats.loss);
      bar.update((done + count) * trainer.options().batch, status);
    }
    const double seconds = bar.elapsed();
    const double rate = static_cast<double>(s.steps_per_epoch * trainer.options().batch) / seconds;
    accuracy = trainer.accuracy(test, test_images);
    const double loss = total.loss / static_cast<double>(s.steps_per_epoch);
    const double reward = total.reward_samples ? total.reward / static_cast<double>(total.reward_samples) : 0.0;
    char status[160];
    std::snprintf(status, sizeof status, "loss %.4f  teacher NLL %.4f  reward %.3f  test accuracy %.4f", loss,
                  total.teacher_loss / static_cast<double>(s.steps_per_epoch), reward, accuracy);
    bar.finish(status);
    if (csv != nullptr) {
      *csv << name << ',' << epoch + 1 << ',' << trainer.step_count() << ',' << loss << ','
           << total.teacher_loss / static_cast<double>(s.steps_per_epoch) << ',' << reward << ',' << trainer.baseline()
           << ',' << accuracy << ',' << rate << ',' << seconds << '\n';
      csv->flush();
    }
    if (!s.checkpoint.empty()) {
      lx::checkpoint_writer writer(graph_hash);
      trainer.save(writer);
      writer.write(s.checkpoint);
    }
  }
  return accuracy;
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

template <class Enum>
Enum parse(const std::string& flag, const std::string& text, const std::map<std::string, Enum>& choices) {
  const auto found = choices.find(text);
  if (found == choices.end()) throw lg::argument_error(flag + ": unknown value \"" + text + "\"");
  return found->second;
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
  options.kind = parse<lx::model_kind>("--model", pseudo ? "ffn" : s.model,
                                       {{"ffn", lx::model_kind::ffn}, {"label-set", lx::model_kind::label_set},
                                        {"label-aug", lx::model_kind::label_aug}});
  if (!s.out.empty()) std::filesystem::create_directories(s.out);
  std::ofstream csv;
  if (!s.out.empty()) {
    const auto file = std::filesystem::path(s.out) / "metrics.csv";
    const bool fresh = s.resume.empty() || !std::filesystem::exists(file);
    csv.open(file, fresh ? std::ios::trunc : std::ios::app);
    if (fresh) csv << "stage,epoch,step,loss,teacher_nll,reward,baseline,test_accuracy,samples_per_second,seconds\n";
  }
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
  app.add_option("--epochs", s.epochs, "epochs")->capture_default_str();
  app.add_option("--steps-per-epoch", s.steps_per_epoch, "training steps per epoch")->capture_default_str();
  app.add_option("--stop-after", s.stop_after, "stop after this many epochs (0: run them all)")->capture_default_str();
  app.add_option("--batch", o.batch, "samples per step")->capture_default_str();
  app.add_option("--b-share", o.b_share, "share of each batch drawn from B")->capture_default_str();
  app.add_option("--hidden", o.hidden, "encoder hidden width")->capture_default_str();
  app.add_option("--state", o.state, "encoder output / GRU state width")->capture_default_str();
  app.add_option("--embedding", o.embedding, "token embedding width")->capture_default_str();
  app.add_option("--lr", o.adam.learning_rate, "Adam learning rate")->capture_default_str();
  app.add_option("--lr-schedule", s.schedule, "constant | linear (decay to 0 over the run)")->capture_default_str();
  app.add_option("--weight-decay", o.adam.weight_decay, "decoupled weight decay")->capture_default_str();
  app.add_option("--teacher-force", o.teacher_force, "teacher-force rate r_tf (Algorithm 1)")->capture_default_str();
  app.add_option("--alpha", o.alpha, "weight of the teacher-forced loss")->capture_default_str();
  app.add_option("--beta", o.beta, "weight of the REINFORCE loss")->capture_default_str();
  app.add_option("--baseline-momentum", o.baseline_momentum, "running-mean baseline momentum")->capture_default_str();
  app.add_option("--pooling", s.pooling, "mean | sum | random | marginal | best")->capture_default_str();
  app.add_option("--normalization", s.norm, "candidate | block | full")->capture_default_str();
  app.add_option("--regularizer", s.reg, "none | label-smoothing | maxsup")->capture_default_str();
  app.add_option("--epsilon", s.epsilon, "regulariser strength")->capture_default_str();
  app.add_option("--decode", s.decode, "max-candidate | max-block")->capture_default_str();
  app.add_option("--trim", s.trim, "fraction of augmented nodes removed (0.36, 0.63: Table 4)")->capture_default_str();
  app.add_option("--threads", s.threads, "cpu backend threads")->capture_default_str();
  app.add_option("--seed", o.seed, "seed (split, initialisation, batches, sampling)")->capture_default_str();
  app.add_option("--out", s.out, "output directory: metrics.csv, interpretability PNGs");
  app.add_option("--checkpoint", s.checkpoint, "write a checkpoint here after every epoch");
  app.add_option("--resume", s.resume, "continue from this checkpoint");
  app.add_flag("--interpret", s.interpret, "write the Figure 4 PNG grids (label-aug)");
  app.add_flag("--json", s.json, "print the result as one JSON line");
  CLI11_PARSE(app, argc, argv);
  try {
    o.pooling = parse<lx::path_pooling>("--pooling", s.pooling,
                                        {{"mean", lx::path_pooling::mean}, {"sum", lx::path_pooling::sum},
                                         {"random", lx::path_pooling::random}, {"marginal", lx::path_pooling::marginal},
                                         {"best", lx::path_pooling::best}});
    o.norm = parse<lg::normalization>("--normalization", s.norm,
                                      {{"candidate", lg::normalization::candidate}, {"block", lg::normalization::block},
                                       {"full", lg::normalization::full}});
    o.reg = parse<lg::regularizer>("--regularizer", s.reg,
                                   {{"none", lg::regularizer{}}, {"label-smoothing", lg::regularizer::label_smoothing(s.epsilon)},
                                    {"maxsup", lg::regularizer::max_suppression(s.epsilon)}});
    o.rule = parse<lg::decode_rule>("--decode", s.decode,
                                    {{"max-candidate", lg::decode_rule::max_candidate}, {"max-block", lg::decode_rule::max_block}});
    if (s.steps_per_epoch == 0) throw lg::argument_error("--steps-per-epoch must be at least 1");
    if (s.schedule != "constant" && s.schedule != "linear") throw lg::argument_error("--lr-schedule: unknown value \"" + s.schedule + "\"");
    if (s.schedule == "linear") o.total_steps = s.epochs * s.steps_per_epoch;
    if (!s.resume.empty() && s.model == "pseudo-label") throw lg::argument_error("--resume: not supported for pseudo-label");
    return run(s, o);
  } catch (const std::exception& e) {
    std::cerr << "fashion_fusion: error: " << e.what() << "\n";
    return 1;
  }
}
