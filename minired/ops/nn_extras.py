"""More neural-network ops of ``keras.ops``: ``hard_silu``, ``sparse_sigmoid``, ``sparsemax``,
``psnr``, ``space_to_depth``/``depth_to_space``, the adaptive poolings and
``dot_product_attention``.

The activations reuse :mod:`minired.activations` (forward and backward side by side there);
the others are written with the other ops, so the tape differentiates them.

Example:
    >>> sparse_sigmoid(np.array([-2.0, 0.0, 0.5]))
    array([0.  , 0.5 , 0.75])
"""

from __future__ import annotations

import math

import numpy as np

from minired.activations.sparse import sparse_sigmoid as _sparse_sigmoid
from minired.activations.sparse import sparsemax as _sparsemax
from minired.autodiff.tape import record
from minired.keras_numerics import as_keras_constant
from minired.ops import elementwise as ew
from minired.ops import reductions
from minired.ops.elementwise import _float
from minired.ops.linalg import einsum
from minired.ops.nn import hard_sigmoid, softmax
from minired.ops.nn_conv import average_pool, max_pool
from minired.ops.shapes import concatenate, repeat, reshape, take, transpose


def hard_silu(x):
    """``a = x · hard_sigmoid(x)`` (hard swish): 0 below −3, ``x`` above 3,
    ``x (x + 3) / 6`` between. Written with ``multiply`` and ``hard_sigmoid``, so the VJP is
    the product rule ``δx = δa ⊙ (hard_sigmoid(x) + x · hard_sigmoid'(x))``.

    Args:
        x: the input array.

    Example:
        >>> hard_silu(np.array([-4.0, 1.5, 4.0]))
        array([-0.   ,  1.125,  4.   ])
    """
    return ew.multiply(x, hard_sigmoid(x))


hard_swish = hard_silu


def sparse_sigmoid(x):
    """``a = 0`` for ``x ≤ −1``, ``(x + 1)/2`` between, ``1`` for ``x ≥ 1``.
    VJP: ``δx = δa / 2`` for ``−1 < x < 1``, else 0 (see
    :func:`minired.activations.sparse_sigmoid`).

    Args:
        x: the input array.

    Example:
        >>> sparse_sigmoid(np.array([-1.0, 1.0]))
        array([0., 1.])
    """
    v = _float(x)
    a = _sparse_sigmoid(v)
    return record(a, (x,), lambda g: (_sparse_sigmoid.backward(v, a, g),))


def sparsemax(x, axis=-1):
    """``a = max(x − τ, 0)`` with ``τ`` such that ``Σ a = 1`` along ``axis`` (Martins and
    Astudillo). VJP on the support ``S`` (where ``a > 0``): ``δx = δa − mean_S(δa)``, 0
    outside (see :func:`minired.activations.sparsemax`).

    Args:
        x: the scores.
        axis: the axis of the distribution.

    Example:
        >>> sparsemax(np.array([2.0, 1.0, -1.0]))
        array([1., 0., 0.])
    """
    v = _float(x)
    a = _sparsemax(v, axis=axis)
    return record(a, (x,), lambda g: (_sparsemax.backward(v, a, g, axis=axis),))


def psnr(x1, x2, max_val):
    """Peak signal-to-noise ratio: ``20 log₁₀(max_val) − 10 log₁₀(mean((x₁ − x₂)²))`` over
    every element (Keras' TensorFlow formula; the gradient flows to ``x1`` and ``x2``).

    Args:
        x1, x2: arrays of the same shape (the signals).
        max_val: the largest possible value of the signal (1.0 for images in [0, 1]).

    Example:
        >>> round(float(psnr(np.zeros(4), np.full(4, 0.1), 1.0)), 10)   # mse = 0.01
        20.0
    """
    if np.shape(x1) != np.shape(x2):
        raise ValueError(f"Input shapes {np.shape(x1)} and {np.shape(x2)} must match for "
                         "PSNR calculation. ")
    dtype = np.asarray(x2).dtype
    max_val = np.asarray(max_val, dtype=dtype if np.issubdtype(dtype, np.floating) else None)
    mse = reductions.mean(ew.square(ew.subtract(x1, x2)))
    return ew.subtract(ew.multiply(20, ew.log10(max_val)), ew.multiply(10, ew.log10(mse)))


def space_to_depth(x, block_size, data_format="channels_last"):
    """Blocks of ``block_size × block_size`` pixels moved into the channels:
    ``(N, H, W, C) → (N, H/b, W/b, b·b·C)``, channel ``(i·b + j)·C + c`` holding pixel
    ``(i, j)`` of the block (TensorFlow's order). A reshape and a transpose: the VJP moves
    the gradients back.

    Args:
        x: images ``(N, H, W, C)``, ``H`` and ``W`` multiples of ``block_size``.
        block_size: the block's side ``b`` (an int >= 2).
        data_format: ``"channels_last"`` (or None) only.

    Example:
        >>> space_to_depth(np.arange(4.0).reshape(1, 2, 2, 1), 2)[0, 0, 0]
        array([0., 1., 2., 3.])
    """
    _check_blocks(x, block_size, data_format, "space_to_depth")
    n, h, w, c = np.shape(x)
    b = block_size
    if h % b or w % b:
        raise ValueError(f"ops.space_to_depth: height {h} and width {w} must be multiples of "
                         f"block_size={b}.")
    blocks = reshape(x, (n, h // b, b, w // b, b, c))
    return reshape(transpose(blocks, (0, 1, 3, 2, 4, 5)), (n, h // b, w // b, b * b * c))


def depth_to_space(x, block_size, data_format="channels_last"):
    """The inverse of :func:`space_to_depth`: ``(N, H, W, b·b·C) → (N, H·b, W·b, C)``.

    Args:
        x: images ``(N, H, W, C)``, ``C`` a multiple of ``block_size²``.
        block_size: the block's side ``b`` (an int >= 2).
        data_format: ``"channels_last"`` (or None) only.

    Example:
        >>> depth_to_space(np.arange(4.0).reshape(1, 1, 1, 4), 2)[0, :, :, 0]
        array([[0., 1.],
               [2., 3.]])
    """
    _check_blocks(x, block_size, data_format, "depth_to_space")
    n, h, w, c = np.shape(x)
    b = block_size
    if c % (b * b):
        raise ValueError(f"ops.depth_to_space: the channels ({c}) must be a multiple of "
                         f"block_size² = {b * b}.")
    blocks = reshape(x, (n, h, w, b, b, c // (b * b)))
    return reshape(transpose(blocks, (0, 1, 3, 2, 4, 5)), (n, h * b, w * b, c // (b * b)))


def _check_blocks(x, block_size, data_format, op: str) -> None:
    if data_format not in (None, "channels_last"):
        raise ValueError(f"ops.{op}: minired supports data_format='channels_last' only, got "
                         f"{data_format!r}.")
    if np.ndim(x) != 4:
        raise ValueError(f"ops.{op}: inputs must be (N, H, W, C), got shape {np.shape(x)}.")
    if not isinstance(block_size, int | np.integer) or block_size < 2:
        raise ValueError(f"ops.{op}: `block_size` must be an int >= 2, got {block_size!r}.")


# -- adaptive pooling: Keras' "two pools and a gather", axis by axis ---------------------------

def _adaptive(pool, inputs, output_size, data_format, op: str):
    """Pool each spatial axis to ``output_size``: windows ``[⌊i L/out⌋, ⌈(i+1) L/out⌉)``,
    each the mean/max of a stride-1 pool of the "small" (``⌈L/out⌉``) or "big" size,
    picked with ``take`` (Keras' TensorFlow algorithm, so the same windows)."""
    if data_format not in (None, "channels_last"):
        raise ValueError(f"ops.{op}: minired supports data_format='channels_last' only, got "
                         f"{data_format!r}.")
    rank = np.ndim(inputs) - 2
    if rank not in (1, 2, 3):
        raise ValueError(f"{op} supports 1D, 2D, or 3D inputs only.")
    sizes = (output_size,) * rank if isinstance(output_size, int) else tuple(output_size)
    x = inputs
    for axis, out in enumerate(sizes, start=1):
        length = np.shape(x)[axis]
        starts, window = adaptive_pool_bins(length, out)
        small = math.ceil(length / out)
        big = small + 1
        small_len = max(1, length - small + 1)
        index = np.where(window == big, starts + small_len, starts)   # into [small | big]

        pooled = [_along(pool, x, axis, small)]
        if big <= length:
            pooled.append(_along(pool, x, axis, big))
        x = take(concatenate(pooled, axis=axis) if len(pooled) > 1 else pooled[0], index,
                 axis=axis)
    return x


def adaptive_pool_bins(length: int, out: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``out`` bins adaptive pooling reduces along an axis of ``length``: ``(starts,
    sizes)``, bin ``i`` being inputs ``starts[i] … starts[i] + sizes[i] − 1``.

    Keras' rule (TensorFlow backend, computed in float32 as there)::

        start_i = ⌊i · L / out⌋          end_i = ⌈(i + 1) · L / out⌉      (clipped to L)
        size_i  = big = ⌈L/out⌉ + 1  if end_i − start_i = big,   else small = ⌈L/out⌉

    Bins overlap when ``L/out`` is not an integer (and when ``out > L``).

    Example:
        >>> adaptive_pool_bins(5, 3)
        (array([0, 1, 3], dtype=int32), array([2, 3, 2], dtype=int32))
    """
    if isinstance(out, bool) or not isinstance(out, int | np.integer) or out <= 0:
        raise ValueError(f"adaptive pooling: each output size must be a positive int, got "
                         f"{out!r}.")
    small = math.ceil(length / out)
    big = small + 1
    positions = np.arange(out, dtype=np.float32)
    starts = np.floor(positions * np.float32(length) / np.float32(out)).astype(np.int32)
    ends = np.ceil((positions + 1) * np.float32(length) / np.float32(out)).astype(np.int32)
    ends, starts = np.minimum(ends, length), np.minimum(starts, length - 1)
    sizes = np.where(ends - starts == big, big, small).astype(np.int32)
    return starts, sizes


def _along(pool, x, axis: int, size: int):
    """``pool`` with a window of ``size`` along ``axis`` (1 along the others), stride 1."""
    window = [1] * (np.ndim(x) - 2)
    window[axis - 1] = size
    return pool(x, tuple(window), strides=1, padding="valid")


def adaptive_average_pool(inputs, output_size, data_format=None):
    """Average pooling to a fixed ``output_size`` (an int or one per spatial axis), whatever
    the input size: output ``i`` of an axis of length ``L`` averages inputs
    ``⌊i L/out⌋ … ⌈(i+1) L/out⌉ − 1`` (one axis after the other, as Keras). Written with
    ``average_pool`` and ``take``: the tape differentiates it.

    Args:
        inputs: ``(N, *spatial, C)``, 1 to 3 spatial axes.
        output_size: an int or one per spatial axis.
        data_format: ``"channels_last"`` (or None) only.

    Example:
        >>> adaptive_average_pool(np.arange(4.0).reshape(1, 4, 1), 2)[0, :, 0]
        array([0.5, 2.5])
    """
    return _adaptive(average_pool, inputs, output_size, data_format, "adaptive_average_pool")


def adaptive_max_pool(inputs, output_size, data_format=None):
    """Max pooling to a fixed ``output_size``: the windows of :func:`adaptive_average_pool`,
    reduced with ``max``.

    Args:
        inputs: ``(N, *spatial, C)``, 1 to 3 spatial axes.
        output_size: an int or one per spatial axis.
        data_format: ``"channels_last"`` (or None) only.

    Example:
        >>> adaptive_max_pool(np.array([1.0, 3.0, 2.0, 0.0]).reshape(1, 4, 1), 2)[0, :, 0]
        array([3., 2.])
    """
    return _adaptive(max_pool, inputs, output_size, data_format, "adaptive_max_pool")


# -- attention --------------------------------------------------------------------------------

#: TensorFlow's "large negative" for masked logits: −0.7 × 3.38953e38.
_LARGE_NEGATIVE = -0.7 * 3.38953e38


def dot_product_attention(query, key, value, bias=None, mask=None, scale=None,
                          is_causal=False, flash_attention=None, attn_logits_soft_cap=None):
    """Scaled dot-product attention over inputs ``(B, T, N, H)`` (batch, steps, heads, head
    size), as Keras' TensorFlow backend:

    ``s = scale · q kᵀ (+ bias)``, masked logits set to ``−0.7 × 3.38953e38``,
    ``p = softmax(s)`` over the keys, ``out = p v``; written with ``einsum``, ``where`` and
    ``softmax``, so the tape differentiates it (``δq``, ``δk``, ``δv``, ``δbias``).

    Args:
        query: ``(B, T, N, H)``; key, value: ``(B, S, K, H)`` (``K`` heads repeated to ``N``
            when ``N > K > 1``, grouped-query attention).
        bias: added to the logits ``(B, N, T, S)`` (broadcast).
        mask: boolean, broadcast to ``(B, N, T, S)``: True where a query may attend.
        scale: the logits' scale; ``1/√H`` (computed in float32, as TensorFlow) when None.
        is_causal: also mask keys after the query (step ``t`` sees ``s ≤ t``).
        flash_attention: must be None or False (TensorFlow has none).
        attn_logits_soft_cap: not supported by the TensorFlow backend either: must be None.

    Example:
        >>> q = k = v = np.ones((1, 2, 1, 2))
        >>> dot_product_attention(q, k, v, is_causal=True)[0, :, 0]
        array([[1., 1.],
               [1., 1.]])
    """
    if flash_attention:
        raise ValueError("Flash attention is not supported in tensorflow backend.")
    if attn_logits_soft_cap is not None:
        raise ValueError("ops.dot_product_attention: attn_logits_soft_cap is not supported "
                         "(Keras' TensorFlow backend has no logits soft cap either).")
    if not np.ndim(query) == np.ndim(key) == np.ndim(value) == 4:
        raise ValueError(
            "`dot_product_attention` only supports 4D inputs. Received: query.shape="
            f"{np.shape(query)}, key.shape={np.shape(key)}, value.shape={np.shape(value)}.")
    dtype = np.result_type(*(np.asarray(t).dtype for t in (query, key, value)))
    query, key, value = (_cast(t, dtype) for t in (query, key, value))
    heads, kv_heads = np.shape(query)[2], np.shape(key)[2]
    if heads > kv_heads > 1:
        key = repeat(key, heads // kv_heads, axis=2)
        value = repeat(value, heads // kv_heads, axis=2)
    if scale is None:
        scale = np.float32(1.0) / np.sqrt(np.float32(np.shape(key)[-1]))
    logits = einsum("BTNH,BSNH->BNTS", query, key)
    logits = ew.multiply(logits, as_keras_constant(scale, logits.dtype))
    if bias is not None:
        logits = ew.add(logits, _cast(bias, logits.dtype))
    if mask is not None or is_causal:
        allowed = np.ones(np.shape(logits), dtype=bool)
        if mask is not None:
            allowed = allowed & np.asarray(mask, dtype=bool)
        if is_causal:
            t, s = np.shape(logits)[2:]
            allowed = allowed & np.tril(np.ones((t, s), dtype=bool))
        logits = ew.where(allowed, logits, np.asarray(_LARGE_NEGATIVE, logits.dtype))
    probs = softmax(logits, axis=-1)
    return einsum("BNTS,BSNH->BTNH", probs, value)


def _cast(x, dtype):
    """``x`` as ``dtype`` (recorded when it changes dtype)."""
    from minired.ops.core import cast

    return x if np.asarray(x).dtype == dtype else cast(x, dtype)
