"""VGG19, as ``keras.applications.vgg19``: VGG16 with a fourth convolution in blocks 3 to 5.

Simonyan & Zisserman, *Very Deep Convolutional Networks for Large-Scale Image Recognition*
(ICLR 2015, https://arxiv.org/abs/1409.1556); the architecture is explained in
:mod:`.vgg16`. 16 convolutions (2, 2, 4, 4, 4 per block) and 3 dense layers.
"""

from __future__ import annotations

from minired.applications.vgg16 import decode_predictions, preprocess_input, vgg
from minired.models import Model


def VGG19(include_top: bool = True, weights="imagenet", input_tensor=None,  # noqa: N802
          input_shape: tuple | None = None, pooling: str | None = None, classes: int = 1000,
          classifier_activation="softmax", name: str = "vgg19") -> Model:
    """The VGG19 network: 16 convolutions in 5 blocks, then 3 dense layers.

    The arguments are :func:`~.vgg16.VGG16`'s; the new layers are ``block3_conv4``,
    ``block4_conv4`` and ``block5_conv4``. Preprocess with :func:`preprocess_input`.

    Example:
        >>> model = VGG19(weights=None, include_top=False, input_shape=(32, 32, 3))
        >>> model.get_layer("block5_conv4").output.shape, model.count_params()
        ((None, 2, 2, 512), 20024384)
    """
    return vgg(convs_per_block=(2, 2, 4, 4, 4), include_top=include_top, weights=weights,
               input_tensor=input_tensor, input_shape=input_shape, pooling=pooling,
               classes=classes, classifier_activation=classifier_activation, name=name,
               weights_name="vgg19")


__all__ = ["VGG19", "preprocess_input", "decode_predictions"]
