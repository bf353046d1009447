"""Sequential: a stack of layers, run forwards to predict and backwards to learn."""

from __future__ import annotations

import numpy as np

from minired import config
from minired.layers.input_layer import InputLayer
from minired.layers.layer import Layer, assign_weights
from minired.trainers.trainer import Trainer
from minired.utils.naming import auto_name


class Sequential(Trainer):
    """A model that feeds each layer's output to the next.

    Notation (as in the course, docs/README.md): ``K`` layers numbered ``k = 1..K`` (``L`` is
    the loss), and ``δv = ∂L/∂v`` for any array ``v``: ``δa``, ``δz``, ``δx``.

    Forward: ``a⁰ = x``, ``aᵏ = layerᵏ(aᵏ⁻¹)``, ``ŷ = aᴷ``.

    Backward (backpropagation): start from ``δaᴷ = ∂L/∂ŷ`` and walk the layers in reverse,
    ``δaᵏ⁻¹ = δxᵏ = layerᵏ.backward(δaᵏ)``; each layer adds its weight gradients on the way.

    The forward pass records every call as ``(layer, cache)`` in ``self.calls``; the backward
    pass hands each layer back the cache of *its* call. So the same layer object may appear
    twice (shared weights): each call backpropagates with its own inputs, and the weight
    gradient is the sum of both, ``∂L/∂W = Σ_calls xᵀ δz``, as in Keras.

    Training methods (``compile``, ``fit``, ``evaluate``, ``predict``, ``train_on_batch``)
    come from :class:`~minired.trainers.trainer.Trainer`.

    Args:
        layers: a list of layers; it may start with ``Input(shape)``.
        name: model name.

    Example:
        >>> model = mr.Sequential([mr.Input((4,)), mr.layers.Dense(8, activation="relu"),
        ...                        mr.layers.Dense(3)])
        >>> model.predict(np.zeros((2, 4)), verbose=0).shape
        (2, 3)
    """

    def __init__(self, layers: list[Layer] | None = None, name: str | None = None) -> None:
        super().__init__()
        self.name = name if name is not None else auto_name("Sequential")
        self.layers: list[Layer] = []
        self.input_shape: tuple | None = None
        self.built = False
        self.calls: list[tuple[Layer, object]] = []     # filled by forward
        for layer in layers or []:
            self.add(layer)

    # -- structure ----------------------------------------------------------------------------
    def add(self, layer: Layer) -> None:
        """Append a layer; an ``Input`` (or a first layer given ``input_shape``) fixes the input
        shape and builds the model.

        The same layer object may be added more than once: its weights are shared, and its
        gradient is the sum over its calls, as in Keras.
        """
        if not isinstance(layer, Layer):
            raise TypeError(f"Sequential.add: `layer` must be a minired Layer, got {layer!r}.")
        if isinstance(layer, InputLayer):
            if self.layers or self.input_shape is not None:
                raise ValueError("Sequential.add: an Input can only be the first layer.")
            self.input_shape = layer.input_shape
            return
        if not self.layers and self.input_shape is None and layer._input_shape_arg is not None:
            self.input_shape = (None, *layer._input_shape_arg)    # Dense(8, input_shape=(4,))
        self.layers.append(layer)
        if self.input_shape is not None:
            self.built = False
            self.build(self.input_shape)

    def build(self, input_shape: tuple) -> None:
        """Create every layer's weights for inputs of shape ``input_shape`` (batch first).

        Example:
            >>> model = mr.Sequential([mr.layers.Dense(3)])
            >>> model.build((None, 4))
            >>> model.layers[0].kernel.shape
            (4, 3)
        """
        shape = tuple(input_shape)
        if len(shape) < 2:
            raise ValueError(
                f"build: `input_shape` must include the batch dimension, e.g. (None, 4); "
                f"got {shape}."
            )
        self.input_shape = shape
        for layer in self.layers:
            if not layer.built:
                layer.build(shape)
            elif layer.input_shape is not None and tuple(layer.input_shape[1:]) != shape[1:]:
                raise ValueError(
                    f"build: layer {layer.name!r} was built for inputs {layer.input_shape}, "
                    f"got {shape}."
                )
            shape = layer.compute_output_shape(shape)
        self.built = True

    # -- the two passes -----------------------------------------------------------------------
    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        """Run every layer in order: ``ŷ = layerᴷ(... layer¹(x))``.

        Each call's cache is recorded, in order, in ``self.calls`` as ``(layer, cache)``:
        the list that :meth:`backward` walks in reverse.
        """
        self.calls = []
        for layer in self.layers:
            x = layer.forward(x, training=training)
            self.calls.append((layer, layer.cache))
        return x

    def backward(self, grad_outputs: np.ndarray, top: int | None = None) -> np.ndarray:
        """Walk the calls of the last :meth:`forward` in reverse; return ``δx``.

        ``δaᵏ⁻¹ = layerᵏ.backward(δaᵏ)``, each layer adding its weight gradients. Before each
        call's backward the layer gets back the cache *of that call*, so a layer used twice
        backpropagates through each call with its own inputs and sums both gradients.

        Args:
            grad_outputs: ``δaᴷ = ∂L/∂ŷ``; or, when ``top`` is given, ``δz = ∂L/∂z`` of the
                call ``self.calls[top]`` (the loss started from its logits): that call runs
                ``backward_from_z`` and the calls after it (inactive Dropouts) are skipped.
        """
        calls = self.calls
        if top is not None:
            layer, layer.cache = calls[top]
            grad_outputs = layer.backward_from_z(grad_outputs)
            calls = calls[:top]
        for layer, cache in reversed(calls):
            layer.cache = cache
            grad_outputs = layer.backward(grad_outputs)
        return grad_outputs

    def __call__(self, x, training: bool = False) -> np.ndarray:
        x = self._prepare_x(x, "x")
        return self.forward(x, training=training)

    def loss_and_gradients(self, x, y, training: bool = False, sample_weight=None
                           ) -> tuple[float, list[np.ndarray]]:
        """Return the total loss and ``∂L/∂w`` for every weight, in ``get_weights()`` order.

        ``L = loss(y, ŷ) + Σ penalties``: the same number ``fit`` reports and minimises.
        Needs ``compile`` (for the loss). Does not change any weight.

        Example:
            >>> loss, grads = model.loss_and_gradients(x, y)
            >>> [g.shape for g in grads] == [w.shape for w in model.get_weights()]
            True
        """
        self._require_compiled("loss_and_gradients")
        x = self._prepare_x(x, "x", allow_empty=False, method="loss_and_gradients")
        y = self._prepare_y(y, len(x))
        sample_weight = self._prepare_sample_weight(sample_weight, len(x))
        self._check_targets(y, "y", x.shape)
        loss = self._forward_backward(x, y, sample_weight, training=training)[0]
        return loss, [g.copy() for g in self.gradients]

    # -- weights ------------------------------------------------------------------------------
    @property
    def unique_layers(self) -> list[Layer]:
        """The layers, each once (a layer added twice shares its weights), in order."""
        unique = {id(layer): layer for layer in reversed(self.layers)}
        return [layer for layer in self.layers if unique.pop(id(layer), None) is not None]

    @property
    def weights(self) -> list[np.ndarray]:
        """All weight arrays (the arrays themselves), layer by layer, kernel before bias."""
        return [w for layer in self.unique_layers for w in layer.weights]

    @property
    def gradients(self) -> list[np.ndarray]:
        """``∂L/∂w`` from the last backward pass, in the order of :attr:`weights`."""
        return [g for layer in self.unique_layers for g in layer.gradients]

    def get_weights(self) -> list[np.ndarray]:
        """Copies of all weights in Keras order: each Dense gives kernel (in, out), then bias."""
        self._require_built("get_weights")
        return [w.copy() for w in self.weights]

    def set_weights(self, weights: list) -> None:
        """Copy ``weights`` (in :meth:`get_weights` order) into the model, in place."""
        self._require_built("set_weights")
        assign_weights(self.weights, weights, "set_weights")

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        shape = tuple(input_shape)
        for layer in self.layers:
            shape = layer.compute_output_shape(shape)
        return shape

    def count_params(self) -> int:
        return int(sum(layer.count_params() for layer in self.unique_layers))

    def summary(self, print_fn=print) -> None:
        """Print a Keras-like table: layer (type), output shape and parameter count."""
        self._require_built("summary")
        rows = []
        shape = self.input_shape
        for layer in self.layers:
            shape = layer.compute_output_shape(shape)
            rows.append((f"{layer.name} ({type(layer).__name__})", str(shape),
                         f"{layer.count_params():,}"))
        widths = [max(len(h), *(len(r[i]) for r in rows)) + 2
                  for i, h in enumerate(("Layer (type)", "Output Shape", "Param #"))]
        line = "─" * sum(widths)

        def fmt(cells):
            return "".join(c.ljust(w) for c, w in zip(cells, widths, strict=True))

        total = self.count_params()
        trainable = int(sum(w.size for w in self.trainable_weights))
        lines = [f'Model: "{self.name}"', line,
                 fmt(("Layer (type)", "Output Shape", "Param #")), line,
                 *(fmt(r) for r in rows), line,
                 f" Total params: {total:,}",
                 f" Trainable params: {trainable:,}",
                 f" Non-trainable params: {total - trainable:,}"]
        print_fn("\n".join(lines))

    # -- input checks -------------------------------------------------------------------------
    def _require_built(self, method: str) -> None:
        if not self.built:
            raise ValueError(
                f"{method}: the model is not built yet. Start it with an Input layer, "
                "call model.build(input_shape), or call fit/predict once."
            )

    def _prepare_x(self, x, argument: str, allow_empty: bool = True, method: str = "fit"
                   ) -> np.ndarray:
        """Check ``x`` and cast it to floatx (as Keras autocasts float64 inputs to float32).

        Every problem is named before any computation: a missing ``x``, several arrays for
        this one-input model, a missing batch axis, values that are not finite (or overflow
        float32), a sample shape that does not fit the first layer, and (for ``fit`` and
        ``evaluate``, ``allow_empty=False``) no samples at all.
        """
        if x is None:
            raise ValueError(f"{method}: `{argument}` is required: give the inputs as an array "
                             "of shape (samples, features...).")
        if isinstance(x, list | tuple) and x and all(isinstance(a, np.ndarray) for a in x):
            if len(x) != 1:
                raise ValueError(
                    f"{method}: this model has 1 input, but `{argument}` is a "
                    f"{type(x).__name__} of {len(x)} arrays (shapes "
                    f"{[a.shape for a in x]}). Pass one array, or build a model with "
                    f"{len(x)} inputs.")
            x = x[0]
        if isinstance(x, dict):
            raise TypeError(f"{method}: `{argument}` must be an array; a dict of inputs needs a "
                            "model with named inputs, which Sequential does not have.")
        original = x
        try:
            with np.errstate(over="ignore"):     # overflow is reported below, in words
                x = np.asarray(x, dtype=config.floatx())
        except (TypeError, ValueError) as error:
            raise TypeError(f"`{argument}` must be a numeric array, got {type(x).__name__}: {error}"
                            ) from None
        if not self.built and not self.layers:
            raise ValueError("The model has no layers: add some before using it.")
        if x.ndim < 2:
            raise ValueError(f"`{argument}` must have shape (samples, features...), got shape "
                             f"{x.shape}. {self._one_sample_hint(x)}")
        if not np.all(np.isfinite(x)):
            bad = tuple(int(i) for i in np.argwhere(~np.isfinite(x))[0])
            value = np.asarray(original)[bad]
            if np.isfinite(value):
                raise ValueError(
                    f"`{argument}` has the value {value} at index {bad}, which overflows "
                    f"{config.floatx()} (largest {np.finfo(config.floatx()).max:.4g}). Rescale "
                    "the data, or use mr.config.set_floatx('float64').")
            raise ValueError(f"`{argument}` contains NaN or inf (first at index {bad}).")
        if not self.built:
            self.build((None, *x.shape[1:]))
        if x.shape[1:] != tuple(self.input_shape[1:]):
            sample_shape = ", ".join(map(str, self.input_shape[1:]))
            raise ValueError(
                f"`{argument}` must have shape (samples, {sample_shape}) to fit the model's "
                f"input, got {x.shape}."
            )
        if not allow_empty and len(x) == 0:
            raise ValueError(f"{method}: `{argument}` has no samples (shape {x.shape}); there is "
                             "nothing to compute a loss on.")
        return x

    def _one_sample_hint(self, x: np.ndarray) -> str:
        """What to do with an array that has no batch axis."""
        sample_shape = None if self.input_shape is None else tuple(self.input_shape[1:])
        if x.shape == sample_shape:
            return (f"This looks like one sample of shape {x.shape}: add the batch axis with "
                    "x[None] (a batch of 1).")
        if sample_shape == (1,):
            return "For one feature per sample use x.reshape(-1, 1)."
        if sample_shape is None and x.ndim == 1:
            return ("For one sample use x[None]; for one feature per sample use "
                    "x.reshape(-1, 1).")
        return ""
