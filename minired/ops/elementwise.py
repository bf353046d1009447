"""Element-wise operations, each with its vector-Jacobian product (VJP).

An element-wise op ``a = f(x)`` has a diagonal Jacobian, so its VJP is a product:
``δx = δa ⊙ f'(x)``. A binary op ``a = f(x₁, x₂)`` broadcasts, and returns the full-size
``δx₁ = δa ⊙ ∂f/∂x₁``; the tape sums it back to ``x₁``'s shape (``unbroadcast``).

Every function takes arrays, traced arrays or Python numbers (which stay "weak", as in
Keras and NumPy 2: ``x * 2.0`` keeps ``x``'s float32). Keras' dtype rules on top of NumPy's:
an integer array with a Python float gives ``floatx`` (NumPy would give float64), and the
functions that only make sense on floats (``divide``, ``exp``, ``sqrt``...) turn integers
into ``floatx``.

Where the derivative is undefined, the VJP uses TensorFlow's choice (the tests compare):
``abs`` has slope 0 at 0, ``maximum`` sends the gradient of a tie to ``x₁``, ``clip`` passes
it through at the boundaries.

Comparisons, logical ops, ``sign``, ``round``, ``floor``, ``ceil``, ``trunc`` and
``floor_divide`` are piecewise constant: their outputs are constants for the tape (zero
gradient, as in TensorFlow, where the gradient is zero or None).
"""

from __future__ import annotations

import math

import numpy as np

from minired import config
from minired.autodiff.tape import record

_PYTHON_NUMBERS = bool | int | float | complex


def _value(x):
    """The plain NumPy value of an operand (Python numbers stay numbers)."""
    if isinstance(x, np.ndarray):
        return x.view(np.ndarray)
    if isinstance(x, _PYTHON_NUMBERS | np.generic):
        return x
    from minired.ops.core import convert_to_tensor

    return convert_to_tensor(x)


def _weak(v) -> bool:
    """Whether ``v`` is a Python number (NumPy's float64 scalar subclasses float, but is not
    weak)."""
    return isinstance(v, _PYTHON_NUMBERS) and not isinstance(v, np.generic)


def result_dtype(*xs, need_float: bool = False) -> np.dtype:
    """Keras' result dtype of an op on ``xs``: NumPy 2's (Python numbers are weak), except
    that ints meeting a Python float, and ints where a float is needed, give ``floatx``, and
    int arrays meeting float arrays give the floats' dtype."""
    values = [_value(x) for x in xs if x is not None]
    float_arrays = [v for v in values
                    if not _weak(v) and np.issubdtype(np.result_type(v), np.floating)]
    # An integer array meeting a float array takes the float's dtype (int32 + float32 is
    # float32 in Keras, float64 in NumPy).
    dtype = np.result_type(*values) if not float_arrays else np.result_type(
        *float_arrays, *(v for v in values if _weak(v)))
    floating = np.issubdtype(dtype, np.floating)
    has_float_array = bool(float_arrays)
    if (floating and not has_float_array) or (need_float and not floating):
        return np.dtype(config.floatx())
    return dtype


def _float(x):
    """The value of ``x`` as a float array (ints and Python numbers become ``floatx``)."""
    v = np.asarray(_value(x))
    dtype = result_dtype(x, need_float=True)
    return v if v.dtype == dtype else v.astype(dtype)


def _binary(x1, x2, need_float: bool = False):
    """Both values, cast to the result dtype (Python numbers stay weak)."""
    dtype = result_dtype(x1, x2, need_float=need_float)

    def one(x):
        v = _value(x)
        return v if _weak(v) else np.asarray(v, dtype=dtype)

    return one(x1), one(x2), dtype


def _cast(a, dtype):
    return np.asarray(a).astype(dtype, copy=False)


# -- arithmetic -------------------------------------------------------------------------------
def add(x1, x2):
    """``a = x₁ + x₂``. VJP: ``δx₁ = δa``, ``δx₂ = δa``."""
    v1, v2, dt = _binary(x1, x2)
    return record(_cast(np.add(v1, v2), dt), (x1, x2), lambda g: (g, g))


def subtract(x1, x2):
    """``a = x₁ − x₂``. VJP: ``δx₁ = δa``, ``δx₂ = −δa``."""
    v1, v2, dt = _binary(x1, x2)
    return record(_cast(np.subtract(v1, v2), dt), (x1, x2), lambda g: (g, -g))


def multiply(x1, x2):
    """``a = x₁ ⊙ x₂``. VJP: ``δx₁ = δa ⊙ x₂``, ``δx₂ = δa ⊙ x₁``."""
    v1, v2, dt = _binary(x1, x2)
    return record(_cast(np.multiply(v1, v2), dt), (x1, x2), lambda g: (g * v2, g * v1))


def divide(x1, x2):
    """``a = x₁ / x₂``. VJP: ``δx₁ = δa / x₂``, ``δx₂ = −δa ⊙ x₁ / x₂² = −δa ⊙ a / x₂``."""
    v1, v2, dt = _binary(x1, x2, need_float=True)
    a = _cast(np.divide(v1, v2), dt)
    return record(a, (x1, x2), lambda g: (g / v2, -g * a / v2))


true_divide = divide


def power(x1, x2):
    """``a = x₁^x₂``. VJP: ``δx₁ = δa ⊙ x₂ x₁^(x₂−1)``, ``δx₂ = δa ⊙ a ln x₁``.

    As TensorFlow, ``δx₂`` is 0 where ``x₁ = 0`` (instead of ``0 · ln 0``).
    """
    v1, v2, dt = _binary(x1, x2)
    a = _cast(np.power(v1, v2), dt)

    def vjp(g):
        base = np.asarray(v1, dtype=a.dtype)
        safe = np.where(base > 0, base, 1)
        log_base = np.where(base > 0, np.log(safe), 0)
        grad1 = g * v2 * np.power(v1, v2 - 1)             # (Python ints stay weak)
        return grad1.astype(a.dtype, copy=False), g * a * log_base

    return record(a, (x1, x2), vjp)


def negative(x):
    """``a = −x``. VJP: ``δx = −δa``."""
    return record(np.negative(_value(x)), (x,), lambda g: (-g,))


def reciprocal(x):
    """``a = 1/x``. VJP: ``δx = −δa / x² = −δa ⊙ a²``."""
    a = np.reciprocal(_float(x))
    return record(a, (x,), lambda g: (-g * a * a,))


def square(x):
    """``a = x²``. VJP: ``δx = 2 x δa``."""
    v = _value(x)
    return record(np.square(v), (x,), lambda g: (2 * v * g,))


def sqrt(x):
    """``a = √x``. VJP: ``δx = δa / (2a)``."""
    a = np.sqrt(_float(x))
    return record(a, (x,), lambda g: (g / (2 * a),))


def abs(x):  # noqa: A001 (Keras' name)
    """``a = |x|``. VJP: ``δx = δa ⊙ sign(x)`` (0 at ``x = 0``, as TensorFlow)."""
    v = _value(x)
    return record(np.abs(v), (x,), lambda g: (g * np.sign(v),))


absolute = abs


def mod(x1, x2):
    """``a = x₁ mod x₂`` (sign of ``x₂``, as Python and NumPy).

    ``a = x₁ − x₂ ⌊x₁/x₂⌋``. VJP: ``δx₁ = δa``, ``δx₂ = −δa ⌊x₁/x₂⌋`` (TensorFlow's).
    """
    v1, v2, dt = _binary(x1, x2)
    a = _cast(np.mod(v1, v2), dt)
    return record(a, (x1, x2), lambda g: (g, -g * np.floor_divide(v1, v2)))


def floor_divide(x1, x2):
    """``a = ⌊x₁ / x₂⌋``: piecewise constant, no gradient."""
    v1, v2, dt = _binary(x1, x2)
    return np.asarray(_cast(np.floor_divide(v1, v2), dt))


# -- exponentials, logarithms, trigonometry ---------------------------------------------------
def exp(x):
    """``a = eˣ``. VJP: ``δx = δa ⊙ a`` (the exponential is its own derivative)."""
    a = np.exp(_float(x))
    return record(a, (x,), lambda g: (g * a,))


def expm1(x):
    """``a = eˣ − 1`` (exact for small x). VJP: ``δx = δa ⊙ (a + 1)``."""
    a = np.expm1(_float(x))
    return record(a, (x,), lambda g: (g * (a + 1),))


def log(x):
    """``a = ln x``. VJP: ``δx = δa / x``."""
    v = _float(x)
    return record(np.log(v), (x,), lambda g: (g / v,))


def log1p(x):
    """``a = ln(1 + x)`` (exact for small x). VJP: ``δx = δa / (1 + x)``."""
    v = _float(x)
    return record(np.log1p(v), (x,), lambda g: (g / (1 + v),))


def tanh(x):
    """``a = tanh x``. VJP: ``δx = δa ⊙ (1 − a²)``."""
    a = np.tanh(_float(x))
    return record(a, (x,), lambda g: (g * (1 - a * a),))


def sin(x):
    """``a = sin x``. VJP: ``δx = δa ⊙ cos x``."""
    v = _float(x)
    return record(np.sin(v), (x,), lambda g: (g * np.cos(v),))


def cos(x):
    """``a = cos x``. VJP: ``δx = −δa ⊙ sin x``."""
    v = _float(x)
    return record(np.cos(v), (x,), lambda g: (-g * np.sin(v),))


_erf = np.vectorize(math.erf, otypes=[np.float64])


def erf(x):
    """``a = erf x = (2/√π) ∫₀ˣ e^(−t²) dt``. VJP: ``δx = δa ⊙ (2/√π) e^(−x²)``.

    NumPy has no ``erf``: each element goes through Python's ``math.erf``.
    """
    v = _float(x)
    a = _erf(v).astype(v.dtype, copy=False)
    return record(a, (x,), lambda g: (g * 2 / math.sqrt(math.pi) * np.exp(-v * v),))


# -- maximum, minimum, clip, where ------------------------------------------------------------
def maximum(x1, x2):
    """``a = max(x₁, x₂)`` element-wise.

    VJP: ``δa`` goes to the larger input; a tie goes to ``x₁`` (TensorFlow's rule:
    ``δx₁ = δa ⊙ [x₁ ≥ x₂]``, ``δx₂ = δa ⊙ [x₁ < x₂]``).
    """
    v1, v2, dt = _binary(x1, x2)
    first = np.greater_equal(v1, v2)
    return record(_cast(np.maximum(v1, v2), dt), (x1, x2),
                  lambda g: (g * first, g * ~first))


def minimum(x1, x2):
    """``a = min(x₁, x₂)`` element-wise.

    VJP: ``δa`` goes to the smaller input; a tie goes to ``x₁`` (TensorFlow's rule:
    ``δx₁ = δa ⊙ [x₁ ≤ x₂]``, ``δx₂ = δa ⊙ [x₁ > x₂]``).
    """
    v1, v2, dt = _binary(x1, x2)
    first = np.less_equal(v1, v2)
    return record(_cast(np.minimum(v1, v2), dt), (x1, x2),
                  lambda g: (g * first, g * ~first))


def clip(x, x_min, x_max):
    """``a = min(max(x, x_min), x_max)``.

    VJP: ``δx = δa ⊙ [x_min ≤ x ≤ x_max]``: the gradient **passes at the boundaries**, as
    TensorFlow's ``clip_by_value``; ``δx_min = δa ⊙ [x < x_min]``, ``δx_max = δa ⊙ [x > x_max]``.
    The result keeps ``x``'s dtype.
    """
    v = _value(x)
    lo, hi = _value(x_min), _value(x_max)
    below, above = np.less(v, lo), np.greater(v, hi)
    inside = ~(below | above)
    a = np.clip(v, lo, hi).astype(np.result_type(v), copy=False)
    return record(a, (x, x_min, x_max), lambda g: (g * inside, g * below, g * above))


def where(condition, x1=None, x2=None):
    """``a = x₁`` where ``condition``, else ``x₂``; with only ``condition``, its indices.

    VJP: ``δx₁ = δa ⊙ [condition]``, ``δx₂ = δa ⊙ [not condition]`` (none to ``condition``).
    """
    c = np.asarray(_value(condition), dtype=bool)
    if x1 is None and x2 is None:
        return np.nonzero(c)
    if x1 is None or x2 is None:
        raise ValueError("where: give both `x1` and `x2`, or neither.")
    v1, v2, dt = _binary(x1, x2)
    a = _cast(np.where(c, v1, v2), dt)
    return record(a, (condition, x1, x2), lambda g: (None, g * c, g * ~c))


# -- piecewise constant: no gradient ----------------------------------------------------------
def sign(x):
    """``a = sign x`` (−1, 0 or 1): piecewise constant, no gradient."""
    return np.asarray(np.sign(_value(x)))


def round(x, decimals=0):  # noqa: A001 (Keras' name)
    """Round half to even (NumPy's and TensorFlow's rule): no gradient."""
    return np.asarray(np.round(_value(x), decimals))


def floor(x):
    """``a = ⌊x⌋``: no gradient."""
    return np.asarray(np.floor(_float(x)))


def ceil(x):
    """``a = ⌈x⌉``: no gradient."""
    return np.asarray(np.ceil(_float(x)))


def equal(x1, x2):
    """``x₁ = x₂`` element-wise (bool)."""
    return np.asarray(np.equal(_value(x1), _value(x2)))


def not_equal(x1, x2):
    """``x₁ ≠ x₂`` element-wise (bool)."""
    return np.asarray(np.not_equal(_value(x1), _value(x2)))


def greater(x1, x2):
    """``x₁ > x₂`` element-wise (bool)."""
    return np.asarray(np.greater(_value(x1), _value(x2)))


def greater_equal(x1, x2):
    """``x₁ ≥ x₂`` element-wise (bool)."""
    return np.asarray(np.greater_equal(_value(x1), _value(x2)))


def less(x1, x2):
    """``x₁ < x₂`` element-wise (bool)."""
    return np.asarray(np.less(_value(x1), _value(x2)))


def less_equal(x1, x2):
    """``x₁ ≤ x₂`` element-wise (bool)."""
    return np.asarray(np.less_equal(_value(x1), _value(x2)))


def logical_and(x1, x2):
    """``x₁ and x₂`` element-wise (bool)."""
    return np.asarray(np.logical_and(_value(x1), _value(x2)))


def logical_or(x1, x2):
    """``x₁ or x₂`` element-wise (bool)."""
    return np.asarray(np.logical_or(_value(x1), _value(x2)))


def logical_not(x):
    """``not x`` element-wise (bool)."""
    return np.asarray(np.logical_not(_value(x)))


def isnan(x):
    """Whether each element is NaN."""
    return np.asarray(np.isnan(_value(x)))


def isfinite(x):
    """Whether each element is finite (not NaN, not ±inf)."""
    return np.asarray(np.isfinite(_value(x)))


# -- more functions of one variable: a = f(x), δx = δa ⊙ f'(x) --------------------------------
def _smooth(x, function, slope):
    """``a = function(x)`` on floats (ints become ``floatx``), recorded with the VJP
    ``δx = δa ⊙ slope(x, a)``."""
    v = _float(x)
    a = np.asarray(function(v)).astype(v.dtype, copy=False)
    return record(a, (x,), lambda g: (g * slope(v, a),))


def tan(x):
    """``a = tan x``. VJP: ``δx = δa / cos² x``."""
    return _smooth(x, np.tan, lambda v, a: 1 / np.square(np.cos(v)))


def sinh(x):
    """``a = sinh x``. VJP: ``δx = δa ⊙ cosh x``."""
    return _smooth(x, np.sinh, lambda v, a: np.cosh(v))


def cosh(x):
    """``a = cosh x``. VJP: ``δx = δa ⊙ sinh x``."""
    return _smooth(x, np.cosh, lambda v, a: np.sinh(v))


def arcsin(x):
    """``a = arcsin x``. VJP: ``δx = δa / √(1 − x²)``."""
    return _smooth(x, np.arcsin, lambda v, a: 1 / np.sqrt(1 - v * v))


def arccos(x):
    """``a = arccos x``. VJP: ``δx = −δa / √(1 − x²)``."""
    return _smooth(x, np.arccos, lambda v, a: -1 / np.sqrt(1 - v * v))


def arctan(x):
    """``a = arctan x``. VJP: ``δx = δa / (1 + x²)``."""
    return _smooth(x, np.arctan, lambda v, a: 1 / (1 + v * v))


def arcsinh(x):
    """``a = arsinh x``. VJP: ``δx = δa / cosh a``."""
    return _smooth(x, np.arcsinh, lambda v, a: 1 / np.cosh(a))


def arccosh(x):
    """``a = arcosh x`` (``x ≥ 1``). VJP: ``δx = δa / sinh a``."""
    return _smooth(x, np.arccosh, lambda v, a: 1 / np.sinh(a))


def arctanh(x):
    """``a = artanh x`` (``|x| < 1``). VJP: ``δx = δa / (1 − x²)``."""
    return _smooth(x, np.arctanh, lambda v, a: 1 / (1 - v * v))


def log2(x):
    """``a = log₂ x = ln x / ln 2``. VJP: ``δx = δa / (x ln 2)``."""
    return _smooth(x, lambda v: np.log(v) / _constant(math.log(2), v),
                   lambda v, a: 1 / (v * _constant(math.log(2), v)))


def log10(x):
    """``a = log₁₀ x = ln x / ln 10``. VJP: ``δx = δa / (x ln 10)``."""
    return _smooth(x, lambda v: np.log(v) / _constant(math.log(10), v),
                   lambda v, a: 1 / (v * _constant(math.log(10), v)))


def exp2(x):
    """``a = 2ˣ``. VJP: ``δx = δa ⊙ a ln 2``."""
    return _smooth(x, np.exp2, lambda v, a: a * math.log(2))


def rsqrt(x):
    """``a = 1/√x``. VJP: ``δx = −½ δa ⊙ a³``, and 0 where ``δa = 0`` even at ``x = 0`` (where
    ``a³ = ∞``), as TensorFlow's ``RsqrtGrad``."""
    v = _float(x)
    a = 1 / np.sqrt(v)
    return record(a, (x,), lambda g: (np.where(g == 0, 0, -0.5 * g * a * a * a).astype(
        a.dtype, copy=False),))


def cbrt(x):
    """``a = ∛x`` (negative for negative ``x``). VJP: ``δx = δa / (3 a²)``; NaN at 0, where
    the slope is infinite (TensorFlow's ``sign(x) · ∞``)."""
    def slope(v, a):
        safe = np.where(a == 0, 1, a)
        return np.where(a == 0, np.nan, 1 / (3 * safe * safe))

    return _smooth(x, np.cbrt, slope)


def erfc(x):
    """``a = 1 − erf x`` (exact for large ``x``). VJP: ``δx = −δa ⊙ (2/√π) e^(−x²)``."""
    return _smooth(x, _erfc, lambda v, a: -2 / math.sqrt(math.pi) * np.exp(-v * v))


_erfc = np.vectorize(math.erfc, otypes=[np.float64])   # NumPy has no erfc: Python's


def fabs(x):
    """``a = |x|`` as floats (ints become ``floatx``). VJP: ``δx = δa ⊙ sign x``."""
    return _smooth(x, np.abs, lambda v, a: np.sign(v))


def deg2rad(x):
    """``a = x π/180``. VJP: ``δx = δa π/180``."""
    return _smooth(x, lambda v: v * _radian(v), lambda v, a: _radian(v))


def rad2deg(x):
    """``a = x 180/π``. VJP: ``δx = δa 180/π``."""
    return _smooth(x, lambda v: v / _radian(v), lambda v, a: 1 / _radian(v))


def _radian(v):
    """``π/180`` as TensorFlow computes it: both numbers in ``v``'s dtype first."""
    return _constant(math.pi, v) / _constant(180.0, v)


def _constant(number: float, v):
    """``number`` in ``v``'s dtype (a 0-d array, so float32 stays float32)."""
    return np.asarray(number, dtype=v.dtype)


def sinc(x):
    """``a = sin(πx)/(πx)``, 1 at 0. VJP: ``δx = δa ⊙ (cos(πx) − a)/x``, 0 at 0 (the limit;
    TensorFlow's ``where`` gives NaN there)."""
    def function(v):
        pi_v = v * _constant(math.pi, v)
        safe = np.where(v == 0, 1, pi_v)
        return np.where(v == 0, 1, np.sin(safe) / safe)

    def slope(v, a):
        safe = np.where(v == 0, 1, v)
        return np.where(v == 0, 0, (np.cos(v * _constant(math.pi, v)) - a) / safe)

    return _smooth(x, function, slope)


def nan_to_num(x, nan=0.0, posinf=None, neginf=None):
    """``x`` with NaN, +∞ and −∞ replaced (by ``nan``, the dtype's largest and smallest
    numbers unless given). VJP: ``δx = δa`` where ``x`` is kept, 0 where replaced. Integers
    come back unchanged."""
    v = np.asarray(_value(x))
    if not np.issubdtype(v.dtype, np.floating):
        return v
    a = np.nan_to_num(v, nan=nan, posinf=posinf, neginf=neginf)
    kept = np.isfinite(v)
    return record(a, (x,), lambda g: (g * kept,))


# -- more functions of two variables ----------------------------------------------------------
def arctan2(x1, x2):
    """``a = atan2(x₁, x₂)``, the angle of the point ``(x₂, x₁)``.

    VJP: ``δx₁ = δa ⊙ x₂ / (x₁² + x₂²)``, ``δx₂ = −δa ⊙ x₁ / (x₁² + x₂²)``."""
    v1, v2, dt = _binary(x1, x2, need_float=True)
    a = _cast(np.arctan2(v1, v2), dt)

    def vjp(g):
        r2 = v1 * v1 + v2 * v2                  # (Python numbers stay weak)
        return g * v2 / r2, -g * v1 / r2

    return record(a, (x1, x2), vjp)


def hypot(x1, x2):
    """``a = √(x₁² + x₂²)``. VJP: ``δxᵢ = δa ⊙ xᵢ / a`` (0 at the origin, as TensorFlow)."""
    v1, v2, dt = _binary(x1, x2, need_float=True)
    a = _cast(np.hypot(v1, v2), dt)
    safe = np.where(a == 0, 1, a)
    return record(a, (x1, x2), lambda g: (g * v1 / safe, g * v2 / safe))


def logaddexp(x1, x2):
    """``a = ln(e^x₁ + e^x₂)``, as ``max(x₁, x₂) + ln(1 + e^(−|x₁ − x₂|))``.

    VJP: ``δx₁ = δa ⊙ e^(x₁ − a)``, ``δx₂ = δa ⊙ e^(x₂ − a)`` (the softmax of the pair)."""
    v1, v2, dt = _binary(x1, x2, need_float=True)
    a = _cast(np.logaddexp(v1, v2), dt)
    return record(a, (x1, x2), lambda g: (g * np.exp(v1 - a), g * np.exp(v2 - a)))


def fmod(x1, x2):
    """``a = x₁ − x₂ trunc(x₁/x₂)``: the remainder with the sign of ``x₁`` (C's ``fmod``).

    VJP (TensorFlow's, from ``sign(x₁) floormod(|x₁|, |x₂|)``): ``δx₁ = δa`` (0 where
    ``x₁ = 0``), ``δx₂ = −δa ⊙ trunc(x₁/x₂)``."""
    v1, v2, dt = _binary(x1, x2)
    dt = np.dtype("int32") if dt == np.bool_ else dt
    a = _cast(np.fmod(v1, v2), dt)
    return record(a, (x1, x2), lambda g: (g * (v1 != 0), -g * np.trunc(np.divide(v1, v2))))


def divide_no_nan(x1, x2):
    """``a = x₁ / x₂``, and 0 where ``x₂ = 0``.

    VJP: ``δx₁ = δa / x₂``, ``δx₂ = −δa ⊙ x₁ / x₂²``, both 0 where ``x₂ = 0``."""
    v1, v2, dt = _binary(x1, x2, need_float=True)
    zero = np.equal(v2, 0)
    safe = np.where(zero, 1, v2).astype(dt, copy=False)
    a = _cast(np.where(zero, 0, np.divide(v1, safe)), dt)
    return record(a, (x1, x2), lambda g: (np.where(zero, 0, g / safe),
                                          np.where(zero, 0, -g * v1 / (safe * safe))))


def heaviside(x1, x2):
    """``a = 0`` for ``x₁ < 0``, 1 for ``x₁ > 0``, ``x₂`` where ``x₁ = 0`` (ints give
    ``floatx``). VJP: none to ``x₁``; ``δx₂ = δa ⊙ [x₁ = 0]``."""
    v1, v2, dt = _binary(x1, x2)
    dt = np.dtype(config.floatx()) if np.issubdtype(dt, np.integer) else dt
    a = _cast(np.heaviside(v1, v2), dt)
    return record(a, (x1, x2), lambda g: (None, g * np.equal(v1, 0)))


# -- more piecewise constants: no gradient ----------------------------------------------------
def trunc(x):
    """``x`` rounded towards 0 (ints and bools unchanged): no gradient."""
    v = np.asarray(_value(x))
    return v if not np.issubdtype(v.dtype, np.floating) else np.trunc(v)


def isinf(x):
    """Whether each element is +∞ or −∞."""
    return np.asarray(np.isinf(_value(x)))


def logical_xor(x1, x2):
    """``x₁ xor x₂`` element-wise (bool)."""
    return np.asarray(np.logical_xor(_value(x1), _value(x2)))
