#pragma once
/// \file
/// `graph_builder`: collects nodes, edges and groups, then validates all of
/// them at once in `build()` (DESIGN.md section 7 lists the rules).
///
/// Readers (JSON, WordNet) feed a builder and attach an `input_location` to
/// every item, so that each problem `build()` reports names the file, the line,
/// the place in the document and the nodes involved. Every algorithm here is
/// iterative: a 1,000,000-node chain validates without deep recursion.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "labelgraph/error.hpp"
#include "labelgraph/graph/label_graph.hpp"

namespace labelgraph {

class graph_builder {
public:
  /// Problems of one kind beyond this many are summarised in one line.
  static constexpr std::size_t max_problems_per_rule = 20;

  /// `source` names the input (a file path) in every message.
  explicit graph_builder(std::string source = {}) : source_(std::move(source)) {}

  [[nodiscard]] const std::string& source() const noexcept { return source_; }

  void reserve(std::size_t nodes, std::size_t edges) {
    nodes_.reserve(nodes);
    index_.reserve(nodes);
    edges_.reserve(edges);
  }

  /// Declares a dataset that label nodes may name.
  void add_dataset(std::string name, input_location where = {}) {
    where = located(std::move(where));
    if (name.empty()) {
      report({where, "dataset name is empty", {}});
      return;
    }
    if (dataset_index_.contains(name)) {
      report({where, "dataset '" + name + "' is declared twice", {}});
      return;
    }
    dataset_index_.emplace(name, static_cast<dataset_id>(datasets_.size()));
    datasets_.push_back(std::move(name));
  }

  /// Declares a node. `datasets` is required for labels and forbidden otherwise.
  void add_node(std::string name, node_kind kind, std::vector<std::string> datasets = {},
                input_location where = {}) {
    where = located(std::move(where));
    if (name.empty()) {
      report({where, "node name is empty", {}});
      return;
    }
    std::uint32_t id = intern(name, where);
    pending_node& node = nodes_[id];
    if (node.declared) {
      report({where, "duplicate node name '" + name + "' (first declared at " + node.where.str() + ")", {name}});
      return;
    }
    node.declared = true;
    node.kind = kind;
    node.datasets = std::move(datasets);
    node.where = std::move(where);
  }

  /// Adds the edge parent -> child. Names may be declared later; `build()`
  /// reports the ones that never are.
  void add_edge(std::string_view parent, std::string_view child, input_location where = {}) {
    where = located(std::move(where));
    std::uint32_t from = intern(parent, where);
    std::uint32_t to = intern(child, where);
    edges_.push_back({from, to, static_cast<std::uint32_t>(edge_locations_.size())});
    edge_locations_.push_back(std::move(where));
  }

  /// Declares a competing group. `member_locations`, when given, has one
  /// location per member (else the group's location is used for each).
  void add_group(std::string name, const std::vector<std::string>& members, input_location where = {},
                 std::vector<input_location> member_locations = {}) {
    where = located(std::move(where));
    pending_group group;
    group.name = std::move(name);
    group.where = where;
    for (std::size_t i = 0; i < members.size(); ++i) {
      input_location member_where = i < member_locations.size() ? located(std::move(member_locations[i])) : where;
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

  [[nodiscard]] bool has_problems() const noexcept { return !problems_.empty(); }
  [[nodiscard]] const std::vector<graph_problem>& problems() const noexcept { return problems_; }

  /// Validates everything and returns the immutable graph, or throws one
  /// `graph_error` listing every problem found.
  [[nodiscard]] label_graph build();

private:
  struct pending_node {
    std::string name;
    bool declared = false;
    node_kind kind = node_kind::augmented;
    std::vector<std::string> datasets;
    input_location where;        // of the declaration, or of first use
  };
  struct pending_edge {
    std::uint32_t from, to, location;
  };
  struct pending_group {
    std::string name;
    input_location where;
    std::vector<std::uint32_t> members;
    std::vector<input_location> member_locations;
  };

  input_location located(input_location where) const {
    if (where.source.empty()) where.source = source_;
    return where;
  }

  std::uint32_t intern(std::string_view name, const input_location& where) {
    auto it = index_.find(name);
    if (it != index_.end()) return it->second;
    auto id = static_cast<std::uint32_t>(nodes_.size());
    nodes_.push_back({std::string(name), false, node_kind::augmented, {}, where});
    index_.emplace(std::string(name), id);
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
  void check_groups(std::vector<group_id>& node_group, detail::graph_data& data);
  void find_cycle(const std::vector<std::uint32_t>& indegree_left, const detail::csr<node_id>& parents);
  void check_group_ancestry(const detail::graph_data& data);
  void add_sibling_groups(detail::graph_data& data);

  std::string source_;
  std::vector<pending_node> nodes_;
  std::unordered_map<std::string, std::uint32_t, detail::string_hash, std::equal_to<>> index_;
  std::vector<pending_edge> edges_;
  std::vector<input_location> edge_locations_;
  std::vector<pending_group> groups_;
  std::vector<std::string> datasets_;
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

inline std::string quoted_list(const std::vector<std::string>& names, std::string_view separator = ", ") {
  std::string text;
  for (const auto& name : names) {
    if (!text.empty()) text += separator;
    text += "'" + name + "'";
  }
  return text;
}

}  // namespace detail

inline void graph_builder::check_nodes(std::vector<std::uint32_t>& roots) {
  rule_reporter undeclared(*this, "undeclared nodes");
  for (std::uint32_t id = 0; id < nodes_.size(); ++id) {
    pending_node& node = nodes_[id];
    if (!node.declared) {
      undeclared({node.where, "node '" + node.name + "' is used but not declared in the node list", {node.name}});
      continue;
    }
    if (node.kind == node_kind::root) roots.push_back(id);
    if (node.kind == node_kind::label && node.datasets.empty()) {
      report({node.where, "label node '" + node.name + "' names no dataset (a label belongs to at least one)", {node.name}});
    }
    if (node.kind != node_kind::label && !node.datasets.empty()) {
      report({node.where,
              std::string(to_string(node.kind)) + " node '" + node.name + "' names datasets; only label nodes belong to datasets",
              {node.name}});
    }
    std::unordered_set<std::string_view> seen;
    for (const auto& dataset : node.datasets) {
      if (!dataset_index_.contains(dataset)) {
        report({node.where, "node '" + node.name + "' names undeclared dataset '" + dataset + "'", {node.name}});
      } else if (!seen.insert(dataset).second) {
        report({node.where, "node '" + node.name + "' names dataset '" + dataset + "' twice", {node.name}});
      }
    }
  }
  if (roots.empty() && !nodes_.empty()) {
    report({{source_, 0, "/nodes"}, "no root node: exactly one node must have kind 'root'", {}});
  } else if (nodes_.empty()) {
    report({{source_, 0, "/nodes"}, "the graph has no nodes: exactly one node must have kind 'root'", {}});
  }
  for (std::size_t i = 1; i < roots.size(); ++i) {
    const pending_node& extra = nodes_[roots[i]];
    report({extra.where,
            "second root node '" + extra.name + "' (the root is already '" + nodes_[roots[0]].name +
                "'; exactly one node may have kind 'root')",
            {nodes_[roots[0]].name, extra.name}});
  }
}

inline void graph_builder::find_cycle(const std::vector<std::uint32_t>& indegree_left,
                                      const detail::csr<node_id>& parents) {
  // Every node Kahn's algorithm could not remove has a parent it could not
  // remove either, so walking such parents must revisit a node: a cycle.
  std::vector<std::uint8_t> reported(nodes_.size(), 0);
  std::size_t cycles = 0;
  for (std::uint32_t start = 0; start < nodes_.size() && cycles < 5; ++start) {
    if (indegree_left[start] == 0 || reported[start]) continue;
    std::unordered_map<std::uint32_t, std::size_t> position;
    std::vector<std::uint32_t> walk;
    std::uint32_t node = start;
    while (!position.contains(node) && !reported[node]) {
      position.emplace(node, walk.size());
      walk.push_back(node);
      for (node_id parent : parents.row(node)) {
        if (indegree_left[parent] != 0) {
          node = parent;
          break;
        }
      }
    }
    for (std::uint32_t visited : walk) reported[visited] = 1;
    if (!position.contains(node)) continue;  // ran into an already reported cycle
    // walk[position[node] ..] followed parents; print it in edge direction.
    std::vector<std::string> names;
    for (std::size_t i = walk.size(); i-- > position[node];) names.push_back(nodes_[walk[i]].name);
    names.push_back(names.front());
    std::string text;
    for (const auto& name : names) text += (text.empty() ? "" : " > ") + name;
    ++cycles;
    names.pop_back();
    report({nodes_[node].where, "cycle: " + text + " (a label graph must be acyclic)", names});
  }
}

inline void graph_builder::check_groups(std::vector<group_id>& node_group, detail::graph_data& data) {
  std::unordered_map<std::string_view, std::size_t> group_index;
  std::vector<std::pair<std::uint32_t, node_id>> members;
  for (std::size_t g = 0; g < groups_.size(); ++g) {
    pending_group& group = groups_[g];
    if (group.name.empty()) {
      report({group.where, "group name is empty", {}});
      continue;
    }
    if (!group_index.emplace(group.name, g).second) {
      report({group.where, "group '" + group.name + "' is declared twice", {}});
      continue;
    }
    if (group.members.empty()) {
      report({group.where, "group '" + group.name + "' has no members", {}});
      continue;
    }
    auto id = static_cast<group_id>(data.group_names.size());
    data.group_names.push_back(group.name);
    data.group_declared.push_back(true);
    for (std::size_t m = 0; m < group.members.size(); ++m) {
      std::uint32_t node = group.members[m];
      const pending_node& member = nodes_[node];
      const input_location& where = group.member_locations[m];
      if (!member.declared) continue;  // reported as undeclared
      if (member.kind == node_kind::root) {
        report({where, "the root '" + member.name + "' cannot be in a group ('" + group.name + "')", {member.name}});
        continue;
      }
      if (node_group[node] == id) {
        report({where, "node '" + member.name + "' is listed twice in group '" + group.name + "'", {member.name}});
        continue;
      }
      if (node_group[node] != no_group) {
        report({where,
                "node '" + member.name + "' is in two groups: '" + data.group_names[node_group[node]] + "' and '" +
                    group.name + "' (a node belongs to at most one group)",
                {member.name}});
        continue;
      }
      node_group[node] = id;
      members.emplace_back(id, node);
    }
  }
  data.group_members = detail::make_csr(data.group_names.size(), members);
}

inline void graph_builder::check_group_ancestry(const detail::graph_data& data) {
  // Members of one group are alternatives; an ancestor and its descendant can
  // never be. Siblings-rule groups cannot hit this (same parents, acyclic).
  const std::size_t n = nodes_.size();
  std::vector<std::uint32_t> stamp(n, 0);
  std::uint32_t search = 0;
  std::vector<node_id> stack;
  for (group_id g = 0; g < data.group_names.size(); ++g) {
    auto members = data.group_members.row(g);
    if (members.size() < 2) continue;
    std::unordered_set<node_id> in_group(members.begin(), members.end());
    for (node_id member : members) {
      ++search;
      stack.assign(data.parents.row(member).begin(), data.parents.row(member).end());
      while (!stack.empty()) {
        node_id node = stack.back();
        stack.pop_back();
        if (stamp[node] == search) continue;
        stamp[node] = search;
        if (in_group.contains(node)) {
          report({nodes_[member].where,
                  "node '" + nodes_[member].name + "' is in group '" + data.group_names[g] + "' with its ancestor '" +
                      nodes_[node].name + "' (an ancestor can never be an alternative to its descendant)",
                  {nodes_[member].name, nodes_[node].name}});
          break;
        }
        for (node_id parent : data.parents.row(node)) stack.push_back(parent);
      }
    }
  }
}

inline void graph_builder::add_sibling_groups(detail::graph_data& data) {
  // Default rule: undeclared nodes with exactly the same parent set compete.
  std::unordered_set<std::string> used_names(data.group_names.begin(), data.group_names.end());
  std::map<std::vector<node_id>, group_id> by_parents;
  std::vector<std::pair<std::uint32_t, node_id>> members;
  for (group_id g = 0; g < data.group_names.size(); ++g) {
    for (node_id node : data.group_members.row(g)) members.emplace_back(g, node);
  }
  for (node_id node = 0; node < data.names.size(); ++node) {
    if (node == data.root || data.node_group[node] != no_group) continue;
    auto parent_row = data.parents.row(node);
    std::vector<node_id> key(parent_row.begin(), parent_row.end());
    std::sort(key.begin(), key.end());
    auto [it, inserted] = by_parents.try_emplace(std::move(key), static_cast<group_id>(data.group_names.size()));
    if (inserted) {
      std::string name = "siblings of ";
      for (std::size_t i = 0; i < it->first.size(); ++i) name += (i ? "+" : "") + data.names[it->first[i]];
      std::string unique = name;
      for (int suffix = 2; used_names.contains(unique); ++suffix) unique = name + " #" + std::to_string(suffix);
      used_names.insert(unique);
      data.group_names.push_back(std::move(unique));
      data.group_declared.push_back(false);
    }
    data.node_group[node] = it->second;
    members.emplace_back(it->second, node);
  }
  data.group_members = detail::make_csr(data.group_names.size(), members);
}

inline label_graph graph_builder::build() {
  auto data = std::make_shared<detail::graph_data>();
  data->source = source_;
  const std::size_t n = nodes_.size();
  if (n >= no_node) report({{source_, 0, {}}, "too many nodes: " + std::to_string(n) + " (at most 2^32-2)", {}});
  if (has_problems() && n >= no_node) LABELGRAPH_THROW(graph_error(problems_));

  std::vector<std::uint32_t> roots;
  check_nodes(roots);

  // Edges: endpoints declared, no self loops, no duplicates, none into the root.
  std::vector<std::pair<std::uint32_t, node_id>> child_pairs, parent_pairs;
  child_pairs.reserve(edges_.size());
  parent_pairs.reserve(edges_.size());
  {
    std::unordered_set<std::uint64_t> seen;
    seen.reserve(edges_.size());
    rule_reporter bad_edges(*this, "edge problems");
    for (const pending_edge& edge : edges_) {
      const pending_node& from = nodes_[edge.from];
      const pending_node& to = nodes_[edge.to];
      const input_location& where = edge_locations_[edge.location];
      if (!from.declared || !to.declared) {
        const pending_node& missing = from.declared ? to : from;
        bad_edges({where, "edge " + from.name + " > " + to.name + " names undeclared node '" + missing.name + "'",
                   {missing.name}});
        continue;
      }
      if (edge.from == edge.to) {
        bad_edges({where, "self-loop on node '" + from.name + "' (a label graph must be acyclic)", {from.name}});
        continue;
      }
      if (!seen.insert((std::uint64_t{edge.from} << 32) | edge.to).second) {
        bad_edges({where, "duplicate edge " + from.name + " > " + to.name, {from.name, to.name}});
        continue;
      }
      if (to.kind == node_kind::root) {
        bad_edges({where, "edge " + from.name + " > " + to.name + " points at the root '" + to.name +
                              "' (the root has no parents)",
                   {from.name, to.name}});
        continue;
      }
      child_pairs.emplace_back(edge.from, edge.to);
      parent_pairs.emplace_back(edge.to, edge.from);
    }
  }
  data->edge_count = child_pairs.size();
  data->children = detail::make_csr(n, child_pairs);
  data->parents = detail::make_csr(n, parent_pairs);
  child_pairs = {};
  parent_pairs = {};

  // Acyclicity (Kahn, iterative) and the topological order.
  std::vector<std::uint32_t> indegree(n, 0);
  for (node_id v = 0; v < n; ++v) indegree[v] = static_cast<std::uint32_t>(data->parents.row(v).size());
  {
    std::deque<node_id> ready;
    for (node_id v = 0; v < n; ++v) {
      if (indegree[v] == 0) ready.push_back(v);
    }
    data->topological_order.reserve(n);
    while (!ready.empty()) {
      node_id v = ready.front();
      ready.pop_front();
      data->topological_order.push_back(v);
      for (node_id child : data->children.row(v)) {
        if (--indegree[child] == 0) ready.push_back(child);
      }
    }
  }
  const bool acyclic = data->topological_order.size() == n;
  if (!acyclic) find_cycle(indegree, data->parents);

  // Reachability from the single root.
  if (roots.size() == 1) {
    data->root = roots[0];
    std::vector<std::uint8_t> reached(n, 0);
    std::vector<node_id> stack{data->root};
    reached[data->root] = 1;
    while (!stack.empty()) {
      node_id v = stack.back();
      stack.pop_back();
      for (node_id child : data->children.row(v)) {
        if (!reached[child]) {
          reached[child] = 1;
          stack.push_back(child);
        }
      }
    }
    rule_reporter unreachable(*this, "nodes not reachable from the root");
    for (node_id v = 0; v < n; ++v) {
      if (reached[v] || !nodes_[v].declared) continue;
      std::string why = data->parents.row(v).empty() ? " (it has no parent)" : "";
      unreachable({nodes_[v].where,
                   "node '" + nodes_[v].name + "' is not reachable from the root '" + nodes_[data->root].name + "'" + why,
                   {nodes_[v].name}});
    }
  }

  data->node_group.assign(n, no_group);
  check_groups(data->node_group, *data);
  if (acyclic) check_group_ancestry(*data);

  if (has_problems()) LABELGRAPH_THROW(graph_error(problems_));

  // All valid: move the names and kinds into the immutable graph.
  data->dataset_names = datasets_;
  std::vector<std::pair<std::uint32_t, dataset_id>> node_datasets;
  data->names.reserve(n);
  data->kinds.reserve(n);
  data->index.reserve(n);
  for (node_id v = 0; v < n; ++v) {
    for (const auto& dataset : nodes_[v].datasets) node_datasets.emplace_back(v, dataset_index_.find(dataset)->second);
    data->kinds.push_back(nodes_[v].kind);
    data->index.emplace(nodes_[v].name, v);
    data->names.push_back(std::move(nodes_[v].name));
  }
  data->node_datasets = detail::make_csr(n, node_datasets);
  add_sibling_groups(*data);

  nodes_.clear();
  index_.clear();
  edges_.clear();
  edge_locations_.clear();
  groups_.clear();
  return label_graph(std::move(data));
}

}  // namespace labelgraph
