"""Ops: a user's layer built from the convolution, pooling, attention and control-flow ops
(``conv``, ``depthwise_conv``, ``average_pool``, ``dot_product_attention``, ``scan``,
``cond``, ``custom_gradient``, ``image.resize``), written once, run in both libraries.

As :mod:`comparisons.ops_catalog`, the model is built twice from the same function
(``components(lib)``, ``lib`` = minired or keras), minired's seeded weights are copied to
Keras, and both are compared on ``predict``, the loss and every ``∂L/∂w`` (step), then
after 5 epochs of ``fit`` (training). minired differentiates the layer with its tape (the
custom gradient included), Keras with TensorFlow's.

(``max_pool`` is left out: TensorFlow's float64 ``MaxPool`` returns float32 from its second
call on, measured; ``tests/test_ops_nn_image_control.py`` compares it value by value.)
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from comparisons.data import random_data
from comparisons.ops_catalog import user_layer_cases

N, SIZE, CHANNELS, FILTERS = 24, 8, 2, 4


def components(lib) -> SimpleNamespace:
    """The user's layer, written against ``lib`` (``mr`` or ``keras``)."""
    ops = lib.ops

    @ops.custom_gradient
    def soft_clip(x):
        """Forward ``tanh(x)``; backward ``δa · (1 − tanh²x) / 2`` (a halved gradient)."""
        a = ops.tanh(x)

        def grad(upstream):
            return upstream * (1.0 - a * a) * 0.5

        return a, grad

    class ConvAttentionScan(lib.layers.Layer):
        """Images → a convolution and a depthwise convolution → average pooling → the
        pixels attend to each other (one head) → a running sum over the pixels with
        ``scan`` → ``soft_clip`` (a custom gradient) of its mean when training, ``tanh``
        otherwise (``cond``; the same values)."""

        def build(self, input_shape):
            self.kernel = self.add_weight(shape=(3, 3, input_shape[-1], FILTERS),
                                          initializer="glorot_uniform", name="kernel")
            self.depthwise = self.add_weight(shape=(3, 3, FILTERS, 1),
                                             initializer="glorot_uniform", name="depthwise")

        def call(self, inputs, training=None):
            z = ops.relu(ops.conv(inputs, self.kernel, padding="same"))
            z = ops.depthwise_conv(z, self.depthwise, strides=1, padding="same")
            z = ops.average_pool(z, 2, padding="valid")                  # (N, 4, 4, F)
            z = ops.image.resize(z, (2, 2), interpolation="nearest")     # (N, 2, 2, F)
            seq = ops.reshape(z, (-1, 4, 1, FILTERS))                    # 4 steps, 1 head
            h = ops.dot_product_attention(seq, seq, seq, is_causal=True)
            steps = ops.moveaxis(ops.reshape(h, (-1, 4, FILTERS)), 1, 0)
            _, running = ops.scan(lambda c, s: (c + s, c + s), ops.zeros_like(steps[0]), steps)
            pooled = ops.mean(running, axis=0)
            return ops.cond(bool(training), lambda: soft_clip(pooled), lambda: ops.tanh(pooled))

    return SimpleNamespace(ConvAttentionScan=ConvAttentionScan)


def image_model(lib, c):
    """Images → the custom layer → a softmax over 3 classes."""
    return lib.Sequential([lib.Input((SIZE, SIZE, CHANNELS)),
                           c.ConvAttentionScan(name="features"),
                           lib.layers.Dense(3, activation="softmax", name="head")])


def image_data(dtype: str):
    """Random images; the class is the arg-max of three quadrant means of channel 0."""
    x = random_data(dtype, N, (SIZE, SIZE, CHANNELS), seed=7)
    quadrants = [x[:, :4, :4, 0], x[:, :4, 4:, 0], x[:, 4:, :4, 0]]
    return x, np.argmax(np.stack([q.mean(axis=(1, 2)) for q in quadrants], axis=1), axis=1)


user_layer_cases("conv_attention_scan", "conv, depthwise_conv, average_pool, image.resize, "
                 "dot_product_attention, scan, cond and custom_gradient", components, image_model,
                 image_data)
