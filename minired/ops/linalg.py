"""Matrix products: ``matmul``, ``dot``, ``einsum``, ``norm``.

For ``A = X W`` (``X`` of shape ``(N, D)``, ``W`` of shape ``(D, U)``), each
``A[n, u] = Σ_d X[n, d] W[d, u]``, so

    δX = δA Wᵀ        δW = Xᵀ δA

the two products every Dense layer's backward pass computes by hand.
"""

from __future__ import annotations

import numpy as np

from minired.autodiff.tape import record
from minired.ops.elementwise import _value


def matmul(x1, x2):
    """``A = x₁ @ x₂`` (NumPy's rules: 1-D operands, stacks of matrices broadcast).

    VJP: ``δx₁ = δA x₂ᵀ``, ``δx₂ = x₁ᵀ δA`` (with 1-D operands promoted to matrices and back;
    the tape sums broadcast stacks).
    """
    v1, v2 = _value(x1), _value(x2)

    def vjp(g):
        a1 = v1[None, :] if v1.ndim == 1 else v1          # (…, M, K)
        a2 = v2[:, None] if v2.ndim == 1 else v2          # (…, K, P)
        stacks = np.broadcast_shapes(a1.shape[:-2], a2.shape[:-2])
        g = np.reshape(g, stacks + (a1.shape[-2], a2.shape[-1]))   # the promoted axes back
        grad1 = g @ np.swapaxes(a2, -1, -2)
        grad2 = np.swapaxes(a1, -1, -2) @ g
        if v1.ndim == 1:
            grad1 = np.squeeze(grad1, -2)
        if v2.ndim == 1:
            grad2 = np.squeeze(grad2, -1)
        return grad1, grad2

    return record(np.matmul(v1, v2), (x1, x2), vjp)


def dot(x1, x2):
    """``np.dot``: a product when either is a scalar, else a sum over the last axis of
    ``x₁`` and the second-to-last of ``x₂`` (the last when ``x₂`` is 1-D).

    Written as the matching :func:`einsum`, whose VJP it uses.
    """
    v1, v2 = np.asarray(_value(x1)), np.asarray(_value(x2))
    if v1.ndim == 0 or v2.ndim == 0:
        from minired.ops.elementwise import multiply

        return multiply(x1, x2)
    letters = "abcdefghijklmnopqrstuvwxy"
    first = letters[:v1.ndim - 1] + "z"
    rest = letters[v1.ndim - 1:v1.ndim - 1 + v2.ndim - 1]
    second = "z" + rest if v2.ndim == 1 else rest[:-1] + "z" + rest[-1]
    return einsum(f"{first},{second}->{first[:-1]}{rest}", x1, x2)


def einsum(subscripts, *operands):
    """Einstein summation, as ``np.einsum``: ``"ij,jk->ik"`` is ``matmul``.

    VJP: swap the roles of the output and of one operand, e.g. for ``"ij,jk->ik"``
    ``δx₁ = einsum("ik,jk->ij", δa, x₂)`` and ``δx₂ = einsum("ij,ik->jk", x₁, δa)``. A
    letter summed inside one operand only (``"ij->i"``) comes back by broadcasting.
    Implicit outputs (no ``->``) and ``...`` are supported; a letter repeated inside one
    operand (a diagonal, ``"ii->i"``) is not.
    """
    from minired.ops.elementwise import result_dtype

    values = [np.asarray(_value(x)) for x in operands]
    dtype = result_dtype(*values)           # Keras' promotion: int32 with float32 is float32
    values = [v.astype(dtype, copy=False) for v in values]
    inputs, output = _explicit_subscripts(subscripts, values)
    a = np.einsum(f"{','.join(inputs)}->{output}", *values)

    def vjp(g):
        grads = []
        for i, sub in enumerate(inputs):
            others = [(s, v) for j, (s, v) in enumerate(zip(inputs, values, strict=True))
                      if j != i]
            known = set(output).union(*(s for s, _ in others))
            kept = "".join(c for c in sub if c in known)
            spec = ",".join([output] + [s for s, _ in others]) + "->" + kept
            grad = np.einsum(spec, g, *(v for _, v in others))
            missing = [k for k, c in enumerate(sub) if c not in known]
            grad = np.expand_dims(grad, missing) if missing else grad
            grads.append(np.broadcast_to(grad, np.broadcast_shapes(grad.shape, values[i].shape)))
        return tuple(grads)

    return record(a, tuple(operands), vjp)


def _explicit_subscripts(subscripts: str, values) -> tuple[list[str], str]:
    """``"ij,jk"`` as ``(["ij", "jk"], "ik")``, with ``...`` replaced by capital letters."""
    subscripts = subscripts.replace(" ", "")
    left, arrow, output = subscripts.partition("->")
    inputs = left.split(",")
    if len(inputs) != len(values):
        raise ValueError(f"einsum: {len(inputs)} operands in {subscripts!r}, "
                         f"{len(values)} given.")
    spare = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    widest = 0
    for k, (sub, v) in enumerate(zip(inputs, values, strict=True)):
        if "..." in sub:
            n = v.ndim - (len(sub) - 3)
            widest = max(widest, n)
            inputs[k] = sub.replace("...", spare[len(spare) - n:] if n else "")
    if not arrow:
        counts = {c: "".join(inputs).count(c) for c in "".join(inputs)}
        output = spare[len(spare) - widest:] if widest else ""
        output += "".join(sorted(c for c, n in counts.items() if n == 1 and c.islower()))
    elif "..." in output:
        output = output.replace("...", spare[len(spare) - widest:] if widest else "")
    for sub in inputs:
        if len(set(sub)) != len(sub):
            raise ValueError(f"einsum: a letter repeated inside one operand ({sub!r}, a "
                             "diagonal or trace) is not supported by minired.")
    return inputs, output



def norm(x, ord=None, axis=None, keepdims=False):  # noqa: A002 (Keras' name)
    """The norm of ``x``: ``np.linalg.norm``'s ``ord`` and ``axis``.

    Differentiable for the 2-norm of vectors and the Frobenius norm (``ord`` None, 2 for a
    vector, ``"fro"``): ``a = √Σ x²``, VJP ``δx = δa ⊙ x / a``. Other norms compute values but
    raise if a tape records them.
    """
    from minired.ops.elementwise import _float

    v = _float(x)
    if isinstance(axis, list):
        axis = tuple(axis)
    if axis is None and v.ndim > 2:
        raise ValueError(f"Invalid axis values. Received: axis=None for a {v.ndim}-D array: "
                         "norm takes one axis (vector norms) or two (matrix norms), as Keras.")
    a = np.linalg.norm(v, ord=ord, axis=axis,
                       keepdims=keepdims)
    a = np.asarray(a, dtype=v.dtype)
    vector = axis is None and (ord is None or v.ndim == 1 and ord == 2) or (
        np.ndim(axis) == 0 and axis is not None and ord in (None, 2))
    frobenius = ord in (None, "fro") and (axis is None or np.ndim(axis) == 1)
    if not (vector or frobenius):
        from minired.autodiff.tape import active_tape, is_traced

        if active_tape() is not None and is_traced(x):
            raise NotImplementedError(
                f"norm(ord={ord!r}) has no gradient in minired: only the 2-norm of vectors and "
                "the Frobenius norm (ord=None) do.")
        return a

    from minired.ops.reductions import keepdims_like

    def vjp(g):
        full = keepdims_like(a, v.ndim, axis, keepdims)
        return (keepdims_like(g, v.ndim, axis, keepdims) * v / full,)

    return record(a, (x,), vjp)


# -- products written with einsum (whose VJP they use) ----------------------------------------
_LETTERS = "abcdefghijklmnopqrstuvwxyz"


def tensordot(x1, x2, axes=2):
    """The sum of ``x₁ ⊗ x₂`` over ``axes``: the last ``axes`` of ``x₁`` with the first of
    ``x₂`` (an int), or the axes of the pair ``(axes₁, axes₂)``. Written as :func:`einsum`."""
    n1, n2 = np.ndim(_value(x1)), np.ndim(_value(x2))
    if np.ndim(axes) == 0:
        axes = (list(range(n1 - int(axes), n1)), list(range(int(axes))))
    first, second = (np.atleast_1d(a).astype(int) % n for a, n in zip(axes, (n1, n2),
                                                                       strict=True))
    if len(first) != len(second):
        raise ValueError(f"tensordot: `axes` pairs {len(first)} axes with {len(second)}.")
    sub1 = list(_LETTERS[:n1])
    sub2 = list(_LETTERS[n1:n1 + n2])
    for i, j in zip(first, second, strict=True):
        sub2[j] = sub1[i]
    out = [c for k, c in enumerate(sub1) if k not in first] + [
        c for k, c in enumerate(sub2) if k not in second]
    return einsum(f"{''.join(sub1)},{''.join(sub2)}->{''.join(out)}", x1, x2)


def outer(x1, x2):
    """``aᵢⱼ = x₁ᵢ x₂ⱼ`` of the flattened inputs."""
    from minired.ops.shapes import ravel

    return einsum("i,j->ij", ravel(x1), ravel(x2))


def inner(x1, x2):
    """The sum over the last axes of both: ``a[…, …] = Σₖ x₁[…, k] x₂[…, k]`` (a product when
    either is a scalar)."""
    n1, n2 = np.ndim(_value(x1)), np.ndim(_value(x2))
    if n1 == 0 or n2 == 0:
        from minired.ops.elementwise import multiply

        return multiply(x1, x2)
    return tensordot(x1, x2, ([-1], [-1]))


def vdot(x1, x2):
    """``a = Σ x₁ x₂`` over the flattened inputs."""
    from minired.ops.shapes import ravel

    return einsum("i,i->", ravel(x1), ravel(x2))


def kron(x1, x2):
    """The Kronecker product: ``x₁[i] · x₂`` blocks (inputs padded to the same rank with
    leading axes of size 1). Written as an :func:`einsum` and a reshape."""
    from minired.ops.shapes import reshape

    s1, s2 = np.shape(_value(x1)), np.shape(_value(x2))
    n = max(len(s1), len(s2))
    s1, s2 = (1,) * (n - len(s1)) + s1, (1,) * (n - len(s2)) + s2
    left, right = _LETTERS[:n], _LETTERS[n:2 * n]
    interleaved = "".join(a + b for a, b in zip(left, right, strict=True))
    a = einsum(f"{left},{right}->{interleaved}", reshape(x1, s1), reshape(x2, s2))
    return reshape(a, tuple(p * q for p, q in zip(s1, s2, strict=True)))


def cross(x1, x2, axisa=-1, axisb=-1, axisc=-1, axis=None):
    """The cross product of 3-vectors along ``axisa``/``axisb`` (result along ``axisc``;
    ``axis`` sets all three). 2-vectors count as ``(x, y, 0)``; two 2-vectors give the
    scalar ``z`` component. Written with products of components (their VJPs give
    ``δx₁ = x₂ × δa``, ``δx₂ = δa × x₁``)."""
    from minired.ops import elementwise as ew
    from minired.ops.shapes import moveaxis, pad, stack

    if axis is not None:
        axisa = axisb = axisc = axis
    u, w = moveaxis(x1, axisa, -1), moveaxis(x2, axisb, -1)
    sizes = (np.shape(u)[-1], np.shape(w)[-1])
    if not set(sizes) <= {2, 3}:
        raise ValueError(f"cross: the vectors must have 2 or 3 components, got {sizes}.")
    u, w = (pad(t, [(0, 0)] * (np.ndim(t) - 1) + [(0, 3 - n)]) if n == 2 else t
            for t, n in zip((u, w), sizes, strict=True))

    def part(i, j):                                   # uᵢ wⱼ − uⱼ wᵢ
        return ew.subtract(ew.multiply(u[..., i], w[..., j]), ew.multiply(u[..., j], w[..., i]))

    if sizes == (2, 2):
        return part(0, 1)
    return moveaxis(stack([part(1, 2), part(2, 0), part(0, 1)], axis=-1), -1, axisc)


# -- inverse, determinant, solve: their own VJPs ----------------------------------------------
def _mT(a):  # noqa: N802 (the matrix transpose)
    return np.swapaxes(a, -1, -2)


def inv(x):
    """``A = x⁻¹`` (of the last two axes). VJP: ``δx = −Aᵀ δA Aᵀ``."""
    from minired.ops.elementwise import _float

    a = np.linalg.inv(_float(x))
    return record(a, (x,), lambda g: (-_mT(a) @ g @ _mT(a),))


def det(x):
    """``a = det x`` (of the last two axes). VJP: ``δx = δa · a · x⁻ᵀ``."""
    from minired.ops.elementwise import _float

    v = _float(x)
    a = np.asarray(np.linalg.det(v), dtype=v.dtype)
    return record(a, (x,), lambda g: ((g * a)[..., None, None] * _mT(np.linalg.inv(v)),))


def solve(a, b):
    """``x = a⁻¹ b`` (``b`` a matrix, or a vector with one axis less than ``a``).

    VJP: ``δb = a⁻ᵀ δx``, ``δa = −δb xᵀ``."""
    from minired.ops.elementwise import _binary

    va, vb, _ = _binary(a, b, need_float=True)
    vector = vb.ndim == va.ndim - 1
    column = vb[..., None] if vector else vb
    x = np.linalg.solve(va, column)

    def vjp(g):
        g = g[..., None] if vector else g
        grad_b = np.linalg.solve(_mT(va), g)
        grad_a = -grad_b @ _mT(x)
        return grad_a, grad_b[..., 0] if vector else grad_b

    return record(x[..., 0] if vector else x, (a, b), vjp)


# Keras' ``keras.ops.linalg`` also holds decompositions written in linalg_more.py (qr, svd...):
# ``mr.ops.linalg.<name>`` answers for them with ``mr.ops.<name>`` (see keras_namespaces.py).
from minired.ops.keras_namespaces import LINALG, namespace_hooks  # noqa: E402

__all__ = list(LINALG)
__getattr__, __dir__ = namespace_hooks(__name__, LINALG, globals())
