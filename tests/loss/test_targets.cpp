// make_path_targets on the paper's pet graph: exact pairs, flags, padded
// tensors, current nodes, the pair <-> sample maps, uncertain samples, S(y),
// the prefix mode, deterministic_only, and every bad input with its text.
#include <catch2/catch.hpp>

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "labelgraph/loss/targets.hpp"
#include "labelgraph/paths/detail/arguments.hpp"
#include "loss_support.hpp"

using namespace labelgraph;
using namespace labelgraph::testing;

namespace {

/// Names of the tokens of one pair's supervised steps, " > "-joined ("EOP" for EOP).
std::string pair_text(const pet_fixture& pets, const path_targets& targets, std::size_t pair) {
  std::string text;
  for (std::size_t t = 0; t < targets.lengths[pair]; ++t) {
    const token_id v = targets.tokens[pair * targets.steps + t];
    if (!text.empty()) text += " > ";
    text += v == pets.layout.eop() ? std::string("EOP") : std::string(pets.graph.name(pets.layout.node(v)));
  }
  return text;
}

}  // namespace

TEST_CASE("targets: British Shorthair has one deterministic and three nondeterministic pairs", "[loss][targets]") {
  const pet_fixture pets;
  const std::vector<node_id> labels = pets.nodes({"sphynx", "british-shorthair", "pug"});
  const path_targets targets = make_path_targets(pets.graph, pets.layout, pets.table, labels);

  REQUIRE(targets.samples == 3);
  REQUIRE(targets.steps == 4);  // cat > hair/color > breed > EOP
  REQUIRE(targets.sample_offsets == std::vector<std::uint32_t>{0, 1, 5, 7});
  REQUIRE(targets.pair_sample == std::vector<std::uint32_t>{0, 1, 1, 1, 1, 2, 2});
  REQUIRE(targets.pairs() == 7);
  REQUIRE(targets.lengths == std::vector<std::uint32_t>(7, 4));

  std::set<std::string> deterministic, nondeterministic;
  for (std::size_t p = 1; p < 5; ++p) (targets.deterministic[p] ? deterministic : nondeterministic).insert(pair_text(pets, targets, p));
  CHECK(deterministic == std::set<std::string>{"cat > shorthair > british-shorthair > EOP"});
  CHECK(nondeterministic == std::set<std::string>{"cat > solid > british-shorthair > EOP",
                                                  "cat > tabby > british-shorthair > EOP",
                                                  "cat > point > british-shorthair > EOP"});
  CHECK(pair_text(pets, targets, 0) == "cat > hairless > sphynx > EOP");
  CHECK(targets.deterministic[0] == 1);
  // Pug's two paths go through different groups (size, coat): both deterministic.
  CHECK(targets.deterministic[5] == 1);
  CHECK(targets.deterministic[6] == 1);
  CHECK(targets.uncertain_samples == std::vector<std::uint32_t>{1});
  CHECK(targets.uncertain(1));
  CHECK_FALSE(targets.uncertain(0));

  // Current nodes: root, then the node of the previous token.
  for (std::size_t p = 0; p < targets.pairs(); ++p) {
    CHECK(targets.nodes[p * 4] == pets.graph.root());
    for (std::size_t t = 1; t < 4; ++t) {
      CHECK(targets.nodes[p * 4 + t] == pets.layout.node(targets.tokens[p * 4 + t - 1]));
    }
    CHECK(targets.nodes[p * 4 + 3] == labels[targets.pair_sample[p]]);  // EOP is predicted standing on the label
    CHECK(pets.table.label(targets.pair_path[p]) == labels[targets.pair_sample[p]]);
  }
  // S(y): the label nodes on a path of y.
  CHECK(std::vector<node_id>(targets.ground_truth(1).begin(), targets.ground_truth(1).end()) ==
        [&] { auto s = pets.nodes({"cat", "british-shorthair"}); std::sort(s.begin(), s.end()); return s; }());
  CHECK(targets.ground_truth(2).size() == 2);  // dog, pug

  // The views flatten [pairs, T] to pairs·T rows.
  const sequence_targets view = targets.view();
  CHECK(view.rows() == 28);
  CHECK(view.samples() == 3);
  CHECK(view.row_tokens()(13) == targets.tokens[13]);
  CHECK(view.row_nodes()(13) == targets.nodes[13]);
}

TEST_CASE("targets: prefix mode supervises the path to a coarse label and leaves the rest free", "[loss][targets]") {
  const pet_fixture pets;
  const std::vector<node_id> labels = pets.nodes({"cat", "sphynx"});
  const std::vector<target_mode> modes = {target_mode::prefix, target_mode::exact};
  const path_targets targets =
      make_path_targets(pets.graph, pets.layout, pets.table, labels, {.sample_modes = modes, .steps = 5});
  REQUIRE(targets.steps == 5);
  REQUIRE(targets.lengths == std::vector<std::uint32_t>{1, 4});
  CHECK(targets.modes == modes);
  const token_id cat = pets.token("cat");
  CHECK(std::vector<token_id>(targets.tokens.begin(), targets.tokens.begin() + 5) ==
        std::vector<token_id>{cat, no_token, no_token, no_token, no_token});
  // Step 1 stands on the coarse label itself; padding stands on the root.
  CHECK(std::vector<node_id>(targets.nodes.begin(), targets.nodes.begin() + 5) ==
        std::vector<node_id>{pets.graph.root(), pets.node("cat"), pets.graph.root(), pets.graph.root(), pets.graph.root()});
  CHECK(targets.tokens[5 + 3] == pets.layout.eop());
  CHECK(targets.tokens[5 + 4] == no_token);

  // One mode for the batch.
  const path_targets all_prefix = make_path_targets(pets.graph, pets.layout, pets.table, labels, {.mode = target_mode::prefix});
  CHECK(all_prefix.steps == 3);
  CHECK(all_prefix.lengths == std::vector<std::uint32_t>{1, 3});
}

TEST_CASE("targets: deterministic_only keeps Algorithm 1's teacher-forced paths", "[loss][targets]") {
  const pet_fixture pets;
  const std::vector<node_id> labels = pets.nodes({"british-shorthair", "pug"});
  const path_targets targets =
      make_path_targets(pets.graph, pets.layout, pets.table, labels, {.deterministic_only = true});
  CHECK(targets.sample_offsets == std::vector<std::uint32_t>{0, 1, 3});
  CHECK(pair_text(pets, targets, 0) == "cat > shorthair > british-shorthair > EOP");
  CHECK(targets.uncertain_samples == std::vector<std::uint32_t>{0});  // still uncertain: it has nondeterministic paths
}

TEST_CASE("targets: an empty batch has no pairs", "[loss][targets]") {
  const pet_fixture pets;
  const path_targets targets = make_path_targets(pets.graph, pets.layout, pets.table, std::vector<node_id>{});
  CHECK(targets.pairs() == 0);
  CHECK(targets.steps == 0);
  CHECK(targets.sample_offsets == std::vector<std::uint32_t>{0});
  CHECK(targets.view().rows() == 0);
}

TEST_CASE("targets: bad input is reported with the sample and the node", "[loss][targets][errors]") {
  const pet_fixture pets;
  const std::string prefix = detail::source_prefix(pets.graph) + "make_path_targets: ";
  const auto make = [&](const std::vector<node_id>& labels, path_target_options options = {}) {
    return make_path_targets(pets.graph, pets.layout, pets.table, labels, options);
  };
  CHECK_THROWS_MATCHES(make(pets.nodes({"cat", "shorthair"})), argument_error,
                       Catch::Message(prefix + "sample 1: node 'shorthair' is not a label node (kind: augmented)"));
  CHECK_THROWS_MATCHES(make({pets.graph.root()}), argument_error,
                       Catch::Message(prefix + "sample 0: node 'animal' is not a label node (kind: root)"));
  CHECK_THROWS_MATCHES(make({pets.node("cat"), 9999}), argument_error,
                       Catch::Message(prefix + "sample 1: node id 9999 is outside the graph (34 nodes)"));
  CHECK_THROWS_MATCHES(make(pets.nodes({"cat", "british-shorthair"}), {.steps = 3}), limit_error,
                       Catch::Message(prefix + "sample 1: a path of node 'british-shorthair' needs 4 steps (exact mode), "
                                               "longer than steps = 3"));
  CHECK_NOTHROW(make(pets.nodes({"cat", "british-shorthair"}), {.mode = target_mode::prefix, .steps = 3}));
  const std::vector<target_mode> one_mode = {target_mode::exact};
  CHECK_THROWS_MATCHES(make(pets.nodes({"cat", "dog"}), {.sample_modes = one_mode}), argument_error,
                       Catch::Message(prefix + "sample_modes has 1 entries for 2 samples"));
  const label_graph other = read_graph_json(LABELGRAPH_SOURCE_DIR "/examples/graphs/pets.json");
  const output_layout layout = make_output_layout(other);
  CHECK_NOTHROW(make_path_targets(other, layout, pets.table, pets.nodes({"cat"})));  // same shape: accepted
}
