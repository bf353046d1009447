"""The data every comparison feeds to both libraries, drawn from fixed seeds.

Each maker takes the precision (``dtype``) and a ``seed``, so a case sees the same numbers
on every run, in minired and in Keras alike. Keeping them here, and only here, means two
areas that ask for "a batch of inputs" get the same batch, and a change to how data are
drawn is made once.

- inputs: :func:`random_data` (standard normal);
- targets for a loss: :func:`targets`, :func:`one_hot`, :func:`sample_weights`;
- probabilities without logits: :func:`probabilities`;
- small learnable problems for ``fit``: :func:`blobs` (three classes), :func:`regression`,
  :func:`classification_batch`;
- optimizer inputs: :func:`gradient_rounds` (starting weights and gradients);
- images: :func:`digits` (scikit-learn's 8×8 digits) and :func:`digits_28` (the same, 28×28).
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

N_FEATURES = 4   # inputs of the fit problems (blobs, regression)
N_CLASSES = 3    # classes of blobs

# The three class centres of :func:`blobs`, fixed once for every seed.
CENTRES = np.random.default_rng(0).normal(size=(N_CLASSES, N_FEATURES))


# -- inputs and targets ---------------------------------------------------------------------

def random_data(dtype: str, n: int = 16, features: int | tuple[int, ...] = 4,
                seed: int = 0) -> np.ndarray:
    """``n`` standard-normal samples of shape ``features`` (an int or a tuple), in ``dtype``."""
    sample_shape = (features,) if isinstance(features, int) else tuple(features)
    return np.random.default_rng(seed).standard_normal((n, *sample_shape)).astype(dtype)


def one_hot(labels: np.ndarray, dtype: str, classes: int = N_CLASSES) -> np.ndarray:
    """Integer labels as one-hot rows of ``classes`` entries."""
    return np.eye(classes, dtype=dtype)[labels]


def targets(kind: str, n: int, outputs: int, dtype: str, seed: int = 1) -> np.ndarray:
    """Targets that fit a loss: ``"onehot"``, ``"sparse"`` (integer labels), ``"binary"``
    (0/1 per output) or anything else for real values (standard normal)."""
    rng = np.random.default_rng(seed)
    if kind == "onehot":
        return one_hot(rng.integers(0, outputs, n), dtype, outputs)
    if kind == "sparse":
        return rng.integers(0, outputs, n)
    if kind == "binary":
        return rng.integers(0, 2, (n, outputs)).astype(dtype)
    return rng.standard_normal((n, outputs)).astype(dtype)


def sample_weights(n: int, dtype: str, seed: int = 2) -> np.ndarray:
    """``n`` per-sample weights drawn uniformly in [0, 2)."""
    return np.random.default_rng(seed).uniform(0, 2, n).astype(dtype)


def probabilities(kind: str, n: int, outputs: int, dtype: str, seed: int = 3) -> np.ndarray:
    """Probabilities in [0.05, 1) as a model without logits would give them.

    For ``"onehot"`` and ``"sparse"`` targets each row is normalised and then scaled by a
    factor in [0.8, 1.2), so the rows sum to *about* 1: Keras' renormalisation matters.
    """
    rng = np.random.default_rng(seed)
    raw = rng.uniform(0.05, 1.0, (n, outputs))
    if kind in ("onehot", "sparse"):
        raw = raw / raw.sum(axis=1, keepdims=True) * rng.uniform(0.8, 1.2, (n, 1))
    return raw.astype(dtype)


# -- small problems for fit -----------------------------------------------------------------

def blobs(n: int, dtype: str, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``n`` points in 4-D around three overlapping centres; returns ``(x, integer labels)``.

    Different seeds draw different samples of the same three classes.
    """
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, N_CLASSES, size=n)
    x = CENTRES[labels] + 0.9 * rng.normal(size=(n, N_FEATURES))
    return x.astype(dtype), labels


def regression(n: int, dtype: str, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``y = x·A + noise`` with two targets."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, N_FEATURES))
    y = x @ rng.normal(size=(N_FEATURES, 2)) + 0.1 * rng.normal(size=(n, 2))
    return x.astype(dtype), y.astype(dtype)


def classification_batch(dtype: str, n: int, features: int, classes: int,
                         seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Standard-normal inputs and random one-hot targets, both from one seeded stream."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, features)).astype(dtype)
    return x, one_hot(rng.integers(0, classes, size=n), dtype, classes)


# -- optimizer inputs -----------------------------------------------------------------------

def gradient_rounds(dtype: str, shapes: Iterable[tuple[int, ...]], steps: int,
                    seed: int = 0) -> tuple[list, list]:
    """Starting weights (``0.5·N(0, 1)``) of the given shapes and ``steps`` rounds of
    gradients whose magnitudes spread over four decades (1e-3 to 10), in ``dtype``."""
    shapes = list(shapes)
    rng = np.random.default_rng(seed)
    initial = [(0.5 * rng.normal(size=shape)).astype(dtype) for shape in shapes]
    rounds = []
    for _ in range(steps):
        rounds.append([
            (rng.normal(size=shape) * 10.0 ** rng.uniform(-3, 1, size=shape)).astype(dtype)
            for shape in shapes
        ])
    return initial, rounds


# -- images ---------------------------------------------------------------------------------

def digits(n: int, dtype: str, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``n`` of scikit-learn's bundled 8×8 handwritten digits (nothing is downloaded), drawn
    without replacement by ``seed``: images ``(n, 8, 8, 1)`` scaled to [0, 1], and their
    integer labels 0-9."""
    from sklearn.datasets import load_digits

    data = load_digits()
    chosen = np.random.default_rng(seed).choice(len(data.images), size=n, replace=False)
    images = (data.images[chosen] / 16.0)[..., None]
    return images.astype(dtype), data.target[chosen]


def digits_28(n: int, dtype: str, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """:func:`digits` as MNIST-sized images: each pixel repeated 3×3 (24×24), then 2 zero
    rows and columns on each side, so ``(n, 28, 28, 1)`` in [0, 1], and the labels 0-9."""
    images, labels = digits(n, dtype, seed)
    large = np.repeat(np.repeat(images, 3, axis=1), 3, axis=2)
    return np.pad(large, [(0, 0), (2, 2), (2, 2), (0, 0)]).astype(dtype), labels
