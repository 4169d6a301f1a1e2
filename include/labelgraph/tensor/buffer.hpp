#pragma once
/// \file
/// `buffer<T, Space>`: an owning, uninitialised array of `T` in a memory space.
///
/// Buffers are for the library's own storage (workspace, mirrored layouts,
/// test data); user memory is never copied into one behind the user's back,
/// it is adopted by a `tensor_view`. Memory comes from `Space::allocate`; a
/// backend's `allocate<T>(n)` hands out memory of the same space.

#include <cstddef>
#include <type_traits>
#include <utility>

#include "labelgraph/tensor/memory_space.hpp"
#include "labelgraph/tensor/tensor_view.hpp"

namespace labelgraph {

/// Owning array of `count` trivially copyable `T` in `Space`; move-only.
template <class T, memory_space Space = host_space>
class buffer {
  static_assert(std::is_trivially_copyable_v<T>, "buffers hold trivially copyable elements");

public:
  /// The element type.
  using value_type = T;
  /// The memory space the elements live in.
  using space = Space;

  /// An empty buffer (no allocation).
  buffer() noexcept = default;
  /// Allocates `count` elements, left uninitialised.
  explicit buffer(std::size_t count) : data_(static_cast<T*>(Space::allocate(count * sizeof(T)))), count_(count) {}
  /// Takes over `other`'s elements; `other` is left empty.
  buffer(buffer&& other) noexcept
      : data_(std::exchange(other.data_, nullptr)), count_(std::exchange(other.count_, 0)) {}
  /// Frees this buffer's elements, then takes over `other`'s; `other` is left empty.
  buffer& operator=(buffer&& other) noexcept {
    if (this != &other) {
      release();
      data_ = std::exchange(other.data_, nullptr);
      count_ = std::exchange(other.count_, 0);
    }
    return *this;
  }
  /// Not copyable: a buffer is the only owner of its elements.
  buffer(const buffer&) = delete;
  /// Not copyable: a buffer is the only owner of its elements.
  buffer& operator=(const buffer&) = delete;
  /// Frees the elements through `Space::deallocate`.
  ~buffer() { release(); }

  /// The first element (null when empty).
  [[nodiscard]] T* data() noexcept { return data_; }
  /// The first element, read-only (null when empty).
  [[nodiscard]] const T* data() const noexcept { return data_; }
  /// The number of elements.
  [[nodiscard]] std::size_t size() const noexcept { return count_; }
  /// The memory location of the elements (device 0 for device spaces).
  [[nodiscard]] static constexpr memory_location where() noexcept { return {Space::kind, 0}; }

  /// The whole buffer as a [size] view.
  [[nodiscard]] tensor_view<T, 1> view() noexcept { return tensor_view<T, 1>(data_, {count_}, where()); }
  /// The whole buffer as a read-only [size] view.
  [[nodiscard]] tensor_view<const T, 1> view() const noexcept { return tensor_view<const T, 1>(data_, {count_}, where()); }
  /// The first rows*cols elements as a dense [rows, cols] view (rows*cols <= size()).
  [[nodiscard]] tensor_view<T, 2> view(std::size_t rows, std::size_t cols) noexcept {
    return tensor_view<T, 2>(data_, {rows, cols}, where());
  }
  /// The first rows*cols elements as a read-only dense [rows, cols] view.
  [[nodiscard]] tensor_view<const T, 2> view(std::size_t rows, std::size_t cols) const noexcept {
    return tensor_view<const T, 2>(data_, {rows, cols}, where());
  }

private:
  void release() noexcept {
    if (data_ != nullptr) Space::deallocate(data_, count_ * sizeof(T));
    data_ = nullptr;
    count_ = 0;
  }
  T* data_ = nullptr;
  std::size_t count_ = 0;
};

}  // namespace labelgraph
