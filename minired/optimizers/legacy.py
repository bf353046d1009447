"""``keras.optimizers.legacy``: Keras 2's optimizers, which Keras 3 no longer has.

Keras 3 keeps the names so that an old script fails with a message saying what to do: each
of ``Adagrad``, ``Adam``, ``Ftrl``, ``Optimizer``, ``RMSprop`` and ``SGD`` is the same class,
whose constructor raises ``ImportError``. minired does exactly the same; use
``mr.optimizers.Adam`` (Keras 3's optimizer) instead.

Example:
    >>> from minired.optimizers import legacy
    >>> legacy.Adam(0.1)
    Traceback (most recent call last):
    ...
    ImportError: `keras.optimizers.legacy` is not supported in Keras 3. ...
"""

from __future__ import annotations


class LegacyOptimizerWarning:
    """Keras 2's optimizer classes: creating one raises ImportError, as in Keras 3."""

    def __init__(self, *args, **kwargs) -> None:
        raise ImportError(
            "`keras.optimizers.legacy` is not supported in Keras 3. When using "
            "`tf.keras`, to continue using a `tf.keras.optimizers.legacy` "
            "optimizer, you can install the `tf_keras` package (Keras 2) and "
            "set the environment variable `TF_USE_LEGACY_KERAS=True` to "
            "configure TensorFlow to use `tf_keras` when accessing `tf.keras`."
        )


Adagrad = Adam = Ftrl = Optimizer = RMSprop = SGD = LegacyOptimizerWarning

__all__ = ["Adagrad", "Adam", "Ftrl", "Optimizer", "RMSprop", "SGD"]
