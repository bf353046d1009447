"""Optimizers: the same gradients, applied by minired and by Keras, move the weights alike.

Every case calls :func:`compare_steps` with one factory, ``make(module)``, that builds the
optimizer from either ``minired.optimizers`` or ``keras.optimizers`` (the two APIs agree, so
one line describes both). The helper starts two variables, a (4, 3) kernel and a (3,) bias,
from the same values, applies the same :data:`STEPS` rounds of random gradients with
``apply_gradients``, and compares after every step the **displacement** ``w_t - w_0`` of each
variable. Measuring the displacement rather than ``w_t`` keeps the test sharp: a 1 % error
in a small update is a 1 % error here, not a 1e-4 error diluted by the size of ``w``.

The gradients' magnitudes are spread over four decades (1e-3 to 10), so that elements
where epsilon matters (Adam, RMSprop, Adagrad with tiny ``v``) and elements where clipping
bites are both present.

Adding a case is three lines::

    @case("optimizers", "adam_beta2", kind="step")
    def adam_beta2(dtype):
        '''Adam with a short second-moment memory.'''
        return compare_steps(dtype, lambda o: o.Adam(learning_rate=0.1, beta_2=0.9))
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from comparisons.data import gradient_rounds
from comparisons.keras_env import keras, mr, precision, tf
from comparisons.registry import Outcome, case

STEPS = 6
SHAPES = {"kernel": (4, 3), "bias": (3,)}
LR = 0.1   # large enough that each displacement is far above one ulp of the weights


def compare_steps(dtype: str, make: Callable, steps: int = STEPS) -> Outcome:
    """Apply the same gradient rounds with ``make(mr.optimizers)`` and
    ``make(keras.optimizers)``; compare each variable's displacement after every step."""
    with precision(dtype):
        initial, rounds = gradient_rounds(dtype, SHAPES.values(), steps)
        ours = [w.copy() for w in initial]
        theirs = [keras.Variable(w, dtype=dtype, name=name)
                  for w, name in zip(initial, SHAPES, strict=True)]
        ours_optimizer = make(mr.optimizers)
        keras_optimizer = make(keras.optimizers)
        pairs = []
        for step, grads in enumerate(rounds, start=1):
            ours_optimizer.apply_gradients(zip(grads, ours, strict=True))
            keras_optimizer.apply_gradients(
                zip([tf.constant(g) for g in grads], theirs, strict=True))
            for name, w0, w, v in zip(SHAPES, initial, ours, theirs, strict=True):
                pairs.append((f"step {step} {name} w - w0",
                              w.astype(np.float64) - w0, v.numpy().astype(np.float64) - w0))
        for name, w, v in zip(SHAPES, ours, theirs, strict=True):
            pairs.append((f"final {name}", w.copy(), v.numpy()))
        pairs.append(("iterations", np.array(ours_optimizer.iterations),
                      np.array(int(keras_optimizer.iterations.numpy()))))
    return Outcome(pairs)


# -- SGD -------------------------------------------------------------------------------------

@case("optimizers", "sgd", kind="step")
def sgd(dtype):
    """Plain SGD: w <- w - lr·g, with lr stored as a floatx variable."""
    return compare_steps(dtype, lambda o: o.SGD(learning_rate=LR))


@case("optimizers", "sgd_momentum", kind="step")
def sgd_momentum(dtype):
    """SGD momentum: v <- m·v - lr·g, w <- w + v (m cast through float32)."""
    return compare_steps(dtype, lambda o: o.SGD(learning_rate=LR, momentum=0.9))


@case("optimizers", "sgd_nesterov", kind="step")
def sgd_nesterov(dtype):
    """SGD Nesterov in Keras' form: w <- w + m·v_new - lr·g."""
    return compare_steps(dtype, lambda o: o.SGD(learning_rate=LR, momentum=0.9, nesterov=True))


@case("optimizers", "sgd_nesterov_exponential_decay", kind="step")
def sgd_nesterov_exponential_decay(dtype):
    """Nesterov with a decaying lr: the velocity holds lr·g, so only Keras' form matches."""
    return compare_steps(dtype, lambda o: o.SGD(
        learning_rate=o.schedules.ExponentialDecay(LR, decay_steps=1, decay_rate=0.5),
        momentum=0.9, nesterov=True))


@case("optimizers", "sgd_weight_decay", kind="step")
def sgd_weight_decay(dtype):
    """SGD with decoupled weight decay w <- w - w·wd·lr before the step (biases too)."""
    return compare_steps(dtype, lambda o: o.SGD(learning_rate=LR, momentum=0.5,
                                                weight_decay=0.1))


# -- clipping (on SGD, whose update is the clipped gradient itself) --------------------------

@case("optimizers", "sgd_clipnorm", kind="step")
def sgd_clipnorm(dtype):
    """clipnorm: each gradient rescaled to norm <= c on its own (tf.clip_by_norm)."""
    return compare_steps(dtype, lambda o: o.SGD(learning_rate=LR, clipnorm=1.0))


@case("optimizers", "sgd_global_clipnorm", kind="step")
def sgd_global_clipnorm(dtype):
    """global_clipnorm: all gradients rescaled together by c·min(1/n, 1/c)."""
    return compare_steps(dtype, lambda o: o.SGD(learning_rate=LR, global_clipnorm=2.0))


@case("optimizers", "sgd_clipvalue", kind="step")
def sgd_clipvalue(dtype):
    """clipvalue: every gradient element clipped to [-v, v]."""
    return compare_steps(dtype, lambda o: o.SGD(learning_rate=LR, clipvalue=0.5))


@case("optimizers", "adam_clipnorm", kind="step")
def adam_clipnorm(dtype):
    """Clipping happens before Adam's moments see the gradient."""
    return compare_steps(dtype, lambda o: o.Adam(learning_rate=LR, clipnorm=1.0))


# -- RMSprop, Adagrad ------------------------------------------------------------------------

@case("optimizers", "rmsprop", kind="step")
def rmsprop(dtype):
    """RMSprop: ms <- ρ·ms + (1-ρ)·g², w <- w - lr·g/sqrt(ms + eps) (eps inside the root)."""
    return compare_steps(dtype, lambda o: o.RMSprop(learning_rate=LR))


@case("optimizers", "rmsprop_centered", kind="step")
def rmsprop_centered(dtype):
    """Centered RMSprop divides by sqrt(ms - mg² + eps)."""
    return compare_steps(dtype, lambda o: o.RMSprop(learning_rate=LR, centered=True))


@case("optimizers", "rmsprop_momentum", kind="step")
def rmsprop_momentum(dtype):
    """RMSprop with momentum: mom <- μ·mom + lr·g/sqrt(denom), w <- w - mom."""
    return compare_steps(dtype, lambda o: o.RMSprop(learning_rate=LR, momentum=0.9))


@case("optimizers", "rmsprop_centered_momentum", kind="step")
def rmsprop_centered_momentum(dtype):
    """Centered RMSprop and momentum together."""
    return compare_steps(dtype, lambda o: o.RMSprop(learning_rate=LR, centered=True,
                                                    momentum=0.9))


@case("optimizers", "adagrad", kind="step")
def adagrad(dtype):
    """Adagrad: acc starts at 0.1; w <- w - lr·g/sqrt(acc + eps)."""
    return compare_steps(dtype, lambda o: o.Adagrad(learning_rate=LR))


# -- Adam family -----------------------------------------------------------------------------

@case("optimizers", "adam", kind="step")
def adam(dtype):
    """Adam: incremental moments, bias correction in alpha, eps outside the uncorrected sqrt(v)."""
    return compare_steps(dtype, lambda o: o.Adam(learning_rate=LR))


@case("optimizers", "adam_amsgrad", kind="step")
def adam_amsgrad(dtype):
    """AMSGrad divides by the running maximum of v."""
    return compare_steps(dtype, lambda o: o.Adam(learning_rate=LR, amsgrad=True))


@case("optimizers", "adam_weight_decay", kind="step")
def adam_weight_decay(dtype):
    """Adam with weight_decay: the decoupled decay runs before the Adam step."""
    return compare_steps(dtype, lambda o: o.Adam(learning_rate=LR, weight_decay=0.1))


@case("optimizers", "adamw", kind="step")
def adamw(dtype):
    """AdamW: Adam plus the base class' decay, default weight_decay=0.004."""
    return compare_steps(dtype, lambda o: o.AdamW(learning_rate=LR))


@case("optimizers", "adamw_strong_decay", kind="step")
def adamw_strong_decay(dtype):
    """AdamW with weight_decay=0.5, so the decay term dominates the step."""
    return compare_steps(dtype, lambda o: o.AdamW(learning_rate=LR, weight_decay=0.5))


@case("optimizers", "nadam", kind="step")
def nadam(dtype):
    """Nadam: the momentum schedule u_t and its running product, updated once per step."""
    return compare_steps(dtype, lambda o: o.Nadam(learning_rate=LR))


# -- learning-rate schedules (each drives Adam, whose update scales with lr) -----------------

@case("optimizers", "exponential_decay", kind="step")
def exponential_decay(dtype):
    """ExponentialDecay lr0·rate^(step/decay_steps), first step at schedule(0)."""
    return compare_steps(dtype, lambda o: o.Adam(learning_rate=o.schedules.ExponentialDecay(
        LR, decay_steps=2, decay_rate=0.6)))


@case("optimizers", "exponential_decay_staircase", kind="step")
def exponential_decay_staircase(dtype):
    """ExponentialDecay with staircase=True floors the exponent."""
    return compare_steps(dtype, lambda o: o.SGD(learning_rate=o.schedules.ExponentialDecay(
        LR, decay_steps=2, decay_rate=0.6, staircase=True)))


@case("optimizers", "piecewise_constant_decay", kind="step")
def piecewise_constant_decay(dtype):
    """PiecewiseConstantDecay: values[0] while step <= b0, then the next values."""
    return compare_steps(dtype, lambda o: o.SGD(learning_rate=o.schedules.PiecewiseConstantDecay(
        boundaries=[1, 3], values=[0.1, 0.05, 0.01])))


@case("optimizers", "inverse_time_decay", kind="step")
def inverse_time_decay(dtype):
    """InverseTimeDecay lr0 / (1 + rate·step/decay_steps)."""
    return compare_steps(dtype, lambda o: o.Adam(learning_rate=o.schedules.InverseTimeDecay(
        LR, decay_steps=2, decay_rate=0.7)))


@case("optimizers", "polynomial_decay", kind="step")
def polynomial_decay(dtype):
    """PolynomialDecay (power 2) reaching its end rate before the last step."""
    return compare_steps(dtype, lambda o: o.SGD(learning_rate=o.schedules.PolynomialDecay(
        LR, decay_steps=4, end_learning_rate=0.01, power=2.0)))


@case("optimizers", "polynomial_decay_cycle", kind="step")
def polynomial_decay_cycle(dtype):
    """PolynomialDecay with cycle=True restarts after decay_steps."""
    return compare_steps(dtype, lambda o: o.SGD(learning_rate=o.schedules.PolynomialDecay(
        LR, decay_steps=2, end_learning_rate=0.01, power=1.5, cycle=True)))


@case("optimizers", "cosine_decay", kind="step")
def cosine_decay(dtype):
    """CosineDecay lr0·((1-α)·½(1 + cos(π·step/decay_steps)) + α)."""
    return compare_steps(dtype, lambda o: o.Adam(learning_rate=o.schedules.CosineDecay(
        LR, decay_steps=5, alpha=0.1)))


@case("optimizers", "cosine_decay_warmup", kind="step")
def cosine_decay_warmup(dtype):
    """CosineDecay with a linear warmup to warmup_target first."""
    return compare_steps(dtype, lambda o: o.SGD(learning_rate=o.schedules.CosineDecay(
        0.01, decay_steps=3, alpha=0.0, warmup_target=LR, warmup_steps=2)))


@case("optimizers", "adamw_schedule", kind="step")
def adamw_schedule(dtype):
    """AdamW's decay uses the same scheduled lr as its Adam step."""
    return compare_steps(dtype, lambda o: o.AdamW(
        learning_rate=o.schedules.ExponentialDecay(LR, decay_steps=1, decay_rate=0.5),
        weight_decay=0.3))


# -- the rest of Keras' optimizers -----------------------------------------------------------

@case("optimizers", "adamax", kind="step")
def adamax(dtype):
    """Adamax: u <- max(b2·u, |g|), w <- w - lr·m / ((1 - b1^t)·(u + eps))."""
    return compare_steps(dtype, lambda o: o.Adamax(learning_rate=LR))


@case("optimizers", "adamax_settings", kind="step")
def adamax_settings(dtype):
    """Adamax with other betas, a large eps and weight decay."""
    return compare_steps(dtype, lambda o: o.Adamax(learning_rate=LR, beta_1=0.8, beta_2=0.95,
                                                   epsilon=1e-3, weight_decay=0.1))


@case("optimizers", "adadelta", kind="step")
def adadelta(dtype):
    """Adadelta: Δ = -sqrt(d + eps)·g / sqrt(a + eps), d the running mean of Δ²."""
    return compare_steps(dtype, lambda o: o.Adadelta(learning_rate=1.0))


@case("optimizers", "adadelta_settings", kind="step")
def adadelta_settings(dtype):
    """Adadelta with a short memory, a large eps and clipvalue."""
    return compare_steps(dtype, lambda o: o.Adadelta(learning_rate=1.0, rho=0.7, epsilon=1e-4,
                                                     clipvalue=0.5))


@case("optimizers", "ftrl", kind="step")
def ftrl(dtype):
    """Ftrl: z <- z + g - ((n'^p - n^p)/lr)·w, w = (clip(z, ±l1) - z)/q (TF's pow: 1 ulp)."""
    return compare_steps(dtype, lambda o: o.Ftrl(learning_rate=LR))


@case("optimizers", "ftrl_regularized", kind="step")
def ftrl_regularized(dtype):
    """Ftrl with L1 (exact zeros), L2, L2 shrinkage, beta and another power."""
    return compare_steps(dtype, lambda o: o.Ftrl(
        learning_rate=LR, learning_rate_power=-0.3, initial_accumulator_value=0.3,
        l1_regularization_strength=0.05, l2_regularization_strength=0.1,
        l2_shrinkage_regularization_strength=0.05, beta=0.2))


@case("optimizers", "lion", kind="step")
def lion(dtype):
    """Lion: w <- w - lr·sign(b1·m + (1-b1)·g), then m <- b2·m + (1-b2)·g."""
    return compare_steps(dtype, lambda o: o.Lion(learning_rate=0.01))


@case("optimizers", "lion_weight_decay", kind="step")
def lion_weight_decay(dtype):
    """Lion with other betas and the strong weight decay it is used with."""
    return compare_steps(dtype, lambda o: o.Lion(learning_rate=0.01, beta_1=0.7, beta_2=0.9,
                                                 weight_decay=0.3))


@case("optimizers", "lamb", kind="step")
def lamb(dtype):
    """Lamb: Adam's direction u, scaled per variable by the trust ratio ||w|| / ||u||."""
    return compare_steps(dtype, lambda o: o.Lamb(learning_rate=0.01))


@case("optimizers", "lamb_clipnorm", kind="step")
def lamb_clipnorm(dtype):
    """Lamb with other betas, a large eps, weight decay and clipnorm."""
    return compare_steps(dtype, lambda o: o.Lamb(learning_rate=0.01, beta_1=0.8, beta_2=0.9,
                                                 epsilon=1e-3, weight_decay=0.1, clipnorm=1.0))


@case("optimizers", "adafactor", kind="step")
def adafactor(dtype):
    """Adafactor: the kernel's v from row and column means, the bias' v as RMSprop's."""
    return compare_steps(dtype, lambda o: o.Adafactor(learning_rate=LR))


@case("optimizers", "adafactor_settings", kind="step")
def adafactor_settings(dtype):
    """Adafactor with every argument changed, and weight decay."""
    return compare_steps(dtype, lambda o: o.Adafactor(
        learning_rate=0.5, beta_2_decay=-0.6, epsilon_1=1e-20, epsilon_2=0.01,
        clip_threshold=0.5, relative_step=False, weight_decay=0.1))


@case("optimizers", "cosine_decay_restarts", kind="step")
def cosine_decay_restarts(dtype):
    """CosineDecayRestarts: periods 2, 3, 4.5... steps, each starting 0.8 times lower."""
    return compare_steps(dtype, lambda o: o.Adamax(
        learning_rate=o.schedules.CosineDecayRestarts(LR, first_decay_steps=2, t_mul=1.5,
                                                      m_mul=0.8, alpha=0.1)), steps=12)


# -- a training run of an MLP with each of them ----------------------------------------------

def fit_mlp(dtype: str, make_optimizer: Callable) -> Outcome:
    """``fit`` of the training cases' MLP (comparisons.training.fit_blobs) with
    ``make_optimizer(mr.optimizers)``: History and final weights as Keras'."""
    from comparisons.training import fit_blobs

    return fit_blobs(dtype, lambda: make_optimizer(mr.optimizers))


@case("optimizers", "adamax_training", kind="training")
def adamax_training(dtype):
    """An MLP trained with Adamax."""
    return fit_mlp(dtype, lambda o: o.Adamax(learning_rate=0.02))


@case("optimizers", "adadelta_training", kind="training")
def adadelta_training(dtype):
    """An MLP trained with Adadelta (lr 1, as in the paper)."""
    return fit_mlp(dtype, lambda o: o.Adadelta(learning_rate=1.0))


@case("optimizers", "ftrl_training", kind="training")
def ftrl_training(dtype):
    """An MLP trained with Ftrl and a little L1."""
    return fit_mlp(dtype, lambda o: o.Ftrl(learning_rate=0.1, l1_regularization_strength=0.001))


@case("optimizers", "lion_training", kind="training")
def lion_training(dtype):
    """An MLP trained with Lion."""
    return fit_mlp(dtype, lambda o: o.Lion(learning_rate=0.003))


@case("optimizers", "lamb_training", kind="training")
def lamb_training(dtype):
    """An MLP trained with Lamb."""
    return fit_mlp(dtype, lambda o: o.Lamb(learning_rate=0.02))


@case("optimizers", "adafactor_training", kind="training")
def adafactor_training(dtype):
    """An MLP trained with Adafactor."""
    return fit_mlp(dtype, lambda o: o.Adafactor(learning_rate=0.05))



@case("optimizers", "cosine_decay_restarts_training", kind="training")
def cosine_decay_restarts_training(dtype):
    """An MLP trained with Adam on CosineDecayRestarts, restarting every 4 batches.

    In ``fit`` Keras runs the schedule inside a TensorFlow graph, where a division by a
    constant becomes a multiplication by its rounded reciprocal: ``step / 4`` is exact
    either way, but with ``t_mul != 1`` the period is ``floor(log(8) / log(2))``, which the
    graph computes as ``log(8)·(1/log(2)) = 2.9999999999999996``: Keras' ``fit`` then
    restarts one step late (at step 21 for ``first_decay_steps=3, t_mul=2``) while its own
    ``apply_gradients`` (eager) does not. minired follows the eager arithmetic (the
    ``cosine_decay_restarts`` step case), so this case keeps ``t_mul=1``. The rate is a
    NumPy float64, so the schedule computes in float64 (a Python float computes in float32,
    and the float32 ``cos`` of TensorFlow is an ulp off on ~1% of angles).
    """
    return fit_mlp(dtype, lambda o: o.Adam(learning_rate=o.schedules.CosineDecayRestarts(
        np.float64(0.02), first_decay_steps=4, t_mul=1.0, m_mul=0.8, alpha=0.05)))
