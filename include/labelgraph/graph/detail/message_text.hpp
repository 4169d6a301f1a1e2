#pragma once
/// \file
/// Helpers for the text of graph problems: quoting names safely on one line,
/// and "did you mean ...?" suggestions by edit distance.

#include <algorithm>
#include <cstddef>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

namespace labelgraph::detail {

/// `name` with control characters written `\xNN`, so that a problem always
/// stays on one line whatever bytes a name holds (for unquoted names, as in
/// "edge cat > dog").
[[nodiscard]] inline std::string one_line(std::string_view name) {
  std::string text;
  text.reserve(name.size());
  for (char c : name) {
    auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte == 0x7f) {
      char escaped[8];
      std::snprintf(escaped, sizeof escaped, "\\x%02X", byte);
      text += escaped;
    } else {
      text += c;
    }
  }
  return text;
}

/// `'name'`, with control characters, quotes and backslashes escaped, so that
/// a problem always stays on one line whatever bytes a name holds.
[[nodiscard]] inline std::string in_quotes(std::string_view name) {
  std::string text;
  text.reserve(name.size() + 2);
  text += '\'';
  for (char c : name) {
    auto byte = static_cast<unsigned char>(c);
    if (c == '\'' || c == '\\') {
      text += '\\';
      text += c;
    } else if (byte < 0x20 || byte == 0x7f) {
      char escaped[8];
      std::snprintf(escaped, sizeof escaped, "\\x%02X", byte);
      text += escaped;
    } else {
      text += c;
    }
  }
  text += '\'';
  return text;
}

/// `text` with every byte that is not printable ASCII written as `\xNN`; for
/// echoing input that may not even be valid UTF-8 (a syntax error's context).
[[nodiscard]] inline std::string printable(std::string_view text) {
  std::string result;
  result.reserve(text.size());
  for (char c : text) {
    auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte >= 0x7f) {
      char escaped[8];
      std::snprintf(escaped, sizeof escaped, "\\x%02X", byte);
      result += escaped;
    } else {
      result += c;
    }
  }
  return result;
}

/// Rows reused across many distance computations (no allocation per pair).
struct edit_distance_rows {
  std::vector<std::size_t> before, previous, current;
};

/// Optimal-string-alignment distance (Levenshtein plus adjacent
/// transpositions, so "shorthiar" is 1 away from "shorthair"), or
/// `limit + 1` as soon as the distance is known to exceed `limit`.
[[nodiscard]] inline std::size_t edit_distance(std::string_view a, std::string_view b, std::size_t limit,
                                               edit_distance_rows& rows) {
  const std::size_t length_gap = a.size() > b.size() ? a.size() - b.size() : b.size() - a.size();
  if (length_gap > limit) return limit + 1;
  // Three rolling rows: two back (for transpositions), previous, current.
  auto& [before, previous, current] = rows;
  before.assign(b.size() + 1, 0);
  previous.resize(b.size() + 1);
  current.assign(b.size() + 1, 0);
  for (std::size_t j = 0; j <= b.size(); ++j) previous[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    current[0] = i;
    std::size_t row_minimum = current[0];
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t substitution = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
      current[j] = std::min({previous[j] + 1, current[j - 1] + 1, substitution});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        current[j] = std::min(current[j], before[j - 2] + 1);
      }
      row_minimum = std::min(row_minimum, current[j]);
    }
    if (row_minimum > limit) return limit + 1;
    std::swap(before, previous);
    std::swap(previous, current);
  }
  return std::min(previous[b.size()], limit + 1);
}

/// `edit_distance` for a single pair.
[[nodiscard]] inline std::size_t edit_distance(std::string_view a, std::string_view b, std::size_t limit) {
  edit_distance_rows rows;
  return edit_distance(a, b, limit, rows);
}

/// How many edits a suggestion may be away from what was written: short words
/// allow fewer, so that "id" does not suggest "kind".
[[nodiscard]] inline std::size_t suggestion_limit(std::string_view word) noexcept {
  return word.size() <= 3 ? 1 : word.size() <= 6 ? 2 : 3;
}

/// The candidate closest to `word` within `suggestion_limit(word)` edits
/// (the first one on ties), or an empty view when none is close enough.
template <class Range>
[[nodiscard]] std::string_view closest_name(std::string_view word, const Range& candidates) {
  const std::size_t limit = suggestion_limit(word);
  std::string_view best;
  std::size_t best_distance = limit + 1;
  edit_distance_rows rows;
  for (const auto& candidate : candidates) {
    std::string_view name(candidate);
    if (name == word) continue;
    const std::size_t distance = edit_distance(word, name, best_distance - 1, rows);
    if (distance < best_distance) {
      best_distance = distance;
      best = name;
      if (distance == 1) break;  // nothing but an exact match is closer
    }
  }
  return best;
}

/// " (did you mean 'kind'?)" or "" when `candidates` holds nothing close.
template <class Range>
[[nodiscard]] std::string did_you_mean(std::string_view word, const Range& candidates) {
  std::string_view best = closest_name(word, candidates);
  return best.empty() ? std::string() : " (did you mean " + in_quotes(best) + "?)";
}

}  // namespace labelgraph::detail
