"""HashedCrossing: the "hashing trick" for feature crosses, TensorFlow's ``SparseCrossHashed``.

Keras' layer calls ``tf.sparse.cross_hashed``, whose kernel (``sparse_cross_op.cc``) turns
each input into one unsigned 64-bit number per sample and folds them together::

    v_i = Fingerprint64(x_i)      for a string     (FarmHash, as Hashing)
    v_i = x_i as uint64           for an integer   (the value itself, two's complement)
    h   = 0xDECAFCAFFE                             (the op's default hash_key)
    h   = FingerprintCat64(h, v_i)  for i = 1, 2, …
    a   = h mod num_bins

``FingerprintCat64(h, v)`` (TensorFlow's ``platform/fingerprint.h``) mixes with a 64-bit
multiply and xor-shifts, ``k = 0xc6a4a7935bd1e995`` and ``ShiftMix(x) = x ^ (x >> 47)``::

    r = (h ^ k) ^ ShiftMix(v·k)·k
    r = ShiftMix(ShiftMix(r·k)·k)

All arithmetic wraps modulo 2⁶⁴, which NumPy's ``uint64`` arrays do as C's does.
"""

from __future__ import annotations

import numpy as np

from minired.layers.layer import Layer
from minired.layers.preprocessing.category_encoding import encode_categorical, refuse_sparse
from minired.layers.preprocessing.hashing import fingerprint64

_U = np.uint64
#: ``tf.sparse.cross_hashed``'s default ``hash_key`` (``_DEFAULT_HASH_KEY``).
HASH_KEY = _U(0xDECAFCAFFE)
_K_MUL = _U(0xC6A4A7935BD1E995)


def _shift_mix(value: np.ndarray) -> np.ndarray:
    return value ^ (value >> _U(47))


def fingerprint_cat64(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """TensorFlow's ``FingerprintCat64``: two 64-bit fingerprints combined into one
    (not commutative), element by element.

    Example:
        >>> hex(int(fingerprint_cat64(np.uint64(1), np.uint64(2))))
        '0xc89a2574412ac8e4'
    """
    first, second = np.asarray(first, np.uint64), np.asarray(second, np.uint64)
    with np.errstate(over="ignore"):
        result = (first ^ _K_MUL) ^ (_shift_mix(second * _K_MUL) * _K_MUL)
        return _shift_mix(_shift_mix(result * _K_MUL) * _K_MUL)


def _column_values(values: np.ndarray) -> np.ndarray:
    """The uint64 each value enters the cross as: a string's FarmHash fingerprint, an
    integer itself."""
    if values.dtype.kind in "iu":
        return values.astype(np.int64).view(np.uint64)
    return fingerprint64(values)


def cross_hashed(columns: list, num_bins: int) -> np.ndarray:
    """``tf.sparse.cross_hashed`` of dense columns with one value per sample: the bin of
    each sample's combination (int64, the shape of one column).

    Example:
        >>> cross_hashed([np.array(["A", "B"]), np.array([101, 101])], 5)   # Keras' docs
        array([1, 4])
    """
    hashed = np.full(np.shape(columns[0]), HASH_KEY, dtype=np.uint64)
    for column in columns:
        hashed = fingerprint_cat64(hashed, _column_values(np.asarray(column)))
    return (hashed % _U(num_bins)).astype(np.int64)


def _is_text(values: np.ndarray) -> bool:
    if values.dtype.kind in "US":
        return True
    return values.dtype.kind == "O" and all(isinstance(v, str | bytes)
                                            for v in values.reshape(-1))


class HashedCrossing(Layer):
    """Cross categorical features by hashing their combination, as
    ``keras.layers.HashedCrossing``: ``a = hash((x₁, x₂, …)) mod num_bins``.

    Forward (no gradient: the inputs are categories), per sample, with TensorFlow's
    ``SparseCrossHashed`` hash (see the module docstring)::

        h = 0xDECAFCAFFE;   h = FingerprintCat64(h, v(x_i)) for each input i
        a = h mod num_bins          v(x) = Fingerprint64(x) for a string, x for an integer

    It takes two or more inputs (Keras' call takes any number, but its symbolic shape
    function only two; minired takes any number both ways), each with one value per
    sample: shape ``()``, ``(batch,)`` or ``(batch, 1)``, all the same shape, of integers
    or strings. ``output_mode="int"`` returns the bins (int64, the inputs' shape);
    ``"one_hot"`` vectors of ``num_bins`` (floatx; a trailing axis of 1 is replaced, a
    scalar becomes one sample ``(1, num_bins)``, as Keras).

    Args:
        num_bins: the number of hash bins.
        output_mode: ``"int"`` (default) or ``"one_hot"``.
        sparse: must be False (minired has no sparse tensors).
        name: layer name.

    Example:
        >>> layer = HashedCrossing(num_bins=5)                  # Keras' docstring
        >>> layer((np.array(["A", "B", "A", "B", "A"]), np.array([101, 101, 101, 102, 102])))
        array([1, 4, 1, 1, 3])
    """

    _accepts_strings = True
    _takes_several_inputs = True

    def __init__(self, num_bins: int, output_mode: str = "int", sparse: bool = False,
                 name: str | None = None, dtype=None, **kwargs) -> None:
        super().__init__(name=name, **kwargs)
        if output_mode not in ("int", "one_hot"):
            raise ValueError("Unknown value for `output_mode` argument of HashedCrossing. "
                             "Allowed values are: ('int', 'one_hot'). Received: "
                             f"output_mode={output_mode}")
        if isinstance(num_bins, bool) or not isinstance(num_bins, int | np.integer) or (
                num_bins < 1):
            raise ValueError("HashedCrossing: `num_bins` must be a positive integer. "
                             f"Received: num_bins={num_bins!r}")
        refuse_sparse(sparse, "HashedCrossing")
        self.num_bins = int(num_bins)
        self.output_mode = output_mode
        self.sparse = sparse

    def compute_output_shape(self, input_shape) -> tuple:
        if not isinstance(input_shape, list | tuple) or len(input_shape) < 2 or not all(
                isinstance(s, tuple | list) for s in input_shape):
            raise ValueError("Expected as input a list/tuple of at least 2 tensors. "
                             f"Received input_shape={input_shape}")
        first = tuple(input_shape[0])
        if any(tuple(shape)[-1:] != first[-1:] for shape in input_shape[1:]):
            raise ValueError("Expected the input tensors to have identical shapes. "
                             f"Received input_shape={input_shape}")
        if self.output_mode == "int":
            return first
        if not first:
            return (1, self.num_bins)
        if first[-1] != 1 or len(first) == 1:
            return (*first, self.num_bins)
        return (*first[:-1], self.num_bins)

    def _check_inputs(self, inputs) -> list[np.ndarray]:
        if not isinstance(inputs, list | tuple):
            raise ValueError("`HashedCrossing` should be called on a list or tuple of "
                             f"inputs. Received: inputs={inputs}")
        if len(inputs) < 2:
            raise ValueError("`HashedCrossing` should be called on at least two inputs. "
                             f"Received: inputs={inputs}")
        arrays = [np.asarray(x) for x in inputs]
        first = arrays[0].shape
        if len(first) > 2 or (len(first) == 2 and first[-1] != 1):
            raise ValueError("All `HashedCrossing` inputs should have shape `()`, "
                             f"`(batch_size)` or `(batch_size, 1)`. Received shapes: "
                             f"{[a.shape for a in arrays]}")
        if any(a.shape != first for a in arrays[1:]):
            raise ValueError("All `HashedCrossing` inputs should have equal shape. "
                             f"Received shapes: {[a.shape for a in arrays]}")
        for a in arrays:
            if not (a.dtype.kind in "iu" or _is_text(a)):
                raise ValueError("All `HashedCrossing` inputs should have an integer or "
                                 f"string dtype. Received dtypes: {[a.dtype for a in arrays]}")
        return arrays

    def forward(self, inputs, training: bool = False) -> np.ndarray:
        arrays = self._check_inputs(inputs)
        bins = cross_hashed(arrays, self.num_bins)
        if self.output_mode == "int":
            return bins
        return encode_categorical(bins.reshape(-1) if bins.ndim == 0 else bins, "one_hot",
                                  self.num_bins, self._float_dtype())

    def backward(self, grad_outputs: np.ndarray) -> None:
        """No gradient: the inputs are categories."""
        return None

    @classmethod
    def from_config(cls, config: dict):
        """As Keras' config, whose ``dtype`` (int64 in ``"int"`` mode) is the output's."""
        config = dict(config)
        config.pop("dtype", None)
        return super().from_config(config)

    def get_config(self) -> dict:
        """Keras' keys: ``num_bins``, ``output_mode``, ``sparse``, ``name`` and ``dtype``
        (the output's: ``"int64"`` in ``"int"`` mode, else floatx)."""
        dtype = "int64" if self.output_mode == "int" else str(self._float_dtype())
        return {"num_bins": self.num_bins, "output_mode": self.output_mode,
                "sparse": self.sparse, "name": self.name, "dtype": dtype}
