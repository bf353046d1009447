"""The common part of the colour augmentation layers (RandomGrayscale, RandomHue...): the
random draws and their use are two steps, named as Keras names them."""

from __future__ import annotations

import numpy as np

from minired.layers.preprocessing.random_image_layer import RandomImageLayer


class TransformationLayer(RandomImageLayer):
    """A random image layer in Keras' two steps: ``get_random_transformation(images)``
    draws the parameters of a batch (a dict of arrays, Keras' keys), and
    ``transform_images(images, transformation)`` applies them. Handing the same
    transformation to Keras' ``transform_images`` gives the same images, which is how the
    tests compare the two libraries.

    A subclass writes ``get_random_transformation``, ``_apply(images, transformation) ->
    (outputs, state)`` and ``_augment_backward(grad_outputs, state)``.
    """

    def get_random_transformation(self, images: np.ndarray) -> dict:
        """The random parameters of a batch ``(N, H, W, C)`` (Keras' keys)."""
        raise NotImplementedError

    def transform_images(self, images, transformation: dict) -> np.ndarray:
        """Apply ``transformation`` to a batch (Keras' ``transform_images`` while training),
        in the layer's dtype."""
        images = np.asarray(images).astype(self._float_dtype(), copy=False)
        self._check_call_shape(images.shape)
        single = images.ndim == 3
        outputs = self._apply(images[None] if single else images, transformation)[0]
        return outputs[0] if single else outputs

    def _apply(self, images: np.ndarray, transformation: dict) -> tuple[np.ndarray, object]:
        raise NotImplementedError

    def _augment(self, images: np.ndarray) -> tuple[np.ndarray, object]:
        transformation = self.get_random_transformation(images)
        outputs, state = self._apply(images, transformation)
        self.transformation = transformation
        return outputs, state

    transformation: dict | None = None
    """The parameters drawn by the last training call."""

    def _batch(self, images: np.ndarray) -> int:
        return images.shape[0] if images.ndim == 4 else 1

    def _cast(self, value, images: np.ndarray) -> np.ndarray:
        """A transformation's array in the images' dtype (Keras' ``cast(..., compute_dtype)``)."""
        return np.asarray(value).astype(images.dtype, copy=False)


def no_gradient(grad_outputs: np.ndarray) -> np.ndarray:
    """``δx = 0``: the layer has no gradient in TensorFlow (an integer cast, or
    ``HSVToRGB``, which registers none), so minired stops it, as ``tf.stop_gradient``."""
    return np.zeros_like(grad_outputs)
