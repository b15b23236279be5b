// larq_compute._native.ModelRunner: the C++ model runner (runtime/ops/model_runner.h) for Python.
#include <pybind11/numpy.h>
#include <pybind11/stl.h>

#include <cstring>

#include "python/bindings.h"
#include "runtime/ops/model_runner.h"
#include "runtime/ops/op_kernel.h"

namespace py = pybind11;

namespace lc::python {
namespace {

using runtime::ModelRunner;
using runtime::TensorDetails;

// Raised for every runtime failure; larq_compute.interpreter turns it into specific exceptions.
PyObject* g_runtime_error = nullptr;

[[noreturn]] void Fail(const std::string& message) {
  PyErr_SetString(g_runtime_error, message.c_str());
  throw py::error_already_set();
}

py::dict DetailsToDict(const TensorDetails& d, int index) {
  py::dict result;
  result["name"] = d.name;
  result["index"] = index;
  result["element_type"] = d.element_type;
  result["shape"] = d.shape;
  result["shape_signature"] = d.shape_signature;
  result["quantized"] = d.quantized;
  result["scale"] = d.scale;
  result["zero_point"] = d.zero_point;
  result["bytes"] = d.bytes;
  return result;
}

std::unique_ptr<ModelRunner> MakeRunner(py::bytes model, int num_threads,
                                        const std::string& litert_library) {
  std::string_view bytes = model;
  runtime::RunnerOptions options;
  options.num_threads = num_threads;
  options.litert_library = litert_library;
  std::string error;
  std::unique_ptr<ModelRunner> runner;
  {
    py::gil_scoped_release release;
    runner = ModelRunner::Create(bytes.data(), bytes.size(), options, &error);
  }
  if (!runner) Fail(error);
  return runner;
}

}  // namespace

void BindRuntime(py::module_& m) {
  g_runtime_error =
      PyErr_NewException("larq_compute._native.RuntimeFailure", PyExc_RuntimeError, nullptr);
  m.attr("RuntimeFailure") = py::handle(g_runtime_error);
  m.def("supported_custom_ops", [] { return ops::SupportedOps(); },
        "Names of the custom ops the runtime implements.");

  py::class_<ModelRunner>(m, "ModelRunner",
                          "A runtime-ready .tflite model compiled by LiteRT with our custom ops.")
      .def(py::init(&MakeRunner), py::arg("model"), py::arg("num_threads") = 1,
           py::arg("litert_library") = "")
      .def_property_readonly("num_threads", &ModelRunner::NumThreads)
      .def_property_readonly("litert_library", &ModelRunner::LiteRtLibrary)
      .def("input_details",
           [](const ModelRunner& r) {
             py::list result;
             for (int i = 0; i < r.NumInputs(); ++i) result.append(DetailsToDict(r.Input(i), i));
             return result;
           })
      .def("output_details",
           [](const ModelRunner& r) {
             py::list result;
             for (int i = 0; i < r.NumOutputs(); ++i) result.append(DetailsToDict(r.Output(i), i));
             return result;
           })
      .def_property_readonly("value_dependent_outputs", &ModelRunner::ValueDependentOutputs,
                             "Outputs whose shapes exist only while running; non-empty: the "
                             "model runs only at its load input shapes.")
      .def("load_input_shape",
           [](const ModelRunner& r, int index) {
             if (index < 0 || index >= r.NumInputs()) Fail("no input " + std::to_string(index));
             return r.LoadInputShape(index);
           })
      .def("resize_input",
           [](ModelRunner& r, int index, const std::vector<int>& shape) {
             std::string error;
             if (!r.ResizeInput(index, shape, &error)) Fail(error);
           })
      .def("set_input",
           [](ModelRunner& r, int index, py::buffer data) {
             if (index < 0 || index >= r.NumInputs()) Fail("no input " + std::to_string(index));
             py::buffer_info info = data.request();
             const std::size_t bytes = static_cast<std::size_t>(info.size) * info.itemsize;
             if (bytes != r.Input(index).bytes) {
               Fail("input '" + r.Input(index).name + "' takes " +
                    std::to_string(r.Input(index).bytes) + " bytes, got " + std::to_string(bytes));
             }
             std::memcpy(r.InputData(index), info.ptr, bytes);
           })
      .def("get_output",
           [](const ModelRunner& r, int index) {
             if (index < 0 || index >= r.NumOutputs()) Fail("no output " + std::to_string(index));
             const TensorDetails& d = r.Output(index);
             return py::bytes(static_cast<const char*>(r.OutputData(index)), d.bytes);
           })
      .def("invoke",
           [](ModelRunner& r) {
             std::string error;
             bool ok;
             {
               py::gil_scoped_release release;
               ok = r.Invoke(&error);
             }
             if (!ok) Fail(error);
           })
      .def("op_timings",
           [](const ModelRunner& r) {
             py::list result;
             for (const auto& t : r.OpTimings()) {
               py::dict d;
               d["name"] = t.name;
               d["first_node"] = t.first_node;
               d["last_node"] = t.last_node;
               d["total_us"] = t.total_us;
               d["count"] = t.count;
               result.append(d);
             }
             return result;
           })
      .def("reset_op_timings", &ModelRunner::ResetOpTimings);
}

}  // namespace lc::python
