#pragma once
/// \file
/// The SAX handler behind `read_graph_json`: checks the labelgraph/1 schema
/// event by event and feeds a `graph_builder` directly, without ever holding
/// the document. Its state is a stack of at most five frames (document, top
/// object, array, item, item's array); any value the schema does not expect is
/// reported once and then skipped with a depth counter, so deeply nested
/// garbage costs O(1) memory here (nlohmann's parser itself is iterative).

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "labelgraph/error.hpp"
#include "labelgraph/graph/detail/json_input.hpp"
#include "labelgraph/graph/detail/message_text.hpp"
#include "labelgraph/graph/graph_builder.hpp"

namespace labelgraph::detail {

/// The one format string this reader accepts.
inline constexpr std::string_view graph_json_format = "labelgraph/1";

/// JSON value types, for "must be a string, not a number" messages.
enum class json_type : std::uint8_t { null, boolean, number, string, array, object };

[[nodiscard]] constexpr std::string_view with_article(json_type type) noexcept {
  switch (type) {
    case json_type::null: return "null";
    case json_type::boolean: return "a boolean";
    case json_type::number: return "a number";
    case json_type::string: return "a string";
    case json_type::array: return "an array";
    case json_type::object: return "an object";
  }
  return "a value";
}

/// Appends one JSON pointer reference token (RFC 6901: '~' -> "~0", '/' ->
/// "~1"; control characters, which no message may hold, as "\xNN").
inline void append_pointer_token(std::string& pointer, std::string_view token) {
  pointer += '/';
  for (char c : token) {
    if (c == '~') {
      pointer += "~0";
    } else if (c == '/') {
      pointer += "~1";
    } else if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      pointer += one_line(std::string_view(&c, 1));
    } else {
      pointer += c;
    }
  }
}

/// Turns nlohmann's parse error ("[json.exception.parse_error.101] parse error
/// at line 3, column 17: syntax error while parsing value - unexpected end of
/// input; expected ']'") into "file:3:17: syntax error: unexpected end of
/// input; expected ']'", with any non-ASCII input bytes it echoes escaped.
[[nodiscard]] inline graph_problem syntax_problem(const std::string& source, std::string_view what,
                                                  std::size_t fallback_line, bool empty_input) {
  std::size_t line = fallback_line;
  std::size_t column = 0;
  std::string_view detail = what;
  if (detail.starts_with("[json.exception.")) {  // nlohmann's "[json.exception.out_of_range.406] ..." tag
    if (auto end = detail.find("] "); end != std::string_view::npos) detail = detail.substr(end + 2);
  }
  if (auto at = what.find(" at line "); at != std::string_view::npos) {
    unsigned long long parsed_line = 0;
    unsigned long long parsed_column = 0;
    const std::string position(what.substr(at));
    if (std::sscanf(position.c_str(), " at line %llu, column %llu", &parsed_line, &parsed_column) == 2) {
      line = static_cast<std::size_t>(parsed_line);
      column = static_cast<std::size_t>(parsed_column);
    }
    if (auto colon = what.find(": ", at); colon != std::string_view::npos) detail = what.substr(colon + 2);
  }
  if (auto dash = detail.find(" - "); detail.starts_with("syntax error") && dash != std::string_view::npos) {
    detail = detail.substr(dash + 3);
  }
  std::string message = empty_input ? std::string("syntax error: the input is empty (a labelgraph file is a JSON object)")
                                    : "syntax error: " + printable(detail);
  std::string place = source;
  if (line != 0) place += ":" + std::to_string(line) + (column != 0 ? ":" + std::to_string(column) : "");
  // input_location has no column, so line and column are folded into
  // `source` (line 0) for str() to print "file:3:17: syntax error: ...".
  return {{std::move(place), 0, {}}, std::move(message), {}};
}

/// SAX handler (nlohmann::json_sax interface) that checks the labelgraph/1
/// schema and feeds `graph_builder`. After the parse, `syntax_error()` or
/// `format_error()` (when set) is the only problem to report; otherwise every
/// schema problem has gone to the builder through `report`.
class graph_json_handler {
public:
  /// Schema problems beyond this many are counted, not kept.
  static constexpr std::size_t max_schema_problems = 100;

  graph_json_handler(graph_builder& builder, std::string source, const read_position& position)
      : builder_(builder), source_(std::move(source)), position_(position) {
    stack_.push_back({context::document, 0, 0, {}, false, 0});
  }

  // ---- the nlohmann::json_sax interface ------------------------------------
  bool null() { return scalar(json_type::null, nullptr); }
  bool boolean(bool /*value*/) { return scalar(json_type::boolean, nullptr); }
  bool number_integer(nlohmann::json::number_integer_t /*value*/) { return scalar(json_type::number, nullptr); }
  bool number_unsigned(nlohmann::json::number_unsigned_t /*value*/) { return scalar(json_type::number, nullptr); }
  bool number_float(nlohmann::json::number_float_t /*value*/, const std::string& /*text*/) {
    return scalar(json_type::number, nullptr);
  }
  bool string(std::string& value) { return scalar(json_type::string, &value); }
  bool binary(nlohmann::json::binary_t& /*value*/) { return scalar(json_type::null, nullptr); }  // not in JSON text
  bool start_object(std::size_t /*elements*/) { return start(json_type::object); }
  bool start_array(std::size_t /*elements*/) { return start(json_type::array); }
  bool end_object() { return end(); }
  bool end_array() { return end(); }
  bool key(std::string& name);
  bool parse_error(std::size_t /*byte*/, const std::string& /*last_token*/, const nlohmann::detail::exception& error) {
    syntax_error_ = syntax_problem(source_, error.what(), position_.token_line, !position_.any_content);
    return false;
  }

  /// To be called once the parse has succeeded: reports missing required
  /// top-level keys and the summary of problems beyond the limit.
  void finish();

  [[nodiscard]] const std::optional<graph_problem>& syntax_error() const noexcept { return syntax_error_; }
  /// A document that is not a labelgraph/1 object at all (another format
  /// string, top level not an object): reported alone.
  [[nodiscard]] const std::optional<graph_problem>& format_error() const noexcept { return format_error_; }

private:
  enum class context : std::uint8_t {
    document,       // before the top-level value
    top,            // the top-level object
    datasets,       // "datasets": [name, ...]
    nodes,          // "nodes": [node, ...]
    node,           // {"name": ..., "kind": ..., "datasets": [...], "description": ...}
    node_datasets,  // the datasets of one node
    edges,          // "edges": [[parent, child], ...]
    edge,           // [parent, child]
    groups,         // "groups": {name: [member, ...], ...}
    group,          // [member, ...]
  };
  struct frame {
    context where;
    std::size_t pointer_length;  // pointer_ is cut back to this when the frame ends
    std::size_t next_index;      // arrays: index of the next element
    std::string key;             // objects: the key whose value comes next
    bool key_rejected = false;   // objects: skip the value of an unknown/duplicate key
    std::uint8_t keys_seen = 0;  // objects: bit per known key, for duplicates
  };

  // Keys of the top-level object and of a node, in bit order.
  static constexpr std::string_view top_keys[] = {"format", "description", "datasets", "nodes", "edges", "groups"};
  static constexpr std::uint8_t format_bit = 1u << 0;  // bits of keys_seen for the required top-level keys
  static constexpr std::uint8_t nodes_bit = 1u << 3;
  static constexpr std::string_view node_keys[] = {"name", "kind", "datasets", "description"};
  static constexpr std::string_view kind_names[] = {"root", "label", "augmented"};

  /// A node being read: the keys may come in any order, so it is declared at
  /// its closing brace, and its own problems wait there to name it.
  struct node_in_progress {
    input_location where;
    std::optional<std::string> name;
    std::optional<node_kind> kind;
    bool name_given = false;  // even with a value of the wrong type
    bool kind_given = false;
    std::vector<std::string> datasets;
    struct problem {
      input_location where;
      std::string subject;  // "unknown key 'kinds'"
      std::string detail;   // " (did you mean 'kind'?)"
    };
    std::vector<problem> problems;
  };
  struct edge_in_progress {
    input_location where;
    std::vector<std::string> ends;
    bool malformed = false;  // an element was not a string
  };
  struct group_in_progress {
    input_location where;
    std::string name;
    std::vector<std::string> members;
    std::vector<input_location> member_locations;
  };

  [[nodiscard]] input_location here(std::string_view token) const {
    std::string pointer = pointer_;
    append_pointer_token(pointer, token);
    return {source_, position_.token_line, std::move(pointer)};
  }
  void problem(input_location where, std::string message, std::vector<std::string> nodes = {}) {
    if (schema_problems_++ < max_schema_problems) builder_.report({std::move(where), std::move(message), std::move(nodes)});
  }
  void node_problem(input_location where, std::string subject, std::string detail = {}) {
    node_.problems.push_back({std::move(where), std::move(subject), std::move(detail)});
  }

  /// The token naming the slot the next value fills ("3", "nodes"), or
  /// nothing when that value is to be skipped.
  std::optional<std::string> claim_slot();
  bool scalar(json_type type, std::string* text);
  /// A scalar, or a container the schema does not take, at `slot`.
  void on_scalar(const std::string& slot, json_type type, std::string* text);
  bool start(json_type type);
  bool end();
  void push(context where, std::string_view token);
  /// Reports that the value at `token` has the wrong type (inside a node: as
  /// one of the node's problems, so that the message can name the node).
  void wrong_type(std::string_view token, std::string subject, std::string_view expected, json_type found);
  void finish_node();
  void finish_edge();
  void finish_group();

  graph_builder& builder_;
  std::string source_;
  const read_position& position_;
  std::vector<frame> stack_;
  std::string pointer_;          // JSON pointer of the innermost open container
  std::size_t skip_depth_ = 0;   // > 0: inside a value being skipped
  std::size_t schema_problems_ = 0;
  std::optional<std::string> format_;
  bool saw_top_object_ = false;
  std::uint8_t top_keys_seen_ = 0;  // bits of top_keys
  node_in_progress node_;
  edge_in_progress edge_;
  group_in_progress group_;
  std::optional<graph_problem> syntax_error_;
  std::optional<graph_problem> format_error_;
};

inline bool graph_json_handler::key(std::string& name) {
  if (skip_depth_ > 0) return true;
  frame& object = stack_.back();
  object.key = name;
  object.key_rejected = false;
  const bool is_top = object.where == context::top;
  if (!is_top && object.where != context::node) return true;  // groups: any name is a group name
  const auto& known = is_top ? std::span<const std::string_view>(top_keys) : std::span<const std::string_view>(node_keys);
  const std::string_view place = is_top ? "at the top level" : "in node";
  std::size_t bit = 0;
  while (bit < known.size() && known[bit] != name) ++bit;
  if (bit == known.size()) {
    object.key_rejected = true;
    std::string subject = "unknown key " + in_quotes(name);
    std::string hint = did_you_mean(name, known);
    if (hint.empty()) {
      hint = " (the keys allowed are ";
      for (std::size_t i = 0; i < known.size(); ++i) hint += (i ? ", " : "") + in_quotes(known[i]);
      hint += ")";
    }
    if (is_top) {
      problem(here(name), subject + " " + std::string(place) + hint);
    } else {
      node_problem(here(name), std::move(subject), std::move(hint));
    }
    return true;
  }
  const auto mask = static_cast<std::uint8_t>(1u << bit);
  if (object.keys_seen & mask) {
    object.key_rejected = true;
    if (is_top) {
      problem(here(name), "duplicate key " + in_quotes(name) + " at the top level");
    } else {
      node_problem(here(name), "duplicate key " + in_quotes(name));
    }
    return true;
  }
  object.keys_seen = static_cast<std::uint8_t>(object.keys_seen | mask);
  return true;
}

inline std::optional<std::string> graph_json_handler::claim_slot() {
  frame& parent = stack_.back();
  switch (parent.where) {
    case context::document: return std::string();
    case context::top:
    case context::node:
    case context::groups:
      if (parent.key_rejected) return std::nullopt;
      return parent.key;
    default: return std::to_string(parent.next_index++);
  }
}

inline void graph_json_handler::wrong_type(std::string_view token, std::string subject, std::string_view expected,
                                           json_type found) {
  std::string detail = " must be " + std::string(expected) + ", not " + std::string(with_article(found));
  if (stack_.back().where == context::node || stack_.back().where == context::node_datasets) {
    node_problem(here(token), std::move(subject), std::move(detail));
  } else {
    problem(here(token), std::move(subject) + detail);
  }
}

inline bool graph_json_handler::scalar(json_type type, std::string* text) {
  if (skip_depth_ > 0) return true;
  const std::optional<std::string> slot = claim_slot();
  if (slot) on_scalar(*slot, type, text);
  return true;
}

inline void graph_json_handler::on_scalar(const std::string& slot_token, json_type type, std::string* text) {
  const std::string* slot = &slot_token;
  const bool is_string = type == json_type::string && text != nullptr;
  switch (stack_.back().where) {
    case context::document:
      format_error_ = graph_problem{{source_, position_.token_line, {}},
                                    "a labelgraph file is a JSON object, not " + std::string(with_article(type)),
                                    {}};
      return;
    case context::top:
      if (*slot == "format" || *slot == "description") {
        if (!is_string) {
          wrong_type(*slot, in_quotes(*slot), *slot == "format" ? "the string \"labelgraph/1\"" : "a string", type);
        } else if (*slot == "format") {
          format_ = std::move(*text);
          if (*format_ != graph_json_format) {
            format_error_ = graph_problem{here(*slot),
                                          "unsupported format " + in_quotes(*format_) +
                                              ": this reader reads \"labelgraph/1\" files",
                                          {}};
          }
        }
      } else {
        const std::string_view expected = *slot == "groups" ? "an object {group: [member, ...]}"
                                          : *slot == "nodes" ? "an array of node objects"
                                                             : "an array of names";
        wrong_type(*slot, in_quotes(*slot), expected, type);
      }
      return;
    case context::datasets:
      if (is_string) {
        builder_.add_dataset(std::move(*text), here(*slot));
      } else {
        wrong_type(*slot, "dataset name", "a string", type);
      }
      return;
    case context::nodes:
      wrong_type(*slot, "node", "an object {\"name\": ..., \"kind\": ...}", type);
      return;
    case context::node:
      if (*slot == "name") node_.name_given = true;
      if (*slot == "kind") node_.kind_given = true;
      if (!is_string) {
        wrong_type(*slot, in_quotes(*slot), *slot == "datasets" ? "an array of dataset names" : "a string", type);
      } else if (*slot == "name") {
        node_.name_given = true;
        node_.name = std::move(*text);
      } else if (*slot == "kind") {
        for (std::size_t k = 0; k < std::size(kind_names); ++k) {
          if (*text == kind_names[k]) node_.kind = static_cast<node_kind>(k);
        }
        if (!node_.kind) {
          const std::string_view closest = closest_name(*text, kind_names);
          node_problem(here(*slot), "unknown kind " + in_quotes(*text),
                       " (a kind is 'root', 'label' or 'augmented'" +
                           (closest.empty() ? std::string(")") : "; did you mean " + in_quotes(closest) + "?)"));
        }
      } else if (*slot == "datasets") {
        wrong_type(*slot, in_quotes(*slot), "an array of dataset names", type);
      }
      return;
    case context::node_datasets:
      if (is_string) {
        node_.datasets.push_back(std::move(*text));
      } else {
        wrong_type(*slot, "dataset name", "a string", type);
      }
      return;
    case context::edges:
      wrong_type(*slot, "edge", "an array [parent, child]", type);
      return;
    case context::edge:
      if (is_string) {
        edge_.ends.push_back(std::move(*text));
      } else {
        edge_.malformed = true;
        wrong_type(*slot, "edge element " + *slot, "a node name (a string)", type);
      }
      return;
    case context::groups:
      wrong_type(*slot, "group " + in_quotes(*slot), "an array of node names", type);
      return;
    case context::group:
      if (is_string) {
        group_.members.push_back(std::move(*text));
        group_.member_locations.push_back(here(*slot));
      } else {
        wrong_type(*slot, "member of group " + in_quotes(group_.name), "a node name (a string)", type);
      }
      return;
  }
}

inline bool graph_json_handler::start(json_type type) {
  if (skip_depth_ > 0) {
    ++skip_depth_;
    return true;
  }
  const std::optional<std::string> slot = claim_slot();
  if (!slot) {
    skip_depth_ = 1;
    return true;
  }
  const bool is_array = type == json_type::array;
  context accepted = context::document;  // document = "not accepted here"
  switch (stack_.back().where) {
    case context::document:
      if (!is_array) accepted = context::top;
      break;
    case context::top:
      if (*slot == "datasets" && is_array) accepted = context::datasets;
      if (*slot == "nodes" && is_array) accepted = context::nodes;
      if (*slot == "edges" && is_array) accepted = context::edges;
      if (*slot == "groups" && !is_array) accepted = context::groups;
      break;
    case context::nodes:
      if (!is_array) accepted = context::node;
      break;
    case context::node:
      if (*slot == "datasets" && is_array) accepted = context::node_datasets;
      break;
    case context::edges:
      if (is_array) accepted = context::edge;
      break;
    case context::groups:
      if (is_array) accepted = context::group;
      break;
    default: break;
  }
  if (accepted == context::document) {
    skip_depth_ = 1;
    on_scalar(*slot, type, nullptr);  // reports the wrong type
    return true;
  }
  if (accepted == context::top) saw_top_object_ = true;
  if (accepted == context::node) {
    node_.where = here(*slot);
    node_.name.reset();
    node_.kind.reset();
    node_.name_given = false;
    node_.kind_given = false;
    node_.datasets.clear();
    node_.problems.clear();
  } else if (accepted == context::edge) {
    edge_.where = here(*slot);
    edge_.ends.clear();
    edge_.malformed = false;
  } else if (accepted == context::group) {
    group_.where = here(*slot);
    group_.name = *slot;
    group_.members.clear();
    group_.member_locations.clear();
  }
  push(accepted, *slot);
  return true;
}

inline void graph_json_handler::push(context where, std::string_view token) {
  const std::size_t length = pointer_.size();
  if (where != context::top) append_pointer_token(pointer_, token);
  stack_.push_back({where, length, 0, {}, false, 0});
}

inline bool graph_json_handler::end() {
  if (skip_depth_ > 0) {
    --skip_depth_;
    return true;
  }
  const context finished = stack_.back().where;
  if (finished == context::top) top_keys_seen_ = stack_.back().keys_seen;
  pointer_.resize(stack_.back().pointer_length);
  stack_.pop_back();
  if (finished == context::node) finish_node();
  if (finished == context::edge) finish_edge();
  if (finished == context::group) finish_group();
  return true;
}

inline void graph_json_handler::finish_node() {
  const std::string subject_suffix = node_.name ? " in node " + in_quotes(*node_.name) : " in node";
  for (auto& found : node_.problems) problem(std::move(found.where), found.subject + subject_suffix + found.detail);
  std::vector<std::string> names;
  if (node_.name) names.push_back(*node_.name);
  if (!node_.name_given) problem(node_.where, "missing required key 'name' in node");
  if (!node_.kind_given) problem(node_.where, "missing required key 'kind'" + subject_suffix, names);
  if (!node_.name) return;
  // A node with a bad or missing kind is still declared, so that the edges and
  // groups naming it do not add "undeclared" noise; its kind is guessed from
  // the presence of datasets.
  const node_kind kind = node_.kind.value_or(node_.datasets.empty() ? node_kind::augmented : node_kind::label);
  builder_.add_node(std::move(*node_.name), kind, std::move(node_.datasets), std::move(node_.where));
  node_.datasets = {};
}

inline void graph_json_handler::finish_edge() {
  if (edge_.malformed) return;  // its element was reported
  if (edge_.ends.size() != 2) {
    std::string listed;
    for (const auto& end : edge_.ends) listed += (listed.empty() ? "" : ", ") + in_quotes(end);
    problem(edge_.where,
            "edge [" + listed + "] has " + std::to_string(edge_.ends.size()) +
                " element" + (edge_.ends.size() == 1 ? "" : "s") + "; an edge is [parent, child]",
            edge_.ends);
    if (edge_.ends.size() < 2) return;
  }
  // With more than two names the first two still make an edge, so that the
  // child is not also reported as unreachable.
  builder_.add_edge(edge_.ends[0], edge_.ends[1], std::move(edge_.where));
}

inline void graph_json_handler::finish_group() {
  builder_.add_group(std::move(group_.name), group_.members, std::move(group_.where), std::move(group_.member_locations));
  group_.member_locations = {};
}

inline void graph_json_handler::finish() {
  // A wrong format string stands alone (the file is another format); a
  // missing one is reported with everything else (most likely forgotten).
  if (saw_top_object_ && !format_error_) {
    if ((top_keys_seen_ & format_bit) == 0) {
      problem({source_, 1, {}}, "missing required key 'format' at the top level (it must be \"labelgraph/1\")");
    }
    if ((top_keys_seen_ & nodes_bit) == 0) problem({source_, 1, {}}, "missing required key 'nodes' at the top level");
  }
  if (schema_problems_ > max_schema_problems) {
    builder_.report({{source_, 0, {}},
                     "... and " + std::to_string(schema_problems_ - max_schema_problems) + " more problems in the file",
                     {}});
  }
}

}  // namespace labelgraph::detail
