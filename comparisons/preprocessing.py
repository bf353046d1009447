"""Preprocessing: TextVectorization, StringLookup, IntegerLookup, CategoryEncoding,
Discretization, Resizing and CenterCrop beside Keras.

- The text and lookup layers are compared by their outputs on the same sentences (mixed
  case, punctuation, accents) after ``adapt`` on the same data, in every output mode, and
  by their learned vocabularies (each of minired's tokens located in Keras' list: the
  positions must be 0, 1, 2, ...). Indices and counts are integers: equal, or not.
- ``tf_idf``: ``log(1 + D / (1 + d))``, computed in float64 by both and cast to floatx.
- Resizing and CenterCrop: TensorFlow's ``ResizeBilinear`` interpolates in **float32**
  whatever the image dtype, so the ``*_exact`` cases use dyadic scales (½, 2, ¾...) and
  integer pixels, where that arithmetic is exact and float64 holds; other scales are
  float32-accurate only and run in float32. δx is TensorFlow's tape against minired's
  adjoint of the interpolation matrices.
"""

from __future__ import annotations

import numpy as np

from comparisons.keras_env import keras, mr, precision, tf
from comparisons.registry import Outcome, case

SENTENCES = ["The cat sat on the mat.", "The DOG sat; the cat ran!", "A dog? A cat, a mat...",
             "Don't stop: it's the end", "ÉCOLE über café-au-lait", "the  end\tof\nit"]
QUERIES = np.array(["the cat ate a fish!", "Dog-days: the END", "", "über École mat",
                    "a a a cat"], dtype=object)


def vocabulary_positions(ours: list, theirs: list) -> tuple[np.ndarray, np.ndarray]:
    """Where each of minired's tokens is in Keras' vocabulary (-1: absent), and 0…n-1."""
    theirs = [t.item() if hasattr(t, "item") else t for t in theirs]
    found = [theirs.index(t) if t in theirs else -1 for t in ours]
    if len(ours) != len(theirs):
        found.append(-1)
    return np.array(found, dtype=np.float64), np.arange(len(found), dtype=np.float64)


def text_pairs(dtype: str, settings: list[dict]) -> list:
    pairs = []
    with precision(dtype):
        for setting in settings:
            label = ", ".join(f"{k}={v}" for k, v in setting.items()) or "defaults"
            theirs = keras.layers.TextVectorization(**setting)
            theirs.adapt(SENTENCES)
            ours = mr.layers.TextVectorization(**setting)
            ours.adapt(SENTENCES)
            pairs.append((f"{label}: vocabulary",
                          *vocabulary_positions(ours.get_vocabulary(), theirs.get_vocabulary())))
            pairs.append((f"{label}: outputs", ours(QUERIES), np.asarray(theirs(QUERIES))))
    return pairs


@case("preprocessing", "text_vectorization_int")
def text_vectorization_int(dtype):
    """TextVectorization int: vocabularies and padded index rows (standardize, split,
    ngrams, max_tokens, output_sequence_length)."""
    return Outcome(text_pairs(dtype, [
        {}, {"max_tokens": 8}, {"standardize": "lower"}, {"standardize": None},
        {"standardize": "strip_punctuation"}, {"split": "character", "max_tokens": 12},
        {"ngrams": 2}, {"ngrams": (1, 3)}, {"output_sequence_length": 4},
        {"output_sequence_length": 10}]))


@case("preprocessing", "text_vectorization_vectors")
def text_vectorization_vectors(dtype):
    """TextVectorization multi_hot, count and tf_idf (with max_tokens and padding)."""
    return Outcome(text_pairs(dtype, [
        {"output_mode": "multi_hot"}, {"output_mode": "count", "ngrams": 2},
        {"output_mode": "tf_idf"},
        {"output_mode": "tf_idf", "max_tokens": 6, "pad_to_max_tokens": True},
        {"output_mode": "count", "max_tokens": 20, "pad_to_max_tokens": True}]))


@case("preprocessing", "string_lookup")
def string_lookup(dtype):
    """StringLookup: adapted vocabularies and outputs in every output mode, with and
    without a mask token; invert."""
    tokens = np.array([["b", "a", "c", "a"], ["c", "d", "b", "a"], ["e", "", "b", "a"]])
    queries = np.array([["a", "z", "", "e"], ["d", "d", "b", "q"]], dtype=object)
    pairs = []
    with precision(dtype):
        for setting in [{}, {"max_tokens": 4}, {"mask_token": ""},
                        {"mask_token": "", "output_mode": "multi_hot"},
                        {"output_mode": "one_hot"}, {"output_mode": "count"},
                        {"output_mode": "tf_idf"}, {"mask_token": "", "output_mode": "tf_idf"}]:
            label = ", ".join(f"{k}={v!r}" for k, v in setting.items()) or "defaults"
            theirs = keras.layers.StringLookup(**setting)
            theirs.adapt(tokens)
            ours = mr.layers.StringLookup(**setting)
            ours.adapt(tokens)
            x = queries[:, :1] if setting.get("output_mode") == "one_hot" else queries
            pairs.append((f"{label}: vocabulary",
                          *vocabulary_positions(ours.get_vocabulary(), theirs.get_vocabulary())))
            pairs.append((f"{label}: outputs", ours(x), np.asarray(theirs(x))))
        vocabulary = ["", "[UNK]", "x", "y", "z"]
        indices = np.array([[0, 1, 2, 3, 4, 9]])
        ours = mr.layers.StringLookup(vocabulary=vocabulary, invert=True, mask_token="")(indices)
        theirs = keras.layers.StringLookup(vocabulary=vocabulary, invert=True,
                                           mask_token="")(indices)
        theirs = [t.decode() for t in np.asarray(theirs).reshape(-1)]
        # each returned string as its index in the vocabulary
        pairs.append(("invert", np.array([vocabulary.index(t) for t in ours.reshape(-1)]),
                      np.array([vocabulary.index(t) for t in theirs])))
    return Outcome(pairs)


@case("preprocessing", "integer_lookup")
def integer_lookup(dtype):
    """IntegerLookup: adapted vocabularies and outputs (mask, several OOV indices by
    floormod, multi_hot, count, tf_idf), and invert."""
    data = np.array([[12, 1138, 42, 0], [42, 1000, 36, 42], [7, 12, 36, -5]])
    queries = np.array([[12, 5, 0, 42], [-7, 36, 1000, 99]])
    pairs = []
    with precision(dtype):
        for setting in [{}, {"mask_token": 0}, {"num_oov_indices": 3},
                        {"max_tokens": 4, "output_mode": "multi_hot"},
                        {"output_mode": "count", "mask_token": 0}, {"output_mode": "tf_idf"}]:
            label = ", ".join(f"{k}={v!r}" for k, v in setting.items()) or "defaults"
            theirs = keras.layers.IntegerLookup(**setting)
            theirs.adapt(data)
            ours = mr.layers.IntegerLookup(**setting)
            ours.adapt(data)
            pairs.append((f"{label}: vocabulary", np.array(ours.get_vocabulary()),
                          np.array(theirs.get_vocabulary())))
            pairs.append((f"{label}: outputs", ours(queries), np.asarray(theirs(queries))))
        indices = np.array([[0, 1, 2, 3, 4, 8]])
        pairs.append(("invert",
                      mr.layers.IntegerLookup(vocabulary=[7, 3, 9], invert=True,
                                              mask_token=0)(indices),
                      np.asarray(keras.layers.IntegerLookup(vocabulary=[7, 3, 9], invert=True,
                                                            mask_token=0)(indices))))
    return Outcome(pairs)


@case("preprocessing", "category_encoding_discretization")
def category_encoding_discretization(dtype):
    """CategoryEncoding in its three modes; Discretization's adapted boundaries (Keras'
    quantile summaries, one array and two batches) and its four output modes."""
    pairs = []
    x = np.array([[0, 3, 3], [2, 1, 0]])
    data = np.random.default_rng(0).normal(size=(600, 1))
    values = np.array([[-1.5, 0.0, 0.5, 2.0], [3.0, 1.0, 0.999, -0.1]], dtype=dtype)
    with precision(dtype):
        for mode in ("one_hot", "multi_hot", "count"):
            pairs.append((f"CategoryEncoding {mode}",
                          mr.layers.CategoryEncoding(4, output_mode=mode)(x),
                          np.asarray(keras.layers.CategoryEncoding(4, output_mode=mode)(x))))
        for given, label in ((data, "one array"), ([data[:250], data[250:]], "two batches")):
            ours = mr.layers.Discretization(num_bins=5)
            ours.adapt(given)
            theirs = keras.layers.Discretization(num_bins=5)
            theirs.adapt(given)
            pairs.append((f"Discretization boundaries, {label}", np.array(ours.bin_boundaries),
                          np.array(theirs.bin_boundaries)))
        for mode in ("int", "one_hot", "multi_hot", "count"):
            ours = mr.layers.Discretization(bin_boundaries=[0.0, 1.0, 2.0], output_mode=mode)
            theirs = keras.layers.Discretization(bin_boundaries=[0.0, 1.0, 2.0],
                                                 output_mode=mode)
            pairs.append((f"Discretization {mode}", ours(values), np.asarray(theirs(values))))
    return Outcome(pairs)


def image_pairs(dtype: str, make, settings: list[tuple]) -> list:
    """Outputs and δx of minired's layer and of Keras' (TensorFlow's tape), for each
    ``(image size, layer arguments)``."""
    pairs = []
    with precision(dtype):
        for shape, args, kwargs in settings:
            x = np.random.default_rng(4).integers(0, 256, (2, *shape, 3)).astype(dtype)
            tensor = tf.constant(x)
            with tf.GradientTape() as tape:
                tape.watch(tensor)
                out = make(keras)(*args, **kwargs)(tensor)
                # quarters: exact in TensorFlow's float32 gradient kernel
                upstream = np.random.default_rng(5).integers(-8, 9, out.shape) / 4
                upstream = upstream.astype(dtype)
                total = tf.reduce_sum(out * upstream)
            grad = tape.gradient(total, tensor)
            layer = make(mr)(*args, **kwargs)
            label = f"{shape}->{args} {kwargs or ''}".strip()
            pairs += [(f"{label} outputs", layer(x), np.asarray(out)),
                      (f"{label} δx", layer.backward(upstream), np.asarray(grad))]
    return pairs


def resizing(module):
    return module.layers.Resizing


def center_crop(module):
    return module.layers.CenterCrop


@case("preprocessing", "resizing_exact")
def resizing_exact(dtype):
    """Resizing with dyadic scales (bilinear, nearest, crop/pad to the aspect ratio):
    values and δx, exact."""
    return Outcome(image_pairs(dtype, resizing, [
        ((4, 4), (8, 8), {}), ((8, 6), (4, 3), {}), ((4, 6), (8, 3), {}),
        ((4, 8), (8, 2), {"interpolation": "nearest"}),
        ((8, 4), (2, 2), {"crop_to_aspect_ratio": True}),
        ((4, 2), (4, 4), {"pad_to_aspect_ratio": True, "fill_value": 7.0})]))


@case("preprocessing", "resizing", precisions=("float32",))
def resizing_any_scale(dtype):
    """Resizing with scales 3/5, 7/3, 4/9: TensorFlow's float32 interpolation."""
    return Outcome(image_pairs(dtype, resizing, [
        ((5, 7), (3, 4), {}), ((3, 4), (7, 9), {}), ((9, 5), (4, 3), {}),
        ((5, 7), (9, 2), {"interpolation": "nearest"}),
        ((6, 5), (3, 3), {"crop_to_aspect_ratio": True})]))


@case("preprocessing", "center_crop_exact")
def center_crop_exact(dtype):
    """CenterCrop: plain crops, and Keras' smart_resize fallback with dyadic scales."""
    return Outcome(image_pairs(dtype, center_crop, [
        ((6, 6), (4, 2), {}), ((5, 8), (2, 3), {}), ((2, 2), (4, 4), {}),
        ((4, 8), (8, 4), {})]))


@case("preprocessing", "center_crop", precisions=("float32",))
def center_crop_any_scale(dtype):
    """CenterCrop's smart_resize fallback with scales 3/4, 5/3: float32 interpolation."""
    return Outcome(image_pairs(dtype, center_crop, [((3, 3), (4, 4), {}),
                                                    ((3, 6), (5, 4), {})]))


@case("preprocessing", "hashing")
def hashing(dtype):
    """Hashing (TensorFlow's FarmHash fingerprint) of strings of every length class and of
    integers, with a mask and in the vector modes; StringLookup's and IntegerLookup's
    hashed OOV indices (num_oov_indices > 1)."""
    words = np.array([["", "a", "abc", "hello", "sixteen bytes!!!"],
                      ["ü" * 12, "x" * 40, "long " * 30, "cat", "a"]], dtype=object)
    numbers = np.array([[3, -12, 100000007, 0], [42, 7, 3, 9]])
    pairs = []
    with precision(dtype):
        for settings in ({}, {"mask_value": "a"}, {"output_mode": "count"},
                         {"output_mode": "multi_hot", "mask_value": ""}):
            label = ", ".join(f"{k}={v!r}" for k, v in settings.items()) or "defaults"
            pairs.append((f"strings {label}", mr.layers.Hashing(11, **settings)(words),
                          np.asarray(keras.layers.Hashing(11, **settings)(words))))
        pairs.append(("integers", mr.layers.Hashing(5, mask_value=0)(numbers),
                      np.asarray(keras.layers.Hashing(5, mask_value=0)(numbers))))
        vocabulary = ["cat", "a"]
        pairs.append(("StringLookup num_oov_indices=4",
                      mr.layers.StringLookup(vocabulary=vocabulary, num_oov_indices=4)(words),
                      np.asarray(keras.layers.StringLookup(vocabulary=vocabulary,
                                                           num_oov_indices=4)(words))))
        settings = {"vocabulary": [3, 7], "num_oov_indices": 3, "oov_method": "farmhash"}
        pairs.append(("IntegerLookup farmhash", mr.layers.IntegerLookup(**settings)(numbers),
                      np.asarray(keras.layers.IntegerLookup(**settings)(numbers))))
    return Outcome(pairs)


@case("preprocessing", "timeseries_dataset_fit", kind="training")
def timeseries_dataset_fit(dtype):
    """timeseries_dataset_from_array (stride, sampling rate, start/end, a partial last
    batch): its windows and targets batch by batch, then a Flatten → Dense model fitted on
    each library's dataset for 5 epochs (losses per epoch and final weights)."""
    from comparisons.mirror import to_keras

    with precision(dtype):
        steps = np.sin(np.arange(120, dtype=dtype) / 7.0)[:, None] * np.array([1.0, 0.5], dtype)
        settings = {"sequence_length": 6, "sequence_stride": 2, "sampling_rate": 2,
                    "start_index": 3, "end_index": 110, "batch_size": 10}
        ours = mr.utils.timeseries_dataset_from_array(steps, steps[13:, 0], **settings)
        theirs = keras.utils.timeseries_dataset_from_array(steps, steps[13:, 0], **settings)
        pairs = []
        for i, ((x, y), (kx, ky)) in enumerate(zip(ours, theirs, strict=True)):
            pairs += [(f"batch {i} windows", x, kx.numpy()), (f"batch {i} targets", y, ky.numpy())]
        mr.utils.set_random_seed(0)
        model = mr.Sequential([mr.Input((6, 2)), mr.layers.Flatten(), mr.layers.Dense(1)])
        model.compile(optimizer=mr.optimizers.SGD(learning_rate=0.05), loss="mse")
        keras_model = to_keras(model)
        # a tf.data.Dataset is read in order; minired's PyDataset too with shuffle=False
        history = model.fit(ours, epochs=5, shuffle=False, verbose=0).history["loss"]
        keras_history = keras_model.fit(theirs, epochs=5, shuffle=False,
                                        verbose=0).history["loss"]
        pairs.append(("loss per epoch", np.array(history), np.array(keras_history)))
        for i, (w, v) in enumerate(zip(model.get_weights(), keras_model.get_weights(),
                                       strict=True)):
            pairs.append((f"final weight {i}", w, v))
    return Outcome(pairs, curves={"minired": list(history), "keras": list(keras_history)})
