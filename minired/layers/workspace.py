"""Scratch arrays a layer reuses from one training step to the next, during one ``fit``.

A convolution copies its input's windows into a patch matrix ``cols`` (im2col) in its
forward pass and again in its backward pass: on the keras-io MNIST convnet, 18 MB for the
second convolution, twice a step. Made with ``np.empty`` at every step, such arrays cost
more than their copy: glibc's ``malloc`` gives the memory freed at the top of its heap back
to the operating system once a step's arrays are freed, and the next step's arrays are then
mapped again page by page (measured on that convnet, one thread: about 2,400 page faults a
step, and 1.55 s against 1.88 s an epoch when the patch matrices reuse their memory).
TensorFlow and PyTorch keep their memory in allocators of their own; NumPy has none, so
minired keeps these few large arrays itself. The smaller temporaries of the same steps
count too: once max pooling's masks and the product ``δz W[a, b]ᵀ`` that
:func:`~minired.layers.convolutional.im2col.scatter_patch_products` adds up came from here
as well, that convnet went from about 4,000 page faults a step to 400 (one thread, a plain
script: 1.96-2.08 s an epoch against 1.58-1.64).

The rule that keeps this safe: :func:`scratch` hands out memory that its next call with the
same ``(owner, name)`` overwrites, so an array from it is used within the method that asked
for it and never returned or kept (``cols`` is made, multiplied and dropped). Outside a
:func:`reused_during` block (``predict``, your own loop), :func:`scratch` is ``np.empty``;
inside, the memory lives until the block ends (:meth:`Trainer._training_run`: one ``fit``).

Example:
    >>> owner = object()
    >>> with reused_during():
    ...     a = scratch(owner, "cols", (2, 3), np.float32)
    ...     b = scratch(owner, "cols", (1, 3), np.float32)    # a smaller batch: a prefix
    ...     np.shares_memory(a, b)
    True
    >>> np.shares_memory(scratch(owner, "cols", (2, 3), np.float32), a)   # outside: new
    False
"""

from __future__ import annotations

import contextlib
import contextvars
import math
from collections.abc import Iterator

import numpy as np

#: The flat arrays of the current block, by ``(id(owner), name)``; None outside a block.
_arrays: contextvars.ContextVar[dict | None] = contextvars.ContextVar(
    "minired_workspace", default=None)


@contextlib.contextmanager
def reused_during() -> Iterator[None]:
    """Within the block, :func:`scratch` reuses its memory; at its end the memory is freed."""
    token = _arrays.set({})
    try:
        yield
    finally:
        _arrays.reset(token)


def scratch(owner: object, name: str, shape: tuple, dtype: np.dtype) -> np.ndarray:
    """An uninitialised array of ``shape`` and ``dtype`` for ``owner`` to fill and use at once.

    Inside :func:`reused_during`, the same memory at every call with the same ``owner`` and
    ``name``: a flat array as large as the largest shape asked for, seen through a view of
    the shape asked for (the last, smaller batch of an epoch reads a prefix of it).
    """
    arrays = _arrays.get()
    if arrays is None:
        return np.empty(shape, dtype)
    size = math.prod(shape)
    key = (id(owner), name)
    flat = arrays.get(key)
    if flat is None or flat.size < size or flat.dtype != dtype:
        flat = arrays[key] = np.empty(size, dtype)
    return flat[:size].reshape(shape)
