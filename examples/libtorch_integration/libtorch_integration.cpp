// labelgraph inside a libtorch code base: the fused block NLL
// (labelgraph/ops/block_nll.hpp, the paper's Eq. 2 per step) and the
// REINFORCE loss (labelgraph/loss/reinforce.hpp, Eq. 4-5) wrapped as
// torch::autograd::Function's over libtorch tensors, with zero copies: every
// labelgraph call reads and writes the tensors' own storage through
// `tensor_view`s over `data_ptr()`, and the program checks the pointers.
//
//   libtorch_integration check   the gradients of both Functions equal those
//                                of the same losses written with torch
//                                operations, to 1e-6 (double)
//   libtorch_integration train   a torch::nn::Linear path decoder on the pet
//                                graph: teacher forcing with the block NLL,
//                                then Algorithm 1's α·L_tf + β·L_pg with
//                                REINFORCE (leave-one-out baseline, Eq. 3 reward)
//
// Run from the source folder (the pet graph is examples/graphs/pets.json).
// Exit status 0 only if every check passes.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <span>
#include <string>
#include <vector>

#include <torch/torch.h>

#include <labelgraph/backends/cpu.hpp>
#include <labelgraph/decode/sample.hpp>
#include <labelgraph/graph/json.hpp>
#include <labelgraph/loss/baseline.hpp>
#include <labelgraph/loss/reinforce.hpp>
#include <labelgraph/loss/reward.hpp>
#include <labelgraph/ops/block_nll.hpp>
#include <labelgraph/paths/output_layout.hpp>
#include <labelgraph/paths/target_table.hpp>

#include "../common/synthetic_paths.hpp"

namespace lg = labelgraph;
using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

namespace {

// ---------------------------------------------------------------------------
// Zero-copy views of torch tensors.

/// A [rows, cols] view of a contiguous 2-D double tensor's own storage.
lg::tensor_view<double, 2> view_2d(const torch::Tensor& t) {
  TORCH_CHECK(t.dim() == 2 && t.is_contiguous() && t.scalar_type() == torch::kDouble && t.device().is_cpu(),
              "labelgraph: expected a contiguous 2-D double CPU tensor");
  return {t.data_ptr<double>(), {static_cast<std::size_t>(t.size(0)), static_cast<std::size_t>(t.size(1))}};
}

/// A [n] view of a contiguous 1-D tensor of `T` (int32 tensors are read as
/// labelgraph's unsigned 32-bit ids: -1 is `no_token` / `no_node`).
template <class T, class Stored>
lg::tensor_view<T, 1> view_1d(const torch::Tensor& t) {
  TORCH_CHECK(t.dim() == 1 && t.is_contiguous() && t.device().is_cpu(), "labelgraph: expected a contiguous 1-D CPU tensor");
  static_assert(sizeof(Stored) == sizeof(std::remove_const_t<T>));
  return {reinterpret_cast<T*>(t.data_ptr<Stored>()), {static_cast<std::size_t>(t.size(0))}};
}

/// Counts the views whose data is not the storage of the tensor they came from (must stay 0).
int pointer_mismatches = 0;
void expect_same_storage(const void* view_data, const torch::Tensor& tensor) {
  if (view_data != tensor.data_ptr()) ++pointer_mismatches;
}

const lg::backends::cpu& backend() {
  static const lg::backends::cpu instance(1);
  return instance;
}

// ---------------------------------------------------------------------------
// The fused block NLL as an autograd Function.

/// What the block NLL needs besides tensors.
struct block_nll_setup {
  const lg::output_layout* layout = nullptr;
  lg::normalization norm = lg::normalization::candidate;
  lg::regularizer reg{};
};

/// loss[r] = w_r · NLL of row r (Eq. 2 per step, optional label smoothing /
/// MaxSup); logits [R, V] double, targets [R] int32 (-1: ignored row),
/// nodes [R] int32 (the C(u) mask of each row), weights [R] double.
struct BlockNll : torch::autograd::Function<BlockNll> {
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& logits, const torch::Tensor& targets,
                               const torch::Tensor& nodes, const torch::Tensor& weights, const block_nll_setup* setup) {
    const std::size_t rows = static_cast<std::size_t>(logits.size(0));
    torch::Tensor loss = torch::empty({logits.size(0)}, logits.options());
    torch::Tensor grad = torch::empty_like(logits);
    const lg::block_nll_tensors<double> io{
        .logits = view_2d(logits),
        .targets = view_1d<const lg::token_id, std::int32_t>(targets),
        .weights = view_1d<const double, double>(weights),
        .loss = lg::tensor_view<double, 1>(loss.data_ptr<double>(), {rows}),
        .grad_logits = view_2d(grad),
        .log_normalizer = {},
        .total = {},
    };
    expect_same_storage(io.logits.data(), logits);
    expect_same_storage(io.targets.data(), targets);
    expect_same_storage(io.weights.data(), weights);
    expect_same_storage(io.grad_logits.data(), grad);
    const lg::row_mask mask = lg::row_mask::from_candidates(view_1d<const lg::node_id, std::int32_t>(nodes));
    lg::block_nll(backend(), setup->layout->view(), setup->norm, mask, io, setup->reg);
    ctx->save_for_backward({grad});
    return loss;
  }

  static variable_list backward(AutogradContext* ctx, variable_list grad_outputs) {
    // d(Σ_r g_r · loss_r)/dz = g_r · dloss_r/dz: the kernel's gradient, scaled per row.
    const torch::Tensor grad = ctx->get_saved_variables()[0] * grad_outputs[0].unsqueeze(1);
    return {grad, torch::Tensor(), torch::Tensor(), torch::Tensor(), torch::Tensor()};
  }
};

// ---------------------------------------------------------------------------
// REINFORCE as an autograd Function.

/// The sampled paths and what REINFORCE needs to know about them.
struct reinforce_setup {
  const lg::output_layout* layout = nullptr;
  const lg::path_batch* paths = nullptr;
  std::span<const double> rewards;
  std::span<const double> baselines;
  lg::reinforce_options options{};
  lg::reinforce_result* result = nullptr;  // statistics of the last forward, optional
};

/// L = (s/N) Σ_P [(r − b)·(−log p(P)) − λ Σ_t H_t] on the logits of the
/// teacher-forced re-evaluation of the sampled paths, [paths · T, V] double.
struct Reinforce : torch::autograd::Function<Reinforce> {
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& logits, const reinforce_setup* setup) {
    torch::Tensor grad = torch::empty_like(logits);
    const lg::tensor_view<double, 2> z = view_2d(logits);
    const lg::tensor_view<double, 2> dz = view_2d(grad);
    expect_same_storage(z.data(), logits);
    expect_same_storage(dz.data(), grad);
    const lg::reinforce_result result = lg::reinforce<lg::backends::cpu, double>(
        backend(), *setup->layout, *setup->paths, setup->rewards, setup->baselines, z, dz, setup->options);
    if (setup->result != nullptr) *setup->result = result;
    ctx->save_for_backward({grad});
    return torch::tensor(result.loss, logits.options());
  }

  static variable_list backward(AutogradContext* ctx, variable_list grad_outputs) {
    return {ctx->get_saved_variables()[0] * grad_outputs[0], torch::Tensor()};
  }
};

// ---------------------------------------------------------------------------
// The same losses written with torch operations (the references of `check`).

/// [R, V] bool: token v is in C(nodes[r]).
torch::Tensor candidate_mask(const lg::output_layout& layout, const torch::Tensor& nodes) {
  torch::Tensor mask = torch::zeros({nodes.size(0), static_cast<std::int64_t>(layout.token_count())}, torch::kBool);
  auto m = mask.accessor<bool, 2>();
  auto u = nodes.accessor<std::int32_t, 1>();
  for (std::int64_t r = 0; r < nodes.size(0); ++r) {
    for (lg::token_id v : layout.candidates(static_cast<lg::node_id>(u[r]))) m[r][v] = true;
  }
  return mask;
}

/// [V] int64: the layout group of every token.
torch::Tensor token_groups(const lg::output_layout& layout) {
  std::vector<std::int64_t> groups(layout.token_count());
  for (lg::token_id v = 0; v < layout.token_count(); ++v) groups[v] = layout.token_group(v);
  return torch::tensor(groups, torch::kInt64);
}

/// The block NLL with torch ops: N(t) = C(u) (candidate) or g(t) ∩ C(u) (block),
/// lse over N(t), label smoothing ε(lse − mean_N z). `safe_targets` equals
/// the targets except on ignored rows, where it names a token of C(u).
torch::Tensor torch_block_nll(const lg::output_layout& layout, const torch::Tensor& logits, const torch::Tensor& targets,
                              const torch::Tensor& safe_targets, const torch::Tensor& nodes, const torch::Tensor& weights,
                              lg::normalization norm, double epsilon) {
  const torch::Tensor t = safe_targets.to(torch::kInt64);
  torch::Tensor in_set = candidate_mask(layout, nodes);
  if (norm == lg::normalization::block) {
    const torch::Tensor groups = token_groups(layout);
    in_set = in_set & (groups.index_select(0, t).unsqueeze(1) == groups.unsqueeze(0));
  }
  const torch::Tensor lse = torch::logsumexp(logits.masked_fill(~in_set, -INFINITY), 1);
  const torch::Tensor nll = lse - logits.gather(1, t.unsqueeze(1)).squeeze(1);
  torch::Tensor loss = nll;
  if (epsilon != 0.0) {
    const torch::Tensor set_mean = (logits * in_set).sum(1) / in_set.sum(1);
    loss = (1 - epsilon) * nll + epsilon * (lse - set_mean);
  }
  return loss * weights * (targets >= 0);
}

/// REINFORCE with torch ops, candidate normalisation, mean over paths.
torch::Tensor torch_reinforce(const lg::output_layout& layout, const lg::path_batch& paths, const torch::Tensor& logits,
                              const std::vector<double>& rewards, const std::vector<double>& baselines,
                              double entropy_weight) {
  const auto count = static_cast<std::int64_t>(paths.rows());
  const auto steps = static_cast<std::int64_t>(paths.max_length());
  std::vector<std::int32_t> node_values(static_cast<std::size_t>(count * steps));
  for (std::size_t row = 0; row < node_values.size(); ++row) {
    node_values[row] = static_cast<std::int32_t>(paths.flat_step_nodes()(row));
  }
  const torch::Tensor nodes = torch::tensor(node_values, torch::kInt32);
  std::vector<std::int64_t> safe_tokens(static_cast<std::size_t>(count * steps));
  std::vector<double> valid(safe_tokens.size());
  for (std::size_t row = 0; row < safe_tokens.size(); ++row) {
    const lg::token_id v = paths.flat_tokens()(row);
    valid[row] = v == lg::no_token ? 0.0 : 1.0;
    safe_tokens[row] = v == lg::no_token ? layout.candidates(paths.flat_step_nodes()(row)).front() : v;
  }
  const torch::Tensor allowed = candidate_mask(layout, nodes);
  const torch::Tensor log_p = torch::log_softmax(logits.masked_fill(~allowed, -INFINITY), 1);
  const torch::Tensor step_valid = torch::tensor(valid, torch::kDouble);
  const torch::Tensor step_log_p = log_p.gather(1, torch::tensor(safe_tokens, torch::kInt64).unsqueeze(1)).squeeze(1);
  const torch::Tensor path_log_p = (step_log_p * step_valid).view({count, steps}).sum(1);
  const torch::Tensor entropy = -(log_p.exp() * log_p.masked_fill(~allowed, 0.0)).sum(1);
  const torch::Tensor advantage = torch::tensor(rewards, torch::kDouble) - torch::tensor(baselines, torch::kDouble);
  const double n = static_cast<double>(count);
  return (advantage * -path_log_p).sum() / n - entropy_weight * (entropy * step_valid).sum() / n;
}

// ---------------------------------------------------------------------------
// `check`: gradients of the Functions against the torch references.

bool close(const char* what, const torch::Tensor& ours, const torch::Tensor& theirs) {
  const double difference = (ours - theirs).abs().max().item<double>();
  const double size = theirs.abs().max().item<double>();
  // A comparison of zeros proves nothing: the reference must be non-trivial.
  const bool ok = difference <= 1e-6 && std::isfinite(difference) && size > 1e-3;
  std::printf("%-52s max |torch| %.3g, max |difference| %.3g  %s\n", what, size, difference, ok ? "ok" : "FAILED");
  return ok;
}

bool check_gradients(const lg::label_graph& graph, const lg::output_layout& layout, const lg::target_table& table) {
  torch::manual_seed(3);
  bool ok = true;
  // Teacher-forcing rows of a few labels, plus one ignored row.
  std::vector<lg::node_id> labels = {graph.at("british-shorthair"), graph.at("pug"), graph.at("cat"), graph.at("sphynx")};
  const lg::examples::teacher_forcing_rows rows = lg::examples::make_teacher_forcing_rows(graph, layout, table, labels);
  std::vector<std::int32_t> targets(rows.target.begin(), rows.target.end());
  std::vector<std::int32_t> nodes(rows.node.begin(), rows.node.end());
  std::vector<std::int32_t> safe = targets;
  targets.push_back(-1);  // ignored: loss 0, gradient 0
  nodes.push_back(static_cast<std::int32_t>(graph.at("dog")));
  safe.push_back(static_cast<std::int32_t>(layout.candidates(graph.at("dog")).front()));
  const auto row_count = static_cast<std::int64_t>(targets.size());
  const torch::Tensor target_tensor = torch::tensor(targets, torch::kInt32);
  const torch::Tensor safe_tensor = torch::tensor(safe, torch::kInt32);
  const torch::Tensor node_tensor = torch::tensor(nodes, torch::kInt32);
  const torch::Tensor weights = torch::rand({row_count}, torch::kDouble) + 0.5;
  const torch::Tensor logits = 3 * torch::randn({row_count, static_cast<std::int64_t>(layout.token_count())}, torch::kDouble);

  struct nll_case {
    const char* name;
    lg::normalization norm;
    lg::regularizer reg;
  };
  for (const nll_case& c : {nll_case{"block NLL, candidate normalisation", lg::normalization::candidate, {}},
                            nll_case{"block NLL, block normalisation", lg::normalization::block, {}},
                            nll_case{"block NLL, candidate + label smoothing 0.1", lg::normalization::candidate,
                                     lg::regularizer::label_smoothing(0.1)}}) {
    const block_nll_setup setup{&layout, c.norm, c.reg};
    const torch::Tensor ours_in = logits.clone().requires_grad_(true);
    const torch::Tensor theirs_in = logits.clone().requires_grad_(true);
    const torch::Tensor upstream = torch::randn({row_count}, torch::kDouble);  // a non-uniform d(outer)/d(loss)
    const torch::Tensor ours = BlockNll::apply(ours_in, target_tensor, node_tensor, weights, &setup);
    const torch::Tensor theirs = torch_block_nll(layout, theirs_in, target_tensor, safe_tensor, node_tensor, weights,
                                                 c.norm, c.reg.epsilon);
    (ours * upstream).sum().backward();
    (theirs * upstream).sum().backward();
    ok = close((std::string(c.name) + ": loss").c_str(), ours, theirs) && ok;
    ok = close((std::string(c.name) + ": gradient").c_str(), ours_in.grad(), theirs_in.grad()) && ok;
  }

  // REINFORCE: paths sampled from random logits, 4 per input, Eq. 3 rewards,
  // leave-one-out baselines, entropy bonus; the loss on fresh random logits.
  const std::size_t inputs = labels.size();
  const torch::Tensor sampling_logits = torch::randn({static_cast<std::int64_t>(graph.node_count()),
                                                      static_cast<std::int64_t>(layout.token_count())}, torch::kDouble);
  auto by_node = [&](const lg::step_context& context, lg::tensor_view<double, 2> out) {
    for (std::size_t r = 0; r < context.rows; ++r) {
      const double* source = sampling_logits[static_cast<std::int64_t>(context.current_nodes(r))].data_ptr<double>();
      std::copy(source, source + out.extent(1), out.row(r));
    }
  };
  const lg::path_batch paths = lg::sample_paths<double>(backend(), graph, layout, by_node, inputs,
                                                        lg::sampling_options{.samples_per_input = 4, .seed = 11});
  const std::vector<double> rewards = lg::compute_rewards(paths, lg::ground_truth_reward(graph, labels));
  const std::vector<double> baselines = lg::compute_baselines(lg::baseline::leave_one_out(), rewards, 4);
  const reinforce_setup setup{&layout, &paths, rewards, baselines, {.entropy_weight = 0.05}, nullptr};
  const torch::Tensor z = torch::randn({static_cast<std::int64_t>(paths.rows() * paths.max_length()),
                                        static_cast<std::int64_t>(layout.token_count())}, torch::kDouble);
  const torch::Tensor ours_in = z.clone().requires_grad_(true);
  const torch::Tensor theirs_in = z.clone().requires_grad_(true);
  const torch::Tensor ours = Reinforce::apply(ours_in, &setup);
  const torch::Tensor theirs = torch_reinforce(layout, paths, theirs_in, rewards, baselines, 0.05);
  (2.5 * ours).backward();
  (2.5 * theirs).backward();
  ok = close("REINFORCE (leave-one-out, entropy 0.05): loss", ours, theirs) && ok;
  ok = close("REINFORCE (leave-one-out, entropy 0.05): gradient", ours_in.grad(), theirs_in.grad()) && ok;
  return ok;
}

// ---------------------------------------------------------------------------
// `train`: a linear path decoder, logits = Linear([x ; onehot(u)]).

struct path_decoder : torch::nn::Module {
  path_decoder(std::int64_t features, std::int64_t nodes, std::int64_t tokens)
      : node_count(nodes), linear(register_module("linear", torch::nn::Linear(features + nodes, tokens))) {
    linear->to(torch::kDouble);
  }
  /// Logits of the rows whose sample features are `x` [R, F] and current nodes `u` [R].
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& u) {
    return linear(torch::cat({x, torch::one_hot(u.to(torch::kInt64), node_count).to(torch::kDouble)}, 1));
  }
  std::int64_t node_count;
  torch::nn::Linear linear;
};

bool train(const lg::label_graph& graph, const lg::output_layout& layout, const lg::target_table& table) {
  torch::manual_seed(5);
  lg::examples::synthetic_samples data = lg::examples::make_synthetic_samples(graph, "oxford-pet", 10, 16, 0.4, 7);
  const auto samples = static_cast<std::int64_t>(data.labels.size());
  // The features stay in the generator's vector: from_blob views them.
  const torch::Tensor features =
      torch::from_blob(data.values.data(), {samples, static_cast<std::int64_t>(data.features)}, torch::kDouble);
  const lg::examples::teacher_forcing_rows rows = lg::examples::make_teacher_forcing_rows(graph, layout, table, data.labels);
  std::vector<std::int64_t> row_sample(rows.sample.begin(), rows.sample.end());
  const torch::Tensor tf_x = features.index_select(0, torch::tensor(row_sample, torch::kInt64));
  const torch::Tensor tf_nodes = torch::tensor(std::vector<std::int32_t>(rows.node.begin(), rows.node.end()), torch::kInt32);
  const torch::Tensor tf_targets =
      torch::tensor(std::vector<std::int32_t>(rows.target.begin(), rows.target.end()), torch::kInt32);
  const torch::Tensor tf_weights = torch::tensor(rows.weight, torch::kDouble) / static_cast<double>(samples);

  path_decoder model(static_cast<std::int64_t>(data.features), static_cast<std::int64_t>(graph.node_count()),
                     static_cast<std::int64_t>(layout.token_count()));
  torch::optim::SGD optimizer(model.parameters(), torch::optim::SGDOptions(0.5));
  const block_nll_setup nll_setup{&layout, lg::normalization::candidate, {}};

  // The decoders call the model with a logits view of their workspace: the
  // torch output is written straight into it (addmm_out into from_blob).
  auto step_model = [&](const lg::step_context& context, lg::tensor_view<double, 2> logits) {
    torch::NoGradGuard no_grad;
    std::vector<std::int64_t> sample(context.rows);
    for (std::size_t r = 0; r < context.rows; ++r) sample[r] = static_cast<std::int64_t>(r / context.rows_per_input);
    const torch::Tensor x = features.index_select(0, torch::tensor(sample, torch::kInt64));
    const torch::Tensor u = torch::from_blob(const_cast<lg::node_id*>(context.current_nodes.data()),
                                             {static_cast<std::int64_t>(context.rows)}, torch::kInt32);
    torch::Tensor out = torch::from_blob(logits.data(), {static_cast<std::int64_t>(context.rows),
                                                         static_cast<std::int64_t>(logits.extent(1))}, torch::kDouble);
    const torch::Tensor inputs = torch::cat({x, torch::one_hot(u.to(torch::kInt64), model.node_count).to(torch::kDouble)}, 1);
    torch::addmm_out(out, model.linear->bias, inputs, model.linear->weight.t());
  };
  const std::size_t k = 4;
  lg::ground_truth_reward reward(graph, data.labels);
  auto mean_sampled_reward = [&](std::uint64_t seed) {
    const lg::path_batch paths = lg::sample_paths<double>(backend(), graph, layout, step_model, data.labels.size(),
                                                          lg::sampling_options{.samples_per_input = k, .seed = seed});
    const std::vector<double> r = lg::compute_rewards(paths, reward);
    double sum = 0.0;
    for (double value : r) sum += value;
    return sum / static_cast<double>(r.size());
  };

  const double reward_before = mean_sampled_reward(1000);
  double first_nll = 0.0;
  double last_nll = 0.0;
  // Algorithm 1: L = α·L_tf + β·L_pg; the first epochs teacher forcing only (β = 0).
  const double alpha = 1.0;
  for (int epoch = 0; epoch < 60; ++epoch) {
    const double beta = epoch < 30 ? 0.0 : 0.5;
    optimizer.zero_grad();
    torch::Tensor tf_loss = BlockNll::apply(model.forward(tf_x, tf_nodes), tf_targets, tf_nodes, tf_weights, &nll_setup).sum();
    torch::Tensor loss = alpha * tf_loss;
    lg::reinforce_result pg{};
    if (beta != 0.0) {
      const lg::path_batch paths = lg::sample_paths<double>(backend(), graph, layout, step_model, data.labels.size(),
                                                            lg::sampling_options{.samples_per_input = k,
                                                                                 .seed = static_cast<std::uint64_t>(epoch)});
      const std::vector<double> rewards = lg::compute_rewards(paths, reward);
      const std::vector<double> baselines = lg::compute_baselines(lg::baseline::leave_one_out(), rewards, k);
      // Teacher-forced re-evaluation of the sampled paths, one row per step.
      std::vector<std::int64_t> row_input(paths.rows() * paths.max_length());
      for (std::size_t row = 0; row < row_input.size(); ++row) {
        row_input[row] = static_cast<std::int64_t>(paths.input_of(row / paths.max_length()));
      }
      const torch::Tensor step_nodes = torch::from_blob(const_cast<lg::node_id*>(paths.flat_step_nodes().data()),
                                                        {static_cast<std::int64_t>(row_input.size())}, torch::kInt32);
      const torch::Tensor z = model.forward(features.index_select(0, torch::tensor(row_input, torch::kInt64)), step_nodes);
      const reinforce_setup setup{&layout, &paths, rewards, baselines, {.entropy_weight = 0.01}, &pg};
      loss = loss + beta * Reinforce::apply(z, &setup);
    }
    loss.backward();
    optimizer.step();
    last_nll = tf_loss.item<double>();
    if (epoch == 0) first_nll = last_nll;
    if (epoch % 10 == 0 || epoch == 59) {
      std::printf("epoch %2d  L_tf %.4f", epoch, last_nll);
      if (beta != 0.0) std::printf("  L_pg %.4f  sampled reward %.3f  advantage variance %.4f", pg.loss,
                                   pg.statistics.mean_reward, pg.statistics.advantage_variance);
      std::printf("\n");
    }
  }
  const double reward_after = mean_sampled_reward(2000);
  std::printf("teacher-forced NLL %.4f -> %.4f; mean reward of %zu sampled paths per sample %.3f -> %.3f\n", first_nll,
              last_nll, k, reward_before, reward_after);
  return last_nll < first_nll / 2 && reward_after > reward_before + 0.2;
}

}  // namespace

int main(int argc, char** argv) {
  torch::set_num_threads(1);
  const std::string mode = argc > 1 ? argv[1] : "all";
  const lg::label_graph graph = lg::read_graph_json("examples/graphs/pets.json");
  const lg::output_layout layout = lg::make_output_layout(graph);
  const lg::target_table table = lg::make_target_table(graph, layout);
  bool ok = true;
  if (mode == "check" || mode == "all") ok = check_gradients(graph, layout, table) && ok;
  if (mode == "train" || mode == "all") ok = train(graph, layout, table) && ok;
  if (pointer_mismatches != 0) {
    std::printf("error: %d labelgraph views did not point at their tensor's storage\n", pointer_mismatches);
    ok = false;
  }
  std::printf(ok ? "ok: %s\n" : "FAILED: %s\n", mode.c_str());
  return ok ? 0 : 1;
}
