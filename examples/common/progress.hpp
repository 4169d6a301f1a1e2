#pragma once
/// \file
/// A progress bar with rate and ETA on a terminal; plain lines otherwise
/// (logs, CI), so that piped output stays readable.

#include <chrono>
#include <cstdio>
#include <string>

#include <unistd.h>

namespace labelgraph::examples {

/// Progress of `total` units of work, in `unit`s ("samples").
class progress_bar {
public:
  progress_bar(std::string label, std::size_t total, std::string unit)
      : label_(std::move(label)), unit_(std::move(unit)), total_(total), start_(clock::now()),
        terminal_(::isatty(::fileno(stderr)) != 0) {}

  /// Reports `done` units finished, with a short status text.
  void update(std::size_t done, const std::string& status = {}) {
    if (!terminal_) return;
    const double seconds = elapsed();
    const double rate = seconds > 0 ? static_cast<double>(done) / seconds : 0.0;
    const double eta = rate > 0 ? static_cast<double>(total_ - done) / rate : 0.0;
    const int width = 24;
    const int filled = total_ == 0 ? width : static_cast<int>(width * done / total_);
    std::string bar(static_cast<std::size_t>(filled), '#');
    bar.resize(width, '.');
    std::fprintf(stderr, "\r%s [%s] %zu/%zu %.0f %s/s ETA %s %s\033[K", label_.c_str(), bar.c_str(), done, total_, rate,
                 unit_.c_str(), clock_text(eta).c_str(), status.c_str());
    std::fflush(stderr);
  }
  /// Ends the bar with a final line (always printed).
  void finish(const std::string& status) {
    const double seconds = elapsed();
    std::fprintf(stderr, "%s%s %zu %s in %s (%.0f %s/s) %s\n", terminal_ ? "\r\033[K" : "", label_.c_str(), total_,
                 unit_.c_str(), clock_text(seconds).c_str(), seconds > 0 ? static_cast<double>(total_) / seconds : 0.0,
                 unit_.c_str(), status.c_str());
  }
  /// Seconds since construction.
  [[nodiscard]] double elapsed() const {
    return std::chrono::duration<double>(clock::now() - start_).count();
  }

private:
  using clock = std::chrono::steady_clock;
  static std::string clock_text(double seconds) {
    const auto s = static_cast<long>(seconds + 0.5);
    char text[32];
    std::snprintf(text, sizeof text, "%ld:%02ld", s / 60, s % 60);
    return text;
  }
  std::string label_;
  std::string unit_;
  std::size_t total_;
  clock::time_point start_;
  bool terminal_;
};

}  // namespace labelgraph::examples
