"""RandomCrop: cut a random ``height × width`` window out of the images while training."""

from __future__ import annotations

import numpy as np

from minired.layers.preprocessing import image_transform
from minired.layers.preprocessing.random_image_layer import RandomImageLayer
from minired.utils import rng_utils


class RandomCrop(RandomImageLayer):
    """Crop the images to ``height × width`` at a random place while training.

    Forward in training, as Keras, for a batch ``(N, H, W, C)``:

    - images larger than the crop in both directions (``H > height`` and ``W > width``):
      one random corner for the whole batch, ``top = ⌊U[0, H - height + 1)⌋`` and
      ``left = ⌊U[0, W - width + 1)⌋``, and ``a = x[:, top:top+height, left:left+width]``;
    - otherwise, Keras' fallback: the corner of the largest centred window with the crop's
      aspect ratio (``h' = min(H, ⌊W·height/width⌋)``, ``top = ⌊(H - h')/2⌋``, and the
      same for the columns), from which ``height × width`` is sliced, cut short by the
      image's edge to ``h'' × w''``, then resized to ``height × width`` by TensorFlow's
      bilinear resize (``tf.image.resize``, half-pixel centres): the output pixel ``(x, y)``
      reads the slice at ``x_in = (x + ½)·w''/width - ½`` (and the same for ``y``),
      clamped to the slice, with the 4-pixel weights of
      :mod:`~minired.layers.preprocessing.image_transform`.

    At inference (``training=False``) the layer returns its input **uncropped**, as Keras
    3's RandomCrop does (its ``transform_images`` crops only in training), although its
    output shape says ``height × width``: in Keras as in minired, a model whose next layers
    need the cropped size (Flatten then Dense) fails in ``predict``. Crop at inference with
    a layer that always crops instead.

    Backward: a crop gives ``δa`` back to the window it read (``δx`` is 0 elsewhere); a
    resize scatters ``δa`` back with its bilinear weights (the adjoint).

    Args:
        height: rows of the output.
        width: columns of the output.
        seed: seed of the layer's :class:`~minired.random.SeedGenerator`; None draws one
            now, as Keras (it is then written in the config).
        data_format: ``"channels_last"`` (or None).
        name: layer name.

    Example:
        >>> x = np.arange(16, dtype="float32").reshape(1, 4, 4, 1)
        >>> RandomCrop(2, 2, seed=0)(x, training=True).shape
        (1, 2, 2, 1)
        >>> RandomCrop(2, 8)(x, training=True)[0, :, :, 0]   # rows 1-2, widened to 8
        array([[ 4.  ,  4.25,  4.75,  5.25,  5.75,  6.25,  6.75,  7.  ],
               [ 8.  ,  8.25,  8.75,  9.25,  9.75, 10.25, 10.75, 11.  ]],
              dtype=float32)
    """

    def __init__(self, height: int, width: int, seed: int | None = None, data_format=None,
                 name: str | None = None, **kwargs) -> None:
        for argument, value in (("height", height), ("width", width)):
            if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
                raise ValueError(f"RandomCrop: `{argument}` must be a positive int, got "
                                 f"{value!r}.")
        if seed is None:                 # Keras' make_default_seed: drawn now, then saved
            seed = rng_utils.draw_seed("random")
        super().__init__(seed=seed, data_format=data_format, name=name, **kwargs)
        self.height = int(height)
        self.width = int(width)

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        return (*tuple(input_shape)[:-3], self.height, self.width, input_shape[-1])

    def _augment(self, images: np.ndarray) -> tuple[np.ndarray, tuple]:
        n, rows, cols = images.shape[:3]
        if rows > self.height and cols > self.width:
            top = int(self._uniform((), 0.0, float(rows - self.height + 1)))
            left = int(self._uniform((), 0.0, float(cols - self.width + 1)))
            window = (top, left, self.height, self.width)
            return self._window(images, window), (images.shape, window, None)
        # Keras' corner of the centred window with the crop's aspect ratio...
        aspect_rows = max(min(rows, int(float(cols * self.height) / self.width)), 1)
        aspect_cols = max(min(cols, int(float(rows * self.width) / self.height)), 1)
        top, left = int(float(rows - aspect_rows) / 2), int(float(cols - aspect_cols) / 2)
        # ...from which it slices height × width (cut short by the image's edge)
        window = (top, left, min(self.height, rows - top), min(self.width, cols - left))
        cropped = self._window(images, window)
        if window[2:] == (self.height, self.width):
            return cropped, (images.shape, window, None)
        sampling = resize_sampling(n, window[2:], (self.height, self.width), images.dtype)
        return image_transform.resample(cropped, sampling), (images.shape, window, sampling)

    @staticmethod
    def _window(images: np.ndarray, window: tuple) -> np.ndarray:
        top, left, rows, cols = window
        return images[:, top:top + rows, left:left + cols]

    def _augment_backward(self, grad_outputs: np.ndarray, state: tuple) -> np.ndarray:
        shape, (top, left, rows, cols), sampling = state
        if sampling is not None:
            grad_outputs = image_transform.resample_adjoint(grad_outputs, sampling)
        grad_inputs = np.zeros(shape, dtype=grad_outputs.dtype)
        grad_inputs[:, top:top + rows, left:left + cols] = grad_outputs
        return grad_inputs

    def get_config(self) -> dict:
        """Keras' keys: ``name``, ``trainable``, ``dtype``, ``data_format``, ``height``,
        ``width``, ``seed``."""
        return {**super().get_config(), "height": self.height, "width": self.width,
                "seed": self.seed}


def resize_sampling(n: int, size: tuple[int, int], new_size: tuple[int, int],
                    dtype) -> image_transform.Sampling:
    """TensorFlow's bilinear resize (half-pixel centres, no antialiasing) of ``n`` images from
    ``size`` to ``new_size``, as a :class:`~minired.layers.preprocessing.image_transform.
    Sampling`: ``x_in = (x + ½)·sx - ½`` with ``sx = W/W'``, clamped ("nearest" fill)."""
    sy, sx = (np.float64(size[0]) / new_size[0], np.float64(size[1]) / new_size[1])
    transform = np.array([sx, 0.0, 0.5 * sx - 0.5, 0.0, sy, 0.5 * sy - 0.5, 0.0, 0.0])
    return image_transform.sampling_plan(np.tile(transform, (n, 1)), size, "bilinear",
                                         "nearest", dtype, output_size=new_size)
