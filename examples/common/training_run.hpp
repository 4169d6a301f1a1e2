#pragma once
/// \file
/// The command-line side of the example trainers (fashion_fusion,
/// wordnet_text): the flags every trainer shares (CLI11), their translation
/// into `trainer_options`, the metrics CSV, and the epoch loop with progress
/// bar, evaluation and a checkpoint after every epoch.

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>

#include <CLI/CLI.hpp>

#include "checkpoint.hpp"
#include "path_trainer.hpp"
#include "progress.hpp"

namespace labelgraph::examples {

/// Flags of a run that are not model options.
struct loop_settings {
  std::size_t epochs = 10;
  std::size_t steps_per_epoch = 100;
  std::size_t stop_after = 0;  ///< > 0: stop after this many epochs
  int threads = 2;
  std::string out;         ///< output directory (metrics.csv), empty: none
  std::string checkpoint;  ///< written after every epoch, empty: none
  std::string resume;      ///< checkpoint to continue from, empty: a fresh run
  std::string pooling = "mean", norm = "candidate", reg = "none", decode = "max-candidate";
  double epsilon = 0.1;
  std::string schedule = "linear";
};

/// `choices[text]`, or an `argument_error` naming the flag.
template <class Enum>
Enum parse_choice(const std::string& flag, const std::string& text, const std::map<std::string, Enum>& choices) {
  const auto found = choices.find(text);
  if (found == choices.end()) throw argument_error(flag + ": unknown value \"" + text + "\"");
  return found->second;
}

/// The shared training flags, from --epochs to --decode.
inline void add_training_flags(CLI::App& app, loop_settings& s, trainer_options& o) {
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
}

/// The shared run flags: threads, seed, output, checkpoints.
inline void add_run_flags(CLI::App& app, loop_settings& s, trainer_options& o, const std::string& out_help) {
  app.add_option("--threads", s.threads, "cpu backend threads")->capture_default_str();
  app.add_option("--seed", o.seed, "seed (split, initialisation, batches, sampling)")->capture_default_str();
  app.add_option("--out", s.out, out_help);
  app.add_option("--checkpoint", s.checkpoint, "write a checkpoint here after every epoch");
  app.add_option("--resume", s.resume, "continue from this checkpoint");
}

/// Turns the text flags into `o` and checks the loop settings; throws `argument_error`.
inline void resolve_training_flags(const loop_settings& s, trainer_options& o) {
  o.pooling = parse_choice<path_pooling>("--pooling", s.pooling,
                                         {{"mean", path_pooling::mean}, {"sum", path_pooling::sum},
                                          {"random", path_pooling::random}, {"marginal", path_pooling::marginal},
                                          {"best", path_pooling::best}});
  o.norm = parse_choice<normalization>("--normalization", s.norm,
                                       {{"candidate", normalization::candidate}, {"block", normalization::block},
                                        {"full", normalization::full}});
  o.reg = parse_choice<regularizer>("--regularizer", s.reg,
                                    {{"none", regularizer{}}, {"label-smoothing", regularizer::label_smoothing(s.epsilon)},
                                     {"maxsup", regularizer::max_suppression(s.epsilon)}});
  o.rule = parse_choice<decode_rule>("--decode", s.decode,
                                     {{"max-candidate", decode_rule::max_candidate}, {"max-block", decode_rule::max_block}});
  if (s.steps_per_epoch == 0) throw argument_error("--steps-per-epoch must be at least 1");
  if (s.schedule != "constant" && s.schedule != "linear") throw argument_error("--lr-schedule: unknown value \"" + s.schedule + "\"");
  if (s.schedule == "linear") o.total_steps = s.epochs * s.steps_per_epoch;
}

/// `--model` text -> model kind.
[[nodiscard]] inline model_kind parse_model(const std::string& text) {
  return parse_choice<model_kind>("--model", text, {{"ffn", model_kind::ffn}, {"label-set", model_kind::label_set},
                                                    {"label-aug", model_kind::label_aug}});
}

/// Opens `<out>/metrics.csv` (none when `out` is empty): a fresh file with its
/// header, or, when resuming and it exists, appended to. Creates `out`.
[[nodiscard]] inline std::ofstream open_metrics_csv(const loop_settings& s, const std::string& metric_column) {
  std::ofstream csv;
  if (s.out.empty()) return csv;
  std::filesystem::create_directories(s.out);
  const auto file = std::filesystem::path(s.out) / "metrics.csv";
  const bool fresh = s.resume.empty() || !std::filesystem::exists(file);
  csv.open(file, fresh ? std::ios::trunc : std::ios::app);
  if (fresh) csv << "stage,epoch,step,loss,teacher_nll,reward,baseline," << metric_column << ",samples_per_second,seconds\n";
  return csv;
}

/// Trains `trainer` for the epochs left (from its step count) with a progress
/// bar; after each epoch scores it with `evaluate()` (reported as `metric`),
/// appends a CSV row and writes the checkpoint. Returns the last score.
template <class Trainer, class Evaluate>
double run_epochs(Trainer& trainer, const loop_settings& s, const std::string& name, Evaluate evaluate,
                  const std::string& metric, std::ofstream* csv, std::uint64_t graph_hash) {
  double score = 0;
  const std::size_t first_epoch = trainer.step_count() / s.steps_per_epoch;
  const std::size_t last_epoch = s.stop_after != 0 ? std::min(s.epochs, s.stop_after) : s.epochs;
  if (first_epoch >= last_epoch) score = evaluate();
  for (std::size_t epoch = first_epoch; epoch < last_epoch; ++epoch) {
    progress_bar bar(name + " epoch " + std::to_string(epoch + 1) + "/" + std::to_string(s.epochs),
                     s.steps_per_epoch * trainer.options().batch, "samples");
    step_statistics total;
    const std::size_t chunk = 10;
    for (std::size_t done = 0; done < s.steps_per_epoch; done += chunk) {
      const std::size_t count = std::min(chunk, s.steps_per_epoch - done);
      const step_statistics stats = trainer.train(count);
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
    score = evaluate();
    const double loss = total.loss / static_cast<double>(s.steps_per_epoch);
    const double reward = total.reward_samples ? total.reward / static_cast<double>(total.reward_samples) : 0.0;
    char status[192];
    std::snprintf(status, sizeof status, "loss %.4f  teacher NLL %.4f  reward %.3f  %s %.4f", loss,
                  total.teacher_loss / static_cast<double>(s.steps_per_epoch), reward, metric.c_str(), score);
    bar.finish(status);
    if (csv != nullptr) {
      *csv << name << ',' << epoch + 1 << ',' << trainer.step_count() << ',' << loss << ','
           << total.teacher_loss / static_cast<double>(s.steps_per_epoch) << ',' << reward << ',' << trainer.baseline()
           << ',' << score << ',' << rate << ',' << seconds << '\n';
      csv->flush();
    }
    if (!s.checkpoint.empty()) {
      checkpoint_writer writer(graph_hash);
      trainer.save(writer);
      writer.write(s.checkpoint);
    }
  }
  return score;
}

}  // namespace labelgraph::examples
