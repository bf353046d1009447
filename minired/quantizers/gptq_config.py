"""GPTQConfig: the settings of GPTQ, post-training weight quantization with error
correction (Frantar et al., 2022), as Keras stores them."""

from __future__ import annotations

from minired.quantizers.quantization_config import QuantizationConfig


class GPTQConfig(QuantizationConfig):
    """Settings of GPTQ (mode ``"gptq"``): quantize a trained model's weights layer by
    layer, correcting each column's rounding error with the inverse Hessian
    ``H = 2 X Xᵀ`` of the layer's inputs on calibration data.

    minired keeps and checks the settings (``Model.quantize`` is not implemented).

    Args:
        dataset: calibration data (not saved: ``get_config`` writes None).
        tokenizer: turns text calibration data into tokens (not saved).
        weight_bits: 2, 3, 4 or 8.
        num_samples: calibration samples (> 0).
        per_channel: one scale per output channel (else per tensor).
        sequence_length: tokens per sample (> 0).
        hessian_damping: fraction of the mean diagonal added to ``H``, in [0, 1].
        group_size: columns per scale group, or -1 for per channel.
        symmetric: symmetric quantization (else with a zero point).
        activation_order: quantize columns by decreasing activation size.
        quantization_layer_structure: ``{"pre_block_layers": [...],
            "sequential_blocks": [...]}``, or None.

    Example:
        >>> config = GPTQConfig(None, None, group_size=64)
        >>> config.mode, config.dtype_policy_string()
        ('gptq', 'gptq/4/64')
    """

    def __init__(self, dataset, tokenizer, *, weight_bits: int = 4, num_samples: int = 128,
                 per_channel: bool = True, sequence_length: int = 512,
                 hessian_damping: float = 0.01, group_size: int = 128,
                 symmetric: bool = False, activation_order: bool = False,
                 quantization_layer_structure: dict | None = None) -> None:
        super().__init__()
        if weight_bits not in [2, 3, 4, 8]:
            raise ValueError(f"Unsupported weight_bits {weight_bits}. Supported values are "
                             "2, 3, 4, and 8.")
        if num_samples <= 0:
            raise ValueError("num_samples must be a positive integer.")
        if sequence_length <= 0:
            raise ValueError("sequence_length must be a positive integer.")
        if hessian_damping < 0 or hessian_damping > 1:
            raise ValueError("hessian_damping must be between 0 and 1.")
        if group_size < -1 or group_size == 0:
            raise ValueError("Invalid group_size. Supported values are -1 (whole-tensor) or "
                             f"a positive integer, but got {group_size}.")
        self.dataset = dataset
        self.tokenizer = tokenizer
        self.num_samples = num_samples
        self.per_channel = per_channel
        self.sequence_length = sequence_length
        self.hessian_damping = hessian_damping
        self.weight_bits = weight_bits
        self.group_size = group_size
        self.symmetric = symmetric
        self.activation_order = activation_order
        self.quantization_layer_structure = quantization_layer_structure

    def get_config(self) -> dict:
        """The settings; ``dataset`` and ``tokenizer`` are written as None (used once)."""
        return {"dataset": None, "tokenizer": None, "weight_bits": self.weight_bits,
                "num_samples": self.num_samples, "per_channel": self.per_channel,
                "sequence_length": self.sequence_length,
                "hessian_damping": self.hessian_damping, "group_size": self.group_size,
                "symmetric": self.symmetric, "activation_order": self.activation_order,
                "quantization_layer_structure": self.quantization_layer_structure}

    @classmethod
    def from_config(cls, config: dict) -> GPTQConfig:
        """Rebuild it from :meth:`get_config`'s output."""
        return cls(**config)

    @property
    def mode(self) -> str:
        """``"gptq"``."""
        return "gptq"

    def dtype_policy_string(self) -> str:
        """The quantized dtype policy's name, ``"gptq/<bits>/<group_size>"``."""
        return f"gptq/{self.weight_bits}/{self.group_size}"
