"""Interpreter API: details, several inputs/outputs, int8 I/O, files, and the native checks."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
from op_models import quantize_model
from support import numpy_reference as ref

from larq_compute import Interpreter, _native
from larq_compute.interpreter import InvalidModelError, litert_library
from larq_compute.runtime_model_builder import ModelBuilder


def _two_in_two_out() -> bytes:
    """float x -> LceQuantize -> packed; int8 z (scale 0.5, zp 3) -> LceQuantize -> LceDequantize
    -> int8 (scale 0.25, zp -1)."""
    b = ModelBuilder()
    x = b.tensor([2, 40], np.float32, "x", shape_signature=[-1, 40])
    z = b.tensor([2, 10], np.int8, "z", quantization=(0.5, 3), shape_signature=[-1, 10])
    xq = b.tensor([2, 2], np.int32, "x_packed")
    zq = b.tensor([2, 1], np.int32, "z_packed")
    zy = b.tensor([2, 10], np.int8, "z_signs", quantization=(0.25, -1))
    b.custom_op("LceQuantize", [x], [xq])
    b.custom_op("LceQuantize", [z], [zq])
    b.custom_op("LceDequantize", [zq], [zy])
    return b.build([x, z], [xq, zy])


def test_details_of_several_inputs_and_outputs_with_int8():
    interpreter = Interpreter(_two_in_two_out())
    inputs, outputs = interpreter.input_details, interpreter.output_details
    assert [d["name"] for d in inputs] == ["x", "z"]
    assert [d["name"] for d in outputs] == ["x_packed", "z_signs"]
    assert inputs[0]["dtype"] == np.float32 and inputs[1]["dtype"] == np.int8
    assert list(inputs[0]["shape_signature"]) == [-1, 40]
    assert inputs[1]["quantization"] == (0.5, 3)
    assert outputs[1]["quantization"] == (0.25, -1)
    assert outputs[0]["dtype"] == np.int32


def test_predict_with_several_inputs_and_outputs():
    interpreter = Interpreter(_two_in_two_out(), num_threads=2)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 40)).astype(np.float32)
    z = rng.integers(-128, 128, (3, 10), dtype=np.int8)
    packed, signs = interpreter.predict([x, z])
    np.testing.assert_array_equal(packed, ref.bitpack(x))
    expected = ref.int8_output(np.where(z < 3, -1.0, 1.0), 0.25, -1)
    np.testing.assert_array_equal(signs, expected)


def test_model_path_and_float64_input(tmp_path):
    path = tmp_path / "q.tflite"
    path.write_bytes(quantize_model([1, 4, 4, 33]))
    x = np.random.default_rng(1).standard_normal((4, 4, 4, 33))
    np.testing.assert_array_equal(Interpreter(model_path=path).predict(x), ref.bitpack(x))
    with pytest.raises(ValueError, match="exactly one"):
        Interpreter()


def test_native_runner_refuses_unprepared_models():
    b = ModelBuilder()
    x = b.tensor([1, 8], np.float32, "x")
    q1, q2 = b.tensor([1, 1], np.int32, "q1"), b.tensor([1, 1], np.int32, "q2")
    y = b.tensor([1, 8], np.float32, "y")
    b.custom_op("LceQuantize", [x], [q1])
    b.custom_op("LceDequantize", [q1], [y])
    b.custom_op("LceQuantize", [y], [q2])
    with pytest.raises(_native.RuntimeFailure, match="node 0 and node 2 share the custom code 'LceQuantize'"):
        _native.ModelRunner(b.build([x], [q2]), 1, litert_library())


def test_self_check_rejects_a_library_that_is_not_litert():
    script = (
        "import numpy as np\n"
        "from larq_compute import _native\n"
        "try:\n"
        "    _native.ModelRunner(b'', 1, 'libm.so.6')\n"
        "except _native.RuntimeFailure as e:\n"
        "    print(e)\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}, timeout=60)
    assert "self-check" in result.stdout and "LiteRtCreateCompiledModel" in result.stdout
    assert "ai-edge-litert==2.3.0" in result.stdout


def test_interpreter_reports_invalid_model_from_litert():
    model = bytearray(quantize_model([1, 8]))
    with pytest.raises(InvalidModelError):
        Interpreter(bytes(model[:40]))
