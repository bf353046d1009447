"""SpectralNormalization: divide a layer's kernel by its largest singular value, estimated by
power iteration (Miyato et al. 2018, "Spectral Normalization for GANs")."""

from __future__ import annotations

import numpy as np

from minired import config, initializers
from minired.layers.layer import Layer, takes_input_gradient
from minired.layers.wrapper import Wrapper
from minired.variables import Variable


def _normalize(x: np.ndarray) -> np.ndarray:
    """``x / ‖x‖`` over all of ``x``, as Keras' ``ops.normalize(x, axis=None)``:
    ``x · min(1/√Σx², 1/ε)`` (a zero vector stays zero)."""
    with np.errstate(divide="ignore"):
        inverse_norm = 1 / np.sqrt(np.sum(np.square(x)))
    return x * np.minimum(inverse_norm, x.dtype.type(1.0 / config.epsilon()))


class SpectralNormalization(Wrapper):
    """Keep the spectral norm (largest singular value) of a layer's kernel near 1.

    Dividing a kernel by its largest singular value ``σ(W)`` makes the layer's linear part
    1-Lipschitz (``‖x W‖ ≤ ‖x‖``), which stabilizes the training of a GAN's
    discriminator. ``σ`` is estimated by power iteration with a vector ``u`` kept between
    steps (a non-trainable weight, ``vector_u``), so one iteration per step is enough.

    Forward in training (``W`` is the kernel seen as a matrix ``(-1, units)``: a Dense
    kernel as is, a Conv2D kernel ``(kh·kw·c_in, c_out)``)::

        v = normalize(u Wᵀ),  u = normalize(v W)      (power_iterations times)
        σ = v W uᵀ                                    (≈ the largest singular value of W)
        W ← W / σ,  vector_u ← u                      (written into the layers' weights)
        a = layer(x; W)

    Outside training ``a = layer(x; W)`` with the kernel as it is (already normalized by the
    last training step), and nothing is written. A kernel of zeros is left alone.

    Backward: the wrapped layer's backward at the normalized kernel, ``δx`` and ``∂L/∂W``
    (``∂L/∂W = xᵀ δz`` for a Dense). No term flows through ``σ``: Keras **assigns** ``W/σ``
    to the kernel variable and then runs the layer, which reads the variable, so
    TensorFlow's tape differentiates the loss with respect to the assigned value and sees
    no path back through ``σ``, ``u`` or ``v`` (an assignment has no gradient; ``u`` and
    ``v`` are also under ``stop_gradient`` in Keras). The optimizer then updates the
    normalized kernel, ``W ← W/σ - lr·∂L/∂W``, and the next training step normalizes again.

    Keras casts the outputs to the inputs' dtype, which for an Embedding's integer ids
    truncates the vectors to integers; minired returns the float vectors.

    A cross-entropy after a wrapped ``Dense(..., activation="softmax")`` (or sigmoid) reads
    its logits ``z``, as Keras' does through the wrapper (see :attr:`activation`).

    Weights, in Keras' order: the kernel, ``vector_u`` (shape ``(1, units)``, drawn from
    ``TruncatedNormal(stddev=0.02)``), then the wrapped layer's other weights (its bias).

    Args:
        layer: a layer with a ``kernel`` (Dense, Conv1D/2D/3D...) or ``embeddings``
            (Embedding).
        power_iterations: power iterations per training step, an int > 0 (default 1).
        **kwargs: ``name``, ``trainable``, ``dtype``.

    Example:
        >>> from minired.layers import Dense
        >>> layer = SpectralNormalization(Dense(2), power_iterations=20)
        >>> layer.build((None, 2))
        >>> layer.layer.kernel[...] = [[3.0, 0.0], [0.0, 1.0]]     # singular values 3 and 1
        >>> y = layer(np.ones((1, 2), dtype="float32"), training=True)
        >>> [round(float(w), 3) for w in np.diag(layer.layer.kernel)]      # divided by σ = 3
        [1.0, 0.333]
    """

    _keras_build_config = True

    def __init__(self, layer: Layer, power_iterations: int = 1, **kwargs) -> None:
        super().__init__(layer, **kwargs)
        if isinstance(power_iterations, bool) or not isinstance(power_iterations,
                                                                int | np.integer):
            raise TypeError("`power_iterations` must be an int > 0, got "
                            f"{power_iterations!r} ({type(power_iterations).__name__}).")
        if power_iterations <= 0:
            raise ValueError("`power_iterations` should be greater than zero. Received: "
                             f"`power_iterations={power_iterations}`")
        self.power_iterations = int(power_iterations)

    def build(self, input_shape: tuple) -> None:
        super().build(input_shape)
        for attribute in ("kernel", "embeddings"):
            if hasattr(self.layer, attribute):
                self._kernel_attribute = attribute
                break
        else:
            raise ValueError(f"{type(self.layer).__name__} object has no attribute 'kernel' "
                             "nor 'embeddings'")
        kernel = self.kernel
        # Kept out of the Variables a layer tracks by itself (`_own_variables`): the wrapper
        # lists its weights itself, in Keras' order (see _weight_triples), and saves u in its
        # own group of the file, not in the wrapped layer's (see _keras_weight_groups).
        self.__dict__["vector_u"] = Variable(
            initializers.TruncatedNormal(stddev=0.02), shape=(1, kernel.shape[-1]),
            dtype=kernel.dtype, trainable=False, name="vector_u")

    @property
    def kernel(self) -> np.ndarray:
        """The wrapped layer's kernel (or embeddings): the array itself, changed in place."""
        return getattr(self.layer, self._kernel_attribute)

    # -- the two passes -----------------------------------------------------------------------
    def normalized_weights(self) -> tuple[np.ndarray, np.ndarray]:
        """Return ``(u, W / σ)``: the power iteration's new ``u`` and the kernel divided by
        the estimate ``σ = v W uᵀ`` of its largest singular value (nothing is written)."""
        kernel = self.kernel
        w = kernel.reshape(-1, kernel.shape[-1])           # W as a matrix (-1, units)
        u = np.asarray(self.vector_u)
        for _ in range(self.power_iterations):
            v = _normalize(u @ w.T)                        # v = normalize(u Wᵀ)   (1, rows)
            u = _normalize(v @ w)                          # u = normalize(v W)    (1, units)
        sigma = (v @ w) @ u.T                              # σ = v W uᵀ             (1, 1)
        return u, np.asarray(kernel / sigma.reshape((1,) * kernel.ndim))

    def forward(self, inputs: np.ndarray, training: bool = False) -> np.ndarray:
        if training and np.any(self.kernel != 0):          # Keras skips a kernel of zeros
            new_u, new_kernel = self.normalized_weights()
            self.vector_u.assign(new_u)                    # vector_u ← u
            self.kernel[...] = new_kernel                  # W ← W / σ, in place (Keras' assign)
        outputs = self.layer.forward(inputs, training=training)   # a = layer(x; W)
        self.cache = self.layer.cache
        return outputs

    def backward(self, grad_outputs: np.ndarray, input_gradient: bool = True):
        """The wrapped layer's backward at the normalized kernel (nothing through σ)."""
        self.layer.cache = self.cache
        if not input_gradient and takes_input_gradient(type(self.layer)):
            return self.layer.backward(grad_outputs, input_gradient=False)
        grad_x = self.layer.backward(grad_outputs)
        return grad_x if input_gradient else None

    # -- a cross-entropy reads the logits z of a wrapped softmax/sigmoid, as in Keras ---------
    @property
    def activation(self):
        """The wrapped layer's activation, when it has one and a ``backward_from_z``: a
        cross-entropy after a wrapped ``Dense(..., activation="softmax")`` reads its logits
        ``z`` (this call's cache is the wrapped layer's), as Keras' loss reads them through
        the wrapper (see :func:`minired.keras_numerics.logits_call`)."""
        if hasattr(self.layer, "backward_from_z"):
            return getattr(self.layer, "activation", None)
        return None

    def backward_from_z(self, grad_z: np.ndarray, input_gradient: bool = True):
        """The wrapped layer's backward from ``δz = ∂L/∂z`` (the loss gave ``δz``)."""
        self.layer.cache = self.cache
        if not input_gradient:
            return self.layer.backward_from_z(grad_z, input_gradient=False)
        return self.layer.backward_from_z(grad_z)

    # -- weights and saving -------------------------------------------------------------------
    def _weight_triples(self) -> list:
        """The kernel, ``vector_u``, then the wrapped layer's other weights (Keras' order:
        Keras tracks the kernel as the wrapper's own variable, set in ``build``)."""
        inner = self.layer._weight_triples()
        if not self.built:
            return inner
        kernel = [t for t in inner if t[0] is self.kernel]
        rest = [t for t in inner if t[0] is not self.kernel]
        return [*kernel, (self.vector_u, self.vector_u.gradient, None), *rest]

    def zero_gradients(self) -> None:
        """The wrapped layer zeroes its gradients (``vector_u`` never gets one)."""
        self.layer.zero_gradients()
        if self.built:
            self.vector_u.gradient.fill(0)

    def _keras_weight_groups(self) -> list[tuple[str, list]]:
        """Keras' ``.keras`` layout: the wrapper's own ``vars`` (the kernel, ``vector_u``),
        then the wrapped layer under ``layer/`` (its kernel again, and its bias)."""
        from minired.saving import saving_lib

        groups = [("", [self.kernel, self.vector_u])]
        for path, _, weights, _ in saving_lib._layer_entries(self.layer, "layer", set()):
            groups.append((path, weights))
        return groups

    def get_config(self) -> dict:
        """Keras' config: the wrapped layer serialized and ``power_iterations``."""
        return {**super().get_config(), "power_iterations": self.power_iterations}
