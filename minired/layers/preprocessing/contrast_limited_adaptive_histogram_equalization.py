"""ContrastLimitedAdaptiveHistogramEqualization (CLAHE): equalize each tile of an image
with a clipped histogram, blending the tiles' tables smoothly."""

from __future__ import annotations

import numpy as np

from minired.layers.preprocessing import color_space
from minired.layers.preprocessing.transformation_layer import TransformationLayer, no_gradient


def tile_tables(tiles: np.ndarray, clip_limit: float, dtype) -> np.ndarray:
    """The equalization table of each tile, ``(..., 256)`` for pixel values ``tiles``
    ``(..., P)`` in [0, 255] (``P`` pixels a tile), as Keras computes it: the counts ``h_v``
    of ``trunc(x)`` clipped to [0, 255]; with ``clip_limit > 0`` each count is cut at
    ``L = clip_limit·P/256`` and the cut part spread evenly over the 256 bins; then::

        F_v = Σ_{u ≤ v} h_u         T_v = clip((F_v - F_0)·255 / (P - F_0), 0, 255)

    (``P - F_0 = 0`` read as 1), in ``dtype`` (Keras' ``one_hot`` default, float32)."""
    values = np.clip(tiles.astype(np.int32), 0, 255)
    groups = int(np.prod(values.shape[:-1]))
    offsets = (np.arange(groups) * 256).reshape(values.shape[:-1] + (1,))
    counts = np.bincount((values + offsets).ravel(), minlength=groups * 256)
    hists = counts.reshape(values.shape[:-1] + (256,)).astype(dtype)
    pixels = tiles.shape[-1]
    if clip_limit > 0:
        limit = dtype(clip_limit * pixels / 256.0)
        clipped = np.clip(hists, 0, limit)
        excess = np.sum(hists - clipped, axis=-1, keepdims=True)
        hists = clipped + excess / dtype(256.0)
    cdf = np.cumsum(hists, axis=-1)
    cdf_min = np.min(cdf, axis=-1, keepdims=True)
    denominator = dtype(pixels) - cdf_min
    denominator = np.where(denominator == 0, dtype(1), denominator)
    return np.clip((cdf - cdf_min) * dtype(255.0) / denominator, 0, 255)


def blend_weights(size: int, tile: int, grid: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For the ``size`` rows (or columns) of the padded image: the two tiles ``t0, t1``
    (indices into the tables padded by one edge tile on each side) whose centres surround
    each row, and the weight ``w`` of ``t1``: ``c = (i - tile/2)/tile + 1``,
    ``t0 = ⌊c⌋``, ``w = c - t0`` (float32, as Keras)."""
    c = ((np.arange(size, dtype=np.float32) - np.float32(tile / 2.0)) / np.float32(tile)
         + np.float32(1.0))
    t0 = np.floor(c)
    w = c - t0
    return (np.clip(t0, 0, grid + 1).astype(np.int64),
            np.clip(t0 + 1, 0, grid + 1).astype(np.int64), w)


def clahe(images: np.ndarray, clip_limit: float, tile_grid_size: tuple) -> np.ndarray:
    """CLAHE of images ``(N, H, W, C)`` in [0, 255] (Keras' ``_clahe``).

    The images are padded at the bottom and right by mirroring (``"symmetric"``) to
    ``gh × gw`` tiles of ``th × tw`` pixels (``th = ⌈H/gh⌉``); each tile and channel gets its
    table ``T`` (:func:`tile_tables`); each pixel ``v = trunc(clip(x, 0, 255))`` is mapped
    by the four tiles around it, blended bilinearly (:func:`blend_weights`)::

        a = (1 - w_y)·((1 - w_x)·T_nw[v] + w_x·T_ne[v]) + w_y·((1 - w_x)·T_sw[v] + w_x·T_se[v])
    """
    n, height, width, channels = images.shape
    grid_h, grid_w = tile_grid_size
    tile_h, tile_w = -(-height // grid_h), -(-width // grid_w)
    pad_h, pad_w = tile_h * grid_h - height, tile_w * grid_w - width
    padded = images
    if pad_h or pad_w:
        padded = np.pad(images, ((0, 0), (0, pad_h), (0, pad_w), (0, 0)), mode="symmetric")
    tiles = padded.reshape(n, grid_h, tile_h, grid_w, tile_w, channels)
    tiles = tiles.transpose(0, 1, 3, 5, 2, 4).reshape(n, grid_h, grid_w, channels, -1)
    tables = tile_tables(tiles, clip_limit, np.float32)
    tables = np.pad(tables, ((0, 0), (1, 1), (1, 1), (0, 0), (0, 0)), mode="edge")
    y0, y1, wy = blend_weights(tile_h * grid_h, tile_h, grid_h)
    x0, x1, wx = blend_weights(tile_w * grid_w, tile_w, grid_w)
    values = np.clip(padded, 0, 255).astype(np.int32)
    b = np.arange(n)[:, None, None, None]
    c = np.arange(channels)[None, None, None, :]
    y0, y1, wy = y0[None, :, None, None], y1[None, :, None, None], wy[None, :, None, None]
    x0, x1, wx = x0[None, None, :, None], x1[None, None, :, None], wx[None, None, :, None]
    top = tables[b, y0, x0, c, values] * (1 - wx) + tables[b, y0, x1, c, values] * wx
    bottom = tables[b, y1, x0, c, values] * (1 - wx) + tables[b, y1, x1, c, values] * wx
    result = top * (1 - wy) + bottom * wy
    return result[:, :height, :width, :]


class ContrastLimitedAdaptiveHistogramEqualization(TransformationLayer):
    """Raise the local contrast of images by CLAHE: each tile of a ``tile_grid_size`` grid
    is equalized by its own histogram, clipped at ``clip_limit`` times the mean count so
    that flat regions are not over-amplified, and the tiles' tables are blended bilinearly
    (:func:`clahe`). Nothing is random and, as in Keras, the layer applies at inference
    too.

    Forward: ``x' = (x - lo)/(hi - lo)·255`` (in float32, unless ``value_range`` is
    ``(0, 255)``), ``r = clahe(x')``, ``a = r·(hi - lo)/255 + lo``, cast to the inputs'
    dtype (integer images come back as integers, truncated, as Keras').

    Backward: the output is read from tables at integer pixel values, which has no gradient
    in TensorFlow: ``δx = 0``.

    Args:
        value_range: ``(lo, hi)`` (default ``(0, 255)``).
        clip_limit: the histograms' cut, in multiples of the mean count (default 4.0;
            0 or less: no cut).
        tile_grid_size: ``(rows, columns)`` of tiles (default ``(8, 8)``).
        data_format: ``"channels_last"`` (or None).
        name: layer name.

    Example:
        >>> x = np.array([[[[10.], [10.], [20.], [20.]]]], dtype="float32")
        >>> layer = ContrastLimitedAdaptiveHistogramEqualization(clip_limit=0.0,
        ...                                                      tile_grid_size=(1, 1))
        >>> layer(x)[0, 0, :, 0]                  # T_v = F_v·255/4 for the counts 2 and 2
        array([127.5, 127.5, 255. , 255. ], dtype=float32)
    """

    def __init__(self, value_range=(0, 255), clip_limit: float = 4.0, tile_grid_size=(8, 8),
                 data_format=None, name: str | None = None, **kwargs) -> None:
        if "seed" in kwargs:                         # nothing is drawn: Keras refuses it
            raise ValueError("Unrecognized keyword arguments passed to "
                             "ContrastLimitedAdaptiveHistogramEqualization: "
                             f"{{'seed': {kwargs['seed']!r}}}")
        super().__init__(data_format=data_format, name=name, **kwargs)
        owner = "ContrastLimitedAdaptiveHistogramEqualization"
        if not isinstance(value_range, tuple | list) or len(value_range) != 2:
            raise ValueError(f"{owner}: `value_range` must be a pair (min, max), got "
                             f"{value_range!r}.")
        if not isinstance(tile_grid_size, tuple | list) or len(tile_grid_size) != 2 or not all(
                isinstance(t, int | np.integer) and not isinstance(t, bool) and t > 0
                for t in tile_grid_size):
            raise ValueError(f"{owner}: `tile_grid_size` must be two positive integers "
                             f"(rows, columns), got {tile_grid_size!r}.")
        if isinstance(clip_limit, bool) or not isinstance(clip_limit, int | float | np.number):
            raise TypeError(f"{owner}: `clip_limit` must be a number, got {clip_limit!r}.")
        self.value_range = value_range
        self.clip_limit = clip_limit
        self.tile_grid_size = tile_grid_size

    def forward(self, inputs: np.ndarray, training: bool | None = False) -> np.ndarray:
        """Keras' layer ignores ``training`` and keeps integer inputs' dtype."""
        x = np.asarray(inputs)
        self._check_call_shape(x.shape)
        if not np.issubdtype(x.dtype, np.integer):
            x = x.astype(self._float_dtype(), copy=False)
        single = x.ndim == 3
        outputs = self._apply(x[None] if single else x, None)[0]
        self.cache = (single, None)
        return outputs[0] if single else outputs

    def get_random_transformation(self, images: np.ndarray) -> None:
        """None: nothing is drawn."""
        return None

    def _apply(self, images: np.ndarray, transformation=None) -> tuple[np.ndarray, None]:
        x = color_space.transform_value_range(images, self.value_range, (0, 255), np.float32)
        result = clahe(x, self.clip_limit, self.tile_grid_size)
        result = color_space.transform_value_range(result, (0, 255), self.value_range,
                                                   np.float32)
        return result.astype(images.dtype), None

    def _augment_backward(self, grad_outputs: np.ndarray, state: None) -> np.ndarray:
        return no_gradient(grad_outputs)

    def get_config(self) -> dict:
        """Keras' keys: ``name``, ``trainable``, ``dtype``, ``data_format``,
        ``value_range``, ``clip_limit``, ``tile_grid_size``."""
        return {**super().get_config(), "value_range": self.value_range,
                "clip_limit": self.clip_limit, "tile_grid_size": self.tile_grid_size}
