"""Keras 3's scikit-learn wrappers: ``SKLearnClassifier``, ``SKLearnRegressor``,
``SKLearnTransformer`` (``keras.wrappers``), with Keras' arguments and behaviour.

A Keras script's wrapper runs unchanged with ``import minired as keras``::

    def build(X, y, units=16):           # called with the data: X and the *encoded* y
        model = keras.Sequential([keras.Input((X.shape[1],)),
                                  keras.layers.Dense(units, activation="relu"),
                                  keras.layers.Dense(y.shape[1], activation="softmax")])
        model.compile(optimizer="adam", loss="categorical_crossentropy")   # compiled!
        return model

    clf = keras.wrappers.SKLearnClassifier(model=build, model_kwargs={"units": 8},
                                           fit_kwargs={"epochs": 20, "verbose": 0})
    cross_val_score(clf, X, y)

What ``fit(X, y, **kwargs)`` does, step by step (``SKLBase.fit``):

1. checks ``X`` and ``y`` (scikit-learn's ``validate_data``: ``X`` 2-D numbers, ``y`` 1-D)
   and remembers ``n_features_in_``;
2. encodes ``y`` (``_process_target``): the classifier **one-hot encodes** it with
   scikit-learn's ``OneHotEncoder`` (2 classes give 2 columns, as Keras does), the regressor
   and the transformer only make it a column, shape ``(samples, 1)``;
3. gets a model (``_get_model``): ``model(X=X, y=encoded_y, **model_kwargs)`` when ``model``
   is a function, a ``clone_model`` of it when it is a model (compiled the same way);
4. checks the model is compiled (the wrapper never compiles: a ``RuntimeError`` otherwise);
5. ``history_ = model.fit(X, encoded_y, **{**fit_kwargs, **kwargs})`` and ``model_ = model``.

``predict`` runs ``model_.predict(X)`` and undoes step 2: the classifier takes the column of
the largest output of each row and returns that class (``OneHotEncoder.inverse_transform``),
the regressor returns a 1-D array when ``y`` was 1-D.
"""

from __future__ import annotations

import copy

import numpy as np
import sklearn
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin, TransformerMixin
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder
from sklearn.utils.multiclass import type_of_target as sklearn_type_of_target
from sklearn.utils.validation import check_is_fitted, validate_data

from minired.models import Model, clone_model
from minired.wrappers.base import model_outputs


def type_of_target(y, input_name: str = "", *, raise_unknown: bool = False) -> str:
    """scikit-learn's ``type_of_target``, raising for ``"unknown"`` if asked (Keras' fixes.py).

    Example:
        >>> type_of_target(np.array([0, 1, 1])), type_of_target(np.array([0.5, 1.5]))
        ('binary', 'continuous')
    """
    target_type = sklearn_type_of_target(y, input_name=input_name)
    if raise_unknown and target_type == "unknown":
        raise ValueError(f"Unknown label type for {input_name or 'data'}: {y!r}")
    return target_type


def check_model(model) -> None:
    """Raise unless ``model`` is a compiled minired model with a loss and an optimizer
    (Keras' ``_check_model``; the wrappers never compile a model themselves)."""
    if not isinstance(model, Model):
        raise TypeError("`model` must be a minired Model (e.g. mr.Sequential) or a function "
                        f"returning one; got {type(model).__name__}.")
    if not model.compiled or not model.loss or not model.optimizer:
        raise RuntimeError("Given model needs to be compiled, and have a loss and an "
                           "optimizer.")


class TargetReshaper(TransformerMixin, BaseEstimator):
    """Make a 1-D ``y`` a column ``(samples, 1)``, and back (Keras' ``TargetReshaper``).

    Attributes:
        ndim_: the number of dimensions of the ``y`` it was fitted on.

    Example:
        >>> y = np.array([3, 4])
        >>> reshaper = TargetReshaper().fit(y)
        >>> reshaper.transform(y).shape, reshaper.inverse_transform(np.ones((2, 1))).shape
        ((2, 1), (2,))
    """

    def fit(self, y):
        """Remember ``y.ndim``; returns ``self``."""
        self.ndim_ = y.ndim
        return self

    def transform(self, y):
        """``y`` as a column if it is 1-D, else unchanged."""
        return y.reshape(-1, 1) if y.ndim == 1 else y

    def inverse_transform(self, y):
        """Squeeze a ``(samples, 1)`` back to 1-D if the fitted ``y`` was 1-D."""
        check_is_fitted(self)
        if self.ndim_ == 1 and y.ndim == 2:
            return np.squeeze(y, axis=1)
        return y


class SKLBase(BaseEstimator):
    """What Keras' three scikit-learn wrappers share: arguments, ``fit`` and ``predict``.

    Training has random parts (initial weights, shuffling): call
    ``mr.utils.set_random_seed(seed)`` first for results that repeat.

    Args:
        model: a compiled minired model, or a function returning one. A function is called as
            ``model(X=X, y=y, **model_kwargs)`` at each ``fit``, with ``y`` already encoded
            (one-hot for the classifier, a column otherwise), so it can read the sizes of the
            first and last layers from ``X.shape[1]`` and ``y.shape[1]``. A model is cloned
            with ``mr.models.clone_model`` (new weights, same compile arguments) before each
            fit, unless ``warm_start=True``.
        warm_start: reuse the weights of the previous fit: the model given (not a clone)
            is trained, and a second ``fit`` trains ``model_`` further.
        model_kwargs: keyword arguments for ``model`` when it is a function.
        fit_kwargs: keyword arguments for ``model.fit`` (``epochs``, ``batch_size``,
            ``verbose``...). Those given to the wrapper's ``fit`` take precedence.

    Attributes (after ``fit``):
        model_: the trained model.
        history_: the ``History`` that ``model.fit`` returned (``history_.history`` is the
            dict of per-epoch lists).
        n_features_in_: the number of columns of ``X``.

    Where minired differs from keras 3.15.1 (each a Keras bug): ``warm_start=True`` works
    (3.15.1 ignores it; fixed later, keras-team/keras#23098); ``clone`` keeps
    ``fit_kwargs`` (3.15.1 drops them, so cross-validation trains with ``fit``'s defaults);
    ``fit(X, y, epochs=2)`` does not write ``epochs`` into ``fit_kwargs`` (3.15.1 does, so
    it sticks to later fits); ``epoch_`` counts the epochs of the last fit (3.15.1 raises
    AttributeError after ``fit``).
    """

    def __init__(self, model, warm_start=False, model_kwargs=None, fit_kwargs=None):
        self.model = model
        self.warm_start = warm_start
        self.model_kwargs = model_kwargs
        self.fit_kwargs = fit_kwargs

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.non_deterministic = True       # two fits start from different random weights
        return tags

    def __sklearn_clone__(self):
        """A copy with the same arguments (``sklearn.base.clone`` calls this). A model or a
        function is shared, not copied (each ``fit`` clones a model anyway). Unlike
        keras 3.15.1, the copy keeps ``fit_kwargs``."""
        model = self.model if callable(self.model) else copy.deepcopy(self.model)
        return type(self)(model=model, warm_start=self.warm_start,
                          model_kwargs=self.model_kwargs, fit_kwargs=self.fit_kwargs)

    @property
    def epoch_(self) -> int:
        """The number of epochs the last ``fit`` trained (0 before ``fit``)."""
        history = getattr(self, "history_", None)
        return len(history.epoch) if history is not None else 0

    def set_fit_request(self, **kwargs):
        """Request metadata (``sample_weight``...) for ``score``, as Keras does; only with
        ``sklearn.set_config(enable_metadata_routing=True)``. Returns ``self``."""
        if not sklearn.get_config().get("enable_metadata_routing", False):
            raise RuntimeError(
                "This method is only available when metadata routing is enabled. You can "
                "enable it using sklearn.set_config(enable_metadata_routing=True).")
        self._metadata_request = sklearn.utils.metadata_routing.MetadataRequest(
            owner=self.__class__.__name__)
        for param, alias in kwargs.items():
            self._metadata_request.score.add_request(param=param, alias=alias)
        return self

    def _get_model(self, X, y) -> Model:
        """The model to train: ``model_`` again, the model given, a clone, or a new one."""
        if self.warm_start and hasattr(self, "model_"):
            return self.model_
        if isinstance(self.model, Model):
            if self.warm_start:
                return self.model
            return clone_model(self.model)   # compiled the same way, as by Keras
        if not callable(self.model):
            raise TypeError("`model` must be a minired Model or a function returning one; "
                            f"got {type(self.model).__name__}.")
        return self.model(X=X, y=y, **(self.model_kwargs or {}))

    def fit(self, X, y, **kwargs):
        """Get a model (see the module's steps) and train it on ``(X, y)``; returns ``self``.

        Args:
            X: inputs, shape ``(samples, features)``.
            y: targets, shape ``(samples,)``.
            **kwargs: for ``model.fit`` (``epochs=5``, ``sample_weight=w``...), over
                ``fit_kwargs``.
        """
        X, y = validate_data(self, X, y)
        y = self._process_target(y, reset=True)
        model = self._get_model(X, y)
        check_model(model)
        self.history_ = model.fit(X, y, **{**(self.fit_kwargs or {}), **kwargs})
        self.model_ = model
        return self

    def predict(self, X):
        """``model_.predict(X)``, decoded back to targets like ``y``."""
        return self._reverse_process_target(model_outputs(self, X))

    def _process_target(self, y, reset: bool = False):
        """The regressor's and transformer's targets: ``y`` as a column."""
        type_of_target(y, raise_unknown=True)           # a clear error for odd targets
        if reset:
            self._target_encoder = TargetReshaper().fit(y)
        return self._target_encoder.transform(y)

    def _reverse_process_target(self, y):
        return self._target_encoder.inverse_transform(y)


class SKLearnClassifier(ClassifierMixin, SKLBase):
    """A scikit-learn classifier around a compiled minired model (``keras.wrappers``).

    ``y`` is one-hot encoded before ``model`` is called: ``(samples, classes)``, with 2 columns
    for two classes, so the last layer has ``y.shape[1]`` units (softmax) and the loss is
    ``categorical_crossentropy``. ``predict`` returns the class of the largest output
    of each row; ``score`` is the accuracy. There is no ``predict_proba`` (as in Keras):
    ``decision_function`` returns the model's raw outputs.

    Args:
        model, warm_start, model_kwargs, fit_kwargs: see :class:`SKLBase`.

    Attributes (after ``fit``):
        classes_: the sorted labels; column ``k`` of the outputs is ``classes_[k]``.
        model_, history_, n_features_in_: see :class:`SKLBase`.

    Example:
        >>> from sklearn.datasets import load_iris
        >>> def build(X, y, units=8):
        ...     model = mr.Sequential([mr.Input((X.shape[1],)),
        ...                            mr.layers.Dense(units, activation="relu"),
        ...                            mr.layers.Dense(y.shape[1], activation="softmax")])
        ...     model.compile(optimizer=mr.optimizers.Adam(0.03),
        ...                   loss="categorical_crossentropy")
        ...     return model
        >>> X, y = load_iris(return_X_y=True)
        >>> mr.config.disable_interactive_logging()      # no progress bars below
        >>> clf = mr.wrappers.SKLearnClassifier(model=build, model_kwargs={"units": 16},
        ...                                     fit_kwargs={"epochs": 30, "verbose": 0})
        >>> clf.fit(X, y).classes_, clf.predict(X[[0, 60, 120]])
        (array([0, 1, 2]), array([0, 1, 2]))
        >>> clf.decision_function(X[:2]).shape, bool(clf.score(X, y) > 0.9)
        ((2, 3), True)
        >>> mr.config.enable_interactive_logging()
    """

    def decision_function(self, X):
        """The model's raw outputs, shape ``(samples, len(classes_))``."""
        return model_outputs(self, X)

    def _process_target(self, y, reset: bool = False):
        """One-hot ``y``: shape ``(samples, classes)``."""
        target_type = type_of_target(y, raise_unknown=True)
        if target_type not in ["binary", "multiclass"]:
            raise ValueError("Only binary and multiclass target types are supported. "
                             f"Target type: {target_type}")
        if reset:
            self._target_encoder = make_pipeline(
                TargetReshaper(), OneHotEncoder(sparse_output=False)).fit(y)
            self.classes_ = np.unique(y)
            if len(self.classes_) == 1:
                raise ValueError("Classifier can't train when only one class is present.")
        return self._target_encoder.transform(y)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.poor_score = True
        return tags


class SKLearnRegressor(RegressorMixin, SKLBase):
    """A scikit-learn regressor around a compiled minired model (``keras.wrappers``).

    ``model`` receives ``y`` as a column ``(samples, 1)``; ``predict`` returns shape
    ``(samples,)``; ``score`` is R² (scikit-learn's ``RegressorMixin``).

    Args:
        model, warm_start, model_kwargs, fit_kwargs: see :class:`SKLBase`.

    Example:
        >>> from sklearn.datasets import make_regression
        >>> def build(X, y):
        ...     model = mr.Sequential([mr.Input((X.shape[1],)), mr.layers.Dense(y.shape[1])])
        ...     model.compile(optimizer=mr.optimizers.SGD(0.1), loss="mse")
        ...     return model
        >>> X, y = make_regression(n_samples=60, n_features=3, noise=0.1, random_state=0)
        >>> mr.config.disable_interactive_logging()
        >>> reg = mr.wrappers.SKLearnRegressor(model=build, fit_kwargs={"epochs": 40,
        ...                                                             "verbose": 0})
        >>> reg.fit(X, y / 100).predict(X[:4]).shape, bool(reg.score(X, y / 100) > 0.99)
        ((4,), True)
        >>> mr.config.enable_interactive_logging()
    """

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.regressor_tags.poor_score = True
        return tags


class SKLearnTransformer(TransformerMixin, SKLBase):
    """A scikit-learn transformer around a compiled minired model (``keras.wrappers``).

    A transformer in scikit-learn's sense (a ``Pipeline`` step), not the attention model:
    ``fit(X, y)`` trains the model, ``transform(X)`` returns its outputs (an embedding, for
    a later step).

    Args:
        model, warm_start, model_kwargs, fit_kwargs: see :class:`SKLBase`.

    Example:
        >>> def build(X, y):
        ...     model = mr.Sequential([mr.Input((X.shape[1],)), mr.layers.Dense(y.shape[1])])
        ...     model.compile(optimizer="sgd", loss="mse")
        ...     return model
        >>> X, y = np.arange(12.0).reshape(4, 3) / 10, np.arange(4.0)
        >>> mr.config.disable_interactive_logging()
        >>> trs = mr.wrappers.SKLearnTransformer(model=build, fit_kwargs={"verbose": 0})
        >>> trs.fit_transform(X, y).shape, trs.transform(X).dtype
        ((4, 1), dtype('float32'))
        >>> mr.config.enable_interactive_logging()
    """

    def transform(self, X):
        """``model_.predict(X)``: shape ``(samples, outputs)``."""
        return model_outputs(self, X)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = []      # float64 in, float32 out
        return tags
