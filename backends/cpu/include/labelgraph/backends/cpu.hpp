#pragma once
/// \file
/// The `cpu` backend: oneTBB over row blocks (deterministic for any thread
/// count), Eigen packet math inside a row (AVX-512 / AVX2 / SSE2 chosen at
/// compile time: build with -march=native), Eigen GEMM for the dense ops.
/// Satisfies `labelgraph::backend` and `labelgraph::dense_backend`.
///
///     labelgraph::backends::cpu two_threads(2);
///     labelgraph::block_softmax(two_threads, layout, logits, probabilities);
///
/// CMake: `target_link_libraries(app PRIVATE labelgraph::cpu)`.

#include "labelgraph/backend/concept.hpp"
#include "labelgraph/backends/cpu/backend.hpp"
#include "labelgraph/backends/cpu/block_kernels.hpp"
#include "labelgraph/backends/cpu/dense_kernels.hpp"
#include "labelgraph/backends/cpu/sparse_kernels.hpp"

static_assert(labelgraph::dense_backend<labelgraph::backends::cpu>);
