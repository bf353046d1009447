"""Array helpers, as in ``keras.utils``: one-hot labels and normalized rows."""

from __future__ import annotations

import numpy as np

from minired import config


def to_categorical(x, num_classes: int | None = None) -> np.ndarray:
    """Turn integer class labels into one-hot vectors, the class axis last.

    Labels of shape ``(N,)`` give ``(N, C)``; any shape ``S`` gives ``S + (C,)``, except
    that a last axis of size 1 is dropped first (``(N, 1)`` gives ``(N, C)``), as in Keras.
    Entry ``[..., k]`` is 1 where the label is ``k`` and 0 elsewhere.

    The values equal Keras'; the dtype is ``floatx`` (float32), where Keras returns
    float64 for NumPy input (a model casts it to float32 on entry anyway). Keras wraps a
    negative label around (-1 becomes the last class) and lets 1.7 become 1; minired
    refuses both.

    Args:
        x: integer labels (any array-like).
        num_classes: number of classes ``C``; ``None`` (or 0, as in Keras) uses
            ``max(x) + 1``.

    Example:
        >>> to_categorical([0, 2], num_classes=3)
        array([[1., 0., 0.],
               [0., 0., 1.]], dtype=float32)
    """
    labels = np.asarray(x)
    shape = labels.shape
    if len(shape) > 1 and shape[-1] == 1:
        shape = shape[:-1]
    labels = labels.reshape(-1)
    if labels.size and not np.all(np.equal(np.mod(labels, 1), 0)):
        raise ValueError("to_categorical: `x` must hold integer class labels.")
    labels = labels.astype(np.int64)
    if not num_classes:
        num_classes = int(labels.max()) + 1 if labels.size else 0
    if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
        raise ValueError(
            f"to_categorical: labels must lie in [0, {num_classes}), "
            f"got values in [{labels.min()}, {labels.max()}]."
        )
    one_hot = np.zeros((labels.shape[0], num_classes), dtype=config.floatx())
    one_hot[np.arange(labels.shape[0]), labels] = 1
    return one_hot.reshape((*shape, num_classes))


def normalize(x, axis: int = -1, order: int | float = 2) -> np.ndarray:
    """Divide ``x`` by its ``order``-norm along ``axis``: ``x / ‖x‖_p``.

    ``‖x‖_p = (Σ_i |x_i|^p)^(1/p)`` along ``axis`` (``order=2``: Euclidean length, 1: sum of
    absolute values, ``np.inf``: largest absolute value), computed with
    ``np.linalg.norm``; a norm of 0 is replaced by 1, so a zero vector stays zero.

    Equal to ``keras.utils.normalize`` on NumPy arrays, with two differences where Keras'
    NumPy path is wrong: it turns ``axis=0`` into ``-1`` when re-inserting the axis (so
    ``axis=0`` divides by the wrong norms, or fails on non-square arrays), and it returns a
    1-D input as shape ``(1, n)``. minired keeps ``x``'s shape and divides along ``axis``.

    Args:
        x: the array (an int array gives a float64 result, a float32 one float32).
        axis: the axis along which to take the norms.
        order: the norm's order ``p`` (as ``ord`` in ``np.linalg.norm``).

    Example:
        >>> normalize(np.array([[3.0, 4.0], [0.0, 0.0]]))
        array([[0.6, 0.8],
               [0. , 0. ]])
    """
    x = np.asarray(x)
    norm = np.linalg.norm(x, order, axis, keepdims=True)
    norm[norm == 0] = 1
    return x / norm
