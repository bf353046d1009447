"""AWQConfig: the settings of AWQ, activation-aware weight quantization (Lin et al., 2023),
as Keras stores them."""

from __future__ import annotations

from minired.quantizers.quantization_config import QuantizationConfig


class AWQConfig(QuantizationConfig):
    """Settings of AWQ (mode ``"awq"``): before quantizing to 4 bits, scale each input
    channel of a weight by ``s_j`` (and its input by ``1/s_j``), with ``s`` found by a grid
    search over ``s_j = mean|x_j|^α``, so the channels with large activations lose less.

    minired keeps and checks the settings (``Model.quantize`` is not implemented).

    Args:
        dataset: calibration data (not saved: ``get_config`` writes None).
        tokenizer: turns text calibration data into tokens (not saved).
        weight_bits: must be 4.
        num_samples: calibration samples (> 0).
        sequence_length: tokens per sample (> 0).
        group_size: columns per scale group, or -1 for per channel.
        num_grid_points: points of the grid search for ``α`` (> 0).
        quantization_layer_structure: ``{"pre_block_layers": [...],
            "sequential_blocks": [...]}``, or None.

    Example:
        >>> AWQConfig(None, None).dtype_policy_string()
        'awq/4/128'
    """

    def __init__(self, dataset, tokenizer, *, weight_bits: int = 4, num_samples: int = 128,
                 sequence_length: int = 512, group_size: int = 128, num_grid_points: int = 20,
                 quantization_layer_structure: dict | None = None) -> None:
        super().__init__()
        if weight_bits != 4:
            raise ValueError("AWQ only supports 4-bit quantization. Received "
                             f"weight_bits={weight_bits}.")
        if num_samples <= 0:
            raise ValueError("num_samples must be a positive integer.")
        if sequence_length <= 0:
            raise ValueError("sequence_length must be a positive integer.")
        if group_size < -1 or group_size == 0:
            raise ValueError("Invalid group_size. Supported values are -1 (per-channel) or a "
                             f"positive integer, but got {group_size}.")
        if num_grid_points <= 0:
            raise ValueError("num_grid_points must be a positive integer.")
        self.dataset = dataset
        self.tokenizer = tokenizer
        self.weight_bits = weight_bits
        self.num_samples = num_samples
        self.sequence_length = sequence_length
        self.group_size = group_size
        self.num_grid_points = num_grid_points
        self.quantization_layer_structure = quantization_layer_structure

    @property
    def mode(self) -> str:
        """``"awq"``."""
        return "awq"

    def dtype_policy_string(self) -> str:
        """The quantized dtype policy's name, ``"awq/<bits>/<group_size>"``."""
        return f"awq/{self.weight_bits}/{self.group_size}"

    def get_config(self) -> dict:
        """The settings; ``dataset`` and ``tokenizer`` are written as None (used once)."""
        return {"dataset": None, "tokenizer": None, "weight_bits": self.weight_bits,
                "num_samples": self.num_samples, "sequence_length": self.sequence_length,
                "group_size": self.group_size, "num_grid_points": self.num_grid_points,
                "quantization_layer_structure": self.quantization_layer_structure}

    @classmethod
    def from_config(cls, config: dict) -> AWQConfig:
        """Rebuild it from :meth:`get_config`'s output."""
        return cls(**config)
