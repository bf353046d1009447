"""Saving and loading models in Keras 3's ``.keras`` format, as ``keras.saving``.

- ``model.save("model.keras")`` / :func:`load_model`: a zip of ``metadata.json``,
  ``config.json`` (the architecture and the compile arguments) and ``model.weights.h5``
  (weights and optimizer state), the very file Keras writes: ``keras.saving.load_model``
  opens it and training continues with the same numbers (see :mod:`.saving_lib`).
- ``model.save("model.h5")`` / :func:`load_model` of an ``.h5`` file: Keras' legacy HDF5
  whole-model file, which Keras 3 still reads and writes (see :mod:`.legacy_h5`).
- ``model.get_config()`` / ``Model.from_config`` and :func:`serialize_keras_object` /
  :func:`deserialize_keras_object`: the JSON of :mod:`.serialization_lib`.
- Your own classes and functions are saved by name (registered or not); loading finds them
  through :func:`register_keras_serializable`, ``custom_objects={...}`` or a
  :func:`custom_object_scope`.

Loading is safe by construction: JSON and HDF5 only (nothing is unpickled), no module named
in a file is imported, no code from a file is run, and sizes are checked before reading.
"""

from minired.saving.file_editor import KerasFileEditor
from minired.saving.object_registration import (
    get_custom_objects,
    get_registered_name,
    get_registered_object,
    register_keras_serializable,
)
from minired.saving.serialization_lib import (
    CustomObjectScope,
    custom_object_scope,
    deserialize_keras_object,
    serialize_keras_object,
)


def save_model(model, filepath, overwrite: bool = True, zipped: bool = True) -> None:
    """Save ``model`` to a ``.keras`` file, or to Keras' legacy ``.h5`` file (see
    :func:`minired.saving.saving_lib.save_model`)."""
    from minired.saving import saving_lib

    saving_lib.save_model(model, filepath, overwrite=overwrite)


def load_model(filepath, custom_objects: dict | None = None, compile: bool = True,
               safe_mode: bool = True):
    """Load a ``.keras`` (or legacy ``.h5``) file written by minired or by Keras (see
    :func:`minired.saving.saving_lib.load_model`)."""
    from minired.saving import saving_lib

    return saving_lib.load_model(filepath, custom_objects=custom_objects, compile=compile,
                                 safe_mode=safe_mode)


def save_weights(model, filepath, overwrite: bool = True, max_shard_size=None) -> None:
    """Write ``model``'s weights to a ``.weights.h5`` file (as ``model.save_weights``;
    ``max_shard_size``: only None, minired does not shard)."""
    from minired.saving import saving_lib

    saving_lib.save_weights(model, filepath, overwrite=overwrite, max_shard_size=max_shard_size)


def load_weights(model, filepath, skip_mismatch: bool = False) -> None:
    """Read weights into ``model`` from a ``.weights.h5`` or ``.keras`` file (as
    ``model.load_weights``; ``skip_mismatch=True`` skips the layers that do not fit, with
    Keras' warning)."""
    from minired.saving import saving_lib

    saving_lib.load_weights(model, filepath, skip_mismatch=skip_mismatch)


__all__ = [
    "CustomObjectScope", "KerasFileEditor", "custom_object_scope", "deserialize_keras_object",
    "get_custom_objects", "get_registered_name", "get_registered_object", "load_model",
    "load_weights", "register_keras_serializable", "save_model", "save_weights",
    "serialize_keras_object",
]
