"""Control flow (Keras' ``ops.cond``, ``switch``, ``fori_loop``, ``while_loop``, ``scan``,
``associative_scan``, ``map``, ``vectorized_map``, ``vectorize``) and ``custom_gradient``.

minired runs eagerly, so control flow is plain Python: a branch or a loop body runs on the
arrays it is given, and the tape records the ``mr.ops`` it calls, **what actually ran**.
The gradient of ``cond(p, f, g)(x)`` is that of the branch taken; that of a loop is the
chain rule through each iteration, in order (the tape walks them backwards). Nothing here
has calculus of its own, except :func:`custom_gradient`, whose VJP is the user's.

Structures: ``loop_vars``, ``init``, ``xs`` and ``elems`` may be arrays or nested
lists/tuples/dicts of arrays (Keras' "trees").

Example:
    >>> fori_loop(0, 3, lambda i, x: x * 2.0, np.array([1.0]))
    array([8.])
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import numpy as np

from minired.autodiff.tape import record
from minired.ops.core import convert_to_tensor
from minired.ops.shapes import broadcast_to, concatenate, flip, getitem, reshape, stack

# -- trees -----------------------------------------------------------------------------------

def _flatten(tree) -> list:
    """The leaves of a nested list/tuple/dict, in order (dict keys sorted, as Keras' tree)."""
    if isinstance(tree, dict):
        return [leaf for key in sorted(tree) for leaf in _flatten(tree[key])]
    if isinstance(tree, list | tuple):
        return [leaf for item in tree for leaf in _flatten(item)]
    return [tree]


def _pack(tree, leaves: list):
    """``leaves`` in the structure of ``tree`` (the inverse of :func:`_flatten`)."""
    leaves = iter(leaves)

    def build(node):
        if isinstance(node, dict):
            return {key: build(node[key]) for key in sorted(node)}
        if isinstance(node, list | tuple):
            items = [build(item) for item in node]
            return type(node)(items) if not hasattr(node, "_fields") else type(node)(*items)
        return next(leaves)

    return build(tree)


def _nested(tree) -> bool:
    return isinstance(tree, list | tuple | dict)


def _check_callable(f, name: str) -> None:
    if not callable(f):
        raise TypeError(f"`{name}` should be a callable. Received: {name}={f!r}")


# -- branches --------------------------------------------------------------------------------

def cond(pred, true_fn: Callable, false_fn: Callable):
    """``true_fn()`` if ``pred`` else ``false_fn()``: only the branch taken runs (and is
    recorded), so the gradient is that branch's.

    Args:
        pred: a boolean scalar (a Python bool or a one-element array).
        true_fn, false_fn: callables with no arguments.

    Example:
        >>> cond(np.array(True), lambda: 1.0, lambda: 2.0)
        1.0
    """
    _check_callable(true_fn, "true_fn")
    _check_callable(false_fn, "false_fn")
    value = np.asarray(pred)
    if value.size != 1:
        raise ValueError(f"ops.cond: `pred` must be a scalar, got shape {value.shape}.")
    return true_fn() if bool(value.reshape(())) else false_fn()


def switch(index, branches: list, *operands):
    """``branches[index](*operands)``, with ``index`` clamped to ``[0, len(branches) − 1]``
    (as Keras): only that branch runs and is recorded.

    Args:
        index: an int (clamped into range).
        branches: a list of callables.
        *operands: passed to the branch.

    Example:
        >>> switch(5, [lambda x: x + 1, lambda x: x * 10], np.array([2.0]))
        array([20.])
    """
    if not branches:
        raise ValueError("ops.switch: `branches` must hold at least one callable.")
    value = np.asarray(index)
    if value.size != 1:
        raise ValueError(f"ops.switch: `index` must be a scalar, got shape {value.shape}.")
    chosen = int(np.clip(int(value.reshape(())), 0, len(branches) - 1))
    return branches[chosen](*operands)


# -- loops -----------------------------------------------------------------------------------

def while_loop(cond: Callable, body: Callable, loop_vars, maximum_iterations=None):
    """Run ``loop_vars = body(*loop_vars)`` while ``cond(*loop_vars)`` (and at most
    ``maximum_iterations`` times). A tuple or list of ``loop_vars`` is passed positionally;
    the result has its structure.

    Args:
        cond: ``(*loop_vars) -> bool``.
        body: ``(*loop_vars) -> loop_vars``.
        loop_vars: an array or a tuple/list of them (passed positionally).
        maximum_iterations: an upper bound on the iterations, or None.

    Example:
        >>> while_loop(lambda i, s: i < 4, lambda i, s: (i + 1, s + i), (0, 0))
        (4, 6)
    """
    _check_callable(cond, "cond")
    _check_callable(body, "body")
    as_tuple = isinstance(loop_vars, list | tuple)
    values = tuple(loop_vars) if as_tuple else (loop_vars,)
    iterations = 0
    while ((maximum_iterations is None or iterations < maximum_iterations)
           and bool(np.asarray(cond(*values)))):
        result = body(*values)
        values = tuple(result) if as_tuple else (result,)
        if len(values) != (len(loop_vars) if as_tuple else 1):
            raise ValueError(f"ops.while_loop: `body` must return the structure of "
                             f"`loop_vars` ({len(values)} values came back).")
        iterations += 1
    return type(loop_vars)(values) if as_tuple else values[0]


def fori_loop(lower, upper, body_fun: Callable, init_val):
    """``val = body_fun(i, val)`` for ``i = lower, …, upper − 1``, from ``init_val``.

    Args:
        lower, upper: the range of ``i``.
        body_fun: ``(i, val) -> val``.
        init_val: the first ``val``.

    Example:
        >>> fori_loop(1, 4, lambda i, total: total + i, 0)
        6
    """
    _check_callable(body_fun, "body_fun")
    value = init_val
    for i in range(int(lower), int(upper)):
        value = body_fun(i, value)
    return value


def scan(f: Callable, init, xs=None, length=None, reverse=False, unroll=1):
    """``(carry, y) = f(carry, x)`` over the leading axis of ``xs``; returns the last
    ``carry`` and the ``y``'s stacked (JAX's ``lax.scan``, as Keras).

    Args:
        f: ``(carry, x) -> (carry, y)``; ``carry`` keeps the structure of ``init``.
        init: the first ``carry``.
        xs: an array (or a structure of arrays) scanned over axis 0; None with ``length``.
        length: the number of steps when ``xs`` is None.
        reverse: scan from the last step to the first (the ``y``'s stay in ``xs``' order).
        unroll: accepted for Keras' signature (a positive int or a bool); no effect.

    Example:
        >>> carry, ys = scan(lambda c, x: (c + x, c * x), 0.0, np.array([1.0, 2.0, 3.0]))
        >>> float(carry), ys
        (6.0, array([0., 2., 9.]))
    """
    _check_callable(f, "f")
    if not isinstance(unroll, bool) and (not isinstance(unroll, int) or unroll < 1):
        raise ValueError(f"`unroll` must be an positive integer or boolean. Received: "
                         f"unroll={unroll}")
    if xs is None and length is None:
        raise ValueError("Got no `xs` to scan over and `length` not provided.")
    xs_flat = [] if xs is None else [convert_to_tensor(x) for x in _flatten(xs)]
    steps = int(length) if length is not None else np.shape(xs_flat[0])[0]
    carry = init
    ys = []
    order = range(steps - 1, -1, -1) if reverse else range(steps)
    for i in order:
        x = _pack(xs, [getitem(leaf, i) for leaf in xs_flat]) if xs is not None else None
        carry, y = f(carry, x)
        ys.append(y)
    if reverse:
        ys.reverse()
    if not ys or ys[0] is None:
        return carry, None
    stacked = [stack(list(column)) for column in zip(*(_flatten(y) for y in ys), strict=True)]
    return carry, _pack(ys[0], stacked)


def associative_scan(f: Callable, elems, reverse=False, axis=0):
    """The inclusive prefix combination ``out[i] = f(out[i − 1], elems[i])`` along ``axis``
    (``out[0] = elems[0]``), for an associative ``f`` such as ``ops.add`` (a cumulative
    sum) or ``ops.maximum``.

    Keras (JAX) combines in a tree of ``log n`` parallel steps; minired walks the axis once,
    each step vectorised over the other axes: the same result for an associative ``f`` (up
    to rounding, as the order of the sums differs). ``f`` receives slices that keep
    ``axis`` (of length 1), as in Keras.

    Args:
        f: an associative ``(a, b) -> c`` on slices (and structures of them).
        elems: an array or a structure of arrays of the same length along ``axis``.
        reverse: combine from the last element to the first.
        axis: the axis scanned.

    Example:
        >>> associative_scan(lambda a, b: a + b, np.array([1.0, 2.0, 3.0]))
        array([1., 3., 6.])
    """
    _check_callable(f, "f")
    leaves = [convert_to_tensor(leaf) for leaf in _flatten(elems)]
    axis = axis % np.ndim(leaves[0])
    n = np.shape(leaves[0])[axis]
    if not all(np.shape(leaf)[axis] == n for leaf in leaves[1:]):
        raise ValueError("Array inputs to associative_scan must have the same first "
                         f"dimension. (saw: {[np.shape(leaf) for leaf in leaves]})")
    if reverse:
        leaves = [flip(leaf, axis) for leaf in leaves]

    def at(leaf, i):
        return getitem(leaf, (slice(None),) * axis + (slice(i, i + 1),))

    outputs = [[at(leaf, 0) for leaf in leaves]]
    for i in range(1, n):
        combined = f(_pack(elems, outputs[-1]), _pack(elems, [at(leaf, i) for leaf in leaves]))
        outputs.append(_flatten(combined))
    result = [concatenate(list(column), axis=axis) for column in zip(*outputs, strict=True)]
    if reverse:
        result = [flip(leaf, axis) for leaf in result]
    return _pack(elems, result)


def map(f: Callable, xs):  # noqa: A001 (Keras' name)
    """``stack([f(x) for x in xs])`` over the leading axis of ``xs`` (a structure of arrays
    allowed: ``f`` gets the structure of one slice).

    Args:
        f: the function of one slice.
        xs: an array (or a structure of arrays) mapped over axis 0.

    Example:
        >>> map(lambda x: x * x, np.array([1.0, 2.0, 3.0]))
        array([1., 4., 9.])
    """
    _check_callable(f, "f")
    return scan(lambda _, x: (None, f(x)), None, xs)[1]


def vectorized_map(function: Callable, elements):
    """``function`` applied to each slice of ``elements`` along axis 0, the results stacked
    (Keras' "parallel map"; minired maps slice by slice, as :func:`map`).

    Args:
        function: the function of one slice.
        elements: an array (or a structure of arrays) mapped over axis 0.

    Example:
        >>> vectorized_map(lambda x: x.sum(), np.ones((2, 3)))
        array([3., 3.])
    """
    _check_callable(function, "function")
    if isinstance(elements, list | tuple) and not _nested_arrays(elements):
        elements = convert_to_tensor(elements)
    return map(function, elements)


def _nested_arrays(items) -> bool:
    return any(isinstance(item, np.ndarray) or _nested(item) for item in items)


def vectorize(pyfunc: Callable, *, excluded=None, signature=None) -> Callable:
    """NumPy's ``np.vectorize`` for ``mr.ops`` code: the returned function broadcasts its
    arguments, calls ``pyfunc`` once per element (or per core block with a ``signature``
    such as ``"(n),(n)->()"``) and stacks the results; the tape records every call.

    Args:
        pyfunc: the function of one element (or of core blocks).
        excluded: positions or names of arguments passed unchanged.
        signature: a generalized-ufunc signature ``"(core dims),…->(core dims)"``.

    Example:
        >>> vectorize(lambda a, b: a * b + 1)(np.array([1.0, 2.0]), np.array(3.0))
        array([4., 7.])
    """
    _check_callable(pyfunc, "pyfunc")
    excluded = set(excluded or ())
    core_in, core_out = _parse_signature(signature)

    @functools.wraps(pyfunc)
    def wrapped(*args, **kwargs):
        fixed = {i: a for i, a in enumerate(args) if i in excluded}
        fixed_kw = {k: v for k, v in kwargs.items() if k in excluded}
        varying = [convert_to_tensor(a) for i, a in enumerate(args) if i not in excluded]
        varying_kw = {k: convert_to_tensor(v) for k, v in kwargs.items() if k not in excluded}
        names = list(varying_kw)
        arrays = varying + [varying_kw[k] for k in names]
        cores = core_in if core_in is not None else [0] * len(arrays)
        if len(cores) != len(arrays):
            raise ValueError(f"ops.vectorize: the signature {signature!r} names {len(cores)} "
                             f"inputs, the call passed {len(arrays)}.")
        loop = np.broadcast_shapes(*(np.shape(a)[:np.ndim(a) - c]
                                     for a, c in zip(arrays, cores, strict=True)))
        count = int(np.prod(loop, dtype=np.int64))
        flat = [reshape(broadcast_to(a, loop + np.shape(a)[np.ndim(a) - c:]),
                        (count, *np.shape(a)[np.ndim(a) - c:]))
                for a, c in zip(arrays, cores, strict=True)]

        def call(row):
            values = iter(row)
            positional = [fixed[i] if i in fixed else next(values)
                          for i in range(len(args))]
            keywords = {**fixed_kw, **{k: next(values) for k in names}}
            return pyfunc(*positional, **keywords)

        results = [call([getitem(a, j) for a in flat]) for j in range(count)]
        if not results:
            raise ValueError("ops.vectorize: cannot infer the output of zero calls.")
        columns = zip(*(r if isinstance(r, tuple) else (r,) for r in results), strict=True)
        outputs = [reshape(stack([convert_to_tensor(v) for v in column]),
                           loop + np.shape(column[0])) for column in columns]
        if core_out is not None and len(core_out) != len(outputs):
            raise ValueError(f"ops.vectorize: the signature {signature!r} names "
                             f"{len(core_out)} outputs, pyfunc returned {len(outputs)}.")
        return tuple(outputs) if isinstance(results[0], tuple) else outputs[0]

    return wrapped


def _parse_signature(signature) -> tuple[list[int] | None, list[int] | None]:
    """The number of core dimensions of each input and output of ``"(m,n),(n)->(m)"``."""
    if signature is None:
        return None, None
    try:
        inputs, outputs = signature.replace(" ", "").split("->")

        def counts(side: str) -> list[int]:
            groups = side[1:-1].split("),(") if side else []
            return [len([d for d in g.split(",") if d]) for g in groups]

        return counts(inputs), counts(outputs)
    except (AttributeError, ValueError):
        raise ValueError(f"ops.vectorize: `signature` must look like '(m,n),(n)->(m)', got "
                         f"{signature!r}.") from None


# -- custom_gradient -------------------------------------------------------------------------

def custom_gradient(f: Callable) -> Callable:
    """Decorator: ``f(*x)`` returns ``(y, grad_fn)``; the tape records ``y`` with
    ``grad_fn`` as its VJP, ``δx = grad_fn(δy)``, instead of the ops ``f`` ran.

    ``f`` runs on untraced views of its arguments (the tape does not see inside it).
    ``grad_fn(upstream)`` returns one gradient per argument of ``f`` (a single array when
    ``f`` has one argument), as ``tf.custom_gradient``.

    Args:
        f: a function of arrays returning ``(outputs, grad_fn)``.

    Example:
        >>> @custom_gradient
        ... def clipped_identity(x):
        ...     return x, lambda upstream: np.clip(upstream, -1.0, 1.0)
        >>> from minired.autodiff import GradientTape
        >>> with GradientTape() as tape:
        ...     x = tape.watch(np.array([2.0]))
        ...     y = clipped_identity(x) * 5.0
        >>> tape.gradient(y, x)
        array([1.])
    """
    _check_callable(f, "f")

    @functools.wraps(f)
    def wrapped(*args, **kwargs):
        plain = [np.asarray(a).view(np.ndarray) if isinstance(a, np.ndarray) else a
                 for a in args]
        result = f(*plain, **kwargs)
        if not (isinstance(result, tuple) and len(result) == 2 and callable(result[1])):
            raise TypeError("ops.custom_gradient: the decorated function must return "
                            "`(outputs, grad_fn)` with a callable grad_fn.")
        output, grad_fn = result

        def vjp(grad):
            grads = grad_fn(grad)
            grads = tuple(grads) if isinstance(grads, list | tuple) else (grads,)
            if len(grads) != len(args):
                raise ValueError(f"ops.custom_gradient: grad_fn returned {len(grads)} "
                                 f"gradients for {len(args)} inputs.")
            return tuple(None if g is None else np.asarray(g) for g in grads)

        return record(output, tuple(args), vjp)

    return wrapped
