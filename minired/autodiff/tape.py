"""The tape: record each operation on the way forward, walk the records backwards.

While a :class:`GradientTape` is active, every ``mr.ops`` function that receives a traced
array (a :class:`~minired.autodiff.tensor.Tensor`) appends one :class:`Record` to it:

- the **output** ``a`` it computed,
- its **inputs** ``x₁, x₂, …``,
- its **vector-Jacobian product** ``vjp``: given ``δa = ∂L/∂a``, the contributions
  ``δxᵢ = (∂a/∂xᵢ)ᵀ δa`` to each input's gradient. This is the only calculus an op knows.

For ``y = tanh(x @ W + b)`` the tape holds three records, in order::

    z₁ = x @ W        vjp: δz₁ ↦ (δz₁ Wᵀ, xᵀ δz₁)
    z  = z₁ + b       vjp: δz  ↦ (δz, δz)            (δb summed over the batch: unbroadcast)
    y  = tanh(z)      vjp: δy  ↦ (δy ⊙ (1 − y²),)

:meth:`GradientTape.gradient` starts from ``δy`` and visits the records **in reverse**: a
record's output gets its full gradient before the record is visited, because every
operation that read it came later on the tape. Where a value was read twice, the
contributions **add** (the same rule as a fork in a graph of layers).

Example:
    >>> from minired import ops
    >>> with GradientTape() as tape:
    ...     x = tape.watch(np.array([1.0, 2.0]))
    ...     y = ops.sum(x * x)
    >>> tape.gradient(y, x)
    array([2., 4.])
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

_ACTIVE: list[GradientTape] = []   # the tapes recording now, innermost last


class Record(NamedTuple):
    """One operation on the tape."""

    output: Any                 #: the Tensor the op returned
    inputs: tuple               #: the op's arguments that may need a gradient
    vjp: Callable               #: δoutput -> one δ per input (None: no gradient)
    call: tuple | None = None   #: (layer, cache) when the op is a built-in layer's call


class GradientTape:
    """Record ``mr.ops`` operations, then compute gradients by walking them backwards.

    Keras' ``tf.GradientTape`` under the same name; ``watch`` returns the watched array as a
    :class:`~minired.autodiff.tensor.Tensor` (a NumPy array the ops can trace).

    Attributes:
        records: the :class:`Record` of each operation, in the order they ran.
        losses: the values passed to ``layer.add_loss`` while this tape recorded.
    """

    def __init__(self) -> None:
        self.records: list[Record] = []
        self.losses: list = []

    def __enter__(self) -> GradientTape:
        _ACTIVE.append(self)
        return self

    def __exit__(self, *exc_info) -> None:
        _ACTIVE.remove(self)

    def watch(self, array):
        """``array`` as a new traced leaf: the gradient can be asked with respect to it."""
        from minired.autodiff.tensor import as_leaf

        return as_leaf(array)

    def gradient(self, target, sources, output_gradient=None):
        """``∂target/∂source`` for each source (a structure like ``sources``).

        Args:
            target: the array differentiated (usually a scalar loss), or a list of arrays,
                whose gradients add.
            sources: a traced array or a list of them (watched inputs, Variables).
            output_gradient: ``δtarget``, the "upstream" gradient (a list for a list of
                targets); ones when None (the derivative of a sum of the targets).

        Returns:
            One array per source, shaped like it; zeros where ``target`` does not depend on
            the source.
        """
        targets = target if isinstance(target, list | tuple) else [target]
        if output_gradient is None:
            seeds = [np.ones(np.shape(t), dtype=_float_dtype(t)) for t in targets]
        else:
            seeds = output_gradient if isinstance(target, list | tuple) else [output_gradient]
        grads = self.backward(list(zip(targets, seeds, strict=True)))
        flat = sources if isinstance(sources, list | tuple) else [sources]
        result = [grads.get(id(s), np.zeros(np.shape(s), dtype=_float_dtype(s))) for s in flat]
        return result if isinstance(sources, list | tuple) else result[0]

    def backward(self, seeds: list[tuple[Any, Any]]) -> dict[int, np.ndarray]:
        """The walk: from ``(target, δtarget)`` pairs to ``{id(array): δarray}`` for every
        array the targets depend on (traced ones, and the weights of built-in layers, which
        their records list as inputs)."""
        grads: dict[int, np.ndarray] = {}
        for target, seed in seeds:
            if seed is not None:
                _accumulate(grads, target, np.asarray(seed, dtype=_float_dtype(target)))
        for record in reversed(self.records):
            grad = grads.get(id(record.output))
            if grad is None:                  # nothing downstream depends on this op
                continue
            for x, grad_x in zip(record.inputs, record.vjp(grad), strict=True):
                if grad_x is not None and isinstance(x, np.ndarray):
                    _accumulate(grads, x, unbroadcast(np.asarray(grad_x), np.shape(x)))
        return grads


def active_tape() -> GradientTape | None:
    """The innermost recording tape, or None."""
    return _ACTIVE[-1] if _ACTIVE else None


def is_traced(value) -> bool:
    """Whether the tape follows ``value``: a Tensor (an op's output, a watched input or a
    Variable). Plain arrays and Python numbers are constants."""
    from minired.autodiff.tensor import Tensor

    return isinstance(value, Tensor)


def record(output, inputs: tuple, vjp: Callable, call: tuple | None = None):
    """Return an op's ``output``: traced and recorded when a tape is active and one of the
    ``inputs`` is traced, else as a plain NumPy array.

    Every ``mr.ops`` function ends with ``return record(a, (x, …), vjp)``.
    """
    output = np.asarray(output)
    tape = active_tape()
    # A layer's call is recorded even on constants (an Embedding on ops.arange): its
    # weights, among the inputs, are what the gradient is for.
    if tape is None or (call is None and not any(is_traced(x) for x in inputs)):
        return output
    from minired.autodiff.tensor import check_recordable, traced

    for x in inputs:
        check_recordable(x)
    out = traced(output)
    tape.records.append(Record(out, tuple(inputs), vjp, call))
    return out


def unbroadcast(grad: np.ndarray, shape: tuple) -> np.ndarray:
    """Sum ``grad`` down to ``shape``: the VJP of NumPy broadcasting.

    When ``x`` of shape ``(D,)`` was added to every row of a ``(N, D)`` array, each element
    of ``x`` was used ``N`` times, so its gradient is the sum of the ``N`` rows' gradients.
    """
    if grad.shape == tuple(shape):
        return grad
    extra = grad.ndim - len(shape)
    grad = grad.sum(axis=tuple(range(extra))) if extra > 0 else grad
    stretched = tuple(axis for axis, n in enumerate(shape) if n == 1 and grad.shape[axis] != 1)
    if stretched:
        grad = grad.sum(axis=stretched, keepdims=True)
    return grad.reshape(shape)


def _accumulate(grads: dict, array, grad: np.ndarray) -> None:
    """``grads[array] += grad``: the contributions of every reader of ``array`` add."""
    key = id(array)
    grads[key] = grad if key not in grads else grads[key] + grad


def _float_dtype(value) -> np.dtype:
    dtype = np.asarray(value).dtype        # (np.result_type would dispatch to mr.ops)
    return dtype if np.issubdtype(dtype, np.floating) else np.dtype("float64")
