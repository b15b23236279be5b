"""End-to-end training: a small BNN on scikit-learn's digits, metrics and callbacks."""

import keras
import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

import larq_compute as lc


def _digits():
    x, y = load_digits(return_X_y=True)
    x = (x / 8.0 - 1.0).reshape(-1, 8, 8, 1).astype("float32")
    return train_test_split(x, y, test_size=0.25, random_state=0, stratify=y)


def _bnn():
    """Float first and last layers, binary convolutions in between (the usual BNN layout)."""
    binary = dict(input_quantizer="ste_sign", kernel_quantizer="ste_sign", kernel_constraint="weight_clip",
                  use_bias=False, padding="same", pad_values=1.0)
    inputs = keras.Input((8, 8, 1))
    x = keras.layers.Conv2D(32, 3, padding="same", use_bias=False)(inputs)
    x = keras.layers.BatchNormalization()(x)
    x = lc.layers.QuantConv2D(64, 3, **binary)(x)
    x = keras.layers.BatchNormalization()(x)
    x = lc.layers.QuantConv2D(64, 3, **binary)(x)
    x = keras.layers.BatchNormalization()(x)
    x = keras.layers.MaxPool2D()(x)
    x = keras.layers.Flatten()(x)
    outputs = keras.layers.Dense(10, activation="softmax")(x)
    return keras.Model(inputs, outputs)


def test_bnn_on_digits_reaches_90_percent():
    keras.utils.set_random_seed(0)
    x_train, x_test, y_train, y_test = _digits()
    model = _bnn()
    bop = lc.optimizers.Bop(threshold=1e-6, gamma=1e-3)
    optimizer = lc.optimizers.CaseOptimizer(
        (lc.optimizers.Bop.is_binary_variable, bop), default_optimizer=keras.optimizers.Adam(0.005)
    )
    model.compile(optimizer, "sparse_categorical_crossentropy", metrics=["accuracy"])
    scheduler = lc.callbacks.HyperparameterScheduler(lambda epoch: 1e-3 * 0.9**epoch, "gamma", bop)
    history = model.fit(x_train, y_train, epochs=8, batch_size=64, verbose=0, callbacks=[scheduler])
    _, accuracy = model.evaluate(x_test, y_test, verbose=0)
    print(f"digits BNN test accuracy: {accuracy:.4f}")
    assert accuracy >= 0.90, accuracy
    assert history.history["gamma"] == pytest.approx([1e-3 * 0.9**e for e in range(8)])
    for layer in model.layers:
        if isinstance(layer, lc.layers.QuantConv2D):
            assert set(np.unique(layer.kernel.numpy())) == {-1.0, 1.0}
    profile = lc.models.summary(model, print_fn=lambda _: None)
    assert profile.binarized_mac_ratio > 0.9


def test_flip_ratio_metric_counts_changed_values():
    metric = lc.metrics.FlipRatio()
    metric.update_state(np.array([1, 1, -1, -1], "float32"))
    assert float(metric.result()) == 0.0  # first update only records
    metric.update_state(np.array([1, -1, -1, 1], "float32"))
    assert float(metric.result()) == pytest.approx(0.5)
    metric.update_state(np.array([1, -1, -1, -1], "float32"))
    assert float(metric.result()) == pytest.approx((0.5 + 0.25) / 2)
    metric.reset_state()
    metric.update_state(np.array([1, -1, -1, -1], "float32"))
    assert float(metric.result()) == 0.0  # compared with the values before the reset


def test_flip_ratio_is_logged_during_fit_and_zero_without_updates():
    quantizer = lc.quantizers.SteSign(metrics=["flip_ratio"], name="kernel_sign")
    inputs = keras.Input((4,))
    outputs = lc.layers.QuantDense(3, kernel_quantizer=quantizer, kernel_constraint="weight_clip")(inputs)
    model = keras.Model(inputs, outputs)
    model.compile(keras.optimizers.SGD(0.0), "mse")
    history = model.fit(np.ones((8, 4)), np.ones((8, 3)), epochs=2, batch_size=4, verbose=0)
    assert history.history["flip_ratio/kernel_sign"] == [0.0, 0.0]
    model.compile(keras.optimizers.SGD(10.0), "mse")
    history = model.fit(np.ones((8, 4)), -np.ones((8, 3)), epochs=1, batch_size=4, verbose=0)
    assert history.history["flip_ratio/kernel_sign"][0] > 0
    with lc.context.metrics_scope(["flip_ratio"]):
        assert lc.quantizers.SteSign()._custom_metrics == ["flip_ratio"]
    with pytest.raises(ValueError, match="unknown metrics"):
        lc.quantizers.SteSign(metrics=["flips"])


def test_hyperparameter_scheduler_errors():
    with pytest.raises(ValueError, match="has no hyperparameter 'beta'"):
        lc.callbacks.HyperparameterScheduler(lambda e: 1.0, "beta", lc.optimizers.Bop())
    with pytest.raises(ValueError, match="update_freq"):
        lc.callbacks.HyperparameterScheduler(lambda e: 1.0, "gamma", lc.optimizers.Bop(), update_freq="batch")
