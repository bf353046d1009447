"""``pad_sequences``: make sequences of different lengths one rectangular array."""

from __future__ import annotations

import numpy as np


def pad_sequences(sequences, maxlen: int | None = None, dtype="int32", padding: str = "pre",
                  truncating: str = "pre", value=0.0) -> np.ndarray:
    """Pad (or cut) each sequence to length ``maxlen``: one array of shape ``(N, maxlen)``.

    Sequence ``i`` of length ``n`` becomes row ``i``:

    - ``n > maxlen``: only ``maxlen`` of its values are kept, the **last** ones with
      ``truncating="pre"`` (the default) or the first ones with ``"post"``;
    - ``n < maxlen``: ``value`` fills the rest, **before** the values with
      ``padding="pre"`` (the default) or after them with ``"post"``.

    ``maxlen=None`` uses the longest sequence's length. Each element may itself be an
    array (a sequence of vectors): the result is then ``(N, maxlen, *element_shape)``.
    The values are converted to ``dtype`` (``"int32"`` by default, so floats are
    truncated toward zero: pass ``dtype="float32"`` for float sequences). Equal to
    ``keras.utils.pad_sequences``, errors included.

    Args:
        sequences: a list of sequences (lists or arrays).
        maxlen: the length of every row, or ``None``.
        dtype: the dtype of the result.
        padding: ``"pre"`` or ``"post"``: where the fill goes.
        truncating: ``"pre"`` or ``"post"``: which end is cut.
        value: the fill value (cast to ``dtype``).

    Example:
        >>> pad_sequences([[1, 2, 3], [4]], maxlen=2)
        array([[2, 3],
               [0, 4]], dtype=int32)
    """
    if not hasattr(sequences, "__len__"):
        raise ValueError("`sequences` must be iterable.")
    lengths, sample_shape = [], None
    for s in sequences:
        try:
            lengths.append(len(s))
        except TypeError as error:
            raise ValueError("`sequences` must be a list of iterables. "
                             f"Found non-iterable: {s}") from error
        if sample_shape is None and len(s):
            sample_shape = np.asarray(s).shape[1:]   # from the first non-empty sequence
    sample_shape = sample_shape or ()
    if maxlen is None:
        maxlen = np.max(lengths)
    is_text = np.issubdtype(dtype, np.str_) or np.issubdtype(dtype, np.bytes_)
    if isinstance(value, str) and dtype is not object and not is_text:
        raise ValueError(f"`dtype` {dtype} is not compatible with `value`'s type: "
                         f"{type(value)}\nYou should set `dtype=object` for variable length "
                         "strings.")
    x = np.full((len(sequences), maxlen, *sample_shape), value, dtype=dtype)
    for i, s in enumerate(sequences):
        if not len(s):
            continue
        if truncating == "pre":
            kept = s[-maxlen:]
        elif truncating == "post":
            kept = s[:maxlen]
        else:
            raise ValueError(f'Truncating type "{truncating}" not understood')
        kept = np.asarray(kept, dtype=dtype)
        if kept.shape[1:] != sample_shape:
            raise ValueError(f"Shape of sample {kept.shape[1:]} of sequence at position {i} "
                             f"is different from expected shape {sample_shape}")
        if padding == "post":
            x[i, :len(kept)] = kept
        elif padding == "pre":
            x[i, -len(kept):] = kept
        else:
            raise ValueError(f'Padding type "{padding}" not understood')
    return x
