"""Vision in 3-D: Conv3D, Conv3DTranspose, 3-D pooling and reshaping, then a 3-D convnet.

As in :mod:`comparisons.vision`: each layer alone in a one-layer ``Sequential`` with its
Keras twin (same configuration, same weights), its output and a vector-Jacobian product
(``δx`` and every weight's gradient for a random ``δŷ``) for each setting, labelled with
the setting; inputs are tiny volumes ``(N, D, H, W, C)`` = ``(2, 4, 5, 3, 2)``.

What TensorFlow's CPU kernels allow sets the precisions:

- MaxPool3D and AvgPool3D have no float64 kernel, so the 3-D local pooling cases run in
  float32 only (global pooling is ``reduce_max``/``reduce_mean``: both precisions);
- Conv3D has dilation in float32 only (oneDNN), so dilated settings join in float32;
  Conv3DTranspose has no dilated CPU kernel at all (minired's is checked by finite
  differences in tests/test_layers_3d.py).
- Max pooling is fed integers in {0, 1, 2} too, so most windows hold ties: TensorFlow's
  MaxPool3DGrad gives the whole ``δa`` to every tied maximum (its 2-D kernel picks the
  first), and minired's MaxPooling3D does the same.

Then a small 3-D convnet (Conv3D, ZeroPadding3D, Conv3DTranspose, Cropping3D,
UpSampling3D, GlobalAveragePooling3D, Dense) trained 5 epochs in both libraries, and in
float32 the same with MaxPooling3D and AveragePooling3D.
"""

from __future__ import annotations

import itertools

import numpy as np

from comparisons.data import one_hot, random_data
from comparisons.keras_env import mr, precision
from comparisons.registry import Outcome, case
from comparisons.training import compare_fit
from comparisons.vision import layer_pairs, tied

VOLUME = (4, 5, 3, 2)                # depth, rows, cols, channels: odd and even sizes
FLOAT32 = ("float32",)


def volume_case(name: str, doc: str, settings, data=None, precisions=("float64", "float32"),
                shape: tuple = VOLUME) -> None:
    """Register ``vision/<name>``: for each ``(label, make_layer)`` of ``settings(dtype)``,
    :func:`~comparisons.vision.layer_pairs`; ``data(dtype)`` gives the input (default
    standard normal)."""

    def compare(dtype: str) -> Outcome:
        pairs = []
        with precision(dtype):
            chosen = settings(dtype)
            for i, (label, make_layer) in enumerate(chosen):
                x = None if data is None else data(dtype)
                pairs += layer_pairs(make_layer, shape, dtype, label, x, seed=i)
        return Outcome(pairs, notes=f"{len(chosen)} settings")

    compare.__doc__ = doc
    case("vision", name, precisions=precisions)(compare)


# -- convolutions ------------------------------------------------------------------------------

def conv3d_settings(padding: str):
    """Kernels 2 and (3, 2, 1) with strides 1 and 2 (per axis too); in float32 dilations
    (1, 2, 2) and (1, 1, 2) as well. The bias on and off in turn, tanh, relu and none in turn."""

    def settings(dtype: str):
        combos = [(1, 1), (2, 1), ((1, 2, 2), 1)]
        if dtype == "float32":
            combos += [(1, (1, 2, 2)), (1, (1, 1, 2))]
        out = []
        for i, (kernel, (strides, dilation)) in enumerate(
                itertools.product((2, (3, 2, 1)), combos)):
            use_bias, activation = i % 2 == 0, ("tanh", "relu", None)[i % 3]
            label = (f"kernel {kernel} strides {strides} dilation {dilation} "
                     f"{'bias' if use_bias else 'no bias'} {activation}")
            out.append((label, lambda k=kernel, s=strides, d=dilation, b=use_bias,
                        a=activation: mr.layers.Conv3D(
                            3, k, strides=s, padding=padding, dilation_rate=d, use_bias=b,
                            activation=a, bias_initializer="random_normal")))
        return out

    return settings


def conv3d_transpose_settings(padding: str):
    """Kernels 2 and 3 with strides 1, 2 and (1, 2, 3), output_padding None and the largest
    allowed; the bias on and off, tanh and none."""

    def settings(dtype: str):
        out = []
        for i, (kernel, strides, largest) in enumerate(itertools.product(
                (2, 3), (1, 2, (1, 2, 3)), (False, True))):
            if largest and strides == 1:
                continue
            output_padding = (None if not largest else
                              tuple(s - 1 for s in (strides if isinstance(strides, tuple)
                                                    else (strides,) * 3)))
            if (padding == "same" and output_padding is not None and kernel % 2 == 0
                    and 0 in output_padding):
                continue   # (n-1)·s + e%2 + 0 = n - 1 on a stride-1 axis: TF refuses it
            use_bias, activation = i % 2 == 0, ("tanh", None)[i % 2]
            label = (f"kernel {kernel} strides {strides} output_padding {output_padding} "
                     f"{'bias' if use_bias else 'no bias'} {activation}")
            out.append((label, lambda k=kernel, s=strides, o=output_padding, b=use_bias,
                        a=activation: mr.layers.Conv3DTranspose(
                            2, k, strides=s, padding=padding, output_padding=o, use_bias=b,
                            activation=a, bias_initializer="random_normal")))
        return out

    return settings


for _padding in ("valid", "same"):
    volume_case(f"conv3d_{_padding}",
                f"Conv3D padding='{_padding}': kernels 2 and (3, 2, 1), strides 1-2 "
                "(dilation 2 in float32: TensorFlow's CPU Conv3D has no float64 dilation).",
                conv3d_settings(_padding))
    volume_case(f"conv3d_transpose_{_padding}",
                f"Conv3DTranspose padding='{_padding}': kernels 2 and 3, strides 1, 2 and "
                "(1, 2, 3), output_padding None and the largest allowed.",
                conv3d_transpose_settings(_padding), shape=(2, 3, 2, 3))


# -- pooling -----------------------------------------------------------------------------------

def pool3d_settings(layer: str, padding: str):
    """Pool sizes 2, 3 and (1, 2, 3), strides None (= pool size), 1 and 2."""

    def settings(dtype: str):
        return [(f"pool {size} strides {strides}",
                 lambda p=size, s=strides: getattr(mr.layers, layer)(p, strides=s,
                                                                     padding=padding))
                for size, strides in itertools.product((2, 3, (1, 2, 3)), (None, 1, 2))
                if padding == "same" or _fits(size)]

    return settings


def _fits(size) -> bool:
    """A "valid" window that fits in VOLUME on every axis."""
    sizes = (size,) * 3 if isinstance(size, int) else size
    return all(p <= n for p, n in zip(sizes, VOLUME[:3], strict=True))


for _padding in ("valid", "same"):
    volume_case(f"max_pooling3d_{_padding}",
                f"MaxPooling3D padding='{_padding}' on tied integers: every tied maximum "
                "gets the whole δa (TensorFlow's MaxPool3DGrad); float32 (no float64 kernel).",
                pool3d_settings("MaxPooling3D", _padding),
                data=lambda dtype: tied(dtype, VOLUME), precisions=FLOAT32)
    volume_case(f"max_pooling3d_{_padding}_normal",
                f"MaxPooling3D padding='{_padding}' on standard-normal values (no ties); "
                "float32 (TensorFlow has no float64 kernel).",
                pool3d_settings("MaxPooling3D", _padding), precisions=FLOAT32)
    volume_case(f"average_pooling3d_{_padding}",
                f"AveragePooling3D padding='{_padding}' (the padded zeros not counted); "
                "float32 (TensorFlow has no float64 kernel).",
                pool3d_settings("AveragePooling3D", _padding), precisions=FLOAT32)


def global3d_settings(kind: str):
    def settings(dtype: str):
        return [(f"keepdims {keepdims}", lambda k=keepdims: getattr(mr.layers, kind)(keepdims=k))
                for keepdims in (False, True)]
    return settings


volume_case("global_max_pooling3d",
            "GlobalMaxPooling3D, keepdims False and True, tied integers (the ties split δa).",
            global3d_settings("GlobalMaxPooling3D"), data=lambda dtype: tied(dtype, VOLUME))
volume_case("global_average_pooling3d", "GlobalAveragePooling3D, keepdims False and True.",
            global3d_settings("GlobalAveragePooling3D"))


# -- reshaping ---------------------------------------------------------------------------------

volume_case("up_sampling3d", "UpSampling3D with size 2 and (1, 3, 2).",
            lambda dtype: [(f"size {s}", lambda s=s: mr.layers.UpSampling3D(s))
                           for s in (2, (1, 3, 2))])
volume_case("zero_padding3d", "ZeroPadding3D with 1, (2, 0, 1) and ((1, 2), (0, 3), (2, 0)).",
            lambda dtype: [(f"padding {p}", lambda p=p: mr.layers.ZeroPadding3D(p))
                           for p in (1, (2, 0, 1), ((1, 2), (0, 3), (2, 0)))])
volume_case("cropping3d", "Cropping3D with 1, (0, 2, 1) and ((1, 2), (0, 3), (1, 0)).",
            lambda dtype: [(f"cropping {c}", lambda c=c: mr.layers.Cropping3D(c))
                           for c in (1, (0, 2, 1), ((1, 2), (0, 3), (1, 0)))])


# -- a small 3-D convnet, trained --------------------------------------------------------------

def convnet3d(pool: bool) -> mr.Sequential:
    """(4, 6, 6, 1) volumes, 3 classes; with ``pool`` MaxPooling3D and AveragePooling3D,
    else strided Conv3Ds; seeded."""
    mr.utils.set_random_seed(0)
    layers = mr.layers
    return mr.Sequential([
        mr.Input((4, 6, 6, 1)),
        layers.Conv3D(4, 2, padding="same", activation="relu", name="conv",
                      kernel_regularizer=mr.regularizers.L2(0.01)),
        layers.MaxPooling3D(2, name="pool") if pool else
        layers.Conv3D(4, 2, strides=2, activation="relu", name="conv_strided"),
        layers.ZeroPadding3D((0, 1, 1), name="pad"),
        layers.Conv3DTranspose(3, 2, strides=2, activation="tanh", name="up"),
        layers.Cropping3D(((0, 1), (1, 1), (1, 0)), name="crop"),
        layers.UpSampling3D((1, 1, 2), name="upsample"),
        layers.AveragePooling3D((1, 2, 2), padding="same", name="avg") if pool else
        layers.Conv3D(4, 3, strides=2, activation="tanh", name="conv_2"),
        layers.GlobalAveragePooling3D(name="gap"),
        layers.Dense(3, activation="softmax", name="output"),
    ])


def convnet3d_fit(dtype: str, pool: bool) -> Outcome:
    with precision(dtype):
        x = random_data(dtype, 24, (4, 6, 6, 1))
        labels = (x[:, :2].mean(axis=(1, 2, 3, 4)) > 0).astype(int) + (x[:, 2:].mean(
            axis=(1, 2, 3, 4)) > 0).astype(int)                 # 3 classes from the data
        y = one_hot(labels, dtype, 3)
        model = convnet3d(pool)
        model.compile(optimizer=mr.optimizers.Adam(0.01), loss="categorical_crossentropy",
                      metrics=["accuracy"])
        outcome = compare_fit(model, x, y, batch_size=8)
        outcome.notes = f"classes {np.bincount(labels, minlength=3).tolist()}"
        return outcome


@case("vision", "convnet3d_training", kind="training")
def convnet3d_training(dtype):
    """A small 3-D convnet (Conv3D, strided Conv3D, ZeroPadding3D, Conv3DTranspose,
    Cropping3D, UpSampling3D, GlobalAveragePooling3D, Dense softmax), Adam, 5 epochs on 24
    volumes: History and every final weight."""
    return convnet3d_fit(dtype, pool=False)


@case("vision", "convnet3d_pooling_training", kind="training", precisions=FLOAT32)
def convnet3d_pooling_training(dtype):
    """The same convnet with MaxPooling3D and AveragePooling3D(same) in place of the strided
    convolutions, float32 (TensorFlow has no float64 3-D pooling): History and weights."""
    return convnet3d_fit(dtype, pool=True)
