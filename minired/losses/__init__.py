"""Losses by Keras name: ``mr.losses.get("categorical_crossentropy")``."""

from __future__ import annotations

from collections.abc import Callable

from minired.losses.binary_crossentropy import BinaryCrossentropy, binary_crossentropy
from minired.losses.categorical_crossentropy import (
    CategoricalCrossentropy,
    categorical_crossentropy,
)
from minired.losses.loss import Loss
from minired.losses.mean_squared_error import MeanSquaredError, mean_squared_error
from minired.losses.sparse_categorical_crossentropy import (
    SparseCategoricalCrossentropy,
    sparse_categorical_crossentropy,
)
from minired.utils.naming import lookup

mse = MSE = mean_squared_error

_BY_NAME: dict[str, type[Loss]] = {
    "mean_squared_error": MeanSquaredError, "mse": MeanSquaredError, "MSE": MeanSquaredError,
    "MeanSquaredError": MeanSquaredError,
    "binary_crossentropy": BinaryCrossentropy, "BinaryCrossentropy": BinaryCrossentropy,
    "categorical_crossentropy": CategoricalCrossentropy,
    "CategoricalCrossentropy": CategoricalCrossentropy,
    "sparse_categorical_crossentropy": SparseCategoricalCrossentropy,
    "SparseCategoricalCrossentropy": SparseCategoricalCrossentropy,
}
_BY_FUNCTION: dict[Callable, type[Loss]] = {
    mean_squared_error: MeanSquaredError,
    binary_crossentropy: BinaryCrossentropy,
    categorical_crossentropy: CategoricalCrossentropy,
    sparse_categorical_crossentropy: SparseCategoricalCrossentropy,
}


def get(identifier: str | Loss | Callable) -> Loss:
    """Return a loss object for a Keras name, a loss function of this module, or a Loss.

    Example:
        >>> get("mse").name
        'mean_squared_error'
    """
    if isinstance(identifier, Loss):
        return identifier
    if isinstance(identifier, str):
        return lookup("loss", identifier, _BY_NAME)()
    if callable(identifier) and identifier in _BY_FUNCTION:
        return _BY_FUNCTION[identifier]()
    raise TypeError(
        "`loss` must be a Keras loss name, a minired.losses function or a Loss object, got "
        f"{identifier!r}."
    )


__all__ = [
    "Loss", "MeanSquaredError", "BinaryCrossentropy", "CategoricalCrossentropy",
    "SparseCategoricalCrossentropy", "mean_squared_error", "mse", "MSE", "binary_crossentropy",
    "categorical_crossentropy", "sparse_categorical_crossentropy", "get",
]
