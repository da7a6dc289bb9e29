// The progress callback every long-running call takes, and a terminal bar that draws one.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

namespace breadth {

/// Called with (done, total, label) as work advances, e.g. (tokens so far, most possible, "generate");
/// returning false asks the work to stop, which it does by throwing Cancelled. Options structs hold
/// one as their `on_progress` field (the C API's `on_progress` is the same callback).
using ProgressCallback = std::function<bool(int64_t done, int64_t total, const std::string& label)>;

/// A one-line bar on stderr (label, done/total, rate, ETA), redrawn at most 10 times a second; silent
/// when stderr is not a terminal unless `force`. The line is finished when the bar is destroyed.
class TerminalProgress {
 public:
  explicit TerminalProgress(std::string label, bool force = false);
  ~TerminalProgress();
  TerminalProgress(const TerminalProgress&) = delete;
  TerminalProgress& operator=(const TerminalProgress&) = delete;
  void update(int64_t done, int64_t total);
  /// Same, showing `label` from now on (e.g. the experiment's current point and its speed).
  void update(int64_t done, int64_t total, const std::string& label);
  /// A ProgressCallback that draws this bar (it must not outlive the bar); always continues.
  ProgressCallback callback();

 private:
  std::string label_;
  bool enabled_;
  bool drawn_ = false;
  std::chrono::steady_clock::time_point start_, last_;
};

}  // namespace breadth
