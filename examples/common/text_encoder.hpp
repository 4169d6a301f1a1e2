#pragma once
/// \file
/// The text encoder of the example trainers: texts as hashed bags of word
/// unigrams and bigrams (fastText's trick, Joulin et al. 2017: no vocabulary,
/// a fixed number of buckets), a mean-pooled `hashed_bag_embedding`, then an
/// MLP (ReLU hidden layer, tanh output: the path decoder's h0). It meets
/// `path_trainer`'s encoder requirements with `text_set` as its data.

#include <cctype>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "labelgraph/error.hpp"
#include "layers.hpp"

namespace labelgraph::examples {

/// FNV-1a 32 of `text`, continuing from `hash`.
[[nodiscard]] constexpr std::uint32_t fnv1a32(std::string_view text, std::uint32_t hash = 0x811c9dc5u) noexcept {
  for (char c : text) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 0x01000193u;
  }
  return hash;
}

/// The bucket ids of `text`: its words (maximal runs of ASCII letters and
/// digits, lower-cased) and each pair of adjacent words, hashed (FNV-1a 32)
/// into [0, buckets). Unigrams and bigrams hash with different seeds, so
/// "a b" never collides with a word by construction of the key.
[[nodiscard]] inline std::vector<std::uint32_t> hash_ngrams(std::string_view text, std::uint32_t buckets) {
  if (buckets == 0) LABELGRAPH_THROW(argument_error("hash_ngrams: 0 buckets"));
  std::vector<std::string> words;
  std::string word;
  for (char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u) != 0) {
      word.push_back(static_cast<char>(std::tolower(u)));
    } else if (!word.empty()) {
      words.push_back(std::move(word));
      word.clear();
    }
  }
  if (!word.empty()) words.push_back(std::move(word));
  std::vector<std::uint32_t> ids;
  ids.reserve(2 * words.size());
  for (std::size_t i = 0; i < words.size(); ++i) {
    ids.push_back(fnv1a32(words[i]) % buckets);
    if (i + 1 < words.size()) ids.push_back(fnv1a32(words[i + 1], fnv1a32(" ", fnv1a32(words[i], 0x2b1c9dc5u))) % buckets);
  }
  return ids;
}

/// Texts as bags of bucket ids, stored back to back: text i is
/// `ids[offsets[i], offsets[i + 1])`.
struct text_set {
  std::uint32_t buckets = 0;
  std::vector<std::size_t> offsets{0};
  std::vector<std::uint32_t> ids;

  /// Appends `text` (hashed into `buckets`).
  void add(std::string_view text) {
    const std::vector<std::uint32_t> bag = hash_ngrams(text, buckets);
    ids.insert(ids.end(), bag.begin(), bag.end());
    offsets.push_back(ids.size());
  }
  /// Number of texts.
  [[nodiscard]] std::size_t size() const noexcept { return offsets.size() - 1; }
  /// The bag of text i.
  [[nodiscard]] std::span<const std::uint32_t> bag(std::size_t i) const noexcept {
    return std::span<const std::uint32_t>(ids).subspan(offsets[i], offsets[i + 1] - offsets[i]);
  }
};

/// Hashed bag of n-grams -> mean-pooled embedding [n, width] -> MLP -> [n, state].
template <dense_backend B, class T>
class text_encoder {
public:
  using input_set = text_set;

  /// Sizes: buckets of the bag table, its width, MLP hidden width and output width.
  text_encoder(const B& backend, std::size_t buckets, std::size_t width, std::size_t hidden, std::size_t state)
      : bag_(backend, "encoder.bag", buckets, width),
        mlp_(backend, "encoder", {width, hidden, state}, {activation::relu, activation::tanh}),
        pooled_(backend, 0, width), pooled_grad_(backend, 0, width) {}

  /// Bucket count.
  [[nodiscard]] std::size_t buckets() const noexcept { return bag_.buckets(); }
  void collect(parameter_list<B, T>& list) {
    bag_.collect(list);
    mlp_.collect(list);
  }
  void initialize(std::uint64_t seed, std::uint32_t& index) {
    bag_.initialize(seed, index);
    mlp_.initialize(seed, index);
  }

  /// Features of texts `rows` of `set`, [n, state]; valid until the next forward.
  tensor_view<const T, 2> forward(const text_set& set, std::span<const std::uint32_t> rows) {
    if (set.buckets != buckets()) {
      LABELGRAPH_THROW(argument_error("text_encoder: texts hashed into " + std::to_string(set.buckets) +
                                      " buckets, the encoder has " + std::to_string(buckets())));
    }
    bags_.clear();
    for (std::uint32_t r : rows) bags_.push_back(set.bag(r));
    const std::size_t n = rows.size();
    pooled_.reserve(n, bag_.width());
    bag_.forward(bags_, pooled_.rows_view(0, n));
    rows_ = n;
    return mlp_.forward(pooled_.rows_view(0, n));
  }

  /// Backward of the last `forward` from dfeatures [n, state].
  void backward(tensor_view<const T, 2> dfeatures) {
    pooled_grad_.reserve(rows_, bag_.width());
    mlp_.backward(pooled_.rows_view(0, rows_), dfeatures, pooled_grad_.rows_view(0, rows_));
    bag_.backward(pooled_grad_.rows_view(0, rows_));
  }

private:
  hashed_bag_embedding<B, T> bag_;
  mlp<B, T> mlp_;
  device_matrix<B, T> pooled_;
  device_matrix<B, T> pooled_grad_;
  std::vector<std::span<const std::uint32_t>> bags_;
  std::size_t rows_ = 0;
};

}  // namespace labelgraph::examples
