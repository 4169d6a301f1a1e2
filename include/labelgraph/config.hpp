#pragma once
/// \file
/// Build-wide macros: host/device annotation, the one overridable throw and
/// the SIMD headers' warning guard.

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

/// `_Pragma(#text)` on GCC, where the SIMD headers' warnings arise; nothing
/// on other compilers.
#if defined(__GNUC__) && !defined(__clang__)
#define LABELGRAPH_DETAIL_GCC_PRAGMA(text) _Pragma(#text)
#else
#define LABELGRAPH_DETAIL_GCC_PRAGMA(text)
#endif

/// The SIMD headers of the cpu and xtensor backends put their code between
/// `LABELGRAPH_SIMD_WARNINGS_OFF` and `LABELGRAPH_SIMD_WARNINGS_ON`. GCC 12
/// reports -Wmaybe-uninitialized and -Wuninitialized inside its own AVX-512
/// intrinsics (GCC bug 105593) wherever Eigen's packets or xsimd's batches
/// are inlined, and -Wignored-attributes where `__m512` is a template
/// argument; a user who builds with `-Wall -Werror` should not see either.
/// The warnings stay on for the user's own code around these headers.
#define LABELGRAPH_SIMD_WARNINGS_OFF                                           \
  LABELGRAPH_DETAIL_GCC_PRAGMA(GCC diagnostic push)                            \
  LABELGRAPH_DETAIL_GCC_PRAGMA(GCC diagnostic ignored "-Wmaybe-uninitialized") \
  LABELGRAPH_DETAIL_GCC_PRAGMA(GCC diagnostic ignored "-Wuninitialized")       \
  LABELGRAPH_DETAIL_GCC_PRAGMA(GCC diagnostic ignored "-Wignored-attributes")

/// Ends the region that `LABELGRAPH_SIMD_WARNINGS_OFF` began.
#define LABELGRAPH_SIMD_WARNINGS_ON LABELGRAPH_DETAIL_GCC_PRAGMA(GCC diagnostic pop)

/// Major version: incompatible API changes.
#define LABELGRAPH_VERSION_MAJOR 0
/// Minor version: added functionality.
#define LABELGRAPH_VERSION_MINOR 1
/// Patch version: fixes.
#define LABELGRAPH_VERSION_PATCH 0
