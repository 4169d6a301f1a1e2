#pragma once
/// \file
/// Binary checkpoints: named byte blobs behind a header, with a checksum,
/// written atomically.
///
/// Layout (little-endian as the host writes it; checkpoints are not meant to
/// travel between architectures):
///
///     "LGCKPT\0\0"  magic, 8 bytes
///     u32 format version (checkpoint_format_version)
///     u64 graph hash     (FNV-1a 64 of the graph's canonical JSON, `graph_hash`)
///     u32 entry count
///     per entry: u32 name length, name bytes, u64 byte count, bytes
///     u64 checksum       (FNV-1a 64 of every byte before it)
///
/// Writing goes to "<file>.tmp", is flushed and fsync'ed, then renamed over
/// the file (and the directory fsync'ed): a crash leaves the old checkpoint or
/// the new one, never half of one.

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <span>
#include <sstream>
#include <string>
#include <type_traits>
#include <vector>

#include <fcntl.h>
#include <unistd.h>

#include "labelgraph/error.hpp"
#include "labelgraph/graph/json.hpp"

namespace labelgraph::examples {

/// Version written into, and required from, every checkpoint.
inline constexpr std::uint32_t checkpoint_format_version = 1;

/// FNV-1a 64 over bytes, continuing from `hash`.
[[nodiscard]] inline std::uint64_t fnv1a(std::span<const std::byte> bytes,
                                         std::uint64_t hash = 0xcbf29ce484222325ull) noexcept {
  for (std::byte b : bytes) {
    hash ^= static_cast<std::uint64_t>(b);
    hash *= 0x100000001b3ull;
  }
  return hash;
}

/// FNV-1a 64 of the graph's canonical JSON: identifies the label graph (and so
/// the output layout) a checkpoint was trained on.
[[nodiscard]] inline std::uint64_t graph_hash(const label_graph& graph) {
  std::ostringstream text;
  write_graph_json(graph, text);
  const std::string json = text.str();
  return fnv1a(std::as_bytes(std::span(json.data(), json.size())));
}

/// Collects entries, then writes them atomically.
class checkpoint_writer {
public:
  /// A checkpoint for the graph with hash `graph`.
  explicit checkpoint_writer(std::uint64_t graph) : graph_(graph) {}

  /// Adds the entry `name` holding a copy of `values`.
  template <class T>
    requires std::is_trivially_copyable_v<T>
  void add(const std::string& name, std::span<const T> values) {
    const auto bytes = std::as_bytes(values);
    entries_.emplace_back(name, std::vector<std::byte>(bytes.begin(), bytes.end()));
  }
  /// Adds one value.
  template <class T>
    requires std::is_trivially_copyable_v<T>
  void add_value(const std::string& name, const T& value) {
    add(name, std::span<const T>(&value, 1));
  }

  /// Writes "<file>.tmp", fsyncs it and renames it to `file`.
  void write(const std::filesystem::path& file) const {
    std::vector<std::byte> out;
    const auto put = [&out](const void* data, std::size_t size) {
      const auto* first = static_cast<const std::byte*>(data);
      out.insert(out.end(), first, first + size);
    };
    const char magic[8] = {'L', 'G', 'C', 'K', 'P', 'T', 0, 0};
    put(magic, sizeof magic);
    put(&checkpoint_format_version, sizeof checkpoint_format_version);
    put(&graph_, sizeof graph_);
    const auto count = static_cast<std::uint32_t>(entries_.size());
    put(&count, sizeof count);
    for (const auto& [name, bytes] : entries_) {
      const auto length = static_cast<std::uint32_t>(name.size());
      put(&length, sizeof length);
      put(name.data(), name.size());
      const std::uint64_t size = bytes.size();
      put(&size, sizeof size);
      put(bytes.data(), bytes.size());
    }
    const std::uint64_t checksum = fnv1a(out);
    put(&checksum, sizeof checksum);

    std::filesystem::path temporary = file;
    temporary += ".tmp";
    const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) LABELGRAPH_THROW(error("checkpoint: cannot create " + temporary.string() + ": " + std::strerror(errno)));
    std::size_t written = 0;
    while (written < out.size()) {
      const ssize_t n = ::write(fd, out.data() + written, out.size() - written);
      if (n <= 0) {
        ::close(fd);
        LABELGRAPH_THROW(error("checkpoint: cannot write " + temporary.string() + ": " + std::strerror(errno)));
      }
      written += static_cast<std::size_t>(n);
    }
    if (::fsync(fd) != 0 || ::close(fd) != 0) {
      LABELGRAPH_THROW(error("checkpoint: cannot flush " + temporary.string() + ": " + std::strerror(errno)));
    }
    std::filesystem::rename(temporary, file);
    // Make the rename itself durable: fsync the directory that holds the file.
    const std::filesystem::path directory = file.has_parent_path() ? file.parent_path() : std::filesystem::path(".");
    const int dir = ::open(directory.c_str(), O_RDONLY | O_DIRECTORY);
    if (dir >= 0) {
      ::fsync(dir);
      ::close(dir);
    }
  }

private:
  std::uint64_t graph_;
  std::vector<std::pair<std::string, std::vector<std::byte>>> entries_;
};

/// Reads and verifies a checkpoint; entries are then looked up by name.
class checkpoint_reader {
public:
  /// Reads `file`; throws `error` naming the file when it is missing,
  /// truncated, corrupt (checksum), of another format version, or made for
  /// another label graph than `expected_graph`.
  checkpoint_reader(const std::filesystem::path& file, std::uint64_t expected_graph) : file_(file.string()) {
    std::ifstream in(file, std::ios::binary);
    if (!in) LABELGRAPH_THROW(error("checkpoint " + file_ + ": cannot open the file"));
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const auto bytes = std::as_bytes(std::span(text.data(), text.size()));
    constexpr std::size_t header = 8 + 4 + 8 + 4;
    if (bytes.size() < header + 8 || std::memcmp(text.data(), "LGCKPT\0\0", 8) != 0) {
      LABELGRAPH_THROW(error("checkpoint " + file_ + ": not a labelgraph checkpoint (bad magic or too short)"));
    }
    std::uint64_t stored_checksum = 0;
    std::memcpy(&stored_checksum, text.data() + text.size() - 8, 8);
    if (fnv1a(bytes.first(bytes.size() - 8)) != stored_checksum) {
      LABELGRAPH_THROW(error("checkpoint " + file_ + ": checksum mismatch (the file is truncated or corrupt)"));
    }
    std::size_t at = 8;
    const auto take = [&](void* to, std::size_t size) {
      if (at + size > bytes.size() - 8) LABELGRAPH_THROW(error("checkpoint " + file_ + ": truncated entry table"));
      std::memcpy(to, text.data() + at, size);
      at += size;
    };
    std::uint32_t version = 0;
    take(&version, 4);
    if (version != checkpoint_format_version) {
      LABELGRAPH_THROW(error("checkpoint " + file_ + ": format version " + std::to_string(version) + ", this program reads " +
                             std::to_string(checkpoint_format_version)));
    }
    std::uint64_t graph = 0;
    take(&graph, 8);
    if (graph != expected_graph) {
      LABELGRAPH_THROW(error("checkpoint " + file_ + ": made for another label graph (graph hash " + hex(graph) +
                             ", this run's graph has " + hex(expected_graph) + ")"));
    }
    std::uint32_t count = 0;
    take(&count, 4);
    for (std::uint32_t e = 0; e < count; ++e) {
      std::uint32_t length = 0;
      take(&length, 4);
      std::string name(length, '\0');
      take(name.data(), length);
      std::uint64_t size = 0;
      take(&size, 8);
      if (size > bytes.size()) LABELGRAPH_THROW(error("checkpoint " + file_ + ": entry " + name + " is truncated"));
      std::vector<std::byte> data(static_cast<std::size_t>(size));
      take(data.data(), data.size());
      entries_.emplace(std::move(name), std::move(data));
    }
  }

  /// True when the checkpoint has an entry `name`.
  [[nodiscard]] bool contains(const std::string& name) const { return entries_.contains(name); }

  /// Copies entry `name` into `values`, which must have exactly its size.
  template <class T>
    requires std::is_trivially_copyable_v<T>
  void read(const std::string& name, std::span<T> values) const {
    const auto found = entries_.find(name);
    if (found == entries_.end()) LABELGRAPH_THROW(error("checkpoint " + file_ + ": no entry " + name));
    if (found->second.size() != values.size_bytes()) {
      LABELGRAPH_THROW(error("checkpoint " + file_ + ": entry " + name + " holds " + std::to_string(found->second.size()) +
                             " bytes, the model expects " + std::to_string(values.size_bytes()) +
                             " (another model size?)"));
    }
    std::memcpy(values.data(), found->second.data(), values.size_bytes());
  }
  /// One value.
  template <class T>
    requires std::is_trivially_copyable_v<T>
  [[nodiscard]] T value(const std::string& name) const {
    T result{};
    read(name, std::span<T>(&result, 1));
    return result;
  }

private:
  static std::string hex(std::uint64_t value) {
    char text[19];
    std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(value));
    return text;
  }
  std::string file_;
  std::map<std::string, std::vector<std::byte>, std::less<>> entries_;
};

}  // namespace labelgraph::examples
