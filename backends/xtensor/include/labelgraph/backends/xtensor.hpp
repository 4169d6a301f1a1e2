#pragma once
/// \file
/// The `xtensor` backend: the block-softmax kernel family written with
/// xtensor views over the caller's memory (`xt::adapt`, `xt::view`,
/// `xt::amax`, `xt::sum`, expressions) and xsimd batches for exp / log;
/// rows in parallel on a oneTBB arena. Satisfies `labelgraph::backend`.
///
///     labelgraph::backends::xtensor backend;     // all cores; xtensor(1): one thread
///     labelgraph::block_softmax(backend, layout, logits, probabilities);
///
/// CMake: `target_link_libraries(app PRIVATE labelgraph::xtensor)` (needs
/// xtensor, xsimd and oneTBB; defines XTENSOR_USE_XSIMD; build with
/// -march=native for AVX2 / AVX-512 batches).

#include "labelgraph/backend/concept.hpp"
#include "labelgraph/backends/xtensor/backend.hpp"

static_assert(labelgraph::backend<labelgraph::backends::xtensor>);
