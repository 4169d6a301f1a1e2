#pragma once
/// \file
/// Umbrella header for graph-constrained decoding: the step-function
/// interface, ancestral sampling, greedy decoding (Algorithm 2), beam search.

#include "labelgraph/decode/beam.hpp"           // IWYU pragma: export
#include "labelgraph/decode/greedy.hpp"         // IWYU pragma: export
#include "labelgraph/decode/path_batch.hpp"     // IWYU pragma: export
#include "labelgraph/decode/sample.hpp"         // IWYU pragma: export
#include "labelgraph/decode/step_function.hpp"  // IWYU pragma: export
