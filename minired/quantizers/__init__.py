"""Quantization by Keras name (``keras.quantizers``): integers and float8 in place of floats.

A float ``x`` is stored as a small integer ``q`` and a scale ``s``: ``x ≈ q / s``.

- :mod:`~minired.quantizers.abs_max`: ``s = 127 / max|x|`` per row
  (:func:`abs_max_quantize`), or a scale and zero point per group of rows
  (:func:`abs_max_quantize_grouped_with_zero_point`);
- :mod:`~minired.quantizers.int4_packing`: two int4 values per byte (:func:`pack_int4`,
  :func:`unpack_int4`);
- :mod:`~minired.quantizers.fake_quant`: round to the levels and back, with the
  straight-through gradient that quantization-aware training uses
  (:func:`fake_quant_with_min_max_vars`);
- :mod:`~minired.quantizers.float8`: float8 rounding and its scales
  (:func:`quantize_and_dequantize`, :func:`compute_float8_scale`,
  :func:`compute_float8_amax_history`);
- :mod:`~minired.quantizers.quantizer` and the configs: :class:`AbsMaxQuantizer` and the
  ``*QuantizationConfig`` / :class:`GPTQConfig` / :class:`AWQConfig` settings, saved as
  Keras saves them. (minired does not quantize models: ``Model.quantize`` is Keras-only.)
"""

from __future__ import annotations

import inspect
from typing import Any

from minired.quantizers.abs_max import abs_max_quantize, abs_max_quantize_grouped_with_zero_point
from minired.quantizers.awq_config import AWQConfig
from minired.quantizers.fake_quant import fake_quant_with_min_max_vars
from minired.quantizers.float8 import (
    compute_float8_amax_history,
    compute_float8_scale,
    quantize_and_dequantize,
)
from minired.quantizers.gptq_config import GPTQConfig
from minired.quantizers.int4_packing import pack_int4, unpack_int4
from minired.quantizers.quantization_config import (
    Float8QuantizationConfig,
    Int4QuantizationConfig,
    Int8QuantizationConfig,
    QuantizationConfig,
)
from minired.quantizers.quantizer import AbsMaxQuantizer, Quantizer
from minired.utils.naming import to_snake_case

# Keras' ALL_OBJECTS_DICT: these classes by name and snake_case name (GPTQConfig is not in
# Keras' list, so `get("GPTQConfig")` fails there too).
_ALL_OBJECTS = (Quantizer, AbsMaxQuantizer, QuantizationConfig, Int8QuantizationConfig,
                Int4QuantizationConfig, Float8QuantizationConfig, AWQConfig)
ALL_OBJECTS_DICT = {cls.__name__: cls for cls in _ALL_OBJECTS}
ALL_OBJECTS_DICT.update({to_snake_case(cls.__name__): cls for cls in _ALL_OBJECTS})


def serialize(quantizer) -> dict:
    """``quantizer`` (or a config) as Keras' JSON-able dict.

    Example:
        >>> serialize(AbsMaxQuantizer(axis=-1))["config"]
        {'value_range': [-127, 127], 'epsilon': 1e-07, 'output_dtype': 'int8', 'axis': [-1]}
    """
    from minired.saving.serialization_lib import serialize_keras_object

    return serialize_keras_object(quantizer)


def deserialize(config, custom_objects: dict | None = None):
    """The quantizer or config that ``config`` (a :func:`serialize` dict, or a name)
    describes; your classes come from ``custom_objects`` or the registered ones.

    Example:
        >>> deserialize({"class_name": "Int4QuantizationConfig",
        ...              "config": {"block_size": 32}}).block_size
        32
    """
    from minired.saving.serialization_lib import deserialize_in

    return deserialize_in("quantizers", config, custom_objects)


def get(identifier, **kwargs: Any):
    """A quantizer from a name (``"abs_max_quantizer"``, made with ``kwargs``), a config
    dict, a class (made with ``kwargs``) or a callable (returned); None gives None.

    As in Keras, the result must be callable: a config object (not callable) is refused.

    Example:
        >>> get("AbsMaxQuantizer", axis=0).axis
        (0,)
        >>> get(None) is None
        True
    """
    if identifier is None:
        return None
    if isinstance(identifier, dict):
        obj = deserialize(identifier)
    elif isinstance(identifier, str):
        obj = ALL_OBJECTS_DICT.get(identifier)
    else:
        obj = identifier
    if callable(obj):
        return obj(**kwargs) if inspect.isclass(obj) else obj
    raise ValueError(f"Could not interpret quantizer identifier: {identifier}")


__all__ = [
    "Quantizer", "AbsMaxQuantizer", "QuantizationConfig", "Int8QuantizationConfig",
    "Int4QuantizationConfig", "Float8QuantizationConfig", "GPTQConfig", "AWQConfig",
    "abs_max_quantize", "abs_max_quantize_grouped_with_zero_point", "pack_int4",
    "unpack_int4", "fake_quant_with_min_max_vars", "quantize_and_dequantize",
    "compute_float8_scale", "compute_float8_amax_history", "get", "serialize", "deserialize",
]
