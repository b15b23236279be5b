"""int8: fake-quant ranges, int8 I/O, int8 binary ops, experimental_default_int8_range.

Reference: the Keras model. Fake-quant models are compared step for step: every tensor with a
fake-quant op in Keras is an int8 tensor on the same grid in the converted model, so the outputs
agree up to the rounding of the int8 builtin ops' fixed-point rescaling.
"""

import re
import textwrap

import keras
import numpy as np
import pytest
import tensorflow as tf
from ai_edge_litert import schema_py_generated as schema
from sklearn.datasets import load_digits
from support import numpy_reference as ref

import larq_compute as lc
from larq_compute import cli
from larq_compute import layers as lq
from larq_compute.compiler import convert_flatbuffer
from larq_compute.compiler.passes import PIPELINE, cleanup, int8
from larq_compute.compiler.patterns import rewrite_to_fixed_point
from larq_compute.compiler.quantization import keep_fake_quant, ranges_from_fake_quant

from . import models
from .builders import Builder, binary_filter
from .litert import graph_bytes

U8 = schema.TensorType.UINT8
I8 = schema.TensorType.INT8
RNG = np.random.default_rng(9)


def _quantization(scale: float, zero_point: int) -> schema.QuantizationParametersT:
    q = schema.QuantizationParametersT()
    q.scale, q.zeroPoint = [scale], [zero_point]
    return q


def _fake_quant(b: Builder, x, scale: float, zero_point: int, tensor_type=U8):
    """QUANTIZE -> DEQUANTIZE, the stock converter's form of a fake-quant op."""
    q = b._op("QUANTIZE", [x], x.shape, tensor_type=tensor_type)
    q.quantization = _quantization(scale, zero_point)
    return b._op("DEQUANTIZE", [q], x.shape)


def _binary_conv_with_fake_quant_output():
    b = Builder(1, 4, 4, 3)
    y = b.conv(b.ste_sign(b.x), binary_filter(4, 1, 1, 3, scale=[1.0, 2.0, 0.5, 1.0]))
    graph = b.output(b.ste_sign(_fake_quant(b, y, 0.1, 128)), y)
    rewrite_to_fixed_point(graph, PIPELINE)
    return graph


def _text(graph) -> str:
    """The graph without binary op options and with the (random) packed filter as ``filter``."""
    text = "\n".join(line.split(" channels_in")[0] for line in str(graph).splitlines())
    return re.sub(r"i32\[4,1,1,1\]\([\d,]+\)", "filter", text)


def test_fake_quant_round_trip_becomes_a_range_and_the_binary_op_writes_int8():
    graph = _binary_conv_with_fake_quant_output()
    assert _text(graph) == textwrap.dedent("""
        graph main(%0: f32[1,4,4,3]) -> (%6, %2)
          %1: i32[1,4,4,1] = LceQuantize(%0)
          %2: f32[1,4,4,4] = LceBconv2d(%1, filter, f32[4](1,2,0.5,1), f32[4](0,0,0,0))
          %3: u8[1,4,4,4]{scale=0.1,zp=128} = QUANTIZE(%2)
          %4: f32[1,4,4,4] = DEQUANTIZE(%3)
          %5: i32[1,4,4,1] = LceQuantize(%4)
          %6: f32[1,4,4,4] = LceDequantize(%5)
    """).strip()
    ranges = ranges_from_fake_quant(graph)
    assert list(ranges.values()) == [pytest.approx((-12.8, 12.7))]
    rewrite_to_fixed_point(graph, [cleanup.remove_dead_op, int8.binary_output])
    # LceQuantize reads the int8 values; the float model output reads them dequantized.
    assert _text(graph) == textwrap.dedent("""
        graph main(%0: f32[1,4,4,3]) -> (%5, %3)
          %1: i32[1,4,4,1] = LceQuantize(%0)
          %2: i8[1,4,4,4]{scale=0.1,zp=0} = LceBconv2d(%1, filter, f32[4](1,2,0.5,1), f32[4](0,0,0,0))
          %3: f32[1,4,4,4] = DEQUANTIZE(%2)
          %4: i32[1,4,4,1] = LceQuantize(%2)
          %5: f32[1,4,4,4] = LceDequantize(%4)
    """).strip()


def test_quantize_reads_int8_and_requantize_round_trips_vanish():
    b = Builder(1, 2, 2, 40)
    b.x.tensor_type, b.x.quantization = I8, _quantization(0.5, -3)
    x = b._op("DEQUANTIZE", [b.x], b.x.shape)
    packed = b._op("LceQuantize", [x], (1, 2, 2, 2), tensor_type=schema.TensorType.INT32)
    packed.producer.custom = True
    again = b._op("QUANTIZE", [x], x.shape, tensor_type=I8)
    again.quantization = _quantization(0.5, -3)
    graph = b.output(packed, again)
    rewrite_to_fixed_point(graph, [cleanup.remove_dead_op, *int8.PATTERNS])
    assert str(graph) == textwrap.dedent("""
        graph main(%0: i8[1,2,2,40]{scale=0.5,zp=-3}) -> (%1, %0)
          %1: i32[1,2,2,2] = LceQuantize(%0)
    """).strip()


def test_requantize_to_another_grid_stays():
    b = Builder(1, 3)
    b.x.tensor_type, b.x.quantization = I8, _quantization(0.5, -3)
    again = b._op("QUANTIZE", [b._op("DEQUANTIZE", [b.x], b.x.shape)], b.x.shape, tensor_type=I8)
    again.quantization = _quantization(0.25, -3)
    graph = b.output(again)
    before = str(graph)
    assert rewrite_to_fixed_point(graph, [cleanup.remove_dead_op, *int8.PATTERNS]) == 0
    assert str(graph) == before


def test_fake_quant_left_float_keeps_its_rounding():
    b = Builder(1, 3)
    y = b.add(b.x, 1.0)
    graph = b.output(_fake_quant(b, y, 0.5, 128))
    ranges = ranges_from_fake_quant(graph)
    assert keep_fake_quant(graph, ranges) == 1
    assert str(graph) == textwrap.dedent("""
        graph main(%0: f32[1,3]) -> (%3)
          %1: f32[1,3]{range=-64..63.5} = ADD(%0, f32(1))
          %2: i8[1,3]{scale=0.5,zp=0} = QUANTIZE(%1)
          %3: f32[1,3] = DEQUANTIZE(%2)
    """).strip()
    assert graph.outputs[0].name == "add"  # the model output keeps its name


def test_signs_read_by_a_float_consumer_come_out_int8():
    """An LceDequantize whose ±1 output has a range writes the int8 ±1 of that grid."""
    b = Builder(2, 3, 3, 40)
    graph = b.output(_fake_quant(b, b.ste_sign(_fake_quant(b, b.x, 0.1, 128)), 2 / 255, 128))
    converted = convert_flatbuffer(graph_bytes(graph), inference_input_type=tf.int8,
                                   inference_output_type=tf.int8)
    assert str(converted.ir.main) == textwrap.dedent("""
        graph main(%0: i8[2,3,3,40]{scale=0.1,zp=0}) -> (%2)
          %1: i32[2,3,3,2] = LceQuantize(%0)
          %2: i8[2,3,3,40]{scale=0.00784314,zp=0} = LceDequantize(%1)
    """).strip()
    q = RNG.integers(-128, 128, (2, 3, 3, 40), dtype=np.int8)
    interpreter = lc.Interpreter(converted)
    expected = ref.int8_output(np.where(q < 0, -1.0, 1.0), *interpreter.output_details[0]["quantization"])
    np.testing.assert_array_equal(interpreter.predict(q), expected)


# -- end to end, against Keras -------------------------------------------------------------
def _to_integer(x: np.ndarray, details: dict) -> np.ndarray:
    scale, zero_point = details["quantization"]
    info = np.iinfo(details["dtype"])
    return np.clip(np.round(x / scale) + zero_point, info.min, info.max).astype(details["dtype"])


def _to_float(q: np.ndarray, details: dict) -> np.ndarray:
    scale, zero_point = details["quantization"]
    return (q.astype(np.float32) - zero_point) * scale


def _run(converted: bytes, x: np.ndarray) -> tuple[np.ndarray, float]:
    """The model's output as float values, and the output's quantization step (0 if float)."""
    interpreter = lc.Interpreter(converted)
    inputs, outputs = interpreter.input_details[0], interpreter.output_details[0]
    if inputs["dtype"] != np.float32:
        x = _to_integer(x, inputs)
    y = interpreter.predict(x)
    if outputs["dtype"] == np.float32:
        return y, 0.0
    return _to_float(y, outputs), outputs["quantization"][0]


@pytest.fixture(scope="module")
def fake_quant_model():
    keras.utils.set_random_seed(11)
    model = models.fake_quant_model()
    x = np.random.default_rng(3).uniform(-1.2, 1.2, (16, 8, 8, 3)).astype(np.float32)
    return model, x, model.predict(x, verbose=0)


def _ops(converted) -> list[str]:
    return [op.type for op in converted.ir.main.ops]


@pytest.mark.parametrize("io_type", [tf.float32, tf.int8, tf.uint8])
def test_fake_quant_model_matches_keras_step_for_step(fake_quant_model, io_type):
    model, x, expected = fake_quant_model
    converted = lc.convert_keras_model(model, inference_input_type=io_type, inference_output_type=io_type)
    graph = converted.ir.main
    assert graph.inputs[0].tensor_type == graph.outputs[0].tensor_type == {
        tf.float32: schema.TensorType.FLOAT32, tf.int8: I8, tf.uint8: U8}[io_type]
    # Both binary convs write int8 (their fake-quant follows the block); the quantizers and the
    # ADD read int8 (a uint8 input is read dequantized, which is as exact); nothing is float in
    # between.
    bconvs = [op for op in graph.ops if op.type == "LceBconv2d"]
    assert [op.output.tensor_type for op in bconvs] == [I8, I8]
    first = schema.TensorType.FLOAT32 if io_type == tf.uint8 else I8
    assert [op.inputs[0].tensor_type for op in graph.ops if op.type == "LceQuantize"] == [first, I8]
    assert [op for op in _ops(converted) if op not in ("QUANTIZE", "DEQUANTIZE")] == [
        "LceQuantize", "LceBconv2d", "LceQuantize", "LceBconv2d", "ADD", "MEAN"]
    if io_type == tf.int8:
        assert _ops(converted).count("QUANTIZE") == _ops(converted).count("DEQUANTIZE") == 0
    got, _ = _run(converted, x)
    # The output grid is the output fake-quant's (12/255). Values agree to one step: the mean of
    # 64 values on the ADD's grid (32/255) often lands exactly halfway between two output steps
    # (1 in 24 sums), where Keras's fake-quant rounds up and TFLite's MEAN away from zero; the
    # int8 ADD's fixed-point rescaling may round a tie the other way too.
    step = 12.0 / 255
    assert np.abs(got - expected).max() <= step * 1.001
    assert np.abs(got - expected).mean() < 0.15 * step


def test_report_and_details_say_which_tensors_are_int8(fake_quant_model):
    model, _, _ = fake_quant_model
    converted = lc.convert_keras_model(model, inference_input_type=tf.int8, inference_output_type=tf.int8)
    report = converted.report
    assert len(report.int8_inputs) == len(report.int8_outputs) == 1
    assert "int8, scale 0.00784314, zero point 0" in report.int8_inputs[0]
    assert [row.detail.endswith("int8 output") for row in report.binary_layers] == [True, True]
    text = str(report)
    assert "2 LceQuantize (2 from int8)" in text
    assert f"int8: {len(report.int8_tensors)} of {report.activation_tensors} activation tensors" in text
    interpreter = lc.Interpreter(converted)
    assert interpreter.input_details[0]["quantization"] == pytest.approx((2 / 255, 0))
    assert interpreter.output_details[0]["quantization"] == pytest.approx((12 / 255, 0))


def _flatten_model(head: bool) -> keras.Model:
    """Fake-quant ranges that differ across a Flatten (whose int8 form keeps its input's grid)."""
    x = keras.Input((3, 3, 2))
    y = models.FakeQuant(-0.5, 0.5)(keras.layers.Flatten()(models.FakeQuant(-1.0, 1.0)(x)))
    if head:
        y = models.FakeQuant(-3.0, 3.0)(keras.layers.Dense(4)(y))
    return keras.Model(x, y)


def test_fake_quant_after_a_same_scale_op_is_requantized():
    model = _flatten_model(head=False)
    converted = lc.convert_keras_model(model, inference_input_type=tf.int8, inference_output_type=tf.int8)
    assert _ops(converted) == ["RESHAPE", "QUANTIZE"]
    x = np.random.default_rng(5).uniform(-1, 1, (4, 3, 3, 2)).astype(np.float32)
    x = np.round(x * 127.5) / 127.5  # on the input grid
    got, step = _run(converted, x)
    assert step == pytest.approx(1 / 255)
    assert np.abs(got - np.asarray(model(x))).max() <= step * 1.001


def test_fake_quant_that_cannot_be_applied_warns():
    with pytest.warns(UserWarning, match="fake-quant range .* of '.*Reshape' is not applied: .* "
                                         "its reader \\(FULLY_CONNECTED\\)"):
        lc.convert_keras_model(_flatten_model(head=True))


def test_saved_model_with_int8_io(fake_quant_model, tmp_path):
    model, x, expected = fake_quant_model
    model.export(str(tmp_path / "saved"), verbose=False)
    converted = lc.convert_saved_model(tmp_path / "saved", inference_input_type=tf.int8,
                                       inference_output_type=tf.int8)
    got, step = _run(converted, x)
    assert step == pytest.approx(12 / 255)
    assert np.abs(got - expected).max() <= step * 1.001


def test_float_array_for_an_int8_input_is_refused(fake_quant_model):
    model, x, _ = fake_quant_model
    interpreter = lc.Interpreter(lc.convert_keras_model(model, inference_input_type=tf.int8))
    with pytest.raises(TypeError, match="takes int8, got float32.*scale 0.00784314, zero point 0"):
        interpreter.predict(x)


def test_default_range_makes_the_whole_model_int8():
    keras.utils.set_random_seed(12)
    model = models.conv_block_model()
    converted = lc.convert_keras_model(
        model, inference_input_type=tf.int8, inference_output_type=tf.int8,
        experimental_default_int8_range=(-6.0, 6.0))
    graph = converted.ir.main
    # Every activation is int8 or bit-packed: the float first conv runs int8 with int8
    # weights, binary ops read and write int8, no QUANTIZE/DEQUANTIZE is left.
    activations = [t for t in graph.tensors() if not t.is_constant]
    assert {t.tensor_type for t in activations} <= {I8, schema.TensorType.INT32}
    assert "QUANTIZE" not in _ops(converted) and "DEQUANTIZE" not in _ops(converted)
    conv = next(op for op in graph.ops if op.type == "CONV_2D")
    assert conv.inputs[1].tensor_type == I8
    report = converted.report
    assert report.float_layers[0].int8 and str(report).count("int8: input is not binarized") == 1
    x = np.random.default_rng(4).uniform(-1, 1, (8, 12, 12, 3)).astype(np.float32)
    got, step = _run(converted, x)
    assert step == pytest.approx(12 / 255)
    assert got.shape == (8, 10) and np.isfinite(got).all()


@pytest.fixture(scope="module")
def digits_fake_quant_model():
    """A BNN with fake-quant at its input, after its first two blocks and at its logits,
    trained briefly on scikit-learn's digits. The pixels are put on the input's int8 grid:
    TensorFlow's fake-quant rounds exact ties up, TFLite's quantize away from zero, and
    digits scaled to k/8 - 1 sit on ties of the (-1, 1) grid."""
    digits = load_digits()
    x = ((np.round(digits.images[..., None] / 16 * 254) - 127) * (2 / 255)).astype(np.float32)
    keras.utils.set_random_seed(4)
    model = keras.Sequential([
        keras.Input((8, 8, 1)),
        models.FakeQuant(-1.0, 1.0),
        lq.QuantConv2D(32, 3, padding="same", kernel_quantizer="ste_sign", kernel_constraint="weight_clip", use_bias=False),
        keras.layers.BatchNormalization(),
        models.FakeQuant(-4.0, 4.0),
        lq.QuantConv2D(32, 3, padding="same", pad_values=1.0, **models.BINARY),
        keras.layers.MaxPool2D(2),
        keras.layers.BatchNormalization(),
        models.FakeQuant(-4.0, 4.0),
        lq.QuantConv2D(64, 3, padding="same", pad_values=1.0, **models.BINARY),
        keras.layers.BatchNormalization(),
        keras.layers.Flatten(),
        lq.QuantDense(10, **models.BINARY),
        keras.layers.BatchNormalization(),
        models.FakeQuant(-8.0, 8.0),
    ])
    model.compile(keras.optimizers.Adam(0.01), keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.fit(x, digits.target, epochs=4, batch_size=64, verbose=0)
    return model, x, digits.target


def test_fake_quant_digits_bnn_matches_keras(digits_fake_quant_model):
    model, x, labels = digits_fake_quant_model
    expected = model.predict(x, verbose=0)
    assert np.mean(expected.argmax(1) == labels) > 0.8  # it learned something
    converted = lc.convert_keras_model(model, inference_input_type=tf.int8, inference_output_type=tf.int8)
    graph = converted.ir.main
    # int8 in, int8 first conv (its ±s filter quantizes exactly), quantizers reading int8, the
    # binary Dense writing the int8 logits; nothing converts at the ends.
    conv = graph.ops[0]
    assert conv.type == "CONV_2D" and conv.inputs[0] is graph.inputs[0] and conv.output.tensor_type == I8
    assert [op.inputs[0].tensor_type for op in graph.ops if op.type == "LceQuantize"] == [I8, I8, schema.TensorType.FLOAT32]
    assert graph.outputs[0].producer.type == "LceBFullyConnected" and graph.outputs[0].tensor_type == I8
    got, step = _run(converted, x)
    assert step == pytest.approx(16 / 255)
    # One step at most: rounding of the first conv's fixed-point rescaling at a tie.
    difference = np.abs(got - expected) / step
    assert difference.max() <= 1.001 and difference.mean() < 0.01
    assert np.mean(got.argmax(1) == expected.argmax(1)) > 0.995


def test_default_range_keeps_a_digits_bnn_accurate(digits_fake_quant_model):
    model, x, labels = digits_fake_quant_model
    float_model = keras.Sequential([layer for layer in model.layers if not isinstance(layer, models.FakeQuant)])
    expected = float_model.predict(x, verbose=0)
    converted = lc.convert_keras_model(float_model, experimental_default_int8_range=(-8.0, 8.0))
    assert converted.report.float_layers[0].int8
    got = lc.Interpreter(converted).predict(x)
    # A guessed range costs little on this model: accuracy within 2 points of Keras's.
    assert abs(np.mean(got.argmax(1) == labels) - np.mean(expected.argmax(1) == labels)) < 0.02
    assert np.mean(got.argmax(1) == expected.argmax(1)) > 0.9


# -- errors ------------------------------------------------------------------------------
def _dense_model():
    return keras.Sequential([keras.Input((2,), name="features"), keras.layers.Dense(1)])


@pytest.mark.parametrize("argument, kind", [("inference_input_type", "input"), ("inference_output_type", "output")])
def test_int8_io_without_range_names_the_tensor(argument, kind):
    with pytest.raises(ValueError, match=(
            f"model {kind} '.*' has no range for int8 quantization: add a fake-quant op .* "
            "or pass experimental_default_int8_range")):
        lc.convert_keras_model(_dense_model(), **{argument: tf.int8})


@pytest.mark.parametrize("value, message", [
    (tf.int16, "inference_input_type=int16 is not supported; use tf.float32, tf.int8 or tf.uint8"),
    ("bfloat16", "inference_input_type=bfloat16 is not supported"),
])
def test_unsupported_io_type(value, message):
    with pytest.raises(ValueError, match=message):
        lc.convert_keras_model(_dense_model(), inference_input_type=value)


@pytest.mark.parametrize("value, message", [
    ((3.0, -3.0), "finite with min < max, got \\(3.0, -3.0\\)"),
    ((0.0, float("inf")), "finite with min < max"),
    (6.0, "must be a \\(min, max\\) pair of numbers, got 6.0"),
])
def test_bad_default_range(value, message):
    with pytest.raises(ValueError, match=message):
        lc.convert_keras_model(_dense_model(), experimental_default_int8_range=value)


def test_cli_flags(tmp_path, capsys):
    keras.utils.set_random_seed(13)
    source = tmp_path / "model.keras"
    models.sequential_model().save(source)
    output = tmp_path / "model.tflite"
    argv = ["convert", str(source), "-o", str(output), "--report", "--inference-input-type", "int8",
            "--inference-output-type", "int8", "--default-int8-range", "-4", "4"]
    assert cli.main(argv) == 0
    out = capsys.readouterr().out
    assert "int8 tensors" in out and "inputs: serving_default" in out
    details = lc.Interpreter(model_path=output).input_details[0]
    assert details["dtype"] == np.int8 and details["quantization"] == pytest.approx((8 / 255, -1))
    assert cli.main(["convert", str(source), "-o", str(output), "--inference-input-type", "int8"]) == 1
    assert "has no range for int8 quantization" in capsys.readouterr().err
