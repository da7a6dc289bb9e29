// The `breadth._breadth` extension module: errors, version, and the bind_*.cpp functions of module.hpp.

#include "breadth/error.hpp"
#include "breadth/version.hpp"
#include "module.hpp"

namespace {

// One Python class per ErrorCode, so that Python code can tell failures apart the way C callers do
// with breadth_status. Each class carries `code`, the integer ErrorCode (equal to the C API status).
struct ErrorClass {
  breadth::ErrorCode code;
  const char* name;
  const char* doc;
};

constexpr ErrorClass kErrorClasses[] = {
    {breadth::ErrorCode::kInvalidArgument, "InvalidArgumentError",
     "A parameter is out of range, a shape is wrong or a name is unknown (also a ValueError)."},
    {breadth::ErrorCode::kIo, "IoError", "A file is missing or cannot be read."},
    {breadth::ErrorCode::kFormat, "FormatError", "A file exists but is corrupt, truncated or not what it claims to be."},
    {breadth::ErrorCode::kUnsupported, "UnsupportedError",
     "Valid input that breadth does not handle (architecture, quantization, template construct)."},
    {breadth::ErrorCode::kNumeric, "NumericError", "NaN/Inf where a probability was expected."},
    {breadth::ErrorCode::kCancelled, "CancelledError", "A callback asked to stop."},
    {breadth::ErrorCode::kInternal, "InternalError", "A bug in breadth or an unexpected failure of a dependency."},
};

PyObject* g_error_base = nullptr;
PyObject* g_error_by_code[8] = {};  // indexed by ErrorCode; kOk stays null

}  // namespace

PYBIND11_MODULE(_breadth, m) {
  m.doc() = "breadth: many different good answers from language models (C++ core)";
  m.attr("__version__") = breadth::version();

  // C++ errors become Python exceptions with the same message: breadth.Error (a RuntimeError) and
  // one subclass per ErrorCode carrying `.code`. InvalidArgumentError is also a ValueError, as
  // InvalidArgument always was, so `except ValueError` and `except RuntimeError` keep working.
  g_error_base = PyErr_NewExceptionWithDoc("breadth.Error",
                                           "Every error breadth raises; `code` is its ErrorCode, equal to "
                                           "the C API's breadth_status.",
                                           PyExc_RuntimeError, nullptr);
  py::object base = py::reinterpret_borrow<py::object>(g_error_base);
  base.attr("code") = static_cast<int>(breadth::ErrorCode::kInternal);
  m.attr("Error") = base;
  for (const auto& c : kErrorClasses) {
    py::tuple bases = c.code == breadth::ErrorCode::kInvalidArgument
                          ? py::make_tuple(base, py::reinterpret_borrow<py::object>(PyExc_ValueError))
                          : py::make_tuple(base);
    const std::string qualified = std::string("breadth.") + c.name;
    PyObject* cls = PyErr_NewExceptionWithDoc(qualified.c_str(), c.doc, bases.ptr(), nullptr);
    if (!cls) throw py::error_already_set();
    py::object o = py::reinterpret_borrow<py::object>(cls);
    o.attr("code") = static_cast<int>(c.code);
    m.attr(c.name) = o;
    g_error_by_code[static_cast<int>(c.code)] = cls;  // the module keeps it alive
  }
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const breadth::Error& e) {
      const int code = static_cast<int>(e.code());
      PyObject* cls = code > 0 && code < 8 && g_error_by_code[code] ? g_error_by_code[code] : g_error_base;
      PyErr_SetString(cls, e.what());
    }
  });

  namespace bp = breadth::python;
  for (auto bind : {bp::bind_model, bp::bind_sampler, bp::bind_baco, bp::bind_eval, bp::bind_methods, bp::bind_router,
                    bp::bind_experiment})
    bind(m);
}
