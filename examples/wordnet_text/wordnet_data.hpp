#pragma once
/// \file
/// WordNet 3.0 nouns as a fine / coarse text classification task (the
/// paper's Arxiv pattern), and its label graph. README.md next to this file
/// explains the choices.
///
/// - A *sample* is a noun synset; its input is its gloss's definition (the
///   text before the first quoted example).
/// - Its *fine labels* are its ancestors-or-self at depth `depth` of the
///   hypernym DAG (`@` and `@i` pointers), depth = the length of the shortest
///   hypernym chain to `entity` (0). A synset reaching depth `depth` through
///   different hypernyms has several fine labels; one shallower than `depth`
///   with no such ancestor is not a sample.
/// - Its *coarse label* is its lexicographer file (`noun.animal`, ...: the
///   26 noun files of lexnames(5WN), `lex_filenum` 3..28).
///
/// The label graph: root `noun` -> one label node per lexicographer file
/// (dataset `wordnet-coarse`) -> per file, a copy of the hypernyms of depth
/// 1..depth-1 above the fine labels that have samples in that file
/// (augmented nodes `noun.animal/organism.n.00004475`) -> the fine labels
/// (dataset `wordnet-fine`, shared by every file they have samples in).

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <iterator>
#include <map>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "labelgraph/graph/graph_builder.hpp"
#include "labelgraph/graph/wordnet.hpp"
#include "path_label_space.hpp"
#include "text_encoder.hpp"

namespace labelgraph::examples {

/// Where Debian's `wordnet-base` installs WordNet 3.0.
inline constexpr const char* default_wordnet_directory = "/usr/share/wordnet";

/// The definition part of a gloss: up to the first `; "` (the examples), trimmed.
[[nodiscard]] inline std::string gloss_definition(const std::string& gloss) {
  std::string text = gloss.substr(0, std::min(gloss.find("; \""), gloss.find('"')));
  while (!text.empty() && (text.back() == ' ' || text.back() == ';')) text.pop_back();
  return text;
}

/// The samples of the task and the WordNet structure the label graph needs.
struct wordnet_task {
  std::size_t depth = 0;                               ///< depth of the fine labels
  std::vector<wordnet_synset> synsets;                 ///< every noun synset, file order
  std::vector<std::uint32_t> synset_depth;             ///< shortest hypernym chain to the root
  std::vector<std::uint32_t> sample_synset;            ///< sample -> synset index
  std::vector<std::vector<std::uint32_t>> fine;        ///< sample -> fine label synsets (sorted)
  std::vector<std::uint8_t> lexfile;                   ///< sample -> lex_filenum
  std::vector<std::vector<std::uint32_t>> hypernyms;   ///< synset -> hypernym synset indices (@ and @i)
};

/// Reads `dir/data.noun` (a missing or malformed file raises `graph_error`
/// naming it) and derives the samples with fine labels at `depth` (>= 1).
[[nodiscard]] inline wordnet_task read_wordnet_task(const std::filesystem::path& dir, std::size_t depth) {
  if (depth == 0) LABELGRAPH_THROW(argument_error("--depth must be at least 1 (depth 0 is the root, entity)"));
  wordnet_task task;
  task.depth = depth;
  task.synsets = read_wordnet_synsets(dir);
  const std::size_t n = task.synsets.size();
  std::unordered_map<std::uint32_t, std::uint32_t> at;
  for (std::uint32_t i = 0; i < n; ++i) at.emplace(task.synsets[i].offset, i);
  task.hypernyms.resize(n);
  std::vector<std::vector<std::uint32_t>> hyponyms(n);
  std::vector<std::uint32_t> roots;
  for (std::uint32_t i = 0; i < n; ++i) {
    for (const auto* list : {&task.synsets[i].hypernyms, &task.synsets[i].instance_hypernyms}) {
      for (std::uint32_t offset : *list) {
        const std::uint32_t h = at.at(offset);  // read_wordnet_synsets checked every pointer
        task.hypernyms[i].push_back(h);
        hyponyms[h].push_back(i);
      }
    }
    if (task.hypernyms[i].empty()) roots.push_back(i);
  }
  if (roots.size() != 1) {
    LABELGRAPH_THROW(error(detail::wordnet_noun_file(dir).string() + ": expected one synset without hypernyms (entity), found " +
                           std::to_string(roots.size())));
  }
  // Depth: breadth-first from the root (shortest chains). Fine labels: Kahn's
  // topological order, each synset's set is the union of its hypernyms' sets
  // (plus itself at the fine depth).
  constexpr std::uint32_t unset = 0xffffffffu;
  task.synset_depth.assign(n, unset);
  std::vector<std::uint32_t> order{roots.front()};
  task.synset_depth[roots.front()] = 0;
  for (std::size_t k = 0; k < order.size(); ++k) {
    for (std::uint32_t c : hyponyms[order[k]]) {
      if (task.synset_depth[c] == unset) {
        task.synset_depth[c] = task.synset_depth[order[k]] + 1;
        order.push_back(c);
      }
    }
  }
  std::vector<std::uint32_t> waiting(n);
  for (std::uint32_t i = 0; i < n; ++i) waiting[i] = static_cast<std::uint32_t>(task.hypernyms[i].size());
  std::vector<std::vector<std::uint32_t>> fine(n);
  std::vector<std::uint32_t> ready{roots.front()};
  while (!ready.empty()) {
    const std::uint32_t v = ready.back();
    ready.pop_back();
    if (task.synset_depth[v] == depth) fine[v].push_back(v);
    std::sort(fine[v].begin(), fine[v].end());
    fine[v].erase(std::unique(fine[v].begin(), fine[v].end()), fine[v].end());
    for (std::uint32_t c : hyponyms[v]) {
      fine[c].insert(fine[c].end(), fine[v].begin(), fine[v].end());
      if (--waiting[c] == 0) ready.push_back(c);
    }
  }
  for (std::uint32_t i = 0; i < n; ++i) {
    if (fine[i].empty()) continue;
    task.sample_synset.push_back(i);
    task.fine.push_back(std::move(fine[i]));
    task.lexfile.push_back(task.synsets[i].lex_filenum);
  }
  if (task.sample_synset.empty()) {
    LABELGRAPH_THROW(argument_error("--depth " + std::to_string(depth) + ": no synset lies that deep"));
  }
  return task;
}

/// The glosses' definitions of every sample, hashed into `buckets`.
[[nodiscard]] inline text_set sample_texts(const wordnet_task& task, std::uint32_t buckets) {
  text_set texts;
  texts.buckets = buckets;
  for (std::uint32_t s : task.sample_synset) texts.add(gloss_definition(task.synsets[s].gloss));
  return texts;
}

/// The label space of the task: `fine_node` lists the fine labels in synset
/// order; `coarse_node[lex_filenum]` is the coarse label node (or `no_node`).
struct wordnet_label_space : path_label_space {
  std::vector<node_id> coarse_node;          ///< lex_filenum -> coarse label node
  std::vector<std::vector<int>> sample_fine; ///< sample -> its fine classes (indices into fine_node), sorted
};

/// Builds the label graph described in the file comment and its label space.
[[nodiscard]] inline wordnet_label_space make_wordnet_label_space(const wordnet_task& task) {
  const std::size_t n = task.synsets.size();
  // Lexicographer files of each fine label's samples.
  std::map<std::uint32_t, std::set<std::uint8_t>> fine_files;
  for (std::size_t s = 0; s < task.sample_synset.size(); ++s) {
    for (std::uint32_t f : task.fine[s]) fine_files[f].insert(task.lexfile[s]);
  }
  // Per file, the hypernyms of depth 1..depth-1 above its fine labels (walk up from each fine label).
  std::set<std::pair<std::uint8_t, std::uint32_t>> copies;
  for (const auto& [f, files] : fine_files) {
    std::vector<std::uint32_t> stack(task.hypernyms[f].begin(), task.hypernyms[f].end());
    std::vector<std::uint8_t> seen(n, 0);
    while (!stack.empty()) {
      const std::uint32_t h = stack.back();
      stack.pop_back();
      if (seen[h] != 0 || task.synset_depth[h] == 0 || task.synset_depth[h] >= task.depth) continue;
      seen[h] = 1;
      for (std::uint8_t file : files) copies.emplace(file, h);
      stack.insert(stack.end(), task.hypernyms[h].begin(), task.hypernyms[h].end());
    }
  }
  const auto file_name = [](std::uint8_t file) { return std::string(wordnet_lexicographer_file(file)); };
  const auto synset_name = [&](std::uint32_t s) { return wordnet_node_name(task.synsets[s]); };
  const auto copy_name = [&](std::uint8_t file, std::uint32_t s) { return file_name(file) + "/" + synset_name(s); };

  graph_builder builder("WordNet nouns, fine labels at depth " + std::to_string(task.depth));
  builder.add_dataset("wordnet-fine");
  builder.add_dataset("wordnet-coarse");
  builder.add_node("noun", node_kind::root);
  std::set<std::uint8_t> files(task.lexfile.begin(), task.lexfile.end());
  for (std::uint8_t file : files) {
    builder.add_node(file_name(file), node_kind::label, {"wordnet-coarse"});
    builder.add_edge("noun", file_name(file));
  }
  for (const auto& [file, h] : copies) builder.add_node(copy_name(file, h), node_kind::augmented);
  for (const auto& [file, h] : copies) {
    if (task.synset_depth[h] == 1) builder.add_edge(file_name(file), copy_name(file, h));
    for (std::uint32_t p : task.hypernyms[h]) {
      if (copies.contains({file, p})) builder.add_edge(copy_name(file, p), copy_name(file, h));
    }
  }
  for (const auto& [f, fs] : fine_files) {
    builder.add_node(synset_name(f), node_kind::label, {"wordnet-fine"});
    for (std::uint8_t file : fs) {
      if (task.depth == 1) builder.add_edge(file_name(file), synset_name(f));
      for (std::uint32_t p : task.hypernyms[f]) {
        if (copies.contains({file, p})) builder.add_edge(copy_name(file, p), synset_name(f));
      }
    }
  }
  wordnet_label_space space;
  space.graph = builder.build();
  std::unordered_map<std::uint32_t, int> class_of;
  for (const auto& [f, fs] : fine_files) {
    class_of.emplace(f, static_cast<int>(space.fine_node.size()));
    space.fine_node.push_back(space.graph.at(synset_name(f)));
  }
  space.coarse_node.assign(256, no_node);
  for (std::uint8_t file : files) space.coarse_node[file] = space.graph.at(file_name(file));
  space.sample_fine.resize(task.sample_synset.size());
  for (std::size_t s = 0; s < task.sample_synset.size(); ++s) {
    for (std::uint32_t f : task.fine[s]) space.sample_fine[s].push_back(class_of.at(f));
    std::sort(space.sample_fine[s].begin(), space.sample_fine[s].end());
  }
  complete_label_space(space);
  return space;
}

/// Micro-averaged F1 of predicted label sets against true ones:
/// 2·TP / (2·TP + FP + FN) summed over every sample.
struct micro_f1 {
  std::size_t true_positives = 0;
  std::size_t false_positives = 0;
  std::size_t false_negatives = 0;

  /// Adds one sample (both sets sorted, without repeats).
  void add(const std::vector<int>& predicted, const std::vector<int>& truth) {
    std::vector<int> common;
    std::set_intersection(predicted.begin(), predicted.end(), truth.begin(), truth.end(), std::back_inserter(common));
    true_positives += common.size();
    false_positives += predicted.size() - common.size();
    false_negatives += truth.size() - common.size();
  }
  /// The score (0 when there is nothing to score).
  [[nodiscard]] double value() const noexcept {
    const std::size_t denominator = 2 * true_positives + false_positives + false_negatives;
    return denominator == 0 ? 0.0 : 2.0 * static_cast<double>(true_positives) / static_cast<double>(denominator);
  }
};

}  // namespace labelgraph::examples
