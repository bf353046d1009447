"""``keras.callbacks.OrbaxCheckpoint``: checkpoints written by Orbax, refused in minired.

Keras' callback saves weights and optimizer state asynchronously with the
``orbax-checkpoint`` package (Google's checkpointing library, built on JAX arrays); without
that package its constructor raises ``ImportError``. minired cannot write Orbax checkpoints
even with the package installed, so the constructor always raises that ``ImportError``,
with Keras' first sentence and the minired alternatives: ``ModelCheckpoint`` (the ``.keras``
file or ``.weights.h5`` Keras reads) and ``BackupAndRestore``.
"""

from __future__ import annotations

from minired.callbacks.monitor_callback import MonitorCallback


class OrbaxCheckpoint(MonitorCallback):
    """Keras' Orbax checkpoint callback; creating one raises ImportError (see the module).

    Args:
        directory: where Keras would write the checkpoints (the other arguments are
            Keras' too: ``monitor``, ``verbose``, ``save_best_only``, ``mode``,
            ``save_freq``, ``initial_value_threshold``, ``max_to_keep``,
            ``save_on_background``, ``save_weights_only``).

    Example:
        >>> OrbaxCheckpoint("checkpoints")
        Traceback (most recent call last):
        ...
        ImportError: OrbaxCheckpoint requires the 'orbax-checkpoint' package. ...
    """

    def __init__(self, directory, monitor: str = "val_loss", verbose: int = 0,
                 save_best_only: bool = False, mode: str = "auto", save_freq="epoch",
                 initial_value_threshold=None, max_to_keep: int = 1,
                 save_on_background: bool = True, save_weights_only: bool = False) -> None:
        raise ImportError("OrbaxCheckpoint requires the 'orbax-checkpoint' package. "
                          "minired cannot write Orbax checkpoints (they hold JAX arrays): "
                          "use mr.callbacks.ModelCheckpoint (a .keras or .weights.h5 file "
                          "that Keras reads) or mr.callbacks.BackupAndRestore instead.")
