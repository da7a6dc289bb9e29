// Small conversions shared by the bind_*.cpp files.
#pragma once

#include <torch/csrc/autograd/python_variable.h>
#include <torch/types.h>

#include <string>
#include <vector>

#include "breadth/error.hpp"
#include "breadth/model.hpp"
#include "module.hpp"

namespace breadth::python {

/// "float32" / "bfloat16" / "float16" or a torch.dtype.
inline torch::ScalarType dtype_of(const py::object& d) {
  if (py::isinstance<py::str>(d)) {
    return parse_dtype(d.cast<std::string>());
  }
  return d.cast<torch::ScalarType>();
}

/// "cpu", "cuda:0" or a torch.device.
inline torch::Device device_of(const py::object& d) {
  if (py::isinstance<py::str>(d)) return parse_device(d.cast<std::string>());
  return d.cast<torch::Device>();
}

/// One string or a list of strings.
inline std::vector<std::string> texts_of(const py::object& o, const char* what) {
  if (py::isinstance<py::str>(o)) return {o.cast<std::string>()};
  try {
    return o.cast<std::vector<std::string>>();
  } catch (const py::cast_error&) {
    throw breadth::InvalidArgument(std::string(what) + " must be a str or a list of str");
  }
}

/// Bytes that may end in the middle of a UTF-8 character (token texts, partial samples) as a str,
/// invalid sequences replaced by U+FFFD.
inline py::str utf8(const std::string& s) {
  PyObject* o = PyUnicode_DecodeUTF8(s.data(), static_cast<Py_ssize_t>(s.size()), "replace");
  if (!o) throw py::error_already_set();
  return py::reinterpret_steal<py::str>(o);
}

/// Python's repr of a str (quotes and escapes), shortened to `max` characters.
inline std::string short_repr(const std::string& s, size_t max = 60) {
  std::string t = s.size() > max ? s.substr(0, max) + "..." : s;
  return py::repr(utf8(t)).cast<std::string>();
}

}  // namespace breadth::python
