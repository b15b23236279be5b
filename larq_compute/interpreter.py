"""Run .tflite models with larq-compute's binary ops inside LiteRT.

``Interpreter`` loads a model, prepares it for LiteRT's C API custom-op kernels
(:mod:`larq_compute.runtime_prepare`) and runs it with the native model runner
(``runtime/ops/model_runner.h``): builtin ops on LiteRT's kernels (XNNPACK), ``Lce*`` ops on ours.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import importlib.util
import os
import sys
import tempfile
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from larq_compute.runtime_prepare import ModelFormatError, prepare_model, read_model

LITERT_VERSION = "2.3.0"  # the C ABI declared in runtime/ops/litert_c_api.h

_DTYPES = {1: np.float32, 2: np.int32, 3: np.uint8, 4: np.int64, 6: np.bool_, 7: np.int16,
           9: np.int8, 10: np.float16}


class InvalidModelError(ValueError):
    """The model cannot be loaded: malformed bytes, bad op options, wrong tensor types, ..."""


class UnsupportedOpError(InvalidModelError):
    """The model uses a custom op this runtime does not implement."""


class _ResizeError(ValueError):
    """The runner cannot take an input shape (``predict`` then runs the batch in pieces)."""


class KernelError(RuntimeError):
    """An op failed while the model ran; the message names the op and node."""


def litert_library() -> str:
    """Path of the pinned ai-edge-litert wheel's libLiteRt.so (checked, not imported)."""
    try:
        version = importlib.metadata.version("ai-edge-litert")
    except importlib.metadata.PackageNotFoundError as error:
        raise RuntimeError(f"larq_compute's runtime needs ai-edge-litert=={LITERT_VERSION}") from error
    if version != LITERT_VERSION:
        raise RuntimeError(
            f"larq_compute's runtime is built for ai-edge-litert=={LITERT_VERSION}, found {version}"
        )
    spec = importlib.util.find_spec("ai_edge_litert")
    assert spec is not None and spec.submodule_search_locations
    return os.path.join(list(spec.submodule_search_locations)[0], "libLiteRt.so")


@contextlib.contextmanager
def _captured_native_stderr(lines: list[str]) -> Iterator[None]:
    """Collects what LiteRT logs to file descriptor 2 (it logs INFO lines on every load and has no
    exported switch for it). Set LARQ_COMPUTE_LITERT_LOGS=1 to let them through."""
    if os.environ.get("LARQ_COMPUTE_LITERT_LOGS") == "1":
        yield
        return
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile(mode="w+b") as capture:
        os.dup2(capture.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            capture.seek(0)
            lines.extend(capture.read().decode(errors="replace").splitlines())


def _native_runner(model: bytes, num_threads: int) -> Any:
    from larq_compute import _native

    log: list[str] = []
    try:
        with _captured_native_stderr(log):
            return _native.ModelRunner(model, num_threads, litert_library())
    except _native.RuntimeFailure as error:
        message = str(error)
        litert_errors = [line for line in log if line.startswith("ERROR")]
        if litert_errors:
            message += "\nLiteRT reported:\n  " + "\n  ".join(litert_errors)
        if "does not implement" in message:
            raise UnsupportedOpError(message) from None
        raise InvalidModelError(message) from None


class Interpreter:
    """A BNN ``.tflite`` model ready to run.

    Args:
      model_content: the model's bytes, or
      model_path: a path to a ``.tflite`` file.
      num_threads: threads for XNNPACK (builtin ops) and for the binary kernels.
    """

    def __init__(
        self,
        model_content: bytes | None = None,
        model_path: str | os.PathLike | None = None,
        num_threads: int = 1,
    ) -> None:
        if (model_content is None) == (model_path is None):
            raise ValueError("pass exactly one of model_content and model_path")
        if not isinstance(num_threads, int) or num_threads < 1:
            raise ValueError(f"num_threads must be a positive integer, got {num_threads!r}")
        if model_path is not None:
            with open(model_path, "rb") as f:
                model_content = f.read()
        try:
            prepared = prepare_model(bytes(model_content))
        except ModelFormatError as error:
            raise InvalidModelError(str(error)) from None
        self._runner = _native_runner(prepared, num_threads)
        self.num_threads = num_threads
        # LiteRT reports shapes only; dynamic (-1) dimensions come from the model's signatures.
        subgraph = read_model(prepared).subgraphs[0]
        self._shape_signatures = {}
        for index in list(subgraph.inputs) + list(subgraph.outputs):
            tensor = subgraph.tensors[index]
            signature = tensor.shapeSignature if tensor.shapeSignature is not None else tensor.shape
            self._shape_signatures[tensor.name.decode()] = [int(d) for d in signature]

    def _details(self, raw: list[dict]) -> list[dict[str, Any]]:
        details = []
        for d in self._with_signatures(raw):
            scale, zero_point = (d["scale"], d["zero_point"]) if d["quantized"] else (0.0, 0)
            details.append({
                "name": d["name"],
                "index": d["index"],
                "shape": np.array(d["shape"], dtype=np.int32),
                "shape_signature": np.array(d["shape_signature"], dtype=np.int32),
                "dtype": _DTYPES.get(d["element_type"], np.uint8),
                "quantization": (scale, zero_point),
            })
        return details

    @property
    def input_details(self) -> list[dict[str, Any]]:
        """Per input: name, index, shape, shape_signature, dtype, quantization (scale, zero point)."""
        return self._details(self._runner.input_details())

    @property
    def output_details(self) -> list[dict[str, Any]]:
        """Per output, as ``input_details``."""
        return self._details(self._runner.output_details())

    def _with_signatures(self, raw: list[dict]) -> list[dict]:
        for d in raw:
            d["shape_signature"] = self._shape_signatures.get(d["name"], d["shape_signature"])
        return raw

    def _checked_inputs(self, inputs: Sequence[np.ndarray]) -> list[np.ndarray]:
        """The inputs as contiguous arrays of the model's dtypes; raises on a wrong count, dtype or
        non-batch dimension."""
        details = self._with_signatures(self._runner.input_details())
        if len(inputs) != len(details):
            raise ValueError(f"the model has {len(details)} input(s), got {len(inputs)}")
        arrays = []
        for x, d in zip(inputs, details):
            dtype = _DTYPES.get(d["element_type"], np.uint8)
            x = np.asarray(x)
            if np.dtype(dtype) == np.float32 and x.dtype.kind in "fiub":
                x = x.astype(np.float32, copy=False)
            elif x.dtype != dtype:
                # Integer inputs are not quantized implicitly: the caller owns the scale.
                hint = (
                    f"; quantize it as round(x / scale) + zero_point with scale {d['scale']:.6g}, "
                    f"zero point {d['zero_point']} (input_details[...]['quantization'])"
                    if d["quantized"] else ""
                )
                raise TypeError(
                    f"input '{d['name']}' takes {np.dtype(dtype).name}, got {x.dtype.name}{hint}"
                )
            signature = d["shape_signature"]
            if x.ndim != len(signature) or any(
                want not in (-1, got) for want, got in zip(signature[1:], x.shape[1:])
            ):
                raise ValueError(
                    f"input '{d['name']}' takes shape {tuple(signature)} (batch dimension free), "
                    f"got {x.shape}"
                )
            arrays.append(x if x.flags.c_contiguous else x.copy(order="C"))  # keeps 0-d inputs 0-d
        return arrays

    def _set_inputs(self, arrays: Sequence[np.ndarray]) -> None:
        details = self._runner.input_details()
        for index, (x, d) in enumerate(zip(arrays, details)):
            if list(x.shape) != list(d["shape"]):
                self._resize(index, list(x.shape))
        for index, x in enumerate(arrays):
            self._runner.set_input(index, x)

    def _resize(self, index: int, shape: list[int]) -> None:
        from larq_compute import _native

        try:
            self._runner.resize_input(index, shape)
        except _native.RuntimeFailure as error:
            raise _ResizeError(str(error)) from None

    def invoke(self) -> None:
        """Runs the model on the inputs set last; raises KernelError naming a failing op."""
        from larq_compute import _native

        try:
            self._runner.invoke()
        except _native.RuntimeFailure as error:
            raise KernelError(str(error)) from None

    def _outputs(self) -> list[np.ndarray]:
        outputs = []
        for d in self._runner.output_details():
            dtype = _DTYPES.get(d["element_type"], np.uint8)
            data = np.frombuffer(self._runner.get_output(d["index"]), dtype=dtype)
            outputs.append(data.reshape(d["shape"]).copy())
        return outputs

    def predict(self, x: np.ndarray | Sequence[np.ndarray]) -> np.ndarray | list[np.ndarray]:
        """Runs a batch: ``x`` is one array (one input) or a list (several inputs), each with a
        leading batch dimension of any size. Returns one array, or a list for several outputs.

        A model that cannot be resized to the batch (a fixed batch LiteRT cannot change, or an
        output shape computed from tensor values while running) runs in pieces of its load batch.
        """
        inputs = self._checked_inputs(list(x) if isinstance(x, list | tuple) else [x])
        try:
            self._set_inputs(inputs)
        except _ResizeError as error:
            outputs = self._predict_in_pieces(inputs, str(error))
        else:
            self.invoke()
            outputs = self._outputs()
        return outputs[0] if len(outputs) == 1 else outputs

    def _predict_in_pieces(self, inputs: list[np.ndarray], why: str) -> list[np.ndarray]:
        """Runs ``inputs`` at the load input shapes: the batch is cut into pieces of the load
        batch, the last one padded by repeating its last item, and the outputs are concatenated
        without the padding. ``why`` says why the model could not be resized."""
        load_shapes = [list(self._runner.load_input_shape(i)) for i in range(len(inputs))]
        piece = load_shapes[0][0] if load_shapes[0] else 0
        batches = {x.shape[0] if x.ndim else 0 for x in inputs}
        if (len(batches) != 1 or any(list(x.shape[1:]) != s[1:] for x, s in zip(inputs, load_shapes))
                or any(not s or s[0] != piece for s in load_shapes)):
            raise ValueError(f"cannot run inputs of shapes {[x.shape for x in inputs]} in pieces of "
                             f"the load shapes {[tuple(s) for s in load_shapes]}: {why}")
        (batch,) = batches
        if batch == 0:
            raise ValueError(f"the batch is empty (batch dimension 0): {why}")
        pieces: list[list[np.ndarray]] = []
        for start in range(0, batch, piece):
            chunk = [x[start : start + piece] for x in inputs]
            padding = piece - chunk[0].shape[0]
            if padding:
                chunk = [np.concatenate([c, np.repeat(c[-1:], padding, axis=0)]) for c in chunk]
            self._set_inputs(chunk)
            self.invoke()
            outputs = self._outputs()
            for output, d in zip(outputs, self._runner.output_details()):
                if output.ndim == 0 or output.shape[0] != piece:
                    raise ValueError(
                        f"cannot run a batch of {batch} in pieces of {piece}: output "
                        f"'{d['name']}' of shape {output.shape} has no batch dimension ({why})")
            pieces.append(outputs)
        return [np.concatenate(parts)[:batch] for parts in zip(*pieces)]

    def op_timings(self) -> list[dict[str, Any]]:
        """Time since the last reset in each custom node, and in each run of builtin nodes between
        two custom nodes (name empty): name, first_node, last_node, total_us, count."""
        return self._runner.op_timings()

    def reset_op_timings(self) -> None:
        self._runner.reset_op_timings()
