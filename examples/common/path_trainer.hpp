#pragma once
/// \file
/// The generic trainer of the example experiments: one model, one optimiser,
/// one step counter, over any input encoder, for the paper's model families
/// (fashion_fusion's Table 3 rows, wordnet_text's Arxiv pattern).
///
/// - `ffn`: encoder + linear head, cross-entropy over the fine classes.
/// - `label_set`: the same with one sigmoid per graph node, trained on every
///   node of the label's paths (Deng et al. 2014's label set baseline);
///   predicts the fine class with the highest score.
/// - `label_aug`: encoder + GRU path decoder (the paper's Figure 3), trained
///   by Algorithm 1: teacher forcing on deterministic paths, REINFORCE on
///   samples whose label has nondeterministic paths; greedy decoding
///   (Algorithm 2) for evaluation.
///
/// Each batch draws `a_count` samples from pool A (exact targets: a fine
/// label) and `b_count` from pool B (prefix targets: a coarse label, whose
/// path is supervised up to the label and left free after it; or fine pseudo
/// labels). Every random choice is Philox keyed by the seed and the global
/// step, so a run resumed from a checkpoint continues bit for bit.
///
/// The encoder is a template parameter; it maps rows of a data set to
/// features [n, state] and back-propagates into its own parameters:
///
///     typename E::input_set;                          // the data it reads
///     e.collect(list); e.initialize(seed, index);     // its parameters
///     e.forward(set, rows) -> tensor_view<const T, 2> // [rows.size(), state], valid until the next forward
///     e.backward(dfeatures);                          // backward of the last forward

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <numeric>
#include <span>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "labelgraph/decode/greedy.hpp"
#include "labelgraph/loss/pooling.hpp"
#include "labelgraph/ops/block_nll.hpp"
#include "labelgraph/ops/sample.hpp"
#include "adam.hpp"
#include "checkpoint.hpp"
#include "data_split.hpp"
#include "layers.hpp"
#include "path_decoder.hpp"
#include "path_label_space.hpp"

namespace labelgraph::examples {

/// Which model (Table 3 row family).
enum class model_kind : std::uint32_t { ffn, label_set, label_aug };

/// How the teacher-forced loss of a sample pools over its deterministic paths
/// (Table 4): the library's `pooling` (mean, the paper's best; sum; random;
/// marginal; best).
using path_pooling = pooling;

/// Everything that shapes a run.
struct trainer_options {
  model_kind kind = model_kind::label_aug;
  std::size_t hidden = 256;        ///< encoder hidden width
  std::size_t state = 128;         ///< encoder output = decoder state width
  std::size_t embedding = 32;      ///< token embedding width
  std::size_t batch = 128;         ///< samples per step
  double b_share = 0.5;            ///< share of each batch drawn from pool B (when it is not empty)
  std::uint64_t total_steps = 0;   ///< > 0: the learning rate decays linearly to 0 over this many steps
  adam_options adam{.learning_rate = 2e-3, .weight_decay = 1e-4};
  double teacher_force = 1.0;      ///< r_tf of Algorithm 1
  double alpha = 1.0;              ///< weight of the teacher-forced loss
  double beta = 0.5;               ///< weight of the policy-gradient loss
  double baseline_momentum = 0.9;  ///< b ← μ·b + (1 − μ)·mean reward
  path_pooling pooling = path_pooling::mean;
  normalization norm = normalization::candidate;
  regularizer reg{};
  decode_rule rule = decode_rule::max_candidate;
  std::uint64_t seed = 1;
};

/// One training sample: its input (an image of fashion_fusion, a synset of
/// wordnet_text), its target label node, and whether the path must end there
/// (exact) or only pass through it (prefix: coarse labels).
struct training_item {
  std::uint32_t image = 0;  ///< index of the input in the training set
  node_id label = no_node;
  bool prefix = false;
  /// A node the sample's path is known to pass (e.g. its coarse label when a
  /// fine-labelled sample also carries it), `no_node` when nothing is known:
  /// only the label's paths through it are targets (`path_label_space::paths_through`).
  node_id via = no_node;
};

/// Loss statistics of a stretch of steps.
struct step_statistics {
  double loss = 0;           ///< total objective per sample
  double teacher_loss = 0;   ///< teacher-forced NLL per sample
  double reward = 0;         ///< mean REINFORCE reward
  std::size_t steps = 0;
  std::size_t reward_samples = 0;
  std::size_t samples = 0;

  /// Turns the sums collected over the stretch into its means.
  void average() noexcept {
    if (samples != 0) {
      loss /= static_cast<double>(samples);
      teacher_loss /= static_cast<double>(samples);
    }
    if (reward_samples != 0) reward /= static_cast<double>(reward_samples);
  }
};

/// A predicted path and what it means.
struct prediction {
  int fine_class = -1;              ///< predicted class (index into `fine_node`), −1 when the path does not end at a fine label
  std::vector<node_id> path;        ///< non-root nodes, in order
  bool deterministic = false;       ///< the path is a deterministic path of its label (Def. 3.2)
};

/// What `path_trainer` needs of an encoder (see the file comment).
template <class E, class B, class T>
concept path_encoder = requires(E& e, parameter_list<B, T>& list, std::uint64_t seed,
                                std::uint32_t& index, const typename E::input_set& set,
                                std::span<const std::uint32_t> rows, tensor_view<const T, 2> grad) {
  e.collect(list);
  e.initialize(seed, index);
  { e.forward(set, rows) } -> std::convertible_to<tensor_view<const T, 2>>;
  e.backward(grad);
};

/// Model + optimiser + data streams of one run, over the encoder `Encoder`.
template <dense_backend B, class T, class Encoder>
  requires path_encoder<Encoder, B, T>
class path_trainer {
public:
  /// The data the encoder reads.
  using input_set = typename Encoder::input_set;

  /// A trainer of `options.kind` on `train` with the label space `space`
  /// (both must outlive it) and the samples of pools A and B; `encoder` maps
  /// inputs to features of width `options.state`.
  path_trainer(const B& backend, const path_label_space& space, const input_set& train, std::vector<training_item> pool_a,
               std::vector<training_item> pool_b, trainer_options options, Encoder encoder)
      : backend_(backend), space_(space), train_(train), options_(options),
        batches_(std::move(pool_a), std::move(pool_b), options.seed, options.batch, options.b_share, "path_trainer"),
        flat_graph_(make_flat_graph(space.graph, space.fine_node)), flat_layout_(make_output_layout(flat_graph_)),
        encoder_(std::move(encoder)), head_(backend, "head", options.state, head_width()),
        decoder_(backend, space.layout.token_count(), options.embedding, options.state), gather_(backend),
        features_grad_(backend, 0, options.state), state_grad_(backend, 0, options.state),
        head_out_(backend, 0, head_width()), targets_(backend, 0, head_width()),
        optimizer_(collect_parameters(), options.adam), walk_(space.graph) {
    for (std::size_t c = 0; c < space.fine_node.size(); ++c) {
      flat_tokens_.push_back(flat_layout_.token(flat_graph_.at(space.graph.name(space.fine_node[c]))));
    }
    std::uint32_t index = 0;
    encoder_.initialize(options.seed, index);
    head_.initialize(options.seed, index);
    decoder_.initialize(options.seed, index);
  }

  path_trainer(const path_trainer&) = delete;
  path_trainer& operator=(const path_trainer&) = delete;

  /// Training steps taken.
  [[nodiscard]] std::uint64_t step_count() const noexcept { return step_; }
  /// The options.
  [[nodiscard]] const trainer_options& options() const noexcept { return options_; }
  /// The running REINFORCE baseline b.
  [[nodiscard]] double baseline() const noexcept { return baseline_; }
  /// Every parameter (for checkpoints and tests).
  [[nodiscard]] const parameter_list<B, T>& parameters() const noexcept { return optimizer_.parameters(); }

  /// Runs `count` training steps; returns their statistics.
  step_statistics train(std::size_t count) {
    step_statistics stats;
    for (std::size_t s = 0; s < count; ++s) train_step(stats);
    stats.average();
    return stats;
  }

  /// The encoder.
  [[nodiscard]] Encoder& encoder() noexcept { return encoder_; }

  /// Predictions for the inputs `rows` of `set` (greedy decoding for label_aug).
  std::vector<prediction> predict(const input_set& set, const std::vector<std::uint32_t>& rows) {
    std::vector<prediction> out;
    out.reserve(rows.size());
    const std::size_t chunk = 500;
    for (std::size_t first = 0; first < rows.size(); first += chunk) {
      const std::size_t n = std::min(chunk, rows.size() - first);
      const auto features = encoder_.forward(set, std::span(rows).subspan(first, n));
      if (options_.kind == model_kind::label_aug) {
        decode_greedy(features, out);
      } else {
        predict_flat(features, out);
      }
    }
    return out;
  }

  /// Adds the whole training state to a checkpoint.
  void save(checkpoint_writer& writer) const {
    writer.add_value<std::uint32_t>("train/kind", static_cast<std::uint32_t>(options_.kind));
    writer.add_value<std::uint64_t>("train/step", step_);
    writer.add_value<double>("train/baseline", baseline_);
    writer.add_value<std::uint64_t>("adam/steps", optimizer_.steps());
    for (std::size_t i = 0; i < parameters().size(); ++i) {
      const parameter<B, T>& p = *parameters()[i];
      const std::vector<T> value = p.value.to_host();
      writer.add<T>("param/" + p.name, value);
      writer.add<double>("adam/m/" + p.name, optimizer_.first_moment(i));
      writer.add<double>("adam/v/" + p.name, optimizer_.second_moment(i));
    }
  }

  /// Restores what `save` wrote (same model kind and sizes).
  void load(const checkpoint_reader& reader) {
    const auto kind = reader.value<std::uint32_t>("train/kind");
    if (kind != static_cast<std::uint32_t>(options_.kind)) {
      LABELGRAPH_THROW(error("checkpoint: trained with model kind " + std::to_string(kind) + ", this run uses " +
                             std::to_string(static_cast<std::uint32_t>(options_.kind))));
    }
    step_ = reader.value<std::uint64_t>("train/step");
    baseline_ = reader.value<double>("train/baseline");
    optimizer_.set_steps(reader.value<std::uint64_t>("adam/steps"));
    for (std::size_t i = 0; i < parameters().size(); ++i) {
      parameter<B, T>& p = *parameters()[i];
      std::vector<T> value(p.value.size());
      reader.read<T>("param/" + p.name, value);
      p.value.copy_from_host(value);
      reader.read<double>("adam/m/" + p.name, optimizer_.first_moment(i));
      reader.read<double>("adam/v/" + p.name, optimizer_.second_moment(i));
    }
  }

private:
  [[nodiscard]] std::size_t head_width() const noexcept {
    switch (options_.kind) {
      case model_kind::ffn: return flat_layout_.token_count();
      case model_kind::label_set: return space_.layout.token_count() - 1;  // every node but the root (no EOP)
      case model_kind::label_aug: return 1;                                // unused
    }
    return 1;
  }
  parameter_list<B, T> collect_parameters() {
    parameter_list<B, T> list;
    encoder_.collect(list);
    if (options_.kind == model_kind::label_aug) {
      decoder_.collect(list);
    } else {
      head_.collect(list);
    }
    return list;
  }
  /// A uniform in [0, 1) for (step, slot, purpose).
  [[nodiscard]] double uniform(std::uint64_t slot, std::uint32_t purpose) const noexcept {
    return step_uniform(options_.seed, step_, slot, purpose);
  }

  void train_step(step_statistics& stats) {
    batches_.draw(step_, batch_);
    inputs_.clear();
    for (const training_item& item : batch_) inputs_.push_back(item.image);
    const auto features = encoder_.forward(train_, inputs_);
    const std::size_t m = batch_.size();
    zero_gradients(optimizer_.parameters());
    features_grad_.reserve(m, options_.state);
    if (options_.kind == model_kind::label_aug) {
      path_step(features, stats);
    } else {
      flat_step(features, stats);
    }
    encoder_.backward(features_grad_.rows_view(0, m));
    if (options_.total_steps != 0) {  // a function of the step alone: resumed runs see the same rates
      const double left = 1.0 - static_cast<double>(step_) / static_cast<double>(options_.total_steps);
      optimizer_.set_learning_rate(options_.adam.learning_rate * std::max(left, 0.0));
    }
    optimizer_.step();
    ++step_;
    ++stats.steps;
    stats.samples += m;
  }

  // ---- flat baselines ------------------------------------------------------
  void flat_step(tensor_view<const T, 2> features, step_statistics& stats) {
    const std::size_t m = batch_.size();
    const std::size_t width = head_width();
    head_out_.reserve(m, width);
    auto logits = head_out_.rows_view(0, m);
    head_.forward(features, logits);
    if (options_.kind == model_kind::ffn) {
      // Cross-entropy = the block NLL over the flat graph's one group (Eq. 2 with one step).
      flat_targets_.resize(m);
      for (std::size_t i = 0; i < m; ++i) flat_targets_[i] = flat_tokens_[class_of(batch_[i].label)];
      weights_.assign(m, T(1) / static_cast<T>(m));
      loss_.resize(m);
      block_nll<B, T>(backend_, flat_layout_.view(), normalization::block, row_mask::all(),
                      {.logits = logits, .targets = host_view(flat_targets_), .weights = host_view(std::as_const(weights_)),
                       .loss = host_view(loss_), .grad_logits = logits, .log_normalizer = {}, .total = {}},
                      options_.reg);
      double total = 0;
      for (T l : loss_) total += static_cast<double>(l) * static_cast<double>(m);
      stats.loss += total;
      stats.teacher_loss += total;
    } else {
      // Label set: binary cross-entropy of σ(z_v) against [v on a path of y]; ∂/∂z = (σ(z) − t)/m.
      std::vector<T> negative_targets(m * width, T(0));
      for (std::size_t i = 0; i < m; ++i) {
        for (node_id v : ancestors_and_self(batch_[i].label)) negative_targets[i * width + space_.layout.token(v)] = T(-1);
      }
      targets_.reserve(m, width);
      targets_.copy_prefix_from_host(negative_targets);
      activate<B, T>(backend_, activation::sigmoid, logits, logits);
      const std::vector<T> probabilities = head_out_.prefix_to_host(m * width);
      double total = 0;
      for (std::size_t k = 0; k < probabilities.size(); ++k) {
        const double p = std::clamp(static_cast<double>(probabilities[k]), 1e-7, 1.0 - 1e-7);
        total -= negative_targets[k] != T(0) ? std::log(p) : std::log(1.0 - p);
      }
      stats.loss += total;
      stats.teacher_loss += total;
      add<B, T>(backend_, logits, targets_.rows_view(0, m), logits);
      scale<B, T>(backend_, T(1) / static_cast<T>(m), logits);
    }
    head_.backward(features, logits, features_grad_.rows_view(0, m));
  }

  [[nodiscard]] std::size_t class_of(node_id label) const {
    const int c = space_.class_of_node[label];
    if (c < 0) {
      LABELGRAPH_THROW(argument_error("flat models train on fine labels only; got node \"" +
                                      std::string(space_.graph.name(label)) + "\""));
    }
    return static_cast<std::size_t>(c);
  }
  [[nodiscard]] std::vector<node_id> ancestors_and_self(node_id label) {
    std::vector<node_id> nodes;
    for (node_id v : walk_.path_nodes(label)) {
      if (v != space_.graph.root()) nodes.push_back(v);
    }
    return nodes;
  }

  void predict_flat(tensor_view<const T, 2> features, std::vector<prediction>& out) {
    const std::size_t n = features.extent(0);
    const std::size_t width = head_width();
    head_out_.reserve(n, width);
    head_.forward(features, head_out_.rows_view(0, n));
    const std::vector<T> scores = head_out_.prefix_to_host(n * width);
    for (std::size_t i = 0; i < n; ++i) {
      int best = -1;
      T best_score = -std::numeric_limits<T>::infinity();
      for (std::size_t c = 0; c < space_.fine_node.size(); ++c) {
        const std::size_t column = options_.kind == model_kind::ffn ? flat_tokens_[c] : space_.layout.token(space_.fine_node[c]);
        if (scores[i * width + column] > best_score) {
          best_score = scores[i * width + column];
          best = static_cast<int>(c);
        }
      }
      prediction p;
      p.fine_class = best;
      out.push_back(std::move(p));
    }
  }

  // ---- label-aug: Algorithm 1 ---------------------------------------------
  /// One decoder row: a teacher-forced path of a sample, or a REINFORCE sample.
  struct row_plan {
    std::uint32_t sample = 0;
    path_index path = 0;     ///< teacher rows
    bool prefix = false;     ///< teacher rows: drop the final EOP
    double pool_weight = 1;  ///< teacher rows: the pooling weight
  };

  void path_step(tensor_view<const T, 2> features, step_statistics& stats) {
    const std::size_t m = batch_.size();
    const target_table& table = space_.table;
    // 1. Rows: teacher-forced deterministic paths of every sample (pooled), then one sampled path per uncertain sample.
    teacher_.clear();
    policy_.clear();
    for (std::uint32_t k = 0; k < m; ++k) {
      const training_item& item = batch_[k];
      const bool known = item.via != no_node;
      std::vector<path_index> paths = known ? through(item).deterministic : space_.deterministic_paths(item.label);
      if (!paths.empty() && options_.pooling == path_pooling::random) {
        paths = {paths[static_cast<std::size_t>(uniform(k, 1) * static_cast<double>(paths.size()))]};
      }
      const double share = options_.pooling == path_pooling::mean ? 1.0 / static_cast<double>(std::max<std::size_t>(paths.size(), 1)) : 1.0;
      for (path_index p : paths) teacher_.push_back({k, p, item.prefix, share});
      if (!item.prefix && (known ? through(item).uncertain : space_.uncertain[item.label] != 0)) policy_.push_back(k);
    }
    const std::size_t n_tf = teacher_.size();
    const std::size_t rows = n_tf + policy_.size();
    row_sample_.resize(rows);
    for (std::size_t r = 0; r < n_tf; ++r) row_sample_[r] = teacher_[r].sample;
    for (std::size_t r = 0; r < policy_.size(); ++r) row_sample_[n_tf + r] = policy_[r];
    gather_.assign(row_sample_, m);
    state_grad_.reserve(rows, options_.state);
    auto h0 = state_grad_.rows_view(0, rows);
    gather_.gather(features, h0);

    // 2. Forward, step by step (teacher tokens, argmax when the coin says so, samples for REINFORCE rows).
    const std::size_t max_steps = table.max_length();
    const bool force = uniform(0, 2) < options_.teacher_force;  // one coin per batch, as in Algorithm 1
    const std::uint64_t sample_seed = options_.seed * 0x9E3779B97F4A7C15ull + step_;
    decoder_.begin(h0, max_steps);
    std::vector<std::uint32_t> input(rows, decoder_.start_token());
    std::vector<node_id> current(rows, space_.graph.root());
    std::vector<std::uint8_t> live(rows, 1);
    sampled_.assign(policy_.size(), {});
    step_targets_.assign(max_steps, std::vector<token_id>(rows, no_token));
    step_nodes_.assign(max_steps, std::vector<node_id>(rows, space_.graph.root()));
    std::vector<token_id> chosen(rows);
    for (std::size_t t = 0; t < max_steps; ++t) {
      if (std::none_of(live.begin(), live.end(), [](std::uint8_t l) { return l != 0; })) break;
      auto logits = decoder_.step(input);
      step_nodes_[t] = current;
      const auto nodes_view = tensor_view<const node_id, 1>(step_nodes_[t].data(), {rows});
      if (!force && n_tf != 0) {
        argmax_candidates<B, T>(backend_, space_.layout.view(), sub_rows(logits, 0, n_tf), sub(nodes_view, 0, n_tf),
                                tensor_view<token_id, 1>(chosen.data(), {n_tf}), options_.rule);
      }
      if (!policy_.empty()) {
        sample_candidates<B, T>(backend_, space_.layout.view(), sub_rows(logits, n_tf, policy_.size()),
                                sub(nodes_view, n_tf, policy_.size()),
                                tensor_view<token_id, 1>(chosen.data() + n_tf, {policy_.size()}), sample_seed,
                                static_cast<std::uint32_t>(t));
      }
      for (std::size_t r = 0; r < rows; ++r) {
        if (live[r] == 0) continue;
        token_id next;
        if (r < n_tf) {
          const auto tokens = table.tokens(teacher_[r].path);
          const std::size_t length = tokens.size() - (teacher_[r].prefix ? 1 : 0);
          if (t >= length) {
            live[r] = 0;
            continue;
          }
          step_targets_[t][r] = tokens[t];
          next = force ? tokens[t] : chosen[r];
          if (next != tokens[t] || t + 1 >= length) live[r] = 0;  // off the path (no more targets), or done
        } else {
          next = chosen[r];
          if (next == no_token) {
            live[r] = 0;
            continue;
          }
          step_targets_[t][r] = next;
          sampled_[r - n_tf].push_back(next);
        }
        if (next == space_.layout.eop()) {
          live[r] = 0;
        } else {
          current[r] = space_.layout.node(next);
        }
        input[r] = next;
      }
    }
    const std::size_t steps = decoder_.steps();

    // 3. Per-row NLLs (pass 1, no gradient): path log-probabilities for pooling and REINFORCE.
    std::vector<double> path_nll(rows, 0.0);
    loss_.resize(rows);
    for (std::size_t t = 0; t < steps; ++t) {
      if (n_tf != 0) nll_call(t, 0, n_tf, nullptr, tensor_view<T, 2>{}, options_.norm, regularizer{});
      for (std::size_t r = 0; r < n_tf; ++r) path_nll[r] += static_cast<double>(loss_[r]);
      if (policy_.empty()) continue;
      nll_call(t, n_tf, policy_.size(), nullptr, tensor_view<T, 2>{}, normalization::candidate, regularizer{});
      for (std::size_t q = 0; q < policy_.size(); ++q) path_nll[n_tf + q] += static_cast<double>(loss_[q]);
    }
    // 4. Row weights: α·pooling/m for teacher rows (Eq. 2), β·(r − b)/m for REINFORCE rows (Eq. 4-5).
    weights_.assign(rows, T(0));
    const double per_sample = 1.0 / static_cast<double>(m);
    pool_weights(path_nll);
    for (std::size_t r = 0; r < n_tf; ++r) {
      weights_[r] = static_cast<T>(options_.alpha * teacher_[r].pool_weight * per_sample);
      stats.teacher_loss += teacher_[r].pool_weight * path_nll[r];
    }
    double reward_sum = 0;
    for (std::size_t q = 0; q < policy_.size(); ++q) {
      const training_item& item = batch_[policy_[q]];
      const double reward = path_reward(item.via != no_node ? through(item).truth : space_.truth[item.label], sampled_[q]);
      reward_sum += reward;
      weights_[n_tf + q] = static_cast<T>(options_.beta * (reward - baseline_) * per_sample);
      stats.loss += options_.beta * (reward - baseline_) * path_nll[n_tf + q];
    }
    if (!policy_.empty()) {
      const double mean_reward = reward_sum / static_cast<double>(policy_.size());
      // The baseline is a running mean of past rewards: it never receives gradient.
      baseline_ = options_.baseline_momentum * baseline_ + (1.0 - options_.baseline_momentum) * mean_reward;
      stats.reward += reward_sum;
      stats.reward_samples += policy_.size();
    }
    // 5. Pass 2: weighted gradients in place of the logits (teacher rows with the regulariser).
    for (std::size_t t = 0; t < steps; ++t) {
      auto grad = decoder_.logits(t);
      if (n_tf != 0) {
        nll_call(t, 0, n_tf, weights_.data(), sub_rows(grad, 0, n_tf), options_.norm, options_.reg);
        for (std::size_t r = 0; r < n_tf; ++r) stats.loss += static_cast<double>(loss_[r]) * static_cast<double>(m);
      }
      if (!policy_.empty()) {
        nll_call(t, n_tf, policy_.size(), weights_.data() + n_tf, sub_rows(grad, n_tf, policy_.size()),
                 normalization::candidate, regularizer{});
      }
    }
    // 6. Back-propagation through time, then into the encoder through the row gather.
    decoder_.backward(h0);
    gather_.scatter(h0, features_grad_.rows_view(0, m), T(0));
  }

  /// block_nll over rows [first, first + count) of step t; loss lands in loss_[0, count).
  void nll_call(std::size_t t, std::size_t first, std::size_t count, const T* weights, tensor_view<T, 2> grad,
                normalization norm, regularizer reg) {
    auto logits = sub_rows(decoder_.logits(t), first, count);
    const auto targets = tensor_view<const token_id, 1>(step_targets_[t].data() + first, {count});
    const auto nodes = tensor_view<const node_id, 1>(step_nodes_[t].data() + first, {count});
    const row_mask mask = norm == normalization::full ? row_mask::all() : row_mask::from_candidates(nodes);
    block_nll_tensors<T> io{.logits = logits,
                            .targets = targets,
                            .weights = weights ? tensor_view<const T, 1>(weights, {count}) : tensor_view<const T, 1>{},
                            .loss = tensor_view<T, 1>(loss_.data(), {count}),
                            .grad_logits = grad,
                            .log_normalizer = {},
                            .total = {}};
    block_nll<B, T>(backend_, space_.layout.view(), norm, mask, io, reg);
  }

  /// Pooling weights of the teacher rows from their path NLLs (marginal: posterior, best: argmin),
  /// each sample's rows by the library's `pool_by_posterior`.
  void pool_weights(const std::vector<double>& path_nll) {
    if (options_.pooling != path_pooling::marginal && options_.pooling != path_pooling::best) return;
    std::vector<double> weight;
    for (std::size_t first = 0; first < teacher_.size();) {
      std::size_t last = first;
      while (last < teacher_.size() && teacher_[last].sample == teacher_[first].sample) ++last;
      weight.resize(last - first);
      pool_by_posterior(options_.pooling, std::span<const double>(path_nll).subspan(first, last - first),
                        [](std::size_t) { return 1.0; }, std::span<double>(weight));
      for (std::size_t r = first; r < last; ++r) teacher_[r].pool_weight = weight[r - first];
      first = last;
    }
  }

  /// The label's paths through the item's `via` node (cached per label and node).
  const path_label_space::known_paths& through(const training_item& item) {
    const std::uint64_t key = (std::uint64_t{item.label} << 32) | item.via;
    auto found = through_.find(key);
    if (found == through_.end()) found = through_.emplace(key, space_.paths_through(item.label, item.via)).first;
    return found->second;
  }

  /// r(P̂) = |P̂ ∩ S| / |S| (Eq. 3) for the sampled tokens of a sample with ground-truth set S = `truth`.
  [[nodiscard]] double path_reward(const std::vector<node_id>& truth, const std::vector<token_id>& tokens) const {
    std::size_t hits = 0;
    for (token_id token : tokens) {
      if (token == space_.layout.eop()) continue;
      if (std::binary_search(truth.begin(), truth.end(), space_.layout.node(token))) ++hits;
    }
    return truth.empty() ? 0.0 : static_cast<double>(hits) / static_cast<double>(truth.size());
  }

  /// Algorithm 2: the library's greedy decoder (constrained to C(u)) driving
  /// the path decoder through a step function, for a chunk of features.
  void decode_greedy(tensor_view<const T, 2> features, std::vector<prediction>& out) {
    const std::size_t n = features.extent(0);
    const std::size_t max_steps = space_.table.max_length();
    decoder_.begin(features, max_steps);
    std::vector<std::uint32_t> input(n);
    auto model = [&](const step_context& context, tensor_view<T, 2> logits) {
      for (std::size_t r = 0; r < n; ++r) {
        const token_id previous = context.previous_tokens(r);
        input[r] = previous == no_token ? decoder_.start_token() : previous;  // no_token: the start token
      }
      activate<B, T>(backend_, activation::identity, decoder_.step(input), logits);
    };
    const path_batch paths = greedy_decode(backend_, space_.graph, space_.layout, model, n,
                                           decode_options{.max_length = max_steps, .rule = options_.rule}, workspace_);
    for (std::size_t r = 0; r < n; ++r) {
      prediction p;
      const auto nodes = paths.nodes(r);
      p.path.assign(nodes.begin(), nodes.end());
      if (paths.status(r) == path_status::complete && !p.path.empty()) {
        p.fine_class = space_.class_of_node[p.path.back()];
        p.deterministic = is_deterministic_path(p.path.back(), p.path);
      }
      out.push_back(std::move(p));
    }
  }

  [[nodiscard]] bool is_deterministic_path(node_id label, const std::vector<node_id>& path) const {
    for (path_index q : space_.table.paths_of(label)) {
      const auto tokens = space_.table.tokens(q);
      if (tokens.size() != path.size() + 1) continue;
      bool same = true;
      for (std::size_t i = 0; i < path.size() && same; ++i) same = tokens[i] == space_.layout.token(path[i]);
      if (same) return space_.table.deterministic(q);
    }
    return false;
  }

  static tensor_view<T, 2> sub_rows(tensor_view<T, 2> x, std::size_t first, std::size_t count) noexcept {
    return tensor_view<T, 2>(x.row(first), {count, x.extent(1)}, {x.stride(0), 1}, x.where());
  }
  static tensor_view<const node_id, 1> sub(tensor_view<const node_id, 1> x, std::size_t first, std::size_t count) noexcept {
    return tensor_view<const node_id, 1>(x.data() + first, {count});
  }

  B backend_;
  const path_label_space& space_;
  const input_set& train_;
  trainer_options options_;
  two_pool_batches<training_item> batches_;
  label_graph flat_graph_;
  output_layout flat_layout_;
  Encoder encoder_;
  linear<B, T> head_;
  path_decoder<B, T> decoder_;
  row_selection<B, T> gather_;
  device_matrix<B, T> features_grad_;
  device_matrix<B, T> state_grad_;
  device_matrix<B, T> head_out_;
  device_matrix<B, T> targets_;
  adam<B, T> optimizer_;
  ancestor_walk walk_;
  decode_workspace<T> workspace_;
  std::vector<token_id> flat_tokens_;  // class -> token of the flat layout
  std::uint64_t step_ = 0;
  double baseline_ = 0.0;
  // per-step scratch
  std::vector<training_item> batch_;
  std::vector<std::uint32_t> inputs_;
  std::vector<token_id> flat_targets_;
  std::vector<T> weights_;
  std::vector<T> loss_;
  std::vector<row_plan> teacher_;
  std::vector<std::uint32_t> policy_;
  std::vector<std::uint32_t> row_sample_;
  std::vector<std::vector<token_id>> sampled_;
  std::vector<std::vector<token_id>> step_targets_;
  std::vector<std::vector<node_id>> step_nodes_;
  std::unordered_map<std::uint64_t, path_label_space::known_paths> through_;
};

}  // namespace labelgraph::examples
