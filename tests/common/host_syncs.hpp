// A test hook that counts the libtorch calls which make the host wait for a device (on a GPU each is
// a synchronisation): .item(), explicit moves between devices, and ops whose output size depends on
// values. It observes libtorch's dispatcher (at::RecordFunction, this thread only), so it sees every
// such call whoever makes it (breadth's code or a libtorch composite), not only those breadth routes
// through one place.
//
// On a CPU run a move to the model's own device cannot be told apart from a read to the host (both
// name the CPU), so every `.to(device)`, `.cpu()` and `.to(TensorOptions)` the caller makes counts
// (the code under test moves a tensor only when it is elsewhere): an upper bound of what the same
// path costs on a GPU. Such calls inside libtorch's own ops do not count (rms_norm's type_as moves
// nothing); value reads count wherever they happen. Op inputs are not reliably available to
// RecordFunction observers, so the name and overload are all that is read.
#pragma once

#include <ATen/record_function.h>

#include <cstring>
#include <string>

namespace breadth::test {

class HostSyncCounter {
 public:
  HostSyncCounter() {
    handle_ = at::addThreadLocalCallback(
        at::RecordFunctionCallback(&HostSyncCounter::on_start, &HostSyncCounter::on_end)
            .scopes({at::RecordScope::FUNCTION}));
    active() = this;
  }
  ~HostSyncCounter() {
    at::removeCallback(handle_);
    active() = nullptr;
  }
  HostSyncCounter(const HostSyncCounter&) = delete;
  HostSyncCounter& operator=(const HostSyncCounter&) = delete;

  /// Calls counted so far, and the names of the last few (for a failing assertion's message).
  int64_t count() const { return count_; }
  const std::string& log() const { return log_; }
  void reset() {
    count_ = 0;
    log_.clear();
  }

  /// Whether a dispatcher event is one the host waits on. `nested`: called from inside another op
  /// (libtorch's composites move nothing between devices, e.g. rms_norm's type_as, but a value
  /// read inside one, e.g. boolean indexing's nonzero, still waits).
  static bool is_sync(const char* name, const char* overload, bool nested) {
    static const char* const kValueDependent[] = {
        "aten::_local_scalar_dense",  // .item()
        "aten::is_nonzero",           // `if (tensor)`
        "aten::equal",
        "aten::nonzero",
        "aten::masked_select",
        "aten::_unique2",
        "aten::unique_dim",
        "aten::unique_consecutive",
    };
    for (const char* n : kValueDependent)
      if (std::strcmp(name, n) == 0) return true;
    // .to(device, ...), .cpu() and .to(TensorOptions): a move between devices, or a no-op on the CPU.
    return !nested && std::strcmp(name, "aten::to") == 0 &&
           (std::strcmp(overload, "device") == 0 || std::strcmp(overload, "dtype_layout") == 0);
  }

 private:
  static HostSyncCounter*& active() {
    thread_local HostSyncCounter* a = nullptr;
    return a;
  }
  static int& depth() {
    thread_local int d = 0;
    return d;
  }
  static std::unique_ptr<at::ObserverContext> on_start(const at::RecordFunction& fn) {
    const bool nested = depth()++ > 0;
    auto* self = active();
    if (self == nullptr) return nullptr;
    auto op = fn.operator_name();
    const char* overload = op ? op->overload_name.c_str() : "";
    if (is_sync(fn.name(), overload, nested)) {
      ++self->count_;
      if (self->log_.size() < 2000) self->log_ += std::string(fn.name()) + "." + overload + " ";
    }
    return nullptr;
  }
  static void on_end(const at::RecordFunction&, at::ObserverContext*) { --depth(); }

  at::CallbackHandle handle_;
  int64_t count_ = 0;
  std::string log_;
};

}  // namespace breadth::test
