// labelgraph inside an Eigen code base: softmax regression that predicts the
// root-to-label path of the pet graph (examples/graphs/pets.json), trained
// with the fused block NLL (labelgraph/ops/block_nll.hpp, the paper's Eq. 2
// per step) on Eigen matrices.
//
// Every labelgraph call reads and writes the Eigen matrices' own storage:
// `tensor_view`s are built over `.data()` (or over an `Eigen::Map` of the
// caller's vectors), and the program checks that each view points at the
// matrix it came from. The NLL's gradient is written into the logits matrix
// itself (allowed by block_nll), so the backward GEMM reads it in place.
//
//   model:  logits = [x ; onehot(u)] · W            (rows = teacher-forcing steps)
//   loss:   L = Σ_rows w_r · (lse_{C(u_r)} z − z_{target})  / samples
//           (candidate normalisation: the step's legal moves C(u), DESIGN.md §2)
//   update: W ← W − lr · [x ; onehot(u)]ᵀ · ∂L/∂z
//
// After 100 epochs REINFORCE (labelgraph/loss/reinforce.hpp, Eq. 4-5) joins
// in, Algorithm 1's α·L_tf + β·L_pg: paths sampled from the model (a step
// function writing into the decoder's logits through an Eigen::Map), Eq. 3
// rewards, leave-one-out baselines, the policy gradient written over the
// re-evaluated logits matrix in place.
//
// Then greedy decoding (argmax over C(u), Algorithm 2 with the default rule)
// reports how many training samples end at their label.
//
// Run from the source folder (or pass the graph's path):
//   build/dev/examples/eigen_integration [examples/graphs/pets.json]
// Exit status 0 only if the pointers check out, the loss fell to under a
// third of its start, the sampled paths' mean reward rose during REINFORCE,
// and greedy decoding reaches at least 90% of the labels.
#include <cstdio>
#include <string>
#include <vector>

#include <Eigen/Dense>

#include <labelgraph/backends/cpu.hpp>
#include <labelgraph/decode/sample.hpp>
#include <labelgraph/graph/json.hpp>
#include <labelgraph/loss/baseline.hpp>
#include <labelgraph/loss/reinforce.hpp>
#include <labelgraph/loss/reward.hpp>
#include <labelgraph/ops/block_nll.hpp>
#include <labelgraph/ops/sample.hpp>
#include <labelgraph/paths/output_layout.hpp>
#include <labelgraph/paths/target_table.hpp>

#include "../common/synthetic_paths.hpp"

namespace lg = labelgraph;

namespace {

// labelgraph's tensors are row-major: so are the matrices handed to it.
using matrix = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

/// A [rows, cols] view of a row-major Eigen matrix's own storage (no copy).
template <class Scalar>
lg::tensor_view<Scalar, 2> view_of(Eigen::Matrix<std::remove_const_t<Scalar>, Eigen::Dynamic, Eigen::Dynamic,
                                                 Eigen::RowMajor>& m) {
  return lg::tensor_view<Scalar, 2>(m.data(), {static_cast<std::size_t>(m.rows()), static_cast<std::size_t>(m.cols())});
}

/// Reports (and returns false for) a view that does not alias the Eigen storage it was made from.
bool same_storage(const void* view_data, const void* eigen_data, const char* what) {
  if (view_data != eigen_data) {
    std::printf("error: the view of %s is not the Eigen storage (%p vs %p)\n", what, view_data, eigen_data);
    return false;
  }
  return true;
}

/// Fills the first `rows` rows of `inputs` with [x_sample_of(r) ; onehot(node_of(r))].
template <class SampleOf, class NodeOf>
void fill_inputs(const Eigen::Map<const matrix>& features, Eigen::Index rows, SampleOf sample_of, NodeOf node_of,
                 matrix& inputs) {
  const Eigen::Index f = features.cols();
  inputs.topRows(rows).setZero();
  for (Eigen::Index r = 0; r < rows; ++r) {
    const auto row = static_cast<std::size_t>(r);
    inputs.row(r).head(f) = features.row(static_cast<Eigen::Index>(sample_of(row)));
    inputs(r, f + static_cast<Eigen::Index>(node_of(row))) = 1.0;
  }
}

}  // namespace

int main(int argc, char** argv) {
  const std::string graph_file = argc > 1 ? argv[1] : "examples/graphs/pets.json";
  const lg::label_graph graph = lg::read_graph_json(graph_file);
  const lg::output_layout layout = lg::make_output_layout(graph);
  const lg::target_table table = lg::make_target_table(graph, layout);
  const lg::backends::cpu backend(2);

  // Data: 20 samples of each Oxford-Pet breed in 16 dimensions, as an Eigen
  // matrix that is a Map over the generator's vector (no copy either).
  lg::examples::synthetic_samples data = lg::examples::make_synthetic_samples(graph, "oxford-pet", 20, 16, 0.4, 7);
  const auto samples = static_cast<Eigen::Index>(data.labels.size());
  const auto feature_count = static_cast<Eigen::Index>(data.features);
  const Eigen::Map<const matrix> features(data.values.data(), samples, feature_count);
  const lg::examples::teacher_forcing_rows rows = lg::examples::make_teacher_forcing_rows(graph, layout, table, data.labels);

  const auto row_count = static_cast<Eigen::Index>(rows.size());
  const auto tokens = static_cast<Eigen::Index>(layout.token_count());
  const auto inputs_width = feature_count + static_cast<Eigen::Index>(graph.node_count());
  matrix inputs(row_count, inputs_width);
  fill_inputs(features, row_count, [&](std::size_t r) { return rows.sample[r]; }, [&](std::size_t r) { return rows.node[r]; },
              inputs);
  matrix weights = matrix::Zero(inputs_width, tokens);
  matrix logits(row_count, tokens);  // z, then ∂L/∂z in place
  Eigen::VectorXd loss(row_count);
  double total_loss = 0.0;
  matrix grad_weights(inputs_width, tokens);
  // The rows' per-row weights 1/|paths(y)| are the caller's std::vector: an
  // Eigen::Map lets Eigen scale them by 1/samples in place.
  std::vector<double> row_weights = rows.weight;
  Eigen::Map<Eigen::VectorXd>(row_weights.data(), row_count) /= static_cast<double>(samples);

  const lg::block_nll_tensors<double> io{
      .logits = view_of<const double>(logits),
      .targets = lg::host_view(rows.target),
      .weights = lg::host_view(std::as_const(row_weights)),
      .loss = lg::tensor_view<double, 1>(loss.data(), {rows.size()}),
      .grad_logits = view_of<double>(logits),
      .log_normalizer = {},  // not needed here
      .total = lg::tensor_view<double, 1>(&total_loss, {1}),  // Σ_r loss_r, the same bits for any thread count
  };
  const lg::row_mask legal_moves = lg::row_mask::from_candidates(lg::host_view(rows.node));
  if (!same_storage(io.logits.data(), logits.data(), "logits") ||
      !same_storage(io.grad_logits.data(), logits.data(), "the gradient") ||
      !same_storage(io.loss.data(), loss.data(), "loss") ||
      !same_storage(io.weights.data(), row_weights.data(), "weights") ||
      !same_storage(io.targets.data(), rows.target.data(), "targets")) {
    return 1;
  }
  std::printf("pet graph: %u tokens, %u groups; %td samples of %zu breeds, %td teacher-forcing rows\n",
              layout.token_count(), layout.group_count(), samples, data.labels.size() / 20, row_count);

  // REINFORCE needs the model as a step function: the decoder hands it a
  // logits view of its workspace, which Eigen fills through a Map (no copy).
  matrix step_inputs(samples * 4, inputs_width);
  auto step_model = [&](const lg::step_context& context, lg::tensor_view<double, 2> out) {
    const auto step_rows = static_cast<Eigen::Index>(context.rows);
    fill_inputs(features, step_rows, [&](std::size_t r) { return r / context.rows_per_input; },
                [&](std::size_t r) { return context.current_nodes(r); }, step_inputs);
    Eigen::Map<matrix>(out.data(), step_rows, tokens).noalias() = step_inputs.topRows(step_rows) * weights;
  };
  const lg::ground_truth_reward reward(graph, data.labels);  // Eq. 3: |P ∩ S(y)| / |S(y)|
  const std::size_t paths_per_sample = 4;
  const auto mean_sampled_reward = [&](std::uint64_t seed) {
    const lg::path_batch paths = lg::sample_paths<double>(backend, graph, layout, step_model, data.labels.size(),
                                                          {.samples_per_input = paths_per_sample, .seed = seed});
    const std::vector<double> rewards = lg::compute_rewards(paths, reward);
    return Eigen::Map<const Eigen::VectorXd>(rewards.data(), static_cast<Eigen::Index>(rewards.size())).mean();
  };

  // Algorithm 1: L = α·L_tf + β·L_pg. Teacher forcing alone first (β = 0),
  // then REINFORCE joins in: K sampled paths per sample, leave-one-out baseline.
  const double learning_rate = 0.5;
  const int epochs = 150;
  const int reinforce_from = 100;
  const double beta = 1.0;
  double first_loss = 0.0;
  double last_loss = 0.0;
  double reward_before = 0.0;
  matrix pg_inputs;
  matrix pg_logits;  // z of the re-evaluated sampled paths, then ∂L_pg/∂z in place
  for (int epoch = 0; epoch < epochs; ++epoch) {
    logits.noalias() = inputs * weights;                                   // Eigen GEMM
    lg::block_nll(backend, layout.view(), lg::normalization::candidate, legal_moves, io);  // loss, ∂L/∂z in place
    last_loss = total_loss;
    if (epoch == 0) first_loss = last_loss;
    grad_weights.noalias() = inputs.transpose() * logits;                  // Eigen GEMM on the gradient
    if (epoch >= reinforce_from) {
      if (epoch == reinforce_from) reward_before = mean_sampled_reward(1000);
      const lg::path_batch paths = lg::sample_paths<double>(backend, graph, layout, step_model, data.labels.size(),
                                                            {.samples_per_input = paths_per_sample,
                                                             .seed = static_cast<std::uint64_t>(epoch)});
      const std::vector<double> rewards = lg::compute_rewards(paths, reward);
      const std::vector<double> baselines = lg::compute_baselines(lg::baseline::leave_one_out(), rewards, paths_per_sample);
      // Teacher-forced re-evaluation of the sampled paths: one row per step.
      const auto pg_rows = static_cast<Eigen::Index>(paths.rows() * paths.max_length());
      pg_inputs.resize(pg_rows, inputs_width);
      pg_logits.resize(pg_rows, tokens);
      fill_inputs(features, pg_rows, [&](std::size_t r) { return paths.input_of(r / paths.max_length()); },
                  [&](std::size_t r) { return paths.flat_step_nodes()(r); }, pg_inputs);
      pg_logits.noalias() = pg_inputs * weights;
      const lg::reinforce_result pg = lg::reinforce<lg::backends::cpu, double>(
          backend, layout, paths, rewards, baselines, view_of<const double>(pg_logits), view_of<double>(pg_logits),
          {.scale = beta});
      grad_weights.noalias() += pg_inputs.transpose() * pg_logits;
      if (epoch % 10 == 0) {
        std::printf("epoch %3d  L_tf %.4f  L_pg %.4f  sampled reward %.3f\n", epoch, last_loss, pg.loss,
                    pg.statistics.mean_reward);
      }
    } else if (epoch % 25 == 0) {
      std::printf("epoch %3d  L_tf %.4f\n", epoch, last_loss);
    }
    weights -= learning_rate * grad_weights;
  }
  const double reward_after = mean_sampled_reward(1000);
  std::printf("teacher-forced loss: %.4f -> %.4f\n", first_loss, last_loss);
  std::printf("mean reward of %zu sampled paths per sample: %.3f -> %.3f during REINFORCE\n", paths_per_sample,
              reward_before, reward_after);

  // Greedy decoding: every sample starts at the root; argmax over C(u) until EOP.
  const auto every_sample = static_cast<std::size_t>(samples);
  std::vector<lg::node_id> current(every_sample, graph.root());
  std::vector<lg::node_id> reached(every_sample, lg::no_node);
  std::vector<lg::token_id> chosen(every_sample);
  matrix step_logits(samples, tokens);
  for (std::size_t step = 0; step < table.max_length(); ++step) {
    fill_inputs(features, samples, [](std::size_t i) { return i; }, [&](std::size_t i) { return current[i]; }, step_inputs);
    step_logits.noalias() = step_inputs.topRows(samples) * weights;
    lg::argmax_candidates(backend, layout.view(), view_of<const double>(step_logits), lg::host_view(std::as_const(current)),
                          lg::host_view(chosen));
    for (std::size_t i = 0; i < current.size(); ++i) {
      if (reached[i] != lg::no_node) continue;
      if (chosen[i] == layout.eop()) {
        reached[i] = current[i];
      } else {
        current[i] = layout.node(chosen[i]);
      }
    }
  }
  std::size_t correct = 0;
  for (std::size_t i = 0; i < reached.size(); ++i) correct += reached[i] == data.labels[i] ? 1 : 0;
  const double accuracy = static_cast<double>(correct) / static_cast<double>(reached.size());
  std::printf("greedy decoding reaches the label of %zu / %zu samples (%.1f%%)\n", correct, reached.size(),
              100.0 * accuracy);

  const bool learned = last_loss < first_loss / 3 && accuracy >= 0.9 && reward_after > reward_before;
  std::printf(learned ? "ok: zero-copy block NLL and REINFORCE on Eigen matrices, the model learned\n"
                      : "error: the model did not learn\n");
  return learned ? 0 : 1;
}
