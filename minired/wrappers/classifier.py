"""SklearnClassifier: a minired classifier that scikit-learn can clone, search and score.

The labels can be anything scikit-learn accepts (``[0, 1, 2]``, ``["cat", "dog"]``...).
``fit`` sorts them into ``classes_`` and trains on their positions ``0..K-1``, written the
way the loss reads them:

===================================  ============================  ======================
the model's loss                     targets for ``model_.fit``    e.g. class 2 of 3
===================================  ============================  ======================
``sparse_categorical_crossentropy``  the position                  ``2``
``categorical_crossentropy``         one-hot rows                  ``[0, 0, 1]``
a last layer of 1 unit (sigmoid)     the position, 0 or 1          ``[1]`` (2 classes)
===================================  ============================  ======================

``predict_proba`` reads the model's outputs as probabilities, one column per class of
``classes_``, and ``predict`` returns the class of the largest: ``classes_[argmax]``.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import ClassifierMixin
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import validate_data

from minired.activations import sigmoid, softmax
from minired.losses import SparseCategoricalCrossentropy
from minired.utils import to_categorical
from minired.wrappers.base import SklearnWrapper


class SklearnClassifier(ClassifierMixin, SklearnWrapper):
    """A scikit-learn classifier around a minired model (in the spirit of scikeras).

    ``score(X, y)`` is the accuracy (scikit-learn's ``ClassifierMixin``).

    Args:
        model: a function that builds and returns a minired model whose last layer has
            one unit per class (softmax), or 1 unit (sigmoid) for two classes. It may
            declare ``n_features_in`` and ``n_classes`` to get them from the data.
        loss: None compiles with ``"sparse_categorical_crossentropy"``, or
            ``"binary_crossentropy"`` when the last layer has 1 unit.
        **others: ``optimizer``, ``metrics``, ``epochs``, ``batch_size``, ``verbose``,
            ``validation_split``, ``callbacks``, ``shuffle``, ``random_state`` and the
            routed ``model__*`` / ``optimizer__*``: see
            :class:`~minired.wrappers.base.SklearnWrapper`.

    Attributes (after ``fit``):
        classes_: the sorted labels; column ``k`` of ``predict_proba`` is ``classes_[k]``.
        model_, history_, n_features_in_: see :class:`~minired.wrappers.base.SklearnWrapper`.

    Example:
        >>> from sklearn.datasets import load_iris
        >>> from minired.wrappers import SklearnClassifier
        >>> def build(n_features_in, n_classes, units=16):
        ...     return mr.Sequential([mr.Input((n_features_in,)),
        ...                           mr.layers.Dense(units, activation="relu"),
        ...                           mr.layers.Dense(n_classes, activation="softmax")])
        >>> X, y = load_iris(return_X_y=True)
        >>> names = np.array(["setosa", "versicolor", "virginica"])[y]
        >>> clf = SklearnClassifier(build, model__units=8, optimizer="adam",
        ...                         optimizer__learning_rate=0.03, epochs=20, random_state=0)
        >>> clf.fit(X, names).classes_
        array(['setosa', 'versicolor', 'virginica'], dtype='<U10')
        >>> clf.predict(X[[0, 60, 120]])
        array(['setosa', 'versicolor', 'virginica'], dtype='<U10')
        >>> clf.predict_proba(X[:2]).shape, clf.score(X, names) > 0.95   # accuracy
        ((2, 3), True)
    """

    def _check_data(self, X, y):
        X, y = validate_data(self, X, y)
        check_classification_targets(y)   # "continuous" targets are for a regressor
        self.classes_, positions = np.unique(y, return_inverse=True)
        if len(self.classes_) < 2:
            raise ValueError(f"{type(self).__name__}: `y` has only one class, "
                             f"{self.classes_.tolist()[0]!r}; a classifier needs at least 2.")
        return X, positions

    def _data_sizes(self) -> dict:
        return {"n_features_in": self.n_features_in_, "n_classes": len(self.classes_)}

    def _check_output_width(self, width: int) -> None:
        n_classes = len(self.classes_)
        if width != n_classes and not (width == 1 and n_classes == 2):
            raise ValueError(
                f"{type(self).__name__}: `y` has {n_classes} classes, but the model's last "
                f"layer has {width} units. Give it one unit per class (softmax), or 1 unit "
                "(sigmoid) for two classes; the model function can declare `n_classes` to "
                "receive the number.")

    def _default_loss(self, width: int) -> str:
        return "binary_crossentropy" if width == 1 else "sparse_categorical_crossentropy"

    def _encode(self, positions: np.ndarray, width: int) -> np.ndarray:
        """Targets as the loss reads them (the table at the top of this module)."""
        if width == 1:
            return positions.reshape(-1, 1)
        if isinstance(self.model_.loss, SparseCategoricalCrossentropy):
            return positions
        return to_categorical(positions, num_classes=len(self.classes_))

    def predict_proba(self, X) -> np.ndarray:
        """The probability of each class, shape ``(samples, len(classes_))``; rows sum to 1.

        A last layer of 1 unit gives ``p`` of ``classes_[1]``, so the rows are ``[1-p, p]``.
        If the loss was compiled with ``from_logits=True`` the model outputs logits, and
        they are turned into probabilities here (softmax, or sigmoid for 1 unit).
        """
        outputs = self._model_outputs(X).astype(np.float64)
        if getattr(self.model_.loss, "from_logits", False):
            outputs = sigmoid(outputs) if outputs.shape[1] == 1 else softmax(outputs)
        if outputs.shape[1] == 1:
            return np.hstack([1.0 - outputs, outputs])
        return outputs

    def predict(self, X) -> np.ndarray:
        """The most probable class of each sample, taken from ``classes_``."""
        probabilities = self.predict_proba(X)         # checks first that fit has run
        return self.classes_[np.argmax(probabilities, axis=1)]
