"""Dense: the fully connected layer ``a = f(x W + b)``."""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np

from minired import activations, constraints, initializers, regularizers
from minired.layers import lora
from minired.layers.layer import Layer
from minired.saving import serialization_lib


class Dense(Layer):
    """Fully connected layer: every output unit sees every input feature.

    Forward, for a batch ``x`` of shape ``(N, in)``::

        z = x W + b          W: (in, units), b: (units,)  -> z: (N, units)
        a = f(z)             f is the activation

    Backward, given ``δa = ∂L/∂a`` of shape ``(N, units)``::

        δz     = f'(z) ⊙ δa                (the activation's backward)
        ∂L/∂W  = xᵀ δz                     (in, units): summed over the batch by the product
        ∂L/∂b  = Σ_n δz_n                  (units,)
        δx     = δz Wᵀ                     (N, in): sent to the layer below

    Inputs with more axes, ``x`` of shape ``(N, …, in)`` (a sequence of vectors per sample,
    say), as in Keras: the same ``W`` and ``b`` act on the last axis at every position, so
    ``z = x W + b`` has shape ``(N, …, units)``, and the sums over the batch become sums over
    all the leading axes::

        ∂L/∂W  = Σ_{n,…} x_{n…}ᵀ δz_{n…}    one product, with x as (-1, in) and δz as (-1, units)
        ∂L/∂b  = Σ_{n,…} δz_{n…}
        δx     = δz Wᵀ                     (N, …, in)

    ``backward`` *adds* ∂L/∂W and ∂L/∂b to ``kernel_gradient`` and ``bias_gradient``, so a
    layer called twice in one model sums the gradients of both calls (see
    :class:`~minired.layers.Layer`). A regularizer ``R`` on the kernel adds ``R(W)`` to the
    loss and ``∂R/∂W`` to ``∂L/∂W`` (the model adds it once, after the backward pass).

    Args:
        units: number of output units (a positive int).
        activation: a Keras name (``"relu"``), a function with ``.backward``, or ``None``
            (linear).
        use_bias: whether to add ``b``.
        kernel_initializer: how ``W`` starts (default ``"glorot_uniform"``).
        bias_initializer: how ``b`` starts (default ``"zeros"``).
        kernel_regularizer: penalty on ``W`` (e.g. ``"l2"`` or ``L2(0.01)``).
        bias_regularizer: penalty on ``b``.
        kernel_constraint: projection applied to ``W`` after each optimizer step,
            ``W ← c(W)`` (e.g. ``MaxNorm(3)`` or ``"non_neg"``; see mr.constraints).
        bias_constraint: projection applied to ``b`` after each step.
        name: layer name.
        trainable: whether the optimizer updates ``W`` and ``b``.
        lora_rank: if set, LoRA is enabled with this rank when the layer is built (see
            :meth:`enable_lora`).
        lora_alpha: LoRA's scale numerator, ``s = lora_alpha / lora_rank`` (default: the
            rank). As in Keras, the build calls ``enable_lora(lora_rank)``, which sets it
            back to the rank: to keep another value, call :meth:`enable_lora` yourself.
        **kwargs: ``input_shape``/``input_dim`` on a first layer (see
            :class:`~minired.layers.Layer`).

    Example:
        >>> layer = Dense(3, activation="relu")
        >>> layer(np.ones((2, 4), dtype="float32")).shape
        (2, 3)
        >>> layer(np.ones((2, 5, 4), dtype="float32")).shape     # on the last axis
        (2, 5, 3)
    """

    _writes_gradients = True       # backward adds through _add_to_gradient (see Layer)

    _supports_masking_default = True      # passes a mask on, as in Keras

    _constrained_weights = (("kernel", "kernel_constraint"), ("bias", "bias_constraint"))

    lora_enabled = False      # see enable_lora
    #: With LoRA on, ``kernel`` reads ``W + s A B``; before, the array itself (see lora.py).
    kernel = lora.MergedWeight("kernel", "lora_kernel_a", "lora_kernel_b")

    def __init__(
        self,
        units: int,
        activation: str | Callable | None = None,
        use_bias: bool = True,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        kernel_regularizer=None,
        bias_regularizer=None,
        kernel_constraint=None,
        bias_constraint=None,
        name: str | None = None,
        trainable: bool = True,
        lora_rank: int | None = None,
        lora_alpha: float | None = None,
        **kwargs,
    ) -> None:
        super().__init__(name=name, trainable=trainable, **kwargs)
        if isinstance(units, bool) or not isinstance(units, int | np.integer) or units <= 0:
            raise ValueError(
                f"Dense: `units` must be a positive int, got {units!r}."
            )
        self.units = int(units)
        self.activation = activations.get(activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.lora_rank = lora_rank
        self.lora_alpha = lora_alpha if lora_alpha is not None else lora_rank
        self.lora_enabled = False

    def build(self, input_shape: tuple) -> None:
        if len(input_shape) < 2 or input_shape[-1] is None:
            raise ValueError(
                f"Dense {self.name!r}: inputs must have shape (batch, ..., features) with a "
                f"known number of features (the last axis), got {tuple(input_shape)}."
            )
        in_features = input_shape[-1]
        dtype = self._float_dtype()
        self.kernel = np.asarray(self.kernel_initializer((in_features, self.units), dtype=dtype))
        self.kernel_gradient = np.zeros_like(self.kernel)
        if self.use_bias:
            self.bias = np.asarray(self.bias_initializer((self.units,), dtype=dtype))
            self.bias_gradient = np.zeros_like(self.bias)
        super().build(input_shape)
        if self.lora_rank:
            self.enable_lora(self.lora_rank)       # (Keras: lora_alpha back to the rank)

    def enable_lora(self, rank: int, lora_alpha: float | None = None,
                    a_initializer="he_uniform", b_initializer="zeros") -> None:
        """Freeze ``W`` and train ``W + s A B`` through ``A: (in, rank)`` and
        ``B: (rank, units)``, with ``s = lora_alpha / rank`` (LoRA; the math is in
        :mod:`minired.layers.lora`).

        Args:
            rank: the inner size ``r`` of ``A B`` (a positive int).
            lora_alpha: the scale's numerator (default: ``rank``, so ``s = 1``).
            a_initializer: how ``A`` starts (default ``"he_uniform"``).
            b_initializer: how ``B`` starts (default ``"zeros"``: ``W' = W`` at first).

        Example:
            >>> layer = Dense(3)
            >>> layer.build((None, 4))
            >>> layer.enable_lora(2)
            >>> [w.shape for w in layer.trainable_weights]
            [(3,), (4, 2), (2, 3)]
        """
        lora.enable_lora(self, rank, lora_alpha, a_initializer, b_initializer,
                         weight="kernel", constraint=self.kernel_constraint,
                         a_name="lora_kernel_a", b_name="lora_kernel_b",
                         regularizer=self.kernel_regularizer)

    def _check_call_shape(self, input_shape: tuple) -> None:
        """A built Dense takes any inputs of 2 or more axes whose last axis has the kernel's
        ``in`` features (Keras' ``InputSpec(min_ndim=2, axes={-1: in})``)."""
        if len(input_shape) < 2:
            raise ValueError(
                f"Input 0 of layer {self.name!r} is incompatible with the layer: expected "
                f"min_ndim=2, found ndim={len(input_shape)}. Full shape received: "
                f"{tuple(input_shape)}."
            )
        if input_shape[-1] not in (None, self.kernel.shape[0]):    # None: unknown, may fit
            raise ValueError(
                f"Input 0 of layer {self.name!r} is incompatible with the layer: expected axis "
                f"-1 of input shape to have value {self.kernel.shape[0]}, but received input "
                f"with shape {tuple(input_shape)}."
            )

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        return (*input_shape[:-1], self.units)

    def forward(self, inputs: np.ndarray, training: bool = False) -> np.ndarray:
        kernel = self.kernel                              # with LoRA: W + s A B
        x = np.asarray(inputs).astype(kernel.dtype, copy=False)   # the layer's dtype, as Keras
        z = x @ kernel                                    # z = x W
        if self.use_bias:
            z += self.bias                                #   + b
        a = self.activation(z)                            # a = f(z)
        self.cache = DenseCache(x, z, a)                  # what backward needs
        return a

    def backward(self, grad_outputs: np.ndarray, input_gradient: bool = True) -> np.ndarray:
        x, z, a = self.cache
        grad_z = self.activation.backward(z, a, grad_outputs)           # δz = f'(z) ⊙ δa
        if not input_gradient:     # (a subclass may take only δz: pass the flag if set)
            return self.backward_from_z(grad_z, input_gradient=False)
        return self.backward_from_z(grad_z)

    def backward_from_z(self, grad_z: np.ndarray, input_gradient: bool = True) -> np.ndarray:
        """Backward pass from ``δz = ∂L/∂z`` (used directly when the loss gives ``δz``).

        ``input_gradient=False`` skips ``δx`` (returns None): the model asks so for a layer
        that reads the model's inputs, whose gradient nobody uses in training.
        """
        x = self.cache.x
        grad_x = grad_z @ self.kernel.T if input_gradient else None    # δx = δz Wᵀ
        if x.ndim > 2:
            # (N, …, in) -> (N·…, in): each position along the middle axes is one more row,
            # so the sums over the batch below become sums over all the leading axes.
            x, grad_z = x.reshape(-1, x.shape[-1]), grad_z.reshape(-1, self.units)
        if self.lora_enabled:       # W frozen: A and B share ∂L/∂W' = xᵀ δz (see lora.py)
            lora.add_factor_gradients(self, x.T @ grad_z, self.lora_kernel_a, self.lora_kernel_b)
        else:
            self._add_to_gradient(self.kernel_gradient, np.matmul, x.T, grad_z)  # ∂L/∂W += xᵀ δz
        if self.use_bias:
            self._add_to_gradient(self.bias_gradient, grad_z.sum, axis=0)  # ∂L/∂b += Σ_n δz_n
        return grad_x

    def _weight_triples(self) -> list:
        if self.lora_enabled:                        # kernel, bias, A, B
            bias = [(self.bias, self.bias_gradient, self.bias_regularizer)] if self.use_bias else []
            return lora.weight_triples(self, "kernel", self.kernel_gradient, bias)
        return self._kernel_and_bias_triples()       # kernel, then bias (see Layer)

    def save_own_variables(self, store: dict) -> None:
        """Keras' ``"0"``: the kernel (with LoRA on, the merged ``W + s A B``), ``"1"``: the
        bias."""
        if not self.lora_enabled:
            return super().save_own_variables(store)
        lora.save_merged(self, store, "kernel", [self.bias] if self.use_bias else [])

    def load_own_variables(self, store) -> None:
        """Read what :meth:`save_own_variables` wrote (with LoRA on: into the frozen ``W``,
        then ``A`` and ``B`` set to zero, as Keras)."""
        if not self.lora_enabled:
            return super().load_own_variables(store)
        lora.load_merged(self, store, "kernel", [self.bias] if self.use_bias else [],
                         self.lora_kernel_a, self.lora_kernel_b)

    def get_config(self) -> dict:
        """Keras' Dense config."""
        serialize = serialization_lib.serialize_keras_object
        return {
            **super().get_config(),
            "units": self.units,
            "activation": serialization_lib.serialize_activation(self.activation),
            "use_bias": self.use_bias,
            "kernel_initializer": serialize(self.kernel_initializer),
            "bias_initializer": serialize(self.bias_initializer),
            "kernel_regularizer": serialize(self.kernel_regularizer),
            "bias_regularizer": serialize(self.bias_regularizer),
            "kernel_constraint": serialize(self.kernel_constraint),
            "bias_constraint": serialize(self.bias_constraint),
            "quantization_config": None,    # a Keras-only argument, at Keras' default
            **({"lora_rank": self.lora_rank, "lora_alpha": self.lora_alpha}
               if self.lora_rank else {}),     # as Keras: only once LoRA is asked for
        }


class DenseCache(NamedTuple):
    """What one call of a Dense keeps for its backward pass."""

    x: np.ndarray   #: the inputs, (N, …, in): ∂L/∂W = xᵀ δz needs them
    z: np.ndarray   #: the pre-activation x W + b, (N, …, units): f'(z) needs it
    a: np.ndarray   #: the outputs f(z), (N, …, units): some f' are cheaper from a
