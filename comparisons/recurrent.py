"""Recurrent layers beside Keras: LSTM, GRU (both reset forms) and SimpleRNN.

- ``recurrent/lstm``, ``recurrent/gru``, ``recurrent/gru_reset_before``,
  ``recurrent/simple_rnn``: a stack of two layers of one kind (the first returning its
  sequence, the second reading it backwards) under a Dense; outputs, loss and every
  gradient (backpropagation through time) against ``tf.GradientTape``.
- ``recurrent/return_state``: a functional model reading an LSTM's final ``h`` and ``c``
  and a GRU's state: outputs and gradients.
- ``recurrent/bidirectional``: Bidirectional(LSTM) concatenated, then Bidirectional(GRU)
  averaged: outputs, loss and gradients.
- ``recurrent/mask``: an LSTM and a Bidirectional(GRU) given an explicit mask of the time
  steps (padding at the end, at the start, scattered, a whole sequence): outputs and
  gradients (a padding step keeps the states).
- ``recurrent/fit_stacked``: LSTM -> GRU -> SimpleRNN -> Dense trained 5 epochs with Adam.
- ``recurrent/fit_text``: the keras-io text pattern, Embedding -> LSTM -> Dense(sigmoid),
  binary cross-entropy, trained with SGD with momentum.
- ``recurrent/fit_masked_text``: the same on padded sequences, ``Embedding(mask_zero=True)``
  feeding Bidirectional(LSTM) -> GRU (the mask passed from layer to layer).
- ``recurrent/seq2seq``: keras-io's character-level encoder-decoder (the encoder LSTM's
  ``[h, c]`` as the decoder LSTM's ``initial_state``): outputs, loss, every gradient, and
  the inference encoder/decoder models decoding step by step.
- ``recurrent/fit_seq2seq``: the same model trained 4 epochs with RMSprop (History, final
  weights), made into Keras by ``to_keras`` (which replays ``initial_state``).
- ``recurrent/recurrent_dropout``: ``dropout`` and ``recurrent_dropout`` in LSTM, GRU (both
  reset forms) and SimpleRNN, Keras' cell handed minired's masks (its random draws cannot
  match): training outputs, δx and every gradient through the masks; inference outputs.
- ``recurrent/rnn_cells``: ``RNN(LSTMCell)`` -> ``RNN([GRUCell, SimpleRNNCell],
  go_backwards)`` -> ``RNN(a cell of your own written with ops)`` -> Dense: outputs, loss
  and every gradient (the cells' hand-written steps, and the tape through the loop of
  the custom cell).
- ``recurrent/rnn_cells_states``: ``RNN([LSTMCell, GRUCell], return_state)``, its nested
  states ``[[h, c], h]`` the ``initial_state`` of a second stack, then
  ``Bidirectional(RNN(LSTMCell), return_state)``: outputs, loss and every gradient.
- ``recurrent/stateful``: stateful LSTM -> GRU -> SimpleRNN (``Input(batch_shape=...)``):
  predictions and carried states over two predict calls, after ``reset_states``, and
  through 3 epochs of ``fit`` with ``shuffle=False`` (History, final weights and states).
"""

from __future__ import annotations

import numpy as np

from comparisons.keras_env import keras, mr, precision
from comparisons.registry import Outcome, case
from comparisons.training import compare_fit

STEPS, FEATURES = 7, 3


def sequences(dtype: str, n: int = 10, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, STEPS, FEATURES)).astype(dtype)
    y = (np.sin(x.sum(axis=(1, 2)))[:, None]).astype(dtype)       # depends on every step
    return x, y


def step_outcome(model, dtype: str, x, y, twin=None) -> Outcome:
    """Outputs, loss and every ∂L/∂w of ``model`` (compiled with mse) and its Keras twin
    (by default ``to_keras(model)``)."""
    from comparisons.common import tf
    from comparisons.mirror import to_keras

    twin = to_keras(model) if twin is None else twin
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
    names = {"LSTM": ["kernel", "recurrent_kernel", "bias"],
             "GRU": ["kernel", "recurrent_kernel", "bias"],
             "SimpleRNN": ["kernel", "recurrent_kernel", "bias"],
             "Dense": ["kernel", "bias"], "Embedding": ["embeddings"],
             **dict.fromkeys(("ConvLSTM1D", "ConvLSTM2D", "ConvLSTM3D"),
                             ["kernel", "recurrent_kernel", "bias"])}
    if type(layer).__name__ == "RNN":
        return [f"weight {i}" for i in range(len(layer.weights))]
    if type(layer).__name__ == "Bidirectional":
        return [f"{direction}/{name}" for direction in ("forward", "backward")
                for name in _weight_names(getattr(layer, f"{direction}_layer"))]
    return names.get(type(layer).__name__, [])[:len(layer.weights)]


def two_layer_step(dtype: str, make) -> Outcome:
    x, y = sequences(dtype)
    with precision(dtype):
        model = mr.Sequential([mr.Input((STEPS, FEATURES)),
                               make(5, return_sequences=True),
                               make(4, go_backwards=True), mr.layers.Dense(1)])
        model.compile(optimizer="sgd", loss="mse")
        for layer in model.layers[:2]:      # biases away from zero: every term counts
            rng = np.random.default_rng(1)
            layer.bias[...] = rng.normal(0.0, 0.3, layer.bias.shape)
        return step_outcome(model, dtype, x, y)


@case("recurrent", "lstm")
def lstm(dtype):
    """LSTM(return_sequences) -> LSTM(go_backwards) -> Dense: outputs, loss, every gradient."""
    return two_layer_step(dtype, mr.layers.LSTM)


@case("recurrent", "gru")
def gru(dtype):
    """GRU (reset_after=True, Keras 3's default) stacked twice: outputs, loss, gradients."""
    return two_layer_step(dtype, mr.layers.GRU)


@case("recurrent", "gru_reset_before")
def gru_reset_before(dtype):
    """GRU(reset_after=False), the reset gate before the product with U: the same checks."""
    return two_layer_step(dtype, lambda units, **kw: mr.layers.GRU(units, reset_after=False,
                                                                   **kw))


@case("recurrent", "simple_rnn")
def simple_rnn(dtype):
    """SimpleRNN stacked twice: outputs, loss, every gradient."""
    return two_layer_step(dtype, mr.layers.SimpleRNN)


@case("recurrent", "return_state")
def return_state(dtype):
    """A functional model that reads an LSTM's h and c and a GRU's state: the states'
    gradients flow back through time too."""
    x, y = sequences(dtype, seed=2)
    with precision(dtype):
        inputs = mr.Input((STEPS, FEATURES))
        sequence, h, c = mr.layers.LSTM(4, return_sequences=True, return_state=True)(inputs)
        _, state = mr.layers.GRU(3, return_state=True)(sequence)
        merged = mr.layers.Concatenate()([state, h, c])
        model = mr.Model(inputs, mr.layers.Dense(1)(merged))
        model.compile(optimizer="sgd", loss="mse")
        return step_outcome(model, dtype, x, y)


@case("recurrent", "bidirectional")
def bidirectional(dtype):
    """Bidirectional(LSTM, concat) -> Bidirectional(GRU, ave) -> Dense: outputs, loss and
    every gradient (the backward layer's sequence flipped back before the merge)."""
    x, y = sequences(dtype, seed=5)
    with precision(dtype):
        model = mr.Sequential([
            mr.Input((STEPS, FEATURES)),
            mr.layers.Bidirectional(mr.layers.LSTM(4, return_sequences=True)),
            mr.layers.Bidirectional(mr.layers.GRU(3), merge_mode="ave"), mr.layers.Dense(1)])
        model.compile(optimizer="sgd", loss="mse")
        return step_outcome(model, dtype, x, y)


@case("recurrent", "mask")
def mask(dtype):
    """LSTM(return_sequences) and Bidirectional(GRU) called with an explicit time mask:
    outputs, δx and every weight gradient against tf.GradientTape."""
    from comparisons.common import tf

    rng = np.random.default_rng(6)
    x = rng.normal(size=(5, STEPS, FEATURES)).astype(dtype)
    keep = np.ones((5, STEPS), dtype=bool)
    keep[0, 4:], keep[1, :2], keep[2] = False, False, rng.random(STEPS) < 0.5
    keep[4] = False
    pairs = []
    with precision(dtype):
        for label, layer, twin in (
                ("LSTM", mr.layers.LSTM(4, return_sequences=True),
                 keras.layers.LSTM(4, return_sequences=True)),
                ("Bidirectional(GRU)", mr.layers.Bidirectional(mr.layers.GRU(3)),
                 keras.layers.Bidirectional(keras.layers.GRU(3)))):
            layer(x)
            twin(x)
            twin.set_weights(layer.get_weights())
            upstream = rng.normal(size=layer(x).shape).astype(dtype)
            layer.zero_gradients()
            outputs = layer(x, mask=keep)
            grads = [layer.backward(upstream), *layer.gradients]
            variable = tf.Variable(x)
            with tf.GradientTape() as tape:
                theirs = twin(variable, mask=tf.constant(keep))
                loss = tf.reduce_sum(theirs * upstream)
            keras_grads = tape.gradient(loss, [variable, *twin.trainable_variables])
            pairs.append((f"{label} outputs", outputs, theirs.numpy()))
            pairs += [(f"{label} gradient {i}", g, np.asarray(kg))
                      for i, (g, kg) in enumerate(zip(grads, keras_grads, strict=True))]
    return Outcome(pairs)


@case("recurrent", "fit_stacked", kind="training")
def fit_stacked(dtype):
    """LSTM -> GRU -> SimpleRNN -> Dense, 5 epochs of Adam: History and final weights."""
    x, y = sequences(dtype, n=32, seed=3)
    with precision(dtype):
        model = mr.Sequential([mr.Input((STEPS, FEATURES)),
                               mr.layers.LSTM(6, return_sequences=True),
                               mr.layers.GRU(5, return_sequences=True),
                               mr.layers.SimpleRNN(4), mr.layers.Dense(1)])
        model.compile(optimizer=mr.optimizers.Adam(0.01), loss="mse")
        return compare_fit(model, x, y, epochs=5, batch_size=8)


@case("recurrent", "fit_text", kind="training")
def fit_text(dtype):
    """Embedding -> LSTM -> Dense(sigmoid), binary cross-entropy, SGD(momentum) for 5 epochs
    (the keras-io text classification pattern, on random word ids)."""
    rng = np.random.default_rng(4)
    x = rng.integers(0, 20, size=(32, 9))
    y = (x[:, :3].sum(axis=1) > 28).astype(dtype)[:, None]
    with precision(dtype):
        model = mr.Sequential([mr.Input((9,), dtype="int32"), mr.layers.Embedding(20, 6),
                               mr.layers.LSTM(5), mr.layers.Dense(1, activation="sigmoid")])
        model.compile(optimizer=mr.optimizers.SGD(0.1, momentum=0.9),
                      loss="binary_crossentropy", metrics=["accuracy"])
        twin = keras.Sequential([keras.Input((9,), dtype="int32"),
                                 keras.layers.Embedding(20, 6), keras.layers.LSTM(5),
                                 keras.layers.Dense(1, activation="sigmoid")])
        twin.set_weights(model.get_weights())
        twin.compile(optimizer=keras.optimizers.SGD(0.1, momentum=0.9),
                     loss="binary_crossentropy", metrics=["accuracy"])
        return compare_fit(model, x, y, keras_model=twin, epochs=5, batch_size=8)


@case("recurrent", "fit_masked_text", kind="training")
def fit_masked_text(dtype):
    """Embedding(mask_zero=True) -> Bidirectional(LSTM) -> GRU -> Dense(sigmoid) on padded
    word ids (padding at the end, at the start, scattered): the mask reaches both recurrent
    layers; 5 epochs of SGD with momentum."""
    rng = np.random.default_rng(7)
    x = rng.integers(1, 20, size=(24, 9))
    lengths = rng.integers(2, 10, size=24)
    x[np.arange(9)[None, :] >= lengths[:, None]] = 0        # padded at the end
    x[0, :3], x[1, ::2] = 0, 0
    y = (x[:, 0] > 10).astype(dtype)[:, None]

    def build(library):
        layers = library.layers
        return library.Sequential([
            library.Input((9,), dtype="int32"), layers.Embedding(20, 6, mask_zero=True),
            layers.Bidirectional(layers.LSTM(4, return_sequences=True)), layers.GRU(3),
            layers.Dense(1, activation="sigmoid")])

    with precision(dtype):
        model, twin = build(mr), build(keras)
        twin.set_weights(model.get_weights())
        model.compile(optimizer=mr.optimizers.SGD(0.1, momentum=0.9),
                      loss="binary_crossentropy")
        twin.compile(optimizer=keras.optimizers.SGD(0.1, momentum=0.9),
                     loss="binary_crossentropy")
        return compare_fit(model, x, y, keras_model=twin, epochs=5, batch_size=8)


ENCODER_TOKENS, DECODER_TOKENS, LATENT = 5, 7, 8


def seq2seq_model(library):
    """keras-io's training model; returns it and what its inference models are built from."""
    encoder_inputs = library.Input(shape=(None, ENCODER_TOKENS))
    encoder = library.layers.LSTM(LATENT, return_state=True)
    _, state_h, state_c = encoder(encoder_inputs)
    encoder_states = [state_h, state_c]
    decoder_inputs = library.Input(shape=(None, DECODER_TOKENS))
    decoder_lstm = library.layers.LSTM(LATENT, return_sequences=True, return_state=True)
    decoder_outputs, _, _ = decoder_lstm(decoder_inputs, initial_state=encoder_states)
    decoder_dense = library.layers.Dense(DECODER_TOKENS, activation="softmax")
    model = library.Model([encoder_inputs, decoder_inputs], decoder_dense(decoder_outputs))
    return model, (encoder_inputs, encoder_states, decoder_lstm, decoder_dense)


def seq2seq_inference(library, parts):
    """keras-io's inference models: the encoder, and a decoder taking the states as inputs."""
    encoder_inputs, encoder_states, decoder_lstm, decoder_dense = parts
    encoder_model = library.Model(encoder_inputs, encoder_states)
    decoder_inputs = library.Input(shape=(None, DECODER_TOKENS))
    states_inputs = [library.Input(shape=(LATENT,)), library.Input(shape=(LATENT,))]
    outputs, state_h, state_c = decoder_lstm(decoder_inputs, initial_state=states_inputs)
    decoder_model = library.Model([decoder_inputs] + states_inputs,
                                  [decoder_dense(outputs), state_h, state_c])
    return encoder_model, decoder_model


def seq2seq_data(dtype: str, n: int, seed: int):
    """Random one-hot sequences: 6 encoder steps, 5 decoder steps (teacher forcing)."""
    rng = np.random.default_rng(seed)
    encoder_x = np.eye(ENCODER_TOKENS, dtype=dtype)[rng.integers(0, ENCODER_TOKENS, (n, 6))]
    targets = rng.integers(0, DECODER_TOKENS, size=(n, 5))
    starts = np.concatenate([np.zeros((n, 1), int), targets[:, :-1]], axis=1)
    eye = np.eye(DECODER_TOKENS, dtype=dtype)
    return [encoder_x, eye[starts]], eye[targets]


@case("recurrent", "seq2seq")
def seq2seq(dtype):
    """keras-io's seq2seq LSTM (initial_state from the encoder): outputs, loss, gradients,
    and 4 steps of the inference encoder/decoder models."""
    from comparisons.common import tf

    x, y = seq2seq_data(dtype, n=8, seed=8)
    with precision(dtype):
        model, parts = seq2seq_model(mr)
        twin, twin_parts = seq2seq_model(keras)
        twin.set_weights(model.get_weights())
        model.compile(optimizer="sgd", loss="categorical_crossentropy")
        loss, grads = model.loss_and_gradients(x, y)
        with tf.GradientTape() as tape:
            predictions = twin(x)
            keras_loss = tf.reduce_mean(keras.losses.categorical_crossentropy(y, predictions))
        keras_grads = tape.gradient(keras_loss, twin.trainable_variables)
        names = [f"{layer.name}/{name}" for layer in model.unique_layers
                 for name in _weight_names(layer)]
        pairs = [("outputs", model.predict(x, verbose=0), predictions.numpy()),
                 ("loss", np.array(loss), keras_loss.numpy()),
                 *[(f"∂L/∂{name}", g, np.asarray(kg))
                   for name, g, kg in zip(names, grads, keras_grads, strict=True)]]
        encoder, decoder = seq2seq_inference(mr, parts)
        twin_encoder, twin_decoder = seq2seq_inference(keras, twin_parts)
        states = encoder.predict(x[0], verbose=0)
        twin_states = twin_encoder.predict(x[0], verbose=0)
        target = np.zeros((len(x[0]), 1, DECODER_TOKENS), dtype=dtype)
        target[:, 0, 0] = 1
        for step in range(4):
            tokens, h, c = decoder.predict([target, *states], verbose=0)
            theirs = twin_decoder.predict([target, *twin_states], verbose=0)
            pairs += [(f"decoding step {step} {label}", ours, np.asarray(expected))
                      for label, ours, expected in zip(("tokens", "h", "c"), (tokens, h, c),
                                                       theirs, strict=True)]
            target = np.eye(DECODER_TOKENS, dtype=dtype)[tokens[:, -1].argmax(-1)][:, None]
            states, twin_states = [h, c], list(theirs[1:])
    return Outcome(pairs)


@case("recurrent", "fit_seq2seq", kind="training")
def fit_seq2seq(dtype):
    """keras-io's seq2seq LSTM, RMSprop and categorical cross-entropy with accuracy, 4
    epochs: History and final weights (the Keras twin made by to_keras)."""
    x, y = seq2seq_data(dtype, n=24, seed=9)
    with precision(dtype):
        model, _ = seq2seq_model(mr)
        model.compile(optimizer=mr.optimizers.RMSprop(0.01), loss="categorical_crossentropy",
                      metrics=["accuracy"])
        return compare_fit(model, x, y, epochs=4, batch_size=8)


def inject_dropout_masks(layer, twin) -> None:
    """Hand minired's dropout masks of its last call (``layer.cache``) to the Keras twin's
    cell, so its next call uses them instead of drawing its own (Keras' cell keeps the masks
    it holds in ``_dropout_mask`` and ``_recurrent_dropout_mask`` until the call ends; its
    random numbers cannot match minired's)."""
    from comparisons.common import tf

    def keras_form(masks, several: bool):
        if masks is None:
            return None
        if several:                             # one per gate: Keras' list of k masks
            return [tf.constant(m) for m in masks]
        return tf.constant(masks)

    cell = twin.cell
    cell._dropout_mask = keras_form(layer.cache.mask, layer._mask_count > 1)
    recurrent = layer.cache.recurrent_masks
    if recurrent is not None and layer._mask_count == 1:
        recurrent = recurrent[0]                # SimpleRNN: one (N, units) mask
    cell._recurrent_dropout_mask = keras_form(recurrent, layer._mask_count > 1)


def masked_layer_pairs(dtype: str, label: str, layer, twin, x, rng) -> list:
    """One training call of ``layer`` (its masks drawn by minired) and of ``twin`` given
    the same masks: outputs, δx and every ∂L/∂w of ``L = Σ outputs ⊙ upstream``; then an
    inference call of both (no dropout)."""
    from comparisons.common import tf

    layer(x)
    twin(x)
    twin.set_weights(layer.get_weights())
    layer.zero_gradients()
    outputs = layer(x, training=True)
    upstream = rng.normal(size=outputs.shape).astype(dtype)
    grads = [layer.backward(upstream), *layer.gradients]
    variable = tf.Variable(x)
    with tf.GradientTape() as tape:
        inject_dropout_masks(layer, twin)
        theirs = twin(variable, training=True)
        loss = tf.reduce_sum(theirs * upstream)
    keras_grads = tape.gradient(loss, [variable, *twin.trainable_variables])
    return [(f"{label} outputs (training)", outputs, theirs.numpy()),
            *[(f"{label} gradient {i}", g, np.asarray(kg))
              for i, (g, kg) in enumerate(zip(grads, keras_grads, strict=True))],
            (f"{label} outputs (inference)", layer(x), twin(x).numpy())]


@case("recurrent", "recurrent_dropout")
def recurrent_dropout(dtype):
    """dropout=0.3 and recurrent_dropout=0.4 in LSTM, GRU (both reset forms), SimpleRNN,
    Keras' cell given minired's masks (one per gate in LSTM/GRU): training outputs, δx and
    every gradient through the masks, and the inference outputs (no dropout)."""
    rng = np.random.default_rng(10)
    x = rng.normal(size=(5, STEPS, FEATURES)).astype(dtype)
    pairs = []
    with precision(dtype):
        for label, make, kwargs in (
                ("LSTM", "LSTM", {"return_sequences": True}),
                ("GRU", "GRU", {"go_backwards": True}),
                ("GRU(reset_after=False)", "GRU", {"reset_after": False,
                                                   "return_sequences": True}),
                ("SimpleRNN", "SimpleRNN", {"return_sequences": True})):
            kwargs = {"dropout": 0.3, "recurrent_dropout": 0.4, **kwargs}
            layer = getattr(mr.layers, make)(4, seed=11, **kwargs)
            twin = getattr(keras.layers, make)(4, **kwargs)
            pairs += masked_layer_pairs(dtype, label, layer, twin, x, rng)
    return Outcome(pairs)


BATCH = 4


def stateful_stack(library):
    """LSTM -> GRU -> SimpleRNN, all stateful, under a Dense; batch size fixed at 4."""
    layers = library.layers
    return library.Sequential([
        library.Input(batch_shape=(BATCH, STEPS, FEATURES)),
        layers.LSTM(5, stateful=True, return_sequences=True),
        layers.GRU(4, stateful=True, return_sequences=True),
        layers.SimpleRNN(3, stateful=True), layers.Dense(1)])


def carried_states(model, label: str, twin) -> list:
    return [(f"{label}: {layer.name} state {i}", state, np.asarray(theirs))
            for layer, keras_layer in zip(model.layers[:3], twin.layers[:3], strict=True)
            for i, (state, theirs) in enumerate(zip(layer.states, keras_layer.states,
                                                    strict=True))]


@case("recurrent", "stateful", kind="training")
def stateful(dtype):
    """Stateful LSTM -> GRU -> SimpleRNN: predict twice (the second call continues from the
    states the first left), reset_states, predict again, then 3 epochs of fit with
    shuffle=False (states carried from batch to batch, truncated BPTT): predictions, every
    carried state, History and final weights."""
    x, y = sequences(dtype, n=3 * BATCH, seed=12)
    with precision(dtype):
        model, twin = stateful_stack(mr), stateful_stack(keras)
        twin.set_weights(model.get_weights())
        pairs = []
        for call in ("first", "second"):
            pairs.append((f"predict ({call} call)", model.predict(x, batch_size=BATCH,
                                                                   verbose=0),
                          twin.predict(x, batch_size=BATCH, verbose=0)))
            pairs += carried_states(model, f"after the {call} predict", twin)
        for layer, keras_layer in zip(model.layers[:3], twin.layers[:3], strict=True):
            layer.reset_states()
            keras_layer.reset_states()
        pairs.append(("predict after reset_states", model.predict(x, batch_size=BATCH,
                                                                   verbose=0),
                      twin.predict(x, batch_size=BATCH, verbose=0)))
        model.compile(optimizer=mr.optimizers.Adam(0.01), loss="mse")
        twin.compile(optimizer=keras.optimizers.Adam(0.01), loss="mse")

        def after(model, twin, *_):
            return [*carried_states(model, "after fit", twin),
                    ("predict after fit", model.predict(x, batch_size=BATCH, verbose=0),
                     twin.predict(x, batch_size=BATCH, verbose=0))]

        outcome = compare_fit(model, x, y, keras_model=twin, after=after, epochs=3,
                              batch_size=BATCH)
    return Outcome(pairs + outcome.pairs, curves=outcome.curves)


def minimal_cell(library):
    """keras-io's ``MinimalRNNCell`` (the RNN docstring's example), written with ops: the
    same source for both libraries."""
    class MinimalRNNCell(library.layers.Layer):
        def __init__(self, units, **kwargs):
            super().__init__(**kwargs)
            self.units = units
            self.state_size = units

        def build(self, input_shape):
            self.kernel = self.add_weight(shape=(input_shape[-1], self.units),
                                          initializer="glorot_uniform", name="kernel")
            self.recurrent_kernel = self.add_weight(shape=(self.units, self.units),
                                                    initializer="orthogonal",
                                                    name="recurrent_kernel")

        def call(self, inputs, states):
            h = library.ops.matmul(inputs, self.kernel)
            output = library.ops.tanh(h + library.ops.matmul(states[0],
                                                              self.recurrent_kernel))
            return output, [output]

    return MinimalRNNCell


def cells_model(library):
    layers = library.layers
    return library.Sequential([
        library.Input((STEPS, FEATURES)),
        layers.RNN(layers.LSTMCell(5), return_sequences=True),
        layers.RNN([layers.GRUCell(4), layers.SimpleRNNCell(3)], go_backwards=True,
                   return_sequences=True),
        layers.RNN(minimal_cell(library)(3)), layers.Dense(1)])


@case("recurrent", "rnn_cells")
def rnn_cells(dtype):
    """RNN(LSTMCell) -> RNN([GRUCell, SimpleRNNCell], go_backwards) -> RNN(custom cell) ->
    Dense: outputs, loss and every gradient."""
    x, y = sequences(dtype, seed=13)
    with precision(dtype):
        model, twin = cells_model(mr), cells_model(keras)
        twin.set_weights(model.get_weights())
        model.compile(optimizer="sgd", loss="mse")
        return step_outcome(model, dtype, x, y, twin=twin)


def cells_states_model(library):
    layers = library.layers
    inputs = library.Input((STEPS, FEATURES))
    sequence, (h1, c1), h2 = layers.RNN([layers.LSTMCell(4), layers.GRUCell(3)],
                                        return_sequences=True, return_state=True)(inputs)
    again, (h3, c3), h4 = layers.RNN([layers.LSTMCell(4), layers.GRUCell(3)],
                                     go_backwards=True, return_sequences=True,
                                     return_state=True)(sequence,
                                                        initial_state=[[h1, c1], h2])
    both, *states = layers.Bidirectional(layers.RNN(layers.LSTMCell(3), return_state=True),
                                         merge_mode="mul")(again)
    merged = layers.Concatenate()([both, h3, c3, h4, *states])
    return library.Model(inputs, layers.Dense(1)(merged))


@case("recurrent", "rnn_cells_states")
def rnn_cells_states(dtype):
    """RNN([LSTMCell, GRUCell], return_state) whose nested states ``[[h, c], h]`` start a
    second stack (``initial_state``, Keras' structure), then Bidirectional(RNN(LSTMCell),
    mul, return_state) -> Dense reading every state: outputs, loss and every gradient."""
    x, y = sequences(dtype, seed=17)
    with precision(dtype):
        model, twin = cells_states_model(mr), cells_states_model(keras)
        twin.set_weights(model.get_weights())
        model.compile(optimizer="sgd", loss="mse")
        return step_outcome(model, dtype, x, y, twin=twin)
