// WordNet reader: the fixture in tests/wordnet/data (exact records and graph),
// malformed input (every problem reported with file, line and synset offset),
// and the real WordNet 3.0 noun file when it is installed.

#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <span>
#include <string>
#include <vector>

#include "labelgraph/graph/wordnet.hpp"
#include "labelgraph/paths/count.hpp"

using namespace labelgraph;

namespace {

const std::filesystem::path fixture_dir = LABELGRAPH_WORDNET_FIXTURES;
const std::filesystem::path wordnet_dir = LABELGRAPH_WORDNET_DIR;

/// Writes `lines` to a fresh data.noun in its own temporary folder.
std::filesystem::path write_data_noun(const std::string& test_name, const std::vector<std::string>& lines) {
  auto dir = std::filesystem::temp_directory_path() / ("labelgraph-wordnet-" + test_name);
  std::filesystem::create_directories(dir);
  std::ofstream out(dir / "data.noun", std::ios::binary);
  out << "  1 license header line  \n  2   \n";
  for (const auto& line : lines) out << line << "  \n";
  return dir;
}

graph_error wordnet_error(const std::filesystem::path& dir) {
  try {
    (void)read_wordnet(dir);
  } catch (const graph_error& e) {
    return e;
  }
  FAIL("read_wordnet accepted " << dir.string());
  return graph_error(std::vector<graph_problem>{});
}

std::vector<std::string> names_of(const label_graph& graph, std::span<const node_id> nodes) {
  std::vector<std::string> names;
  for (node_id node : nodes) names.emplace_back(graph.name(node));
  std::sort(names.begin(), names.end());
  return names;
}

const std::string entity_line = "00001740 03 n 01 entity 0 000 | the root";

}  // namespace

TEST_CASE("read_wordnet_synsets returns the fields of every synset line") {
  const auto synsets = read_wordnet_synsets(fixture_dir);
  REQUIRE(synsets.size() == 10);

  const wordnet_synset& entity = synsets[0];
  CHECK(entity.offset == 1740);
  CHECK(entity.lex_filenum == 3);
  CHECK(wordnet_lexicographer_file(entity.lex_filenum) == "noun.Tops");
  CHECK(entity.lemmas == std::vector<std::string>{"entity"});
  CHECK(entity.hypernyms.empty());
  CHECK(entity.instance_hypernyms.empty());
  CHECK(entity.gloss == "that which is perceived or known or inferred to have its own distinct existence");
  CHECK(entity.line == 4);

  const wordnet_synset& thing = synsets[3];
  CHECK(thing.lemmas == std::vector<std::string>{"thing"});
  CHECK(thing.hypernyms == std::vector<std::uint32_t>{1930, 2137});
  CHECK(thing.gloss == "a separate and self-contained entity; \"a thing of beauty\"");

  // '+' (derivation, pos v) and '-c' pointers are read and skipped.
  CHECK(synsets[4].lemmas == std::vector<std::string>{"object", "physical_object"});
  CHECK(synsets[4].hypernyms == std::vector<std::uint32_t>{1930});
  CHECK(synsets[5].hypernyms == std::vector<std::uint32_t>{2684, 2452});
  CHECK(synsets[6].lex_filenum == 27);
  CHECK(wordnet_lexicographer_file(27) == "noun.substance");
  CHECK(wordnet_lexicographer_file(200) == "?");

  const wordnet_synset& hegira = synsets[8];
  CHECK(hegira.lemmas == std::vector<std::string>{"Hegira", "Hejira"});
  CHECK(hegira.hypernyms.empty());
  CHECK(hegira.instance_hypernyms == std::vector<std::uint32_t>{2137});
  CHECK(wordnet_node_name(hegira) == "Hegira.n.00060548");

  // w_cnt is hexadecimal (0b = 11 words), lex_id one hex digit.
  const wordnet_synset& eleven = synsets[9];
  REQUIRE(eleven.lemmas.size() == 11);
  CHECK(eleven.lemmas[0] == "St._Louis_Cardinals");
  CHECK(eleven.lemmas[1] == "rock_'n'_roll");
  CHECK(eleven.lemmas[10] == "i");
  CHECK(eleven.hypernyms == std::vector<std::uint32_t>{3553});
  CHECK(wordnet_node_name(eleven) == "St._Louis_Cardinals.n.00003993");

  // A path to the file itself works as well as its folder.
  CHECK(read_wordnet_synsets(fixture_dir / "data.noun").size() == 10);
}

TEST_CASE("read_wordnet makes one label node per synset and one edge per (instance) hypernym") {
  const label_graph graph = read_wordnet(fixture_dir);
  REQUIRE(graph.node_count() == 10);
  CHECK(graph.edge_count() == 11);
  CHECK(graph.name(graph.root()) == "entity.n.00001740");
  CHECK(graph.kind(graph.root()) == node_kind::root);
  CHECK(graph.datasets(graph.root()).empty());
  REQUIRE(graph.dataset_count() == 1);
  CHECK(graph.dataset_name(0) == "wordnet-nouns");
  for (node_id node = 0; node < graph.node_count(); ++node) {
    if (node == graph.root()) continue;
    CHECK(graph.is_label(node));
    CHECK(graph.datasets(node).size() == 1);
  }

  const node_id whole = graph.at("whole.n.00003553");
  CHECK(names_of(graph, graph.parents(whole)) == std::vector<std::string>{"object.n.00002684", "thing.n.00002452"});
  CHECK(names_of(graph, graph.parents(graph.at("Hegira.n.00060548"))) ==
        std::vector<std::string>{"abstraction.n.00002137"});
  CHECK(names_of(graph, graph.children(graph.at("abstraction.n.00002137"))) ==
        std::vector<std::string>{"Hegira.n.00060548", "measure.n.00033615", "thing.n.00002452"});

  // Sibling rule: the same hypernym set competes, '@i' counting like '@'.
  CHECK(graph.competes(graph.at("physical_entity.n.00001930"), graph.at("abstraction.n.00002137")));
  CHECK(graph.competes(graph.at("object.n.00002684"), graph.at("matter.n.00020827")));
  CHECK(graph.competes(graph.at("measure.n.00033615"), graph.at("Hegira.n.00060548")));
  CHECK_FALSE(graph.competes(graph.at("thing.n.00002452"), graph.at("object.n.00002684")));
  CHECK(graph.group_count() == 6);
  for (group_id g = 0; g < graph.group_count(); ++g) CHECK_FALSE(graph.group_declared(g));

  // Multi-parent paths: thing 2, whole 1 + 2, the 11-lemma synset under whole 3.
  const path_counts counts = count_paths(graph);
  CHECK(counts.of(graph.at("thing.n.00002452")) == 2);
  CHECK(counts.of(whole) == 3);
  CHECK(counts.of(graph.at("St._Louis_Cardinals.n.00003993")) == 3);
  CHECK(path_total(counts) == 14);
}

TEST_CASE("CRLF line ends and blank lines are tolerated") {
  const auto dir = std::filesystem::temp_directory_path() / "labelgraph-wordnet-crlf";
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "data.noun", std::ios::binary)
      << "  1 header  \r\n\r\n" << entity_line << "  \r\n"
      << "00001930 03 n 01 physical_entity 0 001 @ 00001740 n 0000 | an entity that has physical existence  \r\n";
  const auto synsets = read_wordnet_synsets(dir);
  REQUIRE(synsets.size() == 2);
  CHECK(synsets[1].gloss == "an entity that has physical existence");
  CHECK(synsets[1].line == 4);
  const label_graph graph = read_wordnet(dir);
  CHECK(graph.edge_count() == 1);
  CHECK(graph.parents(graph.at("physical_entity.n.00001930")).front() == graph.root());
}

TEST_CASE("malformed synset lines are all reported with file, line and synset offset") {
  const auto dir = write_data_noun(
      "malformed", {
                       entity_line,                                                            // line 3
                       "00001930 03 n 0g physical_entity 0 001 @ 00001740 n 0000 | bad w_cnt",  // 4
                       "00002137 03 n 01 abstraction 0 001 @ 00001740 n 0000 @ 00001740 n 0000 | p_cnt too small",
                       "00002452 03 n 01 thing 0 001 @ 00001740 n 0000",                          // 6: no gloss
                       "00002684 03 n 01 object 0 001 @ 0000174 n 0000 | short pointer offset",   // 7
                       "00003553 03 n 01 whole 0 001 @ 00009999 n 0000 | unknown hypernym",       // 8
                       "00001740 03 n 01 entity_again 0 001 @ 00003553 n 0000 | duplicate",       // 9
                       "00004258 03 v 01 living_thing 0 000 | not a noun",                        // 10
                       "0004475 03 n 01 organism 0 000 | short offset",                            // 11
                       "00005787 03 n 01 benthos 0 001 @ 00001740 v 0000 | verb hypernym",       // 12
                       "00005930 03 n 01 dwarf x 000 | bad lex_id",                                // 13
                   });
  const graph_error error = wordnet_error(dir);
  const std::string file = (dir / "data.noun").string();
  const std::vector<std::string> expected = {
      file + ":4: synset 00001930: w_cnt '0g' is not a 2-digit hexadecimal number >= 1",
      file + ":5: synset 00002137: unexpected text '@' after the 1 pointers (p_cnt too small?)",
      file + ":6: synset 00002452: no '|' before the gloss",
      file + ":7: synset 00002684: pointer 1 of 1 is not 'symbol offset pos source/target' (8-digit offset, pos in "
             "nvasr, 4 hex digits)",
      file + ":10: synset 00004258: ss_type 'v' is not 'n' (data.noun holds noun synsets only)",
      file + ":11: synset_offset '0004475' is not an 8-digit decimal number",
      file + ":12: synset 00005787: hypernym pointer to 00001740 has pos 'v', not 'n'",
      file + ":13: synset 00005930: word 1 of 1 is missing or its lex_id is not one hexadecimal digit",
      file + ":9: synset 00001740: offset appears twice (first on line 3)",
      file + ":8: synset 00003553: hypernym pointer to 00009999, which is not a synset in the file",
  };
  std::vector<std::string> reported;
  for (const auto& problem : error.problems()) reported.push_back(problem.str());
  CHECK(reported == expected);
  CHECK(error.problems()[0].where.line == 4);
  CHECK(error.problems()[0].where.source == file);
}

TEST_CASE("a file with many bad lines reports a bounded number of problems and counts the rest") {
  std::vector<std::string> lines{entity_line};
  for (int i = 0; i < 50; ++i) lines.push_back(std::to_string(10'000'000 + i) + " 03 n zz word 0 000 | bad w_cnt");
  const graph_error error = wordnet_error(write_data_noun("many", lines));
  REQUIRE(error.problems().size() == graph_builder::max_problems_per_rule + 1);
  CHECK(error.problems().front().where.line == 4);
  CHECK(error.problems().back().message == "... and 30 more problems");
}

TEST_CASE("WordNet pointers that do not make a single-rooted DAG are graph errors naming the synsets") {
  SECTION("a second synset without hypernyms is a second root") {
    const graph_error error =
        wordnet_error(write_data_noun("two-roots", {entity_line, "00001930 03 n 01 other_top 0 000 | no hypernym"}));
    CHECK_THAT(error.what(), Catch::Contains(":4: second root node 'other_top.n.00001930'"));
  }
  SECTION("a hypernym cycle") {
    const graph_error error = wordnet_error(
        write_data_noun("cycle", {entity_line, "00001930 03 n 01 a 0 002 @ 00001740 n 0000 @ 00002137 n 0000 | a",
                                  "00002137 03 n 01 b 0 001 @ 00002452 n 0000 | b",
                                  "00002452 03 n 01 c 0 001 @ 00001930 n 0000 | c"}));
    CHECK_THAT(error.what(), Catch::Contains("cycle: ") && Catch::Contains("b.n.00002137") &&
                                 Catch::Contains("c.n.00002452") && Catch::Contains("a.n.00001930"));
  }
  SECTION("a missing file") {
    const auto dir = std::filesystem::temp_directory_path() / "labelgraph-wordnet-no-such-folder";
    const graph_error error = wordnet_error(dir);
    CHECK(std::string(error.what()) ==
          (dir / "data.noun").string() + ": cannot open WordNet noun data (expected WordNet 3.0 'data.noun')");
  }
}

TEST_CASE("the installed WordNet 3.0 noun DAG has the known size and shape") {
  if (!std::filesystem::exists(wordnet_dir / "data.noun")) {
    std::cout << "SKIPPED: no WordNet at " << wordnet_dir.string() << " (install wordnet-base)\n";
    WARN("SKIPPED: no WordNet at " << wordnet_dir.string());
    return;
  }
  const auto synsets = read_wordnet_synsets(wordnet_dir);
  CHECK(synsets.size() == 82'115);
  const label_graph graph = read_wordnet(wordnet_dir);
  REQUIRE(graph.node_count() == 82'115);
  CHECK(graph.edge_count() == 84'427);  // 75,850 '@' + 8,577 '@i'
  CHECK(graph.name(graph.root()) == "entity.n.00001740");

  const node_id dog = graph.at("dog.n.02084071");
  CHECK(names_of(graph, graph.parents(dog)) ==
        std::vector<std::string>{"canine.n.02083346", "domestic_animal.n.01317541"});
  // Sibling rule: wolf and fox share the hypernym set {canine}; dog's set is
  // {canine, domestic_animal}, so dog is alone in its group.
  CHECK(graph.competes(graph.at("wolf.n.02114100"), graph.at("fox.n.02118333")));
  CHECK_FALSE(graph.competes(dog, graph.at("wolf.n.02114100")));
  CHECK(graph.group_members(graph.group(dog)).size() == 1);

  const auto dog_synset = std::find_if(synsets.begin(), synsets.end(), [](const auto& s) { return s.offset == 2084071; });
  REQUIRE(dog_synset != synsets.end());
  CHECK(dog_synset->lemmas == std::vector<std::string>{"dog", "domestic_dog", "Canis_familiaris"});
  CHECK(wordnet_lexicographer_file(dog_synset->lex_filenum) == "noun.animal");
  CHECK(dog_synset->gloss.starts_with("a member of the genus Canis"));

  const path_counts counts = count_paths(graph);
  CHECK(counts.of(dog) == 2);
}
