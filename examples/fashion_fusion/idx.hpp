#pragma once
/// \file
/// Reader for the IDX files of (Fashion-)MNIST, gzip-compressed or not
/// (zlib's gzread reads both). Format (big-endian): magic 0x00 0x00 type ndim,
/// ndim u32 extents, then the u8 data. Missing, truncated or malformed files
/// throw `labelgraph::error` naming the file.

#include <cstdint>
#include <string>
#include <vector>

#include <zlib.h>

#include "labelgraph/error.hpp"

namespace labelgraph::examples {

/// An IDX array of unsigned bytes.
struct idx_array {
  std::vector<std::uint32_t> extents;  ///< e.g. {60000, 28, 28}
  std::vector<std::uint8_t> data;      ///< row-major
};

/// Reads an IDX file of u8 elements (type 0x08).
[[nodiscard]] inline idx_array read_idx(const std::string& file) {
  gzFile in = gzopen(file.c_str(), "rb");
  if (in == nullptr) {
    LABELGRAPH_THROW(error(file + ": cannot open the file (is the Debian package dataset-fashion-mnist installed? "
                                  "pass --data DIR)"));
  }
  const auto read_exact = [&](void* to, std::size_t bytes, const std::string& what) {
    std::size_t done = 0;
    while (done < bytes) {
      const unsigned chunk = static_cast<unsigned>(std::min<std::size_t>(bytes - done, 1u << 30));
      const int n = gzread(in, static_cast<char*>(to) + done, chunk);
      if (n <= 0) {
        gzclose(in);
        LABELGRAPH_THROW(error(file + ": truncated file (" + what + ": expected " + std::to_string(bytes) + " bytes, got " +
                               std::to_string(done) + ")"));
      }
      done += static_cast<std::size_t>(n);
    }
  };
  std::uint8_t magic[4];
  read_exact(magic, 4, "header");
  if (magic[0] != 0 || magic[1] != 0 || magic[2] != 0x08 || magic[3] == 0 || magic[3] > 4) {
    gzclose(in);
    LABELGRAPH_THROW(error(file + ": not an IDX file of unsigned bytes (magic " + std::to_string(magic[0]) + " " +
                           std::to_string(magic[1]) + " " + std::to_string(magic[2]) + " " + std::to_string(magic[3]) + ")"));
  }
  idx_array array;
  std::size_t total = 1;
  for (int d = 0; d < magic[3]; ++d) {
    std::uint8_t bytes[4];
    read_exact(bytes, 4, "extents");
    const std::uint32_t extent = (std::uint32_t{bytes[0]} << 24) | (std::uint32_t{bytes[1]} << 16) |
                                 (std::uint32_t{bytes[2]} << 8) | std::uint32_t{bytes[3]};
    array.extents.push_back(extent);
    total *= extent;
  }
  array.data.resize(total);
  read_exact(array.data.data(), total, "data");
  gzclose(in);
  return array;
}

}  // namespace labelgraph::examples
