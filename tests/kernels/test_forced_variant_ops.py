"""The ops choose their kernels once, at model load: a forced LARQ_COMPUTE_KERNEL variant that the
build or CPU lacks fails there with a message naming the op and the variant (never a silent
fallback), and a usable one stays in force for the model's lifetime."""

from __future__ import annotations

import numpy as np
import pytest
from larq_compute._native import kernels
from support import numpy_reference as ref

from larq_compute import Interpreter
from larq_compute.interpreter import InvalidModelError
from larq_compute.runtime_model_builder import ModelBuilder

CHANNELS_IN, CHANNELS_OUT = 40, 5
UNUSABLE = [v for v in ["portable", "avx2", "avx512", "neon"] if v not in kernels.available_variants()]


def quantize_model() -> bytes:
    b = ModelBuilder()
    x = b.tensor([1, 3, CHANNELS_IN], np.float32, "x")
    y = b.tensor([1, 3, ref.packed_size(CHANNELS_IN)], np.int32, "packed")
    b.custom_op("LceQuantize", [x], [y])
    return b.build([x], [y])


def add_bconv2d(b: ModelBuilder, x: int, filter_data: np.ndarray, out_size: int, same: bool) -> int:
    """A 3x3 LceBconv2d (one-padded SAME or VALID) with float output on packed input x."""
    f = b.tensor(list(filter_data.shape), filter_data.dtype.type, "filter", data=filter_data)
    m = b.tensor([CHANNELS_OUT], np.float32, "m", data=np.ones(CHANNELS_OUT, np.float32))
    bias = b.tensor([CHANNELS_OUT], np.float32, "b", data=np.zeros(CHANNELS_OUT, np.float32))
    y = b.tensor([1, out_size, out_size, CHANNELS_OUT], np.float32, "y")
    b.custom_op("LceBconv2d", [x, f, m, bias], [y], {
        "channels_in": CHANNELS_IN, "dilation_height_factor": 1, "dilation_width_factor": 1,
        "fused_activation_function": 0, "pad_values": int(same), "padding": 0 if same else 1,
        "stride_height": 1, "stride_width": 1})
    return y


def bconv2d_model(weights: np.ndarray, float_filter: bool) -> bytes:
    """float input -> LceQuantize -> LceBconv2d (3x3, one-padded SAME) -> float output."""
    b = ModelBuilder()
    x = b.tensor([1, 4, 4, CHANNELS_IN], np.float32, "x")
    q = b.tensor([1, 4, 4, ref.packed_size(CHANNELS_IN)], np.int32, "q")
    b.custom_op("LceQuantize", [x], [q])
    data = weights.astype(np.float32) if float_filter else ref.bitpack(weights)
    return b.build([x], [add_bconv2d(b, q, data, 4, same=True)])


def weights() -> np.ndarray:
    return ref.random_signs(np.random.default_rng(5), (CHANNELS_OUT, 3, 3, CHANNELS_IN))


MODELS = {
    "quantize": lambda: (quantize_model(), "LceQuantize"),
    "bconv2d_packed_filter": lambda: (bconv2d_model(weights(), float_filter=False), "LceQuantize"),
    "bconv2d_float_filter": lambda: (bconv2d_model(weights(), float_filter=True), "LceQuantize"),
}


@pytest.mark.skipif(not UNUSABLE, reason="every variant runs on this machine")
@pytest.mark.parametrize("model", MODELS)
def test_unusable_forced_variant_fails_at_load(monkeypatch, model):
    content, first_op = MODELS[model]()
    monkeypatch.setenv("LARQ_COMPUTE_KERNEL", UNUSABLE[0])
    with pytest.raises(InvalidModelError, match=rf"{first_op}.*'{UNUSABLE[0]}'.*LARQ_COMPUTE_KERNEL"):
        Interpreter(model_content=content)


def test_unusable_forced_variant_names_the_conv(monkeypatch):
    # Without a LceQuantize in front, the conv itself reports the variant at load.
    b = ModelBuilder()
    x = b.tensor([1, 4, 4, ref.packed_size(CHANNELS_IN)], np.int32, "x")
    content = b.build([x], [add_bconv2d(b, x, ref.bitpack(weights()), 2, same=False)])
    monkeypatch.setenv("LARQ_COMPUTE_KERNEL", "sse9")
    with pytest.raises(InvalidModelError, match=r"LceBconv2d.*LARQ_COMPUTE_KERNEL='sse9'"):
        Interpreter(model_content=content)


@pytest.mark.parametrize("model", ["bconv2d_packed_filter", "bconv2d_float_filter"])
def test_variant_chosen_at_load_stays_in_force(monkeypatch, model):
    content, _ = MODELS[model]()
    monkeypatch.setenv("LARQ_COMPUTE_KERNEL", "portable")
    interpreter = Interpreter(model_content=content)
    # Changing the variable after load changes nothing: the first invoke (which lays out the
    # filters) and later ones use the kernels chosen at load.
    monkeypatch.setenv("LARQ_COMPUTE_KERNEL", "sse9")
    x = np.random.default_rng(6).standard_normal((1, 4, 4, CHANNELS_IN)).astype(np.float32)
    signs = np.where(x < 0, -1.0, 1.0).astype(np.float32)
    expected = ref.conv2d_float(signs, weights(), padding="same", pad_value=1.0).astype(np.float32)
    for _ in range(2):
        np.testing.assert_array_equal(interpreter.predict(x), expected)
