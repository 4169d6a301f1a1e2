#pragma once
/// \file
/// The `labelgraph::backend` concept and its `dense_backend` refinement.
///
/// A backend is a small, copyable value type (oneDPL's execution tags, Kokkos'
/// execution spaces) that keeps memory and execution apart (ggml-backend):
///
///     struct my_backend {
///       using memory_space = labelgraph::host_space;   // where its tensors live
///       using queue_type = my_queue;                   // stream / task arena / nothing
///       static constexpr std::string_view name = "mine";
///       queue_type queue() const;                      // the handle kernels run on
///       void synchronize() const;                      // wait for queued work
///       template <class T> T* allocate(std::size_t n) const;      // n elements in memory_space
///       template <class T> void deallocate(T* p, std::size_t n) const noexcept;
///       template <class T> void copy_to_host(const T* from, T* host_to, std::size_t n) const;
///       template <class T> void copy_from_host(const T* host_from, T* to, std::size_t n) const;
///     };
///     // + the required kernels, as free functions in the backend's namespace
///     //   (signatures: backend/kernels.hpp), for float and double.
///
/// Required operations: everything above plus `block_softmax_kernel`,
/// `block_log_softmax_kernel`, `block_softmax_backward_kernel`,
/// `block_log_softmax_backward_kernel` and `block_nll_kernel`.
/// Optional operations, with a generic fallback for host memory spaces:
/// `sample_candidates_kernel`, `argmax_candidates_kernel`,
/// `segmented_reduce_kernel`, `scale_target_sets_kernel` and the sparse
/// output layer's `gather_candidate_logits_kernel` /
/// `scatter_candidate_gradients_kernel`. `dense_backend` adds the dense kernels.
/// docs/backends.md walks through writing one.

#include <concepts>
#include <cstddef>
#include <string_view>

#include "labelgraph/backend/kernels.hpp"
#include "labelgraph/ops/mask.hpp"
#include "labelgraph/ops/options.hpp"
#include "labelgraph/tensor/memory_space.hpp"
#include "labelgraph/tensor/tensor_view.hpp"

namespace labelgraph {

namespace detail {

/// The required block-softmax-family kernels exist, for element type T, and are noexcept.
template <class B, class T>
concept has_block_kernels = requires(const B& backend, const normalization_spec& spec, tensor_view<const T, 2> in,
                                     tensor_view<const T, 2> grad_in, tensor_view<T, 2> out, const regularizer& reg,
                                     const block_nll_tensors<T>& nll) {
  { block_softmax_kernel(backend, spec, in, out) } noexcept;
  { block_log_softmax_kernel(backend, spec, in, out) } noexcept;
  { block_softmax_backward_kernel(backend, spec, in, grad_in, out) } noexcept;
  { block_log_softmax_backward_kernel(backend, spec, in, grad_in, out) } noexcept;
  { block_nll_kernel(backend, spec, reg, nll) } noexcept;
};

/// Allocation and host <-> backend copies of element type T.
template <class B, class T>
concept has_memory_operations = requires(const B& backend, std::size_t n, T* pointer, const T* const_pointer) {
  { backend.template allocate<T>(n) } -> std::same_as<T*>;
  { backend.deallocate(pointer, n) } noexcept;
  backend.copy_to_host(const_pointer, pointer, n);
  backend.copy_from_host(const_pointer, pointer, n);
};

/// The dense kernels exist for element type T and are noexcept.
template <class B, class T>
concept has_dense_kernels = requires(const B& backend, transpose trans, T alpha, tensor_view<const T, 2> a,
                                     tensor_view<const T, 2> b, tensor_view<T, 2> c, tensor_view<const T, 1> bias,
                                     tensor_view<T, 1> sums, activation kind) {
  { gemm_kernel(backend, trans, trans, alpha, a, b, alpha, c) } noexcept;
  { add_bias_kernel(backend, bias, c) } noexcept;
  { column_sum_kernel(backend, a, sums) } noexcept;
  { add_kernel(backend, a, b, c) } noexcept;
  { multiply_kernel(backend, a, b, c) } noexcept;
  { scale_kernel(backend, alpha, c) } noexcept;
  { activation_kernel(backend, kind, a, c) } noexcept;
  { activation_backward_kernel(backend, kind, a, b, c) } noexcept;
};

}  // namespace detail

/// A place to run the block-softmax kernel family: memory space, queue,
/// allocation, copies, and the required kernels for float and double.
template <class B>
concept backend = std::copyable<B> && memory_space<typename B::memory_space> && requires(const B& backend) {
  typename B::queue_type;
  { B::name } -> std::convertible_to<std::string_view>;
  { backend.queue() } -> std::convertible_to<typename B::queue_type>;
  backend.synchronize();
} && detail::has_memory_operations<B, float> && detail::has_memory_operations<B, double> &&
    detail::has_block_kernels<B, float> && detail::has_block_kernels<B, double>;

/// A backend that also runs the dense operations of the example models:
/// GEMM with transposes, bias add and its gradient (column sums), elementwise
/// add / multiply / scale, activations (tanh, sigmoid, relu) and their derivatives.
template <class B>
concept dense_backend = backend<B> && detail::has_dense_kernels<B, float> && detail::has_dense_kernels<B, double>;

/// True when kernels of backend B may read and write memory at `where`.
template <backend B>
[[nodiscard]] constexpr bool backend_accesses(memory_location where) noexcept {
  return accessible_from<typename B::memory_space>(where);
}

}  // namespace labelgraph
