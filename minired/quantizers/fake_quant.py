"""Fake quantization: round to ``2^bits`` levels and back, with a gradient that trains.

Quantization-aware training keeps float weights but passes them (or the activations)
through ``fake_quant``, which snaps every value to the nearest of the levels an integer
kernel will use, so the network learns to live with the rounding. Rounding has zero
derivative almost everywhere, so the backward pass uses the *straight-through estimator*:
inside the range, pretend the rounding was the identity.

This is TensorFlow's ``FakeQuantWithMinMaxVars`` kernel (what Keras calls on its TensorFlow
backend), step by step, in float32 (see ``keras_numerics`` item 10).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from minired.keras_numerics import fake_quant_levels, tensorflow_total
from minired.ops.control_flow import custom_gradient

_F32 = np.float32


def nudge(min_val, max_val, quant_min: int, quant_max: int):
    """Move ``[min, max]`` so that 0.0 is exactly one of the levels (zero padding stays 0).

    With ``Q = quant_max - quant_min`` (float32 throughout)::

        s = (max - min) / Q,   1/s = Q / (max - min)      (each rounded on its own)
        z = clip(round(quant_min - min / s), quant_min, quant_max)   half away from zero
        nudged_min = (quant_min - z) · s,   nudged_max = (quant_max - z) · s

    Returns:
        ``(nudged_min, nudged_max, s, 1/s)``, float32 arrays shaped like ``min_val``.

    Example:
        >>> nudge(np.float32(-0.5), np.float32(2.5), 0, 3)     # z = round(0.5) = 1
        (np.float32(-1.0), np.float32(2.0), np.float32(1.0), np.float32(1.0))
    """
    low, high = _F32(quant_min), _F32(quant_max)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        scale = (max_val - min_val) / (high - low)
        inv_scale = (high - low) / (max_val - min_val)
        zero_from_min = low - min_val / scale
        # C's round(): halves away from zero (zero_from_min >= quant_min >= 0 where used)
        rounded = np.floor(zero_from_min) + (zero_from_min - np.floor(zero_from_min) >= 0.5)
    zero = np.where(zero_from_min < low, low, np.where(zero_from_min > high, high, rounded))
    zero = zero.astype(_F32)
    return (low - zero) * scale, (high - zero) * scale, scale, inv_scale


def _prepare(inputs, min_vals, max_vals, num_bits, narrow_range, axis):
    """Checked float32 views: ``x`` with the channel axis last, ``min``, ``max`` (scalar or
    one per channel) and the integer range."""
    x = np.asarray(inputs)
    if isinstance(num_bits, bool) or int(num_bits) != num_bits or not 2 <= num_bits <= 16:
        raise ValueError("fake_quant_with_min_max_vars: `num_bits` must be an int between 2 "
                         f"and 16, got {num_bits!r}.")
    if not isinstance(narrow_range, bool | np.bool_):
        raise TypeError("fake_quant_with_min_max_vars: `narrow_range` must be a bool, got "
                        f"{narrow_range!r}.")
    low, high = np.asarray(min_vals), np.asarray(max_vals)
    if axis is None:
        for name, value in (("min_vals", low), ("max_vals", high)):
            if value.size != 1:
                raise ValueError(f"fake_quant_with_min_max_vars: with axis=None, `{name}` "
                                 f"must hold one value, got shape {value.shape}.")
        low, high = low.reshape(()), high.reshape(())
    else:
        if not -x.ndim <= axis < x.ndim:
            raise ValueError(f"fake_quant_with_min_max_vars: `axis`={axis} is out of range "
                             f"for inputs of rank {x.ndim}.")
        axis = axis % x.ndim
        x = np.swapaxes(x, axis, -1)
        for name, value in (("min_vals", low), ("max_vals", high)):
            if value.shape != (x.shape[-1],):
                raise ValueError(f"fake_quant_with_min_max_vars: with axis={axis}, `{name}` "
                                 f"must have shape ({x.shape[-1]},), got {value.shape}.")
    quant_min = 1 if narrow_range else 0
    quant_max = (1 << int(num_bits)) - 1
    return x.astype(_F32), low.astype(_F32), high.astype(_F32), quant_min, quant_max, axis


def _forward(x, low, high, quant_min, quant_max, per_channel):
    """The kernel: clamp into the nudged range, count levels from its bottom, round, scale.

    ``q0 = floor(-nudged_min / s + 0.5)`` is the level of 0.0, and::

        a = (floor(levels(clamp(x) - nudged_min) - q0 + 0.5)) · s

    where ``levels(v) = v / s`` (``v · (1/s)`` per channel). ``floor(v + 0.5)`` rounds
    halves up. ``min = max = 0`` gives 0.
    """
    nudged_min, nudged_max, scale, inv_scale = nudge(low, high, quant_min, quant_max)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        quant_zero = np.floor(-nudged_min * inv_scale + _F32(0.5))
        shifted = np.maximum(np.minimum(x, nudged_max), nudged_min) - nudged_min
        levels = fake_quant_levels(shifted, scale, inv_scale, per_channel)
        out = np.floor(levels - quant_zero + _F32(0.5)) * scale
    return np.where((low == 0) & (high == 0), _F32(0), out).astype(_F32)


def fake_quant_backward(upstream, x, low, high, quant_min, quant_max, per_channel):
    """The straight-through gradients, TensorFlow's ``FakeQuantWithMinMaxVarsGradient``.

    The forward pass is treated as ``clamp(x, nudged_min, nudged_max)``::

        ∂L/∂x   = δ · [nudged_min ≤ x ≤ nudged_max]
        ∂L/∂min = Σ δ · [x < nudged_min]         (per channel: summed over the other axes)
        ∂L/∂max = Σ δ · [x > nudged_max]

    (``min = max = 0``: all of ``δ`` to ``x``, nothing to ``min`` or ``max``.) The masks
    multiply ``δ`` (so an infinite ``δ`` outside the range gives NaN, as in TensorFlow), and
    the sums are float32 in TensorFlow's order.

    Returns:
        ``(∂L/∂x, ∂L/∂min, ∂L/∂max)``, float32, channel axis last.
    """
    nudged_min, nudged_max, _, _ = nudge(low, high, quant_min, quant_max)
    both_zero = (low == 0) & (high == 0)
    inside = ((x >= nudged_min) & (x <= nudged_max)) | both_zero
    below = (x < nudged_min) & ~both_zero
    above = (x > nudged_max) & ~both_zero
    upstream = upstream.astype(_F32)

    def total(mask):
        values = upstream * mask.astype(_F32)
        if per_channel:                     # one sum per channel, over all other axes
            return tensorflow_total(values.reshape(-1, values.shape[-1]).T)
        return tensorflow_total(values.reshape(1, -1))[0]

    return upstream * inside.astype(_F32), total(below), total(above)


def fake_quant_with_min_max_vars(inputs: ArrayLike, min_vals: ArrayLike, max_vals: ArrayLike,
                                 num_bits: int = 8,
                                 narrow_range: bool = False, axis: int | None = None
                                 ) -> np.ndarray:
    """Quantize ``inputs`` to ``2^num_bits`` levels in ``[min, max]`` and back to floats.

    Forward (per tensor, or per channel along ``axis`` with one ``min``/``max`` each), in
    float32: the range is :func:`nudge`-d so that 0.0 is a level, ``x`` is clamped into
    it, and ``a = nudged_min + round((clamp(x) - nudged_min) / s) · s`` with
    ``s = (max - min) / (quant_max - quant_min)``, ``quant_min = 1 if narrow_range else
    0``, ``quant_max = 2^num_bits - 1``, halves rounded up.

    Backward (straight-through estimator, :func:`fake_quant_backward`)::

        ∂L/∂x = δ inside [nudged_min, nudged_max], 0 outside
        ∂L/∂min = Σ δ below nudged_min,  ∂L/∂max = Σ δ above nudged_max

    so ``min`` and ``max`` learn to cover the values that were clipped. Recorded on an
    active :class:`~minired.autodiff.GradientTape`.

    Args:
        inputs: float array (computed in float32, returned in its own dtype).
        min_vals, max_vals: one value each (``axis=None``), or one per channel of ``axis``.
        num_bits: bits of the integer range, 2 to 16.
        narrow_range: use levels ``[1, 2^bits - 1]`` (a symmetric int range) instead of
            ``[0, 2^bits - 1]``.
        axis: the channel axis for per-channel ranges, or None for one range.

    Example:
        >>> fake_quant_with_min_max_vars(np.array([-1.0, 0.26, 0.74, 5.0]), 0.0, 3.0,
        ...                              num_bits=2)
        array([0., 0., 1., 3.])
    """
    x, low, high, quant_min, quant_max, axis = _prepare(inputs, min_vals, max_vals, num_bits,
                                                        narrow_range, axis)
    dtype = np.asarray(inputs).dtype
    per_channel = axis is not None

    def restore(array):       # channel axis back in place
        return np.swapaxes(array, axis, -1) if per_channel else array

    @custom_gradient
    def fake_quant(inputs, min_vals, max_vals):
        out = _forward(x, low, high, quant_min, quant_max, per_channel)

        def grad(upstream):
            up = np.asarray(upstream)
            up = np.swapaxes(up, axis, -1) if per_channel else up
            dx, dmin, dmax = fake_quant_backward(up, x, low, high, quant_min, quant_max,
                                                 per_channel)
            return (restore(dx).astype(dtype),
                    np.reshape(dmin, np.shape(min_vals)).astype(_grad_dtype(min_vals)),
                    np.reshape(dmax, np.shape(max_vals)).astype(_grad_dtype(max_vals)))

        return restore(out).astype(dtype), grad

    return fake_quant(inputs, min_vals, max_vals)


def _grad_dtype(value) -> np.dtype:
    dtype = np.asarray(value).dtype
    return dtype if np.issubdtype(dtype, np.floating) else np.dtype(np.float32)
