// Bad input is rejected at the API boundary, before any kernel runs, with a
// message naming the tensor and what was expected — on every backend.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "test_support.hpp"

using namespace labelgraph;
using namespace labelgraph::testing;
using Catch::Message;

namespace {

// Groups {0, 1} | {2, 3, 4} | EOP {5}; node 0: C = {0, 1}; node 1: C = {1, 2, 3, 5}.
const synthetic_layout& error_layout() {
  static const synthetic_layout layout({2, 3, 1}, {{0, 1}, {1, 2, 3, 5}});
  return layout;
}

}  // namespace

TEMPLATE_LIST_TEST_CASE("shape, memory space, layout and aliasing errors name the tensor", "[backends][errors]",
                        backends_under_test) {
  const layout_view layout = error_layout().view();
  for_each_instance<TestType>([&](const TestType& backend, const std::string&) {
    std::vector<float> storage(64, 0.0f);
    const tensor_view<float, 2> logits(storage.data(), {4, 6});
    std::vector<float> out_storage(64, 0.0f);
    const tensor_view<float, 2> out(out_storage.data(), {4, 6});

    CHECK_THROWS_MATCHES(block_softmax(backend, layout, tensor_view<const float, 2>(storage.data(), {4, 5}), out),
                         shape_error, Message("logits: expected [4, 6], got [4, 5]"));
    CHECK_THROWS_MATCHES(block_softmax(backend, layout, logits, tensor_view<float, 2>(out_storage.data(), {3, 6})),
                         shape_error, Message("probabilities: expected [4, 6], got [3, 6]"));
    const tensor_view<const float, 2> on_device(storage.data(), {4, 6}, memory_location{memory_kind::cuda_device, 0});
    CHECK_THROWS_MATCHES(block_log_softmax(backend, layout, on_device, out), shape_error,
                         Message("logits: in memory space cuda:0, backend " + std::string(TestType::name) +
                                 " reads host memory"));
    const tensor_view<const float, 2> strided(storage.data(), {4, 6}, {12, 2});
    CHECK_THROWS_MATCHES(block_softmax(backend, layout, strided, out), shape_error,
                         Message("logits: the last dimension must be contiguous (stride 1), got stride 2"));
    const tensor_view<float, 2> shifted(storage.data() + 1, {4, 6});
    CHECK_THROWS_MATCHES(block_softmax(backend, layout, logits, shifted), shape_error,
                         Message("probabilities: overlaps logits; an output may share memory with an input only as "
                                 "the identical tensor"));
    CHECK_NOTHROW(block_softmax(backend, layout, logits, logits));  // in place is allowed
    CHECK_THROWS_MATCHES(block_softmax_backward(backend, layout, logits, out, shifted), shape_error,
                         Message("grad_logits: overlaps probabilities; an output may share memory with an input only "
                                 "as the identical tensor"));
    CHECK_THROWS_MATCHES(block_softmax(backend, layout, logits, out, normalization::candidate), argument_error,
                         Message("normalization candidate needs a mask: pass row_mask::from_candidates(current nodes) "
                                 "or a dense mask"));
    const std::vector<node_id> bad_nodes{0, 1, 7, 0};
    CHECK_THROWS_MATCHES(block_softmax(backend, layout, logits, out, normalization::candidate,
                                       row_mask::from_candidates(host_view(bad_nodes))),
                         argument_error, Message("mask nodes: row 2: node 7 is outside the graph (2 nodes)"));
    const std::vector<std::uint8_t> small_mask(6, 1);
    CHECK_THROWS_MATCHES(block_softmax(backend, layout, logits, out, normalization::block,
                                       row_mask::from_dense(tensor_view<const std::uint8_t, 2>(small_mask.data(), {1, 6}))),
                         shape_error, Message("mask: expected [4, 6], got [1, 6]"));
  });
}

TEMPLATE_LIST_TEST_CASE("fused NLL rejects targets outside the mask and overlapping outputs", "[backends][errors]",
                        backends_under_test) {
  const layout_view layout = error_layout().view();
  for_each_instance<TestType>([&](const TestType& backend, const std::string&) {
    std::vector<double> logits_storage(24, 0.5);
    const tensor_view<double, 2> logits(logits_storage.data(), {4, 6});
    std::vector<double> loss(4), lse(8);
    const std::vector<node_id> nodes{0, 1, 1, 0};
    const row_mask candidates = row_mask::from_candidates(host_view(nodes));

    std::vector<token_id> targets{1, 4, 2, no_token};  // row 1: token 4 is not in C(1) = {1, 2, 3, 5}
    block_nll_tensors<double> io{logits, host_view(std::as_const(targets)), {}, host_view(loss), {}, {}, {}};
    CHECK_THROWS_MATCHES(block_nll(backend, layout, normalization::candidate, candidates, io), argument_error,
                         Message("targets: row 1: token 4 is outside the row's mask (not a candidate of node 1)"));
    std::vector<std::uint8_t> dense(24, 1);
    dense[2 * 6 + 2] = 0;  // row 2 masks out its target, token 2
    targets = {1, 3, 2, no_token};
    CHECK_THROWS_MATCHES(block_nll(backend, layout, normalization::full,
                                   row_mask::from_dense(tensor_view<const std::uint8_t, 2>(dense.data(), {4, 6})), io),
                         argument_error, Message("targets: row 2: token 2 is outside the row's mask (masked out)"));
    targets = {9, 3, 2, no_token};
    CHECK_THROWS_MATCHES(block_nll(backend, layout, normalization::block, row_mask::all(), io), argument_error,
                         Message("targets: row 0: token 9 is outside the layout (6 tokens)"));
    targets = {1, 3, 2, no_token};
    CHECK_NOTHROW(block_nll(backend, layout, normalization::candidate, candidates, io));

    block_nll_tensors<double> overlapping{logits, host_view(std::as_const(targets)), {}, host_view(loss), {},
                                          tensor_view<double, 1>(loss.data() + 2, {4}), {}};
    CHECK_THROWS_MATCHES(block_nll(backend, layout, normalization::block, row_mask::all(), overlapping), shape_error,
                         Message("log_normalizer: overlaps loss; they must not share memory"));
    block_nll_tensors<double> loss_over_logits{logits, host_view(std::as_const(targets)), {},
                                               tensor_view<double, 1>(logits_storage.data(), {4}), {}, {}, {}};
    CHECK_THROWS_MATCHES(block_nll(backend, layout, normalization::block, row_mask::all(), loss_over_logits),
                         shape_error, Message("loss: overlaps logits; they must not share memory"));
    block_nll_tensors<double> no_loss{logits, host_view(std::as_const(targets)), {}, {}, {}, {}, {}};
    CHECK_THROWS_MATCHES(block_nll(backend, layout, normalization::block, row_mask::all(), no_loss), shape_error,
                         Message("loss: expected [4], got no tensor"));
    CHECK_THROWS_MATCHES(block_nll(backend, layout, normalization::block, row_mask::all(), io,
                                   regularizer::label_smoothing(1.0)),
                         argument_error, Message("regularizer: epsilon must be in [0, 1), got 1.000000"));
  });
}

TEMPLATE_LIST_TEST_CASE("sampling, reductions and dense ops validate their arguments", "[backends][errors]",
                        backends_under_test) {
  const layout_view layout = error_layout().view();
  for_each_instance<TestType>([&](const TestType& backend, const std::string&) {
    std::vector<float> logits_storage(24, 0.0f);
    const tensor_view<const float, 2> logits(logits_storage.data(), {4, 6});
    std::vector<token_id> tokens(4);
    const std::vector<node_id> three_nodes{0, 1, 0};
    CHECK_THROWS_MATCHES(sample_candidates(backend, layout, logits, host_view(three_nodes), host_view(tokens), 1, 0),
                         shape_error, Message("nodes: expected [4], got [3]"));
    const std::vector<node_id> bad_nodes{0, 1, 0, 2};
    CHECK_THROWS_MATCHES(argmax_candidates(backend, layout, logits, host_view(bad_nodes), host_view(tokens)),
                         argument_error, Message("nodes: row 3: node 2 is outside the graph (2 nodes)"));

    const std::vector<double> values{1, 2, 3, 4, 5};
    std::vector<double> out(2);
    std::vector<std::uint32_t> index(2);
    const std::vector<std::uint32_t> short_offsets{0, 2, 4};
    CHECK_THROWS_MATCHES(segmented_reduce(backend, reduction::sum, host_view(values), host_view(short_offsets), host_view(out)),
                         argument_error, Message("offsets: must end at the number of values (5), got 4"));
    const std::vector<std::uint32_t> decreasing{0, 3, 2, 5};
    std::vector<double> three(3);
    CHECK_THROWS_MATCHES(segmented_reduce(backend, reduction::sum, host_view(values), host_view(decreasing), host_view(three)),
                         argument_error, Message("offsets: must not decrease, got 3 then 2 at segment 1"));
    const std::vector<std::uint32_t> offsets{0, 2, 5};
    CHECK_THROWS_MATCHES(segmented_reduce(backend, reduction::sum, host_view(values), host_view(offsets), host_view(out),
                                          host_view(index)),
                         argument_error, Message("index: only reduction argmin writes an index, not sum"));
    CHECK_THROWS_MATCHES(segmented_reduce(backend, reduction::argmin, host_view(values), host_view(offsets), host_view(out)),
                         shape_error, Message("index: expected [2], got no tensor"));

    if constexpr (dense_backend<TestType>) {
      std::vector<float> a(6), b(8), c(4);
      CHECK_THROWS_MATCHES(gemm(backend, transpose::no, transpose::no, 1.0f, tensor_view<const float, 2>(a.data(), {2, 3}),
                                tensor_view<const float, 2>(b.data(), {4, 2}), 0.0f, tensor_view<float, 2>(c.data(), {2, 2})),
                           shape_error, Message("b: expected [3, 2], got [4, 2]"));
    }
  });
}
