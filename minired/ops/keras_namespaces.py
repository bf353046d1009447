"""Keras' sub-namespaces ``keras.ops.nn`` and ``keras.ops.linalg``, on minired's op files.

Keras files its ops under four names besides ``keras.ops``: ``keras.ops.nn``,
``keras.ops.linalg``, ``keras.ops.numpy`` and ``keras.ops.image``, each holding the same
functions as ``keras.ops`` (``keras.ops.nn.relu is keras.ops.relu``). In minired,
``mr.ops.nn`` and ``mr.ops.linalg`` are the files :mod:`minired.ops.nn` and
:mod:`minired.ops.linalg`, which write only part of those namespaces (the convolutions live
in ``nn_conv.py``, the decompositions in ``linalg_more.py``...). Each of the two files ends
with the hooks made here: asked for one of Keras' names it does not define, the module
answers with ``mr.ops.<name>`` (the same function, no copy), and ``dir()`` and ``__all__``
list exactly Keras' names. (``linalg.py`` also writes ``matmul``, ``dot``, ``einsum``...,
which Keras files under ``keras.ops.numpy``: they stay reachable there as attributes, unlisted.)
``mr.ops.numpy`` is :mod:`minired.ops.numpy_namespace`.

Example:
    >>> from minired.ops import nn
    >>> nn.conv is mr.ops.conv, nn.relu is mr.ops.relu
    (True, True)
    >>> import minired.ops.linalg
    >>> minired.ops.linalg.svd is mr.ops.svd
    True
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

#: Keras' ``keras.ops.nn`` names.
NN = (
    "adaptive_average_pool", "adaptive_max_pool", "average_pool", "batch_normalization",
    "binary_crossentropy", "categorical_crossentropy", "celu", "conv", "conv_transpose",
    "ctc_decode", "ctc_loss", "depth_to_space", "depthwise_conv", "dot_product_attention",
    "elu", "fold", "gelu", "glu", "hard_shrink", "hard_sigmoid", "hard_silu", "hard_swish",
    "hard_tanh", "layer_normalization", "leaky_relu", "log_sigmoid", "log_softmax",
    "max_pool", "moments", "multi_hot", "normalize", "one_hot", "polar", "psnr", "relu",
    "relu6", "rms_normalization", "selu", "separable_conv", "sigmoid", "silu",
    "soft_shrink", "softmax", "softplus", "softsign", "space_to_depth",
    "sparse_categorical_crossentropy", "sparse_plus", "sparse_sigmoid", "sparsemax",
    "squareplus", "swish", "tanh_shrink", "threshold", "unfold",
)

#: Keras' ``keras.ops.linalg`` names.
LINALG = (
    "cholesky", "cholesky_inverse", "det", "eig", "eigh", "inv", "jvp", "lstsq", "lu_factor",
    "matrix_rank", "norm", "pinv", "qr", "solve", "solve_triangular", "svd",
)


def namespace_hooks(module_name: str, names: tuple[str, ...],
                    module_globals: dict[str, Any]) -> tuple[Callable, Callable]:
    """A module's ``__getattr__`` and ``__dir__`` (PEP 562) that make it Keras' namespace.

    Args:
        module_name: the module's ``__name__`` (for the error message).
        names: Keras' names in that namespace.
        module_globals: the module's ``globals()`` (its own private names stay in ``dir``).

    Example:
        >>> getattr_, dir_ = namespace_hooks("demo", ("relu",), {"_x": 1})
        >>> getattr_("relu") is mr.ops.relu, dir_()
        (True, ['_x', 'relu'])
    """
    wanted = frozenset(names)

    def __getattr__(name: str) -> Any:  # noqa: N807 (PEP 562's name)
        if name in wanted:
            from minired import ops

            return getattr(ops, name)
        raise AttributeError(f"module {module_name!r} has no attribute {name!r}")

    def __dir__() -> list[str]:  # noqa: N807 (PEP 562's name)
        private = {name for name in module_globals if name.startswith("_")}
        return sorted(private | wanted)

    return __getattr__, __dir__
