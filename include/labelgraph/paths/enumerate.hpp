#pragma once
/// \file
/// `enumerate_paths`: every root-to-v path, lazily, one at a time, within
/// explicit bounds (docs/model.md, "Paths").
///
/// The walk goes *backwards* from v along parent edges with an explicit stack
/// (no recursion: a 1,000,000-node chain enumerates). Backwards is the cheap
/// direction: every non-root node has a parent and every parent chain ends at
/// the root, so no branch is a dead end and consecutive paths cost at most
/// O(path length) to produce. The current path is kept root..v in one
/// contiguous buffer (filled from its back), so it is handed out as a span
/// without copying.
///
/// Order: lexicographic in parent order, read from v towards the root. The
/// first path takes the first parent at every step; the choice nearest the
/// root varies fastest, the choice of v's parent slowest. The order depends
/// only on the graph, never on addresses or hashing.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "labelgraph/error.hpp"
#include "labelgraph/graph/label_graph.hpp"
#include "labelgraph/paths/detail/arguments.hpp"

namespace labelgraph {

/// Bounds on an enumeration; reaching one throws `limit_error`.
struct path_limits {
  std::uint64_t max_paths = 1'000'000;  ///< most paths of one node
  std::size_t max_length = 100'000;     ///< most nodes on one path, root and target included
  /// Most tokens a `target_table` may hold, all labels together (4 bytes each:
  /// 1 GiB); checked by counting before anything is stored.
  std::uint64_t max_tokens = std::uint64_t{1} << 28;
};

namespace detail {
/// The `limit_error` for a target with more than `limits.max_paths` paths.
[[noreturn]] inline void throw_too_many_paths(const label_graph& graph, node_id target, const path_limits& limits) {
  LABELGRAPH_THROW(limit_error(source_prefix(graph) + node_phrase(graph, target) + " has more than " +
                               std::to_string(limits.max_paths) + " paths (path_limits::max_paths)"));
}
}  // namespace detail

/// The lazy input range returned by `enumerate_paths`. Iterating yields each
/// path as `std::span<const node_id>` (root first, target last), valid until
/// the next increment. Single pass; iterators point into the range, so keep the
/// range alive (and in place) while iterating. Also usable as a cursor:
/// `while (range.next()) use(range.path());`.
class path_range {
public:
  /// Input iterator over the paths; compare with `std::default_sentinel`.
  class iterator {
  public:
    using value_type = std::span<const node_id>;       ///< one path, root first; valid until the next increment
    using difference_type = std::ptrdiff_t;            ///< required by std::input_iterator
    using iterator_concept = std::input_iterator_tag;  ///< single pass

    /// A singular iterator, equal to the end.
    iterator() = default;
    /// The current path, root..target; valid until the next increment.
    [[nodiscard]] value_type operator*() const noexcept { return range_->path(); }
    /// Moves to the next path; throws `limit_error` when it would break a bound.
    iterator& operator++() {
      range_->advance();
      return *this;
    }
    /// Same as `++it` (input iterators return nothing from `it++`).
    void operator++(int) { ++*this; }
    /// True at the end of the paths.
    [[nodiscard]] friend bool operator==(const iterator& it, std::default_sentinel_t) noexcept {
      return it.range_ == nullptr || it.range_->done();
    }

  private:
    friend class path_range;
    explicit iterator(path_range* range) noexcept : range_(range) {}
    path_range* range_ = nullptr;
  };

  /// Paths of `target` in `graph`; nothing is computed until the first path is asked for.
  path_range(label_graph graph, node_id target, path_limits limits) : graph_(std::move(graph)), limits_(limits) {
    detail::check_node(graph_, target, "enumerate_paths");
    target_ = target;
  }

  /// A range over `graph` with no target yet (it yields nothing): aim it with
  /// `retarget`. For enumerating the paths of many targets with one set of
  /// buffers. Throws `argument_error` when the graph is empty.
  explicit path_range(label_graph graph, path_limits limits = {}) : graph_(std::move(graph)), limits_(limits) {
    if (graph_.empty()) LABELGRAPH_THROW(argument_error("enumerate_paths: the label graph is empty"));
  }

  /// Restarts the range on the paths of `target`, keeping its buffers (no
  /// allocation once they have grown to the longest path): the cheap way to
  /// walk the paths of many targets. Call `begin()` (or `next()`) again
  /// afterwards: iterators taken before the re-target are not restarted.
  /// Throws `argument_error` for a node outside the graph.
  void retarget(node_id target) {
    detail::check_node(graph_, target, "enumerate_paths");
    target_ = target;
    depth_ = 0;
    produced_ = 0;
    started_ = false;
    done_ = false;
  }

  /// Starts the enumeration (on the first call) and returns an iterator at the current path.
  [[nodiscard]] iterator begin() {
    if (!started_) start();
    return iterator(this);
  }
  /// The end: iterators compare equal to it once every path is produced.
  [[nodiscard]] std::default_sentinel_t end() const noexcept { return {}; }

  /// Cursor form: moves to the first, then the next path; false when there are
  /// no more.
  bool next() {
    if (!started_) {
      start();
    } else {
      advance();
    }
    return !done_;
  }
  /// The current path, root..target (empty before the first path and at the end).
  [[nodiscard]] std::span<const node_id> path() const noexcept {
    if (done_ || !started_) return {};
    return {buffer_.data() + (buffer_.size() - depth_), depth_};
  }
  /// True once every path has been produced.
  [[nodiscard]] bool done() const noexcept { return done_; }
  /// Paths produced so far (the current one included).
  [[nodiscard]] std::uint64_t produced() const noexcept { return produced_; }
  /// The node whose paths are enumerated (`no_node` before the first `retarget` of an untargeted range).
  [[nodiscard]] node_id target() const noexcept { return target_; }
  /// The graph enumerated (the range holds a handle to it).
  [[nodiscard]] const label_graph& graph() const noexcept { return graph_; }
  /// The bounds in force.
  [[nodiscard]] const path_limits& limits() const noexcept { return limits_; }

private:
  // The path is stored by level: level 0 is the target, level depth_-1 the
  // node furthest from it. Level j sits at buffer_[buffer_.size() - 1 - j], so
  // buffer_'s tail is the path root..target. choice_[j] is the index, among
  // the parents of level j, of the node at level j + 1.
  [[nodiscard]] node_id& at_level(std::size_t level) noexcept { return buffer_[buffer_.size() - 1 - level]; }

  void start() {
    started_ = true;
    depth_ = 0;
    if (target_ == no_node) {  // an untargeted range yields nothing
      done_ = true;
      return;
    }
    push(target_);
    complete();
  }

  /// Backtracks to the deepest level that has an untried parent, takes it, and
  /// completes the path; marks the range done when no level has one.
  void advance() {
    if (done_) return;
    while (depth_ > 1) {
      --depth_;  // drop the top node, then try its next sibling among the parents below
      const std::size_t child_level = depth_ - 1;
      auto parents = graph_.parents(at_level(child_level));
      if (++choice_[child_level] < parents.size()) {
        push_level(parents[choice_[child_level]]);
        complete();
        return;
      }
    }
    done_ = true;
    depth_ = 0;
  }

  /// Extends the partial path by first parents until it reaches the root,
  /// then counts the new path against `max_paths`. The hot loop of the
  /// enumeration: locals only, one bounds test per level (capacity and
  /// `max_length` folded into `room`).
  void complete() {
    const node_id root = graph_.root();
    std::size_t depth = depth_;
    std::size_t room = std::min(choice_.size(), limits_.max_length);
    node_id node = at_level(depth - 1);
    while (node != root) {
      if (depth >= room) [[unlikely]] {
        depth_ = depth;
        make_room();
        room = std::min(choice_.size(), limits_.max_length);
      }
      choice_[depth - 1] = 0;
      node = graph_.parents(node)[0];  // validated graphs: non-root nodes have parents
      at_level(depth) = node;
      ++depth;
    }
    depth_ = depth;
    if (++produced_ > limits_.max_paths) [[unlikely]] detail::throw_too_many_paths(graph_, target_, limits_);
  }

  /// Puts `node` on a new level; the choice for the level below is already set.
  void push(node_id node) {
    if (depth_ >= std::min(choice_.size(), limits_.max_length)) make_room();
    push_level(node);
  }
  /// Same, when the level is known to have room (it held a node before).
  void push_level(node_id node) noexcept {
    at_level(depth_) = node;
    ++depth_;
  }

  /// Throws `limit_error` when level `depth_` would break `max_length`, else
  /// grows the buffers to hold it.
  void make_room() {
    if (depth_ >= limits_.max_length) {
      LABELGRAPH_THROW(limit_error(detail::source_prefix(graph_) + detail::node_phrase(graph_, target_) +
                                   " has a path longer than " + std::to_string(limits_.max_length) +
                                   " nodes (path_limits::max_length)"));
    }
    while (depth_ >= choice_.size()) grow();
  }

  /// Doubles the capacity, moving the levels to the back of the new buffer.
  void grow() {
    const std::size_t capacity = std::max<std::size_t>(16, 2 * buffer_.size());
    std::vector<node_id> bigger(capacity, no_node);
    std::copy(buffer_.end() - static_cast<std::ptrdiff_t>(depth_), buffer_.end(),
              bigger.end() - static_cast<std::ptrdiff_t>(depth_));
    buffer_ = std::move(bigger);
    choice_.resize(capacity, 0);
  }

  label_graph graph_;
  node_id target_ = no_node;
  path_limits limits_;
  std::vector<node_id> buffer_;
  std::vector<std::size_t> choice_;
  std::size_t depth_ = 0;
  std::uint64_t produced_ = 0;
  bool started_ = false;
  bool done_ = false;
};

/// The root-to-`target` paths of `graph` as a lazy range; see `path_range`.
/// Throws `argument_error` for a node outside the graph, and `limit_error`
/// (naming the node and the bound) while iterating past a limit.
[[nodiscard]] inline path_range enumerate_paths(const label_graph& graph, node_id target, path_limits limits = {}) {
  return path_range(graph, target, limits);
}

/// Same, naming the target; an unknown name is an `argument_error`.
[[nodiscard]] inline path_range enumerate_paths(const label_graph& graph, std::string_view target,
                                                path_limits limits = {}) {
  if (graph.empty()) LABELGRAPH_THROW(argument_error("enumerate_paths: the label graph is empty"));
  return path_range(graph, graph.at(target), limits);
}

}  // namespace labelgraph
