"""Losses by Keras name: ``mr.losses.get("categorical_crossentropy")``.

Each loss lives in its own file, as a class (``MeanAbsoluteError``) and a function
(``mean_absolute_error``) that returns the per-sample losses. Every class writes out the
loss ``ℓ`` and its gradient ``∂ℓ/∂ŷ``; the base class :class:`Loss` (``loss.py``) adds the
reduction over the batch and the sample weights.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable

from minired.losses.binary_crossentropy import BinaryCrossentropy, binary_crossentropy
from minired.losses.binary_focal_crossentropy import (
    BinaryFocalCrossentropy,
    binary_focal_crossentropy,
)
from minired.losses.categorical_crossentropy import (
    CategoricalCrossentropy,
    categorical_crossentropy,
)
from minired.losses.categorical_focal_crossentropy import (
    CategoricalFocalCrossentropy,
    categorical_focal_crossentropy,
)
from minired.losses.categorical_generalized_cross_entropy import (
    CategoricalGeneralizedCrossEntropy,
    categorical_generalized_cross_entropy,
)
from minired.losses.categorical_hinge import CategoricalHinge, categorical_hinge
from minired.losses.circle import Circle, circle
from minired.losses.cosine_similarity import CosineSimilarity, cosine_similarity
from minired.losses.ctc import CTC, ctc
from minired.losses.dice import Dice, dice
from minired.losses.hinge import Hinge, hinge
from minired.losses.huber import Huber, huber
from minired.losses.kl_divergence import KLDivergence, kl_divergence
from minired.losses.log_cosh import LogCosh, log_cosh
from minired.losses.loss import Loss, LossFunctionWrapper
from minired.losses.mean_absolute_error import MeanAbsoluteError, mean_absolute_error
from minired.losses.mean_absolute_percentage_error import (
    MeanAbsolutePercentageError,
    mean_absolute_percentage_error,
)
from minired.losses.mean_squared_error import MeanSquaredError, mean_squared_error
from minired.losses.mean_squared_logarithmic_error import (
    MeanSquaredLogarithmicError,
    mean_squared_logarithmic_error,
)
from minired.losses.poisson import Poisson, poisson
from minired.losses.sparse_categorical_crossentropy import (
    SparseCategoricalCrossentropy,
    sparse_categorical_crossentropy,
)
from minired.losses.squared_hinge import SquaredHinge, squared_hinge
from minired.losses.tversky import Tversky, tversky
from minired.utils.naming import lookup

# Short names, as Keras' `losses.get` knows them ("logcosh" is Keras 2's, gone from Keras 3).
mse = MSE = mean_squared_error
mae = MAE = mean_absolute_error
mape = MAPE = mean_absolute_percentage_error
msle = MSLE = mean_squared_logarithmic_error
kld = KLD = kl_divergence
bce = BCE = binary_crossentropy
logcosh = log_cosh

#: Each loss class with its function; both names resolve to the class.
_CLASSES_AND_FUNCTIONS: dict[type[Loss], Callable] = {
    MeanSquaredError: mean_squared_error,
    MeanAbsoluteError: mean_absolute_error,
    MeanAbsolutePercentageError: mean_absolute_percentage_error,
    MeanSquaredLogarithmicError: mean_squared_logarithmic_error,
    CosineSimilarity: cosine_similarity,
    Huber: huber,
    LogCosh: log_cosh,
    Hinge: hinge,
    SquaredHinge: squared_hinge,
    CategoricalHinge: categorical_hinge,
    KLDivergence: kl_divergence,
    Poisson: poisson,
    BinaryCrossentropy: binary_crossentropy,
    BinaryFocalCrossentropy: binary_focal_crossentropy,
    CategoricalCrossentropy: categorical_crossentropy,
    SparseCategoricalCrossentropy: sparse_categorical_crossentropy,
    CategoricalFocalCrossentropy: categorical_focal_crossentropy,
    CategoricalGeneralizedCrossEntropy: categorical_generalized_cross_entropy,
    Dice: dice,
    Tversky: tversky,
    Circle: circle,
    CTC: ctc,
}
_BY_FUNCTION: dict[Callable, type[Loss]] = {
    function: cls for cls, function in _CLASSES_AND_FUNCTIONS.items()}
_ALIASES = {"mse": mse, "MSE": MSE, "mae": mae, "MAE": MAE, "mape": mape, "MAPE": MAPE,
            "msle": msle, "MSLE": MSLE, "kld": kld, "KLD": KLD, "bce": bce, "BCE": BCE,
            "logcosh": logcosh}
#: Keras 3.15 leaves CategoricalGeneralizedCrossEntropy out of its name table: no string
#: names it (use the class or the function), in Keras as here. Files still load it by class.
_UNNAMED = (CategoricalGeneralizedCrossEntropy,)
_BY_NAME: dict[str, type[Loss]] = {
    **{cls.__name__: cls for cls in _CLASSES_AND_FUNCTIONS if cls not in _UNNAMED},
    **{function.__name__: cls for cls, function in _CLASSES_AND_FUNCTIONS.items()
       if cls not in _UNNAMED},
    **{alias: _BY_FUNCTION[function] for alias, function in _ALIASES.items()},
}


def get(identifier: str | Loss | type | Callable) -> Loss:
    """Return a loss object for a Keras name, a loss function of this module, or a Loss.

    A Loss class is instantiated with its defaults. Any other function ``fn(y_true,
    y_pred)`` becomes a :class:`LossFunctionWrapper`: the tape differentiates it.

    Example:
        >>> get("mse").name
        'mean_squared_error'
        >>> type(get("mae")).__name__
        'MeanAbsoluteError'
    """
    if isinstance(identifier, Loss):
        return identifier
    if isinstance(identifier, str):
        return lookup("loss", identifier, _BY_NAME)()
    if inspect.isclass(identifier) and issubclass(identifier, Loss):
        return identifier()
    if callable(identifier) and identifier in _BY_FUNCTION:
        return _BY_FUNCTION[identifier]()
    if callable(identifier) and not isinstance(identifier, type):
        return LossFunctionWrapper(identifier)
    raise TypeError(
        "`loss` must be a Keras loss name, a minired.losses function or a Loss object, got "
        f"{identifier!r}."
    )


def serialize(loss) -> dict:
    """``loss`` as Keras' JSON-able dict (:func:`~minired.saving.serialize_keras_object`)."""
    from minired.saving.serialization_lib import serialize_keras_object

    return serialize_keras_object(loss)


def deserialize(config, custom_objects: dict | None = None):
    """The loss that ``config`` (a :func:`serialize` dict, or a name) describes; your
    classes come from ``custom_objects`` or the registered ones, as Keras."""
    from minired.saving.serialization_lib import deserialize_in

    return deserialize_in("losses", config, custom_objects)


__all__ = [
    "Loss", "LossFunctionWrapper",
    "MeanSquaredError", "MeanAbsoluteError", "MeanAbsolutePercentageError",
    "MeanSquaredLogarithmicError", "CosineSimilarity", "Huber", "LogCosh", "Hinge",
    "SquaredHinge", "CategoricalHinge", "KLDivergence", "Poisson", "BinaryCrossentropy",
    "BinaryFocalCrossentropy", "CategoricalCrossentropy", "SparseCategoricalCrossentropy",
    "mean_squared_error", "mean_absolute_error", "mean_absolute_percentage_error",
    "mean_squared_logarithmic_error", "cosine_similarity", "huber", "log_cosh", "hinge",
    "squared_hinge", "categorical_hinge", "kl_divergence", "poisson", "binary_crossentropy",
    "binary_focal_crossentropy", "categorical_crossentropy", "sparse_categorical_crossentropy",
    "CategoricalFocalCrossentropy", "CategoricalGeneralizedCrossEntropy", "Dice", "Tversky",
    "Circle", "CTC", "categorical_focal_crossentropy", "categorical_generalized_cross_entropy",
    "dice", "tversky", "circle", "ctc",
    "mse", "MSE", "mae", "MAE", "mape", "MAPE", "msle", "MSLE", "kld", "KLD", "bce", "BCE",
    "logcosh", "get", "serialize", "deserialize",
]
