"""Optimizers by Keras name: ``mr.optimizers.get("adam")``."""

from __future__ import annotations

from minired.optimizers import legacy, schedules
from minired.optimizers.adadelta import Adadelta
from minired.optimizers.adafactor import Adafactor
from minired.optimizers.adagrad import Adagrad
from minired.optimizers.adam import Adam
from minired.optimizers.adamax import Adamax
from minired.optimizers.adamw import AdamW
from minired.optimizers.ftrl import Ftrl
from minired.optimizers.lamb import Lamb
from minired.optimizers.lion import Lion
from minired.optimizers.loss_scale_optimizer import LossScaleOptimizer
from minired.optimizers.multi_optimizer import MultiOptimizer, OptimizerMap
from minired.optimizers.muon import Muon
from minired.optimizers.nadam import Nadam
from minired.optimizers.optimizer import Optimizer
from minired.optimizers.rmsprop import RMSprop
from minired.optimizers.schedule_free_adamw import ScheduleFreeAdamW
from minired.optimizers.sgd import SGD
from minired.utils.naming import lookup

# Keras lower-cases the name before looking it up: "Adam", "ADAM" and "adam" all work.
# Lamb has no string name in Keras (its ALL_OBJECTS leaves it out): use the class.
ALL_OPTIMIZERS = {cls.__name__.lower(): cls for cls in (SGD, Adam, RMSprop, Adagrad, AdamW, Nadam,
                                                         Adamax, Adadelta, Ftrl, Lion,
                                                         Adafactor, Muon, ScheduleFreeAdamW,
                                                         MultiOptimizer)}


def get(identifier: str | Optimizer | None) -> Optimizer | None:
    """Return an optimizer for a Keras name (with default arguments) or an instance.

    ``None`` gives ``None``, as in Keras.

    Example:
        >>> float(get("sgd").learning_rate)   # Keras' default 0.01, stored in float32
        0.009999999776482582
    """
    if identifier is None or isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, str):
        return lookup("optimizer", identifier.lower(), ALL_OPTIMIZERS)()
    raise TypeError(
        f"`optimizer` must be a name such as 'adam' or an Optimizer instance, got "
        f"{identifier!r} ({type(identifier).__name__})."
    )


def serialize(optimizer) -> dict:
    """``optimizer`` as Keras' JSON-able dict (:func:`~minired.saving.serialize_keras_object`)."""
    from minired.saving.serialization_lib import serialize_keras_object

    return serialize_keras_object(optimizer)


def deserialize(config, custom_objects: dict | None = None):
    """The optimizer that ``config`` (a :func:`serialize` dict, or a name) describes; your
    classes come from ``custom_objects`` or the registered ones, as Keras."""
    from minired.saving.serialization_lib import deserialize_in

    return deserialize_in("optimizers", config, custom_objects)


__all__ = [
    "Optimizer",
    "SGD",
    "Adam",
    "RMSprop",
    "Adagrad",
    "AdamW",
    "Nadam",
    "Adamax",
    "Adadelta",
    "Ftrl",
    "Lion",
    "Lamb",
    "Adafactor",
    "Muon",
    "ScheduleFreeAdamW",
    "MultiOptimizer",
    "OptimizerMap",
    "LossScaleOptimizer",
    "schedules",
    "get", "serialize", "deserialize",
    "legacy",
]
