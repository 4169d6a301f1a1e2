#pragma once
/// \file
/// Build-wide macros: host/device annotation and the one overridable throw.

/// Marks functions callable from host and device code. Keyed on `__CUDACC__`
/// (not `__CUDA_ARCH__`) so both compilation passes of nvcc see the same
/// declarations, as Eigen and Kokkos do.
#if defined(__CUDACC__)
#define LABELGRAPH_HOST_DEVICE __host__ __device__
#else
#define LABELGRAPH_HOST_DEVICE
#endif

/// Every exception the library raises goes through this macro, so a project
/// that builds without exceptions can route errors elsewhere (as FMT_THROW).
#ifndef LABELGRAPH_THROW
#define LABELGRAPH_THROW(exception) throw exception
#endif

/// Major version: incompatible API changes.
#define LABELGRAPH_VERSION_MAJOR 0
/// Minor version: added functionality.
#define LABELGRAPH_VERSION_MINOR 1
/// Patch version: fixes.
#define LABELGRAPH_VERSION_PATCH 0
