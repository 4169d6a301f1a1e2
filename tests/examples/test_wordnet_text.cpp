// The WordNet gloss task of examples/wordnet_text: fine labels at a depth,
// lexicographer files, the label graph built from them (on the 13-line
// fixture of tests/wordnet, and on the installed WordNet when there is one),
// and micro-F1.
#include <catch2/catch.hpp>

#include <filesystem>
#include <iostream>
#include <map>
#include <string>

#include "wordnet_data.hpp"

namespace lg = labelgraph;
namespace lx = labelgraph::examples;

namespace {

const std::string fixtures = LABELGRAPH_WORDNET_FIXTURES;

/// The fine labels of the sample whose synset has first lemma `lemma`, as names.
std::vector<std::string> fine_names(const lx::wordnet_task& task, const std::string& lemma) {
  for (std::size_t s = 0; s < task.sample_synset.size(); ++s) {
    if (task.synsets[task.sample_synset[s]].lemmas.front() != lemma) continue;
    std::vector<std::string> names;
    for (std::uint32_t f : task.fine[s]) names.push_back(task.synsets[f].lemmas.front());
    std::sort(names.begin(), names.end());
    return names;
  }
  return {"(not a sample)"};
}

}  // namespace

TEST_CASE("wordnet task: fine labels are the ancestors-or-self at the depth", "[examples][wordnet_text]") {
  const lx::wordnet_task task = lx::read_wordnet_task(fixtures, 2);
  CHECK(task.sample_synset.size() == 7);  // not entity (0), physical_entity, abstraction (1)
  CHECK(fine_names(task, "thing") == std::vector<std::string>{"thing"});
  CHECK(fine_names(task, "whole") == std::vector<std::string>{"object", "thing"});            // two hypernyms
  CHECK(fine_names(task, "St._Louis_Cardinals") == std::vector<std::string>{"object", "thing"});  // inherited
  CHECK(fine_names(task, "Hegira") == std::vector<std::string>{"Hegira"});                    // @i counts
  CHECK(fine_names(task, "entity") == std::vector<std::string>{"(not a sample)"});
  CHECK_THROWS_WITH(lx::read_wordnet_task(fixtures, 0), Catch::Contains("--depth must be at least 1"));
  CHECK_THROWS_WITH(lx::read_wordnet_task(fixtures, 9), Catch::Contains("no synset lies that deep"));
  CHECK_THROWS_WITH(lx::read_wordnet_task(fixtures + "/nowhere", 2), Catch::Contains("nowhere/data.noun"));
  CHECK(lx::gloss_definition("a separate and self-contained entity; \"a thing of beauty\"") ==
        "a separate and self-contained entity");
}

TEST_CASE("wordnet label graph: files, per-file hypernym copies, shared fine labels", "[examples][wordnet_text]") {
  const lx::wordnet_task task = lx::read_wordnet_task(fixtures, 2);
  const lx::wordnet_label_space space = lx::make_wordnet_label_space(task);
  const lg::label_graph& g = space.graph;
  // 3 files (noun.Tops, noun.act, noun.substance) + 4 copies + 5 fine labels + EOP.
  CHECK(space.layout.token_count() == 13);
  CHECK(space.fine_node.size() == 5);
  CHECK(g.kind(g.at("noun.Tops/physical_entity.n.00001930")) == lg::node_kind::augmented);
  CHECK(g.kind(g.at("noun.substance/physical_entity.n.00001930")) == lg::node_kind::augmented);
  CHECK(g.find("noun.act/physical_entity.n.00001930") == lg::no_node);  // Hegira is an abstraction only
  // `thing` has two routes inside noun.Tops whose first nodes compete: uncertain even when the file is known.
  const lg::node_id thing = g.at("thing.n.00002452");
  CHECK(space.table.paths_of(thing).size() == 2);
  CHECK(space.uncertain[thing] == 1);
  const auto known = space.paths_through(thing, g.at("noun.Tops"));
  CHECK(known.uncertain);
  CHECK(known.deterministic.empty());
  // `object` has one path: deterministic.
  CHECK(space.uncertain[g.at("object.n.00002684")] == 0);
  // Every sample's (file, fine label) pair is a path of the graph.
  for (std::size_t s = 0; s < task.sample_synset.size(); ++s) {
    for (int c : space.sample_fine[s]) {
      CHECK_NOTHROW(space.paths_through(space.fine_node[static_cast<std::size_t>(c)], space.coarse_node[task.lexfile[s]]));
    }
  }
  // Depth 1: fine labels hang directly under the files.
  const lx::wordnet_label_space shallow = lx::make_wordnet_label_space(lx::read_wordnet_task(fixtures, 1));
  CHECK(shallow.fine_node.size() == 2);
  CHECK(shallow.table.max_length() == 3);  // file, fine label, EOP
}

TEST_CASE("wordnet label graph of the installed WordNet: every sample's pair is a path", "[examples][wordnet_text]") {
  if (!std::filesystem::exists(std::string(lx::default_wordnet_directory) + "/data.noun")) {
    std::cout << "SKIPPED: no WordNet at " << lx::default_wordnet_directory << " (install wordnet-base)\n";
    WARN("SKIPPED: no WordNet at " << lx::default_wordnet_directory);
    return;
  }
  const lx::wordnet_task task = lx::read_wordnet_task(lx::default_wordnet_directory, 3);
  const lx::wordnet_label_space space = lx::make_wordnet_label_space(task);
  CHECK(task.sample_synset.size() == 82089);
  CHECK(space.fine_node.size() == 228);
  CHECK(space.layout.token_count() == 485);  // 26 files, 230 copies, 228 fine labels, EOP
  std::map<std::pair<lg::node_id, lg::node_id>, bool> checked;
  std::size_t failures = 0;
  for (std::size_t s = 0; s < task.sample_synset.size(); ++s) {
    for (int c : space.sample_fine[s]) {
      const auto key = std::make_pair(space.fine_node[static_cast<std::size_t>(c)], space.coarse_node[task.lexfile[s]]);
      if (checked.contains(key)) continue;
      try {
        checked[key] = !space.paths_through(key.first, key.second).truth.empty();
      } catch (const lg::error&) {
        checked[key] = false;
        ++failures;
      }
    }
  }
  CHECK(failures == 0);
}

TEST_CASE("micro-F1 counts every predicted and true label", "[examples][wordnet_text]") {
  lx::micro_f1 score;
  CHECK(score.value() == 0.0);
  score.add({1}, {1, 2});  // TP 1, FN 1
  score.add({3}, {4});     // FP 1, FN 1
  score.add({}, {5});      // FN 1
  CHECK(score.true_positives == 1);
  CHECK(score.false_positives == 1);
  CHECK(score.false_negatives == 3);
  CHECK(score.value() == Approx(2.0 / (2.0 + 1.0 + 3.0)));
}
