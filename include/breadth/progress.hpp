// The progress callback every long-running call takes.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

namespace breadth {

/// Called with (done, total, label) as work advances, e.g. (tokens so far, most possible, "generate");
/// returning false asks the work to stop, which it does by throwing Cancelled. Options structs hold
/// one as their `on_progress` field (the C API's `on_progress` is the same callback).
using ProgressCallback = std::function<bool(int64_t done, int64_t total, const std::string& label)>;

}  // namespace breadth
