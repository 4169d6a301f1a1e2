#pragma once
/// \file
/// A minimal PNG writer (8-bit RGB, one IDAT chunk, zlib-compressed) for image
/// grids; no dependency beyond zlib.

#include <array>
#include <cstdint>
#include <fstream>
#include <string>
#include <vector>

#include <zlib.h>

#include "labelgraph/error.hpp"

namespace labelgraph::examples {

/// An RGB image, row-major, 3 bytes per pixel.
struct rgb_image {
  std::size_t width = 0;
  std::size_t height = 0;
  std::vector<std::uint8_t> pixels;  ///< [height, width, 3]

  rgb_image(std::size_t w, std::size_t h, std::array<std::uint8_t, 3> fill = {255, 255, 255})
      : width(w), height(h), pixels(w * h * 3) {
    for (std::size_t i = 0; i < w * h; ++i) {
      for (std::size_t c = 0; c < 3; ++c) pixels[i * 3 + c] = fill[c];
    }
  }
  /// Sets pixel (x, y).
  void set(std::size_t x, std::size_t y, std::array<std::uint8_t, 3> color) noexcept {
    for (std::size_t c = 0; c < 3; ++c) pixels[(y * width + x) * 3 + c] = color[c];
  }
};

/// Writes `image` as a PNG file; throws `error` naming the file on failure.
inline void write_png(const std::string& file, const rgb_image& image) {
  std::vector<std::uint8_t> raw;
  raw.reserve(image.height * (1 + image.width * 3));
  for (std::size_t y = 0; y < image.height; ++y) {
    raw.push_back(0);  // filter: none
    const auto* row = image.pixels.data() + y * image.width * 3;
    raw.insert(raw.end(), row, row + image.width * 3);
  }
  uLongf packed_size = compressBound(static_cast<uLong>(raw.size()));
  std::vector<std::uint8_t> packed(packed_size);
  if (compress2(packed.data(), &packed_size, raw.data(), static_cast<uLong>(raw.size()), 9) != Z_OK) {
    LABELGRAPH_THROW(error(file + ": zlib could not compress the image"));
  }
  packed.resize(packed_size);
  std::vector<std::uint8_t> out{0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  const auto put32 = [](std::vector<std::uint8_t>& to, std::uint32_t v) {
    for (int shift = 24; shift >= 0; shift -= 8) to.push_back(static_cast<std::uint8_t>(v >> shift));
  };
  const auto chunk = [&](const char* type, const std::vector<std::uint8_t>& data) {
    put32(out, static_cast<std::uint32_t>(data.size()));
    std::vector<std::uint8_t> body(type, type + 4);
    body.insert(body.end(), data.begin(), data.end());
    out.insert(out.end(), body.begin(), body.end());
    put32(out, static_cast<std::uint32_t>(crc32(0, body.data(), static_cast<uInt>(body.size()))));
  };
  std::vector<std::uint8_t> header;
  put32(header, static_cast<std::uint32_t>(image.width));
  put32(header, static_cast<std::uint32_t>(image.height));
  header.insert(header.end(), {8, 2, 0, 0, 0});  // 8 bits, RGB, deflate, no filter method, no interlace
  chunk("IHDR", header);
  chunk("IDAT", packed);
  chunk("IEND", {});
  std::ofstream stream(file, std::ios::binary);
  stream.write(reinterpret_cast<const char*>(out.data()), static_cast<std::streamsize>(out.size()));
  if (!stream) LABELGRAPH_THROW(error(file + ": cannot write the PNG file"));
}

}  // namespace labelgraph::examples
