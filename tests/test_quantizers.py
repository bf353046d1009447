"""mr.quantizers beside keras.quantizers: the same integers bit for bit, the same floats to
the last bit (float32 and float64), the same fake-quant gradients, configs and errors."""

from __future__ import annotations

import json

import numpy as np
import pytest

import minired as mr
from minired.autodiff import GradientTape
from minired.gradcheck import compare, numerical_gradient
from minired.quantizers.fake_quant import nudge

Q = mr.quantizers
DTYPES = ["float32", "float64"]


@pytest.fixture(scope="module")
def kq():
    """``keras.quantizers`` (TensorFlow backend, quietened) and ``tf``."""
    pytest.importorskip("keras")
    from comparisons.keras_env import keras, tf

    return keras.quantizers, tf


def same(ours, theirs) -> None:
    """Bit for bit: same dtype, same shape, same values (NaN where NaN)."""
    theirs = np.asarray(theirs)
    assert ours.dtype == theirs.dtype, (ours.dtype, theirs.dtype)
    np.testing.assert_array_equal(ours, theirs, strict=True)


def edge_array(rng, shape, dtype, scale=3.0):
    """Random values with zeros, halves (rounding ties) and a repeated maximum."""
    x = rng.normal(size=shape) * scale
    x.flat[:: 5] = 0.0
    x.flat[1:: 7] = np.round(x.flat[1:: 7]) + 0.5
    x.flat[2:: 11] = -x.flat[3:: 11][: len(x.flat[2:: 11])] if x.size > 3 else 0.0
    return x.astype(dtype)


# -- a reference test anyone can read --------------------------------------------------------

def test_abs_max_by_hand():
    # s = 127 / (2 + 1e-7) in float32 is 63.5; 1.0 · s = 63.5 rounds to the even 64
    q, s = Q.abs_max_quantize(np.array([[1.0, -2.0, 0.5]], "float32"), axis=-1)
    assert s.tolist() == [[63.5]] and q.tolist() == [[64, -127, 32]] and q.dtype == np.int8


# -- abs_max_quantize ------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("to_numpy", [False, True])
def test_abs_max_quantize_matches_keras(kq, dtype, to_numpy):
    keras_q, _ = kq
    rng = np.random.default_rng(0)
    x = edge_array(rng, (4, 6, 5), dtype)
    x[1] = 0.0                                         # an all-zero slice
    cases = [dict(axis=-1), dict(axis=0), dict(axis=(0, 2)), dict(axis=None),
             dict(axis=1, value_range=(-8, 7)), dict(axis=-2, value_range=(0, 255),
                                                      dtype="int32"),
             dict(axis=-1, epsilon=0.0 + 1e-3)]
    for kwargs in cases:
        ours = Q.abs_max_quantize(x, to_numpy=to_numpy, **kwargs)
        theirs = keras_q.abs_max_quantize(x, to_numpy=to_numpy, **kwargs)
        for a, b in zip(ours, theirs, strict=True):
            same(a, b)


@pytest.mark.parametrize("dtype", DTYPES)
def test_abs_max_quantize_rounds_ties_to_even_as_keras(kq, dtype):
    keras_q, _ = kq
    # epsilon 0 and max 127: s = 1 exactly, so the halves stay ties
    x = np.array([[127.0, 0.5, 1.5, 2.5, -2.5, -0.5, 126.5, -127.0]], dtype)
    q, s = Q.abs_max_quantize(x, -1, epsilon=0.0)
    assert q.tolist() == [[127, 0, 2, 2, -2, 0, 126, -127]]
    for a, b in zip((q, s), keras_q.abs_max_quantize(x, -1, epsilon=0.0), strict=True):
        same(a, b)


def test_abs_max_quantize_of_integers_casts_the_scale_as_keras(kq):
    keras_q, _ = kq
    x = np.array([[1, -3, 2], [0, 0, 0]], "int32")
    for a, b in zip(Q.abs_max_quantize(x, -1), keras_q.abs_max_quantize(x, -1), strict=True):
        same(a, b)


# -- grouped, with zero point ----------------------------------------------------------------

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("to_numpy", [False, True])
def test_grouped_quantize_matches_keras(kq, dtype, to_numpy):
    keras_q, _ = kq
    rng = np.random.default_rng(1)
    for shape, block, value_range in [((8, 5), 4, (-8, 7)), ((7, 3), 2, (-8, 7)),
                                      ((5, 3), 8, (-8, 7)), ((9, 4), 3, (-128, 127)),
                                      ((6, 2), 4, (-7, 7)), ((4, 3), 4, (-8, 7))]:
        x = edge_array(rng, shape, dtype) + dtype_shift(rng, dtype)
        x[:, 0] = 0.0                                  # a flat (all-zero) column
        x[: min(block, shape[0]), 1] = 1.25            # a flat, non-zero group
        ours = Q.abs_max_quantize_grouped_with_zero_point(x, block, value_range,
                                                          to_numpy=to_numpy)
        theirs = keras_q.abs_max_quantize_grouped_with_zero_point(x, block, value_range,
                                                                  to_numpy=to_numpy)
        for a, b in zip(ours, theirs, strict=True):
            same(a, b)


def dtype_shift(rng, dtype):
    """A positive offset, so that some groups do not contain 0."""
    return np.asarray(rng.uniform(0, 4), dtype)


def test_grouped_quantize_refuses_a_non_2d_kernel():
    with pytest.raises(ValueError, match="2-D"):
        Q.abs_max_quantize_grouped_with_zero_point(np.zeros((2, 3, 4)), 2)


# -- int4 packing ----------------------------------------------------------------------------

@pytest.mark.parametrize(("shape", "axis"), [((3, 2), 0), ((2, 3), 1), ((5, 4, 3), -1),
                                             ((4, 7, 2), 1), ((6, 3), 0)])
@pytest.mark.parametrize("dtype", ["int8", "uint8"])
def test_pack_and_unpack_int4_match_keras(kq, shape, axis, dtype):
    keras_q, _ = kq
    rng = np.random.default_rng(2)
    low, high = (-8, 8) if dtype == "int8" else (0, 16)
    arr = rng.integers(low, high, size=shape).astype(dtype)
    packed, packed_shape, n = Q.pack_int4(arr, axis=axis, dtype=dtype)
    k_packed, k_shape, k_n = keras_q.pack_int4(arr, axis=axis, dtype=dtype)
    same(packed, k_packed)
    assert (packed_shape, n) == (k_shape, k_n)
    unpacked = Q.unpack_int4(packed, n, axis=axis, dtype=dtype)
    same(unpacked, keras_q.unpack_int4(k_packed, n, axis=axis, dtype=dtype))
    same(unpacked, arr)


def test_packing_errors_name_the_problem():
    with pytest.raises(ValueError, match="'int8' or 'uint8'"):
        Q.pack_int4(np.zeros(2, "int8"), dtype="int16")
    with pytest.raises(TypeError, match="int8 tensor for packing, got int32"):
        Q.pack_int4(np.zeros(2, "int32"))
    with pytest.raises(TypeError, match="int8 or uint8"):
        Q.unpack_int4(np.zeros(2, "int32"), 4)


# -- fake quantization: forward --------------------------------------------------------------

def tie_values(low, high, num_bits, narrow, per_channel=False):
    """Values at the midpoints between levels, one ulp either side, the nudged bounds and
    beyond: where a division and a product by the inverse disagree."""
    qmin = 1 if narrow else 0
    nmin, nmax, s, _ = nudge(np.float32(low), np.float32(high), qmin, (1 << num_bits) - 1)
    k = np.arange(0, (1 << num_bits) - qmin, dtype=np.float32)[:200]
    mid = (nmin + (k + np.float32(0.5)) * s).astype(np.float32)
    return np.concatenate([mid, np.nextafter(mid, np.float32(np.inf)),
                           np.nextafter(mid, np.float32(-np.inf)),
                           [nmin, nmax, nmin - 1, nmax + 1, 0.0]]).astype(np.float32)


FAKE_QUANT_RANGES = [(-1.0, 1.0, 8, False), (-0.5, 2.5, 2, False), (0.3957, 3.516, 6, False),
                     (-3.2, -0.1, 4, True), (-2.0, 5.0, 16, False), (0.0, 0.0, 8, False),
                     (-1.7, 0.9, 3, True)]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(("low", "high", "num_bits", "narrow"), FAKE_QUANT_RANGES)
def test_fake_quant_per_tensor_matches_keras_at_the_ties(kq, dtype, low, high, num_bits,
                                                         narrow):
    keras_q, _ = kq
    x = tie_values(low, high, num_bits, narrow).astype(dtype)
    ours = Q.fake_quant_with_min_max_vars(x, low, high, num_bits, narrow)
    same(ours, keras_q.fake_quant_with_min_max_vars(x, low, high, num_bits, narrow))


@pytest.mark.parametrize(("low", "high"), [(1.0, -1.0), (0.5, 0.5), (0.0, 1e-30),
                                           (-1e30, 1e30), (2.0, 3.0)])
def test_fake_quant_odd_ranges_and_non_finite_inputs_match_keras(kq, low, high):
    keras_q, _ = kq
    # an inverted range, an empty one (NaN out), a tiny one, a huge one, one above 0
    x = np.float32([-2, -0.5, 0, 0.3, 1, 2.5, np.inf, -np.inf, np.nan])
    same(Q.fake_quant_with_min_max_vars(x, low, high),
         keras_q.fake_quant_with_min_max_vars(x, low, high))


def test_zero_point_rounds_half_away_from_zero_as_tensorflow(kq):
    # min = -0.5, max = 2.5, 2 bits: s = 1, zero point 0.5 rounds to 1 (half-even gives 0)
    assert nudge(np.float32(-0.5), np.float32(2.5), 0, 3)[0] == -1.0
    test_fake_quant_per_tensor_matches_keras_at_the_ties(kq, "float32", -0.5, 2.5, 2, False)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("axis", [0, 1, -1])
def test_fake_quant_per_channel_matches_keras_at_the_ties(kq, dtype, axis):
    keras_q, _ = kq
    ranges = FAKE_QUANT_RANGES[:4]
    columns = [tie_values(lo, hi, 6, narrow=False)[:120] for lo, hi, _, _ in ranges]
    x = np.stack(columns, axis=-1)                         # (120, 4)
    x = np.stack([x, x[::-1]], axis=1)                     # (120, 2, 4): channels last
    x = np.moveaxis(x, -1, axis).astype(dtype)
    low = np.array([r[0] for r in ranges], dtype)
    high = np.array([r[1] for r in ranges], dtype)
    ours = Q.fake_quant_with_min_max_vars(x, low, high, 6, axis=axis)
    same(ours, keras_q.fake_quant_with_min_max_vars(x, low, high, 6, axis=axis))


def test_fake_quant_errors_name_the_argument():
    x = np.zeros((3, 2), "float32")
    with pytest.raises(ValueError, match="num_bits"):
        Q.fake_quant_with_min_max_vars(x, -1.0, 1.0, num_bits=1)
    with pytest.raises(ValueError, match="min_vals.*shape"):
        Q.fake_quant_with_min_max_vars(x, np.zeros(3), np.ones(2), axis=-1)
    with pytest.raises(ValueError, match="one value"):
        Q.fake_quant_with_min_max_vars(x, np.zeros(2), 1.0)


# -- fake quantization: gradients ------------------------------------------------------------

def keras_fake_quant_gradients(kq, x, low, high, upstream, axis, num_bits=8):
    keras_q, tf = kq
    x, low, high = tf.constant(x), tf.constant(low), tf.constant(high)
    with tf.GradientTape() as tape:
        tape.watch([x, low, high])
        y = keras_q.fake_quant_with_min_max_vars(x, low, high, num_bits, axis=axis)
    return [g.numpy() for g in tape.gradient(y, [x, low, high],
                                             output_gradients=tf.constant(upstream))]


def tape_gradients(x, low, high, upstream, axis, num_bits=8):
    with GradientTape() as tape:
        x, low, high = tape.watch(x), tape.watch(low), tape.watch(high)
        y = Q.fake_quant_with_min_max_vars(x, low, high, num_bits, axis=axis)
    return tape.gradient(y, [x, low, high], output_gradient=upstream)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n", [13, 1000, 20000])
def test_fake_quant_per_tensor_gradients_match_keras(kq, dtype, n):
    rng = np.random.default_rng(n)
    low, high = np.array(-1.3, dtype), np.array(2.1, dtype)
    x = rng.uniform(-3, 4, n).astype(dtype)
    nmin, nmax, _, _ = nudge(np.float32(low), np.float32(high), 0, 255)
    x[:4] = [nmin, nmax, 0.0, nmin]                     # at the bounds: inside, not clipped
    upstream = rng.normal(size=n).astype(dtype)
    ours = tape_gradients(x, low, high, upstream, None)
    for a, b in zip(ours, keras_fake_quant_gradients(kq, x, low, high, upstream, None),
                    strict=True):
        same(a, b)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("axis", [0, -1])
def test_fake_quant_per_channel_gradients_match_keras(kq, dtype, axis):
    rng = np.random.default_rng(5)
    x = rng.uniform(-3, 3, (300, 7, 3)).astype(dtype)
    channels = x.shape[axis]
    low = rng.uniform(-2, 0, channels).astype(dtype)
    high = rng.uniform(0.5, 2, channels).astype(dtype)
    low[0] = high[0] = 0.0                              # min = max = 0: all of δ to x
    upstream = rng.normal(size=x.shape).astype(dtype)
    ours = tape_gradients(x, low, high, upstream, axis, num_bits=5)
    theirs = keras_fake_quant_gradients(kq, x, low, high, upstream, axis, num_bits=5)
    for a, b in zip(ours, theirs, strict=True):
        same(a, b)


@pytest.mark.parametrize("axis", [None, 1])
def test_fake_quant_gradient_is_the_straight_through_estimator(axis):
    """Float64 check: the backward pass is the exact gradient of ``clip(x, a, b)`` at the
    nudged bounds ``a``, ``b`` (the estimator's definition), by central differences."""
    rng = np.random.default_rng(7)
    x = rng.uniform(-3, 3, (6, 4))
    if axis is None:
        low, high = np.array(-1.0), np.array(1.5)
    else:
        low, high = rng.uniform(-2, -0.5, 4), rng.uniform(0.5, 2, 4)
    a, b, _, _ = nudge(low.astype(np.float32), high.astype(np.float32), 0, 255)
    a, b = np.array(a, dtype=np.float64), np.array(b, dtype=np.float64)
    # stay clear of the kinks, where a central difference straddles two pieces
    x = np.where(np.abs(x - a) < 1e-3, x + 0.01, x)
    x = np.where(np.abs(x - b) < 1e-3, x - 0.01, x)
    # an upstream δ that float32 holds exactly (the kernel computes in float32)
    upstream = rng.normal(size=x.shape).astype(np.float32).astype(np.float64)
    dx, dmin, dmax = tape_gradients(x, low, high, upstream, axis)

    def surrogate():
        return float(np.sum(np.clip(x, a, b) * upstream))

    results = [compare("x", dx, numerical_gradient(surrogate, x)),
               compare("min", dmin, numerical_gradient(surrogate, a)),
               compare("max", dmax, numerical_gradient(surrogate, b))]
    # 1e-5: the sums of δ for min and max are float32 sums, as in TensorFlow's kernel
    assert max(r.relative_error for r in results) < 1e-5, [str(r) for r in results]
    assert dx.dtype == np.float64 and dmin.shape == low.shape


# -- float8 ----------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", ["float8_e4m3fn", "float8_e5m2"])
def test_quantize_and_dequantize_matches_keras(kq, dtype, name):
    keras_q, _ = kq
    import ml_dtypes

    rng = np.random.default_rng(3)
    grid = np.array(sorted(set(np.arange(256, dtype=np.uint8).view(getattr(ml_dtypes, name))
                               .astype(np.float64).tolist())))
    grid = grid[np.isfinite(grid)]
    mids = (grid[1:] + grid[:-1]) / 2                   # every tie between float8 neighbours
    x = np.concatenate([mids, np.nextafter(mids, np.inf), grid,
                        rng.normal(size=200) * 1e3, [1e6, -1e6, np.inf, -np.inf]])
    for scale in (1.0, 0.37, 8.0):
        xs = (x * scale).astype(dtype)
        s = np.asarray(scale, dtype)
        same(Q.quantize_and_dequantize(xs, s, name, dtype),
             keras_q.quantize_and_dequantize(xs, s, name, dtype))


def test_float64_rounds_to_float8_once(kq):
    keras_q, _ = kq
    x = np.array([1.0625 + 2**-30, 1.0625 - 2**-30])       # float32 would make both ties
    ours = Q.quantize_and_dequantize(x, np.float64(1.0), "float8_e4m3fn", "float64")
    assert ours.tolist() == [1.125, 1.0]
    same(ours, keras_q.quantize_and_dequantize(x, np.float64(1.0), "float8_e4m3fn",
                                                "float64"))


@pytest.mark.parametrize("margin", [0, 3])
def test_compute_float8_scale_and_history_match_keras(kq, margin):
    keras_q, _ = kq
    scale = np.float32(0.7)
    for amax in (np.float32(896.0), np.float32(3.3e-3), np.float32(0.0), np.float32(np.inf),
                 np.float32(np.nan), np.float32(-2.0)):
        same(np.asarray(Q.compute_float8_scale(amax, scale, 448.0, margin)),
             keras_q.compute_float8_scale(amax, scale, 448.0, margin))
    history = np.float32([1.0, 2.0, 4.0, 8.0])
    x = np.float32([[-3.5, 2.0], [0.25, 1.0]])
    same(Q.compute_float8_amax_history(x, history),
         keras_q.compute_float8_amax_history(x, history))


# -- quantizers, configs, get/serialize ------------------------------------------------------

def as_json(value):
    return json.loads(json.dumps(value))


def configs(module):
    return [module.AbsMaxQuantizer(), module.AbsMaxQuantizer(axis=(0, 1), value_range=(-8, 7)),
            module.Int8QuantizationConfig(),
            module.Int8QuantizationConfig(module.AbsMaxQuantizer(axis=0), None),
            module.Int4QuantizationConfig(), module.Int4QuantizationConfig(block_size=32),
            module.Int4QuantizationConfig(module.AbsMaxQuantizer(value_range=(-8, 7)),
                                          block_size=None),
            module.Float8QuantizationConfig(),
            module.GPTQConfig(None, None, weight_bits=3, group_size=-1, symmetric=True),
            module.AWQConfig(None, None, num_grid_points=5, group_size=64)]


def test_configs_serialize_as_keras_and_load_both_ways(kq):
    keras_q, _ = kq
    from comparisons.keras_env import keras

    for ours, theirs in zip(configs(Q), configs(keras_q), strict=True):
        written = as_json(Q.serialize(ours))
        assert written == as_json(keras_q.serialize(theirs))
        try:
            # (keras.quantizers.deserialize returns the string "GPTQConfig" for a GPTQConfig,
            # missing from its list of objects; Keras' general deserializer reads it)
            reloaded = keras.saving.deserialize_keras_object(written)
        except ValueError:
            # Keras cannot read its own file back here: Int4QuantizationConfig compares the
            # quantizer's value_range, a list after JSON, with the tuple (-8, 7)
            assert isinstance(ours, Q.Int4QuantizationConfig)
            with pytest.raises(ValueError, match="value_range"):
                keras_q.deserialize(as_json(keras_q.serialize(theirs)))
        else:
            assert as_json(keras_q.serialize(reloaded)) == written
        assert as_json(Q.serialize(Q.deserialize(as_json(keras_q.serialize(theirs))))) \
            == written
        if hasattr(ours, "mode"):
            assert ours.mode == theirs.mode


def test_quantizer_calls_match_keras(kq):
    keras_q, _ = kq
    x = edge_array(np.random.default_rng(4), (5, 6), "float32")
    for make in (lambda m: m.AbsMaxQuantizer(), lambda m: m.AbsMaxQuantizer(axis=0),
                 lambda m: m.AbsMaxQuantizer(value_range=(-8, 7), epsilon=1e-3)):
        for a, b in zip(make(Q)(x), make(keras_q)(x), strict=True):
            same(a, b)
    same(Q.AbsMaxQuantizer()(x, axis=0)[0], keras_q.AbsMaxQuantizer()(x, axis=0)[0])
    assert Q.Quantizer()(x) is x
    with pytest.raises(NotImplementedError):
        Q.Quantizer().get_config()


BAD_ARGUMENTS = [
    lambda m: m.AbsMaxQuantizer(value_range=(-129, 127)),
    lambda m: m.Int8QuantizationConfig(m.AbsMaxQuantizer(output_dtype="int16")),
    lambda m: m.Int4QuantizationConfig(block_size=0),
    lambda m: m.Int4QuantizationConfig(m.AbsMaxQuantizer(value_range=(-8, 7))),
    lambda m: m.Int4QuantizationConfig(m.AbsMaxQuantizer(), block_size=-1),
    lambda m: m.GPTQConfig(None, None, weight_bits=5),
    lambda m: m.GPTQConfig(None, None, hessian_damping=1.5),
    lambda m: m.GPTQConfig(None, None, group_size=0),
    lambda m: m.GPTQConfig(None, None, num_samples=0),
    lambda m: m.AWQConfig(None, None, weight_bits=8),
    lambda m: m.AWQConfig(None, None, num_grid_points=0),
    lambda m: m.AWQConfig(None, None, sequence_length=-1),
]


@pytest.mark.parametrize("make", BAD_ARGUMENTS)
def test_bad_arguments_raise_as_in_keras(kq, make):
    keras_q, _ = kq
    with pytest.raises(ValueError) as theirs:
        make(keras_q)
    with pytest.raises(ValueError) as ours:
        make(Q)
    assert str(ours.value) == str(theirs.value)


def test_get_and_the_top_level_name(kq):
    keras_q, _ = kq
    assert mr.Quantizer is Q.Quantizer
    assert Q.get(None) is None
    for name in ("abs_max_quantizer", "AbsMaxQuantizer"):
        assert type(Q.get(name)).__name__ == "AbsMaxQuantizer"
    assert Q.get("AbsMaxQuantizer", axis=1).axis == (1,)
    quantizer = Q.AbsMaxQuantizer()
    assert Q.get(quantizer) is quantizer
    assert Q.get(as_json(keras_q.serialize(keras_q.AbsMaxQuantizer(axis=0)))).axis == (0,)
    for bad in (Q.Int8QuantizationConfig(), "GPTQConfig", "no_such_quantizer"):
        with pytest.raises(ValueError, match="Could not interpret quantizer identifier"):
            Q.get(bad)
