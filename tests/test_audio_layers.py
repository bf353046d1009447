"""STFTSpectrogram, MelSpectrogram and the STFT initializer beside Keras: the kernels, the
outputs and gradients of every mode, the mel filter bank bit for bit, shapes, configs,
errors and saved files."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import minired as mr
from minired import keras_numerics
from minired.gradcheck import check_layer
from minired.initializers.stft import get_window

MODES = ("log", "magnitude", "psd", "real", "imag", "angle", "stft")


@pytest.fixture
def keras_env():
    """``comparisons.keras_env``: ``keras`` and ``tf`` with TensorFlow quietened."""
    pytest.importorskip("keras")
    from comparisons import keras_env

    return keras_env


def relative(ours, theirs) -> float:
    """``max|ours − theirs| / max|theirs|``, the comparisons' measure."""
    theirs = np.asarray(theirs, dtype=np.float64)
    return float(np.max(np.abs(np.asarray(ours, np.float64) - theirs)) / np.max(np.abs(theirs)))


# -- a small reference test first: the kernels are a DFT ----------------------------------------

def test_stft_kernels_without_window_compute_numpys_rfft(float64):
    """``x W_re = Re rfft(x)`` and ``x W_im = Im rfft(x)`` for one frame of 8 samples."""
    x = np.random.default_rng(0).normal(size=8)
    real = mr.initializers.STFT("real", window=None)((8, 1, 5))[:, 0, :]
    imag = mr.initializers.STFT("imag", window=None)((8, 1, 5))[:, 0, :]
    np.testing.assert_allclose(x @ real, np.fft.rfft(x).real, atol=1e-14)
    np.testing.assert_allclose(x @ imag, np.fft.rfft(x).imag, atol=1e-14)


def test_windows_and_their_scaling():
    np.testing.assert_allclose(get_window("hann", 5), [0, 0.5, 1, 0.5, 0], atol=1e-16)
    np.testing.assert_allclose(get_window("hann", 4, periodic=True), [0, 0.5, 1, 0.5],
                               atol=1e-16)
    np.testing.assert_allclose(get_window("bartlett", 5), [0, 0.5, 1, 0.5, 0])
    np.testing.assert_array_equal(get_window("boxcar", 3), np.ones(3))
    w = get_window("hamming", 6)
    kernel = mr.initializers.STFT("real", "hamming", "density")((6, 1, 4), dtype="float64")
    np.testing.assert_allclose(kernel[:, 0, 0], w / np.sqrt(np.sum(w**2)), rtol=1e-15)
    kernel = mr.initializers.STFT("real", "hamming", "spectrum")((6, 1, 4), dtype="float64")
    np.testing.assert_allclose(kernel[:, 0, 0], w / np.sum(w), rtol=1e-15)


WINDOWS = ("hann", "hamming", "blackman", "boxcar", "bartlett", "han", "rect", None,
           np.linspace(0.1, 1.0, 7))


@pytest.mark.parametrize("window", WINDOWS, ids=lambda w: "array" if isinstance(w, np.ndarray)
                         else str(w))
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_stft_initializer_equals_keras(keras_env, window, dtype):
    keras = keras_env.keras
    shapes = [(7, 1, 5)] if isinstance(window, np.ndarray) else [(7, 1, 5), (8, 1, 9), (1, 1, 2)]
    for side, scaling, periodic, shape in itertools.product(
            ("real", "imag"), ("density", "spectrum", None), (False, True), shapes):
        ours = mr.initializers.STFT(side, window, scaling, periodic)(shape, dtype=dtype)
        theirs = np.asarray(keras.initializers.STFT(side, window, scaling, periodic)(
            shape, dtype=dtype))
        assert ours.dtype == theirs.dtype == np.dtype(dtype)
        # float32: NumPy's and TensorFlow's float32 cos/sin may differ in the last bit
        np.testing.assert_allclose(ours, theirs, rtol=0,
                                   atol=1e-6 if dtype == "float32" else 1e-15)


def test_stft_initializer_names_config_and_errors(keras_env):
    keras = keras_env.keras
    assert mr.initializers.stft is mr.initializers.STFT is mr.initializers.STFTInitializer
    for name in ("stft", "STFT", "STFTInitializer"):
        assert isinstance(mr.initializers.get(name), mr.initializers.STFT)
    init = mr.initializers.STFT("imag", "hamming", "spectrum", True)
    assert init.get_config() == keras.initializers.STFT("imag", "hamming", "spectrum",
                                                         True).get_config()
    assert mr.initializers.serialize(init) == keras.initializers.serialize(
        keras.initializers.STFT("imag", "hamming", "spectrum", True))
    back = mr.initializers.deserialize(mr.initializers.serialize(init))
    np.testing.assert_array_equal(back((4, 1, 3)), init((4, 1, 3)))
    with pytest.raises(ValueError, match="side should be 'real' or 'imag'"):
        mr.initializers.STFT("complex")
    with pytest.raises(ValueError, match="Unknown window type"):
        mr.initializers.STFT("real", "triangle-ish")
    with pytest.raises(ValueError, match="Scaling is invalid"):
        mr.initializers.STFT("real", "hann", "energy")
    with pytest.raises(ValueError, match=r"equal to \[frame_length\]"):
        mr.initializers.STFT("real", np.ones(3))((4, 1, 3))


# -- STFTSpectrogram ---------------------------------------------------------------------------

def _keras_vjp(keras_env, layer, x, seed=0):
    """Keras' outputs, and the tape's gradients of ``Σ a ⊙ δa`` for ``x`` and the weights."""
    tf = keras_env.tf
    tensor = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(tensor)
        out = layer(tensor)
        upstream = np.random.default_rng(seed).standard_normal(out.shape).astype(x.dtype)
        total = tf.reduce_sum(out * upstream)
    grads = tape.gradient(total, [tensor, *layer.trainable_variables])
    return out.numpy(), upstream, [g.numpy() for g in grads]


@pytest.mark.parametrize(("mode", "padding", "expand_dims"),
                         list(itertools.product(MODES, ("valid", "same"), (False, True))))
def test_stft_spectrogram_outputs_and_gradients_equal_keras(keras_env, mode, padding,
                                                             expand_dims):
    kwargs = dict(mode=mode, frame_length=6, frame_step=4, fft_length=8, padding=padding,
                  expand_dims=expand_dims, window="hamming", periodic=True)
    x = np.random.default_rng(1).standard_normal((2, 19, 3))
    with keras_env.precision("float64"):
        theirs, upstream, k_grads = _keras_vjp(keras_env,
                                               keras_env.keras.layers.STFTSpectrogram(**kwargs),
                                               x)
        layer = mr.layers.STFTSpectrogram(**kwargs)
        ours = layer(x)
        layer.zero_gradients()
        grad_x = layer.backward(upstream)
        grads = [grad_x, *layer.trainable_gradients]
    assert ours.shape == theirs.shape and len(grads) == len(k_grads)
    assert relative(ours, theirs) < 1e-12
    for g, k in zip(grads, k_grads, strict=True):
        assert relative(g, k) < 1e-12


def test_stft_spectrogram_float32_equals_keras(keras_env):
    kwargs = dict(mode="log", frame_length=16, frame_step=5, padding="same")
    x = np.random.default_rng(2).standard_normal((2, 50, 2)).astype("float32")
    theirs, upstream, k_grads = _keras_vjp(keras_env,
                                           keras_env.keras.layers.STFTSpectrogram(**kwargs), x)
    layer = mr.layers.STFTSpectrogram(**kwargs)
    ours = layer(x)
    layer.zero_gradients()
    grads = [layer.backward(upstream), *layer.trainable_gradients]
    assert ours.dtype == np.float32 and all(g.dtype == np.float32 for g in grads)
    assert relative(ours, theirs) < 1e-5
    for g, k in zip(grads, k_grads, strict=True):
        assert relative(g, k) < 1e-5


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("padding", ["valid", "same"])
def test_stft_spectrogram_gradient_check(float64, mode, padding):
    """With kernels moved off the DFT's: its imaginary kernel is 0 at the first and last
    frequency, where atan2(im, re) jumps by 2π when re < 0 (a branch cut, not a gradient)."""
    layer = mr.layers.STFTSpectrogram(mode=mode, frame_length=5, frame_step=3, fft_length=8,
                                      padding=padding)
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 11, 2))
    layer(x)
    layer.set_weights([w + rng.normal(0.0, 0.3, w.shape) for w in layer.get_weights()])
    for result in check_layer(layer, x):
        assert result.relative_error < 1e-6, str(result)


@pytest.mark.parametrize("expand_dims", [False, True])
@pytest.mark.parametrize("mode", ["log", "stft"])
def test_channels_first_is_channels_last_transposed(float64, mode, expand_dims):
    """Keras' TensorFlow backend cannot run this convolution channels first on a CPU; the
    same numbers, arranged as Keras' docstring says, are checked against channels last."""
    x = np.random.default_rng(4).standard_normal((2, 17, 3))
    kwargs = dict(mode=mode, frame_length=6, frame_step=3, expand_dims=expand_dims)
    last = mr.layers.STFTSpectrogram(data_format="channels_last", **kwargs)
    first = mr.layers.STFTSpectrogram(data_format="channels_first", **kwargs)
    a_last, a_first = last(x), first(x.transpose(0, 2, 1))
    if expand_dims:      # (N, frames, F, C) and (N, C, frames, F)
        np.testing.assert_array_equal(a_first, a_last.transpose(0, 3, 1, 2))
    else:                # (N, frames, C·F) and (N, C·F, frames)
        np.testing.assert_array_equal(a_first, a_last.transpose(0, 2, 1))
    upstream = np.random.default_rng(5).standard_normal(a_last.shape)
    last.zero_gradients()
    first.zero_gradients()
    grad_last = last.backward(upstream)
    grad_first = first.backward(upstream.transpose(0, 3, 1, 2) if expand_dims
                                else upstream.transpose(0, 2, 1))
    np.testing.assert_allclose(grad_first, grad_last.transpose(0, 2, 1), rtol=1e-13)
    for g_first, g_last in zip(first.gradients, last.gradients, strict=True):
        np.testing.assert_allclose(g_first, g_last, rtol=1e-13)
    results = check_layer(mr.layers.STFTSpectrogram(data_format="channels_first", **kwargs),
                          x.transpose(0, 2, 1))
    assert max(r.relative_error for r in results) < 1e-6


SHAPE_SETTINGS = [dict(mode=m, padding=p, expand_dims=e, data_format=f, frame_length=6,
                       frame_step=s)
                  for m, p, e, f, s in itertools.product(("log", "stft"), ("valid", "same"),
                                                         (False, True),
                                                         ("channels_last", "channels_first"),
                                                         (None, 4))]


@pytest.mark.parametrize("kwargs", SHAPE_SETTINGS)
def test_stft_spectrogram_output_shape_and_config_equal_keras(keras_env, kwargs):
    keras = keras_env.keras
    ours = mr.layers.STFTSpectrogram(name="s", **kwargs)
    theirs = keras.layers.STFTSpectrogram(name="s", **kwargs)
    for shape in ((2, 19, 3), (None, 20, 1), (None, None, 2)):
        if kwargs["data_format"] == "channels_first":
            shape = (shape[0], shape[2], shape[1])
        assert ours.compute_output_shape(shape) == tuple(theirs.compute_output_shape(shape))
    assert ours.get_config() == theirs.get_config()
    assert mr.layers.STFTSpectrogram.from_config(theirs.get_config()).get_config() == (
        ours.get_config())
    if kwargs["data_format"] == "channels_last":
        x = np.ones((2, 19, 3), dtype="float32")
        assert ours(x).shape == ours.compute_output_shape(x.shape)


def test_stft_spectrogram_weights_follow_the_mode_and_trainable(keras_env):
    keras = keras_env.keras
    x = np.ones((1, 16, 1), dtype="float32")
    for mode, count in (("real", 1), ("imag", 1), ("log", 2), ("angle", 2)):
        ours, theirs = mr.layers.STFTSpectrogram(mode, 8), keras.layers.STFTSpectrogram(mode, 8)
        ours(x)
        theirs(x)
        assert len(ours.weights) == len(theirs.weights) == count
        for w, k in zip(ours.get_weights(), theirs.get_weights(), strict=True):
            np.testing.assert_allclose(w, k, atol=1e-6)   # float32 cos/sin, see above
    frozen = mr.layers.STFTSpectrogram(frame_length=8, trainable=False)
    frozen(x)
    assert frozen.trainable_weights == [] and len(frozen.non_trainable_weights) == 2


@pytest.mark.parametrize(("make", "error", "message"), [
    (lambda: mr.layers.STFTSpectrogram(frame_length=8, frame_step=9), ValueError,
     "`frame_step` should be a positive integer not greater than `frame_length`"),
    (lambda: mr.layers.STFTSpectrogram(frame_length=8, frame_step=0), ValueError,
     "Received frame_step=0"),
    (lambda: mr.layers.STFTSpectrogram(frame_length=8, fft_length=4), ValueError,
     "`fft_length` should be not less than `frame_length`"),
    (lambda: mr.layers.STFTSpectrogram(mode="power"), ValueError, "Output mode is invalid"),
    (lambda: mr.layers.STFTSpectrogram(scaling="energy"), ValueError, "Scaling is invalid"),
    (lambda: mr.layers.STFTSpectrogram(padding="causal"), ValueError, "Padding is invalid"),
    (lambda: mr.layers.STFTSpectrogram(window="kaiser2"), ValueError, "Unknown window type"),
    (lambda: mr.layers.STFTSpectrogram(data_format="nwc"), ValueError, "data_format"),
])
def test_bad_stft_spectrogram_arguments_are_refused(make, error, message):
    with pytest.raises(error, match=message):
        make()


def test_stft_spectrogram_bad_inputs_and_warning():
    with pytest.warns(UserWarning, match="recommended to be a power of two"):
        mr.layers.STFTSpectrogram(frame_length=6, fft_length=12)
    layer = mr.layers.STFTSpectrogram(frame_length=4)
    with pytest.raises(TypeError, match="Expected `float16`, `float32` or `float64`"):
        layer(np.ones((1, 8, 1), dtype="int32"))
    with pytest.raises(ValueError, match="expected ndim=3"):
        layer(np.ones((1, 8), dtype="float32"))
    with pytest.raises(ValueError, match="need at least frame_length=4 samples, got 3"):
        layer(np.ones((1, 3, 1), dtype="float32"))      # (Keras returns a malformed array)
    assert mr.layers.STFTSpectrogram(frame_length=4, padding="same")(
        np.ones((1, 3, 1), dtype="float32")).shape == (1, 2, 3)


def test_stft_spectrogram_models_cross_load_with_keras(keras_env, tmp_path):
    keras = keras_env.keras
    x = np.random.default_rng(6).standard_normal((3, 40, 2)).astype("float32")
    model = mr.Sequential([mr.Input((40, 2)),
                           mr.layers.STFTSpectrogram("magnitude", 8, 4, window="hamming"),
                           mr.layers.Dense(2)])
    model.layers[0].real_kernel[...] *= 1.5             # a trained kernel travels too
    model.save(tmp_path / "ours.keras")
    theirs = keras.saving.load_model(tmp_path / "ours.keras")
    assert theirs.layers[0].get_config() == model.layers[0].get_config()
    np.testing.assert_allclose(theirs.predict(x, verbose=0), model.predict(x, verbose=0),
                               rtol=1e-5, atol=1e-6)
    keras_model = keras.Sequential([keras.Input((40, 2)),
                                    keras.layers.STFTSpectrogram("psd", 8, 4, padding="same"),
                                    keras.layers.Dense(2)])
    keras_model.save(tmp_path / "theirs.keras")
    loaded = mr.saving.load_model(tmp_path / "theirs.keras")
    assert loaded.layers[0].get_config() == keras_model.layers[0].get_config()
    np.testing.assert_allclose(loaded.predict(x, verbose=0), keras_model.predict(x, verbose=0),
                               rtol=1e-5, atol=1e-6)


# -- the mel scale -----------------------------------------------------------------------------

@pytest.mark.parametrize("size", [1, 3, 7, 8, 9, 17, 64, 1025])
def test_tensorflow_float32_log_is_bit_exact(keras_env, size):
    x = np.random.default_rng(size).uniform(0.01, 30.0, size).astype("float32")
    np.testing.assert_array_equal(keras_numerics.tensorflow_log_float32(x),
                                  keras_env.tf.math.log(x).numpy())


@pytest.mark.parametrize("args", [(10, 33, 8000, 20.0, 4000), (128, 1025, 16000, 20.0, 8000),
                                  (40, 257, 22050, 50.0, 11025), (6, 17, 4000, 100.0, 1800)])
def test_mel_weight_matrix_is_keras_bit_for_bit(keras_env, args):
    layer = keras_env.keras.layers.MelSpectrogram()
    theirs = layer.linear_to_mel_weight_matrix(*args).numpy()
    ours = mr.layers.MelSpectrogram().linear_to_mel_weight_matrix(*args)
    assert ours.dtype == theirs.dtype == np.float32
    np.testing.assert_array_equal(ours, theirs)


# -- MelSpectrogram ----------------------------------------------------------------------------

MEL_SETTINGS = [
    dict(fft_length=64, sequence_stride=16, num_mel_bins=10, sampling_rate=8000),
    dict(fft_length=32, sequence_stride=8, sequence_length=24, window="hamming", num_mel_bins=6,
         sampling_rate=4000, min_freq=100.0, max_freq=1800, mag_exp=1.0),
    dict(fft_length=16, sequence_stride=5, window=None, num_mel_bins=4, sampling_rate=16000,
         top_db=20.0, ref_power=0.5),
]


@pytest.mark.parametrize("shape", [(2, 300), (301,)])
@pytest.mark.parametrize("kwargs", MEL_SETTINGS)
def test_mel_spectrogram_float64_equals_keras(keras_env, kwargs, shape):
    """float64 without decibels: Keras' decibel step fails in float64 (it subtracts a float32
    constant from a float64 tensor), so the decibels are checked in float32 below."""
    x = np.random.default_rng(7).standard_normal(shape)
    with keras_env.precision("float64"):
        theirs, upstream, (k_grad,) = _keras_vjp(
            keras_env, keras_env.keras.layers.MelSpectrogram(power_to_db=False, **kwargs), x)
        layer = mr.layers.MelSpectrogram(power_to_db=False, **kwargs)
        ours = layer(x)
        grad = layer.backward(upstream)
    assert ours.shape == theirs.shape and ours.dtype == np.float64
    assert relative(ours, theirs) < 1e-13
    assert relative(grad, k_grad) < 1e-13


@pytest.mark.parametrize("power_to_db", [True, False])
@pytest.mark.parametrize("kwargs", MEL_SETTINGS)
def test_mel_spectrogram_float32_equals_keras(keras_env, kwargs, power_to_db):
    x = np.random.default_rng(8).standard_normal((2, 300)).astype("float32")
    theirs, upstream, (k_grad,) = _keras_vjp(
        keras_env, keras_env.keras.layers.MelSpectrogram(power_to_db=power_to_db, **kwargs), x)
    layer = mr.layers.MelSpectrogram(power_to_db=power_to_db, **kwargs)
    ours = layer(x)
    grad = layer.backward(upstream)
    assert ours.dtype == grad.dtype == np.float32
    assert relative(ours, theirs) < 1e-5
    assert relative(grad, k_grad) < 1e-5


def test_top_db_clips_and_sends_the_rest_to_the_largest_value(float64):
    """Keras' ``max(D, max(D) − top_db)``: the clipped entries' gradient goes to max(D)."""
    layer = mr.layers.MelSpectrogram(fft_length=16, sequence_stride=4, num_mel_bins=4,
                                     top_db=10.0, sampling_rate=8000)
    x = np.sin(np.arange(64) * 0.7)[None] * np.linspace(0.01, 1.0, 64)
    out = layer(x)
    assert np.isclose(out.min(), out.max() - 10.0) and np.sum(out == out.min()) > 1
    clipped = out == out.min()
    top = np.unravel_index(np.argmax(out), out.shape)
    grad_db = np.zeros_like(out)           # δa = 1 on the clipped entries only: all of it
    grad_db[clipped] = 1.0                 # reaches the decibels through max(D)
    grad = layer.backward(grad_db)
    spread = np.zeros_like(out)
    spread[top] = clipped.sum()            # the same δ, given to max(D) directly
    np.testing.assert_allclose(grad, layer.backward(spread), rtol=1e-12, atol=1e-15)
    for result in check_layer(layer, x):
        assert result.relative_error < 1e-6, str(result)


@pytest.mark.parametrize("kwargs", [dict(MEL_SETTINGS[0], power_to_db=False),
                                    dict(MEL_SETTINGS[1]), dict(MEL_SETTINGS[2])])
def test_mel_spectrogram_gradient_check(float64, kwargs):
    layer = mr.layers.MelSpectrogram(**kwargs)
    for x in (np.random.default_rng(9).standard_normal((2, 90)),
              np.random.default_rng(10).standard_normal(91)):
        for result in check_layer(layer, x):
            assert result.relative_error < 1e-6, str(result)


def test_mel_spectrogram_decibels_in_float64(float64):
    """Where Keras fails, minired applies the decibel formula to the float64 power."""
    kwargs = dict(fft_length=32, sequence_stride=8, num_mel_bins=6, top_db=30.0,
                  ref_power=2.0, min_power=1e-3)
    x = np.random.default_rng(11).standard_normal((2, 100))
    power = mr.layers.MelSpectrogram(power_to_db=False, **kwargs)(x)
    db = 10 * np.log10(np.maximum(power, 1e-3)) - 10 * np.log10(2.0)
    np.testing.assert_allclose(mr.layers.MelSpectrogram(**kwargs)(x),
                               np.maximum(db, db.max() - 30.0), rtol=1e-13)


@pytest.mark.parametrize("kwargs", [{}, dict(MEL_SETTINGS[1]), dict(fft_length=64,
                                                                   max_freq=None)])
def test_mel_spectrogram_config_and_shapes_equal_keras(keras_env, kwargs):
    keras = keras_env.keras
    ours = mr.layers.MelSpectrogram(name="mel", **kwargs)
    theirs = keras.layers.MelSpectrogram(name="mel", **kwargs)
    assert ours.get_config() == theirs.get_config()
    assert mr.layers.MelSpectrogram.from_config(theirs.get_config()).get_config() == (
        ours.get_config())
    for shape in ((3, 4000), (4001,), (None, 5000), (None, None)):
        assert ours.compute_output_shape(shape) == tuple(theirs.compute_output_shape(shape))


def test_mel_spectrogram_errors_and_integer_signals():
    with pytest.raises(ValueError, match="`fft_length` must be greater than or equal to"):
        mr.layers.MelSpectrogram(fft_length=16, sequence_length=32)
    layer = mr.layers.MelSpectrogram(fft_length=16, sequence_stride=8, num_mel_bins=4)
    with pytest.raises(ValueError, match="longer than fft_length // 2 = 8"):
        layer(np.ones((1, 8), dtype="float32"))
    with pytest.raises(ValueError, match=r"\(samples,\) or a batch"):
        layer(np.ones((1, 2, 40), dtype="float32"))
    ints = np.arange(40, dtype="int32")[None]            # converted to floats, as Keras
    np.testing.assert_array_equal(layer(ints), layer(ints.astype("float32")))


def test_mel_spectrogram_models_cross_load_with_keras(keras_env, tmp_path):
    keras = keras_env.keras
    x = np.random.default_rng(12).standard_normal((3, 400)).astype("float32")
    model = mr.Sequential([mr.Input((400,)),
                           mr.layers.MelSpectrogram(fft_length=64, sequence_stride=16,
                                                    num_mel_bins=8),
                           mr.layers.Flatten(), mr.layers.Dense(2)])
    assert model.output_shape == (None, 2)
    model.save(tmp_path / "ours.keras")
    theirs = keras.saving.load_model(tmp_path / "ours.keras")
    # decibels of order 10: float32 rounding of values that large
    np.testing.assert_allclose(theirs.predict(x, verbose=0), model.predict(x, verbose=0),
                               rtol=1e-5, atol=1e-4)
    keras_model = keras.Sequential([keras.Input((400,)),
                                    keras.layers.MelSpectrogram(fft_length=64,
                                                                sequence_stride=16,
                                                                num_mel_bins=8),
                                    keras.layers.Flatten(), keras.layers.Dense(2)])
    keras_model.save(tmp_path / "theirs.keras")
    loaded = mr.saving.load_model(tmp_path / "theirs.keras")
    assert loaded.layers[0].get_config() == keras_model.layers[0].get_config()
    np.testing.assert_allclose(loaded.predict(x, verbose=0), keras_model.predict(x, verbose=0),
                               rtol=1e-5, atol=1e-4)
