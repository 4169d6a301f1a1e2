#pragma once
/// \file
/// Byte input for the streaming JSON reader: a file read in chunks or a string
/// in memory, seen through an input iterator that counts lines as nlohmann's
/// lexer advances it, so that every SAX event knows the line it came from.

#include <cerrno>
#include <cstddef>
#include <cstdio>
#include <filesystem>
#include <iterator>
#include <memory>
#include <string_view>

namespace labelgraph::detail {

/// How far the lexer has read: lines, and the line of the last token.
struct read_position {
  std::size_t newlines = 0;    ///< '\n' bytes consumed
  std::size_t token_line = 1;  ///< 1-based line of the last non-blank byte consumed
  bool any_content = false;    ///< a non-blank byte has been consumed

  /// Called for every byte the lexer consumes. The lexer reads one byte past a
  /// number; that byte is blank or on the number's line, so `token_line` is
  /// the line of the token a SAX event reports in every case.
  void consume(char byte) noexcept {
    if (byte == '\n') {
      ++newlines;
    } else if (byte != ' ' && byte != '\t' && byte != '\r') {
      token_line = newlines + 1;
      any_content = true;
    }
  }
};

/// The bytes of a string in memory.
class memory_bytes {
public:
  explicit memory_bytes(std::string_view text) noexcept : next_(text.data()), end_(text.data() + text.size()) {}
  [[nodiscard]] bool at_end() const noexcept { return next_ == end_; }
  [[nodiscard]] char peek() const noexcept { return *next_; }
  void advance() noexcept { ++next_; }

private:
  const char* next_;
  const char* end_;
};

/// The bytes of an open file, read in chunks of 64 KiB; a read error ends
/// the input and is kept for the caller (`error()`), which must check it.
class file_bytes {
public:
  static constexpr std::size_t chunk = std::size_t{1} << 16;

  explicit file_bytes(std::FILE* file) : file_(file), buffer_(new char[chunk]) {}
  file_bytes(const file_bytes&) = delete;
  file_bytes& operator=(const file_bytes&) = delete;
  ~file_bytes() {
    if (file_ != nullptr) std::fclose(file_);
  }

  /// Opens `path` for reading; nullptr with `errno` set when it cannot.
  [[nodiscard]] static std::FILE* open(const std::filesystem::path& path) {
#if defined(_WIN32)
    return _wfopen(path.c_str(), L"rb");
#else
    return std::fopen(path.c_str(), "rb");
#endif
  }

  [[nodiscard]] bool at_end() {
    if (next_ == size_ && !finished_) refill();
    return next_ == size_;
  }
  [[nodiscard]] char peek() const noexcept { return buffer_[next_]; }
  void advance() noexcept { ++next_; }
  /// The `errno` of a failed read, 0 when every read succeeded.
  [[nodiscard]] int error() const noexcept { return error_; }

private:
  void refill() {
    errno = 0;
    size_ = std::fread(buffer_.get(), 1, chunk, file_);
    next_ = 0;
    if (size_ == 0) {
      finished_ = true;
      if (std::ferror(file_)) error_ = errno != 0 ? errno : EIO;
    }
  }

  std::FILE* file_;
  std::unique_ptr<char[]> buffer_;
  std::size_t next_ = 0;
  std::size_t size_ = 0;
  bool finished_ = false;
  int error_ = 0;
};

/// An input iterator over a byte source (`memory_bytes`, `file_bytes`) that
/// reports every byte it steps over to a `read_position`. Copies share the
/// source; a default-constructed iterator is the end.
template <class Source>
class line_counting_iterator {
public:
  using iterator_category = std::input_iterator_tag;
  using value_type = char;
  using difference_type = std::ptrdiff_t;
  using pointer = const char*;
  using reference = char;

  line_counting_iterator() = default;
  line_counting_iterator(Source& source, read_position& position) noexcept : source_(&source), position_(&position) {}

  char operator*() const noexcept { return source_->peek(); }
  line_counting_iterator& operator++() noexcept {
    position_->consume(source_->peek());
    source_->advance();
    return *this;
  }
  line_counting_iterator operator++(int) noexcept {
    line_counting_iterator before = *this;
    ++*this;
    return before;
  }
  friend bool operator==(const line_counting_iterator& a, const line_counting_iterator& b) {
    return a.done() == b.done();
  }

private:
  [[nodiscard]] bool done() const { return source_ == nullptr || source_->at_end(); }

  Source* source_ = nullptr;
  read_position* position_ = nullptr;
};

}  // namespace labelgraph::detail
