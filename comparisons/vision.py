"""Vision: convolution, pooling, batch normalization and reshaping layers, then a convnet.

Each layer is first compared **alone**, in a one-layer ``Sequential`` whose Keras twin comes
from :func:`~comparisons.mirror.to_keras` (same configuration, same weights): its output, and
a vector-Jacobian product, ``δŷ`` random, ``model.backward(δŷ)`` against the tape's gradient
of ``Σ ŷ ⊙ δŷ``, for the input (``δx``) and every trainable weight. A case loops over the
settings Keras allows (padding, strides, dilation, odd and even sizes, with and without a
bias) and labels each array with its setting, so a failure names the setting. The inputs
are small (a batch of 2, a few pixels and channels) so the area stays quick.

- Max pooling is fed integers in {0, 1, 2} too, so most windows hold **ties**: TensorFlow
  gives a window's gradient to its first maximum (row-major), and ``reduce_max`` (global
  max pooling) splits it equally between the tied maxima.
- BatchNormalization in training mode (batch statistics, the moving statistics after the
  step), in inference mode, and fitted 5 epochs inside a small convnet, the moving mean and
  variance compared with the trained weights (non-trainable, so not stepped by the optimizer).
- SpatialDropout2D: TensorFlow's random masks cannot be reproduced, so as in
  :mod:`comparisons.dropout`: minired's mask given to Keras (same numbers), and each
  library's own masks judged statistically (kept fraction, whole channels kept together).
- The keras-io MNIST convnet (two Conv2D + MaxPooling2D, Flatten, Dropout(0.5), Dense
  softmax) on 28×28 digits (scikit-learn's 8×8 digits enlarged, nothing downloaded): forward
  and gradients, then 5 epochs of ``fit`` with Adam, Dropout included: minired's mask of each
  step is replayed in Keras by :class:`QueuedMaskDropout`.
"""

from __future__ import annotations

import itertools
from types import SimpleNamespace

import numpy as np

from comparisons.common import keras_loss_and_gradients
from comparisons.data import digits, digits_28, one_hot, random_data
from comparisons.dropout import GivenMaskDropout, with_given_masks
from comparisons.keras_env import keras, mr, precision, tf
from comparisons.mirror import optimizer_to_keras, to_keras
from comparisons.registry import Outcome, case
from comparisons.sampling import binomial_z, impossible_z
from comparisons.training import EPOCHS, compare_fit

N = 2                                # samples of the single-layer cases
IMAGE = (7, 6, 3)                    # odd rows, even columns, 3 channels
SEQUENCE = (9, 3)                    # odd length, 3 channels


# -- one layer alone ---------------------------------------------------------------------------

def tied(dtype: str, shape: tuple, seed: int = 0) -> np.ndarray:
    """Integers in {0, 1, 2}: most pooling windows hold several equal maxima."""
    return np.random.default_rng(seed).integers(0, 3, (N, *shape)).astype(dtype)


def layer_pairs(make_layer, input_shape: tuple, dtype: str, label: str, x=None,
                training: bool = False, seed: int = 0) -> list:
    """One layer alone in both libraries: output, ``δx`` and every weight's gradient for a
    random ``δŷ``, each array labelled ``label: ...``."""
    mr.utils.set_random_seed(seed)
    model = mr.Sequential([mr.Input(input_shape), make_layer()])
    keras_model = to_keras(model)
    x = random_data(dtype, N, input_shape, seed) if x is None else x
    return [(f"{label}: {name}", ours, theirs)
            for name, ours, theirs in vjp_pairs(model, keras_model, x, training)]


def vjp_pairs(model, keras_model, x, training: bool = False, seed: int = 5,
              before_keras=None) -> list:
    """The output, then ``model.backward(δŷ)`` against the tape's gradient of ``Σ ŷ ⊙ δŷ``:
    for the input (``δx``) and every trainable weight (Keras' paths as labels).

    ``before_keras()``, if given, runs between minired's forward pass and Keras' (to hand
    Keras what minired drew, such as a dropout mask)."""
    ours = model.forward(x, training=training)
    if before_keras is not None:
        before_keras()
    upstream = np.random.default_rng(seed).standard_normal(ours.shape).astype(ours.dtype)
    model.zero_gradients()
    grad_x = model.backward(upstream)
    grads = [g.copy() for g in model.trainable_gradients]
    tensor = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(tensor)
        theirs = keras_model(tensor, training=training)
        total = tf.reduce_sum(theirs * upstream)
    variables = keras_model.trainable_variables
    k_grads = tape.gradient(total, [tensor, *variables])
    return [("output", ours, theirs.numpy()), ("δx", grad_x, np.asarray(k_grads[0])),
            *((f"∂/∂{v.path}", g, np.asarray(k))
              for v, g, k in zip(variables, grads, k_grads[1:], strict=True))]


def layer_case(name: str, doc: str, settings, input_shape: tuple, data=None,
               training: bool = False) -> None:
    """Register ``vision/<name>``: for each ``(label, make_layer)`` of ``settings()``,
    :func:`layer_pairs`; ``data(dtype, label)`` gives the input (default standard normal)."""

    def compare(dtype: str) -> Outcome:
        pairs = []
        with precision(dtype):
            for i, (label, make_layer) in enumerate(settings()):
                x = None if data is None else data(dtype, label)
                pairs += layer_pairs(make_layer, input_shape, dtype, label, x, training,
                                     seed=i)
        return Outcome(pairs, notes=f"{len(settings())} settings")

    compare.__doc__ = doc
    case("vision", name)(compare)


# -- convolutions ------------------------------------------------------------------------------

def conv_settings(layer: str, padding: str, kernels: tuple):
    """Every allowed strides × dilation_rate (Keras refuses both above 1) for each kernel
    size, the bias on and off in turn, relu and tanh in turn."""

    def settings():
        out = []
        combos = [(1, 1), (2, 1), (1, 2)]
        for i, (kernel, (strides, dilation)) in enumerate(itertools.product(kernels, combos)):
            use_bias, activation = i % 2 == 0, ("tanh", "relu", None)[i % 3]
            label = (f"kernel {kernel} strides {strides} dilation {dilation} "
                     f"{'bias' if use_bias else 'no bias'} {activation}")
            out.append((label, lambda k=kernel, s=strides, d=dilation, b=use_bias,
                        a=activation: getattr(mr.layers, layer)(
                            4, k, strides=s, padding=padding, dilation_rate=d, use_bias=b,
                            activation=a, bias_initializer="random_normal")))
        return out

    return settings


for _padding in ("valid", "same"):
    layer_case(f"conv2d_{_padding}",
               f"Conv2D padding='{_padding}': kernels 3×3 and 2×3, strides 1-2, dilation 1-2.",
               conv_settings("Conv2D", _padding, (3, (2, 3))), IMAGE)
for _padding in ("valid", "same", "causal"):
    layer_case(f"conv1d_{_padding}",
               f"Conv1D padding='{_padding}': kernels 2 and 3, strides 1-2, dilation 1-2.",
               conv_settings("Conv1D", _padding, (2, 3)), SEQUENCE)


@case("vision", "conv2d_regularized_loss")
def conv2d_regularized_loss(dtype):
    """Conv2D with L2 on the kernel and L1 on the bias, MSE: the loss and ∂L/∂w of fit."""
    with precision(dtype):
        mr.utils.set_random_seed(0)
        model = mr.Sequential([
            mr.Input(IMAGE),
            mr.layers.Conv2D(4, 3, padding="same", activation="relu",
                             kernel_regularizer=mr.regularizers.L2(0.01),
                             bias_regularizer=mr.regularizers.L1(0.02),
                             bias_initializer="random_normal", name="conv"),
            mr.layers.Conv2D(2, (2, 3), strides=2, name="conv_strided"),
        ])
        model.compile(optimizer="sgd", loss="mse")
        keras_model = to_keras(model)
        x = random_data(dtype, N, IMAGE)
        y = random_data(dtype, N, model.output_shape[1:], seed=1)
        loss, grads = model.loss_and_gradients(x, y)
        k_loss, k_grads = keras_loss_and_gradients(keras_model, x, y)
        paths = [v.path for v in keras_model.trainable_variables]
    return Outcome([("loss", np.array(loss), np.array(k_loss)),
                    *((f"∂L/∂{p}", g, k) for p, g, k in zip(paths, grads, k_grads,
                                                             strict=True))])


# -- pooling -----------------------------------------------------------------------------------

def pool_settings(layer: str, padding: str, sizes: tuple):
    """Every pool size (odd, even, rectangular) with strides None (= pool size), 1 and 2."""

    def settings():
        return [(f"pool {size} strides {strides}",
                 lambda p=size, s=strides: getattr(mr.layers, layer)(p, strides=s,
                                                                     padding=padding))
                for size, strides in itertools.product(sizes, (None, 1, 2))]

    return settings


for _padding in ("valid", "same"):
    for _kind in ("Max", "Average"):
        _name = f"{_kind}Pooling2D"
        layer_case(f"{_kind.lower()}_pooling2d_{_padding}",
                   f"{_name} padding='{_padding}': pool 2, 3, (2, 3); strides None, 1, 2"
                   + (" (tied integer inputs)" if _kind == "Max" else "") + ".",
                   pool_settings(_name, _padding, (2, 3, (2, 3))), IMAGE,
                   data=(lambda dtype, label: tied(dtype, IMAGE)) if _kind == "Max" else None)
        _name = f"{_kind}Pooling1D"
        layer_case(f"{_kind.lower()}_pooling1d_{_padding}",
                   f"{_name} padding='{_padding}': pool 2 and 3; strides None, 1, 2"
                   + (" (tied integer inputs)" if _kind == "Max" else "") + ".",
                   pool_settings(_name, _padding, (2, 3)), SEQUENCE,
                   data=(lambda dtype, label: tied(dtype, SEQUENCE)) if _kind == "Max" else None)


@case("vision", "max_pooling2d_ties_normal_values")
def max_pooling2d_ties_normal_values(dtype):
    """MaxPooling2D on standard-normal values with every third row's even columns rounded
    to integers (a few tied windows, most not), both paddings, overlapping strides."""
    pairs = []
    with precision(dtype):
        for i, (padding, size, strides) in enumerate(itertools.product(
                ("valid", "same"), (2, 3), (1, 2))):
            label = f"{padding} pool {size} strides {strides}"
            x = random_data(dtype, N, IMAGE, seed=i)
            x[:, ::3, ::2] = np.round(x[:, ::3, ::2])     # some ties, some not
            pairs += layer_pairs(lambda p=padding, s=size, t=strides: mr.layers.MaxPooling2D(
                s, strides=t, padding=p), IMAGE, dtype, label, x)
    return Outcome(pairs)


def global_settings(kind: str):
    def settings():
        return [(f"keepdims {keepdims}",
                 lambda k=keepdims: getattr(mr.layers, kind)(keepdims=k))
                for keepdims in (False, True)]
    return settings


for _kind, _shape in itertools.product(("Max", "Average"), ("2D", "1D")):
    _input = IMAGE if _shape == "2D" else SEQUENCE
    layer_case(f"global_{_kind.lower()}_pooling{_shape.lower()}",
               f"Global{_kind}Pooling{_shape}, keepdims False and True"
               + (" (ties: TensorFlow splits the gradient)" if _kind == "Max" else "") + ".",
               global_settings(f"Global{_kind}Pooling{_shape}"), _input,
               data=(lambda dtype, label, s=_input: tied(dtype, s)) if _kind == "Max" else None)


# -- reshaping ---------------------------------------------------------------------------------

layer_case("reshape", "Reshape to (6, 21), (-1, 3) and (3, 6, 7, 1).",
           lambda: [(f"target {t}", lambda t=t: mr.layers.Reshape(t))
                    for t in ((6, 21), (-1, 3), (3, 6, 7, 1))], IMAGE)
layer_case("zero_padding2d", "ZeroPadding2D with 1, (2, 1) and ((1, 2), (0, 3)).",
           lambda: [(f"padding {p}", lambda p=p: mr.layers.ZeroPadding2D(p))
                    for p in (1, (2, 1), ((1, 2), (0, 3)))], IMAGE)
layer_case("up_sampling2d", "UpSampling2D (nearest) with size 2 and (2, 3).",
           lambda: [(f"size {s}", lambda s=s: mr.layers.UpSampling2D(s)) for s in (2, (2, 3))],
           IMAGE)
layer_case("flatten", "Flatten of (N, 7, 6, 3) images.",
           lambda: [("images", mr.layers.Flatten)], IMAGE)
layer_case("flatten_sequence", "Flatten of (N, 9, 3) sequences.",
           lambda: [("sequences", mr.layers.Flatten)], SEQUENCE)


# -- batch normalization -----------------------------------------------------------------------

def batch_norm_settings():
    """Images (channel last), sequences with the channel on axis 1, plain features;
    without β, without γ; another momentum and ε."""
    init = {"beta_initializer": "random_normal",
            "gamma_initializer": mr.initializers.RandomUniform(0.5, 1.5),
            "moving_mean_initializer": "random_normal",
            "moving_variance_initializer": mr.initializers.RandomUniform(0.5, 2.0)}
    return [
        ("images", IMAGE, {}),
        ("axis 1", SEQUENCE, {"axis": 1}),
        ("features", (5,), {"momentum": 0.9, "epsilon": 1e-2}),
        ("center=False", IMAGE, {"center": False}),
        ("scale=False", IMAGE, {"scale": False}),
    ], init


def batch_norm_compare(dtype: str, training: bool) -> Outcome:
    settings, init = batch_norm_settings()
    pairs = []
    with precision(dtype):
        for i, (label, shape, kwargs) in enumerate(settings):
            mr.utils.set_random_seed(i)
            model = mr.Sequential([mr.Input(shape),
                                   mr.layers.BatchNormalization(**init, **kwargs)])
            keras_model = to_keras(model)
            # Off-centre and spread values, 4 samples (a batch of 2 features would be thin).
            x = (3 + 2 * random_data(dtype, 4, shape, seed=i)).astype(dtype)
            pairs += [(f"{label}: {name}", ours, theirs)
                      for name, ours, theirs in vjp_pairs(model, keras_model, x, training)]
            names = [v.path for v in keras_model.weights]
            pairs += [(f"{label}: {path} after the call", w, v)
                      for path, w, v in zip(names, model.get_weights(),
                                            keras_model.get_weights(), strict=True)]
    return Outcome(pairs)


@case("vision", "batch_norm_training")
def batch_norm_training(dtype):
    """BatchNormalization, training=True: batch statistics, δx through μ and σ², ∂γ, ∂β,
    and the moving statistics after the step (images, axis 1, features, no β, no γ)."""
    return batch_norm_compare(dtype, training=True)


@case("vision", "batch_norm_inference")
def batch_norm_inference(dtype):
    """BatchNormalization, training=False: the moving statistics (random, not 0 and 1),
    δx = δa·γ/√(σ²+ε), ∂γ, ∂β; the moving statistics unchanged."""
    return batch_norm_compare(dtype, training=False)


def small_convnet(batch_norm: bool = True) -> mr.Sequential:
    """8×8 digits: Conv2D(6, 3, no bias) → BatchNormalization → relu → MaxPooling2D(2)
    → Conv2D(8, 2) → GlobalAveragePooling2D → Dense(10, softmax); seeded."""
    mr.utils.set_random_seed(0)
    return mr.Sequential([
        mr.Input((8, 8, 1)),
        # No bias before BatchNormalization: the batch mean removes it, so its gradient is
        # 0 up to rounding, and the weight would stay at rounding noise (compared relative
        # to itself): Conv2D(use_bias=False) as in Keras' examples.
        mr.layers.Conv2D(6, 3, use_bias=not batch_norm, name="conv"),
        *([mr.layers.BatchNormalization(momentum=0.8, name="bn")] if batch_norm else []),
        mr.layers.Activation("relu", name="relu"),
        mr.layers.MaxPooling2D(2, name="pool"),
        mr.layers.Conv2D(8, 2, padding="same", activation="relu", name="conv_2"),
        mr.layers.GlobalAveragePooling2D(name="gap"),
        mr.layers.Dense(10, activation="softmax", name="output"),
    ])


@case("vision", "batch_norm_convnet_training", kind="training")
def batch_norm_convnet_training(dtype):
    """A small convnet with BatchNormalization(momentum=0.8), 5 epochs of SGD on 96 digits:
    History, final weights (γ, β and the moving mean and variance), then predict and
    evaluate, which normalize with the moving statistics."""
    with precision(dtype):
        x, labels = digits(96, dtype)
        y = one_hot(labels, dtype, 10)
        model = small_convnet()
        model.compile(optimizer=mr.optimizers.SGD(learning_rate=0.1, momentum=0.9),
                      loss="categorical_crossentropy", metrics=["accuracy"])

        def after(model, keras_model, *_):
            x_test, test_labels = digits(32, dtype, seed=1)
            y_test = one_hot(test_labels, dtype, 10)
            return [("predict (moving statistics)", model.predict(x_test, verbose=0),
                     keras_model.predict(x_test, verbose=0)),
                    ("evaluate [loss, accuracy]",
                     np.array(model.evaluate(x_test, y_test, verbose=0)),
                     np.array(keras_model.evaluate(x_test, y_test, verbose=0)))]

        outcome = compare_fit(model, x, y, after=after, batch_size=16)
        bn = model.get_layer("bn")
        outcome.notes = (f"moving_mean after fit {np.round(bn.get_weights()[2], 3).tolist()}")
        return outcome


# -- spatial dropout ---------------------------------------------------------------------------

@case("vision", "spatial_dropout2d_same_mask")
def spatial_dropout2d_same_mask(dtype):
    """SpatialDropout2D(0.4) with minired's (N, 1, 1, C) mask given to Keras: the training
    output, δx and the weights' gradients of a Conv2D before it; identity at inference."""
    shape = (5, 4, 6)
    with precision(dtype):
        mr.utils.set_random_seed(0)
        model = mr.Sequential([mr.Input(shape), mr.layers.Conv2D(8, 2, name="conv"),
                               mr.layers.SpatialDropout2D(0.4, seed=1, name="spatial")])
        twin = to_keras(model)
        given = GivenMaskDropout(0.4, name="spatial_given_mask")
        keras_model = keras.Sequential([keras.Input(shape), twin.layers[0], given])
        x = random_data(dtype, 6, shape)

        def hand_over_mask():                                  # minired's forward drew it
            given.mask = tf.constant(model.layers[1].mask)

        pairs = [(f"training {name}", ours, theirs) for name, ours, theirs in
                 vjp_pairs(model, keras_model, x, training=True, before_keras=hand_over_mask)]
        mask = model.layers[1].mask
        pairs.append(("inference output (identity)", model.predict(x, verbose=0),
                      twin.predict(x, verbose=0)))
    return Outcome(pairs, notes=f"mask {mask.shape}, {int(mask.sum())} of {mask.size} "
                                "channels kept")


@case("vision", "spatial_dropout2d_keep_rate", kind="statistical")
def spatial_dropout2d_keep_rate(dtype):
    """Each library's SpatialDropout2D keeps 1-rate of the channels (|z| < 5), whole: no
    feature map split between kept and dropped values."""
    rate, shape = 0.3, (2000, 3, 3, 25)          # 50,000 (sample, channel) decisions
    pairs = []
    with precision(dtype):
        ones = np.ones(shape, dtype)
        for name, layer in {"minired": mr.layers.SpatialDropout2D(rate, seed=3),
                            "Keras": keras.layers.SpatialDropout2D(rate, seed=3)}.items():
            kept = np.asarray(layer(ones, training=True)) != 0
            per_channel = kept.reshape(shape[0], -1, shape[-1])
            pairs.append((f"{name}: kept fraction of the channels, z",
                          binomial_z(per_channel[:, 0], 1 - rate), 0.0))
            split = np.sum(per_channel.any(axis=1) != per_channel.all(axis=1))
            pairs.append((f"{name}: feature maps split (none allowed)",
                          impossible_z(int(split)), 0.0))
    return Outcome([(label, np.array(z), np.array(zero)) for label, z, zero in pairs])


# -- the keras-io MNIST convnet ----------------------------------------------------------------

def mnist_convnet() -> mr.Sequential:
    """keras-io's "Simple MNIST convnet", layer for layer; seeded."""
    mr.utils.set_random_seed(0)
    return mr.Sequential([
        mr.Input((28, 28, 1)),
        mr.layers.Conv2D(32, kernel_size=(3, 3), activation="relu", name="conv_1"),
        mr.layers.MaxPooling2D(pool_size=(2, 2), name="pool_1"),
        mr.layers.Conv2D(64, kernel_size=(3, 3), activation="relu", name="conv_2"),
        mr.layers.MaxPooling2D(pool_size=(2, 2), name="pool_2"),
        mr.layers.Flatten(name="flatten"),
        mr.layers.Dropout(0.5, seed=1, name="dropout"),
        mr.layers.Dense(10, activation="softmax", name="output"),
    ])


@case("vision", "mnist_convnet_gradients")
def mnist_convnet_gradients(dtype):
    """The MNIST convnet on 16 digits (28×28): predict, then the loss and every ∂L/∂w in
    inference mode, and in training mode with minired's Dropout mask given to Keras."""
    with precision(dtype):
        x, labels = digits_28(16, dtype)
        y = one_hot(labels, dtype, 10)
        model = mnist_convnet()
        model.compile(optimizer="adam", loss="categorical_crossentropy")
        keras_model = to_keras(model)
        pairs = [("predict", model.predict(x, verbose=0), keras_model.predict(x, verbose=0))]
        paths = [v.path for v in keras_model.trainable_variables]
        loss, grads = model.loss_and_gradients(x, y)
        k_loss, k_grads = keras_loss_and_gradients(keras_model, x, y)
        pairs += [("inference loss", np.array(loss), np.array(k_loss)),
                  *((f"inference ∂L/∂{p}", g, k)
                    for p, g, k in zip(paths, grads, k_grads, strict=True))]
        masked, [(dropout, given)] = with_given_masks(model)
        loss, grads = model.loss_and_gradients(x, y, training=True)     # draws a mask
        given.mask = tf.constant(dropout.mask)
        k_loss, k_grads = keras_loss_and_gradients(masked, x, y, training=True)
        pairs += [("training loss (same mask)", np.array(loss), np.array(k_loss)),
                  *((f"training ∂L/∂{p} (same mask)", g, k)
                    for p, g, k in zip(paths, grads, k_grads, strict=True))]
    return Outcome(pairs)


class QueuedMaskDropout(GivenMaskDropout):
    """:class:`~comparisons.dropout.GivenMaskDropout` whose mask is a ``tf.Variable``, so a
    compiled ``train_step`` reads the mask assigned before each step (a plain attribute
    would be frozen into the traced function). The variable sits in a holder object, out of
    Keras' weight tracking: the model's weights stay those of minired."""

    def __init__(self, rate: float, mask_shape: tuple, dtype_name: str, **kwargs):
        super().__init__(rate, **kwargs)
        self.holder = SimpleNamespace(mask=tf.Variable(tf.zeros(mask_shape, dtype_name),
                                                       trainable=False))

    def call(self, inputs, training=False):
        if not training:
            return inputs
        scale = tf.convert_to_tensor(1 / (1 - self.rate), dtype=inputs.dtype)
        keep = tf.cast(self.holder.mask, "bool")
        return tf.where(keep, inputs * scale, tf.zeros((), dtype=inputs.dtype))


@case("vision", "mnist_convnet_training", kind="training")
def mnist_convnet_training(dtype):
    """The MNIST convnet, categorical cross-entropy and Adam, 5 epochs on 64 digits (28×28)
    in batches of 16, Dropout(0.5) on: minired's mask of every step replayed in Keras.
    History (loss, accuracy) and every final weight."""
    n, batch = 64, 16
    with precision(dtype):
        x, labels = digits_28(n, dtype)
        y = one_hot(labels, dtype, 10)
        model = mnist_convnet()
        model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
        twin = to_keras(model)
        dropout = model.get_layer("dropout")
        queued = QueuedMaskDropout(0.5, (batch, *twin.get_layer("flatten").output.shape[1:]),
                                   dtype, name="dropout_queued_mask")
        keras_model = keras.Sequential([keras.Input((28, 28, 1)),
                                        *(queued if layer.name == "dropout" else layer
                                          for layer in twin.layers)])
        keras_model.compile(optimizer=optimizer_to_keras(model.optimizer),
                            loss="categorical_crossentropy", metrics=["accuracy"])
        masks: list[np.ndarray] = []

        def make_callbacks(callbacks):
            if callbacks is mr.callbacks:
                class Record(callbacks.Callback):          # minired's mask of each step
                    def on_train_batch_end(self, step, logs=None):
                        masks.append(dropout.mask.copy())
                return [Record()]

            class Replay(callbacks.Callback):              # given to Keras before the step
                def __init__(self):
                    super().__init__()
                    self.step = 0

                def on_train_batch_begin(self, step, logs=None):
                    queued.holder.mask.assign(masks[self.step])
                    self.step += 1
            return [Replay()]

        outcome = compare_fit(model, x, y, make_callbacks=make_callbacks,
                              keras_model=keras_model, batch_size=batch, epochs=EPOCHS)
        kept = float(np.mean([m.mean() for m in masks]))
        outcome.notes = (f"{len(masks)} steps, each with minired's Dropout mask replayed in "
                         f"Keras (kept fraction {kept:.3f})")
        return outcome
