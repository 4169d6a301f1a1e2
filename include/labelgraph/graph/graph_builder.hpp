#pragma once
/// \file
/// `graph_builder`: collects nodes, edges and groups, then validates all of
/// them at once in `build()` (docs/graph-format.md lists the rules).
///
/// Readers (JSON, WordNet) feed a builder and attach an `input_location` to
/// every item, so that each problem `build()` reports names the file, the line,
/// the place in the document and the nodes involved. Every algorithm here is
/// iterative: a 1,000,000-node chain validates without deep recursion, and the
/// work is linear in nodes + edges (hash tables, no ordered maps), except the
/// ancestor check of declared groups, which is linear per declared group.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "labelgraph/error.hpp"
#include "labelgraph/graph/detail/message_text.hpp"
#include "labelgraph/graph/detail/name_index.hpp"
#include "labelgraph/graph/label_graph.hpp"

namespace labelgraph {

/// Collects a label graph piece by piece and validates it as a whole.
///
/// Names may be used (by edges, groups) before they are declared; `build()`
/// checks every rule of docs/graph-format.md and throws one `graph_error` that
/// lists every problem found, each with its input location and the nodes
/// involved. `build()` consumes what was collected: afterwards the builder is
/// empty again (same source).
class graph_builder {
public:
  /// Problems of one kind beyond this many are summarised in one line.
  static constexpr std::size_t max_problems_per_rule = 20;
  /// "Did you mean" suggestions for undeclared names are searched among the
  /// declared ones only up to this many nodes (the search is linear per name).
  static constexpr std::size_t max_nodes_for_suggestions = 100000;

  /// `source` names the input (a file path) in every message.
  explicit graph_builder(std::string source = {}) : source_(std::move(source)) { sources_.push_back(source_); }

  /// The input's name, as given to the constructor.
  [[nodiscard]] const std::string& source() const noexcept { return source_; }

  /// Reserves room for this many nodes and edges (an optimisation only).
  void reserve(std::size_t nodes, std::size_t edges) {
    nodes_.reserve(nodes);
    index_.reserve(nodes, name_of());
    edges_.reserve(edges);
  }

  /// Declares a dataset that label nodes may name.
  void add_dataset(std::string name, input_location where = {}) {
    if (name.empty()) {
      report({located(std::move(where)), "dataset name is empty", {}});
      return;
    }
    if (dataset_index_.contains(name)) {
      report({located(std::move(where)), "dataset " + detail::in_quotes(name) + " is declared twice", {}});
      return;
    }
    dataset_index_.emplace(name, static_cast<dataset_id>(datasets_.size()));
    datasets_.push_back(std::move(name));
  }

  /// Declares a node. `datasets` is required for labels and forbidden otherwise.
  void add_node(std::string name, node_kind kind, std::vector<std::string> datasets = {},
                input_location where = {}) {
    if (name.empty()) {
      report({located(std::move(where)), "node name is empty", {}});
      return;
    }
    if (kind != node_kind::root && kind != node_kind::label && kind != node_kind::augmented) {
      report({located(std::move(where)),
              "node " + detail::in_quotes(name) + " has an invalid kind (" + std::to_string(static_cast<int>(kind)) + ")",
              {name}});
      return;
    }
    stored_location stored = store(std::move(where));
    std::uint32_t id = intern(name, stored);
    pending_node& node = nodes_[id];
    if (node.declared) {
      input_location first = expand(node.where);
      if (first.source == sources_[stored.source]) first.source.clear();  // "line 6: /nodes/1"
      report({expand(stored), "duplicate node name " + detail::in_quotes(name) + " (first declared at " + first.str() + ")",
              {name}});
      return;
    }
    node.declared = true;
    node.kind = kind;
    node.first_dataset = node_dataset_names_.size();
    node.dataset_count = static_cast<std::uint32_t>(datasets.size());
    for (auto& dataset : datasets) node_dataset_names_.push_back(std::move(dataset));
    node.where = std::move(stored);
  }

  /// Adds the edge parent -> child. Names may be declared later; `build()`
  /// reports the ones that never are.
  void add_edge(std::string_view parent, std::string_view child, input_location where = {}) {
    stored_location stored = store(std::move(where));
    std::uint32_t from = intern(parent, stored);
    std::uint32_t to = intern(child, stored);
    edges_.push_back({from, to, static_cast<std::uint32_t>(edge_locations_.size())});
    edge_locations_.push_back(std::move(stored));
  }

  /// Declares a competing group. `member_locations`, when given, has one
  /// location per member (else the group's location is used for each).
  void add_group(std::string name, const std::vector<std::string>& members, input_location where = {},
                 std::vector<input_location> member_locations = {}) {
    pending_group group;
    group.name = std::move(name);
    group.where = store(std::move(where));
    for (std::size_t i = 0; i < members.size(); ++i) {
      stored_location member_where = i < member_locations.size() ? store(std::move(member_locations[i])) : group.where;
      group.members.push_back(intern(members[i], member_where));
      group.member_locations.push_back(std::move(member_where));
    }
    groups_.push_back(std::move(group));
  }

  /// Records a problem found outside the builder (a reader's syntax or schema
  /// error); `build()` throws it together with its own findings.
  void report(graph_problem problem) {
    if (problem.where.source.empty()) problem.where.source = source_;
    problems_.push_back(std::move(problem));
  }

  /// True once a problem has been reported (by a reader or by `build()`).
  [[nodiscard]] bool has_problems() const noexcept { return !problems_.empty(); }
  /// The problems reported so far, in the order they were found.
  [[nodiscard]] const std::vector<graph_problem>& problems() const noexcept { return problems_; }

  /// Validates everything and returns the immutable graph, or throws one
  /// `graph_error` listing every problem found. Either way the builder is
  /// left empty.
  [[nodiscard]] label_graph build();

private:
  /// An `input_location` without its own copy of the (usually shared) source
  /// name: a 1,000,000-node file would otherwise hold 2,000,000 copies of it.
  struct stored_location {
    std::uint32_t source = 0;  // index into sources_
    std::size_t line = 0;
    std::string pointer;
  };
  struct pending_node {
    std::string name;
    bool declared = false;
    node_kind kind = node_kind::augmented;
    std::uint32_t dataset_count = 0;  // its datasets: node_dataset_names_[first_dataset ..][.. dataset_count]
    std::uint64_t first_dataset = 0;
    stored_location where;  // of the declaration, or of first use
  };
  struct pending_edge {
    std::uint32_t from, to, location;
  };
  struct pending_group {
    std::string name;
    stored_location where;
    std::vector<std::uint32_t> members;
    std::vector<stored_location> member_locations;
  };

  [[nodiscard]] input_location located(input_location where) const {
    if (where.source.empty()) where.source = source_;
    return where;
  }

  [[nodiscard]] stored_location store(input_location where) {
    stored_location stored{0, where.line, std::move(where.pointer)};
    if (where.source.empty() || where.source == sources_[last_source_]) {
      stored.source = where.source.empty() ? 0 : last_source_;
      return stored;
    }
    auto known = std::find(sources_.begin(), sources_.end(), where.source);
    if (known == sources_.end()) known = sources_.insert(known, std::move(where.source));
    last_source_ = static_cast<std::uint32_t>(known - sources_.begin());
    stored.source = last_source_;
    return stored;
  }

  [[nodiscard]] std::span<const std::string> datasets_of(const pending_node& node) const noexcept {
    return {node_dataset_names_.data() + node.first_dataset, node.dataset_count};
  }

  [[nodiscard]] input_location expand(const stored_location& where) const {
    return {sources_[where.source], where.line, where.pointer};
  }

  /// The name of a node id, for the index.
  struct node_name_of {
    const std::vector<pending_node>* nodes;
    [[nodiscard]] std::string_view operator()(std::uint32_t id) const noexcept { return (*nodes)[id].name; }
  };
  [[nodiscard]] node_name_of name_of() const noexcept { return {&nodes_}; }

  std::uint32_t intern(std::string_view name, const stored_location& where) {
    const std::uint64_t hash = detail::name_index::hash(name);
    std::uint32_t id = index_.find(name, hash, name_of());
    if (id != detail::name_index::missing) return id;
    id = static_cast<std::uint32_t>(nodes_.size());
    nodes_.push_back({std::string(name), false, node_kind::augmented, 0, 0, where});
    index_.insert(id, hash, name_of());
    return id;
  }

  /// Adds problems of one rule, keeping at most `max_problems_per_rule`.
  class rule_reporter {
  public:
    rule_reporter(graph_builder& builder, std::string summary) : builder_(builder), summary_(std::move(summary)) {}
    void operator()(graph_problem problem) {
      if (count_++ < max_problems_per_rule) builder_.report(std::move(problem));
    }
    ~rule_reporter() {
      if (count_ > max_problems_per_rule) {
        builder_.report({{builder_.source_, 0, {}},
                         "... and " + std::to_string(count_ - max_problems_per_rule) + " more " + summary_,
                         {}});
      }
    }
    rule_reporter(const rule_reporter&) = delete;
    rule_reporter& operator=(const rule_reporter&) = delete;

  private:
    graph_builder& builder_;
    std::string summary_;
    std::size_t count_ = 0;
  };

  void check_nodes(std::vector<std::uint32_t>& roots);
  [[nodiscard]] std::vector<std::uint8_t> repeated_edges() const;
  void check_edges(detail::graph_data& data, rule_reporter& undeclared);
  [[nodiscard]] bool sort_topologically(detail::graph_data& data);
  void find_cycles(const std::vector<std::uint32_t>& indegree_left, const detail::csr<node_id>& parents);
  void check_reachability(detail::graph_data& data, std::uint32_t root);
  void check_groups(detail::graph_data& data, rule_reporter& undeclared,
                    std::vector<const stored_location*>& member_where);
  void check_group_ancestry(const detail::graph_data& data, const std::vector<const stored_location*>& member_where);
  void add_sibling_groups(detail::graph_data& data);
  [[nodiscard]] std::string undeclared_hint(std::uint32_t node);
  void reset() {
    nodes_ = {};
    index_.clear();
    edges_ = {};
    edge_locations_ = {};
    groups_ = {};
    datasets_ = {};
    node_dataset_names_ = {};
    dataset_index_ = {};
    problems_ = {};
    sources_.assign(1, source_);
    last_source_ = 0;
  }

  std::string source_;
  std::vector<std::string> sources_;  // [0] = source_, then any other given
  std::uint32_t last_source_ = 0;
  std::vector<pending_node> nodes_;
  detail::name_index index_;  // name -> index in nodes_
  std::vector<pending_edge> edges_;
  std::vector<stored_location> edge_locations_;
  std::vector<pending_group> groups_;
  std::vector<std::string> datasets_;
  std::vector<std::string> node_dataset_names_;  // the datasets named by nodes, node after node (no vector per node)
  std::unordered_map<std::string, dataset_id, detail::string_hash, std::equal_to<>> dataset_index_;
  std::vector<graph_problem> problems_;
};

namespace detail {

/// Builds CSR rows from (row, item) pairs, keeping insertion order per row.
template <class T>
csr<T> make_csr(std::size_t rows, const std::vector<std::pair<std::uint32_t, T>>& pairs) {
  csr<T> result;
  result.offsets.assign(rows + 1, 0);
  for (const auto& [row, item] : pairs) ++result.offsets[row + 1];
  for (std::size_t i = 0; i < rows; ++i) result.offsets[i + 1] += result.offsets[i];
  result.items.resize(pairs.size());
  std::vector<std::uint64_t> cursor(result.offsets.begin(), result.offsets.end() - 1);
  for (const auto& [row, item] : pairs) result.items[cursor[row]++] = item;
  return result;
}

/// Hash of a (sorted) parent list, the key of the sibling rule.
struct node_span_hash {
  [[nodiscard]] std::size_t operator()(std::span<const node_id> nodes) const noexcept {
    std::uint64_t hash = 0x9E3779B97F4A7C15ull ^ nodes.size();
    for (node_id node : nodes) {
      hash = (hash ^ node) * 0xBF58476D1CE4E5B9ull;
      hash ^= hash >> 31;
    }
    return static_cast<std::size_t>(hash);
  }
};
struct node_span_equal {
  [[nodiscard]] bool operator()(std::span<const node_id> a, std::span<const node_id> b) const noexcept {
    return std::equal(a.begin(), a.end(), b.begin(), b.end());
  }
};

}  // namespace detail

inline std::string graph_builder::undeclared_hint(std::uint32_t node) {
  if (nodes_.size() > max_nodes_for_suggestions) return {};
  std::vector<std::string_view> declared;
  declared.reserve(nodes_.size());
  for (const pending_node& candidate : nodes_) {
    if (candidate.declared) declared.push_back(candidate.name);
  }
  return detail::did_you_mean(nodes_[node].name, declared);
}

inline void graph_builder::check_nodes(std::vector<std::uint32_t>& roots) {
  rule_reporter label_datasets(*this, "problems with the datasets of nodes");
  std::vector<std::string_view> seen;  // datasets of one node, usually one or two
  for (std::uint32_t id = 0; id < nodes_.size(); ++id) {
    const pending_node& node = nodes_[id];
    if (!node.declared) continue;  // reported at each use (edge, group)
    if (node.kind == node_kind::root) roots.push_back(id);
    const auto datasets = datasets_of(node);
    if (node.kind == node_kind::label && datasets.empty()) {
      label_datasets({expand(node.where),
                      "label node " + detail::in_quotes(node.name) + " names no dataset (a label belongs to at least one)",
                      {node.name}});
    }
    if (node.kind != node_kind::label && !datasets.empty()) {
      label_datasets({expand(node.where),
                      std::string(to_string(node.kind)) + " node " + detail::in_quotes(node.name) + " names datasets; only label nodes belong to datasets",
                      {node.name}});
      continue;
    }
    seen.clear();
    for (const auto& dataset : datasets) {
      if (!dataset_index_.contains(dataset)) {
        label_datasets({expand(node.where),
                        "node " + detail::in_quotes(node.name) + " names undeclared dataset " + detail::in_quotes(dataset) +
                            detail::did_you_mean(dataset, datasets_),
                        {node.name}});
      } else if (std::find(seen.begin(), seen.end(), dataset) != seen.end()) {
        label_datasets({expand(node.where),
                        "node " + detail::in_quotes(node.name) + " names dataset " + detail::in_quotes(dataset) + " twice",
                        {node.name}});
      } else {
        seen.push_back(dataset);
      }
    }
  }
  if (nodes_.empty()) {
    report({{source_, 0, "/nodes"}, "the graph has no nodes: exactly one node must have kind 'root'", {}});
  } else if (roots.empty()) {
    report({{source_, 0, "/nodes"}, "no root node: exactly one node must have kind 'root'", {}});
  }
  for (std::size_t i = 1; i < roots.size(); ++i) {
    const pending_node& extra = nodes_[roots[i]];
    const std::string& first = nodes_[roots[0]].name;
    report({expand(extra.where),
            "second root node " + detail::in_quotes(extra.name) + " (the root is already " + detail::in_quotes(first) +
                "; exactly one node may have kind 'root')",
            {first, extra.name}});
  }
}

inline std::vector<std::uint8_t> graph_builder::repeated_edges() const {
  // Edges bucketed by parent (a counting sort keeps input order inside a
  // bucket); a child seen twice in one bucket marks the later edge. Linear,
  // and no hash table: 1,000,000 edges cost a few arrays.
  const std::size_t n = nodes_.size();
  std::vector<std::uint64_t> bucket_start(n + 1, 0);
  for (const pending_edge& edge : edges_) ++bucket_start[edge.from + 1];
  for (std::size_t v = 0; v < n; ++v) bucket_start[v + 1] += bucket_start[v];
  std::vector<std::uint32_t> by_parent(edges_.size());
  {
    std::vector<std::uint64_t> cursor(bucket_start.begin(), bucket_start.end() - 1);
    for (std::size_t e = 0; e < edges_.size(); ++e) by_parent[cursor[edges_[e].from]++] = static_cast<std::uint32_t>(e);
  }
  std::vector<std::uint8_t> repeated(edges_.size(), 0);
  std::vector<std::uint32_t> last_parent(n, no_node);  // the parent whose bucket last listed the child
  for (std::uint32_t parent = 0; parent < n; ++parent) {
    for (std::uint64_t i = bucket_start[parent]; i < bucket_start[parent + 1]; ++i) {
      const std::uint32_t e = by_parent[i];
      if (last_parent[edges_[e].to] == parent) {
        repeated[e] = 1;
      } else {
        last_parent[edges_[e].to] = parent;
      }
    }
  }
  return repeated;
}

inline void graph_builder::check_edges(detail::graph_data& data, rule_reporter& undeclared) {
  // Endpoints declared, no self loops, no duplicates, none into the root.
  const std::size_t n = nodes_.size();
  std::vector<std::pair<std::uint32_t, node_id>> child_pairs, parent_pairs;
  child_pairs.reserve(edges_.size());
  parent_pairs.reserve(edges_.size());
  const std::vector<std::uint8_t> repeated = repeated_edges();
  rule_reporter bad_edges(*this, "edge problems");
  for (std::size_t e = 0; e < edges_.size(); ++e) {
    const pending_edge& edge = edges_[e];
    const pending_node& from = nodes_[edge.from];
    const pending_node& to = nodes_[edge.to];
    auto arrow = [&] { return detail::one_line(from.name) + " > " + detail::one_line(to.name); };
    if (!from.declared || !to.declared) {
      const std::uint32_t ends[2] = {edge.from, edge.to};
      const std::size_t distinct_ends = edge.from == edge.to ? 1 : 2;  // a loop on one undeclared name: once
      for (std::size_t i = 0; i < distinct_ends; ++i) {
        const std::uint32_t end = ends[i];
        if (nodes_[end].declared) continue;
        undeclared({expand(edge_locations_[edge.location]),
                    "edge " + arrow() + " names undeclared node " + detail::in_quotes(nodes_[end].name) + undeclared_hint(end),
                    {nodes_[end].name}});
      }
      continue;
    }
    if (edge.from == edge.to) {
      bad_edges({expand(edge_locations_[edge.location]),
                 "self-loop on node " + detail::in_quotes(from.name) + " (a label graph must be acyclic)", {from.name}});
      continue;
    }
    if (repeated[e]) {
      bad_edges({expand(edge_locations_[edge.location]), "duplicate edge " + arrow(), {from.name, to.name}});
      continue;
    }
    if (to.kind == node_kind::root) {
      bad_edges({expand(edge_locations_[edge.location]),
                 "edge " + arrow() + " points at the root " + detail::in_quotes(to.name) + " (the root has no parents)",
                 {from.name, to.name}});
      continue;
    }
    child_pairs.emplace_back(edge.from, edge.to);
    parent_pairs.emplace_back(edge.to, edge.from);
  }
  data.edge_count = child_pairs.size();
  data.children = detail::make_csr(n, child_pairs);
  data.parents = detail::make_csr(n, parent_pairs);
}

inline void graph_builder::find_cycles(const std::vector<std::uint32_t>& indegree_left,
                                       const detail::csr<node_id>& parents) {
  // Every node Kahn's algorithm could not remove has a parent it could not
  // remove either (else its in-degree would have dropped to 0), so walking
  // such parents must revisit a node: the walk from there on is a cycle.
  static constexpr std::size_t max_cycles = 5;
  const std::size_t n = nodes_.size();
  std::vector<std::uint32_t> walk_of(n, 0);  // 1 + the walk that visited a node, 0 = never
  std::vector<std::size_t> position(n, 0);   // index in that walk
  std::uint32_t walks = 0;
  std::size_t cycles = 0;
  std::size_t unreported = 0;
  std::vector<std::uint32_t> walk;
  for (std::uint32_t start = 0; start < n; ++start) {
    if (indegree_left[start] == 0 || walk_of[start] != 0) continue;
    if (cycles == max_cycles) {
      ++unreported;
      continue;
    }
    ++walks;
    walk.clear();
    std::uint32_t node = start;
    while (walk_of[node] == 0) {
      walk_of[node] = walks;
      position[node] = walk.size();
      walk.push_back(node);
      for (node_id parent : parents.row(node)) {
        if (indegree_left[parent] != 0) {
          node = parent;
          break;
        }
      }
    }
    if (walk_of[node] != walks) continue;  // ran into a cycle found by an earlier walk
    // walk[position[node] ..] followed parents; print it in edge direction and
    // place it at the edge of the cycle that comes last in the input.
    const std::size_t first = position[node];
    std::vector<std::uint32_t> cycle;
    std::unordered_set<std::uint64_t> cycle_edges;
    for (std::size_t i = walk.size(); i-- > first;) {
      cycle.push_back(walk[i]);
      const std::uint32_t child = walk[i];
      const std::uint32_t parent = i + 1 < walk.size() ? walk[i + 1] : walk[first];
      cycle_edges.insert((std::uint64_t{parent} << 32) | child);
    }
    // Start the cycle at its first node in input order, for stable messages.
    std::rotate(cycle.begin(), std::min_element(cycle.begin(), cycle.end()), cycle.end());
    std::vector<std::string> names;
    for (std::uint32_t id : cycle) names.push_back(nodes_[id].name);
    // A long cycle is shown by its ends: "a > b > c > ... (N more) ... > y > z > a".
    static constexpr std::size_t shown_ends = 6;
    std::string text;
    for (std::size_t i = 0; i < names.size(); ++i) {
      if (names.size() > 3 * shown_ends && i == shown_ends) {
        text += " > ... (" + std::to_string(names.size() - 2 * shown_ends) + " more) ...";
        i = names.size() - shown_ends;
      }
      text += (text.empty() ? "" : " > ") + detail::one_line(names[i]);
    }
    text += " > " + detail::one_line(names.front());
    const stored_location* where = &nodes_[node].where;
    for (const pending_edge& edge : edges_) {
      if (cycle_edges.contains((std::uint64_t{edge.from} << 32) | edge.to)) where = &edge_locations_[edge.location];
    }
    ++cycles;
    report({expand(*where), "cycle: " + text + " (a label graph must be acyclic)", std::move(names)});
  }
  if (unreported != 0) {
    report({{source_, 0, {}},
            "... only the first " + std::to_string(max_cycles) + " cycles are shown; " + std::to_string(unreported) +
                " further nodes lie on or below a cycle",
            {}});
  }
}

inline bool graph_builder::sort_topologically(detail::graph_data& data) {
  // Kahn's algorithm (iterative); the nodes it cannot remove lie on or below
  // a cycle, and find_cycles names the cycles among them.
  const std::size_t n = nodes_.size();
  std::vector<std::uint32_t> indegree(n, 0);
  for (node_id v = 0; v < n; ++v) indegree[v] = static_cast<std::uint32_t>(data.parents.row(v).size());
  std::deque<node_id> ready;
  for (node_id v = 0; v < n; ++v) {
    if (indegree[v] == 0) ready.push_back(v);
  }
  data.topological_order.reserve(n);
  while (!ready.empty()) {
    node_id v = ready.front();
    ready.pop_front();
    data.topological_order.push_back(v);
    for (node_id child : data.children.row(v)) {
      if (--indegree[child] == 0) ready.push_back(child);
    }
  }
  if (data.topological_order.size() == n) return true;
  find_cycles(indegree, data.parents);
  return false;
}

inline void graph_builder::check_reachability(detail::graph_data& data, std::uint32_t root) {
  const std::size_t n = nodes_.size();
  data.root = root;
  std::vector<std::uint8_t> reached(n, 0);
  std::vector<node_id> stack{root};
  reached[root] = 1;
  while (!stack.empty()) {
    node_id v = stack.back();
    stack.pop_back();
    for (node_id child : data.children.row(v)) {
      if (!reached[child]) {
        reached[child] = 1;
        stack.push_back(child);
      }
    }
  }
  rule_reporter unreachable(*this, "nodes not reachable from the root");
  for (node_id v = 0; v < n; ++v) {
    if (reached[v] || !nodes_[v].declared) continue;
    std::string why = data.parents.row(v).empty() ? " (it has no parent)" : "";
    unreachable({expand(nodes_[v].where),
                 "node " + detail::in_quotes(nodes_[v].name) + " is not reachable from the root " +
                     detail::in_quotes(nodes_[root].name) + why,
                 {nodes_[v].name}});
  }
}

inline void graph_builder::check_groups(detail::graph_data& data, rule_reporter& undeclared,
                                        std::vector<const stored_location*>& member_where) {
  std::unordered_map<std::string_view, std::size_t> group_index;
  std::vector<std::pair<std::uint32_t, node_id>> members;
  rule_reporter bad_members(*this, "problems with group members");
  for (std::size_t g = 0; g < groups_.size(); ++g) {
    const pending_group& group = groups_[g];
    const std::string group_name = detail::in_quotes(group.name);
    if (group.name.empty()) {
      report({expand(group.where), "group name is empty", {}});
      continue;
    }
    if (!group_index.emplace(group.name, g).second) {
      report({expand(group.where), "group " + group_name + " is declared twice", {}});
      continue;
    }
    if (group.members.empty()) {
      report({expand(group.where), "group " + group_name + " has no members", {}});
      continue;
    }
    auto id = static_cast<group_id>(data.group_names.size());
    data.group_names.push_back(group.name);
    data.group_declared.push_back(true);
    for (std::size_t m = 0; m < group.members.size(); ++m) {
      const std::uint32_t node = group.members[m];
      const pending_node& member = nodes_[node];
      const stored_location& where = group.member_locations[m];
      const std::string member_name = detail::in_quotes(member.name);
      if (!member.declared) {
        undeclared({expand(where), "group " + group_name + " names undeclared node " + member_name + undeclared_hint(node),
                    {member.name}});
        continue;
      }
      if (member.kind == node_kind::root) {
        bad_members({expand(where), "the root " + member_name + " cannot be in a group (" + group_name + ")",
                     {member.name}});
        continue;
      }
      if (data.node_group[node] == id) {
        bad_members({expand(where), "node " + member_name + " is listed twice in group " + group_name, {member.name}});
        continue;
      }
      if (data.node_group[node] != no_group) {
        bad_members({expand(where),
                     "node " + member_name + " is in two groups: " + detail::in_quotes(data.group_names[data.node_group[node]]) +
                         " and " + group_name + " (a node belongs to at most one group)",
                     {member.name}});
        continue;
      }
      data.node_group[node] = id;
      member_where[node] = &where;
      members.emplace_back(id, node);
    }
  }
  data.group_members = detail::make_csr(data.group_names.size(), members);
}

inline void graph_builder::check_group_ancestry(const detail::graph_data& data,
                                                const std::vector<const stored_location*>& member_where) {
  // Members of one group are alternatives; an ancestor and its descendant can
  // never be. One upward search per group, from all its members at once:
  // the first member met above a member is an ancestor in the same group.
  // Cost: the ancestors of the group's members, once per declared group.
  // (Sibling-rule groups cannot break this rule: equal parent sets and no cycle.)
  const std::size_t n = nodes_.size();
  std::vector<group_id> visited(n, no_group);  // group whose search reached the node
  std::vector<group_id> flagged(n, no_group);  // group in which the node was reported as an ancestor
  std::vector<node_id> origin(n, no_node);     // the member whose search reached the node first
  std::vector<node_id> stack;
  rule_reporter ancestry(*this, "nodes grouped with their ancestors");
  for (group_id g = 0; g < data.group_names.size(); ++g) {
    auto members = data.group_members.row(g);
    if (members.size() < 2) continue;
    stack.clear();
    for (node_id member : members) {
      visited[member] = g;
      origin[member] = member;
      stack.push_back(member);
    }
    while (!stack.empty()) {
      const node_id node = stack.back();
      stack.pop_back();
      for (node_id parent : data.parents.row(node)) {
        if (data.node_group[parent] == g) {
          if (flagged[parent] == g) continue;
          flagged[parent] = g;
          const pending_node& descendant = nodes_[origin[node]];
          const pending_node& ancestor = nodes_[parent];
          ancestry({expand(*member_where[origin[node]]),
                    "node " + detail::in_quotes(descendant.name) + " is in group " + detail::in_quotes(data.group_names[g]) +
                        " with its ancestor " + detail::in_quotes(ancestor.name) +
                        " (an ancestor can never be an alternative to its descendant)",
                    {descendant.name, ancestor.name}});
          continue;
        }
        if (visited[parent] == g) continue;
        visited[parent] = g;
        origin[parent] = origin[node];
        stack.push_back(parent);
      }
    }
  }
}

inline void graph_builder::add_sibling_groups(detail::graph_data& data) {
  // Default rule: undeclared nodes with exactly the same parent set compete.
  // Parent sets are compared sorted, through a hash table keyed by views into
  // one sorted copy of the parent lists (no allocation per node).
  std::vector<node_id> sorted_parents = data.parents.items;
  const std::size_t n = data.names.size();
  for (node_id node = 0; node < n; ++node) {
    std::sort(sorted_parents.begin() + static_cast<std::ptrdiff_t>(data.parents.offsets[node]),
              sorted_parents.begin() + static_cast<std::ptrdiff_t>(data.parents.offsets[node + 1]));
  }
  // Generated names can only collide with a declared "siblings of ..." group,
  // or with each other through a '+' inside node names (parents {"a+b"} and
  // {"a", "b"}); only then is a set of the names taken needed.
  const bool collisions_possible =
      std::any_of(data.group_names.begin(), data.group_names.end(),
                  [](const std::string& name) { return name.starts_with("siblings of "); }) ||
      std::any_of(data.names.begin(), data.names.end(),
                  [](const std::string& name) { return name.find('+') != std::string::npos; });
  std::unordered_set<std::string> used_names;
  if (collisions_possible) used_names.insert(data.group_names.begin(), data.group_names.end());
  // One parent (the common case) indexes an array; larger sets a hash table.
  std::vector<group_id> by_single_parent(n, no_group);
  std::unordered_map<std::span<const node_id>, group_id, detail::node_span_hash, detail::node_span_equal> by_parents;
  auto add_group = [&](std::span<const node_id> parents) {
    // "siblings of cat", "siblings of shorthair+tabby"; "#2", "#3" ... when
    // that name is taken.
    std::string name = "siblings of ";
    for (std::size_t i = 0; i < parents.size(); ++i) name += (i ? "+" : "") + data.names[parents[i]];
    if (collisions_possible) {
      std::string unique = name;
      for (int suffix = 2; used_names.contains(unique); ++suffix) unique = name + " #" + std::to_string(suffix);
      used_names.insert(unique);
      name = std::move(unique);
    }
    data.group_names.push_back(std::move(name));
    data.group_declared.push_back(false);
    return static_cast<group_id>(data.group_names.size() - 1);
  };
  std::vector<std::pair<std::uint32_t, node_id>> members;
  members.reserve(n);
  for (group_id g = 0; g < data.group_names.size(); ++g) {
    for (node_id node : data.group_members.row(g)) members.emplace_back(g, node);
  }
  for (node_id node = 0; node < n; ++node) {
    if (node == data.root || data.node_group[node] != no_group) continue;
    std::span<const node_id> key(sorted_parents.data() + data.parents.offsets[node],
                                 sorted_parents.data() + data.parents.offsets[node + 1]);
    group_id group = no_group;
    if (key.size() == 1) {
      group = by_single_parent[key[0]];
      if (group == no_group) group = by_single_parent[key[0]] = add_group(key);
    } else {
      auto found = by_parents.find(key);
      group = found != by_parents.end() ? found->second : by_parents.emplace(key, add_group(key)).first->second;
    }
    data.node_group[node] = group;
    members.emplace_back(group, node);
  }
  data.group_members = detail::make_csr(data.group_names.size(), members);
}

inline label_graph graph_builder::build() {
  struct reset_on_exit {
    graph_builder& builder;
    ~reset_on_exit() { builder.reset(); }
  } reset_guard{*this};

  auto data = std::make_shared<detail::graph_data>();
  data->source = source_;
  const std::size_t n = nodes_.size();
  if (n >= no_node) {
    report({{source_, 0, {}}, "too many nodes: " + std::to_string(n) + " (at most 2^32-2)", {}});
    LABELGRAPH_THROW(graph_error(std::move(problems_)));
  }

  std::vector<std::uint32_t> roots;
  check_nodes(roots);

  {
    // Undeclared names are reported at each use (edge, group member), with
    // one summary line for the rule: the reporter lives until the groups are done.
    rule_reporter undeclared(*this, "uses of undeclared nodes");
    check_edges(*data, undeclared);

    const bool acyclic = sort_topologically(*data);
    if (roots.size() == 1) check_reachability(*data, roots[0]);

    data->node_group.assign(n, no_group);
    std::vector<const stored_location*> member_where(n, nullptr);
    check_groups(*data, undeclared, member_where);
    if (acyclic) check_group_ancestry(*data, member_where);
  }
  if (has_problems()) LABELGRAPH_THROW(graph_error(std::move(problems_)));

  // All valid: move the names and kinds into the immutable graph.
  data->dataset_names = datasets_;
  std::vector<std::pair<std::uint32_t, dataset_id>> node_datasets;
  data->names.reserve(n);
  data->kinds.reserve(n);
  data->index.reserve(n);
  for (node_id v = 0; v < n; ++v) {
    for (const auto& dataset : datasets_of(nodes_[v])) node_datasets.emplace_back(v, dataset_index_.find(dataset)->second);
    data->kinds.push_back(nodes_[v].kind);
    data->index.emplace(nodes_[v].name, v);
    data->names.push_back(std::move(nodes_[v].name));
  }
  data->node_datasets = detail::make_csr(n, node_datasets);
  add_sibling_groups(*data);
  return label_graph(std::move(data));
}

}  // namespace labelgraph
