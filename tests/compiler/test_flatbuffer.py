"""Import → export of stock-converted models is semantically identical (run in ai_edge_litert)."""

import keras
import numpy as np
import pytest
import tensorflow as tf
from ai_edge_litert import schema_py_generated as schema

from larq_compute.compiler import FlatbufferError, export_model, import_model

from .litert import run_litert
from .models import BINARY, batch_norm

RNG = np.random.default_rng(5)


def _float_model() -> keras.Model:
    from larq_compute import layers as lq

    x = keras.Input((8, 8, 3), name="image")
    y = lq.QuantConv2D(8, 3, padding="same", pad_values=1.0, **BINARY)(x)
    y = batch_norm()(y)
    y = keras.layers.MaxPool2D(2)(y)
    y = keras.layers.Flatten()(y)
    logits = keras.layers.Dense(4, name="logits")(y)
    return keras.Model(x, [logits, keras.layers.Softmax(name="probs")(logits)])


@pytest.fixture(scope="module")
def stock_models():
    keras.utils.set_random_seed(1)
    model = _float_model()
    float_bytes = tf.lite.TFLiteConverter.from_keras_model(model).convert()

    def representative():
        for _ in range(4):
            yield [RNG.standard_normal((1, 8, 8, 3)).astype(np.float32)]

    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = representative
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    int8_bytes = converter.convert()
    return {"float": float_bytes, "int8": int8_bytes}


@pytest.mark.parametrize("kind", ["float", "int8"])
def test_round_trip_runs_identically(stock_models, kind):
    original = stock_models[kind]
    round_tripped = export_model(import_model(original))
    x = RNG.standard_normal((2, 8, 8, 3)).astype(np.float32)
    for expected, got in zip(run_litert(original, x), run_litert(round_tripped, x)):
        np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("kind", ["float", "int8"])
def test_round_trip_keeps_signatures_metadata_and_quantization(stock_models, kind):
    before = schema.ModelT.InitFromPackedBuf(stock_models[kind], 0)
    after = schema.ModelT.InitFromPackedBuf(export_model(import_model(stock_models[kind])), 0)

    def signature(model):
        graph = model.subgraphs[0]
        return [
            (s.signatureKey, [(m.name, graph.tensors[m.tensorIndex].name) for m in s.inputs],
             [(m.name, graph.tensors[m.tensorIndex].name) for m in s.outputs])
            for s in model.signatureDefs
        ]

    assert signature(after) == signature(before)
    assert [m.name for m in after.metadata] == [m.name for m in before.metadata]
    assert [bytes(after.buffers[m.buffer].data) for m in after.metadata] == [
        bytes(before.buffers[m.buffer].data) for m in before.metadata
    ]
    quantized = 0
    for t_before, t_after in zip(before.subgraphs[0].tensors, after.subgraphs[0].tensors):
        assert t_after.name == t_before.name and t_after.type == t_before.type
        if t_before.quantization is not None and t_before.quantization.scale is not None:
            np.testing.assert_array_equal(t_after.quantization.scale, t_before.quantization.scale)
            np.testing.assert_array_equal(t_after.quantization.zeroPoint, t_before.quantization.zeroPoint)
            quantized += 1
    assert (quantized > 0) == (kind == "int8")


def test_text_dump_of_imported_model(stock_models):
    text = str(import_model(stock_models["float"]).main)
    assert text.splitlines()[0] == "graph main(%0: f32[?,8,8,3]) -> (%12, %11)"
    assert "PADV2(%3, const i32[4,2], f32(1))" in text
    assert "SOFTMAX" in text


@pytest.mark.parametrize("data, message", [
    (b"", "not a TFLite flatbuffer"),
    (b"\x00" * 16, "not a TFLite flatbuffer"),
    (b"\x10\x00\x00\x00TFL3" + b"\xff" * 8, "cannot parse"),
])
def test_bad_bytes_raise_a_clear_error(data, message):
    with pytest.raises(FlatbufferError, match=message):
        import_model(data)


def test_constants_sharing_a_buffer_keep_their_own_types():
    """The stock converter stores equal bytes once: a 1x1 one-padded conv's int32 [4, 2] zero
    paddings and its float32 [8] zero bias share a buffer."""
    from larq_compute import layers as lq

    model = keras.Sequential([keras.Input((5, 5, 8)), lq.QuantConv2D(8, 1, padding="same", pad_values=1.0, **BINARY)])
    graph = import_model(tf.lite.TFLiteConverter.from_keras_model(model).convert()).main
    pad, conv = (op for op in graph.ops if op.type in ("PADV2", "CONV_2D"))
    assert pad.inputs[1].data.dtype == np.int32 and pad.inputs[1].data.shape == (4, 2)
    assert conv.inputs[2].data.dtype == np.float32 and conv.inputs[2].data.shape == (8,)
    assert pad.inputs[1].extra.buffer == conv.inputs[2].extra.buffer


def test_identical_constants_share_one_buffer():
    """Equal bytes in two constants (e.g. the zero biases of several layers) are stored once."""
    from larq_compute.compiler.ir import Graph, Model

    graph = Graph()
    x = graph.tensor("x", (1, 4), schema.TensorType.FLOAT32)
    graph.inputs = [x]
    y = x
    for name, value in (("ones_a", 1), ("ones_b", 1), ("twos", 2)):
        z = graph.tensor(f"{name}_sum", (1, 4), schema.TensorType.FLOAT32)
        constant = graph.constant(np.full(4, value, np.float32), name)
        graph.create_op("ADD", [y, constant], [z], options=schema.AddOptionsT())
        y = z
    graph.outputs = [y]
    exported = export_model(Model([graph]))
    parsed = schema.ModelT.InitFromPackedBuf(exported, 0)
    buffer_of = {t.name.decode(): t.buffer for t in parsed.subgraphs[0].tensors}
    assert buffer_of["ones_a"] == buffer_of["ones_b"] != buffer_of["twos"]
    assert sum(b.data is not None and len(b.data) > 0 for b in parsed.buffers) == 2
    (got,) = run_litert(exported, np.zeros((1, 4), np.float32))
    np.testing.assert_array_equal(got, np.full((1, 4), 4, np.float32))


def test_shared_buffer_read_with_two_shapes_runs_right():
    """One buffer read as a [4, 8] and an [8, 4] weight matrix: each op sees its own shape."""
    from larq_compute import Interpreter
    from larq_compute.compiler.ir import Graph, Model
    from larq_compute.runtime_prepare import make_runtime_compatible

    graph = Graph()
    x = graph.tensor("x", (1, 8), schema.TensorType.FLOAT32)
    graph.inputs = [x]
    values = np.arange(32, dtype=np.float32) / 10
    hidden = graph.tensor("hidden", (1, 4), schema.TensorType.FLOAT32)
    y = graph.tensor("y", (1, 8), schema.TensorType.FLOAT32)
    graph.create_op("FULLY_CONNECTED", [x, graph.constant(values.reshape(4, 8), "w1"), None],
                    [hidden], options=schema.FullyConnectedOptionsT())
    graph.create_op("FULLY_CONNECTED", [hidden, graph.constant(values.reshape(8, 4), "w2"), None],
                    [y], options=schema.FullyConnectedOptionsT())
    graph.outputs = [y]
    exported = make_runtime_compatible(export_model(Model([graph])))
    parsed = schema.ModelT.InitFromPackedBuf(exported, 0)
    assert len({t.buffer for t in parsed.subgraphs[0].tensors if t.name in (b"w1", b"w2")}) == 1
    inputs = RNG.standard_normal((1, 8)).astype(np.float32)
    expected = inputs @ values.reshape(4, 8).T @ values.reshape(8, 4).T
    np.testing.assert_allclose(run_litert(exported, inputs)[0], expected, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(Interpreter(exported).predict(inputs), expected, rtol=1e-5, atol=1e-5)
