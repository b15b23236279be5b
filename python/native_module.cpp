#include "python/bindings.h"

PYBIND11_MODULE(_native, m) {
  m.doc() = "Native kernels and runtime binding of larq_compute.";
  lc::python::BindCpuFeatures(m);
  lc::python::BindKernels(m);
  lc::python::BindRuntime(m);
}
