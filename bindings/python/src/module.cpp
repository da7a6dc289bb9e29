// The `breadth._breadth` extension module: errors, version, and every bind_*.cpp registered.
#include <algorithm>

#include "breadth/error.hpp"
#include "breadth/version.hpp"
#include "module.hpp"

PYBIND11_MODULE(_breadth, m) {
  m.doc() = "breadth: many different good answers from language models (C++ core)";
  m.attr("__version__") = breadth::version();

  // C++ errors become Python exceptions with the same message: InvalidArgument is a ValueError,
  // everything else a RuntimeError subclass that keeps the C++ class name.
  static py::exception<breadth::Error> error(m, "Error", PyExc_RuntimeError);
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const breadth::InvalidArgument& e) {
      PyErr_SetString(PyExc_ValueError, e.what());
    } catch (const breadth::Error& e) {
      py::set_error(error, e.what());
    }
  });

  auto& reg = breadth::python::bind_registry();
  std::stable_sort(reg.begin(), reg.end(), [](auto& a, auto& b) { return a.first < b.first; });
  for (auto& [order, fn] : reg) fn(m);
}
