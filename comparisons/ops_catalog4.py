"""Ops: a user's layer built from the signal, segment and einops ops (``stft``, ``rfft``,
``extract_sequences``, ``rearrange``, ``segment_max``, ``segment_sum``), written once, run in
both libraries.

As :mod:`comparisons.ops_catalog3`, the model is built twice from the same function
(``components(lib)``, ``lib`` = minired or keras), minired's seeded weights are copied to
Keras, and both are compared on ``predict``, the loss and every ``∂L/∂w`` (step), then
after 5 epochs of ``fit`` (training). minired differentiates the layer with its tape,
Keras with TensorFlow's.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from comparisons.data import random_data
from comparisons.ops_catalog import user_layer_cases

N, LENGTH = 24, 32
#: The 5 frequency bins of an 8-point STFT grouped into 2 bands (low, high).
BANDS = np.array([0, 0, 1, 1, 1], dtype="int32")
FEATURES = 2 * 9 + 3 + 7      # the bands of 9 frames, 3 rfft band totals, 7 window means


def components(lib) -> SimpleNamespace:
    """The user's layer, written against ``lib`` (``mr`` or ``keras``)."""
    ops = lib.ops

    class SpectralBands(lib.layers.Layer):
        """Signals ``(N, T)`` → scaled by a learned gain per sample → the STFT power in two
        bands per frame (``segment_max`` over the bins) and the band totals of the ``rfft``
        power (``segment_sum``) → with the means of short windows (``extract_sequences``),
        one feature vector (``rearrange`` merges the axes)."""

        def build(self, input_shape):
            self.gain = self.add_weight(shape=(input_shape[-1],), initializer="ones",
                                        name="gain")

        def call(self, inputs):
            x = inputs * self.gain
            real, imag = ops.stft(x, 8, 4, 8)                       # (N, 9 frames, 5 bins)
            power = ops.rearrange(real * real + imag * imag, "n f k -> k f n")
            bands = ops.segment_max(power, BANDS, num_segments=2)    # (2, 9, N)
            bands = ops.rearrange(bands, "b f n -> n (b f)")        # (N, 18)
            real, imag = ops.rfft(x)                                 # (N, 17)
            spectrum = ops.transpose(real * real + imag * imag)
            ids = np.arange(LENGTH // 2 + 1, dtype="int32") // 6     # 3 bands of bins
            totals = ops.transpose(ops.segment_sum(spectrum, ids, sorted=True))   # (N, 3)
            windows = ops.mean(ops.extract_sequences(x, 8, 4), axis=-1)           # (N, 7)
            features = ops.concatenate([bands, totals, windows], axis=-1)
            return ops.log(1.0 + features * features)

        def compute_output_shape(self, input_shape):
            return (input_shape[0], FEATURES)   # (Keras cannot infer the segments' sizes)

    return SimpleNamespace(SpectralBands=SpectralBands)


def signal_model(lib, c):
    """Signals → the custom layer → a softmax over 3 classes."""
    return lib.Sequential([lib.Input((LENGTH,)), c.SpectralBands(name="features"),
                           lib.layers.Dense(3, activation="softmax", name="head")])


def signal_data(dtype: str):
    """Noise plus a sine of a class-dependent frequency (low, middle, high)."""
    noise = random_data(dtype, N, LENGTH, seed=9) * 0.3
    labels = np.arange(N) % 3
    t = np.arange(LENGTH)
    sines = np.sin(2 * np.pi * np.array([2, 6, 12])[labels][:, None] * t / LENGTH)
    return (noise + sines).astype(dtype), labels


user_layer_cases("spectral_segments", "stft, rfft, extract_sequences, rearrange, segment_max and "
                 "segment_sum", components, signal_model, signal_data, learning_rate=0.01)
