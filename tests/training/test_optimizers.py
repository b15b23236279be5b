"""Bop and CaseOptimizer: exact update rule, routing, model.fit and configuration errors."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import larq_compute as lc
from larq_compute.optimizers import Bop, CaseOptimizer


def _binary_dense(units=6, **kwargs):
    return lc.layers.QuantDense(
        units, input_quantizer="ste_sign", kernel_quantizer="ste_sign",
        kernel_constraint="weight_clip", **kwargs,
    )


def test_bop_flips_exactly_where_the_moving_average_crosses_the_threshold():
    rng = np.random.default_rng(0)
    layer = _binary_dense(use_bias=False)
    layer.build((None, 40))
    w = np.where(rng.random((40, 6)) < 0.5, -1.0, 1.0).astype("float32")
    layer.kernel.assign(w)
    gamma, threshold = np.float32(0.3), np.float32(0.2)
    bop = Bop(threshold=float(threshold), gamma=float(gamma))
    m = np.zeros_like(w)
    total_flips = 0
    for _ in range(6):
        grad = rng.normal(0, 1, w.shape).astype("float32")
        bop.apply([tf.constant(grad)], [layer.kernel])
        m = m + gamma * (grad - m)
        flips = w * m > threshold
        w = np.where(flips, -w, w)
        total_flips += flips.sum()
        np.testing.assert_allclose(bop._moving_averages[0].numpy(), m, rtol=1e-6)
        np.testing.assert_array_equal(layer.kernel.numpy(), w)
    # The test is only meaningful if some weights flipped and others did not.
    assert 0 < total_flips < 6 * w.size


def test_bop_binarizes_latent_weights_and_keeps_others_in_place():
    layer = _binary_dense(units=2, use_bias=False)
    layer.build((None, 2))
    layer.kernel.assign([[0.3, -0.2], [0.0, -0.7]])
    bop = Bop(threshold=0.5, gamma=1.0)
    bop.apply([tf.constant([[0.6, -0.6], [0.1, 0.1]])], [layer.kernel])
    # w*m: 0.6 (flip), 0.6 (flip), 0.1, -0.1 -> only the first row flips; 0 counts as +1.
    np.testing.assert_array_equal(layer.kernel.numpy(), [[-1.0, 1.0], [1.0, -1.0]])


def test_bop_hyperparameters_can_be_set_and_serialized():
    bop = Bop(threshold=1e-5, gamma=1e-3)
    bop.gamma = 5e-4
    bop.threshold = 2e-5
    config = bop.get_config()
    assert config["gamma"] == pytest.approx(5e-4) and config["threshold"] == pytest.approx(2e-5)
    restored = Bop.from_config(config)
    assert float(restored.gamma) == pytest.approx(5e-4)
    schedule = keras.optimizers.schedules.ExponentialDecay(1e-3, 10, 0.5)
    restored = Bop.from_config(Bop(gamma=schedule).get_config())
    assert restored.get_config()["gamma"]["class_name"] == "ExponentialDecay"
    assert float(restored.gamma) == pytest.approx(1e-3)  # the schedule's value at step 0


def _model(binary=True):
    inputs = keras.Input((5,))
    x = keras.layers.Dense(8)(inputs)
    x = keras.layers.BatchNormalization()(x)
    x = _binary_dense(8)(x) if binary else keras.layers.Dense(8)(x)
    outputs = keras.layers.Dense(2)(x)
    return keras.Model(inputs, outputs)


def _case_optimizer():
    return CaseOptimizer((Bop.is_binary_variable, Bop(threshold=1e-6, gamma=1e-2)),
                         default_optimizer=keras.optimizers.Adam(0.01))


def test_case_optimizer_routes_binary_kernels_to_bop_in_fit(tmp_path):
    model = _model()
    optimizer = _case_optimizer()
    model.compile(optimizer, loss="mse")
    x = np.random.default_rng(1).normal(size=(64, 5)).astype("float32")
    y = np.random.default_rng(2).normal(size=(64, 2)).astype("float32")
    binary_layer = model.layers[3]
    float_before = model.layers[1].kernel.numpy().copy()
    model.fit(x, y, epochs=2, batch_size=16, verbose=0)
    bop, adam = optimizer.optimizers
    assert [v.path for v in bop._trainable_variables] == [binary_layer.kernel.path]
    assert binary_layer.kernel.path not in [v.path for v in adam._trainable_variables]
    assert set(np.unique(binary_layer.kernel.numpy())) <= {-1.0, 1.0}
    assert not np.array_equal(model.layers[1].kernel.numpy(), float_before)
    assert int(optimizer.iterations) == int(bop.iterations) == int(adam.iterations) == 8
    # The learning rate is the default optimizer's.
    optimizer.learning_rate = 0.005
    assert float(adam.learning_rate) == pytest.approx(0.005)
    # Save with the optimizer and keep training after loading.
    model.save(tmp_path / "bnn.keras")
    restored = keras.models.load_model(tmp_path / "bnn.keras")
    np.testing.assert_array_equal(model.predict(x, verbose=0), restored.predict(x, verbose=0))
    assert isinstance(restored.optimizer, CaseOptimizer)
    assert restored.optimizer.optimizers[0].get_config() == bop.get_config()
    restored.fit(x, y, epochs=1, batch_size=16, verbose=0)
    assert set(np.unique(restored.layers[3].kernel.numpy())) <= {-1.0, 1.0}


def test_bop_on_a_model_without_binary_weights_is_a_clear_error():
    model = _model(binary=False)
    model.compile(_case_optimizer(), loss="mse")
    with pytest.raises(ValueError, match=r"no trainable variable matches the predicate 'is_binary_variable' of optimizer 'Bop'.*no binary weights"):
        model.fit(np.zeros((4, 5)), np.zeros((4, 2)), verbose=0)


def test_bop_alone_on_float_variables_names_them():
    model = _model()
    model.compile(Bop(), loss="mse")
    with pytest.raises(ValueError, match=r"Bop only trains binary weights.*dense(_\d+)?/kernel.*batch_normalization"):
        model.fit(np.zeros((4, 5)), np.zeros((4, 2)), verbose=0)


def test_case_optimizer_argument_errors():
    with pytest.raises(ValueError, match="pairs"):
        CaseOptimizer(Bop())
    with pytest.raises(ValueError, match="default_optimizer"):
        CaseOptimizer((Bop.is_binary_variable, Bop()), default_optimizer="adam")
    optimizer = CaseOptimizer((Bop.is_binary_variable, Bop()))
    model = _model()
    with pytest.raises(ValueError, match=r"matches no predicate.*no `default_optimizer`"):
        optimizer.build(model.trainable_variables)
