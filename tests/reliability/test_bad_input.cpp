// Bad tensor input not covered by tests/backends/test_errors.cpp: misaligned
// data, device memory given in any argument of any host entry point, wrong
// shapes of optional outputs, overlapping outputs of sampling and
// reductions, out-of-range hyper-parameters, zero-row inputs, and node ids
// outside the graph in the path API. Each case is refused at the API
// boundary, before a kernel runs, with the exact message asserted here (the
// list is in docs/reliability.md).
#include <catch2/catch.hpp>

#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "labelgraph/paths.hpp"
#include "test_support.hpp"

using namespace labelgraph;
using namespace labelgraph::testing;
using Catch::Message;

namespace {

// Groups {0, 1} | {2, 3, 4} | EOP {5}; node 0: C = {0, 1}; node 1: C = {1, 2, 3, 5}.
const synthetic_layout& small_layout() {
  static const synthetic_layout layout({2, 3, 1}, {{0, 1}, {1, 2, 3, 5}});
  return layout;
}

const memory_location device{memory_kind::cuda_device, 0};

/// A view of `T` starting `offset` bytes into `raw` (misaligned for offset % alignof(T) != 0).
template <class T, std::size_t Rank>
tensor_view<T, Rank> view_at(std::vector<std::byte>& raw, std::size_t offset, std::array<std::size_t, Rank> extents) {
  return tensor_view<T, Rank>(reinterpret_cast<T*>(raw.data() + offset), extents);
}

}  // namespace

TEMPLATE_LIST_TEST_CASE("misaligned tensors are refused before any element is read", "[reliability][errors]",
                        backends_under_test) {
  const layout_view layout = small_layout().view();
  for_each_instance<TestType>([&](const TestType& backend, const std::string&) {
    std::vector<std::byte> raw(1024);
    std::vector<float> out(24);
    const auto aligned_logits = view_at<const float, 2>(raw, 0, {4, 6});
    CHECK_THROWS_MATCHES(block_softmax(backend, layout, view_at<const float, 2>(raw, 1, {4, 6}), host_view(out.data(), 4, 6)),
                         shape_error,
                         Message("logits: the data pointer is not aligned to 4 bytes (the alignment of its element type)"));
    CHECK_THROWS_MATCHES(block_log_softmax(backend, layout, aligned_logits, view_at<float, 2>(raw, 514, {4, 6})),
                         shape_error,
                         Message("log_probabilities: the data pointer is not aligned to 4 bytes (the alignment of its "
                                 "element type)"));

    std::vector<double> logits(24, 0.0), loss(4);
    const std::vector<token_id> targets{0, 1, 2, 5};
    block_nll_tensors<double> io{host_view(logits.data(), 4, 6), view_at<const token_id, 1>(raw, 2, {4}), {},
                                 host_view(loss), {}, {}, {}};
    CHECK_THROWS_MATCHES(block_nll(backend, layout, normalization::block, row_mask::all(), io), shape_error,
                         Message("targets: the data pointer is not aligned to 4 bytes (the alignment of its element "
                                 "type)"));
    io.targets = host_view(targets);
    io.loss = view_at<double, 1>(raw, 4, {4});
    CHECK_THROWS_MATCHES(block_nll(backend, layout, normalization::block, row_mask::all(), io), shape_error,
                         Message("loss: the data pointer is not aligned to 8 bytes (the alignment of its element type)"));

    std::vector<token_id> tokens(4);
    CHECK_THROWS_MATCHES(argmax_candidates(backend, layout, aligned_logits, view_at<const node_id, 1>(raw, 701, {4}),
                                           host_view(tokens)),
                         shape_error,
                         Message("nodes: the data pointer is not aligned to 4 bytes (the alignment of its element type)"));
    const std::vector<std::uint32_t> offsets{0, 2, 5};
    std::vector<double> sums(2);
    CHECK_THROWS_MATCHES(segmented_reduce(backend, reduction::sum, view_at<const double, 1>(raw, 12, {5}),
                                          host_view(offsets), host_view(sums)),
                         shape_error,
                         Message("values: the data pointer is not aligned to 8 bytes (the alignment of its element type)"));
  });
}

TEMPLATE_LIST_TEST_CASE("device memory in any argument of a host backend is refused, naming the argument",
                        "[reliability][errors]", backends_under_test) {
  const layout_view layout = small_layout().view();
  for_each_instance<TestType>([&](const TestType& backend, const std::string&) {
    const std::string reads = ", backend " + std::string(TestType::name) + " reads host memory";
    std::vector<double> logits(24, 0.0), loss(4), lse(4), total(1), weights(4, 1.0), grad(24);
    const std::vector<token_id> targets{0, 1, 2, 5};
    const std::vector<node_id> nodes{0, 1, 1, 0};
    const auto host_logits = host_view(logits.data(), 4, 6);
    const auto on_device = [](auto view) {
      using view_type = decltype(view);
      return view_type(view.data(), view.extents(), view.strides(), device);
    };
    const block_nll_tensors<double> good{host_logits, host_view(targets), host_view(std::as_const(weights)), host_view(loss),
                                         host_view(grad.data(), 4, 6), host_view(lse), host_view(total)};
    REQUIRE_NOTHROW(block_nll(backend, layout, normalization::block, row_mask::all(), good));
    auto io = good;
    io.targets = on_device(io.targets);
    CHECK_THROWS_MATCHES(block_nll(backend, layout, normalization::block, row_mask::all(), io), shape_error,
                         Message("targets: in memory space cuda:0" + reads));
    io = good;
    io.weights = on_device(io.weights);
    CHECK_THROWS_MATCHES(block_nll(backend, layout, normalization::block, row_mask::all(), io), shape_error,
                         Message("weights: in memory space cuda:0" + reads));
    io = good;
    io.grad_logits = on_device(io.grad_logits);
    CHECK_THROWS_MATCHES(block_nll(backend, layout, normalization::block, row_mask::all(), io), shape_error,
                         Message("grad_logits: in memory space cuda:0" + reads));
    io = good;
    io.total = on_device(io.total);
    CHECK_THROWS_MATCHES(block_nll(backend, layout, normalization::block, row_mask::all(), io), shape_error,
                         Message("total: in memory space cuda:0" + reads));
    CHECK_THROWS_MATCHES(block_nll(backend, layout, normalization::candidate,
                                   row_mask::from_candidates(on_device(host_view(nodes))), good),
                         shape_error, Message("mask nodes: in memory space cuda:0" + reads));
    const std::vector<std::uint8_t> dense(24, 1);
    CHECK_THROWS_MATCHES(
        block_softmax(backend, layout, host_logits, host_view(grad.data(), 4, 6), normalization::block,
                      row_mask::from_dense(on_device(tensor_view<const std::uint8_t, 2>(dense.data(), {4, 6})))),
        shape_error, Message("mask: in memory space cuda:0" + reads));

    std::vector<token_id> tokens(4);
    CHECK_THROWS_MATCHES(sample_candidates(backend, layout, host_logits, host_view(nodes), on_device(host_view(tokens)), 1, 0),
                         shape_error, Message("tokens: in memory space cuda:0" + reads));
    const std::vector<double> values{1, 2, 3, 4, 5};
    const std::vector<std::uint32_t> offsets{0, 2, 5};
    std::vector<double> sums(2);
    CHECK_THROWS_MATCHES(segmented_reduce(backend, reduction::sum, host_view(values), on_device(host_view(offsets)),
                                          host_view(sums)),
                         shape_error, Message("offsets: in memory space cuda:0" + reads));
    CHECK_THROWS_MATCHES(segmented_reduce(backend, reduction::max, host_view(values), host_view(offsets),
                                          on_device(host_view(sums))),
                         shape_error, Message("out: in memory space cuda:0" + reads));
  });
}

TEMPLATE_LIST_TEST_CASE("optional outputs, weights and upstream gradients are shape-checked", "[reliability][errors]",
                        backends_under_test) {
  const layout_view layout = small_layout().view();
  for_each_instance<TestType>([&](const TestType& backend, const std::string&) {
    std::vector<float> logits(40, 0.0f), loss(5), lse(5), total(2), weights(5, 1.0f), grad(40);
    const std::vector<token_id> targets{0, 1, 2, 5};
    const block_nll_tensors<float> good{host_view(logits.data(), 4, 6), host_view(targets), {}, tensor_view<float, 1>(loss.data(), {4}),
                                        {}, {}, {}};
    auto io = good;
    io.weights = tensor_view<const float, 1>(weights.data(), {5});
    CHECK_THROWS_MATCHES(block_nll(backend, layout, normalization::block, row_mask::all(), io), shape_error,
                         Message("weights: expected [4], got [5]"));
    io = good;
    io.grad_logits = tensor_view<float, 2>(grad.data(), {4, 5});
    CHECK_THROWS_MATCHES(block_nll(backend, layout, normalization::block, row_mask::all(), io), shape_error,
                         Message("grad_logits: expected [4, 6], got [4, 5]"));
    io = good;
    io.log_normalizer = host_view(lse);
    CHECK_THROWS_MATCHES(block_nll(backend, layout, normalization::block, row_mask::all(), io), shape_error,
                         Message("log_normalizer: expected [4], got [5]"));
    io = good;
    io.total = host_view(total);
    CHECK_THROWS_MATCHES(block_nll(backend, layout, normalization::block, row_mask::all(), io), shape_error,
                         Message("total: expected [1], got [2]"));
    io = good;
    io.targets = tensor_view<const token_id, 1>(targets.data(), {3});
    CHECK_THROWS_MATCHES(block_nll(backend, layout, normalization::block, row_mask::all(), io), shape_error,
                         Message("targets: expected [4], got [3]"));

    const tensor_view<const float, 2> probabilities(logits.data(), {4, 6});
    CHECK_THROWS_MATCHES(block_softmax_backward(backend, layout, probabilities,
                                                tensor_view<const float, 2>(weights.data(), {1, 5}),
                                                tensor_view<float, 2>(grad.data(), {4, 6})),
                         shape_error, Message("grad_probabilities: expected [4, 6], got [1, 5]"));
    CHECK_THROWS_MATCHES(block_log_softmax_backward(backend, layout, probabilities, probabilities,
                                                    tensor_view<float, 2>(grad.data(), {6, 4})),
                         shape_error, Message("grad_logits: expected [4, 6], got [6, 4]"));
    CHECK_THROWS_MATCHES(block_softmax(backend, layout, tensor_view<const float, 2>(nullptr, {4, 6}),
                                       tensor_view<float, 2>(grad.data(), {4, 6})),
                         shape_error, Message("logits: expected [4, 6], got no tensor"));
  });
}

TEMPLATE_LIST_TEST_CASE("outputs of sampling and reductions may not overlap their inputs", "[reliability][errors]",
                        backends_under_test) {
  const layout_view layout = small_layout().view();
  for_each_instance<TestType>([&](const TestType& backend, const std::string&) {
    std::vector<float> logits(24, 0.0f);
    const tensor_view<const float, 2> input(logits.data(), {4, 6});
    std::vector<std::uint32_t> shared{0, 1, 1, 0, 0};
    // The tokens written over the nodes being read: refused, even as the identical tensor.
    CHECK_THROWS_MATCHES(argmax_candidates(backend, layout, input, tensor_view<const node_id, 1>(shared.data(), {4}),
                                           tensor_view<token_id, 1>(shared.data(), {4})),
                         shape_error, Message("tokens: is the same memory as nodes; this operation cannot run in place"));
    CHECK_THROWS_MATCHES(sample_candidates(backend, layout, input, tensor_view<const node_id, 1>(shared.data(), {4}),
                                           tensor_view<token_id, 1>(shared.data() + 1, {4}), 7, 0),
                         shape_error, Message("tokens: overlaps nodes; they must not share memory"));
    CHECK_THROWS_MATCHES(argmax_candidates(backend, layout, input, tensor_view<const node_id, 1>(shared.data(), {4}),
                                           tensor_view<token_id, 1>(reinterpret_cast<token_id*>(logits.data()) + 20, {4})),
                         shape_error, Message("tokens: overlaps logits; they must not share memory"));

    std::vector<double> values{1, 2, 3, 4, 5, 0, 0};
    const std::vector<std::uint32_t> offsets{0, 2, 5};
    CHECK_THROWS_MATCHES(segmented_reduce(backend, reduction::sum, tensor_view<const double, 1>(values.data(), {5}),
                                          host_view(offsets), tensor_view<double, 1>(values.data() + 4, {2})),
                         shape_error, Message("out: overlaps values; they must not share memory"));
    std::vector<std::uint32_t> index(2);
    std::vector<double> minima(2);
    CHECK_THROWS_MATCHES(segmented_reduce(backend, reduction::argmin, tensor_view<const double, 1>(values.data(), {5}),
                                          host_view(offsets), host_view(minima),
                                          tensor_view<std::uint32_t, 1>(const_cast<std::uint32_t*>(offsets.data()) + 1, {2})),
                         shape_error, Message("index: overlaps offsets; they must not share memory"));
    const std::vector<std::uint32_t> late_start{1, 2, 5};
    CHECK_THROWS_MATCHES(segmented_reduce(backend, reduction::sum, tensor_view<const double, 1>(values.data(), {5}),
                                          host_view(late_start), host_view(minima)),
                         argument_error, Message("offsets: must start at 0, got 1"));
  });
}

TEMPLATE_LIST_TEST_CASE("non-finite or out-of-range regularizer strengths are refused", "[reliability][errors]",
                        backends_under_test) {
  const layout_view layout = small_layout().view();
  for_each_instance<TestType>([&](const TestType& backend, const std::string&) {
    std::vector<double> logits(24, 0.0), loss(4);
    const std::vector<token_id> targets{0, 1, 2, 5};
    const block_nll_tensors<double> io{host_view(logits.data(), 4, 6), host_view(targets), {}, host_view(loss), {}, {}, {}};
    const double nan = std::numeric_limits<double>::quiet_NaN();
    const double inf = std::numeric_limits<double>::infinity();
    CHECK_THROWS_MATCHES(block_nll(backend, layout, normalization::block, row_mask::all(), io, regularizer::label_smoothing(nan)),
                         argument_error, Message("regularizer: epsilon must be in [0, 1), got nan"));
    CHECK_THROWS_MATCHES(block_nll(backend, layout, normalization::block, row_mask::all(), io, regularizer::max_suppression(inf)),
                         argument_error, Message("regularizer: epsilon must be in [0, 1), got inf"));
    CHECK_THROWS_MATCHES(block_nll(backend, layout, normalization::block, row_mask::all(), io,
                                   regularizer::label_smoothing(-0.25)),
                         argument_error, Message("regularizer: epsilon must be in [0, 1), got -0.250000"));
    // NaN in a target row's logits is not an input error: it stays in that row (tests/backends/test_numerics.cpp).
    logits[6 + 3] = nan;
    REQUIRE_NOTHROW(block_nll(backend, layout, normalization::block, row_mask::all(), io));
    CHECK(std::isnan(loss[1]) == false);  // row 1's target (token 1) is in group {0, 1}: NaN at token 3 is elsewhere
    CHECK(std::isfinite(loss[0]));
  });
}

TEMPLATE_LIST_TEST_CASE("zero rows: every entry point accepts empty batches and writes nothing", "[reliability][errors]",
                        backends_under_test) {
  const layout_view layout = small_layout().view();
  for_each_instance<TestType>([&](const TestType& backend, const std::string&) {
    std::vector<float> storage(8, 7.0f);
    const tensor_view<const float, 2> none_in(storage.data(), {0, 6});
    const tensor_view<float, 2> none_out(storage.data() + 4, {0, 6});
    const std::vector<node_id> nodes(1, 0);
    const tensor_view<const node_id, 1> no_nodes(nodes.data(), {0});
    CHECK_NOTHROW(block_softmax(backend, layout, none_in, none_out));
    CHECK_NOTHROW(block_log_softmax(backend, layout, none_in, none_out, normalization::candidate, row_mask::from_candidates(no_nodes)));
    CHECK_NOTHROW(block_softmax_backward(backend, layout, none_in, none_in, none_out, normalization::full));
    std::vector<float> total(1, 7.0f);
    std::vector<token_id> tokens(1, 99);
    const block_nll_tensors<float> io{none_in, tensor_view<const token_id, 1>(tokens.data(), {0}), {},
                                      tensor_view<float, 1>(storage.data() + 6, {0}), none_out, {}, host_view(total)};
    CHECK_NOTHROW(block_nll(backend, layout, normalization::block, row_mask::all(), io));
    CHECK(total[0] == 0.0f);  // the total of no rows
    CHECK_NOTHROW(argmax_candidates(backend, layout, none_in, no_nodes, tensor_view<token_id, 1>(tokens.data(), {0})));
    CHECK(tokens[0] == 99u);
    for (float v : storage) CHECK(v == 7.0f);
  });
}

TEST_CASE("node ids outside the graph are refused by the path API with the caller named", "[reliability][errors]") {
  const label_graph graph = pet_graph();
  const auto outside = static_cast<node_id>(graph.node_count() + 5);
  const std::string where = graph.source() + ": ";  // the file the graph was read from
  const std::string tail = ": node id " + std::to_string(outside) + " is outside the graph (" +
                           std::to_string(graph.node_count()) + " nodes)";
  CHECK_THROWS_MATCHES(count_paths(graph).of(outside), argument_error, Message(where + "path_counts::of" + tail));
  CHECK_THROWS_MATCHES(ground_truth_set(graph, outside), argument_error, Message(where + "ground_truth_set" + tail));
  CHECK_THROWS_AS(enumerate_paths(graph, outside), argument_error);
  CHECK_THROWS_AS(classify_paths(graph, outside), argument_error);
  CHECK_THROWS_MATCHES(enumerate_paths(graph, "no-such-node"), argument_error,
                       Message(where + "no node named 'no-such-node' in the graph"));
  CHECK_THROWS_MATCHES(ground_truth_set(graph, graph.at("shorthair")), argument_error,
                       Message(where + "ground_truth_set: node 'shorthair' is not a label node (kind: augmented); "
                               "S(y) is defined for label nodes"));
  const label_graph empty;
  CHECK_THROWS_MATCHES(count_paths(empty), argument_error, Message("count_paths: the label graph is empty"));
  const output_layout other = make_output_layout(read_graph_json(LABELGRAPH_TEST_DATA "/valid/multi_parent.json"));
  CHECK_THROWS_AS(make_target_table(graph, other), argument_error);
  CHECK_THROWS_WITH(make_target_table(graph, other), Catch::Contains("was not made from this graph"));
}
