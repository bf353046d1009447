"""The comparisons catch real mistakes: plant a known error in minired, watch a case fail.

Each test first runs a case as is (it must pass), then plants one error that learners'
libraries are known to ship, with ``monkeypatch`` (undone after the test), and asserts that
the case now fails. Where the plant replaces a method, a faithful copy of the engine's
method is patched in first as a control, so the failure can only come from the plant.
"""

from __future__ import annotations

import importlib

import numpy as np
import pytest

pytest.importorskip("keras")

from comparisons.keras_env import mr  # noqa: E402
from comparisons.registry import CASES, PRECISIONS  # noqa: E402
from minired.backend import tf_cast, tf_pow  # noqa: E402

# Importing an area registers its cases.
for _area in ("forward", "gradients", "saturation", "optimizers", "training", "dropout"):
    importlib.import_module(f"comparisons.{_area}")


def passes(case_id: str, dtype: str) -> bool:
    measurement = CASES[case_id].run(dtype)
    print(f"{case_id} [{dtype}]: max rel {measurement.max_rel:.3g} ({measurement.worst})")
    return measurement.passed


# -- optimizers ------------------------------------------------------------------------------

def adam_update(epsilon_inside_sqrt: bool):
    """minired's Adam.update_step, copied; optionally with PyTorch-blog's sqrt(v + eps)."""

    def update_step(self, gradient, variable, learning_rate):
        dt = variable.dtype.type
        lr = dt(learning_rate)
        t = dt(self.iterations + 1)
        beta_1_power = tf_pow(tf_cast(self.beta_1, variable.dtype), t)
        beta_2_power = tf_pow(tf_cast(self.beta_2, variable.dtype), t)
        index = self._get_variable_index(variable)
        m, v = self._momentums[index], self._velocities[index]
        alpha = lr * np.sqrt(1 - beta_2_power) / (1 - beta_1_power)
        m += (gradient - m) * dt(1 - self.beta_1)
        v += (np.square(gradient) - v) * dt(1 - self.beta_2)
        if epsilon_inside_sqrt:
            variable -= (m * alpha) / np.sqrt(v + dt(self.epsilon))     # the plant
        else:
            variable -= (m * alpha) / (np.sqrt(v) + dt(self.epsilon))   # Keras

    return update_step


@pytest.mark.parametrize("dtype", PRECISIONS)
def test_adam_epsilon_inside_the_square_root_is_caught(monkeypatch, dtype):
    assert passes("optimizers/adam", dtype)
    monkeypatch.setattr(mr.optimizers.Adam, "update_step", adam_update(False))
    assert passes("optimizers/adam", dtype)          # the copy is faithful
    monkeypatch.setattr(mr.optimizers.Adam, "update_step", adam_update(True))
    assert not passes("optimizers/adam", dtype)


def sgd_update(pytorch_nesterov: bool):
    """minired's SGD.update_step, copied; optionally with PyTorch's Nesterov buffer."""

    def update_step(self, gradient, variable, learning_rate):
        dt = variable.dtype.type
        lr = dt(learning_rate)
        m = tf_cast(self.momentum, variable.dtype)
        v = self._momentums[self._get_variable_index(variable)]
        if pytorch_nesterov:   # buf <- m·buf + g;  w <- w - lr·(g + m·buf)
            v[...] = v * m + gradient
            variable -= lr * (gradient + m * v)
        else:                  # Keras: v <- m·v - lr·g;  w <- w + m·v - lr·g
            v[...] = v * m - gradient * lr
            variable += v * m - gradient * lr

    return update_step


@pytest.mark.parametrize("dtype", PRECISIONS)
def test_pytorch_nesterov_is_caught_when_the_rate_changes(monkeypatch, dtype):
    case_id = "optimizers/sgd_nesterov_exponential_decay"
    assert passes(case_id, dtype)
    monkeypatch.setattr(mr.optimizers.SGD, "update_step", sgd_update(False))
    assert passes(case_id, dtype)
    monkeypatch.setattr(mr.optimizers.SGD, "update_step", sgd_update(True))
    assert not passes(case_id, dtype)
    # With a constant rate the two forms are the same algebra (V = -lr·buf): only the
    # scheduled case can tell them apart, which is why it exists.
    assert passes("optimizers/sgd_nesterov", "float64")


# -- training --------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", PRECISIONS)
def test_unweighted_epoch_mean_is_caught(monkeypatch, dtype):
    """The epoch loss as the plain mean of batch losses (the last batch of 4 counts as 32)."""
    case_id = "training/partial_last_batch"
    assert passes(case_id, dtype)

    def update_trackers(self, loss, y, y_pred):
        self._loss_tracker.update_state(loss, sample_weight=1.0)    # the plant
        for metric in self._compile_metrics:
            metric.update_state(y, y_pred)

    monkeypatch.setattr(mr.Sequential, "_update_trackers", update_trackers)
    assert not passes(case_id, dtype)


# -- dropout ---------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", PRECISIONS)
def test_dropout_without_rescaling_is_caught(monkeypatch, dtype):
    """Kept units not multiplied by 1/(1-rate) (scale patched to 1)."""
    assert passes("dropout/same_mask", dtype)
    assert passes("dropout/scaling", dtype)
    forward = mr.layers.Dropout.forward

    def forward_without_rescaling(self, inputs, training=False):
        outputs = forward(self, inputs, training=training)
        if not self.training:
            return outputs
        self.scale = inputs.dtype.type(1)                            # the plant
        return inputs * self.scale * self.mask

    monkeypatch.setattr(mr.layers.Dropout, "forward", forward_without_rescaling)
    assert not passes("dropout/same_mask", dtype)
    assert not passes("dropout/scaling", dtype)


def test_dropout_reusing_one_mask_is_caught(monkeypatch):
    """A layer that draws the same mask on every call (its generator re-seeded each time)."""
    assert passes("dropout/keep_rate", "float32")
    forward = mr.layers.Dropout.forward

    def forward_same_mask(self, inputs, training=False):
        self.generator = np.random.default_rng(self.seed)           # the plant
        return forward(self, inputs, training=training)

    monkeypatch.setattr(mr.layers.Dropout, "forward", forward_same_mask)
    assert not passes("dropout/keep_rate", "float32")


# -- forward ---------------------------------------------------------------------------------

def softmax_over_the_batch(x):
    """A classic slip: normalise over axis 0 (the samples) instead of the classes."""
    e = np.exp(x - np.max(x, axis=0, keepdims=True))
    return e / np.sum(e, axis=0, keepdims=True)


softmax_over_the_batch.__name__ = "softmax"
softmax_over_the_batch.backward = mr.activations.softmax.backward


@pytest.mark.parametrize("dtype", PRECISIONS)
def test_softmax_over_the_wrong_axis_is_caught(monkeypatch, dtype):
    assert passes("forward/activation_softmax", dtype)
    assert passes("forward/dense_softmax", dtype)
    monkeypatch.setitem(mr.activations.ALL_ACTIVATIONS, "softmax", softmax_over_the_batch)
    assert not passes("forward/activation_softmax", dtype)
    assert not passes("forward/dense_softmax", dtype)


# -- gradients -------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", PRECISIONS)
def test_l2_with_a_hidden_half_is_caught(monkeypatch, dtype):
    assert passes("gradients/l2_kernel", dtype)
    original_call, original_gradient = mr.regularizers.L2.__call__, mr.regularizers.L2.gradient
    monkeypatch.setattr(mr.regularizers.L2, "__call__", lambda self, x: original_call(self, x) / 2)
    monkeypatch.setattr(mr.regularizers.L2, "gradient",
                        lambda self, x: original_gradient(self, x) / 2)
    assert not passes("gradients/l2_kernel", dtype)


@pytest.mark.parametrize("dtype", PRECISIONS)
def test_elementwise_softmax_derivative_is_caught(monkeypatch, dtype):
    """The pitfall of writing softmax' as p(1 - p) element-wise instead of the Jacobian."""
    assert passes("gradients/hidden_softmax", dtype)
    monkeypatch.setattr(mr.activations.softmax, "backward",
                        lambda z, a, grad: grad * a * (1 - a))
    assert not passes("gradients/hidden_softmax", dtype)


# -- saturation ------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", PRECISIONS)
def test_clipped_probability_cross_entropy_is_caught(monkeypatch, dtype):
    """Never reading the logits (always the clipped-probability formula) fails at saturation."""
    for case_id in ("saturation/softmax_cce", "saturation/sigmoid_bce"):
        assert passes(case_id, dtype)
    monkeypatch.setattr(mr.Sequential, "_logits_layer_index", lambda self, training: None)
    for case_id in ("saturation/softmax_cce", "saturation/sigmoid_bce"):
        assert not passes(case_id, dtype)
