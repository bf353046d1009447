"""STFTSpectrogram: the short-time Fourier transform of a signal as a strided convolution with
(trainable) cosine and sine kernels."""

from __future__ import annotations

import math
import warnings
from typing import NamedTuple

import numpy as np

from minired import config
from minired.initializers.stft import STFT
from minired.layers.input_spec import InputSpec
from minired.layers.layer import Layer
from minired.ops.spectral import _overlap_add_values as overlap_add

MODES = ("log", "magnitude", "psd", "real", "imag", "angle", "stft")


class STFTSpectrogram(Layer):
    """Spectrogram of a 1-D signal from its short-time Fourier transform, as a convolution.

    Each channel of each signal is cut into frames of ``T = frame_length`` samples every
    ``s = frame_step``: ``X[m, t] = x[m·s + t]`` (after zero-padding with
    ``padding="same"``). Two kernels ``W_re`` and ``W_im`` of shape ``(T, 1, F)``, built by
    the :class:`~minired.initializers.STFT` initializer (``F = fft_length/2 + 1``), give the
    real and imaginary parts of each frame's windowed DFT, and the mode turns them into the
    output::

        re = X W_re          im = X W_im                  (frames × F, per signal)
        p  = re² + im²                                    the power
        "real": re     "imag": im     "stft": [re, im]    "angle": atan2(im, re)
        "psd": c_f p_f  (c = 2 except at f = 0 and f = F−1, where c = 1)
        "magnitude": a = √max(p, ε)      "log": log max(a, ε)      (ε = config.epsilon())

    Backward, given ``δa``::

        δp  = δa / (2a) · [p ≥ ε]  (magnitude; log first divides by a)    δp = c δa  (psd)
        δre = 2 re δp  (or δa; atan2: −im/(re²+im²) δa)     δim = 2 im δp  (re/(re²+im²) δa)
        ∂L/∂W_re = Σ Xᵀ δre     ∂L/∂W_im = Σ Xᵀ δim       (over signals and frames)
        δX  = δre W_reᵀ + δim W_imᵀ,  δx[m·s + t] += δX[m, t]   (overlap-add, padding cut)

    The same kernels act on every input channel. The kernels are trainable unless the layer
    is built with ``trainable=False`` (a fixed preprocessing step); ``mode="real"`` has no
    imaginary kernel and ``mode="imag"`` no real one.

    Args:
        mode: ``"log"`` (default), ``"magnitude"``, ``"psd"``, ``"real"``, ``"imag"``,
            ``"angle"`` or ``"stft"``.
        frame_length: ``T``, the samples in each frame (default 256).
        frame_step: ``s``, the hop between frames (default ``frame_length // 2``).
        fft_length: the DFT's length (≥ ``frame_length``; default the smallest power of two
            ≥ ``frame_length``).
        window: ``"hann"`` (default), ``"hamming"``, another of SciPy's windows that
            :func:`minired.initializers.stft.get_window` computes, an array, or None.
        periodic: a periodic window instead of a symmetric one (default False).
        scaling: ``"density"`` (default), ``"spectrum"`` or None (see the initializer).
        padding: ``"valid"`` (default) or ``"same"`` (``⌈len/s⌉`` frames).
        expand_dims: output ``(batch, frames, F, channels)`` (channels last) instead of
            ``(batch, frames, channels·F)``.
        data_format: ``"channels_last"`` (inputs ``(batch, time, channels)``) or
            ``"channels_first"`` (``(batch, channels, time)``); None:
            ``config.image_data_format()``.

    Example:
        >>> layer = STFTSpectrogram(mode="magnitude", frame_length=8, frame_step=4)
        >>> layer(np.ones((2, 32, 1), dtype="float32")).shape      # 7 frames, 5 frequencies
        (2, 7, 5)
        >>> [w.shape for w in layer.get_weights()]                   # W_re, W_im
        [(8, 1, 5), (8, 1, 5)]
    """

    def __init__(self, mode: str = "log", frame_length: int = 256,
                 frame_step: int | None = None, fft_length: int | None = None,
                 window="hann", periodic: bool = False, scaling: str | None = "density",
                 padding: str = "valid", expand_dims: bool = False,
                 data_format: str | None = None, **kwargs) -> None:
        if frame_step is not None and (frame_step > frame_length or frame_step < 1):
            raise ValueError("`frame_step` should be a positive integer not greater than "
                             f"`frame_length`. Received frame_step={frame_step}, "
                             f"frame_length={frame_length}")
        if fft_length is not None and fft_length < frame_length:
            raise ValueError("`fft_length` should be not less than `frame_length`. "
                             f"Received fft_length={fft_length}, frame_length={frame_length}")
        if fft_length is not None and (fft_length & -fft_length) != fft_length:
            warnings.warn("`fft_length` is recommended to be a power of two. "
                          f"Received fft_length={fft_length}", stacklevel=2)
        if mode not in MODES:
            raise ValueError(f"Output mode is invalid, it must be one of {', '.join(MODES)}. "
                             f"Received: mode={mode}")
        if scaling is not None and scaling not in ("density", "spectrum"):
            raise ValueError("Scaling is invalid, it must be `None`, 'density' or 'spectrum'. "
                             f"Received scaling={scaling}")
        if padding not in ("valid", "same"):
            raise ValueError("Padding is invalid, it should be 'valid', 'same'. "
                             f"Received: padding={padding}")
        STFT("real", window, scaling, periodic)         # an unknown window fails here
        super().__init__(**kwargs)
        self.mode = mode
        self.frame_length = frame_length
        self.frame_step = frame_step
        self._frame_step = frame_step or frame_length // 2
        self.fft_length = fft_length
        self._fft_length = fft_length or 2 ** int(math.ceil(math.log2(frame_length)))
        self.window = window
        self.periodic = periodic
        self.scaling = scaling
        self.padding = padding
        self.expand_dims = expand_dims
        data_format = config.image_data_format() if data_format is None else data_format
        if data_format not in ("channels_last", "channels_first"):
            raise ValueError("The `data_format` argument must be one of {'channels_first', "
                             f"'channels_last'}}. Received: data_format={data_format}")
        self.data_format = data_format
        self.input_spec = InputSpec(ndim=3)

    def build(self, input_shape: tuple) -> None:
        shape = (self.frame_length, 1, self._fft_length // 2 + 1)
        dtype = self._float_dtype()
        for side in self._sides():
            kernel = np.asarray(STFT(side, self.window, self.scaling, self.periodic)(
                shape, dtype=dtype))
            setattr(self, f"{side}_kernel", kernel)
            setattr(self, f"{side}_kernel_gradient", np.zeros_like(kernel))
        super().build(input_shape)

    def _sides(self) -> tuple[str, ...]:
        """The kernels the mode needs: no imaginary one for "real", no real one for "imag"."""
        return {"real": ("real",), "imag": ("imag",)}.get(self.mode, ("real", "imag"))

    def _weight_triples(self) -> list:
        if not self.built:
            return []
        return [(getattr(self, f"{side}_kernel"), getattr(self, f"{side}_kernel_gradient"),
                 None) for side in self._sides()]

    # -- framing -------------------------------------------------------------------------------
    def _frame_count_and_padding(self, length: int) -> tuple[int, int]:
        """Frames and zeros before the signal: ``"valid"``: ``⌊(len − T)/s⌋ + 1`` frames;
        ``"same"``: ``⌈len/s⌉`` frames and TensorFlow's split of the padding (the odd zero
        after)."""
        size, step = self.frame_length, self._frame_step
        if self.padding == "valid":
            return max(0, (length - size) // step + 1), 0
        frames = -(-length // step)
        total = max((frames - 1) * step + size - length, 0)
        return frames, total // 2

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        channels_last = self.data_format == "channels_last"
        batch = input_shape[0]
        channels, length = (input_shape[2], input_shape[1]) if channels_last else (
            input_shape[1], input_shape[2])
        freq = (self._fft_length // 2 + 1) * (2 if self.mode == "stft" else 1)
        frames = None if length is None else self._frame_count_and_padding(length)[0]
        if self.expand_dims:
            return ((batch, frames, freq, channels) if channels_last
                    else (batch, channels, frames, freq))
        flat = None if channels is None else channels * freq
        return (batch, frames, flat) if channels_last else (batch, flat, frames)

    # -- the two passes ------------------------------------------------------------------------
    def forward(self, inputs: np.ndarray, training: bool = False) -> np.ndarray:
        x = np.asarray(inputs)
        if x.dtype not in (np.float16, np.float32, np.float64):
            raise TypeError("Invalid input type. Expected `float16`, `float32` or `float64`. "
                            f"Received: input type={x.dtype}")
        if self.data_format == "channels_last":
            x = x.transpose(0, 2, 1)                        # (N, C, time)
        batch, channels, length = x.shape
        signals = x.reshape(batch * channels, length)       # each channel, one signal
        count, before = self._frame_count_and_padding(length)
        size, step = self.frame_length, self._frame_step
        if count == 0:
            raise ValueError(f"STFTSpectrogram {self.name!r}: with padding='valid' the signals "
                             f"need at least frame_length={size} samples, got {length}.")
        padded = np.zeros((signals.shape[0], max(length + before, (count - 1) * step + size)),
                          dtype=x.dtype)
        padded[:, before:before + length] = signals
        index = np.arange(count)[:, None] * step + np.arange(size)[None, :]
        frames = padded[:, index]                           # X: (signals, frames, T)
        kernels = {side: getattr(self, f"{side}_kernel")[:, 0, :].astype(x.dtype, copy=False)
                   for side in self._sides()}               # W_re, W_im: (T, F)
        parts = {side: frames @ w for side, w in kernels.items()}   # re = X W_re, im = X W_im
        out, power = self._mode_forward(parts.get("real"), parts.get("imag"))
        self.cache = STFTSpectrogramCache(frames, parts.get("real"), parts.get("imag"), power,
                                          out, x.shape, padded.shape[1], before)
        return self._arrange(out.reshape(batch, channels, count, -1))

    def _mode_forward(self, re, im) -> tuple[np.ndarray, np.ndarray | None]:
        """The mode's output per signal, ``(signals, frames, F or 2F)``, and the power."""
        if self.mode == "real":
            return re, None
        if self.mode == "imag":
            return im, None
        if self.mode == "angle":
            return np.arctan2(im, re), None
        if self.mode == "stft":
            return np.concatenate([re, im], axis=-1), None
        power = np.square(re) + np.square(im)               # p = re² + im²
        if self.mode == "psd":
            return power * self._psd_factors(power), power
        eps = power.dtype.type(config.epsilon())
        magnitude = np.sqrt(np.maximum(power, eps))         # a = √max(p, ε)
        if self.mode == "magnitude":
            return magnitude, power
        return np.log(np.maximum(magnitude, eps)), power    # log max(a, ε)

    @staticmethod
    def _psd_factors(power: np.ndarray) -> np.ndarray:
        """``c``: 2 for the frequencies counted twice in a real signal's spectrum, 1 for
        the first and last (Keras' ``p + pad(p[1:-1])``)."""
        factors = np.ones(power.shape[-1], dtype=power.dtype)
        factors[1:-1] = 2
        return factors

    def _arrange(self, out: np.ndarray) -> np.ndarray:
        """``(N, C, frames, F)`` to the layer's output layout."""
        batch, channels, count, freq = out.shape
        if self.data_format == "channels_last":
            if self.expand_dims:
                return out.transpose(0, 2, 3, 1)                       # (N, frames, F, C)
            return out.transpose(0, 2, 1, 3).reshape(batch, count, channels * freq)
        if self.expand_dims:
            return out                                                 # (N, C, frames, F)
        return out.transpose(0, 1, 3, 2).reshape(batch, channels * freq, count)

    def _unarrange(self, grad: np.ndarray, shape: tuple) -> np.ndarray:
        """The inverse of :meth:`_arrange`: ``δa`` back to ``(N·C, frames, F)``."""
        batch, channels, count, freq = shape
        if self.data_format == "channels_last":
            if self.expand_dims:
                grad = grad.transpose(0, 3, 1, 2)
            else:
                grad = grad.reshape(batch, count, channels, freq).transpose(0, 2, 1, 3)
        elif not self.expand_dims:
            grad = grad.reshape(batch, channels, freq, count).transpose(0, 1, 3, 2)
        return grad.reshape(batch * channels, count, freq)

    def backward(self, grad_outputs: np.ndarray) -> np.ndarray:
        frames, re, im, power, out, x_shape, padded_length, before = self.cache
        batch, channels, length = x_shape
        grad = self._unarrange(np.asarray(grad_outputs, dtype=out.dtype),
                               (batch, channels, frames.shape[1], out.shape[-1]))
        grad_re, grad_im = self._mode_backward(grad, re, im, power)
        flat_frames = frames.reshape(-1, frames.shape[-1])  # every frame of every signal
        grad_frames = np.zeros_like(frames)
        for side, grad_side in (("real", grad_re), ("imag", grad_im)):
            if grad_side is None:
                continue
            kernel = getattr(self, f"{side}_kernel")[:, 0, :].astype(frames.dtype, copy=False)
            gradient = getattr(self, f"{side}_kernel_gradient")
            gradient[:, 0, :] += flat_frames.T @ grad_side.reshape(-1, grad_side.shape[-1])
            grad_frames += grad_side @ kernel.T             # ∂L/∂W += Xᵀ δ, δX += δ Wᵀ
        grad_padded = overlap_add(grad_frames, self._frame_step, padded_length)
        grad_x = grad_padded[:, before:before + length].reshape(batch, channels, length)
        return grad_x.transpose(0, 2, 1) if self.data_format == "channels_last" else grad_x

    def _mode_backward(self, grad, re, im, power):
        """``(δre, δim)`` from ``δa`` per signal (None for a part the mode lacks)."""
        if self.mode == "real":
            return grad, None
        if self.mode == "imag":
            return None, grad
        if self.mode == "stft":
            half = grad.shape[-1] // 2
            return grad[..., :half], grad[..., half:]
        if self.mode == "angle":
            r2 = np.square(re) + np.square(im)
            return -im / r2 * grad, re / r2 * grad          # ∂atan2(im, re)
        if self.mode == "psd":
            grad_power = grad * self._psd_factors(power)
        else:
            eps = power.dtype.type(config.epsilon())
            magnitude = np.sqrt(np.maximum(power, eps))
            if self.mode == "log":                          # δa ← δ/a where a ≥ ε (always)
                grad = grad / magnitude * (magnitude >= eps)
            grad_power = grad / (2 * magnitude) * (power >= eps)
        return 2 * re * grad_power, 2 * im * grad_power

    def get_config(self) -> dict:
        """Keras' keys: ``mode``, ``frame_length``, ``frame_step``, ``fft_length``,
        ``window``, ``periodic``, ``scaling``, ``padding``, ``data_format``, ``expand_dims``."""
        return {**super().get_config(), "mode": self.mode, "frame_length": self.frame_length,
                "frame_step": self.frame_step, "fft_length": self.fft_length,
                "window": self.window, "periodic": self.periodic, "scaling": self.scaling,
                "padding": self.padding, "data_format": self.data_format,
                "expand_dims": self.expand_dims}


class STFTSpectrogramCache(NamedTuple):
    """What one call of an STFTSpectrogram keeps for its backward pass."""

    frames: np.ndarray          #: X, (signals, frames, T): ∂L/∂W = Xᵀ δre needs them
    re: np.ndarray | None       #: X W_re
    im: np.ndarray | None       #: X W_im
    power: np.ndarray | None    #: re² + im² (modes built on the power)
    out: np.ndarray             #: the mode's output per signal
    x_shape: tuple              #: (N, C, time)
    padded_length: int          #: samples of the (zero-padded) signal the frames cover
    before: int                 #: zeros padded before the signal ("same")
