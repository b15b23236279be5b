"""Quantized layers against their Keras twins and against numpy references."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import larq_compute as lc
from larq_compute import layers as lq_layers

from . import reference as ref

RNG = np.random.default_rng(0)


def _random(*shape):
    return RNG.standard_normal(shape).astype("float32")


# (quantized layer, Keras twin, constructor arguments, input shape)
TWIN_CASES = [
    (lq_layers.QuantDense, keras.layers.Dense, dict(units=5), (3, 7)),
    (lq_layers.QuantDense, keras.layers.Dense, dict(units=4, use_bias=False, activation="relu"), (2, 3, 6)),
    (lq_layers.QuantConv1D, keras.layers.Conv1D, dict(filters=4, kernel_size=3, padding="causal", dilation_rate=2), (2, 9, 3)),
    (lq_layers.QuantConv1D, keras.layers.Conv1D, dict(filters=4, kernel_size=3, strides=2, padding="same"), (2, 10, 3)),
    (lq_layers.QuantConv2D, keras.layers.Conv2D, dict(filters=6, kernel_size=3, strides=2, padding="same"), (2, 7, 8, 4)),
    (lq_layers.QuantConv2D, keras.layers.Conv2D, dict(filters=6, kernel_size=(1, 3), groups=2, activation="tanh"), (2, 5, 6, 4)),
    (lq_layers.QuantConv3D, keras.layers.Conv3D, dict(filters=3, kernel_size=2, padding="same"), (1, 4, 5, 3, 2)),
    (lq_layers.QuantDepthwiseConv2D, keras.layers.DepthwiseConv2D, dict(kernel_size=3, depth_multiplier=2, padding="same"), (2, 6, 5, 3)),
    (lq_layers.QuantSeparableConv1D, keras.layers.SeparableConv1D, dict(filters=4, kernel_size=3, depth_multiplier=2), (2, 8, 3)),
    (lq_layers.QuantSeparableConv2D, keras.layers.SeparableConv2D, dict(filters=4, kernel_size=3, strides=2, padding="same"), (2, 7, 7, 3)),
    (lq_layers.QuantConv2DTranspose, keras.layers.Conv2DTranspose, dict(filters=3, kernel_size=3, strides=2, padding="same"), (2, 4, 5, 2)),
    (lq_layers.QuantConv3DTranspose, keras.layers.Conv3DTranspose, dict(filters=2, kernel_size=2, strides=2), (1, 3, 2, 3, 2)),
]


@pytest.mark.parametrize("cls, twin, kwargs, shape", TWIN_CASES, ids=lambda v: getattr(v, "__name__", ""))
def test_equals_keras_twin_without_quantizers(cls, twin, kwargs, shape):
    x = _random(*shape)
    layer, keras_layer = cls(**kwargs), twin(**kwargs)
    keras_layer(x)
    layer(x)
    weights = [_random(*w.shape) for w in layer.weights]
    layer.set_weights(weights)
    keras_layer.set_weights(weights)
    np.testing.assert_array_equal(layer(x), keras_layer(x))


def _binary(cls, **kwargs):
    layer = cls(input_quantizer="ste_sign", kernel_constraint="weight_clip", **kwargs)
    return layer


@pytest.mark.parametrize("pad_values", [0.0, 1.0])
@pytest.mark.parametrize("strides, size, dilation", [(1, 7, 1), (2, 8, 1), (2, 7, 1), (1, 9, 2)])
def test_binary_conv2d_matches_numpy(pad_values, strides, size, dilation):
    x, w, b = _random(2, size, size + 1, 5), _random(3, 3, 5, 4), _random(4)
    layer = lq_layers.QuantConv2D(
        4, 3, strides=strides, dilation_rate=dilation, padding="same", pad_values=pad_values,
        input_quantizer="ste_sign", kernel_quantizer="ste_sign", kernel_constraint="weight_clip",
    )
    layer(x)
    layer.set_weights([w, b])
    expected = ref.conv(ref.sign(x), ref.sign(w), (strides,) * 2, (dilation,) * 2, "same", pad_values) + b
    np.testing.assert_allclose(layer(x), expected, rtol=1e-5, atol=1e-4)


def test_one_padding_with_unknown_spatial_size_matches_numpy():
    layer = lq_layers.QuantConv2D(3, 3, strides=2, padding="same", pad_values=1.0, use_bias=False,
                                  input_quantizer="ste_sign", kernel_quantizer="ste_sign",
                                  kernel_constraint="weight_clip")
    inputs = keras.Input((None, None, 2))
    model = keras.Model(inputs, layer(inputs))
    w = _random(3, 3, 2, 3)
    layer.set_weights([w])
    run = tf.function(model, input_signature=[tf.TensorSpec((None, None, None, 2))])
    for height, width in [(7, 8), (6, 5)]:
        x = _random(2, height, width, 2)
        expected = ref.conv(ref.sign(x), ref.sign(w), (2, 2), (1, 1), "same", 1.0)
        np.testing.assert_allclose(run(x), expected, rtol=1e-5, atol=1e-4)


@pytest.mark.parametrize("rank, cls", [(1, lq_layers.QuantConv1D), (3, lq_layers.QuantConv3D)])
def test_binary_conv1d_conv3d_match_numpy(rank, cls):
    x = _random(2, *([6] * rank), 3)
    layer = cls(4, 3, strides=2, padding="same", pad_values=1.0, use_bias=False,
                input_quantizer="ste_sign", kernel_quantizer="ste_sign", kernel_constraint="weight_clip")
    layer(x)
    w = _random(*layer.kernel.shape)
    layer.set_weights([w])
    expected = ref.conv(ref.sign(x), ref.sign(w), (2,) * rank, (1,) * rank, "same", 1.0)
    np.testing.assert_allclose(layer(x), expected, rtol=1e-5, atol=1e-4)


def test_binary_dense_matches_numpy():
    x, w, b = _random(4, 9), _random(9, 3), _random(3)
    layer = lq_layers.QuantDense(3, input_quantizer="ste_sign", kernel_quantizer="ste_sign",
                                 kernel_constraint="weight_clip")
    layer(x)
    layer.set_weights([w, b])
    np.testing.assert_allclose(layer(x), ref.sign(x) @ ref.sign(w) + b, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("pad_values", [0.0, 1.0])
def test_binary_depthwise_matches_numpy(pad_values):
    x = _random(2, 7, 6, 3)
    layer = lq_layers.QuantDepthwiseConv2D(
        3, strides=2, depth_multiplier=2, padding="same", pad_values=pad_values, use_bias=False,
        input_quantizer="ste_sign", depthwise_quantizer="ste_sign", depthwise_constraint="weight_clip",
    )
    layer(x)
    w = _random(3, 3, 3, 2)
    layer.set_weights([w])
    expected = ref.depthwise_conv(ref.sign(x), ref.sign(w), (2, 2), (1, 1), "same", pad_values)
    np.testing.assert_allclose(layer(x), expected, rtol=1e-5, atol=1e-4)


@pytest.mark.parametrize("rank, cls", [(1, lq_layers.QuantSeparableConv1D), (2, lq_layers.QuantSeparableConv2D)])
def test_separable_matches_numpy(rank, cls):
    x = _random(2, *([7] * rank), 3)
    layer = cls(4, 3, padding="same", pad_values=1.0, depth_multiplier=2, input_quantizer="ste_sign",
                depthwise_quantizer="ste_sign", pointwise_quantizer="ste_tern")
    layer(x)
    dw, pw, b = (_random(*v.shape) for v in layer.weights)
    layer.set_weights([dw, pw, b])
    ternary_pw = np.where(pw >= 0.05, 1.0, np.where(pw <= -0.05, -1.0, 0.0)).astype("float32")
    depthwise = ref.depthwise_conv(ref.sign(x), ref.sign(dw), (1,) * rank, (1,) * rank, "same", 1.0)
    expected = depthwise @ ternary_pw.reshape(ternary_pw.shape[-2:]) + b
    np.testing.assert_allclose(layer(x), expected, rtol=1e-5, atol=1e-4)


@pytest.mark.parametrize("rank, cls", [(2, lq_layers.QuantConv2DTranspose), (3, lq_layers.QuantConv3DTranspose)])
@pytest.mark.parametrize("padding", ["same", "valid"])
def test_binary_transpose_matches_numpy(rank, cls, padding):
    x = _random(2, *([4, 3, 5][:rank]), 3)
    layer = cls(2, 3, strides=2, padding=padding, use_bias=False, input_quantizer="ste_sign",
                kernel_quantizer="ste_sign", kernel_constraint="weight_clip")
    layer(x)
    w = _random(*layer.kernel.shape)
    layer.set_weights([w])
    expected = ref.conv_transpose(ref.sign(x), ref.sign(w), (2,) * rank, padding)
    np.testing.assert_allclose(layer(x), expected, rtol=1e-5, atol=1e-4)


def test_added_arguments_are_keywords_after_the_keras_positionals():
    conv = lq_layers.QuantConv2D(4, 3, 2, "same", pad_values=1.0, input_quantizer="ste_sign")
    assert (conv.strides, conv.padding, conv.pad_values) == ((2, 2), "same", 1.0)
    assert isinstance(conv.input_quantizer, lc.quantizers.SteSign) and conv.kernel_quantizer is None
    dense = lq_layers.QuantDense(3, "relu", False, kernel_quantizer="approx_sign")
    assert dense.use_bias is False and isinstance(dense.kernel_quantizer, lc.quantizers.ApproxSign)


def test_quantizer_as_activation_and_precisions():
    layer = lq_layers.QuantConv2D(4, 3, activation="ste_sign", input_quantizer="ste_sign",
                                  kernel_quantizer="ste_tern", kernel_constraint="weight_clip")
    y = layer(_random(1, 5, 5, 2)).numpy()
    assert set(np.unique(y)) <= {-1.0, 1.0}
    assert isinstance(layer.activation, lc.quantizers.SteSign)
    assert layer.input_precision == 1
    assert layer.kernel.precision == 2
    assert layer.weight_quantizers == {"kernel": layer.kernel_quantizer}
    float_layer = lq_layers.QuantDense(3)
    float_layer(_random(2, 4))
    assert float_layer.input_precision == 32 and float_layer.kernel.precision == 32


def test_quantized_scope_exposes_quantized_kernels(tmp_path):
    inputs = keras.Input((6, 6, 3))
    outputs = lq_layers.QuantConv2D(4, 3, input_quantizer="ste_sign", kernel_quantizer="ste_sign",
                                    kernel_constraint="weight_clip")(inputs)
    model = keras.Model(inputs, outputs)
    layer = model.layers[1]
    latent = layer.get_weights()[0]
    assert len(np.unique(latent)) > 2
    with lc.context.quantized_scope(True):
        kernel, bias = layer.get_weights()
        model.save_weights(tmp_path / "binary.weights.h5")
    np.testing.assert_array_equal(kernel, ref.sign(latent))
    np.testing.assert_array_equal(bias, np.zeros(4))
    np.testing.assert_array_equal(layer.get_weights()[0], latent)
    model.load_weights(tmp_path / "binary.weights.h5")
    np.testing.assert_array_equal(layer.get_weights()[0], ref.sign(latent))


def test_save_and_load_round_trip(tmp_path):
    inputs = keras.Input((8, 8, 2))
    x = lq_layers.QuantConv2D(8, 3, padding="same", pad_values=1.0, kernel_quantizer=lc.quantizers.SteSign(clip_value=1.5),
                              kernel_constraint=lc.constraints.WeightClip(1.5), use_bias=False)(inputs)
    x = keras.layers.BatchNormalization()(x)
    x = lq_layers.QuantDepthwiseConv2D(3, padding="same", input_quantizer="approx_sign",
                                       depthwise_quantizer="magnitude_aware_sign", depthwise_constraint="weight_clip")(x)
    x = lq_layers.QuantSeparableConv2D(4, 3, input_quantizer=lc.quantizers.SwishSign(beta=2.0),
                                       depthwise_quantizer="ste_sign", pointwise_quantizer=lc.quantizers.DoReFa(3, "weights"))(x)
    x = lq_layers.QuantConv2DTranspose(3, 2, strides=2, input_quantizer="ste_heaviside", kernel_quantizer="ste_tern")(x)
    x = keras.layers.Flatten()(x)
    outputs = lq_layers.QuantDense(5, input_quantizer=lc.quantizers.DoReFa(k_bit=2), kernel_quantizer=lc.quantizers.NoOp(precision=1), activation="ste_sign")(x)
    model = keras.Model(inputs, outputs)
    x = _random(3, 8, 8, 2)
    model.save(tmp_path / "m.keras")
    restored = keras.models.load_model(tmp_path / "m.keras")
    np.testing.assert_array_equal(model(x), restored(x))
    for original, loaded in zip(model.layers, restored.layers):
        assert type(original) is type(loaded)
        assert original.get_config() == loaded.get_config()
    assert restored.layers[1].pad_values == 1.0
    assert restored.layers[1].kernel_quantizer.clip_value == 1.5
    # tf.keras is the same Keras 3.
    assert tf.keras.models.load_model(tmp_path / "m.keras").count_params() == model.count_params()


def test_stock_converter_emits_the_patterns_the_compiler_recognises():
    from ai_edge_litert import schema_py_generated as schema

    binary = dict(kernel_quantizer="magnitude_aware_sign", kernel_constraint="weight_clip", use_bias=False)
    inputs = keras.Input((8, 8, 3))
    x = lq_layers.QuantConv2D(4, 3, padding="same", pad_values=1.0, input_quantizer="ste_sign", **binary)(inputs)
    x = lq_layers.QuantConv2D(4, 3, padding="same", input_quantizer="approx_sign", **binary)(x)
    x = keras.layers.Flatten()(x)
    x = lq_layers.QuantDense(3, input_quantizer="swish_sign", **binary)(x)
    flatbuffer = tf.lite.TFLiteConverter.from_keras_model(keras.Model(inputs, x)).convert()
    tflite = schema.ModelT.InitFromObj(schema.Model.GetRootAsModel(flatbuffer, 0))
    op_names = {code: name for name, code in vars(schema.BuiltinOperator).items() if not name.startswith("_")}
    graph = tflite.subgraphs[0]
    ops = []
    for op in graph.operators:
        opcode = tflite.operatorCodes[op.opcodeIndex]
        name = op_names[max(opcode.builtinCode, opcode.deprecatedBuiltinCode)]
        if name in ("SIGN", "ADD", "PADV2", "CONV_2D", "FULLY_CONNECTED"):  # skip Flatten's ops
            ops.append((name, op))
    print([name for name, _ in ops])
    assert [name for name, _ in ops] == [
        "SIGN", "ADD", "SIGN", "PADV2", "CONV_2D",
        "SIGN", "ADD", "SIGN", "CONV_2D",
        "SIGN", "ADD", "SIGN", "FULLY_CONNECTED",
    ]

    def constant(op, index):
        return tflite.buffers[graph.tensors[op.inputs[index]].buffer].data.view("<f4")

    for add in (ops[1][1], ops[6][1], ops[10][1]):
        assert constant(add, 1).tolist() == [pytest.approx(0.1)]
    assert constant(ops[3][1], 2).tolist() == [1.0]
    padding = {v: k for k, v in vars(schema.Padding).items() if not k.startswith("_")}
    assert padding[ops[4][1].builtinOptions.padding] == "VALID"
    assert padding[ops[8][1].builtinOptions.padding] == "SAME"
    # Magnitude-aware kernels fold to one magnitude per output channel with the kernel's signs.
    for conv in (ops[4][1], ops[8][1], ops[12][1]):
        filters = constant(conv, 1).reshape(graph.tensors[conv.inputs[1]].shape)
        magnitudes = np.abs(filters.reshape(len(filters), -1))
        np.testing.assert_array_equal(magnitudes, magnitudes[:, :1].repeat(magnitudes.shape[1], 1))


def test_bad_arguments_name_the_layer_and_argument():
    with pytest.raises(ValueError, match=r"Unknown quantizer 'ste_sgn' for `kernel_quantizer` of layer 'conv_a'"):
        lq_layers.QuantConv2D(4, 3, kernel_quantizer="ste_sgn", name="conv_a")
    with pytest.raises(ValueError, match=r"Unknown quantizer 'sign' for `input_quantizer` of layer 'dense_a'"):
        lq_layers.QuantDense(4, input_quantizer="sign", name="dense_a")
    with pytest.raises(ValueError, match=r"Layer 'conv_b': `pad_values=1.0` needs padding='same'.*'valid'"):
        lq_layers.QuantConv2D(4, 3, pad_values=1.0, name="conv_b")
    with pytest.raises(ValueError, match=r"Layer 'conv_c': `pad_values` must be a finite number"):
        lq_layers.QuantConv2D(4, 3, padding="same", pad_values="one", name="conv_c")
    with pytest.raises(ValueError, match=r"`pad_values` must be a finite number.*nan"):
        lq_layers.QuantDepthwiseConv2D(3, padding="same", pad_values=float("nan"))
    with pytest.raises(ValueError, match=r"`pad_values=1.0` needs padding='same'.*'causal'"):
        lq_layers.QuantConv1D(4, 3, padding="causal", pad_values=1.0)
