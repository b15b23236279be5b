#include <pybind11/stl.h>

#include "python/bindings.h"
#include "runtime/core/cpu_features.h"

namespace py = pybind11;

namespace lc::python {

void BindCpuFeatures(py::module_& m) {
  m.def(
      "cpu_features",
      [] {
        const CpuFeatures& f = GetCpuFeatures();
        py::dict d;
        d["avx2"] = f.avx2;
        d["avx512_vpopcntdq"] = f.avx512_vpopcntdq;
        d["amx_int8"] = f.amx_int8;
        d["neon"] = f.neon;
        d["isa_variants"] = AvailableIsaVariants();
        return d;
      },
      "CPU features detected at run time and the kernel ISA variants usable on this CPU.");
}

}  // namespace lc::python
