"""Models: ``Model`` (functional graphs) and ``Sequential`` (a straight line of layers)."""

from minired.models.functional import Functional
from minired.models.model import Model
from minired.models.sequential import Sequential


def model_from_json(json_string: str, custom_objects: dict | None = None):
    """A model (new weights) from :meth:`Model.to_json`'s output, minired's or Keras'."""
    import json

    from minired.saving import deserialize_keras_object

    return deserialize_keras_object(json.loads(json_string), custom_objects=custom_objects,
                                    compile=False)


def load_model(filepath, custom_objects: dict | None = None, compile: bool = True,
               safe_mode: bool = True):
    """Load a ``.keras`` archive, or a legacy ``.h5`` file (see
    :func:`minired.saving.load_model`)."""
    from minired.saving import load_model as load

    return load(filepath, custom_objects=custom_objects, compile=compile, safe_mode=safe_mode)


def save_model(model, filepath, overwrite: bool = True, zipped: bool = True) -> None:
    """Save ``model`` to a ``.keras`` file, or a legacy ``.h5`` file (see
    :func:`minired.saving.save_model`)."""
    from minired.saving import save_model as save

    save(model, filepath, overwrite=overwrite, zipped=zipped)


def clone_model(model, input_tensors=None, clone_function=None, call_function=None,
                recursive: bool = False, **kwargs):
    """A new model with the same architecture and new weights (see
    :mod:`minired.models.cloning`)."""
    from minired.models.cloning import clone_model as clone

    return clone(model, input_tensors=input_tensors, clone_function=clone_function,
                 call_function=call_function, recursive=recursive, **kwargs)


__all__ = ["Functional", "Model", "Sequential", "clone_model", "load_model", "model_from_json",
           "save_model"]
