"""Signals: ``extract_sequences`` and Keras' FFT family, ``fft``, ``fft2``, ``ifft2``,
``rfft``, ``irfft``, ``stft``, ``istft``.

minired has no complex dtype: as ``keras.ops``, a complex array travels as a pair
``(real, imag)`` of float arrays, ``z = real + i·imag``.

The discrete Fourier transform of ``z`` (length ``N``, along the last axis) is
``Zₖ = Σₙ zₙ e^{−2πi kn/N}``, a matrix product ``Z = F z``. Every op here is linear in its
float inputs, so its VJP is the adjoint map. For a complex-linear ``A`` (``fft``, ``fft2``,
``ifft2``), with ``δZ = δa_real + i δa_imag``:

    ``δz = Aᴴ δZ``, i.e. ``δreal = Re(Aᴴ δZ)``, ``δimag = Im(Aᴴ δZ)``,

and ``Fᴴ = N · ifft``: the VJP of a DFT is an inverse DFT (times ``N``), the VJP of an
inverse DFT a DFT (divided by ``N``). ``rfft`` reads a real ``x``: ``δx = Re(Aᴴ δZ)``.
``irfft`` builds a Hermitian spectrum from half of it, so its VJP is ``rfft`` of ``δy``
weighted by how many times each bin counts: ``δZₖ = cₖ/N · rfft(δy)ₖ`` with ``c₀ = 1``,
``c_{N/2} = 1`` (even ``N``) and ``cₖ = 2`` otherwise. The DFTs are computed by NumPy in
complex128 and rounded to the inputs' dtype (TensorFlow computes float32 inputs in complex64:
the float32 results agree to float32 rounding).

``stft`` and ``istft`` are written, as Keras' TensorFlow backend writes them
(``tf.signal.stft``/``inverse_stft``), with ``pad``, ``extract_sequences``, a product by the
window, ``rfft``/``irfft`` and an overlap-add, so their VJPs follow from those. The window, when
an array, is differentiated too (as in TensorFlow).

Example:
    >>> from minired import ops
    >>> real, imag = ops.fft((np.array([1.0, 0.0, 0.0, 0.0]), np.zeros(4)))
    >>> real, imag
    (array([1., 1., 1., 1.]), array([0., 0., 0., 0.]))
"""

from __future__ import annotations

import numpy as np

from minired.autodiff.tape import record
from minired.ops import elementwise as ew
from minired.ops import reductions as rd
from minired.ops import shapes as sh
from minired.ops.core import cast
from minired.ops.elementwise import _value


def _array(x) -> np.ndarray:
    return np.asarray(_value(x))


def _pair(name: str, x) -> tuple:
    """The ``(real, imag)`` pair, checked as Keras' ``_get_complex_tensor_from_tuple``."""
    if not isinstance(x, tuple | list) or len(x) != 2:
        raise ValueError(f"{name}: input `x` should be a tuple of two tensors - real and "
                         f"imaginary. Received: x={x!r}")
    real, imag = x
    re, im = _array(real), _array(imag)
    if re.shape != im.shape:
        raise ValueError(f"{name}: both the real and imaginary parts of `x` should have the "
                         f"same shape. Received: x[0].shape = {re.shape}, x[1].shape = "
                         f"{im.shape}")
    if not (np.issubdtype(re.dtype, np.floating) and np.issubdtype(im.dtype, np.floating)):
        raise ValueError(f"{name}: at least one array in input `x` is not of type float. "
                         f"Received dtypes {re.dtype} and {im.dtype}.")
    return real, imag, re, im, np.result_type(re.dtype, im.dtype)


def _complex_linear(real, imag, z, forward, adjoint, dtype) -> tuple:
    """``A z`` as a ``(real, imag)`` pair; the VJP of each part is ``Aᴴ`` of ``δ`` (real
    part) or of ``i δ`` (imaginary part), split into the gradients of ``real`` and ``imag``."""
    a = forward(z)

    def vjp(g, unit):
        w = adjoint(unit * np.asarray(g))
        return w.real.astype(dtype), w.imag.astype(dtype)

    return (record(a.real.astype(dtype), (real, imag), lambda g: vjp(g, 1.0)),
            record(a.imag.astype(dtype), (real, imag), lambda g: vjp(g, 1j)))


def _checked_rank(name: str, v: np.ndarray, rank: int) -> None:
    if v.ndim < rank:
        raise ValueError(f"{name}: input `x` must have at least {rank} dimension(s), got shape "
                         f"{v.shape}.")


def extract_sequences(x, sequence_length: int, sequence_stride: int):
    """The windows of ``sequence_length`` samples every ``sequence_stride`` along the last
    axis: ``a[..., f, j] = x[..., f·stride + j]`` (``tf.signal.frame`` without padding).

    VJP (overlap-add): ``δx[..., t] = Σ_{f, j: f·stride + j = t} δa[..., f, j]``.

    Args:
        x: the array, shape ``(..., T)``.
        sequence_length: the length ``L`` of each sequence.
        sequence_stride: the step between the starts of consecutive sequences.

    Returns:
        Shape ``(..., 1 + (T − L) // stride, L)`` (no sequence when ``T < L``).

    Example:
        >>> extract_sequences(np.arange(6.0), 3, 2)
        array([[0., 1., 2.],
               [2., 3., 4.]])
    """
    v = _array(x)
    _checked_rank("extract_sequences", v, 1)
    for arg, value in (("sequence_length", sequence_length),
                       ("sequence_stride", sequence_stride)):
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or value <= 0:
            raise ValueError(f"extract_sequences: `{arg}` must be a positive integer, got "
                             f"{value!r}.")
    n = v.shape[-1]
    count = max(0, 1 + (n - sequence_length) // sequence_stride)
    index = (np.arange(count)[:, None] * sequence_stride
             + np.arange(sequence_length)[None, :])
    a = v[..., index]

    def vjp(g):
        return (_overlap_add_values(np.asarray(g), sequence_stride, n),)

    return record(a, (x,), vjp)


def _overlap_add_values(frames: np.ndarray, step: int, length: int | None = None):
    """``y[..., t] = Σ_{f·step + j = t} frames[..., f, j]`` (``length`` samples)."""
    count, size = frames.shape[-2:]
    if length is None:
        length = (count - 1) * step + size if count else 0
    index = (np.arange(count)[:, None] * step + np.arange(size)[None, :]).ravel()
    flat = np.moveaxis(frames.reshape(*frames.shape[:-2], count * size), -1, 0)
    out = np.zeros((length, *flat.shape[1:]), dtype=frames.dtype)
    np.add.at(out, index, flat)
    return np.moveaxis(out, 0, -1)


def _overlap_add(frames, step: int):
    """``tf.signal.overlap_and_add``; VJP: the frames of ``δy`` (``extract_sequences``)."""
    v = _array(frames)
    size = v.shape[-1]
    a = _overlap_add_values(v, step)
    return record(a, (frames,),
                  lambda g: (np.asarray(g)[..., (np.arange(v.shape[-2])[:, None] * step
                                                 + np.arange(size)[None, :])],))


def fft(x):
    """``Z = F z`` along the last axis, ``Zₖ = Σₙ zₙ e^{−2πi kn/N}``, on a ``(real, imag)``
    pair. VJP: ``δz = Fᴴ δZ = N · ifft(δZ)``.

    Args:
        x: the pair ``(real, imag)`` of float arrays of the same shape.

    Returns:
        The pair ``(real, imag)`` of the transform.

    Example:
        >>> fft((np.array([1.0, 2.0]), np.array([0.0, 1.0])))
        (array([ 3., -1.]), array([ 1., -1.]))
    """
    real, imag, re, im, dtype = _pair("fft", x)
    _checked_rank("fft", re, 1)
    n = re.shape[-1]
    return _complex_linear(real, imag, re + 1j * im, lambda z: np.fft.fft(z, axis=-1),
                           lambda d: np.fft.ifft(d, axis=-1) * n, dtype)


def fft2(x):
    """The 2-D DFT over the last two axes, ``Z = F_H z F_W``, on a ``(real, imag)`` pair.
    VJP: ``δz = H W · ifft2(δZ)``.

    Args:
        x: the pair ``(real, imag)`` of float arrays of the same shape (rank ≥ 2).

    Returns:
        The pair ``(real, imag)`` of the transform.

    Example:
        >>> fft2((np.ones((2, 2)), np.zeros((2, 2))))[0]
        array([[4., 0.],
               [0., 0.]])
    """
    real, imag, re, im, dtype = _pair("fft2", x)
    _checked_rank("fft2", re, 2)
    size = re.shape[-1] * re.shape[-2]
    return _complex_linear(real, imag, re + 1j * im, lambda z: np.fft.fft2(z),
                           lambda d: np.fft.ifft2(d) * size, dtype)


def ifft2(x):
    """The inverse 2-D DFT over the last two axes, ``z = F_Hᴴ Z F_Wᴴ / (H W)``, on a
    ``(real, imag)`` pair. VJP: ``δZ = fft2(δz) / (H W)``.

    Args:
        x: the pair ``(real, imag)`` of float arrays of the same shape (rank ≥ 2).

    Returns:
        The pair ``(real, imag)`` of the inverse transform.

    Example:
        >>> ifft2((np.full((2, 2), 4.0), np.zeros((2, 2))))[0]
        array([[4., 0.],
               [0., 0.]])
    """
    real, imag, re, im, dtype = _pair("ifft2", x)
    _checked_rank("ifft2", re, 2)
    size = re.shape[-1] * re.shape[-2]
    return _complex_linear(real, imag, re + 1j * im, lambda z: np.fft.ifft2(z),
                           lambda d: np.fft.fft2(d) / size, dtype)


def _fft_length(name: str, fft_length, default: int) -> int:
    if fft_length is None:
        return default
    if isinstance(fft_length, bool) or not isinstance(fft_length, int | np.integer) or (
            fft_length <= 0):
        raise ValueError(f"{name}: `fft_length` must be a positive integer, got "
                         f"{fft_length!r}.")
    return int(fft_length)


def _fit(v: np.ndarray, length: int) -> np.ndarray:
    """``v`` cropped or zero-padded to ``length`` along the last axis."""
    if v.shape[-1] >= length:
        return v[..., :length]
    return np.concatenate([v, np.zeros((*v.shape[:-1], length - v.shape[-1]), v.dtype)], -1)


def rfft(x, fft_length=None):
    """The DFT of a real ``x`` along the last axis, its ``N//2 + 1`` non-negative
    frequencies (``x`` cropped or zero-padded to ``N = fft_length``).
    VJP: ``δx = Re(Fᴴ δZ)`` (``δZ`` padded with zeros to ``N``), cropped or padded back.

    Args:
        x: the real float array.
        fft_length: ``N``; the length of the last axis if None.

    Returns:
        The pair ``(real, imag)``, last axis ``N//2 + 1``.

    Example:
        >>> rfft(np.array([1.0, 2.0, 3.0, 4.0]))
        (array([10., -2., -2.]), array([0., 2., 0.]))
    """
    v = _array(x)
    _checked_rank("rfft", v, 1)
    if not np.issubdtype(v.dtype, np.floating):
        raise TypeError(f"rfft: `x` must be a float array, got dtype {v.dtype}.")
    n = _fft_length("rfft", fft_length, v.shape[-1])
    a = np.fft.rfft(v, n=n, axis=-1)

    def vjp(g, unit):
        half = unit * np.asarray(g)
        full = np.fft.ifft(_fit(half, n), axis=-1) * n
        return (_fit(full.real, v.shape[-1]).astype(v.dtype),)

    return (record(a.real.astype(v.dtype), (x,), lambda g: vjp(g, 1.0)),
            record(a.imag.astype(v.dtype), (x,), lambda g: vjp(g, 1j)))


def irfft(x, fft_length=None):
    """The real inverse DFT of the half spectrum ``Z`` (``(real, imag)``, last axis ``M``):
    ``yₜ = (1/N) Σₖ Zₖ e^{2πi kt/N}`` over the Hermitian spectrum of ``N = fft_length``
    (``2 (M − 1)`` by default; ``Z`` cropped or zero-padded to ``N//2 + 1``; the imaginary
    parts of ``Z₀`` and, for even ``N``, ``Z_{N/2}`` are ignored).
    VJP: ``δZₖ = cₖ/N · rfft(δy)ₖ``, ``cₖ = 2`` except ``c₀ = c_{N/2} = 1``.

    Args:
        x: the pair ``(real, imag)`` of float arrays.
        fft_length: ``N``, the length of the output's last axis.

    Example:
        >>> irfft((np.array([10.0, -2.0, -2.0]), np.array([0.0, 2.0, 0.0])))
        array([1., 2., 3., 4.])
    """
    real, imag, re, im, dtype = _pair("irfft", x)
    _checked_rank("irfft", re, 1)
    m = re.shape[-1]
    n = _fft_length("irfft", fft_length, 2 * (m - 1))
    half = n // 2 + 1
    y = np.fft.irfft(_fit(re + 1j * im, half), n=n, axis=-1).astype(dtype)
    weight = np.full(half, 2.0)
    weight[0] = 1.0
    if n % 2 == 0:
        weight[-1] = 1.0

    def vjp(g):
        spectrum = _fit(np.fft.rfft(np.asarray(g), n=n, axis=-1) * weight / n, m)
        return spectrum.real.astype(dtype), spectrum.imag.astype(dtype)

    return record(y, (real, imag), vjp)


_WINDOWS = ("hann", "hamming")


def _window(name: str, window, sequence_length: int, fft_length: int, dtype):
    """Keras' window: ``tf.signal.hann_window``/``hamming_window`` (periodic, which TF
    applies to even lengths only) or the given array (differentiable, as in TensorFlow),
    zero-padded to ``fft_length`` with the window centred."""
    if window is None:
        return None
    left = (fft_length - sequence_length) // 2
    padding = [(left, fft_length - sequence_length - left)]
    if isinstance(window, str):
        if window not in _WINDOWS:
            raise ValueError(f"{name}: if a string is passed to `window`, it must be one of "
                             f"'hann', 'hamming'. Received: window={window!r}")
        a0 = 0.5 if window == "hann" else 0.54
        if sequence_length == 1:
            w = np.ones(1, dtype=dtype)
        else:
            period = sequence_length if sequence_length % 2 == 0 else sequence_length - 1
            count = np.arange(sequence_length, dtype=dtype)
            w = (a0 - (1 - a0) * np.cos(2 * np.pi * count / period)).astype(dtype)
        return np.pad(w, padding[0])
    v = _array(window)
    if v.shape != (sequence_length,):
        raise ValueError(f"{name}: the shape of `window` must be equal to [sequence_length]. "
                         f"Received: window shape={v.shape}")
    if v.dtype != dtype:
        window = cast(window, dtype)
    return sh.pad(window, padding)


def _check_stft_arguments(name: str, sequence_length, sequence_stride, fft_length) -> None:
    if isinstance(sequence_stride, bool) or not isinstance(sequence_stride, int) or (
            sequence_stride <= 0):
        raise ValueError(f"{name}: `sequence_stride` must be a positive integer. Received: "
                         f"sequence_stride={sequence_stride!r}")
    for arg, value in (("sequence_length", sequence_length), ("fft_length", fft_length)):
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or value <= 0:
            raise ValueError(f"{name}: `{arg}` must be a positive integer, got {value!r}.")
    if fft_length < sequence_length:
        raise ValueError(f"{name}: `fft_length` must equal or larger than `sequence_length`. "
                         f"Received: sequence_length={sequence_length}, "
                         f"fft_length={fft_length}")


def stft(x, sequence_length: int, sequence_stride: int, fft_length: int, window="hann",
         center: bool = True):
    """The short-time Fourier transform of the real signal ``x`` along its last axis:
    ``Z[..., f, k] = Σⱼ w[j] x[..., f·stride + j] e^{−2πi kj/N}`` (``N = fft_length``).

    With ``center``, ``x`` is first padded by reflection with ``N//2`` samples on each side.
    The window of ``sequence_length`` samples is centred in the frame of ``N`` (zeros
    around it). VJP: that of the composition ``pad → extract_sequences → ⊙ w → rfft``.

    Args:
        x: the float32/float64 signal, shape ``(..., T)``.
        sequence_length: the window's length.
        sequence_stride: the hop between frames.
        fft_length: ``N``, the frame and DFT length (≥ ``sequence_length``).
        window: ``"hann"``, ``"hamming"``, a 1-D array of ``sequence_length``, or None.
        center: pad ``x`` by reflection so that frame ``f`` is centred at ``f·stride``.

    Returns:
        The pair ``(real, imag)``, shape ``(..., frames, N//2 + 1)``.

    Example:
        >>> real, imag = stft(np.ones(8), 4, 2, 4, window=None)
        >>> real[:, 0]
        array([4., 4., 4., 4., 4.])
    """
    v = _array(x)
    if v.dtype not in (np.float32, np.float64):
        raise TypeError(f"stft: invalid input type. Expected `float32` or `float64`. "
                        f"Received: input type={v.dtype}")
    _check_stft_arguments("stft", sequence_length, sequence_stride, fft_length)
    _checked_rank("stft", v, 1)
    w = _window("stft", window, sequence_length, fft_length, v.dtype)
    if center:
        half = fft_length // 2
        if v.shape[-1] <= half:
            raise ValueError(f"stft: with center=True the signal must be longer than "
                             f"fft_length // 2 = {half} (reflection padding), got "
                             f"{v.shape[-1]} samples.")
        x = sh.pad(x, [(0, 0)] * (v.ndim - 1) + [(half, half)], mode="reflect")
    frames = extract_sequences(x, fft_length, sequence_stride)
    if w is not None:
        frames = ew.multiply(frames, w)
    return rfft(frames, fft_length)


def _inverse_window(w, step: int):
    """``tf.signal.inverse_stft_window_fn``: ``w`` divided by the sum of the squared windows
    that overlap each position (so that ``istft(stft(x)) = x``), with the same ops."""
    size = np.shape(_value(w))[0]
    overlaps = -(-size // step)
    denominator = sh.pad(ew.square(w), [(0, overlaps * step - size)])
    denominator = rd.sum(sh.reshape(denominator, (overlaps, step)), axis=0, keepdims=True)
    denominator = sh.reshape(sh.tile(denominator, (overlaps, 1)), (overlaps * step,))
    with np.errstate(divide="ignore", invalid="ignore"):   # 0/0 = NaN, as TensorFlow
        return ew.divide(w, sh.getitem(denominator, np.s_[:size]))


def istft(x, sequence_length: int, sequence_stride: int, fft_length: int, length=None,
          window="hann", center: bool = True):
    """The inverse short-time Fourier transform of the pair ``x`` (``(..., frames,
    N//2 + 1)``): each frame's ``irfft``, times the inverse window ``w / Σ w²`` (the sum of
    the squared windows over the overlapping frames), overlap-added; the ``N//2`` reflected
    samples at each end are removed with ``center``. VJP: that of the composition
    ``irfft → ⊙ w̃ → overlap-add → slice``.

    Args:
        x: the pair ``(real, imag)`` of float arrays.
        sequence_length: the window's length.
        sequence_stride: the hop between frames.
        fft_length: ``N``, the frame and DFT length (≥ ``sequence_length``).
        length: the number of output samples to keep (from the start); all if None.
        window: ``"hann"``, ``"hamming"``, a 1-D array of ``sequence_length``, or None.
        center: whether ``x`` came from a centred ``stft``.

    Example:
        >>> signal = np.sin(np.arange(16.0))
        >>> back = istft(stft(signal, 8, 2, 8), 8, 2, 8, length=16)
        >>> bool(np.allclose(back[4:12], signal[4:12]))  # (the ends lack overlapping frames)
        True
    """
    real, imag, re, _, dtype = _pair("istft", x)
    _check_stft_arguments("istft", sequence_length, sequence_stride, fft_length)
    _checked_rank("istft", re, 2)
    w = _window("istft", window, sequence_length, fft_length, dtype)
    frames = irfft((real, imag), fft_length)
    if w is not None:
        frames = ew.multiply(frames, _inverse_window(w, sequence_stride))
    y = _overlap_add(frames, sequence_stride)
    expected = fft_length + sequence_stride * (re.shape[-2] - 1)
    start = fft_length // 2 if center else 0
    if length is not None:
        end = start + length
    elif center:
        end = -(fft_length // 2)
    else:
        end = expected
    return sh.getitem(y, (Ellipsis, np.s_[start:end]))
