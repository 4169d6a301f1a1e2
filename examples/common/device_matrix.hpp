#pragma once
/// \file
/// `device_matrix<B, T>`: an owning, row-major [rows, cols] array in the
/// memory of a backend B, with views for the ops of ops/dense.hpp. The
/// example models keep every parameter, gradient and activation in one.

#include <algorithm>
#include <cstddef>
#include <span>
#include <utility>
#include <vector>

#include "labelgraph/backend/concept.hpp"
#include "labelgraph/error.hpp"
#include "labelgraph/tensor/tensor_view.hpp"

namespace labelgraph::examples {

/// Owning [rows, cols] array of T in backend B's memory space; move-only.
template <backend B, class T>
class device_matrix {
public:
  device_matrix() = default;
  /// Allocates rows x cols elements and zeroes them.
  device_matrix(const B& backend, std::size_t rows, std::size_t cols)
      : backend_(backend), rows_(rows), cols_(cols), data_(backend.template allocate<T>(std::max<std::size_t>(1, rows * cols))) {
    set_zero();
  }
  device_matrix(device_matrix&& other) noexcept { swap(other); }
  device_matrix& operator=(device_matrix&& other) noexcept {
    device_matrix moved(std::move(other));
    swap(moved);
    return *this;
  }
  device_matrix(const device_matrix&) = delete;
  device_matrix& operator=(const device_matrix&) = delete;
  ~device_matrix() {
    if (data_ != nullptr) backend_.deallocate(data_, std::max<std::size_t>(1, rows_ * cols_));
  }

  /// Row count.
  [[nodiscard]] std::size_t rows() const noexcept { return rows_; }
  /// Column count.
  [[nodiscard]] std::size_t cols() const noexcept { return cols_; }
  /// rows x cols.
  [[nodiscard]] std::size_t size() const noexcept { return rows_ * cols_; }
  /// Raw pointer (backend memory).
  [[nodiscard]] T* data() noexcept { return data_; }
  /// Raw pointer (backend memory).
  [[nodiscard]] const T* data() const noexcept { return data_; }

  /// The whole matrix.
  [[nodiscard]] tensor_view<T, 2> view() noexcept { return rows_view(0, rows_); }
  /// The whole matrix, read-only.
  [[nodiscard]] tensor_view<const T, 2> view() const noexcept { return rows_view(0, rows_); }
  /// Rows [first, first + count).
  [[nodiscard]] tensor_view<T, 2> rows_view(std::size_t first, std::size_t count) noexcept {
    return tensor_view<T, 2>(data_ + first * cols_, {count, cols_}, {cols_, 1}, where());
  }
  /// Rows [first, first + count), read-only.
  [[nodiscard]] tensor_view<const T, 2> rows_view(std::size_t first, std::size_t count) const noexcept {
    return tensor_view<const T, 2>(data_ + first * cols_, {count, cols_}, {cols_, 1}, where());
  }
  /// Columns [first, first + count) of rows [0, rows): a strided view.
  [[nodiscard]] tensor_view<T, 2> columns(std::size_t first, std::size_t count, std::size_t row_count) noexcept {
    return tensor_view<T, 2>(data_ + first, {row_count, count}, {cols_, 1}, where());
  }
  /// Columns [first, first + count) of rows [0, row_count), read-only.
  [[nodiscard]] tensor_view<const T, 2> columns(std::size_t first, std::size_t count, std::size_t row_count) const noexcept {
    return tensor_view<const T, 2>(data_ + first, {row_count, count}, {cols_, 1}, where());
  }
  /// The first `count` elements as a [count] vector view.
  [[nodiscard]] tensor_view<T, 1> flat(std::size_t count) noexcept { return tensor_view<T, 1>(data_, {count}, where()); }
  /// The first `count` elements as a [count] vector view, read-only.
  [[nodiscard]] tensor_view<const T, 1> flat(std::size_t count) const noexcept {
    return tensor_view<const T, 1>(data_, {count}, where());
  }

  /// Every element to zero (a copy from the host: NaN-safe, unlike scaling by 0).
  void set_zero() {
    if (size() != 0) copy_from_host(std::vector<T>(size(), T(0)));
  }
  /// Replaces the elements with `values` (exactly size() of them).
  void copy_from_host(std::span<const T> values) {
    if (values.size() != size()) {
      LABELGRAPH_THROW(shape_error("device_matrix: " + std::to_string(values.size()) + " values for a [" +
                                   std::to_string(rows_) + ", " + std::to_string(cols_) + "] matrix"));
    }
    backend_.copy_from_host(values.data(), data_, values.size());
  }
  /// Copies the first `values.size()` elements in from the host.
  void copy_prefix_from_host(std::span<const T> values) { backend_.copy_from_host(values.data(), data_, values.size()); }
  /// The elements, row-major, on the host.
  [[nodiscard]] std::vector<T> to_host() const {
    std::vector<T> values(size());
    if (!values.empty()) backend_.copy_to_host(data_, values.data(), values.size());
    return values;
  }
  /// The first `count` elements on the host.
  [[nodiscard]] std::vector<T> prefix_to_host(std::size_t count) const {
    std::vector<T> values(count);
    if (count != 0) backend_.copy_to_host(data_, values.data(), count);
    return values;
  }

  /// Grows to at least rows x cols (contents lost when it grows).
  void reserve(std::size_t rows, std::size_t cols) {
    if (rows * cols > size() || cols != cols_) *this = device_matrix(backend_, rows, cols);
  }

private:
  [[nodiscard]] static constexpr memory_location where() noexcept { return {B::memory_space::kind, 0}; }
  void swap(device_matrix& other) noexcept {
    std::swap(backend_, other.backend_);
    std::swap(rows_, other.rows_);
    std::swap(cols_, other.cols_);
    std::swap(data_, other.data_);
  }

  B backend_{};
  std::size_t rows_ = 0;
  std::size_t cols_ = 0;
  T* data_ = nullptr;
};

}  // namespace labelgraph::examples
