// The backend concept: what satisfies it, what does not, and that a minimal
// backend with only the required kernels gets the optional ones from the
// generic fallbacks (docs/backends.md).
#include <catch2/catch.hpp>

#include <algorithm>
#include <random>
#include <string_view>
#include <vector>

#include "test_support.hpp"

namespace minimal_backend {

using namespace labelgraph;

/// A host backend with nothing but the required operations; its kernels
/// forward to the reference (a real backend would have its own loops).
struct minimal {
  using memory_space = host_space;
  using queue_type = int;
  static constexpr std::string_view name = "minimal";
  int queue() const noexcept { return 0; }
  void synchronize() const noexcept {}
  template <class T> T* allocate(std::size_t n) const { return backends::reference{}.allocate<T>(n); }
  template <class T> void deallocate(T* p, std::size_t n) const noexcept { backends::reference{}.deallocate(p, n); }
  template <class T> void copy_to_host(const T* from, T* to, std::size_t n) const { std::copy_n(from, n, to); }
  template <class T> void copy_from_host(const T* from, T* to, std::size_t n) const { std::copy_n(from, n, to); }
};

template <class T>
void block_softmax_kernel(const minimal&, const normalization_spec& s, tensor_view<const T, 2> z, tensor_view<T, 2> p) noexcept {
  block_softmax_kernel(backends::reference{}, s, z, p);
}
template <class T>
void block_log_softmax_kernel(const minimal&, const normalization_spec& s, tensor_view<const T, 2> z, tensor_view<T, 2> p) noexcept {
  block_log_softmax_kernel(backends::reference{}, s, z, p);
}
template <class T>
void block_softmax_backward_kernel(const minimal&, const normalization_spec& s, tensor_view<const T, 2> y,
                                   tensor_view<const T, 2> dy, tensor_view<T, 2> dz) noexcept {
  block_softmax_backward_kernel(backends::reference{}, s, y, dy, dz);
}
template <class T>
void block_log_softmax_backward_kernel(const minimal&, const normalization_spec& s, tensor_view<const T, 2> y,
                                       tensor_view<const T, 2> dy, tensor_view<T, 2> dz) noexcept {
  block_log_softmax_backward_kernel(backends::reference{}, s, y, dy, dz);
}

template <class T>
void block_nll_kernel(const minimal&, const normalization_spec& s, const regularizer& reg,
                      const block_nll_tensors<T>& io) noexcept {
  block_nll_kernel(backends::reference{}, s, reg, io);
}

}  // namespace minimal_backend

using namespace labelgraph;
using namespace labelgraph::testing;

static_assert(backend<backends::reference>);
static_assert(dense_backend<backends::reference>);
static_assert(backend<minimal_backend::minimal>);
static_assert(!dense_backend<minimal_backend::minimal>);
static_assert(!backend<int>);
static_assert(!backend<host_space>);

TEST_CASE("a backend with only the required kernels gets sampling, argmax and reductions from the fallbacks") {
  std::mt19937_64 rng(12);
  const synthetic_layout layout = synthetic_layout::random(rng, 6, 5, 4);
  const auto logits = random_logits<float>(rng, 50, layout.view().tokens);
  const std::vector<node_id> nodes = random_nodes(rng, 50, layout.view().nodes);
  std::vector<token_id> mine(50), theirs(50);
  sample_candidates(minimal_backend::minimal{}, layout.view(), logits.view(), host_view(nodes), host_view(mine), 4, 1);
  sample_candidates(backends::reference{}, layout.view(), logits.view(), host_view(nodes), host_view(theirs), 4, 1);
  CHECK(mine == theirs);
  const std::vector<float> values{1, 2, 3};
  const std::vector<std::uint32_t> offsets{0, 1, 3};
  std::vector<float> sums(2);
  segmented_reduce(minimal_backend::minimal{}, reduction::sum, host_view(values), host_view(offsets), host_view(sums));
  CHECK(sums == std::vector<float>{1, 5});
  // Error messages name the backend.
  const tensor_view<const float, 2> on_device(logits.storage.data(), {50, layout.view().tokens},
                                              memory_location{memory_kind::cuda_device, 2});
  host_matrix<float> out(50, layout.view().tokens);
  CHECK_THROWS_WITH(block_softmax(minimal_backend::minimal{}, layout.view(), on_device, out.view()),
                    "logits: in memory space cuda:2, backend minimal reads host memory");
}
