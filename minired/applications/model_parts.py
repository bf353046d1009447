"""The steps every model builder of ``minired.applications`` takes around its architecture.

Keras' builders all start the same way (check ``weights`` and ``classes``, make the image
input) and end the same way (the model from its inputs, then the weights). These helpers
say each step once so each family's file shows only its architecture:

    check_weights(weights, include_top, classes)      # Keras' argument checks
    img_input = image_input(input_tensor, input_shape)
    x = ...the architecture...
    model = Model(model_inputs(input_tensor, img_input), x, name=name)
    load_imagenet_or_file(model, weights, fname, origin, file_hash)
"""

from __future__ import annotations

import os

from minired import backend, config, utils
from minired.layers import Input
from minired.utils.data_packing import get_source_inputs

#: Where Keras downloads the pretrained files from (named in the error messages only).
KERAS_APPLICATIONS_URL = "https://storage.googleapis.com/tensorflow/keras-applications/"


#: Keras' messages of the two checks (VGG, ResNet, DenseNet, MobileNets, Inceptions...);
#: the EfficientNets, ConvNeXt and NASNet word them their own way and pass theirs.
WEIGHTS_MESSAGE = ("The `weights` argument should be either `None` (random initialization), "
                   "'imagenet' (pre-training on ImageNet), or the path to the weights file to "
                   "be loaded.  Received: weights={weights}")
CLASSES_MESSAGE = ("If using `weights='imagenet'` with `include_top=True`, `classes` should "
                   "be 1000.  Received classes={classes}")


def check_weights(weights, include_top: bool, classes: int, weights_message: str = WEIGHTS_MESSAGE,
                  classes_message: str = CLASSES_MESSAGE) -> None:
    """Keras' checks of ``weights`` (None, "imagenet" or an existing file) and ``classes``
    (1000 for the pretrained classifier); the messages are templates with ``{weights}`` and
    ``{classes}``.

    Example:
        >>> check_weights("imagenet", include_top=True, classes=10)  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        ValueError: If using `weights='imagenet'` with `include_top=True`, ... Received classes=10
    """
    if not (weights is None or weights == "imagenet" or _is_file(weights)):
        raise ValueError(weights_message.format(weights=weights))
    if weights == "imagenet" and include_top and classes != 1000:
        raise ValueError(classes_message.format(classes=classes))


def _is_file(weights) -> bool:
    """Keras' ``file_utils.exists``: a path (str or PathLike) that exists."""
    return isinstance(weights, str | os.PathLike) and os.path.exists(weights)


def bn_axis() -> int:
    """The channel axis of a 4-D image batch: 3 for channels_last, 1 for channels_first."""
    return 3 if config.image_data_format() == "channels_last" else 1


def image_input(input_tensor, input_shape: tuple):
    """The model's image input: ``input_tensor`` when given (a symbolic tensor), otherwise a
    new ``Input(shape=input_shape)``.

    Keras also wraps a backend tensor in ``Input(tensor=...)``; minired's symbolic tensors
    are its only tensors, so anything else is refused.
    """
    if input_tensor is None:
        return Input(shape=input_shape)
    if not backend.is_keras_tensor(input_tensor):
        raise TypeError("input_tensor: expected a symbolic tensor (e.g. the output of "
                        "minired.Input or of a layer), received "
                        f"{type(input_tensor).__name__}.")
    return input_tensor


def model_inputs(input_tensor, img_input):
    """The functional model's inputs: the Input(s) ``input_tensor`` comes from (so layers
    before it stay part of the model), else ``img_input``."""
    if input_tensor is not None:
        return get_source_inputs(input_tensor)
    return img_input


def load_imagenet_or_file(model, weights, fname: str, origin: str, file_hash: str) -> None:
    """Load ``weights`` into ``model``: ``"imagenet"`` reads Keras' cached file ``fname``
    (``~/.keras/models/fname``, its hash checked; minired never downloads it), a path
    loads that file, ``None`` keeps the random initial weights."""
    if weights == "imagenet":
        path = utils.get_file(fname, origin, cache_subdir="models", file_hash=file_hash)
        model.load_weights(path)
    elif weights is not None:
        model.load_weights(weights)
