#pragma once
/// \file
/// WordNet 3.0 noun reader (`labelgraph import-wordnet`).
///
/// `read_wordnet_synsets` parses `data.noun` (format: wndb(5WN)) into plain
/// records; `read_wordnet` turns them into a `label_graph`: one `label` node per
/// noun synset (dataset `wordnet-nouns`), named `<first lemma>.n.<offset>`,
/// one edge hypernym -> synset per `@` and `@i` pointer, the synset without
/// hypernyms (`entity.n.00001740`) as the root, and groups by the default
/// sibling rule. A data line reads
///
///     synset_offset lex_filenum ss_type w_cnt word lex_id [word lex_id...]
///         p_cnt [ptr...] [frames...] | gloss
///
/// with `w_cnt` two hex digits, `lex_id` one hex digit, `p_cnt` three decimal
/// digits and each pointer `symbol offset pos source/target`; lines starting
/// with two spaces are the license header. The file is streamed line by line
/// and tokenised by hand (no regex): the whole import of 82,115 synsets takes
/// a small fraction of a second in a Release build.

#include <charconv>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <system_error>
#include <unordered_map>
#include <utility>
#include <vector>

#include "labelgraph/error.hpp"
#include "labelgraph/graph/graph_builder.hpp"
#include "labelgraph/graph/label_graph.hpp"

namespace labelgraph {

/// One noun synset of `data.noun`, as the file states it.
struct wordnet_synset {
  /// Byte offset of the synset in `data.noun`: its identity in WordNet.
  std::uint32_t offset = 0;
  /// Lexicographer file number (see `wordnet_lexicographer_file`).
  std::uint8_t lex_filenum = 0;
  /// The synonyms, as written in the file (underscores for spaces, case kept).
  std::vector<std::string> lemmas;
  /// Offsets of the `@` (hypernym) pointers.
  std::vector<std::uint32_t> hypernyms;
  /// Offsets of the `@i` (instance hypernym) pointers.
  std::vector<std::uint32_t> instance_hypernyms;
  /// The definition and examples after `|`, without surrounding blanks.
  std::string gloss;
  /// 1-based line in `data.noun`, for messages.
  std::size_t line = 0;
};

/// A synset offset as WordNet writes it: 8 decimal digits, e.g. `00001740`.
[[nodiscard]] inline std::string wordnet_offset_text(std::uint32_t offset) {
  std::string digits = std::to_string(offset);
  return std::string(digits.size() < 8 ? 8 - digits.size() : 0, '0') + digits;
}

/// The name `read_wordnet` gives a synset's node: the first lemma, `n` and
/// the 8-digit offset joined by dots, e.g. `entity.n.00001740`.
[[nodiscard]] inline std::string wordnet_node_name(const wordnet_synset& synset) {
  return (synset.lemmas.empty() ? std::string() : synset.lemmas.front()) + ".n." +
         wordnet_offset_text(synset.offset);
}

/// The lexicographer file a `lex_filenum` names (WordNet's `lexnames`), e.g.
/// 5 -> `noun.animal`; `"?"` for numbers WordNet 3.0 does not define.
[[nodiscard]] inline std::string_view wordnet_lexicographer_file(std::uint8_t lex_filenum) noexcept {
  static constexpr std::string_view names[] = {
      "adj.all",         "adj.pert",       "adv.all",        "noun.Tops",          "noun.act",
      "noun.animal",     "noun.artifact",  "noun.attribute", "noun.body",          "noun.cognition",
      "noun.communication", "noun.event",  "noun.feeling",   "noun.food",          "noun.group",
      "noun.location",   "noun.motive",    "noun.object",    "noun.person",        "noun.phenomenon",
      "noun.plant",      "noun.possession", "noun.process",  "noun.quantity",      "noun.relation",
      "noun.shape",      "noun.state",     "noun.substance", "noun.time",          "verb.body",
      "verb.change",     "verb.cognition", "verb.communication", "verb.competition", "verb.consumption",
      "verb.contact",    "verb.creation",  "verb.emotion",   "verb.motion",        "verb.perception",
      "verb.possession", "verb.social",    "verb.stative",   "verb.weather",       "adj.ppl"};
  return lex_filenum < std::size(names) ? names[lex_filenum] : std::string_view("?");
}

namespace detail {

/// Cuts one `data.noun` line into blank-separated fields, left to right.
class wordnet_fields {
public:
  explicit wordnet_fields(std::string_view text) noexcept : rest_(text) {}

  /// The next field, or an empty view at the end.
  std::string_view next() noexcept {
    std::size_t begin = rest_.find_first_not_of(' ');
    if (begin == std::string_view::npos) {
      rest_ = {};
      return {};
    }
    std::size_t end = rest_.find(' ', begin);
    if (end == std::string_view::npos) end = rest_.size();
    std::string_view field = rest_.substr(begin, end - begin);
    rest_.remove_prefix(end);
    return field;
  }
  [[nodiscard]] bool at_end() const noexcept { return rest_.find_first_not_of(' ') == std::string_view::npos; }

private:
  std::string_view rest_;
};

/// Parses a field of exactly `digits` digits in `base` into `value`; leaves
/// `value` untouched and returns false when the field is anything else.
template <class T>
bool parse_wordnet_number(std::string_view field, std::size_t digits, int base, T& value) noexcept {
  if (field.size() != digits) return false;
  T parsed{};
  auto [end, status] = std::from_chars(field.data(), field.data() + field.size(), parsed, base);
  if (status != std::errc() || end != field.data() + field.size()) return false;
  value = parsed;
  return true;
}

/// `wordnet_synset::offset` of a line whose offset could not be read.
inline constexpr std::uint32_t unread_offset = 0xffff'ffff;

/// Parses one synset line into `synset`; on failure returns false and says
/// why in `why`. `synset.offset` is `unread_offset` unless the offset field
/// could be read, so the caller can name the synset either way.
inline bool parse_wordnet_line(std::string_view text, wordnet_synset& synset, std::string& why) {
  synset.offset = unread_offset;
  const std::size_t bar = text.find('|');
  wordnet_fields fields(text.substr(0, bar));

  std::string_view field = fields.next();
  if (!parse_wordnet_number(field, 8, 10, synset.offset)) {
    why = "synset_offset '" + std::string(field) + "' is not an 8-digit decimal number";
    return false;
  }
  if (bar == std::string_view::npos) {
    why = "no '|' before the gloss";
    return false;
  }

  field = fields.next();
  unsigned lex_filenum = 0;
  if (!parse_wordnet_number(field, 2, 10, lex_filenum)) {
    why = "lex_filenum '" + std::string(field) + "' is not a 2-digit decimal number";
    return false;
  }
  synset.lex_filenum = static_cast<std::uint8_t>(lex_filenum);

  field = fields.next();
  if (field != "n") {
    why = "ss_type '" + std::string(field) + "' is not 'n' (data.noun holds noun synsets only)";
    return false;
  }

  field = fields.next();
  unsigned word_count = 0;
  if (!parse_wordnet_number(field, 2, 16, word_count) || word_count == 0) {
    why = "w_cnt '" + std::string(field) + "' is not a 2-digit hexadecimal number >= 1";
    return false;
  }
  synset.lemmas.reserve(word_count);
  for (unsigned w = 0; w < word_count; ++w) {
    std::string_view word = fields.next();
    std::string_view lex_id = fields.next();
    unsigned lex_id_value = 0;
    if (word.empty() || !parse_wordnet_number(lex_id, 1, 16, lex_id_value)) {
      why = "word " + std::to_string(w + 1) + " of " + std::to_string(word_count) +
            " is missing or its lex_id is not one hexadecimal digit";
      return false;
    }
    synset.lemmas.emplace_back(word);
  }

  field = fields.next();
  unsigned pointer_count = 0;
  if (!parse_wordnet_number(field, 3, 10, pointer_count)) {
    why = "p_cnt '" + std::string(field) + "' is not a 3-digit decimal number";
    return false;
  }
  for (unsigned p = 0; p < pointer_count; ++p) {
    std::string_view symbol = fields.next();
    std::string_view target = fields.next();
    std::string_view pos = fields.next();
    std::string_view source_target = fields.next();
    std::uint32_t target_offset = 0;
    unsigned words = 0;
    const bool valid = !symbol.empty() && parse_wordnet_number(target, 8, 10, target_offset) && pos.size() == 1 &&
                       std::string_view("nvasr").find(pos[0]) != std::string_view::npos &&
                       parse_wordnet_number(source_target, 4, 16, words);
    if (!valid) {
      why = "pointer " + std::to_string(p + 1) + " of " + std::to_string(pointer_count) +
            " is not 'symbol offset pos source/target' (8-digit offset, pos in nvasr, 4 hex digits)";
      return false;
    }
    if (symbol == "@" || symbol == "@i") {
      if (pos != "n") {
        why = "hypernym pointer to " + std::string(target) + " has pos '" + std::string(pos) + "', not 'n'";
        return false;
      }
      (symbol == "@" ? synset.hypernyms : synset.instance_hypernyms).push_back(target_offset);
    }
  }
  // Verb frames (`f_cnt + f_num w_num ...`) occur only in data.verb.
  if (!fields.at_end()) {
    why = "unexpected text '" + std::string(fields.next()) + "' after the " + std::to_string(pointer_count) +
          " pointers (p_cnt too small?)";
    return false;
  }
  std::string_view gloss = text.substr(bar + 1);
  std::size_t first = gloss.find_first_not_of(' ');
  std::size_t last = gloss.find_last_not_of(" \r");
  synset.gloss = first == std::string_view::npos ? std::string() : std::string(gloss.substr(first, last - first + 1));
  return true;
}

/// `dir/data.noun`, or `dir` itself when it names a file.
inline std::filesystem::path wordnet_noun_file(const std::filesystem::path& dir) {
  std::error_code ignored;
  return std::filesystem::is_regular_file(dir, ignored) ? dir : dir / "data.noun";
}

/// The synset-offset part of a message: "synset 00001740: ".
inline std::string synset_prefix(std::uint32_t offset) { return "synset " + wordnet_offset_text(offset) + ": "; }

}  // namespace detail

namespace detail {

/// The synsets of a `data.noun` and where each offset sits among them.
struct indexed_synsets {
  std::vector<wordnet_synset> synsets;
  std::unordered_map<std::uint32_t, std::size_t> by_offset;
};

/// `read_wordnet_synsets` plus the offset index `read_wordnet` needs too.
inline indexed_synsets read_indexed_synsets(const std::filesystem::path& dir) {
  const std::filesystem::path file = wordnet_noun_file(dir);
  const std::string source = file.string();
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    LABELGRAPH_THROW(graph_error(graph_problem{
        {source, 0, {}}, "cannot open WordNet noun data (expected WordNet 3.0 'data.noun')", {}}));
  }

  std::vector<graph_problem> problems;
  std::size_t problem_count = 0;
  auto report = [&](std::size_t line, std::string message) {
    if (problem_count++ < graph_builder::max_problems_per_rule) {
      problems.push_back({{source, line, {}}, std::move(message), {}});
    }
  };

  indexed_synsets result;
  std::vector<wordnet_synset>& synsets = result.synsets;
  std::error_code size_unknown;
  const std::uintmax_t bytes = std::filesystem::file_size(file, size_unknown);
  if (!size_unknown) synsets.reserve(static_cast<std::size_t>(bytes / 160));  // WordNet 3.0: ~186 bytes a synset
  std::string text;
  std::string why;
  for (std::size_t line = 1; std::getline(in, text); ++line) {
    if (text.starts_with("  ") || text.empty() || text == "\r") continue;  // license header
    wordnet_synset synset;
    synset.line = line;
    if (parse_wordnet_line(text, synset, why)) {
      synsets.push_back(std::move(synset));
    } else {
      const bool offset_read = synset.offset != unread_offset;
      report(line, (offset_read ? synset_prefix(synset.offset) : std::string()) + why);
    }
  }

  std::unordered_map<std::uint32_t, std::size_t>& by_offset = result.by_offset;
  by_offset.reserve(synsets.size());
  for (std::size_t s = 0; s < synsets.size(); ++s) {
    auto [it, inserted] = by_offset.emplace(synsets[s].offset, s);
    if (!inserted) {
      report(synsets[s].line, synset_prefix(synsets[s].offset) + "offset appears twice (first on line " +
                                  std::to_string(synsets[it->second].line) + ")");
    }
  }
  for (const wordnet_synset& synset : synsets) {
    for (const auto* targets : {&synset.hypernyms, &synset.instance_hypernyms}) {
      for (std::uint32_t target : *targets) {
        if (!by_offset.contains(target)) {
          report(synset.line, synset_prefix(synset.offset) + "hypernym pointer to " + wordnet_offset_text(target) +
                                  ", which is not a synset in the file");
        }
      }
    }
  }
  if (synsets.empty() && problem_count == 0) report(0, "no synset lines (is this WordNet's data.noun?)");

  if (problem_count > graph_builder::max_problems_per_rule) {
    problems.push_back({{source, 0, {}},
                        "... and " + std::to_string(problem_count - graph_builder::max_problems_per_rule) +
                            " more problems",
                        {}});
  }
  if (!problems.empty()) LABELGRAPH_THROW(graph_error(std::move(problems)));
  return result;
}

}  // namespace detail

/// Reads every noun synset of WordNet 3.0's `data.noun` in `dir` (Debian:
/// `/usr/share/wordnet`; a path to the file itself is accepted too), in file
/// order. Malformed lines, duplicate offsets and hypernym pointers to offsets
/// that are not in the file raise one `graph_error` listing the problems (file,
/// line, synset offset; at most `graph_builder::max_problems_per_rule` of
/// them, then a count of the rest).
[[nodiscard]] inline std::vector<wordnet_synset> read_wordnet_synsets(const std::filesystem::path& dir) {
  return detail::read_indexed_synsets(dir).synsets;
}

/// The WordNet noun DAG as a label graph: one `label` node per synset in
/// dataset `wordnet-nouns` named by `wordnet_node_name`, except the synset
/// without hypernyms (`entity.n.00001740`), which is the root; one edge
/// hypernym -> hyponym per `@` and `@i` pointer; groups by the sibling rule
/// (synsets with the same hypernym set compete). Throws `graph_error` as
/// `read_wordnet_synsets` does, or as `graph_builder::build()` does when the
/// pointers do not form a single-rooted DAG.
[[nodiscard]] inline label_graph read_wordnet(const std::filesystem::path& dir) {
  const auto [synsets, by_offset] = detail::read_indexed_synsets(dir);
  const std::string source = detail::wordnet_noun_file(dir).string();

  // Names by position in the file; pointers are resolved through the offset.
  std::vector<std::string> names;
  names.reserve(synsets.size());
  std::size_t edges = 0;
  for (const wordnet_synset& synset : synsets) {
    names.push_back(wordnet_node_name(synset));
    edges += synset.hypernyms.size() + synset.instance_hypernyms.size();
  }

  static constexpr std::string_view dataset = "wordnet-nouns";
  graph_builder builder(source);
  builder.reserve(synsets.size(), edges);
  builder.add_dataset(std::string(dataset));
  for (std::size_t s = 0; s < synsets.size(); ++s) {
    const wordnet_synset& synset = synsets[s];
    input_location where{source, synset.line, {}};
    const bool root = synset.hypernyms.empty() && synset.instance_hypernyms.empty();
    for (const auto* targets : {&synset.hypernyms, &synset.instance_hypernyms}) {
      for (std::uint32_t target : *targets) builder.add_edge(names[by_offset.find(target)->second], names[s], where);
    }
    builder.add_node(names[s], root ? node_kind::root : node_kind::label,
                     root ? std::vector<std::string>{} : std::vector<std::string>{std::string(dataset)},
                     std::move(where));
  }
  return builder.build();
}

}  // namespace labelgraph
