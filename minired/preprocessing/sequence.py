"""``mr.preprocessing.sequence``: Keras' ``keras.preprocessing.sequence``,
``pad_sequences`` (the function of ``mr.utils``, :mod:`minired.utils.sequence_utils`)."""

from minired.utils.sequence_utils import pad_sequences

__all__ = ["pad_sequences"]
