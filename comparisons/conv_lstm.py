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
- ``recurrent/conv_lstm_masked``: Masking -> ConvLSTM2D(return_sequences, go_backwards) ->
  Bidirectional(ConvLSTM2D, "concat") -> Flatten -> Dense on frames padded whole and pixel by
  pixel (a mask per position reaching both layers): outputs, loss and every gradient.
- ``recurrent/bidirectional_conv_lstm_mask``: Bidirectional(ConvLSTM1D, "mul",
  return_sequences, return_state) called with a time mask and initial states: outputs,
  states, δx, every δs_0 and every weight gradient against ``tf.GradientTape``.
- ``recurrent/fit_conv_lstm_masked``: the masked model trained 4 epochs with Adam: History
  and final weights.
"""

from __future__ import annotations

import numpy as np

from comparisons.keras_env import keras, mr, precision
from comparisons.recurrent import step_outcome
from comparisons.registry import Outcome, case
from comparisons.training import compare_fit

SHAPE = (3, 6, 6, 2)            # T, rows, cols, channels


def frames(dtype: str, n: int = 6, seed: int = 0, shape: tuple = SHAPE):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, *shape)).astype(dtype)
    y = np.sin(x.sum(axis=tuple(range(1, x.ndim))))[:, None].astype(dtype)
    return x, y


def _biases_away_from_zero(model) -> None:
    rng = np.random.default_rng(1)
    for layer in model.layers:
        sides = ((layer.forward_layer, layer.backward_layer)
                 if type(layer).__name__ == "Bidirectional" else (layer,))
        for side in sides:
            if type(side).__name__.startswith("ConvLSTM") and side.use_bias:
                side.bias[...] = rng.normal(0.0, 0.3, side.bias.shape)


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


def padded_frames(dtype: str, n: int = 6, seed: int = 7):
    """Frames with padding (zeros, Masking's value): whole frames at the end and at the
    start of a sequence, and some pixels of one frame."""
    x, y = frames(dtype, n=n, seed=seed)
    x[0, 2:], x[1, :1], x[2, 1, :3, :2] = 0, 0, 0
    return x, y


def masked_model(library):
    """Masking -> ConvLSTM2D(same, sequences, backwards) -> Bidirectional(ConvLSTM2D(same),
    concat) -> Flatten -> Dense, the same names in both libraries."""
    layers = library.layers
    return library.Sequential([
        library.Input(SHAPE), layers.Masking(0.0, name="masking"),
        layers.ConvLSTM2D(3, 3, padding="same", return_sequences=True, go_backwards=True,
                          name="clstm"),
        layers.Bidirectional(layers.ConvLSTM2D(2, (2, 3), padding="same", name="inner"),
                             merge_mode="concat", name="bi"),
        layers.Flatten(name="flatten"), layers.Dense(1, name="dense")])


def masked_pair(dtype: str):
    """The masked model in both libraries, the same weights (biases away from zero)."""
    model, twin = masked_model(mr), masked_model(keras)
    _biases_away_from_zero(model)
    twin.set_weights(model.get_weights())
    return model, twin


@case("recurrent", "conv_lstm_masked")
def conv_lstm_masked(dtype):
    """Masking -> ConvLSTM2D -> Bidirectional(ConvLSTM2D) -> Dense on padded frames:
    outputs, loss and every gradient."""
    x, y = padded_frames(dtype)
    with precision(dtype):
        model, twin = masked_pair(dtype)
        model.compile(optimizer="sgd", loss="mse")
        return step_outcome(model, dtype, x, y, twin=twin)


@case("recurrent", "bidirectional_conv_lstm_mask")
def bidirectional_conv_lstm_mask(dtype):
    """Bidirectional(ConvLSTM1D, mul, sequences, states) with a time mask and initial
    states: outputs, states, δx, δs_0 and every weight gradient."""
    from comparisons.common import tf

    rng = np.random.default_rng(9)
    x = rng.normal(size=(5, 4, 7, 2)).astype(dtype)
    mask = np.ones((5, 4), dtype=bool)
    mask[0, 3:], mask[1, :2], mask[2, 1::2], mask[4] = False, False, False, False
    states = [rng.normal(size=(5, 7, 2)).astype(dtype) for _ in range(4)]
    with precision(dtype):
        options = {"padding": "same", "return_sequences": True, "return_state": True}
        layer = mr.layers.Bidirectional(mr.layers.ConvLSTM1D(2, 3, **options), merge_mode="mul")
        twin = keras.layers.Bidirectional(keras.layers.ConvLSTM1D(2, 3, **options),
                                          merge_mode="mul")
        layer(x)
        twin(x)
        layer.set_weights([rng.normal(0.0, 0.5, w.shape).astype(dtype)
                           for w in layer.get_weights()])
        twin.set_weights(layer.get_weights())
        layer.zero_gradients()
        outputs = layer(x, initial_state=states, mask=mask)
        upstream = [rng.normal(size=o.shape).astype(dtype) for o in outputs]
        grads = [*layer.backward(upstream), *layer.gradients]
        variables = [tf.Variable(a) for a in (x, *states)]
        with tf.GradientTape() as tape:
            theirs = twin(variables[0], initial_state=variables[1:], mask=tf.constant(mask))
            loss = sum(tf.reduce_sum(o * u) for o, u in zip(theirs, upstream, strict=True))
        keras_grads = tape.gradient(loss, [*variables, *twin.trainable_variables])
    output_names = ["output", "h_forward", "c_forward", "h_backward", "c_backward"]
    grad_names = ["δx", "δh_0 forward", "δc_0 forward", "δh_0 backward", "δc_0 backward",
                  *[f"∂L/∂{side} {name}" for side in ("forward", "backward")
                    for name in ("kernel", "recurrent_kernel", "bias")]]
    return Outcome([*[(name, a, np.asarray(b)) for name, a, b in zip(output_names, outputs,
                                                                        theirs, strict=True)],
                    *[(name, g, np.asarray(kg)) for name, g, kg in zip(grad_names, grads,
                                                                         keras_grads,
                                                                         strict=True)]])


@case("recurrent", "fit_conv_lstm_masked", kind="training")
def fit_conv_lstm_masked(dtype):
    """The masked model (Masking -> ConvLSTM2D -> Bidirectional(ConvLSTM2D) -> Dense),
    4 epochs of Adam: History and final weights."""
    x, y = padded_frames(dtype, n=12, seed=10)
    with precision(dtype):
        model, twin = masked_pair(dtype)
        model.compile(optimizer=mr.optimizers.Adam(0.01), loss="mse")
        twin.compile(optimizer=keras.optimizers.Adam(0.01), loss="mse")
        return compare_fit(model, x, y, keras_model=twin, epochs=4, batch_size=4)
