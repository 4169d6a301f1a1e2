#pragma once
/// \file
/// Runs a piece of work in a child process and reports the child's peak
/// resident set size (its own getrusage(RUSAGE_SELF).ru_maxrss, sent back
/// through a pipe), so that a test can assert a memory bound on that work,
/// unaffected by what the test process allocated before or in other children.
/// The child starts with the parent's resident pages, so keep the parent small.

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>

namespace labelgraph::testing {

/// What the child reported: its exit status (0 = the work returned true) and
/// its peak resident memory in MiB.
struct child_result {
  int exit_status = -1;
  double peak_mib = 0;
};

/// Runs `work()` (returning bool) in a forked child. An exception or `false`
/// gives a non-zero exit status; the message of an exception is printed.
template <class Work>
child_result run_in_child(Work&& work) {
  child_result result;
  int channel[2];
  if (::pipe(channel) != 0) return result;
  std::fflush(nullptr);
  const pid_t child = ::fork();
  if (child == 0) {
    ::close(channel[0]);
    int status = 1;
    try {
      status = work() ? 0 : 1;
    } catch (const std::exception& problem) {
      std::fprintf(stderr, "child: %s\n", problem.what());
      status = 2;
    }
    rusage usage{};
    ::getrusage(RUSAGE_SELF, &usage);
    const long peak_kib = usage.ru_maxrss;  // Linux: kilobytes
    if (::write(channel[1], &peak_kib, sizeof peak_kib) != sizeof peak_kib) status = 3;
    std::fflush(nullptr);
    std::_Exit(status);
  }
  ::close(channel[1]);
  if (child < 0) {
    ::close(channel[0]);
    return result;
  }
  long peak_kib = 0;
  if (::read(channel[0], &peak_kib, sizeof peak_kib) == sizeof peak_kib) {
    result.peak_mib = static_cast<double>(peak_kib) / 1024.0;
  }
  ::close(channel[0]);
  int status = 0;
  ::waitpid(child, &status, 0);
  result.exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return result;
}

}  // namespace labelgraph::testing
