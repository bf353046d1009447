"""MelSpectrogram: audio signals to mel spectrograms (STFT, power, mel filters, decibels)."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from minired.layers.layer import Layer
from minired.layers.preprocessing import mel_scale
from minired.ops.spectral import _overlap_add_values as overlap_add
from minired.ops.spectral import _window


class MelSpectrogram(Layer):
    """Convert raw audio signals (``(samples,)`` or ``(batch, samples)``) to mel spectrograms
    ``(…, num_mel_bins, frames)``.

    Forward, for a signal ``x`` (``N = fft_length``, ``w`` the window of
    ``sequence_length`` centred in ``N``, ``M`` the mel filter bank of
    :func:`~minired.layers.preprocessing.mel_scale.linear_to_mel_weight_matrix`)::

        x̃ = x padded by reflection with N/2 samples on each side
        Z[f, k] = Σ_t w_t x̃[f·stride + t] e^{−2πi kt/N}       (re = Re Z, im = Im Z)
        s = √(re² + im²),  P = s^mag_exp                         (magnitude to a power)
        E = P M                                                  (mel bands)
        D = 10 log10 max(E, min_power) − 10 log10 max(|ref_power|, min_power)
        a = max(D, max(D) − top_db)     (the max over the whole batch), transposed

    (``a = Eᵀ`` without ``power_to_db``). Backward, given ``δa``, as TensorFlow's
    gradients: the ``max`` gives ``δD = δa`` where ``D ≥ max(D) − top_db`` and adds the rest
    to the largest ``D`` (shared between ties); then::

        δE = δD · 10 / (E ln 10) · [E ≥ min_power]
        δP = δE Mᵀ,   δs = δP · mag_exp · s^(mag_exp − 1)
        δre = δs re / s,   δim = δs im / s
        δframe_t = w_t Re(Σ_k (δre_k + i δim_k) e^{2πi kt/N})   (the DFT's adjoint, full N)
        δx̃ = overlap-add of δframe,  δx = δx̃ folded back over the reflected ends

    The layer has no weights. As Keras, the filter bank is computed in float32 (also in
    float64, where it is then cast).

    Args:
        fft_length: ``N``, the DFT's length (default 2048).
        sequence_stride: samples between frames (default 512).
        sequence_length: the window's length (default ``fft_length``).
        window: ``"hann"`` (default), ``"hamming"``, an array or None.
        sampling_rate: the signal's samples per second (default 16000).
        num_mel_bins: the mel bands (default 128).
        min_freq: the lowest band's lower edge, in Hz (default 20.0).
        max_freq: the highest band's upper edge (default ``sampling_rate / 2``).
        power_to_db: convert to decibels (default True).
        top_db: keep ``top_db`` decibels below the largest value (default 80.0).
        mag_exp: the exponent of the magnitude (default 2.0, the power).
        min_power: the floor of the power and of ``ref_power`` (default 1e-10).
        ref_power: the power of 0 dB (default 1.0).

    Example:
        >>> layer = MelSpectrogram(fft_length=64, sequence_stride=16, num_mel_bins=10)
        >>> layer(np.ones((2, 160), dtype="float32")).shape       # 1 + 160/16 frames
        (2, 10, 11)
    """

    def __init__(self, fft_length: int = 2048, sequence_stride: int = 512,
                 sequence_length: int | None = None, window="hann", sampling_rate: int = 16000,
                 num_mel_bins: int = 128, min_freq: float = 20.0, max_freq: float | None = None,
                 power_to_db: bool = True, top_db: float = 80.0, mag_exp: float = 2.0,
                 min_power: float = 1e-10, ref_power: float = 1.0, **kwargs) -> None:
        self.fft_length = fft_length
        self.sequence_stride = sequence_stride
        self.sequence_length = sequence_length or fft_length
        if self.fft_length < self.sequence_length:
            raise ValueError("`fft_length` must be greater than or equal to `sequence_length`. "
                             f"Received: `sequence_length`={self.sequence_length}, "
                             f"`fft_length`={self.fft_length}.")
        self.window = window
        self.sampling_rate = sampling_rate
        self.num_mel_bins = num_mel_bins
        self.min_freq = min_freq
        self.max_freq = max_freq or int(sampling_rate / 2)
        self.power_to_db = power_to_db
        self.top_db = top_db
        self.mag_exp = mag_exp
        self.min_power = min_power
        self.ref_power = ref_power
        super().__init__(**kwargs)

    def linear_to_mel_weight_matrix(self, num_mel_bins: int = 20,
                                    num_spectrogram_bins: int = 129,
                                    sampling_rate: float = 8000,
                                    lower_edge_hertz: float = 125.0,
                                    upper_edge_hertz: float = 3800.0,
                                    dtype="float32") -> np.ndarray:
        """Keras' method: :func:`~minired.layers.preprocessing.mel_scale.
        linear_to_mel_weight_matrix` (the defaults are Keras', not the layer's)."""
        return mel_scale.linear_to_mel_weight_matrix(num_mel_bins, num_spectrogram_bins,
                                                     sampling_rate, lower_edge_hertz,
                                                     upper_edge_hertz, dtype)

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        """Keras' shape: ``(…, num_mel_bins, (samples + stride + 1) // stride)``. (The layer
        gives ``1 + (samples + 2·(N//2) − N) // stride`` frames: one fewer when
        ``samples + 1`` is a multiple of the stride, for even ``N``; Keras' formula is kept,
        so that models have Keras' shapes.)"""
        samples = input_shape[-1]
        frames = None if samples is None else (samples + self.sequence_stride + 1) // (
            self.sequence_stride)
        return (*input_shape[:-1], self.num_mel_bins, frames)

    # -- the two passes ------------------------------------------------------------------------
    def _frame_index(self, padded_length: int) -> np.ndarray:
        count = 1 + (padded_length - self.fft_length) // self.sequence_stride
        return (np.arange(count)[:, None] * self.sequence_stride
                + np.arange(self.fft_length)[None, :])

    def forward(self, inputs: np.ndarray, training: bool = False) -> np.ndarray:
        dtype = self._float_dtype()
        x = np.asarray(inputs).astype(dtype, copy=False)
        if x.ndim not in (1, 2):
            raise ValueError(f"MelSpectrogram {self.name!r}: inputs must be a signal "
                             f"(samples,) or a batch (batch, samples), got shape {x.shape}.")
        half = self.fft_length // 2
        if x.shape[-1] <= half:
            raise ValueError(f"MelSpectrogram {self.name!r}: the signals must be longer than "
                             f"fft_length // 2 = {half} samples (reflection padding), got "
                             f"{x.shape[-1]}.")
        w = _window("MelSpectrogram", self.window, self.sequence_length, self.fft_length, dtype)
        padded = np.pad(x, [(0, 0)] * (x.ndim - 1) + [(half, half)], mode="reflect")
        frames = padded[..., self._frame_index(padded.shape[-1])]     # (…, frames, N)
        if w is not None:
            frames = frames * w
        spectrum = np.fft.rfft(frames, n=self.fft_length, axis=-1)
        re, im = spectrum.real.astype(dtype), spectrum.imag.astype(dtype)
        magnitude = np.sqrt(np.square(re) + np.square(im))             # s = |Z|
        power = np.power(magnitude, dtype.type(self.mag_exp))          # P = s^mag_exp
        matrix = self.linear_to_mel_weight_matrix(
            self.num_mel_bins, re.shape[-1], self.sampling_rate, self.min_freq,
            self.max_freq).astype(dtype)
        mel = np.tensordot(power, matrix, axes=1)                      # E = P M
        db = None
        out = mel
        if self.power_to_db:
            db = self._dbscale(mel)
            out = np.maximum(db, np.max(db) - dtype.type(self.top_db))
        self.cache = MelSpectrogramCache(x.shape, padded.shape[-1], w, re, im, magnitude,
                                         matrix, mel, db)
        return np.swapaxes(out, -1, -2).astype(dtype, copy=False)

    def _dbscale(self, mel: np.ndarray) -> np.ndarray:
        """``D = 10 log10 max(E, min_power) − 10 log10 max(|ref_power|, min_power)``."""
        t = mel.dtype.type
        log10 = np.log(np.maximum(mel, t(self.min_power))) / np.log(t(10))
        ref = np.maximum(np.abs(t(self.ref_power)), t(self.min_power))
        return t(10.0) * log10 - t(10.0) * (np.log(ref) / np.log(t(10)))

    def backward(self, grad_outputs: np.ndarray) -> np.ndarray:
        x_shape, padded_length, w, re, im, magnitude, matrix, mel, db = self.cache
        t = re.dtype.type
        grad = np.swapaxes(np.asarray(grad_outputs, dtype=re.dtype), -1, -2)
        if self.power_to_db:
            floor = np.max(db) - t(self.top_db)
            kept = db >= floor                          # a = D there (TensorFlow: ties to D)
            grad_floor = np.sum(grad, where=~kept)      # the rest flows to max(D)
            grad = grad * kept
            largest = db == np.max(db)
            grad = grad + grad_floor * largest / np.count_nonzero(largest)
            grad = grad * t(10.0) / (np.log(t(10)) * mel) * (mel >= t(self.min_power))
        grad_power = np.tensordot(grad, matrix.T, axes=1)                 # δP = δE Mᵀ
        mag_exp = t(self.mag_exp)
        grad_magnitude = grad_power * mag_exp * np.power(magnitude, mag_exp - t(1))
        grad_re = grad_magnitude * re / magnitude                         # δs · re / s
        grad_im = grad_magnitude * im / magnitude
        n = self.fft_length
        grad_spectrum = np.zeros((*re.shape[:-1], n), dtype=np.complex128)
        grad_spectrum[..., :re.shape[-1]] = grad_re + 1j * grad_im
        grad_frames = (np.fft.ifft(grad_spectrum, axis=-1).real * n).astype(re.dtype)
        if w is not None:
            grad_frames = grad_frames * w
        grad_padded = overlap_add(grad_frames, self.sequence_stride, padded_length)
        half, length = n // 2, x_shape[-1]
        grad_x = grad_padded[..., half:half + length].copy()
        # x̃[half − j] = x[j] and x̃[half + length − 1 + j] = x[length − 1 − j], j = 1…half
        grad_x[..., 1:half + 1] += grad_padded[..., :half][..., ::-1]
        grad_x[..., length - 1 - half:length - 1] += grad_padded[..., half + length:][..., ::-1]
        return grad_x

    def get_config(self) -> dict:
        """Keras' keys: ``fft_length``, ``sequence_stride``, ``sequence_length``, ``window``,
        ``sampling_rate``, ``num_mel_bins``, ``min_freq``, ``max_freq``, ``power_to_db``,
        ``top_db``, ``mag_exp``, ``min_power``, ``ref_power``."""
        return {**super().get_config(), "fft_length": self.fft_length,
                "sequence_stride": self.sequence_stride,
                "sequence_length": self.sequence_length, "window": self.window,
                "sampling_rate": self.sampling_rate, "num_mel_bins": self.num_mel_bins,
                "min_freq": self.min_freq, "max_freq": self.max_freq,
                "power_to_db": self.power_to_db, "top_db": self.top_db,
                "mag_exp": self.mag_exp, "min_power": self.min_power,
                "ref_power": self.ref_power}


class MelSpectrogramCache(NamedTuple):
    """What one call of a MelSpectrogram keeps for its backward pass."""

    x_shape: tuple               #: the signals' shape
    padded_length: int           #: samples after the reflection padding
    w: np.ndarray | None         #: the window, centred in fft_length
    re: np.ndarray               #: Re Z, (…, frames, N/2 + 1)
    im: np.ndarray               #: Im Z
    magnitude: np.ndarray        #: s = |Z|
    matrix: np.ndarray           #: the mel filter bank M
    mel: np.ndarray              #: E = s^mag_exp M
    db: np.ndarray | None        #: D, with power_to_db
