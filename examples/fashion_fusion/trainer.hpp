#pragma once
/// \file
/// The Fashion-MNIST fusion trainer: examples/common/path_trainer.hpp (the
/// Table 3 models, Algorithm 1, checkpoints) over an MLP image encoder.
///
/// The image encoder is the paper's Figure 3 encoder for images: the 784
/// pixels through an MLP (ReLU hidden layer, tanh output of width `state`,
/// the decoder's h0).

#include <algorithm>
#include <span>
#include <vector>

#include "fashion_data.hpp"
#include "label_space.hpp"
#include "path_trainer.hpp"

namespace labelgraph::examples {

/// MLP encoder of Fashion-MNIST images: [n, 784] pixels -> [n, state] features.
template <dense_backend B, class T>
class image_encoder {
public:
  using input_set = image_set;

  /// pixels -> hidden (ReLU) -> state (tanh).
  image_encoder(const B& backend, std::size_t pixels, std::size_t hidden, std::size_t state)
      : mlp_(backend, "encoder", {pixels, hidden, state}, {activation::relu, activation::tanh}), input_(backend, 0, pixels) {}

  void collect(parameter_list<B, T>& list) { mlp_.collect(list); }
  void initialize(std::uint64_t seed, std::uint32_t& index) { mlp_.initialize(seed, index); }

  /// Features of the images `images` of `set`, [n, state].
  tensor_view<const T, 2> forward(const image_set& set, std::span<const std::uint32_t> images) {
    const std::size_t n = images.size();
    host_input_.resize(n * set.pixels);
    for (std::size_t i = 0; i < n; ++i) {
      const float* from = set.images.data() + std::size_t{images[i]} * set.pixels;
      std::transform(from, from + set.pixels, host_input_.begin() + static_cast<std::ptrdiff_t>(i * set.pixels),
                     [](float v) { return static_cast<T>(v); });
    }
    input_.reserve(n, set.pixels);
    input_.copy_prefix_from_host(host_input_);
    rows_ = n;
    return mlp_.forward(input_.rows_view(0, n));
  }

  /// Backward of the last `forward`: accumulates the MLP's gradients from dfeatures [n, state].
  void backward(tensor_view<const T, 2> dfeatures) { mlp_.backward(input_.rows_view(0, rows_), dfeatures, tensor_view<T, 2>{}); }

private:
  mlp<B, T> mlp_;
  device_matrix<B, T> input_;
  std::vector<T> host_input_;
  std::size_t rows_ = 0;
};

/// Model + optimiser + data streams of one fashion_fusion run.
template <dense_backend B, class T>
class fashion_trainer : public path_trainer<B, T, image_encoder<B, T>> {
public:
  fashion_trainer(const B& backend, const fashion_label_space& space, const image_set& train,
                  std::vector<training_item> pool_a, std::vector<training_item> pool_b, trainer_options options)
      : path_trainer<B, T, image_encoder<B, T>>(backend, space, train, std::move(pool_a), std::move(pool_b), options,
                                                image_encoder<B, T>(backend, train.pixels, options.hidden, options.state)) {}

  /// Fine-label accuracy on `images` of `set`.
  double accuracy(const image_set& set, const std::vector<std::uint32_t>& images) {
    const auto predictions = this->predict(set, images);
    std::size_t correct = 0;
    for (std::size_t i = 0; i < images.size(); ++i) {
      correct += predictions[i].fine_class == static_cast<int>(set.labels[images[i]]) ? 1 : 0;
    }
    return images.empty() ? 0.0 : static_cast<double>(correct) / static_cast<double>(images.size());
  }
};

}  // namespace labelgraph::examples
