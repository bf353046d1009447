"""What :class:`SklearnClassifier` and :class:`SklearnRegressor` share: the scikit-learn
estimator contract around a minired model. :func:`model_outputs`, the start of every
``predict``, is shared with Keras' wrappers too (``SKLearnClassifier``... in
sklearn_wrapper.py).

scikit-learn drives every estimator through a small contract:

- ``__init__`` only stores its arguments, unchanged: they are the estimator's
  **parameters**;
- ``get_params()`` and ``set_params(**params)`` read and change them: ``clone`` copies an
  estimator with them, and a search sets each value it tries with them;
- ``fit(X, y)`` learns, keeps what it learnt in attributes whose names end in ``_``
  (``model_``, ``history_``...) and returns ``self``;
- ``predict(X)`` and ``score(X, y)`` use what ``fit`` learnt.

``fit`` does what you would write by hand with minired::

    mr.utils.set_random_seed(random_state)              # if random_state is given
    model_ = model(**model__parameters)                 # your function builds the network
    model_.compile(optimizer(**optimizer__parameters),  # unless your function compiled it
                   loss, metrics)
    history_ = model_.fit(X, y, epochs=epochs, batch_size=batch_size, ...).history

Every ``fit`` builds a new model: fitting twice starts from new initial weights, not from
the weights of the first fit.

**Routed parameters.** A keyword that starts with ``model__`` or ``optimizer__`` goes to
that object, as in scikeras: ``model__units=32`` calls ``model(units=32)``, and
``optimizer="adam", optimizer__learning_rate=0.01`` compiles with
``Adam(learning_rate=0.01)``. They are parameters like the others, so a search can try
them::

    GridSearchCV(clf, {"model__units": [8, 32], "optimizer__learning_rate": [0.001, 0.01]})

In scikit-learn, ``a__b`` usually means "parameter ``b`` of the estimator ``a``" (a step of
a ``Pipeline``). Here ``model`` is a function and ``optimizer`` a name, not estimators, so
the wrapper keeps the routed values itself (in ``_routed_params``) and extends
``get_params`` / ``set_params`` to include them.
"""

from __future__ import annotations

import inspect
import numbers

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted, validate_data

from minired.optimizers import ALL_OPTIMIZERS, Optimizer
from minired.trainers.trainer import Trainer
from minired.utils.naming import lookup
from minired.utils.rng_utils import set_random_seed

#: The objects a routed parameter can go to: ``model__units`` goes to ``model``.
ROUTES = ("model", "optimizer")


def route_of(name: str) -> str | None:
    """The route of a parameter name (``"model"`` for ``"model__units"``), or None.

    Example:
        >>> route_of("model__units"), route_of("optimizer__learning_rate"), route_of("epochs")
        ('model', 'optimizer', None)
    """
    route, separator, rest = name.partition("__")
    return route if separator and rest and route in ROUTES else None


class SklearnWrapper(BaseEstimator):
    """Base class of the scikit-learn wrappers: parameters, routing, building and fitting.

    Use :class:`~minired.wrappers.SklearnClassifier` or
    :class:`~minired.wrappers.SklearnRegressor`; each adds its targets and its ``predict``.

    Args:
        model: a function that builds and returns a minired model (compiled or not). It is
            called with the ``model__*`` parameters and, if it declares them, the sizes of
            the data: ``n_features_in`` (columns of ``X``) and ``n_classes`` (classifier)
            or ``n_outputs`` (regressor), for the first and the last layer.
        optimizer: for ``compile``: a name (``"adam"``), a class (``mr.optimizers.Adam``)
            or an instance, made anew for every fit with the ``optimizer__*`` parameters.
            None: ``"rmsprop"``, the default of ``compile``.
        loss: for ``compile``: a name or a Loss. None: the subclass's default.
        metrics: for ``compile``, e.g. ``["accuracy"]``: they appear in ``history_``.
            ``optimizer``, ``loss`` and ``metrics`` are only for a model returned
            uncompiled; with a compiled one, giving them is an error (they would be ignored).
        epochs: passed to ``fit`` (Keras' default 1).
        batch_size: passed to ``fit`` and ``predict`` (None: 32).
        verbose: passed to ``fit``; 0 (the default here) trains silently, as a search wants.
        validation_split: passed to ``fit``: the last fraction of ``X`` (before shuffling)
            is held out, and ``history_`` gets ``val_*`` entries.
        callbacks: passed to ``fit``, as they are (``clone`` gives each copy its own).
        shuffle: passed to ``fit``.
        random_state: an int calls ``mr.utils.set_random_seed(random_state)`` before
            building, so initial weights, dropout masks and the order of the batches repeat
            from fit to fit (like ``set_random_seed``, it also seeds Python's and NumPy's
            global generators); a ``np.random.RandomState`` draws that int; None: no seeding.
        **routed_params: ``model__<name>=value`` and ``optimizer__<name>=value``.

    Attributes (after ``fit``):
        model_: the trained minired model.
        history_: ``model_.fit(...).history``: a dict of per-epoch lists (``"loss"``...),
            ready for ``mr.plot.history``.
        n_features_in_: the number of columns of ``X``.
    """

    def __init__(self, model=None, *, optimizer=None, loss=None, metrics=None, epochs=1,
                 batch_size=None, verbose=0, validation_split=0.0, callbacks=None,
                 shuffle=True, random_state=None, **routed_params):
        self.model = model
        self.optimizer = optimizer
        self.loss = loss
        self.metrics = metrics
        self.epochs = epochs
        self.batch_size = batch_size
        self.verbose = verbose
        self.validation_split = validation_split
        self.callbacks = callbacks
        self.shuffle = shuffle
        self.random_state = random_state
        self._routed_params = dict(routed_params)   # checked by fit, as scikit-learn asks

    # -- parameters: scikit-learn's get_params / set_params, plus the routed ones -----------
    def get_params(self, deep: bool = True) -> dict:
        """The parameters, routed ones included (``clone`` and the searches read them here).

        Example:
            >>> from minired.wrappers import SklearnClassifier
            >>> clf = SklearnClassifier(epochs=5, model__units=8)
            >>> {k: v for k, v in clf.get_params().items() if k in ("epochs", "model__units")}
            {'epochs': 5, 'model__units': 8}
        """
        return {**super().get_params(deep=deep), **self._routed_params}

    def set_params(self, **params):
        """Change parameters, routed ones included; returns ``self``.

        Example:
            >>> from minired.wrappers import SklearnClassifier
            >>> clf = SklearnClassifier().set_params(epochs=3, optimizer__learning_rate=0.1)
            >>> clf.epochs, clf.get_params()["optimizer__learning_rate"]
            (3, 0.1)
        """
        # A name that get_params lists can be set, even one that fit will refuse (a typo
        # given to __init__): scikit-learn asks __init__ and set_params never to raise.
        for name in [k for k in params if route_of(k) is not None or k in self._routed_params]:
            self._routed_params[name] = params.pop(name)
        return super().set_params(**params)

    def _check_routed_names(self) -> None:
        """Every extra keyword must be routed: ``unit=32`` is a typo, not a parameter."""
        for name in self._routed_params:
            if route_of(name) is None:
                raise TypeError(
                    f"{type(self).__name__} got an unexpected parameter {name!r}. Parameters "
                    "for the model function start with 'model__' (model__units=32), for the "
                    "optimizer with 'optimizer__' (optimizer__learning_rate=0.01).")

    def _routed(self, route: str) -> dict:
        """The parameters for ``route``, without their prefix: ``{"units": 32}``."""
        prefix = route + "__"
        return {name[len(prefix):]: value for name, value in self._routed_params.items()
                if name.startswith(prefix)}

    # -- what each subclass defines ---------------------------------------------------------
    def _check_data(self, X, y) -> tuple[np.ndarray, np.ndarray]:
        """Validate ``X`` and ``y``, learn what the targets say (``classes_``...), and return
        both as arrays."""
        raise NotImplementedError

    def _encode(self, y: np.ndarray, width: int) -> np.ndarray:
        """The targets ``model_.fit`` trains on, for a model of ``width`` outputs."""
        raise NotImplementedError

    def _data_sizes(self) -> dict:
        """The sizes the model function may declare: ``{"n_features_in": ..., ...}``."""
        raise NotImplementedError

    def _check_output_width(self, width: int) -> None:
        """Raise a ValueError when the model's last layer cannot give these targets."""
        raise NotImplementedError

    def _default_loss(self, width: int) -> str:
        """The loss to compile with when ``loss`` is None."""
        raise NotImplementedError

    # -- fit --------------------------------------------------------------------------------
    def fit(self, X, y, sample_weight=None):
        """Build a new model, compile it, and train it on ``(X, y)``; returns ``self``.

        Args:
            X: inputs, shape ``(samples, features)``.
            y: targets, one per sample.
            sample_weight: optional weight of each sample in the loss, shape ``(samples,)``.
        """
        self._check_routed_names()
        X, y = self._check_data(X, y)
        if sample_weight is not None and not np.any(np.asarray(sample_weight, dtype=float)):
            raise ValueError(f"{type(self).__name__}: every sample weight is zero: there is "
                             "nothing to learn from.")
        seed = self._seed()
        if seed is not None:
            set_random_seed(seed)
        self.model_ = self._build_model()
        width = self.model_.compute_output_shape((None, self.n_features_in_))[-1]
        self._check_output_width(width)
        self._compile(self.model_, width)
        history = self.model_.fit(
            X, self._encode(y, width), batch_size=self.batch_size, epochs=self.epochs,
            verbose=self.verbose, callbacks=self.callbacks,
            validation_split=self.validation_split, shuffle=self.shuffle,
            sample_weight=sample_weight)
        self.history_ = history.history
        return self

    def _seed(self) -> int | None:
        if self.random_state is None:
            return None
        if isinstance(self.random_state, numbers.Integral):
            return int(self.random_state)
        return int(check_random_state(self.random_state).randint(2**31 - 1))

    def _build_model(self) -> Trainer:
        """Call ``model`` with the ``model__*`` parameters and the data sizes it declares."""
        builder, name = self.model, type(self).__name__
        if builder is None:
            raise ValueError(
                f"{name}: `model` is required: a function that builds and returns a minired "
                "model, e.g. def build(n_features_in, n_classes, units=16): return "
                "mr.Sequential([...]).")
        if isinstance(builder, Trainer) or not callable(builder):
            raise TypeError(
                f"{name}: `model` must be a function that builds a model, so that every fit "
                f"starts from new weights; got {type(builder).__name__}. Wrap it: "
                "def build(): return mr.Sequential([...]).")
        declared = inspect.signature(builder).parameters
        takes_any = any(p.kind is p.VAR_KEYWORD for p in declared.values())
        arguments = {k: v for k, v in self._data_sizes().items() if takes_any or k in declared}
        arguments.update(self._routed("model"))
        unknown = [k for k in arguments if not takes_any and k not in declared]
        if unknown:
            raise TypeError(
                f"{name}: model__{unknown[0]} is set, but the function "
                f"{getattr(builder, '__name__', builder)!r} has no parameter {unknown[0]!r} "
                f"(it has: {', '.join(declared) or 'none'}).")
        model = builder(**arguments)
        if not isinstance(model, Trainer):
            raise TypeError(f"{name}: `model` must return a minired model (e.g. "
                            f"mr.Sequential), got {type(model).__name__}.")
        return model

    def _compile(self, model: Trainer, width: int) -> None:
        """Compile ``model`` with ``optimizer``, ``loss`` and ``metrics``, unless the model
        function compiled it (then giving them is an error: they would be ignored)."""
        if model.compiled:
            ignored = [f"{k}={getattr(self, k)!r}" for k in ("optimizer", "loss", "metrics")
                       if getattr(self, k) is not None]
            ignored += [f"optimizer__{k}" for k in self._routed("optimizer")]
            if ignored:
                raise ValueError(
                    f"{type(self).__name__}: the function `model` returned a compiled model, "
                    f"so {', '.join(ignored)} would be ignored. Return the model uncompiled "
                    "(the wrapper then compiles it with them), or leave them out.")
            return
        loss = self._default_loss(width) if self.loss is None else self.loss
        model.compile(optimizer=self._make_optimizer(), loss=loss, metrics=self.metrics)

    def _make_optimizer(self) -> Optimizer:
        """A new optimizer (no state from an earlier fit) with the ``optimizer__*`` values."""
        optimizer = "rmsprop" if self.optimizer is None else self.optimizer
        arguments = self._routed("optimizer")
        if isinstance(optimizer, Optimizer):
            return type(optimizer).from_config({**optimizer.get_config(), **arguments})
        if isinstance(optimizer, str):
            optimizer = lookup("optimizer", optimizer.lower(), ALL_OPTIMIZERS)
        if not (isinstance(optimizer, type) and issubclass(optimizer, Optimizer)):
            raise TypeError(f"{type(self).__name__}: `optimizer` must be a name ('adam'), an "
                            f"optimizer class or instance, got {optimizer!r}.")
        return optimizer(**arguments)

    # -- predict ----------------------------------------------------------------------------
    def _model_outputs(self, X) -> np.ndarray:
        """``model_.predict(X)`` (see :func:`model_outputs`), silently."""
        return model_outputs(self, X, batch_size=self.batch_size, verbose=0)


def model_outputs(estimator: BaseEstimator, X, **predict_kwargs) -> np.ndarray:
    """``estimator.model_.predict(X, **predict_kwargs)``, after checking that ``estimator``
    is fitted and ``X`` has the columns it was fitted on (scikit-learn's own errors:
    NotFittedError, ValueError). Every wrapper's ``predict`` starts here.

    Example:
        >>> from sklearn.exceptions import NotFittedError
        >>> from minired.wrappers import SKLearnRegressor
        >>> try:
        ...     model_outputs(SKLearnRegressor(model=None), np.zeros((2, 3)))
        ... except NotFittedError as error:
        ...     print(str(error)[:44])
        This SKLearnRegressor instance is not fitted
    """
    check_is_fitted(estimator)
    X = validate_data(estimator, X, reset=False)
    return estimator.model_.predict(X, **predict_kwargs)
