"""TimeDistributed: apply one layer to every time step of a sequence, with shared weights."""

from __future__ import annotations

import numpy as np

from minired.layers.layer import KERAS_MASK_READERS, Layer, takes_input_gradient
from minired.saving import serialization_lib


class TimeDistributed(Layer):
    """Apply ``layer`` to each time slice ``x[:, t]`` of inputs ``(N, T, ...)``.

    The same layer object (the same weights) serves every time step: a
    ``TimeDistributed(Dense(8))`` on ``(N, T, 4)`` has one ``(4, 8)`` kernel, and a
    ``TimeDistributed(Conv2D(...))`` on a batch of videos ``(N, T, H, W, C)`` runs one
    convolution on every frame. The steps do not interact, so the ``N·T`` slices are run as
    one batch: the batch and time axes are merged, the layer runs once, and they are split
    again. Forward::

        x'  = reshape(x, (N·T, ...))             step t of sample n is row n·T + t
        a'  = layer(x')                          (N·T, ...)
        a   = reshape(a', (N, T, ...))           a[n, t] = layer(x[n, t])

    Backward, given ``δa``: the same reshapes around the layer's own backward pass, which
    adds to the shared weights' gradients the sum over every sample **and time step**::

        δx  = reshape(layer.backward(reshape(δa, (N·T, ...))), (N, T, ...))
        ∂L/∂W = Σ_n Σ_t ∂L/∂W |(n, t)

    Keras 3 calls the layer once per time step (``ops.stack`` of ``T`` calls on ``(N, ...)``)
    and gets the same numbers for every layer that treats the samples of a batch
    independently: Dense, the convolutions and poolings, the activations, LayerNormalization,
    a layer of yours whose ``call`` works sample by sample... ``training`` is passed on
    (a Dropout inside draws its mask for all ``N·T`` slices at once: the same distribution
    as Keras' ``T`` draws, other numbers). Refused, because the merged batch would compute
    something else: a BatchNormalization in training (Keras normalizes each time step with
    its own batch statistics), a layer that adds losses (Keras adds one per time step), and
    a mask reaching a layer that reads masks. A mask otherwise passes through unchanged,
    as in Keras.

    Args:
        layer: the layer to apply at each time step (a minired layer, built-in or yours, or
            a model of one input).
        **kwargs: ``name``, ``trainable``, ``dtype``.

    Example:
        >>> from minired.layers import Dense
        >>> layer = TimeDistributed(Dense(2, kernel_initializer="ones"))
        >>> x = np.arange(12, dtype="float32").reshape(2, 3, 2)     # (N, T, features)
        >>> layer(x)[0]                   # step t: x[0, t] @ ones((2, 2))
        array([[1., 1.],
               [5., 5.],
               [9., 9.]], dtype=float32)
        >>> [w.shape for w in layer.get_weights()]          # one kernel for every step
        [(2, 2), (2,)]
    """

    _supports_masking_default = True      # the mask passes through, as in Keras
    _keras_build_config = True
    _keras_node_kwargs = {"mask": None}   # Keras' node of a plain call

    def __init__(self, layer: Layer, **kwargs) -> None:
        if not isinstance(layer, Layer):
            raise ValueError("Please initialize `TimeDistributed` layer with a "
                             f"`keras.layers.Layer` instance. Received: {layer}")
        from minired.models.functional import Functional

        if isinstance(layer, Functional):            # a model: of one input (or not built)
            several = len(getattr(layer, "inputs", None) or [None]) != 1
        else:
            several = layer._takes_several_inputs
        if several:
            raise ValueError(f"TimeDistributed: the layer {layer.name!r} "
                             f"({type(layer).__name__}) takes a list of inputs; minired's "
                             "TimeDistributed wraps a layer of one input.")
        super().__init__(**kwargs)
        self.layer = layer

    # -- shapes -------------------------------------------------------------------------------
    def _child_input_shape(self, input_shape) -> tuple:
        """``(N, T, ...)`` → ``(N, ...)``, the shape of one time slice (Keras' check)."""
        if not isinstance(input_shape, tuple | list) or len(input_shape) < 3:
            raise ValueError("`TimeDistributed` Layer should be passed an `input_shape` with "
                             f"at least 3 dimensions, received: {input_shape}")
        return (input_shape[0], *input_shape[2:])

    def build(self, input_shape: tuple) -> None:
        """Build the wrapped layer for one time slice ``(N, ...)`` (if not built yet)."""
        child = self._child_input_shape(input_shape)
        if not self.layer.built:
            self.layer.build(child)
            self.layer.built = True
        else:
            self.layer._check_call_shape(child)
        super().build(input_shape)

    def _check_call_shape(self, input_shape) -> None:
        self.layer._check_call_shape(self._child_input_shape(input_shape))

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        child = self.layer.compute_output_shape(self._child_input_shape(input_shape))
        if isinstance(child, list):
            raise ValueError(f"TimeDistributed: the layer {self.layer.name!r} returns "
                             f"{len(child)} tensors; minired's TimeDistributed wraps a layer "
                             "of one output.")
        return (child[0], input_shape[1], *child[1:])

    # -- the two passes -----------------------------------------------------------------------
    def forward(self, inputs: np.ndarray, training: bool = False, mask=None) -> np.ndarray:
        """``inputs`` ``(N, T, ...)``; ``mask`` (passed through) ``(N, T)`` or None."""
        x = inputs
        if not isinstance(x, np.ndarray) or x.ndim < 3:
            raise ValueError("`TimeDistributed` Layer should be passed an input with at "
                             f"least 3 dimensions, received: {np.shape(x)}")
        n, t = x.shape[:2]
        if mask is not None:
            self._check_mask(np.asarray(mask), x.shape)
        self._refuse_batch_statistics(training)
        merged = x.reshape(n * t, *x.shape[2:])                   # x' (N·T, ...)
        merged_out = self.layer._forward_with_mask(merged, training, None)
        if self.layer._call_losses():
            raise ValueError(
                f"TimeDistributed: the layer {self.layer.name!r} adds losses in its call "
                "(add_loss); Keras adds one per time step, computed on that step's batch, "
                "which minired's TimeDistributed (one call on the N·T slices) does not do.")
        if isinstance(merged_out, list | tuple):
            raise ValueError(f"TimeDistributed: the layer {self.layer.name!r} returns "
                             f"{len(merged_out)} tensors; minired's TimeDistributed wraps a "
                             "layer of one output.")
        self.cache = (self.layer.cache, x.shape)
        return merged_out.reshape(n, t, *merged_out.shape[1:])     # a (N, T, ...)

    def backward(self, grad_outputs: np.ndarray, input_gradient: bool = True):
        inner_cache, input_shape = self.cache
        n, t = input_shape[:2]
        self.layer.cache = inner_cache
        merged = grad_outputs.reshape(n * t, *grad_outputs.shape[2:])   # δa'
        if not input_gradient and takes_input_gradient(type(self.layer)):
            self.layer.backward(merged, input_gradient=False)   # the weights' gradients only
            return None
        grad_x = self.layer.backward(merged)                            # δx'
        if grad_x is None:                                              # an integer input
            return None
        return grad_x.reshape(input_shape) if input_gradient else None

    def _check_mask(self, mask: np.ndarray, input_shape: tuple) -> None:
        """Keras' checks of the mask's shape, then minired's refusal of a mask the wrapped
        layer would read."""
        if mask.ndim < 2:
            raise ValueError("The `mask` passed to the `TimeDistributed` layer must be at "
                             "least 2D (e.g., `(batch_size, timesteps)`), but it has "
                             f"{mask.ndim} dimension(s) with shape {mask.shape}.")
        if mask.shape[:2] != tuple(input_shape[:2]):
            raise ValueError(
                "The `mask` passed to the `TimeDistributed` layer has a shape "
                f"{mask.shape} that is incompatible with the input shape {input_shape}. The "
                "first two dimensions of the mask (batch size and timesteps) must match the "
                "input's first two dimensions. Expected mask shape prefix: "
                f"({input_shape[0]}, {input_shape[1]}).")
        reads = self.layer._takes_mask() or any(
            k.__name__ in KERAS_MASK_READERS for k in type(self.layer).__mro__)
        if reads:
            raise ValueError(
                f"TimeDistributed {self.name!r}: the wrapped layer {self.layer.name!r} "
                f"({type(self.layer).__name__}) reads masks, and Keras hands it the mask of "
                "each time step; minired's TimeDistributed does not pass masks in. Remove the "
                "mask before it (Embedding(mask_zero=False), no Masking layer).")

    def _refuse_batch_statistics(self, training: bool) -> None:
        """Keras normalizes each time step with its own batch statistics in training: a
        BatchNormalization (here or inside a layer of yours) would see N·T samples instead."""
        if not training:
            return
        stack = [self.layer]
        while stack:
            layer = stack.pop()
            if any(k.__name__ == "BatchNormalization" for k in type(layer).__mro__):
                raise ValueError(
                    f"TimeDistributed {self.name!r}: {layer.name!r} is a BatchNormalization, "
                    "which Keras runs in training on each time step's batch of N samples (T "
                    "sets of statistics, T moving-average updates); minired's "
                    "TimeDistributed runs one call on the N·T slices. Use it at inference "
                    "only, or a LayerNormalization.")
            stack.extend(layer._tracked_layers)

    def zero_gradients(self) -> None:
        """The wrapped layer zeroes its gradients (the weights are its own)."""
        self.layer.zero_gradients()

    # -- saving -------------------------------------------------------------------------------
    def _keras_weight_groups(self) -> list[tuple[str, list]]:
        """Keras' ``.keras`` layout: the wrapper's empty ``vars``, then the wrapped layer
        under ``layer/`` (``time_distributed/layer/vars/0``, or ``layer/cell/vars`` for a
        recurrent layer, as :mod:`minired.saving.saving_lib` walks any layer)."""
        from minired.saving import saving_lib

        groups = [("", [])]
        for path, _, weights, _ in saving_lib._layer_entries(self.layer, "layer", set()):
            groups.append((path, weights))
        return groups

    def get_config(self) -> dict:
        """Keras' TimeDistributed config: the wrapped layer serialized."""
        return {**super().get_config(),
                "layer": serialization_lib.serialize_keras_object(self.layer)}

    @classmethod
    def from_config(cls, config: dict):
        config = dict(config)
        if isinstance(config.get("layer"), dict):
            config["layer"] = serialization_lib.deserialize_keras_object(config["layer"])
        return super().from_config(config)
