"""More element-wise ops: NaN-aware ``fmax``/``fmin``, ``ldexp``, ``logaddexp2``, ``i0``,
``erfinv``; tests (``isclose``, ``isin``, ``signbit``...); casts (``saturate_cast``,
``view``) and the complex-number parts of real arrays.

As in :mod:`~minired.ops.elementwise`, a smooth ``a = f(x)`` has the VJP
``δx = δa ⊙ f'(x)``; tests, integer and bit-level results are constants for the tape.

minired has no complex arrays: ``real``, ``imag``, ``conj`` and ``angle`` take real ones
(where they are ``x``, ``0``, ``x`` and ``π [x < 0]``, as in TensorFlow) and refuse complex
ones with a ``TypeError``.

Example:
    >>> from minired import ops
    >>> ops.fmax(np.array([1.0, np.nan]), np.array([np.nan, 2.0]))
    array([1., 2.])
"""

from __future__ import annotations

import math

import numpy as np

from minired import config
from minired.autodiff.tape import record
from minired.ops import elementwise as ew
from minired.ops.elementwise import _binary, _float, _value


def _array(x) -> np.ndarray:
    return np.asarray(_value(x))


# -- tests: boolean results -------------------------------------------------------------------
def isclose(x1, x2, rtol=1e-5, atol=1e-8, equal_nan=False):
    """``|x₁ − x₂| ≤ atol + rtol |x₂|`` element-wise (``x₁ = x₂`` for integers); with
    ``equal_nan``, two NaNs count as close. Bool, no gradient.

    Args:
        x1, x2: arrays or Python numbers, broadcast together.
        rtol, atol: the relative and absolute tolerances.
        equal_nan: count two NaNs as close.

    Example:
        >>> isclose(np.array([1.0, 1.1]), 1.0)
        array([ True, False])
    """
    v1, v2, dt = _binary(x1, x2)
    v1, v2 = np.asarray(v1, dtype=dt), np.asarray(v2, dtype=dt)
    if not np.issubdtype(dt, np.floating):
        return np.asarray(np.equal(v1, v2))
    with np.errstate(invalid="ignore"):
        result = np.abs(v1 - v2) <= (atol + rtol * np.abs(v2))
    if equal_nan:
        result = result | (np.isnan(v1) & np.isnan(v2))
    return np.asarray(result)


def allclose(x1, x2, rtol=1e-5, atol=1e-8, equal_nan=False):
    """Whether every pair is close (as :func:`isclose`; equal infinities are close).

    Args:
        x1, x2, rtol, atol, equal_nan: as :func:`isclose`.

    Example:
        >>> allclose(np.array([1.0, 1.0 + 1e-9]), 1.0)
        array(True)
    """
    v1, v2, dt = _binary(x1, x2)
    v1, v2 = np.asarray(v1, dtype=dt), np.asarray(v2, dtype=dt)
    if not np.issubdtype(dt, np.floating):
        return np.asarray(np.all(np.equal(v1, v2)))
    with np.errstate(invalid="ignore"):
        close = np.isfinite(v1) & np.isfinite(v2) & (np.abs(v1 - v2) <= atol + rtol * np.abs(v2))
    result = close | (v1 == v2)
    if equal_nan:
        result = result | (np.isnan(v1) & np.isnan(v2))
    return np.asarray(np.all(result))


def isin(x1, x2, assume_unique=False, invert=False):
    """Whether each element of ``x₁`` is among the elements of ``x₂`` (``not`` with
    ``invert``). Bool, shaped like ``x₁``.

    Args:
        x1: the elements to look up.
        x2: the elements to look among (any shape).
        assume_unique: accepted for Keras' signature (the result is the same).
        invert: return "not in" instead.

    Example:
        >>> isin(np.array([1, 2, 3]), np.array([2, 5]))
        array([False,  True, False])
    """
    v1, v2, dt = _binary(x1, x2)
    return np.asarray(np.isin(np.asarray(v1, dtype=dt), np.asarray(v2, dtype=dt),
                              invert=invert))


def isneginf(x):
    """Whether each element is −∞ (never for integers).

    Args:
        x: the array.

    Example:
        >>> isneginf(np.array([-np.inf, np.inf, 0.0]))
        array([ True, False, False])
    """
    return np.asarray(np.isneginf(_array(x)) if np.issubdtype(_array(x).dtype, np.floating)
                      else np.zeros(np.shape(_array(x)), dtype=bool))


def isposinf(x):
    """Whether each element is +∞ (never for integers).

    Args:
        x: the array.

    Example:
        >>> isposinf(np.array([-np.inf, np.inf, 0.0]))
        array([False,  True, False])
    """
    return np.asarray(np.isposinf(_array(x)) if np.issubdtype(_array(x).dtype, np.floating)
                      else np.zeros(np.shape(_array(x)), dtype=bool))


def isreal(x):
    """Whether each element has no imaginary part: all true (minired's arrays are real).

    Args:
        x: a real array.

    Example:
        >>> isreal(np.array([1.0, 2.0]))
        array([ True,  True])
    """
    v = _array(x)
    _refuse_complex("isreal", v)
    return np.ones(v.shape, dtype=bool)


def signbit(x):
    """Whether the sign bit is set: ``x < 0``, and also for ``−0.0`` and ``−NaN``.

    Args:
        x: the array.

    Example:
        >>> signbit(np.array([-0.0, 0.0, -2.0]))
        array([ True, False,  True])
    """
    v = _array(x)
    if v.dtype == np.bool_:
        return np.zeros(v.shape, dtype=bool)
    return np.asarray(np.signbit(v) if np.issubdtype(v.dtype, np.floating) else v < 0)


# -- NaN-aware maximum and minimum ------------------------------------------------------------
def fmax(x1, x2):
    """``max(x₁, x₂)``, ignoring a NaN (NaN only where both are).

    Written as TensorFlow: ``maximum`` (a tie sends ``δa`` to ``x₁``), then ``where`` a NaN
    is replaced by the other value: ``δx₁ = δa ⊙ ([x₁ ≥ x₂] or x₂ is NaN)``.

    Args:
        x1, x2: arrays or Python numbers, broadcast together.

    Example:
        >>> fmax(np.array([1.0, np.nan, np.nan]), np.array([np.nan, 2.0, np.nan]))
        array([ 1.,  2., nan])
    """
    return _nan_extremum(x1, x2, ew.maximum)


def fmin(x1, x2):
    """``min(x₁, x₂)``, ignoring a NaN (NaN only where both are). VJP: as :func:`fmax`.

    Args:
        x1, x2: arrays or Python numbers, broadcast together.

    Example:
        >>> fmin(np.array([1.0, np.nan]), np.array([np.nan, 2.0]))
        array([1., 2.])
    """
    return _nan_extremum(x1, x2, ew.minimum)


def _nan_extremum(x1, x2, extremum):
    v1, v2, dt = _binary(x1, x2)
    a = extremum(x1, x2)
    if not np.issubdtype(dt, np.floating):
        return a
    nan1, nan2 = np.isnan(v1), np.isnan(v2)
    a = ew.where(nan1 & ~nan2, x2, a)
    return ew.where(nan2 & ~nan1, x1, a)


# -- smooth functions -------------------------------------------------------------------------
def ldexp(x1, x2):
    """``a = x₁ · 2^x₂`` (``x₂`` an integer). VJP: ``δx₁ = δa ⊙ 2^x₂`` (``δa`` where ``x₁`` is
    0 or ±∞, which TensorFlow passes through unchanged); none to the integer ``x₂``.

    Args:
        x1: the mantissas (ints give ``floatx``).
        x2: the integer exponents.

    Example:
        >>> ldexp(np.array([1.5, 3.0]), np.array([2, -1]))
        array([6. , 1.5])
    """
    v2 = _array(x2)
    if not (np.issubdtype(v2.dtype, np.integer) or isinstance(_value(x2), int)):
        raise TypeError(f"ldexp: the exponent `x2` must be an integer, got dtype {v2.dtype}.")
    dt = ew.result_dtype(x1, x2, need_float=True)
    v1 = np.asarray(_value(x1)).astype(dt)
    scale = np.power(np.asarray(2.0, dtype=dt), v2.astype(dt))
    keep = np.isinf(v1) | (v1 == 0)
    a = np.where(keep, v1, v1 * scale).astype(dt, copy=False)
    return record(a, (x1, x2), lambda g: (np.where(keep, g, g * scale), None))


def nextafter(x1, x2):
    """The next floating-point number after ``x₁`` towards ``x₂`` (computed in float64, then
    cast to the result dtype, as Keras). No gradient (TensorFlow has none).

    Args:
        x1: the starting values.
        x2: the directions.

    Example:
        >>> nextafter(np.array([1.0]), 2.0) - 1.0      # the float64 epsilon
        array([2.22044605e-16])
    """
    dt = ew.result_dtype(x1, x2, need_float=True)
    v1 = np.asarray(_value(x1), dtype=np.float64)
    v2 = np.asarray(_value(x2), dtype=np.float64)
    return np.asarray(np.nextafter(v1, v2)).astype(dt)


def logaddexp2(x1, x2):
    """``a = log₂(2^x₁ + 2^x₂)``, as Keras: ``max(x₁, x₂) + ln(1 + e^(−|x₁ − x₂| l))/l`` with
    ``l = ln 2`` rounded to float32 (TensorFlow's ``log(2.0)``; float64 results carry that
    rounding, a relative 1e-9).

    VJP: ``δx₁ = δa ⊙ σ((x₁ − x₂) l)``, ``δx₂ = δa ⊙ σ((x₂ − x₁) l)`` (``σ`` the logistic
    sigmoid: weights that add to 1, ``2^xᵢ / (2^x₁ + 2^x₂)``; at a tie ½ each, where
    TensorFlow's ``maximum`` gives the whole ``δa`` to ``x₁``).

    Args:
        x1, x2: arrays or Python numbers, broadcast together (ints give ``floatx``).

    Example:
        >>> logaddexp2(np.array([1.0, 3.0]), np.array([1.0, 0.0]))
        array([2.      , 3.169925])
    """
    v1, v2, dt = _binary(x1, x2, need_float=True)
    v1, v2 = np.asarray(v1, dtype=dt), np.asarray(v2, dtype=dt)
    ln2 = np.asarray(np.log(np.float32(2.0)), dtype=dt)
    with np.errstate(invalid="ignore"):
        delta = v1 - v2
        small = np.exp(-np.abs(delta) * ln2)                  # e^(−|x₁ − x₂| l) ≤ 1
        a = np.where(np.isnan(delta), v1 + v2,
                     np.maximum(v1, v2) + np.log1p(small) / ln2).astype(dt, copy=False)
        first = np.where(delta >= 0, 1 / (1 + small), small / (1 + small))

    return record(a, (x1, x2), lambda g: (g * first, g * (1 - first)))


def _bessel_i1(v: np.ndarray) -> np.ndarray:
    """``I₁(x) = Σₖ (x/2)^(2k+1) / (k! (k+1)!)``: positive terms summed until they no longer
    change the float64 sum (about ``|x|/2 + 30`` of them)."""
    x = np.asarray(v, dtype=np.float64)
    half = x / 2
    term = half.copy()
    total = term.copy()
    k = 0
    while np.any(np.abs(term) > 1e-17 * np.abs(total)) and k < 2000:
        term = term * half * half / ((k + 1) * (k + 2))
        total = total + term
        k += 1
    return total


def i0(x):
    """``a = I₀(x) = Σₖ (x/2)^(2k) / (k!)²``, the modified Bessel function of order 0.
    VJP: ``δx = δa ⊙ I₁(x)`` (``I₀' = I₁``). Integers give ``floatx`` (int64 float64).

    Args:
        x: the array.

    Example:
        >>> i0(np.array([0.0, 1.0]))
        array([1.        , 1.26606588])
    """
    v = np.asarray(_value(x))
    dt = np.dtype("float64") if v.dtype in (np.int64, np.float64) else np.dtype(
        config.floatx())
    v = v.astype(dt)
    a = np.i0(v).astype(dt)
    return record(a, (x,), lambda g: (g * _bessel_i1(v).astype(dt),))


_erf = np.vectorize(math.erf, otypes=[np.float64])


def erfinv(x):
    """``a = erf⁻¹(x)`` on ``(−1, 1)`` (±∞ at ±1): Giles' approximation refined by Newton
    steps on ``erf(a) = x``. VJP: ``δx = δa ⊙ (√π/2) e^(a²)`` (the inverse's slope).

    Args:
        x: values in ``[−1, 1]`` (ints give ``floatx``).

    Example:
        >>> erfinv(np.array([0.0, 0.5]))
        array([0.        , 0.47693628])
    """
    v = _float(x)
    w = np.asarray(v, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        a = _erfinv_guess(w)
        inside = np.abs(w) < 1
        for _ in range(3):               # Newton: a ← a − (erf a − x) / ((2/√π) e^(−a²))
            step = (_erf(np.where(inside, a, 0)) - w) * (math.sqrt(math.pi) / 2) * np.exp(
                np.where(inside, a, 0) ** 2)
            a = np.where(inside, a - step, a)
    a = a.astype(v.dtype)
    return record(a, (x,), lambda g: (g * (math.sqrt(math.pi) / 2) * np.exp(
        np.square(a.astype(np.float64))).astype(v.dtype),))


def _erfinv_guess(w):
    """Giles (2010), single precision: a starting point within 1e-7 of ``erf⁻¹(w)``."""
    t = -np.log((1 - w) * (1 + w))
    small = t < 5
    s = np.where(small, t - 2.5, np.sqrt(np.where(small, 5, t)) - 3)
    central = [2.81022636e-08, 3.43273939e-07, -3.5233877e-06, -4.39150654e-06, 0.00021858087,
               -0.00125372503, -0.00417768164, 0.246640727, 1.50140941]
    tail = [-0.000200214257, 0.000100950558, 0.00134934322, -0.00367342844, 0.00573950773,
            -0.0076224613, 0.00943887047, 1.00167406, 2.83297682]
    p = np.where(small, central[0], tail[0])
    for c, d in zip(central[1:], tail[1:], strict=True):
        p = np.where(small, c, d) + p * s
    return np.where(np.abs(w) == 1, np.sign(w) * np.inf, p * w)


# -- complex parts of real arrays -------------------------------------------------------------
def _refuse_complex(name: str, v) -> None:
    if np.iscomplexobj(v):
        raise TypeError(f"{name}: minired has no complex arrays (got dtype {v.dtype}); its "
                        "real, imag, conj and angle take real arrays only.")


def real(x):
    """The real part: ``x`` itself for a real array. VJP: ``δx = δa``.

    Args:
        x: a real array.

    Example:
        >>> real(np.array([1.0, -2.0]))
        array([ 1., -2.])
    """
    _refuse_complex("real", _array(x))
    return record(np.array(_array(x)), (x,), lambda g: (g,))


def imag(x):
    """The imaginary part: zeros of ``x``'s shape and dtype for a real array (a constant).

    Args:
        x: a real array.

    Example:
        >>> imag(np.array([1.0, -2.0]))
        array([0., 0.])
    """
    v = _array(x)
    _refuse_complex("imag", v)
    return np.zeros_like(v)


def conjugate(x):
    """The complex conjugate: ``x`` itself for a real array. VJP: ``δx = δa``.

    Args:
        x: a real array.

    Example:
        >>> conjugate(np.array([1.0, -2.0]))
        array([ 1., -2.])
    """
    _refuse_complex("conjugate", _array(x))
    return record(np.array(_array(x)), (x,), lambda g: (g,))


conj = conjugate


def angle(x):
    """The argument of each element: ``π`` where ``x < 0``, else 0, for a real array (ints
    give ``floatx``). Piecewise constant: no gradient.

    Args:
        x: a real array.

    Example:
        >>> angle(np.array([1.0, -2.0]))
        array([0.        , 3.14159265])
    """
    v = _float(x)
    _refuse_complex("angle", v)
    return np.where(v < 0, np.asarray(np.pi, dtype=v.dtype), np.zeros((), dtype=v.dtype))


# -- casts ------------------------------------------------------------------------------------
def _limits(dtype: np.dtype):
    """The smallest and largest values of ``dtype``, as exact Python numbers."""
    if dtype == np.bool_:
        return 0, 1
    if np.issubdtype(dtype, np.integer):
        return int(np.iinfo(dtype).min), int(np.iinfo(dtype).max)
    return float(np.finfo(dtype).min), float(np.finfo(dtype).max)


def saturate_cast(x, dtype):
    """``x`` clipped to the range of ``dtype``, then cast (no wrap-around: −1 becomes 0 in
    uint8, 300 becomes 255), as Keras' limits (nudged inside when ``x``'s dtype cannot hold
    them; minired compares exactly, so float32 → int32 saturates at 2147483520 where Keras,
    rounding 2³¹ − 1 up to 2³¹ in float32, overflows to −2³¹). VJP: that of
    :func:`~minired.ops.elementwise.clip` and
    :func:`~minired.ops.core.cast` (``δa`` where ``x`` is inside the range, float to float).

    Args:
        x: the array.
        dtype: the target dtype.

    Example:
        >>> saturate_cast(np.array([-1.0, 300.0]), "uint8")
        array([  0, 255], dtype=uint8)
    """
    from minired.ops.core import cast

    v = _array(x)
    out = np.dtype(dtype)
    in_min, in_max = _limits(v.dtype)
    out_min, out_max = _limits(out)
    with np.errstate(over="ignore"):
        low = np.asarray(max(in_min, out_min)).astype(v.dtype)
        if low.item() < out_min:     # (Python compares an int with a float exactly)
            low = np.nextafter(low, np.zeros((), v.dtype))
        high = np.asarray(min(in_max, out_max)).astype(v.dtype)
        if high.item() > out_max:
            high = np.nextafter(high, np.zeros((), v.dtype))
    return cast(ew.clip(x, low, high), out)


def view(x, dtype=None):
    """The same bytes read as ``dtype`` (a larger item size merges the last axis, a smaller
    one splits it, as ``np.ndarray.view``). No gradient.

    Args:
        x: the array.
        dtype: the dtype to read its bytes as (``x``'s when None).

    Example:
        >>> view(np.array([1.0], dtype="float32"), "int32")      # the bits of 1.0
        array([1065353216], dtype=int32)
    """
    v = np.ascontiguousarray(_array(x))
    new = np.dtype(dtype) if dtype is not None else v.dtype
    if v.ndim == 0 and new.itemsize != v.dtype.itemsize:
        raise ValueError(f"view: cannot view a scalar of dtype {v.dtype} as {new}: the item "
                         "sizes differ.")
    if v.ndim and (v.shape[-1] * v.dtype.itemsize) % new.itemsize:
        raise ValueError(f"view: cannot view an array of shape {v.shape} and dtype {v.dtype} "
                         f"as {new}: the last axis' bytes are not a multiple of {new.itemsize}.")
    return np.array(v.view(new))
