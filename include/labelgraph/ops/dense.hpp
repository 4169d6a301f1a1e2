#pragma once
/// \file
/// Dense operations of the example models, on any `dense_backend`: GEMM with
/// transposes, bias add and bias gradient, elementwise add / multiply /
/// scale, activations and their derivatives. Same checks as every front end
/// (extents, memory space, contiguous rows, aliasing) before the kernel runs.

#include <array>
#include <cstddef>
#include <string>
#include <type_traits>

#include "labelgraph/backend/concept.hpp"
#include "labelgraph/ops/detail/validate.hpp"
#include "labelgraph/ops/options.hpp"

namespace labelgraph {

/// C = α·op(A)·op(B) + β·C with op(A) [M, K], op(B) [K, N], C [M, N]; C must not overlap A or B.
template <dense_backend B, class T>
void gemm(const B& backend, transpose ta, transpose tb, T alpha, std::type_identity_t<tensor_view<const T, 2>> a,
          std::type_identity_t<tensor_view<const T, 2>> b, T beta, tensor_view<T, 2> c) {
  const auto op_extents = [](const auto& x, transpose t) -> std::array<std::size_t, 2> {
    return t == transpose::no ? std::array{x.extent(0), x.extent(1)} : std::array{x.extent(1), x.extent(0)};
  };
  const auto op_a = op_extents(a, ta);
  const auto op_b = op_extents(b, tb);
  detail::check_tensor<B>("a", a, a.extents());
  detail::check_tensor<B>("b", b, tb == transpose::no ? std::array{op_a[1], op_b[1]} : std::array{op_b[1], op_a[1]});
  detail::check_tensor<B>("c", c, {op_a[0], op_b[1]});
  detail::check_no_overlap("c", c, "a", a, false);
  detail::check_no_overlap("c", c, "b", b, false);
  gemm_kernel(backend, ta, tb, alpha, a, b, beta, c);
}

/// x(i, j) += bias(j) for x [rows, n], bias [n].
template <dense_backend B, class T>
void add_bias(const B& backend, std::type_identity_t<tensor_view<const T, 1>> bias, tensor_view<T, 2> x) {
  detail::check_tensor<B>("x", x, x.extents());
  detail::check_tensor<B>("bias", bias, {x.extent(1)});
  detail::check_no_overlap("x", x, "bias", bias, false);
  add_bias_kernel(backend, bias, x);
}

/// sums(j) = Σ_i x(i, j) (the gradient of a bias from the gradient of x).
template <dense_backend B, class T>
void column_sum(const B& backend, std::type_identity_t<tensor_view<const T, 2>> x, tensor_view<T, 1> sums) {
  detail::check_tensor<B>("x", x, x.extents());
  detail::check_tensor<B>("sums", sums, {x.extent(1)});
  detail::check_no_overlap("sums", sums, "x", x, false);
  column_sum_kernel(backend, x, sums);
}

namespace detail {

/// a, b and out have one shape; out may be a or b exactly.
template <dense_backend B, class T>
void check_elementwise(tensor_view<const T, 2> a, tensor_view<const T, 2> b, tensor_view<T, 2> out,
                       std::string_view a_name = "a", std::string_view b_name = "b", std::string_view out_name = "out") {
  check_tensor<B>(a_name, a, a.extents());
  check_tensor<B>(b_name, b, a.extents());
  check_tensor<B>(out_name, out, a.extents());
  check_no_overlap(out_name, out, a_name, a, true);
  check_no_overlap(out_name, out, b_name, b, true);
}

}  // namespace detail

/// out = a + b (out may be a or b).
template <dense_backend B, class T>
void add(const B& backend, std::type_identity_t<tensor_view<const T, 2>> a,
         std::type_identity_t<tensor_view<const T, 2>> b, tensor_view<T, 2> out) {
  detail::check_elementwise<B, T>(a, b, out);
  add_kernel(backend, a, b, out);
}

/// out = a ⊙ b (out may be a or b).
template <dense_backend B, class T>
void multiply(const B& backend, std::type_identity_t<tensor_view<const T, 2>> a,
              std::type_identity_t<tensor_view<const T, 2>> b, tensor_view<T, 2> out) {
  detail::check_elementwise<B, T>(a, b, out);
  multiply_kernel(backend, a, b, out);
}

/// x ← α·x.
template <dense_backend B, class T>
void scale(const B& backend, std::type_identity_t<T> alpha, tensor_view<T, 2> x) {
  detail::check_tensor<B>("x", x, x.extents());
  scale_kernel(backend, alpha, x);
}

/// y = f(x) elementwise (y may be x).
template <dense_backend B, class T>
void activate(const B& backend, activation kind, std::type_identity_t<tensor_view<const T, 2>> x, tensor_view<T, 2> y) {
  detail::check_tensor<B>("x", x, x.extents());
  detail::check_tensor<B>("y", y, x.extents());
  detail::check_no_overlap("y", y, "x", x, true);
  activation_kernel(backend, kind, x, y);
}

/// grad_x = grad_y ⊙ f'(x), f' written through the output y = f(x) (grad_x may be grad_y or y).
template <dense_backend B, class T>
void activation_backward(const B& backend, activation kind, std::type_identity_t<tensor_view<const T, 2>> y,
                         std::type_identity_t<tensor_view<const T, 2>> grad_y, tensor_view<T, 2> grad_x) {
  detail::check_elementwise<B, T>(y, grad_y, grad_x, "y", "grad_y", "grad_x");
  activation_backward_kernel(backend, kind, y, grad_y, grad_x);
}

}  // namespace labelgraph
