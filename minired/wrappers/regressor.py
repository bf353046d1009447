"""SklearnRegressor: a minired regressor that scikit-learn can clone, search and score.

The targets are numbers: one per sample, ``y`` of shape ``(samples,)``, or several,
``(samples, outputs)``. The model's last layer has one unit per output and no activation
(a linear output can take any value), and ``predict`` returns the shape ``y`` had.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import RegressorMixin
from sklearn.utils.validation import validate_data

from minired.wrappers.base import SklearnWrapper


class SklearnRegressor(RegressorMixin, SklearnWrapper):
    r"""A scikit-learn regressor around a minired model (in the spirit of scikeras).

    ``score(X, y)`` is the coefficient of determination (scikit-learn's ``RegressorMixin``),
    $R^2 = 1 - \sum_n (y_n - \hat y_n)^2 / \sum_n (y_n - \bar y)^2$: 1 is perfect, 0 is
    no better than always predicting the mean $\bar y$.

    Args:
        model: a function that builds and returns a minired model whose last layer has one
            unit per output. It may declare ``n_features_in`` and ``n_outputs`` to get them
            from the data.
        loss: None compiles with ``"mse"``.
        **others: ``optimizer``, ``metrics``, ``epochs``, ``batch_size``, ``verbose``,
            ``validation_split``, ``callbacks``, ``shuffle``, ``random_state`` and the
            routed ``model__*`` / ``optimizer__*``: see
            :class:`~minired.wrappers.base.SklearnWrapper`.

    Attributes (after ``fit``):
        n_outputs_: the number of targets per sample.
        model_, history_, n_features_in_: see :class:`~minired.wrappers.base.SklearnWrapper`.

    Example:
        >>> from sklearn.datasets import make_regression
        >>> from minired.wrappers import SklearnRegressor
        >>> def build(n_features_in, n_outputs):
        ...     return mr.Sequential([mr.Input((n_features_in,)), mr.layers.Dense(n_outputs)])
        >>> X, y = make_regression(n_samples=100, n_features=3, noise=1.0, random_state=0)
        >>> reg = SklearnRegressor(build, optimizer="adam", optimizer__learning_rate=0.5,
        ...                        epochs=40, random_state=0).fit(X, y)
        >>> reg.predict(X[:4]).shape, reg.score(X, y) > 0.95   # R²
        ((4,), True)
    """

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True    # y may have several columns
        return tags

    def _check_data(self, X, y):
        X, y = validate_data(self, X, y, multi_output=True, y_numeric=True)
        self.n_outputs_ = 1 if y.ndim == 1 else y.shape[1]
        self._target_ndim = y.ndim
        return X, y

    def _data_sizes(self) -> dict:
        return {"n_features_in": self.n_features_in_, "n_outputs": self.n_outputs_}

    def _check_output_width(self, width: int) -> None:
        if width != self.n_outputs_:
            raise ValueError(
                f"{type(self).__name__}: `y` has {self.n_outputs_} output(s) per sample, but "
                f"the model's last layer has {width} units. Give it one unit per output; the "
                "model function can declare `n_outputs` to receive the number.")

    def _default_loss(self, width: int) -> str:
        return "mse"

    def _encode(self, y: np.ndarray, width: int) -> np.ndarray:
        return y.reshape(len(y), width)

    def predict(self, X) -> np.ndarray:
        """The model's outputs: shape ``(samples,)`` if ``y`` had one target per sample,
        else ``(samples, n_outputs_)``."""
        outputs = self._model_outputs(X).astype(np.float64)    # scikit-learn's dtype
        return outputs[:, 0] if self._target_ndim == 1 else outputs
