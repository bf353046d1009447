"""``mr.ops``: Keras' ``keras.ops`` on NumPy, each with its vector-Jacobian product.

Same names, arguments and broadcasting as ``keras.ops``; plain NumPy arrays in and out.
While a tape records (inside ``call()`` of a user's layer during training), each op also
writes itself on the tape, so that its gradient can be computed (see
:mod:`minired.autodiff`).

By file: :mod:`~minired.ops.core` (conversions, constants), :mod:`~minired.ops.elementwise`
(arithmetic, comparisons, exp/log, maximum, clip, where), :mod:`~minired.ops.linalg`
(matmul, dot, einsum, norm), :mod:`~minired.ops.reductions` (sum, mean, max, var,
logsumexp, argmax...), :mod:`~minired.ops.shapes` (reshape, indexing, concatenate, split,
take, tile, sort...), :mod:`~minired.ops.nn` (activations, softmax, one_hot,
cross-entropies).

Example:
    >>> from minired import ops
    >>> ops.softmax(np.array([0.0, np.log(3.0)]))
    array([0.25, 0.75])
"""

# ruff: noqa: A004 (Keras' names: abs, all, any, max, min, round, sum)
from minired.ops.core import (
    arange,
    cast,
    convert_to_numpy,
    convert_to_tensor,
    dtype,
    eye,
    full,
    ndim,
    ones,
    ones_like,
    shape,
    stop_gradient,
    zeros,
    zeros_like,
)
from minired.ops.elementwise import (
    abs,
    absolute,
    add,
    ceil,
    clip,
    cos,
    divide,
    equal,
    erf,
    exp,
    expm1,
    floor,
    floor_divide,
    greater,
    greater_equal,
    isfinite,
    isnan,
    less,
    less_equal,
    log,
    log1p,
    logical_and,
    logical_not,
    logical_or,
    maximum,
    minimum,
    mod,
    multiply,
    negative,
    not_equal,
    power,
    reciprocal,
    round,
    sign,
    sin,
    sqrt,
    square,
    subtract,
    tanh,
    true_divide,
    where,
)
from minired.ops.linalg import dot, einsum, matmul, norm
from minired.ops.nn import (
    binary_crossentropy,
    categorical_crossentropy,
    elu,
    gelu,
    hard_sigmoid,
    leaky_relu,
    log_softmax,
    moments,
    one_hot,
    relu,
    relu6,
    selu,
    sigmoid,
    silu,
    softmax,
    softplus,
    softsign,
    sparse_categorical_crossentropy,
    swish,
)
from minired.ops.reductions import (
    all,
    any,
    argmax,
    argmin,
    cumsum,
    logsumexp,
    max,
    mean,
    min,
    prod,
    std,
    sum,
    var,
)
from minired.ops.shapes import (
    argsort,
    broadcast_to,
    concatenate,
    expand_dims,
    flip,
    getitem,
    repeat,
    reshape,
    sort,
    split,
    squeeze,
    stack,
    take,
    take_along_axis,
    tile,
    transpose,
)

__all__ = [
    "abs", "absolute", "add", "all", "any", "arange", "argmax", "argmin", "argsort",
    "binary_crossentropy", "broadcast_to", "cast", "categorical_crossentropy", "ceil", "clip",
    "concatenate", "convert_to_numpy", "convert_to_tensor", "cos", "cumsum", "divide", "dot",
    "dtype", "einsum", "elu", "equal", "erf", "exp", "expand_dims", "expm1", "eye", "flip",
    "floor", "floor_divide", "full", "gelu", "getitem", "greater", "greater_equal", "hard_sigmoid",
    "isfinite", "isnan", "leaky_relu", "less", "less_equal", "log", "log1p", "log_softmax",
    "logical_and", "logical_not", "logical_or", "logsumexp", "matmul", "max", "maximum", "mean",
    "min", "minimum", "mod", "moments", "multiply", "ndim", "negative", "norm", "not_equal",
    "one_hot", "ones", "ones_like", "power", "prod", "reciprocal", "relu", "relu6", "repeat",
    "reshape", "round", "selu", "shape", "sigmoid", "sign", "silu", "sin", "softmax", "softplus",
    "softsign", "sort", "sparse_categorical_crossentropy", "split", "sqrt", "square", "squeeze",
    "stack", "std", "stop_gradient", "subtract", "sum", "swish", "take", "take_along_axis", "tanh",
    "tile", "transpose", "true_divide", "var", "where", "zeros", "zeros_like",
]
