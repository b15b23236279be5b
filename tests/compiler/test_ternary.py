"""Ternary (ste_tern) layers: no op of the op set reads ternary weights or input, so they stay
float CONV_2D / FULLY_CONNECTED; the report and the warning say exactly that, outputs equal Keras."""

from __future__ import annotations

import warnings

import keras
import numpy as np
from ai_edge_litert import schema_py_generated as schema

import larq_compute as lc
from larq_compute.compiler.weights import split_binary_weights

RNG = np.random.default_rng(9)


def test_ternary_filters_are_named_as_such():
    scale = RNG.uniform(0.5, 2, (4, 1)).astype(np.float32)  # a folded BN per output channel
    ternary = (RNG.integers(-1, 2, (4, 18)) * scale).astype(np.float32)
    ternary[0, 0] = 0.0
    assert split_binary_weights(ternary).startswith("weights are ternary (−s, 0, +s per output")
    sparse_real = RNG.standard_normal((4, 18)).astype(np.float32)
    sparse_real[:, ::3] = 0.0
    assert split_binary_weights(sparse_real).startswith("weights are not binary: output channel")


def test_ternary_layers_stay_float_with_the_reason_and_match_keras():
    keras.utils.set_random_seed(2)
    tern = dict(kernel_quantizer="ste_tern", kernel_constraint="weight_clip")
    x = keras.Input((6, 6, 32))
    y = lc.layers.QuantConv2D(32, 3, padding="same", input_quantizer="ste_sign", name="tern_weights",
                              **tern)(x)
    y = keras.layers.BatchNormalization()(y)
    y = lc.layers.QuantConv2D(32, 3, padding="same", input_quantizer="ste_tern",
                              kernel_quantizer="ste_sign", kernel_constraint="weight_clip",
                              name="tern_input")(y)
    y = keras.layers.Flatten()(y)
    y = lc.layers.QuantDense(5, input_quantizer="ste_sign", name="tern_dense", **tern)(y)
    model = keras.Model(x, y)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        converted = lc.convert_keras_model(model)
    rows = {row.layer: row for row in converted.report.layers}
    for name, op in (("tern_weights", "CONV_2D"), ("tern_dense", "FULLY_CONNECTED")):
        assert (rows[name].op, rows[name].binary) == (op, False)
        assert rows[name].detail.startswith("weights are ternary (−s, 0, +s per output channel")
        assert "no op of the op set reads ternary weights" in rows[name].detail
    assert rows["tern_input"].detail.startswith("input is ternary (sign(sign(x + t) + sign(x − t))")
    warned = " ".join(str(w.message) for w in caught)
    assert all(f"'{name}'" in warned for name in rows)

    parsed = schema.ModelT.InitFromPackedBuf(bytes(converted), 0)
    subgraph = parsed.subgraphs[0]
    codes = parsed.operatorCodes
    conv = next(op for op in subgraph.operators
                if codes[op.opcodeIndex].builtinCode == schema.BuiltinOperator.CONV_2D)
    kernel = subgraph.tensors[conv.inputs[1]]
    assert kernel.type == schema.TensorType.FLOAT32  # stored float: the documented fallback
    values = np.frombuffer(bytes(parsed.buffers[kernel.buffer].data), np.float32)
    assert values.size == 32 * 3 * 3 * 32 and len(np.unique(np.abs(values))) <= 33

    inputs = RNG.standard_normal((3, 6, 6, 32)).astype(np.float32)
    np.testing.assert_allclose(lc.Interpreter(bytes(converted)).predict(inputs),
                               np.asarray(model(inputs)), atol=1e-3, rtol=1e-4)
    keras.backend.clear_session()
