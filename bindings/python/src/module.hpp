// The binding functions of the `breadth._breadth` module, one per bind_<concept>.cpp. module.cpp
// calls them explicitly, in the order below (classes before the functions that take them), so that
// the list here is the whole module.
#pragma once

#include <torch/csrc/utils/pybind.h>

namespace py = pybind11;

namespace breadth::python {

void bind_model(py::module_& m);       ///< Model, Tokenizer, ChatTemplate
void bind_sampler(py::module_& m);     ///< sampling and answer sets
void bind_baco(py::module_& m);        ///< BacoDecoder and rules
void bind_eval(py::module_& m);        ///< DivCov, metrics, Coverage/Dominance
void bind_methods(py::module_& m);     ///< BACO's comparison methods
void bind_router(py::module_& m);      ///< the router
void bind_experiment(py::module_& m);  ///< Experiment

}  // namespace breadth::python
