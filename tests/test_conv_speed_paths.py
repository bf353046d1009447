"""The fast paths of the convolution and max-pooling layers give the plain way's numbers.

- Conv1D/Conv2D write the first part of their weight gradients (``Layer.zero_gradients``
  only marks the arrays; ``_add_to_gradient`` writes, then adds): bit for bit the same
  training as zero-filling then adding, with a layer called once and one called twice.
- MaxPooling keeps, in its forward, the offset of each window's first maximum, and the
  backward routes ``δa`` with it (writing into an uninitialised array when the windows tile
  the input): the same outputs and ``δx`` as a window-by-window loop, with many ties, for
  windows that tile, overlap, leave gaps or leave rows and columns uncovered.
- A convolution copies ``cols`` column by column for inputs of at most 3 channels
  (``BaseConv._patch_matrix``): the windows' matrix all the same, bit for bit.
- A convolution's ``δx`` is computed kernel offset by kernel offset
  (``scatter_patch_products``): the numbers of the whole ``δcols = δz Wᵀ`` scattered by
  ``scatter_patches``, bit for bit, for strides, dilations and paddings, in both dtypes.
- A convolution's ``∂L/∂b = Σ δz`` is a product with a vector of ones (``sum_of_rows``):
  the sum of ``np.sum(axis=0)`` up to the order of the additions.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import minired as mr
from minired.layers.convolutional import im2col
from minired.layers.convolutional.base_conv import _ones, sum_of_rows


def _same_bits(a: np.ndarray, b: np.ndarray) -> bool:
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()


# -- cols copied column by column (BaseConv._patch_matrix) --------------------------------------
@pytest.mark.parametrize("channels", [1, 3, 4])
@pytest.mark.parametrize("rank, spatial, kernel, strides, dilation, padding", [
    (2, (13, 12), (3, 3), (1, 1), (1, 1), "valid"),
    (2, (9, 8), (3, 2), (2, 3), (1, 1), "same"),
    (2, (10, 11), (2, 3), (1, 1), (2, 2), "same"),
    (1, (12,), (3,), (1,), (2,), "causal"),
])
def test_cols_is_every_window_in_a_row_whichever_way_it_is_copied(
        channels, rank, spatial, kernel, strides, dilation, padding):
    x = np.random.default_rng(9).standard_normal((3, *spatial, channels)).astype(np.float32)
    layer = (mr.layers.Conv1D if rank == 1 else mr.layers.Conv2D)(
        2, kernel, strides=strides, dilation_rate=dilation, padding=padding)
    layer.build(x.shape)
    cols, out_shape = layer._patch_matrix(x)
    windows = im2col.patches(x, kernel, strides, dilation, padding)   # (N, *out, *k, C)
    assert out_shape == windows.shape[:rank + 1]
    np.testing.assert_array_equal(cols, windows.reshape(np.prod(out_shape), -1))
    # the copy's order: column by column (colsᵀ contiguous) up to 3 channels
    assert (cols.T.flags.c_contiguous if channels <= 3 else cols.flags.c_contiguous)


# -- δx offset by offset (im2col.scatter_patch_products) ---------------------------------------
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("spatial, kernel, strides, dilation, padding", [
    ((13, 13), (3, 3), (1, 1), (1, 1), "valid"),     # the MNIST convnet's second layer
    ((9, 8), (3, 2), (2, 3), (1, 1), "same"),
    ((10, 11), (2, 3), (1, 1), (2, 2), "same"),
    ((7, 7), (7, 7), (1, 1), (1, 1), "valid"),       # one window
    ((12,), (4,), (3,), (1,), "valid"),
    ((12,), (3,), (1,), (2,), "causal"),
])
def test_the_input_gradient_offset_by_offset_is_the_whole_scatter(
        dtype, spatial, kernel, strides, dilation, padding):
    rng = np.random.default_rng(8)
    input_shape = (5, *spatial, 6)
    filters = 7
    out = tuple(im2col.output_size(n, k, s, d, padding)
                for n, k, s, d in zip(spatial, kernel, strides, dilation, strict=True))
    grad_z = rng.standard_normal((5 * int(np.prod(out)), filters)).astype(dtype)
    w = rng.standard_normal((*kernel, 6, filters)).astype(dtype)
    whole = grad_z @ w.reshape(-1, filters).T                     # δcols = δz Wᵀ
    expected = im2col.scatter_patches(whole.reshape(5, *out, *kernel, 6), input_shape,
                                      kernel, strides, dilation, padding)
    got = im2col.scatter_patch_products(grad_z, w, input_shape, strides, dilation, padding)
    assert _same_bits(got, expected)


# -- convolution gradients written, not zeroed then added --------------------------------------
class _EagerConv2D(mr.layers.Conv2D):
    """A Conv2D that zeroes its gradients with a fill and adds every call (the plain way)."""

    _writes_gradients = False


class _EagerConv1D(mr.layers.Conv1D):
    _writes_gradients = False


def test_marked_conv_gradients_read_as_zeros():
    """zero_gradients only marks a Conv2D's arrays; reading them fills what no backward
    wrote (a layer the backward pass did not reach)."""
    layer = mr.layers.Conv2D(3, 2)
    layer.build((None, 5, 5, 2))
    for gradient in layer.gradients:
        gradient.fill(7.0)                       # last step's numbers, still in memory
    layer.zero_gradients()
    assert layer.kernel_gradient[0, 0, 0, 0] == 7.0    # not filled: marked
    assert all(np.all(g == 0) for g in layer.gradients)


@pytest.mark.parametrize("shared", [False, True])
@pytest.mark.parametrize("rank", [1, 2])
def test_writing_the_first_conv_gradient_is_adding_to_zeros(shared, rank):
    """Bit for bit the same training as zero-filling then adding."""
    def train(conv_class):
        mr.utils.set_random_seed(3)
        shape = (9, 3) if rank == 1 else (7, 7, 3)
        inputs = mr.Input(shape)
        first = conv_class(3, 3, padding="same", activation="relu")
        h = first(first(inputs)) if shared else first(inputs)
        h = conv_class(4, 2, strides=2, activation="tanh", kernel_regularizer="l2")(h)
        model = mr.Model(inputs, mr.layers.Dense(3, activation="softmax")(
            mr.layers.Flatten()(h)))
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
        rng = np.random.default_rng(4)
        x = rng.standard_normal((40, *shape)).astype(np.float32)
        y = rng.integers(0, 3, 40)
        model.fit(x, y, batch_size=8, epochs=2, verbose=0, shuffle=False)
        return model.get_weights()

    eager = _EagerConv1D if rank == 1 else _EagerConv2D
    plain = mr.layers.Conv1D if rank == 1 else mr.layers.Conv2D
    for expected, written in zip(train(eager), train(plain), strict=True):
        assert _same_bits(expected, written)


# -- max pooling against a window-by-window loop -----------------------------------------------
def _max_pool_by_loops(x: np.ndarray, pool: tuple, strides: tuple, padding: str,
                       grad_outputs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Forward and δx of max pooling, one window at a time: the first maximum in row-major
    order takes the window's gradient (TensorFlow's rule); "same" pads with -inf."""
    from minired.layers.pooling.windows import pad_amounts

    pads = [pad_amounts(n, p, s, padding) for n, p, s in zip(x.shape[1:-1], pool, strides,
                                                              strict=True)]
    padded = np.pad(x, [(0, 0), *pads, (0, 0)], constant_values=-np.inf)
    grad = np.zeros_like(padded)
    outputs = np.empty(grad_outputs.shape, x.dtype)
    for n, *window, c in itertools.product(*(range(m) for m in grad_outputs.shape)):
        corner = [w * s for w, s in zip(window, strides, strict=True)]
        block = padded[(n, *(slice(k, k + p) for k, p in zip(corner, pool, strict=True)), c)]
        first = np.unravel_index(np.argmax(block), pool)     # argmax: the first maximum
        outputs[(n, *window, c)] = block.max()
        grad[(n, *(k + f for k, f in zip(corner, first, strict=True)), c)] += grad_outputs[
            (n, *window, c)]
    crop = tuple(slice(b, b + m) for (b, _), m in zip(pads, x.shape[1:-1], strict=True))
    return outputs, grad[(slice(None), *crop, slice(None))]


CASES_2D = [  # pool, strides, padding, input rows × cols
    ((2, 2), (2, 2), "valid", (8, 8)),      # windows tile the input
    ((2, 2), (2, 2), "valid", (11, 9)),     # tile, a row and a column past the last window
    ((2, 2), (2, 2), "same", (7, 9)),       # tile the padded input
    ((3, 3), (3, 3), "same", (7, 8)),
    ((2, 2), (3, 3), "valid", (8, 8)),      # gaps between windows
    ((2, 3), (3, 4), "same", (7, 9)),
    ((3, 3), (2, 2), "valid", (9, 9)),      # overlapping windows
    ((2, 3), (2, 2), "same", (6, 7)),
    ((2, 2), (1, 1), "valid", (5, 6)),
]


@pytest.mark.parametrize("pool, strides, padding, spatial", CASES_2D)
def test_max_pooling2d_routes_like_the_window_loop(pool, strides, padding, spatial):
    rng = np.random.default_rng(sum(pool) + 7 * sum(strides) + len(padding))
    x = rng.integers(-2, 3, (2, *spatial, 3)).astype(np.float32)       # many ties
    layer = mr.layers.MaxPooling2D(pool, strides, padding)
    outputs = layer(x)
    grad_outputs = rng.integers(-4, 5, outputs.shape).astype(np.float32)  # exact sums
    expected_outputs, expected_grad = _max_pool_by_loops(x, pool, strides, padding,
                                                         grad_outputs)
    assert _same_bits(outputs, expected_outputs)
    # uncovered rows and columns, and gaps, get zeros (also when memory held other values)
    for _ in range(2):
        np.testing.assert_array_equal(layer.backward(grad_outputs), expected_grad)


@pytest.mark.parametrize("pool, strides, padding, steps", [
    (2, 2, "valid", 9), (3, 3, "same", 10), (2, 3, "valid", 10), (3, 2, "same", 9),
    (4, 1, "valid", 8)])
def test_max_pooling1d_routes_like_the_window_loop(pool, strides, padding, steps):
    rng = np.random.default_rng(pool + 5 * strides + steps)
    x = rng.integers(-1, 2, (3, steps, 2)).astype(np.float32)
    layer = mr.layers.MaxPooling1D(pool, strides, padding)
    outputs = layer(x)
    grad_outputs = rng.integers(-4, 5, outputs.shape).astype(np.float32)
    expected_outputs, expected_grad = _max_pool_by_loops(x, (pool,), (strides,), padding,
                                                         grad_outputs)
    assert _same_bits(outputs, expected_outputs)
    np.testing.assert_array_equal(layer.backward(grad_outputs), expected_grad)


def test_a_window_of_more_than_255_values():
    """The offset of the maximum fits the window however large (here 16·17 = 272 values)."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 16, 17, 2)).astype(np.float32)
    layer = mr.layers.MaxPooling2D((16, 17))
    outputs = layer(x)
    grad_outputs = np.ones_like(outputs)
    expected_outputs, expected_grad = _max_pool_by_loops(x, (16, 17), (16, 17), "valid",
                                                         grad_outputs)
    assert _same_bits(outputs, expected_outputs)
    np.testing.assert_array_equal(layer.backward(grad_outputs), expected_grad)


# -- ∂L/∂b as a product with ones (base_conv.sum_of_rows) -------------------------------------
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(1, 1), (8, 16), (128, 10), (3000, 32), (0, 4)])
def test_sum_of_rows_is_the_sum_over_the_first_axis(dtype, shape):
    rng = np.random.default_rng(0)
    matrix = rng.standard_normal(shape).astype(dtype)
    expected = matrix.astype(np.float64).sum(axis=0)       # the exact sum, nearly
    total = sum_of_rows(matrix)
    assert total.dtype == dtype and total.shape == (shape[1],)
    # Both add the rows in float32/float64, each in its own order: the error of a sum of n
    # terms grows as n·eps·Σ|x| at worst; the reference's own error is far below that.
    bound = shape[0] * np.finfo(dtype).eps * np.abs(matrix).sum(axis=0, dtype=np.float64)
    assert np.all(np.abs(total - expected) <= bound)
    assert np.all(np.abs(matrix.sum(axis=0) - expected) <= bound)    # numpy's: same bound
    out = np.full(shape[1], np.nan, dtype=dtype)
    assert sum_of_rows(matrix, out=out) is out and _same_bits(out, total)


def test_sum_of_rows_on_a_strided_matrix_and_its_ones_stay_ones():
    matrix = np.arange(24.0).reshape(6, 4)[::2]           # rows 0, 2, 4: not contiguous
    assert sum_of_rows(matrix).tolist() == [24.0, 27.0, 30.0, 33.0]   # 0+8+16, 1+9+17, ...
    with pytest.raises(ValueError, match="read-only"):     # the shared vector of ones
        _ones(3, np.dtype("float64"))[0] = 2.0
