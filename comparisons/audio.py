"""Audio: the STFT initializer, STFTSpectrogram, MelSpectrogram and
audio_dataset_from_directory beside Keras.

- ``initializers/stft``: the real and imaginary kernels for every window minired computes,
  each scaling, symmetric and periodic windows;
- ``layers/stft_spectrogram``: STFTSpectrogram alone, every mode (and both paddings,
  ``expand_dims``, a hamming window): the output, ``δx`` and the gradients of both kernels
  for a random ``δŷ``;
- ``layers/mel_spectrogram``: MelSpectrogram in three settings (batched and one signal):
  the output and ``δx``. Keras' decibel step fails in float64 (it subtracts a float32
  constant from a float64 tensor), so in float64 the layers run with ``power_to_db=False``;
  float32 compares both;
- ``layers/stft_spectrogram_fit``: STFTSpectrogram (trainable kernels, log mode) →
  GlobalAveragePooling1D → Dense fitted 4 epochs with Adam, batches of 4: the losses and the
  final weights (the kernels included);
- ``utils/audio_dataset_from_directory``: WAV files written to a temporary folder, read
  unshuffled in padded batches, cut to a length and in a validation split: the clips and
  labels of every batch.
"""

from __future__ import annotations

import tempfile
import wave
from pathlib import Path

import numpy as np

from comparisons.keras_env import keras, mr, precision, tf
from comparisons.mirror import to_keras
from comparisons.registry import Outcome, case
from comparisons.training import compare_fit
from comparisons.vision import vjp_pairs

WINDOWS = ("hann", "hamming", "blackman", "boxcar", "bartlett", None)


@case("initializers", "stft")
def stft_initializer(dtype: str) -> Outcome:
    """STFT kernels (real and imag) for every window, scaling and periodicity."""
    pairs = []
    for window in WINDOWS:
        for side in ("real", "imag"):
            for scaling in ("density", "spectrum", None):
                for periodic in (False, True):
                    label = f"{side},{window},{scaling},periodic={periodic}"
                    ours = mr.initializers.STFT(side, window, scaling, periodic)((12, 1, 9),
                                                                                dtype=dtype)
                    theirs = keras.initializers.STFT(side, window, scaling, periodic)(
                        (12, 1, 9), dtype=dtype)
                    pairs.append((label, ours, np.asarray(theirs)))
    return Outcome(pairs, notes=f"{len(pairs)} kernels")


#: ``(label, STFTSpectrogram arguments)``: every mode, both paddings, expand_dims.
STFT_SETTINGS = [
    ("log,valid", dict(mode="log")),
    ("magnitude,same", dict(mode="magnitude", padding="same")),
    ("psd,valid,hamming periodic", dict(mode="psd", window="hamming", periodic=True)),
    ("real,same,spectrum", dict(mode="real", padding="same", scaling="spectrum")),
    ("imag,valid,no window", dict(mode="imag", window=None)),
    ("angle,same", dict(mode="angle", padding="same")),
    ("stft,valid,expand_dims", dict(mode="stft", expand_dims=True)),
    ("log,same,expand_dims,fft_length=16", dict(mode="log", padding="same", expand_dims=True,
                                               fft_length=16)),
]


@case("layers", "stft_spectrogram")
def stft_spectrogram(dtype: str) -> Outcome:
    """STFTSpectrogram in every mode: outputs, δx and both kernels' gradients."""
    pairs = []
    with precision(dtype):
        for i, (label, kwargs) in enumerate(STFT_SETTINGS):
            layer = mr.layers.STFTSpectrogram(frame_length=10, frame_step=4, **kwargs)
            model = mr.Sequential([mr.Input((37, 2)), layer])
            keras_model = to_keras(model)
            x = np.random.default_rng(i).standard_normal((3, 37, 2)).astype(dtype)
            pairs += [(f"{label}: {name}", ours, theirs)
                      for name, ours, theirs in vjp_pairs(model, keras_model, x, seed=i)]
    return Outcome(pairs, notes=f"{len(STFT_SETTINGS)} settings")


MEL_SETTINGS = [
    ("fft 64, stride 16, 10 bands", dict(fft_length=64, sequence_stride=16, num_mel_bins=10,
                                         sampling_rate=8000), (3, 400)),
    ("fft 32, window 24 hamming, magnitude", dict(
        fft_length=32, sequence_stride=8, sequence_length=24, window="hamming",
        num_mel_bins=6, sampling_rate=4000, min_freq=100.0, max_freq=1800, mag_exp=1.0),
     (2, 300)),
    ("fft 16, no window, top_db 20, one signal", dict(
        fft_length=16, sequence_stride=5, window=None, num_mel_bins=4, sampling_rate=16000,
        top_db=20.0, ref_power=0.5), (250,)),
]


@case("layers", "mel_spectrogram")
def mel_spectrogram(dtype: str) -> Outcome:
    """MelSpectrogram in three settings: outputs and δx (decibels in float32 only)."""
    pairs = []
    with precision(dtype):
        for i, (label, kwargs, shape) in enumerate(MEL_SETTINGS):
            for power_to_db in (False, True) if dtype == "float32" else (False,):
                layer = mr.layers.MelSpectrogram(power_to_db=power_to_db, **kwargs)
                twin = keras.layers.MelSpectrogram(power_to_db=power_to_db, **kwargs)
                x = np.random.default_rng(i).standard_normal(shape).astype(dtype)
                ours = layer(x)
                upstream = np.random.default_rng(10 + i).standard_normal(ours.shape).astype(
                    dtype)
                grad = layer.backward(upstream)
                tensor = tf.constant(x)
                with tf.GradientTape() as tape:
                    tape.watch(tensor)
                    theirs = twin(tensor)
                    total = tf.reduce_sum(theirs * upstream)
                name = f"{label}{', dB' if power_to_db else ''}"
                pairs += [(f"{name}: output", ours, theirs.numpy()),
                          (f"{name}: δx", grad, tape.gradient(total, tensor).numpy())]
    notes = "float64 without decibels: Keras' decibel step fails in float64"
    return Outcome(pairs, notes=notes)


def stft_model(lib):
    return lib.Sequential([
        lib.Input((40, 1)),
        lib.layers.STFTSpectrogram(mode="log", frame_length=8, frame_step=4, window="hamming"),
        lib.layers.GlobalAveragePooling1D(),
        lib.layers.Dense(2),
    ])


@case("layers", "stft_spectrogram_fit", kind="training")
def stft_spectrogram_fit(dtype: str) -> Outcome:
    """STFTSpectrogram (trainable kernels) → GlobalAveragePooling1D → Dense, fitted 4 epochs
    with Adam(0.01), batches of 4: losses and final weights (kernels included)."""
    with precision(dtype):
        rng = np.random.default_rng(5)
        x = rng.standard_normal((8, 40, 1)).astype(dtype)
        y = rng.standard_normal((8, 2)).astype(dtype)
        keras_model = stft_model(keras)
        model = stft_model(mr)
        model.set_weights(keras_model.get_weights())
        model.compile(mr.optimizers.Adam(0.01), "mse")
        keras_model.compile(keras.optimizers.Adam(0.01), "mse")
        return compare_fit(model, x, y, keras_model=keras_model, epochs=4, batch_size=4)


def _write_clips(root: Path) -> None:
    """Two classes of 16-bit clips of 6 to 15 samples, mono and stereo folders alike."""
    rng = np.random.default_rng(0)
    for c, name in enumerate(("hum", "hiss")):
        (root / name).mkdir(parents=True)
        for i in range(5):
            with wave.open(str(root / name / f"{i}.wav"), "wb") as f:
                f.setnchannels(2)
                f.setsampwidth(2)
                f.setframerate(8000)
                f.writeframes(rng.integers(-32768, 32768, (6 + 2 * i + c, 2)).astype(
                    "<i2").tobytes())


@case("utils", "audio_dataset_from_directory")
def audio_dataset(dtype: str) -> Outcome:
    """WAV clips in class folders: padded batches, cut/padded clips and a validation split
    (clips and labels of every batch; float32 clips in both precisions, as decode_wav)."""
    pairs = []
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        _write_clips(root)
        settings = [("padded", dict(batch_size=3, shuffle=False)),
                    ("length 10, categorical", dict(batch_size=4, shuffle=False,
                                                    output_sequence_length=10,
                                                    label_mode="categorical")),
                    ("validation 0.4", dict(batch_size=2, seed=3, validation_split=0.4,
                                            subset="both"))]
        for label, kwargs in settings:
            ours = mr.utils.audio_dataset_from_directory(root, verbose=False, **kwargs)
            theirs = keras.utils.audio_dataset_from_directory(root, verbose=False, **kwargs)
            if kwargs.get("subset") == "both":     # the validation part: tf.data shuffles
                ours, theirs = ours[1], theirs[1]  # the training part (and a lone subset)
            for b, ((x, y), (kx, ky)) in enumerate(zip(ours, theirs, strict=True)):
                pairs += [(f"{label}: batch {b} clips", x, kx.numpy()),
                          (f"{label}: batch {b} labels", y, ky.numpy())]
    return Outcome(pairs, notes=f"{len(settings)} settings")
