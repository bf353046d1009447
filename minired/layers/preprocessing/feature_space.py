"""FeatureSpace: one object that preprocesses and encodes structured (tabular) data.

Keras' ``keras.utils.FeatureSpace`` (source: ``keras/src/layers/preprocessing/
feature_space.py``) holds one preprocessing layer per named feature, adapts them all on
the data, crosses some of them with :class:`HashedCrossing`, one-hot encodes the
categorical ones and concatenates everything into one vector per sample::

    x = {"age": [...], "sex": [...], "thal": [...]}          (one array per feature)
    p_name = preprocessor_name(x_name)                         (Normalization, StringLookup…)
    c_(a,b) = HashedCrossing(p_a, p_b)                         (crosses of the indices)
    e_name  = CategoryEncoding(multi_hot)(p_name)  if the feature is "one_hot", else p_name
    a = concat(e_name for name in sorted features, then sorted crosses)    ("concat")

It reuses minired's own preprocessing layers; ``adapt`` reads a dict of arrays or any of
minired's datasets (a :class:`~minired.utils.PyDataset` or an iterable of batches, each a
dict of arrays or an ``(x, y)`` pair whose ``x`` is one), where Keras takes a
``tf.data.Dataset``. Calling it returns NumPy arrays.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from minired import config as mr_config
from minired.layers.input_layer import Input
from minired.layers.layer import Layer
from minired.layers.preprocessing.category_encoding import CategoryEncoding
from minired.layers.preprocessing.discretization import Discretization
from minired.layers.preprocessing.hashed_crossing import HashedCrossing
from minired.layers.preprocessing.hashing import Hashing
from minired.layers.preprocessing.index_lookup import IndexLookup
from minired.layers.preprocessing.integer_lookup import IntegerLookup
from minired.layers.preprocessing.normalization import Normalization
from minired.layers.preprocessing.rescaling import Rescaling
from minired.layers.preprocessing.string_lookup import StringLookup
from minired.layers.preprocessing.text_vectorization import TextVectorization
from minired.saving import serialization_lib
from minired.utils.naming import auto_name

#: The module Keras writes for Feature, Cross and its two helper layers.
KERAS_MODULE = "keras.src.layers.preprocessing.feature_space"
#: How many samples Keras' ``adapt`` groups unbatched samples into (``dataset.batch(32)``).
ADAPT_BATCH_SIZE = 32


class Cross:
    """A feature cross: the features named in ``feature_names`` hashed together into
    ``crossing_dim`` bins by :class:`HashedCrossing`.

    Args:
        feature_names: the names of the features to cross (two or more).
        crossing_dim: the number of hash bins.
        output_mode: ``"one_hot"`` (default) or ``"int"``.

    Example:
        >>> Cross(("sex", "age"), crossing_dim=64).name
        'sex_X_age'
    """

    _keras_module = KERAS_MODULE      # how Keras names it in a file

    def __init__(self, feature_names: tuple | list, crossing_dim: int,
                 output_mode: str = "one_hot") -> None:
        if output_mode not in {"int", "one_hot"}:
            raise ValueError("Invalid value for argument `output_mode`. Expected one of "
                             f"{{'int', 'one_hot'}}. Received: output_mode={output_mode}")
        self.feature_names = tuple(feature_names)
        self.crossing_dim = crossing_dim
        self.output_mode = output_mode

    @property
    def name(self) -> str:
        return "_X_".join(self.feature_names)

    def get_config(self) -> dict:
        """Keras' keys: ``feature_names``, ``crossing_dim``, ``output_mode``."""
        return {"feature_names": self.feature_names, "crossing_dim": self.crossing_dim,
                "output_mode": self.output_mode}

    @classmethod
    def from_config(cls, config: dict) -> Cross:
        return cls(**config)


class Feature:
    """One feature: the dtype of its input, its preprocessing layer and how its output
    is encoded.

    Args:
        dtype: the input's dtype (``"float32"``, ``"int32"``, ``"string"``...).
        preprocessor: a preprocessing layer (or its serialized config).
        output_mode: ``"float"`` (used as it is), ``"int"`` (indices, in ``"dict"`` output
            mode) or ``"one_hot"`` (indices encoded as vectors).

    Example:
        >>> Feature("float32", mr.layers.Rescaling(0.5), "float").output_mode
        'float'
    """

    _keras_module = KERAS_MODULE      # how Keras names it in a file

    def __init__(self, dtype: str, preprocessor, output_mode: str) -> None:
        if output_mode not in {"int", "one_hot", "float"}:
            raise ValueError("Invalid value for argument `output_mode`. Expected one of "
                             f"{{'int', 'one_hot', 'float'}}. Received: "
                             f"output_mode={output_mode}")
        self.dtype = dtype
        if isinstance(preprocessor, dict):
            preprocessor = _deserialize(preprocessor)
        self.preprocessor = preprocessor
        self.output_mode = output_mode

    def get_config(self) -> dict:
        """Keras' keys: ``dtype``, ``preprocessor`` (serialized), ``output_mode``."""
        return {"dtype": self.dtype, "preprocessor": _serialize(self.preprocessor),
                "output_mode": self.output_mode}

    @classmethod
    def from_config(cls, config: dict) -> Feature:
        return cls(**config)


class TFDIdentity(Layer):
    """The preprocessor of a plain ``"float"`` feature: ``a = x`` rounded to ``dtype``
    (Keras makes it with ``dtype="float32"``, whatever floatx is), ``δx = δa``. Keras' name
    for it, so that the files are the same.

    Example:
        >>> TFDIdentity(dtype="float32")(np.array([[0.1]])).dtype
        dtype('float32')
    """

    _keras_build_config = True        # Keras writes the input shape
    _keras_module = KERAS_MODULE

    def __init__(self, dtype=None, **kwargs) -> None:
        super().__init__(**kwargs)
        if isinstance(dtype, dict):                   # a serialized DTypePolicy
            dtype = (dtype.get("config") or {}).get("name")
        self.dtype_name = str(np.dtype(dtype or mr_config.floatx()))
        if np.dtype(self.dtype_name).kind != "f":
            raise ValueError(f"TFDIdentity: `dtype` must be a float dtype, got {dtype!r}.")

    def forward(self, inputs, training: bool = False) -> np.ndarray:
        x = np.asarray(inputs)
        return x.astype(self.dtype_name) if x.dtype.kind == "f" else x

    def backward(self, grad_outputs: np.ndarray) -> np.ndarray:
        return grad_outputs

    @classmethod
    def from_config(cls, config: dict) -> TFDIdentity:
        """Keep the config's own ``dtype`` (float32 in Keras' files, whatever floatx is)."""
        config = dict(config)
        trainable = config.pop("trainable", True)
        layer = cls(**config)
        layer.trainable = trainable
        return layer

    def get_config(self) -> dict:
        """Keras' keys: ``name``, ``dtype`` (its own, a DTypePolicy), ``trainable``."""
        return {"name": self.name,
                "dtype": serialization_lib.dtype_policy(self.dtype_name),
                "trainable": self.trainable}


class TFDConcat(Layer):
    """Concatenate the encoded features along ``axis``: ``a = [e_1, e_2, …]``; the
    backward pass splits ``δa`` back into one piece per feature."""

    _takes_several_inputs = True
    _keras_module = KERAS_MODULE

    def __init__(self, axis: int = -1, **kwargs) -> None:
        super().__init__(**kwargs)
        self.axis = axis

    def compute_output_shape(self, input_shape) -> tuple:
        shapes = [tuple(s) for s in input_shape]
        sizes = [s[self.axis] for s in shapes]
        total = None if any(size is None for size in sizes) else sum(sizes)
        shape = list(shapes[0])
        shape[self.axis] = total
        return tuple(shape)

    def forward(self, inputs, training: bool = False) -> np.ndarray:
        arrays = [np.asarray(x) for x in inputs]
        self.cache = np.cumsum([a.shape[self.axis] for a in arrays])[:-1]
        return np.concatenate(arrays, axis=self.axis)

    def backward(self, grad_outputs: np.ndarray) -> list[np.ndarray]:
        return np.split(grad_outputs, self.cache, axis=self.axis)

    def get_config(self) -> dict:
        return {**super().get_config(), "axis": self.axis}


# Keras writes these four under its own module name; a file names them so (see
# serialization_lib.KERAS_INTERNAL_CLASSES), and minired reads them back from there.
for _helper in (Cross, Feature, TFDIdentity, TFDConcat):
    serialization_lib.KERAS_INTERNAL_CLASSES[(KERAS_MODULE, _helper.__name__)] = _helper
_serialize = serialization_lib.serialize_keras_object
_deserialize = serialization_lib.deserialize_keras_object


def _output_dtype(layer) -> str:
    """The dtype of a preprocessor's output in Keras (what decides whether a feature can
    be one-hot encoded or concatenated): integer indices for the lookups, Discretization,
    Hashing, HashedCrossing and TextVectorization in ``"int"`` mode, floatx otherwise."""
    mode = getattr(layer, "output_mode", None)
    if isinstance(layer, IndexLookup) and layer.invert:
        return "string" if isinstance(layer, StringLookup) else "int64"
    if isinstance(layer, IndexLookup) and mode != "tf_idf":
        return "int64"
    if isinstance(layer, Discretization) and mode == "int":
        return "int32"
    if isinstance(layer, Hashing | HashedCrossing | TextVectorization) and mode == "int":
        return "int64"
    return mr_config.floatx()


def _cardinality(layer) -> tuple[bool, int | None]:
    """``(known, n)``: whether a preprocessor is one whose number of categories Keras
    reads (a lookup, CategoryEncoding, Discretization, Hashing, HashedCrossing), and
    that number (None for a Discretization given its boundaries)."""
    if isinstance(layer, IntegerLookup | StringLookup):
        return True, layer.vocabulary_size()
    if isinstance(layer, CategoryEncoding):
        return True, layer.num_tokens
    if isinstance(layer, Discretization | HashedCrossing | Hashing):
        return True, layer.num_bins
    return False, None


class FeatureSpace(Layer):
    """Preprocess and encode structured data, as ``keras.utils.FeatureSpace``.

    Forward, for a dict ``x`` of one array per feature (each ``(N,)`` or ``(N, 1)``; a
    dict of scalars is one sample)::

        p_f = preprocessor_f(x_f)                     (one layer per feature)
        c_k = HashedCrossing(p_a, p_b, …)             (one per cross k)
        e   = CategoryEncoding(multi_hot)(p)          (features and crosses in "one_hot")
        a   = [e_f for f in sorted features] + [e_k for k in sorted crosses]
              concatenated on the last axis ("concat"), or a dict ("dict")

    There is no backward pass of the space itself: it prepares a model's inputs. A model
    built on :meth:`get_inputs` runs the same layers, each with its own backward pass
    (none for the categorical ones, whose inputs are categories).

    The feature types (a string in ``features`` uses the defaults):

    - ``"float"``: the value as it is;
    - ``"float_rescaled"``: ``Rescaling(scale, offset)``;
    - ``"float_normalized"``: ``Normalization`` (mean and variance from ``adapt``);
    - ``"float_discretized"``: ``Discretization(num_bins)``, one-hot by default;
    - ``"integer_categorical"``, ``"string_categorical"``: ``IntegerLookup`` or
      ``StringLookup`` (vocabulary from ``adapt``), one-hot by default;
    - ``"integer_hashed"``, ``"string_hashed"``: ``Hashing(num_bins)``, one-hot by default.

    Args:
        features: ``{name: type}``, each type a string above or a :class:`Feature` from
            the constructors (``FeatureSpace.float_normalized()``...).
        output_mode: ``"concat"`` (one vector per sample) or ``"dict"``.
        crosses: the features to cross: tuples of names, or ``FeatureSpace.cross(...)``.
        crossing_dim: the default number of bins of a cross (32).
        hashing_dim: the default bins of ``"integer_hashed"``/``"string_hashed"`` (32).
        num_discretization_bins: the default bins of ``"float_discretized"`` (32).
        name: layer name.

    Example:
        >>> data = {"price": np.array([1.0, 2.0, 3.0, 6.0]),
        ...         "color": np.array(["red", "blue", "red", "red"])}
        >>> space = FeatureSpace({"price": "float_normalized",
        ...                       "color": "string_categorical"})
        >>> space.adapt(data)
        >>> space(data)                     # [UNK], red, blue; then the normalized price
        array([[ 0.       ,  1.       ,  0.       , -1.069045 ],
               [ 0.       ,  0.       ,  1.       , -0.5345225],
               [ 0.       ,  1.       ,  0.       ,  0.       ],
               [ 0.       ,  1.       ,  0.       ,  1.6035674]], dtype=float32)
    """

    # -- the feature constructors (Keras' classmethods) ----------------------------------------
    @classmethod
    def cross(cls, feature_names: tuple | list, crossing_dim: int,
              output_mode: str = "one_hot") -> Cross:
        """A cross of ``feature_names`` hashed into ``crossing_dim`` bins."""
        return Cross(feature_names, crossing_dim, output_mode=output_mode)

    @classmethod
    def feature(cls, dtype: str, preprocessor, output_mode: str) -> Feature:
        """A feature with a preprocessing layer of your choice."""
        return Feature(dtype, preprocessor, output_mode)

    @classmethod
    def float(cls, name: str | None = None) -> Feature:
        """Float values used as they are."""
        name = name or auto_name("float")
        preprocessor = TFDIdentity(dtype="float32", name=f"{name}_preprocessor")
        return Feature(dtype="float32", preprocessor=preprocessor, output_mode="float")

    @classmethod
    def float_rescaled(cls, scale=1.0, offset=0.0, name: str | None = None) -> Feature:
        """Float values rescaled: ``x · scale + offset``."""
        name = name or auto_name("float_rescaled")
        preprocessor = Rescaling(scale=scale, offset=offset, name=f"{name}_preprocessor")
        return Feature(dtype="float32", preprocessor=preprocessor, output_mode="float")

    @classmethod
    def float_normalized(cls, name: str | None = None) -> Feature:
        """Float values standardized: ``(x - mean) / std`` from ``adapt``."""
        name = name or auto_name("float_normalized")
        preprocessor = Normalization(axis=-1, name=f"{name}_preprocessor")
        return Feature(dtype="float32", preprocessor=preprocessor, output_mode="float")

    @classmethod
    def float_discretized(cls, num_bins: int, bin_boundaries=None, output_mode: str = "one_hot",
                          name: str | None = None) -> Feature:
        """Float values bucketed into ``num_bins`` bins (quantiles from ``adapt``)."""
        name = name or auto_name("float_discretized")
        preprocessor = Discretization(num_bins=num_bins, bin_boundaries=bin_boundaries,
                                      name=f"{name}_preprocessor")
        return Feature(dtype="float32", preprocessor=preprocessor, output_mode=output_mode)

    @classmethod
    def integer_categorical(cls, max_tokens: int | None = None, num_oov_indices: int = 1,
                            output_mode: str = "one_hot", name: str | None = None) -> Feature:
        """Integer categories indexed by a vocabulary learned by ``adapt``."""
        name = name or auto_name("integer_categorical")
        preprocessor = IntegerLookup(name=f"{name}_preprocessor", max_tokens=max_tokens,
                                     num_oov_indices=num_oov_indices)
        return Feature(dtype="int32", preprocessor=preprocessor, output_mode=output_mode)

    @classmethod
    def string_categorical(cls, max_tokens: int | None = None, num_oov_indices: int = 1,
                           output_mode: str = "one_hot", name: str | None = None) -> Feature:
        """String categories indexed by a vocabulary learned by ``adapt``."""
        name = name or auto_name("string_categorical")
        preprocessor = StringLookup(name=f"{name}_preprocessor", max_tokens=max_tokens,
                                    num_oov_indices=num_oov_indices)
        return Feature(dtype="string", preprocessor=preprocessor, output_mode=output_mode)

    @classmethod
    def string_hashed(cls, num_bins: int, output_mode: str = "one_hot",
                      name: str | None = None) -> Feature:
        """Strings hashed into ``num_bins`` bins."""
        name = name or auto_name("string_hashed")
        preprocessor = Hashing(name=f"{name}_preprocessor", num_bins=num_bins)
        return Feature(dtype="string", preprocessor=preprocessor, output_mode=output_mode)

    @classmethod
    def integer_hashed(cls, num_bins: int, output_mode: str = "one_hot",
                       name: str | None = None) -> Feature:
        """Integers hashed into ``num_bins`` bins."""
        name = name or auto_name("integer_hashed")
        preprocessor = Hashing(name=f"{name}_preprocessor", num_bins=num_bins)
        return Feature(dtype="int32", preprocessor=preprocessor, output_mode=output_mode)

    # -- construction --------------------------------------------------------------------------
    def __init__(self, features: dict, output_mode: str = "concat", crosses: list | None = None,
                 crossing_dim: int = 32, hashing_dim: int = 32,
                 num_discretization_bins: int = 32, name: str | None = None) -> None:
        super().__init__(name=name)
        if not features:
            raise ValueError("The `features` argument cannot be None or empty.")
        if not isinstance(features, dict):
            raise TypeError("FeatureSpace: `features` must be a dict {name: feature type}. "
                            f"Received: {type(features).__name__}")
        self.crossing_dim = crossing_dim
        self.hashing_dim = hashing_dim
        self.num_discretization_bins = num_discretization_bins
        self.features = {name: self._standardize_feature(name, value)
                         for name, value in features.items()}
        self.crosses = []
        for cross in crosses or []:
            if isinstance(cross, dict):
                cross = _deserialize(cross)
            if isinstance(cross, Cross):
                self.crosses.append(cross)
                continue
            if not crossing_dim:
                raise ValueError("When specifying `crosses`, the argument `crossing_dim` "
                                 "(dimensionality of the crossing space) should be "
                                 "specified as well.")
            if any(key not in features for key in cross):
                raise ValueError("All features referenced in the `crosses` argument should "
                                 "be present in the `features` dict. Received unknown "
                                 f"features: {cross}")
            self.crosses.append(Cross(cross, crossing_dim=crossing_dim))
        self.crosses_by_name = {cross.name: cross for cross in self.crosses}
        if output_mode not in {"dict", "concat"}:
            raise ValueError("Invalid value for argument `output_mode`. Expected one of "
                             f"{{'dict', 'concat'}}. Received: output_mode={output_mode}")
        self.output_mode = output_mode
        self.inputs = {name: Input(shape=(1,), dtype=feature.dtype, name=name)
                       for name, feature in self.features.items()}
        self.preprocessors = {name: feature.preprocessor
                              for name, feature in self.features.items()}
        self.encoded_features = None
        self.crossers = {cross.name: HashedCrossing(cross.crossing_dim, name=cross.name)
                         for cross in self.crosses}
        self.one_hot_encoders: dict[str, CategoryEncoding] = {}
        self._is_adapted = False
        self.concat = None
        self._preprocessed_features_names: list[str] | None = None
        self._crossed_features_names: list[str] | None = None
        self._sublayers_built = False

    def _standardize_feature(self, name: str, feature) -> Feature:
        if isinstance(feature, Feature):
            return feature
        if isinstance(feature, dict):
            return _deserialize(feature)
        makers = {
            "float": lambda: self.float(name=name),
            "float_normalized": lambda: self.float_normalized(name=name),
            "float_rescaled": lambda: self.float_rescaled(name=name),
            "float_discretized": lambda: self.float_discretized(
                name=name, num_bins=self.num_discretization_bins),
            "integer_categorical": lambda: self.integer_categorical(name=name),
            "string_categorical": lambda: self.string_categorical(name=name),
            "integer_hashed": lambda: self.integer_hashed(self.hashing_dim, name=name),
            "string_hashed": lambda: self.string_hashed(self.hashing_dim, name=name),
        }
        if not isinstance(feature, str) or feature not in makers:
            raise ValueError(f"Invalid feature type: {feature}")
        return makers[feature]()

    # -- adapt ---------------------------------------------------------------------------------
    def _list_adaptable_preprocessors(self) -> list[str]:
        """The features whose layer learns from data (Keras' list: not a Normalization
        given its mean, not a TextVectorization given its vocabulary)."""
        names = []
        for name in self.features:
            preprocessor = self.preprocessors[name]
            if isinstance(preprocessor, Normalization) and preprocessor.input_mean is not None:
                continue
            if isinstance(preprocessor, TextVectorization) and (
                    preprocessor._lookup_layer._has_input_vocabulary):
                continue
            if hasattr(preprocessor, "adapt"):
                names.append(name)
        return names

    def adapt(self, dataset: Any) -> None:
        """Adapt every feature's layer (vocabularies, means and variances, bin
        boundaries) on ``dataset``, then build the encoders.

        Args:
            dataset: a dict ``{name: array}`` (one value per sample), or a
                :class:`~minired.utils.PyDataset` or another iterable of batches, each a
                dict of arrays or an ``(x, y)`` / ``(x, y, sample_weight)`` tuple whose
                ``x`` is one (its labels are ignored; Keras wants ``x`` alone).

        The layers see the batches Keras' layers see: a dict's samples in batches of 32;
        a dataset's batches as they are (with a last axis of 1 added to ``(N,)`` arrays),
        its single samples (0-d values) regrouped by 32.
        """
        names = self._list_adaptable_preprocessors()
        batches = _feature_batches(dataset, names)
        for name in names:
            preprocessor = self.preprocessors[name]
            if not batches[name]:
                raise ValueError(f"FeatureSpace.adapt: the dataset holds no values for the "
                                 f"feature {name!r}.")
            if not preprocessor.built and type(preprocessor).build is not Layer.build:
                preprocessor.build((None, *batches[name][0].shape[1:]))   # as Keras' spec
            preprocessor.adapt(iter(batches[name]))
        self._is_adapted = True
        self.get_encoded_features()          # finish building the layer
        self.built = True
        self._sublayers_built = True

    # -- the symbolic graph (a Functional model's inputs and encoded features) ----------------
    def get_inputs(self) -> dict:
        """``{name: mr.Input((1,), dtype, name)}``, the model inputs for the raw features."""
        self._check_if_built()
        return self.inputs

    def get_encoded_features(self):
        """The encoded features as symbolic tensors of :meth:`get_inputs` (one tensor in
        ``"concat"`` mode, a dict in ``"dict"`` mode), to build a model on."""
        self._check_if_adapted()
        if self.encoded_features is None:
            preprocessed = self._preprocess_features(self.inputs)
            crossed = self._cross_features(preprocessed)
            self._build_encoders()
            self.encoded_features = self._merge_features(preprocessed, crossed)
        return self.encoded_features

    def _preprocess_features(self, features: dict) -> dict:
        return {name: self.preprocessors[name](features[name]) for name in features}

    def _cross_features(self, features: dict) -> dict:
        return {cross.name: self.crossers[cross.name]([features[name]
                                                       for name in cross.feature_names])
                for cross in self.crosses}

    def _build_encoders(self) -> None:
        """Keras' first ``_merge_features``: check every feature's dtype against its
        ``output_mode``, create a ``CategoryEncoding(multi_hot)`` for each one-hot feature
        and the concatenation; done once."""
        if self._preprocessed_features_names is not None:
            return
        preprocessed = sorted(self.features)
        crossed = sorted(self.crosses_by_name)
        for name in preprocessed + crossed:
            spec = self.features.get(name) or self.crosses_by_name[name]
            layer = self.preprocessors.get(name) or self.crossers.get(name)
            dtype = _output_dtype(layer)
            if spec.output_mode == "one_hot":
                if not dtype.startswith("int"):
                    raise ValueError(f"Feature '{name}' has `output_mode='one_hot'`. Thus its "
                                     "preprocessor should return an integer dtype. Instead it "
                                     f"returns a {dtype} dtype.")
                known, cardinality = _cardinality(layer)
                if not known:
                    raise ValueError(
                        f"Feature '{name}' has `output_mode='one_hot'`. However it isn't a "
                        "standard feature and the dimensionality of its output space is not "
                        "known, thus it cannot be one-hot encoded. Try using "
                        "`output_mode='int'`.")
                if cardinality is not None:
                    self.one_hot_encoders[name] = CategoryEncoding(num_tokens=cardinality,
                                                                   output_mode="multi_hot")
                    dtype = mr_config.floatx()
            if self.output_mode == "concat" and (dtype.startswith("int") or dtype == "string"):
                raise ValueError(f"Cannot concatenate features because feature '{name}' has "
                                 f"not been encoded (it has dtype {dtype}). Consider using "
                                 "`output_mode='dict'`.")
        self._preprocessed_features_names = preprocessed
        self._crossed_features_names = crossed
        if self.output_mode == "concat":
            self.concat = TFDConcat(axis=-1)

    def _merge_features(self, preprocessed: dict, crossed: dict):
        names = self._preprocessed_features_names + self._crossed_features_names
        merged = {}
        for name in names:
            feature = preprocessed[name] if name in preprocessed else crossed[name]
            encoder = self.one_hot_encoders.get(name)
            merged[name] = encoder(feature) if encoder is not None else feature
        if self.output_mode == "dict":
            return merged
        return self.concat([merged[name] for name in names])

    def _check_if_adapted(self) -> None:
        if not self._is_adapted:
            if self._list_adaptable_preprocessors():
                raise ValueError("You need to call `.adapt(dataset)` on the FeatureSpace "
                                 "before you can start using it.")
            self._is_adapted = True

    def _check_if_built(self) -> None:
        if not self._sublayers_built:
            self._check_if_adapted()
            self.get_encoded_features()
            self._sublayers_built = True

    # -- calling it on data --------------------------------------------------------------------
    def __call__(self, data: dict, *args, **kwargs):
        """Encode ``data``, a dict of one array (or list) per feature, or of one scalar per
        feature for a single sample (then the output has no batch axis)."""
        self._check_if_built()
        if args or kwargs:
            raise TypeError("A FeatureSpace is called on one dict of features only.")
        if not isinstance(data, dict):
            raise ValueError("A FeatureSpace can only be called with a dict. Received: "
                             f"data={data} (of type {type(data)}")
        unknown = [key for key in data if key not in self.features]
        missing = [key for key in self.features if key not in data]
        if unknown or missing:
            raise ValueError(f"FeatureSpace {self.name!r}: the dict must have the keys "
                             f"{sorted(self.features)}; unknown {unknown}, missing {missing}.")
        arrays, rebatched = {}, False
        for name, value in data.items():
            value = _convert_input(value)
            if value.ndim == 0:
                value, rebatched = value.reshape(1, 1), True
            elif value.ndim == 1:
                value = value[:, None]
            arrays[name] = value
        preprocessed = {name: np.asarray(x)
                        for name, x in self._preprocess_features(arrays).items()}
        crossed = self._cross_features(preprocessed)
        merged = self._merge_features(preprocessed, crossed)
        if rebatched:
            if self.output_mode == "concat":
                if merged.shape[0] != 1:
                    raise ValueError("Expected rebatched data to have batch size 1. "
                                     f"Received: shape={merged.shape}")
                return merged[0]
            return {name: x[0] if x.ndim == 2 and x.shape[0] == 1 else x
                    for name, x in merged.items()}
        return merged

    # -- config and saving ---------------------------------------------------------------------
    def get_config(self) -> dict:
        """Keras' keys: ``features`` and ``crosses`` (serialized), ``output_mode``,
        ``crossing_dim``, ``hashing_dim``, ``num_discretization_bins``."""
        return {"features": {name: _serialize(feature)
                             for name, feature in self.features.items()},
                "output_mode": self.output_mode,
                "crosses": [_serialize(cross) for cross in self.crosses],
                "crossing_dim": self.crossing_dim, "hashing_dim": self.hashing_dim,
                "num_discretization_bins": self.num_discretization_bins}

    @classmethod
    def from_config(cls, config: dict) -> FeatureSpace:
        return cls(**config)

    def get_build_config(self) -> dict:
        """``{name: build config of its preprocessor}`` (``{}`` for one that has none)."""
        return {name: feature.preprocessor.get_build_config() or {}
                for name, feature in self.features.items()}

    def build_from_config(self, config: dict) -> None:
        """Build each preprocessor from its build config; the space counts as adapted
        (its layers' state comes with the file)."""
        for name, build_config in config.items():
            preprocessor = self.features[name].preprocessor
            if not preprocessor.built and build_config:
                preprocessor.build_from_config(build_config)
        self._is_adapted = True
        self.built = True

    def save(self, filepath) -> None:
        """Save to a ``.keras`` file (config, the layers' weights and vocabularies), which
        ``mr.models.load_model`` and ``keras.models.load_model`` read back."""
        from minired.saving import saving_lib

        saving_lib.save_model(self, filepath)

    def save_own_variables(self, store: dict) -> None:
        """Nothing of its own: its layers save their state (Keras' hook)."""

    def load_own_variables(self, store: dict) -> None:
        """Nothing of its own (Keras' hook)."""

    def _keras_saving_entries(self):
        """``(path, name, weights, layer)`` for the ``.keras`` weights file, Keras' walk of
        a FeatureSpace: the space itself (no weights), then its layers by attribute,
        ``concat``, ``crossers/hashed_crossing``…, ``one_hot_encoders/category_encoding``…,
        ``preprocessors/normalization``… (each container by class name, in order)."""
        from minired.saving import saving_lib

        visited = {id(self)}
        yield "", self.name, [], None
        for attribute in ("concat", "crossers", "one_hot_encoders", "preprocessors"):
            value = getattr(self, attribute)
            if value is None:                     # no concat in "dict" mode (or not built)
                continue
            if isinstance(value, Layer):
                children = [(attribute, value)]
            else:
                children = saving_lib._container_children(value, attribute)
            for path, child in children:
                if id(child) not in visited:
                    visited.add(id(child))
                    yield from saving_lib._layer_entries(child, path, visited)


def _convert_input(value) -> np.ndarray:
    """A feature's value as an array, Python values as TensorFlow converts them in Keras'
    ``FeatureSpace.__call__``: a float (or a list of them) becomes float32 and an int
    int32 (int64 if it does not fit), whatever floatx is; arrays keep their dtype."""
    if isinstance(value, np.generic) or not isinstance(value, list | tuple | int | float):
        return np.asarray(value)                        # NumPy values keep their dtype
    array = np.asarray(value)
    if array.dtype == np.float64:
        return array.astype(np.float32)
    if array.dtype == np.int64 and (array.size == 0 or (
            array.min() >= np.iinfo(np.int32).min and array.max() <= np.iinfo(np.int32).max)):
        return array.astype(np.int32)
    return array


def _feature_batches(dataset, names: list[str]) -> dict[str, list[np.ndarray]]:
    """The batches each feature's layer adapts on, as Keras' ``adapt`` makes them:
    ``(batch, 1)`` arrays for batches of scalars."""
    if isinstance(dataset, dict):
        for name in names:
            _check_has(dataset, name)
        return {name: _split_dict_column(_convert_input(dataset[name])) for name in names}
    values: dict[str, list[np.ndarray]] = {name: [] for name in names}
    for element in _elements(dataset):
        if isinstance(element, tuple | list) and element and isinstance(element[0], dict):
            element = element[0]                         # (x, y) or (x, y, sample_weight)
        if not isinstance(element, dict):
            raise ValueError("FeatureSpace.adapt: each batch of the dataset must be a dict "
                             "of arrays (or an (x, y) pair whose x is one). Received a "
                             f"{type(element).__name__}.")
        for name in names:
            _check_has(element, name)
            values[name].append(_convert_input(element[name]))
    return {name: _regroup(values[name]) for name in names}


def _check_has(mapping: dict, name: str) -> None:
    if name not in mapping:
        raise ValueError(f"FeatureSpace.adapt: the data has no feature {name!r} (its keys "
                         f"are {sorted(mapping)}).")


def _elements(dataset):
    """The items of a PyDataset (batch ``0 .. len - 1``, as ``fit`` reads it) or of another
    iterable of batches (a generator, a list of dicts)."""
    from minired.utils.py_dataset import PyDataset

    if isinstance(dataset, PyDataset):
        return (dataset[i] for i in range(len(dataset)))
    if isinstance(dataset, Iterable) and not isinstance(dataset, str | bytes | np.ndarray):
        return iter(dataset)
    raise ValueError("`adapt()` can only be called on a dict of arrays/lists or on a dataset "
                     "(a PyDataset or an iterable of batches, each a dict of arrays). "
                     f"Received instead: {dataset} (of type {type(dataset)})")


def _split_dict_column(column: np.ndarray) -> list[np.ndarray]:
    """A dict's column as ``tf.data.Dataset.from_tensor_slices`` gives it to Keras'
    ``adapt``: samples of rank 0 batched by 32, then a last axis of 1 added to rank-1
    elements (a column of shape ``(N, 1)`` is N batches of one sample)."""
    if column.ndim == 0:
        raise ValueError("FeatureSpace.adapt: a dict's values must have one entry per "
                         f"sample; got a scalar {column!r}.")
    if column.ndim == 1:
        return [column[i:i + ADAPT_BATCH_SIZE, None]
                for i in range(0, len(column), ADAPT_BATCH_SIZE)]
    return [sample[..., None] if sample.ndim == 1 else sample for sample in column]


def _regroup(batches: list[np.ndarray]) -> list[np.ndarray]:
    """A dataset's values for one feature, as Keras' ``adapt`` reshapes them (judged by
    the first, as Keras): single samples (rank 0) batched by 32, rank 1 given a last
    axis of 1."""
    if not batches:
        return batches
    rank = batches[0].ndim
    if rank == 0:
        samples = np.stack(batches)
        batches = [samples[i:i + ADAPT_BATCH_SIZE]
                   for i in range(0, len(samples), ADAPT_BATCH_SIZE)]
        rank = 1
    if rank == 1:
        return [b[..., None] for b in batches]
    return batches
