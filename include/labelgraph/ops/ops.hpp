#pragma once
/// \file
/// Every op front end of the block-softmax family, plus the dense ops.

#include "labelgraph/ops/block_nll.hpp"        // IWYU pragma: export
#include "labelgraph/ops/block_softmax.hpp"    // IWYU pragma: export
#include "labelgraph/ops/dense.hpp"            // IWYU pragma: export
#include "labelgraph/ops/mask.hpp"             // IWYU pragma: export
#include "labelgraph/ops/options.hpp"          // IWYU pragma: export
#include "labelgraph/ops/sample.hpp"           // IWYU pragma: export
#include "labelgraph/ops/segmented_reduce.hpp" // IWYU pragma: export
#include "labelgraph/tensor/buffer.hpp"        // IWYU pragma: export
