// wordnet_text: the paper's Arxiv experiment on WordNet glosses.
//
// Classifies noun synsets by their gloss (hashed bag of word unigrams and
// bigrams) into fine labels (the synset's ancestors at a chosen depth of the
// hypernym DAG), joining a small fine-labelled dataset A with a disjoint
// coarse-labelled dataset B (lexicographer files) through a label graph built
// from WordNet; prints the test micro-F1 of the predicted fine-label sets.
// examples/wordnet_text/README.md explains the graph, the flags and the runs.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <numeric>
#include <algorithm>
#include <string>

#include <CLI/CLI.hpp>

#include "training_backend.hpp"  // first: the backend's kernels before the generic code
#include "path_trainer.hpp"
#include "text_encoder.hpp"
#include "training_run.hpp"
#include "wordnet_data.hpp"

namespace lg = labelgraph;
namespace lx = labelgraph::examples;
using lx::training_backend;

namespace {

struct run_settings : lx::loop_settings {
  std::string wordnet = lx::default_wordnet_directory;
  std::string model = "label-aug";
  bool fusion = false;
  bool a_files = false;
  std::size_t depth = 3;
  std::size_t a_size = 4000;
  std::size_t b_size = 40000;
  std::size_t test_size = 5000;
  std::uint32_t buckets = 1u << 14;
  std::size_t text_width = 64;
  bool json = false;
};

using encoder_type = lx::text_encoder<training_backend, float>;
using model_type = lx::path_trainer<training_backend, float, encoder_type>;

/// Micro-F1 of the predicted fine-label sets of `rows` against their true sets.
double test_micro_f1(model_type& trainer, const lx::wordnet_label_space& space, const lx::text_set& texts,
                     const std::vector<std::uint32_t>& rows) {
  const auto predictions = trainer.predict(texts, rows);
  lx::micro_f1 score;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    std::vector<int> predicted;
    if (predictions[i].fine_class >= 0) predicted.push_back(predictions[i].fine_class);
    score.add(predicted, space.sample_fine[rows[i]]);
  }
  return score.value();
}

int run(const run_settings& s, lx::trainer_options options) {
  const lx::wordnet_task task = lx::read_wordnet_task(s.wordnet, s.depth);
  const lx::wordnet_label_space space = lx::make_wordnet_label_space(task);
  const lx::text_set texts = lx::sample_texts(task, s.buckets);
  const std::size_t count = task.sample_synset.size();
  // The test set depends on the sizes only (one fixed key), A and B on the seed.
  const lx::fusion_split held =
      lx::split_training_set(count, std::min(s.test_size, count - 1), 0, 0x7E57ull, "samples");
  const lx::fusion_split split =
      lx::split_training_set(held.b.size(), s.a_size, s.b_size, options.seed, "samples left after the test set");
  std::vector<std::uint32_t> test_rows = held.a;
  std::sort(test_rows.begin(), test_rows.end());
  std::vector<lx::training_item> pool_a, pool_b;
  for (std::uint32_t k : split.a) {
    const std::uint32_t sample = held.b[k];
    const lg::node_id file = s.a_files ? space.coarse_node[task.lexfile[sample]] : lg::no_node;
    for (int c : space.sample_fine[sample]) {
      pool_a.push_back({sample, space.fine_node[static_cast<std::size_t>(c)], false, file});
    }
  }
  if (s.fusion) {
    for (std::uint32_t k : split.b) {
      const std::uint32_t sample = held.b[k];
      pool_b.push_back({sample, space.coarse_node[task.lexfile[sample]], true});
    }
  }
  options.kind = lx::parse_model(s.model);
  if ((s.fusion || s.a_files) && options.kind != lx::model_kind::label_aug) {
    if (s.a_files) throw lg::argument_error("--a-files: only the label-aug model can use A's lexicographer files");
    throw lg::argument_error("--fusion: dataset B has coarse labels only, which only the label-aug model can use");
  }
  std::ofstream csv = lx::open_metrics_csv(s, "test_micro_f1");
  const training_backend backend(s.threads);
  // Chance level: always predicting the most frequent fine label of A.
  std::vector<std::size_t> frequency(space.fine_node.size(), 0);
  for (const lx::training_item& item : pool_a) ++frequency[static_cast<std::size_t>(space.class_of_node[item.label])];
  const int majority = static_cast<int>(std::max_element(frequency.begin(), frequency.end()) - frequency.begin());
  lx::micro_f1 chance;
  for (std::uint32_t row : test_rows) chance.add({majority}, space.sample_fine[row]);
  std::size_t uncertain = 0;
  for (lg::node_id v : space.fine_node) uncertain += space.uncertain[v];
  std::cerr << "wordnet_text: model " << s.model << (s.fusion ? " (A + B)" : " (A)") << ", depth " << s.depth << ": "
            << space.fine_node.size() << " fine labels (" << uncertain << " with nondeterministic paths), "
            << count << " samples; A = " << split.a.size() << " fine-labelled (" << pool_a.size()
            << " sample-label pairs" << (s.a_files ? ", with their files" : "") << "), B = " << split.b.size()
            << (s.fusion ? " coarse-labelled" : " unused")
            << ", test = " << test_rows.size() << "; graph " << space.layout.token_count() << " tokens; "
            << backend.threads() << " threads; majority-class micro-F1 " << chance.value() << "\n";
  model_type trainer(backend, space, texts, pool_a, pool_b, options,
                     encoder_type(backend, s.buckets, s.text_width, options.hidden, options.state));
  if (!s.resume.empty()) {
    trainer.load(lx::checkpoint_reader(s.resume, space.hash));
    std::cerr << "resumed from " << s.resume << " at step " << trainer.step_count() << "\n";
  }
  const double f1 = lx::run_epochs(trainer, s, s.model, [&] { return test_micro_f1(trainer, space, texts, test_rows); },
                                   "test micro-F1", csv.is_open() ? &csv : nullptr, space.hash);
  const std::string description = s.model + (s.a_files ? " A(files)" : " A") + (s.fusion ? "+B" : "");
  std::printf("fine test micro-F1 (%s, depth %zu, %zu test synsets): %.4f\n", description.c_str(), s.depth,
              test_rows.size(), f1);
  std::printf("gain over always predicting A's most frequent fine label (micro-F1 %.4f): %+.4f\n", chance.value(),
              f1 - chance.value());
  if (s.json) {
    std::printf("{\"model\": \"%s\", \"fusion\": %s, \"a_files\": %s, \"seed\": %llu, \"depth\": %zu, "
                "\"test_micro_f1\": %.6f}\n",
                s.model.c_str(), s.fusion ? "true" : "false", s.a_files ? "true" : "false",
                static_cast<unsigned long long>(options.seed), s.depth, f1);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"WordNet gloss classifier: the paper's Arxiv experiment, a small set A labelled with fine labels "
               "(hypernyms at a depth) and a large set B labelled with lexicographer files, joined by a label graph"};
  run_settings s;
  lx::trainer_options o;
  o.hidden = 128;
  o.state = 64;
  o.embedding = 32;
  o.adam.learning_rate = 1e-2;  // each n-gram bucket is updated rarely: see README.md
  o.beta = 8.0;                 // Eq. 3's reward is at most 2/(k+1) for a label under k files: see README.md
  s.epochs = 8;
  app.add_option("--wordnet", s.wordnet, "directory with WordNet 3.0's data.noun")->capture_default_str();
  app.add_option("--model", s.model, "ffn | label-set | label-aug")->capture_default_str();
  app.add_flag("--fusion", s.fusion, "also train on dataset B's coarse labels (label-aug)");
  app.add_flag("--a-files", s.a_files,
               "dataset A carries each synset's lexicographer file too (as Arxiv categories carry their archive)");
  app.add_option("--depth", s.depth, "hypernym depth of the fine labels (entity = 0)")->capture_default_str();
  app.add_option("--a-size", s.a_size, "synsets in dataset A (fine labels)")->capture_default_str();
  app.add_option("--b-size", s.b_size, "synsets in dataset B (coarse labels; 0 = the rest)")->capture_default_str();
  app.add_option("--test-size", s.test_size, "test synsets scored")->capture_default_str();
  app.add_option("--buckets", s.buckets, "hash buckets of the bag of n-grams")->capture_default_str();
  app.add_option("--text-embedding", s.text_width, "width of the n-gram embedding")->capture_default_str();
  lx::add_training_flags(app, s, o);
  lx::add_run_flags(app, s, o, "output directory: metrics.csv");
  app.add_flag("--json", s.json, "print the result as one JSON line");
  CLI11_PARSE(app, argc, argv);
  try {
    lx::resolve_training_flags(s, o);
    if (s.buckets == 0) throw lg::argument_error("--buckets must be at least 1");
    if (s.test_size == 0) throw lg::argument_error("--test-size must be at least 1");
    return run(s, o);
  } catch (const std::exception& e) {
    std::cerr << "wordnet_text: error: " << e.what() << "\n";
    return 1;
  }
}
