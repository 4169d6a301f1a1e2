#pragma once
/// \file
/// The backend the example trainers run on: `cpu` (oneTBB + Eigen) where it
/// is built, else the serial `reference` backend.

#if __has_include("labelgraph/backends/cpu.hpp")
#include "labelgraph/backends/cpu.hpp"
namespace labelgraph::examples {
using training_backend = backends::cpu;
}
#else
#include "labelgraph/backends/reference.hpp"
namespace labelgraph::examples {
using training_backend = backends::reference;
}
#endif
