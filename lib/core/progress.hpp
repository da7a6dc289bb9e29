// Progress reporting for long work: a callback in the API, a bar on a terminal.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "breadth/progress.hpp"

namespace breadth {

/// A one-line bar on stderr, redrawn at most 10 times a second; silent when stderr is not a terminal.
class TerminalProgress {
 public:
  explicit TerminalProgress(std::string label, bool force = false);
  ~TerminalProgress();
  void update(int64_t done, int64_t total);
  /// A ProgressCallback that draws this bar.
  ProgressCallback callback();

 private:
  std::string label_;
  bool enabled_;
  bool drawn_ = false;
  std::chrono::steady_clock::time_point start_, last_;
};

}  // namespace breadth
