// Each binding file adds its part of the larq_compute._native module.
#pragma once

#include <pybind11/pybind11.h>

namespace lc::python {

void BindCpuFeatures(pybind11::module_& m);
void BindKernels(pybind11::module_& m);
void BindRuntime(pybind11::module_& m);

}  // namespace lc::python
