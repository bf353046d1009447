"""``TerminateOnNaN``: stop ``fit`` after the batch whose loss is NaN or infinite."""

from __future__ import annotations

import numpy as np

from minired.callbacks.callback import Callback
from minired.utils.progbar import print_msg


class TerminateOnNaN(Callback):
    """Stop training as soon as a batch's running loss is NaN or ±inf.

    After each training batch it reads ``logs["loss"]`` (the epoch's running mean, which
    a single non-finite batch makes non-finite) and, if it is NaN or inf, prints
    ``Batch <b>: Invalid loss, terminating training`` and sets
    ``model.stop_training = True``: ``fit`` ends the epoch there (validation and
    ``on_epoch_end`` still run, so History records the ``nan``) and calls
    ``on_train_end`` as usual.

    **In minired** ``fit`` itself stops with a ``ValueError`` on a non-finite loss, which
    is what a learner usually needs. Passing this callback asks for Keras' behaviour
    instead: no error, the non-finite loss enters the logs and History, and training
    stops gracefully here. One difference remains on purpose: minired never applies the
    update of a batch whose loss is not finite, so the weights stay those before that
    batch (Keras applies it, which usually makes every weight NaN).

    Args:
        raise_error: True raises ``RuntimeError`` at once instead of stopping gracefully
            (``on_train_end`` is then not called).

    Example:
        >>> from types import SimpleNamespace
        >>> model = SimpleNamespace(stop_training=False)
        >>> stopper = TerminateOnNaN()
        >>> stopper.set_model(model)
        >>> stopper.on_train_batch_end(3, logs={"loss": float("nan")})
        Batch 3: Invalid loss, terminating training
        >>> model.stop_training
        True
    """

    #: ``fit`` lets a non-finite loss through to the callbacks when one of them has this.
    handles_non_finite_loss = True

    def __init__(self, raise_error: bool = False) -> None:
        super().__init__()
        self.raise_error = raise_error

    def on_batch_end(self, batch: int, logs: dict | None = None) -> None:
        loss = (logs or {}).get("loss")
        if loss is None or np.isfinite(loss):
            return
        if self.raise_error:
            raise RuntimeError(f"NaN or Inf loss encountered at batch {batch}. "
                               f"Loss value: {loss}. Terminating training immediately.")
        print_msg(f"Batch {batch}: Invalid loss, terminating training")
        self.model.stop_training = True
