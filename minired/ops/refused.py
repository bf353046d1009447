"""Keras ops that minired does not have, kept under their names to say why: ``jvp``,
``polar``, ``view_as_complex``, ``view_as_real``.

- ``jvp`` is forward-mode differentiation (a tangent pushed along with the values); minired's
  tape is reverse mode only (vector-Jacobian products, :mod:`minired.autodiff`).
- ``polar``, ``view_as_complex`` and ``view_as_real`` take or return complex arrays; minired
  has no complex dtype and carries a complex array as a ``(real, imag)`` pair of float arrays
  (as ``keras.ops.fft`` does), for which ``polar(r, θ)`` is ``(r cos θ, r sin θ)`` and
  ``view_as_real(x)`` is ``stack([real, imag], axis=-1)``.

Example:
    >>> from minired import ops
    >>> ops.view_as_real(np.array([1 + 2j]))
    Traceback (most recent call last):
    ...
    NotImplementedError: view_as_real: Keras' view_as_real takes a complex array...
"""

from __future__ import annotations

_COMPLEX = ("minired has no complex dtype; a complex array is a pair (real, imag) of float "
            "arrays, as in ops.fft")


def jvp(fun, primals, tangents, has_aux: bool = False):
    """Refused: Keras' forward-mode Jacobian-vector product ``J(x) v``.

    minired's tape records reverse mode only; a VJP ``vᵀ J`` is
    :meth:`minired.autodiff.GradientTape.gradient` with ``output_gradient=v``.

    Args:
        fun: the function (unused).
        primals: the point (unused).
        tangents: the tangent vector (unused).
        has_aux: whether ``fun`` returns auxiliary data (unused).

    Example:
        >>> jvp(lambda x: x, (1.0,), (1.0,))
        Traceback (most recent call last):
        ...
        NotImplementedError: jvp: forward-mode differentiation is not in minired...
    """
    raise NotImplementedError(
        "jvp: forward-mode differentiation is not in minired (its tape is reverse mode: "
        "GradientTape.gradient(..., output_gradient=v) gives the vector-Jacobian product).")


def polar(abs_, angle):
    """Refused: Keras' ``polar`` returns the complex array ``|z| (cos θ + i sin θ)``.

    In minired's convention the pair is ``(ops.multiply(abs_, ops.cos(angle)),
    ops.multiply(abs_, ops.sin(angle)))``.

    Args:
        abs_: the magnitudes (unused).
        angle: the angles (unused).

    Example:
        >>> polar(1.0, 0.0)
        Traceback (most recent call last):
        ...
        NotImplementedError: polar: Keras' polar returns a complex array...
    """
    raise NotImplementedError(
        f"polar: Keras' polar returns a complex array; {_COMPLEX}: use "
        "(abs_ * cos(angle), abs_ * sin(angle)).")


def view_as_complex(x):
    """Refused: Keras' ``view_as_complex`` returns a complex array from the last axis
    ``[real, imag]``; in minired the pair is ``(x[..., 0], x[..., 1])``.

    Args:
        x: the float array with a last axis of 2 (unused).

    Example:
        >>> view_as_complex(np.ones((2, 2)))
        Traceback (most recent call last):
        ...
        NotImplementedError: view_as_complex: Keras' view_as_complex returns a complex array...
    """
    raise NotImplementedError(
        f"view_as_complex: Keras' view_as_complex returns a complex array; {_COMPLEX}: use "
        "(x[..., 0], x[..., 1]).")


def view_as_real(x):
    """Refused: Keras' ``view_as_real`` takes a complex array; in minired the pair
    ``(real, imag)`` becomes ``ops.stack([real, imag], axis=-1)``.

    Args:
        x: the complex array (unused).

    Example:
        >>> view_as_real(np.array([1 + 2j]))
        Traceback (most recent call last):
        ...
        NotImplementedError: view_as_real: Keras' view_as_real takes a complex array...
    """
    raise NotImplementedError(
        f"view_as_real: Keras' view_as_real takes a complex array; {_COMPLEX}: use "
        "ops.stack([real, imag], axis=-1).")
