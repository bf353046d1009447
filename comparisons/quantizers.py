"""Quantizers: the same integers, levels and gradients in minired and Keras.

- ``values``: ``abs_max_quantize`` (scales and int8 values, several axes),
  ``abs_max_quantize_grouped_with_zero_point`` (int4 groups), int4 packing,
  ``fake_quant_with_min_max_vars`` per tensor and per channel, and float8
  ``quantize_and_dequantize``, on the same random arrays.
- ``fake_quant_gradients``: the straight-through gradients of fake quantization with
  respect to the input, ``min`` and ``max``, through each library's gradient tape.
- ``fake_quant_training``: quantization-aware calibration: ``min`` and ``max`` of a 4-bit
  fake quantizer trained by gradient descent to reproduce a signal, step by step. The
  ranges agree bit for bit; the reported mean squared errors can differ in the last bit
  (``mr.ops.mean`` adds in NumPy's order, TensorFlow in Eigen's).
"""

from __future__ import annotations

import numpy as np

from comparisons.keras_env import keras, mr, precision, tf
from comparisons.registry import Outcome, case


def _arrays(dtype: str):
    rng = np.random.default_rng(0)
    x = (rng.normal(size=(16, 12)) * 2.5).astype(dtype)
    x[3] = 0.0                                        # an all-zero row
    return x


@case("quantizers", "values", kind="step")
def values(dtype: str) -> Outcome:
    """abs-max int8 and grouped int4 quantization, int4 packing, fake quantization and
    float8 rounding give the same arrays."""
    pairs = []
    with precision(dtype):
        x = _arrays(dtype)
        for axis in (-1, 0, None):
            ours = mr.quantizers.abs_max_quantize(x, axis)
            theirs = keras.quantizers.abs_max_quantize(x, axis)
            pairs += [(f"abs_max axis={axis} q", ours[0], theirs[0]),
                      (f"abs_max axis={axis} scale", ours[1], theirs[1])]
        for block in (4, 5):
            ours = mr.quantizers.abs_max_quantize_grouped_with_zero_point(x, block)
            theirs = keras.quantizers.abs_max_quantize_grouped_with_zero_point(x, block)
            for label, a, b in zip(("q", "scale", "zero"), ours, theirs, strict=True):
                pairs.append((f"grouped block={block} {label}", a, b))
        q = ours[0]
        packed = mr.quantizers.pack_int4(q, axis=1)[0]
        pairs.append(("pack_int4", packed, keras.quantizers.pack_int4(q, axis=1)[0]))
        pairs.append(("fake_quant per tensor",
                      mr.quantizers.fake_quant_with_min_max_vars(x, -2.0, 3.0, 5),
                      keras.quantizers.fake_quant_with_min_max_vars(x, -2.0, 3.0, 5)))
        low, high = np.linspace(-3, -0.5, 12).astype(dtype), np.linspace(0.2, 4, 12).astype(dtype)
        pairs.append(("fake_quant per channel",
                      mr.quantizers.fake_quant_with_min_max_vars(x, low, high, 4, axis=1),
                      keras.quantizers.fake_quant_with_min_max_vars(x, low, high, 4, axis=1)))
        scale = np.asarray(0.01, dtype)
        for name in ("float8_e4m3fn", "float8_e5m2"):
            pairs.append((f"quantize_and_dequantize {name}",
                          mr.quantizers.quantize_and_dequantize(x, scale, name, dtype),
                          keras.quantizers.quantize_and_dequantize(x, scale, name, dtype)))
    return Outcome([(label, a, np.asarray(b)) for label, a, b in pairs])


def _keras_gradients(x, low, high, upstream, axis):
    x, low, high = tf.constant(x), tf.constant(low), tf.constant(high)
    with tf.GradientTape() as tape:
        tape.watch([x, low, high])
        y = keras.quantizers.fake_quant_with_min_max_vars(x, low, high, 6, axis=axis)
    return [g.numpy() for g in tape.gradient(y, [x, low, high],
                                             output_gradients=tf.constant(upstream))]


def _minired_gradients(x, low, high, upstream, axis):
    with mr.autodiff.GradientTape() as tape:
        x, low, high = tape.watch(x), tape.watch(low), tape.watch(high)
        y = mr.quantizers.fake_quant_with_min_max_vars(x, low, high, 6, axis=axis)
    return tape.gradient(y, [x, low, high], output_gradient=upstream)


@case("quantizers", "fake_quant_gradients", kind="step")
def fake_quant_gradients(dtype: str) -> Outcome:
    """Straight-through gradients of fake quantization (input, min, max), per tensor and
    per channel, from each library's tape."""
    rng = np.random.default_rng(1)
    pairs = []
    with precision(dtype):
        x = (rng.normal(size=(64, 6)) * 2).astype(dtype)
        upstream = rng.normal(size=x.shape).astype(dtype)
        settings = [(None, np.asarray(-1.5, dtype), np.asarray(2.0, dtype)),
                    (1, np.linspace(-2, -0.5, 6).astype(dtype), np.linspace(0.5, 3, 6)
                     .astype(dtype))]
        for axis, low, high in settings:
            ours = _minired_gradients(x, low, high, upstream, axis)
            theirs = _keras_gradients(x, low, high, upstream, axis)
            for label, a, b in zip(("x", "min", "max"), ours, theirs, strict=True):
                pairs.append((f"axis={axis} ∂L/∂{label}", a, b))
    return Outcome(pairs)


@case("quantizers", "fake_quant_training", kind="training")
def fake_quant_training(dtype: str, steps: int = 15) -> Outcome:
    """A 4-bit range [min, max] trained by gradient descent on
    mean((fake_quant(x) - x)²): the same range and loss after every step."""
    rng = np.random.default_rng(2)
    pairs, curves = [], {"minired": [], "keras": []}
    with precision(dtype):
        x = (rng.normal(size=256) * 1.5).astype(dtype)
        ours = [np.asarray(-0.5, dtype), np.asarray(0.5, dtype)]
        theirs = [tf.Variable(np.asarray(-0.5, dtype)), tf.Variable(np.asarray(0.5, dtype))]
        lr = np.asarray(0.05, dtype)
        for step in range(steps):
            with mr.autodiff.GradientTape() as tape:
                low, high = tape.watch(ours[0]), tape.watch(ours[1])
                error = mr.quantizers.fake_quant_with_min_max_vars(x, low, high, 4) - x
                loss = mr.ops.mean(error * error)
            grads = tape.gradient(loss, [low, high])
            ours = [w - lr * g for w, g in zip(ours, grads, strict=True)]
            with tf.GradientTape() as keras_tape:
                error = keras.quantizers.fake_quant_with_min_max_vars(x, *theirs, 4) - x
                keras_loss = keras.ops.mean(error * error)
            for w, g in zip(theirs, keras_tape.gradient(keras_loss, theirs), strict=True):
                w.assign(w - lr * g)
            curves["minired"].append(float(loss))
            curves["keras"].append(float(keras_loss))
            pairs.append((f"step {step + 1} [min, max]", np.stack(ours),
                          np.stack([w.numpy() for w in theirs])))
    pairs.append(("losses", np.array(curves["minired"]), np.array(curves["keras"])))
    same_ranges = all(np.array_equal(a, b) for label, a, b in pairs[:-1])
    return Outcome(pairs, curves=curves,
                   notes=f"range after {steps} steps: [{ours[0]:.4f}, {ours[1]:.4f}]; the "
                         f"ranges agree bit for bit at every step: {same_ranges} (the losses "
                         "may differ in the last bit: the order of the mean's sum)")
