#pragma once
/// \file
/// The exception hierarchy. Every error the library reports at an API boundary
/// derives from `labelgraph::error`; kernels never throw.

#include <cstddef>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "labelgraph/config.hpp"

namespace labelgraph {

/// Base of every exception thrown by labelgraph.
class error : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

/// Where in an input a problem sits: the file (or another source name), a
/// 1-based line when known (0 = unknown) and a JSON pointer or field path.
struct input_location {
  std::string source;     ///< file path or other origin; empty when unknown
  std::size_t line = 0;   ///< 1-based line; 0 when unknown
  std::string pointer;    ///< JSON pointer or field path, e.g. "/edges/4"

  /// "file:line: /pointer" with the parts that are known.
  [[nodiscard]] std::string str() const {
    std::string text = source;
    if (line != 0) text += (text.empty() ? "line " : ":") + std::to_string(line);
    if (!pointer.empty()) text += (text.empty() ? "" : ": ") + pointer;
    return text;
  }
};

/// One violation found in a graph: where, what, and which nodes are involved.
struct graph_problem {
  input_location where;            ///< where the problem sits
  std::string message;             ///< what is wrong, in words
  std::vector<std::string> nodes;  ///< names of the nodes involved

  /// One line: "pets.json:12: /edges/4: edge names undeclared node 'tabbby'".
  [[nodiscard]] std::string str() const {
    std::string location = where.str();
    return location.empty() ? message : location + ": " + message;
  }
};

/// A graph that cannot be read or built. Carries every problem found, not just
/// the first: `what()` is one line per problem.
class graph_error : public error {
public:
  /// All problems found in one input.
  explicit graph_error(std::vector<graph_problem> problems)
      : error(join(problems)), problems_(std::move(problems)) {}
  /// A single problem.
  explicit graph_error(graph_problem problem)
      : graph_error(std::vector<graph_problem>{std::move(problem)}) {}

  /// Every problem, in the order found.
  [[nodiscard]] const std::vector<graph_problem>& problems() const noexcept { return problems_; }

private:
  static std::string join(const std::vector<graph_problem>& problems) {
    std::string text;
    for (const auto& problem : problems) {
      if (!text.empty()) text += '\n';
      text += problem.str();
    }
    return text;
  }
  std::vector<graph_problem> problems_;
};

/// A tensor whose shape, memory space or layout does not fit the call; the
/// message names the tensor and the extents expected.
class shape_error : public error {
public:
  using error::error;
};

/// A configured bound was reached: too many paths, a path too long, a count
/// that does not fit in 64 bits. The message names the node and the limit.
class limit_error : public error {
public:
  using error::error;
};

/// A caller asked for something that makes no sense for the graph (a name that
/// is not a node, a node that is not a label, a token outside the layout).
class argument_error : public error {
public:
  using error::error;
};

}  // namespace labelgraph
