#pragma once
/// \file
/// `torch_fashion_trainer`: the fashion_fusion model and its label-aug
/// training step (Algorithm 1) written with libtorch ops and autograd, the
/// fastest way libtorch 1.13 allows, for the throughput comparison of
/// docs/performance.md ("Training throughput: fashion_fusion against
/// libtorch") and as a second, independent implementation of the step.
///
/// The model is `fashion_trainer`'s label-aug model, parameter for parameter:
/// MLP encoder 784 → hidden (ReLU) → state (tanh) = h0, token embedding
/// (V + 1 inputs, the last one START), GRU cell (PyTorch's gate order, as
/// `gru_cell`), projection state → V over the output layout. Initial values
/// are the same Philox draws as `initialize_uniform` (same seed, same
/// parameter numbers, transposed into torch's [out, in] layouts), and batches
/// come from the same `shuffled_stream`s: with the same seed both trainers see
/// the same images and start from the same weights, so the first step's
/// teacher-forced NLL agrees to float rounding (bench/trainers checks it).
///
/// One step, as `fashion_trainer::path_step`:
/// 1. rows: every deterministic path of each sample (mean or sum pooling;
///    coarse labels from pool B are prefix targets without the final EOP),
///    then one row per A sample whose label has a nondeterministic path;
/// 2. decoder forward step by step with `at::gru_cell`: teacher tokens (or
///    the argmax over C(u) when the r_tf coin says so), a token sampled from
///    softmax over C(u) for REINFORCE rows;
/// 3. the projection and the candidate-normalised log-softmax run once, after
///    the loop, on exactly the (step, row) pairs that have a target;
/// 4. loss = Σ w_row · NLL_row with w = α·pool/m for teacher rows and
///    β·(r − b)/m for REINFORCE rows (r = |P̂ ∩ S(y)| / |S(y)|, running-mean
///    baseline b that gets no gradient); one `backward()`; AdamW.
///
/// Speed choices: every parameter is a view into one flat buffer and every
/// gradient a view into another, so zeroing the gradients is one fill and
/// AdamW runs its handful of ops once over all 300k scalars (autograd
/// accumulates into a defined `.grad` in place); sampling runs under
/// `NoGradGuard` on the REINFORCE rows only.
///
/// What it does not implement (it throws): pooling `random | marginal |
/// best`, normalisation `block | full`, regularisers; the defaults of
/// fashion_fusion (mean, candidate, none) are what it is for.

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <numeric>
#include <span>
#include <vector>

#include "labelgraph/backend/philox.hpp"
#include "labelgraph/loss/reward.hpp"
#include "fashion_data.hpp"
#include "label_space.hpp"
#include "trainer.hpp"

namespace labelgraph::examples {

/// The label-aug model and Algorithm 1 in libtorch (see the file comment).
class torch_fashion_trainer {
public:
  torch_fashion_trainer(const fashion_label_space& space, const image_set& train, std::vector<training_item> pool_a,
                        std::vector<training_item> pool_b, trainer_options options)
      : space_(space), train_(train), options_(options),
        batches_(std::move(pool_a), std::move(pool_b), options.seed, options.batch, options.b_share, "torch_fashion_trainer"),
        generator_(at::make_generator<at::CPUGeneratorImpl>(options.seed)), reward_(space.graph, space.fine_node) {
    if (options.kind != model_kind::label_aug || options.norm != normalization::candidate ||
        (options.pooling != path_pooling::mean && options.pooling != path_pooling::sum) ||
        options.reg.kind != regularizer_kind::none) {
      LABELGRAPH_THROW(argument_error("torch_fashion_trainer: only the label-aug model with mean or sum pooling, "
                                      "candidate normalisation and no regulariser is implemented"));
    }
    make_parameters();
    make_tables();
  }

  torch_fashion_trainer(const torch_fashion_trainer&) = delete;
  torch_fashion_trainer& operator=(const torch_fashion_trainer&) = delete;

  /// Training steps taken.
  [[nodiscard]] std::uint64_t step_count() const noexcept { return step_; }
  /// The options.
  [[nodiscard]] const trainer_options& options() const noexcept { return options_; }
  /// The running REINFORCE baseline b.
  [[nodiscard]] double baseline() const noexcept { return baseline_; }
  /// Scalars in all parameters.
  [[nodiscard]] std::int64_t parameter_count() const { return flat_value_.numel(); }

  /// Runs `count` training steps; returns their statistics (as `fashion_trainer::train`).
  step_statistics train(std::size_t count) {
    step_statistics stats;
    for (std::size_t s = 0; s < count; ++s) train_step(stats);
    stats.average();
    return stats;
  }

  /// Fine-label accuracy of greedy decoding constrained to C(u) (Algorithm 2, max-candidate) on `images` of `set`.
  double accuracy(const image_set& set, const std::vector<std::uint32_t>& images) {
    torch::NoGradGuard no_grad;
    std::size_t correct = 0;
    const std::size_t chunk = 500;
    const std::size_t max_steps = space_.table.max_length();
    for (std::size_t first = 0; first < images.size(); first += chunk) {
      const std::size_t n = std::min(chunk, images.size() - first);
      torch::Tensor h = encode(set, std::span(images).subspan(first, n));
      std::vector<std::int64_t> input(n, start_token());
      std::vector<node_id> current(n, space_.graph.root());
      std::vector<std::uint8_t> state(n, 0);  // 0 running, 1 ended with EOP, 2 no candidate
      for (std::size_t t = 0; t < max_steps; ++t) {
        h = at::gru_cell(at::embedding(embedding_, index_tensor(input)), h, w_ih_, w_hh_, b_ih_, b_hh_);
        const torch::Tensor logits = at::linear(h, proj_w_, proj_b_) + candidate_bias_.index_select(0, node_tensor(current));
        const torch::Tensor best = logits.argmax(1);
        const auto chosen = best.accessor<std::int64_t, 1>();
        bool any = false;
        for (std::size_t r = 0; r < n; ++r) {
          if (state[r] != 0) continue;
          const auto token = static_cast<token_id>(chosen[static_cast<std::int64_t>(r)]);
          if (space_.layout.candidates(current[r]).empty()) {
            state[r] = 2;
          } else if (token == space_.layout.eop()) {
            state[r] = 1;
          } else {
            current[r] = space_.layout.node(token);
            input[r] = token;
            any = true;
          }
        }
        if (!any) break;
      }
      for (std::size_t r = 0; r < n; ++r) {
        const int predicted = state[r] == 1 && current[r] != space_.graph.root() ? space_.class_of_node[current[r]] : -1;
        correct += predicted == static_cast<int>(set.labels[images[first + r]]) ? 1 : 0;
      }
    }
    return images.empty() ? 0.0 : static_cast<double>(correct) / static_cast<double>(images.size());
  }

private:
  /// One decoder row: a teacher-forced deterministic path, or (path == nullptr) a REINFORCE sample.
  struct row_plan {
    std::uint32_t sample = 0;
    const std::vector<token_id>* path = nullptr;
    std::size_t length = 0;  ///< supervised tokens (prefix targets: without the final EOP)
    double pool_weight = 1;
  };

  [[nodiscard]] std::int64_t start_token() const noexcept { return space_.layout.token_count(); }
  /// A uniform in [0, 1) for (step, slot, purpose).
  [[nodiscard]] double uniform(std::uint64_t slot, std::uint32_t purpose) const noexcept {
    return step_uniform(options_.seed, step_, slot, purpose);
  }
  static torch::Tensor index_tensor(const std::vector<std::int64_t>& values) {
    return torch::tensor(torch::ArrayRef<std::int64_t>(values), torch::kInt64);
  }
  static torch::Tensor node_tensor(const std::vector<node_id>& nodes) {
    std::vector<std::int64_t> wide(nodes.begin(), nodes.end());
    return index_tensor(wide);
  }

  /// One flat value buffer and one flat gradient buffer; each parameter is a
  /// leaf viewing its slice, its `.grad` preset to the matching gradient slice.
  void make_parameters() {
    const auto V = static_cast<std::int64_t>(space_.layout.token_count());
    const auto P = static_cast<std::int64_t>(train_.pixels), Hd = static_cast<std::int64_t>(options_.hidden);
    const auto S = static_cast<std::int64_t>(options_.state), E = static_cast<std::int64_t>(options_.embedding);
    // labelgraph order and shapes [in, out] (parameter numbers as fashion_trainer's initialisation counts them).
    struct spec {
      torch::Tensor* target;
      std::int64_t in, out;
      double bound;        // 0: zero (a bias)
      std::uint32_t index;
      bool transpose;      // torch keeps Linear weights as [out, in]
    };
    const auto glorot = [](std::int64_t in, std::int64_t out) { return std::sqrt(6.0 / static_cast<double>(in + out)); };
    const double gru = 1.0 / std::sqrt(static_cast<double>(S));
    // 0-3 encoder, 4-5 the flat baselines' head (unused here, still numbered), 6 embedding, 7-10 GRU, 11-12 projection.
    const std::vector<spec> specs = {
        {&enc0_w_, P, Hd, glorot(P, Hd), 0, true},      {&enc0_b_, 1, Hd, 0, 1, false},
        {&enc1_w_, Hd, S, glorot(Hd, S), 2, true},      {&enc1_b_, 1, S, 0, 3, false},
        {&embedding_, V + 1, E, 1.0 / std::sqrt(static_cast<double>(E)), 6, false},
        {&w_ih_, E, 3 * S, gru, 7, true},               {&b_ih_, 1, 3 * S, 0, 8, false},
        {&w_hh_, S, 3 * S, gru, 9, true},               {&b_hh_, 1, 3 * S, 0, 10, false},
        {&proj_w_, S, V, glorot(S, V), 11, true},       {&proj_b_, 1, V, 0, 12, false}};
    std::int64_t total = 0;
    for (const spec& s : specs) total += s.in * s.out;
    flat_value_ = torch::zeros({total});
    flat_grad_ = torch::zeros({total});
    const philox_key key = philox_key_from_seed(options_.seed);
    std::int64_t offset = 0;
    for (const spec& s : specs) {
      const std::int64_t n = s.in * s.out;
      torch::Tensor value = flat_value_.narrow(0, offset, n);
      if (s.bound > 0) {
        std::vector<float> host(static_cast<std::size_t>(n));
        for (std::size_t i = 0; i < host.size(); ++i) {
          const double u = uniform_double(philox4x32<10>(
              {static_cast<std::uint32_t>(i), static_cast<std::uint32_t>(static_cast<std::uint64_t>(i) >> 32), s.index, 0x1417u}, key));
          host[i] = static_cast<float>((2.0 * u - 1.0) * s.bound);
        }
        torch::Tensor drawn = torch::from_blob(host.data(), {s.in, s.out}, torch::kFloat32);
        value.copy_(s.transpose ? drawn.t().reshape({n}) : drawn.reshape({n}));
      }
      const std::vector<std::int64_t> shape = s.in == 1 ? std::vector<std::int64_t>{s.out}
                                              : s.transpose ? std::vector<std::int64_t>{s.out, s.in}
                                                            : std::vector<std::int64_t>{s.in, s.out};
      *s.target = value.view(shape).detach().requires_grad_(true);
      s.target->mutable_grad() = flat_grad_.narrow(0, offset, n).view(shape);
      offset += n;
    }
    flat_value_.mutable_grad() = flat_grad_;
    optimizer_ = std::make_unique<torch::optim::AdamW>(
        std::vector<torch::Tensor>{flat_value_}, torch::optim::AdamWOptions(options_.adam.learning_rate)
                                                     .betas({options_.adam.beta1, options_.adam.beta2})
                                                     .eps(options_.adam.epsilon)
                                                     .weight_decay(options_.adam.weight_decay));
  }

  /// C(u) as an additive mask [nodes, V] (0 on candidates, −inf elsewhere) and every label's deterministic paths.
  void make_tables() {
    const std::size_t nodes = space_.graph.node_count(), V = space_.layout.token_count();
    std::vector<float> bias(nodes * V, -std::numeric_limits<float>::infinity());
    for (node_id u = 0; u < nodes; ++u) {
      for (token_id t : space_.layout.candidates(u)) bias[u * V + t] = 0.0f;
    }
    candidate_bias_ = torch::from_blob(bias.data(), {static_cast<std::int64_t>(nodes), static_cast<std::int64_t>(V)},
                                       torch::kFloat32).clone();
    deterministic_.resize(nodes);
    for (node_id v = 0; v < nodes; ++v) {
      if (!space_.graph.is_label(v)) continue;
      for (path_index p : space_.deterministic_paths(v)) {
        const auto tokens = space_.table.tokens(p);
        deterministic_[v].emplace_back(tokens.begin(), tokens.end());
      }
    }
  }

  /// Encoder forward: tanh(relu(x·W0ᵀ + b0)·W1ᵀ + b1) for some images of `set`.
  torch::Tensor encode(const image_set& set, std::span<const std::uint32_t> images) {
    const auto n = static_cast<std::int64_t>(images.size()), pixels = static_cast<std::int64_t>(set.pixels);
    torch::Tensor x = torch::empty({n, pixels});
    float* to = x.data_ptr<float>();
    for (std::size_t i = 0; i < images.size(); ++i) {
      std::memcpy(to + i * set.pixels, set.images.data() + std::size_t{images[i]} * set.pixels, set.pixels * sizeof(float));
    }
    return torch::tanh(at::linear(torch::relu(at::linear(x, enc0_w_, enc0_b_)), enc1_w_, enc1_b_));
  }

  void train_step(step_statistics& stats) {
    batches_.draw(step_, batch_);
    images_.clear();
    for (const training_item& item : batch_) images_.push_back(item.image);
    const std::size_t m = batch_.size();
    const torch::Tensor features = encode(train_, images_);

    // 1. Rows: deterministic paths of every sample (pooled), then one REINFORCE row per uncertain A sample.
    rows_.clear();
    for (std::uint32_t k = 0; k < m; ++k) {
      const training_item& item = batch_[k];
      const auto& paths = deterministic_[item.label];
      const double share = options_.pooling == path_pooling::mean ? 1.0 / static_cast<double>(std::max<std::size_t>(paths.size(), 1)) : 1.0;
      for (const auto& path : paths) rows_.push_back({k, &path, path.size() - (item.prefix ? 1 : 0), share});
    }
    const std::size_t n_tf = rows_.size();
    for (std::uint32_t k = 0; k < m; ++k) {
      if (!batch_[k].prefix && space_.uncertain[batch_[k].label] != 0) rows_.push_back({k, nullptr, 0, 1.0});
    }
    const std::size_t policy = rows_.size() - n_tf;
    const std::size_t rows = rows_.size();
    std::vector<std::int64_t> row_sample(rows);
    for (std::size_t r = 0; r < rows; ++r) row_sample[r] = rows_[r].sample;
    torch::Tensor h = features.index_select(0, index_tensor(row_sample));

    // 2. Decoder forward, step by step; targets of the (step, row) pairs that have one.
    const std::size_t max_steps = space_.table.max_length();
    const bool force = uniform(0, 2) < options_.teacher_force;  // one coin per batch, as in Algorithm 1
    std::vector<std::int64_t> input(rows, start_token());
    std::vector<node_id> current(rows, space_.graph.root());
    std::vector<std::uint8_t> live(rows, 1);
    std::vector<std::vector<token_id>> sampled(policy);
    std::vector<torch::Tensor> states;
    std::vector<std::int64_t> pair_index, pair_node, pair_target;
    std::vector<std::size_t> pair_row;
    std::vector<token_id> chosen(rows, no_token);
    for (std::size_t t = 0; t < max_steps; ++t) {
      if (std::none_of(live.begin(), live.end(), [](std::uint8_t l) { return l != 0; })) break;
      const std::vector<node_id> nodes = current;
      h = at::gru_cell(at::embedding(embedding_, index_tensor(input)), h, w_ih_, w_hh_, b_ih_, b_hh_);
      states.push_back(h);
      const std::size_t first = force ? n_tf : 0;  // rows whose next token comes from the logits
      if (first < rows) choose(h, nodes, first, n_tf, rows, chosen);
      for (std::size_t r = 0; r < rows; ++r) {
        if (live[r] == 0) continue;
        token_id next;
        token_id target;
        if (r < n_tf) {
          const std::vector<token_id>& tokens = *rows_[r].path;
          if (t >= rows_[r].length) {
            live[r] = 0;
            continue;
          }
          target = tokens[t];
          next = force ? tokens[t] : chosen[r];
          if (next != tokens[t] || t + 1 >= rows_[r].length) live[r] = 0;  // off the path, or done
        } else {
          next = chosen[r];
          if (next == no_token) {
            live[r] = 0;
            continue;
          }
          target = next;
          sampled[r - n_tf].push_back(next);
        }
        pair_index.push_back(static_cast<std::int64_t>(t * rows + r));
        pair_node.push_back(nodes[r]);
        pair_target.push_back(target);
        pair_row.push_back(r);
        if (next == space_.layout.eop()) {
          live[r] = 0;
        } else {
          current[r] = space_.layout.node(next);
        }
        input[r] = next;
      }
    }

    // 3. Row weights: α·pool/m for teacher rows (Eq. 2), β·(r − b)/m for REINFORCE rows (Eq. 4-5).
    const double per_sample = 1.0 / static_cast<double>(m);
    std::vector<double> weight(rows);
    for (std::size_t r = 0; r < n_tf; ++r) weight[r] = options_.alpha * rows_[r].pool_weight * per_sample;
    double reward_sum = 0;
    for (std::size_t q = 0; q < policy; ++q) {
      const double reward = path_reward(batch_[rows_[n_tf + q].sample].label, sampled[q]);
      reward_sum += reward;
      weight[n_tf + q] = options_.beta * (reward - baseline_) * per_sample;
    }
    if (policy != 0) {
      const double mean_reward = reward_sum / static_cast<double>(policy);
      baseline_ = options_.baseline_momentum * baseline_ + (1.0 - options_.baseline_momentum) * mean_reward;
      stats.reward += reward_sum;
      stats.reward_samples += policy;
    }
    std::vector<float> pair_weight(pair_row.size());
    for (std::size_t i = 0; i < pair_row.size(); ++i) pair_weight[i] = static_cast<float>(weight[pair_row[i]]);

    // 4. Projection + candidate log-softmax on the supervised pairs only; one weighted sum; backward; AdamW.
    flat_grad_.zero_();
    torch::Tensor nll = torch::zeros({0});
    if (!pair_index.empty()) {
      const torch::Tensor hidden = torch::cat(states, 0).index_select(0, index_tensor(pair_index));
      const torch::Tensor logits = at::linear(hidden, proj_w_, proj_b_) + candidate_bias_.index_select(0, index_tensor(pair_node));
      nll = -torch::log_softmax(logits, 1).gather(1, index_tensor(pair_target).unsqueeze(1)).squeeze(1);
      const torch::Tensor loss = (nll * torch::from_blob(pair_weight.data(), {static_cast<std::int64_t>(pair_weight.size())},
                                                         torch::kFloat32)).sum();
      loss.backward();
    }
    if (options_.total_steps != 0) {
      const double left = 1.0 - static_cast<double>(step_) / static_cast<double>(options_.total_steps);
      static_cast<torch::optim::AdamWOptions&>(optimizer_->param_groups()[0].options())
          .lr(options_.adam.learning_rate * std::max(left, 0.0));
    }
    optimizer_->step();

    // Statistics as fashion_trainer reports them.
    const torch::Tensor nll_host = nll.detach();
    const auto pair_nll = nll_host.accessor<float, 1>();
    for (std::size_t i = 0; i < pair_row.size(); ++i) {
      const std::size_t r = pair_row[i];
      const double value = static_cast<double>(pair_nll[static_cast<std::int64_t>(i)]);
      if (r < n_tf) stats.teacher_loss += rows_[r].pool_weight * value;
      stats.loss += weight[r] * value * static_cast<double>(m);
    }
    ++step_;
    ++stats.steps;
    stats.samples += m;
  }

  /// Next tokens of rows [first, rows) from step logits: argmax over C(u) for
  /// teacher rows (< n_tf), a sample from softmax over C(u) for REINFORCE rows.
  void choose(const torch::Tensor& h, const std::vector<node_id>& nodes, std::size_t first, std::size_t n_tf,
              std::size_t rows, std::vector<token_id>& chosen) {
    torch::NoGradGuard no_grad;
    const auto count = static_cast<std::int64_t>(rows - first);
    const std::vector<node_id> slice(nodes.begin() + static_cast<std::ptrdiff_t>(first), nodes.end());
    const torch::Tensor logits = at::linear(h.narrow(0, static_cast<std::int64_t>(first), count), proj_w_, proj_b_) +
                                 candidate_bias_.index_select(0, node_tensor(slice));
    if (first < n_tf) {
      const torch::Tensor best = logits.narrow(0, 0, static_cast<std::int64_t>(n_tf - first)).argmax(1);
      const auto a = best.accessor<std::int64_t, 1>();
      for (std::size_t r = first; r < n_tf; ++r) chosen[r] = static_cast<token_id>(a[static_cast<std::int64_t>(r - first)]);
    }
    if (n_tf < rows) {
      const auto policy_first = static_cast<std::int64_t>(std::max(n_tf, first) - first);
      const torch::Tensor probabilities = torch::softmax(logits.narrow(0, policy_first, count - policy_first), 1);
      const torch::Tensor drawn = at::multinomial(probabilities, 1, false, generator_).squeeze(1);
      const auto d = drawn.accessor<std::int64_t, 1>();
      for (std::size_t r = n_tf; r < rows; ++r) {
        chosen[r] = space_.layout.candidates(nodes[r]).empty() ? no_token : static_cast<token_id>(d[static_cast<std::int64_t>(r - n_tf)]);
      }
    }
  }

  /// r(P̂) = |P̂ ∩ S(y)| / |S(y)| (Eq. 3) of the sampled tokens of an A sample
  /// labelled `label`, by the library's `ground_truth_reward` (one input per fine class).
  [[nodiscard]] double path_reward(node_id label, const std::vector<token_id>& tokens) {
    nodes_.clear();
    for (token_id token : tokens) {
      if (token != space_.layout.eop()) nodes_.push_back(space_.layout.node(token));
    }
    return reward_(static_cast<std::size_t>(space_.class_of_node[label]), nodes_);
  }

  const fashion_label_space& space_;
  const image_set& train_;
  trainer_options options_;
  two_pool_batches<training_item> batches_;
  at::Generator generator_;
  ground_truth_reward reward_;  // S(y) of the ten fine classes
  torch::Tensor flat_value_, flat_grad_;
  torch::Tensor enc0_w_, enc0_b_, enc1_w_, enc1_b_, embedding_, w_ih_, b_ih_, w_hh_, b_hh_, proj_w_, proj_b_;
  std::unique_ptr<torch::optim::AdamW> optimizer_;
  torch::Tensor candidate_bias_;
  std::vector<std::vector<std::vector<token_id>>> deterministic_;  // label -> its deterministic paths' tokens
  std::uint64_t step_ = 0;
  double baseline_ = 0.0;
  std::vector<training_item> batch_;
  std::vector<std::uint32_t> images_;
  std::vector<row_plan> rows_;
  std::vector<node_id> nodes_;
};

}  // namespace labelgraph::examples
