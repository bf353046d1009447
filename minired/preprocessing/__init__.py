"""``mr.preprocessing``: Keras' ``keras.preprocessing`` namespace.

- :mod:`~minired.preprocessing.image`: ``load_img``, ``img_to_array``, ``array_to_img``,
  ``save_img`` (the objects of ``mr.utils``) and ``smart_resize``;
- :mod:`~minired.preprocessing.sequence`: ``pad_sequences`` (``mr.utils.pad_sequences``);
- the dataset utilities, also in ``mr.utils`` as in Keras:
  :func:`image_dataset_from_directory`, :func:`text_dataset_from_directory` and
  :func:`timeseries_dataset_from_array`. They return a :class:`~minired.utils.PyDataset`
  (Keras: a ``tf.data.Dataset``) that ``fit``, ``evaluate`` and ``predict`` read batch by
  batch and a ``for`` loop walks.

Example:
    >>> from minired.preprocessing import sequence
    >>> sequence.pad_sequences([[1, 2], [3]]).tolist()
    [[1, 2], [0, 3]]
"""

from minired.preprocessing import image, sequence
from minired.utils.image_dataset import image_dataset_from_directory
from minired.utils.text_dataset import text_dataset_from_directory
from minired.utils.timeseries_dataset import timeseries_dataset_from_array

__all__ = ["image", "image_dataset_from_directory", "sequence", "text_dataset_from_directory",
           "timeseries_dataset_from_array"]
