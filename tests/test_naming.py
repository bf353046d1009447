"""Automatic names, as Keras gives them: one snake_case rule, one counter per name."""

from __future__ import annotations

import collections
import os

import pytest

from minired.utils import naming

NAMES = ["SGD", "RMSprop", "AdamW", "Adam", "Nadam", "Dense", "ReLU", "Conv2D", "PReLU",
         "BatchNormalization", "InputLayer", "Sequential", "L1L2", "HTTPServer", "My Layer!",
         "getHTTPResponse", "Layer_1", "ABC", "A"]


def test_to_snake_case_is_keras_rule():
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    pytest.importorskip("keras")
    from keras.src.utils.naming import to_snake_case

    assert [naming.to_snake_case(n) for n in NAMES] == [to_snake_case(n) for n in NAMES]


def test_auto_name_counts_each_name_from_its_second_use(monkeypatch):
    monkeypatch.setattr(naming, "_NAME_COUNTS", collections.defaultdict(int))
    assert [naming.auto_name(n) for n in ("Dense", "SGD", "Dense", "Dense", "SGD")] == [
        "dense", "sgd", "dense_1", "dense_2", "sgd_1"]
