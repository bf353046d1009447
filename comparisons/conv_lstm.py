"""Convolutional LSTMs beside Keras: ConvLSTM2D (and ConvLSTM1D, ConvLSTM3D).

- ``recurrent/conv_lstm2d``: ConvLSTM2D(return_sequences, "same") -> ConvLSTM2D(strides 2,
  go_backwards) -> Flatten -> Dense: outputs, loss and every gradient (backpropagation
  through time through both convolutions of the cell) against ``tf.GradientTape``.
- ``recurrent/conv_lstm1d_3d``: ConvLSTM1D and ConvLSTM3D (dilated / return_state layers)
  under a Dense: outputs, loss and every gradient.
- ``recurrent/conv_lstm_dropout``: ConvLSTM2D with ``dropout`` and ``recurrent_dropout``,
  Keras' cell handed minired's per-gate masks (its random draws cannot match): training
  outputs, δx and every gradient through the masks.
- ``recurrent/fit_conv_lstm2d``: ConvLSTM2D -> Flatten -> Dense trained 4 epochs with Adam
  from the same weights: History and final weights.
"""

from __future__ import annotations

import numpy as np

from comparisons.keras_env import keras, mr, precision
from comparisons.registry import Outcome, case
from comparisons.training import compare_fit

SHAPE = (3, 6, 6, 2)            # T, rows, cols, channels


def frames(dtype: str, n: int = 6, seed: int = 0, shape: tuple = SHAPE):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, *shape)).astype(dtype)
    y = np.sin(x.sum(axis=tuple(range(1, x.ndim))))[:, None].astype(dtype)
    return x, y


def step_outcome(model, dtype: str, x, y) -> Outcome:
    """Outputs, loss and every ∂L/∂w of ``model`` (compiled with mse) and its Keras twin
    ``to_keras(model)``."""
    from comparisons.common import tf
    from comparisons.mirror import to_keras

    twin = to_keras(model)
    loss, grads = model.loss_and_gradients(x, y)
    with tf.GradientTape() as tape:
        keras_loss = tf.reduce_mean(keras.losses.mean_squared_error(y, twin(x)))
    keras_grads = tape.gradient(keras_loss, twin.trainable_variables)
    names = [f"{layer.name}/{name}" for layer in model.unique_layers
             for name in _weight_names(layer)]
    return Outcome([("outputs", model.predict(x, verbose=0), twin.predict(x, verbose=0)),
                    ("loss", np.array(loss), keras_loss.numpy()),
                    *[(f"∂L/∂{name}", g, np.asarray(kg))
                      for name, g, kg in zip(names, grads, keras_grads, strict=True)]])


def _weight_names(layer) -> list[str]:
    if type(layer).__name__.startswith("ConvLSTM"):
        return ["kernel", "recurrent_kernel", "bias"][:len(layer.weights)]
    return ["kernel", "bias"][:len(layer.weights)]          # Dense


def _biases_away_from_zero(model) -> None:
    rng = np.random.default_rng(1)
    for layer in model.layers:
        if type(layer).__name__.startswith("ConvLSTM") and layer.use_bias:
            layer.bias[...] = rng.normal(0.0, 0.3, layer.bias.shape)


@case("recurrent", "conv_lstm2d")
def conv_lstm2d(dtype):
    """ConvLSTM2D(return_sequences, same) -> ConvLSTM2D(strides 2, go_backwards) -> Dense:
    outputs, loss and every gradient."""
    x, y = frames(dtype)
    with precision(dtype):
        model = mr.Sequential([
            mr.Input(SHAPE),
            mr.layers.ConvLSTM2D(3, 3, padding="same", return_sequences=True),
            mr.layers.ConvLSTM2D(2, (3, 2), strides=2, go_backwards=True),
            mr.layers.Flatten(), mr.layers.Dense(1)])
        model.compile(optimizer="sgd", loss="mse")
        _biases_away_from_zero(model)
        return step_outcome(model, dtype, x, y)


@case("recurrent", "conv_lstm1d_3d")
def conv_lstm1d_3d(dtype):
    """ConvLSTM1D(dilated, return_sequences) and ConvLSTM3D(return_state) models: outputs,
    loss and every gradient."""
    pairs = []
    with precision(dtype):
        x, y = frames(dtype, shape=(4, 9, 2), seed=2)
        model = mr.Sequential([
            mr.Input((4, 9, 2)),
            mr.layers.ConvLSTM1D(3, 3, dilation_rate=2, padding="same",
                                 return_sequences=True),
            mr.layers.ConvLSTM1D(2, 2, unit_forget_bias=False),
            mr.layers.Flatten(), mr.layers.Dense(1)])
        model.compile(optimizer="sgd", loss="mse")
        _biases_away_from_zero(model)
        pairs += [(f"1D {label}", a, b) for label, a, b in step_outcome(model, dtype, x, y)
                  .pairs]
        x, y = frames(dtype, shape=(2, 4, 4, 3, 2), seed=3)
        inputs = mr.Input((2, 4, 4, 3, 2))
        output, h, c = mr.layers.ConvLSTM3D(2, 2, return_state=True)(inputs)
        merged = mr.layers.Concatenate()([mr.layers.Flatten()(t) for t in (output, h, c)])
        model = mr.Model(inputs, mr.layers.Dense(1)(merged))
        model.compile(optimizer="sgd", loss="mse")
        _biases_away_from_zero(model)
        pairs += [(f"3D {label}", a, b) for label, a, b in step_outcome(model, dtype, x, y)
                  .pairs]
    return Outcome(pairs)


@case("recurrent", "conv_lstm_dropout")
def conv_lstm_dropout(dtype):
    """ConvLSTM2D(dropout, recurrent_dropout) in training: Keras' cell given minired's
    four input and four recurrent masks; outputs, δx and every weight gradient."""
    from comparisons.common import tf

    rng = np.random.default_rng(4)
    x = rng.normal(size=(4, *SHAPE)).astype(dtype)
    with precision(dtype):
        kwargs = {"dropout": 0.3, "recurrent_dropout": 0.4, "return_sequences": True,
                  "padding": "same"}
        layer = mr.layers.ConvLSTM2D(3, 3, seed=5, **kwargs)
        twin = keras.layers.ConvLSTM2D(3, 3, **kwargs)
        layer(x)
        twin(x)
        twin.set_weights(layer.get_weights())
        layer.zero_gradients()
        outputs = layer(x, training=True)
        upstream = rng.normal(size=outputs.shape).astype(dtype)
        grads = [layer.backward(upstream), *layer.gradients]
        masks = list(layer.cache.input_masks)
        recurrent_masks = list(layer.cache.recurrent_masks)
        twin.cell.get_dropout_mask = lambda _: masks
        twin.cell.get_recurrent_dropout_mask = lambda _: recurrent_masks
        variable = tf.Variable(x)
        with tf.GradientTape() as tape:
            theirs = twin(variable, training=True)
            loss = tf.reduce_sum(theirs * upstream)
        keras_grads = tape.gradient(loss, [variable, *twin.trainable_variables])
    names = ["δx", "∂L/∂kernel", "∂L/∂recurrent_kernel", "∂L/∂bias"]
    return Outcome([("training outputs", outputs, theirs.numpy()),
                    *[(name, g, np.asarray(kg))
                      for name, g, kg in zip(names, grads, keras_grads, strict=True)]])


@case("recurrent", "fit_conv_lstm2d", kind="training")
def fit_conv_lstm2d(dtype):
    """ConvLSTM2D -> Flatten -> Dense, 4 epochs of Adam: History and final weights."""
    x, y = frames(dtype, n=16, seed=6)
    with precision(dtype):
        model = mr.Sequential([mr.Input(SHAPE),
                               mr.layers.ConvLSTM2D(3, 3, padding="same"),
                               mr.layers.Flatten(), mr.layers.Dense(1)])
        model.compile(optimizer=mr.optimizers.Adam(0.01), loss="mse")
        return compare_fit(model, x, y, epochs=4, batch_size=4)
