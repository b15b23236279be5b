"""Constant folding and BATCH_MATMUL → FULLY_CONNECTED: graph text before/after, and numbers.

Every fold is checked against ai_edge_litert running the same op on the same constants.
"""

import textwrap

import numpy as np
import pytest
from ai_edge_litert import schema_py_generated as schema

from larq_compute.compiler.ir import Graph, Tensor
from larq_compute.compiler.passes import (
    PIPELINE,
    batch_matmul,
    cleanup,
    constant_folding,
    quantizers,
)
from larq_compute.compiler.patterns import rewrite_to_fixed_point

from .builders import Builder
from .litert import graph_bytes, run_litert
from .numpy_eval import evaluate

RNG = np.random.default_rng(11)
T = schema.TensorType
ACT = schema.ActivationFunctionType


def _options(cls, **fields):
    options = cls()
    for key, value in fields.items():
        setattr(options, key, value)
    return options


def _adversarial(*shape: int) -> np.ndarray:
    """Random float32 values with exact zeros, a negative zero and ties to round."""
    x = (RNG.standard_normal(shape) * 3).astype(np.float32)
    flat = x.reshape(-1)
    flat[:: max(1, flat.size // 5)] = 0.0
    if flat.size > 1:
        flat[1] = -0.0
    if flat.size > 3:
        flat[2], flat[3] = 2.5, -0.5
    return x


# (op type, input values, output shape, output type, options)
CASES = [
    ("ADD", [_adversarial(4, 1, 3), _adversarial(3)], (4, 1, 3), T.FLOAT32,
     _options(schema.AddOptionsT, fusedActivationFunction=ACT.RELU6)),
    ("ADD", [_adversarial(2, 3), _adversarial(1)], (2, 3), T.FLOAT32, schema.AddOptionsT()),
    ("SUB", [_adversarial(2, 3), _adversarial(2, 1)], (2, 3), T.FLOAT32,
     _options(schema.SubOptionsT, fusedActivationFunction=ACT.RELU)),
    ("MUL", [_adversarial(5, 3), _adversarial(1, 3)], (5, 3), T.FLOAT32,
     _options(schema.MulOptionsT, fusedActivationFunction=ACT.RELU_N1_TO_1)),
    ("DIV", [_adversarial(4, 3), _adversarial(3) + np.float32(7)], (4, 3), T.FLOAT32, schema.DivOptionsT()),
    ("ADD", [np.array([1, -7, 2**31 - 1], np.int32), np.array([5], np.int32)], (3,), T.INT32, None),
    ("SQUARED_DIFFERENCE", [_adversarial(4, 3), _adversarial(3)], (4, 3), T.FLOAT32, None),
    ("MAXIMUM", [_adversarial(4, 3), _adversarial(3)], (4, 3), T.FLOAT32, None),
    ("MINIMUM", [_adversarial(4, 3), _adversarial(1)], (4, 3), T.FLOAT32, None),
    ("NEG", [_adversarial(3, 4)], (3, 4), T.FLOAT32, None),
    ("ABS", [_adversarial(3, 4)], (3, 4), T.FLOAT32, None),
    ("SIGN", [_adversarial(3, 4)], (3, 4), T.FLOAT32, None),
    ("SQUARE", [_adversarial(3, 4)], (3, 4), T.FLOAT32, None),
    ("SQRT", [np.abs(_adversarial(3, 4))], (3, 4), T.FLOAT32, None),
    ("RSQRT", [np.abs(_adversarial(3, 4)) + np.float32(0.01)], (3, 4), T.FLOAT32, None),
    ("ROUND", [_adversarial(3, 4)], (3, 4), T.FLOAT32, None),
    ("FLOOR", [_adversarial(3, 4)], (3, 4), T.FLOAT32, None),
    ("CEIL", [_adversarial(3, 4)], (3, 4), T.FLOAT32, None),
    ("MEAN", [_adversarial(3, 3, 8, 16), np.array([0, 1, 2], np.int32)], (1, 1, 1, 16), T.FLOAT32,
     _options(schema.ReducerOptionsT, keepDims=True)),
    ("MEAN", [_adversarial(64, 24), np.array([-1], np.int32)], (64,), T.FLOAT32, schema.ReducerOptionsT()),
    ("SUM", [_adversarial(5, 7, 3), np.array([1], np.int32)], (5, 1, 3), T.FLOAT32,
     _options(schema.ReducerOptionsT, keepDims=True)),
    ("REDUCE_MAX", [_adversarial(5, 7, 3), np.array([0, 2], np.int32)], (7,), T.FLOAT32,
     schema.ReducerOptionsT()),
    ("REDUCE_MIN", [_adversarial(5, 7, 3), np.array([-1], np.int32)], (5, 7, 1), T.FLOAT32,
     _options(schema.ReducerOptionsT, keepDims=True)),
    ("SQUEEZE", [_adversarial(2, 1, 4)], (2, 4), T.FLOAT32, _options(schema.SqueezeOptionsT, squeezeDims=[1])),
    ("EXPAND_DIMS", [_adversarial(2, 4), np.array([0], np.int32)], (1, 2, 4), T.FLOAT32, None),
    ("RESHAPE", [_adversarial(2, 3, 4), np.array([6, -1], np.int32)], (6, 4), T.FLOAT32, None),
    ("TRANSPOSE", [_adversarial(2, 3, 4), np.array([2, 0, 1], np.int32)], (4, 2, 3), T.FLOAT32, None),
    ("CAST", [_adversarial(3, 4)], (3, 4), T.INT32, None),
    ("CAST", [RNG.integers(-9, 9, (3, 4)).astype(np.int32)], (3, 4), T.FLOAT32, None),
    ("GREATER", [_adversarial(3, 4), np.zeros(1, np.float32)], (3, 4), T.BOOL, None),
    ("LESS", [_adversarial(3, 4), _adversarial(4)], (3, 4), T.BOOL, None),
    ("GREATER_EQUAL", [_adversarial(3, 4), np.zeros(1, np.float32)], (3, 4), T.BOOL, None),
    ("LESS_EQUAL", [_adversarial(3, 4), np.zeros(1, np.float32)], (3, 4), T.BOOL, None),
    ("EQUAL", [_adversarial(3, 4), np.zeros(1, np.float32)], (3, 4), T.BOOL, None),
    ("NOT_EQUAL", [_adversarial(3, 4), np.zeros(1, np.float32)], (3, 4), T.BOOL, None),
    ("LOGICAL_AND", [_adversarial(3, 4) > 0, _adversarial(4) < 0], (3, 4), T.BOOL, None),
    ("LOGICAL_OR", [_adversarial(3, 4) > 0, _adversarial(4) < 0], (3, 4), T.BOOL, None),
    ("LOGICAL_NOT", [_adversarial(3, 4) > 0], (3, 4), T.BOOL, None),
    ("SELECT_V2", [_adversarial(3, 1) > 0, np.ones((1, 4), np.float32), -np.ones(1, np.float32)], (3, 4),
     T.FLOAT32, None),
    ("SELECT", [_adversarial(3, 4) >= 0, _adversarial(3, 4), _adversarial(3, 4)], (3, 4), T.FLOAT32, None),
    ("CONCATENATION", [_adversarial(2, 3), _adversarial(2, 5)], (2, 8), T.FLOAT32,
     _options(schema.ConcatenationOptionsT, axis=1)),
    ("PACK", [_adversarial(2, 3), _adversarial(2, 3)], (2, 2, 3), T.FLOAT32,
     _options(schema.PackOptionsT, axis=1, valuesCount=2)),
]


@pytest.mark.parametrize("op_type, values, shape, tensor_type, options", CASES,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_fold_matches_the_runtime(op_type, values, shape, tensor_type, options):
    graph = Graph()
    inputs = [graph.constant(v, f"c{i}") for i, v in enumerate(values)]
    output = Tensor("out", shape, tensor_type)
    op = graph.create_op(op_type, inputs, [output], options=options)
    graph.outputs = [output]
    (expected,) = run_litert(graph_bytes(graph))
    folded = constant_folding.fold(op)
    assert folded is not None and folded.dtype == expected.dtype and folded.shape == expected.shape
    if op_type in ("MEAN", "SUM"):  # accumulation order differs: within float32 rounding
        np.testing.assert_allclose(folded, expected, rtol=2e-6, atol=1e-6)
    elif op_type == "SQRT":  # the runtime's vectorised square root: within one ulp
        np.testing.assert_array_max_ulp(folded, expected, maxulp=1)
    elif op_type == "RSQRT":  # the runtime's approximate reciprocal square root
        np.testing.assert_array_max_ulp(folded, expected, maxulp=4)
    else:  # exactly (signed zeros are not tracked)
        np.testing.assert_array_equal(folded, expected)


@pytest.mark.parametrize("op_type, values, shape, options", [
    ("ADD", [np.ones(3, np.float32), np.ones(3, np.float32)], (3,),
     _options(schema.AddOptionsT, fusedActivationFunction=ACT.TANH)),  # activation not modelled
    ("RESHAPE", [np.ones(6, np.float32), np.array([4], np.int32)], (4,), None),  # shape mismatch
    ("SIN", [np.ones(3, np.float32)], (3,), None),  # kind not implemented
    ("CONCATENATION", [np.ones(1, np.float32), np.ones(2, np.float32)], (3,),
     _options(schema.ConcatenationOptionsT, fusedActivationFunction=ACT.RELU)),  # runtime ignores it
])
def test_unfoldable_ops_are_left_alone(op_type, values, shape, options):
    b = Builder(3)
    inputs = [b.graph.constant(v, "c") for v in values]
    folded = b._op(op_type, inputs, shape, options)
    graph = b.output(b.add(b.x, folded) if shape == (3,) else folded)
    before = str(graph)
    rewrite_to_fixed_point(graph, [constant_folding.rewrite])
    assert str(graph) == before


def test_graph_outputs_stay_computed():
    b = Builder(3)
    graph = b.output(b.sign(b.const(np.array([-1.0, 0.0, 2.0]))))
    before = str(graph)
    rewrite_to_fixed_point(graph, [constant_folding.rewrite])
    assert str(graph) == before


def _magnitude_aware_dense(b: Builder, latent: np.ndarray) -> Tensor:
    """A dense layer whose kernel sign(W)·mean(|W|) is computed at run time, as emitted unfolded."""
    w = b.graph.constant(latent, "latent_kernel")
    mean = b._op("MEAN", [b._op("ABS", [w], w.shape), b.graph.constant(np.array([1], np.int32), "axes")],
                 (latent.shape[0], 1), _options(schema.ReducerOptionsT, keepDims=True))
    kernel = b._op("MUL", [b._op("SIGN", [w], w.shape), mean], w.shape, schema.MulOptionsT())
    options = schema.FullyConnectedOptionsT()
    return b._op("FULLY_CONNECTED", [b.ste_sign(b.x), kernel, None], (b.x.shape[0], latent.shape[0]), options)


def test_run_time_kernel_quantizer_folds_and_the_dense_becomes_binary():
    b = Builder(2, 40)
    graph = b.output(_magnitude_aware_dense(b, RNG.standard_normal((6, 40)).astype(np.float32)))
    assert str(graph) == textwrap.dedent("""
        graph main(%0: f32[2,40]) -> (%8)
          %1: f32[6,40] = ABS(const f32[6,40])
          %2: f32[6,1] = MEAN(%1, i32[1](1)) keepDims=True
          %3: f32[6,40] = SIGN(const f32[6,40])
          %4: f32[6,40] = MUL(%3, %2)
          %5: f32[2,40] = SIGN(%0)
          %6: f32[2,40] = ADD(%5, f32(0.1))
          %7: f32[2,40] = SIGN(%6)
          %8: f32[2,6] = FULLY_CONNECTED(%7, %4, _)
    """).strip()
    reference = graph_bytes(graph)
    x = RNG.standard_normal((2, 40)).astype(np.float32)
    x[0, :5] = 0.0
    rewrite_to_fixed_point(graph, [constant_folding.rewrite])
    assert str(graph) == textwrap.dedent("""
        graph main(%0: f32[2,40]) -> (%4)
          %1: f32[2,40] = SIGN(%0)
          %2: f32[2,40] = ADD(%1, f32(0.1))
          %3: f32[2,40] = SIGN(%2)
          %4: f32[2,6] = FULLY_CONNECTED(%3, const f32[6,40], _)
    """).strip()
    np.testing.assert_allclose(run_litert(graph_bytes(graph), x)[0], run_litert(reference, x)[0],
                               rtol=1e-6, atol=1e-5)
    rewrite_to_fixed_point(graph, PIPELINE)
    assert [op.type for op in graph.ops] == ["LceQuantize", "LceBFullyConnected"]
    np.testing.assert_allclose(evaluate(graph, x)[0], run_litert(reference, x)[0], rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("adj_y, rank", [(False, 2), (True, 2), (False, 3)])
def test_batch_matmul_with_constant_rhs_becomes_fully_connected(adj_y, rank):
    batch = (2, 3) if rank == 3 else (2,)
    b = Builder(*batch, 40)
    signs = np.where(RNG.random((6, 40)) < 0.5, -1.0, 1.0).astype(np.float32)
    weights = signs * RNG.uniform(0.5, 2, (6, 1)).astype(np.float32)
    rhs = b.graph.constant(weights if adj_y else np.ascontiguousarray(weights.T), "kernel")
    options = _options(schema.BatchMatMulOptionsT, adjY=adj_y)
    graph = b.output(b._op("BATCH_MATMUL", [b.ste_sign(b.x), rhs], (*batch, 6), options))
    reference = graph_bytes(graph)
    x = RNG.standard_normal(b.x.shape).astype(np.float32)
    rewrite_to_fixed_point(graph, [cleanup.remove_dead_op, quantizers.rewrite, cleanup.rewrite, batch_matmul.rewrite])
    keep = " keepNumDims=True" if rank == 3 else ""
    shape = ",".join(map(str, batch))
    assert str(graph).splitlines()[-1] == f"  %3: f32[{shape},6] = FULLY_CONNECTED(%2, const f32[6,40], _){keep}"
    np.testing.assert_allclose(evaluate(graph, x)[0], run_litert(reference, x)[0], rtol=1e-5, atol=1e-5)
    rewrite_to_fixed_point(graph, PIPELINE)
    assert [op.type for op in graph.ops] == ["LceQuantize", "LceBFullyConnected"]
    np.testing.assert_allclose(evaluate(graph, x)[0], run_litert(reference, x)[0], rtol=1e-5, atol=1e-5)


def test_batched_or_float_input_matmul_stays():
    b = Builder(2, 40)
    rhs = b.graph.constant(np.ones((40, 6), np.float32), "kernel")
    float_input = b._op("BATCH_MATMUL", [b.x, rhs], (2, 6), schema.BatchMatMulOptionsT())
    adj_x = b._op("BATCH_MATMUL", [b.ste_sign(b._op("RESHAPE", [b.x, b.graph.constant(
        np.array([40, 2], np.int32), "shape")], (40, 2))), rhs], (2, 6),
        _options(schema.BatchMatMulOptionsT, adjX=True))
    graph = b.output(float_input, adj_x)
    rewrite_to_fixed_point(graph, [quantizers.rewrite, batch_matmul.rewrite])
    assert [op.type for op in graph.ops].count("BATCH_MATMUL") == 2
