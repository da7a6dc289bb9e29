// Registry of binding functions: each bind_<concept>.cpp adds its classes to the module through a
// static BREADTH_PY_BIND(...) so that module.cpp never needs editing.
#pragma once

#include <torch/csrc/utils/pybind.h>

#include <functional>
#include <vector>

namespace py = pybind11;

namespace breadth::python {

using BindFn = void (*)(py::module_&);
inline std::vector<std::pair<int, BindFn>>& bind_registry() {
  static std::vector<std::pair<int, BindFn>> r;
  return r;
}
struct BindRegistrar {
  BindRegistrar(int order, BindFn f) { bind_registry().push_back({order, f}); }
};

}  // namespace breadth::python

/// `order` sorts registration (lower first) so base classes are bound before users of them.
#define BREADTH_PY_BIND(ident, order, fn) \
  static ::breadth::python::BindRegistrar breadth_py_bind_##ident{order, fn};
