"""LoRA (low-rank adaptation): fine-tune a large frozen weight through two small matrices.

``layer.enable_lora(rank)`` on a built :class:`~minired.layers.Dense`,
:class:`~minired.layers.EinsumDense` or :class:`~minired.layers.Embedding` freezes its
weight ``W`` (the kernel, or the embeddings table) and adds two trainable matrices ``A`` and
``B`` whose product, scaled by ``s = alpha / rank``, is added to it, as Keras does::

    W' = W + s A B          W: (in, out) frozen, A: (in, r), B: (r, out) trained, s = alpha/r

With ``r`` much smaller than ``in`` and ``out``, ``A`` and ``B`` hold ``r (in + out)``
numbers instead of ``in · out``. ``B`` starts at zero, so ``W' = W`` at first and training
starts from the pre-trained layer.

Forward, Dense (EinsumDense: the same with its einsum in place of ``x W'``)::

    z = x (W + s A B) + b

Backward, given ``δz = ∂L/∂z`` (no gradient for the frozen ``W``)::

    ∂L/∂W' = xᵀ δz                         what W would get: A and B share it
    ∂L/∂A  = s ∂L/∂W' Bᵀ = s xᵀ δz Bᵀ
    ∂L/∂B  = s Aᵀ ∂L/∂W' = s (x A)ᵀ δz
    ∂L/∂b  = Σ_n δz_n
    δx     = δz (W + s A B)ᵀ

Embedding, for integer inputs ``x`` (rows of the merged table)::

    a = (W + s A B)[x]
    ∂L/∂W'[i] = Σ_{positions p with x_p = i} δa_p
    ∂L/∂A = s ∂L/∂W' Bᵀ,   ∂L/∂B = s Aᵀ ∂L/∂W'

Details that follow Keras (``keras/src/layers/core/dense.py``, ``einsum_dense.py``,
``embedding.py``):

- ``A`` and ``B`` are float32 whatever the layer's dtype ("to avoid the risk of underflow
  or overflow during fine-tuning"): ``A B`` and ``s A B`` are computed in float32, then added
  to ``W`` in its dtype. ``A`` starts with ``he_uniform``, ``B`` with ``zeros``; both carry
  the layer's kernel (embeddings) regularizer, and the frozen ``W`` no longer counts in the
  loss (Keras adds the penalties of the trainable weights only).
- ``layer.kernel`` (``layer.embeddings``) reads the merged ``W + s A B``; the frozen array
  is ``layer._kernel`` (``layer._embeddings``). Weights are listed in creation order,
  ``[kernel, bias, lora_kernel_a, lora_kernel_b]``; ``trainable_weights`` leaves out the
  kernel.
- Saving writes the merged weight where the kernel goes (a file without ``A`` and ``B``,
  ``"0"``: ``W + s A B``, ``"1"``: the bias), and loading puts it in ``W`` and sets ``A`` and
  ``B`` to zero: ``W'`` is unchanged.
- The config has ``lora_rank`` and ``lora_alpha`` once LoRA is on; a layer made from it
  enables LoRA when it is built.
"""

from __future__ import annotations

import numpy as np

from minired import initializers

__all__ = ["MergedWeight", "add_factor_gradients", "enable_lora", "factor_gradients",
           "load_merged", "merge", "save_merged", "weight_triples"]


def merge(w: np.ndarray, a: np.ndarray, b: np.ndarray, scale: float) -> np.ndarray:
    """``W + s A B``, rounded as Keras: ``A B`` and ``s · (A B)`` in ``A``'s dtype (float32),
    then added to ``W`` in ``W``'s dtype.

    ``A`` may have more axes than two (an EinsumDense kernel ``(…, in, out)`` has ``A`` of
    shape ``(…, in, r)``): the product is then one per leading index (``np.matmul``).

    Example:
        >>> w = np.zeros((2, 2)); a = np.ones((2, 1), "float32"); b = np.ones((1, 2), "float32")
        >>> merge(w, a, b, 0.5)
        array([[0.5, 0.5],
               [0.5, 0.5]])
    """
    a, b = np.asarray(a), np.asarray(b)
    delta = (a @ b) * a.dtype.type(scale)                     # s A B, in float32
    return (np.asarray(w) + delta).astype(np.asarray(w).dtype, copy=False)


def factor_gradients(grad_w: np.ndarray, a: np.ndarray, b: np.ndarray,
                     scale: float) -> tuple[np.ndarray, np.ndarray]:
    """``(∂L/∂A, ∂L/∂B)`` from ``∂L/∂W'``, the gradient the merged weight receives.

    ``W' = W + s A B`` gives ``∂L/∂A = s ∂L/∂W' Bᵀ`` and ``∂L/∂B = s Aᵀ ∂L/∂W'`` (summed
    over the leading axes of an EinsumDense kernel), in ``A``'s dtype.

    Example:
        >>> a = np.ones((2, 1), "float32"); b = np.full((1, 3), 2.0, "float32")
        >>> ga, gb = factor_gradients(np.ones((2, 3)), a, b, 0.5)
        >>> ga.ravel().tolist(), gb.ravel().tolist()
        ([3.0, 3.0], [1.0, 1.0, 1.0])
    """
    a, b = np.asarray(a), np.asarray(b)
    grad_delta = grad_w.astype(a.dtype, copy=False) * a.dtype.type(scale)   # s ∂L/∂W'
    grad_a = grad_delta @ b.T                                               # s ∂L/∂W' Bᵀ
    rank = a.shape[-1]
    grad_b = a.reshape(-1, rank).T @ grad_delta.reshape(-1, b.shape[-1])    # s Aᵀ ∂L/∂W'
    return grad_a, grad_b


def add_factor_gradients(layer, grad_w: np.ndarray, a: np.ndarray, b: np.ndarray) -> None:
    """``∂L/∂A += s ∂L/∂W' Bᵀ`` and ``∂L/∂B += s Aᵀ ∂L/∂W'`` (see :func:`factor_gradients`):
    the backward step of a layer with LoRA on, given what its frozen weight would get."""
    grad_a, grad_b = factor_gradients(grad_w, a, b, layer.lora_alpha / layer.lora_rank)
    # (np.positive(g, out=...) is a copy of g that can be written into the gradient array)
    layer._add_to_gradient(a.gradient, np.positive, grad_a)
    layer._add_to_gradient(b.gradient, np.positive, grad_b)


class MergedWeight:
    """The attribute ``kernel`` (or ``embeddings``) of a layer with LoRA on: reading it gives
    ``W + s A B`` (:func:`merge`), as Keras' property.

    Before LoRA, the layer keeps its weight in its own ``__dict__`` under that name, and
    Python reads it from there first (this class defines no ``__set__``): the layer works
    as if this class were not there, at the same speed. :func:`enable_lora` moves the
    array to ``_kernel`` (``_embeddings``), and from then on the name reaches this class.

    Args:
        name: the weight's name (``"kernel"``, ``"embeddings"``).
        a, b: the names of the layer's attributes holding ``A`` and ``B``.
    """

    def __init__(self, name: str, a: str, b: str) -> None:
        self.name, self.a, self.b = name, a, b

    def __get__(self, layer, owner=None):
        if layer is None:
            return self
        frozen = layer.__dict__.get(f"_{self.name}")
        if frozen is None:
            raise AttributeError(f"You must build the layer before accessing `{self.name}`.")
        return merge(frozen, getattr(layer, self.a), getattr(layer, self.b),
                     layer.lora_alpha / layer.lora_rank)


def enable_lora(layer, rank: int, lora_alpha: float | None, a_initializer, b_initializer, *,
                weight: str, constraint, a_name: str, b_name: str, regularizer) -> None:
    """Freeze ``layer.<weight>`` and add ``A`` and ``B`` (the work of each layer's
    ``enable_lora``; Keras' checks and messages).

    ``A`` has the weight's shape with ``rank`` as its last axis, ``B`` the shape
    ``(rank, out)``; both are float32 Variables named ``a_name`` and ``b_name``.
    """
    from minired.variables import Variable

    what = "embedding" if weight == "embeddings" else weight
    if constraint is not None:
        raise ValueError(f"Lora is incompatible with {what} constraints. In order to enable "
                         f"lora on this layer, remove the `{what}_constraint` argument.")
    if not layer.built:
        raise ValueError("Cannot enable lora on a layer that isn't yet built.")
    if layer.lora_enabled:
        raise ValueError("lora is already enabled. This can only be done once per layer.")
    if isinstance(rank, bool) or not isinstance(rank, int | np.integer) or rank <= 0:
        raise ValueError(f"{type(layer).__name__}.enable_lora: `rank` must be a positive int, "
                         f"got {rank!r}.")
    frozen = layer.__dict__.pop(weight)
    shape = frozen.shape
    layer.__dict__[f"_{weight}"] = Variable(frozen, dtype=frozen.dtype,
                                                     trainable=False, name=weight)
    a = layer.add_weight(name=a_name, shape=(*shape[:-1], int(rank)),
                         initializer=initializers.get(a_initializer), dtype="float32",
                         regularizer=regularizer)
    b = layer.add_weight(name=b_name, shape=(int(rank), shape[-1]),
                         initializer=initializers.get(b_initializer), dtype="float32",
                         regularizer=regularizer)
    setattr(layer, a_name, a)
    setattr(layer, b_name, b)
    layer.lora_enabled = True
    layer.lora_rank = int(rank)
    layer.lora_alpha = lora_alpha if lora_alpha is not None else int(rank)


def weight_triples(layer, weight: str, gradient: np.ndarray, others: list) -> list:
    """``(w, ∂L/∂w, R)`` of a layer with LoRA on, in Keras' order: the frozen weight (with
    no regularizer: Keras counts the trainable weights' penalties only), ``others`` (the
    bias), then the Variables (``A``, ``B``, and those of a subclass)."""
    layer._fill_unwritten_gradients()
    triples = [(layer.__dict__[f"_{weight}"], gradient, None), *others]
    return triples + [(v, v.gradient, v.regularizer) for v in layer._own_variables]


def save_merged(layer, store: dict, weight: str, others: list) -> None:
    """Keras' ``save_own_variables`` with LoRA on: ``"0"`` the merged ``W + s A B``, then
    ``others`` (the bias) as ``"1"``..."""
    for i, array in enumerate([getattr(layer, weight), *others]):
        store[str(i)] = np.array(array)


def load_merged(layer, store, weight: str, others: list, a: np.ndarray,
                b: np.ndarray) -> None:
    """Keras' ``load_own_variables`` with LoRA on: ``"0"`` into the frozen ``W``, ``others``
    from ``"1"``..., then ``A`` and ``B`` set to zero (so ``W + s A B`` is what was saved)."""
    targets = [layer.__dict__[f"_{weight}"], *others]
    values = [np.asarray(store[str(i)]) for i in range(len(targets))]
    for i, (target, value) in enumerate(zip(targets, values, strict=True)):
        if value.shape != target.shape:
            raise ValueError(f"Layer '{layer.name}': variable {i} has shape {value.shape} in "
                             f"the store, but the layer's has shape {target.shape}.")
    for target, value in zip(targets, values, strict=True):
        target[...] = value
    a[...] = 0
    b[...] = 0
