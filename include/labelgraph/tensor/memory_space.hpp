#pragma once
/// \file
/// Memory spaces: where the bytes of a tensor live.
///
/// A memory space is a small tag type (Kokkos' `HostSpace`, `CudaSpace`) with
/// a runtime identity (`memory_kind`) and, for spaces that own an allocator,
/// `allocate` / `deallocate`. A `tensor_view` carries a `memory_location` at
/// run time, because user memory adopted from another stack (a libtorch
/// tensor, a `cudaMalloc`'d pointer) only says where it lives at run time; the
/// op front ends compare it with the backend's `memory_space` and throw
/// `shape_error` on a mismatch.

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <new>
#include <string>
#include <string_view>

#include "labelgraph/config.hpp"

namespace labelgraph {

/// The kinds of memory a tensor may live in.
enum class memory_kind : std::uint8_t {
  host,         ///< ordinary host memory (`new`, `std::vector`, Eigen, xtensor, CPU torch tensors)
  cuda_device,  ///< CUDA device memory (`cudaMalloc`); reserved for the cuda backend
};

/// Name used in error messages: "host", "cuda".
[[nodiscard]] constexpr std::string_view to_string(memory_kind kind) noexcept {
  switch (kind) {
    case memory_kind::host: return "host";
    case memory_kind::cuda_device: return "cuda";
  }
  return "?";
}

/// Where one tensor lives: a kind of memory and, for devices, which device.
struct memory_location {
  memory_kind kind = memory_kind::host;  ///< host or device memory
  int device = 0;  ///< device ordinal; 0 for host memory

  /// Same kind and same device.
  friend constexpr bool operator==(memory_location, memory_location) noexcept = default;

  /// "host", "cuda:1".
  [[nodiscard]] std::string str() const {
    return kind == memory_kind::host ? std::string(to_string(kind))
                                     : std::string(to_string(kind)) + ":" + std::to_string(device);
  }
};

/// A memory space tag: `kind` says which memory it is, `name` is for messages.
///
/// Required: `Space::kind` (a `memory_kind`), `Space::name` (convertible to
/// `std::string_view`), `Space::allocate(bytes)` -> `void*` and
/// `Space::deallocate(pointer, bytes)`, used by `buffer<T, Space>`.
template <class Space>
concept memory_space = requires(std::size_t bytes, void* pointer) {
  { Space::kind } -> std::convertible_to<memory_kind>;
  { Space::name } -> std::convertible_to<std::string_view>;
  { Space::allocate(bytes) } -> std::same_as<void*>;
  Space::deallocate(pointer, bytes);
};

/// Ordinary host memory, 64-byte aligned (one cache line, one AVX-512 vector).
struct host_space {
  static constexpr memory_kind kind = memory_kind::host;  ///< ordinary host memory
  static constexpr std::string_view name = "host";       ///< for messages
  static constexpr std::size_t alignment = 64;           ///< bytes; every allocation starts on a cache line

  /// Allocates `bytes` bytes (at least 1), aligned to `alignment`; throws std::bad_alloc.
  [[nodiscard]] static void* allocate(std::size_t bytes) {
    return ::operator new(bytes == 0 ? 1 : bytes, std::align_val_t{alignment});
  }
  /// Releases memory from `allocate`.
  static void deallocate(void* pointer, std::size_t /*bytes*/) noexcept {
    ::operator delete(pointer, std::align_val_t{alignment});
  }
};
static_assert(memory_space<host_space>);

/// True when code running in `Space` may dereference memory at `where`.
template <memory_space Space>
[[nodiscard]] constexpr bool accessible_from(memory_location where) noexcept {
  return where.kind == Space::kind;
}

}  // namespace labelgraph
