"""``SwapEMAWeights``: evaluate (and predict) with the optimizer's moving-average weights."""

from __future__ import annotations

import numpy as np

from minired.callbacks.callback import Callback


def swap_by_addition(a: np.ndarray, b: np.ndarray) -> None:
    """Exchange the values of ``a`` and ``b`` in place with no third array, as Keras does on
    TensorFlow: ``a <- a + b``, ``b <- a - b``, ``a <- a - b``.

    In floating point this is not an exact exchange: ``(a + b) - b`` is rounded, so each
    value may come back a few ulps off (an exact ``b`` is lost when ``|a| >> |b|``). Keras
    swaps this way to save memory, and minired follows it so the numbers stay the same.

    Example:
        >>> a, b = np.array([1.0, 2.0]), np.array([3.0, 5.0])
        >>> swap_by_addition(a, b)
        >>> a, b
        (array([3., 5.]), array([1., 2.]))
    """
    a += b
    np.subtract(a, b, out=b)
    a -= b


class SwapEMAWeights(Callback):
    """Swap the model's weights with the optimizer's EMA weights around evaluation.

    With ``use_ema=True`` the optimizer keeps ``avg <- m·avg + (1-m)·w`` of every weight
    ("Polyak averaging"). This callback puts those averages in the model before each
    evaluation (the validation of ``fit`` too) and takes them out after it, so the metrics
    are those of the averaged weights while training goes on with the trained ones. The
    swap is in place (see :func:`swap_by_addition`).

    With ``swap_on_epoch=True`` it also swaps at the end of each epoch (and back at the
    start of the next one), so that other callbacks placed after it, such as
    ``ModelCheckpoint``, see the EMA weights; after the last epoch it copies the weights back
    into the averages, so that ``fit``'s final :meth:`finalize_variable_values` leaves the
    EMA weights in the model.

    As in Keras, ``on_predict_end`` swaps only when the EMA weights are *not* in the model:
    after ``predict`` the model keeps the EMA weights (until the next evaluation ends).

    Args:
        swap_on_epoch: also swap at ``on_epoch_end`` / ``on_epoch_begin`` (default False).

    Example:
        >>> model = mr.Sequential([mr.Input((2,)), mr.layers.Dense(1)])
        >>> model.compile(optimizer=mr.optimizers.SGD(use_ema=True), loss="mse")
        >>> x, y = np.ones((4, 2), "float32"), np.zeros((4, 1), "float32")
        >>> history = model.fit(x, y, epochs=2, validation_data=(x, y), verbose=0,
        ...                     callbacks=[SwapEMAWeights()])
        >>> sorted(history.history)
        ['loss', 'val_loss']
    """

    def __init__(self, swap_on_epoch: bool = False) -> None:
        super().__init__()
        self.swap_on_epoch = swap_on_epoch
        self._ema_weights_in_model = False

    def _ema_optimizers(self) -> list:
        """The optimizers holding averages: the model's (inside a LossScaleOptimizer, the
        inner one), or those of a MultiOptimizer that use EMA (Keras' checks)."""
        optimizer = self.model.optimizer
        optimizer = getattr(optimizer, "inner_optimizer", optimizer)
        if hasattr(optimizer, "optimizers"):          # a MultiOptimizer
            chosen = [o for o in optimizer.optimizers if getattr(o, "use_ema", False)]
            if not chosen:
                raise ValueError(
                    "SwapEMAWeights must be used when at least one inner optimizer has "
                    "`use_ema=True` set. Received a MultiOptimizer with all inner optimizers "
                    "having `use_ema=False`.")
        else:
            chosen = [optimizer]
        for each in chosen:
            if not (getattr(each, "use_ema", False) and each.built):
                raise ValueError(
                    "SwapEMAWeights must be used when `use_ema=True` is set on the optimizer "
                    "(and after it has made its first step). Received: "
                    f"use_ema={getattr(each, 'use_ema', None)}")
        return chosen

    def _pairs(self):
        """``(w, avg)`` for every weight of the EMA optimizers."""
        for optimizer in self._ema_optimizers():
            yield from zip(optimizer._trainable_variables,
                           optimizer._model_variables_moving_average, strict=True)

    def _swap_variables(self) -> None:
        for variable, average in self._pairs():
            swap_by_addition(variable, average)

    def _finalize_ema_values(self) -> None:
        """``avg <- w`` (the model holds the EMA weights here, see the class docstring)."""
        for variable, average in self._pairs():
            np.copyto(average, variable)

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        if self.swap_on_epoch and self._ema_weights_in_model:
            self._swap_variables()
            self._ema_weights_in_model = False

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if self.swap_on_epoch and not self._ema_weights_in_model:
            self._swap_variables()
            self._ema_weights_in_model = True
            # fit ends by copying the averages into the model: make them the EMA weights
            # the model holds now (the swap put the trained weights in the averages).
            if epoch == self.params["epochs"] - 1:
                self._finalize_ema_values()

    def on_test_begin(self, logs: dict | None = None) -> None:
        if not self._ema_weights_in_model:
            self._swap_variables()
            self._ema_weights_in_model = True

    def on_test_end(self, logs: dict | None = None) -> None:
        if self._ema_weights_in_model:
            self._swap_variables()
            self._ema_weights_in_model = False

    def on_predict_begin(self, logs: dict | None = None) -> None:
        if not self._ema_weights_in_model:
            self._swap_variables()
            self._ema_weights_in_model = True

    def on_predict_end(self, logs: dict | None = None) -> None:
        if not self._ema_weights_in_model:   # (sic) Keras' condition: see the class docstring
            self._swap_variables()
            self._ema_weights_in_model = False
