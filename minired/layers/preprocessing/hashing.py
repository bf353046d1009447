"""Hashing: values to ``num_bins`` buckets by TensorFlow's FarmHash fingerprint.

``tf.strings.to_hash_bucket_fast(s, n)`` is ``Fingerprint64(s) mod n``, and TensorFlow's
``Fingerprint64`` is FarmHash's ``farmhashna::Hash64`` (Geoff Pike, 2014, MIT licence): a
few 64-bit multiplications, rotations and xor-shifts of the string's bytes read as
little-endian 8-byte words. :func:`fingerprint64` writes it with NumPy ``uint64`` arrays
(their arithmetic wraps modulo 2⁶⁴, as C's does), vectorized over all the strings of one
byte length at a time.
"""

from __future__ import annotations

import numpy as np

from minired.layers.layer import Layer
from minired.layers.preprocessing.category_encoding import encode_categorical, refuse_sparse

_U = np.uint64
K0, K1, K2 = _U(0xC3A5C85C97CB3127), _U(0xB492B66FBE98F273), _U(0x9AE16A3B2F90404F)


def _rotate(value: np.ndarray, shift: int) -> np.ndarray:
    return (value >> _U(shift)) | (value << _U(64 - shift))


def _shift_mix(value: np.ndarray) -> np.ndarray:
    return value ^ (value >> _U(47))


def _hash_len16(u: np.ndarray, v: np.ndarray, mul: np.ndarray) -> np.ndarray:
    a = _shift_mix((u ^ v) * mul)
    b = _shift_mix((v ^ a) * mul)
    return b * mul


def _fetch(data: np.ndarray, start: int, width: int = 8) -> np.ndarray:
    """The little-endian word of ``width`` bytes at ``start`` of each row, as uint64."""
    word = np.ascontiguousarray(data[:, start:start + width]).view(f"<u{width}")
    return word.reshape(-1).astype(np.uint64)


def _weak_hash_len32(data: np.ndarray, start: int, a: np.ndarray, b: np.ndarray) -> tuple:
    w, x, y, z = (_fetch(data, start + 8 * i) for i in range(4))
    a = a + w
    b = _rotate(b + a + z, 21)
    c = a
    a = a + x + y
    b = b + _rotate(a, 44)
    return a + z, b + c


def _hash_same_length(data: np.ndarray, length: int) -> np.ndarray:
    """``farmhashna::Hash64`` of the rows of ``data`` (``(n, length)`` bytes)."""
    n = data.shape[0]
    mul = K2 + _U(2 * length)
    if length == 0:
        return np.full(n, K2)
    if length < 4:
        y = data[:, 0].astype(np.uint64) + (data[:, length >> 1].astype(np.uint64) << _U(8))
        z = _U(length) + (data[:, length - 1].astype(np.uint64) << _U(2))
        return _shift_mix(y * K2 ^ z * K0) * K2
    if length < 8:
        a = _fetch(data, 0, 4)
        return _hash_len16(_U(length) + (a << _U(3)), _fetch(data, length - 4, 4), mul)
    if length <= 16:
        a = _fetch(data, 0) + K2
        b = _fetch(data, length - 8)
        c = _rotate(b, 37) * mul + a
        d = (_rotate(a, 25) + b) * mul
        return _hash_len16(c, d, mul)
    if length <= 32:
        a = _fetch(data, 0) * K1
        b = _fetch(data, 8)
        c = _fetch(data, length - 8) * mul
        d = _fetch(data, length - 16) * K2
        return _hash_len16(_rotate(a + b, 43) + _rotate(c, 30) + d,
                           a + _rotate(b + K2, 18) + c, mul)
    if length <= 64:
        a = _fetch(data, 0) * K2
        b = _fetch(data, 8)
        c = _fetch(data, length - 8) * mul
        d = _fetch(data, length - 16) * K2
        y = _rotate(a + b, 43) + _rotate(c, 30) + d
        z = _hash_len16(y, a + _rotate(b + K2, 18) + c, mul)
        e = _fetch(data, 16) * mul
        f = _fetch(data, 24)
        g = (y + _fetch(data, length - 32)) * mul
        h = (z + _fetch(data, length - 24)) * mul
        return _hash_len16(_rotate(e + f, 43) + _rotate(g, 30) + h,
                           e + _rotate(f + a, 18) + g, mul)
    return _hash_long(data, length)


def _hash_long(data: np.ndarray, length: int) -> np.ndarray:
    """Strings over 64 bytes: a loop over their 64-byte blocks (the same count for every
    row of one length), then the last 64 bytes."""
    n = data.shape[0]
    seed = _U(81)
    x = np.full(n, seed)
    y = x * K1 + _U(113)
    z = _shift_mix(y * K2 + _U(113)) * K2
    v = (np.zeros(n, np.uint64), np.zeros(n, np.uint64))
    w = (np.zeros(n, np.uint64), np.zeros(n, np.uint64))
    x = x * K2 + _fetch(data, 0)
    for start in range(0, ((length - 1) // 64) * 64, 64):
        x = _rotate(x + y + v[0] + _fetch(data, start + 8), 37) * K1
        y = _rotate(y + v[1] + _fetch(data, start + 48), 42) * K1
        x = x ^ w[1]
        y = y + v[0] + _fetch(data, start + 40)
        z = _rotate(z + w[0], 33) * K1
        v = _weak_hash_len32(data, start, v[1] * K1, x + w[0])
        w = _weak_hash_len32(data, start + 32, z + w[1], y + _fetch(data, start + 16))
        z, x = x, z
    mul = K1 + ((z & _U(0xFF)) << _U(1))
    last = length - 64
    w0 = w[0] + _U((length - 1) & 63)
    v0 = v[0] + w0
    w0 = w0 + v0
    v, w = (v0, v[1]), (w0, w[1])
    x = _rotate(x + y + v[0] + _fetch(data, last + 8), 37) * mul
    y = _rotate(y + v[1] + _fetch(data, last + 48), 42) * mul
    x = x ^ (w[1] * _U(9))
    y = y + v[0] * _U(9) + _fetch(data, last + 40)
    z = _rotate(z + w[0], 33) * mul
    v = _weak_hash_len32(data, last, v[1] * mul, x + w[0])
    w = _weak_hash_len32(data, last + 32, z + w[1], y + _fetch(data, last + 16))
    z, x = x, z
    return _hash_len16(_hash_len16(v[0], w[0], mul) + _shift_mix(y) * K0 + z,
                       _hash_len16(v[1], w[1], mul) + x, mul)


def fingerprint64(strings) -> np.ndarray:
    """TensorFlow's ``Fingerprint64`` (FarmHash) of each string's UTF-8 bytes, as uint64.

    Example:
        >>> hex(fingerprint64(np.array(["", "a"]))[0])          # the empty string: k2
        '0x9ae16a3b2f90404f'
    """
    strings = np.asarray(strings)
    if strings.dtype.kind == "U":
        strings = np.char.encode(strings, "utf-8")
    elif strings.dtype.kind == "O":
        strings = np.array([s if isinstance(s, bytes) else str(s).encode("utf-8")
                            for s in strings.reshape(-1)], dtype=bytes).reshape(strings.shape)
    flat = strings.reshape(-1)
    width = max(flat.dtype.itemsize, 1)
    data = np.frombuffer(np.ascontiguousarray(flat).tobytes(), np.uint8).reshape(-1, width)
    lengths = np.char.str_len(flat) if flat.size else np.zeros(0, np.int64)
    hashes = np.zeros(flat.size, np.uint64)
    for length in np.unique(lengths):            # vectorized over the strings of each length
        rows = np.flatnonzero(lengths == length)
        hashes[rows] = _hash_same_length(data[rows, :length], int(length))
    return hashes.reshape(strings.shape)


def hash_bucket(values, num_buckets: int) -> np.ndarray:
    """``tf.strings.to_hash_bucket_fast``: ``Fingerprint64(str(v)) mod num_buckets`` (int64);
    integers are hashed as their decimal text (``tf.strings.as_string``)."""
    values = np.asarray(values)
    if values.dtype.kind in "iub":
        values = values.astype(np.int64).astype(str)
    return (fingerprint64(values) % _U(num_buckets)).astype(np.int64)


class Hashing(Layer):
    """Hash each value to one of ``num_bins`` buckets, as ``keras.layers.Hashing``.

    Forward (no gradient: the inputs are categories)::

        a = Fingerprint64(str(x)) mod num_bins                 (FarmHash, as TensorFlow)
        with mask_value m:  a = 0 if x = m, else 1 + Fingerprint64(str(x)) mod (num_bins - 1)

    Strings are hashed as their UTF-8 bytes, integers as their decimal text, floats cast to
    int64 first (Keras' rules). Other ``output_mode`` s give one-hot / multi-hot / count
    vectors of ``num_bins`` (floatx), as :class:`CategoryEncoding`.

    Args:
        num_bins: the number of buckets (including the mask bucket, if any).
        mask_value: the value that goes to bucket 0, or None.
        salt: Keras' keyed SipHash (``to_hash_bucket_strong``) is not implemented: None.
        output_mode: ``"int"`` (default), ``"one_hot"``, ``"multi_hot"`` or ``"count"``.
        sparse: must be False.
        name: layer name.

    Example:
        >>> Hashing(3)(np.array([["A"], ["B"], ["C"], ["D"], ["E"]]))[:, 0]   # Keras' docs
        array([1, 0, 1, 1, 2])
    """

    _accepts_strings = True
    _keras_build_config = True       # Keras writes the input shape

    def __init__(self, num_bins: int, mask_value=None, salt=None, output_mode: str = "int",
                 sparse: bool = False, name: str | None = None, **kwargs) -> None:
        kwargs.pop("dtype", None)      # Keras' int64 policy in "int" mode: not a float dtype
        super().__init__(name=name, **kwargs)
        if num_bins is None or num_bins <= 0:
            raise ValueError("The `num_bins` for `Hashing` cannot be `None` or non-positive "
                             f"values. Received: num_bins={num_bins}.")
        modes = ("int", "one_hot", "multi_hot", "count")
        if output_mode not in modes:
            raise ValueError("Invalid value for argument `output_mode`. Expected one of "
                             f"{modes}. Received: output_mode={output_mode}")
        if sparse and output_mode == "int":
            raise ValueError('`sparse` may only be true if `output_mode` is `"one_hot"`, '
                             f'`"multi_hot"`, or `"count"`. Received: sparse={sparse} and '
                             f"output_mode={output_mode}")
        refuse_sparse(sparse, "Hashing")
        if salt is not None:
            raise ValueError("Hashing: `salt` selects TensorFlow's keyed SipHash "
                             "(to_hash_bucket_strong), which minired does not implement; "
                             "use salt=None.")
        self.num_bins = num_bins
        self.mask_value = mask_value
        self.salt = None
        self.output_mode = output_mode
        self.sparse = sparse

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        input_shape = tuple(input_shape)
        if self.output_mode == "int":
            return input_shape
        if not input_shape:
            return (self.num_bins,)
        return (*input_shape[:-1], self.num_bins)

    def forward(self, inputs, training: bool = False) -> np.ndarray:
        values = np.asarray(inputs)
        if self.output_mode == "one_hot" and values.ndim and values.shape[-1] == 1:
            values = values[..., 0]
        bins, mask = self.num_bins, None
        if self.mask_value is not None and bins > 1:
            bins -= 1
            mask = values == self.mask_value
        if values.dtype.kind == "f":
            values = values.astype(np.int64)
        indices = hash_bucket(values, bins)
        if mask is not None:
            indices = np.where(mask, 0, indices + 1)
        if self.output_mode == "int":
            return indices
        return encode_categorical(indices, self.output_mode, self.num_bins,
                                  self._float_dtype())

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
        """Keras' keys: ``name``, ``trainable``, ``dtype`` (int64 in ``"int"`` mode),
        ``num_bins``, ``salt``, ``mask_value``, ``output_mode``, ``sparse``."""
        config = super().get_config()
        if self.output_mode == "int":
            config["dtype"] = {**config["dtype"], "config": {"name": "int64"}}
        return {**config, "num_bins": self.num_bins, "salt": self.salt,
                "mask_value": self.mask_value, "output_mode": self.output_mode,
                "sparse": self.sparse}
