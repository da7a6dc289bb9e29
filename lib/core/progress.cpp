#include "breadth/progress.hpp"

#include <unistd.h>

#include <cstdio>

namespace breadth {

TerminalProgress::TerminalProgress(std::string label, bool force)
    : label_(std::move(label)), enabled_(force || ::isatty(STDERR_FILENO)),
      start_(std::chrono::steady_clock::now()), last_() {}

TerminalProgress::~TerminalProgress() {
  if (drawn_) std::fputc('\n', stderr);
}

void TerminalProgress::update(int64_t done, int64_t total) {
  if (!enabled_) return;
  auto now = std::chrono::steady_clock::now();
  if (drawn_ && done < total && now - last_ < std::chrono::milliseconds(100)) return;
  last_ = now;
  drawn_ = true;
  const int width = 30;
  double frac = total > 0 ? static_cast<double>(done) / static_cast<double>(total) : 0.0;
  if (frac > 1) frac = 1;
  int fill = static_cast<int>(frac * width);
  double secs = std::chrono::duration<double>(now - start_).count();
  // Rate and time left from the average so far (the work items of one bar cost about the same).
  const double rate = secs > 0 ? static_cast<double>(done) / secs : 0.0;
  const double left = done > 0 && total > done ? secs * static_cast<double>(total - done) / static_cast<double>(done) : 0.0;
  std::fprintf(stderr, "\r%s [%.*s%*s] %lld/%lld %.1fs %.1f/s ETA %.0fs    ", label_.c_str(), fill,
               "##############################", width - fill, "", static_cast<long long>(done),
               static_cast<long long>(total), secs, rate, left);
  std::fflush(stderr);
}

void TerminalProgress::update(int64_t done, int64_t total, const std::string& label) {
  label_ = label;
  update(done, total);
}

ProgressCallback TerminalProgress::callback() {
  return [this](int64_t done, int64_t total, const std::string&) {
    update(done, total);
    return true;
  };
}

}  // namespace breadth
