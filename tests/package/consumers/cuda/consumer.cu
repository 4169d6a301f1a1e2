// Compiles the cuda backend with nvcc; runs nothing on a device (CI has none).
#include <labelgraph/backend/concept.hpp>
#include <labelgraph/backends/cuda.hpp>
#include <labelgraph/config.hpp>

static_assert(labelgraph::backend<labelgraph::backends::cuda>, "the cuda backend must satisfy labelgraph::backend");

namespace {
LABELGRAPH_HOST_DEVICE float twice(float value) { return 2 * value; }
__global__ void twice_kernel(float* values) { values[threadIdx.x] = twice(values[threadIdx.x]); }
}  // namespace

int main() {
  void (*kernel)(float*) = twice_kernel;
  return kernel == nullptr ? 1 : 0;
}
