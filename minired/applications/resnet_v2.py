"""ResNet50V2, ResNet101V2 and ResNet152V2, as ``keras.applications.resnet_v2``.

He, Zhang, Ren & Sun, *Identity Mappings in Deep Residual Networks* (ECCV 2016,
https://arxiv.org/abs/1603.05027). The idea: put batch normalization and ReLU *before*
each convolution ("pre-activation") and nothing after the sum, so the shortcut path from
the first block to the last is a pure identity, ``x_L = x_l + Σ F(x_i)``, and the gradient
reaches every block unchanged. The blocks are :func:`~.resnet.residual_block_v2`; a stage
subsamples in its last block; ``post_bn``/``post_relu`` close the network.
Images are scaled to [−1, 1] (:func:`preprocess_input`, ``"tf"`` mode).
"""

from __future__ import annotations

from minired.applications import imagenet_utils
from minired.applications.resnet import ResNet, stack_residual_blocks_v2
from minired.models import Model


def _resnet_v2(blocks: tuple, weights_name: str, **kwargs) -> Model:
    """A ResNetV2 with ``blocks`` residual blocks in the stages conv2..conv5."""
    def stack_fn(x):
        x = stack_residual_blocks_v2(x, 64, blocks[0], name="conv2")
        x = stack_residual_blocks_v2(x, 128, blocks[1], name="conv3")
        x = stack_residual_blocks_v2(x, 256, blocks[2], name="conv4")
        return stack_residual_blocks_v2(x, 512, blocks[3], stride1=1, name="conv5")
    return ResNet(stack_fn, preact=True, use_bias=True, weights_name=weights_name, **kwargs)


def ResNet50V2(include_top: bool = True, weights="imagenet", input_tensor=None,  # noqa: N802
               input_shape: tuple | None = None, pooling: str | None = None,
               classes: int = 1000, classifier_activation="softmax",
               name: str = "resnet50v2") -> Model:
    """ResNet50V2: pre-activation blocks, (3, 4, 6, 3) in the stages conv2..conv5.

    The arguments are :func:`~.resnet.ResNet50`'s. Preprocess with :func:`preprocess_input`.

    Example:
        >>> model = ResNet50V2(weights=None, include_top=False, input_shape=(32, 32, 3))
        >>> model.output.shape, model.count_params()
        ((None, 1, 1, 2048), 23564800)
    """
    return _resnet_v2((3, 4, 6, 3), "resnet50v2", include_top=include_top, weights=weights,
                      input_tensor=input_tensor, input_shape=input_shape, pooling=pooling,
                      classes=classes, classifier_activation=classifier_activation, name=name)


def ResNet101V2(include_top: bool = True, weights="imagenet", input_tensor=None,  # noqa: N802
                input_shape: tuple | None = None, pooling: str | None = None,
                classes: int = 1000, classifier_activation="softmax",
                name: str = "resnet101v2") -> Model:
    """ResNet101V2: pre-activation blocks, (3, 4, 23, 3) in the stages conv2..conv5.

    The arguments are :func:`~.resnet.ResNet50`'s. Preprocess with :func:`preprocess_input`.

    Example:
        >>> ResNet101V2(weights=None, include_top=False, input_shape=(32, 32, 3)).count_params()
        42626560
    """
    return _resnet_v2((3, 4, 23, 3), "resnet101v2", include_top=include_top, weights=weights,
                      input_tensor=input_tensor, input_shape=input_shape, pooling=pooling,
                      classes=classes, classifier_activation=classifier_activation, name=name)


def ResNet152V2(include_top: bool = True, weights="imagenet", input_tensor=None,  # noqa: N802
                input_shape: tuple | None = None, pooling: str | None = None,
                classes: int = 1000, classifier_activation="softmax",
                name: str = "resnet152v2") -> Model:
    """ResNet152V2: pre-activation blocks, (3, 8, 36, 3) in the stages conv2..conv5.

    The arguments are :func:`~.resnet.ResNet50`'s. Preprocess with :func:`preprocess_input`.

    Example:
        >>> ResNet152V2(weights=None, include_top=False, input_shape=(32, 32, 3)).count_params()
        58331648
    """
    return _resnet_v2((3, 8, 36, 3), "resnet152v2", include_top=include_top, weights=weights,
                      input_tensor=input_tensor, input_shape=input_shape, pooling=pooling,
                      classes=classes, classifier_activation=classifier_activation, name=name)


def preprocess_input(x, data_format: str | None = None):
    """ResNetV2's preprocessing: :func:`~.imagenet_utils.preprocess_input` in ``"tf"`` mode,
    ``x / 127.5 − 1`` (pixels into [−1, 1]).

    Example:
        >>> import numpy as np
        >>> preprocess_input(np.array([0.0, 127.5, 255.0]))
        array([-1.,  0.,  1.])
    """
    return imagenet_utils.preprocess_input(x, data_format=data_format, mode="tf")


decode_predictions = imagenet_utils.decode_predictions   # the same for every ImageNet family


__all__ = ["ResNet50V2", "ResNet101V2", "ResNet152V2", "preprocess_input",
           "decode_predictions"]
