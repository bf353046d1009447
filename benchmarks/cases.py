"""The benchmark cases: the same work (layer sizes, batch, epochs, optimizer, loss, data,
initial weights) for every contender, each wrapped as a zero-argument timed *unit*.

A contender's ``setup`` builds its model and runs one untimed warm-up unit (for Keras this
is where ``tf.function`` traces the step), then returns the unit the runner times.
"""

from __future__ import annotations

import functools
import importlib.util
import os
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from benchmarks.tight_numpy import ConvMatmulFloor, MatmulFloor, TightMLP

F32 = np.float32
SEED = 0


@dataclass
class Contender:
    name: str
    setup: Callable[[], Callable[[], object]]


@dataclass
class Case:
    name: str
    description: str
    unit: str                                   # what one timed unit is
    params: dict
    kind: str = "time"                          # "time" or "memory"
    # builds the data and the contenders when the case runs (so only one case's data lives)
    make: Callable[[], list[Contender]] = field(default=list)


# -- sizes --------------------------------------------------------------------------------------
FULL = {"mlp_samples": 30_000, "wide_samples": 10_000, "deep_samples": 30_000,
        "predict_samples": 100_000, "predict32_samples": 20_000, "convnet_samples": 6_000,
        "memory_samples": 30_000, "overhead_samples": 4_000}
QUICK = {"mlp_samples": 512, "wide_samples": 256, "deep_samples": 512,
         "predict_samples": 2_048, "predict32_samples": 256, "convnet_samples": 64,
         "memory_samples": 512, "overhead_samples": 64}

MLP = [784, 256, 128, 10]
WIDE = [784, 1024, 1024, 10]
DEEP = [64] + [64] * 8 + [1]
# The overhead case: so small that the arithmetic takes next to no time, so one epoch
# times what each library does around it, per step (the graph, the loss's and the
# optimizer's calls, the bookkeeping).
TINY = [16, 16, 16, 10]
TINY_BATCH = 8
PREDICT_BATCH = 1024      # the "predict" case; "predict32" uses Keras' default batch, 32
ALL_CASES = ("mlp32", "mlp128", "mlp512", "wide", "deep", "predict", "predict32", "memory",
             "convnet", "overhead")


# -- the libraries, imported only when a case needs them ---------------------------------------
def load_keras():
    """Import Keras on TensorFlow (CPU), with TensorFlow's start-up chatter silenced."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    saved, devnull = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    try:
        import keras
        import tensorflow as tf
    finally:
        os.dup2(saved, 2)
        os.close(devnull)
        os.close(saved)
    tf.get_logger().setLevel("ERROR")
    return keras


def torch_available() -> bool:
    return importlib.util.find_spec("torch") is not None


# -- data ----------------------------------------------------------------------------------------
def classification_data(n: int, d: int = 784, classes: int = 10, seed: int = SEED):
    """``x`` standard normal (standardized features), float32; integer labels from a random
    linear teacher (learnable, balanced).

    Not pixels in [0, 1): with all-positive inputs and these random labels most first-layer
    relu units die within an epoch, their gradients are exactly 0, and Adam's ``m`` decays
    into float32 subnormals, which x86 computes on ~10-100x slower. TensorFlow flushes
    subnormals to zero, NumPy cannot; the benchmark would then time that hazard (real, and
    reported separately) rather than the engines."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, d), dtype=F32)
    teacher = rng.standard_normal((d, classes)).astype(F32)
    y = np.argmax(x @ teacher, axis=1).astype(np.intp)
    return x, y


def regression_data(n: int, d: int = 64, seed: int = SEED):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, d), dtype=F32)
    w = rng.standard_normal((d, 1)).astype(F32) / F32(np.sqrt(d))
    return x, np.sin(x @ w).astype(F32)


def image_data(n: int, seed: int = SEED):
    rng = np.random.default_rng(seed)
    x = rng.random((n, 28, 28, 1), dtype=F32)
    y = rng.integers(0, 10, n)
    return x, np.eye(10, dtype=F32)[y]


# -- models --------------------------------------------------------------------------------------
def dense_stack(lib, sizes: list[int], out_activation: str | None):
    """The same Sequential dense relu chain in minired or Keras (same API)."""
    layers = [lib.Input((sizes[0],))]
    layers += [lib.layers.Dense(s, activation="relu") for s in sizes[1:-1]]
    layers.append(lib.layers.Dense(sizes[-1], activation=out_activation))
    return lib.Sequential(layers)


def initial_weights(sizes: list[int], out_activation: str | None) -> list[np.ndarray]:
    """minired's Glorot-uniform initial weights from a fixed seed: every contender starts
    from these."""
    import minired as mr

    mr.utils.set_random_seed(SEED)
    return [w.astype(F32) for w in dense_stack(mr, sizes, out_activation).get_weights()]


def torch_dense(sizes: list[int], weights: list[np.ndarray]):
    import torch

    modules = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        linear = torch.nn.Linear(a, b)
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(np.ascontiguousarray(weights[2 * i].T)))
            linear.bias.copy_(torch.from_numpy(weights[2 * i + 1]))
        modules.append(linear)
        if i < len(sizes) - 2:
            modules.append(torch.nn.ReLU())
    return torch.nn.Sequential(*modules)


def _torch_epoch(model, optimizer, loss_fn, x, y, batch_size: int, generator,
                 accuracy: bool = False) -> dict[str, float]:
    """One shuffled epoch of the usual PyTorch loop; its logs, as Keras' ``fit`` keeps them:
    the mean loss and, with ``accuracy`` (``y`` one-hot), the fraction of right predictions,
    counted batch by batch as Keras' ``"accuracy"`` metric does."""
    import torch

    order = torch.randperm(len(x), generator=generator)
    total, right = 0.0, 0
    for start in range(0, len(x), batch_size):
        idx = order[start:start + batch_size]
        optimizer.zero_grad(set_to_none=True)
        logits = model(x[idx])
        loss = loss_fn(logits, y[idx])
        loss.backward()
        optimizer.step()
        total += loss.item() * len(idx)
        if accuracy:
            right += int((logits.argmax(1) == y[idx].argmax(1)).sum())
    logs = {"loss": total / len(x)}
    return {**logs, "accuracy": right / len(x)} if accuracy else logs


# -- contenders for a dense training case -------------------------------------------------------
def _contenders(minired, keras, torch, tight, matmul) -> list[Contender]:
    """The contenders in the report's order, from their setups (None: left out)."""
    setups = [("minired", minired), ("keras", keras), ("torch", torch),
              ("tight_numpy", tight), ("matmul_only", matmul)]
    return [Contender(name, setup) for name, setup in setups if setup is not None]


def dense_training_contenders(sizes, x, y, batch_size, task, with_keras, with_torch):
    """``task`` is "classify" (softmax + sparse categorical cross-entropy, Adam 1e-3) or
    "regress" (linear output + mse, SGD 0.01 with momentum 0.9)."""
    out_activation = "softmax" if task == "classify" else None
    loss = "sparse_categorical_crossentropy" if task == "classify" else "mse"
    w0 = initial_weights(sizes, out_activation)

    def optimizer(lib):
        if task == "classify":
            return lib.optimizers.Adam(learning_rate=1e-3)
        return lib.optimizers.SGD(learning_rate=0.01, momentum=0.9)

    def fit_unit(lib):
        model = dense_stack(lib, sizes, out_activation)
        model.set_weights(w0)
        model.compile(optimizer=optimizer(lib), loss=loss)

        def unit():
            return model.fit(x, y, batch_size=batch_size, epochs=1, verbose=0, shuffle=True)
        unit()                                                    # warm-up (Keras: tracing)
        return unit

    def minired_setup():
        import minired as mr

        mr.utils.set_random_seed(SEED)
        return fit_unit(mr)

    def keras_setup():
        keras = load_keras()
        keras.utils.set_random_seed(SEED)
        return fit_unit(keras)

    def torch_setup():
        import torch

        torch.manual_seed(SEED)
        model = torch_dense(sizes, w0)
        if task == "classify":
            opt = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7)
            loss_fn = torch.nn.CrossEntropyLoss()       # on logits: softmax fused, as usual
            yt = torch.from_numpy(y.astype(np.int64))
        else:
            opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
            loss_fn = torch.nn.MSELoss()
            yt = torch.from_numpy(y)
        xt, generator = torch.from_numpy(x), torch.Generator().manual_seed(SEED)

        def unit():
            return _torch_epoch(model, opt, loss_fn, xt, yt, batch_size, generator)
        unit()
        return unit

    def tight_setup():
        if task == "classify":
            net = TightMLP(w0, loss="softmax_ce", optimizer="adam", learning_rate=1e-3)
        else:
            net = TightMLP(w0, loss="mse", optimizer="sgd_momentum", learning_rate=0.01,
                           momentum=0.9)

        def unit():
            return net.train_epoch(x, y, batch_size)
        unit()
        return unit

    def matmul_setup():
        floor = MatmulFloor(sizes)

        def unit():
            return floor.epoch(len(x), batch_size)
        unit()
        return unit

    return _contenders(minired_setup, keras_setup if with_keras else None,
                       torch_setup if with_torch else None, tight_setup, matmul_setup)


def predict_contenders(x, batch_size, with_keras, with_torch):
    sizes, w0 = MLP, initial_weights(MLP, "softmax")

    def fit_free_unit(lib):
        model = dense_stack(lib, sizes, "softmax")
        model.set_weights(w0)

        def unit():
            return model.predict(x, batch_size=batch_size, verbose=0)
        unit()
        return unit

    def minired_setup():
        import minired as mr

        return fit_free_unit(mr)

    def keras_setup():
        return fit_free_unit(load_keras())

    def torch_setup():
        import torch

        model = torch_dense(sizes, w0).eval()
        xt = torch.from_numpy(x)

        def unit():
            with torch.inference_mode():
                return torch.cat([torch.softmax(model(xt[s:s + batch_size]), dim=1)
                                  for s in range(0, len(xt), batch_size)]).numpy()
        unit()
        return unit

    def tight_setup():
        net = TightMLP(w0)

        def unit():
            return net.predict(x, batch_size)
        unit()
        return unit

    def matmul_setup():
        floor = MatmulFloor(sizes)

        def unit():
            return floor.epoch(len(x), batch_size, backward=False)
        unit()
        return unit

    return _contenders(minired_setup, keras_setup if with_keras else None,
                       torch_setup if with_torch else None, tight_setup, matmul_setup)


def keras_io_convnet(lib):
    """The keras-io "Simple MNIST convnet" in ``lib`` (minired or Keras: the same code)."""
    layers = lib.layers
    return lib.Sequential([
        lib.Input(shape=(28, 28, 1)),
        layers.Conv2D(32, kernel_size=(3, 3), activation="relu"),
        layers.MaxPooling2D(pool_size=(2, 2)),
        layers.Conv2D(64, kernel_size=(3, 3), activation="relu"),
        layers.MaxPooling2D(pool_size=(2, 2)),
        layers.Flatten(),
        layers.Dropout(0.5),
        layers.Dense(10, activation="softmax"),
    ])


def convnet_contenders(x, y, with_keras, with_torch):
    """The keras-io "Simple MNIST convnet", word for word, in minired and in Keras (and the
    same network in PyTorch: :func:`torch_convnet`), and the matrix products alone of
    minired's step on it (:class:`~benchmarks.tight_numpy.ConvMatmulFloor`). No hand loop:
    the floor of a NumPy convnet is its products."""
    def w0():
        import minired as mr

        mr.utils.set_random_seed(SEED)
        return keras_io_convnet(mr).get_weights()

    def fit_unit(lib, weights):
        model = keras_io_convnet(lib)
        model.set_weights(weights)
        model.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"])

        def unit():
            return model.fit(x, y, batch_size=128, epochs=1, verbose=0, shuffle=True)
        unit()
        return unit

    def minired_setup():
        import minired as mr

        weights = w0()
        mr.utils.set_random_seed(SEED)
        return fit_unit(mr, weights)

    def keras_setup():
        keras = load_keras()
        weights = w0()
        keras.utils.set_random_seed(SEED)
        return fit_unit(keras, weights)

    def torch_setup():
        import torch

        weights = w0()
        torch.manual_seed(SEED)
        model = torch_convnet(weights)
        xt = torch.from_numpy(np.ascontiguousarray(x.transpose(0, 3, 1, 2)))   # NCHW
        _check_same_convnet(model, keras_io_convnet, weights, x[:16], xt[:16])
        opt = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7)
        loss_fn = torch.nn.CrossEntropyLoss()    # on logits, with the one-hot y as targets
        yt, generator = torch.from_numpy(y), torch.Generator().manual_seed(SEED)

        def unit():
            return _torch_epoch(model, opt, loss_fn, xt, yt, 128, generator, accuracy=True)
        unit()
        return unit

    def matmul_setup():
        import minired as mr

        floor = ConvMatmulFloor(keras_io_convnet(mr))

        def unit():
            return floor.epoch(len(x), 128)
        unit()
        return unit

    return _contenders(minired_setup, keras_setup if with_keras else None,
                       torch_setup if with_torch else None, None, matmul_setup)


def torch_convnet(weights: list[np.ndarray]):
    """The keras-io convnet in PyTorch, from minired's weights.

    PyTorch's images are channels-first (N, C, H, W), so its kernels are ``(F, C, kh, kw)``
    (Keras': ``(kh, kw, C, F)``) and its Flatten lists the features in ``(C, H, W)`` order
    (Keras': ``(H, W, C)``): the Dense kernel's rows are reordered to match.
    """
    import torch

    nn = torch.nn
    k1, b1, k2, b2, kd, bd = weights
    model = nn.Sequential(
        nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Dropout(0.5), nn.Linear(1600, 10))
    h, w, c = 5, 5, 64                                     # the last pooling's output
    dense = kd.reshape(h, w, c, 10).transpose(3, 2, 0, 1).reshape(10, c * h * w)
    values = [k1.transpose(3, 2, 0, 1), b1, k2.transpose(3, 2, 0, 1), b2, dense, bd]
    with torch.no_grad():
        for parameter, value in zip(model.parameters(), values, strict=True):
            parameter.copy_(torch.from_numpy(np.ascontiguousarray(value)))
    return model


def _check_same_convnet(model, build, weights: list[np.ndarray], x: np.ndarray,
                        x_nchw) -> None:
    """Refuse to time a PyTorch convnet that does not compute minired's function (a kernel
    or a Flatten order converted wrongly): their softmax outputs on the images ``x`` (and
    the same images channels-first, ``x_nchw``) must agree."""
    import torch

    import minired as mr

    reference = build(mr)
    reference.set_weights(weights)
    expected = reference.predict(x, verbose=0)
    with torch.no_grad():
        got = torch.softmax(model.eval()(x_nchw), dim=1).numpy()
    model.train()
    if not np.allclose(got, expected, rtol=1e-4, atol=1e-6):    # float32, two libraries
        raise RuntimeError("the PyTorch convnet does not compute minired's: largest "
                           f"difference {np.abs(got - expected).max():.3g}")


def _dense_case(sizes, data, n, batch_size, task, with_keras, with_torch):
    x, y = data(n)
    return dense_training_contenders(sizes, x, y, batch_size, task, with_keras, with_torch)


def build_cases(names, quick: bool, with_keras: bool, with_torch: bool) -> list[Case]:
    size = QUICK if quick else FULL
    cases = []
    for name in names:
        if name in ("mlp32", "mlp128", "mlp512"):
            bs = int(name[3:])
            n = size["mlp_samples"]
            cases.append(Case(
                name, f"MLP 784-256-128-10, relu, softmax, sparse CE, Adam, batch {bs}",
                f"one training epoch of {n} samples",
                {"sizes": MLP, "batch_size": bs, "samples": n, "optimizer": "adam(1e-3)",
                 "loss": "sparse_categorical_crossentropy"},
                make=functools.partial(_dense_case, MLP, classification_data, n, bs, "classify",
                                       with_keras, with_torch)))
        elif name == "wide":
            n = size["wide_samples"]
            cases.append(Case(
                name, "wide MLP 784-1024-1024-10, relu, softmax, sparse CE, Adam, batch 128",
                f"one training epoch of {n} samples",
                {"sizes": WIDE, "batch_size": 128, "samples": n, "optimizer": "adam(1e-3)",
                 "loss": "sparse_categorical_crossentropy"},
                make=functools.partial(_dense_case, WIDE, classification_data, n, 128,
                                       "classify", with_keras, with_torch)))
        elif name == "deep":
            n = size["deep_samples"]
            cases.append(Case(
                name, "deep MLP 64-(64x8)-1, relu, linear output, mse, SGD momentum 0.9, "
                "batch 32", f"one training epoch of {n} samples",
                {"sizes": DEEP, "batch_size": 32, "samples": n,
                 "optimizer": "sgd(0.01, momentum=0.9)", "loss": "mse"},
                make=functools.partial(_dense_case, DEEP, regression_data, n, 32, "regress",
                                       with_keras, with_torch)))
        elif name in ("predict", "predict32"):
            n = size[f"{name}_samples"]
            bs = PREDICT_BATCH if name == "predict" else 32
            cases.append(Case(
                name, f"predict, MLP 784-256-128-10 (softmax), batch {bs}",
                f"predict on {n} samples",
                {"sizes": MLP, "batch_size": bs, "samples": n},
                make=lambda n=n, bs=bs: predict_contenders(classification_data(n)[0], bs,
                                                           with_keras, with_torch)))
        elif name == "memory":
            n = size["memory_samples"]
            libraries = ["minired"] + (["keras"] if with_keras else []) \
                + (["torch"] if with_torch else []) + ["tight_numpy"]
            cases.append(Case(
                name, "peak memory of one training epoch, MLP 784-256-128-10, batch 128",
                "peak RSS growth (MiB) over building the model and one training epoch, in a "
                "fresh subprocess per library, after imports and data (benchmarks/memory.py)",
                {"sizes": MLP, "batch_size": 128, "samples": n, "libraries": libraries},
                kind="memory"))
        elif name == "convnet":
            n = size["convnet_samples"]
            cases.append(Case(
                name, "keras-io MNIST convnet (Conv32-Pool-Conv64-Pool-Flatten-Dropout-Dense10),"
                " Adam, batch 128, synthetic 28x28x1", f"one training epoch of {n} samples",
                {"batch_size": 128, "samples": n, "optimizer": "adam",
                 "loss": "categorical_crossentropy", "metrics": ["accuracy"]},
                make=lambda n=n: convnet_contenders(*image_data(n), with_keras, with_torch)))
        elif name == "overhead":
            n = size["overhead_samples"]
            cases.append(Case(
                name, f"tiny MLP 16-16-16-10, relu, softmax, sparse CE, Adam, batch "
                f"{TINY_BATCH}: the cost per step around the arithmetic",
                f"one training epoch of {n} samples ({n // TINY_BATCH} steps)",
                {"sizes": TINY, "batch_size": TINY_BATCH, "samples": n,
                 "optimizer": "adam(1e-3)", "loss": "sparse_categorical_crossentropy"},
                make=functools.partial(_dense_case, TINY,
                                       functools.partial(classification_data, d=TINY[0]), n,
                                       TINY_BATCH, "classify", with_keras, with_torch)))
        else:
            raise ValueError(f"unknown case {name!r}; the cases are {', '.join(ALL_CASES)}")
    return cases
