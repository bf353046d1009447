"""Saving and loading models in Keras 3's ``.keras`` format, as ``keras.saving``.

- ``model.save("model.keras")`` / :func:`load_model`: a zip of ``metadata.json``,
  ``config.json`` (the architecture and the compile arguments) and ``model.weights.h5``
  (weights and optimizer state), the very file Keras writes: ``keras.saving.load_model``
  opens it and training continues with the same numbers (see :mod:`.saving_lib`).
- ``model.get_config()`` / ``Model.from_config`` and :func:`serialize_keras_object` /
  :func:`deserialize_keras_object`: the JSON of :mod:`.serialization_lib`.
- :func:`register_keras_serializable`: let a file name a class of your own.

Loading is safe by construction: JSON and HDF5 only (nothing is unpickled), no module named
in a file is imported, no code from a file is run, and sizes are checked before reading.
"""

from minired.saving.object_registration import (
    get_custom_objects,
    get_registered_name,
    get_registered_object,
    register_keras_serializable,
)
from minired.saving.serialization_lib import deserialize_keras_object, serialize_keras_object


def save_model(model, filepath, overwrite: bool = True, zipped: bool = True) -> None:
    """Save ``model`` to a ``.keras`` file (see :func:`minired.saving.saving_lib.save_model`)."""
    from minired.saving import saving_lib

    saving_lib.save_model(model, filepath, overwrite=overwrite)


def load_model(filepath, custom_objects: dict | None = None, compile: bool = True,
               safe_mode: bool = True):
    """Load a ``.keras`` file written by minired or by Keras (see
    :func:`minired.saving.saving_lib.load_model`)."""
    from minired.saving import saving_lib

    return saving_lib.load_model(filepath, custom_objects=custom_objects, compile=compile,
                                 safe_mode=safe_mode)


__all__ = [
    "deserialize_keras_object", "get_custom_objects", "get_registered_name",
    "get_registered_object", "load_model", "register_keras_serializable", "save_model",
    "serialize_keras_object",
]
