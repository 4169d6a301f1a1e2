#pragma once
/// \file
/// `tensor_view<T, Rank>`: a non-owning, mdspan-like view of user memory.
///
/// A view is a pointer, `Rank` extents, `Rank` strides (in elements) and the
/// memory location the pointer belongs to. It adopts memory from any stack
/// without a copy:
///
///     Eigen::Matrix<float, -1, -1, Eigen::RowMajor> m(rows, V);
///     lg::tensor_view<float, 2> logits(m.data(), {rows, V});
///     lg::tensor_view<float, 2> padded(torch_t.data_ptr<float>(), {rows, V}, {std::size_t(torch_t.stride(0)), 1});
///     lg::tensor_view<float, 2> on_gpu(device_ptr, {rows, V}, lg::memory_location{lg::memory_kind::cuda_device, 0});
///
/// The kernels of this library read rows as contiguous runs, so the op front
/// ends require the last stride to be 1 (`inner_contiguous()`); a row stride
/// larger than the row length (padding, a column slice of a wider matrix) is
/// fine. A default-constructed view is empty and stands for "no tensor" where
/// an argument is optional.

#include <array>
#include <concepts>
#include <cstddef>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

#include "labelgraph/config.hpp"
#include "labelgraph/tensor/memory_space.hpp"

namespace labelgraph {

/// Non-owning view of a `Rank`-dimensional array of `T` (const `T` for inputs).
template <class T, std::size_t Rank>
class tensor_view {
  static_assert(Rank >= 1, "tensor_view needs at least one dimension");

public:
  /// The element type as seen through the view (`const T` for inputs).
  using element_type = T;
  /// The element type without cv-qualifiers.
  using value_type = std::remove_cv_t<T>;
  /// One size per dimension (extents, or strides in elements).
  using extents_type = std::array<std::size_t, Rank>;
  /// The number of dimensions.
  static constexpr std::size_t rank = Rank;

  /// The empty view ("no tensor").
  constexpr tensor_view() noexcept = default;

  /// A dense row-major (C order) view of `extents` at `data`.
  constexpr tensor_view(T* data, const extents_type& extents, memory_location where = {}) noexcept
      : data_(data), extents_(extents), strides_(row_major_strides(extents)), where_(where) {}

  /// A strided view; `strides` count elements, not bytes.
  constexpr tensor_view(T* data, const extents_type& extents, const extents_type& strides,
                        memory_location where = {}) noexcept
      : data_(data), extents_(extents), strides_(strides), where_(where) {}

  /// A `tensor_view<T>` converts to a `tensor_view<const T>`.
  template <class U>
    requires(std::is_same_v<const U, T> && !std::is_same_v<U, T>)
  constexpr tensor_view(const tensor_view<U, Rank>& other) noexcept  // NOLINT: implicit on purpose
      : data_(other.data()), extents_(other.extents()), strides_(other.strides()), where_(other.where()) {}

  /// The first element (the user's pointer, never a copy); null for the empty view.
  [[nodiscard]] LABELGRAPH_HOST_DEVICE constexpr T* data() const noexcept { return data_; }
  /// The size of dimension `dim` (< rank).
  [[nodiscard]] LABELGRAPH_HOST_DEVICE constexpr std::size_t extent(std::size_t dim) const noexcept { return extents_[dim]; }
  /// The distance, in elements, between neighbours along dimension `dim` (< rank).
  [[nodiscard]] LABELGRAPH_HOST_DEVICE constexpr std::size_t stride(std::size_t dim) const noexcept { return strides_[dim]; }
  /// All extents.
  [[nodiscard]] constexpr const extents_type& extents() const noexcept { return extents_; }
  /// All strides, in elements.
  [[nodiscard]] constexpr const extents_type& strides() const noexcept { return strides_; }
  /// Where the memory lives (host, cuda:N).
  [[nodiscard]] constexpr memory_location where() const noexcept { return where_; }

  /// Number of elements (product of the extents).
  [[nodiscard]] LABELGRAPH_HOST_DEVICE constexpr std::size_t size() const noexcept {
    std::size_t count = 1;
    for (std::size_t dim = 0; dim < Rank; ++dim) count *= extents_[dim];
    return count;
  }
  /// True for "no tensor" (null data); a view of zero elements at a real address is not empty.
  [[nodiscard]] LABELGRAPH_HOST_DEVICE constexpr bool empty() const noexcept { return data_ == nullptr; }
  /// True when the last dimension is contiguous, as every kernel requires.
  [[nodiscard]] constexpr bool inner_contiguous() const noexcept { return strides_[Rank - 1] == 1 || extents_[Rank - 1] <= 1; }

  /// Element access; no bounds check (kernels run on validated views).
  template <std::integral... Index>
    requires(sizeof...(Index) == Rank)
  [[nodiscard]] LABELGRAPH_HOST_DEVICE constexpr T& operator()(Index... index) const noexcept {
    std::size_t offset = 0;
    std::size_t dim = 0;
    ((offset += static_cast<std::size_t>(index) * strides_[dim++]), ...);
    return data_[offset];
  }

  /// Pointer to the first element of row `i` (rank 2: `stride(1) == 1` gives a contiguous row).
  [[nodiscard]] LABELGRAPH_HOST_DEVICE constexpr T* row(std::size_t i) const noexcept
    requires(Rank == 2)
  {
    return data_ + i * strides_[0];
  }

  /// One past the last byte any element occupies (for aliasing checks).
  [[nodiscard]] const void* end_address() const noexcept {
    if (data_ == nullptr || size() == 0) return data_;
    std::size_t last = 0;
    for (std::size_t dim = 0; dim < Rank; ++dim) last += (extents_[dim] - 1) * strides_[dim];
    return data_ + last + 1;
  }

private:
  static constexpr extents_type row_major_strides(const extents_type& extents) noexcept {
    extents_type strides{};
    std::size_t step = 1;
    for (std::size_t dim = Rank; dim-- > 0;) {
      strides[dim] = step;
      step *= extents[dim];
    }
    return strides;
  }

  T* data_ = nullptr;
  extents_type extents_{};
  extents_type strides_{};
  memory_location where_{};
};

/// A [n] view of a host `std::vector` (or any contiguous range).
template <class T>
[[nodiscard]] tensor_view<T, 1> host_view(std::span<T> values) noexcept {
  return tensor_view<T, 1>(values.data(), {values.size()});
}
/// A [n] view of a host `std::vector`'s elements.
template <class T>
[[nodiscard]] tensor_view<T, 1> host_view(std::vector<T>& values) noexcept {
  return host_view(std::span<T>(values));
}
/// A read-only [n] view of a host `std::vector`'s elements.
template <class T>
[[nodiscard]] tensor_view<const T, 1> host_view(const std::vector<T>& values) noexcept {
  return host_view(std::span<const T>(values));
}

/// A dense [rows, cols] view of host memory.
template <class T>
[[nodiscard]] tensor_view<T, 2> host_view(T* data, std::size_t rows, std::size_t cols) noexcept {
  return tensor_view<T, 2>(data, {rows, cols});
}

/// "[4096, 64]": extents as error messages print them.
template <class T, std::size_t Rank>
[[nodiscard]] std::string extents_string(const tensor_view<T, Rank>& view) {
  std::string text = "[";
  for (std::size_t dim = 0; dim < Rank; ++dim) {
    if (dim != 0) text += ", ";
    text += std::to_string(view.extent(dim));
  }
  return text + "]";
}

}  // namespace labelgraph
