"""NASNetMobile and NASNetLarge, as ``keras.applications.nasnet``.

The idea (Zoph, Vasudevan, Shlens & Le, *Learning Transferable Architectures for Scalable
Image Recognition*, CVPR 2018, https://arxiv.org/abs/1707.07012): instead of designing a
whole network, search (with a reinforcement-learning controller, on CIFAR-10) for two small
**cells**, then stack copies of them to make an ImageNet network:

- a *normal cell* keeps the size of its input;
- a *reduction cell* halves the height and width (its first operations have stride 2).

Each cell reads the outputs of the two cells before it, ``h`` (the last) and ``p`` (the one
before), and combines them through five pairs of operations: each pair applies two of
{separable convolution 3×3/5×5/7×7, average or max pooling 3×3, identity} to ``h`` or ``p``
and adds the results; the cell's output concatenates the pairs' sums on the channel axis.
A separable-convolution operation is ``relu → SeparableConv2D → BN`` twice (see
:func:`_separable_conv_block`). When ``p`` has another size or width than ``h``,
:func:`_adjust_block` first reshapes it (a factorized stride-2 reduction or a 1×1
convolution).

NASNet (N @ P): ``N`` normal cells per stack (3 stacks, separated by reduction cells) and
``P`` filters in the penultimate layer: Mobile is 4 @ 1056, Large is 6 @ 4032. The forward
and backward passes are those of the layers (convolutions, batch normalizations, poolings,
``add`` and ``concatenate``), combined by the chain rule through the graph.

The inputs are pixels scaled to [-1, 1] by :func:`preprocess_input` (mode ``"tf"``).
"""

from __future__ import annotations

import inspect
import warnings

from minired import config, layers
from minired.applications import imagenet_utils, model_parts
from minired.applications.efficientnet import (
    WEIGHTS_MESSAGE,
)
from minired.applications.model_parts import image_input, model_inputs
from minired.models import Functional

BASE_WEIGHTS_PATH = "https://storage.googleapis.com/tensorflow/keras-applications/nasnet/"
NASNET_MOBILE_WEIGHT_PATH = f"{BASE_WEIGHTS_PATH}NASNet-mobile.h5"
NASNET_MOBILE_WEIGHT_PATH_NO_TOP = f"{BASE_WEIGHTS_PATH}NASNet-mobile-no-top.h5"
NASNET_LARGE_WEIGHT_PATH = f"{BASE_WEIGHTS_PATH}NASNet-large.h5"
NASNET_LARGE_WEIGHT_PATH_NO_TOP = f"{BASE_WEIGHTS_PATH}NASNet-large-no-top.h5"

#: Keras' cache file name, origin and md5 hash of each weights file, by (default_size, top).
WEIGHTS_FILES = {
    (224, True): ("nasnet_mobile.h5", NASNET_MOBILE_WEIGHT_PATH,
                  "020fb642bf7360b370c678b08e0adf61"),
    (224, False): ("nasnet_mobile_no_top.h5", NASNET_MOBILE_WEIGHT_PATH_NO_TOP,
                   "1ed92395b5b598bdda52abe5c0dbfd63"),
    (331, True): ("nasnet_large.h5", NASNET_LARGE_WEIGHT_PATH,
                  "11577c9a518f0070763c2b964a382f17"),
    (331, False): ("nasnet_large_no_top.h5", NASNET_LARGE_WEIGHT_PATH_NO_TOP,
                   "d81d89dc07e6e56530c4e77faddd61b5"),
}


def _batch_norm(name: str | None = None):
    """NASNet's BatchNormalization: momentum 0.9997, ε = 1e-3, on the channels."""
    return layers.BatchNormalization(axis=-1, momentum=0.9997, epsilon=1e-3, name=name)


def NASNet(  # noqa: N802 (Keras' name)
    input_shape=None,
    penultimate_filters: int = 4032,
    num_blocks: int = 6,
    stem_block_filters: int = 96,
    skip_reduction: bool = True,
    filter_multiplier: int = 2,
    include_top: bool = True,
    weights="imagenet",
    input_tensor=None,
    pooling=None,
    classes: int = 1000,
    default_size: int | None = None,
    classifier_activation="softmax",
    name: str = "NASNet",
) -> Functional:
    """Build a NASNet-A (N @ P) network (Keras' ``NASNet``).

    Args:
        input_shape: the shape of one image (see :func:`NASNetMobile`).
        penultimate_filters: ``P``, the filters of the penultimate layer; a multiple of
            ``24 · filter_multiplier²``.
        num_blocks: ``N``, the normal cells of each of the three stacks.
        stem_block_filters: the filters of the first convolution.
        skip_reduction: whether a stack's first normal cell reads, as ``p``, the cell before
            the reduction cell (True) or the reduction cell's input (False).
        filter_multiplier: how much wider each stack is than the one before.
        include_top, weights, input_tensor, pooling, classes, classifier_activation, name:
            as for :func:`NASNetMobile`.
        default_size: the side the pretrained weights were trained at (224 for Mobile, 331
            for Large); it also picks the weights file.

    Example:
        >>> model = NASNet((32, 32, 3), penultimate_filters=96, num_blocks=1,
        ...                stem_block_filters=8, weights=None, classes=3)
        >>> model.output.shape
        (None, 3)
    """
    if config.image_data_format() == "channels_first":
        raise ValueError("NASNet does not support the `channels_first` image data format. "
                         "Switch to `channels_last` by editing your local config file at "
                         "~/.keras/keras.json")
    model_parts.check_weights(
        weights, include_top, classes, WEIGHTS_MESSAGE,
        classes_message='If using `weights` as `"imagenet"` with `include_top` as true, '
                        "`classes` should be 1000")
    if isinstance(input_shape, tuple) and None in input_shape and weights == "imagenet":
        raise ValueError("When specifying the input shape of a NASNet and loading `ImageNet` "
                         "weights, the input_shape argument must be static (no None "
                         f"entries). Got: `input_shape={input_shape}`.")
    if default_size is None:
        default_size = 331
    input_shape = imagenet_utils.obtain_input_shape(
        input_shape, default_size=default_size, min_size=32,
        data_format=config.image_data_format(), require_flatten=include_top, weights=weights)
    if config.image_data_format() != "channels_last":
        warnings.warn('The NASNet family of models is only available for the input data '
                      'format "channels_last".', stacklevel=2)
    img_input = image_input(input_tensor, input_shape)

    if penultimate_filters % (24 * (filter_multiplier**2)) != 0:
        raise ValueError("For NASNet-A models, the `penultimate_filters` must be a multiple "
                         "of 24 * (`filter_multiplier` ** 2). "
                         f"Current value: {penultimate_filters}")
    filters = penultimate_filters // 24

    # Stem: a stride-2 3×3 convolution, then two reduction cells.
    x = layers.Conv2D(stem_block_filters, (3, 3), strides=(2, 2), padding="valid",
                      use_bias=False, name="stem_conv1", kernel_initializer="he_normal")(
                          img_input)
    x = _batch_norm("stem_bn1")(x)
    p = None
    x, p = _reduction_a_cell(x, p, filters // (filter_multiplier**2), block_id="stem_1")
    x, p = _reduction_a_cell(x, p, filters // filter_multiplier, block_id="stem_2")

    # Three stacks of N normal cells, with a reduction cell between them.
    for i in range(num_blocks):
        x, p = _normal_a_cell(x, p, filters, block_id=f"{i}")
    x, p0 = _reduction_a_cell(x, p, filters * filter_multiplier,
                              block_id=f"reduce_{num_blocks}")
    p = p0 if not skip_reduction else p
    for i in range(num_blocks):
        x, p = _normal_a_cell(x, p, filters * filter_multiplier,
                              block_id=f"{num_blocks + i + 1}")
    x, p0 = _reduction_a_cell(x, p, filters * filter_multiplier**2,
                              block_id=f"reduce_{2 * num_blocks}")
    p = p0 if not skip_reduction else p
    for i in range(num_blocks):
        x, p = _normal_a_cell(x, p, filters * filter_multiplier**2,
                              block_id=f"{2 * num_blocks + i + 1}")

    x = layers.Activation("relu")(x)
    if include_top:
        x = layers.GlobalAveragePooling2D()(x)
        imagenet_utils.validate_activation(classifier_activation, weights)
        x = layers.Dense(classes, activation=classifier_activation, name="predictions")(x)
    elif pooling == "avg":
        x = layers.GlobalAveragePooling2D()(x)
    elif pooling == "max":
        x = layers.GlobalMaxPooling2D()(x)

    model = Functional(model_inputs(input_tensor, img_input), x, name=name)
    if weights == "imagenet":
        if default_size not in (224, 331):
            raise ValueError("ImageNet weights can only be loaded with NASNetLarge or "
                             "NASNetMobile")
        file_name, origin, file_hash = WEIGHTS_FILES[(default_size, bool(include_top))]
        model_parts.load_imagenet_or_file(model, weights, file_name, origin, file_hash)
    else:
        model_parts.load_imagenet_or_file(model, weights, None, None, None)
    return model


_DOC_ARGS = """Args:
    input_shape: the shape of one image, ``(H, W, 3)`` with sides of at least 32; only
        without the top, or with ``weights=None`` (``({size}, {size}, 3)`` otherwise).
    include_top: whether to end with the classifier (global average pooling,
        ``Dense(classes)``).
    weights: ``None`` (random initialization), ``"imagenet"`` (Keras' pretrained file
        ``{file}``, read from Keras' cache ``~/.keras/models``; minired never downloads,
        so a missing file raises ``FileNotFoundError``) or the path of a weights file.
    input_tensor: a symbolic tensor (from ``mr.Input``) to use as the model's input.
    pooling: without the top, ``None`` (the 4-D feature map), ``"avg"`` or ``"max"``
        (global pooling to a 2-D output).
    classes: the number of classes of the top (1000 with ImageNet weights).
    classifier_activation: the top's activation (``None`` for logits); only ``None`` or
        ``"softmax"`` with pretrained weights.
    name: the model's name.

Returns:
    A functional :class:`~minired.Model`.
"""


def NASNetMobile(input_shape=None, include_top: bool = True, weights="imagenet",  # noqa: N802
                 input_tensor=None, pooling=None, classes: int = 1000,
                 classifier_activation="softmax", name: str = "nasnet_mobile") -> Functional:
    """Build NASNetMobile: NASNet-A (4 @ 1056) (Zoph et al., CVPR 2018) for
    224×224 images.
    """
    return NASNet(input_shape if include_top or input_shape is not None else (224, 224, 3),
                  penultimate_filters=1056, num_blocks=4, stem_block_filters=32,
                  skip_reduction=False, filter_multiplier=2, include_top=include_top,
                  weights=weights, input_tensor=input_tensor, pooling=pooling,
                  classes=classes, default_size=224,
                  classifier_activation=classifier_activation, name=name)


def NASNetLarge(input_shape=None, include_top: bool = True, weights="imagenet",  # noqa: N802
                input_tensor=None, pooling=None, classes: int = 1000,
                classifier_activation="softmax", name: str = "nasnet_large") -> Functional:
    """Build NASNetLarge: NASNet-A (6 @ 4032) (Zoph et al., CVPR 2018) for
    331×331 images.
    """
    return NASNet(input_shape, penultimate_filters=4032, num_blocks=6,
                  stem_block_filters=96, skip_reduction=True, filter_multiplier=2,
                  include_top=include_top, weights=weights, input_tensor=input_tensor,
                  pooling=pooling, classes=classes, default_size=331,
                  classifier_activation=classifier_activation, name=name)


NASNetMobile.__doc__ = inspect.cleandoc(NASNetMobile.__doc__) + """

Call :func:`preprocess_input` on pixels in [0, 255] first (it scales them to [-1, 1]).
Without the top and without ``input_shape``, the input shape is (224, 224, 3), as in Keras.
The forward and backward passes are those of its layers; the cells are described in the
module docstring.

""" + _DOC_ARGS.format(size=224, file="nasnet_mobile.h5") + """
Example:
    >>> model = NASNetMobile(weights=None, input_shape=(32, 32, 3), classes=10)
    >>> model.output.shape, model.count_params()
    ((None, 10), 4280286)
"""

NASNetLarge.__doc__ = inspect.cleandoc(NASNetLarge.__doc__) + """

Call :func:`preprocess_input` on pixels in [0, 255] first (it scales them to [-1, 1]).
The forward and backward passes are those of its layers; the cells are described in the
module docstring.

""" + _DOC_ARGS.format(size=331, file="nasnet_large.h5") + """
Example:
    >>> NASNetLarge.__name__          # 85 million weights: built in the tests, not here
    'NASNetLarge'
"""


def _separable_conv_block(ip, filters: int, kernel_size=(3, 3), strides=(1, 1),
                          block_id: str | None = None):
    """Two ``relu → SeparableConv2D → BN`` steps; the first one may have stride 2 (then
    with TensorFlow's "same" padding made explicit, ``correct_pad``)."""
    x = layers.Activation("relu")(ip)
    if strides == (2, 2):
        x = layers.ZeroPadding2D(padding=imagenet_utils.correct_pad(x, kernel_size),
                                 name=f"separable_conv_1_pad_{block_id}")(x)
        conv_pad = "valid"
    else:
        conv_pad = "same"
    x = layers.SeparableConv2D(filters, kernel_size, strides=strides,
                               name=f"separable_conv_1_{block_id}", padding=conv_pad,
                               use_bias=False)(x)
    x = _batch_norm(f"separable_conv_1_bn_{block_id}")(x)
    x = layers.Activation("relu")(x)
    x = layers.SeparableConv2D(filters, kernel_size, name=f"separable_conv_2_{block_id}",
                               padding="same", use_bias=False)(x)
    return _batch_norm(f"separable_conv_2_bn_{block_id}")(x)


def _adjust_block(p, ip, filters: int, block_id: str | None = None):
    """Make ``p`` (the cell before last) match ``ip`` (the last): the same tensor when
    there is none; when its height differs, a factorized reduction (two stride-2 1×1
    convolutions, the second on ``p`` shifted by one pixel, concatenated); when only its
    channels differ, a 1×1 convolution."""
    if p is None:
        return ip
    if p.shape[-2] != ip.shape[-2]:
        p = layers.Activation("relu", name=f"adjust_relu_1_{block_id}")(p)
        p1 = layers.AveragePooling2D((1, 1), strides=(2, 2), padding="valid",
                                     name=f"adjust_avg_pool_1_{block_id}")(p)
        p1 = layers.Conv2D(filters // 2, (1, 1), padding="same", use_bias=False,
                           name=f"adjust_conv_1_{block_id}", kernel_initializer="he_normal")(p1)
        p2 = layers.ZeroPadding2D(padding=((0, 1), (0, 1)))(p)
        p2 = layers.Cropping2D(cropping=((1, 0), (1, 0)))(p2)
        p2 = layers.AveragePooling2D((1, 1), strides=(2, 2), padding="valid",
                                     name=f"adjust_avg_pool_2_{block_id}")(p2)
        p2 = layers.Conv2D(filters // 2, (1, 1), padding="same", use_bias=False,
                           name=f"adjust_conv_2_{block_id}", kernel_initializer="he_normal")(p2)
        p = layers.concatenate([p1, p2], axis=-1)
        p = _batch_norm(f"adjust_bn_{block_id}")(p)
    elif p.shape[-1] != filters:
        p = layers.Activation("relu")(p)
        p = layers.Conv2D(filters, (1, 1), strides=(1, 1), padding="same",
                          name=f"adjust_conv_projection_{block_id}", use_bias=False,
                          kernel_initializer="he_normal")(p)
        p = _batch_norm(f"adjust_bn_{block_id}")(p)
    return p


def _normal_a_cell(ip, p, filters: int, block_id: str | None = None):
    """NASNet-A's normal cell (Fig. 4 of the paper): returns ``(output, ip)``."""
    p = _adjust_block(p, ip, filters, block_id)
    h = layers.Activation("relu")(ip)
    h = layers.Conv2D(filters, (1, 1), strides=(1, 1), padding="same",
                      name=f"normal_conv_1_{block_id}", use_bias=False,
                      kernel_initializer="he_normal")(h)
    h = _batch_norm(f"normal_bn_1_{block_id}")(h)

    x1_1 = _separable_conv_block(h, filters, kernel_size=(5, 5),
                                 block_id=f"normal_left1_{block_id}")
    x1_2 = _separable_conv_block(p, filters, block_id=f"normal_right1_{block_id}")
    x1 = layers.add([x1_1, x1_2], name=f"normal_add_1_{block_id}")

    x2_1 = _separable_conv_block(p, filters, (5, 5), block_id=f"normal_left2_{block_id}")
    x2_2 = _separable_conv_block(p, filters, (3, 3), block_id=f"normal_right2_{block_id}")
    x2 = layers.add([x2_1, x2_2], name=f"normal_add_2_{block_id}")

    x3 = layers.AveragePooling2D((3, 3), strides=(1, 1), padding="same",
                                 name=f"normal_left3_{block_id}")(h)
    x3 = layers.add([x3, p], name=f"normal_add_3_{block_id}")

    x4_1 = layers.AveragePooling2D((3, 3), strides=(1, 1), padding="same",
                                   name=f"normal_left4_{block_id}")(p)
    x4_2 = layers.AveragePooling2D((3, 3), strides=(1, 1), padding="same",
                                   name=f"normal_right4_{block_id}")(p)
    x4 = layers.add([x4_1, x4_2], name=f"normal_add_4_{block_id}")

    x5 = _separable_conv_block(h, filters, block_id=f"normal_left5_{block_id}")
    x5 = layers.add([x5, h], name=f"normal_add_5_{block_id}")

    x = layers.concatenate([p, x1, x2, x3, x4, x5], axis=-1,
                           name=f"normal_concat_{block_id}")
    return x, ip


def _reduction_a_cell(ip, p, filters: int, block_id: str | None = None):
    """NASNet-A's reduction cell (Fig. 4 of the paper), which halves H and W: returns
    ``(output, ip)``."""
    p = _adjust_block(p, ip, filters, block_id)
    h = layers.Activation("relu")(ip)
    h = layers.Conv2D(filters, (1, 1), strides=(1, 1), padding="same",
                      name=f"reduction_conv_1_{block_id}", use_bias=False,
                      kernel_initializer="he_normal")(h)
    h = _batch_norm(f"reduction_bn_1_{block_id}")(h)
    h3 = layers.ZeroPadding2D(padding=imagenet_utils.correct_pad(h, 3),
                              name=f"reduction_pad_1_{block_id}")(h)

    x1_1 = _separable_conv_block(h, filters, (5, 5), strides=(2, 2),
                                 block_id=f"reduction_left1_{block_id}")
    x1_2 = _separable_conv_block(p, filters, (7, 7), strides=(2, 2),
                                 block_id=f"reduction_right1_{block_id}")
    x1 = layers.add([x1_1, x1_2], name=f"reduction_add_1_{block_id}")

    x2_1 = layers.MaxPooling2D((3, 3), strides=(2, 2), padding="valid",
                               name=f"reduction_left2_{block_id}")(h3)
    x2_2 = _separable_conv_block(p, filters, (7, 7), strides=(2, 2),
                                 block_id=f"reduction_right2_{block_id}")
    x2 = layers.add([x2_1, x2_2], name=f"reduction_add_2_{block_id}")

    x3_1 = layers.AveragePooling2D((3, 3), strides=(2, 2), padding="valid",
                                   name=f"reduction_left3_{block_id}")(h3)
    x3_2 = _separable_conv_block(p, filters, (5, 5), strides=(2, 2),
                                 block_id=f"reduction_right3_{block_id}")
    x3 = layers.add([x3_1, x3_2], name=f"reduction_add3_{block_id}")

    x4 = layers.AveragePooling2D((3, 3), strides=(1, 1), padding="same",
                                 name=f"reduction_left4_{block_id}")(x1)
    x4 = layers.add([x2, x4])

    x5_1 = _separable_conv_block(x1, filters, (3, 3), block_id=f"reduction_left4_{block_id}")
    x5_2 = layers.MaxPooling2D((3, 3), strides=(2, 2), padding="valid",
                               name=f"reduction_right5_{block_id}")(h3)
    x5 = layers.add([x5_1, x5_2], name=f"reduction_add4_{block_id}")

    x = layers.concatenate([x2, x3, x4, x5], axis=-1, name=f"reduction_concat_{block_id}")
    return x, ip


def preprocess_input(x, data_format: str | None = None):
    """Scale pixels in [0, 255] to [-1, 1], as NASNet was trained: ``x / 127.5 − 1``
    (``imagenet_utils.preprocess_input`` with ``mode="tf"``).

    Args:
        x: an array of pixels in [0, 255] (a float array is changed in place, as Keras).
        data_format: ``None`` (``mr.config.image_data_format()``), ``"channels_last"`` or
            ``"channels_first"``.

    Example:
        >>> preprocess_input(np.array([0.0, 127.5, 255.0]))
        array([-1.,  0.,  1.])
    """
    return imagenet_utils.preprocess_input(x, data_format=data_format, mode="tf")


decode_predictions = imagenet_utils.decode_predictions   # the same for every ImageNet family


__all__ = ["NASNetMobile", "NASNetLarge", "preprocess_input", "decode_predictions"]
