"""minired: readable NumPy deep learning behind the Keras 3 API.

    import minired as mr
    model = mr.Sequential([mr.Input((4,)), mr.layers.Dense(8, activation="relu"),
                           mr.layers.Dense(3, activation="softmax")])
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    model.fit(x, y, epochs=10)
"""

from minired import (
    activations,
    applications,
    autodiff,
    backend,
    callbacks,
    config,
    constraints,
    datasets,
    distillation,
    distribution,
    dtype_policies,
    export,
    gradcheck,
    initializers,
    layers,
    legacy,
    losses,
    metrics,
    mixed_precision,
    ops,
    optimizers,
    plot,
    preprocessing,
    quantizers,
    random,
    regularizers,
    saving,
    tree,
    utils,
    wrappers,
)
from minired.dtype_policies import DTypePolicy, FloatDTypePolicy
from minired.initializers import Initializer
from minired.layers import Input, InputSpec, Layer
from minired.layers.keras_tensor import KerasTensor
from minired.losses import Loss
from minired.metrics import Metric
from minired.models import Model, Sequential
from minired.optimizers import Optimizer
from minired.quantizers import Quantizer
from minired.regularizers import Regularizer
from minired.utils.device import device
from minired.utils.function import Function
from minired.utils.name_scope import name_scope
from minired.utils.operation import Operation
from minired.utils.remat import RematScope, remat
from minired.utils.stateless_scope import StatelessScope
from minired.utils.symbolic_scope import SymbolicScope
from minired.variables import Variable

__version__ = "0.1.0"


def version() -> str:
    """minired's version, as ``keras.version()`` gives Keras' (``__version__``).

    Example:
        >>> version() == __version__
        True
    """
    return __version__


__all__ = [
    "Model", "Sequential", "Input", "Variable", "Layer", "Loss", "Metric", "Optimizer",
    "Initializer", "Regularizer", "InputSpec", "KerasTensor", "version", "activations",
    "DTypePolicy", "FloatDTypePolicy", "dtype_policies", "mixed_precision",
    "applications", "autodiff", "backend",
    "callbacks", "config", "constraints", "datasets", "distillation", "gradcheck",
    "initializers", "layers",
    "losses", "metrics", "ops",
    "optimizers", "plot", "preprocessing", "quantizers", "Quantizer",
    "random", "regularizers", "saving", "tree", "utils",
    "wrappers",
    "device", "distribution", "export", "Function", "legacy", "name_scope", "Operation",
    "RematScope", "remat", "StatelessScope", "SymbolicScope",
]
