"""The shared optimizer options: EMA, gradient accumulation, loss scaling, LossScaleOptimizer.

Each case applies the same rounds of gradients with minired and with Keras
(``apply_gradients``) and compares after every step the weights, the optimizer's variables in
Keras' order (iterations, learning rate, EMA averages, gradient sums, slots...) and
``iterations``; the ``fit`` cases compare the History and the final weights of a small model
(``fit`` ends by putting the EMA weights into the model).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from comparisons.data import gradient_rounds
from comparisons.keras_env import keras, mr, precision, tf
from comparisons.registry import Outcome, case

STEPS = 7
SHAPES = {"kernel": (4, 3), "bias": (3,)}
LR = 0.1


def compare_state(dtype: str, make: Callable, steps: int = STEPS,
                  rounds_scale: float = 1.0) -> Outcome:
    """Apply the same gradient rounds (times ``rounds_scale``) with ``make(mr.optimizers)``
    and ``make(keras.optimizers)``; compare weights, optimizer variables and iterations
    after every step."""
    with precision(dtype):
        initial, rounds = gradient_rounds(dtype, SHAPES.values(), steps)
        ours = [w.copy() for w in initial]
        theirs = [keras.Variable(w, dtype=dtype, name=name)
                  for w, name in zip(initial, SHAPES, strict=True)]
        ours_optimizer = make(mr.optimizers)
        keras_optimizer = make(keras.optimizers)
        pairs = []
        for step, grads in enumerate(rounds, start=1):
            grads = [(g * rounds_scale).astype(dtype) for g in grads]
            ours_optimizer.apply_gradients(zip(grads, ours, strict=True))
            keras_optimizer.apply_gradients(
                zip([tf.constant(g) for g in grads], theirs, strict=True))
            for name, w, v in zip(SHAPES, ours, theirs, strict=True):
                pairs.append((f"step {step} {name}", w.copy(), np.array(v.numpy())))
            for i, (a, b) in enumerate(zip(ours_optimizer.variables, keras_optimizer.variables,
                                           strict=True)):
                pairs.append((f"step {step} optimizer variable {i} ({b.name})",
                              np.array(a, np.float64), np.array(b.numpy(), np.float64)))
            pairs.append((f"step {step} iterations", np.array(int(ours_optimizer.iterations)),
                          np.array(int(keras_optimizer.iterations))))
    return Outcome(pairs)


@case("optimizers", "sgd_ema", kind="step")
def sgd_ema(dtype):
    """EMA of the weights after each SGD step: avg <- m·avg + (1-m)·w, m = 0 at step 0."""
    return compare_state(dtype, lambda o: o.SGD(learning_rate=LR, momentum=0.5, use_ema=True,
                                                ema_momentum=0.9))


@case("optimizers", "adam_ema_overwrite", kind="step")
def adam_ema_overwrite(dtype):
    """Adam with EMA copied into the weights every 3 steps (ema_overwrite_frequency=3)."""
    return compare_state(dtype, lambda o: o.Adam(learning_rate=LR, use_ema=True,
                                                 ema_momentum=0.8, ema_overwrite_frequency=3))


@case("optimizers", "adam_gradient_accumulation", kind="step")
def adam_gradient_accumulation(dtype):
    """Gradient accumulation (k=3) with Adam, clipping and weight decay on the mean gradient;
    Adam's t counts the updates (iterations // k)."""
    return compare_state(dtype, lambda o: o.Adam(learning_rate=LR, clipnorm=1.0,
                                                 weight_decay=0.05,
                                                 gradient_accumulation_steps=3))


@case("optimizers", "sgd_accumulation_schedule_ema", kind="step")
def sgd_accumulation_schedule_ema(dtype):
    """Accumulation (k=2) with a schedule (it sees every call) and EMA (it counts updates)."""
    return compare_state(dtype, lambda o: o.SGD(
        learning_rate=o.schedules.ExponentialDecay(LR, decay_steps=1, decay_rate=0.8),
        momentum=0.9, use_ema=True, ema_momentum=0.7, ema_overwrite_frequency=2,
        gradient_accumulation_steps=2))


@case("optimizers", "rmsprop_loss_scale_factor", kind="step")
def rmsprop_loss_scale_factor(dtype):
    """loss_scale_factor=3: apply divides each gradient by 3 (not a power of 2)."""
    return compare_state(dtype, lambda o: o.RMSprop(learning_rate=LR, loss_scale_factor=3.0),
                         rounds_scale=3.0)


@case("optimizers", "loss_scale_optimizer", kind="step")
def loss_scale_optimizer(dtype):
    """LossScaleOptimizer(Adam): g / s, s doubling every 2 finite steps (s starts at 8)."""
    return compare_state(dtype, lambda o: o.LossScaleOptimizer(
        o.Adam(learning_rate=LR), initial_scale=8.0, dynamic_growth_steps=2),
        rounds_scale=8.0)


def _fit_both(dtype: str, make: Callable, callbacks: Callable = lambda c: [], epochs: int = 4):
    """fit the same Dense model in both libraries; return History pairs and final weights."""
    with precision(dtype):
        rng = np.random.default_rng(1)
        x = rng.normal(size=(24, 3)).astype(dtype)
        y = rng.normal(size=(24, 2)).astype(dtype)
        weights = [(0.5 * rng.normal(size=(3, 2))).astype(dtype), np.zeros(2, dtype)]
        histories, finals = [], []
        for lib in (mr, keras):
            model = lib.Sequential([lib.Input((3,)), lib.layers.Dense(2)])
            model.set_weights(weights)
            model.compile(optimizer=make(lib.optimizers), loss="mse")
            history = model.fit(x, y, batch_size=8, epochs=epochs, shuffle=False,
                                validation_data=(x[:8], y[:8]), verbose=0,
                                callbacks=callbacks(lib.callbacks))
            histories.append(history.history)
            finals.append([np.asarray(w) for w in model.get_weights()])
    pairs = []
    for key in sorted(histories[1]):
        pairs.append((f"history {key}", np.array(histories[0][key]), np.array(histories[1][key])))
    for i, (a, b) in enumerate(zip(*finals, strict=True)):
        pairs.append((f"final weight {i}", a, b))
    return Outcome(pairs, curves={"minired": histories[0]["loss"], "keras": histories[1]["loss"]})


@case("optimizers", "fit_ema_swap", kind="training")
def fit_ema_swap(dtype):
    """fit with use_ema and SwapEMAWeights: val_loss of the EMA weights, EMA weights at the end."""
    return _fit_both(dtype, lambda o: o.Adam(learning_rate=0.05, use_ema=True, ema_momentum=0.6),
                     callbacks=lambda c: [c.SwapEMAWeights()])


@case("optimizers", "fit_accumulation_loss_scale", kind="training")
def fit_accumulation_loss_scale(dtype):
    """fit with gradient accumulation (k=2) and loss_scale_factor=4 (History: unscaled)."""
    return _fit_both(dtype, lambda o: o.SGD(learning_rate=0.1, momentum=0.5,
                                            gradient_accumulation_steps=2,
                                            loss_scale_factor=4.0))
