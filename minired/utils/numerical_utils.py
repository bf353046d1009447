"""Label helpers, as in ``keras.utils``."""

from __future__ import annotations

import numpy as np

from minired import config


def to_categorical(x, num_classes: int | None = None) -> np.ndarray:
    """Turn integer class labels into one-hot rows.

    Args:
        x: integer labels of shape ``(N,)`` (or ``(N, 1)``).
        num_classes: number of classes; ``None`` uses ``max(x) + 1``.

    Example:
        >>> to_categorical([0, 2], num_classes=3)
        array([[1., 0., 0.],
               [0., 0., 1.]], dtype=float32)
    """
    labels = np.asarray(x)
    if labels.ndim == 2 and labels.shape[-1] == 1:
        labels = labels[:, 0]
    if labels.ndim != 1:
        raise ValueError(f"to_categorical: `x` must have shape (N,) or (N, 1), got {labels.shape}.")
    if labels.size and not np.all(np.equal(np.mod(labels, 1), 0)):
        raise ValueError("to_categorical: `x` must hold integer class labels.")
    labels = labels.astype(np.int64)
    if num_classes is None:
        num_classes = int(labels.max()) + 1 if labels.size else 0
    if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
        raise ValueError(
            f"to_categorical: labels must lie in [0, {num_classes}), "
            f"got values in [{labels.min()}, {labels.max()}]."
        )
    one_hot = np.zeros((labels.shape[0], num_classes), dtype=config.floatx())
    one_hot[np.arange(labels.shape[0]), labels] = 1
    return one_hot
