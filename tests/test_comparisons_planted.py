"""The comparisons catch real mistakes: plant a known error in minired, watch a case fail.

Each test first runs a case as is (it must pass), then plants one error that learners'
libraries are known to ship, with ``monkeypatch`` (undone after the test), and asserts that
the case now fails. Where the plant replaces a method, a faithful copy of the engine's
method is patched in first as a control, so the failure can only come from the plant.
"""

from __future__ import annotations

import importlib
from functools import partial

import numpy as np
import pytest

pytest.importorskip("keras")

from comparisons.keras_env import mr  # noqa: E402
from comparisons.registry import CASES, PRECISIONS  # noqa: E402
from minired import keras_numerics  # noqa: E402
from minired.keras_numerics import as_keras_constant  # noqa: E402
from minired.layers.merging.base_merge import SelectCache  # noqa: E402
from minired.models import functional as functional_module  # noqa: E402
from minired.trainers import compile_utils  # noqa: E402
from minired.trainers import trainer as trainer_module  # noqa: E402

# The module, not the function `add` that the package exports under the same name.
add_module = importlib.import_module("minired.layers.merging.add")

# Importing an area registers its cases.
for _area in ("forward", "gradients", "saturation", "optimizers", "training", "dropout",
              "initializers", "graphs"):
    importlib.import_module(f"comparisons.{_area}")


def passes(case_id: str, dtype: str) -> bool:
    measurement = CASES[case_id].run(dtype)
    print(f"{case_id} [{dtype}]: max rel {measurement.max_rel:.3g} ({measurement.worst})")
    return measurement.passed


def ignoring(cls, attribute: str, value):
    """``cls.__init__`` that stores ``value`` in ``attribute`` whatever was passed: the
    constructor argument is silently ignored."""
    init = cls.__init__

    def init_ignoring(self, *args, **kwargs):
        init(self, *args, **kwargs)
        setattr(self, attribute, value)

    return init_ignoring


# -- optimizers ------------------------------------------------------------------------------

def adam_update(epsilon_inside_sqrt: bool):
    """minired's Adam.update_step, copied; optionally with PyTorch-blog's sqrt(v + eps)."""

    def update_step(self, gradient, variable, learning_rate):
        dt = variable.dtype.type
        lr = dt(learning_rate)
        t = dt(self.iterations + 1)
        beta_1_power = as_keras_constant(self.beta_1, variable.dtype) ** t
        beta_2_power = as_keras_constant(self.beta_2, variable.dtype) ** t
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
        m = as_keras_constant(self.momentum, variable.dtype)
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

    def update_trackers(self, loss, values, y, y_pred, sample_weight=None):
        self._loss_tracker.update_state(loss, sample_weight=1.0)    # the plant
        for compiled in self._compile_metrics:
            compiled.metric.update_state(y[compiled.index], y_pred[compiled.index])

    monkeypatch.setattr(mr.Sequential, "_update_trackers", update_trackers)
    assert not passes(case_id, dtype)


@pytest.mark.parametrize("dtype", PRECISIONS)
def test_validating_on_the_wrong_epochs_is_caught(monkeypatch, dtype):
    """validation_freq=2 validating at epochs 1, 3, 5 instead of 2, 4, 6 (an off-by-one in
    the epoch test): as many val_ entries, on the wrong epochs."""
    case_id = "training/validation_freq"
    assert passes(case_id, dtype)
    monkeypatch.setattr(trainer_module, "should_validate",
                        lambda epoch, validation_freq: epoch % validation_freq == 0)  # the plant
    assert not passes(case_id, dtype)


@pytest.mark.parametrize("dtype", PRECISIONS)
@pytest.mark.parametrize(("case_id", "callback", "attribute", "ignored"), [
    ("training/early_stopping_min_delta", "EarlyStopping", "min_delta", 0),
    ("training/early_stopping_baseline", "EarlyStopping", "baseline", None),
    ("training/early_stopping_start_from_epoch", "EarlyStopping", "start_from_epoch", 0),
    ("training/reduce_lr_cooldown", "ReduceLROnPlateau", "cooldown", 0),
    ("training/reduce_lr_min_lr", "ReduceLROnPlateau", "min_lr", 0.0),
])
def test_an_ignored_callback_argument_is_caught(monkeypatch, case_id, callback, attribute,
                                                ignored, dtype):
    """A callback that accepts an argument and then behaves as if it had its default.
    Both precisions: minired draws other starting weights in each, so the runs differ."""
    assert passes(case_id, dtype)
    cls = getattr(mr.callbacks, callback)
    monkeypatch.setattr(cls, "__init__", ignoring(cls, attribute, ignored))
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
        if self.cache is None:                                       # inactive: identity
            return outputs
        mask, _ = self.cache
        self.cache = (mask, inputs.dtype.type(1))                    # the plant: scale 1
        return inputs * mask

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


@pytest.mark.parametrize("dtype", PRECISIONS)
def test_relu_derivative_one_at_zero_is_caught(monkeypatch, dtype):
    """relu'(0) = 1 (the mask written z >= 0) instead of TensorFlow's 0."""
    assert passes("gradients/relu_at_zero", dtype)
    monkeypatch.setattr(mr.activations.relu, "backward", lambda z, a, grad: grad * (z >= 0))
    assert not passes("gradients/relu_at_zero", dtype)
    # The ordinary hidden-relu case never meets z = 0 exactly: only the new case can tell.
    assert passes("gradients/hidden_relu", dtype)


# -- saturation ------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", PRECISIONS)
def test_clipped_probability_cross_entropy_is_caught(monkeypatch, dtype):
    """Never reading the logits (always the clipped-probability formula) fails at saturation."""
    for case_id in ("saturation/softmax_cce", "saturation/sigmoid_bce"):
        assert passes(case_id, dtype)
    monkeypatch.setattr(keras_numerics, "logits_call", lambda calls, loss, training: None)
    for case_id in ("saturation/softmax_cce", "saturation/sigmoid_bce"):
        assert not passes(case_id, dtype)


# -- initializers ----------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", PRECISIONS)
def test_glorot_with_fan_in_instead_of_the_fan_average_is_caught(monkeypatch, dtype):
    """GlorotUniform with limit sqrt(3/fan_in) instead of sqrt(6/(fan_in + fan_out))."""
    assert passes("initializers/glorot_uniform", dtype)
    monkeypatch.setattr(mr.initializers.GlorotUniform, "MODE", "fan_in")
    assert not passes("initializers/glorot_uniform", dtype)


@pytest.mark.parametrize("dtype", PRECISIONS)
def test_a_normal_without_truncation_is_caught(monkeypatch, dtype):
    """The truncated normal drawn as a plain normal (values beyond 2σ kept)."""
    from minired.initializers import random_initializers

    for case_id in ("initializers/glorot_normal", "initializers/truncated_normal"):
        assert passes(case_id, dtype)
    monkeypatch.setattr(random_initializers, "truncated_normal", random_initializers.normal)
    for case_id in ("initializers/glorot_normal", "initializers/truncated_normal"):
        assert not passes(case_id, dtype)


@pytest.mark.parametrize("dtype", PRECISIONS)
def test_a_truncated_normal_without_the_stddev_correction_is_caught(monkeypatch, dtype):
    """He normal truncated at ±2σ with σ = sqrt(2/fan_in), forgetting Keras' /0.8796:
    the values are bounded as they should be, but 12% too narrow."""
    from minired.initializers import random_initializers

    assert passes("initializers/he_normal", dtype)
    monkeypatch.setattr(random_initializers, "TRUNCATED_NORMAL_STDDEV", 1.0)
    assert not passes("initializers/he_normal", dtype)


# -- graphs ----------------------------------------------------------------------------------

def accumulate(grads, tensor, grad, overwrite: bool):
    """minired's ``_accumulate`` (``δt += grad``), copied; optionally overwriting ``δt`` with
    the last reader's gradient instead of summing over the readers."""
    key = id(tensor)
    grads[key] = grad if overwrite or key not in grads else grads[key] + grad


@pytest.mark.parametrize("dtype", PRECISIONS)
def test_a_fork_that_overwrites_instead_of_summing_is_caught(monkeypatch, dtype):
    """A tensor read by two layers keeps one reader's gradient. The residual block forks
    inside the graph (the stem's weights), the two heads share a trunk, and the nested
    model's skip forks at the model input, where only the input gradient δx can tell."""
    case_ids = ("graphs/residual_gradients", "graphs/residual_training",
                "graphs/two_outputs_training", "graphs/nested_gradients")
    for case_id in case_ids:
        assert passes(case_id, dtype)
    monkeypatch.setattr(functional_module, "_accumulate", partial(accumulate, overwrite=False))
    for case_id in case_ids:
        assert passes(case_id, dtype)                # the copy is faithful
    monkeypatch.setattr(functional_module, "_accumulate", partial(accumulate, overwrite=True))
    for case_id in case_ids:
        assert not passes(case_id, dtype)


@pytest.mark.parametrize("dtype", PRECISIONS)
def test_a_shared_layer_keeping_only_its_last_call_is_caught(monkeypatch, dtype):
    """Each call of a layer overwrites its weight gradient instead of adding to it."""
    case_ids = ("graphs/shared_dense_gradients", "graphs/shared_dense_training",
                "graphs/sequential_shared_apart_gradients", "gradients/shared_layer")
    for case_id in case_ids:
        assert passes(case_id, dtype)
    backward = mr.layers.Dense.backward

    def backward_forgetting_earlier_calls(self, grad_outputs, **kwargs):
        self.zero_gradients()                                        # the plant
        return backward(self, grad_outputs, **kwargs)     # (input_gradient=False passes on)

    monkeypatch.setattr(mr.layers.Dense, "backward", backward_forgetting_earlier_calls)
    for case_id in case_ids:
        assert not passes(case_id, dtype)
    assert passes("graphs/residual_gradients", dtype)   # no layer called twice: unchanged


@pytest.mark.parametrize("dtype", PRECISIONS)
def test_ignored_loss_weights_are_caught(monkeypatch, dtype):
    """compile(loss_weights=...) accepted and then dropped: L = Σᵢ Lᵢ instead of Σᵢ wᵢ Lᵢ.
    (The Keras twin is compiled from the case's own arguments, so it keeps the weights.)"""
    case_ids = ("graphs/two_outputs_gradients", "graphs/two_outputs_training",
                "graphs/dict_io_training")
    for case_id in case_ids:
        assert passes(case_id, dtype)
    resolve_losses = compile_utils.resolve_losses
    monkeypatch.setattr(compile_utils, "resolve_losses",
                        lambda loss, loss_weights, keys, *order: resolve_losses(loss, None, keys,
                                                                                *order))
    for case_id in case_ids:
        assert not passes(case_id, dtype)


@pytest.mark.parametrize("dtype", PRECISIONS)
def test_per_output_losses_weighted_by_batch_size_are_caught(monkeypatch, dtype):
    """``<output>_loss`` averaged over the batches weighted by their sizes, as ``loss`` is.
    Keras counts each batch once there; only the last batch of 4 (after two of 8) shows it."""
    case_ids = ("graphs/two_outputs_training", "graphs/dict_io_training")
    for case_id in case_ids:
        assert passes(case_id, dtype)
    monkeypatch.setattr(keras_numerics, "output_loss_batch_weight", float)   # weight n
    for case_id in case_ids:
        assert not passes(case_id, dtype)


def maximum_forward(ties_to_first: bool):
    """minired's Maximum.forward, copied; optionally giving a tie to the later input."""

    def forward(self, inputs, training=False):
        xs = self._same_rank(inputs)
        a = xs[0]
        source = np.zeros(a.shape, dtype=np.intp)
        for i, x in enumerate(xs[1:], start=1):
            keep = a >= x if ties_to_first else a > x                # the plant: a > x
            source = np.where(keep, source, i)
            a = np.maximum(a, x)
        self.cache = SelectCache([np.shape(x) for x in inputs], source)
        return a

    return forward


@pytest.mark.parametrize("dtype", PRECISIONS)
def test_maximum_ties_to_the_later_input_are_caught(monkeypatch, dtype):
    """A tie in Maximum sends the gradient to the later input (TensorFlow: the first)."""
    assert passes("graphs/maximum_ties_gradients", dtype)
    monkeypatch.setattr(mr.layers.Maximum, "forward", maximum_forward(True))
    assert passes("graphs/maximum_ties_gradients", dtype)    # the copy is faithful
    monkeypatch.setattr(mr.layers.Maximum, "forward", maximum_forward(False))
    assert not passes("graphs/maximum_ties_gradients", dtype)
    # Random values never tie: only the case with exact ties can tell.
    assert passes("graphs/maximum_gradients", dtype)


@pytest.mark.parametrize("dtype", PRECISIONS)
def test_a_broadcast_input_with_an_averaged_gradient_is_caught(monkeypatch, dtype):
    """The gradient of an input stretched over an axis averaged over it instead of summed."""
    assert passes("graphs/add_broadcast_gradients", dtype)
    unbroadcast = add_module.unbroadcast

    def unbroadcast_averaged(grad, shape):
        summed = unbroadcast(grad, shape)
        return summed * (summed.size / grad.size)                    # the plant: a mean

    monkeypatch.setattr(add_module, "unbroadcast", unbroadcast_averaged)
    assert not passes("graphs/add_broadcast_gradients", dtype)
    assert passes("graphs/add_gradients", dtype)         # nothing stretched: unchanged


# -- extending: user code differentiated by the tape -----------------------------------------

importlib.import_module("comparisons.extending")


@pytest.mark.parametrize("dtype", PRECISIONS)
def test_a_tape_that_averages_a_broadcast_gradient_is_caught(monkeypatch, dtype):
    """The tape's ``unbroadcast`` averaging over the copies instead of summing: the bias of
    the user's Linear (``ops.matmul(x, w) + b``, ``b`` added to every row) then gets the mean
    of the rows' gradients."""
    from minired.autodiff import tape as tape_module

    case_ids = ("extending/linear_layer_gradients", "extending/linear_layer_training")
    for case_id in case_ids:
        assert passes(case_id, dtype)
    unbroadcast = tape_module.unbroadcast

    def unbroadcast_averaged(grad, shape):
        summed = unbroadcast(grad, shape)
        return summed * (summed.size / grad.size)                    # the plant: a mean

    monkeypatch.setattr(tape_module, "unbroadcast", unbroadcast_averaged)
    for case_id in case_ids:
        assert not passes(case_id, dtype)
    # No user weight is broadcast there: unchanged.
    assert passes("extending/layer_with_sublayer_gradients", dtype)


@pytest.mark.parametrize("dtype", PRECISIONS)
def test_added_losses_left_out_of_the_backward_pass_are_caught(monkeypatch, dtype):
    """``backward_call`` seeding only the outputs, not the values passed to ``add_loss``: the
    reported loss still includes them, the gradient does not (with no compiled loss, the
    gradient is then zero)."""
    from minired.autodiff import layer_calls

    case_ids = ("extending/add_loss_gradients", "extending/add_loss_training",
                "extending/add_loss_only_gradients", "extending/add_loss_only_training")
    for case_id in case_ids:
        assert passes(case_id, dtype)
    backward_call = layer_calls.backward_call
    monkeypatch.setattr(layer_calls, "backward_call",
                        lambda layer, cache, grad_outputs: backward_call(
                            layer, cache._replace(losses=[]), grad_outputs))  # the plant
    for case_id in case_ids:
        assert not passes(case_id, dtype)
    assert passes("extending/linear_layer_gradients", dtype)   # no add_loss: unchanged


def trainable_pairs(respect_trainable: bool):
    """minired's ``Layer._trainable_pairs``, copied; optionally handing every Variable of the
    layer to the optimizer, the non-trainable ones (counters, moving means) too."""
    from minired.layers.layer import _unique_by_id

    def _trainable_pairs(self):
        if not self.trainable:
            return []
        in_sublayers = {id(t[0]) for layer in self._tracked_layers
                        for t in layer._weight_triples()}
        own = [(w, g) for w, g, _ in self._weight_triples()
               if id(w) not in in_sublayers
               and (getattr(w, "trainable", True) or not respect_trainable)]  # the plant
        return _unique_by_id(own + [pair for layer in self._tracked_layers
                                    for pair in layer._trainable_pairs()])

    return _trainable_pairs


@pytest.mark.parametrize("dtype", PRECISIONS)
def test_non_trainable_weights_given_to_the_optimizer_are_caught(monkeypatch, dtype):
    """A moving mean (``trainable=False``, changed by ``assign`` in ``call``) also stepped by
    the optimizer along its gradient: its value after fit leaves Keras' and the one
    recomputed from the data."""
    case_id = "extending/non_trainable_state_training"
    assert passes(case_id, dtype)
    monkeypatch.setattr(mr.layers.Layer, "_trainable_pairs", trainable_pairs(True))
    assert passes(case_id, dtype)                    # the copy is faithful
    monkeypatch.setattr(mr.layers.Layer, "_trainable_pairs", trainable_pairs(False))
    assert not passes(case_id, dtype)


# -- vision: convolutions, pooling, batch normalization ---------------------------------------

importlib.import_module("comparisons.vision")


@pytest.mark.parametrize("dtype", PRECISIONS)
def test_same_padding_with_the_extra_zero_before_is_caught(monkeypatch, dtype):
    """A convolution's "same" padding split with the odd zero *before* the input (TensorFlow
    puts it after): only settings with an odd total (even kernels, strides 2) shift."""
    from minired.layers.convolutional import im2col

    case_ids = ("vision/conv2d_same", "vision/conv1d_same")
    for case_id in case_ids:
        assert passes(case_id, dtype)
    pad_amounts = im2col.pad_amounts

    def pad_amounts_swapped(size, kernel, stride=1, dilation=1, padding="valid"):
        before, after = pad_amounts(size, kernel, stride, dilation, padding)
        return (after, before) if padding == "same" else (before, after)   # the plant

    monkeypatch.setattr(im2col, "pad_amounts", pad_amounts_swapped)
    for case_id in case_ids:
        assert not passes(case_id, dtype)
    # No "same" padding there: unchanged.
    assert passes("vision/conv2d_valid", dtype)
    assert passes("vision/conv1d_causal", dtype)


def max_pooling(ties_to_last: bool):
    """Max pooling's forward and backward, written independently of the engine's (the
    first maximum of each window, as TensorFlow); optionally the **last** maximum."""
    from minired.layers.pooling.windows import crop_spatial, pad_spatial, windows

    def forward(self, inputs, training=False):
        x = self._as_float(inputs)
        pads = self._pads(x.shape)
        padded = pad_spatial(x, pads, -np.inf)
        view = windows(padded, self.pool_size, self.strides)     # (N, *out, C, *pool)
        flat = view.reshape(*view.shape[:-self.spatial], -1)     # (N, *out, C, K)
        if ties_to_last:                                         # the plant
            winner = flat.shape[-1] - 1 - flat[..., ::-1].argmax(axis=-1)
        else:
            winner = flat.argmax(axis=-1)
        self.cache = (winner, padded.shape, pads)
        return np.take_along_axis(flat, winner[..., None], axis=-1)[..., 0]

    def backward(self, grad_outputs):
        winner, padded_shape, pads = self.cache
        offsets = np.unravel_index(winner, self.pool_size)
        n, *starts, c = np.indices(winner.shape, sparse=True)
        positions = [start * stride + offset for start, stride, offset
                     in zip(starts, self.strides, offsets, strict=True)]
        grad = np.zeros(padded_shape, dtype=grad_outputs.dtype)
        np.add.at(grad, (n, *positions, c), grad_outputs)
        return crop_spatial(grad, pads)

    return forward, backward


@pytest.mark.parametrize("dtype", PRECISIONS)
def test_max_pooling_ties_to_the_last_maximum_are_caught(monkeypatch, dtype):
    """A window's gradient given to its last maximum (``>=`` in a running max) instead of
    the first, as TensorFlow: the forward is unchanged, only δx with ties moves."""
    case_ids = ("vision/max_pooling2d_valid", "vision/max_pooling2d_same",
                "vision/max_pooling1d_valid", "vision/max_pooling1d_same",
                "vision/max_pooling2d_ties_normal_values")
    for case_id in case_ids:
        assert passes(case_id, dtype)
    for cls in (mr.layers.MaxPooling1D, mr.layers.MaxPooling2D):
        forward, backward = max_pooling(ties_to_last=False)
        monkeypatch.setattr(cls, "forward", forward)
        monkeypatch.setattr(cls, "backward", backward)
    for case_id in case_ids:
        assert passes(case_id, dtype)                # the copy is faithful
    for cls in (mr.layers.MaxPooling1D, mr.layers.MaxPooling2D):
        forward, backward = max_pooling(ties_to_last=True)
        monkeypatch.setattr(cls, "forward", forward)
        monkeypatch.setattr(cls, "backward", backward)
    for case_id in case_ids:
        assert not passes(case_id, dtype)
    # The convnet's ties sit on relu's zeros (blank background), whose gradient relu'(0) = 0
    # stops whichever position takes it: only the tied-input cases can tell.
    assert passes("vision/mnist_convnet_gradients", dtype)


def batch_norm_forward(unbiased: bool):
    """minired's BatchNormalization.forward, copied; optionally with the unbiased batch
    variance Σ(x - μ)²/(m - 1) (NumPy's ``ddof=1``, PyTorch's running variance) where Keras
    divides by m."""
    from minired.layers.normalization.batch_normalization import BatchNormalizationCache

    def forward(self, inputs, training=False):
        x = np.asarray(inputs).astype(self._float_dtype(), copy=False)
        per_channel = self._per_channel_shape(x.ndim)
        batch_statistics = bool(training) and self.trainable
        if batch_statistics:
            mean = np.mean(x, axis=self._reduction_axes)
            squares = np.square(x - mean.reshape(per_channel))
            if unbiased:                                                  # the plant
                m = x.size // mean.size
                variance = (np.sum(squares, axis=self._reduction_axes) / (m - 1)).astype(
                    x.dtype)
            else:
                variance = np.mean(squares, axis=self._reduction_axes)
            self.moving_mean.assign(self.moving_mean.value * self.momentum
                                    + mean * (1.0 - self.momentum))
            self.moving_variance.assign(self.moving_variance.value * self.momentum
                                        + variance * (1.0 - self.momentum))
        else:
            mean = self.moving_mean.value.copy()
            variance = self.moving_variance.value.copy()
        inv_std = 1.0 / np.sqrt(variance + self.epsilon)
        s = inv_std * self.gamma if self.scale else inv_std
        shift = self.beta - mean * s if self.center else -mean * s
        a = x * s.reshape(per_channel) + shift.reshape(per_channel)
        self.cache = BatchNormalizationCache(x, mean, inv_std, batch_statistics)
        return a

    return forward


@pytest.mark.parametrize("dtype", PRECISIONS)
def test_batch_norm_with_the_unbiased_variance_is_caught(monkeypatch, dtype):
    """Batch statistics with the unbiased variance (÷ (m-1)): outputs and moving variance
    drift by m/(m-1); inference with given moving statistics is unchanged."""
    case_ids = ("vision/batch_norm_training", "vision/batch_norm_convnet_training")
    for case_id in (*case_ids, "vision/batch_norm_inference"):
        assert passes(case_id, dtype)
    monkeypatch.setattr(mr.layers.BatchNormalization, "forward", batch_norm_forward(False))
    for case_id in case_ids:
        assert passes(case_id, dtype)                # the copy is faithful
    monkeypatch.setattr(mr.layers.BatchNormalization, "forward", batch_norm_forward(True))
    for case_id in case_ids:
        assert not passes(case_id, dtype)
    assert passes("vision/batch_norm_inference", dtype)   # no batch statistics: unchanged


def global_max_forward(split_ties: bool):
    """minired's global max pooling forward, copied; optionally giving **every** tied
    maximum the whole gradient (the mask ``x == max``) instead of TensorFlow's 1/t share."""

    def forward(self, inputs, training=False):
        x = np.asarray(inputs).astype(self._float_dtype(), copy=False)
        maximum = x.max(axis=self._axes(), keepdims=True)
        is_max = (x == maximum).astype(x.dtype)
        self.cache = (is_max / is_max.sum(axis=self._axes(), keepdims=True) if split_ties
                      else is_max)                                        # the plant
        return maximum if self.keepdims else maximum.reshape(x.shape[0], x.shape[-1])

    return forward


@pytest.mark.parametrize("dtype", PRECISIONS)
def test_global_max_pooling_ties_each_taking_the_gradient_are_caught(monkeypatch, dtype):
    """Every tied maximum of a global max pooling passes the whole δa back (t times the
    gradient in total) instead of 1/t each."""
    case_ids = ("vision/global_max_pooling2d", "vision/global_max_pooling1d")
    for case_id in case_ids:
        assert passes(case_id, dtype)
    for cls in (mr.layers.GlobalMaxPooling1D, mr.layers.GlobalMaxPooling2D):
        monkeypatch.setattr(cls, "forward", global_max_forward(True))
    for case_id in case_ids:
        assert passes(case_id, dtype)                # the copy is faithful
    for cls in (mr.layers.GlobalMaxPooling1D, mr.layers.GlobalMaxPooling2D):
        monkeypatch.setattr(cls, "forward", global_max_forward(False))
    for case_id in case_ids:
        assert not passes(case_id, dtype)
