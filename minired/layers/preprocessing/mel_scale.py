"""The mel scale: ``hertz_to_mel`` and the triangular filter bank that turns a linear-frequency
spectrogram into a mel spectrogram (Keras' ``MelSpectrogram.linear_to_mel_weight_matrix``,
the HTK convention).

Keras computes the matrix in float32 with TensorFlow's ``log``, whose float32 results differ
from NumPy's in the last bit for about one value in six. A float64 model multiplies by those
float32 weights, so to reproduce Keras' float64 numbers this module computes the float32
logarithm as TensorFlow's CPU kernel does
(:func:`minired.keras_numerics.tensorflow_log_float32`).
"""

from __future__ import annotations

import numpy as np

from minired.keras_numerics import tensorflow_log_float32

#: The HTK mel scale: ``mel(f) = 1127 · ln(1 + f / 700)`` (= 2595 · log10(1 + f/700)).
MEL_BREAK_FREQUENCY_HERTZ = 700.0
MEL_HIGH_FREQUENCY_Q = 1127.0


def hertz_to_mel(frequencies_hertz, dtype="float32") -> np.ndarray:
    """``mel(f) = 1127 · ln(1 + f / 700)``, computed in ``dtype`` as Keras does.

    Example:
        >>> float(hertz_to_mel(700.0, "float64"))   # 1127 · ln 2
        781.1768724910584
    """
    dtype = np.dtype(dtype)
    f = np.asarray(frequencies_hertz, dtype=dtype)
    ratio = dtype.type(1.0) + f / dtype.type(MEL_BREAK_FREQUENCY_HERTZ)
    log = tensorflow_log_float32(ratio) if dtype == np.float32 else np.log(ratio)
    return dtype.type(MEL_HIGH_FREQUENCY_Q) * log


def _linspace(start, stop, num: int, dtype: np.dtype) -> np.ndarray:
    """``tf.linspace``: ``start + i · (stop − start)/(num − 1)`` in ``dtype``, the last value
    exactly ``stop``."""
    start, stop = dtype.type(start), dtype.type(stop)
    values = start + np.arange(num, dtype=dtype) * ((stop - start) / dtype.type(num - 1))
    values[-1] = stop
    return values.astype(dtype, copy=False)


def linear_to_mel_weight_matrix(num_mel_bins: int = 20, num_spectrogram_bins: int = 129,
                                sampling_rate: float = 8000, lower_edge_hertz: float = 125.0,
                                upper_edge_hertz: float = 3800.0,
                                dtype="float32") -> np.ndarray:
    """The matrix ``M`` (``num_spectrogram_bins × num_mel_bins``) that maps a linear
    spectrogram ``S`` to a mel spectrogram ``S M``, Keras' (and HTK's) triangular filters.

    The spectrogram's bins sit at ``f_k = k · (sampling_rate/2)/(K − 1)``; the band edges
    split ``[mel(lower), mel(upper)]`` evenly into ``num_mel_bins + 2`` points
    ``l_j < c_j < u_j`` (each band's centre is its neighbours' edge). Then, with
    ``m_k = mel(f_k)``::

        M[k, j] = max(0, min((m_k − l_j)/(c_j − l_j), (u_j − m_k)/(u_j − c_j)))

    (a triangle of peak 1 in the mel domain), and ``M[0, :] = 0`` (HTK drops the DC bin).

    Args:
        num_mel_bins: the mel bands.
        num_spectrogram_bins: ``K``, the spectrogram's bins (``fft_length // 2 + 1``).
        sampling_rate: the signal's samples per second.
        lower_edge_hertz: the lowest band's lower edge.
        upper_edge_hertz: the highest band's upper edge.
        dtype: the dtype to compute in (Keras' layer uses float32 in both precisions).

    Example:
        >>> m = linear_to_mel_weight_matrix(2, 5, 8000, 0.0, 4000.0)
        >>> m.shape, float(m[0].max())
        ((5, 2), 0.0)
    """
    dtype = np.dtype(dtype)
    nyquist = dtype.type(sampling_rate) / dtype.type(2.0)
    bins_mel = hertz_to_mel(_linspace(0.0, nyquist, num_spectrogram_bins, dtype)[1:],
                            dtype)[:, None]
    edges = _linspace(hertz_to_mel(lower_edge_hertz, dtype), hertz_to_mel(upper_edge_hertz,
                                                                         dtype),
                      num_mel_bins + 2, dtype)
    lower, center, upper = edges[None, :-2], edges[None, 1:-1], edges[None, 2:]
    lower_slopes = (bins_mel - lower) / (center - lower)
    upper_slopes = (upper - bins_mel) / (upper - center)
    weights = np.maximum(dtype.type(0), np.minimum(lower_slopes, upper_slopes))
    return np.pad(weights, [(1, 0), (0, 0)]).astype(dtype, copy=False)
