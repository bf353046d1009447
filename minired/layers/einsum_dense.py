"""EinsumDense: a dense layer whose product is any ``einsum``, ``a = f(einsum(eq, x, W) + b)``."""

from __future__ import annotations

import copy
import re
import string
from collections.abc import Callable
from typing import NamedTuple

import numpy as np

from minired import activations, constraints, initializers, regularizers
from minired.initializers.random_initializers import VarianceScaling
from minired.layers import lora
from minired.layers.layer import Layer
from minired.saving import serialization_lib


class EinsumDense(Layer):
    """A dense layer whose product is the einsum ``equation`` (``"ab,bc->ac"`` is Dense).

    Forward, with the equation ``"I,K->O"`` (I, K, O: the subscripts of the input, the
    kernel and the output)::

        z_O = Σ_{letters not in O} x_I W_K     z = einsum("I,K->O", x, W)
        z   = z + b                          b broadcast over the axes not in ``bias_axes``
        a   = f(z)

    Backward, given ``δa = ∂L/∂a``: ``δz = f'(z) ⊙ δa``, then the same einsum with the
    roles of the operands swapped (each sums over exactly the letters the forward paired)::

        ∂L/∂W = einsum("I,O->K", x, δz)
        δx    = einsum("O,K->I", δz, W)     (a letter of I found in neither O nor K was summed
                                             alone by the forward: δx is constant along it)
        ∂L/∂b = Σ δz over every axis where b has size 1 or no axis at all

    ``"..."`` in the equation stands for the axes the input has beyond its letters (Keras'
    rule: on the left, ``"...ab,bc->...ac"``, or on the right, ``"ab...,bc->ac..."``).

    Shapes follow Keras' ``_analyze_einsum_string``: a kernel letter takes its size from
    ``output_shape`` when the output has it, else from the input; the bias covers the
    output letters from the first of ``bias_axes`` to the last output letter, with size 1
    for the letters not in ``bias_axes``. A VarianceScaling kernel initializer (the default
    ``glorot_uniform``) counts fan-in over the kernel letters found in the input and
    fan-out over those found in the output, as Keras.

    Args:
        equation: ``"I,K->O"``, ``"...I,K->...O"`` or ``"I...,K->O..."`` (letters a-z, A-Z).
        output_shape: the output's shape without the batch axis and the ``"..."`` axes (an
            int for one axis; ``None`` where the input gives the size).
        activation: a Keras name, a function with ``.backward``, or ``None`` (linear).
        bias_axes: the output letters that get a bias (``None``: no bias).
        kernel_initializer, bias_initializer: how ``W`` and ``b`` start.
        kernel_regularizer, bias_regularizer: penalties on ``W`` and ``b``.
        activity_regularizer: a penalty on the outputs (see :class:`~minired.layers.Layer`).
        kernel_constraint, bias_constraint: projections applied after each optimizer step.
        lora_rank: if set, LoRA is enabled with this rank when the layer is built (see
            :meth:`enable_lora`).
        lora_alpha: LoRA's scale numerator, ``s = lora_alpha / lora_rank`` (default: the
            rank).
        name, trainable: as every layer.

    Example:
        >>> layer = EinsumDense("abc,cd->abd", output_shape=(None, 4), bias_axes="d")
        >>> layer(np.ones((2, 3, 5), dtype="float32")).shape
        (2, 3, 4)
        >>> layer.kernel.shape, layer.bias.shape
        ((5, 4), (4,))
    """

    _writes_gradients = True       # backward adds through _add_to_gradient (see Layer)

    _constrained_weights = (("kernel", "kernel_constraint"), ("bias", "bias_constraint"))

    lora_enabled = False      # see enable_lora
    #: With LoRA on, ``kernel`` reads ``W + s A B``; before, the array itself (see lora.py).
    kernel = lora.MergedWeight("kernel", "lora_kernel_a", "lora_kernel_b")

    def __init__(
        self,
        equation: str,
        output_shape,
        activation: str | Callable | None = None,
        bias_axes: str | None = None,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        kernel_regularizer=None,
        bias_regularizer=None,
        kernel_constraint=None,
        bias_constraint=None,
        lora_rank: int | None = None,
        lora_alpha: float | None = None,
        name: str | None = None,
        trainable: bool = True,
        **kwargs,
    ) -> None:
        for keras_only in ("gptq_unpacked_column_size", "quantization_config"):
            if kwargs.pop(keras_only, None) is not None:
                raise ValueError(f"EinsumDense: `{keras_only}` is not supported by minired "
                                 "(no quantization); leave it None.")
        super().__init__(name=name, trainable=trainable, **kwargs)
        if not isinstance(equation, str):
            raise TypeError(f"EinsumDense: `equation` must be a str such as 'ab,bc->ac', got "
                            f"{equation!r}.")
        self._specs = _split_equation(equation)          # raises on a bad equation
        if isinstance(output_shape, int | np.integer) and not isinstance(output_shape, bool):
            self.partial_output_shape = (int(output_shape),)
        elif isinstance(output_shape, list | tuple):
            self.partial_output_shape = tuple(output_shape)
        else:
            raise TypeError(f"EinsumDense: `output_shape` must be an int or a tuple of ints "
                            f"and None, got {output_shape!r}.")
        if bias_axes is not None and not isinstance(bias_axes, str):
            raise TypeError(f"EinsumDense: `bias_axes` must be a str of output letters or "
                            f"None, got {bias_axes!r}.")
        self.equation = equation
        self.bias_axes = bias_axes
        self.activation = activations.get(activation)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.lora_rank = lora_rank
        self.lora_alpha = lora_alpha if lora_alpha is not None else lora_rank
        self.lora_enabled = False

    @property
    def use_bias(self) -> bool:
        """Whether the layer has a bias (``bias_axes`` given)."""
        return self.bias_axes is not None

    def build(self, input_shape: tuple) -> None:
        kernel_shape, bias_shape, _, input_axes, output_axes = analyze_einsum_string(
            self.equation, self.bias_axes, tuple(input_shape), self.partial_output_shape)
        if any(size is None for size in kernel_shape):
            raise ValueError(
                f"EinsumDense {self.name!r}: the kernel's shape {tuple(kernel_shape)} has an "
                f"unknown size: give it in `output_shape` or in the input's shape "
                f"{tuple(input_shape)}.")
        self._input_ndim = len(input_shape)
        init = self.kernel_initializer
        if isinstance(init, VarianceScaling) and (init.input_axes is None
                                                  or init.output_axes is None):
            init = copy.copy(init)                     # Keras' _update_kernel_initializer
            init.input_axes, init.output_axes = input_axes, output_axes
        dtype = self._float_dtype()
        self.kernel = np.asarray(init(tuple(kernel_shape), dtype=dtype))
        self.kernel_gradient = np.zeros_like(self.kernel)
        if self.use_bias:
            self.bias = np.asarray(self.bias_initializer(tuple(bias_shape), dtype=dtype))
            self.bias_gradient = np.zeros_like(self.bias)
        super().build(input_shape)
        if self.lora_rank:
            self.enable_lora(self.lora_rank, lora_alpha=self.lora_alpha)

    def enable_lora(self, rank: int, lora_alpha: float | None = None,
                    a_initializer="he_uniform", b_initializer="zeros") -> None:
        """Freeze ``W`` and train ``W + s A B`` through ``A`` (the kernel's shape with
        ``rank`` last) and ``B: (rank, last kernel axis)``, with ``s = lora_alpha / rank``
        (LoRA; the math is in :mod:`minired.layers.lora`).

        Args:
            rank: the inner size ``r`` of ``A B`` (a positive int).
            lora_alpha: the scale's numerator (default: ``rank``, so ``s = 1``).
            a_initializer: how ``A`` starts (default ``"he_uniform"``).
            b_initializer: how ``B`` starts (default ``"zeros"``: ``W' = W`` at first).

        Example:
            >>> layer = EinsumDense("abc,cde->abde", output_shape=(None, 2, 4))
            >>> layer.build((None, 3, 5))
            >>> layer.enable_lora(2)
            >>> layer.lora_kernel_a.shape, layer.lora_kernel_b.shape
            ((5, 2, 2), (2, 4))
        """
        lora.enable_lora(self, rank, lora_alpha, a_initializer, b_initializer,
                         weight="kernel", constraint=self.kernel_constraint,
                         a_name="lora_kernel_a", b_name="lora_kernel_b",
                         regularizer=self.kernel_regularizer)

    def _check_call_shape(self, input_shape: tuple) -> None:
        """Keras' ``InputSpec(ndim=...)`` of the built layer, and the kernel's sizes."""
        if len(input_shape) != self._input_ndim:
            raise ValueError(
                f"Input 0 of layer {self.name!r} is incompatible with the layer: expected "
                f"ndim={self._input_ndim}, found ndim={len(input_shape)}. Full shape "
                f"received: {tuple(input_shape)}.")

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        return tuple(analyze_einsum_string(self.equation, self.bias_axes, tuple(input_shape),
                                           self.partial_output_shape)[2])

    def _explicit(self, ndim: int) -> tuple[str, str, str]:
        """The equation's three subscripts with ``"..."`` spelled out as unused letters for
        an input of ``ndim`` axes (so the backward einsums can move them around)."""
        x_spec, w_spec, out_spec, where = self._specs
        if where is None:
            return x_spec, w_spec, out_spec
        free = [c for c in string.ascii_letters if c not in x_spec + w_spec + out_spec]
        extra = "".join(free[:ndim - len(x_spec)])
        if where == "left":
            return extra + x_spec, w_spec, extra + out_spec
        return x_spec + extra, w_spec, out_spec + extra

    def forward(self, inputs: np.ndarray, training: bool = False) -> np.ndarray:
        kernel = self.kernel                                              # LoRA: W + s A B
        x = np.asarray(inputs).astype(kernel.dtype, copy=False)
        x_spec, w_spec, out_spec = self._explicit(x.ndim)
        z = np.einsum(f"{x_spec},{w_spec}->{out_spec}", x, kernel)        # z = einsum(x, W)
        if self.use_bias:
            z = z + self.bias                                             #   + b
        a = self.activation(z)                                            # a = f(z)
        self.cache = EinsumDenseCache(x, z, a)
        return a

    def backward(self, grad_outputs: np.ndarray, input_gradient: bool = True) -> np.ndarray:
        x, z, a = self.cache
        grad_z = self.activation.backward(z, a, grad_outputs)           # δz = f'(z) ⊙ δa
        x_spec, w_spec, out_spec = self._explicit(x.ndim)
        # ∂L/∂W = einsum("O,I->K"): every letter of K is in I or in O (Keras checks it)
        if self.lora_enabled:       # W frozen: A and B share ∂L/∂W' (see lora.py)
            lora.add_factor_gradients(self, np.einsum(f"{x_spec},{out_spec}->{w_spec}", x,
                                                      grad_z),
                                      self.lora_kernel_a, self.lora_kernel_b)
        else:
            self._add_to_gradient(self.kernel_gradient, np.einsum,
                                  f"{x_spec},{out_spec}->{w_spec}", x, grad_z)
        if self.use_bias:
            self._add_to_gradient(self.bias_gradient, _sum_to_shape, grad_z, self.bias.shape)
        if not input_gradient:
            return None
        # δx = einsum("O,K->I"), over the letters of I that O or K has; the others were
        # summed by the forward with nothing else: δx is the same all along them
        kept = "".join(c for c in x_spec if c in out_spec + w_spec)
        grad_x = np.einsum(f"{out_spec},{w_spec}->{kept}", grad_z, self.kernel)
        if kept != x_spec:
            grad_x = grad_x.reshape([x.shape[i] if c in kept else 1
                                     for i, c in enumerate(x_spec)])
            grad_x = np.broadcast_to(grad_x, x.shape).copy()
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
        """Keras' EinsumDense config."""
        serialize = serialization_lib.serialize_keras_object
        return {
            **super().get_config(),
            "output_shape": self.partial_output_shape,
            "equation": self.equation,
            "activation": serialization_lib.serialize_activation(self.activation),
            "bias_axes": self.bias_axes,
            "kernel_initializer": serialize(self.kernel_initializer),
            "bias_initializer": serialize(self.bias_initializer),
            "kernel_regularizer": serialize(self.kernel_regularizer),
            "bias_regularizer": serialize(self.bias_regularizer),
            "activity_regularizer": serialize(self.activity_regularizer),
            "kernel_constraint": serialize(self.kernel_constraint),
            "bias_constraint": serialize(self.bias_constraint),
            "quantization_config": None,    # a Keras-only argument, at Keras' default
            **({"lora_rank": self.lora_rank, "lora_alpha": self.lora_alpha}
               if self.lora_rank else {}),     # as Keras: only once LoRA is asked for
        }

    @classmethod
    def from_config(cls, config: dict) -> EinsumDense:
        config = dict(config)
        if config.get("activity_regularizer") is None:
            config.pop("activity_regularizer", None)
        return super().from_config(config)


class EinsumDenseCache(NamedTuple):
    """What one call of an EinsumDense keeps for its backward pass."""

    x: np.ndarray   #: the inputs: ∂L/∂W = einsum(x, δz) needs them
    z: np.ndarray   #: the pre-activation: f'(z) needs it
    a: np.ndarray   #: the outputs f(z)


def _sum_to_shape(grad: np.ndarray, shape: tuple, out: np.ndarray | None = None) -> np.ndarray:
    """Σ ``grad`` over the axes that broadcasting added in front of ``shape`` and over the
    axes where ``shape`` has 1: the gradient of ``z = z0 + b`` with respect to ``b``
    (written into ``out`` when given)."""
    lead = grad.ndim - len(shape)
    ones = tuple(lead + i for i, size in enumerate(shape) if size == 1)
    summed = grad.sum(axis=tuple(range(lead)) + ones).reshape(shape)
    if out is None:
        return summed
    out[...] = summed
    return out


def _split_equation(equation: str) -> tuple[str, str, str, str | None]:
    """``(input, kernel, output, where the "..." is)`` of an equation of one of Keras' three
    forms (``where``: None, ``"left"`` or ``"right"``)."""
    forms = ((r"([a-zA-Z]+),([a-zA-Z]+)->([a-zA-Z]+)", None),
             (r"\.\.\.([a-zA-Z]+),([a-zA-Z]+)->\.\.\.([a-zA-Z]+)", "left"),
             (r"([a-zA-Z]{2,})\.\.\.,([a-zA-Z]+)->([a-zA-Z]+)\.\.\.", "right"))
    for pattern, where in forms:
        match = re.fullmatch(pattern, equation.replace(" ", ""))
        if match:
            specs = match.groups()
            for spec in specs:
                if len(set(spec)) != len(spec):
                    raise ValueError(
                        f"EinsumDense: a subscript repeats a letter in '{equation}' ('{spec}'):"
                        " minired supports each letter once per operand.")
            return (*specs, where)
    raise ValueError(
        f"Invalid einsum equation '{equation}'. Equations must be in the form "
        "[X],[Y]->[Z], ...[X],[Y]->...[Z], or [X]...,[Y]->[Z]....")


def analyze_einsum_string(equation: str, bias_axes: str | None, input_shape: tuple,
                          output_shape) -> tuple:
    """Keras' ``_analyze_einsum_string``: ``(kernel_shape, bias_shape, full_output_shape,
    input_axes, output_axes)`` for inputs of ``input_shape`` (the batch axis first).

    Example:
        >>> analyze_einsum_string("abc,cde->abde", "de", (None, 3, 4), (3, 5, 6))[:3]
        ([4, 5, 6], [5, 6], [None, 3, 5, 6])
    """
    input_spec, weight_spec, output_spec, where = _split_equation(equation)
    left_elided = where == "left"
    elided = len(input_shape) - len(input_spec)
    output_shape = [output_shape] if isinstance(output_shape, int) else list(output_shape)
    output_shape.insert(0, input_shape[0])
    if elided > 0 and left_elided:
        for i in range(1, elided):
            output_shape.insert(1, input_shape[i])
    elif elided > 0 and not left_elided:
        for i in range(len(input_shape) - elided, len(input_shape)):
            output_shape.append(input_shape[i])
    if left_elided:
        input_dim_map = {dim: (i + elided) - len(input_shape) for i, dim in enumerate(input_spec)}
        output_dim_map = {dim: i + elided for i, dim in enumerate(output_spec)}
    else:
        input_dim_map = {dim: i for i, dim in enumerate(input_spec)}
        output_dim_map = {dim: i for i, dim in enumerate(output_spec)}
    if len(output_shape) != len(output_spec) + max(elided, 0) * (where is not None) or (
            where is None and len(input_shape) != len(input_spec)):
        raise ValueError(
            f"EinsumDense: equation '{equation}' does not fit inputs of shape "
            f"{tuple(input_shape)} and output_shape {tuple(output_shape[1:])} (the input "
            f"needs one axis per letter of '{input_spec}', the output_shape one per letter "
            f"of '{output_spec}' after the first).")
    for dim in input_spec:
        input_size = input_shape[input_dim_map[dim]]
        if dim in output_dim_map:
            output_size = output_shape[output_dim_map[dim]]
            if output_size is not None and output_size != input_size:
                raise ValueError(
                    f"Input shape and output shape do not match at shared dimension '{dim}'. "
                    f"Input shape is {input_size}, and output shape is {output_size}.")
    for dim in output_spec:
        if dim not in input_spec and dim not in weight_spec:
            raise ValueError(
                f"Dimension '{dim}' was specified in the output '{output_spec}' but has no "
                f"corresponding dim in the input spec '{input_spec}' or weight spec "
                f"'{weight_spec}'")
    weight_shape, input_axes, output_axes = [], [], []
    for i, dim in enumerate(weight_spec):
        if dim in output_dim_map:
            weight_shape.append(output_shape[output_dim_map[dim]])
            output_axes.append(i)
        elif dim in input_dim_map:
            weight_shape.append(input_shape[input_dim_map[dim]])
            input_axes.append(i)
        else:
            raise ValueError(
                f"Weight dimension '{dim}' did not have a match in either the input spec "
                f"'{input_spec}' or the output spec '{output_spec}'. For this layer, the "
                "weight must be fully specified.")
    bias_shape = None
    if bias_axes is not None:
        num_left_elided = elided if left_elided else 0
        idx_map = {char: output_shape[i + num_left_elided] for i, char in enumerate(output_spec)}
        for char in bias_axes:
            if char not in output_spec:
                raise ValueError(f"Bias dimension '{char}' was requested, but is not part of "
                                 f"the output spec '{output_spec}'")
        first = min(output_spec.find(char) for char in bias_axes)
        bias_shape = [idx_map[char] if char in bias_axes else 1 for char in output_spec[first:]]
        if not left_elided:
            bias_shape += [1] * max(elided, 0)
    return weight_shape, bias_shape, output_shape, input_axes, output_axes
