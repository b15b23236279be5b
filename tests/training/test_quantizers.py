"""Quantizer forward values and pseudo-gradients against their definitions."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from larq_compute import quantizers as q


def _inputs(clip=1.0, seed=0):
    rng = np.random.default_rng(seed)
    edges = [0.0, -0.0, clip, -clip, np.nextafter(clip, 2 * clip), -np.nextafter(clip, 2 * clip)]
    return np.concatenate([rng.uniform(-2, 2, 200), edges]).astype("float32")


def _forward_and_gradient(quantizer, x):
    x = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = quantizer(x)
    return y.numpy(), tape.gradient(y, x).numpy()


def _sign(x):
    return np.where(x >= 0, 1.0, -1.0).astype("float32")


@pytest.mark.parametrize("clip", [1.0, 0.5])
def test_ste_sign(clip):
    x = _inputs(clip)
    y, g = _forward_and_gradient(q.SteSign(clip_value=clip), x)
    np.testing.assert_array_equal(y, _sign(x))
    np.testing.assert_array_equal(g, (np.abs(x) <= clip).astype("float32"))
    assert y[x == 0].tolist() == [1.0, 1.0]


def test_ste_sign_without_clip_passes_every_gradient():
    x = _inputs()
    _, g = _forward_and_gradient(q.SteSign(clip_value=None), x)
    np.testing.assert_array_equal(g, np.ones_like(x))


def test_approx_sign():
    x = _inputs()
    y, g = _forward_and_gradient(q.ApproxSign(), x)
    np.testing.assert_array_equal(y, _sign(x))
    np.testing.assert_allclose(g, np.where(np.abs(x) <= 1, 2 - 2 * np.abs(x), 0), rtol=1e-6)


@pytest.mark.parametrize("beta", [5.0, 2.0])
def test_swish_sign_gradient_is_derivative_of_signswish(beta):
    x = _inputs().astype("float64")
    y, g = _forward_and_gradient(q.SwishSign(beta=beta, dtype="float64"), x)
    np.testing.assert_array_equal(y, _sign(x))

    def signswish(v):
        s = 1 / (1 + np.exp(-beta * v))
        return 2 * s * (1 + beta * v * (1 - s)) - 1

    eps = 1e-6
    numeric = (signswish(x + eps) - signswish(x - eps)) / (2 * eps)
    np.testing.assert_allclose(g, numeric, rtol=1e-5, atol=1e-7)


def test_magnitude_aware_sign_scales_per_output_channel():
    rng = np.random.default_rng(1)
    w = rng.uniform(-1.5, 1.5, (3, 3, 4, 5)).astype("float32")
    y, g = _forward_and_gradient(q.MagnitudeAwareSign(), w)
    scale = np.abs(w).mean(axis=(0, 1, 2))
    np.testing.assert_allclose(y, scale * _sign(w), rtol=1e-6)
    np.testing.assert_allclose(g, scale * (np.abs(w) <= 1.0), rtol=1e-6)


def test_ste_heaviside():
    x = _inputs()
    y, g = _forward_and_gradient(q.SteHeaviside(), x)
    np.testing.assert_array_equal(y, (x > 0).astype("float32"))
    np.testing.assert_array_equal(g, (np.abs(x) <= 1.0).astype("float32"))


@pytest.mark.parametrize("threshold", [0.05, 0.3])
def test_ste_tern_fixed_threshold(threshold):
    x = np.concatenate([_inputs(), [threshold, -threshold]]).astype("float32")
    y, g = _forward_and_gradient(q.SteTern(threshold_value=threshold), x)
    t = np.float32(threshold)
    np.testing.assert_array_equal(y, np.where(x >= t, 1.0, np.where(x <= -t, -1.0, 0.0)))
    np.testing.assert_array_equal(g, (np.abs(x) <= 1.0).astype("float32"))


def test_ste_tern_ternary_weight_networks_threshold():
    x = _inputs()
    y, _ = _forward_and_gradient(q.SteTern(ternary_weight_networks=True), x)
    t = 0.7 * np.abs(x).mean()
    inside = np.abs(np.abs(x) - t) > 1e-5  # skip values within rounding of the threshold
    expected = np.where(x >= t, 1.0, np.where(x <= -t, -1.0, 0.0))
    np.testing.assert_array_equal(y[inside], expected[inside])
    assert set(np.unique(y)) == {-1.0, 0.0, 1.0}


@pytest.mark.parametrize("k_bit", [1, 2, 4])
def test_dorefa_activations(k_bit):
    x = _inputs()
    y, g = _forward_and_gradient(q.DoReFa(k_bit=k_bit, mode="activations"), x)
    n = 2**k_bit - 1
    np.testing.assert_allclose(y, np.round(np.clip(x, 0, 1) * n) / n, atol=1e-6)
    np.testing.assert_array_equal(g, ((x >= 0) & (x <= 1)).astype("float32"))
    assert q.DoReFa(k_bit=k_bit).precision == k_bit


def test_dorefa_weights():
    x = tf.constant(_inputs(), dtype="float64")
    quantizer = q.DoReFa(k_bit=3, mode="weights", dtype="float64")
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = quantizer(x)
    # Rounding is straight-through: the gradient is that of 2 * normalized - 1.
    with tf.GradientTape() as tape_ref:
        tape_ref.watch(x)
        t = tf.tanh(x)
        y_ref = 2 * (t / (2 * tf.reduce_max(tf.abs(t))) + 0.5) - 1
    t = np.tanh(x.numpy())
    expected = 2 * np.round((t / (2 * np.abs(t).max()) + 0.5) * 7) / 7 - 1
    np.testing.assert_allclose(y.numpy(), expected, atol=1e-12)
    np.testing.assert_allclose(tape.gradient(y, x), tape_ref.gradient(y_ref, x), rtol=1e-9)
    assert np.all(np.abs(y.numpy()) <= 1)


def test_noop_declares_precision_and_is_identity():
    x = _inputs()
    y, g = _forward_and_gradient(q.NoOp(precision=1), x)
    np.testing.assert_array_equal(y, x)
    np.testing.assert_array_equal(g, np.ones_like(x))
    assert q.NoOp(precision=1).precision == 1
    assert q.get("noop").precision == 32


def test_functions_match_classes():
    x = _inputs()
    for function, cls in [(q.ste_sign, q.SteSign), (q.approx_sign, q.ApproxSign), (q.ste_tern, q.SteTern)]:
        np.testing.assert_array_equal(function(tf.constant(x)), cls()(x))
        assert isinstance(q.get(function), cls)


@pytest.mark.parametrize(
    "alias, cls, precision",
    [
        ("ste_sign", q.SteSign, 1),
        ("approx_sign", q.ApproxSign, 1),
        ("swish_sign", q.SwishSign, 1),
        ("magnitude_aware_sign", q.MagnitudeAwareSign, 1),
        ("ste_heaviside", q.SteHeaviside, 1),
        ("ste_tern", q.SteTern, 2),
        ("dorefa_quantizer", q.DoReFa, 2),
        ("SteSign", q.SteSign, 1),
    ],
)
def test_aliases_and_precision(alias, cls, precision):
    quantizer = q.get(alias)
    assert isinstance(quantizer, cls)
    assert quantizer.precision == precision == q.precision_of(quantizer)


def test_serialization_round_trip_keeps_arguments():
    for quantizer in [
        q.SteSign(clip_value=0.25),
        q.SwishSign(beta=3.0),
        q.SteTern(threshold_value=0.2, ternary_weight_networks=True, clip_value=None),
        q.DoReFa(k_bit=3, mode="weights"),
        q.NoOp(precision=1),
    ]:
        restored = q.deserialize(q.serialize(quantizer))
        assert type(restored) is type(quantizer)
        assert restored.get_config() == quantizer.get_config()
        restored = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(quantizer))
        assert restored.precision == quantizer.precision


def test_larq_tf_keras_2_configs_deserialize():
    quantizer = q.get({"class_name": "SteSign", "config": {"clip_value": 0.5, "name": "s", "trainable": True, "dtype": "float32"}})
    assert isinstance(quantizer, q.SteSign) and quantizer.clip_value == 0.5
    assert q.get({"class_name": "DoReFaQuantizer", "config": {"k_bit": 3, "mode": "weights"}}).precision == 3


def test_unknown_name_is_a_clear_error():
    with pytest.raises(ValueError, match=r"Unknown quantizer 'ste_sgn' for `kernel_quantizer` of layer 'conv'"):
        q.get("ste_sgn", argument="kernel_quantizer", layer="conv")
    with pytest.raises(ValueError, match="mode"):
        q.DoReFa(mode="weight")
    with pytest.raises(ValueError, match="k_bit"):
        q.DoReFa(k_bit=0)
    with pytest.raises(ValueError, match="precision"):
        q.NoOp(precision=0)
    with pytest.raises(ValueError, match="Could not interpret"):
        q.get(3.5, argument="input_quantizer", layer="dense")


def test_activations():
    from larq_compute import activations

    x = np.array([-3.0, -1.0, -0.5, 0.0, 0.5, 1.0, 3.0], "float32")
    np.testing.assert_array_equal(activations.hard_tanh(x), np.clip(x, -1, 1))
    expected = np.clip(x, -1, 1) + 0.2 * (x - np.clip(x, -1, 1))
    np.testing.assert_allclose(activations.leaky_tanh(x), expected, rtol=1e-6)
    layer = keras.layers.Activation(activations.hard_tanh)
    assert keras.layers.Activation.from_config(layer.get_config()).activation is activations.hard_tanh
