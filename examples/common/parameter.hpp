#pragma once
/// \file
/// Trainable parameters of the example models: a value and its gradient in
/// backend memory, a name (for checkpoints and messages), and the seeded,
/// counter-based initialisation every model uses.

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "labelgraph/backend/philox.hpp"
#include "device_matrix.hpp"

namespace labelgraph::examples {

/// One trainable tensor: value, gradient (same shape), name.
template <backend B, class T>
struct parameter {
  std::string name;              ///< "encoder.0.weight": unique inside a model
  device_matrix<B, T> value;     ///< the parameter
  device_matrix<B, T> grad;      ///< ∂loss/∂value, accumulated by the backward passes

  /// A zero parameter of shape [rows, cols].
  parameter(const B& backend, std::string parameter_name, std::size_t rows, std::size_t cols)
      : name(std::move(parameter_name)), value(backend, rows, cols), grad(backend, rows, cols) {}
};

/// The parameters of a model, in registration order (stable pointers).
template <backend B, class T>
using parameter_list = std::vector<parameter<B, T>*>;

/// Zeroes every gradient (done once per training step).
template <backend B, class T>
void zero_gradients(const parameter_list<B, T>& parameters) {
  for (parameter<B, T>* p : parameters) p->grad.set_zero();
}

/// Fills `p` with U(−bound, bound). Element i of parameter number `index` gets
/// Philox4x32-10 keyed by `seed`, counter (i mod 2^32, i / 2^32, index, 0x1417):
/// the same values on every backend and for every thread count.
template <backend B, class T>
void initialize_uniform(parameter<B, T>& p, double bound, std::uint64_t seed, std::uint32_t index) {
  std::vector<T> values(p.value.size());
  const philox_key key = philox_key_from_seed(seed);
  for (std::size_t i = 0; i < values.size(); ++i) {
    const double u = uniform_double(philox4x32<10>(
        {static_cast<std::uint32_t>(i), static_cast<std::uint32_t>(static_cast<std::uint64_t>(i) >> 32), index, 0x1417u}, key));
    values[i] = static_cast<T>((2.0 * u - 1.0) * bound);
  }
  p.value.copy_from_host(values);
}

/// Glorot / Xavier uniform bound sqrt(6 / (fan_in + fan_out)).
[[nodiscard]] inline double glorot_bound(std::size_t fan_in, std::size_t fan_out) noexcept {
  return std::sqrt(6.0 / static_cast<double>(fan_in + fan_out));
}

/// Number of scalars in all parameters.
template <backend B, class T>
[[nodiscard]] std::size_t parameter_count(const parameter_list<B, T>& parameters) noexcept {
  std::size_t total = 0;
  for (const parameter<B, T>* p : parameters) total += p->value.size();
  return total;
}

}  // namespace labelgraph::examples
