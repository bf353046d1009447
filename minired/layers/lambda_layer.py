"""Lambda: a function of yours used as a layer, differentiated by the tape."""

from __future__ import annotations

import base64
import inspect
import marshal
import types
from collections.abc import Callable

import numpy as np

from minired.autodiff import layer_calls
from minired.layers.layer import Layer, check_dtype_policy
from minired.saving import serialization_lib

#: Keras' refusal of a saved lambda (``Lambda._raise_for_lambda_deserialization``).
KERAS_SAFE_MODE_ERROR = (
    "Requested the deserialization of a `Lambda` layer whose `function` is a Python lambda. "
    "This carries a potential risk of arbitrary code execution and thus it is disallowed by "
    "default. If you trust the source of the artifact, you can override this error by "
    "passing `safe_mode=False` to the loading function, or calling "
    "`keras.config.enable_unsafe_deserialization()."
)

#: What minired says first: the layer holds code, which it never runs.
HOLDS_CODE = "The file holds a Lambda layer: Python code stored in a model file."
#: How to save a Lambda that loads.
USE_A_NAMED_FUNCTION = (
    "Give the layer a named function (`def f(x): ...`, registered with "
    "@mr.saving.register_keras_serializable() or passed in custom_objects) and save again."
)


class Lambda(Layer):
    """A function ``a = f(x)`` used as a layer, as Keras' ``Lambda``.

    Forward and backward::

        a  = f(x, **arguments)
        δx = (∂f/∂x)ᵀ δa           the tape's vector-Jacobian product

    ``f`` is written with ``mr.ops`` (or NumPy ufuncs and operators), and runs on the tape
    as a layer of your own does (see :class:`~minired.layers.Layer`): there is no
    hand-written backward, the tape differentiates whatever ``f`` computes. ``f`` takes the
    inputs first (a list for several inputs), then ``training`` and ``mask`` if it names
    them, then ``arguments``.

    Saving writes Keras' config: a named function by its name (loading finds it among the
    registered objects and ``custom_objects``), a ``lambda`` as Keras does, by its bytecode.
    Loading never runs bytecode from a file: such a Lambda is refused with Keras'
    ``safe_mode`` error, whatever ``safe_mode`` says.

    Args:
        function: the function, ``f(inputs, **arguments)``.
        output_shape: the output shape without the batch axis (a tuple), or a function of
            the whole input shape; ``None`` runs ``f`` on one sample of zeros to find it.
        mask: ``None``; a function ``mask(inputs, previous_mask)`` giving the output mask;
            or a fixed mask (an array) given whatever the input.
        arguments: keyword arguments passed to ``function`` at every call.
        name: layer name.

    Example:
        >>> from minired import ops
        >>> layer = Lambda(lambda x: ops.square(x) + 1.0)
        >>> layer(np.array([[1.0, 2.0]]))
        array([[2., 5.]], dtype=float32)
    """

    def __init__(self, function: Callable, output_shape=None, mask=None, arguments=None,
                 **kwargs) -> None:
        super().__init__(**kwargs)
        if not callable(function):
            raise TypeError(f"Lambda: `function` must be callable (a function of the inputs), "
                            f"got {function!r} of type {type(function).__name__}.")
        if arguments is not None and not isinstance(arguments, dict):
            raise TypeError("Lambda: `arguments` must be a dict of keyword arguments for "
                            f"`function`, or None; got {type(arguments).__name__}.")
        if output_shape is not None and not callable(output_shape):
            if not isinstance(output_shape, tuple | list) or not all(
                    d is None or (isinstance(d, int | np.integer) and not isinstance(d, bool))
                    for d in output_shape):
                raise TypeError("Lambda: `output_shape` must be a tuple (the output shape "
                                "without the batch axis), a function of the input shape, or "
                                f"None; got {output_shape!r}.")
            output_shape = tuple(output_shape)
        self.arguments = dict(arguments or {})
        self.function = function
        self.supports_masking = mask is not None
        self.mask = mask
        self._output_shape = output_shape
        parameters = _parameter_names(function)
        self._fn_expects_training_arg = "training" in parameters
        self._fn_expects_mask_arg = "mask" in parameters

    def compute_output_shape(self, input_shape):
        """``output_shape`` with the batch axis in front, ``output_shape(input_shape)``, or
        the shape of ``f`` run on one sample of zeros."""
        if self._output_shape is None:
            try:
                return layer_calls.infer_output_shape(self, input_shape)
            except Exception as error:
                raise NotImplementedError(
                    "We could not automatically infer the shape of the Lambda's output. "
                    "Please specify the `output_shape` argument for this Lambda layer. "
                    f"(Running the function on zeros raised {type(error).__name__}: "
                    f"{error})") from error
        if callable(self._output_shape):
            return self._output_shape(input_shape)
        batch = layer_calls.flatten_shapes(input_shape)[0][0]
        return (batch, *self._output_shape)

    def call(self, inputs, mask=None, training=None):
        kwargs = dict(self.arguments)
        if self._fn_expects_mask_arg:
            kwargs["mask"] = mask
        if self._fn_expects_training_arg:
            kwargs["training"] = training
        return self.function(inputs, **kwargs)

    def compute_mask(self, inputs, previous_mask=None):
        if callable(self.mask):
            return self.mask(inputs, previous_mask)
        return self.mask

    _keras_node_kwargs = {"mask": None}     # what Keras records for a call
    _keras_build_config = True              # Keras records the input shape of a Lambda

    def get_config(self) -> dict:
        config = {"function": _serialize_function(self.function)}
        if self._output_shape is not None:
            config["output_shape"] = (_serialize_function(self._output_shape)
                                      if callable(self._output_shape) else self._output_shape)
        if self.mask is not None:
            config["mask"] = (_serialize_function(self.mask) if callable(self.mask)
                              else serialization_lib.serialize_keras_object(self.mask))
        config["arguments"] = serialization_lib.serialize_keras_object(self.arguments)
        return {**super().get_config(), **config}

    @classmethod
    def from_config(cls, config: dict, custom_objects: dict | None = None,
                    safe_mode: bool | None = None):
        """A Lambda from Keras' config. A function stored as bytecode (a ``lambda``) is
        refused: minired never runs code from a file. A named function is looked up among
        ``custom_objects``, the registered objects and minired's functions."""
        config = dict(config)
        check_dtype_policy(config.pop("dtype", None), cls.__name__)
        # Keras 2 (h5) writes a named function as its bare name beside these keys.
        named = {key: config.pop(key, None) for key in ("function_type", "output_shape_type")}
        for key in ("module", "output_shape_module"):
            config.pop(key, None)
        for key, kind in (("function", "function_type"), ("output_shape", "output_shape_type")):
            if named[kind] == "function" and isinstance(config.get(key), str):
                config[key] = {"class_name": "function", "config": config[key]}
        safe_mode = serialization_lib._SCOPE["safe_mode"] if safe_mode is None else safe_mode
        with serialization_lib.deserialization_scope(custom_objects, safe_mode is not False):
            config["function"] = _load_function(config.get("function"), safe_mode, "function")
            if config.get("output_shape") is not None:
                shape = config["output_shape"]
                config["output_shape"] = (_load_function(shape, safe_mode, "output_shape")
                                          if _is_code_or_function(shape) else tuple(shape))
            mask = config.get("mask")
            if mask is not None:       # a function (by name, or code), or a fixed mask
                is_function = isinstance(mask, str) or (
                    isinstance(mask, dict) and mask.get("class_name") in ("function",
                                                                          "__lambda__"))
                config["mask"] = (_load_function(mask, safe_mode, "mask") if is_function
                                  else serialization_lib._deserialize(mask))
            config["arguments"] = serialization_lib._deserialize(config.get("arguments"))
        trainable = config.pop("trainable", True)
        layer = cls(**config)
        layer.trainable = trainable
        return layer


def _parameter_names(function: Callable) -> list[str]:
    try:
        return list(inspect.signature(function).parameters)
    except (TypeError, ValueError):       # a builtin without a signature
        return []


def _serialize_function(fn: Callable) -> dict:
    """Keras' form of a Lambda's function: a ``lambda`` by its bytecode (``func_dump``, what
    Keras writes; minired refuses to load it), any other function by its name."""
    if isinstance(fn, types.LambdaType) and fn.__name__ == "<lambda>":
        code = base64.encodebytes(marshal.dumps(fn.__code__)).decode("ascii")
        closure = (tuple(cell.cell_contents for cell in fn.__closure__)
                   if fn.__closure__ else None)
        return {"class_name": "__lambda__",
                "config": {"code": code, "defaults": fn.__defaults__, "closure": closure}}
    if isinstance(fn, types.FunctionType):
        return serialization_lib.serialize_keras_object(fn)
    if hasattr(fn, "get_config"):
        return serialization_lib.serialize_keras_object(fn)
    raise ValueError("Invalid input type for serialization. "
                     f"Received: {fn} of type {type(fn)}.")


def _is_code_or_function(value) -> bool:
    """Whether a saved value is a function (by name or as bytecode) rather than a shape."""
    if isinstance(value, dict):
        return "class_name" in value
    return isinstance(value, str)      # legacy: bytecode in a string


def _load_function(value, safe_mode, what: str) -> Callable:
    """The named function ``value`` describes; bytecode (Keras' ``__lambda__``, or the
    legacy tuple or string of an h5 file) is refused, never loaded."""
    if isinstance(value, dict) and value.get("class_name") == "function":
        found = serialization_lib._deserialize(value)
        if callable(found):
            return found
    elif isinstance(value, dict) and value.get("class_name") not in (None, "__lambda__"):
        found = serialization_lib._deserialize(value)     # a registered callable object
        if callable(found):
            return found
    if safe_mode is not False:       # Keras' error, and why safe_mode=False will not help
        raise ValueError(f"{HOLDS_CODE} {KERAS_SAFE_MODE_ERROR} In minired safe_mode=False "
                         "does not enable it either: minired never runs code from a file. "
                         f"{USE_A_NAMED_FUNCTION}")
    raise ValueError(f"{HOLDS_CODE} Its `{what}` is Python code, and minired never runs code "
                     f"from a file, whatever safe_mode says. {USE_A_NAMED_FUNCTION}")
