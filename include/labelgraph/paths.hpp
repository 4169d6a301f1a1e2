#pragma once
/// \file
/// Umbrella header for the path algorithms: output layout, counting,
/// enumeration, the competing relation, Def. 3.3 classification, ground-truth
/// sets and target tables.

#include "labelgraph/paths/ancestors.hpp"
#include "labelgraph/paths/classify.hpp"
#include "labelgraph/paths/competing.hpp"
#include "labelgraph/paths/count.hpp"
#include "labelgraph/paths/enumerate.hpp"
#include "labelgraph/paths/graph_stats.hpp"
#include "labelgraph/paths/ground_truth.hpp"
#include "labelgraph/paths/output_layout.hpp"
#include "labelgraph/paths/target_table.hpp"
