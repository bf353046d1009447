"""Wrappers: a minired model behind another library's API.

Keras 3's wrappers (``keras.wrappers``), with Keras' arguments: ``model`` (a compiled model,
or a function ``model(X=X, y=y, **model_kwargs)`` returning one), ``warm_start``,
``model_kwargs``, ``fit_kwargs``. A Keras script that uses them runs with
``import minired as keras``:

=========================  ==============================================================
``SKLearnClassifier``      a classifier; ``y`` one-hot encoded for the model (sklearn_wrapper.py)
``SKLearnRegressor``       a regressor (sklearn_wrapper.py)
``SKLearnTransformer``     a pipeline step whose ``transform`` is the model's output
=========================  ==============================================================

minired's own wrappers, in the style of scikeras (lesson 11): ``model__units=32`` goes to the
function that builds the model, ``optimizer__learning_rate`` to the optimizer, and the
wrapper compiles the model itself:

=========================  ==============================================================
``SklearnClassifier``      a scikit-learn classifier around a minired model (classifier.py)
``SklearnRegressor``       a scikit-learn regressor around a minired model (regressor.py)
``SklearnWrapper``         what both share: parameters, routing, building, fitting (base.py)
=========================  ==============================================================

With them, scikit-learn's tools drive minired: ``GridSearchCV``, ``RandomizedSearchCV``,
``cross_val_score``, ``Pipeline``...

scikit-learn is optional (``pip install scikit-learn``): ``import minired`` does not import
it. The first time ``mr.wrappers.SklearnClassifier`` (or another name above) is used, its
module is imported, and a missing scikit-learn is reported then, with the command that
installs it.
"""

from __future__ import annotations

import importlib

INSTALL_HINT = "pip install scikit-learn"

# Each public name and the module that defines it; imported on first use (see __getattr__).
_MODULES = {
    "SKLearnClassifier": "minired.wrappers.sklearn_wrapper",
    "SKLearnRegressor": "minired.wrappers.sklearn_wrapper",
    "SKLearnTransformer": "minired.wrappers.sklearn_wrapper",
    "SklearnClassifier": "minired.wrappers.classifier",
    "SklearnRegressor": "minired.wrappers.regressor",
    "SklearnWrapper": "minired.wrappers.base",
}


def __getattr__(name: str):
    """Import a wrapper the first time it is asked for (Python calls this module-level
    ``__getattr__`` only for names the module does not have yet: PEP 562)."""
    if name not in _MODULES:
        raise AttributeError(f"module 'minired.wrappers' has no attribute {name!r}; it has "
                             f"{', '.join(sorted(_MODULES))}.")
    try:
        # a module of the fixed table above (minired's own), never a name read from a file
        module = importlib.import_module(_MODULES[name])
    except ModuleNotFoundError as error:
        if error.name is None or error.name.split(".")[0] != "sklearn":
            raise
        raise ModuleNotFoundError(
            f"mr.wrappers.{name} is used through scikit-learn, which is not installed: "
            f"{INSTALL_HINT}") from error
    return getattr(module, name)


def __dir__() -> list[str]:
    return sorted([*globals(), *_MODULES])


__all__ = ["SKLearnClassifier", "SKLearnRegressor", "SKLearnTransformer",
           "SklearnClassifier", "SklearnRegressor", "SklearnWrapper"]
