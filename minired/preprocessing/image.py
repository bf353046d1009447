"""``mr.preprocessing.image``: Keras' ``keras.preprocessing.image``.

``load_img``, ``img_to_array``, ``array_to_img`` and ``save_img`` are the functions of
``mr.utils`` (:mod:`minired.utils.image_utils`); ``smart_resize`` resizes without
distorting (:mod:`minired.utils.image_dataset`).
"""

from minired.utils.image_dataset import smart_resize
from minired.utils.image_utils import array_to_img, img_to_array, load_img, save_img

__all__ = ["array_to_img", "img_to_array", "load_img", "save_img", "smart_resize"]
