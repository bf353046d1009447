"""Discretization: numbers to bucket indices, with boundaries given or learned as quantiles."""

from __future__ import annotations

from typing import Any

import numpy as np

from minired.layers.layer import Layer, check_dtype_policy
from minired.layers.preprocessing.category_encoding import encode_categorical, refuse_sparse

OUTPUT_MODES = ("int", "one_hot", "multi_hot", "count")


class Discretization(Layer):
    """Bucket each value by ``bin_boundaries`` ``b_1 < b_2 < … < b_k``, as Keras' layer.

    Forward (``np.digitize``, TensorFlow's ``Bucketize``)::

        a = 0 if x < b_1,   i if b_i ≤ x < b_{i+1},   k if x ≥ b_k       (int32)

    then, with another ``output_mode``, one-hot / multi-hot / count vectors of ``k + 1``
    (floatx), as :class:`CategoryEncoding`. The output is a step function of ``x``: its
    derivative is 0 almost everywhere, so ``δx = 0``.

    :meth:`adapt` learns ``num_bins - 1`` boundaries at the quantiles ``1/num_bins``,
    ``2/num_bins`` …, with Keras' own approximate algorithm (its NumPy code, copied here):
    each batch is sorted and summarized by every ``⌊N·ε⌋``-th value (weight ``N·ε``, at most
    ``1/ε`` values), summaries are merged by sorting and re-interpolated (``compress``), and
    the boundaries are the cumulative-weight interpolation at ``j/num_bins``, in float32.

    Args:
        bin_boundaries: the boundaries (sorted), or None to :meth:`adapt` them.
        num_bins: the number of bins ``adapt`` makes (``num_bins - 1`` boundaries).
        epsilon: the error tolerance of the quantiles (default 0.01).
        output_mode: ``"int"`` (default), ``"one_hot"``, ``"multi_hot"``, ``"count"``.
        sparse: must be False.
        name: layer name.

    Example:
        >>> Discretization(bin_boundaries=[0.0, 1.0, 2.0])(np.array([[-1.5, 1.0, 3.4]]))
        array([[0, 2, 3]], dtype=int32)
        >>> layer = Discretization(num_bins=4)
        >>> layer.adapt(np.arange(20.0))
        >>> layer.bin_boundaries
        [4.0, 9.0, 14.0]
    """

    _keras_build_config = True       # Keras writes the built input shape

    def __init__(self, bin_boundaries=None, num_bins: int | None = None, epsilon: float = 0.01,
                 output_mode: str = "int", sparse: bool = False, dtype=None,
                 name: str | None = None, **kwargs) -> None:
        super().__init__(name=name, dtype=dtype, **kwargs)
        if sparse and output_mode == "int":
            raise ValueError("`sparse=True` may only be used if `output_mode` is "
                             "`'one_hot'`, `'multi_hot'`, or `'count'`. Received: "
                             f"sparse={sparse} and output_mode={output_mode}")
        refuse_sparse(sparse, "Discretization")
        if output_mode not in OUTPUT_MODES:
            raise ValueError(f"Unknown value for `output_mode`: {output_mode!r}. Expected one "
                             f"of {OUTPUT_MODES}.")
        if num_bins is not None and num_bins < 0:
            raise ValueError("`num_bins` must be greater than or equal to 0. Received: "
                             f"`num_bins={num_bins}`")
        if num_bins is not None and bin_boundaries is not None:
            raise ValueError("Both `num_bins` and `bin_boundaries` should not be set. "
                             f"Received: `num_bins={num_bins}` and "
                             f"`bin_boundaries={bin_boundaries}`")
        if num_bins is None and bin_boundaries is None:
            raise ValueError("You need to set either `num_bins` or `bin_boundaries`.")
        self.bin_boundaries = bin_boundaries
        self.num_bins = num_bins
        self.epsilon = epsilon
        self.output_mode = output_mode
        self.sparse = sparse
        self.summary = None if bin_boundaries else np.array([[], []], dtype="float32")

    # -- adapt --------------------------------------------------------------------------------
    def adapt(self, data: Any, steps: int | None = None) -> None:
        """Learn the boundaries from ``data`` (an array, or an iterable of batches)."""
        if self.num_bins is None:
            raise ValueError("Cannot adapt a Discretization layer that has been initialized "
                             "with `bin_boundaries`, use `num_bins` instead.")
        self.reset_state()
        if hasattr(data, "__iter__") and not isinstance(data, np.ndarray):
            for i, batch in enumerate(data):
                if steps is not None and i >= steps:
                    break
                self.update_state(batch)
        else:
            self.update_state(data)
        self.finalize_state()

    def update_state(self, data) -> None:
        data = np.array(data).astype("float32")
        self.summary = merge_summaries(summarize(data, self.epsilon), self.summary,
                                       self.epsilon)

    def finalize_state(self) -> None:
        if self.num_bins is not None:
            self.bin_boundaries = get_bin_boundaries(self.summary, self.num_bins).tolist()

    def reset_state(self) -> None:
        if self.num_bins is not None:
            self.summary = np.array([[], []], dtype="float32")

    # -- the two passes -----------------------------------------------------------------------
    def compute_output_shape(self, input_shape: tuple) -> tuple:
        input_shape = tuple(input_shape)
        if self.output_mode == "int":
            return input_shape
        depth = (len(self.bin_boundaries) + 1 if self.bin_boundaries is not None
                 else self.num_bins)
        if self.output_mode == "one_hot":
            if input_shape and input_shape[-1] == 1 and len(input_shape) > 1:
                return (*input_shape[:-1], depth)
            return (*input_shape, depth)
        if len(input_shape) >= 2:
            return (input_shape[0], *input_shape[2:], depth)
        return (depth,)

    def forward(self, inputs: np.ndarray, training: bool = False) -> np.ndarray:
        if self.bin_boundaries is None:
            raise ValueError("You need to either pass the `bin_boundaries` argument at "
                             "construction time or call `adapt(dataset)` before you can "
                             "start using the `Discretization` layer.")
        x = np.asarray(inputs)
        self.cache = x.shape
        indices = np.digitize(x, np.asarray(self.bin_boundaries, dtype=np.float64))
        if self.output_mode == "int":
            return indices.astype(np.int32)
        return encode_categorical(indices, self.output_mode, len(self.bin_boundaries) + 1,
                                  self._float_dtype())

    def backward(self, grad_outputs: np.ndarray) -> np.ndarray:
        """``δx = 0``: a step function has zero derivative (where it has one)."""
        return np.zeros(self.cache, dtype=self._float_dtype())

    def get_config(self) -> dict:
        """Keras' keys (no ``trainable``; ``dtype`` as a name): ``bin_boundaries``,
        ``num_bins``, ``epsilon``, ``output_mode``, ``sparse``, ``name``, ``dtype``."""
        return {"bin_boundaries": self.bin_boundaries, "num_bins": self.num_bins,
                "epsilon": self.epsilon, "output_mode": self.output_mode,
                "sparse": self.sparse, "name": self.name, "dtype": str(self._float_dtype())}

    @classmethod
    def from_config(cls, config: dict):
        """As Keras: a config with both ``bin_boundaries`` and ``num_bins`` (an adapted
        layer) is rebuilt with ``num_bins`` and then given the boundaries."""
        config = dict(config)
        check_dtype_policy(config.pop("dtype", None), cls.__name__)
        config.pop("trainable", None)
        boundaries = None
        if config.get("bin_boundaries") is not None and config.get("num_bins") is not None:
            boundaries = config.pop("bin_boundaries")
        layer = cls(**config)
        if boundaries is not None:
            layer.bin_boundaries = boundaries
        return layer


def summarize(values: np.ndarray, epsilon: float) -> np.ndarray:
    """Keras' summary of a batch: ``[values, weights]``, every ``step``-th sorted value
    (``step = max(N·ε, 1)``) with weight ``step``."""
    values = np.sort(np.reshape(values, [-1]))
    step = max(np.size(values) / (1.0 / epsilon), 1)
    boundaries = values[int(step - 1)::int(step)]
    return np.stack([boundaries, np.ones_like(boundaries) * step])


def merge_summaries(prev_summary: np.ndarray, next_summary: np.ndarray,
                    epsilon: float) -> np.ndarray:
    """Keras' merge: the two summaries sorted together, then compressed."""
    merged = np.concatenate((prev_summary, next_summary), axis=1)
    merged = np.take(merged, np.argsort(merged[0]), axis=1)
    return compress_summary(merged, epsilon)


def get_bin_boundaries(summary: np.ndarray, num_bins: int) -> np.ndarray:
    """The boundaries: the summary compressed to ``1/num_bins``, without its last value."""
    return compress_summary(summary, 1.0 / num_bins)[0, :-1]


def compress_summary(summary: np.ndarray, epsilon: float) -> np.ndarray:
    """Keras' compression: at the cumulative-weight fractions ``ε, 2ε, …``, the values and
    cumulative weights interpolated linearly (``np.interp``), in float32."""
    if summary.shape[1] * epsilon < 1:
        return summary
    percents = epsilon + np.arange(0.0, 1.0, epsilon)
    cum_weights = summary[1].cumsum()
    cum_weight_percents = cum_weights / cum_weights[-1]
    new_bins = np.interp(percents, cum_weight_percents, summary[0])
    cum_weights = np.interp(percents, cum_weight_percents, cum_weights)
    new_weights = cum_weights - np.concatenate((np.array([0]), cum_weights[:-1]))
    return np.stack((new_bins, new_weights)).astype("float32")
