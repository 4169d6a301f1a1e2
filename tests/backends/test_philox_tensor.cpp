// Philox 4x32-10 against the Random123 known-answer vectors; tensor_view and buffer basics.
#include <catch2/catch.hpp>

#include <cstdint>
#include <vector>

#include "labelgraph/backend/philox.hpp"
#include "labelgraph/tensor/buffer.hpp"
#include "labelgraph/tensor/tensor_view.hpp"

using namespace labelgraph;

// Usable in constant expressions (and therefore in device code without state).
static_assert(philox4x32({0, 0, 0, 0}, {0, 0}) == philox_counter{0x6627e8d5u, 0xe169c58du, 0xbc57ac4cu, 0x9b00dbd8u});

TEST_CASE("philox 4x32-10 reproduces the Random123 known-answer vectors") {
  CHECK(philox4x32({0, 0, 0, 0}, {0, 0}) == philox_counter{0x6627e8d5u, 0xe169c58du, 0xbc57ac4cu, 0x9b00dbd8u});
  CHECK(philox4x32({0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu}, {0xffffffffu, 0xffffffffu}) ==
        philox_counter{0x408f276du, 0x41c83b0eu, 0xa20bc7c6u, 0x6d5451fdu});
  CHECK(philox4x32({0x243f6a88u, 0x85a308d3u, 0x13198a2eu, 0x03707344u}, {0xa4093822u, 0x299f31d0u}) ==
        philox_counter{0xd16cfe09u, 0x94fdccebu, 0x5001e420u, 0x24126ea1u});
}

TEST_CASE("philox uniforms are keyed by (seed, row, step) and lie in the unit interval") {
  // 53 bits: the largest output maps just below 1, zero maps to 0.
  CHECK(uniform_double({0xffffffffu, 0xffffffffu, 0, 0}) == 1.0 - 0x1.0p-53);
  CHECK(uniform_double({0, 0x7ffu, 0, 0}) == 0.0);  // the low 11 bits are dropped
  CHECK(philox_key_from_seed(0x0123456789abcdefull) == philox_key{0x89abcdefu, 0x01234567u});
  CHECK(philox_uniform(7, 3, 2) == uniform_double(philox4x32({3, 2, 0, 0}, philox_key_from_seed(7))));
  CHECK(philox_uniform(7, 3, 2) != philox_uniform(8, 3, 2));
  CHECK(philox_uniform(7, 3, 2) != philox_uniform(7, 4, 2));
  CHECK(philox_uniform(7, 3, 2) != philox_uniform(7, 3, 3));
  double sum = 0.0;
  constexpr std::uint32_t draws = 20000;
  for (std::uint32_t row = 0; row < draws; ++row) {
    const double u = philox_uniform(42, row, 0);
    REQUIRE(u >= 0.0);
    REQUIRE(u < 1.0);
    sum += u;
  }
  // Mean of 20000 uniforms: standard deviation 1/sqrt(12 * 20000) = 0.002; allow 5 sigma.
  CHECK(sum / draws == Approx(0.5).margin(0.0102));
}

TEST_CASE("tensor_view adopts strided user memory without copying") {
  std::vector<float> storage(3 * 5);
  for (std::size_t i = 0; i < storage.size(); ++i) storage[i] = static_cast<float>(i);
  tensor_view<float, 2> padded(storage.data(), {3, 4}, {5, 1});  // a row stride larger than the row
  CHECK(padded.extent(0) == 3);
  CHECK(padded.extent(1) == 4);
  CHECK(padded.size() == 12);
  CHECK(padded(2, 3) == 13.0f);
  CHECK(padded.row(1) == storage.data() + 5);
  CHECK(padded.inner_contiguous());
  CHECK(padded.where() == memory_location{});
  padded(0, 1) = -1.0f;
  CHECK(storage[1] == -1.0f);
  tensor_view<const float, 2> read_only = padded;  // T -> const T
  CHECK(read_only.data() == storage.data());
  CHECK(read_only.strides() == padded.strides());
  CHECK(extents_string(read_only) == "[3, 4]");
  CHECK(static_cast<const void*>(padded.end_address()) == static_cast<const void*>(storage.data() + 14));

  tensor_view<float, 2> dense(storage.data(), {3, 5});
  CHECK(dense.stride(0) == 5);
  CHECK(dense.stride(1) == 1);
  tensor_view<float, 2> column(storage.data(), {3, 1}, {5, 5});
  CHECK(column.inner_contiguous());  // one column: stride irrelevant
  tensor_view<float, 2> transposed(storage.data(), {5, 3}, {1, 5});
  CHECK_FALSE(transposed.inner_contiguous());

  tensor_view<float, 1> nothing;
  CHECK(nothing.empty());
  tensor_view<float, 1> device(storage.data(), {15}, memory_location{memory_kind::cuda_device, 1});
  CHECK(device.where().str() == "cuda:1");
  CHECK(host_view(storage).extent(0) == 15);
}

TEST_CASE("buffer owns aligned memory of its space and moves") {
  buffer<double> values(100);
  REQUIRE(values.size() == 100);
  CHECK(reinterpret_cast<std::uintptr_t>(values.data()) % host_space::alignment == 0);
  values.data()[99] = 2.5;
  auto matrix = values.view(10, 10);
  CHECK(matrix(9, 9) == 2.5);
  buffer<double> moved = std::move(values);
  CHECK(values.data() == nullptr);  // NOLINT(bugprone-use-after-move): moved-from state is specified
  CHECK(moved.size() == 100);
  CHECK(moved.view()(99) == 2.5);
  buffer<float> empty(0);
  CHECK(empty.size() == 0);
}
