"""Bad models and bad inputs give specific exceptions naming the op or tensor, never a crash."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from op_models import bconv2d_model, bconv2d_options, quantize_model
from support import numpy_reference as ref

from larq_compute import Interpreter
from larq_compute.interpreter import InvalidModelError, KernelError, UnsupportedOpError
from larq_compute.runtime_model_builder import ModelBuilder


def _conv(options=None, raw_options=None):
    rng = np.random.default_rng(0)
    w = ref.random_signs(rng, (4, 3, 3, 32))
    b = ModelBuilder()
    x = b.tensor([1, 5, 5, 1], np.int32, "x")
    f = b.tensor([4, 3, 3, 1], np.int32, "filter", data=ref.bitpack(w))
    m = b.tensor([4], np.float32, "m", data=np.ones(4, np.float32))
    bias = b.tensor([4], np.float32, "b", data=np.zeros(4, np.float32))
    y = b.tensor([1, 3, 3, 4], np.float32, "y")
    b.custom_op("LceBconv2d", [x, f, m, bias], [y],
                raw_options if raw_options is not None else options)
    return b.build([x], [y])


def test_truncated_and_garbage_bytes():
    model = quantize_model([1, 8])
    with pytest.raises(InvalidModelError, match="not a TFLite model"):
        Interpreter(b"")
    with pytest.raises(InvalidModelError):
        Interpreter(model[: len(model) // 2])
    with pytest.raises(InvalidModelError, match="TFL3"):
        Interpreter(b"\0" * 64)


@pytest.mark.parametrize("missing", ["channels_in", "padding", "stride_width", "pad_values"])
def test_missing_option_key_is_named(missing):
    options = bconv2d_options(32)
    del options[missing]
    with pytest.raises(InvalidModelError, match=rf"LceBconv2d \(node 0.*'{missing}'"):
        Interpreter(_conv(options))


@pytest.mark.parametrize(("key", "value"), [("padding", 2), ("stride_height", 0),
                                            ("fused_activation_function", 7), ("pad_values", -1),
                                            ("channels_in", 999)])
def test_invalid_option_value_is_named(key, value):
    options = bconv2d_options(32)
    options[key] = value
    with pytest.raises(InvalidModelError, match="LceBconv2d"):
        Interpreter(_conv(options))


def test_options_that_are_not_a_flexbuffer_map():
    with pytest.raises(InvalidModelError, match="flexbuffer"):
        Interpreter(_conv(raw_options=b"\x01\x02\x03\x04"))
    with pytest.raises(InvalidModelError, match="custom options are missing"):
        Interpreter(_conv(raw_options=b""))


def test_unknown_custom_op():
    b = ModelBuilder()
    x = b.tensor([1, 4], np.float32, "x")
    y = b.tensor([1, 4], np.float32, "y")
    b.custom_op("LceTernaryConv", [x], [y], {"a": 1})
    with pytest.raises(UnsupportedOpError, match="LceTernaryConv.*node 0"):
        Interpreter(b.build([x], [y]))


def test_wrong_tensor_type_in_model_names_the_tensor():
    b = ModelBuilder()
    x = b.tensor([1, 4], np.int32, "x_int")
    y = b.tensor([1, 1], np.int32, "y")
    b.custom_op("LceQuantize", [x], [y])
    with pytest.raises(InvalidModelError, match="LceQuantize.*input 0 \\('x_int'\\) must be float32 or int8"):
        Interpreter(b.build([x], [y]))


def test_wrong_input_shape_and_dtype_name_the_tensor():
    interpreter = Interpreter(quantize_model([2, 3, 5, 40]))
    with pytest.raises(ValueError, match="input 'x'.*shape"):
        interpreter.predict(np.zeros((2, 3, 6, 40), np.float32))
    with pytest.raises(ValueError, match="input 'x'"):
        interpreter.predict(np.zeros((3, 40), np.float32))
    int8_model = Interpreter(quantize_model([1, 8], dtype=np.int8))
    with pytest.raises(TypeError, match="input 'x' takes int8, got float32"):
        int8_model.predict(np.zeros((1, 8), np.float32))
    with pytest.raises(ValueError, match="1 input.*got 2"):
        interpreter.predict([np.zeros((2, 3, 5, 40)), np.zeros((2, 3, 5, 40))])


def test_input_too_small_for_the_filter_is_reported_by_op():
    model = bconv2d_model([1, 5, 5, 32], ref.random_signs(np.random.default_rng(0), (4, 3, 3, 32)),
                          bconv2d_options(32), "float", multiplier=np.ones(4, np.float32),
                          bias=np.zeros(4, np.float32))
    interpreter = Interpreter(model)
    with pytest.raises(ValueError, match=r"LceBconv2d \(node 0.*smaller than the 3x3"):
        interpreter.predict(np.zeros((1, 2, 2, 1), np.int32))
    # The interpreter stays usable after the error.
    assert interpreter.predict(np.zeros((1, 5, 5, 1), np.int32)).shape == (1, 3, 3, 4)


def test_num_threads_must_be_positive():
    with pytest.raises(ValueError, match="num_threads"):
        Interpreter(quantize_model([1, 8]), num_threads=0)


_SEED_MODEL = None


def _seed_model() -> bytes:
    global _SEED_MODEL
    if _SEED_MODEL is None:
        _SEED_MODEL = bconv2d_model(
            [1, 5, 5, 32], ref.random_signs(np.random.default_rng(0), (4, 3, 3, 32)),
            bconv2d_options(32), "float", multiplier=np.ones(4, np.float32),
            bias=np.zeros(4, np.float32))
    return _SEED_MODEL


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 255)), min_size=1, max_size=8),
       st.integers(0, 10**6))
def test_fuzz_mutated_model_bytes_never_crash(mutations, cut):
    """Byte flips and truncations of a valid model load and run or raise; the process survives."""
    data = bytearray(_seed_model())
    for position, value in mutations:
        data[position % len(data)] = value
    if cut % 3 == 0:
        data = data[: cut % len(data)]
    try:
        interpreter = Interpreter(bytes(data))
        details = interpreter.input_details[0]
        x = np.zeros(details["shape"], details["dtype"])
        interpreter.predict(x)
    except (ValueError, TypeError, RuntimeError):
        pass


def test_constant_shape_larger_than_its_buffer_is_refused():
    from larq_compute.runtime_prepare import read_model, write_model

    parsed = read_model(_conv(bconv2d_options(32)))
    filter_tensor = next(t for t in parsed.subgraphs[0].tensors if t.name == b"filter")
    filter_tensor.shape = [400000, 3, 3, 1]
    with pytest.raises(InvalidModelError, match=r"'filter'\) of shape \[400000, 3, 3, 1\] needs"):
        Interpreter(write_model(parsed))


def test_invoke_after_a_rejected_resize_is_refused():
    model = bconv2d_model([1, 5, 5, 32], ref.random_signs(np.random.default_rng(0), (4, 3, 3, 32)),
                          bconv2d_options(32), "float", multiplier=np.ones(4, np.float32),
                          bias=np.zeros(4, np.float32))
    interpreter = Interpreter(model)
    with pytest.raises(ValueError, match="smaller than"):
        interpreter.predict(np.zeros((1, 2, 2, 1), np.int32))
    with pytest.raises(KernelError, match="rejected.*smaller than"):
        interpreter.invoke()


def test_signature_of_a_missing_subgraph_is_refused():
    from ai_edge_litert import schema_py_generated as schema

    from larq_compute.runtime_prepare import read_model, write_model

    parsed = read_model(quantize_model([1, 8]))
    signature = schema.SignatureDefT()
    signature.signatureKey, signature.subgraphIndex = b"serving_default", 3
    signature.inputs, signature.outputs = [], []
    parsed.signatureDefs = [signature]
    with pytest.raises(InvalidModelError, match="signature 0 refers to subgraph 3 of 1"):
        Interpreter(write_model(parsed))
