"""STFT: the kernels of a short-time Fourier transform written as a convolution."""

from __future__ import annotations

import numpy as np

from minired.initializers.initializer import Initializer, standardize_dtype, standardize_shape

#: SciPy's window names (``scipy.signal.get_window``) that minired computes, with their
#: aliases. Each maps to its cosine coefficients ``a_k`` (``w = Σ_k a_k cos(k φ)``,
#: ``φ`` from −π to π), or to a rule of its own.
_COSINE_WINDOWS = {"hann": (0.5, 0.5), "hamming": (0.54, 0.46),
                   "blackman": (0.42, 0.50, 0.08)}
_ALIASES = {"han": "hann", "hamm": "hamming", "ham": "hamming", "black": "blackman",
            "blk": "blackman", "box": "boxcar", "ones": "boxcar", "rect": "boxcar",
            "rectangular": "boxcar", "bart": "bartlett", "brt": "bartlett"}
WINDOWS = ("hann", "hamming", "blackman", "boxcar", "bartlett")


def _window_name(window: str) -> str:
    """The canonical name of a window, or a ValueError naming the ones minired computes."""
    name = _ALIASES.get(window, window)
    if name not in WINDOWS:
        raise ValueError(f"Unknown window type: window={window!r}. minired computes SciPy's "
                         f"windows {WINDOWS} (and their SciPy aliases).")
    return name


def get_window(window: str, length: int, periodic: bool = False) -> np.ndarray:
    """A window of ``length`` samples, float64, as ``scipy.signal.get_window(window, length,
    fftbins=periodic)`` computes it.

    The symmetric windows (``periodic=False``) are, with ``φ_n`` going from −π to π in
    ``length`` steps (``n = 0 … M−1``, ``M = length``)::

        hann:      w_n = 0.5 + 0.5 cos φ_n          (= 0.5 − 0.5 cos(2πn/(M−1)))
        hamming:   w_n = 0.54 + 0.46 cos φ_n
        blackman:  w_n = 0.42 + 0.5 cos φ_n + 0.08 cos 2φ_n
        boxcar:    w_n = 1
        bartlett:  w_n = 1 − |2n/(M−1) − 1|

    A periodic window (for spectral analysis) is the symmetric window of ``M + 1`` samples
    without its last one.

    Args:
        window: a name (``"hann"``, ``"hamming"``, ``"blackman"``, ``"boxcar"``,
            ``"bartlett"``, or a SciPy alias of one).
        length: ``M``, the number of samples.
        periodic: the periodic window instead of the symmetric one.

    Example:
        >>> get_window("hann", 5)
        array([0. , 0.5, 1. , 0.5, 0. ])
    """
    name = _window_name(window)
    if length <= 1:
        return np.ones(max(length, 0))
    m = length + 1 if periodic else length
    if name in _COSINE_WINDOWS:
        phi = np.linspace(-np.pi, np.pi, m)
        w = np.zeros(m)
        for k, a in enumerate(_COSINE_WINDOWS[name]):   # SciPy's general_cosine
            w += a * np.cos(k * phi)
    elif name == "boxcar":
        w = np.ones(m)
    else:                                               # SciPy's bartlett
        n = np.arange(0, m)
        w = np.where(np.less_equal(n, (m - 1) / 2.0), 2.0 * n / (m - 1), 2.0 - 2.0 * n / (m - 1))
    return w[:length]


class STFT(Initializer):
    """Kernels that make a 1-D convolution compute one side of a short-time Fourier transform.

    For a shape ``(T, 1, F)`` (frame length ``T``, ``F = N/2 + 1`` frequencies of a DFT of
    ``N = 2(F − 1)`` points), entry ``(t, 0, f)`` is::

        real:  W[t, f] = cos(−2π t f / N) · w_t / s
        imag:  W[t, f] = sin(−2π t f / N) · w_t / s

    with ``w`` the window (``window``; none if None) and ``s`` its scale: ``√(Σ w²)`` for
    ``scaling="density"``, ``Σ |w|`` for ``"spectrum"``, 1 for None (or without a window).
    A frame ``x`` (``T`` samples) times the two kernels gives the DFT of ``w ⊙ x / s``,
    ``Re Z_f = Σ_t x_t W_real[t, f]`` and ``Im Z_f = Σ_t x_t W_imag[t, f]``: what
    :class:`~minired.layers.STFTSpectrogram` computes. An initializer has no gradient.

    As Keras, the values are computed in ``dtype`` (π as ``arccos(−1)`` in ``dtype``); the
    window is computed in float64 (as SciPy) and then cast to ``dtype``.

    Args:
        side: ``"real"`` (the cosines) or ``"imag"`` (the sines).
        window: a window name (see :func:`get_window`), an array of ``T`` values, or None.
        scaling: ``"density"``, ``"spectrum"`` or None.
        periodic: a periodic window instead of a symmetric one.

    Example:
        >>> kernel = STFT("real", window=None)((4, 1, 3), dtype="float64")   # N = 4
        >>> np.round(kernel[:, 0, :], 12) + 0.0        # cos(−2π t f / 4), t down, f across
        array([[ 1.,  1.,  1.],
               [ 1.,  0., -1.],
               [ 1., -1.,  1.],
               [ 1.,  0., -1.]])
    """

    def __init__(self, side: str = "real", window="hann", scaling: str | None = "density",
                 periodic: bool = False) -> None:
        if side not in ("real", "imag"):
            raise ValueError(f"side should be 'real' or 'imag', not {side}")
        if isinstance(window, str):
            _window_name(window)         # an unknown window fails here, as in Keras
        if scaling is not None and scaling not in ("density", "spectrum"):
            raise ValueError("Scaling is invalid, it must be `None`, 'density' or 'spectrum'. "
                             f"Received scaling={scaling}")
        self.side = side
        self.window = window
        self.scaling = scaling
        self.periodic = periodic

    def __call__(self, shape: tuple[int, ...], dtype=None) -> np.ndarray:
        dtype = standardize_dtype(dtype)
        shape = standardize_shape(shape)
        if len(shape) != 3:
            raise ValueError(f"STFT: `shape` must be (frame_length, input_channels, "
                             f"fft_length // 2 + 1), got {shape}.")
        frame_length, _, fft_bins = shape
        win, scale = None, dtype.type(1)
        if self.window is not None:
            win = self.window
            if isinstance(win, str):
                win = get_window(win, frame_length, self.periodic)
            win = np.asarray(win).astype(dtype)
            if win.shape != (frame_length,):
                raise ValueError("The shape of `window` must be equal to [frame_length]."
                                 f"Received: window shape={win.shape}")
            win = win.reshape(frame_length, 1, 1)
            if self.scaling == "density":
                scale = np.sqrt(np.sum(np.square(win)))             # s = √(Σ w²)
            elif self.scaling == "spectrum":
                scale = np.sum(np.abs(win))                         # s = Σ |w|
        n = dtype.type((fft_bins - 1) * 2)                          # N, the DFT's length
        with np.errstate(divide="ignore", invalid="ignore"):        # F = 1: 0/0, as Keras
            freq = np.arange(fft_bins, dtype=dtype).reshape(1, 1, fft_bins) / n
        time = np.arange(frame_length, dtype=dtype).reshape(frame_length, 1, 1)
        angle = (dtype.type(-2) * time * freq) * np.arccos(dtype.type(-1))   # −2π t f / N
        kernel = np.cos(angle) if self.side == "real" else np.sin(angle)
        if win is not None:
            kernel = kernel * win / scale
        return kernel.astype(dtype, copy=False)

    def get_config(self) -> dict:
        """Keras' keys: ``side``, ``window``, ``periodic``, ``scaling``."""
        return {"side": self.side, "window": self.window, "periodic": self.periodic,
                "scaling": self.scaling}
