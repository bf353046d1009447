"""What the models of ``minired.applications`` share, as ``keras.applications.imagenet_utils``.

- :func:`preprocess_input` turns pixels in [0, 255] into what a pretrained network saw in
  training (three conventions: ``"caffe"``, ``"tf"``, ``"torch"``);
- :func:`decode_predictions` turns 1000 class scores into ``(wordnet id, name, score)``;
- :func:`obtain_input_shape`, :func:`correct_pad` and :func:`validate_activation` are the
  small checks and shapes the model builders use (Keras keeps them internal; the other
  families of this package import them from here).
"""

from __future__ import annotations

import json
import warnings

import numpy as np

from minired import activations, config
from minired.utils.file_utils import get_file

CLASS_INDEX = None
CLASS_INDEX_PATH = ("https://storage.googleapis.com/download.tensorflow.org/"
                    "data/imagenet_class_index.json")
CLASS_INDEX_HASH = "c2c37ea517e94d9795004a39431a14cb"  # md5, as Keras checks it

_CAFFE_MEAN = [103.939, 116.779, 123.68]           # B, G, R means of ImageNet, in [0, 255]
_TORCH_MEAN = [0.485, 0.456, 0.406]                # R, G, B means, in [0, 1]
_TORCH_STD = [0.229, 0.224, 0.225]


def preprocess_input(x, data_format: str | None = None, mode: str = "caffe"):
    """Preprocess a batch of images in [0, 255] the way a pretrained network expects.

    - ``"caffe"`` (VGG, ResNet): RGB → BGR, then subtract ImageNet's mean pixel
      ``x_c ← x_c − mean_c`` (no scaling);
    - ``"tf"`` (MobileNet, Xception, Inception, ResNetV2): ``x ← x / 127.5 − 1``, into [−1, 1];
    - ``"torch"`` (DenseNet): ``x ← (x / 255 − mean_c) / std_c`` per channel.

    As Keras' NumPy path, a float array is **changed in place** (and returned; pass
    ``np.copy(x)`` to keep it); an integer array is first cast to ``floatx()``. The
    operations are Keras' own, in its order, so the results are bit for bit Keras' in
    float32 and float64.

    Args:
        x: a NumPy array, 3-D (one image) or 4-D (a batch), with 3 color channels.
        data_format: ``"channels_last"`` or ``"channels_first"``; ``None`` is
            ``minired.config.image_data_format()``.
        mode: ``"caffe"``, ``"tf"`` or ``"torch"``.

    Example:
        >>> x = np.array([[[[255.0, 0.0, 127.5]]]], dtype="float32")
        >>> preprocess_input(x.copy(), mode="tf")
        array([[[[ 1., -1.,  0.]]]], dtype=float32)
        >>> preprocess_input(x.copy()).round(3)         # caffe: BGR minus the mean pixel
        array([[[[  23.561, -116.779,  131.32 ]]]], dtype=float32)
    """
    if mode not in {"caffe", "tf", "torch"}:
        raise ValueError("Expected mode to be one of `caffe`, `tf` or `torch`. "
                         f"Received: mode={mode}")
    if data_format is None:
        data_format = config.image_data_format()
    elif data_format not in {"channels_first", "channels_last"}:
        raise ValueError("Expected data_format to be one of `channels_first` or "
                         f"`channels_last`. Received: data_format={data_format}")
    if not isinstance(x, np.ndarray):
        if hasattr(x, "_keras_history") or type(x).__name__ == "KerasTensor":
            raise TypeError(
                "preprocess_input: minired preprocesses NumPy arrays, not symbolic tensors "
                "(Received: a KerasTensor). Preprocess the images before the model, or use "
                "layers.Rescaling / layers.Normalization inside it.")
        x = np.array(x)                     # Keras' tensor path returns a new tensor
    return _preprocess_numpy_input(x, data_format, mode)


def preprocess_input_unchanged(x, data_format: str | None = None):
    """Return ``x`` unchanged: the ``preprocess_input`` of the families that preprocess
    inside the model (EfficientNet, EfficientNetV2, ConvNeXt), a placeholder Keras keeps for
    older code.

    Args:
        x: an array of pixels in [0, 255].
        data_format: ignored (``None``, ``"channels_last"`` or ``"channels_first"``).

    Example:
        >>> preprocess_input_unchanged(np.array([0.0, 255.0]))
        array([  0., 255.])
    """
    return x


def _preprocess_numpy_input(x: np.ndarray, data_format: str, mode: str) -> np.ndarray:
    """Keras' ``_preprocess_numpy_input``: the same in-place steps in the same order."""
    if not issubclass(x.dtype.type, np.floating):
        x = x.astype(config.floatx(), copy=False)
    if mode == "tf":
        x /= 127.5
        x -= 1.0
        return x
    if mode == "torch":
        x /= 255.0
        mean, std = _TORCH_MEAN, _TORCH_STD
    else:
        if data_format == "channels_first":         # 'RGB' -> 'BGR'
            x = x[::-1, ...] if x.ndim == 3 else x[:, ::-1, ...]
        else:
            x = x[..., ::-1]
        mean, std = _CAFFE_MEAN, None
    if data_format == "channels_first":
        channel = (lambda c: (c,)) if x.ndim == 3 else (lambda c: (slice(None), c))
    else:
        channel = lambda c: (..., c)  # noqa: E731
    for c in range(3):                              # zero-center by the mean pixel
        x[channel(c)] -= mean[c]
    if std is not None:
        for c in range(3):
            x[channel(c)] /= std[c]
    return x


def decode_predictions(preds, top: int = 5) -> list:
    """Decode a batch of ImageNet predictions into ``(wordnet id, class name, score)``.

    The class names come from ``imagenet_class_index.json`` in Keras' cache folder
    (``~/.keras/models``), read through :func:`minired.utils.get_file` with Keras' name
    and hash; minired never downloads it, so a missing file raises ``FileNotFoundError``
    naming the folder and the URL.

    Args:
        preds: an array of shape ``(samples, 1000)``.
        top: how many of the best classes to return per sample.

    Returns:
        One list per sample of ``top`` tuples ``(class_id, class_name, score)``, best first.

    Example:
        >>> decode_predictions(np.zeros((1, 10)))       # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        ValueError: `decode_predictions` expects ... Received array with shape: (1, 10)
    """
    global CLASS_INDEX
    preds = np.asarray(preds)
    if len(preds.shape) != 2 or preds.shape[1] != 1000:
        raise ValueError("`decode_predictions` expects a batch of predictions (i.e. a 2D "
                         "array of shape (samples, 1000)). Received array with shape: "
                         f"{preds.shape}")
    if CLASS_INDEX is None:
        fpath = get_file("imagenet_class_index.json", CLASS_INDEX_PATH,
                         cache_subdir="models", file_hash=CLASS_INDEX_HASH)
        with open(fpath) as f:
            CLASS_INDEX = json.load(f)
    results = []
    for pred in preds:
        top_indices = pred.argsort()[-top:][::-1]
        result = [tuple(CLASS_INDEX[str(i)]) + (pred[i],) for i in top_indices]
        result.sort(key=lambda item: item[2], reverse=True)
        results.append(result)
    return results


def obtain_input_shape(input_shape, default_size: int, min_size: int, data_format: str,
                       require_flatten: bool, weights=None) -> tuple:
    """Check a model's ``input_shape`` (or choose the default one), as Keras does.

    With ``include_top`` (``require_flatten``) and ImageNet weights the shape must be the
    default ``(default_size, default_size, 3)``; otherwise any 3-D shape whose sides are at
    least ``min_size`` (``None`` sides allowed unless ``require_flatten``).

    Args:
        input_shape: ``None`` (the default shape) or a tuple of 3 integers (or ``None``).
        default_size: the side the pretrained network was trained at (224 for VGG).
        min_size: the smallest side the architecture accepts (32 for VGG).
        data_format: ``"channels_last"`` or ``"channels_first"``.
        require_flatten: whether a classifier (``include_top=True``) follows.
        weights: ``None``, ``"imagenet"`` or a file path.

    Example:
        >>> obtain_input_shape(None, 224, 32, "channels_last", require_flatten=True)
        (224, 224, 3)
        >>> obtain_input_shape(None, 224, 32, "channels_last", require_flatten=False)
        (None, None, 3)
        >>> obtain_input_shape((16, 16, 3), 224, 32, "channels_last", False)
        Traceback (most recent call last):
        ...
        ValueError: Input size must be at least 32x32; Received: input_shape=(16, 16, 3)
    """
    if weights != "imagenet" and input_shape and len(input_shape) == 3:
        channels = input_shape[0] if data_format == "channels_first" else input_shape[-1]
        if channels not in {1, 3}:
            warnings.warn("This model usually expects 1 or 3 input channels. However, it was "
                          f"passed an input_shape with {channels} input channels.",
                          stacklevel=2)
        if data_format == "channels_first":
            default_shape = (input_shape[0], default_size, default_size)
        else:
            default_shape = (default_size, default_size, input_shape[-1])
    elif data_format == "channels_first":
        default_shape = (3, default_size, default_size)
    else:
        default_shape = (default_size, default_size, 3)
    if weights == "imagenet" and require_flatten:
        if input_shape is not None and input_shape != default_shape:
            raise ValueError("When setting `include_top=True` and loading `imagenet` "
                             f"weights, `input_shape` should be {default_shape}.  "
                             f"Received: input_shape={input_shape}")
        return default_shape
    if input_shape:
        if len(input_shape) != 3:
            raise ValueError("`input_shape` must be a tuple of three integers.")
        if data_format == "channels_first":
            channels, sides = input_shape[0], input_shape[1:]
        else:
            channels, sides = input_shape[-1], input_shape[:2]
        if channels != 3 and weights == "imagenet":
            raise ValueError(f"The input must have 3 channels; Received "
                             f"`input_shape={input_shape}`")
        if any(side is not None and side < min_size for side in sides):
            raise ValueError(f"Input size must be at least {min_size}x{min_size}; "
                             f"Received: input_shape={input_shape}")
    elif require_flatten:
        input_shape = default_shape
    else:
        input_shape = (3, None, None) if data_format == "channels_first" else (None, None, 3)
    if require_flatten and None in input_shape:
        raise ValueError("If `include_top` is True, you should specify a static "
                         f"`input_shape`. Received: input_shape={input_shape}")
    return input_shape


def correct_pad(inputs, kernel_size) -> tuple:
    """The ``ZeroPadding2D`` padding that makes a stride-2 "valid" convolution centred.

    ``((k//2 − a, k//2), ...)`` per side, where ``a`` is 1 for an even input size (or an
    unknown one) and 0 for an odd one: the padding TensorFlow's "same" would use.

    Args:
        inputs: a tensor (a ``KerasTensor``) of shape ``(batch, H, W, C)``
            (``(batch, C, H, W)`` for channels_first).
        kernel_size: an integer or a pair of integers.

    Example:
        >>> import minired as mr
        >>> correct_pad(mr.Input((224, 224, 3)), 3), correct_pad(mr.Input((7, 7, 3)), 3)
        (((0, 1), (0, 1)), ((1, 1), (1, 1)))
    """
    img_dim = 2 if config.image_data_format() == "channels_first" else 1
    input_size = inputs.shape[img_dim:img_dim + 2]
    if isinstance(kernel_size, int):
        kernel_size = (kernel_size, kernel_size)
    # pad one less before an even side (or an unknown one) than after it
    adjust = (1, 1) if input_size[0] is None else (1 - input_size[0] % 2, 1 - input_size[1] % 2)
    correct = (kernel_size[0] // 2, kernel_size[1] // 2)
    return ((correct[0] - adjust[0], correct[0]), (correct[1] - adjust[1], correct[1]))


def validate_activation(classifier_activation, weights) -> None:
    """Refuse a classifier activation other than ``None``/``"softmax"`` with pretrained weights.

    Args:
        classifier_activation: a name, a function or ``None``.
        weights: ``None`` (any activation is allowed), ``"imagenet"`` or a file path.

    Example:
        >>> validate_activation("relu", None)            # random weights: anything goes
        >>> validate_activation("relu", "imagenet")      # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        ValueError: Only `None` and `softmax` activations are allowed ...
    """
    if weights is None:
        return
    classifier_activation = activations.get(classifier_activation)
    if classifier_activation not in {activations.get("softmax"), activations.get(None)}:
        raise ValueError("Only `None` and `softmax` activations are allowed for the "
                         "`classifier_activation` argument when using pretrained weights, "
                         "with `include_top=True`; Received: "
                         f"classifier_activation={classifier_activation}")


__all__ = ["preprocess_input", "decode_predictions", "obtain_input_shape", "correct_pad",
           "validate_activation"]
