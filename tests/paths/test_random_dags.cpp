// Property tests: on hundreds of seeded random DAGs with multi-parent nodes
// and random declared groups, every path algorithm agrees with a brute-force
// implementation written straight from the definitions.

#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <functional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "labelgraph/graph/graph_builder.hpp"
#include "labelgraph/paths.hpp"
#include "path_checks.hpp"

using namespace labelgraph;

namespace {

using path = std::vector<node_id>;

/// A random DAG: node i > 0 gets 1..3 parents among nodes < i (node 0 is the
/// root), about 60% labels, and up to 3 declared groups whose members are
/// pairwise neither ancestor nor descendant of each other; every other node
/// falls to the sibling rule.
label_graph random_graph(std::uint32_t seed) {
  std::mt19937 rng(seed);
  auto uniform = [&](std::size_t lo, std::size_t hi) { return std::uniform_int_distribution<std::size_t>(lo, hi)(rng); };
  const std::size_t n = uniform(2, 24);
  auto name = [](std::size_t i) { return "n" + std::to_string(i); };

  graph_builder builder("random-" + std::to_string(seed));
  builder.add_dataset("d");
  builder.add_node(name(0), node_kind::root);
  std::vector<std::uint64_t> ancestors(n, 0);  // bit a set: a is an ancestor of i
  for (std::size_t i = 1; i < n; ++i) {
    bool label = uniform(0, 9) < 6;
    builder.add_node(name(i), label ? node_kind::label : node_kind::augmented,
                     label ? std::vector<std::string>{"d"} : std::vector<std::string>{});
    std::vector<std::size_t> candidates(i);
    for (std::size_t c = 0; c < i; ++c) candidates[c] = c;
    std::shuffle(candidates.begin(), candidates.end(), rng);
    const std::size_t parent_count = uniform(1, std::min<std::size_t>(i, 3));
    for (std::size_t k = 0; k < parent_count; ++k) {
      builder.add_edge(name(candidates[k]), name(i));
      ancestors[i] |= ancestors[candidates[k]] | (std::uint64_t{1} << candidates[k]);
    }
  }
  auto related = [&](std::size_t a, std::size_t b) { return ((ancestors[a] >> b) & 1) || ((ancestors[b] >> a) & 1); };
  std::vector<std::size_t> free_nodes;
  for (std::size_t i = 1; i < n; ++i) free_nodes.push_back(i);
  std::shuffle(free_nodes.begin(), free_nodes.end(), rng);
  const std::size_t group_count = uniform(0, 3);
  for (std::size_t g = 0; g < group_count && !free_nodes.empty(); ++g) {
    const std::size_t wanted = uniform(1, 4);
    std::vector<std::size_t> members;
    for (auto it = free_nodes.begin(); it != free_nodes.end() && members.size() < wanted;) {
      if (std::none_of(members.begin(), members.end(), [&](std::size_t m) { return related(m, *it); })) {
        members.push_back(*it);
        it = free_nodes.erase(it);
      } else {
        ++it;
      }
    }
    std::vector<std::string> member_names;
    for (std::size_t m : members) member_names.push_back(name(m));
    builder.add_group("g" + std::to_string(g), member_names);
  }
  return builder.build();
}

/// All root-to-target paths by forward depth-first search from the root.
std::vector<path> brute_paths(const label_graph& graph, node_id target) {
  std::vector<path> found;
  path current{graph.root()};
  std::function<void()> extend = [&] {
    if (current.back() == target) {
      found.push_back(current);
      return;
    }
    for (node_id child : graph.children(current.back())) {
      current.push_back(child);
      extend();
      current.pop_back();
    }
  };
  extend();
  return found;
}

/// Def. 3.3 literally: P is nondeterministic iff another path P' of the same
/// target holds a node w competing (Def. 3.1) with a node u of P.
bool brute_deterministic(const label_graph& graph, const std::vector<path>& all, const path& p) {
  for (const path& other : all) {
    if (other == p) continue;
    for (node_id u : p) {
      for (node_id w : other) {
        if (graph.competes(u, w)) return false;
      }
    }
  }
  return true;
}

/// The choice indices of a path read from the target back to the root: entry j
/// is the index, among the parents of the j-th node from the end, of the next one.
std::vector<std::size_t> parent_choices(const label_graph& graph, std::span<const node_id> p) {
  std::vector<std::size_t> choices;
  for (std::size_t i = p.size() - 1; i > 0; --i) {
    auto parents = graph.parents(p[i]);
    choices.push_back(static_cast<std::size_t>(std::find(parents.begin(), parents.end(), p[i - 1]) - parents.begin()));
  }
  return choices;
}

}  // namespace

TEST_CASE("random DAGs: counting and enumeration and classification and ground truth agree with brute force") {
  constexpr std::uint32_t graphs = 400;
  std::size_t paths_seen = 0, nondeterministic_seen = 0, multi_parent_nodes = 0;
  for (std::uint32_t seed = 1; seed <= graphs; ++seed) {
    INFO("seed " << seed);
    const label_graph graph = random_graph(seed);
    const output_layout layout = make_output_layout(graph);
    const path_counts counts = count_paths(graph);
    const target_table table = make_target_table(graph, layout);
    ancestor_walk walk(graph);
    std::uint64_t label_total = 0;
    std::size_t longest = 0;
    for (node_id target = 0; target < graph.node_count(); ++target) {
      INFO("target " << graph.name(target));
      multi_parent_nodes += graph.parents(target).size() > 1 ? 1 : 0;
      const std::vector<path> brute = brute_paths(graph, target);

      // Counting and enumeration.
      REQUIRE(counts.of(target) == brute.size());
      REQUIRE_FALSE(counts.overflowed(target));
      std::vector<path> enumerated;
      std::vector<std::size_t> previous_choices;
      for (std::span<const node_id> p : enumerate_paths(graph, target)) {
        path_checks::require_root_to_target_path(graph, p, target);
        std::vector<std::size_t> choices = parent_choices(graph, p);
        if (!enumerated.empty()) REQUIRE(previous_choices < choices);  // documented order: strictly increasing
        previous_choices = std::move(choices);
        enumerated.emplace_back(p.begin(), p.end());
      }
      REQUIRE(enumerated.size() == brute.size());
      REQUIRE(std::set<path>(enumerated.begin(), enumerated.end()).size() == enumerated.size());  // distinct
      REQUIRE(std::set<path>(enumerated.begin(), enumerated.end()) == std::set<path>(brute.begin(), brute.end()));

      // Classification: batch, streaming with a shared workspace, and counted.
      const auto classified = classify_paths(graph, target);
      REQUIRE(classified.size() == enumerated.size());
      path_classifier streaming(walk, target);
      std::uint64_t deterministic = 0;
      for (std::size_t i = 0; i < classified.size(); ++i) {
        REQUIRE(classified[i].nodes == enumerated[i]);
        const bool expected = brute_deterministic(graph, brute, classified[i].nodes);
        REQUIRE(classified[i].deterministic == expected);
        REQUIRE(streaming.deterministic(classified[i].nodes) == expected);
        deterministic += expected ? 1 : 0;
      }
      REQUIRE(streaming.has_nondeterministic_path() == (deterministic < classified.size()));
      const determinism_counts split = count_path_determinism(walk, target);
      REQUIRE(split.deterministic == checked_count{deterministic, false});
      REQUIRE(split.nondeterministic == checked_count{classified.size() - deterministic, false});
      paths_seen += classified.size();
      nondeterministic_seen += classified.size() - deterministic;

      // U(v) and S(y).
      std::set<node_id> on_paths, labels_on_paths;
      for (const path& p : brute) {
        for (node_id node : p) {
          on_paths.insert(node);
          if (graph.is_label(node)) labels_on_paths.insert(node);
        }
      }
      REQUIRE(path_nodes(graph, target) == std::vector<node_id>(on_paths.begin(), on_paths.end()));
      if (graph.is_label(target)) {
        REQUIRE(ground_truth_set(walk, target) == std::vector<node_id>(labels_on_paths.begin(), labels_on_paths.end()));
        label_total += brute.size();
      } else {
        REQUIRE_THROWS_AS(ground_truth_set(walk, target), argument_error);
      }

      // Target table rows are the classified paths, as tokens.
      auto rows = table.paths_of(target);
      REQUIRE(rows.size() == (graph.is_label(target) ? classified.size() : 0));
      std::size_t i = 0;
      for (path_index row : rows) {
        path_checks::require_token_sequence_of(graph, layout, table.tokens(row), classified[i].nodes);
        REQUIRE(table.deterministic(row) == classified[i].deterministic);
        longest = std::max(longest, classified[i].nodes.size());
        ++i;
      }
    }
    REQUIRE(path_total(counts) == label_total);
    REQUIRE(table.path_count() == label_total);
    REQUIRE(table.max_length() == longest);
  }
  // The generator really produces the interesting cases.
  CHECK(paths_seen > 20 * graphs);  // 24,304 paths with these seeds
  CHECK(multi_parent_nodes > graphs);
  CHECK(nondeterministic_seen > 0);
  CHECK(nondeterministic_seen < paths_seen);
}

TEST_CASE("random DAGs: re-targeted ranges, classifiers and group finders match the one-target forms") {
  constexpr std::uint32_t graphs = 300;
  std::size_t interrupted = 0, contested_seen = 0;
  for (std::uint32_t seed = 1; seed <= graphs; ++seed) {
    INFO("seed " << seed);
    const label_graph graph = random_graph(seed);
    // One of each workspace for the whole graph, aimed at every target twice in
    // a shuffled order: whatever the previous target left behind must not leak.
    path_range range(graph);
    path_classifier classifier(graph);
    contested_group_finder finder(graph);
    ancestor_walk walk(graph);
    std::vector<node_id> targets;
    for (node_id node = 0; node < graph.node_count(); ++node) targets.insert(targets.end(), {node, node});
    std::mt19937 rng(seed);
    std::shuffle(targets.begin(), targets.end(), rng);
    for (node_id target : targets) {
      INFO("target " << graph.name(target));
      std::vector<path> expected;
      for (std::span<const node_id> p : enumerate_paths(graph, target)) expected.emplace_back(p.begin(), p.end());
      const std::vector<group_id> contested = contested_groups(graph, target);  // the sort-based form
      contested_seen += contested.empty() ? 0 : 1;

      range.retarget(target);
      REQUIRE(range.target() == target);
      std::vector<path> enumerated;
      for (std::span<const node_id> p : range) enumerated.emplace_back(p.begin(), p.end());
      REQUIRE(enumerated == expected);  // same paths, same order
      REQUIRE(range.produced() == expected.size());

      classifier.retarget(target);
      REQUIRE(classifier.target() == target);
      const path_classifier one_off(graph, target);
      REQUIRE(std::vector<group_id>(classifier.contested_groups().begin(), classifier.contested_groups().end()) ==
              contested);
      REQUIRE(classifier.has_nondeterministic_path() == one_off.has_nondeterministic_path());
      for (const path& p : expected) REQUIRE(classifier.deterministic(p) == one_off.deterministic(p));

      std::span<const group_id> found = finder.find(walk, target);
      REQUIRE(std::vector<group_id>(found.begin(), found.end()) == contested);

      std::span<const node_id> unordered = walk.path_nodes_unordered(target);
      REQUIRE(unordered.front() == target);
      std::vector<node_id> sorted(unordered.begin(), unordered.end());
      std::sort(sorted.begin(), sorted.end());
      REQUIRE(sorted == path_nodes(graph, target));
      std::size_t contained = 0;
      for (node_id node = 0; node < graph.node_count(); ++node) contained += walk.contains(node) ? 1 : 0;
      REQUIRE(contained == sorted.size());

      // Re-aiming in the middle of an enumeration abandons the old target cleanly.
      if (expected.size() > 1) {
        range.retarget(target);
        REQUIRE(range.next());
        REQUIRE(range.next());
        ++interrupted;
      }
    }
  }
  CHECK(interrupted > graphs);
  CHECK(contested_seen > graphs / 4);
}
