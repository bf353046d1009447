"""Weight initializers by Keras name: ``mr.initializers.get("glorot_uniform")``."""

from __future__ import annotations

from collections.abc import Callable

from minired.initializers.constant_initializers import Constant, Identity, Ones, Zeros
from minired.initializers.initializer import Initializer
from minired.initializers.random_initializers import (
    GlorotNormal,
    GlorotUniform,
    HeNormal,
    HeUniform,
    LecunNormal,
    LecunUniform,
    Orthogonal,
    RandomNormal,
    RandomUniform,
    TruncatedNormal,
    VarianceScaling,
    compute_fans,
)
from minired.initializers.stft import STFT
from minired.utils.naming import lookup

# Keras accepts each class name and its snake_case form, plus a few short aliases.
# "constant"/"Constant" are absent on purpose: in Keras 3.15.1 they fail with
# KeyError('value') (Constant.from_config needs a value), so no string builds a Constant.
_NAMED = {
    "Zeros": Zeros,
    "Ones": Ones,
    "RandomNormal": RandomNormal,
    "RandomUniform": RandomUniform,
    "TruncatedNormal": TruncatedNormal,
    "VarianceScaling": VarianceScaling,
    "GlorotUniform": GlorotUniform,
    "GlorotNormal": GlorotNormal,
    "HeNormal": HeNormal,
    "HeUniform": HeUniform,
    "LecunNormal": LecunNormal,
    "LecunUniform": LecunUniform,
    "Orthogonal": Orthogonal,
    "Identity": Identity,
    "STFT": STFT,
}
_SNAKE = {
    "zeros": Zeros,
    "ones": Ones,
    "random_normal": RandomNormal,
    "random_uniform": RandomUniform,
    "truncated_normal": TruncatedNormal,
    "variance_scaling": VarianceScaling,
    "glorot_uniform": GlorotUniform,
    "glorot_normal": GlorotNormal,
    "he_normal": HeNormal,
    "he_uniform": HeUniform,
    "lecun_normal": LecunNormal,
    "lecun_uniform": LecunUniform,
    "orthogonal": Orthogonal,
    "identity": Identity,
    "stft": STFT,
}
_ALIASES = {"zero": Zeros, "one": Ones, "normal": RandomNormal, "uniform": RandomUniform,
            "OrthogonalInitializer": Orthogonal, "IdentityInitializer": Identity,
            "STFTInitializer": STFT}
ALL_INITIALIZERS = {**_NAMED, **_SNAKE, **_ALIASES}

# Keras binds each snake_case name, and two longer names, to the class itself
# (``keras.initializers.he_normal is keras.initializers.HeNormal``): so does minired.
zeros, ones, constant, identity = Zeros, Ones, Constant, Identity
random_normal, random_uniform, truncated_normal = RandomNormal, RandomUniform, TruncatedNormal
variance_scaling, orthogonal = VarianceScaling, Orthogonal
glorot_uniform, glorot_normal, he_normal, he_uniform = (GlorotUniform, GlorotNormal, HeNormal,
                                                       HeUniform)
lecun_normal, lecun_uniform = LecunNormal, LecunUniform
OrthogonalInitializer, IdentityInitializer = Orthogonal, Identity
stft = STFTInitializer = STFT


def get(identifier: str | Initializer | Callable | type | None) -> Initializer | Callable | None:
    """Return an initializer for a Keras name (default arguments), an instance, or None.

    A function ``f(shape, dtype=None)`` passes through, and an Initializer class is
    instantiated with its defaults, as in Keras.

    Example:
        >>> type(get("he_normal")).__name__
        'HeNormal'
    """
    if identifier is None or isinstance(identifier, Initializer):
        return identifier
    if isinstance(identifier, str):
        return lookup("initializer", identifier, ALL_INITIALIZERS)()
    if isinstance(identifier, type):
        if issubclass(identifier, Initializer):
            return identifier()
    elif callable(identifier):
        return identifier
    raise TypeError(
        "`initializer` must be a name such as 'glorot_uniform', an Initializer, a function "
        f"f(shape, dtype=None) or None, got {identifier!r} ({type(identifier).__name__})."
    )


def serialize(initializer) -> dict:
    """``initializer`` as Keras' JSON-able dict (:func:`~minired.saving.serialize_keras_object`)."""
    from minired.saving.serialization_lib import serialize_keras_object

    return serialize_keras_object(initializer)


def deserialize(config, custom_objects: dict | None = None):
    """The initializer that ``config`` (a :func:`serialize` dict, or a name) describes; your
    classes come from ``custom_objects`` or the registered ones, as Keras."""
    from minired.saving.serialization_lib import deserialize_in

    return deserialize_in("initializers", config, custom_objects)


__all__ = [
    "Initializer",
    "Zeros",
    "Ones",
    "Constant",
    "RandomNormal",
    "RandomUniform",
    "TruncatedNormal",
    "VarianceScaling",
    "GlorotUniform",
    "GlorotNormal",
    "HeNormal",
    "HeUniform",
    "LecunNormal",
    "LecunUniform",
    "Orthogonal",
    "Identity",
    "compute_fans",
    "get", "serialize", "deserialize",
    "zeros", "ones", "constant", "identity", "random_normal", "random_uniform",
    "truncated_normal", "variance_scaling", "orthogonal", "glorot_uniform", "glorot_normal",
    "he_normal", "he_uniform", "lecun_normal", "lecun_uniform", "OrthogonalInitializer",
    "IdentityInitializer", "STFT", "STFTInitializer", "stft",
]
