"""Sequential: a stack of layers, run forwards to predict and backwards to learn."""

from __future__ import annotations

import warnings

import numpy as np

from minired import config
from minired.layers.dropout import Dropout
from minired.layers.input_layer import InputLayer
from minired.layers.layer import Layer, _unique_name, assign_weights
from minired.trainers.trainer import Trainer


class Sequential(Trainer):
    """A model that feeds each layer's output to the next.

    Forward: ``a⁰ = x``, ``aˡ = layerˡ(aˡ⁻¹)``, ``ŷ = aᴸ``.

    Backward (backpropagation): start from ``δᴸ = ∂L/∂ŷ`` and walk the layers in reverse,
    ``δˡ⁻¹ = layerˡ.backward(δˡ)``; each layer stores its weight gradients on the way.

    Training methods (``compile``, ``fit``, ``evaluate``, ``predict``, ``train_on_batch``)
    come from :class:`~minired.trainers.trainer.Trainer`.

    Args:
        layers: a list of layers; it may start with ``Input(shape)``.
        name: model name.

    Example:
        >>> model = Sequential([Input((4,)), Dense(8, activation="relu"), Dense(3)])
        >>> model.predict(np.zeros((2, 4)), verbose=0).shape
        (2, 3)
    """

    def __init__(self, layers: list[Layer] | None = None, name: str | None = None) -> None:
        super().__init__()
        self.name = name if name is not None else _unique_name("Sequential")
        self.layers: list[Layer] = []
        self.input_shape: tuple | None = None
        self.built = False
        for layer in layers or []:
            self.add(layer)

    # -- structure ----------------------------------------------------------------------------
    def add(self, layer: Layer) -> None:
        """Append a layer; an ``Input`` fixes the input shape and builds the model."""
        if not isinstance(layer, Layer):
            raise TypeError(f"Sequential.add: `layer` must be a minired Layer, got {layer!r}.")
        if isinstance(layer, InputLayer):
            if self.layers or self.input_shape is not None:
                raise ValueError("Sequential.add: an Input can only be the first layer.")
            self.input_shape = layer.input_shape
            return
        self.layers.append(layer)
        if self.input_shape is not None:
            self.built = False
            self.build(self.input_shape)

    def build(self, input_shape: tuple) -> None:
        """Create every layer's weights for inputs of shape ``input_shape`` (batch first).

        Example:
            >>> model = Sequential([Dense(3)]); model.build((None, 4))
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
        """Run every layer in order: ``ŷ = layerᴸ(... layer¹(x))``."""
        for layer in self.layers:
            x = layer.forward(x, training=training)
        return x

    def backward(self, grad_outputs: np.ndarray, layers: list[Layer] | None = None) -> np.ndarray:
        """Run ``backward`` through ``layers`` (default all) in reverse order; return ``δx``."""
        for layer in reversed(self.layers if layers is None else layers):
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
        """
        self._require_compiled("loss_and_gradients")
        x = self._prepare_x(x, "x")
        y = self._prepare_y(y, len(x))
        loss = self._forward_backward(x, y, sample_weight, training=training)[0]
        return loss, [g.copy() for g in self.gradients]

    def _forward_backward(self, x, y, sample_weight, training: bool):
        """One forward and one backward pass; returns ``(L, ŷ)`` and leaves gradients in layers.

        The loss starts the backward pass. When the output layer ends in a softmax or a sigmoid
        and the loss is a cross-entropy, Keras on TensorFlow computes the loss from the
        logits ``z`` of that layer (no clipping, no ``log(0)``): the gradient is then the
        simple, stable ``δz = p - y`` and the activation's own backward is skipped.
        """
        y_pred = self.forward(x, training=training)
        index = self._logits_layer_index(training)
        if index is not None:
            logits_layer = self.layers[index]
            data_loss, grad_logits = self._loss_from_logits(logits_layer, y, sample_weight)
            grad = logits_layer.backward_from_logits(grad_logits)
            self.backward(grad, layers=self.layers[:index])
        else:
            data_loss, grad = self.loss.value_and_gradient(y, y_pred, sample_weight)
            self.backward(grad)
        total = data_loss + sum(float(p) for p in self.losses)
        return total, y_pred

    def _logits_layer_index(self, training: bool) -> int | None:
        """Index of the layer whose logits a cross-entropy loss reads, or ``None``.

        Keras on TensorFlow attaches the logits ``z`` to the tensor a softmax or sigmoid
        returns, and its cross-entropies use them when they find them. A Dropout that does
        nothing (``training=False``, or ``rate=0``) returns that same tensor, so the logits
        survive it; an active Dropout makes a new tensor, and the loss then falls back to the
        probabilities.
        """
        if not self.loss.uses_output_logits:
            return None
        index = len(self.layers) - 1
        while index > 0 and isinstance(self.layers[index], Dropout) and not (
                training and self.layers[index].rate > 0):
            index -= 1
        activation = getattr(self.layers[index], "activation", None)
        if activation is not None and activation.__name__ in ("softmax", "sigmoid"):
            return index
        return None

    def _loss_from_logits(self, layer: Layer, y, sample_weight) -> tuple[float, np.ndarray]:
        """``(L, ∂L/∂z)`` from the logits ``z`` of a softmax/sigmoid ``layer``.

        A loss built with ``from_logits=True`` gets a warning, as in Keras: the output holds
        probabilities, and the layer's real logits are used anyway.
        """
        if getattr(self.loss, "from_logits", False):
            warnings.warn(
                f"{self.loss.name} received from_logits=True, but the output comes from a "
                f"{layer.activation.__name__} activation and does not hold logits; "
                "as Keras does, the layer's real logits are used.", stacklevel=4)
        return self.loss.value_and_gradient(y, layer.logits, sample_weight, from_logits=True)

    # -- weights ------------------------------------------------------------------------------
    @property
    def weights(self) -> list[np.ndarray]:
        """All weight arrays (the arrays themselves), layer by layer, kernel before bias."""
        return [w for layer in self.layers for w in layer.weights]

    @property
    def trainable_weights(self) -> list[np.ndarray]:
        return [w for layer in self.layers for w in layer.trainable_weights]

    @property
    def gradients(self) -> list[np.ndarray]:
        """``∂L/∂w`` from the last backward pass, in the order of :attr:`weights`."""
        return [g for layer in self.layers for g in layer.gradients]

    @property
    def trainable_gradients(self) -> list[np.ndarray]:
        return [g for layer in self.layers if layer.trainable for g in layer.gradients]

    @property
    def losses(self) -> list[float]:
        """Regularization penalties of every layer, on the current weights."""
        return [p for layer in self.layers for p in layer.losses]

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
        return int(sum(layer.count_params() for layer in self.layers))

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

    def _prepare_x(self, x, argument: str) -> np.ndarray:
        """Check ``x`` and cast it to floatx (as Keras autocasts float64 inputs to float32)."""
        try:
            x = np.asarray(x, dtype=config.floatx())
        except (TypeError, ValueError) as error:
            raise TypeError(f"`{argument}` must be a numeric array, got {type(x).__name__}: {error}"
                            ) from None
        if x.ndim < 2:
            raise ValueError(
                f"`{argument}` must have shape (samples, features...), got shape {x.shape}. "
                "For a single feature use x.reshape(-1, 1)."
            )
        if not np.all(np.isfinite(x)):
            bad = tuple(int(i) for i in np.argwhere(~np.isfinite(x))[0])
            raise ValueError(f"`{argument}` contains NaN or inf (first at index {bad}).")
        if not self.built:
            if not self.layers:
                raise ValueError("The model has no layers: add some before using it.")
            self.build((None, *x.shape[1:]))
        if x.shape[1:] != tuple(self.input_shape[1:]):
            sample_shape = ", ".join(map(str, self.input_shape[1:]))
            raise ValueError(
                f"`{argument}` must have shape (samples, {sample_shape}) to fit the model's "
                f"input, got {x.shape}."
            )
        return x

    def _prepare_y(self, y, n_samples: int, argument: str = "y") -> np.ndarray:
        y = np.asarray(y)
        if not np.issubdtype(y.dtype, np.number) and y.dtype != bool:
            raise TypeError(f"`{argument}` must be numeric, got dtype {y.dtype}.")
        if y.ndim == 0 or len(y) != n_samples:
            raise ValueError(
                f"`{argument}` must have one target per sample of x ({n_samples}), got "
                f"{'a scalar' if y.ndim == 0 else len(y)}."
            )
        if np.issubdtype(y.dtype, np.floating) and not np.all(np.isfinite(y)):
            raise ValueError(f"`{argument}` contains NaN or inf.")
        return y
