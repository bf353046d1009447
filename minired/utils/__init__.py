"""Utilities that Keras also exposes under ``keras.utils``."""

from minired.backend import clear_session, is_keras_tensor, standardize_dtype
from minired.config import (
    disable_interactive_logging,
    enable_interactive_logging,
    is_interactive_logging_enabled,
)
from minired.layers.preprocessing.feature_space import FeatureSpace
from minired.saving import (
    CustomObjectScope,
    custom_object_scope,
    deserialize_keras_object,
    get_custom_objects,
    get_registered_name,
    get_registered_object,
    register_keras_serializable,
    serialize_keras_object,
)
from minired.utils import bounding_boxes, legacy  # keras.utils' submodules
from minired.utils.audio_dataset import audio_dataset_from_directory
from minired.utils.config import Config
from minired.utils.data_packing import (
    get_source_inputs,
    pack_x_y_sample_weight,
    unpack_x_y_sample_weight,
)
from minired.utils.dataset_utils import split_dataset
from minired.utils.file_utils import get_file
from minired.utils.image_dataset import image_dataset_from_directory
from minired.utils.image_utils import array_to_img, img_to_array, load_img, save_img
from minired.utils.model_to_dot import model_to_dot
from minired.utils.model_visualization import plot_model
from minired.utils.numerical_utils import normalize, to_categorical
from minired.utils.progbar import Progbar
from minired.utils.py_dataset import PyDataset
from minired.utils.rng_utils import set_random_seed
from minired.utils.sequence_utils import pad_sequences
from minired.utils.text_dataset import text_dataset_from_directory
from minired.utils.timeseries_dataset import timeseries_dataset_from_array

__all__ = ["Config", "FeatureSpace", "bounding_boxes",
           "CustomObjectScope", "Progbar", "PyDataset", "array_to_img", "custom_object_scope",
           "deserialize_keras_object", "get_custom_objects", "get_registered_name",
           "get_file", "get_registered_object", "img_to_array", "load_img", "normalize",
           "pad_sequences", "plot_model", "model_to_dot", "legacy",
           "register_keras_serializable", "save_img",
           "serialize_keras_object", "set_random_seed", "split_dataset", "to_categorical",
           "Sequence", "clear_session", "disable_interactive_logging",
           "enable_interactive_logging", "get_source_inputs", "is_interactive_logging_enabled",
           "is_keras_tensor", "pack_x_y_sample_weight", "standardize_dtype",
           "unpack_x_y_sample_weight", "audio_dataset_from_directory",
           "image_dataset_from_directory",
           "text_dataset_from_directory", "timeseries_dataset_from_array"]

#: Keras' older name for PyDataset: ``keras.utils.Sequence is keras.utils.PyDataset``.
Sequence = PyDataset
