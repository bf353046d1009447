"""What Keras 3 keeps of Keras 2, as ``keras.legacy``: the one-object JSON format of
:mod:`minired.legacy.saving`."""

from minired.legacy import saving

__all__ = ["saving"]
