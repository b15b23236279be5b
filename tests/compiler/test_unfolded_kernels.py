"""Layers too large for the stock converter's constant folding still become binary ops.

Above about 128 MiB of kernel (measured: a 4096x6144 float kernel is folded, 8192x4096 is not)
the stock converter computes the quantized kernel at run time and emits a Dense layer as
``BATCH_MATMUL``; ``constant_folding`` and ``batch_matmul`` recover the binary layer.
"""

import keras
import numpy as np
import pytest

import larq_compute as lc
from larq_compute import layers


@pytest.mark.parametrize("kernel_quantizer", [
    "ste_sign", pytest.param("magnitude_aware_sign", marks=pytest.mark.slow)])
def test_dense_with_an_unfolded_kernel_becomes_binary_and_matches_keras(kernel_quantizer):
    keras.utils.set_random_seed(0)
    inputs = keras.Input((9216,))
    outputs = layers.QuantDense(4096, input_quantizer="ste_sign", kernel_quantizer=kernel_quantizer,
                                kernel_constraint="weight_clip", use_bias=False, name="big_dense")(inputs)
    model = keras.Model(inputs, outputs)
    converted = lc.convert_keras_model(model)
    (row,) = converted.report.layers
    assert (row.layer, row.op) == ("big_dense", "LceBFullyConnected"), converted.report
    x = np.random.default_rng(0).standard_normal((2, 9216)).astype(np.float32)
    x[0, :100] = 0.0  # exact zeros quantize to +1
    np.testing.assert_allclose(lc.Interpreter(converted).predict(x), np.asarray(model(x)), atol=1e-3, rtol=1e-5)
