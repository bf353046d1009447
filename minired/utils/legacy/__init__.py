"""``keras.utils.legacy``: the same two functions as :mod:`minired.legacy.saving` (Keras 2's
one-object JSON format)."""

from minired.legacy.saving.serialization import (
    deserialize_keras_object,
    serialize_keras_object,
)

__all__ = ["deserialize_keras_object", "serialize_keras_object"]
