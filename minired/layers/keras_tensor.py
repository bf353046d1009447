"""KerasTensor: a symbolic tensor, the edges of a functional model's graph.

``mr.Input((4,))`` returns one; calling a layer on it returns another. A symbolic tensor
holds no numbers, only what the graph needs: the shape (batch axis ``None``), the dtype, and
where it came from (``_keras_history``: the layer, which of its calls, which output).
"""

from __future__ import annotations

from typing import Any, NamedTuple


class KerasHistory(NamedTuple):
    """The call that made a tensor: ``operation._inbound_nodes[node_index]``, output
    ``tensor_index``."""

    operation: Any
    node_index: int
    tensor_index: int


class KerasTensor:
    """A placeholder for an array that flows through a functional model.

    Args:
        shape: the shape, batch axis first (``None`` for a free dimension).
        dtype: the dtype name, e.g. ``"float32"``.
        name: a name (the Input's name for model inputs).

    Example:
        >>> t = mr.Input((4,), name="features")
        >>> t.shape, t.dtype, t.name
        ((None, 4), 'float32', 'features')
    """

    def __init__(self, shape: tuple, dtype: str = "float32", name: str | None = None) -> None:
        self.shape = tuple(shape)
        self.dtype = str(dtype)
        self.name = name
        self._keras_history: KerasHistory | None = None

    @property
    def ndim(self) -> int:
        return len(self.shape)

    def __repr__(self) -> str:
        return (f"<KerasTensor shape={self.shape}, dtype={self.dtype}, "
                f"name={self.name}>")

    def __array__(self, *args, **kwargs):
        raise TypeError(
            "A symbolic tensor (from mr.Input or a layer called on one) holds no values: it "
            "describes the graph of a model. Build the model with mr.Model(inputs, outputs) "
            "and call it, or predict, on arrays.")

    def __bool__(self) -> bool:
        raise TypeError("A symbolic tensor has no value, so it is neither True nor False.")

    def _arithmetic(self, *_args, **_kwargs):
        raise TypeError(
            "minired does not record arithmetic on symbolic tensors (`+`, `*`, ... ): use the "
            "merge layers, e.g. mr.layers.add([a, b]) or mr.layers.Multiply()([a, b]).")

    __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = _arithmetic
    __truediv__ = __rtruediv__ = __matmul__ = __rmatmul__ = __neg__ = __pow__ = _arithmetic
    __getitem__ = _arithmetic


def is_keras_tensor(value: Any) -> bool:
    return isinstance(value, KerasTensor)
