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
#include "data_split.hpp"
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

}  // namespace labelgraph::examples
