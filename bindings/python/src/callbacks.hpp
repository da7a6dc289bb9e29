// Calling into the C++ library without the GIL, and calling back into Python from inside it.
//
// Long calls release the GIL so that other Python threads run meanwhile. Callbacks (token
// streaming, progress, Python BACO rules, equivalences) take it back for the duration of the
// Python call. A Python exception raised inside a callback cannot cross the C++ library as itself:
// the callback stores it, aborts the C++ call with breadth::Cancelled, and `run_without_gil` raises
// the stored exception once the library has unwound.
#pragma once

#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "breadth/error.hpp"
#include "breadth/progress.hpp"
#include "module.hpp"

namespace breadth::python {

/// A Python object whose last reference may be dropped on a thread without the GIL: copies share
/// one reference (no refcount traffic while the GIL is released), and the deleter takes the GIL.
using PyRef = std::shared_ptr<py::object>;
inline PyRef hold(py::object o) {
  return PyRef(new py::object(std::move(o)), [](py::object* p) {
    py::gil_scoped_acquire gil;
    delete p;
  });
}

/// Where a callback parks the Python exception it caught, for the caller to raise afterwards.
class ErrorSlot {
 public:
  /// Runs `f` with the GIL held; a Python exception inside it is stored and turned into Cancelled.
  template <typename F>
  auto call(F&& f) -> decltype(f()) {
    py::gil_scoped_acquire gil;
    try {
      return f();
    } catch (py::error_already_set&) {
      if (!pending_) pending_ = std::current_exception();
      throw breadth::Cancelled("a Python callback raised an exception");
    } catch (const py::builtin_exception&) {
      if (!pending_) pending_ = std::current_exception();
      throw breadth::Cancelled("a Python callback raised an exception");
    }
  }
  /// Raises the stored exception, if any (call with the GIL held).
  void rethrow() {
    if (pending_) {
      auto p = pending_;
      pending_ = nullptr;
      std::rethrow_exception(p);
    }
  }

 private:
  std::exception_ptr pending_;
};

/// Runs `f` with the GIL released; a Python exception a callback stored in `slot` wins over the
/// C++ exception it caused.
template <typename F>
auto run_without_gil(const std::vector<std::shared_ptr<ErrorSlot>>& slots, F&& f) -> decltype(f()) {
  try {
    py::gil_scoped_release nogil;
    return f();
  } catch (...) {
    for (const auto& s : slots)
      if (s) s->rethrow();
    throw;
  }
}
template <typename F>
auto run_without_gil(const std::shared_ptr<ErrorSlot>& slot, F&& f) -> decltype(f()) {
  return run_without_gil(std::vector<std::shared_ptr<ErrorSlot>>{slot}, std::forward<F>(f));
}

/// A progress callable for `progress` (None/False: none; True: a tqdm bar when tqdm is installed;
/// a callable(done, total, label) -> bool|None). Returns the object to call and close (or None).
inline py::object make_progress(const py::object& progress, const std::string& label) {
  if (progress.is_none()) return py::none();
  return py::module_::import("breadth._progress").attr("make")(progress, label);
}

/// The C++ ProgressCallback calling `bar` (empty when bar is None).
inline ProgressCallback progress_fn(const py::object& bar, std::shared_ptr<ErrorSlot> slot) {
  if (bar.is_none()) return {};
  PyRef fn = hold(bar);
  return [fn, slot](int64_t done, int64_t total, const std::string& label) {
    return slot->call([&] {
      py::object r = (*fn)(done, total, label);
      return r.is_none() || r.cast<bool>();
    });
  };
}

/// The progress display of one call (make_progress), closed when the call's scope ends, whether it
/// returns or throws. Destroyed with the GIL held (after run_without_gil gave it back); an error of
/// the bar's own close() is dropped rather than replace the call's result or exception.
class ProgressBar {
 public:
  ProgressBar(const py::object& progress, const std::string& label) : bar_(make_progress(progress, label)) {}
  ~ProgressBar() {
    if (bar_.is_none()) return;
    try {
      if (py::hasattr(bar_, "close")) bar_.attr("close")();
    } catch (py::error_already_set& e) {
      e.discard_as_unraisable("closing a breadth progress bar");
    }
  }
  ProgressBar(const ProgressBar&) = delete;
  ProgressBar& operator=(const ProgressBar&) = delete;
  /// The Python object to call (None when there is no bar).
  const py::object& object() const { return bar_; }

 private:
  py::object bar_;
};

}  // namespace breadth::python
