// libtorch_fashion: fashion_fusion's label-aug model and Algorithm 1 written
// with libtorch ops and autograd (torch_model.hpp), trained on the same data,
// graph and batches; prints the fine test accuracy like fashion_fusion.
// The throughput comparison with the labelgraph trainer is bench/trainers
// (scripts/bench-trainers, docs/performance.md).
#include <cstdio>
#include <iostream>
#include <numeric>
#include <string>

#include <CLI/CLI.hpp>

#include "progress.hpp"
#include "torch_model.hpp"

namespace lg = labelgraph;
namespace lx = labelgraph::examples;

#ifndef FASHION_DEFAULT_GRAPH
#define FASHION_DEFAULT_GRAPH "examples/graphs/fashion.json"
#endif

int main(int argc, char** argv) {
  CLI::App app{"fashion_fusion's label-aug model and training step in libtorch (the throughput twin of fashion_fusion)"};
  std::string data = lx::default_fashion_directory, graph = FASHION_DEFAULT_GRAPH, pooling = "mean", schedule = "linear";
  bool fusion = false;
  std::size_t a_size = 1000, b_size = 0, test_size = 10000, epochs = 10, steps_per_epoch = 100;
  int threads = 2;
  lx::trainer_options o;
  app.add_option("--data", data, "directory with the Fashion-MNIST IDX files")->capture_default_str();
  app.add_option("--graph", graph, "label graph (JSON)")->capture_default_str();
  app.add_flag("--fusion", fusion, "also train on dataset B's coarse labels");
  app.add_option("--a-size", a_size, "images in dataset A (fine labels)")->capture_default_str();
  app.add_option("--b-size", b_size, "images in dataset B (coarse labels; 0 = the rest)")->capture_default_str();
  app.add_option("--test-size", test_size, "test images scored")->capture_default_str();
  app.add_option("--epochs", epochs, "epochs")->capture_default_str();
  app.add_option("--steps-per-epoch", steps_per_epoch, "training steps per epoch")->capture_default_str();
  app.add_option("--batch", o.batch, "samples per step")->capture_default_str();
  app.add_option("--b-share", o.b_share, "share of each batch drawn from B")->capture_default_str();
  app.add_option("--hidden", o.hidden, "encoder hidden width")->capture_default_str();
  app.add_option("--state", o.state, "encoder output / GRU state width")->capture_default_str();
  app.add_option("--embedding", o.embedding, "token embedding width")->capture_default_str();
  app.add_option("--lr", o.adam.learning_rate, "AdamW learning rate")->capture_default_str();
  app.add_option("--lr-schedule", schedule, "constant | linear (decay to 0 over the run)")->capture_default_str();
  app.add_option("--weight-decay", o.adam.weight_decay, "decoupled weight decay")->capture_default_str();
  app.add_option("--teacher-force", o.teacher_force, "teacher-force rate r_tf (Algorithm 1)")->capture_default_str();
  app.add_option("--alpha", o.alpha, "weight of the teacher-forced loss")->capture_default_str();
  app.add_option("--beta", o.beta, "weight of the REINFORCE loss")->capture_default_str();
  app.add_option("--baseline-momentum", o.baseline_momentum, "running-mean baseline momentum")->capture_default_str();
  app.add_option("--pooling", pooling, "mean | sum")->capture_default_str();
  app.add_option("--threads", threads, "libtorch intra-op threads (torch::set_num_threads)")->capture_default_str();
  app.add_option("--seed", o.seed, "seed (split, initialisation, batches, sampling)")->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  try {
    if (pooling != "mean" && pooling != "sum") throw lg::argument_error("--pooling: unknown value \"" + pooling + "\"");
    if (schedule != "constant" && schedule != "linear") throw lg::argument_error("--lr-schedule: unknown value \"" + schedule + "\"");
    if (steps_per_epoch == 0) throw lg::argument_error("--steps-per-epoch must be at least 1");
    o.pooling = pooling == "mean" ? lx::path_pooling::mean : lx::path_pooling::sum;
    if (schedule == "linear") o.total_steps = epochs * steps_per_epoch;
    torch::set_num_threads(threads);

    const lx::image_set train = lx::read_fashion(data, "train");
    const lx::image_set test = lx::read_fashion(data, "t10k");
    const lx::fashion_label_space space = lx::make_label_space(graph, 0.0);
    const lx::fusion_split split = lx::split_training_set(train.count, a_size, b_size, o.seed);
    std::vector<std::uint32_t> test_images(std::min(test_size, test.count));
    std::iota(test_images.begin(), test_images.end(), 0u);
    std::vector<lx::training_item> pool_a, pool_b;
    for (std::uint32_t i : split.a) pool_a.push_back({i, space.fine_node[train.labels[i]], false});
    if (fusion) {
      for (std::uint32_t i : split.b) pool_b.push_back({i, space.coarse_node[train.labels[i]], true});
    }
    lx::torch_fashion_trainer trainer(space, train, pool_a, pool_b, o);
    std::cerr << "libtorch_fashion: A = " << split.a.size() << " fine-labelled, B = " << split.b.size()
              << (fusion ? " coarse-labelled" : " unused") << ", test = " << test_images.size() << ", graph "
              << space.layout.token_count() << " tokens, " << trainer.parameter_count() << " parameters, "
              << torch::get_num_threads() << " libtorch threads\n";
    double accuracy = 0;
    for (std::size_t epoch = 0; epoch < epochs; ++epoch) {
      lx::progress_bar bar("libtorch label-aug epoch " + std::to_string(epoch + 1) + "/" + std::to_string(epochs),
                           steps_per_epoch * o.batch, "samples");
      lx::step_statistics total;
      for (std::size_t done = 0; done < steps_per_epoch; done += 10) {
        const std::size_t count = std::min<std::size_t>(10, steps_per_epoch - done);
        const lx::step_statistics stats = trainer.train(count);
        total.loss += stats.loss * static_cast<double>(count);
        total.teacher_loss += stats.teacher_loss * static_cast<double>(count);
        total.reward += stats.reward * static_cast<double>(stats.reward_samples);
        total.reward_samples += stats.reward_samples;
        bar.update((done + count) * o.batch, "loss " + std::to_string(stats.loss));
      }
      accuracy = trainer.accuracy(test, test_images);
      char status[200];
      std::snprintf(status, sizeof status, "loss %.4f  teacher NLL %.4f  reward %.3f  test accuracy %.4f",
                    total.loss / static_cast<double>(steps_per_epoch), total.teacher_loss / static_cast<double>(steps_per_epoch),
                    total.reward_samples ? total.reward / static_cast<double>(total.reward_samples) : 0.0, accuracy);
      bar.finish(status);
    }
    std::printf("fine test accuracy (libtorch label-aug %s, %zu test images): %.4f\n", fusion ? "A+B" : "A",
                test_images.size(), accuracy);
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "libtorch_fashion: error: " << e.what() << "\n";
    return 1;
  }
}
