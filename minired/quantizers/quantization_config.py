"""Quantization configs: which quantizers a ``Model.quantize`` would apply, as Keras
writes them.

A config names a *mode* (``"int8"``, ``"int4"``, ``"float8"``, ``"gptq"``, ``"awq"``) and
carries the quantizer for the weights and the one for the activations. minired stores,
checks and saves them exactly as Keras; it does not quantize models (its layers refuse
quantized dtype policies).
"""

from __future__ import annotations

from minired.saving.serialization_lib import deserialize_keras_object, serialize_keras_object


class QuantizationConfig:
    """Base class of quantization configs: a weight quantizer and an activation quantizer.

    Subclasses define :attr:`mode`. ``get_config``/``from_config`` write and read the
    quantizers as serialized objects.

    Args:
        weight_quantizer: the :class:`~minired.quantizers.Quantizer` for the weights, or None.
        activation_quantizer: the one for the activations, or None.

    Example:
        >>> QuantizationConfig().get_config()
        {'weight_quantizer': None, 'activation_quantizer': None}
    """

    def __init__(self, weight_quantizer=None, activation_quantizer=None) -> None:
        self.weight_quantizer = weight_quantizer
        self.activation_quantizer = activation_quantizer

    @property
    def mode(self) -> str:
        """The quantization mode (subclasses)."""
        raise NotImplementedError("Subclasses must implement this property. Do not "
                                  "instantiate QuantizationConfig directly.")

    def get_config(self) -> dict:
        """The two quantizers, serialized (None stays None)."""
        return {"weight_quantizer": serialize_keras_object(self.weight_quantizer),
                "activation_quantizer": serialize_keras_object(self.activation_quantizer)}

    @classmethod
    def from_config(cls, config: dict) -> QuantizationConfig:
        """Rebuild the config (and its quantizers) from :meth:`get_config`'s output."""
        return cls(weight_quantizer=deserialize_keras_object(config.get("weight_quantizer")),
                   activation_quantizer=deserialize_keras_object(
                       config.get("activation_quantizer")))

    @staticmethod
    def weight_quantizer_or_default(config, default):
        """``config``'s weight quantizer, or ``default`` if there is none."""
        if config is not None and config.weight_quantizer is not None:
            return config.weight_quantizer
        return default

    @staticmethod
    def activation_quantizer_or_default(config, default):
        """``config``'s activation quantizer (even None) if there is a config, else
        ``default``."""
        if config is not None:
            return config.activation_quantizer
        return default


def _default_abs_max():
    from minired.quantizers.quantizer import AbsMaxQuantizer

    return AbsMaxQuantizer()


class Int8QuantizationConfig(QuantizationConfig):
    """Int8 quantization: weights and activations to int8 (mode ``"int8"``).

    Args:
        weight_quantizer: a quantizer with ``output_dtype="int8"``, or None (the layer's
            default).
        activation_quantizer: ``"default"`` gives ``AbsMaxQuantizer()`` (per row, axis -1);
            None quantizes weights only.

    Example:
        >>> config = Int8QuantizationConfig()
        >>> config.mode, type(config.activation_quantizer).__name__
        ('int8', 'AbsMaxQuantizer')
    """

    def __init__(self, weight_quantizer=None, activation_quantizer="default") -> None:
        if isinstance(activation_quantizer, str) and activation_quantizer == "default":
            activation_quantizer = _default_abs_max()
        super().__init__(weight_quantizer, activation_quantizer)
        if self.weight_quantizer is not None and self.weight_quantizer.output_dtype != "int8":
            raise ValueError(
                "Int8QuantizationConfig requires a weight_quantizer with output_dtype='int8'. "
                f"Received: output_dtype={self.weight_quantizer.output_dtype}")

    @property
    def mode(self) -> str:
        """``"int8"``."""
        return "int8"


class Int4QuantizationConfig(QuantizationConfig):
    """Int4 quantization of the weights (mode ``"int4"``), by groups of rows or per channel.

    Args:
        weight_quantizer: a quantizer with ``value_range=(-8, 7)`` and
            ``output_dtype="int8"``, only with per-channel quantization.
        activation_quantizer: ``"default"`` means None (weights only).
        block_size: rows per group (``ceil(input_dim / block_size)`` scales per column,
            :func:`~minired.quantizers.abs_max_quantize_grouped_with_zero_point`); None or
            -1 for one scale per output channel.

    Example:
        >>> Int4QuantizationConfig(block_size=64).get_config()
        {'weight_quantizer': None, 'activation_quantizer': None, 'block_size': 64}
    """

    def __init__(self, weight_quantizer=None, activation_quantizer="default",
                 block_size: int | None = 128) -> None:
        if isinstance(activation_quantizer, str) and activation_quantizer == "default":
            activation_quantizer = None
        super().__init__(weight_quantizer, activation_quantizer)
        if block_size is not None and block_size != -1 and block_size <= 0:
            raise ValueError("block_size must be None, -1, or a positive integer. "
                             f"Received: block_size={block_size}")
        self.block_size = block_size
        sub_channel = block_size is not None and block_size > 0
        if sub_channel and (self.weight_quantizer is not None
                            or self.activation_quantizer is not None):
            raise ValueError(
                "Int4 sub-channel quantization (block_size > 0) does not support custom "
                "quantizers. Either set block_size to None or -1 for per-channel "
                "quantization, or remove the custom quantizer arguments. Received: "
                f"block_size={block_size}")
        if self.weight_quantizer is not None:
            # (a tuple or the list a JSON file gives back)
            if tuple(self.weight_quantizer.value_range) != (-8, 7):
                raise ValueError(
                    "Int4QuantizationConfig requires a weight_quantizer with value_range="
                    f"(-8, 7). Received: value_range={self.weight_quantizer.value_range}")
            if self.weight_quantizer.output_dtype != "int8":
                raise ValueError(
                    "Int4QuantizationConfig requires a weight_quantizer with output_dtype="
                    f"'int8'. Received: output_dtype={self.weight_quantizer.output_dtype}")

    @property
    def mode(self) -> str:
        """``"int4"``."""
        return "int4"

    def get_config(self) -> dict:
        """The quantizers and ``block_size``."""
        return {**super().get_config(), "block_size": self.block_size}

    @classmethod
    def from_config(cls, config: dict) -> Int4QuantizationConfig:
        """Rebuild it; a config without ``block_size`` (older Keras) means per channel."""
        return cls(weight_quantizer=deserialize_keras_object(config.get("weight_quantizer")),
                   activation_quantizer=deserialize_keras_object(
                       config.get("activation_quantizer")),
                   block_size=config.get("block_size"))


class Float8QuantizationConfig(QuantizationConfig):
    """Float8 training (mode ``"float8"``): no quantizers to choose, only the mode.

    Example:
        >>> Float8QuantizationConfig().mode, Float8QuantizationConfig().get_config()
        ('float8', {})
    """

    def __init__(self) -> None:
        super().__init__(None, None)

    @property
    def mode(self) -> str:
        """``"float8"``."""
        return "float8"

    def get_config(self) -> dict:
        """Empty: nothing to choose."""
        return {}

    @classmethod
    def from_config(cls, config: dict) -> Float8QuantizationConfig:
        """A new config (``config`` is empty)."""
        return cls()
