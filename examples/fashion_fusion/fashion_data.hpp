#pragma once
/// \file
/// Fashion-MNIST (Xiao, Rasul & Vollgraf 2017) for the fusion experiment:
/// the 60,000 training images split into dataset A (a small fine-labelled
/// subset) and dataset B (a disjoint subset that keeps only its coarse
/// label), and the 10,000 test images scored on fine labels.

#include <algorithm>
#include <array>
#include <cstdint>
#include <filesystem>
#include <numeric>
#include <string>
#include <vector>

#include "labelgraph/backend/philox.hpp"
#include "idx.hpp"

namespace labelgraph::examples {

/// Where Debian's `dataset-fashion-mnist` installs the files.
inline constexpr const char* default_fashion_directory = "/usr/share/datasets/fashion-mnist";

/// The ten classes in the dataset's label order, as node names of examples/graphs/fashion.json.
inline constexpr std::array<const char*, 10> fashion_class_names = {
    "t-shirt-top", "trouser", "pullover", "dress", "coat", "sandal", "shirt", "sneaker", "bag", "ankle-boot"};

/// Images as floats in [0, 1] (row-major [count, 784]) and their class indices.
struct image_set {
  std::size_t count = 0;
  std::size_t pixels = 0;             ///< 784
  std::vector<float> images;          ///< [count, pixels]
  std::vector<std::uint8_t> labels;   ///< [count], 0..9
  std::vector<std::uint8_t> raw;      ///< [count, pixels] bytes, for image grids
};

/// Reads "<prefix>-images-idx3-ubyte.gz" and "<prefix>-labels-idx1-ubyte.gz".
[[nodiscard]] inline image_set read_fashion(const std::filesystem::path& directory, const std::string& prefix) {
  const std::string images_file = (directory / (prefix + "-images-idx3-ubyte.gz")).string();
  const std::string labels_file = (directory / (prefix + "-labels-idx1-ubyte.gz")).string();
  idx_array images = read_idx(images_file);
  idx_array labels = read_idx(labels_file);
  if (images.extents.size() != 3 || labels.extents.size() != 1 || images.extents[0] != labels.extents[0]) {
    LABELGRAPH_THROW(error(images_file + ": expected [n, 28, 28] images matching " + labels_file + "'s [n] labels"));
  }
  image_set set;
  set.count = images.extents[0];
  set.pixels = std::size_t{images.extents[1]} * images.extents[2];
  set.images.resize(images.data.size());
  std::transform(images.data.begin(), images.data.end(), set.images.begin(),
                 [](std::uint8_t v) { return static_cast<float>(v) / 255.0f; });
  for (std::uint8_t label : labels.data) {
    if (label >= fashion_class_names.size()) {
      LABELGRAPH_THROW(error(labels_file + ": label " + std::to_string(label) + " outside 0..9"));
    }
  }
  set.labels = std::move(labels.data);
  set.raw = std::move(images.data);
  return set;
}

/// The training split: A = `a_size` images with fine labels, B = the next
/// `b_size` (0: all the rest) with coarse labels only. Which images go where
/// is a seeded permutation of the training set (Philox keyed by `seed`).
struct fusion_split {
  std::vector<std::uint32_t> a;  ///< indices into the training set
  std::vector<std::uint32_t> b;  ///< disjoint from a
};

/// Makes the split; throws `argument_error` when A and B do not fit.
[[nodiscard]] inline fusion_split split_training_set(std::size_t train_count, std::size_t a_size, std::size_t b_size,
                                                     std::uint64_t seed) {
  if (a_size == 0 || a_size > train_count) {
    LABELGRAPH_THROW(argument_error("--a-size " + std::to_string(a_size) + ": must be in 1.." + std::to_string(train_count)));
  }
  if (b_size == 0) b_size = train_count - a_size;
  if (a_size + b_size > train_count) {
    LABELGRAPH_THROW(argument_error("--a-size + --b-size = " + std::to_string(a_size + b_size) + " exceeds the " +
                                    std::to_string(train_count) + " training images"));
  }
  std::vector<std::pair<std::uint64_t, std::uint32_t>> keyed(train_count);
  for (std::uint32_t i = 0; i < train_count; ++i) {
    const philox_counter bits = philox4x32<10>({i, 0xA5u, 0u, 0u}, philox_key_from_seed(seed));
    keyed[i] = {(std::uint64_t{bits[0]} << 32) | bits[1], i};
  }
  std::sort(keyed.begin(), keyed.end());
  fusion_split split;
  for (std::size_t k = 0; k < a_size + b_size; ++k) (k < a_size ? split.a : split.b).push_back(keyed[k].second);
  return split;
}

/// An endless, seeded stream of indices into a pool: pass p visits the pool
/// in the order of a Philox-keyed permutation of (seed, p). Position q of the
/// stream depends only on (seed, q), so a resumed run draws what an
/// uninterrupted one would.
class shuffled_stream {
public:
  shuffled_stream(std::vector<std::uint32_t> pool, std::uint64_t seed) : pool_(std::move(pool)), seed_(seed) {}
  /// Pool size.
  [[nodiscard]] std::size_t size() const noexcept { return pool_.size(); }
  /// The element at stream position q.
  [[nodiscard]] std::uint32_t at(std::uint64_t q) {
    const std::uint64_t pass = q / pool_.size();
    if (pass != pass_ || order_.empty()) shuffle(pass);
    return pool_[order_[q % pool_.size()]];
  }

private:
  void shuffle(std::uint64_t pass) {
    pass_ = pass;
    std::vector<std::pair<std::uint64_t, std::uint32_t>> keyed(pool_.size());
    const philox_key key = philox_key_from_seed(seed_);
    for (std::uint32_t i = 0; i < pool_.size(); ++i) {
      const philox_counter bits =
          philox4x32<10>({i, static_cast<std::uint32_t>(pass), static_cast<std::uint32_t>(pass >> 32), 0x5EEDu}, key);
      keyed[i] = {(std::uint64_t{bits[0]} << 32) | bits[1], i};
    }
    std::sort(keyed.begin(), keyed.end());
    order_.resize(pool_.size());
    for (std::size_t i = 0; i < keyed.size(); ++i) order_[i] = keyed[i].second;
  }
  std::vector<std::uint32_t> pool_;
  std::uint64_t seed_;
  std::vector<std::uint32_t> order_;
  std::uint64_t pass_ = 0;
};

}  // namespace labelgraph::examples
