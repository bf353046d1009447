"""Muon: momentum whose step is orthogonalised (Newton-Schulz), AdamW for the other weights."""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from minired import keras_numerics
from minired.optimizers.adam import adam_update
from minired.optimizers.optimizer import Optimizer
from minired.optimizers.schedules import LearningRateSchedule
from minired.optimizers.variable_paths import path_of


def _swap_last_axes(x: np.ndarray) -> np.ndarray:
    """``x`` with its last two axes swapped (Keras' ``transpose_last_axis``)."""
    return np.swapaxes(x, -1, -2)


class Muon(Optimizer):
    """Muon (Jordan et al.; Liu et al., 2025), in Keras' form.

    Each 2-d variable (a Dense kernel) takes the **Muon step**: SGD momentum whose direction
    is replaced by the nearest orthogonal matrix, so that every direction of the matrix
    moves by the same amount. With ``μ`` the momentum::

        m <- m + (g + m·(μ - 1))                      (= μ·m + g)
        G = g + μ·m          (nesterov)   or   G = m
        X = G / (||G||_F + 1e-7)          (transposed first when it has more rows than columns)
        ns_steps times:  A = X·Xᵀ,   B = b·A + (c·A)·A,   X <- a·X + B·X
        w <- w - ((lr·X)·sqrt(max(rows, cols)))·rms_rate        (no rms_rate: w - lr·X)

    The loop (Newton-Schulz, with the quintic coefficients ``a, b, c``) drives every singular
    value of ``X`` towards 1 without computing an SVD: ``X ≈ U·Vᵀ`` for ``G = U·S·Vᵀ``.

    Every other variable takes the **AdamW step** (Keras' Adam, see
    :class:`~minired.optimizers.Adam`, with ``lr·adam_lr_ratio``): the variables that are
    not 2-d (biases), those whose path contains ``"embedding"`` (when ``exclude_embeddings``)
    and those whose path matches one of the regular expressions ``exclude_layers``
    (``re.search``). A path is Keras' ``"sequential/dense/kernel"``
    (see :mod:`~minired.optimizers.variable_paths`: ``remember_paths(model)`` before the
    first step writes down the paths of a model's weights); an array with no known path is
    chosen by its shape alone.

    Weight decay, before either step: ``w <- w - w·wd·lr`` with ``wd = weight_decay`` for the
    Muon variables and ``adam_weight_decay`` for the AdamW ones (each may be None: no decay).

    The matrix products and the norm are sums, which TensorFlow adds in another order than
    NumPy: the results agree with Keras to a few units in the last place, not bit for bit.

    Args:
        learning_rate: a float, a schedule, or a function of no arguments (default 0.001).
        adam_beta_1: the AdamW step's ``beta_1`` (default 0.9).
        adam_beta_2: the AdamW step's ``beta_2`` (default 0.999).
        adam_weight_decay: the decay of the AdamW variables (default 0.004).
        epsilon: the AdamW step's epsilon (default 1e-7).
        weight_decay: the decay of the Muon variables (default 0.004).
        exclude_layers: regular expressions; a variable whose path matches one takes the
            AdamW step (typically the output layer's name).
        exclude_embeddings: give the variables with ``"embedding"`` in their path the AdamW
            step (default True).
        muon_a, muon_b, muon_c: the Newton-Schulz coefficients (3.4445, -4.7750, 2.0315).
        adam_lr_ratio: the AdamW step uses ``lr·adam_lr_ratio`` (default 1).
        momentum: ``μ`` (default 0.95).
        ns_steps: the number of Newton-Schulz iterations (default 5).
        nesterov: use ``g + μ·m`` rather than ``m`` (default True).
        rms_rate: scale the Muon step by ``sqrt(max(rows, cols))·rms_rate`` (Moonlight's
            rule, so that Adam's learning rate and decay fit); None: no scaling (default 0.2).
        {{base_optimizer_keyword_args}}

    Example:
        >>> kernel = np.array([[2.0, 0.0], [0.0, 0.5]])
        >>> opt = Muon(learning_rate=0.1, weight_decay=None, rms_rate=None)
        >>> _ = opt.apply_gradients([(np.array([[4.0, 0.0], [0.0, 1.0]]), kernel)])
        >>> steps = (2.0 - kernel[0, 0], 0.5 - kernel[1, 1])   # gradients 4 and 1
        >>> [round(float(step), 3) for step in steps]          # about the same step
        [0.074, 0.074]
    """

    def __init__(
        self,
        learning_rate: float | LearningRateSchedule | Callable[[], float] = 0.001,
        adam_beta_1: float = 0.9,
        adam_beta_2: float = 0.999,
        adam_weight_decay: float | None = 0.004,
        epsilon: float = 1e-7,
        weight_decay: float | None = 0.004,
        exclude_layers: list[str] | None = None,
        exclude_embeddings: bool = True,
        muon_a: float = 3.4445,
        muon_b: float = -4.7750,
        muon_c: float = 2.0315,
        adam_lr_ratio: float = 1,
        momentum: float = 0.95,
        ns_steps: int = 5,
        nesterov: bool = True,
        rms_rate: float | None = 0.2,
        **kwargs: Any,
    ) -> None:
        super().__init__(learning_rate=learning_rate, weight_decay=weight_decay, **kwargs)
        self.adam_beta_1 = adam_beta_1
        self.adam_beta_2 = adam_beta_2
        self.epsilon = epsilon
        self.muon_a = muon_a
        self.muon_b = muon_b
        self.muon_c = muon_c
        self.adam_lr_ratio = adam_lr_ratio
        self.momentum = momentum
        self.ns_steps = ns_steps
        self.nesterov = nesterov
        self.exclude_embeddings = exclude_embeddings
        self.exclude_layers = exclude_layers or []
        self.adam_weight_decay = adam_weight_decay
        self.rms_rate = rms_rate

    # the state in Keras' creation order: each variable's momentum, then its velocity if it
    # takes the AdamW step (Keras' build); `variables` leaves out the missing velocities.
    _keras_slot_order = (("_momentums", "_adam_velocities"),)

    _scratch_per_variable = 2

    def _should_use_adamw(self, variable: np.ndarray) -> bool:
        """Whether ``variable`` takes the AdamW step (see the class docstring)."""
        if variable.ndim != 2:
            return True
        path = path_of(variable) or ""
        if self.exclude_embeddings and "embedding" in path.lower():
            return True
        return any(re.search(keyword, path) for keyword in self.exclude_layers)

    def _create_slots(self, variables: list[np.ndarray]) -> None:
        self._uses_adamw = [self._should_use_adamw(v) for v in variables]
        self._momentums = self.add_slots(variables)
        self._adam_velocities = [np.zeros_like(v) if adamw else None
                                 for v, adamw in zip(variables, self._uses_adamw, strict=True)]

    @property
    def variables(self) -> list[np.ndarray]:
        """The state in Keras' order: ``iterations``, the learning rate, then for each
        variable its momentum and, for an AdamW variable, its velocity."""
        return [v for v in super().variables if v is not None]

    # -- weight decay: one rate for the Muon variables, another for the AdamW ones ------------
    def _apply_weight_decay(self, variables: list[np.ndarray], learning_rate) -> None:
        """``w <- w - w·wd·lr``, with ``wd`` chosen per variable (Keras' override)."""
        for variable in variables:
            index = self._get_variable_index(variable)
            rate = self.adam_weight_decay if self._uses_adamw[index] else self.weight_decay
            if rate is None:
                continue
            wd = keras_numerics.as_keras_constant(rate, variable.dtype)
            decay = self._scratch[index][0]
            np.multiply(variable, wd, out=decay)          # w·wd
            decay *= variable.dtype.type(learning_rate)   # w·wd·lr
            variable -= decay

    # -- the two steps ------------------------------------------------------------------------
    def _compute_scalars(self, dt: type, learning_rate) -> tuple:
        """The AdamW step's ``alpha``, ``1 - b1``, ``1 - b2`` and ``eps`` in ``dt`` (as
        :class:`~minired.optimizers.Adam`'s, with ``lr·adam_lr_ratio``), and ``lr``."""
        lr = dt(learning_rate)
        adam_lr = lr * dt(self.adam_lr_ratio)
        t = dt(int(self.iterations) + 1)
        beta_1 = keras_numerics.as_keras_constant(self.adam_beta_1, dt)
        beta_2 = keras_numerics.as_keras_constant(self.adam_beta_2, dt)
        alpha = adam_lr * np.sqrt(1 - beta_2**t) / (1 - beta_1**t)
        return (alpha, dt(1 - self.adam_beta_1), dt(1 - self.adam_beta_2), dt(self.epsilon),
                lr)

    def update_step(self, gradient: np.ndarray, variable: np.ndarray, learning_rate) -> None:
        index = self._get_variable_index(variable)
        if self._uses_adamw[index]:
            self._adamw_update_step(gradient, variable, index, learning_rate)
        else:
            self._muon_update_step(gradient, variable, index, learning_rate)

    def _muon_update_step(self, g: np.ndarray, w: np.ndarray, index: int,
                          learning_rate) -> None:
        dt = w.dtype.type
        lr = self._scalars(w.dtype, learning_rate)[-1]
        m = self._momentums[index]
        change, _ = self._scratch[index]
        # m <- m + (g + m·(μ - 1))      (μ - 1 in Python double, then cast, as Keras)
        np.multiply(m, dt(self.momentum - 1), out=change)
        np.add(g, change, out=change)
        m += change
        # G = g + μ·m (nesterov), or m
        if self.nesterov:
            np.multiply(m, dt(self.momentum), out=change)
            change += g
            direction = change
        else:
            direction = m
        update = self.zeropower_via_newtonschulz5(direction, self.ns_steps)
        # w <- w - ((lr·X)·sqrt(max(rows, cols)))·rms_rate
        update *= lr
        if self.rms_rate is not None:
            update *= np.sqrt(dt(max(w.shape[0], w.shape[1])))
            update *= dt(self.rms_rate)
        w -= update

    def _adamw_update_step(self, g: np.ndarray, w: np.ndarray, index: int,
                           learning_rate) -> None:
        """Keras' Adam update (see :class:`~minired.optimizers.Adam`), its own moments."""
        alpha, one_minus_beta_1, one_minus_beta_2, epsilon, _ = self._scalars(
            w.dtype, learning_rate)
        adam_update(g, w, self._momentums[index], self._adam_velocities[index], None,
                    self._scratch[index], alpha, one_minus_beta_1, one_minus_beta_2, epsilon)

    def zeropower_via_newtonschulz5(self, x: np.ndarray, steps: int) -> np.ndarray:
        """The orthogonal matrix nearest ``x`` (about ``U·Vᵀ`` for ``x = U·S·Vᵀ``), by
        ``steps`` quintic Newton-Schulz iterations; a new array of ``x``'s shape.

        Args:
            x: a matrix (or a stack of matrices, over the last two axes).
            steps: the number of iterations.
        """
        if x.ndim < 2:
            raise ValueError("Expected gradient or momentum to have at least 2 dimensions. "
                             f"Received: shape={x.shape}")
        dt = x.dtype.type
        a, b, c = dt(self.muon_a), dt(self.muon_b), dt(self.muon_c)
        tall = x.shape[-2] > x.shape[-1]
        if tall:
            x = _swap_last_axes(x)
        # ||X||_F >= the largest singular value: afterwards every singular value is <= 1
        norm = np.sqrt(np.sum(x * x, axis=(-2, -1), keepdims=True))
        x = x / (norm + dt(1e-7))
        for _ in range(steps):
            temp_a = x @ _swap_last_axes(x)                 # A = X·Xᵀ
            temp_b = b * temp_a + (c * temp_a) @ temp_a     # B = b·A + (c·A)·A
            x = a * x + temp_b @ x                          # X <- a·X + B·X
        if tall:
            x = _swap_last_axes(x)
        return np.ascontiguousarray(x)

    def check_own_variables(self, values: list, variables: list[np.ndarray]) -> list | None:
        """Check saved state against this optimizer built on ``variables`` (see
        :meth:`Optimizer.check_own_variables`). When the counts differ and some matrices
        have no path (so the file's AdamW variables cannot be told apart), the state is
        skipped with a warning and the optimizer stays unbuilt, as Keras skips state that
        does not fit."""
        try:
            return super().check_own_variables(values, variables)
        except ValueError as error:
            if self.built and any(v.ndim == 2 and path_of(v) is None for v in variables):
                warnings.warn(f"Skipping variable loading for optimizer '{self.name}': "
                              f"{error} The matrices have no paths to choose the AdamW "
                              "ones by: see mr.optimizers.variable_paths.remember_paths.",
                              stacklevel=2)
                self.built = False
                return None
            raise

    def load_own_variables(self, values: list | None, variables: list[np.ndarray]) -> None:
        """Restore the state checked by :meth:`check_own_variables` (nothing if skipped)."""
        if values is not None:
            super().load_own_variables(values, variables)

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "adam_beta_1": self.adam_beta_1,
            "adam_beta_2": self.adam_beta_2,
            "epsilon": self.epsilon,
            "exclude_layers": self.exclude_layers,
            "muon_a": self.muon_a,
            "muon_b": self.muon_b,
            "muon_c": self.muon_c,
            "adam_lr_ratio": self.adam_lr_ratio,
            "momentum": self.momentum,
            "ns_steps": self.ns_steps,
            "nesterov": self.nesterov,
            "exclude_embeddings": self.exclude_embeddings,
            "adam_weight_decay": self.adam_weight_decay,
            "rms_rate": self.rms_rate,
        }
