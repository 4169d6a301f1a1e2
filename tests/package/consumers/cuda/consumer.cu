// The installed core compiled by nvcc. A kernel uses the host/device part of
// the core (tensor_view, layout_view, row_mask::allows, Philox); the host code
// builds the pet graph's layout with the ordinary host headers. Compiling is
// the test (CI has no GPU); where a device is present the program also runs
// the kernel and compares it with the same functions called on the host.
#include <cstdio>
#include <vector>

#include <cuda_runtime.h>

#include <labelgraph/backend/philox.hpp>
#include <labelgraph/config.hpp>
#include <labelgraph/graph/graph_builder.hpp>
#include <labelgraph/ops/mask.hpp>
#include <labelgraph/paths/output_layout.hpp>
#include <labelgraph/tensor/tensor_view.hpp>
#ifdef LABELGRAPH_CONSUMER_CUDA_BACKEND
#include <labelgraph/backend/concept.hpp>
#include <labelgraph/backends/cuda.hpp>
static_assert(labelgraph::backend<labelgraph::backends::cuda>, "the cuda backend must satisfy labelgraph::backend");
#endif

namespace lg = labelgraph;

namespace {

/// What one row of the kernel computes: how many tokens C(node) allows, and
/// the row's Philox uniform, scaled to an integer so host and device compare exactly.
LABELGRAPH_HOST_DEVICE unsigned long long row_summary(const lg::layout_view& layout, const lg::row_mask& mask,
                                                      std::size_t row) {
  unsigned long long allowed = 0;
  for (lg::token_id v = 0; v < layout.tokens; ++v) allowed += mask.allows(layout, row, v) ? 1 : 0;
  const double uniform = lg::philox_uniform(42, static_cast<std::uint32_t>(row), 7);
  return allowed * 1000000000ULL + static_cast<unsigned long long>(uniform * 1e9);
}

__global__ void summary_kernel(lg::layout_view layout, lg::row_mask mask, lg::tensor_view<unsigned long long, 1> out) {
  const std::size_t row = blockIdx.x * blockDim.x + threadIdx.x;
  if (row < out.extent(0)) out(row) = row_summary(layout, mask, row);
}

/// A device copy of a host array; freed by the caller.
template <class T>
T* to_device(const T* host, std::size_t count) {
  T* device = nullptr;
  if (cudaMalloc(&device, count * sizeof(T) + 1) != cudaSuccess) return nullptr;
  cudaMemcpy(device, host, count * sizeof(T), cudaMemcpyHostToDevice);
  return device;
}

}  // namespace

int main() {
  // The paper's pet graph, small: animal > {cat, dog}; cat > {shorthair, longhair}.
  lg::graph_builder builder;
  builder.add_dataset("pets");
  builder.add_node("animal", lg::node_kind::root);
  for (const char* name : {"cat", "dog"}) builder.add_node(name, lg::node_kind::label, {"pets"});
  for (const char* name : {"shorthair", "longhair"}) builder.add_node(name, lg::node_kind::augmented);
  builder.add_edge("animal", "cat");
  builder.add_edge("animal", "dog");
  builder.add_edge("cat", "shorthair");
  builder.add_edge("cat", "longhair");
  const lg::label_graph graph = std::move(builder).build();
  const lg::output_layout layout = lg::make_output_layout(graph);
  const lg::layout_view host_layout = layout.view();

  // One row per graph node: row r is masked by C(r).
  std::vector<lg::node_id> nodes(graph.node_count());
  for (std::size_t r = 0; r < nodes.size(); ++r) nodes[r] = static_cast<lg::node_id>(r);
  std::vector<unsigned long long> expected(nodes.size());
  const lg::row_mask host_mask = lg::row_mask::from_candidates(lg::host_view(std::as_const(nodes)));
  for (std::size_t r = 0; r < nodes.size(); ++r) expected[r] = row_summary(host_layout, host_mask, r);
  std::printf("labelgraph %d.%d.%d under nvcc: %u tokens, %u groups\n", LABELGRAPH_VERSION_MAJOR,
              LABELGRAPH_VERSION_MINOR, LABELGRAPH_VERSION_PATCH, host_layout.tokens, host_layout.groups);

  int devices = 0;
  if (cudaGetDeviceCount(&devices) != cudaSuccess || devices == 0) {
    std::printf("no CUDA device: compiled only\n");
    return 0;
  }
  // The layout's flat arrays and the rows, mirrored to the device once.
  lg::layout_view device_layout = host_layout;
  device_layout.group_offsets = to_device(host_layout.group_offsets, host_layout.groups + 1);
  device_layout.token_group = to_device(host_layout.token_group, host_layout.tokens);
  device_layout.candidate_offsets = to_device(host_layout.candidate_offsets, host_layout.nodes + 1);
  device_layout.candidate_tokens =
      to_device(host_layout.candidate_tokens, host_layout.candidate_offsets[host_layout.nodes]);
  lg::node_id* device_nodes = to_device(nodes.data(), nodes.size());
  unsigned long long* device_out = nullptr;
  cudaMalloc(&device_out, nodes.size() * sizeof(unsigned long long));
  const lg::row_mask device_mask =
      lg::row_mask::from_candidates(lg::tensor_view<const lg::node_id, 1>(device_nodes, {nodes.size()}));
  summary_kernel<<<1, 32>>>(device_layout, device_mask, lg::tensor_view<unsigned long long, 1>(device_out, {nodes.size()}));
  std::vector<unsigned long long> got(nodes.size());
  const cudaError_t status = cudaMemcpy(got.data(), device_out, got.size() * sizeof(unsigned long long),
                                        cudaMemcpyDeviceToHost);
  if (status != cudaSuccess) {
    std::printf("CUDA error: %s\n", cudaGetErrorString(status));
    return 1;
  }
  for (std::size_t r = 0; r < got.size(); ++r) {
    if (got[r] != expected[r]) {
      std::printf("row %zu: device %llu, host %llu\n", r, got[r], expected[r]);
      return 1;
    }
  }
  std::printf("device rows equal host rows: %zu\n", got.size());
  return 0;
}
