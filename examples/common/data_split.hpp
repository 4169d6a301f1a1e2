#pragma once
/// \file
/// Seeded data streams of the example trainers: the split of a training set
/// into dataset A (fine labels) and a disjoint dataset B (coarse labels
/// only), and the endless shuffled stream a trainer draws its batches from.
/// Both are Philox-keyed, so every run with a seed sees the same data.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <string>
#include <utility>
#include <vector>

#include "labelgraph/backend/philox.hpp"
#include "labelgraph/error.hpp"

namespace labelgraph::examples {

/// The training split: A = `a_size` samples with fine labels, B = the next
/// `b_size` (0: all the rest) with coarse labels only. Which images go where
/// is a seeded permutation of the training set (Philox keyed by `seed`).
struct fusion_split {
  std::vector<std::uint32_t> a;  ///< indices into the training set
  std::vector<std::uint32_t> b;  ///< disjoint from a
};

/// Makes the split; throws `argument_error` when A and B do not fit.
[[nodiscard]] inline fusion_split split_training_set(std::size_t train_count, std::size_t a_size, std::size_t b_size,
                                                     std::uint64_t seed, const std::string& what = "training images") {
  if (a_size == 0 || a_size > train_count) {
    LABELGRAPH_THROW(argument_error("--a-size " + std::to_string(a_size) + ": must be in 1.." + std::to_string(train_count)));
  }
  if (b_size == 0) b_size = train_count - a_size;
  if (a_size + b_size > train_count) {
    LABELGRAPH_THROW(argument_error("--a-size + --b-size = " + std::to_string(a_size + b_size) + " exceeds the " +
                                    std::to_string(train_count) + " " + what));
  }
  std::vector<std::pair<std::uint64_t, std::uint32_t>> keyed(train_count);
  for (std::uint32_t i = 0; i < train_count; ++i) {
    const philox_counter bits = philox4x32<10>({i, 0xA5u, 0u, 0u}, philox_key_from_seed(seed));
    keyed[i] = {(std::uint64_t{bits[0]} << 32) | bits[1], i};
  }
  std::sort(keyed.begin(), keyed.end());
  fusion_split split;
  for (std::size_t k = 0; k < a_size + b_size; ++k) (k < a_size ? split.a : split.b).push_back(keyed[k].second);
  return split;
}

/// A uniform in [0, 1) for (seed, step, slot, purpose): the per-step random
/// choices of the trainers (teacher-force coin, random path pooling), keyed by
/// the global step so a resumed run draws what an uninterrupted one would.
[[nodiscard]] inline double step_uniform(std::uint64_t seed, std::uint64_t step, std::uint64_t slot,
                                         std::uint32_t purpose) noexcept {
  return uniform_double(philox4x32<10>(
      {static_cast<std::uint32_t>(step), static_cast<std::uint32_t>(step >> 32), static_cast<std::uint32_t>(slot), purpose},
      philox_key_from_seed(seed)));
}

/// An endless, seeded stream of indices into a pool: pass p visits the pool
/// in the order of a Philox-keyed permutation of (seed, p). Position q of the
/// stream depends only on (seed, q), so a resumed run draws what an
/// uninterrupted one would.
class shuffled_stream {
public:
  shuffled_stream(std::vector<std::uint32_t> pool, std::uint64_t seed) : pool_(std::move(pool)), seed_(seed) {}
  /// Pool size.
  [[nodiscard]] std::size_t size() const noexcept { return pool_.size(); }
  /// The element at stream position q.
  [[nodiscard]] std::uint32_t at(std::uint64_t q) {
    const std::uint64_t pass = q / pool_.size();
    if (pass != pass_ || order_.empty()) shuffle(pass);
    return pool_[order_[q % pool_.size()]];
  }

private:
  void shuffle(std::uint64_t pass) {
    pass_ = pass;
    std::vector<std::pair<std::uint64_t, std::uint32_t>> keyed(pool_.size());
    const philox_key key = philox_key_from_seed(seed_);
    for (std::uint32_t i = 0; i < pool_.size(); ++i) {
      const philox_counter bits =
          philox4x32<10>({i, static_cast<std::uint32_t>(pass), static_cast<std::uint32_t>(pass >> 32), 0x5EEDu}, key);
      keyed[i] = {(std::uint64_t{bits[0]} << 32) | bits[1], i};
    }
    std::sort(keyed.begin(), keyed.end());
    order_.resize(pool_.size());
    for (std::size_t i = 0; i < keyed.size(); ++i) order_[i] = keyed[i].second;
  }
  std::vector<std::uint32_t> pool_;
  std::uint64_t seed_;
  std::vector<std::uint32_t> order_;
  std::uint64_t pass_ = 0;
};

/// The batches of a two-pool run: each step draws a (1 − `b_share`) part of
/// the batch from pool A and the rest from pool B (none when B is empty),
/// each pool from its own `shuffled_stream`. `who` names the trainer
/// in errors.
template <class Item>
class two_pool_batches {
public:
  two_pool_batches(std::vector<Item> pool_a, std::vector<Item> pool_b, std::uint64_t seed, std::size_t batch,
                   double b_share, const std::string& who)
      : pool_a_(std::move(pool_a)), pool_b_(std::move(pool_b)), stream_a_(indices(pool_a_.size()), seed ^ 0xA11CEull),
        stream_b_(indices(pool_b_.size()), seed ^ 0xB0Bull) {
    if (pool_a_.empty()) LABELGRAPH_THROW(argument_error(who + ": pool A is empty"));
    const double share = pool_b_.empty() ? 0.0 : b_share;
    b_count_ = static_cast<std::size_t>(std::lround(share * static_cast<double>(batch)));
    if (b_count_ >= batch) LABELGRAPH_THROW(argument_error(who + ": --b-share leaves no room for pool A in a batch"));
    a_count_ = batch - b_count_;
  }
  /// Replaces `batch` with the items of step `step`: A's first, then B's.
  void draw(std::uint64_t step, std::vector<Item>& batch) {
    batch.clear();
    for (std::size_t k = 0; k < a_count_; ++k) batch.push_back(pool_a_[stream_a_.at(step * a_count_ + k)]);
    for (std::size_t k = 0; k < b_count_; ++k) batch.push_back(pool_b_[stream_b_.at(step * b_count_ + k)]);
  }

private:
  static std::vector<std::uint32_t> indices(std::size_t n) {
    std::vector<std::uint32_t> all(n);
    std::iota(all.begin(), all.end(), 0u);
    return all;
  }
  std::vector<Item> pool_a_;
  std::vector<Item> pool_b_;
  shuffled_stream stream_a_;
  shuffled_stream stream_b_;
  std::size_t a_count_ = 0;
  std::size_t b_count_ = 0;
};

}  // namespace labelgraph::examples
