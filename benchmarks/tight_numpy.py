"""The floors: the same training math written by hand in NumPy, as tight as a careful engineer
would write it, and a loop of only its matrix products.

A dense chain ``x -> [Dense(relu)]* -> Dense(out)`` trained one epoch at a time, with the
exact work minired and Keras do in ``fit``: a new shuffled order each epoch, the last smaller
batch kept, the loss of every batch computed (and its batch-size-weighted mean returned), the
gradients of every weight and bias, and the optimizer's update of every variable. Nothing is
skipped; what is saved is only what a framework spends on generality: every activation,
gradient and optimizer scratch array is allocated once per batch size and reused
(``out=`` everywhere), the softmax and the cross-entropy are fused, and the optimizer's
scalars are computed once per step.

Notation (row-major batches, ``N`` samples, layer ``l`` with weights ``W_l`` of shape
``(in, out)`` and bias ``b_l``)::

    forward   Z_l = A_{l-1} @ W_l + b_l,    A_l = relu(Z_l)    (A_0 = X; last layer: no relu)
    softmax + categorical cross-entropy (fused):
              P = softmax(Z_L),   loss = -mean_n log P[n, y_n],   dZ_L = (P - Y) / N
    mean squared error (one output):
              loss = mean((Z_L - y)²),                            dZ_L = 2 (Z_L - y) / N
    backward  dW_l = A_{l-1}ᵀ @ dZ_l,   db_l = Σ_n dZ_l,
              dA_{l-1} = dZ_l @ W_lᵀ,   dZ_{l-1} = dA_{l-1} · [A_{l-1} > 0]   (relu')
    Adam (Keras' form, t = step + 1, eps added to the uncorrected sqrt(v)):
              alpha = lr · sqrt(1 - b2^t) / (1 - b1^t)
              m <- b1 m + (1 - b1) g,   v <- b2 v + (1 - b2) g²
              w <- w - alpha m / (sqrt(v) + eps)
    (in this order of operations by default; Keras' own order, which minired follows, with
    ``adam_order="keras"``: see :class:`TightMLP`)
    SGD with momentum (Keras' form):   u <- mu u - lr g,   w <- w + u

Everything is float32.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

F32 = np.float32


class _Buffers:
    """Every array one training step of batch size ``n`` writes into."""

    def __init__(self, sizes: list[int], n: int) -> None:
        self.x = np.empty((n, sizes[0]), F32)                       # the shuffled batch
        self.y = None                                                # set by the trainer
        self.z = [np.empty((n, s), F32) for s in sizes[1:]]          # Z_l, then A_l in place
        self.mask = [np.empty((n, s), bool) for s in sizes[1:-1]]    # [A_l > 0]
        self.dz = [np.empty((n, s), F32) for s in sizes[1:]]         # dZ_l (dA_l before relu')
        self.rowmax = np.empty((n, 1), F32)
        self.rowsum = np.empty((n, 1), F32)
        self.picked = np.empty(n, F32)
        self.rows = np.arange(n)


class TightMLP:
    """A dense relu chain trained by hand (see the module docstring for the math).

    ``loss`` is ``"softmax_ce"`` (integer labels; softmax output + categorical
    cross-entropy, fused) or ``"mse"`` (linear output). ``optimizer`` is ``"adam"`` or
    ``"sgd_momentum"``. ``weights`` is the flat list ``[W1, b1, W2, b2, ...]`` (copied).

    ``adam_order`` is the order of Adam's operations: ``"fast"`` (the floor's, above: each
    moment scaled in place first) or ``"keras"``, the order Keras writes and minired must
    follow to compute Keras' numbers bit for bit (``m += (g - m)(1 - b1)``,
    ``v += (g² - v)(1 - b2)``, ``w -= (m·alpha) / (sqrt(v) + eps)``): the same math, rounded
    as Keras rounds it, a few more passes over memory. It runs minired's own elementwise
    update, ``adam_update`` of ``minired/optimizers/adam.py``, once on the flat arrays of all
    the weights. ``python -m benchmarks.stages --adam-order keras`` measures the gap to
    minired with it.
    """

    def __init__(self, weights: list[np.ndarray], loss: str = "softmax_ce",
                 optimizer: str = "adam", learning_rate: float = 1e-3, beta_1: float = 0.9,
                 beta_2: float = 0.999, epsilon: float = 1e-7, momentum: float = 0.9,
                 seed: int = 0, adam_order: str = "fast") -> None:
        if loss not in ("softmax_ce", "mse") or optimizer not in ("adam", "sgd_momentum"):
            raise ValueError(f"unknown loss {loss!r} or optimizer {optimizer!r}")
        if adam_order not in ("fast", "keras"):
            raise ValueError(f"adam_order must be 'fast' or 'keras', got {adam_order!r}")
        self.adam_order = adam_order
        # Every weight, gradient and optimizer slot is a view into one flat array, so the
        # optimizer updates all the variables at once (a handful of NumPy calls per step,
        # however many layers) and the matrix products write straight into the views.
        shapes = [np.shape(w) for w in weights]
        total = sum(int(np.prod(s)) for s in shapes)

        def flat_and_views(fill=None):
            flat = np.zeros(total, F32) if fill is None else np.empty(total, F32)
            views, offset = [], 0
            for shape in shapes:
                size = int(np.prod(shape))
                views.append(flat[offset:offset + size].reshape(shape))
                offset += size
            return flat, views

        self.flat_params, self.params = flat_and_views(fill=True)
        for view, w in zip(self.params, weights, strict=True):
            view[...] = w
        self.W = self.params[0::2]
        self.b = self.params[1::2]
        self.sizes = [self.W[0].shape[0]] + [w.shape[1] for w in self.W]
        self.loss, self.optimizer = loss, optimizer
        self.lr, self.beta_1, self.beta_2 = learning_rate, beta_1, beta_2
        self.epsilon, self.momentum = epsilon, momentum
        self.flat_grads, self.grads = flat_and_views()               # dW_1, db_1, dW_2, ...
        self.scratch = np.empty(total, F32)
        if adam_order == "keras":              # minired's update, on the flat arrays
            from minired.optimizers.adam import adam_update

            self.keras_order_update = adam_update
            self.denominator = np.empty(total, F32)
        self.m = np.zeros(total, F32)                                # Adam m / SGD velocity
        self.v = np.zeros(total, F32) if optimizer == "adam" else None
        self.step = 0
        self.rng = np.random.default_rng(seed)
        self._buffers: dict[int, _Buffers] = {}

    def _buffers_for(self, n: int) -> _Buffers:
        if n not in self._buffers:
            buf = _Buffers(self.sizes, n)
            if self.loss == "softmax_ce":
                buf.y = np.empty(n, np.intp)
            else:
                buf.y = np.empty((n, self.sizes[-1]), F32)
            self._buffers[n] = buf
        return self._buffers[n]

    # -- one step ---------------------------------------------------------------------------
    def _gather(self, buf: _Buffers, x: np.ndarray, y: np.ndarray, idx: np.ndarray) -> None:
        """The batch ``x[idx], y[idx]``, copied into the step's buffers."""
        np.take(x, idx, axis=0, out=buf.x)
        np.take(y, idx, axis=0, out=buf.y)

    def _forward(self, buf: _Buffers, x: np.ndarray) -> None:
        a = x
        last = len(self.W) - 1
        for i, (W, b) in enumerate(zip(self.W, self.b, strict=True)):
            z = buf.z[i]
            np.matmul(a, W, out=z)
            z += b
            if i < last:
                np.maximum(z, 0, out=z)                              # A_l, in place of Z_l
            a = z

    def _loss_and_output_gradient(self, buf: _Buffers, n: int) -> float:
        z, dz = buf.z[-1], buf.dz[-1]
        if self.loss == "softmax_ce":
            # P = exp(Z - max) / sum, in place in z; loss from the true class only;
            # dZ = (P - onehot(y)) / N, written as P/N then -1/N at the true class.
            np.max(z, axis=1, keepdims=True, out=buf.rowmax)
            z -= buf.rowmax
            np.exp(z, out=z)
            np.sum(z, axis=1, keepdims=True, out=buf.rowsum)
            z /= buf.rowsum
            picked = buf.picked
            picked[...] = z[buf.rows, buf.y]
            np.maximum(picked, F32(1e-7), out=picked)                # Keras clips at epsilon
            loss = -float(np.log(picked, out=picked).mean())
            np.multiply(z, F32(1.0 / n), out=dz)
            dz[buf.rows, buf.y] -= F32(1.0 / n)
        else:
            # e = Z - y;  loss = mean(e²);  dZ = 2 e / (N · outputs)
            np.subtract(z, buf.y, out=dz)
            loss = float(np.vdot(dz, dz)) / dz.size
            dz *= F32(2.0 / dz.size)
        return loss

    def _backward(self, buf: _Buffers, x: np.ndarray) -> None:
        for i in range(len(self.W) - 1, -1, -1):
            dz = buf.dz[i]
            a_prev = x if i == 0 else buf.z[i - 1]
            np.matmul(a_prev.T, dz, out=self.grads[2 * i])           # dW_l = A_{l-1}ᵀ dZ_l
            np.sum(dz, axis=0, out=self.grads[2 * i + 1])            # db_l = Σ_n dZ_l
            if i > 0:
                da = buf.dz[i - 1]
                np.matmul(dz, self.W[i].T, out=da)                   # dA_{l-1} = dZ_l W_lᵀ
                mask = buf.mask[i - 1]
                np.greater(a_prev, 0, out=mask)
                np.multiply(da, mask, out=da)                        # relu'

    def _update(self) -> None:
        """One optimizer step on the flat arrays (every variable at once)."""
        self.step += 1
        p, g, m, s = self.flat_params, self.flat_grads, self.m, self.scratch
        if self.optimizer == "adam":
            t = self.step
            b1, b2 = F32(self.beta_1), F32(self.beta_2)
            c1, c2 = F32(1 - self.beta_1), F32(1 - self.beta_2)
            alpha = F32(self.lr * math.sqrt(1 - self.beta_2**t) / (1 - self.beta_1**t))
            eps, v = F32(self.epsilon), self.v
            if self.adam_order == "keras":
                self.keras_order_update(g, p, m, v, None, (s, self.denominator), alpha, c1,
                                        c2, eps)
                return
            m *= b1                                                  # m <- b1 m + (1-b1) g
            np.multiply(g, c1, out=s)
            m += s
            v *= b2                                                  # v <- b2 v + (1-b2) g²
            np.multiply(g, g, out=s)
            s *= c2
            v += s
            np.sqrt(v, out=s)                                        # w <- w - alpha m/(√v+eps)
            s += eps
            np.divide(m, s, out=s)
            s *= alpha
            p -= s
        else:
            u = m
            u *= F32(self.momentum)                                  # u <- mu u - lr g
            np.multiply(g, F32(self.lr), out=s)
            u -= s
            p += u                                                   # w <- w + u

    def train_epoch(self, x: np.ndarray, y: np.ndarray, batch_size: int) -> float:
        """One epoch over ``x, y`` in a new shuffled order; the mean loss, as ``fit`` reports."""
        n_total = len(x)
        order = self.rng.permutation(n_total)
        total = 0.0
        for start in range(0, n_total, batch_size):
            idx = order[start:start + batch_size]
            total += self.train_batch(x, y, idx) * len(idx)
        return total / n_total

    def train_batch(self, x: np.ndarray, y: np.ndarray, idx: np.ndarray) -> float:
        """One training step on the samples ``idx`` of ``x, y``; the batch's loss."""
        n = len(idx)
        buf = self._buffers_for(n)
        self._gather(buf, x, y, idx)
        self._forward(buf, buf.x)
        loss = self._loss_and_output_gradient(buf, n)
        self._backward(buf, buf.x)
        self._update()
        return loss

    def predict(self, x: np.ndarray, batch_size: int) -> np.ndarray:
        """The forward pass in batches (softmax applied for ``softmax_ce``), into one array."""
        out = np.empty((len(x), self.sizes[-1]), F32)
        for start in range(0, len(x), batch_size):
            xb = x[start:start + batch_size]
            n = len(xb)
            buf = self._buffers_for(n)
            self._forward(buf, xb)
            z = buf.z[-1]
            if self.loss == "softmax_ce":
                np.max(z, axis=1, keepdims=True, out=buf.rowmax)
                z -= buf.rowmax
                np.exp(z, out=z)
                np.sum(z, axis=1, keepdims=True, out=buf.rowsum)
                np.divide(z, buf.rowsum, out=out[start:start + n])
            else:
                out[start:start + n] = z
        return out


class MatmulFloor:
    """Only the matrix products of a :class:`TightMLP` epoch (the BLAS floor): per step,
    ``A_{l-1} @ W_l`` for every layer, ``A_{l-1}ᵀ @ dZ_l`` for every layer and
    ``dZ_l @ W_lᵀ`` for every layer but the first, on preallocated batches of the same
    shapes (same number of steps and the same last smaller batch). No data gathering, no
    elementwise work, no optimizer."""

    def __init__(self, sizes: list[int], seed: int = 0) -> None:
        rng = np.random.default_rng(seed)
        self.sizes = sizes
        self.W = [rng.standard_normal((a, b), dtype=F32) * F32(0.05)
                  for a, b in zip(sizes[:-1], sizes[1:], strict=True)]
        self.dW = [np.empty_like(w) for w in self.W]
        self._buffers: dict[int, tuple] = {}

    def _buffers_for(self, n: int):
        if n not in self._buffers:
            rng = np.random.default_rng(n)
            x = rng.standard_normal((n, self.sizes[0]), dtype=F32)
            z = [np.empty((n, s), F32) for s in self.sizes[1:]]
            dz = [rng.standard_normal((n, s), dtype=F32) for s in self.sizes[1:]]
            self._buffers[n] = (x, z, dz)
        return self._buffers[n]

    def epoch(self, n_total: int, batch_size: int, backward: bool = True) -> None:
        for start in range(0, n_total, batch_size):
            n = min(batch_size, n_total - start)
            x, z, dz = self._buffers_for(n)
            a = x
            for W, zl in zip(self.W, z, strict=True):
                np.matmul(a, W, out=zl)
                a = zl
            if backward:
                for i in range(len(self.W) - 1, -1, -1):
                    a_prev = x if i == 0 else z[i - 1]
                    np.matmul(a_prev.T, dz[i], out=self.dW[i])
                    if i > 0:
                        np.matmul(dz[i], self.W[i].T, out=dz[i - 1])


class ConvMatmulFloor:
    """Only the matrix products of minired's training step on a convolutional network (the
    BLAS floor of its im2col convolutions, see ``minired/layers/convolutional/base_conv.py``),
    on preallocated arrays of the same shapes, read from a built model's layers.

    Per ``Conv2D`` (stride 1, no padding, no groups), with ``P = N·out_h·out_w`` windows,
    ``K = kh·kw·C`` values per window and ``F`` filters::

        forward    cols (P, K) @ W (K, F)
        backward   colsᵀ (K, P) @ δz (P, F)                                    ∂L/∂W
                   δz (P, F) @ W[a]ᵀ (F, C), for each of the kh·kw kernel offsets a   δx
                   (δx not for the first layer, whose input gradient is never read)

    ``cols`` is laid out as minired lays it out: for inputs of up to ``FEW_CHANNELS``
    channels it is the transpose of a ``(K, P)`` array (copied column by column), else a
    ``(P, K)`` array. Per ``Dense``, the three products of :class:`MatmulFloor` (two for a
    first layer). Every other layer (pooling, Flatten, Dropout) has no product. No im2col
    copy, no activation, loss or optimizer: what is left when every elementwise pass is free.
    """

    def __init__(self, model, seed: int = 0) -> None:
        from minired.layers.convolutional.base_conv import FEW_CHANNELS

        rng = np.random.default_rng(seed)
        self.layers: list[_ProductLayer] = []       # the layers with a product, in order
        for layer in model.layers:
            kind = type(layer).__name__
            if kind not in ("Conv2D", "Dense"):
                continue
            if kind == "Conv2D" and (layer.strides != (1, 1) or layer.padding != "valid"
                                     or layer.groups != 1):
                raise ValueError("ConvMatmulFloor: only stride 1, 'valid', one group")
            self.layers.append(_ProductLayer(
                kind=kind,
                positions=math.prod(layer.output.shape[1:-1]),   # out_h·out_w; 1 for Dense
                kernel=rng.standard_normal(layer.kernel.shape, dtype=F32) * F32(0.05),
                by_column=kind == "Conv2D" and layer.input.shape[-1] <= FEW_CHANNELS,
                first=not self.layers))
        self._buffers: dict[int, list[_ProductArrays]] = {}

    def _buffers_for(self, n: int) -> list[_ProductArrays]:
        """The arrays of each layer's products for a batch of ``n`` (made once per ``n``)."""
        if n not in self._buffers:
            rng = np.random.default_rng(n)
            buffers = []
            for layer in self.layers:
                rows = n * layer.positions                       # P windows, or N samples
                inputs, outputs = math.prod(layer.kernel.shape[:-1]), layer.kernel.shape[-1]
                x = (rng.standard_normal((inputs, rows), dtype=F32).T if layer.by_column
                     else rng.standard_normal((rows, inputs), dtype=F32))
                per_offset = layer.kernel.shape[-2] if layer.kind == "Conv2D" else inputs
                buffers.append(_ProductArrays(
                    x=x, z=np.empty((rows, outputs), F32),
                    dz=rng.standard_normal((rows, outputs), dtype=F32),
                    dw=np.empty((inputs, outputs), F32),
                    dx=np.empty((rows, per_offset), F32)))
            self._buffers[n] = buffers
        return self._buffers[n]

    def epoch(self, n_total: int, batch_size: int) -> None:
        for start in range(0, n_total, batch_size):
            buffers = self._buffers_for(min(batch_size, n_total - start))
            for layer, a in zip(self.layers, buffers, strict=True):
                kernel = layer.kernel
                np.matmul(a.x, kernel.reshape(-1, kernel.shape[-1]), out=a.z)  # forward
            for layer, a in zip(reversed(self.layers), reversed(buffers), strict=True):
                np.matmul(a.x.T, a.dz, out=a.dw)                                # ∂L/∂W
                if layer.first:
                    continue
                if layer.kind == "Dense":
                    np.matmul(a.dz, layer.kernel.T, out=a.dx)                   # δx
                    continue
                for offset in np.ndindex(*layer.kernel.shape[:-2]):             # δx, by offset
                    np.matmul(a.dz, layer.kernel[offset].T, out=a.dx)


class _ProductLayer(NamedTuple):
    """What :class:`ConvMatmulFloor` keeps of a layer with a product."""

    kind: str               #: "Conv2D" or "Dense"
    positions: int          #: output positions per sample (out_h·out_w; 1 for a Dense)
    kernel: np.ndarray      #: a random kernel of the layer's shape
    by_column: bool         #: whether minired copies its cols column by column
    first: bool             #: the model's first layer: no δx


class _ProductArrays(NamedTuple):
    """The arrays of one layer's products for one batch size."""

    x: np.ndarray           #: its input as the product reads it (cols, for a Conv2D)
    z: np.ndarray           #: x W
    dz: np.ndarray          #: δz
    dw: np.ndarray          #: ∂L/∂W = xᵀ δz
    dx: np.ndarray          #: δz Wᵀ (a Dense), or one δz W[a]ᵀ (a Conv2D, per offset a)
