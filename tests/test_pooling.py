"""Pooling layers (MaxPooling1D/2D, AveragePooling1D/2D, Global{Average,Max}Pooling1D/2D).

First small cases you can check by hand (the tie rules, "same" padding), then shapes, configs,
models and errors, then property-based gradient checks (float64, every array to
``TOLERANCE``), and last every padding/stride combination through Keras and TensorFlow:
outputs and ``δx`` from ``tf.GradientTape``, in float64 (TensorFlow pools float64 on CPU).
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from strategies import STEP, arrays, gradient_settings
from test_gradients import assert_gradients_match

import minired as mr
from minired.gradcheck import check_layer
from minired.layers.pooling import (
    AveragePooling1D,
    AveragePooling2D,
    GlobalAveragePooling1D,
    GlobalAveragePooling2D,
    GlobalMaxPooling1D,
    GlobalMaxPooling2D,
    MaxPooling1D,
    MaxPooling2D,
)
from minired.layers.pooling.windows import pad_amounts, scatter_windows, windows

WINDOWED = [MaxPooling1D, MaxPooling2D, AveragePooling1D, AveragePooling2D]
GLOBAL = [GlobalAveragePooling1D, GlobalAveragePooling2D, GlobalMaxPooling1D, GlobalMaxPooling2D]


def image(rows: list[list[float]]) -> np.ndarray:
    """One single-channel image ``(1, H, W, 1)`` in float64."""
    return np.array(rows, dtype=np.float64)[None, :, :, None]


def run(layer, x: np.ndarray, grad_outputs: np.ndarray | None = None):
    """Forward in float64, then backward (δa = 1 by default)."""
    mr.config.set_floatx("float64")
    outputs = layer(x)
    grads = layer.backward(np.ones_like(outputs) if grad_outputs is None else grad_outputs)
    return outputs, grads


# -- values by hand ---------------------------------------------------------------------------

#: A 4×4 image full of ties, and TensorFlow's input gradients for δa = 1 (measured with
#: tf.GradientTape on keras.layers.MaxPooling2D, TF 2.21, float32 and float64 alike).
TIES = [[1, 1, 0, 1],
        [1, 1, 1, 1],
        [0, 1, 2, 2],
        [2, 2, 1, 2]]
TF_TIE_GRADIENTS = {
    # 2×2 windows, stride 2: each window's first maximum in row-major order.
    (2, None): [[1, 0, 0, 1], [0, 0, 0, 0], [0, 0, 1, 0], [1, 0, 0, 0]],
    # 2×2 windows, stride 1 (overlapping): window (0, 2) = [[0, 1], [1, 1]] picks (0, 3),
    # the first in its row-major order, not (1, 2); shared winners add up (4 at (2, 2)).
    (2, 1): [[1, 1, 0, 1], [1, 0, 0, 0], [0, 0, 4, 0], [1, 0, 0, 0]],
    (3, 1): [[0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 4, 0], [0, 0, 0, 0]],
}


def test_max_pooling_takes_the_largest_value_of_each_window():
    x = image([[1, 2, 0, 1],
               [3, 4, 1, 5]])
    out, grads = run(MaxPooling2D(), x)
    np.testing.assert_array_equal(out[0, :, :, 0], [[4, 5]])
    np.testing.assert_array_equal(grads[0, :, :, 0], [[0, 0, 0, 0], [0, 1, 0, 1]])


@pytest.mark.parametrize(("pool", "stride"), list(TF_TIE_GRADIENTS))
def test_max_pooling_gives_a_tie_to_the_first_maximum_in_row_major_order(pool, stride):
    _, grads = run(MaxPooling2D(pool, strides=stride), image(TIES))
    np.testing.assert_array_equal(grads[0, :, :, 0], TF_TIE_GRADIENTS[(pool, stride)])


def test_max_pooling_same_padding_never_picks_the_padding():
    # Every value is negative: had the padding been 0, the border windows would output 0.
    x = -1.0 - np.arange(9.0).reshape(1, 3, 3, 1)
    out, grads = run(MaxPooling2D(2, padding="same"), x)
    np.testing.assert_array_equal(out[0, :, :, 0], [[-1, -3], [-7, -9]])
    np.testing.assert_array_equal(grads[0, :, :, 0], [[1, 0, 1], [0, 0, 0], [1, 0, 1]])


def test_average_pooling_same_divides_by_the_real_values_only():
    # 3×3 input, 2×2 windows, stride 2, "same": TF pads 1 row/column after, so the windows
    # hold 4, 2, 2 and 1 real values.
    x = image([[1, 2, 3],
               [4, 5, 6],
               [7, 8, 9]])
    out, grads = run(AveragePooling2D(2, padding="same"), x)
    np.testing.assert_array_equal(out[0, :, :, 0], [[3, 4.5], [7.5, 9]])
    np.testing.assert_array_equal(grads[0, :, :, 0],
                                  [[1 / 4, 1 / 4, 1 / 2], [1 / 4, 1 / 4, 1 / 2], [1 / 2, 1 / 2, 1]])


def test_overlapping_average_windows_add_their_shares():
    out, grads = run(AveragePooling1D(2, strides=1), np.array([1.0, 3, 2, 6])[None, :, None])
    np.testing.assert_array_equal(out[0, :, 0], [2, 2.5, 4])
    np.testing.assert_array_equal(grads[0, :, 0], [0.5, 1, 1, 0.5])


def test_global_max_pooling_splits_the_gradient_among_ties():
    # As TensorFlow's reduce_max gradient (measured): 5 tied maxima get 1/5 each.
    out, grads = run(GlobalMaxPooling2D(), image(TIES))
    np.testing.assert_array_equal(out, [[2]])
    expected = np.where(np.array(TIES) == 2, 0.2, 0.0)
    np.testing.assert_array_equal(grads[0, :, :, 0], expected)


def test_global_average_pooling_shares_the_gradient_equally():
    x = np.arange(12.0).reshape(2, 3, 2)
    out, grads = run(GlobalAveragePooling1D(), x, np.array([[3.0, 6.0], [0.0, 3.0]]))
    np.testing.assert_array_equal(out, [[2, 3], [8, 9]])
    np.testing.assert_array_equal(grads, np.repeat([[[1.0, 2.0]], [[0.0, 1.0]]], 3, axis=1))


def test_windows_and_scatter_windows_are_each_others_transpose():
    """<windows(x), g> = <x, scatter_windows(g)>: scatter is the backward of the view."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2, 5, 6, 3))
    view = windows(x, (3, 2), (2, 1))
    g = rng.normal(size=view.shape)
    np.testing.assert_allclose(np.sum(view * g), np.sum(x * scatter_windows(g, x.shape, (2, 1))))


@pytest.mark.parametrize(("size", "pool", "stride", "expected"), [
    (4, 2, 2, (0, 0)), (5, 2, 2, (0, 1)), (4, 3, 1, (1, 1)), (4, 4, 1, (1, 2)),
    (7, 3, 3, (1, 1)), (6, 3, 2, (0, 1)), (5, 1, 3, (0, 0)),
])
def test_same_padding_follows_tensorflows_rule(size, pool, stride, expected):
    """Total ``max((⌈n/s⌉ - 1)·s + k - n, 0)``, the odd one after (as Conv "same", item 27)."""
    assert pad_amounts(size, pool, stride, "same") == expected


# -- shapes, configs, models --------------------------------------------------------------------

@pytest.mark.parametrize(("layer", "input_shape", "expected"), [
    (MaxPooling2D(), (None, 8, 8, 3), (None, 4, 4, 3)),
    (MaxPooling2D((3, 2), strides=1), (None, 8, 7, 3), (None, 6, 6, 3)),
    (MaxPooling2D(3, strides=2, padding="same"), (None, 7, 8, 3), (None, 4, 4, 3)),
    (AveragePooling2D(2, padding="same"), (None, None, 5, 1), (None, None, 3, 1)),
    (MaxPooling1D(), (None, 9, 2), (None, 4, 2)),
    (AveragePooling1D(3, strides=2, padding="same"), (None, 9, 2), (None, 5, 2)),
    (GlobalMaxPooling2D(), (None, 8, 8, 3), (None, 3)),
    (GlobalAveragePooling2D(keepdims=True), (None, 8, 8, 3), (None, 1, 1, 3)),
    (GlobalAveragePooling1D(keepdims=True), (None, 8, 3), (None, 1, 3)),
])
def test_output_shapes(layer, input_shape, expected):
    assert layer.compute_output_shape(input_shape) == expected


CONFIG_CASES = [
    ("MaxPooling2D", {}),
    ("MaxPooling2D", {"pool_size": 3, "strides": (1, 2), "padding": "same"}),
    ("MaxPooling1D", {"pool_size": 3, "strides": 1}),
    ("AveragePooling2D", {"pool_size": (2, 3), "padding": "same"}),
    ("AveragePooling1D", {"pool_size": 2}),
    ("GlobalAveragePooling2D", {}),
    ("GlobalAveragePooling1D", {"keepdims": True}),
    ("GlobalMaxPooling2D", {"keepdims": True}),
    ("GlobalMaxPooling1D", {}),
]
CLASSES = {cls.__name__: cls for cls in WINDOWED + GLOBAL}


@pytest.mark.parametrize(("name", "kwargs"), CONFIG_CASES)
def test_get_config_equals_keras(name, kwargs):
    pytest.importorskip("keras")
    from comparisons.keras_env import keras

    ours = CLASSES[name](name="pool", **kwargs).get_config()
    assert ours == getattr(keras.layers, name)(name="pool", **kwargs).get_config()
    again = CLASSES[name].from_config(ours)
    assert again.get_config() == ours


@pytest.mark.parametrize("layer_class", WINDOWED + GLOBAL)
def test_works_in_sequential_and_functional_models(layer_class):
    args = {"pool_size": 2} if layer_class in WINDOWED else {}
    spatial = 1 if layer_class.__name__.endswith("1D") else 2
    shape = (8, 3) if spatial == 1 else (8, 8, 3)
    x = np.random.default_rng(0).normal(size=(4, *shape)).astype("float32")
    model = mr.Sequential([mr.Input(shape), layer_class(**args), mr.layers.Flatten(),
                           mr.layers.Dense(2)])
    model.compile(optimizer="sgd", loss="mse")
    model.fit(x, np.zeros((4, 2), "float32"), epochs=1, verbose=0)
    assert model.predict(x, verbose=0).shape == (4, 2)

    inputs = mr.Input(shape)
    pooled = layer_class(**args)(inputs)
    functional = mr.Model(inputs, pooled)
    assert functional.output.shape == pooled.shape
    assert functional.predict(x, verbose=0).shape == (4, *pooled.shape[1:])


def test_integer_images_are_pooled_in_floatx():
    out = MaxPooling2D()(np.arange(16, dtype="uint8").reshape(1, 4, 4, 1))
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out[0, :, :, 0], [[5, 7], [13, 15]])


# -- errors -------------------------------------------------------------------------------------

@pytest.mark.parametrize("layer_class", WINDOWED + GLOBAL)
def test_wrong_rank_inputs_are_refused(layer_class):
    args = {"pool_size": 2} if layer_class in WINDOWED else {}
    spatial = 1 if layer_class.__name__.endswith("1D") else 2
    wrong = np.zeros((2, 4, 4) + (4,) * spatial, "float32")    # one axis too many
    with pytest.raises(ValueError, match=f"expected ndim={spatial + 2}, found ndim="):
        layer_class(**args)(wrong)
    with pytest.raises(ValueError, match=f"expected ndim={spatial + 2}"):
        layer_class(**args)(mr.Input((4,)))


@pytest.mark.parametrize("pool_size", [0, -1, 2.5, (2, 2, 2), (2, 0), "2", True, None])
def test_bad_pool_sizes_are_refused(pool_size):
    with pytest.raises(ValueError, match=r"`pool_size` must be a positive int or a tuple of 2"):
        MaxPooling2D(pool_size)


def test_bad_strides_are_refused():
    with pytest.raises(ValueError, match=r"`strides` must be a positive int"):
        AveragePooling1D(2, strides=0)


@pytest.mark.parametrize("padding", ["full", "causal", None, 1])
def test_unknown_padding_is_refused(padding):
    with pytest.raises(ValueError, match=r"`padding` must be 'valid' .* or 'same'"):
        MaxPooling1D(padding=padding)


def test_padding_is_case_insensitive_as_in_keras():
    layer = AveragePooling2D(2, padding="SAME")
    assert layer(np.ones((1, 3, 3, 1))).shape == (1, 2, 2, 1)
    assert layer.get_config()["padding"] == "SAME"         # stored as given, as Keras


@pytest.mark.parametrize("layer_class", WINDOWED + GLOBAL)
def test_channels_first_is_refused_with_a_fix(layer_class):
    args = {"pool_size": 2} if layer_class in WINDOWED else {}
    with pytest.raises(ValueError, match="channels_last' only.*np.moveaxis"):
        layer_class(data_format="channels_first", **args)


def test_a_window_larger_than_the_input_is_refused():
    with pytest.raises(ValueError, match=r"does not fit .* Use a smaller pool_size or "
                                         "padding='same'"):
        MaxPooling2D(5)(np.zeros((1, 4, 4, 1)))
    assert MaxPooling2D(5, padding="same")(np.zeros((1, 4, 4, 1))).shape == (1, 1, 1, 1)


# -- gradient checks ----------------------------------------------------------------------------

@st.composite
def pooling_cases(draw, spatial: int):
    """``(kwargs, input shape)`` with any pool size, stride and padding whose windows fit."""
    pool = tuple(draw(st.integers(1, 3)) for _ in range(spatial))
    strides = draw(st.none() | st.tuples(*[st.integers(1, 3)] * spatial))
    padding = draw(st.sampled_from(["valid", "same"]))
    sizes = tuple(draw(st.integers(p, 6)) for p in pool)
    shape = (draw(st.integers(1, 2)), *sizes, draw(st.integers(1, 2)))
    return {"pool_size": pool, "strides": strides, "padding": padding}, shape


@st.composite
def distinct_arrays(draw, shape: tuple) -> np.ndarray:
    """float64 arrays whose values are at least 0.006 apart: no two tie within ``±STEP``,
    so max pooling's winner never changes while the gradient is checked."""
    size = int(np.prod(shape))
    order = np.array(draw(st.permutations(range(size))), dtype=np.float64)
    jitter = draw(arrays((size,), 0.0, 0.004))
    return ((order * 0.01 + jitter) - size * 0.005).reshape(shape)


@pytest.mark.parametrize("layer_class", WINDOWED)
@gradient_settings
@given(data=st.data())
def test_windowed_pooling_gradients(float64, layer_class, data):
    spatial = 1 if layer_class.__name__.endswith("1D") else 2
    kwargs, shape = data.draw(pooling_cases(spatial))
    x = data.draw(distinct_arrays(shape) if "Max" in layer_class.__name__ else arrays(shape))
    assert_gradients_match(check_layer(layer_class(**kwargs), x, h=STEP))


@pytest.mark.parametrize("layer_class", GLOBAL)
@gradient_settings
@given(data=st.data())
def test_global_pooling_gradients(float64, layer_class, data):
    spatial = 1 if layer_class.__name__.endswith("1D") else 2
    shape = (data.draw(st.integers(1, 3)), *[data.draw(st.integers(1, 4))] * spatial,
             data.draw(st.integers(1, 3)))
    x = data.draw(distinct_arrays(shape) if "Max" in layer_class.__name__ else arrays(shape))
    layer = layer_class(keepdims=data.draw(st.booleans()))
    assert_gradients_match(check_layer(layer, x, h=STEP))


# -- against Keras and TensorFlow ---------------------------------------------------------------

#: Largest relative difference, ``max|ours - keras| / max|keras|``, over every case of a
#: layer, measured with TensorFlow 2.21. Max pooling (ties and overlaps included) and the
#: global layers are bit-identical in both precisions: 0. Average pooling's outputs are
#: bit-identical too, its gradients not quite: TensorFlow's float64 kernel multiplies by
#: ``1/n`` where minired divides by ``n`` (up to 4.3e-16), and in float32 it sums the shares
#: of overlapping windows in another order (up to 1.8e-7).
KERAS_TOLERANCE = {"float64": 1e-15, "float32": 1e-6}
BIT_IDENTICAL = {"MaxPooling1D", "MaxPooling2D", *(cls.__name__ for cls in GLOBAL)}


def relative_difference(ours: np.ndarray, theirs: np.ndarray) -> float:
    scale = max(float(np.max(np.abs(theirs), initial=0.0)), 1e-30)
    return float(np.max(np.abs(np.asarray(ours, np.float64) - theirs), initial=0.0) / scale)


def keras_outputs_and_gradients(layer_name: str, kwargs: dict, x: np.ndarray,
                                upstream: np.ndarray):
    """Keras' layer on ``x``, and ``∂Σ(y ⊙ upstream)/∂x`` from tf.GradientTape."""
    from comparisons.keras_env import keras, tf

    tensor = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(tensor)
        outputs = getattr(keras.layers, layer_name)(**kwargs)(tensor)
        total = tf.reduce_sum(outputs * upstream)
    return outputs.numpy(), tape.gradient(total, tensor).numpy()


def windowed_cases(spatial: int):
    """Every pool size 1-3, stride None/1-3 and padding, on odd and even sizes (height 5 or
    6, the width one more), with and without ties (values in {-1, 0, 1})."""
    for pool, stride, padding, size, ties in itertools.product(
            [1, 2, 3], [None, 1, 2, 3], ["valid", "same"], [5, 6], [False, True]):
        yield ({"pool_size": pool, "strides": stride, "padding": padding},
               (2, *(size, size + 1)[:spatial], 3), ties)


def compare_with_keras(layer_class, dtype: str, cases) -> float:
    from comparisons.keras_env import precision

    rng = np.random.default_rng(sum(map(ord, layer_class.__name__ + dtype)))
    worst = 0.0
    with precision(dtype):
        for kwargs, shape, ties in cases:
            x = (rng.integers(-1, 2, size=shape) if ties else rng.normal(size=shape))
            x = x.astype(dtype)
            layer = layer_class(**kwargs)
            outputs = layer(x)
            upstream = rng.normal(size=outputs.shape).astype(dtype)
            grads = layer.backward(upstream)
            keras_out, keras_grads = keras_outputs_and_gradients(layer_class.__name__, kwargs,
                                                                 x, upstream)
            assert outputs.shape == keras_out.shape and outputs.dtype == dtype, kwargs
            assert grads.shape == x.shape and grads.dtype == dtype, kwargs
            difference = max(relative_difference(outputs, keras_out),
                             relative_difference(grads, keras_grads))
            tolerance = 0.0 if layer_class.__name__ in BIT_IDENTICAL else KERAS_TOLERANCE[dtype]
            assert difference <= tolerance, (kwargs, shape, ties, difference)
            worst = max(worst, difference)
    return worst


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("layer_class", WINDOWED, ids=lambda c: c.__name__)
def test_windowed_pooling_matches_keras_for_every_padding_and_stride(layer_class, dtype):
    pytest.importorskip("keras")
    spatial = 1 if layer_class.__name__.endswith("1D") else 2
    compare_with_keras(layer_class, dtype, windowed_cases(spatial))


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("layer_class", GLOBAL, ids=lambda c: c.__name__)
def test_global_pooling_matches_keras_with_and_without_ties(layer_class, dtype):
    pytest.importorskip("keras")
    spatial = 1 if layer_class.__name__.endswith("1D") else 2
    cases = [({"keepdims": keepdims}, (3, *(4, 5)[:spatial], 2), ties)
             for keepdims in (False, True) for ties in (False, True)]
    compare_with_keras(layer_class, dtype, cases)


def test_keras_output_shapes_agree_symbolically():
    pytest.importorskip("keras")
    from comparisons.keras_env import keras

    for layer_class in WINDOWED:
        spatial = 1 if layer_class.__name__.endswith("1D") else 2
        for kwargs, shape, ties in windowed_cases(spatial):
            if ties:
                continue
            input_shape = (None, *shape[1:])
            ours = layer_class(**kwargs).compute_output_shape(input_shape)
            theirs = getattr(keras.layers, layer_class.__name__)(**kwargs).compute_output_shape(
                input_shape)
            assert ours == theirs, (layer_class.__name__, kwargs, shape)
