"""to_keras / from_keras: a model crosses to Keras and back unchanged."""

import numpy as np
import pytest

pytest.importorskip("keras")

from comparisons.keras_env import keras, mr  # noqa: E402
from comparisons.mirror import from_keras, to_keras  # noqa: E402


def _model():
    mr.utils.set_random_seed(3)
    model = mr.Sequential([
        mr.Input((5,)),
        mr.layers.Dense(7, activation="relu", kernel_regularizer=mr.regularizers.L2(0.02),
                        bias_regularizer=mr.regularizers.L1(0.01),
                        kernel_initializer=mr.initializers.HeNormal(seed=1)),
        mr.layers.Dropout(0.25, seed=4),
        mr.layers.Dense(4, use_bias=False),
        mr.layers.Activation("softmax"),
    ])
    model.compile(optimizer=mr.optimizers.Adam(learning_rate=0.01, amsgrad=True, clipnorm=1.0),
                  loss=mr.losses.CategoricalCrossentropy(label_smoothing=0.1),
                  metrics=["accuracy"])
    return model


def test_to_keras_copies_structure_weights_and_compile():
    model = _model()
    keras_model = to_keras(model)
    assert [type(layer).__name__ for layer in keras_model.layers] == [
        "Dense", "Dropout", "Dense", "Activation"]
    for ours, theirs in zip(model.get_weights(), keras_model.get_weights(), strict=True):
        np.testing.assert_array_equal(ours, theirs)
    dense = keras_model.layers[0]
    assert dense.activation.__name__ == "relu"
    assert float(dense.kernel_regularizer.l2) == pytest.approx(0.02)
    assert float(dense.bias_regularizer.l1) == pytest.approx(0.01)
    assert keras_model.layers[1].rate == 0.25
    optimizer = keras_model.optimizer
    assert type(optimizer).__name__ == "Adam"
    assert optimizer.amsgrad is True and optimizer.clipnorm == 1.0
    assert float(optimizer.learning_rate) == pytest.approx(0.01)
    assert keras_model.loss.get_config()["label_smoothing"] == pytest.approx(0.1)
    x = np.random.default_rng(0).standard_normal((6, 5)).astype("float32")
    np.testing.assert_allclose(model.predict(x, verbose=0), keras_model.predict(x, verbose=0),
                               rtol=1e-5, atol=1e-7)


def test_round_trip_keeps_everything():
    model = _model()
    back = from_keras(to_keras(model))
    assert [type(layer).__name__ for layer in back.layers] == [
        type(layer).__name__ for layer in model.layers]
    for ours, theirs in zip(model.get_weights(), back.get_weights(), strict=True):
        np.testing.assert_array_equal(ours, theirs)
    assert back.layers[0].kernel_regularizer.get_config() == pytest.approx(
        model.layers[0].kernel_regularizer.get_config())
    assert type(back.optimizer).__name__ == "Adam"
    assert back.optimizer.get_config()["amsgrad"] is True
    assert back.optimizer.get_config()["clipnorm"] == 1.0
    assert back.loss.label_smoothing == pytest.approx(0.1)
    assert back.layers[1].rate == 0.25 and back.layers[1].seed == 4


def test_from_keras_of_a_keras_built_model():
    keras_model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(4, activation="tanh"),
                                    keras.layers.Dense(2, activation="sigmoid")])
    keras_model.compile(optimizer=keras.optimizers.SGD(0.05, momentum=0.9, nesterov=True),
                        loss="binary_crossentropy")
    model = from_keras(keras_model)
    x = np.random.default_rng(1).standard_normal((5, 3)).astype("float32")
    np.testing.assert_allclose(model.predict(x, verbose=0), keras_model.predict(x, verbose=0),
                               rtol=1e-5, atol=1e-7)
    config = model.optimizer.get_config()
    assert config["momentum"] == pytest.approx(0.9) and config["nesterov"] is True
    assert isinstance(model.loss, mr.losses.BinaryCrossentropy)


def test_from_keras_names_what_it_cannot_map():
    keras_model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(4, activation="elu")])
    with pytest.raises(ValueError, match="activation 'elu'"):
        from_keras(keras_model)
    keras_model = keras.Sequential([keras.Input((3, 1)), keras.layers.Conv1D(2, 2)])
    with pytest.raises(ValueError, match="Conv1D"):
        from_keras(keras_model)
    keras_model = keras.Sequential([keras.Input((3,)),
                                    keras.layers.Dense(4, kernel_constraint="non_neg")])
    with pytest.raises(ValueError, match="kernel_constraint"):
        from_keras(keras_model)


def test_to_keras_needs_a_built_minired_model():
    with pytest.raises(ValueError, match="build"):
        to_keras(mr.Sequential([mr.layers.Dense(2)]))
    with pytest.raises(TypeError, match="Sequential"):
        to_keras("model")
