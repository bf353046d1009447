"""Import TensorFlow/Keras once, quietly, and switch both libraries' precision together."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")   # TensorFlow's C++ start-up chatter
os.environ.setdefault("KERAS_BACKEND", "tensorflow")



@contextlib.contextmanager
def _stderr_silenced() -> Iterator[None]:
    """Hide what TensorFlow's C++ start-up writes to the stderr file descriptor (absl and
    oneDNN notices that no log level silences); Python errors still surface afterwards."""
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    try:
        yield
    finally:
        os.dup2(saved, 2)
        os.close(devnull)
        os.close(saved)


with _stderr_silenced():
    import keras
    import tensorflow as tf

import minired as mr  # noqa: E402  (after the environment variables above)

tf.get_logger().setLevel("ERROR")


@contextlib.contextmanager
def precision(dtype: str) -> Iterator[None]:
    """Run the body with both minired and Keras computing in ``dtype``; restore afterwards."""
    previous = (mr.config.floatx(), keras.config.floatx(), keras.config.dtype_policy())
    mr.config.set_floatx(dtype)
    keras.config.set_floatx(dtype)
    # Keras caches its global dtype policy from floatx the first time a layer asks for it,
    # so set_floatx alone would leave later layers in the first precision used.
    keras.config.set_dtype_policy(dtype)
    try:
        yield
    finally:
        mr.config.set_floatx(previous[0])
        keras.config.set_floatx(previous[1])
        keras.config.set_dtype_policy(previous[2])


__all__ = ["keras", "tf", "mr", "precision"]
