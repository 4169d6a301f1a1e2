#pragma once
/// \file
/// `name_index`: name -> dense id lookup for the graph builder, by open
/// addressing over (hash tag, id) pairs. The names live with their owner
/// (found through a callback), so the index holds no strings and no node
/// allocations: a lookup of a present name touches one slot and one name,
/// where `std::unordered_map<std::string, id>` chases three pointers. This is
/// the hot loop of reading a 1,000,000-node file (three lookups per node).

#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <string_view>
#include <vector>

namespace labelgraph::detail {

class name_index {
public:
  static constexpr std::uint32_t missing = std::numeric_limits<std::uint32_t>::max();

  [[nodiscard]] static std::uint64_t hash(std::string_view name) noexcept {
    return static_cast<std::uint64_t>(std::hash<std::string_view>{}(name));
  }

  /// Room for `count` names without growing.
  template <class NameOf>
  void reserve(std::size_t count, const NameOf& name_of) {
    if (count * 2 > slots_.size()) rebuild(count * 2, name_of);
  }

  /// The id of `name` (whose `hash(name)` is given), or `missing`.
  /// `name_of(id)` returns the name of an id already inserted.
  template <class NameOf>
  [[nodiscard]] std::uint32_t find(std::string_view name, std::uint64_t name_hash, const NameOf& name_of) const {
    if (slots_.empty()) return missing;
    const std::size_t mask = slots_.size() - 1;
    const auto tag = static_cast<std::uint32_t>(name_hash >> 32);
    for (std::size_t i = static_cast<std::size_t>(name_hash) & mask;; i = (i + 1) & mask) {
      const slot& s = slots_[i];
      if (s.id_plus_one == 0) return missing;
      if (s.tag == tag && name_of(s.id_plus_one - 1) == name) return s.id_plus_one - 1;
    }
  }

  /// Adds `id` for a name not in the index yet.
  template <class NameOf>
  void insert(std::uint32_t id, std::uint64_t name_hash, const NameOf& name_of) {
    if ((size_ + 1) * 2 > slots_.size()) rebuild(slots_.empty() ? 16 : slots_.size() * 2, name_of);
    place(id, name_hash);
    ++size_;
  }

  void clear() noexcept {
    slots_ = {};
    size_ = 0;
  }

private:
  struct slot {
    std::uint32_t tag = 0;          // high half of the name's hash
    std::uint32_t id_plus_one = 0;  // 0: empty
  };

  void place(std::uint32_t id, std::uint64_t name_hash) noexcept {
    const std::size_t mask = slots_.size() - 1;
    std::size_t i = static_cast<std::size_t>(name_hash) & mask;
    while (slots_[i].id_plus_one != 0) i = (i + 1) & mask;
    slots_[i] = {static_cast<std::uint32_t>(name_hash >> 32), id + 1};
  }

  template <class NameOf>
  void rebuild(std::size_t at_least, const NameOf& name_of) {
    std::size_t capacity = 16;
    while (capacity < at_least) capacity *= 2;
    std::vector<slot> old = std::move(slots_);
    slots_.assign(capacity, slot{});
    for (const slot& s : old) {
      if (s.id_plus_one != 0) place(s.id_plus_one - 1, hash(name_of(s.id_plus_one - 1)));
    }
  }

  std::vector<slot> slots_;  // size: 0 or a power of two, at most half full
  std::size_t size_ = 0;
};

}  // namespace labelgraph::detail
