"""Matrix factorisations and what is built on them: ``cholesky``, ``qr``, ``svd``, ``eigh``,
``solve_triangular``, ``slogdet``, ``logdet``, ``pinv``, ``lstsq``, ``matrix_rank``,
``lu_factor``, ``eig``.

Each works on the last two axes (stacks of matrices broadcast). The VJPs are TensorFlow's
(the tests compare), with ``Xᵀ`` the transpose of the last two axes and ``Φ(M)`` the lower
triangle of ``M`` with its diagonal halved:

- ``L = cholesky(A)``: ``δA = ½ (S + Sᵀ)``, ``S = L⁻ᵀ Φ(Lᵀ δL) L⁻¹``;
- ``X = A⁻¹ B`` (``A`` triangular): ``δB = A⁻ᵀ δX``, ``δA = −δB Xᵀ`` kept in ``A``'s triangle;
- ``A = Q R``: ``δA = Q (δR + M R⁻ᵀ) + (δQ − Q QᵀδQ) R⁻ᵀ`` with
  ``M = tril(QᵀδQ − δQᵀQ + R δRᵀ − δR Rᵀ)`` (``m ≥ n``; a wide ``A`` reduces to this);
- ``P A = L U``: ``δ(PA) = L⁻ᵀ (tril₋₁(Lᵀ δL) + triu(δU Uᵀ)) U⁻ᵀ``;
- ``A = U diag(s) Vᵀ``: ``δA = U [diag(δs) + (F ∘ (UᵀδU − δUᵀU)) S + S (F ∘ (VᵀδV − δVᵀV))] Vᵀ
  + (I − UUᵀ) δU S⁻¹ Vᵀ + U S⁻¹ δVᵀ (I − VVᵀ)``, ``Fᵢⱼ = 1/(sⱼ² − sᵢ²)`` (``i ≠ j``);
- ``A = V diag(λ) Vᵀ`` (symmetric): ``G = V (diag(δλ) + F ∘ VᵀδV) Vᵀ``,
  ``Fᵢⱼ = 1/(λⱼ − λᵢ)``, and ``δA`` the lower triangle of ``G + Gᵀ`` with its diagonal
  halved (``eigh`` reads the lower triangle only);
- ``log|det A|``: ``δA = δa A⁻ᵀ``.

``pinv``, ``lstsq`` and ``logdet`` are written with ``svd``/``cholesky`` and the ops, as
TensorFlow computes them. ``eig`` of a general matrix has complex results in Keras; minired
has no complex arrays and returns real ones when every eigenvalue is real (else refuses).

Example:
    >>> from minired import ops
    >>> ops.cholesky(np.array([[4.0, 2.0], [2.0, 5.0]]))
    array([[2., 0.],
           [1., 2.]])
"""

from __future__ import annotations

import numpy as np

from minired.autodiff.tape import active_tape, is_traced, record
from minired.ops import elementwise as ew
from minired.ops import linalg as la
from minired.ops import reductions as rd
from minired.ops import shapes as sh
from minired.ops.elementwise import _float, _value


def _mT(a):  # noqa: N802 (the matrix transpose)
    return np.swapaxes(a, -1, -2)


def _square(name: str, v) -> None:
    if v.ndim < 2 or v.shape[-1] != v.shape[-2]:
        raise ValueError(f"{name}: `x` must be a (stack of) square matrices, got shape "
                         f"{v.shape}.")


def _tri_solve(a, b, lower: bool):
    """``a⁻¹ b`` for triangular ``a`` (NumPy has no triangular solver: a general one on the
    triangle, exact in the same way)."""
    t = np.tril(a) if lower else np.triu(a)
    return np.linalg.solve(t, b)


def _phi(m):
    """``Φ(M)``: the lower triangle, diagonal halved."""
    low = np.tril(m)
    return low - 0.5 * np.eye(m.shape[-1], dtype=m.dtype) * m


def cholesky(x, upper=False):
    """``L`` with ``L Lᵀ = x`` (lower; ``Lᵀ`` with ``upper``) for symmetric positive definite
    ``x``. VJP: ``δx = ½ (S + Sᵀ)``, ``S = L⁻ᵀ Φ(Lᵀ δL) L⁻¹``.

    Args:
        x: a symmetric positive definite matrix (or a stack); its lower triangle is read.
        upper: return the upper factor ``Lᵀ`` instead.

    Example:
        >>> cholesky(np.array([[4.0, 2.0], [2.0, 5.0]]), upper=True)
        array([[2., 1.],
               [0., 2.]])
    """
    v = _float(x)
    _square("cholesky", v)
    try:
        low = np.linalg.cholesky(v)
    except np.linalg.LinAlgError as error:
        raise ValueError(f"cholesky: `x` must be symmetric positive definite ({error}).") from None

    def vjp(g):
        g = _mT(g) if upper else g
        eye = np.broadcast_to(np.eye(v.shape[-1], dtype=v.dtype), low.shape)
        inverse = _tri_solve(low, eye, lower=True)
        s = _mT(inverse) @ _phi(_mT(low) @ g) @ inverse
        return (0.5 * (s + _mT(s)),)

    return record(_mT(low) if upper else low, (x,), vjp)


def solve_triangular(a, b, lower=False):
    """``x = a⁻¹ b`` reading only the lower (``lower=True``) or upper triangle of ``a``
    (``b`` a matrix, or a vector with one axis less than ``a``).

    VJP: ``δb = a⁻ᵀ δx``, ``δa = −δb xᵀ`` kept in the triangle used.

    Args:
        a: a triangular matrix (or a stack).
        b: the right-hand side(s).
        lower: read the lower triangle of ``a`` (else the upper).

    Example:
        >>> solve_triangular(np.array([[2.0, 0.0], [1.0, 1.0]]), np.array([4.0, 3.0]),
        ...                  lower=True)
        array([2., 1.])
    """
    va, vb, dt = ew._binary(a, b, need_float=True)
    va, vb = np.asarray(va, dtype=dt), np.asarray(vb, dtype=dt)
    vector = vb.ndim == va.ndim - 1
    column = vb[..., None] if vector else vb
    x = _tri_solve(va, column, lower)

    def vjp(g):
        g = g[..., None] if vector else g
        grad_b = _tri_solve(_mT(va), g, lower=not lower)
        grad_a = -grad_b @ _mT(x)
        grad_a = np.tril(grad_a) if lower else np.triu(grad_a)
        return grad_a, grad_b[..., 0] if vector else grad_b

    return record(x[..., 0] if vector else x, (a, b), vjp)


def cholesky_inverse(x, upper=False):
    """``A⁻¹`` from the Cholesky factor ``x`` of ``A``: ``L⁻ᵀ L⁻¹`` (``U⁻¹ U⁻ᵀ`` with
    ``upper``). Written with :func:`solve_triangular` and ``matmul`` (their VJPs).

    Args:
        x: the Cholesky factor (lower, or upper with ``upper=True``).
        upper: whether ``x`` is the upper factor.

    Example:
        >>> cholesky_inverse(np.array([[2.0, 0.0], [1.0, 2.0]]))      # (of [[4, 2], [2, 5]])
        array([[ 0.3125, -0.125 ],
               [-0.125 ,  0.25  ]])
    """
    v = _float(x)
    _square("cholesky_inverse", v)
    inverse = solve_triangular(x, np.eye(v.shape[-1], dtype=v.dtype), lower=not upper)
    if upper:
        return la.matmul(inverse, sh.swapaxes(inverse, -1, -2))
    return la.matmul(sh.swapaxes(inverse, -1, -2), inverse)


def _no_gradient_here(name: str, x, why: str) -> None:
    if active_tape() is not None and is_traced(x):
        raise NotImplementedError(f"{name} has no gradient in minired {why}.")


def qr(x, mode="reduced"):
    """``Q, R`` with ``x = Q R``, ``Q`` orthonormal columns, ``R`` upper triangular
    (``mode="complete"``: ``Q`` square). VJP (TensorFlow's; none for a complete QR of a tall
    matrix): for ``m ≥ n``, ``δx = Q (δR + M R⁻ᵀ) + (δQ − Q QᵀδQ) R⁻ᵀ`` with
    ``M = tril(QᵀδQ − δQᵀQ + R δRᵀ − δR Rᵀ)``; a wide ``x = [x₁ y]`` reduces to its square
    ``x₁`` (``δQ`` gains ``y δR₂ᵀ``) and ``δy = Q δR₂``.

    Args:
        x: a matrix (or a stack).
        mode: ``"reduced"`` (``Q`` of shape ``(m, k)``, ``k = min(m, n)``) or ``"complete"``.

    Example:
        >>> q, r = qr(np.array([[3.0, 1.0], [4.0, 2.0]]))
        >>> r
        array([[-5. , -2.2],
               [ 0. ,  0.4]])
    """
    if mode not in ("reduced", "complete"):
        raise ValueError("`mode` argument value not supported. Expected one of "
                         f"{{'reduced', 'complete'}}. Received: mode={mode}")
    v = _float(x)
    q, r = np.linalg.qr(v, mode=mode)
    m, n = v.shape[-2], v.shape[-1]
    if mode == "complete" and m > n:
        _no_gradient_here("qr", x, "for a complete QR of a tall matrix (as TensorFlow)")

    def tall(q, r, gq, gr):                       # m ≥ n: the formula of the docstring
        qdq = _mT(q) @ gq
        rdr = r @ _mT(gr)
        low = np.tril(qdq - _mT(qdq) + rdr - _mT(rdr))
        grad_a = q @ (gr + _mT(_tri_solve(r, _mT(low), lower=False)))
        grad_b = _mT(_tri_solve(r, _mT(gq - q @ qdq), lower=False))
        return grad_a + grad_b

    def vjp(gq, gr):
        if m >= n:
            return tall(q, r, gq, gr)
        # wide (TensorFlow's reduction to the square case): x = [x₁ y], R = [R₁ R₂] with
        # x₁ = Q R₁ square and y = Q R₂, so δQ gains y δR₂ᵀ and δy = Q δR₂.
        y, grad_r2 = v[..., :, m:], gr[..., :, m:]
        grad_x1 = tall(q, r[..., :, :m], gq + y @ _mT(grad_r2), gr[..., :, :m])
        return np.concatenate([grad_x1, q @ grad_r2], axis=-1)

    return _pair(q, r, x, vjp)


def _pair(first, second, x, vjp):
    """Record two outputs of one factorisation: each one's VJP is the joint VJP with a zero
    gradient for the other (the tape adds the two contributions)."""
    zero1, zero2 = np.zeros_like(first), np.zeros_like(second)
    a = record(first, (x,), lambda g: (vjp(g, zero2),))
    b = record(second, (x,), lambda g: (vjp(zero1, g),))
    return a, b


def _svd_vjp(u, s, vt, gu, gs, gvt):
    """The SVD's VJP of the module docstring (``u``: (m, k), ``vt``: (k, n))."""
    v = _mT(vt)
    gv = _mT(gvt)
    k = s.shape[-1]
    s2 = s[..., None, :] ** 2 - s[..., :, None] ** 2          # sⱼ² − sᵢ²
    off = ~np.eye(k, dtype=bool)
    f = np.where(off, 1 / np.where(off, s2, 1), 0)
    big_s = s[..., None, :] * np.eye(k, dtype=s.dtype)          # diag(s)
    utgu, vtgv = _mT(u) @ gu, _mT(v) @ gv
    inner = (np.eye(k, dtype=s.dtype) * gs[..., None, :]
             + (f * (utgu - _mT(utgu))) @ big_s + big_s @ (f * (vtgv - _mT(vtgv))))
    grad = u @ inner @ vt
    inv_s = 1 / s
    m, n = u.shape[-2], v.shape[-2]
    if m > k:
        grad = grad + (gu - u @ utgu) @ (inv_s[..., :, None] * vt)
    if n > k:
        grad = grad + (u * inv_s[..., None, :]) @ _mT(gv - v @ vtgv)
    return grad


def svd(x, full_matrices=True, compute_uv=True):
    """``U, s, Vᵀ`` with ``x = U diag(s) Vᵀ`` (``s`` decreasing); only ``s`` when not
    ``compute_uv``. VJP: the module docstring's (``δx = U diag(δs) Vᵀ`` for ``s`` alone);
    for ``U``/``Vᵀ`` of a non-square ``x`` only with ``full_matrices=False`` (as TensorFlow).

    Args:
        x: a matrix (or a stack).
        full_matrices: square ``U`` and ``Vᵀ`` (else ``k = min(m, n)`` columns/rows).
        compute_uv: return ``U`` and ``Vᵀ`` too.

    Example:
        >>> svd(np.array([[3.0, 0.0], [0.0, -2.0]]), compute_uv=False)
        array([3., 2.])
    """
    v = _float(x)
    if not compute_uv:
        u, s, vt = np.linalg.svd(v, full_matrices=False)
        return record(s.astype(v.dtype), (x,),
                      lambda g: ((u * g[..., None, :]) @ vt,))
    u, s, vt = np.linalg.svd(v, full_matrices=full_matrices)
    m, n = v.shape[-2], v.shape[-1]
    if full_matrices and m != n:
        _no_gradient_here("svd", x, "for U and Vh with full_matrices=True and a non-square "
                          "matrix (as TensorFlow): use full_matrices=False")
    zeros = [np.zeros_like(t) for t in (u, s, vt)]

    def vjp(index):
        def one(g):
            grads = list(zeros)
            grads[index] = g
            return (_svd_vjp(u, s, vt, *grads),)
        return one

    return tuple(record(t, (x,), vjp(i)) for i, t in enumerate((u, s, vt)))


def eigh(x):
    """``λ, V`` (eigenvalues increasing, eigenvectors in columns) of the symmetric ``x``,
    read from its lower triangle. VJP: ``G = V (diag(δλ) + F ∘ VᵀδV) Vᵀ``,
    ``Fᵢⱼ = 1/(λⱼ − λᵢ)``; ``δx`` = lower triangle of ``G + Gᵀ``, diagonal halved.

    Args:
        x: a symmetric matrix (or a stack).

    Example:
        >>> w, v = eigh(np.array([[4.0, 2.0], [2.0, 5.0]]))
        >>> w
        array([2.43844719, 6.56155281])
    """
    v = _float(x)
    _square("eigh", v)
    w, vectors = np.linalg.eigh(v)

    def vjp(gw, gv):
        k = w.shape[-1]
        off = ~np.eye(k, dtype=bool)
        gap = w[..., None, :] - w[..., :, None]
        f = np.where(off, 1 / np.where(off, gap, 1), 0)
        g = vectors @ (gw[..., None, :] * np.eye(k, dtype=v.dtype)
                       + f * (_mT(vectors) @ gv)) @ _mT(vectors)
        g = np.tril(g + _mT(g))
        return g - 0.5 * np.eye(k, dtype=v.dtype) * g

    return _pair(w.astype(v.dtype), vectors, x, vjp)


def eig(x):
    """Eigenvalues and eigenvectors (columns) of a general square ``x``.

    Keras returns complex arrays; minired has none, so it returns the real parts when every
    eigenvalue is real, and raises a ``ValueError`` otherwise. No gradient.

    Args:
        x: a square matrix (or a stack) with real eigenvalues.

    Example:
        >>> w, v = eig(np.array([[2.0, 1.0], [0.0, 3.0]]))
        >>> w
        array([2., 3.])
    """
    v = _float(x)
    _square("eig", v)
    _no_gradient_here("eig", x, "(use eigh for symmetric matrices)")
    w, vectors = np.linalg.eig(v)
    if np.iscomplexobj(w) and np.any(np.imag(w) != 0):
        raise ValueError("eig: this matrix has complex eigenvalues, and minired has no complex "
                         "arrays (use eigh for a symmetric matrix).")
    return np.real(w).astype(v.dtype), np.real(vectors).astype(v.dtype)


def slogdet(x):
    """``(sign, log|det x|)``. VJP: ``δx = δ(log|det|) x⁻ᵀ`` (none through the sign).

    Args:
        x: a square matrix (or a stack).

    Example:
        >>> slogdet(np.array([[0.0, 2.0], [3.0, 0.0]]))      # det = −6
        (array(-1.), array(1.79175947))
    """
    v = _float(x)
    _square("slogdet", v)
    sign, logabs = np.linalg.slogdet(v)
    logabs = np.asarray(logabs, dtype=v.dtype)
    return (np.asarray(sign, dtype=v.dtype),
            record(logabs, (x,), lambda g: (g[..., None, None] * _mT(np.linalg.inv(v)),)))


def logdet(x):
    """``log det x`` of a symmetric positive definite ``x``, as TensorFlow:
    ``2 Σᵢ log Lᵢᵢ`` with ``L = cholesky(x)``. VJP (through ``cholesky``): ``δx = δa x⁻¹``.

    Args:
        x: a symmetric positive definite matrix (or a stack).

    Example:
        >>> logdet(np.array([[4.0, 2.0], [2.0, 5.0]]))      # ln 16
        array(2.77258872)
    """
    low = cholesky(x)
    return ew.multiply(rd.sum(ew.log(sh.diagonal(low, 0, -2, -1)), axis=-1),
                       np.asarray(2.0, dtype=_float(x).dtype))


def pinv(x, rcond=None):
    """The Moore–Penrose pseudo-inverse ``V diag(1/s) Uᵀ``, singular values below
    ``rcond · max s`` dropped (``rcond`` defaults to ``10 max(m, n) ε``, TensorFlow's).
    Written with :func:`svd` (``full_matrices=False``) and the ops.

    Args:
        x: a matrix (or a stack).
        rcond: the relative cut-off of small singular values.

    Example:
        >>> pinv(np.array([[1.0, 0.0], [0.0, 2.0], [0.0, 0.0]]))
        array([[1. , 0. , 0. ],
               [0. , 0.5, 0. ]])
    """
    v = _float(x)
    u, s, vt = svd(x, full_matrices=False)
    if rcond is None:
        rcond = 10.0 * max(v.shape[-2], v.shape[-1]) * np.finfo(v.dtype).eps
    cutoff = np.asarray(rcond, dtype=v.dtype) * np.max(_value(s), axis=-1, keepdims=True)
    kept = _value(s) > cutoff
    s = ew.where(kept, s, np.asarray(np.inf, dtype=v.dtype))
    scaled = ew.divide(sh.swapaxes(vt, -1, -2), sh.expand_dims(s, -2))
    return la.matmul(scaled, sh.swapaxes(u, -1, -2))


def lstsq(a, b, rcond=None):
    """The least-squares solution ``x`` of ``a x ≈ b`` (``a`` 2-D), ``V diag(1/s) Uᵀ b`` with
    singular values below ``rcond · s₀`` dropped (``rcond`` defaults to ``ε max(m, n)``, as
    Keras). Written with :func:`svd` and the ops.

    Args:
        a: the ``(m, n)`` matrix.
        b: the right-hand side, ``(m,)`` or ``(m, k)``.
        rcond: the relative cut-off of small singular values (negative: machine ε).

    Example:
        >>> lstsq(np.array([[1.0, 0.0], [1.0, 1.0], [1.0, 2.0]]), np.array([1.0, 2.0, 4.0]))
        array([0.83333333, 1.5       ])
    """
    va, vb = _float(a), np.asarray(_value(b))
    if va.ndim != 2:
        raise TypeError(f"{va.ndim}-dimensional array given. Array must be two-dimensional")
    if va.shape[0] != vb.shape[0]:
        raise ValueError("Leading dimensions of input arrays must match")
    vector = vb.ndim == 1
    b = sh.expand_dims(b, -1) if vector else b
    b = b if np.asarray(_value(b)).dtype == va.dtype else ew.multiply(b, np.ones((), va.dtype))
    eps = np.finfo(va.dtype).eps
    rcond = eps * max(va.shape) if rcond is None else (eps if rcond < 0 else rcond)
    u, s, vt = svd(a, full_matrices=False)
    sv = np.asarray(_value(s))
    mask = sv >= np.asarray(rcond, dtype=sv.dtype) * sv[0]
    safe = ew.where(mask, s, np.ones((), va.dtype))
    s_inv = sh.expand_dims(ew.where(mask, ew.divide(1.0, safe), np.zeros((), va.dtype)), -1)
    x = la.matmul(sh.transpose(vt), ew.multiply(s_inv, la.matmul(sh.transpose(u), b)))
    return sh.reshape(x, (-1,)) if vector else x


def matrix_rank(x, tol=None):
    """The number of singular values above ``tol`` (default ``max(m, n) ε max s``), int32.

    Args:
        x: a matrix (or a stack).
        tol: the threshold on the singular values (None: the default above).

    Example:
        >>> matrix_rank(np.array([[1.0, 2.0], [2.0, 4.0]]))
        array(1, dtype=int32)
    """
    v = _float(x)
    s = np.linalg.svd(v, compute_uv=False)
    if tol is None:
        tol = max(v.shape[-2], v.shape[-1]) * np.finfo(v.dtype).eps * np.max(
            s, axis=-1, keepdims=True)
    return np.asarray(np.sum(s > tol, axis=-1), dtype="int32")


def lu_factor(x):
    """``(lu, p)`` of partial pivoting: ``L`` (unit lower, stored below the diagonal) and
    ``U`` (on and above) packed in one matrix, with ``x[q] = L U`` for the row order ``q``
    (each column's largest ``|value|`` is its pivot); ``p`` is the inverse of ``q`` (int32),
    as Keras' TensorFlow backend returns it (``invert_permutation`` of TensorFlow's ``q``).

    Computed column by column (vectorised over a stack). VJP (TensorFlow's, with ``δL`` the
    strictly lower and ``δU`` the upper part of ``δlu``):
    ``δx[q] = L⁻ᵀ (tril₋₁(Lᵀ δL) + triu(δU Uᵀ)) U⁻ᵀ``.

    Args:
        x: a square matrix (or a stack of them).

    Example:
        >>> lu, p = lu_factor(np.array([[1.0, 2.0], [3.0, 4.0]]))
        >>> lu
        array([[3.        , 4.        ],
               [0.33333333, 0.66666667]])
        >>> p
        array([1, 0], dtype=int32)
    """
    v = _float(x)
    _square("lu_factor", v)
    lu = np.array(v)
    n = v.shape[-1]
    batch = lu.shape[:-2]
    flat = lu.reshape((-1, n, n))
    order = np.broadcast_to(np.arange(n), (flat.shape[0], n)).copy()
    stacks = np.arange(flat.shape[0])
    for k in range(n):
        pivot = k + np.argmax(np.abs(flat[:, k:, k]), axis=-1)       # one per matrix
        rows_k, rows_p = flat[stacks, k].copy(), flat[stacks, pivot].copy()
        flat[stacks, k], flat[stacks, pivot] = rows_p, rows_k
        order_k, order_p = order[stacks, k].copy(), order[stacks, pivot].copy()
        order[stacks, k], order[stacks, pivot] = order_p, order_k
        diagonal = flat[:, k, k]
        safe = np.where(diagonal == 0, 1, diagonal)
        flat[:, k + 1:, k] /= safe[:, None]
        flat[:, k + 1:, k + 1:] -= flat[:, k + 1:, k:k + 1] * flat[:, k:k + 1, k + 1:]
    lu = flat.reshape(v.shape)
    order = order.reshape(batch + (n,))
    eye = np.eye(n, dtype=v.dtype)
    low, up = np.tril(lu, -1) + eye, np.triu(lu)

    def vjp(g):
        middle = np.tril(_mT(low) @ np.tril(g, -1), -1) + np.triu(np.triu(g) @ _mT(up))
        permuted = _mT(_tri_solve(up, _mT(_tri_solve(_mT(low), middle, lower=False)),
                                  lower=False))                   # L⁻ᵀ middle U⁻ᵀ
        grad = np.zeros_like(permuted)
        np.put_along_axis(grad, order[..., :, None], permuted, axis=-2)   # δx[q] = …
        return (grad,)

    inverse = np.argsort(order, axis=-1).astype("int32")
    return record(lu, (x,), vjp), inverse
