"""``runtime_prepare.write_model``: the bytes it writes hold the same model, with constants a custom
op reads at 64-byte offsets (16 for builtin-only constants), each distinct numeric vector written
once (shapes, operator inputs, custom options), and no empty quantization tables."""

from __future__ import annotations

import flatbuffers
import numpy as np
from ai_edge_litert import schema_py_generated as schema
from op_models import add_bconv2d, bconv2d_options
from support import numpy_reference as ref

from larq_compute import Interpreter
from larq_compute.runtime_model_builder import ModelBuilder
from larq_compute.runtime_prepare import read_model


def _two_convs_and_an_add() -> tuple[bytes, dict, schema.ModelT]:
    """Two LceBconv2d with equal options (different filters) on one packed input, and an ADD of a
    float constant to the first; a stock-style empty quantization table on the ADD's output."""
    rng = np.random.default_rng(0)
    b = ModelBuilder()
    options = bconv2d_options(64, padding="valid")
    x = b.tensor([1, 5, 5, 2], np.int32, "x", shape_signature=[-1, 5, 5, 2])
    weights = [ref.random_signs(rng, (8, 3, 3, 64)) for _ in range(2)]
    scales = [rng.uniform(0.5, 2, (2, 8)).astype(np.float32) for _ in range(2)]  # multiplier, bias
    y0, shape = add_bconv2d(b, x, [1, 5, 5, 2], weights[0], options, "float", *scales[0], name="c0")
    y1, _ = add_bconv2d(b, x, [1, 5, 5, 2], weights[1], options, "float", *scales[1], name="c1")
    offset = rng.standard_normal(8).astype(np.float32)
    c = b.tensor([8], np.float32, "offset", data=offset)
    z = b.tensor(shape, np.float32, "z", shape_signature=[-1, *shape[1:]])
    b.builtin_op(schema.BuiltinOperator.ADD, [y0, c], [z], schema.BuiltinOptions.AddOptions,
                 schema.AddOptionsT())
    b._subgraph.tensors[z].quantization = schema.QuantizationParametersT()
    data = b.build([x], [z, y1])
    return data, {"weights": weights, "scales": scales, "offset": offset}, b._model


def _bytes(vector) -> bytes:
    return b"" if vector is None else bytes(np.asarray(vector, np.uint8))


def _plain_bytes(model: schema.ModelT) -> bytes:
    builder = flatbuffers.Builder(1024)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


def _offset_in_file(data: bytes, model: schema.ModelT, buffer: int) -> int:
    payload = _bytes(model.buffers[buffer].data)
    assert data.count(payload) == 1
    return data.index(payload)


def test_written_model_equals_its_source():
    data, _, source = _two_convs_and_an_add()
    written = read_model(data)
    for t0, t1 in zip(source.subgraphs[0].tensors, written.subgraphs[0].tensors, strict=True):
        assert (t0.name, t0.type, list(t0.shape)) == (t1.name, t1.type, list(t1.shape))
        assert list(t0.shapeSignature if t0.shapeSignature is not None else []) == list(
            t1.shapeSignature if t1.shapeSignature is not None else [])
        assert _bytes(source.buffers[t0.buffer].data) == _bytes(written.buffers[t1.buffer].data)
    for o0, o1 in zip(source.subgraphs[0].operators, written.subgraphs[0].operators, strict=True):
        assert (list(o0.inputs), list(o0.outputs)) == (list(o1.inputs), list(o1.outputs))
        assert _bytes(o0.customOptions) == _bytes(o1.customOptions)
    assert len(data) < len(_plain_bytes(read_model(data)))


def test_alignment_by_reader_and_shared_vectors():
    data, _, _ = _two_convs_and_an_add()
    model = read_model(data)
    subgraph = model.subgraphs[0]
    by_name = {t.name.decode(): t for t in subgraph.tensors}
    for name in ["c0/filter", "c1/filter", "c0/multiplier", "c0/bias"]:
        assert _offset_in_file(data, model, by_name[name].buffer) % 64 == 0, name
    assert _offset_in_file(data, model, by_name["offset"].buffer) % 16 == 0
    convs = [op for op in subgraph.operators if op.customOptions is not None]
    options = _bytes(convs[0].customOptions)
    assert len(convs) == 2 and _bytes(convs[1].customOptions) == options
    assert data.count(options) == 1  # one vector for both nodes
    assert by_name["z"].quantization is None  # the empty table is gone


def test_shared_model_runs_like_the_reference():
    data, info, _ = _two_convs_and_an_add()
    rng = np.random.default_rng(1)
    x = ref.random_signs(rng, (3, 5, 5, 64))
    z, y1 = Interpreter(data).predict(ref.bitpack(x))
    convs = [ref.float_output(ref.conv2d_float(x, w), *s) for w, s in zip(info["weights"], info["scales"])]
    np.testing.assert_allclose(z, convs[0] + info["offset"], rtol=1e-6, atol=1e-5)
    np.testing.assert_array_equal(y1, convs[1])
