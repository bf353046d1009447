"""CategoryEncoding: integer category indices to one-hot, multi-hot or count vectors."""

from __future__ import annotations

import numpy as np

from minired.layers.layer import Layer

OUTPUT_MODES = ("one_hot", "multi_hot", "count")


def encode_categorical(indices: np.ndarray, output_mode: str, depth: int, dtype,
                       rows: np.ndarray | None = None, n_rows: int | None = None) -> np.ndarray:
    """Keras' ``encode_categorical_inputs``: indices in ``[0, depth)`` to vectors of ``depth``.

    - ``"one_hot"``: one vector per index (a trailing axis of size 1 is replaced by the
      ``depth`` axis, else one is added);
    - ``"multi_hot"``: one vector per row (the last axis; the whole input when it is 1-D),
      1 where an index occurs;
    - ``"count"``: the same, with how often each index occurs.

    An index outside ``[0, depth)`` (the mask value of the lookups) adds nothing, as
    TensorFlow's ``bincount`` with ``maxlength=depth``. ``rows`` (with ``n_rows``) gives the
    row of each index of a flat ``indices`` instead: ragged rows, as TextVectorization's
    tokens.

    Example:
        >>> encode_categorical(np.array([[0, 2, 2], [1, 1, 5]]), "count", 3, "float32")
        array([[1., 0., 2.],
               [0., 2., 0.]], dtype=float32)
    """
    indices = np.asarray(indices).astype(np.int64, copy=False)
    if output_mode == "one_hot":
        if indices.ndim > 1 and indices.shape[-1] == 1:
            indices = indices[..., 0]
        return (indices[..., None] == np.arange(depth)).astype(dtype)
    if rows is None:
        if indices.ndim == 0:
            indices = indices[None]
        if indices.ndim == 1:
            rows, n_rows, shape = np.zeros(indices.size, np.int64), 1, ()
        else:
            shape = indices.shape[:-1]
            n_rows = int(np.prod(shape))
            rows = np.repeat(np.arange(n_rows), indices.shape[-1])
        indices = indices.reshape(-1)
    else:
        shape = (n_rows,)
    keep = (indices >= 0) & (indices < depth)
    counts = np.bincount(rows[keep] * depth + indices[keep], minlength=n_rows * depth)
    if output_mode == "multi_hot":
        counts = np.minimum(counts, 1)
    return counts.reshape(*shape, depth).astype(dtype)


class CategoryEncoding(Layer):
    """Encode integer categories as vectors of ``num_tokens`` (no weights, no gradient).

    Forward, for indices ``x`` in ``[0, num_tokens)``::

        one_hot:    a[..., j] = 1 if x[...] = j            (one vector per index)
        multi_hot:  a[n, j]   = 1 if j occurs in row n     (one vector per row)
        count:      a[n, j]   = number of times j occurs in row n

    The inputs are category ids (integers), so there is no ``δx``: the layer belongs at the
    start of a model. The outputs are floatx, as in Keras.

    Args:
        num_tokens: the number of categories (the length of each vector).
        output_mode: ``"multi_hot"`` (default; ``"binary"`` is its old name),
            ``"one_hot"`` or ``"count"``.
        sparse: must be False (minired has no sparse tensors).
        name: layer name.

    Example:
        >>> CategoryEncoding(4)(np.array([[0, 1], [3, 3]]))
        array([[1., 1., 0., 0.],
               [0., 0., 0., 1.]], dtype=float32)
    """

    def __init__(self, num_tokens: int | None = None, output_mode: str = "multi_hot",
                 sparse: bool = False, name: str | None = None, **kwargs) -> None:
        super().__init__(name=name, **kwargs)
        if output_mode == "binary":
            output_mode = "multi_hot"
        if output_mode not in OUTPUT_MODES:
            raise ValueError(f"Unknown arg for output_mode: {output_mode}")
        if num_tokens is None:
            raise ValueError("num_tokens must be set to use this layer. If the number of "
                             "tokens is not known beforehand, use the IntegerLookup layer "
                             "instead.")
        if num_tokens < 1:
            raise ValueError(f"`num_tokens` must be >= 1. Received: num_tokens={num_tokens}.")
        refuse_sparse(sparse, "CategoryEncoding")
        self.num_tokens = num_tokens
        self.output_mode = output_mode
        self.sparse = sparse

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        input_shape = tuple(input_shape)
        if not input_shape:
            return (self.num_tokens,)
        if self.output_mode == "one_hot" and (input_shape[-1] != 1 or len(input_shape) == 1):
            return (*input_shape, self.num_tokens)
        return (*input_shape[:-1], self.num_tokens)

    def forward(self, inputs: np.ndarray, training: bool = False) -> np.ndarray:
        x = np.asarray(inputs)
        if x.dtype.kind == "f" and np.any(x != np.round(x)):
            raise ValueError(f"CategoryEncoding {self.name!r}: the inputs must be integer "
                             "category ids, got non-integer values.")
        self.cache = x.shape
        return encode_categorical(x, self.output_mode, self.num_tokens, self._float_dtype())

    def backward(self, grad_outputs: np.ndarray) -> np.ndarray:
        """Zeros: category ids are not differentiable (Keras gives no gradient either)."""
        return np.zeros(self.cache, dtype=grad_outputs.dtype)

    def get_config(self) -> dict:
        """Keras' keys: ``name``, ``trainable``, ``dtype``, ``num_tokens``, ``output_mode``."""
        return {**super().get_config(), "num_tokens": self.num_tokens,
                "output_mode": self.output_mode}


def refuse_sparse(sparse: bool, owner: str) -> None:
    """minired has no sparse tensors: ``sparse=True`` is refused with the reason."""
    if sparse:
        raise ValueError(f"{owner}: `sparse=True` is not supported in minired (it has no "
                         "sparse tensors); use sparse=False for a dense NumPy output.")
