"""models.summary against hand-computed parameter, memory and MAC counts."""

import keras
import pytest

import larq_compute as lc


def _model():
    inputs = keras.Input((6, 6, 3))
    x = lc.layers.QuantConv2D(4, 3, padding="same", kernel_quantizer="ste_sign",
                              kernel_constraint="weight_clip", use_bias=False)(inputs)
    x = keras.layers.BatchNormalization()(x)
    x = lc.layers.QuantConv2D(8, 3, strides=2, input_quantizer="ste_sign", kernel_quantizer="ste_sign",
                              kernel_constraint="weight_clip")(x)
    x = lc.layers.QuantSeparableConv2D(6, 2, input_quantizer="ste_sign", depthwise_quantizer="ste_sign",
                                       depthwise_constraint="weight_clip")(x)
    x = keras.layers.Flatten()(x)
    outputs = lc.layers.QuantDense(5, input_quantizer="ste_tern", kernel_quantizer="ste_sign",
                                   kernel_constraint="weight_clip")(x)
    return keras.Model(inputs, outputs, name="small_bnn")


def test_summary_counts_match_hand_computed_numbers():
    printed = []
    profile = lc.models.summary(_model(), print_fn=printed.append)
    conv1, bn, conv2, separable, flatten, dense = profile.layers

    # conv1: float input, 3x3x3x4 binary kernel, 6x6 output pixels.
    assert (conv1.input_precision, conv1.output_shape) == (32, (None, 6, 6, 4))
    assert conv1.params == {1: 108} and conv1.macs == {32: 36 * 108}
    assert conv1.memory_bytes == 108 / 8
    # Batch norm: gamma, beta (trainable), moving mean and variance, all float.
    assert bn.params == {32: 16} and bn.trainable_params == 8 and bn.input_precision is None
    # conv2: binary x binary, 3x3x4x8 kernel + 8 biases, 2x2 output pixels.
    assert conv2.params == {1: 288, 32: 8} and conv2.macs == {1: 4 * 288}
    assert conv2.memory_bytes == 288 / 8 + 8 * 4
    # Separable: binary 2x2x8x1 depthwise on binary input; float 1x1x8x6 pointwise; 1 pixel.
    assert separable.params == {1: 32, 32: 48 + 6} and separable.macs == {1: 32, 32: 48}
    assert flatten.params == {} and flatten.macs == {} and flatten.output_shape == (None, 6)
    # Dense: ternary (2-bit) input, binary kernel -> 2-bit MACs.
    assert dense.input_precision == 2 and dense.params == {1: 30, 32: 5} and dense.macs == {2: 30}

    assert profile.params_by_bits == {1: 458, 32: 83}
    assert profile.total_params == 541 == _model().count_params()
    assert profile.trainable_params == 533 and profile.non_trainable_params == 8
    assert profile.memory_bytes == 458 / 8 + 83 * 4
    assert profile.float32_memory_bytes == 541 * 4
    assert profile.compression_ratio == pytest.approx(541 * 4 / (458 / 8 + 83 * 4))
    assert profile.macs_by_bits == {1: 1184, 2: 30, 32: 3936}
    assert profile.binarized_mac_ratio == pytest.approx(1184 / 5150)

    text = printed[0]
    assert text == str(profile)
    assert 'Model: "small_bnn"' in text
    assert "quant_conv2d_1 (QuantConv2D)" in text or "(QuantConv2D)" in text
    assert "Ratio of MACs that are binarized: 0.2299" in text
    assert "# 2-bit" not in text and "2-bit MACs" in text


def test_nested_models_are_listed_layer_by_layer():
    inputs = keras.Input((6, 6, 3))
    nested = keras.Model(inputs, keras.layers.Dense(3)(_model()(inputs)))
    profile = lc.models.summary(nested, print_fn=lambda _: None)
    assert [layer.class_name for layer in profile.layers][-2:] == ["QuantDense", "Dense"]
    assert profile.macs_by_bits == {1: 1184, 2: 30, 32: 3936 + 15}
    assert profile.params_by_bits == {1: 458, 32: 83 + 18}


def test_summary_without_macs_and_of_unbuilt_model():
    profile = lc.models.summary(_model(), print_fn=lambda _: None, include_macs=False)
    assert profile.total_macs == 0 and profile.total_params == 541
    with pytest.raises(ValueError, match="not built"):
        lc.models.summary(keras.Sequential([lc.layers.QuantDense(3)]), print_fn=lambda _: None)
