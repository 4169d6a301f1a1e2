#pragma once
/// \file
/// `label_graph`: the immutable label DAG (docs/model.md, "Label graph").
///
/// A graph is a cheap handle to shared, immutable data: copying it copies one
/// pointer, and any number of threads may read it at once. It is made only by
/// `graph_builder::build()`, which validates everything first, so every
/// `label_graph` is a DAG with one root, every node reachable from it, and
/// non-root nodes partitioned into competing groups.

#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "labelgraph/error.hpp"

namespace labelgraph {

/// Index of a node, 0 .. node_count()-1.
using node_id = std::uint32_t;
/// Index of a competing group, 0 .. group_count()-1.
using group_id = std::uint32_t;
/// Index of a dataset, 0 .. dataset_count()-1.
using dataset_id = std::uint32_t;

/// "No node" / "no group": the root has no group, a missing name has no node.
inline constexpr node_id no_node = std::numeric_limits<node_id>::max();
/// The group of the root.
inline constexpr group_id no_group = std::numeric_limits<group_id>::max();

/// What a node is: the single root, a label of one or more datasets, or an
/// augmented (knowledge) node.
enum class node_kind : std::uint8_t {
  root,      ///< the start of every path
  label,     ///< a class of at least one dataset
  augmented  ///< a knowledge node added to connect labels
};

/// "root", "label" or "augmented", as in the graph file.
[[nodiscard]] constexpr std::string_view to_string(node_kind kind) noexcept {
  switch (kind) {
    case node_kind::root: return "root";
    case node_kind::label: return "label";
    case node_kind::augmented: return "augmented";
  }
  return "?";
}

namespace detail {

/// Compressed sparse rows: the neighbours of row `i` are
/// `items[offsets[i] .. offsets[i+1])`.
template <class T>
struct csr {
  std::vector<std::uint64_t> offsets{0};
  std::vector<T> items;

  [[nodiscard]] std::span<const T> row(std::size_t i) const noexcept {
    return {items.data() + offsets[i], items.data() + offsets[i + 1]};
  }
  [[nodiscard]] std::size_t rows() const noexcept { return offsets.size() - 1; }
};

/// Transparent hash so `find(std::string_view)` needs no temporary string.
struct string_hash {
  using is_transparent = void;
  [[nodiscard]] std::size_t operator()(std::string_view text) const noexcept {
    return std::hash<std::string_view>{}(text);
  }
};

struct graph_data {
  std::string source;  // file or other origin, for messages
  node_id root = no_node;
  std::vector<std::string> names;
  std::unordered_map<std::string, node_id, string_hash, std::equal_to<>> index;
  std::vector<node_kind> kinds;
  std::vector<std::string> dataset_names;
  csr<dataset_id> node_datasets;
  csr<node_id> children;
  csr<node_id> parents;
  std::vector<node_id> topological_order;  // parents before children
  std::vector<std::string> group_names;
  std::vector<bool> group_declared;  // false: made by the sibling rule
  csr<node_id> group_members;
  std::vector<group_id> node_group;  // no_group for the root
  std::size_t edge_count = 0;
};

}  // namespace detail

/// The label graph G = (V, E) with its competing groups.
class label_graph {
public:
  /// An empty handle; only `graph_builder::build()` makes a usable graph.
  label_graph() = default;

  /// True for a default-constructed handle.
  [[nodiscard]] bool empty() const noexcept { return data_ == nullptr; }
  /// |V|, the root included.
  [[nodiscard]] std::size_t node_count() const noexcept { return data_ ? data_->names.size() : 0; }
  /// |E|.
  [[nodiscard]] std::size_t edge_count() const noexcept { return data_ ? data_->edge_count : 0; }
  /// Competing groups, declared and sibling-rule ones.
  [[nodiscard]] std::size_t group_count() const noexcept { return data_ ? data_->group_names.size() : 0; }
  /// Datasets declared by the graph.
  [[nodiscard]] std::size_t dataset_count() const noexcept { return data_ ? data_->dataset_names.size() : 0; }
  /// The file (or other origin) the graph was read from; used in messages.
  [[nodiscard]] const std::string& source() const noexcept { return data_->source; }

  /// The single root r.
  [[nodiscard]] node_id root() const noexcept { return data_->root; }
  /// The node's unique name.
  [[nodiscard]] std::string_view name(node_id node) const noexcept { return data_->names[node]; }
  /// Root, label or augmented.
  [[nodiscard]] node_kind kind(node_id node) const noexcept { return data_->kinds[node]; }
  /// True for label nodes (those that belong to datasets).
  [[nodiscard]] bool is_label(node_id node) const noexcept { return kind(node) == node_kind::label; }
  /// True for nodes without children.
  [[nodiscard]] bool is_leaf(node_id node) const noexcept { return children(node).empty(); }

  /// O(1) average lookup; `no_node` when the name is not in the graph.
  [[nodiscard]] node_id find(std::string_view name) const noexcept {
    auto it = data_->index.find(name);
    return it == data_->index.end() ? no_node : it->second;
  }
  /// Like `find`, but a missing name is an `argument_error` naming the graph.
  [[nodiscard]] node_id at(std::string_view name) const {
    node_id node = find(name);
    if (node == no_node) {
      LABELGRAPH_THROW(argument_error((source().empty() ? std::string() : source() + ": ") + "no node named '" +
                                      std::string(name) + "' in the graph"));
    }
    return node;
  }

  /// Children in the order their edges were declared.
  [[nodiscard]] std::span<const node_id> children(node_id node) const noexcept { return data_->children.row(node); }
  /// Parents in the order their edges were declared.
  [[nodiscard]] std::span<const node_id> parents(node_id node) const noexcept { return data_->parents.row(node); }
  /// Every node, parents before children (the order of DP over the DAG).
  [[nodiscard]] std::span<const node_id> topological_order() const noexcept { return data_->topological_order; }

  /// The name of a dataset.
  [[nodiscard]] std::string_view dataset_name(dataset_id dataset) const noexcept { return data_->dataset_names[dataset]; }
  /// The datasets a label node belongs to (empty for root and augmented nodes).
  [[nodiscard]] std::span<const dataset_id> datasets(node_id node) const noexcept { return data_->node_datasets.row(node); }

  /// The competing group of a non-root node (`no_group` for the root).
  [[nodiscard]] group_id group(node_id node) const noexcept { return data_->node_group[node]; }
  /// A declared group's name, or "siblings of P" for a sibling-rule group.
  [[nodiscard]] std::string_view group_name(group_id group) const noexcept { return data_->group_names[group]; }
  /// The members of a group, in declaration order.
  [[nodiscard]] std::span<const node_id> group_members(group_id group) const noexcept { return data_->group_members.row(group); }
  /// False for the groups formed by the default sibling rule.
  [[nodiscard]] bool group_declared(group_id group) const noexcept { return data_->group_declared[group]; }

  /// Def. 3.1: u and w compete iff they are distinct members of one group.
  [[nodiscard]] bool competes(node_id u, node_id w) const noexcept {
    return u != w && group(u) != no_group && group(u) == group(w);
  }

  /// Two handles to the same graph data (not a structural comparison).
  [[nodiscard]] bool same_as(const label_graph& other) const noexcept { return data_ == other.data_; }

private:
  friend class graph_builder;
  explicit label_graph(std::shared_ptr<const detail::graph_data> data) : data_(std::move(data)) {}
  std::shared_ptr<const detail::graph_data> data_;
};

}  // namespace labelgraph
