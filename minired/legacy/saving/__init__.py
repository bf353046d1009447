"""Keras 2's one-object JSON format, as ``keras.legacy.saving`` (see
:mod:`minired.legacy.saving.serialization`)."""

from minired.legacy.saving.serialization import (
    deserialize_keras_object,
    serialize_keras_object,
)

__all__ = ["deserialize_keras_object", "serialize_keras_object"]
