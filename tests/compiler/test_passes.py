"""Each pass on small hand-made graphs: the graph before and after as text, and numerically.

Numbers: the graph before the rewrite runs in ai_edge_litert's interpreter (builtin ops only),
the graph after it in the numpy evaluator (binary ops written from docs/op-format.md).
"""

import textwrap

import numpy as np
import pytest

from larq_compute.compiler.passes import (
    PIPELINE,
    PIPELINE_AFTER_QUANTIZATION,
    bconv2d,
    bitpacked_output,
    cleanup,
    fold_affine,
    quantizers,
    static_flatten,
)
from larq_compute.compiler.patterns import rewrite_to_fixed_point

from .builders import Builder, binary_filter
from .litert import graph_bytes, run_litert
from .numpy_eval import evaluate

RNG = np.random.default_rng(7)
SCALE = np.array([1.0, -2.0, 0.0, 0.5])  # negative (BN gamma < 0) and zero magnitudes


def check(graph, patterns, before: str, after: str, *, atol=1e-5):
    """Assert the text before/after running ``patterns`` and that outputs did not change."""
    assert str(graph) == textwrap.dedent(before).strip()
    reference_model = graph_bytes(graph)
    x = RNG.standard_normal(graph.inputs[0].shape).astype(np.float32)
    x.reshape(-1)[: x.shape[-1]] = 0.0  # exact zeros must quantize to +1
    rewrite_to_fixed_point(graph, [cleanup.remove_dead_op, *patterns])
    assert str(graph) == textwrap.dedent(after).strip()
    expected = run_litert(reference_model, x)
    got = evaluate(graph, x)
    for e, g in zip(expected, got):
        np.testing.assert_allclose(g, e, atol=atol, rtol=1e-5)


def test_sign_add_sign_becomes_quantize_dequantize():
    b = Builder(1, 4, 4, 3)
    graph = b.output(b.ste_sign(b.x))
    check(graph, [quantizers.rewrite], """
        graph main(%0: f32[1,4,4,3]) -> (%3)
          %1: f32[1,4,4,3] = SIGN(%0)
          %2: f32[1,4,4,3] = ADD(%1, f32(0.1))
          %3: f32[1,4,4,3] = SIGN(%2)
    """, """
        graph main(%0: f32[1,4,4,3]) -> (%2)
          %1: i32[1,4,4,1] = LceQuantize(%0)
          %2: f32[1,4,4,3] = LceDequantize(%1)
    """)


@pytest.mark.parametrize("offset, relu", [(1.0, 0), (0.1, 1), (-0.1, 0)])
def test_sign_add_sign_that_is_not_binary_stays(offset, relu):
    b = Builder(1, 2, 2, 3)
    graph = b.output(b.sign(b.add(b.sign(b.x), offset, activation=relu)))
    before = str(graph)
    rewrite_to_fixed_point(graph, [quantizers.rewrite])
    assert str(graph) == before


def test_where_forms_become_quantizers():
    from ai_edge_litert import schema_py_generated as schema

    b = Builder(1, 2, 2, 5)
    ge = b._op("GREATER_EQUAL", [b.x, b.const(0.0)], b.x.shape, tensor_type=schema.TensorType.BOOL)
    first = b._op("SELECT_V2", [ge, b.const(1.0), b.const(-1.0)], b.x.shape)
    lt = b._op("LESS", [b.x, b.const(0.0)], b.x.shape, tensor_type=schema.TensorType.BOOL)
    second = b._op("SELECT_V2", [lt, b.const(-1.0), b.const(1.0)], b.x.shape)
    graph = b.output(b.add(first, second))
    check(graph, [quantizers.rewrite, cleanup.rewrite], """
        graph main(%0: f32[1,2,2,5]) -> (%5)
          %1: bool[1,2,2,5] = GREATER_EQUAL(%0, f32(0))
          %2: f32[1,2,2,5] = SELECT_V2(%1, f32(1), f32(-1))
          %3: bool[1,2,2,5] = LESS(%0, f32(0))
          %4: f32[1,2,2,5] = SELECT_V2(%3, f32(-1), f32(1))
          %5: f32[1,2,2,5] = ADD(%2, %4)
    """, """
        graph main(%0: f32[1,2,2,5]) -> (%3)
          %1: i32[1,2,2,1] = LceQuantize(%0)
          %2: f32[1,2,2,5] = LceDequantize(%1)
          %3: f32[1,2,2,5] = ADD(%2, %2)
    """)


def test_one_padded_conv_with_relu():
    b = Builder(1, 5, 5, 3)
    x = b.pad(b.ste_sign(b.x), [[0, 0], [1, 1], [1, 1], [0, 0]], 1.0)
    graph = b.output(b.conv(x, binary_filter(4, 3, 3, 3, scale=SCALE), np.float32([0.5, 1, -1, 0]), activation=1))
    check(graph, [quantizers.rewrite, bconv2d.rewrite], """
        graph main(%0: f32[1,5,5,3]) -> (%5)
          %1: f32[1,5,5,3] = SIGN(%0)
          %2: f32[1,5,5,3] = ADD(%1, f32(0.1))
          %3: f32[1,5,5,3] = SIGN(%2)
          %4: f32[1,7,7,3] = PADV2(%3, const i32[4,2], f32(1))
          %5: f32[1,5,5,4] = CONV_2D(%4, const f32[4,3,3,3], f32[4](0.5,1,-1,0)) fusedActivationFunction=RELU padding=VALID strideH=1 strideW=1
    """, """
        graph main(%0: f32[1,5,5,3]) -> (%2)
          %1: i32[1,5,5,1] = LceQuantize(%0)
          %2: f32[1,5,5,4] = LceBconv2d(%1, const i32[4,3,3,1], f32[4](1,2,0,0.5), f32[4](0.5,1,-1,0)) channels_in=3 dilation_height_factor=1 dilation_width_factor=1 fused_activation_function=NONE output_activation_function=RELU pad_values=1 padding=SAME stride_height=1 stride_width=1
    """)


@pytest.mark.parametrize("stride, dilation, padding", [(2, 1, "SAME"), (1, 2, "SAME"), (2, 1, "VALID"), (1, 2, "VALID")])
def test_zero_padded_strided_dilated_conv(stride, dilation, padding):
    b = Builder(2, 7, 8, 35)
    graph = b.output(b.conv(b.ste_sign(b.x), binary_filter(6, 3, 3, 35), stride=stride, dilation=dilation, padding=padding))
    rewrite_to_fixed_point(graph, PIPELINE)
    assert [op.type for op in graph.ops] == ["LceQuantize", "LceBconv2d"]
    options = graph.ops[1].options
    assert (options["stride_height"], options["dilation_width_factor"], options["pad_values"]) == (stride, dilation, 0)


def test_asymmetric_explicit_padding_stays_float():
    b = Builder(1, 5, 5, 3)
    x = b.pad(b.ste_sign(b.x), [[0, 0], [0, 2], [1, 1], [0, 0]], 1.0)
    conv = b.conv(x, binary_filter(4, 3, 3, 3))
    graph = b.output(conv)
    rewrite_to_fixed_point(graph, PIPELINE)
    float_conv = next(op for op in graph.ops if op.type == "CONV_2D")
    assert "not SAME padding" in bconv2d.match(float_conv)


def test_real_valued_filter_stays_float_with_reason():
    b = Builder(1, 4, 4, 3)
    graph = b.output(b.conv(b.ste_sign(b.x), RNG.standard_normal((4, 3, 3, 3)).astype(np.float32)))
    rewrite_to_fixed_point(graph, PIPELINE)
    conv = next(op for op in graph.ops if op.type == "CONV_2D")
    assert bconv2d.match(conv).startswith("weights are not binary: output channel 0 has")


def test_grouped_conv_needs_multiples_of_32_channels_per_group():
    b = Builder(1, 4, 4, 64)
    q = b.ste_sign(b.x)
    wide = b.conv(q, binary_filter(8, 1, 1, 32, scale=np.ones(8)))  # 2 groups of 32: binary
    narrow = b.conv(q, binary_filter(8, 1, 1, 16, scale=np.ones(8)))  # 4 groups of 16: stays float
    graph = b.output(wide, narrow)
    check(graph, PIPELINE, str(graph), """
        graph main(%0: f32[1,4,4,64]) -> (%3, %4)
          %1: i32[1,4,4,2] = LceQuantize(%0)
          %2: f32[1,4,4,64] = LceDequantize(%1)
          %3: f32[1,4,4,8] = LceBconv2d(%1, const i32[8,1,1,1], const f32[8], const f32[8]) channels_in=64 dilation_height_factor=1 dilation_width_factor=1 fused_activation_function=NONE pad_values=0 padding=VALID stride_height=1 stride_width=1
          %4: f32[1,4,4,8] = CONV_2D(%2, const f32[8,1,1,16], const f32[8]) padding=VALID strideH=1 strideW=1
    """)
    assert bconv2d.match(graph.ops[-1]) == (
        "grouped with 16 channels per group; binary grouped convolutions need a multiple of 32"
    )


def test_mul_add_after_binary_conv_fold_into_multiplier_and_bias():
    b = Builder(1, 4, 4, 3)
    y = b.conv(b.ste_sign(b.x), binary_filter(4, 3, 3, 3, scale=np.ones(4)), np.float32([1, 2, 3, 4]))
    y = b.add(b.mul(y, [1.0, -2.0, 0.5, 0.0]), [0.5, 0.5, 0.5, 0.5], activation=3)
    graph = b.output(y)
    check(graph, [quantizers.rewrite, bconv2d.rewrite, fold_affine.rewrite], str(graph), """
        graph main(%0: f32[1,4,4,3]) -> (%2)
          %1: i32[1,4,4,1] = LceQuantize(%0)
          %2: f32[1,2,2,4] = LceBconv2d(%1, const i32[4,3,3,1], f32[4](1,-2,0.5,0), f32[4](1.5,-3.5,2,0.5)) channels_in=3 dilation_height_factor=1 dilation_width_factor=1 fused_activation_function=NONE output_activation_function=RELU6 pad_values=0 padding=VALID stride_height=1 stride_width=1
    """)


def test_non_negative_mul_after_relu_folds_into_multiplier_and_bias():
    # QuickNet's conv -> ReLU -> BatchNormalization: relu(y)·c = relu(y·c) for c >= 0.
    b = Builder(1, 4, 4, 3)
    y = b.conv(b.ste_sign(b.x), binary_filter(4, 3, 3, 3, scale=np.ones(4)), np.float32([1, -2, 3, 0]),
               activation=1)
    graph = b.output(b.mul(y, [1.0, 2.0, 0.0, 4.0]))
    check(graph, PIPELINE, str(graph), """
        graph main(%0: f32[1,4,4,3]) -> (%2)
          %1: i32[1,4,4,1] = LceQuantize(%0)
          %2: f32[1,2,2,4] = LceBconv2d(%1, const i32[4,3,3,1], f32[4](1,2,0,4), f32[4](1,-4,0,0)) channels_in=3 dilation_height_factor=1 dilation_width_factor=1 fused_activation_function=NONE output_activation_function=RELU pad_values=0 padding=VALID stride_height=1 stride_width=1
    """)


def test_batchnorm_with_negative_gamma_after_relu_folds_with_relu_on_the_accumulator():
    # A trained QuickNet: conv -> ReLU -> BatchNormalization with some gammas < 0.
    # relu(conv·m) = relu(conv)·m for m >= 0, so the ReLU moves before the multiplier.
    b = Builder(1, 4, 4, 3)
    y = b.conv(b.ste_sign(b.x), binary_filter(4, 3, 3, 3, scale=[1.0, 2.0, 0.0, 1.0]), activation=1)
    y = b.add(b.mul(y, [1.0, -2.0, 3.0, 0.0]), [0.5, -0.5, 0.0, 1.0])
    graph = b.output(y)
    check(graph, PIPELINE, str(graph), """
        graph main(%0: f32[1,4,4,3]) -> (%2)
          %1: i32[1,4,4,1] = LceQuantize(%0)
          %2: f32[1,2,2,4] = LceBconv2d(%1, const i32[4,3,3,1], f32[4](1,-4,0,0), f32[4](0.5,-0.5,0,1)) channels_in=3 dilation_height_factor=1 dilation_width_factor=1 fused_activation_function=RELU output_activation_function=NONE pad_values=0 padding=VALID stride_height=1 stride_width=1
    """)


def test_negative_mul_after_relu_with_bias_is_not_folded():
    # relu(conv·m + b)·c with c < 0 and b != 0 is neither a clamp of the accumulator nor of y·c.
    b = Builder(1, 4, 4, 3)
    y = b.conv(b.ste_sign(b.x), binary_filter(4, 3, 3, 3, scale=np.ones(4)), np.float32([0, 1, 0, 0]),
               activation=1)
    graph = b.output(b.mul(y, [1.0, -2.0, 3.0, 4.0]))
    rewrite_to_fixed_point(graph, PIPELINE)
    assert [op.type for op in graph.ops] == ["LceQuantize", "LceBconv2d", "MUL"]


def test_binary_chain_with_max_pool_and_batchnorm_is_bit_packed_throughout():
    b = Builder(1, 6, 6, 3)
    y = b.conv(b.ste_sign(b.x), binary_filter(4, 3, 3, 3, scale=SCALE), np.float32([0.5, 1, -1, 0]))
    y = b.max_pool(y)
    y = b.add(b.mul(y, [1, 2, 3, 4]), [0.1, 0.2, 0.3, 0.4])  # BN after the pool, positive scale
    y = b.conv(b.ste_sign(y), binary_filter(8, 2, 2, 4, scale=np.ones(8)))
    graph = b.output(y)
    check(graph, PIPELINE, str(graph), """
        graph main(%0: f32[1,6,6,3]) -> (%4)
          %1: i32[1,6,6,1] = LceQuantize(%0)
          %2: i32[1,4,4,1] = LceBconv2d(%1, const i32[4,3,3,1], f32[4](1,4,0,2), f32[4](0.6,2.2,-2.7,0.4), i32[4](13,13,-1,13)) channels_in=3 dilation_height_factor=1 dilation_width_factor=1 fused_activation_function=NONE pad_values=0 padding=VALID stride_height=1 stride_width=1
          %3: i32[1,2,2,1] = LceBMaxPool2d(%2) filter_height=2 filter_width=2 padding=VALID stride_height=2 stride_width=2
          %4: f32[1,1,1,8] = LceBconv2d(%3, const i32[8,2,2,1], const f32[8], const f32[8]) channels_in=4 dilation_height_factor=1 dilation_width_factor=1 fused_activation_function=NONE pad_values=0 padding=VALID stride_height=1 stride_width=1
    """)


def test_negative_scale_after_pool_keeps_the_float_pool():
    b = Builder(1, 6, 6, 3)
    y = b.max_pool(b.conv(b.ste_sign(b.x), binary_filter(4, 3, 3, 3, scale=np.ones(4))))
    y = b.conv(b.ste_sign(b.mul(y, [1, -2, 3, 4])), binary_filter(8, 2, 2, 4))
    graph = b.output(y)
    check(graph, PIPELINE, str(graph), """
        graph main(%0: f32[1,6,6,3]) -> (%6)
          %1: i32[1,6,6,1] = LceQuantize(%0)
          %2: f32[1,4,4,4] = LceBconv2d(%1, const i32[4,3,3,1], f32[4](1,1,1,1), f32[4](0,0,0,0)) channels_in=3 dilation_height_factor=1 dilation_width_factor=1 fused_activation_function=NONE pad_values=0 padding=VALID stride_height=1 stride_width=1
          %3: f32[1,2,2,4] = MAX_POOL_2D(%2) filterHeight=2 filterWidth=2 padding=VALID strideH=2 strideW=2
          %4: f32[1,2,2,4] = MUL(%3, f32[4](1,-2,3,4))
          %5: i32[1,2,2,1] = LceQuantize(%4)
          %6: f32[1,1,1,8] = LceBconv2d(%5, const i32[8,2,2,1], const f32[8], const f32[8]) channels_in=4 dilation_height_factor=1 dilation_width_factor=1 fused_activation_function=NONE pad_values=0 padding=VALID stride_height=1 stride_width=1
    """)


@pytest.mark.parametrize("size, stride, padding", [(2, 2, "VALID"), (3, 2, "SAME"), (3, 1, "VALID"), (2, 3, "SAME")])
def test_max_pool_on_binary_values(size, stride, padding):
    b = Builder(1, 7, 7, 40)
    y = b.max_pool(b.ste_sign(b.x), size, stride, padding)  # float -> packed
    y = b.max_pool(b.ste_sign(y), size, 1, "SAME")  # packed -> packed
    graph = b.output(b.ste_sign(y))
    n = -(-7 // stride) if padding == "SAME" else (7 - size) // stride + 1
    check(graph, PIPELINE, str(graph), f"""
        graph main(%0: f32[1,7,7,40]) -> (%4)
          %1: i32[1,7,7,2] = LceQuantize(%0)
          %2: i32[1,{n},{n},2] = LceBMaxPool2d(%1) filter_height={size} filter_width={size} padding={padding} stride_height={stride} stride_width={stride}
          %3: i32[1,{n},{n},2] = LceBMaxPool2d(%2) filter_height={size} filter_width={size} padding=SAME stride_height=1 stride_width=1
          %4: f32[1,{n},{n},40] = LceDequantize(%3)
    """)


def test_binary_dense_with_negative_multiplier_and_packed_output():
    b = Builder(3, 40)
    y = b.dense(b.ste_sign(b.x), binary_filter(5, 40, scale=[1, 2, 3, 4, 5]), np.float32([0, 1, 2, 3, 4]))
    y = b.ste_sign(b.mul(y, [1.0, -1.0, 1.0, -1.0, 0.0]))
    graph = b.output(b.dense(y, np.float32([[1, -1, 1, -1, 1], [-1, -1, -1, -1, 1]])))
    check(graph, PIPELINE, str(graph), """
        graph main(%0: f32[3,40]) -> (%3)
          %1: i32[3,2] = LceQuantize(%0)
          %2: i32[3,1] = LceBFullyConnected(%1, const i32[5,2], const f32[5], const f32[5], const i32[5]) channels_in=40 fused_activation_function=NONE
          %3: f32[3,2] = LceBFullyConnected(%2, i32[2,1](10,15), f32[2](1,1), f32[2](0,0)) channels_in=5 fused_activation_function=NONE
    """)
    first = graph.ops[1]
    multiplier, bias, threshold = (t.data.tolist() for t in first.inputs[2:])
    # Channels 1 and 3 (negative multipliers) are flipped: popcount p' = 40 - p.
    assert multiplier == [1, 2, 3, 4, 0] and bias == [0, -1, 2, -3, 0]
    assert threshold == [20, 19, 20, 19, 40]


def test_graph_output_keeps_its_float_values():
    b = Builder(1, 4, 4, 3)
    y = b.conv(b.ste_sign(b.x), binary_filter(4, 3, 3, 3))
    graph = b.output(y, b.ste_sign(y))  # y is read by a quantizer and is a model output
    rewrite_to_fixed_point(graph, PIPELINE)
    assert [op.type for op in graph.ops] == ["LceQuantize", "LceBconv2d", "LceQuantize", "LceDequantize"]


def test_duplicate_quantizers_merge():
    b = Builder(1, 4, 4, 3)
    graph = b.output(b.add(b.ste_sign(b.x), b.ste_sign(b.x)))
    rewrite_to_fixed_point(graph, PIPELINE)
    assert [op.type for op in graph.ops] == ["LceQuantize", "LceDequantize", "ADD"]


def test_thresholds_match_quantized_float_output_for_every_popcount():
    """Exhaustive over p for adversarial multipliers/biases: bit == (y < 0)."""
    b = Builder(1, 3, 3, 5)
    multipliers = np.float32([1.0, -1.0, 0.0, 0.0, 1e-8, -3.0, 0.25, 7.0])
    biases = np.float32([0.0, 0.0, -0.5, 0.5, 0.0, 45.0, -0.75, -315.0])
    graph = b.output(b.conv(b.ste_sign(b.x), binary_filter(8, 3, 3, 5, scale=np.ones(8)), biases))
    rewrite_to_fixed_point(graph, PIPELINE)
    op = graph.ops[1]
    op.set_input(2, graph.constant(multipliers, "m"))
    threshold, flip = bitpacked_output.thresholds(op)
    taps = 45
    p = np.arange(taps + 1)
    y = (taps - 2 * p)[None, :].astype(np.float32) * multipliers[:, None] + biases[:, None]
    expected = y < 0
    oriented_p = np.where(flip[:, None], taps - p[None, :], p[None, :])
    np.testing.assert_array_equal(oriented_p > threshold[:, None], expected)
    assert flip.tolist() == [False, True, False, False, False, True, False, False]


def test_dynamic_batch_flatten_gets_a_constant_shape():
    from ai_edge_litert import schema_py_generated as schema

    i32 = schema.TensorType.INT32
    b = Builder(2, 3, 3, 4)
    shape_options = schema.ShapeOptionsT()
    shape_options.outType = i32
    shape = b._op("SHAPE", [b.x], (4,), shape_options, tensor_type=i32)
    begin, end, strides = (b.graph.constant(np.int32([v]), "i") for v in (0, 1, 1))
    slice_options = schema.StridedSliceOptionsT()
    slice_options.shrinkAxisMask = 1
    batch = b._op("STRIDED_SLICE", [shape, begin, end, strides], (), slice_options, tensor_type=i32)
    pack_options = schema.PackOptionsT()
    pack_options.valuesCount = 2
    target = b._op("PACK", [batch, b.graph.constant(np.int32(36), "c")], (2,), pack_options, tensor_type=i32)
    graph = b.output(b._op("RESHAPE", [b.x, target], (2, 36)))
    check(graph, [static_flatten.rewrite], """
        graph main(%0: f32[2,3,3,4]) -> (%4)
          %1: i32[4] = SHAPE(%0) outType=2
          %2: i32[] = STRIDED_SLICE(%1, i32[1](0), i32[1](1), i32[1](1)) shrinkAxisMask=1
          %3: i32[2] = PACK(%2, i32(36)) valuesCount=2
          %4: f32[2,36] = RESHAPE(%0, %3)
    """, """
        graph main(%0: f32[2,3,3,4]) -> (%1)
          %1: f32[2,36] = RESHAPE(%0, i32[2](-1,36))
    """)


def _residual_block(add_order="residual_first", activation=0):
    """QuickNet's block h + bconv(quantize(h)) as the stock converter emits it."""
    b = Builder(1, 4, 4, 8)
    x = b.pad(b.ste_sign(b.x), [[0, 0], [1, 1], [1, 1], [0, 0]], 1.0)
    y = b.conv(x, binary_filter(8, 3, 3, 8), np.linspace(-1, 1, 8).astype(np.float32))
    if add_order == "residual_first":
        return b, b.add(b.x, y, activation=activation)
    return b, b.add(y, b.x, activation=activation)


@pytest.mark.parametrize("add_order, activation", [("residual_first", 0), ("conv_first", 0), ("residual_first", 1),
                                                   ("conv_first", 3)])
def test_residual_add_becomes_the_bconv_residual_input(add_order, activation):
    b, total = _residual_block(add_order, activation)
    graph = b.output(total)
    reference_model = graph_bytes(graph)
    rewrite_to_fixed_point(graph, PIPELINE)
    operands = "%0, %2" if add_order == "residual_first" else "%2, %0"
    name = {0: "NONE", 1: "RELU", 3: "RELU6"}[activation]
    add_options = f" fusedActivationFunction={name}" if activation else ""
    fused_options = f" residual_activation_function={name}" if activation else ""
    conv = ("LceBconv2d(%1, const i32[8,3,3,1], const f32[8], const f32[8]{residual}) channels_in=8 "
            "dilation_height_factor=1 dilation_width_factor=1 fused_activation_function=NONE pad_values=1 "
            "padding=SAME{fused} stride_height=1 stride_width=1")
    assert str(graph) == textwrap.dedent(f"""
        graph main(%0: f32[1,4,4,8]) -> (%3)
          %1: i32[1,4,4,1] = LceQuantize(%0)
          %2: f32[1,4,4,8] = {conv.format(residual="", fused="")}
          %3: f32[1,4,4,8] = ADD({operands}){add_options}
    """).strip()
    assert rewrite_to_fixed_point(graph, PIPELINE_AFTER_QUANTIZATION) == 1
    assert str(graph) == textwrap.dedent(f"""
        graph main(%0: f32[1,4,4,8]) -> (%2)
          %1: i32[1,4,4,1] = LceQuantize(%0)
          %2: f32[1,4,4,8] = {conv.format(residual=", _, %0", fused=fused_options)}
    """).strip()
    order = list(graph.ops)
    graph.sort_ops()  # raises on a cycle
    assert graph.ops == order
    x = RNG.standard_normal(graph.inputs[0].shape).astype(np.float32)
    np.testing.assert_allclose(evaluate(graph, x)[0], run_litert(reference_model, x)[0], atol=1e-5, rtol=1e-5)


def test_residual_add_that_cannot_fuse_stays():
    # The conv output is read elsewhere too (here: a graph output).
    b, total = _residual_block()
    graph = b.output(total, total.producer.inputs[1])
    rewrite_to_fixed_point(graph, [*PIPELINE, *PIPELINE_AFTER_QUANTIZATION])
    assert [op.type for op in graph.ops] == ["LceQuantize", "LceBconv2d", "ADD"]
    # A constant of the output's shape (a bias map, not a residual), and a broadcast residual.
    for other_shape, constant in [((1, 4, 4, 8), True), ((1, 1, 1, 8), False)]:
        b = Builder(1, 4, 4, 8)
        y = b.conv(b.pad(b.ste_sign(b.x), [[0, 0], [1, 1], [1, 1], [0, 0]], 1.0), binary_filter(8, 3, 3, 8))
        if constant:
            other = b.const(RNG.standard_normal(other_shape))
        else:
            other = b._op("MEAN", [b.x, b.graph.constant(np.int32([1, 2]), "axes")], other_shape)
        graph = b.output(b.add(y, other))
        rewrite_to_fixed_point(graph, [*PIPELINE, *PIPELINE_AFTER_QUANTIZATION])
        conv = next(op for op in graph.ops if op.type == "LceBconv2d")
        assert graph.ops[-1].type == "ADD" and len(conv.inputs) == 4
